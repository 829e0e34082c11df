// The records of an endpoint applied at a lowered TTL, and since when: the first step of an IP
// change that resolvers follow at once (seed 002: a 4 h TTL made the change take hours). Declared
// by ServiceRecords after its records when the stack asks for a lowering (`lowerTtl`); its outputs,
// in the stack's state, say from when the IP can change (`ovh-failover change-ip` waits for it).
import * as pulumi from "@pulumi/pulumi";
import { ttlLoweringProvider } from "./ttlLoweringProvider";

export interface TtlLoweringArgs {
    /** The records lowered, `<name> <type>`. */
    records: string[];
    /** Their TTL before (seconds). */
    fromTtl: number;
    /** Their TTL while lowered. */
    toTtl: number;
}

export class TtlLowering extends pulumi.dynamic.Resource {
    /** When the records were first applied at the lowered TTL (ISO 8601). */
    declare readonly loweredAt: pulumi.Output<string>;
    /** From when no resolver holds an answer given at the old TTL. */
    declare readonly safeAt: pulumi.Output<string>;
    declare readonly fromTtl: pulumi.Output<number>;
    declare readonly toTtl: pulumi.Output<number>;

    constructor(name: string, args: TtlLoweringArgs, opts?: pulumi.CustomResourceOptions) {
        super(ttlLoweringProvider, name, { ...args, loweredAt: undefined, safeAt: undefined }, opts, "ovh-failover", "TtlLowering");
    }
}
