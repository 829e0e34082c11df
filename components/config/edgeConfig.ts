// Parses the `edges` key of a stack: CARP/VRRP edge pairs (seed 001), checked whole before any
// resource is declared, every problem named by its key. Every string that reaches a node's shell,
// a file or an ifstated `run` line has a strict grammar here; the renderers quote it as well.
import { checkEdgePair, DEFAULT_ADVBASE, DEFAULT_CARP_UNIT, DEFAULT_HEALTH_INTERVAL_SECONDS, DEFAULT_IPMOVE_PATH, DEFAULT_PREEMPT, DEFAULT_REASSERT_SECONDS } from "../edge/carpSpec";
import { DEFAULT_FLAVOUR, EdgeFlavour, parseEdgeFlavour } from "../edge/edgeDeploy";
import { KEEPALIVED_ADVSKEW_MAX, KEEPALIVED_PASSWORD_MAX } from "../edge/keepalived";
import type { MoveTarget } from "../network/ipMove";
import { DEFAULT_SSH_PORT, DEFAULT_SSH_USER } from "../shared/ssh";
import { blockContains, blockText, Ipv4Block } from "../network/blocks";
import * as v from "../shared/validate";
import { keysOf } from "./keys";
import { ConfigReader } from "./reader";
import { keyPath } from "../shared/validate";

export interface EdgeNodeConfig {
    name: string;
    advskew: number;
    publicInterface: string;
    privateInterface: string;
    privateAddress?: string;
    ssh: { host: string; port: number; user: string; hostKey?: string };
    move: MoveTarget;
}

export interface EdgeConfig {
    name: string;
    flavour: EdgeFlavour;
    failoverIp: string;
    reverse?: string;
    group: { vhid: number; address: string; prefixLength: number; carpdev: string; advbase: number; carpUnit: number };
    health: { pingTarget: string; intervalSeconds: number };
    nodes: EdgeNodeConfig[];
    ipmovePath: string;
    reassertSeconds: number;
    preempt: boolean;
}

const EDGE_KEYS = keysOf("edge");
const GROUP_KEYS = keysOf("group");
const HEALTH_KEYS = keysOf("health");
const NODE_KEYS = keysOf("node");
const SSH_KEYS = keysOf("ssh");
const MOVE_KEYS = keysOf("move");
// The first is the endpoint, the others are the keys proper.
const CREDENTIAL_KEYS = keysOf("credentials");

const integer = (min: number, max: number, what: string) => (x: unknown): number => {
    const n = typeof x === "string" && /^\d+$/.test(x) ? Number(x) : x;
    if (typeof n !== "number" || !Number.isInteger(n) || n < min || n > max) throw new v.ConfigValueError(`${what}, an integer from ${min} to ${max}`);
    return n;
};


function parseMove(r: ConfigReader, key: string, raw: unknown): MoveTarget {
    const o = r.object(key, raw, MOVE_KEYS);
    if (o && o.server !== undefined && o.project === undefined && o.instance === undefined) {
        return { kind: "dedicated", serviceName: r.required(keyPath(key, "server"), o.server, v.parseServiceName) ?? "" };
    }
    if (o && (o.project !== undefined || o.instance !== undefined) && o.server === undefined) {
        return {
            kind: "cloud",
            project: r.required(keyPath(key, "project"), o.project, v.parseCloudProjectId) ?? "",
            instance: r.required(keyPath(key, "instance"), o.instance, v.parseInstanceRef) ?? "",
        };
    }
    if (o) r.issues.push({ key, value: raw, expected: "{ project, instance } (a Public Cloud instance) or { server } (a dedicated server's service name)" });
    return { kind: "dedicated", serviceName: "" };
}

function parseNode(r: ConfigReader, key: string, raw: unknown, flavour: EdgeFlavour | undefined): EdgeNodeConfig | undefined {
    const n = r.object(key, raw, NODE_KEYS);
    if (!n) return undefined;
    const s = r.object(keyPath(key, "ssh"), n.ssh, SSH_KEYS) ?? {};
    const insecure = r.optional(keyPath(key, "ssh", "insecureSkipHostKeyCheck"), s.insecureSkipHostKeyCheck, v.parseBoolean, false);
    const hostKey = r.optional(keyPath(key, "ssh", "hostKey"), s.hostKey, v.parseHostKey);
    // The deploy sends this node the CARP password and OVH credentials: its key must be known.
    if (hostKey === undefined && !insecure && s.hostKey === undefined) {
        r.issues.push({ key: keyPath(key, "ssh", "hostKey"), value: undefined, expected: "the node's host key (ssh-keyscan -t ed25519 <host>, without the host name): the deploy sends it secrets; or insecureSkipHostKeyCheck: true" });
    }
    const advskew = r.required(keyPath(key, "advskew"), n.advskew, integer(0, 254, "an advskew (lower wins the master role)"));
    if (flavour === "keepalived" && advskew !== undefined && advskew > KEEPALIVED_ADVSKEW_MAX) {
        r.issues.push({ key: keyPath(key, "advskew"), value: n.advskew, expected: `at most ${KEEPALIVED_ADVSKEW_MAX} with keepalived (VRRP has no priority left for 254)` });
    }
    if (flavour === "keepalived" && n.privateAddress === undefined) {
        r.issues.push({ key: keyPath(key, "privateAddress"), value: undefined, expected: "the node's address on the CARP network (keepalived's unicast source)" });
    }
    return {
        name: r.required(keyPath(key, "name"), n.name, v.parseSimpleName) ?? "",
        advskew: advskew ?? 0,
        publicInterface: r.required(keyPath(key, "publicInterface"), n.publicInterface, v.parseInterfaceName) ?? "",
        privateInterface: r.required(keyPath(key, "privateInterface"), n.privateInterface, v.parseInterfaceName) ?? "",
        privateAddress: r.optional(keyPath(key, "privateAddress"), n.privateAddress, v.parseIpv4),
        ssh: {
            host: r.required(keyPath(key, "ssh", "host"), s.host, v.parseHostname) ?? "",
            port: r.optional(keyPath(key, "ssh", "port"), s.port, v.parsePort, DEFAULT_SSH_PORT),
            user: r.optional(keyPath(key, "ssh", "user"), s.user, v.parseUserName, DEFAULT_SSH_USER),
            hostKey,
        },
        move: parseMove(r, keyPath(key, "move"), n.move),
    };
}

function parseEdge(r: ConfigReader, name: string, raw: unknown): EdgeConfig | undefined {
    const key = keyPath("edges", name);
    r.parse(key, name, v.parseSimpleName);
    const o = r.object(key, raw, EDGE_KEYS);
    if (!o) return undefined;
    const flavour = r.optional(keyPath(key, "flavour"), o.flavour, parseEdgeFlavour, DEFAULT_FLAVOUR);
    const g = r.object(keyPath(key, "group"), o.group, GROUP_KEYS) ?? {};
    const h = o.health === undefined ? {} : r.object(keyPath(key, "health"), o.health, HEALTH_KEYS) ?? {};
    const nodes = (r.list(keyPath(key, "nodes"), o.nodes) ?? [])
        .map((n, i) => parseNode(r, keyPath(key, "nodes", i), n, flavour))
        .filter((n): n is EdgeNodeConfig => n !== undefined);
    const edge: EdgeConfig = {
        name,
        flavour,
        failoverIp: r.required(keyPath(key, "failoverIp"), o.failoverIp, v.parsePublicIpv4) ?? "",
        reverse: r.optional(keyPath(key, "reverse"), o.reverse, v.parseFqdn),
        group: {
            vhid: r.required(keyPath(key, "group", "vhid"), g.vhid, integer(1, 255, "a CARP/VRRP virtual host id (vhid)")) ?? 0,
            address: r.required(keyPath(key, "group", "address"), g.address, v.parseIpv4) ?? "",
            prefixLength: r.required(keyPath(key, "group", "prefixLength"), g.prefixLength, integer(1, 32, "a prefix length")) ?? 0,
            carpdev: r.required(keyPath(key, "group", "carpdev"), g.carpdev, v.parseInterfaceName) ?? "",
            advbase: r.optional(keyPath(key, "group", "advbase"), g.advbase, integer(1, 255, "an advertisement interval in seconds (advbase)"), DEFAULT_ADVBASE),
            carpUnit: r.optional(keyPath(key, "group", "carpUnit"), g.carpUnit, integer(0, 255, "the number of the carp interface (0 for carp0)"), DEFAULT_CARP_UNIT),
        },
        health: {
            pingTarget: r.required(keyPath(key, "health", "pingTarget"), h.pingTarget, v.parseIpv4) ?? "",
            intervalSeconds: r.optional(keyPath(key, "health", "intervalSeconds"), h.intervalSeconds, integer(1, 3600, "a health check interval in seconds"), DEFAULT_HEALTH_INTERVAL_SECONDS),
        },
        nodes,
        ipmovePath: r.optional(keyPath(key, "ipmovePath"), o.ipmovePath, v.parseAbsolutePath, DEFAULT_IPMOVE_PATH),
        // Each re-assertion is one read of the routing at OVH (a move only when it is elsewhere):
        // not more often than every 10 s.
        reassertSeconds: r.optional(keyPath(key, "reassertSeconds"), o.reassertSeconds, integer(10, 3600, "seconds between two re-assertions of the routing by the master"), DEFAULT_REASSERT_SECONDS),
        preempt: r.optional(keyPath(key, "preempt"), o.preempt, v.parseBoolean, DEFAULT_PREEMPT),
    };
    // What only holds across the values: two nodes at least, distinct advskews and names.
    const known = new Set(r.issues.map((i) => i.key));
    for (const issue of checkEdgePair({ group: { ...edge.group, password: "checked-elsewhere" }, nodes: edge.nodes, failoverIp: edge.failoverIp, health: edge.health }, key)) {
        if (!known.has(issue.key)) r.issues.push(issue);
    }
    checkLayout(r, key, edge);
    return edge;
}

/** Layouts that cannot work: two nodes on one host or one address, the CARP address taken. */
function checkLayout(r: ConfigReader, key: string, e: EdgeConfig): void {
    const sshAt = new Map<string, number>();
    const privateAt = new Map<string, number>();
    e.nodes.forEach((n, i) => {
        const ssh = `${n.ssh.host}:${n.ssh.port}`;
        if (sshAt.has(ssh)) r.issues.push({ key: keyPath(key, "nodes", i, "ssh", "host"), value: n.ssh.host, expected: `a host no other node has (${keyPath(key, "nodes", sshAt.get(ssh)!, "ssh", "host")} is ${n.ssh.host} too): one machine cannot be both nodes` });
        else sshAt.set(ssh, i);
        if (n.privateAddress !== undefined) {
            if (privateAt.has(n.privateAddress)) r.issues.push({ key: keyPath(key, "nodes", i, "privateAddress"), value: n.privateAddress, expected: `an address no other node has (${keyPath(key, "nodes", privateAt.get(n.privateAddress)!, "privateAddress")})` });
            else privateAt.set(n.privateAddress, i);
            if (n.privateAddress === e.group.address) r.issues.push({ key: keyPath(key, "group", "address"), value: e.group.address, expected: `the shared CARP address, not a node's own (${keyPath(key, "nodes", i, "privateAddress")})` });
        }
    });
    e.nodes.forEach((n, i) => {
        const node = keyPath(key, "nodes", i);
        if (n.publicInterface !== "" && n.publicInterface === n.privateInterface) {
            r.issues.push({ key: keyPath(node, "privateInterface"), value: n.privateInterface, expected: `the interface on the private network, not the public one (${keyPath(node, "publicInterface")} is ${n.publicInterface} too): the health check watches both links` });
        }
        if (n.publicInterface !== "" && n.publicInterface === e.group.carpdev) {
            r.issues.push({ key: keyPath(key, "group", "carpdev"), value: e.group.carpdev, expected: `the interface on the private network that holds ${keyPath(key, "group", "address")}, not the public interface that carries the failover IP (${keyPath(node, "publicInterface")})` });
        }
    });
    e.nodes.forEach((n, i) => {
        // The shared addresses reach whichever node holds them, not this one.
        const shared: [string, string][] = [[e.failoverIp, keyPath(key, "failoverIp")], [e.group.address, keyPath(key, "group", "address")]];
        const same = shared.find(([address]) => address !== "" && address === n.ssh.host);
        if (same) r.issues.push({ key: keyPath(key, "nodes", i, "ssh", "host"), value: n.ssh.host, expected: `the node's own address, not the pair's shared one (${same[1]}), which reaches whichever node is master` });
    });
    // A health check that pings the pair's own addresses always succeeds: it would never demote a node.
    const own: [string, string][] = [[e.failoverIp, keyPath(key, "failoverIp")], [e.group.address, keyPath(key, "group", "address")], ...e.nodes.map((n, i): [string, string] => [n.privateAddress ?? "", keyPath(key, "nodes", i, "privateAddress")])];
    const self = own.find(([address]) => address !== "" && address === e.health.pingTarget);
    if (self) r.issues.push({ key: keyPath(key, "health", "pingTarget"), value: e.health.pingTarget, expected: `an address beyond the pair, such as a resolver or the gateway, not the pair's own (${self[1]}): a ping to itself never fails` });
    if (e.group.address !== "" && e.group.address === e.failoverIp) {
        r.issues.push({ key: keyPath(key, "group", "address"), value: e.group.address, expected: `an address on the private network, not the failover IP (${keyPath(key, "failoverIp")})` });
    }
}

/** The credentials ovh-ipmove gets on each pair's nodes: present and well-formed, never printed. */
function checkCredentials(r: ConfigReader, edges: EdgeConfig[], credentials: unknown): void {
    const all = typeof credentials === "object" && credentials !== null ? (credentials as Record<string, unknown>) : {};
    for (const name of Object.keys(all)) {
        if (!edges.some((e) => e.name === name)) r.issues.push({ key: keyPath("edgeOvhCredentials", name), value: "[secret]", expected: `the name of an edge pair (${edges.map((e) => e.name).join(", ") || "none declared"})` });
    }
    for (const e of edges) {
        const key = keyPath("edgeOvhCredentials", e.name);
        const c = all[e.name];
        if (typeof c !== "object" || c === null || Array.isArray(c)) {
            r.issues.push({ key, value: c === undefined ? undefined : "[secret]", expected: `{ ${CREDENTIAL_KEYS.join(", ")} } for ovh-ipmove on the nodes of ${e.name}, set with pulumi config set --secret --path` });
            continue;
        }
        const o = c as Record<string, unknown>;
        for (const k of Object.keys(o)) if (!CREDENTIAL_KEYS.includes(k)) r.issues.push({ key: keyPath(key, k), value: "[secret]", expected: `no such key here; allowed keys are: ${CREDENTIAL_KEYS.join(", ")}` });
        r.parse(keyPath(key, "endpoint"), o.endpoint, v.parseOvhEndpoint);
        for (const k of CREDENTIAL_KEYS.slice(1)) {
            // Written into ovh-ipmove's KEY=VALUE file on the node: no space, quote or newline.
            if (typeof o[k] !== "string" || !/^[A-Za-z0-9_-]{1,128}$/.test(o[k] as string)) {
                r.issues.push({ key: keyPath(key, k), value: o[k] === undefined ? undefined : "[secret]", expected: "an OVH key of letters, digits, '_' and '-'" });
            }
        }
    }
}

/**
 * Parses `edges`, and checks each pair's password from `edgePasswords` and credentials from
 * `edgeOvhCredentials` (read, never printed).
 */
export function parseEdges(raw: unknown, passwords: unknown, credentials?: unknown): { edges: EdgeConfig[]; issues: v.ConfigIssue[] } {
    const r = new ConfigReader();
    if (raw === undefined) return { edges: [], issues: [] };
    if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
        return { edges: [], issues: [{ key: "edges", value: raw, expected: "a map from edge pair name to { flavour, failoverIp, group, health, nodes }" }] };
    }
    const edges = Object.entries(raw as Record<string, unknown>)
        .map(([name, body]) => parseEdge(r, name, body))
        .filter((e): e is EdgeConfig => e !== undefined);
    const pw = typeof passwords === "object" && passwords !== null ? (passwords as Record<string, unknown>) : {};
    for (const e of edges) {
        const p = pw[e.name];
        const shown = p === undefined ? undefined : "[secret]";
        if (typeof p !== "string" || !/^[A-Za-z0-9_-]+$/.test(p)) {
            r.issues.push({ key: keyPath("edgePasswords", e.name), value: shown, expected: "a CARP password of letters, digits, '_' and '-' only (no spaces), set with pulumi config set --secret --path" });
        } else if (e.flavour === "keepalived" && p.length > KEEPALIVED_PASSWORD_MAX) {
            r.issues.push({ key: keyPath("edgePasswords", e.name), value: shown, expected: `at most ${KEEPALIVED_PASSWORD_MAX} characters with keepalived (VRRP's PASS authentication keeps only that many)` });
        }
    }
    if (credentials !== undefined) checkCredentials(r, edges, credentials);
    // Two pairs cannot share a node or a failover IP.
    const byIp = new Map<string, string>();
    const byHost = new Map<string, string>();
    for (const e of edges) {
        if (byIp.has(e.failoverIp)) r.issues.push({ key: keyPath("edges", e.name, "failoverIp"), value: e.failoverIp, expected: `an IP no other pair moves (${keyPath("edges", byIp.get(e.failoverIp)!, "failoverIp")})` });
        byIp.set(e.failoverIp, e.name);
        e.nodes.forEach((n, i) => {
            const at = `${n.ssh.host}:${n.ssh.port}`;
            const other = byHost.get(at);
            if (other && !other.startsWith(`${keyPath("edges", e.name)}.`)) r.issues.push({ key: keyPath("edges", e.name, "nodes", i, "ssh", "host"), value: n.ssh.host, expected: `a host no node of another pair has (${other})` });
            byHost.set(at, keyPath("edges", e.name, "nodes", i, "ssh", "host"));
        });
    }
    return { edges, issues: r.issues };
}

/** What cannot hold across endpoints and edge pairs: one IP owned twice, or a server's own IP moved. */
export function crossCheck(
    stack: { servers: Map<string, { mainIp?: string }>; endpoints: { name: string; ip: string }[]; cloudEndpoints: { name: string; ip: string }[]; ipBlocks: { name: string; block: Ipv4Block }[] },
    edges: EdgeConfig[],
): v.ConfigIssue[] {
    const issues: v.ConfigIssue[] = [];
    for (const e of edges) {
        // The nodes move a lone IP; OVH moves only whole blocks (ovh/docs move-failover-ip).
        for (const b of stack.ipBlocks) {
            if (blockContains(b.block, e.failoverIp)) issues.push({ key: keyPath("edges", e.name, "failoverIp"), value: e.failoverIp, expected: `an IP in no block of ipBlocks (${keyPath("ipBlocks", b.name)} holds it): OVH moves a block only whole, so the nodes' ovh-ipmove would move all of ${blockText(b.block)}` });
        }
        for (const ep of [...stack.endpoints, ...stack.cloudEndpoints]) {
            if (ep.ip === e.failoverIp) {
                issues.push({ key: keyPath("edges", e.name, "failoverIp"), value: e.failoverIp, expected: `an IP no endpoint routes (${keyPath("endpoints", ep.name, "ip")}): ip.Move and the nodes' ovh-ipmove would move it back and forth` });
            }
        }
        for (const [name, server] of stack.servers) {
            if (server.mainIp === e.failoverIp) issues.push({ key: keyPath("edges", e.name, "failoverIp"), value: e.failoverIp, expected: `a failover IP, not the main IP of a server (${keyPath("servers", name, "mainIp")})` });
        }
    }
    return issues;
}
