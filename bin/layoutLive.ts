// What adopt and drift read of an endpoint's routing at OVH, for every addressing layout
// (docs/layouts.md): the block OVH holds an address in, where a block is routed, a vRack's block,
// and a Public Cloud project's failover IP. Each answer is a plain value; a 404 is "not there".
import type { CloudEndpointSpec, EndpointSpec, IpBlockSpec, StackSpec } from "../components/config/stackConfig";
import { blockText } from "../components/network/blocks";
import { OvhApi, OvhApiError, route } from "../components/network/ovhApiClient";

const notFound = (err: unknown): boolean => err instanceof OvhApiError && err.status === 404;

/** The ipBlocks entry an endpoint's IP lies in, or undefined for a lone IP. */
export function blockOf(spec: StackSpec, e: EndpointSpec): IpBlockSpec | undefined {
    return e.block === undefined ? undefined : spec.ipBlocks.find((b) => b.name === e.block);
}

/** The block the /ip routes take for this endpoint's IP, as the stack says: its block, or its own /32. */
export const stackBlockOf = (spec: StackSpec, e: EndpointSpec): string => {
    const b = blockOf(spec, e);
    return b ? blockText(b.block) : `${e.ip}/32`;
};

/**
 * The block OVH holds an address (or a block) in: ip.json's GET /ip filter "ip" is "contains or
 * equals", so every block holding it is listed; the smallest is the one OVH routes. Undefined when
 * the account has none.
 */
export async function enclosingBlock(api: OvhApi, ipOrBlock: string): Promise<string | undefined> {
    const blocks = await api.request<string[]>("GET", `${route("/ip", {})}?ip=${encodeURIComponent(ipOrBlock)}`);
    const length = (b: string) => Number(b.split("/")[1] ?? 32);
    return [...blocks].sort((a, b) => length(b) - length(a))[0];
}

/** ip.RoutedTo.serviceName of a block (null: routed nowhere), or undefined when OVH has no such block. */
export async function routedToOf(api: OvhApi, block: string): Promise<string | null | undefined> {
    try {
        const ip = await api.request<{ routedTo?: { serviceName?: string | null } | null }>("GET", route("/ip/{ip}", { ip: block }));
        return ip.routedTo?.serviceName ?? null;
    } catch (err) {
        if (notFound(err)) return undefined;
        throw err;
    }
}

/**
 * A block of a vRack as GET /vrack/{serviceName}/ip/{ip} answers it (terraform-provider-ovh v2.19.0
 * ovh/types_vrack.go, VrackIp: gateway, ip, zone, region), or undefined when it is not in that vRack.
 */
export async function vrackIpOf(api: OvhApi, serviceName: string, block: string): Promise<{ ip: string; gateway?: string | null; region?: string } | undefined> {
    try {
        return await api.request<{ ip: string; gateway?: string | null; region?: string }>("GET", route("/vrack/{serviceName}/ip/{ip}", { serviceName, ip: block }));
    } catch (err) {
        if (notFound(err)) return undefined;
        throw err;
    }
}

/** cloud.ip.FailoverIp, the fields read here. */
export interface CloudFailoverIp {
    id: string;
    ip: string | null;
    routedTo: string | null;
    status: string;
}

/**
 * The project's failover IP with this address, as terraform-provider-ovh v2.19.0 finds it
 * (ovh/resource_cloud_project_failover_ip_attach.go, Read: GET /cloud/project/{p}/ip/failover and
 * match `ip`); undefined when the project has none. A 404 (no such project) is an error naming it.
 */
export async function cloudFailoverIp(api: OvhApi, e: CloudEndpointSpec): Promise<CloudFailoverIp | undefined> {
    const all = await api.request<CloudFailoverIp[]>("GET", route("/cloud/project/{serviceName}/ip/failover", { serviceName: e.project }));
    return all.find((f) => f.ip === e.ip);
}
