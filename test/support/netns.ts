// A Proxmox-like network in namespaces on this machine, for tests with real packets: a "host"
// namespace with a bridge, a "gateway" namespace that owns the .254 of a documentation /24, and
// "container" namespaces that each have a /32 from that /24 with an on-link route to the gateway,
// as Proxmox gives a container a failover IP. IPv6 likewise: each container has an address of the
// server's /64 (documentation prefix) and an on-link route to OVH's gateway for it, which lies
// outside the /64; the gateway also answers at fe80::1, the link-local gateway of newer ranges.
// Only addresses inside these namespaces are used.
import { execFileSync, spawnSync } from "child_process";

export const SUBNET = "198.51.100";
export const GATEWAY = `${SUBNET}.254`;
export const NOTHING_THERE = `${SUBNET}.1`;
export const PREFIX6 = "2001:db8:1:4662::/64";
/** OVH's rule for PREFIX6 (components/proxmox/gateway.ts, ovhGateway6). */
export const GATEWAY6 = "2001:db8:1:46ff:ff:ff:ff:ff";
export const LINK_LOCAL_GATEWAY6 = "fe80::1";
/** The rule's gateway of another /64: nothing answers there. */
export const NOTHING_THERE6 = "2001:db8:1:47ff:ff:ff:ff:ff";

export interface Lab {
    host: string;
    gateway: string;
    containers: Map<string, { ns: string; address: string; address6: string }>;
    /** Runs a shell script inside a container namespace; PATH can hide arping. */
    exec(container: string, script: string, env?: Record<string, string>): { code: number; out: string; ms: number };
    gatewayLink(up: boolean): void;
    /** Runs `ip` in the gateway's namespace (an address of its own, a duplicate of a container's). */
    onGateway(...args: string[]): void;
    /**
     * Takes a container's NIC down and up, as a NIC set anew: its IPv6 addresses (kept nowhere
     * while down, net.ipv6.conf.*.keep_addr_on_down is 0) come back tentative until DAD is done.
     */
    replug(container: string): void;
    /** Puts back the routes Proxmox gives a running container (its gateway's on-link and default routes). */
    restoreRoutes(container: string): void;
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
            // IPv6 addresses go with the link: put the gateway's back as they were.
            if (up) gatewayAddresses6();
        },
        onGateway(...args) {
            ip("-n", gateway, ...args);
        },
        replug(container) {
            const { ns, address6 } = lab.containers.get(container)!;
            ip("-n", ns, "link", "set", "eth1", "down");
            ip("-n", ns, "link", "set", "eth1", "up");
            containerRoutes(ns, address6);
        },
        restoreRoutes(container) {
            const { ns, address6 } = lab.containers.get(container)!;
            containerRoutes(ns, address6);
        },
        destroy() {
            for (const ns of made.reverse()) spawnSync("ip", ["netns", "del", ns]);
        },
    };
    // The gateway's addresses need no DAD: nothing else on the link has them.
    const gatewayAddresses6 = () => {
        spawnSync("ip", ["-n", gateway, "addr", "add", `${GATEWAY6}/64`, "dev", "gw0", "nodad"]);
        spawnSync("ip", ["-n", gateway, "addr", "add", `${LINK_LOCAL_GATEWAY6}/64`, "dev", "gw0", "nodad"]);
        // OVH's router has the server's prefix on the link: it answers the containers there.
        spawnSync("ip", ["-n", gateway, "-6", "route", "replace", PREFIX6, "dev", "gw0"]);
    };
    // What Proxmox gives a running container (pve-container src/PVE/LXC.pm, update_ipconfig): the
    // address, then a route to a gateway outside the subnet, then the default route.
    const containerRoutes = (ns: string, address6: string) => {
        ip("-n", ns, "route", "replace", GATEWAY, "dev", "eth1", "scope", "link");
        ip("-n", ns, "route", "replace", "default", "via", GATEWAY, "dev", "eth1");
        ip("-n", ns, "-6", "addr", "replace", `${address6}/64`, "dev", "eth1");
        ip("-n", ns, "-6", "route", "replace", GATEWAY6, "dev", "eth1");
        ip("-n", ns, "-6", "route", "replace", "default", "via", GATEWAY6, "dev", "eth1");
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
        gatewayAddresses6();
        containers.forEach((name, i) => {
            const ns = `${prefix}-${name}`;
            const address = `${SUBNET}.${10 + i}`;
            const address6 = `2001:db8:1:4662::${10 + i}`;
            ip("netns", "add", ns);
            made.push(ns);
            ip("link", "add", "eth1", "netns", ns, "type", "veth", "peer", "name", `p-${i}`, "netns", host);
            ip("-n", host, "link", "set", `p-${i}`, "master", "vmbr0", "up");
            ip("-n", ns, "addr", "add", `${address}/32`, "dev", "eth1");
            ip("-n", ns, "link", "set", "lo", "up");
            ip("-n", ns, "link", "set", "eth1", "up");
            containerRoutes(ns, address6);
            lab.containers.set(name, { ns, address, address6 });
        });
    } catch (err) {
        lab.destroy();
        throw err;
    }
    return lab;
}

/** A PATH without arping and ndisc6, so the probe falls back to ping and `ip neigh`. */
export function pathWithoutArping(dir: string): string {
    execFileSync("mkdir", ["-p", dir]);
    for (const tool of ["sh", "ip", "ping", "awk", "grep", "sleep", "cat", "sed", "env", "printf"]) {
        const where = spawnSync("sh", ["-c", `command -v ${tool}`], { encoding: "utf8" }).stdout.trim();
        if (where.startsWith("/")) execFileSync("ln", ["-sf", where, `${dir}/${tool}`]);
    }
    return dir;
}

/**
 * A PATH holding only busybox's applets, as an Alpine container has: every tool the probe finds
 * there (sh, ip, ping, arping, awk, sleep…) is busybox's, and none of Debian's leaks in. Without
 * its arping when `arping` is false, so the probe falls back to ping and `ip neigh`.
 */
export function busyboxPath(dir: string, { arping = true } = {}): string {
    const busybox = spawnSync("sh", ["-c", "command -v busybox"], { encoding: "utf8" }).stdout.trim();
    if (!busybox.startsWith("/")) throw new Error("busybox must be installed (apt-get install busybox)");
    execFileSync("mkdir", ["-p", dir]);
    for (const applet of execFileSync(busybox, ["--list"], { encoding: "utf8" }).split("\n")) {
        if (applet && (arping || applet !== "arping")) execFileSync("ln", ["-sf", busybox, `${dir}/${applet}`]);
    }
    return dir;
}
