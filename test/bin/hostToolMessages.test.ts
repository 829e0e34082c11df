// What drift, adopt and check-gateways say when their input is wrong: the flag and the file, a
// stack with nothing they cover, a textfile folder that is not there, an SSH failure that is not a
// dead gateway.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { pathToFileURL } from "url";
import { afterAll, describe, expect, it } from "vitest";
import { readStateFile } from "../../bin/adopt";
import { EndpointVerdict, renderMetrics } from "../../bin/check-gateways";
import { readOutputsFile } from "../../bin/drift";
import { stackSpec } from "../../bin/hostShell";
import { loadProject, loadStackConfig } from "../../bin/plan/stackFiles";
import { parseAdoptFile } from "../../components/config/adoptFile";

const root = path.resolve(__dirname, "../..");
const work = fs.mkdtempSync(path.join(os.tmpdir(), "ovh-failover-messages-"));
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));
const file = (name: string, text: string) => {
    const p = path.join(work, name);
    fs.writeFileSync(p, text);
    return p;
};

function runTool(script: string, args: string[], env: Record<string, string> = {}, cwd = root): { status: number | null; stdout: string; stderr: string } {
    // tsx by its file: from another project's folder, the bare name would not resolve.
    const tsx = pathToFileURL(path.join(root, "node_modules", "tsx", "dist", "loader.mjs")).href;
    const r = spawnSync(process.execPath, ["--import", tsx, path.join(root, "bin", script), ...args], { cwd, encoding: "utf8", env: { ...process.env, ...env } });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("a file named by a flag", () => {
    it("--outputs: a missing file, a folder, not JSON, not outputs: the flag, the file, and how it is made", () => {
        const missing = path.join(work, "none.json");
        expect(() => readOutputsFile(missing)).toThrow(`--outputs ${missing}: no such file; write it with pulumi stack output --json --show-secrets=false > <file>`);
        expect(() => readOutputsFile(work)).toThrow(`--outputs ${work}: a folder, not a file;`);
        const notJson = file("outputs.txt", "proxy: s3cret\n");
        expect(() => readOutputsFile(notJson)).toThrow(`--outputs ${notJson}: not JSON; write it with pulumi stack output --json`);
        expect(() => readOutputsFile(notJson)).not.toThrow(/s3cret/);
        const list = file("list.json", "[1]");
        expect(() => readOutputsFile(list)).toThrow(`--outputs ${list}: not the stack's outputs`);
        expect(readOutputsFile(file("ok.json", '{"endpoints":{"proxy":{"gateway":"198.51.100.254"}}}'))).toEqual({ endpoints: { proxy: { gateway: "198.51.100.254" } } });
    });

    it("--state: a missing file, not JSON, not an export: the flag, the file, and --no-state", () => {
        const missing = path.join(work, "state.json");
        expect(() => readStateFile(missing)).toThrow(`--state ${missing}: no such file; write it with pulumi stack export > <file>, or give --no-state when the stack has none`);
        const notJson = file("state.txt", "{");
        expect(() => readStateFile(notJson)).toThrow(`--state ${notJson}: not JSON; `);
        const outputs = file("outputs.json", '{"endpoints":{}}');
        expect(() => readStateFile(outputs)).toThrow(`--state ${outputs}: not the output of pulumi stack export (no deployment.resources); write it with pulumi stack export`);
    });

    it("--stack-file: a missing file names the flag", () => {
        const missing = path.join(work, "Pulumi.none.yaml");
        expect(() => stackSpec(root, "x", missing)).toThrow(`--stack-file ${missing}: no such file`);
    });

    it("drift and adopt say it on stderr, exit 2, no stack trace", () => {
        const drift = runTool("drift.ts", ["reverse-proxy", "--outputs", path.join(work, "none.json")]);
        expect(drift.status).toBe(2);
        expect(drift.stderr).toBe(`error: --outputs ${path.join(work, "none.json")}: no such file; write it with pulumi stack output --json --show-secrets=false > <file>\n`);
        const adopt = runTool("adopt.ts", ["reverse-proxy", "--state", path.join(work, "none.json")], { OVH_ENDPOINT: "ovh-eu", OVH_APPLICATION_KEY: "a", OVH_APPLICATION_SECRET: "b", OVH_CONSUMER_KEY: "c" });
        expect(adopt.status).toBe(2);
        expect(adopt.stderr).toMatch(/^error: --state \S+none\.json: no such file; /);
        expect(adopt.stderr).not.toMatch(/\n\s+at /);
    });
});

describe("a YAML error", () => {
    it("names the stack file it is in", () => {
        const dir = fs.mkdtempSync(path.join(work, "project-"));
        fs.copyFileSync(path.join(root, "Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
        fs.mkdirSync(path.join(dir, "stacks"));
        fs.writeFileSync(path.join(dir, "stacks", "Pulumi.broken.yaml"), "config:\n  ovh-failover:servers:\n    a: [b\n");
        const project = loadProject(dir);
        expect(() => loadStackConfig(dir, project, "broken")).toThrow(`${path.join(dir, "stacks", "Pulumi.broken.yaml")}: not valid YAML: `);
        const given = file("Pulumi.given.yaml", "config: [\n");
        expect(() => stackSpec(root, "given", given)).toThrow(`${given}: not valid YAML: `);
    });

    it("names the adopt file when that is the one", () => {
        expect(() => parseAdoptFile("version: 1\nresources: {a: [\n", "stacks/x.adopt.yaml")).toThrow(/^stacks\/x\.adopt\.yaml: not valid YAML: .*\(write it again with ovh-failover adopt\)$/s);
    });

    it("names Pulumi.yaml when that is the one", () => {
        expect(() => loadProject(work, "name: [x\n")).toThrow(`${path.join(work, "Pulumi.yaml")}: not valid YAML: `);
    });
});

describe("a stack of edge pairs only", () => {
    it("drift, adopt and check-gateways say what they cover and that the stack has none, not servers: (missing)", () => {
        expect(() => stackSpec(root, "edge-pair")).toThrow("stack edge-pair declares only edge pairs (edges.edge), no servers and no endpoints: this command covers endpoints");
        for (const [tool, args] of [["drift.ts", []], ["check-gateways.ts", []], ["adopt.ts", ["--no-state"]]] as const) {
            const r = runTool(tool, ["edge-pair", ...args]);
            expect({ tool, status: r.status }).toEqual({ tool, status: 2 });
            expect(r.stderr).toContain("declares only edge pairs (edges.edge), no servers and no endpoints");
            expect(r.stderr).not.toContain("(missing)");
        }
    });
});

describe("check-gateways", () => {
    const verdict = (over: Partial<EndpointVerdict>): EndpointVerdict => ({ endpoint: "proxy", vmid: 101, nic: "net1", gateway: "198.51.100.254", up: true, checked: true, seen: "", ...over });

    it("writes no gateway_up sample for an endpoint it could not check: 0 there is the dead-gateway alert", () => {
        const text = renderMetrics("s", [verdict({ checked: false, up: false, gateway: "", seen: "ssh exited 255" }), verdict({ endpoint: "web", up: false, gateway6: "fe80::1", up6: false })]);
        const samples = text.split("\n").filter((l) => l && !l.startsWith("#"));
        expect(samples).toEqual([
            'ovh_failover_gateway_up{stack="s",endpoint="web",container="101",nic="net1",gateway="198.51.100.254"} 0',
            'ovh_failover_gateway6_up{stack="s",endpoint="web",container="101",nic="net1",gateway="fe80::1"} 0',
            'ovh_failover_gateway_check_ok{stack="s",endpoint="proxy"} 0',
            'ovh_failover_gateway_check_ok{stack="s",endpoint="web"} 1',
        ]);
    });

    it("an SSH failure: check_ok 0 and no gateway_up, on stdout and in the textfile", () => {
        const prom = path.join(work, "gw.prom");
        const r = runTool("check-gateways.ts", ["reverse-proxy", "--textfile", prom], { OVH_FAILOVER_SSH: "false" });
        expect(r.status).toBe(2);
        expect(fs.readFileSync(prom, "utf8")).toBe(r.stdout);
        expect(r.stdout).toContain('ovh_failover_gateway_check_ok{stack="reverse-proxy",endpoint="proxy"} 0');
        expect(r.stdout).not.toMatch(/^ovh_failover_gateway6?_up/m);
    });

    it("--textfile into a missing folder: exit 2 with a message, before any probe, no stack trace", () => {
        const prom = path.join(work, "no-such-folder", "gw.prom");
        const r = runTool("check-gateways.ts", ["reverse-proxy", "--textfile", prom], { OVH_FAILOVER_SSH: "false" });
        expect(r.status).toBe(2);
        expect(r.stdout).toBe("");
        expect(r.stderr).toBe(`error: --textfile ${prom}: the folder ${path.dirname(prom)} does not exist; give a file in node_exporter's --collector.textfile.directory\n`);
    });
});

describe("check-gateways --textfile after a refusal", () => {
    // What the last good run left: the alert on gateway_up == 0 stays quiet while this is served.
    const previous = [
        "# TYPE ovh_failover_gateway_up gauge",
        'ovh_failover_gateway_up{stack="reverse-proxy",endpoint="proxy",container="101",nic="net1",gateway="198.51.100.254"} 1',
        'ovh_failover_gateway_check_ok{stack="reverse-proxy",endpoint="proxy"} 1',
        "",
    ].join("\n");
    const seeded = () => {
        const prom = path.join(fs.mkdtempSync(path.join(work, "textfile-")), "ovh_failover.prom");
        fs.writeFileSync(prom, previous);
        return prom;
    };
    /** The check marked failed and no gateway's verdict left, or no file at all: never the old up. */
    const expectNoStaleUp = (prom: string) => {
        if (!fs.existsSync(prom)) return;
        const text = fs.readFileSync(prom, "utf8");
        expect(text).not.toMatch(/^ovh_failover_gateway6?_up\{/m);
        expect(text).toMatch(/^ovh_failover_gateway_check_ok\{[^}]*\} 0$/m);
        expect(text).not.toMatch(/^ovh_failover_gateway_check_ok\{[^}]*\} 1$/m);
        expect(fs.readdirSync(path.dirname(prom)).filter((f) => f !== path.basename(prom))).toEqual([]);
    };

    it.each([
        ["an unknown option", (prom: string) => ["reverse-proxy", "--textfile", prom, "--nope"]],
        ["a second stack", (prom: string) => ["reverse-proxy", "other", "--textfile", prom]],
        ["no stack", (prom: string) => ["--textfile", prom]],
        ["an unknown stack", (prom: string) => ["no-such-stack", "--textfile", prom]],
        ["a stack of edge pairs only", (prom: string) => ["edge-pair", "--textfile", prom]],
    ])("%s: exit 2, the textfile says check_ok 0 and no gateway_up", (_what, args) => {
        const prom = seeded();
        const r = runTool("check-gateways.ts", args(prom), { OVH_FAILOVER_SSH: "false" });
        expect(r.status).toBe(2);
        expect(r.stderr).not.toMatch(/\n\s+at /);
        expect(fs.existsSync(prom)).toBe(true);
        expectNoStaleUp(prom);
    });

    it("an invalid stack file: exit 2, check_ok 0 with the stack's name, no gateway_up", () => {
        const dir = fs.mkdtempSync(path.join(work, "project-"));
        fs.copyFileSync(path.join(root, "Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
        fs.mkdirSync(path.join(dir, "stacks"));
        fs.writeFileSync(path.join(dir, "stacks", "Pulumi.broken.yaml"), "config:\n  ovh-failover:servers:\n    a: [b\n");
        const prom = seeded();
        const r = runTool("check-gateways.ts", ["broken", "--textfile", prom], { OVH_FAILOVER_SSH: "false" }, dir);
        expect(r.status).toBe(2);
        expect(r.stderr).toContain("not valid YAML");
        expectNoStaleUp(prom);
        expect(fs.readFileSync(prom, "utf8")).toContain('ovh_failover_gateway_check_ok{stack="broken",endpoint=""} 0');
    });

    it("a textfile that cannot be rewritten is removed, not left with its old up", () => {
        const prom = seeded();
        // The temporary file's name taken by a folder: the atomic write cannot happen.
        fs.mkdirSync(`${prom}.tmp`);
        const r = runTool("check-gateways.ts", ["reverse-proxy", "--textfile", prom], { OVH_FAILOVER_SSH: "false" });
        expect(r.status).toBe(2);
        expect(r.stderr).toContain(`--textfile ${prom}: cannot be written`);
        expect(fs.existsSync(prom)).toBe(false);
    });

    it("a stale build, refused before check-gateways loads: the textfile is still marked failed", () => {
        // A checkout of its own whose one source is newer than dist/: the dispatcher refuses it.
        const checkout = fs.mkdtempSync(path.join(work, "checkout-"));
        fs.copyFileSync(path.join(root, "package.json"), path.join(checkout, "package.json"));
        fs.mkdirSync(path.join(checkout, "bin"));
        fs.mkdirSync(path.join(checkout, "dist", "bin"), { recursive: true });
        for (const f of fs.readdirSync(path.join(root, "dist", "bin")).filter((n) => n.endsWith(".js"))) {
            fs.copyFileSync(path.join(root, "dist", "bin", f), path.join(checkout, "dist", "bin", f));
        }
        fs.copyFileSync(path.join(root, "bin", "freshBuild.ts"), path.join(checkout, "bin", "freshBuild.ts"));
        const later = new Date(Date.now() + 3600_000);
        fs.utimesSync(path.join(checkout, "bin", "freshBuild.ts"), later, later);
        const prom = seeded();
        const r = spawnSync(process.execPath, [path.join(checkout, "dist", "bin", "ovh-failover.js"), "check-gateways", "reverse-proxy", "--textfile", prom], { cwd: root, encoding: "utf8" });
        expect(r.status).toBe(2);
        expect(r.stderr).toMatch(/^error: dist\/bin\/freshBuild\.js is older than bin\/freshBuild\.ts: run `npm run build`/);
        expectNoStaleUp(prom);
        expect(fs.readFileSync(prom, "utf8")).toContain('ovh_failover_gateway_check_ok{stack="reverse-proxy",endpoint=""} 0');
    });
});
