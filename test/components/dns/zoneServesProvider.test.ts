// The ZoneServes dynamic provider without a DNS server: its calls to OVH (the official
// @ovhcloud/node-ovh client, signed HTTPS requests to the stand-in, which checks each against
// domain.json), its refusals, when it is done and what it says when not, its diff, and the
// component's arguments. The questions to real name servers are in
// zoneServes.integration.test.ts (Knot DNS).
import * as pulumi from "@pulumi/pulumi";
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { errorAnswer, valuesAnswer, type ExpectedRecord } from "../../../components/dns/answers";
import { DEFAULT_SERVES_POLL_SECONDS, DEFAULT_SERVES_WITHIN_SECONDS, ZoneServes, zoneServesInputs } from "../../../components/dns/zoneServes";
import { allServe, checkZoneServes, notServedMessage, zoneServesProvider, type ZoneServesInputs, type ZoneServesOutputs } from "../../../components/dns/zoneServesProvider";
import { type OvhStandIn } from "../../support/ovhStandIn";
import { serializedProvider } from "../../support/serializedProvider";
import { useOvhStandInEnv } from "../../support/ovhStandInEnv";

const A: ExpectedRecord = { name: "www.example.org.", type: "A", values: ["203.0.113.50"] };
const AAAA: ExpectedRecord = { name: "www.example.org.", type: "AAAA", values: ["2001:db8::50"] };

describe("when the servers serve the records", () => {
    const state = (nameServer: string, matched: boolean, answered = true) => ({ nameServer, matchedAt: matched ? "2026-12-07T10:00:00.000Z" : null, answered });

    it("every name server has an address that serves them, and every address that answers does", () => {
        expect(allServe([state("ns1", true), state("ns1", true), state("ns2", true)])).toBe(true);
        expect(allServe([state("ns1", true), state("ns2", false)])).toBe(false);
        expect(allServe([state("ns1", true), state("ns1", false)])).toBe(false);
    });

    it("an address that never answers is not waited for beside one of the same server that serves them, and is no proof alone", () => {
        expect(allServe([state("ns1", true), state("ns1", false, false)])).toBe(true);
        expect(allServe([state("ns1", false, false), state("ns2", true)])).toBe(false);
    });
});

describe("what a failed proof says", () => {
    const addr = (nameServer: string, address: string, last: ReturnType<typeof valuesAnswer>[], matchedAt: string | null = null, answered = true) => ({ nameServer, address, matchedAt, answered, last });

    it("each address that does not serve the records, each name and type it answers wrong, and who serves them", () => {
        const text = notServedMessage("example.org", 600, [
            addr("dns1.ovh.net", "192.0.2.1", [valuesAnswer("A", ["203.0.113.50"]), valuesAnswer("AAAA", ["2001:db8::50"])], "2026-12-07T10:00:01.000Z"),
            addr("ns1.ovh.net", "192.0.2.2", [valuesAnswer("A", ["203.0.113.10"]), errorAnswer("ENODATA")]),
            addr("ns1.ovh.net", "2001:db8::2", [errorAnswer("ETIMEOUT"), errorAnswer("ETIMEOUT")], null, false),
        ], [A, AAAA]);
        expect(text.split("\n")).toEqual([
            "zone example.org: its name servers do not all serve the expected records within 600 s of the first refresh request:",
            "  ns1.ovh.net (192.0.2.2): www.example.org. A answers 203.0.113.10, expected 203.0.113.50",
            "  ns1.ovh.net (192.0.2.2): www.example.org. AAAA answers no AAAA record (NODATA), expected 2001:db8::50",
            // Silent, and no address of its server serves the records: it is named too.
            "  ns1.ovh.net (2001:db8::2): www.example.org. A no answer (ETIMEOUT), expected 203.0.113.50",
            "  ns1.ovh.net (2001:db8::2): www.example.org. AAAA no answer (ETIMEOUT), expected 2001:db8::50",
            "serving them: dns1.ovh.net (192.0.2.1) since 2026-12-07T10:00:01.000Z",
            "A server that keeps an old answer has not loaded the refreshed zone: wait, or see OVH's GET /domain/zone/example.org/status, then run pulumi up again: a proof that failed is run again by the next up",
        ]);
    });
});

describe("the ZoneServes provider at OVH (the stand-in)", () => {
    const ovh = useOvhStandInEnv();
    let standIn: OvhStandIn;
    let n = 0;
    let zone = "";
    let first = 0;
    beforeAll(() => {
        standIn = ovh.standIn();
    });
    beforeEach(() => {
        n++;
        zone = `u${n}.example.org`;
        standIn.addZone(zone);
        first = standIn.requests.length;
    });
    afterEach(() => {
        standIn.zoneRefreshGranted(true);
        expect(standIn.violations).toEqual([]);
    });

    const inputs = (over: Partial<ZoneServesInputs> = {}): ZoneServesInputs => ({
        zone,
        expected: [{ ...A, name: `www.${zone}.` }],
        withinSeconds: 5,
        pollSeconds: 0.1,
        retry: { attempts: 2, baseDelayMs: 10 },
        ...over,
    });
    const sent = () => standIn.requests.slice(first).filter((r) => r.route !== "/auth/time").map((r) => `${r.status} ${r.method} ${r.route}`);
    const failure = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e as Error);
    const rule = "add the access rule POST /domain/zone/*/refresh to the consumer key (docs/ovh-credentials.md), or the action dnsZone:apiovh:refresh to the IAM policy of the OAuth2 client, then run pulumi up again";

    it("a refresh the key is not granted fails with OVH's words and the rule to add, in a plain Error, and goes no further", async () => {
        standIn.zoneRefreshGranted(false);
        const err = await failure(checkZoneServes(inputs(), async () => ["192.0.2.1"]));
        expect(err?.constructor).toBe(Error);
        expect(err?.message).toBe(`zone ${zone}: OVH refused to refresh the zone (POST /domain/zone/${zone}/refresh: HTTP 403: This call has not been granted), so its changed records are not served: ${rule}`);
        expect(sent()).toEqual(["403 POST /domain/zone/{zoneName}/refresh"]);
    });

    it("as the engine runs it (its code serialized, then loaded): the same refusal, its message kept", async () => {
        const provider = await serializedProvider(zoneServesProvider);
        standIn.zoneRefreshGranted(false);
        const err = await failure(provider.create!(inputs()));
        expect(err?.message).toBe(`zone ${zone}: OVH refused to refresh the zone (POST /domain/zone/${zone}/refresh: HTTP 403: This call has not been granted), so its changed records are not served: ${rule}`);
    }, 60_000);

    it("a 401, or a 403 other than 'not granted', refused the credentials: said so with OVH's words, the rule one possible cause, at once", async () => {
        const credentials = `OVH refused the credentials: check the ovh: settings (keys, consumer key, OAuth2 client) are the account's and valid; a missing access rule may also be the cause: ${rule}`;
        standIn.failNext({ method: "POST", route: "/domain/zone/{zoneName}/refresh", status: 401, message: "You must login first" });
        let err = await failure(checkZoneServes(inputs(), async () => ["192.0.2.1"]));
        expect(err?.message).toBe(`zone ${zone}: OVH refused to refresh the zone (POST /domain/zone/${zone}/refresh: HTTP 401: You must login first), so its changed records are not served: ${credentials}`);
        standIn.failNext({ method: "POST", route: "/domain/zone/{zoneName}/refresh", status: 403, message: "Invalid credential" });
        err = await failure(checkZoneServes(inputs(), async () => ["192.0.2.1"]));
        expect(err?.message).toBe(`zone ${zone}: OVH refused to refresh the zone (POST /domain/zone/${zone}/refresh: HTTP 403: Invalid credential), so its changed records are not served: ${credentials}`);
        expect(sent()).toEqual(["401 POST /domain/zone/{zoneName}/refresh", "403 POST /domain/zone/{zoneName}/refresh"]);
    });

    it("a refresh refused while another is scheduled (4xx), or failed (5xx), is tried again with backoff, then the proof goes on", async () => {
        standIn.refuseZoneRefreshes(2);
        standIn.failNext({ method: "POST", route: "/domain/zone/{zoneName}/refresh", status: 500 });
        const notFound = () => Promise.reject(Object.assign(new Error("no"), { code: "ENOTFOUND" }));
        const err = await failure(checkZoneServes(inputs(), notFound));
        expect(err?.message).toMatch(/has no address here: ENOTFOUND/);
        // The fault set last is taken first (500), then the two refusals, then the refresh is accepted.
        expect(sent().slice(0, 5)).toEqual([
            expect.stringMatching(/^(409|500) POST \/domain\/zone\/\{zoneName\}\/refresh$/),
            expect.stringMatching(/^(409|500) POST \/domain\/zone\/\{zoneName\}\/refresh$/),
            expect.stringMatching(/^(409|500) POST \/domain\/zone\/\{zoneName\}\/refresh$/),
            "200 POST /domain/zone/{zoneName}/refresh",
            "200 GET /domain/zone/{zoneName}",
        ]);
        expect(standIn.zoneRefreshes().filter((z) => z === zone)).toEqual([zone]);
    });

    it("a refresh refused until the bound runs out fails with OVH's last words and the number of tries", async () => {
        standIn.refuseZoneRefreshes(10_000);
        const err = await failure(checkZoneServes(inputs({ withinSeconds: 0.3 }), async () => ["192.0.2.1"]));
        expect(err?.message).toMatch(
            new RegExp(`^zone ${zone.replace(/\./g, "\\.")}: OVH did not accept the refresh \\(\\d+ tries\\), so its changed records may not be served: OVH API POST /domain/zone/${zone.replace(/\./g, "\\.")}/refresh failed: HTTP 409: You cannot schedule more than one refresh at a time$`),
        );
        expect(sent().length).toBeGreaterThan(1);
        expect(sent().every((r) => r === "409 POST /domain/zone/{zoneName}/refresh")).toBe(true);
        standIn.refuseZoneRefreshes(0);
    });

    it("a zone the account does not have, and a zone without name servers: each said as such", async () => {
        expect((await failure(checkZoneServes(inputs({ zone: "nowhere.example.org" }))))?.message).toBe(
            "zone nowhere.example.org: the OVH account has no such zone (OVH API POST /domain/zone/nowhere.example.org/refresh failed: HTTP 404: The requested object (zoneName = nowhere.example.org) does not exist)",
        );
        standIn.setZoneNameServers(zone, []);
        expect((await failure(checkZoneServes(inputs())))?.message).toBe(
            `zone ${zone}: OVH lists no name server for it (GET /domain/zone/${zone}: nameServers is empty), so nothing can serve its records`,
        );
    });

    it("refreshes, then reads the zone's name servers and resolves each (the seam), before any question", async () => {
        standIn.setZoneNameServers(zone, ["dns1.ovh.net.", "NS1.ovh.net"]);
        const asked: string[] = [];
        const err = await failure(
            checkZoneServes(inputs(), async (host) => {
                asked.push(host);
                throw Object.assign(new Error("no"), { code: "ENOTFOUND" });
            }),
        );
        // ENOTFOUND is the resolver's answer that there is no address: one more try, not the whole bound.
        expect(err?.message).toBe(`zone ${zone}: its name server dns1.ovh.net (GET /domain/zone/${zone}) has no address here: ENOTFOUND, asked 2 times`);
        expect(asked).toEqual(["dns1.ovh.net", "dns1.ovh.net"]);
        expect(sent()).toEqual(["200 POST /domain/zone/{zoneName}/refresh", "200 GET /domain/zone/{zoneName}"]);
        expect(standIn.zoneRefreshes()).toContain(zone);
    });
});

describe("the lookup of a name server's addresses", () => {
    const ovh = useOvhStandInEnv();
    let zone = "";
    let n = 0;
    beforeEach(() => {
        n++;
        zone = `l${n}.example.org`;
        ovh.standIn().addZone(zone);
        ovh.standIn().setZoneNameServers(zone, ["dns1.ovh.net"]);
    });
    const inputs = (over: Partial<ZoneServesInputs> = {}): ZoneServesInputs => ({ zone, expected: [{ ...A, name: `www.${zone}.` }], withinSeconds: 5, pollSeconds: 0.1, retry: { attempts: 2, baseDelayMs: 10 }, ...over });
    const failure = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e as Error);
    const failing = (codes: string[]) => {
        const asked: string[] = [];
        const resolve = async (host: string) => {
            asked.push(host);
            const code = codes[Math.min(asked.length, codes.length) - 1];
            throw Object.assign(new Error(`getaddrinfo ${code} ${host}`), { code });
        };
        return { asked, resolve };
    };

    it("is tried again while the resolver cannot answer (EAI_AGAIN), until it answers", async () => {
        const { asked, resolve } = failing(["EAI_AGAIN", "EAI_AGAIN", "EAI_AGAIN", "ENOTFOUND"]);
        const err = await failure(checkZoneServes(inputs(), resolve));
        // Three failures to ask, then two answers that the name has no address.
        expect(err?.message).toBe(`zone ${zone}: its name server dns1.ovh.net (GET /domain/zone/${zone}) has no address here: ENOTFOUND, asked 5 times`);
        expect(asked).toEqual(Array(5).fill("dns1.ovh.net"));
    });

    it("fails at the bound when the resolver never answers, with its code and how often it was asked", async () => {
        const { asked, resolve } = failing(["EAI_AGAIN"]);
        const err = await failure(checkZoneServes(inputs({ withinSeconds: 0.3 }), resolve));
        expect(err?.message).toMatch(new RegExp(`^zone ${zone.replace(/\./g, "\\.")}: its name server \\S+ \\(GET /domain/zone/${zone.replace(/\./g, "\\.")}\\) has no address here: EAI_AGAIN, asked \\d+ times$`));
        expect(asked.length).toBeGreaterThan(2);
    });
});

describe("the provider's diff, read and delete", () => {
    const olds: ZoneServesOutputs = { zone: "example.org", expected: [A], withinSeconds: 600, pollSeconds: 5, nameServers: ["dns1.ovh.net"], servers: [], refreshedAt: "2026-12-07T10:00:00.000Z" };
    const news = (over: Partial<ZoneServesInputs> = {}): ZoneServesInputs => ({ zone: "example.org", expected: [A], withinSeconds: 600, pollSeconds: 5, ...over });
    const diff = (n: ZoneServesInputs) => zoneServesProvider.diff!("example.org", olds, n);

    it("proves again when what must be served changes, never replaces, and leaves the bounds out", async () => {
        expect(await diff(news())).toEqual({ changes: false, replaces: [], deleteBeforeReplace: false });
        expect(await diff(news({ withinSeconds: 60, pollSeconds: 1, retry: { attempts: 9 } }))).toMatchObject({ changes: false });
        expect(await diff(news({ expected: [{ ...A, values: ["203.0.113.51"] }] }))).toEqual({ changes: true, replaces: [], deleteBeforeReplace: false });
        expect(await diff(news({ expected: [A, AAAA] }))).toMatchObject({ changes: true, replaces: [] });
        expect(await diff(news({ zone: "example.net", expected: [{ ...A, name: "www.example.net." }] }))).toMatchObject({ changes: true, replaces: [] });
    });

    it("read keeps what was proven; delete asks nothing", async () => {
        expect(await zoneServesProvider.read!("example.org", olds)).toEqual({ id: "example.org", props: olds });
        await expect(zoneServesProvider.delete!("example.org", olds)).resolves.toBeUndefined();
    });

    it("serializes, with the questions and the rule it names, and no secret", async () => {
        const sf = await pulumi.runtime.serializeFunction(() => zoneServesProvider, { allowSecrets: true });
        expect(sf.text).toContain("dnsZone:apiovh:refresh");
        expect(sf.text).toContain("resolveTxt");
        expect(sf.text).toContain("@ovhcloud/node-ovh");
        expect(sf.containsSecrets).toBe(false);
    }, 60_000);
});

describe("ZoneServes, the component", () => {
    it("takes its arguments checked and written one way, the bounds defaulted", () => {
        expect(zoneServesInputs("p", { zone: "Example.org.", expected: [{ name: "WWW.example.org.", type: "AAAA", values: ["2001:DB8::0050"] }] })).toEqual({
            zone: "example.org",
            expected: [{ name: "www.example.org.", type: "AAAA", values: ["2001:db8::50"] }],
            withinSeconds: DEFAULT_SERVES_WITHIN_SECONDS,
            pollSeconds: DEFAULT_SERVES_POLL_SECONDS,
            retry: undefined,
        });
    });

    it("refuses bad arguments before anything is declared, naming each", () => {
        expect(() => zoneServesInputs("p", { zone: "example.org", expected: [], withinSeconds: 0, pollSeconds: Number.NaN })).toThrow(
            'ZoneServes p:\nwithinSeconds: 0 is not valid: expected a number of seconds above 0, at most 86400\npollSeconds: null is not valid: expected a number of seconds above 0, at most 86400',
        );
        expect(() => zoneServesInputs("p", { zone: "example.org", expected: [] })).toThrow("ZoneServes p:\nexpected: [] is not valid: expected at least one {name, type, values}: a proof of nothing proves nothing");
        const registered: string[] = [];
        pulumi.runtime.setMocks({ newResource: (a) => (registered.push(a.type), { id: `${a.name}-id`, state: a.inputs }), call: () => ({}) }, "ovh-failover", "zoneServes", false);
        expect(() => new ZoneServes("bad", { zone: "example.org", expected: [{ name: "www.example.net.", type: "A", values: ["203.0.113.1"] }] })).toThrow(
            'ZoneServes bad:\nexpected[0].name: "www.example.net." is not valid: expected a name of the zone example.org (example.org. or a name ending in .example.org.)',
        );
        expect(registered).toEqual([]);
    });

    it("is a dynamic resource of the project's, with the inputs its provider proves", async () => {
        const registered: { type: string; inputs: Record<string, unknown> }[] = [];
        pulumi.runtime.setMocks({ newResource: (a) => (registered.push({ type: a.type, inputs: a.inputs }), { id: `${a.name}-id`, state: a.inputs }), call: () => ({}) }, "ovh-failover", "zoneServes", false);
        const proof = new ZoneServes("proof", { zone: "example.org", expected: [{ name: "www.example.org.", type: "A", values: ["203.0.113.50"] }], withinSeconds: 120 });
        await new Promise((resolve) => proof.urn.apply(resolve));
        expect(registered).toEqual([
            {
                type: "pulumi-nodejs:dynamic/ovh-failover:ZoneServes",
                inputs: expect.objectContaining({ zone: "example.org", expected: [{ name: "www.example.org.", type: "A", values: ["203.0.113.50"] }], withinSeconds: 120, pollSeconds: DEFAULT_SERVES_POLL_SECONDS }),
            },
        ]);
    });
});
