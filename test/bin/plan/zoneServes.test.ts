// Each endpoint's proof that DNS serves its records, as the program declares it: after the zone's
// records, before the reverse (OVH checks the name resolves to the IP); a change of its bound alone
// is no reason to prove again (the provider's diff answers no change: the step is same).
import * as path from "path";
import { describe, expect, it } from "vitest";
import { plan } from "../../../bin/plan";
import { Step } from "../../../bin/plan/model";

const root = path.resolve(__dirname, "../../..");
const byName = (steps: Step[], name: string) => steps.find((s) => s.name === name)!;

describe("the proof that DNS serves an endpoint's records", () => {
    it("comes after the zone's records and before the reverse", async () => {
        const r = await plan(root, { stack: "new-container", sets: [], json: false, showSame: false }, false);
        expect(r.exitCode, r.message).toBe(0);
        const proof = byName(r.steps, "off1-proxy-dns-serves.example.org");
        const records = r.steps.filter((s) => s.type === "ovh:Domain/zoneRecord:ZoneRecord");
        expect(records.length).toBeGreaterThan(0);
        for (const record of records) expect(proof.new!.dependencies).toContain(record.urn);
        expect(byName(r.steps, "off1-proxy-ip-reverse").new!.dependencies).toContain(proof.urn);
    });

    it("is not proven again for another bound alone; a bound of 0 declares none", async () => {
        const bound = await plan(root, { stack: "reverse-proxy", sets: ["dnsServesWithin=120"], json: false, showSame: true }, false);
        expect(bound.exitCode, bound.message).toBe(0);
        expect(bound.steps.filter((s) => s.op !== "same")).toEqual([]);
        expect(byName(bound.steps, "proxy-dns-serves.example.org").new!.inputs.withinSeconds).toBe(120);
        const none = await plan(root, { stack: "reverse-proxy", sets: ["dnsServesWithin=0"], json: false, showSame: false }, false);
        expect(none.steps.filter((s) => s.op !== "same").map((s) => `${s.op} ${s.name}`).sort()).toEqual(["delete proxy-dns-serves.example.net", "delete proxy-dns-serves.example.org"]);
    });
});
