// An edge node's deploy through a real OpenSSH server with Debian's stock configuration, as
// @pulumi/command runs it (test/support/sshLab.ts): real keepalived checks the files, real
// iproute2 holds the aliases. An IP change must remove the old IP's alias although the server
// refuses the previous output the client offers: the node keeps what the next deploy needs.
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { renderNodeDeployment, renderNodeRemoval } from "../../../components/edge/carpPair";
import { CarpNodeSpec, DEFAULT_PREEMPT, EdgePairSpec } from "../../../components/edge/carpSpec";
import { PASSWORD_MARKER, renderSecretsInput } from "../../../components/edge/edgeDeploy";
import { rcctlStandIn } from "../../support/rcctlStandIn";
import { canRunSshLab, SshHost, startSshHost } from "../../support/sshLab";

const runnable = canRunSshLab() && fs.existsSync("/usr/sbin/keepalived");
if (!runnable && process.env.CI === "true") throw new Error("the SSH lab needs root, iproute2, openssh-server and keepalived in CI");

const node = (name: string, advskew: number, privateAddress: string): CarpNodeSpec => ({
    name, advskew, publicInterface: "eth0", privateInterface: "eth1", privateAddress, move: { kind: "cloud", project: "0123456789abcdef0123456789abcdef", instance: name },
});
const spec = (failoverIp: string): EdgePairSpec => ({
    group: { vhid: 1, address: "10.25.0.10", prefixLength: 16, carpdev: "eth2", advbase: 1, password: PASSWORD_MARKER, carpUnit: 0 },
    nodes: [node("edge-1", 0, "10.25.0.11"), node("edge-2", 50, "10.25.0.12")],
    failoverIp,
    health: { pingTarget: "192.0.2.53", intervalSeconds: 15 },
    ipmovePath: "/usr/local/bin/ovh-ipmove",
    preempt: DEFAULT_PREEMPT,
});
/**
 * ovh-ipmove as someone installed it on the node, with this mode: the deploys below copy none, and
 * require it. Written through the lab's sshd, into its overlay as mounted.
 */
function placeIpmove(host: SshHost, mode = "0755"): void {
    const r = host.run(`mkdir -p /usr/local/bin && cat > /usr/local/bin/ovh-ipmove && chmod ${mode} /usr/local/bin/ovh-ipmove`, { stdin: "#!/bin/sh\necho \"ovh-ipmove $*\"\n" });
    expect(r.status, r.stderr).toBe(0);
}
const SECRETS = renderSecretsInput("Pass_w-8", "OVH_ENDPOINT=ovh-eu\nOVH_APPLICATION_KEY=ak\nOVH_APPLICATION_SECRET=as\nOVH_CONSUMER_KEY=ck\n");

describe.skipIf(!runnable)("an edge node's deploy through a real sshd (stock Debian sshd_config)", () => {
    let host: SshHost;
    beforeAll(async () => {
        host = await startSshHost(["eth0", "eth1", "eth2"]);
        // No systemd in the lab: systemctl records what it is asked.
        fs.writeFileSync(path.join(host.usrLocal, "sbin/systemctl"), "#!/bin/sh\necho \"systemctl $*\" >> /var/log/systemctl.calls\n", { mode: 0o755 });
    });
    afterAll(() => host?.stop());

    it("without ovh-ipmove on the node, a deploy that copies none stops before anything, saying so; not executable, the same", () => {
        const s = spec("203.0.113.50");
        const missing = host.run(renderNodeDeployment("keepalived", s, s.nodes[1]), { stdin: SECRETS });
        expect(missing.status).toBe(6);
        expect(missing.stderr).toContain("ovh-ipmove is not at /usr/local/bin/ovh-ipmove on this node, and the deploy does not copy it");
        expect(host.run("test -e /etc/ovh-ipmove.conf || test -e /etc/keepalived/keepalived.conf").status).not.toBe(0);
        placeIpmove(host, "0644");
        const notExecutable = host.run(renderNodeDeployment("openbsd", s, s.nodes[1]), { stdin: SECRETS });
        expect(notExecutable.status).toBe(6);
        expect(notExecutable.stderr).toContain("/usr/local/bin/ovh-ipmove is not executable: its claims could not move the failover IP; chmod 0755 /usr/local/bin/ovh-ipmove");
        expect(host.run("test -e /etc/ovh-ipmove.conf").status).not.toBe(0);
        placeIpmove(host);
    });

    it("an IP change removes the old IP's alias, with nothing read from the environment", () => {
        const first = host.run(renderNodeDeployment("keepalived", spec("203.0.113.50"), spec("203.0.113.50").nodes[1]), { stdin: SECRETS });
        expect(first.status, first.stderr).toBe(0);
        expect(fs.readFileSync(path.join(host.etcDir, "keepalived/keepalived.conf"), "utf8")).toContain("auth_pass Pass_w-8");
        expect(fs.readFileSync(path.join(host.varDir, "lib/ovh-failover/failover-ip"), "utf8")).toBe("203.0.113.50\n");
        // The daemon, promoted, put the IP on the public interface.
        host.inNamespace("ip", "-4", "addr", "add", "203.0.113.50/32", "dev", "eth0");

        const second = host.run(renderNodeDeployment("keepalived", spec("203.0.113.51"), spec("203.0.113.51").nodes[1]), { stdin: SECRETS, previousStdout: first.stdout });
        expect(second.status, second.stderr).toBe(0);
        expect(second.stdout).toContain("removed the alias of the previous failover IP 203.0.113.50");
        expect(host.inNamespace("ip", "-4", "addr", "show", "dev", "eth0")).not.toContain("203.0.113.50");
        expect(fs.readFileSync(path.join(host.varDir, "lib/ovh-failover/failover-ip"), "utf8")).toBe("203.0.113.51\n");
        expect(fs.readFileSync(path.join(host.varDir, "log/systemctl.calls"), "utf8")).toContain("systemctl reload-or-restart keepalived");
    });
});

// A node that leaves the pair (removed from the stack, or pulumi destroy) runs its removal: no
// credentials are left, so nothing can claim; every file the deploy installed is as it was before
// the first deploy (byte for byte, or absent); the daemon follows; the alias goes.
describe.skipIf(!runnable)("an edge node leaving the pair, through a real sshd", () => {
    const hosts: SshHost[] = [];
    afterAll(() => hosts.forEach((h) => h.stop()));

    async function lab(stubs: Record<string, string>): Promise<SshHost> {
        const host = await startSshHost(["eth0", "eth1", "eth2"]);
        hosts.push(host);
        placeIpmove(host);
        for (const [name, body] of Object.entries(stubs)) {
            fs.writeFileSync(path.join(host.usrLocal, "sbin", name), `#!/bin/sh\necho "${name} $*" >> /var/log/calls\n${body}\n`, { mode: 0o755 });
        }
        return host;
    }
    const calls = (host: SshHost) => fs.readFileSync(path.join(host.varDir, "log/calls"), "utf8").split("\n").filter(Boolean);
    const exists = (host: SshHost, file: string) => host.run(`test -e '${file}'`).status === 0;
    const read = (host: SshHost, file: string) => host.run(`cat '${file}'`).stdout;

    it("keepalived: the node's own keepalived.conf comes back byte for byte, the credentials, scripts and alias go", async () => {
        // systemctl says keepalived was enabled before: it stays so, and reloads the node's own file.
        const host = await lab({ systemctl: "exit 0" });
        const own = "# this node's own VRRP, before ovh-failover\nvrrp_instance other { }\n";
        fs.mkdirSync(path.join(host.etcDir, "keepalived"), { recursive: true });
        fs.writeFileSync(path.join(host.etcDir, "keepalived/keepalived.conf"), own);
        const s = spec("203.0.113.50");
        const deployed = host.run(renderNodeDeployment("keepalived", s, s.nodes[1]), { stdin: SECRETS });
        expect(deployed.status, deployed.stderr).toBe(0);
        expect(read(host, "/etc/keepalived/keepalived.conf")).toContain("auth_pass Pass_w-8");
        host.inNamespace("ip", "-4", "addr", "add", "203.0.113.50/32", "dev", "eth0");

        const removed = host.run(renderNodeRemoval("keepalived", s, s.nodes[1]));
        expect(removed.status, removed.stderr).toBe(0);
        expect(exists(host, "/etc/ovh-ipmove.conf")).toBe(false);
        expect(read(host, "/etc/keepalived/keepalived.conf")).toBe(own);
        for (const role of ["master", "backup", "fault"]) expect(exists(host, `/etc/keepalived/ovh-failover-notify-${role}.sh`)).toBe(false);
        expect(host.inNamespace("ip", "-4", "addr", "show", "dev", "eth0")).not.toContain("203.0.113.50");
        expect(exists(host, "/var/lib/ovh-failover/failover-ip")).toBe(false);
        expect(calls(host).slice(-1)[0]).toBe("systemctl reload-or-restart keepalived");
        // Run again (a retried delete): nothing left to do, and no error.
        const again = host.run(renderNodeRemoval("keepalived", s, s.nodes[1]));
        expect(again.status, again.stderr).toBe(0);
        expect(read(host, "/etc/keepalived/keepalived.conf")).toBe(own);
    });

    it("keepalived: files an earlier deploy wrote (before originals were kept) and old credentials are not put back", async () => {
        const host = await lab({ systemctl: `[ "$1" = is-enabled ] && exit 1; exit 0` });
        const earlier = "# keepalived.conf for edge-1, generated by ovh-failover: edit the stack, not this file.\nvrrp_instance ovh_failover { }\n";
        const rule = host.run("mkdir -p /etc/keepalived && cat > /etc/keepalived/keepalived.conf && printf 'OVH_APPLICATION_KEY=old\\n' > /etc/ovh-ipmove.conf", { stdin: earlier });
        expect(rule.status, rule.stderr).toBe(0);
        const s = spec("203.0.113.50");
        expect(host.run(renderNodeDeployment("keepalived", s, s.nodes[0]), { stdin: SECRETS }).status).toBe(0);
        const removed = host.run(renderNodeRemoval("keepalived", s, s.nodes[0]));
        expect(removed.status, removed.stderr).toBe(0);
        expect(exists(host, "/etc/keepalived/keepalived.conf")).toBe(false);
        expect(exists(host, "/etc/ovh-ipmove.conf")).toBe(false);
    });

    it("keepalived: with no configuration before, keepalived is stopped and disabled, as it was", async () => {
        // systemctl is-enabled fails: keepalived was not enabled before the first deploy.
        const host = await lab({ systemctl: `[ "$1" = is-enabled ] && exit 1; exit 0` });
        const s = spec("203.0.113.50");
        expect(host.run(renderNodeDeployment("keepalived", s, s.nodes[0]), { stdin: SECRETS }).status).toBe(0);
        const before = calls(host).length;
        const removed = host.run(renderNodeRemoval("keepalived", s, s.nodes[0]));
        expect(removed.status, removed.stderr).toBe(0);
        expect(exists(host, "/etc/keepalived/keepalived.conf")).toBe(false);
        expect(exists(host, "/etc/ovh-ipmove.conf")).toBe(false);
        expect(calls(host).slice(before)).toEqual(["systemctl stop keepalived", "systemctl disable keepalived"]);
    });

    /** An OpenBSD node: its tools record their calls; rcctl follows rcctl.sh (test/support/rcctlStandIn.ts). */
    async function openbsdLab(files: Record<string, string> = {}): Promise<SshHost> {
        const host = await lab({ ifconfig: "exit 0", pfctl: "exit 0", ifstated: "exit 0", sysctl: `[ "$1" = -n ] && echo 0; exit 0` });
        fs.writeFileSync(path.join(host.usrLocal, "sbin/rcctl"), rcctlStandIn({ etcDir: "/etc", runDir: "/var/run/rcctl", callLog: "/var/log/calls" }), { mode: 0o755 });
        fs.writeFileSync(path.join(host.etcDir, "netstart"), "echo \"netstart $*\" >> /var/log/calls\n");
        fs.writeFileSync(path.join(host.etcDir, "pf.conf"), "set skip on lo\npass\n");
        for (const [name, content] of Object.entries(files)) fs.writeFileSync(path.join(host.etcDir, name), content);
        return host;
    }
    const rcctl = (host: SshHost, ...args: string[]) => host.run(["rcctl", ...args].join(" "));

    it("OpenBSD: ifstated stopped as it was, carp0 destroyed, hostname.if and pf.conf as they were, the credentials and alias gone", async () => {
        // ifstated was off (rc.conf's default: no line in rc.conf.local).
        const host = await openbsdLab({ "hostname.eth2": "inet 10.25.0.12 255.255.0.0\n" });
        const pf = read(host, "/etc/pf.conf");
        const sysctlConf = read(host, "/etc/sysctl.conf");
        const s = spec("203.0.113.50");
        const deployed = host.run(renderNodeDeployment("openbsd", s, s.nodes[1]), { stdin: SECRETS });
        expect(deployed.status, deployed.stderr).toBe(0);
        expect(read(host, "/etc/pf.conf")).not.toBe(pf);
        expect(read(host, "/etc/sysctl.conf")).toContain("net.inet.carp.preempt=0");
        expect(exists(host, "/etc/hostname.carp0")).toBe(true);
        // The carpdev keeps its address at the next boot, and comes up.
        expect(read(host, "/etc/hostname.eth2")).toBe("inet 10.25.0.12 255.255.0.0\nup\n");
        expect(rcctl(host, "get", "ifstated", "flags").stdout).toBe("-f /etc/ifstated.conf\n");

        const removed = host.run(renderNodeRemoval("openbsd", s, s.nodes[1]));
        expect(removed.status, removed.stderr).toBe(0);
        expect(exists(host, "/etc/ovh-ipmove.conf")).toBe(false);
        expect(exists(host, "/etc/ifstated.conf")).toBe(false);
        expect(exists(host, "/etc/hostname.carp0")).toBe(false);
        expect(read(host, "/etc/hostname.eth2")).toBe("inet 10.25.0.12 255.255.0.0\n");
        expect(read(host, "/etc/pf.conf")).toBe(pf);
        // sysctl.conf as it was, and CARP's preemption set back as it was.
        expect(read(host, "/etc/sysctl.conf")).toBe(sysctlConf);
        expect(calls(host)).toContain("sysctl net.inet.carp.preempt=0");
        const after = calls(host).slice(calls(host).lastIndexOf("rcctl restart ifstated") + 1);
        expect(after).toEqual(expect.arrayContaining(["rcctl stop ifstated", "rcctl disable ifstated", "ifconfig carp0 destroy", "netstart eth2", "ifconfig eth0 inet 203.0.113.50 delete"]));
        expect(after.indexOf("rcctl stop ifstated")).toBeLessThan(after.indexOf("ifconfig eth0 inet 203.0.113.50 delete"));
    });

    // What rc.conf.local held about ifstated before the first deploy, and what rcctl said of it
    // (rcctl.sh svc_get: `get ifstated flags` prints NO for a disabled daemon, nothing for one
    // enabled with its default flags).
    it.each([
        ["enabled with its default flags", "ifstated_flags=\n", "", true],
        ["enabled with flags of its own", "ifstated_flags=-v -f /etc/ifstated.local.conf\nntpd_flags=-s\n", "-v -f /etc/ifstated.local.conf", true],
        ["disabled", "ntpd_flags=-s\n", "NO", false],
    ] as const)("OpenBSD: ifstated %s is so again after the removal, rc.conf.local byte for byte", async (_, rcConfLocal, flags, on) => {
        const host = await openbsdLab({ "rc.conf.local": rcConfLocal });
        const s = spec("203.0.113.50");
        const deployed = host.run(renderNodeDeployment("openbsd", s, s.nodes[0]), { stdin: SECRETS });
        expect(deployed.status, deployed.stderr).toBe(0);
        expect(rcctl(host, "get", "ifstated", "flags").stdout).toBe("-f /etc/ifstated.conf\n");
        expect(read(host, "/var/run/rcctl/ifstated.running")).toBe("-f /etc/ifstated.conf\n");
        // No hostname.eth2 before: the deploy's brings it up, and goes with the removal.
        expect(read(host, "/etc/hostname.eth2")).toBe("up\n");

        const removed = host.run(renderNodeRemoval("openbsd", s, s.nodes[0]));
        expect(removed.status, removed.stderr).toBe(0);
        expect(exists(host, "/etc/hostname.eth2")).toBe(false);
        expect(read(host, "/etc/rc.conf.local")).toBe(rcConfLocal);
        expect(rcctl(host, "get", "ifstated", "status").status).toBe(on ? 0 : 1);
        expect(rcctl(host, "get", "ifstated", "flags").stdout).toBe(flags === "" ? "" : `${flags}\n`);
        // Running again with the flags it had, or stopped.
        expect(rcctl(host, "check", "ifstated").status).toBe(on ? 0 : 1);
        if (on) expect(read(host, "/var/run/rcctl/ifstated.running")).toBe(`${flags}\n`);
        // A retried removal changes nothing.
        expect(host.run(renderNodeRemoval("openbsd", s, s.nodes[0])).status).toBe(0);
        expect(read(host, "/etc/rc.conf.local")).toBe(rcConfLocal);
    });

    it("OpenBSD: an earlier deploy's record of ifstated's flags alone, empty, is read as enabled with its default flags", async () => {
        // What that deploy left: ifstated on with its flags, and `rcctl get ifstated flags` from before.
        const host = await openbsdLab({ "rc.conf.local": "ifstated_flags=-f /etc/ifstated.conf\n" });
        expect(host.run("mkdir -p /var/db/ovh-failover/originals && : > /var/db/ovh-failover/originals/ifstated.flags").status).toBe(0);
        const s = spec("203.0.113.50");
        const removed = host.run(renderNodeRemoval("openbsd", s, s.nodes[0]));
        expect(removed.status, removed.stderr).toBe(0);
        expect(read(host, "/etc/rc.conf.local")).toBe("ifstated_flags=\n");
        expect(read(host, "/var/run/rcctl/ifstated.running")).toBe("\n");
        expect(exists(host, "/var/db/ovh-failover/originals/ifstated.flags")).toBe(false);
    });
});

// A stock OpenBSD refuses root over SSH (the installer writes PermitRootLogin no): the node is
// reached as another user, who runs the scripts as root with doas (real doas, Debian's package).
describe.skipIf(!runnable || !fs.existsSync("/usr/bin/doas"))("an edge node reached as a user other than root, with doas", () => {
    let host: SshHost;
    const bundle = "console.log('ovh-ipmove test bundle');\n";
    const sha = createHash("sha256").update(bundle).digest("hex");

    beforeAll(async () => {
        host = await startSshHost(["eth0", "eth1", "eth2"]);
        fs.writeFileSync(path.join(host.usrLocal, "sbin/systemctl"), "#!/bin/sh\necho \"systemctl $*\" >> /var/log/systemctl.calls\n", { mode: 0o755 });
        // The user and its home live in the lab's own /etc and /var.
        const made = host.run("useradd -m -d /var/home/deploy -s /bin/sh deploy");
        expect(made.status, made.stderr).toBe(0);
    });
    afterAll(() => host?.stop());

    const needsRule = 'add the line "permit nopass deploy as root cmd /bin/sh" to /etc/doas.conf, after every other rule that matches deploy (the last matching rule decides, doas.conf(5))';

    it("without the doas rule, the deploy stops at once, says which line to add and where, and changes nothing", () => {
        const s = spec("203.0.113.50");
        const r = host.run(renderNodeDeployment("keepalived", s, s.nodes[0], undefined, "deploy"), { stdin: SECRETS, user: "deploy" });
        expect(r.status).toBe(7);
        expect(r.stderr).toContain(needsRule);
        expect(host.run("test -e /etc/ovh-ipmove.conf").status).not.toBe(0);
    });

    it("with the rule followed by a wider one without nopass, which is the last that matches: no prompt (-n), the same message", () => {
        const rule = host.run("cat > /etc/doas.conf && chmod 0600 /etc/doas.conf", {
            stdin: "permit nopass deploy as root cmd /bin/sh\npermit deploy as root\n",
        });
        expect(rule.status, rule.stderr).toBe(0);
        const s = spec("203.0.113.50");
        const r = host.run(renderNodeDeployment("keepalived", s, s.nodes[0], undefined, "deploy"), { stdin: SECRETS, user: "deploy" });
        expect(r.status).toBe(7);
        // usr.bin/doas/doas.c: a matching rule without nopass, and -n: this, never a prompt.
        expect(r.stderr).toMatch(/^doas: Authentication required$/m);
        expect(r.stderr).toContain(needsRule);
        expect(host.run("test -e /etc/ovh-ipmove.conf").status).not.toBe(0);
    });

    it("with the rule `permit nopass deploy as root cmd /bin/sh` last, after a wider one, deploys (the bundle copied to its home), and its removal runs too", () => {
        // Through the lab's sshd, as root: its /etc is an overlay mounted already. The README's
        // rule, with one addition for the lab, which has no systemd: doas sets a PATH of its own
        // (doas(1)), and the lab's systemctl stand-in must come first in it.
        const rule = host.run("cat > /etc/doas.conf && chmod 0600 /etc/doas.conf", {
            stdin: "permit deploy as root\npermit nopass setenv { PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin } deploy as root cmd /bin/sh\n",
        });
        expect(rule.status, rule.stderr).toBe(0);
        // As CopyToRemote leaves it: in the user's home, the user's own.
        const copied = host.run("cat > ovh-ipmove.new", { stdin: bundle, user: "deploy" });
        expect(copied.status, copied.stderr).toBe(0);
        const s = spec("203.0.113.50");
        const r = host.run(renderNodeDeployment("keepalived", s, s.nodes[0], sha, "deploy"), { stdin: SECRETS, user: "deploy" });
        expect(r.status, r.stderr).toBe(0);
        expect(r.stdout).toContain("ovh-ipmove test bundle");
        expect(host.run("stat -c '%U %a' /etc/ovh-ipmove.conf /usr/local/bin/ovh-ipmove /etc/keepalived/keepalived.conf").stdout.split("\n").filter(Boolean)).toEqual(["root 600", "root 755", "root 600"]);
        expect(host.run("test -e /var/home/deploy/ovh-ipmove.new").status).not.toBe(0);

        const removed = host.run(renderNodeRemoval("keepalived", s, s.nodes[0], sha, "deploy"), { user: "deploy" });
        expect(removed.status, removed.stderr).toBe(0);
        expect(host.run("test -e /etc/ovh-ipmove.conf || test -e /usr/local/bin/ovh-ipmove").status).not.toBe(0);
    });
});
