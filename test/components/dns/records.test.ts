import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { APEX, canonicalName, EndpointNames, findRecordConflicts, fqdn, parseRecordName, planRecords, recordName, servedByZone, unsaidCnameTargets } from "../../../components/dns/records";
import { recordResourceName } from "../../../components/dns/serviceRecords";

const proxy = {
    endpoint: "proxy",
    cnameTarget: "proxy1.example.org.",
    zones: [
        { zone: "example.org", a: ["proxy1"], cname: ["world", "api"] },
        { zone: "example.net", a: [""], cname: ["www"] },
    ],
};

describe("record plan", () => {
    it("gives A records the IP and points every CNAME at the canonical FQDN with its dot", () => {
        expect(planRecords(proxy, "192.0.2.10", 300)).toEqual([
            { zone: "example.org", subdomain: "proxy1", fieldtype: "A", target: "192.0.2.10", ttl: 300 },
            { zone: "example.org", subdomain: "world", fieldtype: "CNAME", target: "proxy1.example.org.", ttl: 300 },
            { zone: "example.org", subdomain: "api", fieldtype: "CNAME", target: "proxy1.example.org.", ttl: 300 },
            { zone: "example.net", subdomain: "", fieldtype: "A", target: "192.0.2.10", ttl: 300 },
            { zone: "example.net", subdomain: "www", fieldtype: "CNAME", target: "proxy1.example.org.", ttl: 300 },
        ]);
    });

    it("gives the canonical names AAAA records when there is an IPv6 address, the aliases nothing more", () => {
        const records = planRecords(proxy, "192.0.2.10", 300, "2001:db8:1:4662::10");
        expect(records.filter((r) => r.fieldtype === "AAAA")).toEqual([
            { zone: "example.org", subdomain: "proxy1", fieldtype: "AAAA", target: "2001:db8:1:4662::10", ttl: 300 },
            { zone: "example.net", subdomain: "", fieldtype: "AAAA", target: "2001:db8:1:4662::10", ttl: 300 },
        ]);
        expect(records.filter((r) => r.fieldtype !== "AAAA")).toEqual(planRecords(proxy, "192.0.2.10", 300));
    });

    it("keeps every CNAME independent of the IP", () => {
        const a = planRecords(proxy, "192.0.2.10", 300).filter((r) => r.fieldtype === "CNAME");
        const b = planRecords(proxy, "203.0.113.77", 300, "2001:db8:2:100::10").filter((r) => r.fieldtype === "CNAME");
        expect(b).toEqual(a);
    });

    it("uses cnameTarget when given, the apex as canonical when it is the first A", () => {
        expect(canonicalName({ ...proxy, cnameTarget: "edge.example.com." })).toBe("edge.example.com.");
        expect(canonicalName({ endpoint: "x", zones: [{ zone: "example.net", a: [""], cname: [] }] })).toBe("example.net.");
        expect(canonicalName({ endpoint: "x", zones: [{ zone: "example.org", a: [], cname: ["www"] }, { zone: "example.net", a: ["", "www"], cname: [] }] })).toBe("example.net.");
    });

    it("asks a stack for cnameTarget when A names are in several zones: Pulumi hands the program the zones sorted, not in the file's order", () => {
        const unsaid = { endpoint: proxy.endpoint, zones: proxy.zones };
        expect(unsaidCnameTargets([proxy])).toEqual([]);
        expect(unsaidCnameTargets([unsaid])).toEqual([{
            key: "endpoints.proxy.cnameTarget",
            value: "(missing)",
            expected: expect.stringContaining("A names are in example.org and example.net"),
        }]);
        // A list given to the library keeps its order: the first zone's first A name.
        expect(canonicalName(unsaid)).toBe("proxy1.example.org.");
    });

    it("finds conflicts: apex CNAME, CNAME beside other data, duplicates, CNAMEs with no target", () => {
        const conflicts = findRecordConflicts([
            { endpoint: "a", zones: [{ zone: "example.org", a: ["www", "www"], cname: ["", "mail"] }] },
            { endpoint: "b", zones: [{ zone: "example.org", a: ["mail"], cname: [] }] },
            { endpoint: "c", zones: [{ zone: "example.com", a: [], cname: ["x"] }] },
        ]);
        const byKey = Object.fromEntries(conflicts.map((c) => [c.key, c.expected]));
        expect(byKey['endpoints.a.records["example.org"].a[1]']).toMatch(/declared once/);
        expect(byKey['endpoints.a.records["example.org"].cname[0]']).toMatch(/zone apex/);
        expect(byKey['endpoints.b.records["example.org"].a[0]']).toMatch(/not also a CNAME/);
        expect(byKey["endpoints.c.records"]).toMatch(/at least one A name/);
        expect(conflicts).toHaveLength(4);
    });
});

describe("the apex, \"@\" or \"\"", () => {
    const label = fc.stringMatching(/^[a-z][a-z0-9-]{0,10}[a-z0-9]$/);
    const spelling = fc.constantFrom("@", "");
    /** An endpoint's names with the apex among its A names wherever `apex` is true, spelt as each spelling says. */
    const endpoint = fc.record({
        names: fc.uniqueArray(label, { minLength: 0, maxLength: 4 }),
        cnames: fc.uniqueArray(label.map((l) => `c${l}`), { maxLength: 3 }),
        apexAt: fc.nat({ max: 4 }),
        spellings: fc.array(spelling, { minLength: 2, maxLength: 2 }),
    });
    const build = (e: { names: string[]; cnames: string[]; apexAt: number }, apex: string): EndpointNames => {
        const a = [...e.names];
        a.splice(Math.min(e.apexAt, a.length), 0, apex);
        return { endpoint: "web", zones: [{ zone: "example.org", a: a.map((n) => parseRecordName(n, "example.org")), cname: e.cnames }] };
    };

    it("is read as APEX by parseRecordName and recordName, and fqdn gives the zone's name", () => {
        for (const s of ["@", ""]) {
            expect(parseRecordName(s, "example.org")).toBe(APEX);
            expect(recordName(s)).toBe(APEX);
            expect(fqdn(s, "example.org")).toBe("example.org.");
            expect(recordResourceName("web-dns", { fieldtype: "A", subdomain: s, zone: "example.org" })).toBe("web-dns-A-apex.example.org");
        }
    });

    it("gives the same records, conflicts, canonical name and resource names whichever way it is spelt", () => {
        fc.assert(fc.property(endpoint, (e) => {
            const [x, y] = [build(e, e.spellings[0]), build(e, e.spellings[1])];
            expect(planRecords(x, "192.0.2.10", 300, "2001:db8::10")).toEqual(planRecords(y, "192.0.2.10", 300, "2001:db8::10"));
            expect(findRecordConflicts([x])).toEqual(findRecordConflicts([y]));
            expect(canonicalName(x)).toEqual(canonicalName(y));
            const names = (n: EndpointNames) => planRecords(n, "192.0.2.10", 300).map((r) => recordResourceName("web-dns", r));
            expect(names(x)).toEqual(names(y));
            for (const r of planRecords(x, "192.0.2.10", 300)) expect(r.subdomain === "@" || r.target.startsWith("@")).toBe(false);
        }));
    });

    it("the raw \"@\" reaches no record either, when planned without parsing", () => {
        fc.assert(fc.property(endpoint, (e) => {
            const raw: EndpointNames = { endpoint: "web", zones: [{ zone: "example.org", a: ["@", ...e.names], cname: e.cnames }] };
            expect(canonicalName(raw)).toBe("example.org.");
            expect(findRecordConflicts([raw])).toEqual(findRecordConflicts([{ ...raw, zones: [{ ...raw.zones[0], a: ["", ...e.names] }] }]));
        }));
    });
});

describe("what each zone must serve", () => {
    it("is every name and type of the zone's records, with their values, zone by zone", () => {
        const names: EndpointNames = {
            endpoint: "proxy",
            zones: [
                { zone: "example.org", a: ["", "proxy1"], cname: ["www"] },
                { zone: "example.net", a: [], cname: ["shop"] },
            ],
        };
        const served = servedByZone(planRecords(names, "192.0.2.10", 300, "2001:db8::10"));
        expect([...served.keys()]).toEqual(["example.org", "example.net"]);
        expect(served.get("example.org")).toEqual([
            { name: "example.org.", type: "A", values: ["192.0.2.10"] },
            { name: "proxy1.example.org.", type: "A", values: ["192.0.2.10"] },
            { name: "example.org.", type: "AAAA", values: ["2001:db8::10"] },
            { name: "proxy1.example.org.", type: "AAAA", values: ["2001:db8::10"] },
            { name: "www.example.org.", type: "CNAME", values: ["example.org."] },
        ]);
        // A CNAME in another zone than its target: that zone serves the CNAME, not the address.
        expect(served.get("example.net")).toEqual([{ name: "shop.example.net.", type: "CNAME", values: ["example.org."] }]);
    });

    it("asks each name and type once, whatever the records repeat", () => {
        fc.assert(fc.property(fc.array(fc.constantFrom("a", "b", "c"), { maxLength: 6 }), (subs) => {
            const records = subs.map((subdomain) => ({ zone: "example.org", subdomain, fieldtype: "A" as const, target: "192.0.2.10", ttl: 300 }));
            const served = servedByZone(records).get("example.org") ?? [];
            expect(served.map((s) => s.name)).toEqual([...new Set(subs)].map((s) => `${s}.example.org.`));
            for (const s of served) expect(s.values).toEqual(["192.0.2.10"]);
        }));
    });
});
