// Proves from inside the container that its gateway answers, after the NIC is applied and before
// DNS moves: `pct exec <vmid> -- sh -c <probe>` on the Proxmox host, over the same SSH connection
// as the NIC. A gateway that does not answer fails `pulumi up` here, and the records that depend on
// the probe are left as they were.
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { checked } from "../shared/checked";
import { shellQuote } from "../shared/shell";
import { sshConnection } from "../shared/ssh";
import { parseIpv6, parseIpv6Gateway } from "../shared/ipv6";
import { parseInterfaceName, parseIpv4, parseNicIndex, parseVmid } from "../shared/validate";
import type { ProxmoxConnection } from "./containerNic";
import { DEFAULT_PROBE, renderProbeScript } from "./probeScript";

export interface GatewayProbeArgs {
    proxmox: ProxmoxConnection;
    vmid: number;
    /** The N of netN. */
    index: number;
    interfaceName: string;
    /** One gateway, or candidates tried in order (the first that answers is set on the NIC). */
    gateways: pulumi.Input<string[]>;
    /** The NIC's IPv6 gateway, proved by neighbour discovery as well, from address6. */
    gateway6?: pulumi.Input<string>;
    /** The NIC's IPv6 address, which the container must hold for its gateway to count. */
    address6?: string;
    /** The IP and MAC of the NIC: the probe runs again whenever they change. */
    address: pulumi.Input<string>;
    macAddress: pulumi.Input<string>;
    /** The NIC's whole value as applied: any change to it (a bridge, a gateway) is proved again. */
    netValue?: pulumi.Input<string>;
    tries?: number;
    timeoutSeconds?: number;
    /** The host is gone: forget the probe instead of reaching it. */
    hostUnreachable?: boolean;
    /**
     * The container may have just started when the probe runs (one the stack owns: the proxmoxve
     * provider starts it at create and reboots it on any NIC change): a failed probe is tried again
     * for this long, while its networking service configures the NIC. Default 0.
     */
    bootPatienceSeconds?: number;
}

/** pve-firewall's compile period (10 s) and the time a compile takes: how long a NIC with firewall=1 is probed again. */
export const FIREWALL_PATIENCE_SECONDS = 15;

/**
 * How long a container that has just started is probed again. Proxmox gives a container's NIC its
 * addresses through the container's own network configuration (pve-container
 * src/PVE/LXC/Setup/Debian.pm writes /etc/network/interfaces; the container's networking service
 * applies it as it boots), after the start task has ended.
 */
export const BOOT_PATIENCE_SECONDS = 30;

/**
 * The host-side script: run the probe in the container; with candidates, set the one that
 * answered, then probe it alone, which proves the route through it now that the NIC has it. What
 * the container prints is the container's to forge (its root runs the probe with its own sh and
 * tools), so the host takes its answer only when it is exactly one of the candidates it rendered,
 * and writes it without passing it through sed or a shell.
 */
export function renderHostProbeScript(vmid: number, index: number, probe: string, candidates: string[], bootPatienceSeconds = 0): string {
    const booting = bootPatienceSeconds > 0;
    return `set -u
vmid=${vmid}
key=net${index}
# pct exec cannot reach a stopped container (src/PVE/CLI/pct.pm: lxc-attach). Its NIC is set for
# its next start; nothing proves the gateway, so DNS stays where it is until it runs.
if ! pct status "$vmid" | grep -q '^status: running$'; then
  echo "container $vmid is not running: $key is set for its next start, its gateway is not proved, and DNS is left as it was; start it (pct start $vmid) and run pulumi up again" >&2
  exit 3
fi
config=$(pct config "$vmid") || { echo "pct config $vmid failed" >&2; exit 1; }
# With firewall=1 the host's ebtables rules follow a new MAC or IP only when pve-firewall next
# compiles them, every 10 s (pve-firewall src/PVE/Service/pve_firewall.pm, $updatetime): until
# then the gateway's answer may be dropped. A failed probe is tried again for that long.
${booting ? `# The container may have just started (created, or rebooted by the proxmoxve provider for a NIC
# change): its networking service configures the NIC as it boots. A failed probe is tried again
# for ${bootPatienceSeconds}s as well.
patience=${bootPatienceSeconds}
case ",$(printf '%s\n' "$config" | sed -n "s/^$key: //p")," in
  *,firewall=1,*) patience=${Math.max(bootPatienceSeconds, FIREWALL_PATIENCE_SECONDS)} ;;
esac` : `patience=0
case ",$(printf '%s\n' "$config" | sed -n "s/^$key: //p")," in
  *,firewall=1,*) patience=${FIREWALL_PATIENCE_SECONDS} ;;
esac`}
# $1: the gateways to probe, "" for the rendered list. Sets out and status.
attempt() {
  started=$(date +%s)
  while :; do
    # The probe is passed whole and literal to the container's shell.
    # shellcheck disable=SC2016
    out=$(pct exec "$vmid" -- env PROBE_GATEWAYS="$1" sh -c ${shellQuote(probe)})
    status=$?
    printf '%s\n' "$out"
    if [ "$status" -eq 0 ] || [ $(($(date +%s) - started)) -ge "$patience" ]; then break; fi
    echo "gateway probe failed in container $vmid ($key), ${booting ? "which may be starting or have firewall=1: trying again until it has configured its NIC and pve-firewall has compiled its rules" : "which has firewall=1: trying again until pve-firewall has compiled its rules"} (\${patience}s)" >&2
    sleep 1
  done
}
attempt ""
if [ "$status" -ne 0 ]; then
  echo "gateway probe failed in container $vmid ($key): DNS is left as it was" >&2
  exit 1
fi
chosen=$(printf '%s\n' "$out" | sed -n 's/^chosen=//p')
verified=""
for candidate in ${candidates.map(shellQuote).join(" ")}; do
  if [ "$chosen" = "$candidate" ]; then verified=$candidate; fi
done
if [ -z "$verified" ]; then
  echo "the probe in container $vmid named no gateway it was given to try; its answer is not used" >&2
  exit 1
fi
config=$(pct config "$vmid") || { echo "pct config $vmid failed" >&2; exit 1; }
current=$(printf '%s\n' "$config" | sed -n "s/^$key: //p")
case ",$current," in
  *",gw=$verified,"*) ;;
  *) next=$(printf '%s\n' "$current" | GW="$verified" awk -F, -v OFS=, '{ for (i = 1; i <= NF; i++) if ($i ~ /^gw=/) $i = "gw=" ENVIRON["GW"]; print }')
     pct set "$vmid" "--$key" "$next" || { echo "pct set $vmid --$key failed" >&2; exit 1; }
     echo "nic-gateway=$verified" ;;
esac
${candidates.length > 1 ? `# pct set on a running container makes the new gateway the default route (src/PVE/LXC.pm,
# update_ipconfig): the route from the IP is proved through it now.
attempt "$verified"
if [ "$status" -ne 0 ]; then
  echo "gateway probe failed in container $vmid ($key) through $verified, the gateway that answered: DNS is left as it was" >&2
  exit 1
fi
` : ""}`;
}

/** The gateway a probe chose, read from its output: one of the candidates, or nothing. */
export function chosenGateway(stdout: string, candidates?: string[]): string | undefined {
    const chosen = /^chosen=(\S+)$/m.exec(stdout)?.[1];
    return chosen !== undefined && (candidates === undefined || candidates.includes(chosen)) ? chosen : undefined;
}

export class GatewayProbe extends pulumi.ComponentResource {
    /** The gateway that answered. */
    readonly gateway: pulumi.Output<string>;
    readonly command: command.remote.Command;

    constructor(name: string, args: GatewayProbeArgs, opts?: pulumi.ComponentResourceOptions) {
        super("ovh-failover:proxmox:GatewayProbe", name, {}, opts);
        const vmid = checked(this, "vmid", args.vmid, parseVmid);
        const index = checked(this, "index", args.index, parseNicIndex);
        const interfaceName = checked(this, "interfaceName", args.interfaceName, parseInterfaceName);
        const label = `container ${vmid} net${index}`;
        const address6 = args.address6 === undefined ? undefined : checked(this, "address6", args.address6, parseIpv6);
        if ((args.gateway6 === undefined) !== (address6 === undefined)) throw new pulumi.ResourceError("gateway6 and address6 go together: the container must hold its address for its gateway to count", this);
        const gateways = pulumi.output(args.gateways).apply((list) => {
            if (list.length === 0) throw new pulumi.ResourceError("no gateway to probe", this);
            return list.map((g, i) => checked(this, `gateways[${i}]`, g, parseIpv4));
        });
        const address = pulumi.output(args.address).apply((a) => checked(this, "address", a, parseIpv4));
        const script = pulumi.all([gateways, args.gateway6, address]).apply(([gateways, gateway6, address]) => {
            const probe = renderProbeScript({
                interfaceName,
                address,
                gateways,
                gateway6: gateway6 === undefined ? undefined : checked(this, "gateway6", gateway6, parseIpv6Gateway),
                address6,
                tries: args.tries ?? DEFAULT_PROBE.tries,
                timeoutSeconds: args.timeoutSeconds ?? DEFAULT_PROBE.timeoutSeconds,
                label,
            });
            return renderHostProbeScript(vmid, index, probe, gateways, args.bootPatienceSeconds);
        });
        this.command = new command.remote.Command(`${name}-arp`, {
            connection: sshConnection(args.proxmox),
            create: script,
            // A new IP, MAC or gateway is a new fact to prove: run the probe again.
            triggers: [args.address, args.macAddress, args.gateways, args.netValue ?? "", ...(args.gateway6 === undefined ? [] : [args.gateway6])],
            addPreviousOutputInEnv: false,
            // The component's dependsOn (the NIC) must hold for the command itself.
        }, { parent: this, dependsOn: opts?.dependsOn, retainOnDelete: args.hostUnreachable === true });
        this.gateway = pulumi.all([this.command.stdout, gateways]).apply(([out, list]) => {
            const gw = chosenGateway(out, list);
            if (!gw) throw new pulumi.ResourceError(`the gateway probe of ${label} named none of the gateways it was given`, this);
            return gw;
        });
        this.registerOutputs({ gateway: this.gateway });
    }
}
