// A lifecycle of the test:providers tier under way: phases run one after the other on a stack of
// the real CLI, each checked as it ends and kept for its recording (test/support/lifecycle.ts
// reads what each did; test/support/lifecycleRecording.ts writes them down).
import { expect } from "vitest";
import { backendTexts, Operation, operation, phaseOf, span, timeline, WorldEvent } from "./lifecycle";
import { RecordedPhase, unexplainedWrites } from "./lifecycleRecording";
import type { OvhStandIn } from "./ovhStandIn";
import type { ProxmoxHost } from "./proxmoxHosts";
import type { ProxmoxStandIn } from "./proxmoxStandIn";
import type { ProvidersTier } from "./providersTier";
import { realProject, RealProject } from "./realStack";

/** Each pattern's events all come before the next pattern's first one, and each is there. */
export function expectInOrder(world: WorldEvent[], patterns: RegExp[]): void {
    const spans = patterns.map((p) => ({ p, s: span(world, p) }));
    const listing = world.map((e) => e.what).join("\n");
    for (const { p, s } of spans) expect(s, `${p.source} in:\n${listing}`).toBeDefined();
    for (let i = 1; i < spans.length; i++) {
        expect(spans[i - 1].s!.last, `${spans[i - 1].p.source} before ${spans[i].p.source} in:\n${listing}`).toBeLessThan(spans[i].s!.first);
    }
}

/** A write of DNS records. */
export const DNS_WRITE = /^(POST|PUT|DELETE) \/domain\/zone\/\{zoneName\}\/record/;

/** What one lifecycle test runs against, once its hooks have run. */
export interface LifecycleWorld {
    project: RealProject;
    ovh: OvhStandIn;
    hosts: Record<string, ProxmoxHost>;
    pve?: ProxmoxStandIn;
    /** What no backend file may hold in clear. */
    secrets: string[];
}

export type PhaseRun = Operation & { world: WorldEvent[] };

/**
 * Runs phases: each must succeed, reach no stand-in in a way its API refuses, leave no credential
 * in clear in any backend file, and have every write that reached the world explained by one of
 * its steps; each is recorded in `phases`.
 */
export function lifecycleOf(world: () => LifecycleWorld): { phases: RecordedPhase[]; run(name: string, verb: "up" | "destroy", ...flags: string[]): Promise<PhaseRun> } {
    const phases: RecordedPhase[] = [];
    const run = async (name: string, verb: "up" | "destroy", ...flags: string[]): Promise<PhaseRun> => {
        const w = world();
        const since = performance.timeOrigin + performance.now();
        const op = await operation(w.project, verb, ...flags);
        const events = timeline(w.ovh.requests, w.hosts, since, w.pve?.requests);
        expect(op.code, `${name}: ${verb} failed:\n${op.diagnostics.join("\n")}\n${op.stderr}`).toBe(0);
        expect(w.ovh.violations).toEqual([]);
        expect(w.pve?.violations ?? []).toEqual([]);
        for (const { file, text } of backendTexts(w.project)) {
            for (const secret of w.secrets) expect(text.includes(secret), `${file} holds a credential in clear`).toBe(false);
        }
        const phase = phaseOf(name, op, events);
        expect(unexplainedWrites(phase), `${name}: writes no step explains`).toEqual([]);
        phases.push(phase);
        return { ...op, world: events };
    };
    return { phases, run };
}

/** A stack's lifecycle under way: its project, the phases run so far, and how to run the next. */
export interface Lifecycle {
    project: RealProject;
    phases: RecordedPhase[];
    run(name: string, verb: "up" | "destroy", ...flags: string[]): Promise<PhaseRun>;
    /** The zone's records of a name now, as `TYPE target`, sorted. */
    recordsOf(zone: string, subDomain: string): string[];
}

/** The project of a stack file with the tier's OVH stand-in and these hosts as its world. */
export async function startLifecycle(
    tier: ProvidersTier, hosts: Record<string, ProxmoxHost>, stack: string, stackFile: string, secrets: () => string[],
): Promise<Lifecycle> {
    const project = await realProject(tier.ws, stack, stackFile);
    const { phases, run } = lifecycleOf(() => ({ project, ovh: tier.standIn, hosts, secrets: secrets() }));
    return {
        project,
        phases,
        run,
        recordsOf: (zone, subDomain) => tier.standIn.zoneRecords(zone).filter((r) => r.subDomain === subDomain).map((r) => `${r.fieldType} ${r.target}`).sort(),
    };
}
