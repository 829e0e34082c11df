// npm run drift: the NIC as `pct config` shows it against what the stack says, since a remote
// command has no read and `pulumi refresh` cannot see a NIC changed by hand.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { afterAll, describe, expect, it } from "vitest";
import { expectedNic, netLine, nicDrift } from "../../bin/drift";
import { sshCommand, stackSpec } from "../../bin/hostShell";
import { localMacFor } from "../../components/proxmox/pct";

const root = path.resolve(__dirname, "../..");
const work = fs.mkdtempSync(path.join(os.tmpdir(), "ovh-failover-drift-"));
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

const AS_STACK = "name=eth1,bridge=vmbr0,firewall=1,gw=198.51.100.254,gw6=2001:db8:1:46ff:ff:ff:ff:ff,hwaddr=02:00:00:AB:CD:EF,ip=192.0.2.10/32,ip6=2001:db8:1:4662::10/64,type=veth";

describe("comparing a NIC", () => {
    const spec = stackSpec(root, "reverse-proxy");
    const proxy = spec.endpoints[0];

    it("expects what the stack manages: name, bridge, the /32 and the gateway rule's, the ip6; the MAC and the API's v6 gateway from the outputs", () => {
        expect(expectedNic(spec, proxy)).toEqual({ name: "eth1", bridge: "vmbr0", ip: "192.0.2.10/32", gw: "198.51.100.254", ip6: "2001:db8:1:4662::10/64" });
        expect(expectedNic(spec, proxy, { endpoints: { proxy: { macAddress: "02:00:00:ab:cd:ef", gateway: "198.51.100.254", gateway6: "2001:db8:1:46ff:ff:ff:ff:ff" } } }))
            .toEqual({ name: "eth1", bridge: "vmbr0", ip: "192.0.2.10/32", gw: "198.51.100.254", hwaddr: "02:00:00:ab:cd:ef", ip6: "2001:db8:1:4662::10/64", gw6: "2001:db8:1:46ff:ff:ff:ff:ff" });
        // Without the API, the stack's rule gives the v6 gateway.
        const offline = { ...spec, servers: new Map([...spec.servers].map(([k, s]) => [k, { ...s, gatewayFromApi: false }])) };
        expect(expectedNic(offline, proxy).gw6).toBe("2001:db8:1:46ff:ff:ff:ff:ff");
    });

    it("expects a routed endpoint's ip6 as a /128 with the routed bridge's IPv6 address as gateway (the routed stack)", () => {
        const routed = stackSpec(root, "routed");
        const app = routed.endpoints[0];
        expect(expectedNic(routed, app)).toEqual({
            name: "eth1", bridge: "vmbr2", ip: "192.0.2.50/32", gw: "192.168.0.1", hwaddr: localMacFor("192.0.2.50"), ip6: "2001:db8:3:4662::50/128", gw6: "fd00::1",
        });
    });

    it("finds nothing when the NIC is as the stack says, whatever else it holds", () => {
        expect(nicDrift({ name: "eth1", bridge: "vmbr0", ip: "192.0.2.10/32", gw: "198.51.100.254", hwaddr: "02:00:00:ab:cd:ef" }, AS_STACK)).toEqual([]);
    });

    it("names every difference, and a NIC that is gone", () => {
        const changed = AS_STACK.replace("gw=198.51.100.254", "gw=198.51.100.1").replace("ip=192.0.2.10/32", "ip=192.0.2.10/24");
        expect(nicDrift({ ip: "192.0.2.10/32", gw: "198.51.100.254" }, changed)).toEqual([
            "ip is 192.0.2.10/24, the stack says 192.0.2.10/32",
            "gw is 198.51.100.1, the stack says 198.51.100.254",
        ]);
        expect(nicDrift({ gw: "198.51.100.254" }, "name=eth1,bridge=vmbr0")).toEqual(["gw is not set, the stack says 198.51.100.254"]);
        expect(nicDrift({ name: "eth1" }, undefined)).toEqual(["the NIC is not there"]);
    });

    it("reads netN from pct config's `key: value` lines", () => {
        const config = `arch: amd64\nhostname: proxy\nnet0: name=eth0,bridge=vmbr1,ip=10.1.0.5/24\nnet1: ${AS_STACK}\n`;
        expect(netLine(config, 1)).toBe(AS_STACK);
        expect(netLine(config, 2)).toBeUndefined();
    });
});

describe("the SSH of the host tools", () => {
    it("pins the stack's host key when there is one", () => {
        const key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMl7ZAtKZt9Ij7jq387j6PueCz+uHHISJPDZE3dAKT3u";
        const saved = process.env.OVH_FAILOVER_SSH;
        delete process.env.OVH_FAILOVER_SSH;
        try {
            const argv = sshCommand("198.51.100.20", 2222, "root", key);
            expect(argv).toContain("StrictHostKeyChecking=yes");
            const file = argv.find((a) => a.startsWith("UserKnownHostsFile="))!.slice("UserKnownHostsFile=".length);
            expect(fs.readFileSync(file, "utf8")).toBe(`[198.51.100.20]:2222 ${key}\n`);
            expect(sshCommand("198.51.100.20", 22, "root").join(" ")).not.toContain("UserKnownHostsFile");
        } finally {
            if (saved !== undefined) process.env.OVH_FAILOVER_SSH = saved;
        }
    });
});

describe("npm run drift", () => {
    function standIns(net1: string | undefined): NodeJS.ProcessEnv {
        const dir = fs.mkdtempSync(path.join(work, "host-"));
        fs.writeFileSync(path.join(dir, "101.conf"), `arch: amd64\n${net1 === undefined ? "" : `net1: ${net1}\n`}`);
        fs.writeFileSync(path.join(dir, "pct"), `#!/bin/sh\n[ "$1" = config ] && exec cat "${dir}/$2.conf"\nexit 2\n`, { mode: 0o755 });
        fs.writeFileSync(path.join(dir, "fake-ssh"), "#!/bin/sh\nshift\nexec sh -s\n", { mode: 0o755 });
        return { ...process.env, PATH: `${dir}:${process.env.PATH}`, OVH_FAILOVER_SSH: path.join(dir, "fake-ssh") };
    }
    const drift = (env: NodeJS.ProcessEnv, ...args: string[]) =>
        spawnSync(process.execPath, ["--import", "tsx", path.join(root, "bin/drift.ts"), "reverse-proxy", ...args], { cwd: root, env, encoding: "utf8" });

    it("exits 0 and says what it could not compare without the outputs", () => {
        const r = drift(standIns(AS_STACK));
        expect(r.status, r.stderr).toBe(0);
        expect(r.stdout).toBe("OK: endpoint proxy (container 101 net1 on 198.51.100.20) (not compared: hwaddr, gw6; give --outputs) (not compared at OVH: routing; set the OVH variables)\n");
    });

    it("exits 1 on a NIC changed by hand, naming the key, the value and the stack's", () => {
        const outputs = path.join(work, "outputs.json");
        fs.writeFileSync(outputs, JSON.stringify({ endpoints: { proxy: { macAddress: "02:00:00:ab:cd:ef", gateway: "198.51.100.254", gateway6: "2001:db8:1:46ff:ff:ff:ff:ff" } } }));
        const r = drift(standIns(AS_STACK.replace("hwaddr=02:00:00:AB:CD:EF", "hwaddr=BC:24:11:00:00:01")), "--outputs", outputs);
        expect(r.status).toBe(1);
        expect(r.stdout).toBe("DRIFT: endpoint proxy (container 101 net1 on 198.51.100.20): hwaddr is BC:24:11:00:00:01, the stack says 02:00:00:ab:cd:ef (not compared at OVH: routing; set the OVH variables)\n");
        expect(drift(standIns(undefined)).stdout).toContain("DRIFT: endpoint proxy (container 101 net1 on 198.51.100.20): the NIC is not there");
    });

    it("exits 2 when the host cannot be read, and on a usage error", () => {
        const env = { ...standIns(AS_STACK), OVH_FAILOVER_SSH: "false" };
        const r = drift(env);
        expect(r.status).toBe(2);
        expect(r.stdout).toMatch(/^UNCHECKED: endpoint proxy/);
        const usage = drift(standIns(AS_STACK), "--nope");
        expect(usage.status).toBe(2);
        expect(usage.stderr).toContain("unknown option --nope\nusage: ovh-failover drift");
    });
});
