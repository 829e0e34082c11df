// Drift of the container NICs the stack sets with `pct set`: `pulumi refresh` cannot see them (a
// remote command has no read: pulumi/pulumi-command remote/command.go), so this reads `pct config`
// on each Proxmox host and compares what the stack manages. Usage:
//
//   ovh-failover drift <stack> [--outputs <file>]
//
// --outputs takes `pulumi stack output --json --show-secrets=false`: the MAC OVH assigned and the
// gateway in use, which the stack file alone does not know. One line per endpoint; exit 1 on any
// drift, 2 when a host could not be read, 0 when every NIC is as the stack says.
import * as fs from "fs";
import type { EndpointSpec, StackSpec } from "../components/config/stackConfig";
import { parseNetValue } from "../components/proxmox/pct";
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
    const mac = live.macAddress ?? e.virtualMac.macAddress;
    if (mac) expected.hwaddr = mac;
    // Without the API, the gateway rule gives it unless only the API or the probe knows it.
    let gateway = live.gateway;
    if (!gateway && server && !(server.gatewayFromApi && !server.mainIp) && !server.gatewayCandidates) {
        gateway = resolveGateway({ mainIp: server.mainIp, configured: server.gateway }).gateway;
    }
    if (gateway) expected.gw = gateway;
    const six = server?.ipv6;
    if (e.ip6 && six) {
        expected.ip6 = `${e.ip6}/${six.prefix.length}`;
        // Likewise for IPv6: the API's gateway is known only from the stack's outputs.
        const gateway6 = live.gateway6 ?? (server.gatewayFromApi ? undefined : resolveGateway6({ prefix: six.prefix, configured: six.gateway }).gateway);
        if (gateway6) expected.gw6 = gateway6;
    }
    return expected;
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
}

export async function checkDrift(spec: StackSpec, e: EndpointSpec, outputs: StackOutputs): Promise<DriftVerdict> {
    const proxmox = spec.servers.get(e.server)?.proxmox;
    const where = `container ${e.container.vmid} net${e.container.nic}${proxmox ? ` on ${proxmox.host}` : ""}`;
    const expected = expectedNic(spec, e, outputs);
    const unknown = (["hwaddr", "gw", ...(e.ip6 ? ["gw6" as const] : [])] as const).filter((k) => expected[k] === undefined);
    if (!proxmox) return { endpoint: e.name, where, checked: false, differences: ["no proxmox host in the stack"], unknown };
    if (e.container.owned) return { endpoint: e.name, where, checked: true, differences: [], unknown: ["all: the container is a Proxmox provider resource, which pulumi refresh reads"] };
    const { code, out } = await runOnHost(sshCommand(proxmox.host, proxmox.port, proxmox.user, proxmox.hostKey), `pct config ${e.container.vmid}\n`);
    if (code !== 0) return { endpoint: e.name, where, checked: false, differences: [out.trim() || `ssh exited ${code}`], unknown };
    return { endpoint: e.name, where, checked: true, differences: nicDrift(expected, netLine(out, e.container.nic)), unknown };
}

export function exitCodeOf(verdicts: DriftVerdict[]): number {
    if (verdicts.some((v) => v.checked && v.differences.length > 0)) return 1;
    return verdicts.every((v) => v.checked) ? 0 : 2;
}

export function renderVerdict(v: DriftVerdict): string {
    if (!v.checked) return `UNCHECKED: endpoint ${v.endpoint} (${v.where}): ${v.differences.join("; ")}`;
    const unknown = v.unknown.length > 0 ? ` (not compared: ${v.unknown.join(", ")}; give --outputs)` : "";
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
    try {
        spec = stackSpec(projectDir(), stack);
        if (outputsFile) outputs = readOutputsFile(outputsFile);
    } catch (err) {
        process.stderr.write(`error: ${(err as Error).message}\n`);
        process.exit(2);
    }
    const verdicts = await Promise.all(spec.endpoints.map((e) => checkDrift(spec, e, outputs)));
    for (const v of verdicts) process.stdout.write(`${renderVerdict(v)}\n`);
    process.exitCode = exitCodeOf(verdicts);
}

if (require.main === module) void main();
