import { describe, expect, it } from "vitest";
import { canonicalIpv6, inPrefix, parseIpv6, parseIpv6Gateway, parseIpv6Prefix, prefixOf, resolveIpv6InPrefix } from "../../../components/shared/ipv6";

const P64 = parseIpv6Prefix("2001:db8:1:4662::/64");

describe("a server's IPv6 prefix", () => {
    it("is a global unicast network from /48 to /64, made canonical", () => {
        expect(P64).toEqual({ network: "2001:db8:1:4662::", length: 64 });
        expect(parseIpv6Prefix("2001:DB8:1:4662:0::/64")).toEqual(P64);
        expect(parseIpv6Prefix("2001:db8:1:4600::/56")).toEqual({ network: "2001:db8:1:4600::", length: 56 });
        for (const bad of ["2001:db8:1:4662::1/64", "2001:db8:1:4662::/72", "2001:db8:1:4662::/47", "2001:db8:1:4662::", "fe80::/64", "fd00::/64", "192.0.2.0/24", 64, "2001:db8:1:4662::/0640"]) {
            expect(() => parseIpv6Prefix(bad), String(bad)).toThrow();
        }
    });
});

describe("an endpoint's IPv6 address", () => {
    it("written relative to the prefix is completed by it, so a new prefix moves it", () => {
        expect(resolveIpv6InPrefix("::10", P64)).toBe("2001:db8:1:4662::10");
        expect(resolveIpv6InPrefix("::10", parseIpv6Prefix("2001:db8:2:100::/64"))).toBe("2001:db8:2:100::10");
        expect(resolveIpv6InPrefix("::a:0:0:10", P64)).toBe("2001:db8:1:4662:a::10");
    });

    it("written whole must be inside the prefix, and comes out canonical", () => {
        expect(resolveIpv6InPrefix("2001:DB8:1:4662:0:0:0:10", P64)).toBe("2001:db8:1:4662::10");
        expect(() => resolveIpv6InPrefix("2001:db8:1:4663::10", P64)).toThrow(/outside it/);
    });

    it("is never the subnet-router anycast address, nor a reserved subnet anycast id of a /64", () => {
        expect(() => resolveIpv6InPrefix("::", P64)).toThrow(/subnet-router anycast/);
        expect(() => resolveIpv6InPrefix("2001:db8:1:4662::", P64)).toThrow(/subnet-router anycast/);
        expect(() => resolveIpv6InPrefix("::fdff:ffff:ffff:ffff", P64)).toThrow(/RFC 2526/);
        expect(() => resolveIpv6InPrefix("::fdff:ffff:ffff:ff80", P64)).toThrow(/RFC 2526/);
        expect(resolveIpv6InPrefix("::fdff:ffff:ffff:ff7f", P64)).toBe("2001:db8:1:4662:fdff:ffff:ffff:ff7f");
        // Above the reserved range is an ordinary interface id.
        expect(resolveIpv6InPrefix("::fe00:0:0:1", P64)).toBe("2001:db8:1:4662:fe00::1");
    });

    it("refuses what is not an address: zones, IPv4, shell", () => {
        for (const bad of ["fe80::10%eth1", "::ffff:192.0.2.1", "::10;id", "", 10]) expect(() => resolveIpv6InPrefix(bad, P64), String(bad)).toThrow();
    });
});

describe("gateways and canonical forms", () => {
    it("a gateway is global unicast or link-local, written canonically", () => {
        expect(parseIpv6Gateway("fe80::1")).toBe("fe80::1");
        expect(parseIpv6Gateway("2001:db8:1:46ff:ff:ff:ff:ff")).toBe("2001:db8:1:46ff:ff:ff:ff:ff");
        expect(() => parseIpv6Gateway("ff02::2")).toThrow(/link-local/);
        expect(() => parseIpv6Gateway("::1")).toThrow();
        expect(parseIpv6("2001:DB8:0::1")).toBe("2001:db8::1");
        expect(parseIpv6Gateway("2001:41D0:1:4FF:FF:FF:FF:FF")).toBe("2001:41d0:1:4ff:ff:ff:ff:ff");
        expect(canonicalIpv6("2001:0DB8:0:0:1:0:0:1")).toBe("2001:db8::1:0:0:1");
    });

    it("prefix membership", () => {
        expect(inPrefix("2001:db8:1:4662:ffff::1", P64)).toBe(true);
        expect(inPrefix("2001:db8:1:46ff:ff:ff:ff:ff", P64)).toBe(false);
        expect(prefixOf("2001:db8:1:4662::10", 64)).toEqual(P64);
    });
});
