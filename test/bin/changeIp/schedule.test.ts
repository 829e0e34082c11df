import * as path from "path";
import { describe, expect, it } from "vitest";
import { changingEndpoints, remainingSteps, renderSchedule } from "../../../bin/changeIp/schedule";
import { stackSpec } from "../../../bin/hostShell";

const root = path.resolve(__dirname, "../../..");
const NOW = new Date("2026-12-08T10:00:00Z");

describe("which endpoints an IP change reaches", () => {
    it("is those whose A or AAAA records change target, with their TTL", () => {
        const before = stackSpec(root, "reverse-proxy");
        expect(changingEndpoints(before, stackSpec(root, "reverse-proxy", undefined, ["endpoints.proxy.ip=203.0.113.77"]))).toEqual([
            { endpoint: "proxy", records: ["example.net. A", "proxy1.example.org. A"], ttl: 300, lowerTtl: undefined },
        ]);
        // A new IPv6 prefix moves the AAAA records only.
        expect(changingEndpoints(before, stackSpec(root, "reverse-proxy", undefined, ["servers.ovh1.ipv6.prefix=2001:db8:2:100::/64"]))).toEqual([
            { endpoint: "proxy", records: ["example.net. AAAA", "proxy1.example.org. AAAA"], ttl: 300, lowerTtl: undefined },
        ]);
        // Another CNAME, or another TTL, moves no address: nothing to schedule.
        expect(changingEndpoints(before, stackSpec(root, "reverse-proxy", undefined, ["endpoints.proxy.ttl=600"]))).toEqual([]);
    });
});

describe("what is left of an IP change", () => {
    const changing = [{ endpoint: "proxy", records: ["proxy1.example.org. A"], ttl: 300 }];

    it("from the start: lower, wait one old TTL, change, restore", () => {
        expect(remainingSteps(changing, {}, 60, NOW)).toEqual([
            { step: "lower", endpoints: ["proxy"], ttl: { proxy: 60 } },
            { step: "wait", until: "2026-12-08T10:05:00.000Z" },
            { step: "change" },
            { step: "restore", endpoints: ["proxy"] },
        ]);
    });

    it("resumed after the lowering: waits only what the state says is left, or not at all", () => {
        const lowering = { loweredAt: "2026-12-08T09:58:00.000Z", safeAt: "2026-12-08T10:03:00.000Z", fromTtl: 300, toTtl: 60 };
        expect(remainingSteps(changing, { proxy: lowering }, 60, NOW)).toEqual([{ step: "wait", until: "2026-12-08T10:03:00.000Z" }, { step: "change" }, { step: "restore", endpoints: ["proxy"] }]);
        expect(remainingSteps(changing, { proxy: lowering }, 60, new Date("2026-12-08T10:04:00Z"))).toEqual([{ step: "change" }, { step: "restore", endpoints: ["proxy"] }]);
    });

    it("resumed after the change: only the restore; nothing when nothing is lowered", () => {
        expect(remainingSteps([], {}, 60, NOW, ["proxy"])).toEqual([{ step: "restore", endpoints: ["proxy"] }]);
        expect(remainingSteps([], {}, 60, NOW)).toEqual([]);
    });

    it("lowers nothing at OVH's lowest TTL already, and refuses the zone's default TTL, which no wait can be computed from", () => {
        const fast = [{ endpoint: "fast", records: ["a.example.org. A"], ttl: 60 }];
        expect(remainingSteps(fast, {}, 60, NOW)).toEqual([{ step: "change" }]);
        expect(() => remainingSteps([{ endpoint: "zone", records: ["a.example.org. A"], ttl: 0 }], {}, 60, NOW)).toThrow(/endpoints\.zone: the records' TTL is the zone's default \(ttl 0\)/);
    });

    it("waits for the later of two endpoints, and restores both", () => {
        const two = [...changing, { endpoint: "web", records: ["web.example.org. A"], ttl: 3600 }];
        expect(remainingSteps(two, {}, 60, NOW)).toEqual([
            { step: "lower", endpoints: ["proxy", "web"], ttl: { proxy: 60, web: 60 } },
            { step: "wait", until: "2026-12-08T11:00:00.000Z" },
            { step: "change" },
            { step: "restore", endpoints: ["proxy", "web"] },
        ]);
    });

    it("never lowers to the records' own TTL or above", () => {
        expect(remainingSteps([{ endpoint: "slow", records: ["a.example.org. A"], ttl: 61 }], {}, 600, NOW)[0]).toEqual({ step: "lower", endpoints: ["slow"], ttl: { slow: 60 } });
    });

    it("prints the schedule --dry-run shows", () => {
        const text = renderSchedule(changing, remainingSteps(changing, {}, 60, NOW), ["endpoints.proxy.ip=203.0.113.77"]);
        expect(text).toBe([
            "records whose address changes:",
            "  proxy: proxy1.example.org. A (TTL 300 s)",
            "steps:",
            "  1. lower: set endpoints.proxy.lowerTtl=60, pulumi up",
            "  2. wait until 2026-12-08T10:05:00.000Z (one old TTL after the lowered records were applied; a run stopped here resumes here)",
            "  3. change: set endpoints.proxy.ip=203.0.113.77, pulumi up (each zone's name servers proven to serve the new records)",
            "  4. restore: remove endpoints.proxy.lowerTtl, pulumi up",
            "",
        ].join("\n"));
    });
});
