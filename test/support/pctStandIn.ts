// A stand-in for Proxmox's `pct`, for what cannot run here: it keeps each container's
// configuration in <root>/etc/pve/lxc/<vmid>.conf and follows pve-container's documented
// semantics for what the scripts use (src/PVE/LXC/Config.pm, src/PVE/API2/LXC/Config.pm):
// - `pct set <vmid> --netN <value>` replaces the whole property string: options not written are
//   dropped; unknown options are refused; a missing hwaddr is generated anew; `type=veth` is
//   added; the value is written back `name` first, then the other options in alphabetical order;
// - `pct set <vmid> --delete netN` removes the line;
// - `pct config <vmid>` prints the `key: value` lines, sorted by key;
// - `pct list` prints nothing without a container, else a header and one line per container;
// - `pct status <vmid>` prints `status: running` or `status: stopped`;
// - `pct exec <vmid> -- <cmd…>` runs the command (here, in the caller's network namespace) in a
//   running container, and fails on a stopped one: pct.pm's exec is `lxc-attach -n <vmid> -- …`
//   (src/PVE/CLI/pct.pm), which cannot attach to a container that has no init process;
// - with `hotplug`, `pct set --netN` on a running container also changes the live interface (by
//   writeNetHotplug's script, which proxmoxHosts.ts runs for the Proxmox API stand-in too), as
//   update_net and update_ipconfig do (src/PVE/LXC.pm): a new hwaddr or name is a new veth (no
//   address or route left on it, the MAC set); then per family, when ip or gw changed: add the new
//   address (a failure cancels that family), `ip route add <gw> dev <if>` for a gateway outside
//   the new address's prefix and `ip route replace default via <gw>` (a failure removes the new
//   address and cancels that family live; the Perl only warns), the old gateway's route removed,
//   the old address removed. The config takes the value asked for whatever the live interface
//   kept: update_net returns without dying, and vmconfig_hotplug_pending then sets netN to the
//   new value (src/PVE/LXC/Config.pm), which pct set writes; pct exits 0. The
//   container's interfaces are the caller's network namespace's, as for exec; "outside the
//   prefix" is read from the kernel's connected routes of the interface;
// - a container with a network namespace of its own (proxmoxHosts.ts links: <vmid>.netns holds
//   its init's /proc/<pid>/ns/net) has exec and the hotplug run there, as lxc-attach enters the
//   container's init's namespaces; with hotplug, `pct set --delete netN` of a running container
//   takes its interface away as hot-unplugging does (the veth goes: here it is flushed and down),
//   and a NIC hotplugged anew comes up.
// Every call is logged to <root>/pct.log, `<nanoseconds> <command> <vmid> <option>`.
import * as fs from "fs";
import * as path from "path";

const NET_KEYS = ["name", "bridge", "hwaddr", "mtu", "ip", "gw", "ip6", "gw6", "firewall", "tag", "trunks", "rate", "link_down", "host-managed", "type"];

export function writePctStandIn(binDir: string, root: string, opts: { hotplug?: boolean } = {}): string {
    fs.mkdirSync(binDir, { recursive: true });
    fs.mkdirSync(path.join(root, "etc/pve/lxc"), { recursive: true });
    const hotplug = opts.hotplug ? writeNetHotplug(binDir) : "";
    const file = path.join(binDir, "pct");
    fs.writeFileSync(file, `#!/bin/sh
# pct stand-in (test/support/pctStandIn.ts)
dir=${root}/etc/pve/lxc
cmd=$1; vmid=$2
cfg="$dir/$vmid.conf"
netns=$(cat "$dir/$vmid.netns" 2>/dev/null || true)
# In the container's network namespace, when it has one of its own.
inct() { if [ -n "$netns" ]; then nsenter --net="$netns" -- "$@"; else "$@"; fi; }
printf '%s %s %s %s\\n' "$(date +%s%N)" "$cmd" "$vmid" "\${3:-}" >> ${root}/pct.log
if [ "$cmd" = list ]; then
  # pve-container src/PVE/CLI/pct.pm, list: nothing without a container, else a header and a line per
  # container by vmid, each printf "%-10s %-10s %-12s %-20s\\n" of vmid, status, lock, name.
  ids=$(ls "$dir" | sed -n 's/^\\([0-9][0-9]*\\)\\.conf$/\\1/p' | sort -n)
  [ -n "$ids" ] || exit 0
  printf '%-10s %-10s %-12s %-20s\\n' VMID Status Lock Name
  for id in $ids; do
    st=stopped; [ -e "$dir/$id.running" ] && st=running
    printf '%-10s %-10s %-12s %-20s\\n' "$id" "$st" "$(sed -n 's/^lock: //p' "$dir/$id.conf")" "$(sed -n 's/^hostname: //p' "$dir/$id.conf")"
  done
  exit 0
fi
[ -n "$vmid" ] || { echo "400 not enough arguments" >&2; exit 255; }
if [ "$cmd" != exec ] && [ ! -e "$cfg" ]; then echo "Configuration file 'nodes/pve/lxc/$vmid.conf' does not exist" >&2; exit 255; fi
write() { # key value: replace the line, keep the file sorted
  grep -v "^$1: " "$cfg" > "$cfg.new" || true
  printf '%s: %s\\n' "$1" "$2" >> "$cfg.new"
  sort "$cfg.new" > "$cfg"; rm -f "$cfg.new"
}
case "$cmd" in
  config) sort "$cfg" ;;
  status) if [ -e "$dir/$vmid.running" ]; then echo "status: running"; else echo "status: stopped"; fi ;;
  exec)
    if [ ! -e "$dir/$vmid.running" ]; then
      echo "lxc-attach: $vmid: attach.c: get_attach_context: Connection refused - Failed to get init pid" >&2
      exit 1
    fi
    shift 2; [ "$1" = -- ] && shift
    [ -z "$netns" ] || exec nsenter --net="$netns" -- "$@"
    exec "$@" ;;
  set)
    shift 2
    if [ "$1" = --delete ]; then
      gone=$(grep "^$2: " "$cfg" | sed "s/^$2: //")
      grep -v "^$2: " "$cfg" > "$cfg.new" || true; mv "$cfg.new" "$cfg"
      if [ -n "${hotplug}" ] && [ -n "$netns" ] && [ -e "$dir/$vmid.running" ] && [ -n "$gone" ]; then
        eth=$(printf '%s\n' "$gone" | tr ',' '\n' | sed -n 's/^name=//p')
        inct ip addr flush dev "$eth"; inct ip link set dev "$eth" down
      fi
      exit 0
    fi
    key=\${1#--}; value=$2
    case "$key" in
      net[0-9]|net[12][0-9]|net3[01]) ;;
      *) echo "pct stand-in: --$key not supported" >&2; exit 2 ;;
    esac
    normalized=$(printf '%s\\n' "$value" | awk -v keys="${NET_KEYS.join(" ")}" '
      BEGIN { n = split(keys, k, " "); for (i = 1; i <= n; i++) known[k[i]] = 1; srand() }
      { c = split($0, p, ",")
        for (i = 1; i <= c; i++) {
          kv = p[i]; key = kv; sub(/=.*/, "", key)
          if (!(key in known)) { print "invalid format - property " key " is not defined in schema" > "/dev/stderr"; exit 1 }
          if (key in seen) { print "invalid format - duplicate key in comma-separated list property: " key > "/dev/stderr"; exit 1 }
          seen[key] = kv
        }
        if (!("name" in seen)) { print "invalid format - missing value for required option name" > "/dev/stderr"; exit 1 }
        if (!("hwaddr" in seen)) seen["hwaddr"] = sprintf("hwaddr=BC:24:11:%02X:%02X:%02X", int(rand() * 256), int(rand() * 256), int(rand() * 256))
        if (!("type" in seen)) seen["type"] = "type=veth"
        out = seen["name"]; m = 0
        for (key in seen) if (key != "name") rest[++m] = key
        for (i = 1; i <= m; i++) for (j = i + 1; j <= m; j++) if (rest[j] < rest[i]) { t = rest[i]; rest[i] = rest[j]; rest[j] = t }
        for (i = 1; i <= m; i++) out = out "," seen[rest[i]]
        print out }') || exit 255
    old=$(grep "^$key: " "$cfg" | sed "s/^$key: //")
    write "$key" "$normalized"
    if [ -n "${hotplug}" ] && [ -e "$dir/$vmid.running" ]; then
      kept=$(inct ${hotplug} "$old" "$normalized")
      [ "$kept" = "$normalized" ] || write "$key" "$kept"
    fi ;;
  *) echo "pct stand-in: $cmd not supported" >&2; exit 2 ;;
esac
`, { mode: 0o755 });
    return file;
}

/**
 * `net-hotplug <old> <new>`: what pve-container does to a running container's interface when
 * its netN goes from <old> (empty: a new NIC, or one just started) to <new>, in the caller's
 * network namespace (see the file's comment); prints the value the config keeps.
 */
export function writeNetHotplug(binDir: string): string {
    fs.mkdirSync(binDir, { recursive: true });
    const file = path.join(binDir, "net-hotplug");
    fs.writeFileSync(file, `#!/bin/sh
# netN hotplug stand-in (test/support/pctStandIn.ts)
opt() { # property-string option
  printf '%s\\n' "$1" | tr ',' '\\n' | sed -n "s/^$2=//p"
}
new=$2; old=$1; eth=$(opt "$new" name)
if [ -z "$old" ] || [ "$(opt "$old" hwaddr)" != "$(opt "$new" hwaddr)" ] || [ "$(opt "$old" name)" != "$eth" ]; then
  # A new veth (update_net: veth_delete, then hotplug_net): no address and no route of the old one
  # is left, and its link-local address is the new MAC's.
  ip link set dev "$eth" down
  ip addr flush dev "$eth" 2>/dev/null
  ip -4 route flush dev "$eth" 2>/dev/null || true
  ip -6 route flush dev "$eth" 2>/dev/null || true
  ip link set dev "$eth" address "$(opt "$new" hwaddr)"
  ip link set dev "$eth" up
  old=""
fi
for v in 4 6; do
  s=""; [ $v = 6 ] && s=6
  newip=$(opt "$new" ip$s); newgw=$(opt "$new" gw$s); oldip=$(opt "$old" ip$s); oldgw=$(opt "$old" gw$s)
  [ "$newip" != "$oldip" ] || [ "$newgw" != "$oldgw" ] || continue
  # dhcp, auto and manual are no address to add or remove (update_ipconfig's is_real_ip).
  case "$newip" in dhcp|auto|manual) newip="" ;; esac
  case "$oldip" in dhcp|auto|manual) oldip="" ;; esac
  if [ "$newip" != "$oldip" ] && [ -n "$newip" ]; then
    ip -$v addr add "$newip" dev "$eth" >&2 || continue
  fi
  if [ "$newgw" != "$oldgw" ]; then
    if [ -n "$newgw" ]; then
      inside=$(ip -$v route show match "$newgw" proto kernel dev "$eth" | grep -v '^fe80::/64')
      if ! { { [ -z "$newip" ] || [ -n "$inside" ] || ip -$v route add "$newgw" dev "$eth" >&2; } && ip -$v route replace default via "$newgw" >&2; }; then
        [ "$newip" = "$oldip" ] || ip -$v addr del "$newip" dev "$eth" >&2
        continue
      fi
    else
      ip -$v route del default >&2 || true
    fi
    [ -z "$oldgw" ] || [ -z "$oldip" ] || ip -$v route del "$oldgw" dev "$eth" 2>/dev/null >&2 || true
  fi
  if [ "$newip" != "$oldip" ] && [ -n "$oldip" ]; then ip -$v addr del "$oldip" dev "$eth" >&2 || true; fi
done
printf '%s\\n' "$new"
`, { mode: 0o755 });
    return file;
}

export function writeContainerConfig(root: string, vmid: number, lines: string[], running = false): void {
    const dir = path.join(root, "etc/pve/lxc");
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, `${vmid}.conf`), `${[...lines].sort().join("\n")}\n`);
    if (running) fs.writeFileSync(path.join(dir, `${vmid}.running`), "");
    else fs.rmSync(path.join(dir, `${vmid}.running`), { force: true });
}

export function readContainerConfig(root: string, vmid: number): string {
    return fs.readFileSync(path.join(root, "etc/pve/lxc", `${vmid}.conf`), "utf8");
}

export function netLineOf(config: string, index: number): string | undefined {
    return config.split("\n").find((l) => l.startsWith(`net${index}: `))?.slice(`net${index}: `.length);
}
