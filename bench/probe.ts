// Time from starting the gateway probe to its verdict, against a live gateway and a dead one, in
// network namespaces (root). Prints figures; it is not a test. Usage: npm run bench:probe [-- runs]
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { renderProbeScript } from "../components/proxmox/probeScript";
import { canMakeNamespaces, createLab, GATEWAY, NOTHING_THERE, pathWithoutArping } from "../test/support/netns";

const runs = Number(process.argv[2] ?? 10);
if (!canMakeNamespaces()) {
    console.error("bench:probe needs root and iproute2 (network namespaces)");
    process.exit(2);
}
const lab = createLab(`ovhfb${process.pid}`, ["101"]);
const work = fs.mkdtempSync(path.join(os.tmpdir(), "ovhf-bench-"));
try {
    const noArping = pathWithoutArping(path.join(work, "no-arping"));
    const stats = (xs: number[]) => {
        const s = [...xs].sort((a, b) => a - b);
        return `min ${s[0].toFixed(0)} ms  median ${s[Math.floor(s.length / 2)].toFixed(0)} ms  max ${s[s.length - 1].toFixed(0)} ms`;
    };
    console.log(`gateway probe, time to verdict over ${runs} runs (tries 3, bound 5 s)`);
    const modes: [string, Record<string, string>][] = [["arping", {}], ["ping + ip neigh", { PATH: noArping }]];
    for (const [mode, env] of modes) {
        for (const [what, gw, want] of [["live gateway", GATEWAY, 0], ["dead gateway", NOTHING_THERE, 1]] as const) {
            const times: number[] = [];
            for (let i = 0; i < runs; i++) {
                const script = renderProbeScript({ interfaceName: "eth1", address: lab.containers.get("101")!.address, gateways: [gw], tries: 3, timeoutSeconds: 5, label: "bench" });
                const r = lab.exec("101", script, env);
                if (r.code !== want) throw new Error(`${mode} ${what}: exit ${r.code}, expected ${want}: ${r.out}`);
                times.push(r.ms);
            }
            console.log(`  ${mode.padEnd(16)} ${what.padEnd(13)} ${stats(times)}`);
        }
    }
} finally {
    lab.destroy();
    fs.rmSync(work, { recursive: true, force: true });
}
