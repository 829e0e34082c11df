// The Pulumi dynamic provider for an OVH virtual MAC, which the OVH Pulumi provider does not have.
// Routes (dedicated-server.json): POST /dedicated/server/{sn}/virtualMac creates a task; the task
// does not say which MAC it made, so the MAC is found afterwards as the one carrying the IP. An IP
// that shares the MAC of another is added to it with POST …/virtualMac/{mac}/virtualAddress
// {ipAddress, virtualMachineName} ("Add an IP to this Virtual MAC"; ovh/docs network_virtual_mac
// names a POST on …/virtualAddress/{ipAddress} instead, which the schema does not have).
import type * as pulumi from "@pulumi/pulumi";
import { DEFAULT_RETRY, OVH_SETTINGS, OvhApi, OvhApiError, OvhApiSettings, ovhClientOptions, route, sleep } from "./ovhApiClient";

export interface VirtualMacTiming {
    /** How often a task is polled. */
    pollIntervalMs: number;
    /** How long a task may run before the operation fails. */
    taskTimeoutMs: number;
    retryAttempts: number;
    retryBaseDelayMs: number;
}

export const DEFAULT_TIMING: VirtualMacTiming = {
    pollIntervalMs: 5000,
    taskTimeoutMs: 10 * 60 * 1000,
    retryAttempts: DEFAULT_RETRY.attempts,
    retryBaseDelayMs: DEFAULT_RETRY.baseDelayMs,
};

export interface VirtualMacInputs {
    /** Service name of the dedicated server the IP is routed to. */
    serviceName: string;
    ipAddress: string;
    /** dedicated.server.VmacTypeEnum. */
    type: "ovh" | "vmware";
    virtualMachineName: string;
    /** The MAC the IP is known to have already (adoption); a different one is an error. */
    expectedMacAddress?: string;
    /**
     * Share this existing MAC of the server (another IP's) instead of making one: the IP is added
     * to it, and delete removes only this IP from it (the MAC stays while other IPs use it).
     */
    shareMacOf?: string;
    /**
     * The most distinct virtual MACs the server takes: a create that would make one more is
     * refused before its POST. OVH's API has no such field (the stack's virtualMacLimit).
     */
    macLimit?: number;
    /** Operational tuning; never a reason to replace the MAC. */
    timing?: Partial<VirtualMacTiming>;
}

export interface VirtualMacOutputs extends VirtualMacInputs {
    macAddress: string;
    /**
     * The type OVH reports. An adopted MAC may differ from the `type` asked for (seed 000 made a
     * vmware one by hand); it is kept here, not in `type`, so that it never reads as a change.
     */
    liveType: string;
}

/** dedicated.server.Task, the fields this provider reads. */
interface ServerTask {
    taskId: number;
    function: string;
    status: "cancelled" | "customerError" | "doing" | "done" | "init" | "ovhError" | "todo";
    comment?: string | null;
}

const UNFINISHED: ServerTask["status"][] = ["init", "todo", "doing"];

function timingOf(inputs: VirtualMacInputs): VirtualMacTiming {
    return { ...DEFAULT_TIMING, ...(inputs.timing ?? {}) };
}

/**
 * What `configure` was given. A dynamic provider sees the stack's config only through the provider
 * resource it runs under (@pulumi/pulumi cmd/dynamic-provider: `configure` gets that provider's
 * inputs; the default `pulumi-nodejs` provider has none of the `ovh:` keys): OvhApiProvider
 * carries them. Unset settings fall back to the environment, as the OVH provider's do.
 */
const configured: { ovh: OvhApiSettings } = { ovh: {} };

function apiFor(inputs: VirtualMacInputs, log: (line: string) => void = () => undefined): OvhApi {
    const t = timingOf(inputs);
    return new OvhApi(ovhClientOptions(configured.ovh), { attempts: t.retryAttempts, baseDelayMs: t.retryBaseDelayMs, maxDelayMs: 15000 }, log);
}

/** The virtual MAC of the server that carries this IP, if any, with its type. */
export async function findMacForIp(api: OvhApi, serviceName: string, ip: string): Promise<{ macAddress: string; type: string } | undefined> {
    const macs = await api.request<string[]>("GET", route("/dedicated/server/{serviceName}/virtualMac", { serviceName }));
    for (const mac of macs) {
        const ips = await api.request<string[]>("GET", route("/dedicated/server/{serviceName}/virtualMac/{macAddress}/virtualAddress", { serviceName, macAddress: mac }));
        if (ips.includes(ip)) {
            const details = await api.request<{ macAddress: string; type: string }>(
                "GET",
                route("/dedicated/server/{serviceName}/virtualMac/{macAddress}", { serviceName, macAddress: mac }),
            );
            return { macAddress: mac.toLowerCase(), type: details.type };
        }
    }
    return undefined;
}

/** A task still unfinished when the wait ran out: nothing is known yet, so nothing may be retried. */
export class TaskTimeoutError extends Error {
    constructor(message: string) {
        super(message);
        // Serialized provider code loses what super() sets (see OvhApiError).
        this.message = message;
        this.name = "TaskTimeoutError";
    }
}

/** Polls a server task until it ends; a task that fails or outlives the bound is an error. */
export async function waitForTask(api: OvhApi, serviceName: string, task: ServerTask, timing: VirtualMacTiming, what: string): Promise<void> {
    const deadline = Date.now() + timing.taskTimeoutMs;
    let current = task;
    while (UNFINISHED.includes(current.status)) {
        if (Date.now() >= deadline) {
            throw new TaskTimeoutError(
                `${what}: OVH task ${task.taskId} (${task.function}) on ${serviceName} is still '${current.status}' after ${(timing.taskTimeoutMs / 1000).toFixed(1)} s; ` +
                    `see GET /dedicated/server/${serviceName}/task/${task.taskId}, then run pulumi up again: the operation resumes where it is`,
            );
        }
        await sleep(timing.pollIntervalMs);
        current = await api.request<ServerTask>("GET", route("/dedicated/server/{serviceName}/task/{taskId}", { serviceName, taskId: task.taskId }));
    }
    if (current.status !== "done") {
        throw new Error(`${what}: OVH task ${task.taskId} (${task.function}) on ${serviceName} ended '${current.status}'${current.comment ? `: ${current.comment}` : ""}`);
    }
}

/** Waits for every unfinished task of a function, e.g. an addVirtualMac sent by a run that crashed. */
// dedicated.TaskFunctionEnum names each of these two ways; the live API may use either.
const ADD_FUNCTIONS = ["addVirtualMac", "virtualMacAdd"];
const REMOVE_FUNCTIONS = ["removeVirtualMac", "virtualMacDelete"];

async function waitForPendingTasks(api: OvhApi, serviceName: string, functions: string[], timing: VirtualMacTiming, what: string): Promise<number> {
    let waited = 0;
    for (const fn of functions) for (const status of UNFINISHED) {
        const ids = await api.request<number[]>("GET", `${route("/dedicated/server/{serviceName}/task", { serviceName })}?function=${fn}&status=${status}`);
        for (const taskId of ids) {
            const task = await api.request<ServerTask>("GET", route("/dedicated/server/{serviceName}/task/{taskId}", { serviceName, taskId }));
            // A pending task that failed made nothing, so ours can be sent. One still running may be
            // making this very MAC (a run that crashed after its POST): sending again could make a
            // second one, so the wait's timeout is an error.
            await waitForTask(api, serviceName, task, timing, what).catch((err: unknown) => {
                if (err instanceof TaskTimeoutError) throw err;
            });
            waited++;
        }
    }
    return waited;
}

/** The length of a block's prefix (an address alone is its /32). */
function prefixOf(block: string): number {
    const [, prefix] = block.split("/");
    return prefix === undefined ? 32 : Number(prefix);
}

/**
 * The block OVH holds the IP in, and where it is routed (ip.RoutedTo.serviceName; null: nowhere),
 * or undefined when the account has no block holding it. GET /ip/{ip} needs the block exactly as
 * OVH holds it (one address of a /29 is a 404 there), so the block is found first with the filter
 * of GET /ip whose "ip" is "contains or equals" (ip.json), the smallest one when several match.
 */
async function routingOf(api: OvhApi, ipAddress: string): Promise<{ block: string; routedTo: string | null } | undefined> {
    const blocks = await api.request<string[]>("GET", `${route("/ip", {})}?ip=${encodeURIComponent(ipAddress)}`);
    const block = [...blocks].sort((a, b) => prefixOf(b) - prefixOf(a))[0];
    if (block === undefined) return undefined;
    try {
        const ip = await api.request<{ routedTo?: { serviceName?: string | null } | null }>("GET", route("/ip/{ip}", { ip: block }));
        return { block, routedTo: ip.routedTo?.serviceName ?? null };
    } catch (err) {
        if (err instanceof OvhApiError && err.status === 404) return undefined; // gone between the two reads
        throw err;
    }
}

const MAC_ADDRESS = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;

/** The MAC to share, lower-case, or undefined; an error for anything that is not a MAC. */
function sharedMacOf(inputs: VirtualMacInputs): string | undefined {
    if (inputs.shareMacOf === undefined || inputs.shareMacOf === "") return undefined;
    const mac = inputs.shareMacOf.toLowerCase();
    if (!MAC_ADDRESS.test(mac)) throw new Error(`virtual MAC for ${inputs.ipAddress}: shareMacOf ${JSON.stringify(inputs.shareMacOf)} is not a MAC address (aa:bb:cc:dd:ee:ff)`);
    return mac;
}

/**
 * The limit of a server the caller gave none for: OVH's API states none, but ovh/docs
 * network_virtual_mac (2025-05-16) says "Third generation Advance servers (powered by EPYC 4004
 * Series processors) support 32 different vMACs", and the processor is in
 * GET /dedicated/server/{sn}/specifications/hardware (processorName). Read at create time only,
 * so that the resource's inputs (and the offline plan) do not depend on it.
 */
async function limitOfHardware(api: OvhApi, serviceName: string): Promise<{ limit: number; why: string } | undefined> {
    const hardware = await api.request<{ processorName?: string | null }>("GET", route("/dedicated/server/{serviceName}/specifications/hardware", { serviceName }));
    const cpu = hardware.processorName ?? "";
    return /\bEPYC 4\d{3}/.test(cpu) ? { limit: 32, why: `its processor, ${cpu}, makes it a third-generation Advance server, which OVH's guide gives 32` } : undefined;
}

/**
 * The most distinct virtual MACs a server takes, and why: the caller's (the stack's
 * servers.<name>.virtualMacLimit), else the hardware's (limitOfHardware); undefined when neither
 * says. Also read by the MoveCheck provider, before a move brings MACs to the server.
 */
export async function macLimitOf(api: OvhApi, serviceName: string, macLimit: number | undefined): Promise<{ limit: number; why: string } | undefined> {
    return macLimit !== undefined
        ? { limit: macLimit, why: "macLimit, from the stack's virtualMacLimit for this server; OVH's API has no such field" }
        : await limitOfHardware(api, serviceName);
}

/** Refuses a create that would make one more distinct MAC than the server takes (macLimitOf). */
async function checkMacLimit(api: OvhApi, inputs: VirtualMacInputs, what: string): Promise<void> {
    const found = await macLimitOf(api, inputs.serviceName, inputs.macLimit);
    if (found === undefined) return;
    const limit = found.limit;
    const macs = await api.request<string[]>("GET", route("/dedicated/server/{serviceName}/virtualMac", { serviceName: inputs.serviceName }));
    if (macs.length + 1 > limit) {
        throw new Error(
            `${what}: ${inputs.serviceName} has ${macs.length} virtual MACs and takes at most ${limit} (${found.why}): ` +
                `share an existing MAC (shareMacOf), use routed mode, or remove a MAC first`,
        );
    }
}

function describe(inputs: VirtualMacInputs): string {
    return `virtual MAC for ${inputs.ipAddress} on ${inputs.serviceName}`;
}

export async function createVirtualMac(inputs: VirtualMacInputs, log: (line: string) => void = () => undefined): Promise<VirtualMacOutputs> {
    const api = apiFor(inputs, log);
    const timing = timingOf(inputs);
    const what = `create ${describe(inputs)}`;
    const { serviceName, ipAddress } = inputs;

    const shared = sharedMacOf(inputs);

    // Adopt: the IP may already have a MAC (made by hand, or by an earlier run that crashed).
    const adopt = async (): Promise<VirtualMacOutputs | undefined> => {
        const found = await findMacForIp(api, serviceName, ipAddress);
        if (!found) return undefined;
        if (inputs.expectedMacAddress && inputs.expectedMacAddress.toLowerCase() !== found.macAddress) {
            throw new Error(`${what}: ${ipAddress} has virtual MAC ${found.macAddress}, not the expected ${inputs.expectedMacAddress}`);
        }
        if (shared !== undefined && shared !== found.macAddress) {
            throw new Error(
                `${what}: ${ipAddress} already has its own virtual MAC ${found.macAddress}, not ${shared} it should share; remove that MAC from it (DELETE /dedicated/server/${serviceName}/virtualMac/${found.macAddress}/virtualAddress/${ipAddress}) and run pulumi up again`,
            );
        }
        if (found.type !== inputs.type) {
            log(`${ipAddress} already has virtual MAC ${found.macAddress} of type ${found.type} (not ${inputs.type}); adopting it as it is`);
        }
        return { ...inputs, macAddress: found.macAddress, liveType: found.type };
    };
    const existing = await adopt();
    if (existing) return existing;
    if ((await waitForPendingTasks(api, serviceName, ADD_FUNCTIONS, timing, what)) > 0) {
        const made = await adopt();
        if (made) return made;
    }

    // The routing step before this one can succeed with the IP still routed elsewhere: the ovh
    // provider stops waiting for a move's task after 5 minutes and reports success, and a move is
    // "usually around 1 minute" (terraform-provider-ovh ovh/resource_ip_move.go, taskExpiresAfter
    // and waitForTaskFinished, which returns no error then). A MAC made now would be for a server
    // the IP does not reach yet. The IP's block is the one routed (a /29 moves whole); an IP in no
    // block of the account is left to OVH's answer.
    const routing = await routingOf(api, ipAddress);
    if (routing !== undefined && routing.routedTo !== serviceName) {
        const { block, routedTo } = routing;
        throw new Error(
            `${what}: ${ipAddress} (block ${block}) is routed to ${routedTo ?? "no server"}, not to ${serviceName}: its move has not finished (OVH's task: GET /ip/${block}/task); run pulumi up again once it is done` +
                (routedTo?.startsWith("pn-") ? ` (if ${routedTo} is a vRack: an IP of a vRack block takes no virtual MAC)` : ""),
        );
    }

    let task: ServerTask | undefined;
    try {
        if (shared !== undefined) {
            task = await api.request<ServerTask>("POST", route("/dedicated/server/{serviceName}/virtualMac/{macAddress}/virtualAddress", { serviceName, macAddress: shared }), {
                ipAddress,
                virtualMachineName: inputs.virtualMachineName,
            });
        } else {
            await checkMacLimit(api, inputs, what);
            task = await api.request<ServerTask>("POST", route("/dedicated/server/{serviceName}/virtualMac", { serviceName }), {
                ipAddress,
                type: inputs.type,
                virtualMachineName: inputs.virtualMachineName,
            });
        }
    } catch (err) {
        // No answer, or a 5xx: the MAC may be on its way. Look before doing anything else.
        if (!(err instanceof OvhApiError) || !err.ambiguous) throw err;
        log(`${err.message}; checking whether the virtual MAC was created anyway`);
        await waitForPendingTasks(api, serviceName, ADD_FUNCTIONS, timing, what);
        const made = await adopt();
        if (made) return made;
        throw err;
    }
    await waitForTask(api, serviceName, task, timing, what);
    const made = await adopt();
    if (!made) {
        throw new Error(`${what}: OVH task ${task.taskId} is done but no virtual MAC of ${serviceName} carries ${ipAddress}`);
    }
    return made;
}

/**
 * Removes this IP from its MAC. A MAC shared with other IPs stays with them; OVH removes a MAC
 * with its last address (dedicated-server.json has no DELETE on …/virtualMac/{macAddress}).
 */
export async function deleteVirtualMac(outputs: VirtualMacOutputs, log: (line: string) => void = () => undefined): Promise<void> {
    const api = apiFor(outputs, log);
    const { serviceName, ipAddress } = outputs;
    const path = route("/dedicated/server/{serviceName}/virtualMac/{macAddress}/virtualAddress/{ipAddress}", {
        serviceName,
        macAddress: outputs.macAddress,
        ipAddress,
    });
    let task: ServerTask;
    try {
        task = await api.request<ServerTask>("DELETE", path);
    } catch (err) {
        if (err instanceof OvhApiError && err.status === 404) return; // already gone
        if (!(err instanceof OvhApiError) || !err.ambiguous) throw err;
        await waitForPendingTasks(api, serviceName, REMOVE_FUNCTIONS, timingOf(outputs), `delete ${describe(outputs)}`);
        const still = await findMacForIp(api, serviceName, ipAddress);
        if (still?.macAddress === outputs.macAddress) throw err;
        return;
    }
    await waitForTask(api, serviceName, task, timingOf(outputs), `delete ${describe(outputs)}`);
}

/** The live state, or undefined when the IP no longer has a virtual MAC on that server. */
export async function readVirtualMac(state: VirtualMacOutputs): Promise<VirtualMacOutputs | undefined> {
    const found = await findMacForIp(apiFor(state), state.serviceName, state.ipAddress);
    if (!found) return undefined;
    return { ...state, macAddress: found.macAddress, liveType: found.type };
}

const REPLACING_KEYS: (keyof VirtualMacInputs)[] = ["serviceName", "ipAddress", "type", "virtualMachineName", "shareMacOf"];

/** Which inputs changed; each of them needs a new MAC (OVH has no update for any of them). */
export function changedKeys(olds: VirtualMacOutputs, news: VirtualMacInputs): (keyof VirtualMacInputs)[] {
    // shareMacOf compares as a MAC (case aside); unset and "" both mean "a MAC of its own".
    const norm = (k: keyof VirtualMacInputs, v: unknown) => (k === "shareMacOf" ? (typeof v === "string" ? v.toLowerCase() : "") : v);
    return REPLACING_KEYS.filter((k) => norm(k, olds[k]) !== norm(k, news[k]));
}

/**
 * A new MAC for the same IP must wait until the old one has let the IP go (OVH binds an IP to one
 * MAC): delete first. For another IP, the new MAC comes first, so the old IP keeps working until
 * everything after it (NIC, DNS) has moved.
 */
export function deleteBeforeReplace(replaces: string[]): boolean {
    return !replaces.includes("ipAddress");
}

/** The serialized provider code, which the SDK keeps beside the outputs (cmd/dynamic-provider). */
const PROVIDER_KEY = "__provider";

/** The provider object Pulumi serializes; each method only calls the functions above. */
export const virtualMacProvider: pulumi.dynamic.ResourceProvider = {
    async configure(req: pulumi.dynamic.ConfigureRequest) {
        configured.ovh = Object.fromEntries(OVH_SETTINGS.map((s) => [s.key, req.config.get(s.config)]).filter(([, v]) => v)) as OvhApiSettings;
    },
    async create(inputs: VirtualMacInputs) {
        const outs = await createVirtualMac(inputs);
        return { id: `${outs.serviceName}/${outs.macAddress}/${outs.ipAddress}`, outs };
    },
    async read(id: string, props: VirtualMacOutputs) {
        const live = await readVirtualMac(props);
        // Without a MAC carrying the IP the resource is gone; Pulumi drops it from state.
        if (!live) return {};
        return { id: `${live.serviceName}/${live.macAddress}/${live.ipAddress}`, props: live };
    },
    async diff(_id: string, olds: VirtualMacOutputs, news: VirtualMacInputs) {
        const replaces: string[] = changedKeys(olds, news);
        if (replaces.length === 0) {
            // Drift: the MAC in state no longer carries the IP (removed or moved by hand).
            const live = await findMacForIp(apiFor(news), news.serviceName, news.ipAddress);
            if (live?.macAddress !== olds.macAddress) replaces.push("macAddress");
        }
        // New provider code alone is an update that only stores it: `read` and `delete` run the
        // code kept in the state (cmd/dynamic-provider getProvider), so a fix reaches them only so.
        const newCode = (olds as unknown as Record<string, unknown>)[PROVIDER_KEY] !== (news as unknown as Record<string, unknown>)[PROVIDER_KEY];
        return { changes: replaces.length > 0 || newCode, replaces, deleteBeforeReplace: deleteBeforeReplace(replaces) };
    },
    async update(_id: string, olds: VirtualMacOutputs, news: VirtualMacInputs) {
        // Nothing at OVH changes (every input that does replaces): the outputs stay, with the
        // operational inputs (timing, expectedMacAddress, macLimit) as now given.
        return { outs: { ...olds, timing: news.timing, expectedMacAddress: news.expectedMacAddress, macLimit: news.macLimit } };
    },
    async delete(_id: string, props: VirtualMacOutputs) {
        await deleteVirtualMac(props);
    },
};
