// The offline plan's --json held to a real `pulumi preview --json`, both normalized
// (recording.ts): step for step and field for field, but for the differences the README lists
// (previewDifferences.ts). Used against the recordings (test/recorded/) and against the CLI itself
// (the engine suite).
import { expect } from "vitest";
import { comparable } from "./previewDifferences";
import type { RecordedPreview, RecordedState, RecordedStep } from "./recording";

function withoutOfflinePlan<T extends object>(value: T): T {
    const copy = { ...value } as T & { offlinePlan?: unknown };
    delete copy.offlinePlan;
    return copy;
}

/**
 * A step with its dependency lists sorted: the SDK gathers a resource's dependencies in the order
 * their outputs resolve, which changes from one run to the next; the engine takes them as a set.
 */
function sortedDependencies(step: RecordedStep): RecordedStep {
    const sortState = (s?: RecordedState) => s && {
        ...s,
        ...(s.dependencies ? { dependencies: [...s.dependencies].sort() } : {}),
        ...(s.propertyDependencies ? { propertyDependencies: Object.fromEntries(Object.entries(s.propertyDependencies).map(([k, v]) => [k, [...v].sort()])) } : {}),
    };
    return { ...step, ...(step.oldState ? { oldState: sortState(step.oldState) } : {}), ...(step.newState ? { newState: sortState(step.newState) } : {}) };
}

/**
 * Where a list of steps breaks the order the engine keeps: a resource created, updated or kept
 * before its parent, a dependency or its provider; a delete after the delete of what it depends on
 * or of its parent; an update before its import.
 */
export function orderBreaks(steps: RecordedStep[]): string[] {
    const isDelete = (op: string) => op === "delete" || op === "delete-replaced";
    // Where each resource is first created, updated or kept, and where it is deleted.
    const at = new Map<string, number>();
    const deletedAt = new Map<string, number>();
    steps.forEach((s, i) => {
        const index = isDelete(s.op) ? deletedAt : at;
        if (!index.has(s.urn)) index.set(s.urn, i);
    });
    const breaks: string[] = [];
    steps.forEach((s, i) => {
        const state = s.newState ?? s.oldState;
        const before = [state?.parent, ...(state?.dependencies ?? []), state?.provider?.slice(0, state.provider.lastIndexOf("::"))];
        for (const urn of before) {
            if (!urn) continue;
            if (isDelete(s.op)) {
                // The engine deletes a resource before what it depends on and before its parent.
                if ((deletedAt.get(urn) ?? Infinity) < i) breaks.push(`${s.op} ${s.urn} comes after the delete of ${urn}`);
            } else if ((at.get(urn) ?? -1) > i) {
                breaks.push(`${s.op} ${s.urn} comes before ${urn}`);
            }
        }
        if (s.op === "update" && steps.slice(i + 1).some((t) => t.op === "import" && t.urn === s.urn)) breaks.push(`update ${s.urn} comes before its import`);
    });
    return breaks;
}

/** Asserts that the plan's digest is the real one: the same steps, each field for field, in an order the engine could take. */
export function expectSamePreview(offline: RecordedPreview, realDigest: RecordedPreview): void {
    // The plan's own fields (offlinePlan) are outside pulumi preview's digest.
    const digest = withoutOfflinePlan(comparable(offline));
    const real = comparable(realDigest);
    const steps = (digest.steps ?? []).map(withoutOfflinePlan);
    // The engine registers siblings in the order their inputs resolve, which changes from one run
    // to the next: the steps are held to the real ones as a set, and the plan's order to what the
    // engine's never breaks (a parent, and every dependency, before the resource).
    const key = (s: { op: string; urn: string }) => `${s.op} ${s.urn}`;
    const recorded = new Map((real.steps ?? []).map((s) => [key(s), sortedDependencies(s)]));
    expect(steps.map(key).sort()).toEqual([...recorded.keys()].sort());
    for (const step of steps) expect(sortedDependencies(step), key(step)).toEqual(recorded.get(key(step)));
    expect(orderBreaks(steps)).toEqual([]);
    expect({ ...digest, steps: undefined }).toEqual({ ...real, steps: undefined });
}
