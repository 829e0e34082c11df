// The guest side of a Public Cloud endpoint: the scripts that put an additional IP on an OVH
// Public Cloud instance as a /32 with no gateway of its own, keep it across reboots, prove that
// the instance holds it and sends from it, and take back exactly what they did. Pure: the
// InstanceAlias component runs their text on the instance over SSH (@pulumi/command).
//
// Upstream facts relied on here, each written once:
// - OVH guide "Configuring an Additional IP" (ovh/docs pages/public_cloud/
//   public_cloud_network_services/getting-started-04-configure-additional-ip-to-instance/
//   guide.en-gb.md, commit 1cfa6909, updated 2023-07-25), [GUIDE] below:
//   * "When configuring an Additional IP on a Public Cloud instance, you do not need a gateway
//     and subnet mask": the address is a /32, the instance keeps its DHCP address and default route.
//   * Debian 11: an alias stanza `auto NETWORK_INTERFACE:ID` / `iface NETWORK_INTERFACE:ID inet
//     static` / `address ADDITIONAL_IP` / `netmask 255.255.255.255`, under /etc/network/interfaces.d.
//   * "Ubuntu 22.04 & Debian 12": netplan, `addresses: - ADDITIONAL_IP/32` beside `dhcp4: true`
//     on the interface's definition, in /etc/netplan.
//   * The guide edits cloud-init's own file (50-cloud-init) and therefore first disables
//     cloud-init's network configuration (/etc/cloud/cloud.cfg.d/99-disable-network-config.cfg).
//     We do neither: see the next point.
// - cloud-init (canonical/cloud-init cloudinit/distros/debian.py, commit 024051c2): it renders the
//   instance's network to /etc/network/interfaces.d/50-cloud-init (eni) or
//   /etc/netplan/50-cloud-init.yaml (netplan), under a header that says "Changes to it will not
//   persist across an instance reboot". So the alias lives in a file of its own, sorted after
//   50-cloud-init, and cloud-init's files and settings are never touched.
// - interfaces(5) (ifupdown 0.8.41, Debian 12): "source-directory" reads only files whose names
//   match ^[a-zA-Z0-9_-]+$ (a `source …/*` glob reads every file): our file's name has no dot,
//   and its temporary copy is written outside interfaces.d.
// - ifup -n -v (ifupdown 0.8.41) shows what the stanza does at boot: `ip addr add <ip>/255.255.255.255
//   broadcast <ip> dev <if>:<id> label <if>:<id>`. The address added now carries the same label.
// - netplan-generate(8) (netplan.io 0.106, Debian 12), "HANDLING MULTIPLE FILES": files are read in
//   lexicographical order, "Later files add to or override earlier files", and "If the values are
//   sequences, the sequences are concatenated". So a later file that gives the same definition id
//   (cloud-init names it after the interface: `ens3:` with `set-name: ens3`) only appends the /32
//   to its addresses; a file with an id nobody defines would make a second definition of the
//   interface, without DHCP, which the create refuses.
// - netplan apply is not run: netplan-apply(8) regenerates every backend file and re-invokes the
//   backends for every interface (and rebinds interfaces that are down), which can cut the SSH
//   session the stack runs in, and `netplan try` waits for a confirmation on a terminal. The
//   address is added now with `ip`, and the file makes the next boot (or the next `netplan
//   apply`) add it too.
import { shellQuote } from "../shared/shell";
import { AliasFlavour, parseAbsolutePath, parseAliasFlavour, parseInterfaceName, parseIpv4, parseUserName } from "../shared/validate";

export interface AliasSpec {
    /** The additional IP, already checked (parsePublicIpv4). */
    address: string;
    /** The instance's interface; without it, the interface of the IPv4 default route, found on the instance. */
    interfaceName?: string;
    flavour: AliasFlavour;
    /** The off-link address the kernel is asked for a route to, from the alias (no packet is sent). */
    probeTarget?: string;
    /** When set, the check pings it with the alias as source and needs an answer. */
    pingTarget?: string;
    /** Ping attempts (each waits up to 2 s for its answer). */
    pingAttempts?: number;
    /** Where the instance keeps what the stack found there (default DEFAULT_ALIAS_STATE_DIR). */
    stateDir?: string;
}

/** Where an instance keeps, per alias, what was there before the stack: what delete puts back. */
export const DEFAULT_ALIAS_STATE_DIR = "/var/lib/ovh-failover";

/**
 * The address a route is asked for when no probeTarget is given: TEST-NET-1 (RFC 5737), never
 * on a Public Cloud instance's link, so its route is the default route. `ip route get` sends
 * nothing.
 */
export const DEFAULT_PROBE_TARGET = "192.0.2.1";

export const DEFAULT_PING_ATTEMPTS = 5;

/** The exit codes the scripts use, each for one refusal or failure the caller may tell apart. */
export const ALIAS_EXIT = {
    /** The interface named (or recorded) does not exist on the instance. */
    noInterface: 20,
    /** No interfaceName, and no single interface carries the IPv4 default route. */
    noDefaultRoute: 21,
    /** The flavour's tool (ifup/ifquery, netplan) is not installed. */
    noTool: 22,
    /** The file would not be read at boot (ifquery does not see it; netplan has no definition for the interface). */
    notPersisted: 23,
    /** The address is on the interface with another prefix length than /32 (set by hand): left as it is. */
    otherPrefix: 24,
    /** The proof failed: the address is not held, the kernel will not send from it, or the ping target did not answer. */
    checkFailed: 25,
    /** The SSH user is not root and may not run sh as root with `sudo -n`. */
    noRoot: 26,
} as const;

/** The file name part of an address: dots become '-' (source-directory refuses dots). */
function addressSlug(address: string): string {
    return parseIpv4(address).replace(/\./g, "-");
}

/** The file that keeps the alias across reboots: our own, beside cloud-init's 50-cloud-init. */
export function aliasFilePath(flavour: AliasFlavour, address: string): string {
    return parseAliasFlavour(flavour) === "debian"
        ? `/etc/network/interfaces.d/60-ovh-failover-${addressSlug(address)}`
        : `/etc/netplan/60-ovh-failover-${addressSlug(address)}.yaml`;
}

/** The state directory of one alias on the instance. */
export function aliasStatePath(spec: Pick<AliasSpec, "address" | "stateDir">): string {
    return `${parseAbsolutePath(spec.stateDir ?? DEFAULT_ALIAS_STATE_DIR)}/instance-alias-${addressSlug(spec.address)}`;
}

/** The ID of the ifupdown alias ([GUIDE]'s NETWORK_INTERFACE:ID): the address's last octet. */
export function aliasId(address: string): string {
    return parseIpv4(address).split(".")[3];
}

/**
 * The file's content. The interface and the label may be shell expansions ("${ifname}"): the
 * scripts write it through an unquoted here-document, so everything else is plain text with no
 * `$`, backquote or backslash.
 */
export function renderAliasFile(flavour: AliasFlavour, address: string, ifname: string, label: string): string {
    const ip = parseIpv4(address);
    const head = [
        `# The additional IP ${ip} of this OVH Public Cloud instance, written by ovh-failover (InstanceAlias).`,
        "# A /32 with no gateway of its own: the instance keeps its DHCP address and default route.",
        "# Removed by the stack when the endpoint goes; cloud-init's own file is left as it is.",
    ];
    const body = parseAliasFlavour(flavour) === "debian"
        ? [`auto ${label}`, `iface ${label} inet static`, `    address ${ip}`, "    netmask 255.255.255.255"]
        : ["network:", "  version: 2", "  ethernets:", `    ${ifname}:`, "      addresses:", `        - ${ip}/32`];
    return [...head, ...body].join("\n") + "\n";
}

const DELIMITER = "OVH_FAILOVER_ALIAS_EOF";

function header(spec: AliasSpec): string {
    const ip = parseIpv4(spec.address);
    const probe = parseIpv4(spec.probeTarget ?? DEFAULT_PROBE_TARGET);
    if (probe === ip) throw new Error(`probeTarget ${probe} is the alias itself: give another off-link address`);
    const attempts = spec.pingAttempts ?? DEFAULT_PING_ATTEMPTS;
    if (!Number.isInteger(attempts) || attempts < 1 || attempts > 60) throw new Error(`pingAttempts ${attempts}: expected an integer from 1 to 60`);
    return [
        // The header names every value once; each script uses the ones it needs.
        "# shellcheck disable=SC2034",
        "set -eu",
        "umask 022",
        `ip=${shellQuote(ip)}`,
        `want_if=${shellQuote(spec.interfaceName === undefined ? "" : parseInterfaceName(spec.interfaceName))}`,
        `flavour=${shellQuote(parseAliasFlavour(spec.flavour))}`,
        `file=${shellQuote(aliasFilePath(spec.flavour, ip))}`,
        `state=${shellQuote(aliasStatePath(spec))}`,
        `id=${shellQuote(aliasId(ip))}`,
        `probe=${shellQuote(probe)}`,
        `ping_target=${shellQuote(spec.pingTarget === undefined ? "" : parseIpv4(spec.pingTarget))}`,
        `ping_attempts=${attempts}`,
    ].join("\n");
}

/**
 * Sets $ifname: the interface named, else the one recorded by an earlier create (so that a run
 * again does not follow a default route that moved), else the interface of the IPv4 default
 * route. Refuses a name that is not a plain interface name, and an interface that does not exist.
 */
const RESOLVE_INTERFACE = `ifname=$want_if
if [ -z "$ifname" ] && [ -f "$state/interface" ]; then ifname=$(cat "$state/interface"); fi
if [ -z "$ifname" ]; then
  # The public port is the one whose DHCP lease gives the default route.
  devs=$(ip -4 route show default | awk '{ for (i = 1; i < NF; i++) if ($i == "dev") print $(i + 1) }' | sort -u)
  case "$devs" in
    "") echo "no IPv4 default route on this instance: name the interface that carries the additional IP (interfaceName)" >&2; exit ${ALIAS_EXIT.noDefaultRoute} ;;
    *"
"*) echo "the IPv4 default routes leave by several interfaces ($(printf '%s\\n' "$devs" | paste -sd' ' -)): name the one that carries the additional IP (interfaceName)" >&2; exit ${ALIAS_EXIT.noDefaultRoute} ;;
  esac
  ifname=$devs
fi
case "$ifname" in ""|*[!A-Za-z0-9_.-]*) echo "not an interface name: $ifname" >&2; exit ${ALIAS_EXIT.noInterface} ;; esac
if ! ip link show dev "$ifname" >/dev/null 2>&1; then
  echo "the interface $ifname does not exist on this instance (ip -o link lists: $(ip -o link show | awk -F': ' '{ print $2 }' | tr '\\n' ' ')): nothing changed" >&2
  exit ${ALIAS_EXIT.noInterface}
fi
label="$ifname:$id"`;

/** The prefix lengths the address has on $ifname ("32", or others set by hand), one a line. */
const PREFIXES = `prefixes() { ip -4 -o addr show dev "$ifname" | awk -v ip="$ip" '$3 == "inet" { split($4, a, "/"); if (a[1] == ip) print a[2] }'; }`;

/**
 * The proof that the instance holds the address and sends from it: the /32 is on the interface,
 * the kernel has a route from it to an off-link address, leaving by that interface, and, when a
 * ping target is given, the target answers a ping sent from the address (which also proves
 * that OVH routes the answers to this instance: the attach is done). Each ping attempt waits for
 * its answer, up to 2 s; there is no other wait.
 */
function checkBody(): string {
    return `if ! prefixes | grep -qx 32; then
  echo "check: $ip/32 is not on $ifname: $(ip -4 -o addr show dev "$ifname" | awk '{ print $4 }' | tr '\\n' ' ')" >&2
  exit ${ALIAS_EXIT.checkFailed}
fi
if ! route=$(ip -4 route get "$probe" from "$ip" 2>&1); then
  echo "check: the kernel will not send from $ip (ip route get $probe from $ip: $route)" >&2
  exit ${ALIAS_EXIT.checkFailed}
fi
case "$(printf '%s\\n' "$route" | head -n 1) " in
  *" dev $ifname "*) ;;
  *) echo "check: from $ip, $probe is reached by another interface than $ifname: $route" >&2; exit ${ALIAS_EXIT.checkFailed} ;;
esac
echo "check=holds $ip/32 on $ifname, and sends from it"
if [ -n "$ping_target" ]; then
  command -v ping >/dev/null 2>&1 || { echo "check: ping is not installed: cannot ping $ping_target from $ip" >&2; exit ${ALIAS_EXIT.checkFailed}; }
  n=0
  until ping -n -c 1 -W 2 -I "$ip" "$ping_target" >/dev/null 2>&1; do
    n=$((n + 1))
    if [ "$n" -ge "$ping_attempts" ]; then
      echo "check: $ping_target did not answer a ping from $ip ($ping_attempts attempts): is the additional IP attached to this instance?" >&2
      exit ${ALIAS_EXIT.checkFailed}
    fi
  done
  echo "check=$ping_target answers $ip"
fi`;
}

/** The proof alone, to run on its own (the lead's probe of a cloud endpoint): exit 0, or ALIAS_EXIT's codes. */
export function renderAliasCheck(spec: AliasSpec): string {
    return `${header(spec)}
${RESOLVE_INTERFACE}
${PREFIXES}
${checkBody()}
`;
}

/** The flavour's tools are there; the netplan definition the /32 joins exists. */
function requireTools(): string {
    return `if [ "$flavour" = debian ]; then
  if ! command -v ifup >/dev/null 2>&1 || ! command -v ifquery >/dev/null 2>&1; then
    echo "ifupdown (ifup, ifquery) is not installed: this instance does not keep its network in /etc/network/interfaces; if it uses netplan (Ubuntu 22.04 and later, Debian 12), use the flavour netplan" >&2
    exit ${ALIAS_EXIT.noTool}
  fi
else
  if ! command -v netplan >/dev/null 2>&1; then
    echo "netplan is not installed: this instance does not keep its network in /etc/netplan; if it uses ifupdown (Debian 11), use the flavour debian" >&2
    exit ${ALIAS_EXIT.noTool}
  fi
  # netplan get fails ("Unexpected YAML structure found") when there is no configuration at all.
  definition=null
  for f in /lib/netplan/*.yaml /etc/netplan/*.yaml /run/netplan/*.yaml; do [ ! -f "$f" ] || definition=; done
  if [ -z "$definition" ] && ! definition=$(netplan get "ethernets.$ifname" 2>&1); then
    echo "netplan cannot read this instance's configuration, so neither could the next boot: $(printf '%s\\n' "$definition" | grep -v '^ ' | tail -n 1). Nothing changed" >&2
    exit ${ALIAS_EXIT.notPersisted}
  fi
  if [ -z "$definition" ] || [ "$definition" = null ]; then
    echo "netplan has no definition named $ifname (cloud-init's 50-cloud-init.yaml names it after the interface): a file of ours would define $ifname a second time, without DHCP. Nothing changed" >&2
    exit ${ALIAS_EXIT.notPersisted}
  fi
fi`;
}

/** Writes the file's content, for this interface, to $1. */
function writeFile(spec: AliasSpec): string {
    const content = renderAliasFile(spec.flavour, spec.address, "${ifname}", "${label}");
    if (/[`\\]/.test(content) || content.replace(/\$\{(ifname|label)\}/g, "").includes("$") || content.split("\n").includes(DELIMITER)) {
        throw new Error("the alias file's content must hold no $, backquote, backslash or the here-document's delimiter");
    }
    return `write_file() {
  cat > "$1" <<${DELIMITER}
${content}${DELIMITER}
}`;
}

/**
 * netplan: the new file is read with every other one in a scratch root before it is installed,
 * and the merged definition must hold the /32 (netplan get); a file netplan refuses is never put
 * in /etc/netplan, where the next boot would read it.
 */
const VALIDATE_NETPLAN = `validate_netplan() {
  scratch=$(mktemp -d)
  for d in /lib/netplan /etc/netplan /run/netplan; do
    mkdir -p "$scratch$d"
    for f in "$d"/*.yaml; do if [ -f "$f" ]; then cp -p "$f" "$scratch$d/"; fi; done
  done
  cp "$1" "$scratch$file"
  if ! out=$(netplan generate --root-dir "$scratch" 2>&1); then
    rm -rf "$scratch"; echo "netplan refuses the file it would read: $out" >&2; return 1
  fi
  if ! netplan get --root-dir "$scratch" "ethernets.$ifname.addresses" | grep -qF "$ip/32"; then
    rm -rf "$scratch"; echo "netplan would not give $ifname the address $ip/32 (ethernets.$ifname.addresses)" >&2; return 1
  fi
  rm -rf "$scratch"
}`;

/**
 * Create: refuse before anything changes (interface, tools, a hand-made address of another
 * prefix), record once what was there, write the file, add the address if it is missing, make
 * sure the file is read at boot, then the proof. Run again, it changes nothing: the record is
 * written once, the file only when its bytes differ, the address only when missing.
 */
export function renderAliasCreate(spec: AliasSpec): string {
    return `${header(spec)}
${VALIDATE_NETPLAN}
${RESOLVE_INTERFACE}
${requireTools()}
${PREFIXES}
others=$(prefixes | grep -vx 32 || true)
if [ -n "$others" ]; then
  echo "$ip is on $ifname with prefix length /$(printf '%s\\n' "$others" | paste -sd' ' -), not /32 (set by hand?): left as it is; remove it or make it a /32" >&2
  exit ${ALIAS_EXIT.otherPrefix}
fi
# What was there before the stack, recorded once: a create run again keeps the first record.
recorded_now=no
if [ ! -f "$state/recorded" ]; then
  parent=$(dirname "$state")
  parent_created=no
  [ -d "$parent" ] || parent_created=yes
  rm -rf "$state.new"
  mkdir -p "$state.new"
  if [ "$parent_created" = yes ]; then : > "$state.new/parent.created"; fi
  printf '%s\\n' "$ifname" > "$state.new/interface"
  if prefixes | grep -qx 32; then echo present; else echo absent; fi > "$state.new/address"
  if [ -e "$file" ]; then cp -p "$file" "$state.new/file.original"; else : > "$state.new/file.absent"; fi
  : > "$state.new/recorded"
  rm -rf "$state"
  mv "$state.new" "$state"
  recorded_now=yes
fi
# A create that fails after the record leaves the instance as it found it: Pulumi keeps no
# resource for a failed create, so no delete would ever take back what it did. (A create run
# again over an earlier one, recorded_now=no, leaves the earlier one's work: its delete will.)
added_now=no
rollback() {
  if [ "$added_now" = yes ]; then ip addr del "$ip/32" dev "$ifname" || true; fi
  if [ "$recorded_now" = yes ]; then
    if [ -e "$state/file.original" ]; then cp -p "$state/file.original" "$file"; else rm -f "$file"; fi
    if [ -e "$state/parent.created" ]; then rm -rf "$(dirname "$state")"; else rm -rf "$state"; fi
  fi
}
${writeFile(spec)}
# The new file is written outside interfaces.d (a "source interfaces.d/*" glob would read it
# there) or as a name netplan does not read (*.yaml only), checked, then moved in place only if
# its bytes differ.
if [ "$flavour" = debian ]; then tmp="/etc/network/.$(basename "$file").new"; else tmp="$(dirname "$file")/.$(basename "$file").new"; fi
write_file "$tmp"
if [ "$flavour" = netplan ]; then
  # netplan 0.106 and later warn that a file others may read is "too open".
  chmod 0600 "$tmp"
  validate_netplan "$tmp" || { rm -f "$tmp"; rollback; exit ${ALIAS_EXIT.notPersisted}; }
else
  chmod 0644 "$tmp"
fi
if [ -e "$file" ] && cmp -s "$tmp" "$file"; then
  rm -f "$tmp"
  echo "file=unchanged $file"
else
  mv -f "$tmp" "$file"
  echo "file=written $file"
fi
if [ "$flavour" = debian ]; then
  # The stanza as ifup will read it at boot, through /etc/network/interfaces: one that does not
  # source interfaces.d would never bring the alias up.
  if ! ifquery "$label" 2>/dev/null | grep -qx "address: $ip"; then
    rollback
    echo "ifquery $label does not see $file: /etc/network/interfaces does not source /etc/network/interfaces.d, so the alias would not come back after a reboot. Nothing changed" >&2
    exit ${ALIAS_EXIT.notPersisted}
  fi
fi
if prefixes | grep -qx 32; then
  echo "address=kept $ip/32 on $ifname"
elif [ "$flavour" = debian ]; then
  ip addr add "$ip/32" dev "$ifname" label "$label"
  added_now=yes
  echo "address=added $ip/32 on $ifname ($label)"
else
  ip addr add "$ip/32" dev "$ifname"
  added_now=yes
  echo "address=added $ip/32 on $ifname"
fi
echo "interface=$ifname"
# The proof (renderAliasCheck's), in a subshell: a failure rolls back what this create did.
if (
${checkBody().replace(/^/gm, "  ")}
); then :; else
  rc=$?
  rollback
  exit "$rc"
fi
`;
}

/**
 * Delete: exactly what was there before. The address goes only if the stack added it (and it is
 * still a /32 on the recorded interface); the file goes if the stack created it, or gets its
 * recorded content back. With no record, nothing is touched.
 */
export function renderAliasDelete(spec: AliasSpec): string {
    return `${header(spec)}
if [ ! -f "$state/recorded" ]; then
  echo "no record of $ip on this instance ($state): left as it is"
  exit 0
fi
ifname=$(cat "$state/interface")
case "$ifname" in ""|*[!A-Za-z0-9_.-]*) echo "ignoring $state/interface: not an interface name" >&2; ifname="" ;; esac
if [ "$(cat "$state/address")" = absent ] && [ -n "$ifname" ]; then
  if ip -4 -o addr show dev "$ifname" 2>/dev/null | awk -v want="$ip/32" '$3 == "inet" && $4 == want { f = 1 } END { exit !f }'; then
    ip addr del "$ip/32" dev "$ifname"
    echo "address=removed $ip/32 from $ifname"
  else
    echo "address=gone already ($ip/32 on $ifname)"
  fi
else
  echo "address=left $ip (it was there before the stack)"
fi
if [ -e "$state/file.original" ]; then
  cp -p "$state/file.original" "$file"
  echo "file=restored $file"
elif [ -e "$state/file.absent" ]; then
  rm -f "$file"
  echo "file=removed $file"
fi
# The state directory goes, and its parent too when the stack made it and nothing else is in it.
if [ -e "$state/parent.created" ]; then rm -rf "$state"; rmdir "$(dirname "$state")" 2>/dev/null || true; else rm -rf "$state"; fi
`;
}

/**
 * A script as the SSH user runs it: itself for root; otherwise through `sudo -n` (Public Cloud
 * images log in as debian or ubuntu, with sudo without a password). A user sudo refuses stops
 * before anything runs (exit ALIAS_EXIT.noRoot).
 */
export function asRootWithSudo(sshUser: string, script: string): string {
    if (sshUser === "root") return script;
    const user = parseUserName(sshUser);
    const refused = `sudo does not let ${user} run sh as root without a password (sudo -n): the additional IP needs root`;
    return `sudo -n sh -c : </dev/null 2>/dev/null || { echo ${shellQuote(refused)} >&2; exit ${ALIAS_EXIT.noRoot}; }
sudo -n sh -c ${shellQuote(script)}`;
}
