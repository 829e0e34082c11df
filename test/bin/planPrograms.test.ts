// The plan runs a project's program as Pulumi's Node.js runtime does (@pulumi/pulumi cmd/run): main
// found from Pulumi.yaml, package.json or index.js; a function export called; what the program
// prints kept off a --json stdout; a program that exits said as such. Through the compiled
// command line, which evaluates in its own process.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { afterAll, describe, expect, it } from "vitest";
import { resourceSteps } from "../support/planJson";

const root = path.resolve(__dirname, "../..");
const work = fs.mkdtempSync(path.join(os.tmpdir(), "ovhf-programs-"));
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

/** A JavaScript Pulumi project (no main in Pulumi.yaml) with these files, borrowing node_modules. */
function project(name: string, files: Record<string, string>): string {
    const dir = path.join(work, name);
    fs.mkdirSync(dir);
    fs.symlinkSync(path.join(root, "node_modules"), path.join(dir, "node_modules"), "dir");
    fs.writeFileSync(path.join(dir, "Pulumi.yaml"), `name: ${name}\nruntime: nodejs\n`);
    fs.writeFileSync(path.join(dir, "Pulumi.dev.yaml"), "config: {}\n");
    for (const [f, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, f), text);
    return dir;
}

const plan = (dir: string, ...args: string[]) => spawnSync(process.execPath, [path.join(root, "dist/bin/ovh-failover.js"), "plan", "dev", ...args], { cwd: dir, encoding: "utf8" });

const DECLARE = `const pulumi = require("@pulumi/pulumi");
console.log("hello from the program");
new pulumi.ComponentResource("test:index:Thing", "thing");`;

describe("the plan runs a program as Pulumi does", () => {
    it("finds package.json's main, calls a function export, and keeps the program's prints off --json stdout", () => {
        const dir = project("fnexport", {
            "package.json": JSON.stringify({ name: "fnexport", main: "program.js" }),
            "program.js": `module.exports = async () => {\n${DECLARE}\n};\n`,
        });
        const r = plan(dir, "--json");
        expect(r.status, r.stderr).toBe(0);
        expect(resourceSteps(r.stdout).map((s) => s.urn)).toEqual(["urn:pulumi:dev::fnexport::test:index:Thing::thing"]);
        expect(r.stderr).toContain("hello from the program");
    });

    it("runs index.js when there is no main anywhere, and an ES module's default export", () => {
        const dir = project("esdefault", {
            "index.js": `Object.defineProperty(exports, "__esModule", { value: true });\nexports.default = () => {\n${DECLARE}\n};\n`,
        });
        const r = plan(dir, "--json");
        expect(r.status, r.stderr).toBe(0);
        expect(resourceSteps(r.stdout).map((s) => s.urn)).toEqual(["urn:pulumi:dev::esdefault::test:index:Thing::thing"]);
    });

    it("reads a project spelled Pulumi.yml, and its Pulumi.<stack>.yml, as Pulumi does", () => {
        const dir = project("yml", { "index.js": DECLARE });
        fs.renameSync(path.join(dir, "Pulumi.yaml"), path.join(dir, "Pulumi.yml"));
        fs.renameSync(path.join(dir, "Pulumi.dev.yaml"), path.join(dir, "Pulumi.dev.yml"));
        const r = plan(dir, "--json");
        expect(r.status, r.stderr).toBe(0);
        expect(resourceSteps(r.stdout).map((s) => s.urn)).toEqual(["urn:pulumi:dev::yml::test:index:Thing::thing"]);
    });

    it("says so when the program exits before it is done, with the plan's exit code", () => {
        const dir = project("exits", { "index.js": "process.exit(3);\n" });
        const r = plan(dir);
        expect(r.status).toBe(2);
        expect(r.stderr).toContain("the program called process.exit(3) before it declared everything");
    });
});
