// Proxmox hosts for the real CLI: each a real sshd (test/support/sshLab.ts) at the address a stack
// names for it, reached from the CLI's network namespace, with the pct stand-in on its PATH
// (hotplug on, so a running container's interface follows its netN) and OVH's gateway on the
// other end of the container's interface: a namespace holding the server's IPv4 gateway and the
// IPv6 gateway of its /64 by OVH's rule, which answer ARP and neighbour solicitations as OVH's
// router does. The container's interface is the lab's own (pct exec runs there). A host can also
// serve another port at its address (the Proxmox API stand-in's 8006), and its containers' live
// interface follows what the API stand-in does to them (containerNetwork).
import { ChildProcess, execFileSync, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { readContainerConfig, writeContainerConfig, writeNetHotplug, writePctStandIn } from "./pctStandIn";
import type { ContainerNetwork } from "./proxmoxStandIn";
import { scratch } from "./realStack";
import { SshHost, startSshHost } from "./sshLab";

export interface ProxmoxHostSpec {
    /** The address the stack names (servers.<name>.proxmox.host). */
    address: string;
    /** What OVH's router answers as on the container's link. */
    gateway: string;
    gateway6?: string;
    /** The server's /64: OVH's router has it on the link. */
    prefix6?: string;
    /** The container's interface (eth1) and its containers' configurations, running. */
    interfaceName: string;
    containers: Record<number, string[]>;
    /** Public keys the host accepts besides its own client key. */
    authorizedKeys?: string[];
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
    const ssh = await startSshHost([spec.interfaceName], { reachable: { address: spec.address, from }, authorizedKeys: spec.authorizedKeys });
    const gatewayNs = `${ssh.ns}-gw`;
    const root = scratch("ovhf-pve-");
    const ip = (...args: string[]) => execFileSync("ip", args, { stdio: ["ignore", "ignore", "pipe"] });
    const forwarders: ChildProcess[] = [];
    const networks: { close(): void }[] = [];
    const stop = () => {
        for (const f of forwarders) f.kill("SIGTERM");
        for (const n of networks) n.close();
        spawnSync("ip", ["netns", "del", gatewayNs]);
        ssh.stop();
        fs.rmSync(root, { recursive: true, force: true });
    };
    try {
        // The other end of the container's veth (sshLab names it peer0) goes to the gateway.
        ip("netns", "add", gatewayNs);
        ip("-n", ssh.ns, "link", "set", "peer0", "netns", gatewayNs);
        ip("-n", gatewayNs, "link", "set", "lo", "up");
        ip("-n", gatewayNs, "link", "set", "peer0", "up");
        ip("-n", gatewayNs, "addr", "add", `${spec.gateway}/24`, "dev", "peer0");
        if (spec.gateway6) ip("-n", gatewayNs, "addr", "add", `${spec.gateway6}/64`, "dev", "peer0", "nodad");
        if (spec.prefix6) ip("-n", gatewayNs, "-6", "route", "replace", spec.prefix6, "dev", "peer0");
        // A failover IP is outside the gateway's /24: the router answers it on the link all the same.
        ip("-n", gatewayNs, "route", "replace", "default", "dev", "peer0");
        writePctStandIn(path.join(ssh.usrLocal, "sbin"), root, { hotplug: true });
        writeNetHotplug(path.join(ssh.usrLocal, "sbin"));
        for (const [vmid, lines] of Object.entries(spec.containers)) writeContainerConfig(root, Number(vmid), lines, true);
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
            const n = labNetwork(ssh.ns, spec.interfaceName, path.join(ssh.usrLocal, "sbin", "net-hotplug"), opts.bootMs ?? 0);
            networks.push(n);
            return n;
        },
        stop,
    };
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
