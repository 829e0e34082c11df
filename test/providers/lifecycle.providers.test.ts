// `pulumi up` through the real CLI and the real command, ovh and proxmoxve plugins, as a user runs
// it from a laptop: the example stack from nothing, an IP change, a new IPv6 prefix, the endpoint
// moved to the other server, a record added and one removed, an `up` with nothing to do, and
// `destroy`. The world is the HTTPS OVH stand-in and Proxmox hosts that are real sshd at the
// stack's addresses, with the pct stand-in and OVH's gateway on the container's link. After each
// run: what reached the world (every write explained by a step, in the order the endpoint's
// dependencies say), the hosts' containers, and no credential in clear in any backend file.
import * as fs from "fs";
import * as path from "path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO } from "../support/engine";
import { changed, editStack, netLine, operation, withLabKeys } from "../support/lifecycle";
import { DNS_WRITE, expectInOrder, Lifecycle, startLifecycle } from "../support/lifecycleRun";
import { writeLifecycleRecording } from "../support/lifecycleRecording";
import { ProxmoxHost, startProxmoxHost } from "../support/proxmoxHosts";
import { recordedBy, useProvidersTier } from "../support/providersTier";
import { accountBefore, ipv6Of, IP, OVH1, OVH2 } from "../support/worlds";
import { GENERATED_ENDPOINTS, GENERATED_SERVERS, generatedAccount, generatedEndpointsStackFile } from "../support/generatedStack";

const tier = useProvidersTier();

/** Container 101 as its owner left it before the stack: net1 on vmbr0 with an address of its own. */
const NET1_BEFORE = "name=eth1,bridge=vmbr0,hwaddr=BC:24:11:5E:00:10,ip=dhcp,type=veth";
const CONTAINER_101 = ["arch: amd64", "hostname: proxy", "net0: name=eth0,bridge=vmbr1,hwaddr=BC:24:11:00:00:02,ip=10.1.0.100/24,type=veth", `net1: ${NET1_BEFORE}`];
const NEW_IP = "192.0.2.11";
const NEW_PREFIX = "2001:db8:1:4700::/64";

describe("the example stack (reverse-proxy) through the real CLI and plugins: every lifecycle of an endpoint", () => {
    const hosts: Record<string, ProxmoxHost> = {};

    beforeAll(async () => {
        hosts.ovh1 = await startProxmoxHost(tier.ws.network.ns, {
            address: "198.51.100.20", gateway: "198.51.100.254", ...gateway6Of("2001:db8:1:4662::/64"), interfaceName: "eth1", containers: { 101: CONTAINER_101 },
        });
        hosts.ovh2 = await startProxmoxHost(tier.ws.network.ns, {
            address: "203.0.113.20", gateway: "203.0.113.254", ...gateway6Of("2001:db8:3:1a00::/64"), interfaceName: "eth1", containers: { 101: CONTAINER_101 },
            // One key for every Proxmox host, as proxmoxSshPrivateKey is one.
            authorizedKeys: [hosts.ovh1.ssh.clientPublicKey],
        });
    }, 120_000);
    afterAll(() => {
        for (const h of Object.values(hosts)) h.stop();
    });

    let lifecycle: Lifecycle;
    let secrets: string[] = [];

    it("up from nothing, an IP change, a new IPv6 prefix, a move to the other server, records added and removed, a no-op, destroy", async () => {
        accountBefore("reverse-proxy", tier.standIn);
        // The IP the stack changes to: rented, routed to the other server for now.
        tier.standIn.addIp(NEW_IP, { routedTo: OVH2 });
        secrets = [tier.standIn.applicationSecret, tier.standIn.consumerKey, hosts.ovh1.ssh.clientKey.split("\n")[1]];
        lifecycle = await startLifecycle(tier, hosts, "reverse-proxy", withLabKeys(fs.readFileSync(path.join(REPO, "stacks", "Pulumi.reverse-proxy.yaml"), "utf8"), hosts), () => secrets);
        const { project, run, recordsOf } = lifecycle;
        const endpoint = ["config", "ovh-failover:endpoints", "proxy"];

        // 1. From nothing: the virtual MAC, the NIC, the probe, then the records.
        const first = await run("up from nothing", "up");
        expect(tier.standIn.ipRoutedTo(IP)).toBe(OVH1);
        const macs = tier.standIn.virtualMacs(OVH1);
        expect(Object.values(macs).map((m) => Object.keys(m.addresses))).toEqual([[IP]]);
        const mac = Object.keys(macs)[0];
        expect(netLine(hosts.ovh1.config(101), 1)).toBe(`name=eth1,bridge=vmbr0,gw=198.51.100.254,gw6=2001:db8:1:46ff:ff:ff:ff:ff,hwaddr=${mac},ip=${IP}/32,ip6=2001:db8:1:4662::10/64,type=veth`);
        expectInOrder(first.world, [/^POST \/dedicated\/server\/\{serviceName\}\/virtualMac$/, /^pct set 101 --net1 on ovh1$/, /^pct exec 101 .*on ovh1$/, DNS_WRITE]);
        expect(recordsOf("example.org", "proxy1")).toEqual(["A 192.0.2.10", "AAAA 2001:db8:1:4662::10"]);

        // 2. Nothing to do: every step same (or the refresh `refresh: always` runs), nothing written.
        const noop = await run("no change", "up");
        expect(changed(noop.steps)).toEqual([]);
        expect(noop.world.filter((e) => e.writes)).toEqual([]);

        // 3. The IP changed: routing, virtual MAC, NIC, probe, DNS, in that order; the old IP stays routed.
        editStack(project, (doc) => doc.setIn([...endpoint, "ip"], NEW_IP));
        const ipChange = await run("the IP changed", "up");
        expect(changed(ipChange.steps)).toEqual(changed(ipChange.previewed));
        expectInOrder(ipChange.world, [/^POST \/ip\/\{ip\}\/move$/, /^POST \/dedicated\/server\/\{serviceName\}\/virtualMac$/, /^pct set 101 --net1 on ovh1$/, /^pct exec 101 .*on ovh1$/, DNS_WRITE]);
        expect(tier.standIn.ipRoutedTo(NEW_IP)).toBe(OVH1);
        expect(tier.standIn.ipRoutedTo(IP)).toBe(OVH1);
        expect(Object.values(tier.standIn.virtualMacs(OVH1)).flatMap((m) => Object.keys(m.addresses))).toEqual([NEW_IP]);
        expect(netLine(hosts.ovh1.config(101), 1)).toContain(`ip=${NEW_IP}/32`);
        expect(recordsOf("example.org", "proxy1")).toEqual([`A ${NEW_IP}`, "AAAA 2001:db8:1:4662::10"]);
        expect(recordsOf("example.net", "")).toEqual([`A ${NEW_IP}`, "AAAA 2001:db8:1:4662::10"]);

        // 4. OVH gave ovh1 a new /64: the NIC, the probe, then the AAAA records; nothing of IPv4.
        const prefix = ipv6Of(NEW_PREFIX);
        tier.standIn.setServerIpv6(OVH1, prefix);
        hosts.ovh1.addPrefix6(NEW_PREFIX, prefix.gateway);
        editStack(project, (doc) => doc.setIn(["config", "ovh-failover:servers", "ovh1", "ipv6", "prefix"], NEW_PREFIX));
        const v6 = await run("a new IPv6 prefix", "up");
        expect(changed(v6.steps)).toEqual(changed(v6.previewed));
        expect(v6.world.filter((e) => e.writes && /virtualMac|\/move$/.test(e.what))).toEqual([]);
        expectInOrder(v6.world, [/^pct set 101 --net1 on ovh1$/, /^pct exec 101 .*on ovh1$/, DNS_WRITE]);
        expect(netLine(hosts.ovh1.config(101), 1)).toContain(`gw6=${prefix.gateway},`);
        expect(recordsOf("example.org", "proxy1")).toEqual([`A ${NEW_IP}`, "AAAA 2001:db8:1:4700::10"]);

        // 5. The endpoint moves to ovh2: routed there, ovh2's container 101 takes the NIC, then DNS;
        // ovh1's NIC is put back as it was. OVH moves the IP's virtual MAC with it (ovh/docs
        // move-failover-ip: they "will appear on the new server once the move is complete"): the
        // stack finds it on ovh2 and asks for none.
        const macOnOvh1 = Object.keys(tier.standIn.virtualMacs(OVH1));
        expect(macOnOvh1).toHaveLength(1);
        editStack(project, (doc) => doc.setIn([...endpoint, "server"], "ovh2"));
        const moved = await run("moved to the other server", "up");
        expect(changed(moved.steps)).toEqual(changed(moved.previewed));
        expectInOrder(moved.world, [/^POST \/ip\/\{ip\}\/move$/, /^pct set 101 --net1 on ovh2$/, /^pct exec 101 .*on ovh2$/, DNS_WRITE]);
        expect(moved.world.filter((e) => /^POST \/dedicated\/server\/\{serviceName\}\/virtualMac/.test(e.what))).toEqual([]);
        expect(Object.keys(tier.standIn.virtualMacs(OVH2))).toEqual(macOnOvh1);
        expect(netLine(hosts.ovh2.config(101), 1)).toContain(`hwaddr=${macOnOvh1[0]}`);
        expect(tier.standIn.ipRoutedTo(NEW_IP)).toBe(OVH2);
        expect(netLine(hosts.ovh1.config(101), 1)).toBe(NET1_BEFORE);
        expect(netLine(hosts.ovh2.config(101), 1)).toContain(`ip=${NEW_IP}/32`);
        expect(netLine(hosts.ovh2.config(101), 1)).toContain("gw=203.0.113.254");
        expect(Object.keys(tier.standIn.virtualMacs(OVH1))).toEqual([]);
        expect(Object.values(tier.standIn.virtualMacs(OVH2)).flatMap((m) => Object.keys(m.addresses))).toEqual([NEW_IP]);
        expect(recordsOf("example.org", "proxy1")).toEqual([`A ${NEW_IP}`, "AAAA 2001:db8:3:1a00::10"]);

        // 6. A record added, one removed: only those two and the zone's proof, nothing else written.
        editStack(project, (doc) => doc.setIn([...endpoint, "records", "example.org", "cname"], ["world", "api", "blog", "static", "cdn"]));
        const records = await run("a record added, one removed", "up");
        expect(changed(records.steps)).toEqual([
            "create ovh:Domain/zoneRecord:ZoneRecord proxy-dns-CNAME-cdn.example.org",
            "delete ovh:Domain/zoneRecord:ZoneRecord proxy-dns-CNAME-images.example.org",
            "update pulumi-nodejs:dynamic/ovh-failover:ZoneServes proxy-dns-serves.example.org",
        ]);
        expect(records.world.filter((e) => e.writes).map((e) => e.what)).toEqual(expect.arrayContaining(["POST /domain/zone/{zoneName}/record", "DELETE /domain/zone/{zoneName}/record/{id}"]));
        expect(records.world.filter((e) => e.writes && !/^(POST|DELETE) \/domain\/zone\/\{zoneName\}\/(record|refresh)/.test(e.what))).toEqual([]);
        expect(recordsOf("example.org", "cdn")).toEqual(["CNAME proxy1.example.org."]);
        expect(recordsOf("example.org", "images")).toEqual([]);
        expect(await tier.dns.ask("cdn.example.org", "CNAME")).toEqual(["proxy1.example.org"]);

        // 6b. The consumer key lost the refresh rule: the provider only logs the refused refresh
        // (terraform-provider-ovh#1290), the proof fails `up` naming the rule; with it back, `up` proves it.
        tier.standIn.zoneRefreshGranted(false);
        editStack(project, (doc) => doc.setIn([...endpoint, "records", "example.org", "cname"], ["world", "api", "blog", "static", "cdn", "www"]));
        const unrefreshed = await operation(project, "up");
        expect(unrefreshed.code).not.toBe(0);
        expect(unrefreshed.diagnostics.join("\n")).toContain("add the access rule POST /domain/zone/*/refresh to the consumer key");
        expect(recordsOf("example.org", "www")).toEqual(["CNAME proxy1.example.org."]);
        expect(await tier.dns.ask("www.example.org", "CNAME")).toEqual([]);
        tier.standIn.zoneRefreshGranted(true);
        const granted = await run("the refresh rule given back", "up");
        expect(changed(granted.steps)).toEqual(["update pulumi-nodejs:dynamic/ovh-failover:ZoneServes proxy-dns-serves.example.org"]);
        expect(await tier.dns.ask("www.example.org", "CNAME")).toEqual(["proxy1.example.org"]);

        // 7. Nothing to do again.
        const again = await run("no change again", "up");
        expect(changed(again.steps)).toEqual([]);
        expect(again.world.filter((e) => e.writes)).toEqual([]);

        // 8. The state is lost (docs/runbooks/lost-state.md): the backend is gone, the stack file is
        // in git. adopt --no-state, the stack created again, then up: it imports what exists and
        // changes nothing in the world.
        const before = { net1: netLine(hosts.ovh2.config(101), 1), macs: tier.standIn.virtualMacs(OVH2), records: tier.standIn.zoneRecords("example.org").length };
        fs.rmSync(`${project.dir}-state`, { recursive: true, force: true });
        fs.mkdirSync(`${project.dir}-state`);
        const adopt = await project.run([process.execPath, path.join(REPO, "dist", "bin", "ovh-failover.js"), "adopt", "reverse-proxy", "--no-state", "--skip-hosts"], { OVH_ENDPOINT: "ovh-eu" });
        expect(adopt.code, adopt.stderr).toBe(0);
        const init = await project.pulumi("stack", "init", "reverse-proxy");
        expect(init.code, init.stderr).toBe(0);
        const recovered = await run("state lost: adopt --no-state, then up", "up");
        expect(recovered.steps.filter((st) => st.op === "import").length).toBeGreaterThan(0);
        // What it writes: the NIC merged as it is, and the proofs' refreshes, which deploy the zones as they are.
        expect(recovered.world.filter((e) => e.writes && !/^(pct set |POST \/domain\/zone\/\{zoneName\}\/refresh$)/.test(e.what))).toEqual([]);
        expect({ net1: netLine(hosts.ovh2.config(101), 1), macs: tier.standIn.virtualMacs(OVH2), records: tier.standIn.zoneRecords("example.org").length }).toEqual(before);
        const settled = await run("no change after the recovery", "up");
        expect(changed(settled.steps)).toEqual([]);

        // 9. destroy: the protected routing stops it, and nothing is touched.
        const refused = await operation(project, "destroy");
        expect(refused.code).not.toBe(0);
        expect(refused.diagnostics.join("\n")).toMatch(/protected/);
        expect(netLine(hosts.ovh2.config(101), 1)).toContain(`ip=${NEW_IP}/32`);
        // Unprotected: the NIC comes back exactly as it was, no virtual MAC the stack made is left,
        // the routing stays where it is, and the records the stack made are gone.
        editStack(project, (doc) => doc.setIn(["config", "ovh-failover:protectIps"], false));
        await run("routing unprotected", "up");
        const destroy = await run("destroy", "destroy");
        expect(destroy.world.filter((e) => /\/move$/.test(e.what))).toEqual([]);
        expect(netLine(hosts.ovh2.config(101), 1)).toBe(NET1_BEFORE);
        expect(netLine(hosts.ovh1.config(101), 1)).toBe(NET1_BEFORE);
        expect(tier.standIn.ipRoutedTo(NEW_IP)).toBe(OVH2);
        expect(tier.standIn.ipRoutedTo(IP)).toBe(OVH1);
        expect(Object.keys(tier.standIn.virtualMacs(OVH1))).toEqual([]);
        expect(Object.keys(tier.standIn.virtualMacs(OVH2))).toEqual([]);
        expect(recordsOf("example.org", "proxy1")).toEqual([]);

        const file = writeLifecycleRecording({ stack: "reverse-proxy", recorded: recordedBy(tier), phases: lifecycle.phases });
        console.log(`recorded ${path.relative(REPO, file)}`);
    });

    it("ovh-failover change-ip: the records lowered, waited out, the IP changed and proven served by the zones' name server, the TTL restored", async () => {
        accountBefore("reverse-proxy", tier.standIn);
        tier.standIn.addIp(NEW_IP, { routedTo: OVH2 });
        const secrets = [tier.standIn.applicationSecret, tier.standIn.consumerKey, hosts.ovh1.ssh.clientKey.split("\n")[1]];
        // TTL 61 s, lowered to 60 s: the wait is a minute.
        const stackFile = withLabKeys(fs.readFileSync(path.join(REPO, "stacks", "Pulumi.reverse-proxy.yaml"), "utf8"), hosts).replace("ovh-failover:dnsTtl: 300", "ovh-failover:dnsTtl: 61");
        const { project, run, recordsOf } = await startLifecycle(tier, hosts, "reverse-proxy", stackFile, () => secrets);
        await run("up from nothing", "up");
        expect(await tier.dns.ask("proxy1.example.org", "A")).toEqual([IP]);

        const changeIp = await project.run([process.execPath, path.join(REPO, "dist", "bin", "ovh-failover.js"), "change-ip", "reverse-proxy", "--set", `endpoints.proxy.ip=${NEW_IP}`]);
        expect(changeIp.code, `${changeIp.stdout}\n${changeIp.stderr}`).toBe(0);
        const out = changeIp.stdout;
        const at = (text: string) => out.indexOf(text);
        expect(at("== lower the TTL of proxy")).toBeGreaterThan(0);
        expect(at("== wait until")).toBeGreaterThan(at("== lower the TTL of proxy"));
        expect(at(`== change: endpoints.proxy.ip=${NEW_IP}`)).toBeGreaterThan(at("== wait until"));
        expect(at("== restore the TTL of proxy")).toBeGreaterThan(at("== change:"));
        // Every changed name is answered by the zones' name server with the new address, at the TTL restored.
        for (const [zone, name] of [["example.org", "proxy1"], ["example.net", ""]]) {
            expect(recordsOf(zone, name).filter((r) => r.startsWith("A "))).toEqual([`A ${NEW_IP}`]);
            expect(await tier.dns.ask(name === "" ? zone : `${name}.${zone}`, "A")).toEqual([NEW_IP]);
            expect(tier.standIn.zoneRecords(zone).filter((r) => r.fieldType === "A").map((r) => r.ttl)).toEqual([61]);
        }
        expect(tier.standIn.ipRoutedTo(NEW_IP)).toBe(OVH1);
        const outputs = await project.pulumi("stack", "output", "--json", "--stack", "reverse-proxy");
        expect((JSON.parse(outputs.stdout) as { endpoints: Record<string, Record<string, unknown>> }).endpoints.proxy.ttlLowering).toBeUndefined();
        expect(fs.readFileSync(path.join(project.dir, "stacks", "Pulumi.reverse-proxy.yaml"), "utf8")).not.toContain("lowerTtl");
        expect(tier.standIn.violations).toEqual([]);

        editStack(project, (doc) => doc.setIn(["config", "ovh-failover:protectIps"], false));
        await run("routing unprotected", "up");
        await run("destroy", "destroy");
        expect(netLine(hosts.ovh1.config(101), 1)).toBe(NET1_BEFORE);
    });
});

function gateway6Of(prefix: string): { gateway6: string; prefix6: string } {
    return { gateway6: ipv6Of(prefix).gateway, prefix6: prefix };
}

describe("the generated stack's endpoints through the real CLI and plugins: two servers, one zone, IPv6, a reverse", () => {
    const hosts: Record<string, ProxmoxHost> = {};
    const WEB1_NET1 = "name=eth1,bridge=vmbr0,hwaddr=BC:24:11:00:31:01,ip=dhcp,type=veth";
    const WEB2_NET0 = "name=eth0,bridge=vmbr0,hwaddr=BC:24:11:00:32:00,ip=dhcp,type=veth";
    const WEB1_NEW_IP = "192.0.2.34";

    beforeAll(async () => {
        hosts.ovhA = await startProxmoxHost(tier.ws.network.ns, {
            address: "198.51.100.21", gateway: "198.51.100.254", ...gateway6Of("2001:db8:5:100::/64"), interfaceName: "eth1",
            containers: { 131: ["arch: amd64", "hostname: web1", `net1: ${WEB1_NET1}`] },
        });
        hosts.ovhB = await startProxmoxHost(tier.ws.network.ns, {
            address: "203.0.113.21", gateway: "203.0.113.254", ...gateway6Of("2001:db8:6:200::/64"), interfaceName: "eth0",
            containers: { 132: ["arch: amd64", "hostname: web2", `net0: ${WEB2_NET0}`] },
            authorizedKeys: [hosts.ovhA.ssh.clientPublicKey],
        });
    }, 120_000);
    afterAll(() => {
        for (const h of Object.values(hosts)) h.stop();
    });

    it("up from nothing, web1's IP changed (routing, virtual MAC, NIC, probe, DNS, reverse), a no-op, destroy", async () => {
        generatedAccount(tier.standIn);
        tier.standIn.addIp(WEB1_NEW_IP, { routedTo: GENERATED_SERVERS.ovhB });
        // OVH sets a reverse only for a name that resolves to the address: the records come first.
        tier.standIn.reverseResolves("zones");
        const template = generatedEndpointsStackFile();
        const secrets = [tier.standIn.applicationSecret, tier.standIn.consumerKey, hosts.ovhA.ssh.clientKey.split("\n")[1]];
        const { project, run, recordsOf, phases } = await startLifecycle(tier, hosts, GENERATED_ENDPOINTS, withLabKeys(template, hosts), () => secrets);

        const first = await run("up from nothing", "up");
        expect(first.world.map((e) => e.what)).toContain("POST /ip/{ip}/reverse");
        expect(phases[0].order).toEqual(["virtual MAC", "NIC", "probe", "DNS", "reverse"]);
        expect(tier.standIn.reverses("192.0.2.31")).toEqual({ "192.0.2.31": "web1.example.org." });
        const web2Macs = Object.entries(tier.standIn.virtualMacs(GENERATED_SERVERS.ovhB));
        expect(web2Macs.map(([, m]) => [m.type, Object.keys(m.addresses)])).toEqual([["vmware", ["192.0.2.32"]]]);
        expect(netLine(hosts.ovhB.config(132), 0)).toBe(`name=eth0,bridge=vmbr0,gw=203.0.113.254,gw6=2001:db8:6:2ff:ff:ff:ff:ff,hwaddr=${web2Macs[0][0]},ip=192.0.2.32/32,ip6=2001:db8:6:200::32/64,type=veth`);
        expect(recordsOf("example.org", "web1")).toEqual(["A 192.0.2.31", "AAAA 2001:db8:5:100::31"]);
        expect(recordsOf("example.org", "web2")).toEqual(["A 192.0.2.32", "AAAA 2001:db8:6:200::32"]);

        editStack(project, (doc) => doc.setIn(["config", "ovh-failover:endpoints", "web1", "ip"], WEB1_NEW_IP));
        const ipChange = await run("web1's IP changed", "up");
        expect(changed(ipChange.steps)).toEqual(changed(ipChange.previewed));
        expectInOrder(ipChange.world, [/^POST \/ip\/\{ip\}\/move$/, /^POST \/dedicated\/server\/\{serviceName\}\/virtualMac$/, /^pct set 131 --net1 on ovhA$/, /^pct exec 131 .*on ovhA$/, DNS_WRITE, /^POST \/ip\/\{ip\}\/reverse$/]);
        // web2 is another endpoint: nothing of it moved.
        expect(ipChange.world.filter((e) => / on ovhB$/.test(e.what) && e.writes)).toEqual([]);
        expect(tier.standIn.ipRoutedTo(WEB1_NEW_IP)).toBe(GENERATED_SERVERS.ovhA);
        expect(tier.standIn.reverses(WEB1_NEW_IP)).toEqual({ [WEB1_NEW_IP]: "web1.example.org." });
        expect(recordsOf("example.org", "web1")).toEqual([`A ${WEB1_NEW_IP}`, "AAAA 2001:db8:5:100::31"]);

        const noop = await run("no change", "up");
        expect(changed(noop.steps)).toEqual([]);
        expect(noop.world.filter((e) => e.writes)).toEqual([]);

        editStack(project, (doc) => doc.setIn(["config", "ovh-failover:protectIps"], false));
        await run("routing unprotected", "up");
        await run("destroy", "destroy");
        expect(netLine(hosts.ovhA.config(131), 1)).toBe(WEB1_NET1);
        expect(netLine(hosts.ovhB.config(132), 0)).toBe(WEB2_NET0);
        expect(tier.standIn.ipRoutedTo(WEB1_NEW_IP)).toBe(GENERATED_SERVERS.ovhA);
        expect(Object.keys(tier.standIn.virtualMacs(GENERATED_SERVERS.ovhA))).toEqual([]);
        expect(Object.keys(tier.standIn.virtualMacs(GENERATED_SERVERS.ovhB))).toEqual([]);
        expect(tier.standIn.zoneRecords("example.org")).toEqual([]);

        const file = writeLifecycleRecording({ stack: GENERATED_ENDPOINTS, recorded: recordedBy(tier), stackFile: template, phases });
        console.log(`recorded ${path.relative(REPO, file)}`);
    });
});
