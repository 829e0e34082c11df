import { execFileSync, spawn, spawnSync } from "child_process";
import { chmodSync, existsSync, lstatSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { dirname, join } from "path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CarpNodeSpec, EdgePairSpec } from "../../../components/edge/carpSpec";
import {
    DEFAULT_CLAIM_LOCK,
    KEEPALIVED_ADVSKEW_MAX,
    KEEPALIVED_PASSWORD_MAX,
    KeepalivedNodeFile,
    notifyScriptPath,
    NotifyRole,
    renderKeepalivedConf,
    renderKeepalivedNodeFiles,
    renderNotifyScript,
    reassertScriptPath,
    renderReassertScript,
    vrrpPriority,
} from "../../../components/edge/keepalived";
import { shellQuote } from "../../../components/shared/shell";
import { canMakeNamespaces } from "../../support/netns";

// Documentation and private addresses only: the CARP group of seed 001 on a Linux pair.
function node(name: string, advskew: number, privateAddress: string): CarpNodeSpec {
    return { name, advskew, publicInterface: "eth0", privateInterface: "eth1", privateAddress, move: { kind: "cloud", project: "t18s", instance: name } };
}

const spec: EdgePairSpec = {
    group: { vhid: 1, address: "10.25.0.10", prefixLength: 16, carpdev: "eth2", advbase: 1, password: "Pass_w-8", carpUnit: 0 },
    nodes: [node("edge-1", 0, "10.25.0.11"), node("edge-2", 50, "10.25.0.12")],
    failoverIp: "203.0.113.50",
    health: { pingTarget: "192.0.2.53", intervalSeconds: 15 },
    ipmovePath: "/usr/local/bin/ovh-ipmove",
    preempt: true,
};
const [edge1, edge2] = spec.nodes;
const ROLES: NotifyRole[] = ["master", "backup", "fault"];
const MOVE = "/usr/local/bin/ovh-ipmove -config /etc/ovh-ipmove.conf -project t18s -ip 203.0.113.50 -instance edge-1";

function has(tool: string, ...args: string[]): boolean {
    return spawnSync(tool, args, { stdio: "ignore" }).status === 0;
}
const hasShellcheck = has("shellcheck", "--version");
const hasKeepalived = has("keepalived", "--version");
const ci = process.env.CI === "true";
// keepalived -t needs the interfaces the configuration names: it runs in a namespace that has them.
const canRunKeepalived = (hasKeepalived && canMakeNamespaces()) || ci;
const canRunScripts = canMakeNamespaces() || ci;

/** The lines of a `name { … }` block of keepalived.conf. */
function block(conf: string, name: string): string[] {
    const m = new RegExp(`\\n\\s*${name} \\{\\n([^}]*)\\}`).exec(conf);
    if (!m) throw new Error(`no ${name} block`);
    return m[1].split("\n").map((l) => l.trim()).filter(Boolean);
}

describe("vrrpPriority", () => {
    it("maps advskew 0–253 to priority 254–1, strictly decreasing", () => {
        expect(vrrpPriority(0)).toBe(254);
        expect(vrrpPriority(1)).toBe(253);
        expect(vrrpPriority(50)).toBe(204);
        expect(vrrpPriority(KEEPALIVED_ADVSKEW_MAX)).toBe(1);
        for (let skew = 1; skew <= KEEPALIVED_ADVSKEW_MAX; skew++) expect(vrrpPriority(skew)).toBeLessThan(vrrpPriority(skew - 1));
    });

    it("refuses what VRRP cannot express: advskew 254 would need priority 0 (leaving) or 255 (address owner)", () => {
        for (const bad of [254, -1, 1.5, Number.NaN]) expect(() => vrrpPriority(bad)).toThrow(RangeError);
    });
});

describe("renderKeepalivedConf", () => {
    const opts = { scriptDir: "/etc/keepalived", moveCommand: MOVE };
    const conf1 = renderKeepalivedConf(spec, edge1, opts);
    const conf2 = renderKeepalivedConf(spec, edge2, opts);

    it("writes the group, the node and the checks", () => {
        expect(block(conf1, "global_defs")).toEqual(["enable_script_security", "script_user root", "router_id edge-1"]);
        expect(block(conf1, "vrrp_script ovh_failover_ping")).toEqual(
            expect.arrayContaining(['script "/bin/ping -c 1 -W 1 192.0.2.53"', "interval 15", "fall 2", "rise 2"]),
        );
        for (const line of ["state BACKUP", "interface eth2", "virtual_router_id 1", "advert_int 1", "unicast_src_ip 10.25.0.11"]) {
            expect(conf1).toContain(`\n    ${line}\n`);
        }
        // preempt: true here; keepalived preempts unless told not to.
        expect(conf1).not.toMatch(/\n\s*nopreempt\n|state MASTER/);
        expect(block(conf1, "authentication")).toEqual(["auth_type PASS", "auth_pass Pass_w-8"]);
        expect(block(conf1, "virtual_ipaddress")).toEqual(["10.25.0.10/16 dev eth2"]);
        expect(block(conf1, "track_interface")).toEqual(["eth0", "eth1"]);
        expect(block(conf1, "track_script")).toEqual(["ovh_failover_ping", "ovh_failover_reassert"]);
        expect(conf1).toContain('notify_master "/etc/keepalived/ovh-failover-master.sh"');
        expect(conf1).toContain('notify_backup "/etc/keepalived/ovh-failover-backup.sh"');
        expect(conf1).toContain('notify_fault "/etc/keepalived/ovh-failover-fault.sh"');
    });

    it("keeps the master in its role with nopreempt when the pair does not preempt, every node starting as BACKUP", () => {
        const lines = (conf: string) => conf.split("\n").map((l) => l.trim());
        const off = renderKeepalivedConf({ ...spec, preempt: false }, edge1, opts);
        const instance = lines(off).slice(lines(off).indexOf("vrrp_instance ovh_failover {"));
        expect(instance).toContain("nopreempt");
        expect(instance).toContain("state BACKUP");
        expect(off).not.toContain("state MASTER");
        // The same file otherwise: preemption is the one difference.
        expect(lines(off).filter((l) => !lines(conf1).includes(l))).toEqual(["# The master keeps the role until it fails, whatever the priorities (edges.<pair>.preempt: false).", "nopreempt"]);
    });

    it("gives the highest priority to the lowest advskew", () => {
        const priority = (conf: string) => Number(/\n\s*priority (\d+)\n/.exec(conf)![1]);
        expect(priority(conf1)).toBe(254);
        expect(priority(conf2)).toBe(204);
        expect(priority(conf1)).toBeGreaterThan(priority(conf2));
    });

    it("lists exactly the other nodes as unicast peers", () => {
        expect(block(conf1, "unicast_peer")).toEqual(["10.25.0.12"]);
        expect(block(conf2, "unicast_peer")).toEqual(["10.25.0.11"]);
        const three: EdgePairSpec = { ...spec, nodes: [...spec.nodes, node("edge-3", 100, "10.25.0.13")] };
        const peers = three.nodes.map((n) => block(renderKeepalivedConf(three, n, opts), "unicast_peer"));
        expect(peers).toEqual([["10.25.0.12", "10.25.0.13"], ["10.25.0.11", "10.25.0.13"], ["10.25.0.11", "10.25.0.12"]]);
    });

    it(`refuses a password longer than ${KEEPALIVED_PASSWORD_MAX} characters, a node without privateAddress, a node outside the pair`, () => {
        expect(KEEPALIVED_PASSWORD_MAX).toBe(8);
        const long = { ...spec, group: { ...spec.group, password: "Pass_w-89" } };
        expect(() => renderKeepalivedConf(long, edge1, opts)).toThrow(/9 characters.*at most 8/);
        const lost = { ...spec, nodes: [edge1, { ...edge2, privateAddress: undefined }] };
        expect(() => renderKeepalivedConf(lost, edge1, opts)).toThrow(/edge-2 needs a privateAddress/);
        expect(() => renderKeepalivedConf(spec, node("edge-9", 9, "10.25.0.19"), opts)).toThrow(/not one of/);
        expect(() => renderKeepalivedConf(spec, edge1, { ...opts, scriptDir: "etc/keepalived" })).toThrow(/absolute path/);
    });

    it("does not change when only the failover IP changes: the IP is the notify scripts' business", () => {
        const moved: EdgePairSpec = { ...spec, failoverIp: "198.51.100.77" };
        const before = renderKeepalivedNodeFiles(spec, edge1, opts);
        const after = renderKeepalivedNodeFiles(moved, edge1, opts);
        expect(after[0].path).toBe("/etc/keepalived/keepalived.conf");
        expect(after[0].content).toBe(before[0].content);
        expect(conf1).not.toContain("203.0.113.50");
        // The notify scripts change; the re-assertion script names no IP.
        for (let i = 1; i < 4; i++) {
            expect(after[i].path).toBe(before[i].path);
            expect(after[i].content).not.toBe(before[i].content);
            expect(after[i].content).toContain("198.51.100.77/32");
        }
    });
});

describe("renderKeepalivedNodeFiles", () => {
    it("re-asserts while master: every reassertSeconds, and when a lower-priority master is heard", () => {
        const opts = { scriptDir: "/etc/keepalived", moveCommand: MOVE };
        const conf = renderKeepalivedConf(spec, edge1, { ...opts, reassertSeconds: 45 });
        expect(conf).toMatch(/vrrp_script ovh_failover_reassert \{\n\s+script "\/etc\/keepalived\/ovh-failover-reassert\.sh"\n\s+interval 45\n\s+timeout 5\n\}/);
        expect(conf).toContain('notify_master_rx_lower_pri "/etc/keepalived/ovh-failover-master.sh"');
        const script = renderReassertScript(spec, edge1, opts);
        expect(script).toContain("ip -4 addr show dev 'eth2' 2>/dev/null | grep -qF ' inet 10.25.0.10/'");
        expect(script).toContain(`setsid '/etc/keepalived/ovh-failover-master.sh' reassert "$mastership" </dev/null >/dev/null 2>&1 &`);
        expect(script.trimEnd().endsWith("exit 0")).toBe(true);
    });

    it("re-asserts yielding to the nodes of higher priority: the best node yields to none, the others to those above them", () => {
        const master1 = renderNotifyScript(spec, edge1, "master", MOVE);
        const master2 = renderNotifyScript(spec, edge2, "master", MOVE);
        // edge-1 (advskew 0) yields to no one: its re-assertion is its claim.
        expect(master1).not.toContain("-yield-to");
        // edge-2 yields to edge-1's instance on a re-assertion only; its promotion claims outright.
        expect(master2).toContain(`out=$( { ${MOVE} -yield-to 'edge-1'; } 2>&1 9>&- )`);
        expect(master2).toContain(`out=$( { ${MOVE}; } 2>&1 9>&- )`);
    });

    it("gives the conf as a 0600 secret and the notify scripts as 0755", () => {
        const files = renderKeepalivedNodeFiles(spec, edge2, { scriptDir: "/etc/keepalived/", moveCommand: MOVE });
        expect(files.map((f) => [f.path, f.mode, f.secret])).toEqual([
            ["/etc/keepalived/keepalived.conf", "0600", true],
            ["/etc/keepalived/ovh-failover-master.sh", "0755", false],
            ["/etc/keepalived/ovh-failover-backup.sh", "0755", false],
            ["/etc/keepalived/ovh-failover-fault.sh", "0755", false],
            ["/etc/keepalived/ovh-failover-reassert.sh", "0755", false],
        ]);
        expect(files.slice(1).some((f) => f.content.includes("Pass_w-8"))).toBe(false);
    });
});

describe("notify scripts", () => {
    const scripts = ROLES.map((role) => renderNotifyScript(spec, edge1, role, MOVE));

    it("are valid POSIX sh", () => {
        for (const s of scripts) execFileSync("sh", ["-n"], { input: s });
    });

    // CI installs shellcheck from Debian's packages; there it must run, not be skipped.
    it.runIf(hasShellcheck || ci)("pass shellcheck as sh", () => {
        for (const s of scripts) execFileSync("shellcheck", ["-s", "sh", "-"], { input: s });
    });

    it("write the IP and the interfaces literally, single-quoted, and log through logger", () => {
        const [master, backup] = scripts;
        expect(master).toContain("set -u\n");
        expect(master).toContain("ip addr add '203.0.113.50/32' dev 'eth0'");
        expect(master).toContain("ip -4 addr show dev 'eth0' 2>/dev/null | grep -qF ' inet 203.0.113.50/32 '");
        expect(master).toContain(`{ ${MOVE}; }`);
        expect(backup).toContain("ip addr del '203.0.113.50/32' dev 'eth0'");
        expect(backup).not.toContain("ovh-ipmove");
        for (const s of scripts) expect(s).toContain("logger -t ovh-failover -p daemon.info");
    });
});

// What keepalived 2.2.7 does with its files, for real: `keepalived -t` in a namespace that has the
// interfaces, and the notify scripts against a real interface.
describe.runIf(canRunKeepalived || canRunScripts)("on this machine", () => {
    const ns = `ovhf-ka-${process.pid}`;
    const dirs: string[] = [];

    function ip(...args: string[]): void {
        execFileSync("ip", args, { stdio: ["ignore", "ignore", "pipe"] });
    }

    // A dummy interface where the kernel has the module; a veth pair (peer in the same namespace)
    // where it does not (some VM kernels ship without dummy).
    function addInterface(name: string): void {
        if (spawnSync("ip", ["-n", ns, "link", "add", name, "type", "dummy"], { stdio: "ignore" }).status !== 0) {
            ip("-n", ns, "link", "add", name, "type", "veth", "peer", "name", `${name}-peer`);
            ip("-n", ns, "link", "set", `${name}-peer`, "up");
        }
        ip("-n", ns, "link", "set", name, "up");
    }

    beforeAll(() => {
        ip("netns", "add", ns);
        for (const name of ["eth0", "eth1", "eth2"]) addInterface(name);
    });

    afterAll(() => {
        spawnSync("ip", ["netns", "del", ns]);
        for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    });

    /** A fresh directory as keepalived's script security wants it: root's, 0755. */
    function freshDir(): string {
        const dir = mkdtempSync(join(tmpdir(), "ovhf-ka-"));
        dirs.push(dir);
        chmodSync(dir, 0o755);
        return dir;
    }

    function install(files: KeepalivedNodeFile[]): void {
        for (const f of files) {
            writeFileSync(f.path, f.content);
            chmodSync(f.path, parseInt(f.mode, 8));
        }
    }

    function keepalivedTest(conf: string): { status: number | null; output: string } {
        const r = spawnSync("ip", ["netns", "exec", ns, "keepalived", "-t", "-f", conf], { encoding: "utf8" });
        return { status: r.status, output: `${r.stdout}${r.stderr}` };
    }

    /**
     * keepalived's own check (lib/notify.c check_security) of a script run as root, which `-t` does
     * not apply to notify scripts: every part of the resolved path owned by root, no directory
     * without the sticky bit and no file writable by the world or by a non-root group, and the
     * script executable. A script failing it is dropped silently when keepalived starts.
     */
    function scriptSecurityProblems(script: string): string[] {
        const problems: string[] = [];
        const real = realpathSync(script);
        const parts = real.split("/").filter(Boolean);
        const prefixes = ["/", ...parts.map((_, i) => `/${parts.slice(0, i + 1).join("/")}`)];
        for (const p of prefixes) {
            const st = lstatSync(p);
            const checked = (st.isDirectory() && !(st.mode & 0o1000)) || st.isFile();
            if (st.uid !== 0) problems.push(`${p} is not owned by root`);
            if (checked && ((st.gid !== 0 && st.mode & 0o020) || st.mode & 0o002)) problems.push(`${p} is writable by others than root`);
        }
        if (!(lstatSync(real).mode & 0o111)) problems.push(`${real} is not executable`);
        return problems;
    }

    function renderInto(dir: string, n: CarpNodeSpec, moveCommand = MOVE, s: EdgePairSpec = spec): KeepalivedNodeFile[] {
        return renderKeepalivedNodeFiles(s, n, { scriptDir: dir, moveCommand, confPath: join(dir, "keepalived.conf") });
    }

    describe.runIf(canRunKeepalived)("keepalived -t", () => {
        it("accepts each node's configuration, whose notify scripts pass keepalived's script security", () => {
            for (const n of spec.nodes) {
                const dir = freshDir();
                const files = renderInto(dir, n);
                install(files);
                expect(keepalivedTest(files[0].path)).toEqual({ status: 0, output: "" });
                for (const role of ROLES) expect(scriptSecurityProblems(notifyScriptPath(dir, role))).toEqual([]);
            }
        });

        it("accepts nopreempt as rendered, with state BACKUP, and refuses it with state MASTER (keepalived/vrrp/vrrp.c)", () => {
            const noPreempt: EdgePairSpec = { ...spec, preempt: false };
            for (const n of noPreempt.nodes) {
                const dir = freshDir();
                const files = renderInto(dir, n, MOVE, noPreempt);
                install(files);
                expect(files[0].content).toContain("\n    nopreempt\n");
                expect(keepalivedTest(files[0].path)).toEqual({ status: 0, output: "" });
                writeFileSync(join(dir, "master.conf"), files[0].content.replace("state BACKUP", "state MASTER"), { mode: 0o600 });
                const master = keepalivedTest(join(dir, "master.conf"));
                expect(master.status).toBe(5);
                expect(master.output).toMatch(/nopreempt will not work with initial state MASTER/);
            }
        });

        it("accepts the layout where the private interface is the VRRP interface (keepalived tracks its own interface itself)", () => {
            // keepalived vrrp.c: a track_interface naming the instance's own interface is
            // "Ignoring track_interface … since own interface", which makes -t exit 5.
            const sameLink: EdgePairSpec = { ...spec, nodes: spec.nodes.map((n) => ({ ...n, privateInterface: spec.group.carpdev })) };
            for (const n of sameLink.nodes) {
                const dir = freshDir();
                const files = renderInto(dir, n, MOVE, sameLink);
                install(files);
                expect(keepalivedTest(files[0].path)).toEqual({ status: 0, output: "" });
                expect(block(files[0].content, "track_interface")).toEqual([n.publicInterface]);
            }
        });

        it("bites: unknown keywords, missing braces and a truncated password are errors (exit 5)", () => {
            const dir = freshDir();
            const files = renderInto(dir, edge1);
            install(files);
            const conf = files[0].content;
            const broken: [string, string, RegExp][] = [
                ["unknown.conf", conf.replace("    advert_int 1\n", "    advert_int 1\n    advert_intervall 1\n"), /Unknown keyword 'advert_intervall'/],
                ["brace.conf", conf.replace(/}\n$/, ""), /missing '}'/],
                ["password.conf", conf.replace("auth_pass Pass_w-8", "auth_pass Pass_w-89"), /Truncating auth_pass to 8 characters/],
            ];
            for (const [name, content, message] of broken) {
                writeFileSync(join(dir, name), content, { mode: 0o600 });
                const r = keepalivedTest(join(dir, name));
                expect(r.status, name).toBe(5);
                expect(r.output, name).toMatch(message);
            }
            writeFileSync(join(dir, "insecure.conf"), conf.replace("    enable_script_security\n", ""), { mode: 0o600 });
            const insecure = keepalivedTest(join(dir, "insecure.conf"));
            expect(insecure.status).toBe(6);
            expect(insecure.output).toMatch(/SECURITY VIOLATION/);
        });

        it("does not check notify scripts nor that the file exists (exit 0): that is on us", () => {
            const dir = freshDir();
            const files = renderInto(dir, edge1);
            // The configuration and its vrrp_script (which keepalived -t does check), no notify script.
            install([files[0], files.find((f) => f.path.endsWith("reassert.sh"))!]);
            const withScript = keepalivedTest(files[0].path);
            expect(withScript.status, withScript.output).toBe(0);
            install([files[0]]);
            const withoutReassert = join(dir, "no-reassert.conf");
            writeFileSync(withoutReassert, readFileSync(files[0].path, "utf8").replace(/reassert\.sh/, "gone.sh"), { mode: 0o600 });
            expect(keepalivedTest(withoutReassert).status).toBe(5);
            const missing = keepalivedTest(join(dir, "nothing-here.conf"));
            expect(missing.status).toBe(0);
            expect(missing.output).toMatch(/Config files missing/);

            // Scripts in a directory anyone may write to: keepalived would drop the notify scripts at
            // start-up (Unsafe permissions … disabling), which -t does not check for them; it does
            // for the re-assertion vrrp_script. Our own check sees the notify scripts.
            const open = freshDir();
            const openFiles = renderInto(open, edge1);
            install(openFiles);
            chmodSync(open, 0o777);
            const unsafe = keepalivedTest(openFiles[0].path);
            expect(unsafe.status).toBe(5);
            expect(unsafe.output).toMatch(/Disabling track script ovh_failover_reassert/);
            expect(scriptSecurityProblems(notifyScriptPath(open, "master"))).toEqual([`${realpathSync(open)} is writable by others than root`]);
            chmodSync(open, 0o755);
            chmodSync(notifyScriptPath(open, "fault"), 0o644);
            expect(scriptSecurityProblems(notifyScriptPath(open, "fault"))).toEqual([`${realpathSync(notifyScriptPath(open, "fault"))} is not executable`]);
        });
    });

    describe.runIf(canRunScripts)("notify scripts in a namespace", () => {
        const ALIAS = "inet 203.0.113.50/32";
        let dir: string;
        let moves: string;

        beforeAll(() => {
            dir = freshDir();
            moves = join(dir, "moves.log");
            const fake = join(dir, "fake-move.sh");
            writeFileSync(fake, `#!/bin/sh\necho "moved $*" >> ${moves}\necho "ip move accepted"\n`, { mode: 0o755 });
            install(renderInto(dir, edge1, `${fake} 203.0.113.50 edge-1`));
        });

        /**
         * A script run in the namespace with a /run of its own, laid out as Debian's: root's, 0755,
         * and /run/lock world-writable with the sticky bit (tmpfiles.d legacy.conf). `before` runs
         * there first, as root.
         */
        function inPrivateRun(command: string, before = ""): { status: number | null; out: string } {
            const setup = `mount -t tmpfs -o mode=0755 tmpfs /run && mkdir -m 1777 /run/lock && ${before ? `${before} && ` : ""}exec ${command}`;
            const r = spawnSync("ip", ["netns", "exec", ns, "unshare", "--mount", "--propagation", "private", "sh", "-c", setup], { encoding: "utf8" });
            return { status: r.status, out: `${r.stdout}${r.stderr}` };
        }

        function run(role: NotifyRole): { status: number | null; out: string } {
            return inPrivateRun(notifyScriptPath(dir, role));
        }
        const aliases = () => execFileSync("ip", ["-n", ns, "-4", "-o", "addr", "show", "dev", "eth0"], { encoding: "utf8" }).split("\n").filter((l) => l.includes(ALIAS)).length;
        const moveLines = () => {
            try {
                return readFileSync(moves, "utf8").split("\n").filter(Boolean);
            } catch {
                return [];
            }
        };

        it("master adds the /32 alias once and calls the move once per promotion", () => {
            const first = run("master");
            expect(first.status, first.out).toBe(0);
            expect(aliases()).toBe(1);
            expect(moveLines()).toEqual(["moved 203.0.113.50 edge-1"]);
            expect(first.out).toContain("ovh-failover: added alias 203.0.113.50/32 to eth0");
            expect(first.out).toContain("ovh-failover: OVH move of 203.0.113.50 to edge-1 done: ip move accepted");
            // Every line it prints is a log line.
            expect(first.out.trim().split("\n").every((l) => l.startsWith("ovh-failover: "))).toBe(true);

            const second = run("master");
            expect(second.status, second.out).toBe(0);
            expect(second.out).toContain("alias 203.0.113.50/32 already on eth0");
            expect(aliases()).toBe(1);
            expect(moveLines()).toHaveLength(2);
        });

        it("backup and fault remove the alias, and are content when it is not there", () => {
            if (aliases() === 0) expect(run("master").status).toBe(0);
            const backup = run("backup");
            expect(backup.status, backup.out).toBe(0);
            expect(backup.out).toContain("removed alias 203.0.113.50/32 from eth0");
            expect(aliases()).toBe(0);
            const fault = run("fault");
            expect(fault.status, fault.out).toBe(0);
            expect(fault.out).toContain("alias 203.0.113.50/32 not on eth0: nothing to remove");
        });

        it("keeps its claim lock where only root can write: another local user cannot hold it and stop every claim", () => {
            // nobody takes the lock first (creating its folder if it can), and leaves a mark in
            // /run/lock when it holds it; then the master script runs: the move must happen.
            const held = "/run/lock/held-by-nobody";
            const lockDir = dirname(DEFAULT_CLAIM_LOCK);
            const attacker = `setpriv --reuid=65534 --regid=65534 --clear-groups sh -c ${shellQuote(
                `mkdir -p ${lockDir} 2>/dev/null; exec 9>>${DEFAULT_CLAIM_LOCK} && flock -n 9 && : > ${held} && exec sleep 10`,
            )} & i=0; while [ ! -e ${held} ] && kill -0 $! 2>/dev/null && [ $i -lt 100 ]; do i=$((i+1)); sleep 0.05; done; ` +
                `if [ -e ${held} ]; then echo HELD-BY-NOBODY; fi`;
            const before = moveLines().length;
            const r = inPrivateRun(notifyScriptPath(dir, "master"), attacker);
            expect(r.out).not.toContain("HELD-BY-NOBODY");
            expect(r.status, r.out).toBe(0);
            expect(r.out).not.toContain("is running already");
            expect(moveLines()).toHaveLength(before + 1);
            expect(run("backup").status).toBe(0);
        });

        it("a lower node's periodic claim is outright until a claim of its own has gone through since it became master, then yields", async () => {
            const d = freshDir();
            const calls = join(d, "moves.log");
            const outcome = join(d, "outcome");
            // The move: its arguments recorded, then the exit status and delay the test sets.
            const fake = join(d, "fake-move.sh");
            const started = join(d, "started.log");
            writeFileSync(fake, `#!/bin/sh\necho started >> ${started}\nread -r status delay < ${outcome}\nsleep "$delay"\necho "move $*" >> ${calls}\nexit "$status"\n`, { mode: 0o755 });
            const files = renderKeepalivedNodeFiles(spec, edge2, { scriptDir: d, moveCommand: fake, confPath: join(d, "keepalived.conf"), lockFile: join(d, "run", "claim.lock") });
            install(files);
            const moves = () => (spawnSync("cat", [calls], { encoding: "utf8" }).stdout ?? "").split("\n").filter(Boolean);
            const inNs = (...command: string[]) => spawnSync("ip", ["netns", "exec", ns, ...command], { encoding: "utf8" });
            const setOutcome = (status: number, delay = 0) => writeFileSync(outcome, `${status} ${delay}\n`);
            /** The periodic claim as keepalived starts it (it goes to the background): resolves with the move it made. */
            const periodic = async () => {
                const before = moves().length;
                // It runs in the background and leaves at once when another claim holds the lock
                // (one that is just ending): as keepalived does every period, start it again until
                // one moves, with room for a loaded machine.
                for (let period = 0; period < 30 && moves().length === before; period++) {
                    expect(inNs(reassertScriptPath(d)).status).toBe(0);
                    for (let i = 0; i < 80 && moves().length === before; i++) await new Promise((ok) => setTimeout(ok, 25));
                }
                expect(moves()).toHaveLength(before + 1);
                return moves()[before];
            };
            const yields = "-yield-to edge-1";
            // Master: the VRRP address on eth2, which the periodic claim looks for.
            ip("-n", ns, "addr", "add", "10.25.0.10/16", "dev", "eth2");
            try {
                setOutcome(1);
                expect(inNs(notifyScriptPath(d, "master")).status).toBe(1);
                setOutcome(0);
                expect(await periodic()).not.toContain(yields);
                expect(await periodic()).toContain(yields);
                // Demoted, then master again: outright until a claim goes through.
                expect(inNs(notifyScriptPath(d, "backup")).status).toBe(0);
                expect(await periodic()).not.toContain(yields);
                expect(await periodic()).toContain(yields);
                // A claim still in flight when the node is demoted counts for nothing afterwards.
                setOutcome(0, 1);
                const startedCount = () => (existsSync(started) ? readFileSync(started, "utf8").split("\n").filter(Boolean).length : 0);
                const startedBefore = startedCount();
                const movesBefore = moves().length;
                const inFlight = spawn("ip", ["netns", "exec", ns, notifyScriptPath(d, "master")], { stdio: "ignore" });
                const ended = new Promise((ok) => inFlight.once("exit", ok));
                // The claim is in flight once its move has started (it read the marks before that).
                for (let i = 0; i < 2400 && startedCount() === startedBefore; i++) {
                    await new Promise((ok) => setTimeout(ok, 25));
                }
                expect(inNs(notifyScriptPath(d, "backup")).status).toBe(0);
                await ended;
                // Its move goes on after the notify script has left: wait for it to end.
                for (let i = 0; i < 2400 && moves().length === movesBefore; i++) await new Promise((ok) => setTimeout(ok, 25));
                setOutcome(0);
                expect(await periodic()).not.toContain(yields);
            } finally {
                ip("-n", ns, "addr", "del", "10.25.0.10/16", "dev", "eth2");
            }
            // Room for a loaded machine: every wait above ends on its event, and each is bounded.
        }, 300_000);

        it("fails only when the move fails, and says why", () => {
            const failing = freshDir();
            install(renderInto(failing, edge1, "sh -c 'echo OVH says no >&2; exit 3'"));
            const r = inPrivateRun(notifyScriptPath(failing, "master"));
            expect(r.status).toBe(3);
            expect(r.out).toContain("OVH move of 203.0.113.50 to edge-1 FAILED (exit 3): OVH says no");
            expect(aliases()).toBe(1); // the alias is there: the next promotion or the peer sorts the routing out
            expect(run("backup").status).toBe(0);
        });
    });
});
