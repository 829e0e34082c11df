// `ovh-failover change-ip` through the real CLI (the Automation API), on the parts that need no
// provider plugin: a program that reads the stack's config as the project's does and declares, per
// endpoint, a dynamic resource that stands for its records (address and TTL), and for an endpoint
// the stack file lowers (lowerTtl), the TtlLowering ServiceRecords declares after them, with the
// same output (endpoints.<e>.ttlLowering). The command is stopped while it waits, then run again:
// it resumes from the time the state holds, changes the IP and restores the TTL.
import { spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as YAML from "yaml";
import { engineWorkspace, EngineWorkspace, REPO, runCaptured, tsProjectFile } from "../support/engine";

const NEW_IP = "203.0.113.77";

function program(): string {
    const lib = (f: string) => JSON.stringify(path.join(REPO, "components", f));
    return `import * as pulumi from "@pulumi/pulumi";
import { parseStackConfig } from ${lib("config/stackConfig")};
import { TtlLowering } from ${lib("dns/ttlLowering")};

const config = new pulumi.Config();
const spec = parseStackConfig({ dnsTtl: config.getNumber("dnsTtl"), servers: config.requireObject("servers"), endpoints: config.requireObject("endpoints") });
// What stands for the endpoint's records here: their address and TTL, kept as given.
const kept: pulumi.dynamic.ResourceProvider = {
    async create(inputs: Record<string, unknown>) { return { id: "records", outs: inputs }; },
    async update(_id: string, _olds: Record<string, unknown>, news: Record<string, unknown>) { return { outs: news }; },
};
export const endpoints = Object.fromEntries(spec.endpoints.map((e) => {
    const records = new pulumi.dynamic.Resource(kept, e.name + "-dns", { ip: e.ip, ttl: e.lowerTtl ?? e.ttl });
    if (e.lowerTtl === undefined) return [e.name, { ip: e.ip }];
    const l = new TtlLowering(e.name + "-dns-ttl-lowering", { records: ["proxy1.example.org. A"], fromTtl: e.ttl, toTtl: e.lowerTtl }, { dependsOn: [records] });
    return [e.name, { ip: e.ip, ttlLowering: { loweredAt: l.loweredAt, safeAt: l.safeAt, fromTtl: l.fromTtl, toTtl: l.toTtl } }];
}));
`;
}

const PROJECT = tsProjectFile("ovh-failover");

/** The example stack's servers and endpoints, its records at TTL 61 s: the lowering to 60 s is waited out in a minute. */
function stackFile(): string {
    const doc = YAML.parse(fs.readFileSync(path.join(REPO, "stacks", "Pulumi.reverse-proxy.yaml"), "utf8")) as { config: Record<string, unknown> };
    const keep = ["ovh-failover:servers", "ovh-failover:endpoints"];
    return YAML.stringify({ config: { ...Object.fromEntries(keep.map((k) => [k, doc.config[k]])), "ovh-failover:dnsTtl": 61 } });
}

let ws: EngineWorkspace;
let env: Record<string, string>;

beforeAll(async () => {
    ws = await engineWorkspace();
    // The command finds `pulumi` on the PATH, as a user's shell does: the CLI inside the engine's network.
    env = { ...process.env as Record<string, string>, ...ws.env, PATH: `${path.dirname(ws.pulumiPath)}:${ws.env.PATH}` };
});
afterAll(async () => {
    await ws?.close();
});

const CLI = [path.join(REPO, "bin", "ovh-failover.ts")];

function changeIp(dir: string, ...args: string[]) {
    return runCaptured(process.execPath, ["--import", "tsx", ...CLI, "change-ip", "dev", "--set", `endpoints.proxy.ip=${NEW_IP}`, ...args], { cwd: dir, env });
}

/** The command run until it says it waits, then stopped as Ctrl-C stops it. */
function changeIpStoppedWhileWaiting(dir: string): Promise<string> {
    return new Promise((resolve, reject) => {
        const child = spawn(process.execPath, ["--import", "tsx", ...CLI, "change-ip", "dev", "--set", `endpoints.proxy.ip=${NEW_IP}`], { cwd: dir, env, stdio: ["ignore", "pipe", "pipe"] });
        let out = "";
        child.stdout.on("data", (d: Buffer) => {
            out += d.toString();
            if (out.includes("== wait until")) child.kill("SIGINT");
        });
        child.stderr.on("data", (d: Buffer) => (out += d.toString()));
        child.on("error", reject);
        child.on("close", () => resolve(out));
    });
}

describe("ovh-failover change-ip through the real CLI", () => {
    it("prints the schedule, lowers, is stopped while it waits, resumes from the state's time, changes, restores", async () => {
        const dir = ws.project({ "Pulumi.yaml": PROJECT, "index.ts": program(), "Pulumi.dev.yaml": stackFile() });
        const stack = await ws.stack(dir, "dev");
        await stack.up();

        // A TTL edited and not applied: the wait would count the wrong one, so nothing starts.
        const stackFilePath = path.join(dir, "Pulumi.dev.yaml");
        const applied = fs.readFileSync(stackFilePath, "utf8");
        const edited = YAML.parse(applied) as { config: Record<string, unknown> };
        edited.config["ovh-failover:dnsTtl"] = 62;
        fs.writeFileSync(stackFilePath, YAML.stringify(edited));
        const pending = await changeIp(dir);
        expect(pending.code, `${pending.stdout}\n${pending.stderr}`).toBe(1);
        expect(pending.stderr).toContain("the stack has changes not applied yet (pulumi preview --expect-no-changes failed): run pulumi up first");
        expect(pending.stderr).toContain("proxy-dns");
        expect((await stack.history()).length).toBe(1);
        fs.writeFileSync(stackFilePath, applied);

        const dry = await changeIp(dir, "--dry-run");
        expect(dry.code, dry.stderr).toBe(0);
        expect(dry.stdout).toContain("proxy: example.net. A, proxy1.example.org. A (TTL 61 s)");
        expect(dry.stdout).toMatch(/1\. lower: set endpoints\.proxy\.lowerTtl=60, pulumi up\n {2}2\. wait until .*\n {2}3\. change: set endpoints\.proxy\.ip=203\.0\.113\.77, pulumi up .*\n {2}4\. restore: remove endpoints\.proxy\.lowerTtl, pulumi up\n/);
        // A dry run changes nothing: no update, the stack file as it was.
        expect((await stack.history()).length).toBe(1);
        expect(fs.readFileSync(path.join(dir, "Pulumi.dev.yaml"), "utf8")).not.toContain("lowerTtl");

        const stopped = await changeIpStoppedWhileWaiting(dir);
        expect(stopped).toContain("== lower the TTL of proxy: pulumi up");
        expect(stopped).toContain("== wait until");
        const lowered = (await stack.outputs()).endpoints.value as Record<string, { ip: string; ttlLowering?: { loweredAt: string; safeAt: string; fromTtl: number; toTtl: number } }>;
        expect(lowered.proxy.ip).toBe("192.0.2.10");
        const lowering = lowered.proxy.ttlLowering!;
        expect(lowering).toMatchObject({ fromTtl: 61, toTtl: 60 });
        expect(Date.parse(lowering.safeAt) - Date.parse(lowering.loweredAt)).toBe(61_000);

        // Run again: no second lowering, the wait from the state's time, then the change and the restore.
        const resumed = await changeIp(dir);
        expect(resumed.code, resumed.stderr).toBe(0);
        expect(resumed.stdout).not.toContain("== lower");
        expect(resumed.stdout).toContain(`== wait until ${lowering.safeAt}`);
        const changedAt = resumed.stdout.indexOf("== change:");
        expect(changedAt).toBeGreaterThan(resumed.stdout.indexOf("== wait until"));
        expect(resumed.stdout.indexOf("== restore the TTL of proxy")).toBeGreaterThan(changedAt);
        const history = await stack.history();
        // up, lower, change, restore (newest first); the change after the safe time.
        expect(history.length).toBe(4);
        // The history's times are whole seconds.
        expect(new Date(history[1].startTime).getTime()).toBeGreaterThanOrEqual(Math.floor(Date.parse(lowering.safeAt) / 1000) * 1000);
        const after = (await stack.outputs()).endpoints.value as Record<string, { ip: string; ttlLowering?: unknown }>;
        expect(after.proxy).toEqual({ ip: NEW_IP });
        const file = YAML.parse(fs.readFileSync(path.join(dir, "Pulumi.dev.yaml"), "utf8")) as { config: Record<string, { proxy: Record<string, unknown> }> };
        expect(file.config["ovh-failover:endpoints"].proxy.ip).toBe(NEW_IP);
        expect(file.config["ovh-failover:endpoints"].proxy.lowerTtl).toBeUndefined();

        // Done: run again, nothing is left.
        const again = await changeIp(dir);
        expect(again.code, again.stderr).toBe(0);
        expect(again.stdout).toContain("nothing to schedule");
        expect((await stack.history()).length).toBe(4);
        expect(ws.guard.attempts).toEqual([]);
    });
});
