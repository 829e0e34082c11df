// An edge pair (or trio) for real, in network namespaces on this machine: each node runs
// keepalived (or ucarp) with the files this project renders, and its notify scripts run the real
// bin/ovh-ipmove against the OVH API stand-in, which lives in a namespace of its own behind the
// public bridge. Linux and root only.
//
//   <prefix>-host     bridges brpub (public, 198.51.100.0/24) and brpriv (CARP, 10.25.0.0/16)
//   <prefix>-api      eth0 198.51.100.99/24: the stand-in (standInServer.ts), https://198.51.100.99/1.0
//   <prefix>-<node>   eth0 198.51.100.1x/24 on brpub (public; gets the failover IP 203.0.113.50/32
//                     as an alias when master), eth2 10.25.0.1x/16 on brpriv (VRRP/CARP)
//
// Only addresses inside these namespaces are used; nothing is added to the root namespace. Files
// go to a root-owned 0755 directory under the temporary directory, one 0755 directory per node
// (keepalived's enable_script_security drops scripts whose path anyone but root may write).
import { ChildProcess, execFileSync, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import type { CarpNodeSpec, EdgePairSpec } from "../../components/edge/carpSpec";
import { renderIpmoveConfig, renderMoveCommand } from "../../components/edge/carpPair";
import { buildIpmoveBundle } from "../../components/edge/ipmoveBundle";
import { notifyScriptPath, renderKeepalivedNodeFiles } from "../../components/edge/keepalived";
import type { StandInLogLine, StandInReady } from "./standInServer";

export const REPO_ROOT = path.resolve(__dirname, "../..");
export const API_ADDRESS = "198.51.100.99";
export const FAILOVER_IP = "203.0.113.50";
export const FAILOVER_IP_ID = "fip-1";
/** A Public Cloud project's service name (32 hex digits, as at OVH). */
export const PROJECT = "0123456789abcdef0123456789abcdef";
export const CARP_ADDRESS = "10.25.0.10";
export const ATTACH_ROUTE = "/cloud/project/{serviceName}/ip/failover/{id}/attach";

export type EdgeDaemon = "keepalived" | "ucarp";

export interface EdgeLabOptions {
    nodes: Array<{ name: string; advskew: number }>;
    /** keepalived (default) or Debian's ucarp with the same notify scripts as up/down scripts. */
    daemon?: EdgeDaemon;
    /** Seconds between advertisements (default 1). */
    advbase?: number;
    /** keepalived's ping check interval in seconds (default 1). */
    healthIntervalSeconds?: number;
    vhid?: number;
    /** Namespace and directory prefix (default ovhfe<pid>). */
    prefix?: string;
    /** Seconds between two re-assertions by the master (the renderer's default unless given). */
    reassertSeconds?: number;
    /** How long the stand-in's attach takes, in ms (default 0: done at the next read). */
    attachMs?: number;
    /** Whether the preferred node takes the role back (default true: the failover test's step d). */
    preempt?: boolean;
}

export interface EdgeLabNode {
    name: string;
    ns: string;
    spec: CarpNodeSpec;
    instanceId: string;
    publicAddress: string;
    privateAddress: string;
    /** The node's root-owned 0755 directory: configuration, scripts, pid files, daemon output. */
    dir: string;
    /** The ovh-ipmove wrapper the notify scripts run. */
    ipmove: string;
    /** What the notify (up) script runs to move the IP. */
    moveCommand: string;
    daemonLog: string;
    /** The node's claim lock (the notify scripts keep their claim state beside it). */
    lockFile: string;
    /** One line per claim (a run of the master script) started and ended: see claims(). */
    claimLog: string;
    /** One line per ovh-ipmove run ended: see moveRuns(). */
    ipmoveLog: string;
}

/** A run of the node's master script: a promotion's claim (no argument) or a periodic one. */
export interface ClaimRun {
    startedAt: number;
    /** Undefined while it runs. */
    endedAt?: number;
    status?: number;
    periodic: boolean;
}

/** A run of ovh-ipmove by a node's claim. */
export interface MoveRun {
    endedAt: number;
    status: number;
    /** It was given -yield-to. */
    yielding: boolean;
    args: string;
}

export interface AttachRequest {
    /** When it reached the stand-in, ms since epoch. */
    t: number;
    instanceId: string;
    /** The lab node whose instance it names. */
    node: string | undefined;
    status: number;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Polls `check` every `everyMs` until it returns something other than undefined/false; throws
 * after `timeoutMs`, with `what` (a function is called then, to describe the state at the end).
 */
export async function waitFor<T>(what: string | (() => string), timeoutMs: number, check: () => T | undefined | false, everyMs = 50): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
        const value = check();
        if (value !== undefined && value !== false) return value;
        if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${typeof what === "function" ? what() : what}`);
        await sleep(everyMs);
    }
}

function ip(...args: string[]): void {
    execFileSync("ip", args, { stdio: ["ignore", "ignore", "pipe"] });
}

export function canRunEdgeLab(): boolean {
    return process.getuid?.() === 0 && spawnSync("ip", ["netns", "list"]).status === 0;
}

/**
 * What the keepalived labs need besides the edge lab's: keepalived and iproute2's `bridge`. In CI,
 * which installs them all, a lab that cannot run is an error naming the test, never a skip.
 */
export function keepalivedLabRunnable(test: string): boolean {
    const has = (tool: string, flag: string) => spawnSync(tool, [flag], { stdio: "ignore" }).status === 0;
    const runnable = canRunEdgeLab() && has("keepalived", "--version") && has("bridge", "-V");
    if (!runnable && process.env.CI === "true") throw new Error(`${test} needs root, iproute2 and keepalived in CI`);
    return runnable;
}

function alive(child: ChildProcess | undefined): child is ChildProcess {
    return child !== undefined && child.exitCode === null && child.signalCode === null;
}

function exited(child: ChildProcess, timeoutMs: number): Promise<boolean> {
    if (!alive(child)) return Promise.resolve(true);
    return new Promise((resolve) => {
        const timer = setTimeout(() => resolve(false), timeoutMs);
        child.once("exit", () => {
            clearTimeout(timer);
            resolve(true);
        });
    });
}

function readPid(file: string): number | undefined {
    try {
        const pid = Number(fs.readFileSync(file, "utf8").trim());
        return Number.isInteger(pid) && pid > 1 ? pid : undefined;
    } catch {
        return undefined;
    }
}

export class EdgeLab {
    readonly daemon: EdgeDaemon;
    readonly prefix: string;
    readonly dir: string;
    readonly hostNs: string;
    readonly apiNs: string;
    readonly nodes: EdgeLabNode[] = [];
    readonly spec: EdgePairSpec;
    readonly requestLog: string;
    readonly controlFile: string;
    ready: StandInReady | undefined;
    private readonly namespaces: string[] = [];
    private readonly daemons = new Map<string, ChildProcess>();
    private standIn: ChildProcess | undefined;
    private destroyed = false;
    readonly reassertSeconds: number | undefined;
    readonly attachMs: number;
    private ipmoveBundle = "";

    constructor(opts: EdgeLabOptions) {
        this.daemon = opts.daemon ?? "keepalived";
        this.reassertSeconds = opts.reassertSeconds;
        this.attachMs = opts.attachMs ?? 0;
        this.prefix = opts.prefix ?? `ovhfe${process.pid}`;
        this.hostNs = `${this.prefix}-host`;
        this.apiNs = `${this.prefix}-api`;
        // mkdtemp makes it 0700; keepalived wants 0755, root's, with no writable-by-others parent.
        this.dir = fs.mkdtempSync(path.join(os.tmpdir(), `${this.prefix}-`));
        fs.chmodSync(this.dir, 0o755);
        this.requestLog = path.join(this.dir, "api", "requests.jsonl");
        this.controlFile = path.join(this.dir, "api", "control.json");
        const nodes: CarpNodeSpec[] = opts.nodes.map((n, i) => ({
            name: n.name,
            advskew: n.advskew,
            publicInterface: "eth0",
            privateInterface: "eth2",
            privateAddress: `10.25.0.${11 + i}`,
            move: { kind: "cloud", project: PROJECT, instance: n.name },
        }));
        this.spec = {
            group: { vhid: opts.vhid ?? 51, address: CARP_ADDRESS, prefixLength: 16, carpdev: "eth2", advbase: opts.advbase ?? 1, password: "Lab_pw-1", carpUnit: 0 },
            nodes,
            failoverIp: FAILOVER_IP,
            health: { pingTarget: API_ADDRESS, intervalSeconds: opts.healthIntervalSeconds ?? 1 },
            ipmovePath: "/usr/local/bin/ovh-ipmove",
            preempt: opts.preempt ?? true,
        };
        nodes.forEach((spec, i) => {
            const dir = path.join(this.dir, spec.name);
            this.nodes.push({
                name: spec.name,
                ns: `${this.prefix}-${spec.name}`,
                spec,
                instanceId: `6f1d3c2a-0b4e-4c5d-8e9f-a0b1c2d3e4${11 + i}`,
                publicAddress: `198.51.100.${11 + i}`,
                privateAddress: spec.privateAddress!,
                dir,
                ipmove: path.join(dir, "ovh-ipmove"),
                moveCommand: "",
                daemonLog: path.join(dir, `${this.daemon}.log`),
                lockFile: path.join(dir, "claim.lock"),
                claimLog: path.join(dir, "claims.log"),
                ipmoveLog: path.join(dir, "ipmove.log"),
            });
        });
    }

    node(name: string): EdgeLabNode {
        const n = this.nodes.find((x) => x.name === name);
        if (!n) throw new Error(`edge lab: no node ${name}`);
        return n;
    }

    private addNamespace(ns: string): void {
        ip("netns", "add", ns);
        this.namespaces.push(ns);
        ip("-n", ns, "link", "set", "lo", "up");
    }

    /** A veth pair: `inside` in `ns` with `cidr`, its peer on `bridge` in the host namespace. */
    private plug(ns: string, inside: string, peer: string, bridge: string, cidr: string): void {
        ip("link", "add", inside, "netns", ns, "type", "veth", "peer", "name", peer, "netns", this.hostNs);
        ip("-n", this.hostNs, "link", "set", peer, "master", bridge, "up");
        ip("-n", ns, "addr", "add", cidr, "dev", inside);
        ip("-n", ns, "link", "set", inside, "up");
    }

    /** Namespaces, links, the stand-in and every node's files. */
    async build(): Promise<void> {
        this.addNamespace(this.hostNs);
        for (const bridge of ["brpub", "brpriv"]) {
            ip("-n", this.hostNs, "link", "add", bridge, "type", "bridge");
            ip("-n", this.hostNs, "link", "set", bridge, "up");
        }
        this.addNamespace(this.apiNs);
        this.plug(this.apiNs, "eth0", "papi", "brpub", `${API_ADDRESS}/24`);
        this.nodes.forEach((n, i) => {
            this.addNamespace(n.ns);
            this.plug(n.ns, "eth0", `pub${i}`, "brpub", `${n.publicAddress}/24`);
            this.plug(n.ns, "eth2", `priv${i}`, "brpriv", `${n.privateAddress}/16`);
        });
        await this.startStandIn();
        this.ipmoveBundle = buildIpmoveBundle(REPO_ROOT).file;
        for (const n of this.nodes) this.writeNodeFiles(n);
    }

    private async startStandIn(): Promise<void> {
        const dir = path.join(this.dir, "api");
        fs.mkdirSync(dir, { mode: 0o755 });
        const readyFile = path.join(dir, "ready.json");
        const out = fs.openSync(path.join(dir, "stand-in.log"), "a");
        const args = [
            "netns", "exec", this.apiNs,
            process.execPath, "--import", "tsx", path.join(REPO_ROOT, "test/support/standInServer.ts"),
            "--listen", API_ADDRESS,
            "--dir", dir,
            "--ready", readyFile,
            "--log", this.requestLog,
            "--project", PROJECT,
            "--failover-ip", FAILOVER_IP,
            "--failover-id", FAILOVER_IP_ID,
            ...this.nodes.flatMap((n) => ["--instance", `${n.name}=${n.instanceId}`]),
            "--attach-ms", String(this.attachMs),
            "--control", this.controlFile,
        ];
        this.standIn = spawn("ip", args, { cwd: REPO_ROOT, stdio: ["ignore", out, out] });
        fs.closeSync(out);
        this.ready = await waitFor("the OVH API stand-in", 30_000, () => {
            if (!alive(this.standIn)) throw new Error(`the stand-in exited: ${this.standInOutput()}`);
            return fs.existsSync(readyFile) ? (JSON.parse(fs.readFileSync(readyFile, "utf8")) as StandInReady) : undefined;
        });
    }

    standInOutput(): string {
        try {
            return fs.readFileSync(path.join(this.dir, "api", "stand-in.log"), "utf8");
        } catch {
            return "";
        }
    }

    private writeNodeFiles(n: EdgeLabNode): void {
        const ready = this.ready!;
        fs.mkdirSync(n.dir, { mode: 0o755 });
        fs.chmodSync(n.dir, 0o755);
        const write = (file: string, content: string, mode: number) => {
            fs.writeFileSync(file, content, { mode });
            fs.chmodSync(file, mode);
        };
        // The wrapper stands for /usr/local/bin/ovh-ipmove: the bundled file the deploy ships
        // (dist/ovh-ipmove.cjs), trusting the stand-in's certificate. Node by absolute path: the
        // notify scripts set their own PATH.
        // Each run's end goes to ipmoveLog: when, its exit status and its arguments.
        write(
            n.ipmove,
            `#!/bin/sh\n# ovh-ipmove for ${n.name} in the edge lab\nenv NODE_EXTRA_CA_CERTS='${ready.caFile}' '${process.execPath}' '${this.ipmoveBundle}' "$@"\n` +
                `status=$?\nprintf '%s %s %s\\n' "$(date +%s%3N)" "$status" "$*" >> '${n.ipmoveLog}'\nexit "$status"\n`,
            0o755,
        );
        const ipmoveConfig = path.join(n.dir, "ovh-ipmove.conf");
        write(
            ipmoveConfig,
            renderIpmoveConfig({ endpoint: ready.url, applicationKey: ready.applicationKey, applicationSecret: ready.applicationSecret, consumerKey: ready.consumerKey }),
            0o600,
        );
        // The production command, with the lab's per-node config path in place of IPMOVE_CONFIG.
        n.moveCommand = renderMoveCommand(n.ipmove, FAILOVER_IP, n.spec.move, ipmoveConfig);
        const files = renderKeepalivedNodeFiles({ ...this.spec, ipmovePath: n.ipmove }, n.spec, {
            scriptDir: n.dir,
            moveCommand: n.moveCommand,
            confPath: path.join(n.dir, "keepalived.conf"),
            // The nodes share this machine's /run: each its own lock, as on separate machines.
            lockFile: n.lockFile,
            reassertSeconds: this.reassertSeconds,
        });
        for (const f of files) write(f.path, f.content, parseInt(f.mode, 8));
        // The master script as rendered, under another name, and in its place a record of each of
        // its runs around it (keepalived and the re-assertion script run it by that path).
        const master = notifyScriptPath(n.dir, "master");
        const rendered = master.replace(/\.sh$/, ".rendered.sh");
        fs.renameSync(master, rendered);
        write(
            master,
            `#!/bin/sh\n# The lab's record of ${n.name}'s claims, around the rendered master script.\n` +
                `printf '%s start %s %s\\n' "$(date +%s%3N)" "$$" "\${1:-promotion}" >> '${n.claimLog}'\n` +
                `'${rendered}' "$@"\nstatus=$?\n` +
                `printf '%s end %s %s\\n' "$(date +%s%3N)" "$$" "$status" >> '${n.claimLog}'\nexit "$status"\n`,
            0o755,
        );
        if (this.daemon === "ucarp") {
            // ucarp waits for its up script and sends no advertisement meanwhile: with the move
            // (seconds) in it, the backup would declare the master dead and claim the IP too.
            // keepalived runs its notify scripts without waiting; so does this up script.
            write(
                path.join(n.dir, "ucarp-up.sh"),
                `#!/bin/sh\n# ucarp up script for ${n.name}: keepalived's notify_master, in the background as keepalived runs it\n'${notifyScriptPath(n.dir, "master")}' "$@" &\nexit 0\n`,
                0o755,
            );
        }
    }

    private daemonCommand(n: EdgeLabNode): string[] {
        if (this.daemon === "keepalived") {
            return [
                "keepalived", "--dont-fork", "--log-console", "--log-detail", "--no-syslog", "--vrrp",
                "--use-file", path.join(n.dir, "keepalived.conf"),
                "--pid", path.join(n.dir, "keepalived.pid"),
                "--vrrp_pid", path.join(n.dir, "vrrp.pid"),
            ];
        }
        const { group } = this.spec;
        // The notify scripts as up/down scripts (the up one in the background, see writeNodeFiles);
        // --shutdown runs the down script at exit, as notify_stop.
        return [
            "ucarp", "--interface", group.carpdev, "--srcip", n.privateAddress, "--vhid", String(group.vhid),
            "--pass", group.password, "--addr", group.address, "--advbase", String(group.advbase), "--advskew", String(n.spec.advskew),
            "--upscript", path.join(n.dir, "ucarp-up.sh"), "--downscript", notifyScriptPath(n.dir, "backup"),
            ...(this.spec.preempt ? ["--preempt"] : []), "--shutdown",
        ];
    }

    /** Starts the node's daemon in its namespace; resolves to its pid. */
    async start(name: string): Promise<number> {
        const n = this.node(name);
        if (alive(this.daemons.get(name))) throw new Error(`edge lab: ${this.daemon} of ${name} is already running`);
        fs.appendFileSync(n.daemonLog, `\n=== ${new Date().toISOString()} start\n`);
        const out = fs.openSync(n.daemonLog, "a");
        const child = spawn("ip", ["netns", "exec", n.ns, ...this.daemonCommand(n)], { stdio: ["ignore", out, out] });
        fs.closeSync(out);
        this.daemons.set(name, child);
        // `ip netns exec` execs the daemon: the child's pid is the daemon's.
        await waitFor(`${this.daemon} of ${name} to start`, 5_000, () => {
            if (!alive(child)) throw new Error(`${this.daemon} of ${name} exited at once: ${this.daemonOutput(name).slice(-2000)}`);
            try {
                return fs.readFileSync(`/proc/${child.pid}/comm`, "utf8").trim() === this.daemon;
            } catch {
                return false;
            }
        }, 10);
        return child.pid!;
    }

    /** The pid of the node's running daemon, if it runs. */
    pid(name: string): number | undefined {
        const child = this.daemons.get(name);
        return alive(child) ? child.pid : undefined;
    }

    /**
     * Sends `signal` to the node's daemon by its pid, at once (before returning the promise), and
     * resolves when the daemon has exited. SIGTERM is a clean stop (keepalived sends priority 0
     * and runs notify_stop; ucarp runs its down script with --shutdown). SIGKILL is a crash: for
     * keepalived its VRRP child is killed too, or it would see its parent die and stop cleanly
     * (the parent is stopped first, so that it cannot respawn the child).
     */
    kill(name: string, signal: NodeJS.Signals = "SIGTERM", timeoutMs = 10_000): Promise<void> {
        const child = this.daemons.get(name);
        if (!alive(child)) return Promise.reject(new Error(`edge lab: ${this.daemon} of ${name} is not running`));
        const n = this.node(name);
        const vrrp = this.daemon === "keepalived" && signal === "SIGKILL" ? readPid(path.join(n.dir, "vrrp.pid")) : undefined;
        if (vrrp !== undefined && vrrp !== child.pid && this.namespacePids(n.ns).includes(vrrp)) {
            child.kill("SIGSTOP");
            process.kill(vrrp, "SIGKILL");
        }
        child.kill(signal);
        return exited(child, timeoutMs).then((gone) => {
            if (!gone) throw new Error(`${this.daemon} of ${name} did not exit within ${timeoutMs} ms of ${signal}`);
        });
    }

    /** A clean stop of the node's daemon (SIGTERM by its pid); resolves when it has exited. */
    stop(name: string): Promise<void> {
        return this.kill(name, "SIGTERM");
    }

    /** Pids of every process in the namespace (`ip netns pids`). */
    namespacePids(ns: string): number[] {
        const r = spawnSync("ip", ["netns", "pids", ns], { encoding: "utf8" });
        return r.status === 0 ? r.stdout.split(/\s+/).filter(Boolean).map(Number) : [];
    }

    /**
     * Cuts (or heals) the private network between the nodes without any link going down: their
     * bridge ports are isolated from each other (bridge port isolation), so VRRP adverts no longer
     * cross while every interface stays up. A split brain, as a broken vRack makes one.
     */
    partition(cut: boolean): void {
        this.nodes.forEach((_, i) => execFileSync("bridge", ["-n", this.hostNs, "link", "set", "dev", `priv${i}`, "isolated", cut ? "on" : "off"], { stdio: ["ignore", "ignore", "pipe"] }));
    }

    /** Link up or down of one of the node's interfaces (eth0 public, eth2 private). */
    link(name: string, iface: "eth0" | "eth2", up: boolean): void {
        ip("-n", this.node(name).ns, "link", "set", "dev", iface, up ? "up" : "down");
    }

    /** Whether the node has the failover IP as an alias on its public interface. */
    holds(name: string): boolean {
        const r = spawnSync("ip", ["-n", this.node(name).ns, "-4", "-o", "addr", "show", "dev", "eth0"], { encoding: "utf8" });
        return r.stdout.includes(` inet ${FAILOVER_IP}/32 `);
    }

    /** The nodes that hold the failover IP now. */
    holders(): string[] {
        return this.nodes.filter((n) => this.holds(n.name)).map((n) => n.name);
    }

    /** Removes the alias from a node (what a reboot after a crash would do). */
    dropAlias(name: string): void {
        if (this.holds(name)) ip("-n", this.node(name).ns, "addr", "del", `${FAILOVER_IP}/32`, "dev", "eth0");
    }

    /** Everything the stand-in wrote so far. */
    apiLog(): StandInLogLine[] {
        let text: string;
        try {
            text = fs.readFileSync(this.requestLog, "utf8");
        } catch {
            return [];
        }
        const lines = text.split("\n");
        lines.pop(); // the last one may be half written
        return lines.filter(Boolean).map((l) => JSON.parse(l) as StandInLogLine);
    }

    /** The attach POSTs that reached the stand-in, with the node they name. */
    attaches(): AttachRequest[] {
        return this.apiLog().flatMap((l) => {
            if (l.type !== "request" || l.method !== "POST" || l.route !== ATTACH_ROUTE) return [];
            const instanceId = String((l.body as { instanceId?: unknown } | undefined)?.instanceId);
            return [{ t: l.t, instanceId, node: this.nodes.find((n) => n.instanceId === instanceId)?.name, status: l.status }];
        });
    }

    violations(): string[] {
        return this.apiLog().flatMap((l) => (l.type === "violation" ? [l.text] : []));
    }

    /** Where the stand-in routes the failover IP now (the node name, or the raw value). */
    routing(): { routedTo: string; node: string | undefined; ipStatus: string } {
        const last = this.apiLog().filter((l) => l.type === "request" || l.type === "routing").pop() as { routedTo: string; ipStatus: string } | undefined;
        const routedTo = last?.routedTo ?? "";
        return { routedTo, node: this.nodes.find((n) => n.instanceId === routedTo)?.name, ipStatus: last?.ipStatus ?? "unknown" };
    }

    /** True when the stand-in routes the IP to this node, settled. */
    routedTo(name: string): boolean {
        const r = this.routing();
        return r.node === name && r.ipStatus === "ok";
    }

    /**
     * Takes the OVH API stand-in down (every request answered 503) or brings it back; resolves
     * once the stand-in has applied it.
     */
    async apiDown(down: boolean): Promise<void> {
        const applied = () => this.apiLog().filter((l) => l.type === "control").length;
        const before = applied();
        fs.writeFileSync(`${this.controlFile}.tmp`, JSON.stringify({ down }));
        fs.renameSync(`${this.controlFile}.tmp`, this.controlFile);
        await waitFor(`the stand-in to take the API ${down ? "down" : "back up"}`, 10_000, () => applied() > before);
    }

    /** The node's claims (runs of its master script), in the order they started. */
    claims(name: string): ClaimRun[] {
        const runs: ClaimRun[] = [];
        const byPid = new Map<string, ClaimRun>();
        for (const line of readLines(this.node(name).claimLog)) {
            const [t, phase, pid, value] = line.split(" ");
            if (phase === "start") {
                const run: ClaimRun = { startedAt: Number(t), periodic: value === "reassert" };
                runs.push(run);
                byPid.set(pid, run);
            } else {
                const run = byPid.get(pid);
                if (run) Object.assign(run, { endedAt: Number(t), status: Number(value) });
                byPid.delete(pid);
            }
        }
        return runs;
    }

    /** The node's ovh-ipmove runs, in the order they ended. */
    moveRuns(name: string): MoveRun[] {
        return readLines(this.node(name).ipmoveLog).map((line) => {
            const [t, status, ...args] = line.split(" ");
            return { endedAt: Number(t), status: Number(status), yielding: args.includes("-yield-to"), args: args.join(" ") };
        });
    }

    daemonOutput(name: string): string {
        try {
            return fs.readFileSync(this.node(name).daemonLog, "utf8");
        } catch {
            return "";
        }
    }

    /** What the lab looks like, for failure messages. */
    describe(): string {
        const daemons = this.nodes.map((n) => `${n.name}: ${this.pid(n.name) ?? "stopped"}`).join(", ");
        const attaches = this.attaches().map((a) => `${a.t} ${a.node ?? a.instanceId} (${a.status})`).join("; ");
        return `holders [${this.holders().join(", ")}]; ${this.daemon} ${daemons}; routing ${JSON.stringify(this.routing())}; attaches: ${attaches || "none"}`;
    }

    /**
     * Stops every process it started (daemons, then the stand-in, then whatever is left in its
     * namespaces: notify scripts, ovh-ipmove, pings), deletes the namespaces and the directory.
     * Throws when something is left behind.
     */
    async destroy(): Promise<void> {
        if (this.destroyed) return;
        this.destroyed = true;
        const problems: string[] = [];
        const stop = async (child: ChildProcess | undefined, what: string) => {
            if (!alive(child)) return;
            child.kill("SIGTERM");
            if (await exited(child, 5_000)) return;
            child.kill("SIGKILL");
            if (!(await exited(child, 2_000))) problems.push(`${what} (pid ${child.pid}) did not exit`);
        };
        await Promise.all([...this.daemons].map(([name, child]) => stop(child, `${this.daemon} of ${name}`)));
        await stop(this.standIn, "the stand-in");
        for (const ns of this.namespaces) {
            for (let round = 0; round < 20; round++) {
                const pids = this.namespacePids(ns);
                if (pids.length === 0) break;
                for (const pid of pids) {
                    try {
                        process.kill(pid, round < 5 ? "SIGTERM" : "SIGKILL");
                    } catch {
                        // already gone
                    }
                }
                await sleep(100);
            }
            const left = this.namespacePids(ns);
            if (left.length > 0) problems.push(`processes ${left.join(", ")} still in ${ns}`);
        }
        for (const ns of [...this.namespaces].reverse()) {
            const r = spawnSync("ip", ["netns", "del", ns], { encoding: "utf8" });
            if (r.status !== 0) problems.push(`ip netns del ${ns}: ${r.stderr.trim()}`);
        }
        fs.rmSync(this.dir, { recursive: true, force: true });
        problems.push(...leftovers(this.prefix));
        for (const [name, child] of this.daemons) if (alive(child)) problems.push(`${this.daemon} of ${name} still runs`);
        if (alive(this.standIn)) problems.push("the stand-in still runs");
        if (problems.length > 0) throw new Error(`edge lab ${this.prefix} left things behind: ${problems.join("; ")}`);
    }
}

/** The complete lines of a file that is being appended to (none if it does not exist yet). */
function readLines(file: string): string[] {
    let text: string;
    try {
        text = fs.readFileSync(file, "utf8");
    } catch {
        return [];
    }
    const lines = text.split("\n");
    lines.pop();
    return lines.filter(Boolean);
}

/** Namespaces and directories of a lab with this prefix that still exist. */
export function leftovers(prefix: string): string[] {
    const found: string[] = [];
    const list = spawnSync("ip", ["netns", "list"], { encoding: "utf8" }).stdout;
    for (const line of list.split("\n")) {
        const ns = line.split(" ")[0];
        if (ns.startsWith(`${prefix}-`)) found.push(`namespace ${ns}`);
    }
    for (const entry of fs.readdirSync(os.tmpdir())) {
        if (entry.startsWith(`${prefix}-`)) found.push(`directory ${path.join(os.tmpdir(), entry)}`);
    }
    return found;
}

/** Builds a lab (namespaces, stand-in, files); no daemon runs yet. Cleans up when it fails. */
export async function createEdgeLab(opts: EdgeLabOptions): Promise<EdgeLab> {
    const lab = new EdgeLab(opts);
    try {
        await lab.build();
    } catch (err) {
        await lab.destroy().catch(() => undefined);
        throw err;
    }
    return lab;
}
