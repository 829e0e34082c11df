// What an npm SDK of a provider declares for a resource, read from its TypeScript declarations,
// and what the plugin's own schema says, in the same shape: so that a plugin built from another
// commit than the SDK's release can be proved to serve the resources the stack uses as the SDK
// declares them (names, which inputs are required, nested types, recursively).
import * as fs from "fs";
import * as path from "path";
import * as ts from "typescript";

/** A resource's or an object type's properties: name → required, and the nested type it refers to, if any. */
export type Shape = Record<string, { required: boolean; ref?: string }>;

export interface ResourceShapes {
    inputs: Shape;
    outputs: Shape;
    state: Shape;
}

interface SchemaProperty {
    $ref?: string;
    type?: string;
    items?: SchemaProperty;
    additionalProperties?: SchemaProperty;
}

interface SchemaObject {
    properties?: Record<string, SchemaProperty>;
    required?: string[];
    inputProperties?: Record<string, SchemaProperty>;
    requiredInputs?: string[];
    stateInputs?: { properties?: Record<string, SchemaProperty> };
}

export interface PackageSchema {
    resources: Record<string, SchemaObject>;
    types: Record<string, SchemaObject>;
}

/** The object type a property refers to, through lists and maps: its token. */
function refOf(p: SchemaProperty | undefined): string | undefined {
    if (!p) return undefined;
    if (p.$ref?.startsWith("#/types/")) return decodeURIComponent(p.$ref.slice("#/types/".length));
    return refOf(p.items) ?? refOf(p.additionalProperties);
}

function schemaShape(props: Record<string, SchemaProperty> = {}, required: string[] = []): Shape {
    return Object.fromEntries(Object.entries(props).map(([k, p]) => [k, { required: required.includes(k), ...(refOf(p) ? { ref: refOf(p) } : {}) }]));
}

export function schemaResource(schema: PackageSchema, token: string): ResourceShapes {
    const r = schema.resources[token];
    if (!r) throw new Error(`the plugin's schema has no resource ${token}`);
    return {
        inputs: schemaShape(r.inputProperties, r.requiredInputs),
        outputs: schemaShape(r.properties, r.required),
        state: schemaShape(r.stateInputs?.properties),
    };
}

export function schemaType(schema: PackageSchema, token: string, side: "input" | "output"): Shape {
    const t = schema.types[token];
    if (!t) throw new Error(`the plugin's schema has no type ${token}`);
    // An input type's properties are all optional where the schema says so; outputs may be marked too.
    return schemaShape(t.properties, side === "input" ? t.required : t.required ?? []);
}

/** The SDK's module folder and file for a token: ovh:Ip/move:Move → ip/move; proxmoxve:index/containerLegacy:ContainerLegacy → containerLegacy. */
function sdkFile(sdkDir: string, token: string): string {
    const [, modulePart, name] = token.split(":");
    // command:remote:Command has no file part: the file is the name's, first letter lowered.
    const [mod, file = name.charAt(0).toLowerCase() + name.slice(1)] = modulePart.split("/");
    const folder = mod === "index" ? "" : mod.toLowerCase();
    return path.join(sdkDir, folder, `${file}.d.ts`);
}

function parse(file: string): ts.SourceFile {
    return ts.createSourceFile(file, fs.readFileSync(file, "utf8"), ts.ScriptTarget.Latest, true);
}

function membersShape(members: readonly ts.TypeElement[] | readonly ts.ClassElement[], sf: ts.SourceFile): Shape {
    const out: Shape = {};
    for (const m of members) {
        if (!(ts.isPropertySignature(m) || ts.isPropertyDeclaration(m)) || !m.name) continue;
        if (ts.isPropertyDeclaration(m) && m.modifiers?.some((x) => x.kind === ts.SyntaxKind.StaticKeyword)) continue;
        const name = m.name.getText(sf).replace(/^["']|["']$/g, "");
        const typeText = m.type?.getText(sf) ?? "";
        // inputs.Ip.MoveRoutedTo, outputs.ContainerLegacyCpu, …: the nested type's name.
        const ref = /(?:inputs|outputs)\.([\w.]+)/.exec(typeText)?.[1];
        out[name] = { required: !m.questionToken, ...(ref ? { ref } : {}) };
    }
    return out;
}

export function sdkResource(sdkDir: string, token: string): ResourceShapes {
    const name = token.split(":")[2];
    const sf = parse(sdkFile(sdkDir, token));
    let inputs: Shape | undefined;
    let state: Shape | undefined;
    let outputs: Shape | undefined;
    sf.forEachChild((node) => {
        if (ts.isInterfaceDeclaration(node) && node.name.text === `${name}Args`) inputs = membersShape(node.members, sf);
        if (ts.isInterfaceDeclaration(node) && node.name.text === `${name}State`) state = membersShape(node.members, sf);
        if (ts.isClassDeclaration(node) && node.name?.text === name) outputs = membersShape(node.members, sf);
    });
    if (!inputs || !outputs) throw new Error(`${sdkFile(sdkDir, token)} does not declare ${name} and ${name}Args`);
    // The class's own members besides the outputs: the SDK's bookkeeping, not the schema's.
    delete outputs.__pulumiType;
    // A resource with no state inputs (one that cannot be looked up by id) has no State interface.
    return { inputs, outputs, state: state ?? {} };
}

/** An SDK's nested type by its schema token (ovh:Ip/MoveRoutedTo:MoveRoutedTo → namespace Ip, interface MoveRoutedTo). */
export function sdkType(sdkDir: string, token: string, side: "input" | "output"): Shape {
    const [, modulePart, name] = token.split(":");
    const mod = modulePart.split("/")[0];
    const sf = parse(path.join(sdkDir, "types", `${side}.d.ts`));
    let found: Shape | undefined;
    const visit = (node: ts.Node, inModule: string | undefined) => {
        if (ts.isModuleDeclaration(node) && node.body && ts.isModuleBlock(node.body)) {
            for (const s of node.body.statements) visit(s, node.name.getText(sf));
            return;
        }
        const wanted = mod === "index" ? inModule === undefined : inModule?.toLowerCase() === mod.toLowerCase();
        // An input type is named as in the schema, or with Args after it (@pulumi/command's).
        const names = side === "input" ? [name, `${name}Args`] : [name];
        if (ts.isInterfaceDeclaration(node) && names.includes(node.name.text) && wanted) found = membersShape(node.members, sf);
    };
    sf.forEachChild((n) => visit(n, undefined));
    if (!found) throw new Error(`${path.join(sdkDir, "types", `${side}.d.ts`)} does not declare ${token}`);
    return found;
}

/**
 * Every difference between the plugin's schema and the SDK for a resource and the object types
 * its inputs and outputs reach: a property on one side only, or required on one side only.
 */
export function schemaDifferences(schema: PackageSchema, sdkDir: string, token: string): string[] {
    const out: string[] = [];
    const compare = (where: string, fromSchema: Shape, fromSdk: Shape, checkRequired: boolean) => {
        for (const k of Object.keys(fromSchema)) if (!(k in fromSdk)) out.push(`${where}.${k}: in the plugin's schema, not in the SDK`);
        for (const k of Object.keys(fromSdk)) if (!(k in fromSchema)) out.push(`${where}.${k}: in the SDK, not in the plugin's schema`);
        if (!checkRequired) return;
        for (const [k, p] of Object.entries(fromSchema)) {
            if (k in fromSdk && p.required !== fromSdk[k].required) out.push(`${where}.${k}: ${p.required ? "required" : "optional"} in the plugin's schema, ${fromSdk[k].required ? "required" : "optional"} in the SDK`);
        }
    };
    const r = schemaResource(schema, token);
    const s = sdkResource(sdkDir, token);
    compare(`${token} inputs`, r.inputs, s.inputs, true);
    compare(`${token} state`, r.state, s.state, false);
    // The SDK's output members are all declared present (readonly x: Output<T>): names only.
    compare(`${token} outputs`, r.outputs, s.outputs, false);
    const seen = new Set<string>();
    const walkTypes = (shape: Shape, side: "input" | "output") => {
        for (const p of Object.values(shape)) {
            // Object types only: an enum is a set of values, not properties.
            if (!p.ref || seen.has(`${side} ${p.ref}`) || !schema.types[p.ref]?.properties) continue;
            seen.add(`${side} ${p.ref}`);
            const t = schemaType(schema, p.ref, side);
            compare(`${p.ref} (${side})`, t, sdkType(sdkDir, p.ref, side), side === "input");
            walkTypes(t, side);
        }
    };
    walkTypes(r.inputs, "input");
    walkTypes(r.outputs, "output");
    return out;
}
