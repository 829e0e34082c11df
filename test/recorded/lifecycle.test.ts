// The lifecycles the test:providers tier ran through the real CLI and provider plugins
// (test/recorded/lifecycle/, written by `npm run test:providers`), read back: they exist for the
// lock's versions, every write that reached the world is explained by a step of its phase, an
// `up` with nothing to do wrote nothing, DNS moved only after the gateway probe, and the offline
// plan of the stack from nothing takes the steps the real `up` from nothing took (and, where
// IP_CHANGES names it, the offline plan of an IP change the steps the real IP change took).
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { describe, expect, it } from "vitest";
import { plan } from "../../bin/plan";
import { REPO } from "../support/engine";
import { GENERATED_ENDPOINTS } from "../support/generatedStack";
import { changed } from "../support/lifecycle";
import { LifecycleRecording, readLifecycleRecordings, unexplainedWrites } from "../support/lifecycleRecording";
import { staleVersions } from "../support/plugins";

/** The stacks whose whole lifecycle the tier runs. */
const LIFECYCLES = ["reverse-proxy", GENERATED_ENDPOINTS, "new-container", "edge-pair", "edge-pair-keepalived", "layouts", "routed", "public-cloud"];

const recordings = readLifecycleRecordings();

/**
 * The IP change phases the offline plan is held to, per stack: the phase's name and the `--set`s
 * that make it from the stack as written (what the tier's test edits in the stack file).
 */
const IP_CHANGES: Record<string, { phase: string; sets: string[] }> = {
    "public-cloud": { phase: "an IP change", sets: ["endpoints.pci.ip=192.0.2.61"] },
    layouts: { phase: "an IP change inside each block", sets: ["endpoints.web2.ip=192.0.2.12", "endpoints.lb.ip=192.0.2.19"] },
    routed: { phase: "an IP change", sets: ["endpoints.app.ip=192.0.2.51"] },
};

/** The offline plan's changed steps: from nothing, or with these sets from the stack as written. */
async function plannedSteps(r: LifecycleRecording, sets: string[] = []): Promise<string[]> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ovh-failover-lifecycle-"));
    try {
        fs.copyFileSync(path.join(REPO, "Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
        for (const f of ["package.json", "dist", "node_modules"]) fs.symlinkSync(path.join(REPO, f), path.join(dir, f));
        fs.mkdirSync(path.join(dir, "stacks"));
        const stackFile = r.stackFile ?? fs.readFileSync(path.join(REPO, "stacks", `Pulumi.${r.stack}.yaml`), "utf8");
        fs.writeFileSync(path.join(dir, "stacks", `Pulumi.${r.stack}.yaml`), stackFile);
        const result = await plan(dir, { stack: r.stack, sets, json: true, showSame: false }, false);
        expect(result.message ?? "").toBe("");
        return changed((JSON.parse(result.output) as { steps: { op: string; urn: string }[] }).steps);
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

describe("the recorded lifecycles", () => {
    it("cover every stack the tier runs a lifecycle of", () => {
        expect(recordings.map((r) => r.stack).sort()).toEqual([...LIFECYCLES].sort());
    });
});

describe.each(recordings.map((r) => [r.stack, r] as const))("the lifecycle of %s through the real CLI and plugins", (_, r) => {
    it("was recorded with the CLI and provider plugins package-lock.json and engine/go.mod name (else: npm run test:providers)", () => {
        expect(staleVersions(r.recorded)).toEqual([]);
    });

    it("wrote nothing that a step of its phase does not explain", () => {
        expect(r.phases.flatMap((p) => unexplainedWrites(p).map((w) => `${p.name}: ${w}`))).toEqual([]);
    });

    it("wrote nothing in a phase with nothing to do, and moved DNS only after the probe", () => {
        for (const p of r.phases) {
            if (p.steps.length === 0) expect(p.writes, p.name).toEqual({});
            const probe = p.order.indexOf("probe");
            const dns = p.order.indexOf("DNS");
            // Creates and updates: DNS after the probe. A destroy removes records first, and has no probe.
            if (probe >= 0 && dns >= 0) expect(probe, `${p.name}: ${p.order.join(" → ")}`).toBeLessThan(dns);
        }
    });

    it("took from nothing the steps the offline plan shows", async () => {
        expect(r.phases[0].name).toBe("up from nothing");
        expect(await plannedSteps(r)).toEqual(r.phases[0].steps);
    });

    // Only for the stacks IP_CHANGES names: the others' IP changes come after other phases.
    if (r.stack in IP_CHANGES) it("took in its IP change the steps the offline plan of the changed stack shows", async () => {
        const change = IP_CHANGES[r.stack];
        const phase = r.phases.find((p) => p.name === change.phase);
        expect(phase, r.phases.map((p) => p.name).join(", ")).toBeDefined();
        expect(await plannedSteps(r, change.sets)).toEqual(phase!.steps);
    });
});
