// The ovh-failover command line as compiled (dist/bin/ovh-failover.js, what `npx ovh-failover`
// runs): every command's --help documents each flag it reads, --json leaves only JSON on stdout,
// and access-rules gives the edge nodes' OVH rules from the stack file alone.
import { spawnSync } from "child_process";
import * as path from "path";
import { describe, expect, it } from "vitest";
import { OPTIONS as PLAN_OPTIONS, plan } from "../../bin/plan";
import { ipmoveAccessRules } from "../../components/network/ipMove";

const root = path.resolve(__dirname, "../..");
const cli = (...args: string[]) => spawnSync(process.execPath, [path.join(root, "dist/bin/ovh-failover.js"), ...args], { cwd: root, encoding: "utf8" });

describe("ovh-failover", () => {
    it("lists its commands, and exits 2 without one", () => {
        const r = cli();
        expect(r.status).toBe(2);
        for (const c of ["plan", "adopt", "drift", "check-gateways", "access-rules"]) expect(r.stdout).toMatch(new RegExp(`^  ${c} `, "m"));
        expect(cli("--help").status).toBe(0);
        const unknown = cli("apply");
        expect(unknown.status).toBe(2);
        expect(unknown.stderr).toMatch(/^unknown command apply\n/);
        // The nearest command, when one is near enough to be what was meant.
        expect(cli("plna").stderr).toMatch(/^unknown command plna \(did you mean plan\?\)\n/);
        expect(cli("acces-rules").stderr).toMatch(/^unknown command acces-rules \(did you mean access-rules\?\)\n/);
    });

    it.each([
        ["plan", Object.keys(PLAN_OPTIONS)],
        ["adopt", ["state", "no-state", "output", "stack-file", "skip-hosts", "help"]],
        ["drift", ["outputs", "help"]],
        ["check-gateways", ["textfile", "help"]],
        ["access-rules", ["json", "stack-file", "help"]],
    ])("%s --help documents every flag it reads", (command, flags) => {
        const r = cli(command, "--help");
        expect(r.status).toBe(0);
        expect(r.stdout).toMatch(new RegExp(`^usage: ovh-failover ${command} `));
        for (const f of flags) expect(r.stdout, `--${f}`).toMatch(new RegExp(`^ +(-\\w, )?--${f}\\b`, "m"));
    });

    it.each([["plan", "reverse-proxy"], ["plan", "edge-pair"], ["access-rules", "edge-pair"]])("%s %s --json writes only JSON to stdout", (command, stack) => {
        const r = cli(command, stack, "--json");
        expect(r.status, r.stderr).toBe(0);
        expect(() => JSON.parse(r.stdout)).not.toThrow();
    });

    it.each(["reverse-proxy", "edge-pair", "new-container"])("plan %s in one process (the command line) says what a child evaluation says", async (stack) => {
        const here = cli("plan", stack, "--json");
        expect(here.status, here.stderr).toBe(0);
        const child = await plan(root, { stack, sets: [], json: true, showSame: false }, false);
        expect(child.exitCode).toBe(0);
        // Secrets' tokens are keyed per process: compare them by position only.
        const tokens = (s: string) => s.replace(/\[secret#[0-9a-f]{16}\]/g, "[secret#]").replace(/"duration": \d+/, '"duration": 0');
        expect(tokens(here.stdout)).toBe(tokens(child.output));
    });

    it("access-rules: each node's rules from the stack file, as ovh-ipmove needs them", () => {
        const r = cli("access-rules", "edge-pair", "--json");
        const rules = JSON.parse(r.stdout) as Record<string, Record<string, unknown>>;
        const move = { kind: "cloud", project: "0123456789abcdef0123456789abcdef", instance: "edge-sbg-1" } as const;
        expect(rules.edge["edge-sbg-1"]).toEqual(ipmoveAccessRules(move, "203.0.113.231"));
        expect(Object.keys(rules.edge)).toEqual(["edge-sbg-1", "edge-sbg-2"]);
        const text = cli("access-rules", "edge-pair");
        expect(text.stdout).toContain("edge pair edge, node edge-sbg-1:\n  GET    /cloud/project/0123456789abcdef0123456789abcdef/ip/failover\n");
    });

    it("access-rules on a stack without edge pairs says so", () => {
        const r = cli("access-rules", "reverse-proxy");
        expect(r.status).toBe(2);
        expect(r.stderr).toBe("error: stack reverse-proxy has no edge pairs (ovh-failover:edges), so no edge node needs a consumer key; the rules of the stack's own OVH credentials are in docs/ovh-credentials.md\n");
    });

    it("access-rules with a --stack-file that does not exist names the flag, not ENOENT", () => {
        const r = cli("access-rules", "edge-pair", "--stack-file", "no-such-stack.yaml");
        expect(r.status).toBe(2);
        expect(r.stderr).toBe(`error: --stack-file ${path.join(root, "no-such-stack.yaml")}: no such file; give the path of a Pulumi.<stack>.yaml file\n`);
    });
});
