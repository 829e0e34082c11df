// The public endpoint of a service in a Proxmox container on an OVH dedicated server, in the order
// a safe IP change needs: the IP is routed to the server, a virtual MAC is bound to it, the
// container's NIC takes IP, MAC and gateway, and only then does DNS point at the IP; the reverse
// comes last, once its name resolves to the IP.
import * as ovh from "@ovhcloud/pulumi-ovh";
import * as pulumi from "@pulumi/pulumi";
import * as ipaddr from "ipaddr.js";
import { CONTAINER_DEFAULTS, ContainerNic, defaultInterfaceName, OwnedContainer, ProxmoxConnection } from "./proxmox/containerNic";
import { FailoverIp } from "./network/failoverIp";
import { Gateway6Source, GatewayRuleError, GatewaySource, ResolvedGateway, ResolvedGateway6, resolveGateway, resolveGateway6 } from "./proxmox/gateway";
import { checked } from "./shared/checked";
import { DEFAULT_VIRTUAL_MAC_TYPE } from "./shared/validate";
import { canonicalIpv6, inPrefix, Ipv6Prefix, parseIpv6Gateway, parseIpv6Prefix, prefixText, resolveIpv6InPrefix } from "./shared/ipv6";
import { BOOT_PATIENCE_SECONDS, GatewayProbe } from "./proxmox/gatewayProbe";
import { ZoneNamesArgs } from "./dns/records";
import { DEFAULT_TTL, pendingAddressRecords, ServiceRecords } from "./dns/serviceRecords";
import { OvhApiProvider } from "./network/ovhApiProvider";
import { VirtualMac } from "./network/virtualMac";
import { parseIpv4Block, vrackBridgedSubrange6, vrackGateway, vrackGateway6 } from "./network/blocks";
import { localMacFor } from "./proxmox/pct";
import { HostRoute } from "./proxmox/hostRoute";

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
    /** The server's IPv6 prefix (2001:db8:1:4662::/64), and a gateway written by hand (fe80::1). */
    ipv6?: { prefix: string; gateway?: string };
    /** The most distinct virtual MACs the server takes (third-generation Advance: 32), checked before each new one. */
    virtualMacLimit?: number;
}

/** routing of GET /dedicated/server/{sn}/specifications/network: ipv4 and ipv6, each with its gateway. */
type ServerRouting = ovh.types.output.Dedicated.GetServerSpecificationsNetworkRouting;

/**
 * How the IP reaches the container (docs/layouts.md): with a virtual MAC on the server's bridge
 * (bridged, the default), through a route on the Proxmox host to a bridge of its own (routed), or
 * as an address of a block in a vRack (vrack).
 */
export type EndpointLayout =
    | { mode: "bridged" }
    | { mode: "routed"; hostRoute: RoutedHost }
    | { mode: "vrack"; ipv6Block?: string };

/** The host's side of routed mode: a bridge with no ports and a private address (servers.<s>.routed). */
export interface RoutedHost {
    bridge: string;
    address: string;
    prefixLength: number;
    uplink: string;
    /** The bridge's IPv6 address (fe80::1): the guests' IPv6 gateway; needed by a routed endpoint with ip6. */
    address6?: string;
}

/** The block an endpoint's IP lies in, routed as a whole by an IpBlock. */
export interface EndpointBlock {
    /** The block as OVH holds it, e.g. 203.0.113.8/29. */
    cidr: string;
    /**
     * What routes it: the IpBlock's ovh.ip.Move or ovh.vrack.IpAddress, which the virtual MAC and
     * the reverse wait for. Without it, the program orders them (dependsOn on the endpoint).
     */
    routing?: pulumi.Resource;
    /** In a vRack, the NIC takes the block's length and its penultimate address as gateway. */
    inVrack: boolean;
}

export interface PublicEndpointArgs {
    ip: string;
    /** bridged (default), routed or vrack; vrack needs a block in a vRack. */
    layout?: EndpointLayout;
    /** The block the IP lies in; without it the IP is a lone /32 the endpoint routes itself. */
    block?: EndpointBlock;
    /**
     * An IPv6 address in server.ipv6.prefix, whole or relative to it (::10): AAAA records, ip6 on the
     * NIC. For a vrack layout, in the first /64 of layout.ipv6Block instead.
     */
    ip6?: string;
    server: DedicatedServer;
    reverse?: string;
    /** macAddress: the MAC the IP already has, when adopting one made by hand. */
    virtualMac?: { type?: "ovh" | "vmware"; virtualMachineName?: string; macAddress?: string };
    container: {
        proxmox: ProxmoxConnection;
        vmid: number;
        nic: number;
        /** The interface inside the container (default eth<nic>). */
        interfaceName?: string;
        /** The host bridge (default CONTAINER_DEFAULTS.bridge, vmbr0). */
        bridge?: string;
        owned?: OwnedContainer;
        /** The Proxmox host is gone (docs/runbooks/server-gone.md). */
        hostUnreachable?: boolean;
    };
    /** The DNS names that point at the IP, per zone; "@" (or "") is the apex. Default: none. */
    zones?: ZoneNamesArgs[];
    cnameTarget?: string;
    /** The records' TTL (default DEFAULT_TTL, 300). */
    ttl?: number;
    /** While given, the records' TTL (below ttl) and a TtlLowering since when: the first step of an IP change. */
    lowerTtl?: number;
    /** How long the zones' name servers have to serve changed records (default 600 s; 0: no proof). */
    servesWithinSeconds?: number;
    /** Protect the IP's routing from `pulumi destroy` (default true); it is retained on delete either way. */
    protect?: boolean;
    /** ARP requests per gateway and seconds allowed for a verdict (defaults 3 and 5). */
    probe?: { tries?: number; timeoutSeconds?: number };
    /** Ids of the records that exist already, by resource name, for Pulumi to import. */
    importIds?: Record<string, string>;
    /**
     * The provider the virtual MAC, the checks before the IP moves and the proof that DNS serves
     * the records run under, which carries the OVH endpoint and credentials; share one between endpoints. Default: one of the endpoint's
     * own, from the stack's `ovh:` config.
     */
    ovhApi?: OvhApiProvider;
}

/** The names of an endpoint's resources that can be adopted: what an adopt file is keyed by. */
export function endpointResourceNames(name: string): { routing: string; reverse: string; vmac: string; nic: string; records: string } {
    return { routing: `${name}-ip-routing`, reverse: `${name}-ip-reverse`, vmac: `${name}-vmac`, nic: `${name}-nic-pct-set`, records: `${name}-dns` };
}

/** Whether the endpoint's records get a proof that DNS serves them, which asks the OVH API. */
export function provesRecords(args: { zones?: ZoneNamesArgs[]; servesWithinSeconds?: number }): boolean {
    return args.servesWithinSeconds !== 0 && (args.zones ?? []).some((z) => (z.a?.length ?? 0) + (z.cname?.length ?? 0) > 0);
}

/**
 * How long the provider may retry the reverse (a Go duration): OVH checks that the name resolves
 * to the IP, and a resolver may hold the record's previous value for its TTL. TTL 0 is the zone's
 * default, unknown here: an hour is assumed.
 */
export function reverseReadiness(ttl: number): string {
    return `${(ttl === 0 ? 3600 : ttl) + 60}s`;
}

/** Everything an endpoint declares, for the component that holds it. */
export interface PublicEndpointParts {
    ip: pulumi.Output<string>;
    macAddress: pulumi.Output<string>;
    gateway: pulumi.Output<string>;
    gatewaySource: pulumi.Output<GatewaySource>;
    ip6?: string;
    gateway6?: pulumi.Output<string>;
    gateway6Source?: pulumi.Output<Gateway6Source>;
    failoverIp: FailoverIp;
    /** The virtual MAC of a bridged IP. */
    virtualMac?: VirtualMac;
    /** The host's route of a routed IP. */
    hostRoute?: HostRoute;
    nic: ContainerNic;
    probe: GatewayProbe;
    records: ServiceRecords;
}

/** The outputs an endpoint component registers. */
export function publicEndpointOutputs(p: PublicEndpointParts): pulumi.Inputs {
    return { ip: p.ip, macAddress: p.macAddress, gateway: p.gateway, gatewaySource: p.gatewaySource, ip6: p.ip6, gateway6: p.gateway6 };
}

/**
 * Declares an endpoint's children under `self`: the body of PublicEndpoint, shared with the
 * component the plugin package serves to other languages (plugin/publicEndpoint.ts), so that both
 * declare the same children.
 */
export function declarePublicEndpoint(self: pulumi.ComponentResource, name: string, args: PublicEndpointArgs): PublicEndpointParts {
    // IPv6 values are checked before any child is declared.
    // An IP of a vRack block sits on the vRack bridge, where the server's own prefix is not: its
    // ip6 comes from the vRack's IPv6 block.
    const vrackBlock6 = args.layout?.mode === "vrack" && args.layout.ipv6Block !== undefined ? checked(self, "layout.ipv6Block", args.layout.ipv6Block, parseIpv6Prefix) : undefined;
    const prefix = args.layout?.mode === "vrack"
        ? vrackBlock6 && vrackBridgedSubrange6(vrackBlock6)
        : args.server.ipv6 && checked(self, "server.ipv6.prefix", args.server.ipv6.prefix, parseIpv6Prefix);
    const configured6 = args.server.ipv6?.gateway === undefined ? undefined : checked(self, "server.ipv6.gateway", args.server.ipv6.gateway, parseIpv6Gateway);
    if (args.ip6 !== undefined && !prefix) throw new pulumi.ResourceError(args.layout?.mode === "vrack" ? "ip6 needs layout.ipv6Block: the vRack's IPv6 block, whose first /64 the address is in" : "ip6 needs server.ipv6.prefix: the prefix the address is in", self);
    const ip6 = prefix && args.ip6 !== undefined ? checked(self, "ip6", args.ip6, (x) => resolveIpv6InPrefix(x, prefix)) : undefined;
    // The reverse waits for the A records, which are declared below.
    const pending = pendingAddressRecords();
    const addressRecords = pending.records;
    try {
        const layout = args.layout ?? { mode: "bridged" };
        const block = args.block;
        if (layout.mode === "vrack" && !block?.inVrack) throw new pulumi.ResourceError("layout vrack needs block: the vRack block the IP lies in", self);
        if (layout.mode !== "vrack" && block?.inVrack) throw new pulumi.ResourceError(`the IP is in a vRack block (${block.cidr}): its layout is vrack`, self);
        const blockLength = block ? Number(block.cidr.split("/")[1]) : 32;
        // The provider the OVH API is read and written under by this project's own resources:
        // the lone IP's MoveCheck, the virtual MAC, the proof that DNS serves the records. A
        // refusal of the check names the stack's key: the program names each endpoint by its key
        // under endpoints (index.ts).
        const needsApi = block === undefined || layout.mode === "bridged" || provesRecords(args);
        const ovhApi = needsApi ? args.ovhApi ?? new OvhApiProvider(`${name}-ovh-api`, {}, { parent: self }) : undefined;
        const failoverIp = new FailoverIp(`${name}-ip`, {
            ip: args.ip,
            block: block?.cidr,
            routeTo: block ? undefined : { dedicatedServer: args.server.serviceName },
            check: block ? undefined : { subject: `endpoints.${name}.ip`, needsVirtualMacs: layout.mode === "bridged", macLimit: args.server.virtualMacLimit, ovhApi },
            reverse: args.reverse,
            reverseAfter: block?.routing ? addressRecords.then((rs) => [block.routing!, ...rs]) : addressRecords,
            reverseReadiness: reverseReadiness(args.ttl ?? DEFAULT_TTL),
            protect: args.protect,
        }, { parent: self });
        const routing = block ? block.routing : failoverIp.routing;

        // A virtual MAC only where OVH gives one: bridged. Routed mode and vRack blocks have none
        // (ovh/docs network_virtual_mac: "If an IP block has been moved to the vRack … you cannot
        // assign a virtual MAC address to any IP"; the routed-mode guide applies none).
        const spec = specificationsOf(self, args.server);
        const network = spec.apply((x) => x?.routing ?? undefined);
        let virtualMac: VirtualMac | undefined;
        if (layout.mode === "bridged") {
            // OVH's word on the server (vmac.supported), read by the invoke so that a preview fails
            // already. At `up` the invoke's apply may end after the routing has started: what
            // holds the move back is the MoveCheck it depends on (FailoverIp, IpBlock).
            const serviceName = spec.apply((x) => {
                if (x?.vmac?.supported === false) {
                    throw new pulumi.ResourceError(`server ${args.server.serviceName}: the OVH API says it takes no virtual MAC (specifications/network vmac.supported is false), and a bridged IP needs one: use routed mode (servers.<server>.routed) or a vRack block`, self);
                }
                return args.server.serviceName;
            });
            virtualMac = new VirtualMac(`${name}-vmac`, {
                serviceName,
                macLimit: args.server.virtualMacLimit,
                ipAddress: args.ip,
                type: args.virtualMac?.type ?? DEFAULT_VIRTUAL_MAC_TYPE,
                virtualMachineName: args.virtualMac?.virtualMachineName ?? name,
                expectedMacAddress: args.virtualMac?.macAddress,
            }, { parent: self, provider: ovhApi!, dependsOn: routing ? [routing] : [] });
        } else if (args.virtualMac !== undefined) {
            throw new pulumi.ResourceError(`virtualMac: a ${layout.mode} IP has no virtual MAC`, self);
        }
        const macAddress = virtualMac?.macAddress ?? pulumi.output(localMacFor(args.ip));

        const interfaceName = args.container.interfaceName ?? defaultInterfaceName(args.container.nic);
        const resolved: pulumi.Output<ResolvedGateway> = layout.mode === "routed"
            ? pulumi.output({ gateway: layout.hostRoute.address, source: "routed-bridge" as const, probe: [layout.hostRoute.address] })
            : layout.mode === "vrack"
              ? pulumi.output({ gateway: vrackGateway(parseIpv4Block(block!.cidr)), source: "vrack-block" as const, probe: [vrackGateway(parseIpv4Block(block!.cidr))] })
              : gatewayOf(self, args.server, network);
        // A routed guest's IPv6 is its own /128 behind the host, whose bridge address is its gateway
        // (HostRoute answers OVH's router for the address on the uplink and routes it to the bridge).
        const routed6 = layout.mode === "routed" && ip6 ? routedGateway6(self, layout.hostRoute, ip6) : undefined;
        const resolved6 = !prefix || !ip6
            ? undefined
            : routed6
              ? pulumi.output<ResolvedGateway6>({ gateway: routed6, source: "routed-bridge" })
              : vrackBlock6
                ? vrackGateway6Of(self, vrackBlock6, ip6)
                : gateway6Of(self, args.server.serviceName, prefix, configured6, ip6, network);
        const gateway6 = resolved6?.apply((r) => r.gateway);
        const hostRoute = layout.mode === "routed" ? declareHostRoute(self, name, args, layout.hostRoute, routing, routed6 && ip6) : undefined;

        const nic = new ContainerNic(`${name}-nic`, {
            proxmox: args.container.proxmox,
            vmid: args.container.vmid,
            index: args.container.nic,
            interfaceName,
            bridge: args.container.bridge ?? CONTAINER_DEFAULTS.bridge,
            macAddress,
            address: args.ip,
            prefixLength: layout.mode === "vrack" ? blockLength : 32,
            gateway: resolved.apply((r) => r.gateway),
            ipv6: prefix && ip6 && gateway6 ? { address: ip6, prefixLength: routed6 ? 128 : prefix.length, gateway: gateway6 } : undefined,
            owned: args.container.owned,
            hostUnreachable: args.container.hostUnreachable,
        }, {
            parent: self,
            // The NIC once the IP reaches the host: a routed IP's host route (itself after OVH's
            // routing), a vRack block in its vRack; a bridged IP waits for its virtual MAC.
            dependsOn: hostRoute ? [hostRoute.applied] : layout.mode === "vrack" && routing ? [routing] : [],
        });

        // DNS moves only once the container has shown that its gateway answers.
        const probe = new GatewayProbe(`${name}-gateway`, {
            proxmox: args.container.proxmox,
            vmid: args.container.vmid,
            index: args.container.nic,
            interfaceName,
            gateways: resolved.apply((r) => r.probe),
            gateway6,
            address6: gateway6 && ip6,
            address: args.ip,
            macAddress,
            netValue: nic.netValue,
            tries: args.probe?.tries,
            timeoutSeconds: args.probe?.timeoutSeconds,
            hostUnreachable: args.container.hostUnreachable,
            bootPatienceSeconds: args.container.owned ? BOOT_PATIENCE_SECONDS : undefined,
        }, { parent: self, dependsOn: [nic.applied] });

        const records = new ServiceRecords(`${name}-dns`, {
            ip: args.ip,
            ip6,
            zones: args.zones,
            cnameTarget: args.cnameTarget,
            ttl: args.ttl,
            importIds: args.importIds,
            servesWithinSeconds: args.servesWithinSeconds,
            lowerTtl: args.lowerTtl,
            ovhApi,
        }, { parent: self, dependsOn: [probe.command] });
        pending.declared(records.reverseWaitsFor);
        return {
            ip: pulumi.output(args.ip),
            macAddress,
            gateway: probe.gateway,
            gatewaySource: resolved.apply((r) => r.source),
            ip6,
            gateway6,
            gateway6Source: resolved6?.apply((r) => r.source),
            failoverIp, virtualMac, hostRoute, nic, probe, records,
        };
    } catch (err) {
        pending.failed(err);
        throw err;
    }
}

export class PublicEndpoint extends pulumi.ComponentResource {
    readonly ip: pulumi.Output<string>;
    readonly macAddress: pulumi.Output<string>;
    readonly gateway: pulumi.Output<string>;
    readonly gatewaySource: pulumi.Output<GatewaySource>;
    /** The IPv6 address, whole, when the endpoint has one. */
    readonly ip6?: string;
    readonly gateway6?: pulumi.Output<string>;
    readonly gateway6Source?: pulumi.Output<Gateway6Source>;
    readonly failoverIp: FailoverIp;
    readonly virtualMac?: VirtualMac;
    readonly hostRoute?: HostRoute;
    readonly nic: ContainerNic;
    readonly probe: GatewayProbe;
    readonly records: ServiceRecords;

    constructor(name: string, args: PublicEndpointArgs, opts?: pulumi.ComponentResourceOptions) {
        super("ovh-failover:endpoint:PublicEndpoint", name, {}, opts);
        const p = declarePublicEndpoint(this, name, args);
        this.ip = p.ip;
        this.macAddress = p.macAddress;
        this.gateway = p.gateway;
        this.gatewaySource = p.gatewaySource;
        this.ip6 = p.ip6;
        this.gateway6 = p.gateway6;
        this.gateway6Source = p.gateway6Source;
        this.failoverIp = p.failoverIp;
        this.virtualMac = p.virtualMac;
        this.hostRoute = p.hostRoute;
        this.nic = p.nic;
        this.probe = p.probe;
        this.records = p.records;
        this.registerOutputs(publicEndpointOutputs(p));
    }
}

/**
 * Routed mode's host side (OVH's guide "Additional IP in routed mode", proxmox-network-HG-Scale):
 * the IP routed to the host's bridge, with forwarding and the uplink's proxy ARP, once OVH routes
 * it to the server.
 */
function declareHostRoute(self: pulumi.ComponentResource, name: string, args: PublicEndpointArgs, host: RoutedHost, routing: pulumi.Resource | undefined, ip6: string | undefined): HostRoute {
    return new HostRoute(`${name}-host`, {
        proxmox: args.container.proxmox,
        bridge: host.bridge,
        bridgeAddress: host.address,
        bridgePrefixLength: host.prefixLength,
        uplink: host.uplink,
        destination: `${args.ip}/32`,
        ...(ip6 !== undefined ? { destination6: `${ip6}/128`, bridgeAddress6: host.address6 } : {}),
        hostUnreachable: args.container.hostUnreachable,
    }, { parent: self, dependsOn: routing ? [routing] : [] });
}

/**
 * The IPv6 gateway of a routed endpoint: the bridge's own IPv6 address (servers.<s>.routed.address6).
 * OVH documents no routed IPv6 for Proxmox guests (proxmox-network-HG-Scale covers IPv4 only): this
 * is the standard Linux routed setup, ours (components/proxmox/hostRouteScript.ts).
 */
function routedGateway6(self: pulumi.ComponentResource, host: RoutedHost, ip6: string): string {
    if (host.address6 === undefined) {
        throw new pulumi.ResourceError(`ip6 ${ip6} of a routed endpoint needs the routed bridge's IPv6 address (servers.<server>.routed.address6, such as fd00::1): the guest's IPv6 gateway`, self);
    }
    const address6 = checked(self, "layout.hostRoute.address6", host.address6, parseIpv6Gateway);
    if (address6 === ip6) throw new pulumi.ResourceError(`ip6 ${ip6} is the routed bridge's own IPv6 address (its guests' gateway)`, self);
    return address6;
}

/** The server's network as the OVH API states it (GET /dedicated/server/{sn}/specifications/network), unless turned off. */
function specificationsOf(self: pulumi.ComponentResource, server: DedicatedServer): pulumi.Output<ovh.dedicated.GetServerSpecificationsNetworkResult | undefined> {
    return server.gatewayFromApi === false
        ? pulumi.output(undefined)
        : ovh.dedicated.getServerSpecificationsNetworkOutput({ serviceName: server.serviceName }, { parent: self });
}

function vrackGateway6Of(self: pulumi.ComponentResource, block6: Ipv6Prefix, ip6: string): pulumi.Output<ResolvedGateway6> {
    const gateway = vrackGateway6(block6);
    if (gateway === ip6) throw new pulumi.ResourceError(`ip6 ${ip6} is the vRack's IPv6 gateway (the first address of ${prefixText(block6)})`, self);
    return pulumi.output({ gateway, source: "vrack-block" as const });
}

function gateway6Of(
    self: pulumi.ComponentResource, serviceName: string, prefix: Ipv6Prefix, configured: string | undefined, ip6: string,
    network: pulumi.Output<ServerRouting | undefined>,
): pulumi.Output<ResolvedGateway6> {
    return network.apply((routing) => {
        const six = routing?.ipv6;
        // The API's answer is not the stack's: read in any form, not refused for its spelling.
        let apiGateway: string | undefined;
        if (six?.gateway) {
            if (!ipaddr.IPv6.isValid(six.gateway)) throw new pulumi.ResourceError(`server ${serviceName}: the OVH API's routing.ipv6.gateway ${JSON.stringify(six.gateway)} is not an IPv6 address`, self);
            apiGateway = canonicalIpv6(six.gateway);
        }
        // A prefix outside the server's own network (a typo, or a block routed some other way)
        // is not served by the server's gateway: the API's gateway is not used for it.
        if (six?.network && ipaddr.IPv6.isValidCIDR(six.network)) {
            const [net, len] = ipaddr.IPv6.parseCIDR(six.network);
            if (len <= prefix.length && !inPrefix(prefix.network, { network: net.toRFC5952String(), length: len })) {
                pulumi.log.warn(`server ${serviceName}: ${prefixText(prefix)} is not inside the server's IPv6 network ${six.network} (routing.ipv6.network from the OVH API): its routing.ipv6.gateway is not used`, self);
                apiGateway = undefined;
            }
        }
        try {
            const r = resolveGateway6({ apiGateway, prefix, configured });
            if (configured && r.source === "api" && configured !== r.gateway) {
                pulumi.log.warn(`configured IPv6 gateway ${configured} differs from ${r.gateway} (from the OVH API); using ${r.gateway}`, self);
            }
            if (r.gateway === ip6) throw new pulumi.ResourceError(`ip6 ${ip6} is the server's IPv6 gateway (from the ${r.source})`, self);
            return r;
        } catch (err) {
            if (err instanceof GatewayRuleError) throw new pulumi.ResourceError(`server ${serviceName}: ${err.message}`, self);
            throw err;
        }
    });
}

function gatewayOf(self: pulumi.ComponentResource, server: DedicatedServer, network: pulumi.Output<ServerRouting | undefined>): pulumi.Output<ResolvedGateway> {
    const apiGateway = network.apply((routing) => routing?.ipv4?.gateway || undefined);
    return apiGateway.apply((gw) => {
        try {
            const r = resolveGateway({ apiGateway: gw, mainIp: server.mainIp, configured: server.gateway, candidates: server.gatewayCandidates });
            if (server.gateway && r.source !== "config" && server.gateway !== r.gateway) {
                pulumi.log.warn(`configured gateway ${server.gateway} differs from ${r.gateway} (from the ${r.source}); using ${r.gateway}`, self);
            }
            return r;
        } catch (err) {
            if (err instanceof GatewayRuleError) throw new pulumi.ResourceError(`server ${server.serviceName}: ${err.message}`, self);
            throw err;
        }
    });
}
