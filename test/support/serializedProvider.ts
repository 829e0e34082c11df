// A dynamic provider as the engine runs it: its code serialized by Pulumi's closure serializer
// (what `pulumi up` stores in `__provider`), then loaded back, with the repository's modules at hand
// for what it requires. A provider whose serialized code loses something (an Error's message, a
// module it needs) shows it here, not only under the real CLI.
import * as pulumi from "@pulumi/pulumi";
import { createRequire } from "module";
import * as path from "path";

const root = path.resolve(__dirname, "../..");

export async function serializedProvider(provider: pulumi.dynamic.ResourceProvider): Promise<pulumi.dynamic.ResourceProvider> {
    const sf = await pulumi.runtime.serializeFunction(() => provider, { allowSecrets: true });
    const loaded: { handler?: () => pulumi.dynamic.ResourceProvider } = {};
    // The serialized text is a CommonJS module body: it sets exports.handler and requires by name.
    new Function("exports", "require", sf.text)(loaded, createRequire(path.join(root, "package.json")));
    if (!loaded.handler) throw new Error("the serialized provider sets no exports.handler");
    return loaded.handler();
}
