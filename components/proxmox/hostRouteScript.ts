// Rendering of the Proxmox host side of a routed-mode endpoint (OVH's "Additional IP in routed
// mode on public network interfaces" guide for Proxmox VE; pve-docs "Routed Configuration"): the
// additional IP (or a whole block) routed to a bridge with no ports that holds a private address,
// IPv4 forwarding on, proxy ARP on the public uplink. Pure functions: the HostRoute component
// runs their output on the host over SSH.
//
// OVH's guide writes all of it into /etc/network/interfaces (`up ip route add …`, `up echo 1 >
// /proc/sys/…`) and restarts networking. Here nothing touches that file (the Proxmox GUI owns and
// rewrites it) and nothing restarts networking over SSH. Instead:
// - at run time: `ip route replace <dest> dev <bridge>`, `sysctl -w` of the two keys;
// - across reboots: HOST_ROUTE_PATHS.sysctlConf for the sysctls, and an ifupdown hook
//   (HOST_ROUTE_PATHS.hook) that replays the routes listed in HOST_ROUTE_PATHS.list when their
//   bridge comes up (the kernel drops a device's routes when it goes down).
//
// Upstream facts relied on:
// - ifupdown2 runs every file of /etc/network/if-up.d for each interface it brings up, after the
//   addon modules of the `up` phase, with IFACE=<interface>, MODE=start, PHASE=up added to its own
//   environment; a file named like an addon module is skipped; a failing script is logged, not
//   fatal (CumulusNetworks/ifupdown2 3.9.0, ifupdown2/ifupdown/ifupdownmain.py load_scripts,
//   generate_running_env; ifupdown2/ifupdown/scheduler.py run_iface_op). It is on by default
//   (etc/network/ifupdown2/ifupdown2.conf: addon_scripts_support=1) and Proxmox's package for
//   PVE 8 (ifupdown2 3.9.0-1+pmx2, bookworm) keeps it: its config-tuning patch changes other keys,
//   and its patch 0010 only skips dpkg backup files (*.dpkg-old, …) there (Proxmox's ifupdown2
//   packaging, debian/patches/series, pve/0005-config-tuning.patch,
//   pve/0010-main-ignore-dpkg-files-when-running-hook-scripts.patch). The link is set up before
//   the scripts run (ifupdownmain.py run_up, the `up` ops handler; delay_admin_state_change=0 in
//   the shipped ifupdown2.conf), and the kernel refuses a route on a device that is down ("Device
//   for nexthop is not up"), so the hook's place is if-up.d. Classic ifupdown runs the same
//   directory with run-parts, which runs only names of [A-Za-z0-9_-] (debianutils run-parts(8)):
//   "ovh-failover" suits both.
//   Not verified on a running PVE 8 host: the hook is tested here by running it as ifupdown2
//   would (IFACE set, the bridge taken down and up), not under ifupdown2 itself.
// - systemd applies /etc/sysctl.d at boot (systemd-sysctl.service), and again for each network
//   device as it appears, for that device's keys (Debian 12 systemd 252,
//   /lib/udev/rules.d/99-systemd.rules: `systemd-sysctl --prefix=/net/ipv4/conf/$name …`), so
//   proxy_arp of a bridge that ifupdown2 creates after boot is set too. A key whose first
//   separator is '/' keeps the dots of an interface name (sysctl.d(5)); procps' sysctl accepts '/'
//   in place of '.' (sysctl(8)): the scripts use that form for every key.
// - Writing net.ipv4.ip_forward (or net.ipv4.conf.all.forwarding) sets the forwarding of every
//   interface and of `default` to the same value, and net.ipv4.conf.all.accept_redirects to its
//   opposite (Linux net/ipv4/devinet.c, inet_forward_change), only when the value changes
//   (devinet_sysctl_forward). ifupdown2 sets forwarding=1 on a bridge that holds an address even
//   when ip_forward is 0 (addons/address.py, _set_bridge_forwarding), and a hardened host sets
//   accept_redirects to 0. So turning ip_forward back to 0 is not enough to restore a host: the
//   values seen before are recorded and written back after it.
//
// IPv6 (destination6, an address routed as /128) is ours, not OVH's: OVH documents no routed
// IPv6 for Proxmox guests (proxmox-network-HG-Scale covers IPv4 only), and a server's IPv6 is
// on-link on its public interface, where OVH's router finds each address by neighbour discovery
// (ovh/docs pages/bare_metal_cloud/dedicated_servers/network_ipv6). So the host answers neighbour
// solicitations for the routed address on the uplink (a proxy entry, with proxy_ndp on) and
// forwards it to the bridge: the standard Linux routed setup. Kernel facts relied on
// (torvalds/linux Documentation/networking/ip-sysctl.rst, "conf/all/forwarding", "forwarding",
// "accept_ra", "proxy_ndp"; net/ipv6/addrconf.c addrconf_fixup_forwarding):
// - Writing net.ipv6.conf.all.forwarding sets every interface's forwarding and `default`'s to the
//   same value; writing 0 also clears each interface's force_forwarding (kernels that have it).
//   So, as for IPv4, the values seen before are recorded and written back after it.
// - With forwarding 1 an interface ignores Router Advertisements unless its accept_ra is 2: a host
//   whose routes come from RAs (`proto ra`) would lose them as they expire. Create refuses such a
//   host (HOST_ROUTE_EXIT.raRoutes) rather than cut it off.
// - proxy_ndp of an interface makes it answer neighbour solicitations for the addresses of its
//   proxy entries (`ip -6 neigh add proxy <addr> dev <uplink>`). The kernel drops those entries,
//   and a device's IPv6 routes, when the device goes down (seen on the lab's kernel: the hook puts
//   both back, as it does the IPv4 routes).
// - systemd's udev rule (above; its RUN also has --prefix=/net/ipv6/conf/$name) applies the sysctl.d keys of that prefix to each new
//   device too, so proxy_ndp of a bridge created after boot is set.
// An IPv4-only route renders no IPv6 step, but what all the routes of a host share (the hook, the
// sysctl.d file's writer, the restore with the last line) knows both families: a route of either
// kind may be the one that rewrites or removes them.
import { shellQuote } from "../shared/shell";
import { parseIpv6Gateway, parseRoutedDestination6 } from "../shared/ipv6";
import {
    ConfigValueError, parseBridge, parseHostInterface, parseIpv4, parseOwnerTag, parsePrefixLength4, parseRoutedDestination,
} from "../shared/validate";

export interface HostRouteSpec {
    /** What is routed, in CIDR form: 203.0.113.10/32 or 203.0.113.8/29. */
    destination: string;
    /** The bridge with no ports the guests' NICs are on, e.g. vmbr2. */
    bridge: string;
    /** The private address the bridge holds (the guests' gateway), e.g. 192.168.0.1. */
    bridgeAddress: string;
    bridgePrefixLength: number;
    /** The public interface that answers ARP for the routed addresses, e.g. vmbr0. */
    uplink: string;
    /** Who holds the route among the resources on the host: `<project>/<stack>/<name>`. */
    owner: string;
    /** An IPv6 address routed to the bridge as /128, with a neighbour proxy on the uplink: 2001:db8::10/128. */
    destination6?: string;
    /** The IPv6 address the bridge holds (the guests' IPv6 gateway), e.g. fd00::1; with destination6 only. */
    bridgeAddress6?: string;
}

/** Where the host keeps what the stack set up. The lock lives in /run: it never goes while anyone may wait on it, and goes at reboot. */
export const HOST_ROUTE_PATHS = {
    /**
     * The routes the stack holds on the host, one a line: `<destination> <bridge> <uplink> <owner>
     * added|adopted`; an IPv6 destination's line (`…/128`) has a sixth field, whether the stack
     * added the uplink's neighbour proxy entry: `proxy-added|proxy-kept`.
     */
    list: "/etc/ovh-failover/routes",
    sysctlConf: "/etc/sysctl.d/90-ovh-failover.conf",
    hook: "/etc/network/if-up.d/ovh-failover",
    /** What the host was before: sysctls, files and folders the stack created. */
    stateDir: "/var/lib/ovh-failover/routed",
    lock: "/run/lock/ovh-failover-routes.lock",
} as const;

/** The folders the scripts may create, parents first; each one the stack created goes when it is empty. */
const DIRS = ["/etc/ovh-failover", "/etc/sysctl.d", "/etc/network", "/etc/network/if-up.d", "/var/lib/ovh-failover", HOST_ROUTE_PATHS.stateDir];

/** Exit codes of the create (and update) script: each refusal its own. Nothing is changed on any of them but notEffective. */
export const HOST_ROUTE_EXIT = {
    toolMissing: 20,
    lockTimeout: 21,
    noBridge: 22,
    bridgeWithoutAddress: 23,
    noUplink: 24,
    destinationOnHost: 25,
    routedElsewhere: 26,
    claimedByAnother: 27,
    /** The bridge is down: the kernel refuses a route on it ("Device for nexthop is not up"). */
    bridgeDown: 29,
    /** Applied, but `ip route get` still goes elsewhere (a policy rule, another table): left applied for delete to undo. */
    notEffective: 28,
    /** The bridge does not hold bridgeAddress6, the guests' IPv6 gateway. */
    bridgeWithoutAddress6: 30,
    /** Routes learned from Router Advertisements on an interface that would stop taking them once forwarding is on. */
    raRoutes: 31,
} as const;

/** Seconds a script waits for another HostRoute's script on the same host. */
export const HOST_ROUTE_LOCK_SECONDS = 300;

/** The spec checked again: values reach a shell and host files. */
function checkedSpec(spec: HostRouteSpec): HostRouteSpec {
    const checked: HostRouteSpec = {
        destination: parseRoutedDestination(spec.destination),
        bridge: parseHostInterface(parseBridge(spec.bridge)),
        bridgeAddress: parseIpv4(spec.bridgeAddress),
        bridgePrefixLength: parsePrefixLength4(spec.bridgePrefixLength),
        uplink: parseHostInterface(spec.uplink),
        owner: parseOwnerTag(spec.owner),
    };
    if (checked.bridge === checked.uplink) throw new ConfigValueError(`an uplink other than the routed bridge (${checked.bridge})`);
    if ((spec.destination6 === undefined) !== (spec.bridgeAddress6 === undefined)) {
        throw new ConfigValueError("destination6 and bridgeAddress6 together: the guests' IPv6 gateway is the bridge's address");
    }
    if (spec.destination6 !== undefined) {
        checked.destination6 = parseRoutedDestination6(spec.destination6);
        checked.bridgeAddress6 = parseIpv6Gateway(spec.bridgeAddress6);
        if (checked.destination6 === `${checked.bridgeAddress6}/128`) throw new ConfigValueError(`a bridge address other than the routed address (${checked.bridgeAddress6})`);
    }
    return checked;
}

/** The spec's IPv6 part, when it has one. */
function six(spec: HostRouteSpec): { destination6: string; bridgeAddress6: string } | undefined {
    return spec.destination6 !== undefined && spec.bridgeAddress6 !== undefined ? { destination6: spec.destination6, bridgeAddress6: spec.bridgeAddress6 } : undefined;
}

/** The address `ip route get` looks up for a destination: the IP, or a block's first address. */
export function destinationAddress(destination: string): string {
    return destination.split("/")[0];
}

/**
 * The hook ifupdown runs for every interface it brings up. It holds no value of any stack: it
 * reads the list, and acts only on lines whose bridge (a route the stack added) or uplink
 * (proxy_arp, which systemd's udev rule sets too) is the interface. It never fails: a failing
 * hook would be logged by ifupdown2 as the interface's error.
 */
export function renderIfUpHook(): string {
    return `#!/bin/sh
# Written by ovh-failover (HostRoute); removed with the last route it lists. ifupdown runs it
# for each interface it brings up (IFACE): the routes the stack added to that bridge, listed in
# ${HOST_ROUTE_PATHS.list}, are put back (the kernel drops them when the bridge goes down), and on
# the uplink the neighbour proxy entries of the IPv6 ones (dropped when the uplink goes down).
list=${HOST_ROUTE_PATHS.list}
[ -n "\${IFACE:-}" ] && [ -r "$list" ] || exit 0
PATH=/usr/sbin:/usr/bin:/sbin:/bin
while read -r dest bridge uplink _ kind ndp; do
  if [ "$bridge" = "$IFACE" ] && [ "$kind" = added ]; then
    ip route replace "$dest" dev "$bridge" || echo "ovh-failover: ip route replace $dest dev $bridge failed" >&2
  fi
  if [ "$uplink" = "$IFACE" ]; then
    case "$dest" in
      *:*)
        sysctl -q -w "net/ipv6/conf/$uplink/proxy_ndp=1" || echo "ovh-failover: proxy_ndp on $uplink failed" >&2
        if [ "$ndp" = proxy-added ]; then
          ip -6 neigh replace proxy "\${dest%/128}" dev "$uplink" || echo "ovh-failover: neighbour proxy \${dest%/128} on $uplink failed" >&2
        fi
        ;;
      *) sysctl -q -w "net/ipv4/conf/$uplink/proxy_arp=1" || echo "ovh-failover: proxy_arp on $uplink failed" >&2 ;;
    esac
  fi
done < "$list"
exit 0
`;
}

function header(spec: HostRouteSpec): string {
    const p = HOST_ROUTE_PATHS;
    return [
        "# shellcheck disable=SC2034 # every script names every value; each uses some",
        "set -eu",
        `dest=${shellQuote(spec.destination)}`,
        // ip prints a /32 without its length.
        `shown=${shellQuote(spec.destination.replace(/\/32$/, ""))}`,
        `probe=${shellQuote(destinationAddress(spec.destination))}`,
        `bridge=${shellQuote(spec.bridge)}`,
        `address=${shellQuote(`${spec.bridgeAddress}/${spec.bridgePrefixLength}`)}`,
        `uplink=${shellQuote(spec.uplink)}`,
        `owner=${shellQuote(spec.owner)}`,
        `list=${shellQuote(p.list)}`,
        `conf=${shellQuote(p.sysctlConf)}`,
        `hook=${shellQuote(p.hook)}`,
        `state=${shellQuote(p.stateDir)}`,
        `lock=${shellQuote(p.lock)}`,
        `dirs=${shellQuote(DIRS.join(" "))}`,
        ...header6(spec),
    ].join("\n");
}

function header6(spec: HostRouteSpec): string[] {
    const v6 = six(spec);
    if (!v6) return [];
    return [
        `dest6=${shellQuote(v6.destination6)}`,
        // ip prints a /128 without its length.
        `shown6=${shellQuote(v6.destination6.replace(/\/128$/, ""))}`,
        `address6=${shellQuote(v6.bridgeAddress6)}`,
    ];
}

// Shared by every script: the tools, the lock (held to the end of the script: every read and
// write of the list, the records and the sysctls happens under it, so that HostRoutes that Pulumi
// creates in parallel on one host do not lose each other's lines), and small helpers.
// flock is util-linux's (Essential in Debian, so on every Proxmox VE host) or busybox's applet.
const PRELUDE = `refuse() { code=$1; shift; echo "ovh-failover: $*" >&2; exit "$code"; }
for tool in ip sysctl flock awk; do
  command -v "$tool" >/dev/null 2>&1 || refuse ${HOST_ROUTE_EXIT.toolMissing} "$tool is not installed on this host: nothing changed"
done
mkdir -p "$(dirname "$lock")"
exec 9>>"$lock"
flock -w ${HOST_ROUTE_LOCK_SECONDS} 9 || refuse ${HOST_ROUTE_EXIT.lockTimeout} "another HostRoute held $lock for ${HOST_ROUTE_LOCK_SECONDS} s: nothing changed"
# The list without this resource's line; the line itself.
others() { if [ -f "$list" ]; then awk -v d="$dest" -v o="$owner" '!($1 == d && $4 == o)' "$list"; fi; }
mine() { if [ -f "$list" ]; then awk -v d="$dest" -v o="$owner" '$1 == d && $4 == o' "$list"; fi; }
# Standard input becomes the list; an empty list is no file.
write_list() {
  cat > "$list.new"
  if [ -s "$list.new" ]; then mv "$list.new" "$list"; else rm -f "$list.new" "$list"; fi
}
uses_uplink() { [ -f "$list" ] && awk -v u="$1" '$1 !~ /:/ && $3 == u { f = 1 } END { exit !f }' "$list"; }
set_sysctl() { [ "$(sysctl -n "$1")" = "$2" ] || sysctl -q -w "$1=$2"; }
# The IPv6 lines of the list (their destination holds a ':').
any_six() { [ -f "$list" ] && awk '$1 ~ /:/ { f = 1 } END { exit !f }' "$list"; }
uses_six() { [ -f "$list" ] && awk -v u="$1" '$1 ~ /:/ && $3 == u { f = 1 } END { exit !f }' "$list"; }
# The sysctls the list needs, for the next boot.
write_conf() {
  {
    echo "# Written by ovh-failover (HostRoute) for the routes in $list; removed with the last one."
    echo "net.ipv4.ip_forward = 1"
    awk '$1 !~ /:/ { print $3 }' "$list" | sort -u | while read -r u; do echo "net/ipv4/conf/$u/proxy_arp = 1"; done
    if any_six; then echo "net/ipv6/conf/all/forwarding = 1"; fi
    awk '$1 ~ /:/ { print $3 }' "$list" | sort -u | while read -r u; do echo "net/ipv6/conf/$u/proxy_ndp = 1"; done
  } > "$conf.new"
  mv "$conf.new" "$conf"
}`;

/**
 * What undoes an IPv6 line (delete, and update for a stale one): a record of sysctls written back,
 * then gone; and the line's /128 and neighbour proxy entry removed when the stack added them and
 * they are still as it left them (arguments: the list line's address, bridge, uplink, and how the
 * route and the proxy entry came).
 */
const UNDO6 = `restore_sysctls() {
  if [ -f "$1" ]; then
    while read -r key value; do
      if [ -e "/proc/sys/$key" ]; then set_sysctl "$key" "$value"; fi
    done < "$1"
    rm -f "$1"
  fi
}
undo_line6() {
  undo_shown6=\${1%/128}
  if [ "$4" != added ]; then
    echo "the route to $1 was there before the stack: left as it is"
  elif ip -6 route show exact "$1" | awk -v s="$undo_shown6" -v b="$2" '$1 == s && $2 == "dev" && $3 == b && !/ via / { f = 1 } END { exit !f }'; then
    ip -6 route del "$1" dev "$2"
    echo "removed=$1 dev=$2"
  else
    echo "the route to $1 is no longer dev $2: left as it is"
  fi
  if [ "$5" != proxy-added ]; then
    echo "the neighbour proxy entry of $undo_shown6 on $3 was there before the stack: left as it is"
  elif ip -6 neigh show proxy dev "$3" | awk -v s="$undo_shown6" '$1 == s { f = 1 } END { exit !f }'; then
    ip -6 neigh del proxy "$undo_shown6" dev "$3"
    echo "removed neighbour proxy $undo_shown6 dev=$3"
  fi
}
`;

/**
 * Create: refuse (its own exit code, nothing changed) a missing bridge, a bridge without its
 * address, a missing uplink, a destination the host holds an address in, a destination routed on
 * the host by anyone but this resource, or claimed by another HostRoute. A route that is already
 * exactly `<dest> dev <bridge>` is adopted: kept, and left in place on delete. Then record what
 * was there before (once: a create run again after a failure finds its own line and its records),
 * write the list, the sysctl.d file and the hook, and apply at run time.
 */
export function renderHostRouteCreate(input: HostRouteSpec): string {
    return renderApply(checkedSpec(input), "");
}

/** Create's script; afterChecks runs once every refusal is behind (nothing changed before it). */
function renderApply(spec: HostRouteSpec, afterChecks: string): string {
    const x = HOST_ROUTE_EXIT;
    return `${header(spec)}
${PRELUDE}${prelude6(spec)}
ip link show dev "$bridge" >/dev/null 2>&1 ||
  refuse ${x.noBridge} "bridge $bridge does not exist on this host (create it in Proxmox: a Linux bridge with no ports and the address $address): nothing changed"
ip -o link show dev "$bridge" | grep -qE '<([^>]*,)?UP[,>]' ||
  refuse ${x.bridgeDown} "bridge $bridge is down (ifup $bridge, or its autostart in Proxmox): nothing changed"
if ! ip -4 -o addr show dev "$bridge" | awk -v want="$address" '$4 == want { f = 1 } END { exit !f }'; then
  held=$(ip -4 -o addr show dev "$bridge" | awk '{ printf "%s%s", sep, $4; sep = ", " }')
  refuse ${x.bridgeWithoutAddress} "bridge $bridge does not hold $address (it holds: \${held:-no IPv4 address}): nothing changed"
fi
ip link show dev "$uplink" >/dev/null 2>&1 || refuse ${x.noUplink} "uplink $uplink does not exist on this host: nothing changed"
held=$(ip -4 -o addr show to "$dest" | awk '{ printf "%s%s on %s", sep, $4, $2; sep = ", " }')
[ -z "$held" ] || refuse ${x.destinationOnHost} "this host holds an address in $dest ($held): it cannot route it to $bridge: nothing changed"
other=$(others | awk -v d="$dest" '$1 == d { print $4 }')
[ -z "$other" ] || refuse ${x.claimedByAnother} "$dest is routed by another HostRoute ($other): nothing changed"
line=$(mine)
current=$(ip -4 route show exact "$dest")
if [ -n "$line" ]; then
  kind=$(printf '%s\\n' "$line" | awk '{ print $5; exit }')
elif [ -z "$current" ]; then
  kind=added
elif printf '%s\\n' "$current" | awk -v s="$shown" -v b="$bridge" 'NR > 1 || $1 != s || $2 != "dev" || $3 != b || / via / { bad = 1 } END { exit bad }'; then
  kind=adopted
else
  refuse ${x.routedElsewhere} "$dest is already routed on this host, not by the stack ($(printf '%s' "$current" | tr '\\n' ';')): nothing changed"
fi
${createChecks6(spec)}${afterChecks}
# What the host was, recorded once: the folders and files the stack may create, then the
# sysctls it may change (the forwarding of each interface too when ip_forward goes from 0 to 1).
if [ ! -e "$state/before" ]; then
  before=$(
    for d in $dirs; do if [ -d "$d" ]; then echo "dir $d present"; else echo "dir $d absent"; fi; done
    for f in "$conf" "$hook"; do if [ -e "$f" ]; then echo "file $f present"; else echo "file $f absent"; fi; done
  )
  # shellcheck disable=SC2086 # $dirs is a list of plain paths
  mkdir -p $dirs
  for f in "$conf" "$hook"; do if [ -e "$f" ]; then cp -p "$f" "$state/saved.\${f##*/}"; fi; done
  printf '%s\\n' "$before" > "$state/before.new"
  mv "$state/before.new" "$state/before"
fi
# shellcheck disable=SC2086
mkdir -p $dirs
if [ ! -e "$state/forwarding.before" ]; then
  {
    was=$(sysctl -n net/ipv4/ip_forward)
    echo "net/ipv4/ip_forward $was"
    if [ "$was" != 1 ]; then
      echo "net/ipv4/conf/all/accept_redirects $(sysctl -n net/ipv4/conf/all/accept_redirects)"
      for d in /proc/sys/net/ipv4/conf/*; do
        i=\${d##*/}
        [ "$i" = all ] || echo "net/ipv4/conf/$i/forwarding $(cat "$d/forwarding")"
      done
    fi
  } > "$state/forwarding.before.new"
  mv "$state/forwarding.before.new" "$state/forwarding.before"
fi
if [ ! -e "$state/proxy_arp.$uplink.before" ]; then
  echo "net/ipv4/conf/$uplink/proxy_arp $(sysctl -n "net/ipv4/conf/$uplink/proxy_arp")" > "$state/proxy_arp.$uplink.before.new"
  mv "$state/proxy_arp.$uplink.before.new" "$state/proxy_arp.$uplink.before"
fi
${createRecords6(spec)}
# A line of this resource's stays where it is (a create run again changes nothing); a new one goes last.
new="$dest $bridge $uplink $owner $kind"
if [ -n "$line" ]; then
  awk -v d="$dest" -v o="$owner" -v n="$new" '$1 == d && $4 == o { print n; next } { print }' "$list" | write_list
else
  { others; echo "$new"; } | write_list
fi
${createLine6(spec)}write_conf
cat > "$hook.new" <<'OVH_FAILOVER_HOOK'
${renderIfUpHook()}OVH_FAILOVER_HOOK
chmod 755 "$hook.new"
mv "$hook.new" "$hook"

if [ "$kind" = added ]; then ip route replace "$dest" dev "$bridge"; fi
set_sysctl net/ipv4/ip_forward 1
set_sysctl "net/ipv4/conf/$uplink/proxy_arp" 1
route=$(ip -4 route get "$probe")
case " $route " in
  *" dev $bridge "*) ;;
  *) refuse ${x.notEffective} "$dest is routed dev $bridge, but ip route get $probe answers: $route (a policy rule or another table?)" ;;
esac
echo "routed=$dest dev=$bridge kind=$kind"
${createApply6(spec)}`;
}

// The IPv6 part of create, in the order of the IPv4 part: the checks (nothing changed on a
// refusal), the records of what was there, the line, the run-time state. Empty without destination6.
function createChecks6(spec: HostRouteSpec): string {
    if (!six(spec)) return "";
    const x = HOST_ROUTE_EXIT;
    return `if ! ip -6 -o addr show dev "$bridge" | awk -v want="$address6" '{ split($4, a, "/"); if (a[1] == want) f = 1 } END { exit !f }'; then
  held=$(ip -6 -o addr show dev "$bridge" | awk '{ printf "%s%s", sep, $4; sep = ", " }')
  refuse ${x.bridgeWithoutAddress6} "bridge $bridge does not hold $address6, the guests' IPv6 gateway (it holds: \${held:-no IPv6 address}): nothing changed"
fi
held=$(ip -6 -o addr show to "$dest6" | awk '{ printf "%s%s on %s", sep, $4, $2; sep = ", " }')
[ -z "$held" ] || refuse ${x.destinationOnHost} "this host holds $shown6 ($held): it cannot route it to $bridge: nothing changed"
other=$(others6 | awk -v d="$dest6" '$1 == d { print $4 }')
[ -z "$other" ] || refuse ${x.claimedByAnother} "$dest6 is routed by another HostRoute ($other): nothing changed"
# Forwarding on makes an interface ignore Router Advertisements unless its accept_ra is 2.
if [ "$(sysctl -n net/ipv6/conf/all/forwarding)" != 1 ]; then
  ra=$(ip -6 route show proto ra | awk '{ for (i = 1; i < NF; i++) if ($i == "dev") print $(i + 1) }' | sort -u | while read -r i; do
    [ "$(sysctl -n "net/ipv6/conf/$i/accept_ra" 2>/dev/null)" = 2 ] || printf '%s ' "$i"
  done)
  [ -z "$ra" ] || refuse ${x.raRoutes} "IPv6 routes from Router Advertisements on $ra: IPv6 forwarding would make the host ignore them (set accept_ra to 2 on those interfaces, or configure them statically): nothing changed"
fi
line6=$(mine6)
current6=$(ip -6 route show exact "$dest6")
if [ -n "$line6" ]; then
  kind6=$(printf '%s\\n' "$line6" | awk '{ print $5; exit }')
  ndp6=$(printf '%s\\n' "$line6" | awk '{ print $6; exit }')
else
  if [ -z "$current6" ]; then
    kind6=added
  elif printf '%s\\n' "$current6" | awk -v s="$shown6" -v b="$bridge" 'NR > 1 || $1 != s || $2 != "dev" || $3 != b || / via / { bad = 1 } END { exit bad }'; then
    kind6=adopted
  else
    refuse ${x.routedElsewhere} "$dest6 is already routed on this host, not by the stack ($(printf '%s' "$current6" | tr '\\n' ';')): nothing changed"
  fi
  # A neighbour proxy entry that was there before stays on delete.
  if ip -6 neigh show proxy dev "$uplink" | awk -v s="$shown6" '$1 == s { f = 1 } END { exit !f }'; then ndp6=proxy-kept; else ndp6=proxy-added; fi
fi
`;
}

function createRecords6(spec: HostRouteSpec): string {
    if (!six(spec)) return "";
    return `if [ ! -e "$state/forwarding6.before" ]; then
  {
    was=$(sysctl -n net/ipv6/conf/all/forwarding)
    echo "net/ipv6/conf/all/forwarding $was"
    if [ "$was" != 1 ]; then
      for d in /proc/sys/net/ipv6/conf/*; do
        i=\${d##*/}
        [ "$i" = all ] && continue
        echo "net/ipv6/conf/$i/forwarding $(cat "$d/forwarding")"
        if [ -e "$d/force_forwarding" ]; then echo "net/ipv6/conf/$i/force_forwarding $(cat "$d/force_forwarding")"; fi
      done
    fi
  } > "$state/forwarding6.before.new"
  mv "$state/forwarding6.before.new" "$state/forwarding6.before"
fi
if [ ! -e "$state/proxy_ndp.$uplink.before" ]; then
  echo "net/ipv6/conf/$uplink/proxy_ndp $(sysctl -n "net/ipv6/conf/$uplink/proxy_ndp")" > "$state/proxy_ndp.$uplink.before.new"
  mv "$state/proxy_ndp.$uplink.before.new" "$state/proxy_ndp.$uplink.before"
fi
`;
}

function createLine6(spec: HostRouteSpec): string {
    if (!six(spec)) return "";
    return `new6="$dest6 $bridge $uplink $owner $kind6 $ndp6"
if [ -n "$line6" ]; then
  awk -v d="$dest6" -v o="$owner" -v n="$new6" '$1 == d && $4 == o { print n; next } { print }' "$list" | write_list
else
  { others6; echo "$new6"; } | write_list
fi
`;
}

function createApply6(spec: HostRouteSpec): string {
    if (!six(spec)) return "";
    const x = HOST_ROUTE_EXIT;
    return `if [ "$kind6" = added ]; then ip -6 route replace "$dest6" dev "$bridge"; fi
set_sysctl net/ipv6/conf/all/forwarding 1
set_sysctl "net/ipv6/conf/$uplink/proxy_ndp" 1
if [ "$ndp6" = proxy-added ]; then ip -6 neigh replace proxy "$shown6" dev "$uplink"; fi
route=$(ip -6 route get "$shown6")
case " $route " in
  *" dev $bridge "*) ;;
  *) refuse ${x.notEffective} "$dest6 is routed dev $bridge, but ip -6 route get $shown6 answers: $route (a policy rule or another table?)" ;;
esac
echo "routed6=$dest6 dev=$bridge kind=$kind6 neighbour=$ndp6"
`;
}

/** The IPv6 line's helpers, beside the PRELUDE's others and mine. */
function prelude6(spec: HostRouteSpec): string {
    if (!six(spec)) return "";
    return `
others6() { if [ -f "$list" ]; then awk -v d="$dest6" -v o="$owner" '!($1 == d && $4 == o)' "$list"; fi; }
mine6() { if [ -f "$list" ]; then awk -v d="$dest6" -v o="$owner" '$1 == d && $4 == o' "$list"; fi; }`;
}

/**
 * Update: create, which finds its own line and its records (another host, destination, bridge,
 * bridge address or uplink replaces the resource), after undoing this resource's IPv6 lines for
 * an address other than destination6 (destination6 removed or changed: those values are not
 * among the triggers, so that adding IPv6 to a route never cuts its IPv4 route for a moment).
 * A stale line is undone as delete undoes its IPv6 line; the IPv6 sysctls are written back only
 * when no IPv6 line is left and none is about to be added, so a changed address never turns
 * IPv6 forwarding off between the two. Nothing stale: nothing more than create.
 */
export function renderHostRouteUpdate(input: HostRouteSpec): string {
    const spec = checkedSpec(input);
    return renderApply(spec, `${UNDO6}${stale6(spec)}`);
}

function stale6(spec: HostRouteSpec): string {
    return undoOwn6(spec.destination6 ?? "", spec.destination6 === undefined ? "" : spec.uplink, true);
}

/**
 * This resource's IPv6 lines in the list, but the one for keep6 (on keepUplink6), undone: each
 * line's /128 and neighbour proxy entry as undo_line6 undoes them, the lines, proxy_ndp of an
 * uplink no IPv6 line uses any more (unless keepUplink6, about to use it), and IPv6 forwarding
 * once no IPv6 line is left and none is kept. Read from the list, not from the spec: a delete
 * rendered before an update that failed half-way still undoes the line that update wrote.
 */
function undoOwn6(keep6: string, keepUplink6: string, writeConf: boolean): string {
    return `# This resource's IPv6 lines, but the one it keeps.
keep6=${shellQuote(keep6)}
keep_uplink6=${shellQuote(keepUplink6)}
stale=$(if [ -f "$list" ]; then awk -v k="$keep6" -v o="$owner" '$1 ~ /:/ && $4 == o && $1 != k' "$list"; fi)
if [ -n "$stale" ]; then
  printf '%s\\n' "$stale" | while read -r old6 old_bridge6 old_uplink6 _ old_kind6 old_ndp6; do
    undo_line6 "$old6" "$old_bridge6" "$old_uplink6" "$old_kind6" "$old_ndp6"
  done
  awk -v k="$keep6" -v o="$owner" '!($1 ~ /:/ && $4 == o && $1 != k)' "$list" | write_list
  for u in $(printf '%s\\n' "$stale" | awk '{ print $3 }' | sort -u); do
    if [ "$u" != "$keep_uplink6" ] && ! uses_six "$u"; then restore_sysctls "$state/proxy_ndp.$u.before"; fi
  done
  if [ -z "$keep6" ] && ! any_six; then restore_sysctls "$state/forwarding6.before"; fi
${writeConf ? "  write_conf\n" : ""}fi
`;
}

/**
 * Delete: this resource's route goes (only if it added it, and only while it is still
 * `dev <bridge>`), and its line; the uplink's proxy_arp goes back to its recorded value once no
 * line uses that uplink; with the last line, ip_forward (and each interface's forwarding) goes
 * back, and the list, the sysctl.d file, the hook and the folders the stack created go (files
 * that were there before come back as they were). The line on the host is the truth: its bridge
 * and uplink are used, not the script's.
 */
export function renderHostRouteDelete(input: HostRouteSpec): string {
    const spec = checkedSpec(input);
    return `${header(spec)}
${PRELUDE}${prelude6(spec)}
${UNDO6}${undoOwn6("", "", false)}line=$(mine)
if [ -z "$line" ]; then
  echo "no route of $owner to $dest in $list: nothing of it to undo"
else
  was_bridge=$(printf '%s\\n' "$line" | awk '{ print $2; exit }')
  was_uplink=$(printf '%s\\n' "$line" | awk '{ print $3; exit }')
  kind=$(printf '%s\\n' "$line" | awk '{ print $5; exit }')
  if [ "$kind" != added ]; then
    echo "the route to $dest was there before the stack: left as it is"
  elif ip -4 route show exact "$dest" | awk -v s="$shown" -v b="$was_bridge" '$1 == s && $2 == "dev" && $3 == b && !/ via / { f = 1 } END { exit !f }'; then
    ip route del "$dest" dev "$was_bridge"
    echo "removed=$dest dev=$was_bridge"
  else
    echo "the route to $dest is no longer dev $was_bridge: left as it is"
  fi
  others | write_list
  if ! uses_uplink "$was_uplink"; then restore_sysctls "$state/proxy_arp.$was_uplink.before"; fi
fi
if [ -s "$list" ]; then
  write_conf
  exit 0
fi
# The last route of the stack on this host: everything back as it was.
rm -f "$list"
for f in "$state"/proxy_arp.*.before "$state"/proxy_ndp.*.before; do restore_sysctls "$f"; done
restore_sysctls "$state/forwarding.before"
restore_sysctls "$state/forwarding6.before"
if [ -f "$state/before" ]; then
  while read -r type path was; do
    [ "$type" = file ] || continue
    if [ "$was" = present ] && [ -e "$state/saved.\${path##*/}" ]; then mv "$state/saved.\${path##*/}" "$path"; else rm -f "$path"; fi
  done < "$state/before"
  created=$(awk '$1 == "dir" && $3 == "absent" { print $2 }' "$state/before" | sort -r)
  rm -f "$state/before"
  # Deepest first; a folder that holds anything else stays.
  for d in $created; do rmdir "$d" 2>/dev/null || true; done
fi
# The project's own folders (/var/lib/ovh-failover/routed and the one above it, shared with the
# NICs' records): whichever step of the stack created them, the one that leaves them empty removes
# them, even when a replacement's record found them already there.
rmdir "$state" 2>/dev/null || true
rmdir "$(dirname "$state")" 2>/dev/null || true
echo "restored: no route of the stack left on this host"
`;
}

export interface HostRouteProbeSpec {
    /** The endpoint's address: an IP of the routed destination. */
    address: string;
    bridge: string;
    uplink: string;
    /** The endpoint's IPv6 address, when the HostRoute routes one. */
    address6?: string;
}

/**
 * A check run on the host: `ip route get <address>` goes `dev <bridge>` (not local, not
 * unreachable), and net.ipv4.ip_forward and the uplink's proxy_arp are both 1. Prints
 * `host-route: <address> dev <bridge>, forwarding and proxy_arp on <uplink>: ok` and exits 0, or
 * one line per failure and exits 1. With address6, the same for IPv6 (probe6).
 */
export function renderHostRouteProbe(spec: HostRouteProbeSpec): string {
    const address6 = spec.address6 === undefined ? undefined : parseRoutedDestination6(spec.address6).replace(/\/128$/, "");
    const address = parseIpv4(spec.address);
    const bridge = parseHostInterface(parseBridge(spec.bridge));
    const uplink = parseHostInterface(spec.uplink);
    return `set -u
address=${shellQuote(address)}
bridge=${shellQuote(bridge)}
uplink=${shellQuote(uplink)}
failed=0
fail() { echo "host-route: $*"; failed=1; }
if route=$(ip -4 route get "$address" 2>&1); then
  case "$route" in
    local*|broadcast*|unreachable*|blackhole*|prohibit*|throw*) fail "$address is not routed to a bridge: $route" ;;
    *) case " $route " in *" dev $bridge "*) ;; *) fail "$address is routed elsewhere than dev $bridge: $route" ;; esac ;;
  esac
else
  fail "ip route get $address failed: $route"
fi
forward=$(sysctl -n net/ipv4/ip_forward 2>&1) || forward="unreadable ($forward)"
[ "$forward" = 1 ] || fail "net.ipv4.ip_forward is $forward, not 1"
proxy=$(sysctl -n "net/ipv4/conf/$uplink/proxy_arp" 2>&1) || proxy="unreadable ($proxy)"
[ "$proxy" = 1 ] || fail "proxy_arp of $uplink is $proxy, not 1"
${address6 === undefined ? `[ "$failed" = 0 ] || exit 1
echo "host-route: $address dev $bridge, forwarding and proxy_arp on $uplink: ok"
` : probe6(address6)}`;
}

/**
 * The probe's IPv6 checks: the route, IPv6 forwarding, proxy_ndp, the uplink's neighbour proxy
 * entry. Each family's ok line is printed when that family passes (check-gateways reads them for
 * its two gauges); the exit status is 1 when either fails.
 */
function probe6(address6: string): string {
    return `failed4=$failed
failed=0
address6=${shellQuote(address6)}
if route6=$(ip -6 route get "$address6" 2>&1); then
  case "$route6" in
    local*|anycast*|unreachable*|blackhole*|prohibit*|throw*) fail "$address6 is not routed to a bridge: $route6" ;;
    *) case " $route6 " in *" dev $bridge "*) ;; *) fail "$address6 is routed elsewhere than dev $bridge: $route6" ;; esac ;;
  esac
else
  fail "ip -6 route get $address6 failed: $route6"
fi
forward6=$(sysctl -n net/ipv6/conf/all/forwarding 2>&1) || forward6="unreadable ($forward6)"
[ "$forward6" = 1 ] || fail "net.ipv6.conf.all.forwarding is $forward6, not 1"
ndp=$(sysctl -n "net/ipv6/conf/$uplink/proxy_ndp" 2>&1) || ndp="unreadable ($ndp)"
[ "$ndp" = 1 ] || fail "proxy_ndp of $uplink is $ndp, not 1"
ip -6 neigh show proxy dev "$uplink" 2>/dev/null | awk -v s="$address6" '$1 == s { f = 1 } END { exit !f }' ||
  fail "$uplink has no neighbour proxy entry for $address6 (ip -6 neigh show proxy dev $uplink)"
[ "$failed4" = 0 ] && echo "host-route: $address dev $bridge, forwarding and proxy_arp on $uplink: ok"
[ "$failed" = 0 ] && echo "host-route: $address6 dev $bridge, IPv6 forwarding, proxy_ndp and the neighbour proxy entry on $uplink: ok"
[ "$failed4$failed" = 00 ] || exit 1
`;
}
