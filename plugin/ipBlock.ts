// IpBlock as the plugin package serves it to programs in other languages, on the pattern of
// plugin/publicEndpoint.ts: args a package schema can carry, each mapped onto the library's
// IpBlockArgs, nothing dropped. Where the library's type is one the analyzer refuses, the plugin
// has its own:
// - routeTo, a union of { dedicatedServer } and { vrack, region? }, is IpBlockRouting with exactly
//   one of dedicatedServer and vrack (region only with vrack);
// - check, an inline object type, is MoveCheckOptions, its provider (a class instance) the
//   settings OvhApiSettings of plugin/publicEndpoint.ts.
// The component is the library's IpBlock itself (see libraryComponent), so that it and its
// children get the URNs a TypeScript program gives them, with components/network/ipBlock.ts
// unchanged.
import * as pulumi from "@pulumi/pulumi";
import { IpBlock as LibraryIpBlock, IpBlockArgs as LibraryArgs } from "../components/network/ipBlock";
import { ConfigIssue, formatIssues } from "../components/shared/validate";
import { OvhApiSettings, ovhApiProvider } from "./publicEndpoint";

/** Where the block is routed: exactly one of dedicatedServer and vrack. */
export interface IpBlockRouting {
    /** A dedicated server's service name, e.g. ns3012345.ip-198-51-100.eu. */
    dedicatedServer?: pulumi.Input<string>;
    /** A vRack's service name, pn-…. */
    vrack?: pulumi.Input<string>;
    /** With vrack: the region of the block's routing in the vRack. */
    region?: pulumi.Input<string>;
}

/** What the checks before the block moves (MoveCheck, which the routing waits for) are told. */
export interface MoveCheckOptions {
    /** The key named in a refusal (default `<name>.block`). */
    subject?: string;
    /** A bridged IP of the block needs a virtual MAC on the server (default false). */
    needsVirtualMacs?: boolean;
    /** Into a vRack: losing the block's virtual MACs is accepted (default false). */
    dropVirtualMacs?: boolean;
    /** The server's most distinct virtual MACs (third-generation Advance: 32). */
    macLimit?: number;
    /**
     * The OVH endpoint and credentials the checks run with; each one not given is read from the
     * stack's `ovh:` config. Default: the stack's `ovh:` config alone.
     */
    ovhApi?: OvhApiSettings;
}

export interface IpBlockArgs {
    /** The block as OVH holds it, e.g. 203.0.113.8/29. */
    block: string;
    routeTo: IpBlockRouting;
    /** Protect the routing, so that `pulumi destroy` stops at it (default true). It is retained on delete either way. */
    protect?: boolean;
    /** A vRack block already in its vRack: the id to import its routing by (`<vrack>,<block>`, from ovh-failover adopt). */
    importId?: string;
    check?: MoveCheckOptions;
}

const given = (v: unknown): boolean => v !== undefined && v !== null;

/** The problem with routeTo, if any: exactly one of dedicatedServer and vrack, region only with vrack. */
function routeToIssue(routeTo: IpBlockRouting | undefined): ConfigIssue | undefined {
    const targets = (["dedicatedServer", "vrack"] as const).filter((k) => given(routeTo?.[k]));
    if (targets.length !== 1) {
        return { key: "args.routeTo", value: targets.length === 0 ? undefined : targets.join(" and "), expected: "exactly one of dedicatedServer (a server's service name) and vrack (a vRack's, pn-…)" };
    }
    if (targets[0] === "dedicatedServer" && given(routeTo!.region)) {
        return { key: "args.routeTo.region", value: typeof routeTo!.region === "string" ? routeTo!.region : "[an output]", expected: "no region with dedicatedServer (a region goes with vrack)" };
    }
    return undefined;
}

/**
 * The library's args for the plugin's: routeTo as the library's union, the provider for
 * check.ovhApi. Throws a ResourceError naming a bad routeTo before anything is declared.
 */
export function libraryArgs(name: string, args: IpBlockArgs, parent: pulumi.Resource | undefined): LibraryArgs {
    const issue = routeToIssue(args.routeTo);
    if (issue) throw new pulumi.ResourceError(formatIssues([issue]), parent);
    const r = args.routeTo;
    return {
        block: args.block,
        routeTo: given(r.vrack) ? { vrack: r.vrack!, region: r.region } : { dedicatedServer: r.dedicatedServer! },
        protect: args.protect,
        importId: args.importId,
        check: args.check && {
            subject: args.check.subject,
            needsVirtualMacs: args.check.needsVirtualMacs,
            dropVirtualMacs: args.check.dropVirtualMacs,
            macLimit: args.check.macLimit,
            // Made before the component (see libraryComponent), beside it: what a TypeScript
            // program that passes a provider of its own to the library's IpBlock declares.
            ovhApi: ovhApiProvider(name, args.check.ovhApi, parent),
        },
    };
}

/**
 * The library's IpBlock seen as a plain ComponentResource. @pulumi/pulumi's analyzer serves a class
 * only if it extends ComponentResource directly (provider/experimental/analyzer.js
 * isPulumiComponent reads the base's name); the provider constructs whatever the class is
 * (provider/experimental/provider.js construct) and reads the outputs off the instance.
 */
const libraryComponent: new (name: string, args: LibraryArgs, opts?: pulumi.ComponentResourceOptions) => pulumi.ComponentResource = LibraryIpBlock;

/**
 * An additional IP block (/30, /29, …) routed as a whole to a dedicated server or into a vRack,
 * after the checks before it moves; the routing is retained on delete.
 */
export class IpBlock extends libraryComponent {
    // Set by the library's constructor; `declare` keeps a field of this class from resetting them.
    declare readonly block: pulumi.Output<string>;
    /** A vRack block's gateway, its penultimate address; none for a block routed to a server. */
    declare readonly gateway?: pulumi.Output<string>;

    constructor(name: string, args: IpBlockArgs, opts?: pulumi.ComponentResourceOptions) {
        super(name, libraryArgs(name, args, opts?.parent), opts);
    }
}
