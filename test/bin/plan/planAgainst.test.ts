// The plan against a git ref, as a pull request's preview uses it: a clone whose last commit
// changed the IP shows that change against HEAD~1, and none against HEAD.
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { IP_CHANGE_STEPS } from "../../support/ipChange";
import { resourceSteps } from "../../support/planJson";

const root = path.resolve(__dirname, "../../..");
let clone = "";

const plan = (...args: string[]) =>
    spawnSync(process.execPath, ["--import", "tsx", path.join(clone, "bin/plan.ts"), ...args], { cwd: clone, encoding: "utf8" });

beforeAll(() => {
    clone = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "ovhf-against-")), "repo");
    execFileSync("git", ["clone", "-q", root, clone]);
    fs.symlinkSync(path.join(root, "node_modules"), path.join(clone, "node_modules"), "dir");
    execFileSync("npm", ["run", "-s", "build:js"], { cwd: clone });
    const file = path.join(clone, "stacks/Pulumi.reverse-proxy.yaml");
    fs.writeFileSync(file, fs.readFileSync(file, "utf8").replace("ip: 192.0.2.10", "ip: 203.0.113.77"));
    const git = (...a: string[]) => execFileSync("git", ["-C", clone, "-c", "user.name=test", "-c", "user.email=test@example.org", ...a]);
    git("commit", "-qam", "Move the proxy to 203.0.113.77");
});

afterAll(() => {
    if (clone) fs.rmSync(path.dirname(clone), { recursive: true, force: true });
});

describe("plan --against", () => {
    it("shows the last commit's IP change against HEAD~1", () => {
        const r = plan("reverse-proxy", "--against", "HEAD~1", "--json");
        expect(r.status, r.stderr).toBe(0);
        expect(Object.fromEntries(resourceSteps(r.stdout).map((s) => [s.name, s.op]))).toEqual(IP_CHANGE_STEPS);
    });

    it("prints the same change as text, old => new with --diff", () => {
        const r = plan("reverse-proxy", "--against", "HEAD~1", "--diff");
        expect(r.status, r.stderr).toBe(0);
        expect(r.stdout).toMatch(/^Previewing update \(reverse-proxy\) offline, at HEAD~1 \([0-9a-f]{12}\) → now:$/m);
        expect(r.stdout).toContain('~ target: "192.0.2.10" => "203.0.113.77"');
    });

    it("--expect-no-changes exits 0 on an unchanged stack and non-zero on a changed one", () => {
        const same = plan("reverse-proxy", "--against", "HEAD", "--expect-no-changes");
        expect(same.status, same.stderr).toBe(0);
        expect(same.stdout).toMatch(/^Resources:\n {4}\d+ unchanged\n$/m);
        const changed = plan("reverse-proxy", "--against", "HEAD~1", "--expect-no-changes");
        expect(changed.status).toBe(1);
        expect(changed.stderr).toContain("no changes were expected but 9 were proposed");
    });

    it("sees no change in an edge pair against HEAD: the bundled ovh-ipmove is the same bytes in the borrowed node_modules", () => {
        const same = plan("edge-pair", "--against", "HEAD", "--expect-no-changes");
        expect(same.status, same.stdout + same.stderr).toBe(0);
    });

    it("fails, as pulumi up will, when a rename would delete the protected routing", () => {
        const renamed = path.join(path.dirname(clone), "Pulumi.renamed.yaml");
        fs.writeFileSync(renamed, fs.readFileSync(path.join(clone, "stacks/Pulumi.reverse-proxy.yaml"), "utf8").replace(/^(\s+)proxy:$/m, "$1rproxy:"));
        const r = plan("reverse-proxy", "--against", "HEAD", "--stack-file", renamed);
        expect(r.status).toBe(2);
        expect(r.stdout).toContain("** PROTECTED");
        expect(r.stderr).toMatch(/^error: 1 protected resource would be deleted or replaced, which pulumi preview and pulumi up refuse:\n {2}delete urn:pulumi:reverse-proxy::ovh-failover::ovh-failover:endpoint:PublicEndpoint\$ovh-failover:network:FailoverIp\$ovh:Ip\/move:Move::proxy-ip-routing\n/);
    });

    it("names a ref that does not exist", () => {
        const r = plan("reverse-proxy", "--against", "no-such-branch");
        expect(r.status).toBe(2);
        expect(r.stderr).toContain("--against no-such-branch: not a commit in this repository");
    });
});
