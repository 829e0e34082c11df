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
    /** The NIC's IPv6 address and gateway, when the endpoint has one. */
    ipv6?: NicIpv6;
    /** Where the host keeps the NIC's original value (default DEFAULT_STATE_DIR). */
    stateDir?: string;
}

export interface NicIpv6 {
    address: string;
    prefixLength: number;
    gateway: string;
    /** The gateway is global and outside the prefix: reachable only through an on-link route. */
    onLink: boolean;
}

/**
 * The hardware address of a NIC that carries an IP without a virtual MAC (routed mode, a vRack
 * block): OVH filters nothing by MAC there, but `pct set --netN` replaces the whole value and a
 * value without hwaddr makes Proxmox draw a new one on every apply (pve-container
 * src/PVE/LXC/Config.pm, parse_lxc_network: no hwaddr, PVE::Tools::random_ether_addr). So one is derived
 * from the IP: locally administered (0x02 bit) and unicast, 0e:<the IP's four bytes>:01.
 */
export function localMacFor(ip: string): string {
    const bytes = ip.split(".").map((o) => Number(o).toString(16).padStart(2, "0"));
    return ["0e", ...bytes, "01"].join(":");
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

/**
 * The value of --netN, in the order Proxmox itself writes it. ip6 and gw6 are pve-container's
 * options for a static IPv6 address in CIDR form and its gateway (src/PVE/LXC/Config.pm, netN).
 */
export function renderNetValue(nic: NicSpec): string {
    return [
        `name=${nic.interfaceName}`,
        `bridge=${nic.bridge}`,
        `gw=${nic.gateway}`,
        ...(nic.ipv6 ? [`gw6=${nic.ipv6.gateway}`] : []),
        `hwaddr=${nic.macAddress}`,
        `ip=${nic.address}/${nic.prefixLength}`,
        ...(nic.ipv6 ? [`ip6=${nic.ipv6.address}/${nic.ipv6.prefixLength}`] : []),
        "type=veth",
    ].join(",");
}

/** Where the Proxmox host keeps what a later step needs: the NIC's value before the stack set it. */
export const DEFAULT_STATE_DIR = "/var/lib/ovh-failover";

/**
 * The options of netN the stack manages; every other option (firewall, tag, mtu, …) is the NIC's
 * own. ip6 and gw6 are managed while the endpoint has an ip6; without one they are as the NIC
 * had them before the stack.
 */
export const MANAGED_NET_OPTIONS = ["name", "bridge", "gw", "hwaddr", "ip"] as const;
export const MANAGED_NET6_OPTIONS = ["gw6", "ip6"] as const;

function header(nic: NicSpec): string {
    const stateDir = nic.stateDir ?? DEFAULT_STATE_DIR;
    return [
        "set -eu",
        `vmid=${nic.vmid}`,
        `key=net${nic.index}`,
        `value=${shellQuote(renderNetValue(nic))}`,
        `managed=${shellQuote(renderNetValue(nic).replace(/,type=veth$/, ""))}`,
        `ifname=${shellQuote(nic.interfaceName)}`,
        `gw=${shellQuote(nic.gateway)}`,
        `mac=${shellQuote(nic.macAddress)}`,
        `state=${shellQuote(`${stateDir}/pct-${nic.vmid}-net${nic.index}.original`)}`,
        // The ip6 option the stack set last: without it the stack cannot tell its own IPv6
        // from one set by hand once the endpoint has no ip6 any more.
        `state6=${shellQuote(`${stateDir}/pct-${nic.vmid}-net${nic.index}.ip6`)}`,
        ...(nic.ipv6
            ? [
                  `gw6=${shellQuote(nic.ipv6.gateway)}`,
                  `ip6=${shellQuote(`ip6=${nic.ipv6.address}/${nic.ipv6.prefixLength}`)}`,
                  `addr6=${shellQuote(nic.ipv6.address)}`,
                  `len6=${nic.ipv6.prefixLength}`,
              ]
            : []),
    ].join("\n");
}

// The NIC as it is now. A failed read (pmxcfs without quorum, the container moved to another
// node) stops the step: an empty answer would pass for "no such NIC".
const READ = `config=$(pct config "$vmid") || { echo "pct config $vmid failed: $key left as it is" >&2; exit 1; }
current=$(printf '%s\\n' "$config" | sed -n "s/^$key: //p")`;

// `pct set --netN` replaces the whole property string: an option not written is dropped
// (pve-container src/PVE/LXC/Config.pm). So the value set is the NIC's current one with the
// managed options put in place, every other option kept where it is; a NIC that does not
// exist yet gets the stack's whole value. The MAC the NIC has is kept as written when it is the
// stack's in another case: Proxmox compares hwaddr as text and a change recreates the veth
// (pve-container src/PVE/LXC.pm, update_net), while OVH writes MACs in lower case.
const MERGE = `if [ -n "$current" ]; then
  value=$(printf '%s\\n' "$current" | awk -v managed="$managed" -v drop="\${drop:-}" '
    BEGIN { n = split(managed, m, ","); for (i = 1; i <= n; i++) { k = m[i]; sub(/=.*/, "", k); want[k] = m[i]; order[i] = k }
            d = split(drop, x, ","); for (i = 1; i <= d; i++) gone[x[i]] = 1 }
    { c = split($0, p, ","); out = ""
      for (i = 1; i <= c; i++) { k = p[i]; sub(/=.*/, "", k); if (k in gone) continue; v = (k in want) ? want[k] : p[i]
        if (k == "hwaddr" && tolower(p[i]) == tolower(v)) v = p[i]
        if (k in want) done[k] = 1; out = out (out == "" ? "" : ",") v }
      for (i = 1; i <= n; i++) if (!(order[i] in done)) out = out (out == "" ? "" : ",") want[order[i]]
      print out }')
fi`;

// A gateway outside the NIC's subnet is reachable only through an on-link route. Proxmox writes
// one into the container's network configuration (post-up "ip route add <gw> dev <if>", for gw6
// too unless it is inside ip6's prefix or link-local: pve-container src/PVE/LXC/Setup/Debian.pm,
// setup_network), and adds it on a running container only when the gateway changes
// (src/PVE/LXC.pm, update_ipconfig); this makes sure it is there now, and says so when it had to.
function apply(nic: NicSpec): string {
    const onLink6 = nic.ipv6?.onLink
        ? `
  if ! pct exec "$vmid" -- ip -6 route show "$gw6" | grep -qE "dev $ifname( |$)"; then
    pct exec "$vmid" -- ip -6 route replace "$gw6" dev "$ifname"
    echo "onlink6=added"
  fi`
        : "";
    // Proxmox's hotplug of ip6/gw6 runs "ip -6 route replace default via <gw6>" without a device,
    // which the kernel refuses for a link-local gateway, and then takes the new address back off
    // with only a warning, while the config keeps the new value (src/PVE/LXC.pm, update_ipconfig;
    // vmconfig_hotplug_pending). So on a running container the address and the default route are
    // made sure of here, each only when missing.
    const running6 = nic.ipv6
        ? `${onLink6}
  if [ -z "$(pct exec "$vmid" -- ip -6 addr show dev "$ifname" to "$addr6/128")" ]; then
    pct exec "$vmid" -- ip -6 addr add "$addr6/$len6" dev "$ifname"
    echo "address6=added"
  fi
  if ! pct exec "$vmid" -- ip -6 route show default | grep -qE "via $gw6 dev $ifname( |$)"; then
    pct exec "$vmid" -- ip -6 route replace default via "$gw6" dev "$ifname"
    echo "default6=set"
  fi`
        : "";
    // The ip6 the stack set, or no record of one once it sets none (see UNMANAGED6).
    // Its second line is the NIC's own ip6 and gw6 when the stack first set its own: what goes
    // back when the endpoint's ip6 is removed.
    const record6 = nic.ipv6
        ? `mkdir -p "$(dirname "$state6")"
if [ -e "$state6" ]; then own6=$(sed -n 2p "$state6"); else own6=$(printf '%s\\n' "$current" | tr ',' '\\n' | grep -E '^(ip6|gw6)=' | paste -sd, -) || true; fi
printf '%s\\n%s\\n' "$ip6" "$own6" > "$state6.new"
mv "$state6.new" "$state6"`
        : `rm -f "$state6"`;
    return `pct set "$vmid" "--$key" "$value"
${record6}
if pct status "$vmid" | grep -q 'status: running'; then
  if ! pct exec "$vmid" -- ip -4 route show "$gw" | grep -qE "dev $ifname( |$)"; then
    pct exec "$vmid" -- ip -4 route replace "$gw" dev "$ifname" scope link
    echo "onlink=added"
  fi${running6}
fi
echo "applied=$value"`;
}

// An endpoint whose ip6 was removed: the IPv6 the stack set (line 1 of $state6, and still on
// the NIC) goes back to what the NIC had when the stack first set its own (line 2), option by
// option; an ip6 changed by hand since is not the stack's and stays.
const UNMANAGED6 = `drop=""
if [ -e "$state6" ] && printf ',%s,\\n' "$current" | grep -qF ",$(sed -n 1p "$state6"),"; then
  original6=$(sed -n 2p "$state6")
  managed="$managed\${original6:+,$original6}"
  for k in ip6 gw6; do
    printf ',%s,\\n' "$original6" | grep -q ",$k=" || drop="\${drop:+$drop,}$k"
  done
fi`;

/** The merge of the stack's options into the NIC's current value (with UNMANAGED6 when the endpoint has no ip6). */
function merge(nic: NicSpec): string {
    return nic.ipv6 ? MERGE : `${UNMANAGED6}\n${MERGE}`;
}

/**
 * Create: record what netN was before (an empty file when there was none) in a file on the host,
 * written once, so that a create that failed half-way and runs again does not take the stack's
 * own value for the original; then set the merged value. Nothing a later step needs travels in
 * the command's output: @pulumi/command hands it back through SSH SetEnv, which stock sshd
 * refuses (AcceptEnv LANG LC_* on Debian, nothing on OpenBSD).
 */
export function renderCreateScript(nic: NicSpec): string {
    return `${header(nic)}
${READ}
mkdir -p "$(dirname "$state")"
if [ ! -e "$state" ]; then
  # The NIC as the stack first finds it, made by hand or by nobody: what delete puts back. (One
  # that already carries the stack's MAC is adopted as it is: it was there before the stack.)
  printf '%s\\n' "$current" > "$state.new"
  mv "$state.new" "$state"
fi
${merge(nic)}
${apply(nic)}
`;
}

/** Update: the same merge on the NIC as it is now; the recorded original stays as it was. */
export function renderUpdateScript(nic: NicSpec): string {
    return `${header(nic)}
${READ}
[ -e "$state" ] || echo "warning: no record of $key of $vmid before the stack ($state): delete will leave it as it is"
${merge(nic)}
${apply(nic)}
`;
}

/**
 * Delete puts back the recorded original byte for byte (or removes a NIC the stack added), and
 * only if netN still carries the stack's MAC: changed since, it is someone else's and is left.
 */
export function renderDeleteScript(nic: NicSpec): string {
    return `${header(nic)}
${READ}
if ! printf '%s\\n' "$current" | grep -qiF "hwaddr=$mac"; then
  echo "$key of $vmid no longer carries $mac; left as it is"
  rm -f "$state" "$state6"
  rmdir "$(dirname "$state")" 2>/dev/null || true
  exit 0
fi
if [ ! -e "$state" ]; then
  echo "no record of $key of $vmid before the stack ($state); left as it is" >&2
  exit 0
fi
original=$(cat "$state")
if [ -n "$original" ]; then
  pct set "$vmid" "--$key" "$original"
  echo "restored=$original"
else
  pct set "$vmid" --delete "$key"
  echo "deleted=$key"
fi
rm -f "$state" "$state6"
# The project's own folder (/var/lib/ovh-failover) holds what each of the stack's steps on this host
# needs later; whichever step created it first, the one that leaves it empty removes it.
rmdir "$(dirname "$state")" 2>/dev/null || true
`;
}
