import { execFileSync, spawn, spawnSync } from "child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { afterAll, describe, expect, it } from "vitest";
import { CarpNodeSpec, EdgePairSpec } from "../../../components/edge/carpSpec";
import { renderHostnameUpEdit } from "../../../components/edge/edgeDeploy";
import {
    CLAIM_SCRIPT_PATH,
    insertPfRule,
    renderClaimScript,
    renderHostnameCarp,
    renderIfstatedConf,
    renderOpenbsdNodeFiles,
    renderPfCarpRule,
} from "../../../components/edge/openbsd";

const golden = (name: string) => readFileSync(join(__dirname, "golden", "openbsd", name), "utf8");

/** hostname.<carpdev> as the deploy makes it on a node that has none (the seed's case). */
function carpdevFileFromNothing(): string {
    const dir = mkdtempSync(join(tmpdir(), "ovhf-hostname-"));
    try {
        execFileSync("sh", ["-c", renderHostnameUpEdit(join(dir, "hostname.vio2"))]);
        return readFileSync(join(dir, "hostname.vio2.new"), "utf8");
    } finally {
        rmSync(dir, { recursive: true, force: true });
    }
}

// Seed 001's own values.
const master: CarpNodeSpec = {
    name: "bi-edge-sbg-1",
    advskew: 1,
    publicInterface: "vio0",
    privateInterface: "vio1",
    move: { kind: "cloud", project: "t18s", instance: "bi-edge-sbg-1" },
};
const backup: CarpNodeSpec = { ...master, name: "bi-edge-sbg-2", advskew: 50, move: { kind: "cloud", project: "t18s", instance: "bi-edge-sbg-2" } };

function seedSpec(failoverIp = "146.59.143.231"): EdgePairSpec {
    return {
        group: { vhid: 1, address: "10.25.0.10", prefixLength: 16, carpdev: "vio2", advbase: 1, password: "xxx", carpUnit: 0 },
        nodes: [master, backup],
        failoverIp,
        health: { pingTarget: "8.8.8.8", intervalSeconds: 15 },
        ipmovePath: "/usr/local/bin/ipmoveOvh",
        preempt: false,
    };
}

function moveCommand(spec: EdgePairSpec, node: CarpNodeSpec): string {
    if (node.move.kind !== "cloud") throw new Error("cloud nodes only here");
    return `${spec.ipmovePath} -project ${node.move.project} -ip ${spec.failoverIp} -instance ${node.move.instance}`;
}

const ifstated = (spec: EdgePairSpec, node: CarpNodeSpec) => renderIfstatedConf(spec, node);

/** Removes `#` comments outside quotes. */
function stripComment(line: string): string {
    let quote: string | undefined;
    for (let i = 0; i < line.length; i++) {
        const c = line[i];
        if (quote !== undefined) {
            if (c === quote) quote = undefined;
        } else if (c === "'" || c === '"') {
            quote = c;
        } else if (c === "#") {
            return line.slice(0, i);
        }
    }
    return line;
}

/**
 * Statements, comments and blanks normalised. A plain word single-quoted ('vio0') is the same word
 * to the shell that runs an ifstated action: the renderer quotes every value, the seed did not.
 */
function statements(text: string): string[] {
    return text
        .split("\n")
        .map((line) => stripComment(line).trim().replace(/[ \t]+/g, " ").replace(/'([A-Za-z0-9._/:-]+)'/g, "$1"))
        .filter((line) => line !== "");
}

function runCommands(text: string): string[] {
    return text.split("\n").flatMap((line) => {
        const m = /^\s*run "(.*)"\s*$/.exec(line);
        return m ? [m[1]] : [];
    });
}

/** The index of the `}` that closes the block opened at `start`. */
function blockEnd(lines: string[], start: number): number {
    let depth = 0;
    for (let i = start; i < lines.length; i++) {
        depth += (lines[i].endsWith("{") ? 1 : 0) - (lines[i] === "}" ? 1 : 0);
        if (depth === 0) return i;
    }
    throw new Error(`no end to ${lines[start]}`);
}

/** The statements from the one matching `head` to the end of its block, removed. */
function withoutBlock(lines: string[], head: (line: string) => boolean): string[] {
    const start = lines.findIndex(head);
    if (start < 0) throw new Error("no such block");
    return [...lines.slice(0, start), ...lines.slice(blockEnd(lines, start) + 1)];
}

/**
 * ifstated.conf's statements with this project's deliberate changes to seed 001 undone: no
 * init-state and no `starting` state (seed 001 started in `promoted`, whose tests run first), the
 * seed's move where promoted starts the claim script, and none of the part that runs whatever the
 * state (the periodic claim, the alias dropped when CARP is not master).
 */
function asSeed(lines: string[], seedMove: string): string[] {
    let out = lines.filter((l) => l !== "init-state starting");
    out = withoutBlock(out, (l) => l === "state starting {");
    out = withoutBlock(out, (l) => l.startsWith(`if ! "${CLAIM_SCRIPT_PATH} reassert" every `));
    const global = blockEnd(out, out.indexOf("state demoted {"));
    out = [...out.slice(0, global + 1), ...withoutBlock(out.slice(global + 1), (l) => l === "if $carp_if_down {")];
    return out.map((l) => (l === `run "${CLAIM_SCRIPT_PATH}"` ? `run "${seedMove} 2>&1 | logger -p daemon.info -sit ifstated"` : l));
}

describe("OpenBSD edge node files, seed 001", () => {
    const spec = seedSpec();

    it("render the seed's files statement for statement, but for the documented changes to ifstated.conf", () => {
        expect(statements(carpdevFileFromNothing())).toEqual(statements(golden("hostname.vio2")));
        expect(statements(renderHostnameCarp(spec.group, master))).toEqual(statements(golden("hostname.carp0.master")));
        expect(statements(renderHostnameCarp(spec.group, backup))).toEqual(statements(golden("hostname.carp0.backup")));
        expect(statements(renderPfCarpRule(spec.group))).toEqual(statements(golden("pf-rule")));
        expect(asSeed(statements(ifstated(spec, master)), moveCommand(spec, master))).toEqual(statements(golden("ifstated.conf")));
    });

    it("start in a state that claims nothing, named by init-state", () => {
        const lines = statements(ifstated(spec, master));
        expect(lines.filter((l) => l.startsWith("init-state"))).toEqual(["init-state starting"]);
        const starting = lines.slice(lines.indexOf("state starting {"), lines.indexOf("state promoted {"));
        expect(starting.filter((l) => l.startsWith("run ") || l.includes(" every "))).toEqual([]);
    });

    it("start the claim every reassertSeconds outside any state, and nowhere name ovh-ipmove", () => {
        const conf = ifstated({ ...spec, reassertSeconds: 45 }, master);
        const lines = statements(conf);
        // "reassert": the periodic claim yields to the nodes of higher priority.
        const test = `if ! "${CLAIM_SCRIPT_PATH} reassert" every 45 {`;
        expect(lines.filter((l) => l.includes(" every 45"))).toEqual([test]);
        // At depth 0: outside every state.
        const depth = lines.slice(0, lines.indexOf(test)).reduce((d, l) => d + (l.endsWith("{") ? 1 : 0) - (l === "}" ? 1 : 0), 0);
        expect(depth).toBe(0);
        expect(conf).not.toContain(spec.ipmovePath);
    });

    it("write hostname.carp0 exactly as the seed does", () => {
        expect(renderHostnameCarp(spec.group, master)).toBe("inet 10.25.0.10 255.255.0.0 10.25.255.255 vhid 1 carpdev vio2 pass xxx advskew 1\nup\n");
        expect(renderHostnameCarp(spec.group, backup)).toBe("inet 10.25.0.10 255.255.0.0 10.25.255.255 vhid 1 carpdev vio2 pass xxx advskew 50\nup\n");
        expect(renderHostnameCarp(spec.group, master)).toBe(golden("hostname.carp0.master"));
        expect(carpdevFileFromNothing()).toBe(golden("hostname.vio2"));
        expect(renderPfCarpRule(spec.group)).toBe(golden("pf-rule"));
    });

    it("puts advbase after vhid only when it is not 1", () => {
        const group = { ...spec.group, advbase: 3 };
        expect(renderHostnameCarp(group, master)).toBe("inet 10.25.0.10 255.255.0.0 10.25.255.255 vhid 1 advbase 3 carpdev vio2 pass xxx advskew 1\nup\n");
    });

    it("lists the node's files, the CARP one secret, the claim script executable, and the pf rule apart (hostname.<carpdev> is the node's own)", () => {
        const { files, pfRule } = renderOpenbsdNodeFiles(spec, master, moveCommand(spec, master));
        expect(files.map((f) => [f.path, f.secret, f.mode])).toEqual([
            ["/etc/hostname.carp0", true, "0640"],
            ["/etc/ifstated.conf", false, "0644"],
            [CLAIM_SCRIPT_PATH, false, "0755"],
        ]);
        expect(files.every((f) => f.content.endsWith("\n"))).toBe(true);
        expect(pfRule).toBe("pass on vio2 proto carp\n");
    });
});

describe("a new failover IP", () => {
    const before = seedSpec("146.59.143.231");
    const after = seedSpec("51.75.1.2");

    it.each([master, backup])("changes only the alias lines of $name's ifstated.conf", (node) => {
        const a = ifstated(before, node).split("\n");
        const b = ifstated(after, node).split("\n");
        expect(b).toHaveLength(a.length);
        const changed = a.flatMap((line, i) => (line === b[i] ? [] : [[line.trim(), b[i].trim()]]));
        expect(changed).toEqual([
            [`run "ifconfig 'vio0' inet alias '146.59.143.231' netmask 255.255.255.255 2>&1 | logger -p daemon.info -sit ifstated"`,
             `run "ifconfig 'vio0' inet alias '51.75.1.2' netmask 255.255.255.255 2>&1 | logger -p daemon.info -sit ifstated"`],
            [`run "ifconfig 'vio0' inet -alias '146.59.143.231'"`, `run "ifconfig 'vio0' inet -alias '51.75.1.2'"`],
            [`run "ifconfig 'vio0' inet -alias '146.59.143.231'"`, `run "ifconfig 'vio0' inet -alias '51.75.1.2'"`],
        ]);
    });

    it.each([master, backup])("changes only the lines of $name's claim script that hold the IP", (node) => {
        const a = renderClaimScript(before, node, moveCommand(before, node)).split("\n");
        const b = renderClaimScript(after, node, moveCommand(after, node)).split("\n");
        expect(b).toHaveLength(a.length);
        const changed = a.filter((line, i) => line !== b[i]);
        expect(changed.length).toBeGreaterThan(0);
        for (const line of changed) expect(line).toContain("146.59.143.231");
        for (const line of a.filter((l) => l.includes("146.59.143.231"))) expect(changed).toContain(line);
    });

    it.each([master, backup])("leaves $name's other files alone", (node) => {
        const files = (spec: EdgePairSpec) => renderOpenbsdNodeFiles(spec, node, moveCommand(spec, node));
        const others = (spec: EdgePairSpec) => files(spec).files.filter((f) => f.path !== "/etc/ifstated.conf" && f.path !== CLAIM_SCRIPT_PATH);
        expect(others(after)).toEqual(others(before));
        expect(others(before).map((f) => f.path)).toEqual(["/etc/hostname.carp0"]);
        expect(files(after).pfRule).toBe(files(before).pfRule);
    });
});

describe("ifstated run actions", () => {
    it("hold no $ variable: ifstated cannot expand them", () => {
        const spec = seedSpec();
        for (const node of [master, backup]) {
            const commands = runCommands(ifstated(spec, node));
            // The seed's (the claim script where the seed moved the IP), the log line of a claim
            // that could not start, and, whatever the state, the alias dropped and the claim
            // forgotten when CARP is not master.
            expect(commands).toHaveLength(runCommands(golden("ifstated.conf")).length + 3);
            for (const command of commands) expect(command).not.toContain("$");
        }
    });

    it("refuse a claim script path that is not a plain absolute path, and a move command that is not one line", () => {
        const spec = seedSpec();
        expect(() => renderIfstatedConf(spec, master, { claimPath: "/usr/local/sbin/claim $x" })).toThrow(/claimPath .* is not valid/);
        expect(() => renderIfstatedConf(spec, master, { claimPath: 'claim"' })).toThrow(/claimPath .* is not valid/);
        expect(() => renderClaimScript(spec, master, "ovh-ipmove\nreboot")).toThrow(/one non-empty line/);
        expect(() => renderClaimScript(spec, master, " ")).toThrow(/one non-empty line/);
    });
});

describe("insertPfRule", () => {
    const rule = "pass on vio2 proto carp\n";
    const pfConf = "set skip on lo\n\nblock return\t# block stateless traffic\npass\t\t# establish keep-state\n\nblock return in on ! lo0 proto tcp to port 6000:6010\n";

    it("adds the rule once, after every block rule, and keeps the rest", () => {
        const once = insertPfRule(pfConf, rule);
        expect(once).toBe(`${pfConf}pass on vio2 proto carp\n`);
        expect(insertPfRule(once, rule)).toBe(once);
        expect(once.split("\n").filter((l) => l === "pass on vio2 proto carp")).toHaveLength(1);
    });

    it("recognises the rule already there, whatever its spacing or comment", () => {
        const present = "block all\npass  on vio2\tproto carp   # CARP on the VLAN\n";
        expect(insertPfRule(present, rule)).toBe(present);
    });

    it("copes with a file without a final newline, or empty", () => {
        expect(insertPfRule("block all", rule)).toBe("block all\npass on vio2 proto carp\n");
        expect(insertPfRule("", rule)).toBe("pass on vio2 proto carp\n");
    });
});

// The claim script for real, under dash (Debian's sh) and mksh (of pdksh's line, as OpenBSD's
// sh), with stand-ins for ifconfig, logger and ovh-ipmove that record what they were asked.
describe("the claim script, run by sh", () => {
    const ARGS = "-ip 146.59.143.231 -instance bi-edge-sbg-1";
    const shells = ["sh", ...(spawnSync("mksh", ["-c", "true"]).status === 0 || process.env.CI === "true" ? ["mksh"] : [])];
    const dirs: string[] = [];
    afterAll(() => {
        for (const d of dirs) rmSync(d, { recursive: true, force: true });
    });

    /** A node: CARP in `carp`, the alias there or not; ovh-ipmove exits `moveStatus` after `moveSeconds`. */
    function node(shell: string, carp: "MASTER" | "BACKUP" | "INIT", opts: { alias?: boolean; moveSeconds?: number; moveStatus?: number; who?: CarpNodeSpec } = {}) {
        const dir = mkdtempSync(join(tmpdir(), "ovhf-claim-"));
        dirs.push(dir);
        const bin = join(dir, "bin");
        mkdirSync(bin);
        const state = join(dir, "state");
        mkdirSync(state);
        writeFileSync(join(state, "carp"), carp);
        if (opts.alias) writeFileSync(join(state, "alias"), "");
        const stub = (name: string, body: string) => writeFileSync(join(bin, name), `#!/bin/sh\n${body}`, { mode: 0o755 });
        // OpenBSD's ifconfig output (sbin/ifconfig/ifconfig.c: carp_status, in_status).
        stub("ifconfig", `echo "ifconfig $*" >> "${dir}/calls"
case "$*" in
  carp0) printf 'carp0: flags=8843<UP,BROADCAST,RUNNING,SIMPLEX,MULTICAST> mtu 1500\\n\\tcarp: %s carpdev vio2 vhid 1 advbase 1 advskew 1\\n' "$(cat "${state}/carp")" ;;
  vio0) printf 'vio0: flags=8843<UP> mtu 1500\\n\\tinet 198.51.100.41 netmask 0xffffff00 broadcast 198.51.100.255\\n'
        if [ -f "${state}/alias" ]; then printf '\\tinet 146.59.143.231 netmask 0xffffffff\\n'; fi ;;
  "vio0 inet alias 146.59.143.231 netmask 255.255.255.255") : > "${state}/alias" ;;
  *) exit 1 ;;
esac
`);
        stub("logger", `echo "logger $*" >> "${dir}/calls"\n`);
        const ipmove = join(dir, "ovh-ipmove");
        // Its duration and exit status: move-seconds and move-status when the test has written them.
        writeFileSync(ipmove, `#!/bin/sh\necho "move $*" >> "${dir}/calls"\nsleep "$(cat "${dir}/move-seconds" 2>/dev/null || echo ${opts.moveSeconds ?? 0})"\necho "moved"\nexit "$(cat "${dir}/move-status" 2>/dev/null || echo ${opts.moveStatus ?? 0})"\n`, { mode: 0o755 });
        const spec = { ...seedSpec(), ipmovePath: ipmove };
        const claimPath = join(dir, "ovh-failover-claim");
        const lockFile = join(dir, "run", "ovh-failover", "claim.lock");
        writeFileSync(claimPath, renderClaimScript(spec, opts.who ?? master, `'${ipmove}' -ip '146.59.143.231' -instance 'bi-edge-sbg-1'`, { claimPath, lockFile }));
        chmodSync(claimPath, 0o755);
        // The shebang's /bin/sh stands for ifstated's sh; the --now re-run goes through it too.
        if (shell !== "sh") writeFileSync(claimPath, readFileSync(claimPath, "utf8").replace("#!/bin/sh", `#!${execFileSync("sh", ["-c", `command -v ${shell}`], { encoding: "utf8" }).trim()}`));
        const env = { PATH: `${bin}:/usr/bin:/bin` };
        const run = (...args: string[]) => spawnSync(claimPath, args, { encoding: "utf8", env });
        const calls = () => (existsSync(join(dir, "calls")) ? readFileSync(join(dir, "calls"), "utf8").split("\n").filter(Boolean) : []);
        const acts = () => calls().filter((c) => c.startsWith("move") || c.includes(" inet alias "));
        /** Nothing holds the claim lock (flock(1) takes it at once). */
        const lockFree = () => spawnSync("flock", ["-n", lockFile, "true"]).status === 0;
        return { dir, claimPath, lockFile, run, calls, acts, env, lockFree };
    }

    it("is valid POSIX sh (shellcheck when installed)", () => {
        const script = renderClaimScript(seedSpec(), master, moveCommand(seedSpec(), master));
        execFileSync("sh", ["-n"], { input: script });
        if (spawnSync("shellcheck", ["--version"]).status === 0 || process.env.CI === "true") execFileSync("shellcheck", ["-s", "sh", "-"], { input: script });
    });

    describe.each(shells)("under %s", (shell) => {
        it.each(["BACKUP", "INIT"] as const)("claims nothing on a node whose CARP is %s", (carp) => {
            const n = node(shell, carp);
            const r = n.run("--now");
            expect(r.status, r.stderr).toBe(0);
            expect(n.acts()).toEqual([]);
            expect(n.calls()).toEqual(["ifconfig carp0"]);
        });

        it("on a master: the alias first, then the move, each step logged; the lock free after", () => {
            const n = node(shell, "MASTER");
            const r = n.run("--now");
            expect(r.status, r.stderr).toBe(0);
            expect(n.acts()).toEqual(["ifconfig vio0 inet alias 146.59.143.231 netmask 255.255.255.255", "move -ip 146.59.143.231 -instance bi-edge-sbg-1"]);
            expect(n.calls().filter((c) => c.startsWith("logger"))).toEqual([
                "logger -p daemon.info -t ovh-failover -- bi-edge-sbg-1 is CARP master of vhid 1: claiming failover IP 146.59.143.231",
                "logger -p daemon.info -t ovh-failover -- added alias 146.59.143.231 to vio0",
                "logger -p daemon.info -t ovh-failover -- asking OVH to move 146.59.143.231 to bi-edge-sbg-1",
                "logger -p daemon.info -t ovh-failover -- OVH move of 146.59.143.231 to bi-edge-sbg-1 done: moved",
            ]);
            expect(n.lockFree()).toBe(true);
        });

        it("the periodic claim (reassert) of a lower node yields to the nodes above it once a claim of its own went through since it became master", () => {
            const yields = `-yield-to ${master.move.kind === "cloud" ? master.move.instance : ""}`;
            const n = node(shell, "MASTER", { who: backup, moveStatus: 1 });
            const moves = () => n.acts().filter((a) => a.startsWith("move"));
            const status = join(n.dir, "move-status");
            // The promotion's claim fails: the periodic claims are outright until one goes through.
            expect(n.run("--now").status).toBe(1);
            writeFileSync(status, "0");
            expect(n.run("--now", "reassert").status).toBe(0);
            expect(n.run("--now", "reassert").status).toBe(0);
            expect(moves()).toEqual([`move ${ARGS}`, `move ${ARGS}`, `move ${ARGS} ${yields}`]);
            // Demoted (ifstated runs it when carp0 stops being MASTER), then master again.
            expect(n.run("demoted").status).toBe(0);
            expect(n.run("--now", "reassert").status).toBe(0);
            expect(n.run("--now").status).toBe(0);
            expect(n.run("--now", "reassert").status).toBe(0);
            expect(moves().slice(3)).toEqual([`move ${ARGS}`, `move ${ARGS}`, `move ${ARGS} ${yields}`]);
            // The best node yields to none.
            const top = node(shell, "MASTER");
            expect(top.run("--now").status).toBe(0);
            expect(top.run("--now", "reassert").status).toBe(0);
            expect(top.acts().filter((a) => a.startsWith("move"))).toEqual([`move ${ARGS}`, `move ${ARGS}`]);
        });

        it("a periodic claim holding the lock when the promotion's claim starts: the promotion leaves, the periodic claim is outright", async () => {
            const yields = `-yield-to ${master.move.kind === "cloud" ? master.move.instance : ""}`;
            const n = node(shell, "MASTER", { who: backup, moveSeconds: 1 });
            const periodic = spawn(n.claimPath, ["--now", "reassert"], { env: n.env, stdio: "ignore" });
            const ended = new Promise((ok) => periodic.once("exit", ok));
            for (let i = 0; i < 100 && !n.calls().some((c) => c.startsWith("move")); i++) await new Promise((ok) => setTimeout(ok, 20));
            expect(n.run("--now").status).toBe(0);
            expect(n.calls()).toContain("logger -p daemon.info -t ovh-failover -- a claim of 146.59.143.231 is running already: leaving it to finish");
            await ended;
            writeFileSync(join(n.dir, "move-seconds"), "0");
            expect(n.run("--now", "reassert").status).toBe(0);
            expect(n.acts().filter((a) => a.startsWith("move"))).toEqual([`move ${ARGS}`, `move ${ARGS} ${yields}`]);
        });

        it("a claim still in flight when the node is demoted counts for nothing in its next mastership", async () => {
            const n = node(shell, "MASTER", { who: backup, moveSeconds: 1 });
            const inFlight = spawn(n.claimPath, ["--now"], { env: n.env, stdio: "ignore" });
            const ended = new Promise((ok) => inFlight.once("exit", ok));
            for (let i = 0; i < 100 && !n.calls().some((c) => c.startsWith("move")); i++) await new Promise((ok) => setTimeout(ok, 20));
            expect(n.run("demoted").status).toBe(0);
            await ended;
            expect(n.run("--now", "reassert").status).toBe(0);
            expect(n.acts().filter((a) => a.startsWith("move"))).toEqual([`move ${ARGS}`, `move ${ARGS}`]);
        });

        it("leaves an alias that is there, and still claims", () => {
            const n = node(shell, "MASTER", { alias: true });
            expect(n.run("--now").status).toBe(0);
            expect(n.acts()).toEqual(["move -ip 146.59.143.231 -instance bi-edge-sbg-1"]);
        });

        it("says why when the move fails, with its exit status", () => {
            const n = node(shell, "MASTER", { moveStatus: 3 });
            expect(n.run("--now").status).toBe(3);
            expect(n.calls()).toContain("logger -p daemon.info -t ovh-failover -- OVH move of 146.59.143.231 to bi-edge-sbg-1 FAILED (exit 3): moved");
            expect(n.lockFree()).toBe(true);
        });

        it("returns at once when ifstated starts it, and claims in the background past any period", async () => {
            const n = node(shell, "MASTER", { moveSeconds: 2 });
            const started = Date.now();
            const r = n.run();
            expect(r.status).toBe(0);
            expect(Date.now() - started).toBeLessThan(1500);
            // A second start while the first claim runs leaves it to finish.
            await new Promise((ok) => setTimeout(ok, 500));
            expect(n.run().status).toBe(0);
            for (let i = 0; i < 60 && !n.calls().some((c) => c.includes("done: moved")); i++) await new Promise((ok) => setTimeout(ok, 100));
            await new Promise((ok) => setTimeout(ok, 500));
            expect(n.acts()).toEqual(["ifconfig vio0 inet alias 146.59.143.231 netmask 255.255.255.255", "move -ip 146.59.143.231 -instance bi-edge-sbg-1"]);
            expect(n.calls()).toContain("logger -p daemon.info -t ovh-failover -- a claim of 146.59.143.231 is running already: leaving it to finish");
            expect(n.lockFree()).toBe(true);
        });

        it("a claim killed while it held the lock leaves nothing in the way of the next, nor does a lock file left behind", async () => {
            const n = node(shell, "MASTER", { moveSeconds: 30 });
            // A pid that is no claim, as an earlier claim script left in its lock file.
            mkdirSync(join(n.dir, "run", "ovh-failover"), { recursive: true });
            writeFileSync(n.lockFile, `${spawnSync("sh", ["-c", "echo $$"], { encoding: "utf8" }).stdout.trim()}\n`);
            const killed = spawn(n.claimPath, ["--now"], { env: n.env, stdio: "ignore", detached: true });
            for (let i = 0; i < 100 && !n.calls().some((c) => c.startsWith("move")); i++) await new Promise((ok) => setTimeout(ok, 20));
            expect(n.lockFree()).toBe(false);
            process.kill(-killed.pid!, "SIGKILL");
            await new Promise((ok) => killed.once("exit", ok));
            for (let i = 0; i < 100 && !n.lockFree(); i++) await new Promise((ok) => setTimeout(ok, 20));
            writeFileSync(join(n.dir, "move-seconds"), "0");
            expect(spawnSync(n.claimPath, ["--now"], { env: n.env, encoding: "utf8", timeout: 10_000 }).status).toBe(0);
            expect(n.calls().filter((c) => c.startsWith("move"))).toHaveLength(2);
        });

        it("claims started together, a lock file left behind by a killed claim: exactly one of them runs", async () => {
            for (let round = 0; round < 3; round++) {
                const n = node(shell, "MASTER", { moveSeconds: 1 });
                mkdirSync(join(n.dir, "run", "ovh-failover"), { recursive: true });
                writeFileSync(n.lockFile, `${spawnSync("sh", ["-c", "echo $$"], { encoding: "utf8" }).stdout.trim()}\n`);
                const claims = Array.from({ length: 8 }, () => spawn(n.claimPath, ["--now"], { env: n.env, stdio: "ignore" }));
                await Promise.all(claims.map((c) => new Promise((ok) => c.once("exit", ok))));
                expect(n.acts().filter((a) => a.startsWith("move")), `round ${round}`).toHaveLength(1);
            }
        });
    });
});
