// Proxmox hosts for the real CLI: each a real sshd (test/support/sshLab.ts) at the address a stack
// names for it, reached from the CLI's network namespace, with the pct stand-in on its PATH
// (hotplug on, so a running container's interface follows its netN) and OVH's gateway on the
// other end of the container's interface: a namespace holding the server's IPv4 gateway and the
// IPv6 gateway of its /64 by OVH's rule, which answer ARP and neighbour solicitations as OVH's
// router does. The container's interface is the lab's own (pct exec runs there).
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { readContainerConfig, writeContainerConfig, writePctStandIn } from "./pctStandIn";
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
    stop(): void;
}

export async function startProxmoxHost(from: string, spec: ProxmoxHostSpec): Promise<ProxmoxHost> {
    const ssh = await startSshHost([spec.interfaceName], { reachable: { address: spec.address, from }, authorizedKeys: spec.authorizedKeys });
    const gatewayNs = `${ssh.ns}-gw`;
    const root = scratch("ovhf-pve-");
    const ip = (...args: string[]) => execFileSync("ip", args, { stdio: ["ignore", "ignore", "pipe"] });
    const stop = () => {
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
        stop,
    };
}
