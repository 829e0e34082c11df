// The shapes the offline plan passes around: one evaluation of the program, and the steps
// between two evaluations, named as `pulumi preview --json` names them.

/** Signatures of the Pulumi wire format (sdk/nodejs/runtime/rpc.ts). */
export const SIG = {
    key: "4dabf18193072939515e22adb298388d",
    secret: "1b47061264138c4ac30d75fd1eb44270",
    resourceReference: "5cf8f73096256a8f31e491e813e4eb8e",
    asset: "c44067f5952c0a294b673a41bacd8c17",
    unknownValue: "04da6b54-80e4-46f7-96ec-b56ff0331ba9",
} as const;

/**
 * What the plan writes for a dynamic resource's `__provider` input, the provider's code that
 * `pulumi up` serializes into it (the plan skips serializing it: evaluate.ts).
 */
export const SERIALIZED_PROVIDER = "[serialized provider]";

/** The type token of the VirtualMac dynamic resource. */
export const VIRTUAL_MAC_TYPE = "pulumi-nodejs:dynamic/ovh-failover:VirtualMac";

/** The type token of the MoveCheck dynamic resource (the checks before a block moves). */
export const MOVE_CHECK_TYPE = "pulumi-nodejs:dynamic/ovh-failover:MoveCheck";

/** The type token of the ZoneServes dynamic resource (the proof that a zone's name servers serve its records). */
export const ZONE_SERVES_TYPE = "pulumi-nodejs:dynamic/ovh-failover:ZoneServes";

/** The type token of the TtlLowering dynamic resource (since when an endpoint's records are at a lowered TTL). */
export const TTL_LOWERING_TYPE = "pulumi-nodejs:dynamic/ovh-failover:TtlLowering";

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

/**
 * The URN the engine gives a resource: its parent's qualified type, then `$` and its own type, so
 * that every ancestor's type is chained; the root stack's type is never part of it.
 * pulumi/pulumi sdk/go/common/resource/urn/urn.go (New) and pkg/resource/deploy/deployment.go
 * (generateURN). The SDK's mock runtime keeps only the last parent type
 * (sdk/nodejs/runtime/mocks.ts, newUrn), so the plan computes its own.
 */
export function engineUrn(stack: string, project: string, parentUrn: string | undefined, type: string, name: string): string {
    const parentType = parentUrn ? parentUrn.split("::")[2] : undefined;
    const qualified = parentType && parentType !== "pulumi:pulumi:Stack" ? `${parentType}$${type}` : type;
    return `urn:pulumi:${stack}::${project}::${qualified}::${name}`;
}

/** The provider a custom resource runs under: an explicit one, or the package's default. */
export interface ProviderReference {
    urn: string;
    /** The engine's default provider of the package, which no program declares. */
    default?: boolean;
}

export interface DeclaredResource {
    urn: string;
    type: string;
    name: string;
    parent?: string;
    custom: boolean;
    protect: boolean;
    /** The program's deleteBeforeReplace option; undefined when it leaves the choice to the provider. */
    deleteBeforeReplace?: boolean;
    retainOnDelete: boolean;
    /** Input paths whose changes the engine ignores (the ignoreChanges option). */
    ignoreChanges: string[];
    /** Input paths whose changes replace (the replaceOnChanges option, and what an SDK adds). */
    replaceOnChanges: string[];
    dependencies: string[];
    inputs: Record<string, unknown>;
    /** The `import` option: the id of an existing object to adopt (from the adopt file). */
    importId?: string;
    /** A custom resource's provider. */
    provider?: ProviderReference;
    /** Per input, the resources its value came from, as the SDK sent them. */
    propertyDependencies: Record<string, string[]>;
    /** Outputs the SDK asks the engine to keep secret (the additionalSecretOutputs option). */
    additionalSecretOutputs: string[];
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

export type StepOp = "same" | "create" | "update" | "replace" | "delete" | "import";

/** The steps of a replacement as `pulumi preview --show-replacement-steps` lists them. */
export type ReplacementOp = "create-replacement" | "replace" | "delete-replaced";

/** Create the new one then delete the old (Pulumi's default), or the other way round. */
export type ReplacementOrder = "create-before-delete" | "delete-before-replace";

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
    /** For a replace: in which order the engine runs its create and its delete. */
    replacementOrder?: ReplacementOrder;
    /** For a delete or replace: the engine forgets the old one without the provider's delete. */
    retained?: boolean;
    /** For a delete or replace that reaches the provider: what its delete does in the world. */
    deleteEffect?: string;
    /** Why `pulumi up` would stop at this step (protect), if it would. */
    blockedBy?: string;
    /** For a create, what the provider will find and adopt instead (a virtual MAC, a NIC). */
    adopts?: string;
    /** Warnings for the reviewer (a live TTL that would slow an IP change). */
    warnings?: string[];
}

export interface ChangeSummary {
    import: number;
    create: number;
    update: number;
    replace: number;
    delete: number;
    same: number;
}
