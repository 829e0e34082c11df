// The project's compiled layout: each source of index.ts, components/ and bin/ has its JavaScript
// under dist/ (scripts/build.ts writes them). The program runs from dist/ (Pulumi.yaml main), so
// it refuses a build older than its sources rather than run yesterday's code.
import * as fs from "fs";
import * as path from "path";

/** The sources compiled to dist/, relative to the root. */
export function sourcesOf(root: string): string[] {
    const walk = (dir: string): string[] => {
        if (!fs.existsSync(path.join(root, dir))) return [];
        return fs.readdirSync(path.join(root, dir), { withFileTypes: true }).flatMap((e) => {
            const rel = path.join(dir, e.name);
            if (e.isDirectory()) return walk(rel);
            return e.name.endsWith(".ts") && !e.name.endsWith(".d.ts") ? [rel] : [];
        });
    };
    return [...(fs.existsSync(path.join(root, "index.ts")) ? ["index.ts"] : []), ...walk("components"), ...walk("bin")].sort();
}

/** Where a source's compiled file is. */
export function compiledPath(root: string, source: string): string {
    return path.join(root, "dist", source.replace(/\.ts$/, ".js"));
}

/** The first source newer than its compiled file (or with none), or undefined when dist/ is up to date. */
export function staleSource(root: string): string | undefined {
    return sourcesOf(root).find((s) => {
        const out = compiledPath(root, s);
        return !fs.existsSync(out) || fs.statSync(out).mtimeMs < fs.statSync(path.join(root, s)).mtimeMs;
    });
}

/**
 * Throws when the file running is a compiled one (dist/…/x.js) and a source of the checkout it was
 * compiled from is newer. An installed package has no sources: nothing to compare.
 */
export function assertFreshBuild(compiledFile: string, root: string): void {
    if (!compiledFile.endsWith(".js") || !fs.existsSync(path.join(root, "components"))) return;
    const stale = staleSource(root);
    if (stale !== undefined) {
        throw new Error(`${path.relative(root, compiledPath(root, stale))} is older than ${stale}: run \`npm run build\` (the program runs from dist/)`);
    }
}
