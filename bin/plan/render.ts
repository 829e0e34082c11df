// Printing a plan: text in the shape of `pulumi preview --diff`, or JSON in the shape of
// `pulumi preview --json`.
import { ChangeSummary, DeclaredResource, InvokeRecord, Step, StepOp } from "./model";

export interface Style {
    color: boolean;
}

const SYMBOL: Record<StepOp, string> = { same: " ", create: "+", update: "~", replace: "+-", delete: "-" };
const COLOR: Record<StepOp, string> = { same: "", create: "\x1b[32m", update: "\x1b[33m", replace: "\x1b[35m", delete: "\x1b[31m" };
const RESET = "\x1b[0m";
const BOLD = "\x1b[1m";

function paint(style: Style, code: string, text: string): string {
    return style.color && code ? `${code}${text}${RESET}` : text;
}

/** Protected resources cannot be deleted or replaced: `pulumi up` would stop there. */
function protectWarning(step: Step, style: Style): string | undefined {
    if (!step.protect && !step.old?.protect) return undefined;
    if (step.op !== "delete" && step.op !== "replace") return undefined;
    const text = `** PROTECTED: pulumi up refuses to ${step.op} this resource; unprotect it on purpose first (pulumi state unprotect '${step.urn}') **`;
    return style.color ? `${BOLD}${text}${RESET}` : text;
}

/** Secrets travel as [secret#<keyed hash>] so that a change shows; they print as [secret]. */
export function maskSecretTokens(text: string): string {
    return text.replace(/\[secret#[0-9a-f]+\]/g, "[secret]");
}

function show(value: unknown): string {
    return maskSecretTokens(JSON.stringify(value));
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
    for (const step of treeOrder(steps)) {
        if (step.op === "same" && !showUnchanged && !context.has(step.urn)) continue;
        const indent = "    ".repeat(depth(step.urn, byUrn));
        const sym = SYMBOL[step.op].padEnd(2);
        const r = (step.new ?? step.old)!;
        const tag = step.op === "same" ? "(same)" : `(${step.op})`;
        out.push(paint(style, COLOR[step.op], `${indent}${sym}${step.type}: ${tag}${r.protect ? " [protect]" : ""}`));
        out.push(`${indent}      [urn=${step.urn}]`);
        if (r.dependencies.length > 0) out.push(`${indent}      [dependsOn=${r.dependencies.map((u) => u.split("::").pop()).join(", ")}]`);
        const warning = protectWarning(step, style);
        if (warning) out.push(`${indent}      ${warning}`);
        if (step.op === "create" && r.custom) out.push(...inputLines(r.inputs, `${indent}    `, "+").map((l) => paint(style, COLOR.create, l)));
        if (step.op === "update" || step.op === "replace") out.push(...changeLines(step, `${indent}    `).map((l) => paint(style, COLOR[step.op], l)));
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
    const rows: [StepOp, string][] = [["create", "to create"], ["update", "to update"], ["replace", "to replace"], ["delete", "to delete"]];
    for (const [op, label] of rows) {
        if (summary[op] > 0) out.push(paint(style, COLOR[op], `    ${SYMBOL[op].padEnd(2)}${summary[op]} ${label}`));
    }
    const changes = summary.create + summary.update + summary.replace + summary.delete;
    out.push(`    ${changes} change${changes === 1 ? "" : "s"}. ${summary.same} unchanged`);
    return `${out.join("\n")}\n`;
}

export function renderJson(steps: Step[], summary: ChangeSummary, invokes: InvokeRecord[]): string {
    const doc = {
        steps: steps
            .filter((s) => s.op !== "same")
            .map((s) => ({
                op: s.op,
                urn: s.urn,
                type: s.type,
                name: s.name,
                protect: s.protect,
                diffs: s.diffs,
                detailedDiff: Object.fromEntries(Object.entries(s.detailedDiff).map(([k, v]) => [k, { kind: v.kind, inputDiff: true }])),
                ...(s.old ? { oldState: { urn: s.old.urn, type: s.old.type, inputs: s.old.inputs, parent: s.old.parent, protect: s.old.protect } } : {}),
                ...(s.new ? { newState: { urn: s.new.urn, type: s.new.type, inputs: s.new.inputs, parent: s.new.parent, protect: s.new.protect, dependencies: s.new.dependencies } } : {}),
            })),
        changeSummary: Object.fromEntries(Object.entries(summary).filter(([, n]) => n > 0)),
        dataSources: invokes.map((i) => ({ token: i.token, args: i.args, answer: i.answer, note: i.note })),
    };
    return `${maskSecretTokens(JSON.stringify(doc, null, 2))}\n`;
}
