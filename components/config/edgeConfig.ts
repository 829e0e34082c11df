// Parses the `edges` key of a stack: CARP/VRRP edge pairs (seed 001), checked whole before any
// resource is declared, every problem named by its key.
import { checkEdgePair } from "../edge/carpSpec";
import type { MoveTarget } from "../network/ipMove";
import { EdgeFlavour } from "../edge/edgeDeploy";
import { KEEPALIVED_ADVSKEW_MAX, KEEPALIVED_PASSWORD_MAX } from "../edge/keepalived";
import * as v from "../shared/validate";

export interface EdgeNodeConfig {
    name: string;
    advskew: number;
    publicInterface: string;
    privateInterface: string;
    privateAddress?: string;
    ssh: { host: string; port: number; user: string };
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
}

type Obj = Record<string, unknown>;
const isObj = (x: unknown): x is Obj => typeof x === "object" && x !== null && !Array.isArray(x);
const num = (x: unknown): unknown => (typeof x === "string" && /^\d+$/.test(x) ? Number(x) : x);

function parseMove(key: string, raw: unknown, issues: v.ConfigIssue[]): MoveTarget {
    if (isObj(raw) && typeof raw.project === "string" && typeof raw.instance === "string") {
        return { kind: "cloud", project: raw.project, instance: raw.instance };
    }
    if (isObj(raw) && typeof raw.server === "string") return { kind: "dedicated", serviceName: raw.server };
    issues.push({ key, value: raw, expected: "{ project, instance } (a Public Cloud instance) or { server } (a dedicated server's service name)" });
    return { kind: "dedicated", serviceName: "" };
}

function parseEdge(name: string, raw: unknown, issues: v.ConfigIssue[]): EdgeConfig | undefined {
    const key = `edges.${name}`;
    if (!isObj(raw)) {
        issues.push({ key, value: raw, expected: "{ flavour, failoverIp, group, health, nodes }" });
        return undefined;
    }
    const group = isObj(raw.group) ? raw.group : {};
    const health = isObj(raw.health) ? raw.health : {};
    const nodes = Array.isArray(raw.nodes) ? raw.nodes.map((n) => (isObj(n) ? n : {})) : [];
    if (!isObj(raw.group)) issues.push({ key: `${key}.group`, value: raw.group, expected: "{ vhid, address, prefixLength, carpdev, advbase }" });
    // The password is a secret of its own key (edgePasswords); checked there.
    issues.push(...checkEdgePair({
        group: { ...group, vhid: num(group.vhid), prefixLength: num(group.prefixLength), advbase: num(group.advbase), password: "checked-elsewhere" },
        nodes: nodes.map((n) => ({ ...n, advskew: num(n.advskew) })),
        failoverIp: raw.failoverIp,
        health: { ...health, intervalSeconds: num(health.intervalSeconds) },
    }, key));
    const flavour = raw.flavour ?? "openbsd";
    if (flavour !== "openbsd" && flavour !== "keepalived") issues.push({ key: `${key}.flavour`, value: flavour, expected: "openbsd (CARP + ifstated) or keepalived (VRRP, Debian/Proxmox)" });
    const parsedNodes = nodes.map((n, i): EdgeNodeConfig => {
        const ssh = isObj(n.ssh) ? n.ssh : {};
        if (typeof ssh.host !== "string" || !ssh.host) issues.push({ key: `${key}.nodes[${i}].ssh.host`, value: ssh.host, expected: "the node's SSH address" });
        if (flavour === "keepalived" && n.privateAddress === undefined) {
            issues.push({ key: `${key}.nodes[${i}].privateAddress`, value: undefined, expected: "the node's address on the CARP network (keepalived's unicast source)" });
        }
        if (flavour === "keepalived" && Number(num(n.advskew)) > KEEPALIVED_ADVSKEW_MAX) {
            issues.push({ key: `${key}.nodes[${i}].advskew`, value: n.advskew, expected: `at most ${KEEPALIVED_ADVSKEW_MAX} with keepalived (VRRP has no priority left for 254)` });
        }
        return {
            name: String(n.name),
            advskew: Number(num(n.advskew)),
            publicInterface: String(n.publicInterface),
            privateInterface: String(n.privateInterface),
            privateAddress: typeof n.privateAddress === "string" ? n.privateAddress : undefined,
            ssh: { host: String(ssh.host), port: Number(num(ssh.port ?? 22)), user: typeof ssh.user === "string" ? ssh.user : "root" },
            move: parseMove(`${key}.nodes[${i}].move`, n.move, issues),
        };
    });
    let reverse: string | undefined;
    if (raw.reverse !== undefined) {
        try {
            reverse = v.parseFqdn(raw.reverse);
        } catch (err) {
            if (err instanceof v.ConfigValueError) issues.push({ key: `${key}.reverse`, value: raw.reverse, expected: err.message });
        }
    }
    return {
        name,
        flavour: flavour as EdgeFlavour,
        failoverIp: String(raw.failoverIp),
        reverse,
        group: {
            vhid: Number(num(group.vhid)),
            address: String(group.address),
            prefixLength: Number(num(group.prefixLength)),
            carpdev: String(group.carpdev),
            advbase: Number(num(group.advbase ?? 1)),
            carpUnit: Number(num(group.carpUnit ?? 0)),
        },
        health: { pingTarget: String(health.pingTarget), intervalSeconds: Number(num(health.intervalSeconds ?? 15)) },
        nodes: parsedNodes,
        ipmovePath: typeof raw.ipmovePath === "string" ? raw.ipmovePath : "/usr/local/bin/ovh-ipmove",
    };
}

/** Parses `edges` and checks each pair's password from `edgePasswords` (read, never printed). */
export function parseEdges(raw: unknown, passwords: unknown): { edges: EdgeConfig[]; issues: v.ConfigIssue[] } {
    const issues: v.ConfigIssue[] = [];
    if (raw === undefined) return { edges: [], issues };
    if (!isObj(raw)) return { edges: [], issues: [{ key: "edges", value: raw, expected: "a map from edge pair name to { flavour, failoverIp, group, health, nodes }" }] };
    const edges = Object.entries(raw)
        .map(([name, body]) => parseEdge(name, body, issues))
        .filter((e): e is EdgeConfig => e !== undefined);
    const pw = isObj(passwords) ? passwords : {};
    for (const e of edges) {
        const p = pw[e.name];
        const shown = p === undefined ? undefined : "[secret]";
        if (typeof p !== "string" || !/^[A-Za-z0-9_-]+$/.test(p)) {
            issues.push({ key: `edgePasswords.${e.name}`, value: shown, expected: "a CARP password of letters, digits, '_' and '-' only (no spaces), set with pulumi config set --secret --path" });
        } else if (e.flavour === "keepalived" && p.length > KEEPALIVED_PASSWORD_MAX) {
            issues.push({ key: `edgePasswords.${e.name}`, value: shown, expected: `at most ${KEEPALIVED_PASSWORD_MAX} characters with keepalived (VRRP's PASS authentication keeps only that many)` });
        }
    }
    return { edges, issues };
}
