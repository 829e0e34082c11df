// What an authoritative name server answers, set against what a zone should serve: the expected
// records a program declares (validated and written one way), the answer one server gave for a
// name and type, whether they match, and how both read in a message. Pure functions.
//
// The ZoneServes provider's serialized code runs these, so they import no module for addresses:
// Pulumi's closure serializer fails on ipaddr.js and on node's net as vitest imports them ("Could
// not find property info for real property on object: IPv4"; net's isIPv4 reaches native code),
// and test/components/dns/zoneServesProvider.test.ts serializes the provider under vitest.
import { ConfigValueError, DNS_LABEL, parseZoneName } from "../shared/validate";

/** Dotted decimal, no leading zeros (RFC 791 text form as inet_pton takes it). */
const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/** The record types the proof asks for. */
export const SERVED_TYPES = ["A", "AAAA", "CNAME", "TXT"] as const;
export type ServedType = (typeof SERVED_TYPES)[number];

/** A name and type the zone must serve, with every value of that RRset (none: the name has no such record). */
export interface ExpectedRecord {
    /** Fully qualified, with its trailing dot, lower case: www.example.org. */
    name: string;
    type: ServedType;
    /** Each value as compared (see normalizeValue), sorted, each once. */
    values: string[];
    /**
     * A or AAAA only: the TTL the server must give them too (seconds), as after a TTL change that
     * must be served before it counts (a TTL lowering before an IP change).
     */
    ttl?: number;
}

/**
 * What one server answered for one name and type:
 * - values: a NOERROR answer with records (written as servedValue writes them, sorted);
 * - unreadable: a NOERROR answer with a value that is not one of the type (kept as served): an
 *   answer, and never a match;
 * - absent: NXDOMAIN (no such name) or NODATA (the name, but no record of the type);
 * - refused: the server answered with an error of its own (REFUSED, SERVFAIL, …);
 * - silent: no answer at all (timeout, connection refused, unreachable).
 */
export type Answer =
    | { kind: "values"; values: string[]; ttls?: number[] }
    | { kind: "unreadable"; values: string[] }
    | { kind: "absent"; code: "NXDOMAIN" | "NODATA" }
    | { kind: "refused"; code: string }
    | { kind: "silent"; code: string };

/**
 * An expected TXT value is the text served (the character-strings joined, RFC 7208 §3.3: "without
 * adding spaces"); one written as OVH stores a TXT target, quoted ("…" or "…" "…"), is read as such:
 * the API quotes a TXT target it is given unquoted (terraform-provider-ovh v2.19.0
 * ovh/resource_domain_zone_record.go, the target's DiffSuppressFunc: "The API silently quotes TXT
 * fields"), and splits a long one into several strings (ovh/terraform-provider-ovh#1225).
 */
export function txtText(value: string): string {
    if (!value.startsWith('"')) return value;
    let text = "";
    let i = 0;
    while (i < value.length) {
        if (value[i] === " " || value[i] === "\t") {
            i++;
            continue;
        }
        if (value[i] !== '"') throw new ConfigValueError(`TXT text, or OVH's quoted form "…" "…" (${JSON.stringify(value)} has text outside the quotes)`);
        i++;
        for (;;) {
            if (i >= value.length) throw new ConfigValueError(`TXT text, or OVH's quoted form "…" "…" (${JSON.stringify(value)} has an unclosed quote)`);
            const c = value[i];
            if (c === '"') {
                i++;
                break;
            }
            if (c === "\\") {
                // RFC 1035 §5.1: \DDD is the octet of that decimal value, \X is X itself.
                const digits = /^\d{3}/.exec(value.slice(i + 1));
                text += digits ? String.fromCharCode(Number(digits[0])) : (value[i + 1] ?? "");
                i += digits ? 4 : 2;
                continue;
            }
            text += c;
            i++;
        }
    }
    return text;
}

/** A fully qualified name with its trailing dot, lower case; "*" may be the first label. */
function fqdnOf(value: string, what: string): string {
    const name = value.toLowerCase();
    if (!name.endsWith(".")) throw new ConfigValueError(`${what} written whole with its trailing dot, such as www.example.org.`);
    const labels = name.slice(0, -1).split(".");
    const ok = labels.length >= 2 && labels.every((l, i) => DNS_LABEL.test(l) || (l === "*" && i === 0)) && name.length <= 254;
    if (!ok) throw new ConfigValueError(`${what} written whole with its trailing dot: labels of letters, digits and '-', 1 to 63 characters each ("*" only as the first label)`);
    return name;
}

/**
 * An IPv6 address in its RFC 5952 form (§4: lower case, no leading zeros, the first longest run of
 * two or more zero groups as "::"), which is what the WHATWG URL parser writes a host [v6] as
 * (url.spec.whatwg.org, "IPv6 parser" refuses what is not an address, "IPv6 serializer" writes it);
 * the same text as components/shared/ipv6.ts canonicalIpv6. Undefined: not an IPv6 address.
 */
function ipv6Text(address: string): string | undefined {
    if (!address.includes(":") || /[^0-9a-fA-F:.]/.test(address)) return undefined;
    try {
        return new URL(`http://[${address}]/`).hostname.slice(1, -1);
    } catch {
        return undefined;
    }
}

/**
 * Node reads a served TXT string one byte a character, as Latin-1 (node src/cares_wrap.cc,
 * ParseTxtReply: OneByteString), so an expected text with any other character than ASCII could
 * never be seen served: it is refused rather than waited for.
 */
const ASCII = /^\p{ASCII}*$/u;

/**
 * One expected value as compared: an IPv4 address in dotted decimal, an IPv6 address in its RFC
 * 5952 form (2001:0db8::0001 and 2001:db8::1 are one address), a CNAME target fully qualified in
 * lower case, TXT text as served (OVH's quoted form read, see txtText), ASCII only.
 *
 * A CNAME target must be written whole with its trailing dot: a record's target without one is
 * relative to the zone (RFC 1035 §5.1: in a master file, as a zone is written, a name not ending
 * in a dot is relative to the origin), so "www.example.org" in a record of example.org is
 * www.example.org.example.org.; read here as absolute it would expect another name than served.
 */
export function normalizeValue(type: ServedType, value: string): string {
    switch (type) {
        case "A":
            if (!IPV4.test(value)) throw new ConfigValueError("an IPv4 address such as 203.0.113.10");
            return value;
        case "AAAA": {
            const text = ipv6Text(value);
            if (text === undefined) throw new ConfigValueError("an IPv6 address such as 2001:db8::10");
            return text;
        }
        case "CNAME":
            return fqdnOf(value, "a CNAME target");
        case "TXT": {
            const text = txtText(value);
            if (!ASCII.test(text)) throw new ConfigValueError("TXT text in ASCII: node reads a served TXT string as Latin-1 (src/cares_wrap.cc ParseTxtReply), so other characters could never be seen served");
            return text;
        }
    }
}

/**
 * One value a server answered, written as an expected one is, or undefined when it is not one of
 * the type. A CNAME target comes without its trailing dot (node's resolveCname); TXT is compared as
 * served, the record's character-strings joined: node hands them raw (src/cares_wrap.cc
 * ParseTxtReply), so quotes in them are text, never OVH's quoted form.
 */
export function servedValue(type: ServedType, value: string): string | undefined {
    try {
        if (type === "TXT") return value;
        return normalizeValue(type, type === "CNAME" && !value.endsWith(".") ? `${value}.` : value);
    } catch (err) {
        if (err instanceof ConfigValueError) return undefined;
        throw err;
    }
}

const sortedOnce = (values: string[]): string[] => [...new Set(values)].sort();

/** The values of a server's NOERROR answer, written as the expected ones are; kept as served when one is not of the type. */
export function valuesAnswer(type: ServedType, values: string[], ttls?: number[]): Answer {
    const read = values.map((v) => servedValue(type, v));
    if (read.some((v) => v === undefined)) return { kind: "unreadable", values: sortedOnce(values) };
    return ttls === undefined ? { kind: "values", values: sortedOnce(read as string[]) } : { kind: "values", values: sortedOnce(read as string[]), ttls: [...new Set(ttls)].sort((a, b) => a - b) };
}

/**
 * A failed query as an answer, by node's dns error code (node doc/api/dns.md, "Error codes"):
 * ENOTFOUND is NXDOMAIN and ENODATA is NODATA, which say the record is not there; EREFUSED,
 * ESERVFAIL, ENOTIMP, EFORMERR and EBADRESP came from the server; anything else (ETIMEOUT,
 * ECONNREFUSED, …) is no answer.
 */
export function errorAnswer(code: string | undefined): Answer {
    const c = code ?? "unknown error";
    if (c === "ENOTFOUND") return { kind: "absent", code: "NXDOMAIN" };
    if (c === "ENODATA") return { kind: "absent", code: "NODATA" };
    const fromServer: Record<string, string> = { EREFUSED: "REFUSED", ESERVFAIL: "SERVFAIL", ENOTIMP: "NOTIMP", EFORMERR: "FORMERR", EBADRESP: "a malformed answer" };
    if (c in fromServer) return { kind: "refused", code: fromServer[c] };
    return { kind: "silent", code: c };
}

/** Whether the server said anything at all (a wrong answer is an answer). */
export const answered = (answer: Answer): boolean => answer.kind !== "silent";

/**
 * Whether the answer serves the expected RRset: every expected value, or no record when none is
 * expected. A value besides them does not fail it: in one `pulumi up` a name can move from one
 * record to another (an A name moved between endpoints), and the engine deletes the old record
 * only after every create and update has run (pulumi/pulumi pkg/resource/deploy/
 * deployment_executor.go, Execute, then performPostSteps), so the servers answer both until then;
 * a proof that required the exact set would fail that `up`, and every one after it, since a failed
 * step cancels the deletes. A server that keeps the old value instead of the new one still fails.
 */
export function answerMatches(answer: Answer, expected: ExpectedRecord): boolean {
    if (answer.kind === "absent") return expected.values.length === 0;
    if (answer.kind !== "values" || expected.values.length === 0) return false;
    // An authoritative server gives a record its TTL as the zone holds it, the same for an RRset (RFC 2181 §5.2).
    if (expected.ttl !== undefined && (answer.ttls === undefined || answer.ttls.some((t) => t !== expected.ttl))) return false;
    return expected.values.every((v) => answer.values.includes(v));
}

const showValues = (type: ServedType, values: string[]): string => values.map((v) => (type === "TXT" ? JSON.stringify(v) : v)).join(", ");

/** An answer as a message says it. */
export function showAnswer(type: ServedType, answer: Answer): string {
    switch (answer.kind) {
        case "values":
            return answer.values.length === 0 ? "nothing" : `${showValues(type, answer.values)}${answer.ttls ? ` (TTL ${answer.ttls.join(", ")})` : ""}`;
        case "unreadable":
            return `${answer.values.map((v) => JSON.stringify(v)).join(", ")} (not ${type} values)`;
        case "absent":
            return answer.code === "NXDOMAIN" ? "no such name (NXDOMAIN)" : `no ${type} record (NODATA)`;
        case "refused":
            return `an error (${answer.code})`;
        case "silent":
            return `no answer (${answer.code})`;
    }
}

/** The expected RRset as a message says it. */
export function showExpected(expected: ExpectedRecord): string {
    return expected.values.length === 0 ? `no ${expected.type} record` : `${showValues(expected.type, expected.values)}${expected.ttl === undefined ? "" : ` (TTL ${expected.ttl})`}`;
}

function isRecordObject(value: unknown): value is Record<string, unknown> {
    return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** One problem of the expected records: where (as an argument path), the value, what was expected. */
export interface ExpectedIssue {
    key: string;
    value: unknown;
    expected: string;
}

/**
 * The expected records of a zone, each checked and written one way. A name outside the zone, a
 * name and type given twice, more than one CNAME target, a CNAME beside another type, or an
 * unknown field is refused. `key` is the argument's name in messages (e.g. "expected").
 */
export function parseExpectedRecords(value: unknown, zoneValue: unknown, key = "expected"): { zone: string; expected: ExpectedRecord[]; issues: ExpectedIssue[] } {
    const issues: ExpectedIssue[] = [];
    const issue = (k: string, v: unknown, expected: string) => issues.push({ key: k, value: v, expected });
    let zone = "";
    try {
        zone = parseZoneName(zoneValue);
    } catch (err) {
        if (!(err instanceof ConfigValueError)) throw err;
        issue("zone", zoneValue, err.message);
    }
    if (!Array.isArray(value)) {
        issue(key, value, "a list of {name, type, values}");
        return { zone, expected: [], issues };
    }
    const expected: ExpectedRecord[] = [];
    const seen = new Map<string, number>();
    value.forEach((entry: unknown, i) => {
        const at = `${key}[${i}]`;
        const before = issues.length;
        if (!isRecordObject(entry)) return void issue(at, entry, "an object {name, type, values}");
        for (const field of Object.keys(entry)) {
            if (!["name", "type", "values", "ttl"].includes(field)) issue(`${at}.${field}`, entry[field], "no such field: name, type, values and ttl are");
        }
        let name: string | undefined;
        try {
            if (typeof entry.name !== "string") throw new ConfigValueError("a name written whole with its trailing dot, such as www.example.org.");
            name = fqdnOf(entry.name, "a name");
            if (zone && name !== `${zone}.` && !name.endsWith(`.${zone}.`)) throw new ConfigValueError(`a name of the zone ${zone} (${zone}. or a name ending in .${zone}.)`);
        } catch (err) {
            if (!(err instanceof ConfigValueError)) throw err;
            issue(`${at}.name`, entry.name, err.message);
            name = undefined;
        }
        const type = SERVED_TYPES.find((t) => t === entry.type);
        if (type === undefined) issue(`${at}.type`, entry.type, `one of ${SERVED_TYPES.join(", ")}`);
        if (!Array.isArray(entry.values)) {
            issue(`${at}.values`, entry.values, "a list of values (an empty list: the name has no record of this type)");
            return;
        }
        const values: string[] = [];
        entry.values.forEach((v: unknown, j) => {
            if (typeof v !== "string") return void issue(`${at}.values[${j}]`, v, "a string");
            if (type === undefined) return;
            try {
                values.push(normalizeValue(type, v));
            } catch (err) {
                if (!(err instanceof ConfigValueError)) throw err;
                issue(`${at}.values[${j}]`, v, err.message);
            }
        });
        const ttl = entry.ttl;
        if (ttl !== undefined && (typeof ttl !== "number" || !Number.isInteger(ttl) || ttl < 0 || ttl > 2_147_483_647)) issue(`${at}.ttl`, ttl, "a TTL in seconds, 0 to 2147483647");
        else if (ttl !== undefined && type !== undefined && type !== "A" && type !== "AAAA") issue(`${at}.ttl`, ttl, "no ttl: only an A or AAAA expectation has one");
        if (name === undefined || type === undefined) return;
        const rrset = sortedOnce(values);
        if (type === "CNAME" && rrset.length > 1) issue(`${at}.values`, entry.values, "one CNAME target at most (RFC 1034 §3.6.2: a name has one CNAME)");
        // An entry with a problem of its own is not compared with the others.
        if (issues.length > before) return;
        const id = `${name} ${type}`;
        const previous = seen.get(id);
        if (previous !== undefined) return void issue(at, `${name} ${type}`, `each name and type once (${key}[${previous}] has it already)`);
        seen.set(id, i);
        expected.push(ttl === undefined ? { name, type, values: rrset } : { name, type, values: rrset, ttl: ttl as number });
    });
    // RFC 1034 §3.6.2: a name with a CNAME has no other data; expecting both cannot be met.
    for (const e of expected) {
        if (e.type !== "CNAME" || e.values.length === 0) continue;
        const other = expected.find((o) => o.name === e.name && o.type !== "CNAME" && o.values.length > 0);
        if (other) issue(`${key}[${seen.get(`${e.name} CNAME`)}]`, `${e.name} CNAME`, `a name that is a CNAME and nothing else (${key}[${seen.get(`${other.name} ${other.type}`)}] expects ${other.type} there)`);
    }
    return { zone, expected, issues };
}

/** Issues as one message, in the form of the library's argument errors. */
export function formatExpectedIssues(issues: ExpectedIssue[]): string {
    return issues.map((i) => `${i.key}: ${JSON.stringify(i.value)} is not valid: expected ${i.expected}`).join("\n");
}
