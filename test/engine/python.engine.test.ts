// A Python program on the plugin package (plugin/), through the real CLI and our language hosts:
// `pulumi package add` generates and installs the Python SDK, the program declares a
// PublicEndpoint (or a CarpPair, an IpBlock, a CloudEndpoint), and `pulumi preview` runs the
// component provider's Construct.
// The ovh and command provider plugins are not in this suite (docs/testing.md), so the preview
// stops at the first child that needs one; what was registered before, as `pulumi preview --json`
// lists it, is held against what a TypeScript program registers with the library for the same args.
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Stack } from "@pulumi/pulumi/automation";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { plan } from "../../bin/plan";
import { engineWorkspace, EngineWorkspace, previewDigest, REPO } from "../support/engine";

// The Python SDK at the Node.js SDK's version: the engine runs one language's SDK against plugins
// of its own version only.
const PULUMI_PY = (JSON.parse(fs.readFileSync(path.resolve(__dirname, "../../package-lock.json"), "utf8")) as { packages: Record<string, { version: string }> }).packages["node_modules/@pulumi/pulumi"].version;

/**
 * A virtualenv with the PyPI `pulumi` (and wheel, to build the SDK without build isolation, and
 * parver, which the generated SDK requires besides pulumi and semver),
 * cached outside the work tree by version; built once from PyPI, offline afterwards.
 */
function pythonVenv(): string {
    const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), ".cache");
    const pyVersion = execFileSync("python3", ["-c", "import sys; print(f'cp{sys.version_info[0]}{sys.version_info[1]}')"], { encoding: "utf8" }).trim();
    const dir = path.join(base, "ovh-failover", "python", `pulumi-${PULUMI_PY}-${pyVersion}`);
    const venv = path.join(dir, "venv");
    if (fs.existsSync(path.join(venv, ".complete"))) return venv;
    fs.rmSync(venv, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    execFileSync("python3", ["-m", "venv", venv]);
    execFileSync(path.join(venv, "bin", "python"), ["-m", "pip", "install", "-q", `pulumi==${PULUMI_PY}`, "wheel", "parver"], { stdio: "inherit" });
    fs.writeFileSync(path.join(venv, ".complete"), `${new Date().toISOString()}\n`);
    return venv;
}

const MAIN = `import pulumi
import pulumi_ovh_failover as ovh_failover

endpoint = ovh_failover.PublicEndpoint(
    "web",
    ip="198.51.100.7",
    server=ovh_failover.DedicatedServerArgs(service_name="ns1.example.net", main_ip="198.51.100.1", gateway_from_api=False),
    container=ovh_failover.ContainerArgs(
        proxmox=ovh_failover.SshConnectionArgs(host="pve.example.net"),
        vmid=101, nic=1, interface_name="eth1", bridge="vmbr0",
    ),
    zones=[ovh_failover.ZoneNamesArgs(zone="example.org", a=["www"], cname=["app"])],
    virtual_mac=ovh_failover.VirtualMacOptionsArgs(type=ovh_failover.VirtualMacType.OVH),
)
pulumi.export("ip", endpoint.ip)
`;

/**
 * The URNs a TypeScript program registers with the library for the same args, every parent's type
 * chained as the engine chains it: from the offline plan of that program (bin/plan/model.ts
 * engineUrn), which CI holds to the real engine's previews (test/recorded/). The SDK's mock
 * runtime would keep one parent level only.
 */
async function typescriptUrns(project: string, program: string): Promise<string[]> {
    const dir = ws.project({
        "Pulumi.yaml": `name: ${project}\nruntime:\n  name: nodejs\n  options:\n    typescript: false\n    nodeargs: "--import tsx"\nmain: index.ts\n`,
        "Pulumi.dev.yaml": "config: {}\n",
        "index.ts": program,
    });
    const r = await plan(dir, { stack: "dev", sets: [], json: true, showSame: false }, false);
    expect(r.message ?? "", "the TypeScript program's plan").toBe("");
    return (JSON.parse(r.output) as { steps: { urn: string }[] }).steps.map((st) => st.urn);
}

const lib = (file: string) => JSON.stringify(path.join(REPO, "components", file));

const TS_MAIN = `import { PublicEndpoint } from ${lib("publicEndpoint")};
const ep = new PublicEndpoint("web", {
    ip: "198.51.100.7",
    server: { serviceName: "ns1.example.net", mainIp: "198.51.100.1", gatewayFromApi: false },
    container: { proxmox: { host: "pve.example.net" }, vmid: 101, nic: 1, interfaceName: "eth1", bridge: "vmbr0" },
    zones: [{ zone: "example.org", a: ["www"], cname: ["app"] }],
    virtualMac: { type: "ovh" },
});
export const ip = ep.ip;
`;

/** The Python program's preview, as \`pulumi preview --json\` lists it: the URNs it registered, and its errors. */
async function pythonPreview(stack: Stack): Promise<{ urns: string[]; errors: string }> {
    const { code, digest } = await previewDigest(ws, stack);
    expect(code, "the preview stops at the missing plugin").not.toBe(0);
    const urns = (digest.steps ?? []).map((st) => st.urn).filter((u) => !/::pulumi:providers:[^:]+::default/.test(u));
    return { urns, errors: (digest.diagnostics ?? []).filter((d) => d.severity === "error").map((d) => d.message ?? "").join("\n") };
}

/**
 * The plugin package as a Python user gets it: the npm tarball (npm pack, which builds it),
 * unpacked and given its dependencies, as `npm install ovh-failover` would.
 */
function packedPlugin(work: string): string {
    const out = execFileSync("npm", ["pack", "--json", "--pack-destination", work], { cwd: REPO, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    const tarball = path.join(work, (JSON.parse(out.slice(out.search(/^\[/m))) as { filename: string }[])[0].filename);
    execFileSync("tar", ["-xzf", tarball, "-C", work]);
    const pkg = path.join(work, "package");
    execFileSync("npm", ["install", "--prefer-offline", "--omit=dev", "--ignore-scripts", "--no-audit", "--no-fund"], { cwd: pkg, stdio: ["ignore", "ignore", "pipe"] });
    return path.join(pkg, "plugin");
}

/** The virtualenv and the unpacked plugin, made once for the file's programs. */
let shared: { venv: string; plugin: string } | undefined;
function venvAndPlugin(): { venv: string; plugin: string } {
    shared ??= { venv: pythonVenv(), plugin: packedPlugin(fs.mkdtempSync(path.join(os.tmpdir(), "ovhf-pyplugin-"))) };
    return shared;
}

const EDGE_MAIN = `import pulumi
import pulumi_ovh_failover as ovh_failover

edge = ovh_failover.CarpPair(
    "edge",
    flavour=ovh_failover.EdgeFlavour.KEEPALIVED,
    failover_ip="203.0.113.231",
    group=ovh_failover.CarpGroupArgs(vhid=7, address="10.25.0.10", prefix_length=16, carpdev="eth2"),
    password=pulumi.Output.secret("carp-pw"),
    nodes=[
        ovh_failover.EdgeNodeArgs(
            name="edge-1", advskew=1, public_interface="eth0", private_interface="eth2", private_address="10.25.0.11",
            ssh=ovh_failover.SshConnectionArgs(host="198.51.100.41"),
            move=ovh_failover.MoveTargetArgs(dedicated_server=ovh_failover.DedicatedMoveTargetArgs(service_name="ns1.ip-198-51-100.eu")),
        ),
        ovh_failover.EdgeNodeArgs(
            name="edge-2", advskew=50, public_interface="eth0", private_interface="eth2", private_address="10.25.0.12",
            ssh=ovh_failover.SshConnectionArgs(host="198.51.100.42"),
            move=ovh_failover.MoveTargetArgs(cloud=ovh_failover.CloudMoveTargetArgs(project="0123456789abcdef0123456789abcdef", instance="edge-2")),
        ),
    ],
    health=ovh_failover.HealthCheckArgs(ping_target="192.0.2.53", interval_seconds=15),
    ovh_credentials=ovh_failover.OvhCredentialsForNodesArgs(
        endpoint="ovh-eu", application_key="ak", application_secret=pulumi.Output.secret("as"), consumer_key=pulumi.Output.secret("ck"),
    ),
)
pulumi.export("accessRules", edge.access_rules)
`;

const TS_EDGE_MAIN = `import * as pulumi from "@pulumi/pulumi";
import { CarpPair } from ${lib("edge/carpPair")};
import { ipmoveBundle } from ${lib("edge/ipmoveBundle")};
new CarpPair("edge", {
    flavour: "keepalived",
    failoverIp: "203.0.113.231",
    group: { vhid: 7, address: "10.25.0.10", prefixLength: 16, carpdev: "eth2" },
    password: pulumi.secret("carp-pw"),
    nodes: [
        { name: "edge-1", advskew: 1, publicInterface: "eth0", privateInterface: "eth2", privateAddress: "10.25.0.11", ssh: { host: "198.51.100.41" }, move: { kind: "dedicated", serviceName: "ns1.ip-198-51-100.eu" } },
        { name: "edge-2", advskew: 50, publicInterface: "eth0", privateInterface: "eth2", privateAddress: "10.25.0.12", ssh: { host: "198.51.100.42" }, move: { kind: "cloud", project: "0123456789abcdef0123456789abcdef", instance: "edge-2" } },
    ],
    health: { pingTarget: "192.0.2.53", intervalSeconds: 15 },
    ovhCredentials: pulumi.secret({ endpoint: "ovh-eu", applicationKey: "ak", applicationSecret: "as", consumerKey: "ck" }),
    ipmove: ipmoveBundle(),
});
`;

const HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMl7ZAtKZt9Ij7jq387j6PueCz+uHHISJPDZE3dAKT3u";

const BLOCK_MAIN = `import pulumi
import pulumi_ovh_failover as ovh_failover

block = ovh_failover.IpBlock(
    "web-block",
    block="203.0.113.8/29",
    route_to=ovh_failover.IpBlockRoutingArgs(dedicated_server="ns1.ip-198-51-100.eu"),
    check=ovh_failover.MoveCheckOptionsArgs(subject="ipBlocks.web", needs_virtual_macs=True, mac_limit=32),
)
pulumi.export("block", block.block)
`;

const TS_BLOCK_MAIN = `import { IpBlock } from ${lib("network/ipBlock")};
const block = new IpBlock("web-block", {
    block: "203.0.113.8/29",
    routeTo: { dedicatedServer: "ns1.ip-198-51-100.eu" },
    check: { subject: "ipBlocks.web", needsVirtualMacs: true, macLimit: 32 },
});
export const cidr = block.block;
`;

const CLOUD_MAIN = `import pulumi
import pulumi_ovh_failover as ovh_failover

app = ovh_failover.CloudEndpoint(
    "app",
    ip="203.0.113.40",
    project="0123456789abcdef0123456789abcdef",
    instance_id="6c2e9e38-4ad5-4a2b-9d51-2f0e1e2b3c4d",
    ssh=ovh_failover.InstanceSshArgs(host="198.51.100.50", user="debian", host_key="${HOST_KEY}", private_key=pulumi.Output.secret("not a key")),
    flavour=ovh_failover.AliasFlavour.DEBIAN,
    zones=[ovh_failover.ZoneNamesArgs(zone="example.org", a=["app"])],
)
pulumi.export("ip", app.ip)
`;

const TS_CLOUD_MAIN = `import * as pulumi from "@pulumi/pulumi";
import { CloudEndpoint } from ${lib("cloudEndpoint")};
new CloudEndpoint("app", {
    ip: "203.0.113.40",
    project: "0123456789abcdef0123456789abcdef",
    instanceId: "6c2e9e38-4ad5-4a2b-9d51-2f0e1e2b3c4d",
    ssh: { host: "198.51.100.50", user: "debian", hostKey: "${HOST_KEY}", privateKey: pulumi.secret("not a key") },
    flavour: "debian",
    zones: [{ zone: "example.org", a: ["app"] }],
});
`;

/** A Python project whose program is `main`, with the plugin package added (`pulumi package add`). */
function pythonProject(project: string, main: string): string {
    const { venv, plugin } = venvAndPlugin();
    const dir = ws.project({
        "Pulumi.yaml": `name: ${project}\nruntime:\n  name: python\n  options:\n    virtualenv: ${venv}\n`,
        "requirements.txt": `pulumi==${PULUMI_PY}\n`,
        "__main__.py": main,
    });
    const add = spawnSync(ws.pulumiPath, ["package", "add", plugin], { cwd: dir, env: { ...process.env, ...ws.env }, encoding: "utf8" });
    expect(add.status, add.stderr).toBe(0);
    return dir;
}

const MISSING_OVH = /no resource plugin 'pulumi-resource-ovh' found in the workspace at version v2\.19\.1/;

/**
 * The preview of the Python program `main` in a project of its own, stopped by a missing plugin
 * (`missing`, its error): the children it registered, each of them one the TypeScript program
 * `tsMain` declares with the library, under the same URN at every depth.
 */
async function previewedChildren(project: string, main: string, tsMain: string, missing: RegExp): Promise<{ dir: string; children: string[] }> {
    const dir = pythonProject(project, main);
    const stack = await ws.stack(dir, "dev");
    const { urns, errors } = await pythonPreview(stack);
    console.log(urns.join("\n"));
    expect(errors).toMatch(missing);
    const children = urns.filter((u) => u !== `urn:pulumi:dev::${project}::pulumi:pulumi:Stack::${project}-dev`);
    const ts = await typescriptUrns(project, tsMain);
    for (const urn of children) expect(ts).toContain(urn);
    expect(ws.guard.attempts).toEqual([]);
    return { dir, children };
}

let ws: EngineWorkspace;
beforeAll(async () => {
    ws = await engineWorkspace({ PIP_NO_INDEX: "1", PIP_NO_BUILD_ISOLATION: "0" });
});
afterAll(async () => {
    await ws?.close();
});

describe("a Python program on the plugin package", () => {
    it("adds the package, declares a PublicEndpoint, and previews the children the library declares up to the missing ovh plugin", async () => {
        const { venv, plugin } = venvAndPlugin();
        // ws.project links the repository's node_modules into the folder: the dynamic provider's
        // launcher (pulumi-resource-pulumi-nodejs) resolves @pulumi/pulumi from the project's folder.
        const dir = ws.project({
            "Pulumi.yaml": `name: pyendpoint\nruntime:\n  name: python\n  options:\n    virtualenv: ${venv}\n`,
            "requirements.txt": `pulumi==${PULUMI_PY}\n`,
            "__main__.py": MAIN,
        });
        const add = spawnSync(ws.pulumiPath, ["package", "add", plugin], { cwd: dir, env: { ...process.env, ...ws.env }, encoding: "utf8" });
        console.log(add.stdout, add.stderr);
        expect(add.status).toBe(0);
        expect(add.stderr).toContain("Added package ovh-failover");
        expect(fs.existsSync(path.join(dir, "sdks/ovh-failover/pulumi_ovh_failover/public_endpoint.py"))).toBe(true);
        expect(fs.readFileSync(path.join(dir, "requirements.txt"), "utf8")).toContain("./sdks/ovh-failover\n");
        expect(fs.readFileSync(path.join(dir, "Pulumi.yaml"), "utf8")).toContain(`ovh-failover: ${plugin}`);
        const installed = execFileSync(path.join(venv, "bin", "python"), ["-c", "import pulumi_ovh_failover as m; print(m.PublicEndpoint.__name__)"], { encoding: "utf8" });
        expect(installed.trim()).toBe("PublicEndpoint");

        const stack = await ws.stack(dir, "dev");
        const { urns, errors } = await pythonPreview(stack);
        console.log(urns.join("\n"));
        // The ovh plugin is the first one missing, for the IP's routing (ovh:Ip/move:Move).
        expect(errors).toMatch(/no resource plugin 'pulumi-resource-ovh' found in the workspace at version v2\.19\.1/);

        const stackUrn = "urn:pulumi:dev::pyendpoint::pulumi:pulumi:Stack::pyendpoint-dev";
        const children = urns.filter((u) => u !== stackUrn);
        // The component registered by the provider's Construct, with the library's token, and its
        // children declared before the missing plugin stopped the run.
        expect(children).toContain("urn:pulumi:dev::pyendpoint::ovh-failover:endpoint:PublicEndpoint::web");
        expect(children).toContain("urn:pulumi:dev::pyendpoint::ovh-failover:endpoint:PublicEndpoint$ovh-failover:network:FailoverIp::web-ip");
        expect(children.length).toBeGreaterThanOrEqual(3);
        // Each is one a TypeScript program declares with the library for the same args, under the
        // same URN at every depth; the package's component adds the provider that carries the
        // OVH settings to its virtual MAC.
        const ts = await typescriptUrns("pyendpoint", TS_MAIN);
        const providerUrn = "urn:pulumi:dev::pyendpoint::ovh-failover:endpoint:PublicEndpoint$pulumi:providers:pulumi-nodejs::web-ovh-api";
        for (const urn of children) expect([...ts, providerUrn]).toContain(urn);
        expect(ws.guard.attempts).toEqual([]);
    });

    it("declares a CarpPair: the pair and its IP register under the library's URNs, up to the missing command plugin", async () => {
        // The first child that needs a provider is the bundle's copy to edge-1 (command:remote:CopyToRemote).
        // The pair's IP registers alongside the first copy that stops the run: it may not get there first.
        const { dir, children } = await previewedChildren("pyedge", EDGE_MAIN, TS_EDGE_MAIN, /no resource plugin 'pulumi-resource-command' found in the workspace at version v1\.2\.1/);
        expect(fs.existsSync(path.join(dir, "sdks/ovh-failover/pulumi_ovh_failover/carp_pair.py"))).toBe(true);
        expect(children).toContain("urn:pulumi:dev::pyedge::ovh-failover:edge:CarpPair::edge");
    });

    it("declares an IpBlock: the block, its provider and its check register under the library's URNs, up to the missing ovh plugin", async () => {
        // The routing (ovh:Ip/move:Move) waits for the check, then needs the ovh plugin.
        const { dir, children } = await previewedChildren("pyblock", BLOCK_MAIN, TS_BLOCK_MAIN, MISSING_OVH);
        expect(fs.existsSync(path.join(dir, "sdks/ovh-failover/pulumi_ovh_failover/ip_block.py"))).toBe(true);
        expect(children).toContain("urn:pulumi:dev::pyblock::ovh-failover:network:IpBlock::web-block");
        // The block's own provider (the stack's ovh: config) and the check that runs under it.
        expect(children).toContain("urn:pulumi:dev::pyblock::ovh-failover:network:IpBlock$pulumi:providers:pulumi-nodejs::web-block-ovh-api");
        expect(children).toContain("urn:pulumi:dev::pyblock::ovh-failover:network:IpBlock$pulumi-nodejs:dynamic/ovh-failover:MoveCheck::web-block-move-check");
    });

    it("declares a CloudEndpoint: the endpoint and its IP register under the library's URNs, up to the missing ovh plugin", async () => {
        // The attach to the instance (ovh:CloudProject/failoverIpAttach) is the first child that needs a plugin.
        const { dir, children } = await previewedChildren("pycloud", CLOUD_MAIN, TS_CLOUD_MAIN, MISSING_OVH);
        expect(fs.existsSync(path.join(dir, "sdks/ovh-failover/pulumi_ovh_failover/cloud_endpoint.py"))).toBe(true);
        expect(children).toContain("urn:pulumi:dev::pycloud::ovh-failover:endpoint:CloudEndpoint::app");
        expect(children).toContain("urn:pulumi:dev::pycloud::ovh-failover:endpoint:CloudEndpoint$ovh-failover:network:FailoverIp::app-ip");
    });
});
