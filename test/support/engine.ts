// The real Pulumi engine (engine/build.ts) driven by the Automation API's PulumiCommand, as a user
// runs it: the DIY file backend, passphrase secrets, a PULUMI_HOME of its own (no plugin cache),
// and every way the CLI could reach out shut: no update check, no plugin acquisition, and an HTTP(S)
// proxy that records and refuses whatever still tries, so a test can assert that nothing did.
import { LocalWorkspace, PulumiCommand, Stack } from "@pulumi/pulumi/automation";
import * as fs from "fs";
import * as http from "http";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { ensureEngine, Engine } from "../../engine/build";

export const REPO = path.resolve(__dirname, "../..");

/** Requests that reached the outbound proxy: any is a download or a call home the CLI attempted. */
export interface OutboundGuard {
    url: string;
    attempts: string[];
    close(): Promise<void>;
}

export async function startOutboundGuard(): Promise<OutboundGuard> {
    const attempts: string[] = [];
    const server = http.createServer((req, res) => {
        attempts.push(`${req.method} ${req.url}`);
        res.writeHead(403).end("outbound traffic is refused in the engine tests\n");
    });
    server.on("connect", (req, socket: net.Socket) => {
        attempts.push(`CONNECT ${req.url}`);
        socket.end("HTTP/1.1 403 Forbidden\r\n\r\n");
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as net.AddressInfo;
    return {
        url: `http://127.0.0.1:${port}`,
        attempts,
        close: () => new Promise<void>((resolve) => server.close(() => resolve())),
    };
}

/** A step as the engine announces it (a ResourcePreEvent): what `pulumi preview --json` lists. */
export interface EngineStep {
    op: string;
    urn: string;
    type: string;
    inputs: Record<string, unknown>;
}

export interface EngineWorkspace {
    engine: Engine;
    cli: PulumiCommand;
    /** The environment every command of this workspace runs with. */
    env: Record<string, string>;
    guard: OutboundGuard;
    /** Every file the DIY backend holds (states, their backups and history), read as text. */
    backendFiles(): { file: string; text: string }[];
    /** A new project folder: Pulumi.yaml and files, node_modules borrowed from the repository. */
    project(files: Record<string, string>): string;
    /** `pulumi stack init` in a project folder, through the Automation API. */
    stack(dir: string, name: string): Promise<Stack>;
    close(): Promise<void>;
}

/** `pulumi preview`: the steps the engine announced, and its change summary. */
export async function previewSteps(stack: Stack): Promise<{ steps: EngineStep[]; changeSummary: Record<string, number> }> {
    const steps: EngineStep[] = [];
    let changeSummary: Record<string, number> = {};
    await stack.preview({
        onEvent: (e) => {
            if (e.summaryEvent) changeSummary = { ...e.summaryEvent.resourceChanges };
            const m = e.resourcePreEvent?.metadata;
            // The event log also carries the default providers' steps, which the CLI's display and
            // --json leave out as internal (pkg/engine/update.go isInternalStep).
            const defaultProvider = m?.type.startsWith("pulumi:providers:") && m.urn.split("::").pop()?.startsWith("default");
            if (m && !defaultProvider) steps.push({ op: m.op, urn: m.urn, type: m.type, inputs: (m.new ?? m.old)?.inputs ?? {} });
        },
    });
    return { steps, changeSummary };
}

export async function engineWorkspace(extraEnv: Record<string, string> = {}): Promise<EngineWorkspace> {
    const engine = ensureEngine(() => undefined);
    const cli = await PulumiCommand.get({ root: path.dirname(engine.binDir) });
    const work = fs.mkdtempSync(path.join(os.tmpdir(), "ovh-failover-engine-"));
    for (const d of ["state", "home"]) fs.mkdirSync(path.join(work, d));
    const guard = await startOutboundGuard();
    const env: Record<string, string> = {
        PATH: `${engine.binDir}:${process.env.PATH ?? ""}`,
        PULUMI_HOME: path.join(work, "home"),
        PULUMI_BACKEND_URL: `file://${path.join(work, "state")}`,
        PULUMI_CONFIG_PASSPHRASE: "engine-test-passphrase",
        PULUMI_SKIP_UPDATE_CHECK: "true",
        PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
        HTTP_PROXY: guard.url,
        HTTPS_PROXY: guard.url,
        http_proxy: guard.url,
        https_proxy: guard.url,
        NO_PROXY: "127.0.0.1,localhost",
        no_proxy: "127.0.0.1,localhost",
        ...extraEnv,
    };
    let projects = 0;
    return {
        engine,
        cli,
        env,
        guard,
        backendFiles() {
            const root = path.join(work, "state");
            return fs.readdirSync(root, { recursive: true, encoding: "utf8" })
                .map((f) => path.join(root, f))
                .filter((f) => fs.statSync(f).isFile())
                .map((file) => ({ file, text: fs.readFileSync(file, "utf8") }));
        },
        project(files) {
            const dir = path.join(work, `project-${++projects}`);
            fs.mkdirSync(dir);
            fs.symlinkSync(path.join(REPO, "node_modules"), path.join(dir, "node_modules"));
            for (const [name, text] of Object.entries(files)) {
                fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
                fs.writeFileSync(path.join(dir, name), text);
            }
            return dir;
        },
        stack(dir, name) {
            return LocalWorkspace.createStack({ stackName: name, workDir: dir }, { envVars: env, pulumiCommand: cli });
        },
        async close() {
            await guard.close();
            fs.rmSync(work, { recursive: true, force: true });
        },
    };
}
