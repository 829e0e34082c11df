// The gateway a bridged failover IP must use is a rule, not a guess (seed 000 tried .1 first).
// OVH routes a failover IP through the gateway of the server it is routed to; the API states it
// as routing.ipv4.gateway, and on OVH dedicated servers it is the .254 of the main IP's /24.
import * as ipaddr from "ipaddr.js";
import { inPrefix, Ipv6Prefix, ipv6Bits, ipv6FromBits, isLinkLocal, prefixText } from "../shared/ipv6";

/**
 * Where the gateway came from: the bridged rule (the API, the main IP's .254, the stack, the
 * probe), the host's routed bridge, or a vRack block's penultimate address.
 */
export type GatewaySource = "api" | "main-ip" | "config" | "probe" | "routed-bridge" | "vrack-block";

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

// IPv6. OVH's guide to IPv6 on dedicated servers (ovh/docs, pages/bare_metal_cloud/
// dedicated_servers/network_ipv6/guide.en-gb.md): the gateway of a /64 is "usually"
// xxxx:xxxx:xxxx:xxFF:FF:FF:FF:FF (2001:41D0:1:46e::/64 -> 2001:41D0:1:4FF:FF:FF:FF:FF), High
// Grade and Scale servers (a /56) use fe80::1 (the 2023-07 version), and since 2024 the guide
// says only "2607:5300:xxxx:ff:ff:ff:ff:ff or fe80::1" and sends the reader to
// GET /dedicated/server/{serviceName}/specifications/network for the safe answer. So: the API
// first; else a gateway written in the stack, which knows its range better than a rule; else the
// rule, for a /64 only.

/**
 * Where an IPv6 gateway came from. vrack-block: the first address of the vRack's IPv6 block
 * (network/blocks.ts); routed-bridge: the routed bridge's own IPv6 address (servers.<s>.routed.address6).
 */
export type Gateway6Source = "api" | "config" | "prefix" | "vrack-block" | "routed-bridge";

export interface Gateway6Facts {
    /** routing.ipv6.gateway from the OVH API, when known. */
    apiGateway?: string;
    prefix: Ipv6Prefix;
    /** servers.<name>.ipv6.gateway. */
    configured?: string;
}

export interface ResolvedGateway6 {
    gateway: string;
    source: Gateway6Source;
}

/**
 * OVH's classic rule for a dedicated server's /64: the prefix's first 56 bits, then ff, then
 * ff:ff:ff:ff as the interface id: 2001:db8:1:4662::/64 -> 2001:db8:1:46ff:ff:ff:ff:ff.
 */
export function ovhGateway6(prefix: Ipv6Prefix): string {
    if (prefix.length !== 64) {
        throw new GatewayRuleError(`OVH's gateway rule is for a /64; ${prefixText(prefix)} needs its gateway from the API or servers.<name>.ipv6.gateway (such as fe80::1)`);
    }
    const first56 = ipv6Bits(prefix.network) & ~((1n << 72n) - 1n);
    return ipv6FromBits(first56 | (0xffn << 64n) | 0x00ff00ff00ff00ffn);
}

export function resolveGateway6(facts: Gateway6Facts): ResolvedGateway6 {
    if (facts.apiGateway) return { gateway: facts.apiGateway, source: "api" };
    if (facts.configured) return { gateway: facts.configured, source: "config" };
    return { gateway: ovhGateway6(facts.prefix), source: "prefix" };
}

/**
 * True when the NIC needs an on-link route to its v6 gateway: a global gateway outside the NIC's
 * prefix. A link-local one (fe80::/10) is on the link by definition (RFC 4291 §2.5.6).
 */
export function needsOnLinkRoute6(prefix: Ipv6Prefix, gateway: string): boolean {
    return !isLinkLocal(gateway) && !inPrefix(gateway, prefix);
}
