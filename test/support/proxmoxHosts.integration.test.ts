// The Proxmox host lab's containers of their own (proxmoxHosts.ts links): each container a network
// namespace of its own on a bridge with OVH's router, pct exec and the netN hotplug there. Three
// containers on one host, each with its own default route through the same gateway, pass the
// real gateway probe; what one does is not seen by another nor by the host.
import { execFileSync, spawnSync } from "child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { renderProbeScript } from "../../components/proxmox/probeScript";
import { shellQuote } from "../../components/shared/shell";
import { ProxmoxHost, startProxmoxHost } from "./proxmoxHosts";
import { netLineOf } from "./pctStandIn";
import { canRunSshLab } from "./sshLab";

const runnable = canRunSshLab();
const GATEWAY = "198.51.100.254";
const before = (vmid: number) => `name=eth1,bridge=vmbr0,hwaddr=BC:24:11:5E:01:${vmid - 100}0,ip=dhcp,type=veth`;
const nic = (vmid: number, ip: string) => `name=eth1,bridge=vmbr0,gw=${GATEWAY},hwaddr=02:00:00:5e:01:0${vmid - 100},ip=${ip}/32,type=veth`;

describe.runIf(runnable)("a Proxmox host whose containers each have a network namespace of their own", () => {
    const from = `ovhf${process.pid}-from`;
    let host: ProxmoxHost;

    beforeAll(async () => {
        execFileSync("ip", ["netns", "add", from]);
        host = await startProxmoxHost(from, {
            address: "198.51.100.20",
            containers: {
                101: ["hostname: web1", `net1: ${before(101)}`],
                102: ["hostname: web2", `net1: ${before(102)}`],
                // No net1 before: the NIC is hotplugged anew.
                103: ["hostname: web3"],
                110: ["hostname: lb", "net1: name=eth1,bridge=vmbr1,gw=192.0.2.22,hwaddr=0E:C0:00:02:12:01,ip=192.0.2.18/29,type=veth"],
            },
            links: {
                101: { interfaceName: "eth1", bridge: "vmbr0", router: `${GATEWAY}/24` },
                102: { interfaceName: "eth1", bridge: "vmbr0", router: `${GATEWAY}/24` },
                103: { interfaceName: "eth1", bridge: "vmbr0", router: `${GATEWAY}/24` },
                110: { interfaceName: "eth1", bridge: "vmbr1", router: "192.0.2.22/29" },
            },
        });
    }, 120_000);
    afterAll(() => {
        host?.stop();
        spawnSync("ip", ["netns", "del", from]);
    });

    const pct = (args: string) => {
        const r = host.ssh.run(`pct ${args}`);
        expect(r.status, `pct ${args}: ${r.stderr}`).toBe(0);
        return r.stdout;
    };
    const addresses = (vmid: number) => host.containerIp(vmid, "-4", "-o", "addr", "show", "dev", "eth1").split("\n").map((l) => /inet (\S+)/.exec(l)?.[1]).filter((a) => a !== undefined);
    const defaultRoute = (vmid: number) => host.containerIp(vmid, "-4", "route", "show", "default").trim();
    const mac = (vmid: number) => /link\/ether (\S+)/.exec(host.containerIp(vmid, "-o", "link", "show", "eth1"))?.[1];

    it("boots each NIC as its configuration says, in the container's namespace only", () => {
        expect(mac(101)).toBe("bc:24:11:5e:01:10");
        expect(addresses(101)).toEqual([]);
        expect(addresses(110)).toEqual(["192.0.2.18/29"]);
        expect(defaultRoute(110)).toBe("default via 192.0.2.22 dev eth1");
        // The host's own namespace has none of the containers' NICs.
        expect(host.ssh.inNamespace("ip", "-o", "link", "show")).not.toMatch(/eth1/);
        // pct exec runs in the container: it sees its own NIC and no other.
        expect(pct("exec 110 -- ip -4 -o addr show dev eth1")).toContain("inet 192.0.2.18/29");
        expect(pct("exec 101 -- ip -o link show").split("\n").filter((l) => l !== "").map((l) => l.split(": ")[1].split("@")[0])).toEqual(["lo", "eth1"]);
    });

    it("hotplugs pct set in the container: three containers, one gateway, each with its default route, each passing the probe", () => {
        for (const [vmid, ip] of [[101, "192.0.2.9"], [102, "192.0.2.10"], [103, "192.0.2.11"]] as const) pct(`set ${vmid} --net1 ${shellQuote(nic(vmid, ip))}`);
        expect(netLineOf(host.config(103), 1)).toBe(nic(103, "192.0.2.11"));
        for (const [vmid, ip] of [[101, "192.0.2.9"], [102, "192.0.2.10"], [103, "192.0.2.11"]] as const) {
            expect(addresses(vmid)).toEqual([`${ip}/32`]);
            expect(mac(vmid)).toBe(`02:00:00:5e:01:0${vmid - 100}`);
            expect(defaultRoute(vmid)).toBe(`default via ${GATEWAY} dev eth1`);
            const script = renderProbeScript({ interfaceName: "eth1", address: ip, gateways: [GATEWAY], tries: 3, timeoutSeconds: 5, label: `container ${vmid} net1` });
            expect(pct(`exec ${vmid} -- sh -c ${shellQuote(script)}`)).toContain(`chosen=${GATEWAY}`);
        }
    });

    it("does not answer a probe whose gateway is not on the container's bridge", () => {
        const script = renderProbeScript({ interfaceName: "eth1", address: "192.0.2.9", gateways: ["192.0.2.22"], tries: 1, timeoutSeconds: 2, label: "container 101 net1" });
        // 101 is on vmbr0: the vRack's gateway is on vmbr1, where 101's ARP does not reach.
        const r = host.ssh.run(`pct exec 101 -- sh -c ${shellQuote(script)}`);
        expect(r.status).not.toBe(0);
        expect(r.stdout).toMatch(/gateway 192\.0\.2\.22: DEAD \(arping: no ARP reply/);
    });

    it("takes a deleted NIC away from the running container, and puts one set back", () => {
        pct("set 103 --delete net1");
        expect(netLineOf(host.config(103), 1)).toBeUndefined();
        expect(addresses(103)).toEqual([]);
        expect(host.containerIp(103, "-o", "link", "show", "eth1")).not.toMatch(/[<,]UP[,>]/);
        pct(`set 101 --net1 ${shellQuote(before(101))}`);
        expect(netLineOf(host.config(101), 1)).toBe(before(101));
        expect(addresses(101)).toEqual([]);
        expect(mac(101)).toBe("bc:24:11:5e:01:10");
        expect(defaultRoute(101)).toBe("");
        // The others kept theirs.
        expect(addresses(102)).toEqual(["192.0.2.10/32"]);
    });
});
