// The project's language hosts (engine/pulumi-language-nodejs, -python, engine/langhost) under the
// real CLI: no process of a run outlives the CLI, whether it is killed (SIGKILL: the hosts' engine
// health check and the cleanup of their children) or interrupted (SIGINT: the CLI cancels and
// closes its plugins), and a program without its SDK gets the hosts' message saying what to do.
import { ChildProcess, execFileSync, spawn, spawnSync, SpawnSyncReturns } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { engineWorkspace, EngineWorkspace, REPO } from "../support/engine";
import { descendantsOf, killLeftovers, ProcessEntry, programName, readProcess, stillRunning, waitUntil } from "../support/processes";

let ws: EngineWorkspace;
beforeAll(async () => {
    ws = await engineWorkspace();
});
afterAll(async () => {
    await ws?.close();
});

/** A Node.js program that registers a component, says so in the file READY names (its pid), then keeps the event loop busy for ten minutes. */
const WAITING_JS = `const pulumi = require("@pulumi/pulumi");
const fs = require("fs");
const waiting = new pulumi.ComponentResource("test:index:Waiting", "waiting");
waiting.urn.apply(() => fs.writeFileSync(process.env.READY, String(process.pid)));
setTimeout(() => undefined, 600_000);
`;

/** The same in Python: once the engine has answered the registration, the program blocks its event loop for ten minutes. */
const WAITING_PY = `import os
import time
import pulumi

def registered(urn):
    with open(os.environ["READY"], "w") as f:
        f.write(str(os.getpid()))
    time.sleep(600)

pulumi.ComponentResource("test:index:Waiting", "waiting").urn.apply(registered)
`;

// The PyPI pulumi at @pulumi/pulumi's version, in the virtualenv test/engine/python.engine.test.ts
// keeps in the cache (the same folder, made the same way, by whichever file needs it first).
const PULUMI_PY = (JSON.parse(fs.readFileSync(path.join(REPO, "package-lock.json"), "utf8")) as { packages: Record<string, { version: string }> }).packages["node_modules/@pulumi/pulumi"].version;

function pythonVenv(): string {
    const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), ".cache");
    const pyVersion = execFileSync("python3", ["-c", "import sys; print(f'cp{sys.version_info[0]}{sys.version_info[1]}')"], { encoding: "utf8" }).trim();
    const venv = path.join(base, "ovh-failover", "python", `pulumi-${PULUMI_PY}-${pyVersion}`, "venv");
    if (fs.existsSync(path.join(venv, ".complete"))) return venv;
    fs.rmSync(venv, { recursive: true, force: true });
    fs.mkdirSync(path.dirname(venv), { recursive: true });
    execFileSync("python3", ["-m", "venv", venv]);
    execFileSync(path.join(venv, "bin", "python"), ["-m", "pip", "install", "-q", `pulumi==${PULUMI_PY}`, "wheel", "parver"], { stdio: "inherit" });
    fs.writeFileSync(path.join(venv, ".complete"), `${new Date().toISOString()}\n`);
    return venv;
}

/** The CLI as the workspace runs it (in its network namespace: `ip netns exec` execs, so the pid is the CLI's own). */
function pulumi(dir: string, env: Record<string, string>, args: string[]): SpawnSyncReturns<string> {
    return spawnSync(ws.pulumiPath, args, { cwd: dir, env: { ...ws.env, ...env }, encoding: "utf8" });
}

/** `pulumi preview` of the project in dir, started directly so that the test has its pid; output gathered. */
function startPreview(dir: string, env: Record<string, string>): { cli: ChildProcess; output: () => string; exited: () => boolean } {
    let output = "";
    let exited = false;
    const cli = spawn(ws.pulumiPath, ["preview", "--stack", "dev", "--non-interactive"], {
        cwd: dir,
        env: { ...ws.env, ...env },
        stdio: ["ignore", "pipe", "pipe"],
    });
    cli.stdout?.on("data", (d: Buffer) => (output += d.toString()));
    cli.stderr?.on("data", (d: Buffer) => (output += d.toString()));
    cli.on("exit", () => (exited = true));
    return { cli, output: () => output, exited: () => exited };
}

/**
 * Runs a preview of the waiting program in dir until the program has registered its component,
 * takes the processes the CLI has started by then (language host, program, whatever they
 * started), stops the CLI with signal, and waits for every one of them to be gone. Returns them.
 */
async function previewThenStop(dir: string, signal: NodeJS.Signals, host: string, program: string): Promise<ProcessEntry[]> {
    const ready = path.join(dir, "ready");
    const run = startPreview(dir, { READY: ready });
    let started: ProcessEntry[] = [];
    try {
        const programPid = await waitUntil("the program to register its component", () => {
            if (run.exited()) throw new Error(`the preview ended before the program was ready:\n${run.output()}`);
            const text = fs.existsSync(ready) ? fs.readFileSync(ready, "utf8") : "";
            return text === "" ? undefined : Number(text);
        }, 120_000);
        // The CLI itself, once the wrapper's sh and ip have exec'd it; then everything under it.
        const cliProc = readProcess(run.cli.pid!);
        expect(cliProc && programName(cliProc)).toBe("pulumi");
        started = descendantsOf(run.cli.pid!);
        console.log(started.map((p) => `${p.pid} (parent ${p.ppid}, group ${p.pgid}): ${p.argv.join(" ").slice(0, 160)}`).join("\n"));
        // The run's language host, and the program under it, in a process group of its own.
        const hostProc = started.find((p) => programName(p) === host);
        const programProc = started.find((p) => p.pid === programPid);
        expect(hostProc, `no ${host} under the CLI`).toBeDefined();
        expect(programProc, "the program is not under the CLI").toBeDefined();
        expect(programName(programProc!)).toBe(program);
        expect(programProc!.ppid).toBe(hostProc!.pid);
        expect(programProc!.pgid).toBe(programProc!.pid);

        run.cli.kill(signal);
        await waitUntil(`the processes of the run to be gone after ${signal} to the CLI`, () => {
            const left = started.filter(stillRunning);
            return left.length === 0 ? true : undefined;
        }, 90_000, 250);
        await waitUntil("the CLI to exit", () => (run.exited() ? true : undefined), 30_000);
        console.log(run.output());
        return started;
    } finally {
        run.cli.kill("SIGKILL");
        killLeftovers(started);
    }
}

describe("no process of a run outlives the CLI", () => {
    // A project of its own per test: the stacks of a workspace share one backend.
    const nodeProject = (name: string) => ws.project({
        "Pulumi.yaml": `name: ${name}\nruntime:\n  name: nodejs\n  options:\n    typescript: false\n`,
        "index.js": WAITING_JS,
    });

    it("SIGKILL to the CLI mid-preview: the Node.js host notices the engine gone and takes node with it", async () => {
        const dir = nodeProject("killed");
        await ws.stack(dir, "dev");
        const started = await previewThenStop(dir, "SIGKILL", "pulumi-language-nodejs", "node");
        expect(started.filter(stillRunning)).toEqual([]);
    });

    it("SIGINT to the CLI mid-preview: it cancels, closes the host, and node goes with it", async () => {
        const dir = nodeProject("interrupted");
        await ws.stack(dir, "dev");
        const started = await previewThenStop(dir, "SIGINT", "pulumi-language-nodejs", "node");
        expect(started.filter(stillRunning)).toEqual([]);
    });

    it("SIGKILL to the CLI mid-preview of a Python program: the Python host takes its python with it", async () => {
        const venv = pythonVenv();
        const dir = ws.project({
            "Pulumi.yaml": `name: pywaits\nruntime:\n  name: python\n  options:\n    virtualenv: ${venv}\n`,
            "__main__.py": WAITING_PY,
        });
        await ws.stack(dir, "dev");
        const started = await previewThenStop(dir, "SIGKILL", "pulumi-language-python", "python");
        expect(started.filter(stillRunning)).toEqual([]);
    });
});

describe("a program whose SDK is missing", () => {
    it("Node.js: the host says @pulumi/pulumi is not installed beside the program, and to run npm install", async () => {
        const dir = ws.project({
            "Pulumi.yaml": "name: nosdk\nruntime:\n  name: nodejs\n  options:\n    typescript: false\n",
            "index.js": "require('@pulumi/pulumi');\n",
        });
        // Nothing above the project's folder (in the system's temporary folder) has a node_modules.
        fs.unlinkSync(path.join(dir, "node_modules"));
        await ws.stack(dir, "dev");
        const r = pulumi(dir, { NODE_PATH: "" }, ["preview", "--stack", "dev", "--non-interactive"]);
        console.log(r.stdout, r.stderr);
        expect(r.status).not.toBe(0);
        expect(r.stdout + r.stderr).toContain(`error: an unhandled error occurred: @pulumi/pulumi is not installed beside the program (${dir}): run npm install there`);
    });

    it("Python: the host says the project's Python cannot import pulumi, and what to do", async () => {
        const dir = ws.project({
            "Pulumi.yaml": "name: pynosdk\nruntime:\n  name: python\n  options:\n    virtualenv: venv\n",
            "__main__.py": "import pulumi\n",
        });
        execFileSync("python3", ["-m", "venv", "--without-pip", path.join(dir, "venv")]);
        await ws.stack(dir, "dev");
        const r = pulumi(dir, {}, ["preview", "--stack", "dev", "--non-interactive"]);
        console.log(r.stdout, r.stderr);
        expect(r.status).not.toBe(0);
        expect(r.stdout + r.stderr).toContain(`error: an unhandled error occurred: the project's Python (${path.join(dir, "venv", "bin", "python")}) cannot import pulumi: add pulumi to the program's requirements.txt and run pulumi install`);
    });
});
