// The example stacks evaluated as the plan evaluates them: index.ts under Pulumi's mock runtime in
// a fresh process, every registration recorded with its parent, dependencies and protect flag.
import { spawnSync } from "child_process";
import * as path from "path";
import { beforeAll, describe, expect, it } from "vitest";
import { evaluate } from "../../../bin/plan";
import { diffEvaluations } from "../../../bin/plan/diff";
import { DeclaredResource, Evaluation } from "../../../bin/plan/model";
import { BOOT_PATIENCE_SECONDS } from "../../../components/proxmox/gatewayProbe";
import { applySet, loadProject, loadStackConfig, StackConfig } from "../../../bin/plan/stackFiles";

const root = path.resolve(__dirname, "../../..");
const project = loadProject(root);

const byName = (e: Evaluation, name: string): DeclaredResource => {
    const r = e.resources.find((x) => x.name === name);
    if (!r) throw new Error(`no resource ${name} in ${e.resources.map((x) => x.name).join(", ")}`);
    return r;
};

describe("seed 000 stack: an existing container's NIC", () => {
    let e: Evaluation;
    beforeAll(async () => {
        e = await evaluate(root, project, "reverse-proxy", loadStackConfig(root, project, "reverse-proxy"));
        expect(e.error).toBeUndefined();
    });

    it("routes the IP to the server, protected and retained on delete, with no input the provider ignores", () => {
        const move = byName(e, "proxy-ip-routing");
        expect(move.type).toBe("ovh:Ip/move:Move");
        expect(move.inputs).toEqual({ ip: "192.0.2.10/32", routedTo: { serviceName: "ns3012345.ip-198-51-100.eu" } });
        expect(move.protect).toBe(true);
        expect(move.retainOnDelete).toBe(true);
    });

    it("binds a virtual MAC to the IP after routing it, unprotected: an IP change replaces it", () => {
        const vmac = byName(e, "proxy-vmac");
        expect(vmac.type).toBe("pulumi-nodejs:dynamic/ovh-failover:VirtualMac");
        expect(vmac.inputs).toMatchObject({ serviceName: "ns3012345.ip-198-51-100.eu", ipAddress: "192.0.2.10", type: "ovh", virtualMachineName: "proxy" });
        expect(vmac.dependencies).toContain(byName(e, "proxy-ip-routing").urn);
        expect(vmac.protect).toBe(false);
    });

    it("sets net1 of container 101 over SSH with the vMAC, a /32 and the .254 gateway, ::10 of the server's /64 and its gateway, after the vMAC", () => {
        const cmd = byName(e, "proxy-nic-pct-set");
        expect(cmd.type).toBe("command:remote:Command");
        expect(cmd.dependencies).toContain(byName(e, "proxy-vmac").urn);
        const create = String(cmd.inputs.create);
        expect(create).toContain("vmid=101");
        expect(create).toContain("key=net1");
        expect(create).toContain("value='name=eth1,bridge=vmbr0,gw=198.51.100.254,gw6=2001:db8:1:46ff:ff:ff:ff:ff,hwaddr=[vmac-of-192.0.2.10@ns3012345.ip-198-51-100.eu],ip=192.0.2.10/32,ip6=2001:db8:1:4662::10/64,type=veth'");
        // The v6 gateway is outside the /64: the running container gets an on-link route to it.
        expect(create).toContain(`pct exec "$vmid" -- ip -6 route replace "$gw6" dev "$ifname"`);
        expect(cmd.inputs.triggers).toEqual(["198.51.100.20", 101, 1]);
        // The same NIC is rewritten by a replacement: the old one is restored before the new is set.
        expect(cmd.deleteBeforeReplace).toBe(true);
    });

    it("keeps the SSH connection secret", () => {
        expect(byName(e, "proxy-nic-pct-set").inputs.connection).toMatch(/^\[secret#[0-9a-f]{16}\]$/);
    });

    it("probes both gateways from inside container 101 after the NIC, and re-probes when IP, MAC or gateways change", () => {
        const probe = byName(e, "proxy-gateway-arp");
        expect(probe.type).toBe("command:remote:Command");
        expect(probe.dependencies).toContain(byName(e, "proxy-nic-pct-set").urn);
        const script = String(probe.inputs.create);
        expect(script).toContain(`out=$(pct exec "$vmid" -- env PROBE_GATEWAYS="$1" sh -c '`);
        expect(script).toContain("vmid=101");
        expect(script).toContain("address=${PROBE_ADDRESS:-'\\''192.0.2.10'\\''}");
        expect(script).toContain("gateways=${PROBE_GATEWAYS:-'\\''198.51.100.254'\\''}");
        expect(script).toContain("gateway6=${PROBE_GATEWAY6-'\\''2001:db8:1:46ff:ff:ff:ff:ff'\\''}");
        expect(probe.inputs.triggers).toEqual([
            "192.0.2.10",
            "[vmac-of-192.0.2.10@ns3012345.ip-198-51-100.eu]",
            ["198.51.100.254"],
            "name=eth1,bridge=vmbr0,gw=198.51.100.254,gw6=2001:db8:1:46ff:ff:ff:ff:ff,hwaddr=[vmac-of-192.0.2.10@ns3012345.ip-198-51-100.eu],ip=192.0.2.10/32,ip6=2001:db8:1:4662::10/64,type=veth",
            "2001:db8:1:46ff:ff:ff:ff:ff",
        ]);
    });

    it("declares A and AAAA records for the canonical names and CNAMEs for the aliases, all after the probe", () => {
        const records = e.resources.filter((r) => r.type === "ovh:Domain/zoneRecord:ZoneRecord");
        const summary = records.map((r) => `${r.inputs.fieldtype} ${r.inputs.subdomain || "@"}.${r.inputs.zone} -> ${r.inputs.target} ttl ${r.inputs.ttl}`);
        expect(summary.sort()).toEqual([
            "A @.example.net -> 192.0.2.10 ttl 300",
            "A proxy1.example.org -> 192.0.2.10 ttl 300",
            "AAAA @.example.net -> 2001:db8:1:4662::10 ttl 300",
            "AAAA proxy1.example.org -> 2001:db8:1:4662::10 ttl 300",
            "CNAME api.example.org -> proxy1.example.org. ttl 300",
            "CNAME blog.example.org -> proxy1.example.org. ttl 300",
            "CNAME images.example.org -> proxy1.example.org. ttl 300",
            "CNAME static.example.org -> proxy1.example.org. ttl 300",
            "CNAME world.example.org -> proxy1.example.org. ttl 300",
            "CNAME www.example.net -> proxy1.example.org. ttl 300",
        ]);
        const probe = byName(e, "proxy-gateway-arp").urn;
        for (const r of records) expect(r.dependencies, r.name).toContain(probe);
    });

    it("evaluates the same twice: no random names, no timestamps", async () => {
        const again = await evaluate(root, project, "reverse-proxy", loadStackConfig(root, project, "reverse-proxy"));
        expect(JSON.stringify(again.resources)).toBe(JSON.stringify(e.resources));
    });
});

describe("seed 003 stack: a container the stack owns", () => {
    let e: Evaluation;
    beforeAll(async () => {
        e = await evaluate(root, project, "new-container", loadStackConfig(root, project, "new-container"));
        expect(e.error).toBeUndefined();
    });

    it("feeds the vMAC, the /32 and the gateway to proxmoxve.ContainerLegacy beside the private NIC", () => {
        const ct = byName(e, "off1-proxy-nic-container");
        expect(ct.type).toBe("proxmoxve:index/containerLegacy:ContainerLegacy");
        expect(ct.inputs).toMatchObject({ nodeName: "off1", vmId: 100, unprivileged: true });
        expect(ct.inputs.networkInterfaces).toEqual([
            { name: "eth0", bridge: "vmbr1" },
            { name: "eth1", bridge: "vmbr0", macAddress: "[VMAC-OF-203.0.113.215@NS3054321.IP-198-51-100.EU]" },
        ]);
        expect((ct.inputs.initialization as { ipConfigs: unknown }).ipConfigs).toEqual([
            { ipv4: { address: "10.1.0.100/24" } },
            { ipv4: { address: "203.0.113.215/32", gateway: "198.51.100.254" } },
        ]);
        expect(ct.dependencies).toContain(byName(e, "off1-proxy-vmac").urn);
    });

    it("gives an owned container its IPv6 through initialization.ipConfigs[].ipv6 (ip6= and gw6= of netN)", async () => {
        let config = loadStackConfig(root, project, "new-container");
        config = applySet(project, config, "servers.off1.ipv6.prefix=2001:db8:5:a00::/64");
        config = applySet(project, config, "endpoints.off1-proxy.ip6=::215");
        const six = await evaluate(root, project, "new-container", config);
        expect(six.error).toBeUndefined();
        expect((byName(six, "off1-proxy-nic-container").inputs.initialization as { ipConfigs: unknown }).ipConfigs).toEqual([
            { ipv4: { address: "10.1.0.100/24" } },
            { ipv4: { address: "203.0.113.215/32", gateway: "198.51.100.254" }, ipv6: { address: "2001:db8:5:a00::215/64", gateway: "2001:db8:5:aff:ff:ff:ff:ff" } },
        ]);
    });

    it("warns that an IP change reboots the owned container (the proxmoxve provider does for any NIC change), and probes it with a boot's patience", async () => {
        const changed = await evaluate(root, project, "new-container", applySet(project, loadStackConfig(root, project, "new-container"), "endpoints.off1-proxy.ip=203.0.113.216"));
        expect(changed.error).toBeUndefined();
        const step = diffEvaluations(e, changed).find((s) => s.name === "off1-proxy-nic-container");
        expect(step).toMatchObject({ op: "update", warnings: ["the provider reboots the running container for this change (initialization, networkInterfaces): its services stop for the time of a restart"] });
        expect(String(byName(e, "off1-proxy-gateway-arp").inputs.create)).toContain(`patience=${BOOT_PATIENCE_SECONDS}\n`);
    });

    it("sets the reverse and an A record that waits for the container and its gateway probe", () => {
        expect(byName(e, "off1-proxy-ip-reverse").inputs).toMatchObject({ ip: "203.0.113.215/32", ReverseIp: "203.0.113.215", ReverseValue: "off1-proxy.example.org." });
        const a = byName(e, "off1-proxy-dns-A-off1-proxy.example.org");
        expect(a.inputs).toMatchObject({ zone: "example.org", subdomain: "off1-proxy", fieldtype: "A", target: "203.0.113.215", ttl: 300 });
        const probe = byName(e, "off1-proxy-gateway-arp");
        expect(probe.dependencies).toContain(byName(e, "off1-proxy-nic-container").urn);
        expect(a.dependencies).toContain(probe.urn);
    });
});

describe("secrets", () => {
    it("never reach the plan's output, even when the program has their value", async () => {
        const key = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdGVzdC1vbmx5\n-----END OPENSSH PRIVATE KEY-----";
        const config: StackConfig = new Map(loadStackConfig(root, project, "reverse-proxy"));
        config.set("ovh-failover:proxmoxSshPrivateKey", { text: key, secret: true, structured: false, fromStack: true });
        const e = await evaluate(root, project, "reverse-proxy", config);
        expect(e.error).toBeUndefined();
        const text = JSON.stringify(e);
        expect(text).not.toContain("b3BlbnNzaC1rZXktdGVzdC1vbmx5");
        expect(byName(e, "proxy-nic-pct-set").inputs.connection).toMatch(/^\[secret#[0-9a-f]{16}\]$/);
    });
});

describe("validation before any resource", () => {
    const bad: [string, string, RegExp][] = [
        ["endpoints.proxy.ip=192.0.2.300", "endpoints.proxy.ip", /IPv4 address/],
        ["endpoints.proxy.container.vmid=12", "endpoints.proxy.container.vmid", /vmid/],
        ['endpoints.proxy.records["example.org"].a[1]=world', 'endpoints.proxy.records["example.org"].cname[0]', /not also an A record/],
    ];
    for (const [set, key, expected] of bad) {
        it(`--set ${set} stops the program with a message naming ${key}, no stack trace, nothing declared`, async () => {
            const config = applySet(project, loadStackConfig(root, project, "reverse-proxy"), set);
            const e = await evaluate(root, project, "reverse-proxy", config);
            expect(e.resources).toEqual([]);
            expect(e.error).toContain(`${key}: `);
            expect(e.error).toMatch(expected);
            expect(e.error).not.toMatch(/\n\s+at /);
        });
    }
});

describe("host keys", () => {
    it("the plan warns when a Proxmox host's key is not given: the connection would accept any", async () => {
        const fsMod = await import("fs");
        const os = await import("os");
        const text = fsMod.readFileSync(path.join(root, "stacks", "Pulumi.reverse-proxy.yaml"), "utf8").replace(/\n\s+# ssh-keyscan[^\n]*\n\s+hostKey: [^\n]+/, "");
        const file = path.join(fsMod.mkdtempSync(path.join(os.tmpdir(), "ovhf-hostkey-")), "Pulumi.reverse-proxy.yaml");
        fsMod.writeFileSync(file, text);
        const r = spawnSync(process.execPath, ["--import", "tsx", path.join(root, "bin/plan.ts"), "reverse-proxy", "--stack-file", file], { cwd: root, encoding: "utf8" });
        expect(r.status, r.stderr).toBe(0);
        expect(r.stderr).toContain("servers.ovh1.proxmox.hostKey is not set: the SSH connection to 198.51.100.20 accepts any host key");
        expect(r.stderr).not.toContain("servers.ovh2");
    });
});
