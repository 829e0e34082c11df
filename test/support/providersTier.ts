// What every test of the test:providers tier starts from: the plugins of OVH_FAILOVER_PLUGINS
// installed in a workspace of the real engine, whose network namespace resolves OVH's API host to
// the HTTPS stand-in, and a stand-in of its own for each test (its world is the test's to seed).
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { afterAll, afterEach, beforeAll, beforeEach } from "vitest";
import { engineWorkspace, EngineWorkspace, REPO } from "./engine";
import type { Recording } from "./recording";
import { OvhStandIn, startOvhStandIn } from "./ovhStandIn";
import { findPlugins, FoundPlugin, installPlugins } from "./plugins";
import { OVH_EU_HOST, scratch } from "./realStack";

export interface ProvidersTier {
    plugins: FoundPlugin[];
    ws: EngineWorkspace;
    /** The current test's stand-in, answering for eu.api.ovh.com on port 443. */
    standIn: OvhStandIn;
    /** The CLI and its plugins trust this certificate too, from now on in this file (another stand-in's). */
    trust(caPem: string): void;
}

const STAND_IN_KEYS = { applicationKey: "tier-application-key", applicationSecret: "tier-application-secret", consumerKey: "tier-consumer-key" };

/** Registers the tier's hooks in the calling test file; the fields are set once they have run. */
export function useProvidersTier(): ProvidersTier {
    const tier = {} as ProvidersTier;
    let work = "";
    // The CA file the CLI's environment names: each stand-in's certificate, written before its test.
    const caFile = () => path.join(work, "ca.pem");
    const trusted: string[] = [];
    const writeCaFile = () => fs.writeFileSync(caFile(), [tier.standIn?.caPem ?? "", ...trusted].filter((p) => p !== "").join("\n"));
    tier.trust = (caPem) => {
        trusted.push(caPem);
        if (work) writeCaFile();
    };
    beforeAll(async () => {
        tier.plugins = await findPlugins();
        for (const p of tier.plugins) console.log(`pulumi-resource-${p.name} ${p.version} (GetPluginInfo; package-lock.json ${p.sdkVersion}): ${p.source.repository}@${p.source.commit}`);
        work = scratch("ovh-failover-providers-");
        tier.ws = await engineWorkspace({
            OVH_APPLICATION_KEY: STAND_IN_KEYS.applicationKey,
            OVH_APPLICATION_SECRET: STAND_IN_KEYS.applicationSecret,
            OVH_CONSUMER_KEY: STAND_IN_KEYS.consumerKey,
            // Go's TLS (the plugins) and Node.js's (the program, the dynamic provider) trust the stand-in.
            SSL_CERT_FILE: caFile(),
            NODE_EXTRA_CA_CERTS: caFile(),
        }, { hosts: [OVH_EU_HOST] });
        installPlugins(tier.ws.env.PULUMI_HOME, tier.plugins);
        console.log(`pulumi ${tier.ws.engine.cliVersion}`);
    }, 600_000);
    afterAll(async () => {
        await tier.ws?.close();
        if (work) fs.rmSync(work, { recursive: true, force: true });
    });
    beforeEach(async () => {
        tier.standIn = await startOvhStandIn({ ...STAND_IN_KEYS, listen: { host: tier.ws.network.hostAddress, port: 443 }, dnsNames: [OVH_EU_HOST] });
        writeCaFile();
    });
    afterEach(async () => {
        await tier.standIn?.close();
    });
    return tier;
}

/** The commit the run is made at: a recording says what made it, so the work tree must be that commit. */
function repoCommit(): string {
    const head = execFileSync("git", ["-C", REPO, "rev-parse", "HEAD"], { encoding: "utf8" }).trim();
    // The recordings this run writes aside.
    const changed = execFileSync("git", ["-C", REPO, "status", "--porcelain", "--untracked-files=no"], { encoding: "utf8" })
        .split("\n").filter((l) => l.trim() !== "" && !l.slice(3).startsWith("test/recorded/")).join("\n");
    if (changed !== "") throw new Error(`the work tree differs from ${head}: commit first, then record (the recording names the commit)\n${changed}`);
    return head;
}

/** What a recording says made it: the day, the commit, the CLI and the plugins. */
export function recordedBy(tier: ProvidersTier): Recording["recorded"] {
    return {
        date: new Date().toISOString().slice(0, 10),
        commit: repoCommit(),
        cli: tier.ws.engine.cliVersion,
        plugins: Object.fromEntries(tier.plugins.map((p) => [p.name, { version: p.version, ...p.source }])),
    };
}
