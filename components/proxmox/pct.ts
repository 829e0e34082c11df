// Rendering of the `pct set` commands that put a failover IP on a container the stack does not
// own. Pure functions: the ContainerNic component runs their output on the Proxmox host over SSH.
import { shellQuote } from "../shared/shell";

export interface NicSpec {
    vmid: number;
    /** The N of netN. */
    index: number;
    /** The interface name inside the container, e.g. eth1. */
    interfaceName: string;
    bridge: string;
    /** The virtual MAC OVH bound to the IP; the NIC must use it or OVH drops the traffic. */
    macAddress: string;
    address: string;
    prefixLength: number;
    gateway: string;
}

/**
 * The options of a netN value, in their order: `name=eth1,bridge=vmbr0,...`. Proxmox writes
 * `key=value` pairs joined by commas (pve-container src/PVE/LXC/Config.pm, the netN format).
 */
export function parseNetValue(value: string): [string, string][] {
    if (value.trim() === "") return [];
    return value.split(",").map((part) => {
        const eq = part.indexOf("=");
        return eq < 0 ? [part, ""] : [part.slice(0, eq), part.slice(eq + 1)];
    });
}

/** The value of --netN, in the order Proxmox itself writes it. */
export function renderNetValue(nic: NicSpec): string {
    return [
        `name=${nic.interfaceName}`,
        `bridge=${nic.bridge}`,
        `gw=${nic.gateway}`,
        `hwaddr=${nic.macAddress}`,
        `ip=${nic.address}/${nic.prefixLength}`,
        "type=veth",
    ].join(",");
}

function header(nic: NicSpec): string {
    return [
        "set -eu",
        `vmid=${nic.vmid}`,
        `key=net${nic.index}`,
        `value=${shellQuote(renderNetValue(nic))}`,
        `ifname=${shellQuote(nic.interfaceName)}`,
        `gw=${shellQuote(nic.gateway)}`,
    ].join("\n");
}

// A gateway outside a /32 is reachable only through an on-link route. Proxmox writes one into
// the container's network configuration (post-up "ip route add <gw> dev <if>"); on a running
// container this makes sure it is there now, and says so when it had to add it.
const APPLY = `pct set "$vmid" "--$key" "$value"
if pct status "$vmid" | grep -q 'status: running'; then
  if ! pct exec "$vmid" -- ip -4 route show "$gw" | grep -q "dev $ifname"; then
    pct exec "$vmid" -- ip -4 route replace "$gw" dev "$ifname" scope link
    echo "onlink=added"
  fi
fi
echo "applied=$value"`;

/**
 * Create: remember what netN was before (empty if none), then set it. The previous value goes
 * to stdout, which the command provider keeps in state and hands back to update and delete. It
 * is also kept in a file on the host, written once: a create that failed half-way and runs
 * again must not take the stack's own value for the original.
 */
export function renderCreateScript(nic: NicSpec): string {
    return `${header(nic)}
state_dir=\${OVH_FAILOVER_STATE_DIR:-/var/lib/ovh-failover}
state="$state_dir/pct-$vmid-$key.previous"
mkdir -p "$state_dir"
if [ ! -e "$state" ]; then
  pct config "$vmid" | sed -n "s/^$key: //p" > "$state.new"
  mv "$state.new" "$state"
fi
previous=$(cat "$state")
echo "previous=$previous"
${APPLY}
`;
}

/** Update: same as create, but the value from before the stack stays the one remembered. */
export function renderUpdateScript(nic: NicSpec): string {
    return `${header(nic)}
previous=$(printf '%s\\n' "\${PULUMI_COMMAND_STDOUT:-}" | sed -n 's/^previous=//p' | head -n 1)
echo "previous=$previous"
${APPLY}
`;
}

/**
 * Delete removes only what the stack added: if netN still carries the stack's MAC it is put back
 * as it was before (or removed if there was none); if someone changed it since, it is left alone.
 */
export function renderDeleteScript(nic: NicSpec): string {
    return `${header(nic)}
mac=${shellQuote(nic.macAddress)}
previous=$(printf '%s\\n' "\${PULUMI_COMMAND_STDOUT:-}" | sed -n 's/^previous=//p' | head -n 1)
current=$(pct config "$vmid" | sed -n "s/^$key: //p")
state="\${OVH_FAILOVER_STATE_DIR:-/var/lib/ovh-failover}/pct-$vmid-$key.previous"
if ! printf '%s\\n' "$current" | grep -qi "hwaddr=$mac"; then
  echo "$key of $vmid no longer carries $mac; left as it is"
  rm -f "$state"
  exit 0
fi
if [ -n "$previous" ]; then
  pct set "$vmid" "--$key" "$previous"
  echo "restored=$previous"
else
  pct set "$vmid" --delete "$key"
  echo "deleted=$key"
fi
rm -f "$state"
`;
}
