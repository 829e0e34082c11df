// Recordings of whole lifecycles run by the test:providers tier (test/recorded/lifecycle/): for
// each phase (`up` from nothing, an IP change, …, `destroy`), the steps the real engine took and
// what reached the world, normalized so that a recording changes only when what it says does
// (reads are a set, since how often a task is polled depends on timing; writes are counted; the
// order is that of each kind of change's first appearance). The ordinary suite reads them back
// (test/recorded/lifecycle.test.ts).
import * as fs from "fs";
import * as path from "path";
import type { Recording } from "./recording";
import { RECORDED_DIR } from "./recording";

export const LIFECYCLE_DIR = path.join(RECORDED_DIR, "lifecycle");

export interface RecordedPhase {
    name: string;
    /** `op type name` of every step other than same and refresh, sorted (a replacement once, as replace). */
    steps: string[];
    /** Each kind of write (and the probe), in the order it first reached the world. */
    order: string[];
    /** `METHOD route status`, `pct set <vmid> --netN on <host>` or `<call> on <edge node>`, with how many times. */
    writes: Record<string, number>;
    /** Every read, once. */
    reads: string[];
}

export interface LifecycleRecording {
    stack: string;
    recorded: Recording["recorded"];
    /** For a generated stack: the stack file it ran with. */
    stackFile?: string;
    phases: RecordedPhase[];
}

/** What a write is, and which steps explain it: a step of one of these resource types. */
const WRITE_KINDS: { kind: string; write: RegExp; types: RegExp }[] = [
    { kind: "routing", write: /^POST \/ip\/\{ip\}\/move /, types: /^ovh:Ip\/move:Move$/ },
    // A block into a vRack (POST /vrack/{sn}/ip) or out of it (DELETE …/ip/{ip}): terraform-provider-ovh ovh/resource_vrack_ip.go.
    { kind: "routing", write: /^(POST|DELETE) \/vrack\/\{serviceName\}\/ip/, types: /^ovh:Vrack\/ipAddress:IpAddress$/ },
    { kind: "routing", write: /^POST \/cloud\/project\/\{serviceName\}\/ip\/failover\/\{id\}\/attach /, types: /^ovh:CloudProject\/failoverIpAttach:FailoverIpAttach$/ },
    { kind: "virtual MAC", write: /^(POST|DELETE) \/dedicated\/server\/\{serviceName\}\/virtualMac/, types: /^pulumi-nodejs:dynamic\/ovh-failover:VirtualMac$/ },
    { kind: "NIC", write: /^pct set /, types: /^command:remote:Command$/ },
    { kind: "container", write: /^(POST|PUT|DELETE) \/nodes\//, types: /^proxmoxve:index\/containerLegacy:ContainerLegacy$/ },
    { kind: "DNS", write: /^(POST|PUT|DELETE) \/domain\/zone\/\{zoneName\}\/record/, types: /^ovh:Domain\/zoneRecord:ZoneRecord$/ },
    // The provider refreshes the zone after each record it writes; the proof that DNS serves them refreshes it too.
    { kind: "DNS", write: /^POST \/domain\/zone\/\{zoneName\}\/refresh/, types: /^(ovh:Domain\/zoneRecord:ZoneRecord|pulumi-nodejs:dynamic\/ovh-failover:ZoneServes)$/ },
    { kind: "reverse", write: /^(POST|DELETE) \/ip\/\{ip\}\/reverse/, types: /^ovh:Ip\/reverse:Reverse$/ },
    // An edge node (test/support/edgeNodes.ts): the bundle copied over SFTP, a deploy or removal
    // script run over SSH, and what that script did to the node's system (its daemon, interfaces,
    // pf, sysctl), `<call> on <node>`.
    { kind: "bundle copy", write: /^sftp on /, types: /^command:remote:CopyToRemote$/ },
    { kind: "node script", write: /^ssh exec on /, types: /^command:remote:Command$/ },
    { kind: "node system", write: /^(rcctl|systemctl|ifconfig|pfctl|sysctl|netstart) .* on \S+$/, types: /^command:remote:Command$/ },
];

export function kindOf(write: string): string | undefined {
    return WRITE_KINDS.find((k) => k.write.test(write))?.kind;
}

/** The writes of a phase that no step of the phase explains (none, in a good run). */
export function unexplainedWrites(phase: Pick<RecordedPhase, "steps" | "writes">): string[] {
    const types = phase.steps.map((s) => s.split(" ")[1]);
    return Object.keys(phase.writes).filter((w) => {
        const kinds = WRITE_KINDS.filter((k) => k.write.test(w));
        return kinds.length === 0 || !kinds.some((k) => types.some((t) => k.types.test(t)));
    });
}

/** `op type name` of a step, from its URN (urn:pulumi:<stack>::<project>::<parent$…$type>::<name>). */
export function stepLine(step: { op: string; urn: string }): string {
    const parts = step.urn.split("::");
    const type = parts[2].split("$").pop() ?? parts[2];
    return `${step.op} ${type} ${parts.slice(3).join("::")}`;
}

export function lifecycleFile(stack: string): string {
    return path.join(LIFECYCLE_DIR, `${stack}.json`);
}

export function writeLifecycleRecording(r: LifecycleRecording): string {
    fs.mkdirSync(LIFECYCLE_DIR, { recursive: true });
    const file = lifecycleFile(r.stack);
    fs.writeFileSync(file, `${JSON.stringify(r, null, 2)}\n`);
    return file;
}

export function readLifecycleRecordings(): LifecycleRecording[] {
    if (!fs.existsSync(LIFECYCLE_DIR)) return [];
    return fs.readdirSync(LIFECYCLE_DIR).filter((f) => f.endsWith(".json")).sort()
        .map((f) => JSON.parse(fs.readFileSync(path.join(LIFECYCLE_DIR, f), "utf8")) as LifecycleRecording);
}
