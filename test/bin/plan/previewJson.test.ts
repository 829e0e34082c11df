// The plan's --json against pulumi/pulumi's rules for what `pulumi preview --json` lists
// (pkg/backend/display/display.go, shouldShow; json.go): an unchanged resource only with
// --show-sames or when its protect changed, and the update after an import counted too.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { describe, expect, it } from "vitest";
import { diffEvaluations, summarize } from "../../../bin/plan/diff";
import { DeclaredResource, Evaluation } from "../../../bin/plan/model";
import { renderJson, rootStack } from "../../../bin/plan/render";
import { goJson, parseStackFile, ProjectFile } from "../../../bin/plan/stackFiles";

const root = rootStack("dev", "demo", true);

function record(name: string, ttl: number, protect = false): DeclaredResource {
    return {
        urn: `urn:pulumi:dev::demo::ovh:Domain/zoneRecord:ZoneRecord::${name}`, type: "ovh:Domain/zoneRecord:ZoneRecord", name, custom: true, protect,
        retainOnDelete: false, ignoreChanges: [], replaceOnChanges: [], dependencies: [], propertyDependencies: {}, additionalSecretOutputs: [],
        inputs: { zone: "example.org", subdomain: name, fieldtype: "A", target: "192.0.2.10", ttl },
        provider: { urn: "urn:pulumi:dev::demo::pulumi:providers:ovh::default_2_19_1", default: true },
    };
}

function listed(before: Evaluation, after: Evaluation, showSames: boolean): string[] {
    const steps = diffEvaluations(before, after);
    const doc = JSON.parse(renderJson(steps, summarize(steps), [], root, false, { config: {}, durationNs: 1, showSames })) as { steps: { op: string; urn: string }[] };
    return doc.steps.map((s) => `${s.op} ${s.urn.split("::").pop()}`);
}

describe("what the plan's --json lists, as pulumi preview --json does", () => {
    const before: Evaluation = { resources: [record("a", 300), record("b", 300), record("c", 300)], invokes: [] };
    const after: Evaluation = { resources: [record("a", 300), record("b", 300, true), record("c", 600)], invokes: [] };

    it("lists an unchanged resource whose protect changed, and no other", () => {
        expect(listed(before, after, false)).toEqual(["same demo-dev", "same b", "update c"]);
    });

    it("lists every unchanged resource with --show-sames", () => {
        expect(listed(before, after, true)).toEqual(["same demo-dev", "same a", "same b", "update c"]);
    });

    it("counts the update that follows an import besides the import", () => {
        const imported: DeclaredResource = { ...record("d", 600), importId: "5000000001.example.org" };
        const steps = diffEvaluations({ resources: [], invokes: [] }, { resources: [imported], invokes: [] }, {
            version: 1,
            resources: { d: { type: "ovh:Domain/zoneRecord:ZoneRecord", id: "5000000001.example.org", live: { zone: "example.org", subdomain: "d", fieldtype: "A", target: "192.0.2.10", ttl: 3600 } } },
            observed: {},
        } as never);
        const doc = JSON.parse(renderJson(steps, summarize(steps), [], rootStack("dev", "demo", false), false, { config: {}, durationNs: 1 })) as {
            steps: { op: string; oldState?: { id?: string; outputs?: Record<string, unknown> }; detailedDiff: Record<string, { inputDiff: boolean }> | null }[];
            changeSummary: Record<string, number>;
        };
        expect(doc.steps.map((s) => s.op)).toEqual(["create", "import", "update"]);
        expect(doc.changeSummary).toEqual({ create: 1, import: 1, update: 1 });
        const update = doc.steps[2];
        expect(update.oldState?.id).toBe("5000000001");
        expect(update.oldState?.outputs?.ttl).toBe(3600);
        expect(update.detailedDiff).toEqual({ ttl: { kind: "update", inputDiff: false } });
    });
});

describe("the command line, which evaluates in its own process", () => {
    it("reads the project's adopt file, as a child evaluation does: what exists is imported", () => {
        const repo = path.resolve(__dirname, "../../..");
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ovhf-adopted-"));
        try {
            fs.copyFileSync(path.join(repo, "Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
            for (const f of ["package.json", "dist", "node_modules"]) fs.symlinkSync(path.join(repo, f), path.join(dir, f));
            fs.mkdirSync(path.join(dir, "stacks"));
            fs.copyFileSync(path.join(repo, "stacks", "Pulumi.reverse-proxy.yaml"), path.join(dir, "stacks", "Pulumi.reverse-proxy.yaml"));
            const adopt = ["version: 1", "resources:", "  proxy-dns-A-proxy1.example.org:", "    type: ovh:Domain/zoneRecord:ZoneRecord", "    id: 5000000001.example.org",
                "    live: { zone: example.org, subdomain: proxy1, fieldtype: A, target: 192.0.2.10, ttl: 300 }", "observed: {}", ""].join("\n");
            fs.writeFileSync(path.join(dir, "stacks", "reverse-proxy.adopt.yaml"), adopt);
            const r = spawnSync(process.execPath, ["--import", "tsx", path.join(repo, "bin", "ovh-failover.ts"), "plan", "reverse-proxy", "--json"], { cwd: dir, encoding: "utf8" });
            expect(r.status, r.stderr).toBe(0);
            const doc = JSON.parse(r.stdout) as { steps: { op: string; urn: string }[] };
            expect(doc.steps.filter((st) => st.op === "import").map((st) => st.urn.split("::").pop())).toEqual(["proxy-dns-A-proxy1.example.org"]);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});

describe("a structured config value as the CLI writes it (Go's encoding/json)", () => {
    it("sorts keys as strings and escapes <, > and &, as Go does", () => {
        // What Go's json.Marshal writes for map[string]interface{}{"9": 2, "10": 1, "b": "x&y<z>", "a": [...]}.
        expect(goJson({ "9": 2, "10": 1, b: "x&y<z>", a: [1, { c: true }] })).toBe('{"10":1,"9":2,"a":[1,{"c":true}],"b":"x\\u0026y\\u003cz\\u003e"}');
    });

    it("gives the program the stack file's values with their keys in that order, whatever the file's order", () => {
        const project = { name: "demo", main: ".", stackConfigDir: ".", declared: new Map() } as unknown as ProjectFile;
        const config = parseStackFile(project, "config:\n  demo:zones:\n    example.org: { a: [www] }\n    example.net: { a: [\"@\"] }\n", "Pulumi.dev.yaml");
        expect(config.get("demo:zones")?.text).toBe('{"example.net":{"a":["@"]},"example.org":{"a":["www"]}}');
    });
});
