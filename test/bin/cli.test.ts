// The command-line tools' flags, messages and exit codes, now that util.parseArgs reads them.
import { spawnSync } from "child_process";
import * as path from "path";
import { describe, expect, it } from "vitest";
import { parseCheckArgs } from "../../bin/check-gateways";
import { UsageError } from "../../bin/cli";
import { parseArgs as parseIpmoveArgs } from "../../bin/ovh-ipmove";
import { parseArgs as parsePlanArgs, plan } from "../../bin/plan";
import { loadProject, loadStackConfig } from "../../bin/plan/stackFiles";
import { parseArgs as parseCommentArgs } from "../../bin/pr-comment";

const root = path.resolve(__dirname, "../..");
const USAGE_LINE = /^usage: ovh-failover plan <stack>/m;

function runTool(script: string, args: string[]): { status: number | null; stdout: string; stderr: string } {
    const r = spawnSync(process.execPath, ["--import", "tsx", path.join(root, "bin", script), ...args], { cwd: root, encoding: "utf8" });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("plan", () => {
    it("reads every flag in both spellings", () => {
        const o = parsePlanArgs(["reverse-proxy", "--set", "a=1", "--set=b=2", "--against=HEAD~1", "--expect-no-changes", "--json", "--show-same", "--stack-file", "x.yaml"]);
        expect(o).toEqual({
            stack: "reverse-proxy",
            sets: ["a=1", "b=2"],
            against: "HEAD~1",
            expectNoChanges: true,
            json: true,
            showSame: true,
            stackFile: path.resolve("x.yaml"),
            program: undefined,
            showReplacementSteps: false,
        });
        expect(parsePlanArgs(["s", "--program", "p.ts"]).program).toBe(path.resolve("p.ts"));
        expect(parsePlanArgs(["s", "--diff"])).toMatchObject({ diff: true, diffFull: undefined });
        expect(parsePlanArgs(["s", "--diff-full"])).toMatchObject({ diff: true, diffFull: true });
        // The ref's program is the project's own: another program cannot be compared with it.
        expect(() => parsePlanArgs(["s", "--against", "HEAD", "--program", "p.ts"])).toThrow(/^--against compares with the project's program at that ref; --program names another/);
        expect(parsePlanArgs(["s", "--against", "origin/main", "--show-replacement-steps"])).toMatchObject({ stack: "s", sets: [], against: "origin/main", json: false, showSame: false, showReplacementSteps: true });
    });

    it.each([
        [["s", "--against"], /^--against needs a git ref\nusage:/],
        [["s", "--set"], /^--set needs <key>=<value>\nusage:/],
        [["s", "--stack-file"], /^--stack-file needs a file\nusage:/],
        [["s", "--program"], /^--program needs a file\nusage:/],
        [["s", "--bogus"], /^unknown option --bogus\nusage:/],
        [["a", "b"], /^one stack at a time \(got a and b\)\nusage:/],
        [[], /^usage:/],
        [["-h"], /^usage:/],
        [["--help"], /^usage:/],
        [["s", "--expect-no-changes"], /^--expect-no-changes compares two states/],
        [["s", "--json=yes"], /^--json takes no value\nusage:/],
    ])("%j is a usage error", (argv, message) => {
        expect(() => parsePlanArgs(argv)).toThrow(message);
    });

    it("exits 2 with the message and the usage line", () => {
        const r = runTool("plan.ts", ["reverse-proxy", "--bogus"]);
        expect(r.status).toBe(2);
        expect(r.stdout).toBe("");
        expect(r.stderr).toMatch(/^unknown option --bogus\n/);
        expect(r.stderr).toMatch(USAGE_LINE);
    });
});

describe("plan's messages for a stack given wrong", () => {
    it("a --stack-file that does not exist is named with the flag, not as ENOENT", async () => {
        const missing = path.join(root, "no-such-stack.yaml");
        await expect(plan(root, { stack: "reverse-proxy", sets: [], json: false, showSame: false, stackFile: missing }, false))
            .rejects.toThrow(`--stack-file ${missing}: no such file; give the path of a Pulumi.<stack>.yaml file`);
    });

    it("a stack file where the stack's name goes says to give the name", () => {
        const project = loadProject(root);
        expect(() => loadStackConfig(root, project, "stacks/Pulumi.reverse-proxy.yaml"))
            .toThrow(/^stacks\/Pulumi\.reverse-proxy\.yaml is a file: give the stack's name \(reverse-proxy\), whose file is found in stacks\/; a stack file elsewhere goes after the name, with --stack-file <file>$/);
        expect(() => loadStackConfig(root, project, "nope")).toThrow(/^no stack file stacks\/Pulumi\.nope\.yaml; stacks here: /);
    });

    it("an error with --set names the evaluation that failed by what it is, not as (now)", async () => {
        const r = await plan(root, { stack: "reverse-proxy", sets: ["endpoints.proxy.ip=203.0.113.20"], json: false, showSame: false }, false);
        expect(r.exitCode).toBe(2);
        expect(r.message).toMatch(/^error: stack reverse-proxy \(with endpoints\.proxy\.ip=203\.0\.113\.20\): invalid stack configuration/);
    });
});

describe("ovh-ipmove", () => {
    it("takes seed 001's one-dash flags, GNU flags and --flag=value alike", () => {
        const expected = { ip: "203.0.113.9", target: { kind: "cloud", project: "t18s", instance: "edge-1" }, timeoutSeconds: 30, pollSeconds: 2, configFile: "/etc/c", yieldTo: [] };
        expect(parseIpmoveArgs(["-ip", "203.0.113.9", "-project", "t18s", "-instance", "edge-1", "-timeout", "30", "-config", "/etc/c"])).toEqual(expected);
        expect(parseIpmoveArgs(["--ip=203.0.113.9", "--project", "t18s", "-instance=edge-1", "--timeout=30", "--config=/etc/c"])).toEqual(expected);
        expect(parseIpmoveArgs(["-ip", "203.0.113.9/32", "-server", "ns1.example"])).toMatchObject({ target: { kind: "dedicated", serviceName: "ns1.example" } });
        expect(parseIpmoveArgs(["-ip", "203.0.113.9", "-server", "ns1", "-yield-to", "ns2,ns3"])).toMatchObject({ yieldTo: ["ns2", "ns3"] });
        expect(parseIpmoveArgs(["-ip", "203.0.113.9", "-server", "ns1", "--yield-to=ns2"])).toMatchObject({ yieldTo: ["ns2"] });
        expect(() => parseIpmoveArgs(["-ip", "203.0.113.9", "-server", "ns1", "-yield-to", "ns2;reboot"])).toThrow(/-yield-to takes instance or server names/);
        expect(parseIpmoveArgs(["-h"])).toBeUndefined();
        expect(parseIpmoveArgs(["-help"])).toBeUndefined();
    });

    it.each([
        [["-ip", "203.0.113.9", "-server", "ns1", "--verbose"], "unknown option --verbose"],
        [["-ip", "203.0.113.9", "-server", "ns1", "-x"], "unknown option -x"],
        [["-ip=", "-server", "ns1"], "-ip needs a value"],
        [["-ip", "203.0.113.9", "-server", "ns1", "-help=1"], "-help takes no value"],
    ])("%j is a usage error", (argv, message) => {
        expect(() => parseIpmoveArgs(argv)).toThrow(UsageError);
        expect(() => parseIpmoveArgs(argv)).toThrow(message);
    });
});

describe("pr-comment", () => {
    it.each([
        [["d", "--base"], /^--base needs a value\nusage:/],
        [["d", "--run-url"], /^--run-url needs a value\nusage:/],
        [["d", "--nope"], /^unknown option --nope\nusage:/],
        [["a", "b"], /^one plans directory \(got a and b\)\nusage:/],
        [["d", "--limit", "12"], /^--limit needs a whole number of characters, at least 1000/],
    ])("%j is a usage error", (argv, message) => {
        expect(() => parseCommentArgs(argv)).toThrow(message);
    });

    it("takes --flag=value too, and the run URL from GitHub's variables unless given", () => {
        const env = { GITHUB_SERVER_URL: "https://github.com", GITHUB_REPOSITORY: "o/r", GITHUB_RUN_ID: "7" };
        expect(parseCommentArgs(["d", "--base=origin/main"], env)).toMatchObject({ dir: "d", ctx: { base: "origin/main", runUrl: "https://github.com/o/r/actions/runs/7" } });
        expect(parseCommentArgs(["d", "--run-url", "u"], env).ctx.runUrl).toBe("u");
    });

    it("exits 2 on a usage error", () => {
        const r = runTool("pr-comment.ts", ["--limit"]);
        expect(r.status).toBe(2);
        expect(r.stderr).toMatch(/^--limit needs a value\nusage: npx tsx bin\/pr-comment.ts/);
    });
});

describe("check-gateways", () => {
    it("reads the stack and --textfile in both spellings", () => {
        expect(parseCheckArgs(["reverse-proxy"])).toEqual({ stack: "reverse-proxy", textfile: undefined });
        expect(parseCheckArgs(["--textfile", "/t/x.prom", "reverse-proxy"])).toEqual({ stack: "reverse-proxy", textfile: "/t/x.prom" });
        expect(parseCheckArgs(["reverse-proxy", "--textfile=/t/x.prom"])).toEqual({ stack: "reverse-proxy", textfile: "/t/x.prom" });
    });

    it.each([[[]], [["reverse-proxy", "--textfile"]], [["a", "b"]], [["reverse-proxy", "--textfile="]], [["reverse-proxy", "--nope"]]])("%j is a usage error", (argv) => {
        expect(() => parseCheckArgs(argv)).toThrow(UsageError);
    });

    it("prints the usage line and exits 2", () => {
        const r = runTool("check-gateways.ts", ["reverse-proxy", "--textfile"]);
        expect(r.status).toBe(2);
        expect(r.stderr).toBe("usage: ovh-failover check-gateways <stack> [--textfile <file.prom>]\n");
    });
});

describe("no hand-written argument loop is left in bin/", () => {
    it("reads process.argv only to hand it to a parser built on util.parseArgs", async () => {
        const fs = await import("fs");
        for (const file of ["plan.ts", "ovh-ipmove.ts", "pr-comment.ts", "check-gateways.ts", "drift.ts"]) {
            const text = fs.readFileSync(path.join(root, "bin", file), "utf8");
            expect({ file, loops: /for \(let i = 0; i < argv\.length/.test(text) }).toEqual({ file, loops: false });
            expect({ file, parser: /parseCommandLine\(/.test(text) }).toEqual({ file, parser: true });
        }
    });
});
