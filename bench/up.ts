// What an IP change costs in `pulumi up`, besides the TTL: the example stack's IP changed, end to
// end through the real CLI and the real command, ovh and proxmoxve plugins (OVH_FAILOVER_PLUGINS,
// built by hand: docs/testing.md), against the HTTPS OVH stand-in and Proxmox hosts that are real
// sshd (as in the test:providers tier, whose world this is); then an `up` with nothing to do, and
// `pulumi preview` beside `npx ovh-failover plan` on the same stack. Each measure is the median of
// several runs; the IP change is broken down by what reached the world (routing, virtual MAC, NIC,
// probe, DNS) and by the engine's own step timings. Prints tables; it is not a test.
// Usage (root, Linux): OVH_FAILOVER_PLUGINS=<folder> npm run bench:up [-- <runs, default 5>]
import * as fs from "fs";
import * as path from "path";
import { buildJs } from "../scripts/build";
import { REPO } from "../test/support/engine";
import { editStack, operation, Operation, timeline, WorldEvent, withLabKeys } from "../test/support/lifecycle";
import { pluginWorkspace } from "../test/support/pluginWorkspace";
import { startProxmoxHost } from "../test/support/proxmoxHosts";
import { realProject } from "../test/support/realStack";
import { accountBefore, ipv6Of, OVH2 } from "../test/support/worlds";

const runs = Number(process.argv[2] ?? 5);
if (!Number.isInteger(runs) || runs < 1) throw new Error(`runs: ${process.argv[2]} is not a whole number of runs`);

const CONTAINER_101 = ["arch: amd64", "hostname: proxy", "net1: name=eth1,bridge=vmbr0,hwaddr=BC:24:11:5E:00:10,ip=dhcp,type=veth"];

const median = (xs: number[]): number => {
    const s = [...xs].sort((a, b) => a - b);
    return s.length % 2 === 1 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const now = () => performance.timeOrigin + performance.now();

/** From the first to the last event of a kind, in ms, or undefined when none reached the world. */
function stretch(world: WorldEvent[], match: RegExp): number | undefined {
    const hits = world.filter((e) => match.test(e.what));
    return hits.length === 0 ? undefined : hits[hits.length - 1].at - hits[0].at;
}

const KINDS: [string, RegExp][] = [
    ["routing (move and its task)", /^(POST \/ip\/\{ip\}\/move|GET \/ip\/\{ip\}\/task)/],
    ["virtual MAC (create and its task)", /^(POST \/dedicated\/server\/\{serviceName\}\/virtualMac$|GET \/dedicated\/server\/\{serviceName\}\/task)/],
    ["NIC (pct set)", /^pct set /],
    ["probe (pct exec)", /^pct (status|exec|config) .*/],
    ["DNS (records and refresh)", /^(POST|PUT) \/domain\/zone\//],
];

/** Each step's seconds between its start and its end, from the engine's events (second resolution). */
function stepSeconds(op: Operation): Map<string, number> {
    const started = new Map<string, number>();
    const took = new Map<string, number>();
    for (const e of op.events) {
        const timestamp = e.timestamp as number;
        const pre = e.resourcePreEvent as { metadata: { urn: string; op: string }; planning?: boolean } | undefined;
        const out = e.resOutputsEvent as { metadata: { urn: string; op: string }; planning?: boolean } | undefined;
        if (pre && !pre.planning && pre.metadata.op !== "same" && pre.metadata.op !== "refresh") started.set(`${pre.metadata.op} ${pre.metadata.urn}`, timestamp);
        if (out && !out.planning) {
            const key = `${out.metadata.op} ${out.metadata.urn}`;
            const start = started.get(key);
            if (start !== undefined) took.set(`${out.metadata.op} ${out.metadata.urn.split("::").pop()}`, timestamp - start);
        }
    }
    return took;
}

async function main(): Promise<void> {
    buildJs(REPO);
    const pw = await pluginWorkspace();
    const standIn = await pw.startStandIn();
    const ns = pw.ws.network.ns;
    const ovh1 = await startProxmoxHost(ns, { address: "198.51.100.20", gateway: "198.51.100.254", gateway6: ipv6Of("2001:db8:1:4662::/64").gateway, prefix6: "2001:db8:1:4662::/64", interfaceName: "eth1", containers: { 101: CONTAINER_101 } });
    const ovh2 = await startProxmoxHost(ns, { address: "203.0.113.20", gateway: "203.0.113.254", gateway6: ipv6Of("2001:db8:3:1a00::/64").gateway, prefix6: "2001:db8:3:1a00::/64", interfaceName: "eth1", containers: { 101: CONTAINER_101 }, authorizedKeys: [ovh1.ssh.clientPublicKey] });
    const hosts = { ovh1, ovh2 };
    try {
        accountBefore("reverse-proxy", standIn);
        // Each change goes to an IP of its own, rented and routed to the other server: each moves it.
        const pool = Array.from({ length: runs }, (_, i) => `192.0.2.${11 + i}`);
        for (const ip of pool) standIn.addIp(ip, { routedTo: OVH2 });
        const project = await realProject(pw.ws, "reverse-proxy", withLabKeys(fs.readFileSync(path.join(REPO, "stacks", "Pulumi.reverse-proxy.yaml"), "utf8"), hosts));
        const must = (op: Operation, what: string) => {
            if (op.code !== 0) throw new Error(`${what} failed:\n${op.diagnostics.join("\n")}\n${op.stderr}`);
            return op;
        };
        console.error("first up (not measured)…");
        must(await operation(project, "up"), "the first up");

        const change: number[] = [];
        const kinds = new Map<string, number[]>(KINDS.map(([k]) => [k, []]));
        const steps = new Map<string, number[]>();
        for (const [i, ip] of pool.entries()) {
            editStack(project, (doc) => doc.setIn(["config", "ovh-failover:endpoints", "proxy", "ip"], ip));
            const t0 = now();
            const op = must(await operation(project, "up"), `IP change ${i + 1}`);
            change.push(now() - t0);
            const world = timeline(standIn.requests, hosts, t0);
            for (const [k, match] of KINDS) {
                const ms = stretch(world, match);
                if (ms !== undefined) kinds.get(k)!.push(ms);
            }
            for (const [step, s] of stepSeconds(op)) steps.set(step, [...(steps.get(step) ?? []), s]);
            console.error(`IP change ${i + 1}/${runs}: ${((now() - t0) / 1000).toFixed(1)} s`);
        }

        const timed = async (what: string, f: () => Promise<void>): Promise<number[]> => {
            const out: number[] = [];
            for (let i = 0; i < runs; i++) {
                const t0 = now();
                await f();
                out.push(now() - t0);
                console.error(`${what} ${i + 1}/${runs}: ${((now() - t0) / 1000).toFixed(1)} s`);
            }
            return out;
        };
        const noop = await timed("no-op up", async () => {
            const op = must(await operation(project, "up"), "a no-op up");
            if (op.steps.some((s) => s.op !== "same" && s.op !== "refresh")) throw new Error("the no-op up changed something");
        });
        const preview = await timed("pulumi preview", async () => {
            const r = await project.pulumi("preview", "--json", "--stack", project.stack);
            if (r.code !== 0) throw new Error(`pulumi preview failed:\n${r.stderr}`);
        });
        const plan = await timed("ovh-failover plan", async () => {
            const r = await project.run([process.execPath, path.join(REPO, "dist", "bin", "ovh-failover.js"), "plan", "reverse-proxy", "--json"]);
            if (r.code !== 0) throw new Error(`ovh-failover plan failed:\n${r.stderr}`);
        });

        const planMedian = median(plan);
        const s = (ms: number) => (ms / 1000).toFixed(2);
        console.log(`\n\`pulumi up\` of the example stack (reverse-proxy), real CLI ${pw.ws.engine.cliVersion} and plugins ${pw.plugins.map((p) => `${p.name} ${p.version}`).join(", ")}; median of ${runs} runs\n`);
        console.log("| measure | median (s) | min (s) | max (s) | × plan |");
        console.log("| --- | ---: | ---: | ---: | ---: |");
        for (const [what, xs] of [["IP change: `pulumi up`", change], ["no change: `pulumi up`", noop], ["`pulumi preview`", preview], ["`npx ovh-failover plan`", plan]] as const) {
            console.log(`| ${what} | ${s(median(xs))} | ${s(Math.min(...xs))} | ${s(Math.max(...xs))} | ${(median(xs) / planMedian).toFixed(1)} |`);
        }
        console.log("\nThe IP change, by what reached the world (first to last request or pct call of each kind):\n");
        console.log("| part | median (s) |");
        console.log("| --- | ---: |");
        for (const [k, xs] of kinds) console.log(`| ${k} | ${xs.length ? s(median(xs)) : "–"} |`);
        console.log("\nThe IP change, by the engine's steps (its events are stamped to the second):\n");
        console.log("| step | median (s) |");
        console.log("| --- | ---: |");
        for (const [step, xs] of [...steps].sort((a, b) => median(b[1]) - median(a[1]))) console.log(`| ${step} | ${median(xs)} |`);
    } finally {
        ovh1.stop();
        ovh2.stop();
        await standIn.close();
        await pw.close();
    }
}

main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
});
