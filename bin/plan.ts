// The offline plan: what a stack declares, or what a change to it would do, with no Pulumi CLI,
// no credentials and no network. Usage:
//
//   ovh-failover plan <stack> [--set <key>=<value>]... [--against <git-ref>] [--expect-no-changes] [--json] [--diff] [--diff-full] [--show-same]
//                           [--show-replacement-steps] [--stack-file <file>] [--program <file>]
//
// The text is what `pulumi preview` prints on a terminal: the tree of resources with their op, then
// the summary; --diff adds each resource's properties as `pulumi preview --diff` prints them.
//
// Each evaluation of index.ts runs in a fresh process under the Pulumi SDK's mock runtime
// (bin/plan/evaluate.ts). It complements `pulumi preview`, which also sees drift in the real world.
import type { EvaluationJob, OfflineServerFacts } from "./plan/evaluate";
import { execFileSync, spawn } from "child_process";
import { randomBytes } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parseAdoptFile } from "../components/config/adoptFile";
import { SECRET_KEYS } from "../components/config/keys";
import { parseCommandLine, projectDir } from "./cli";
import { diffEvaluations, summarize } from "./plan/diff";
import { planErrorJson } from "./plan/failure";
import { Evaluation, Step, VIRTUAL_MAC_TYPE } from "./plan/model";
import { validateStackConfig } from "./plan/projectConfig";
import { renderJson, renderText, rootStack } from "./plan/render";
import { applySet, configEnvironment, loadFlagStackFile, loadProject, previewConfig, programEntry, loadStackConfig, ProjectFile, shownAssignment, StackConfig, stackFilePath } from "./plan/stackFiles";

export interface PlanOptions {
    stack: string;
    sets: string[];
    /** Compare with the stack file and the program as they are at this git ref. */
    against?: string;
    /** Exit non-zero when anything would change, as pulumi preview --expect-no-changes. */
    expectNoChanges?: boolean;
    /** Read the stack's config from this file instead of stacks/Pulumi.<stack>.yaml. */
    stackFile?: string;
    /** Evaluate this program instead of the project's main (your own program on this library). */
    program?: string;
    json: boolean;
    /** Each resource's properties, as pulumi preview --diff prints them. */
    diff?: boolean;
    /** With diff, the long texts under "Offline plan:" in full rather than folded to a line. */
    diffFull?: boolean;
    showSame: boolean;
    /** List each replacement as its create and delete steps, in the engine's order. */
    showReplacementSteps?: boolean;
    /** Evaluate in this process when there is one evaluation (the command line; a test process must not). */
    oneProcess?: boolean;
}

const USAGE = "usage: ovh-failover plan <stack> [--set <key>=<value>]... [--against <git-ref>] [--expect-no-changes] [--json] [--diff] [--diff-full] [--show-same] [--show-replacement-steps] [--stack-file <file>] [--program <file>]";

/** Exit code when --expect-no-changes finds changes. */
export const EXIT_CHANGES = 1;

export const OPTIONS = {
    set: { type: "string", multiple: true },
    against: { type: "string" },
    "expect-no-changes": { type: "boolean" },
    json: { type: "boolean" },
    diff: { type: "boolean" },
    "diff-full": { type: "boolean" },
    "show-same": { type: "boolean" },
    "show-replacement-steps": { type: "boolean" },
    "stack-file": { type: "string" },
    program: { type: "string" },
    help: { type: "boolean", short: "h" },
} as const;

/** Parses the arguments (without node and the script); a usage error throws with the usage line. */
export function parseArgs(argv: string[]): PlanOptions {
    const { values, positionals } = parseCommandLine(argv, OPTIONS, {
        needs: { against: "--against needs a git ref", set: "--set needs <key>=<value>", "stack-file": "--stack-file needs a file", program: "--program needs a file" },
        usage: USAGE,
    });
    if (values.help) throw new Error(USAGE);
    if (positionals.length > 1) throw new Error(`one stack at a time (got ${positionals[0]} and ${positionals[1]})\n${USAGE}`);
    const [stack] = positionals;
    if (!stack) throw new Error(USAGE);
    const opts: PlanOptions = {
        stack,
        sets: values.set ?? [],
        against: values.against,
        expectNoChanges: values["expect-no-changes"],
        stackFile: values["stack-file"] === undefined ? undefined : path.resolve(values["stack-file"]),
        program: values.program === undefined ? undefined : path.resolve(values.program),
        json: values.json ?? false,
        // --diff-full is --diff with the long texts in full.
        diff: values["diff-full"] === true ? true : values.diff,
        diffFull: values["diff-full"],
        showSame: values["show-same"] ?? false,
        showReplacementSteps: values["show-replacement-steps"] ?? false,
    };
    if (opts.against && opts.program) {
        throw new Error(`--against compares with the project's program at that ref; --program names another: give one of them\n${USAGE}`);
    }
    if (opts.expectNoChanges && !opts.against && opts.sets.length === 0) {
        throw new Error(`--expect-no-changes compares two states: give --against <git-ref> or --set\n${USAGE}`);
    }
    return opts;
}

/**
 * Servers' main IPs and IPv6 prefixes (with a gateway written by hand), so that the offline
 * answer of getServerSpecificationsNetwork follows the stack.
 */
function offlineServerFacts(project: ProjectFile, config: StackConfig): Record<string, OfflineServerFacts> {
    const facts: Record<string, OfflineServerFacts> = {};
    const servers = config.get(`${project.name}:servers`);
    const text = (x: unknown): string | undefined => (typeof x === "string" ? x : undefined);
    try {
        const parsed = servers ? (JSON.parse(servers.text) as Record<string, { serviceName?: unknown; mainIp?: unknown; ipv6?: { prefix?: unknown; gateway?: unknown } }>) : {};
        for (const s of Object.values(parsed)) {
            if (s && typeof s.serviceName === "string") {
                facts[s.serviceName] = { mainIp: text(s.mainIp), ipv6Prefix: text(s.ipv6?.prefix), ipv6Gateway: text(s.ipv6?.gateway) };
            }
        }
    } catch {
        // A malformed value is the program's to report, with its key.
    }
    return facts;
}

/** Shared by the evaluations of one process, so that they can compare secrets; never printed. */
const PLAN_KEY = randomBytes(32).toString("hex");

/** How the program is evaluated: in a child process of its own, or in this one (once per process). */
export type EvaluationPlace = "child" | "this-process";

/** Evaluates the program once with this config. */
export async function evaluate(dir: string, project: ProjectFile, stack: string, config: StackConfig, place: EvaluationPlace = "child"): Promise<Evaluation> {
    // `pulumi preview` checks the config against Pulumi.yaml before the program runs.
    const refused = validateStackConfig(stack, project.declared, config);
    if (refused !== undefined) return { resources: [], invokes: [], error: `validating stack config: ${refused}` };
    const main = programEntry(dir, project.main);
    if (!fs.existsSync(main)) throw new Error(missingProgram(dir, project.main));
    // Pulumi runs a program in the folder of its main file (pulumi/pulumi pkg/engine/project.go,
    // getPwdMain): so does the plan.
    const declaredMain = path.resolve(dir, project.main);
    const programDir = fs.existsSync(declaredMain) && !fs.statSync(declaredMain).isDirectory() ? path.dirname(declaredMain) : declaredMain;
    const job: EvaluationJob = {
        project: project.name,
        stack,
        root: dir,
        main,
        servers: offlineServerFacts(project, config),
        secretKey: PLAN_KEY,
    };
    if (place === "this-process") {
        const here = process.cwd();
        process.chdir(programDir);
        try {
            // Loaded here: the Pulumi SDK comes with it, which a comparison's parent does not need.
            // eslint-disable-next-line @typescript-eslint/no-require-imports
            const { evaluateHere } = require("./plan/evaluate") as typeof import("./plan/evaluate");
            return await evaluateHere({ ...job, config: configEnvironment(config) });
        } finally {
            process.chdir(here);
        }
    }
    const work = fs.mkdtempSync(path.join(os.tmpdir(), "ovh-failover-plan-"));
    try {
        const output = path.join(work, "evaluation.json");
        const configFile = path.join(work, "config.json");
        fs.writeFileSync(configFile, JSON.stringify(configEnvironment(config)), { mode: 0o600 });
        const env: NodeJS.ProcessEnv = { ...process.env, OVH_FAILOVER_PLAN_JOB: JSON.stringify({ ...job, output, configFile }) };
        // Compiled, the evaluator is JavaScript; from the sources (the tests), tsx runs it.
        const evaluator = __filename.endsWith(".ts") ? ["--import", "tsx", path.join(__dirname, "plan", "evaluate.ts")] : [path.join(__dirname, "plan", "evaluate.js")];
        const child = spawn(process.execPath, evaluator, { cwd: programDir, env, stdio: ["ignore", "inherit", "pipe"] });
        let stderr = "";
        child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
        const code: number = await new Promise((resolve) => child.on("close", (c) => resolve(c ?? 1)));
        if (!fs.existsSync(output)) throw new Error(`the program's evaluation stopped (exit ${code}) without a result:\n${stderr}`);
        const evaluation = JSON.parse(fs.readFileSync(output, "utf8")) as Evaluation;
        if (stderr.trim()) process.stderr.write(stderr);
        return evaluation;
    } finally {
        fs.rmSync(work, { recursive: true, force: true });
    }
}

/**
 * The project as it is at a git ref, unpacked into a temporary folder that borrows today's
 * node_modules. Returns the folder and a clean-up function.
 */
export function checkoutAt(dir: string, ref: string): { dir: string; commit: string; cleanup: () => void } {
    let commit: string;
    try {
        commit = execFileSync("git", ["-C", dir, "rev-parse", "--verify", "--quiet", `${ref}^{commit}`], { encoding: "utf8" }).trim();
    } catch {
        throw new Error(`--against ${ref}: not a commit in this repository (try a branch, a tag, HEAD~1 or origin/main)`);
    }
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "ovh-failover-at-"));
    const cleanup = () => fs.rmSync(tmp, { recursive: true, force: true });
    try {
        const archive = execFileSync("git", ["-C", dir, "archive", "--format=tar", commit], { maxBuffer: 512 * 1024 * 1024 });
        execFileSync("tar", ["-x", "-C", tmp], { input: archive });
        // The project's installed packages, when they are beside it.
        if (fs.existsSync(path.join(dir, "node_modules"))) fs.symlinkSync(path.join(dir, "node_modules"), path.join(tmp, "node_modules"), "dir");
        buildCheckout(tmp, ref);
    } catch (err) {
        cleanup();
        throw err;
    }
    return { dir: tmp, commit, cleanup };
}

/** Why a project's main cannot run: a build output not built yet, most often (dist/ of a fresh clone). */
function missingProgram(dir: string, main: string): string {
    const manifest = path.join(dir, "package.json");
    const scripts = fs.existsSync(manifest) ? ((JSON.parse(fs.readFileSync(manifest, "utf8")) as { scripts?: Record<string, string> }).scripts ?? {}) : {};
    const build = scripts.build === undefined ? "" : `: it is built by \`npm run build\` (\`npm ci\` runs it too); run that in ${dir}`;
    return `the program ${main} (Pulumi.yaml main) does not exist${build}`;
}

/**
 * A compiled program (a main under dist/, say) is not in git: the checkout is built as `npm run
 * build` would, with its own build script (`build:js` when it has one: the JavaScript is enough).
 */
function buildCheckout(dir: string, ref: string): void {
    if (!fs.existsSync(path.join(dir, "Pulumi.yaml"))) return;
    const main = programEntry(dir, loadProject(dir).main);
    if (fs.existsSync(main)) return;
    const scripts = fs.existsSync(path.join(dir, "package.json"))
        ? ((JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8")) as { scripts?: Record<string, string> }).scripts ?? {})
        : {};
    const script = ["build:js", "build"].find((s) => scripts[s] !== undefined);
    if (!script) throw new Error(`--against ${ref}: the program's main ${path.relative(dir, main)} is not in git and the project has no build script`);
    try {
        execFileSync("npm", ["run", "-s", script], { cwd: dir, stdio: ["ignore", "ignore", "pipe"], encoding: "utf8" });
    } catch (err) {
        throw new Error(`--against ${ref}: npm run ${script} failed in its checkout:\n${(err as { stderr?: string }).stderr ?? (err as Error).message}`, { cause: err });
    }
}

export interface PlanResult {
    steps: Step[];
    /** What goes to stdout. */
    output: string;
    /** What goes to stderr: why the plan failed, or that changes were not expected. */
    message?: string;
    /** What goes to stderr before the plan: that it knows nothing of the live world, and how to adopt it. */
    notice?: string;
    exitCode: number;
}

/** The types `ovh-failover adopt` finds live: without its file, a plan from no state shows each as a create. */
const ADOPTED_TYPES = new Set(["ovh:Ip/move:Move", VIRTUAL_MAC_TYPE, "ovh:Domain/zoneRecord:ZoneRecord"]);

/**
 * Said once, before a plan from no state and no adopt file: every routing, MAC, NIC and record
 * is a create to it, which reads as alarming to someone whose setup is live.
 */
export function unadoptedNotice(stack: string, adoptFile: string, steps: Step[]): string | undefined {
    if (!steps.some((s) => s.op === "create" && ADOPTED_TYPES.has(s.type))) return undefined;
    return [
        `note: the plan reads no Pulumi state and there is no adopt file (${adoptFile}): it knows nothing of the live world,`,
        "so every routing, virtual MAC, container NIC and DNS record shows as + create, even one that exists.",
        `To take over what exists: npx ovh-failover adopt ${stack} --no-state for a stack without a state yet, or`,
        `--state <file> (written by pulumi stack export --file <file>) for one that has a state (docs/adopt.md); then plan again.`,
        "",
    ].join("\n");
}

/** The stack as it was at a ref: evaluated there, or nothing if the stack did not exist then. */
async function evaluateAt(dir: string, ref: string, stack: string): Promise<{ evaluation: Evaluation; commit: string }> {
    const at = checkoutAt(dir, ref);
    try {
        const project = loadProject(at.dir);
        if (!fs.existsSync(stackFilePath(at.dir, project, stack))) return { evaluation: { resources: [], invokes: [] }, commit: at.commit };
        return { evaluation: await evaluate(at.dir, project, stack, loadStackConfig(at.dir, project, stack)), commit: at.commit };
    } finally {
        at.cleanup();
    }
}

export async function plan(dir: string, opts: PlanOptions, color: boolean): Promise<PlanResult> {
    const started = process.hrtime.bigint();
    const loaded = loadProject(dir);
    const project = opts.program ? { ...loaded, main: opts.program } : loaded;
    const asWritten = opts.stackFile
        ? loadFlagStackFile(project, opts.stackFile)
        : loadStackConfig(dir, project, opts.stack);
    const changed = opts.sets.reduce((c, s) => applySet(project, c, s), asWritten);
    const shownSets = opts.sets.map((s) => shownAssignment(project, asWritten, s, SECRET_KEYS)).join(", ");
    const empty: Evaluation = { resources: [], invokes: [] };
    const comparingAnything = opts.against !== undefined || opts.sets.length > 0;

    // The two evaluations run side by side, each in its own process.
    const baseline: Promise<{ evaluation: Evaluation; label: string }> = opts.against
        ? evaluateAt(dir, opts.against, opts.stack).then((a) => ({ evaluation: a.evaluation, label: `at ${opts.against} (${a.commit.slice(0, 12)})` }))
        : (opts.sets.length > 0 ? evaluate(dir, project, opts.stack, asWritten) : Promise.resolve(empty)).then((evaluation) => ({ evaluation, label: "as written" }));
    const [{ evaluation: before, label: beforeLabel }, after] = await Promise.all([baseline, evaluate(dir, project, opts.stack, changed, opts.oneProcess && !comparingAnything ? "this-process" : "child")]);
    const comparing = opts.against !== undefined || opts.sets.length > 0;
    // Which of the two failed, in the words the header uses for it.
    const afterLabel = opts.against ? `the working tree${opts.sets.length > 0 ? `, with ${shownSets}` : ""}` : `with ${shownSets}`;
    for (const [label, e] of [[beforeLabel, before], [afterLabel, after]] as const) {
        if (e.error !== undefined) {
            const which = comparing ? ` (${label})` : "";
            const message = `error: stack ${opts.stack}${which}: ${e.error}\n`;
            return { steps: [], output: opts.json ? planErrorJson(message, opts.stack) : "", message, exitCode: 2 };
        }
    }
    // What `ovh-failover adopt` found live: the plan shows what an import will change.
    const adoptPath = path.join(dir, project.stackConfigDir, `${opts.stack}.adopt.yaml`);
    const adopt = fs.existsSync(adoptPath) ? parseAdoptFile(fs.readFileSync(adoptPath, "utf8"), adoptPath) : undefined;
    const steps = diffEvaluations(before, after, adopt);
    const notice = adopt === undefined && !comparing ? unadoptedNotice(opts.stack, path.relative(dir, adoptPath), steps) : undefined;
    const summary = summarize(steps);
    const sets = opts.sets.length > 0 ? ` with ${shownSets}` : "";
    const what = opts.against ? `${beforeLabel} → now${sets}` : opts.sets.length > 0 ? sets.trim() : "as written";
    // The CLI's header, "Previewing update (<stack>):", saying that this one is offline and what it compares.
    const header = `Previewing update (${opts.stack}) offline, ${what}:`;
    const root = rootStack(opts.stack, project.name, comparing);
    const output = opts.json
        ? renderJson(steps, summary, after.invokes, root, opts.showReplacementSteps, {
            config: previewConfig(changed),
            durationNs: Number(process.hrtime.bigint() - started),
            showSames: opts.showSame,
        })
        : renderText(header, steps, summary, after.invokes, root, { color, showReplacementSteps: opts.showReplacementSteps, diff: opts.diff, full: opts.diffFull }, opts.showSame || !comparing);
    // The engine refuses to delete or replace a protected resource, in a preview as in an up
    // (pulumi/pulumi pkg/resource/deploy/step_generator.go): so does the plan.
    const blocked = steps.filter((s) => s.blockedBy === "protect");
    if (blocked.length > 0) {
        const list = blocked.map((s) => `  ${s.op} ${s.urn}`).join("\n");
        return {
            steps, output, notice, exitCode: 2,
            message: `error: ${blocked.length} protected resource${blocked.length === 1 ? "" : "s"} would be deleted or replaced, which pulumi preview and pulumi up refuse:\n${list}\n(a rename? keep the old name, or move the state with pulumi state rename; else unprotect it on purpose first)\n`,
        };
    }
    const changes = summary.import + summary.create + summary.update + summary.replace + summary.delete;
    if (opts.expectNoChanges && changes > 0) {
        return { steps, output, notice, message: `error: no changes were expected but ${changes} were proposed\n`, exitCode: EXIT_CHANGES };
    }
    return { steps, output, notice, exitCode: 0 };
}

export async function main(argv: string[] = process.argv.slice(2)): Promise<void> {
    // Known before the arguments are: a usage error under --json is JSON too.
    const json = argv.includes("--json");
    const fail = (message: string, stack?: string) => {
        if (json) process.stdout.write(planErrorJson(message, stack));
        process.stderr.write(message);
        process.exitCode = 2;
    };
    let opts: PlanOptions;
    let dir: string;
    try {
        opts = parseArgs(argv);
        dir = projectDir();
    } catch (err) {
        return fail(`${(err as Error).message}\n`);
    }
    try {
        // One evaluation runs in this process: the SDK is loaded once.
        const result = await plan(dir, { ...opts, oneProcess: true }, process.stdout.isTTY === true && !opts.json);
        if (result.notice) process.stderr.write(result.notice);
        process.stdout.write(result.output);
        if (result.message) process.stderr.write(result.message);
        process.exitCode = result.exitCode;
    } catch (err) {
        fail(`error: ${(err as Error).message}\n`, opts.stack);
    }
}

if (require.main === module) void main();
