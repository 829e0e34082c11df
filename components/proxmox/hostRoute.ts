// The Proxmox host side of a routed-mode endpoint (OVH routed mode, no virtual MAC): the
// additional IP or block routed to a bridge with no ports and a private address, forwarding on,
// proxy ARP on the public uplink; persisted across reboots and undone exactly on delete. The
// container's NIC on that bridge (ip=<IP>/32, gw=<bridge address>) is ContainerNic's.
// The scripts and the upstream facts they rely on are in hostRouteScript.ts.
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { checked } from "../shared/checked";
import { parseIpv6Gateway, parseRoutedDestination6 } from "../shared/ipv6";
import { sshConnection } from "../shared/ssh";
import { parseBridge, parseHostInterface, parseIpv4, parseOwnerTag, parsePrefixLength4, parseRoutedDestination } from "../shared/validate";
import type { ProxmoxConnection } from "./containerNic";
import { HostRouteSpec, renderHostRouteCreate, renderHostRouteDelete, renderHostRouteUpdate } from "./hostRouteScript";

/** The defaults of a routed bridge's optional values (OVH's guide: 192.168.0.1/24 on the bridge, proxy ARP on the public interface). */
export const HOST_ROUTE_DEFAULTS = { uplink: "vmbr0", bridgePrefixLength: 24 } as const;

export interface HostRouteArgs {
    proxmox: ProxmoxConnection;
    /** A bridge that exists on the host and holds bridgeAddress, e.g. vmbr2. The stack never creates it. */
    bridge: pulumi.Input<string>;
    /** The private IPv4 on the bridge: the guests' gateway, e.g. 192.168.0.1. */
    bridgeAddress: pulumi.Input<string>;
    /** Its prefix length; 24 unless told. */
    bridgePrefixLength?: pulumi.Input<number>;
    /** The public interface that gets proxy_arp; vmbr0 unless told. */
    uplink?: pulumi.Input<string>;
    /** An additional IP (alone or /32) or a block in CIDR form. */
    destination: pulumi.Input<string>;
    /**
     * An IPv6 address routed to the bridge as /128 (alone or /128), with proxy NDP on the uplink;
     * needs bridgeAddress6. Our own setup, not OVH's guide (see hostRouteScript.ts).
     */
    destination6?: pulumi.Input<string>;
    /** The IPv6 address the bridge holds (fd00::1, fe80::1, or a global address): the guests' IPv6 gateway. */
    bridgeAddress6?: pulumi.Input<string>;
    /** The host is gone: on delete or replacement, forget the route instead of undoing it over SSH. */
    hostUnreachable?: boolean;
}

export class HostRoute extends pulumi.ComponentResource {
    /** The destination in CIDR form, as routed (203.0.113.10/32). */
    readonly destination: pulumi.Output<string>;
    /** Who holds the route's line on the host: `<project>/<stack>/<name>`. */
    readonly owner: string;
    /** The resource that applies the route: what anything needing it in place depends on. */
    readonly applied: command.remote.Command;

    constructor(name: string, args: HostRouteArgs, opts?: pulumi.ComponentResourceOptions) {
        super("ovh-failover:proxmox:HostRoute", name, {}, opts);
        this.owner = checked(this, "name", `${pulumi.getProject()}/${pulumi.getStack()}/${name}`, parseOwnerTag);
        const owner = this.owner;
        // Plain values are checked now, so that a bad one stops the program where it is declared;
        // values known later (outputs) are checked when known.
        const plain = (v: unknown) => v !== undefined && !pulumi.Output.isInstance(v) && !(v instanceof Promise);
        if (plain(args.destination)) checked(this, "destination", args.destination, parseRoutedDestination);
        if (plain(args.bridge)) checked(this, "bridge", args.bridge, (v) => parseHostInterface(parseBridge(v)));
        if (plain(args.bridgeAddress)) checked(this, "bridgeAddress", args.bridgeAddress, parseIpv4);
        if (plain(args.bridgePrefixLength)) checked(this, "bridgePrefixLength", args.bridgePrefixLength, parsePrefixLength4);
        if (plain(args.uplink)) checked(this, "uplink", args.uplink, parseHostInterface);
        if ((args.destination6 === undefined) !== (args.bridgeAddress6 === undefined)) {
            throw new pulumi.ResourceError("destination6 and bridgeAddress6 go together: the guests' IPv6 gateway is the bridge's IPv6 address", this);
        }
        if (plain(args.destination6)) checked(this, "destination6", args.destination6, parseRoutedDestination6);
        if (plain(args.bridgeAddress6)) checked(this, "bridgeAddress6", args.bridgeAddress6, parseIpv6Gateway);
        if (plain(args.uplink ?? HOST_ROUTE_DEFAULTS.uplink) && plain(args.bridge) && (args.uplink ?? HOST_ROUTE_DEFAULTS.uplink) === args.bridge) {
            throw new pulumi.ResourceError(`uplink: ${String(args.bridge)} is the routed bridge itself; proxy ARP belongs on the public interface`, this);
        }
        const spec: pulumi.Output<HostRouteSpec> = pulumi
            .all([args.destination, args.bridge, args.bridgeAddress, args.bridgePrefixLength, args.uplink, args.destination6, args.bridgeAddress6])
            .apply(([destination, bridge, bridgeAddress, prefixLength, uplink, destination6, bridgeAddress6]) => {
                const s: HostRouteSpec = {
                    destination: checked(this, "destination", destination, parseRoutedDestination),
                    bridge: checked(this, "bridge", bridge, (v) => parseHostInterface(parseBridge(v))),
                    bridgeAddress: checked(this, "bridgeAddress", bridgeAddress, parseIpv4),
                    bridgePrefixLength: checked(this, "bridgePrefixLength", prefixLength ?? HOST_ROUTE_DEFAULTS.bridgePrefixLength, parsePrefixLength4),
                    uplink: checked(this, "uplink", uplink ?? HOST_ROUTE_DEFAULTS.uplink, parseHostInterface),
                    owner,
                };
                if (destination6 !== undefined && bridgeAddress6 !== undefined) {
                    s.destination6 = checked(this, "destination6", destination6, parseRoutedDestination6);
                    s.bridgeAddress6 = checked(this, "bridgeAddress6", bridgeAddress6, parseIpv6Gateway);
                }
                if (s.uplink === s.bridge) throw new pulumi.ResourceError(`uplink: ${s.uplink} is the routed bridge itself; proxy ARP belongs on the public interface`, this);
                return s;
            });
        this.destination = spec.apply((s) => s.destination);

        this.applied = new command.remote.Command(`${name}-route`, {
            connection: sshConnection(args.proxmox),
            create: spec.apply(renderHostRouteCreate),
            update: spec.apply(renderHostRouteUpdate),
            delete: spec.apply(renderHostRouteDelete),
            // Another host, destination, bridge, bridge address or uplink is another route:
            // replaced, never updated in place (see deleteBeforeReplace). The IPv6 values are not
            // among them: a replacement deletes first, so adding, changing or removing IPv6 would
            // cut the IPv4 route for a moment (and, with the host's last route, turn forwarding
            // off); the update script swaps the IPv6 line in place instead (hostRouteScript.ts).
            triggers: [
                args.proxmox.host,
                spec.apply((s) => [s.destination, s.bridge, `${s.bridgeAddress}/${s.bridgePrefixLength}`, s.uplink].join(" ")),
            ],
            // The host keeps what delete needs (its list and records): stock sshd refuses the
            // previous output @pulumi/command offers through SetEnv (see pct.ts).
            addPreviousOutputInEnv: false,
        }, {
            parent: this,
            // The old route goes before the new one is made. Both carry the same owner, and a
            // line is found by (destination, owner): created first, the new line would be taken
            // by the old delete for its own, and a bridge change of one destination would be
            // refused as routed elsewhere. Delete first costs the route for the seconds between
            // the two scripts, and makes each one see a host with exactly one line of its own.
            deleteBeforeReplace: true,
            retainOnDelete: args.hostUnreachable === true,
        });
        this.registerOutputs({ destination: this.destination });
    }
}
