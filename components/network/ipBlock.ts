// An additional IP block (/30, /29, …) routed as a whole: to a dedicated server, or into a vRack.
// OVH moves only whole blocks (ovh/docs pages/bare_metal_cloud/dedicated_servers/move-failover-ip:
// "Migration only works for whole blocks"), so the block has one routing resource, shared by every
// endpoint whose IP lies in it. Like a lone IP's, the routing is retained on delete: `pulumi
// destroy` never parks a block (ip.Move's delete) nor takes it out of its vRack (vrack.IpAddress's
// delete, DELETE /vrack/{sn}/ip/{block}: terraform-provider-ovh ovh/resource_vrack_ip.go).
import * as ovh from "@ovhcloud/pulumi-ovh";
import * as pulumi from "@pulumi/pulumi";
import { checked } from "../shared/checked";
import { blockText, Ipv4Block, parseIpv4Block, VRACK_MAX_PREFIX, vrackGateway } from "./blocks";
import { MoveCheck } from "./moveCheck";
import { OvhApiProvider } from "./ovhApiProvider";

export interface IpBlockArgs {
    /** The block as OVH holds it, e.g. 203.0.113.8/29. */
    block: string;
    /** Route it to a dedicated server (its service name), or into a vRack (its service name, pn-…). */
    routeTo: { dedicatedServer: pulumi.Input<string> } | { vrack: pulumi.Input<string>; region?: pulumi.Input<string> };
    /** Protect the routing, so that `pulumi destroy` stops at it (default true). It is retained on delete either way. */
    protect?: boolean;
    /** A vRack block already in its vRack: the id to import its routing by (`<vrack>,<block>`, from ovh-failover adopt). */
    importId?: string;
    /**
     * What the checks before the block moves (MoveCheck, which the routing waits for) are told:
     * the stack key to name in a refusal (default `<name>.block`), whether a bridged IP of the
     * block needs a virtual MAC on the server, whether a vRack may drop the block's MACs, the
     * server's MAC limit, and the provider that carries the OVH endpoint and credentials
     * (default: one of its own, from the stack's `ovh:` config).
     */
    check?: { subject?: string; needsVirtualMacs?: boolean; dropVirtualMacs?: boolean; macLimit?: number; ovhApi?: OvhApiProvider };
}

export class IpBlock extends pulumi.ComponentResource {
    readonly block: pulumi.Output<string>;
    readonly routing: ovh.ip.Move | ovh.vrack.IpAddress;
    /** The checks the routing waits for. */
    readonly moveCheck: MoveCheck;
    /** A vRack block's gateway, its penultimate address; none for a block routed to a server. */
    readonly gateway?: pulumi.Output<string>;
    readonly parsed: Ipv4Block;

    constructor(name: string, args: IpBlockArgs, opts?: pulumi.ComponentResourceOptions) {
        super("ovh-failover:network:IpBlock", name, {}, opts);
        const inVrack = "vrack" in args.routeTo;
        this.parsed = checked(this, "block", args.block, (x) => parseIpv4Block(x, inVrack ? VRACK_MAX_PREFIX : 32));
        const cidr = blockText(this.parsed);
        const ovhApi = args.check?.ovhApi ?? new OvhApiProvider(`${name}-ovh-api`, {}, { parent: this });
        this.moveCheck = new MoveCheck(`${name}-move-check`, {
            block: cidr,
            to: "vrack" in args.routeTo ? { vrack: args.routeTo.vrack } : { dedicatedServer: args.routeTo.dedicatedServer },
            needsVirtualMacs: args.check?.needsVirtualMacs ?? false,
            dropVirtualMacs: args.check?.dropVirtualMacs ?? false,
            macLimit: args.check?.macLimit,
            subject: args.check?.subject ?? `${name}.block`,
        }, { parent: this, provider: ovhApi });
        const routingOpts: pulumi.CustomResourceOptions = {
            parent: this, protect: args.protect ?? true, retainOnDelete: true, dependsOn: [this.moveCheck], ...(args.importId ? { import: args.importId } : {}),
        };
        if ("vrack" in args.routeTo) {
            // block and serviceName are ForceNew and there is no update (ovh/resource_vrack_ip.go).
            this.routing = new ovh.vrack.IpAddress(`${name}-routing`, {
                serviceName: args.routeTo.vrack,
                block: cidr,
                region: args.routeTo.region,
            }, routingOpts);
            this.gateway = pulumi.output(vrackGateway(this.parsed));
        } else {
            this.routing = new ovh.ip.Move(`${name}-routing`, {
                ip: cidr,
                routedTo: { serviceName: args.routeTo.dedicatedServer },
            }, routingOpts);
        }
        this.block = pulumi.output(cidr);
        this.registerOutputs({ block: this.block, gateway: this.gateway });
    }
}
