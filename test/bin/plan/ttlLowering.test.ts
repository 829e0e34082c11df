// The first step of an IP change (ovh-failover change-ip): lowerTtl set on an endpoint lowers its
// records' TTL, proves the lowered TTL served, and records since when, after that proof; nothing
// else changes: not the reverse (its retry bound follows the configured TTL).
import * as path from "path";
import { describe, expect, it } from "vitest";
import { plan } from "../../../bin/plan";

const root = path.resolve(__dirname, "../../..");

describe("lowerTtl on an endpoint", () => {
    it("updates exactly its records' TTL and creates the lowering after them", async () => {
        const r = await plan(root, { stack: "reverse-proxy", sets: ["endpoints.proxy.lowerTtl=60"], json: false, showSame: false }, false);
        expect(r.exitCode, r.message).toBe(0);
        const changed = r.steps.filter((s) => s.op !== "same");
        const records = changed.filter((s) => s.type === "ovh:Domain/zoneRecord:ZoneRecord");
        expect(records.length).toBeGreaterThan(0);
        for (const s of records) expect(s, s.name).toMatchObject({ op: "update", diffs: ["ttl"] });
        expect(records.map((s) => s.new!.inputs.ttl)).toEqual(records.map(() => 60));
        const others = changed.filter((s) => s.type !== "ovh:Domain/zoneRecord:ZoneRecord");
        expect(others.map((s) => `${s.op} ${s.name}`).sort()).toEqual(["create proxy-dns-ttl-lowering", "update proxy-dns-serves.example.net", "update proxy-dns-serves.example.org"]);
        // The proofs ask for the lowered TTL of the address records, and the lowering waits for them.
        const proof = others.find((s) => s.name === "proxy-dns-serves.example.org")!;
        expect(proof.new!.inputs.expected).toEqual(expect.arrayContaining([{ name: "proxy1.example.org.", type: "A", values: ["192.0.2.10"], ttl: 60 }]));
        expect((proof.new!.inputs.expected as { type: string; ttl?: number }[]).filter((e) => e.type === "CNAME").every((e) => e.ttl === undefined)).toBe(true);
        const lowering = others.find((s) => s.name === "proxy-dns-ttl-lowering")!;
        expect(lowering.new!.dependencies).toContain(proof.urn);
        expect(lowering.new!.inputs).toMatchObject({ fromTtl: 300, toTtl: 60 });
        const named = (i: Record<string, unknown>) => `${i.subdomain === "" ? "" : `${String(i.subdomain)}.`}${String(i.zone)}. ${String(i.fieldtype)}`;
        expect([...(lowering.new!.inputs.records as string[])].sort()).toEqual(records.map((s) => named(s.new!.inputs)).sort());
        for (const s of records) expect(lowering.new!.dependencies).toContain(s.urn);
    });

    it("refuses a lowered TTL that is not below the records' TTL, naming the key", async () => {
        const r = await plan(root, { stack: "reverse-proxy", sets: ["endpoints.proxy.lowerTtl=300"], json: false, showSame: false }, false);
        expect(r.exitCode).not.toBe(0);
        expect(r.message ?? r.output).toContain("endpoints.proxy.lowerTtl");
        expect(r.message ?? r.output).toContain("below the records' TTL (300)");
    });
});
