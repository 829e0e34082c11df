// Proxmox hosts for the real CLI: each a real sshd (test/support/sshLab.ts) at the address a stack
// names for it, reached from the CLI's network namespace, with the pct stand-in on its PATH
// (hotplug on, so a running container's interface follows its netN) and OVH's gateway on the
// other end of the container's interface: a namespace holding the server's IPv4 gateway and the
// IPv6 gateway of its /64 by OVH's rule, which answer ARP and neighbour solicitations as OVH's
// router does. The container's interface is the lab's own (pct exec runs there). A host can also
// serve another port at its address (the Proxmox API stand-in's 8006), and its containers' live
// interface follows what the API stand-in does to them (containerNetwork).
//
// Containers of their own (`links`): as a real LXC container, each named container has a network
// namespace of its own, `<lab>-ct<vmid>`, held by a process standing for its init (pct exec and
// the netN hotplug enter it as lxc-attach does, by the init's /proc/<pid>/ns/net: the lab's
// mount namespace has a /run of its own, so `ip netns` names are not seen there). The container's
// NIC is one end of a veth pair; the other end is a port of the host bridge the link names
// (vmbr0, vmbr1), in the router's namespace, where OVH's router holds its address: as on a
// Proxmox server, every container on a bridge shares that segment with the router. At start the
// NIC is as the container's configuration says (its hwaddr, up; a static ip and gw applied), as
// the container's own network configuration leaves it after boot.
//
// Routed mode (`links` with `host`, and `uplink`): the bridge is the host's own, in the host's
// namespace, holding the private address the container's gateway is (OVH's routed-mode guide:
// vmbr2, no physical port, 192.168.0.1/24): the container's veth is a port of it there, and the
// host itself answers. The host's public bridge (`uplink`, vmbr0) holds the server's address and
// has one port, whose other end is OVH's router: the router reaches an additional IP routed to
// the server by asking ARP for it on that link, as OVH's does (hence proxy ARP on vmbr0).
// ifupdown2 turns forwarding on for a bridge that holds an address (addons/address.py,
// _set_bridge_forwarding): so does the lab, on both. With IPv6 (`uplink.ipv6`, a link's `host6`),
// vmbr0 holds the server's main IPv6 and routes through OVH's IPv6 gateway, which the router holds
// with the server's /64 on the link: the router finds an address of the /64 by neighbour
// discovery (hence proxy NDP on vmbr0 for one routed to vmbr2), and vmbr2 holds the guests' IPv6
// gateway (fe80::1).
import { ChildProcess, execFileSync, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { readContainerConfig, writeContainerConfig, writeNetHotplug, writePctStandIn } from "./pctStandIn";
import type { ContainerNetwork } from "./proxmoxStandIn";
import { waitUntil } from "./processes";
import { scratch } from "./realStack";
import { SshHost, startSshHost } from "./sshLab";

/** A container's NIC in a network namespace of the container's own, on a bridge with OVH's router. */
export interface ContainerLink {
    /** The NIC's name in the container (netN's name=), e.g. eth1. */
    interfaceName: string;
    /** The host bridge its veth is a port of (netN's bridge=): vmbr0, vmbr1. */
    bridge: string;
    /** What OVH's router answers as on that bridge, with the prefix length: 198.51.100.254/24, 192.0.2.22/29. */
    router?: string;
    /** With router: OVH's router's IPv6 address on that bridge too, with its prefix length (a vRack's 2001:db8:abcd:ef00::1/64). */
    router6?: string;
    /**
     * Instead of router: the bridge is the host's own (routed mode), in the host's namespace,
     * holding this address with its prefix length (192.168.0.1/24): the host answers as the gateway.
     */
    host?: string;
    /** With host: the IPv6 address the host's bridge holds too, with its prefix length (fe80::1/64), added nodad. */
    host6?: string;
}

/** The host's public bridge (routed mode's uplink): the server's address on it, OVH's router at the other end of its port. */
export interface HostUplink {
    /** vmbr0 */
    bridge: string;
    /** The server's address with its prefix length: 198.51.100.40/24. */
    address: string;
    /** OVH's router on the link, with its prefix length: 198.51.100.254/24. */
    router: string;
    /**
     * The IPv6 side, as OVH gives a dedicated server its /64 (ovh/docs pages/cloud/dedicated/
     * network_ipv6, the Debian section): the server's main IPv6 as a /128 on its public
     * interface, an on-link route to the gateway and the default route through it; OVH's router
     * has the whole /64 on the link and finds each address in it by neighbour discovery.
     */
    ipv6?: HostUplink6;
}

export interface HostUplink6 {
    /** The server's /64: on-link at OVH's router (2001:db8:3:4662::/64). */
    prefix: string;
    /** The server's main IPv6, as the guide's Debian example writes it: 2001:db8:3:4662::1/128. */
    address: string;
    /** OVH's gateway of the /64 (by OVH's rule, 2001:db8:3:46ff:ff:ff:ff:ff), which the router holds. */
    gateway: string;
}

export interface ProxmoxHostSpec {
    /** The address the stack names (servers.<name>.proxmox.host). */
    address: string;
    /** What OVH's router answers as on the lab's interface (interfaceName): required with it. */
    gateway?: string;
    gateway6?: string;
    /** The server's /64: OVH's router has it on the link. */
    prefix6?: string;
    /**
     * The lab's own interface (eth1), which every container without a link of its own has as its
     * NIC, in the lab's namespace; none when every container has a link.
     */
    interfaceName?: string;
    /** The containers' configurations, running. */
    containers: Record<number, string[]>;
    /** Containers with a network namespace of their own, by vmid (each must be in containers). */
    links?: Record<number, ContainerLink>;
    /** Public keys the host accepts besides its own client key. */
    authorizedKeys?: string[];
    /** The host's public bridge, linked to OVH's router (routed mode). */
    uplink?: HostUplink;
}

export interface ProxmoxHost {
    ssh: SshHost;
    /** The folder whose etc/pve/lxc holds the containers' configurations. */
    root: string;
    config(vmid: number): string;
    /** The pct calls so far: `<ns> <command> <vmid> <option>` lines. */
    pctLog(): { at: bigint; command: string; vmid: string; option: string }[];
    /** `ip` in the container's network namespace (the lab's). */
    ip(...args: string[]): string;
    /** `ip` in the network namespace of a container with a link of its own. */
    containerIp(vmid: number, ...args: string[]): string;
    /** OVH's router answers for another IPv6 prefix too (the server was given a new one). */
    addPrefix6(prefix6: string, gateway6: string): void;
    /** The host's address answers on `port` with what listens at the Unix socket `socketPath` (TCP, forwarded as is). */
    serve(port: number, socketPath: string): Promise<void>;
    /**
     * What the containers' NICs do when the Proxmox API stand-in changes them: the lab's interface
     * is the container's. `bootMs`: how long after a start the container's own init has its NIC
     * configured.
     */
    containerNetwork(opts?: { bootMs?: number }): ContainerNetwork;
    /** A command in OVH's router's network namespace (a ping from the Internet's side); never throws. */
    inRouter(...argv: string[]): { status: number | null; stdout: string; stderr: string };
    stop(): void;
}

/**
 * A TCP forwarder run in the lab's network namespace: argv address, port, socket path. A Unix
 * socket is a file, reached from any network namespace: that is how a stand-in listening in this
 * process is reached at the host's address.
 */
const FORWARDER = `const net = require("net");
const [address, port, socket] = process.argv.slice(1);
net.createServer((c) => {
    const up = net.connect(socket);
    c.pipe(up).pipe(c);
    c.on("error", () => up.destroy());
    up.on("error", () => c.destroy());
}).listen(Number(port), address, () => console.log("listening"));`;

export async function startProxmoxHost(from: string, spec: ProxmoxHostSpec): Promise<ProxmoxHost> {
    const ssh = await startSshHost(spec.interfaceName ? [spec.interfaceName] : [], { reachable: { address: spec.address, from }, authorizedKeys: spec.authorizedKeys });
    const gatewayNs = `${ssh.ns}-gw`;
    const containerNs = (vmid: number) => `${ssh.ns}-ct${vmid}`;
    const root = scratch("ovhf-pve-");
    const ip = (...args: string[]) => execFileSync("ip", args, { stdio: ["ignore", "ignore", "pipe"] });
    const forwarders: ChildProcess[] = [];
    const networks: { close(): void }[] = [];
    const inits: ChildProcess[] = [];
    const links = Object.entries(spec.links ?? {}).map(([vmid, link]) => ({ vmid: Number(vmid), ...link }));
    const stop = () => {
        for (const f of forwarders) f.kill("SIGTERM");
        for (const n of networks) n.close();
        for (const i of inits) i.kill("SIGKILL");
        for (const l of links) spawnSync("ip", ["netns", "del", containerNs(l.vmid)]);
        spawnSync("ip", ["netns", "del", gatewayNs]);
        ssh.stop();
        fs.rmSync(root, { recursive: true, force: true });
    };
    try {
        ip("netns", "add", gatewayNs);
        ip("-n", gatewayNs, "link", "set", "lo", "up");
        if (spec.interfaceName) {
            if (!spec.gateway) throw new Error("a lab interface (interfaceName) needs the gateway OVH's router answers as on it");
            // The other end of the container's veth (sshLab names it peer0) goes to the gateway.
            ip("-n", ssh.ns, "link", "set", "peer0", "netns", gatewayNs);
            ip("-n", gatewayNs, "link", "set", "peer0", "up");
            ip("-n", gatewayNs, "addr", "add", `${spec.gateway}/24`, "dev", "peer0");
            if (spec.gateway6) ip("-n", gatewayNs, "addr", "add", `${spec.gateway6}/64`, "dev", "peer0", "nodad");
            if (spec.prefix6) ip("-n", gatewayNs, "-6", "route", "replace", spec.prefix6, "dev", "peer0");
            // A failover IP is outside the gateway's /24: the router answers it on the link all the same.
            ip("-n", gatewayNs, "route", "replace", "default", "dev", "peer0");
        }
        const forwarding = (ns: string, dev: string) => execFileSync("ip", ["netns", "exec", ns, "sysctl", "-qw", `net.ipv4.conf.${dev}.forwarding=1`], { stdio: ["ignore", "ignore", "pipe"] });
        if (spec.uplink) {
            const u = spec.uplink;
            // A bridge's MAC follows its ports unless set: fixed, so is its link-local address.
            ip("-n", ssh.ns, "link", "add", u.bridge, "address", "02:00:00:00:00:00", "type", "bridge");
            ip("-n", ssh.ns, "link", "set", u.bridge, "up");
            ip("-n", ssh.ns, "addr", "add", u.address, "dev", u.bridge);
            forwarding(ssh.ns, u.bridge);
            // The server's NIC, the bridge's port; its other end is OVH's router.
            ip("link", "add", "eno1", "netns", ssh.ns, "type", "veth", "peer", "name", "srv0", "netns", gatewayNs);
            ip("-n", ssh.ns, "link", "set", "eno1", "master", u.bridge, "up");
            ip("-n", gatewayNs, "link", "set", "srv0", "up");
            ip("-n", gatewayNs, "addr", "add", u.router, "dev", "srv0");
            if (u.ipv6) {
                const v6 = u.ipv6;
                // The gateway lies outside the /64: the router holds it, and has the /64 on the link.
                ip("-n", gatewayNs, "addr", "add", `${v6.gateway}/64`, "dev", "srv0", "nodad");
                ip("-n", gatewayNs, "-6", "route", "replace", v6.prefix, "dev", "srv0");
                ip("-n", ssh.ns, "-6", "addr", "add", v6.address, "dev", u.bridge, "nodad");
                ip("-n", ssh.ns, "-6", "route", "add", v6.gateway, "dev", u.bridge);
                ip("-n", ssh.ns, "-6", "route", "add", "default", "via", v6.gateway, "dev", u.bridge);
            }
        }
        const bin = path.join(ssh.usrLocal, "sbin");
        writePctStandIn(bin, root, { hotplug: true });
        writeNetHotplug(bin);
        for (const [vmid, lines] of Object.entries(spec.containers)) writeContainerConfig(root, Number(vmid), lines, true);
        const bridges = new Set<string>();
        for (const link of links) {
            if (!(link.vmid in spec.containers)) throw new Error(`links.${link.vmid}: no such container`);
            if ((link.router === undefined) === (link.host === undefined)) throw new Error(`links.${link.vmid}: router or host, one of them`);
            if (link.host6 !== undefined && link.host === undefined) throw new Error(`links.${link.vmid}: host6 goes with host`);
            const ns = containerNs(link.vmid);
            if (link.host !== undefined) {
                // Routed mode: the bridge and its address are the host's.
                if (!bridges.has(link.bridge)) {
                    bridges.add(link.bridge);
                    ip("-n", ssh.ns, "link", "add", link.bridge, "address", `02:00:00:00:00:${(bridges.size).toString(16).padStart(2, "0")}`, "type", "bridge");
                    ip("-n", ssh.ns, "link", "set", link.bridge, "up");
                    ip("-n", ssh.ns, "addr", "add", link.host, "dev", link.bridge);
                    if (link.host6 !== undefined) ip("-n", ssh.ns, "-6", "addr", "add", link.host6, "dev", link.bridge, "nodad");
                    forwarding(ssh.ns, link.bridge);
                }
                ip("netns", "add", ns);
                ip("-n", ns, "link", "set", "lo", "up");
                ip("link", "add", link.interfaceName, "netns", ns, "type", "veth", "peer", "name", `veth${link.vmid}`, "netns", ssh.ns);
                ip("-n", ssh.ns, "link", "set", `veth${link.vmid}`, "master", link.bridge, "up");
            } else if (!bridges.has(link.bridge)) {
                bridges.add(link.bridge);
                ip("-n", gatewayNs, "link", "add", link.bridge, "type", "bridge");
                ip("-n", gatewayNs, "link", "set", link.bridge, "up");
                // The router answers ARP on a segment only for its address there (Linux answers for
                // any of its addresses on any interface by default: the vRack's gateway would be
                // found from the public bridge).
                execFileSync("ip", ["netns", "exec", gatewayNs, "sysctl", "-qw", `net.ipv4.conf.${link.bridge}.arp_ignore=1`], { stdio: ["ignore", "ignore", "pipe"] });
            }
            if (link.router !== undefined) {
                // OVH's router on the bridge: one address however many containers share it.
                const held = execFileSync("ip", ["-n", gatewayNs, "-o", "addr", "show", "dev", link.bridge], { encoding: "utf8" });
                if (!held.includes(` ${link.router} `)) ip("-n", gatewayNs, "addr", "add", link.router, "dev", link.bridge);
                if (link.router6 !== undefined && !held.includes(` ${link.router6} `)) ip("-n", gatewayNs, "addr", "add", link.router6, "dev", link.bridge, "nodad");
                ip("netns", "add", ns);
                ip("-n", ns, "link", "set", "lo", "up");
                ip("link", "add", link.interfaceName, "netns", ns, "type", "veth", "peer", "name", `veth${link.vmid}`, "netns", gatewayNs);
                ip("-n", gatewayNs, "link", "set", `veth${link.vmid}`, "master", link.bridge, "up");
            }
            ip("-n", ns, "link", "set", link.interfaceName, "up");
            if (link.host6 !== undefined) {
                // As on a host whose guests have had their NICs before: the kernel gives an
                // interface its link-local address the first time it has carrier and keeps it when
                // carrier goes (seen on the lab's kernel), so without this the container's first
                // NIC would add the bridge's and its port's, which no stack does.
                const port = `veth${link.vmid}`;
                const linkLocal = (dev: string) => execFileSync("ip", ["-n", ssh.ns, "-6", "-o", "addr", "show", "dev", dev, "scope", "link", "-tentative"], { encoding: "utf8" }).split("\n").some((l) => /inet6 fe80::\S+ .*scope link (?!.*nodad)/.test(l));
                await waitUntil(`the link-local addresses of ${link.bridge} and ${port}`, () => (linkLocal(link.bridge) && linkLocal(port) ? true : undefined), 30_000, 100);
            }
            // The container's init: what pct exec and the hotplug enter (lxc-attach enters the init's namespaces).
            const init = await containerInit(ns);
            inits.push(init);
            fs.writeFileSync(path.join(root, "etc/pve/lxc", `${link.vmid}.netns`), `/proc/${init.pid}/ns/net\n`);
            // Booted: the NIC as the configuration says.
            const value = Object.values(configLines(spec.containers[link.vmid])).find((v) => /(?:^|,)name=([^,]+)/.exec(v)?.[1] === link.interfaceName);
            if (value !== undefined) execFileSync("ip", ["netns", "exec", ns, "sh", path.join(bin, "net-hotplug"), "", value], { stdio: ["ignore", "ignore", "pipe"] });
            // No NIC of that name in the configuration: no veth (here, down; a hotplug brings it up),
            // so the bridge's port has no carrier, as a bridge without the container's port has none.
            else ip("-n", ns, "link", "set", link.interfaceName, "down");
        }
        if (spec.uplink?.ipv6 !== undefined || links.some((l) => l.host6 !== undefined)) {
            // An address still in duplicate address detection is not usable yet and shows as
            // tentative: the host is ready once no namespace of it has one.
            const namespaces = [ssh.ns, gatewayNs, ...links.map((l) => containerNs(l.vmid))];
            const tentative = () => namespaces.filter((ns) => execFileSync("ip", ["-n", ns, "-6", "addr", "show", "tentative"], { encoding: "utf8" }).trim() !== "");
            await waitUntil("no tentative IPv6 address on the host, OVH's router or the containers", () => (tentative().length === 0 ? true : undefined), 30_000, 100);
        }
    } catch (err) {
        stop();
        throw err;
    }
    return {
        ssh,
        root,
        config: (vmid) => readContainerConfig(root, vmid),
        pctLog: () => {
            const file = path.join(root, "pct.log");
            if (!fs.existsSync(file)) return [];
            return fs.readFileSync(file, "utf8").split("\n").filter((l) => l !== "").map((l) => {
                const [at, command, vmid, option = ""] = l.split(" ");
                return { at: BigInt(at), command, vmid, option };
            });
        },
        ip: (...args) => execFileSync("ip", ["-n", ssh.ns, ...args], { encoding: "utf8" }),
        containerIp: (vmid, ...args) => {
            if (!links.some((l) => l.vmid === vmid)) throw new Error(`container ${vmid} has no network namespace of its own (links)`);
            return execFileSync("ip", ["-n", containerNs(vmid), ...args], { encoding: "utf8" });
        },
        addPrefix6: (prefix6, gateway6) => {
            ip("-n", gatewayNs, "addr", "add", `${gateway6}/64`, "dev", "peer0", "nodad");
            ip("-n", gatewayNs, "-6", "route", "replace", prefix6, "dev", "peer0");
        },
        serve: (port, socketPath) => new Promise<void>((resolve, reject) => {
            const child = spawn("ip", ["netns", "exec", ssh.ns, process.execPath, "-e", FORWARDER, spec.address, String(port), socketPath], { stdio: ["ignore", "pipe", "pipe"] });
            forwarders.push(child);
            let said = "";
            child.stdout.on("data", (d: Buffer) => {
                said += d.toString();
                if (said.includes("listening")) resolve();
            });
            child.stderr.on("data", (d: Buffer) => (said += d.toString()));
            child.on("exit", (code) => reject(new Error(`forwarder of ${spec.address}:${port} exited ${code}: ${said}`)));
        }),
        containerNetwork: (opts = {}) => {
            if (!spec.interfaceName) throw new Error("containerNetwork: the host has no lab interface (interfaceName)");
            const n = labNetwork(ssh.ns, spec.interfaceName, path.join(ssh.usrLocal, "sbin", "net-hotplug"), opts.bootMs ?? 0);
            networks.push(n);
            return n;
        },
        inRouter: (...argv) => {
            const r = spawnSync("ip", ["netns", "exec", gatewayNs, ...argv], { encoding: "utf8" });
            return { status: r.status, stdout: r.stdout, stderr: r.stderr };
        },
        stop,
    };
}

/** The netN lines of a container's configuration, by key. */
function configLines(lines: string[]): Record<string, string> {
    return Object.fromEntries(lines.map((l) => /^(net\d+): (.*)$/.exec(l)).filter((m): m is RegExpExecArray => m !== null).map((m) => [m[1], m[2]]));
}

/** A process in the container's network namespace standing for its init, once it runs there. */
function containerInit(ns: string): Promise<ChildProcess> {
    return new Promise((resolve, reject) => {
        // It says so once it runs in the namespace (ip netns exec execs it there: the pid is its own).
        const child = spawn("ip", ["netns", "exec", ns, "sh", "-c", "echo up; exec sleep infinity"], { stdio: ["ignore", "pipe", "pipe"] });
        let said = "";
        child.stdout.on("data", (d: Buffer) => {
            said += d.toString();
            if (said.includes("up")) resolve(child);
        });
        child.stderr.on("data", (d: Buffer) => (said += d.toString()));
        child.on("exit", (code) => reject(new Error(`the init of ${ns} exited ${code}: ${said}`)));
    });
}

/**
 * The lab's interface as the container's NIC of that name: hotplugged by the same script as
 * `pct set`; a start makes it anew (down, no address, up: a new veth), and `bootMs` later the
 * container's init has configured it from the config; a stop takes it down. Proxmox gives a
 * container's NIC its addresses through the container's own network configuration
 * (pve-container src/PVE/LXC/Setup/Debian.pm writes /etc/network/interfaces, which the
 * container's networking service applies as it boots), so they come after the start task has
 * ended (src/PVE/LXC.pm vm_start returns once the container runs). NICs of other names are not
 * modeled (the lab has one interface).
 */
function labNetwork(ns: string, interfaceName: string, hotplugScript: string, bootMs: number): ContainerNetwork & { close(): void } {
    const nameOf = (value: string) => /(?:^|,)name=([^,]+)/.exec(value)?.[1];
    const inLab = (...args: string[]) => execFileSync("ip", ["netns", "exec", ns, ...args], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    const hotplug = (old: string, value: string) => inLab("sh", hotplugScript, old, value).trim();
    const down = () => {
        inLab("ip", "link", "set", interfaceName, "down");
        inLab("ip", "addr", "flush", "dev", interfaceName);
    };
    const ours = (nets: Record<string, string>) => Object.values(nets).filter((v) => nameOf(v) === interfaceName);
    let booting: NodeJS.Timeout | undefined;
    const cancelBoot = () => {
        clearTimeout(booting);
        booting = undefined;
    };
    return {
        hotplug: (_vmid, _key, old, value) => {
            const was = old !== undefined && nameOf(old) === interfaceName;
            if (nameOf(value) === interfaceName) {
                // Still booting: nothing configured yet, the new value is all there is.
                const fresh = booting !== undefined;
                cancelBoot();
                return hotplug(was && !fresh ? old : "", value);
            }
            // Renamed away from the lab's interface: that veth goes.
            if (was) down();
            return value;
        },
        unplug: (_vmid, _key, old) => {
            if (nameOf(old) === interfaceName) down();
        },
        started: (_vmid, nets) => {
            for (const value of ours(nets)) {
                cancelBoot();
                down();
                inLab("ip", "link", "set", interfaceName, "up");
                if (bootMs === 0) hotplug("", value);
                else booting = setTimeout(() => {
                    booting = undefined;
                    hotplug("", value);
                }, bootMs);
            }
        },
        stopped: (_vmid, nets) => {
            if (ours(nets).length === 0) return;
            cancelBoot();
            down();
        },
        close: cancelBoot,
    };
}
