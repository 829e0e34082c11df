// A plan a person reads (issue 26, point 2): each bundled stack's plan fits on a screen per
// endpoint and counts what its --json lists; a plan from no state and no adopt file says so once,
// before it; --diff folds the plan's own long texts to a line each (--diff-full prints them); and
// under --json a failing plan is one JSON error on stdout, with the exit code of an error.
import { spawnSync } from "child_process";
import fc from "fast-check";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { describe, expect, it } from "vitest";
import { plan } from "../../../bin/plan";
import { issuesInMessage, PlanErrorJson } from "../../../bin/plan/failure";
import { formatIssues } from "../../../components/shared/validate";
import { readRecordings } from "../../support/recording";
import { textCounts } from "../../support/planJson";

const root = path.resolve(__dirname, "../../..");
const cli = (...args: string[]) => spawnSync(process.execPath, [path.join(root, "dist/bin/ovh-failover.js"), "plan", ...args], { cwd: root, encoding: "utf8" });
const BUNDLED = fs.readdirSync(path.join(root, "stacks")).map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1]).filter((s): s is string => s !== undefined).sort();

/** Lines of a screen: one that holds the tree's widest row (the reverse-proxy's is 100 columns). */
const SCREEN = { rows: 40, columns: 120 };
const screenRows = (text: string) => text.replace(/\n$/, "").split("\n").reduce((n, l) => n + Math.max(1, Math.ceil([...l].length / SCREEN.columns)), 0);

interface PreviewJson {
    steps: { op: string; urn: string; newState?: { parent?: string; custom?: boolean; type?: string } }[];
    changeSummary: Record<string, number>;
}

/** A copy of the project with one stack, and its adopt file when given. */
function projectWith(stack: string, adoptFile?: string): { dir: string; cleanup(): void } {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ovh-failover-readable-"));
    fs.copyFileSync(path.join(root, "Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
    for (const f of ["package.json", "dist", "node_modules"]) fs.symlinkSync(path.join(root, f), path.join(dir, f));
    fs.mkdirSync(path.join(dir, "stacks"));
    fs.copyFileSync(path.join(root, "stacks", `Pulumi.${stack}.yaml`), path.join(dir, "stacks", `Pulumi.${stack}.yaml`));
    if (adoptFile !== undefined) fs.writeFileSync(path.join(dir, "stacks", `${stack}.adopt.yaml`), adoptFile);
    return { dir, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

describe.each(BUNDLED)("the plan of %s as written", (stack) => {
    it("fits on a screen per endpoint, the note before it included, and counts what its --json lists", async () => {
        const opts = { stack, sets: [], showSame: false };
        const [text, json] = await Promise.all([plan(root, { ...opts, json: false }, false), plan(root, { ...opts, json: true }, false)]);
        expect(text.exitCode, text.message).toBe(0);
        const preview = JSON.parse(json.output) as PreviewJson;
        const rootUrn = preview.steps[0].urn;
        // An endpoint (or an edge pair) is a component right under the root stack.
        const endpoints = preview.steps.filter((s) => s.newState?.parent === rootUrn && s.newState.custom === false).length;
        expect(endpoints).toBeGreaterThan(0);
        expect(screenRows((text.notice ?? "") + text.output)).toBeLessThanOrEqual(SCREEN.rows * endpoints);
        // The summary counts as pulumi preview's: the root stack included, as in --json's steps.
        const counts = textCounts(text.output);
        expect(counts).toEqual(preview.changeSummary);
        const changes = Object.entries(counts).filter(([op]) => op !== "same").reduce((n, [, c]) => n + c, 0);
        expect(preview.steps).toHaveLength(changes);
        // So does the tree: a row with an op for each step.
        expect(text.output.split("\n").filter((l) => /^ (?:\+-|[-+~=] ) /.test(l))).toHaveLength(changes);
    });
});

describe("a plan from no state", () => {
    it("says once, before it, that it knows nothing of the live world and how to adopt it; not on stdout", async () => {
        const r = await plan(root, { stack: "reverse-proxy", sets: [], json: false, showSame: false }, false);
        expect(r.notice).toMatch(/^note: the plan reads no Pulumi state and there is no adopt file \(stacks\/reverse-proxy\.adopt\.yaml\): it knows nothing of the live world,\n/);
        expect(r.notice).toContain("every routing, virtual MAC, container NIC and DNS record shows as + create");
        expect(r.notice).toContain("npx ovh-failover adopt reverse-proxy --no-state for a stack without a state yet");
        expect(r.notice).toContain("--state <file> (written by pulumi stack export --file <file>) for one that has a state (docs/adopt.md)");
        expect(r.output).not.toContain("adopt");
        const json = cli("reverse-proxy", "--json");
        expect(json.status, json.stderr).toBe(0);
        expect(json.stderr.match(/^note: the plan reads no Pulumi state/gm)).toHaveLength(1);
        expect(() => JSON.parse(json.stdout)).not.toThrow();
    });

    it("says nothing of it with an adopt file, or when it compares two states", async () => {
        const recording = readRecordings().find((r) => r.stack === "reverse-proxy" && r.world === "adopted" && r.adoptFile !== undefined);
        expect(recording).toBeDefined();
        const project = projectWith("reverse-proxy", recording!.adoptFile);
        try {
            const r = await plan(project.dir, { stack: "reverse-proxy", sets: [], json: false, showSame: false }, false);
            expect(r.exitCode, r.message).toBe(0);
            expect(r.notice).toBeUndefined();
        } finally {
            project.cleanup();
        }
        const changed = await plan(root, { stack: "reverse-proxy", sets: ["endpoints.proxy.ip=203.0.113.77"], json: false, showSame: false }, false);
        expect(changed.notice).toBeUndefined();
    });

    it("says nothing of it for an edge pair, which adopt does not cover", async () => {
        const r = await plan(root, { stack: "edge-pair", sets: [], json: false, showSame: false }, false);
        expect(r.notice).toBeUndefined();
    });
});

describe("plan --diff", () => {
    it("folds each long script under Offline plan: to a line, and --diff-full prints it", async () => {
        const opts = { stack: "reverse-proxy", sets: [], json: false, showSame: false, diff: true };
        const [folded, full] = await Promise.all([plan(root, opts, false), plan(root, { ...opts, diffFull: true }, false)]);
        expect(folded.output).toMatch(/^ {4}create: \[unknown\] until applied \(\[vmac-of-[^\]]+\]\); offline: "set -eu" … \(\d+ lines, sha256 [0-9a-f]{8}\)$/m);
        expect(folded.output).toContain("--diff-full prints them in full");
        expect(folded.output).not.toMatch(/^ +\| /m);
        expect(full.output).toMatch(/^ {6}\| set -eu$/m);
        expect(folded.output.split("\n").length).toBeLessThan(300);
        expect(full.output.split("\n").length).toBeGreaterThan(folded.output.split("\n").length);
    });

    it("says a script the same resource printed already is the same text, with its hash", async () => {
        const r = await plan(root, { stack: "edge-pair", sets: [], json: false, showSame: false, diff: true }, false);
        expect(r.output).toMatch(/^ {4}update: the same text as create \(sha256 [0-9a-f]{8}\)$/m);
    });

    it("shows a changed script's changed lines once, then says which other scripts change the same", async () => {
        const r = await plan(root, { stack: "reverse-proxy", sets: ["endpoints.proxy.ip=203.0.113.77"], json: false, showSame: false, diff: true }, false);
        expect(r.output).toMatch(/^ {4}create: \[unknown\] until applied \([^)]*\); offline, old => new:$/m);
        expect(r.output).toMatch(/^ {4}update: \[unknown\] until applied; offline, the same changed lines as create$/m);
    });
});

describe("plan --json that fails", () => {
    const bad = (edit: (text: string) => string) => {
        const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "ovh-failover-bad-")), "Pulumi.reverse-proxy.yaml");
        fs.writeFileSync(file, edit(fs.readFileSync(path.join(root, "stacks", "Pulumi.reverse-proxy.yaml"), "utf8")));
        return file;
    };
    function throwingProgram(): string {
        const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "ovh-failover-throws-")), "index.js");
        fs.writeFileSync(file, 'throw new Error("the program fails here");\n');
        return file;
    }
    const errorOf = (stdout: string) => (JSON.parse(stdout) as PlanErrorJson).error;

    it("prints one JSON error on stdout for a bad value, with its key, value and what is expected, and exits 2", () => {
        const r = cli("reverse-proxy", "--stack-file", bad((t) => t.replace("ip: 192.0.2.10", "ip: 192.0.2.300")), "--json");
        expect(r.status).toBe(2);
        const error = errorOf(r.stdout);
        expect(error.stack).toBe("reverse-proxy");
        expect(error.issues).toEqual([{ key: "endpoints.proxy.ip", value: "192.0.2.300", expected: expect.stringMatching(/^an IPv4 address/) as unknown }]);
        expect(error.message).toContain("endpoints.proxy.ip");
        // The text still goes to stderr, for the person.
        expect(r.stderr).toMatch(/^error: stack reverse-proxy: invalid stack configuration/m);
    });

    it.each([
        ["an unknown key", ["reverse-proxy", "--set", "endpoints.proxy.ipp=1"], /did you mean ip\?/],
        ["a missing stack file", ["no-such-stack"], /^no stack file stacks\/Pulumi\.no-such-stack\.yaml/],
        ["a missing --stack-file", ["reverse-proxy", "--stack-file", "no-such-file.yaml"], /^--stack-file /],
        ["a usage error", ["reverse-proxy", "--bogus"], /^unknown option --bogus/],
        ["a program that throws", ["reverse-proxy", "--program", throwingProgram()], /the program fails here/],
    ])("prints one JSON error on stdout for %s, and exits 2", (_, args, message) => {
        const r = cli(...args, "--json");
        expect(r.status, r.stderr).toBe(2);
        expect(errorOf(r.stdout).message).toMatch(message);
    });

    it("shows a secret given with --set as [secret], in the JSON and on stderr", () => {
        const r = cli("edge-pair", "--set", "edgePasswords.edge=bad!pw", "--json");
        expect(r.status).toBe(2);
        expect(errorOf(r.stdout).message).toContain("(with edgePasswords.edge=[secret])");
        expect(r.stdout + r.stderr).not.toContain("bad!pw");
        // A key that is no secret keeps its value, so the header says what changed.
        expect(cli("reverse-proxy", "--set", "endpoints.proxy.ip=203.0.113.77").stdout).toMatch(/^Previewing update \(reverse-proxy\) offline, with endpoints\.proxy\.ip=203\.0\.113\.77:/);
    });

    it("reads back every issue of a config error's message", () => {
        const issue = fc.record({
            key: fc.stringMatching(/^[a-z][a-zA-Z0-9.[\]"-]{0,30}$/),
            value: fc.oneof(fc.string({ maxLength: 40 }), fc.integer(), fc.boolean(), fc.constant(undefined)),
            expected: fc.string({ minLength: 1, maxLength: 60 }).filter((s) => !s.includes("\n")),
        });
        fc.assert(
            fc.property(fc.array(issue, { minLength: 1, maxLength: 5 }), (issues) => {
                const back = issuesInMessage(formatIssues(issues));
                expect(back).toEqual(issues.map((i) => ({ key: i.key, ...(i.value === undefined ? {} : { value: i.value }), expected: i.expected })));
            }),
        );
    });
});
