// The Pulumi CLI's checks of a stack's config against the `config:` block of Pulumi.yaml, with the
// CLI's own wording, so that a stack the plan accepts is one `pulumi preview` accepts too.
//
// Upstream: pulumi/pulumi pkg/workspace/config.go (mergeConfig, missingStackConfigurationKeysError,
// validateStackConfigValues, validateStackConfigValue; sdk/go/common/workspace/config.go before
// v3.254) and sdk/go/common/workspace/project.go (ValidateConfigValue, InferFullTypeName,
// Project.Validate). The rules, as read there:
// - every key of the project's namespace declared without `default` or `value` and absent from the
//   stack is missing; all missing keys are reported in one error, sorted, and nothing else is
//   checked then;
// - then, key by key in sorted order, the first failure only: a key declared `secret: true` whose
//   stack value is not `secure:`, then a value not of the declared type; both only for keys with
//   an explicit `type:`;
// - a top-level scalar reaches the type check as a string (`port: 300` is "300"); lists and
//   objects are JSON-decoded, so their elements keep their JSON types;
// - keys of the project's namespace that are set but not declared are allowed, silently;
// - the CLI prefixes the message with "validating stack config: ".
export interface ConfigValue {
    /** The value as the program sees it: a string, or JSON text for structured values. */
    text: string;
    /** A `secure:` value, or a list or object holding one. */
    secret: boolean;
    /** A list or an object (JSON text), not a scalar. */
    structured: boolean;
    /** Set in the stack (or by --set), not a default of Pulumi.yaml. */
    fromStack: boolean;
}

/** A stack's config as the program sees it, keyed by namespaced key, e.g. "ovh-failover:endpoints". */
export type StackConfig = Map<string, ConfigValue>;


export type ConfigTypeName = "string" | "integer" | "boolean" | "array" | "object";

export interface ItemsType {
    type: ConfigTypeName;
    items?: ItemsType;
}

/** One key of Pulumi.yaml's `config:` block. */
export interface ConfigDeclaration {
    /** The key as written in Pulumi.yaml (bare or `project:key`): the CLI names it so. */
    key: string;
    type?: ConfigTypeName;
    items?: ItemsType;
    secret: boolean;
    hasDefault: boolean;
    default?: unknown;
}

const TYPE_NAMES: ConfigTypeName[] = ["string", "integer", "boolean", "array", "object"];

/** The `array<...>` spelling the CLI's messages use (InferFullTypeName). */
export function fullTypeName(type: ConfigTypeName, items?: ItemsType): string {
    return items ? `${type}<${fullTypeName(items.type, items.items)}>` : type;
}

/** ValidateConfigValue: whether a decoded value fits a declared type. */
export function fitsType(type: ConfigTypeName, items: ItemsType | undefined, value: unknown): boolean {
    switch (type) {
        case "string":
            return typeof value === "string";
        case "integer":
            if (typeof value === "number") return Number.isInteger(value);
            // strconv.Atoi: an optional sign, then decimal digits, nothing else.
            return typeof value === "string" && /^[+-]?\d+$/.test(value) && Number.isSafeInteger(Number(value));
        case "boolean":
            return typeof value === "boolean" || value === "true" || value === "false";
        case "object":
            return typeof value === "object" && value !== null && !Array.isArray(value);
        case "array":
            return Array.isArray(value) && items !== undefined && value.every((v) => fitsType(items.type, items.items, v));
    }
}

function parseItems(key: string, raw: unknown): ItemsType | undefined {
    if (typeof raw !== "object" || raw === null) return undefined;
    const r = raw as { type?: unknown; items?: unknown };
    if (!TYPE_NAMES.includes(r.type as ConfigTypeName)) throw new Error(`Pulumi.yaml: config key '${key}': items.type must be one of ${TYPE_NAMES.join(", ")}`);
    return { type: r.type as ConfigTypeName, items: parseItems(key, r.items) };
}

/**
 * Reads the `config:` block, with the project-file errors Project.Validate reports. Keys of
 * other namespaces (provider settings such as `ovh:endpoint` with a `value`) are not the stack's
 * to declare, and are left out.
 */
export function readDeclarations(projectName: string, block: Record<string, unknown>): Map<string, ConfigDeclaration> {
    const declared = new Map<string, ConfigDeclaration>();
    for (const [key, raw] of Object.entries(block)) {
        if (key.includes(":") && !key.startsWith(`${projectName}:`)) continue;
        const full = key.includes(":") ? key : `${projectName}:${key}`;
        // Shorthand `key: value` is a default (RewriteShorthandConfigValues).
        if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
            declared.set(full, { key, secret: false, hasDefault: true, default: raw });
            continue;
        }
        const d = raw as { type?: unknown; items?: unknown; secret?: unknown; default?: unknown; value?: unknown };
        if ("default" in d && "value" in d) throw new Error(`project config '${key}' cannot have both a 'default' and 'value' attribute`);
        if (d.type !== undefined && !TYPE_NAMES.includes(d.type as ConfigTypeName)) {
            throw new Error(`Pulumi.yaml: config key '${key}': type must be one of ${TYPE_NAMES.join(", ")}`);
        }
        const type = d.type as ConfigTypeName | undefined;
        const items = parseItems(key, d.items);
        if (type === "array" && items === undefined) {
            throw new Error(`The configuration key '${key}' declares an array but does not specify the underlying type via the 'items' attribute`);
        }
        // The CLI tests Default != nil: `default: null` is no default.
        const hasDefault = (d.default !== undefined && d.default !== null) || (d.value !== undefined && d.value !== null);
        const fallback = "default" in d ? d.default : d.value;
        if (type !== undefined && hasDefault && !fitsType(type, items, fallback)) {
            throw new Error(`The default value specified for configuration key '${key}' is not of the expected type '${fullTypeName(type, items)}'`);
        }
        declared.set(full, { key, type, items, secret: d.secret === true, hasDefault, default: fallback });
    }
    return declared;
}

/** "'a'", "'a' and 'b'", "'a', 'b' and 'c'" (formatMissingKeys: sorted, no Oxford comma). */
function formatMissingKeys(keys: string[]): string {
    const sorted = [...keys].sort();
    if (sorted.length === 1) return `'${sorted[0]}'`;
    return `${sorted.slice(0, -1).map((k) => `'${k}'`).join(", ")} and '${sorted[sorted.length - 1]}'`;
}

/**
 * The CLI's verdict on a stack's config, or undefined when `pulumi preview` would accept it.
 * What it cannot know offline: the type of a secure value (it is never decrypted here).
 */
export function validateStackConfig(stack: string, declared: Map<string, ConfigDeclaration>, config: StackConfig): string | undefined {
    const missing = [...declared]
        .filter(([full, d]) => !d.hasDefault && config.get(full)?.fromStack !== true)
        .map(([, d]) => d.key);
    if (missing.length > 0) {
        return `Stack '${stack}' is missing configuration ${missing.length > 1 ? "values" : "value"} ${formatMissingKeys(missing)}`;
    }
    const typed = [...declared].filter(([, d]) => d.type !== undefined).sort(([, a], [, b]) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    for (const [full, d] of typed) {
        const value = config.get(full);
        if (value === undefined || !value.fromStack) continue;
        if (d.secret && !value.secret) return `Stack '${stack}' with configuration key '${d.key}' must be encrypted as it's secret`;
        if (value.secret) continue;
        const content: unknown = value.structured ? JSON.parse(value.text) : value.text;
        if (!fitsType(d.type!, d.items, content)) {
            return `Stack '${stack}' with configuration key '${d.key}' must be of type '${fullTypeName(d.type!, d.items)}'`;
        }
    }
    return undefined;
}
