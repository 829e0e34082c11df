// IPv6 addresses of a server's prefix: the prefix itself, an endpoint's address written whole or
// relative to it (`::10`), and the checks an address of a container must pass. Pure functions.
import * as ipaddr from "ipaddr.js";
import { ConfigValueError } from "./validate";

export interface Ipv6Prefix {
    /** The network address, canonical (RFC 5952), e.g. 2001:db8:1:4662:: */
    network: string;
    length: number;
}

/** The shortest prefix OVH hands a dedicated server is a /56, the classic one a /64. */
const MIN_PREFIX_LENGTH = 48;
const MAX_PREFIX_LENGTH = 64;

/** Global unicast (RFC 4291 §2.5.4): what a public address must be. 2001:db8::/32 (documentation) is inside it. */
const GLOBAL_UNICAST = ipaddr.IPv6.parseCIDR("2000::/3");
const UNIQUE_LOCAL = ipaddr.IPv6.parseCIDR("fc00::/7");

const bigintOf = (a: ipaddr.IPv6): bigint => a.parts.reduce((acc, p) => (acc << 16n) | BigInt(p), 0n);
const addressOf = (n: bigint): ipaddr.IPv6 => {
    const parts: number[] = [];
    for (let i = 7; i >= 0; i--) parts.push(Number((n >> BigInt(i * 16)) & 0xffffn));
    return new ipaddr.IPv6(parts);
};
const hostMask = (length: number): bigint => (1n << BigInt(128 - length)) - 1n;

/** The one written form of an address: lower case, the longest run of zero groups as `::` (RFC 5952). */
export function canonicalIpv6(address: string): string {
    return ipaddr.IPv6.parse(address).toRFC5952String();
}

function parseAddress(value: unknown, what: string): ipaddr.IPv6 {
    // A zone index (%eth0) and IPv4-embedded forms are not addresses a stack writes.
    if (typeof value !== "string" || value.includes("%") || value.includes(".") || !ipaddr.IPv6.isValid(value)) {
        throw new ConfigValueError(what);
    }
    return ipaddr.IPv6.parse(value);
}

/**
 * An IPv6 address, such as 2001:db8::1 or fe80::1, returned in its canonical form: OVH's control
 * panel and guides write them in upper case and with zeros (2001:41D0:1:4FF:FF:FF:FF:FF).
 */
export function parseIpv6(value: unknown): string {
    return parseAddress(value, "an IPv6 address, such as 2001:db8:1:4662::10").toRFC5952String();
}

/**
 * A server's public IPv6 prefix, such as 2001:db8:1:4662::/64: a global unicast network from /48
 * to /64, returned in canonical form.
 */
export function parseIpv6Prefix(value: unknown): Ipv6Prefix {
    const example = "a public IPv6 prefix from /48 to /64 written as its network address, such as 2001:db8:1:4662::/64";
    if (typeof value !== "string" || !value.includes("/")) throw new ConfigValueError(example);
    const [address, lengthText] = value.split("/");
    const addr = parseAddress(address, example);
    const length = Number(lengthText);
    if (!/^\d{1,3}$/.test(lengthText) || length < MIN_PREFIX_LENGTH || length > MAX_PREFIX_LENGTH) throw new ConfigValueError(example);
    if (!addr.match(GLOBAL_UNICAST)) throw new ConfigValueError(`a global unicast prefix, inside 2000::/3 (${address} is ${addr.range()})`);
    const networkValue = bigintOf(addr) & ~hostMask(length);
    const network = addressOf(networkValue).toRFC5952String();
    if (bigintOf(addr) !== networkValue) throw new ConfigValueError(`the prefix's network address, with no host bits set (${network}/${length})`);
    return { network, length };
}

export function prefixText(prefix: Ipv6Prefix): string {
    return `${prefix.network}/${prefix.length}`;
}

export function inPrefix(address: string, prefix: Ipv6Prefix): boolean {
    return ipaddr.IPv6.parse(address).match(ipaddr.IPv6.parse(prefix.network), prefix.length);
}

/**
 * An endpoint's address in its server's prefix: written whole (2001:db8:1:4662::10), or as the
 * interface id alone (::10), which the prefix completes, so that a new prefix moves every endpoint
 * written that way with one edit. Refused: an address outside the prefix; the subnet-router
 * anycast address, the prefix with an all-zero interface id (RFC 4291 §2.6.1); for a /64, the
 * reserved subnet anycast ids, the highest 128 (RFC 2526 §2).
 */
export function resolveIpv6InPrefix(value: unknown, prefix: Ipv6Prefix): string {
    const written = parseAddress(value, `an IPv6 address in ${prefixText(prefix)}, or an interface id relative to it such as ::10`);
    const n = bigintOf(written);
    const mask = hostMask(prefix.length);
    const networkValue = bigintOf(ipaddr.IPv6.parse(prefix.network));
    let full: bigint;
    if ((n & ~mask) === networkValue) full = n;
    else if ((n & ~mask) === 0n) full = networkValue | n;
    else throw new ConfigValueError(`an address inside the server's prefix ${prefixText(prefix)}, or an interface id relative to it such as ::10 (${written.toRFC5952String()} is outside it)`);
    const interfaceId = full & mask;
    if (interfaceId === 0n) throw new ConfigValueError(`an address with a non-zero interface id: ${addressOf(full).toRFC5952String()} is the subnet-router anycast address of ${prefixText(prefix)}`);
    if (prefix.length === 64 && interfaceId >= 0xfdffffffffffff80n && interfaceId <= 0xfdffffffffffffffn) {
        throw new ConfigValueError(`an address outside the reserved subnet anycast ids (RFC 2526): ${addressOf(full).toRFC5952String()} is one`);
    }
    return addressOf(full).toRFC5952String();
}

export function isLinkLocal(address: string): boolean {
    return ipaddr.IPv6.parse(address).range() === "linkLocal";
}

/** A gateway: a global unicast or unique local (fc00::/7) address, or a link-local one (fe80::/10) such as fe80::1; canonical. */
export function parseIpv6Gateway(value: unknown): string {
    const gw = parseIpv6(value);
    const addr = ipaddr.IPv6.parse(gw);
    if (!addr.match(GLOBAL_UNICAST) && !addr.match(UNIQUE_LOCAL) && addr.range() !== "linkLocal") {
        throw new ConfigValueError(`a global unicast, unique local (fc00::/7) or link-local (fe80::/10) IPv6 address (${gw} is ${addr.range()})`);
    }
    return gw;
}

/** The address as 128 bits, for rules written as bit operations (components/proxmox/gateway.ts). */
export function ipv6Bits(address: string): bigint {
    return bigintOf(ipaddr.IPv6.parse(address));
}

export function ipv6FromBits(bits: bigint): string {
    return addressOf(bits).toRFC5952String();
}

/** The prefix an address with a length belongs to: 2001:db8:1:4662::10, 64 -> 2001:db8:1:4662::/64. */
export function prefixOf(address: string, length: number): Ipv6Prefix {
    return { network: ipv6FromBits(ipv6Bits(address) & ~hostMask(length)), length };
}

/**
 * An IPv6 address a Proxmox host routes to a bridge in routed mode: global unicast, written alone
 * or as /128, returned as `<canonical address>/128` (2001:db8:1:4662::10/128).
 */
export function parseRoutedDestination6(value: unknown): string {
    const what = "a global unicast IPv6 address, alone or as /128, such as 2001:db8:1:4662::10";
    if (typeof value !== "string") throw new ConfigValueError(what);
    const [address, length, ...rest] = value.split("/");
    if (rest.length > 0 || (length !== undefined && length !== "128")) throw new ConfigValueError(what);
    const addr = parseAddress(address, what);
    if (!addr.match(GLOBAL_UNICAST)) throw new ConfigValueError(`${what} (${addr.toRFC5952String()} is ${addr.range()})`);
    return `${addr.toRFC5952String()}/128`;
}
