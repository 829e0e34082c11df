// A bundled stack run by the real CLI as a user runs it: the project's Pulumi.yaml and build, the
// stack file as written but for its placeholder secrets (set again with `pulumi config set
// --secret`, which encrypts them with this backend's passphrase), and OVH's own endpoint name,
// ovh-eu, which resolves to the HTTPS stand-in inside the workspace's network namespace (its
// hosts file says so: engineWorkspace's `hosts`).
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";
import { keyPath } from "../../components/shared/validate";
import { EngineWorkspace, REPO, runCaptured } from "./engine";

/** OVH's EU API host, as go-ovh and @ovhcloud/node-ovh map the endpoint name ovh-eu. */
export const OVH_EU_HOST = "eu.api.ovh.com";

export interface SecureLeaf {
    /** The key in `pulumi config set --path` syntax. */
    key: string;
    /** The placeholder's plain text (the bundled files write base64 text where a ciphertext goes). */
    plaintext: string;
}

/** Every `secure:` value of a stack file's config, with its key path. */
export function secureLeaves(config: Record<string, unknown>): SecureLeaf[] {
    const found: SecureLeaf[] = [];
    const visit = (value: unknown, key: string) => {
        if (typeof value !== "object" || value === null) return;
        const secure = (value as { secure?: unknown }).secure;
        if (typeof secure === "string" && Object.keys(value).length === 1) {
            const body = secure.split(":").pop() ?? "";
            found.push({ key, plaintext: Buffer.from(body, "base64").toString("utf8") });
            return;
        }
        for (const [k, v] of Object.entries(value)) visit(v, Array.isArray(value) ? keyPath(key, Number(k)) : keyPath(key, k));
    };
    for (const [k, v] of Object.entries(config)) visit(v, k);
    return found;
}

/** The config with every secure leaf taken out (objects left empty go too). */
function withoutSecureLeaves(value: unknown): unknown {
    if (typeof value !== "object" || value === null) return value;
    if (Array.isArray(value)) return value.map(withoutSecureLeaves);
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
        if (typeof v === "object" && v !== null && !Array.isArray(v) && Object.keys(v).length === 1 && typeof (v as { secure?: unknown }).secure === "string") continue;
        const kept = withoutSecureLeaves(v);
        if (typeof kept === "object" && kept !== null && !Array.isArray(kept) && Object.keys(kept).length === 0) continue;
        out[k] = kept;
    }
    return out;
}

export interface CliRun {
    code: number;
    stdout: string;
    stderr: string;
}

export interface RealProject {
    dir: string;
    stack: string;
    /** Runs the real CLI (or another program) in the project, in the workspace's network namespace. */
    run(argv: string[], extraEnv?: Record<string, string>): Promise<CliRun>;
    pulumi(...args: string[]): Promise<CliRun>;
}

/**
 * The repository's project with one bundled stack (or the stack file given), its secrets set
 * again, the stack initialized in the workspace's backend. `direct`: hosts reached in the
 * workspace's network namespace (a stand-in at a stack's address), not through the outbound guard.
 */
export async function realProject(ws: EngineWorkspace, stack: string, stackFile?: string, opts: { direct?: string[] } = {}): Promise<RealProject> {
    const dir = ws.project({ "Pulumi.yaml": fs.readFileSync(path.join(REPO, "Pulumi.yaml"), "utf8") });
    for (const f of ["package.json", "dist"]) fs.symlinkSync(path.join(REPO, f), path.join(dir, f));
    const text = stackFile ?? fs.readFileSync(path.join(REPO, "stacks", `Pulumi.${stack}.yaml`), "utf8");
    const parsed = (YAML.parse(text) ?? {}) as { config?: Record<string, unknown> };
    const leaves = secureLeaves(parsed.config ?? {});
    fs.mkdirSync(path.join(dir, "stacks"));
    fs.writeFileSync(path.join(dir, "stacks", `Pulumi.${stack}.yaml`), YAML.stringify({ ...parsed, config: withoutSecureLeaves(parsed.config ?? {}) }));
    // A backend of the project's own: the same stack name in another world is another stack.
    const backend = `${dir}-state`;
    fs.mkdirSync(backend);
    const run = async (argv: string[], extraEnv: Record<string, string> = {}): Promise<CliRun> => {
        // In the workspace's network namespace, where OVH's API host is the stand-in's address.
        const [command, ...args] = [...ws.network.prefix, ...argv];
        const r = await runCaptured(command, args, {
            cwd: dir,
            env: {
                ...ws.env,
                PULUMI_BACKEND_URL: `file://${backend}`,
                // OVH's API host is the stand-in, on this machine: not through the outbound guard.
                NO_PROXY: [ws.env.NO_PROXY, OVH_EU_HOST, ...(opts.direct ?? [])].join(","),
                no_proxy: [ws.env.no_proxy, OVH_EU_HOST, ...(opts.direct ?? [])].join(","),
                ...extraEnv,
            },
        });
        return { ...r, code: r.code ?? 1 };
    };
    // The global flag first: after a "--" it would be an argument.
    const pulumi = (...args: string[]) => run([path.join(ws.engine.binDir, "pulumi"), "--non-interactive", ...args]);
    const init = await pulumi("stack", "init", stack);
    if (init.code !== 0) throw new Error(`pulumi stack init ${stack}: ${init.stderr}`);
    for (const leaf of leaves) {
        // After "--": a value may begin with "-" (a PEM key does), which the CLI would take for a flag.
        const set = await pulumi("config", "set", "--stack", stack, "--path", "--secret", "--", leaf.key, leaf.plaintext);
        if (set.code !== 0) throw new Error(`pulumi config set --secret ${leaf.key}: ${set.stderr}`);
    }
    return { dir, stack, run, pulumi };
}

/** A scratch folder for a tier's files (certificates, hosts), removed by the caller. */
export function scratch(prefix: string): string {
    return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}
