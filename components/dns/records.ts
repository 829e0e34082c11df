// The record plan: which DNS records an endpoint needs. Canonical names get A records holding the
// IP, and AAAA records holding the IPv6 address when the endpoint has one; every alias is a CNAME to the endpoint's canonical name, so an IP change touches only the
// A records (seed 000: "we only changed proxy1 and the apex, because the others are CNAMEs").
import { ConfigValueError, DNS_LABEL, keyPath } from "../shared/validate";

export interface ZoneNames {
    /** The zone apex, e.g. example.org. */
    zone: string;
    /** Names that get an A record; "@" (or "") is the apex. */
    a: string[];
    /** Names that get a CNAME to the canonical name. Never the apex. */
    cname: string[];
}

/** The names of one zone as a program gives them: either list may be left out. */
export interface ZoneNamesArgs {
    /** The zone apex, e.g. example.org. */
    zone: string;
    /** Names that get an A record (and AAAA with ip6); "@" (or "") is the apex. */
    a?: string[];
    /** Names that get a CNAME to the canonical name. Never the apex. */
    cname?: string[];
}

/**
 * The apex as the records hold it: the OVH API's subdomain "" (a stack file writes "@", which is
 * also what DNS zone files write). Every name is read through recordName, once, where it enters the
 * dns domain (parseRecordName, ServiceRecords), so that "@" and "" give the same records.
 */
export const APEX = "";

/** A name relative to its zone with the apex as APEX, whichever way it was written. */
export function recordName(name: string): string {
    return name === "@" ? APEX : name;
}

/** A record name relative to its zone: "@" (or "") for the apex, "www", "*.dev", … lower-cased. */
export function parseRecordName(value: unknown, zone: string): string {
    if (typeof value !== "string") throw new ConfigValueError(`a name relative to ${zone}, or "@" for the apex`);
    const name = recordName(value).toLowerCase();
    if (name === APEX) return APEX;
    if (name.endsWith(".")) {
        throw new ConfigValueError(`a name relative to ${zone} (write "www", not "www.${zone}.")`);
    }
    // Written whole, the zone would come twice: www.example.org.example.org.
    if (name === zone) throw new ConfigValueError(`a name relative to ${zone}: "@" for the apex, not "${zone}"`);
    if (name.endsWith(`.${zone}`)) {
        throw new ConfigValueError(`a name relative to ${zone}: "${name.slice(0, -zone.length - 1)}", not "${name}" (that would be ${name}.${zone})`);
    }
    const labels = name.split(".");
    const ok = labels.every((l, i) => DNS_LABEL.test(l) || (l === "*" && i === 0));
    if (!ok) {
        throw new ConfigValueError(`a DNS name relative to ${zone}: labels of letters, digits and '-', 1 to 63 characters each ("*" only as the first label)`);
    }
    if (`${name}.${zone}`.length > 253) {
        throw new ConfigValueError(`a name whose full form ${name}.${zone} is at most 253 characters`);
    }
    return name;
}

export interface EndpointNames {
    endpoint: string;
    zones: ZoneNames[];
    /** Where CNAMEs point, an FQDN with its trailing dot; defaults to the first A name. */
    cnameTarget?: string;
}

export type RecordType = "A" | "AAAA" | "CNAME";

export interface RecordSpec {
    zone: string;
    /** Relative to the zone; APEX ("") is the apex. */
    subdomain: string;
    fieldtype: RecordType;
    target: string;
    ttl: number;
}

export function fqdn(subdomain: string, zone: string): string {
    const name = recordName(subdomain);
    return name === APEX ? `${zone}.` : `${name}.${zone}.`;
}

/** The name the endpoint's CNAMEs point at: cnameTarget, else the first A name of the first zone with one. */
export function canonicalName(names: EndpointNames): string | undefined {
    if (names.cnameTarget) return names.cnameTarget;
    const first = names.zones.find((z) => z.a.length > 0);
    return first ? fqdn(first.a[0], first.zone) : undefined;
}

/**
 * A stack's records map has no first zone: Pulumi hands a program a structured config value with
 * its object keys sorted (a Go map, written by encoding/json: pulumi/pulumi
 * sdk/go/common/resource/config/plaintext.go), not in the stack file's order. An endpoint of the
 * stack with CNAMEs and A names in several zones must say where the CNAMEs point.
 */
export function unsaidCnameTargets(endpoints: EndpointNames[]): RecordConflict[] {
    return endpoints.flatMap((ep) => {
        const zonesWithA = ep.zones.filter((z) => z.a.length > 0);
        if (ep.cnameTarget || zonesWithA.length < 2 || !ep.zones.some((z) => z.cname.length > 0)) return [];
        return [{
            key: keyPath("endpoints", ep.endpoint, "cnameTarget"),
            value: "(missing)",
            expected: `the name the CNAMEs point at, e.g. ${fqdn(zonesWithA[0].a[0], zonesWithA[0].zone)}: A names are in ${zonesWithA.map((z) => z.zone).join(" and ")}, and Pulumi hands the program the records map with its zones sorted, so no zone is the first`,
        }];
    });
}

/** The records of an endpoint: per zone, its A records, then AAAA (with ip6), then CNAMEs. */
export function planRecords(names: EndpointNames, ip: string, ttl: number, ip6?: string): RecordSpec[] {
    const target = canonicalName(names);
    const records: RecordSpec[] = [];
    for (const z of names.zones) {
        for (const subdomain of z.a) records.push({ zone: z.zone, subdomain, fieldtype: "A", target: ip, ttl });
        if (ip6) for (const subdomain of z.a) records.push({ zone: z.zone, subdomain, fieldtype: "AAAA", target: ip6, ttl });
        for (const subdomain of z.cname) {
            if (target === undefined) throw new Error(`endpoint ${names.endpoint} has CNAMEs but no canonical name`);
            records.push({ zone: z.zone, subdomain, fieldtype: "CNAME", target, ttl });
        }
    }
    return records;
}

export interface RecordConflict {
    /** The config key of the offending name. */
    key: string;
    value: string;
    expected: string;
}

/**
 * Rules a zone must keep across all endpoints of a stack: no CNAME at the apex (RFC 1034 §3.6.2
 * forbids a CNAME beside the apex's SOA and NS), no name that is a CNAME and anything else, no
 * record declared twice, and CNAMEs that point somewhere.
 */
export function findRecordConflicts(endpoints: EndpointNames[]): RecordConflict[] {
    const conflicts: RecordConflict[] = [];
    const seen = new Map<string, { type: RecordType; key: string }>();
    for (const ep of endpoints) {
        const hasCname = ep.zones.some((z) => z.cname.length > 0);
        if (hasCname && canonicalName(ep) === undefined) {
            conflicts.push({
                key: keyPath("endpoints", ep.endpoint, "records"),
                value: "(no A record)",
                expected: "at least one A name, or cnameTarget, for the CNAMEs to point at",
            });
        }
        for (const z of ep.zones) {
            const entries: [RecordType, string[]][] = [["A", z.a], ["CNAME", z.cname]];
            for (const [type, list] of entries) {
                list.forEach((name, i) => {
                    const key = keyPath("endpoints", ep.endpoint, "records", z.zone, type === "A" ? "a" : "cname", i);
                    const shown = recordName(name) === APEX ? "@" : name;
                    if (type === "CNAME" && recordName(name) === APEX) {
                        conflicts.push({ key, value: shown, expected: `not the apex of ${z.zone}: a CNAME cannot sit at a zone apex; make it an A record` });
                        return;
                    }
                    const id = fqdn(name, z.zone);
                    if (type === "CNAME" && id === ep.cnameTarget) {
                        conflicts.push({ key, value: shown, expected: `a name other than where the CNAMEs point (${keyPath("endpoints", ep.endpoint, "cnameTarget")} is ${ep.cnameTarget}): a CNAME to itself resolves nowhere` });
                        return;
                    }
                    const previous = seen.get(id);
                    if (previous === undefined) {
                        seen.set(id, { type, key });
                    } else if (previous.type !== type) {
                        conflicts.push({ key, value: shown, expected: `a name that is not also ${previous.type === "A" ? "an A record" : "a CNAME"} (${previous.key}): a CNAME cannot coexist with other records` });
                    } else {
                        conflicts.push({ key, value: shown, expected: `a name declared once (it is already at ${previous.key})` });
                    }
                });
            }
        }
    }
    return conflicts;
}

/** One name and type a zone must serve once its records are applied, with every value of it. */
export interface ServedRecord {
    /** Fully qualified, with its trailing dot. */
    name: string;
    type: RecordType;
    values: string[];
    /** A and AAAA, with `withTtl`: their TTL, which must be served too. */
    ttl?: number;
}

/**
 * What each zone's name servers must answer once the records are applied, zone by zone: every
 * name and type the records declare, with all their values. A name the records no longer declare
 * is not asked for: its record is deleted after the new ones are proven (the engine runs deletes
 * last), so its absence cannot be proven in the same `up`. `withTtl`: the address records' TTL
 * must be served too (while a lowering is in effect, so that it counts from when it is served).
 */
export function servedByZone(records: RecordSpec[], withTtl = false): Map<string, ServedRecord[]> {
    const zones = new Map<string, Map<string, ServedRecord>>();
    for (const r of records) {
        const zone = zones.get(r.zone) ?? new Map<string, ServedRecord>();
        zones.set(r.zone, zone);
        const name = fqdn(r.subdomain, r.zone);
        const key = `${name} ${r.fieldtype}`;
        const served: ServedRecord = zone.get(key) ?? (withTtl && r.fieldtype !== "CNAME" ? { name, type: r.fieldtype, values: [], ttl: r.ttl } : { name, type: r.fieldtype, values: [] });
        zone.set(key, served);
        if (!served.values.includes(r.target)) served.values.push(r.target);
    }
    return new Map([...zones].map(([zone, byKey]) => [zone, [...byKey.values()]]));
}
