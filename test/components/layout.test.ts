// The layout is part of the design: a folder per domain named as the type tokens' module, and
// imports that run one way. The import graph is read with TypeScript's own pre-processor.
import * as fs from "fs";
import * as path from "path";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const root = path.resolve(__dirname, "../..");
const components = path.join(root, "components");

function sourceFiles(dir: string): string[] {
    return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
        const p = path.join(dir, e.name);
        if (e.isDirectory()) return sourceFiles(p);
        return e.name.endsWith(".ts") ? [p] : [];
    });
}

function resolveImport(from: string, spec: string): string | undefined {
    if (!spec.startsWith(".")) return undefined;
    const base = path.resolve(path.dirname(from), spec);
    return [`${base}.ts`, path.join(base, "index.ts"), base].find((p) => fs.existsSync(p) && fs.statSync(p).isFile());
}

/** file -> the project files it imports (static imports, re-exports, import() and require()). */
function importGraph(files: string[]): Map<string, string[]> {
    const graph = new Map<string, string[]>();
    for (const file of files) {
        const info = ts.preProcessFile(fs.readFileSync(file, "utf8"), true, true);
        const targets = info.importedFiles.map((i) => resolveImport(file, i.fileName)).filter((t): t is string => t !== undefined);
        graph.set(file, [...new Set(targets)]);
    }
    return graph;
}

/** Every cycle's members (strongly connected components larger than one node, or a self-loop). */
function cycles(graph: Map<string, string[]>): string[][] {
    let index = 0;
    const indices = new Map<string, number>();
    const low = new Map<string, number>();
    const stack: string[] = [];
    const onStack = new Set<string>();
    const found: string[][] = [];
    const visit = (v: string) => {
        indices.set(v, index);
        low.set(v, index++);
        stack.push(v);
        onStack.add(v);
        for (const w of graph.get(v) ?? []) {
            if (!indices.has(w)) {
                visit(w);
                low.set(v, Math.min(low.get(v)!, low.get(w)!));
            } else if (onStack.has(w)) {
                low.set(v, Math.min(low.get(v)!, indices.get(w)!));
            }
        }
        if (low.get(v) === indices.get(v)) {
            const scc: string[] = [];
            let w: string;
            do {
                w = stack.pop()!;
                onStack.delete(w);
                scc.push(w);
            } while (w !== v);
            if (scc.length > 1 || (graph.get(v) ?? []).includes(v)) found.push(scc);
        }
    };
    for (const v of graph.keys()) if (!indices.has(v)) visit(v);
    return found;
}

/** The folder of components/ a file belongs to ("" for the top). */
const folderOf = (file: string) => {
    const rel = path.relative(components, file).split(path.sep);
    return rel.length > 1 ? rel[0] : "";
};

const files = [...sourceFiles(components), ...sourceFiles(path.join(root, "bin")), path.join(root, "index.ts")];
const graph = importGraph(files);

describe("the layout of components/", () => {
    it("has a folder per domain, and only index.ts and the composing components (the endpoint module's) on top", () => {
        const top = fs.readdirSync(components, { withFileTypes: true }).filter((e) => e.isFile()).map((e) => e.name);
        expect(top.sort()).toEqual(["cloudEndpoint.ts", "index.ts", "publicEndpoint.ts"]);
    });

    it("puts each component in the folder named as its type token's module", () => {
        const tokens = sourceFiles(components).flatMap((file) =>
            [...fs.readFileSync(file, "utf8").matchAll(/super\(\s*"ovh-failover:([a-z]+):([A-Za-z]+)"/g)].map((m) => ({ file, module: m[1], name: m[2] })),
        );
        expect(tokens.length).toBeGreaterThanOrEqual(6);
        for (const t of tokens) {
            // PublicEndpoint and CloudEndpoint compose the others and stand on top.
            const expected = t.module === "endpoint" ? "" : t.module;
            expect({ token: `${t.module}:${t.name}`, folder: folderOf(t.file) }).toEqual({ token: `${t.module}:${t.name}`, folder: expected });
        }
        // Folders without a component hold what every component may use: config parsing, pure helpers.
        const withComponents = new Set(tokens.map((t) => folderOf(t.file)));
        const folders = fs.readdirSync(components, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
        expect(folders.filter((f) => !withComponents.has(f)).sort()).toEqual(["config", "shared"]);
    });

    it("has no import cycle between files", () => {
        expect(cycles(graph).map((c) => c.map((f) => path.relative(root, f)))).toEqual([]);
    });

    it("has no import cycle between folders, and shared imports no other folder", () => {
        const folders = new Map<string, string[]>();
        for (const [file, targets] of graph) {
            if (!file.startsWith(components + path.sep)) continue;
            const from = folderOf(file);
            const to = targets.filter((t) => t.startsWith(components + path.sep)).map(folderOf).filter((f) => f !== from);
            folders.set(from, [...new Set([...(folders.get(from) ?? []), ...to])]);
        }
        expect(cycles(folders)).toEqual([]);
        expect(folders.get("shared") ?? []).toEqual([]);
        // Nothing in a folder imports the top (the composition and the library's index).
        for (const [folder, targets] of folders) if (folder !== "") expect({ folder, imports: targets.includes("") }).toEqual({ folder, imports: false });
    });

    it("would see a cycle: the check finds one in a graph that has it", () => {
        const g = new Map([["a", ["b"]], ["b", ["c"]], ["c", ["a"]], ["d", ["a"]]]);
        expect(cycles(g).map((c) => c.sort())).toEqual([["a", "b", "c"]]);
    });
});
