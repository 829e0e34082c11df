// The plan's --json against pulumi/pulumi's rules for what `pulumi preview --json` lists
// (pkg/backend/display/display.go, shouldShow; json.go): an unchanged resource only with
// --show-sames or when its protect changed, and the update after an import counted too.
import { describe, expect, it } from "vitest";
import { diffEvaluations, summarize } from "../../../bin/plan/diff";
import { DeclaredResource, Evaluation } from "../../../bin/plan/model";
import { renderJson, rootStack } from "../../../bin/plan/render";

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
