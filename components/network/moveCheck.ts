// The checks before an IP or a block moves, at `pulumi up`: a resource that only reads the OVH API
// and refuses, naming the stack key and the reason, what OVH would refuse or what would lose
// virtual MACs. The routing resource (ovh.ip.Move, ovh.vrack.IpAddress) depends on it (dependsOn,
// so that a preview's inputs stay known), so nothing moves until it has passed.
import * as pulumi from "@pulumi/pulumi";
import { MoveDestinationType, moveCheckProvider } from "./moveCheckProvider";

export interface MoveCheckArgs {
    /** The block as OVH holds it, e.g. 203.0.113.8/29 (a lone IP: 203.0.113.10/32). */
    block: pulumi.Input<string>;
    /** A dedicated server's service name, or a vRack's. */
    to: { dedicatedServer: pulumi.Input<string> } | { vrack: pulumi.Input<string> };
    /** A bridged IP among those going there needs a virtual MAC (default false). */
    needsVirtualMacs?: pulumi.Input<boolean>;
    /** Into a vRack: losing the block's virtual MACs is accepted (default false). */
    dropVirtualMacs?: pulumi.Input<boolean>;
    /** The destination server's most distinct virtual MACs, when the stack says. */
    macLimit?: pulumi.Input<number>;
    /** The stack key named in a refusal, e.g. ipBlocks.web or endpoints.proxy.ip. */
    subject: pulumi.Input<string>;
    /** Retry bounds of the reads (defaults: DEFAULT_RETRY of ovhApiClient.ts). */
    retry?: pulumi.Input<{ attempts?: number; baseDelayMs?: number }>;
}

export class MoveCheck extends pulumi.dynamic.Resource {
    /** Where the block was routed when checked (null: nowhere). */
    declare readonly routedTo: pulumi.Output<string | null>;
    /** Whether the routing resource moves it (false: it is there already). */
    declare readonly moves: pulumi.Output<boolean>;
    /** The distinct virtual MACs of the block where it was routed. */
    declare readonly virtualMacs: pulumi.Output<number>;

    constructor(name: string, args: MoveCheckArgs, opts?: pulumi.CustomResourceOptions) {
        const toServer = "dedicatedServer" in args.to;
        const destinationType: MoveDestinationType = toServer ? "dedicatedServer" : "vrack";
        super(
            moveCheckProvider,
            name,
            {
                block: args.block,
                destinationType,
                destination: "dedicatedServer" in args.to ? args.to.dedicatedServer : args.to.vrack,
                needsVirtualMacs: args.needsVirtualMacs ?? false,
                dropVirtualMacs: args.dropVirtualMacs ?? false,
                macLimit: args.macLimit,
                subject: args.subject,
                retry: args.retry,
                routedTo: undefined,
                moves: undefined,
                virtualMacs: undefined,
            },
            opts,
            "ovh-failover",
            "MoveCheck",
        );
    }
}
