// The files of an OpenBSD edge node (seed 001): CARP on the private VLAN, and ifstated moving the
// failover IP, which CARP cannot carry because its advertisements stay off the public network.
// Pure renderers: each returns a file's text, ending with a newline.
import { shellQuote } from "../shared/shell";
import { broadcastOf, CarpGroupSpec, CarpNodeSpec, EdgePairSpec, netmaskOf, parseCarpPassword } from "./carpSpec";

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

export function renderHostnameCarpdev(_group: CarpGroupSpec): string {
    return "up\n";
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

const reassertSeconds = (spec: EdgePairSpec) => spec.reassertSeconds ?? 30;
const logged = (command: string) => run(`${command} 2>&1 | ${LOGGER}`);

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

function promoted(spec: EdgePairSpec, node: CarpNodeSpec, moveCommand: string): string[] {
    const demote = (condition: string) => block(`if ${condition}`, ["set-state demoted"]);
    return block("state promoted", [
        "# a problem occurred: give up the master role by being demoted",
        ...demote("$external_if_down"),
        ...demote("$internal_if_down"),
        ...demote("! $ping_ok"),
        ...demote("$carp_if_down"),
        "",
        "# we are the master: claim the failover IP",
        ...block("if $external_if_up && $internal_if_up && $ping_ok && $carp_if_up", [
            log("=> configure an alias for the failover public ip"),
            logged(`ifconfig ${shellQuote(node.publicInterface)} inet alias ${shellQuote(spec.failoverIp)} netmask 255.255.255.255`),
            log("=> claim failover public ip"),
            logged(moveCommand),
        ]),
        "",
        // Not in seed 001: its claim ran only on a change of state, and after a split brain the
        // winner's state never changes. An external test runs only while its state is current, and
        // the body only when its value changes (ifstated.c, check_external_status): the test itself
        // is the claim, which reads where OVH routes the IP and moves it only when it is elsewhere.
        `# while master, every ${reassertSeconds(spec)} s: claim the failover IP again if OVH routes it elsewhere (a split brain)`,
        ...block(`if ! "${checkRunCommand(moveCommand)} >/dev/null 2>&1" every ${reassertSeconds(spec)}`, [
            log("=> the failover public ip could not be claimed again"),
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
        ...block("if $carp_if_up && $external_if_up && $internal_if_up && $ping_ok", ["set-state promoted"]),
    ]);
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

/**
 * ifstated.conf for one node. Every value is written out literally because ifstated cannot
 * expand macros in a run action. `moveCommand` claims the failover IP at OVH, e.g.
 * `/usr/local/bin/ovh-ipmove -project <p> -ip <ip> -instance <name>`; its output goes to syslog.
 */
export function renderIfstatedConf(spec: EdgePairSpec, node: CarpNodeSpec, moveCommand: string): string {
    return [
        `# ifstated.conf of ${node.name}, rendered by ovh-failover`,
        ...macros(spec, node),
        "",
        "# the first state defined is the initial state",
        ...promoted(spec, node, moveCommand),
        "",
        ...demoted(spec, node),
        "",
        ...probeLogging(spec, node),
    ].join("\n") + "\n";
}

/** The node's files; the pf rule is apart because it goes into the existing pf.conf (insertPfRule). */
export function renderOpenbsdNodeFiles(spec: EdgePairSpec, node: CarpNodeSpec, moveCommand: string): { files: NodeFile[]; pfRule: string } {
    const { group } = spec;
    return {
        files: [
            { path: `/etc/hostname.${group.carpdev}`, content: renderHostnameCarpdev(group), secret: false, mode: "0640" },
            { path: `/etc/hostname.${carpInterfaceOf(group)}`, content: renderHostnameCarp(group, node), secret: true, mode: "0640" },
            { path: "/etc/ifstated.conf", content: renderIfstatedConf(spec, node, moveCommand), secret: false, mode: "0644" },
        ],
        pfRule: renderPfCarpRule(group),
    };
}
