// The VirtualMac dynamic provider run by the real engine against the HTTPS OVH stand-in: the
// preview's steps held against the offline plan's, then up and destroy as a user runs them,
// asserting on the stand-in's request log and on the exported state.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { plan } from "../../bin/plan";
import { Stack } from "@pulumi/pulumi/automation";
import { EngineNetwork, engineNetwork, engineWorkspace, EngineWorkspace, previewSteps, REPO, tsProjectFile } from "../support/engine";
import { expectSamePreview } from "../support/previewCompare";
import { normalizePreview } from "../support/recording";
import { OvhStandIn, startOvhStandIn } from "../support/ovhStandIn";

const SERVER = "ns3012345.ip-198-51-100.eu";
const IP = "203.0.113.10";

/** The program: a virtual MAC, under the provider that carries the stack's ovh: config, or not. */
function program(withProvider: boolean): string {
    const lib = (f: string) => JSON.stringify(path.join(REPO, "components/network", f));
    return `import * as pulumi from "@pulumi/pulumi";
import { OvhApiProvider } from ${lib("ovhApiProvider")};
import { VirtualMac } from ${lib("virtualMac")};

const config = new pulumi.Config();
const vmac = new VirtualMac("proxy-vmac", {
    serviceName: config.require("serviceName"),
    ipAddress: config.require("ip"),
    timing: { pollIntervalMs: 50, retryBaseDelayMs: 10, ...(config.getNumber("taskTimeoutMs") === undefined ? {} : { taskTimeoutMs: config.getNumber("taskTimeoutMs") }) },
}${withProvider ? ", { provider: new OvhApiProvider(\"ovh-api\") }" : ""});
export const macAddress = vmac.macAddress;
`;
}

const PROJECT = tsProjectFile("vmac");

let standIn: OvhStandIn;
let caDir: string;
let ca: string;
// Both workspaces run the CLI in one network namespace, whose only way out is to the stand-in.
let network: EngineNetwork;

beforeAll(async () => {
    network = engineNetwork();
    standIn = await startOvhStandIn({ listen: { host: network.hostAddress, port: 0 } });
    standIn.addServer(SERVER, { mainIp: "198.51.100.10" });
    caDir = fs.mkdtempSync(path.join(os.tmpdir(), "ovh-failover-ca-"));
    ca = path.join(caDir, "ca.pem");
    fs.writeFileSync(ca, standIn.caPem);
});
afterAll(async () => {
    await standIn?.close();
    network?.close();
    if (caDir) fs.rmSync(caDir, { recursive: true, force: true });
});

describe("a virtual MAC through the real engine, with OVH's endpoint and credentials in the stack's ovh: config", () => {
    let ws: EngineWorkspace;
    let dir: string;
    let stack: Stack;

    beforeAll(async () => {
        // The environment names another endpoint and other credentials: a request that follows it
        // goes nowhere, or is refused by the stand-in, which checks every signature.
        ws = await engineWorkspace({
            OVH_ENDPOINT: "https://127.0.0.1:9/1.0",
            OVH_APPLICATION_KEY: "env-application-key",
            OVH_APPLICATION_SECRET: "env-application-secret",
            OVH_CONSUMER_KEY: "env-consumer-key",
            NODE_EXTRA_CA_CERTS: ca,
        }, { network });
        dir = ws.project({ "Pulumi.yaml": PROJECT, "index.ts": program(true) });
        stack = await ws.stack(dir, "dev");
        await stack.setAllConfig({
            serviceName: { value: SERVER },
            ip: { value: IP },
            "ovh:endpoint": { value: standIn.url },
            "ovh:applicationKey": { value: standIn.applicationKey, secret: true },
            "ovh:applicationSecret": { value: standIn.applicationSecret, secret: true },
            "ovh:consumerKey": { value: standIn.consumerKey, secret: true },
        });
    });
    afterAll(async () => {
        await ws?.close();
    });

    it("preview: the offline plan's --json is the CLI's pulumi preview --json, field for field", async () => {
        const { digest, steps: real } = await previewSteps(ws, stack);
        expect(real.map((s) => s.type)).toEqual(["pulumi:pulumi:Stack", "pulumi:providers:pulumi-nodejs", "pulumi-nodejs:dynamic/ovh-failover:VirtualMac"]);
        const offline = await plan(dir, { stack: "dev", sets: [], json: true, showSame: false }, false);
        expect(offline.exitCode, offline.message).toBe(0);
        const folders = { project: dir, repo: REPO };
        expectSamePreview(normalizePreview(JSON.parse(offline.output), folders), normalizePreview(digest, folders));
        expect(ws.guard.attempts).toEqual([]);
    });

    it("up creates the MAC at OVH; destroy takes the IP off it; no credential is in the state", async () => {
        const before = standIn.requests.length;
        const up = await stack.up();
        const created = standIn.requests.slice(before).map((r) => `${r.method} ${r.route}`);
        expect(created).toContain("POST /dedicated/server/{serviceName}/virtualMac");
        const macs = standIn.virtualMacs(SERVER);
        const [mac] = Object.keys(macs);
        expect(macs[mac].addresses[IP]).toBeDefined();
        expect(up.outputs.macAddress.value).toBe(mac.toLowerCase());

        // A second preview finds nothing to do.
        const again = await previewSteps(ws, stack, "--show-sames");
        expect(again.steps.map((s) => s.op)).toEqual(["same", "same", "same"]);
        expect(again.changeSummary).toEqual({ same: 3 });

        // The credentials are in the state as the provider's config, encrypted: no file of the
        // backend (the state, its backups, its history) holds one in clear.
        const files = ws.backendFiles();
        expect(files.some((f) => f.file.endsWith(path.join("stacks", "vmac", "dev.json")))).toBe(true);
        for (const secret of [standIn.applicationKey, standIn.applicationSecret, standIn.consumerKey]) {
            expect(files.filter((f) => f.text.includes(secret)).map((f) => f.file)).toEqual([]);
        }
        expect(files.some((f) => f.text.includes(standIn.url))).toBe(true);

        const beforeDestroy = standIn.requests.length;
        await stack.destroy();
        const destroyed = standIn.requests.slice(beforeDestroy).map((r) => `${r.method} ${r.route}`);
        expect(destroyed).toContain("DELETE /dedicated/server/{serviceName}/virtualMac/{macAddress}/virtualAddress/{ipAddress}");
        expect(Object.values(standIn.virtualMacs(SERVER)).every((m) => m.addresses[IP] === undefined)).toBe(true);
        expect(ws.guard.attempts).toEqual([]);
    });
});

describe("a virtual MAC made before the provider that carries the stack's ovh: config", () => {
    let ws: EngineWorkspace;

    beforeAll(async () => {
        ws = await engineWorkspace({
            OVH_ENDPOINT: standIn.url,
            OVH_APPLICATION_KEY: standIn.applicationKey,
            OVH_APPLICATION_SECRET: standIn.applicationSecret,
            OVH_CONSUMER_KEY: standIn.consumerKey,
            NODE_EXTRA_CA_CERTS: ca,
        }, { network });
    });
    afterAll(async () => {
        await ws?.close();
    });

    it("a task OVH never finishes fails up with the wait's message (task, status, what to do), not an empty error", async () => {
        // A server of its own: its stuck task would hold up every later add on the same server.
        const stuckServer = "ns3012399.ip-198-51-100.eu";
        standIn.addServer(stuckServer, { mainIp: "198.51.100.99" });
        const stuckDir = ws.project({ "Pulumi.yaml": PROJECT, "index.ts": program(true) });
        const stuck = await ws.stack(stuckDir, "stuck");
        await stuck.setAllConfig({
            serviceName: { value: stuckServer },
            ip: { value: "203.0.113.12" },
            taskTimeoutMs: { value: "300" },
            "ovh:endpoint": { value: standIn.url },
            "ovh:applicationKey": { value: standIn.applicationKey, secret: true },
            "ovh:applicationSecret": { value: standIn.applicationSecret, secret: true },
            "ovh:consumerKey": { value: standIn.consumerKey, secret: true },
        });
        standIn.taskOutcome("addVirtualMac", "never");
        let failure = "";
        try {
            await stuck.up().catch((err: unknown) => {
                failure = String(err);
            });
        } finally {
            standIn.taskOutcome("addVirtualMac", "done");
        }
        expect(failure).toMatch(/OVH task \d+ \(addVirtualMac\) on ns3012399\.ip-198-51-100\.eu is still '(todo|init|doing)' after 0\.3 s/);
        expect(failure).toContain("then run pulumi up again: the operation resumes where it is");
        expect(failure).not.toContain("error: undefined");
        expect(ws.guard.attempts).toEqual([]);
    });

    it("an error answer of the OVH API fails up with the API's message (method, path, status, OVH's words), not an empty error", async () => {
        const dir = ws.project({ "Pulumi.yaml": PROJECT, "index.ts": program(true) });
        const unknown = await ws.stack(dir, "unknown");
        await unknown.setAllConfig({
            serviceName: { value: "ns3012398.ip-198-51-100.eu" },
            ip: { value: "203.0.113.13" },
            "ovh:endpoint": { value: standIn.url },
            "ovh:applicationKey": { value: standIn.applicationKey, secret: true },
            "ovh:applicationSecret": { value: standIn.applicationSecret, secret: true },
            "ovh:consumerKey": { value: standIn.consumerKey, secret: true },
        });
        let failure = "";
        await unknown.up().catch((err: unknown) => {
            failure = String(err);
        });
        expect(failure).toMatch(/OVH API GET \/dedicated\/server\/ns3012398\.ip-198-51-100\.eu\S* failed: HTTP 404/);
        expect(failure).not.toContain("error: undefined");
    });

    it("moves under it with no change at OVH: the MAC is neither replaced nor deleted", async () => {
        const dir = ws.project({ "Pulumi.yaml": PROJECT, "index.ts": program(false) });
        const stack = await ws.stack(dir, "before");
        await stack.setAllConfig({ serviceName: { value: SERVER }, ip: { value: "203.0.113.11" }, "ovh:endpoint": { value: standIn.url } });
        await stack.up();

        fs.writeFileSync(path.join(dir, "index.ts"), program(true));
        const { steps } = await previewSteps(ws, stack, "--show-sames");
        expect(steps.find((s) => s.type === "pulumi-nodejs:dynamic/ovh-failover:VirtualMac")?.op).toBe("same");
        const before = standIn.requests.length;
        await stack.up();
        const writes = standIn.requests.slice(before).filter((r) => r.method !== "GET");
        expect(writes).toEqual([]);
        await stack.destroy();
        expect(ws.guard.attempts).toEqual([]);
    });
});
