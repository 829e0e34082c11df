// Printing a plan: text in the shape of `pulumi preview --diff`, or JSON in the shape of
// `pulumi preview --json`.
import { checkedInputs, ruleFor } from "./providerRules";
import { ChangeSummary, DeclaredResource, InvokeRecord, ReplacementOp, SERIALIZED_PROVIDER, SIG, Step, StepOp, UNKNOWN_TEXT } from "./model";

export interface Style {
    color: boolean;
    /** List a replacement as its steps, in the engine's order (pulumi preview --show-replacement-steps). */
    showReplacementSteps?: boolean;
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
const RESET = "\x1b[0m";
const BOLD = "\x1b[1m";

function paint(style: Style, code: string, text: string): string {
    return style.color && code ? `${code}${text}${RESET}` : text;
}

/** Protected resources cannot be deleted or replaced: `pulumi up` would stop there. */
function protectWarning(step: Step, style: Style): string | undefined {
    if (step.blockedBy !== "protect") return undefined;
    const what = step.op === "delete"
        ? "pulumi up stops at this resource, after deleting what depends on it"
        : "pulumi up refuses to replace this resource";
    const text = `** PROTECTED: ${what}; unprotect it on purpose first (pulumi state unprotect '${step.urn}') **`;
    return style.color ? `${BOLD}${text}${RESET}` : text;
}

/** What the delete half of a step does in the world, or that the engine only forgets the resource. */
function deleteLine(step: Step): string | undefined {
    if (step.op !== "delete" && step.op !== "replace") return undefined;
    if (step.retained) return "[retain] the provider's delete does not run: Pulumi forgets the old one and it stays as it is";
    return step.deleteEffect ? `the provider's delete ${step.deleteEffect}` : undefined;
}

/** Secrets travel as [secret#<keyed hash>] so that a change shows; they print as [secret]. */
export function maskSecretTokens(text: string): string {
    return text.replace(/\[secret#[0-9a-f]+\]/g, "[secret]");
}

/** A file asset, shown by its path and the start of its hash. */
function textValue(value: unknown): unknown {
    if (Array.isArray(value)) return value.map(textValue);
    if (typeof value !== "object" || value === null) return value;
    const obj = value as Record<string, unknown>;
    if (obj[SIG.key] === SIG.asset) return `[file ${String(obj.path)}${typeof obj.hash === "string" ? ` sha256:${obj.hash.slice(0, 12)}` : ""}]`;
    return Object.fromEntries(Object.entries(obj).map(([k, v]) => [k, textValue(v)]));
}

function show(value: unknown): string {
    return value === undefined ? "(none)" : maskSecretTokens(JSON.stringify(textValue(value)));
}

function inputLines(inputs: Record<string, unknown>, indent: string, sign: string): string[] {
    const lines: string[] = [];
    for (const [key, value] of Object.entries(inputs)) {
        if (typeof value === "string" && value.includes("\n")) {
            lines.push(`${indent}${sign} ${key}: |`);
            for (const l of value.replace(/\n$/, "").split("\n")) lines.push(`${indent}      ${maskSecretTokens(l)}`);
        } else {
            lines.push(`${indent}${sign} ${key}: ${show(value)}`);
        }
    }
    return lines;
}

function get(obj: unknown, path: string): unknown {
    let node: unknown = obj;
    for (const m of path.matchAll(/([^.[\]]+)|\[(\d+)\]/g)) {
        if (typeof node !== "object" || node === null) return undefined;
        node = (node as Record<string, unknown>)[m[1] ?? m[2]];
    }
    return node;
}

/** Old → new for each changed property; a multi-line value (a script) shows only its changed lines. */
function changeLines(step: Step, indent: string): string[] {
    const lines: string[] = [];
    for (const [path, d] of Object.entries(step.detailedDiff)) {
        const before = get(step.old?.inputs, path);
        const after = get(step.new?.inputs, path);
        const mark = d.kind.endsWith("replace") ? " (forces replacement)" : "";
        if (typeof before === "string" && typeof after === "string" && (before.includes("\n") || after.includes("\n"))) {
            lines.push(`${indent}~ ${path}:${mark}`);
            const a = before.split("\n");
            const b = after.split("\n");
            for (const l of a) if (!b.includes(l)) lines.push(`${indent}    - ${maskSecretTokens(l)}`);
            for (const l of b) if (!a.includes(l)) lines.push(`${indent}    + ${maskSecretTokens(l)}`);
        } else if (d.kind.startsWith("add")) {
            lines.push(`${indent}+ ${path}: ${show(after)}${mark}`);
        } else if (d.kind.startsWith("delete")) {
            lines.push(`${indent}- ${path}: ${show(before)}${mark}`);
        } else {
            lines.push(`${indent}~ ${path}: ${show(before)} => ${show(after)}${mark}`);
        }
    }
    return lines;
}

function depth(urn: string, byUrn: Map<string, DeclaredResource>): number {
    let d = 0;
    for (let r = byUrn.get(urn); r?.parent; r = byUrn.get(r.parent)) d++;
    return d;
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

export function renderText(title: string, steps: Step[], summary: ChangeSummary, invokes: InvokeRecord[], style: Style, showUnchanged: boolean): string {
    const byUrn = new Map<string, DeclaredResource>();
    for (const s of steps) byUrn.set(s.urn, (s.new ?? s.old)!);
    const out: string[] = [title, ""];
    // Unchanged parents of a change are shown too, so that every change sits in its tree.
    const context = new Set<string>();
    for (const s of steps) {
        if (s.op === "same") continue;
        for (let p = (s.new ?? s.old)?.parent; p; p = byUrn.get(p)?.parent) context.add(p);
    }
    // Replacement steps are listed in the engine's order, which is the order of registration;
    // otherwise each resource sits under its parent.
    const ordered = style.showReplacementSteps ? engineOrder(steps, true) : engineOrder(treeOrder(steps), false);
    for (const { op, step } of ordered) {
        if (step.op === "same" && !showUnchanged && !context.has(step.urn)) continue;
        const indent = "    ".repeat(depth(step.urn, byUrn));
        // An import the program then changes is `=~ (import-update)`: the engine imports, then updates.
        const importUpdate = op === "import" && step.diffs.length > 0;
        const sym = importUpdate ? "=~" : SYMBOL[op].padEnd(2);
        const r = (step.new ?? step.old)!;
        const tags = [
            step.op === "replace" && op === "replace" ? `[${step.replacementOrder}]` : "",
            step.retained && (op === "delete" || op === "replace" || op === "delete-replaced") ? "[retain]" : "",
            r.protect ? "[protect]" : "",
        ].filter(Boolean);
        out.push(paint(style, COLOR[op], `${indent}${sym}${step.type}: (${importUpdate ? "import-update" : op})${tags.map((t) => ` ${t}`).join("")}`));
        out.push(`${indent}      [urn=${step.urn}]`);
        if (op === "create-replacement") continue;
        const effect = op === "replace" && style.showReplacementSteps ? undefined : deleteLine(step);
        if (op === "delete-replaced") {
            if (deleteLine(step)) out.push(`${indent}      ${deleteLine(step)}`);
            continue;
        }
        if (r.dependencies.length > 0) out.push(`${indent}      [dependsOn=${r.dependencies.map((u) => u.split("::").pop()).join(", ")}]`);
        const warning = protectWarning(step, style);
        if (warning) out.push(`${indent}      ${warning}`);
        if (effect) out.push(`${indent}      ${effect}`);
        if (op === "import") out.push(`${indent}      [import=${r.importId}]`);
        if (step.adopts) out.push(`${indent}      adopts ${step.adopts}`);
        for (const w of step.warnings ?? []) out.push(`${indent}      ${style.color ? `${BOLD}warning: ${w}${RESET}` : `warning: ${w}`}`);
        if (step.op === "create" && r.custom) out.push(...inputLines(r.inputs, `${indent}    `, "+").map((l) => paint(style, COLOR.create, l)));
        if (step.op === "update" || step.op === "replace" || importUpdate) out.push(...changeLines(step, `${indent}    `).map((l) => paint(style, COLOR[step.op], l)));
    }
    const notes = invokes.filter((i) => i.note);
    if (notes.length > 0) {
        out.push("", "Data sources:");
        const seen = new Set<string>();
        for (const i of notes) {
            const line = `    ${i.token}(${JSON.stringify(i.args)}): ${i.note}`;
            if (!seen.has(line)) out.push(line);
            seen.add(line);
        }
    }
    out.push("", "Resources:");
    const rows: [StepOp, string][] = [["import", "to import"], ["create", "to create"], ["update", "to update"], ["replace", "to replace"], ["delete", "to delete"]];
    for (const [op, label] of rows) {
        if (summary[op] > 0) out.push(paint(style, COLOR[op], `    ${SYMBOL[op].padEnd(2)}${summary[op]} ${label}`));
    }
    const changes = summary.import + summary.create + summary.update + summary.replace + summary.delete;
    out.push(`    ${changes} change${changes === 1 ? "" : "s"}. ${summary.same} unchanged`);
    return `${out.join("\n")}\n`;
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
    const listed = engineOrder(steps.filter((s) => s.op !== "same"), showReplacementSteps)
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
            ...(s.diffs.length > 0 && op !== "import" ? { diffReasons: s.diffs } : {}),
            ...(op === "replace" || op === "create-replacement" || op === "delete-replaced" ? { replaceReasons: replaceReasons(s) } : {}),
            detailedDiff: Object.keys(s.detailedDiff).length > 0 && op !== "import" ? Object.fromEntries(Object.entries(s.detailedDiff).map(([k, v]) => [k, { kind: v.kind, inputDiff: !afterImport }])) : null,
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
