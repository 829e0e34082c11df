// What the host-side tools (check-gateways, drift) share: the stack's parsed config, and a script
// run on a Proxmox host over the system's ssh client (agent, ~/.ssh/config, known_hosts), which
// OVH_FAILOVER_SSH replaces (tests, or another client).
import { spawn } from "child_process";
import { parseStackConfig, RawConfig, StackSpec } from "../components/config/stackConfig";
import { loadProject, loadStackConfig } from "./plan/stackFiles";

export function sshCommand(host: string, port: number, user: string): string[] {
    const custom = process.env.OVH_FAILOVER_SSH;
    if (custom) return [...custom.split(" ").filter(Boolean), `${user}@${host}`, "sh -s"];
    return ["ssh", "-o", "BatchMode=yes", "-o", "ConnectTimeout=10", "-p", String(port), `${user}@${host}`, "sh -s"];
}

/** Runs a command with this standard input; resolves to its exit code and its stdout and stderr together. */
export function runOnHost(argv: string[], input: string): Promise<{ code: number; out: string }> {
    return new Promise((resolve) => {
        const child = spawn(argv[0], argv.slice(1), { stdio: ["pipe", "pipe", "pipe"] });
        let out = "";
        child.stdout.on("data", (d: Buffer) => (out += d.toString()));
        child.stderr.on("data", (d: Buffer) => (out += d.toString()));
        child.on("error", (err) => resolve({ code: 255, out: `${argv[0]}: ${err.message}` }));
        child.on("close", (code) => resolve({ code: code ?? 255, out }));
        // A client that exits at once (no route, refused key) closes its stdin under us.
        child.stdin.on("error", () => undefined);
        child.stdin.end(input);
    });
}

/** The stack's configuration, parsed and checked as the program does. */
export function stackSpec(dir: string, stack: string): StackSpec {
    const project = loadProject(dir);
    const prefix = `${project.name}:`;
    const raw: RawConfig = {};
    for (const [key, value] of loadStackConfig(dir, project, stack)) {
        if (!key.startsWith(prefix)) continue;
        try {
            raw[key.slice(prefix.length)] = JSON.parse(value.text);
        } catch {
            raw[key.slice(prefix.length)] = value.text;
        }
    }
    return parseStackConfig(raw);
}
