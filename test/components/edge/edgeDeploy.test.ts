import { execFileSync, spawnSync, SpawnSyncReturns } from "child_process";
import { createHash } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { afterEach, describe, expect, it } from "vitest";
import {
    asRoot, doasRule, hostnameIfPath, OpenbsdDeploy, PASSWORD_MARKER, renderHostnameUpEdit, renderKeepalivedDeploy, renderKeepalivedRemoval, renderOpenbsdDeploy, renderOpenbsdRemoval, renderSecretsInput,
    renderSysctlConfEdit,
} from "../../../components/edge/edgeDeploy";

// CI installs shellcheck from Debian's packages; there it must run.
const hasShellcheck = spawnSync("shellcheck", ["--version"]).status === 0 || process.env.CI === "true";

let dir = "";
/** ovh-ipmove as someone put it on the node: an executable in the test's folder, once there is one. */
function ipmoveInPlace(): { path: string } {
    if (!dir || !fs.existsSync(dir)) return { path: "/usr/local/bin/ovh-ipmove" };
    const file = path.join(dir, "installed-ovh-ipmove");
    if (!fs.existsSync(file)) fs.writeFileSync(file, "#!/bin/sh\n", { mode: 0o755 });
    return { path: file };
}
/** The failover IP and the VRRP address of the pair the scripts deploy. */
const pair = (masterScript = "/nonexistent/master.sh") => ({ failoverIp: "203.0.113.50", publicInterface: "eth0", vip: "10.25.0.10", carpdev: "eth2", masterScript, stateFile: path.join(dir, "state", "failover-ip"), ipmove: ipmoveInPlace() });
afterEach(() => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

/** Stand-ins for the node's tools that validate and apply: they record that they ran, with what. */
function stubs(names: string[]): string {
    const bin = path.join(dir, "bin");
    fs.mkdirSync(bin);
    for (const n of names) fs.writeFileSync(path.join(bin, n), `#!/bin/sh\necho "${n} $*" >> ${dir}/calls\n`, { mode: 0o755 });
    return bin;
}

/** An OpenBSD node's deploy, as CarpPair renders it, with what a test changes. */
function openbsdDeploy(d: Partial<OpenbsdDeploy> = {}): string {
    return renderOpenbsdDeploy({
        failoverIp: "203.0.113.50", publicInterface: "vio0", stateFile: "/var/db/ovh-failover/failover-ip",
        files: [{ path: "/etc/ifstated.conf", content: "x\n", mode: "0644" }], ipmoveConfig: "/etc/ovh-ipmove.conf",
        pfRule: "pass on vio2 proto carp", carpdev: "vio2", carpUnit: 0, ifstatedConf: "/etc/ifstated.conf",
        claimScript: "/usr/local/sbin/ovh-failover-claim", carpPreempt: false, ipmove: { path: "/usr/local/bin/ovh-ipmove" }, ...d,
    });
}

describe("edge deploy scripts", () => {
    it("create the carp interface before ifstated -n checks a configuration that names it", () => {
        const text = openbsdDeploy({ carpUnit: 1 });
        const create = text.indexOf("ifconfig carp1 >/dev/null 2>&1 || ifconfig carp1 create");
        expect(create).toBeGreaterThan(0);
        expect(text.indexOf("ifstated -n -f")).toBeGreaterThan(create);
        // The claim script ifstated.conf starts is checked before anything is installed.
        expect(text.indexOf("sh -n '/usr/local/sbin/ovh-failover-claim.new'")).toBeGreaterThan(0);
        expect(text.indexOf("sh -n '/usr/local/sbin/ovh-failover-claim.new'")).toBeLessThan(text.indexOf("mv -f"));
    });

    it("deploy and removal, of both flavours, pass sh -n and shellcheck", () => {
        const openbsd = { failoverIp: "203.0.113.50", publicInterface: "vio0", stateFile: "/var/db/ovh-failover/failover-ip", files: [{ path: "/etc/hostname.carp0", content: "up\n", mode: "0640" }], ipmoveConfig: "/etc/ovh-ipmove.conf", pfRule: "pass on vio2 proto carp", carpdev: "vio2", carpUnit: 0, ifstatedConf: "/etc/ifstated.conf", claimScript: "/usr/local/sbin/ovh-failover-claim", carpPreempt: false, ipmove: { path: "/usr/local/bin/ovh-ipmove", staged: "/usr/local/bin/ovh-ipmove.new", sha256: "0".repeat(64), nodeMajor: 18 } };
        const keepalived = { ...pair(), conf: "/etc/keepalived/keepalived.conf", ipmoveConfig: "/etc/ovh-ipmove.conf", files: [{ path: "/etc/keepalived/keepalived.conf", content: "x\n", mode: "0600" }] };
        const scripts = [renderOpenbsdDeploy(openbsd), renderOpenbsdRemoval(openbsd), renderKeepalivedDeploy(keepalived), renderKeepalivedRemoval(keepalived)];
        for (const script of scripts) {
            execFileSync("sh", ["-n"], { input: script });
            if (hasShellcheck) execFileSync("shellcheck", ["-s", "sh", "-"], { input: script });
        }
    });

    it("are valid sh", () => {
        for (const carpPreempt of [false, true]) execFileSync("sh", ["-n"], { input: openbsdDeploy({ files: [{ path: "/etc/hostname.carp0", content: "up\n", mode: "0640" }], carpPreempt }) });
    });

    it.each([[true, 1], [false, 0]] as const)("OpenBSD with preempt %s: net.inet.carp.preempt=%i in sysctl.conf, checked, installed, and set before carp comes up", (carpPreempt, value) => {
        const text = openbsdDeploy({ carpPreempt });
        const at = (fragment: string) => {
            const i = text.split("\n").findIndex((l) => l.includes(fragment));
            expect(i, fragment).toBeGreaterThan(0);
            return i;
        };
        expect(text).toContain(`printf '%s\\n' 'net.inet.carp.preempt=${value}'; } > '/etc/sysctl.conf.new'`);
        // Read (so a node without it stops the deploy) and kept, for the node's removal.
        const check = at(`[ -e "$originals/carp.preempt" ] || sysctl -n net.inet.carp.preempt > "$originals/carp.preempt"`);
        const install = at("mv -f '/etc/sysctl.conf.new' '/etc/sysctl.conf'");
        const set = at(`sysctl net.inet.carp.preempt=${value} >/dev/null`);
        expect(check).toBeLessThan(at("mv -f '/etc/ifstated.conf.new' '/etc/ifstated.conf'"));
        expect(install).toBeGreaterThan(check);
        expect(set).toBeGreaterThan(install);
        expect(set).toBeLessThan(at("sh /etc/netstart vio2 carp0"));
        expect(text).not.toContain(`net.inet.carp.preempt=${1 - value}`);
    });

    describe("the sysctl.conf edit", () => {
        function edit(before: string | undefined, value: number): { text: string; mode: number } {
            dir = fs.mkdtempSync(path.join(os.tmpdir(), "ovhf-sysctl-"));
            const conf = path.join(dir, "sysctl.conf");
            if (before !== undefined) fs.writeFileSync(conf, before);
            execFileSync("sh", ["-c", renderSysctlConfEdit(conf, "net.inet.carp.preempt", value)]);
            return { text: fs.readFileSync(`${conf}.new`, "utf8"), mode: fs.statSync(`${conf}.new`).mode & 0o777 };
        }

        it("makes the file when there is none", () => {
            expect(edit(undefined, 1)).toEqual({ text: "net.inet.carp.preempt=1\n", mode: 0o644 });
        });

        it("replaces every line that sets it, whatever its spacing or comment, and keeps the rest and the comments", () => {
            const before = "# local settings\nnet.inet.ip.forwarding=1\nnet.inet.carp.preempt=1\t# 1=Enable carp(4) preemption\n  net.inet.carp.preempt = 1\n#net.inet.carp.preempt=1\nnet.inet.carp.log=3";
            expect(edit(before, 0).text).toBe("# local settings\nnet.inet.ip.forwarding=1\n#net.inet.carp.preempt=1\nnet.inet.carp.log=3\nnet.inet.carp.preempt=0\n");
        });

        it("gives the same file again: a second deploy changes nothing", () => {
            const once = edit("net.inet.ip.forwarding=1\n", 1).text;
            expect(edit(once, 1).text).toBe(once);
        });

        it("refuses what is not a sysctl setting", () => {
            expect(() => renderSysctlConfEdit("/etc/sysctl.conf", "net.inet.carp.preempt;reboot", 1)).toThrow(/not a sysctl setting/);
            expect(() => renderSysctlConfEdit("/etc/sysctl.conf", "net.inet.carp.preempt", 0.5)).toThrow(/not a sysctl setting/);
        });
    });

    // A carpdev may carry an address of its own (hostname.if(5) holds several lines): the deploy
    // keeps every line and makes sure the interface comes up.
    describe("the hostname.<carpdev> edit", () => {
        function edit(before: string | undefined, mode = 0o600): { text: string; mode: number } {
            dir = fs.mkdtempSync(path.join(os.tmpdir(), "ovhf-hostname-"));
            const file = path.join(dir, "hostname.vio2");
            if (before !== undefined) fs.writeFileSync(file, before, { mode });
            execFileSync("sh", ["-c", `umask 077\n${renderHostnameUpEdit(file)}`]);
            return { text: fs.readFileSync(`${file}.new`, "utf8"), mode: fs.statSync(`${file}.new`).mode & 0o777 };
        }

        it("makes the file, 0640, when there is none", () => {
            expect(edit(undefined)).toEqual({ text: "up\n", mode: 0o640 });
        });

        it("keeps an address, comments and commands, adds up at the end, and keeps the file's mode", () => {
            const own = "# private network\ninet 10.25.0.12 255.255.0.0 NONE\n!route add 10.26/16 10.25.0.1\n";
            expect(edit(own, 0o600)).toEqual({ text: `${own}up\n`, mode: 0o600 });
            expect(edit("inet 10.25.0.12 255.255.0.0").text).toBe("inet 10.25.0.12 255.255.0.0\nup\n");
        });

        it("changes nothing when the interface already comes up, so a second deploy changes nothing", () => {
            for (const own of ["up\n", "inet 10.25.0.12 255.255.0.0\nup media autoselect # and this\n", "down\nup\n", "up"]) expect(edit(own).text).toBe(own);
            const once = edit("inet 10.25.0.12 255.255.0.0\n").text;
            expect(edit(once).text).toBe(once);
        });

        it("adds up when the last up or down line is down, or up is only in a comment", () => {
            expect(edit("up\ndown\n").text).toBe("up\ndown\nup\n");
            expect(edit("# up\ninet 10.25.0.12 255.255.0.0\n").text).toBe("# up\ninet 10.25.0.12 255.255.0.0\nup\n");
        });

        it("refuses what is not an absolute path, or an interface name that is not one", () => {
            expect(() => renderHostnameUpEdit("/etc/hostname.vio2; reboot")).toThrow(/absolute path/);
            expect(() => hostnameIfPath("vio2;reboot")).toThrow(/interface name/);
            expect(hostnameIfPath("vio2")).toBe("/etc/hostname.vio2");
        });
    });

    describe("as a user other than root, through doas", () => {
        // A stand-in doas that refuses as OpenBSD's does without the rule (usr.bin/doas/doas.c).
        function runAs(doas: string, script: string) {
            dir = fs.mkdtempSync(path.join(os.tmpdir(), "ovhf-doas-"));
            const bin = path.join(dir, "bin");
            fs.mkdirSync(bin);
            fs.writeFileSync(path.join(bin, "doas"), `#!/bin/sh\necho "doas $*" >> ${dir}/calls\n${doas}\n`, { mode: 0o755 });
            return spawnSync("sh", ["-c", asRoot("deploy", script)], { input: "secrets\n", encoding: "utf8", env: { PATH: `${bin}:/usr/bin:/bin` } });
        }

        it("checks first that doas lets the user run /bin/sh without a password, and says which line to add, last", () => {
            const r = runAs("echo 'doas: Authentication required' >&2; exit 1", "echo ran");
            expect(r.status).toBe(7);
            expect(r.stderr).toBe(`doas: Authentication required\ndoas does not let deploy run /bin/sh as root without a password: add the line "${doasRule("deploy")}" to /etc/doas.conf, after every other rule that matches deploy (the last matching rule decides, doas.conf(5))\n`);
            expect(r.stdout).toBe("");
            expect(fs.readFileSync(path.join(dir, "calls"), "utf8")).toBe("doas -n /bin/sh -c :\n");
        });

        it("then runs the script with doas -n, its standard input untouched by the check", () => {
            const r = runAs('shift; exec "$@"', "cat");
            expect(r.status, r.stderr).toBe(0);
            expect(r.stdout).toBe("secrets\n");
        });

        it("refuses a user name that is not one, and leaves root's script as it is", () => {
            expect(() => asRoot("deploy; reboot", "true")).toThrow(/login name/);
            expect(doasRule("deploy")).toBe("permit nopass deploy as root cmd /bin/sh");
            expect(asRoot("root", "echo x")).toBe("echo x");
        });
    });

    it("put the password and the credentials from stdin into place, validate, then install and apply", () => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "ovhf-deploy-"));
        const conf = path.join(dir, "keepalived", "keepalived.conf");
        const script = path.join(dir, "keepalived", "notify-master.sh");
        const ipmove = path.join(dir, "ovh-ipmove.conf");
        const text = renderKeepalivedDeploy({
            ...pair(),
            conf,
            ipmoveConfig: ipmove,
            files: [
                { path: conf, content: `vrrp_instance x {\n  authentication { auth_type PASS auth_pass ${PASSWORD_MARKER} }\n}\n`, mode: "0600" },
                { path: script, content: "#!/bin/sh\necho promoted\n", mode: "0755" },
            ],
        });
        const bin = stubs(["keepalived", "systemctl", "ip"]);
        const r = spawnSync("sh", ["-c", text], {
            input: renderSecretsInput("s3cr3t_x", "OVH_ENDPOINT=ovh-eu\nOVH_APPLICATION_KEY=ak\nOVH_APPLICATION_SECRET=as\nOVH_CONSUMER_KEY=ck\n"),
            encoding: "utf8",
            env: { PATH: `${bin}:/usr/bin:/bin` },
        });
        expect(r.status, r.stderr).toBe(0);
        expect(fs.readFileSync(conf, "utf8")).toContain("auth_pass s3cr3t_x");
        expect(fs.readFileSync(conf, "utf8")).not.toContain(PASSWORD_MARKER);
        expect(fs.statSync(conf).mode & 0o777).toBe(0o600);
        expect(fs.statSync(script).mode & 0o777).toBe(0o755);
        expect(fs.readFileSync(ipmove, "utf8")).toBe("OVH_ENDPOINT=ovh-eu\nOVH_APPLICATION_KEY=ak\nOVH_APPLICATION_SECRET=as\nOVH_CONSUMER_KEY=ck\n");
        expect(fs.statSync(ipmove).mode & 0o777).toBe(0o600);
        expect(fs.readFileSync(path.join(dir, "calls"), "utf8").split("\n").filter(Boolean)).toEqual([
            `keepalived -t -f ${conf}.check`,
            // Whether keepalived was enabled before the first deploy: the node's removal keeps it so.
            "systemctl is-enabled keepalived",
            // The stand-in says yes to every question: enabled already, so not enabled again.
            "systemctl is-enabled --quiet keepalived",
            "systemctl reload-or-restart keepalived",
            "ip -4 addr show dev eth2",
        ]);
        expect(r.stdout).toContain("failover-ip=203.0.113.50");
        expect(fs.readFileSync(path.join(dir, "state", "failover-ip"), "utf8")).toBe("203.0.113.50\n");
        expect(r.stdout).not.toContain("s3cr3t_x");

        // The same deploy again (the command plugin runs it on a change of any input: the removal
        // script, the connection): every file is the running one, nothing is replaced or reloaded.
        const mtimes = [conf, script, ipmove].map((f) => fs.statSync(f).mtimeMs);
        fs.writeFileSync(path.join(dir, "calls"), "");
        const again = spawnSync("sh", ["-c", text], {
            input: renderSecretsInput("s3cr3t_x", "OVH_ENDPOINT=ovh-eu\nOVH_APPLICATION_KEY=ak\nOVH_APPLICATION_SECRET=as\nOVH_CONSUMER_KEY=ck\n"),
            encoding: "utf8",
            env: { PATH: `${bin}:/usr/bin:/bin` },
        });
        expect(again.status, again.stderr).toBe(0);
        expect([conf, script, ipmove].map((f) => fs.statSync(f).mtimeMs)).toEqual(mtimes);
        expect(fs.readdirSync(path.dirname(conf)).filter((f) => f.endsWith(".new"))).toEqual([]);
        expect(fs.readFileSync(path.join(dir, "calls"), "utf8").split("\n").filter(Boolean)).toEqual([
            `keepalived -t -f ${conf}.check`,
            "systemctl is-enabled --quiet keepalived",
            "systemctl is-active --quiet keepalived",
        ]);
    });

    it("on an IP change, drop the old alias (recorded on the node, not read from the environment), and let a master claim the new IP at once", () => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "ovhf-deploy-"));
        fs.mkdirSync(path.join(dir, "state"));
        fs.writeFileSync(path.join(dir, "state", "failover-ip"), "203.0.113.49\n");
        const conf = path.join(dir, "k.conf");
        const master = path.join(dir, "master.sh");
        fs.writeFileSync(master, `#!/bin/sh\necho "claimed" >> ${dir}/calls\n`, { mode: 0o755 });
        const bin = stubs(["keepalived", "systemctl"]);
        // This node holds the VRRP address: it is the master.
        fs.writeFileSync(path.join(bin, "ip"), `#!/bin/sh\necho "ip $*" >> ${dir}/calls\ncase "$*" in *show*) echo "    inet 10.25.0.10/16 scope global eth2" ;; esac\n`, { mode: 0o755 });
        const text = renderKeepalivedDeploy({ ...pair(master), conf, ipmoveConfig: path.join(dir, "i.conf"), files: [{ path: conf, content: "x\n", mode: "0600" }] });
        const r = spawnSync("sh", ["-c", text], {
            input: renderSecretsInput("pw", "OVH_ENDPOINT=ovh-eu\n"),
            encoding: "utf8",
            // What @pulumi/command would try to send: stock sshd refuses it, and the script must not need it.
            env: { PATH: `${bin}:/usr/bin:/bin`, PULUMI_COMMAND_STDOUT: "deployed: …\nfailover-ip=203.0.113.48\n" },
        });
        expect(r.status, r.stderr).toBe(0);
        const calls = fs.readFileSync(path.join(dir, "calls"), "utf8").split("\n").filter(Boolean);
        expect(calls).toContain("ip -4 addr del 203.0.113.49/32 dev eth0");
        expect(calls.join("\n")).not.toContain("203.0.113.48");
        expect(fs.readFileSync(path.join(dir, "state", "failover-ip"), "utf8")).toBe("203.0.113.50\n");
        expect(calls.indexOf("claimed")).toBeGreaterThan(calls.indexOf("systemctl reload-or-restart keepalived"));
        expect(r.stdout).toContain("failover-ip=203.0.113.50");
    });

    describe("the bundled ovh-ipmove", () => {
        const bundle = "#!/usr/bin/env node\nconsole.log('ovh-ipmove 0.1.0');\n";
        const sha = createHash("sha256").update(bundle).digest("hex");
        /** The keepalived deploy with the bundle staged, and `node` as given (a stand-in, or none). */
        function deployWith(node: string | undefined, staged = bundle) {
            dir = fs.mkdtempSync(path.join(os.tmpdir(), "ovhf-deploy-"));
            const conf = path.join(dir, "k.conf");
            const target = path.join(dir, "ovh-ipmove");
            fs.writeFileSync(`${target}.new`, staged);
            const bin = stubs(["keepalived", "systemctl", "ip"]);
            if (node !== undefined) fs.writeFileSync(path.join(bin, "node"), node, { mode: 0o755 });
            const text = renderKeepalivedDeploy({
                ...pair(), conf, ipmoveConfig: path.join(dir, "i.conf"), files: [{ path: conf, content: "x\n", mode: "0600" }],
                ipmove: { path: target, staged: `${target}.new`, sha256: sha, nodeMajor: 18 },
            });
            // The system's tools, but no node of its own: a machine without Node.js.
            const system = path.join(dir, "system");
            fs.mkdirSync(system);
            for (const tool of ["cat", "sed", "grep", "chmod", "chown", "mv", "mkdir", "awk", "cut", "sha256sum", "dirname", "rm", "tr", "head", "tail", "printf", "sh"]) {
                const found = ["/usr/bin", "/bin"].map((d) => path.join(d, tool)).find((f) => fs.existsSync(f));
                if (found) fs.symlinkSync(found, path.join(system, tool));
            }
            const run = () => spawnSync("/bin/sh", ["-c", text], { input: renderSecretsInput("pw", "OVH_ENDPOINT=ovh-eu\n"), encoding: "utf8", env: { PATH: `${bin}:${system}` } });
            redeploy = () => run();
            return { r: run(), target };
        }
        /** The same deploy again, on the same node, with nothing copied since. */
        let redeploy: (node: string | undefined) => SpawnSyncReturns<string> = () => {
            throw new Error("deployWith first");
        };
        const nodeOf = (version: string) => `#!/bin/sh\ncase "$1" in -p) echo ${version.split(".")[0]} ;; --version) echo v${version} ;; *) echo "ovh-ipmove 0.1.0 (Node.js ${version})" ;; esac\n`;

        it("is checked, then installed with its mode, when Node.js is recent enough", () => {
            const { r, target } = deployWith(nodeOf("20.20.2"));
            expect(r.status, r.stderr).toBe(0);
            expect(r.stdout).toContain("ovh-ipmove 0.1.0 (Node.js 20.20.2)");
            expect(fs.readFileSync(target, "utf8")).toBe(bundle);
            expect(fs.statSync(target).mode & 0o777).toBe(0o755);
        });

        it.each([
            ["no Node.js", undefined, /Node\.js is not installed: ovh-ipmove needs Node\.js 18 or later on this node: install it \(OpenBSD: pkg_add node; Debian: apt-get install nodejs\)/],
            ["Node.js 16", nodeOf("16.20.2"), /Node\.js v16\.20\.2 is too old: ovh-ipmove needs Node\.js 18 or later on this node: install it \(OpenBSD: pkg_add node; Debian: apt-get install nodejs\)/],
        ])("fails clearly with %s, before anything is replaced", (_, node, message) => {
            const { r, target } = deployWith(node);
            expect(r.status).toBe(6);
            expect(r.stderr).toMatch(message);
            expect(fs.existsSync(target)).toBe(false);
            expect(fs.existsSync(path.join(dir, "k.conf"))).toBe(false);
        });

        it("a second deploy with the same bundle, which CopyToRemote does not copy again, finds it installed and goes on", () => {
            // pulumi-command provider/pkg/provider/remote/copyController.go (Update): the file is
            // copied again only when its hash or the remote path changes.
            const first = deployWith(nodeOf("20.20.2"));
            expect(first.r.status, first.r.stderr).toBe(0);
            expect(fs.existsSync(`${first.target}.new`)).toBe(false);
            const again = redeploy(nodeOf("20.20.2"));
            expect(again.status, again.stderr).toBe(0);
            expect(again.stdout).toContain("ovh-ipmove is installed already, as planned");
            expect(fs.readFileSync(first.target, "utf8")).toBe(bundle);
        });

        it("a second deploy with neither the copy nor the planned bundle in place fails clearly", () => {
            const first = deployWith(nodeOf("20.20.2"));
            expect(first.r.status, first.r.stderr).toBe(0);
            fs.writeFileSync(first.target, `${bundle}// edited by hand\n`);
            const again = redeploy(nodeOf("20.20.2"));
            expect(again.status).toBe(6);
            expect(again.stderr).toContain("neither the copy");
        });

        it("refuses a copy that is not the one planned", () => {
            const { r, target } = deployWith(nodeOf("20.20.2"), `${bundle}// changed\n`);
            expect(r.status).toBe(6);
            expect(r.stderr).toContain(`not the planned ${sha}`);
            expect(fs.existsSync(target)).toBe(false);
        });
    });

    describe("ovh-ipmove the deploy does not install", () => {
        it("is required, in both flavours, before the secrets are read or anything is written", () => {
            for (const text of [openbsdDeploy(), renderKeepalivedDeploy({ ...pair(), conf: "/etc/keepalived/keepalived.conf", ipmoveConfig: "/etc/ovh-ipmove.conf", files: [] })]) {
                const check = text.indexOf("if [ ! -x '/usr/local/bin/ovh-ipmove' ]");
                expect(check).toBeGreaterThan(0);
                expect(check).toBeLessThan(text.indexOf("secrets=$(cat)"));
                expect(check).toBeLessThan(text.indexOf("mv -f"));
                // Not a file the deploy installed: the removal leaves it alone.
                expect(text).not.toContain("record_original '/usr/local/bin/ovh-ipmove'");
            }
        });

        it.each([
            ["missing", undefined, /ovh-ipmove is not at .* on this node, and the deploy does not copy it \(CarpPair's ipmove is false\)/],
            ["not executable", 0o644, /bin-ipmove is not executable: its claims could not move the failover IP; chmod 0755 /],
        ])("stops the deploy with exit 6 when it is %s, and changes nothing", (_what, mode, message) => {
            dir = fs.mkdtempSync(path.join(os.tmpdir(), "ovhf-deploy-"));
            const conf = path.join(dir, "k.conf");
            const ipmove = path.join(dir, "bin-ipmove");
            if (mode !== undefined) fs.writeFileSync(ipmove, "#!/bin/sh\n", { mode });
            const text = renderKeepalivedDeploy({ ...pair(), ipmove: { path: ipmove }, conf, ipmoveConfig: path.join(dir, "i.conf"), files: [{ path: conf, content: "x\n", mode: "0600" }] });
            const bin = stubs(["keepalived", "systemctl", "ip"]);
            const r = spawnSync("sh", ["-c", text], { input: renderSecretsInput("pw", "OVH_ENDPOINT=ovh-eu\n"), encoding: "utf8", env: { PATH: `${bin}:/usr/bin:/bin` } });
            expect(r.status).toBe(6);
            expect(r.stderr).toMatch(message);
            expect(fs.existsSync(conf)).toBe(false);
            expect(fs.existsSync(path.join(dir, "i.conf"))).toBe(false);
            expect(fs.existsSync(path.join(dir, "calls"))).toBe(false);
        });
    });

    it("refuse to go on without credentials", () => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "ovhf-deploy-"));
        const conf = path.join(dir, "k.conf");
        const text = renderKeepalivedDeploy({ ...pair(), conf, ipmoveConfig: path.join(dir, "i.conf"), files: [{ path: conf, content: "x\n", mode: "0600" }] });
        const bin = stubs(["keepalived", "systemctl", "ip"]);
        const r = spawnSync("sh", ["-c", text], { input: renderSecretsInput("pw", ""), encoding: "utf8", env: { PATH: `${bin}:/usr/bin:/bin` } });
        expect(r.status).toBe(2);
        expect(r.stderr).toContain("no OVH_ credentials");
    });

    it("refuse a password with characters sed or the shell would read", () => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "ovhf-deploy-"));
        const conf = path.join(dir, "k.conf");
        const text = renderKeepalivedDeploy({ ...pair(), conf, ipmoveConfig: path.join(dir, "i.conf"), files: [{ path: conf, content: `pass ${PASSWORD_MARKER}\n`, mode: "0600" }] });
        const bin = stubs(["keepalived", "systemctl", "ip"]);
        const r = spawnSync("sh", ["-c", text], { input: renderSecretsInput("a/b&c", ""), encoding: "utf8", env: { PATH: `${bin}:/usr/bin:/bin` } });
        expect(r.status).toBe(2);
        expect(r.stderr).toContain("not [A-Za-z0-9_-]");
        expect(fs.existsSync(conf)).toBe(false);
    });

    it("leave the running files alone when validation fails", () => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "ovhf-deploy-"));
        const conf = path.join(dir, "k.conf");
        const script = path.join(dir, "notify.sh");
        fs.writeFileSync(conf, "running\n");
        fs.writeFileSync(script, "running script\n");
        const text = renderKeepalivedDeploy({
            ...pair(), conf, ipmoveConfig: path.join(dir, "i.conf"),
            files: [{ path: conf, content: `broken { notify_master ${script}\n`, mode: "0600" }, { path: script, content: "new script\n", mode: "0755" }],
        });
        const bin = path.join(dir, "bin");
        fs.mkdirSync(bin);
        fs.writeFileSync(path.join(bin, "keepalived"), "#!/bin/sh\necho 'missing }' >&2\nexit 5\n", { mode: 0o755 });
        const r = spawnSync("sh", ["-c", text], { input: renderSecretsInput("pw", "OVH_ENDPOINT=ovh-eu\n"), encoding: "utf8", env: { PATH: `${bin}:/usr/bin:/bin` } });
        expect(r.status).toBe(5);
        expect(fs.readFileSync(conf, "utf8")).toBe("running\n");
        expect(fs.readFileSync(script, "utf8")).toBe("running script\n");
        expect(fs.existsSync(path.join(dir, "i.conf"))).toBe(false);
    });
});
