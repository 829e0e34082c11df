import * as fs from "fs";
import * as path from "path";
import { describe, expect, it } from "vitest";
import * as YAML from "yaml";
import { parseStackConfig, RawConfig } from "../../../components/config/stackConfig";
import { ConfigError } from "../../../components/shared/validate";

const root = path.resolve(__dirname, "../../..");

/** The example stack's config as the program reads it, without the project namespace. */
function example(stack: string): RawConfig {
    const doc = YAML.parse(fs.readFileSync(path.join(root, "stacks", `Pulumi.${stack}.yaml`), "utf8")) as { config: Record<string, unknown> };
    return Object.fromEntries(
        Object.entries(doc.config)
            .filter(([k]) => k.startsWith("ovh-failover:"))
            .map(([k, v]) => [k.slice("ovh-failover:".length), structuredClone(v)]),
    );
}

function issuesOf(raw: RawConfig): { key: string; value: unknown; expected: string }[] {
    try {
        parseStackConfig(raw);
    } catch (err) {
        if (err instanceof ConfigError) return err.issues;
        throw err;
    }
    return [];
}

type Edit = (c: any) => void; // eslint-disable-line @typescript-eslint/no-explicit-any

function withEdit(edit: Edit): RawConfig {
    const raw = example("reverse-proxy");
    edit(raw);
    return raw;
}

describe("stack config", () => {
    it("parses the seed 000 example", () => {
        const spec = parseStackConfig(example("reverse-proxy"));
        expect(spec.endpoints).toHaveLength(1);
        const e = spec.endpoints[0];
        expect(e).toMatchObject({ name: "proxy", ip: "192.0.2.10", ttl: 300, container: { vmid: 101, nic: 1, interfaceName: "eth1", bridge: "vmbr0" } });
        expect(e.records.map((z) => z.zone)).toEqual(["example.org", "example.net"]);
        expect(e.records[1].a).toEqual([""]);
        expect(spec.servers.get("ovh1")).toMatchObject({ serviceName: "ns3012345.ip-198-51-100.eu", mainIp: "198.51.100.20", gatewayFromApi: true });
        expect(spec.protectIps).toBe(true);
    });

    it("parses the seed 003 example with its owned container", () => {
        const spec = parseStackConfig(example("new-container"));
        const owned = spec.endpoints[0].container.owned;
        expect(owned).toMatchObject({ hostname: "off1-proxy", cores: 4, memoryMb: 2048, diskGb: 32 });
        expect(owned?.privateNics).toEqual([{ index: 0, interfaceName: "eth0", bridge: "vmbr1", address: "10.1.0.100", prefixLength: 24, gateway: undefined }]);
    });

    const cases: [string, Edit, string, RegExp][] = [
        ["IPv4 address", (c) => (c.endpoints.proxy.ip = "192.0.2.256"), "endpoints.proxy.ip", /IPv4 address/],
        ["private IP as failover IP", (c) => (c.endpoints.proxy.ip = "10.0.0.5"), "endpoints.proxy.ip", /public unicast/],
        ["MAC", (c) => (c.endpoints.proxy.virtualMac.macAddress = "02:00:00:zz:00:01"), "endpoints.proxy.virtualMac.macAddress", /MAC address/],
        ["vmid", (c) => (c.endpoints.proxy.container.vmid = 42), "endpoints.proxy.container.vmid", /100 to 999999999/],
        ["NIC index", (c) => (c.endpoints.proxy.container.nic = 40), "endpoints.proxy.container.nic", /0 to 31/],
        ["bridge name", (c) => (c.endpoints.proxy.container.bridge = "vmbr0; rm -rf /"), "endpoints.proxy.container.bridge", /bridge name/],
        ["TTL", (c) => (c.endpoints.proxy.ttl = 10), "endpoints.proxy.ttl", /from 60/],
        ["default TTL", (c) => (c.dnsTtl = 59), "dnsTtl", /from 60/],
        ["DNS proof bound", (c) => (c.dnsServesWithin = 86401), "dnsServesWithin", /1 to 86400, or 0/],
        ["DNS proof bound as a duration", (c) => (c.dnsServesWithin = "10m"), "dnsServesWithin", /1 to 86400, or 0/],
        ["DNS name", (c) => (c.endpoints.proxy.records["example.org"].a = ["proxy_1!"]), 'endpoints.proxy.records["example.org"].a[0]', /labels of letters/],
        ["zone name", (c) => (c.endpoints.proxy.records.localhost = { a: ["x"] }), "endpoints.proxy.records.localhost", /zone name/],
        ["duplicate name", (c) => c.endpoints.proxy.records["example.org"].cname.push("api"), 'endpoints.proxy.records["example.org"].cname[5]', /declared once/],
        ["CNAME and A on one name", (c) => c.endpoints.proxy.records["example.org"].a.push("blog"), 'endpoints.proxy.records["example.org"].cname[2]', /not also an A record/],
        ["CNAME at the apex", (c) => c.endpoints.proxy.records["example.net"].cname.push("@"), 'endpoints.proxy.records["example.net"].cname[1]', /cannot sit at a zone apex/],
        ["unknown server", (c) => (c.endpoints.proxy.server = "ovh9"), "endpoints.proxy.server", /declared under servers \(ovh1, ovh2\)/],
        ["typo in a key", (c) => (c.endpoints.proxy.container.vmId = 101), "endpoints.proxy.container.vmId", /allowed keys are: vmid/],
        ["vMAC type", (c) => (c.endpoints.proxy.virtualMac.type = "kvm"), "endpoints.proxy.virtualMac.type", /ovh, vmware/],
        ["reverse without dot", (c) => (c.endpoints.proxy.reverse = "proxy1.example.org"), "endpoints.proxy.reverse", /trailing dot/],
        ["SSH port", (c) => (c.servers.ovh1.proxmox.port = 70000), "servers.ovh1.proxmox.port", /TCP port/],
        ["no endpoints", (c) => delete c.endpoints, "endpoints", /map from endpoint name/],
    ];

    for (const [kind, edit, key, expected] of cases) {
        it(`rejects a bad ${kind} naming ${key}`, () => {
            const issues = issuesOf(withEdit(edit));
            const issue = issues.find((i) => i.key === key);
            expect(issue, JSON.stringify(issues)).toBeDefined();
            expect(issue!.expected).toMatch(expected);
        });
    }

    it("reports every problem at once", () => {
        const issues = issuesOf(withEdit((c) => {
            c.endpoints.proxy.ip = "nope";
            c.endpoints.proxy.container.vmid = 1;
            c.dnsTtl = 1;
        }));
        expect(issues.map((i) => i.key).sort()).toEqual(["dnsTtl", "endpoints.proxy.container.vmid", "endpoints.proxy.ip"]);
    });

    it("refuses two endpoints on one IP or one NIC", () => {
        const issues = issuesOf(withEdit((c) => {
            c.endpoints.second = structuredClone(c.endpoints.proxy);
            c.endpoints.second.records = {};
        }));
        expect(issues.find((i) => i.key === "endpoints.second.ip")?.expected).toMatch(/no other endpoint uses/);
        expect(issues.find((i) => i.key === "endpoints.second.container.nic")?.expected).toMatch(/no other endpoint uses/);
    });

    it("refuses a name two endpoints both claim", () => {
        const issues = issuesOf(withEdit((c) => {
            c.endpoints.second = structuredClone(c.endpoints.proxy);
            c.endpoints.second.ip = "192.0.2.11";
            c.endpoints.second.container.vmid = 102;
            c.endpoints.second.records = { "example.org": { a: ["proxy1"] } };
        }));
        expect(issues.find((i) => i.key === 'endpoints.second.records["example.org"].a[0]')?.expected).toMatch(/declared once/);
    });
});
