// The proof that DNS serves a change (ZoneServes) run by the real engine: the HTTPS OVH stand-in
// holds the zone's records, and each refresh it accepts deploys them to a real Knot server that
// the engine's network resolves the zone's name servers to (test/support/standInDns.ts). The
// engine tier has no ovh plugin: the test writes the records into the stand-in as the provider
// would, and the program declares the proof of what they hold, as ServiceRecords does.
import * as fs from "fs";
import * as https from "https";
import * as os from "os";
import * as path from "path";
import { Stack } from "@pulumi/pulumi/automation";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OvhApi, ovhClientOptions, route } from "../../components/network/ovhApiClient";
import { canRunKnot } from "../support/knot";
import { EngineNetwork, engineNetwork, engineWorkspace, EngineWorkspace, REPO, tsProjectFile } from "../support/engine";
import { OvhStandIn, startOvhStandIn } from "../support/ovhStandIn";
import { OVH_NAME_SERVERS, StandInDns, standInDns } from "../support/standInDns";

const ZONE = "example.org";

function program(): string {
    const lib = (f: string) => JSON.stringify(path.join(REPO, "components", f));
    return `import * as pulumi from "@pulumi/pulumi";
import { OvhApiProvider } from ${lib("network/ovhApiProvider")};
import { ZoneServes } from ${lib("dns/zoneServes")};

const config = new pulumi.Config();
const proof = new ZoneServes("web-dns-serves.${ZONE}", {
    zone: "${ZONE}",
    expected: [{ name: "www.${ZONE}.", type: "A", values: [config.require("ip")] }],
    withinSeconds: config.requireNumber("within"),
    pollSeconds: 1,
}, { provider: new OvhApiProvider("ovh-api") });
export const nameServers = proof.nameServers;
export const servers = proof.servers;
`;
}

const PROJECT = tsProjectFile("zoneserves");

let standIn: OvhStandIn;
let dns: StandInDns;
let caDir: string;
let network: EngineNetwork;
let ws: EngineWorkspace;

/**
 * The zone's www A record set to `ip` through OVH's API, as the OVH provider updates a record
 * (PUT /domain/zone/{zoneName}/record/{id}); the refresh is the proof's to ask.
 */
async function setRecord(ip: string): Promise<void> {
    const record = standIn.zoneRecords(ZONE).find((r) => r.subDomain === "www" && r.fieldType === "A")!;
    const savedCa = https.globalAgent.options.ca;
    https.globalAgent.options.ca = standIn.caPem;
    try {
        const api = new OvhApi(ovhClientOptions({ endpoint: standIn.url, applicationKey: standIn.applicationKey, applicationSecret: standIn.applicationSecret, consumerKey: standIn.consumerKey }, {}));
        await api.request("PUT", route("/domain/zone/{zoneName}/record/{id}", { zoneName: ZONE, id: String(record.id) }), { target: ip });
    } finally {
        https.globalAgent.options.ca = savedCa;
    }
}

beforeAll(async () => {
    // The zone's name servers (dns101.ovh.net, ns101.ovh.net) resolve, inside the engine's
    // network, to the address on this side of it, where the Knot server listens.
    network = engineNetwork(OVH_NAME_SERVERS);
    standIn = await startOvhStandIn({ listen: { host: network.hostAddress, port: 0 } });
    standIn.addZone(ZONE);
    standIn.addRecord(ZONE, { subDomain: "www", fieldType: "A", target: "192.0.2.1", ttl: 60 });
    dns = standInDns(network.hostAddress);
    await dns.serve(standIn);
    caDir = fs.mkdtempSync(path.join(os.tmpdir(), "ovh-failover-ca-"));
    fs.writeFileSync(path.join(caDir, "ca.pem"), standIn.caPem);
    ws = await engineWorkspace({ NODE_EXTRA_CA_CERTS: path.join(caDir, "ca.pem") }, { network });
});
afterAll(async () => {
    await ws?.close();
    await dns?.stop();
    await standIn?.close();
    network?.close();
    if (caDir) fs.rmSync(caDir, { recursive: true, force: true });
});

async function stackOf(name: string, ip: string, within: number): Promise<Stack> {
    const stack = await ws.stack(ws.project({ "Pulumi.yaml": PROJECT, "index.ts": program() }), name);
    await stack.setAllConfig({
        ip: { value: ip },
        within: { value: String(within) },
        "ovh:endpoint": { value: standIn.url },
        "ovh:applicationKey": { value: standIn.applicationKey, secret: true },
        "ovh:applicationSecret": { value: standIn.applicationSecret, secret: true },
        "ovh:consumerKey": { value: standIn.consumerKey, secret: true },
    });
    return stack;
}

async function failureOf(stack: Stack): Promise<string> {
    let failure = "";
    await stack.up().catch((err: unknown) => {
        failure = String(err);
    });
    return failure;
}

describe.skipIf(!canRunKnot())("the proof that DNS serves a change, through the real engine and a real name server", () => {
    it("up refreshes the zone and ends once its name servers answer the new address; a no-op asks nothing; a change proves again", async () => {
        await setRecord("192.0.2.10");
        const stack = await stackOf("serves", "192.0.2.10", 120);
        const up = await stack.up();
        expect(up.outputs.nameServers.value).toEqual(["dns101.ovh.net", "ns101.ovh.net"]);
        const servers = up.outputs.servers.value as { nameServer: string; address: string; matchedAt: string | null }[];
        expect(servers.map((s) => [s.nameServer, s.address])).toEqual([["dns101.ovh.net", network.hostAddress], ["ns101.ovh.net", network.hostAddress]]);
        for (const s of servers) expect(s.matchedAt).not.toBeNull();
        expect(await dns.ask(`www.${ZONE}`, "A")).toEqual(["192.0.2.10"]);
        expect(standIn.zoneRefreshes()).toEqual([ZONE]);

        const quiet = await stack.up();
        expect(quiet.summary.resourceChanges).toEqual({ same: 3 });
        expect(standIn.zoneRefreshes()).toEqual([ZONE]);

        await setRecord("192.0.2.11");
        await stack.setConfig("ip", { value: "192.0.2.11" });
        const changed = await stack.up();
        expect(changed.summary.resourceChanges).toEqual({ same: 2, update: 1 });
        expect(await dns.ask(`www.${ZONE}`, "A")).toEqual(["192.0.2.11"]);
        expect(standIn.zoneRefreshes()).toEqual([ZONE, ZONE]);
        expect(standIn.violations).toEqual([]);
        expect(ws.guard.attempts).toEqual([]);
    });

    it("a refused refresh fails up with the access rule to add, and the next up, granted, proves it", async () => {
        await setRecord("192.0.2.20");
        const stack = await stackOf("refused", "192.0.2.20", 120);
        standIn.zoneRefreshGranted(false);
        try {
            const failure = await failureOf(stack);
            expect(failure).toContain(`zone ${ZONE}: OVH refused to refresh the zone (POST /domain/zone/${ZONE}/refresh: HTTP 403`);
            expect(failure).toContain("add the access rule POST /domain/zone/*/refresh to the consumer key");
            expect(await dns.ask(`www.${ZONE}`, "A")).not.toEqual(["192.0.2.20"]);
        } finally {
            standIn.zoneRefreshGranted(true);
        }
        const up = await stack.up();
        expect(up.summary.resourceChanges).toEqual({ create: 1, same: 2 });
        expect(await dns.ask(`www.${ZONE}`, "A")).toEqual(["192.0.2.20"]);
        expect(standIn.violations).toEqual([]);
    });

    it("a name server that keeps the old answer fails up past the bound, naming it and what it still answers", async () => {
        await setRecord("192.0.2.30");
        const stack = await stackOf("stale", "192.0.2.30", 120);
        await stack.up();
        // OVH accepts the refresh but its servers do not load it: the old answer stays.
        standIn.onZoneRefresh(null);
        try {
            await setRecord("192.0.2.31");
            await stack.setAllConfig({ ip: { value: "192.0.2.31" }, within: { value: "3" } });
            const failure = await failureOf(stack);
            expect(failure).toContain(`zone ${ZONE}: its name servers do not all serve the expected records within 3 s`);
            expect(failure).toContain(`dns101.ovh.net (${network.hostAddress}): www.${ZONE}. A answers 192.0.2.30, expected 192.0.2.31`);
        } finally {
            await dns.serve(standIn);
        }
        // Served again: the failed proof is run again by the next up.
        const up = await stack.up();
        expect(up.summary.resourceChanges).toEqual({ same: 2, update: 1 });
        expect(await dns.ask(`www.${ZONE}`, "A")).toEqual(["192.0.2.31"]);
    });
});
