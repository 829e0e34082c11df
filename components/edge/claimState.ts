// What an edge node remembers between its claims of the failover IP, the same on keepalived and
// OpenBSD: whether its own outright claim has succeeded since it became master. Its periodic
// claim yields to the nodes of higher priority only then. Yielding before that would leave the IP
// on a master that is dead, or demoted, whenever the promotion's claim failed (OVH down beyond
// ovh-ipmove's retries) or never ran (a periodic claim held the lock): nothing else would claim
// it until a person did. Once one claim has gone through, yielding is what keeps a split brain
// to two moves: the lower node's, then the preferred node's back.
//
// Two files beside the claim lock, in its root-only folder (/run and /var/run are emptied at
// boot):
//   demoted  a mark written anew at every demotion (a new mastership starts there);
//   claimed  "claimed <mark>": an outright claim begun under that mark succeeded.
// The periodic claim yields only when `claimed` names the mark of now. A claim still in flight
// when the node is demoted writes the old mark, which then counts for nothing: the demotion clears
// the state whatever is in flight.
import { shellQuote } from "../shared/shell";

/** The folder of the claim lock, which holds the state as well. */
export function claimStateDir(lockFile: string): string {
    return lockFile.replace(/\/[^/]+$/, "") || "/";
}

/**
 * Shell lines for a demotion: a new mark, renamed into place (rename(2) is atomic, so a reader
 * sees the old mark or the new one, never a half-written file), and the record of the last claim
 * removed. `log` renders a log command for a fixed message.
 */
export function forgetClaimLines(stateDir: string, log: (message: string) => string): string {
    const q = shellQuote;
    const mark = `${stateDir}/demoted`;
    return [
        "# This node is no longer master: a new mark starts its next mastership, in which its periodic",
        "# claims claim outright until a claim of its own has succeeded (a claim in flight now counts for nothing).",
        `if ! { (umask 077 && mkdir -p ${q(stateDir)}) && printf '%s\\n' "$(date +%s).$$" > ${q(mark)}."$$" && mv -f ${q(mark)}."$$" ${q(mark)}; }; then`,
        `  ${log(`could not mark the demotion in ${mark}`)}`,
        "fi",
        `rm -f ${q(`${stateDir}/claimed`)}`,
    ].join("\n");
}

export interface ClaimLinesOptions {
    stateDir: string;
    /** A shell test that holds for a periodic claim. */
    reassertTest: string;
    moveCommand: string;
    /** The move targets this node yields to (carpSpec.ts yieldTargets); none for the best node. */
    yieldTo: string[];
    /** The line that runs a move command and keeps its output in $out. */
    run: (command: string) => string;
    /** A log command for a fixed message. */
    log: (message: string) => string;
}

/**
 * Shell lines that run the claim and leave its exit status in $status; $mastership must hold the
 * mark the claim belongs to. The best node yields to none: its claim is always outright (and
 * recorded all the same, for whoever reads the state).
 */
export function claimLines(o: ClaimLinesOptions): string {
    const q = shellQuote;
    const claimed = `${o.stateDir}/claimed`;
    const record = [
        `if [ "$status" -eq 0 ] && ! printf 'claimed %s\\n' "$mastership" > ${q(claimed)}; then`,
        `  ${o.log(`could not record the claim in ${claimed}: the periodic claims stay outright`)}`,
        "fi",
    ];
    if (o.yieldTo.length === 0) return [o.run(o.moveCommand), "status=$?", ...record].join("\n");
    const yieldCommand = `${o.moveCommand} -yield-to ${q(o.yieldTo.join(","))}`;
    return [
        `if ${o.reassertTest} && [ "$(cat ${q(claimed)} 2>/dev/null)" = "claimed $mastership" ]; then`,
        "  # This node's own outright claim has gone through since it became master: the periodic claim",
        "  # leaves the IP on a node of higher priority (carpSpec.ts yieldTargets).",
        `  ${o.run(yieldCommand)}`,
        "  status=$?",
        "else",
        `  if ${o.reassertTest}; then`,
        `    ${o.log("no claim of this node has gone through since it became master: claiming outright")}`,
        "  fi",
        `  ${o.run(o.moveCommand)}`,
        "  status=$?",
        ...record.map((l) => `  ${l}`),
        "fi",
    ].join("\n");
}
