// Compiles the project for Node.js, with no TypeScript at run time: index.ts (the program),
// components/ (the library) and bin/ (the command line) to dist/, one JavaScript file per source
// as tsc would lay them out (esbuild: a fraction of a second; `npm run build` adds the type
// declarations with tsc), and ovh-ipmove as one bundled file for the edge nodes.
// Usage: tsx scripts/build.ts [<project root>]
import * as path from "path";
import { buildSync } from "esbuild";
import { buildIpmoveBundle } from "../components/edge/ipmoveBundle";
import { sourcesOf } from "../bin/freshBuild";

/** Transpiles every source to dist/ and bundles ovh-ipmove; returns the number of files written. */
export function buildJs(root: string): number {
    const sources = sourcesOf(root);
    buildSync({
        entryPoints: sources.map((s) => path.join(root, s)),
        outdir: path.join(root, "dist"),
        outbase: root,
        absWorkingDir: root,
        format: "cjs",
        platform: "node",
        target: "node20",
        logLevel: "warning",
    });
    buildIpmoveBundle(root);
    return sources.length;
}

if (require.main === module) {
    const root = path.resolve(process.argv[2] ?? path.join(__dirname, ".."));
    const n = buildJs(root);
    console.log(`built ${n} files into ${path.relative(process.cwd(), path.join(root, "dist")) || "dist"}`);
}
