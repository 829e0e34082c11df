import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { blockAddress, blockAddresses, blockContains, parseIpv4Block, regionsCompatible, vrackBridgedSubrange6, vrackGateway, vrackGateway6, vrackReserved } from "../../../components/network/blocks";
import { inPrefix, parseIpv6Prefix } from "../../../components/shared/ipv6";

const block = fc.tuple(fc.integer({ min: 24, max: 32 }), fc.integer({ min: 0, max: 255 })).map(([len, last]) => {
    const size = 2 ** (32 - len);
    return { network: `203.0.113.${last - (last % size)}`, prefixLength: len };
});

describe("IPv4 blocks", () => {
    it("contains exactly its own addresses, from the network address to the last", () => {
        fc.assert(fc.property(block, fc.integer({ min: 0, max: 255 }), (b, last) => {
            const ip = `203.0.113.${last}`;
            expect(blockContains(b, ip)).toBe(blockAddresses(b).includes(ip));
            expect(blockAddress(b, 0)).toBe(b.network);
            expect(blockAddress(b, -1)).toBe(blockAddresses(b).at(-1));
        }));
    });

    it("parses a block as OVH holds it, and refuses host bits with the block meant", () => {
        fc.assert(fc.property(block, (b) => {
            expect(parseIpv4Block(`${b.network}/${b.prefixLength}`)).toEqual(b);
        }));
        expect(() => parseIpv4Block("203.0.113.10/29")).toThrow(/203\.0\.113\.8\/29/);
        expect(() => parseIpv4Block("203.0.113.8/30", 29)).toThrow(/\/24 to \/29/);
        expect(() => parseIpv4Block("203.0.113.8")).toThrow();
        expect(() => parseIpv4Block("203.0.113.08/29")).toThrow();
    });

    it("reserves a vRack block's first, penultimate and last addresses; the penultimate is the gateway", () => {
        const b = parseIpv4Block("203.0.113.0/29", 29);
        expect(vrackGateway(b)).toBe("203.0.113.6");
        expect(vrackReserved(b).map((r) => r.address)).toEqual(["203.0.113.0", "203.0.113.6", "203.0.113.7"]);
        expect(blockAddresses(b).filter((a) => !vrackReserved(b).some((r) => r.address === a))).toEqual(["203.0.113.1", "203.0.113.2", "203.0.113.3", "203.0.113.4", "203.0.113.5"]);
    });

    it("keeps a block in its region, except among gra, rbx and sbg", () => {
        expect(regionsCompatible("eu-west-gra", "eu-west-sbg")).toBe(true);
        expect(regionsCompatible("eu-west-rbx", "eu-west-gra")).toBe(true);
        expect(regionsCompatible("eu-west-gra", "eu-west-par")).toBe(false);
        expect(regionsCompatible("ca-east-bhs", "eu-west-gra")).toBe(false);
        expect(regionsCompatible("ca-east-bhs", "ca-east-bhs")).toBe(true);
    });
});

describe("a vRack's Additional IPv6 block", () => {
    it("bridges its first /64 into the vRack, with the block's first address as gateway", () => {
        const block = parseIpv6Prefix("2001:db8:abcd:ef00::/56");
        expect(vrackBridgedSubrange6(block)).toEqual({ network: "2001:db8:abcd:ef00::", length: 64 });
        expect(vrackGateway6(block)).toBe("2001:db8:abcd:ef00::1");
        // The gateway is inside the bridged subrange, so that a guest reaches it on-link.
        expect(inPrefix(vrackGateway6(block), vrackBridgedSubrange6(block))).toBe(true);
        expect(inPrefix("2001:db8:abcd:ef01::1", vrackBridgedSubrange6(block))).toBe(false);
    });
});
