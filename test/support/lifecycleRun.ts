// A lifecycle of the test:providers tier under way: phases run one after the other on a stack of
// the real CLI, each checked as it ends and kept for its recording (test/support/lifecycle.ts
// reads what each did; test/support/lifecycleRecording.ts writes them down).
import { expect } from "vitest";
import { backendTexts, Operation, operation, phaseOf, timeline, WorldEvent } from "./lifecycle";
import { RecordedPhase, unexplainedWrites } from "./lifecycleRecording";
import type { ProxmoxHost } from "./proxmoxHosts";
import type { ProvidersTier } from "./providersTier";
import { realProject, RealProject } from "./realStack";

/** A stack's lifecycle under way: its project, the phases run so far, and how to run the next. */
export interface Lifecycle {
    project: RealProject;
    phases: RecordedPhase[];
    /**
     * Runs a phase; it must succeed, no request may break OVH's API description, every write that
     * reached the world must be explained by one of its steps, and no backend file may hold a
     * credential in clear; the phase is kept for the recording.
     */
    run(name: string, verb: "up" | "destroy", ...flags: string[]): Promise<Operation & { world: WorldEvent[] }>;
    /** The zone's records of a name now, as `TYPE target`, sorted. */
    recordsOf(zone: string, subDomain: string): string[];
}

export async function startLifecycle(
    tier: ProvidersTier, hosts: Record<string, ProxmoxHost>, stack: string, stackFile: string, secrets: () => string[],
): Promise<Lifecycle> {
    const project = await realProject(tier.ws, stack, stackFile);
    const phases: RecordedPhase[] = [];
    const expectNoSecretInBackend = () => {
        for (const { file, text } of backendTexts(project)) {
            for (const secret of secrets()) expect(text.includes(secret), `${file} holds a credential in clear`).toBe(false);
        }
    };
    return {
        project,
        phases,
        async run(name, verb, ...flags) {
            const since = performance.timeOrigin + performance.now();
            const op = await operation(project, verb, ...flags);
            const world = timeline(tier.standIn.requests, hosts, since);
            expect(op.code, `${name}: ${verb} failed:\n${op.diagnostics.join("\n")}\n${op.stderr}`).toBe(0);
            expect(tier.standIn.violations).toEqual([]);
            expectNoSecretInBackend();
            const phase = phaseOf(name, op, world);
            expect(unexplainedWrites(phase), `${name}: writes no step explains`).toEqual([]);
            phases.push(phase);
            return { ...op, world };
        },
        recordsOf(zone, subDomain) {
            return tier.standIn.zoneRecords(zone).filter((r) => r.subDomain === subDomain).map((r) => `${r.fieldType} ${r.target}`).sort();
        },
    };
}

