// A split brain for real: two keepalived 2.2.7 nodes whose private network breaks while every link
// stays up, so both are master and both claim the failover IP at the OVH API stand-in, whose
// attach takes seconds, as OVH's does. Each master re-asserts every period; the lower one yields to
// the higher (ovh-ipmove -yield-to), so however long the partition lasts the IP moves at most
// twice and ends on the preferred node, and healing moves nothing. Linux and root; run by
// `npm run test:integration` and by CI, where it must not be skipped.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createEdgeLab, EdgeLab, keepalivedLabRunnable, leftovers, sleep, waitFor } from "../../support/edgeLab";

const runnable = keepalivedLabRunnable("the split-brain test");

const REASSERT_SECONDS = 10;
const ADVBASE_SECONDS = 1;
/** How long the stand-in's attach stays operationPending: OVH's take seconds. */
const ATTACH_MS = 3_000;
/** A backup declares the master dead after three advertisements plus skew; then its claim. */
const SPLIT_BOUND_MS = 15_000;
/** One period, one attach and ovh-ipmove's own time (start, reads, polls). */
const PERIOD_BOUND_MS = REASSERT_SECONDS * 1000 + ATTACH_MS + 8_000;
const PARTITION_PERIODS = 10;
const SAMPLE_MS = 500;

describe.runIf(runnable)("a sustained split brain moves the IP at most twice, and healing moves nothing", () => {
    let lab: EdgeLab;
    let prefix = "";

    beforeAll(async () => {
        lab = await createEdgeLab({
            daemon: "keepalived",
            nodes: [
                { name: "edge-1", advskew: 0 },
                { name: "edge-2", advskew: 50 },
            ],
            advbase: ADVBASE_SECONDS,
            healthIntervalSeconds: 1,
            reassertSeconds: REASSERT_SECONDS,
            attachMs: ATTACH_MS,
        });
        prefix = lab.prefix;
        await lab.start("edge-1");
        await waitFor(() => `edge-1 to hold the IP and OVH to route it there (${lab.describe()})`, 30_000, () => lab.holds("edge-1") && lab.routedTo("edge-1"));
        await lab.start("edge-2");
        await waitFor(() => `edge-2 to run as backup (${lab.describe()})`, 20_000, () => lab.daemonOutput("edge-2").includes("Entering BACKUP STATE"));
    });

    afterAll(async () => {
        await lab?.destroy();
        if (prefix) expect(leftovers(prefix)).toEqual([]);
    });

    const settledAttaches = (from: number) => lab.attaches().slice(from).map((a) => a.node);

    it(`through ${PARTITION_PERIODS} re-assertion periods: edge-2's claim, edge-1's one move back, then nothing; healing moves nothing`, async () => {
        const before = lab.attaches().length;
        lab.partition(true);
        const cutAt = Date.now();
        await waitFor(() => `edge-2 to claim the IP as a second master (${lab.describe()})`, SPLIT_BOUND_MS, () => lab.holds("edge-2") && lab.holds("edge-1"));
        // edge-2's promotion claims outright (edge-1 might be dead); edge-1, master all along,
        // takes it back at its next re-assertion, and edge-2's re-assertions then yield to it.
        await waitFor(() => `edge-2's claim and edge-1's move back (${lab.describe()})`, SPLIT_BOUND_MS + PERIOD_BOUND_MS, () =>
            settledAttaches(before).join() === "edge-2,edge-1" && lab.routedTo("edge-1"),
        );
        const settledAt = Date.now();
        console.log(`split brain: edge-2 claimed, and the IP was back on edge-1 ${settledAt - cutAt} ms after the private network broke`);
        const end = cutAt + PARTITION_PERIODS * REASSERT_SECONDS * 1000;
        while (Date.now() < end) {
            expect(lab.routing().node, lab.describe()).toBe("edge-1");
            expect(settledAttaches(before), lab.describe()).toEqual(["edge-2", "edge-1"]);
            await sleep(SAMPLE_MS);
        }

        lab.partition(false);
        const healedAt = Date.now();
        await waitFor(() => `edge-1 alone to hold the IP (${lab.describe()})`, PERIOD_BOUND_MS, () => lab.holders().join() === "edge-1");
        // A period and more after the heal: still no move, and the IP where it was.
        while (Date.now() < healedAt + PERIOD_BOUND_MS) {
            expect(lab.routing().node, lab.describe()).toBe("edge-1");
            await sleep(SAMPLE_MS);
        }
        expect(settledAttaches(before), lab.describe()).toEqual(["edge-2", "edge-1"]);
        expect(lab.holders()).toEqual(["edge-1"]);
        expect(lab.violations()).toEqual([]);
    }, (PARTITION_PERIODS * REASSERT_SECONDS * 1000) + 3 * PERIOD_BOUND_MS + SPLIT_BOUND_MS);

    it("a claim still in flight when the network heals: the IP ends on edge-1, two moves in all, then nothing", async () => {
        const before = lab.attaches().length;
        lab.partition(true);
        // Heal while edge-2's attach is still operationPending at OVH.
        await waitFor(() => `edge-2's attach to be sent (${lab.describe()})`, SPLIT_BOUND_MS, () => settledAttaches(before).includes("edge-2"));
        expect(lab.routing().ipStatus, lab.describe()).toBe("operationPending");
        lab.partition(false);
        const healedAt = Date.now();
        await waitFor(() => `edge-1 alone to hold the IP and OVH to route it there (${lab.describe()})`, PERIOD_BOUND_MS + ATTACH_MS, () =>
            lab.holders().join() === "edge-1" && lab.routedTo("edge-1"),
        );
        console.log(`a claim in flight at the heal: edge-1 alone holds the IP and OVH routes it there ${Date.now() - healedAt} ms after`);
        while (Date.now() < healedAt + PERIOD_BOUND_MS + ATTACH_MS) {
            expect(lab.holders(), lab.describe()).toEqual(["edge-1"]);
            await sleep(SAMPLE_MS);
        }
        expect(lab.routedTo("edge-1"), lab.describe()).toBe(true);
        expect(settledAttaches(before), lab.describe()).toEqual(["edge-2", "edge-1"]);
        expect(lab.violations()).toEqual([]);
    }, 3 * PERIOD_BOUND_MS + SPLIT_BOUND_MS);
});
