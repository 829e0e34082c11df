// `pulumi up` of an edge pair through the real CLI and the real command plugin, for each flavour,
// as a user runs it: the first `up` (each node's files, its daemon, the bundled ovh-ipmove), an
// `up` with nothing to do, the package upgraded to a release with a new ovh-ipmove, the nodes' SSH
// key rotated, a node taken out of the pair, and the pair destroyed. The nodes are real sshd at the stack's addresses,
// reached from the CLI's network namespace (test/support/edgeNodes.ts): what ran on them is read
// from sshd's log (each login, each SFTP session) and the stand-ins' call logs, and their /etc and
// /usr/local are compared, file by file, with what they were before the first `up`. What the
// command plugin does here decides: CopyToRemote copies again only when its asset's hash or its
// remote path changes, and a replacement (its triggers) copies once; remote.Command runs `update`
// on any change of its inputs and its stored `delete`, with its stored connection, when it goes.
import { execFileSync } from "child_process";
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { afterAll, describe, expect, it } from "vitest";
import { buildIpmoveBundle } from "../../components/edge/ipmoveBundle";
import { EdgeNodeFlavour, EdgeNodeHost, EdgeNodeSpec, filesChanged, startEdgeNode } from "../support/edgeNodes";
import {
    EdgeStackNode, EdgeStackSecrets, KEEPALIVED_NODES, keepalivedEdgeStack, OPENBSD_NODES, openbsdEdgeStack, placeholderKeys,
} from "../support/edgePairStacks";
import { REPO } from "../support/engine";
import { backendTexts, changed, editStack, Operation, operation, phaseOf, timeline, WorldEvent } from "../support/lifecycle";
import { kindOf, RecordedPhase, unexplainedWrites, writeLifecycleRecording } from "../support/lifecycleRecording";
import { recordedBy, useProvidersTier } from "../support/providersTier";
import { realProject, scratch } from "../support/realStack";

const tier = useProvidersTier();

interface FlavourCase {
    stack: string;
    flavour: EdgeNodeFlavour;
    pair: string;
    nodes: EdgeStackNode[];
    interfaces: string[];
    stackFile: (hostKeys: Record<string, string>, s: EdgeStackSecrets) => string;
    secrets: Omit<EdgeStackSecrets, "sshPrivateKey">;
    /** Each node's own /etc files before the first deploy. */
    etc: (i: number) => EdgeNodeSpec["etc"];
    keepalivedEnabled?: (i: number) => boolean;
    /** What a node holds once deployed, besides ovh-ipmove and its configuration. */
    expectDeployed: (node: EdgeNodeHost, i: number) => void;
    /** The calls of a node's first deploy that change its daemon, in order. */
    daemonCalls: (i: number) => string[];
}

const OPENBSD: FlavourCase = {
    stack: "edge-pair",
    flavour: "openbsd",
    pair: "edge",
    nodes: OPENBSD_NODES,
    interfaces: ["vio0", "vio1", "vio2"],
    stackFile: openbsdEdgeStack,
    secrets: { password: "Obsd_pw-7x", applicationKey: "tier-edge-ak-obsd", applicationSecret: "tier-edge-as-obsd", consumerKey: "tier-edge-ck-obsd" },
    etc: (i) => ({
        // Modes as OpenBSD's: pf.conf 0600 as installed, a hostname.if others may not read.
        "pf.conf": { content: "set skip on lo\npass\n", mode: 0o600 },
        // The carpdev's own address: the deploy keeps it and adds `up`.
        "hostname.vio2": { content: `inet 10.25.0.${11 + i} 255.255.0.0\n`, mode: 0o640 },
        // The third node ran ifstated of its own before; the others had it off (rc.conf's default).
        "rc.conf.local": i === 2 ? "ifstated_flags=-f /etc/ifstated.local.conf\nntpd_flags=-s\n" : "ntpd_flags=-s\n",
    }),
    expectDeployed(node, i) {
        expect(node.read("/etc/hostname.carp0")).toContain(` pass ${OPENBSD.secrets.password} `);
        expect(node.read("/etc/ifstated.conf")).toContain("203.0.113.231");
        expect(node.read("/etc/hostname.vio2")).toBe(`inet 10.25.0.${11 + i} 255.255.0.0\nup\n`);
        expect(node.read("/etc/pf.conf")).toBe("set skip on lo\npass\npass on vio2 proto carp\n");
        expect(node.read("/etc/sysctl.conf")).toMatch(/\nnet\.inet\.carp\.preempt=0\n$/);
        expect(node.read("/etc/rc.conf.local")).toBe("ifstated_flags=-f /etc/ifstated.conf\nntpd_flags=-s\n");
        expect(node.read("/var/run/rcctl/ifstated.running")).toBe("-f /etc/ifstated.conf\n");
    },
    daemonCalls: () => ["rcctl enable ifstated", "rcctl set ifstated flags -f /etc/ifstated.conf", "rcctl restart ifstated"],
};

const KEEPALIVED_OWN_CONF = "# kad-3's own VRRP, before ovh-failover\nvrrp_instance other {\n}\n";

const KEEPALIVED: FlavourCase = {
    stack: "edge-pair-keepalived",
    flavour: "keepalived",
    pair: "kad",
    nodes: KEEPALIVED_NODES,
    interfaces: ["eth0", "eth1", "eth2"],
    stackFile: keepalivedEdgeStack,
    secrets: { password: "Kad_pw-9", applicationKey: "tier-edge-ak-kad", applicationSecret: "tier-edge-as-kad", consumerKey: "tier-edge-ck-kad" },
    // The third node ran a keepalived of its own before, enabled.
    etc: (i) => (i === 2 ? { "keepalived/keepalived.conf": KEEPALIVED_OWN_CONF } : undefined),
    keepalivedEnabled: (i) => i === 2,
    expectDeployed(node, i) {
        const conf = node.read("/etc/keepalived/keepalived.conf") ?? "";
        expect(conf).toContain(`auth_pass ${KEEPALIVED.secrets.password}`);
        expect(conf).toContain(`unicast_src_ip 10.27.0.${11 + i}`);
        for (const role of ["master", "backup", "fault"]) expect(node.read(`/etc/keepalived/ovh-failover-${role}.sh`)).toContain("203.0.113.242");
    },
    daemonCalls: (i) => [...(i === 2 ? [] : ["systemctl enable keepalived"]), "systemctl reload-or-restart keepalived"],
};

const IPMOVE = "/usr/local/bin/ovh-ipmove";

describe.each([OPENBSD, KEEPALIVED])("an edge pair ($flavour) through the real CLI and command plugin", (c) => {
    const hosts: Record<string, EdgeNodeHost> = {};
    afterAll(() => {
        for (const h of Object.values(hosts)) h.stop();
    });

    it("first up, no change, a new ovh-ipmove with the package's next release, the SSH key rotated, a node removed, destroy", async () => {
        // One SSH key for every node, as edgeSshPrivateKey is one.
        const key = newSshKey();
        for (const [i, n] of c.nodes.entries()) {
            hosts[n.name] = await startEdgeNode({
                flavour: c.flavour, address: n.address, from: tier.ws.network.ns, interfaces: c.interfaces, etc: c.etc(i),
                keepalivedEnabled: c.keepalivedEnabled?.(i), authorizedKeys: [key.publicKey],
            });
        }
        const clientKey = key.privateKey;
        const hostKeys = Object.fromEntries(c.nodes.map((n) => [n.name, hosts[n.name].ssh.hostKey]));
        const project = await realProject(tier.ws, c.stack, c.stackFile(hostKeys, { ...c.secrets, sshPrivateKey: clientKey }));
        const release = asInstalledPackage(project.dir);
        const secrets = [...Object.values(c.secrets), clientKey.split("\n")[1]];
        const before = Object.fromEntries(c.nodes.map((n) => [n.name, hosts[n.name].files()]));
        const phases: RecordedPhase[] = [];

        /**
         * Runs a phase; it must succeed, every write must be explained by one of its steps, the
         * OVH API must have received nothing, and no backend file may hold a credential in clear.
         */
        const run = async (name: string, verb: "up" | "destroy"): Promise<Operation & { world: WorldEvent[] }> => {
            const since = performance.timeOrigin + performance.now();
            const op = await operation(project, verb);
            expect(op.code, `${name}: ${verb} failed:\n${op.diagnostics.join("\n")}\n${op.stderr}`).toBe(0);
            const world = [...timeline(tier.standIn.requests, {}, since), ...nodeEvents(hosts, since)].sort((a, b) => a.at - b.at);
            // The stack never moves the IP, nor reads anything at OVH: only the nodes do, at run time.
            expect(tier.standIn.requests.map((r) => `${r.method} ${r.path}`)).toEqual([]);
            for (const { file, text } of backendTexts(project)) {
                for (const secret of secrets) expect(text.includes(secret), `${file} holds a credential in clear`).toBe(false);
            }
            const recorded = phaseOf(name, op, world);
            // Writes by name: the nodes are deployed side by side, in the scheduler's order.
            const phase = { ...recorded, order: orderByNode(world), writes: Object.fromEntries(Object.entries(recorded.writes).sort(([a], [b]) => a.localeCompare(b))) };
            expect(unexplainedWrites(phase), `${name}: writes no step explains`).toEqual([]);
            phases.push(phase);
            return { ...op, world };
        };
        const urn = (type: string, name: string) => `${type} ${c.pair}-${name}`;
        const sessions = (world: WorldEvent[], node: string) => world.filter((e) => e.what.endsWith(` on ${node}`) && /^(sftp|ssh exec) /.test(e.what)).map((e) => e.what.split(" on ")[0]);
        const writes = (world: WorldEvent[], node: string) => world.filter((e) => e.writes && e.what.endsWith(` on ${node}`)).map((e) => e.what.slice(0, -` on ${node}`.length));
        const daemon = (world: WorldEvent[], node: string) => world.filter((e) => e.what.endsWith(` on ${node}`) && /^(rcctl|systemctl) (enable|disable|set|start|stop|restart|reload-or-restart) /.test(e.what))
            .map((e) => e.what.slice(0, -` on ${node}`.length));
        const expectIpmove = (node: EdgeNodeHost, version: string, sha256: string) => {
            expect(node.files().get(IPMOVE)).toBe(`f 755 0:0 ${sha256}`);
            expect(node.read(`${IPMOVE}.new`)).toBeUndefined();
            const v = node.ssh.run(`${IPMOVE} -version`);
            expect(v.stdout, v.stderr).toMatch(new RegExp(`^ovh-ipmove ${version.replace(/\./g, "\\.")} \\(Node\\.js `));
        };

        // 1. From nothing: on each node, the bundle copied over SFTP, then the deploy: its files,
        // the credentials ovh-ipmove reads, the daemon enabled and (re)started, ovh-ipmove installed.
        const first = await run("up from nothing", "up");
        expect(changed(first.steps)).toEqual([
            `create command:remote:Command ${c.pair}-${c.nodes[0].name}-deploy`,
            `create command:remote:Command ${c.pair}-${c.nodes[1].name}-deploy`,
            `create command:remote:Command ${c.pair}-${c.nodes[2].name}-deploy`,
            `create command:remote:CopyToRemote ${c.pair}-${c.nodes[0].name}-ipmove`,
            `create command:remote:CopyToRemote ${c.pair}-${c.nodes[1].name}-ipmove`,
            `create command:remote:CopyToRemote ${c.pair}-${c.nodes[2].name}-ipmove`,
            `create ovh-failover:edge:CarpPair ${c.pair}`,
            `create ovh-failover:network:FailoverIp ${c.pair}-ip`,
            `create pulumi:pulumi:Stack ovh-failover-${c.stack}`,
        ]);
        for (const [i, n] of c.nodes.entries()) {
            const node = hosts[n.name];
            expect(sessions(first.world, n.name), n.name).toEqual(["sftp", "ssh exec"]);
            expect(daemon(first.world, n.name), n.name).toEqual(c.daemonCalls(i));
            c.expectDeployed(node, i);
            expect(node.read("/etc/ovh-ipmove.conf")).toBe(
                `OVH_ENDPOINT=ovh-eu\nOVH_APPLICATION_KEY=${c.secrets.applicationKey}\nOVH_APPLICATION_SECRET=${c.secrets.applicationSecret}\nOVH_CONSUMER_KEY=${c.secrets.consumerKey}\n`,
            );
            expect(node.files().get("/etc/ovh-ipmove.conf")).toMatch(/^f 600 0:0 /);
            expectIpmove(node, release.version, release.sha256);
        }
        const deployed = Object.fromEntries(c.nodes.map((n) => [n.name, hosts[n.name].files()]));

        // 2. Nothing to do: every step same (or the refresh `refresh: always` runs, which for these
        // resources reads nothing), no SSH session on any node, no file of theirs changed.
        const noop = await run("no change", "up");
        expect(changed(noop.steps)).toEqual([]);
        expect(noop.world).toEqual([]);
        for (const n of c.nodes) expect(filesChanged(deployed[n.name], hosts[n.name].files(), hosts[n.name].written()), n.name).toEqual([]);

        // 3. The package upgraded to its next release, whose ovh-ipmove differs: each node's copy
        // replaced (its triggers hold the bundle's checksum) and copied once, its deploy updated
        // (the checksum is in the script) and run once, which installs it.
        const next = release.upgrade("0.1.1-next");
        const upgrade = await run("ovh-ipmove of the next release", "up");
        expect(changed(upgrade.steps)).toEqual(c.nodes.flatMap((n) => [`replace command:remote:CopyToRemote ${c.pair}-${n.name}-ipmove`, `update command:remote:Command ${c.pair}-${n.name}-deploy`])
            .sort());
        for (const n of c.nodes) {
            // Copied, installed, and nothing else: no daemon restarted, no interface configured again.
            expect(writes(upgrade.world, n.name), n.name).toEqual(["sftp", "ssh exec"]);
            expectIpmove(hosts[n.name], next.version, next.sha256);
        }
        const upgraded = Object.fromEntries(c.nodes.map((n) => [n.name, hosts[n.name].files()]));

        // 4. The edge nodes' SSH key rotated (the new one authorized, then the old one revoked):
        // only the connection of every command changes. The plugin updates each CopyToRemote
        // without copying (the asset's hash is the same) and runs each deploy again, which
        // finds every file as it is and changes nothing.
        const rotated = newSshKey();
        for (const h of Object.values(hosts)) h.ssh.setAuthorizedKeys([key.publicKey, rotated.publicKey]);
        secrets.push(rotated.privateKey.split("\n")[1]);
        const set = await project.pulumi("config", "set", "--stack", project.stack, "--secret", "--", "ovh-failover:edgeSshPrivateKey", rotated.privateKey);
        expect(set.code, set.stderr).toBe(0);
        const rotation = await run("the SSH key rotated", "up");
        expect(changed(rotation.steps)).toEqual(c.nodes.flatMap((n) => [`update command:remote:Command ${c.pair}-${n.name}-deploy`, `update command:remote:CopyToRemote ${c.pair}-${n.name}-ipmove`]).sort());
        for (const n of c.nodes) {
            expect(writes(rotation.world, n.name), n.name).toEqual(["ssh exec"]);
            expect(filesChanged(upgraded[n.name], hosts[n.name].files(), hosts[n.name].written()), n.name).toEqual([]);
        }
        // The old key no longer opens the nodes: what follows runs with the connection the state now holds.
        for (const h of Object.values(hosts)) h.ssh.setAuthorizedKeys([rotated.publicKey]);

        // 5. The last node leaves the pair: its removal runs (with the connection and script the
        // state holds), and its /etc and /usr/local are as they were before the first `up`.
        const leaving = c.nodes[2].name;
        const kept = c.nodes.slice(0, 2);
        editStack(project, (doc) => doc.deleteIn(["config", "ovh-failover:edges", c.pair, "nodes", 2]));
        const removed = await run("a node removed", "up");
        expect(changed(removed.steps)).toEqual(expect.arrayContaining([urn("delete command:remote:Command", `${leaving}-deploy`), urn("delete command:remote:CopyToRemote", `${leaving}-ipmove`)]));
        expect(sessions(removed.world, leaving)).toEqual(["ssh exec"]);
        expect(filesChanged(before[leaving], hosts[leaving].files(), hosts[leaving].written())).toEqual([]);
        // The others run their deploy again only when their files name the node that left.
        for (const n of kept) {
            const updated = changed(removed.steps).includes(urn("update command:remote:Command", `${n.name}-deploy`));
            expect(sessions(removed.world, n.name), n.name).toEqual(updated ? ["ssh exec"] : []);
        }

        // 6. destroy: every node is as it was before the first `up`.
        const destroyed = await run("destroy", "destroy");
        for (const n of kept) expect(sessions(destroyed.world, n.name), n.name).toEqual(["ssh exec"]);
        for (const n of c.nodes) expect(filesChanged(before[n.name], hosts[n.name].files(), hosts[n.name].written()), n.name).toEqual([]);

        const file = writeLifecycleRecording({ stack: c.stack, recorded: recordedBy(tier), stackFile: placeholderKeys(c.stackFile, c.nodes), phases });
        console.log(`recorded ${path.relative(REPO, file)}`);
    });
});

/** What ran on each node since `since`: its SSH sessions and the calls of its stand-ins, `… on <node>`. */
function nodeEvents(hosts: Record<string, EdgeNodeHost>, since: number): WorldEvent[] {
    return Object.entries(hosts).flatMap(([name, host]) => [...host.sessions(), ...host.calls()]
        .filter((e) => e.at >= since)
        .map((e) => ({ at: e.at, what: `${e.what} on ${name}`, writes: !READS.test(e.what) })));
}

/** A stand-in's call that changes nothing on the node: a question, or a check of the new files. */
const READS = /^(rcctl (get|check) |sysctl -n |ifstated -n |pfctl -nf |systemctl is-(enabled|active) |ifconfig carp\d+$)/;

/**
 * The kinds of write in the order they reached each node, node by node: the nodes are deployed
 * side by side, so the order across them is the scheduler's, not the stack's.
 */
function orderByNode(world: WorldEvent[]): string[] {
    const order: string[] = [];
    const nodes = [...new Set(world.map((e) => / on (\S+)$/.exec(e.what)?.[1]).filter((n): n is string => n !== undefined))].sort();
    for (const node of nodes) {
        let last: string | undefined;
        for (const e of world.filter((w) => w.writes && w.what.endsWith(` on ${node}`))) {
            const kind = `${kindOf(e.what) ?? e.what} on ${node}`;
            if (kind !== last) order.push(kind);
            last = kind;
        }
    }
    return order;
}

interface Release {
    version: string;
    sha256: string;
}

/**
 * The project as a user of the published package has it (package.json "files"): dist/ and
 * package.json files of its own and no sources, so that the program ships the bundle it was
 * released with (components/edge/ipmoveBundle.ts, ipmoveBundle) rather than build one from a
 * checkout. `upgrade` installs the next release: the same sources at another version, whose
 * ovh-ipmove (it prints the package's version) is built as scripts/build.ts builds it.
 */
function asInstalledPackage(dir: string): Release & { upgrade(version: string): Release } {
    for (const f of ["dist", "package.json"]) fs.rmSync(path.join(dir, f));
    fs.cpSync(path.join(REPO, "dist"), path.join(dir, "dist"), { recursive: true });
    fs.copyFileSync(path.join(REPO, "package.json"), path.join(dir, "package.json"));
    const current = (version: string, text: string) => ({ version, sha256: sha256(text) });
    const pkg = JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8")) as { version: string };
    return {
        ...current(pkg.version, fs.readFileSync(path.join(dir, "dist", "ovh-ipmove.cjs"), "utf8")),
        upgrade(version) {
            const root = scratch("ovhf-next-release-");
            try {
                for (const d of ["bin", "components", "node_modules"]) fs.symlinkSync(path.join(REPO, d), path.join(root, d));
                fs.writeFileSync(path.join(root, "package.json"), `${JSON.stringify({ ...pkg, version }, null, 2)}\n`);
                const bundle = buildIpmoveBundle(root);
                fs.copyFileSync(bundle.file, path.join(dir, "dist", "ovh-ipmove.cjs"));
                fs.copyFileSync(path.join(root, "package.json"), path.join(dir, "package.json"));
                return { version, sha256: bundle.sha256 };
            } finally {
                fs.rmSync(root, { recursive: true, force: true });
            }
        },
    };
}

/** A fresh ed25519 key pair, as ssh-keygen writes it. */
function newSshKey(): { privateKey: string; publicKey: string } {
    const dir = scratch("ovhf-edge-key-");
    try {
        execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", path.join(dir, "key")]);
        return { privateKey: fs.readFileSync(path.join(dir, "key"), "utf8"), publicKey: fs.readFileSync(path.join(dir, "key.pub"), "utf8").trim() };
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

function sha256(text: string): string {
    return createHash("sha256").update(text).digest("hex");
}
