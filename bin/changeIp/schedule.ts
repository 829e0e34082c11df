// The order of an IP change that resolvers follow at once (seed 002: a 4 h TTL made one take
// hours): lower the TTL of the address records that will change, wait one old TTL, change, prove
// DNS serves it (each zone's ZoneServes, in the same up), restore the TTL. Pure: which endpoints a
// change reaches, and where a run stands, from the stack file and the stack's outputs.
import type { StackSpec } from "../../components/config/stackConfig";
import { fqdn, planRecords, ZoneNames } from "../../components/dns/records";

/** An endpoint whose A or AAAA records change. */
export interface ChangingEndpoint {
    endpoint: string;
    /** The records whose target changes, `<name> <type>`. */
    records: string[];
    /** Their TTL, the one resolvers may have cached the old target at. */
    ttl: number;
    /** The lowered TTL the stack file holds already (a run under way), if any. */
    lowerTtl?: number;
}

interface EndpointRecords {
    name: string;
    ip: string;
    ip6?: string;
    records: ZoneNames[];
    cnameTarget?: string;
    ttl: number;
    lowerTtl?: number;
}

function endpointsOf(spec: StackSpec): Map<string, EndpointRecords> {
    return new Map([...spec.endpoints, ...spec.cloudEndpoints].map((e) => [e.name, { ...e, ip6: "ip6" in e ? e.ip6 : undefined }]));
}

function addressTargets(e: EndpointRecords): Map<string, string> {
    const planned = planRecords({ endpoint: e.name, zones: e.records, cnameTarget: e.cnameTarget }, e.ip, e.ttl, e.ip6);
    return new Map(planned.filter((r) => r.fieldtype !== "CNAME").map((r) => [`${fqdn(r.subdomain, r.zone)} ${r.fieldtype}`, r.target]));
}

/** The endpoints whose address records point elsewhere after the change than before it. */
export function changingEndpoints(before: StackSpec, after: StackSpec): ChangingEndpoint[] {
    const olds = endpointsOf(before);
    const changing: ChangingEndpoint[] = [];
    for (const [name, next] of endpointsOf(after)) {
        const old = olds.get(name);
        if (!old) continue;
        const was = addressTargets(old);
        const records = [...addressTargets(next)].filter(([key, target]) => was.has(key) && was.get(key) !== target).map(([key]) => key);
        if (records.length > 0) changing.push({ endpoint: name, records, ttl: old.ttl, lowerTtl: old.lowerTtl });
    }
    return changing;
}

/** What the stack's outputs say of a lowering (endpoints.<e>.ttlLowering or cloudEndpoints.<e>.ttlLowering). */
export interface LoweringOutput {
    loweredAt: string;
    safeAt: string;
    fromTtl: number;
    toTtl: number;
}

export type Step =
    | { step: "lower"; endpoints: string[]; ttl: Record<string, number> }
    | { step: "wait"; until: string }
    | { step: "change" }
    | { step: "restore"; endpoints: string[] };

/**
 * What is left to do, in order. An endpoint whose lowering the outputs hold is lowered already (a
 * run interrupted while waiting resumes there); one the stack file lowers but the outputs do not
 * (an `up` that failed) is lowered again.
 */
export function remainingSteps(changing: ChangingEndpoint[], lowerings: Record<string, LoweringOutput | undefined>, lowerTo: number, now: Date, stillLowered: string[] = []): Step[] {
    // The stack file holds the change already (a run stopped, or an up that failed, after it was
    // set): the restore's up applies it, if it is not, and restores the TTL.
    if (changing.length === 0) return stillLowered.length > 0 ? [{ step: "restore", endpoints: stillLowered }] : [];
    const unknown = changing.filter((c) => c.ttl === 0);
    if (unknown.length > 0) {
        throw new Error(`${unknown.map((c) => `endpoints.${c.endpoint}`).join(", ")}: the records' TTL is the zone's default (ttl 0), unknown here, so no wait can be computed: set their ttl to the zone's TTL (its SOA's) first, and let an up apply it`);
    }
    // At OVH's lowest TTL already: nothing to lower, resolvers let go within it.
    const lowerable = changing.filter((c) => c.ttl > 60);
    const toLower = lowerable.filter((c) => lowerings[c.endpoint] === undefined);
    const steps: Step[] = [];
    if (toLower.length > 0) steps.push({ step: "lower", endpoints: toLower.map((c) => c.endpoint), ttl: Object.fromEntries(toLower.map((c) => [c.endpoint, Math.max(60, Math.min(lowerTo, c.ttl - 1))])) });
    // Lowered now, it is safe one old TTL from now; lowered earlier, when the outputs say.
    const safeAt = Math.max(now.getTime(), ...lowerable.map((c) => (lowerings[c.endpoint] ? Date.parse(lowerings[c.endpoint]!.safeAt) : now.getTime() + c.ttl * 1000)));
    if (safeAt > now.getTime()) steps.push({ step: "wait", until: new Date(safeAt).toISOString() });
    steps.push({ step: "change" });
    const lowered = [...new Set([...lowerable.map((c) => c.endpoint), ...stillLowered])];
    if (lowered.length > 0) steps.push({ step: "restore", endpoints: lowered });
    return steps;
}

/** The schedule as --dry-run prints it. */
export function renderSchedule(changing: ChangingEndpoint[], steps: Step[], sets: string[]): string {
    if (steps.length === 0) return "no address record changes: nothing to schedule (a plain pulumi up applies the change)\n";
    const lines = changing.length > 0 ? ["records whose address changes:"] : ["the stack file holds the change (its up may not have finished); the records are still lowered:"];
    for (const c of changing) lines.push(`  ${c.endpoint}: ${c.records.join(", ")} (TTL ${c.ttl} s)`);
    lines.push("steps:");
    steps.forEach((s, i) => {
        const n = `  ${i + 1}.`;
        if (s.step === "lower") lines.push(`${n} lower: set ${s.endpoints.map((e) => `endpoints.${e}.lowerTtl=${s.ttl[e]}`).join(", ")}, pulumi up`);
        if (s.step === "wait") lines.push(`${n} wait until ${s.until} (one old TTL after the lowered records were applied; a run stopped here resumes here)`);
        if (s.step === "change") lines.push(`${n} change: set ${sets.join(", ")}, pulumi up (each zone's name servers proven to serve the new records)`);
        if (s.step === "restore") lines.push(`${n} restore: remove ${s.endpoints.map((e) => `endpoints.${e}.lowerTtl`).join(", ")}, pulumi up`);
    });
    return `${lines.join("\n")}\n`;
}
