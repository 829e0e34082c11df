// The gateway a bridged failover IP must use is a rule, not a guess (seed 000 tried .1 first).
// OVH routes a failover IP through the gateway of the server it is routed to; the API states it
// as routing.ipv4.gateway, and on OVH dedicated servers it is the .254 of the main IP's /24.
import * as ipaddr from "ipaddr.js";

export type GatewaySource = "api" | "main-ip" | "config" | "probe";

export interface GatewayFacts {
    /** routing.ipv4.gateway from GET /dedicated/server/{sn}/specifications/network, when known. */
    apiGateway?: string;
    /** The server's main IPv4 address. */
    mainIp?: string;
    /** A gateway written in the stack file, for servers where neither of the above is known. */
    configured?: string;
    /** Gateways to try in order from inside the container when nothing above is known. */
    candidates?: string[];
}

export interface ResolvedGateway {
    /** The gateway the NIC is set with first. */
    gateway: string;
    source: GatewaySource;
    /** What the probe tries, in order: the gateway alone, or the candidates. */
    probe: string[];
}

export class GatewayRuleError extends Error {}

/** The .254 of the /24 an address belongs to: OVH's gateway rule for dedicated servers. */
export function dot254(mainIp: string): string {
    const octets = ipaddr.IPv4.parse(mainIp).octets;
    return `${octets[0]}.${octets[1]}.${octets[2]}.254`;
}

export function resolveGateway(facts: GatewayFacts): ResolvedGateway {
    const one = (gateway: string, source: GatewaySource): ResolvedGateway => ({ gateway, source, probe: [gateway] });
    if (facts.apiGateway) return one(facts.apiGateway, "api");
    if (facts.mainIp) return one(dot254(facts.mainIp), "main-ip");
    if (facts.configured) return one(facts.configured, "config");
    if (facts.candidates && facts.candidates.length > 0) {
        return { gateway: facts.candidates[0], source: "probe", probe: [...facts.candidates] };
    }
    throw new GatewayRuleError(
        "no gateway can be derived: the server's routing.ipv4.gateway is unknown, no mainIp is given, and neither gateway nor gatewayCandidates is configured",
    );
}

/** True when a gateway lies outside the address's own subnet, so the NIC needs an on-link route to it. */
export function needsOnLinkRoute(address: string, prefixLength: number, gateway: string): boolean {
    return !ipaddr.IPv4.parse(gateway).match(ipaddr.IPv4.parse(address), prefixLength);
}
