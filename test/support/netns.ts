// A Proxmox-like network in namespaces on this machine, for tests with real packets: a "host"
// namespace with a bridge, a "gateway" namespace that owns the .254 of a documentation /24, and
// "container" namespaces that each have a /32 from that /24 with an on-link route to the gateway,
// as Proxmox gives a container a failover IP. Only addresses inside these namespaces are used.
import { execFileSync, spawnSync } from "child_process";

export const SUBNET = "198.51.100";
export const GATEWAY = `${SUBNET}.254`;
export const NOTHING_THERE = `${SUBNET}.1`;

export interface Lab {
    host: string;
    gateway: string;
    containers: Map<string, { ns: string; address: string }>;
    /** Runs a shell script inside a container namespace; PATH can hide arping. */
    exec(container: string, script: string, env?: Record<string, string>): { code: number; out: string; ms: number };
    gatewayLink(up: boolean): void;
    destroy(): void;
}

function ip(...args: string[]): void {
    execFileSync("ip", args, { stdio: ["ignore", "ignore", "pipe"] });
}

export function canMakeNamespaces(): boolean {
    return process.getuid?.() === 0 && spawnSync("ip", ["netns", "list"]).status === 0;
}

export function createLab(prefix: string, containers: string[]): Lab {
    const host = `${prefix}-host`;
    const gateway = `${prefix}-gw`;
    const made: string[] = [];
    const lab: Lab = {
        host,
        gateway,
        containers: new Map(),
        exec(container, script, env = {}) {
            const ns = lab.containers.get(container)!.ns;
            const started = process.hrtime.bigint();
            const r = spawnSync("ip", ["netns", "exec", ns, "env", ...Object.entries(env).map(([k, v]) => `${k}=${v}`), "sh", "-c", script], { encoding: "utf8" });
            const ms = Number(process.hrtime.bigint() - started) / 1e6;
            return { code: r.status ?? 255, out: `${r.stdout}${r.stderr}`, ms };
        },
        gatewayLink(up) {
            ip("-n", gateway, "link", "set", "gw0", up ? "up" : "down");
        },
        destroy() {
            for (const ns of made.reverse()) spawnSync("ip", ["netns", "del", ns]);
        },
    };
    try {
        for (const ns of [host, gateway]) {
            ip("netns", "add", ns);
            made.push(ns);
        }
        ip("-n", host, "link", "add", "vmbr0", "type", "bridge");
        ip("-n", host, "link", "set", "vmbr0", "up");
        ip("link", "add", "gw0", "netns", gateway, "type", "veth", "peer", "name", "p-gw", "netns", host);
        ip("-n", host, "link", "set", "p-gw", "master", "vmbr0", "up");
        ip("-n", gateway, "addr", "add", `${GATEWAY}/24`, "dev", "gw0");
        ip("-n", gateway, "link", "set", "gw0", "up");
        containers.forEach((name, i) => {
            const ns = `${prefix}-${name}`;
            const address = `${SUBNET}.${10 + i}`;
            ip("netns", "add", ns);
            made.push(ns);
            ip("link", "add", "eth1", "netns", ns, "type", "veth", "peer", "name", `p-${i}`, "netns", host);
            ip("-n", host, "link", "set", `p-${i}`, "master", "vmbr0", "up");
            ip("-n", ns, "addr", "add", `${address}/32`, "dev", "eth1");
            ip("-n", ns, "link", "set", "lo", "up");
            ip("-n", ns, "link", "set", "eth1", "up");
            ip("-n", ns, "route", "add", GATEWAY, "dev", "eth1", "scope", "link");
            ip("-n", ns, "route", "add", "default", "via", GATEWAY, "dev", "eth1");
            lab.containers.set(name, { ns, address });
        });
    } catch (err) {
        lab.destroy();
        throw err;
    }
    return lab;
}

/** A PATH without arping, so the probe falls back to ping and `ip neigh`. */
export function pathWithoutArping(dir: string): string {
    execFileSync("mkdir", ["-p", dir]);
    for (const tool of ["sh", "ip", "ping", "awk", "grep", "sleep", "cat", "sed", "env", "printf"]) {
        const where = spawnSync("sh", ["-c", `command -v ${tool}`], { encoding: "utf8" }).stdout.trim();
        if (where.startsWith("/")) execFileSync("ln", ["-sf", where, `${dir}/${tool}`]);
    }
    return dir;
}
