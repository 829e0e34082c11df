// The gateway a bridged failover IP must use is a rule, not a guess (seed 000 tried .1 first).
// OVH routes a failover IP through the gateway of the server it is routed to; the API states it
// as routing.ipv4.gateway, and on OVH dedicated servers it is the .254 of the main IP's /24.
import * as ipaddr from "ipaddr.js";

export type GatewaySource = "api" | "main-ip" | "config";

export interface GatewayFacts {
    /** routing.ipv4.gateway from GET /dedicated/server/{sn}/specifications/network, when known. */
    apiGateway?: string;
    /** The server's main IPv4 address. */
    mainIp?: string;
    /** A gateway written in the stack file, for servers where neither of the above is known. */
    configured?: string;
}

export interface ResolvedGateway {
    gateway: string;
    source: GatewaySource;
}

export class GatewayRuleError extends Error {}

/** The .254 of the /24 an address belongs to: OVH's gateway rule for dedicated servers. */
export function dot254(mainIp: string): string {
    const octets = ipaddr.IPv4.parse(mainIp).octets;
    return `${octets[0]}.${octets[1]}.${octets[2]}.254`;
}

export function resolveGateway(facts: GatewayFacts): ResolvedGateway {
    if (facts.apiGateway) return { gateway: facts.apiGateway, source: "api" };
    if (facts.mainIp) return { gateway: dot254(facts.mainIp), source: "main-ip" };
    if (facts.configured) return { gateway: facts.configured, source: "config" };
    throw new GatewayRuleError(
        "no gateway can be derived: the server's routing.ipv4.gateway is unknown, no mainIp is given, and no gateway is configured",
    );
}

/** True when a gateway lies outside the address's own subnet, so the NIC needs an on-link route to it. */
export function needsOnLinkRoute(address: string, prefixLength: number, gateway: string): boolean {
    return !ipaddr.IPv4.parse(gateway).match(ipaddr.IPv4.parse(address), prefixLength);
}
