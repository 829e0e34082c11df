// ovh-failover find-ip after an IP change: the old IP still in a record the stack does not manage,
// in an SPF block of a TXT record, routed at OVH, in a container's config on the other host. Run
// against the HTTPS OVH stand-in and the pct stand-in, one per Proxmox host, reached through an
// ssh stand-in that picks the host by the address it is given.
import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { configLinesHolding, managedBy, parseAddress, recordTextHolds, tokenHolds } from "../../bin/findIp/places";
import { stackSpec } from "../../bin/hostShell";
import { standInClientEnv, startOvhStandIn, type OvhStandIn } from "../support/ovhStandIn";
import { writeContainerConfig, writePctStandIn } from "../support/pctStandIn";
import { IP, lostStateWorld, OVH1 } from "../support/worlds";

const root = path.resolve(__dirname, "../..");
const NEW_IP = "192.0.2.11";
let standIn: OvhStandIn;
let work: string;

beforeEach(async () => {
    standIn = await startOvhStandIn();
    work = fs.mkdtempSync(path.join(os.tmpdir(), "ovh-failover-find-ip-"));
});
afterEach(async () => {
    await standIn.close();
    fs.rmSync(work, { recursive: true, force: true });
});

/** Two Proxmox hosts (the stack's ovh1 and ovh2), each with its containers, and an ssh that picks one by address. */
function hosts(containers: Record<string, Record<number, string[]> | "no pct">): NodeJS.ProcessEnv {
    const cases: string[] = [];
    for (const [address, cts] of Object.entries(containers)) {
        const dir = path.join(work, address);
        if (cts === "no pct") {
            // A host where pct is not on the PATH: the list fails, which must not read as no container.
            cases.push(`  *@${address}) PATH=/usr/bin:/bin ;;`);
            continue;
        }
        writePctStandIn(path.join(dir, "bin"), dir);
        for (const [vmid, lines] of Object.entries(cts)) writeContainerConfig(dir, Number(vmid), lines, true);
        cases.push(`  *@${address}) PATH=${path.join(dir, "bin")}:$PATH ;;`);
    }
    const ssh = path.join(work, "fake-ssh");
    fs.writeFileSync(ssh, `#!/bin/sh\ncase "$1" in\n${cases.join("\n")}\n  *) echo "ssh: connect to host $1: No route to host" >&2; exit 255 ;;\nesac\nexport PATH\nexec sh -s\n`, { mode: 0o755 });
    return { OVH_FAILOVER_SSH: ssh };
}

function findIp(env: NodeJS.ProcessEnv, ...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
        const child = spawn(process.execPath, ["--import", "tsx", path.join(root, "bin/ovh-failover.ts"), "find-ip", ...args], {
            cwd: root,
            env: {
                PATH: process.env.PATH,
                ...standInClientEnv(standIn),
                ...env,
            },
        });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
        child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
        child.on("close", (status) => resolve({ status, stdout, stderr }));
    });
}

/** The example stack after its IP changed to NEW_IP: what the stack file says then. */
function changedStackFile(): string {
    const file = path.join(work, "Pulumi.reverse-proxy.yaml");
    fs.writeFileSync(file, fs.readFileSync(path.join(root, "stacks", "Pulumi.reverse-proxy.yaml"), "utf8").replace(`ip: ${IP}`, `ip: ${NEW_IP}`));
    return file;
}

describe("where an address appears", () => {
    const address = parseAddress("192.0.2.10");

    it("reads an SPF block that holds it, an address with its prefix length, and nothing that only looks alike", () => {
        expect(recordTextHolds('"v=spf1 ip4:192.0.2.0/24 include:_spf.example.net -all"', address)).toBe(true);
        expect(recordTextHolds('"v=spf1 ip4:192.0.2.100 -all"', address)).toBe(false);
        expect(recordTextHolds('"v=spf1 ip4:192.0.2.10" "0 -all"', address)).toBe(false);
        expect(recordTextHolds('"v=spf1 ip6:2001:db8::/32 -all"', address)).toBe(false);
        expect(tokenHolds("192.0.2.10", address, "address")).toBe(true);
        expect(configLinesHolding("arch: amd64\nnet1: name=eth1,gw=192.0.2.1,ip=192.0.2.10/32,type=veth\nnet2: name=eth2,ip=192.0.2.100/24\ndescription: was 192.0.2.10 until May\n", address)).toEqual([
            { key: "net1", value: "name=eth1,gw=192.0.2.1,ip=192.0.2.10/32,type=veth" },
            { key: "description", value: "was 192.0.2.10 until May" },
        ]);
        // pct prints the description percent-escaped (':' and new lines).
        expect(configLinesHolding("description: old%0Aip%3A192.0.2.10\n", address)).toEqual([{ key: "description", value: "old%0Aip%3A192.0.2.10" }]);
        // An IPv6 address in its /64: only that address, not its neighbours.
        expect(configLinesHolding("net1: ip6=2001:db8:1:4662::10/64", parseAddress("2001:db8:1:4662::11"))).toEqual([]);
        expect(configLinesHolding("net1: ip6=2001:db8:1:4662::10/64", parseAddress("2001:db8:1:4662:0::10"))).toHaveLength(1);
    });

    it("says which stack key declares a place", () => {
        const spec = stackSpec(root, "reverse-proxy");
        const at = (p: Parameters<typeof managedBy>[0]) => managedBy(p, spec, address);
        expect(at({ kind: "record", where: "", value: IP, at: { zone: "example.org", name: "proxy1.example.org.", type: "A" } })).toBe('endpoints.proxy.records["example.org"]');
        expect(at({ kind: "record", where: "", value: IP, at: { zone: "example.org", name: "legacy.example.org.", type: "A" } })).toBeUndefined();
        expect(at({ kind: "routing", where: "", value: "", at: {} })).toBe("endpoints.proxy.ip");
        expect(at({ kind: "container", where: "", value: "", at: { server: "ovh1", vmid: 101, key: "net1" } })).toBe("endpoints.proxy.container");
        expect(at({ kind: "container", where: "", value: "", at: { server: "ovh2", vmid: 101, key: "net1" } })).toBeUndefined();
        expect(at({ kind: "virtual MAC", where: "", value: "", at: { serviceName: OVH1 } })).toBe("endpoints.proxy.virtualMac");
    });
});

describe("ovh-failover find-ip", () => {
    it("finds the old IP after a change in an unmanaged record, an SPF block, its routing and a container config on the other host, and exits 1", async () => {
        const world = lostStateWorld(standIn);
        standIn.addRecord("example.org", { fieldType: "A", subDomain: "legacy", target: IP, ttl: 3600 });
        standIn.addRecord("example.org", { fieldType: "TXT", subDomain: "", target: '"v=spf1 ip4:192.0.2.0/28 -all"', ttl: 3600 });
        standIn.addRecord("example.org", { fieldType: "TXT", subDomain: "_dmarc", target: '"v=DMARC1; p=none"', ttl: 3600 });
        const env = hosts({
            "198.51.100.20": { 101: ["arch: amd64", "hostname: proxy", `net1: ${world.net1!.replace(`ip=${IP}/32`, `ip=${NEW_IP}/32`)}`] },
            "203.0.113.20": { 105: ["arch: amd64", "hostname: mail", `net0: name=eth0,bridge=vmbr0,ip=${IP}/32,gw=203.0.113.254,type=veth`] },
        });
        const r = await findIp(env, IP, "--stack", "reverse-proxy", "--stack-file", changedStackFile());
        expect(r.stderr).toBe("");
        // Everything the change left behind, the stack's own old records included (an up not run yet).
        expect(r.stdout.replace(/record \d+/g, "record N")).toBe([
            `record: proxy1.example.org. A (zone example.org, record N): ${IP}  [NOT MANAGED by the stack]`,
            `record: legacy.example.org. A (zone example.org, record N): ${IP}  [NOT MANAGED by the stack]`,
            `record: example.org. TXT (zone example.org, record N): "v=spf1 ip4:192.0.2.0/28 -all"  [NOT MANAGED by the stack]`,
            `record: example.net. A (zone example.net, record N): ${IP}  [NOT MANAGED by the stack]`,
            `routing: block ${IP}/32: routed to ${OVH1}  [NOT MANAGED by the stack]`,
            `virtual MAC: server ${OVH1}: ${world.macAddress} (ovh)  [NOT MANAGED by the stack]`,
            `container: container 105 on ovh2 (203.0.113.20), net0: name=eth0,bridge=vmbr0,ip=${IP}/32,gw=203.0.113.254,type=veth  [NOT MANAGED by the stack]`,
            "",
        ].join("\n"));
        expect(r.stdout).not.toContain("_dmarc");
        expect(r.stdout).not.toContain("container 101");
        expect(r.status).toBe(1);
        // It reads, never writes.
        expect(standIn.requests.filter((q) => q.method !== "GET" && !q.path.startsWith("/auth/"))).toEqual([]);
        expect(standIn.violations).toEqual([]);
    });

    it("finds what the stack manages as managed, and exits 0 when nothing else holds the address", async () => {
        const world = lostStateWorld(standIn);
        const env = hosts({
            "198.51.100.20": { 101: ["arch: amd64", "hostname: proxy", `net1: ${world.net1}`] },
            "203.0.113.20": {},
        });
        const r = await findIp(env, IP, "--stack", "reverse-proxy");
        expect(r.stderr).toBe("");
        expect(r.stdout).toContain('record: proxy1.example.org. A');
        expect(r.stdout).toContain('[managed: endpoints.proxy.records["example.org"]]');
        expect(r.stdout).toContain(`routing: block ${IP}/32: routed to ${OVH1}  [managed: endpoints.proxy.ip]`);
        expect(r.stdout).toContain(`virtual MAC: server ${OVH1}: ${world.macAddress} (ovh)  [managed: endpoints.proxy.virtualMac]`);
        expect(r.stdout).toContain("container: container 101 on ovh1 (198.51.100.20), net1:");
        expect(r.stdout).not.toContain("NOT MANAGED");
        expect(r.status).toBe(0);
    });

    it("exits 2 when a host cannot be read (no route, no pct) and nothing unmanaged was found, and on a bad address", async () => {
        lostStateWorld(standIn);
        const noPct = await findIp(hosts({ "198.51.100.20": "no pct", "203.0.113.20": {} }), NEW_IP, "--stack", "reverse-proxy");
        expect(noPct.stdout).toMatch(/^not read: the containers of ovh1 \(198\.51\.100\.20\): .*pct.*not found$/m);
        expect(noPct.status).toBe(2);
        const env = hosts({ "198.51.100.20": {} });
        const r = await findIp(env, NEW_IP, "--stack", "reverse-proxy");
        expect(r.stdout).toContain("not read: the containers of ovh2 (203.0.113.20): ssh: connect to host root@203.0.113.20: No route to host");
        expect(r.status).toBe(2);
        const bad = await findIp(env, "192.0.2.300");
        expect(bad.status).toBe(2);
        expect(bad.stderr).toContain('"192.0.2.300" is not an IPv4 or IPv6 address');
    });
});
