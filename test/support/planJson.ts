// Reading the offline plan's --json, which has the shape of `pulumi preview --json`.

export interface PlanJsonStep {
    op: string;
    urn: string;
    oldState?: { type: string; inputs?: Record<string, unknown>; retainOnDelete?: boolean };
    newState?: { type: string; inputs?: Record<string, unknown> };
    diffReasons?: string[];
    replaceReasons?: string[];
    detailedDiff: Record<string, { kind: string; inputDiff: boolean }> | null;
    /** What only the offline plan knows. */
    offlinePlan?: { replacementOrder?: string; retained?: boolean; deleteEffect?: string; blockedBy?: string; adopts?: string; warnings?: string[] };
}

export interface PlanJson {
    steps: PlanJsonStep[];
    changeSummary: Record<string, number>;
}

/** A resource's name: the last part of its URN. */
export function nameOf(step: { urn: string }): string {
    return step.urn.split("::").pop()!;
}

/** The steps of a plan's --json output, the root stack's aside, each with its resource's name. */
export function resourceSteps(output: string): (PlanJsonStep & { name: string })[] {
    return (JSON.parse(output) as PlanJson).steps.filter((s) => !s.urn.includes("::pulumi:pulumi:Stack::")).map((s) => ({ ...s, name: nameOf(s) }));
}

/** The counts under "Resources:" of a text, by op as changeSummary names them. */
export function textCounts(text: string): Record<string, number> {
    const lines = text.split("\n");
    return Object.fromEntries(lines.slice(lines.indexOf("Resources:") + 1).flatMap((l) => {
        const m = /^ {4}(?:\+-|[-+~=] )(\d+) to (\w+)$/.exec(l);
        const same = /^ {4}(?:\d+ changes?\. )?(\d+) unchanged$/.exec(l);
        return m ? [[m[2], Number(m[1])]] : same ? [["same", Number(same[1])]] : [];
    }));
}
