// Monitoring: runs the gateway probe for every endpoint of a stack, from inside its container, as
// `pulumi up` does, and says which gateways do not answer. Usage:
//
//   ovh-failover check-gateways <stack> [--textfile <file.prom>]
//
// It prints one Prometheus sample per endpoint it could check on stdout (ovh_failover_gateway_up 1 or 0, and
// ovh_failover_gateway6_up for a NIC with an IPv6 gateway), writes
// the same to --textfile for node_exporter's textfile collector, prints a line per dead gateway on
// stderr, and exits 1 when any gateway is dead, 2 when the check itself could not run. When it
// refuses to run (usage, stack, an exception), --textfile is rewritten as a failed check
// (ovh_failover_gateway_check_ok 0, no gateway_up) or removed: never left with the last run's up.
// SSH goes through the system's ssh client (agent, ~/.ssh/config); OVH_FAILOVER_SSH replaces it.
//
// Every container layout is probed the same way, against the gateway its NIC has: a bridged IP's
// (lone or in a block) the server's gateway, a routed IP's the host's routed bridge address
// (servers.<s>.routed.address), a vRack IP's the block's penultimate address. A Public Cloud IP
// has no gateway of its own (OVH's Public Cloud guide: "you do not need a gateway"): it is named
// on stderr as not probed, with no sample.
import { renderProbeScript } from "../components/proxmox/probeScript";
import { renderHostRouteProbe } from "../components/proxmox/hostRouteScript";
import { ALIAS_EXIT, asRootWithSudo, renderAliasCheck } from "../components/cloud/aliasScript";
import { shellQuote } from "../components/shared/shell";
import { CloudEndpointSpec, EndpointSpec, StackSpec } from "../components/config/stackConfig";
import { parseCommandLine, projectDir, UsageError } from "./cli";
import { runOnHost, sshCommand, stackSpec } from "./hostShell";
import { CHECK_OK_HELP, checkTextfileFolder, labelValue, markRefused, writeTextfile } from "./textfile";

export { checkTextfileFolder, writeTextfile } from "./textfile";

export interface EndpointVerdict {
    endpoint: string;
    vmid: number;
    nic: string;
    gateway: string;
    up: boolean;
    /** The NIC's gw6 and whether it answered neighbour discovery, when the NIC has one. */
    gateway6?: string;
    up6?: boolean;
    /** False when the check itself could not run (SSH, pct): not a verdict on the gateway. */
    checked: boolean;
    /** The probe's own lines: what it saw. */
    seen: string;
}

/** Reads the gateway netN has now from `pct config`, then probes it from inside the container. */
export function renderCheckScript(e: EndpointSpec, tries: number, timeoutSeconds: number): string {
    const probe = renderProbeScript({
        interfaceName: e.container.interfaceName,
        address: "0.0.0.0",
        gateways: ["0.0.0.0"],
        tries,
        timeoutSeconds,
        label: `container ${e.container.vmid} net${e.container.nic}`,
    });
    return `set -u
vmid=${e.container.vmid}
key=net${e.container.nic}
config=$(pct config "$vmid") || exit 255
gw=$(printf '%s\n' "$config" | sed -n "s/^$key: .*gw=\\([0-9.]*\\).*/\\1/p")
addr=$(printf '%s\n' "$config" | sed -n "s/^$key: .*ip=\\([0-9.]*\\)\\/.*/\\1/p")
${e.ip6
    // The IPv6 gateway and address the NIC has now, for an endpoint that declares an ip6: one set
    // by hand on a NIC the stack keeps IPv4-only is not the stack's to watch.
    ? `gw6=$(printf '%s\\n' "$config" | sed -n "s/^$key: .*gw6=\\([0-9a-fA-F:]*\\).*/\\1/p")
addr6=$(printf '%s\\n' "$config" | sed -n "s/^$key: .*ip6=\\([0-9a-fA-F:]*\\)\\/.*/\\1/p")`
    : `gw6=""
addr6=""`}
if [ -z "$gw" ]; then echo "gateway=none"; echo "$key of container $vmid has no gateway"; exit 1; fi
echo "gateway=$gw"
[ -z "$gw6" ] || echo "gateway6=$gw6"
if [ -z "$addr" ]; then echo "$key of container $vmid has no static IPv4 address"; exit 1; fi
# shellcheck disable=SC2016
pct exec "$vmid" -- env PROBE_GATEWAYS="$gw" PROBE_ADDRESS="$addr" PROBE_GATEWAY6="$gw6" PROBE_ADDRESS6="$addr6" sh -c ${shellQuote(probe)} 2>&1
`;
}

/**
 * What check-gateways says of a Public Cloud endpoint: it has no gateway to probe; its alias is
 * checked instead (aliasUp).
 */
export function cloudNotProbed(e: CloudEndpointSpec): string {
    return `NOT PROBED: endpoint ${e.name} (instance ${e.instance} of project ${e.project}): a Public Cloud IP has no gateway of its own to probe (${e.ip} is a /32 alias on ${e.interfaceName ?? "the interface of the instance's default route"}, routed by the instance's own gateway)\n`;
}

/** A Public Cloud endpoint's alias: whether the instance holds the /32 and routes from it. */
export interface AliasVerdict {
    endpoint: string;
    instance: string;
    up: boolean;
    checked: boolean;
    seen: string;
}

/** The InstanceAlias's own proof (components/cloud/aliasScript.ts), run on the instance over SSH. */
export async function checkCloudAlias(e: CloudEndpointSpec): Promise<AliasVerdict> {
    const script = asRootWithSudo(e.ssh.user, renderAliasCheck({ address: e.ip, interfaceName: e.interfaceName, flavour: e.flavour }));
    const { code, out } = await runOnHost(sshCommand(e.ssh.host, e.ssh.port, e.ssh.user, e.ssh.hostKey), script);
    const seen = out.split("\n").filter((l) => l !== "").join("; ");
    // ssh exits 255 on its own errors; the proof's refusals have codes of their own (ALIAS_EXIT).
    return { endpoint: e.name, instance: e.instance, checked: code !== 255 && code !== ALIAS_EXIT.noRoot, up: code === 0, seen: seen || `ssh exited ${code} with no output` };
}

export async function checkEndpoint(spec: StackSpec, e: EndpointSpec, tries = 3, timeoutSeconds = 5): Promise<EndpointVerdict> {
    const proxmox = spec.servers.get(e.server)?.proxmox;
    const nic = `net${e.container.nic}`;
    if (!proxmox) return { endpoint: e.name, vmid: e.container.vmid, nic, gateway: "", up: false, checked: false, seen: "no proxmox host in the stack" };
    const { code, out } = await runOnHost(sshCommand(proxmox.host, proxmox.port, proxmox.user, proxmox.hostKey), renderCheckScript(e, tries, timeoutSeconds));
    const gateway = /^gateway=(\S+)$/m.exec(out)?.[1] ?? "";
    const gateway6 = /^gateway6=(\S+)$/m.exec(out)?.[1];
    const seen = out.split("\n").filter((l) => l && !/^(gateway6?|chosen)=/.test(l)).join("; ");
    // ssh exits 255 on its own errors; a probe that ran prints its gateway= line first.
    const checked = code !== 255 && /^gateway=/m.test(out);
    // Each gateway's own verdict line: the probe fails as a whole when either is dead. A gateway
    // that answers but does not carry the IP's traffic (its route line DEAD) is not up.
    const alive = (gw: string) => out.includes(` gateway ${gw}: alive`);
    const routed = !/ route from \S+: DEAD /.test(out);
    // A routed IP's gateway is the host's bridge: it answers whatever the host does with the IP.
    // The host's side is checked too: the /32 routed to the bridge, forwarding, proxy ARP; with an
    // ip6, the /128 routed to the bridge, IPv6 forwarding, proxy NDP and the uplink's proxy entry.
    const routedHost = spec.servers.get(e.server)?.routed;
    const host = e.mode === "routed" && routedHost && checked
        ? await runOnHost(sshCommand(proxmox.host, proxmox.port, proxmox.user, proxmox.hostKey), renderHostRouteProbe({ address: e.ip, bridge: routedHost.bridge, uplink: routedHost.uplink, address6: e.ip6 }))
        : undefined;
    const hostSeen = host ? host.out.split("\n").filter((l) => l !== "").join("; ") : "";
    // The host probe prints one ok line per family that passes (renderHostRouteProbe).
    const hostOk = (address: string) => host !== undefined && host.out.split("\n").some((l) => l.startsWith(`host-route: ${address} dev `) && l.endsWith(": ok"));
    return {
        endpoint: e.name, vmid: e.container.vmid, nic, gateway,
        up: checked && (code === 0 || (alive(gateway) && routed)) && (host === undefined || hostOk(e.ip)),
        ...(gateway6 ? { gateway6, up6: checked && (code === 0 || alive(gateway6)) && (host === undefined || e.ip6 === undefined || hostOk(e.ip6)) } : {}),
        checked, seen: [seen || `ssh exited ${code} with no output`, hostSeen].filter((x) => x !== "").join("; "),
    };
}

export function renderMetrics(stack: string, verdicts: EndpointVerdict[], aliases: AliasVerdict[] = []): string {
    const lines = [
        "# HELP ovh_failover_gateway_up Whether the endpoint's gateway answers ARP from inside its container and its IP's traffic is routed through it.",
        "# TYPE ovh_failover_gateway_up gauge",
        // Only what was checked: gateway_up 0 is the dead-gateway alert, and an SSH failure says nothing of the gateway.
        ...verdicts.filter((v) => v.checked).map((v) =>
            `ovh_failover_gateway_up{stack="${labelValue(stack)}",endpoint="${labelValue(v.endpoint)}",container="${v.vmid}",nic="${v.nic}",gateway="${labelValue(v.gateway)}"} ${v.up ? 1 : 0}`),
        "# HELP ovh_failover_gateway6_up Whether the endpoint's IPv6 gateway answers neighbour discovery from inside its container.",
        "# TYPE ovh_failover_gateway6_up gauge",
        ...verdicts.filter((v) => v.checked && v.gateway6 !== undefined).map((v) =>
            `ovh_failover_gateway6_up{stack="${labelValue(stack)}",endpoint="${labelValue(v.endpoint)}",container="${v.vmid}",nic="${v.nic}",gateway="${labelValue(v.gateway6!)}"} ${v.up6 ? 1 : 0}`),
        "# HELP ovh_failover_alias_up Whether a Public Cloud endpoint's instance holds its /32 and routes from it (it has no gateway of its own).",
        "# TYPE ovh_failover_alias_up gauge",
        ...aliases.filter((a) => a.checked).map((a) => `ovh_failover_alias_up{stack="${labelValue(stack)}",endpoint="${labelValue(a.endpoint)}",instance="${labelValue(a.instance)}"} ${a.up ? 1 : 0}`),
        ...CHECK_OK_HELP,
        ...verdicts.map((v) => `ovh_failover_gateway_check_ok{stack="${labelValue(stack)}",endpoint="${labelValue(v.endpoint)}"} ${v.checked ? 1 : 0}`),
        ...aliases.map((a) => `ovh_failover_gateway_check_ok{stack="${labelValue(stack)}",endpoint="${labelValue(a.endpoint)}"} ${a.checked ? 1 : 0}`),
    ];
    return `${lines.join("\n")}\n`;
}

const USAGE = "usage: ovh-failover check-gateways <stack> [--textfile <file.prom>]";

/** The stack and where to write the metrics; a usage error throws UsageError. */
export function parseCheckArgs(argv: string[]): { stack: string; textfile?: string } {
    const { values, positionals } = parseCommandLine(argv, { textfile: { type: "string" } });
    if (positionals.length !== 1 || values.textfile === "") throw new UsageError(positionals.length > 1 ? `one stack at a time (got ${positionals.join(" and ")})` : "a stack is needed");
    return { stack: positionals[0], textfile: values.textfile };
}

/** Says why the check could not run and exits 2, leaving no previous gateway_up in --textfile. */
function refuse(argv: string[], message: string): never {
    process.stderr.write(message);
    const left = markRefused(argv);
    if (left !== undefined) process.stderr.write(`error: ${left}\n`);
    process.exit(2);
}

export async function main(argv: string[] = process.argv.slice(2)): Promise<void> {
    try {
        await check(argv);
    } catch (err) {
        refuse(argv, err instanceof UsageError ? `${USAGE}\n` : `error: ${(err as Error).message}\n`);
    }
}

async function check(argv: string[]): Promise<void> {
    const { stack, textfile } = parseCheckArgs(argv);
    if (textfile) checkTextfileFolder(textfile);
    const spec = stackSpec(projectDir(), stack);
    const verdicts = await Promise.all(spec.endpoints.map((e) => checkEndpoint(spec, e)));
    const aliases = await Promise.all(spec.cloudEndpoints.map((e) => checkCloudAlias(e)));
    const metrics = renderMetrics(stack, verdicts, aliases);
    process.stdout.write(metrics);
    if (textfile) writeTextfile(textfile, metrics);
    for (const e of spec.cloudEndpoints) process.stderr.write(cloudNotProbed(e));
    for (const v of verdicts.filter((x) => !x.checked)) {
        process.stderr.write(`UNCHECKED: endpoint ${v.endpoint} (container ${v.vmid} ${v.nic}): ${v.seen}\n`);
    }
    for (const v of verdicts.filter((x) => x.checked && !x.up)) {
        process.stderr.write(`DEAD: endpoint ${v.endpoint} (container ${v.vmid} ${v.nic}) gateway ${v.gateway || "?"}: ${v.seen}\n`);
    }
    for (const v of verdicts.filter((x) => x.checked && x.gateway6 !== undefined && !x.up6)) {
        process.stderr.write(`DEAD: endpoint ${v.endpoint} (container ${v.vmid} ${v.nic}) IPv6 gateway ${v.gateway6}: ${v.seen}\n`);
    }
    for (const a of aliases.filter((x) => !x.checked)) process.stderr.write(`UNCHECKED: endpoint ${a.endpoint} (instance ${a.instance}): ${a.seen}\n`);
    for (const a of aliases.filter((x) => x.checked && !x.up)) process.stderr.write(`DEAD: endpoint ${a.endpoint} (instance ${a.instance}) alias: ${a.seen}\n`);
    const dead = verdicts.some((v) => v.checked && (!v.up || v.up6 === false)) || aliases.some((a) => a.checked && !a.up);
    const unchecked = verdicts.some((v) => !v.checked) || aliases.some((a) => !a.checked);
    process.exitCode = dead ? 1 : unchecked ? 2 : 0;
}

if (require.main === module) void main();
