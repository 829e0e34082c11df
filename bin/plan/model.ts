// The shapes the offline plan passes around: one evaluation of the program, and the steps
// between two evaluations, named as `pulumi preview --json` names them.

/** Signatures of the Pulumi wire format (sdk/nodejs/runtime/rpc.ts). */
export const SIG = {
    key: "4dabf18193072939515e22adb298388d",
    secret: "1b47061264138c4ac30d75fd1eb44270",
    resourceReference: "5cf8f73096256a8f31e491e813e4eb8e",
    unknownValue: "04da6b54-80e4-46f7-96ec-b56ff0331ba9",
} as const;

/** The type token of the VirtualMac dynamic resource. */
export const VIRTUAL_MAC_TYPE = "pulumi-nodejs:dynamic/ovh-failover:VirtualMac";

/**
 * Offline stand-in for an output only known once applied, e.g. the MAC OVH will assign. It names
 * what it stands for, and it changes when what it derives from changes, so that the plan shows
 * every resource an IP change reaches.
 */
export function knownAfterApply(what: string): string {
    return `[${what}]`;
}

/** How an input that is only known once applied (a MAC OVH will assign) is shown. */
export const UNKNOWN_TEXT = "[unknown]";

export interface DeclaredResource {
    urn: string;
    type: string;
    name: string;
    parent?: string;
    custom: boolean;
    protect: boolean;
    deleteBeforeReplace: boolean;
    dependencies: string[];
    inputs: Record<string, unknown>;
}

export interface InvokeRecord {
    token: string;
    args: Record<string, unknown>;
    answer?: unknown;
    note?: string;
}

export interface Evaluation {
    resources: DeclaredResource[];
    invokes: InvokeRecord[];
    error?: string;
}

export type StepOp = "same" | "create" | "update" | "replace" | "delete";

export interface PropertyDiff {
    kind: "add" | "delete" | "update" | "add-replace" | "delete-replace" | "update-replace";
}

export interface Step {
    op: StepOp;
    urn: string;
    type: string;
    name: string;
    protect: boolean;
    /** Top-level input names that differ. */
    diffs: string[];
    /** Property paths that differ, as pulumi preview's detailedDiff. */
    detailedDiff: Record<string, PropertyDiff>;
    old?: DeclaredResource;
    new?: DeclaredResource;
}

export interface ChangeSummary {
    create: number;
    update: number;
    replace: number;
    delete: number;
    same: number;
}
