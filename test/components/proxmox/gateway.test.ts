import { describe, expect, it } from "vitest";
import { dot254, GatewayRuleError, needsOnLinkRoute, needsOnLinkRoute6, ovhGateway6, resolveGateway, resolveGateway6 } from "../../../components/proxmox/gateway";
import { parseIpv6Prefix } from "../../../components/shared/ipv6";

describe("gateway rule", () => {
    it("takes routing.ipv4.gateway from the API first", () => {
        expect(resolveGateway({ apiGateway: "198.51.100.254", mainIp: "203.0.113.7", configured: "192.0.2.1" }))
            .toEqual({ gateway: "198.51.100.254", source: "api", probe: ["198.51.100.254"] });
    });

    it("falls back to the .254 of the main IP's /24, never .1", () => {
        const r = resolveGateway({ mainIp: "198.51.100.20" });
        expect(r).toEqual({ gateway: "198.51.100.254", source: "main-ip", probe: ["198.51.100.254"] });
        expect(r.gateway.endsWith(".1")).toBe(false);
    });

    it("uses the configured gateway only when nothing else is known", () => {
        expect(resolveGateway({ configured: "203.0.113.222" })).toEqual({ gateway: "203.0.113.222", source: "config", probe: ["203.0.113.222"] });
    });

    it("tries candidates in order when no rule applies, starting the NIC on the first", () => {
        expect(resolveGateway({ candidates: ["198.51.100.1", "198.51.100.254"] }))
            .toEqual({ gateway: "198.51.100.1", source: "probe", probe: ["198.51.100.1", "198.51.100.254"] });
        expect(resolveGateway({ mainIp: "198.51.100.20", candidates: ["198.51.100.1"] }).source).toBe("main-ip");
    });

    it("refuses to guess when nothing is known", () => {
        expect(() => resolveGateway({})).toThrow(GatewayRuleError);
        expect(() => resolveGateway({})).toThrow(/no gateway can be derived/);
    });

    it("computes .254 from any address of the /24", () => {
        expect(dot254("192.0.2.10")).toBe("192.0.2.254");
        expect(dot254("203.0.113.0")).toBe("203.0.113.254");
    });

    it("knows a /32 always needs an on-link route, a /24 containing the gateway does not", () => {
        expect(needsOnLinkRoute("192.0.2.10", 32, "198.51.100.254")).toBe(true);
        expect(needsOnLinkRoute("198.51.100.20", 24, "198.51.100.254")).toBe(false);
        expect(needsOnLinkRoute("203.0.113.215", 27, "203.0.113.222")).toBe(false);
        expect(needsOnLinkRoute("203.0.113.215", 27, "203.0.113.254")).toBe(true);
    });
});

describe("IPv6 gateway rule", () => {
    const prefix = parseIpv6Prefix("2001:db8:1:4662::/64");

    it("derives OVH's gateway of a /64: the first 56 bits, then ff, then ff:ff:ff:ff (OVH's IPv6 guide, and its own example)", () => {
        expect(ovhGateway6(prefix)).toBe("2001:db8:1:46ff:ff:ff:ff:ff");
        // The guide's: 2001:41D0:1:46e::/64 -> 2001:41D0:1:4FF:FF:FF:FF:FF.
        expect(ovhGateway6(parseIpv6Prefix("2001:41d0:1:46e::/64"))).toBe("2001:41d0:1:4ff:ff:ff:ff:ff");
        expect(resolveGateway6({ prefix })).toEqual({ gateway: "2001:db8:1:46ff:ff:ff:ff:ff", source: "prefix" });
    });

    it("takes routing.ipv6.gateway from the API first, fe80::1 included", () => {
        expect(resolveGateway6({ apiGateway: "fe80::1", prefix, configured: "2001:db8:1:46ff:ff:ff:ff:fe" })).toEqual({ gateway: "fe80::1", source: "api" });
    });

    it("prefers a gateway written in the stack to the rule, which newer ranges do not follow", () => {
        expect(resolveGateway6({ prefix, configured: "fe80::1" })).toEqual({ gateway: "fe80::1", source: "config" });
    });

    it("has no rule for a /56: the API or the stack must say", () => {
        const p56 = parseIpv6Prefix("2001:db8:1:4600::/56");
        expect(() => resolveGateway6({ prefix: p56 })).toThrow(GatewayRuleError);
        expect(resolveGateway6({ prefix: p56, configured: "fe80::1" }).gateway).toBe("fe80::1");
    });

    it("needs an on-link route to a global gateway outside the prefix, never to a link-local one", () => {
        expect(needsOnLinkRoute6(prefix, "2001:db8:1:46ff:ff:ff:ff:ff")).toBe(true);
        expect(needsOnLinkRoute6(prefix, "fe80::1")).toBe(false);
        expect(needsOnLinkRoute6(parseIpv6Prefix("2001:db8:1:46ff::/64"), "2001:db8:1:46ff:ff:ff:ff:ff")).toBe(false);
    });
});
