// The order check of the comparison with the real preview: what the engine's order never breaks.
import { describe, expect, it } from "vitest";
import { orderBreaks } from "./previewCompare";
import type { RecordedStep } from "./recording";

const urn = (name: string, type = "demo:index:Thing") => `urn:pulumi:dev::demo::${type}::${name}`;
const PROVIDER = urn("p", "pulumi:providers:pulumi-nodejs");

function step(op: string, name: string, opts: { parent?: string; deps?: string[]; provider?: boolean } = {}): RecordedStep {
    const state = { urn: urn(name), custom: true, type: "demo:index:Thing", parent: opts.parent, dependencies: opts.deps, provider: opts.provider ? `${PROVIDER}::id` : undefined };
    return { op, urn: urn(name), ...(op.startsWith("delete") ? { oldState: state } : { newState: state }), detailedDiff: null };
}

describe("the engine's order", () => {
    it("is kept: provider, parent and dependency first; deletes of dependents first", () => {
        const providerStep: RecordedStep = { op: "create", urn: PROVIDER, newState: { urn: PROVIDER, custom: true, type: "pulumi:providers:pulumi-nodejs" }, detailedDiff: null };
        expect(orderBreaks([providerStep, step("create", "a"), step("create", "b", { parent: urn("a"), deps: [urn("a")], provider: true }), step("delete", "d", { deps: [urn("c")] }), step("delete", "c")])).toEqual([]);
    });

    it("is broken by a resource before its provider, its parent or a dependency, and by a delete after the delete of its dependency", () => {
        const providerStep: RecordedStep = { op: "create", urn: PROVIDER, newState: { urn: PROVIDER, custom: true, type: "pulumi:providers:pulumi-nodejs" }, detailedDiff: null };
        expect(orderBreaks([step("create", "b", { provider: true }), providerStep])).toHaveLength(1);
        expect(orderBreaks([step("create", "b", { parent: urn("a") }), step("create", "a")])).toHaveLength(1);
        expect(orderBreaks([step("create", "b", { deps: [urn("a")] }), step("create", "a")])).toHaveLength(1);
        expect(orderBreaks([step("delete", "c"), step("delete", "d", { deps: [urn("c")] })])).toHaveLength(1);
    });
});
