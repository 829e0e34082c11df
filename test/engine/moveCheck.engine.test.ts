// The MoveCheck dynamic provider run by the real engine against the HTTPS OVH stand-in: its
// preview held against the offline plan's, then `up` with a refused check, which must leave the
// block where it is (no POST /ip/{ip}/move reaches OVH), then `up` with a check that passes; then
// a quiet no-op `up`, and a block moved by hand that is checked again once a refresh has seen it.
import * as fs from "fs";
import * as https from "https";
import * as os from "os";
import * as path from "path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { plan } from "../../bin/plan";
import { moveFailoverIp } from "../../components/network/ipMove";
import { OvhApi, ovhClientOptions } from "../../components/network/ovhApiClient";
import { Stack } from "@pulumi/pulumi/automation";
import { EngineNetwork, engineNetwork, engineWorkspace, EngineWorkspace, previewSteps, REPO, tsProjectFile } from "../support/engine";
import { expectSamePreview } from "../support/previewCompare";
import { normalizePreview } from "../support/recording";
import { OvhStandIn, startOvhStandIn } from "../support/ovhStandIn";

const FROM = "ns3012345.ip-198-51-100.eu";
const NO_VMAC = "ns3012346.ip-198-51-100.eu";
const OTHER = "ns3012347.ip-198-51-100.eu";
const BLOCK = "203.0.113.8/29";
const MOVE_ROUTE = "/ip/{ip}/move";

/**
 * The program: the check, and (withMover) what moves the block once it has passed, waiting for
 * it as the library's ovh.ip.Move does (dependsOn). The engine tier has no ovh plugin, so the
 * move is the project's own ovh-ipmove code (POST /ip/{ip}/move and its task) in a dynamic resource.
 */
function program(withMover: boolean): string {
    const lib = (f: string) => JSON.stringify(path.join(REPO, "components/network", f));
    return `import * as pulumi from "@pulumi/pulumi";
import { OvhApiProvider } from ${lib("ovhApiProvider")};
import { MoveCheck } from ${lib("moveCheck")};
${withMover ? `import { OvhApi } from ${lib("ovhApiClient")};
import { moveFailoverIp } from ${lib("ipMove")};` : ""}

const config = new pulumi.Config();
const block = config.require("block");
const to = config.require("to");
const check = new MoveCheck("web-block-move-check", {
    block,
    to: { dedicatedServer: to },
    needsVirtualMacs: true,
    subject: "ipBlocks.web",
    retry: { attempts: 2, baseDelayMs: 10 },
}, { provider: new OvhApiProvider("ovh-api") });
export const routedTo = check.routedTo;
${withMover ? `
const mover: pulumi.dynamic.ResourceProvider = {
    async create(inputs: { block: string; to: string }) {
        const r = await moveFailoverIp(new OvhApi(), { kind: "dedicated", serviceName: inputs.to }, inputs.block, { timeoutMs: 60000, pollIntervalMs: 50, log: () => undefined });
        return { id: inputs.block, outs: { ...inputs, moved: r.moved } };
    },
    async diff(_id: string, olds: { to: string }, news: { to: string }) {
        return { changes: olds.to !== news.to, replaces: olds.to !== news.to ? ["to"] : [] };
    },
};
new pulumi.dynamic.Resource(mover, "web-block-routing", { block, to }, { dependsOn: [check] });` : ""}
`;
}

const PROJECT = tsProjectFile("movecheck");

let standIn: OvhStandIn;
let caDir: string;
let ca: string;
let network: EngineNetwork;
let ws: EngineWorkspace;

beforeAll(async () => {
    network = engineNetwork();
    standIn = await startOvhStandIn({ listen: { host: network.hostAddress, port: 0 } });
    standIn.addServer(FROM, { mainIp: "198.51.100.10" });
    standIn.addServer(NO_VMAC, { mainIp: "198.51.100.11", vmacSupported: false });
    standIn.addServer(OTHER, { mainIp: "198.51.100.12" });
    standIn.addIp(BLOCK, { routedTo: FROM });
    caDir = fs.mkdtempSync(path.join(os.tmpdir(), "ovh-failover-ca-"));
    ca = path.join(caDir, "ca.pem");
    fs.writeFileSync(ca, standIn.caPem);
    // The mover reads the environment (ovh-ipmove's way); the check reads the stack's ovh: config.
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
    await standIn?.close();
    network?.close();
    if (caDir) fs.rmSync(caDir, { recursive: true, force: true });
});

async function stackOf(name: string, withMover: boolean, to: string): Promise<{ dir: string; stack: Stack }> {
    const dir = ws.project({ "Pulumi.yaml": PROJECT, "index.ts": program(withMover) });
    const stack = await ws.stack(dir, name);
    await stack.setAllConfig({
        block: { value: BLOCK },
        to: { value: to },
        "ovh:endpoint": { value: standIn.url },
        "ovh:applicationKey": { value: standIn.applicationKey, secret: true },
        "ovh:applicationSecret": { value: standIn.applicationSecret, secret: true },
        "ovh:consumerKey": { value: standIn.consumerKey, secret: true },
    });
    return { dir, stack };
}

describe("the checks before a block moves, through the real engine", () => {
    it("preview: the offline plan's --json is the CLI's pulumi preview --json, field for field, and nothing is read at OVH", async () => {
        const { dir, stack } = await stackOf("preview", false, OTHER);
        const before = standIn.requests.length;
        const { digest, steps: real } = await previewSteps(ws, stack);
        expect(real.map((s) => s.type)).toEqual(["pulumi:pulumi:Stack", "pulumi:providers:pulumi-nodejs", "pulumi-nodejs:dynamic/ovh-failover:MoveCheck"]);
        // A preview only diffs: the check runs at up.
        expect(standIn.requests.slice(before).filter((r) => !r.route?.startsWith("/auth/"))).toEqual([]);
        const offline = await plan(dir, { stack: "preview", sets: [], json: true, showSame: false }, false);
        expect(offline.exitCode, offline.message).toBe(0);
        const folders = { project: dir, repo: REPO };
        expectSamePreview(normalizePreview(JSON.parse(offline.output), folders), normalizePreview(digest, folders));
        expect(ws.guard.attempts).toEqual([]);
    });

    it("up with a refused check fails naming the key and the reason, and the block stays where it was", async () => {
        const { stack } = await stackOf("refused", true, NO_VMAC);
        const before = standIn.requests.length;
        let failure = "";
        await stack.up().catch((err: unknown) => {
            failure = String(err);
        });
        expect(failure).toContain(`ipBlocks.web: ${BLOCK} is not routed to ${NO_VMAC}, refused before anything moves`);
        expect(failure).toContain("vmac.supported is false");
        const sent = standIn.requests.slice(before);
        expect(sent.filter((r) => r.route === MOVE_ROUTE)).toEqual([]);
        expect(sent.filter((r) => r.method !== "GET")).toEqual([]);
        expect(standIn.ipRoutedTo(BLOCK)).toBe(FROM);
        expect(standIn.violations).toEqual([]);

        // Pointed at a server that takes the block, the same stack checks again and moves it.
        await stack.setConfig("to", { value: OTHER });
        const again = standIn.requests.length;
        const up = await stack.up();
        expect(up.outputs.routedTo.value).toBe(FROM);
        const moves = standIn.requests.slice(again).filter((r) => r.route === MOVE_ROUTE && r.method === "POST");
        expect(moves.map((r) => r.body)).toEqual([{ to: OTHER }]);
        // The check's reads came before the move.
        const order = standIn.requests.slice(again).map((r) => r.route);
        expect(order.indexOf("/dedicated/server/{serviceName}/ipCanBeMovedTo")).toBeGreaterThanOrEqual(0);
        expect(order.indexOf("/dedicated/server/{serviceName}/ipCanBeMovedTo")).toBeLessThan(order.indexOf(MOVE_ROUTE));
        expect(standIn.ipRoutedTo(BLOCK)).toBe(OTHER);
        expect(standIn.violations).toEqual([]);
        expect(ws.guard.attempts).toEqual([]);
    });

    it("a no-op up checks nothing again; a block moved by hand is seen by a refresh, and the next up checks again before anything moves", async () => {
        const { stack } = await stackOf("drift", true, FROM);
        await stack.up();
        expect(standIn.ipRoutedTo(BLOCK)).toBe(FROM);
        const checks = (from: number) => standIn.requests.slice(from).filter((r) => r.route === "/dedicated/server/{serviceName}/ipCanBeMovedTo").length;

        const quietFrom = standIn.requests.length;
        const quiet = await stack.up();
        expect(quiet.summary.resourceChanges).toEqual({ same: 4 });
        expect(checks(quietFrom)).toBe(0);

        // Moved by hand, as in OVH's control panel: the API's own move and its task.
        const savedCa = https.globalAgent.options.ca;
        https.globalAgent.options.ca = standIn.caPem;
        try {
            const api = new OvhApi(ovhClientOptions({ endpoint: standIn.url, applicationKey: standIn.applicationKey, applicationSecret: standIn.applicationSecret, consumerKey: standIn.consumerKey }, {}));
            await moveFailoverIp(api, { kind: "dedicated", serviceName: OTHER }, BLOCK, { timeoutMs: 60_000, pollIntervalMs: 50, log: () => undefined });
        } finally {
            https.globalAgent.options.ca = savedCa;
        }
        expect(standIn.ipRoutedTo(BLOCK)).toBe(OTHER);

        // Without a refresh the state still says FROM: nothing to check.
        expect((await previewSteps(ws, stack)).changeSummary).toEqual({ same: 4 });
        const refreshed = await stack.refresh();
        expect(refreshed.summary.resourceChanges).toMatchObject({ update: 1 });
        expect((await previewSteps(ws, stack)).changeSummary).toEqual({ same: 3, update: 1 });
        const againFrom = standIn.requests.length;
        const up = await stack.up();
        expect(up.summary.resourceChanges).toEqual({ same: 3, update: 1 });
        expect(up.outputs.routedTo.value).toBe(OTHER);
        expect(checks(againFrom)).toBe(1);
        expect(standIn.requests.slice(againFrom).filter((r) => r.method !== "GET")).toEqual([]);
        // Checked: quiet again.
        expect((await previewSteps(ws, stack)).changeSummary).toEqual({ same: 4 });
        expect(standIn.violations).toEqual([]);
        expect(ws.guard.attempts).toEqual([]);
    });
});
