// The script that deploys an edge node's rendered files over SSH: write each file beside the
// running one, validate the new set on the node itself (the checks need its own interfaces), and
// only then move them into place and apply. Pure: CarpPair runs the text with @pulumi/command.
import { shellQuote } from "../shared/shell";
import { ConfigValueError, parseAbsolutePath, parseInterfaceName, parseUserName } from "../shared/validate";

export type EdgeFlavour = "openbsd" | "keepalived";

/** The flavour of a pair that does not say: OpenBSD's CARP (seed 001). */
export const DEFAULT_FLAVOUR: EdgeFlavour = "openbsd";

export function parseEdgeFlavour(x: unknown): EdgeFlavour {
    if (x !== "openbsd" && x !== "keepalived") throw new ConfigValueError("openbsd (CARP + ifstated) or keepalived (VRRP, Debian/Proxmox)");
    return x;
}

export interface DeployFile {
    path: string;
    /** The content, with PASSWORD_MARKER where the CARP password goes. */
    content: string;
    /** Octal mode, e.g. "0600" for a file that holds the CARP password. */
    mode: string;
}

/**
 * Stands for the CARP password in rendered files. The deploy script itself holds no secret, so
 * that a plan can show every line it changes; the password and the OVH credentials reach the
 * node on the command's standard input (a Pulumi secret) and are put in place there. The marker
 * passes the password rules the renderers check ([A-Za-z0-9_-], at most 8 characters).
 */
export const PASSWORD_MARKER = "_CARPPW_";

/** What the deploy script reads on standard input: the password, then ovh-ipmove's configuration. */
export function renderSecretsInput(password: string, ipmoveConfig: string): string {
    return `CARP_PASSWORD=${password}\n${ipmoveConfig}`;
}

const DELIMITER = "OVH_FAILOVER_EOF";

function writeNew(file: DeployFile): string {
    if (file.content.split("\n").includes(DELIMITER)) {
        throw new Error(`${file.path}: its content holds the line ${DELIMITER}, which would end the here-document early`);
    }
    const body = file.content.endsWith("\n") ? file.content : `${file.content}\n`;
    const target = shellQuote(`${file.path}.new`);
    // awk takes the password from its environment, never from its command line (ps shows that).
    // Only the marker after "pass " (OpenBSD's carp `pass`, keepalived's `auth_pass`) is the
    // password: a node or interface name may contain the marker's letters too.
    const writer = file.content.includes(`pass ${PASSWORD_MARKER}`)
        ? `CARP_PASSWORD="$password" awk '{ gsub(/pass ${PASSWORD_MARKER}/, "pass " ENVIRON["CARP_PASSWORD"]); print }' > ${target}`
        : `cat > ${target}`;
    return `${writer} <<'${DELIMITER}'\n${body}${DELIMITER}\nchmod ${file.mode} ${target}`;
}

/** Reads the secrets from standard input and writes ovh-ipmove's configuration beside the old one. */
function readSecrets(ipmoveConfig: string): string {
    return `secrets=$(cat)
password=$(printf '%s\\n' "$secrets" | sed -n 's/^CARP_PASSWORD=//p')
case "$password" in ""|*[!A-Za-z0-9_-]*) echo "the CARP password on standard input is missing or not [A-Za-z0-9_-]" >&2; exit 2 ;; esac
printf '%s\\n' "$secrets" | grep '^OVH_' > ${shellQuote(`${ipmoveConfig}.new`)} || { echo "no OVH_ credentials on standard input" >&2; exit 2; }
chmod 0600 ${shellQuote(`${ipmoveConfig}.new`)}`;
}

/**
 * Moves each new file into place unless the running one is that file already (the same bytes,
 * mode and owner), whose `.new` then goes: `$changed` lists the paths replaced, each between
 * spaces, and the deploy applies those only. @pulumi/command runs a command's `update` again on a
 * change of any of its inputs (pulumi/pulumi-command provider/pkg/provider/remote/
 * commandController.go, Update; pulumi-go-provider's infer diff makes every changed field that is
 * not replaceOnChanges an update): the removal script, the SSH connection, the secrets or
 * ovh-ipmove's checksum alone run the deploy, and a deploy that changes no running file must
 * disturb nothing (a daemon restarted, a carp interface configured again).
 */
function installChanged(paths: string[]): string {
    return `# ls -ln: the mode and owner alike on OpenBSD and Debian, whose stat differ; the paths are the stack's.
# shellcheck disable=SC2012
same() { [ -e "$2" ] && cmp -s "$1" "$2" && [ "$(ls -ln "$1" | awk '{ print $1, $3, $4 }')" = "$(ls -ln "$2" | awk '{ print $1, $3, $4 }')" ]; }
changed=" "
${paths.map((p) => {
        const [fresh, running] = [shellQuote(`${p}.new`), shellQuote(p)];
        return `if same ${fresh} ${running}; then rm -f ${fresh}; else mv -f ${fresh} ${running}; changed="$changed"${shellQuote(`${p} `)}; fi`;
    }).join("\n")}`;
}

/** A condition: true when installChanged replaced one of these paths (or noted one of these words). */
function anyChanged(paths: string[]): string {
    return `case "$changed" in ${paths.map((p) => `*${shellQuote(` ${p} `)}*`).join("|")}) true ;; *) false ;; esac`;
}

/** The failover IP this node carries, and where: an IP change must take the old alias away. */
export interface FailoverAlias {
    failoverIp: string;
    publicInterface: string;
    /**
     * The file on the node that holds the failover IP the last deploy installed. The node keeps
     * it: @pulumi/command would hand back the previous output through SSH SetEnv, which stock
     * sshd refuses (OpenBSD accepts no variable, Debian LANG and LC_* only).
     */
    stateFile: string;
}

/** ovh-ipmove put on the node by someone else: the deploy only checks that it is there. */
export interface IpmoveInPlace {
    /** Where the move command runs it, e.g. /usr/local/bin/ovh-ipmove. */
    path: string;
}

/** The bundled ovh-ipmove, copied beside its place by CopyToRemote, checked, then installed. */
export interface IpmoveInstall {
    /** Where the move command runs it, e.g. /usr/local/bin/ovh-ipmove. */
    path: string;
    /** Where the copy landed. */
    staged: string;
    sha256: string;
    /** The oldest Node.js major version it runs on. */
    nodeMajor: number;
}

/**
 * Before anything is replaced: Node.js is there and recent enough, the copy is the one the plan
 * showed, and it starts. Exit 6, naming the package to install, when Node.js is missing or old.
 * CopyToRemote copies the bundle only when its hash or its remote path changes (pulumi-command
 * provider/pkg/provider/remote/copyController.go, Update): a deploy for another reason (an IP, a
 * password) finds no copy, and the installed bundle, when it is the planned one, is kept.
 */
function checkIpmove(i: IpmoveInstall): string {
    const staged = shellQuote(i.staged);
    const sha256Of = (file: string) => `$( (sha256 -q ${file} || sha256sum ${file}) 2>/dev/null | cut -d' ' -f1)`;
    const missing = `ovh-ipmove needs Node.js ${i.nodeMajor} or later on this node: install it (OpenBSD: pkg_add node; Debian: apt-get install nodejs)`;
    return `# ovh-ipmove: one bundled file; this node needs Node.js ${i.nodeMajor} or later and nothing else.
if ! command -v node >/dev/null 2>&1; then echo ${shellQuote(`Node.js is not installed: ${missing}`)} >&2; exit 6; fi
node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
case "$node_major" in ""|*[!0-9]*) node_major=0 ;; esac
if [ "$node_major" -lt ${i.nodeMajor} ]; then echo "Node.js $(node --version 2>/dev/null) is too old: "${shellQuote(missing)} >&2; exit 6; fi
ipmove_staged=no
if [ -e ${staged} ]; then
  sum=${sha256Of(staged)}
  if [ "$sum" != ${shellQuote(i.sha256)} ]; then echo "the copied ovh-ipmove (${i.staged}) has sha256 $sum, not the planned ${i.sha256}" >&2; exit 6; fi
  node ${staged} -version || { echo ${shellQuote(`the copied ovh-ipmove does not start with this Node.js`)} >&2; exit 6; }
  ipmove_staged=yes
elif [ "${sha256Of(shellQuote(i.path))}" = ${shellQuote(i.sha256)} ]; then
  echo ${shellQuote(`ovh-ipmove is installed already, as planned (${i.path})`)}
else
  echo ${shellQuote(`neither the copy (${i.staged}) nor the installed ovh-ipmove (${i.path}) is the planned one (sha256 ${i.sha256}): copy it again with pulumi up --replace <the URN of this node's ipmove CopyToRemote> (pulumi stack --show-urns lists it)`)} >&2
  exit 6
fi`;
}

/** The ovh-ipmove of a node: installed by the deploy, or there already. */
export type IpmoveOnNode = IpmoveInstall | IpmoveInPlace;

const installs = (i: IpmoveOnNode): i is IpmoveInstall => "sha256" in i;

/**
 * Before anything is replaced: the program every claim runs is on the node and executable. Without
 * it the daemons would run, and a promoted node would never move the IP (exit 6).
 */
function requireIpmove(i: IpmoveInPlace): string {
    const path = shellQuote(i.path);
    const missing = `ovh-ipmove is not at ${i.path} on this node, and the deploy does not copy it (CarpPair's ipmove is false): its claims could not move the failover IP. Install it there, or leave ipmove unset so that the pair copies the package's own`;
    return `# The claims run ovh-ipmove, which the deploy does not install: it must be there already.
if [ ! -f ${path} ]; then echo ${shellQuote(missing)} >&2; exit 6; fi
if [ ! -x ${path} ]; then echo ${shellQuote(`${i.path} is not executable: its claims could not move the failover IP; chmod 0755 ${i.path}`)} >&2; exit 6; fi`;
}

/** The deploy's first step for ovh-ipmove: the copy checked, or the program in place required. */
function prepareIpmove(i: IpmoveOnNode): string {
    return installs(i) ? checkIpmove(i) : requireIpmove(i);
}

function installIpmove(i: IpmoveInstall): string {
    // Root's: the daemons run it as root, and a copy left in a user's home is that user's.
    return `if [ "$ipmove_staged" = yes ]; then
  chown 0:0 ${shellQuote(i.staged)}
  chmod 0755 ${shellQuote(i.staged)}
  mv -f ${shellQuote(i.staged)} ${shellQuote(i.path)}
fi`;
}

/** The /etc/doas.conf line a node reached as `user` needs, last among the rules that match it. */
export function doasRule(user: string): string {
    return `permit nopass ${parseUserName(user)} as root cmd /bin/sh`;
}

/**
 * A script as the SSH user runs it: itself for root; otherwise through doas, as root (a stock
 * OpenBSD writes `PermitRootLogin no`). doas keeps the working directory (doas(1)), where the
 * bundle was copied, and the standard input, where the secrets are. The last rule of doas.conf
 * that matches decides (doas.conf(5)): a wider rule after `doasRule` without `nopass` asks for a
 * password, and `-n` then fails at once ("Authentication required", usr.bin/doas/doas.c) rather
 * than prompt; with no matching rule, "Operation not permitted". Before the script starts, and
 * before its standard input is read, a check says which line to add, and where (exit 7).
 */
export function asRoot(sshUser: string, script: string): string {
    if (sshUser === "root") return script;
    const user = parseUserName(sshUser);
    const refused = `doas does not let ${user} run /bin/sh as root without a password: add the line "${doasRule(user)}" to /etc/doas.conf, after every other rule that matches ${user} (the last matching rule decides, doas.conf(5))`;
    return `doas -n /bin/sh -c : </dev/null || { echo ${shellQuote(refused)} >&2; exit 7; }
doas -n /bin/sh -c ${shellQuote(script)}`;
}

/** Where each flavour keeps the failover IP it deployed: each system's own place for such files. */
export const EDGE_STATE_FILE = { openbsd: "/var/db/ovh-failover/failover-ip", keepalived: "/var/lib/ovh-failover/failover-ip" } as const;

/** Removes the alias of the IP the previous deploy installed, if the IP changed; the daemon claims the new one. */
function dropOldAlias(a: FailoverAlias, remove: (ip: string) => string): string {
    const state = shellQuote(a.stateFile);
    return `old_ip=$(cat ${state} 2>/dev/null || true)
case "$old_ip" in *[!0-9.]*) echo "ignoring ${a.stateFile}: not an IPv4 address" >&2; old_ip="" ;; esac
if [ -n "$old_ip" ] && [ "$old_ip" != ${shellQuote(a.failoverIp)} ]; then
  ${remove("$old_ip")} 2>/dev/null || true
  echo "removed the alias of the previous failover IP $old_ip"
fi`;
}

/** Records the failover IP now deployed, atomically, for the next deploy. */
function recordAlias(a: FailoverAlias): string {
    const state = shellQuote(a.stateFile);
    return `mkdir -p "$(dirname ${state})"
printf '%s\\n' ${shellQuote(a.failoverIp)} > ${shellQuote(`${a.stateFile}.new`)}
mv -f ${shellQuote(`${a.stateFile}.new`)} ${state}`;
}

/**
 * Where a deploy keeps, for each file it replaces, what was there before the node's first deploy
 * (a copy, or a `.absent` mark): what the node's removal puts back. Beside the failover IP's record.
 */
export function originalsDir(a: FailoverAlias): string {
    return `${a.stateFile.replace(/\/[^/]+$/, "")}/originals`;
}

/**
 * Records, once, what each of these files is before the deploy replaces it. A file an earlier
 * deploy wrote (before originals were kept: it says "by ovh-failover"), and the OVH credentials,
 * are the stack's, not the node's own: recorded as absent, so the removal never brings them back.
 */
function recordOriginals(a: FailoverAlias, paths: string[], ours: string[] = []): string {
    return `originals=${shellQuote(originalsDir(a))}
record_original() {
  if [ ! -e "$originals$1" ] && [ ! -e "$originals$1.absent" ]; then
    mkdir -p "$(dirname "$originals$1")"
    if [ -e "$1" ] && [ "\${2-}" != ours ] && ! grep -q 'by ovh-failover' "$1"; then cp -p "$1" "$originals$1"; else : > "$originals$1.absent"; fi
  fi
}
${paths.map((p) => `record_original ${shellQuote(p)}${ours.includes(p) ? " ours" : ""}`).join("\n")}`;
}

/** Puts back what each file was before the first deploy: the copy, or no file at all. */
function restoreOriginals(a: FailoverAlias, paths: string[]): string {
    return `originals=${shellQuote(originalsDir(a))}
restore_original() {
  if [ -e "$originals$1" ]; then
    mv -f "$originals$1" "$1" && echo "restored $1 as it was before the first deploy"
  elif [ -e "$originals$1.absent" ]; then
    rm -f "$1" "$1.new" "$originals$1.absent" && echo "removed $1"
  else
    echo "no record of $1 before the first deploy: left as it is"
  fi
}
${paths.map((p) => `restore_original ${shellQuote(p)}`).join("\n")}`;
}

/** The failover IPs whose alias may be on the node: the stack's, and the one the last deploy recorded. */
function removeAliases(a: FailoverAlias, remove: (ip: string) => string): string {
    return `recorded=$(cat ${shellQuote(a.stateFile)} 2>/dev/null || true)
[ "$recorded" != ${shellQuote(a.failoverIp)} ] || recorded=
for ip in ${shellQuote(a.failoverIp)} "$recorded"; do
  case "$ip" in ""|*[!0-9.]*) continue ;; esac
  if ${remove("$ip")} 2>/dev/null; then echo "removed the alias of $ip"; fi
done
rm -f ${shellQuote(a.stateFile)}`;
}

/** What the deploy installs and the removal puts back: its files, the credentials, the bundle (not one it did not install). */
function installedPaths(files: DeployFile[], ipmoveConfig: string, ipmove: IpmoveOnNode): string[] {
    return [...files.map((f) => f.path), ipmoveConfig, ...(installs(ipmove) ? [ipmove.path] : [])];
}

/** CARP's preemption on OpenBSD: off unless set (netinet/ip_carp.c, carpctl_preempt = 0). */
export const CARP_PREEMPT_SYSCTL = "net.inet.carp.preempt";

/**
 * Shell that writes `<conf>.new`: the node's sysctl.conf with every line that sets `name`
 * dropped and one that sets it to `value` at the end; comments and every other line kept, a
 * missing file taken as empty. /etc/rc applies sysctl.conf at boot (sysctl_conf).
 */
export function renderSysctlConfEdit(conf: string, name: string, value: number): string {
    if (!/^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$/.test(name) || !Number.isInteger(value)) throw new Error(`not a sysctl setting: ${name}=${value}`);
    const setting = `^[ \\t]*${name.replace(/\./g, "\\.")}[ \\t]*=`;
    const q = shellQuote;
    return `{ if [ -f ${q(conf)} ]; then awk ${q(`!/${setting}/`)} ${q(conf)}; fi; printf '%s\\n' ${q(`${name}=${value}`)}; } > ${q(`${conf}.new`)}
chmod 0644 ${q(`${conf}.new`)}`;
}

/** The hostname.if(5) file of an interface. */
export function hostnameIfPath(ifname: string): string {
    return `/etc/hostname.${parseInterfaceName(ifname)}`;
}

/**
 * Shell that writes `<file>.new`: the node's hostname.if(5), every line kept (an address the
 * interface carries, comments, `!` commands), with a line `up` at the end unless the last of its
 * `up` and `down` lines is `up` already; a missing file is taken as empty. netstart runs the lines
 * in order, each one not otherwise known as `ifconfig <if> <line>` (etc/netstart, parse_hn_line).
 * The file's mode and owner are kept; a new one is 0640 (netstart fixes, with a warning, a
 * hostname.if that others may read).
 */
export function renderHostnameUpEdit(file: string): string {
    const hn = shellQuote(parseAbsolutePath(file));
    const fresh = shellQuote(`${file}.new`);
    const isUp = `{ sub(/#.*/, "") } $1 == "up" { s = "up" } $1 == "down" { s = "down" } END { exit s != "up" }`;
    return `if [ -f ${hn} ]; then cp -p ${hn} ${fresh}; else : > ${fresh}; chmod 0640 ${fresh}; fi
if ! awk ${shellQuote(isUp)} ${fresh}; then
  if [ -n "$(tail -c 1 ${fresh})" ]; then echo >> ${fresh}; fi
  printf '%s\\n' up >> ${fresh}
fi`;
}

/**
 * Records, once, whether ifstated was enabled before the first deploy, and apart from that its
 * flags: `rcctl get ifstated flags` prints NO for a disabled daemon and nothing at all for one
 * enabled with its default flags, and `rcctl get ifstated status` answers by its exit status alone
 * (usr.sbin/rcctl/rcctl.sh, svc_get). An earlier deploy recorded the flags alone: NO was off,
 * anything else, nothing included, on.
 */
function recordIfstated(): string {
    return `if [ ! -e "$originals/ifstated.status" ]; then
  if [ -e "$originals/ifstated.flags" ]; then
    if [ "$(cat "$originals/ifstated.flags")" = NO ]; then echo off; else echo on; fi
  elif rcctl get ifstated status; then
    rcctl get ifstated flags > "$originals/ifstated.flags"
    echo on
  else
    echo NO > "$originals/ifstated.flags"
    echo off
  fi > "$originals/ifstated.status.new"
  mv -f "$originals/ifstated.status.new" "$originals/ifstated.status"
fi`;
}

/**
 * ifstated runs the claims: back to what it was before the first deploy. Enabled, then its flags
 * (`rcctl set <daemon> flags` refuses a daemon that is not enabled, and with no flags records the
 * defaults: rcctl.sh, svc_set), then started again with them; or stopped and disabled. With no
 * record, it is left as it is, as a file with no record is.
 */
function restoreIfstated(): string {
    return `status=$(cat "$originals/ifstated.status" 2>/dev/null || true)
if [ -z "$status" ] && [ -e "$originals/ifstated.flags" ]; then
  if [ "$(cat "$originals/ifstated.flags")" = NO ]; then status=off; else status=on; fi
fi
case "$status" in
  on)
    flags=$(cat "$originals/ifstated.flags" 2>/dev/null || true)
    if rcctl enable ifstated >/dev/null && rcctl set ifstated flags "$flags" >/dev/null; then
      echo "ifstated enabled as before the first deploy, with flags: \${flags:-its defaults}"
      rcctl restart ifstated || echo "ifstated did not start again with the flags it had before the first deploy" >&2
    else
      echo "ifstated: its status and flags before the first deploy (enabled, flags: \${flags:-its defaults}) could not be set back" >&2
    fi
    ;;
  off)
    rcctl stop ifstated >/dev/null 2>&1 || true
    rcctl disable ifstated >/dev/null 2>&1 || true
    echo "ifstated stopped and disabled, as before the first deploy"
    ;;
  *) echo "no record of ifstated before the first deploy: left as it is" ;;
esac`;
}

export interface OpenbsdDeploy extends FailoverAlias {
    files: DeployFile[];
    ipmove: IpmoveOnNode;
    /** Path of ovh-ipmove's configuration (the OVH credentials, from standard input). */
    ipmoveConfig: string;
    pfRule: string;
    carpdev: string;
    carpUnit: number;
    ifstatedConf: string;
    /** The claim script ifstated.conf starts (a file among `files`). */
    claimScript: string;
    /** net.inet.carp.preempt: whether a node with a lower advskew takes the master role back. */
    carpPreempt: boolean;
}

export function renderOpenbsdDeploy(d: OpenbsdDeploy): string {
    return `set -eu
umask 077
${prepareIpmove(d.ipmove)}
${readSecrets(d.ipmoveConfig)}
${d.files.map(writeNew).join("\n")}
# hostname.<carpdev> is the node's own too: the interface comes up, and keeps what it carries.
${renderHostnameUpEdit(hostnameIfPath(d.carpdev))}
# pf.conf is the node's own: add the CARP rule once, keep the rest, and its mode.
cp -p /etc/pf.conf /etc/pf.conf.new
# A last line without its newline would swallow the rule.
if [ -n "$(tail -c 1 /etc/pf.conf.new)" ]; then echo >> /etc/pf.conf.new; fi
grep -qxF ${shellQuote(d.pfRule)} /etc/pf.conf.new || printf '%s\\n' ${shellQuote(d.pfRule)} >> /etc/pf.conf.new
# sysctl.conf is the node's own too: CARP's preemption as the stack says (edges.<pair>.preempt).
${renderSysctlConfEdit("/etc/sysctl.conf", CARP_PREEMPT_SYSCTL, d.carpPreempt ? 1 : 0)}
# ifstated -n refuses an interface that does not exist yet: a first deploy creates carp first.
ifconfig carp${d.carpUnit} >/dev/null 2>&1 || ifconfig carp${d.carpUnit} create
# Validate everything before anything replaces the running files.
ifstated -n -f ${shellQuote(`${d.ifstatedConf}.new`)}
sh -n ${shellQuote(`${d.claimScript}.new`)}
pfctl -nf /etc/pf.conf.new
${recordOriginals(d, [...installedPaths(d.files, d.ipmoveConfig, d.ipmove), hostnameIfPath(d.carpdev), "/etc/sysctl.conf"], [d.ipmoveConfig])}
${recordIfstated()}
[ -e "$originals/pf.rule" ] || { if grep -qxF ${shellQuote(d.pfRule)} /etc/pf.conf; then echo kept; else echo added; fi > "$originals/pf.rule"; }
[ -e "$originals/carp.preempt" ] || sysctl -n ${CARP_PREEMPT_SYSCTL} > "$originals/carp.preempt"
${installChanged([...d.files.map((f) => f.path), d.ipmoveConfig, hostnameIfPath(d.carpdev), "/etc/pf.conf", "/etc/sysctl.conf"])}
${installs(d.ipmove) ? `${installIpmove(d.ipmove)}\n` : ""}${dropOldAlias(d, (ip) => `ifconfig ${d.publicInterface} inet -alias "${ip}"`)}
# Only what changed is applied (ovh-ipmove and its configuration are read at each claim).
[ "$(sysctl -n ${CARP_PREEMPT_SYSCTL})" = ${d.carpPreempt ? 1 : 0} ] || sysctl ${CARP_PREEMPT_SYSCTL}=${d.carpPreempt ? 1 : 0} >/dev/null
if ${anyChanged([hostnameIfPath(d.carpdev), hostnameIfPath(`carp${d.carpUnit}`)])}; then sh /etc/netstart ${d.carpdev} carp${d.carpUnit}; fi
if ${anyChanged(["/etc/pf.conf"])}; then pfctl -f /etc/pf.conf; fi
if [ "$(rcctl get ifstated flags)" != ${shellQuote(`-f ${d.ifstatedConf}`)} ]; then
  rcctl enable ifstated >/dev/null
  rcctl set ifstated flags -f ${shellQuote(d.ifstatedConf)} >/dev/null
  changed="$changed ifstated-flags "
fi
if ${anyChanged([d.ifstatedConf, d.claimScript, "ifstated-flags"])}; then
  # ifstated starts again in a state that claims nothing; a master claims the (new) IP at once.
  rcctl restart ifstated
else
  rcctl check ifstated >/dev/null || rcctl start ifstated
fi
${recordAlias(d)}
echo "deployed: ${d.files.map((f) => f.path).join(" ")} ${d.ipmoveConfig} ${hostnameIfPath(d.carpdev)} /etc/pf.conf /etc/sysctl.conf"
echo "failover-ip=${d.failoverIp}"
`;
}

export interface KeepalivedDeploy extends FailoverAlias {
    files: DeployFile[];
    ipmove: IpmoveOnNode;
    /** The VRRP address and its interface: holding it means this node is master. */
    vip: string;
    carpdev: string;
    /** The notify script that claims the failover IP. */
    masterScript: string;
    /** Path of ovh-ipmove's configuration (the OVH credentials, from standard input). */
    ipmoveConfig: string;
    /** keepalived.conf's path; the other files are its notify scripts. */
    conf: string;
}

export function renderKeepalivedDeploy(d: KeepalivedDeploy): string {
    const scripts = d.files.filter((f) => f.path !== d.conf);
    const conf = d.files.filter((f) => f.path === d.conf);
    return `set -eu
umask 077
mkdir -p ${shellQuote(d.conf.replace(/\/[^/]+$/, ""))}
${prepareIpmove(d.ipmove)}
${readSecrets(d.ipmoveConfig)}
${d.files.map(writeNew).join("\n")}
# Validate the new configuration against the new scripts (keepalived checks that the scripts
# it names exist and are safe), on a copy that names them; nothing runs from them yet.
sed ${scripts.map((f) => `-e ${shellQuote(`s#${f.path}#${f.path}.new#g`)}`).join(" ") || "-e ''"} ${shellQuote(`${d.conf}.new`)} > ${shellQuote(`${d.conf}.check`)}
keepalived -t -f ${shellQuote(`${d.conf}.check`)} || { rm -f ${shellQuote(`${d.conf}.check`)}; exit 5; }
rm -f ${shellQuote(`${d.conf}.check`)}
${recordOriginals(d, installedPaths(d.files, d.ipmoveConfig, d.ipmove), [d.ipmoveConfig])}
[ -e "$originals/keepalived.enabled" ] || { if systemctl is-enabled keepalived >/dev/null 2>&1; then echo enabled; else echo disabled; fi > "$originals/keepalived.enabled"; }
${installChanged([...scripts, ...conf].map((f) => f.path).concat(d.ipmoveConfig))}
${installs(d.ipmove) ? `${installIpmove(d.ipmove)}\n` : ""}${dropOldAlias(d, (ip) => `ip -4 addr del "${ip}/32" dev ${d.publicInterface}`)}
systemctl is-enabled --quiet keepalived || systemctl enable keepalived >/dev/null 2>&1 || true
# Only what changed is applied (ovh-ipmove and its configuration are read at each claim).
if ${anyChanged(d.files.map((f) => f.path))}; then
  systemctl reload-or-restart keepalived
  # A reload keeps a master master, so its notify_master does not run again: claim the IP now.
  if ip -4 addr show dev ${d.carpdev} | grep -q " ${d.vip}/"; then
    ${shellQuote(d.masterScript)}
  fi
else
  systemctl is-active --quiet keepalived || systemctl start keepalived
fi
${recordAlias(d)}
echo "deployed: ${d.files.map((f) => f.path).join(" ")} ${d.ipmoveConfig}"
echo "failover-ip=${d.failoverIp}"
`;
}

/**
 * A node leaves the pair (removed from the stack, or `pulumi destroy`): it stops claiming first
 * (its OVH credentials go, so ovh-ipmove can move nothing), then every file the deploy installed
 * goes back to what it was before the first deploy, the daemon follows, and the alias goes.
 */
export function renderKeepalivedRemoval(d: KeepalivedDeploy): string {
    return `set -u
rm -f ${shellQuote(d.ipmoveConfig)}
${restoreOriginals(d, installedPaths(d.files, d.ipmoveConfig, d.ipmove))}
if [ -e ${shellQuote(d.conf)} ]; then
  systemctl reload-or-restart keepalived || echo "keepalived did not reload its configuration as it was" >&2
else
  systemctl stop keepalived || true
  if [ "$(cat "$originals/keepalived.enabled" 2>/dev/null)" != enabled ]; then systemctl disable keepalived >/dev/null 2>&1 || true; fi
fi
rm -f "$originals/keepalived.enabled"
${removeAliases(d, (ip) => `ip -4 addr del "${ip}/32" dev ${d.publicInterface}`)}
echo "left the edge pair: no claim, no credentials, the files as they were"
`;
}

export function renderOpenbsdRemoval(d: OpenbsdDeploy): string {
    const carp = `carp${d.carpUnit}`;
    return `set -u
rm -f ${shellQuote(d.ipmoveConfig)}
${restoreOriginals(d, [...installedPaths(d.files, d.ipmoveConfig, d.ipmove), hostnameIfPath(d.carpdev), "/etc/sysctl.conf"])}
preempt=$(cat "$originals/carp.preempt" 2>/dev/null || true)
case "$preempt" in 0|1) sysctl ${CARP_PREEMPT_SYSCTL}="$preempt" >/dev/null ;; esac
${restoreIfstated()}
if [ -e /etc/hostname.${carp} ]; then sh /etc/netstart ${carp}; else ifconfig ${carp} destroy 2>/dev/null || true; fi
sh /etc/netstart ${d.carpdev}
if [ "$(cat "$originals/pf.rule" 2>/dev/null)" = added ]; then
  cp -p /etc/pf.conf /etc/pf.conf.new && grep -vxF ${shellQuote(d.pfRule)} /etc/pf.conf > /etc/pf.conf.new && mv -f /etc/pf.conf.new /etc/pf.conf && pfctl -f /etc/pf.conf
fi
rm -f "$originals/ifstated.status" "$originals/ifstated.flags" "$originals/pf.rule" "$originals/carp.preempt"
${removeAliases(d, (ip) => `ifconfig ${d.publicInterface} inet "${ip}" delete`)}
echo "left the edge pair: no claim, no credentials, the files as they were"
`;
}
