// Loading a stack's configuration as the Pulumi CLI would hand it to the program: the stack file's
// values over Pulumi.yaml's defaults, structured values as JSON, secure values never decrypted.
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { keyPath as validateKeyPath } from "../../components/shared/validate";
import { readFlagFile } from "../inputFiles";
import { ConfigDeclaration, ConfigValue, readDeclarations, StackConfig } from "./projectConfig";

export type { ConfigValue, StackConfig };

/**
 * What a secure value becomes in the offline plan, which never decrypts one. A plain word that
 * passes the checks a secret must pass (a CARP password's characters and length), so that the
 * plan goes on; the program still marks it secret, and the plan prints it as [secret].
 */
export const SECRET_PLACEHOLDER = "offline";

export interface ProjectFile {
    name: string;
    main: string;
    stackConfigDir: string;
    /** The `config:` block's keys of the project's namespace, by namespaced key. */
    declared: Map<string, ConfigDeclaration>;
}

/** YAML text, or an error that names the file: the parser's own message names only a line. */
export function parseYaml(text: string, origin: string): unknown {
    try {
        return YAML.parse(text);
    } catch (err) {
        if (!(err instanceof YAML.YAMLError)) throw err;
        throw new Error(`${origin}: not valid YAML: ${err.message.trim()}`, { cause: err });
    }
}

export function loadProject(dir: string, text?: string): ProjectFile {
    // Pulumi takes either spelling, and names stack files after it (pulumi/pulumi
    // sdk/go/common/workspace/paths.go, encoding.Exts).
    const yml = path.join(dir, "Pulumi.yml");
    const file = text === undefined && !fs.existsSync(path.join(dir, "Pulumi.yaml")) && fs.existsSync(yml) ? yml : path.join(dir, "Pulumi.yaml");
    const doc = parseYaml(text ?? fs.readFileSync(file, "utf8"), file) as Record<string, unknown>;
    if (typeof doc?.name !== "string") throw new Error(`${file}: no project name`);
    return {
        name: doc.name,
        main: typeof doc.main === "string" ? doc.main : ".",
        stackConfigDir: typeof doc.stackConfigDir === "string" ? doc.stackConfigDir : ".",
        declared: readDeclarations(doc.name, (doc.config ?? {}) as Record<string, unknown>),
    };
}

/**
 * The file Pulumi's Node.js runtime runs for a project's main (@pulumi/pulumi cmd/run/run.ts): a
 * file as given; a folder (the project's own without a main) by its package.json main, else its
 * index.js or index.ts.
 */
export function programEntry(dir: string, main: string): string {
    const base = path.resolve(dir, main);
    if (fs.existsSync(base) && fs.statSync(base).isFile()) return base;
    const manifest = path.join(base, "package.json");
    if (fs.existsSync(manifest)) {
        const declared = (JSON.parse(fs.readFileSync(manifest, "utf8")) as { main?: unknown }).main;
        if (typeof declared === "string") {
            const file = path.resolve(base, declared);
            for (const f of [file, `${file}.js`, `${file}.ts`, path.join(file, "index.js"), path.join(file, "index.ts")]) {
                if (fs.existsSync(f) && fs.statSync(f).isFile()) return f;
            }
        }
    }
    for (const f of ["index.js", "index.ts"]) if (fs.existsSync(path.join(base, f))) return path.join(base, f);
    return base;
}

export function stackFilePath(dir: string, project: ProjectFile, stack: string): string {
    const yaml = path.join(dir, project.stackConfigDir, `Pulumi.${stack}.yaml`);
    const yml = path.join(dir, project.stackConfigDir, `Pulumi.${stack}.yml`);
    return !fs.existsSync(yaml) && fs.existsSync(yml) ? yml : yaml;
}

/** Replaces every `secure:` leaf by the placeholder; reports whether there was one. */
function maskSecure(value: unknown): { value: unknown; secret: boolean } {
    if (typeof value !== "object" || value === null) return { value, secret: false };
    if (!Array.isArray(value) && Object.keys(value).length === 1 && "secure" in value) {
        return { value: SECRET_PLACEHOLDER, secret: true };
    }
    let secret = false;
    const walk = (v: unknown): unknown => {
        const r = maskSecure(v);
        secret ||= r.secret;
        return r.value;
    };
    const out = Array.isArray(value) ? value.map(walk) : Object.fromEntries(Object.entries(value).map(([k, v]) => [k, walk(v)]));
    return { value: out, secret };
}

function isStructured(value: unknown): boolean {
    return typeof value === "object" && value !== null;
}

/**
 * A value as the CLI hands it to a program: a string as it is, anything else as compact JSON as Go
 * writes it. The CLI holds a structured value as a Go map and writes it with encoding/json
 * (pulumi/pulumi sdk/go/common/resource/config/value.go, Value, and plaintext.go, marshalText),
 * which sorts an object's keys as strings and escapes <, > and & (so "10" comes before "9", and
 * the stack file's order of keys does not reach the program).
 */
export function toText(value: unknown): string {
    return typeof value === "string" ? value : goJson(value);
}

/** JSON as Go's encoding/json writes a map[string]interface{}: keys sorted as strings, HTML escaped. */
export function goJson(value: unknown): string {
    if (Array.isArray(value)) return `[${value.map(goJson).join(",")}]`;
    if (typeof value === "object" && value !== null) {
        const keys = Object.keys(value).filter((k) => (value as Record<string, unknown>)[k] !== undefined).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
        return `{${keys.map((k) => `${goString(k)}:${goJson((value as Record<string, unknown>)[k])}`).join(",")}}`;
    }
    return typeof value === "string" ? goString(value) : JSON.stringify(value);
}

function goString(text: string): string {
    return JSON.stringify(text).replace(/</g, "\\u003c").replace(/>/g, "\\u003e").replace(/&/g, "\\u0026").replace(/\u2028/g, "\\u2028").replace(/\u2029/g, "\\u2029");
}

/** Parses stack file text into the config the program sees; `origin` names the file in messages. */
export function parseStackFile(project: ProjectFile, text: string, origin: string): StackConfig {
    const doc = (parseYaml(text, origin) ?? {}) as { config?: Record<string, unknown> };
    const config: StackConfig = new Map();
    for (const [key, d] of project.declared) {
        if (d.hasDefault) config.set(key, { text: toText(d.default), secret: false, structured: isStructured(d.default), fromStack: false });
    }
    for (const [key, raw] of Object.entries(doc.config ?? {})) {
        // A bare key is the project's (pulumi/pulumi pkg/workspace/config.go, parseConfigKey).
        const full = key.includes(":") ? key : `${project.name}:${key}`;
        if (config.has(full) && config.get(full)!.fromStack) throw new Error(`${origin}: config key ${full} is set twice`);
        const { value, secret } = maskSecure(raw);
        config.set(full, { text: toText(value), secret, structured: isStructured(value), fromStack: true });
    }
    return config;
}

/** The config of the file given with --stack-file; a file that cannot be read is named with the flag, never by its errno alone. */
export function loadFlagStackFile(project: ProjectFile, file: string): StackConfig {
    const text = readFlagFile("--stack-file", file, "give the path of a Pulumi.<stack>.yaml file", (f) => fs.readFileSync(f, "utf8"));
    return parseStackFile(project, text, file);
}

export function loadStackConfig(dir: string, project: ProjectFile, stack: string): StackConfig {
    const file = stackFilePath(dir, project, stack);
    if (!fs.existsSync(file)) {
        // `plan stacks/Pulumi.x.yaml`: a file where the stack's name goes.
        if (/\.ya?ml$/i.test(stack)) {
            const name = /^Pulumi\.(.+)\.ya?ml$/i.exec(path.basename(stack))?.[1];
            throw new Error(`${stack} is a file: give the stack's name${name ? ` (${name})` : ""}, whose file is found in ${project.stackConfigDir === "." ? "the project's folder" : `${project.stackConfigDir}/`}; a stack file elsewhere goes after the name, with --stack-file <file>`);
        }
        const available = listStacks(dir, project);
        throw new Error(`no stack file ${path.relative(dir, file)}; stacks here: ${available.join(", ") || "none"}`);
    }
    return parseStackFile(project, fs.readFileSync(file, "utf8"), file);
}

export function listStacks(dir: string, project: ProjectFile): string[] {
    const folder = path.join(dir, project.stackConfigDir);
    if (!fs.existsSync(folder)) return [];
    return fs.readdirSync(folder)
        .map((f) => /^Pulumi\.(.+)\.ya?ml$/.exec(f)?.[1])
        .filter((s): s is string => s !== undefined)
        .sort();
}

type PathSegment = string | number;

/** Splits a `pulumi config set --path` key: endpoints.proxy.ip, a[0].b, records["example.org"].a */
export function parseConfigPath(key: string): PathSegment[] {
    const segments: PathSegment[] = [];
    const re = /\.?([^.[\]]+)|\[(\d+)\]|\["([^"]*)"\]/gy;
    let m: RegExpExecArray | null;
    let at = 0;
    while (at < key.length && (m = re.exec(key)) !== null) {
        if (m[1] !== undefined) segments.push(m[1]);
        else if (m[2] !== undefined) segments.push(Number(m[2]));
        else segments.push(m[3]);
        at = re.lastIndex;
    }
    if (at !== key.length || segments.length === 0) {
        throw new Error(`--set ${key}: not a config path (write it as pulumi config set --path does, e.g. endpoints.proxy.ip or endpoints.proxy.records["example.org"].a[0])`);
    }
    return segments;
}

/** `…records.example.org.a[0]`, written again with the zone whole (`…records["example.org"].a[0]`), if the path is that. */
function splitZoneSegments(segments: PathSegment[]): string | undefined {
    const at = segments.indexOf("records");
    const end = segments.findIndex((s, i) => i > at && (s === "a" || s === "cname"));
    if (at < 1 || end - at < 3 || segments.slice(at + 1, end).some((s) => typeof s !== "string")) return undefined;
    const zone = segments.slice(at + 1, end).join(".");
    const [first, ...before] = segments.slice(0, at + 1);
    return validateKeyPath(String(first), ...before, zone, ...segments.slice(end));
}

/** Applies `key=value` (key in --path syntax, namespace optional) to a copy of the config. */
/** Provider config keys that hold credentials (the ovh and proxmoxve providers' schemas). */
const PROVIDER_SECRETS: Record<string, string[]> = { ovh: ["applicationKey", "applicationSecret", "consumerKey", "clientSecret", "accessToken"], proxmoxve: ["password", "apiToken", "authTicket", "csrfPreventionToken"] };

/**
 * A --set assignment as headers and messages show it: the value of a secret (a secure value in the
 * stack file, a key the program reads as a secret, a provider's credential) as [secret], since
 * stdout and stderr end up in CI logs and pull-request comments.
 */
export function shownAssignment(project: ProjectFile, config: StackConfig, assignment: string, secretKeys: readonly string[]): string {
    const eq = assignment.indexOf("=");
    if (eq <= 0) return assignment;
    const rawKey = assignment.slice(0, eq);
    const [namespace, keyPath] = /^[^.[]+:/.test(rawKey) ? [rawKey.slice(0, rawKey.indexOf(":")), rawKey.slice(rawKey.indexOf(":") + 1)] : [project.name, rawKey];
    const top = /^[^.[]*/.exec(keyPath)?.[0] ?? "";
    const secret = config.get(`${namespace}:${top}`)?.secret === true || (namespace === project.name && secretKeys.includes(top)) || (PROVIDER_SECRETS[namespace] ?? []).includes(top);
    return secret ? `${rawKey}=[secret]` : assignment;
}

export function applySet(project: ProjectFile, config: StackConfig, assignment: string): StackConfig {
    const eq = assignment.indexOf("=");
    if (eq <= 0) throw new Error(`--set ${assignment}: expected <key>=<value>`);
    const rawKey = assignment.slice(0, eq);
    const value = assignment.slice(eq + 1);
    const [namespace, keyPath] = /^[^.[]+:/.test(rawKey) ? [rawKey.slice(0, rawKey.indexOf(":")), rawKey.slice(rawKey.indexOf(":") + 1)] : [project.name, rawKey];
    const segments = parseConfigPath(keyPath);
    const [top, ...rest] = segments;
    if (typeof top !== "string") throw new Error(`--set ${assignment}: a config key cannot start with an index`);
    const zone = splitZoneSegments(segments);
    if (zone) throw new Error(`--set ${assignment}: a zone name holds dots, which a --path key splits; write ${zone}=${value} (as pulumi config set --path takes it)`);
    const fullKey = `${namespace}:${top}`;
    const next = new Map(config);
    if (rest.length === 0) {
        next.set(fullKey, { text: value, secret: false, structured: false, fromStack: true });
        return next;
    }
    const current = config.get(fullKey);
    let root: unknown = current ? JSON.parse(current.text) : typeof rest[0] === "number" ? [] : {};
    root = setIn(root, rest, value, assignment);
    next.set(fullKey, { text: toText(root), secret: current?.secret ?? false, structured: true, fromStack: true });
    return next;
}

function setIn(node: unknown, segments: PathSegment[], value: string, assignment: string): unknown {
    const [head, ...rest] = segments;
    const container = node ?? (typeof head === "number" ? [] : {});
    if (typeof container !== "object" || (typeof head === "number") !== Array.isArray(container)) {
        throw new Error(`--set ${assignment}: ${String(head)} does not match the shape of the existing value`);
    }
    const next = (current: unknown) => (rest.length === 0 ? value : setIn(current, rest, value, assignment));
    if (Array.isArray(container)) {
        const copy: unknown[] = [...container];
        copy[head as number] = next(copy[head as number]);
        return copy;
    }
    const copy: Record<string, unknown> = { ...(container as Record<string, unknown>) };
    copy[head as string] = next(copy[head as string]);
    return copy;
}

/**
 * The config as `pulumi preview --json` lists it (the engine's prelude): every key's value as
 * text, a structured one as Go writes it (goJson), and each secret, whole or nested, as "[secret]".
 */
export function previewConfig(config: StackConfig): Record<string, string> {
    const blind = (value: unknown): unknown => {
        if (value === SECRET_PLACEHOLDER) return "[secret]";
        if (Array.isArray(value)) return value.map(blind);
        if (typeof value === "object" && value !== null) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, blind(v)]));
        return value;
    };
    const out: Record<string, string> = {};
    for (const key of [...config.keys()].sort()) {
        const v = config.get(key)!;
        out[key] = v.structured ? goJson(blind(JSON.parse(v.text))) : v.secret ? "[secret]" : v.text;
    }
    return out;
}

/** The environment Pulumi gives a program: PULUMI_CONFIG and PULUMI_CONFIG_SECRET_KEYS. */
export function configEnvironment(config: StackConfig): { PULUMI_CONFIG: string; PULUMI_CONFIG_SECRET_KEYS: string } {
    const values: Record<string, string> = {};
    const secrets: string[] = [];
    for (const [key, v] of config) {
        values[key] = v.text;
        if (v.secret) secrets.push(key);
    }
    return { PULUMI_CONFIG: JSON.stringify(values), PULUMI_CONFIG_SECRET_KEYS: JSON.stringify(secrets) };
}
