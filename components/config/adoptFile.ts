// The adopt file, `stacks/<stack>.adopt.yaml`: what `ovh-failover adopt` found live, and the ids Pulumi
// imports the records by. The program passes each id as the `import` option while the record is
// the one that was found (same zone, name and type).
//
// What the engine does with `import` (pulumi/pulumi pkg/resource/deploy/step_generator.go): a
// resource not in the state is imported, then updated where the program differs (since v3.174,
// #19339); one in the state whose import id (or, never imported, whose own id) is the same is
// diffed as usual; any other is import-replaced, and the old one deleted. A record Pulumi created
// has its own id, `<recordId>`, never `<recordId>.<zone>`: so adopt writes ids only for records
// that are not in the state (it reads `pulumi stack export`), and the file can then stay in the
// repository: the first `up` adopts, later ones are unaffected, an `up` after a lost state adopts
// again.
import * as YAML from "yaml";
import { planRecords } from "../dns/records";
import { recordResourceName } from "../dns/serviceRecords";
import { ConfigValueError } from "../shared/validate";
import type { EndpointSpec } from "./stackConfig";

export const ADOPT_FILE_VERSION = 1;

/** A resource found live, with the id its provider imports it by and its live inputs. */
export interface AdoptedResource {
    type: string;
    id: string;
    /** The live object in the provider's input names, as the stack would write it. */
    live: Record<string, unknown>;
    /** For a record of TTL 0: the zone's default TTL (its SOA's), what resolvers are told. */
    effectiveTtl?: number;
}

/** What the stack's own providers adopt without an import: recorded for the plan and the review. */
export type ObservedObject = Record<string, unknown>;

export interface AdoptFile {
    version: number;
    resources: Record<string, AdoptedResource>;
    observed: Record<string, ObservedObject>;
}

export function parseAdoptFile(text: string, origin: string): AdoptFile {
    const bad = (what: string) => new ConfigValueError(`${origin}: ${what} (write it again with ovh-failover adopt)`);
    let doc: Partial<AdoptFile> | null;
    try {
        doc = YAML.parse(text) as Partial<AdoptFile> | null;
    } catch (err) {
        if (!(err instanceof YAML.YAMLError)) throw err;
        throw bad(`not valid YAML: ${err.message.trim()}`);
    }
    if (!doc || doc.version !== ADOPT_FILE_VERSION) throw bad(`not an adopt file of version ${ADOPT_FILE_VERSION}`);
    const resources = doc.resources ?? {};
    for (const [name, r] of Object.entries(resources)) {
        if (typeof r?.type !== "string" || typeof r.id !== "string" || r.id === "" || typeof r.live !== "object" || r.live === null) throw bad(`resources.${name} needs a type, an id and live values`);
    }
    return { version: doc.version, resources, observed: doc.observed ?? {} };
}

export function renderAdoptFile(file: AdoptFile, header: string): string {
    return `${header.split("\n").map((l) => `# ${l}`.trimEnd()).join("\n")}\n${YAML.stringify(file, { lineWidth: 0 })}`;
}

/**
 * The import ids that still name this endpoint's records, by resource name: a record of the same
 * zone, name and type. Only records are imported: the routing and the reverse are created over
 * what is there (see failoverIp.ts), the virtual MAC and the NIC are adopted by their own steps.
 */
export function importIdsFor(e: Pick<EndpointSpec, "name" | "records" | "cnameTarget" | "ip" | "ttl" | "ip6">, names: { records: string }, adopt: AdoptFile | undefined): Record<string, string> {
    const ids: Record<string, string> = {};
    if (!adopt) return ids;
    for (const r of planRecords({ endpoint: e.name, zones: e.records, cnameTarget: e.cnameTarget }, e.ip, e.ttl, e.ip6)) {
        const name = recordResourceName(names.records, r);
        const found = adopt.resources[name];
        if (found?.type === "ovh:Domain/zoneRecord:ZoneRecord" && found.live.zone === r.zone && found.live.subdomain === r.subdomain && found.live.fieldtype === r.fieldtype) {
            ids[name] = found.id;
        }
    }
    return ids;
}

/**
 * The import id of a vRack block's routing (`<block>-block-routing`), when adopt found it in its
 * vRack: `<vRack service name>,<block>` (terraform-provider-ovh ovh/resource_vrack_ip.go,
 * resourceVrackIpImportState). A block routed to a server is not imported: an ip.Move to where the
 * block is routed already changes nothing (components/network/failoverIp.ts).
 */
export function vrackBlockImportIdFor(name: string, block: string, adopt: AdoptFile | undefined): string | undefined {
    const found = adopt?.resources[`${name}-block-routing`];
    if (found?.type !== "ovh:Vrack/ipAddress:IpAddress") return undefined;
    return (found.live.ip ?? found.live.block) === block ? found.id : undefined;
}
