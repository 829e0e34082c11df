// Pure validators for the values a stack file holds. Each returns the parsed value or
// throws a ConfigValueError that names what was expected; the config reader adds the key.
import * as ipaddr from "ipaddr.js";

export class ConfigValueError extends Error {
    /** hideValue: the value must not be repeated in the message (a private key written by mistake). */
    constructor(message: string, readonly hideValue = false) {
        super(message);
    }
}

/** One problem with one config key: which key, what value, what is expected. */
export interface ConfigIssue {
    key: string;
    value: unknown;
    expected: string;
}

/** Every problem found in a stack's configuration, reported together before any resource exists. */
export class ConfigError extends Error {
    constructor(readonly issues: ConfigIssue[]) {
        super(formatIssues(issues));
        this.name = "ConfigError";
    }
}

// pulumi/pulumi sdk/go/common/resource/properties_path.go (ParsePropertyPath): a segment runs to
// the next '.' or '['; one holding either, a quote or a blank must be written ["…"].
const PLAIN_SEGMENT = /^[A-Za-z_$][A-Za-z0-9_$-]*$/;

/**
 * A config key in `pulumi config set --path` syntax: a base key, then each segment appended, an
 * index as [i], a name that is not a plain identifier quoted, as in
 * endpoints.proxy.records["example.org"].a[0].
 */
export function keyPath(base: string, ...segments: (string | number)[]): string {
    return segments.reduce<string>((key, s) => {
        if (typeof s === "number") return `${key}[${s}]`;
        return PLAIN_SEGMENT.test(s) ? `${key}.${s}` : `${key}[${JSON.stringify(s)}]`;
    }, base);
}

export function formatIssues(issues: ConfigIssue[]): string {
    const lines = issues.map((i) => `  ${i.key}: ${describeValue(i.value)} is not valid: expected ${i.expected}`);
    return `invalid stack configuration (${issues.length} problem${issues.length === 1 ? "" : "s"}):\n${lines.join("\n")}`;
}

function describeValue(value: unknown): string {
    if (value === undefined) return "(missing)";
    if (typeof value === "string") return JSON.stringify(value);
    const json = JSON.stringify(value);
    return json.length > 80 ? `${json.slice(0, 77)}...` : json;
}

export function parseIpv4(value: unknown): string {
    if (typeof value !== "string" || !ipaddr.IPv4.isValidFourPartDecimal(value)) {
        throw new ConfigValueError("an IPv4 address in dotted-quad form, such as 192.0.2.10");
    }
    // isValidFourPartDecimal accepts leading zeros ("010"); an address is written once, canonically.
    const canonical = ipaddr.IPv4.parse(value).toString();
    if (canonical !== value) throw new ConfigValueError(`an IPv4 address written canonically (${canonical})`);
    return value;
}

/** A unicast public address: what a failover IP, a gateway or a DNS A record must be. */
export function parsePublicIpv4(value: unknown): string {
    const ip = parseIpv4(value);
    const range = ipaddr.IPv4.parse(ip).range();
    // Documentation ranges (TEST-NET) are allowed so that example stacks can be written.
    if (!["unicast", "reserved"].includes(range) && !isDocumentationAddress(ip)) {
        throw new ConfigValueError(`a public unicast IPv4 address (${ip} is in the ${range} range)`);
    }
    return ip;
}

export function isDocumentationAddress(ip: string): boolean {
    const addr = ipaddr.IPv4.parse(ip);
    return ["192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24"].some((cidr) =>
        addr.match(ipaddr.IPv4.parseCIDR(cidr)),
    );
}

/** An address with a prefix length, such as 10.1.0.100/24 (a private NIC in a container). */
export function parseIpv4Cidr(value: unknown): { address: string; prefixLength: number } {
    if (typeof value !== "string" || !value.includes("/")) {
        throw new ConfigValueError("an IPv4 address with a prefix length, such as 10.1.0.100/24");
    }
    const [address, prefix] = value.split("/");
    parseIpv4(address);
    const prefixLength = Number(prefix);
    if (!/^\d{1,2}$/.test(prefix) || prefixLength < 1 || prefixLength > 32) {
        throw new ConfigValueError("an IPv4 address with a prefix length from /1 to /32, such as 10.1.0.100/24");
    }
    return { address, prefixLength };
}

/** A MAC address in the colon form Proxmox and OVH both use, normalised to lower case. */
export function parseMac(value: unknown): string {
    if (typeof value !== "string" || !/^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/.test(value)) {
        throw new ConfigValueError("a MAC address such as 02:00:00:12:34:56");
    }
    const mac = value.toLowerCase();
    if (parseInt(mac.slice(0, 2), 16) & 1) throw new ConfigValueError("a unicast MAC address (the first octet must be even)");
    return mac;
}

/** Proxmox VE guest ids run from 100 to 999999999. */
export function parseVmid(value: unknown): number {
    const n = parseInteger(value);
    if (n === undefined || n < 100 || n > 999_999_999) {
        throw new ConfigValueError("a Proxmox container id (vmid), an integer from 100 to 999999999");
    }
    return n;
}

/** The N of a container's netN; Proxmox allows net0 to net31. */
export function parseNicIndex(value: unknown): number {
    const n = parseInteger(value);
    if (n === undefined || n < 0 || n > 31) {
        throw new ConfigValueError("a NIC index from 0 to 31 (the N of netN)");
    }
    return n;
}

/** A Linux bridge name as Proxmox accepts it: vmbr0 … vmbr4094, or any interface name up to 15 characters. */
export function parseBridge(value: unknown): string {
    if (typeof value !== "string" || !/^[a-zA-Z][a-zA-Z0-9_.-]{0,14}$/.test(value)) {
        throw new ConfigValueError("a bridge name such as vmbr0 (a letter, then letters, digits, '_', '.', '-', at most 15 characters)");
    }
    return value;
}

/** An interface name inside the container (eth1): at most 15 characters, no '/', no spaces. */
export function parseInterfaceName(value: unknown): string {
    if (typeof value !== "string" || !/^[a-zA-Z][a-zA-Z0-9_.-]{0,14}$/.test(value)) {
        throw new ConfigValueError("an interface name such as eth1 (a letter, then letters, digits, '_', '.', '-', at most 15 characters)");
    }
    return value;
}

/** OVH zone records accept TTL 0 (the zone's default) or at least 60 seconds. */
export function parseTtl(value: unknown): number {
    const n = parseInteger(value);
    if (n === undefined || (n !== 0 && n < 60) || n > 2_147_483_647) {
        throw new ConfigValueError("a TTL in seconds: 0 (the zone's default) or from 60 to 2147483647");
    }
    return n;
}

/** A TTL an IP change lowers the records to: at least OVH's 60 s, below their TTL (not the zone's default, 0, unknown here). */
export function parseLoweredTtl(value: unknown, ttl: number): number {
    const n = parseInteger(value);
    if (ttl === 0) throw new ConfigValueError("no lowering of records whose TTL is the zone's default (ttl 0, unknown here): set their ttl to the zone's TTL first");
    if (n === undefined || n < 60 || n >= ttl) throw new ConfigValueError(`a TTL in seconds from 60 to ${ttl - 1}: below the records' TTL (${ttl})`);
    return n;
}

/** How long the zone's name servers have to serve a change: 0 (no proof) or 1 to 86400 seconds. */
export function parseServesWithin(value: unknown): number {
    const n = parseInteger(value);
    if (n === undefined || n < 0 || n > 86400) {
        throw new ConfigValueError("a number of seconds from 1 to 86400, or 0 to skip the proof that DNS serves the records");
    }
    return n;
}

export function parsePort(value: unknown): number {
    const n = parseInteger(value);
    if (n === undefined || n < 1 || n > 65535) throw new ConfigValueError("a TCP port from 1 to 65535");
    return n;
}

export function parseBoolean(value: unknown): boolean {
    if (value === true || value === "true") return true;
    if (value === false || value === "false") return false;
    throw new ConfigValueError("true or false");
}

export function parseNonEmptyString(value: unknown, what = "a non-empty string"): string {
    if (typeof value !== "string" || value.trim() === "") throw new ConfigValueError(what);
    return value;
}

/** A name used in resource names and as the VM name OVH shows next to a virtual MAC. */
export function parseSimpleName(value: unknown): string {
    if (typeof value !== "string" || !/^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$/.test(value)) {
        throw new ConfigValueError("a name of letters, digits, '_', '.', '-' (at most 63 characters, starting with a letter or digit)");
    }
    return value;
}

/** The service name OVH gives a dedicated server, e.g. ns3012345.ip-198-51-100.eu. */
export function parseServiceName(value: unknown): string {
    if (typeof value !== "string" || !/^[a-zA-Z0-9][a-zA-Z0-9.-]{1,252}$/.test(value)) {
        throw new ConfigValueError("an OVH service name such as ns3012345.ip-198-51-100.eu");
    }
    if (/^[0-9.]+$/.test(value)) {
        throw new ConfigValueError("the server's OVH service name such as ns3012345.ip-198-51-100.eu (GET /dedicated/server), not an IP address");
    }
    return value;
}

export const VIRTUAL_MAC_TYPES = ["ovh", "vmware"] as const;
export type VirtualMacType = (typeof VIRTUAL_MAC_TYPES)[number];
/** The virtual MAC type unless told otherwise. */
export const DEFAULT_VIRTUAL_MAC_TYPE: VirtualMacType = "ovh";

export function parseVirtualMacType(value: unknown): VirtualMacType {
    if (typeof value !== "string" || !(VIRTUAL_MAC_TYPES as readonly string[]).includes(value)) {
        throw new ConfigValueError(`one of ${VIRTUAL_MAC_TYPES.join(", ")} (dedicated.server.VmacTypeEnum)`);
    }
    return value as VirtualMacType;
}

// RFC 1035 §2.3.1/§2.3.4: labels of letters, digits and hyphens, 1–63 octets, names up to 255
// octets on the wire (253 characters written without the final dot). A leading '*' label is a
// wildcard, and '_' is allowed for service labels such as _dmarc.
export const DNS_LABEL = /^(?:[a-zA-Z0-9_](?:[a-zA-Z0-9_-]{0,61}[a-zA-Z0-9])?)$/;

/** A zone apex such as example.org (at least two labels, no trailing dot), lower-cased. */
export function parseZoneName(value: unknown): string {
    const zone = typeof value === "string" ? value.replace(/\.$/, "").toLowerCase() : undefined;
    if (zone === undefined || zone.length === 0 || zone.length > 253) {
        throw new ConfigValueError("a DNS zone name such as example.org (at most 253 characters)");
    }
    const labels = zone.split(".");
    if (labels.length < 2 || !labels.every((l) => DNS_LABEL.test(l) && !l.includes("_"))) {
        throw new ConfigValueError("a DNS zone name such as example.org: labels of letters, digits and '-', 1 to 63 characters each, at least two labels");
    }
    return zone;
}

/** A fully qualified name written with its trailing dot, e.g. proxy1.example.org. */
export function parseFqdn(value: unknown): string {
    if (typeof value !== "string" || !value.endsWith(".")) {
        throw new ConfigValueError("a fully qualified DNS name with a trailing dot, such as proxy1.example.org.");
    }
    parseZoneName(value.slice(0, -1));
    return value.toLowerCase();
}

function parseInteger(value: unknown): number | undefined {
    if (typeof value === "number" && Number.isInteger(value)) return value;
    if (typeof value === "string" && /^-?\d+$/.test(value)) return Number(value);
    return undefined;
}

// RFC 1123 §2.1: a host name is labels of letters, digits and hyphens, 1 to 63 characters, not
// starting or ending with a hyphen, at most 253 characters in all.
const HOST_LABEL = /^[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$/;

/** An SSH host: an IP address or an RFC 1123 host name; never `user@host` or `host:port`. */
export function parseHostname(value: unknown): string {
    const what = "an IP address or a host name (RFC 1123: letters, digits, '-' and '.'; no user@, no :port, no '_')";
    if (typeof value !== "string" || value.length === 0 || value.length > 253) throw new ConfigValueError(what);
    if (value.includes(":") && ipaddr.IPv6.isValid(value) && !value.includes("%")) return ipaddr.IPv6.parse(value).toString();
    if (/^[0-9.]+$/.test(value)) return parseIpv4(value);
    if (!value.split(".").every((l) => HOST_LABEL.test(l))) throw new ConfigValueError(what);
    return value.toLowerCase();
}

/** A POSIX login name, as useradd accepts it: [a-z_][a-z0-9_-]*, at most 32 characters. */
export function parseUserName(value: unknown): string {
    if (typeof value !== "string" || !/^[a-z_][a-z0-9_-]{0,31}$/.test(value)) {
        throw new ConfigValueError("a login name such as root (a lower-case letter or '_', then letters, digits, '_' or '-', at most 32 characters)");
    }
    return value;
}

// Not ssh-rsa: @pulumi/command offers only the key's own type as host key algorithm
// (connection.go: hostKeyAlgorithms = []string{publicKey.Type()}), and OpenSSH 8.8 and later
// (Debian 12, Proxmox 8) no longer sign with ssh-rsa: the connection would fail.
const HOST_KEY_TYPES = ["ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521"];

/**
 * A host's public key in the form @pulumi/command parses (ssh.ParseAuthorizedKey in
 * pulumi/pulumi-command provider/pkg/provider/remote/connection.go): `<type> <base64>`, as
 * /etc/ssh/ssh_host_ed25519_key.pub holds it, or `ssh-keyscan -t ed25519 <host>` prints it after
 * the host name. A comment after the key is dropped.
 */
export function parseHostKey(value: unknown): string {
    const what = `a host key "<type> <base64>" such as "ssh-ed25519 AAAAC3Nza…" (from ssh-keyscan -t ed25519 <host>, without the host name); types: ${HOST_KEY_TYPES.join(", ")} (not ssh-rsa: @pulumi/command would offer only ssh-rsa, which OpenSSH 8.8 and later refuse)`;
    if (typeof value !== "string") throw new ConfigValueError(what);
    if (/PRIVATE KEY/.test(value)) throw new ConfigValueError(`the host's public key, not a private key (never write one in a stack file): ${what}`, true);
    if (/^(SHA256:[A-Za-z0-9+/]{43}=?|(MD5:)?[0-9a-f]{2}(:[0-9a-f]{2}){15})$/i.test(value.trim())) {
        throw new ConfigValueError(`the host's public key itself, not its fingerprint: ${what}`);
    }
    const [type, key] = value.trim().split(/\s+/);
    if (!HOST_KEY_TYPES.includes(type) || !/^[A-Za-z0-9+/]{40,}={0,2}$/.test(key ?? "")) throw new ConfigValueError(what);
    // The base64 blob starts with the type's own name (RFC 4253 §6.6).
    const blob = Buffer.from(key, "base64");
    const length = blob.readUInt32BE(0);
    if (blob.subarray(4, 4 + length).toString("latin1") !== type) throw new ConfigValueError(`${what} (the key's data is not a ${type} key)`);
    return `${type} ${key}`;
}

/** An absolute path of plain characters: no spaces, quotes, `..` or shell metacharacters. */
export function parseAbsolutePath(value: unknown): string {
    if (typeof value !== "string" || !/^(\/[A-Za-z0-9._+-]+)+$/.test(value) || value.split("/").includes("..")) {
        throw new ConfigValueError("an absolute path of letters, digits, '.', '_', '+', '-' and '/', such as /usr/local/bin/ovh-ipmove");
    }
    return value;
}

/** An OVH Public Cloud project id: 32 hexadecimal digits (the serviceName of /cloud/project/{serviceName}). */
export function parseCloudProjectId(value: unknown): string {
    if (typeof value !== "string" || !/^[0-9a-f]{32}$/.test(value)) {
        throw new ConfigValueError("a Public Cloud project id: 32 lower-case hexadecimal digits, as in GET /cloud/project");
    }
    return value;
}

/** A Public Cloud instance, by its id (a UUID) or by a name of plain characters. */
export function parseInstanceRef(value: unknown): string {
    if (typeof value !== "string" || !/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(value)) {
        throw new ConfigValueError("an instance id (a UUID) or name of letters, digits, '.', '_', '-' (at most 64 characters)");
    }
    return value;
}

/**
 * How a Public Cloud instance keeps its network configuration, as OVH's guide
 * "Configuring an Additional IP" (ovh/docs pages/public_cloud/public_cloud_network_services/
 * getting-started-04-configure-additional-ip-to-instance, updated 2023-07-25) gives it: ifupdown's
 * /etc/network/interfaces.d ("Debian 11"), or netplan's /etc/netplan ("Ubuntu 22.04 & Debian 12").
 */
export const ALIAS_FLAVOURS = ["netplan", "debian"] as const;
export type AliasFlavour = (typeof ALIAS_FLAVOURS)[number];

export function parseAliasFlavour(value: unknown): AliasFlavour {
    if (typeof value !== "string" || !(ALIAS_FLAVOURS as readonly string[]).includes(value)) {
        throw new ConfigValueError("netplan (/etc/netplan: Ubuntu 22.04 and later, Debian 12) or debian (ifupdown, /etc/network/interfaces.d: Debian 11)");
    }
    return value as AliasFlavour;
}

/** The OVH API endpoints node-ovh and the OVH provider know by name. */
export const OVH_ENDPOINT_NAMES = ["ovh-eu", "ovh-ca", "ovh-us", "kimsufi-eu", "kimsufi-ca", "soyoustart-eu", "soyoustart-ca"];

export function parseOvhEndpoint(value: unknown): string {
    if (typeof value === "string" && OVH_ENDPOINT_NAMES.includes(value)) return value;
    if (typeof value === "string" && /^https:\/\/[A-Za-z0-9.-]+(:\d{1,5})?(\/[A-Za-z0-9._/-]*)?$/.test(value)) return value;
    throw new ConfigValueError(`one of ${OVH_ENDPOINT_NAMES.join(", ")}, or an https:// URL`);
}

/** The key nearest to a misspelt one, if one is near enough to be what was meant. */
export function nearestKey(key: string, known: readonly string[]): string | undefined {
    const distance = (a: string, b: string): number => {
        const row = Array.from({ length: b.length + 1 }, (_, j) => j);
        for (let i = 1; i <= a.length; i++) {
            let previous = row[0];
            row[0] = i;
            for (let j = 1; j <= b.length; j++) {
                const current = row[j];
                row[j] = Math.min(row[j] + 1, row[j - 1] + 1, previous + (a[i - 1].toLowerCase() === b[j - 1].toLowerCase() ? 0 : 1));
                previous = current;
            }
        }
        return row[b.length];
    };
    let best: { key: string; d: number } | undefined;
    for (const k of known) {
        const d = distance(key, k);
        if (!best || d < best.d) best = { key: k, d };
    }
    return best && best.d <= Math.max(2, Math.floor(key.length / 3)) ? best.key : undefined;
}

/** A container template volume, `<storage>:vztmpl/<file>`, as pveam lists them. */
export function parseTemplateVolume(value: unknown): string {
    if (typeof value !== "string" || !/^[A-Za-z][A-Za-z0-9_.-]*:vztmpl\/[A-Za-z0-9][A-Za-z0-9_.+-]*$/.test(value)) {
        throw new ConfigValueError("a container template volume id, such as local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst");
    }
    return value;
}

/** An IPv4 prefix length, 1 to 32 (the /24 of a bridge's 192.168.0.1/24). */
export function parsePrefixLength4(value: unknown): number {
    const n = parseInteger(value);
    if (n === undefined || n < 1 || n > 32) throw new ConfigValueError("an IPv4 prefix length, an integer from 1 to 32");
    return n;
}

/**
 * An interface of a Proxmox host whose sysctls are written (net.ipv4.conf.<name>.*): a name as
 * parseBridge accepts it, and not one of the kernel's own entries under /proc/sys/net/ipv4/conf
 * (`all`, `default`) nor the loopback.
 */
export function parseHostInterface(value: unknown): string {
    const name = parseBridge(value);
    if (["all", "default", "lo"].includes(name)) {
        throw new ConfigValueError(`an interface of the host such as vmbr0 (not "${name}", which names the kernel's ${name === "lo" ? "loopback" : "defaults"})`);
    }
    return name;
}

/** The widest block a host routes to a bridge: OVH rents additional IPs singly and in blocks far smaller than this. */
export const WIDEST_ROUTED_PREFIX = 16;

/**
 * What a Proxmox host routes to a bridge in OVH's routed mode: one additional IP (written alone or
 * as /32) or a whole block in CIDR form, public, its address the block's first. Returned in CIDR
 * form, e.g. 203.0.113.10/32 or 203.0.113.8/29.
 */
export function parseRoutedDestination(value: unknown): string {
    const what = `an additional IP (203.0.113.10, or 203.0.113.10/32) or a block in CIDR form (203.0.113.8/29), from /${WIDEST_ROUTED_PREFIX} to /32`;
    if (typeof value !== "string") throw new ConfigValueError(what);
    const [address, prefix, ...rest] = value.split("/");
    if (rest.length > 0 || (prefix !== undefined && !/^\d{1,2}$/.test(prefix))) throw new ConfigValueError(what);
    const prefixLength = prefix === undefined ? 32 : Number(prefix);
    if (prefixLength < WIDEST_ROUTED_PREFIX || prefixLength > 32) throw new ConfigValueError(what);
    const ip = parsePublicIpv4(address);
    const network = ipaddr.IPv4.networkAddressFromCIDR(`${ip}/${prefixLength}`).toString();
    if (network !== ip) throw new ConfigValueError(`${what}; ${ip} is not the first address of its /${prefixLength} (${network}/${prefixLength})`);
    return `${ip}/${prefixLength}`;
}

/**
 * Who holds a line of a file shared on a host (a HostRoute's `<project>/<stack>/<name>`): letters,
 * digits, '_', '.', '-' and '/', with no blank, so that it is one field of a whitespace-separated line.
 */
export function parseOwnerTag(value: unknown): string {
    if (typeof value !== "string" || !/^[A-Za-z0-9][A-Za-z0-9_./-]{0,199}$/.test(value)) {
        throw new ConfigValueError("an owner tag of letters, digits, '_', '.', '-' and '/' (at most 200 characters, no blank), such as ovh-failover/prod/r1-route");
    }
    return value;
}
