// npm run adopt against the OVH stand-in started with a world (test/support/worlds.ts), and the
// Proxmox host's `pct` stand-in over a stand-in ssh; then the plan of the stack with the adopt
// file it wrote: what exists is imported, nothing that exists is created.
import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import * as YAML from "yaml";
import { plan } from "../../bin/plan";
import { Step } from "../../bin/plan/model";
import { AdoptFile } from "../../components/config/adoptFile";
import { standInClientEnv, startOvhStandIn, type OvhStandIn } from "../support/ovhStandIn";
import { writeContainerConfig, writePctStandIn } from "../support/pctStandIn";
import { resourceSteps } from "../support/planJson";
import { IP, lostStateWorld, seed000World, World } from "../support/worlds";

const root = path.resolve(__dirname, "../..");
let standIn: OvhStandIn;
let work: string;

beforeEach(async () => {
    standIn = await startOvhStandIn();
    work = fs.mkdtempSync(path.join(os.tmpdir(), "ovhf-adopt-"));
});
afterEach(async () => {
    expect(standIn.violations).toEqual([]);
    await standIn.close();
    fs.rmSync(work, { recursive: true, force: true });
});

/** A copy of the project whose stacks/ folder is its own, so that the adopt file is read from it. */
function project(): string {
    const dir = path.join(work, "project");
    fs.mkdirSync(path.join(dir, "stacks"), { recursive: true });
    for (const entry of ["index.ts", "components", "bin", "dist", "node_modules", "Pulumi.yaml", "package.json", "tsconfig.json"]) {
        fs.symlinkSync(path.join(root, entry), path.join(dir, entry));
    }
    fs.copyFileSync(path.join(root, "stacks", "Pulumi.reverse-proxy.yaml"), path.join(dir, "stacks", "Pulumi.reverse-proxy.yaml"));
    return dir;
}

/** Runs the CLI; asynchronously, since the stand-in answers from this very process. */
async function runAdopt(world: World, dir: string, env: NodeJS.ProcessEnv = {}, args: string[] = ["--no-state"]): Promise<{ status: number | null; stdout: string; stderr: string; file: string }> {
    const host = path.join(work, "host");
    writePctStandIn(path.join(host, "bin"), host);
    writeContainerConfig(host, 101, ["arch: amd64", "hostname: proxy", ...(world.net1 ? [`net1: ${world.net1}`] : [])], true);
    fs.writeFileSync(path.join(host, "bin", "fake-ssh"), "#!/bin/sh\nshift\nexec sh -s\n", { mode: 0o755 });
    const file = path.join(dir, "stacks", "reverse-proxy.adopt.yaml");
    const child = spawn(process.execPath, ["--import", "tsx", path.join(root, "bin/adopt.ts"), "reverse-proxy", "--output", file, ...args], {
        cwd: root,
        env: {
            PATH: `${path.join(host, "bin")}:${process.env.PATH}`,
            OVH_FAILOVER_SSH: path.join(host, "bin", "fake-ssh"),
            ...standInClientEnv(standIn),
            ...env,
        },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const status = await new Promise<number | null>((resolve) => child.on("close", resolve));
    return { status, stdout, stderr, file };
}

const stepsOf = (steps: Step[], type: string) => steps.filter((s) => s.type === type);

describe("npm run adopt, seed 000's world after the incident", () => {
    it("finds every record, the routing, the vMAC and the NIC, and the plan imports them and creates only what does not exist (the AAAA records)", async () => {
        const world = seed000World(standIn);
        const dir = project();
        const r = await runAdopt(world, dir);
        expect(r.status, r.stderr).toBe(0);
        const adopt = YAML.parse(fs.readFileSync(r.file, "utf8")) as AdoptFile;
        const records = Object.entries(adopt.resources).filter(([, v]) => v.type === "ovh:Domain/zoneRecord:ZoneRecord");
        expect(records).toHaveLength(8);
        for (const [, rec] of records) expect(rec.id).toMatch(/^\d+\.example\.(org|net)$/);
        // The routing is not imported: a Move to where the IP is routed changes nothing.
        expect(adopt.resources["proxy-ip-routing"]).toBeUndefined();
        expect(adopt.observed["proxy-ip-routing"]).toEqual({ ip: `${IP}/32`, routedTo: "ns3012345.ip-198-51-100.eu" });
        expect(adopt.observed["proxy-vmac"]).toMatchObject({ macAddress: world.macAddress, type: "vmware" });
        expect(adopt.observed["proxy-nic-pct-set"]).toMatchObject({ vmid: 101, key: "net1", value: world.net1 });
        // The table: each resource, what was found, its id, what pulumi up will do.
        expect(r.stdout).toMatch(/proxy-dns-A-proxy1\.example\.org\s+A proxy1\.example\.org\. 192\.0\.2\.10 ttl 3600\s+\d+\.example\.org\s+import it, then update \(ttl: 3600 → 300\)/);
        expect(r.stdout).toMatch(/proxy-ip-routing\s+192\.0\.2\.10\/32 routed to ns3012345\.ip-198-51-100\.eu\s+-\s+find it when it creates it, and keep it \(a move to where it is changes nothing\)/);
        expect(r.stdout).toContain("proxy-vmac");
        expect(r.stdout).toContain("adopted as vmware (the stack asks ovh; kept)");
        // TTL hygiene (seed 002): every record above the stack's TTL is named.
        expect(r.stdout.split("\n").filter((l) => l.startsWith("TTL: "))).toHaveLength(8);

        const planned = await plan(dir, { stack: "reverse-proxy", sets: [], json: false, showSame: false }, false);
        expect(planned.exitCode, planned.message).toBe(0);
        const imported = planned.steps.filter((s) => s.op === "import").map((s) => s.name);
        expect(imported.sort()).toEqual(records.map(([name]) => name).sort());
        // Seed 000 had no IPv6: its AAAA records are all the plan creates in DNS.
        expect(stepsOf(planned.steps, "ovh:Domain/zoneRecord:ZoneRecord").filter((s) => s.op === "create").map((s) => s.name).sort())
            .toEqual(["proxy-dns-AAAA-apex.example.net", "proxy-dns-AAAA-proxy1.example.org"]);
        expect(r.stdout).toMatch(/proxy-dns-AAAA-proxy1\.example\.org\s+.*create/);
        // The import, then the update of what the program sets otherwise: the row shows the update.
        expect(planned.output).toMatch(/^ ~ +.*ovh:Domain:ZoneRecord +proxy-dns-A-proxy1\.example\.org +update +\[diff: ~ttl\]$/m);
        const diff = await plan(dir, { stack: "reverse-proxy", sets: [], json: false, diff: true, showSame: false }, false);
        expect(diff.output).toMatch(/^ += ovh:Domain\/zoneRecord:ZoneRecord: \(import\)\n(?: +\[.*\n)* +\[urn=\S+::proxy-dns-A-proxy1\.example\.org\]\n/m);
        expect(diff.output).toMatch(/^ +~ ovh:Domain\/zoneRecord:ZoneRecord: \(update\)\n(?: +\[.*\n)* +\[urn=\S+::proxy-dns-A-proxy1\.example\.org\]\n(?: +\[.*\n)* +~ ttl: 3600 => 300\n/m);
        expect(planned.output).toContain(`adopts the vmware MAC ${world.macAddress} the IP already has`);
        expect(planned.output).toContain(`adopts ${IP}/32 routed to ns3012345.ip-198-51-100.eu already: the move changes nothing`);
        expect(planned.output).toContain(`adopts net1 of 101 as it is, merged: ${world.net1}`);
        const json = resourceSteps((await plan(dir, { stack: "reverse-proxy", sets: [], json: true, showSame: false }, false)).output);
        expect(json.filter((s) => s.name === "proxy-dns-A-proxy1.example.org").map((s) => s.op)).toEqual(["import", "update"]);

        // An IP change warns about the A records whose live TTL is long (seed 002).
        const change = await plan(dir, { stack: "reverse-proxy", sets: ["endpoints.proxy.ip=203.0.113.77"], json: false, showSame: false }, false);
        expect(change.output).toContain("warning: the record's live TTL is 3600 s (ovh-failover adopt): resolvers may keep the old target that long; lower the TTL first and wait it out");
        expect(change.steps.filter((s) => s.warnings?.length).map((s) => s.name).sort()).toEqual(["proxy-dns-A-apex.example.net", "proxy-dns-A-proxy1.example.org"]);
    });

    it("reports a name found twice with its zone, its name and both values, and writes no id for it", async () => {
        seed000World(standIn);
        standIn.addRecord("example.org", { fieldType: "A", subDomain: "proxy1", target: "203.0.113.99", ttl: 300 });
        const dir = project();
        const r = await runAdopt({ net1: undefined, macAddress: "" }, dir);
        expect(r.status).toBe(1);
        expect(r.stderr).toMatch(/CONFLICT: proxy-dns-A-proxy1\.example\.org: zone example\.org, name proxy1: A 192\.0\.2\.10 \(id \d+, ttl 3600\) and A 203\.0\.113\.99 \(id \d+, ttl 300\)/);
        expect(r.stderr).toContain("no adopt file written");
        expect(fs.existsSync(r.file)).toBe(false);
        expect(r.stdout).toMatch(/proxy-nic-pct-set\s+no net1 on container 101\s+-\s+create it/);
    });

    it("reports a CNAME where the stack wants an A, and an A where it wants a CNAME", async () => {
        standIn.addServer("ns3012345.ip-198-51-100.eu", { mainIp: "198.51.100.20" });
        standIn.addIp(IP, { routedTo: "ns3012345.ip-198-51-100.eu" });
        standIn.addZone("example.org");
        standIn.addZone("example.net");
        standIn.addRecord("example.org", { fieldType: "CNAME", subDomain: "proxy1", target: "old.example.org.", ttl: 300 });
        standIn.addRecord("example.org", { fieldType: "A", subDomain: "world", target: "198.51.100.5", ttl: 300 });
        const r = await runAdopt({ net1: undefined, macAddress: "" }, project());
        expect(r.status).toBe(1);
        expect(r.stderr).toMatch(/CONFLICT: proxy-dns-A-proxy1\.example\.org: zone example\.org, name proxy1: CNAME old\.example\.org\. \(id \d+, ttl 300\); the stack wants A 192\.0\.2\.10 alone/);
        expect(r.stderr).toMatch(/CONFLICT: proxy-dns-CNAME-world\.example\.org: zone example\.org, name world: A 198\.51\.100\.5/);
    });

    it("reports an IP routed to another server: the first up would take it away from there", async () => {
        standIn.addServer("ns3012345.ip-198-51-100.eu", { mainIp: "198.51.100.20" });
        standIn.addServer("ns3023456.ip-203-0-113.eu", { mainIp: "203.0.113.20" });
        standIn.addIp(IP, { routedTo: "ns3023456.ip-203-0-113.eu" });
        standIn.addZone("example.org");
        standIn.addZone("example.net");
        const r = await runAdopt({ net1: undefined, macAddress: "" }, project());
        expect(r.status).toBe(1);
        expect(r.stderr).toContain("CONFLICT: proxy-ip-routing: the first up would move it away from ns3023456.ip-203-0-113.eu to ns3012345.ip-198-51-100.eu");
        expect(standIn.ipRoutedTo(IP)).toBe("ns3023456.ip-203-0-113.eu");
    });

    it("writes no import id for what the state holds already: Pulumi would import-replace it and delete the record", async () => {
        const world = seed000World(standIn);
        const state = path.join(work, "state.json");
        fs.writeFileSync(state, JSON.stringify({ version: 3, deployment: { resources: [
            { urn: "urn:pulumi:reverse-proxy::ovh-failover::pulumi:pulumi:Stack::ovh-failover-reverse-proxy" },
            { urn: "urn:pulumi:reverse-proxy::ovh-failover::ovh-failover:endpoint:PublicEndpoint$ovh-failover:dns:ServiceRecords$ovh:Domain/zoneRecord:ZoneRecord::proxy-dns-A-proxy1.example.org" },
        ] } }));
        const r = await runAdopt(world, project(), {}, ["--state", state]);
        expect(r.status, r.stderr).toBe(0);
        const adopt = YAML.parse(fs.readFileSync(r.file, "utf8")) as AdoptFile;
        expect(adopt.resources["proxy-dns-A-proxy1.example.org"]).toBeUndefined();
        expect(adopt.resources["proxy-dns-A-apex.example.net"]).toBeDefined();
        expect(r.stdout).toMatch(/proxy-dns-A-proxy1\.example\.org\s+.*leave it to Pulumi \(in the state already: no import id written\)/);
    });

    it("sets a reverse anew instead of importing it, and reads a TTL of 0 as the zone's default", async () => {
        seed000World(standIn);
        standIn.setReverse(IP, IP, "proxy1.example.org.");
        standIn.addRecord("example.org", { fieldType: "A", subDomain: "edge", target: "192.0.2.11", ttl: 0 });
        const dir = project();
        const stackFile = path.join(dir, "stacks", "Pulumi.reverse-proxy.yaml");
        const stack = fs.readFileSync(stackFile, "utf8").replace("      ip: 192.0.2.10\n", "      ip: 192.0.2.10\n      reverse: proxy1.example.org.\n").replace("a: [proxy1]", "a: [proxy1, edge]");
        fs.writeFileSync(stackFile, stack);
        const r = await runAdopt({ net1: undefined, macAddress: "" }, dir, {}, ["--no-state", "--skip-hosts", "--stack-file", stackFile]);
        expect(r.status, r.stderr).toBe(0);
        expect(r.stdout).toMatch(/proxy-ip-reverse\s+reverse proxy1\.example\.org\.\s+-\s+set it anew over what is there \(the same value\)/);
        const adopt = YAML.parse(fs.readFileSync(r.file, "utf8")) as AdoptFile;
        expect(Object.values(adopt.resources).map((x) => x.type)).not.toContain("ovh:Ip/reverse:Reverse");
        expect(adopt.resources["proxy-dns-A-edge.example.org"]).toMatchObject({ live: { ttl: 0 }, effectiveTtl: 3600 });
        expect(r.stdout).toContain("TTL: A edge.example.org.: TTL 3600 s (the zone's default) is above the stack's 300 s");
    });

    it("will not guess whether the stack has a state", async () => {
        seed000World(standIn);
        const r = await runAdopt({ net1: undefined, macAddress: "" }, project(), {}, []);
        expect(r.status).toBe(2);
        expect(r.stderr).toContain("say whether the stack has a state: --state <file> (pulumi stack export > file) or --no-state");
        expect(standIn.requests).toEqual([]);
    });

    it("reports a record whose target differs with its zone, its name and both values", async () => {
        standIn.addServer("ns3012345.ip-198-51-100.eu", { mainIp: "198.51.100.20" });
        standIn.addIp(IP, { routedTo: "ns3012345.ip-198-51-100.eu" });
        standIn.addZone("example.org");
        standIn.addZone("example.net");
        // The apex of example.net was left on an old address.
        standIn.addRecord("example.net", { fieldType: "A", subDomain: "", target: "198.51.100.77", ttl: 300 });
        const r = await runAdopt({ net1: undefined, macAddress: "" }, project());
        expect(r.status, r.stderr).toBe(0);
        expect(r.stdout).toMatch(/proxy-dns-A-apex\.example\.net\s+A example\.net\. 198\.51\.100\.77 ttl 300\s+\d+\.example\.net\s+import it, then update \(target: 198\.51\.100\.77 → 192\.0\.2\.10\)/);
    });

    it("retries a 503 and a 429 as the other clients do, and checks every request against the schema", async () => {
        const world = seed000World(standIn);
        standIn.failNext({ method: "GET", route: "/domain/zone/{zoneName}/record", status: 503 });
        standIn.failNext({ method: "GET", route: "/ip/{ip}", status: 429 });
        const r = await runAdopt(world, project());
        expect(r.status, r.stderr).toBe(0);
        expect(r.stderr).toMatch(/HTTP 503.*retry 1/);
        expect(r.stderr).toMatch(/HTTP 429.*retry 1/);
        const routes = new Set(standIn.requests.map((q) => `${q.method} ${q.route}`));
        for (const expected of ["GET /domain/zone/{zoneName}/record", "GET /domain/zone/{zoneName}/record/{id}", "GET /ip/{ip}", "GET /dedicated/server/{serviceName}/virtualMac"]) {
            expect(routes).toContain(expected);
        }
    });

    it("without credentials says which variables are missing and exits 2, before any request", async () => {
        seed000World(standIn);
        const r = await runAdopt({ net1: undefined, macAddress: "" }, project(), { OVH_CONSUMER_KEY: "", OVH_APPLICATION_SECRET: "" });
        expect(r.status).toBe(2);
        expect(r.stderr).toContain("OVH API credentials are missing: set OVH_APPLICATION_SECRET, OVH_CONSUMER_KEY");
        expect(standIn.requests).toEqual([]);
    });
});

describe("npm run adopt after a lost state", () => {
    it("imports everything as it is: nothing to create, nothing to update", async () => {
        const world = lostStateWorld(standIn);
        const dir = project();
        const r = await runAdopt(world, dir);
        expect(r.status, r.stderr).toBe(0);
        expect(r.stdout).not.toContain("then update");
        expect(r.stdout).not.toContain("TTL: ");
        const planned = await plan(dir, { stack: "reverse-proxy", sets: [], json: false, showSame: false }, false);
        expect(planned.exitCode, planned.message).toBe(0);
        const byOp = (op: string) => planned.steps.filter((s) => s.op === op && s.new?.custom).map((s) => s.type);
        expect(byOp("import").length).toBe(10);
        expect(planned.steps.filter((s) => s.op === "import" && s.diffs.length > 0)).toEqual([]);
        // Only what finds what exists by itself is created: the routing (a move to where it is),
        // the vMAC (the MAC the IP has), the NIC (merged as it is), and the probe; and what is
        // nothing in the world: the check before the move (it only reads, and finds the IP where
        // it is), the proof per zone that DNS serves the records (it only refreshes and asks), and
        // the provider that carries the OVH credentials to them and to the vMAC.
        expect(byOp("create").sort()).toEqual([
            "command:remote:Command", "command:remote:Command", "ovh:Ip/move:Move", "pulumi-nodejs:dynamic/ovh-failover:MoveCheck", "pulumi-nodejs:dynamic/ovh-failover:VirtualMac",
            "pulumi-nodejs:dynamic/ovh-failover:ZoneServes", "pulumi-nodejs:dynamic/ovh-failover:ZoneServes", "pulumi:providers:pulumi-nodejs",
        ]);
        expect(planned.output).toContain(`adopts the ovh MAC ${world.macAddress} the IP already has`);
    });
});
