// The seed 001 edge stack evaluated as the plan evaluates it, and its IP change.
import * as fs from "fs";
import * as path from "path";
import { beforeAll, describe, expect, it } from "vitest";
import { evaluate, plan } from "../../../bin/plan";
import { Evaluation, SIG, Step } from "../../../bin/plan/model";
import { applySet, loadProject, loadStackConfig } from "../../../bin/plan/stackFiles";
import { buildIpmoveBundle } from "../../../components/edge/ipmoveBundle";

const root = path.resolve(__dirname, "../../..");
const project = loadProject(root);

describe("seed 001 edge pair", () => {
    let e: Evaluation;
    beforeAll(async () => {
        e = await evaluate(root, project, "edge-pair", loadStackConfig(root, project, "edge-pair"));
        expect(e.error).toBeUndefined();
    });

    it("copies the bundled ovh-ipmove to each node with its checksum, which the deploy checks before installing it", () => {
        const bundle = buildIpmoveBundle(root);
        expect(fs.readFileSync(bundle.file, "utf8").startsWith("#!/usr/bin/env node\n")).toBe(true);
        for (const node of ["edge-sbg-1", "edge-sbg-2"]) {
            const copy = e.resources.find((r) => r.name === `edge-${node}-ipmove`)!;
            expect(copy.type).toBe("command:remote:CopyToRemote");
            expect(copy.inputs).toMatchObject({ remotePath: "/usr/local/bin/ovh-ipmove.new", source: { [SIG.key]: SIG.asset, hash: bundle.sha256, path: bundle.file }, triggers: [bundle.sha256] });
            const deploy = e.resources.find((r) => r.name === `edge-${node}-deploy`)!;
            expect(deploy.dependencies).toContain(copy.urn);
            const script = String(deploy.inputs.create);
            expect(script).toContain(`if [ "$sum" != '${bundle.sha256}' ]`);
            expect(script).toContain("(OpenBSD: pkg_add node; Debian: apt-get install nodejs)");
            expect(script.indexOf("node '/usr/local/bin/ovh-ipmove.new' -version")).toBeLessThan(script.indexOf("ifstated -n -f"));
            expect(script).toContain("mv -f '/usr/local/bin/ovh-ipmove.new' '/usr/local/bin/ovh-ipmove'");
        }
    });

    it("declares no routing for the IP: the nodes own it at run time", () => {
        expect(e.resources.map((r) => r.type)).not.toContain("ovh:Ip/move:Move");
        expect(e.resources.map((r) => r.type)).not.toContain("ovh:CloudProject/failoverIpAttach:FailoverIpAttach");
    });

    it("deploys each node with files validated on the node before they replace the running ones", () => {
        for (const node of ["edge-sbg-1", "edge-sbg-2"]) {
            const cmd = e.resources.find((r) => r.name === `edge-${node}-deploy`)!;
            const script = String(cmd.inputs.create);
            const validate = script.indexOf("ifstated -n -f '/etc/ifstated.conf.new'");
            const pfCheck = script.indexOf("pfctl -nf /etc/pf.conf.new");
            const install = script.indexOf("mv -f '/etc/ifstated.conf.new' '/etc/ifstated.conf'");
            expect(validate).toBeGreaterThan(0);
            expect(pfCheck).toBeGreaterThan(validate);
            expect(install).toBeGreaterThan(pfCheck);
            expect(script.indexOf("sh /etc/netstart vio2 carp0")).toBeGreaterThan(install);
            expect(script).toContain(`-instance '${node}'`);
            // The password and the OVH credentials travel on stdin, a secret; the script holds neither.
            expect(script).toContain("pass _CARPPW_ advskew");
            expect(cmd.inputs.stdin).toMatch(/^\[secret#[0-9a-f]{16}\]$/);
        }
    });
});

describe("changing only the failover IP of the edge pair", () => {
    let steps: Step[];
    beforeAll(async () => {
        const r = await plan(root, { stack: "edge-pair", sets: ["edges.edge.failoverIp=203.0.113.232"], json: false, showSame: false }, false);
        expect(r.exitCode, r.message).toBe(0);
        steps = r.steps;
    });

    it("re-renders both nodes and nothing else", () => {
        const changed = Object.fromEntries(steps.filter((s) => s.op !== "same").map((s) => [s.name, s.op]));
        expect(changed).toEqual({ "edge-edge-sbg-1-deploy": "update", "edge-edge-sbg-2-deploy": "update" });
    });

    it("changes exactly the lines that hold the IP: ifstated.conf's alias lines, the claim script's, and the IP the deploy records", () => {
        for (const s of steps.filter((x) => x.op === "update")) {
            const before = String(s.old?.inputs.create).split("\n");
            const after = String(s.new?.inputs.create).split("\n");
            const removed = before.filter((l) => !after.includes(l));
            const added = after.filter((l) => !before.includes(l));
            // ifstated.conf: the alias added on promotion, and dropped in demoted and whatever the
            // state; the claim script: its messages, the alias and the move; the deploy: the
            // old-alias check, the IP it records on the node, and the failover-ip= line it prints.
            expect(removed).toEqual(before.filter((l) => l.includes("203.0.113.231")));
            expect(added).toEqual(removed.map((l) => l.replaceAll("203.0.113.231", "203.0.113.232")));
            expect(added.filter((l) => /^\s*run "/.test(l))).toHaveLength(3);
            // The claim script's moves: outright, and for the lower node yielding as well (the
            // periodic claim once a claim of its own went through).
            expect(added.filter((l) => l.includes("'/usr/local/bin/ovh-ipmove' -config"))).toHaveLength(s.name.includes("sbg-1") ? 1 : 2);
            // The removal (delete) follows the IP too: it takes the new IP's alias away.
            expect(Object.keys(s.detailedDiff).sort()).toEqual(["create", "delete", "update"]);
        }
    });
});

describe("letting the preferred node take the role back (edges.edge.preempt=true)", () => {
    let steps: Step[];
    beforeAll(async () => {
        const r = await plan(root, { stack: "edge-pair", sets: ["edges.edge.preempt=true"], json: false, showSame: false }, false);
        expect(r.exitCode, r.message).toBe(0);
        steps = r.steps;
    });

    it("changes net.inet.carp.preempt in both nodes' deploys, in sysctl.conf and at once, and nothing else", () => {
        expect(Object.fromEntries(steps.filter((s) => s.op !== "same").map((s) => [s.name, s.op]))).toEqual({ "edge-edge-sbg-1-deploy": "update", "edge-edge-sbg-2-deploy": "update" });
        for (const s of steps.filter((x) => x.op === "update")) {
            const before = String(s.old?.inputs.create).split("\n");
            const after = String(s.new?.inputs.create).split("\n");
            expect(before.filter((l) => !after.includes(l)).map((l) => l.replace(/.*(printf|sysctl net)/, "$1"))).toEqual([
                "printf '%s\\n' 'net.inet.carp.preempt=0'; } > '/etc/sysctl.conf.new'",
                "sysctl net.inet.carp.preempt=0 >/dev/null",
            ]);
            expect(after.filter((l) => !before.includes(l)).map((l) => l.replace(/.*(printf|sysctl net)/, "$1"))).toEqual([
                "printf '%s\\n' 'net.inet.carp.preempt=1'; } > '/etc/sysctl.conf.new'",
                "sysctl net.inet.carp.preempt=1 >/dev/null",
            ]);
        }
    });
});

describe("bad edge values are rejected with their key, before any resource", () => {
    const cases: [string, string, RegExp][] = [
        ["edges.edge.group.vhid=0", "edges.edge.group.vhid", /1 to 255/],
        ["edges.edge.group.vhid=256", "edges.edge.group.vhid", /1 to 255/],
        ["edges.edge.nodes[0].advskew=255", "edges.edge.nodes[0].advskew", /0 to 254/],
        ["edges.edge.nodes[1].advskew=1", "edges.edge.nodes[1].advskew", /no other node has/],
        ["edgePasswords.edge=two words", "edgePasswords.edge", /no spaces/],
        ["edges.edge.group.carpdev=", "edges.edge.group.carpdev", /interface name/],
        ["edges.edge.preempt=sometimes", "edges.edge.preempt", /true or false/],
    ];
    for (const [set, key, expected] of cases) {
        it(`${set} → ${key}`, async () => {
            const config = applySet(project, loadStackConfig(root, project, "edge-pair"), set);
            const e = await evaluate(root, project, "edge-pair", config);
            expect(e.resources).toEqual([]);
            expect(e.error).toContain(`${key}: `);
            expect(e.error).toMatch(expected);
            if (key.startsWith("edgePasswords")) expect(e.error).not.toContain("two words");
        });
    }

    it("fewer than two nodes", async () => {
        const config = new Map(loadStackConfig(root, project, "edge-pair"));
        const edges = JSON.parse(config.get("ovh-failover:edges")!.text) as { edge: { nodes: unknown[] } };
        edges.edge.nodes = edges.edge.nodes.slice(0, 1);
        config.set("ovh-failover:edges", { text: JSON.stringify(edges), secret: false, structured: true, fromStack: true });
        const e = await evaluate(root, project, "edge-pair", config);
        expect(e.resources).toEqual([]);
        expect(e.error).toMatch(/edges\.edge\.nodes: 1 is not valid: expected at least two nodes/);
    });
});
