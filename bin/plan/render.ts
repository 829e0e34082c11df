// Printing a plan: text as `pulumi preview` prints it on a terminal (and with --diff as
// `pulumi preview --diff` does), or JSON in the shape of `pulumi preview --json`.
import { createHash } from "crypto";
import * as YAML from "yaml";
import { inTreeOrder } from "./layout";
import { checkedInputs, ruleFor } from "./providerRules";
import { ChangeSummary, DeclaredResource, InvokeRecord, ReplacementOp, SERIALIZED_PROVIDER, SIG, Step, StepOp, UNKNOWN_TEXT } from "./model";

export interface Style {
    color: boolean;
    /** List a replacement as its steps, in the engine's order (pulumi preview --show-replacement-steps). */
    showReplacementSteps?: boolean;
    /** Each resource's properties, as `pulumi preview --diff` prints them. */
    diff?: boolean;
    /** With diff, the plan's own notes print each long text in full (else folded to one line). */
    full?: boolean;
}

type DisplayOp = StepOp | ReplacementOp;

// The engine's symbols: pulumi/pulumi pkg/resource/deploy/step.go (RawPrefix).
const SYMBOL: Record<DisplayOp, string> = {
    same: " ", create: "+", update: "~", replace: "+-", delete: "-", "create-replacement": "++", "delete-replaced": "--", import: "=",
};
const COLOR: Record<DisplayOp, string> = {
    same: "", create: "\x1b[32m", update: "\x1b[33m", replace: "\x1b[35m", delete: "\x1b[31m",
    "create-replacement": "\x1b[32m", "delete-replaced": "\x1b[31m", import: "\x1b[36m",
};

/** One line of the listing: a step, or one of a replacement's steps. */
interface DisplayStep {
    op: DisplayOp;
    step: Step;
}

/** The replace steps that depend, directly or not, on this one, deepest first. */
function replacedDependents(step: Step, steps: Step[]): Step[] {
    const found: Step[] = [];
    const visit = (urn: string) => {
        for (const s of steps) {
            if (s.op === "replace" && !found.includes(s) && s !== step && (s.old?.dependencies.includes(urn) || s.new?.dependencies.includes(urn))) {
                found.push(s);
                visit(s.urn);
            }
        }
    };
    visit(step.urn);
    return found.reverse();
}

/**
 * A replacement as the engine runs it (pulumi/pulumi pkg/resource/deploy/step_generator.go), in
 * the order resources register: create-before-delete is create-replacement and replace in place,
 * and delete-replaced after every create and update; delete-before-replace is delete-replaced,
 * replace, create-replacement, and the replaced resources that depend on it are deleted before it
 * (calculateDependentReplacements).
 */
export function engineOrder(steps: Step[], expand: boolean): DisplayStep[] {
    const inPlace: DisplayStep[] = [];
    const atEnd: DisplayStep[] = [];
    const deletedEarly = new Set<Step>();
    for (const step of steps) {
        if (step.op !== "replace" || !expand) {
            (step.op === "delete" ? atEnd : inPlace).push({ op: step.op, step });
        } else if (step.replacementOrder === "delete-before-replace") {
            for (const d of replacedDependents(step, steps).filter((s) => !deletedEarly.has(s))) {
                inPlace.push({ op: "delete-replaced", step: d });
                deletedEarly.add(d);
            }
            if (!deletedEarly.has(step)) inPlace.push({ op: "delete-replaced", step });
            deletedEarly.add(step);
            inPlace.push({ op: "replace", step }, { op: "create-replacement", step });
        } else {
            inPlace.push({ op: "create-replacement", step }, { op: "replace", step });
            if (!deletedEarly.has(step)) atEnd.unshift({ op: "delete-replaced", step });
        }
    }
    // A create-before-delete step seen before the delete-first one that deletes it early.
    return [...inPlace, ...atEnd.filter((d) => d.op !== "delete-replaced" || !inPlace.some((p) => p.step === d.step && p.op === "delete-replaced"))];
}
/** Secrets travel as [secret#<keyed hash>] so that a change shows; they print as [secret]. */
export function maskSecretTokens(text: string): string {
    return text.replace(/\[secret#[0-9a-f]+\]/g, "[secret]");
}

// ---------------------------------------------------------------------------------------------
// The text: what `pulumi preview` prints on a terminal, the tree of resources with their op and
// Plan column (pulumi/pulumi pkg/backend/display: progress.go and tree.go, rows.go), and with
// --diff what `pulumi preview --diff` prints, each resource's properties (diff.go, object_diff.go),
// then the summary counted as the engine counts it. What only the plan knows goes after the table
// or the properties, under "Offline plan:", never inside them.

const RESET = "\x1b[0m";
const BOLD = "\x1b[1m";

/** The engine's two-character prefix of an op (pkg/resource/deploy/step.go, RawPrefix). */
function rawPrefix(op: DisplayOp): string {
    return SYMBOL[op].padEnd(2);
}

/** The type as the display shows it: the module cut to its last part when it names the type (tokens.Type.DisplayName). */
export function displayTypeName(type: string): string {
    const parts = type.split(":");
    if (parts.length !== 3 || parts[2] === "") return type;
    const [pkg, module, name] = parts;
    const slash = module.lastIndexOf("/");
    if (slash === -1) return type;
    if (module.slice(slash + 1) !== name.charAt(0).toLowerCase() + name.slice(1)) return type;
    return `${pkg}:${module.slice(0, slash)}:${name}`;
}

function urnName(urn: string): string {
    return urn.split("::").pop() ?? urn;
}

// Values as the engine has them: previewValue's, where a secret is "[secret]", an unknown the
// engine's sentinel and a file asset its signature object.
const isSecretValue = (v: unknown): boolean => v === "[secret]";
const isUnknownValue = (v: unknown): boolean => v === SIG.unknownValue;
const isAssetValue = (v: unknown): v is Record<string, unknown> =>
    typeof v === "object" && v !== null && !Array.isArray(v) && (v as Record<string, unknown>)[SIG.key] === SIG.asset;
const isObjectValue = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v) && !isAssetValue(v);
const isPlainString = (v: unknown): v is string => typeof v === "string" && !isSecretValue(v) && !isUnknownValue(v);
const isPrimitiveValue = (v: unknown): boolean => v === null || v === undefined || typeof v === "string" || typeof v === "number" || typeof v === "boolean";
/** resource.IsInternalPropertyKey: __defaults, __provider, … are counted in the alignment, never printed. */
const isInternalKey = (k: string): boolean => k.startsWith("__");
const byteOrder = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

function sameValue(a: unknown, b: unknown): boolean {
    if (a === b || (a == null && b == null)) return true;
    if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => sameValue(x, b[i]));
    if (typeof a === "object" && typeof b === "object" && a !== null && b !== null && !Array.isArray(a) && !Array.isArray(b)) {
        const ka = Object.keys(a).filter((k) => (a as Record<string, unknown>)[k] != null);
        const kb = Object.keys(b).filter((k) => (b as Record<string, unknown>)[k] != null);
        return ka.length === kb.length && ka.every((k) => sameValue((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
    }
    return false;
}

/** Go's %q of a string (strconv.Quote): escapes, and \x, \u for what is not printable. */
export function goQuote(s: string): string {
    const named: Record<string, string> = { '"': '\\"', "\\": "\\\\", "\x07": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\v": "\\v" };
    let out = '"';
    for (const ch of s) {
        const cp = ch.codePointAt(0) ?? 0;
        if (named[ch] !== undefined) out += named[ch];
        else if (ch === " " || /[\p{L}\p{M}\p{N}\p{P}\p{S}]/u.test(ch)) out += ch;
        else if (cp < 0x20 || cp === 0x7f) out += `\\x${cp.toString(16).padStart(2, "0")}`;
        else if (cp < 0x10000) out += `\\u${cp.toString(16).padStart(4, "0")}`;
        else out += `\\U${cp.toString(16).padStart(8, "0")}`;
    }
    return `${out}"`;
}

/** The CLI's cut of a long value (propertyPrinter.truncatePropertyString): 3 lines, 150 bytes a line. */
export function truncateProperty(text: string): string {
    const lines = text.split("\n");
    let truncated = lines.length > 3;
    const shown = Math.min(lines.length, 3);
    for (let i = 0; i < shown; i++) {
        if (Buffer.byteLength(lines[i]) > 150) {
            lines[i] = `${Buffer.from(lines[i]).subarray(0, 150).toString()}...`;
            truncated = true;
        }
    }
    if (!truncated) return text;
    if (lines.length <= 3) return lines.join("\n");
    return `${lines.slice(0, shown).join("\n")}\n...`;
}

/**
 * A string the display shows as the structure it encodes (propertyPrinter.decodeValue): a JSON
 * object or array, or, for a string of several lines, a YAML one.
 */
function decodeValue(repr: string): { value: unknown; kind: "json" | "yaml" } | undefined {
    const text = repr.trim();
    let json: unknown;
    let parsed = false;
    try {
        json = JSON.parse(text);
        parsed = true;
    } catch {
        // Not JSON: maybe YAML.
    }
    if (parsed) return typeof json === "object" && json !== null ? { value: json, kind: "json" } : undefined;
    if (!/[\r\n]/.test(text)) return undefined;
    try {
        const docs = YAML.parseAllDocuments(text);
        if (!Array.isArray(docs) || docs.length !== 1 || docs[0].errors.length > 0) return undefined;
        const value: unknown = docs[0].toJS();
        return typeof value === "object" && value !== null ? { value, kind: "yaml" } : undefined;
    } catch {
        return undefined;
    }
}

/** shouldPrintPropertyValue: nulls, empty strings, lists and objects clutter a diff. */
function worthPrinting(v: unknown): boolean {
    if (v === null || v === undefined || v === "") return false;
    if (Array.isArray(v)) return v.length > 0;
    if (isObjectValue(v)) return Object.keys(v).length > 0;
    return true;
}

// The engine's structured diff (sdk/go/common/resource/properties_diff.go).
interface ObjectDiff {
    adds: Map<string, unknown>;
    deletes: Map<string, unknown>;
    sames: Map<string, unknown>;
    updates: Map<string, ValueDiff>;
}
interface ArrayDiff {
    adds: Map<number, unknown>;
    deletes: Map<number, unknown>;
    sames: Map<number, unknown>;
    updates: Map<number, ValueDiff>;
}
interface ValueDiff {
    old: unknown;
    new: unknown;
    array?: ArrayDiff;
    object?: ObjectDiff;
}

function objectDiff(olds: Record<string, unknown>, news: Record<string, unknown>, ignoreInternal = false): ObjectDiff | undefined {
    const d: ObjectDiff = { adds: new Map(), deletes: new Map(), sames: new Map(), updates: new Map() };
    for (const [k, o] of Object.entries(olds)) {
        if (ignoreInternal && isInternalKey(k)) continue;
        if (Object.hasOwn(news, k)) {
            const n = news[k];
            const vd = valueDiff(o, n, ignoreInternal);
            if (!vd) d.sames.set(k, o);
            else if (o == null) d.adds.set(k, n);
            else if (n == null) d.deletes.set(k, o);
            else d.updates.set(k, vd);
        } else if (o != null) {
            d.deletes.set(k, o);
        }
    }
    for (const [k, n] of Object.entries(news)) {
        if (ignoreInternal && isInternalKey(k)) continue;
        if (!Object.hasOwn(olds, k) && n != null) d.adds.set(k, n);
    }
    return d.adds.size + d.deletes.size + d.updates.size > 0 ? d : undefined;
}

function valueDiff(a: unknown, b: unknown, ignoreInternal = false): ValueDiff | undefined {
    if (Array.isArray(a) && Array.isArray(b)) {
        const d: ArrayDiff = { adds: new Map(), deletes: new Map(), sames: new Map(), updates: new Map() };
        for (let i = a.length; i < b.length; i++) d.adds.set(i, b[i]);
        for (let i = b.length; i < a.length; i++) d.deletes.set(i, a[i]);
        for (let i = 0; i < a.length && i < b.length; i++) {
            const e = valueDiff(a[i], b[i], ignoreInternal);
            if (e) d.updates.set(i, e);
            else d.sames.set(i, a[i]);
        }
        return d.adds.size + d.deletes.size + d.updates.size > 0 ? { old: a, new: b, array: d } : undefined;
    }
    if (isObjectValue(a) && isObjectValue(b)) {
        const d = objectDiff(a, b, ignoreInternal);
        return d ? { old: a, new: b, object: d } : undefined;
    }
    return sameValue(a, b) ? undefined : { old: a, new: b };
}

function arrayLength(d: ArrayDiff): number {
    return Math.max(0, ...[...d.adds.keys(), ...d.deletes.keys(), ...d.sames.keys(), ...d.updates.keys()].map((i) => i + 1));
}

/** A property path of a detailed diff (resource.ParsePropertyPath): keys and list indexes. */
function parsePropertyPath(path: string): (string | number)[] {
    const out: (string | number)[] = [];
    for (const m of path.matchAll(/\["((?:[^"\\]|\\.)*)"\]|\[(\d+)\]|([^.[\]]+)/g)) {
        out.push(m[1] !== undefined ? m[1] : m[2] !== undefined ? Number(m[2]) : m[3]);
    }
    return out;
}

function childOf(key: string | number, v: unknown): unknown {
    if (Array.isArray(v)) return typeof key === "number" ? (v[key] ?? null) : null;
    if (isObjectValue(v)) return typeof key === "string" && Object.hasOwn(v, key) ? (v[key] ?? null) : null;
    // A secret or an unknown holds whatever it holds.
    if (isSecretValue(v) || isUnknownValue(v)) return v;
    return null;
}

/** pkg/engine/detailedDiff.go addDiff: one path of a detailed diff into the structured diff. */
function addDiff(path: (string | number)[], kind: string, parent: ValueDiff, oldParent: unknown, newParent: unknown): void {
    const [element, ...rest] = path;
    const o = childOf(element, oldParent);
    const n = childOf(element, newParent);
    const leaf = (): ["add" | "delete" | "update", unknown] => [kind.startsWith("add") ? "add" : kind.startsWith("delete") ? "delete" : "update", undefined];
    const into = <K>(d: { adds: Map<K, unknown>; deletes: Map<K, unknown>; updates: Map<K, ValueDiff> }, k: K) => {
        if (rest.length === 0) {
            const [what] = leaf();
            if (what === "add") d.adds.set(k, n);
            else if (what === "delete") d.deletes.set(k, o);
            else d.updates.set(k, valueDiff(o, n) ?? { old: o, new: n });
        } else if (o == null && n != null) {
            d.adds.set(k, n);
        } else if (o != null && n == null) {
            d.deletes.set(k, o);
        } else {
            const e = d.updates.get(k) ?? { old: null, new: null };
            addDiff(rest, kind, e, o, n);
            d.updates.set(k, e);
        }
    };
    if (typeof element === "number") {
        parent.array ??= { adds: new Map(), deletes: new Map(), sames: new Map(), updates: new Map() };
        into(parent.array, element);
    } else {
        parent.object ??= { adds: new Map(), deletes: new Map(), sames: new Map(), updates: new Map() };
        into(parent.object, element);
    }
}

/** pkg/engine/detailedDiff.go TranslateDetailedDiff: the provider's paths as a structured diff. */
function translateDetailedDiff(detailed: Record<string, { kind: string }>, olds: unknown, news: unknown): ObjectDiff | undefined {
    const root: ValueDiff = { old: null, new: null };
    for (const [path, d] of Object.entries(detailed)) addDiff(parsePropertyPath(path), d.kind, root, olds, news);
    return root.object;
}

/** A line diff of two texts, as go-diff's line mode gives it: runs of same, deleted, added lines. */
function lineDiff(a: string, b: string): { op: "same" | "create" | "delete"; text: string }[] {
    const split = (s: string) => s.match(/[^\n]*\n|[^\n]+$/g) ?? [];
    const x = split(a);
    const y = split(b);
    const lcs: number[][] = Array.from({ length: x.length + 1 }, () => new Array<number>(y.length + 1).fill(0));
    for (let i = x.length - 1; i >= 0; i--) {
        for (let j = y.length - 1; j >= 0; j--) lcs[i][j] = x[i] === y[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
    }
    const out: { op: "same" | "create" | "delete"; text: string }[] = [];
    const push = (op: "same" | "create" | "delete", text: string) => {
        const last = out[out.length - 1];
        if (last?.op === op) last.text += text;
        else out.push({ op, text });
    };
    let i = 0;
    let j = 0;
    let deleted = "";
    let added = "";
    const flush = () => {
        if (deleted) push("delete", deleted);
        if (added) push("create", added);
        deleted = added = "";
    };
    while (i < x.length || j < y.length) {
        if (i < x.length && j < y.length && x[i] === y[j]) {
            flush();
            push("same", x[i]);
            i++;
            j++;
        } else if (j >= y.length || (i < x.length && lcs[i + 1][j] >= lcs[i][j + 1])) {
            deleted += x[i++];
        } else {
            added += y[j++];
        }
    }
    flush();
    return out;
}

/** Pieces of text, each with the op whose color it takes, as the display writes them. */
class Output {
    readonly pieces: { op: DisplayOp; text: string }[] = [];
    write(op: DisplayOp, text: string): void {
        this.pieces.push({ op, text });
    }
    render(color: boolean): string {
        return this.pieces.map((p) => (color && COLOR[p.op] ? `${COLOR[p.op]}${p.text}${RESET}` : p.text)).join("");
    }
}

/** pkg/backend/display/object_diff.go propertyPrinter, without colors of its own. */
class PropertyPrinter {
    constructor(
        private readonly out: Output,
        readonly indent: number,
        readonly op: DisplayOp,
        readonly prefix: boolean,
        readonly truncate: boolean,
    ) {}

    with(change: { indent?: number; op?: DisplayOp; prefix?: boolean }): PropertyPrinter {
        return new PropertyPrinter(this.out, change.indent ?? this.indent, change.op ?? this.op, change.prefix ?? this.prefix, this.truncate);
    }

    indented(n: number): PropertyPrinter {
        return this.with({ indent: this.indent + n });
    }

    private indentation(prefix: boolean): string {
        const spaces = "    ".repeat(Math.max(0, this.indent));
        return prefix && spaces.length >= 2 ? spaces.slice(0, -2) + rawPrefix(this.op) : spaces;
    }

    writeIndented(text: string): void {
        this.out.write(this.op, this.indentation(this.prefix) + text);
    }

    writeUnprefixedIndented(text: string): void {
        this.out.write(this.op, this.indentation(false) + text);
    }

    write(text: string): void {
        this.out.write(this.op, text);
    }

    private cut(text: string): string {
        return this.truncate ? truncateProperty(text) : text;
    }

    printObject(props: Record<string, unknown>): void {
        const keys = Object.keys(props).sort(byteOrder);
        const maxkey = Math.max(0, ...keys.map((k) => k.length));
        for (const k of keys) if (!isInternalKey(k)) this.printObjectProperty(k, props[k], maxkey);
    }

    printObjectProperty(key: string, value: unknown, maxkey: number): void {
        this.printPropertyTitle(key, maxkey);
        this.printPropertyValue(value);
    }

    printPropertyTitle(name: string, align: number): void {
        this.writeIndented(`${this.cut(name).padEnd(align)}: `);
    }

    printPropertyValue(v: unknown): void {
        this.printValue(v);
        this.write("\n");
    }

    private printValue(v: unknown): void {
        if (isPrimitiveValue(v)) {
            this.printPrimitive(v);
        } else if (Array.isArray(v)) {
            if (v.length === 0) {
                this.write("[]");
                return;
            }
            this.write("[\n");
            v.forEach((elem, i) => {
                this.writeIndented(`    [${i}]: `);
                this.indented(1).printPropertyValue(elem);
            });
            this.writeUnprefixedIndented("]");
        } else if (isAssetValue(v)) {
            const hash = typeof v.hash === "string" ? v.hash.slice(0, 7) : "";
            if (typeof v.path === "string") this.write(`asset(file:${hash}) { ${v.path} }`);
            else if (typeof v.uri === "string") this.write(`asset(uri:${hash}) { ${v.uri} }`);
            else this.write(`asset(unknown:${hash}) { }`);
        } else if (isObjectValue(v)) {
            if (Object.keys(v).length === 0) {
                this.write("{}");
                return;
            }
            this.write("{\n");
            this.indented(1).printObject(v);
            this.writeUnprefixedIndented("}");
        }
    }

    printPrimitive(v: unknown): void {
        if (v === null || v === undefined) this.write("<null>");
        else if (typeof v === "boolean") this.write(String(v));
        else if (typeof v === "number") this.write(Number.isInteger(v) ? v.toFixed(0) : String(v));
        else if (isUnknownValue(v)) this.write("[unknown]");
        else if (isSecretValue(v)) this.write("[secret]");
        else {
            const text = String(v);
            const decoded = decodeValue(text);
            if (decoded) {
                this.write(`(${decoded.kind}) `);
                this.printPropertyValue(decoded.value);
                return;
            }
            this.write(goQuote(this.cut(text)));
        }
    }

    printObjectDiff(diff: ObjectDiff): void {
        const keys = [...diff.adds.keys(), ...diff.deletes.keys(), ...diff.sames.keys(), ...diff.updates.keys()].sort(byteOrder);
        const maxkey = Math.max(0, ...keys.map((k) => k.length));
        for (const k of keys) {
            const title = (p: PropertyPrinter) => p.printPropertyTitle(k, maxkey);
            if (diff.adds.has(k)) this.printAdd(diff.adds.get(k), title);
            else if (diff.deletes.has(k)) this.printDelete(diff.deletes.get(k), title);
            else if (diff.updates.has(k)) this.printValueDiff(title, diff.updates.get(k)!);
            else if (worthPrinting(diff.sames.get(k))) this.with({ op: "same", prefix: false }).printObjectProperty(k, diff.sames.get(k), maxkey);
        }
    }

    printAdd(v: unknown, title: (p: PropertyPrinter) => void): void {
        const p = this.with({ op: "create", prefix: true });
        title(p);
        p.printPropertyValue(v);
    }

    printDelete(v: unknown, title: (p: PropertyPrinter) => void): void {
        const p = this.with({ op: "delete", prefix: true });
        title(p);
        p.printPropertyValue(v);
    }

    printValueDiff(title: (p: PropertyPrinter) => void, diff: ValueDiff): void {
        const p = this.with({ op: "update", prefix: true });
        if (diff.array) {
            title(p);
            p.write("[\n");
            const a = diff.array;
            for (let i = 0; i < arrayLength(a); i++) {
                const elem = p.indented(2);
                const elemTitle = (q: PropertyPrinter) => q.indented(-1).writeIndented(`[${i}]: `);
                if (a.adds.has(i)) elem.printAdd(a.adds.get(i), elemTitle);
                else if (a.deletes.has(i)) elem.printDelete(a.deletes.get(i), elemTitle);
                else if (a.updates.has(i)) elem.printValueDiff(elemTitle, a.updates.get(i)!);
                else if (a.sames.has(i)) {
                    const same = elem.with({ op: "same", prefix: false });
                    elemTitle(same);
                    same.printPropertyValue(a.sames.get(i));
                }
            }
            p.writeUnprefixedIndented("]\n");
        } else if (diff.object) {
            title(p);
            p.write("{\n");
            p.indented(1).printObjectDiff(diff.object);
            p.writeUnprefixedIndented("}\n");
        } else {
            const printOld = worthPrinting(diff.old);
            const printNew = worthPrinting(diff.new);
            if (printOld && printNew && isPrimitiveValue(diff.old) && isPrimitiveValue(diff.new)) {
                title(p);
                if (isPlainString(diff.old) && isPlainString(diff.new)) {
                    p.printTextDiff(diff.old, diff.new);
                    return;
                }
                p.with({ op: "delete" }).printPrimitive(diff.old);
                p.write(" => ");
                p.with({ op: "create" }).printPrimitive(diff.new);
                p.write("\n");
                return;
            }
            if (printOld) p.printDelete(diff.old, title);
            if (printNew) p.printAdd(diff.new, title);
        }
    }

    printTextDiff(old: string, next: string): void {
        if (this.printEncodedValueDiff(old, next)) return;
        if (!old.includes("\n") && !next.includes("\n")) {
            const escape = (s: string) => goQuote(s).slice(1, -1);
            this.with({ op: "delete" }).write(`"${escape(old)}"`);
            this.write(" => ");
            this.with({ op: "create" }).write(`"${escape(next)}"`);
            this.write("\n");
            return;
        }
        this.indented(1).printLineDiff(lineDiff(old, next));
    }

    /** Changed lines, with two lines around each change (printLineDiff). */
    private printLineDiff(diffs: { op: "same" | "create" | "delete"; text: string }[]): void {
        this.write("\n");
        const writeDiff = (op: DisplayOp, text: string) => this.with({ op, prefix: op === "create" || op === "delete" }).writeIndented(this.cut(text));
        diffs.forEach((d, index) => {
            let lines = d.text.split("\n");
            const printLines = (op: DisplayOp, from: number, to: number) => {
                for (let i = from; i < to; i++) {
                    if (lines[i].trim() !== "") {
                        writeDiff(op, lines[i]);
                        this.out.write(op, "\n");
                    }
                }
            };
            if (d.op !== "same") {
                printLines(d.op, 0, lines.length);
                return;
            }
            lines = lines.filter((l) => l.trim() !== "");
            const context = 2;
            if (index === 0) {
                if (lines.length > context + 1) {
                    writeDiff("same", "...\n");
                    printLines("same", lines.length - context, lines.length);
                    return;
                }
            } else if (index === diffs.length - 1) {
                if (lines.length > context + 1) {
                    printLines("same", 0, context);
                    writeDiff("same", "...\n");
                    return;
                }
            } else if (lines.length > 2 * context + 1) {
                printLines("same", 0, context);
                writeDiff("same", "...\n");
                printLines("same", lines.length - context, lines.length);
                return;
            }
            printLines("same", 0, lines.length);
        });
    }

    private printEncodedValueDiff(old: string, next: string): boolean {
        const a = decodeValue(old);
        if (!a) return false;
        const b = decodeValue(next);
        if (!b) return false;
        if (sameValue(a.value, b.value)) {
            this.printTextDiff(goQuote(old), goQuote(next));
            return true;
        }
        this.write(a.kind === b.kind ? `(${a.kind}) ` : `(${a.kind} => ${b.kind}) `);
        const d = valueDiff(a.value, b.value, true);
        if (!d) this.with({ op: "same" }).printPropertyValue(a.value);
        else this.printValueDiff(() => undefined, d);
        return true;
    }
}

/** A resource's state as the engine shows it: its inputs, its id and outputs when it was read. */
interface ShownState {
    resource: DeclaredResource;
    inputs: Record<string, unknown>;
    id?: string;
    outputs?: Record<string, unknown>;
}

/** One step as the display sees it: the op of its event, and the states before and after. */
interface ShownStep {
    op: DisplayOp;
    step: Step;
    old?: ShownState;
    new?: ShownState;
    /** The plan's stand-ins for what the engine shows as unknown, by property path. */
    standIns: Record<string, string>;
}

/** The plan's stand-ins for outputs only known once applied (model.ts, knownAfterApply). */
const STAND_IN = /\[vmac-of-[^\]]+\]/gi;

/**
 * A value as the engine's events carry it: a secret is [secret], an unknown the engine's sentinel,
 * and so is a value built from a stand-in the prior state does not know (a MAC OVH has yet to
 * assign); one it knows (the MAC of a virtual MAC that stays) is a value like any other.
 */
function shownValue(value: unknown, path: string, known: (standIn: string) => boolean, stand: Record<string, string>): unknown {
    if (typeof value === "string") {
        if (/\[secret#[0-9a-f]+\]/.test(value) || value === "[secret]") return "[secret]";
        if (value === UNKNOWN_TEXT) return SIG.unknownValue;
        if ((value.match(STAND_IN) ?? []).some((s) => !known(s))) {
            stand[path] = value;
            return SIG.unknownValue;
        }
        return value;
    }
    if (Array.isArray(value)) return value.map((v, i) => shownValue(v, `${path}[${i}]`, known, stand));
    if (typeof value === "object" && value !== null) {
        return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, shownValue(v, path ? `${path}.${k}` : k, known, stand)]));
    }
    return value;
}

/** A bridged provider's Read of an import gives its inputs without the empty values. */
function withoutEmpty(inputs: Record<string, unknown>): Record<string, unknown> {
    return Object.fromEntries(Object.entries(inputs).filter(([, v]) => v !== "" && v !== null && v !== undefined));
}

/**
 * The states of a step as the engine's events carry them (renderJson's values, but for the
 * stand-ins the prior state knows: `known`).
 */
function shownStep(op: DisplayOp, step: Step, known: (standIn: string) => boolean = () => false): ShownStep {
    const standIns: Record<string, string> = {};
    // The old state is known: what was applied.
    const checked = (r: DeclaredResource, stand?: Record<string, string>) =>
        shownValue(checkedInputs(r.type, withSerializedProvider(r)), "", stand ? known : () => true, stand ?? {}) as Record<string, unknown>;
    const rule = ruleFor(step.type);
    const read = step.op === "import" && step.new?.importId !== undefined ? rule?.imported?.(step.new.importId, step.old?.inputs ?? {}) : undefined;
    const state = (r: DeclaredResource | undefined, side: "old" | "new"): ShownState | undefined => {
        if (!r) return undefined;
        if (step.op === "import") {
            // What the provider read: the old state of the update that follows the import.
            if (side === "old") return { resource: r, inputs: shownValue(checkedInputs(r.type, withoutEmpty(r.inputs)), "", () => true, {}) as Record<string, unknown>, id: read?.id, outputs: read?.outputs };
        }
        return { resource: r, inputs: side === "new" ? checked(r, standIns) : checked(r) };
    };
    const withOld = op !== "create";
    const withNew = op !== "delete" && op !== "delete-replaced";
    return { op, step, old: withOld ? state(step.old, "old") : undefined, new: withNew ? state(step.new, "new") : undefined, standIns };
}

/** A resource with nothing but its URN and type: the root stack, or an unchanged ancestor. */
function bareResource(urn: string, type: string): DeclaredResource {
    return {
        urn, type, name: urnName(urn), custom: false, protect: false, retainOnDelete: false,
        ignoreChanges: [], replaceOnChanges: [], dependencies: [], inputs: {}, propertyDependencies: {}, additionalSecretOutputs: [],
    };
}

/** A resource known only by its URN (the parent of a step that is not a step itself): a block with no op. */
function contextStep(urn: string): Step {
    const r = bareResource(urn, urn.split("::")[2]?.split("$").pop() ?? "");
    return { op: "same", urn, type: r.type, name: r.name, protect: false, diffs: [], detailedDiff: {}, new: r, old: r };
}

/** The root stack's row and block: created on a first preview, the same after. */
function rootStep(root: RootStack): Step {
    const r = bareResource(root.urn, "pulumi:pulumi:Stack");
    return { op: root.op, urn: root.urn, type: r.type, name: r.name, protect: false, diffs: [], detailedDiff: {}, new: r, ...(root.op === "same" ? { old: r } : {}) };
}

/** Whether the display shows a resource that does not change: asked to, or its protection changes. */
function shownWhenSame(step: Step, showUnchanged: boolean): boolean {
    return showUnchanged || (step.old !== undefined && step.new !== undefined && step.old.protect !== step.new.protect);
}

/** The Info column of a changed resource (rows.go getDiffInfo): `[diff: +added-deleted~updated]`. */
function diffInfo(shown: ShownStep): string {
    const { step } = shown;
    if (!shown.old || !shown.new) return "";
    const top = { adds: new Set<string>(), deletes: new Set<string>(), updates: new Set<string>() };
    let any = false;
    if (shown.op !== "same") {
        const olds = shown.op === "update" && step.op === "import" ? (shown.old.outputs ?? shown.old.inputs) : shown.old.inputs;
        const d = translateDetailedDiff(step.detailedDiff, olds, shown.new.inputs);
        if (d) {
            any = true;
            const include = step.diffs.length > 0 ? new Set(step.diffs) : undefined;
            for (const k of d.adds.keys()) if (!include || include.has(k)) top.adds.add(k);
            for (const k of d.deletes.keys()) if (!include || include.has(k)) top.deletes.add(k);
            for (const k of d.updates.keys()) if (!include || include.has(k)) top.updates.add(k);
        }
    }
    if (shown.old.resource.protect !== shown.new.resource.protect) {
        any = true;
        top.updates.add("protect");
    }
    if (!any) return "";
    const part = (sign: string, keys: Set<string>) => (keys.size > 0 ? sign + [...keys].sort(byteOrder).join(",") : "");
    return `[diff: ${part("+", top.adds)}${part("-", top.deletes)}${part("~", top.updates)}]`;
}

/** The Plan column once the preview is done (getPreviewDoneText), with [retain] for what is only forgotten. */
function planColumn(op: DisplayOp, step: Step): string {
    const text: Record<DisplayOp, string> = {
        same: "", create: "create", update: "update", delete: "delete", replace: "replace", "create-replacement": "replace", "delete-replaced": "replace", import: "import",
    };
    const retain = step.old?.retainOnDelete && (op === "delete" || op === "replace" || op === "create-replacement" || op === "delete-replaced") ? "[retain]" : "";
    return text[op] + retain;
}

interface TreeRow {
    shown: ShownStep;
    children: TreeRow[];
}

/**
 * The tree of `pulumi preview` (progress.go generateTreeNodes, addIndentations, tree.go render):
 * the root stack, then every resource under its parent, an unchanged parent shown when something
 * under it changes; columns Type, Name, Plan and Info, two spaces apart.
 */
function renderTree(rootShown: ShownStep, shownSteps: ShownStep[], style: Style): string[] {
    const rootRow: TreeRow = { shown: rootShown, children: [] };
    const rows = new Map<string, TreeRow>();
    for (const s of shownSteps) rows.set(s.step.urn, { shown: s, children: [] });
    for (const s of shownSteps) {
        const parent = (s.step.new ?? s.step.old)?.parent;
        (parent !== undefined ? (rows.get(parent) ?? rootRow) : rootRow).children.push(rows.get(s.step.urn)!);
    }
    const table: { cols: string[]; op: DisplayOp }[] = [{ cols: ["", "Type", "Name", "Plan", "Info"], op: "same" }];
    const visit = (row: TreeRow, indentation: string, prefix: string) => {
        const { op, step } = row.shown;
        table.push({ op, cols: [rawPrefix(op), prefix + displayTypeName(step.type), urnName(step.urn), planColumn(op, step), diffInfo(row.shown)] });
        row.children.forEach((child, i) => {
            const last = i === row.children.length - 1;
            visit(child, indentation + (last ? "   " : "│  "), indentation + (last ? "└─ " : "├─ "));
        });
    };
    // The root's children take no indentation of its own (addIndentations, isRoot).
    table.push({ op: rootShown.op, cols: [rawPrefix(rootShown.op), displayTypeName(rootShown.step.type), urnName(rootShown.step.urn), planColumn(rootShown.op, rootShown.step), ""] });
    rootRow.children.forEach((child, i) => {
        const last = i === rootRow.children.length - 1;
        visit(child, last ? "   " : "│  ", last ? "└─ " : "├─ ");
    });
    if (table.slice(1).every((r) => r.cols[4] === "")) table[0].cols[4] = "";
    // The Plan column keeps room for the progress dots ("create..."): three more.
    const widths = [0, 1, 2, 3, 4].map((i) => Math.max(...table.map((r) => [...r.cols[i]].length)) + (i === 3 ? 3 : 0));
    return table.map(({ cols, op }) => {
        let line = "";
        cols.forEach((c, i) => {
            line += i === 0 ? " " : " ".repeat(widths[i - 1] - [...cols[i - 1]].length + 2);
            line += style.color && (i === 0 || i === 3) && COLOR[op] ? `${COLOR[op]}${c}${RESET}` : c;
        });
        return line.trimEnd();
    });
}

/**
 * One resource as `pulumi preview --diff` prints it (diff.go renderDiff): its op and type, its
 * id, URN and provider, then its properties: a create's inputs, a delete's, the changes of an
 * update or replacement, old => new.
 */
function renderBlock(out: Output, shown: ShownStep, indent: number): void {
    const { op, step } = shown;
    const spaces = "    ".repeat(indent);
    const oldR = shown.old?.resource;
    const newR = shown.new?.resource;
    const lock = newR && !newR.protect && oldR?.protect ? " 🔓" : newR?.protect || oldR?.protect ? " 🔒" : "";
    out.write(op, `${spaces}${rawPrefix(op)}${step.type}: (${op})${lock}\n`);
    // Simple properties of an update or a replacement show as the same.
    const simple: DisplayOp = op === "create" || op === "delete" || op === "delete-replaced" ? op : "same";
    const inner = "    ".repeat(indent + 1);
    const id = shown.old?.id;
    if (id !== undefined) out.write(simple, `${inner}[id=${id}]\n`);
    out.write(simple, `${inner}[urn=${step.urn}]\n`);
    const r = newR ?? oldR;
    const provider = r ? providerRef(r) : undefined;
    if (provider && urnName(provider.slice(0, provider.lastIndexOf("::"))) !== "default") out.write(simple, `${inner}[provider=${provider}]\n`);
    if (op === "same") return;
    const printer = (o: DisplayOp, prefix: boolean) => new PropertyPrinter(out, indent + 1, o, prefix, true);
    if (op === "create" && shown.new) {
        printer(op, false).printObject(shown.new.inputs);
    } else if ((op === "delete" || op === "delete-replaced") && shown.old) {
        printer(op, false).printObject(shown.old.inputs);
    } else if (op === "import" && shown.old) {
        // What the provider read (the event that follows the import's outputs).
        printer("same", true).printObject(shown.old.inputs);
    } else if (shown.old && shown.new) {
        const olds = step.op === "import" ? (shown.old.outputs ?? shown.old.inputs) : shown.old.inputs;
        const diff = Object.keys(step.detailedDiff).length > 0 ? translateDetailedDiff(step.detailedDiff, olds, shown.new.inputs) : undefined;
        if (diff) printer("update", true).printObjectDiff(diff);
        else printer("same", true).printObject(shown.old.inputs);
    }
}

/** Protected resources cannot be deleted or replaced: `pulumi up` would stop there. */
function protectWarning(step: Step): string | undefined {
    if (step.blockedBy !== "protect") return undefined;
    const what = step.op === "delete"
        ? "pulumi up stops at this resource, after deleting what depends on it"
        : "pulumi up refuses to replace this resource";
    return `** PROTECTED: ${what}; unprotect it on purpose first (pulumi state unprotect '${step.urn}') **`;
}

/** What the delete half of a step does in the world, or that the engine only forgets the resource. */
function deleteLine(step: Step): string | undefined {
    if (step.op !== "delete" && step.op !== "replace") return undefined;
    if (step.retained) return "[retain] the provider's delete does not run: Pulumi forgets the old one and it stays as it is";
    return step.deleteEffect ? `the provider's delete ${step.deleteEffect}` : undefined;
}

/** Every string of a value that the CLI's --diff cuts (truncateProperty), by property path. */
function cutStrings(value: unknown, path: string, found: Record<string, string>): void {
    if (isPlainString(value)) {
        if (truncateProperty(value) !== value && decodeValue(value) === undefined) found[path] = value;
    } else if (Array.isArray(value)) {
        value.forEach((v, i) => cutStrings(v, `${path}[${i}]`, found));
    } else if (isObjectValue(value)) {
        for (const [k, v] of Object.entries(value)) if (!isInternalKey(k)) cutStrings(v, path ? `${path}.${k}` : k, found);
    }
}

/** The value at a property path (a.b, list[0]) of a state's inputs. */
function valueAt(inputs: Record<string, unknown>, path: string): unknown {
    let node: unknown = inputs;
    for (const key of parsePropertyPath(path)) node = childOf(key, node);
    return node;
}

/** A text in full, each line behind a bar so that its empty lines stay inside the section. */
function fullText(text: string, indent: string): string[] {
    return maskSecretTokens(text).replace(/\n$/, "").split("\n").map((l) => `${indent}| ${l}`.trimEnd());
}

/**
 * A text of several lines in one line: its first line, how many there are, and a hash that tells
 * two texts apart; or, when the resource printed the same text already, which property that was.
 */
function foldedOrSame(text: string, sameAs: string | undefined): string {
    // Over the text as printed: a secret's token is keyed per process.
    const hash = createHash("sha256").update(maskSecretTokens(text)).digest("hex").slice(0, 8);
    if (sameAs !== undefined) return `the same text as ${sameAs} (sha256 ${hash})`;
    const lines = text.replace(/\n$/, "").split("\n");
    return `${maskSecretTokens(goQuote(lines[0]))} … (${lines.length} lines, sha256 ${hash})`;
}

/**
 * What only the plan knows, after the table: why `pulumi up` would stop, in which order a
 * replacement runs, what a delete does in the world, what a create adopts, warnings, how each
 * data source was answered; with --diff, the values the CLI cuts to three lines or shows as
 * unknown, in full.
 */
function offlineNotes(shownSteps: ShownStep[], invokes: InvokeRecord[], style: Style): string[] {
    const lines: string[] = [];
    const strong = (text: string) => (style.color ? `${BOLD}${text}${RESET}` : text);
    // With --diff too: its blocks go by resource, in the tree, not in the engine's order.
    if (style.showReplacementSteps) {
        const expanded = shownSteps.filter((s) => s.op === "create-replacement" || s.op === "replace" || s.op === "delete-replaced");
        if (expanded.length > 0) {
            lines.push("  replacement steps, in the engine's order:");
            for (const s of expanded) lines.push(`    ${rawPrefix(s.op)}${displayTypeName(s.step.type)} (${s.step.name}) ${s.op}`);
        }
    }
    const seen = new Set<Step>();
    let folded = false;
    for (const shown of shownSteps) {
        const { step, op } = shown;
        const own: string[] = [];
        if (!seen.has(step)) {
            seen.add(step);
            const warning = protectWarning(step);
            if (warning) own.push(`    ${strong(warning)}`);
            if (step.op === "replace" && step.replacementOrder) {
                own.push(step.replacementOrder === "delete-before-replace"
                    ? "    [delete-before-replace] the old one is deleted first, then the new one created"
                    : "    [create-before-delete] the new one is created first, the old one deleted at the end");
            }
            const effect = deleteLine(step);
            if (effect) own.push(`    ${effect}`);
            if (step.adopts) own.push(`    adopts ${step.adopts}`);
            for (const w of step.warnings ?? []) own.push(`    ${strong(`warning: ${w}`)}`);
        }
        if (style.diff && op !== "delete-replaced" && op !== "same") {
            // A resource's scripts often repeat one another (create and update): each text once.
            const printedAs = new Map<string, string>();
            const once = (key: string, p: string): string | undefined => {
                const first = printedAs.get(key);
                if (first === undefined) printedAs.set(key, p);
                return first;
            };
            for (const [p, value] of Object.entries(shown.standIns)) {
                const names = [...new Set(value.match(STAND_IN) ?? [])].join(", ");
                const old = shown.old ? valueAt(shown.old.inputs, p) : undefined;
                if (isPlainString(old) && old !== value && !old.includes("\n") && !value.includes("\n")) {
                    own.push(`    ${p}: [unknown] until applied; offline: ${maskSecretTokens(goQuote(old))} => ${maskSecretTokens(goQuote(value))}`);
                } else if (isPlainString(old) && old !== value) {
                    // What the CLI shows as old => [unknown]: the change, as it would show it once known.
                    const out = new Output();
                    new PropertyPrinter(out, 2, "update", true, false).printTextDiff(old, value);
                    const changed = out.render(false).replace(/\n$/, "").split("\n").map((l) => maskSecretTokens(l).trimEnd()).filter((l) => l !== "");
                    const same = style.full ? undefined : once(changed.join("\n"), p);
                    if (same !== undefined) own.push(`    ${p}: [unknown] until applied; offline, the same changed lines as ${same}`);
                    else own.push(`    ${p}: [unknown] until applied (${names}); offline, old => new:`, ...changed);
                } else if (value.includes("\n") && style.full) {
                    own.push(`    ${p}: [unknown] until applied (${names}); offline:`, ...fullText(value, "      "));
                } else if (value.includes("\n")) {
                    own.push(`    ${p}: [unknown] until applied (${names}); offline: ${foldedOrSame(value, once(value, p))}`);
                    folded = true;
                } else {
                    own.push(`    ${p}: [unknown] until applied; offline: ${maskSecretTokens(value)}`);
                }
            }
            const cut: Record<string, string> = {};
            const printed = op === "delete" ? shown.old?.inputs : op === "create" ? shown.new?.inputs : undefined;
            if (printed) cutStrings(printed, "", cut);
            for (const [p, value] of Object.entries(cut)) {
                if (style.full) {
                    own.push(`    ${p}, in full:`, ...fullText(value, "      "));
                } else {
                    own.push(`    ${p}: ${foldedOrSame(value, once(value, p))}`);
                    folded = true;
                }
            }
        }
        if (own.length > 0) lines.push(`  ${displayTypeName(step.type)} (${step.name}):`, ...own);
    }
    const notes = invokes.filter((i) => i.note);
    if (notes.length > 0) {
        lines.push("  data sources:");
        const printed = new Set<string>();
        for (const i of notes) {
            const line = `    ${i.token}(${JSON.stringify(i.args)}): ${i.note}`;
            if (!printed.has(line)) lines.push(line);
            printed.add(line);
        }
    }
    if (folded) lines.push("  (texts of several lines are folded to their first line: --diff-full prints them in full)");
    return lines.length > 0 ? ["Offline plan:", ...lines, ""] : [];
}

/**
 * The counts of the summary, as `pulumi preview --json`'s changeSummary has them: the root stack
 * counted, and the update that follows an import counted as well.
 */
export function previewCounts(steps: Step[], summary: ChangeSummary, root: RootStack): ChangeSummary {
    const importUpdates = steps.filter((s) => s.op === "import" && s.diffs.length > 0).length;
    return { ...summary, update: summary.update + importUpdates, [root.op]: summary[root.op] + 1 };
}

/** "Resources:" and a line per kind of change, as the CLI writes them (diff.go renderSummaryEvent). */
function summaryLines(counts: ChangeSummary, style: Style): string[] {
    const lines = ["Resources:"];
    // The order of deploy.StepOps.
    const kinds: StepOp[] = ["create", "update", "delete", "replace", "import"];
    let changes = 0;
    let kindsChanged = 0;
    for (const op of kinds) {
        if (counts[op] > 0) {
            changes += counts[op];
            kindsChanged++;
            const line = `    ${rawPrefix(op)}${counts[op]} to ${op}`;
            lines.push(style.color ? `${COLOR[op]}${line}${RESET}` : line);
        }
    }
    const pieces = [
        ...(kindsChanged >= 2 ? [`${changes} ${changes === 1 ? "change" : "changes"}`] : []),
        ...(counts.same > 0 ? [`${counts.same} unchanged`] : []),
    ];
    if (pieces.length > 0) lines.push(`    ${pieces.join(". ")}`);
    return lines;
}

/**
 * The plan as `pulumi preview` prints it on a terminal: a header line, the tree of resources
 * (the root stack first) with each one's op and Plan column, then, with `diff`, each resource's
 * properties as `pulumi preview --diff` prints them instead; then what only the plan knows, and
 * the summary, counted as the CLI counts (the same numbers as --json's changeSummary).
 */
export function renderText(header: string, steps: Step[], summary: ChangeSummary, invokes: InvokeRecord[], root: RootStack, style: Style, showUnchanged: boolean): string {
    const byUrn = new Map<string, DeclaredResource>();
    for (const s of steps) byUrn.set(s.urn, (s.new ?? s.old)!);
    const visibleStep = (s: Step) => s.op !== "same" || shownWhenSame(s, showUnchanged);
    // The stand-ins the prior state knows: the MACs of virtual MACs that exist already.
    const priorStandIns = new Set(steps.flatMap((s) => (s.op === "create" || !s.old ? [] : (JSON.stringify(s.old.inputs).match(STAND_IN) ?? []))));
    const known = (standIn: string) => priorStandIns.has(standIn);
    const rootShown = shownStep(root.op, rootStep(root));
    const out: string[] = [header];
    if (style.diff) {
        // The events in the engine's order: every resource registers before a delete.
        // An import the program then changes is two steps to the engine: the import, then an update.
        const ordered = engineOrder(steps.filter(visibleStep), style.showReplacementSteps ?? false)
            .flatMap((d) => (d.op === "import" && d.step.diffs.length > 0 ? [d, { op: "update" as const, step: d.step }] : [d]))
            .map((d) => shownStep(d.op, d.step, known));
        const text = new Output();
        renderBlock(text, rootShown, 0);
        // Each block under its real parent, an unchanged parent shown (same) to hang it under.
        for (const placed of inTreeOrder(ordered, (d) => d.step.urn, (u) => byUrn.get(u)?.parent, root.urn)) {
            renderBlock(text, placed.entry ?? shownStep("same", steps.find((s) => s.urn === placed.urn) ?? contextStep(placed.urn)), placed.depth);
        }
        out.push(...text.render(style.color).replace(/\n$/, "").split("\n").map((l) => maskSecretTokens(l).trimEnd()));
        out.push(...offlineNotes(ordered, invokes, style));
    } else {
        // Rows: what changes, and every unchanged parent of something that does.
        const context = new Set<string>();
        for (const s of steps) {
            if (!visibleStep(s)) continue;
            for (let p = (s.new ?? s.old)?.parent; p; p = byUrn.get(p)?.parent) context.add(p);
        }
        // A row shows a resource's last step: the update that follows an import.
        const rows = treeOrder(steps).filter((s) => visibleStep(s) || context.has(s.urn)).map((s) => shownStep(s.op === "import" && s.diffs.length > 0 ? "update" : s.op, s, known));
        out.push(...renderTree(rootShown, rows, style).map(maskSecretTokens), "");
        const expanded = style.showReplacementSteps ? engineOrder(steps.filter(visibleStep), true).map((d) => shownStep(d.op, d.step, known)) : rows;
        out.push(...offlineNotes(expanded, invokes, style));
    }
    out.push(...summaryLines(previewCounts(steps, summary, root), style));
    return `${out.join("\n")}\n`;
}

/** Steps in tree order: each resource right after its parent, siblings in declaration order. */
export function treeOrder(steps: Step[]): Step[] {
    const children = new Map<string | undefined, Step[]>();
    const urns = new Set(steps.map((s) => s.urn));
    for (const s of steps) {
        const parent = (s.new ?? s.old)?.parent;
        const key = parent && urns.has(parent) ? parent : undefined;
        children.set(key, [...(children.get(key) ?? []), s]);
    }
    const out: Step[] = [];
    const visit = (key: string | undefined) => {
        for (const s of children.get(key) ?? []) {
            out.push(s);
            visit(s.urn);
        }
    };
    visit(undefined);
    return out;
}

/** The root of every stack, `pulumi:pulumi:Stack`: created on a first preview, the same after. */
export interface RootStack {
    urn: string;
    op: "create" | "same";
}

export function rootStack(stack: string, project: string, exists: boolean): RootStack {
    return { urn: `urn:pulumi:${stack}::${project}::pulumi:pulumi:Stack::${project}-${stack}`, op: exists ? "same" : "create" };
}

/** A stand-in for an output only known once applied: a MAC OVH will assign (model.ts, knownAfterApply). */
const KNOWN_AFTER_APPLY = /\[vmac-of-[^\]]+\]/i;

/**
 * A value as `pulumi preview --json` shows it: a secret is the string "[secret]"
 * (pkg/backend/display/json.go, massagePropertyValue), an unknown is the engine's sentinel, and so
 * is a value built from an output only known once applied (the plan's named stand-in for it goes
 * under offlinePlan.knownAfterApply, by property path).
 */
function previewValue(value: unknown, path: string, stand: Record<string, string>): unknown {
    if (typeof value === "string") {
        if (/\[secret#[0-9a-f]+\]/.test(value) || value === "[secret]") return "[secret]";
        if (value === UNKNOWN_TEXT) return SIG.unknownValue;
        if (KNOWN_AFTER_APPLY.test(value)) {
            stand[path] = value;
            return SIG.unknownValue;
        }
        return value;
    }
    if (Array.isArray(value)) return value.map((v, i) => previewValue(v, `${path}[${i}]`, stand));
    if (typeof value === "object" && value !== null) {
        return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, previewValue(v, path ? `${path}.${k}` : k, stand)]));
    }
    return value;
}

/** A dynamic resource's inputs hold its provider's code, serialized by `pulumi up`: the plan writes a marker. */
function withSerializedProvider(r: DeclaredResource): Record<string, unknown> {
    return r.type.startsWith("pulumi-nodejs:dynamic/") ? { __provider: SERIALIZED_PROVIDER, ...r.inputs } : r.inputs;
}

/** A provider reference as the engine writes it: the provider's URN, then its id (unknown until it exists). */
function providerRef(r: DeclaredResource): string | undefined {
    return r.provider ? `${r.provider.urn}::${SIG.unknownValue}` : undefined;
}

/**
 * A resource's state as `pulumi preview --json` writes it: apitype.ResourceV3
 * (sdk/go/common/apitype/core.go), in its field order, its empty fields left out as its omitempty
 * tags do.
 */
function resourceState(r: DeclaredResource, root: RootStack, stand: Record<string, string>, checked = true, read?: { id: string; outputs: Record<string, unknown> }) {
    const provider = providerRef(r);
    const inputs = withSerializedProvider(r);
    return {
        urn: r.urn,
        custom: r.custom,
        ...(read ? { id: read.id } : {}),
        type: r.type,
        ...(Object.keys(inputs).length > 0 ? { inputs: previewValue(checked ? checkedInputs(r.type, inputs) : inputs, "", stand) } : {}),
        ...(read ? { outputs: previewValue(read.outputs, "", stand) } : {}),
        parent: r.parent ?? root.urn,
        ...(r.protect ? { protect: true } : {}),
        ...(r.dependencies.length > 0 ? { dependencies: r.dependencies } : {}),
        ...(provider ? { provider } : {}),
        ...(Object.keys(r.propertyDependencies ?? {}).length > 0 ? { propertyDependencies: r.propertyDependencies } : {}),
        ...(r.additionalSecretOutputs?.length ? { additionalSecretOutputs: r.additionalSecretOutputs } : {}),
        ...(r.importId !== undefined ? { importID: r.importId } : {}),
        ...(r.retainOnDelete ? { retainOnDelete: true } : {}),
        ...(r.ignoreChanges.length > 0 ? { ignoreChanges: r.ignoreChanges } : {}),
        ...(r.replaceOnChanges.length > 0 ? { replaceOnChanges: r.replaceOnChanges } : {}),
    };
}

export interface PreviewDigestExtras {
    /** The stack's config as the engine's prelude gives it (previewConfig). */
    config: Record<string, string>;
    /** How long the plan took, in nanoseconds (the digest's time.Duration). */
    durationNs: number;
    /** List unchanged resources too, as `pulumi preview --json --show-sames`. */
    showSames?: boolean;
}

/**
 * `pulumi preview --json`: the digest of pulumi/pulumi pkg/display/json.go (PreviewDigest,
 * PreviewStep) as pkg/backend/display/json.go fills it, field for field and in its order. The root
 * stack is always listed (isRootStack), other unchanged resources are not; a replacement is one
 * `replace` step, or its three with showReplacementSteps; `detailedDiff` is null where the engine
 * has none (a create); changeSummary counts the root stack too. What only this plan knows is under
 * `offlinePlan`: the replacement's order, what a delete does in the world (or that it is
 * retained), why `up` would stop (protect), what a create adopts, warnings, the stand-ins for
 * values only known once applied, and how data sources were answered.
 */
export function renderJson(steps: Step[], summary: ChangeSummary, invokes: InvokeRecord[], root: RootStack, showReplacementSteps = false, extras?: PreviewDigestExtras): string {
    // An import the program then changes is two steps to the engine: import, then update.
    // An unchanged resource is listed with --show-sames, or when its protect changed
    // (pkg/backend/display/display.go, shouldShow).
    const shown = (s: Step) => s.op !== "same" || extras?.showSames === true || s.old?.protect !== s.new?.protect;
    const listed = engineOrder(steps.filter(shown), showReplacementSteps)
        .flatMap((d) => (d.op === "import" && d.step.diffs.length > 0 ? [d, { op: "update" as const, step: d.step }] : [d]));
    const replaceReasons = (s: Step) => [...new Set(Object.entries(s.detailedDiff).filter(([, d]) => d.kind.endsWith("-replace")).map(([p]) => p.split(/[.[]/)[0]))];
    const offlinePlan = (op: DisplayOp, s: Step, stand: Record<string, string>) => {
        const own = {
            ...(s.replacementOrder && op === "replace" ? { replacementOrder: s.replacementOrder } : {}),
            ...(s.retained !== undefined ? { retained: s.retained } : {}),
            ...(s.deleteEffect ? { deleteEffect: s.deleteEffect } : {}),
            ...(s.blockedBy ? { blockedBy: s.blockedBy } : {}),
            ...(s.adopts ? { adopts: s.adopts } : {}),
            ...(s.warnings ? { warnings: s.warnings } : {}),
            ...(Object.keys(stand).length > 0 ? { knownAfterApply: stand } : {}),
        };
        return Object.keys(own).length > 0 ? { offlinePlan: own } : {};
    };
    const dynamic = (s: Step) => s.type.startsWith("pulumi-nodejs:dynamic/");
    const step = (op: DisplayOp, s: Step) => {
        const stand: Record<string, string> = {};
        // The update after an import compares with what the provider read (the imported state),
        // not with inputs of an earlier run: its old state has the id and outputs, its new state no
        // import id, and its diffs are not input diffs (pkg/resource/deploy/step_generator.go).
        const afterImport = op === "update" && s.op === "import";
        const read = afterImport && s.new?.importId !== undefined ? ruleFor(s.type)?.imported?.(s.new.importId, s.old?.inputs ?? {}) : undefined;
        const oldState = s.old && op !== "create" && op !== "import"
            ? { oldState: resourceState(s.old, root, stand, true, read) }
            : {};
        // An import's state is the program's inputs as given: the provider's Check has not run on them.
        const newState = s.new && op !== "delete" && op !== "delete-replaced"
            ? { newState: resourceState(afterImport ? { ...s.new, importId: undefined } : s.new, root, stand, op !== "import") }
            : {};
        const provider = providerRef((s.new ?? s.old)!);
        return {
            op,
            urn: s.urn,
            ...(provider ? { provider } : {}),
            ...oldState,
            ...newState,
            // A delete step carries no diff (pkg/resource/deploy/step.go: DeleteStep has no Keys, Diffs
            // or DetailedDiff), and a dynamic provider's Diff answers only whether something changes
            // and what replaces (@pulumi/pulumi cmd/dynamic-provider, diffRPC): no diffs, no detail.
            ...(s.diffs.length > 0 && op !== "import" && op !== "delete-replaced" && !dynamic(s) ? { diffReasons: s.diffs } : {}),
            ...(op === "replace" || op === "create-replacement" ? { replaceReasons: replaceReasons(s) } : {}),
            detailedDiff: Object.keys(s.detailedDiff).length > 0 && op !== "import" && op !== "delete-replaced" && !dynamic(s)
                ? Object.fromEntries(Object.entries(s.detailedDiff).map(([k, v]) => [k, { kind: v.kind, inputDiff: !afterImport }]))
                : null,
            ...offlinePlan(op, s, stand),
        };
    };
    // The engine counts the update after an import as well as the import.
    const importUpdates = steps.filter((s) => s.op === "import" && s.diffs.length > 0).length;
    const counted = { ...summary, update: summary.update + importUpdates, [root.op]: summary[root.op] + 1 };
    const doc = {
        ...(extras && Object.keys(extras.config).length > 0 ? { config: extras.config } : {}),
        steps: [
            { op: root.op, urn: root.urn, newState: { urn: root.urn, custom: false, type: "pulumi:pulumi:Stack" }, detailedDiff: null },
            ...listed.map(({ op, step: s }) => step(op, s)),
        ],
        ...(extras ? { duration: extras.durationNs } : {}),
        changeSummary: Object.fromEntries(Object.entries(counted).filter(([, n]) => n > 0)),
        offlinePlan: { dataSources: invokes.map((i) => ({ token: i.token, args: i.args, answer: i.answer, note: i.note })) },
    };
    return `${maskSecretTokens(JSON.stringify(doc, null, 2))}\n`;
}
