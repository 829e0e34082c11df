// CloudEndpoint as the plugin package serves it to programs in other languages, on the pattern of
// plugin/publicEndpoint.ts: args a package schema can carry, each mapped onto the library's
// CloudEndpointArgs, nothing dropped. Where the library's type is one the analyzer refuses, the
// plugin has its own:
// - ssh, SshConnection & { hostKey }, is InstanceSsh: plugin/publicEndpoint.ts's SshConnection
//   with the host key required;
// - flavour, a union of two strings, is the enum AliasFlavour.
// The component is the library's CloudEndpoint itself, as plugin/ipBlock.ts's is the library's
// IpBlock: it and its children get the URNs a TypeScript program gives them.
import * as pulumi from "@pulumi/pulumi";
import { CloudEndpoint as LibraryCloudEndpoint, CloudEndpointArgs as LibraryArgs } from "../components/cloudEndpoint";
import { OvhApiSettings, ovhApiProvider, SshConnection, ZoneNames } from "./publicEndpoint";

/** Where the instance keeps the /32 across reboots: netplan (Ubuntu 22.04 and later, Debian 12) or debian (ifupdown, Debian 11). */
export const AliasFlavour = {
    Netplan: "netplan",
    Debian: "debian",
} as const;
export type AliasFlavour = (typeof AliasFlavour)[keyof typeof AliasFlavour];

/** How the instance is reached over SSH; its host key is required (the instance is on the Internet). */
export interface InstanceSsh extends SshConnection {
    /** The instance's public key, `<type> <base64>` (ssh-keyscan -t ed25519 <host>). */
    hostKey: pulumi.Input<string>;
}

export interface CloudEndpointArgs {
    /** The additional IP, already in the project. */
    ip: string;
    /** The Public Cloud project (32 hex digits). */
    project: pulumi.Input<string>;
    /** The instance's id (a UUID). */
    instanceId: pulumi.Input<string>;
    /** Public Cloud images log in as debian or ubuntu (with sudo), not root. */
    ssh: InstanceSsh;
    /** The instance's public interface (default: the one of its default route, found on it). */
    interfaceName?: string;
    /** netplan (default) or debian. */
    flavour?: AliasFlavour;
    reverse?: string;
    /** The DNS names that point at the IP, per zone (default none). */
    zones?: ZoneNames[];
    cnameTarget?: string;
    /** The records' TTL (default 300). */
    ttl?: number;
    /** While given, the records' TTL (below ttl), and the stack records since when: the first step of an IP change. */
    lowerTtl?: number;
    /** How long the zones' name servers have to serve changed records, in seconds (default 600; 0: no proof). */
    servesWithinSeconds?: number;
    /** The OVH API settings the proof that DNS serves the records runs under (default: the stack's `ovh:` config). */
    ovhApi?: OvhApiSettings;
    /** Ids of the records that exist already, by resource name, for Pulumi to import. */
    importIds?: Record<string, string>;
    /** The instance is gone: its alias is forgotten on delete instead of undone over SSH. */
    instanceGone?: boolean;
}

/**
 * The library's args for the plugin's: the same values, and a provider for ovhApi, made before the
 * component, beside it (as plugin/ipBlock.ts's).
 */
export function libraryArgs(name: string, args: CloudEndpointArgs, parent: pulumi.Resource | undefined): LibraryArgs {
    const ssh = args.ssh;
    return {
        ip: args.ip,
        project: args.project,
        instanceId: args.instanceId,
        ssh: { host: ssh.host, port: ssh.port, user: ssh.user, privateKey: ssh.privateKey, hostKey: ssh.hostKey },
        interfaceName: args.interfaceName,
        flavour: args.flavour,
        reverse: args.reverse,
        zones: args.zones,
        cnameTarget: args.cnameTarget,
        ttl: args.ttl,
        servesWithinSeconds: args.servesWithinSeconds,
        lowerTtl: args.lowerTtl,
        importIds: args.importIds,
        instanceGone: args.instanceGone,
        ovhApi: ovhApiProvider(name, args.ovhApi, parent),
    };
}

/** The library's CloudEndpoint seen as a plain ComponentResource (see plugin/ipBlock.ts). */
const libraryComponent: new (name: string, args: LibraryArgs, opts?: pulumi.ComponentResourceOptions) => pulumi.ComponentResource = LibraryCloudEndpoint;

/**
 * The public endpoint of a service on an OVH Public Cloud instance: the additional IP attached
 * to the instance, the /32 alias in the guest over SSH (restored on delete), the DNS records.
 */
export class CloudEndpoint extends libraryComponent {
    // Set by the library's constructor; `declare` keeps a field of this class from resetting them.
    declare readonly ip: pulumi.Output<string>;
    /** The interface the alias is on, as the instance reported it. */
    declare readonly interfaceName: pulumi.Output<string>;

    constructor(name: string, args: CloudEndpointArgs, opts?: pulumi.ComponentResourceOptions) {
        super(name, libraryArgs(name, args, opts?.parent), opts);
    }
}
