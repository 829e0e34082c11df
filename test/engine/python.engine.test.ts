// A Python program on the plugin package (plugin/), through the real CLI and our language hosts:
// `pulumi package add` generates and installs the Python SDK, the program declares a
// PublicEndpoint, and `pulumi preview` runs the component provider's Construct. The ovh provider
// plugin cannot be had here (engine/build.ts), so the preview stops at the first child that needs
// it; what was registered before is held against what the TypeScript library registers for the
// same args.
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { EngineEvent } from "@pulumi/pulumi/automation";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { engineWorkspace, EngineWorkspace, REPO } from "../support/engine";

const PULUMI_PY = "3.248.0";

/**
 * A virtualenv with the PyPI `pulumi` (and wheel, to build the SDK without build isolation),
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
    execFileSync(path.join(venv, "bin", "python"), ["-m", "pip", "install", "-q", `pulumi==${PULUMI_PY}`, "wheel"], { stdio: "inherit" });
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

/** The URNs the TypeScript library registers for the same args, under mocks (project pyendpoint, stack dev). */
async function typescriptUrns(): Promise<string[]> {
    const urns: string[] = [];
    pulumi.runtime.setMocks({
        newResource: (a) => ({ id: `${a.name}-id`, state: a.type.endsWith("VirtualMac") ? { ...a.inputs, macAddress: "02:00:00:00:00:01" } : a.inputs }),
        call: () => ({}),
    }, "pyendpoint", "dev", true);
    const { PublicEndpoint } = await import("../../components/publicEndpoint");
    const ep = new PublicEndpoint("web", {
        ip: "198.51.100.7",
        server: { serviceName: "ns1.example.net", mainIp: "198.51.100.1", gatewayFromApi: false },
        container: { proxmox: { host: "pve.example.net" }, vmid: 101, nic: 1, interfaceName: "eth1", bridge: "vmbr0" },
        zones: [{ zone: "example.org", a: ["www"], cname: ["app"] }],
        virtualMac: { type: "ovh" },
    });
    const all: pulumi.Resource[] = [ep, ep.failoverIp, ep.virtualMac, ep.nic, ep.probe, ep.records];
    if (ep.failoverIp.routing) all.push(ep.failoverIp.routing);
    for (const r of all) urns.push(await new Promise<string>((resolve) => r.urn.apply(resolve)));
    return urns;
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
        const venv = pythonVenv();
        // ws.project links the repository's node_modules into the folder: the dynamic provider's
        // launcher (pulumi-resource-pulumi-nodejs) resolves @pulumi/pulumi from the project's folder.
        const dir = ws.project({
            "Pulumi.yaml": `name: pyendpoint\nruntime:\n  name: python\n  options:\n    virtualenv: ${venv}\n`,
            "requirements.txt": `pulumi==${PULUMI_PY}\n`,
            "__main__.py": MAIN,
        });
        const add = spawnSync(path.join(ws.engine.binDir, "pulumi"), ["package", "add", path.join(REPO, "plugin")], { cwd: dir, env: { ...process.env, ...ws.env }, encoding: "utf8" });
        console.log(add.stdout, add.stderr);
        expect(add.status).toBe(0);
        expect(add.stderr).toContain("Added package ovh-failover");
        expect(fs.existsSync(path.join(dir, "sdks/ovh-failover/pulumi_ovh_failover/public_endpoint.py"))).toBe(true);
        expect(fs.readFileSync(path.join(dir, "requirements.txt"), "utf8")).toContain("./sdks/ovh-failover\n");
        expect(fs.readFileSync(path.join(dir, "Pulumi.yaml"), "utf8")).toContain(`ovh-failover: ${path.join(REPO, "plugin")}`);
        const installed = execFileSync(path.join(venv, "bin", "python"), ["-c", "import pulumi_ovh_failover as m; print(m.PublicEndpoint.__name__)"], { encoding: "utf8" });
        expect(installed.trim()).toBe("PublicEndpoint");

        const stack = await ws.stack(dir, "dev");
        const created: { urn: string; type: string }[] = [];
        const errors: string[] = [];
        let failure = "";
        try {
            await stack.preview({
                onEvent: (e: EngineEvent) => {
                    const m = e.resourcePreEvent?.metadata;
                    if (m && !(m.type.startsWith("pulumi:providers:") && m.urn.split("::").pop()?.startsWith("default"))) created.push({ urn: m.urn, type: m.type });
                    if (e.diagnosticEvent?.severity === "error") errors.push(e.diagnosticEvent.message);
                },
            });
        } catch (err) {
            failure = String(err);
        }
        console.log(created.map((c) => c.urn).join("\n"));
        console.log(errors.join("\n"));
        expect(failure).not.toBe("");
        // The ovh plugin is the first one missing, for the IP's routing (ovh:Ip/move:Move).
        expect(errors.join("\n")).toMatch(/no resource plugin 'pulumi-resource-ovh' found in the workspace at version v2\.19\.1/);

        const stackUrn = "urn:pulumi:dev::pyendpoint::pulumi:pulumi:Stack::pyendpoint-dev";
        const children = created.map((c) => c.urn).filter((u) => u !== stackUrn);
        // The component registered by the provider's Construct, with the library's token, and its
        // children declared before the missing plugin stopped the run.
        expect(children).toContain("urn:pulumi:dev::pyendpoint::ovh-failover:endpoint:PublicEndpoint::web");
        expect(children).toContain("urn:pulumi:dev::pyendpoint::ovh-failover:endpoint:PublicEndpoint$ovh-failover:network:FailoverIp::web-ip");
        expect(children.length).toBeGreaterThanOrEqual(3);
        // Each is one the TypeScript library declares for the same args, under the same URN.
        const ts = await typescriptUrns();
        const providerUrn = "urn:pulumi:dev::pyendpoint::ovh-failover:endpoint:PublicEndpoint$pulumi:providers:pulumi-nodejs::web-ovh-api";
        for (const urn of children) expect([...ts, providerUrn]).toContain(urn);
        expect(ws.guard.attempts).toEqual([]);
    });
});
