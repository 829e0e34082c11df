// An OVH Public Cloud instance for the real CLI: a real sshd (test/support/sshLab.ts) at the
// address a stack names for it, reached from the CLI's network namespace, as Public Cloud images
// are: a `debian` user whose sudo needs no password (cloud-init's
// /etc/sudoers.d/90-cloud-init-users), the public port (ens3) as its DHCP lease leaves it (the
// instance's address as a /32, the gateway on-link, the default route through it), and
// cloud-init's /etc/netplan/50-cloud-init.yaml defining that port with dhcp4. The port's other
// end is OVH's network, a namespace that holds the gateway and routes the instance's address to
// it; an additional IP attached to the instance is routed there too once the test says so
// (routeToInstance: what the attach does at OVH).
import { execFileSync, spawnSync } from "child_process";
import { remote, SshHost, startSshHost } from "./sshLab";

export interface CloudInstanceSpec {
    /** The instance's address (its DHCP lease), where the stack reaches it. */
    address: string;
    /** The gateway the lease gives, on-link. */
    gateway: string;
    /** The public port. */
    interfaceName: string;
    /** The image's user, with sudo without a password. */
    user: string;
}

export interface CloudInstance {
    ssh: SshHost;
    /** cloud-init's netplan file, as written. */
    cloudInitNetplan: string;
    /** OVH's network routes this address to the instance (the attach done). */
    routeToInstance(address: string): void;
    /** A command in OVH's network (a ping from the Internet's side); never throws. */
    inOvh(...argv: string[]): { status: number | null; stdout: string; stderr: string };
    stop(): void;
}

export async function startCloudInstance(from: string, spec: CloudInstanceSpec): Promise<CloudInstance> {
    const ssh = await startSshHost([spec.interfaceName], { reachable: { address: spec.address, from } });
    const ovh = `${ssh.ns}-ovh`;
    const ip = (...args: string[]) => execFileSync("ip", args, { stdio: ["ignore", "ignore", "pipe"] });
    const stop = () => {
        spawnSync("ip", ["netns", "del", ovh]);
        ssh.stop();
    };
    let cloudInitNetplan: string;
    try {
        ip("netns", "add", ovh);
        ip("-n", ssh.ns, "link", "set", "peer0", "netns", ovh);
        ip("-n", ovh, "link", "set", "lo", "up");
        ip("-n", ovh, "link", "set", "peer0", "up");
        ip("-n", ovh, "addr", "add", `${spec.gateway}/32`, "dev", "peer0");
        ip("-n", ovh, "route", "add", `${spec.address}/32`, "dev", "peer0");
        const i = spec.interfaceName;
        ip("-n", ssh.ns, "addr", "add", `${spec.address}/32`, "dev", i);
        ip("-n", ssh.ns, "route", "add", spec.gateway, "dev", i, "proto", "dhcp", "scope", "link", "src", spec.address);
        ip("-n", ssh.ns, "route", "add", "default", "via", spec.gateway, "dev", i, "proto", "dhcp", "src", spec.address, "metric", "100");
        const mac = (await remote(ssh, `cat /sys/class/net/${i}/address`)).trim();
        // cloud-init's rendering of a DHCP port (cloudinit/net/netplan.py).
        cloudInitNetplan = `# This file is generated from information provided by the datasource.  Changes\n# to it will not persist across an instance reboot.  To disable cloud-init's\n# network configuration capabilities, write a file\n# /etc/cloud/cloud.cfg.d/99-disable-network-config.cfg with the following:\n# network: {config: disabled}\nnetwork:\n    version: 2\n    ethernets:\n        ${i}:\n            dhcp4: true\n            match:\n                macaddress: ${mac}\n            set-name: ${i}\n`;
        await remote(ssh, `set -e
mkdir -p /etc/netplan
echo ${Buffer.from(cloudInitNetplan).toString("base64")} | base64 -d > /etc/netplan/50-cloud-init.yaml
chmod 0600 /etc/netplan/50-cloud-init.yaml
useradd -m -d /var/home/${spec.user} -s /bin/sh ${spec.user}
printf '%s\\n' '# Created by cloud-init v. 22.4.2' '' '# User rules for ${spec.user}' '${spec.user} ALL=(ALL) NOPASSWD:ALL' > /etc/sudoers.d/90-cloud-init-users
chmod 0440 /etc/sudoers.d/90-cloud-init-users`);
        // The image's user is root through sudo, without a password.
        const whoami = (await remote(ssh, "sudo -n id -u", { user: spec.user })).trim();
        if (whoami !== "0") throw new Error(`sudo -n id -u as ${spec.user}: ${whoami}`);
    } catch (err) {
        stop();
        throw err;
    }
    return {
        ssh,
        cloudInitNetplan,
        routeToInstance: (address) => ip("-n", ovh, "route", "replace", `${address}/32`, "via", spec.address, "dev", "peer0"),
        inOvh: (...argv) => {
            const r = spawnSync("ip", ["netns", "exec", ovh, ...argv], { encoding: "utf8" });
            return { status: r.status, stdout: r.stdout, stderr: r.stderr };
        },
        stop,
    };
}
