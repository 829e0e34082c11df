// The plugin package's CarpPair (plugin/carpPair.ts) under Pulumi's mock runtime, held against the
// library's for the same args: the same resources under the same URNs, with the same inputs (so
// that nothing of the plugin's args is lost on the way), the same access rules; a bad move is
// refused before any child is declared.
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { CarpPair as LibraryCarpPair, CarpPairArgs as LibraryArgs } from "../../components/edge/carpPair";
import { ipmoveBundle } from "../../components/edge/ipmoveBundle";
import { CarpPair, CarpPairArgs } from "../../plugin/carpPair";
import { outputOf, registrations, SECRET_SIG } from "../support/mockRegistrations";

const ssh = (host: string) => ({ host, hostKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMl7ZAtKZt9Ij7jq387j6PueCz+uHHISJPDZE3dAKT3u", user: "edge" });
const PROJECT = "0123456789abcdef0123456789abcdef";
const CREDENTIALS = { endpoint: "ovh-eu", applicationKey: "ak", applicationSecret: "as", consumerKey: "ck" };

/** A pair in the library's terms: one node on a Public Cloud instance, one on a dedicated server. */
function libraryArgs(extra: Partial<LibraryArgs> = {}): LibraryArgs {
    return {
        flavour: "keepalived",
        failoverIp: "203.0.113.231",
        group: { vhid: 7, address: "10.25.0.10", prefixLength: 16, carpdev: "eth2", advbase: 2 },
        password: "carp-pw",
        nodes: [
            { name: "edge-1", advskew: 1, publicInterface: "eth0", privateInterface: "eth2", privateAddress: "10.25.0.11", ssh: ssh("198.51.100.41"), move: { kind: "cloud", project: PROJECT, instance: "inst-1" } },
            { name: "edge-2", advskew: 50, publicInterface: "eth1", privateInterface: "eth3", privateAddress: "10.25.0.12", ssh: ssh("198.51.100.42"), move: { kind: "dedicated", serviceName: "ns2.ip-198-51-100.eu" } },
        ],
        health: { pingTarget: "192.0.2.53", intervalSeconds: 20 },
        ovhCredentials: CREDENTIALS,
        ipmovePath: "/opt/bin/ovh-ipmove",
        reassertSeconds: 45,
        preempt: true,
        reverse: "edge.example.org.",
        protect: false,
        ...extra,
    };
}

/** The same pair in the plugin's terms. */
function pluginArgs(extra: Partial<CarpPairArgs> = {}): CarpPairArgs {
    const lib = libraryArgs();
    return {
        flavour: "keepalived",
        failoverIp: lib.failoverIp,
        group: { vhid: 7, address: "10.25.0.10", prefixLength: 16, carpdev: "eth2", advbase: 2 },
        password: "carp-pw",
        nodes: [
            { ...lib.nodes[0], move: { cloud: { project: PROJECT, instance: "inst-1" } } },
            { ...lib.nodes[1], move: { dedicatedServer: { serviceName: "ns2.ip-198-51-100.eu" } } },
        ],
        health: { pingTarget: "192.0.2.53", intervalSeconds: 20 },
        ovhCredentials: CREDENTIALS,
        ipmovePath: "/opt/bin/ovh-ipmove",
        reassertSeconds: 45,
        preempt: true,
        reverse: "edge.example.org.",
        protect: false,
        ...extra,
    };
}

describe("the plugin's CarpPair", () => {
    it("registers the library's resources under the same URNs, with the same inputs, the package's ovh-ipmove by default", async () => {
        const library = await registrations(() => new LibraryCarpPair("edge", libraryArgs({ ipmove: ipmoveBundle() })));
        const plugin = await registrations(() => new CarpPair("edge", pluginArgs()));
        const urns = [...plugin.keys()].sort();
        expect(urns).toEqual([...library.keys()].sort());
        expect(urns).toEqual([
            "urn:pulumi:dev::edge-project::ovh-failover:edge:CarpPair$command:remote:Command::edge-edge-1-deploy",
            "urn:pulumi:dev::edge-project::ovh-failover:edge:CarpPair$command:remote:Command::edge-edge-2-deploy",
            "urn:pulumi:dev::edge-project::ovh-failover:edge:CarpPair$command:remote:CopyToRemote::edge-edge-1-ipmove",
            "urn:pulumi:dev::edge-project::ovh-failover:edge:CarpPair$command:remote:CopyToRemote::edge-edge-2-ipmove",
            "urn:pulumi:dev::edge-project::ovh-failover:edge:CarpPair$ovh-failover:network:FailoverIp::edge-ip",
            "urn:pulumi:dev::edge-project::ovh-failover:edge:CarpPair::edge",
            // The mock monitor qualifies a type by its parent's own type only (runtime/mocks.js
            // newUrn), where the engine keeps the whole chain.
            "urn:pulumi:dev::edge-project::ovh-failover:network:FailoverIp$ovh:Ip/reverse:Reverse::edge-ip-reverse",
        ]);
        // The rendered scripts (group, nodes, moves, paths, preempt, health…), the connections,
        // the bundle and its checksum: every arg reached the library as it was.
        for (const urn of urns) expect(plugin.get(urn), urn).toEqual(library.get(urn));
    });

    it("copies nothing when ovh-ipmove is installed already, as the library with ipmove false", async () => {
        const library = await registrations(() => new LibraryCarpPair("edge", libraryArgs({ flavour: "openbsd", ipmove: false })));
        const plugin = await registrations(() => new CarpPair("edge", pluginArgs({ flavour: "openbsd", ipmove: { install: false } })));
        expect([...plugin.keys()].sort()).toEqual([...library.keys()].sort());
        expect([...plugin.keys()].some((u) => u.includes("CopyToRemote"))).toBe(false);
        for (const urn of plugin.keys()) expect(plugin.get(urn), urn).toEqual(library.get(urn));
    });

    it("takes a bundle of one's own by its file, its checksum computed", async () => {
        const bundle = ipmoveBundle();
        const library = await registrations(() => new LibraryCarpPair("edge", libraryArgs({ ipmove: bundle })));
        const plugin = await registrations(() => new CarpPair("edge", pluginArgs({ ipmove: { file: bundle.file } })));
        for (const urn of library.keys()) expect(plugin.get(urn), urn).toEqual(library.get(urn));
        await expect(registrations(() => new CarpPair("edge", pluginArgs({ ipmove: { install: false, file: bundle.file } })))).rejects.toThrow(/args\.ipmove\.file: .* expected no file when install is false/);
    });

    it("makes the password and the credentials secret even when they come as plain values", async () => {
        const plugin = await registrations(() => new CarpPair("edge", pluginArgs()));
        const stdin = plugin.get("urn:pulumi:dev::edge-project::ovh-failover:edge:CarpPair$command:remote:Command::edge-edge-1-deploy")!.stdin as Record<string, unknown>;
        expect(Object.values(stdin)).toContain(SECRET_SIG);
        expect(String(stdin.value)).toContain("carp-pw");
        expect(String(stdin.value)).toContain("OVH_CONSUMER_KEY=ck");
    });

    it("gives each node's access rules, as the library does", async () => {
        let rules: Promise<unknown> = Promise.resolve();
        let libraryRules: unknown;
        await registrations(() => {
            libraryRules = new LibraryCarpPair("edge", libraryArgs()).accessRules;
        });
        await registrations(() => {
            rules = outputOf(new CarpPair("edge", pluginArgs()).accessRules);
        });
        expect(await rules).toEqual(libraryRules);
        expect(Object.keys(await rules as object)).toEqual(["edge-1", "edge-2"]);
    });

    it.each([
        ["both", { cloud: { project: PROJECT, instance: "inst-1" }, dedicatedServer: { serviceName: "ns2.ip-198-51-100.eu" } }],
        ["neither", {}],
    ])("refuses a move with %s of cloud and dedicatedServer, naming it, before any child is declared", async (_what, move) => {
        const args = pluginArgs();
        args.nodes[1] = { ...args.nodes[1], move };
        const error = await registrations(() => new CarpPair("bad", args)).then(() => undefined, (err: unknown) => err);
        expect(error).toBeInstanceOf(pulumi.ResourceError);
        expect(String((error as Error).message)).toMatch(/args\.nodes\[1\]\.move: .* is not valid: expected exactly one of cloud \(\{ project, instance \}\) and dedicatedServer \(\{ serviceName \}\)/);
        expect(String((error as Error).message)).not.toMatch(/nodes\[0\]/);
        // Nothing but the pair itself was registered.
        const registered = await registrations(() => {
            try {
                new CarpPair("bad", args);
            } catch {
                // counted below
            }
        });
        expect([...registered.keys()]).toEqual(["urn:pulumi:dev::edge-project::ovh-failover:edge:CarpPair::bad"]);
    });
});
