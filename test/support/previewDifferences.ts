// Where the offline plan's --json and the real `pulumi preview --json` differ, each with its reason,
// and the warnings the real plugins print that are known and accepted. This list is the README's
// table "Where the offline plan and pulumi preview differ" (test/recorded/recorded.test.ts checks
// that the two say the same), and nothing outside it may differ.
import { SERIALIZED_PROVIDER } from "../../bin/plan/model";
import type { RecordedDiagnostic, RecordedPreview, RecordedState, RecordedStep } from "./recording";

export interface PreviewDifference {
    /** What differs, in the README's words. */
    what: string;
    why: string;
    /** Takes what differs out of a preview (either side's), so that the rest can be compared exactly. */
    leaveOut(preview: RecordedPreview): RecordedPreview;
}

/** A copy of the preview with each step's states passed through `f`. */
function eachState(preview: RecordedPreview, f: (s: RecordedState, step: RecordedStep) => RecordedState): RecordedPreview {
    return {
        ...preview,
        steps: preview.steps?.map((step) => ({
            ...step,
            ...(step.oldState ? { oldState: f(step.oldState, step) } : {}),
            ...(step.newState ? { newState: f(step.newState, step) } : {}),
        })),
    };
}

function without<T extends object>(value: T, ...keys: string[]): T {
    const out = { ...value } as Record<string, unknown>;
    for (const k of keys) delete out[k];
    return out as T;
}

/** Differences in the steps and fields, held by the comparison in test/recorded/recorded.test.ts. */
export const PREVIEW_DIFFERENCES: PreviewDifference[] = [
    {
        what: "`diagnostics`",
        why: "the plan prints its own messages on stderr; the real preview's warnings are held to this table by the test:providers tier",
        leaveOut: (p) => without(p, "diagnostics"),
    },
    {
        what: "`duration`",
        why: "the time the plan took, not the preview",
        leaveOut: (p) => without(p as RecordedPreview & { duration?: number }, "duration"),
    },
    {
        what: "a dynamic resource's `__provider` input is `\"[serialized provider]\"`",
        why: "`pulumi up` serializes the provider's code into it, which changes with any edit of the code; the plan skips the work",
        leaveOut: (p) => eachState(p, (s) => (s.inputs && "__provider" in s.inputs ? { ...s, inputs: { ...s.inputs, __provider: SERIALIZED_PROVIDER } } : s)),
    },
    {
        what: "`sourcePosition` and `stackTrace` of a resource",
        why: "the plan skips the SDK's stack traces, which cost time for every resource and say nothing about the change",
        leaveOut: (p) => eachState(p, (s) => without(s, "sourcePosition", "stackTrace")),
    },
];

export interface AcceptedDiagnostic {
    what: string;
    why: string;
    /** The diagnostics this entry accepts. */
    matches(d: RecordedDiagnostic): boolean;
}

/** Warnings the real CLI or plugins print on a bundled stack that are known and accepted. */
export const ACCEPTED_DIAGNOSTICS: AcceptedDiagnostic[] = [];

/** The warnings and errors of a preview that no entry accepts (info messages are the program's own). */
export function unlistedDiagnostics(preview: RecordedPreview): RecordedDiagnostic[] {
    return (preview.diagnostics ?? []).filter((d) => d.severity !== "info" && d.severity !== "info#err" && !ACCEPTED_DIAGNOSTICS.some((a) => a.matches(d)));
}

/** Both previews with every listed difference left out. */
export function comparable(preview: RecordedPreview): RecordedPreview {
    return PREVIEW_DIFFERENCES.reduce((p, d) => d.leaveOut(p), preview);
}

/** The README's table, written from the two lists above. */
export function differencesTable(): string {
    const cell = (text: string) => text.replace(/\|/g, "\\|");
    const rows = [...PREVIEW_DIFFERENCES, ...ACCEPTED_DIAGNOSTICS].map((d) => `| ${cell(d.what)} | ${cell(d.why)} |`);
    return ["| what differs | why |", "| --- | --- |", ...rows].join("\n");
}
