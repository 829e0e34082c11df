// The Pulumi dynamic provider of MoveCheck: what OVH would do to a block routed to a server or into
// a vRack, read (GET only) before the routing resource that moves it runs. Each refusal names the
// stack key the block comes from (`subject`) and the reason. It never changes anything at OVH:
// delete does nothing, read re-reads where the block is routed.
import type * as pulumi from "@pulumi/pulumi";
import { parseOvhRegion, regionsCompatible } from "./blocks";
import { DEFAULT_RETRY, OVH_SETTINGS, OvhApi, OvhApiError, OvhApiSettings, ovhClientOptions, route } from "./ovhApiClient";
import { macLimitOf } from "./virtualMacProvider";

export type MoveDestinationType = "dedicatedServer" | "vrack";

export interface MoveCheckInputs {
    /** The block as OVH holds it (a lone IP is its /32). */
    block: string;
    destinationType: MoveDestinationType;
    /** The dedicated server's service name, or the vRack's (pn-…). */
    destination: string;
    /** A bridged IP of the block needs a virtual MAC on the destination server. */
    needsVirtualMacs: boolean;
    /** Into a vRack: losing the block's virtual MACs is accepted. */
    dropVirtualMacs: boolean;
    /** The destination server's most distinct virtual MACs, from the stack (else the hardware rule). */
    macLimit?: number;
    /** The stack key named in a refusal, e.g. ipBlocks.web or endpoints.proxy.ip. */
    subject: string;
    /** Retry bounds of the reads (operational, never a reason to check again). */
    retry?: { attempts?: number; baseDelayMs?: number };
}

export interface MoveCheckOutputs extends MoveCheckInputs {
    /** Where OVH routed the block when it was checked (ip.RoutedTo.serviceName), null: nowhere. */
    routedTo: string | null;
    /** Whether the routing resource moves the block (false: it is there already). */
    moves: boolean;
    /** The distinct virtual MACs the block's addresses have where it is routed now. */
    virtualMacs: number;
    /** The destination server's virtual MACs before the move, when counted. */
    destinationVirtualMacs?: number;
    /** The limit those were held to, when one is known. */
    virtualMacLimit?: number;
    /**
     * Set only by a refresh (read) that found the block routed elsewhere than the destination,
     * moved by hand or never moved: the next up checks again before the block moves (back).
     */
    foundElsewhere?: boolean;
}

/**
 * What a refusal says: the key, the block, where it was going, and why not. A plain Error: the
 * provider's code is serialized, and a subclass of Error rebuilt from it comes back without its
 * message (the engine then shows "error: undefined"; seen with the real CLI in
 * test/engine/moveCheck.engine.test.ts).
 */
export function moveRefused(inputs: MoveCheckInputs, reason: string): Error {
    return new Error(`${inputs.subject}: ${inputs.block} is not routed to ${inputs.destination}, refused before anything moves: ${reason}`);
}

/**
 * The dynamic provider sees the stack's config only through the provider resource it runs under
 * (OvhApiProvider; @pulumi/pulumi cmd/dynamic-provider `configure`), as virtualMacProvider does.
 */
const configured: { ovh: OvhApiSettings } = { ovh: {} };

function apiFor(inputs: MoveCheckInputs, log: (line: string) => void): OvhApi {
    const retry = { ...DEFAULT_RETRY, ...(inputs.retry ?? {}) };
    return new OvhApi(ovhClientOptions(configured.ovh), retry, log);
}

/** ip.Ip, the fields read here (ip.json: routedTo is ip.RoutedTo|null, regions is alpha). */
interface IpDetails {
    routedTo?: { serviceName?: string | null } | null;
    regions?: string[] | null;
    campus?: string | null;
}

/**
 * The block as OVH holds it. GET /ip/{ip} needs the block exactly (ip.json `ip: ipBlock`); a
 * 404 there is explained with GET /ip?ip=, whose filter is "contains or equals": a bigger block
 * holding it, which OVH moves only whole (ovh/docs move-failover-ip: "Migration only works for
 * whole blocks, it is not possible to migrate individual IPs within a block").
 */
async function blockDetails(api: OvhApi, inputs: MoveCheckInputs): Promise<IpDetails> {
    try {
        return await api.request<IpDetails>("GET", route("/ip/{ip}", { ip: inputs.block }));
    } catch (err) {
        if (!(err instanceof OvhApiError) || err.status !== 404) throw err;
    }
    const holding = await api.request<string[]>("GET", `${route("/ip", {})}?ip=${encodeURIComponent(inputs.block)}`);
    const bigger = holding.filter((b) => b !== inputs.block);
    if (bigger.length > 0) {
        throw moveRefused(inputs, `OVH holds it in the block ${bigger.join(", ")}, and OVH moves only whole blocks: declare that block (ipBlocks) and route it as a whole`);
    }
    throw moveRefused(inputs, `the OVH account has no block ${inputs.block} (GET /ip/${inputs.block} is a 404, and GET /ip?ip=${inputs.block} finds none holding it)`);
}

const inBlock = (block: string, address: string): boolean => {
    const [network, length] = block.split("/");
    const value = (ip: string) => ip.split(".").reduce((n, octet) => n * 256 + Number(octet), 0);
    const size = 2 ** (32 - Number(length ?? 32));
    const start = value(network);
    return address.includes(".") && !address.includes(":") && value(address) >= start && value(address) < start + size;
};

/**
 * The virtual MACs of the server the block is routed to that carry one of its addresses, with
 * those addresses. Nothing when it is routed to no dedicated server (a vRack, or nowhere): a 404
 * on the server's MACs says it is not one.
 */
async function macsOfBlock(api: OvhApi, block: string, routedTo: string | null): Promise<Map<string, string[]>> {
    const found = new Map<string, string[]>();
    if (routedTo === null) return found;
    let macs: string[];
    try {
        macs = await api.request<string[]>("GET", route("/dedicated/server/{serviceName}/virtualMac", { serviceName: routedTo }));
    } catch (err) {
        if (err instanceof OvhApiError && err.status === 404) return found;
        throw err;
    }
    for (const mac of macs) {
        const addresses = await api.request<string[]>("GET", route("/dedicated/server/{serviceName}/virtualMac/{macAddress}/virtualAddress", { serviceName: routedTo, macAddress: mac }));
        const mine = addresses.filter((a) => inBlock(block, a));
        if (mine.length > 0) found.set(mac.toLowerCase(), mine);
    }
    return found;
}

const describeMacs = (macs: Map<string, string[]>): string => [...macs].map(([mac, ips]) => `${mac} (${ips.join(", ")})`).join(", ");

/**
 * Why OVH refused, with the region rule spelled out when the block's regions (ip.Ip.regions) and
 * the server's (dedicated.server.Dedicated.region) are apart (ovh/docs move-failover-ip: a block
 * stays in its region, except among eu-west-gra, eu-west-rbx and eu-west-sbg: blocks.ts).
 */
async function explainRefusal(api: OvhApi, inputs: MoveCheckInputs, details: IpDetails, ovhMessage: string): Promise<string> {
    const said = `OVH says it cannot be moved there (GET /dedicated/server/${inputs.destination}/ipCanBeMovedTo?ip=${inputs.block}): ${ovhMessage}`;
    const regions = details.regions ?? [];
    if (regions.length === 0) return said;
    const server = await api.request<{ region?: string | null }>("GET", route("/dedicated/server/{serviceName}", { serviceName: inputs.destination }));
    const known = (r: string | null | undefined) => {
        try {
            return parseOvhRegion(r);
        } catch {
            return undefined;
        }
    };
    const to = known(server.region);
    const from = regions.map(known).filter((r) => r !== undefined);
    if (to === undefined || from.length === 0 || from.some((r) => regionsCompatible(r, to))) return said;
    return `${said}; the block is in ${regions.join(", ")} and ${inputs.destination} is in ${to}: a block stays in its region (eu-west-gra, eu-west-rbx and eu-west-sbg move among themselves): route it to a server of its region`;
}

/**
 * The checks, read-only. Already routed to the destination: nothing moves, and only a bridged IP's
 * need of virtual MACs is checked. To a server: vmac.supported, OVH's own verdict
 * (ipCanBeMovedTo: void when yes, an error saying why: dedicated-server.json), and the distinct
 * MACs after the move within the limit (OVH moves an IP's virtual MACs with it: ovh/docs
 * move-failover-ip, "those addresses are temporarily suspended. They will appear on the new server
 * once the move is complete"; network_virtual_mac's FAQ refuses a move past the limit). Into a
 * vRack: the block's MACs are lost (move-failover-ip: "If an IP block is moved/added to the vRack
 * … any virtual MAC address will be lost during the transfer"), refused unless dropVirtualMacs.
 */
export async function checkMove(inputs: MoveCheckInputs, log: (line: string) => void = () => undefined): Promise<MoveCheckOutputs> {
    const api = apiFor(inputs, log);
    const details = await blockDetails(api, inputs);
    const routedTo = details.routedTo?.serviceName ?? null;
    const here = routedTo === inputs.destination;
    const toServer = inputs.destinationType === "dedicatedServer";

    if (toServer && inputs.needsVirtualMacs) {
        const spec = await api.request<{ vmac?: { supported?: boolean } | null }>("GET", route("/dedicated/server/{serviceName}/specifications/network", { serviceName: inputs.destination }));
        if (spec.vmac?.supported === false) {
            throw moveRefused(inputs, `${inputs.destination} takes no virtual MAC (GET /dedicated/server/${inputs.destination}/specifications/network: vmac.supported is false), and a bridged IP of the block needs one: use routed mode (servers.<server>.routed) or a vRack block`);
        }
    }
    if (here) return { ...inputs, routedTo, moves: false, virtualMacs: 0 };

    const macs = await macsOfBlock(api, inputs.block, routedTo);
    if (!toServer) {
        if (macs.size > 0 && !inputs.dropVirtualMacs) {
            throw moveRefused(inputs, `moving a block into a vRack drops its virtual MACs (ovh/docs move-failover-ip), and on ${routedTo} it has ${macs.size}: ${describeMacs(macs)}; set ${inputs.subject}.dropVirtualMacs true to accept losing them, or remove them first`);
        }
        return { ...inputs, routedTo, moves: true, virtualMacs: macs.size };
    }

    try {
        await api.request<unknown>("GET", `${route("/dedicated/server/{serviceName}/ipCanBeMovedTo", { serviceName: inputs.destination })}?ip=${encodeURIComponent(inputs.block)}`);
    } catch (err) {
        // OVH's word on the move is a 4xx about it. Who may ask (401, 403: a consumer key without
        // GET /dedicated/server/*/ipCanBeMovedTo) and how often (429) say nothing of the move.
        if (!(err instanceof OvhApiError) || err.status === undefined || err.status >= 500 || [401, 403, 429].includes(err.status)) throw err;
        // The explanation reads the server: when that read fails, OVH's own words still stand.
        const why = await explainRefusal(api, inputs, details, err.ovhMessage).catch(() => `OVH says it cannot be moved there (GET /dedicated/server/${inputs.destination}/ipCanBeMovedTo?ip=${inputs.block}): ${err.ovhMessage}`);
        throw moveRefused(inputs, why);
    }

    const found = await macLimitOf(api, inputs.destination, inputs.macLimit);
    if (found === undefined || macs.size === 0) return { ...inputs, routedTo, moves: true, virtualMacs: macs.size, virtualMacLimit: found?.limit };
    const there = await api.request<string[]>("GET", route("/dedicated/server/{serviceName}/virtualMac", { serviceName: inputs.destination }));
    if (there.length + macs.size > found.limit) {
        throw moveRefused(inputs, `its virtual MACs move with it, and ${inputs.destination} has ${there.length} while the block brings ${macs.size} (${describeMacs(macs)}): ${there.length + macs.size} would pass the limit of ${found.limit} (${found.why}); remove MACs first, or route the block to another server`);
    }
    return { ...inputs, routedTo, moves: true, virtualMacs: macs.size, destinationVirtualMacs: there.length, virtualMacLimit: found.limit };
}

/** The inputs whose change is checked again: every one but the retry bounds. */
const CHECKED_KEYS: (keyof MoveCheckInputs)[] = ["block", "destinationType", "destination", "needsVirtualMacs", "dropVirtualMacs", "macLimit", "subject"];

export function changedKeys(olds: MoveCheckInputs, news: MoveCheckInputs): (keyof MoveCheckInputs)[] {
    return CHECKED_KEYS.filter((k) => JSON.stringify(olds[k] ?? null) !== JSON.stringify(news[k] ?? null));
}

/**
 * Whether the check runs again: a checked input changed, or a refresh found the block elsewhere
 * than the destination. A block the last check let move is not checked again on the next up
 * (the routing resource moved it, or retries the move that check allowed), so that up is quiet.
 * The retry bounds and the serialized provider code are not checked inputs.
 */
export function checksAgain(olds: MoveCheckOutputs, news: MoveCheckInputs): boolean {
    return changedKeys(olds, news).length > 0 || olds.foundElsewhere === true;
}

/**
 * Where OVH routes the block now (GET /ip/{ip}, as the check reads it), null: nowhere, or the
 * account no longer holds the block as such (the check run next says why).
 */
export async function readRouting(inputs: MoveCheckInputs, log: (line: string) => void = () => undefined): Promise<string | null> {
    const api = apiFor(inputs, log);
    try {
        const details = await api.request<IpDetails>("GET", route("/ip/{ip}", { ip: inputs.block }));
        return details.routedTo?.serviceName ?? null;
    } catch (err) {
        if (err instanceof OvhApiError && err.status === 404) return null;
        throw err;
    }
}

export const moveCheckProvider: pulumi.dynamic.ResourceProvider = {
    async configure(req: pulumi.dynamic.ConfigureRequest) {
        configured.ovh = Object.fromEntries(OVH_SETTINGS.map((s) => [s.key, req.config.get(s.config)]).filter(([, v]) => v)) as OvhApiSettings;
    },
    async create(inputs: MoveCheckInputs) {
        const outs = await checkMove(inputs);
        return { id: `${outs.block}>${outs.destination}`, outs };
    },
    async read(id: string, props: MoveCheckOutputs) {
        // Nothing at OVH is this resource's, but where the block is routed is what diff compares:
        // a block moved by hand shows here, and the next up checks again before it moves back.
        const routedTo = await readRouting(props);
        const found: MoveCheckOutputs = { ...props, routedTo, moves: routedTo !== props.destination };
        delete found.foundElsewhere;
        if (found.moves) found.foundElsewhere = true;
        return { id, props: found };
    },
    async diff(_id: string, olds: MoveCheckOutputs, news: MoveCheckInputs) {
        // Never a replacement: an update checks again, and deleting a check does nothing.
        return { changes: checksAgain(olds, news), replaces: [], deleteBeforeReplace: false };
    },
    async update(_id: string, _olds: MoveCheckOutputs, news: MoveCheckInputs) {
        return { outs: await checkMove(news) };
    },
    async delete() {
        // It only checked: nothing to undo.
    },
};
