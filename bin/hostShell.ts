// What the host-side tools (check-gateways, drift) share: the stack's parsed config, and a script
// run on a Proxmox host over the system's ssh client (agent, ~/.ssh/config, known_hosts), which
// OVH_FAILOVER_SSH replaces (tests, or another client).
import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parseStackConfig, RawConfig, StackSpec } from "../components/config/stackConfig";
import { keyPath } from "../components/shared/validate";
import { applySet, loadFlagStackFile, loadProject, loadStackConfig } from "./plan/stackFiles";

let knownHostsDir: string | undefined;

/** A known_hosts file holding only this host's key, as the stack gives it. */
function knownHostsFor(host: string, port: number, hostKey: string): string {
    if (!knownHostsDir) {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ovh-failover-known-hosts-"));
        knownHostsDir = dir;
        process.on("exit", () => fs.rmSync(dir, { recursive: true, force: true }));
    }
    const file = path.join(knownHostsDir, `${host}-${port}`);
    fs.writeFileSync(file, `${port === 22 ? host : `[${host}]:${port}`} ${hostKey}\n`);
    return file;
}

/**
 * ssh to the host. With the stack's hostKey for it, that key and no other is accepted (as the
 * stack's own connections check it); without, ~/.ssh/known_hosts decides.
 */
export function sshCommand(host: string, port: number, user: string, hostKey?: string): string[] {
    const custom = process.env.OVH_FAILOVER_SSH;
    if (custom) return [...custom.split(" ").filter(Boolean), `${user}@${host}`, "sh -s"];
    const pinned = hostKey ? ["-o", `UserKnownHostsFile=${knownHostsFor(host, port, hostKey)}`, "-o", "StrictHostKeyChecking=yes"] : [];
    return ["ssh", "-o", "BatchMode=yes", "-o", "ConnectTimeout=10", ...pinned, "-p", String(port), `${user}@${host}`, "sh -s"];
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

/** The stack's configuration, parsed and checked as the program does (from another stack file if given). */
export function stackSpec(dir: string, stack: string, stackFile?: string, sets: string[] = []): StackSpec {
    const project = loadProject(dir);
    const prefix = `${project.name}:`;
    const raw: RawConfig = {};
    const config = sets.reduce((c, s) => applySet(project, c, s), stackFile ? loadFlagStackFile(project, stackFile) : loadStackConfig(dir, project, stack));
    for (const [key, value] of config) {
        if (!key.startsWith(prefix)) continue;
        try {
            raw[key.slice(prefix.length)] = JSON.parse(value.text);
        } catch {
            raw[key.slice(prefix.length)] = value.text;
        }
    }
    if (raw.servers === undefined && raw.endpoints === undefined) throw new Error(noEndpoints(stack, raw));
    return parseStackConfig(raw);
}

/** Why a host tool has nothing to do on a stack of edge pairs only: what it covers, and that the stack has none of it. */
export function noEndpoints(stack: string, raw: RawConfig): string {
    const edges = typeof raw.edges === "object" && raw.edges !== null ? Object.keys(raw.edges).map((e) => keyPath("edges", e)) : [];
    const has = edges.length > 0 ? `only edge pairs (${edges.join(", ")})` : "nothing";
    return `stack ${stack} declares ${has}, no servers and no endpoints: this command covers endpoints (each failover IP on a container NIC of a Proxmox host under servers), so there is nothing for it to check${edges.length > 0 ? "; an edge pair's nodes check themselves (ifstated or keepalived)" : ""}`;
}
