// A virtual MAC bound to a failover IP on a dedicated server. OVH only lets a bridged guest use a
// failover IP from the MAC the IP is bound to (seed 000: "OVH associate IP address with a MAC").
import * as pulumi from "@pulumi/pulumi";
import { DEFAULT_VIRTUAL_MAC_TYPE } from "../shared/validate";
import { VirtualMacTiming, virtualMacProvider } from "./virtualMacProvider";

export interface VirtualMacArgs {
    /** Service name of the dedicated server the IP is routed to. */
    serviceName: pulumi.Input<string>;
    ipAddress: pulumi.Input<string>;
    /** dedicated.server.VmacTypeEnum: "ovh" (default) or "vmware". */
    type?: pulumi.Input<"ovh" | "vmware">;
    /** The name OVH shows beside the MAC; defaults to the resource name. */
    virtualMachineName?: pulumi.Input<string>;
    /** The MAC the IP already has, when adopting one made by hand; creation fails if OVH reports another. */
    expectedMacAddress?: pulumi.Input<string>;
    /**
     * Share this MAC (another IP's, on the same server) instead of making one: the IP is added to
     * it with POST …/virtualMac/{mac}/virtualAddress; delete removes only this IP. Note that OVH
     * does not move a block whose IPs share a MAC (ovh/docs move-failover-ip: "blocks containing
     * duplicate virtual MAC addresses cannot be moved").
     */
    shareMacOf?: pulumi.Input<string>;
    /** The most distinct virtual MACs the server takes; a create past it fails before its POST. */
    macLimit?: pulumi.Input<number>;
    /** Task polling and retry bounds (defaults: poll every 5 s, give up after 10 min). */
    timing?: pulumi.Input<Partial<VirtualMacTiming>>;
}

export class VirtualMac extends pulumi.dynamic.Resource {
    /** The MAC OVH bound to the IP, lower-case colon form. */
    declare readonly macAddress: pulumi.Output<string>;
    declare readonly ipAddress: pulumi.Output<string>;
    declare readonly serviceName: pulumi.Output<string>;
    declare readonly type: pulumi.Output<string>;

    constructor(name: string, args: VirtualMacArgs, opts?: pulumi.CustomResourceOptions) {
        super(
            virtualMacProvider,
            name,
            {
                serviceName: args.serviceName,
                ipAddress: args.ipAddress,
                type: args.type ?? DEFAULT_VIRTUAL_MAC_TYPE,
                virtualMachineName: args.virtualMachineName ?? name,
                expectedMacAddress: args.expectedMacAddress,
                shareMacOf: args.shareMacOf,
                macLimit: args.macLimit,
                timing: args.timing,
                macAddress: undefined,
            },
            opts,
            "ovh-failover",
            "VirtualMac",
        );
    }
}
