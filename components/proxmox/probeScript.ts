// The gateway probe: a POSIX sh script that runs inside a Debian/Ubuntu container with no extra
// packages and says whether the gateway answers ARP on the container's public interface. Seed 000
// found its dead gateway by reading `ip neigh` (FAILED); this does the same, on purpose, before
// DNS moves, and every minute from monitoring.
import { shellQuote } from "../shared/shell";

export interface ProbeSpec {
    /** Interface inside the container, e.g. eth1. */
    interfaceName: string;
    /** Gateways tried in order; the first that answers wins. One for a known gateway. */
    gateways: string[];
    /** ARP requests per gateway. */
    tries: number;
    /** Seconds allowed for each gateway's verdict. */
    timeoutSeconds: number;
    /** Who is probing, for the verdict line, e.g. "container 101 net1". */
    label: string;
}

export const DEFAULT_PROBE = { tries: 3, timeoutSeconds: 5 };

/**
 * Prints one line per gateway tried, `gateway-probe: <label> <iface> gateway <gw>: alive|DEAD
 * (<what was seen>)`, then `chosen=<gw>` for the first that answered, and exits 0; or exits 1
 * when none answered within the bound.
 *
 * With arping (iputils' or Thomas Habets') it sends ARP requests itself. Without it, a ping makes
 * the kernel resolve the neighbour afresh (a cached entry is dropped first) and the neighbour
 * table's state is the verdict: REACHABLE, STALE or DELAY is alive, FAILED or INCOMPLETE at the
 * bound is dead. ICMP may be filtered; ARP
 * cannot be, so the ping's own result is ignored.
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

say() {
  echo "gateway-probe: $label $iface gateway $1: $2"
}

arp_probe() {
  if arping -V 2>&1 | grep -q iputils; then
    arping -q -f -c "$tries" -w "$bound" -I "$iface" "$1" >/dev/null 2>&1
  else
    arping -q -C 1 -c "$tries" -w "$bound" -i "$iface" "$1" >/dev/null 2>&1
  fi
}

neigh_state() {
  ip -4 neigh show "$1" dev "$iface" 2>/dev/null | awk 'NF { print $NF; exit }'
}

neigh_probe() {
  added=""
  if ! ip -4 route show "$1" 2>/dev/null | grep -q "dev $iface"; then
    ip -4 route add "$1" dev "$iface" scope link 2>/dev/null && added=yes
  fi
  # A cached REACHABLE or STALE says nothing about now: forget it, so the ping resolves afresh.
  case "$(neigh_state "$1")" in
    ""|PERMANENT|NOARP) ;;
    *) ip -4 neigh del "$1" dev "$iface" 2>/dev/null ;;
  esac
  ping -q -n -c 1 -W 1 -I "$iface" "$1" >/dev/null 2>&1 &
  n=0
  state=""
  while [ "$n" -lt ${ticks} ]; do
    state=$(neigh_state "$1")
    case "$state" in
      REACHABLE|STALE|DELAY|FAILED) break ;;
    esac
    sleep 0.2
    n=$((n + 1))
  done
  wait 2>/dev/null
  if [ -n "$added" ]; then ip -4 route del "$1" dev "$iface" scope link 2>/dev/null; fi
  seen="\${state:-no entry}"
  case "$state" in
    REACHABLE|STALE|DELAY) return 0 ;;
    *) return 1 ;;
  esac
}

probe() {
  if command -v arping >/dev/null 2>&1; then
    if arp_probe "$1"; then say "$1" "alive (arping: ARP reply)"; return 0; fi
    say "$1" "DEAD (arping: no ARP reply in $tries tries within \${bound}s)"
    return 1
  fi
  if neigh_probe "$1"; then say "$1" "alive (ip neigh: $seen)"; return 0; fi
  say "$1" "DEAD (ip neigh: $seen within \${bound}s)"
  return 1
}

for gw in $gateways; do
  if probe "$gw"; then
    echo "chosen=$gw"
    exit 0
  fi
done
echo "gateway-probe: $label $iface: no gateway answered (tried $gateways)" >&2
exit 1
`;
}
