// The plugins built by hand serve the resources the stack uses exactly as the npm SDKs declare
// them: where a plugin could not be built from its SDK's own release (docs/testing.md, "The real
// provider plugins"), this is what makes its previews stand for the SDK's. For every resource type
// the recordings hold, the plugin's schema (GetSchema) and the SDK's declarations have the same
// inputs, outputs and state, the same required inputs, and the same nested types, recursively.
import * as path from "path";
import { beforeAll, describe, expect, it } from "vitest";
import { PROVIDER_RULES } from "../../bin/plan/providerRules";
import { REPO } from "../support/engine";
import { findPlugins, FoundPlugin, pluginSchema, PROVIDER_PLUGINS } from "../support/plugins";
import { readRecordings } from "../support/recording";
import { PackageSchema, schemaDifferences } from "../support/sdkSchema";

let plugins: FoundPlugin[];
beforeAll(async () => {
    plugins = await findPlugins();
});

/**
 * Every custom resource type of the recordings and of the library's provider rules (the library
 * also declares what no bundled stack does, a Public Cloud attach), by package; providers and
 * dynamic resources aside.
 */
function typesByPackage(): Map<string, string[]> {
    const types = new Map<string, Set<string>>();
    const recorded = readRecordings().flatMap((r) => (r.preview.steps ?? []).map((s) => s.newState ?? s.oldState)).filter((s) => s?.custom).map((s) => s!.type);
    for (const type of [...recorded, ...Object.keys(PROVIDER_RULES)]) {
        if (type.startsWith("pulumi:providers:") || type.startsWith("pulumi-nodejs:")) continue;
        const pkg = type.split(":")[0];
        types.set(pkg, (types.get(pkg) ?? new Set()).add(type));
    }
    return new Map([...types].map(([k, v]) => [k, [...v].sort()]));
}

describe.each(PROVIDER_PLUGINS.map((p) => [p.name, p] as const))("the %s plugin's schema", (name, p) => {
    it("declares every resource the stack uses as the npm SDK does", async () => {
        const used = typesByPackage().get(name) ?? [];
        expect(used.length, `the recordings use no ${name} resource`).toBeGreaterThan(0);
        const plugin = plugins.find((f) => f.name === name)!;
        const schema = (await pluginSchema(plugin.binary)) as PackageSchema & { version?: string };
        expect(schema.version).toBe(plugin.sdkVersion);
        const sdkDir = path.join(REPO, "node_modules", p.npm);
        for (const token of used) {
            console.log(`${token}: compared with ${p.npm} ${plugin.sdkVersion}`);
            expect(schemaDifferences(schema, sdkDir, token), token).toEqual([]);
        }
    });
});
