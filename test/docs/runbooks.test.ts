// What the runbooks promise a reader at 3 a.m., checked: each starts with what you need and a
// read-only diagnosis before its first irreversible act; the commands they name exist, with the
// flags they take; placeholders name one thing each; no seed numbers reach what users read;
// pointers into the docs from the code and the stack files resolve; the troubleshooting page
// quotes the credential messages the code really prints.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { describe, expect, it } from "vitest";
import { ovhClientOptions, ovhClientOptionsFromEnv } from "../../components/network/ovhApiClient";

const root = path.resolve(__dirname, "../..");

/** GitHub's anchor for a heading, as readme.test.ts reads it (importing it would run its suites here). */
function headingAnchor(heading: string): string {
    return heading
        .trim()
        .toLowerCase()
        .replace(/[^\p{L}\p{N}\s_-]/gu, "")
        .replace(/\s/g, "-");
}
const read = (rel: string) => fs.readFileSync(path.join(root, rel), "utf8");

function filesUnder(dir: string, keep: (name: string) => boolean): string[] {
    const out: string[] = [];
    const walk = (rel: string) => {
        if (!fs.existsSync(path.join(root, rel))) return;
        for (const e of fs.readdirSync(path.join(root, rel), { withFileTypes: true })) {
            const child = path.posix.join(rel, e.name);
            if (e.isDirectory()) walk(child);
            else if (keep(e.name)) out.push(child);
        }
    };
    walk(dir);
    return out.sort();
}

const runbooks = filesUnder("docs/runbooks", (n) => n.endsWith(".md"));

/** Code spans and fenced blocks, each with the line it starts on: what a reader types. */
export function codeOf(text: string): { line: number; code: string }[] {
    const out: { line: number; code: string }[] = [];
    const lines = text.split("\n");
    const prose: string[] = [];
    for (let i = 0; i < lines.length; i++) {
        if (/^\s*```/.test(lines[i])) {
            const start = i;
            const body: string[] = [];
            for (i++; i < lines.length && !/^\s*```/.test(lines[i]); i++) body.push(lines[i]);
            out.push({ line: start + 2, code: body.join("\n") });
            for (let k = start; k <= i && k < lines.length; k++) prose.push("");
            continue;
        }
        prose.push(lines[i]);
    }
    // Spans pair backticks in order, and may wrap onto the next line (prose keeps lines short).
    const parts = prose.join("\n").split("`");
    let line = 1;
    parts.forEach((part, k) => {
        if (k % 2 === 1 && k < parts.length - 1) out.push({ line, code: part.replace(/\s*\n\s*/g, " ") });
        line += part.split("\n").length - 1;
    });
    return out.sort((a, b) => a.line - b.line);
}

/**
 * What cannot be taken back, or changes the world or the state: applying the stack, destroying
 * it, moving an IP, an API write, replacing a NIC by hand, ordering an IP.
 */
const IRREVERSIBLE_CODE: [RegExp, string][] = [
    [/\bpulumi\s+(up|destroy|import)\b/, "pulumi up/destroy/import"],
    [/\bpulumi\s+refresh\b(?![^\n]*--preview-only)/, "pulumi refresh"],
    [/\bpulumi\s+state\s+(delete|unprotect|rename|edit|move|repair)\b/, "pulumi state surgery"],
    [/\bpulumi\s+stack\s+(rm|init|import)\b/, "pulumi stack rm/init/import"],
    [/\bcurl\b[^\n]*\s-X\s*(POST|PUT|DELETE)\b/, "an HTTP write"],
    [/\bifconfig\s+\S+\s+[^\n]*\b(advskew|-?carpdemote|down)\b/, "a CARP demotion or an interface down"],
    [/\b(rcctl|systemctl)\s+(restart|stop|start|reload)\s+\S*(keepalived|ifstated|ucarp|carp)/, "an edge daemon restarted or stopped"],
    [/\b(ovh-failover-claim|ovh-failover-master\.sh)\b(?!\s*$)(?![^\n]*\b(cat|grep|ls|less|tail)\b)/, "the claim run by hand (it moves the IP)"],
    [/\bovh-ipmove\s+-/, "ovh-ipmove"],
    [/\b(POST|PUT|DELETE)\s+\//, "an OVH API write"],
    [/\bpct\s+(set|destroy|restore)\b/, "pct set/destroy/restore"],
    [/\b(ip\s+addr\s+(add|del)|inet\s+-?alias)\b/, "an address added or removed"],
];
const IRREVERSIBLE_PROSE: [RegExp, string][] = [[/\border(ing)?\s+(an?\s+|the\s+|another\s+|a\s+new\s+)?(additional\s+|failover\s+)?IP\b/i, "ordering an IP"]];

export interface Section {
    heading: string;
    level: number;
    line: number;
}

export function sections(text: string): Section[] {
    const out: Section[] = [];
    let inFence = false;
    text.split("\n").forEach((l, i) => {
        if (/^\s*```/.test(l)) inFence = !inFence;
        const m = !inFence && /^(#{1,6})\s+(.+)$/.exec(l);
        if (m) out.push({ heading: m[2].trim(), level: m[1].length, line: i + 1 });
    });
    return out;
}

/** The first irreversible act (line and what), or undefined. */
export function firstIrreversible(text: string): { line: number; what: string } | undefined {
    const hits: { line: number; what: string }[] = [];
    for (const c of codeOf(text)) {
        for (const [re, what] of IRREVERSIBLE_CODE) if (re.test(c.code)) hits.push({ line: c.line, what: `${what}: ${c.code.split("\n")[0]}` });
    }
    text.split("\n").forEach((l, i) => {
        const prose = l.replace(/`[^`]*`/g, "");
        for (const [re, what] of IRREVERSIBLE_PROSE) if (re.test(prose)) hits.push({ line: i + 1, what });
    });
    return hits.sort((a, b) => a.line - b.line)[0];
}

/** Why a runbook's opening is not prerequisites then diagnosis before any irreversible act. */
export function runbookProblems(text: string): string[] {
    const problems: string[] = [];
    const all = sections(text);
    const h2 = all.filter((s) => s.level === 2);
    const titles = all.filter((s) => s.level === 1);
    if (titles.length !== 1 || titles[0].line !== 1) problems.push("a runbook starts with its one title");
    const need = h2[0];
    const diagnose = h2[1];
    if (!need || need.heading !== "What you need") problems.push(`the first section must be "What you need", not ${JSON.stringify(need?.heading)}`);
    if (!diagnose || !/^Diagnose first\b/.test(diagnose.heading)) problems.push(`the second section must be "Diagnose first", not ${JSON.stringify(diagnose?.heading)}`);
    // The purpose: a short paragraph between the title and the first section.
    if (need) {
        const purpose = text.split("\n").slice(1, need.line - 1).join("\n").trim();
        if (purpose === "") problems.push("no one-paragraph purpose under the title");
        if (purpose.split(/\n\s*\n/).length > 2) problems.push("the purpose under the title is more than a paragraph or two");
    }
    if (diagnose) {
        const body = text.split("\n").slice(diagnose.line, h2[2] ? h2[2].line - 1 : undefined).join("\n");
        if (!/^\s*1\.\s/m.test(body)) problems.push("the diagnosis is not a numbered sequence");
    }
    const first = firstIrreversible(text);
    const endOfDiagnosis = h2[2]?.line ?? Infinity;
    if (first && (!diagnose || first.line < endOfDiagnosis)) {
        problems.push(`line ${first.line}: ${first.what} comes before the diagnosis is over (line ${endOfDiagnosis === Infinity ? "?" : endOfDiagnosis})`);
    }
    return problems;
}

/** The commands of the command line and each one's --help, as the built command prints them. */
function cliCommands(): Map<string, string> {
    const src = read("bin/ovh-failover.ts");
    const table = src.slice(src.indexOf("const COMMANDS"), src.indexOf("};", src.indexOf("const COMMANDS")));
    const names = [...table.matchAll(/^ {4}"?([a-z][a-z-]*)"?: \{$/gm)].map((m) => m[1]);
    return new Map(names.map((name) => {
        const r = spawnSync(process.execPath, [path.join(root, "dist", "bin", "ovh-failover.js"), name, "--help"], { encoding: "utf8" });
        if (r.status !== 0) throw new Error(`ovh-failover ${name} --help: exit ${r.status}: ${r.stderr}`);
        return [name, r.stdout];
    }));
}

/** Every `npx ovh-failover <command> …` in a text: the command, its flags, and the line. */
export function cliUses(text: string): { line: number; command: string; flags: string[] }[] {
    const out: { line: number; command: string; flags: string[] }[] = [];
    for (const c of codeOf(text)) {
        for (const [k, l] of c.code.split("\n").entries()) {
            for (const m of l.matchAll(/(?:\bnpx |(?<![\w/.~-])\.\/)ovh-failover(?:\s+([^\s|;&)]+))?([^|;&`)]*)/g)) {
                const command = m[1] ?? "";
                const flags = [...(m[2] ?? "").matchAll(/(?:^|\s)(--[a-z][a-z-]*)/g)].map((f) => f[1]);
                out.push({ line: c.line + k, command, flags });
            }
        }
    }
    return out;
}

const userDocs = ["README.md", ...filesUnder("docs", (n) => n.endsWith(".md"))];

describe("the runbooks", () => {
    it("are there", () => {
        expect(runbooks.length).toBeGreaterThanOrEqual(6);
    });

    it.each(runbooks)("%s starts with what you need, then a read-only diagnosis, before any irreversible act", (file) => {
        expect(runbookProblems(read(file))).toEqual([]);
    });

    it.each(runbooks)("%s uses no <name> placeholder (it names <stack>, <endpoint>, <server> or <pair>)", (file) => {
        const lines = read(file).split("\n").map((l, i) => [i + 1, l] as const).filter(([, l]) => l.includes("<name>"));
        expect(lines).toEqual([]);
    });

    it("the troubleshooting page uses no <name> placeholder either", () => {
        expect(read("docs/troubleshooting.md").split("\n").filter((l) => l.includes("<name>"))).toEqual([]);
    });

    it("tell the old gateway-lost text apart: ordering an IP first, no prerequisites", () => {
        const old = [
            "# The gateway is lost",
            "",
            "A service's gateway stopped answering.",
            "",
            "1. Confirm: `npx ovh-failover check-gateways <stack>` prints `DEAD: endpoint …`.",
            "2. Get another failover IP routed to a server that works: order an additional IP in the OVH manager",
            "3. Follow [change the public IP](ip-change.md) with the new IP.",
        ].join("\n");
        const problems = runbookProblems(old);
        expect(problems).toContain('the first section must be "What you need", not undefined');
        expect(problems.some((p) => p.includes("ordering an IP"))).toBe(true);
        expect(firstIrreversible("## x\n\n```sh\npulumi up --refresh=false\n```\n")).toEqual({ line: 4, what: "pulumi up/destroy/import: pulumi up --refresh=false" });
        expect(firstIrreversible("run `pulumi preview --diff`, `pulumi stack export --file s.json` and `pulumi refresh --preview-only`")).toBeUndefined();
        expect(firstIrreversible("then `pulumi\nup` again")?.what).toMatch(/^pulumi up/);
    });
});

describe("the commands the documentation names", () => {
    const commands = cliCommands();

    it("reads the command table of bin/ovh-failover.ts", () => {
        expect([...commands.keys()].sort()).toEqual(expect.arrayContaining(["access-rules", "adopt", "check-gateways", "drift", "plan"]));
    });

    it.each(userDocs)("every npx ovh-failover <command> in %s is a command, with flags it takes", (file) => {
        const wrong: string[] = [];
        for (const use of cliUses(read(file))) {
            if (use.command.startsWith("-") || use.command.startsWith("<") || use.command === "") {
                if (!["", "--help", "--version", "<command>"].includes(use.command)) wrong.push(`${file}:${use.line}: ${use.command}`);
                continue;
            }
            const text = commands.get(use.command);
            if (text === undefined) {
                wrong.push(`${file}:${use.line}: no command ${use.command}`);
                continue;
            }
            for (const flag of use.flags) {
                if (flag !== "--help" && !new RegExp(`(^|[^a-z-])${flag}(?![a-z-])`).test(text)) wrong.push(`${file}:${use.line}: ${use.command} takes no ${flag}`);
            }
        }
        expect(wrong).toEqual([]);
    });

    it("tells a misspelt command or flag", () => {
        expect(cliUses("`npx ovh-failover plna x` and\n```sh\nnpx ovh-failover drift x --output o.json | jq\n```")).toEqual([
            { line: 1, command: "plna", flags: [] },
            { line: 3, command: "drift", flags: ["--output"] },
        ]);
        // The checkout's launcher too, not a path that merely ends in the name.
        expect(cliUses("```sh\n./ovh-failover plan x --json\nls ~/.cache/ovh-failover\n```").map((u) => [u.command, u.flags])).toEqual([["plan", ["--json"]]]);
        const drift = commands.get("drift")!;
        expect(/(^|[^a-z-])--output(?![a-z-])/.test(drift)).toBe(false);
        expect(/(^|[^a-z-])--outputs(?![a-z-])/.test(drift)).toBe(true);
    });
});

describe("what users read", () => {
    const userFacing = [
        ...userDocs,
        ...filesUnder("stacks", (n) => n.endsWith(".yaml")),
        "Pulumi.yaml",
    ];

    it.each(userFacing)("%s names no seed (the incidents are the project's sources, not the reader's)", (file) => {
        const hits = read(file).split("\n").filter((l) => /\bseeds?\s*0\d\d\b|\bseeds?\/|\bseed\s+\d/i.test(l));
        expect(hits).toEqual([]);
    });

    it("the messages of components/ and bin/ name no seed", () => {
        const hits: string[] = [];
        for (const file of [...filesUnder("components", (n) => n.endsWith(".ts")), ...filesUnder("bin", (n) => n.endsWith(".ts"))]) {
            // String literals only: a comment may cite the incident a rule comes from.
            const code = read(file).replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|[^:"'`])\/\/.*$/gm, "$1");
            for (const m of code.matchAll(/(["'`])((?:\\.|(?!\1)[^\\\n])*)\1/g)) {
                if (/\bseed\s*0?\d/i.test(m[2])) hits.push(`${file}: ${m[2]}`);
            }
        }
        expect(hits).toEqual([]);
    });

    it("every docs/… or README.md#… pointer in the code, the stack files and Pulumi.yaml resolves", () => {
        const broken: string[] = [];
        const sources = [
            ...filesUnder("components", (n) => n.endsWith(".ts")),
            ...filesUnder("bin", (n) => n.endsWith(".ts")),
            ...filesUnder("stacks", (n) => n.endsWith(".yaml")),
            "index.ts",
            "Pulumi.yaml",
        ];
        for (const file of sources) {
            for (const m of read(file).matchAll(/\b((?:docs\/[A-Za-z0-9_./-]+\.md)|README\.md)(#[A-Za-z0-9_-]+)?/g)) {
                const [target, anchor] = [m[1], m[2]?.slice(1)];
                if (!fs.existsSync(path.join(root, target))) {
                    broken.push(`${file}: ${m[0]}: no file`);
                    continue;
                }
                if (anchor) {
                    const anchors = [...read(target).replace(/^```[\s\S]*?^```/gm, "").matchAll(/^#{1,6}\s+(.+)$/gm)].map((h) => headingAnchor(h[1]));
                    if (!anchors.includes(anchor)) broken.push(`${file}: ${m[0]}: no heading #${anchor}`);
                }
            }
        }
        expect(broken).toEqual([]);
    });
});

describe("the troubleshooting page's credential messages", () => {
    const page = read("docs/troubleshooting.md").replace(/\s+/g, " ");
    const thrown = (f: () => unknown): string => {
        try {
            f();
        } catch (err) {
            return (err as Error).message;
        }
        throw new Error("no error");
    };

    it("quotes adopt's and ovh-ipmove's message as they print it", () => {
        expect(page).toContain(thrown(() => ovhClientOptionsFromEnv({})));
    });

    it("quotes the virtual MAC provider's message as it prints it", () => {
        expect(page).toContain(thrown(() => ovhClientOptions({}, {})));
    });

    it("quotes the OVH provider's message (go-ovh v1.7.0 loadConfig, wrapped by terraform-provider-ovh v2.19.0 load)", () => {
        expect(page).toContain(
            'error getting ovh client: "missing authentication information, you need to provide one of the following: application_key/application_secret, client_id/client_secret, or access_token"',
        );
    });
});
