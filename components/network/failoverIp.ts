// A failover (additional) IP you already rent: where it is routed and its reverse DNS. The stack
// adopts the IP and never buys one. Its routing is retained on delete: `pulumi destroy`, removing
// an endpoint or renaming it never unroutes or parks a paid IP (the OVH provider's delete of an
// ip.Move parks the IP: terraform-provider-ovh ovh/resource_ip_move.go, resourceIpMoveDelete,
// since v2.14). See bin/plan/providerRules.ts for each provider rule relied on here.
import * as ovh from "@ovhcloud/pulumi-ovh";
import * as pulumi from "@pulumi/pulumi";
import { checked } from "../shared/checked";
import { parseFqdn, parsePublicIpv4 } from "../shared/validate";
import { MoveCheck } from "./moveCheck";
import { OvhApiProvider } from "./ovhApiProvider";

/** Where the IP is routed, or nothing when the edge nodes own its routing at run time. */
export type FailoverIpRoute =
    | { dedicatedServer: pulumi.Input<string> }
    | { cloudProject: pulumi.Input<string>; instanceId: pulumi.Input<string> };

export interface FailoverIpArgs {
    /** The failover IPv4 address, e.g. 192.0.2.10. */
    ip: string;
    /** Route it to a dedicated server (ip.Move) or attach it to a Public Cloud instance. */
    routeTo?: FailoverIpRoute;
    /**
     * The block the IP lies in, when it is not a lone /32 (an IpBlock routes it, and routeTo is
     * then left out): the /ip routes take the block as OVH holds it (ip.json, `ip: ipBlock`).
     */
    block?: string;
    /** Reverse DNS, an FQDN with its trailing dot. */
    reverse?: string;
    /**
     * What makes the reverse's name resolve to the IP (the A records): OVH refuses a reverse
     * whose name does not, so the reverse is set after them. May be given before they exist.
     */
    reverseAfter?: Promise<pulumi.Resource[]>;
    /**
     * How long the provider retries a reverse OVH refuses (a Go duration, default "60s"): at
     * least the TTL of the A record it waits for, since resolvers may hold the old one that long.
     */
    reverseReadiness?: string;
    /**
     * Protect an ip.Move, so that `pulumi destroy` stops at it (default true). It is retained on
     * delete either way; a Public Cloud attach is never protected (see below).
     */
    protect?: boolean;
    /**
     * What the checks before a move to a dedicated server (MoveCheck, which the routing waits for)
     * are told: the stack key to name in a refusal (default `<name>.ip`), whether the IP is
     * bridged (needs a virtual MAC there), the server's MAC limit, and the provider that carries
     * the OVH endpoint and credentials (default: one of its own, from the stack's `ovh:` config).
     */
    check?: { subject?: string; needsVirtualMacs?: boolean; macLimit?: number; ovhApi?: OvhApiProvider };
}

export class FailoverIp extends pulumi.ComponentResource {
    readonly ip: pulumi.Output<string>;
    /** The block the /ip API routes take for the IP: its own /32, or the block it lies in. */
    readonly block: pulumi.Output<string>;
    readonly routing?: ovh.ip.Move | ovh.cloudproject.FailoverIpAttach;
    /** The checks the move to a dedicated server waits for. */
    readonly moveCheck?: MoveCheck;
    readonly reverse?: ovh.ip.Reverse;

    constructor(name: string, args: FailoverIpArgs, opts?: pulumi.ComponentResourceOptions) {
        super("ovh-failover:network:FailoverIp", name, {}, opts);
        const ip = checked(this, "ip", args.ip, parsePublicIpv4);
        const reverse = args.reverse === undefined ? undefined : checked(this, "reverse", args.reverse, parseFqdn);
        if (args.block !== undefined && args.routeTo !== undefined) throw new pulumi.ResourceError("routeTo and block: an IP of a block is routed with its block (IpBlock), not alone", this);
        const block = args.block ?? `${ip}/32`;
        // An IP change updates the routing in place (no ForceNew in ovh_ip_move), so protecting it
        // never stands in the way of one.
        // Nothing to import: creating a Move to where the IP is routed already changes nothing
        // (ovh/resource_ip_move.go, resourceIpMoveUpdate: "no need to update if ip is already
        // routed to the appropriate service").
        const routingOpts: pulumi.CustomResourceOptions = { parent: this, protect: args.protect ?? true, retainOnDelete: true };

        if (args.routeTo && "dedicatedServer" in args.routeTo) {
            const ovhApi = args.check?.ovhApi ?? new OvhApiProvider(`${name}-ovh-api`, {}, { parent: this });
            this.moveCheck = new MoveCheck(`${name}-move-check`, {
                block,
                to: { dedicatedServer: args.routeTo.dedicatedServer },
                needsVirtualMacs: args.check?.needsVirtualMacs ?? false,
                macLimit: args.check?.macLimit,
                subject: args.check?.subject ?? `${name}.ip`,
            }, { parent: this, provider: ovhApi });
            // No description: the provider never sends it (IpMoveOpts has nexthop and to only).
            this.routing = new ovh.ip.Move(`${name}-routing`, {
                ip: block,
                routedTo: { serviceName: args.routeTo.dedicatedServer },
            }, { ...routingOpts, dependsOn: [this.moveCheck] });
        } else if (args.routeTo) {
            // Another IP is another attach: replaced, never updated. terraform-provider-ovh
            // ovh/resource_cloud_project_failover_ip_attach.go (v2.19.0) has no Update and leaves
            // `ip` without ForceNew (Optional, Computed), so a change of it alone would be an
            // update the SDK refuses ("doesn't support update": terraform-plugin-sdk
            // helper/schema/resource.go, Apply). The replacement attaches the new IP (POST
            // .../attach) and then forgets the old attach (retained; the provider's delete calls
            // nothing either): the old IP stays attached where it is, since OVH has no detach.
            // Not protected: protect would refuse that replacement, and with nothing its delete
            // could undo there is nothing for it to guard.
            this.routing = new ovh.cloudproject.FailoverIpAttach(`${name}-routing`, {
                serviceName: args.routeTo.cloudProject,
                ip,
                routedTo: args.routeTo.instanceId,
            }, { ...routingOpts, protect: false, replaceOnChanges: ["ip"] });
            // Not imported either: its importer keeps the id alone, and Read then lists
            // GET /cloud/project/{service_name}/ip/failover with service_name still empty, a 404
            // (terraform-provider-ovh ovh/resource_cloud_project_failover_ip_attach.go; seen with
            // the real ovh plugin 2.19.1 in the test:providers tier).
        }
        if (reverse) {
            const routing = this.routing;
            const after: Promise<pulumi.Resource[]> = (args.reverseAfter ?? Promise.resolve([])).then((rs) => [...(routing ? [routing] : []), ...rs]);
            this.reverse = new ovh.ip.Reverse(`${name}-reverse`, {
                ip: block,
                ReverseIp: ip,
                ReverseValue: reverse,
                readinessTimeoutDuration: args.reverseReadiness,
            }, {
                parent: this,
                dependsOn: after,
                // The id is the address: the old reverse's delete would remove the new one.
                deleteBeforeReplace: true,
                // Not imported either: its readiness bound is ForceNew and never read back, so an
                // imported reverse would be replaced, which Pulumi refuses to one with an import
                // id; the create's POST /ip/{ip}/reverse sets it over what is there.
                // No ignoreChanges on the retry bound: the engine would then create a replacement
                // with the old value (pulumi/pulumi step_generator.go, processIgnoreChanges). A
                // change of it replaces the reverse, delete-first.
            });
        }
        this.ip = pulumi.output(ip);
        this.block = pulumi.output(block);
        this.registerOutputs({ ip: this.ip, block: this.block });
    }
}
