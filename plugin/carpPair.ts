// CarpPair as the plugin package serves it to programs in other languages, on the pattern of
// plugin/publicEndpoint.ts: args a package schema can carry (named interfaces, named string
// enums, plain values and Inputs), each mapped onto the library's CarpPairArgs, nothing dropped.
// Where the library's type is one the analyzer refuses, the plugin has its own:
// - a node's move, a union of { kind: "cloud", project, instance } and { kind: "dedicated",
//   serviceName }, is an object with exactly one of cloud and dedicatedServer;
// - the group (Omit<CarpGroupSpec, …> & {…}) is the interface CarpGroup;
// - the flavour, a union of two strings, is the enum EdgeFlavour;
// - ipmove, a bundle on the machine that runs the program, is IpmoveSource: by default the
//   package's own bundle (ipmoveBundle()), or a file of one's own, or none (install: false, it
//   is on the nodes already);
// - accessRules, a map of node to rules, is an Output of that map.
import { createHash } from "crypto";
import * as fs from "fs";
import * as pulumi from "@pulumi/pulumi";
import { CarpPairArgs as LibraryArgs, declareCarpPair } from "../components/edge/carpPair";
import { ipmoveBundle, IpmoveBundle } from "../components/edge/ipmoveBundle";
import type { MoveTarget as LibraryMoveTarget } from "../components/network/ipMove";
import { ConfigIssue, formatIssues } from "../components/shared/validate";
import { SshConnection } from "./publicEndpoint";

/** The daemon the nodes run: OpenBSD's carp(4) with ifstated, or keepalived (VRRP) on Linux. */
export const EdgeFlavour = {
    Openbsd: "openbsd",
    Keepalived: "keepalived",
} as const;
export type EdgeFlavour = (typeof EdgeFlavour)[keyof typeof EdgeFlavour];

/** An OVH Public Cloud instance the IP is attached to. */
export interface CloudMoveTarget {
    /** The project's id (service name). */
    project: string;
    /** The instance's id. */
    instance: string;
}

/** An OVH dedicated server the IP is routed to. */
export interface DedicatedMoveTarget {
    /** OVH service name, e.g. ns3012345.ip-198-51-100.eu. */
    serviceName: string;
}

/** Where a promoted node moves the IP: exactly one of cloud and dedicatedServer. */
export interface MoveTarget {
    cloud?: CloudMoveTarget;
    dedicatedServer?: DedicatedMoveTarget;
}

/** One node of the pair. */
export interface EdgeNode {
    name: string;
    /** 0–254, distinct per node: the lowest is the preferred master (at most 253 with keepalived). */
    advskew: number;
    /** Internet-facing interface that gets the failover IP as an alias, e.g. vio0. */
    publicInterface: string;
    /** Interface on the private network, watched like the public one, e.g. vio1. */
    privateInterface: string;
    /** This node's own address on the CARP VLAN (keepalived's unicast source; required with keepalived). */
    privateAddress?: string;
    move: MoveTarget;
    /** How to reach the node over SSH (root, or a user that may write /etc and restart the daemon). */
    ssh: SshConnection;
}

/** The CARP/VRRP group, the same on every node. */
export interface CarpGroup {
    /** Virtual host id, 1–255. */
    vhid: number;
    /** The CARP address on the private network, e.g. 10.25.0.10. */
    address: string;
    prefixLength: number;
    /** The interface CARP runs on (the private VLAN), e.g. vio2. */
    carpdev: string;
    /** Seconds between advertisements (default 1). */
    advbase?: number;
    /** The carp interface's number: 0 for carp0 (default 0). */
    carpUnit?: number;
}

/** What a node must reach to deserve the IP. */
export interface HealthCheck {
    /** An address the node must reach, e.g. a resolver. */
    pingTarget: string;
    /** Seconds between two checks (default 15). */
    intervalSeconds?: number;
}

/** The OVH credentials ovh-ipmove uses on the nodes; each may come from a (secret) config value. */
export interface OvhCredentialsForNodes {
    /** ovh-eu, ovh-ca, ovh-us… */
    endpoint: pulumi.Input<string>;
    applicationKey: pulumi.Input<string>;
    applicationSecret: pulumi.Input<string>;
    consumerKey: pulumi.Input<string>;
}

/** Which ovh-ipmove the deploy copies to every node. */
export interface IpmoveSource {
    /** false: ovh-ipmove is on the nodes already, at ipmovePath, and nothing is copied (default true). */
    install?: boolean;
    /** A bundle of one's own (buildIpmoveBundle) on the machine that runs the plugin; default the package's own. */
    file?: string;
}

/** An OVH API access rule (method and path) a node's consumer key needs. */
export interface AccessRule {
    method: string;
    path: string;
}

export interface CarpPairArgs {
    /** The daemon on the nodes (default openbsd). */
    flavour?: EdgeFlavour;
    failoverIp: string;
    group: CarpGroup;
    /** [A-Za-z0-9_-]; the pair makes it a secret, pass it as one (a secret config value). */
    password: pulumi.Input<string>;
    nodes: EdgeNode[];
    health: HealthCheck;
    /** The credentials ovh-ipmove uses on the nodes; the pair makes them a secret; least privilege (see accessRules). */
    ovhCredentials: pulumi.Input<OvhCredentialsForNodes>;
    /** Where ovh-ipmove lives on the nodes (default /usr/local/bin/ovh-ipmove). */
    ipmovePath?: string;
    /** Seconds between two re-assertions of the routing by the master (default 30). */
    reassertSeconds?: number;
    /** Whether the node with the lowest advskew takes the master role back (default false). */
    preempt?: boolean;
    /** The ovh-ipmove copied to every node: by default the one this package ships. */
    ipmove?: IpmoveSource;
    reverse?: string;
    protect?: boolean;
}

/** The library's move target for the plugin's, or the problem with it: exactly one of cloud and dedicatedServer. */
function libraryMove(move: MoveTarget | undefined, key: string): LibraryMoveTarget | ConfigIssue {
    const given = [move?.cloud, move?.dedicatedServer].filter((t) => t !== undefined && t !== null).length;
    if (given !== 1) {
        return { key, value: move, expected: "exactly one of cloud ({ project, instance }) and dedicatedServer ({ serviceName })" };
    }
    return move!.cloud
        ? { kind: "cloud", project: move!.cloud.project, instance: move!.cloud.instance }
        : { kind: "dedicated", serviceName: move!.dedicatedServer!.serviceName };
}

/** The bundle the deploy copies: the package's own, a file of one's own (its checksum computed), or none. */
function libraryIpmove(source: IpmoveSource | undefined): IpmoveBundle | ConfigIssue | false {
    if (source?.install === false) {
        return source.file === undefined ? false : { key: "args.ipmove.file", value: source.file, expected: "no file when install is false (nothing is copied)" };
    }
    if (source?.file === undefined) return ipmoveBundle();
    if (!fs.existsSync(source.file)) return { key: "args.ipmove.file", value: source.file, expected: "a file on the machine that runs the plugin" };
    return { file: source.file, sha256: createHash("sha256").update(fs.readFileSync(source.file)).digest("hex") };
}

const isIssue = (v: unknown): v is ConfigIssue => typeof v === "object" && v !== null && "expected" in v && "key" in v;

/**
 * The library's args for the plugin's: the same values, each move as the library's union, the
 * ipmove bundle resolved. Throws a ResourceError naming every bad move (args.nodes[i].move)
 * before anything is declared.
 */
export function libraryArgs(parent: pulumi.Resource, args: CarpPairArgs): LibraryArgs {
    const issues: ConfigIssue[] = [];
    const nodes = (args.nodes ?? []).map((n, i) => {
        const move = libraryMove(n.move, `args.nodes[${i}].move`);
        if (isIssue(move)) issues.push(move);
        return {
            name: n.name,
            advskew: n.advskew,
            publicInterface: n.publicInterface,
            privateInterface: n.privateInterface,
            privateAddress: n.privateAddress,
            move: move as LibraryMoveTarget,
            ssh: n.ssh,
        };
    });
    const ipmove = libraryIpmove(args.ipmove);
    if (isIssue(ipmove)) issues.push(ipmove);
    if (issues.length > 0) throw new pulumi.ResourceError(formatIssues(issues), parent);
    return {
        flavour: args.flavour,
        failoverIp: args.failoverIp,
        group: {
            vhid: args.group.vhid,
            address: args.group.address,
            prefixLength: args.group.prefixLength,
            carpdev: args.group.carpdev,
            advbase: args.group.advbase,
            carpUnit: args.group.carpUnit,
        },
        password: args.password,
        nodes,
        health: { pingTarget: args.health.pingTarget, intervalSeconds: args.health.intervalSeconds },
        // The library takes one Input of plain strings: each field's Input is lifted into it.
        ovhCredentials: pulumi.output(args.ovhCredentials),
        ipmovePath: args.ipmovePath,
        reassertSeconds: args.reassertSeconds,
        preempt: args.preempt,
        ipmove: ipmove as IpmoveBundle | false,
        reverse: args.reverse,
        protect: args.protect,
    };
}

/**
 * An edge pair: the failover IP, a CARP/VRRP group and its nodes, every node's files rendered and
 * deployed over SSH. The nodes move the IP themselves (ovh-ipmove) when promoted.
 */
export class CarpPair extends pulumi.ComponentResource {
    /** Per node, the OVH API access rules its consumer key needs: only what ovh-ipmove calls. */
    readonly accessRules: pulumi.Output<Record<string, AccessRule[]>>;

    constructor(name: string, args: CarpPairArgs, opts?: pulumi.ComponentResourceOptions) {
        // The library's type token (see plugin/publicEndpoint.ts): the pair and its children get
        // the URNs a TypeScript program gives them.
        super("ovh-failover:edge:CarpPair", name, {}, opts);
        const parts = declareCarpPair(this, name, libraryArgs(this, args));
        this.accessRules = pulumi.output(parts.accessRules);
        this.registerOutputs({ accessRules: parts.accessRules });
    }
}
