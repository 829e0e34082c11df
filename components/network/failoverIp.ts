// A failover (additional) IP you already rent: where it is routed and its reverse DNS. The stack
// adopts the IP; it never buys one and, protected by default, `pulumi destroy` never gives it back.
import * as ovh from "@ovhcloud/pulumi-ovh";
import * as pulumi from "@pulumi/pulumi";
import { checked } from "../shared/checked";
import { parseFqdn, parsePublicIpv4 } from "../shared/validate";

/** Where the IP is routed, or nothing when the edge nodes own its routing at run time. */
export type FailoverIpRoute =
    | { dedicatedServer: pulumi.Input<string> }
    | { cloudProject: pulumi.Input<string>; instanceId: pulumi.Input<string> };

export interface FailoverIpArgs {
    /** The failover IPv4 address, e.g. 192.0.2.10. */
    ip: string;
    /** Route it to a dedicated server (ip.Move) or attach it to a Public Cloud instance. */
    routeTo?: FailoverIpRoute;
    /** Reverse DNS, an FQDN with its trailing dot. */
    reverse?: string;
    description?: pulumi.Input<string>;
    /** Protect the routing and reverse from `pulumi destroy` (default true). */
    protect?: boolean;
}

export class FailoverIp extends pulumi.ComponentResource {
    readonly ip: pulumi.Output<string>;
    /** The IP as a /32 block, the form the /ip API routes take. */
    readonly block: pulumi.Output<string>;
    readonly routing?: ovh.ip.Move | ovh.cloudproject.FailoverIpAttach;
    readonly reverse?: ovh.ip.Reverse;

    constructor(name: string, args: FailoverIpArgs, opts?: pulumi.ComponentResourceOptions) {
        super("ovh-failover:network:FailoverIp", name, {}, opts);
        const ip = checked(this, "ip", args.ip, parsePublicIpv4);
        const reverse = args.reverse === undefined ? undefined : checked(this, "reverse", args.reverse, parseFqdn);
        const block = `${ip}/32`;
        const protect = args.protect ?? true;
        const childOpts: pulumi.CustomResourceOptions = { parent: this, protect };

        if (args.routeTo && "dedicatedServer" in args.routeTo) {
            this.routing = new ovh.ip.Move(`${name}-routing`, {
                ip: block,
                routedTo: { serviceName: args.routeTo.dedicatedServer },
                description: args.description,
            }, childOpts);
        } else if (args.routeTo) {
            this.routing = new ovh.cloudproject.FailoverIpAttach(`${name}-routing`, {
                serviceName: args.routeTo.cloudProject,
                ip,
                routedTo: args.routeTo.instanceId,
            }, childOpts);
        }
        if (reverse) {
            this.reverse = new ovh.ip.Reverse(`${name}-reverse`, {
                ip: block,
                ReverseIp: ip,
                ReverseValue: reverse,
            }, { ...childOpts, dependsOn: this.routing ? [this.routing] : [] });
        }
        this.ip = pulumi.output(ip);
        this.block = pulumi.output(block);
        this.registerOutputs({ ip: this.ip, block: this.block });
    }
}
