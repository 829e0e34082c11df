// The zone files the test name servers load (test/support/knot.ts): records as the OVH stand-in
// holds them become zone file lines, and nothing that could start another record gets in.
import { describe, expect, it } from "vitest";
import { renderZoneFile } from "./knot";

const opts = { serial: 2026120701, nameServers: ["dns28.ovh.net", "ns28.ovh.net."], defaultTtl: 3600 };

describe("renderZoneFile", () => {
    it("writes the SOA, the NS records, then each record: the apex as @, TTL 0 as the zone's default, targets as OVH holds them", () => {
        const text = renderZoneFile("example.org", [
            { fieldType: "A", subDomain: "www", target: "203.0.113.10", ttl: 300 },
            { fieldType: "AAAA", subDomain: "www", target: "2001:db8:1::10", ttl: 300 },
            { fieldType: "TXT", subDomain: "", target: '"v=spf1 ip4:203.0.113.10" " -all"', ttl: 0 },
            { fieldType: "CNAME", subDomain: "*.dev", target: "www.example.org.", ttl: 60 },
        ], opts);
        expect(text).toBe([
            "$ORIGIN example.org.",
            "$TTL 3600",
            "@ IN SOA dns28.ovh.net. tech.ovh.net. 2026120701 86400 3600 3600000 300",
            "@ IN NS dns28.ovh.net.",
            "@ IN NS ns28.ovh.net.",
            "www 300 IN A 203.0.113.10",
            "www 300 IN AAAA 2001:db8:1::10",
            '@ IN TXT "v=spf1 ip4:203.0.113.10" " -all"',
            "*.dev 60 IN CNAME www.example.org.",
            "",
        ].join("\n"));
    });

    it("refuses what would not be one record of the zone as OVH holds it", () => {
        const one = (r: Partial<{ fieldType: string; subDomain: string; target: string; ttl: number }>) => () =>
            renderZoneFile("example.org", [{ fieldType: "A", subDomain: "www", target: "203.0.113.10", ttl: 300, ...r }], opts);
        expect(one({ target: "203.0.113.10\nevil IN A 203.0.113.66" })).toThrow("a control character");
        expect(one({ fieldType: "TXT", target: '"a"\n"b"' })).toThrow("a control character");
        expect(one({ fieldType: "TXT", target: "v=spf1 -all" })).toThrow('not quoted as OVH stores it');
        expect(one({ target: "2001:db8::1" })).toThrow("not an IPv4 address");
        expect(one({ fieldType: "MX", target: "10 mx.example.org." })).toThrow("MX records are not rendered");
        expect(one({ subDomain: "www example" })).toThrow("is not a record name");
        expect(() => renderZoneFile("example.org", [], { ...opts, nameServers: [] })).toThrow("needs a name server");
    });
});
