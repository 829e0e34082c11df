// What a lifecycle test of the test:providers tier reads after each `pulumi up` or `destroy` by
// the real CLI and plugins: the steps the engine took, what reached the OVH stand-in, the Proxmox
// API stand-in and the Proxmox hosts, in one timeline, and the backend's files. No vitest here:
// `npm run bench:up` reads the same (the checks of a phase are in lifecycleRun.ts).
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import type { RecordedRequest } from "./ovhStandIn";
import type { ProxmoxHost } from "./proxmoxHosts";
import type { PveRecordedRequest } from "./proxmoxStandIn";
import type { RealProject } from "./realStack";
import { kindOf, RecordedPhase, stepLine } from "./lifecycleRecording";

/** One thing that reached the world: a request to OVH or to the Proxmox API, or a pct call on a host. */
export interface WorldEvent {
    at: number;
    /** `POST /ip/{ip}/move`, `PUT /nodes/{node}/lxc/{vmid}/config` (the APIs' routes) or `pct set 101 --net1` on `ovh1`. */
    what: string;
    writes: boolean;
    status?: number;
}

export function timeline(requests: RecordedRequest[], hosts: Record<string, ProxmoxHost>, since: number, pveRequests: PveRecordedRequest[] = []): WorldEvent[] {
    const events: WorldEvent[] = requests.filter((r) => r.at >= since).map((r) => ({
        at: r.at,
        what: `${r.method} ${r.route ?? r.path}`,
        writes: r.method !== "GET",
        status: r.status,
    }));
    // The Proxmox API's routes are all under /nodes, /cluster, /version…: none is OVH's.
    for (const r of pveRequests.filter((q) => q.t >= since)) events.push({ at: r.t, what: `${r.method} ${r.route ?? r.path}`, writes: r.method !== "GET", status: r.status });
    for (const [name, host] of Object.entries(hosts)) {
        for (const call of host.pctLog()) {
            const at = Number(call.at / 1000n) / 1000;
            if (at < since) continue;
            events.push({ at, what: `pct ${call.command} ${call.vmid}${call.option ? ` ${call.option}` : ""} on ${name}`, writes: call.command === "set" });
        }
    }
    return events.sort((a, b) => a.at - b.at);
}

/** The index of the first and last events matching, or undefined when none does. */
export function span(events: WorldEvent[], match: RegExp): { first: number; last: number } | undefined {
    const hits = events.map((e, i) => (match.test(e.what) ? i : -1)).filter((i) => i >= 0);
    return hits.length === 0 ? undefined : { first: hits[0], last: hits[hits.length - 1] };
}

/** A step of an update, from the engine's events (sdk/go/common/apitype/events.go StepEventMetadata). */
export interface UpdateStep {
    op: string;
    urn: string;
    /** Whether it ran (resOutputsEvent) or failed (resOpFailedEvent). */
    done: boolean;
}

/**
 * `pulumi up|destroy --yes --json`: with --json and no preview-only flag, the CLI prints every
 * engine event as a JSON line as it happens (pkg/backend/display/display.go, ShowJSONEvents); the
 * preview that `up` runs first is in the stream too, its events marked `planning`.
 */
export interface Operation {
    code: number;
    stderr: string;
    events: Record<string, unknown>[];
    /** The update's own steps (not its preview's), in the order the engine finished them. */
    steps: UpdateStep[];
    /** The steps of the preview `up` ran first (its digest), as (op, urn). */
    previewed: { op: string; urn: string }[];
    /** summaryEvent.resourceChanges: the counts by op. */
    changes: Record<string, number>;
    /** Every diagnostic's message, with its severity. */
    diagnostics: string[];
}

interface StepEventMetadata { op: string; urn: string }

export async function operation(project: RealProject, verb: "up" | "destroy", ...flags: string[]): Promise<Operation> {
    const r = await project.pulumi(verb, "--yes", "--json", "--stack", project.stack, ...flags);
    if (process.env.OVHF_DUMP) fs.writeFileSync(`${process.env.OVHF_DUMP}.${verb}.${Date.now()}`, r.stdout);
    // `up` previews first, and that preview's digest is printed whole, indented (ShowPreviewDigest),
    // before the update's events, one per line.
    const lines = r.stdout.split("\n");
    const digestEnd = lines[0] === "{" ? lines.indexOf("}") : -1;
    const digest = digestEnd > 0 ? (JSON.parse(lines.slice(0, digestEnd + 1).join("\n")) as { steps?: { op: string; urn: string }[]; diagnostics?: { message?: string; severity?: string }[] }) : {};
    const previewed = (digest.steps ?? []).map((st) => ({ op: st.op, urn: st.urn }));
    const events = lines.slice(digestEnd + 1).filter((l) => l.startsWith("{")).map((l) => JSON.parse(l) as Record<string, unknown>);
    const steps: UpdateStep[] = [];
    let changes: Record<string, number> = {};
    // A preview that fails (a protected resource a destroy would delete) ends the run there: its
    // diagnostics are the digest's.
    const diagnostics: string[] = (digest.diagnostics ?? []).map((d) => `${d.severity}: ${(d.message ?? "").trim()}`);
    for (const e of events) {
        const outputs = e.resOutputsEvent as { metadata: StepEventMetadata; planning?: boolean } | undefined;
        const failed = e.resOpFailedEvent as { metadata: StepEventMetadata } | undefined;
        if (outputs && !outputs.planning) steps.push({ op: outputs.metadata.op, urn: outputs.metadata.urn, done: true });
        if (failed) steps.push({ op: failed.metadata.op, urn: failed.metadata.urn, done: false });
        const summary = e.summaryEvent as { resourceChanges?: Record<string, number> } | undefined;
        if (summary) changes = summary.resourceChanges ?? {};
        const diagnostic = e.diagnosticEvent as { message?: string; severity?: string } | undefined;
        if (diagnostic && diagnostic.severity !== "debug") diagnostics.push(`${diagnostic.severity}: ${(diagnostic.message ?? "").trim()}`);
    }
    return { code: r.code, stderr: r.stderr, events, steps, previewed, changes, diagnostics };
}

/**
 * What changed: the steps other than `same` and `refresh` (which `refresh: always` adds), as
 * `op name`, sorted. A replacement counts once, as `replace`: the update reports its
 * create-replacement and delete-replaced steps too, which the preview digest `up` prints leaves out.
 */
export function changed(steps: { op: string; urn: string }[]): string[] {
    const hidden = new Set(["same", "refresh", "create-replacement", "delete-replaced"]);
    return steps.filter((st) => !hidden.has(st.op)).map(stepLine).sort();
}

/** A phase of a lifecycle as recorded: its steps and what reached the world. */
export function phaseOf(name: string, op: Operation, world: WorldEvent[]): RecordedPhase {
    const line = (e: WorldEvent) => (e.status === undefined ? e.what : `${e.what} ${e.status}`);
    const writes: Record<string, number> = {};
    for (const e of world.filter((w) => w.writes)) writes[line(e)] = (writes[line(e)] ?? 0) + 1;
    // Each kind at its first appearance: with several endpoints at once, their writes interleave
    // as timing has it, but each endpoint's chain is ordered, and so are the first appearances.
    const order: string[] = [];
    for (const e of world) {
        const kind = e.writes ? kindOf(line(e)) ?? line(e) : /^pct exec /.test(e.what) ? "probe" : undefined;
        if (kind !== undefined && !order.includes(kind)) order.push(kind);
    }
    return { name, steps: changed(op.steps), order, writes, reads: [...new Set(world.filter((w) => !w.writes).map(line))].sort() };
}

/** Edits the project's stack file (its secrets stay as the CLI encrypted them). */
export function editStack(project: RealProject, edit: (doc: YAML.Document) => void): void {
    const file = path.join(project.dir, "stacks", `Pulumi.${project.stack}.yaml`);
    const doc = YAML.parseDocument(fs.readFileSync(file, "utf8"));
    edit(doc);
    fs.writeFileSync(file, doc.toString());
}

/** Every file of a DIY backend folder (states, their backups, history), as text. */
export function backendTexts(project: RealProject): { file: string; text: string }[] {
    const root = `${project.dir}-state`;
    const out: { file: string; text: string }[] = [];
    const walk = (dir: string) => {
        for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
            const full = path.join(dir, entry.name);
            if (entry.isDirectory()) walk(full);
            else out.push({ file: path.relative(root, full), text: fs.readFileSync(full, "utf8") });
        }
    };
    walk(root);
    return out;
}

/** A stack file with the labs' host keys for its servers and the first lab's client key as proxmoxSshPrivateKey. */
export function withLabKeys(text: string, hosts: Record<string, ProxmoxHost>): string {
    const doc = YAML.parseDocument(text);
    for (const [server, host] of Object.entries(hosts)) doc.setIn(["config", "ovh-failover:servers", server, "proxmox", "hostKey"], host.ssh.hostKey);
    const first = Object.values(hosts)[0];
    doc.setIn(["config", "ovh-failover:proxmoxSshPrivateKey"], { secure: `v1:bGFi:${Buffer.from(first.ssh.clientKey).toString("base64")}` });
    return doc.toString();
}

/** The line netN of a container's configuration. */
export function netLine(config: string, index: number): string | undefined {
    return config.split("\n").find((l) => l.startsWith(`net${index}: `))?.slice(`net${index}: `.length);
}
