// The real Pulumi engine (engine/build.ts) driven by the Automation API's PulumiCommand, as a user
// runs it: the DIY file backend, passphrase secrets, a PULUMI_HOME of its own (no plugin cache),
// and every way the CLI could reach out shut: no update check, no plugin acquisition, a network
// namespace with no route beyond this machine, and an HTTP(S) proxy that records and refuses
// whatever still tries through it, so a test can assert that nothing did.
import { LocalWorkspace, PulumiCommand, Stack } from "@pulumi/pulumi/automation";
import { execFileSync, spawn, spawnSync } from "child_process";
import { randomBytes } from "crypto";
import * as fs from "fs";
import * as http from "http";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { ensureEngine, Engine } from "../../engine/build";
import type { RecordedPreview } from "./recording";

export const REPO = path.resolve(__dirname, "../..");

/** Requests that reached the outbound proxy: any is a download or a call home the CLI attempted. */
export interface OutboundGuard {
    url: string;
    attempts: string[];
    close(): Promise<void>;
}

export async function startOutboundGuard(host = "127.0.0.1"): Promise<OutboundGuard> {
    const attempts: string[] = [];
    const server = http.createServer((req, res) => {
        attempts.push(`${req.method} ${req.url}`);
        res.writeHead(403).end("outbound traffic is refused in the engine tests\n");
    });
    server.on("connect", (req, socket: net.Socket) => {
        attempts.push(`CONNECT ${req.url}`);
        socket.end("HTTP/1.1 403 Forbidden\r\n\r\n");
    });
    await new Promise<void>((resolve) => server.listen(0, host, resolve));
    const { port } = server.address() as net.AddressInfo;
    return {
        url: `http://${host}:${port}`,
        attempts,
        close: () => new Promise<void>((resolve) => server.close(() => resolve())),
    };
}

/** A step of `pulumi preview --json`, with its resource's type and inputs. */
export interface EngineStep {
    op: string;
    urn: string;
    type: string;
    inputs: Record<string, unknown>;
}

export interface EngineWorkspace {
    engine: Engine;
    /** The CLI, run inside `network` (the Automation API's and pulumiPath). */
    cli: PulumiCommand;
    pulumiPath: string;
    network: EngineNetwork;
    /** The environment every command of this workspace runs with. */
    env: Record<string, string>;
    guard: OutboundGuard;
    /** Every file the DIY backend holds (states, their backups and history), read as text. */
    backendFiles(): { file: string; text: string }[];
    /** A new project folder: Pulumi.yaml and files, node_modules borrowed from the repository. */
    project(files: Record<string, string>): string;
    /** `pulumi stack init` in a project folder, through the Automation API. */
    stack(dir: string, name: string): Promise<Stack>;
    close(): Promise<void>;
}

/**
 * `pulumi preview --json` run by the CLI in the stack's project, as a user runs it (with
 * `--show-sames` among the flags, the unchanged resources are listed too): its digest
 * (pkg/display/json.go, PreviewDigest), its steps with their types and inputs, and its counts.
 */
export async function previewSteps(ws: EngineWorkspace, stack: Stack, ...flags: string[]): Promise<{ digest: RecordedPreview; steps: EngineStep[]; changeSummary: Record<string, number> }> {
    const { code, digest, stderr } = await previewDigest(ws, stack, ...flags);
    if (code !== 0) throw new Error(`pulumi preview --json exited ${code}:\n${JSON.stringify(digest, null, 2)}\n${stderr}`);
    const steps = (digest.steps ?? []).map((s) => {
        const state = s.newState ?? s.oldState;
        return { op: s.op, urn: s.urn, type: state?.type ?? "", inputs: state?.inputs ?? {} };
    });
    return { digest, steps, changeSummary: digest.changeSummary ?? {} };
}

/** `pulumi preview --json` whether it succeeds or not: its exit code, the digest it prints either way, and its stderr. */
export async function previewDigest(ws: EngineWorkspace, stack: Stack, ...flags: string[]): Promise<{ code: number | null; digest: RecordedPreview; stderr: string }> {
    const r = await runCaptured(ws.pulumiPath, ["preview", "--json", "--non-interactive", "--stack", stack.name, ...flags], { cwd: stack.workspace.workDir, env: ws.env });
    if (!r.stdout.trim().startsWith("{")) throw new Error(`pulumi preview --json exited ${r.code} with no digest:\n${r.stdout}\n${r.stderr}`);
    return { code: r.code, digest: JSON.parse(r.stdout) as RecordedPreview, stderr: r.stderr };
}

export interface CapturedRun {
    code: number | null;
    stdout: string;
    stderr: string;
}

/**
 * Runs a command and captures what it prints. Not spawnSync: the stand-ins a program calls answer
 * from this process's event loop, which must keep turning meanwhile.
 */
export function runCaptured(command: string, args: string[], opts: { cwd: string; env: Record<string, string> }): Promise<CapturedRun> {
    return new Promise((resolve, reject) => {
        const child = spawn(command, args, { ...opts, stdio: ["ignore", "pipe", "pipe"] });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
        child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
        child.on("error", reject);
        child.on("close", (code) => resolve({ code, stdout, stderr }));
    });
}

/**
 * A network namespace for the CLI and every process it starts (language hosts, the program,
 * plugins): its own loopback, and one link to this machine whose far end is `hostAddress`, where
 * the stand-ins listen. No route goes further: nothing can be downloaded from there, Node.js
 * (which ignores HTTP(S)_PROXY) included. Names in `hosts` resolve to `hostAddress` inside it
 * (`ip netns exec` mounts /etc/netns/<ns>/hosts on /etc/hosts).
 */
export interface EngineNetwork {
    ns: string;
    hostAddress: string;
    /** What runs a command inside: prefix its argv with this. */
    prefix: string[];
    close(): void;
}

const openNetworks = new Set<() => void>();
let sweptStale = false;

/** Namespaces an earlier run of the tests left behind (its process is gone): removed. */
function sweepStaleNetworks(): void {
    const listed = spawnSync("ip", ["netns", "list"], { encoding: "utf8" }).stdout ?? "";
    for (const name of listed.split("\n").map((l) => l.split(" ")[0])) {
        const pid = /^ovhf(\d+)-/.exec(name)?.[1];
        if (!pid || fs.existsSync(`/proc/${pid}`)) continue;
        spawnSync("ip", ["netns", "del", name]);
        fs.rmSync(path.join("/etc/netns", name), { recursive: true, force: true });
    }
}

/** An address of 10.200.0.0/14 that this machine does not have yet, as the first of a /30. */
function freeSubnet(): [number, number, number, number] {
    const used = spawnSync("ip", ["-o", "-4", "addr"], { encoding: "utf8" }).stdout ?? "";
    for (;;) {
        const r = randomBytes(3);
        const candidate: [number, number, number, number] = [10, 200 + (r[0] % 4), r[1], (r[2] % 64) * 4];
        if (!used.includes(` ${candidate.slice(0, 3).join(".")}.${candidate[3] + 1}/`)) return candidate;
    }
}

export function engineNetwork(hosts: string[] = []): EngineNetwork {
    if (!sweptStale) {
        sweepStaleNetworks();
        sweptStale = true;
        // A test run that stops (a failure, Ctrl-C) takes its namespaces with it.
        process.once("exit", () => openNetworks.forEach((close) => close()));
    }
    const tag = randomBytes(3).toString("hex");
    const ns = `ovhf${process.pid}-${tag}`;
    const hostSide = `oe${tag}h`;
    const nsSide = `oe${tag}n`;
    // A /30 of its own: .1 on this machine's side, .2 inside.
    const [a, b, c, d] = freeSubnet();
    const hostAddress = `${a}.${b}.${c}.${d + 1}`;
    const ip = (...args: string[]) => execFileSync("ip", args, { stdio: ["ignore", "ignore", "pipe"] });
    const etc = path.join("/etc/netns", ns);
    const close = () => {
        spawnSync("ip", ["link", "del", hostSide]);
        spawnSync("ip", ["netns", "del", ns]);
        fs.rmSync(etc, { recursive: true, force: true });
        openNetworks.delete(close);
    };
    openNetworks.add(close);
    try {
        ip("netns", "add", ns);
        ip("-n", ns, "link", "set", "lo", "up");
        ip("link", "add", hostSide, "type", "veth", "peer", "name", nsSide);
        ip("link", "set", nsSide, "netns", ns);
        ip("addr", "add", `${hostAddress}/30`, "dev", hostSide);
        ip("link", "set", hostSide, "up");
        ip("-n", ns, "addr", "add", `${a}.${b}.${c}.${d + 2}/30`, "dev", nsSide);
        ip("-n", ns, "link", "set", nsSide, "up");
        fs.mkdirSync(etc, { recursive: true });
        const names = hosts.map((h) => `${hostAddress} ${h}\n`).join("");
        fs.writeFileSync(path.join(etc, "hosts"), `127.0.0.1 localhost\n::1 localhost\n${names}`);
    } catch (err) {
        close();
        throw err;
    }
    return { ns, hostAddress, prefix: ["ip", "netns", "exec", ns], close };
}

/** The Pulumi.yaml of a test's TypeScript program (index.ts, run through tsx), named `name`. */
export function tsProjectFile(name: string): string {
    return `name: ${name}\nruntime:\n  name: nodejs\n  options:\n    typescript: false\n    nodeargs: "--import tsx"\nmain: index.ts\n`;
}

export interface EngineWorkspaceOptions {
    /** The network namespace to run in (shared with another workspace); else one of its own. */
    network?: EngineNetwork;
    /** Names that resolve to the network's host address inside it (a network of its own only). */
    hosts?: string[];
}

export async function engineWorkspace(extraEnv: Record<string, string> = {}, opts: EngineWorkspaceOptions = {}): Promise<EngineWorkspace> {
    const engine = ensureEngine(() => undefined);
    const work = fs.mkdtempSync(path.join(os.tmpdir(), "ovh-failover-engine-"));
    for (const d of ["state", "home", "cli/bin"]) fs.mkdirSync(path.join(work, d), { recursive: true });
    const network = opts.network ?? engineNetwork(opts.hosts);
    // The CLI as the Automation API and the tests run it: inside the network namespace. It finds
    // its language hosts beside its own executable, the engine's.
    const pulumiPath = path.join(work, "cli", "bin", "pulumi");
    fs.writeFileSync(pulumiPath, `#!/bin/sh\nexec ${network.prefix.join(" ")} ${path.join(engine.binDir, "pulumi")} "$@"\n`, { mode: 0o755 });
    const cli = await PulumiCommand.get({ root: path.join(work, "cli") });
    const guard = await startOutboundGuard(network.hostAddress);
    const env: Record<string, string> = {
        PATH: `${engine.binDir}:${process.env.PATH ?? ""}`,
        PULUMI_HOME: path.join(work, "home"),
        PULUMI_BACKEND_URL: `file://${path.join(work, "state")}`,
        PULUMI_CONFIG_PASSPHRASE: "engine-test-passphrase",
        PULUMI_SKIP_UPDATE_CHECK: "true",
        PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
        HTTP_PROXY: guard.url,
        HTTPS_PROXY: guard.url,
        http_proxy: guard.url,
        https_proxy: guard.url,
        NO_PROXY: `127.0.0.1,localhost,${network.hostAddress}`,
        no_proxy: `127.0.0.1,localhost,${network.hostAddress}`,
        ...extraEnv,
    };
    let projects = 0;
    return {
        engine,
        cli,
        pulumiPath,
        network,
        env,
        guard,
        backendFiles() {
            const root = path.join(work, "state");
            return fs.readdirSync(root, { recursive: true, encoding: "utf8" })
                .map((f) => path.join(root, f))
                .filter((f) => fs.statSync(f).isFile())
                .map((file) => ({ file, text: fs.readFileSync(file, "utf8") }));
        },
        project(files) {
            const dir = path.join(work, `project-${++projects}`);
            fs.mkdirSync(dir);
            fs.symlinkSync(path.join(REPO, "node_modules"), path.join(dir, "node_modules"));
            for (const [name, text] of Object.entries(files)) {
                fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
                fs.writeFileSync(path.join(dir, name), text);
            }
            return dir;
        },
        stack(dir, name) {
            return LocalWorkspace.createStack({ stackName: name, workDir: dir }, { envVars: env, pulumiCommand: cli });
        },
        async close() {
            await guard.close();
            if (!opts.network) network.close();
            fs.rmSync(work, { recursive: true, force: true });
        },
    };
}
