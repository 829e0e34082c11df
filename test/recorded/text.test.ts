// The offline plan's text held to what the real CLI printed on a terminal (test/recorded/
// <stack>.<world>.preview.txt and .preview-diff.txt, written by test/providers/text.providers.test.ts):
// for each capture, `ovh-failover plan <stack>` prints the same lines as `pulumi preview`, and
// `plan <stack> --diff` the same as `pulumi preview --diff`, but for the differences listed below,
// each with its reason.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { describe, expect, it } from "vitest";
import { plan } from "../../bin/plan";
import { Step } from "../../bin/plan/model";
import { REPO } from "../support/engine";
import { textCounts } from "../support/planJson";
import { RECORDED_DIR, readRecordings, RecordedWorld } from "../support/recording";

interface Capture {
    stack: string;
    world: RecordedWorld;
    diff: boolean;
    file: string;
    text: string;
}

const captures: Capture[] = fs.existsSync(RECORDED_DIR)
    ? fs.readdirSync(RECORDED_DIR).sort().flatMap((file) => {
        const m = /^(.+)\.(empty|adopted)\.preview(-diff)?\.txt$/.exec(file);
        return m ? [{ stack: m[1], world: m[2] as RecordedWorld, diff: m[3] !== undefined, file, text: fs.readFileSync(path.join(RECORDED_DIR, file), "utf8") }] : [];
    })
    : [];

/** The two texts side by side: the CLI's capture and the plan's output, as lines. */
interface Pair {
    cli: string[];
    plan: string[];
    stack: string;
}

export interface TextDifference {
    what: string;
    why: string;
    /** Takes the difference out of both texts (or puts both in one order). */
    leaveOut(pair: Pair, diff: boolean): Pair;
}

/** From the line that starts a section to the one that ends it (the end left in when `keepEnd`). */
function withoutSection(lines: string[], starts: (l: string) => boolean, ends: (l: string) => boolean, keepEnd: boolean): string[] {
    const from = lines.findIndex(starts);
    if (from < 0) return lines;
    let to = from + 1;
    while (to < lines.length && !ends(lines[to])) to++;
    return [...lines.slice(0, from), ...lines.slice(keepEnd ? to : to + 1)];
}

/** The tree's rows (the lines after the column header, to the first blank line) with siblings sorted. */
export function siblingsSorted(lines: string[]): string[] {
    const start = lines.findIndex((l) => /^ {5}Type +Name +Plan/.test(l));
    if (start < 0) return lines;
    let end = start + 1;
    while (end < lines.length && lines[end] !== "") end++;
    interface Node { line: string; prefix: number; children: Node[] }
    const root: Node = { line: "", prefix: -3, children: [] };
    const stack: Node[] = [root];
    for (const line of lines.slice(start + 1, end)) {
        const prefix = /^((?:[│ ] {2}|[├└]─ )*)/.exec(line.slice(5))?.[1].length ?? 0;
        const node: Node = { line, prefix, children: [] };
        while (stack.length > 1 && stack[stack.length - 1].prefix >= prefix) stack.pop();
        stack[stack.length - 1].children.push(node);
        stack.push(node);
    }
    const key = (n: Node) => n.line.slice(0, 5) + n.line.slice(5 + n.prefix);
    const out: string[] = [];
    const draw = (n: Node, above: string, last: boolean, isRoot: boolean) => {
        const own = isRoot ? "" : above + (last ? "└─ " : "├─ ");
        out.push(n.line.slice(0, 5) + own + n.line.slice(5 + n.prefix));
        const children = [...n.children].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
        children.forEach((c, i) => draw(c, isRoot ? "" : above + (last ? "   " : "│  "), i === children.length - 1, false));
    };
    for (const top of root.children) draw(top, "", true, true);
    return [...lines.slice(0, start + 1), ...out, ...lines.slice(end)];
}

const BLOCK_HEADER = /^((?: {4})*)(\+-|\+\+|--|[-+~= ] )(\S+): \(([a-z-]+)\)( 🔒| 🔓)?$/;

/** The resource blocks of a --diff text (a header line, its [id], [urn], [provider] and properties), sorted by URN. */
export function blocksSorted(lines: string[]): string[] {
    const first = lines.findIndex((l, i) => i > 0 && BLOCK_HEADER.test(l));
    if (first < 0) return lines;
    let end = first;
    while (end < lines.length && !/^Resources:$|^Offline plan:$|^ +--outputs:--$/.test(lines[end])) end++;
    const blocks: string[][] = [];
    for (const line of lines.slice(first, end)) {
        if (BLOCK_HEADER.test(line)) blocks.push([line]);
        else blocks[blocks.length - 1].push(line);
    }
    const urn = (b: string[]) => b.find((l) => /^\s*\[urn=/.test(l)) ?? "";
    // A stable sort: an import and the update after it keep their order.
    const sorted = blocks.map((b, i) => [b, i] as const).sort(([a, i], [b, j]) => (urn(a) < urn(b) ? -1 : urn(a) > urn(b) ? 1 : i - j)).map(([b]) => b);
    return [...lines.slice(0, first), ...sorted.flat(), ...lines.slice(end)];
}

/** What differs between the CLI's text and the plan's, each with its reason. Nothing else may differ. */
export const TEXT_DIFFERENCES: TextDifference[] = [
    {
        what: "the header line",
        why: "the CLI's names the stack as its backend does (`organization/stack` on Pulumi Cloud); the plan's says that it is offline and what it compares (`as written`, `with <key>=<value>`, `at <ref> → now`)",
        leaveOut: (p) => {
            expect(p.cli[0]).toBe(`Previewing update (${p.stack}):`);
            expect(p.plan[0]).toBe(`Previewing update (${p.stack}) offline, as written:`);
            return { ...p, cli: p.cli.slice(1), plan: p.plan.slice(1) };
        },
    },
    {
        what: "the stack's outputs (`Outputs:`, with --diff `--outputs:--`)",
        why: "the plan records what the program declares, its resources and data sources (bin/plan/evaluate.ts), not the values it exports",
        leaveOut: (p, diff) => ({
            ...p,
            cli: diff
                ? withoutSection(p.cli, (l) => /^ +--outputs:--$/.test(l), (l) => l === "Resources:", true)
                : withoutSection(p.cli, (l) => l === "Outputs:", (l) => l === "", false),
        }),
    },
    {
        what: "the plan's `Offline plan:` section, after the table",
        why: "what only the plan knows: why `pulumi up` would stop, a replacement's order, what a delete does in the world, what a create adopts, warnings, how each data source was answered; with --diff, the values the CLI cuts or shows as [unknown] (a long script folded to a line, --diff-full prints it whole)",
        leaveOut: (p) => ({ ...p, plan: withoutSection(p.plan, (l) => l === "Offline plan:", (l) => l === "", false) }),
    },
    {
        what: "the order of siblings in the tree, and of the resources' blocks with --diff",
        why: "the engine registers resources in the order their inputs resolve and the CLI draws a row in the order it hears of it, which changes from one run to the next: both texts are compared with siblings, and blocks, in one order, and the plan's own order is checked to put each resource after its parent",
        leaveOut: (p, diff) => (diff ? { ...p, cli: blocksSorted(p.cli), plan: blocksSorted(p.plan) } : { ...p, cli: siblingsSorted(p.cli), plan: siblingsSorted(p.plan) }),
    },
];

/** The project with the capture's stack file (and adopt file), as the tier ran it. */
function projectFor(c: Capture): { dir: string; cleanup(): void } {
    const recording = readRecordings().find((r) => r.stack === c.stack && r.world === c.world);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ovh-failover-text-"));
    fs.copyFileSync(path.join(REPO, "Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
    for (const f of ["package.json", "dist", "node_modules"]) fs.symlinkSync(path.join(REPO, f), path.join(dir, f));
    fs.mkdirSync(path.join(dir, "stacks"));
    const stackFile = recording?.stackFile ?? fs.readFileSync(path.join(REPO, "stacks", `Pulumi.${c.stack}.yaml`), "utf8");
    fs.writeFileSync(path.join(dir, "stacks", `Pulumi.${c.stack}.yaml`), stackFile);
    if (recording?.adoptFile !== undefined) fs.writeFileSync(path.join(dir, "stacks", `${c.stack}.adopt.yaml`), recording.adoptFile);
    return { dir, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

function withFolders(text: string, project: string): string {
    return text.split(fs.realpathSync(project)).join("<project>").split(project).join("<project>").split(REPO).join("<repo>");
}

/** Where the plan's --diff puts a resource's block before its parent's. */
function blocksBeforeParents(lines: string[], steps: Step[]): string[] {
    const parentOf = new Map(steps.map((s) => [s.urn, (s.new ?? s.old)?.parent]));
    const at = new Map<string, number>();
    const breaks: string[] = [];
    lines.forEach((l, i) => {
        const urn = /^\s*\[urn=(.*)\]$/.exec(l)?.[1];
        if (urn === undefined) return;
        const parent = parentOf.get(urn);
        if (parent !== undefined && !at.has(parent) && steps.some((s) => s.urn === parent && s.op !== "same")) breaks.push(`${urn} before its parent ${parent}`);
        if (!at.has(urn)) at.set(urn, i);
    });
    return breaks;
}

describe("the captures of the real CLI's text", () => {
    it("cover every bundled stack from an empty state, with and without --diff", () => {
        const bundled = fs.readdirSync(path.join(REPO, "stacks")).map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1]).filter((s): s is string => s !== undefined);
        const captured = captures.filter((c) => c.world === "empty").map((c) => `${c.stack}${c.diff ? " --diff" : ""}`);
        expect(bundled.flatMap((s) => [s, `${s} --diff`]).filter((s) => !captured.includes(s))).toEqual([]);
    });
});

describe.each(["endpoints.proxy.ip=203.0.113.77", "endpoints.proxy.server=ovh2"])("the offline plan's text of reverse-proxy with %s", (set) => {
    it("counts under Resources: what its --json counts in changeSummary", async () => {
        const opts = { stack: "reverse-proxy", sets: [set], showSame: false };
        const [text, json] = await Promise.all([plan(REPO, { ...opts, json: false }, false), plan(REPO, { ...opts, json: true }, false)]);
        expect(textCounts(text.output)).toEqual((JSON.parse(json.output) as { changeSummary: Record<string, number> }).changeSummary);
    });
});

describe.each(captures.map((c) => [`${c.stack} (${c.world})${c.diff ? " --diff" : ""}`, c] as const))("the offline plan's text of %s and the real CLI's", (_, c) => {
    it("are the same, line for line, but for the listed differences", async () => {
        const project = projectFor(c);
        try {
            const r = await plan(project.dir, { stack: c.stack, sets: [], json: false, diff: c.diff, showSame: false }, false);
            expect(r.message ?? "").toBe("");
            expect(r.exitCode).toBe(0);
            const planLines = withFolders(r.output, project.dir).replace(/\n$/, "").split("\n");
            if (c.diff) expect(blocksBeforeParents(planLines, r.steps)).toEqual([]);
            const start: Pair = { cli: c.text.replace(/\n$/, "").split("\n"), plan: planLines, stack: c.stack };
            const compared = TEXT_DIFFERENCES.reduce((p, d) => d.leaveOut(p, c.diff), start);
            expect(compared.plan).toEqual(compared.cli);
        } finally {
            project.cleanup();
        }
    });

    it("count the resources as the plan's --json does (changeSummary, the root stack included)", async () => {
        const project = projectFor(c);
        try {
            const r = await plan(project.dir, { stack: c.stack, sets: [], json: true, showSame: false }, false);
            const summary = (JSON.parse(r.output) as { changeSummary: Record<string, number> }).changeSummary;
            expect(textCounts(c.text)).toEqual(summary);
        } finally {
            project.cleanup();
        }
    });
});
