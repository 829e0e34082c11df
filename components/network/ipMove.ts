// Moving a failover IP to this node, which is what an edge node does when it is promoted (seed 001:
// ifstated runs `ipmoveOvh -project t18s -ip 146.59.143.231 -instance bi-edge-sbg-1`). The logic of
// bin/ovh-ipmove: every side effect goes through the OvhApi handed in, every step is one log line.
//
// Public Cloud (cloud.json): the failover IP is found in GET /cloud/project/{p}/ip/failover, the
// instance in GET /cloud/project/{p}/instance, then POST .../ip/failover/{id}/attach {instanceId}
// and GET .../ip/failover/{id} until it is routed to the instance and no longer operationPending.
// Dedicated server (ip.json): GET /ip/{block} tells where it is routed, POST /ip/{block}/move {to}
// makes a task, polled at GET /ip/{block}/task/{taskId} until it ends.
import * as net from "net";
import { OvhApi, OvhApiError, route, sleep } from "./ovhApiClient";

/** Where ovh-ipmove moves the failover IP when a node is promoted. */
export type MoveTarget =
    | { kind: "cloud"; project: string; instance: string }
    | { kind: "dedicated"; serviceName: string };

/**
 * Exit codes of ovh-ipmove (and of exitCodeOf):
 * - 0: the IP is routed to this node, moved now or already there;
 * - 1: the OVH API failed or refused (an error status, a task that ended in error, no answer);
 * - 2: usage or configuration error (bad flags, missing credentials, an IP, project or instance
 *      that is not there, an instance name that is ambiguous);
 * - 3: timed out waiting for OVH to finish the move (it may still complete: look before retrying).
 */
export const EXIT_OK = 0;
export const EXIT_API_ERROR = 1;
export const EXIT_USAGE = 2;
export const EXIT_TIMEOUT = 3;

/** One line per exit code, for usage texts. */
export const EXIT_CODES_HELP: readonly string[] = [
    `${EXIT_OK}  the IP is routed to this node (moved now, or already there)`,
    `${EXIT_API_ERROR}  the OVH API failed or refused the move (the message says why)`,
    `${EXIT_USAGE}  usage or configuration error (flags, credentials, unknown IP, project or instance)`,
    `${EXIT_TIMEOUT}  timed out waiting for OVH to finish the move (it may still complete)`,
];

/** The flags, the credentials or the names given do not fit what is at OVH: fixing them is the way out. */
export class MoveConfigError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "MoveConfigError";
    }
}

/** OVH had not finished when the bound ran out; the move may still complete. */
export class MoveTimeoutError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "MoveTimeoutError";
    }
}

export function exitCodeOf(err: unknown): number {
    if (err instanceof MoveConfigError) return EXIT_USAGE;
    if (err instanceof MoveTimeoutError) return EXIT_TIMEOUT;
    return EXIT_API_ERROR;
}

export interface MoveOptions {
    /** Bound on the whole move, lookups included; a wait still unfinished then is a MoveTimeoutError. */
    timeoutMs: number;
    /** Delay between two reads of the operation or task. */
    pollIntervalMs: number;
    /** One line per step, without a prefix. */
    log: (line: string) => void;
    /**
     * Nodes this one yields to (instance names or ids, or servers' service names): the IP routed
     * to one of them is left there. A periodic re-assertion yields to the pair's nodes of higher
     * priority, so that in a split brain the IP moves at most twice and ends on the best of them;
     * the edge node's scripts pass it only once a claim of their own has gone through since the
     * node became master (components/edge/claimState.ts).
     */
    yieldTo?: string[];
}

export interface MoveResult {
    /** false when the IP was already routed there and nothing was sent. */
    moved: boolean;
    /** The IP block, e.g. 146.59.143.231/32. */
    block: string;
    /** Where it is routed now: the instance id (Public Cloud) or the server's service name. */
    routedTo: string;
    /** Where it was routed before; null when it was not routed. */
    previous: string | null;
    elapsedMs: number;
}

/** An address (its /32) or an IPv4 block. */
export function parseIpBlock(ip: string): { address: string; block: string } {
    const [address, prefix, extra] = ip.split("/");
    const prefixOk = prefix === undefined || (/^\d{1,2}$/.test(prefix) && Number(prefix) <= 32);
    if (extra !== undefined || !net.isIPv4(address) || !prefixOk) {
        throw new MoveConfigError(`${JSON.stringify(ip)} is not an IPv4 address or block (e.g. 146.59.143.231 or 146.59.143.224/29)`);
    }
    return { address, block: `${address}/${prefix ?? 32}` };
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** A lookup that answers 404 means the flags name something that is not there. */
async function lookup<T>(call: Promise<T>, what: string): Promise<T> {
    try {
        return await call;
    } catch (err) {
        if (err instanceof OvhApiError && err.status === 404) {
            throw new MoveConfigError(`${what} does not exist or these credentials cannot see it (${err.message})`);
        }
        throw err;
    }
}

interface Clock {
    started: number;
    deadline: number;
}

/**
 * Reads `read` every poll interval until `done`, logging each change of `describe`; past the
 * deadline, a MoveTimeoutError built by `timedOut`.
 */
async function pollUntil<T>(
    first: T,
    read: () => Promise<T>,
    done: (value: T) => boolean,
    describe: (value: T) => string,
    timedOut: (value: T, waitedMs: number) => string,
    opts: MoveOptions,
    clock: Clock,
): Promise<T> {
    let current = first;
    let last = describe(current);
    while (!done(current)) {
        const left = clock.deadline - Date.now();
        if (left <= 0) throw new MoveTimeoutError(timedOut(current, Date.now() - clock.started));
        await sleep(Math.min(opts.pollIntervalMs, left));
        current = await read();
        const now = describe(current);
        if (now !== last && !done(current)) opts.log(now);
        last = now;
    }
    return current;
}

// ---------------------------------------------------------------------------------------
// Public Cloud
// ---------------------------------------------------------------------------------------

/** cloud.ip.FailoverIp, the fields read here. */
interface CloudFailoverIp {
    id: string;
    ip: string | null;
    block: string | null;
    routedTo: string;
    /** cloud.ip.IpStatusEnum */
    status: "ok" | "operationPending";
    progress?: number;
}

/** cloud.instance.Instance, the fields read here. */
interface CloudInstance {
    id: string;
    name: string;
    region: string;
}

const FAILOVER_IPS = "/cloud/project/{serviceName}/ip/failover";
const FAILOVER_IP = "/cloud/project/{serviceName}/ip/failover/{id}";
const ATTACH = "/cloud/project/{serviceName}/ip/failover/{id}/attach";
const INSTANCES = "/cloud/project/{serviceName}/instance";

function matchesIp(f: CloudFailoverIp, address: string, block: string): boolean {
    return f.ip === address || f.block === address || f.block === block;
}

function resolveInstance(instances: CloudInstance[], wanted: string, project: string): CloudInstance {
    const byId = instances.find((i) => i.id === wanted);
    if (byId) return byId;
    const byName = instances.filter((i) => i.name === wanted);
    if (byName.length === 1) return byName[0];
    if (byName.length > 1) {
        throw new MoveConfigError(
            `${byName.length} instances of project ${project} are named ${wanted} (${byName.map((i) => `${i.id} in ${i.region}`).join(", ")}): give -instance the id instead`,
        );
    }
    const names = instances.map((i) => i.name).sort();
    throw new MoveConfigError(`project ${project} has no instance named or with id ${wanted} (its instances: ${names.join(", ") || "none"})`);
}

async function moveCloud(
    api: OvhApi,
    target: Extract<MoveTarget, { kind: "cloud" }>,
    ip: string,
    opts: MoveOptions,
    clock: Clock,
): Promise<MoveResult> {
    const { address, block } = parseIpBlock(ip);
    const serviceName = target.project;
    const failoverIps = await lookup(api.request<CloudFailoverIp[]>("GET", route(FAILOVER_IPS, { serviceName })), `Public Cloud project ${serviceName}`);
    const found = failoverIps.find((f) => matchesIp(f, address, block));
    if (!found) {
        const known = failoverIps.map((f) => f.ip ?? f.block).join(", ");
        throw new MoveConfigError(`${address} is not a failover IP of Public Cloud project ${serviceName} (its failover IPs: ${known || "none"})`);
    }
    const id = found.id;
    const instances = await api.request<CloudInstance[]>("GET", route(INSTANCES, { serviceName }));
    const instance = resolveInstance(instances, target.instance, serviceName);
    const nameOf = (instanceId: string) => {
        const i = instances.find((x) => x.id === instanceId);
        return i ? `${i.name} (${i.id})` : instanceId || "no instance";
    };
    // Progress is left out: a line per change of state, not per poll.
    const describe = (f: CloudFailoverIp) => `failover IP ${f.id} is routed to ${nameOf(f.routedTo)}, status ${f.status}`;
    opts.log(`project ${serviceName}: ${describe(found)}; this node is instance ${nameOf(instance.id)} in ${instance.region}`);

    const readIp = () => api.request<CloudFailoverIp>("GET", route(FAILOVER_IP, { serviceName, id }));
    const settled = (f: CloudFailoverIp) => f.status !== "operationPending";
    const arrived = (f: CloudFailoverIp) => f.routedTo === instance.id && settled(f);
    const where = `GET ${route(FAILOVER_IP, { serviceName, id })}`;
    const timedOut = (what: string) => (f: CloudFailoverIp, waited: number) =>
        `timed out after ${seconds(waited)} ${what}: ${describe(f)}${f.progress ? ` (progress ${f.progress}%)` : ""}; ` +
        `the operation may still complete (see ${where})`;
    const result = (moved: boolean, previous: string): MoveResult => ({
        moved,
        block,
        routedTo: instance.id,
        previous: previous || null,
        elapsedMs: Date.now() - clock.started,
    });

    let current = found;
    if (!settled(current)) {
        // Another node's attach, or a run of ours that timed out: let it end, then decide.
        opts.log("an operation is pending on the failover IP; waiting for it to end before deciding");
        current = await pollUntil(current, readIp, settled, describe, timedOut("waiting for the pending operation"), opts, clock);
        opts.log(describe(current));
    }
    const previous = current.routedTo;
    if (arrived(current)) {
        opts.log(`already routed to ${nameOf(instance.id)}: nothing to do`);
        return result(false, previous);
    }
    const yielded = (opts.yieldTo ?? []).find((y) => instances.some((i) => (i.id === y || i.name === y) && i.id === previous));
    if (yielded !== undefined) {
        opts.log(`routed to ${nameOf(previous)}, a node this one yields to: left there`);
        return { ...result(false, previous), routedTo: previous };
    }

    opts.log(`attaching to instance ${nameOf(instance.id)}`);
    try {
        current = await api.request<CloudFailoverIp>("POST", route(ATTACH, { serviceName, id }), { instanceId: instance.id });
    } catch (err) {
        if (!(err instanceof OvhApiError) || !err.ambiguous) throw err;
        // No answer or a 5xx: the attach may have been applied. Look before failing.
        opts.log(`${err.message}; checking whether the attach was applied anyway`);
        const seen = await readIp();
        if (seen.routedTo !== instance.id && settled(seen)) throw err;
        opts.log(describe(seen));
        const ended = await pollUntil(seen, readIp, settled, describe, timedOut("waiting for the attach"), opts, clock);
        if (!arrived(ended)) throw err;
        opts.log(`moved: routed to ${nameOf(instance.id)} after ${seconds(Date.now() - clock.started)}`);
        return result(true, previous);
    }
    opts.log(`attach accepted: ${describe(current)}; waiting for OVH to route it`);
    const ended = await pollUntil(current, readIp, settled, describe, timedOut("waiting for the attach"), opts, clock);
    if (!arrived(ended)) {
        throw new Error(`the attach ended but ${describe(ended)}, not to ${nameOf(instance.id)} (another node may have claimed it meanwhile)`);
    }
    opts.log(`moved: routed to ${nameOf(instance.id)} after ${seconds(Date.now() - clock.started)}`);
    return result(true, previous);
}

// ---------------------------------------------------------------------------------------
// Dedicated servers (/ip)
// ---------------------------------------------------------------------------------------

/** ip.Ip, the fields read here. */
interface IpInfo {
    ip: string;
    routedTo?: { serviceName?: string | null } | null;
}

/** ip.IpTask, the fields read here. */
interface IpTask {
    taskId: number;
    function: string;
    /** ip.TaskStatusEnum */
    status: "cancelled" | "customerError" | "doing" | "done" | "init" | "ovhError" | "todo";
    comment?: string | null;
}

const IP = "/ip/{ip}";
const IP_MOVE = "/ip/{ip}/move";
const IP_TASKS = "/ip/{ip}/task";
const IP_TASK = "/ip/{ip}/task/{taskId}";
const MOVE_FUNCTION = "genericMoveFloatingIp";
const UNFINISHED: IpTask["status"][] = ["init", "todo", "doing"];

async function moveDedicated(
    api: OvhApi,
    target: Extract<MoveTarget, { kind: "dedicated" }>,
    ip: string,
    opts: MoveOptions,
    clock: Clock,
): Promise<MoveResult> {
    const { address, block } = parseIpBlock(ip);
    const to = target.serviceName;
    const hint = block.endsWith("/32") ? ` (if ${address} is part of a larger failover block, give -ip the whole block, <first address>/<prefix>)` : "";
    const readRouting = async () => (await api.request<IpInfo>("GET", route(IP, { ip: block }))).routedTo?.serviceName ?? null;
    const before = await lookup(readRouting(), `IP block ${block}${hint}`);
    opts.log(`${block} is routed to ${before ?? "nothing"}`);
    const result = (moved: boolean): MoveResult => ({ moved, block, routedTo: to, previous: before, elapsedMs: Date.now() - clock.started });
    if (before === to) {
        opts.log(`already routed to ${to}: nothing to do`);
        return result(false);
    }
    if (before !== null && (opts.yieldTo ?? []).includes(before)) {
        opts.log(`routed to ${before}, a node this one yields to: left there`);
        return { ...result(false), routedTo: before };
    }

    const readTask = (taskId: number) => api.request<IpTask>("GET", route(IP_TASK, { ip: block, taskId }));
    const describe = (t: IpTask) => `move task ${t.taskId} is ${t.status}`;
    const waitTask = (task: IpTask) =>
        pollUntil(
            task,
            () => readTask(task.taskId),
            (t) => !UNFINISHED.includes(t.status),
            describe,
            (t, waited) =>
                `timed out after ${seconds(waited)} waiting for the move: ${describe(t)}; it may still complete (see GET ${route(IP_TASK, { ip: block, taskId: t.taskId })})`,
            opts,
            clock,
        );

    opts.log(`moving to ${to}`);
    let task: IpTask;
    try {
        task = await api.request<IpTask>("POST", route(IP_MOVE, { ip: block }), { to });
    } catch (err) {
        if (!(err instanceof OvhApiError) || !err.ambiguous) throw err;
        // No answer or a 5xx: a move task may exist. Wait for any, then look where the IP is.
        opts.log(`${err.message}; checking whether the move was applied anyway`);
        for (const status of UNFINISHED) {
            const ids = await api.request<number[]>("GET", `${route(IP_TASKS, { ip: block })}?function=${MOVE_FUNCTION}&status=${status}`);
            for (const taskId of ids) {
                const pending = await readTask(taskId);
                opts.log(describe(pending));
                await waitTask(pending);
            }
        }
        const now = await readRouting();
        if (now !== to) throw err;
        opts.log(`moved: routed to ${to} after ${seconds(Date.now() - clock.started)}`);
        return result(true);
    }
    opts.log(`${describe(task)}; waiting for it to end`);
    const ended = await waitTask(task);
    if (ended.status !== "done") {
        throw new Error(`OVH move task ${ended.taskId} of ${block} to ${to} ended '${ended.status}'${ended.comment ? `: ${ended.comment}` : ""}`);
    }
    const after = await readRouting();
    if (after !== to) {
        throw new Error(`OVH move task ${ended.taskId} is done but ${block} is routed to ${after ?? "nothing"}, not ${to}`);
    }
    opts.log(`moved: routed to ${to} after ${seconds(Date.now() - clock.started)}`);
    return result(true);
}

/**
 * Routes the failover IP to the target: a Public Cloud instance (by name or id) or a dedicated
 * server. Sends nothing when it is already there. Throws MoveConfigError (the names do not fit),
 * MoveTimeoutError (OVH not done within timeoutMs), OvhApiError or Error (refused or failed).
 */
export async function moveFailoverIp(api: OvhApi, target: MoveTarget, ip: string, opts: MoveOptions): Promise<MoveResult> {
    const started = Date.now();
    const clock: Clock = { started, deadline: started + opts.timeoutMs };
    return target.kind === "cloud" ? moveCloud(api, target, ip, opts, clock) : moveDedicated(api, target, ip, opts, clock);
}

/** An access rule of POST /auth/credential (auth.AccessRuleRequest). */
export interface AccessRule {
    /** auth.HTTPMethodEnum */
    method: "GET" | "POST" | "PUT" | "DELETE";
    path: string;
}

/**
 * The OVH API access rules a node's consumer key needs to run ovh-ipmove, and nothing more: the
 * routes it calls, with the project or the IP block written in (`*` only for the failover IP's id
 * and the task id, which are not known in advance). An IP block is written in both spellings, URL
 * encoded as the client sends it (146.59.143.231%2F32) and plain (146.59.143.231/32), since OVH does
 * not say which one its rules are matched against; both name the same block.
 */
export function ipmoveAccessRules(target: MoveTarget, ip: string): AccessRule[] {
    if (target.kind === "cloud") {
        const project = encodeURIComponent(target.project);
        return [
            { method: "GET", path: `/cloud/project/${project}/ip/failover` },
            { method: "GET", path: `/cloud/project/${project}/ip/failover/*` },
            { method: "POST", path: `/cloud/project/${project}/ip/failover/*/attach` },
            { method: "GET", path: `/cloud/project/${project}/instance` },
        ];
    }
    const { block } = parseIpBlock(ip);
    return [encodeURIComponent(block), block].flatMap((b): AccessRule[] => [
        { method: "GET", path: `/ip/${b}` },
        { method: "POST", path: `/ip/${b}/move` },
        { method: "GET", path: `/ip/${b}/task` },
        { method: "GET", path: `/ip/${b}/task/*` },
    ]);
}
