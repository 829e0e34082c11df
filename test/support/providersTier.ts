// What every test of the test:providers tier starts from: the plugins of OVH_FAILOVER_PLUGINS
// installed in a workspace of the real engine, whose network namespace resolves OVH's API host to
// the HTTPS stand-in, and a stand-in of its own for each test (its world is the test's to seed).
import { execFileSync } from "child_process";
import { afterAll, afterEach, beforeAll, beforeEach } from "vitest";
import { EngineWorkspace, REPO } from "./engine";
import type { Recording } from "./recording";
import type { OvhStandIn } from "./ovhStandIn";
import type { FoundPlugin } from "./plugins";
import { PluginWorkspace, pluginWorkspace } from "./pluginWorkspace";
import type { StandInDns } from "./standInDns";

export interface ProvidersTier {
    plugins: FoundPlugin[];
    ws: EngineWorkspace;
    /** The current test's stand-in, answering for eu.api.ovh.com on port 443. */
    standIn: OvhStandIn;
    /** The name servers of the stand-in's zones: what each refresh deployed. */
    dns: StandInDns;
    /** The CLI and its plugins trust this certificate too, from now on in this file (another stand-in's). */
    trust(caPem: string): void;
}

/** Registers the tier's hooks in the calling test file; the fields are set once they have run. */
export function useProvidersTier(): ProvidersTier {
    const tier = {} as ProvidersTier;
    let workspace: PluginWorkspace | undefined;
    tier.trust = (caPem) => workspace!.trust(caPem);
    beforeAll(async () => {
        workspace = await pluginWorkspace();
        tier.plugins = workspace.plugins;
        tier.ws = workspace.ws;
        tier.dns = workspace.dns;
        for (const p of tier.plugins) console.log(`pulumi-resource-${p.name} ${p.version} (GetPluginInfo; package-lock.json ${p.sdkVersion}): ${p.source.repository}@${p.source.commit}`);
        console.log(`pulumi ${tier.ws.engine.cliVersion}`);
    }, 600_000);
    afterAll(async () => {
        await workspace?.close();
    });
    beforeEach(async () => {
        tier.standIn = await workspace!.startStandIn();
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
