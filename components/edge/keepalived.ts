// keepalived for an edge pair on Linux: the equivalent of the OpenBSD carp + ifstated setup of
// seed 001. VRRP runs unicast over the private network (like CARP on the private VLAN) and holds
// the private CARP address; the failover IP is not a VRRP address: the notify scripts add it as a
// /32 alias on the public interface and ask OVH to route it to the new master ("ip move").
//
// Pure: values in, text out. The component writes the files and restarts keepalived.
import { CarpNodeSpec, DEFAULT_REASSERT_SECONDS, EdgePairSpec, parseCarpPassword, yieldTargets } from "./carpSpec";
import { claimLines, claimStateDir, forgetClaimLines } from "./claimState";
import { shellQuote } from "../shared/shell";
import { ConfigValueError, parseInterfaceName, parseIpv4, parsePublicIpv4, parseSimpleName } from "../shared/validate";

/**
 * keepalived keeps at most 8 characters of auth_pass: VRRPv2's authentication data is 8 octets
 * (RFC 2338 §5.3.10; keepalived's vrrp_t.auth_data is uint8_t[8]). A longer password is truncated
 * and `keepalived -t` reports "Truncating auth_pass to 8 characters" as a configuration error, so
 * the renderer refuses it rather than let the effective password differ from the declared one.
 */
export const KEEPALIVED_PASSWORD_MAX = 8;

/**
 * The highest advskew keepalived can express. VRRP priority 255 means "address owner" (keepalived
 * forces such an instance to MASTER and ignores tracking weights) and 0 means "leaving", so the
 * usable priorities are 1–254: 254 values for CARP's 255 advskews (0–254). advskew 254 is refused.
 */
export const KEEPALIVED_ADVSKEW_MAX = 253;

/** The highest priority a node gets (advskew 0). */
const TOP_PRIORITY = 254;

/**
 * CARP's advskew (lower wins) as a VRRP priority (higher wins): 254 − advskew, so advskew 0 → 254,
 * 1 → 253, 50 → 204, 253 → 1. Strictly decreasing, so distinct advskews stay distinct priorities
 * and the node CARP would make master is the one VRRP makes master. Throws a RangeError for
 * anything outside 0–253 (see KEEPALIVED_ADVSKEW_MAX).
 */
export function vrrpPriority(advskew: number): number {
    if (!Number.isInteger(advskew) || advskew < 0 || advskew > KEEPALIVED_ADVSKEW_MAX) {
        throw new RangeError(
            `advskew ${advskew} has no VRRP priority: keepalived needs an advskew from 0 to ${KEEPALIVED_ADVSKEW_MAX} ` +
                "(priority = 254 - advskew; 255 would make the node the address owner, 0 means leaving)",
        );
    }
    return TOP_PRIORITY - advskew;
}

export interface KeepalivedOptions {
    /** Absolute directory of the notify scripts on the node, e.g. /etc/keepalived. */
    scriptDir: string;
    /** Shell command that moves the failover IP to this node at OVH (already quoted by the caller). */
    moveCommand: string;
    /** Where keepalived.conf goes; /etc/keepalived/keepalived.conf unless told. */
    confPath?: string;
    /** Seconds between two re-assertions of the routing while master (default 30). */
    reassertSeconds?: number;
    /** The lock that keeps two claims of this node from running at once (default DEFAULT_CLAIM_LOCK). */
    lockFile?: string;
}

/**
 * In a folder only root may write or enter: /run/lock is world-writable (Debian's tmpfiles.d
 * legacy.conf), so any local user could hold a lock there and stop every claim.
 */
export const DEFAULT_CLAIM_LOCK = "/run/ovh-failover/claim.lock";

export function reassertScriptPath(scriptDir: string): string {
    return `${scriptDir.replace(/\/+$/, "")}/ovh-failover-reassert.sh`;
}

export type NotifyRole = "master" | "backup" | "fault";

export interface KeepalivedNodeFile {
    path: string;
    content: string;
    /** Octal, as chmod takes it. */
    mode: string;
    /** True when the content must be handled as a secret (it holds the VRRP password). */
    secret: boolean;
}

export const DEFAULT_CONF_PATH = "/etc/keepalived/keepalived.conf";

/**
 * The links whose loss puts the instance in FAULT, less its own interface: keepalived follows that
 * one by itself and refuses it as a track_interface ("Ignoring track_interface … since own
 * interface", keepalived vrrp.c; `keepalived -t` exits 5). On Linux the private network is often
 * the VRRP interface itself.
 */
export function trackedInterfaces(spec: EdgePairSpec, node: CarpNodeSpec): string[] {
    return [...new Set([node.publicInterface, node.privateInterface])].filter((i) => i !== spec.group.carpdev);
}

/** Name of the vrrp_script and vrrp_instance blocks. */
const CHECK_NAME = "ovh_failover_ping";
const REASSERT_NAME = "ovh_failover_reassert";
const INSTANCE_NAME = "ovh_failover";

/**
 * The ping check demotes after `FALL` failures in a row and promotes after `RISE` successes: a
 * single lost packet does not move the failover IP (every move costs an OVH API call and some
 * seconds of unreachability), two in a row do. The script starts failed (init_fail), so a node
 * that has just booted proves it reaches the target before it may become master.
 */
const FALL = 2;
const RISE = 2;

export function notifyScriptPath(scriptDir: string, role: NotifyRole): string {
    return `${scriptDir.replace(/\/+$/, "")}/ovh-failover-${role}.sh`;
}

// keepalived.conf has no quoting for '"' or '#'/'!' (comments), and the scripts write paths
// unquoted in comments: keep paths to plain characters.
function checkPath(path: string, what: string): string {
    if (!/^\/[A-Za-z0-9._/-]*$/.test(path) || path.split("/").includes("..")) {
        throw new Error(`keepalived: ${what} must be an absolute path of letters, digits, '.', '_', '-' and '/' (got ${JSON.stringify(path)})`);
    }
    return path;
}

function checked<T>(parse: (v: unknown) => T, value: unknown, what: string): T {
    try {
        return parse(value);
    } catch (err) {
        if (err instanceof ConfigValueError) {
            throw new Error(`keepalived: ${what} ${JSON.stringify(value)} is not valid: expected ${err.message}`, { cause: err });
        }
        throw err;
    }
}

/** The node as listed in the spec, with the values written literally into files checked. */
function checkNode(spec: EdgePairSpec, node: CarpNodeSpec): void {
    if (!spec.nodes.some((n) => n.name === node.name)) {
        throw new Error(`keepalived: node ${node.name} is not one of the edge pair's nodes (${spec.nodes.map((n) => n.name).join(", ")})`);
    }
    checked(parseSimpleName, node.name, "node name");
    checked(parseInterfaceName, node.publicInterface, `node ${node.name} publicInterface`);
    checked(parseInterfaceName, node.privateInterface, `node ${node.name} privateInterface`);
    checked(parsePublicIpv4, spec.failoverIp, "failoverIp");
}

function privateAddressOf(node: CarpNodeSpec): string {
    if (node.privateAddress === undefined) {
        throw new Error(`keepalived: node ${node.name} needs a privateAddress (its unicast VRRP source on the private network)`);
    }
    return checked(parseIpv4, node.privateAddress, `node ${node.name} privateAddress`);
}

function checkPassword(password: string): string {
    checked(parseCarpPassword, password, "group.password");
    if (password.length > KEEPALIVED_PASSWORD_MAX) {
        throw new Error(
            `keepalived: group.password has ${password.length} characters; VRRPv2 (auth_type PASS) uses at most ${KEEPALIVED_PASSWORD_MAX} ` +
                "and keepalived would silently truncate it",
        );
    }
    return password;
}

/**
 * keepalived.conf for one node of the pair.
 *
 * Preemption, as spec.preempt says: with it, the healthy node with the highest priority (the
 * lowest advskew) takes the master role back when it returns, as CARP does with
 * net.inet.carp.preempt=1; without it (`nopreempt`) the role stays where it is until its holder
 * fails, as CARP does by default. Every node starts as BACKUP: keepalived clears `nopreempt` on
 * an instance whose initial state is MASTER (keepalived/vrrp/vrrp.c: "nopreempt will not work
 * with initial state MASTER"), and a node starting as MASTER would claim the role (and move the
 * failover IP) before hearing the current master. The ping check starting failed keeps a node
 * that has just booted from becoming master until it has shown it reaches the target.
 *
 * Demotion, as in ifstated: the public and private links are tracked interfaces and the ping a
 * tracked script, all without weight, so any of them failing puts the instance in FAULT (it stops
 * advertising and the peer takes over); the carpdev link is watched by VRRP itself.
 */
export function renderKeepalivedConf(spec: EdgePairSpec, node: CarpNodeSpec, opts: KeepalivedOptions): string {
    checkNode(spec, node);
    const { group, health } = spec;
    const scriptDir = checkPath(opts.scriptDir, "scriptDir");
    const carpdev = checked(parseInterfaceName, group.carpdev, "group.carpdev");
    const address = checked(parseIpv4, group.address, "group.address");
    const pingTarget = checked(parseIpv4, health.pingTarget, "health.pingTarget");
    const source = privateAddressOf(node);
    const peers = spec.nodes.filter((n) => n.name !== node.name).map(privateAddressOf);
    const password = checkPassword(group.password);
    const interval = health.intervalSeconds;
    // ping -W 1 waits one second for the reply; the timeout only catches a hung ping.
    const timeout = Math.max(2, Math.min(interval, 5));
    const notify = (role: NotifyRole) => `"${notifyScriptPath(scriptDir, role)}"`;
    const reassertSeconds = opts.reassertSeconds ?? DEFAULT_REASSERT_SECONDS;
    const preemption = spec.preempt
        ? "    # The highest priority takes the master role back (edges.<pair>.preempt: true).\n"
        : "    # The master keeps the role until it fails, whatever the priorities (edges.<pair>.preempt: false).\n    nopreempt\n";

    return `# keepalived.conf for ${node.name}, generated by ovh-failover: edit the stack, not this file.
# VRRP over the private network holds ${address}/${group.prefixLength} on ${carpdev}. The failover IP
# is not a VRRP address: the notify scripts alias it on ${node.publicInterface} and move it at OVH
# (it is not named here, so that changing it does not touch this file nor restart keepalived).

global_defs {
    enable_script_security
    script_user root
    router_id ${node.name}
}

# Demote when ${pingTarget} stops answering (${FALL} failures in a row, every ${interval}s).
vrrp_script ${CHECK_NAME} {
    script "/bin/ping -c 1 -W 1 ${pingTarget}"
    interval ${interval}
    timeout ${timeout}
    fall ${FALL}
    rise ${RISE}
    init_fail
}

# While master, make sure every ${reassertSeconds}s that OVH routes the failover IP here: after a
# split brain the other node may have moved it last (keepalived issue #100). The script only
# starts the claim in the background and exits 0 at once: a tracked script that fails or times out
# would put the instance in FAULT.
vrrp_script ${REASSERT_NAME} {
    script "${reassertScriptPath(scriptDir)}"
    interval ${reassertSeconds}
    timeout 5
}

vrrp_instance ${INSTANCE_NAME} {
    # Every node starts as BACKUP (nopreempt needs it).
    state BACKUP
${preemption}    interface ${carpdev}
    virtual_router_id ${group.vhid}
    # advskew ${node.advskew}: priority = 254 - advskew
    priority ${vrrpPriority(node.advskew)}
    advert_int ${group.advbase}
    # VRRPv2: the only version with authentication (at most ${KEEPALIVED_PASSWORD_MAX} characters).
    version 2

    unicast_src_ip ${source}
    unicast_peer {
${peers.map((p) => `        ${p}`).join("\n")}
    }

    authentication {
        auth_type PASS
        auth_pass ${password}
    }

    virtual_ipaddress {
        ${address}/${group.prefixLength} dev ${carpdev}
    }

${trackedInterfaces(spec, node).length === 0 ? "" : `    # Public and private links: either one down means FAULT.
    track_interface {
${trackedInterfaces(spec, node).map((i) => `        ${i}`).join("\n")}
    }
`}
    track_script {
        ${CHECK_NAME}
        ${REASSERT_NAME}
    }

    notify_master ${notify("master")}
    notify_backup ${notify("backup")}
    notify_fault ${notify("fault")}
    # keepalived stopping: release the alias as a backup does.
    notify_stop ${notify("backup")}
    # A master hearing a lower-priority master: the private network has just healed after a split
    # brain, and the other node may have moved the IP last. Claim it again (keepalived >= 2.0.6).
    notify_master_rx_lower_pri ${notify("master")}
}
`;
}

const LOG_FUNCTIONS = `log() {
  printf '%s\\n' "ovh-failover: $*"
  logger -t ovh-failover -p daemon.info -- "$*" 2>/dev/null || :
}

# Command output as one log line.
oneline() {
  printf '%s' "$1" | tr '\\n' ' '
}`;

/**
 * The notify script keepalived runs when this node enters `role`. POSIX sh, every value written
 * literally. master: add the failover IP as a /32 alias on the public interface if it is not
 * there, run `moveCommand` with a gratuitous ARP beside it if arping is installed (never fatal); the
 * script fails only when the move fails. With "reassert" (the periodic claim) it yields to the
 * nodes above once a claim of this mastership has gone through (claimState.ts). backup and fault:
 * mark the demotion, remove the alias if it is there.
 * Every step logs one line to syslog (daemon.info, tag ovh-failover) and to stdout.
 */
export function renderNotifyScript(spec: EdgePairSpec, node: CarpNodeSpec, role: NotifyRole, moveCommand: string, opts: { lockFile?: string } = {}): string {
    checkNode(spec, node);
    if (role === "master" && (moveCommand.trim() === "" || /[\r\n]/.test(moveCommand))) {
        throw new Error("keepalived: moveCommand must be one non-empty line of shell");
    }
    // Every value goes through shellQuote (validated too: checkNode); messages are quoted whole.
    const q = shellQuote;
    const yieldTo = yieldTargets(spec, node);
    const lockFile = opts.lockFile ?? DEFAULT_CLAIM_LOCK;
    const lockDir = claimStateDir(lockFile);
    const ipText = spec.failoverIp;
    const devText = node.publicInterface;
    const aliasText = `${ipText}/32`;
    const [ip, dev, alias] = [ipText, devText, aliasText].map(q);
    const present = `ip -4 addr show dev ${dev} 2>/dev/null | grep -qF ${q(` inet ${aliasText} `)}`;
    const why: Record<NotifyRole, string> = {
        master: `is now MASTER of vhid ${spec.group.vhid}: claiming failover IP ${ipText}`,
        backup: `is now BACKUP of vhid ${spec.group.vhid} (or keepalived is stopping): releasing failover IP ${ipText}`,
        fault: `is in FAULT for vhid ${spec.group.vhid} (${devText}, ${node.privateInterface} or ${spec.group.carpdev} down, or ${spec.health.pingTarget} unreachable): releasing failover IP ${ipText}`,
    };
    const head = `#!/bin/sh
# keepalived notify_${role} for ${node.name}, generated by ovh-failover: edit the stack, not this file.
set -u
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export PATH

${LOG_FUNCTIONS}

log ${shellQuote(`${node.name} ${why[role]}`)}
`;

    if (role !== "master") {
        return `${head}
${forgetClaimLines(lockDir, (m) => `log ${q(m)}`)}
if ${present}; then
  if out=$(ip addr del ${alias} dev ${dev} 2>&1); then
    log ${q(`removed alias ${aliasText} from ${devText}`)}
  else
    log ${q(`could not remove alias ${aliasText} from ${devText}: `)}"$(oneline "$out")"
  fi
else
  log ${q(`alias ${aliasText} not on ${devText}: nothing to remove`)}
fi
exit 0
`;
    }

    return `${head}
# The mastership this claim belongs to (see the end): the mark of the last demotion, which the
# periodic claim read before it saw this node master.
if [ "\${1:-}" = reassert ]; then
  mastership=\${2:-}
else
  mastership=$(cat ${q(`${lockDir}/demoted`)} 2>/dev/null || :)
fi
# One claim at a time: the periodic re-assertion and a lower-priority advert may both start one.
# The lock's folder is root's alone (0700), so no other user can hold the lock.
(umask 077 && mkdir -p ${q(lockDir)})
exec 9>>${q(lockFile)}
if ! flock -n 9; then
  log ${q(`a claim of ${ipText} is running already: leaving it to finish`)}
  exit 0
fi
if ${present}; then
  log ${q(`alias ${aliasText} already on ${devText}`)}
elif out=$(ip addr add ${alias} dev ${dev} 2>&1); then
  log ${q(`added alias ${aliasText} to ${devText}`)}
else
  log ${q(`could not add alias ${aliasText} to ${devText}: `)}"$(oneline "$out")"
fi

log ${q(`asking OVH to move ${ipText} to ${node.name}`)}
# Gratuitous ARP for neighbours on the public segment, in the background: optional, never
# fatal, and never in the way of the move (arping waits a second for a reply that never comes).
(
if command -v arping >/dev/null 2>&1; then
  if arping -V 2>&1 | grep -q iputils; then
    arping -q -U -c 1 -w 2 -I ${dev} -s ${ip} ${ip} >/dev/null 2>&1
  else
    arping -q -U -c 1 -w 2 -i ${dev} -S ${ip} ${ip} >/dev/null 2>&1
  fi
  log ${q(`gratuitous ARP for ${ipText} sent on ${devText} (arping exit `)}"$?"${q(", no reply expected)")}
else
  log ${q(`arping not installed: no gratuitous ARP for ${ipText}`)}
fi
) 9>&- </dev/null >/dev/null 2>&1 &
${claimLines({
        stateDir: lockDir,
        reassertTest: `[ "\${1:-}" = reassert ]`,
        moveCommand,
        yieldTo,
        run: (command) => `out=$( { ${command}; } 2>&1 9>&- )`,
        log: (text) => `log ${q(text)}`,
    })}
if [ "$status" -eq 0 ]; then
  log ${q(`OVH move of ${ipText} to ${node.name} done: `)}"$(oneline "$out")"
  exit 0
fi
log ${q(`OVH move of ${ipText} to ${node.name} FAILED (exit `)}"$status"${q("): ")}"$(oneline "$out")"
exit "$status"
`;
}

/**
 * Everything keepalived needs on one node: keepalived.conf (0600, secret: it holds the VRRP
 * password) and the three notify scripts (0755; root must own them and every directory above
 * them must not be writable by anyone but root, or enable_script_security disables them).
 */
export function renderKeepalivedNodeFiles(spec: EdgePairSpec, node: CarpNodeSpec, opts: KeepalivedOptions): KeepalivedNodeFile[] {
    const confPath = checkPath(opts.confPath ?? DEFAULT_CONF_PATH, "confPath");
    const roles: NotifyRole[] = ["master", "backup", "fault"];
    return [
        { path: confPath, content: renderKeepalivedConf(spec, node, opts), mode: "0600", secret: true },
        ...roles.map((role) => ({
            path: notifyScriptPath(checkPath(opts.scriptDir, "scriptDir"), role),
            content: renderNotifyScript(spec, node, role, opts.moveCommand, { lockFile: opts.lockFile }),
            mode: "0755",
            secret: false,
        })),
        { path: reassertScriptPath(checkPath(opts.scriptDir, "scriptDir")), content: renderReassertScript(spec, node, opts), mode: "0755", secret: false },
    ];
}

/**
 * The periodic re-assertion keepalived runs every reassertSeconds: while this node holds the VRRP
 * address (it is master), it starts the master script (alias, then ovh-ipmove, which reads where
 * OVH routes the IP and moves it only when it is elsewhere) in the background, out of
 * keepalived's process group, and exits 0 at once whatever happens: keepalived kills a script
 * that outlives its timeout, and a tracked script's failure means FAULT.
 */
export function renderReassertScript(spec: EdgePairSpec, node: CarpNodeSpec, opts: KeepalivedOptions): string {
    checkNode(spec, node);
    const q = shellQuote;
    const carpdev = checked(parseInterfaceName, spec.group.carpdev, "group.carpdev");
    const address = checked(parseIpv4, spec.group.address, "group.address");
    const master = notifyScriptPath(checkPath(opts.scriptDir, "scriptDir"), "master");
    const stateDir = claimStateDir(opts.lockFile ?? DEFAULT_CLAIM_LOCK);
    return `#!/bin/sh
# keepalived re-assertion for ${node.name}, generated by ovh-failover: edit the stack, not this file.
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export PATH
# The mark of the last demotion, read before the VRRP address is looked at: a demotion after this
# read leaves the claim a mark that is no longer the node's, and its success counts for nothing.
mastership=$(cat ${q(`${stateDir}/demoted`)} 2>/dev/null || :)
if ip -4 addr show dev ${q(carpdev)} 2>/dev/null | grep -qF ${q(` inet ${address}/`)}; then
  setsid ${q(master)} reassert "$mastership" </dev/null >/dev/null 2>&1 &
fi
exit 0
`;
}
