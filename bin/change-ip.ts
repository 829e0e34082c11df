// ovh-failover change-ip: an IP change in the order resolvers follow at once, driven through the
// Pulumi CLI with its Automation API: the TTL of the address records that change lowered first
// (endpoints.<e>.lowerTtl, pulumi up), one old TTL waited out, the change (--set, pulumi up, which
// proves each zone serves it), the TTL restored (pulumi up). Since when the records are lowered is
// in the stack's state (TtlLowering), so a run stopped anywhere, on any machine, resumes.
import * as path from "path";
import { LocalWorkspace, OutputMap, Stack } from "@pulumi/pulumi/automation";
import { keyPath } from "../components/shared/validate";
import { parseCommandLine, projectDir, UsageError } from "./cli";
import { changingEndpoints, LoweringOutput, remainingSteps, renderSchedule, Step } from "./changeIp/schedule";
import { stackSpec } from "./hostShell";
import { loadProject } from "./plan/stackFiles";

export const USAGE = "usage: ovh-failover change-ip <stack> --set <key>=<value> [--set …] [--lower-ttl <seconds>] [--dry-run]";

/** OVH's lowest record TTL: what the records are lowered to unless told. */
const DEFAULT_LOWER_TTL = 60;

interface Options {
    stack: string;
    sets: string[];
    lowerTo: number;
    dryRun: boolean;
}

function options(argv: string[]): Options {
    const { values, positionals } = parseCommandLine(argv, {
        set: { type: "string", multiple: true },
        "lower-ttl": { type: "string" },
        "dry-run": { type: "boolean" },
    }, { usage: USAGE, needs: { set: "--set needs <key>=<value>", "lower-ttl": "--lower-ttl needs a number of seconds" } });
    if (positionals.length !== 1) throw new UsageError(USAGE);
    const sets = values.set ?? [];
    if (sets.length === 0) throw new UsageError(`--set: the change to make, e.g. --set endpoints.proxy.ip=203.0.113.20\n${USAGE}`);
    const lowerTo = values["lower-ttl"] === undefined ? DEFAULT_LOWER_TTL : Number(values["lower-ttl"]);
    if (!Number.isInteger(lowerTo) || lowerTo < 60) throw new UsageError(`--lower-ttl ${values["lower-ttl"]}: a number of seconds, at least 60 (OVH's lowest record TTL)\n${USAGE}`);
    return { stack: positionals[0], sets, lowerTo, dryRun: values["dry-run"] === true };
}

/** Each endpoint's lowering as the stack's outputs hold it (none before the first up). */
export function loweringsOf(outputs: OutputMap): Record<string, LoweringOutput | undefined> {
    const found: Record<string, LoweringOutput | undefined> = {};
    for (const group of ["endpoints", "cloudEndpoints"]) {
        const endpoints = (outputs[group]?.value ?? {}) as Record<string, { ttlLowering?: LoweringOutput }>;
        for (const [name, e] of Object.entries(endpoints)) found[name] = e.ttlLowering;
    }
    return found;
}

async function up(stack: Stack, what: string): Promise<void> {
    process.stdout.write(`\n== ${what}: pulumi up\n`);
    await stack.up({ onOutput: (out) => process.stdout.write(out) });
}

/** From when the lowered records are safe to change, as the stack's outputs say now. */
async function safeAt(stack: Stack, endpoints: string[]): Promise<number> {
    const lowerings = loweringsOf(await stack.outputs());
    const missing = endpoints.filter((e) => lowerings[e] === undefined);
    if (missing.length > 0) throw new Error(`the stack's outputs hold no ttlLowering of ${missing.join(", ")} after the lowering: run the same command again`);
    return Math.max(...endpoints.map((e) => Date.parse(lowerings[e]!.safeAt)));
}

async function run(stack: Stack, project: string, step: Step, sets: string[], changing: string[]): Promise<void> {
    const key = (e: string) => `${project}:${keyPath("endpoints", e, "lowerTtl")}`;
    if (step.step === "lower") {
        for (const e of step.endpoints) await stack.setConfig(key(e), { value: String(step.ttl[e]) }, true);
        await up(stack, `lower the TTL of ${step.endpoints.join(", ")}`);
    } else if (step.step === "wait") {
        // The schedule's time was an estimate for records lowered by this run: the state has the real one.
        const until = await safeAt(stack, changing);
        process.stdout.write(`\n== wait until ${new Date(until).toISOString()} (${Math.max(0, Math.ceil((until - Date.now()) / 1000))} s): resolvers let go of the old TTL; stopped, run the same command again to resume\n`);
        // setTimeout takes at most 2^31-1 ms (about 24.8 days): longer waits in steps of a day.
        for (let left = until - Date.now(); left > 0; left = until - Date.now()) await new Promise((resolve) => setTimeout(resolve, Math.min(left, 86_400_000)));
    } else if (step.step === "change") {
        for (const s of sets) {
            const eq = s.indexOf("=");
            const raw = s.slice(0, eq);
            await stack.setConfig(raw.includes(":") ? raw : `${project}:${raw}`, { value: s.slice(eq + 1) }, true);
        }
        await up(stack, `change: ${sets.join(", ")}`);
    } else {
        for (const e of step.endpoints) await stack.removeConfig(key(e), true);
        await up(stack, `restore the TTL of ${step.endpoints.join(", ")}`);
    }
}

export async function main(argv: string[] = process.argv.slice(2)): Promise<void> {
    let opts: Options;
    try {
        opts = options(argv);
    } catch (err) {
        process.stderr.write(`${(err as Error).message}\n`);
        process.exit(2);
    }
    try {
        const dir = projectDir();
        const project = loadProject(dir).name;
        // The stack file now, and as the change leaves it: what the change reaches.
        const before = stackSpec(dir, opts.stack);
        const after = stackSpec(dir, opts.stack, undefined, opts.sets);
        const changing = changingEndpoints(before, after);
        const stillLowered = [...before.endpoints, ...before.cloudEndpoints].filter((e) => e.lowerTtl !== undefined).map((e) => e.name);
        const stack = await LocalWorkspace.selectStack({ stackName: opts.stack, workDir: dir });
        const lowerings = loweringsOf(await stack.outputs());
        const steps = remainingSteps(changing, lowerings, opts.lowerTo, new Date(), stillLowered);
        process.stdout.write(renderSchedule(changing, steps, opts.sets));
        if (opts.dryRun) return;
        // The wait is one TTL of the stack file: a TTL edited and not applied yet is not the one
        // resolvers were given. A run under way (a lowering in the state) has applied the file.
        // The CLI's own verdict (--expect-no-changes fails the preview), not the event log's
        // summary, which the Automation API leaves empty when it cannot read it.
        if (steps[0]?.step === "lower" && changing.every((c) => lowerings[c.endpoint] === undefined)) {
            const preview = await stack.preview({ expectNoChanges: true }).then(() => undefined, (err: unknown) => err as Error);
            if (preview) throw new Error(`the stack has changes not applied yet (pulumi preview --expect-no-changes failed): run pulumi up first, so that the TTL waited out is the one resolvers were given\n${preview.message}`);
        }
        for (const step of steps) {
            try {
                await run(stack, project, step, opts.sets, changing.filter((c) => c.ttl > 60).map((c) => c.endpoint));
            } catch (err) {
                throw new Error(`the ${step.step} step failed; the stack file holds what it set, and the same command resumes from where the stack stands: ${(err as Error).message}`, { cause: err });
            }
        }
        if (steps.length > 0) process.stdout.write(`\nchanged: ${opts.sets.join(", ")}; commit ${path.relative(process.cwd(), dir) || "."}'s stack file\n`);
    } catch (err) {
        process.stderr.write(`error: ${(err as Error).message}\n`);
        process.exitCode = 1;
    }
}
