import { describe, expect, it } from "vitest";
import { dot254, GatewayRuleError, needsOnLinkRoute, resolveGateway } from "../../../components/proxmox/gateway";

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
