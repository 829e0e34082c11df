// The adopt file, `stacks/<stack>.adopt.yaml`: what `npm run adopt` found live, and the ids Pulumi
// imports it by. The program passes each id as the `import` option only while the resource is the
// one that was found (same zone, name and type; same IP): the file can stay in the repository.
//
// What the engine does with `import` (pulumi/pulumi pkg/resource/deploy/step_generator.go): a
// resource not in the state is imported, then updated where the program differs (since v3.174,
// #19339); one in the state under the same id is diffed as usual; one under another id is
// import-replaced. So the first `up` adopts, later ones are unaffected, and an `up` after a lost
// state adopts again.
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
}

/** What the stack's own providers adopt without an import: recorded for the plan and the review. */
export type ObservedObject = Record<string, unknown>;

export interface AdoptFile {
    version: number;
    resources: Record<string, AdoptedResource>;
    observed: Record<string, ObservedObject>;
}

export function parseAdoptFile(text: string, origin: string): AdoptFile {
    const doc = YAML.parse(text) as Partial<AdoptFile> | null;
    const bad = (what: string) => new ConfigValueError(`${origin}: ${what} (write it again with npm run adopt)`);
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
 * The import ids that still name this endpoint's resources, by resource name: a record of the
 * same zone, name and type; the routing and the reverse of the same IP.
 */
export function importIdsFor(e: EndpointSpec, names: { routing: string; reverse: string; records: string }, adopt: AdoptFile | undefined): Record<string, string> {
    const ids: Record<string, string> = {};
    if (!adopt) return ids;
    const block = `${e.ip}/32`;
    const routing = adopt.resources[names.routing];
    if (routing?.type === "ovh:Ip/move:Move" && routing.live.ip === block) ids[names.routing] = routing.id;
    const reverse = adopt.resources[names.reverse];
    if (reverse?.type === "ovh:Ip/reverse:Reverse" && reverse.live.ip === block && reverse.live.ReverseIp === e.ip) ids[names.reverse] = reverse.id;
    for (const r of planRecords({ endpoint: e.name, zones: e.records, cnameTarget: e.cnameTarget }, e.ip, e.ttl)) {
        const name = recordResourceName(names.records, r);
        const found = adopt.resources[name];
        if (found?.type === "ovh:Domain/zoneRecord:ZoneRecord" && found.live.zone === r.zone && found.live.subdomain === r.subdomain && found.live.fieldtype === r.fieldtype) {
            ids[name] = found.id;
        }
    }
    return ids;
}
