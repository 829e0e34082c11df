// adopt, drift and check-gateways against a world of every addressing layout (docs/layouts.md),
// prepared in the OVH stand-in and the Proxmox host's `pct` stand-in: a /29 routed to a server with
// three IPs and their virtual MACs, a vRack block, a routed IP, and a Public Cloud IP attached to an
// instance (the stack: layouts.live.stack.yaml). Then the plan of the stack with the adopt file.
import { spawn } from "child_process";
import * as fs from "fs";
import * as https from "https";
import * as os from "os";
import * as path from "path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import * as YAML from "yaml";
import { plan } from "../../bin/plan";
import { AdoptFile } from "../../components/config/adoptFile";
import { OvhApi, OvhApiError, route } from "../../components/network/ovhApiClient";
import { localMacFor } from "../../components/proxmox/pct";
import { startOvhStandIn, type OvhStandIn } from "../support/ovhStandIn";
import { writeContainerConfig, writePctStandIn } from "../support/pctStandIn";

const root = path.resolve(__dirname, "../..");
const STACK_FILE = path.join(__dirname, "layouts.live.stack.yaml");
const OVH1 = "ns3012345.ip-198-51-100.eu";
const OVH2 = "ns3023456.ip-203-0-113.eu";
const VRACK = "pn-123456";
const PROJECT = "0123456789abcdef0123456789abcdef";
const INSTANCE = "5f0e4f9c-3b1d-4a55-9d0e-2f4b8c6a7d21";
const OTHER_INSTANCE = "9a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d";
const WEB = { web1: ["192.0.2.9", "02:00:00:00:09:01", 101], web2: ["192.0.2.10", "02:00:00:00:10:01", 102], web3: ["192.0.2.11", "02:00:00:00:11:01", 103] } as const;

let standIn: OvhStandIn;
let work: string;
let savedCa: typeof https.globalAgent.options.ca;

beforeEach(async () => {
    standIn = await startOvhStandIn();
    savedCa = https.globalAgent.options.ca;
    https.globalAgent.options.ca = standIn.caPem;
    work = fs.mkdtempSync(path.join(os.tmpdir(), "ovhf-layouts-"));
});
afterEach(async () => {
    https.globalAgent.options.ca = savedCa;
    expect(standIn.violations).toEqual([]);
    await standIn.close();
    fs.rmSync(work, { recursive: true, force: true });
});

interface Deviations {
    /** The web block routed to this server instead of ovh1. */
    webRoutedTo?: string;
    /** A virtual MAC left on the routed IP, and one on the vRack IP. */
    strayMacs?: boolean;
    /** The Public Cloud IP attached to another instance. */
    pciOn?: string;
    /** lb's NIC with another gateway. */
    lbGateway?: string;
    /** lb's NIC with another IPv6 gateway. */
    lbGateway6?: string;
}

/** The world as the stack says (or with the deviations), and the host's containers. */
async function prepareWorld(d: Deviations = {}): Promise<void> {
    standIn.addServer(OVH1, { mainIp: "198.51.100.20", gateway: "198.51.100.254", region: "eu-west-sbg" });
    standIn.addServer(OVH2, { mainIp: "203.0.113.20", gateway: "203.0.113.254" });
    standIn.addIp("192.0.2.8/29", { routedTo: d.webRoutedTo ?? OVH1 });
    for (const [name, [ip, mac]] of Object.entries(WEB)) standIn.seedVirtualMac(d.webRoutedTo ?? OVH1, mac, "ovh", [{ ipAddress: ip, virtualMachineName: name }]);
    standIn.addIp("192.0.2.50/32", { routedTo: OVH1 });
    // The vRack block, put in its vRack as the provider does it: POST, then the task until it is gone.
    standIn.addVrack(VRACK, { servers: [OVH2] });
    standIn.addIp("192.0.2.16/29", { routedTo: OVH2 });
    const api = new OvhApi({ client: { host: "127.0.0.1", port: standIn.port, basePath: "/1.0", appKey: standIn.applicationKey, appSecret: standIn.applicationSecret, consumerKey: standIn.consumerKey }, description: "stand-in" });
    const task = await api.request<{ id: number }>("POST", route("/vrack/{serviceName}/ip", { serviceName: VRACK }), { block: "192.0.2.16/29" });
    for (let gone = false; !gone;) {
        try {
            await api.request("GET", route("/vrack/{serviceName}/task/{taskId}", { serviceName: VRACK, taskId: task.id }));
        } catch (err) {
            if (!(err instanceof OvhApiError && err.status === 404)) throw err;
            gone = true;
        }
    }
    expect(standIn.ipVrack("192.0.2.16/29")).toBe(VRACK);
    if (d.strayMacs) {
        standIn.seedVirtualMac(OVH1, "02:00:00:00:50:01", "ovh", [{ ipAddress: "192.0.2.50", virtualMachineName: "r1" }]);
        standIn.seedVirtualMac(OVH2, "02:00:00:00:18:01", "ovh", [{ ipAddress: "192.0.2.18", virtualMachineName: "lb" }]);
    }
    standIn.addCloudProject(PROJECT, { instances: [{ id: INSTANCE, name: "pci1" }, { id: OTHER_INSTANCE, name: "pci2" }], failoverIps: [{ id: "e1f2a3b4-0001", ip: "192.0.2.60", routedTo: d.pciOn ?? INSTANCE }] });
    standIn.addZone("example.org");
    for (const [name, ip] of [["web1", "192.0.2.9"], ["web2", "192.0.2.10"], ["web3", "192.0.2.11"], ["lb", "192.0.2.18"], ["r1", "192.0.2.50"], ["pci", "192.0.2.60"]]) {
        standIn.addRecord("example.org", { fieldType: "A", subDomain: name, target: ip, ttl: 300 });
    }
    standIn.addRecord("example.org", { fieldType: "AAAA", subDomain: "lb", target: "2001:db8:abcd:ef00::10", ttl: 300 });

    const host = path.join(work, "host");
    writePctStandIn(path.join(host, "bin"), host);
    for (const [, [ip, mac, vmid]] of Object.entries(WEB)) {
        writeContainerConfig(host, vmid, [`net1: name=eth1,bridge=vmbr0,gw=198.51.100.254,hwaddr=${mac.toUpperCase()},ip=${ip}/32,type=veth`], true);
    }
    // lb's IPv6 is the vRack's: its IPv6 block's first /64, the block's first address as gateway.
    writeContainerConfig(host, 110, [`net1: name=eth1,bridge=vmbr1,gw=${d.lbGateway ?? "192.0.2.22"},gw6=${d.lbGateway6 ?? "2001:db8:abcd:ef00::1"},hwaddr=${localMacFor("192.0.2.18")},ip=192.0.2.18/29,ip6=2001:db8:abcd:ef00::10/64,type=veth`], true);
    writeContainerConfig(host, 104, [`net1: name=eth1,bridge=vmbr2,gw=192.168.0.1,hwaddr=${localMacFor("192.0.2.50")},ip=192.0.2.50/32,type=veth`], true);
    fs.writeFileSync(path.join(host, "bin", "fake-ssh"), "#!/bin/sh\nshift\nexec sh -s\n", { mode: 0o755 });
}

/**
 * A copy of the project whose stacks/ holds the layouts stack as `layouts`; for the plan, without
 * pci and r1, which the program does not declare yet (index.ts refuses a cloud endpoint, and
 * publicEndpoint.ts a routed one until HostRoute is there).
 */
function project(): string {
    const dir = path.join(work, "project");
    fs.mkdirSync(path.join(dir, "stacks"), { recursive: true });
    for (const entry of ["index.ts", "components", "bin", "dist", "node_modules", "Pulumi.yaml", "package.json", "tsconfig.json"]) {
        if (!fs.existsSync(path.join(dir, entry))) fs.symlinkSync(path.join(root, entry), path.join(dir, entry));
    }
    const doc = YAML.parseDocument(fs.readFileSync(STACK_FILE, "utf8"));
    fs.writeFileSync(path.join(dir, "stacks", "Pulumi.layouts.yaml"), doc.toString());
    return dir;
}

/** Runs a command of bin/ in the project copy, with the stand-ins; asynchronously, since the OVH stand-in answers from this process. */
async function run(dir: string, tool: string, args: string[], withOvh = true): Promise<{ status: number | null; stdout: string; stderr: string }> {
    const host = path.join(work, "host");
    const child = spawn(process.execPath, ["--import", "tsx", path.join(root, "bin", tool), "layouts", ...args], {
        cwd: dir,
        env: {
            PATH: `${path.join(host, "bin")}:${process.env.PATH}`,
            OVH_FAILOVER_SSH: path.join(host, "bin", "fake-ssh"),
            ...(withOvh ? {
                NODE_EXTRA_CA_CERTS: standIn.caFile,
                OVH_ENDPOINT: standIn.url,
                OVH_APPLICATION_KEY: standIn.applicationKey,
                OVH_APPLICATION_SECRET: standIn.applicationSecret,
                OVH_CONSUMER_KEY: standIn.consumerKey,
            } : {}),
        },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (x: Buffer) => (stdout += x.toString()));
    child.stderr.on("data", (x: Buffer) => (stderr += x.toString()));
    const status = await new Promise<number | null>((resolve) => child.on("close", resolve));
    return { status, stdout, stderr };
}

describe("adopt, every layout", () => {
    it("imports the vRack block's routing once and the records, observes the attach; adopts the block's MACs; takes no MAC for routed and vRack IPs; and the plan imports the records", async () => {
        await prepareWorld();
        const dir = project();
        const file = path.join(dir, "stacks", "layouts.adopt.yaml");
        const r = await run(dir, "adopt.ts", ["--no-state", "--output", file]);
        expect(r.status, r.stderr + r.stdout).toBe(0);
        const adopt = YAML.parse(fs.readFileSync(file, "utf8")) as AdoptFile;
        // The /29 routed to ovh1: observed, not imported (a Move to where it is routed changes nothing), once for the block.
        expect(adopt.resources["web-block-routing"]).toBeUndefined();
        expect(adopt.observed["web-block-routing"]).toEqual({ ip: "192.0.2.8/29", routedTo: OVH1 });
        expect(r.stdout).toMatch(/^web-block-routing\s+192\.0\.2\.8\/29 routed to \S+\s+-\s+find it when it creates it, and keep it \(a move to where it is changes nothing\)$/m);
        // The vRack block: ovh_vrack_ip's importer takes "<serviceName>,<block>" (resource_vrack_ip.go).
        expect(adopt.resources["rack-block-routing"]).toEqual({ type: "ovh:Vrack/ipAddress:IpAddress", id: `${VRACK},192.0.2.16/29`, live: { serviceName: VRACK, block: "192.0.2.16/29" } });
        // Not imported: the real ovh plugin's Read of an attach imported by id asks GET /cloud/project//ip/failover (a 404).
        expect(adopt.resources["pci-ip-routing"]).toBeUndefined();
        expect(adopt.observed["pci-ip-routing"]).toEqual({ serviceName: PROJECT, ip: "192.0.2.60", id: "e1f2a3b4-0001", routedTo: INSTANCE });
        // Once for the block, not per endpoint: no IP of a block has a routing of its own.
        expect(r.stdout.split("\n").filter((l) => l.startsWith("web-block-routing"))).toHaveLength(1);
        expect(r.stdout).toMatch(/^rack-block-routing\s+192\.0\.2\.16\/29 in the vRack pn-123456 \(eu-west-gra\)\s+pn-123456,192\.0\.2\.16\/29\s+import it, change nothing$/m);
        for (const name of ["web1", "web2", "web3", "lb"]) expect(r.stdout).not.toMatch(new RegExp(`^${name}-ip-routing`, "m"));
        expect(adopt.observed["r1-ip-routing"]).toEqual({ ip: "192.0.2.50/32", routedTo: OVH1 });
        // Each IP of the block keeps its own MAC; routed and vRack IPs have none, and none is asked.
        for (const [name, [, mac]] of Object.entries(WEB)) expect(adopt.observed[`${name}-vmac`]).toMatchObject({ macAddress: mac });
        expect(r.stdout).not.toMatch(/^(lb|r1)-vmac/m);
        // The NICs as the stack sets them: nothing to change in any.
        for (const name of ["web1", "web2", "web3", "lb", "r1"]) expect(r.stdout).toMatch(new RegExp(`^${name}-nic-pct-set\\s+net1: .*the managed options are as the stack says\\)$`, "m"));
        const records = Object.entries(adopt.resources).filter(([, v]) => v.type === "ovh:Domain/zoneRecord:ZoneRecord").map(([n]) => n);
        expect(records.sort()).toEqual([...["lb", "pci", "r1", "web1", "web2", "web3"].map((n) => `${n}-dns-A-${n}.example.org`), "lb-dns-AAAA-lb.example.org"].sort());
        const routes = new Set(standIn.requests.map((q) => `${q.method} ${q.route}`));
        for (const used of ["GET /ip", "GET /vrack/{serviceName}/ip/{ip}", "GET /cloud/project/{serviceName}/ip/failover"]) expect(routes).toContain(used);

        // The plan of the stack with that file.
        project();
        const planned = await plan(dir, { stack: "layouts", sets: [], json: false, showSame: false }, false);
        expect(planned.exitCode, planned.message).toBe(0);
        const imported = planned.steps.filter((s) => s.op === "import").map((s) => s.name).sort();
        // The vRack block's routing is imported; the server's block is not: a Move to where it is
        // routed already changes nothing (components/network/failoverIp.ts).
        expect(imported).toEqual([...records, "rack-block-routing"].sort());
        expect(planned.steps.filter((s) => s.op === "import" && s.diffs.length > 0).map((s) => s.name)).toEqual([]);
        expect(planned.output).toContain(`adopts 192.0.2.8/29 routed to ${OVH1} already: the move changes nothing`);
        expect(planned.steps.filter((s) => s.type === "pulumi-nodejs:dynamic/ovh-failover:VirtualMac").map((s) => [s.name, s.adopts])).toEqual(
            Object.entries(WEB).map(([name, [, mac]]) => [`${name}-vmac`, `the ovh MAC ${mac} the IP already has (found by ovh-failover adopt)`]));
    }, 240_000);

    it("stops at what each layout cannot take over: a block routed elsewhere, a MAC on a routed IP, an IP attached to another instance", async () => {
        await prepareWorld({ webRoutedTo: OVH2, strayMacs: true, pciOn: OTHER_INSTANCE });
        const dir = project();
        const file = path.join(dir, "stacks", "layouts.adopt.yaml");
        const r = await run(dir, "adopt.ts", ["--no-state", "--output", file, "--skip-hosts"]);
        expect(r.status, r.stderr).toBe(1);
        expect(fs.existsSync(file)).toBe(false);
        expect(r.stderr).toContain(`CONFLICT: web-block-routing: the first up would move the whole block away from ${OVH2} to ${OVH1}: move it by hand, or point ipBlocks.web.server at that server`);
        expect(r.stderr).toContain(`CONFLICT: r1-vmac: endpoints.r1.mode is routed, which takes no virtual MAC (OVH's routed-mode guide): delete it (DELETE /dedicated/server/${OVH1}/virtualMac/02:00:00:00:50:01/virtualAddress/192.0.2.50), or make the endpoint bridged`);
        expect(r.stderr).toContain("CONFLICT: lb-vmac: 192.0.2.18 is in the vRack block ipBlocks.rack, and OVH drops a block's virtual MACs when it enters a vRack: set ipBlocks.rack.dropVirtualMacs true to accept losing it");
        expect(r.stderr).toContain(`CONFLICT: pci-ip-routing: the first up would attach it to ${INSTANCE} instead (an attach cannot be undone, only moved): attach it by hand, or point endpoints.pci.cloud.instance at ${OTHER_INSTANCE}`);
    }, 120_000);
});

describe("drift, every layout", () => {
    it("finds nothing in the world as the stack says; without the OVH variables says what it did not compare there", async () => {
        await prepareWorld();
        const dir = project();
        const r = await run(dir, "drift.ts", []);
        expect(r.status, r.stderr + r.stdout).toBe(0);
        expect(r.stdout.split("\n").filter(Boolean).sort()).toEqual([
            "OK: endpoint lb (container 110 net1 on 203.0.113.20)",
            `OK: endpoint pci (instance ${INSTANCE} of project ${PROJECT})`,
            "OK: endpoint r1 (container 104 net1 on 198.51.100.20)",
            ...["101", "102", "103"].map((vmid, i) => `OK: endpoint web${i + 1} (container ${vmid} net1 on 198.51.100.20) (not compared: hwaddr; give --outputs)`),
        ]);
        const offline = await run(dir, "drift.ts", [], false);
        expect(offline.status).toBe(2);
        expect(offline.stdout).toContain("OK: endpoint r1 (container 104 net1 on 198.51.100.20) (not compared at OVH: routing, virtual MAC; set the OVH variables)");
        expect(offline.stdout).toContain(`UNCHECKED: endpoint pci (instance ${INSTANCE} of project ${PROJECT}): where the IP is attached is known to the OVH API only: set OVH_APPLICATION_KEY, OVH_APPLICATION_SECRET, OVH_CONSUMER_KEY`);
    }, 120_000);

    it("names a block routed elsewhere, a MAC on a routed or vRack IP, a vRack NIC's gateway, an IP attached to another instance", async () => {
        await prepareWorld({ webRoutedTo: OVH2, strayMacs: true, pciOn: OTHER_INSTANCE, lbGateway: "192.0.2.17", lbGateway6: "fe80::1" });
        const dir = project();
        const r = await run(dir, "drift.ts", []);
        expect(r.status, r.stderr).toBe(1);
        const lines = r.stdout.split("\n");
        expect(lines).toContain(`DRIFT: endpoint web1 (container 101 net1 on 198.51.100.20): routing: 192.0.2.8/29 is routed to ${OVH2}, the stack says ${OVH1} (ipBlocks.web.server is ovh1) (not compared: hwaddr; give --outputs)`);
        expect(lines).toContain(`DRIFT: endpoint r1 (container 104 net1 on 198.51.100.20): virtual MAC 02:00:00:00:50:01 carries 192.0.2.50 on ${OVH1}: endpoints.r1.mode is routed, which takes none`);
        expect(lines).toContain(`DRIFT: endpoint lb (container 110 net1 on 203.0.113.20): gw is 192.0.2.17, the stack says 192.0.2.22; gw6 is fe80::1, the stack says 2001:db8:abcd:ef00::1; virtual MAC 02:00:00:00:18:01 carries 192.0.2.18 on ${OVH2}: 192.0.2.18 is in the vRack block ipBlocks.rack, which takes none`);
        expect(lines).toContain(`DRIFT: endpoint pci (instance ${INSTANCE} of project ${PROJECT}): routedTo is ${OTHER_INSTANCE}, the stack says ${INSTANCE} (endpoints.pci.cloud.instance)`);
    }, 120_000);
});

describe("check-gateways, every layout", () => {
    it("probes each container's gateway as its NIC has it, and a Public Cloud IP's alias on its instance", async () => {
        await prepareWorld();
        const dir = project();
        const textfile = path.join(work, "gateways.prom");
        const r = await run(dir, "check-gateways.ts", ["--textfile", textfile], false);
        const prom = fs.readFileSync(textfile, "utf8");
        expect(prom).toBe(r.stdout);
        // One sample per container endpoint, labelled with the gateway its layout gives: the
        // server's for the block's IPs, the routed bridge's address, the vRack block's .22.
        const gateways = [...prom.matchAll(/^ovh_failover_gateway_up\{stack="layouts",endpoint="(\w+)",container="(\d+)",nic="net1",gateway="([\d.]+)"\} [01]$/gm)].map((m) => `${m[1]} ${m[2]} ${m[3]}`);
        expect(gateways.sort()).toEqual(["lb 110 192.0.2.22", "r1 104 192.168.0.1", "web1 101 198.51.100.254", "web2 102 198.51.100.254", "web3 103 198.51.100.254"]);
        expect(prom).toMatch(/^ovh_failover_gateway_check_ok\{stack="layouts",endpoint="r1"\} 1$/m);
        // lb's IPv6 gateway is its vRack IPv6 block's first address.
        expect(prom).toMatch(/^ovh_failover_gateway6_up\{stack="layouts",endpoint="lb",container="110",nic="net1",gateway="2001:db8:abcd:ef00::1"\} 0$/m);
        // No gateway sample for the Public Cloud IP; its alias is checked on the instance instead
        // (here the ssh stand-in runs the check on this machine, which does not hold 192.0.2.60).
        expect(prom).not.toMatch(/^ovh_failover_gateway_up\{[^}]*endpoint="pci"/m);
        expect(prom).toMatch(new RegExp(`^ovh_failover_alias_up\\{stack="layouts",endpoint="pci",instance="${INSTANCE}"\\} 0$`, "m"));
        expect(prom).toMatch(/^ovh_failover_gateway_check_ok\{stack="layouts",endpoint="pci"\} 1$/m);
        expect(r.stderr).toMatch(new RegExp(`DEAD: endpoint pci \\(instance ${INSTANCE}\\) alias: .*192\\.0\\.2\\.60`));
        expect(r.stderr).toContain(`NOT PROBED: endpoint pci (instance ${INSTANCE} of project ${PROJECT}): a Public Cloud IP has no gateway of its own to probe (192.0.2.60 is a /32 alias on the interface of the instance's default route, routed by the instance's own gateway)`);
        // A routed IP's host is checked too: here (this machine, through the ssh stand-in) nothing routes 192.0.2.50 to vmbr2.
        expect(r.stderr).toMatch(/DEAD: endpoint r1 .*host-route: 192\.0\.2\.50 (is routed elsewhere than dev vmbr2|is not routed to a bridge)/);
        // Here no container interface exists (pct exec runs in this machine's namespace): every gateway is dead.
        expect(r.status).toBe(1);
    }, 120_000);
});
