// The README's main command runs through ./ovh-failover, the checkout's launcher: it must start the
// package's own command line (the one package.json declares), and a checkout that was never built
// must say how to build it, from the launcher and from the plan alike, not print a module error.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { afterAll, describe, expect, it } from "vitest";

const root = path.resolve(__dirname, "../..");
const launcher = path.join(root, "ovh-failover");
const work = fs.mkdtempSync(path.join(os.tmpdir(), "ovh-failover-launcher-"));
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));
const pkg = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8")) as { version: string; bin: Record<string, string> };

describe("./ovh-failover", () => {
    it("starts the command line package.json declares as the ovh-failover bin", () => {
        const script = fs.readFileSync(launcher, "utf8");
        expect(/^cli="\$here\/(.+)"$/m.exec(script)?.[1]).toBe(pkg.bin["ovh-failover"]);
        const r = spawnSync(launcher, ["--version"], { cwd: os.tmpdir(), encoding: "utf8" });
        expect(r.status, r.stderr).toBe(0);
        expect(r.stdout.trim()).toContain(pkg.version);
    });

    it("started through a symlink elsewhere, still runs its own checkout's command line", () => {
        const link = path.join(work, "linked", "ovh-failover");
        fs.mkdirSync(path.dirname(link));
        fs.symlinkSync(launcher, link);
        const r = spawnSync(link, ["--version"], { cwd: os.tmpdir(), encoding: "utf8" });
        expect(r.status, r.stderr).toBe(0);
        expect(r.stdout.trim()).toContain(pkg.version);
    });

    it("passes shellcheck, and is executable in git", () => {
        const r = spawnSync("shellcheck", [launcher], { encoding: "utf8" });
        expect(r.status, r.stdout).toBe(0);
        const mode = spawnSync("git", ["ls-files", "-s", "ovh-failover"], { cwd: root, encoding: "utf8" }).stdout;
        expect(mode).toMatch(/^100755 /);
    });

    it("in a checkout without dist/: exit 2, says to run npm ci, prints nothing on stdout", () => {
        const copy = path.join(work, "unbuilt", "ovh-failover");
        fs.mkdirSync(path.dirname(copy));
        fs.copyFileSync(launcher, copy);
        fs.chmodSync(copy, 0o755);
        const r = spawnSync(copy, ["plan", "reverse-proxy"], { cwd: path.dirname(copy), encoding: "utf8" });
        expect(r.status).toBe(2);
        expect(r.stdout).toBe("");
        expect(r.stderr).toMatch(/dist\/bin\/ovh-failover\.js is missing: .*run `npm ci` \(or `npm run build`\)/);
    });
});

describe("the plan of a project whose program is not built", () => {
    it("names the missing main and the build command, not a module or chdir error", () => {
        const project = path.join(work, "project");
        fs.mkdirSync(path.join(project, "stacks"), { recursive: true });
        fs.writeFileSync(path.join(project, "Pulumi.yaml"), "name: unbuilt\nruntime: nodejs\nmain: dist/index.js\nstackConfigDir: stacks\n");
        fs.writeFileSync(path.join(project, "package.json"), JSON.stringify({ name: "unbuilt", scripts: { build: "tsc" } }));
        fs.writeFileSync(path.join(project, "stacks", "Pulumi.dev.yaml"), "config: {}\n");
        const r = spawnSync(process.execPath, [path.join(root, pkg.bin["ovh-failover"]), "plan", "dev"], { cwd: project, encoding: "utf8" });
        expect(r.status).toBe(2);
        expect(r.stderr).toContain("the program dist/index.js (Pulumi.yaml main) does not exist: it is built by `npm run build`");
        expect(r.stderr).not.toMatch(/Cannot find module|ENOENT|\n\s+at /);
    });
});
