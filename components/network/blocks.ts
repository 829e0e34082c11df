// IPv4 blocks as OVH routes them: pure rules, no API. A block is routed as a whole, to a server or
// into a vRack; a lone additional IP is its own /32.
import * as ipaddr from "ipaddr.js";
import { Ipv6Prefix, ipv6Bits, ipv6FromBits } from "../shared/ipv6";
import { ConfigValueError, parseIpv4 } from "../shared/validate";

export interface Ipv4Block {
    /** The network address, written canonically. */
    network: string;
    prefixLength: number;
}

const toNumber = (ip: string): number => ipaddr.IPv4.parse(ip).toByteArray().reduce((n, byte) => n * 256 + byte, 0);
const fromNumber = (n: number): string => [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join(".");

export const blockText = (b: Ipv4Block): string => `${b.network}/${b.prefixLength}`;

/** The number of addresses in the block. */
export const blockSize = (b: Ipv4Block): number => 2 ** (32 - b.prefixLength);

/** The block's n-th address (0 is the network address); negative counts from its end (-1 is the last). */
export function blockAddress(b: Ipv4Block, n: number): string {
    const size = blockSize(b);
    return fromNumber(toNumber(b.network) + (n < 0 ? size + n : n));
}

export function blockContains(b: Ipv4Block, ip: string): boolean {
    const start = toNumber(b.network);
    const x = toNumber(ip);
    return x >= start && x < start + blockSize(b);
}

/** Every address of the block, in order (blocks of OVH are /32 to /24 or so: a short list). */
export function blockAddresses(b: Ipv4Block): string[] {
    return Array.from({ length: blockSize(b) }, (_, i) => blockAddress(b, i));
}

/**
 * A block written as its network address and length, such as 203.0.113.8/29: an address inside it
 * with host bits set (203.0.113.10/29) is refused, since OVH's /ip/{ip} routes take the block as
 * OVH holds it (ip.json, `ip: ipBlock`).
 */
export function parseIpv4Block(value: unknown, maxPrefix = 32): Ipv4Block {
    const expected = `an IPv4 block written as its network address and prefix length, /24 to /${maxPrefix}, such as 203.0.113.8/29`;
    if (typeof value !== "string" || !/^[0-9.]+\/\d{1,2}$/.test(value)) throw new ConfigValueError(expected);
    const [address, length] = value.split("/");
    try {
        parseIpv4(address);
    } catch {
        throw new ConfigValueError(expected);
    }
    const prefixLength = Number(length);
    if (prefixLength < 24 || prefixLength > maxPrefix) throw new ConfigValueError(expected);
    const size = 2 ** (32 - prefixLength);
    if (toNumber(address) % size !== 0) {
        const network = fromNumber(toNumber(address) - (toNumber(address) % size));
        throw new ConfigValueError(`${expected} (the block of ${address} is ${network}/${prefixLength})`);
    }
    return { network: address, prefixLength };
}

// A vRack block (ovh/docs pages/bare_metal_cloud/dedicated_servers/configuring-an-ip-block-in-a-vrack,
// 2025-06): "the first, penultimate, and last addresses in any given IP block are always reserved for
// the network address, network gateway, and network broadcast respectively", and the block "must have
// at least 2 usable IPs": a /29 at the smallest (a /30 leaves one).
export const VRACK_MAX_PREFIX = 29;

/** The gateway of a block in a vRack: its penultimate address. */
export const vrackGateway = (b: Ipv4Block): string => blockAddress(b, -2);

/** The addresses of a vRack block no guest may take: network, gateway, broadcast. */
export const vrackReserved = (b: Ipv4Block): { address: string; role: string }[] => [
    { address: blockAddress(b, 0), role: "the network address" },
    { address: vrackGateway(b), role: "the vRack gateway" },
    { address: blockAddress(b, -1), role: "the broadcast address" },
];

// The region codes of ip.json's coreTypes.RegionCodenameEnum (ip.Ip.regions, a server's region).
export const OVH_REGIONS = [
    "ap-south-mum", "ap-southeast-sgp", "ap-southeast-syd", "ca-east-bhs", "ca-east-tor", "eu-central-waw", "eu-west-eri",
    "eu-west-gra", "eu-west-lim", "eu-west-par", "eu-west-rbx", "eu-west-sbg", "us-east-vin", "us-west-hil",
] as const;
export type OvhRegion = (typeof OVH_REGIONS)[number];

export function parseOvhRegion(value: unknown): OvhRegion {
    if (typeof value !== "string" || !(OVH_REGIONS as readonly string[]).includes(value)) {
        throw new ConfigValueError(`an OVH region code: ${OVH_REGIONS.join(", ")}`);
    }
    return value as OvhRegion;
}

// ovh/docs pages/bare_metal_cloud/dedicated_servers/move-failover-ip (2024-12): blocks "can be moved
// from one datacenter to another within that region but cannot be moved outside of that region …
// Except for the 3 regions eu-west-gra, eu-west-rbx, and eu-west-sbg" (which move among themselves).
// The guide writes eu-central-war; the API's enum says eu-central-waw. OVH's own verdict at run time
// is GET /dedicated/server/{sn}/ipCanBeMovedTo?ip=<block>; this rule only explains a plan.
const FRENCH_TRIO: readonly string[] = ["eu-west-gra", "eu-west-rbx", "eu-west-sbg"];

/** Whether a block of one region may be routed to a server of another. */
export const regionsCompatible = (block: OvhRegion, server: OvhRegion): boolean =>
    block === server || (FRENCH_TRIO.includes(block) && FRENCH_TRIO.includes(server));

// An Additional IPv6 block in a vRack (ovh/docs pages/bare_metal_cloud/dedicated_servers/
// configure-an-ipv6-in-a-vrack, 2025-06): OVH gives a /56 and bridges its first /64 into the vRack,
// whose gateway is the block's first address ("The default gateway for the first /64 subnet
// (bridged one) is the first address from the /56 block"; it "must not be used for host
// addressing"). The other /64s are routed subranges, sent to a next hop the customer names: not
// what a container on the vRack bridge takes.
export const VRACK_BRIDGED_SUBRANGE_LENGTH = 64;

/** The bridged subrange of a vRack's IPv6 block: its first /64, where guests on the vRack bridge take addresses. */
export const vrackBridgedSubrange6 = (block: Ipv6Prefix): Ipv6Prefix => ({ network: block.network, length: VRACK_BRIDGED_SUBRANGE_LENGTH });

/** The IPv6 gateway of a vRack's bridged subrange: the block's first address (<block>::1). */
export const vrackGateway6 = (block: Ipv6Prefix): string => ipv6FromBits(ipv6Bits(block.network) + 1n);
