// The offline plan: what a stack declares, or what a change to it would do, with no Pulumi CLI,
// no credentials and no network. Usage:
//
//   npm run plan -- <stack> [--set <key>=<value>]... [--json] [--show-same]
//
// Each evaluation of index.ts runs in a fresh process under the Pulumi SDK's mock runtime
// (bin/plan/evaluate.ts). It complements `pulumi preview`, which also sees drift in the real world.
import { spawn } from "child_process";
import { randomBytes } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { diffEvaluations, summarize } from "./plan/diff";
import { Evaluation, Step } from "./plan/model";
import { renderJson, renderText } from "./plan/render";
import { applySet, configEnvironment, loadProject, loadStackConfig, ProjectFile, StackConfig } from "./plan/stackFiles";

export interface PlanOptions {
    stack: string;
    sets: string[];
    json: boolean;
    showSame: boolean;
}

const USAGE = "usage: npm run plan -- <stack> [--set <key>=<value>]... [--json] [--show-same]";

export function parseArgs(argv: string[]): PlanOptions {
    const opts: PlanOptions = { stack: "", sets: [], json: false, showSame: false };
    for (let i = 0; i < argv.length; i++) {
        const a = argv[i];
        if (a === "--json") opts.json = true;
        else if (a === "--show-same") opts.showSame = true;
        else if (a === "--set") {
            if (argv[i + 1] === undefined) throw new Error(`--set needs <key>=<value>\n${USAGE}`);
            opts.sets.push(argv[++i]);
        } else if (a.startsWith("--set=")) opts.sets.push(a.slice("--set=".length));
        else if (a === "-h" || a === "--help") throw new Error(USAGE);
        else if (a.startsWith("-")) throw new Error(`unknown option ${a}\n${USAGE}`);
        else if (!opts.stack) opts.stack = a;
        else throw new Error(`one stack at a time (got ${opts.stack} and ${a})\n${USAGE}`);
    }
    if (!opts.stack) throw new Error(USAGE);
    return opts;
}

/** Servers' main IPs, so that the offline answer of getServerSpecificationsNetwork follows the stack. */
function offlineServerFacts(project: ProjectFile, config: StackConfig): string {
    const facts: Record<string, { mainIp?: string }> = {};
    const servers = config.get(`${project.name}:servers`);
    try {
        const parsed = servers ? (JSON.parse(servers.text) as Record<string, { serviceName?: unknown; mainIp?: unknown }>) : {};
        for (const s of Object.values(parsed)) {
            if (s && typeof s.serviceName === "string") facts[s.serviceName] = { mainIp: typeof s.mainIp === "string" ? s.mainIp : undefined };
        }
    } catch {
        // A malformed value is the program's to report, with its key.
    }
    return JSON.stringify(facts);
}

/** Shared by the evaluations of one process, so that they can compare secrets; never printed. */
const PLAN_KEY = randomBytes(32).toString("hex");

/** Evaluates the program once, in a fresh process, with this config. */
export async function evaluate(dir: string, project: ProjectFile, stack: string, config: StackConfig): Promise<Evaluation> {
    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "ovh-failover-plan-")), "evaluation.json");
    const job = { project: project.name, stack, main: path.resolve(dir, project.main), output: out };
    const env: NodeJS.ProcessEnv = {
        ...process.env,
        ...configEnvironment(config),
        PULUMI_NODEJS_STACK: stack,
        PULUMI_NODEJS_PROJECT: project.name,
        OVH_FAILOVER_PLAN_JOB: JSON.stringify(job),
        OVH_FAILOVER_PLAN_KEY: PLAN_KEY,
        OVH_FAILOVER_OFFLINE_SERVERS: offlineServerFacts(project, config),
    };
    const evaluator = path.join(__dirname, "plan", "evaluate.ts");
    // tsx (a dependency) runs the TypeScript program as `pulumi` itself would, without a build.
    const child = spawn(process.execPath, ["--import", "tsx", evaluator], { cwd: dir, env, stdio: ["ignore", "inherit", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const code: number = await new Promise((resolve) => child.on("close", (c) => resolve(c ?? 1)));
    try {
        if (!fs.existsSync(out)) throw new Error(`the program's evaluation stopped (exit ${code}) without a result:\n${stderr}`);
        const evaluation = JSON.parse(fs.readFileSync(out, "utf8")) as Evaluation;
        if (stderr.trim()) process.stderr.write(stderr);
        return evaluation;
    } finally {
        fs.rmSync(path.dirname(out), { recursive: true, force: true });
    }
}

export interface PlanResult {
    steps: Step[];
    output: string;
    exitCode: number;
}

export async function plan(dir: string, opts: PlanOptions, color: boolean): Promise<PlanResult> {
    const project = loadProject(dir);
    const asWritten = loadStackConfig(dir, project, opts.stack);
    const changed = opts.sets.reduce((c, s) => applySet(project, c, s), asWritten);
    const empty: Evaluation = { resources: [], invokes: [] };

    const [before, after] = opts.sets.length > 0
        ? await Promise.all([evaluate(dir, project, opts.stack, asWritten), evaluate(dir, project, opts.stack, changed)])
        : [empty, await evaluate(dir, project, opts.stack, asWritten)];
    for (const [label, e] of [["as written", before], ["as changed", after]] as const) {
        if (e.error !== undefined) {
            const which = opts.sets.length > 0 ? ` (${label})` : "";
            return { steps: [], output: `error: stack ${opts.stack}${which}: ${e.error}\n`, exitCode: 2 };
        }
    }
    const steps = diffEvaluations(before, after);
    const summary = summarize(steps);
    const what = opts.sets.length > 0 ? `with ${opts.sets.join(", ")}` : "as written";
    const title = `Offline plan of stack ${opts.stack} ${what} (the program under Pulumi's mock runtime: no credentials, no API calls)`;
    const output = opts.json
        ? renderJson(steps, summary, after.invokes)
        : renderText(title, steps, summary, after.invokes, { color }, opts.showSame || opts.sets.length === 0);
    return { steps, output, exitCode: 0 };
}

async function main(): Promise<void> {
    let opts: PlanOptions;
    try {
        opts = parseArgs(process.argv.slice(2));
    } catch (err) {
        process.stderr.write(`${(err as Error).message}\n`);
        process.exit(2);
    }
    const dir = path.resolve(__dirname, "..");
    try {
        const result = await plan(dir, opts, process.stdout.isTTY === true && !opts.json);
        (result.exitCode === 0 ? process.stdout : process.stderr).write(result.output);
        process.exitCode = result.exitCode;
    } catch (err) {
        process.stderr.write(`error: ${(err as Error).message}\n`);
        process.exitCode = 2;
    }
}

if (require.main === module) void main();
