// The Pulumi dynamic provider of ZoneServes: the proof that a zone's own name servers serve what
// its records now say. It asks OVH to refresh the zone (the OVH provider only logs a refused
// refresh, so a record can be "applied" and never served: terraform-provider-ovh v2.19.0
// ovh/resource_domain_zone_record.go, ovhDomainZoneRefresh's error only log.Printf'd;
// ovh/terraform-provider-ovh#1290), reads the zone's name servers from OVH, and asks each of
// their addresses for each expected name and type until all answer the expected values or the
// bound runs out. It changes nothing else at OVH; delete does nothing.
import type * as dns from "dns";
import type * as pulumi from "@pulumi/pulumi";
import { ovhApiOf, ovhSettingsFromConfig } from "../network/dynamicOvh";
import { DEFAULT_RETRY, OvhApi, OvhApiError, OvhApiSettings, route, sleep } from "../network/ovhApiClient";
import { Answer, answered, answerMatches, errorAnswer, ExpectedRecord, showAnswer, showExpected, valuesAnswer } from "./answers";

export interface ZoneServesInputs {
    /** The zone, e.g. example.org. */
    zone: string;
    /** What its name servers must answer (parseExpectedRecords wrote them). */
    expected: ExpectedRecord[];
    /** The bound: how long OVH has to accept the refresh and the servers to answer so, from the first refresh request. */
    withinSeconds: number;
    /** How long between two rounds of questions. */
    pollSeconds: number;
    /** Retry bounds of the OVH API calls (defaults: DEFAULT_RETRY of ovhApiClient.ts). */
    retry?: { attempts?: number; baseDelayMs?: number };
}

/** What one address of a name server answered to one expected name and type, last time it was asked. */
export interface ServedAnswer {
    name: string;
    type: ExpectedRecord["type"];
    /** The values it answered (as compared; as served when one is not of the type), or null when it answered none. */
    values: string[] | null;
    /** The answer as a message says it. */
    answer: string;
}

/** One address of one of the zone's name servers. */
export interface ServerProof {
    /** The name server, as OVH lists it for the zone. */
    nameServer: string;
    address: string;
    /** When it first answered every expected value (ISO 8601), null: never within the bound. */
    matchedAt: string | null;
    /** Whether it answered at all (an address this machine cannot reach never does). */
    answered: boolean;
    answers: ServedAnswer[];
}

export interface ZoneServesOutputs extends ZoneServesInputs {
    /** The zone's name servers (domain.ZoneWithIAM.nameServers). */
    nameServers: string[];
    servers: ServerProof[];
    /** When OVH accepted the refresh (ISO 8601). */
    refreshedAt: string;
}

/** The one thing a test may replace: a host name to its addresses (default: the system's resolver, every address). */
export type ResolveHost = (host: string) => Promise<string[]>;

/**
 * node's dns, required where it is used: the provider's code is serialized, and a built-in module
 * required there is written as require("dns"), however the importing code was compiled.
 */
function nodeDns(): typeof dns.promises {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return (require("dns") as typeof dns).promises;
}

export const defaultResolveHost: ResolveHost = async (host) => (await nodeDns().lookup(host, { all: true, verbatim: true })).map((a) => a.address);

/** One question's bound: a server that is there answers in milliseconds. */
const QUERY = { timeout: 3000, tries: 2 };

/**
 * The dynamic provider sees the stack's config only through the provider resource it runs under
 * (OvhApiProvider; @pulumi/pulumi cmd/dynamic-provider `configure`), as moveCheckProvider does.
 */
const configured: { ovh: OvhApiSettings } = { ovh: {} };

/**
 * The refusal of a refresh. OVH answers a consumer key without the access rule 403 "This call has
 * not been granted" (errorCode NOT_GRANTED_CALL, python-ovh ovh/client.py NotGrantedCall; node-ovh
 * hands only the message): it needs the rule POST /domain/zone/*\/refresh (docs/ovh-credentials.md),
 * an IAM policy the action dnsZone:apiovh:refresh (domain.json, iamActions of POST
 * /domain/zone/{zoneName}/refresh). A 401, or another 403 (INVALID_CREDENTIAL, NOT_CREDENTIAL,
 * INVALID_KEY, FORBIDDEN in python-ovh ovh/client.py), refused the credentials themselves.
 */
export function refreshRefused(zone: string, status: number, ovhMessage: string): Error {
    const refused = `zone ${zone}: OVH refused to refresh the zone (POST /domain/zone/${zone}/refresh: HTTP ${status}: ${ovhMessage}), so its changed records are not served: `;
    const rule = "the access rule POST /domain/zone/*/refresh to the consumer key (docs/ovh-credentials.md), or the action dnsZone:apiovh:refresh to the IAM policy of the OAuth2 client";
    if (status === 403 && ovhMessage.includes("This call has not been granted")) return new Error(`${refused}add ${rule}, then run pulumi up again`);
    return new Error(`${refused}OVH refused the credentials: check the ovh: settings (keys, consumer key, OAuth2 client) are the account's and valid; a missing access rule may also be the cause: add ${rule}, then run pulumi up again`);
}

/** Exponential backoff between two tries of a call that OVH or the resolver may answer later. */
interface Backoff {
    baseDelayMs: number;
    maxDelayMs: number;
}

const backoffDelay = (backoff: Backoff, attempt: number): number => Math.min(backoff.maxDelayMs, backoff.baseDelayMs * 2 ** (attempt - 1));

/**
 * POST /domain/zone/{zoneName}/refresh: OVH applies the zone's records to its name servers. Tried
 * again with backoff until the deadline: OVH refuses a refresh while another is scheduled ("you
 * cannot schedule more than one refresh at a time", ovh/terraform-provider-ovh#76), and its own
 * acceptance test retries the refresh for 5 minutes (terraform-provider-ovh
 * ovh/resource_domain_zone_record_test.go). A 401 or 403 (the credentials) and a 404 (no such
 * zone) will not change by waiting: they fail at once.
 */
export async function refreshZone(api: OvhApi, zone: string, deadline: number, backoff: Backoff): Promise<void> {
    for (let attempt = 1; ; attempt++) {
        try {
            await api.request<unknown>("POST", route("/domain/zone/{zoneName}/refresh", { zoneName: zone }));
            return;
        } catch (err) {
            if (!(err instanceof OvhApiError)) throw err;
            if (err.status === 401 || err.status === 403) throw refreshRefused(zone, err.status, err.ovhMessage);
            if (err.status === 404) throw new Error(`zone ${zone}: the OVH account has no such zone (${err.message})`, { cause: err });
            const left = deadline - Date.now();
            if (left <= 0) throw new Error(`zone ${zone}: OVH did not accept the refresh (${attempt} ${attempt === 1 ? "try" : "tries"}), so its changed records may not be served: ${err.message}`, { cause: err });
            await sleep(Math.min(backoffDelay(backoff, attempt), left));
        }
    }
}

/** domain.ZoneWithIAM, the field read here. */
interface ZoneDetails {
    nameServers?: string[];
}

async function zoneNameServers(api: OvhApi, zone: string): Promise<string[]> {
    let details: ZoneDetails;
    try {
        details = await api.request<ZoneDetails>("GET", route("/domain/zone/{zoneName}", { zoneName: zone }));
    } catch (err) {
        if (err instanceof OvhApiError) throw new Error(`zone ${zone}: its name servers could not be read: ${err.message}`, { cause: err });
        throw err;
    }
    const names = (details.nameServers ?? []).map((n) => n.replace(/\.$/, "").toLowerCase());
    if (names.length === 0) throw new Error(`zone ${zone}: OVH lists no name server for it (GET /domain/zone/${zone}: nameServers is empty), so nothing can serve its records`);
    return [...new Set(names)];
}

/** One question to one server, as an answer. */
async function ask(resolver: dns.promises.Resolver, expected: ExpectedRecord): Promise<Answer> {
    try {
        switch (expected.type) {
            case "A": {
                if (expected.ttl === undefined) return valuesAnswer("A", await resolver.resolve4(expected.name));
                const records = await resolver.resolve4(expected.name, { ttl: true });
                return valuesAnswer("A", records.map((r) => r.address), records.map((r) => r.ttl));
            }
            case "AAAA": {
                if (expected.ttl === undefined) return valuesAnswer("AAAA", await resolver.resolve6(expected.name));
                const records = await resolver.resolve6(expected.name, { ttl: true });
                return valuesAnswer("AAAA", records.map((r) => r.address), records.map((r) => r.ttl));
            }
            case "CNAME":
                return valuesAnswer("CNAME", await resolver.resolveCname(expected.name));
            case "TXT":
                // Each record's character-strings joined (RFC 7208 §3.3), one value per record.
                return valuesAnswer("TXT", (await resolver.resolveTxt(expected.name)).map((chunks) => chunks.join("")));
        }
    } catch (err) {
        // Only a failed query is an answer of its own (node's dns rejects with a string code); a
        // value that is not of the type is read by valuesAnswer, and anything else is a fault here,
        // never taken for silence.
        const code = (err as NodeJS.ErrnoException | null)?.code;
        if (typeof code !== "string") throw err;
        return errorAnswer(code);
    }
}

/**
 * One round of questions to one address: every expected name and type at once. A fresh resolver
 * each round, so nothing a previous answer left in it is seen again.
 */
export async function askAddress(address: string, expected: ExpectedRecord[]): Promise<Answer[]> {
    const resolver = new (nodeDns().Resolver)(QUERY);
    resolver.setServers([address]);
    return Promise.all(expected.map((e) => ask(resolver, e)));
}

/** What the check knows of one address while it asks. */
export interface AddressState {
    nameServer: string;
    address: string;
    matchedAt: string | null;
    answered: boolean;
    last: Answer[];
}

/**
 * Done when every name server has an address that answers every expected value, and every address
 * that answered at all does. An address that never answers (an IPv6 address on a machine without
 * IPv6, say) is not waited for when another address of the same server answered right.
 */
export function allServe(states: Pick<AddressState, "nameServer" | "matchedAt" | "answered">[]): boolean {
    const servers = new Set(states.map((s) => s.nameServer));
    return [...servers].every((server) => {
        const mine = states.filter((s) => s.nameServer === server);
        return mine.some((s) => s.matchedAt !== null) && mine.every((s) => s.matchedAt !== null || !s.answered);
    });
}

function proofOf(state: AddressState, expected: ExpectedRecord[]): ServerProof {
    return {
        nameServer: state.nameServer,
        address: state.address,
        matchedAt: state.matchedAt,
        answered: state.answered,
        answers: expected.map((e, i) => {
            const a = state.last[i] ?? { kind: "silent", code: "not asked" };
            return { name: e.name, type: e.type, values: a.kind === "values" || a.kind === "unreadable" ? a.values : null, answer: showAnswer(e.type, a) };
        }),
    };
}

/** What a failed proof says: each address that does not serve the records, what it answers, and what was expected. */
export function notServedMessage(zone: string, withinSeconds: number, states: AddressState[], expected: ExpectedRecord[]): string {
    const lines: string[] = [];
    for (const server of new Set(states.map((s) => s.nameServer))) {
        const mine = states.filter((s) => s.nameServer === server);
        const someMatched = mine.some((s) => s.matchedAt !== null);
        for (const s of mine) {
            if (s.matchedAt !== null || (someMatched && !s.answered)) continue;
            expected.forEach((e, i) => {
                const a = s.last[i];
                if (a !== undefined && answerMatches(a, e)) return;
                const said = a === undefined ? "was not asked" : a.kind === "silent" ? showAnswer(e.type, a) : `answers ${showAnswer(e.type, a)}`;
                lines.push(`  ${server} (${s.address}): ${e.name} ${e.type} ${said}, expected ${showExpected(e)}`);
            });
        }
    }
    const serving = states.filter((s) => s.matchedAt !== null).map((s) => `${s.nameServer} (${s.address}) since ${s.matchedAt}`);
    return (
        `zone ${zone}: its name servers do not all serve the expected records within ${withinSeconds} s of the first refresh request:\n${lines.join("\n")}` +
        (serving.length > 0 ? `\nserving them: ${serving.join(", ")}` : "") +
        `\nA server that keeps an old answer has not loaded the refreshed zone: wait, or see OVH's GET /domain/zone/${zone}/status, then run pulumi up again: a proof that failed is run again by the next up`
    );
}

/**
 * The addresses of a name server, the lookup tried again with backoff until the deadline: a
 * resolver that cannot answer now (EAI_AGAIN, a timeout) may answer later. ENOTFOUND (and no
 * address at all) is the resolver's answer that the name has none (node lib/internal/errors.js
 * dnsException names EAI_NONAME and EAI_NODATA so), which a resolver keeps as it was for the
 * negative answer's TTL (RFC 2308 §5), so waiting the bound out would only delay the failure: it
 * fails after one more try, which covers a resolver that said so while it was being restarted.
 */
async function addressesOf(resolveHost: ResolveHost, zone: string, nameServer: string, deadline: number, backoff: Backoff): Promise<string[]> {
    let none = 0;
    for (let attempt = 1; ; attempt++) {
        let addresses: string[] = [];
        let failure: unknown;
        try {
            addresses = await resolveHost(nameServer);
        } catch (err) {
            failure = err;
        }
        if (addresses.length > 0) return [...new Set(addresses)];
        const code = failure === undefined ? undefined : ((failure as NodeJS.ErrnoException).code ?? String(failure));
        if (code === undefined || code === "ENOTFOUND") none++;
        const left = deadline - Date.now();
        if (left <= 0 || none >= 2) {
            const tries = `asked ${attempt} ${attempt === 1 ? "time" : "times"}`;
            throw new Error(`zone ${zone}: its name server ${nameServer} (GET /domain/zone/${zone}) has no address here: ${code === undefined ? tries : `${code}, ${tries}`}`, { cause: failure });
        }
        await sleep(Math.min(backoffDelay(backoff, attempt), left));
    }
}

/**
 * The proof: refresh, read the name servers, resolve them, then rounds of questions every
 * pollSeconds until every address serves the expected records or withinSeconds have passed.
 */
export async function checkZoneServes(inputs: ZoneServesInputs, resolveHost: ResolveHost = defaultResolveHost): Promise<ZoneServesOutputs> {
    const api = ovhApiOf(configured.ovh, inputs.retry);
    const deadline = Date.now() + inputs.withinSeconds * 1000;
    const backoff = { baseDelayMs: inputs.retry?.baseDelayMs ?? DEFAULT_RETRY.baseDelayMs, maxDelayMs: DEFAULT_RETRY.maxDelayMs };
    await refreshZone(api, inputs.zone, deadline, backoff);
    const refreshedAt = new Date();
    const nameServers = await zoneNameServers(api, inputs.zone);

    const states: AddressState[] = [];
    for (const nameServer of nameServers) {
        for (const address of await addressesOf(resolveHost, inputs.zone, nameServer, deadline, backoff)) states.push({ nameServer, address, matchedAt: null, answered: false, last: [] });
    }

    for (;;) {
        await Promise.all(
            states
                .filter((s) => s.matchedAt === null)
                .map(async (s) => {
                    const answers = await askAddress(s.address, inputs.expected);
                    s.last = answers;
                    if (answers.some(answered)) s.answered = true;
                    if (answers.every((a, i) => answerMatches(a, inputs.expected[i]))) s.matchedAt = new Date().toISOString();
                }),
        );
        if (allServe(states)) break;
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(notServedMessage(inputs.zone, inputs.withinSeconds, states, inputs.expected));
        await sleep(Math.min(inputs.pollSeconds * 1000, left));
    }
    return { ...inputs, nameServers, servers: states.map((s) => proofOf(s, inputs.expected)), refreshedAt: refreshedAt.toISOString() };
}

/** The inputs whose change proves again: the zone and what it must serve (the bounds are how, not what). */
export function provesAgain(olds: ZoneServesInputs, news: ZoneServesInputs): boolean {
    return olds.zone !== news.zone || JSON.stringify(olds.expected) !== JSON.stringify(news.expected);
}

export const zoneServesProvider: pulumi.dynamic.ResourceProvider = {
    async configure(req: pulumi.dynamic.ConfigureRequest) {
        configured.ovh = ovhSettingsFromConfig(req.config);
    },
    async create(inputs: ZoneServesInputs) {
        return { id: inputs.zone, outs: await checkZoneServes(inputs) };
    },
    async read(id: string, props: ZoneServesOutputs) {
        // What the servers answered when it was proven stays what it was: a refresh asks nothing.
        return { id, props };
    },
    async diff(_id: string, olds: ZoneServesOutputs, news: ZoneServesInputs) {
        // Never a replacement: an update proves again, and deleting a proof undoes nothing.
        return { changes: provesAgain(olds, news), replaces: [], deleteBeforeReplace: false };
    },
    async update(_id: string, _olds: ZoneServesOutputs, news: ZoneServesInputs) {
        return { outs: await checkZoneServes(news) };
    },
    async delete() {
        // It only asked: nothing to undo.
    },
};
