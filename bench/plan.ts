// How the offline plan scales: whole-process wall time and peak memory of the plan for the
// example stack and for generated stacks of 10, 100 and 500 endpoints (5 CNAMEs each), against
// a peer program that declares the same resources without the components. Prints a table; it is
// not a test. Usage: npm run bench:plan [-- <runs per size, default 3>]
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";

const root = path.resolve(__dirname, "..");
const runs = Number(process.argv[2] ?? 3);
const work = fs.mkdtempSync(path.join(os.tmpdir(), "ovhf-bench-plan-"));

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
                ovh1: { serviceName: "ns1.ip-198-51-100.eu", mainIp: "198.51.100.250", proxmox: { host: "198.51.100.250" } },
                ovh2: { serviceName: "ns2.ip-203-0-113.eu", mainIp: "203.0.113.250", proxmox: { host: "203.0.113.250" } },
            },
            "ovh-failover:endpoints": endpoints,
        },
    });
}

interface Sample { wall: number; peakMiB: number; resources: number }

function measure(args: string[]): Sample {
    const r = spawnSync("/usr/bin/time", ["-f", "%e %M", process.execPath, "--import", "tsx", path.join(root, "bin/plan.ts"), ...args, "--json"], {
        cwd: root, encoding: "utf8", maxBuffer: 1024 * 1024 * 1024,
    });
    if (r.status !== 0) throw new Error(`plan ${args.join(" ")} failed: ${r.stderr}`);
    const [wall, kb] = r.stderr.trim().split("\n").pop()!.split(" ").map(Number);
    const doc = JSON.parse(r.stdout) as { steps: { type: string }[] };
    return { wall, peakMiB: kb / 1024, resources: doc.steps.filter((s) => !s.type.startsWith("ovh-failover:")).length };
}

function median(xs: Sample[]): Sample {
    const s = [...xs].sort((a, b) => a.wall - b.wall);
    return s[Math.floor(s.length / 2)];
}

try {
    const cases: [string, string[]][] = [["example (reverse-proxy)", ["reverse-proxy"]]];
    for (const n of [10, 100, 500]) {
        const file = path.join(work, `Pulumi.gen-${n}.yaml`);
        fs.writeFileSync(file, generateStack(n));
        cases.push([`${n} endpoints`, [`gen-${n}`, "--stack-file", file]]);
    }
    const peer = path.join(root, "bench/peerProgram.ts");
    console.log(`offline plan, whole process, median of ${runs} runs (wall s, peak MiB of the largest process)`);
    console.log("| stack | custom resources | plan s | plan MiB | peer s | peer MiB | ratio |");
    console.log("| --- | --- | --- | --- | --- | --- | --- |");
    for (const [label, args] of cases) {
        const ours = median(Array.from({ length: runs }, () => measure(args)));
        const theirs = median(Array.from({ length: runs }, () => measure([...args, "--program", peer])));
        console.log(`| ${label} | ${ours.resources} | ${ours.wall.toFixed(2)} | ${ours.peakMiB.toFixed(0)} | ${theirs.wall.toFixed(2)} | ${theirs.peakMiB.toFixed(0)} | ${(ours.wall / theirs.wall).toFixed(2)} |`);
    }
} finally {
    fs.rmSync(work, { recursive: true, force: true });
}
