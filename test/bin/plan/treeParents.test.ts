// Every row of the plan's text hangs under its real parent: in the tree, by its indentation, and
// with --diff, by its block's. Random trees of resources, with random ops (a created parent's
// children created, a deleted one's deleted), declared in a random order, with unchanged parents
// hidden or shown, and replacements listed as one step or as their steps.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { summarize } from "../../../bin/plan/diff";
import { inTreeOrder } from "../../../bin/plan/layout";
import { DeclaredResource, engineUrn, Step, StepOp } from "../../../bin/plan/model";
import { renderText, RootStack, rootStack } from "../../../bin/plan/render";

const STACK = "s";
const PROJECT = "p";
const ROOT: RootStack = rootStack(STACK, PROJECT, true);
const TYPES = ["test:index:Component", "test:index:Thing", "ovh:Ip/move:Move", "command:remote:Command"];

interface Shape {
    /** Index of each resource's parent among those before it, or -1 for the root stack. */
    parents: number[];
    ops: StepOp[];
    types: number[];
    /** The order of declaration: a permutation of the resources. */
    order: number[];
    replacementOrders: boolean[];
}

const shapes = fc.integer({ min: 1, max: 14 }).chain((n) =>
    fc.record({
        parents: fc.tuple(...Array.from({ length: n }, (_, i) => fc.integer({ min: -1, max: i - 1 }))),
        ops: fc.array(fc.constantFrom<StepOp>("same", "create", "update", "replace", "delete"), { minLength: n, maxLength: n }),
        types: fc.array(fc.integer({ min: 0, max: TYPES.length - 1 }), { minLength: n, maxLength: n }),
        order: fc.shuffledSubarray(Array.from({ length: n }, (_, i) => i), { minLength: n, maxLength: n }),
        replacementOrders: fc.array(fc.boolean(), { minLength: n, maxLength: n }),
    }),
);

function resource(urn: string, type: string, name: string, parent: string | undefined): DeclaredResource {
    return {
        urn, type, name, parent, custom: !type.startsWith("test:index:Component"), protect: false, retainOnDelete: false,
        ignoreChanges: [], replaceOnChanges: [], dependencies: [], inputs: {}, propertyDependencies: {}, additionalSecretOutputs: [],
    };
}

/** The steps of a shape: a created parent's children are created, a deleted one's deleted. */
function stepsOf(shape: Shape): Step[] {
    const urns: string[] = [];
    const ops: StepOp[] = [];
    const steps: Step[] = [];
    shape.parents.forEach((p, i) => {
        const parentOp = p >= 0 ? ops[p] : undefined;
        ops[i] = parentOp === "create" || parentOp === "delete" ? parentOp : shape.ops[i];
        const type = TYPES[shape.types[i]];
        const name = `r${i}`;
        urns[i] = engineUrn(STACK, PROJECT, p >= 0 ? urns[p] : undefined, type, name);
        const r = resource(urns[i], type, name, p >= 0 ? urns[p] : undefined);
        const op = ops[i];
        steps[i] = {
            op, urn: r.urn, type, name, protect: false, diffs: [], detailedDiff: {},
            ...(op !== "create" ? { old: r } : {}),
            ...(op !== "delete" ? { new: r } : {}),
            ...(op === "replace" ? { replacementOrder: shape.replacementOrders[i] ? "delete-before-replace" : "create-before-delete" } : {}),
        };
    });
    // As diffEvaluations lists them: what the program declares, in its order, then what it no longer does.
    const declared = shape.order.map((i) => steps[i]);
    return [...declared.filter((s) => s.op !== "delete"), ...declared.filter((s) => s.op === "delete")];
}

const nameOf = (urn: string) => urn.split("::").pop() ?? urn;
const parentName = (steps: Step[], name: string): string => {
    const s = steps.find((x) => x.name === name)!;
    const parent = (s.new ?? s.old)?.parent;
    return parent === undefined ? nameOf(ROOT.urn) : nameOf(parent);
};

/** Each row of the tree and the row its indentation hangs it under. */
function treeParents(text: string): { name: string; parent: string }[] {
    const lines = text.split("\n");
    const header = lines.findIndex((l) => /^ {5}Type +Name/.test(l));
    const out: { name: string; parent: string }[] = [];
    const above: string[] = [];
    for (const line of lines.slice(header + 1)) {
        if (line === "") break;
        const prefix = /^((?:[│ ] {2}|[├└]─ )*)/.exec(line.slice(5))?.[1] ?? "";
        const depth = prefix.length / 3;
        const name = line.slice(5 + prefix.length).split(/ {2,}/)[1];
        above[depth] = name;
        if (depth > 0) out.push({ name, parent: above[depth - 1] });
    }
    return out;
}

/** Each --diff block and the block its indentation hangs it under. */
function blockParents(text: string): { name: string; parent: string }[] {
    const lines = text.split("\n");
    const out: { name: string; parent: string }[] = [];
    const above: string[] = [];
    lines.forEach((line, i) => {
        const header = /^((?: {4})*)(?:\+-|\+\+|--|[-+~= ] )\S+: \([a-z-]+\)/.exec(line);
        const urn = /^\s*\[urn=(.*)\]$/.exec(lines[i + 1] ?? "")?.[1];
        if (!header || urn === undefined) return;
        const depth = header[1].length / 4;
        above[depth] = nameOf(urn);
        if (depth > 0) out.push({ name: nameOf(urn), parent: above[depth - 1] });
    });
    return out;
}

describe("the plan's text puts every resource under its real parent", () => {
    it("in the tree", () => {
        fc.assert(
            fc.property(shapes, fc.boolean(), fc.boolean(), (shape, showSame, showReplacementSteps) => {
                const steps = stepsOf(shape);
                const text = renderText("header", steps, summarize(steps), [], ROOT, { color: false, showReplacementSteps }, showSame);
                const rows = treeParents(text);
                for (const row of rows) expect(row.parent, text).toBe(parentName(steps, row.name));
                // Every changed resource has its row.
                for (const s of steps.filter((x) => x.op !== "same")) expect(rows.map((r) => r.name), text).toContain(s.name);
            }),
        );
    });

    it("with --diff", () => {
        fc.assert(
            fc.property(shapes, fc.boolean(), fc.boolean(), (shape, showSame, showReplacementSteps) => {
                const steps = stepsOf(shape);
                const text = renderText("header", steps, summarize(steps), [], ROOT, { color: false, showReplacementSteps, diff: true }, showSame);
                const blocks = blockParents(text);
                for (const block of blocks) expect(block.parent, text).toBe(parentName(steps, block.name));
                for (const s of steps.filter((x) => x.op !== "same")) expect(blocks.map((b) => b.name), text).toContain(s.name);
            }),
        );
    });

    it("lays out entries as a tree, an ancestor without an entry once, before its first descendant", () => {
        const parent: Record<string, string | undefined> = { a: undefined, b: "a", c: "b", d: "a", e: "root" };
        const placed = inTreeOrder(["c", "e", "d", "c"], (x) => x, (u) => parent[u], "root");
        expect(placed.map((p) => [p.urn, p.depth, p.entry !== undefined])).toEqual([
            ["a", 1, false], ["b", 2, false], ["c", 3, true], ["c", 3, true], ["d", 2, true], ["e", 1, true],
        ]);
    });
});
