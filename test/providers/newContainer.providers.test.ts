// `pulumi up` through the real CLI and the real command, ovh and proxmoxve plugins for the stack
// that creates and owns its container (seed 003, stacks/Pulumi.new-container.yaml): up from
// nothing, an IP change, records added then one added and one removed, an `up` with nothing to
// do, and `destroy`. The world: the HTTPS OVH stand-in; the Proxmox host off1, a real sshd at the
// stack's 198.51.100.30 with the pct stand-in and OVH's gateway on the container's link; and the
// Proxmox VE API stand-in at the same address's port 8006, sharing the host's containers (so the
// probe's `pct exec` reaches the container the API made) and driving its interface as a node does.
// After each run: what reached the world (every write explained by a step, in the order the
// endpoint's dependencies say), the container, and no credential in clear in any backend file.
import * as fs from "fs";
import * as path from "path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as YAML from "yaml";
import { REPO } from "../support/engine";
import { changed, editStack } from "../support/lifecycle";
import { DNS_WRITE, expectInOrder, lifecycleOf } from "../support/lifecycleRun";
import { writeLifecycleRecording } from "../support/lifecycleRecording";
import { ProxmoxHost, startProxmoxHost } from "../support/proxmoxHosts";
import { ProxmoxStandIn, startProxmoxStandIn } from "../support/proxmoxStandIn";
import { recordedBy, useProvidersTier } from "../support/providersTier";
import { realProject, RealProject, scratch } from "../support/realStack";
import { accountBefore } from "../support/worlds";

const tier = useProvidersTier();

const STACK = "new-container";
/** What the stack file names: the server, its Proxmox host (SSH on 22, the API on 8006), the IP, the container. */
const SERVER = "ns3054321.ip-198-51-100.eu";
const HOST = "198.51.100.30";
const GATEWAY = "198.51.100.254";
const IP = "203.0.113.215";
const VMID = 100;
const TEMPLATE = "local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst";
/** The IP the stack changes to: rented, parked for now. */
const NEW_IP = "203.0.113.216";

const VMAC_ADDED = /^POST \/dedicated\/server\/\{serviceName\}\/virtualMac$/;
const CONTAINER_CREATED = /^POST \/nodes\/\{node\}\/lxc$/;
const CONTAINER_UPDATED = /^PUT \/nodes\/\{node\}\/lxc\/\{vmid\}\/config$/;
const CONTAINER_REBOOTED = /^POST \/nodes\/\{node\}\/lxc\/\{vmid\}\/status\/reboot$/;
const PROBE = new RegExp(`^pct exec ${VMID} .*on off1$`);
const REVERSE_SET = /^POST \/ip\/\{ip\}\/reverse$/;

describe("the stack that owns its container (new-container) through the real CLI and plugins: create, IP change, records, no-op, destroy", () => {
    let host: ProxmoxHost;
    let pve: ProxmoxStandIn;
    let socketDir: string;
    let project: RealProject;
    let secrets: string[];

    beforeAll(async () => {
        host = await startProxmoxHost(tier.ws.network.ns, { address: HOST, gateway: GATEWAY, interfaceName: "eth1", containers: {} });
        // The API at the host's own address, as on a Proxmox node: the stand-in listens on a Unix
        // socket, which a forwarder in the host's network namespace serves on HOST:8006.
        socketDir = scratch("ovhf-pve-api-");
        pve = await startProxmoxStandIn({
            listen: { path: path.join(socketDir, "api.sock") },
            ipAddresses: [HOST],
            pveRoot: host.root,
            // The container's networking service has its NIC configured a while after the start
            // task has ended (a slow boot, longer than the provider and the engine take to reach
            // the probe here): without the probe's patience the first up fails at the probe.
            network: host.containerNetwork({ bootMs: 8000 }),
        });
        pve.addNode("off1", { templates: [TEMPLATE] });
        await host.serve(8006, path.join(socketDir, "api.sock"));
        tier.trust(pve.caPem);
    }, 120_000);
    afterAll(async () => {
        await pve?.close();
        host?.stop();
        if (socketDir) fs.rmSync(socketDir, { recursive: true, force: true });
    });

    /** The bundled stack file with the lab's host key, its client key and the stand-in's API token as secrets. */
    function stackFile(): string {
        const doc = YAML.parseDocument(fs.readFileSync(path.join(REPO, "stacks", `Pulumi.${STACK}.yaml`), "utf8"));
        doc.setIn(["config", "ovh-failover:servers", "off1", "proxmox", "hostKey"], host.ssh.hostKey);
        doc.setIn(["config", "ovh-failover:proxmoxSshPrivateKey"], { secure: `v1:bGFi:${Buffer.from(host.ssh.clientKey).toString("base64")}` });
        doc.setIn(["config", "proxmoxve:apiToken"], { secure: `v1:bGFi:${Buffer.from(pve.apiToken).toString("base64")}` });
        return doc.toString();
    }

    const { phases, run } = lifecycleOf(() => ({ project, ovh: tier.standIn, hosts: { off1: host }, pve, secrets }));

    /** The zone's records of a name now, as `TYPE target`, sorted. */
    function recordsOf(subDomain: string): string[] {
        return tier.standIn.zoneRecords("example.org").filter((r) => r.subDomain === subDomain).map((r) => `${r.fieldType} ${r.target}`).sort();
    }

    /** The addresses and MAC the container's public interface has now (the lab's eth1). */
    function liveNic(): { mac: string; addresses: string[]; defaultVia: string } {
        const link = host.ip("-o", "link", "show", "eth1");
        const addresses = host.ip("-4", "-o", "addr", "show", "dev", "eth1", "scope", "global").split("\n").map((l) => /inet (\S+)/.exec(l)?.[1]).filter((a): a is string => a !== undefined);
        const defaultVia = /default via (\S+)/.exec(host.ip("-4", "route", "show", "default"))?.[1] ?? "";
        return { mac: /link\/ether (\S+)/.exec(link)?.[1] ?? "", addresses, defaultVia };
    }

    it("up from nothing, an IP change, records added, one added and one removed, a no-op, destroy", async () => {
        accountBefore(STACK, tier.standIn);
        tier.standIn.addIp(NEW_IP, { routedTo: null });
        // OVH sets a reverse only when its name resolves to the IP: here, when the zone says so.
        tier.standIn.reverseResolves("zones");
        project = await realProject(tier.ws, STACK, stackFile(), { direct: [HOST] });
        secrets = [tier.standIn.applicationSecret, tier.standIn.consumerKey, pve.apiToken.split("=")[1], host.ssh.clientKey.split("\n")[1]];
        const endpoint = ["config", "ovh-failover:endpoints", "off1-proxy"];

        // 1. From nothing: the virtual MAC, the container made with it as its public NIC's hwaddr
        // (and started), the probe from inside it, the A record, then the reverse.
        const first = await run("up from nothing", "up");
        expectInOrder(first.world, [VMAC_ADDED, CONTAINER_CREATED, PROBE, DNS_WRITE, REVERSE_SET]);
        const macs = tier.standIn.virtualMacs(SERVER);
        expect(Object.values(macs).map((m) => Object.keys(m.addresses))).toEqual([[IP]]);
        const mac = Object.keys(macs)[0];
        const conf = pve.containerConfig(VMID);
        expect(nic(conf?.net1)).toEqual({ name: "eth1", bridge: "vmbr0", hwaddr: mac.toUpperCase(), ip: `${IP}/32`, gw: GATEWAY });
        expect(nic(conf?.net0)).toEqual({ name: "eth0", bridge: "vmbr1", hwaddr: expect.stringMatching(/^BC:24:11:/) as unknown, ip: "10.1.0.100/24" });
        expect(conf).toMatchObject({ hostname: "off1-proxy", cores: "4", memory: "2048", onboot: "1", unprivileged: "1", rootfs: "local-zfs:subvol-100-disk-0,size=32G" });
        expect(pve.isRunning(VMID)).toBe(true);
        expect(liveNic()).toEqual({ mac: mac.toLowerCase(), addresses: [`${IP}/32`], defaultVia: GATEWAY });
        expect(recordsOf("off1-proxy")).toEqual([`A ${IP}`]);
        expect(tier.standIn.reverses(IP)).toEqual({ [IP]: "off1-proxy.example.org." });

        // 2. The IP changed: routed here, a virtual MAC for it, the container's NIC updated (and,
        // as the plugin does for any NIC change, the container rebooted), the probe, DNS, then the
        // reverse; the old IP stays routed, its virtual MAC and reverse go.
        const rebootsBefore = pve.tasks().filter((t) => t.type === "vzreboot").length;
        editStack(project, (doc) => doc.setIn([...endpoint, "ip"], NEW_IP));
        const ipChange = await run("the IP changed", "up");
        expect(changed(ipChange.steps)).toEqual(changed(ipChange.previewed));
        expectInOrder(ipChange.world, [/^POST \/ip\/\{ip\}\/move$/, VMAC_ADDED, CONTAINER_UPDATED, CONTAINER_REBOOTED, PROBE, DNS_WRITE, REVERSE_SET]);
        expect(ipChange.world.filter((e) => CONTAINER_CREATED.test(e.what) || /^DELETE \/nodes\//.test(e.what))).toEqual([]);
        expect(pve.tasks().filter((t) => t.type === "vzreboot").length).toBe(rebootsBefore + 1);
        expect(tier.standIn.ipRoutedTo(NEW_IP)).toBe(SERVER);
        expect(tier.standIn.ipRoutedTo(IP)).toBe(SERVER);
        const newMacs = tier.standIn.virtualMacs(SERVER);
        expect(Object.values(newMacs).flatMap((m) => Object.keys(m.addresses))).toEqual([NEW_IP]);
        const newMac = Object.keys(newMacs)[0];
        expect(nic(pve.containerConfig(VMID)?.net1)).toEqual({ name: "eth1", bridge: "vmbr0", hwaddr: newMac.toUpperCase(), ip: `${NEW_IP}/32`, gw: GATEWAY });
        expect(liveNic()).toEqual({ mac: newMac.toLowerCase(), addresses: [`${NEW_IP}/32`], defaultVia: GATEWAY });
        expect(recordsOf("off1-proxy")).toEqual([`A ${NEW_IP}`]);
        expect(tier.standIn.reverses(NEW_IP)).toEqual({ [NEW_IP]: "off1-proxy.example.org." });
        expect(tier.standIn.reverses(IP)).toEqual({});

        // 3. Records added, then one added and one removed: only those, nothing else written.
        editStack(project, (doc) => doc.setIn([...endpoint, "records", "example.org", "cname"], ["www", "api"]));
        const added = await run("records added", "up");
        expect(changed(added.steps)).toEqual([
            "create ovh:Domain/zoneRecord:ZoneRecord off1-proxy-dns-CNAME-api.example.org",
            "create ovh:Domain/zoneRecord:ZoneRecord off1-proxy-dns-CNAME-www.example.org",
            "update pulumi-nodejs:dynamic/ovh-failover:ZoneServes off1-proxy-dns-serves.example.org",
        ]);
        expect(added.world.filter((e) => e.writes && !/^POST \/domain\/zone\/\{zoneName\}\/(record|refresh)$/.test(e.what))).toEqual([]);
        editStack(project, (doc) => doc.setIn([...endpoint, "records", "example.org", "cname"], ["www", "cdn"]));
        const records = await run("a record added, one removed", "up");
        expect(changed(records.steps)).toEqual([
            "create ovh:Domain/zoneRecord:ZoneRecord off1-proxy-dns-CNAME-cdn.example.org",
            "delete ovh:Domain/zoneRecord:ZoneRecord off1-proxy-dns-CNAME-api.example.org",
            "update pulumi-nodejs:dynamic/ovh-failover:ZoneServes off1-proxy-dns-serves.example.org",
        ]);
        expect(records.world.filter((e) => e.writes && !/^(POST|DELETE) \/domain\/zone\/\{zoneName\}\/(record|refresh)/.test(e.what))).toEqual([]);
        expect(recordsOf("cdn")).toEqual(["CNAME off1-proxy.example.org."]);
        expect(recordsOf("www")).toEqual(["CNAME off1-proxy.example.org."]);
        expect(recordsOf("api")).toEqual([]);

        // 4. Nothing to do: every step same, and no write reaches OVH, the Proxmox API or the host.
        const noop = await run("no change", "up");
        expect(changed(noop.steps)).toEqual([]);
        expect(noop.world.filter((e) => e.writes)).toEqual([]);

        // 5. destroy, once the routing is unprotected: the container the stack owns is deleted
        // (stopped first), no virtual MAC is left, the records and the reverse go, the routing stays.
        editStack(project, (doc) => doc.setIn(["config", "ovh-failover:protectIps"], false));
        await run("routing unprotected", "up");
        const destroy = await run("destroy", "destroy");
        expect(destroy.world.filter((e) => /\/move$/.test(e.what))).toEqual([]);
        expect(destroy.world.filter((e) => /^DELETE \/nodes\/\{node\}\/lxc\/\{vmid\}$/.test(e.what))).toHaveLength(1);
        expect(pve.containerConfig(VMID)).toBeUndefined();
        expect(liveNic().addresses).toEqual([]);
        expect(tier.standIn.ipRoutedTo(NEW_IP)).toBe(SERVER);
        expect(tier.standIn.ipRoutedTo(IP)).toBe(SERVER);
        expect(Object.keys(tier.standIn.virtualMacs(SERVER))).toEqual([]);
        expect(tier.standIn.zoneRecords("example.org").filter((r) => r.fieldType !== "NS")).toEqual([]);
        expect(tier.standIn.reverses(NEW_IP)).toEqual({});

        const file = writeLifecycleRecording({ stack: STACK, recorded: recordedBy(tier), phases });
        console.log(`recorded ${path.relative(REPO, file)}`);
    });
});

/** What a netN value says of the NIC (what Proxmox adds by itself, type and the defaults written as 0, left out). */
function nic(value: string | undefined): Record<string, string> {
    const out: Record<string, string> = {};
    for (const part of (value ?? "").split(",")) {
        const [k, v] = part.split("=");
        if (k !== "" && k !== "type" && v !== "0") out[k] = v;
    }
    return out;
}
