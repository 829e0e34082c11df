// The real provider plugins for the test:providers tier: pulumi-resource-command, -ovh and
// -proxmoxve, built by hand outside the repository (docs/testing.md) into the folder
// OVH_FAILOVER_PLUGINS names. Nothing here builds them; this finds them, asks each its version
// over the provider protocol, and installs them into a PULUMI_HOME as `pulumi plugin install` lays
// them out, so that the CLI loads them as a user's would.
import * as grpc from "@grpc/grpc-js";
import { spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import * as readline from "readline";
import { REPO } from "./engine";
import { pinnedCliVersion } from "../../engine/build";

/** Each provider plugin the program needs, with the npm SDK whose version it must report. */
export const PROVIDER_PLUGINS = [
    { name: "command", npm: "@pulumi/command" },
    { name: "ovh", npm: "@ovhcloud/pulumi-ovh" },
    { name: "proxmoxve", npm: "@muhlba91/pulumi-proxmoxve" },
] as const;

export type PluginName = (typeof PROVIDER_PLUGINS)[number]["name"];

/** What a plugin was built from, as the developer who built it wrote it in provenance.json. */
export interface PluginSource {
    /** The wrapper's repository and the commit built, e.g. github.com/ovh/pulumi-ovh. */
    repository: string;
    commit: string;
    tag?: string;
    /** For a bridged provider: the Terraform provider it was built against. */
    upstream?: { repository: string; commit: string; tag?: string };
    /** In prose: how this build differs from the release of the same version, if it does. */
    note?: string;
}

export interface FoundPlugin {
    name: PluginName;
    binary: string;
    /** What GetPluginInfo answered. */
    version: string;
    /** The npm SDK's version in package-lock.json. */
    sdkVersion: string;
    source: PluginSource;
}

export const PLUGINS_ENV = "OVH_FAILOVER_PLUGINS";

/** What the tier needs, said once: the folder, its three binaries and the provenance file. */
export function pluginsNeeded(): string {
    const lines = PROVIDER_PLUGINS.map((p) => `  pulumi-resource-${p.name}  reporting ${p.npm} ${lockedVersion(p.npm)} (package-lock.json)`);
    return [
        `npm run test:providers needs ${PLUGINS_ENV}=<folder> holding the real provider plugins, built by hand`,
        `at the versions of the npm SDKs (docs/testing.md, "The real provider plugins"):`,
        ...lines,
        `  provenance.json     what each was built from: { "<name>": { "repository", "commit", "tag", "upstream"?, "note"? } }`,
    ].join("\n");
}

export function lockedVersion(pkg: string): string {
    const lock = JSON.parse(fs.readFileSync(path.join(REPO, "package-lock.json"), "utf8")) as { packages: Record<string, { version?: string }> };
    const version = lock.packages[`node_modules/${pkg}`]?.version;
    if (!version) throw new Error(`package-lock.json has no ${pkg}`);
    return version;
}

function isSource(value: unknown): value is PluginSource {
    const v = value as Partial<PluginSource> | null;
    const commit = (c: unknown) => typeof c === "string" && /^[0-9a-f]{40}$/.test(c);
    return typeof v === "object" && v !== null && typeof v.repository === "string" && commit(v.commit)
        && (v.upstream === undefined || (typeof v.upstream.repository === "string" && commit(v.upstream.commit)));
}

type ProviderClient = InstanceType<typeof import("@pulumi/pulumi/proto/provider_grpc_pb").ResourceProviderClient>;

/** Starts a plugin, runs `ask` against it over gRPC, and stops it. */
async function askPlugin<T>(binary: string, ask: (client: ProviderClient) => Promise<T>): Promise<T> {
    // A plugin prints the port it serves on as its first line (pulumi/pulumi sdk/go/common/resource/plugin/plugin.go).
    const child = spawn(binary, [], { stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    try {
        const port = await new Promise<number>((resolve, reject) => {
            const lines = readline.createInterface({ input: child.stdout });
            lines.once("line", (line) => (/^\d+$/.test(line.trim()) ? resolve(Number(line.trim())) : reject(new Error(`${binary} printed ${JSON.stringify(line)} where a port was expected`))));
            child.once("exit", (code) => reject(new Error(`${binary} exited ${code} before serving:\n${stderr}`)));
            child.once("error", reject);
        });
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const services = require("@pulumi/pulumi/proto/provider_grpc_pb") as typeof import("@pulumi/pulumi/proto/provider_grpc_pb");
        const client = new services.ResourceProviderClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), { "grpc.max_receive_message_length": 256 * 1024 * 1024 });
        try {
            return await ask(client);
        } finally {
            client.close();
        }
    } finally {
        child.kill("SIGTERM");
    }
}

/** A plugin's own answer to GetPluginInfo. */
export function pluginInfoVersion(binary: string): Promise<string> {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const empty = require("google-protobuf/google/protobuf/empty_pb") as typeof import("google-protobuf/google/protobuf/empty_pb");
    return askPlugin(binary, (client) => new Promise<string>((resolve, reject) => {
        client.getPluginInfo(new empty.Empty(), (err, info) => (err ? reject(err) : resolve(info.getVersion())));
    }));
}

/** A plugin's own schema (GetSchema), parsed. */
export function pluginSchema(binary: string): Promise<unknown> {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const messages = require("@pulumi/pulumi/proto/provider_pb") as typeof import("@pulumi/pulumi/proto/provider_pb");
    return askPlugin(binary, (client) => new Promise<unknown>((resolve, reject) => {
        client.getSchema(new messages.GetSchemaRequest(), (err, r) => (err ? reject(err) : resolve(JSON.parse(r.getSchema()))));
    }));
}

/**
 * The plugins of OVH_FAILOVER_PLUGINS, each asked its version; throws with what is needed when the
 * folder, a binary or its provenance is missing, and when a version is not the npm SDK's.
 */
export async function findPlugins(folder = process.env[PLUGINS_ENV]): Promise<FoundPlugin[]> {
    if (!folder) throw new Error(`${PLUGINS_ENV} is not set.\n${pluginsNeeded()}`);
    const provenanceFile = path.join(folder, "provenance.json");
    if (!fs.existsSync(provenanceFile)) throw new Error(`${provenanceFile} is missing.\n${pluginsNeeded()}`);
    const provenance = JSON.parse(fs.readFileSync(provenanceFile, "utf8")) as Record<string, unknown>;
    const found: FoundPlugin[] = [];
    for (const p of PROVIDER_PLUGINS) {
        const binary = path.join(folder, `pulumi-resource-${p.name}`);
        if (!fs.existsSync(binary)) throw new Error(`${binary} is missing.\n${pluginsNeeded()}`);
        const source = provenance[p.name];
        if (!isSource(source)) throw new Error(`${provenanceFile}: "${p.name}" must give repository and a 40-hex commit (and upstream's, for a bridged provider).\n${pluginsNeeded()}`);
        const sdkVersion = lockedVersion(p.npm);
        const version = (await pluginInfoVersion(binary)).replace(/^v/, "");
        if (version !== sdkVersion) {
            throw new Error(`${binary} reports version ${version} through GetPluginInfo; ${p.npm} is ${sdkVersion} in package-lock.json: an SDK never runs against a plugin of another version`);
        }
        found.push({ name: p.name, binary, version, sdkVersion, source });
    }
    return found;
}

/** Installs the plugins into PULUMI_HOME/plugins as `pulumi plugin install` would (resource-<name>-v<version>/). */
export function installPlugins(pulumiHome: string, plugins: FoundPlugin[]): void {
    for (const p of plugins) {
        // sdk/go/common/workspace/plugins.go: GetPluginsFromDir reads <kind>-<name>-v<version>
        // folders, skipping one beside a .partial file; the binary is pulumi-<kind>-<name>.
        const dir = path.join(pulumiHome, "plugins", `resource-${p.name}-v${p.version}`);
        fs.mkdirSync(dir, { recursive: true });
        fs.symlinkSync(p.binary, path.join(dir, `pulumi-resource-${p.name}`));
    }
}

/** Where a recording's CLI or plugin versions differ from the lock's and engine/go.mod's (none: current). */
export function staleVersions(recorded: { cli: string; plugins: Record<string, { version: string } | undefined> }): string[] {
    const stale: string[] = [];
    for (const p of PROVIDER_PLUGINS) {
        const version = recorded.plugins[p.name]?.version;
        if (version !== lockedVersion(p.npm)) stale.push(`pulumi-resource-${p.name} ${version ?? "(none)"}, ${p.npm} is ${lockedVersion(p.npm)}`);
    }
    if (recorded.cli !== pinnedCliVersion()) stale.push(`pulumi ${recorded.cli}, engine/go.mod pins ${pinnedCliVersion()}`);
    return stale;
}
