// Derives test/support/pve-api/routes.json, the part of Proxmox VE's own API description that the
// Proxmox stand-in (test/support/proxmoxStandIn.ts) checks requests against: the routes the
// proxmoxve plugin (bpg/terraform-provider-proxmox) calls for an LXC container, with their
// parameters and return schemas, unchanged but for their prose (descriptions, type texts). Usage:
//
//   npm run pve-api:derive -- --from <apidata.js> --version <pve-docs version> --source <where it came from>
//   npm run pve-api:derive -- --version 9.1.3     (downloads https://pve.proxmox.com/pve-docs/api-viewer/apidata.js)
//
// apidata.js is what pve-docs' extractapi.pl writes from the running API's JSON schemas
// (pve-docs api-viewer/apidata.js: `const apiSchema = [ {path, text, info: {METHOD: {...}}, children} ];`).
// The checked-in file names its source and version; the tests read only that file.
import * as fs from "fs";
import * as path from "path";

export const APIDATA_URL = "https://pve.proxmox.com/pve-docs/api-viewer/apidata.js";
export const ROUTES_FILE = path.resolve(__dirname, "..", "test", "support", "pve-api", "routes.json");

/** The routes the plugin's container code path can reach (proxmox/nodes/containers, tasks, version, cluster, storage). */
export const PVE_ROUTES: ReadonlyArray<readonly [string, string]> = [
    ["GET", "/version"],
    ["GET", "/nodes"],
    ["GET", "/nodes/{node}/status"],
    ["GET", "/nodes/{node}/lxc"],
    ["POST", "/nodes/{node}/lxc"],
    ["GET", "/nodes/{node}/lxc/{vmid}"],
    ["DELETE", "/nodes/{node}/lxc/{vmid}"],
    ["GET", "/nodes/{node}/lxc/{vmid}/config"],
    ["PUT", "/nodes/{node}/lxc/{vmid}/config"],
    ["GET", "/nodes/{node}/lxc/{vmid}/pending"],
    ["GET", "/nodes/{node}/lxc/{vmid}/status/current"],
    ["POST", "/nodes/{node}/lxc/{vmid}/status/start"],
    ["POST", "/nodes/{node}/lxc/{vmid}/status/stop"],
    ["POST", "/nodes/{node}/lxc/{vmid}/status/shutdown"],
    ["POST", "/nodes/{node}/lxc/{vmid}/status/reboot"],
    ["GET", "/nodes/{node}/lxc/{vmid}/interfaces"],
    ["PUT", "/nodes/{node}/lxc/{vmid}/resize"],
    ["POST", "/nodes/{node}/lxc/{vmid}/clone"],
    ["GET", "/nodes/{node}/tasks/{upid}"],
    ["DELETE", "/nodes/{node}/tasks/{upid}"],
    ["GET", "/nodes/{node}/tasks/{upid}/status"],
    ["GET", "/nodes/{node}/tasks/{upid}/log"],
    ["GET", "/nodes/{node}/storage"],
    ["GET", "/nodes/{node}/storage/{storage}/content"],
    ["GET", "/cluster/nextid"],
    ["GET", "/cluster/resources"],
];

export interface ApiMethod {
    method: string;
    name?: string;
    parameters?: unknown;
    returns?: unknown;
    [key: string]: unknown;
}

interface ApiNode {
    path: string;
    info?: Record<string, ApiMethod>;
    children?: ApiNode[];
}

export interface DerivedRoutes {
    source: string;
    version: string;
    derivedBy: string;
    routes: Record<string, { parameters: unknown; returns: unknown }>;
}

/** apidata.js's tree: the file is one `const apiSchema = [...];` statement. */
export function parseApidata(text: string): ApiNode[] {
    const body = text.trim().replace(/^const\s+apiSchema\s*=\s*/, "").replace(/;\s*$/, "");
    const parsed: unknown = JSON.parse(body);
    if (!Array.isArray(parsed)) throw new Error("apidata.js: expected `const apiSchema = [ ... ];`");
    return parsed as ApiNode[];
}

/** The schema without its prose (descriptions, type texts): what a request is checked against, no more. */
const PROSE = new Set(["description", "verbose_description", "typetext", "format_description"]);
function withoutProse(value: unknown): unknown {
    if (Array.isArray(value)) return value.map(withoutProse);
    if (value === null || typeof value !== "object") return value;
    // Only strings are prose: a parameter named "description" has a schema (an object) and stays.
    return Object.fromEntries(Object.entries(value).filter(([k, v]) => !(PROSE.has(k) && typeof v === "string")).map(([k, v]) => [k, withoutProse(v)]));
}

export function deriveRoutes(tree: ApiNode[], meta: { source: string; version: string }): DerivedRoutes {
    const byPath = new Map<string, Record<string, ApiMethod>>();
    const walk = (nodes: ApiNode[]) => {
        for (const n of nodes) {
            if (n.info) byPath.set(n.path, n.info);
            walk(n.children ?? []);
        }
    };
    walk(tree);
    const routes: DerivedRoutes["routes"] = {};
    for (const [method, route] of PVE_ROUTES) {
        const op = byPath.get(route)?.[method];
        if (!op) throw new Error(`apidata.js has no ${method} ${route}`);
        routes[`${method} ${route}`] = { parameters: withoutProse(op.parameters ?? null), returns: withoutProse(op.returns ?? null) };
    }
    return { ...meta, derivedBy: "npm run pve-api:derive (bin/pve-api-derive.ts)", routes };
}

function argValue(argv: string[], name: string): string | undefined {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : undefined;
}

async function main(argv: string[]): Promise<void> {
    const from = argValue(argv, "from");
    const version = argValue(argv, "version");
    if (!version) throw new Error("usage: pve-api-derive.ts [--from <apidata.js>] --version <pve-docs version> [--source <text>] [--out <file>]");
    let text: string;
    let source: string;
    if (from) {
        text = fs.readFileSync(from, "utf8");
        source = argValue(argv, "source") ?? from;
    } else {
        const res = await fetch(APIDATA_URL);
        if (!res.ok) throw new Error(`${APIDATA_URL}: HTTP ${res.status}`);
        text = await res.text();
        source = `${APIDATA_URL} (downloaded ${new Date().toISOString().slice(0, 10)})`;
    }
    const out = argValue(argv, "out") ?? ROUTES_FILE;
    fs.mkdirSync(path.dirname(out), { recursive: true });
    fs.writeFileSync(out, `${JSON.stringify(deriveRoutes(parseApidata(text), { source, version }), null, 1)}\n`);
    console.log(`wrote ${out}`);
}

if (require.main === module) {
    main(process.argv.slice(2)).catch((err: unknown) => {
        console.error(err instanceof Error ? err.message : String(err));
        process.exit(1);
    });
}
