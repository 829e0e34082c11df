// A split brain for real (keepalived issue #100): two keepalived 2.2.7 nodes whose private network
// breaks while every link stays up, so both become master and both move the failover IP at the
// OVH API stand-in; the backup moves it last. When the network heals, VRRP elects the preferred
// node again, but it was master all along, so nothing would move the IP back: its re-assertion
// must, within one period plus one advertisement. Linux and root; run by `npm run
// test:integration` and by CI, where it must not be skipped.
import { spawnSync } from "child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { canRunEdgeLab, createEdgeLab, EdgeLab, leftovers, sleep, waitFor } from "../../support/edgeLab";

const ci = process.env.CI === "true";
const hasKeepalived = spawnSync("keepalived", ["--version"], { stdio: "ignore" }).status === 0;
const runnable = canRunEdgeLab() && hasKeepalived && spawnSync("bridge", ["-V"], { stdio: "ignore" }).status === 0;
if (!runnable && ci) throw new Error("the split-brain test needs root, iproute2 and keepalived in CI");

const REASSERT_SECONDS = 10;
const ADVBASE_SECONDS = 1;
/** A backup declares the master dead after three advertisements plus skew; then its move. */
const SPLIT_BOUND_MS = 15_000;
/** One period plus one advertisement, and ovh-ipmove's own time (start, GET, attach, poll). */
const HEAL_BOUND_MS = (REASSERT_SECONDS + ADVBASE_SECONDS) * 1000 + 8_000;
const QUIET_MS = 30_000;
const SAMPLE_MS = 500;

describe.runIf(runnable)("a split brain heals with the IP routed to the master", () => {
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
        });
        prefix = lab.prefix;
        await lab.start("edge-1");
        await waitFor(() => `edge-1 to hold the IP and OVH to route it there (${lab.describe()})`, 20_000, () => lab.holds("edge-1") && lab.routedTo("edge-1"));
        await lab.start("edge-2");
        // edge-2 settles as backup: it hears edge-1.
        await waitFor(() => `edge-2 to run as backup (${lab.describe()})`, 20_000, () => lab.daemonOutput("edge-2").includes("Entering BACKUP STATE"));
    });

    afterAll(async () => {
        await lab?.destroy();
        if (prefix) expect(leftovers(prefix)).toEqual([]);
    });

    it("both become master and move the IP when the private network breaks; on healing, the master alone holds it and OVH routes it there", async () => {
        const before = lab.attaches().length;
        lab.partition(true);
        // edge-2 hears nothing more: master too, it aliases the IP and moves it.
        await waitFor(() => `edge-2 to claim the IP as a second master (${lab.describe()})`, SPLIT_BOUND_MS, () =>
            lab.holds("edge-2") && lab.holds("edge-1") && lab.routedTo("edge-2"),
        );
        // Make sure edge-2 moved last, as in the incident: the case where nothing brings it back.
        const routedBeforeHeal = lab.routing().node;
        expect(routedBeforeHeal).toBe("edge-2");
        const attachesAtHeal = lab.attaches().length;
        expect(lab.attaches().slice(before).map((a) => a.node)).toContain("edge-2");

        const healedAt = Date.now();
        lab.partition(false);
        await waitFor(() => `edge-1 alone to hold the IP and OVH to route it there again (${lab.describe()})`, HEAL_BOUND_MS, () =>
            lab.holders().join() === "edge-1" && lab.routedTo("edge-1"),
        );
        const healed = Date.now() - healedAt;
        console.log(`split brain healed: edge-1 alone holds the IP and OVH routes it there ${healed} ms after the private network came back`);
        // One move back, no more.
        await sleep(1_000);
        const after = lab.attaches().slice(attachesAtHeal);
        expect(after.map((a) => a.node), lab.describe()).toEqual(["edge-1"]);

        // Nothing flaps: edge-1 alone holds it, OVH routes it there, no attach.
        const end = Date.now() + QUIET_MS;
        while (Date.now() < end) {
            expect(lab.holders(), lab.describe()).toEqual(["edge-1"]);
            expect(lab.routedTo("edge-1"), lab.describe()).toBe(true);
            await sleep(SAMPLE_MS);
        }
        expect(lab.attaches().length).toBe(attachesAtHeal + 1);
        expect(lab.violations()).toEqual([]);
    });
});
