// The proof that DNS serves a change, against real authoritative name servers: Knot DNS in a
// network namespace (test/support/knot.ts), fed by the OVH stand-in's refresh as OVH's refresh
// feeds its own servers. The zone's records change through the official OVH client, as the OVH
// provider changes them; the check refreshes the zone, reads its name servers from the stand-in
// and asks each of their addresses. The only seam is name resolution: OVH's name server names map
// onto the knot servers' addresses.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { zoneServesInputs, type ZoneServesArgs } from "../../../components/dns/zoneServes";
import { askAddress, checkZoneServes, type ResolveHost, zoneServesProvider, type ZoneServesOutputs } from "../../../components/dns/zoneServesProvider";
import { OvhApi, route } from "../../../components/network/ovhApiClient";
import { canRunKnot, createKnotLab, type KnotLab, type LabKnotServer } from "../../support/knot";
import type { OvhStandIn, ZoneRecord } from "../../support/ovhStandIn";
import { useOvhStandInEnv } from "../../support/ovhStandInEnv";
import { serializedProvider } from "../../support/serializedProvider";

const runnable = canRunKnot();
if (!runnable && process.env.CI === "true") throw new Error("the DNS proof tests need root, iproute2 and knot (knotd, knotc) in CI: .ci/run installs them");

const NS1 = "dns28.ovh.net";
const NS2 = "ns28.ovh.net";

describe.runIf(runnable)("ZoneServes against Knot DNS fed by the stand-in's refresh", () => {
    const ovh = useOvhStandInEnv();
    let standIn: OvhStandIn;
    let lab: KnotLab;
    let n = 0;
    let zone = "";
    let ns1: LabKnotServer;
    let ns2: LabKnotServer;
    /** Publications a hook started and did not wait for. */
    let pending: Promise<void>[] = [];

    beforeAll(() => {
        standIn = ovh.standIn();
        lab = createKnotLab();
    });
    afterAll(async () => {
        await lab?.destroy();
    });

    /** A zone of its own per test, with an A, an AAAA, a TXT and a record to delete, and its two servers serving it. */
    async function world(): Promise<Record<string, number>> {
        n++;
        zone = `t${n}.example.org`;
        standIn.addZone(zone);
        standIn.setZoneNameServers(zone, [NS1, NS2]);
        const ids = {
            a: standIn.addRecord(zone, { fieldType: "A", subDomain: "www", target: "203.0.113.10", ttl: 300 }),
            aaaa: standIn.addRecord(zone, { fieldType: "AAAA", subDomain: "www", target: "2001:db8:1::10", ttl: 300 }),
            txt: standIn.addRecord(zone, { fieldType: "TXT", subDomain: "", target: '"v=spf1 ip4:203.0.113.10 -all"', ttl: 0 }),
            gone: standIn.addRecord(zone, { fieldType: "A", subDomain: "old", target: "203.0.113.99", ttl: 300 }),
        };
        const records = standIn.zoneRecords(zone);
        ns1 = await lab.start({ zones: { [zone]: records }, nameServers: [NS1, NS2] });
        ns2 = await lab.start({ zones: { [zone]: records }, nameServers: [NS1, NS2] });
        return ids;
    }

    afterEach(async () => {
        await Promise.all(pending);
        pending = [];
        standIn.onZoneRefresh(null);
        standIn.zoneRefreshGranted(true);
        await ns1?.stop();
        await ns2?.stop();
        expect(standIn.violations).toEqual([]);
    });

    const resolveHost: ResolveHost = async (host) => {
        if (host === NS1) return [ns1.address, ns1.address6];
        if (host === NS2) return [ns2.address, ns2.address6];
        throw Object.assign(new Error(`no such host ${host}`), { code: "ENOTFOUND" });
    };

    /** The change an IP change makes, sent as the OVH provider sends it (PUT, then its own refresh is not sent here). */
    async function changeRecords(ids: Record<string, number>): Promise<void> {
        const api = new OvhApi();
        const record = (id: number) => route("/domain/zone/{zoneName}/record/{id}", { zoneName: zone, id });
        await api.request("PUT", record(ids.a), { subDomain: "www", target: "203.0.113.50", ttl: 300 });
        await api.request("PUT", record(ids.aaaa), { subDomain: "www", target: "2001:db8:1::50", ttl: 300 });
        await api.request("PUT", record(ids.txt), { target: "v=spf1 ip4:203.0.113.50 -all", ttl: 0 });
        await api.request("DELETE", record(ids.gone));
    }

    /** What the proof expects after that change; the AAAA written with its zeros, as a stack may. */
    const args = (over: Partial<ZoneServesArgs> = {}): ZoneServesArgs => ({
        zone,
        expected: [
            { name: `www.${zone}.`, type: "A", values: ["203.0.113.50"] },
            { name: `www.${zone}.`, type: "AAAA", values: ["2001:0db8:0001:0000::0050"] },
            { name: `${zone}.`, type: "TXT", values: ['"v=spf1 ip4:203.0.113.50 -all"'] },
            { name: `old.${zone}.`, type: "A", values: [] },
        ],
        pollSeconds: 0.2,
        retry: { attempts: 2, baseDelayMs: 10 },
        ...over,
    });

    it("proves a change the refresh published: every address of both servers answers the new values", async () => {
        const ids = await world();
        standIn.onZoneRefresh(async (z, records) => {
            await ns1.publish(z, records);
            await ns2.publish(z, records);
        });
        await changeRecords(ids);
        // Changed at OVH, not served yet: without a refresh the servers answer the old address.
        const before = await askAddress(ns1.address, zoneServesInputs("before", args()).expected);
        expect(before[0]).toEqual({ kind: "values", values: ["203.0.113.10"] });

        const out = await checkZoneServes(zoneServesInputs("proof", args({ withinSeconds: 60 })), resolveHost);
        expect(standIn.zoneRefreshes().filter((z) => z === zone)).toEqual([zone]);
        expect([ns1.reloads, ns2.reloads]).toEqual([1, 1]);
        expect(out.nameServers).toEqual([NS1, NS2]);
        expect(out.servers.map((s) => [s.nameServer, s.address, s.answered, s.matchedAt !== null])).toEqual([
            [NS1, ns1.address, true, true],
            [NS1, ns1.address6, true, true],
            [NS2, ns2.address, true, true],
            [NS2, ns2.address6, true, true],
        ]);
        expect(out.servers[3].answers).toEqual([
            { name: `www.${zone}.`, type: "A", values: ["203.0.113.50"], answer: "203.0.113.50" },
            { name: `www.${zone}.`, type: "AAAA", values: ["2001:db8:1::50"], answer: "2001:db8:1::50" },
            { name: `${zone}.`, type: "TXT", values: ["v=spf1 ip4:203.0.113.50 -all"], answer: '"v=spf1 ip4:203.0.113.50 -all"' },
            { name: `old.${zone}.`, type: "A", values: null, answer: "no such name (NXDOMAIN)" },
        ]);
        for (const s of out.servers) expect(Date.parse(s.matchedAt!)).toBeGreaterThanOrEqual(Date.parse(out.refreshedAt));
    });

    it("with a TTL expected, waits until the servers give it: a lowered TTL counts once it is served", async () => {
        const ids = await world();
        // The lowering at OVH (PUT ttl), then a refresh that ns2 takes only on its second round.
        const api = new OvhApi();
        await api.request("PUT", route("/domain/zone/{zoneName}/record/{id}", { zoneName: zone, id: ids.a }), { subDomain: "www", target: "203.0.113.10", ttl: 60 });
        let published: ((records: ZoneRecord[]) => void) | undefined;
        standIn.onZoneRefresh(async (z, records) => {
            await ns1.publish(z, records);
            published = (r) => pending.push(ns2.publish(z, r));
        });
        const lowered = { zone, expected: [{ name: `www.${zone}.`, type: "A" as const, values: ["203.0.113.10"], ttl: 60 }], pollSeconds: 0.2, retry: { attempts: 2, baseDelayMs: 10 } };
        // Both serve the address already; only ns1 the lowered TTL: the proof is not done.
        const early = await checkZoneServes(zoneServesInputs("early", { ...lowered, withinSeconds: 2 }), resolveHost).then(() => "", (e: Error) => e.message);
        expect(early).toContain(`${NS2} (${ns2.address}): www.${zone}. A answers 203.0.113.10 (TTL 300), expected 203.0.113.10 (TTL 60)`);
        expect(early).not.toContain(`${NS1} (${ns1.address}):`);
        published!(standIn.zoneRecords(zone));
        await Promise.all(pending);
        const out = await checkZoneServes(zoneServesInputs("lowered", { ...lowered, withinSeconds: 30 }), resolveHost);
        expect(out.servers.every((sv) => sv.matchedAt !== null)).toBe(true);
        expect(out.servers[0].answers[0].answer).toBe("203.0.113.10 (TTL 60)");
    });

    it("fails when the key may not refresh the zone (403), with OVH's words and the rule to add; nothing is published", async () => {
        const ids = await world();
        standIn.onZoneRefresh(async (z, records) => {
            await ns1.publish(z, records);
            await ns2.publish(z, records);
        });
        standIn.zoneRefreshGranted(false);
        await changeRecords(ids);
        const from = standIn.requests.length;
        const err = await checkZoneServes(zoneServesInputs("refused", args({ withinSeconds: 30 })), resolveHost).then(
            () => undefined,
            (e: unknown) => e,
        );
        // A plain Error: a subclass would reach the engine without its message.
        expect(err).toBeInstanceOf(Error);
        expect((err as Error).constructor).toBe(Error);
        expect((err as Error).message).toBe(
            `zone ${zone}: OVH refused to refresh the zone (POST /domain/zone/${zone}/refresh: HTTP 403: This call has not been granted), so its changed records are not served: ` +
                "add the access rule POST /domain/zone/*/refresh to the consumer key (docs/ovh-credentials.md), or the action dnsZone:apiovh:refresh to the IAM policy of the OAuth2 client, then run pulumi up again",
        );
        // It stopped there: no name server was read, nothing was published, the old address is still served.
        const sent = standIn.requests.slice(from).filter((r) => r.route !== "/auth/time");
        expect(sent.map((r) => `${r.status} ${r.method} ${r.route}`)).toEqual(["403 POST /domain/zone/{zoneName}/refresh"]);
        expect([ns1.reloads, ns2.reloads]).toEqual([0, 0]);
        expect((await askAddress(ns2.address, zoneServesInputs("after", args()).expected))[0]).toEqual({ kind: "values", values: ["203.0.113.10"] });
    });

    it("reads a served TXT as served: quotes in its text are text, and a text that is not OVH's quoted form is an answer, never silence", async () => {
        await world();
        // Stored as OVH stores a TXT target: the served texts are "abc" and "hi" there, quotes included.
        standIn.addRecord(zone, { fieldType: "TXT", subDomain: "q", target: '"\\"abc\\""', ttl: 0 });
        standIn.addRecord(zone, { fieldType: "TXT", subDomain: "odd", target: '"\\"hi\\" there"', ttl: 0 });
        await ns1.publish(zone, standIn.zoneRecords(zone));
        const expected = zoneServesInputs("txt", {
            zone,
            expected: [
                { name: `q.${zone}.`, type: "TXT", values: ["abc"] },
                { name: `odd.${zone}.`, type: "TXT", values: ["hi there"] },
            ],
        }).expected;
        expect(await askAddress(ns1.address, expected)).toEqual([
            { kind: "values", values: ['"abc"'] },
            { kind: "values", values: ['"hi" there'] },
        ]);
        const err = await checkZoneServes({ zone, expected, withinSeconds: 1, pollSeconds: 0.2, retry: { attempts: 2, baseDelayMs: 10 } }, async (host) => {
            if (host === NS1) return [ns1.address];
            if (host === NS2) return [ns2.address];
            throw Object.assign(new Error(`no such host ${host}`), { code: "ENOTFOUND" });
        }).then(
            () => undefined,
            (e: unknown) => e as Error,
        );
        expect(err?.message.split("\n").slice(1, 3)).toEqual([
            `  ${NS1} (${ns1.address}): q.${zone}. TXT answers "\\"abc\\"", expected "abc"`,
            `  ${NS1} (${ns1.address}): odd.${zone}. TXT answers "\\"hi\\" there", expected "hi there"`,
        ]);
    });

    it("fails after the bound when a server keeps the old answer, naming it, each address, what it answers and what was expected", async () => {
        const ids = await world();
        // The refresh reaches the first server only: the second keeps the zone it had.
        standIn.onZoneRefresh((z, records) => ns1.publish(z, records));
        await changeRecords(ids);
        const started = Date.now();
        const err = await checkZoneServes(zoneServesInputs("stale", args({ withinSeconds: 3, pollSeconds: 0.5 })), resolveHost).then(
            () => undefined,
            (e: unknown) => e as Error,
        );
        expect(Date.now() - started).toBeGreaterThanOrEqual(3000);
        expect(err?.constructor).toBe(Error);
        const lines = err!.message.split("\n");
        expect(lines[0]).toBe(`zone ${zone}: its name servers do not all serve the expected records within 3 s of the first refresh request:`);
        const stale = (address: string) => [
            `  ${NS2} (${address}): www.${zone}. A answers 203.0.113.10, expected 203.0.113.50`,
            `  ${NS2} (${address}): www.${zone}. AAAA answers 2001:db8:1::10, expected 2001:db8:1::50`,
            `  ${NS2} (${address}): ${zone}. TXT answers "v=spf1 ip4:203.0.113.10 -all", expected "v=spf1 ip4:203.0.113.50 -all"`,
            `  ${NS2} (${address}): old.${zone}. A answers 203.0.113.99, expected no A record`,
        ];
        expect(lines.slice(1, 9)).toEqual([...stale(ns2.address), ...stale(ns2.address6)]);
        // The server that took the refresh is named as serving, not as failing.
        expect(lines[9]).toMatch(new RegExp(`^serving them: ${NS1} \\(${ns1.address.replace(/\./g, "\\.")}\\) since \\S+, ${NS1} \\(${ns1.address6}\\) since \\S+$`));
        expect(lines.filter((l) => l.startsWith(`  ${NS1}`))).toEqual([]);
        expect([ns1.reloads, ns2.reloads]).toEqual([1, 0]);
    });

    it("passes when a server catches up within the bound, and says when each one first served the change", async () => {
        const ids = await world();
        let ns2PublishedAt = 0;
        standIn.onZoneRefresh(async (z, records) => {
            await ns1.publish(z, records);
            // The second server loads the refreshed zone two seconds later, as a slower secondary does.
            pending.push(
                new Promise((resolve) => setTimeout(resolve, 2000)).then(async () => {
                    const at = Date.now();
                    await ns2.publish(z, records);
                    ns2PublishedAt = at;
                }),
            );
        });
        await changeRecords(ids);
        const out = await checkZoneServes(zoneServesInputs("catch-up", args({ withinSeconds: 60, pollSeconds: 0.5 })), resolveHost);
        const matched = (server: string) => out.servers.filter((s) => s.nameServer === server).map((s) => Date.parse(s.matchedAt!));
        expect(ns2PublishedAt).toBeGreaterThan(0);
        for (const at of matched(NS2)) expect(at).toBeGreaterThanOrEqual(ns2PublishedAt);
        // The first served it at once; the proof waited for the second (published two seconds after the refresh).
        for (const at of matched(NS1)) expect(at).toBeLessThan(ns2PublishedAt);
    });

    it("as the engine runs it (serialized code, the system's resolver, no seam): create proves the change, an update proves the next one", async () => {
        const ids = await world();
        // Name servers written as addresses resolve to themselves: nothing of the check is replaced.
        standIn.setZoneNameServers(zone, [ns1.address, ns2.address6]);
        standIn.onZoneRefresh(async (z, records) => {
            await ns1.publish(z, records);
            await ns2.publish(z, records);
        });
        const provider = await serializedProvider(zoneServesProvider);
        await changeRecords(ids);
        const created = await provider.create!(zoneServesInputs("engine", args({ withinSeconds: 60 })));
        expect(created.id).toBe(zone);
        const outs = created.outs as ZoneServesOutputs;
        expect(outs.servers.map((s) => [s.nameServer, s.address, s.matchedAt !== null])).toEqual([
            [ns1.address, ns1.address, true],
            [ns2.address6, ns2.address6, true],
        ]);

        await new OvhApi().request("PUT", route("/domain/zone/{zoneName}/record/{id}", { zoneName: zone, id: ids.a }), { subDomain: "www", target: "203.0.113.51", ttl: 300 });
        const next = zoneServesInputs("engine", args({ withinSeconds: 60, expected: [{ name: `www.${zone}.`, type: "A", values: ["203.0.113.51"] }] }));
        expect(await provider.diff!(zone, outs, next)).toMatchObject({ changes: true, replaces: [] });
        const updated = (await provider.update!(zone, outs, next)).outs as ZoneServesOutputs;
        expect(updated.servers.flatMap((s) => s.answers.map((a) => a.answer))).toEqual(["203.0.113.51", "203.0.113.51"]);
        expect(standIn.zoneRefreshes().filter((z) => z === zone)).toEqual([zone, zone]);
    });

    it("does not wait for an address that never answers beside one of the same server that serves; a server with no answering address fails", async () => {
        const ids = await world();
        standIn.onZoneRefresh(async (z, records) => {
            await ns1.publish(z, records);
            await ns2.publish(z, records);
        });
        await changeRecords(ids);
        // The lab's own end of the link: an address, but no name server on it.
        const silent = lab.hostAddress;
        const withSilent: ResolveHost = async (host) => (host === NS1 ? [ns1.address, silent] : [ns2.address]);
        const out = await checkZoneServes(zoneServesInputs("silent", args({ withinSeconds: 60 })), withSilent);
        expect(out.servers.map((s) => [s.nameServer, s.address, s.answered, s.matchedAt !== null])).toEqual([
            [NS1, ns1.address, true, true],
            [NS1, silent, false, false],
            [NS2, ns2.address, true, true],
        ]);
        expect(out.servers[1].answers[0]).toMatchObject({ values: null, answer: expect.stringMatching(/^no answer \(E[A-Z]+\)$/) });

        const onlySilent: ResolveHost = async (host) => (host === NS1 ? [ns1.address] : [silent]);
        const err = await checkZoneServes(zoneServesInputs("silent", args({ withinSeconds: 2, pollSeconds: 0.5 })), onlySilent).then(
            () => undefined,
            (e: unknown) => e as Error,
        );
        expect(err?.message.split("\n")[1]).toMatch(new RegExp(`^  ${NS2} \\(${silent.replace(/\./g, "\\.")}\\): www\\.${zone.replace(/\./g, "\\.")}\\. A no answer \\(E[A-Z]+\\), expected 203\\.0\\.113\\.50$`));
    });

    it("fails naming a name server that has no address here", async () => {
        await world();
        standIn.onZoneRefresh((z, records) => ns1.publish(z, records));
        standIn.setZoneNameServers(zone, [NS1, "dns-nowhere.ovh.net"]);
        await expect(checkZoneServes(zoneServesInputs("nowhere", args({ withinSeconds: 30 })), resolveHost)).rejects.toThrow(
            `zone ${zone}: its name server dns-nowhere.ovh.net (GET /domain/zone/${zone}) has no address here: ENOTFOUND`,
        );
    });
});
