// Where an address still appears, and whether the stack says it should: pure functions over what
// find-ip read (the OVH account's zones, the IP's reverse, routing and virtual MAC, the Proxmox
// hosts' container configs). The reads are in bin/find-ip.ts.
import * as ipaddr from "ipaddr.js";
import type { StackSpec } from "../../components/config/stackConfig";
import { txtText } from "../../components/dns/answers";
import { fqdn, planRecords } from "../../components/dns/records";
import { keyPath } from "../../components/shared/validate";

export type PlaceKind = "record" | "reverse" | "routing" | "virtual MAC" | "container";

export interface Place {
    kind: PlaceKind;
    /** Where: `example.org zone, www.example.org. A`, `container 101 on 198.51.100.20 (ovh1)`, … */
    where: string;
    /** What holds the address there: the record's target, the config line, the reverse's name, … */
    value: string;
    /** The stack key that declares it, when the stack manages it (find-ip --stack). */
    managedBy?: string;
    /** For matching: the record's zone, name and type; the container's host, vmid and key. */
    at: { zone?: string; name?: string; type?: string; server?: string; vmid?: number; key?: string; serviceName?: string };
}

/** An address as given on the command line: IPv4 or IPv6, written one way. */
export function parseAddress(text: string): ipaddr.IPv4 | ipaddr.IPv6 {
    if (!ipaddr.isValid(text)) throw new Error(`${JSON.stringify(text)} is not an IPv4 or IPv6 address`);
    const parsed = ipaddr.parse(text);
    return parsed.kind() === "ipv6" && (parsed as ipaddr.IPv6).isIPv4MappedAddress() ? (parsed as ipaddr.IPv6).toIPv4Address() : parsed;
}

/**
 * Whether a token is the address. `a.b.c.d/n` is, by `slash`: a block that holds it (SPF's
 * ip4:192.0.2.0/24 authorizes every address of it), or an address with its prefix length (a
 * container's ip=192.0.2.10/32, ip6=2001:db8::10/64: only that address).
 */
export function tokenHolds(token: string, address: ipaddr.IPv4 | ipaddr.IPv6, slash: "block" | "address" = "block"): boolean {
    const bare = token.replace(/^[+\-~?]?ip[46]:/i, "");
    // An IPv4 address after a label and a colon (ip:192.0.2.10, a description's text) is one too;
    // an IPv6 address is all colons, and read whole.
    const candidates = address.kind() === "ipv4" && bare.includes(":") ? [bare, bare.slice(bare.lastIndexOf(":") + 1)] : [bare];
    return candidates.some((c) => holds(c, address, slash));
}

function holds(text: string, address: ipaddr.IPv4 | ipaddr.IPv6, slash: "block" | "address"): boolean {
    try {
        if (text.includes("/") && slash === "block") {
            const [net, len] = ipaddr.parseCIDR(text);
            return net.kind() === address.kind() && address.match([net, len]);
        }
        const plain = text.split("/")[0];
        if (!ipaddr.isValid(plain)) return false;
        const other = ipaddr.parse(plain);
        return other.kind() === address.kind() && other.toNormalizedString() === address.toNormalizedString();
    } catch {
        return false;
    }
}

const TOKEN_SEPARATORS = /[\s,;=()[\]"'<>]+/;

/** Whether a text (a TXT record's, a config line's value) holds the address as a token of its own. */
export function textHolds(text: string, address: ipaddr.IPv4 | ipaddr.IPv6, slash: "block" | "address" = "block"): boolean {
    return text.split(TOKEN_SEPARATORS).some((t) => t !== "" && tokenHolds(t, address, slash));
}

/** A TXT or SPF record's target as OVH holds it (quoted strings), read as its text. */
export function recordTextHolds(target: string, address: ipaddr.IPv4 | ipaddr.IPv6): boolean {
    let text = target;
    try {
        text = txtText(target);
    } catch {
        // Not OVH's quoted form: read as it is.
    }
    return textHolds(text, address);
}

/**
 * The `key: value` lines of `pct config` that hold the address (net1: …,ip=192.0.2.10/32,…). The
 * description is printed percent-escaped (pve-container src/PVE/CLI/pct.pm, config:
 * PVE::Tools::encode_text, which escapes ':' and control characters): read decoded.
 */
export function configLinesHolding(config: string, address: ipaddr.IPv4 | ipaddr.IPv6): { key: string; value: string }[] {
    return config.split("\n").flatMap((line) => {
        const m = /^([^:\s]+):\s?(.*)$/.exec(line);
        if (!m) return [];
        const text = m[1] === "description" ? m[2].replace(/%([0-9a-fA-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16))) : m[2];
        return textHolds(text, address, "address") ? [{ key: m[1], value: m[2] }] : [];
    });
}

/** The sections of a script's output: `== <vmid>` then that container's `pct config`. */
export function splitContainerConfigs(out: string): Map<number, string> {
    const configs = new Map<number, string>();
    let current: number | undefined;
    for (const line of out.split("\n")) {
        const head = /^== (\d+)$/.exec(line);
        if (head) {
            current = Number(head[1]);
            configs.set(current, "");
        } else if (current !== undefined) {
            configs.set(current, `${configs.get(current)}${line}\n`);
        }
    }
    return configs;
}

/** The stack key that declares the place holding the address, if the stack declares it. */
export function managedBy(place: Place, spec: StackSpec, address: ipaddr.IPv4 | ipaddr.IPv6): string | undefined {
    const same = (text: string | undefined) => text !== undefined && tokenHolds(text, address);
    const endpoints = [...spec.endpoints, ...spec.cloudEndpoints];
    const holders = endpoints.filter((e) => same(e.ip) || ("ip6" in e && same(e.ip6)));
    switch (place.kind) {
        case "record":
            for (const e of holders) {
                const planned = planRecords({ endpoint: e.name, zones: e.records, cnameTarget: e.cnameTarget }, e.ip, e.ttl, "ip6" in e ? e.ip6 : undefined);
                const declared = planned.find((r) => r.zone === place.at.zone && fqdn(r.subdomain, r.zone) === place.at.name && r.fieldtype === place.at.type && same(r.target));
                if (declared) return keyPath("endpoints", e.name, "records", declared.zone);
            }
            return undefined;
        case "reverse": {
            const e = holders.find((x) => same(x.ip) && x.reverse === place.value);
            return e && keyPath("endpoints", e.name, "reverse");
        }
        case "routing": {
            const e = holders.find((x) => same(x.ip));
            if (e) return keyPath("endpoints", e.name, "ip");
            const block = spec.ipBlocks.find((b) => address.kind() === "ipv4" && (address as ipaddr.IPv4).match(ipaddr.IPv4.parse(b.block.network), b.block.prefixLength));
            return block && keyPath("ipBlocks", block.name, "block");
        }
        case "virtual MAC": {
            const e = spec.endpoints.find((x) => same(x.ip) && x.mode === "bridged" && spec.servers.get(x.server)?.serviceName === place.at.serviceName);
            return e && keyPath("endpoints", e.name, "virtualMac");
        }
        case "container": {
            const e = spec.endpoints.find((x) => (same(x.ip) || same(x.ip6)) && x.server === place.at.server && x.container.vmid === place.at.vmid && place.at.key === `net${x.container.nic}`);
            return e && keyPath("endpoints", e.name, "container");
        }
    }
}

/** One line per place; with the stack, each says whether the stack manages it. */
export function renderPlaces(address: string, places: Place[], withStack: boolean, notRead: string[]): string {
    const lines = places.length === 0 ? [`${address}: found nowhere`] : places.map((p) => {
        const verdict = !withStack ? "" : p.managedBy ? `  [managed: ${p.managedBy}]` : "  [NOT MANAGED by the stack]";
        return `${p.kind}: ${p.where}: ${p.value}${verdict}`;
    });
    for (const n of notRead) lines.push(`not read: ${n}`);
    return `${lines.join("\n")}\n`;
}

/** 1 when something the stack does not manage holds the address (without the stack: anything), else 0. */
export function exitCodeOf(places: Place[], withStack: boolean): number {
    return places.some((p) => !withStack || p.managedBy === undefined) ? 1 : 0;
}
