// `pulumi up` through the real CLI and the real command and ovh plugins for the routed stack
// (stacks/Pulumi.routed.yaml): a server without virtual MACs in OVH's routed mode, its additional
// IP routed by the Proxmox host to vmbr2 (a bridge of the host's own holding 192.168.0.1/24), with
// forwarding and proxy ARP on vmbr0, and container 120 taking the IP as a /32 on vmbr2. Up from
// nothing, an `up` with nothing to do, an IP change (to another IP routed to the server), and
// `destroy`. The world: the HTTPS OVH stand-in, and the Proxmox host ovh3, a real sshd at the
// stack's address with the pct stand-in, whose own namespace holds vmbr0 (the server's address,
// one port to OVH's router) and vmbr2 (192.168.0.1/24, the container's veth as its port), as
// proxmoxHosts.ts's routed mode models. OVH's router reaches an IP routed to the server by asking
// ARP for it on vmbr0's link: a ping from there proves the whole path (proxy ARP, forwarding, the
// host route, the container's /32 and gateway) and its absence proves the host undone. IPv6 the
// same way: vmbr0 holds the server's main IPv6 of its /64 and routes through OVH's gateway, which
// the router holds with the /64 on the link; the router finds ::50 by neighbour discovery on that
// link (the host's proxy NDP entry answers), and vmbr2 holds fd00::1, the container's IPv6 gateway.
import * as fs from "fs";
import * as path from "path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO } from "../support/engine";
import { changed, editStack, netLine, withLabKeys } from "../support/lifecycle";
import { DNS_WRITE, expectInOrder, startLifecycle } from "../support/lifecycleRun";
import { writeLifecycleRecording } from "../support/lifecycleRecording";
import { ProxmoxHost, startProxmoxHost } from "../support/proxmoxHosts";
import { recordedBy, useProvidersTier } from "../support/providersTier";
import { remote } from "../support/sshLab";
import { accountBefore, ipv6Of, ROUTED } from "../support/worlds";

const tier = useProvidersTier();

const STACK = "routed";
const ZONE = "example.org";
const VMID = 120;
const NEW_IP = "192.0.2.51";
/** The server's /64 (servers.ovh3.ipv6.prefix) and the endpoint's ip6 (::50) in it. */
const PREFIX6 = "2001:db8:3:4662::/64";
const IP6 = "2001:db8:3:4662::50";
const CONTAINER = ["arch: amd64", "hostname: app"];

/**
 * The routed endpoint's NIC: the IP as a /32 and ::50 as a /128 on vmbr2, the bridge's addresses
 * as its gateways, a hardware address derived from the IP.
 */
const routedNic = (ip: string) => `name=eth1,bridge=vmbr2,gw=192.168.0.1,gw6=fd00::1,hwaddr=0e:c0:00:02:${Number(ip.split(".")[3]).toString(16).padStart(2, "0")}:01,ip=${ip}/32,ip6=${IP6}/128,type=veth`;

/**
 * What the stack may change on the host: its IPv4 and IPv6 routes (every table), its addresses,
 * the neighbour proxy entries, the forwarding, proxy ARP and redirect sysctls of every interface
 * and its IPv6 forwarding, proxy NDP and accept_ra ones, and every file and folder under the
 * paths HostRoute writes (with mode and owner, and each file's digest).
 */
// A route's linkdown flag is the bridge's carrier, which follows the container's port (the lab's, and
// the pct stand-in's hot-unplug): not host state the stack changes, and left out.
const HOST_STATE = `ip -4 route show table all | sed 's/ linkdown//'
ip -4 -o addr show
ip -6 route show table all | sed 's/ linkdown//'
ip -6 -o addr show
ip -6 neigh show proxy
for f in /proc/sys/net/ipv4/ip_forward /proc/sys/net/ipv4/conf/*/forwarding /proc/sys/net/ipv4/conf/*/proxy_arp /proc/sys/net/ipv4/conf/*/accept_redirects; do echo "$f $(cat "$f")"; done
for f in /proc/sys/net/ipv6/conf/*/forwarding /proc/sys/net/ipv6/conf/*/proxy_ndp /proc/sys/net/ipv6/conf/*/accept_ra; do echo "$f $(cat "$f")"; done
find /etc/ovh-failover /etc/sysctl.d /etc/network /var/lib/ovh-failover -printf '%p %m %U\\n' 2>/dev/null | sort || true
find /etc/ovh-failover /etc/sysctl.d /etc/network /var/lib/ovh-failover -type f -exec sha256sum {} + 2>/dev/null | sort || true`;

describe("the routed stack through the real CLI and plugins: a server without virtual MACs, the IP routed by the host", () => {
    let host: ProxmoxHost;
    let before: string;
    let hostBefore: string;

    beforeAll(async () => {
        host = await startProxmoxHost(tier.ws.network.ns, {
            address: "198.51.100.40",
            containers: { [VMID]: CONTAINER },
            links: { [VMID]: { interfaceName: "eth1", bridge: "vmbr2", host: "192.168.0.1/24", host6: "fd00::1/64" } },
            uplink: {
                bridge: "vmbr0", address: "198.51.100.40/24", router: "198.51.100.254/24",
                // ::1 as the server's main IPv6: ours, the guide leaves the choice to the reader.
                ipv6: { prefix: PREFIX6, address: "2001:db8:3:4662::1/128", gateway: ipv6Of(PREFIX6).gateway },
            },
        });
        // OVH routes both IPs to the server: its router asks ARP for them on the server's link.
        for (const ip of [ROUTED.ip, NEW_IP]) expect(host.inRouter("ip", "route", "add", `${ip}/32`, "dev", "srv0").status).toBe(0);
        before = host.config(VMID);
        hostBefore = await remote(host.ssh, HOST_STATE);
    }, 120_000);
    afterAll(() => host?.stop());

    const sh = (script: string) => remote(host.ssh, script);
    const sysctl = async (key: string) => (await sh(`sysctl -n ${key}`)).trim();
    /** OVH's router pings the IP: an answer within 3 s. */
    const answers = (ip: string) => host.inRouter("ping", "-n", "-c", "1", "-W", "3", ip).status === 0;
    /** No answer within 1 s. */
    const silent = (ip: string) => host.inRouter("ping", "-n", "-c", "1", "-W", "1", ip).status !== 0;
    /**
     * OVH's router pings ::50 afresh (its neighbour entries flushed: it must solicit the address on
     * the server's link, which the host answers for by proxy NDP), within 3 s; or no answer within 2 s.
     */
    const ping6 = (wait: number) => {
        host.inRouter("ip", "-6", "neigh", "flush", "dev", "srv0");
        return host.inRouter("ping", "-6", "-n", "-c", "1", "-W", String(wait), IP6).status === 0;
    };
    const host6 = async () => ({
        route: await sh(`ip -6 route show exact ${IP6}/128`),
        proxies: await sh("ip -6 neigh show proxy"),
        forwarding: await sysctl("net.ipv6.conf.all.forwarding"),
        proxyNdp: await sysctl("net.ipv6.conf.vmbr0.proxy_ndp"),
    });
    const ROUTED6 = {
        route: `${IP6} dev vmbr2 metric 1024 pref medium\n`,
        proxies: `${IP6} dev vmbr0 proxy \n`,
        forwarding: "1",
        proxyNdp: "1",
    };
    const live = () => ({
        mac: /link\/ether (\S+)/.exec(host.containerIp(VMID, "-o", "link", "show", "eth1"))?.[1],
        addresses: host.containerIp(VMID, "-4", "-o", "addr", "show", "dev", "eth1").split("\n").map((l) => /inet (\S+)/.exec(l)?.[1]).filter((a) => a !== undefined),
        defaultRoute: host.containerIp(VMID, "-4", "route", "show", "default").trim(),
        addresses6: host.containerIp(VMID, "-6", "-o", "addr", "show", "dev", "eth1", "scope", "global").split("\n").map((l) => /inet6 (\S+)/.exec(l)?.[1]).filter((a) => a !== undefined),
        defaultRoute6: host.containerIp(VMID, "-6", "route", "show", "default").trim(),
    });
    const LIVE6 = { addresses6: [`${IP6}/128`], defaultRoute6: "default via fd00::1 dev eth1 metric 1024 pref medium" };
    /** When the host's list of routes was last written (ms since the epoch): HostRoute's script writes it before applying the route. */
    const listWritten = async () => Number((await sh("stat -c %.9Y /etc/ovh-failover/routes")).trim()) * 1000;
    const pctSetAt = (since: number) => host.pctLog().filter((c) => c.command === "set" && c.vmid === String(VMID)).map((c) => Number(c.at / 1000n) / 1000).filter((at) => at >= since);
    const now = () => performance.timeOrigin + performance.now();

    it("up from nothing, a no-op, an IP change, destroy", async () => {
        accountBefore(STACK, tier.standIn);
        // The IP it changes to: rented too, routed to the same server.
        tier.standIn.addIp(NEW_IP, { routedTo: ROUTED.server });
        const secrets = [tier.standIn.applicationSecret, tier.standIn.consumerKey, host.ssh.clientKey.split("\n")[1]];
        const template = withLabKeys(fs.readFileSync(path.join(REPO, "stacks", `Pulumi.${STACK}.yaml`), "utf8"), { ovh3: host });
        const lifecycle = await startLifecycle(tier, { ovh3: host }, STACK, template, () => secrets);
        const { project, run, recordsOf } = lifecycle;

        // The lab as a Proxmox host before the stack: nothing routes the IP, forwarding off.
        expect(await sysctl("net.ipv4.ip_forward")).toBe("0");
        expect(await sysctl("net.ipv4.conf.vmbr0.proxy_arp")).toBe("0");
        expect(silent(ROUTED.ip)).toBe(true);
        expect(await host6()).toEqual({ route: "", proxies: "", forwarding: "0", proxyNdp: "0" });
        expect(ping6(2)).toBe(false);

        // 1. From nothing: the IP is already routed to ovh3 (its ip.Move writes nothing); no
        // virtual MAC is asked for (the server takes none); the host routes the IP to vmbr2, then
        // the container's NIC, its probe (ARP of 192.168.0.1, which the host answers), then DNS.
        let since = now();
        const first = await run("up from nothing", "up");
        expect(first.world.filter((e) => /virtualMac|\/move$/.test(e.what))).toEqual([]);
        expect(tier.standIn.virtualMacs(ROUTED.server)).toEqual({});
        expect(tier.standIn.ipRoutedTo(ROUTED.ip)).toBe(ROUTED.server);
        expect(await sh(`ip -4 route show exact ${ROUTED.ip}/32`)).toBe(`${ROUTED.ip} dev vmbr2 scope link \n`);
        expect(await sysctl("net.ipv4.ip_forward")).toBe("1");
        expect(await sysctl("net.ipv4.conf.vmbr0.proxy_arp")).toBe("1");
        expect(await sh("cat /etc/ovh-failover/routes")).toBe(`${ROUTED.ip}/32 vmbr2 vmbr0 ovh-failover/${STACK}/app-host added\n${IP6}/128 vmbr2 vmbr0 ovh-failover/${STACK}/app-host added proxy-added\n`);
        expect(await sh("cat /etc/sysctl.d/90-ovh-failover.conf")).toContain("net.ipv4.ip_forward = 1\nnet/ipv4/conf/vmbr0/proxy_arp = 1\nnet/ipv6/conf/all/forwarding = 1\nnet/ipv6/conf/vmbr0/proxy_ndp = 1\n");
        // The IPv6 side: ::50 routed to vmbr2, answered for on vmbr0, forwarded.
        expect(await host6()).toEqual(ROUTED6);
        expect((await sh("stat -c %a /etc/network/if-up.d/ovh-failover")).trim()).toBe("755");
        expect((await sh("ls /var/lib/ovh-failover/routed")).split("\n")).toContain("before");
        const written = await listWritten();
        const [nicSet] = pctSetAt(since);
        expect(written).toBeGreaterThanOrEqual(since);
        expect(nicSet, "the NIC after the host route").toBeGreaterThan(written);
        expectInOrder(first.world, [/^pct set 120 --net1 on ovh3$/, /^pct exec 120 .*on ovh3$/, DNS_WRITE]);
        expect(netLine(host.config(VMID), 1)).toBe(routedNic(ROUTED.ip));
        expect(live()).toEqual({ mac: "0e:c0:00:02:32:01", addresses: [`${ROUTED.ip}/32`], defaultRoute: "default via 192.168.0.1 dev eth1", ...LIVE6 });
        expect(recordsOf(ZONE, "app")).toEqual([`A ${ROUTED.ip}`, `AAAA ${IP6}`]);
        // The whole path: OVH's router reaches the container through the host, in both families.
        expect(answers(ROUTED.ip)).toBe(true);
        expect(ping6(3)).toBe(true);

        // 2. Nothing to do: nothing written, on the host neither.
        const hostUp = await sh(HOST_STATE);
        const noop = await run("no change", "up");
        expect(changed(noop.steps)).toEqual([]);
        expect(noop.world.filter((e) => e.writes)).toEqual([]);
        expect(await sh(HOST_STATE)).toBe(hostUp);

        // 3. The IP changed to another routed to ovh3: the old host route goes and the new one
        // comes, then the NIC, its probe, DNS; nothing at OVH but DNS.
        editStack(project, (doc) => doc.setIn(["config", "ovh-failover:endpoints", "app", "ip"], NEW_IP));
        since = now();
        const ipChange = await run("an IP change", "up");
        expect(changed(ipChange.steps)).toEqual(changed(ipChange.previewed));
        expect(ipChange.world.filter((e) => e.writes && !/^(POST|PUT|DELETE) \/domain\/zone\//.test(e.what) && !/^pct /.test(e.what))).toEqual([]);
        expect(await sh(`ip -4 route show exact ${ROUTED.ip}/32`)).toBe("");
        expect(await sh(`ip -4 route show exact ${NEW_IP}/32`)).toBe(`${NEW_IP} dev vmbr2 scope link \n`);
        expect(await sh("cat /etc/ovh-failover/routes")).toBe(`${NEW_IP}/32 vmbr2 vmbr0 ovh-failover/${STACK}/app-host added\n${IP6}/128 vmbr2 vmbr0 ovh-failover/${STACK}/app-host added proxy-added\n`);
        expect(await host6()).toEqual(ROUTED6);
        expect(await sysctl("net.ipv4.ip_forward")).toBe("1");
        expect(await sysctl("net.ipv4.conf.vmbr0.proxy_arp")).toBe("1");
        const rewritten = await listWritten();
        const nicSets = pctSetAt(since);
        expect(nicSets.length).toBeGreaterThan(0);
        expect(rewritten).toBeGreaterThanOrEqual(since);
        expect(nicSets[nicSets.length - 1], "the NIC after the new host route").toBeGreaterThan(rewritten);
        expectInOrder(ipChange.world, [/^pct set 120 --net1 on ovh3$/, /^pct exec 120 .*on ovh3$/, DNS_WRITE]);
        expect(netLine(host.config(VMID), 1)).toBe(routedNic(NEW_IP));
        expect(live()).toEqual({ mac: "0e:c0:00:02:33:01", addresses: [`${NEW_IP}/32`], defaultRoute: "default via 192.168.0.1 dev eth1", ...LIVE6 });
        expect(recordsOf(ZONE, "app")).toEqual([`A ${NEW_IP}`, `AAAA ${IP6}`]);
        expect(answers(NEW_IP)).toBe(true);
        expect(ping6(3)).toBe(true);
        expect(silent(ROUTED.ip)).toBe(true);
        expect(tier.standIn.virtualMacs(ROUTED.server)).toEqual({});

        // 4. destroy, the routing unprotected first: the host exactly as before the stack (route,
        // sysctls, files and folders), the container's NIC as before, the records gone, the IPs'
        // routing retained.
        editStack(project, (doc) => doc.setIn(["config", "ovh-failover:protectIps"], false));
        await run("routing unprotected", "up");
        const destroy = await run("destroy", "destroy");
        expect(destroy.world.filter((e) => e.writes && /\/move$|virtualMac/.test(e.what))).toEqual([]);
        // Exactly as before, even after an IP change: the replaced HostRoute's record found the
        // project's folder made by the first, and the step that leaves it empty removes it.
        expect(await sh(HOST_STATE)).toBe(hostBefore);
        expect(host.config(VMID)).toBe(before);
        expect(netLine(host.config(VMID), 1)).toBeUndefined();
        expect(live()).toMatchObject({ addresses: [], defaultRoute: "", addresses6: [], defaultRoute6: "" });
        expect(silent(NEW_IP)).toBe(true);
        expect(ping6(2)).toBe(false);
        expect(tier.standIn.zoneRecords(ZONE)).toEqual([]);
        expect(tier.standIn.ipRoutedTo(ROUTED.ip)).toBe(ROUTED.server);
        expect(tier.standIn.ipRoutedTo(NEW_IP)).toBe(ROUTED.server);

        const file = writeLifecycleRecording({ stack: STACK, recorded: recordedBy(tier), phases: lifecycle.phases });
        console.log(`recorded ${path.relative(REPO, file)}`);
    });
});
