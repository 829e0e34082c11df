// Time from killing the master of an edge pair (by its pid) to (a) the backup holding the
// failover IP (its public interface polled every 20 ms) and (b) the backup's attach reaching the
// OVH API stand-in (the stand-in's own timestamp), for keepalived 2.2.7 with this project's
// configuration, then for Debian's ucarp as the peer with the same notify scripts as up/down
// scripts. Two nodes (advskew 0 and 50), advbase 1, in network namespaces (root). Prints
// figures; it is not a test.
//
//   npm run bench:failover [-- --runs 10] [--signal TERM|KILL|both]
//
// Then (c), a split brain with keepalived: the private network between the nodes isolated (every
// link up), the backup's promotion moving the IP: how long it stays on the backup before the
// master's re-assertion, to which the backup's yield, takes it back (from the backup's attach to
// the master's, as the stand-in timed them; see the README).
//
// TERM (default) stops the master cleanly: keepalived sends a priority 0 advertisement, ucarp
// (--shutdown) runs its down script but sends nothing, so its backup waits for the master to
// be declared dead. KILL is a crash (keepalived's VRRP child too): both backups wait 3 advbases.
import { createEdgeLab, EdgeDaemon, EdgeLab, leftovers, sleep, waitFor } from "../test/support/edgeLab";

interface Options {
    runs: number;
    signals: NodeJS.Signals[];
}

function parseOptions(argv: string[]): Options {
    let runs = 10;
    let signals: NodeJS.Signals[] = ["SIGTERM"];
    for (let i = 0; i < argv.length; i++) {
        const [flag, inline] = argv[i].split("=", 2);
        const value = inline ?? argv[++i];
        if (flag === "--runs" && /^\d+$/.test(value ?? "") && Number(value) >= 1) {
            runs = Number(value);
        } else if (flag === "--signal" && ["TERM", "KILL", "both"].includes(value ?? "")) {
            signals = value === "both" ? ["SIGTERM", "SIGKILL"] : [`SIG${value}` as NodeJS.Signals];
        } else {
            console.error("usage: npm run bench:failover [-- --runs N] [--signal TERM|KILL|both]");
            process.exit(2);
        }
    }
    return { runs, signals };
}

interface Sample {
    holds: number;
    attach: number;
}

const ADVBASE = 1;
const MASTER = "edge-1";
const BACKUP = "edge-2";

let current: EdgeLab | undefined;

/** The pair back in its steady state: the master alone holds the IP, routed to it at the API, nothing in flight. */
async function steady(lab: EdgeLab, master: string): Promise<void> {
    await waitFor(() => `${master} alone to hold the IP, routed to it (${lab.describe()})`, 30_000, () => lab.holders().join() === master && lab.routedTo(master), 50);
    // The master's ovh-ipmove exits right after its last GET; give it and the stand-in's log a moment.
    await sleep(500);
}

async function oneRun(lab: EdgeLab, signal: NodeJS.Signals): Promise<Sample> {
    await steady(lab, MASTER);
    // Kill at a random point of the advertisement cycle: the steady state is reached at a fixed
    // delay after the master's last transition, which would otherwise fix the phase of the kill.
    await sleep(Math.random() * 1000 * ADVBASE);
    const attachesBefore = lab.attaches().length;
    const killedAt = Date.now();
    const gone = lab.kill(MASTER, signal);
    const heldAt = await waitFor(() => `${BACKUP} to hold the IP (${lab.describe()})`, 30_000, () => (lab.holds(BACKUP) ? Date.now() : undefined), 20);
    const attach = await waitFor(() => `${BACKUP}'s attach (${lab.describe()})`, 30_000, () => lab.attaches().slice(attachesBefore).find((a) => a.node === BACKUP), 20);
    await gone;
    if (attach.t < killedAt) throw new Error(`an attach for ${BACKUP} reached the API before the kill`);
    const sample = { holds: heldAt - killedAt, attach: attach.t - killedAt };

    // Back to the start: the backup's move done, the master restarted (after a crash the alias
    // is still on it, as on a host that has not rebooted yet: drop it, as the reboot would).
    await waitFor(() => `the IP routed to ${BACKUP} (${lab.describe()})`, 30_000, () => lab.routedTo(BACKUP), 50);
    if (signal === "SIGKILL") lab.dropAlias(MASTER);
    await lab.start(MASTER);
    await steady(lab, MASTER);
    return sample;
}

async function measure(daemon: EdgeDaemon, options: Options): Promise<Map<NodeJS.Signals, Sample[]>> {
    const lab = await createEdgeLab({
        daemon,
        nodes: [
            { name: MASTER, advskew: 0 },
            { name: BACKUP, advskew: 50 },
        ],
        advbase: ADVBASE,
        healthIntervalSeconds: 1,
    });
    current = lab;
    const results = new Map<NodeJS.Signals, Sample[]>();
    try {
        await lab.start(MASTER);
        await steady(lab, MASTER);
        await lab.start(BACKUP);
        await sleep(3_000);
        for (const signal of options.signals) {
            const samples: Sample[] = [];
            for (let i = 0; i < options.runs; i++) {
                const s = await oneRun(lab, signal);
                samples.push(s);
                console.log(`  ${daemon.padEnd(10)} ${signal} run ${String(i + 1).padStart(2)}: (a) ${String(s.holds).padStart(5)} ms  (b) ${String(s.attach).padStart(5)} ms`);
            }
            results.set(signal, samples);
        }
        const violations = lab.violations();
        if (violations.length > 0) throw new Error(`the stand-in saw violations: ${violations.join("; ")}`);
    } catch (err) {
        for (const n of lab.nodes) console.error(`--- ${daemon} output of ${n.name} (end)\n${lab.daemonOutput(n.name).slice(-4000)}`);
        console.error(`--- stand-in requests (end)\n${lab.apiLog().slice(-30).map((l) => JSON.stringify(l)).join("\n")}`);
        throw err;
    } finally {
        current = undefined;
        await lab.destroy();
    }
    return results;
}

function sorted(xs: number[]): number[] {
    return [...xs].sort((a, b) => a - b);
}

function median(xs: number[]): number {
    const s = sorted(xs);
    const mid = Math.floor(s.length / 2);
    return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

function figures(xs: number[]): string {
    const s = sorted(xs);
    return `min ${String(s[0]).padStart(5)}  median ${String(Math.round(median(s))).padStart(5)}  max ${String(s[s.length - 1]).padStart(5)} ms`;
}

/**
 * (c): in a split brain, the time from the backup's attach to the master's attach back, both as
 * the stand-in timed them. Waits for those events in the stand-in's log, not for the IP to be seen
 * routed to the backup: that can last milliseconds (the master's periodic claim, waiting on the
 * backup's pending attach, completes it with its own read and attaches back at once), too short
 * for a poll of the log's last line to see. Each run must cost exactly those two moves.
 */
async function measureHeal(runs: number): Promise<number[]> {
    const lab = await createEdgeLab({ daemon: "keepalived", nodes: [{ name: MASTER, advskew: 0 }, { name: BACKUP, advskew: 50 }], advbase: ADVBASE, healthIntervalSeconds: 1, reassertSeconds: 10 });
    current = lab;
    const times: number[] = [];
    try {
        await lab.start(MASTER);
        await steady(lab, MASTER);
        await lab.start(BACKUP);
        await waitFor("the backup to settle", 20_000, () => lab.daemonOutput(BACKUP).includes("Entering BACKUP STATE"));
        for (let run = 1; run <= runs; run++) {
            await steady(lab, MASTER);
            const before = lab.attaches().length;
            const moves = () => lab.attaches().slice(before);
            lab.partition(true);
            // Both masters: the backup's promotion moves the IP; the master's next re-assertion,
            // to which the backup's yield, moves it back while the partition lasts.
            const away = await waitFor(() => `the backup to move the IP as a second master (${lab.describe()})`, 30_000, () => lab.holds(BACKUP) && moves().find((a) => a.node === BACKUP), 20);
            const back = await waitFor(() => `the master to move the IP back during the partition (${lab.describe()})`, 60_000, () => moves().find((a) => a.node === MASTER && a.t >= away.t), 20);
            await waitFor(() => `the IP routed to the master (${lab.describe()})`, 30_000, () => lab.routedTo(MASTER), 20);
            times.push(back.t - away.t);
            console.log(`  split brain run ${run}: ${times[times.length - 1]} ms on the backup`);
            lab.partition(false);
            await waitFor(() => `the master alone to hold the IP (${lab.describe()})`, 60_000, () => lab.holders().join() === MASTER && lab.routedTo(MASTER), 20);
            const names = moves().map((a) => a.node).join(",");
            if (names !== `${BACKUP},${MASTER}`) throw new Error(`split brain run ${run} cost the moves ${names}, not the backup's and the master's (${lab.describe()})`);
        }
    } catch (err) {
        for (const n of lab.nodes) console.error(`--- keepalived output of ${n.name} (end)\n${lab.daemonOutput(n.name).slice(-4000)}`);
        throw err;
    } finally {
        await lab.destroy();
        current = undefined;
    }
    return times;
}

async function main(): Promise<void> {
    const options = parseOptions(process.argv.slice(2));
    if (process.getuid?.() !== 0) {
        console.error("bench:failover needs root (network namespaces)");
        process.exit(2);
    }
    console.log(`failover of a two-node edge pair (advskew 0 and 50, advbase ${ADVBASE}), ${options.runs} runs per signal`);
    console.log("(a) kill of the master -> backup holds the IP;  (b) kill -> backup's attach reaches the OVH API stand-in");
    const keepalived = await measure("keepalived", options);
    const ucarp = await measure("ucarp", options);
    for (const signal of options.signals) {
        const k = keepalived.get(signal)!;
        const u = ucarp.get(signal)!;
        console.log(`\nmaster stopped with ${signal}${signal === "SIGKILL" ? " (crash)" : ""}, ${options.runs} runs`);
        console.log(`  keepalived (a) ${figures(k.map((s) => s.holds))}`);
        console.log(`  keepalived (b) ${figures(k.map((s) => s.attach))}`);
        console.log(`  ucarp      (a) ${figures(u.map((s) => s.holds))}`);
        console.log(`  ucarp      (b) ${figures(u.map((s) => s.attach))}`);
        const ratio = (f: (s: Sample) => number) => (median(k.map(f)) / median(u.map(f))).toFixed(2);
        console.log(`  keepalived/ucarp, medians: (a) ${ratio((s) => s.holds)}  (b) ${ratio((s) => s.attach)}`);
    }
    console.log(`\n(c) split brain: the backup's attach -> the master's attach back (its re-assertion), keepalived, reassertSeconds 10, ${options.runs} runs`);
    const heal = await measureHeal(options.runs);
    console.log(`  keepalived (c) ${figures(heal)}`);
}

let stopping = false;
async function cleanUpAndExit(code: number): Promise<void> {
    if (stopping) return;
    stopping = true;
    try {
        await current?.destroy();
    } catch (err) {
        console.error(String(err));
        code = code || 1;
    }
    const left = leftovers(`ovhfe${process.pid}`);
    if (left.length > 0) {
        console.error(`left behind: ${left.join(", ")}`);
        code = code || 1;
    }
    process.exit(code);
}

process.on("SIGINT", () => void cleanUpAndExit(130));
process.on("SIGTERM", () => void cleanUpAndExit(143));
main().then(
    () => cleanUpAndExit(0),
    (err: unknown) => {
        console.error(err instanceof Error ? err.stack : String(err));
        void cleanUpAndExit(1);
    },
);
