// The values of an edge pair, declared once for every node (seed 001: "do not forget to update
// the script on the second node"), and their validation. Pure: the renderers and the CarpPair
// component take these typed values.
import * as ipaddr from "ipaddr.js";
import type { MoveTarget } from "../network/ipMove";
import { ConfigIssue, ConfigValueError, keyPath, parseAbsolutePath, parseCloudProjectId, parseInstanceRef, parseInterfaceName, parseIpv4, parsePublicIpv4, parseServiceName } from "../shared/validate";

export interface CarpGroupSpec {
    /** Virtual host id, 1–255, the same on every node. */
    vhid: number;
    /** The CARP address on the private network, e.g. 10.25.0.10. */
    address: string;
    prefixLength: number;
    /** The interface CARP runs on (the private VLAN), e.g. vio2. */
    carpdev: string;
    /** Seconds between advertisements. */
    advbase: number;
    /** [A-Za-z0-9_-] only; a Pulumi secret in the component. */
    password: string;
    /** The carp interface's number: carp0. */
    carpUnit: number;
}

export interface CarpNodeSpec {
    name: string;
    /** 0–254, distinct per node: the lowest is the preferred master. */
    advskew: number;
    /** Internet-facing interface that gets the failover IP as an alias, e.g. vio0. */
    publicInterface: string;
    /** Interface on the private network, watched like the public one, e.g. vio1. */
    privateInterface: string;
    /** This node's own address on the CARP VLAN (keepalived's unicast source). */
    privateAddress?: string;
    move: MoveTarget;
}

/**
 * What a node's periodic re-assertion yields to: the move targets (instances or servers) of the
 * nodes of higher priority (lower advskew). In a split brain every node is master and
 * re-asserts; yielding, the IP moves at most twice (a lower node's promotion, then a higher
 * node's re-assertion) and ends on the highest-priority node that is up, however long it lasts.
 * A node yields only once a claim of its own has gone through since it became master
 * (claimState.ts): before that, the node above may be dead.
 */
export function yieldTargets(spec: { nodes: CarpNodeSpec[] }, node: CarpNodeSpec): string[] {
    return spec.nodes
        .filter((n) => n.advskew < node.advskew)
        .sort((a, b) => a.advskew - b.advskew)
        .map((n) => (n.move.kind === "cloud" ? n.move.instance : n.move.serviceName));
}

export interface HealthCheckSpec {
    /** An address the node must reach to deserve the IP, e.g. a resolver. */
    pingTarget: string;
    /** Seconds between two checks (default DEFAULT_HEALTH_INTERVAL_SECONDS, 15). */
    intervalSeconds: number;
}

export interface EdgePairSpec {
    group: CarpGroupSpec;
    nodes: CarpNodeSpec[];
    failoverIp: string;
    health: HealthCheckSpec;
    /** Path of ovh-ipmove on the nodes. */
    ipmovePath: string;
    /** Seconds between two re-assertions of the routing by the master (default 30). */
    reassertSeconds?: number;
    /**
     * Whether a healthy node with a lower advskew takes the master role from the current master
     * (OpenBSD: net.inet.carp.preempt=1; keepalived: no `nopreempt`). Either way a master that
     * fails or demotes itself loses the role.
     */
    preempt: boolean;
}

/**
 * The stack's default: no preemption. Every change of master is a move at OVH, seconds without
 * the IP; preempting would add a second move when the preferred node comes back, and one per
 * flap of a node that comes and goes. OpenBSD's own default (netinet/ip_carp.c carpctl_preempt =
 * 0), which seed 001's production pair ran with; health failover does not need it.
 */
export const DEFAULT_PREEMPT = false;

// The defaults of an edge pair's optional values, for the library and the stack keys alike.
/** Seconds between two CARP/VRRP advertisements. */
export const DEFAULT_ADVBASE = 1;
/** The carp interface's number: carp0. */
export const DEFAULT_CARP_UNIT = 0;
/** Seconds between two health checks. */
export const DEFAULT_HEALTH_INTERVAL_SECONDS = 15;
/** Where ovh-ipmove lives on the nodes. */
export const DEFAULT_IPMOVE_PATH = "/usr/local/bin/ovh-ipmove";
/** Seconds between two re-assertions of the routing by the master. */
export const DEFAULT_REASSERT_SECONDS = 30;

const PASSWORD = /^[A-Za-z0-9_-]+$/;

export function netmaskOf(prefixLength: number): string {
    return ipaddr.IPv4.subnetMaskFromPrefixLength(prefixLength).toString();
}

export function broadcastOf(address: string, prefixLength: number): string {
    return ipaddr.IPv4.broadcastAddressFromCIDR(`${address}/${prefixLength}`).toString();
}

function int(value: unknown, min: number, max: number, what: string): number {
    const n = typeof value === "string" && /^\d+$/.test(value) ? Number(value) : value;
    if (typeof n !== "number" || !Number.isInteger(n) || n < min || n > max) {
        throw new ConfigValueError(`${what}, an integer from ${min} to ${max}`);
    }
    return n;
}

export const parseVhid = (v: unknown) => int(v, 1, 255, "a CARP/VRRP virtual host id (vhid)");
export const parseAdvskew = (v: unknown) => int(v, 0, 254, "an advskew (lower wins the master role)");
export const parseAdvbase = (v: unknown) => int(v, 1, 255, "an advertisement interval in seconds (advbase)");

export function parseCarpPassword(value: unknown): string {
    if (typeof value !== "string" || !PASSWORD.test(value)) {
        throw new ConfigValueError("a CARP password of letters, digits, '_' and '-' only (no spaces)");
    }
    return value;
}

/** Every problem with an edge pair's values, keyed as in the stack file (edge.group.vhid, edge.nodes[1].advskew, …). */
export function checkEdgePair(raw: {
    group: Partial<Record<keyof CarpGroupSpec, unknown>>;
    nodes: Partial<Record<keyof CarpNodeSpec, unknown>>[];
    failoverIp: unknown;
    health: Partial<Record<keyof HealthCheckSpec, unknown>>;
    ipmovePath?: unknown;
}, prefix = "edge"): ConfigIssue[] {
    const issues: ConfigIssue[] = [];
    const check = (key: (string | number)[], value: unknown, parse: (v: unknown) => unknown) => {
        try {
            parse(value);
        } catch (err) {
            if (!(err instanceof ConfigValueError)) throw err;
            issues.push({ key: keyPath(prefix, ...key), value, expected: err.message });
        }
    };
    check(["group", "vhid"], raw.group.vhid, parseVhid);
    check(["group", "address"], raw.group.address, parseIpv4);
    check(["group", "prefixLength"], raw.group.prefixLength, (v) => int(v, 1, 32, "a prefix length"));
    check(["group", "carpdev"], raw.group.carpdev, parseInterfaceName);
    check(["group", "advbase"], raw.group.advbase ?? DEFAULT_ADVBASE, parseAdvbase);
    check(["group", "password"], raw.group.password, parseCarpPassword);
    check(["group", "carpUnit"], raw.group.carpUnit ?? DEFAULT_CARP_UNIT, (v) => int(v, 0, 255, "the number of the carp interface (0 for carp0)"));
    if (raw.ipmovePath !== undefined) check(["ipmovePath"], raw.ipmovePath, parseAbsolutePath);
    check(["failoverIp"], raw.failoverIp, parsePublicIpv4);
    check(["health", "pingTarget"], raw.health.pingTarget, parseIpv4);
    check(["health", "intervalSeconds"], raw.health.intervalSeconds ?? DEFAULT_HEALTH_INTERVAL_SECONDS, (v) => int(v, 1, 3600, "a health check interval in seconds"));
    if (raw.nodes.length < 2) {
        issues.push({ key: keyPath(prefix, "nodes"), value: raw.nodes.length, expected: "at least two nodes (a pair needs a backup)" });
    }
    const seenSkew = new Map<unknown, number>();
    const seenName = new Map<unknown, number>();
    raw.nodes.forEach((n, i) => {
        check(["nodes", i, "name"], n.name, (v) => {
            if (typeof v !== "string" || !/^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$/.test(v)) throw new ConfigValueError("a node name of letters, digits, '_', '.', '-'");
        });
        check(["nodes", i, "advskew"], n.advskew, parseAdvskew);
        check(["nodes", i, "publicInterface"], n.publicInterface, parseInterfaceName);
        check(["nodes", i, "privateInterface"], n.privateInterface, parseInterfaceName);
        if (n.privateAddress !== undefined) check(["nodes", i, "privateAddress"], n.privateAddress, parseIpv4);
        // What reaches the move command the node runs as root.
        const move = n.move as Partial<MoveTarget> | undefined;
        if (move?.kind === "cloud") {
            check(["nodes", i, "move", "project"], move.project, parseCloudProjectId);
            check(["nodes", i, "move", "instance"], move.instance, parseInstanceRef);
        } else if (move?.kind === "dedicated") {
            check(["nodes", i, "move", "server"], move.serviceName, parseServiceName);
        } else {
            issues.push({ key: keyPath(prefix, "nodes", i, "move"), value: n.move, expected: "{ kind: cloud, project, instance } or { kind: dedicated, serviceName }" });
        }
        if (seenSkew.has(n.advskew)) {
            issues.push({ key: keyPath(prefix, "nodes", i, "advskew"), value: n.advskew, expected: `an advskew no other node has (${keyPath(prefix, "nodes", seenSkew.get(n.advskew)!, "advskew")} has it): equal advskews make the master a coin toss` });
        } else {
            seenSkew.set(n.advskew, i);
        }
        if (seenName.has(n.name)) {
            issues.push({ key: keyPath(prefix, "nodes", i, "name"), value: n.name, expected: `a name no other node has (${keyPath(prefix, "nodes", seenName.get(n.name)!, "name")})` });
        } else {
            seenName.set(n.name, i);
        }
    });
    return issues;
}
