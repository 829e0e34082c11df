// The difference between two evaluations of the program: which resources would be created,
// updated, replaced or deleted, and which of their inputs change. Whether a change replaces a
// resource is the provider's call; offline, it is read from the table below, taken from the
// providers' schemas (ForceNew properties) and the OVH API (what has no update route).
import { changedKeys, VirtualMacInputs, VirtualMacOutputs } from "../../components/network/virtualMacProvider";
import { ChangeSummary, DeclaredResource, Evaluation, PropertyDiff, Step, VIRTUAL_MAC_TYPE } from "./model";

/** Top-level inputs whose change replaces the resource, per resource type. */
const REPLACE_ON: Record<string, string[]> = {
    // ip.Move updates in place (a new POST /ip/{ip}/move) and its delete does nothing: no entry.
    // /ip/{ip}/reverse has POST and DELETE, no PUT.
    "ovh:Ip/reverse:Reverse": ["ip", "ReverseIp", "ReverseValue"],
    "ovh:CloudProject/failoverIpAttach:FailoverIpAttach": ["serviceName", "ip"],
    // PUT /domain/zone/{zone}/record/{id} takes subDomain, target and ttl only.
    "ovh:Domain/zoneRecord:ZoneRecord": ["zone", "fieldtype"],
    "command:remote:Command": ["triggers", "connection"],
    "proxmoxve:index/containerLegacy:ContainerLegacy": ["nodeName", "vmId", "operatingSystem", "unprivileged"],
};

function replacingKeys(old: DeclaredResource, next: DeclaredResource, changed: string[]): string[] {
    // Our own provider answers for itself, with the function its diff uses.
    if (next.type === VIRTUAL_MAC_TYPE) {
        return changedKeys(old.inputs as unknown as VirtualMacOutputs, next.inputs as unknown as VirtualMacInputs);
    }
    const rule = REPLACE_ON[next.type] ?? [];
    return changed.filter((k) => rule.includes(k));
}

/** Paths that differ between two values: a.b, list[0], … in the form of pulumi's detailedDiff. */
export function diffPaths(a: unknown, b: unknown, prefix = ""): Record<string, "add" | "delete" | "update"> {
    if (JSON.stringify(a) === JSON.stringify(b)) return {};
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

function topKey(path: string): string {
    return path.split(/[.[]/)[0];
}

export function diffEvaluations(before: Evaluation, after: Evaluation): Step[] {
    const olds = new Map(before.resources.map((r) => [r.urn, r]));
    const steps: Step[] = [];
    for (const n of after.resources) {
        const o = olds.get(n.urn);
        olds.delete(n.urn);
        const base = { urn: n.urn, type: n.type, name: n.name, protect: n.protect, old: o, new: n };
        if (!o) {
            steps.push({ ...base, op: "create", diffs: [], detailedDiff: {} });
            continue;
        }
        const paths = diffPaths(o.inputs, n.inputs);
        const diffs = [...new Set(Object.keys(paths).map(topKey))].sort();
        if (diffs.length === 0) {
            steps.push({ ...base, op: "same", diffs, detailedDiff: {} });
            continue;
        }
        const replaces = replacingKeys(o, n, diffs);
        const detailedDiff: Record<string, PropertyDiff> = {};
        for (const [p, kind] of Object.entries(paths)) {
            detailedDiff[p] = { kind: replaces.includes(topKey(p)) ? `${kind}-replace` : kind } as PropertyDiff;
        }
        steps.push({ ...base, op: replaces.length > 0 ? "replace" : "update", diffs, detailedDiff });
    }
    // What is gone is deleted, children before their parents (the reverse of declaration order).
    for (const o of [...olds.values()].reverse()) {
        steps.push({ op: "delete", urn: o.urn, type: o.type, name: o.name, protect: o.protect, diffs: [], detailedDiff: {}, old: o });
    }
    return steps;
}

export function summarize(steps: Step[]): ChangeSummary {
    const s: ChangeSummary = { create: 0, update: 0, replace: 0, delete: 0, same: 0 };
    for (const step of steps) s[step.op]++;
    return s;
}
