// The library's CarpPair as a TypeScript program calls it, under Pulumi's mock runtime: the
// credentials field by field as secret Outputs (they stay secret), the defaults the stack keys
// have (flavour, health interval), and ovh-ipmove copied to every node unless told otherwise.
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { CarpPair, CarpPairArgs } from "../../../components/edge/carpPair";
import { DEFAULT_HEALTH_INTERVAL_SECONDS } from "../../../components/edge/carpSpec";
import { DEFAULT_FLAVOUR } from "../../../components/edge/edgeDeploy";
import { ipmoveBundle } from "../../../components/edge/ipmoveBundle";

interface Registered { urn: string; state: Record<string, unknown> }
interface MockMonitor { getRegisteredResources(): Map<string, Registered> }

// Internal to @pulumi/pulumi (runtime/settings.js): resolves once every registration is answered.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { waitForRPCs } = require("@pulumi/pulumi/runtime/settings") as { waitForRPCs(): Promise<void> };

const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

/** Every resource `declare` registers, by URN, with its inputs as the engine gets them (secrets signed). */
async function registrations(declare: () => unknown): Promise<Map<string, Record<string, unknown>>> {
    await pulumi.runtime.setMocks({ newResource: (a) => ({ id: `${a.name}-id`, state: a.inputs }), call: () => ({}) }, "edge-project", "dev", false);
    const monitor = pulumi.runtime.getMonitor() as unknown as MockMonitor;
    declare();
    await waitForRPCs();
    const byUrn = new Map<string, Record<string, unknown>>();
    for (const [urn, r] of monitor.getRegisteredResources()) {
        const state = r.state as Record<string, unknown> & { toJavaScript?: () => Record<string, unknown> };
        byUrn.set(urn, typeof state.toJavaScript === "function" ? state.toJavaScript() : state);
    }
    return byUrn;
}

const hostKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMl7ZAtKZt9Ij7jq387j6PueCz+uHHISJPDZE3dAKT3u";
const URN = "urn:pulumi:dev::edge-project::ovh-failover:edge:CarpPair$command:remote:";

function args(extra: Partial<CarpPairArgs> = {}): CarpPairArgs {
    return {
        failoverIp: "203.0.113.231",
        group: { vhid: 7, address: "10.25.0.10", prefixLength: 16, carpdev: "vio2" },
        password: pulumi.secret("carp-pw"),
        nodes: [
            { name: "edge-1", advskew: 1, publicInterface: "vio0", privateInterface: "vio1", ssh: { host: "198.51.100.41", hostKey }, move: { kind: "dedicated", serviceName: "ns1.ip-198-51-100.eu" } },
            { name: "edge-2", advskew: 50, publicInterface: "vio0", privateInterface: "vio1", ssh: { host: "198.51.100.42", hostKey }, move: { kind: "dedicated", serviceName: "ns2.ip-198-51-100.eu" } },
        ],
        health: { pingTarget: "192.0.2.53" },
        // Field by field, as config.requireSecret gives them: no pulumi.output({...}) around them.
        ovhCredentials: {
            endpoint: "ovh-eu",
            applicationKey: pulumi.secret("ak"),
            applicationSecret: pulumi.secret("as"),
            consumerKey: pulumi.secret("ck"),
        },
        ...extra,
    };
}

describe("the library's CarpPair", () => {
    it("takes each credential as a secret Output, and the deploy's standard input holds them as a secret", async () => {
        const registered = await registrations(() => new CarpPair("edge", args()));
        const stdin = registered.get(`${URN}Command::edge-edge-1-deploy`)!.stdin as Record<string, unknown>;
        expect(Object.values(stdin)).toContain(SECRET_SIG);
        expect(String(stdin.value)).toContain("OVH_ENDPOINT=ovh-eu\nOVH_APPLICATION_KEY=ak\nOVH_APPLICATION_SECRET=as\nOVH_CONSUMER_KEY=ck\n");
        // The scripts hold none of them.
        for (const key of ["create", "update", "delete"]) expect(JSON.stringify(registered.get(`${URN}Command::edge-edge-1-deploy`)![key])).not.toMatch(/\bak\b|carp-pw/);
    });

    it("takes the credentials as one Output too, plain values made secret", async () => {
        const registered = await registrations(() => new CarpPair("edge", args({ ovhCredentials: pulumi.output({ endpoint: "ovh-eu", applicationKey: "ak", applicationSecret: "as", consumerKey: "ck" }) })));
        const stdin = registered.get(`${URN}Command::edge-edge-2-deploy`)!.stdin as Record<string, unknown>;
        expect(Object.values(stdin)).toContain(SECRET_SIG);
        expect(String(stdin.value)).toContain("OVH_CONSUMER_KEY=ck");
    });

    it("has the stack keys' defaults: the flavour, the health check's interval", async () => {
        const defaulted = await registrations(() => new CarpPair("edge", args()));
        const explicit = await registrations(() => new CarpPair("edge", args({ flavour: DEFAULT_FLAVOUR, health: { pingTarget: "192.0.2.53", intervalSeconds: DEFAULT_HEALTH_INTERVAL_SECONDS } })));
        expect([...defaulted.keys()].sort()).toEqual([...explicit.keys()].sort());
        for (const urn of explicit.keys()) expect(defaulted.get(urn), urn).toEqual(explicit.get(urn));
        expect(String(defaulted.get(`${URN}Command::edge-edge-1-deploy`)!.create)).toContain("every 15'");
    });

    it("copies the package's ovh-ipmove to every node when no ipmove is given, as with ipmoveBundle()", async () => {
        const defaulted = await registrations(() => new CarpPair("edge", args()));
        const bundled = await registrations(() => new CarpPair("edge", args({ ipmove: ipmoveBundle() })));
        expect([...defaulted.keys()].filter((u) => u.includes("CopyToRemote")).sort()).toEqual([`${URN}CopyToRemote::edge-edge-1-ipmove`, `${URN}CopyToRemote::edge-edge-2-ipmove`]);
        for (const urn of bundled.keys()) expect(defaulted.get(urn), urn).toEqual(bundled.get(urn));
    });

    it("with ipmove false, copies nothing and the deploy requires ovh-ipmove on the node", async () => {
        const registered = await registrations(() => new CarpPair("edge", args({ ipmove: false, ipmovePath: "/opt/bin/ovh-ipmove" })));
        expect([...registered.keys()].some((u) => u.includes("CopyToRemote"))).toBe(false);
        const create = String(registered.get(`${URN}Command::edge-edge-1-deploy`)!.create);
        expect(create).toContain("if [ ! -x '/opt/bin/ovh-ipmove' ]");
        expect(create).toContain("ovh-ipmove is not at /opt/bin/ovh-ipmove on this node");
    });

    it("refuses a flavour that is neither, naming it", async () => {
        const bad = { ...args(), flavour: "pfsense" } as unknown as CarpPairArgs;
        await expect(registrations(() => new CarpPair("edge", bad))).rejects.toThrow(/args\.flavour: "pfsense" is not valid: expected openbsd \(CARP \+ ifstated\) or keepalived/);
    });
});
