// Pulumi's mock runtime, to hold a plugin component (plugin/) against the library's for the same
// args: every resource a declaration registers, by URN, with its inputs as the engine gets them,
// and the resource options that are not inputs (protect, retainOnDelete, import).
import * as pulumi from "@pulumi/pulumi";

interface Registered { urn: string; state: Record<string, unknown> }
interface MockMonitor { getRegisteredResources(): Map<string, Registered> }

// Internal to @pulumi/pulumi (runtime/settings.js), as pulumi.runtime.disconnect uses it: resolves
// once every registration the program started has been answered.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { waitForRPCs } = require("@pulumi/pulumi/runtime/settings") as { waitForRPCs(): Promise<void> };

/** What @pulumi/pulumi's rpc serialization puts in place of a secret (runtime/rpc.js specialSigKey). */
export const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

export const outputOf = <T>(o: pulumi.Output<T>): Promise<T> => new Promise((resolve) => o.apply(resolve));

/**
 * Runs `declare` in a fresh mock runtime; the URN and state of every resource it registered: the
 * inputs (newResource gives them back as state, with what `outputs` adds), serialized as the engine would get them
 * (secrets and assets as signed objects), or for a component the outputs it registered. What
 * `declare` throws is thrown once every registration it started is answered.
 */
export async function registrations(
    declare: () => unknown,
    project = "edge-project",
    outputs: (a: pulumi.runtime.MockResourceArgs) => Record<string, unknown> = () => ({}),
): Promise<Map<string, Record<string, unknown>>> {
    await pulumi.runtime.setMocks({ newResource: (a) => ({ id: `${a.name}-id`, state: { ...a.inputs, ...outputs(a) } }), call: () => ({}) }, project, "dev", false);
    const monitor = pulumi.runtime.getMonitor() as unknown as MockMonitor;
    let thrown: unknown;
    try {
        declare();
    } catch (err) {
        thrown = err;
    }
    await waitForRPCs();
    if (thrown) throw thrown;
    const byUrn = new Map<string, Record<string, unknown>>();
    for (const [urn, r] of monitor.getRegisteredResources()) {
        const state = r.state as Record<string, unknown> & { toJavaScript?: () => Record<string, unknown> };
        byUrn.set(urn, typeof state.toJavaScript === "function" ? state.toJavaScript() : state);
    }
    return byUrn;
}

export interface SeenOptions { protect?: boolean; retainOnDelete?: boolean; import?: string }

/**
 * A transformation to give a component (children inherit it: @pulumi/pulumi resource.ts), and
 * the options it saw, by `<type>::<name>`: the mock monitor is not told them.
 */
export function optionsSeen(): { transformation: pulumi.ResourceTransformation; seen: Map<string, SeenOptions> } {
    const seen = new Map<string, SeenOptions>();
    const transformation: pulumi.ResourceTransformation = (a) => {
        const opts = a.opts as pulumi.CustomResourceOptions;
        seen.set(`${a.type}::${a.name}`, { protect: opts.protect, retainOnDelete: opts.retainOnDelete, import: opts.import });
        return undefined;
    };
    return { transformation, seen };
}
