/**
 * A local HTTPS stand-in for the Proxmox VE API (api2/json), for what the proxmoxve plugin
 * (bpg/terraform-provider-proxmox v0.111.1, wrapped by @muhlba91/pulumi-proxmoxve 8.6.0) calls to
 * create, read, update and delete an LXC container (`proxmoxve.ContainerLegacy`).
 *
 * - Every request's route, method and parameters (path, query and form body together, as
 *   pve-http-server merges them) are checked against Proxmox's own API description:
 *   test/support/pve-api/routes.json, derived from pve-docs' api-viewer/apidata.js by
 *   `npm run pve-api:derive`, which names its source and version. Types, property strings
 *   (netN, rootfs, features…), named formats, patterns, ranges, enums, unknown and missing
 *   parameters are checked as pve-common's src/PVE/JSONSchema.pm (libpve-common-perl 9.2.1) does;
 *   a problem is answered 400 "Parameter verification failed." with the `errors` hash, and
 *   recorded in `violations`, as is a route the description does not have (501).
 * - Authentication: `Authorization: PVEAPIToken=USER@REALM!TOKENID=SECRET`, the header the
 *   plugin's token authenticator sets (proxmox/api/token_auth.go); anything else is 401.
 * - Containers are files, as on a node: <pveRoot>/etc/pve/lxc/<vmid>.conf for the first node
 *   (on a node /etc/pve/lxc is the local node's nodes/<node>/lxc) and
 *   <pveRoot>/etc/pve/nodes/<node>/lxc/<vmid>.conf for the others, with <vmid>.running beside a
 *   running one: the layout test/support/pctStandIn.ts uses, so that `pct` and the API see the
 *   same container when they share pveRoot.
 * - pve-container semantics (src/PVE/API2/LXC.pm, API2/LXC/Config.pm, API2/LXC/Status.pm,
 *   LXC/Config.pm, pve-container 6.1.10): asynchronous tasks (a UPID; the task is `running`,
 *   then `stopped` with exitstatus OK or the error); create locks the config at once and fills
 *   it when its task ends (and starts the container when asked to); net values are normalized
 *   (hwaddr generated if missing, type=veth, name first); changes to a running container are
 *   hotplugged or left pending until the next start; an unknown vmid is a 500 "Configuration
 *   file … does not exist"; a running container is neither deleted nor started again.
 *
 * Node built-ins only. Start it with `startProxmoxStandIn()`, close it with `close()`.
 */
import { execFile } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import * as https from "node:https";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";

// ---------------------------------------------------------------------------------------
// Public types
// ---------------------------------------------------------------------------------------

export interface ProxmoxStandInOptions {
    /**
     * Where to listen (default 127.0.0.1 on a free port), e.g. a namespace address and 8006, or a
     * Unix socket, which a forwarder in another network namespace can reach (proxmoxHosts.ts serve).
     */
    listen?: { host: string; port: number } | { path: string };
    /** Host names the certificate is valid for besides localhost. */
    dnsNames?: string[];
    /** Addresses the certificate is valid for besides the listen address (e.g. the stack's endpoint IP). */
    ipAddresses?: string[];
    /** The API tokens accepted, each `USER@REALM!TOKENID=SECRET` (default: one made up, `apiToken`). */
    apiTokens?: string[];
    /** The root shared with the pct stand-in (default: a private temporary folder, removed on close). */
    pveRoot?: string;
    /** What GET /version reports as `version` (default the schema's, 9.1.3). */
    version?: string;
    /** How long a task runs, in ms, before it stops (default 1500: the plugin polls a task every second). */
    taskMs?: number;
    /** The containers' live network, told of what changes it (default: none, nothing but files changes). */
    network?: ContainerNetwork;
}

/**
 * What a node does to a container's live interfaces (pve-container src/PVE/LXC.pm): a running
 * container's netN changed is hotplugged (update_net, update_ipconfig), a start brings its NICs up
 * as its config says (the veths made anew, the container's init configuring them), a stop takes
 * them away. Told per NIC; a NIC the world does not model is its to ignore.
 */
export interface ContainerNetwork {
    /** netN of a running container goes from `old` (undefined: a NIC added) to `value`; returns what the config keeps. */
    hotplug(vmid: number, key: string, old: string | undefined, value: string): string;
    /** netN of a running container is removed. */
    unplug(vmid: number, key: string, old: string): void;
    started(vmid: number, nets: Record<string, string>): void;
    stopped(vmid: number, nets: Record<string, string>): void;
}

export type StorageType = "dir" | "lvmthin" | "zfspool";

export interface StorageSeed {
    id: string;
    type: StorageType;
    /** Content types, e.g. ["rootdir", "images"] or ["vztmpl", "iso", "backup"]. */
    content: string[];
}

export interface NodeSeed {
    /** Default: local (dir: vztmpl, iso, backup), local-lvm (lvmthin) and local-zfs (zfspool), both rootdir and images. */
    storages?: StorageSeed[];
    /** Template volumes present, e.g. local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst. */
    templates?: string[];
}

export interface PveRecordedRequest {
    /** When the request arrived (ms since epoch). */
    t: number;
    method: string;
    /** The path as sent, with its query string. */
    path: string;
    /** The schema route it matched, e.g. /nodes/{node}/lxc/{vmid}/config; null if none. */
    route: string | null;
    /** Parameters as the API sees them: path, query and form body merged. */
    params: Record<string, string>;
    /** 0 until answered. */
    status: number;
    /** The status line's reason (Proxmox puts its error message there). */
    message: string;
}

export interface PveTask {
    upid: string;
    node: string;
    type: string;
    id: string;
    user: string;
    status: "running" | "stopped";
    exitstatus?: string;
    log: string[];
}

export interface ProxmoxStandIn {
    /** The endpoint, e.g. https://127.0.0.1:PORT/ (what proxmoxve:endpoint takes; the plugin appends api2/json), or unix:<path>. */
    url: string;
    /** 0 on a Unix socket. */
    port: number;
    caPem: string;
    /** Path of the certificate PEM (for SSL_CERT_FILE / NODE_EXTRA_CA_CERTS). */
    caFile: string;
    /** The first accepted token (what proxmoxve:apiToken takes). */
    apiToken: string;
    pveRoot: string;
    requests: PveRecordedRequest[];
    violations: string[];
    /** `METHOD route` of each answered request, in order (route templates, or the path if none matched). */
    calls(): string[];
    addNode(name: string, seed?: NodeSeed): void;
    addTemplate(node: string, volid: string): void;
    /** A container already there (e.g. made by hand), its config given as `key: value` pairs. */
    seedContainer(node: string, vmid: number, config: Record<string, string>, opts?: { running?: boolean }): void;
    /** The container's current configuration as its file holds it (description decoded), or undefined. */
    containerConfig(vmid: number): Record<string, string> | undefined;
    /** Changes waiting for the next start ([pve:pending]), or undefined. */
    pendingConfig(vmid: number): Record<string, string> | undefined;
    /** The file's text, as `pct config` would read it. */
    containerConfigText(vmid: number): string | undefined;
    isRunning(vmid: number): boolean;
    tasks(): PveTask[];
    /** The next task of this type (vzcreate, vzstart, vzshutdown, vzreboot, vzdestroy, resize…) fails with this message. */
    failNextTask(type: string, message: string): void;
    /** Tasks started from now on keep running until the returned function is called. */
    holdTasks(): () => void;
    close(): Promise<void>;
}

// ---------------------------------------------------------------------------------------
// Schema (test/support/pve-api/routes.json)
// ---------------------------------------------------------------------------------------

interface PveSchema {
    type?: string;
    optional?: number;
    format?: string | Record<string, PveSchema>;
    pattern?: string;
    enum?: string[];
    minimum?: number;
    maximum?: number;
    maxLength?: number;
    minLength?: number;
    default_key?: number;
    alias?: string;
    properties?: Record<string, PveSchema>;
    additionalProperties?: number | PveSchema;
}

interface RouteSpec {
    parameters: PveSchema | null;
    returns: PveSchema | null;
}

interface RoutesFile {
    source: string;
    version: string;
    routes: Record<string, RouteSpec>;
}

export const ROUTES_FILE = path.join(__dirname, "pve-api", "routes.json");

function loadRoutes(): RoutesFile {
    const parsed = JSON.parse(fs.readFileSync(ROUTES_FILE, "utf8")) as Partial<RoutesFile>;
    if (typeof parsed.version !== "string" || typeof parsed.routes !== "object" || parsed.routes === null) {
        throw new Error(`${ROUTES_FILE}: not a derived route file (npm run pve-api:derive)`);
    }
    return parsed as RoutesFile;
}

// pve-container src/PVE/LXC/Config.pm: $MAX_LXC_NETWORKS = 32, $MAX_MOUNT_POINTS = 256,
// $MAX_UNUSED_DISKS = $MAX_MOUNT_POINTS, $MAX_DEVICES = 256.
const INDEXED_MAX: Record<string, number> = { net: 32, mp: 256, unused: 256, dev: 256 };

/** The schema of parameter `key`: its own, or an indexed one's (net[n] for net0…net31). */
function propertySchema(schema: PveSchema, key: string): PveSchema | undefined {
    const props = schema.properties ?? {};
    if (props[key]) return props[key];
    const m = /^([a-z]+)(\d+)$/.exec(key);
    if (!m) return undefined;
    const indexed = props[`${m[1]}[n]`];
    if (!indexed) return undefined;
    return Number(m[2]) < (INDEXED_MAX[m[1]] ?? 256) ? indexed : undefined;
}

// The schema's patterns are Perl's: (?^:…) is a non-capturing group with default flags.
function perlPattern(pattern: string): RegExp {
    return new RegExp(`^(?:${pattern.replace(/\(\?\^:/g, "(?:")})$`);
}

// pve-common src/PVE/JSONSchema.pm (9.2.1): is_integer, is_number.
const isInteger = (v: string) => /^[+-]?\d+$/.test(v);
const isNumber = (v: string) => /^[+-]?(\d+\.\d+|\d+\.|\.\d+|\d+)([eE][+-]?\d+)?$/.test(v);

const DNS_LABEL = "[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?";
const DISK_SIZE = /^(\d+(\.\d+)?)([KMGT](?:iB)?)?$/;

function cidr(value: string, family: 4 | 6): boolean {
    const m = /^([^/]+)\/(\d+)$/.exec(value);
    if (!m) return false;
    const ok = family === 4 ? net.isIPv4(m[1]) : net.isIPv6(m[1]);
    const prefix = Number(m[2]);
    return ok && prefix > 7 && prefix <= (family === 4 ? 32 : 128);
}

function splitList(value: string): string[] {
    // pve-common src/PVE/ParseUtils.pm split_list: \0 (repeated form keys) or , ; and blanks.
    if (value.includes("\0")) return value.split("\0");
    return value.replace(/[,;]/g, " ").trim().split(/\s+/).filter((s) => s !== "");
}

/**
 * The named formats of the routes used, with pve-common JSONSchema.pm's checks (9.2.1), pve-storage's
 * pve-volume-id and pve-container's pve-lxc-mp-string; a format not listed here is not checked.
 */
const NAMED_FORMATS: Record<string, (v: string) => string | null> = {
    "pve-configid": (v) => (/^[a-z][a-z0-9_-]+$/i.test(v) ? null : `invalid configuration ID '${v}'`),
    "pve-storage-id": (v) => (v.length < 2 ? `storage ID '${v}' cannot be shorter than 2 characters` : /^[a-z][a-z0-9\-_.]*[a-z0-9]$/i.test(v) ? null : `storage ID '${v}' contains illegal characters`),
    "pve-node": (v) => (new RegExp(`^${DNS_LABEL}$`).test(v) ? null : "value does not look like a valid node name"),
    "pve-vmid": (v) => (/^[1-9][0-9]{2,8}$/.test(v) ? null : "value does not look like a valid VM ID"),
    "mac-addr": (v) => (/^[a-f0-9][02468ace](?::[a-f0-9]{2}){5}$/i.test(v) ? null : "value does not look like a valid unicast MAC address"),
    ipv4: (v) => (net.isIPv4(v) ? null : "value does not look like a valid IPv4 address"),
    ipv6: (v) => (net.isIPv6(v) ? null : "value does not look like a valid IPv6 address"),
    "pve-ipv4-config": (v) => (/^(dhcp|manual)$/.test(v) || cidr(v, 4) ? null : "value does not look like a valid ipv4 network configuration"),
    "pve-ipv6-config": (v) => (/^(auto|dhcp|manual)$/.test(v) || cidr(v, 6) ? null : "value does not look like a valid ipv6 network configuration"),
    "dns-name": (v) => (new RegExp(`^(${DNS_LABEL}\\.)*${DNS_LABEL}$`).test(v) ? null : `value does not look like a valid DNS name`),
    "disk-size": (v) => (DISK_SIZE.test(v) ? null : `value does not look like a valid disk size: ${v}`),
    "pve-tag": (v) => (/^[a-z0-9_][a-z0-9_\-+.]*$/i.test(v) ? null : "invalid characters in tag"),
    "pve-startup-order": (v) => (v.split(",").every((p) => /^\s*$|^(order=)?\d+$|^up=\d+$|^down=\d+$/.test(p)) ? null : "unable to parse startup options"),
    "pve-volume-id": (v) => (/^[a-z][a-z0-9\-_.]*[a-z0-9]:.+$/i.test(v) ? null : `unable to parse volume ID '${v}'`),
    "pve-lxc-mp-string": (v) => (/(^|\/)\.\.?(\/|$)/.test(v) ? "invalid path with dots" : null),
};

/** The errors of one value against its schema, as JSONSchema.pm's check_prop words them. */
function checkValue(value: string, schema: PveSchema): string | null {
    switch (schema.type) {
        case "boolean":
            // JSONSchema.pm check_type: an API boolean is exactly '1' or '0'.
            if (value !== "1" && value !== "0") return `type check ('boolean') failed - got '${value}'`;
            break;
        case "integer":
            if (!isInteger(value)) return `type check ('integer') failed - got '${value}'`;
            break;
        case "number":
            if (!isNumber(value)) return `type check ('number') failed - got '${value}'`;
            break;
    }
    if (schema.format !== undefined) {
        const problem = typeof schema.format === "string" ? checkNamedFormat(schema.format, value) : checkPropertyString(value, schema.format);
        if (problem) return `invalid format - ${problem}`;
    }
    if (schema.pattern !== undefined && !perlPattern(schema.pattern).test(value)) return "value does not match the regex pattern";
    if (schema.maxLength !== undefined && value.length > schema.maxLength) return `value may only be ${schema.maxLength} characters long`;
    if (schema.minLength !== undefined && value.length < schema.minLength) return `value must be at least ${schema.minLength} characters long`;
    if (isNumber(value)) {
        if (schema.maximum !== undefined && Number(value) > schema.maximum) return `value must have a maximum value of ${schema.maximum}`;
        if (schema.minimum !== undefined && Number(value) < schema.minimum) return `value must have a minimum value of ${schema.minimum}`;
    }
    if (schema.enum && !schema.enum.includes(value)) return `value '${value}' does not have a value in the enumeration '${schema.enum.join(", ")}'`;
    return null;
}

function checkNamedFormat(format: string, value: string): string | null {
    // JSONSchema.pm check_format: <name>-list is a list of <name>, <name>-opt may be empty.
    const m = /^(.*?)(?:-(list|opt))?$/.exec(format);
    const base = m?.[1] ?? format;
    const kind = m?.[2];
    const check = NAMED_FORMATS[base];
    if (!check) return null;
    if (kind === "list") {
        for (const item of splitList(value)) {
            const problem = check(item);
            if (problem) return problem;
        }
        return null;
    }
    if (kind === "opt" && value === "") return null;
    return check(value);
}

/** A property string (`k=v,k2=v2`, the default key's value bare) parsed as JSONSchema.pm's parse_property_string. */
export function parsePropertyString(value: string, format: Record<string, PveSchema>): Record<string, string> {
    const res: Record<string, string> = {};
    const defaultKey = Object.keys(format).find((k) => format[k].default_key === 1);
    let defaultSeen = false;
    for (const part of value.split(",")) {
        if (part === "") continue;
        const eq = part.indexOf("=");
        if (eq >= 0) {
            let k = part.slice(0, eq);
            const v = part.slice(eq + 1);
            if (res[k] !== undefined) throw new Error(`duplicate key in comma-separated list property: ${k}`);
            const schema = format[k];
            if (!schema) throw new Error(`invalid key in comma-separated list property: ${k}`);
            if (schema.alias) k = schema.alias;
            res[k] = v;
        } else if (defaultKey) {
            if (defaultSeen || res[defaultKey] !== undefined) throw new Error(`duplicate key in comma-separated list property: ${defaultKey}`);
            defaultSeen = true;
            res[defaultKey] = part;
        } else {
            throw new Error("value without key, but schema does not define a default key");
        }
    }
    return res;
}

function checkPropertyString(value: string, format: Record<string, PveSchema>): string | null {
    let parsed: Record<string, string>;
    try {
        parsed = parsePropertyString(value, format);
    } catch (err) {
        return (err as Error).message;
    }
    const errors: string[] = [];
    for (const [k, v] of Object.entries(parsed)) {
        const problem = checkValue(v, format[k]);
        if (problem) errors.push(`${k}: ${problem}`);
    }
    for (const [k, s] of Object.entries(format)) {
        if (s.optional !== 1 && s.alias === undefined && parsed[k] === undefined) errors.push(`${k}: property is missing and it is not optional`);
    }
    return errors.length ? `format error\n${errors.join("\n")}` : null;
}

/** JSONSchema.pm validate of a route's parameters: per-parameter errors (empty when valid). */
function checkParameters(schema: PveSchema | null, params: Record<string, string>): Record<string, string> {
    const errors: Record<string, string> = {};
    const spec = schema ?? { additionalProperties: 0, properties: {} };
    for (const [k, v] of Object.entries(params)) {
        const s = propertySchema(spec, k);
        if (!s) {
            if (spec.additionalProperties === 0) errors[k] = "property is not defined in schema and the schema does not allow additional properties";
            continue;
        }
        const problem = checkValue(v, s);
        if (problem) errors[k] = problem;
    }
    for (const [k, s] of Object.entries(spec.properties ?? {})) {
        if (k.endsWith("[n]") || s.optional === 1) continue;
        if (params[k] === undefined) errors[k] = "property is missing and it is not optional";
    }
    return errors;
}

/** Proxmox's print_property_string order: the default key's value bare, required keys sorted, then the rest sorted. */
export function printPropertyString(data: Record<string, string>, format: Record<string, PveSchema>): string {
    const defaultKey = Object.keys(format).find((k) => format[k].default_key === 1);
    const keys = Object.keys(data).filter((k) => data[k] !== undefined);
    const required = keys.filter((k) => k !== defaultKey && format[k] && format[k].optional !== 1).sort();
    const rest = keys.filter((k) => k !== defaultKey && !required.includes(k)).sort();
    const parts = defaultKey !== undefined && data[defaultKey] !== undefined ? [data[defaultKey]] : [];
    for (const k of [...required, ...rest]) parts.push(`${k}=${data[k]}`);
    return parts.join(",");
}

// ---------------------------------------------------------------------------------------
// Container files (pve-container src/PVE/LXC/Config.pm parse_pct_config / write_pct_config)
// ---------------------------------------------------------------------------------------

interface ContainerFile {
    /** The current section; description decoded. */
    conf: Record<string, string>;
    pending: Record<string, string>;
    /** Options whose deletion is pending ([pve:pending] `delete:`). */
    pendingDelete: string[];
    /** Anything after the pending section (snapshots), kept as it was. */
    rest: string;
    digest: string;
}

// pve-common src/PVE/ParseUtils.pm encode_text: control and hi-bit characters, ':' and '%' are
// percent-encoded in the description's comment lines.
function encodeText(text: string): string {
    return Array.from(Buffer.from(text, "utf8"))
        .map((b) => (b >= 0x20 && b <= 0x7e && b !== 0x25 && b !== 0x3a ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, "0")}`))
        .join("");
}

function decodeText(text: string): string {
    try {
        return decodeURIComponent(text);
    } catch {
        return text;
    }
}

function parseContainerFile(raw: string): ContainerFile {
    const file: ContainerFile = { conf: {}, pending: {}, pendingDelete: [], rest: "", digest: crypto.createHash("sha1").update(raw).digest("hex") };
    let section: "current" | "pending" | "other" = "current";
    let descr = "";
    const lines = raw.split("\n");
    for (let i = 0; i < lines.length; i++) {
        const line = lines[i];
        if (/^\s*$/.test(line)) continue;
        const target = section === "pending" ? file.pending : file.conf;
        if (/^\[pve:pending\]\s*$/i.test(line) || /^\[[a-z][a-z0-9_-]+\]\s*$/i.test(line)) {
            if (descr) target.description = descr;
            descr = "";
            if (/^\[pve:pending\]/i.test(line)) {
                section = "pending";
                continue;
            }
            file.rest = lines.slice(i).join("\n");
            section = "other";
            break;
        }
        if (line.startsWith("#")) {
            descr += `${decodeText(line.slice(1))}\n`;
            continue;
        }
        const m = /^([a-z][a-z0-9_.-]*\d*):\s*(.*?)\s*$/.exec(line);
        if (!m) continue;
        if (m[1] === "delete" && section === "pending") file.pendingDelete = splitList(m[2]);
        else target[m[1]] = m[2];
    }
    if (descr && section !== "other") (section === "pending" ? file.pending : file.conf).description = descr;
    return file;
}

function renderSection(conf: Record<string, string>): string {
    let raw = "";
    for (const line of (conf.description ?? "").split("\n").filter((l, i, all) => l !== "" || i < all.length - 1)) raw += `#${encodeText(line)}\n`;
    for (const key of Object.keys(conf).sort()) {
        if (key === "description") continue;
        raw += `${key}: ${conf[key]}\n`;
    }
    return raw;
}

function renderContainerFile(file: Omit<ContainerFile, "digest">): string {
    let raw = renderSection(file.conf);
    if (Object.keys(file.pending).length || file.pendingDelete.length) {
        const pending = { ...file.pending };
        if (file.pendingDelete.length) pending.delete = file.pendingDelete.join(",");
        raw += `\n[pve:pending]\n${renderSection(pending)}`;
    }
    if (file.rest) raw += `\n${file.rest.replace(/\n*$/, "\n")}`;
    return raw;
}

// ---------------------------------------------------------------------------------------
// Errors, as pve-http-server answers them (src/PVE/APIServer/AnyEvent.pm, Formatter/Standard.pm
// of libpve-http-server-perl 6.0.5): the message is the status line's reason (its first line)
// and the JSON body's `message`; a parameter error adds `errors`.
// ---------------------------------------------------------------------------------------

interface Reply {
    status: number;
    message?: string;
    data?: unknown;
    errors?: Record<string, string>;
}

class ApiError extends Error {
    constructor(readonly status: number, message: string, readonly errors?: Record<string, string>) {
        super(message);
    }
}

const fail = (message: string): never => {
    throw new ApiError(500, message);
};
const paramFail = (errors: Record<string, string>): never => {
    throw new ApiError(400, "Parameter verification failed.", errors);
};

function send(res: ServerResponse, reply: Reply): void {
    const isError = reply.status >= 400;
    const body: Record<string, unknown> = { data: isError ? null : (reply.data ?? null) };
    if (reply.errors) body.errors = reply.errors;
    if (isError) body.message = `${reply.message ?? "error"}\n`;
    const payload = JSON.stringify(body);
    const reason = isError ? (reply.message ?? "error").split("\n")[0] : "OK";
    res.writeHead(reply.status, reason, { "Content-Type": "application/json;charset=UTF-8", "Content-Length": Buffer.byteLength(payload) });
    res.end(payload);
}

// ---------------------------------------------------------------------------------------
// The world
// ---------------------------------------------------------------------------------------

interface StorageState extends StorageSeed {
    /** Volumes on it, by volid. */
    volumes: Map<string, { vmid?: number; size?: number; content: string }>;
}

interface NodeState {
    name: string;
    storages: Map<string, StorageState>;
    dir: string;
}

interface TaskState extends PveTask {
    pid: number;
    pstart: number;
    starttime: number;
    timer?: NodeJS.Timeout;
}

/** Options the create call consumes instead of writing them to the config (pve-container API2/LXC.pm create_vm). */
const CREATE_ONLY = new Set(["node", "vmid", "ostemplate", "storage", "start", "password", "ssh-public-keys", "unique", "restore", "force", "ignore-unpack-errors", "bwlimit", "ha-managed", "pool"]);

/** Options a running container takes at once (pve-container LXC/Config.pm $LXC_FASTPLUG_OPTIONS and vmconfig_hotplug_pending). */
const HOTPLUG = new Set(["description", "onboot", "startup", "protection", "hostname", "hookscript", "cores", "tags", "lock", "cpulimit", "cpuunits", "memory", "swap"]);
const isHotplugged = (opt: string) => HOTPLUG.has(opt) || /^net\d+$/.test(opt);

const DEFAULT_STORAGES: StorageSeed[] = [
    { id: "local", type: "dir", content: ["vztmpl", "iso", "backup"] },
    { id: "local-lvm", type: "lvmthin", content: ["rootdir", "images"] },
    { id: "local-zfs", type: "zfspool", content: ["rootdir", "images"] },
];

const GIB = 1024 * 1024 * 1024;

function diskBytes(size: string): number {
    const m = DISK_SIZE.exec(size);
    if (!m) return NaN;
    const unit = (m[3] ?? "").charAt(0);
    const mult = unit === "K" ? 1024 : unit === "M" ? 1024 ** 2 : unit === "G" ? GIB : unit === "T" ? 1024 * GIB : 1;
    return Math.ceil(Number(m[1]) * mult);
}

// pve-common JSONSchema.pm format_size.
function formatSize(bytes: number): string {
    const units = ["K", "M", "G", "T"];
    let value = bytes;
    let unit = "";
    for (const u of units) {
        if (value % 1024 !== 0) break;
        value /= 1024;
        unit = u;
    }
    return `${value}${unit}`;
}

function randomMac(): string {
    // pve-common Tools.pm random_ether_addr with datacenter.cfg's default mac_prefix BC:24:11.
    return `BC:24:11:${[...crypto.randomBytes(3)].map((b) => b.toString(16).toUpperCase().padStart(2, "0")).join(":")}`;
}

const execFileAsync = promisify(execFile);

async function makeCertificate(dir: string, address: string, dnsNames: string[], ipAddresses: string[]): Promise<{ key: string; cert: string; certFile: string }> {
    const keyFile = path.join(dir, "key.pem");
    const certFile = path.join(dir, "cert.pem");
    const ips = [...new Set([address, "127.0.0.1", ...ipAddresses])];
    await execFileAsync("openssl", [
        "req", "-x509", "-newkey", "rsa:2048", "-nodes",
        "-subj", "/CN=pve-stand-in",
        "-addext", `subjectAltName=${[...ips.map((ip) => `IP:${ip}`), "DNS:localhost", ...dnsNames.map((n) => `DNS:${n}`)].join(",")}`,
        "-days", "2",
        "-keyout", keyFile,
        "-out", certFile,
    ]);
    return { key: fs.readFileSync(keyFile, "utf8"), cert: fs.readFileSync(certFile, "utf8"), certFile };
}

function readBody(req: IncomingMessage): Promise<string> {
    return new Promise((resolve, reject) => {
        const chunks: Buffer[] = [];
        req.on("data", (chunk: Buffer) => chunks.push(chunk));
        req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
        req.on("error", reject);
    });
}

// pve-http-server AnyEvent.pm decode_urlencoded: pairs split on & or ;, '+' is a blank, a
// repeated key's values are joined with \0 (as CGI.pm does).
function decodeUrlencoded(data: string, into: Record<string, string>): void {
    for (const kv of data.split(/[&;]/)) {
        if (kv === "") continue;
        const eq = kv.indexOf("=");
        const dec = (s: string) => decodeURIComponent(s.replace(/\+/g, " "));
        const k = dec(eq >= 0 ? kv.slice(0, eq) : kv);
        const v = eq >= 0 ? dec(kv.slice(eq + 1)) : "";
        into[k] = into[k] === undefined ? v : `${into[k]}\0${v}`;
    }
}

function matchRoute(routes: Record<string, RouteSpec>, method: string, segments: string[]): { route: string; spec: RouteSpec; params: Record<string, string> } | null {
    let pathOnly: string | null = null;
    for (const key of Object.keys(routes)) {
        const [m, route] = key.split(" ");
        const parts = route.split("/").slice(1);
        if (parts.length !== segments.length) continue;
        const params: Record<string, string> = {};
        let ok = true;
        for (let i = 0; i < parts.length && ok; i++) {
            const p = /^\{(.+)\}$/.exec(parts[i]);
            if (p) params[p[1]] = segments[i];
            else ok = parts[i] === segments[i];
        }
        if (!ok) continue;
        if (m === method) return { route, spec: routes[key], params };
        pathOnly = route;
    }
    return pathOnly === null ? null : { route: pathOnly, spec: { parameters: null, returns: null }, params: {} };
}

export async function startProxmoxStandIn(opts: ProxmoxStandInOptions = {}): Promise<ProxmoxStandIn> {
    const schema = loadRoutes();
    const listen = opts.listen;
    const socketPath = listen && "path" in listen ? listen.path : undefined;
    const host = listen && "host" in listen ? listen.host : "127.0.0.1";
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pve-stand-in-"));
    const pveRoot = opts.pveRoot ?? path.join(dir, "root");
    const { key, cert, certFile } = await makeCertificate(dir, host, opts.dnsNames ?? [], opts.ipAddresses ?? []);
    const apiTokens = opts.apiTokens ?? [`root@pam!ovh-failover=${crypto.randomUUID()}`];
    const taskMs = opts.taskMs ?? 1500;
    const requests: PveRecordedRequest[] = [];
    const violations: string[] = [];
    const nodes = new Map<string, NodeState>();
    const tasks: TaskState[] = [];
    // Tasks started while held run until released: a test sees them running without racing a timer.
    let held = false;
    const heldTasks: (() => void)[] = [];
    const taskFailures = new Map<string, string>();
    const timers = new Set<NodeJS.Timeout>();
    let pidCounter = 0x1000 + Math.floor(Math.random() * 0x1000);

    // ---- files ----
    const nodeDir = (node: string) => {
        // /etc/pve/lxc is the first (local) node's nodes/<node>/lxc.
        const first = nodes.keys().next().value;
        return node === first ? path.join(pveRoot, "etc/pve/lxc") : path.join(pveRoot, "etc/pve/nodes", node, "lxc");
    };
    const confPath = (node: string, vmid: number) => path.join(nodeDir(node), `${vmid}.conf`);
    const runningPath = (node: string, vmid: number) => path.join(nodeDir(node), `${vmid}.running`);
    const readFile = (node: string, vmid: number): ContainerFile | undefined => {
        const p = confPath(node, vmid);
        return fs.existsSync(p) ? parseContainerFile(fs.readFileSync(p, "utf8")) : undefined;
    };
    const writeFile = (node: string, vmid: number, file: Omit<ContainerFile, "digest">) => {
        fs.mkdirSync(nodeDir(node), { recursive: true });
        fs.writeFileSync(confPath(node, vmid), renderContainerFile(file));
    };
    const running = (node: string, vmid: number) => fs.existsSync(runningPath(node, vmid));
    const setRunning = (node: string, vmid: number, on: boolean) => {
        if (on) fs.writeFileSync(runningPath(node, vmid), "");
        else fs.rmSync(runningPath(node, vmid), { force: true });
    };
    const nodeOf = (vmid: number): string | undefined => [...nodes.keys()].find((n) => fs.existsSync(confPath(n, vmid)));

    // pve-common/pve-guest-common AbstractConfig.pm load_config.
    const load = (node: string, vmid: number): ContainerFile => {
        const file = readFile(node, vmid);
        if (!file) return fail(`Configuration file 'nodes/${node}/lxc/${vmid}.conf' does not exist`);
        return file;
    };
    // AbstractConfig.pm check_lock.
    const checkLock = (file: ContainerFile) => {
        if (file.conf.lock) fail(`CT is locked (${file.conf.lock})`);
    };

    const confTypes = schema.routes["PUT /nodes/{node}/lxc/{vmid}/config"].parameters ?? {};
    const netFormat = (propertySchema(confTypes, "net0")?.format ?? {}) as Record<string, PveSchema>;
    const rootfsFormat = (propertySchema(confTypes, "rootfs")?.format ?? {}) as Record<string, PveSchema>;

    // pve-container LXC/Config.pm parse_lxc_network: type=veth, a hwaddr generated when missing;
    // print_lxc_network writes it back in print_property_string's order.
    const normalizeNet = (value: string) => {
        const parsed = parsePropertyString(value, netFormat);
        parsed.type = "veth";
        if (!parsed.hwaddr) parsed.hwaddr = randomMac();
        return printPropertyString(parsed, netFormat);
    };

    /** A config value as GET /config returns it: integers, numbers and booleans as JSON numbers (check_type). */
    const typed = (key: string, value: string): unknown => {
        const type = propertySchema(confTypes, key)?.type;
        if ((type === "integer" || type === "number") && isNumber(value)) return Number(value);
        if (type === "boolean") return /^(1|on|yes|true)$/i.test(value) ? 1 : 0;
        return value;
    };

    // ---- tasks ----
    const user = (req: IncomingMessage) => tokenOf(req)?.tokenUser ?? "root@pam";
    const hex8 = (n: number) => n.toString(16).toUpperCase().padStart(8, "0");
    const startTask = (node: string, type: string, id: string, taskUser: string, work: (t: TaskState) => void, onFail?: () => void): string => {
        const pid = ++pidCounter;
        const pstart = Math.floor(process.uptime() * 100) + pid;
        const starttime = Math.floor(Date.now() / 1000);
        // pve-common RESTEnvironment.pm / Tools.pm upid_encode: UPID:node:pid:pstart:starttime:type:id:user:
        const upid = `UPID:${node}:${hex8(pid)}:${hex8(pstart)}:${hex8(starttime)}:${type}:${id}:${taskUser}:`;
        const task: TaskState = { upid, node, type, id, user: taskUser, status: "running", log: [], pid, pstart, starttime };
        tasks.push(task);
        const finish = () => {
            timers.delete(task.timer as NodeJS.Timeout);
            const failure = taskFailures.get(type);
            try {
                if (failure !== undefined) {
                    taskFailures.delete(type);
                    throw new Error(failure);
                }
                work(task);
                task.exitstatus = "OK";
                task.log.push("TASK OK");
            } catch (err) {
                const message = err instanceof Error ? err.message : String(err);
                onFail?.();
                task.exitstatus = message;
                task.log.push(message, `TASK ERROR: ${message}`);
            }
            task.status = "stopped";
        };
        if (held) {
            heldTasks.push(finish);
            return upid;
        }
        task.timer = setTimeout(finish, taskMs);
        timers.add(task.timer);
        return upid;
    };
    const findTask = (upid: string) => tasks.find((t) => t.upid === upid);

    // ---- storage ----
    const storageOf = (node: NodeState, sid: string): StorageState => {
        const s = node.storages.get(sid);
        // pve-storage PVE/Storage.pm storage_config / storage_check_enabled.
        if (!s) return fail(`storage '${sid}' does not exist`);
        return s;
    };
    const allocVolume = (node: NodeState, sid: string, vmid: number, gib: number): string => {
        const s = storageOf(node, sid);
        const used = [...s.volumes.values()].filter((v) => v.vmid === vmid).length;
        const name = s.type === "zfspool" ? `subvol-${vmid}-disk-${used}` : s.type === "lvmthin" ? `vm-${vmid}-disk-${used}` : `${vmid}/vm-${vmid}-disk-${used}.raw`;
        const volid = `${sid}:${name}`;
        s.volumes.set(volid, { vmid, size: gib * GIB, content: "rootdir" });
        return volid;
    };
    const freeVolumes = (vmid: number) => {
        for (const n of nodes.values()) for (const s of n.storages.values()) for (const [volid, v] of s.volumes) if (v.vmid === vmid) s.volumes.delete(volid);
    };

    // ---- pending (LXC/Config.pm update_pct_config, vmconfig_hotplug_pending, vmconfig_apply_pending) ----
    const applyPending = (file: ContainerFile) => {
        for (const opt of file.pendingDelete) delete file.conf[opt];
        Object.assign(file.conf, file.pending);
        file.pending = {};
        file.pendingDelete = [];
    };
    const netsOf = (conf: Record<string, string>) => Object.fromEntries(Object.entries(conf).filter(([k]) => /^net\d+$/.test(k)));
    const startContainer = (node: string, vmid: number) => {
        const file = load(node, vmid);
        applyPending(file);
        writeFile(node, vmid, file);
        setRunning(node, vmid, true);
        opts.network?.started(vmid, netsOf(file.conf));
    };
    const stopContainer = (node: string, vmid: number) => {
        if (!running(node, vmid)) return;
        setRunning(node, vmid, false);
        opts.network?.stopped(vmid, netsOf(load(node, vmid).conf));
    };

    // ---- handlers ----
    type Handler = (p: Record<string, string>, req: IncomingMessage) => Reply;
    const nodeNamed = (name: string): NodeState => {
        const n = nodes.get(name);
        // pve-cluster PVE/Cluster.pm remote_node_ip (a node the cluster does not know).
        if (!n) return fail(`hostname lookup '${name}' failed - failed to get address info for: ${name}: Name or service not known`);
        return n;
    };
    const vmidOf = (p: Record<string, string>) => Number(p.vmid);

    const statusOf = (node: string, vmid: number, file: ContainerFile) => {
        // pve-container LXC.pm vmstatus.
        const on = running(node, vmid);
        const rootSize = file.conf.rootfs ? diskBytes(parsePropertyString(file.conf.rootfs, rootfsFormat).size ?? "") : NaN;
        const d: Record<string, unknown> = {
            vmid,
            status: on ? "running" : "stopped",
            type: "lxc",
            name: (file.conf.hostname ?? `CT${vmid}`).replace(/\s/g, ""),
            cpus: Number(file.conf.cores ?? file.conf.cpulimit ?? os.cpus().length),
            maxmem: Number(file.conf.memory ?? 512) * 1024 * 1024,
            maxswap: Number(file.conf.swap ?? 0) * 1024 * 1024,
            maxdisk: Number.isNaN(rootSize) ? 4 * GIB : rootSize,
            disk: 0, mem: 0, swap: 0, cpu: 0, uptime: on ? 42 : 0, netin: 0, netout: 0, diskread: 0, diskwrite: 0,
        };
        if (file.conf.tags) d.tags = file.conf.tags;
        if (file.conf.lock) d.lock = file.conf.lock;
        if (file.conf.template === "1") d.template = 1;
        return d;
    };

    const handlers: Record<string, Handler> = {
        "GET /version": () => ({ status: 200, data: { version: opts.version ?? schema.version, release: (opts.version ?? schema.version).split(".").slice(0, 2).join("."), repoid: "0000000000000000", console: "xtermjs" } }),
        "GET /nodes": () => ({ status: 200, data: [...nodes.keys()].map((node) => ({ node, status: "online", type: "node", id: `node/${node}`, level: "", maxcpu: os.cpus().length, maxmem: os.totalmem(), uptime: Math.floor(os.uptime()) })) }),
        "GET /nodes/{node}/status": (p) => {
            nodeNamed(p.node);
            const cpus = os.cpus();
            return {
                status: 200,
                data: {
                    uptime: Math.floor(os.uptime()), cpu: 0, loadavg: os.loadavg().map((l) => l.toFixed(2)),
                    memory: { total: os.totalmem(), free: os.freemem(), used: os.totalmem() - os.freemem(), available: os.freemem() },
                    rootfs: { total: 100 * GIB, used: 0, free: 100 * GIB, avail: 100 * GIB },
                    cpuinfo: { cores: cpus.length, cpus: cpus.length, sockets: 1, model: cpus[0]?.model ?? "stand-in" },
                    "current-kernel": { sysname: "Linux", release: os.release(), version: os.version(), machine: os.machine() },
                    "boot-info": { mode: "efi" },
                    pveversion: `pve-manager/${opts.version ?? schema.version}`,
                },
            };
        },
        "GET /nodes/{node}/lxc": (p) => {
            nodeNamed(p.node);
            const list = fs.existsSync(nodeDir(p.node)) ? fs.readdirSync(nodeDir(p.node)).filter((f) => /^\d+\.conf$/.test(f)) : [];
            return { status: 200, data: list.map((f) => { const vmid = Number(f.slice(0, -5)); return statusOf(p.node, vmid, load(p.node, vmid)); }) };
        },
        "POST /nodes/{node}/lxc": (p, req) => createContainer(p, req),
        "GET /nodes/{node}/lxc/{vmid}": (p) => {
            nodeNamed(p.node);
            load(p.node, vmidOf(p));
            return { status: 200, data: ["config", "status", "interfaces", "pending", "snapshot", "firewall", "rrd", "rrddata"].map((subdir) => ({ subdir })) };
        },
        "GET /nodes/{node}/lxc/{vmid}/config": (p) => {
            nodeNamed(p.node);
            const file = load(p.node, vmidOf(p));
            // API2/LXC/Config.pm vm_config: pending values unless current=1; the file's digest.
            const conf = p.current === "1" ? { ...file.conf } : (() => { const c = { ...file.conf, ...file.pending }; for (const d of file.pendingDelete) delete c[d]; return c; })();
            const data: Record<string, unknown> = { digest: file.digest };
            for (const [k, v] of Object.entries(conf)) data[k] = typed(k, v);
            return { status: 200, data };
        },
        "GET /nodes/{node}/lxc/{vmid}/pending": (p) => {
            nodeNamed(p.node);
            const file = load(p.node, vmidOf(p));
            const keys = new Set([...Object.keys(file.conf), ...Object.keys(file.pending), ...file.pendingDelete]);
            // Its return schema types value and pending as strings.
            return { status: 200, data: [...keys].sort().map((key) => ({ key, ...(file.conf[key] !== undefined ? { value: file.conf[key] } : {}), ...(file.pending[key] !== undefined ? { pending: file.pending[key] } : {}), ...(file.pendingDelete.includes(key) ? { delete: 1 } : {}) })) };
        },
        "PUT /nodes/{node}/lxc/{vmid}/config": (p) => updateConfig(p),
        "GET /nodes/{node}/lxc/{vmid}/status/current": (p) => {
            nodeNamed(p.node);
            const vmid = vmidOf(p);
            return { status: 200, data: { ...statusOf(p.node, vmid, load(p.node, vmid)), ha: { managed: 0 } } };
        },
        "POST /nodes/{node}/lxc/{vmid}/status/start": (p, req) => {
            nodeNamed(p.node);
            const vmid = vmidOf(p);
            const file = load(p.node, vmid);
            // API2/LXC/Status.pm vm_start.
            if (running(p.node, vmid)) fail(`CT ${vmid} already running`);
            if (file.conf.template === "1") fail("you can't start a CT if it's a template");
            if (p.skiplock !== "1") checkLock(file);
            return { status: 200, data: startTask(p.node, "vzstart", String(vmid), user(req), () => startContainer(p.node, vmid)) };
        },
        "POST /nodes/{node}/lxc/{vmid}/status/stop": (p, req) => {
            nodeNamed(p.node);
            const vmid = vmidOf(p);
            const file = load(p.node, vmid);
            if (!running(p.node, vmid)) fail(`CT ${vmid} not running`);
            if (p.skiplock !== "1") checkLock(file);
            return { status: 200, data: startTask(p.node, "vzstop", String(vmid), user(req), () => stopContainer(p.node, vmid)) };
        },
        "POST /nodes/{node}/lxc/{vmid}/status/shutdown": (p, req) => {
            nodeNamed(p.node);
            const vmid = vmidOf(p);
            const file = load(p.node, vmid);
            if (!running(p.node, vmid)) fail(`CT ${vmid} not running`);
            checkLock(file);
            return { status: 200, data: startTask(p.node, "vzshutdown", String(vmid), user(req), () => stopContainer(p.node, vmid)) };
        },
        "POST /nodes/{node}/lxc/{vmid}/status/reboot": (p, req) => {
            nodeNamed(p.node);
            const vmid = vmidOf(p);
            load(p.node, vmid);
            // Status.pm vm_reboot says "VM", not "CT".
            if (!running(p.node, vmid)) fail(`VM ${vmid} not running`);
            // Status.pm vm_reboot: a shutdown then a start (its NICs made anew).
            return { status: 200, data: startTask(p.node, "vzreboot", String(vmid), user(req), () => {
                stopContainer(p.node, vmid);
                startContainer(p.node, vmid);
            }) };
        },
        "GET /nodes/{node}/lxc/{vmid}/interfaces": (p) => {
            nodeNamed(p.node);
            const vmid = vmidOf(p);
            // LXC.pm get_interfaces: `ip --json a` in the container's network namespace; nothing
            // (data null) when the container has no init process.
            const file = readFile(p.node, vmid);
            if (!file || !running(p.node, vmid)) return { status: 200, data: null };
            const ifaces: Record<string, unknown>[] = [{ name: "lo", hwaddr: "00:00:00:00:00:00", "hardware-address": "00:00:00:00:00:00", inet: "127.0.0.1/8", inet6: "::1/128", "ip-addresses": [{ "ip-address": "127.0.0.1", "ip-address-type": "inet", prefix: 8 }, { "ip-address": "::1", "ip-address-type": "inet6", prefix: 128 }] }];
            for (const key of Object.keys(file.conf).filter((k) => /^net\d+$/.test(k)).sort()) {
                const nic = parsePropertyString(file.conf[key], netFormat);
                if (nic.link_down === "1") continue;
                const hw = (nic.hwaddr ?? "").toLowerCase();
                const addrs: { "ip-address": string; "ip-address-type": string; prefix: number }[] = [];
                const obj: Record<string, unknown> = { name: nic.name, hwaddr: hw, "hardware-address": hw };
                for (const [prop, family] of [["ip", "inet"], ["ip6", "inet6"]] as const) {
                    const m = /^(.+)\/(\d+)$/.exec(nic[prop] ?? "");
                    if (!m) continue;
                    addrs.push({ "ip-address": m[1], "ip-address-type": family, prefix: Number(m[2]) });
                    obj[family] = nic[prop];
                }
                obj["ip-addresses"] = addrs;
                ifaces.push(obj);
            }
            return { status: 200, data: ifaces };
        },
        "PUT /nodes/{node}/lxc/{vmid}/resize": (p, req) => {
            const node = nodeNamed(p.node);
            const vmid = vmidOf(p);
            const file = load(p.node, vmid);
            checkLock(file);
            if (p.digest && p.digest !== file.digest) fail("detected modified configuration - file changed by other user? Try again.");
            const mp = file.conf[p.disk];
            if (!mp) fail(`disk '${p.disk}' does not exist`);
            return {
                status: 200,
                data: startTask(p.node, "resize", String(vmid), user(req), () => {
                    // API2/LXC.pm resize_vm: +SIZE grows by, SIZE sets; shrinking is refused.
                    const current = load(p.node, vmid);
                    const parsed = parsePropertyString(current.conf[p.disk], rootfsFormat);
                    const old = diskBytes(parsed.size ?? "0");
                    const grow = p.size.startsWith("+");
                    const wanted = grow ? old + diskBytes(p.size.slice(1)) : diskBytes(p.size);
                    if (wanted < old) throw new Error("unable to shrink disk size");
                    parsed.size = formatSize(wanted);
                    const vol = storageOf(node, parsed.volume.split(":")[0]).volumes.get(parsed.volume);
                    if (vol) vol.size = wanted;
                    current.conf[p.disk] = printPropertyString(parsed, rootfsFormat);
                    writeFile(p.node, vmid, current);
                }),
            };
        },
        "DELETE /nodes/{node}/lxc/{vmid}": (p, req) => {
            nodeNamed(p.node);
            const vmid = vmidOf(p);
            const file = load(p.node, vmid);
            // API2/LXC.pm destroy_vm.
            checkLock(file);
            if (file.conf.protection === "1") fail(`can't remove CT ${vmid} - protection mode enabled`);
            if (p.force !== "1" && running(p.node, vmid)) fail(`unable to destroy CT ${vmid} - container is running`);
            return {
                status: 200,
                data: startTask(p.node, "vzdestroy", String(vmid), user(req), () => {
                    stopContainer(p.node, vmid);
                    freeVolumes(vmid);
                    fs.rmSync(confPath(p.node, vmid), { force: true });
                }),
            };
        },
        "GET /nodes/{node}/tasks/{upid}": (p) => {
            nodeNamed(p.node);
            if (!findTask(p.upid)) fail(`no such task`);
            return { status: 200, data: [{ subdir: "log" }, { subdir: "status" }] };
        },
        "DELETE /nodes/{node}/tasks/{upid}": (p) => {
            nodeNamed(p.node);
            const t = findTask(p.upid);
            if (!t) fail("no such task");
            return { status: 200, data: null };
        },
        "GET /nodes/{node}/tasks/{upid}/status": (p) => {
            nodeNamed(p.node);
            const t = findTask(p.upid);
            // pve-manager API2/Tasks.pm read_task_status: a UPID it cannot find is a 500.
            if (!t || t.node !== p.node) return fail(`no such task`);
            return { status: 200, data: { upid: t.upid, node: t.node, pid: t.pid, pstart: t.pstart, starttime: t.starttime, type: t.type, id: t.id, user: t.user, status: t.status, ...(t.status === "stopped" ? { exitstatus: t.exitstatus } : {}) } };
        },
        "GET /nodes/{node}/tasks/{upid}/log": (p) => {
            nodeNamed(p.node);
            const t = findTask(p.upid);
            if (!t) return fail("no such task");
            const start = Number(p.start ?? 0);
            const limit = Number(p.limit ?? 50);
            return { status: 200, data: t.log.slice(start, start + limit).map((line, i) => ({ n: start + i + 1, t: line })) };
        },
        "GET /nodes/{node}/storage": (p) => {
            const node = nodeNamed(p.node);
            const list = [...node.storages.values()].filter((s) => !p.content || splitList(p.content).some((c) => s.content.includes(c))).filter((s) => !p.storage || s.id === p.storage);
            return { status: 200, data: list.map((s) => ({ storage: s.id, type: s.type, content: s.content.join(","), active: 1, enabled: 1, shared: 0, total: 100 * GIB, used: 0, avail: 100 * GIB })) };
        },
        "GET /nodes/{node}/storage/{storage}/content": (p) => {
            const node = nodeNamed(p.node);
            const s = storageOf(node, p.storage);
            const list = [...s.volumes.entries()].filter(([, v]) => (!p.content || v.content === p.content) && (!p.vmid || v.vmid === Number(p.vmid)));
            return { status: 200, data: list.map(([volid, v]) => ({ volid, content: v.content, format: v.content === "vztmpl" ? "tzst" : s.type === "zfspool" ? "subvol" : "raw", size: v.size ?? 0, ...(v.vmid !== undefined ? { vmid: v.vmid } : {}) })) };
        },
        "GET /cluster/nextid": (p) => {
            const used = (id: number) => nodeOf(id) !== undefined;
            if (p.vmid) {
                // pve-manager API2/Cluster.pm get_nextid.
                if (used(Number(p.vmid))) fail(`VM ${p.vmid} already exists`);
                return { status: 200, data: Number(p.vmid) };
            }
            let id = 100;
            while (used(id)) id++;
            return { status: 200, data: id };
        },
        "GET /cluster/resources": (p) => {
            const data: Record<string, unknown>[] = [];
            for (const n of nodes.values()) {
                if (!p.type || p.type === "node") data.push({ id: `node/${n.name}`, type: "node", node: n.name, status: "online" });
                if (!p.type || p.type === "vm") {
                    const files = fs.existsSync(nodeDir(n.name)) ? fs.readdirSync(nodeDir(n.name)).filter((f) => /^\d+\.conf$/.test(f)) : [];
                    for (const f of files) {
                        const vmid = Number(f.slice(0, -5));
                        data.push({ id: `lxc/${vmid}`, node: n.name, ...statusOf(n.name, vmid, load(n.name, vmid)) });
                    }
                }
                if (!p.type || p.type === "storage") for (const s of n.storages.values()) data.push({ id: `storage/${n.name}/${s.id}`, type: "storage", node: n.name, storage: s.id, status: "available", content: s.content.join(",") });
            }
            return { status: 200, data };
        },
    };

    // API2/LXC.pm create_vm: checks before the worker, then the worker (vzcreate) fills the config.
    function createContainer(p: Record<string, string>, req: IncomingMessage): Reply {
        const node = nodeNamed(p.node);
        const vmid = vmidOf(p);
        // pve-cluster Cluster.pm check_vmid_unused.
        const existing = nodeOf(vmid);
        if (existing) fail(`CT ${vmid} already exists on node '${existing}'`);
        if (p.restore === "1") fail("stand-in: restore is not modeled");
        const storage = p.storage ?? "local";
        const template = p.ostemplate;
        const tsid = template.split(":")[0];
        // PVE/Storage.pm check_volume_access → parse_volume_id, storage_config.
        if (!/^[a-z][a-z0-9\-_.]*[a-z0-9]:.+$/i.test(template)) fail(`unable to parse volume ID '${template}'`);
        const tstore = storageOf(node, tsid);
        const checkRootdir = (sid: string) => {
            const s = storageOf(node, sid);
            if (!s.content.includes("rootdir")) paramFail({ storage: `storage '${sid}' does not support container directories` });
        };
        let rootfs: Record<string, string> | undefined;
        if (p.rootfs !== undefined) {
            rootfs = parsePropertyString(p.rootfs, rootfsFormat);
            // create_vm: a bare number as volume is a size on the default storage.
            if (/^\d+(\.\d+)?$/.test(rootfs.volume)) rootfs.volume = `${storage}:${rootfs.volume}`;
            const m = /^([^:]+):(\d+(?:\.\d+)?)$/.exec(rootfs.volume);
            if (m) checkRootdir(m[1]);
            else fail("stand-in: rootfs on an existing volume is not modeled");
        } else {
            checkRootdir(storage);
        }
        const conf: Record<string, string> = {};
        for (const [k, v] of Object.entries(p)) {
            if (CREATE_ONLY.has(k) || k === "rootfs" || k === "delete" || k === "digest" || k === "debug") continue;
            conf[k] = /^net\d+$/.test(k) ? normalizeNet(v) : v;
        }
        // unprivileged is 1 unless given (create_vm).
        conf.unprivileged = p.unprivileged ?? "1";
        // AbstractConfig.pm create_and_lock_config: the file exists, locked, before the worker runs.
        writeFile(p.node, vmid, { conf: { lock: "create" }, pending: {}, pendingDelete: [], rest: "" });
        const start = p.start === "1";
        return {
            status: 200,
            data: startTask(p.node, "vzcreate", String(vmid), user(req), (task) => {
                if (!tstore.volumes.has(template)) throw new Error(`unable to create CT ${vmid} - volume '${template}' does not exist`);
                const size = rootfs ? Number(/:(\d+(?:\.\d+)?)$/.exec(rootfs.volume)?.[1]) : 4;
                const sid = rootfs ? rootfs.volume.split(":")[0] : storage;
                const volid = allocVolume(node, sid, vmid, size);
                const disk: Record<string, string> = { ...(rootfs ?? {}), volume: volid, size: formatSize(size * GIB) };
                conf.rootfs = printPropertyString(disk, rootfsFormat);
                task.log.push(`extracting archive '${template}'`);
                // create_vm's defaults, and the architecture/ostype found in the template.
                conf.hostname = conf.hostname || `CT${vmid}`;
                conf.memory = conf.memory || "512";
                conf.swap = conf.swap ?? "512";
                conf.arch = conf.arch ?? "amd64";
                conf.ostype = conf.ostype ?? (/debian/.test(template) ? "debian" : /ubuntu/.test(template) ? "ubuntu" : /alpine/.test(template) ? "alpine" : "unmanaged");
                writeFile(p.node, vmid, { conf, pending: {}, pendingDelete: [], rest: "" });
                if (start) {
                    task.log.push(`starting CT ${vmid}`);
                    startContainer(p.node, vmid);
                }
            }, () => {
                // create_vm: on error the disks and the config made for this create go.
                freeVolumes(vmid);
                fs.rmSync(confPath(p.node, vmid), { force: true });
            }),
        };
    }

    // API2/LXC/Config.pm update_vm and LXC/Config.pm update_pct_config (synchronous for a container).
    function updateConfig(p: Record<string, string>): Reply {
        nodeNamed(p.node);
        const vmid = vmidOf(p);
        const params: Record<string, string> = { ...p };
        for (const k of ["node", "vmid", "digest", "delete", "revert"]) delete params[k];
        if (Object.keys(params).length === 0 && p.delete === undefined && p.revert === undefined) fail("no options specified");
        const file = load(p.node, vmid);
        checkLock(file);
        if (p.digest && p.digest !== file.digest) fail("detected modified configuration - file changed by other user? Try again.");
        const del = p.delete !== undefined ? splitList(p.delete) : [];
        const revert = p.revert !== undefined ? splitList(p.revert) : [];
        const errors: Record<string, string> = {};
        for (const opt of revert) {
            if (!propertySchema(confTypes, opt)) errors.revert = `unknown option '${opt}'`;
            else if (params[opt] !== undefined) errors.revert = `you can't use '-${opt}' and '-revert ${opt}' at the same time`;
        }
        for (const opt of del) {
            if (!propertySchema(confTypes, opt)) errors.delete = `unknown option '${opt}'`;
            else if (params[opt] !== undefined) errors.delete = `you can't use '-${opt}' and -delete ${opt}' at the same time`;
            else if (revert.includes(opt)) errors.delete = `you can't use '-delete ${opt}' and '-revert ${opt}' at the same time`;
        }
        if (Object.keys(errors).length) paramFail(errors);
        for (const opt of revert) {
            delete file.pending[opt];
            file.pendingDelete = file.pendingDelete.filter((d) => d !== opt);
        }
        const isRunning = running(p.node, vmid);
        for (const opt of del) {
            // update_pct_config: deleting what is not set is only a warning.
            if (file.conf[opt] === undefined && file.pending[opt] === undefined) continue;
            if (opt === "memory" || opt === "rootfs" || opt === "ostype") fail(`unable to delete required option '${opt}'`);
            if (opt === "unprivileged") fail(`unable to delete read-only option: '${opt}'`);
            delete file.pending[opt];
            if (isRunning && !isHotplugged(opt)) {
                if (!file.pendingDelete.includes(opt)) file.pendingDelete.push(opt);
            } else {
                // vmconfig_hotplug_pending: a NIC of a running container is unplugged (hot-unplug).
                if (isRunning && /^net\d+$/.test(opt) && file.conf[opt] !== undefined) opts.network?.unplug(vmid, opt, file.conf[opt]);
                delete file.conf[opt];
            }
        }
        for (const opt of Object.keys(params).sort()) {
            if (opt === "unprivileged") fail(`unable to modify read-only option: '${opt}'`);
            if ((opt === "rootfs" || /^mp\d+$/.test(opt)) && file.conf.protection === "1") fail(`can't update CT ${vmid} drive '${opt}' - protection mode enabled`);
            let value = params[opt];
            if (/^net\d+$/.test(opt)) value = normalizeNet(value);
            file.pendingDelete = file.pendingDelete.filter((d) => d !== opt);
            if (isRunning && !isHotplugged(opt)) {
                file.pending[opt] = value;
            } else {
                delete file.pending[opt];
                // vmconfig_hotplug_pending → update_net: the live NIC follows as far as it can
                // (update_ipconfig only warns), and netN takes the value asked for either way
                // (src/PVE/LXC/Config.pm sets $conf->{$opt} once update_net returns).
                file.conf[opt] = isRunning && /^net\d+$/.test(opt) && opts.network ? opts.network.hotplug(vmid, opt, file.conf[opt], value) : value;
            }
        }
        writeFile(p.node, vmid, file);
        return { status: 200, data: null };
    }

    // ---- auth (pve-access-control PVE/AccessControl.pm verify_token; pve-http-server AnyEvent.pm) ----
    function tokenOf(req: IncomingMessage): { tokenUser: string; secret: string } | null {
        const m = /^PVEAPIToken=(([^\s!@=]+@[^\s!=]+)!([^\s=]+))=(\S+)$/.exec(req.headers.authorization ?? "");
        return m ? { tokenUser: m[1], secret: m[4] } : null;
    }
    const authProblem = (req: IncomingMessage): string | null => {
        const header = req.headers.authorization;
        if (!header) return "No ticket";
        const t = tokenOf(req);
        if (!t) return `invalid authorization header (expected PVEAPIToken=USER@REALM!TOKENID=UUID): ${header.split("=")[0]}`;
        const known = apiTokens.find((a) => a.startsWith(`${t.tokenUser}=`));
        if (!known) return `no such token '${t.tokenUser.split("!")[1]}' for user '${t.tokenUser.split("!")[0]}'`;
        if (known !== `${t.tokenUser}=${t.secret}`) return "invalid token value!";
        return null;
    };

    const onRequest = async (req: IncomingMessage, res: ServerResponse) => {
        const rawBody = await readBody(req);
        const url = new URL(req.url ?? "/", "https://stand-in");
        const record: PveRecordedRequest = { t: Date.now(), method: req.method ?? "GET", path: `${url.pathname}${url.search}`, route: null, params: {}, status: 0, message: "" };
        requests.push(record);
        const answer = (reply: Reply) => {
            record.status = reply.status;
            record.message = reply.status >= 400 ? (reply.message ?? "") : "OK";
            send(res, reply);
        };
        if (!url.pathname.startsWith("/api2/json/")) {
            violations.push(`${record.method} ${record.path}: not under /api2/json`);
            return answer({ status: 501, message: `Method '${record.method} ${url.pathname}' not implemented` });
        }
        const problem = authProblem(req);
        if (problem) {
            violations.push(`${record.method} ${record.path}: 401 ${problem}`);
            return answer({ status: 401, message: problem });
        }
        const segments = url.pathname.slice("/api2/json/".length).split("/").filter((s) => s !== "").map((s) => decodeURIComponent(s));
        const match = matchRoute(schema.routes, record.method, segments);
        if (!match || match.spec.parameters === null) {
            // pve-http-server RESTHandler: a method the API does not have.
            violations.push(`${record.method} ${record.path}: no such route in the Proxmox VE API description (or not among the routes derived)`);
            return answer({ status: 501, message: `Method '${record.method} /${segments.join("/")}' not implemented` });
        }
        record.route = match.route;
        const params: Record<string, string> = {};
        decodeUrlencoded(url.search.slice(1), params);
        const type = req.headers["content-type"] ?? "";
        if (rawBody !== "") {
            if (/^application\/x-www-form-urlencoded/.test(type)) decodeUrlencoded(rawBody, params);
            else if (/^application\/json/.test(type)) for (const [k, v] of Object.entries(JSON.parse(rawBody) as Record<string, unknown>)) params[k] = String(v);
            else violations.push(`${record.method} ${record.path}: body with Content-Type '${type}'`);
        }
        Object.assign(params, match.params);
        record.params = params;
        const errors = checkParameters(match.spec.parameters, params);
        if (Object.keys(errors).length) {
            violations.push(`${record.method} ${match.route}: ${Object.entries(errors).map(([k, v]) => `${k}: ${v}`).join("; ")}`);
            return answer({ status: 400, message: "Parameter verification failed.", errors });
        }
        const handler = handlers[`${record.method} ${match.route}`];
        if (!handler) {
            violations.push(`${record.method} ${match.route}: in the API, not modeled by the stand-in`);
            return answer({ status: 501, message: `stand-in: ${record.method} ${match.route} is not modeled` });
        }
        try {
            answer(handler(params, req));
        } catch (err) {
            if (err instanceof ApiError) return answer({ status: err.status, message: err.message, errors: err.errors });
            throw err;
        }
    };

    const server = https.createServer({ key, cert }, (req, res) => {
        onRequest(req, res).catch((error: unknown) => {
            violations.push(`stand-in failure: ${error instanceof Error ? error.stack : String(error)}`);
            if (!res.headersSent) send(res, { status: 500, message: "stand-in failure" });
        });
    });
    await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        if (socketPath !== undefined) server.listen(socketPath, () => resolve());
        else server.listen(listen && "port" in listen ? listen.port : 0, host, () => resolve());
    });
    const address = server.address();
    const port = address !== null && typeof address === "object" ? address.port : 0;
    const url = socketPath !== undefined ? `unix:${socketPath}` : `https://${net.isIPv6(host) ? `[${host}]` : host}:${port}/`;

    const addNode = (name: string, seed: NodeSeed = {}) => {
        const storages = new Map<string, StorageState>();
        for (const s of seed.storages ?? DEFAULT_STORAGES) storages.set(s.id, { ...s, content: [...s.content], volumes: new Map() });
        const state: NodeState = { name, storages, dir: "" };
        nodes.set(name, state);
        state.dir = nodeDir(name);
        fs.mkdirSync(state.dir, { recursive: true });
        for (const t of seed.templates ?? []) addTemplate(name, t);
    };
    const addTemplate = (node: string, volid: string) => {
        const n = nodes.get(node);
        if (!n) throw new Error(`proxmoxStandIn: no node ${node}`);
        const s = n.storages.get(volid.split(":")[0]);
        if (!s) throw new Error(`proxmoxStandIn: node ${node} has no storage for ${volid}`);
        s.volumes.set(volid, { content: "vztmpl", size: 120 * 1024 * 1024 });
    };
    const whereIs = (vmid: number) => nodeOf(vmid);

    return {
        url,
        port,
        caPem: cert,
        caFile: certFile,
        apiToken: apiTokens[0],
        pveRoot,
        requests,
        violations,
        calls: () => requests.filter((r) => r.status !== 0).map((r) => `${r.method} ${r.route ?? r.path}`),
        addNode,
        addTemplate,
        seedContainer(node, vmid, config, seedOpts) {
            if (!nodes.has(node)) throw new Error(`proxmoxStandIn: no node ${node}`);
            const conf: Record<string, string> = {};
            for (const [k, v] of Object.entries(config)) conf[k] = /^net\d+$/.test(k) ? normalizeNet(v) : v;
            writeFile(node, vmid, { conf, pending: {}, pendingDelete: [], rest: "" });
            setRunning(node, vmid, seedOpts?.running === true);
        },
        containerConfig(vmid) {
            const node = whereIs(vmid);
            return node === undefined ? undefined : readFile(node, vmid)?.conf;
        },
        pendingConfig(vmid) {
            const node = whereIs(vmid);
            return node === undefined ? undefined : readFile(node, vmid)?.pending;
        },
        containerConfigText(vmid) {
            const node = whereIs(vmid);
            return node === undefined ? undefined : fs.readFileSync(confPath(node, vmid), "utf8");
        },
        isRunning(vmid) {
            const node = whereIs(vmid);
            return node !== undefined && running(node, vmid);
        },
        tasks: () => tasks.map(({ upid, node, type, id, user: u, status, exitstatus, log }) => ({ upid, node, type, id, user: u, status, exitstatus, log: [...log] })),
        holdTasks() {
            held = true;
            return () => {
                held = false;
                for (const finish of heldTasks.splice(0)) finish();
            };
        },
        failNextTask(type, message) {
            taskFailures.set(type, message);
        },
        async close() {
            for (const timer of timers) clearTimeout(timer);
            server.closeAllConnections();
            await new Promise<void>((resolve) => server.close(() => resolve()));
            // An own root lives in dir; a shared one is the caller's.
            fs.rmSync(dir, { recursive: true, force: true });
        },
    };
}
