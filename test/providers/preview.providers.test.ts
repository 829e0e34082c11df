// The real provider plugins in the loop: `pulumi preview --json` of every bundled stack by the real
// CLI, the real command, ovh and proxmoxve plugins (OVH_FAILOVER_PLUGINS, built by hand:
// docs/testing.md) and the HTTPS OVH stand-in, from an empty state and after `ovh-failover adopt
// --no-state` against the stand-in's world. What they print is recorded under test/recorded/,
// which the ordinary suite holds the offline plan to (test/recorded/recorded.test.ts).
import * as fs from "fs";
import * as path from "path";
import { describe, expect, it } from "vitest";
import * as YAML from "yaml";
import { REPO } from "../support/engine";
import type { OvhStandIn } from "../support/ovhStandIn";
import { recordedBy, useProvidersTier } from "../support/providersTier";
import { realProject, RealProject } from "../support/realStack";
import { normalizePreview, Recording, RecordedWorld, writeRecording } from "../support/recording";
import { unlistedDiagnostics } from "../support/previewDifferences";
import { GENERATED, GENERATED_STACK_FILE, generatedAccount, generatedLostState } from "../support/generatedStack";
import { accountAfterUp, accountBefore } from "../support/worlds";

const BUNDLED = ["reverse-proxy", "new-container", "edge-pair", "layouts", "routed", "public-cloud"];

const tier = useProvidersTier();

async function previewJson(project: RealProject): Promise<unknown> {
    const r = await project.pulumi("preview", "--json", "--stack", project.stack);
    // --json prints the digest on stdout whether the preview succeeded or not.
    if (!r.stdout.trim().startsWith("{")) throw new Error(`pulumi preview --json exited ${r.code} with no digest:\n${r.stderr}`);
    const digest = JSON.parse(r.stdout) as unknown;
    // What the CLI and the plugins print besides the digest (a deprecation, a plugin's log): a
    // warning there is one too, and none is listed as accepted.
    expect(r.stderr.trim(), "pulumi preview --json printed on stderr").toBe("");
    if (r.code !== 0) throw new Error(`pulumi preview failed (exit ${r.code}):\n${JSON.stringify((digest as { diagnostics?: unknown }).diagnostics, null, 2)}\n${r.stderr}`);
    return digest;
}

function record(stack: string, world: RecordedWorld, digest: unknown, project: RealProject, extra: Partial<Recording> = {}): Recording {
    const recording: Recording = {
        stack,
        world,
        recorded: recordedBy(tier),
        ...extra,
        preview: normalizePreview(digest, { project: project.dir, repo: REPO }),
    };
    console.log(`recorded ${path.relative(REPO, writeRecording(recording))}`);
    return recording;
}

/** Every bundled stack, and the generated one (its stack file goes into its recording). */
const STACKS: { stack: string; stackFile?: string; before(s: OvhStandIn): void; after(s: OvhStandIn): void }[] = [
    ...BUNDLED.map((stack) => ({ stack, before: (s: OvhStandIn) => accountBefore(stack, s), after: (s: OvhStandIn) => accountAfterUp(stack, s) })),
    { stack: GENERATED, stackFile: GENERATED_STACK_FILE, before: generatedAccount, after: generatedLostState },
];

describe.each(STACKS.map((c) => [c.stack, c] as const))("the stack %s, previewed by the real CLI and plugins", (stack, c) => {
    it("from an empty state: every step recorded, no warning or error the differences table does not list", async () => {
        c.before(tier.standIn);
        const project = await realProject(tier.ws, stack, c.stackFile);
        const digest = await previewJson(project);
        const preview = normalizePreview(digest, { project: project.dir, repo: REPO });
        // Checked before it is written: a recording holds only what is accepted.
        expect(unlistedDiagnostics(preview)).toEqual([]);
        expect(tier.standIn.violations).toEqual([]);
        const recording = record(stack, "empty", digest, project, c.stackFile ? { stackFile: c.stackFile } : {});
        expect(recording.preview.steps?.filter((st) => st.op === "create").length).toBeGreaterThan(1);
    });

    it("after ovh-failover adopt --no-state against a world whose state was lost: what exists is imported", async () => {
        c.after(tier.standIn);
        const project = await realProject(tier.ws, stack, c.stackFile);
        const adopt = await project.run(
            [process.execPath, path.join(REPO, "dist", "bin", "ovh-failover.js"), "adopt", stack, "--no-state", "--skip-hosts"],
            { OVH_ENDPOINT: "ovh-eu" },
        );
        // A stack of edge pairs only has nothing to adopt (the nodes own the IP's routing): adopt says so.
        if (stack === "edge-pair") expect([adopt.code, adopt.stderr]).toEqual([2, expect.stringContaining("declares only edge pairs")]);
        else expect(adopt.code, adopt.stderr).toBe(0);
        const adoptPath = path.join(project.dir, "stacks", `${stack}.adopt.yaml`);
        const adoptFile = fs.existsSync(adoptPath) ? fs.readFileSync(adoptPath, "utf8") : undefined;
        const digest = await previewJson(project);
        const preview = normalizePreview(digest, { project: project.dir, repo: REPO });
        expect(unlistedDiagnostics(preview)).toEqual([]);
        expect(tier.standIn.violations).toEqual([]);
        // Every id the adopt file found is imported, and nothing else.
        const found = adoptFile ? Object.values((YAML.parse(adoptFile) as { resources: Record<string, { id: string }> }).resources).map((r) => r.id).sort() : [];
        expect(preview.steps?.filter((st) => st.op === "import").map((st) => st.newState?.importID).sort()).toEqual(found);
        if (stack !== "edge-pair") expect(found.length).toBeGreaterThan(0);
        record(stack, "adopted", digest, project, { ...(c.stackFile ? { stackFile: c.stackFile } : {}), ...(adoptFile ? { adoptFile } : {}) });
        // Adopting reads, and a preview changes nothing: no request that writes reached OVH.
        expect(tier.standIn.requests.filter((r) => r.method !== "GET").map((r) => `${r.method} ${r.path}`)).toEqual([]);
    });
});
