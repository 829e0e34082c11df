// What a name server answers against what a zone should serve: values compared as the types
// mean them, answers and expectations as messages say them, and the expected records refused
// with the argument named when they cannot be met.
import { describe, expect, it } from "vitest";
import { answered, answerMatches, errorAnswer, type ExpectedRecord, normalizeValue, parseExpectedRecords, showAnswer, showExpected, txtText, valuesAnswer } from "../../../components/dns/answers";

const expected = (type: ExpectedRecord["type"], values: string[], name = "www.example.org."): ExpectedRecord => ({ name, type, values: values.map((v) => normalizeValue(type, v)).sort() });

describe("comparing an answer with the expected values", () => {
    it("compares IPv6 addresses parsed: 2001:db8::1 is 2001:0db8:0:0::0001, and another address is not", () => {
        expect(answerMatches(valuesAnswer("AAAA", ["2001:db8::1"]), expected("AAAA", ["2001:0db8:0:0::0001"]))).toBe(true);
        expect(answerMatches(valuesAnswer("AAAA", ["2001:DB8::1"]), expected("AAAA", ["2001:db8::1"]))).toBe(true);
        expect(answerMatches(valuesAnswer("AAAA", ["2001:db8::2"]), expected("AAAA", ["2001:db8::1"]))).toBe(false);
    });

    it("compares the whole RRset in any order: one value more or less is not a match", () => {
        expect(answerMatches(valuesAnswer("A", ["203.0.113.2", "203.0.113.1"]), expected("A", ["203.0.113.1", "203.0.113.2"]))).toBe(true);
        // A value besides the expected ones: a record the end of the up deletes (answerMatches).
        expect(answerMatches(valuesAnswer("A", ["203.0.113.1", "203.0.113.2"]), expected("A", ["203.0.113.1"]))).toBe(true);
        expect(answerMatches(valuesAnswer("A", ["203.0.113.1"]), expected("A", ["203.0.113.1", "203.0.113.2"]))).toBe(false);
    });

    it("compares CNAME targets as names: case and the served name's missing trailing dot aside", () => {
        expect(answerMatches(valuesAnswer("CNAME", ["Proxy1.Example.org"]), expected("CNAME", ["proxy1.example.org."]))).toBe(true);
        expect(answerMatches(valuesAnswer("CNAME", ["proxy2.example.org"]), expected("CNAME", ["proxy1.example.org."]))).toBe(false);
    });

    it("refuses an expected CNAME target without its trailing dot: in a record it would be relative to the zone", () => {
        expect(() => normalizeValue("CNAME", "proxy1.example.org")).toThrow("a CNAME target written whole with its trailing dot, such as www.example.org.");
        expect(normalizeValue("CNAME", "Proxy1.Example.org.")).toBe("proxy1.example.org.");
    });

    it("compares served TXT as served: quotes a server sends are text, not OVH's quoted form", () => {
        expect(answerMatches(valuesAnswer("TXT", ['"abc"']), expected("TXT", ["abc"]))).toBe(false);
        expect(answerMatches(valuesAnswer("TXT", ['"abc"']), expected("TXT", ['"\\"abc\\""']))).toBe(true);
        // Not OVH's quoted form, and no error: an answer that does not match, shown as served.
        const odd = valuesAnswer("TXT", ['"hi" there']);
        expect(odd).toEqual({ kind: "values", values: ['"hi" there'] });
        expect(answerMatches(odd, expected("TXT", ["hi there"]))).toBe(false);
        expect(showAnswer("TXT", odd)).toBe('"\\"hi\\" there"');
    });

    it("takes a served value that is not of its type for an answer that never matches, shown as served", () => {
        const odd = valuesAnswer("CNAME", ["bad name.example.org", "ok.example.org"]);
        expect(odd).toEqual({ kind: "unreadable", values: ["bad name.example.org", "ok.example.org"] });
        expect(answered(odd)).toBe(true);
        expect(answerMatches(odd, expected("CNAME", ["ok.example.org."]))).toBe(false);
        expect(showAnswer("CNAME", odd)).toBe('"bad name.example.org", "ok.example.org" (not CNAME values)');
    });

    it("refuses an expected TXT text that is not ASCII: node reads served TXT as Latin-1, so it could never match", () => {
        expect(() => normalizeValue("TXT", "café")).toThrow("TXT text in ASCII");
        expect(() => normalizeValue("TXT", '"caf\\233"')).toThrow("TXT text in ASCII");
        expect(normalizeValue("TXT", "v=spf1 -all")).toBe("v=spf1 -all");
    });

    it("compares TXT as the text served: a server's strings joined, OVH's quoted form read, case kept", () => {
        // A resolver hands a record's character-strings; the check joins them without spaces (RFC 7208 §3.3).
        expect(answerMatches(valuesAnswer("TXT", ["v=spf1 ip4:203.0.113.10 -all"]), expected("TXT", ['"v=spf1 ip4:203.0.113.10" " -all"']))).toBe(true);
        expect(answerMatches(valuesAnswer("TXT", ["v=spf1 ip4:203.0.113.10 -all"]), expected("TXT", ["v=spf1 ip4:203.0.113.10 -all"]))).toBe(true);
        expect(answerMatches(valuesAnswer("TXT", ["V=SPF1 ip4:203.0.113.10 -all"]), expected("TXT", ["v=spf1 ip4:203.0.113.10 -all"]))).toBe(false);
        expect(txtText('"say \\"hi\\"" "\\065"')).toBe('say "hi"A');
    });

    it("takes NXDOMAIN and NODATA for 'no such record', and only when none is expected", () => {
        expect(answerMatches(errorAnswer("ENOTFOUND"), expected("A", []))).toBe(true);
        expect(answerMatches(errorAnswer("ENODATA"), expected("A", []))).toBe(true);
        expect(answerMatches(errorAnswer("ENOTFOUND"), expected("A", ["203.0.113.1"]))).toBe(false);
        expect(answerMatches(valuesAnswer("A", ["203.0.113.1"]), expected("A", []))).toBe(false);
    });

    it("never takes an error or silence for a match, and tells them apart", () => {
        for (const code of ["EREFUSED", "ESERVFAIL", "ETIMEOUT", "ECONNREFUSED"]) expect(answerMatches(errorAnswer(code), expected("A", []))).toBe(false);
        expect(errorAnswer("EREFUSED")).toEqual({ kind: "refused", code: "REFUSED" });
        expect(errorAnswer("ETIMEOUT")).toEqual({ kind: "silent", code: "ETIMEOUT" });
    });
});

describe("what messages say", () => {
    it("an answer and an expectation, per type", () => {
        expect(showAnswer("A", valuesAnswer("A", ["203.0.113.2", "203.0.113.1"]))).toBe("203.0.113.1, 203.0.113.2");
        expect(showAnswer("TXT", valuesAnswer("TXT", ["v=spf1 -all"]))).toBe('"v=spf1 -all"');
        expect(showAnswer("A", errorAnswer("ENOTFOUND"))).toBe("no such name (NXDOMAIN)");
        expect(showAnswer("AAAA", errorAnswer("ENODATA"))).toBe("no AAAA record (NODATA)");
        expect(showAnswer("A", errorAnswer("ESERVFAIL"))).toBe("an error (SERVFAIL)");
        expect(showAnswer("A", errorAnswer("ETIMEOUT"))).toBe("no answer (ETIMEOUT)");
        expect(showExpected(expected("AAAA", ["2001:0db8::0001"]))).toBe("2001:db8::1");
        expect(showExpected(expected("A", []))).toBe("no A record");
    });
});

describe("the expected records", () => {
    it("are written one way: names lower case with their dot, values normalized, sorted, each once", () => {
        const { zone, expected: records, issues } = parseExpectedRecords(
            [
                { name: "WWW.Example.org.", type: "AAAA", values: ["2001:0DB8::0010", "2001:db8::10", "2001:db8::2"] },
                { name: "example.org.", type: "TXT", values: ['"v=spf1 -all"'] },
                { name: "*.dev.example.org.", type: "A", values: [] },
            ],
            "Example.org",
        );
        expect(issues).toEqual([]);
        expect(zone).toBe("example.org");
        expect(records).toEqual([
            { name: "www.example.org.", type: "AAAA", values: ["2001:db8::10", "2001:db8::2"] },
            { name: "example.org.", type: "TXT", values: ["v=spf1 -all"] },
            { name: "*.dev.example.org.", type: "A", values: [] },
        ]);
    });

    it("refuse what cannot be met, naming each argument, its value and what is expected", () => {
        const { issues } = parseExpectedRecords(
            [
                { name: "www.example.org", type: "A", values: ["203.0.113.1"] },
                { name: "www.example.net.", type: "A", values: ["203.0.113.1"] },
                { name: "api.example.org.", type: "MX", values: ["10 mx.example.org."] },
                { name: "api.example.org.", type: "A", values: ["203.0.113.1"] },
                { name: "bad.example.org.", type: "A", values: ["203.0.113.300", 7] },
                { name: "ttl.example.org.", type: "A", values: ["203.0.113.1"], ttl: 60, weight: 1 },
                { name: "API.example.org.", type: "A", values: ["203.0.113.2"] },
                { name: "alias.example.org.", type: "CNAME", values: ["a.example.org.", "b.example.org."] },
                { name: "both.example.org.", type: "CNAME", values: ["a.example.org."] },
                { name: "both.example.org.", type: "A", values: ["203.0.113.1"] },
                "www",
                { name: "txt.example.org.", type: "TXT", values: ["naïve"] },
                { name: "ttl.example.org.", type: "CNAME", values: ["a.example.org."], ttl: 60 },
                { name: "neg.example.org.", type: "A", values: ["203.0.113.1"], ttl: -1 },
            ],
            "example.org",
        );
        expect(issues.map((i) => `${i.key}: ${JSON.stringify(i.value)}: ${i.expected}`)).toEqual([
            'expected[0].name: "www.example.org": a name written whole with its trailing dot, such as www.example.org.',
            'expected[1].name: "www.example.net.": a name of the zone example.org (example.org. or a name ending in .example.org.)',
            'expected[2].type: "MX": one of A, AAAA, CNAME, TXT',
            'expected[4].values[0]: "203.0.113.300": an IPv4 address such as 203.0.113.10',
            "expected[4].values[1]: 7: a string",
            "expected[5].weight: 1: no such field: name, type, values and ttl are",
            'expected[6]: "api.example.org. A": each name and type once (expected[3] has it already)',
            'expected[7].values: ["a.example.org.","b.example.org."]: one CNAME target at most (RFC 1034 §3.6.2: a name has one CNAME)',
            'expected[10]: "www": an object {name, type, values}',
            'expected[11].values[0]: "naïve": TXT text in ASCII: node reads a served TXT string as Latin-1 (src/cares_wrap.cc ParseTxtReply), so other characters could never be seen served',
            "expected[12].ttl: 60: no ttl: only an A or AAAA expectation has one",
            "expected[13].ttl: -1: a TTL in seconds, 0 to 2147483647",
            'expected[8]: "both.example.org. CNAME": a name that is a CNAME and nothing else (expected[9] expects A there)',
        ]);
    });

    it("with a TTL expected, match only the answer that gives it", () => {
        const lowered = { ...expected("A", ["203.0.113.1"]), ttl: 60 };
        expect(answerMatches(valuesAnswer("A", ["203.0.113.1"], [60]), lowered)).toBe(true);
        expect(answerMatches(valuesAnswer("A", ["203.0.113.1"], [300]), lowered)).toBe(false);
        // An answer read without its TTL proves nothing of it.
        expect(answerMatches(valuesAnswer("A", ["203.0.113.1"]), lowered)).toBe(false);
        expect(showAnswer("A", valuesAnswer("A", ["203.0.113.1"], [300]))).toBe("203.0.113.1 (TTL 300)");
        expect(showExpected(lowered)).toBe("203.0.113.1 (TTL 60)");
        expect(parseExpectedRecords([{ name: "www.example.org.", type: "AAAA", values: ["2001:db8::1"], ttl: 60 }], "example.org").expected).toEqual([{ name: "www.example.org.", type: "AAAA", values: ["2001:db8::1"], ttl: 60 }]);
    });

    it("refuse a zone that is not one, and a list that is not one", () => {
        expect(parseExpectedRecords("www", "example").issues.map((i) => i.key)).toEqual(["zone", "expected"]);
    });
});
