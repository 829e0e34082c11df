// The gateway probe: a POSIX sh script that runs inside a Debian/Ubuntu or Alpine (busybox)
// container with no extra packages and says whether the gateway answers ARP on the container's
// public interface. Seed 000 found its dead gateway by reading `ip neigh` (FAILED); this does the
// same, on purpose, before DNS moves, and every minute from monitoring.
import { shellQuote } from "../shared/shell";

export interface ProbeSpec {
    /** Interface inside the container, e.g. eth1. */
    interfaceName: string;
    /** The NIC's IPv4 address (the failover IP): its traffic must leave through the NIC and its gateway. */
    address: string;
    /** Gateways tried in order; the first that answers wins. One for a known gateway. */
    gateways: string[];
    /** The IPv6 gateway, when the NIC has one: it must answer neighbour discovery too. */
    gateway6?: string;
    /** The NIC's IPv6 address, which the container must hold (past DAD) for the gateway to count. */
    address6?: string;
    /** ARP requests per gateway. */
    tries: number;
    /** Seconds allowed for each gateway's verdict. */
    timeoutSeconds: number;
    /** Who is probing, for the verdict line, e.g. "container 101 net1". */
    label: string;
}

export const DEFAULT_PROBE = { tries: 3, timeoutSeconds: 5 };

/** TEST-NET-1 (RFC 5737): no host has it, so a container reaches it only by its default route. */
export const ROUTE_TARGET = "192.0.2.1";

/**
 * Prints one line per gateway tried, `gateway-probe: <label> <iface> gateway <gw>: alive|DEAD
 * (<what was seen>)`, then `chosen=<gw>` for the first that answered, and exits 0; or exits 1
 * when none answered within the bound.
 *
 * ARP proves the gateway is on the link, not that the failover IP's traffic goes to it. So,
 * first, the NIC must hold its address, `ip route get` from it to an address only a default
 * route reaches must leave through the NIC, and no default route may leave through another
 * interface (Proxmox writes one for every NIC with a gateway, and which one wins can change with
 * a restart); then, once a single gateway has answered, the route must go via it (`route from
 * <address>: DEAD (…)` lines). Among candidates, the host sets the one that answered on the NIC
 * and probes again for the route.
 *
 * With arping (iputils', Thomas Habets' or busybox's, as in an Alpine container) it sends ARP
 * requests itself; an arping it cannot tell apart is not trusted with flags it may not take. Without
 * it, a ping makes the kernel resolve the neighbour afresh (a cached entry is dropped first) and the
 * neighbour table's state is the verdict: REACHABLE, STALE or DELAY is alive, FAILED or INCOMPLETE
 * at the bound is dead. ICMP may be filtered; ARP cannot be, so the ping's own result is ignored.
 * Everything it calls is in busybox as well as in Debian's packages, with the options both take.
 *
 * The IPv6 gateway is proved the same way by neighbour discovery, once the interface's addresses
 * have left DAD's tentative state (a tentative address cannot send: ndisc6 fails with "Cannot
 * assign requested address", ping picks the link-local source), and only if the NIC holds its
 * own address: solicited from the link-local address, the gateway answers either way, and an
 * address that failed DAD (a duplicate on the link) or never came is no IPv6 at all. With ndisc6 (Debian's ndisc6):
 * its exit status is 0 for an advertisement, 2 for none after its tries, 1 for an error such as
 * no CAP_NET_RAW (ndisc6(8)), which falls back to the neighbour table. Without it, ping -6 and
 * `ip -6 neigh`, as for IPv4. A gateway outside the prefix needs an on-link route first.
 */
export function renderProbeScript(spec: ProbeSpec): string {
    const ticks = spec.timeoutSeconds * 5;
    return `#!/bin/sh
# gateway probe rendered by ovh-failover
set -u
iface=${shellQuote(spec.interfaceName)}
label=${shellQuote(spec.label)}
tries=${spec.tries}
bound=${spec.timeoutSeconds}
# PROBE_GATEWAYS overrides the rendered list: monitoring probes the gateway the NIC has now.
gateways=\${PROBE_GATEWAYS:-${shellQuote(spec.gateways.join(" "))}}
# PROBE_GATEWAY6 likewise; empty when the NIC has no IPv6 gateway.
gateway6=\${PROBE_GATEWAY6-${shellQuote(spec.gateway6 ?? "")}}
address6=\${PROBE_ADDRESS6-${shellQuote(spec.address6 ?? "")}}
# PROBE_ADDRESS likewise: the address the NIC has now.
address=\${PROBE_ADDRESS:-${shellQuote(spec.address)}}
target=${shellQuote(ROUTE_TARGET)}

say() {
  echo "gateway-probe: $label $iface gateway $1: $2"
}

# Which arping this is. busybox's refuses -V and prints its usage, which names BusyBox
# (libbb/appletlib.c, bb_show_usage); without usage texts, its applet is a link to busybox.
arping_kind() {
  case "$(arping -V 2>&1)" in
    *iputils*) echo iputils; return ;;
    *Habets*) echo habets; return ;;
    *BusyBox*) echo busybox; return ;;
  esac
  case "$(readlink -f "$(command -v arping)" 2>/dev/null)" in
    */busybox) echo busybox ;;
  esac
}

arp_probe() {
  case "$arping" in
    habets) arping -q -C 1 -c "$tries" -w "$bound" -i "$iface" "$1" >/dev/null 2>&1 ;;
    # busybox's takes iputils' -f -c -w -I and, like it, exits 0 on a reply and 1 on none; it
    # refuses -C and -i (busybox networking/arping.c).
    *) arping -q -f -c "$tries" -w "$bound" -I "$iface" "$1" >/dev/null 2>&1 ;;
  esac
}

# $1: the address, $2: -4 or -6.
neigh_state() {
  ip "$2" neigh show "$1" dev "$iface" 2>/dev/null | awk 'NF { print $NF; exit }'
}

neigh_probe() {
  added=""
  case "$1" in
    fe[89ab]?:*) ;; # link-local (fe80::/10): on the link by definition
    *) if ! ip "$2" route show "$1" 2>/dev/null | grep -q "dev $iface"; then
         ip "$2" route add "$1" dev "$iface" 2>/dev/null && added=yes
       fi ;;
  esac
  # A cached REACHABLE or STALE says nothing about now: forget it, so the ping resolves afresh.
  # busybox's ip has no "neigh del", only show and flush (networking/libiproute/ipneigh.c).
  case "$(neigh_state "$1" "$2")" in
    ""|PERMANENT|NOARP) ;;
    *) ip "$2" neigh del "$1" dev "$iface" 2>/dev/null ||
         ip "$2" neigh flush to "$1" dev "$iface" >/dev/null 2>&1 ;;
  esac
  # busybox's flush leaves a FAILED entry (ipneigh.c flushes all states but FAILED, PERMANENT and
  # NOARP): that one is from before, until the ping has sent it back to INCOMPLETE.
  old_failed=""
  if [ "$(neigh_state "$1" "$2")" = FAILED ]; then old_failed=yes; fi
  ping "$2" -q -n -c 1 -W 1 -I "$iface" "$1" >/dev/null 2>&1 &
  n=0
  state=""
  while [ "$n" -lt ${ticks} ]; do
    state=$(neigh_state "$1" "$2")
    case "$state" in
      REACHABLE|STALE|DELAY) break ;;
      FAILED) if [ -z "$old_failed" ]; then break; fi ;;
      *) old_failed="" ;;
    esac
    sleep 0.2
    n=$((n + 1))
  done
  wait 2>/dev/null
  if [ -n "$added" ]; then ip "$2" route del "$1" dev "$iface" 2>/dev/null; fi
  seen="\${state:-no entry}"
  case "$state" in
    REACHABLE|STALE|DELAY) return 0 ;;
    *) return 1 ;;
  esac
}

arping=""
if command -v arping >/dev/null 2>&1; then arping=$(arping_kind); fi

probe() {
  if [ -n "$arping" ]; then
    if arp_probe "$1"; then say "$1" "alive (arping: ARP reply)"; return 0; fi
    say "$1" "DEAD (arping: no ARP reply in $tries tries within \${bound}s)"
    return 1
  fi
  if neigh_probe "$1" -4; then say "$1" "alive (ip neigh: $seen)"; return 0; fi
  say "$1" "DEAD (ip neigh: $seen within \${bound}s)"
  return 1
}

# Until no address of the interface is tentative (DAD), or one failed DAD, or the bound.
wait_for_dad() {
  n=0
  while [ "$n" -lt ${ticks} ]; do
    # All of them: busybox's ip takes no "tentative" filter (networking/libiproute/ipaddress.c).
    case "$(ip -6 addr show dev "$iface" 2>/dev/null)" in
      *dadfailed*) return ;;
      *tentative*) ;;
      *) return ;;
    esac
    sleep 0.2
    n=$((n + 1))
  done
}

probe6() {
  wait_for_dad
  held=$(ip -6 addr show dev "$iface" to "$address6/128" 2>/dev/null)
  case "$held" in
    "") say "$1" "DEAD (the NIC does not hold $address6)"; return 1 ;;
    *dadfailed*) say "$1" "DEAD ($address6 failed duplicate address detection: another host on the link has it)"; return 1 ;;
    *tentative*) say "$1" "DEAD ($address6 still tentative after \${bound}s)"; return 1 ;;
  esac
  if command -v ndisc6 >/dev/null 2>&1; then
    # From the NIC's own address: the gateway must answer it, not only the link-local one.
    ndisc6 -q -n -1 -r "$tries" -w ${Math.max(1, Math.floor((spec.timeoutSeconds * 1000) / spec.tries))} -s "$address6" "$1" "$iface" >/dev/null 2>&1
    case $? in
      0) say "$1" "alive (ndisc6: neighbour advertisement)"; return 0 ;;
      2) say "$1" "DEAD (ndisc6: no neighbour advertisement in $tries tries within \${bound}s)"; return 1 ;;
    esac
  fi
  if neigh_probe "$1" -6; then say "$1" "alive (ip -6 neigh: $seen)"; return 0; fi
  say "$1" "DEAD (ip -6 neigh: $seen within \${bound}s)"
  return 1
}

route_say() {
  echo "gateway-probe: $label $iface route from $address: $1"
}

# $1: what to look for ("via" or "dev") in the first line of $route.
route_field() {
  printf '%s\n' "$route" | awk -v k="$1" 'NR == 1 { for (i = 1; i < NF; i++) if ($i == k) { print $(i + 1); exit } }'
}

# What proves the route before any gateway is tried: the address, the interface, no other default.
route_check() {
  if [ -z "$(ip -4 addr show dev "$iface" to "$address/32" 2>/dev/null)" ]; then
    route_say "DEAD (the NIC does not hold $address)"
    return 1
  fi
  # pve-container writes a default route for every NIC with a gateway (src/PVE/LXC/Setup/Debian.pm,
  # make_gateway_scripts; Setup/Alpine.pm calls it too), and its hotplug replaces the default
  # route whichever NIC it was through (src/PVE/LXC.pm, update_ipconfig).
  other=$(ip -4 route show default 2>/dev/null | awk -v dev="$iface" '$1 == "default" {
    d = ""; for (i = 2; i < NF; i++) if ($i == "dev") d = $(i + 1)
    if (d != dev) { sub(/ +$/, ""); print; exit } }')
  if [ -n "$other" ]; then
    route_say "DEAD (a default route through another interface: $other; now or after a restart it takes $address's traffic from $iface: remove the gateway of that interface's NIC)"
    return 1
  fi
  if ! route=$(ip -4 route get "$target" from "$address" 2>&1); then
    route_say "DEAD (route missing: nothing routes $target from $address ($(printf '%s' "$route" | head -n 1)); $iface needs a default route via its gateway)"
    return 1
  fi
  dev=$(route_field dev)
  via=$(route_field via)
  if [ "$dev" != "$iface" ]; then
    route_say "DEAD (traffic from $address to $target leaves through \${dev:-no interface}, not $iface: $(printf '%s' "$route" | head -n 1))"
    return 1
  fi
  if [ -z "$via" ]; then
    route_say "DEAD (traffic from $address to $target goes out $iface through no gateway: $(printf '%s' "$route" | head -n 1))"
    return 1
  fi
}

candidates=0
for gw in $gateways; do candidates=$((candidates + 1)); done
if ! route_check; then
  echo "gateway-probe: $label $iface: traffic from $address does not leave through $iface and a gateway" >&2
  exit 1
fi

chosen=""
for gw in $gateways; do
  if probe "$gw"; then
    chosen=$gw
    break
  fi
done
if [ -z "$chosen" ]; then
  echo "gateway-probe: $label $iface: no gateway answered (tried $gateways)" >&2
  exit 1
fi
# Among candidates the NIC may still have another one as its gateway: the host sets the one that
# answered, then probes it alone.
if [ "$candidates" -eq 1 ] && [ "$via" != "$chosen" ]; then
  route_say "DEAD (traffic from $address goes via $via, not via the gateway $chosen)"
  echo "gateway-probe: $label $iface: traffic from $address does not go via $chosen" >&2
  exit 1
fi
route_say "through $iface via $via"
if [ -n "$gateway6" ] && [ -z "$address6" ]; then
  echo "gateway-probe: $label $iface: an IPv6 gateway to probe but no address to hold" >&2
  exit 1
fi
if [ -n "$gateway6" ] && ! probe6 "$gateway6"; then
  echo "gateway-probe: $label $iface: the IPv6 gateway $gateway6 did not answer" >&2
  exit 1
fi
echo "chosen=$chosen"
exit 0
`;
}
