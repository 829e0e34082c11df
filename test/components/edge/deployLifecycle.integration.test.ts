// An edge node's deploy through a real OpenSSH server with Debian's stock configuration, as
// @pulumi/command runs it (test/support/sshLab.ts): real keepalived checks the files, real
// iproute2 holds the aliases. An IP change must remove the old IP's alias although the server
// refuses the previous output the client offers: the node keeps what the next deploy needs.
import * as fs from "fs";
import * as path from "path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { renderNodeDeployment } from "../../../components/edge/carpPair";
import { CarpNodeSpec, DEFAULT_PREEMPT, EdgePairSpec } from "../../../components/edge/carpSpec";
import { PASSWORD_MARKER, renderSecretsInput } from "../../../components/edge/edgeDeploy";
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
const SECRETS = renderSecretsInput("Pass_w-8", "OVH_ENDPOINT=ovh-eu\nOVH_APPLICATION_KEY=ak\nOVH_APPLICATION_SECRET=as\nOVH_CONSUMER_KEY=ck\n");

describe.skipIf(!runnable)("an edge node's deploy through a real sshd (stock Debian sshd_config)", () => {
    let host: SshHost;
    beforeAll(async () => {
        host = await startSshHost(["eth0", "eth1", "eth2"]);
        // No systemd in the lab: systemctl records what it is asked.
        fs.writeFileSync(path.join(host.usrLocal, "sbin/systemctl"), "#!/bin/sh\necho \"systemctl $*\" >> /var/log/systemctl.calls\n", { mode: 0o755 });
    });
    afterAll(() => host?.stop());

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
