// Proves from inside the container that its gateway answers, after the NIC is applied and before
// DNS moves: `pct exec <vmid> -- sh -c <probe>` on the Proxmox host, over the same SSH connection
// as the NIC. A gateway that does not answer fails `pulumi up` here, and the records that depend on
// the probe are left as they were.
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { shellQuote } from "../shared/shell";
import { sshConnection } from "../shared/ssh";
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
    /** The IP and MAC of the NIC: the probe runs again whenever they change. */
    address: pulumi.Input<string>;
    macAddress: pulumi.Input<string>;
    /** The NIC's whole value as applied: any change to it (a bridge, a gateway) is proved again. */
    netValue?: pulumi.Input<string>;
    tries?: number;
    timeoutSeconds?: number;
    /** The host is gone: forget the probe instead of reaching it. */
    hostUnreachable?: boolean;
}

/** The host-side script: run the probe in the container; with candidates, set the one that answered. */
export function renderHostProbeScript(vmid: number, index: number, probe: string): string {
    return `set -u
vmid=${vmid}
key=net${index}
# The probe is passed whole and literal to the container's shell.
# shellcheck disable=SC2016
out=$(pct exec "$vmid" -- sh -c ${shellQuote(probe)})
status=$?
printf '%s\\n' "$out"
if [ "$status" -ne 0 ]; then
  echo "gateway probe failed in container $vmid ($key): DNS is left as it was" >&2
  exit 1
fi
chosen=$(printf '%s\\n' "$out" | sed -n 's/^chosen=//p')
config=$(pct config "$vmid") || { echo "pct config $vmid failed" >&2; exit 1; }
current=$(printf '%s\n' "$config" | sed -n "s/^$key: //p")
case "$current" in
  *"gw=$chosen,"*|*"gw=$chosen") ;;
  *) pct set "$vmid" "--$key" "$(printf '%s\\n' "$current" | sed "s/gw=[^,]*/gw=$chosen/")"
     echo "nic-gateway=$chosen" ;;
esac
`;
}

/** The gateway a probe chose, read from its output. */
export function chosenGateway(stdout: string): string | undefined {
    return /^chosen=(\S+)$/m.exec(stdout)?.[1];
}

export class GatewayProbe extends pulumi.ComponentResource {
    /** The gateway that answered. */
    readonly gateway: pulumi.Output<string>;
    readonly command: command.remote.Command;

    constructor(name: string, args: GatewayProbeArgs, opts?: pulumi.ComponentResourceOptions) {
        super("ovh-failover:proxmox:GatewayProbe", name, {}, opts);
        const label = `container ${args.vmid} net${args.index}`;
        const script = pulumi.output(args.gateways).apply((gateways) => {
            if (gateways.length === 0) throw new pulumi.ResourceError("no gateway to probe", this);
            const probe = renderProbeScript({
                interfaceName: args.interfaceName,
                gateways,
                tries: args.tries ?? DEFAULT_PROBE.tries,
                timeoutSeconds: args.timeoutSeconds ?? DEFAULT_PROBE.timeoutSeconds,
                label,
            });
            return renderHostProbeScript(args.vmid, args.index, probe);
        });
        this.command = new command.remote.Command(`${name}-arp`, {
            connection: sshConnection(args.proxmox),
            create: script,
            // A new IP, MAC or gateway is a new fact to prove: run the probe again.
            triggers: [args.address, args.macAddress, args.gateways, args.netValue ?? ""],
            addPreviousOutputInEnv: false,
            // The component's dependsOn (the NIC) must hold for the command itself.
        }, { parent: this, dependsOn: opts?.dependsOn, retainOnDelete: args.hostUnreachable === true });
        this.gateway = this.command.stdout.apply((out) => {
            const gw = chosenGateway(out);
            if (!gw) throw new pulumi.ResourceError(`the gateway probe of ${label} printed no chosen gateway`, this);
            return gw;
        });
        this.registerOutputs({ gateway: this.gateway });
    }
}
