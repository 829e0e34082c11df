// ovh-ipmove as the edge nodes run it: one JavaScript file, bin/ovh-ipmove.ts and everything it
// imports (the official @ovhcloud/node-ovh client included) bundled by esbuild for Node.js 18 or
// later, so that a node needs Node.js and nothing else of this repository. In a checkout it is
// built when the program runs (a fraction of a second); an installed package ships the file it was
// built with. Deterministic: the same sources give the same checksum, and a new checksum is what
// redeploys it.
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";

/** The oldest Node.js the bundle runs on (esbuild target; Debian 12 ships 18.20). */
export const IPMOVE_NODE_MAJOR = 18;

export interface IpmoveBundle {
    /** The bundle on this machine. */
    file: string;
    sha256: string;
}

interface EsbuildResult {
    outputFiles: { text: string }[];
}

interface Esbuild {
    buildSync(options: Record<string, unknown>): EsbuildResult;
}

/** The package's root: the folder of its package.json, from components/edge or dist/components/edge. */
function packageRoot(): string {
    let dir = __dirname;
    while (!fs.existsSync(path.join(dir, "package.json")) && path.dirname(dir) !== dir) dir = path.dirname(dir);
    return dir;
}

/** ovh-ipmove for the program: built from the sources in a checkout, as shipped in an installed package. */
export function ipmoveBundle(): IpmoveBundle {
    const root = packageRoot();
    if (fs.existsSync(path.join(root, "bin", "ovh-ipmove.ts"))) return buildIpmoveBundle(root);
    const file = path.join(root, "dist", "ovh-ipmove.cjs");
    return { file, sha256: createHash("sha256").update(fs.readFileSync(file, "utf8")).digest("hex") };
}

/** Builds dist/ovh-ipmove.cjs under the project's root from bin/ovh-ipmove.ts. */
export function buildIpmoveBundle(root: string): IpmoveBundle {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const esbuild = require("esbuild") as Esbuild;
    const result = esbuild.buildSync({
        entryPoints: [path.join(root, "bin", "ovh-ipmove.ts")],
        bundle: true,
        platform: "node",
        target: `node${IPMOVE_NODE_MAJOR}`,
        format: "cjs",
        write: false,
        legalComments: "none",
        logLevel: "silent",
        // The bundle names each module by its path (a comment per module), relative to the
        // working directory: from the project's root, and through node_modules as it is reached,
        // so that a checkout that borrows node_modules by a symlink (plan --against) bundles the
        // same bytes.
        absWorkingDir: root,
        preserveSymlinks: true,
    });
    // esbuild keeps the entry's first line; the entry runs under tsx in the repository, the bundle
    // under node.
    const text = result.outputFiles[0].text.replace(/^#!.*\n/, "#!/usr/bin/env node\n");
    const file = path.join(root, "dist", "ovh-ipmove.cjs");
    fs.mkdirSync(path.dirname(file), { recursive: true });
    if (!fs.existsSync(file) || fs.readFileSync(file, "utf8") !== text) {
        // Plans evaluate side by side: each writes its own temporary file, then renames it.
        const tmp = `${file}.${process.pid}.tmp`;
        fs.writeFileSync(tmp, text, { mode: 0o755 });
        fs.renameSync(tmp, file);
    }
    return { file, sha256: createHash("sha256").update(text).digest("hex") };
}
