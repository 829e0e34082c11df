// PublicEndpoint as the plugin package serves it to programs in other languages. Its args are
// what a package schema can carry, so that @pulumi/pulumi's analyzer (provider/experimental/
// analyzer.js) can infer the schema from them: named interfaces (no inline object types), named
// string enums (no bare unions), plain values and Inputs, no class instances. Each maps onto the
// library's PublicEndpointArgs; nothing of them is dropped.
import * as pulumi from "@pulumi/pulumi";
import { declarePublicEndpoint, PublicEndpointArgs as LibraryArgs, PublicEndpointParts, publicEndpointOutputs } from "../components/publicEndpoint";
import { OvhApiProvider, OvhApiProviderArgs } from "../components/network/ovhApiProvider";

/** How the Proxmox host is reached over SSH: root on port 22 unless told otherwise. */
export interface SshConnection {
    /** SSH address of the host. */
    host: pulumi.Input<string>;
    port?: pulumi.Input<number>;
    user?: pulumi.Input<string>;
    /** A private key (a Pulumi secret); without it the SSH agent (SSH_AUTH_SOCK) is used. */
    privateKey?: pulumi.Input<string>;
    /** The host's public key, `<type> <base64>`; without it any key is accepted. */
    hostKey?: pulumi.Input<string>;
}

/** The server's IPv6 prefix (2001:db8:1:4662::/64), and a gateway written by hand (fe80::1). */
export interface ServerIpv6 {
    prefix: string;
    gateway?: string;
}

/** The OVH dedicated server the IP is routed to. */
export interface DedicatedServer {
    /** OVH service name, e.g. ns3012345.ip-198-51-100.eu. */
    serviceName: string;
    /** The server's main IPv4, for the .254 gateway rule when the API does not say. */
    mainIp?: string;
    /** Read routing.ipv4.gateway from the OVH API (default true). */
    gatewayFromApi?: boolean;
    /** A gateway written by hand, used when neither the API nor mainIp gives one. */
    gateway?: string;
    /** Gateways tried in order from inside the container when nothing else gives one. */
    gatewayCandidates?: string[];
    ipv6?: ServerIpv6;
    /** The most distinct virtual MACs the server takes (third-generation Advance: 32). */
    virtualMacLimit?: number;
}

/** How the IP reaches the container. */
export const EndpointMode = {
    Bridged: "bridged",
    Routed: "routed",
    Vrack: "vrack",
} as const;
export type EndpointMode = (typeof EndpointMode)[keyof typeof EndpointMode];

/** The Proxmox host's routed bridge: a bridge with no ports and a private address, the guests' gateway. */
export interface RoutedHost {
    bridge: string;
    address: string;
    prefixLength: number;
    /** The public interface that gets proxy_arp (vmbr0). */
    uplink: string;
    /** The bridge's IPv6 address (fd00::1 or fe80::1): the guests' IPv6 gateway, needed by an endpoint with ip6. */
    address6?: string;
}

/** The library's EndpointLayout as one object: hostRoute goes with mode routed. */
export interface EndpointLayout {
    mode: EndpointMode;
    hostRoute?: RoutedHost;
    /** With mode vrack: the vRack's Additional IPv6 block (2001:db8:abcd:ef00::/56), whose first /64 holds ip6. */
    ipv6Block?: string;
}

/**
 * The block the IP lies in. Its routing (an ovh.ip.Move of the block, or an ovh.vrack.IpAddress)
 * is declared by the program with the OVH provider and given to the endpoint as dependsOn.
 */
export interface EndpointBlock {
    /** The block as OVH holds it, e.g. 203.0.113.8/29. */
    cidr: string;
    /** The block is in a vRack (default false). */
    inVrack?: boolean;
}

/** The kind of virtual MAC OVH creates. */
export const VirtualMacType = {
    Ovh: "ovh",
    Vmware: "vmware",
} as const;
export type VirtualMacType = (typeof VirtualMacType)[keyof typeof VirtualMacType];

export interface VirtualMacOptions {
    /** Default ovh. */
    type?: VirtualMacType;
    /** Default: the endpoint's name. */
    virtualMachineName?: string;
    /** The MAC the IP already has, when adopting one made by hand. */
    macAddress?: string;
}

/** A private NIC of an owned container. */
export interface PrivateNic {
    index: number;
    interfaceName: string;
    bridge: string;
    /** Address with prefix length, e.g. 10.1.0.100/24. */
    cidr: string;
    gateway?: string;
}

/** A container the stack creates and owns. */
export interface OwnedContainer {
    node: pulumi.Input<string>;
    hostname: string;
    /** Template volume id, e.g. local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst. */
    template: pulumi.Input<string>;
    osType?: string;
    cores?: number;
    memoryMb?: number;
    diskGb?: number;
    datastore?: string;
    privateNics?: PrivateNic[];
}

/** The Proxmox container that carries the IP. */
export interface Container {
    proxmox: SshConnection;
    vmid: number;
    /** The N of netN. */
    nic: number;
    /** The interface inside the container (default eth<nic>). */
    interfaceName?: string;
    /** The host bridge (default vmbr0). */
    bridge?: string;
    owned?: OwnedContainer;
    /** The Proxmox host is gone: nothing is run on it. */
    hostUnreachable?: boolean;
}

/** The names of one DNS zone that point at the IP. */
export interface ZoneNames {
    /** The zone apex, e.g. example.org. */
    zone: string;
    /** Names that get an A record; "@" (or "") is the apex. */
    a?: string[];
    /** Names that get a CNAME to the canonical name. Never the apex. */
    cname?: string[];
}

/** ARP requests per gateway and seconds allowed for a verdict (defaults 3 and 5). */
export interface ProbeOptions {
    tries?: number;
    timeoutSeconds?: number;
}

/**
 * The OVH endpoint and credentials the virtual MAC's provider runs with (in TypeScript, an
 * OvhApiProvider resource). Each one not given is read from the stack's `ovh:` config.
 */
export interface OvhApiSettings {
    /** ovh-eu, ovh-ca, ovh-us… or an https URL. */
    endpoint?: pulumi.Input<string>;
    applicationKey?: pulumi.Input<string>;
    applicationSecret?: pulumi.Input<string>;
    consumerKey?: pulumi.Input<string>;
    clientId?: pulumi.Input<string>;
    clientSecret?: pulumi.Input<string>;
}

export interface PublicEndpointArgs {
    /** The failover IP. */
    ip: string;
    /** bridged (default), routed or vrack. */
    layout?: EndpointLayout;
    block?: EndpointBlock;
    /** An IPv6 address in server.ipv6.prefix, whole or relative to it (::10). */
    ip6?: string;
    server: DedicatedServer;
    reverse?: string;
    virtualMac?: VirtualMacOptions;
    container: Container;
    /** The DNS names that point at the IP, per zone (default none). */
    zones?: ZoneNames[];
    cnameTarget?: string;
    ttl?: number;
    /** While given, the records' TTL (below ttl), and the stack records since when: the first step of an IP change. */
    lowerTtl?: number;
    /** How long the zones' name servers have to serve changed records, in seconds (default 600; 0: no proof). */
    servesWithinSeconds?: number;
    /** Protect the IP's routing from `pulumi destroy` (default true). */
    protect?: boolean;
    probe?: ProbeOptions;
    /** Ids of the records that exist already, by resource name, for Pulumi to import. */
    importIds?: Record<string, string>;
    ovhApi?: OvhApiSettings;
}

/**
 * The provider for ovhApi's settings, or none without them. Named `<name>-ovh-api`, the name the
 * library gives its default provider: with or without settings, the provider has the same URN
 * when its parent is the component.
 */
export function ovhApiProvider(name: string, ovhApi: OvhApiSettings | undefined, parent: pulumi.Resource | undefined): OvhApiProvider | undefined {
    if (!ovhApi) return undefined;
    const settings: OvhApiProviderArgs = {
        endpoint: ovhApi.endpoint,
        applicationKey: ovhApi.applicationKey,
        applicationSecret: ovhApi.applicationSecret,
        consumerKey: ovhApi.consumerKey,
        clientId: ovhApi.clientId,
        clientSecret: ovhApi.clientSecret,
    };
    return new OvhApiProvider(`${name}-ovh-api`, settings, { parent });
}

/** The library's args for the plugin's: the same values, and a provider resource for ovhApi. */
export function libraryArgs(parent: pulumi.ComponentResource, name: string, args: PublicEndpointArgs): LibraryArgs {
    const layout = args.layout;
    if (layout?.mode === "routed" && !layout.hostRoute) throw new pulumi.ResourceError("layout.hostRoute: the host's routed bridge, needed by layout.mode routed", parent);
    return {
        ip: args.ip,
        layout: layout === undefined ? undefined : layout.mode === "routed" ? { mode: "routed", hostRoute: layout.hostRoute! } : layout.mode === "vrack" ? { mode: "vrack", ipv6Block: layout.ipv6Block } : { mode: layout.mode },
        block: args.block && { cidr: args.block.cidr, inVrack: args.block.inVrack ?? false },
        server: args.server,
        reverse: args.reverse,
        virtualMac: args.virtualMac,
        container: args.container,
        zones: args.zones,
        cnameTarget: args.cnameTarget,
        ttl: args.ttl,
        servesWithinSeconds: args.servesWithinSeconds,
        lowerTtl: args.lowerTtl,
        protect: args.protect,
        probe: args.probe,
        importIds: args.importIds,
        ovhApi: ovhApiProvider(name, args.ovhApi, parent),
    };
}

/**
 * The public endpoint of a service in a Proxmox container on an OVH dedicated server: the IP's
 * routing, its virtual MAC, the container's NIC and its gateway probe, the DNS records.
 */
export class PublicEndpoint extends pulumi.ComponentResource {
    readonly ip: pulumi.Output<string>;
    readonly macAddress: pulumi.Output<string>;
    /** The gateway the container's NIC has, proven by the probe. */
    readonly gateway: pulumi.Output<string>;
    /** Where the gateway came from: api, main-ip, config or probe. */
    readonly gatewaySource: pulumi.Output<string>;
    /** The IPv6 address, whole, when the endpoint has one. */
    readonly ip6: pulumi.Output<string | undefined>;
    readonly gateway6: pulumi.Output<string | undefined>;

    constructor(name: string, args: PublicEndpointArgs, opts?: pulumi.ComponentResourceOptions) {
        // The library's type token, not the schema's (ovh-failover:index:PublicEndpoint, the only
        // module a source-based package may have: provider/experimental/provider.js
        // validateResourceType): the endpoint and its children get the URNs a TypeScript program
        // gives them, so a stack can move between languages with no alias.
        super("ovh-failover:endpoint:PublicEndpoint", name, {}, opts);
        const parts: PublicEndpointParts = declarePublicEndpoint(this, name, libraryArgs(this, name, args));
        this.ip = parts.ip;
        this.macAddress = parts.macAddress;
        this.gateway = parts.gateway;
        this.gatewaySource = parts.gatewaySource;
        this.ip6 = pulumi.output(parts.ip6);
        this.gateway6 = pulumi.output(parts.gateway6);
        this.registerOutputs(publicEndpointOutputs(parts));
    }
}
