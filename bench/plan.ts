// How the offline plan starts and scales: whole-process wall time and peak memory of the compiled
// command line's plan (npx ovh-failover plan … --json) for the example stack and for generated
// stacks of 10, 100 and 500 endpoints (5 CNAMEs each), against a peer program that declares the
// same resources without the components, and against the load floor: Node.js loading the Pulumi
// SDK and the three providers and nothing else. It also times the README's main command as a user
// types it (the launcher, or whatever the README gives), beside the floor. Prints a table; it is
// not a test.
// Usage: npm run bench:plan [-- <runs per size, default 3>]
import { spawnSync } from "child_process";
import { buildSync } from "esbuild";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";

const root = path.resolve(__dirname, "..");

const cli = path.join(root, "dist", "bin", "ovh-failover.js");
const FLOOR = "require('@pulumi/pulumi'); require('@pulumi/command'); require('@ovhcloud/pulumi-ovh'); require('@muhlba91/pulumi-proxmoxve')";

/** N endpoints on two servers, each with an A record and 5 CNAMEs, on documentation addresses. */
export function generateStack(n: number): string {
    const ranges = ["192.0.2", "198.51.100", "203.0.113"];
    const endpoints: Record<string, unknown> = {};
    for (let i = 0; i < n; i++) {
        const name = `svc${i}`;
        endpoints[name] = {
            server: i % 2 === 0 ? "ovh1" : "ovh2",
            ip: `${ranges[Math.floor(i / 250)]}.${(i % 250) + 1}`,
            container: { vmid: 1000 + i, nic: 1, interfaceName: "eth1", bridge: "vmbr0" },
            records: { "example.org": { a: [name], cname: ["a", "b", "c", "d", "e"].map((x) => `${x}-${name}`) } },
        };
    }
    return YAML.stringify({
        config: {
            "ovh-failover:servers": {
                // Main IPs in the range 500 endpoints do not reach (an endpoint on a main IP is refused).
                ovh1: { serviceName: "ns1.ip-203-0-113.eu", mainIp: "203.0.113.251", proxmox: { host: "203.0.113.251" } },
                ovh2: { serviceName: "ns2.ip-203-0-113.eu", mainIp: "203.0.113.252", proxmox: { host: "203.0.113.252" } },
            },
            "ovh-failover:endpoints": endpoints,
        },
    });
}

/** The first command of the README's first block marked offline: the main job, as the README gives it. */
export function readmePlanCommand(readme: string): string {
    const block = /<!-- offline -->\n```sh\n([^\n]+)/.exec(readme);
    if (!block) throw new Error("README.md has no <!-- offline --> ```sh block");
    return block[1].replace(/\s+#.*$/, "").trim();
}

interface Sample { wall: number; peakMiB: number; resources: number }

/** Wall seconds and peak resident MiB of one process, by /usr/bin/time. */
function timed(argv: string[]): { wall: number; peakMiB: number; stdout: string } {
    const r = spawnSync("/usr/bin/time", ["-f", "%e %M", ...argv], { cwd: root, encoding: "utf8", maxBuffer: 1024 * 1024 * 1024 });
    if (r.status !== 0) throw new Error(`${argv.slice(1).join(" ")} failed: ${r.stderr}`);
    const [wall, kb] = r.stderr.trim().split("\n").pop()!.split(" ").map(Number);
    return { wall, peakMiB: kb / 1024, stdout: r.stdout };
}

function measure(args: string[]): Sample {
    const r = timed([process.execPath, cli, "plan", ...args, "--json"]);
    const doc = JSON.parse(r.stdout) as { steps: { newState?: { custom?: boolean } }[] };
    return { wall: r.wall, peakMiB: r.peakMiB, resources: doc.steps.filter((s) => s.newState?.custom === true).length };
}

function median(xs: Sample[]): Sample {
    const s = [...xs].sort((a, b) => a.wall - b.wall);
    return s[Math.floor(s.length / 2)];
}

if (require.main === module) {
    const runs = Number(process.argv[2] ?? 3);
    const work = fs.mkdtempSync(path.join(os.tmpdir(), "ovhf-bench-plan-"));
    try {
        if (!fs.existsSync(cli)) throw new Error(`${path.relative(root, cli)} is missing: run npm run build`);
        // The peer runs compiled too, beside the library it borrows from (dist/components).
        const peer = path.join(root, "dist", "bench", "peerProgram.js");
        buildSync({ entryPoints: [path.join(root, "bench", "peerProgram.ts")], outfile: peer, format: "cjs", platform: "node", target: "node20", logLevel: "warning" });
        const floor = median(Array.from({ length: runs }, () => ({ ...timed([process.execPath, "-e", FLOOR]), resources: 0 })));
        const readme = readmePlanCommand(fs.readFileSync(path.join(root, "README.md"), "utf8"));
        const asReadmeSays = median(Array.from({ length: runs }, () => ({ ...timed(["sh", "-c", readme]), resources: 0 })));
        const cases: [string, string[]][] = [["example (reverse-proxy)", ["reverse-proxy"]]];
        for (const n of [10, 100, 500]) {
            const file = path.join(work, `Pulumi.gen-${n}.yaml`);
            fs.writeFileSync(file, generateStack(n));
            cases.push([`${n} endpoints`, [`gen-${n}`, "--stack-file", file]]);
        }
        console.log(`offline plan (compiled, ovh-failover plan <stack> --json), whole process, median of ${runs} runs (wall s, peak MiB of the largest process)`);
        console.log(`load floor (node loading @pulumi/pulumi, @pulumi/command, @ovhcloud/pulumi-ovh, @muhlba91/pulumi-proxmoxve): ${floor.wall.toFixed(2)} s, ${floor.peakMiB.toFixed(0)} MiB`);
        console.log(`the README's main command (${readme}), as a user types it: ${asReadmeSays.wall.toFixed(2)} s, ${(asReadmeSays.wall / floor.wall).toFixed(2)} × the load floor`);
        console.log("| stack | custom resources | plan s | plan MiB | peer s | peer MiB | plan / peer | plan / floor |");
        console.log("| --- | --- | --- | --- | --- | --- | --- | --- |");
        for (const [label, args] of cases) {
            const ours = median(Array.from({ length: runs }, () => measure(args)));
            const theirs = median(Array.from({ length: runs }, () => measure([...args, "--program", peer])));
            console.log(`| ${label} | ${ours.resources} | ${ours.wall.toFixed(2)} | ${ours.peakMiB.toFixed(0)} | ${theirs.wall.toFixed(2)} | ${theirs.peakMiB.toFixed(0)} | ${(ours.wall / theirs.wall).toFixed(2)} | ${(ours.wall / floor.wall).toFixed(2)} |`);
        }
    } finally {
        fs.rmSync(work, { recursive: true, force: true });
    }
}
