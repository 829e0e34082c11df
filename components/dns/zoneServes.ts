// The proof that DNS serves a change, at `pulumi up`: after the records of a zone change, the
// zone is refreshed at OVH and its own name servers are asked for each expected name and type
// until they all answer the expected values, or the bound runs out and `up` fails naming each
// server and what it still answers. Declared after the records (dependsOn), under an
// OvhApiProvider (the OVH API credentials), as MoveCheck is.
import * as pulumi from "@pulumi/pulumi";
import { formatExpectedIssues, parseExpectedRecords, ServedType } from "./answers";
import { ServerProof, ZoneServesInputs, zoneServesProvider } from "./zoneServesProvider";

/** The bound when none is given: seed 002 waited hours on a 4 h TTL; OVH's own servers take minutes at most. */
export const DEFAULT_SERVES_WITHIN_SECONDS = 600;
export const DEFAULT_SERVES_POLL_SECONDS = 5;

export interface ZoneServesArgs {
    /** The zone, e.g. example.org. */
    zone: string;
    /**
     * What its name servers must answer: each name fully qualified (www.example.org.), its type,
     * and the values it must serve (others beside them may be served too: answerMatches); an
     * empty list: no such record, e.g. one deleted.
     * Addresses compare parsed (2001:db8::1 is 2001:0db8::1); a CNAME target is written whole
     * with its trailing dot; TXT is the text served (ASCII), or OVH's quoted form of it.
     */
    expected: { name: string; type: ServedType; values: string[] }[];
    /** How long OVH has to accept the refresh and the servers to serve the records, from the first refresh request (default 600 s). */
    withinSeconds?: number;
    /** Between two rounds of questions (default 5 s). */
    pollSeconds?: number;
    /** Retry bounds of the OVH API calls (defaults: DEFAULT_RETRY of ovhApiClient.ts). */
    retry?: { attempts?: number; baseDelayMs?: number };
}

/** The arguments checked and written one way, or an error naming each bad one (nothing declared). */
export function zoneServesInputs(name: string, args: ZoneServesArgs): ZoneServesInputs {
    const { zone, expected, issues } = parseExpectedRecords(args.expected, args.zone);
    const seconds = (key: "withinSeconds" | "pollSeconds", value: unknown, fallback: number) => {
        if (value === undefined) return fallback;
        if (typeof value !== "number" || !Number.isFinite(value) || value <= 0 || value > 86400) {
            issues.push({ key, value, expected: "a number of seconds above 0, at most 86400" });
        }
        return value as number;
    };
    const withinSeconds = seconds("withinSeconds", args.withinSeconds, DEFAULT_SERVES_WITHIN_SECONDS);
    const pollSeconds = seconds("pollSeconds", args.pollSeconds, DEFAULT_SERVES_POLL_SECONDS);
    if (expected.length === 0 && issues.length === 0) issues.push({ key: "expected", value: args.expected, expected: "at least one {name, type, values}: a proof of nothing proves nothing" });
    if (issues.length > 0) throw new Error(`ZoneServes ${name}:\n${formatExpectedIssues(issues)}`);
    return { zone, expected, withinSeconds, pollSeconds, retry: args.retry };
}

export class ZoneServes extends pulumi.dynamic.Resource {
    /** The zone's name servers, as OVH lists them. */
    declare readonly nameServers: pulumi.Output<string[]>;
    /** Per address of each name server: what it answered, and when it first answered every expected value. */
    declare readonly servers: pulumi.Output<ServerProof[]>;
    /** When OVH accepted the zone's refresh. */
    declare readonly refreshedAt: pulumi.Output<string>;

    constructor(name: string, args: ZoneServesArgs, opts?: pulumi.CustomResourceOptions) {
        super(zoneServesProvider, name, { ...zoneServesInputs(name, args), nameServers: undefined, servers: undefined, refreshedAt: undefined }, opts, "ovh-failover", "ZoneServes");
    }
}
