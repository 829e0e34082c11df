import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { lowered, loweringChanges, ttlLoweringProvider, TtlLoweringInputs } from "../../../components/dns/ttlLoweringProvider";
import { parseLoweredTtl } from "../../../components/shared/validate";

const INPUTS: TtlLoweringInputs = { records: ["www.example.org. A"], fromTtl: 3600, toTtl: 60 };

describe("a TTL lowering", () => {
    it("is safe one old TTL after it was applied", () => {
        const out = lowered(INPUTS, new Date("2026-12-08T10:00:00Z"));
        expect(out).toEqual({ ...INPUTS, loweredAt: "2026-12-08T10:00:00.000Z", safeAt: "2026-12-08T11:00:00.000Z" });
    });

    it("keeps when it was lowered across updates, and a higher TTL before pushes the safe time later, never earlier", () => {
        fc.assert(fc.property(fc.integer({ min: 61, max: 86400 }), fc.integer({ min: 61, max: 86400 }), fc.integer({ min: 0, max: 10_000_000 }), (first, second, later) => {
            const start = new Date("2026-12-08T10:00:00Z");
            const before = lowered({ ...INPUTS, fromTtl: first }, start);
            const after = lowered({ ...INPUTS, fromTtl: second, records: [...INPUTS.records, "www.example.org. AAAA"] }, new Date(start.getTime() + later), before);
            expect(after.loweredAt).toBe(before.loweredAt);
            expect(Date.parse(after.safeAt)).toBe(start.getTime() + Math.max(first, second) * 1000);
            expect(Date.parse(after.safeAt)).toBeGreaterThanOrEqual(Date.parse(before.safeAt));
        }));
    });

    it("updates on other records, another lowered TTL or a higher TTL before; a lower one changes nothing", async () => {
        const olds = lowered(INPUTS, new Date());
        expect(loweringChanges(olds, INPUTS)).toBe(false);
        expect(loweringChanges(olds, { ...INPUTS, records: ["api.example.org. A"] })).toBe(true);
        expect(loweringChanges(olds, { ...INPUTS, toTtl: 120 })).toBe(true);
        expect(loweringChanges(olds, { ...INPUTS, fromTtl: 7200 })).toBe(true);
        expect(loweringChanges(olds, { ...INPUTS, fromTtl: 300 })).toBe(false);
        // The provider answers with the same rule, and never replaces.
        expect(await ttlLoweringProvider.diff!("lowered", olds, { ...INPUTS, fromTtl: 300 })).toEqual({ changes: false, replaces: [], deleteBeforeReplace: false });
        expect(await ttlLoweringProvider.diff!("lowered", olds, { ...INPUTS, toTtl: 120 })).toEqual({ changes: true, replaces: [], deleteBeforeReplace: false });
    });

    it("lowers to 60 s at least, below the records' TTL, and never from the zone's default", () => {
        expect(parseLoweredTtl(60, 300)).toBe(60);
        expect(parseLoweredTtl("299", 300)).toBe(299);
        expect(() => parseLoweredTtl(300, 300)).toThrow(/from 60 to 299: below the records' TTL \(300\)/);
        expect(() => parseLoweredTtl(30, 300)).toThrow(/from 60 to 299/);
        expect(() => parseLoweredTtl(60, 0)).toThrow(/zone's default \(ttl 0, unknown here\)/);
    });
});
