// Drift of the container NICs the stack sets with `pct set`: `pulumi refresh` cannot see them (a
// remote command has no read: pulumi/pulumi-command remote/command.go), so this reads `pct config`
// on each Proxmox host and compares what the stack manages. Usage:
//
//   ovh-failover drift <stack> [--outputs <file>]
//
// --outputs takes `pulumi stack output --json --show-secrets=false`: the MAC OVH assigned and the
// gateway in use, which the stack file alone does not know. One line per endpoint; exit 1 on any
// drift, 2 when a host could not be read, 0 when every NIC is as the stack says.
//
// With the OVH variables (OVH_ENDPOINT, OVH_APPLICATION_KEY, …, as adopt takes them) it also reads
// the OVH side, which a NIC's value cannot show: where the IP (or its block) is routed, a virtual
// MAC on an IP that must have none (routed mode, a vRack block), and where a Public Cloud IP is
// attached. With none of them set, that side is named as not compared.
import * as fs from "fs";
import type { CloudEndpointSpec, EndpointSpec, StackSpec, VrackSpec } from "../components/config/stackConfig";
import { vrackBridgedSubrange6, vrackGateway, vrackGateway6 } from "../components/network/blocks";
import { DEFAULT_RETRY, OvhApi, OVH_SETTINGS, ovhClientOptionsFromEnv } from "../components/network/ovhApiClient";
import { findMacForIp } from "../components/network/virtualMacProvider";
import { localMacFor, parseNetValue } from "../components/proxmox/pct";
import { keyPath } from "../components/shared/validate";
import { blockOf, cloudFailoverIp, enclosingBlock, routedToOf, stackBlockOf, vrackIpOf } from "./layoutLive";
import { resolveGateway, resolveGateway6 } from "../components/proxmox/gateway";
import { parseCommandLine, projectDir, UsageError } from "./cli";
import { readFlagJson } from "./inputFiles";
import { runOnHost, sshCommand, stackSpec } from "./hostShell";

export const USAGE = "usage: ovh-failover drift <stack> [--outputs <pulumi stack output --json file>]";

/** What the stack says netN holds; a key it cannot know offline is absent. */
export type ExpectedNic = Partial<Record<"name" | "bridge" | "hwaddr" | "ip" | "gw" | "ip6" | "gw6", string>>;

interface StackOutputs {
    endpoints?: Record<string, { macAddress?: string; gateway?: string; gateway6?: string }>;
}

export function expectedNic(spec: StackSpec, e: EndpointSpec, outputs: StackOutputs = {}): ExpectedNic {
    const server = spec.servers.get(e.server);
    const live = outputs.endpoints?.[e.name] ?? {};
    const expected: ExpectedNic = { name: e.container.interfaceName, bridge: e.container.bridge, ip: `${e.ip}/32` };
    const block = blockOf(spec, e);
    if (e.mode === "routed" || (e.mode === "vrack" && block)) {
        // No virtual MAC: the hardware address is the one the stack derives from the IP (pct.ts
        // localMacFor). Routed: the host's bridge address is the gateway; vRack: the block's
        // length, and its penultimate address as gateway (blocks.ts vrackGateway).
        expected.hwaddr = localMacFor(e.ip);
        if (e.mode === "routed") {
            const routed = server?.routed;
            if (routed) expected.gw = routed.address;
        } else {
            expected.ip = `${e.ip}/${block!.block.prefixLength}`;
            expected.gw = vrackGateway(block!.block);
        }
        addIpv6(expected, spec, e, live);
        return expected;
    }
    const mac = live.macAddress ?? e.virtualMac.macAddress;
    if (mac) expected.hwaddr = mac;
    // Without the API, the gateway rule gives it unless only the API or the probe knows it.
    let gateway = live.gateway;
    if (!gateway && server && !(server.gatewayFromApi && !server.mainIp) && !server.gatewayCandidates) {
        gateway = resolveGateway({ mainIp: server.mainIp, configured: server.gateway }).gateway;
    }
    if (gateway) expected.gw = gateway;
    addIpv6(expected, spec, e, live);
    return expected;
}

function vrackOf(spec: StackSpec, e: EndpointSpec): VrackSpec | undefined {
    const rack = spec.ipBlocks.find((b) => b.name === e.block)?.vrack;
    return rack === undefined ? undefined : spec.vracks.get(rack);
}

function addIpv6(expected: ExpectedNic, spec: StackSpec, e: EndpointSpec, live: { gateway6?: string }): void {
    if (e.ip6 && e.mode === "vrack") {
        const rack = vrackOf(spec, e);
        if (rack?.ipv6) {
            expected.ip6 = `${e.ip6}/${vrackBridgedSubrange6(rack.ipv6).length}`;
            expected.gw6 = vrackGateway6(rack.ipv6);
        }
        return;
    }
    const server = spec.servers.get(e.server);
    const six = server?.ipv6;
    if (e.ip6 && six && e.mode === "routed") {
        // A routed guest holds its own /128 behind the host, the bridge's IPv6 address its gateway.
        expected.ip6 = `${e.ip6}/128`;
        if (server.routed?.address6) expected.gw6 = server.routed.address6;
        return;
    }
    if (e.ip6 && six) {
        expected.ip6 = `${e.ip6}/${six.prefix.length}`;
        // Likewise for IPv6: the API's gateway is known only from the stack's outputs.
        const gateway6 = live.gateway6 ?? (server.gatewayFromApi ? undefined : resolveGateway6({ prefix: six.prefix, configured: six.gateway }).gateway);
        if (gateway6) expected.gw6 = gateway6;
    }
}

/** Each difference between the NIC as the stack says and as `pct config` shows it. */
export function nicDrift(expected: ExpectedNic, actual: string | undefined): string[] {
    if (actual === undefined) return ["the NIC is not there"];
    const options = new Map(parseNetValue(actual));
    const differences: string[] = [];
    for (const [key, want] of Object.entries(expected)) {
        const have = options.get(key);
        const same = key === "hwaddr" ? have?.toLowerCase() === want.toLowerCase() : have === want;
        if (!same) differences.push(`${key} is ${have === undefined ? "not set" : have}, the stack says ${want}`);
    }
    return differences;
}

/** The value of netN in `pct config` output (`key: value` lines), if the line is there. */
export function netLine(config: string, index: number): string | undefined {
    const line = config.split("\n").find((l) => l.startsWith(`net${index}: `));
    return line?.slice(`net${index}: `.length).trim();
}

export interface DriftVerdict {
    endpoint: string;
    where: string;
    checked: boolean;
    differences: string[];
    /** Keys the stack cannot know without --outputs. */
    unknown: string[];
    /** What is at OVH, not compared without the OVH variables. */
    unknownAtOvh?: string[];
}

/** The OVH API from the OVH variables, or undefined when none is set; an error when some are missing. */
export function ovhApiFromEnv(env: NodeJS.ProcessEnv = process.env): OvhApi | undefined {
    if (!OVH_SETTINGS.some((s) => s.key !== "endpoint" && env[s.env])) return undefined;
    return new OvhApi(ovhClientOptionsFromEnv(env), DEFAULT_RETRY, (line) => process.stderr.write(`drift: ${line}\n`));
}

/**
 * The OVH side of a container endpoint: where its IP's block is routed (its own /32, the ipBlocks
 * block, found with GET /ip?ip=, or the vRack's GET /vrack/{sn}/ip/{block}), and no virtual MAC
 * on an IP that must have none.
 */
export async function ovhDrift(api: OvhApi, spec: StackSpec, e: EndpointSpec): Promise<string[]> {
    const server = spec.servers.get(e.server)!;
    const b = blockOf(spec, e);
    const wanted = stackBlockOf(spec, e);
    const differences: string[] = [];
    const held = await enclosingBlock(api, e.ip);
    if (held === undefined) return [`${e.ip} is not in this OVH account (${keyPath("endpoints", e.name, "ip")})`];
    if (held !== wanted) {
        differences.push(b
            ? `OVH holds ${e.ip} in ${held}, the stack says ${wanted} (${keyPath("ipBlocks", b.name, "block")})`
            : `OVH holds ${e.ip} in ${held}, the stack says a lone IP (${wanted}): declare the block in ${keyPath("ipBlocks", "<name>", "block")}`);
    } else if (b?.vrack !== undefined) {
        const vrack = spec.vracks.get(b.vrack)!;
        if (!(await vrackIpOf(api, vrack.serviceName, held))) {
            const routedTo = await routedToOf(api, held);
            differences.push(`routing: ${held} is not in the vRack ${vrack.serviceName} (routed to ${routedTo ?? "nothing"}), the stack says ${keyPath("ipBlocks", b.name, "vrack")} ${b.vrack}`);
        }
    } else {
        const routedTo = await routedToOf(api, held);
        if (routedTo !== server.serviceName) {
            const key = b ? keyPath("ipBlocks", b.name, "server") : keyPath("endpoints", e.name, "server");
            differences.push(`routing: ${held} is routed to ${routedTo ?? "nothing"}, the stack says ${server.serviceName} (${key} is ${b?.server ?? e.server})`);
        }
    }
    if (e.mode !== "bridged") {
        // OVH's routed-mode guide applies no virtual MAC; a block in a vRack has none (OVH drops
        // them: configuring-an-ip-block-in-a-vrack). One carrying the IP is not the stack's.
        const mac = await findMacForIp(api, server.serviceName, e.ip);
        if (mac) {
            const why = e.mode === "routed"
                ? `${keyPath("endpoints", e.name, "mode")} is routed, which takes none`
                : `${e.ip} is in the vRack block ${keyPath("ipBlocks", b?.name ?? "?")}, which takes none`;
            differences.push(`virtual MAC ${mac.macAddress} carries ${e.ip} on ${server.serviceName}: ${why}`);
        }
    }
    return differences;
}

export async function checkDrift(spec: StackSpec, e: EndpointSpec, outputs: StackOutputs, api?: OvhApi): Promise<DriftVerdict> {
    const proxmox = spec.servers.get(e.server)?.proxmox;
    const where = `container ${e.container.vmid} net${e.container.nic}${proxmox ? ` on ${proxmox.host}` : ""}`;
    const expected = expectedNic(spec, e, outputs);
    const unknown = (["hwaddr", "gw", ...(e.ip6 ? ["gw6" as const] : [])] as const).filter((k) => expected[k] === undefined);
    const unknownAtOvh = api ? [] : ["routing", ...(e.mode === "bridged" ? [] : ["virtual MAC"])];
    let atOvh: string[] = [];
    if (api) {
        try {
            atOvh = await ovhDrift(api, spec, e);
        } catch (err) {
            return { endpoint: e.name, where, checked: false, differences: [`the OVH API: ${(err as Error).message}`], unknown };
        }
    }
    if (!proxmox) return { endpoint: e.name, where, checked: false, differences: ["no proxmox host in the stack"], unknown };
    if (e.container.owned) return { endpoint: e.name, where, checked: true, differences: atOvh, unknown: ["all: the container is a Proxmox provider resource, which pulumi refresh reads"], unknownAtOvh };
    const { code, out } = await runOnHost(sshCommand(proxmox.host, proxmox.port, proxmox.user, proxmox.hostKey), `pct config ${e.container.vmid}\n`);
    if (code !== 0) return { endpoint: e.name, where, checked: false, differences: [out.trim() || `ssh exited ${code}`], unknown };
    return { endpoint: e.name, where, checked: true, differences: [...nicDrift(expected, netLine(out, e.container.nic)), ...atOvh], unknown, unknownAtOvh };
}

/**
 * A Public Cloud endpoint: the failover IP's routedTo against the stack's instance. The address
 * in the guest is check-gateways' (ovh_failover_alias_up: the InstanceAlias's own proof).
 */
export async function checkCloudDrift(e: CloudEndpointSpec, api?: OvhApi): Promise<DriftVerdict> {
    const where = `instance ${e.instance} of project ${e.project}`;
    if (!api) return { endpoint: e.name, where, checked: false, differences: [`where the IP is attached is known to the OVH API only: set ${OVH_SETTINGS.filter((s) => ["applicationKey", "applicationSecret", "consumerKey"].includes(s.key)).map((s) => s.env).join(", ")}`], unknown: [] };
    let found;
    try {
        found = await cloudFailoverIp(api, e);
    } catch (err) {
        return { endpoint: e.name, where, checked: false, differences: [`the OVH API: ${(err as Error).message}`], unknown: [] };
    }
    const differences = !found
        ? [`${e.ip} is not a failover IP of the project ${e.project} (${keyPath("endpoints", e.name, "cloud", "project")})`]
        : found.routedTo === e.instance
          ? []
          : [`routedTo is ${found.routedTo || "nothing"}, the stack says ${e.instance} (${keyPath("endpoints", e.name, "cloud", "instance")})`];
    return { endpoint: e.name, where, checked: true, differences, unknown: [] };
}

export function exitCodeOf(verdicts: DriftVerdict[]): number {
    if (verdicts.some((v) => v.checked && v.differences.length > 0)) return 1;
    return verdicts.every((v) => v.checked) ? 0 : 2;
}

export function renderVerdict(v: DriftVerdict): string {
    if (!v.checked) return `UNCHECKED: endpoint ${v.endpoint} (${v.where}): ${v.differences.join("; ")}`;
    const unknown = [
        ...(v.unknown.length > 0 ? [` (not compared: ${v.unknown.join(", ")}; give --outputs)`] : []),
        ...(v.unknownAtOvh?.length ? [` (not compared at OVH: ${v.unknownAtOvh.join(", ")}; set the OVH variables)`] : []),
    ].join("");
    if (v.differences.length === 0) return `OK: endpoint ${v.endpoint} (${v.where})${unknown}`;
    return `DRIFT: endpoint ${v.endpoint} (${v.where}): ${v.differences.join("; ")}${unknown}`;
}

const OUTPUTS_MADE = "write it with pulumi stack output --json --show-secrets=false > <file>";

/** The file --outputs names: pulumi stack output --json, whose endpoints each map to an object. */
export function readOutputsFile(file: string, read = (f: string) => fs.readFileSync(f, "utf8")): StackOutputs {
    const outputs = readFlagJson("--outputs", file, OUTPUTS_MADE, read);
    const isMap = (x: unknown): x is Record<string, unknown> => typeof x === "object" && x !== null && !Array.isArray(x);
    const endpoints = isMap(outputs) ? outputs.endpoints : undefined;
    if (!isMap(outputs) || (endpoints !== undefined && !(isMap(endpoints) && Object.values(endpoints).every(isMap)))) {
        throw new Error(`--outputs ${file}: not the stack's outputs (expected an object whose endpoints map each endpoint to { macAddress, gateway, gateway6 }); ${OUTPUTS_MADE}`);
    }
    return outputs as StackOutputs;
}

export async function main(argv: string[] = process.argv.slice(2)): Promise<void> {
    let stack: string;
    let outputsFile: string | undefined;
    try {
        const { values, positionals } = parseCommandLine(argv, { outputs: { type: "string" } }, { usage: USAGE });
        if (positionals.length !== 1) throw new UsageError(USAGE);
        stack = positionals[0];
        outputsFile = values.outputs;
    } catch (err) {
        process.stderr.write(`${(err as Error).message}\n`);
        process.exit(2);
    }
    let spec: StackSpec;
    let outputs: StackOutputs = {};
    let api: OvhApi | undefined;
    try {
        spec = stackSpec(projectDir(), stack);
        if (outputsFile) outputs = readOutputsFile(outputsFile);
        api = ovhApiFromEnv();
    } catch (err) {
        process.stderr.write(`error: ${(err as Error).message}\n`);
        process.exit(2);
    }
    const verdicts = await Promise.all([
        ...spec.endpoints.map((e) => checkDrift(spec, e, outputs, api)),
        ...spec.cloudEndpoints.map((e) => checkCloudDrift(e, api)),
    ]);
    for (const v of verdicts) process.stdout.write(`${renderVerdict(v)}\n`);
    process.exitCode = exitCodeOf(verdicts);
}

if (require.main === module) void main();
