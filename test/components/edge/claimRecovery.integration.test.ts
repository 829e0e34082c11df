// A promotion whose claim does not go through, for real: two keepalived 2.2.7 nodes in network
// namespaces with the files this project renders, the real bin/ovh-ipmove and the OVH API
// stand-in. The lower node is promoted while the API is down (beyond ovh-ipmove's retries), or
// while its claim lock is held as a periodic claim in flight holds it; either way its promotion's
// claim moves nothing, and its periodic claims must move the IP once OVH answers again or the lock
// is free: a periodic claim yields to the nodes above only after a claim of this node's own has
// gone through since it became master. In a sustained split brain the same failure must still
// cost two moves in all. Linux and root; run by `npm run test:integration` and by CI, where it
// must not be skipped.
import { ChildProcess, spawn } from "child_process";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ClaimRun, createEdgeLab, EdgeLab, keepalivedLabRunnable, leftovers, sleep, waitFor } from "../../support/edgeLab";

const runnable = keepalivedLabRunnable("the claim recovery test");

const REASSERT_SECONDS = 10;
/** A backup declares the master dead after three advertisements plus skew (a kill's priority 0 is quicker). */
const PROMOTION_BOUND_MS = 15_000;
/** ovh-ipmove's retries of a 503 (components/network/ovhApiClient.ts DEFAULT_RETRY: 5 attempts, 1+2+4+8 s, ±25 %) and its start. */
const RETRIES_BOUND_MS = 19_000 + 15_000;
/** One period, ovh-ipmove's own time (start, reads, polls every 2 s) and slack for a loaded machine. */
const PERIOD_BOUND_MS = REASSERT_SECONDS * 1000 + 15_000;
const SAMPLE_MS = 500;

describe.runIf(runnable)("a promotion whose claim fails: the periodic claims move the IP, and a split brain still costs two moves", () => {
    let lab: EdgeLab;
    let prefix = "";
    let holder: ChildProcess | undefined;

    beforeAll(async () => {
        lab = await createEdgeLab({
            daemon: "keepalived",
            nodes: [
                { name: "edge-1", advskew: 0 },
                { name: "edge-2", advskew: 50 },
            ],
            advbase: 1,
            healthIntervalSeconds: 1,
            reassertSeconds: REASSERT_SECONDS,
        });
        prefix = lab.prefix;
        await lab.start("edge-1");
        await waitFor(() => `edge-1 to hold the IP and OVH to route it there (${lab.describe()})`, 30_000, () => lab.holds("edge-1") && lab.routedTo("edge-1"));
        await lab.start("edge-2");
        await waitFor(() => `edge-2 to run as backup (${lab.describe()})`, 20_000, () => lab.daemonOutput("edge-2").includes("Entering BACKUP STATE"));
    }, 90_000);

    afterEach(() => {
        if (holder?.exitCode === null) holder.kill("SIGKILL");
    });

    afterAll(async () => {
        await lab?.destroy();
        if (prefix) expect(leftovers(prefix)).toEqual([]);
    });

    const attachedNodes = (from: number) => lab.attaches().slice(from).map((a) => a.node);
    const describeClaims = (name: string) =>
        `${lab.describe()}; ${name}'s claims: ${JSON.stringify(lab.claims(name))}; its ovh-ipmove runs: ${JSON.stringify(lab.moveRuns(name))}`;
    const promotionsSince = (name: string, t: number): ClaimRun[] => lab.claims(name).filter((c) => !c.periodic && c.startedAt >= t);

    /** edge-1 back (it preempts): it alone holds the IP, routed to it; edge-2 dropped the alias as a backup does. */
    async function edge1Back(): Promise<void> {
        if (lab.pid("edge-1") === undefined) await lab.start("edge-1");
        await waitFor(() => `edge-1 alone to hold the IP, routed to it (${lab.describe()})`, 60_000, () => lab.holders().join() === "edge-1" && lab.routedTo("edge-1"));
    }

    /** edge-2, once promoted, then yields: its next periodic claim runs ovh-ipmove with -yield-to and moves nothing. */
    async function expectYieldAfter(t: number, attaches: number): Promise<void> {
        await waitFor(() => `a periodic claim of edge-2 that yields (${describeClaims("edge-2")})`, PERIOD_BOUND_MS, () =>
            lab.moveRuns("edge-2").some((r) => r.endedAt > t && r.yielding && r.status === 0),
        );
        expect(lab.attaches().length, lab.describe()).toBe(attaches);
    }

    it("the API down through edge-2's promotion: its claim fails, and a periodic claim moves the IP once OVH answers again", async () => {
        const before = lab.attaches().length;
        await lab.apiDown(true);
        const killedAt = Date.now();
        await lab.stop("edge-1");
        await waitFor(() => `edge-2's promotion (${lab.describe()})`, PROMOTION_BOUND_MS, () => promotionsSince("edge-2", killedAt).length > 0);
        // Its claim spends ovh-ipmove's retries and fails.
        const failed = await waitFor(() => `edge-2's promotion claim to fail (${describeClaims("edge-2")})`, RETRIES_BOUND_MS, () =>
            promotionsSince("edge-2", killedAt).find((c) => c.endedAt !== undefined),
        );
        expect(failed.status, describeClaims("edge-2")).not.toBe(0);
        expect(lab.routedTo("edge-1"), lab.describe()).toBe(true);
        await lab.apiDown(false);
        const backAt = Date.now();
        await waitFor(() => `the IP routed to edge-2 (${describeClaims("edge-2")})`, PERIOD_BOUND_MS, () => lab.routedTo("edge-2") && lab.holders().join() === "edge-2");
        console.log(`the API back, a periodic claim of edge-2 moved the IP ${Date.now() - backAt} ms after`);
        // The move was a periodic claim's, outright; once it went through, edge-2 yields again.
        const moved = lab.moveRuns("edge-2").filter((r) => r.endedAt >= backAt && r.status === 0);
        expect(moved[0]?.yielding, describeClaims("edge-2")).toBe(false);
        expect(attachedNodes(before), lab.describe()).toEqual(["edge-2"]);
        await expectYieldAfter(Date.now(), before + 1);
        expect(lab.violations()).toEqual([]);
    }, PROMOTION_BOUND_MS + RETRIES_BOUND_MS + 2 * PERIOD_BOUND_MS + 20_000);

    it("the claim lock held through edge-2's promotion, as a periodic claim in flight holds it: a later periodic claim moves the IP", async () => {
        await edge1Back();
        const before = lab.attaches().length;
        // The node's lock taken as the master script takes it (flock on descriptor 9 of the file),
        // by one process that holds it until it is killed.
        const hold = 'exec 9>>"$1" && flock 9 && echo held && exec sleep 600';
        holder = spawn("ip", ["netns", "exec", lab.node("edge-2").ns, "sh", "-c", hold, "sh", lab.node("edge-2").lockFile], { stdio: ["ignore", "pipe", "inherit"] });
        const child = holder;
        let out = "";
        child.stdout?.on("data", (d: Buffer) => (out += d.toString()));
        await waitFor("the lock to be held", 10_000, () => out.includes("held"));
        const killedAt = Date.now();
        await lab.stop("edge-1");
        // The promotion's claim finds the lock held and leaves at once.
        const promotion = await waitFor(() => `edge-2's promotion claim to end (${describeClaims("edge-2")})`, PROMOTION_BOUND_MS, () =>
            promotionsSince("edge-2", killedAt).find((c) => c.endedAt !== undefined),
        );
        expect(promotion.status).toBe(0);
        expect(lab.moveRuns("edge-2").filter((r) => r.endedAt >= killedAt), describeClaims("edge-2")).toEqual([]);
        child.kill("SIGTERM");
        await waitFor("the lock holder to exit", 10_000, () => child.exitCode !== null || child.signalCode !== null);
        const freedAt = Date.now();
        await waitFor(() => `the IP routed to edge-2 (${describeClaims("edge-2")})`, PERIOD_BOUND_MS, () => lab.routedTo("edge-2") && lab.holders().join() === "edge-2");
        console.log(`the lock free, a periodic claim of edge-2 moved the IP ${Date.now() - freedAt} ms after`);
        expect(attachedNodes(before), lab.describe()).toEqual(["edge-2"]);
        await expectYieldAfter(Date.now(), before + 1);
        expect(lab.violations()).toEqual([]);
    }, 60_000 + PROMOTION_BOUND_MS + 2 * PERIOD_BOUND_MS + 20_000);

    const PARTITION_PERIODS = 4;

    it(`a split brain whose lower master's promotion claim fails: two moves in all through ${PARTITION_PERIODS} more periods, and none on healing`, async () => {
        await edge1Back();
        const before = lab.attaches().length;
        await lab.apiDown(true);
        const cutAt = Date.now();
        lab.partition(true);
        await waitFor(() => `edge-2's promotion claim to fail (${describeClaims("edge-2")})`, PROMOTION_BOUND_MS + RETRIES_BOUND_MS, () =>
            promotionsSince("edge-2", cutAt).find((c) => c.endedAt !== undefined),
        );
        expect(attachedNodes(before)).toEqual([]);
        await lab.apiDown(false);
        // edge-2's next periodic claim is outright (no claim of its own went through), edge-1's
        // next one takes the IP back, and edge-2's yield from then on.
        await waitFor(() => `edge-2's move and edge-1's move back (${lab.describe()})`, 3 * PERIOD_BOUND_MS, () =>
            attachedNodes(before).join() === "edge-2,edge-1" && lab.routedTo("edge-1"),
        );
        const settledAt = Date.now();
        while (Date.now() < settledAt + PARTITION_PERIODS * REASSERT_SECONDS * 1000) {
            expect(lab.routing().node, lab.describe()).toBe("edge-1");
            expect(attachedNodes(before), lab.describe()).toEqual(["edge-2", "edge-1"]);
            await sleep(SAMPLE_MS);
        }
        expect(lab.moveRuns("edge-2").filter((r) => r.endedAt > settledAt).every((r) => r.yielding), describeClaims("edge-2")).toBe(true);
        lab.partition(false);
        await waitFor(() => `edge-1 alone to hold the IP (${lab.describe()})`, PERIOD_BOUND_MS, () => lab.holders().join() === "edge-1");
        const healedAt = Date.now();
        while (Date.now() < healedAt + REASSERT_SECONDS * 1000) {
            expect(lab.routing().node, lab.describe()).toBe("edge-1");
            await sleep(SAMPLE_MS);
        }
        expect(attachedNodes(before), lab.describe()).toEqual(["edge-2", "edge-1"]);
        expect(lab.violations()).toEqual([]);
    }, 60_000 + PROMOTION_BOUND_MS + RETRIES_BOUND_MS + 4 * PERIOD_BOUND_MS + PARTITION_PERIODS * REASSERT_SECONDS * 1000 + 20_000);
});
