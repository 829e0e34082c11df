// An edge trio for real: three keepalived 2.2.7 nodes in network namespaces, with the
// configuration and notify scripts this project renders, VRRP unicast on the private network,
// the failover IP aliased on the master's public interface, and the real bin/ovh-ipmove moving it
// at the OVH API stand-in (its own namespace, behind the public bridge, schema-checked). Kills,
// link failures and the preferred node's return must each move the IP once, to the right node,
// with one attach, and nothing may flap afterwards. Linux and root; run by
// `npm run test:integration` and by CI, where it must not be skipped.
import { spawnSync } from "child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { vrrpPriority } from "../../../components/edge/keepalived";
import { AttachRequest, createEdgeLab, EdgeLab, keepalivedLabRunnable, leftovers, sleep, waitFor } from "../../support/edgeLab";

const runnable = keepalivedLabRunnable("the edge failover test");

/** How long a move may take: VRRP's takeover, the gratuitous ARP, ovh-ipmove's start. */
const MOVE_BOUND_MS = 10_000;
/** A restarted node also starts keepalived, proves its ping check (rise 2) and waits out the master. */
const RETURN_BOUND_MS = 15_000;
/** How long nothing may change after a move. */
const QUIET_MS = 30_000;
const SAMPLE_MS = 500;

describe.runIf(runnable)("edge failover with keepalived, for real", () => {
    let lab: EdgeLab;
    let prefix = "";

    beforeAll(async () => {
        lab = await createEdgeLab({
            daemon: "keepalived",
            nodes: [
                { name: "edge-1", advskew: 0 },
                { name: "edge-2", advskew: 50 },
                { name: "edge-3", advskew: 100 },
            ],
            advbase: 1,
            healthIntervalSeconds: 1,
        });
        prefix = lab.prefix;
    });

    afterAll(async () => {
        await lab?.destroy();
        if (prefix) {
            expect(leftovers(prefix)).toEqual([]);
            expect(spawnSync("ip", ["netns", "list"], { encoding: "utf8" }).stdout).not.toContain(`${prefix}-`);
        }
    });

    /** The attaches as the names of the nodes they name. */
    const attachedNodes = (list: AttachRequest[]) => list.map((a) => a.node ?? `unknown instance ${a.instanceId}`);

    /** Waits until `node` alone holds the IP and one more attach, naming it, reached the API. */
    async function expectMoveTo(node: string, attachesBefore: number, startedAt: number, boundMs = MOVE_BOUND_MS): Promise<number> {
        await waitFor(() => `${node} alone to hold the IP and its attach (${lab.describe()})`, boundMs, () =>
            lab.holders().join() === node && lab.attaches().length > attachesBefore,
        );
        const took = Date.now() - startedAt;
        // Let a second attach, if one is coming, arrive before counting.
        await sleep(1_000);
        const fresh = lab.attaches().slice(attachesBefore);
        expect(attachedNodes(fresh), lab.describe()).toEqual([node]);
        expect(fresh[0].status).toBe(200);
        expect(fresh[0].t).toBeGreaterThanOrEqual(startedAt);
        return took;
    }

    /** For QUIET_MS, sampled every SAMPLE_MS: `node` alone holds the IP and no attach is sent. */
    async function expectNoFlap(node: string, attaches: number): Promise<void> {
        const end = Date.now() + QUIET_MS;
        let samples = 0;
        while (Date.now() < end) {
            const holders = lab.holders();
            const count = lab.attaches().length;
            if (holders.join() !== node || count !== attaches) {
                throw new Error(`flap after ${samples} quiet samples: expected ${node} alone and ${attaches} attaches; ${lab.describe()}`);
            }
            samples++;
            await sleep(SAMPLE_MS);
        }
        expect(samples).toBeGreaterThanOrEqual(QUIET_MS / SAMPLE_MS - 5);
        // ovh-ipmove saw its attach through: the stand-in routes the IP to the holder.
        await waitFor(`the stand-in to route the IP to ${node}`, 10_000, () => lab.routedTo(node));
    }

    it("renders the advskews as VRRP priorities 254, 204 and 154", () => {
        expect(lab.nodes.map((n) => vrrpPriority(n.spec.advskew))).toEqual([254, 204, 154]);
    });

    it("a. at start, the advskew 0 node alone holds the IP and sent the one attach", async () => {
        const startedAt = Date.now();
        // The preferred node first: started together, a backup whose start is late by more than
        // the skew difference (0.2 s) would claim the IP before edge-1 preempts it (two attaches).
        await lab.start("edge-1");
        await expectMoveTo("edge-1", 0, startedAt, RETURN_BOUND_MS);
        await lab.start("edge-2");
        await lab.start("edge-3");
        for (const backup of ["edge-2", "edge-3"]) {
            await waitFor(`${backup} to enter BACKUP`, 10_000, () => lab.daemonOutput(backup).includes("Entering BACKUP STATE"));
        }
        await waitFor("the stand-in to route the IP to edge-1", 10_000, () => lab.routedTo("edge-1"));
        expect(lab.holders()).toEqual(["edge-1"]);
        const attaches = lab.attaches();
        expect(attachedNodes(attaches)).toEqual(["edge-1"]);
        expect(attaches[0].instanceId).toBe(lab.node("edge-1").instanceId);
    });

    it("b. killing the master's keepalived moves the IP to the advskew 50 node, once, for good", async () => {
        const before = lab.attaches().length;
        const pid = lab.pid("edge-1")!;
        expect(pid).toBeGreaterThan(1);
        const startedAt = Date.now();
        const gone = lab.kill("edge-1", "SIGTERM");
        const took = await expectMoveTo("edge-2", before, startedAt);
        await gone;
        expect(lab.pid("edge-1")).toBeUndefined();
        expect(lab.attaches()[before].instanceId).toBe(lab.node("edge-2").instanceId);
        console.log(`edge-2 took over ${took} ms after keepalived ${pid} of edge-1 was killed`);
        await expectNoFlap("edge-2", before + 1);
    });

    it("c. the master's public link going down moves the IP to the next node, once, for good", async () => {
        const before = lab.attaches().length;
        const startedAt = Date.now();
        lab.link("edge-2", "eth0", false);
        const took = await expectMoveTo("edge-3", before, startedAt);
        await waitFor("edge-2 to enter FAULT", 5_000, () => lab.daemonOutput("edge-2").includes("Entering FAULT STATE"));
        console.log(`edge-3 took over ${took} ms after edge-2's eth0 went down`);
        await expectNoFlap("edge-3", before + 1);
    });

    it("d. the preferred node coming back takes the IP back, once, for good", async () => {
        const before = lab.attaches().length;
        const startedAt = Date.now();
        await lab.start("edge-1");
        const took = await expectMoveTo("edge-1", before, startedAt, RETURN_BOUND_MS);
        console.log(`edge-1 took the IP back ${took} ms after its keepalived was restarted`);
        // edge-2's link back up: it leaves FAULT for BACKUP under edge-1 and claims nothing.
        const faultLog = lab.daemonOutput("edge-2").length;
        lab.link("edge-2", "eth0", true);
        await expectNoFlap("edge-1", before + 1);
        expect(lab.daemonOutput("edge-2").slice(faultLog)).toContain("Entering BACKUP STATE");
        expect(lab.holders()).toEqual(["edge-1"]);
    });

    it("the stand-in saw no schema or authentication violation", () => {
        expect(lab.violations()).toEqual([]);
        const unrouted = lab.apiLog().filter((l) => l.type === "request" && l.route === null);
        expect(unrouted).toEqual([]);
        expect(attachedNodes(lab.attaches())).toEqual(["edge-1", "edge-2", "edge-3", "edge-1"]);
    });
});
