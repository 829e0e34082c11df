// The components used directly as a library, under Pulumi's mock runtime in this process.
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it, vi } from "vitest";

const registered: { type: string; name: string; inputs: Record<string, unknown> }[] = [];

beforeAll(() => {
    pulumi.runtime.setMocks(
        {
            newResource: (args) => {
                registered.push({ type: args.type, name: args.name, inputs: args.inputs });
                // What the real providers would answer: a MAC from OVH, the probe's output.
                const computed: Record<string, unknown> = {};
                if (args.type.endsWith("ovh-failover:VirtualMac")) computed.macAddress = "02:00:00:00:00:30";
                if (args.type === "command:remote:Command") computed.stdout = "chosen=198.51.100.254\n";
                return { id: `${args.name}-id`, state: { ...args.inputs, ...computed } };
            },
            // The OVH API's answer for one server: an IPv6 gateway in upper case, as an API may write it.
            call: (args) => args.inputs.serviceName === "ns-v6.example.net"
                ? { routing: { ipv4: { gateway: "198.51.100.254" }, ipv6: { gateway: "FE80::1", network: "2001:db8:9::/48" } } }
                : args.inputs.serviceName === "ns-other.example.net"
                ? { routing: { ipv4: { gateway: "198.51.100.254" }, ipv6: { gateway: "fe80::1", network: "2001:db8:7::/56" } } }
                : {},
        },
        "ovh-failover",
        "library",
        false,
    );
});

const outputOf = <T>(o: pulumi.Output<T>): Promise<T> => new Promise((resolve) => o.apply(resolve));

describe("FailoverIp", () => {
    it("attaches to a Public Cloud instance when told to, with no ip.Move", async () => {
        const { FailoverIp } = await import("../../components/network/failoverIp");
        const ip = new FailoverIp("edge", { ip: "198.51.100.7", routeTo: { cloudProject: "0123abcd", instanceId: "inst-1" } });
        expect(await outputOf(ip.block)).toBe("198.51.100.7/32");
        await outputOf(ip.routing!.urn);
        const attach = registered.find((r) => r.name === "edge-routing");
        expect(attach?.type).toBe("ovh:CloudProject/failoverIpAttach:FailoverIpAttach");
        expect(attach?.inputs).toMatchObject({ serviceName: "0123abcd", ip: "198.51.100.7", routedTo: "inst-1" });
    });

    it("declares no routing when the edge nodes own it", async () => {
        const { FailoverIp } = await import("../../components/network/failoverIp");
        const ip = new FailoverIp("edge2", { ip: "198.51.100.8" });
        expect(ip.routing).toBeUndefined();
    });

    it("rejects a bad IP with a ResourceError naming the argument", async () => {
        const { FailoverIp } = await import("../../components/network/failoverIp");
        expect(() => new FailoverIp("bad", { ip: "198.51.100" })).toThrow(pulumi.ResourceError);
        expect(() => new FailoverIp("bad2", { ip: "198.51.100" })).toThrow(/ip: "198.51.100" is not valid: expected an IPv4 address/);
    });
});

describe("ServiceRecords", () => {
    it("refuses a CNAME at the apex before declaring any record", async () => {
        const { ServiceRecords } = await import("../../components/dns/serviceRecords");
        const before = registered.filter((r) => r.type === "ovh:Domain/zoneRecord:ZoneRecord").length;
        expect(() => new ServiceRecords("apex", { ip: "192.0.2.1", zones: [{ zone: "example.org", a: ["www"], cname: [""] }] })).toThrow(/cannot sit at a zone apex/);
        expect(registered.filter((r) => r.type === "ovh:Domain/zoneRecord:ZoneRecord").length).toBe(before);
    });

    it("rejects a TTL of 30", async () => {
        const { ServiceRecords } = await import("../../components/dns/serviceRecords");
        expect(() => new ServiceRecords("ttl", { ip: "192.0.2.1", zones: [], ttl: 30 })).toThrow(/ttl: 30 is not valid/);
    });
});

describe("ContainerNic", () => {
    it("refuses an owned container whose NICs leave a gap", async () => {
        const { ContainerNic } = await import("../../components/proxmox/containerNic");
        expect(() => new ContainerNic("gap", {
            proxmox: { host: "198.51.100.20" }, vmid: 120, index: 2, interfaceName: "eth2", bridge: "vmbr0",
            macAddress: "02:00:00:00:00:01", address: "192.0.2.20", gateway: "198.51.100.254",
            owned: { node: "pve", hostname: "gap", template: "local:vztmpl/debian.tar.zst", privateNics: [{ index: 0, interfaceName: "eth0", bridge: "vmbr1", cidr: "10.0.0.2/24" }] },
        })).toThrow(/NIC indices 0, 2 must run from 0 with no gap/);
    });

    it("checks the host key it is given, and reads nothing back from the environment", async () => {
        const { ContainerNic } = await import("../../components/proxmox/containerNic");
        const hostKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMl7ZAtKZt9Ij7jq387j6PueCz+uHHISJPDZE3dAKT3u";
        const nic = new ContainerNic("keyed", {
            proxmox: { host: "198.51.100.20", hostKey }, vmid: 130, index: 1, interfaceName: "eth1", bridge: "vmbr0",
            macAddress: "02:00:00:00:00:01", address: "192.0.2.30", gateway: "198.51.100.254",
        });
        await outputOf(nic.applied.urn);
        const cmd = registered.find((r) => r.name === "keyed-pct-set")!;
        // The connection travels as a secret (the wire form: a signature and the value).
        expect((cmd.inputs.connection as { value: unknown }).value).toMatchObject({ host: "198.51.100.20", hostKey, user: "root", port: 22 });
        expect(cmd.inputs.addPreviousOutputInEnv).toBe(false);
    });

    it("rejects a vmid below 100", async () => {
        const { ContainerNic } = await import("../../components/proxmox/containerNic");
        expect(() => new ContainerNic("low", {
            proxmox: { host: "198.51.100.20" }, vmid: 7, index: 1, interfaceName: "eth1", bridge: "vmbr0",
            macAddress: "02:00:00:00:00:01", address: "192.0.2.20", gateway: "198.51.100.254",
        })).toThrow(/vmid: 7 is not valid/);
    });
});

describe("PublicEndpoint with gateway candidates", () => {
    it("starts the NIC on the first candidate and probes them all in order, before any record", async () => {
        const { PublicEndpoint } = await import("../../components/publicEndpoint");
        const ep = new PublicEndpoint("cand", {
            ip: "192.0.2.30",
            server: { serviceName: "ns1.example.net", gatewayFromApi: false, gatewayCandidates: ["198.51.100.1", "198.51.100.254"] },
            container: { proxmox: { host: "198.51.100.20" }, vmid: 130, nic: 1, interfaceName: "eth1", bridge: "vmbr0" },
            zones: [{ zone: "example.org", a: ["cand"], cname: [] }],
            protect: false,
        });
        expect(await outputOf(ep.gateway)).toBe("198.51.100.254");
        await outputOf(ep.records.records[0].urn);
        const nic = registered.find((r) => r.name === "cand-nic-pct-set");
        const probe = registered.find((r) => r.name === "cand-gateway-arp");
        expect(String(nic?.inputs.create)).toContain("gw=198.51.100.1,");
        expect(String(probe?.inputs.create)).toContain("198.51.100.1 198.51.100.254");
        expect(await outputOf(ep.gatewaySource)).toBe("probe");
    });
});

/** Runs a test body with pulumi.log.warn captured, and hands it the warnings so far. */
async function withWarnings(body: (warnings: string[]) => Promise<void>): Promise<void> {
    const warnings: string[] = [];
    const warn = vi.spyOn(pulumi.log, "warn").mockImplementation(async (message: string) => void warnings.push(message));
    try {
        await body(warnings);
    } finally {
        warn.mockRestore();
    }
}

describe("PublicEndpoint with IPv6", () => {
    it("takes the API's IPv6 gateway over the stack's, canonical, with no on-link route to a link-local one; AAAA records at the A names", () => withWarnings(async (warnings) => {
        const { PublicEndpoint } = await import("../../components/publicEndpoint");
        const ep = new PublicEndpoint("six", {
            ip: "192.0.2.40",
            ip6: "::40",
            server: { serviceName: "ns-v6.example.net", ipv6: { prefix: "2001:db8:9:1::/64", gateway: "2001:db8:9:1ff:ff:ff:ff:ff" } },
            container: { proxmox: { host: "198.51.100.20" }, vmid: 140, nic: 1, interfaceName: "eth1", bridge: "vmbr0" },
            zones: [{ zone: "example.org", a: ["six"], cname: ["alias"] }],
            protect: false,
        });
        expect(ep.ip6).toBe("2001:db8:9:1::40");
        expect(await outputOf(ep.gateway6!)).toBe("fe80::1");
        expect(await outputOf(ep.gateway6Source!)).toBe("api");
        await outputOf(ep.records.records[0].urn);
        const create = String(registered.find((r) => r.name === "six-nic-pct-set")?.inputs.create);
        expect(create).toContain("gw6=fe80::1,");
        expect(create).toContain("ip6=2001:db8:9:1::40/64,");
        expect(create).not.toContain(`ip -6 route replace "$gw6" dev`);
        expect(String(registered.find((r) => r.name === "six-gateway-arp")?.inputs.create)).toContain("fe80::1");
        const records = registered.filter((r) => r.name.startsWith("six-dns-")).map((r) => `${r.inputs.fieldtype} ${r.inputs.subdomain} ${r.inputs.target}`);
        expect(records.sort()).toEqual(["A six 192.0.2.40", "AAAA six 2001:db8:9:1::40", "CNAME alias six.example.org."]);
        expect(warnings).toContain("configured IPv6 gateway 2001:db8:9:1ff:ff:ff:ff:ff differs from fe80::1 (from the OVH API); using fe80::1");
    }));

    it("does not use the API's gateway for a prefix outside the server's network: the stack's, or the rule's", () => withWarnings(async (warnings) => {
        const { PublicEndpoint } = await import("../../components/publicEndpoint");
        const ep = new PublicEndpoint("other6", {
            ip: "192.0.2.42",
            ip6: "::42",
            server: { serviceName: "ns-other.example.net", ipv6: { prefix: "2001:DB8:9:1::/64" } },
            container: { proxmox: { host: "198.51.100.20" }, vmid: 142, nic: 1, interfaceName: "eth1", bridge: "vmbr0" },
            zones: [],
            protect: false,
        });
        expect(await outputOf(ep.gateway6!)).toBe("2001:db8:9:ff:ff:ff:ff:ff");
        expect(await outputOf(ep.gateway6Source!)).toBe("prefix");
        expect(warnings).toContain("server ns-other.example.net: 2001:db8:9:1::/64 is not inside the server's IPv6 network 2001:db8:7::/56 (routing.ipv6.network from the OVH API): its routing.ipv6.gateway is not used");
    }));

    it("refuses an ip6 without the server's prefix, before declaring anything", async () => {
        const { PublicEndpoint } = await import("../../components/publicEndpoint");
        expect(() => new PublicEndpoint("six2", {
            ip: "192.0.2.41",
            ip6: "::41",
            server: { serviceName: "ns1.example.net", gatewayFromApi: false, gateway: "198.51.100.254" },
            container: { proxmox: { host: "198.51.100.20" }, vmid: 141, nic: 1, interfaceName: "eth1", bridge: "vmbr0" },
            zones: [],
        })).toThrow(/ip6 needs server.ipv6.prefix/);
        expect(registered.filter((r) => r.name.startsWith("six2"))).toEqual([]);
    });
});

describe("PublicEndpoint with the stack keys' defaults", () => {
    it("names the interface eth<nic> on vmbr0 and declares no record when the program leaves them out", async () => {
        const { PublicEndpoint } = await import("../../components/publicEndpoint");
        const ep = new PublicEndpoint("bare", {
            ip: "192.0.2.50",
            server: { serviceName: "ns1.example.net", gatewayFromApi: false, gateway: "198.51.100.254" },
            container: { proxmox: { host: "198.51.100.20" }, vmid: 150, nic: 2 },
            protect: false,
        });
        await outputOf(ep.gateway);
        const create = String(registered.find((r) => r.name === "bare-nic-pct-set")?.inputs.create);
        expect(create).toContain("name=eth2,");
        expect(create).toContain("bridge=vmbr0,");
        expect(ep.records.records).toEqual([]);
    });
});

describe("the zone apex, written \"@\" or \"\"", () => {
    it("gives the same records, resource names and CNAME target either way", async () => {
        const { ServiceRecords } = await import("../../components/dns/serviceRecords");
        const declared = (name: string, apex: string) => {
            const records = new ServiceRecords(name, { ip: "192.0.2.60", zones: [{ zone: "example.org", a: [apex, "www"], cname: ["shop"] }] });
            return { records, rows: () => registered.filter((r) => r.name.startsWith(`${name}-`)).map((r) => ({ ...r, name: r.name.slice(name.length) })) };
        };
        const at = declared("at", "@");
        const empty = declared("empty", "");
        await Promise.all([...at.records.records, ...empty.records.records, ...at.records.served, ...empty.records.served].map((r) => outputOf(r.urn)));
        expect(at.rows().sort((a, b) => a.name.localeCompare(b.name))).toEqual(empty.rows().sort((a, b) => a.name.localeCompare(b.name)));
        expect(at.rows().map((r) => r.name).sort()).toEqual(["-A-apex.example.org", "-A-www.example.org", "-CNAME-shop.example.org", "-ovh-api", "-serves.example.org"]);
        // The proof asks for every name and type the zone's records declare, with their values.
        expect(at.rows().find((r) => r.name === "-serves.example.org")?.inputs.expected).toEqual([
            { name: "example.org.", type: "A", values: ["192.0.2.60"] },
            { name: "www.example.org.", type: "A", values: ["192.0.2.60"] },
            { name: "shop.example.org.", type: "CNAME", values: ["example.org."] },
        ]);
        expect(at.records.canonicalName).toBe("example.org.");
        expect(at.rows().find((r) => r.inputs.fieldtype === "CNAME")?.inputs).toMatchObject({ subdomain: "shop", target: "example.org." });
        expect(at.rows().find((r) => r.name === "-A-apex.example.org")?.inputs).toMatchObject({ subdomain: "" });
        expect(at.records.addressNames).toEqual(["example.org.", "www.example.org."]);
    });

    it("proves nothing with servesWithinSeconds 0, and asks for no OVH API provider for it", async () => {
        const { ServiceRecords } = await import("../../components/dns/serviceRecords");
        const records = new ServiceRecords("unproven", { ip: "192.0.2.61", zones: [{ zone: "example.org", a: ["www"] }], servesWithinSeconds: 0 });
        await Promise.all(records.records.map((r) => outputOf(r.urn)));
        expect(records.served).toEqual([]);
        expect(registered.filter((r) => r.name.startsWith("unproven-")).map((r) => r.name)).toEqual(["unproven-A-www.example.org"]);
    });

    it("refuses a CNAME at the apex written \"@\", and a bad name with its key", async () => {
        const { ServiceRecords } = await import("../../components/dns/serviceRecords");
        expect(() => new ServiceRecords("apex-at", { ip: "192.0.2.61", zones: [{ zone: "example.org", a: ["www"], cname: ["@"] }] })).toThrow(/cannot sit at a zone apex/);
        expect(() => new ServiceRecords("bad-name", { ip: "192.0.2.61", zones: [{ zone: "example.org", a: ["www.example.org."] }] })).toThrow(/zones\[0\]\.a\[0\]: "www\.example\.org\." is not valid: expected a name relative to example\.org/);
    });
});
