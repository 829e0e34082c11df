// The container NIC's scripts through a real OpenSSH server with Debian's stock configuration,
// run as @pulumi/command runs them (test/support/sshLab.ts), against the pct stand-in that
// follows Proxmox's semantics (test/support/pctStandIn.ts). The stock sshd refuses the
// PULUMI_COMMAND_STDOUT the client offers, so every fact a later step needs must be on the host.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NicSpec, renderCreateScript, renderDeleteScript, renderUpdateScript } from "../../../components/proxmox/pct";
import { netLineOf, readContainerConfig, writeContainerConfig, writePctStandIn } from "../../support/pctStandIn";
import { canRunSshLab, SshHost, startSshHost } from "../../support/sshLab";

const runnable = canRunSshLab();
if (!runnable && process.env.CI === "true") throw new Error("the SSH lab needs root, iproute2 and openssh-server in CI");

const ORIGINAL = "name=eth1,bridge=vmbr0,firewall=1,gw=198.51.100.1,gw6=fe80::1,hwaddr=BC:24:11:00:00:01,ip=192.0.2.5/24,ip6=2001:db8::5/64,mtu=1400,rate=10,tag=5,type=veth";
const OTHERS = "firewall=1"; // and gw6, ip6, mtu, rate, tag: checked one by one below

describe.skipIf(!runnable)("the container NIC through a real sshd (stock Debian sshd_config)", () => {
    let host: SshHost;
    let root: string;
    beforeAll(async () => {
        host = await startSshHost(["eth1"]);
        root = fs.mkdtempSync(path.join(os.tmpdir(), "ovhf-pve-"));
        writePctStandIn(path.join(host.usrLocal, "sbin"), root);
        writeContainerConfig(root, 101, ["arch: amd64", "hostname: proxy", "net0: name=eth0,bridge=vmbr1,hwaddr=BC:24:11:00:00:02,ip=10.1.0.100/24,type=veth", `net1: ${ORIGINAL}`], true);
    });
    afterAll(() => {
        host?.stop();
        if (root) fs.rmSync(root, { recursive: true, force: true });
    });

    const net1 = () => netLineOf(readContainerConfig(root, 101), 1);
    const keepsTheRest = () => {
        for (const option of [OTHERS, "gw6=fe80::1", "ip6=2001:db8::5/64", "mtu=1400", "rate=10", "tag=5"]) expect(net1()).toContain(option);
        expect(readContainerConfig(root, 101)).toContain("net0: name=eth0,bridge=vmbr1,hwaddr=BC:24:11:00:00:02,ip=10.1.0.100/24,type=veth");
    };
    const nic: NicSpec = { vmid: 101, index: 1, interfaceName: "eth1", bridge: "vmbr0", macAddress: "02:00:00:12:34:56", address: "192.0.2.10", prefixLength: 32, gateway: "198.51.100.254" };
    const changed: NicSpec = { ...nic, address: "203.0.113.77", macAddress: "02:00:00:aa:bb:cc" };

    it("refuses the environment @pulumi/command offers: nothing may depend on it", () => {
        const r = host.run('echo "stdout=${PULUMI_COMMAND_STDOUT-refused}"', { previousStdout: "applied=x" });
        expect(r.status, r.stderr).toBe(0);
        expect(r.stdout).toBe("stdout=refused\n");
    });

    it("create → update (an IP change) → replace on the same host → delete: the other options survive each step, the original comes back exactly", () => {
        const create = host.run(renderCreateScript(nic));
        expect(create.status, create.stderr).toBe(0);
        expect(net1()).toBe("name=eth1,bridge=vmbr0,firewall=1,gw=198.51.100.254,gw6=fe80::1,hwaddr=02:00:00:12:34:56,ip=192.0.2.10/32,ip6=2001:db8::5/64,mtu=1400,rate=10,tag=5,type=veth");
        // The container runs: the gateway outside the /32 got its on-link route.
        expect(create.stdout).toContain("onlink=added");
        expect(host.inNamespace("ip", "-4", "route", "show", "198.51.100.254")).toContain("dev eth1 scope link");
        expect(fs.readFileSync(path.join(host.varDir, "lib/ovh-failover/pct-101-net1.original"), "utf8")).toBe(`${ORIGINAL}\n`);

        const update = host.run(renderUpdateScript(changed), { previousStdout: create.stdout });
        expect(update.status, update.stderr).toBe(0);
        expect(net1()).toBe("name=eth1,bridge=vmbr0,firewall=1,gw=198.51.100.254,gw6=fe80::1,hwaddr=02:00:00:aa:bb:cc,ip=203.0.113.77/32,ip6=2001:db8::5/64,mtu=1400,rate=10,tag=5,type=veth");
        keepsTheRest();

        // A replacement of the same NIC runs delete-before-replace (ContainerNic): the old delete,
        // then the new create.
        const oldDelete = host.run(renderDeleteScript(changed), { previousStdout: update.stdout });
        expect(oldDelete.status, oldDelete.stderr).toBe(0);
        expect(net1()).toBe(ORIGINAL);
        const newCreate = host.run(renderCreateScript(changed));
        expect(newCreate.status, newCreate.stderr).toBe(0);
        keepsTheRest();
        expect(net1()).toContain("hwaddr=02:00:00:aa:bb:cc");

        const del = host.run(renderDeleteScript(changed), { previousStdout: newCreate.stdout });
        expect(del.status, del.stderr).toBe(0);
        expect(net1()).toBe(ORIGINAL);
        expect(fs.existsSync(path.join(host.varDir, "lib/ovh-failover/pct-101-net1.original"))).toBe(false);
        // The project's folder goes with the last record in it; one that holds another's stays.
        expect(fs.existsSync(path.join(host.varDir, "lib/ovh-failover"))).toBe(false);
        expect(host.run(renderCreateScript(changed)).status).toBe(0);
        fs.writeFileSync(path.join(host.varDir, "lib/ovh-failover/pct-102-net1.original"), "\n");
        expect(host.run(renderDeleteScript(changed)).status).toBe(0);
        expect(fs.readdirSync(path.join(host.varDir, "lib/ovh-failover"))).toEqual(["pct-102-net1.original"]);
    });

    it("with IPv6: ip6 and gw6 set over the NIC's own with the on-link route to OVH's gateway; ip6 removed puts the NIC's own back; delete restores the line", () => {
        const v6: NicSpec = { ...nic, ipv6: { address: "2001:db8:1:4662::10", prefixLength: 64, gateway: "2001:db8:1:46ff:ff:ff:ff:ff", onLink: true } };
        const create = host.run(renderCreateScript(v6));
        expect(create.status, create.stderr).toBe(0);
        expect(net1()).toBe("name=eth1,bridge=vmbr0,firewall=1,gw=198.51.100.254,gw6=2001:db8:1:46ff:ff:ff:ff:ff,hwaddr=02:00:00:12:34:56,ip=192.0.2.10/32,ip6=2001:db8:1:4662::10/64,mtu=1400,rate=10,tag=5,type=veth");
        expect(create.stdout).toContain("onlink6=added");
        expect(host.inNamespace("ip", "-6", "route", "show", "2001:db8:1:46ff:ff:ff:ff:ff")).toMatch(/dev eth1/);
        // What Proxmox's hotplug may have left undone, made sure of: the address and the default route.
        expect(create.stdout).toContain("address6=added");
        expect(create.stdout).toContain("default6=set");
        expect(host.inNamespace("ip", "-6", "addr", "show", "dev", "eth1", "to", "2001:db8:1:4662::10/128")).toContain("2001:db8:1:4662::10/64");
        expect(host.inNamespace("ip", "-6", "route", "show", "default")).toMatch(/via 2001:db8:1:46ff:ff:ff:ff:ff dev eth1/);
        // Run again, the route is there: nothing to add.
        expect(host.run(renderUpdateScript(v6)).stdout).not.toMatch(/onlink6=added|address6=added|default6=set/);

        const without = host.run(renderUpdateScript(nic));
        expect(without.status, without.stderr).toBe(0);
        expect(net1()).toBe("name=eth1,bridge=vmbr0,firewall=1,gw=198.51.100.254,gw6=fe80::1,hwaddr=02:00:00:12:34:56,ip=192.0.2.10/32,ip6=2001:db8::5/64,mtu=1400,rate=10,tag=5,type=veth");
        expect(fs.existsSync(path.join(host.varDir, "lib/ovh-failover/pct-101-net1.ip6"))).toBe(false);

        const del = host.run(renderDeleteScript(nic));
        expect(del.status, del.stderr).toBe(0);
        expect(net1()).toBe(ORIGINAL);
    });
});
