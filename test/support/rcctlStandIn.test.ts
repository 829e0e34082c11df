// The rcctl stand-in answers as usr.sbin/rcctl/rcctl.sh does for what the edge deploy asks (see
// rcctlStandIn.ts): the deploy's record of ifstated, and its removal, rely on these answers.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { rcctlStandIn } from "./rcctlStandIn";

let dir = "";
let rcctl = "";
beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "ovhf-rcctl-"));
    rcctl = path.join(dir, "rcctl");
    fs.writeFileSync(rcctl, rcctlStandIn({ etcDir: dir, runDir: path.join(dir, "run"), callLog: path.join(dir, "calls"), daemons: { ifstated: { rcConf: "NO" }, ntpd: { rcConf: "", rcdFlags: "-s" } } }), { mode: 0o755 });
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const run = (...args: string[]) => {
    const r = spawnSync(rcctl, args, { encoding: "utf8" });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
};
const rcConfLocal = () => (fs.existsSync(path.join(dir, "rc.conf.local")) ? fs.readFileSync(path.join(dir, "rc.conf.local"), "utf8") : undefined);

describe("the rcctl stand-in, as rcctl.sh", () => {
    it("a base daemon off by default: flags NO, status 1; enabled, no flags printed, status 0, and a line with no flags", () => {
        expect(run("get", "ifstated", "flags")).toEqual({ status: 0, stdout: "NO\n", stderr: "" });
        expect(run("get", "ifstated", "status")).toEqual({ status: 1, stdout: "", stderr: "" });
        expect(run("enable", "ifstated").status).toBe(0);
        expect(rcConfLocal()).toBe("ifstated_flags=\n");
        expect(run("get", "ifstated", "flags")).toEqual({ status: 0, stdout: "", stderr: "" });
        expect(run("get", "ifstated", "status")).toEqual({ status: 0, stdout: "", stderr: "" });
    });

    it("set flags needs the daemon enabled; enable keeps flags already set", () => {
        expect(run("set", "ifstated", "flags", "-f", "/etc/x.conf")).toMatchObject({ status: 1, stderr: "rcctl: ifstated is not enabled\n" });
        run("enable", "ifstated");
        expect(run("set", "ifstated", "flags", "-f", "/etc/x.conf").status).toBe(0);
        expect(run("get", "ifstated", "flags").stdout).toBe("-f /etc/x.conf\n");
        run("enable", "ifstated");
        expect(rcConfLocal()).toBe("ifstated_flags=-f /etc/x.conf\n");
        // No flags: back to the defaults, the line kept for a daemon rc.conf turns off.
        expect(run("set", "ifstated", "flags", "").status).toBe(0);
        expect(rcConfLocal()).toBe("ifstated_flags=\n");
    });

    it("disable drops the daemon's lines, sorts the rest, and removes an empty rc.conf.local", () => {
        fs.writeFileSync(path.join(dir, "rc.conf.local"), "pkg_scripts=x\nifstated_flags=-v\nifstated_timeout=60\n");
        expect(run("disable", "ifstated").status).toBe(0);
        expect(rcConfLocal()).toBe("pkg_scripts=x\n");
        fs.writeFileSync(path.join(dir, "rc.conf.local"), "ifstated_flags=\n");
        run("disable", "ifstated");
        expect(rcConfLocal()).toBeUndefined();
    });

    it("a daemon on by default: disable writes flags NO; its rc.d default flags are recorded as none", () => {
        expect(run("get", "ntpd", "flags").stdout).toBe("-s\n");
        run("disable", "ntpd");
        expect(rcConfLocal()).toBe("ntpd_flags=NO\n");
        run("enable", "ntpd");
        expect(rcConfLocal()).toBeUndefined();
        run("set", "ntpd", "flags", "-s");
        expect(rcConfLocal()).toBeUndefined();
    });

    it("starts a daemon whose flags are NO only with -f, with the flags it has", () => {
        expect(run("start", "ifstated")).toMatchObject({ status: 1, stderr: "/etc/rc.d/ifstated: need -f to force start since ifstated_flags=NO\n" });
        expect(run("check", "ifstated").status).toBe(1);
        run("enable", "ifstated");
        run("set", "ifstated", "flags", "-f", "/etc/x.conf");
        expect(run("restart", "ifstated").status).toBe(0);
        expect(fs.readFileSync(path.join(dir, "run", "ifstated.running"), "utf8")).toBe("-f /etc/x.conf\n");
        expect(run("stop", "ifstated").status).toBe(0);
        expect(run("check", "ifstated").status).toBe(1);
        expect(fs.readFileSync(path.join(dir, "calls"), "utf8").split("\n")[0]).toBe("rcctl start ifstated");
    });
});
