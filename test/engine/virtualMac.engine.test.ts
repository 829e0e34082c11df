// The VirtualMac dynamic provider run by the real engine against the HTTPS OVH stand-in: the
// preview's steps held against the offline plan's, then up and destroy as a user runs them,
// asserting on the stand-in's request log and on the exported state.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { plan } from "../../bin/plan";
import { Stack } from "@pulumi/pulumi/automation";
import { engineWorkspace, EngineWorkspace, previewSteps, REPO } from "../support/engine";
import { PlanJson } from "../support/planJson";
import { OvhStandIn, startOvhStandIn } from "../support/ovhStandIn";

const SERVER = "ns3012345.ip-198-51-100.eu";
const IP = "203.0.113.10";

const PROGRAM = `import * as pulumi from "@pulumi/pulumi";
import { VirtualMac } from ${JSON.stringify(path.join(REPO, "components/network/virtualMac"))};

const config = new pulumi.Config();
const vmac = new VirtualMac("proxy-vmac", {
    serviceName: config.require("serviceName"),
    ipAddress: config.require("ip"),
    timing: { pollIntervalMs: 50, retryBaseDelayMs: 10 },
});
export const macAddress = vmac.macAddress;
`;

const PROJECT = `name: vmac
runtime:
  name: nodejs
  options:
    typescript: false
    nodeargs: "--import tsx"
main: index.ts
`;


let ws: EngineWorkspace;
let standIn: OvhStandIn;
let dir: string;
let stack: Stack;
let caDir: string | undefined;

beforeAll(async () => {
    standIn = await startOvhStandIn();
    standIn.addServer(SERVER, { mainIp: "198.51.100.10" });
    caDir = fs.mkdtempSync(path.join(os.tmpdir(), "ovh-failover-ca-"));
    const ca = path.join(caDir, "ca.pem");
    fs.writeFileSync(ca, standIn.caPem);
    // The dynamic provider runs in a process the engine starts: it takes the endpoint and the
    // credentials from the environment, as the OVH provider does, and trusts the stand-in's CA.
    ws = await engineWorkspace({
        OVH_ENDPOINT: standIn.url,
        OVH_APPLICATION_KEY: standIn.applicationKey,
        OVH_APPLICATION_SECRET: standIn.applicationSecret,
        OVH_CONSUMER_KEY: standIn.consumerKey,
        NODE_EXTRA_CA_CERTS: ca,
    });
    dir = ws.project({ "Pulumi.yaml": PROJECT, "index.ts": PROGRAM });
    stack = await ws.stack(dir, "dev");
    await stack.setAllConfig({ serviceName: { value: SERVER }, ip: { value: IP } });
});
afterAll(async () => {
    await ws?.close();
    await standIn?.close();
    if (caDir) fs.rmSync(caDir, { recursive: true, force: true });
});

describe("a virtual MAC through the real engine", () => {
    it("preview: the offline plan's --json has the engine's steps, URNs, types, inputs and counts", async () => {
        const { steps: real, changeSummary: summary } = await previewSteps(stack);
        expect(real.map((s) => s.type)).toEqual(["pulumi:pulumi:Stack", "pulumi-nodejs:dynamic/ovh-failover:VirtualMac"]);
        const offline = await plan(dir, { stack: "dev", sets: [], json: true, showSame: false }, false);
        expect(offline.exitCode).toBe(0);
        const planned = JSON.parse(offline.output) as PlanJson;

        const shape = (s: { op: string; urn: string }) => `${s.op} ${s.urn}`;
        expect(planned.steps.map(shape)).toEqual(real.map(shape));
        expect(planned.steps.map((s) => s.newState?.type)).toEqual(real.map((s) => s.type));
        // Every input the plan knows is what the engine sends; the serialized provider aside.
        const known = (inputs: Record<string, unknown> = {}) => Object.fromEntries(Object.entries(inputs).filter(([k]) => k !== "__provider"));
        expect(planned.steps.map((s) => known(s.newState?.inputs))).toEqual(real.map((s) => known(s.inputs)));
        expect(planned.changeSummary).toEqual(summary);
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
        const again = await previewSteps(stack);
        expect(again.steps.map((s) => s.op)).toEqual(["same", "same"]);
        expect(again.changeSummary).toEqual({ same: 2 });

        const state = JSON.stringify(await stack.exportStack());
        for (const secret of [standIn.applicationSecret, standIn.consumerKey]) expect(state).not.toContain(secret);

        const beforeDestroy = standIn.requests.length;
        await stack.destroy();
        const destroyed = standIn.requests.slice(beforeDestroy).map((r) => `${r.method} ${r.route}`);
        expect(destroyed).toContain("DELETE /dedicated/server/{serviceName}/virtualMac/{macAddress}/virtualAddress/{ipAddress}");
        expect(Object.values(standIn.virtualMacs(SERVER)).every((m) => m.addresses[IP] === undefined)).toBe(true);
        expect(ws.guard.attempts).toEqual([]);
    });
});
