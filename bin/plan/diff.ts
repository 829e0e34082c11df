// The difference between two evaluations of the program: which resources would be created,
// updated, replaced or deleted, which of their inputs change, and in which order the engine runs
// a replacement. Whether a change replaces is the provider's call; offline it is read from
// PROVIDER_RULES (providerRules.ts), and the engine's own rules are applied on top:
// pulumi/pulumi pkg/resource/deploy/step_generator.go (replacement order, protect) and step.go
// (retainOnDelete).
import { changedKeys, deleteBeforeReplace as virtualMacDeletesFirst, VirtualMacInputs, VirtualMacOutputs } from "../../components/network/virtualMacProvider";
import { loweringChanges, TtlLoweringInputs } from "../../components/dns/ttlLoweringProvider";
import { provesAgain, ZoneServesInputs } from "../../components/dns/zoneServesProvider";
import { ChangeSummary, DeclaredResource, Evaluation, PropertyDiff, ReplacementOrder, SIG, Step, TTL_LOWERING_TYPE, VIRTUAL_MAC_TYPE, ZONE_SERVES_TYPE } from "./model";
import type { AdoptFile } from "../../components/config/adoptFile";
import { deleteEffectOf, ruleFor } from "./providerRules";

function topKey(path: string): string {
    return path.split(/[.[]/)[0];
}

function replacingKeys(old: DeclaredResource, next: DeclaredResource, changed: string[]): string[] {
    // Our own provider answers for itself, with the function its diff uses.
    const byProvider = next.type === VIRTUAL_MAC_TYPE
        ? changedKeys(old.inputs as unknown as VirtualMacOutputs, next.inputs as unknown as VirtualMacInputs)
        : changed.filter((k) => ruleFor(next.type)?.replaceOn.includes(k));
    const byOption = next.replaceOnChanges.map(topKey);
    return changed.filter((k) => byProvider.includes(k) || byOption.includes(k) || byOption.includes("*"));
}

/**
 * The program's deleteBeforeReplace wins; else the provider's diff decides (ours asks for it when
 * the IP stays the same; the OVH and command providers never do); else create-before-delete.
 */
function replacementOrder(next: DeclaredResource, replaces: string[]): ReplacementOrder {
    const deleteFirst = next.deleteBeforeReplace ?? (next.type === VIRTUAL_MAC_TYPE ? virtualMacDeletesFirst(replaces) : false);
    return deleteFirst ? "delete-before-replace" : "create-before-delete";
}

/** Paths that differ between two values: a.b, list[0], … in the form of pulumi's detailedDiff. */
export function diffPaths(a: unknown, b: unknown, prefix = ""): Record<string, "add" | "delete" | "update"> {
    if (JSON.stringify(a) === JSON.stringify(b)) return {};
    // Two assets are the same when their contents' hashes are, wherever the files are
    // (pulumi/pulumi sdk/go/common/resource/asset/asset.go, Equals).
    const hashOf = (v: unknown) => (typeof v === "object" && v !== null && (v as Record<string, unknown>)[SIG.key] === SIG.asset ? (v as { hash?: unknown }).hash : undefined);
    if (hashOf(a) !== undefined && hashOf(b) !== undefined) return hashOf(a) === hashOf(b) ? {} : { [prefix]: "update" };
    const bothObjects = typeof a === "object" && a !== null && typeof b === "object" && b !== null && Array.isArray(a) === Array.isArray(b);
    if (!bothObjects) {
        return { [prefix]: a === undefined ? "add" : b === undefined ? "delete" : "update" };
    }
    const out: Record<string, "add" | "delete" | "update"> = {};
    const keys = new Set([...Object.keys(a as object), ...Object.keys(b as object)]);
    for (const k of keys) {
        const p = Array.isArray(a) ? `${prefix}[${k}]` : prefix === "" ? k : `${prefix}.${k}`;
        Object.assign(out, diffPaths((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], p));
    }
    return out;
}

/** ignoreChanges: the engine keeps the old value of these paths, so they never differ. */
function withoutIgnored(paths: Record<string, "add" | "delete" | "update">, ignore: string[]): Record<string, "add" | "delete" | "update"> {
    const ignored = (p: string) => ignore.some((i) => p === i || p.startsWith(`${i}.`) || p.startsWith(`${i}[`));
    return Object.fromEntries(Object.entries(paths).filter(([p]) => !ignored(p)));
}

/** What the old resource's delete does, unless the engine is told to forget it instead. */
function deleteSide(old: DeclaredResource): Pick<Step, "retained" | "deleteEffect"> {
    if (old.retainOnDelete) return { retained: true };
    const effect = deleteEffectOf(old.type, old.inputs);
    return effect ? { retained: false, deleteEffect: effect } : { retained: false };
}

/** A record's live TTL above this makes an IP change wait in resolvers (seed 002: 4 h). */
export const SLOW_TTL = 300;

/**
 * With an adopt file, a resource not in the (offline) state with an `import` id is imported, and
 * updated where the program differs from what was found live (pulumi/pulumi#19339).
 */
function importStep(n: DeclaredResource, adopt: AdoptFile | undefined): Pick<Step, "op" | "diffs" | "detailedDiff" | "old"> {
    const live = adopt?.resources[n.name]?.live ?? {};
    const paths = diffPaths(Object.fromEntries(Object.keys(live).map((k) => [k, live[k]])), Object.fromEntries(Object.keys(live).map((k) => [k, n.inputs[k]])));
    return {
        op: "import",
        diffs: [...new Set(Object.keys(paths).map(topKey))].sort(),
        detailedDiff: Object.fromEntries(Object.entries(paths).map(([p, kind]) => [p, { kind }])),
        // What is imported is the live object: the "old" side of the update that follows.
        old: { ...n, inputs: { ...n.inputs, ...live } },
    };
}

/** What a create will find and adopt by itself: the MAC an IP already has, the NIC it merges into. */
function adopts(n: DeclaredResource, adopt: AdoptFile | undefined): string | undefined {
    const seen = adopt?.observed[n.name];
    if (!seen) return undefined;
    if (n.type === VIRTUAL_MAC_TYPE) return `the ${String(seen.type)} MAC ${String(seen.macAddress)} the IP already has (found by ovh-failover adopt)`;
    if (n.type === "ovh:Ip/move:Move") {
        const wanted = (n.inputs.routedTo as { serviceName?: unknown } | undefined)?.serviceName;
        return seen.routedTo === wanted
            ? `${String(seen.ip)} routed to ${String(seen.routedTo)} already: the move changes nothing`
            : `${String(seen.ip)}, routed to ${String(seen.routedTo ?? "nothing")} now: the create moves it`;
    }
    if (n.type === "command:remote:Command" && "value" in seen) {
        return seen.value ? `${String(seen.key)} of ${String(seen.vmid)} as it is, merged: ${String(seen.value)}` : `no ${String(seen.key)} on ${String(seen.vmid)}: the NIC is new`;
    }
    return undefined;
}

function ttlWarnings(n: DeclaredResource, diffs: string[], adopt: AdoptFile | undefined): string[] {
    const found = adopt?.resources[n.name];
    const ttl = found?.effectiveTtl ?? found?.live.ttl;
    if (n.type !== "ovh:Domain/zoneRecord:ZoneRecord" || !diffs.includes("target") || typeof ttl !== "number" || ttl <= SLOW_TTL) return [];
    return [`the record's live TTL is ${ttl} s (ovh-failover adopt): resolvers may keep the old target that long; lower the TTL first and wait it out`];
}

/** An update the provider cannot make: the preview shows it, `pulumi up` fails at it. */
function noUpdateWarnings(n: DeclaredResource, diffs: string[]): string[] {
    if (ruleFor(n.type)?.noUpdate !== true) return [];
    return [`the provider has no update for this resource: pulumi up fails here ("doesn't support update") on the change of ${diffs.join(", ")}`];
}

function rebootWarnings(n: DeclaredResource, diffs: string[]): string[] {
    const rebooting = diffs.filter((d) => ruleFor(n.type)?.rebootOn?.includes(d));
    if (rebooting.length === 0) return [];
    return [`the provider reboots the running container for this change (${rebooting.join(", ")}): its services stop for the time of a restart`];
}

export function diffEvaluations(before: Evaluation, after: Evaluation, adopt?: AdoptFile): Step[] {
    const olds = new Map(before.resources.map((r) => [r.urn, r]));
    const steps: Step[] = [];
    for (const n of after.resources) {
        const o = olds.get(n.urn);
        olds.delete(n.urn);
        const base = { urn: n.urn, type: n.type, name: n.name, protect: n.protect, old: o, new: n };
        if (!o && n.importId) {
            const imported = importStep(n, adopt);
            const warnings = ttlWarnings(n, imported.diffs, adopt);
            steps.push({ ...base, ...imported, ...(warnings.length ? { warnings } : {}) });
            continue;
        }
        if (!o) {
            const found = adopts(n, adopt);
            steps.push({ ...base, op: "create", diffs: [], detailedDiff: {}, ...(found ? { adopts: found } : {}) });
            continue;
        }
        const paths = withoutIgnored(diffPaths(o.inputs, n.inputs), n.ignoreChanges);
        const diffs = [...new Set(Object.keys(paths).map(topKey))].sort();
        // Our own providers' diffs answer "no change" for some input changes: the proof's bounds
        // (how, not what), a lowering's lower TTL before.
        const unchangedByProvider = (n.type === ZONE_SERVES_TYPE && !provesAgain(o.inputs as unknown as ZoneServesInputs, n.inputs as unknown as ZoneServesInputs))
            || (n.type === TTL_LOWERING_TYPE && !loweringChanges(o.inputs as unknown as TtlLoweringInputs, n.inputs as unknown as TtlLoweringInputs));
        if (diffs.length === 0 || unchangedByProvider) {
            steps.push({ ...base, op: "same", diffs, detailedDiff: {} });
            continue;
        }
        const replaces = replacingKeys(o, n, diffs);
        const detailedDiff: Record<string, PropertyDiff> = {};
        for (const [p, kind] of Object.entries(paths)) {
            detailedDiff[p] = { kind: replaces.includes(topKey(p)) ? `${kind}-replace` : kind } as PropertyDiff;
        }
        if (replaces.length === 0) {
            const warnings = [...ttlWarnings(n, diffs, adopt), ...rebootWarnings(n, diffs), ...noUpdateWarnings(n, diffs)];
            steps.push({ ...base, op: "update", diffs, detailedDiff, ...(warnings.length ? { warnings } : {}) });
            continue;
        }
        steps.push({
            ...base,
            op: "replace",
            diffs,
            detailedDiff,
            replacementOrder: replacementOrder(n, replaces),
            ...deleteSide(o),
            // The engine refuses a replace only when the resource is protected before and after.
            ...(o.protect && n.protect ? { blockedBy: "protect" } : {}),
        });
    }
    // What is gone is deleted, children before their parents (the reverse of declaration order).
    for (const o of [...olds.values()].reverse()) {
        steps.push({
            op: "delete", urn: o.urn, type: o.type, name: o.name, protect: o.protect, diffs: [], detailedDiff: {}, old: o,
            ...deleteSide(o),
            ...(o.protect ? { blockedBy: "protect" } : {}),
        });
    }
    return steps;
}

export function summarize(steps: Step[]): ChangeSummary {
    const s: ChangeSummary = { import: 0, create: 0, update: 0, replace: 0, delete: 0, same: 0 };
    for (const step of steps) s[step.op]++;
    return s;
}
