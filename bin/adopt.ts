// Bring what already exists into the stack: for every resource a stack declares, find the live
// object (OVH API, Proxmox hosts) and write the ids Pulumi imports it by into
// stacks/<stack>.adopt.yaml, which index.ts reads. Usage:
//
//   ovh-failover adopt <stack> [--output <file>] [--skip-hosts]
//
// With the same OVH credentials as `pulumi up` (OVH_ENDPOINT, OVH_APPLICATION_KEY, …) and the
// system's ssh for the Proxmox hosts. It prints, per resource, what was found, its id, and what
// `pulumi up` will do with it; a name found twice is reported, never guessed. Exit 0 when the
// file is written, 1 when something needs a decision first (a record found twice), 2 on a usage,
// credentials or API error.
import * as fs from "fs";
import * as path from "path";
import { AdoptFile, ADOPT_FILE_VERSION, renderAdoptFile } from "../components/config/adoptFile";
import { keyPath } from "../components/shared/validate";
import type { CloudEndpointSpec, EndpointSpec, IpBlockSpec, StackSpec } from "../components/config/stackConfig";
import { blockText } from "../components/network/blocks";
import { fqdn, planRecords, RecordSpec } from "../components/dns/records";
import { recordResourceName } from "../components/dns/serviceRecords";
import { DEFAULT_RETRY, OvhApi, OvhApiError, ovhClientOptionsFromEnv, route } from "../components/network/ovhApiClient";
import { findMacForIp } from "../components/network/virtualMacProvider";
import { SLOW_TTL } from "./plan/diff";
import { parseNetValue } from "../components/proxmox/pct";
import { endpointResourceNames } from "../components/publicEndpoint";
import { parseCommandLine, projectDir, UsageError } from "./cli";
import { readFlagJson } from "./inputFiles";
import { expectedNic, netLine } from "./drift";
import { blockOf, cloudFailoverIp, enclosingBlock, routedToOf, stackBlockOf, vrackIpOf } from "./layoutLive";
import { runOnHost, sshCommand, stackSpec } from "./hostShell";
import { loadProject } from "./plan/stackFiles";

export const USAGE = "usage: ovh-failover adopt <stack> (--state <pulumi stack export file> | --no-state) [--output <file>] [--stack-file <file>] [--skip-hosts]";

/** What `pulumi up` will do with a resource once the adopt file is in place. */
export type AdoptAction = "import" | "leave" | "update" | "create" | "conflict" | "replace" | "adopt" | "merge";

export interface AdoptRow {
    resource: string;
    found: string;
    id?: string;
    action: AdoptAction;
    /** The fields that differ (target, ttl, …), old → new, or why it is a conflict. */
    detail?: string;
}

export interface AdoptResult {
    file: AdoptFile;
    rows: AdoptRow[];
    /** Records whose live TTL is above the stack's: an IP change waits that long in resolvers. */
    ttlWarnings: string[];
}

/** The host side: netN of a container, or undefined when it has none; throws when the host cannot be read. */
export type NicReader = (e: EndpointSpec) => Promise<string | undefined>;

interface LiveRecord {
    id: number;
    zone: string;
    subDomain: string | null;
    fieldType: string;
    target: string;
    ttl: number | null;
}

/** The zone's default TTL (its SOA's), which a record of TTL 0 gets. */
async function zoneDefaultTtl(api: OvhApi, zone: string, cache: Map<string, number>): Promise<number> {
    if (!cache.has(zone)) cache.set(zone, (await api.request<{ ttl: number }>("GET", route("/domain/zone/{zoneName}/soa", { zoneName: zone }))).ttl);
    return cache.get(zone)!;
}

/**
 * The records of one name, all types. The API's subDomain filter is ilike (domain.json: "Filter
 * the value of subDomain property (ilike)"): case ignored, '_' a wildcard; only an exact match is
 * the name.
 */
async function recordsNamed(api: OvhApi, zone: string, subdomain: string): Promise<LiveRecord[]> {
    let ids: number[];
    try {
        ids = await api.request<number[]>("GET", `${route("/domain/zone/{zoneName}/record", { zoneName: zone })}?subDomain=${encodeURIComponent(subdomain)}`);
    } catch (err) {
        if (err instanceof OvhApiError && err.status === 404) throw new Error(`zone ${zone} is not in this OVH account (${err.message})`, { cause: err });
        throw err;
    }
    const live = await Promise.all(ids.map((id) => api.request<LiveRecord>("GET", route("/domain/zone/{zoneName}/record/{id}", { zoneName: zone, id }))));
    return live.filter((l) => (l.subDomain ?? "") === subdomain);
}

async function adoptRecord(api: OvhApi, component: string, r: RecordSpec, inState: (name: string) => boolean, defaults: Map<string, number>, result: AdoptResult): Promise<void> {
    const name = recordResourceName(component, r);
    const where = `${r.fieldtype} ${fqdn(r.subdomain, r.zone)}`;
    const all = await recordsNamed(api, r.zone, r.subdomain);
    // A CNAME cannot share its name (RFC 1034 §3.6.2): one the stack wants beside anything, or
    // an A the stack wants beside a live CNAME, is a decision for a person.
    const clashing = all.filter((l) => l.fieldType !== r.fieldtype && (r.fieldtype === "CNAME" || l.fieldType === "CNAME"));
    const live = all.filter((l) => l.fieldType === r.fieldtype);
    const show = (l: LiveRecord) => `${l.fieldType} ${l.target} (id ${l.id}, ttl ${l.ttl ?? 0})`;
    if (clashing.length > 0 || live.length > 1) {
        result.rows.push({
            resource: name,
            found: `${all.length} records named ${fqdn(r.subdomain, r.zone)}`,
            action: "conflict",
            detail: `zone ${r.zone}, name ${r.subdomain || "@"}: ${[...live, ...clashing].map(show).join(" and ")}; the stack wants ${r.fieldtype} ${r.target} alone${live.length > 1 ? "" : " (a CNAME shares its name with nothing)"}: delete what should not be there, then run adopt again`,
        });
        return;
    }
    if (live.length === 0) {
        result.rows.push({ resource: name, found: `no ${where}`, action: "create" });
        return;
    }
    const [one] = live;
    const ttl = one.ttl ?? 0;
    const effectiveTtl = ttl === 0 ? await zoneDefaultTtl(api, r.zone, defaults) : ttl;
    const id = `${one.id}.${r.zone}`;
    // Compared as the provider compares them: exactly (only TXT quoting is forgiven there).
    const changes = [...(one.target === r.target ? [] : [`target: ${one.target} → ${r.target}`]), ...(ttl === r.ttl ? [] : [`ttl: ${ttl} → ${r.ttl}`])];
    if (effectiveTtl > SLOW_TTL && r.ttl !== 0 && effectiveTtl > r.ttl) {
        result.ttlWarnings.push(`${where}: TTL ${effectiveTtl} s${ttl === 0 ? " (the zone's default)" : ""} is above the stack's ${r.ttl} s; the first up lowers it: wait ${effectiveTtl} s after it before an IP change`);
    }
    if (inState(name)) {
        result.rows.push({ resource: name, found: `${where} ${one.target} ttl ${ttl}`, action: "leave", detail: "in the state already: no import id written" });
        return;
    }
    result.file.resources[name] = {
        type: "ovh:Domain/zoneRecord:ZoneRecord",
        id,
        live: { zone: r.zone, subdomain: one.subDomain ?? "", fieldtype: one.fieldType, target: one.target, ttl },
        ...(ttl === 0 ? { effectiveTtl } : {}),
    };
    result.rows.push({ resource: name, found: `${where} ${one.target} ttl ${ttl}`, id, action: changes.length ? "update" : "import", detail: changes.join(", ") || undefined });
}

/** The reverse of an IP, read under the block the /ip routes take for it (its own /32, or its block). */
async function adoptReverse(api: OvhApi, name: string, ip: string, block: string, wanted: string | undefined, result: AdoptResult): Promise<void> {
    // The reverse is not imported (see failoverIp.ts): the create's POST sets it over what is there.
    if (!wanted) return;
    const reverses = await api.request<string[]>("GET", route("/ip/{ip}/reverse", { ip: block }));
    if (!reverses.includes(ip)) {
        result.rows.push({ resource: name, found: `no reverse for ${ip}`, action: "create" });
        return;
    }
    const live = await api.request<{ ipReverse: string; reverse: string }>("GET", route("/ip/{ip}/reverse/{ipReverse}", { ip: block, ipReverse: ip }));
    result.file.observed[name] = { ipReverse: ip, reverse: live.reverse };
    result.rows.push({ resource: name, found: `reverse ${live.reverse}`, action: "replace", detail: live.reverse === wanted ? "the same value" : `${live.reverse} → ${wanted}` });
}

const VRACK_IP = "ovh:Vrack/ipAddress:IpAddress";

/**
 * A block of ipBlocks, once for all its endpoints: its routing belongs to the IpBlock resource
 * `<name>-block-routing`. A vRack block's is imported: it cannot be added to the vRack it is in
 * (POST /vrack/{sn}/ip), and ovh_vrack_ip's importer takes `<serviceName>,<block>`
 * (terraform-provider-ovh v2.19.0 resource_vrack_ip.go, resourceVrackIpImportState). A block routed
 * to a server is not, like a lone IP's routing.
 */
async function adoptBlock(api: OvhApi, spec: StackSpec, b: IpBlockSpec, inState: (name: string) => boolean, result: AdoptResult): Promise<void> {
    const name = `${b.name}-block-routing`;
    const block = blockText(b.block);
    const held = await enclosingBlock(api, block);
    if (held === undefined) throw new Error(`${keyPath("ipBlocks", b.name, "block")}: ${block} is not in this OVH account: the stack routes blocks you rent, it does not order them`);
    if (held !== block) throw new Error(`${keyPath("ipBlocks", b.name, "block")}: ${block}, but OVH holds it as ${held}; write the block as OVH holds it (OVH moves whole blocks only)`);
    const routedTo = (await routedToOf(api, block)) ?? null;
    const write = (type: string, id: string, live: Record<string, unknown>) => {
        if (!inState(name)) result.file.resources[name] = { type, id, live };
    };
    const leaving = inState(name) ? { action: "leave" as const, detail: "in the state already: no import id written" } : undefined;
    if (b.vrack !== undefined) {
        const vrack = spec.vracks.get(b.vrack)!;
        const inVrack = await vrackIpOf(api, vrack.serviceName, block);
        if (inVrack) {
            const id = `${vrack.serviceName},${block}`;
            write(VRACK_IP, id, { serviceName: vrack.serviceName, block, ...(b.region && inVrack.region ? { region: inVrack.region } : {}) });
            const regionDiffers = b.region !== undefined && inVrack.region !== undefined && inVrack.region !== b.region;
            result.rows.push({
                resource: name, found: `${block} in the vRack ${vrack.serviceName}${inVrack.region ? ` (${inVrack.region})` : ""}`, ...(leaving ? {} : { id }),
                ...(leaving ?? (regionDiffers
                    ? { action: "conflict" as const, detail: `announced in ${inVrack.region}, ${keyPath("ipBlocks", b.name, "region")} says ${b.region}: the region cannot change in place (the first up would take the block out of the vRack and add it again); set it to ${inVrack.region}` }
                    : { action: "import" as const })),
            });
            return;
        }
        result.rows.push(routedTo?.startsWith("pn-")
            ? { resource: name, found: `${block} in the vRack ${routedTo}`, action: "conflict", detail: `the stack adds it to ${vrack.serviceName} (${keyPath("vracks", b.vrack, "serviceName")}), and OVH refuses a block already in a vRack: take it out of ${routedTo} by hand, or point ${keyPath("vracks", b.vrack, "serviceName")} at it` }
            : { resource: name, found: `${block} ${routedTo ? `routed to ${routedTo}` : "parked"}`, action: "create", detail: `add it to the vRack ${vrack.serviceName}${routedTo ? `; OVH drops its virtual MACs (${keyPath("ipBlocks", b.name, "dropVirtualMacs")})` : ""}` });
        return;
    }
    const server = spec.servers.get(b.server!)!;
    // Not imported, as a lone IP's routing is not: a Move to where the block is routed changes nothing.
    result.file.observed[name] = { ip: block, routedTo };
    result.rows.push(routedTo === server.serviceName
        ? { resource: name, found: `${block} routed to ${routedTo}`, action: "adopt", detail: "a move to where it is changes nothing" }
        : routedTo === null
          ? { resource: name, found: `${block} parked`, action: "update", detail: `route it to ${server.serviceName}` }
          : { resource: name, found: `${block} routed to ${routedTo}`, action: "conflict", detail: `the first up would move the whole block away from ${routedTo} to ${server.serviceName}: move it by hand, or point ${keyPath("ipBlocks", b.name, "server")} at that server` });
}

async function adoptEndpoint(api: OvhApi, spec: StackSpec, e: EndpointSpec, readNic: NicReader | undefined, inState: (name: string) => boolean, defaults: Map<string, number>, result: AdoptResult): Promise<void> {
    const server = spec.servers.get(e.server)!;
    const names = endpointResourceNames(e.name);
    const inBlock = blockOf(spec, e);
    const block = stackBlockOf(spec, e);

    // An IP of a block has no routing of its own: its block's is adopted once (adoptBlock).
    if (!inBlock) {
        // The routing is not imported: a Move to where the IP is routed changes nothing. Routed to
        // another server, the first up would take it away from there: a decision for a person.
        const held = await enclosingBlock(api, e.ip);
        if (held === undefined) throw new Error(`${keyPath("endpoints", e.name, "ip")}: ${e.ip} is not in this OVH account: the stack routes IPs you rent, it does not order them`);
        if (held !== block) throw new Error(`${keyPath("endpoints", e.name, "ip")}: OVH holds ${e.ip} in the block ${held}, which moves whole: declare it in ${keyPath("ipBlocks", "<name>", "block")} (${held}) with its server`);
        const routedTo = (await routedToOf(api, block)) ?? null;
        result.file.observed[names.routing] = { ip: block, routedTo };
        result.rows.push(routedTo === server.serviceName
            ? { resource: names.routing, found: `${block} routed to ${routedTo}`, action: "adopt", detail: "a move to where it is changes nothing" }
            : routedTo === null
              ? { resource: names.routing, found: `${block} parked`, action: "update", detail: `route it to ${server.serviceName}` }
              : { resource: names.routing, found: `${block} routed to ${routedTo}`, action: "conflict", detail: `the first up would move it away from ${routedTo} to ${server.serviceName}: move it by hand, or point ${keyPath("endpoints", e.name, "server")} at that server` });
    }

    await adoptReverse(api, names.reverse, e.ip, block, e.reverse, result);

    // The virtual MAC: the VirtualMac provider adopts the MAC the IP has when it creates (one way
    // of adopting, not two): recorded here for the review and the plan. Routed mode and vRack IPs
    // take none (OVH's routed-mode guide; a vRack block's are dropped): one found is a decision.
    const mac = await findMacForIp(api, server.serviceName, e.ip);
    if (e.mode === "bridged") {
        if (mac) result.file.observed[names.vmac] = { serviceName: server.serviceName, macAddress: mac.macAddress, type: mac.type };
        result.rows.push(mac
            ? { resource: names.vmac, found: `${mac.type} MAC ${mac.macAddress} carries ${e.ip}`, action: "adopt", detail: mac.type === e.virtualMac.type ? undefined : `adopted as ${mac.type} (the stack asks ${e.virtualMac.type}; kept)` }
            : { resource: names.vmac, found: `no virtual MAC carries ${e.ip} on ${server.serviceName}`, action: "create" });
    } else if (mac) {
        const dropped = e.mode === "vrack" && inBlock?.dropVirtualMacs === true && result.file.resources[`${inBlock.name}-block-routing`] === undefined;
        result.rows.push({
            resource: names.vmac, found: `${mac.type} MAC ${mac.macAddress} carries ${e.ip} on ${server.serviceName}`,
            ...(dropped
                ? { action: "update" as const, detail: `the block's move into the vRack drops it (${keyPath("ipBlocks", inBlock.name, "dropVirtualMacs")} is true)` }
                : { action: "conflict" as const, detail: e.mode === "routed"
                    ? `${keyPath("endpoints", e.name, "mode")} is routed, which takes no virtual MAC (OVH's routed-mode guide): delete it (DELETE /dedicated/server/${server.serviceName}/virtualMac/${mac.macAddress}/virtualAddress/${e.ip}), or make the endpoint bridged`
                    : `${e.ip} is in the vRack block ${keyPath("ipBlocks", inBlock?.name ?? "?")}, and OVH drops a block's virtual MACs when it enters a vRack: set ${keyPath("ipBlocks", inBlock?.name ?? "?", "dropVirtualMacs")} true to accept losing it` }),
        });
    }

    // The NIC, read on the Proxmox host: the first pct set merges into it.
    if (readNic && !e.container.owned && server.proxmox) {
        const value = await readNic(e);
        const key = `net${e.container.nic}`;
        result.file.observed[names.nic] = { host: server.proxmox.host, vmid: e.container.vmid, key, value: value ?? null };
        const live = new Map(parseNetValue(value ?? ""));
        // What the stack sets (drift's expectedNic): a bridged IP's MAC is the one found, else a
        // new one; its gateway is the rule's or the API's, left out here.
        const expected = expectedNic(spec, e, { endpoints: { [e.name]: { macAddress: mac?.macAddress } } });
        const wanted = new Map<string, string>(Object.entries({ ...expected, hwaddr: expected.hwaddr ?? "(the new MAC)" }));
        const compared = ["name", "bridge", "hwaddr", "ip", ...(e.mode === "bridged" ? [] : ["gw"]), ...(e.ip6 ? ["ip6"] : [])];
        const differing = compared.filter((k) => (k === "hwaddr" ? live.get(k)?.toLowerCase() !== wanted.get(k)?.toLowerCase() : live.get(k) !== wanted.get(k)));
        result.rows.push(value === undefined
            ? { resource: names.nic, found: `no ${key} on container ${e.container.vmid}`, action: "create" }
            : { resource: names.nic, found: `${key}: ${value}`, action: "merge", detail: differing.map((k) => `${k}: ${live.get(k) ?? "(none)"} → ${wanted.get(k)}`).join(", ") || "the managed options are as the stack says" });
    }

    for (const r of planRecords({ endpoint: e.name, zones: e.records, cnameTarget: e.cnameTarget }, e.ip, e.ttl, e.ip6)) {
        await adoptRecord(api, names.records, r, inState, defaults, result);
    }
}

/**
 * A Public Cloud endpoint: its attach, observed but not imported (terraform-provider-ovh v2.19.0
 * resource_cloud_project_failover_ip_attach.go: the importer keeps the id alone, and Read then
 * lists GET /cloud/project//ip/failover with an empty project, a 404; seen with the real plugin),
 * and its records. The address in the guest is the InstanceAlias's, not adopted here.
 */
async function adoptCloudEndpoint(api: OvhApi, e: CloudEndpointSpec, inState: (name: string) => boolean, defaults: Map<string, number>, result: AdoptResult): Promise<void> {
    const names = endpointResourceNames(e.name);
    const found = await cloudFailoverIp(api, e);
    if (!found) {
        result.rows.push({ resource: names.routing, found: `${e.ip} is not a failover IP of the project ${e.project}`, action: "conflict", detail: `import it into the project first (OVH's Control Panel, "Import this Additional IP"), or fix ${keyPath("endpoints", e.name, "cloud", "project")}` });
    } else if (found.routedTo && found.routedTo !== e.instance) {
        result.rows.push({ resource: names.routing, found: `${e.ip} (id ${found.id}) attached to ${found.routedTo}`, action: "conflict", detail: `the first up would attach it to ${e.instance} instead (an attach cannot be undone, only moved): attach it by hand, or point ${keyPath("endpoints", e.name, "cloud", "instance")} at ${found.routedTo}` });
    } else if (!found.routedTo) {
        result.rows.push({ resource: names.routing, found: `${e.ip} (id ${found.id}) attached to no instance`, action: "create", detail: `attach it to ${e.instance}` });
    } else if (inState(names.routing)) {
        result.rows.push({ resource: names.routing, found: `${e.ip} (id ${found.id}) attached to ${found.routedTo}`, action: "leave", detail: "in the state already: no import id written" });
    } else {
        result.file.observed[names.routing] = { serviceName: e.project, ip: e.ip, id: found.id, routedTo: found.routedTo };
        result.rows.push({ resource: names.routing, found: `${e.ip} (id ${found.id}) attached to ${found.routedTo}`, action: "adopt", detail: "the attach cannot be imported: the first up attaches it again to the same instance" });
    }
    await adoptReverse(api, names.reverse, e.ip, `${e.ip}/32`, e.reverse, result);
    for (const r of planRecords({ endpoint: e.name, zones: e.records, cnameTarget: e.cnameTarget }, e.ip, e.ttl)) {
        await adoptRecord(api, names.records, r, inState, defaults, result);
    }
}

/**
 * Adopts what the stack declares. `inState` says which resources the stack's state holds already
 * (from `pulumi stack export`): no import id is written for those, since Pulumi would import-replace
 * a record it created (its id is `<recordId>`, the import id `<recordId>.<zone>`) and delete it.
 */
export async function adopt(spec: StackSpec, api: OvhApi, readNic?: NicReader, inState: (name: string) => boolean = () => false): Promise<AdoptResult> {
    const result: AdoptResult = { file: { version: ADOPT_FILE_VERSION, resources: {}, observed: {} }, rows: [], ttlWarnings: [] };
    const defaults = new Map<string, number>();
    for (const b of spec.ipBlocks) await adoptBlock(api, spec, b, inState, result);
    for (const e of spec.endpoints) await adoptEndpoint(api, spec, e, readNic, inState, defaults, result);
    for (const e of spec.cloudEndpoints) await adoptCloudEndpoint(api, e, inState, defaults, result);
    return result;
}

/** The logical names of the resources a `pulumi stack export` holds. */
export function namesInState(exported: unknown): Set<string> {
    const resources = (exported as { deployment?: { resources?: { urn?: string }[] } })?.deployment?.resources;
    if (!Array.isArray(resources)) throw new Error("not the output of pulumi stack export (no deployment.resources)");
    return new Set(resources.map((r) => String(r.urn ?? "").split("::").pop() ?? ""));
}

const STATE_MADE = "write it with pulumi stack export > <file>, or give --no-state when the stack has none";

/** The names in the state file --state names, or an error naming the flag and the file. */
export function readStateFile(file: string, read = (f: string) => fs.readFileSync(f, "utf8")): Set<string> {
    const exported = readFlagJson("--state", file, STATE_MADE, read);
    try {
        return namesInState(exported);
    } catch (err) {
        throw new Error(`--state ${file}: ${(err as Error).message}; ${STATE_MADE}`, { cause: err });
    }
}

/** netN of a container, read with `pct config` over the system's ssh (the host key pinned when the stack gives it). */
export const readNicOverSsh = (spec: StackSpec): NicReader => async (e) => {
    const proxmox = spec.servers.get(e.server)!.proxmox!;
    const { code, out } = await runOnHost(sshCommand(proxmox.host, proxmox.port, proxmox.user, proxmox.hostKey), `pct config ${e.container.vmid}\n`);
    if (code !== 0) throw new Error(`pct config ${e.container.vmid} on ${proxmox.host} failed (exit ${code}): ${out.trim()}`);
    return netLine(out, e.container.nic);
};

const WILL: Record<AdoptAction, string> = {
    import: "import it, change nothing",
    leave: "leave it to Pulumi",
    update: "import it, then update",
    create: "create it",
    conflict: "stop: decide first",
    replace: "set it anew over what is there",
    adopt: "find it when it creates it, and keep it",
    merge: "merge the stack's options into it, keep the others, put it back as found on delete",
};

export function renderTable(rows: AdoptRow[]): string {
    const lines = rows.map((r) => [r.resource, r.found, r.id ?? "-", `${WILL[r.action]}${r.detail ? ` (${r.detail})` : ""}`]);
    const head = ["resource", "found live", "id", "pulumi up will"];
    const widths = head.map((h, i) => Math.max(h.length, ...lines.map((l) => Math.min(l[i].length, 60))));
    const row = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]))).join("  ");
    return [row(head), row(widths.map((w) => "-".repeat(w))), ...lines.map(row)].join("\n") + "\n";
}

export async function main(argv: string[] = process.argv.slice(2)): Promise<void> {
    let stack: string;
    let output: string | undefined;
    let skipHosts = false;
    let stateFile: string | undefined;
    let stackFile: string | undefined;
    try {
        const { values, positionals } = parseCommandLine(argv, {
            output: { type: "string" }, "skip-hosts": { type: "boolean" }, state: { type: "string" }, "no-state": { type: "boolean" }, "stack-file": { type: "string" },
        }, { usage: USAGE });
        if (positionals.length !== 1) throw new UsageError(USAGE);
        // Whether the stack has a state decides which ids may be written: never guessed.
        if ((values.state === undefined) === (values["no-state"] !== true)) {
            throw new UsageError(`say whether the stack has a state: --state <file> (pulumi stack export > file) or --no-state (a first adoption, or a lost state)\n${USAGE}`);
        }
        stack = positionals[0];
        output = values.output;
        skipHosts = values["skip-hosts"] ?? false;
        stateFile = values.state;
        stackFile = values["stack-file"];
    } catch (err) {
        process.stderr.write(`${(err as Error).message}\n`);
        process.exit(2);
    }
    let dir: string;
    let spec: StackSpec;
    let api: OvhApi;
    try {
        dir = projectDir();
        spec = stackSpec(dir, stack, stackFile);
        // Without credentials this names the missing variables.
        api = new OvhApi(ovhClientOptionsFromEnv(process.env), DEFAULT_RETRY, (line) => process.stderr.write(`adopt: ${line}\n`));
    } catch (err) {
        process.stderr.write(`error: ${(err as Error).message}\n`);
        process.exit(2);
    }
    let result: AdoptResult;
    try {
        const inState = stateFile ? readStateFile(stateFile) : new Set<string>();
        result = await adopt(spec, api, skipHosts ? undefined : readNicOverSsh(spec), (name) => inState.has(name));
    } catch (err) {
        process.stderr.write(`error: ${(err as Error).message}\n`);
        process.exit(2);
    }
    process.stdout.write(renderTable(result.rows));
    for (const w of result.ttlWarnings) process.stdout.write(`TTL: ${w}\n`);
    const conflicts = result.rows.filter((r) => r.action === "conflict");
    for (const c of conflicts) process.stderr.write(`CONFLICT: ${c.resource}: ${c.detail}\n`);
    // A file written beside a conflict would let an up go on: nothing is written until none is left.
    if (conflicts.length > 0) {
        process.stderr.write("no adopt file written: decide each conflict, then run adopt again\n");
        process.exitCode = 1;
        return;
    }
    const file = output ?? path.join(dir, loadProject(dir).stackConfigDir, `${stack}.adopt.yaml`);
    fs.writeFileSync(file, renderAdoptFile(result.file, `Written by ovh-failover adopt ${stack}: what exists at OVH and on the Proxmox hosts, and\nthe ids Pulumi imports it by (index.ts). Commit it with the stack; run adopt again to refresh it.`));
    process.stdout.write(`wrote ${path.relative(process.cwd(), file) || file}\n`);
}

if (require.main === module) void main();
