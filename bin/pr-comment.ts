// The pull-request comment of the offline plan (.github/workflows/preview.yml): reads what
// `npm run -s plan -- <stack> --against <base>` printed for each stack and writes one Markdown body.
//
//   npx tsx bin/pr-comment.ts <plans-dir> [--base <ref>] [--commit <sha>] [--run-url <url>] [--limit <chars>]
//
// <plans-dir> holds, per stack, <stack>.out (the plan's stdout), <stack>.err (its stderr) and
// <stack>.exit (its exit code). The body starts with MARKER, by which the workflow finds the
// comment to edit on the next push, and stays under GitHub's limit for a comment's body.
import * as fs from "fs";
import * as path from "path";
import { parseCommandLine } from "./cli";

/** Finds the comment again on the next push; the workflow passes the same string to github-script. */
export const MARKER = "<!-- ovh-failover-offline-plan -->";

/** GitHub refuses a comment body longer than this ("maximum is 65536 characters"). */
export const COMMENT_LIMIT = 65536;

/** What the plan of one stack printed. */
export interface StackPlan {
    stack: string;
    stdout: string;
    stderr: string;
    exitCode: number;
}

export interface CommentContext {
    /** The ref the plans compare with, e.g. origin/main. */
    base?: string;
    /** The pull request's head commit. */
    commit?: string;
    /** The run whose log holds every plan in full. */
    runUrl?: string;
}

/** stacks/Pulumi.reverse-proxy.yaml -> reverse-proxy; undefined for anything else. */
export function stackNameOf(file: string): string | undefined {
    const m = /^Pulumi\.(.+)\.yaml$/.exec(path.basename(file));
    return m ? m[1] : undefined;
}

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;?]*[ -/]*[@-~]/g;

export function stripAnsi(text: string): string {
    return text.replace(ANSI, "");
}

/** A code fence longer than any run of backticks in the text, so the text cannot close it. */
export function fenceFor(text: string): string {
    const longest = Math.max(0, ...(text.match(/`+/g) ?? []).map((run) => run.length));
    return "`".repeat(Math.max(3, longest + 1));
}

/**
 * GitHub colours a ```diff block by the first character of a line only. The plan indents its
 * +, -, ~, +- and -+ markers as pulumi preview --diff does; move each marker to the first column
 * and put the indentation after it, so every column after the marker stays where it was.
 */
export function markersFirst(text: string): string {
    return text
        .split("\n")
        .map((line) => {
            const m = /^( +)(\+-|-\+|[-+~])/.exec(line);
            return m ? m[2] + m[1] + line.slice(m[0].length) : line;
        })
        .join("\n");
}

/** The plan's closing count ("6 changes. 11 unchanged"), if it printed one. */
export function changeSummary(stdout: string): string | undefined {
    const lines = stripAnsi(stdout)
        .split("\n")
        .map((l) => l.trim())
        .filter((l) => /^\d+ changes?\b/.test(l));
    return lines.length > 0 ? lines[lines.length - 1] : undefined;
}

export interface Truncated {
    text: string;
    truncated: boolean;
    omittedLines: number;
    omittedChars: number;
}

/** Room kept for the omission line that truncateMiddle puts in the middle. */
const OMISSION_ROOM = 80;

/**
 * Cuts the middle out of text so that it is at most max characters: whole lines from the start
 * (about two thirds) and from the end (the plan's summary is there), and one line that says
 * how much is left out.
 */
export function truncateMiddle(text: string, max: number): Truncated {
    if (text.length <= max) return { text, truncated: false, omittedLines: 0, omittedChars: 0 };
    const room = Math.max(0, max - OMISSION_ROOM);
    const headRoom = Math.floor((room * 2) / 3);
    const tailRoom = room - headRoom;
    // The head: whole lines that fit, or a plain cut when not even the first line fits.
    let head = text.slice(0, headRoom);
    const lastNewline = head.lastIndexOf("\n");
    if (lastNewline >= 0) head = head.slice(0, lastNewline + 1);
    // The tail: whole lines that fit, never overlapping the head.
    let start = tailRoom > 0 ? Math.max(head.length, text.length - tailRoom) : text.length;
    if (start > 0 && start < text.length && text[start - 1] !== "\n") {
        const next = text.indexOf("\n", start);
        if (next >= 0 && next < text.length - 1) start = next + 1;
    }
    const tail = text.slice(start);
    const middle = text.slice(head.length, text.length - tail.length);
    const omittedLines = middle.split("\n").length - (middle.endsWith("\n") ? 1 : 0);
    let omission = `… ${omittedLines} line${omittedLines === 1 ? "" : "s"} (${middle.length} characters) left out …\n`;
    if (!head.endsWith("\n") && head.length > 0) omission = `\n${omission}`;
    const out = (head + omission + tail).slice(0, Math.max(0, max));
    return { text: out, truncated: true, omittedLines, omittedChars: middle.length };
}

/**
 * Shares budget characters among blocks of the given sizes: small blocks whole, and what is left
 * in equal parts among the large ones (water-filling). The shares add up to at most budget.
 */
export function allocate(sizes: number[], budget: number): number[] {
    const shares = new Array<number>(sizes.length).fill(0);
    const order = sizes.map((_, i) => i).sort((a, b) => sizes[a] - sizes[b]);
    let left = Math.max(0, budget);
    order.forEach((index, k) => {
        const fair = Math.floor(left / (order.length - k));
        shares[index] = Math.min(sizes[index], fair);
        left -= shares[index];
    });
    return shares;
}

interface Block {
    /** "diff" for a plan, "" for an error or a warning. */
    lang: string;
    text: string;
    /** Shown in a <details> element with this summary, or open when undefined. */
    details?: string;
}

interface Section {
    plan: StackPlan;
    blocks: Block[];
}

function sectionsOf(plans: StackPlan[]): Section[] {
    return plans.map((plan) => {
        const stdout = stripAnsi(plan.stdout).replace(/\s+$/, "");
        const stderr = stripAnsi(plan.stderr).replace(/\s+$/, "");
        const blocks: Block[] = [];
        if (plan.exitCode === 0) {
            blocks.push({ lang: "diff", text: markersFirst(stdout) || "(the plan printed nothing)" });
            if (stderr) blocks.push({ lang: "", text: stderr, details: "stderr" });
        } else {
            blocks.push({ lang: "", text: [stderr, stdout].filter(Boolean).join("\n\n") || "(the plan printed nothing)" });
        }
        return { plan, blocks };
    });
}

function heading(plan: StackPlan): string {
    if (plan.exitCode !== 0) return `### \`${plan.stack}\`: the plan failed (exit ${plan.exitCode})`;
    const summary = changeSummary(plan.stdout);
    return summary ? `### \`${plan.stack}\`: ${summary}` : `### \`${plan.stack}\``;
}

function renderBlock(block: Block, text: string, fence: string, cut: Truncated | undefined, ctx: CommentContext): string {
    const lines = [`${fence}${block.lang}`, text, fence];
    if (cut?.truncated) {
        const where = ctx.runUrl ? `the [run's log](${ctx.runUrl}) and its summary` : "the run's log and its summary";
        lines.push("", `> Cut to fit a comment: ${cut.omittedLines} lines left out. The whole plan is in ${where}.`);
    }
    const body = lines.join("\n");
    return block.details === undefined ? body : `<details><summary>${block.details}</summary>\n\n${body}\n\n</details>`;
}

function assemble(sections: Section[], ctx: CommentContext, texts: string[][], cuts: (Truncated | undefined)[][], fences: string[][]): string {
    const against = ctx.base ? ` against \`${ctx.base}\`` : "";
    const commit = ctx.commit ? ` for ${ctx.commit.slice(0, 12)}` : "";
    const parts = [
        MARKER,
        "## Offline plan",
        "",
        `What this pull request changes in what each stack declares: \`ovh-failover plan <stack>${ctx.base ? ` --against ${ctx.base}` : ""}\`${commit}. ` +
            "It evaluates the program under Pulumi's mock runtime, with no credentials: " +
            "`pulumi preview` also sees drift in the real world.",
    ];
    if (sections.length === 0) parts.push("", `No stack files (\`stacks/Pulumi.<stack>.yaml\`) to plan${against}.`);
    sections.forEach((section, s) => {
        parts.push("", heading(section.plan), "");
        section.blocks.forEach((block, b) => {
            parts.push(renderBlock(block, texts[s][b], fences[s][b], cuts[s][b], ctx));
        });
    });
    if (ctx.runUrl) parts.push("", `<sub>[The run](${ctx.runUrl}) · updated on every push</sub>`);
    return parts.join("\n") + "\n";
}

/**
 * The comment: MARKER, one section per stack (in the order given), each plan in a ```diff block,
 * a failed plan's output in a plain block. When the whole would exceed limit, the longest
 * outputs are cut in the middle, each with a note, so that the body fits.
 */
export function renderComment(plans: StackPlan[], ctx: CommentContext = {}, limit: number = COMMENT_LIMIT): string {
    const sections = sectionsOf(plans);
    const texts = sections.map((s) => s.blocks.map((b) => b.text));
    const fences = sections.map((s) => s.blocks.map((b) => fenceFor(b.text)));
    const none = sections.map((s) => s.blocks.map((): Truncated | undefined => undefined));
    const whole = assemble(sections, ctx, texts, none, fences);
    if (whole.length <= limit) return whole;

    // Everything but the outputs, with every truncation note in place: the outputs share the rest.
    const worstCut: Truncated = { text: "", truncated: true, omittedLines: Number.MAX_SAFE_INTEGER, omittedChars: 0 };
    const frame = assemble(sections, ctx, texts.map((t) => t.map(() => "")), sections.map((s) => s.blocks.map(() => worstCut)), fences);
    const sizes = texts.flat();
    const shares = allocate(sizes.map((t) => t.length), limit - frame.length);
    let k = 0;
    const cuts = texts.map((t) => t.map((text) => truncateMiddle(text, shares[k++])));
    const body = assemble(sections, ctx, cuts.map((c) => c.map((x) => x.text)), cuts, fences);
    if (body.length <= limit) return body;
    // Only a frame too large for the limit (thousands of stacks) gets here: cut the end.
    const note = `\n\n> Cut to fit a comment. The whole plan is in the run's log.\n`;
    return body.slice(0, Math.max(0, limit - note.length)) + note;
}

/** Reads <stack>.out, <stack>.err and <stack>.exit for every stack in dir, by stack name. */
export function readPlans(dir: string): StackPlan[] {
    const read = (file: string) => (fs.existsSync(file) ? fs.readFileSync(file, "utf8") : "");
    const stacks = new Set(
        fs
            .readdirSync(dir)
            .filter((f) => /\.(out|err|exit)$/.test(f))
            .map((f) => f.replace(/\.(out|err|exit)$/, "")),
    );
    return [...stacks].sort().map((stack) => {
        const exit = read(path.join(dir, `${stack}.exit`)).trim();
        return {
            stack,
            stdout: read(path.join(dir, `${stack}.out`)),
            stderr: read(path.join(dir, `${stack}.err`)),
            // No exit file: the plan did not finish.
            exitCode: /^\d+$/.test(exit) ? Number(exit) : -1,
        };
    });
}

const USAGE = "usage: npx tsx bin/pr-comment.ts <plans-dir> [--base <ref>] [--commit <sha>] [--run-url <url>] [--limit <chars>]";

const OPTIONS = {
    base: { type: "string" },
    commit: { type: "string" },
    "run-url": { type: "string" },
    limit: { type: "string" },
} as const;

export function parseArgs(argv: string[], env: NodeJS.ProcessEnv = {}): { dir: string; ctx: CommentContext; limit: number } {
    const { values, positionals } = parseCommandLine(argv, OPTIONS, { usage: USAGE });
    const ctx: CommentContext = {};
    if (env.GITHUB_SERVER_URL && env.GITHUB_REPOSITORY && env.GITHUB_RUN_ID) {
        ctx.runUrl = `${env.GITHUB_SERVER_URL}/${env.GITHUB_REPOSITORY}/actions/runs/${env.GITHUB_RUN_ID}`;
    }
    if (values.base !== undefined) ctx.base = values.base;
    if (values.commit !== undefined) ctx.commit = values.commit;
    if (values["run-url"] !== undefined) ctx.runUrl = values["run-url"];
    let limit = COMMENT_LIMIT;
    if (values.limit !== undefined) {
        limit = Number(values.limit);
        if (!Number.isInteger(limit) || limit < 1000) throw new Error(`--limit needs a whole number of characters, at least 1000\n${USAGE}`);
    }
    if (positionals.length > 1) throw new Error(`one plans directory (got ${positionals[0]} and ${positionals[1]})\n${USAGE}`);
    const [dir] = positionals;
    if (!dir) throw new Error(USAGE);
    return { dir, ctx, limit };
}

function main(): void {
    try {
        const { dir, ctx, limit } = parseArgs(process.argv.slice(2), process.env);
        process.stdout.write(renderComment(readPlans(dir), ctx, limit));
    } catch (err) {
        process.stderr.write(`${(err as Error).message}\n`);
        process.exitCode = 2;
    }
}

if (require.main === module) main();
