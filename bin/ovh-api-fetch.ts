// Downloads the OVH API v1 descriptions the tests check every request against (the HTTPS stand-in
// for the OVH API, test/support/ovhStandIn.ts), from OVH's own API. Usage:
//
//   npm run ovh-api:fetch [-- --dir <folder>] [-- --endpoint https://ca.api.ovh.com/1.0]
//
// It writes one file per API, named as the tests read them (dedicated/server -> dedicated-server.json),
// into ovh-api/ in the repository (git-ignored), or the folder OVH_API_SCHEMA_DIR or --dir names. It
// never writes beside the repository: a ../shared there may be a folder of the user's own. Only
// this command needs the network; the tests read the files.
import * as fs from "fs";
import * as path from "path";
import { parseCommandLine, UsageError } from "./cli";

/** The APIs whose descriptions the tests read, as OVH names them in the URL. */
export const OVH_API_SCHEMAS = ["auth", "cloud", "dedicated/server", "domain", "ip", "vrack"] as const;

/**
 * Those the tests can do without: ../shared/ovh-api (the 2024-07-23 snapshot) has no vrack.json,
 * and the OVH stand-in then checks the /vrack routes against its own description of them, taken
 * from the ovh provider's types (test/support/ovhStandIn.ts, VRACK_FALLBACK).
 */
export const OPTIONAL_OVH_API_SCHEMAS: readonly string[] = ["vrack"];

/** OVH Europe's API v1 root, where the descriptions are published as <api>.json. */
export const DEFAULT_API_ROOT = "https://eu.api.ovh.com/1.0";

/** The command that fetches them, for messages. */
export const FETCH_COMMAND = "npm run ovh-api:fetch";

/** The file an API's description is kept in: dedicated/server -> dedicated-server.json. */
export function schemaFileName(api: string): string {
    return `${api.replace(/\//g, "-")}.json`;
}

/** Where OVH publishes an API's description: <root>/dedicated/server.json. */
export function schemaUrl(api: string, root: string = DEFAULT_API_ROOT): string {
    return `${root.replace(/\/+$/, "")}/${api}.json`;
}

/**
 * The folders the tests look in, in order: OVH_API_SCHEMA_DIR when set, else ovh-api/ in the
 * repository (where the fetch writes, so a fresh fetch wins), then ../shared/ovh-api beside it.
 */
export function schemaDirCandidates(root: string, env: NodeJS.ProcessEnv = process.env): string[] {
    const dirs = [path.resolve(root, "ovh-api"), path.resolve(root, "..", "shared", "ovh-api")];
    return env.OVH_API_SCHEMA_DIR ? [path.resolve(env.OVH_API_SCHEMA_DIR)] : dirs;
}

function hasSchemas(dir: string): boolean {
    try {
        return fs.readdirSync(dir).some((name) => name.endsWith(".json"));
    } catch {
        return false;
    }
}

/** The first candidate that holds descriptions; an error naming the command that fetches them otherwise. */
export function findSchemaDir(root: string, env: NodeJS.ProcessEnv = process.env): string {
    const candidates = schemaDirCandidates(root, env);
    const found = candidates.find(hasSchemas);
    if (found) return found;
    throw new Error(
        `the OVH API descriptions the tests check requests against are missing (looked in ${candidates.join(" and ")}): run \`${FETCH_COMMAND}\` once (it downloads them from ${DEFAULT_API_ROOT})`,
    );
}

/** Where the fetch writes: OVH_API_SCHEMA_DIR when set, else ovh-api/ in the repository, never outside it. */
export function fetchTarget(root: string, env: NodeJS.ProcessEnv = process.env): string {
    return env.OVH_API_SCHEMA_DIR ? path.resolve(env.OVH_API_SCHEMA_DIR) : path.resolve(root, "ovh-api");
}

/** One download: which URL goes to which file. */
export interface SchemaDownload {
    api: string;
    url: string;
    file: string;
}

export function downloadPlan(dir: string, root: string = DEFAULT_API_ROOT): SchemaDownload[] {
    return OVH_API_SCHEMAS.map((api) => ({ api, url: schemaUrl(api, root), file: path.join(dir, schemaFileName(api)) }));
}

/** An API description has `apis` (routes and their operations) and `models`. */
export function checkSchema(api: string, text: string): void {
    let parsed: unknown;
    try {
        parsed = JSON.parse(text);
    } catch {
        throw new Error(`${api}: the answer is not JSON`);
    }
    const o = parsed as { apis?: unknown; models?: unknown };
    if (typeof o !== "object" || o === null || !Array.isArray(o.apis) || typeof o.models !== "object" || o.models === null) {
        throw new Error(`${api}: the answer is not an OVH API description (no apis and models)`);
    }
}

type Fetch = (url: string) => Promise<{ ok: boolean; status: number; text(): Promise<string> }>;

/** Downloads every description, checks it, then writes it (each file replaced whole, never half-written). */
export async function fetchSchemas(plan: SchemaDownload[], get: Fetch, log: (line: string) => void = () => undefined): Promise<void> {
    const texts = await Promise.all(
        plan.map(async (d) => {
            const res = await get(d.url);
            if (!res.ok) throw new Error(`GET ${d.url}: HTTP ${res.status}`);
            const text = await res.text();
            checkSchema(d.api, text);
            return text;
        }),
    );
    plan.forEach((d, i) => {
        fs.mkdirSync(path.dirname(d.file), { recursive: true });
        const tmp = `${d.file}.${process.pid}.tmp`;
        fs.writeFileSync(tmp, texts[i]);
        fs.renameSync(tmp, d.file);
        log(`${d.url} -> ${d.file}`);
    });
}

const USAGE = `usage: ${FETCH_COMMAND} [-- --dir <folder>] [-- --endpoint <https://…/1.0>]`;

async function main(): Promise<void> {
    const root = path.resolve(__dirname, "..");
    let dir: string;
    let apiRoot: string;
    try {
        const { values } = parseCommandLine(process.argv.slice(2), { dir: { type: "string" }, endpoint: { type: "string" }, help: { type: "boolean", short: "h" } }, { usage: USAGE });
        if (values.help) {
            process.stdout.write(`${USAGE}\n\nDownloads ${OVH_API_SCHEMAS.map(schemaFileName).join(", ")} from ${DEFAULT_API_ROOT}\ninto ${fetchTarget(root)} (--dir another folder; the tests read it through OVH_API_SCHEMA_DIR).\n`);
            return;
        }
        dir = values.dir ? path.resolve(values.dir) : fetchTarget(root);
        apiRoot = values.endpoint ?? DEFAULT_API_ROOT;
    } catch (err) {
        if (!(err instanceof UsageError)) throw err;
        process.stderr.write(`${err.message}\n`);
        process.exitCode = 2;
        return;
    }
    try {
        await fetchSchemas(downloadPlan(dir, apiRoot), (url) => fetch(url), (line) => process.stdout.write(`${line}\n`));
    } catch (err) {
        process.stderr.write(`error: ${(err as Error).message}\n`);
        process.exitCode = 1;
    }
}

if (require.main === module) void main();
