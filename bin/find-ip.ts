// ovh-failover find-ip: every place an address still appears, after an IP change or before giving
// an IP back: the records of every zone of the OVH account (A or AAAA targets, TXT and SPF text,
// SPF's ip4:/ip6: blocks included), the IP's reverse and routing, the virtual MACs of the
// account's servers, and with --stack the container configs of the stack's Proxmox hosts (`pct
// config` of every container `pct list` shows), each marked managed (the stack key that declares
// it) or not. Exit 1 when something the stack does not manage still holds it. Reads only.
import { DEFAULT_RETRY, OvhApi, OvhApiError, ovhClientOptionsFromEnv, route } from "../components/network/ovhApiClient";
import { findMacForIp } from "../components/network/virtualMacProvider";
import type { StackSpec } from "../components/config/stackConfig";
import { fqdn } from "../components/dns/records";
import { parseCommandLine, projectDir, UsageError } from "./cli";
import { configLinesHolding, exitCodeOf, managedBy, parseAddress, Place, recordTextHolds, renderPlaces, splitContainerConfigs, tokenHolds } from "./findIp/places";
import { runOnHost, sshCommand, stackSpec } from "./hostShell";
import { enclosingBlock, routedToOf } from "./layoutLive";

export const USAGE = "usage: ovh-failover find-ip <address> [--stack <stack>] [--stack-file <file>]";

type Address = ReturnType<typeof parseAddress>;

/** domain.zone.Record, the fields read here. */
interface LiveRecord {
    subDomain?: string;
    fieldType: string;
    target: string;
}

/** The records of every zone of the account whose target holds the address. */
async function recordsHolding(api: OvhApi, address: Address): Promise<Place[]> {
    const zones = await api.request<string[]>("GET", "/domain/zone");
    const types = [address.kind() === "ipv4" ? "A" : "AAAA", "TXT", "SPF"];
    const places: Place[] = [];
    for (const zone of zones) {
        for (const type of types) {
            const ids = await api.request<number[]>("GET", `${route("/domain/zone/{zoneName}/record", { zoneName: zone })}?fieldType=${type}`);
            for (const id of ids) {
                const r = await api.request<LiveRecord>("GET", route("/domain/zone/{zoneName}/record/{id}", { zoneName: zone, id }));
                const holds = type === "TXT" || type === "SPF" ? recordTextHolds(r.target, address) : tokenHolds(r.target, address, "address");
                if (!holds) continue;
                const name = fqdn(r.subDomain ?? "", zone);
                places.push({ kind: "record", where: `${name} ${r.fieldType} (zone ${zone}, record ${id})`, value: r.target, at: { zone, name, type: r.fieldType } });
            }
        }
    }
    return places;
}

/** The IP's routing and reverse at OVH, when the account holds it. */
async function ipPlaces(api: OvhApi, text: string): Promise<Place[]> {
    const block = await enclosingBlock(api, text);
    if (!block) return [];
    const places: Place[] = [];
    const routedTo = await routedToOf(api, block);
    if (routedTo) places.push({ kind: "routing", where: `block ${block}`, value: `routed to ${routedTo}`, at: { serviceName: routedTo } });
    try {
        const r = await api.request<{ reverse: string }>("GET", route("/ip/{ip}/reverse/{ipReverse}", { ip: block, ipReverse: text }));
        places.push({ kind: "reverse", where: text, value: r.reverse, at: {} });
    } catch (err) {
        if (!(err instanceof OvhApiError && err.status === 404)) throw err;
    }
    return places;
}

/** The virtual MACs of the account's dedicated servers that carry the address. */
async function virtualMacPlaces(api: OvhApi, text: string): Promise<Place[]> {
    const servers = await api.request<string[]>("GET", "/dedicated/server");
    const places: Place[] = [];
    for (const serviceName of servers) {
        const mac = await findMacForIp(api, serviceName, text);
        if (mac) places.push({ kind: "virtual MAC", where: `server ${serviceName}`, value: `${mac.macAddress} (${mac.type})`, at: { serviceName } });
    }
    return places;
}

/** Every container's config on a host: `pct list`'s first column (pve-container src/PVE/CLI/pct.pm, list), then `pct config`. */
const CONTAINER_CONFIGS = `set -e\nlist=$(pct list)\nfor id in $(printf '%s\\n' "$list" | awk 'NR > 1 { print $1 }'); do echo "== $id"; pct config "$id"; done\n`;

async function containerPlaces(spec: StackSpec, address: Address, notRead: string[]): Promise<Place[]> {
    const places: Place[] = [];
    for (const [server, s] of spec.servers) {
        const p = s.proxmox;
        if (!p || s.unreachable) {
            notRead.push(`the containers of ${server}: ${p ? "the stack marks the server unreachable" : "the stack names no Proxmox host for it"}`);
            continue;
        }
        const r = await runOnHost(sshCommand(p.host, p.port, p.user, p.hostKey), CONTAINER_CONFIGS);
        if (r.code !== 0) {
            notRead.push(`the containers of ${server} (${p.host}): ${r.out.trim().split("\n").pop() ?? `exit ${r.code}`}`);
            continue;
        }
        for (const [vmid, config] of splitContainerConfigs(r.out)) {
            for (const line of configLinesHolding(config, address)) {
                places.push({ kind: "container", where: `container ${vmid} on ${server} (${p.host}), ${line.key}`, value: line.value, at: { server, vmid, key: line.key } });
            }
        }
    }
    return places;
}

export async function main(argv: string[] = process.argv.slice(2)): Promise<void> {
    let text: string;
    let address: Address;
    let spec: StackSpec | undefined;
    let api: OvhApi;
    try {
        const { values, positionals } = parseCommandLine(argv, { stack: { type: "string" }, "stack-file": { type: "string" } }, { usage: USAGE });
        if (positionals.length !== 1) throw new UsageError(USAGE);
        if (values["stack-file"] && !values.stack) throw new UsageError(`--stack-file goes with --stack\n${USAGE}`);
        address = parseAddress(positionals[0]);
        text = address.toString();
        if (values.stack) spec = stackSpec(projectDir(), values.stack, values["stack-file"]);
        // Without credentials this names the missing variables.
        api = new OvhApi(ovhClientOptionsFromEnv(process.env), DEFAULT_RETRY, (line) => process.stderr.write(`find-ip: ${line}\n`));
    } catch (err) {
        process.stderr.write(`${err instanceof UsageError ? "" : "error: "}${(err as Error).message}\n`);
        process.exit(2);
    }
    const notRead: string[] = [];
    let places: Place[];
    try {
        places = [
            ...(await recordsHolding(api, address)),
            ...(await ipPlaces(api, text)),
            ...(address.kind() === "ipv4" ? await virtualMacPlaces(api, text) : []),
            ...(spec ? await containerPlaces(spec, address, notRead) : []),
        ];
    } catch (err) {
        process.stderr.write(`error: ${(err as Error).message}\n`);
        process.exit(2);
    }
    if (!spec) notRead.push("the Proxmox hosts' containers (give --stack: its servers' hosts)");
    for (const p of places) p.managedBy = spec && managedBy(p, spec, address);
    process.stdout.write(renderPlaces(text, places, spec !== undefined, notRead));
    // Something unmanaged holds it: 1, whatever could not be read. Else a host not read leaves it unknown: 2.
    const found = exitCodeOf(places, spec !== undefined);
    process.exitCode = found === 1 ? 1 : spec && notRead.length > 0 ? 2 : 0;
}
