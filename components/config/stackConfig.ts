// Parses a stack's configuration into typed values, all of it before any resource is declared.
// Every bad value becomes one ConfigIssue naming its key (in `pulumi config set --path` syntax),
// the value, and what is expected; all issues are reported together.
import { EndpointNames, findRecordConflicts, parseRecordName, unsaidCnameTargets, ZoneNames } from "../dns/records";
import { DEFAULT_TTL } from "../dns/serviceRecords";
import { CONTAINER_DEFAULTS, defaultInterfaceName } from "../proxmox/containerNic";
import { ovhGateway6 } from "../proxmox/gateway";
import { DEFAULT_SSH_PORT, DEFAULT_SSH_USER } from "../shared/ssh";
import * as v6 from "../shared/ipv6";
import * as v from "../shared/validate";
import { keysOf } from "./keys";
import { ConfigReader as Reader } from "./reader";
import { keyPath } from "../shared/validate";

export interface ProxmoxHostSpec {
    /** SSH address of the Proxmox host. */
    host: string;
    port: number;
    user: string;
    /** The Proxmox node name, needed for containers the stack owns. */
    node?: string;
    /** The host's public key, `<type> <base64>`; without it any key is accepted (the plan warns). */
    hostKey?: string;
}

export interface ServerIpv6Spec {
    /** The server's IPv6 prefix, e.g. 2001:db8:1:4662::/64: endpoints take their ip6 in it. */
    prefix: v6.Ipv6Prefix;
    /** A gateway written by hand (fe80::1 on ranges with a link-local gateway). */
    gateway?: string;
}

export interface ServerSpec {
    name: string;
    /** The OVH service name of the dedicated server. */
    serviceName: string;
    mainIp?: string;
    /** Read routing.ipv4.gateway from the OVH API (default true). */
    gatewayFromApi: boolean;
    gateway?: string;
    /** Gateways tried in order from inside the container when no rule gives one. */
    gatewayCandidates?: string[];
    proxmox?: ProxmoxHostSpec;
    ipv6?: ServerIpv6Spec;
    /**
     * The server is gone: what the stack ran on its Proxmox host is forgotten on delete instead
     * of being undone over SSH (docs/runbooks/server-gone.md).
     */
    unreachable: boolean;
}

export interface PrivateNicSpec {
    index: number;
    interfaceName: string;
    bridge: string;
    address: string;
    prefixLength: number;
    gateway?: string;
}

export interface OwnedContainerSpec {
    hostname: string;
    template: string;
    osType: string;
    cores: number;
    memoryMb: number;
    diskGb: number;
    datastore: string;
    privateNics: PrivateNicSpec[];
}

export interface ContainerSpec {
    vmid: number;
    /** The N of netN for the public NIC. */
    nic: number;
    interfaceName: string;
    bridge: string;
    /** Present when the stack creates and owns the whole container. */
    owned?: OwnedContainerSpec;
}

export interface EndpointSpec {
    name: string;
    server: string;
    ip: string;
    /** The IPv6 address, whole: a relative `::10` is completed with the server's prefix. */
    ip6?: string;
    reverse?: string;
    virtualMac: { type: v.VirtualMacType; virtualMachineName: string; macAddress?: string };
    container: ContainerSpec;
    records: ZoneNames[];
    cnameTarget?: string;
    ttl: number;
}

export interface StackSpec {
    protectIps: boolean;
    servers: Map<string, ServerSpec>;
    endpoints: EndpointSpec[];
}

/** The raw values of the stack's keys, without the project namespace. */
export type RawConfig = Record<string, unknown>;

const SERVER_KEYS = keysOf("server");
const IPV6_KEYS = keysOf("ipv6");
const PROXMOX_KEYS = keysOf("proxmox");
const ENDPOINT_KEYS = keysOf("endpoint");
const VMAC_KEYS = keysOf("virtualMac");
const CONTAINER_KEYS = keysOf("container");
const OWNED_KEYS = keysOf("owned");
const PRIVATE_NIC_KEYS = keysOf("privateNic");
const ZONE_KEYS = keysOf("zone");

const positive = (what: string) => (x: unknown): number => {
    const n = typeof x === "string" && /^\d+$/.test(x) ? Number(x) : x;
    if (typeof n !== "number" || !Number.isInteger(n) || n < 1) throw new v.ConfigValueError(`${what}, a positive integer`);
    return n;
};

function parseServer(r: Reader, name: string, raw: unknown): ServerSpec | undefined {
    const key = keyPath("servers", name);
    r.parse(key, name, v.parseSimpleName);
    const o = r.object(key, raw, SERVER_KEYS);
    if (!o) return undefined;
    const serviceName = r.required(keyPath(key, "serviceName"), o.serviceName, v.parseServiceName);
    let proxmox: ProxmoxHostSpec | undefined;
    if (o.proxmox !== undefined) {
        const p = r.object(keyPath(key, "proxmox"), o.proxmox, PROXMOX_KEYS);
        if (p) {
            proxmox = {
                host: r.required(keyPath(key, "proxmox", "host"), p.host, v.parseHostname) ?? "",
                port: r.optional(keyPath(key, "proxmox", "port"), p.port, v.parsePort, DEFAULT_SSH_PORT),
                user: r.optional(keyPath(key, "proxmox", "user"), p.user, v.parseUserName, DEFAULT_SSH_USER),
                node: r.optional(keyPath(key, "proxmox", "node"), p.node, v.parseSimpleName),
                hostKey: r.optional(keyPath(key, "proxmox", "hostKey"), p.hostKey, v.parseHostKey),
            };
        }
    }
    let ipv6: ServerIpv6Spec | undefined;
    if (o.ipv6 !== undefined) {
        const six = r.object(keyPath(key, "ipv6"), o.ipv6, IPV6_KEYS);
        const prefix = six ? r.required(keyPath(key, "ipv6", "prefix"), six.prefix, v6.parseIpv6Prefix) : undefined;
        const gateway = six ? r.optional(keyPath(key, "ipv6", "gateway"), six.gateway, v6.parseIpv6Gateway) : undefined;
        if (prefix) ipv6 = { prefix, gateway };
    }
    const server: ServerSpec = {
        name,
        serviceName: serviceName ?? "",
        mainIp: r.optional(keyPath(key, "mainIp"), o.mainIp, v.parsePublicIpv4),
        gatewayFromApi: r.optional(keyPath(key, "gatewayFromApi"), o.gatewayFromApi, v.parseBoolean, true),
        gateway: r.optional(keyPath(key, "gateway"), o.gateway, v.parsePublicIpv4),
        gatewayCandidates: o.gatewayCandidates === undefined
            ? undefined
            : (r.list(keyPath(key, "gatewayCandidates"), o.gatewayCandidates) ?? [])
                  .map((g, i) => r.parse(keyPath(key, "gatewayCandidates", i), g, v.parsePublicIpv4))
                  .filter((g): g is string => g !== undefined),
        proxmox,
        ipv6,
        unreachable: r.optional(keyPath(key, "unreachable"), o.unreachable, v.parseBoolean, false),
    };
    if (ipv6 && ipv6.prefix.length !== 64 && !ipv6.gateway && !server.gatewayFromApi) {
        // OVH's rule is for a /64 (components/proxmox/gateway.ts, ovhGateway6).
        r.issues.push({ key: keyPath(key, "ipv6", "gateway"), value: undefined, expected: `the IPv6 gateway from the control panel (such as fe80::1): no rule gives one for a /${ipv6.prefix.length} when ${keyPath(key, "gatewayFromApi")} is false` });
    }
    if (server.mainIp !== undefined) {
        if (server.gateway === server.mainIp) r.issues.push({ key: keyPath(key, "gateway"), value: server.gateway, expected: `the server's gateway, not its own main IP (${keyPath(key, "mainIp")})` });
        server.gatewayCandidates?.forEach((g, i) => {
            if (g === server.mainIp) r.issues.push({ key: keyPath(key, "gatewayCandidates", i), value: g, expected: `a gateway, not the server's own main IP (${keyPath(key, "mainIp")})` });
        });
    }
    // The gateway rule needs one source (components/proxmox/gateway.ts, resolveGateway).
    if (!server.gatewayFromApi && !server.mainIp && !server.gateway && !(server.gatewayCandidates?.length)) {
        r.issues.push({ key: keyPath(key, "gatewayFromApi"), value: false, expected: `true, or one of mainIp, gateway or gatewayCandidates under ${key}: without them no gateway can be derived` });
    }
    return server;
}

function parseOwned(r: Reader, key: string, raw: unknown): OwnedContainerSpec | undefined {
    const o = r.object(key, raw, OWNED_KEYS);
    if (!o) return undefined;
    const privateNics: PrivateNicSpec[] = [];
    (r.list(keyPath(key, "privateNics"), o.privateNics) ?? []).forEach((item, i) => {
        const k = keyPath(key, "privateNics", i);
        const n = r.object(k, item, PRIVATE_NIC_KEYS);
        if (!n) return;
        const cidr = r.required(keyPath(k, "ip"), n.ip, v.parseIpv4Cidr);
        privateNics.push({
            index: r.required(keyPath(k, "nic"), n.nic, v.parseNicIndex) ?? 0,
            interfaceName: r.optional(keyPath(k, "interfaceName"), n.interfaceName, v.parseInterfaceName, defaultInterfaceName(i)),
            bridge: r.required(keyPath(k, "bridge"), n.bridge, v.parseBridge) ?? "",
            address: cidr?.address ?? "",
            prefixLength: cidr?.prefixLength ?? 0,
            gateway: r.optional(keyPath(k, "gateway"), n.gateway, v.parseIpv4),
        });
    });
    return {
        hostname: r.required(keyPath(key, "hostname"), o.hostname, v.parseSimpleName) ?? "",
        template: r.required(keyPath(key, "template"), o.template, v.parseTemplateVolume) ?? "",
        osType: r.optional(keyPath(key, "osType"), o.osType, v.parseSimpleName, CONTAINER_DEFAULTS.osType),
        cores: r.optional(keyPath(key, "cores"), o.cores, positive("a number of CPU cores"), CONTAINER_DEFAULTS.cores),
        memoryMb: r.optional(keyPath(key, "memoryMb"), o.memoryMb, positive("memory in MiB"), CONTAINER_DEFAULTS.memoryMb),
        diskGb: r.optional(keyPath(key, "diskGb"), o.diskGb, positive("root disk size in GiB"), CONTAINER_DEFAULTS.diskGb),
        datastore: r.optional(keyPath(key, "datastore"), o.datastore, v.parseSimpleName, CONTAINER_DEFAULTS.datastore),
        privateNics,
    };
}

function parseContainer(r: Reader, key: string, raw: unknown): ContainerSpec | undefined {
    const o = r.object(key, raw, CONTAINER_KEYS);
    if (!o) return undefined;
    const nic = r.required(keyPath(key, "nic"), o.nic, v.parseNicIndex);
    const spec: ContainerSpec = {
        vmid: r.required(keyPath(key, "vmid"), o.vmid, v.parseVmid) ?? 0,
        nic: nic ?? 0,
        interfaceName: r.optional(keyPath(key, "interfaceName"), o.interfaceName, v.parseInterfaceName, defaultInterfaceName(nic ?? 0)),
        bridge: r.optional(keyPath(key, "bridge"), o.bridge, v.parseBridge, CONTAINER_DEFAULTS.bridge),
        owned: o.owned === undefined ? undefined : parseOwned(r, keyPath(key, "owned"), o.owned),
    };
    const nicAt = new Map<number, number>();
    const nameAt = new Map<string, number>();
    for (const [i, p] of (spec.owned?.privateNics ?? []).entries()) {
        const sameNic = nicAt.get(p.index);
        if (sameNic !== undefined) r.issues.push({ key: keyPath(key, "owned", "privateNics", i, "nic"), value: p.index, expected: `a NIC index no other private NIC has (${keyPath(key, "owned", "privateNics", sameNic, "nic")} is ${p.index} too)` });
        else nicAt.set(p.index, i);
        const sameName = nameAt.get(p.interfaceName);
        if (sameName !== undefined) r.issues.push({ key: keyPath(key, "owned", "privateNics", i, "interfaceName"), value: p.interfaceName, expected: `an interface name no other private NIC has (${keyPath(key, "owned", "privateNics", sameName, "interfaceName")} is ${p.interfaceName} too; unset, it is eth<its place in the list>)` });
        else nameAt.set(p.interfaceName, i);

        if (p.index === spec.nic) {
            r.issues.push({ key: keyPath(key, "owned", "privateNics", i, "nic"), value: p.index, expected: `a NIC index other than ${spec.nic}, which the public NIC uses` });
        }
        if (p.interfaceName === spec.interfaceName) {
            r.issues.push({ key: keyPath(key, "owned", "privateNics", i, "interfaceName"), value: p.interfaceName, expected: `an interface name other than ${spec.interfaceName}, which ${keyPath(key, "interfaceName")} gives the public NIC` });
        }
    }
    if (spec.owned) {
        // The Proxmox provider numbers NICs by their place in its list: net0, net1, … with no gap
        // (bpg/terraform-provider-proxmox, network_interface).
        const indices = [spec.nic, ...spec.owned.privateNics.map((p) => p.index)].sort((a, b) => a - b);
        if (indices.some((n, i) => n !== i)) {
            r.issues.push({ key: keyPath(key, "nic"), value: spec.nic, expected: `NIC indices that run from 0 with no gap, the public NIC and ${keyPath(key, "owned", "privateNics")} together (now ${indices.join(", ")})` });
        }
    }
    return spec;
}

/**
 * A zone written `records.example.org.a` in a --path key becomes { example: { org: { a } } }: the
 * zone it meant, and what followed it, when the nesting ends in a zone's own keys.
 */
function splitZone(first: string, body: unknown): { zone: string; rest: string[] } | undefined {
    const labels = [first];
    let node = body;
    while (typeof node === "object" && node !== null && !Array.isArray(node)) {
        const keys = Object.keys(node);
        if (keys.some((k) => ZONE_KEYS.includes(k))) {
            return labels.length > 1 ? { zone: labels.join("."), rest: keys.length === 1 ? [keys[0]] : [] } : undefined;
        }
        if (keys.length !== 1) return undefined;
        labels.push(keys[0]);
        node = (node as Record<string, unknown>)[keys[0]];
    }
    return undefined;
}

function parseZones(r: Reader, key: string, raw: unknown): ZoneNames[] {
    if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
        r.issues.push({ key, value: raw, expected: "a map from zone (example.org) to { a: [names], cname: [names] }" });
        return [];
    }
    const zones: ZoneNames[] = [];
    for (const [zoneKey, body] of Object.entries(raw as Record<string, unknown>)) {
        const zk = keyPath(key, zoneKey);
        const split = splitZone(zoneKey, body);
        if (split) {
            r.issues.push({ key: zk, value: body, expected: `a zone name such as ${split.zone}, written whole: a --path key splits it at each dot, so write ${keyPath(key, split.zone, ...split.rest)} (pulumi config set --path '${keyPath(key, split.zone, "a", 0)}' www)` });
            continue;
        }
        const zone = r.parse(zk, zoneKey, v.parseZoneName);
        const o = r.object(zk, body, ZONE_KEYS);
        if (!zone || !o) continue;
        const names = (field: "a" | "cname"): string[] =>
            (r.list(keyPath(zk, field), o[field]) ?? [])
                .map((n, i) => r.parse(keyPath(zk, field, i), n, (x) => parseRecordName(x, zone)))
                .filter((n): n is string => n !== undefined);
        zones.push({ zone, a: names("a"), cname: names("cname") });
    }
    return zones;
}

function parseEndpoint(r: Reader, name: string, raw: unknown, servers: Map<string, ServerSpec>, defaultTtl: number): EndpointSpec | undefined {
    const key = keyPath("endpoints", name);
    r.parse(key, name, v.parseSimpleName);
    const o = r.object(key, raw, ENDPOINT_KEYS);
    if (!o) return undefined;
    const server = r.required(keyPath(key, "server"), o.server, (x) => {
        if (typeof x !== "string" || !servers.has(x)) {
            throw new v.ConfigValueError(`the name of a server declared under servers (${[...servers.keys()].join(", ") || "none declared"})`);
        }
        return x;
    });
    const vmac = o.virtualMac === undefined ? {} : r.object(keyPath(key, "virtualMac"), o.virtualMac, VMAC_KEYS) ?? {};
    const container = parseContainer(r, keyPath(key, "container"), o.container);
    const serverSpec = server ? servers.get(server) : undefined;
    if (container && serverSpec && !serverSpec.proxmox) {
        r.issues.push({ key: keyPath("servers", serverSpec.name, "proxmox"), value: undefined, expected: `the Proxmox host's SSH address ({ host, user, port }), needed by ${keyPath("endpoints", name, "container")}` });
    }
    if (container?.owned && serverSpec?.proxmox && !serverSpec.proxmox.node) {
        r.issues.push({ key: keyPath("servers", serverSpec.name, "proxmox", "node"), value: undefined, expected: `the Proxmox node name, needed to create the container of ${keyPath("endpoints", name)}` });
    }
    let ip6: string | undefined;
    if (o.ip6 !== undefined && o.ip6 !== null && serverSpec) {
        if (serverSpec.ipv6) ip6 = r.parse(keyPath(key, "ip6"), o.ip6, (x) => v6.resolveIpv6InPrefix(x, serverSpec.ipv6!.prefix));
        // A prefix written but refused is reported once, under its own key.
        else if (!r.issues.some((i) => i.key.startsWith(keyPath("servers", serverSpec.name, "ipv6")))) r.issues.push({ key: keyPath("servers", serverSpec.name, "ipv6", "prefix"), value: undefined, expected: `the server's IPv6 prefix, such as 2001:db8:1:4662::/64, needed by ${keyPath("endpoints", name, "ip6")}` });
    }
    return {
        name,
        server: server ?? "",
        ip: r.required(keyPath(key, "ip"), o.ip, v.parsePublicIpv4) ?? "",
        ip6,
        reverse: r.optional(keyPath(key, "reverse"), o.reverse, v.parseFqdn),
        virtualMac: {
            type: r.optional(keyPath(key, "virtualMac", "type"), vmac.type, v.parseVirtualMacType, v.DEFAULT_VIRTUAL_MAC_TYPE),
            virtualMachineName: r.optional(keyPath(key, "virtualMac", "virtualMachineName"), vmac.virtualMachineName, v.parseSimpleName, name),
            macAddress: r.optional(keyPath(key, "virtualMac", "macAddress"), vmac.macAddress, v.parseMac),
        },
        container: container ?? { vmid: 0, nic: 0, interfaceName: defaultInterfaceName(0), bridge: CONTAINER_DEFAULTS.bridge },
        records: o.records === undefined ? [] : parseZones(r, keyPath(key, "records"), o.records),
        cnameTarget: r.optional(keyPath(key, "cnameTarget"), o.cnameTarget, v.parseFqdn),
        ttl: r.optional(keyPath(key, "ttl"), o.ttl, v.parseTtl, defaultTtl),
    };
}

function entries(r: Reader, key: string, raw: unknown, what: string): [string, unknown][] {
    if (typeof raw !== "object" || raw === null || Array.isArray(raw) || Object.keys(raw).length === 0) {
        r.issues.push({ key, value: raw, expected: what });
        return [];
    }
    return Object.entries(raw as Record<string, unknown>);
}

/** Parses and checks a whole stack's configuration; throws ConfigError listing every problem. */
export function parseStackConfig(raw: RawConfig): StackSpec {
    const r = new Reader();
    const dnsTtl = r.optional("dnsTtl", raw.dnsTtl, v.parseTtl, DEFAULT_TTL);
    const protectIps = r.optional("protectIps", raw.protectIps, v.parseBoolean, true);

    const servers = new Map<string, ServerSpec>();
    for (const [name, body] of entries(r, "servers", raw.servers, "a map from server name to { serviceName, mainIp, proxmox }")) {
        const s = parseServer(r, name, body);
        if (s) servers.set(name, s);
    }
    const endpoints: EndpointSpec[] = [];
    for (const [name, body] of entries(r, "endpoints", raw.endpoints, "a map from endpoint name to { server, ip, container, records }")) {
        const e = parseEndpoint(r, name, body, servers, dnsTtl);
        if (e) endpoints.push(e);
    }

    const byIp = new Map<string, string>();
    const byIp6 = new Map<string, string>();
    const byNic = new Map<string, string>();
    const byInterface = new Map<string, string>();
    const byContainer = new Map<string, { name: string; owned: boolean }>();
    for (const e of endpoints) {
        for (const [s, server] of servers) {
            if (server.proxmox?.host === e.ip) r.issues.push({ key: keyPath("servers", s, "proxmox", "host"), value: e.ip, expected: `the Proxmox host's own address, not a failover IP routed to a container (${keyPath("endpoints", e.name, "ip")})` });
            if (server.mainIp === e.ip) r.issues.push({ key: keyPath("endpoints", e.name, "ip"), value: e.ip, expected: `a failover IP, not the main IP of a server (${keyPath("servers", s, "mainIp")})` });
        }
        const ifId = `${e.server}/${e.container.vmid}/${e.container.interfaceName}`;
        const otherIf = byInterface.get(ifId);
        if (otherIf) r.issues.push({ key: keyPath("endpoints", e.name, "container", "interfaceName"), value: e.container.interfaceName, expected: `an interface name no other NIC of container ${e.container.vmid} has (${keyPath("endpoints", otherIf, "container", "interfaceName")})` });
        byInterface.set(ifId, e.name);
        const otherIp = byIp.get(e.ip);
        if (e.ip && otherIp) r.issues.push({ key: keyPath("endpoints", e.name, "ip"), value: e.ip, expected: `an IP no other endpoint uses (${keyPath("endpoints", otherIp, "ip")} has it)` });
        byIp.set(e.ip, e.name);
        if (e.ip6) {
            const otherIp6 = byIp6.get(e.ip6);
            if (otherIp6) r.issues.push({ key: keyPath("endpoints", e.name, "ip6"), value: e.ip6, expected: `an IPv6 address no other endpoint uses (${keyPath("endpoints", otherIp6, "ip6")} has it)` });
            byIp6.set(e.ip6, e.name);
            const six = servers.get(e.server)?.ipv6;
            const gateways = six ? [six.gateway, six.prefix.length === 64 ? ovhGateway6(six.prefix) : undefined] : [];
            if (gateways.includes(e.ip6)) r.issues.push({ key: keyPath("endpoints", e.name, "ip6"), value: e.ip6, expected: `an address other than the gateway of ${keyPath("servers", e.server, "ipv6")} (${e.ip6})` });
        }
        const nicId = `${e.server}/${e.container.vmid}/net${e.container.nic}`;
        const otherNic = byNic.get(nicId);
        if (otherNic) r.issues.push({ key: keyPath("endpoints", e.name, "container", "nic"), value: e.container.nic, expected: `a NIC no other endpoint uses (${keyPath("endpoints", otherNic)} has net${e.container.nic} of ${e.container.vmid})` });
        byNic.set(nicId, e.name);
        const containerId = `${e.server}/${e.container.vmid}`;
        const other = byContainer.get(containerId);
        if (other && (other.owned || e.container.owned)) {
            const owner = other.owned ? other.name : e.name;
            r.issues.push({ key: keyPath("endpoints", e.name, "container", "vmid"), value: e.container.vmid, expected: `a container no other endpoint declares (${keyPath("endpoints", other.name, "container", "vmid")} is ${e.container.vmid} too): ${keyPath("endpoints", owner, "container", "owned")} creates it, and the Proxmox provider then manages every NIC it has` });
        }
        if (!other) byContainer.set(containerId, { name: e.name, owned: e.container.owned !== undefined });
    }
    const names: EndpointNames[] = endpoints.map((e) => ({ endpoint: e.name, zones: e.records, cnameTarget: e.cnameTarget }));
    for (const c of [...findRecordConflicts(names), ...unsaidCnameTargets(names)]) r.issues.push({ key: c.key, value: c.value, expected: c.expected });

    if (r.issues.length > 0) throw new v.ConfigError(r.issues);
    return { protectIps, servers, endpoints };
}
