// The DNS records of a service in OVH zones: A (and AAAA) records for the canonical names, CNAMEs
// for the aliases, so that an IP change touches only the address records. TTL DEFAULT_TTL by default.
// After the records of a zone change, a ZoneServes per zone proves that its name servers serve them.
import * as ovh from "@ovhcloud/pulumi-ovh";
import * as pulumi from "@pulumi/pulumi";
import { checked } from "../shared/checked";
import { APEX, canonicalName, findRecordConflicts, fqdn, parseRecordName, planRecords, recordName, RecordSpec, ServedRecord, servedByZone, ZoneNames, ZoneNamesArgs } from "./records";
import { TtlLowering } from "./ttlLowering";
import { DEFAULT_SERVES_WITHIN_SECONDS, ZoneServes } from "./zoneServes";
import { OvhApiProvider } from "../network/ovhApiProvider";
import { parseIpv6 } from "../shared/ipv6";
import { parseFqdn, parseLoweredTtl, parsePublicIpv4, parseServesWithin, parseTtl, parseZoneName } from "../shared/validate";

export interface ServiceRecordsArgs {
    /** The IP the A records hold. */
    ip: string;
    /** The IPv6 address the AAAA records hold, at the same names as the A records. */
    ip6?: string;
    /** The names per zone; "@" and "" are both the apex. Default: none. */
    zones?: ZoneNamesArgs[];
    /** Where the CNAMEs point; defaults to the first A name. */
    cnameTarget?: string;
    /** 0 (the zone's default) or at least 60; default DEFAULT_TTL (300). */
    ttl?: number;
    /**
     * While given, the records' TTL instead of ttl (below it), and a TtlLowering records since
     * when: the first step of an IP change (`ovh-failover change-ip`).
     */
    lowerTtl?: number;
    /**
     * Records that exist already, by resource name: `<recordId>.<zone>`, the id the OVH provider
     * imports a record by (terraform-provider-ovh ovh/resource_domain_zone_record.go, importer).
     */
    importIds?: Record<string, string>;
    /**
     * How long each zone's name servers have to serve the records once an `up` changed them, in
     * seconds (default DEFAULT_SERVES_WITHIN_SECONDS, 600); 0: no proof is declared.
     */
    servesWithinSeconds?: number;
    /**
     * The provider the proof asks OVH under (the zone's refresh and name servers), which carries
     * the OVH endpoint and credentials; share one between components. Default: one of the
     * records' own, from the stack's `ovh:` config.
     */
    ovhApi?: OvhApiProvider;
}

/** The name of a zone's proof that its name servers serve the records: `<component>-serves.<zone>`. */
export function zoneServesName(component: string, zone: string): string {
    return `${component}-serves.${zone}`;
}

/** The name of a record's resource: what an adopt file keys it by. */
export function recordResourceName(component: string, r: Pick<RecordSpec, "fieldtype" | "subdomain" | "zone">): string {
    const name = recordName(r.subdomain);
    return `${component}-${r.fieldtype}-${name === APEX ? "apex" : name}.${r.zone}`;
}

/** The records' TTL unless told otherwise (seed 002: a 4 h TTL made an IP change slow). */
export const DEFAULT_TTL = 300;

/** The zones as the library declares them: each zone and name checked, the apex as APEX however written. */
function checkedZones(self: pulumi.Resource, zones: ZoneNamesArgs[]): ZoneNames[] {
    return zones.map((z, i) => {
        const zone = checked(self, `zones[${i}].zone`, z.zone, parseZoneName);
        const names = (field: "a" | "cname") => (z[field] ?? []).map((n, j) => checked(self, `zones[${i}].${field}[${j}]`, n, (x) => parseRecordName(x, zone)));
        return { zone, a: names("a"), cname: names("cname") };
    });
}

export class ServiceRecords extends pulumi.ComponentResource {
    /** Fully qualified names of the A records. */
    readonly addressNames: string[];
    /** Fully qualified names of the CNAMEs. */
    readonly aliasNames: string[];
    readonly canonicalName?: string;
    readonly records: ovh.domain.ZoneRecord[];
    /** The A records: what makes the canonical names resolve to the IP (the reverse waits for them). */
    readonly addressRecords: ovh.domain.ZoneRecord[];
    /** Per zone, the proof that its name servers serve the records (none with servesWithinSeconds 0). */
    readonly served: ZoneServes[];
    /**
     * What a reverse of the IP waits for: OVH refuses a reverse whose name does not resolve to the
     * IP, so the A records, and the proof that their zones' servers serve them when there is one.
     */
    readonly reverseWaitsFor: pulumi.Resource[];
    /** Since when the records are at lowerTtl, when it is given. */
    readonly lowering?: TtlLowering;

    constructor(name: string, args: ServiceRecordsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("ovh-failover:dns:ServiceRecords", name, {}, opts);
        const ip = checked(this, "ip", args.ip, parsePublicIpv4);
        const ip6 = args.ip6 === undefined ? undefined : checked(this, "ip6", args.ip6, parseIpv6);
        const ttl = checked(this, "ttl", args.ttl ?? DEFAULT_TTL, parseTtl);
        const servesWithin = checked(this, "servesWithinSeconds", args.servesWithinSeconds ?? DEFAULT_SERVES_WITHIN_SECONDS, parseServesWithin);
        const lowerTtl = args.lowerTtl === undefined ? undefined : checked(this, "lowerTtl", args.lowerTtl, (x) => parseLoweredTtl(x, ttl));
        if (args.cnameTarget !== undefined) checked(this, "cnameTarget", args.cnameTarget, parseFqdn);
        const zones = checkedZones(this, args.zones ?? []);
        const names = { endpoint: name, zones, cnameTarget: args.cnameTarget };
        const conflicts = findRecordConflicts([names]);
        if (conflicts.length > 0) {
            throw new pulumi.ResourceError(conflicts.map((c) => `${c.key}: ${JSON.stringify(c.value)} is not valid: expected ${c.expected}`).join("\n"), this);
        }

        // dependsOn given to the component holds for every record: DNS moves after what it waits for.
        const dependsOn = opts?.dependsOn;
        const planned = planRecords(names, ip, lowerTtl ?? ttl, ip6);
        this.records = planned.map((r) => {
            const resourceName = recordResourceName(name, r);
            return new ovh.domain.ZoneRecord(
                resourceName,
                { zone: r.zone, subdomain: r.subdomain, fieldtype: r.fieldtype, target: r.target, ttl: r.ttl },
                { parent: this, dependsOn, import: args.importIds?.[resourceName] },
            );
        });
        this.addressRecords = this.records.filter((_, i) => planned[i].fieldtype === "A");
        // While lowered, the proof asks for the lowered TTL too: the lowering counts from when it is served.
        const byZone = servesWithin === 0 ? new Map<string, ServedRecord[]>() : servedByZone(planned, lowerTtl !== undefined);
        const ovhApi = byZone.size === 0 ? undefined : args.ovhApi ?? new OvhApiProvider(`${name}-ovh-api`, {}, { parent: this });
        const proofs = [...byZone].map(([zone, expected]) => ({
            zone,
            proof: new ZoneServes(zoneServesName(name, zone), { zone, expected, withinSeconds: servesWithin }, {
                parent: this,
                provider: ovhApi,
                // After every record of its zone: the proof asks for what they hold once applied.
                dependsOn: this.records.filter((_, i) => planned[i].zone === zone),
            }),
        }));
        this.served = proofs.map((p) => p.proof);
        const addressZones = new Set(planned.filter((r) => r.fieldtype === "A").map((r) => r.zone));
        this.reverseWaitsFor = [...this.addressRecords, ...proofs.filter((p) => addressZones.has(p.zone)).map((p) => p.proof)];
        if (lowerTtl !== undefined && planned.length > 0) {
            this.lowering = new TtlLowering(`${name}-ttl-lowering`, {
                records: planned.map((r) => `${fqdn(r.subdomain, r.zone)} ${r.fieldtype}`),
                fromTtl: ttl,
                toTtl: lowerTtl,
            }, { parent: this, dependsOn: [...this.records, ...this.served] });
        }
        this.addressNames = zones.flatMap((z) => z.a.map((n) => fqdn(n, z.zone)));
        this.aliasNames = zones.flatMap((z) => z.cname.map((n) => fqdn(n, z.zone)));
        this.canonicalName = canonicalName(names);
        this.registerOutputs({ addressNames: this.addressNames, aliasNames: this.aliasNames });
    }
}

/**
 * The A records an endpoint will declare, for a reverse declared before them: OVH refuses a
 * reverse whose name does not resolve to the IP, so it waits for them. Should anything in between
 * throw, `failed` makes the reverse's registration fail too instead of waiting for ever.
 */
export function pendingAddressRecords(): { records: Promise<pulumi.Resource[]>; declared(records: pulumi.Resource[]): void; failed(err: unknown): void } {
    let declared: (records: pulumi.Resource[]) => void = () => undefined;
    let failed: (err: unknown) => void = () => undefined;
    const records = new Promise<pulumi.Resource[]>((resolve, reject) => {
        declared = resolve;
        failed = reject;
    });
    return { records, declared, failed };
}
