// The files of an OpenBSD edge node (seed 001): CARP on the private VLAN, and ifstated moving the
// failover IP, which CARP cannot carry because its advertisements stay off the public network.
// Pure renderers: each returns a file's text, ending with a newline.
import { shellQuote } from "../shared/shell";
import { ConfigValueError, parseAbsolutePath, parseInterfaceName, parsePublicIpv4, parseSimpleName } from "../shared/validate";
import { broadcastOf, CarpGroupSpec, CarpNodeSpec, DEFAULT_REASSERT_SECONDS, EdgePairSpec, netmaskOf, parseCarpPassword, yieldTargets } from "./carpSpec";
import { claimLines, claimStateDir, forgetClaimLines } from "./claimState";

export interface NodeFile {
    path: string;
    content: string;
    /** The content holds the CARP password. */
    secret: boolean;
    /** netstart fixes, with a warning, hostname.if files readable by others. */
    mode: string;
}

export function carpInterfaceOf(group: CarpGroupSpec): string {
    return `carp${group.carpUnit}`;
}

export function renderHostnameCarp(group: CarpGroupSpec, node: CarpNodeSpec): string {
    const address = `${group.address} ${netmaskOf(group.prefixLength)} ${broadcastOf(group.address, group.prefixLength)}`;
    const advbase = group.advbase === 1 ? "" : ` advbase ${group.advbase}`;
    const pass = parseCarpPassword(group.password);
    return `inet ${address} vhid ${group.vhid}${advbase} carpdev ${group.carpdev} pass ${pass} advskew ${node.advskew}\nup\n`;
}

export function renderPfCarpRule(group: CarpGroupSpec): string {
    return `pass on ${group.carpdev} proto carp\n`;
}

function pfStatement(line: string): string {
    return line.replace(/#.*/, "").trim().replace(/\s+/g, " ");
}

/**
 * Adds the rule to pf.conf unless a line already says it (comments and spacing aside). It goes
 * at the end: pf applies the last matching rule, so a non-quick pass placed before a `block`
 * that also matches CARP would be overridden, and both nodes would turn master.
 */
export function insertPfRule(pfConf: string, rule: string): string {
    const wanted = pfStatement(rule);
    if (pfConf.split("\n").some((line) => pfStatement(line) === wanted)) return pfConf;
    const head = pfConf === "" || pfConf.endsWith("\n") ? pfConf : `${pfConf}\n`;
    return `${head}${rule.trim()}\n`;
}

const LOGGER = "logger -p daemon.info -sit ifstated";

// ifstated hands a run string to sh -c as written: `$x` there is a shell variable, never a macro,
// and a `"` would end the string.
function run(command: string): string {
    if (/["$\n]/.test(command)) {
        throw new Error(`an ifstated run command cannot contain '"', '$' or a newline: ${command}`);
    }
    return `run "${command}"`;
}

const log = (message: string) => run(`${LOGGER} ${shellQuote(message)}`);

/** A command inside an ifstated string: the same limits as a run action. */
function checkRunCommand(command: string): string {
    run(command);
    return command;
}

const reassertSeconds = (spec: EdgePairSpec) => spec.reassertSeconds ?? DEFAULT_REASSERT_SECONDS;
const logged = (command: string) => run(`${command} 2>&1 | ${LOGGER}`);

/** Where the deploy installs the claim script (/usr/local/sbin is in OpenBSD's etc/mtree/BSD.local.dist). */
export const CLAIM_SCRIPT_PATH = "/usr/local/sbin/ovh-failover-claim";
/** The claim's lock, in a folder only root may enter; /etc/rc empties /var/run at boot. */
export const OPENBSD_CLAIM_LOCK = "/var/run/ovh-failover/claim.lock";

export interface OpenbsdClaimOptions {
    /** The claim script's path on the node (default CLAIM_SCRIPT_PATH). */
    claimPath?: string;
    /** Its lock (default OPENBSD_CLAIM_LOCK). */
    lockFile?: string;
}

function checkedValue<T>(parse: (v: unknown) => T, value: unknown, what: string): T {
    try {
        return parse(value);
    } catch (err) {
        if (err instanceof ConfigValueError) throw new Error(`openbsd: ${what} ${JSON.stringify(value)} is not valid: expected ${err.message}`, { cause: err });
        throw err;
    }
}

function block(head: string, body: string[]): string[] {
    return [`${head} {`, ...body.map((line) => (line === "" ? "" : `\t${line}`)), "}"];
}

function macros(spec: EdgePairSpec, node: CarpNodeSpec): string[] {
    const carp = carpInterfaceOf(spec.group);
    const { pingTarget, intervalSeconds } = spec.health;
    return [
        `external_if_up = '${node.publicInterface}.link.up'`,
        `external_if_down = '${node.publicInterface}.link.down'`,
        `internal_if_up = '${node.privateInterface}.link.up'`,
        `internal_if_down = '${node.privateInterface}.link.down'`,
        `carp_if_up = '${carp}.link.up'`,
        `carp_if_down = '${carp}.link.down'`,
        `ping_ok = '"ping -q -c 1 -w 1 ${pingTarget} >/dev/null 2>&1" every ${intervalSeconds}'`,
    ];
}

const HEALTHY_MASTER = "$carp_if_up && $external_if_up && $internal_if_up && $ping_ok";

// Not in seed 001, whose first state was `promoted`. Entering a state runs its external tests at
// once (ifstated.c state_change → external_evtimer_setup), so a first state that holds a claim
// claims on every start; this one holds none and only chooses where to go.
function starting(): string[] {
    return block("state starting", [
        "# claims nothing: CARP master and healthy goes to promoted, anything else to demoted",
        ...block(`if ${HEALTHY_MASTER}`, ["set-state promoted"]),
        ...block("if $carp_if_down || $external_if_down || $internal_if_down || ! $ping_ok", ["set-state demoted"]),
    ]);
}

function promoted(spec: EdgePairSpec, node: CarpNodeSpec, claim: string): string[] {
    const demote = (condition: string) => block(`if ${condition}`, ["set-state demoted"]);
    return block("state promoted", [
        "# a problem occurred: give up the master role by being demoted",
        ...demote("$external_if_down"),
        ...demote("$internal_if_down"),
        ...demote("! $ping_ok"),
        ...demote("$carp_if_down"),
        "",
        "# we are the master: claim the failover IP, the alias first",
        ...block("if $external_if_up && $internal_if_up && $ping_ok && $carp_if_up", [
            log("=> configure an alias for the failover public ip"),
            logged(`ifconfig ${shellQuote(node.publicInterface)} inet alias ${shellQuote(spec.failoverIp)} netmask 255.255.255.255`),
            log("=> claim failover public ip"),
            "# the claim script returns at once and moves the IP in the background",
            run(claim),
        ]),
    ]);
}

function demoted(spec: EdgePairSpec, node: CarpNodeSpec): string[] {
    return block("state demoted", [
        ...block("init", [
            "# force the demotion: increase the counter",
            log("=> carpdemote"),
            run("ifconfig -g carp carpdemote"),
        ]),
        "",
        "# only remove the alias once no traffic comes to this host",
        ...block("if $carp_if_down", [
            log("=> remove the alias of the failover public ip"),
            run(`ifconfig ${shellQuote(node.publicInterface)} inet -alias ${shellQuote(spec.failoverIp)}`),
        ]),
        "",
        "# everything is fine again: decrease the counter",
        ...block("if $carp_if_down && $external_if_up && $internal_if_up && $ping_ok", [
            log("=> remove carpdemote"),
            run("ifconfig -g carp -carpdemote"),
        ]),
        "",
        "# this host just became master, so it is promoted",
        ...block(`if ${HEALTHY_MASTER}`, ["set-state promoted"]),
    ]);
}

// Not in seed 001. Outside any state, so whatever the state machine does: ifstated does not
// evaluate a state it has entered again until each of the state's tests has run again
// (ifstated.c eval_state), and a link event in that window is lost. The periodic claim also
// covers a split brain, whose winner's state never changes.
function everyState(spec: EdgePairSpec, node: CarpNodeSpec, claim: string): string[] {
    return [
        `# whatever the state: every ${reassertSeconds(spec)} s, claim the failover IP if this node is CARP master (the claim`,
        "# script checks, then moves the IP only if OVH routes it elsewhere) ...",
        // "reassert": the periodic claim yields to the nodes of higher priority (carpSpec.ts yieldTargets).
        ...block(`if ! "${claim} reassert" every ${reassertSeconds(spec)}`, [log("=> could not start a claim of the failover public ip")]),
        "# ... and, as soon as CARP is not master, drop the alias and forget this mastership's claim",
        ...block("if $carp_if_down", [
            run(`ifconfig ${shellQuote(node.publicInterface)} inet -alias ${shellQuote(spec.failoverIp)}`),
            // The claim script's periodic claim yields only after a claim of this mastership went through (claimState.ts).
            run(`${claim} demoted`),
        ]),
    ];
}

function probeLogging(spec: EdgePairSpec, node: CarpNodeSpec): string[] {
    const carp = carpInterfaceOf(spec.group);
    const events: [string, string][] = [
        ["$carp_if_up", `${carp} is master`],
        ["$carp_if_down", `${carp} is backup`],
        ["$external_if_up", `interface ${node.publicInterface} (external) is up`],
        ["$external_if_down", `interface ${node.publicInterface} (external) is down`],
        ["$internal_if_up", `interface ${node.privateInterface} (internal) is up`],
        ["$internal_if_down", `interface ${node.privateInterface} (internal) is down`],
        ["$ping_ok", "ping ok to external server"],
        ["! $ping_ok", "could not ping external server"],
    ];
    return ["# print the status of all probes for every event", ...events.flatMap(([condition, message]) => [`if ${condition}`, `\t${log(message)}`])];
}

function claimPathOf(opts: OpenbsdClaimOptions): string {
    return checkedValue(parseAbsolutePath, opts.claimPath ?? CLAIM_SCRIPT_PATH, "claimPath");
}

/**
 * ifstated.conf for one node. Every value is written out literally because ifstated cannot
 * expand macros in a run action. The claim itself is the claim script (renderClaimScript), which
 * ifstated starts on promotion and every reassertSeconds.
 */
export function renderIfstatedConf(spec: EdgePairSpec, node: CarpNodeSpec, opts: OpenbsdClaimOptions = {}): string {
    const claim = checkRunCommand(shellQuote(claimPathOf(opts)));
    return [
        `# ifstated.conf of ${node.name}, rendered by ovh-failover`,
        ...macros(spec, node),
        "",
        "# start where nothing is claimed; the state it chooses does the rest",
        "init-state starting",
        "",
        ...starting(),
        "",
        ...promoted(spec, node, claim),
        "",
        ...demoted(spec, node),
        "",
        ...everyState(spec, node, claim),
        "",
        ...probeLogging(spec, node),
    ].join("\n") + "\n";
}

/**
 * The claim script ifstated starts (installed at CLAIM_SCRIPT_PATH): POSIX sh, every value
 * written literally and quoted. Started with no argument it starts itself again with --now in
 * the background and returns at once: ifstated waits for a run command (system()) and SIGKILLs
 * a test still running when it is due again (ifstated.c do_action, external_exec), and a claim
 * lasts as long as OVH takes (ovh-ipmove waits up to 120 s). With --now: nothing unless this
 * node's carp interface is MASTER, nothing if another claim holds the lock, else the /32 alias
 * if it is missing, then the move, which does nothing when OVH routes the IP here already; the
 * periodic claim ("reassert") yields to the nodes above this one once a claim of this mastership
 * has gone through (claimState.ts). With "demoted", at once: this mastership's claim forgotten.
 * Every step goes to syslog (daemon.info, tag ovh-failover). It relies on the PATH ifstated
 * gives its commands, as every command of ifstated.conf does.
 */
export function renderClaimScript(spec: EdgePairSpec, node: CarpNodeSpec, moveCommand: string, opts: OpenbsdClaimOptions = {}): string {
    if (moveCommand.trim() === "" || /[\r\n]/.test(moveCommand)) throw new Error("openbsd: moveCommand must be one non-empty line of shell");
    const q = shellQuote;
    const name = checkedValue(parseSimpleName, node.name, "node name");
    const dev = checkedValue(parseInterfaceName, node.publicInterface, `node ${name} publicInterface`);
    const ip = checkedValue(parsePublicIpv4, spec.failoverIp, "failoverIp");
    const carp = carpInterfaceOf(spec.group);
    const lockFile = checkedValue(parseAbsolutePath, opts.lockFile ?? OPENBSD_CLAIM_LOCK, "lockFile");
    const stateDir = claimStateDir(lockFile);
    const yieldTo = yieldTargets(spec, node);
    const logFixed = (message: string) => `log ${q(message)}`;
    return `#!/bin/sh
# ovh-failover claim for ${name}, rendered by ovh-failover: edit the stack, not this file.
# ifstated starts it on promotion, every ${reassertSeconds(spec)} s with "reassert", and with "demoted" when
# ${carp} stops being CARP MASTER. Only while ${carp} is CARP MASTER: the alias of ${ip} on ${dev},
# then the move of ${ip} to this node at OVH.
set -u

log() {
  logger -p daemon.info -t ovh-failover -- "$*" 2>/dev/null || :
}

# Command output as one log line.
oneline() {
  printf '%s' "$1" | tr '\\n' ' '
}

case "\${1-}" in
demoted)
${forgetClaimLines(stateDir, logFixed).replace(/^/gm, "  ")}
  exit 0
  ;;
--now|--locked)
  ;;
*)
  # Return at once; the claim goes on in the background, where ifstated neither waits for it
  # nor kills it.
  "$0" --now "\${1-}" </dev/null >/dev/null 2>&1 &
  exit 0
  ;;
esac

if [ "$1" = --now ]; then
  # The mark of the last demotion, read before CARP is asked: a demotion after this read leaves
  # the claim a mark that is no longer the node's, and its success counts for nothing.
  mastership=$(cat ${q(`${stateDir}/demoted`)} 2>/dev/null || :)
  # ifconfig prints "carp: MASTER carpdev ..." for a master (sbin/ifconfig/ifconfig.c, carp_status).
  if ! ifconfig ${q(carp)} 2>/dev/null | grep -q '^[[:space:]]*carp: MASTER '; then
    exit 0
  fi
  # One claim at a time, under an flock(2) lock: the kernel drops it once the claim and every
  # process it started have exited, killed or not, so no lock is ever left to take over (locks
  # are on files, shared by the descriptors dup and fork make: lib/libc/sys/flock.2). OpenBSD's
  # base has no flock(1), and its ksh opens a descriptor of exec n> close-on-exec: perl, in base
  # (gnu/usr.bin/perl), takes the lock and runs this script again with --locked on it. The
  # lock's folder is root's alone (0700), so no other user can hold the lock.
  (umask 077 && mkdir -p ${q(stateDir)})
  perl -e 'use Fcntl qw(:flock F_SETFD); open(my $lock, ">>", shift) or exit 70; flock($lock, LOCK_EX | LOCK_NB) or exit 75; fcntl($lock, F_SETFD, 0) or exit 70; exec { $ARGV[0] } @ARGV; exit 70' \\
    ${q(lockFile)} "$0" --locked "\${2-}" "$mastership"
  status=$?
  case "$status" in
  75) ${logFixed(`a claim of ${ip} is running already: leaving it to finish`)} ; exit 0 ;;
  70) ${logFixed(`could not take the claim lock ${lockFile}`)} ;;
  esac
  exit "$status"
fi

# --locked <"reassert" or nothing> <mark>, under the lock.
mastership=\${3-}
log ${q(`${name} is CARP master of vhid ${spec.group.vhid}: claiming failover IP ${ip}`)}
if ifconfig ${q(dev)} 2>/dev/null | grep -qF ${q(`inet ${ip} `)}; then
  log ${q(`alias ${ip} already on ${dev}`)}
elif out=$(ifconfig ${q(dev)} inet alias ${q(ip)} netmask 255.255.255.255 2>&1); then
  log ${q(`added alias ${ip} to ${dev}`)}
else
  log ${q(`could not add alias ${ip} to ${dev}: `)}"$(oneline "$out")"
fi

log ${q(`asking OVH to move ${ip} to ${name}`)}
${claimLines({
        stateDir,
        reassertTest: `[ "\${2-}" = reassert ]`,
        moveCommand,
        yieldTo,
        run: (command) => `out=$( { ${command}; } 2>&1 )`,
        log: logFixed,
    })}
if [ "$status" -eq 0 ]; then
  log ${q(`OVH move of ${ip} to ${name} done: `)}"$(oneline "$out")"
else
  log ${q(`OVH move of ${ip} to ${name} FAILED (exit `)}"$status"${q("): ")}"$(oneline "$out")"
fi
exit "$status"
`;
}

/**
 * The node's files. The pf rule is apart because it goes into the existing pf.conf (insertPfRule);
 * hostname.<carpdev> is the node's own, and the deploy only adds `up` to it (renderHostnameUpEdit).
 */
export function renderOpenbsdNodeFiles(spec: EdgePairSpec, node: CarpNodeSpec, moveCommand: string, opts: OpenbsdClaimOptions = {}): { files: NodeFile[]; pfRule: string } {
    const { group } = spec;
    return {
        files: [
            { path: `/etc/hostname.${carpInterfaceOf(group)}`, content: renderHostnameCarp(group, node), secret: true, mode: "0640" },
            { path: "/etc/ifstated.conf", content: renderIfstatedConf(spec, node, opts), secret: false, mode: "0644" },
            { path: claimPathOf(opts), content: renderClaimScript(spec, node, moveCommand, opts), secret: false, mode: "0755" },
        ],
        pfRule: renderPfCarpRule(group),
    };
}
