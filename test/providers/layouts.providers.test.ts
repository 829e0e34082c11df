// `pulumi up` through the real CLI and the real command and ovh plugins for the layouts stack
// (stacks/Pulumi.layouts.yaml): a /29 routed to ovh1 and split over three containers, each IP
// with a virtual MAC of its own, and a /29 in the vRack whose .18 a container on ovh2 takes. Up
// from nothing, an `up` with nothing to do, an IP change inside each block, and `destroy`. The
// world: the HTTPS OVH stand-in, and the Proxmox hosts ovh1 and ovh2, real sshd at the stack's
// addresses with the pct stand-in, each container in a network namespace of its own on the host
// bridge its NIC names, with OVH's router there (the server's gateway on vmbr0, the vRack block's
// gateway on vmbr1). After each run: what reached the world, endpoint by endpoint in the order
// its dependencies say, the containers' NICs (configuration and live interface), and no
// credential in clear in any backend file.
import * as fs from "fs";
import * as path from "path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO } from "../support/engine";
import { changed, editStack, netLine, WorldEvent, withLabKeys } from "../support/lifecycle";
import { DNS_WRITE, expectInOrder, Lifecycle, startLifecycle } from "../support/lifecycleRun";
import { writeLifecycleRecording } from "../support/lifecycleRecording";
import type { RecordedRequest } from "../support/ovhStandIn";
import { ProxmoxHost, startProxmoxHost } from "../support/proxmoxHosts";
import { recordedBy, useProvidersTier } from "../support/providersTier";
import { accountBefore, LAYOUTS, OVH1, OVH2 } from "../support/worlds";

const tier = useProvidersTier();

const STACK = "layouts";
const ZONE = "example.org";
const GATEWAY = "198.51.100.254";
const VRACK_GATEWAY = "192.0.2.22";
/** The vRack's IPv6 block's first address, and lb's ip6 in its bridged /64 (stacks/Pulumi.layouts.yaml). */
const VRACK_GATEWAY6 = "2001:db8:abcd:ef00::1";
const LB_IP6 = "2001:db8:abcd:ef00::10";

interface Endpoint { name: string; host: "ovh1" | "ovh2"; vmid: number; ip: string }
const WEB: Endpoint[] = LAYOUTS.webIps.map((ip, i) => ({ name: `web${i + 1}`, host: "ovh1", vmid: 101 + i, ip }));
const LB: Endpoint = { name: "lb", host: "ovh2", vmid: 110, ip: LAYOUTS.rackIp };
const ENDPOINTS = [...WEB, LB];
/** The IPs the stack changes to, each inside its block. */
const WEB2_NEW_IP = "192.0.2.12";
const LB_NEW_IP = "192.0.2.19";

/**
 * The containers as their owner left them before the stack: web1, web2 and lb with a net1 of
 * their own (DHCP), web3 with none (the stack's NIC is its first net1, and goes on destroy).
 */
const NET1_BEFORE: Record<number, string | undefined> = {
    101: "name=eth1,bridge=vmbr0,hwaddr=BC:24:11:5E:01:10,ip=dhcp,type=veth",
    102: "name=eth1,bridge=vmbr0,hwaddr=BC:24:11:5E:01:20,ip=dhcp,type=veth",
    103: undefined,
    110: "name=eth1,bridge=vmbr1,hwaddr=BC:24:11:5E:01:A0,ip=dhcp,type=veth",
};
const containerLines = (e: Endpoint) => ["arch: amd64", `hostname: ${e.name}`, ...(NET1_BEFORE[e.vmid] ? [`net1: ${NET1_BEFORE[e.vmid]}`] : [])];

/** A bridged endpoint's NIC: its virtual MAC, the IP as a /32, the server's gateway. */
const bridgedNic = (ip: string, mac: string) => `name=eth1,bridge=vmbr0,gw=${GATEWAY},hwaddr=${mac},ip=${ip}/32,type=veth`;
/**
 * The vRack endpoint's NIC: the block's length, its penultimate address, a hardware address derived
 * from the IP; its ip6 in the vRack's bridged /64, the IPv6 block's first address as gateway.
 */
const vrackNic = (ip: string) => `name=eth1,bridge=vmbr1,gw=${VRACK_GATEWAY},gw6=${VRACK_GATEWAY6},hwaddr=0e:c0:00:02:${Number(ip.split(".")[3]).toString(16).padStart(2, "0")}:01,ip=${ip}/29,ip6=${LB_IP6}/64,type=veth`;

describe("the layouts stack through the real CLI and plugins: a block over three containers and a vRack block's endpoint", () => {
    const hosts: Record<string, ProxmoxHost> = {};
    const before: Record<number, string> = {};

    beforeAll(async () => {
        const containersOf = (host: string) => Object.fromEntries(ENDPOINTS.filter((e) => e.host === host).map((e) => [e.vmid, containerLines(e)]));
        hosts.ovh1 = await startProxmoxHost(tier.ws.network.ns, {
            address: "198.51.100.20",
            containers: containersOf("ovh1"),
            links: Object.fromEntries(WEB.map((e) => [e.vmid, { interfaceName: "eth1", bridge: "vmbr0", router: `${GATEWAY}/24` }])),
        });
        hosts.ovh2 = await startProxmoxHost(tier.ws.network.ns, {
            address: "203.0.113.20",
            containers: containersOf("ovh2"),
            // The vRack block's gateway is OVH's, on the servers' vRack bridge (configuring-an-ip-block-in-a-vrack).
            links: { [LB.vmid]: { interfaceName: "eth1", bridge: "vmbr1", router: `${VRACK_GATEWAY}/29`, router6: `${VRACK_GATEWAY6}/64` } },
            // One key for every Proxmox host, as proxmoxSshPrivateKey is one.
            authorizedKeys: [hosts.ovh1.ssh.clientPublicKey],
        });
        for (const e of ENDPOINTS) before[e.vmid] = hosts[e.host].config(e.vmid);
    }, 120_000);
    afterAll(() => {
        for (const h of Object.values(hosts)) h.stop();
    });

    /** The container's live NIC: its hardware address, its IPv4 addresses, its default route. */
    const live = (e: Endpoint) => {
        const h = hosts[e.host];
        return {
            mac: /link\/ether (\S+)/.exec(h.containerIp(e.vmid, "-o", "link", "show", "eth1"))?.[1],
            addresses: h.containerIp(e.vmid, "-4", "-o", "addr", "show", "dev", "eth1").split("\n").map((l) => /inet (\S+)/.exec(l)?.[1]).filter((a) => a !== undefined),
            defaultRoute: h.containerIp(e.vmid, "-4", "route", "show", "default").trim(),
        };
    };
    /** The container's global IPv6 addresses and IPv6 default route. */
    const live6 = (e: Endpoint) => {
        const h = hosts[e.host];
        return {
            addresses: h.containerIp(e.vmid, "-6", "-o", "addr", "show", "dev", "eth1", "scope", "global").split("\n").map((l) => /inet6 (\S+)/.exec(l)?.[1]).filter((a) => a !== undefined),
            defaultRoute: /^default via \S+ dev \S+/.exec(h.containerIp(e.vmid, "-6", "route", "show", "default").trim())?.[0],
        };
    };

    /**
     * What reached the world for one endpoint since `since`: its pct calls, its virtual MAC's and
     * records' requests (told apart by their bodies and paths; a deleted record by the id it had
     * in `records`), and for the vRack endpoint its block's requests and their task's polls.
     */
    const worldOf = (e: Endpoint, ips: string[], since: number, records: { id: number; subDomain: string }[]): WorldEvent[] => {
        const body = (r: RecordedRequest) => (r.body ?? {}) as Record<string, unknown>;
        const mine = (r: RecordedRequest): boolean => {
            if (r.route === "/dedicated/server/{serviceName}/virtualMac") return r.method === "POST" && ips.includes(String(body(r).ipAddress));
            if (r.route === "/dedicated/server/{serviceName}/virtualMac/{macAddress}/virtualAddress/{ipAddress}") return r.method === "DELETE" && ips.includes(r.params.ipAddress);
            if (r.route === "/domain/zone/{zoneName}/record") return r.method === "POST" && body(r).subDomain === e.name;
            if (r.route === "/domain/zone/{zoneName}/record/{id}") return r.method !== "GET" && records.find((x) => String(x.id) === r.params.id)?.subDomain === e.name;
            if (e === LB && r.route?.startsWith("/vrack/{serviceName}/")) return true;
            return false;
        };
        const events: WorldEvent[] = tier.standIn.requests.filter((r) => r.at >= since && mine(r)).map((r) => ({ at: r.at, what: `${r.method} ${r.route}`, writes: r.method !== "GET", status: r.status }));
        for (const call of hosts[e.host].pctLog()) {
            const at = Number(call.at / 1000n) / 1000;
            if (at >= since && call.vmid === String(e.vmid)) events.push({ at, what: `pct ${call.command} ${call.vmid}${call.option ? ` ${call.option}` : ""} on ${e.host}`, writes: call.command === "set" });
        }
        return events.sort((a, b) => a.at - b.at);
    };
    const now = () => performance.timeOrigin + performance.now();
    const zoneRecords = () => tier.standIn.zoneRecords(ZONE).map((r) => ({ id: r.id, subDomain: r.subDomain }));

    let lifecycle: Lifecycle;

    it("up from nothing, a no-op, an IP change inside each block, destroy", async () => {
        accountBefore(STACK, tier.standIn);
        const secrets = [tier.standIn.applicationSecret, tier.standIn.consumerKey, hosts.ovh1.ssh.clientKey.split("\n")[1]];
        const template = withLabKeys(fs.readFileSync(path.join(REPO, "stacks", `Pulumi.${STACK}.yaml`), "utf8"), hosts);
        lifecycle = await startLifecycle(tier, hosts, STACK, template, () => secrets);
        const { project, run, recordsOf } = lifecycle;

        // 1. From nothing. The web block is already routed to ovh1: its ip.Move writes nothing. The
        // rack block goes into the vRack. Each web IP gets a virtual MAC of its own; each container
        // its NIC; each probe passes; then DNS.
        let since = now();
        const first = await run("up from nothing", "up");
        expect(first.world.filter((e) => /\/move$/.test(e.what))).toEqual([]);
        expect(tier.standIn.ipRoutedTo(LAYOUTS.webBlock)).toBe(OVH1);
        expect(first.world.filter((e) => e.writes && /^POST \/vrack\//.test(e.what)).map((e) => `${e.what} ${e.status}`)).toEqual(["POST /vrack/{serviceName}/ip 200"]);
        expect(tier.standIn.ipVrack(LAYOUTS.rackBlock)).toBe(LAYOUTS.vrack);
        const macs = tier.standIn.virtualMacs(OVH1);
        const macOf: Record<string, string> = {};
        for (const [mac, m] of Object.entries(macs)) for (const ip of Object.keys(m.addresses)) macOf[ip] = mac;
        // One MAC per IP, none shared, none on ovh2 (a vRack IP takes none).
        expect(Object.values(macs).map((m) => Object.keys(m.addresses).length)).toEqual([1, 1, 1]);
        expect(Object.keys(macOf).sort()).toEqual([...LAYOUTS.webIps].sort());
        expect(Object.keys(tier.standIn.virtualMacs(OVH2))).toEqual([]);
        for (const e of WEB) {
            expect(netLine(hosts.ovh1.config(e.vmid), 1), e.name).toBe(bridgedNic(e.ip, macOf[e.ip]));
            expect(live(e), e.name).toEqual({ mac: macOf[e.ip].toLowerCase(), addresses: [`${e.ip}/32`], defaultRoute: `default via ${GATEWAY} dev eth1` });
            expectInOrder(worldOf(e, [e.ip], since, []), [/^POST \/dedicated\/server\/\{serviceName\}\/virtualMac$/, new RegExp(`^pct set ${e.vmid} --net1 on ovh1$`), new RegExp(`^pct exec ${e.vmid} .*on ovh1$`), DNS_WRITE]);
            expect(recordsOf(ZONE, e.name)).toEqual([`A ${e.ip}`]);
        }
        expect(netLine(hosts.ovh2.config(LB.vmid), 1)).toBe(vrackNic(LB.ip));
        expect(live(LB)).toEqual({ mac: "0e:c0:00:02:12:01", addresses: [`${LB.ip}/29`], defaultRoute: `default via ${VRACK_GATEWAY} dev eth1` });
        // The block is in the vRack (its task polled to the end) before the name points at its address.
        expectInOrder(worldOf(LB, [], since, []), [/^POST \/vrack\/\{serviceName\}\/ip$/, /^GET \/vrack\/\{serviceName\}\/task\/\{taskId\}$/, DNS_WRITE]);
        expectInOrder(worldOf(LB, [], since, []), [/^pct set 110 --net1 on ovh2$/, /^pct exec 110 .*on ovh2$/, DNS_WRITE]);
        expect(live6(LB)).toEqual({ addresses: [`${LB_IP6}/64`], defaultRoute: `default via ${VRACK_GATEWAY6} dev eth1` });
        expect(recordsOf(ZONE, "lb")).toEqual([`A ${LB.ip}`, `AAAA ${LB_IP6}`]);

        // 2. Nothing to do: nothing written.
        const noop = await run("no change", "up");
        expect(changed(noop.steps)).toEqual([]);
        expect(noop.world.filter((e) => e.writes)).toEqual([]);

        // 3. An IP change inside each block. web2: a new virtual MAC, its NIC, its probe, its record;
        // the old MAC goes. lb: its NIC (a new derived hardware address), its probe, its record;
        // nothing at OVH but DNS. Neither block moves; web1 and web3 are not touched.
        editStack(project, (doc) => {
            doc.setIn(["config", "ovh-failover:endpoints", "web2", "ip"], WEB2_NEW_IP);
            doc.setIn(["config", "ovh-failover:endpoints", "lb", "ip"], LB_NEW_IP);
        });
        const records = zoneRecords();
        since = now();
        const ipChange = await run("an IP change inside each block", "up");
        expect(changed(ipChange.steps)).toEqual(changed(ipChange.previewed));
        expect(ipChange.world.filter((e) => e.writes && /\/move$|^(POST|DELETE) \/vrack\//.test(e.what))).toEqual([]);
        expect(ipChange.world.filter((e) => e.writes && /^pct set (101|103) /.test(e.what))).toEqual([]);
        const web2 = WEB[1];
        expectInOrder(worldOf(web2, [WEB2_NEW_IP], since, records), [/^POST \/dedicated\/server\/\{serviceName\}\/virtualMac$/, /^pct set 102 --net1 on ovh1$/, /^pct exec 102 .*on ovh1$/, DNS_WRITE]);
        expect(worldOf(web2, [LAYOUTS.webIps[1]], since, records).filter((e) => e.writes && /virtualAddress/.test(e.what)).map((e) => e.what)).toEqual(["DELETE /dedicated/server/{serviceName}/virtualMac/{macAddress}/virtualAddress/{ipAddress}"]);
        const lbWorld = worldOf(LB, [], since, records);
        expect(lbWorld.filter((e) => e.writes && !DNS_WRITE.test(e.what) && !/^pct /.test(e.what))).toEqual([]);
        expectInOrder(lbWorld, [/^pct set 110 --net1 on ovh2$/, /^pct exec 110 .*on ovh2$/, DNS_WRITE]);
        const macsAfter = tier.standIn.virtualMacs(OVH1);
        const macOfAfter: Record<string, string> = {};
        for (const [mac, m] of Object.entries(macsAfter)) for (const ip of Object.keys(m.addresses)) macOfAfter[ip] = mac;
        expect(Object.keys(macOfAfter).sort()).toEqual([LAYOUTS.webIps[0], LAYOUTS.webIps[2], WEB2_NEW_IP].sort());
        expect(macOfAfter[LAYOUTS.webIps[0]]).toBe(macOf[LAYOUTS.webIps[0]]);
        expect(macOfAfter[LAYOUTS.webIps[2]]).toBe(macOf[LAYOUTS.webIps[2]]);
        expect(netLine(hosts.ovh1.config(102), 1)).toBe(bridgedNic(WEB2_NEW_IP, macOfAfter[WEB2_NEW_IP]));
        expect(live(web2)).toEqual({ mac: macOfAfter[WEB2_NEW_IP].toLowerCase(), addresses: [`${WEB2_NEW_IP}/32`], defaultRoute: `default via ${GATEWAY} dev eth1` });
        expect(netLine(hosts.ovh2.config(LB.vmid), 1)).toBe(vrackNic(LB_NEW_IP));
        expect(live(LB)).toEqual({ mac: "0e:c0:00:02:13:01", addresses: [`${LB_NEW_IP}/29`], defaultRoute: `default via ${VRACK_GATEWAY} dev eth1` });
        for (const e of [WEB[0], WEB[2]]) expect(netLine(hosts.ovh1.config(e.vmid), 1)).toBe(bridgedNic(e.ip, macOf[e.ip]));
        expect(recordsOf(ZONE, "web2")).toEqual([`A ${WEB2_NEW_IP}`]);
        expect(recordsOf(ZONE, "lb")).toEqual([`A ${LB_NEW_IP}`, `AAAA ${LB_IP6}`]);
        expect(live6(LB)).toEqual({ addresses: [`${LB_IP6}/64`], defaultRoute: `default via ${VRACK_GATEWAY6} dev eth1` });
        expect(tier.standIn.ipRoutedTo(LAYOUTS.webBlock)).toBe(OVH1);
        expect(tier.standIn.ipVrack(LAYOUTS.rackBlock)).toBe(LAYOUTS.vrack);

        // 4. destroy, the routing unprotected first: every NIC back exactly as it was before the
        // stack (web3's net1 gone again), no virtual MAC left, the blocks' routing retained, the
        // records gone.
        editStack(project, (doc) => doc.setIn(["config", "ovh-failover:protectIps"], false));
        await run("routing unprotected", "up");
        const destroy = await run("destroy", "destroy");
        expect(destroy.world.filter((e) => e.writes && /\/move$|^(POST|DELETE) \/vrack\//.test(e.what))).toEqual([]);
        for (const e of ENDPOINTS) {
            expect(hosts[e.host].config(e.vmid), e.name).toBe(before[e.vmid]);
            expect(netLine(hosts[e.host].config(e.vmid), 1), e.name).toBe(NET1_BEFORE[e.vmid]);
        }
        expect(live(WEB[0])).toEqual({ mac: "bc:24:11:5e:01:10", addresses: [], defaultRoute: "" });
        expect(live(LB)).toEqual({ mac: "bc:24:11:5e:01:a0", addresses: [], defaultRoute: "" });
        expect(live(WEB[2])).toMatchObject({ addresses: [], defaultRoute: "" });
        expect(Object.keys(tier.standIn.virtualMacs(OVH1))).toEqual([]);
        expect(Object.keys(tier.standIn.virtualMacs(OVH2))).toEqual([]);
        expect(tier.standIn.ipRoutedTo(LAYOUTS.webBlock)).toBe(OVH1);
        expect(tier.standIn.ipVrack(LAYOUTS.rackBlock)).toBe(LAYOUTS.vrack);
        expect(tier.standIn.zoneRecords(ZONE)).toEqual([]);

        const file = writeLifecycleRecording({ stack: STACK, recorded: recordedBy(tier), phases: lifecycle.phases });
        console.log(`recorded ${path.relative(REPO, file)}`);
    });
});
