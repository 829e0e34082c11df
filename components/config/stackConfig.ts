// Parses a stack's configuration into typed values, all of it before any resource is declared.
// Every bad value becomes one ConfigIssue naming its key (in `pulumi config set --path` syntax),
// the value, and what is expected; all issues are reported together.
import { EndpointNames, findRecordConflicts, parseRecordName, unsaidCnameTargets, ZoneNames } from "../dns/records";
import { DEFAULT_TTL } from "../dns/serviceRecords";
import { DEFAULT_SERVES_WITHIN_SECONDS } from "../dns/zoneServes";
import { CONTAINER_DEFAULTS, defaultInterfaceName } from "../proxmox/containerNic";
import { ovhGateway6 } from "../proxmox/gateway";
import { DEFAULT_SSH_PORT, DEFAULT_SSH_USER } from "../shared/ssh";
import * as v6 from "../shared/ipv6";
import * as v from "../shared/validate";
import * as ipaddr from "ipaddr.js";
import { blockContains, blockText, Ipv4Block, OvhRegion, parseIpv4Block, parseOvhRegion, regionsCompatible, VRACK_MAX_PREFIX, vrackBridgedSubrange6, vrackGateway6, vrackReserved } from "../network/blocks";
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

/** Routed mode on a Proxmox host: the host routes the guests' IPs to a bridge of its own. */
export interface RoutedHostSpec {
    /** A bridge with no ports that holds `address`: the routed NICs sit on it. */
    bridge: string;
    /** The bridge's private address, every routed guest's gateway. */
    address: string;
    prefixLength: number;
    /** The public interface that gets proxy_arp. */
    uplink: string;
    /** An IPv6 address the bridge holds (fe80::1, or any unicast address): every routed guest's IPv6 gateway. */
    address6?: string;
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
    /** The server takes virtual MACs (vmac.supported of specifications/network). */
    virtualMacs: boolean;
    /** The most distinct virtual MACs the server takes, when the stack knows it. */
    virtualMacLimit?: number;
    region?: OvhRegion;
    routed?: RoutedHostSpec;
}

export interface VrackSpec {
    name: string;
    serviceName: string;
    /** The Proxmox bridge on the vRack interface. */
    bridge: string;
    /** The vRack's Additional IPv6 block: its endpoints' ip6 lie in its first /64 (network/blocks.ts). */
    ipv6?: v6.Ipv6Prefix;
}

/** An additional IP block, routed as a whole to a server or into a vRack. */
export interface IpBlockSpec {
    name: string;
    block: Ipv4Block;
    server?: string;
    vrack?: string;
    region?: OvhRegion;
    dropVirtualMacs: boolean;
}

/**
 * How an endpoint's IP reaches its container: a virtual MAC on the server's bridge (bridged), a
 * route on the Proxmox host to a bridge of its own (routed), a block in a vRack (vrack).
 */
export const ENDPOINT_MODES = ["bridged", "routed", "vrack", "cloud"] as const;
export type EndpointMode = (typeof ENDPOINT_MODES)[number];
export type ContainerEndpointMode = Exclude<EndpointMode, "cloud">;

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
    mode: ContainerEndpointMode;
    /** The name of the ipBlocks entry the IP lies in; none for a lone IP. */
    block?: string;
    ip: string;
    /** The IPv6 address, whole: a relative `::10` is completed with the server's prefix. */
    ip6?: string;
    reverse?: string;
    virtualMac: { type: v.VirtualMacType; virtualMachineName: string; macAddress?: string };
    container: ContainerSpec;
    records: ZoneNames[];
    cnameTarget?: string;
    ttl: number;
    /** The records' TTL while an IP change is prepared (ovh-failover change-ip), below ttl. */
    lowerTtl?: number;
}

export const CLOUD_FLAVOURS = ["netplan", "debian"] as const;
export type CloudFlavour = (typeof CLOUD_FLAVOURS)[number];

/** An additional IP attached to a Public Cloud instance, added in the guest as a /32 alias. */
export interface CloudEndpointSpec {
    name: string;
    ip: string;
    reverse?: string;
    project: string;
    instance: string;
    /** Unset: the interface of the instance's default route, found on it. */
    interfaceName?: string;
    flavour: CloudFlavour;
    ssh: { host: string; port: number; user: string; hostKey: string };
    records: ZoneNames[];
    cnameTarget?: string;
    ttl: number;
    lowerTtl?: number;
}

export interface StackSpec {
    protectIps: boolean;
    /** Seconds the zones' name servers have to serve changed records; 0: no proof. */
    dnsServesWithin: number;
    servers: Map<string, ServerSpec>;
    vracks: Map<string, VrackSpec>;
    ipBlocks: IpBlockSpec[];
    endpoints: EndpointSpec[];
    cloudEndpoints: CloudEndpointSpec[];
}

/** A stack that declares nothing. */
export const emptyStack = (): StackSpec => ({ protectIps: true, dnsServesWithin: DEFAULT_SERVES_WITHIN_SECONDS, servers: new Map(), vracks: new Map(), ipBlocks: [], endpoints: [], cloudEndpoints: [] });

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
const ROUTED_KEYS = keysOf("routed");
const VRACK_KEYS = keysOf("vrack");
const BLOCK_KEYS = keysOf("ipBlock");
const CLOUD_KEYS = keysOf("cloud");
const CLOUD_SSH_KEYS = keysOf("cloudSsh");

const oneOf = <T extends string>(values: readonly T[]) => (x: unknown): T => {
    if (typeof x !== "string" || !(values as readonly string[]).includes(x)) throw new v.ConfigValueError(values.join(", "));
    return x as T;
};

/** A private IPv4 address (RFC 1918): the routed bridge's own, never routed to the Internet. */
function parsePrivateIpv4(x: unknown): string {
    const ip = v.parseIpv4(x);
    if (ipaddr.IPv4.parse(ip).range() !== "private") throw new v.ConfigValueError(`a private IPv4 address (10/8, 172.16/12, 192.168/16), such as 192.168.0.1 (${ip} is not)`);
    return ip;
}

const parseInstanceId = (x: unknown): string => {
    if (typeof x !== "string" || !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(x)) {
        throw new v.ConfigValueError("an instance id: a lower-case UUID, as GET /cloud/project/{project}/instance gives it (the attach takes the id, not the name)");
    }
    return x;
};

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
        virtualMacs: r.optional(keyPath(key, "virtualMacs"), o.virtualMacs, v.parseBoolean, true),
        virtualMacLimit: r.optional(keyPath(key, "virtualMacLimit"), o.virtualMacLimit, positive("a number of virtual MACs")),
        region: r.optional(keyPath(key, "region"), o.region, parseOvhRegion),
        routed: o.routed === undefined ? undefined : parseRouted(r, keyPath(key, "routed"), o.routed),
    };
    if (ipv6 && ipv6.prefix.length !== 64 && !ipv6.gateway && !server.gatewayFromApi) {
        // OVH's rule is for a /64 (components/proxmox/gateway.ts, ovhGateway6).
        r.issues.push({ key: keyPath(key, "ipv6", "gateway"), value: undefined, expected: `the IPv6 gateway from the control panel (such as fe80::1): no rule gives one for a /${ipv6.prefix.length} when ${keyPath(key, "gatewayFromApi")} is false` });
    }
    const address6 = server.routed?.address6;
    if (ipv6 && address6 !== undefined && v6.inPrefix(address6, ipv6.prefix)) {
        // The server's prefix is on-link on the uplink (ovh/docs network_ipv6), where the host
        // holds its own address of it: the bridge's gateway address is one of the bridge's own.
        r.issues.push({ key: keyPath(key, "routed", "address6"), value: address6, expected: `an address outside ${keyPath(key, "ipv6", "prefix")} (${v6.prefixText(ipv6.prefix)}), such as fd00::1 or fe80::1: that prefix is on the uplink (${server.routed!.uplink}), and the routed guests take their addresses from it` });
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

function parseRouted(r: Reader, key: string, raw: unknown): RoutedHostSpec | undefined {
    const o = r.object(key, raw, ROUTED_KEYS);
    if (!o) return undefined;
    const routed: RoutedHostSpec = {
        // The same grammar HostRoute holds them to, so that a name it would refuse stops here,
        // before any resource (the kernel's all/default/lo are no interface of the host).
        bridge: r.required(keyPath(key, "bridge"), o.bridge, (x) => v.parseHostInterface(v.parseBridge(x))) ?? "",
        address: r.required(keyPath(key, "address"), o.address, parsePrivateIpv4) ?? "",
        prefixLength: r.optional(keyPath(key, "prefixLength"), o.prefixLength, (x) => {
            const n = positive("a prefix length")(x);
            if (n < 8 || n > 30) throw new v.ConfigValueError("a prefix length from 8 to 30");
            return n;
        }, 24),
        uplink: r.optional(keyPath(key, "uplink"), o.uplink, v.parseHostInterface, "vmbr0"),
        address6: r.optional(keyPath(key, "address6"), o.address6, v6.parseIpv6Gateway),
    };
    if (routed.bridge && routed.bridge === routed.uplink) {
        r.issues.push({ key: keyPath(key, "bridge"), value: routed.bridge, expected: `a bridge of its own, not the uplink (${keyPath(key, "uplink")} is ${routed.uplink}): OVH's routed mode puts the guests on a bridge with no ports` });
    }
    return routed;
}

function parseVrack(r: Reader, name: string, raw: unknown): VrackSpec | undefined {
    const key = keyPath("vracks", name);
    r.parse(key, name, v.parseSimpleName);
    const o = r.object(key, raw, VRACK_KEYS);
    if (!o) return undefined;
    return {
        name,
        serviceName: r.required(keyPath(key, "serviceName"), o.serviceName, (x) => {
            if (typeof x !== "string" || !/^pn-\d{1,12}$/.test(x)) throw new v.ConfigValueError("a vRack service name: pn- and digits, such as pn-123456 (GET /vrack)");
            return x;
        }) ?? "",
        bridge: r.optional(keyPath(key, "bridge"), o.bridge, v.parseBridge, "vmbr1"),
        ipv6: r.optional(keyPath(key, "ipv6"), o.ipv6, v6.parseIpv6Prefix),
    };
}

function parseIpBlock(r: Reader, name: string, raw: unknown, servers: Map<string, ServerSpec>, vracks: Map<string, VrackSpec>): IpBlockSpec | undefined {
    const key = keyPath("ipBlocks", name);
    r.parse(key, name, v.parseSimpleName);
    const o = r.object(key, raw, BLOCK_KEYS);
    if (!o) return undefined;
    const inVrack = o.vrack !== undefined && o.vrack !== null;
    const block = r.required(keyPath(key, "block"), o.block, (x) => parseIpv4Block(x, inVrack ? VRACK_MAX_PREFIX : 32));
    const named = <T>(field: "server" | "vrack", known: Map<string, T>) => r.optional(keyPath(key, field), o[field], (x) => {
        if (typeof x !== "string" || !known.has(x)) throw new v.ConfigValueError(`the name of a ${field} declared under ${field}s (${[...known.keys()].join(", ") || "none declared"})`);
        return x;
    });
    const spec: IpBlockSpec = {
        name,
        block: block ?? { network: "0.0.0.0", prefixLength: 32 },
        server: named("server", servers),
        vrack: named("vrack", vracks),
        region: r.optional(keyPath(key, "region"), o.region, parseOvhRegion),
        dropVirtualMacs: r.optional(keyPath(key, "dropVirtualMacs"), o.dropVirtualMacs, v.parseBoolean, false),
    };
    if ((o.server === undefined) === (o.vrack === undefined)) {
        r.issues.push({ key: keyPath(key, o.server === undefined ? "server" : "vrack"), value: o.server === undefined ? undefined : o.vrack, expected: `one of ${keyPath(key, "server")} (the block is routed to a server) and ${keyPath(key, "vrack")} (it is routed into a vRack): OVH routes a block to one place` });
    }
    const server = spec.server === undefined ? undefined : servers.get(spec.server);
    // ovh/docs move-failover-ip: a block stays in its region, except among gra, rbx and sbg.
    if (block && spec.region && server?.region && !regionsCompatible(spec.region, server.region)) {
        r.issues.push({ key: keyPath(key, "server"), value: spec.server, expected: `a server the block may move to: the block is in ${spec.region}, ${keyPath("servers", server.name, "region")} is ${server.region}, and a block stays in its region (eu-west-gra, eu-west-rbx and eu-west-sbg move among themselves)` });
    }
    return spec;
}

function parseCloud(r: Reader, key: string, raw: unknown): Omit<CloudEndpointSpec, "name" | "ip" | "reverse" | "records" | "cnameTarget" | "ttl"> | undefined {
    const o = r.object(key, raw, CLOUD_KEYS);
    if (!o) return undefined;
    if (o.ssh === undefined || o.ssh === null) r.issues.push({ key: keyPath(key, "ssh"), value: undefined, expected: "SSH to the instance: { host, hostKey }, where the IP is added as an alias" });
    const ssh = o.ssh === undefined || o.ssh === null ? undefined : r.object(keyPath(key, "ssh"), o.ssh, CLOUD_SSH_KEYS);
    return {
        project: r.required(keyPath(key, "project"), o.project, v.parseCloudProjectId) ?? "",
        instance: r.required(keyPath(key, "instance"), o.instance, parseInstanceId) ?? "",
        interfaceName: r.optional(keyPath(key, "interfaceName"), o.interfaceName, v.parseInterfaceName),
        flavour: r.optional(keyPath(key, "flavour"), o.flavour, oneOf(CLOUD_FLAVOURS), "netplan"),
        ssh: {
            host: (ssh && r.required(keyPath(key, "ssh", "host"), ssh.host, v.parseHostname)) ?? "",
            port: r.optional(keyPath(key, "ssh", "port"), ssh?.port, v.parsePort, DEFAULT_SSH_PORT),
            user: r.optional(keyPath(key, "ssh", "user"), ssh?.user, v.parseUserName, DEFAULT_SSH_USER),
            // Required: the deploy runs as root on a machine on the Internet.
            hostKey: (ssh && r.required(keyPath(key, "ssh", "hostKey"), ssh.hostKey, v.parseHostKey)) ?? "",
        },
    };
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

function parseContainer(r: Reader, key: string, raw: unknown, defaultBridge: string): ContainerSpec | undefined {
    const o = r.object(key, raw, CONTAINER_KEYS);
    if (!o) return undefined;
    const nic = r.required(keyPath(key, "nic"), o.nic, v.parseNicIndex);
    const spec: ContainerSpec = {
        vmid: r.required(keyPath(key, "vmid"), o.vmid, v.parseVmid) ?? 0,
        nic: nic ?? 0,
        interfaceName: r.optional(keyPath(key, "interfaceName"), o.interfaceName, v.parseInterfaceName, defaultInterfaceName(nic ?? 0)),
        bridge: r.optional(keyPath(key, "bridge"), o.bridge, v.parseBridge, defaultBridge),
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

/** What a Proxmox endpoint and a Public Cloud endpoint have alike. */
function parseCommon(r: Reader, key: string, o: Record<string, unknown>, defaultTtl: number) {
    const ttl = r.optional(keyPath(key, "ttl"), o.ttl, v.parseTtl, defaultTtl);
    return {
        reverse: r.optional(keyPath(key, "reverse"), o.reverse, v.parseFqdn),
        records: o.records === undefined ? [] : parseZones(r, keyPath(key, "records"), o.records),
        cnameTarget: r.optional(keyPath(key, "cnameTarget"), o.cnameTarget, v.parseFqdn),
        ttl,
        lowerTtl: r.optional(keyPath(key, "lowerTtl"), o.lowerTtl, (x) => v.parseLoweredTtl(x, ttl ?? defaultTtl)),
    };
}

type ParsedEndpoint = { cloud: false; spec: EndpointSpec } | { cloud: true; spec: CloudEndpointSpec };

interface Layout {
    servers: Map<string, ServerSpec>;
    vracks: Map<string, VrackSpec>;
    blocks: IpBlockSpec[];
}

function parseCloudEndpoint(r: Reader, name: string, o: Record<string, unknown>, blocks: IpBlockSpec[], defaultTtl: number): CloudEndpointSpec {
    const key = keyPath("endpoints", name);
    for (const field of ["server", "container", "virtualMac", "ip6"] as const) {
        if (o[field] !== undefined) r.issues.push({ key: keyPath(key, field), value: o[field], expected: `nothing: a Public Cloud endpoint (${keyPath(key, "cloud")}) has ${field === "ip6" ? "no IPv6 of the stack's (an additional IP is IPv4; the instance keeps its own IPv6)" : "no server, container or virtual MAC: the IP is attached to the instance and added in its system"}` });
    }
    if (o.mode !== undefined && o.mode !== "cloud") r.issues.push({ key: keyPath(key, "mode"), value: o.mode, expected: `cloud, or no mode: ${keyPath(key, "cloud")} makes it a Public Cloud endpoint` });
    const ip = r.required(keyPath(key, "ip"), o.ip, v.parsePublicIpv4) ?? "";
    const block = ip ? blocks.find((b) => blockContains(b.block, ip)) : undefined;
    if (block) r.issues.push({ key: keyPath(key, "ip"), value: ip, expected: `a lone additional IP: ${ip} is in ${keyPath("ipBlocks", block.name)}, routed to ${block.server ? `a server` : "a vRack"}, and OVH routes a block to one place only` });
    const cloud = parseCloud(r, keyPath(key, "cloud"), o.cloud);
    return {
        name,
        ip,
        project: cloud?.project ?? "",
        instance: cloud?.instance ?? "",
        interfaceName: cloud?.interfaceName,
        flavour: cloud?.flavour ?? "netplan",
        ssh: cloud?.ssh ?? { host: "", port: DEFAULT_SSH_PORT, user: DEFAULT_SSH_USER, hostKey: "" },
        ...parseCommon(r, key, o, defaultTtl),
    };
}

function parseEndpoint(r: Reader, name: string, raw: unknown, layout: Layout, defaultTtl: number): ParsedEndpoint | undefined {
    const { servers, vracks, blocks } = layout;
    const key = keyPath("endpoints", name);
    r.parse(key, name, v.parseSimpleName);
    const o = r.object(key, raw, ENDPOINT_KEYS);
    if (!o) return undefined;
    if (o.cloud !== undefined || o.mode === "cloud") return { cloud: true, spec: parseCloudEndpoint(r, name, o, blocks, defaultTtl) };

    const server = r.required(keyPath(key, "server"), o.server, (x) => {
        if (typeof x !== "string" || !servers.has(x)) {
            throw new v.ConfigValueError(`the name of a server declared under servers (${[...servers.keys()].join(", ") || "none declared"})`);
        }
        return x;
    });
    const serverSpec = server ? servers.get(server) : undefined;
    const ip = r.required(keyPath(key, "ip"), o.ip, v.parsePublicIpv4) ?? "";
    const block = ip ? blocks.find((b) => blockContains(b.block, ip)) : undefined;
    const vrack = block?.vrack === undefined ? undefined : vracks.get(block.vrack);
    const written = r.optional(keyPath(key, "mode"), o.mode, oneOf(ENDPOINT_MODES));
    const mode: ContainerEndpointMode = block?.vrack !== undefined ? "vrack" : written === "routed" ? "routed" : "bridged";
    if (written !== undefined && written !== mode) {
        const why = mode === "vrack" ? `${ip} is in ${keyPath("ipBlocks", block!.name)}, a vRack block` : `${ip} is in no vRack block (ipBlocks)`;
        r.issues.push({ key: keyPath(key, "mode"), value: written, expected: `${mode}, or no mode: ${why}` });
    }
    if (block?.server !== undefined && server !== undefined && block.server !== server) {
        r.issues.push({ key: keyPath(key, "server"), value: server, expected: `${block.server}: ${ip} is in ${keyPath("ipBlocks", block.name)}, routed as a whole to ${keyPath("servers", block.server)}` });
    }
    const routed = mode === "routed" ? serverSpec?.routed : undefined;
    if (mode === "routed" && serverSpec && !routed) {
        r.issues.push({ key: keyPath("servers", serverSpec.name, "routed"), value: undefined, expected: `the host's routed bridge ({ bridge, address }), needed by ${keyPath(key, "mode")} routed` });
    }
    const defaultBridge = routed?.bridge ?? vrack?.bridge ?? CONTAINER_DEFAULTS.bridge;
    const container = parseContainer(r, keyPath(key, "container"), o.container, defaultBridge);
    if (container && routed && container.bridge !== routed.bridge) {
        r.issues.push({ key: keyPath(key, "container", "bridge"), value: container.bridge, expected: `${routed.bridge}, or no bridge: a routed NIC sits on ${keyPath("servers", server!, "routed", "bridge")}, where the host routes its IP` });
    }
    if (container && serverSpec && !serverSpec.proxmox) {
        r.issues.push({ key: keyPath("servers", serverSpec.name, "proxmox"), value: undefined, expected: `the Proxmox host's SSH address ({ host, user, port }), needed by ${keyPath("endpoints", name, "container")}` });
    }
    if (container?.owned && serverSpec?.proxmox && !serverSpec.proxmox.node) {
        r.issues.push({ key: keyPath("servers", serverSpec.name, "proxmox", "node"), value: undefined, expected: `the Proxmox node name, needed to create the container of ${keyPath("endpoints", name)}` });
    }
    let ip6: string | undefined;
    if (o.ip6 !== undefined && o.ip6 !== null && mode === "vrack" && vrack) {
        // The server's own prefix is on its public interface, not on the vRack bridge.
        if (vrack.ipv6) ip6 = r.parse(keyPath(key, "ip6"), o.ip6, (x) => v6.resolveIpv6InPrefix(x, vrackBridgedSubrange6(vrack.ipv6!)));
        else if (!r.issues.some((i) => i.key === keyPath("vracks", vrack.name, "ipv6"))) r.issues.push({ key: keyPath("vracks", vrack.name, "ipv6"), value: undefined, expected: `the vRack's Additional IPv6 block, such as 2001:db8:abcd:ef00::/56, needed by ${keyPath("endpoints", name, "ip6")}: an IP of a vRack block sits on the vRack bridge, where the server's own IPv6 prefix is not` });
    } else if (o.ip6 !== undefined && o.ip6 !== null && serverSpec) {
        if (serverSpec.ipv6) ip6 = r.parse(keyPath(key, "ip6"), o.ip6, (x) => v6.resolveIpv6InPrefix(x, serverSpec.ipv6!.prefix));
        // A prefix written but refused is reported once, under its own key.
        else if (!r.issues.some((i) => i.key.startsWith(keyPath("servers", serverSpec.name, "ipv6")))) r.issues.push({ key: keyPath("servers", serverSpec.name, "ipv6", "prefix"), value: undefined, expected: `the server's IPv6 prefix, such as 2001:db8:1:4662::/64, needed by ${keyPath("endpoints", name, "ip6")}` });
    }
    if (o.ip6 !== undefined && o.ip6 !== null && routed) {
        // A routed guest has no virtual MAC to be found on the public link by: the host answers
        // OVH's router for its address and routes it to the bridge (HostRoute), and the guest's
        // IPv6 gateway is the bridge's own IPv6 address.
        const address6Key = keyPath("servers", serverSpec!.name, "routed", "address6");
        // (An ip6 equal to it cannot pass: the bridge's address is refused inside the server's prefix.)
        if (routed.address6 === undefined && !r.issues.some((i) => i.key === address6Key)) {
            r.issues.push({ key: address6Key, value: undefined, expected: `an IPv6 address the host holds on ${routed.bridge} (such as fd00::1), the routed guests' IPv6 gateway, needed by ${keyPath(key, "ip6")}` });
        }
    }
    const vmac = o.virtualMac === undefined ? {} : r.object(keyPath(key, "virtualMac"), o.virtualMac, VMAC_KEYS) ?? {};
    if (o.virtualMac !== undefined && mode !== "bridged") {
        // ovh/docs move-failover-ip: "If an IP block is moved/added to the vRack … any virtual MAC
        // address will be lost during the transfer"; OVH's routed-mode guide: "No virtual MACs
        // should be applied to Additional IPs".
        const why = mode === "routed"
            ? "a routed IP has no virtual MAC (OVH's routed mode: none may be applied to it)"
            : block?.dropVirtualMacs
              ? "an IP of a vRack block has no virtual MAC"
              : `an IP of a vRack block has no virtual MAC, and OVH drops the virtual MACs of a block moved into a vRack: if ${ip} has one today, it is lost (set ${keyPath("ipBlocks", block!.name, "dropVirtualMacs")} true to accept that)`;
        r.issues.push({ key: keyPath(key, "virtualMac"), value: o.virtualMac, expected: `no virtualMac: ${why}` });
    }
    if (mode === "bridged" && serverSpec && !serverSpec.virtualMacs) {
        r.issues.push({ key: keyPath(key, "mode"), value: written ?? "bridged", expected: `routed (with ${keyPath("servers", serverSpec.name, "routed")}), or an IP of a vRack block: ${keyPath("servers", serverSpec.name, "virtualMacs")} is false, and a bridged IP needs a virtual MAC` });
    }
    if (mode === "vrack" && block) {
        const reserved = vrackReserved(block.block).find((x) => x.address === ip);
        if (reserved) r.issues.push({ key: keyPath(key, "ip"), value: ip, expected: `an address of ${blockText(block.block)} a guest may take: ${ip} is ${reserved.role}, reserved in a vRack block (the first, penultimate and last are)` });
    }
    return {
        cloud: false,
        spec: {
            name,
            server: server ?? "",
            mode,
            block: block?.name,
            ip,
            ip6,
            virtualMac: {
                type: r.optional(keyPath(key, "virtualMac", "type"), vmac.type, v.parseVirtualMacType, v.DEFAULT_VIRTUAL_MAC_TYPE),
                virtualMachineName: r.optional(keyPath(key, "virtualMac", "virtualMachineName"), vmac.virtualMachineName, v.parseSimpleName, name),
                macAddress: r.optional(keyPath(key, "virtualMac", "macAddress"), vmac.macAddress, v.parseMac),
            },
            container: container ?? { vmid: 0, nic: 0, interfaceName: defaultInterfaceName(0), bridge: defaultBridge },
            ...parseCommon(r, key, o, defaultTtl),
        },
    };
}

/** The servers' limits of distinct virtual MACs. */
function checkVirtualMacs(r: Reader, servers: Map<string, ServerSpec>, endpoints: EndpointSpec[]): void {
    for (const [name, server] of servers) {
        if (server.virtualMacLimit === undefined) continue;
        const own = endpoints.filter((e) => e.server === name && e.mode === "bridged");
        // ovh/docs network_virtual_mac (2025-05): the limit counts distinct MACs (third-generation
        // Advance: 32), and OVH applies it to moves too.
        if (own.length > server.virtualMacLimit) {
            r.issues.push({ key: keyPath("servers", name, "virtualMacLimit"), value: server.virtualMacLimit, expected: `room for the ${own.length} virtual MACs the stack gives the server (${own.map((e) => e.name).join(", ")}): put the others in routed mode, or on another server` });
        }
    }
}

/** Blocks that overlap, and a vRack block's reserved addresses. */
function checkBlocks(r: Reader, blocks: IpBlockSpec[]): void {
    blocks.forEach((b, i) => {
        const other = blocks.slice(0, i).find((a) => blockContains(a.block, b.block.network) || blockContains(b.block, a.block.network));
        if (other) r.issues.push({ key: keyPath("ipBlocks", b.name, "block"), value: blockText(b.block), expected: `a block no other entry overlaps (${keyPath("ipBlocks", other.name, "block")} is ${blockText(other.block)})` });
    });
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
    const dnsServesWithin = r.optional("dnsServesWithin", raw.dnsServesWithin, v.parseServesWithin, DEFAULT_SERVES_WITHIN_SECONDS);

    const rawEndpoints = raw.endpoints !== null && typeof raw.endpoints === "object" && !Array.isArray(raw.endpoints) ? Object.values(raw.endpoints as Record<string, unknown>) : [];
    const onlyCloud = rawEndpoints.length > 0 && rawEndpoints.every((e) => e !== null && typeof e === "object" && "cloud" in e);
    const servers = new Map<string, ServerSpec>();
    const serverEntries = raw.servers === undefined && onlyCloud ? [] : entries(r, "servers", raw.servers, "a map from server name to { serviceName, mainIp, proxmox }");
    for (const [name, body] of serverEntries) {
        const s = parseServer(r, name, body);
        if (s) servers.set(name, s);
    }
    const vracks = new Map<string, VrackSpec>();
    for (const [name, body] of raw.vracks === undefined ? [] : entries(r, "vracks", raw.vracks, "a map from vRack name to { serviceName, bridge }")) {
        const x = parseVrack(r, name, body);
        if (x) vracks.set(name, x);
    }
    const ipBlocks: IpBlockSpec[] = [];
    for (const [name, body] of raw.ipBlocks === undefined ? [] : entries(r, "ipBlocks", raw.ipBlocks, "a map from block name to { block, server } or { block, vrack }")) {
        const b = parseIpBlock(r, name, body, servers, vracks);
        if (b) ipBlocks.push(b);
    }
    checkBlocks(r, ipBlocks);
    const endpoints: EndpointSpec[] = [];
    const cloudEndpoints: CloudEndpointSpec[] = [];
    for (const [name, body] of entries(r, "endpoints", raw.endpoints, "a map from endpoint name to { server, ip, container, records }")) {
        const e = parseEndpoint(r, name, body, { servers, vracks, blocks: ipBlocks }, dnsTtl);
        if (e?.cloud) cloudEndpoints.push(e.spec);
        else if (e) endpoints.push(e.spec);
    }
    checkVirtualMacs(r, servers, endpoints);

    const byIp = new Map<string, string>();
    const sameIp = (e: { name: string; ip: string }) => {
        const otherIp = byIp.get(e.ip);
        if (e.ip && otherIp) r.issues.push({ key: keyPath("endpoints", e.name, "ip"), value: e.ip, expected: `an IP no other endpoint uses (${keyPath("endpoints", otherIp, "ip")} has it)` });
        byIp.set(e.ip, e.name);
    };
    for (const e of cloudEndpoints) {
        sameIp(e);
        for (const [s, server] of servers) {
            if (server.mainIp === e.ip) r.issues.push({ key: keyPath("endpoints", e.name, "ip"), value: e.ip, expected: `a failover IP, not the main IP of a server (${keyPath("servers", s, "mainIp")})` });
        }
    }
    const byIp6 = new Map<string, string>();
    const vrackOf = (e: EndpointSpec): VrackSpec | undefined => {
        const rack = ipBlocks.find((b) => b.name === e.block)?.vrack;
        return rack === undefined ? undefined : vracks.get(rack);
    };
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
        sameIp(e);
        if (e.ip6) {
            const otherIp6 = byIp6.get(e.ip6);
            if (otherIp6) r.issues.push({ key: keyPath("endpoints", e.name, "ip6"), value: e.ip6, expected: `an IPv6 address no other endpoint uses (${keyPath("endpoints", otherIp6, "ip6")} has it)` });
            byIp6.set(e.ip6, e.name);
            const rack = e.mode === "vrack" ? vrackOf(e) : undefined;
            if (rack?.ipv6) {
                if (e.ip6 === vrackGateway6(rack.ipv6)) r.issues.push({ key: keyPath("endpoints", e.name, "ip6"), value: e.ip6, expected: `an address other than the gateway of ${keyPath("vracks", rack.name, "ipv6")} (${e.ip6}, its first address)` });
            } else {
                const six = servers.get(e.server)?.ipv6;
                const gateways = six ? [six.gateway, six.prefix.length === 64 ? ovhGateway6(six.prefix) : undefined] : [];
                if (gateways.includes(e.ip6)) r.issues.push({ key: keyPath("endpoints", e.name, "ip6"), value: e.ip6, expected: `an address other than the gateway of ${keyPath("servers", e.server, "ipv6")} (${e.ip6})` });
            }
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
    const names: EndpointNames[] = [...endpoints, ...cloudEndpoints].map((e) => ({ endpoint: e.name, zones: e.records, cnameTarget: e.cnameTarget }));
    for (const c of [...findRecordConflicts(names), ...unsaidCnameTargets(names)]) r.issues.push({ key: c.key, value: c.value, expected: c.expected });

    if (r.issues.length > 0) throw new v.ConfigError(r.issues);
    return { protectIps, dnsServesWithin, servers, vracks, ipBlocks, endpoints, cloudEndpoints };
}
