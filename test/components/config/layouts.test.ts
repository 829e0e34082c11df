// The addressing layouts of a stack (IP blocks, routed mode, vRack blocks, Public Cloud
// endpoints) and the checks before anything moves: each refusal names its key and the reason,
// before any resource is declared.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseStackConfig, RawConfig } from "../../../components/config/stackConfig";
import { ConfigError, ConfigIssue } from "../../../components/shared/validate";

const HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMl7ZAtKZt9Ij7jq387j6PueCz+uHHISJPDZE3dAKT3u";
const PROJECT = "0123456789abcdef0123456789abcdef";
const INSTANCE = "5f0e4f9c-3b1d-4a55-9d0e-2f4b8c6a7d21";

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** The routed endpoint with an ip6 (::10 unless told) in ovh1's prefix, and the routed bridge's IPv6 address. */
function withIpv6(c: Json, address6: string | undefined, ip6 = "::10"): void {
    c.servers.ovh1.ipv6 = { prefix: "2001:db8:1:4662::/64" };
    if (address6 !== undefined) c.servers.ovh1.routed.address6 = address6;
    c.endpoints.routed.ip6 = ip6;
}

/** A stack with one endpoint of each layout, valid as it is. */
function layouts(): Json {
    return {
        servers: {
            ovh1: {
                serviceName: "ns3012345.ip-198-51-100.eu", mainIp: "198.51.100.20", region: "eu-west-gra",
                proxmox: { host: "198.51.100.20", hostKey: HOST_KEY },
                routed: { bridge: "vmbr2", address: "192.168.0.1" },
            },
            ovh2: { serviceName: "ns3054321.ip-198-51-100.eu", mainIp: "198.51.100.30", proxmox: { host: "198.51.100.30", hostKey: HOST_KEY } },
        },
        vracks: { rack1: { serviceName: "pn-123456" } },
        ipBlocks: {
            web: { block: "203.0.113.8/29", server: "ovh1", region: "eu-west-sbg" },
            rack: { block: "203.0.113.16/29", vrack: "rack1" },
        },
        endpoints: {
            web1: { server: "ovh1", ip: "203.0.113.9", container: { vmid: 101, nic: 1 } },
            web2: { server: "ovh1", ip: "203.0.113.10", container: { vmid: 102, nic: 1 } },
            web3: { server: "ovh1", ip: "203.0.113.11", container: { vmid: 103, nic: 1 } },
            routed: { server: "ovh1", ip: "192.0.2.50", mode: "routed", container: { vmid: 104, nic: 1 } },
            lb: { server: "ovh2", ip: "203.0.113.18", container: { vmid: 110, nic: 1 }, records: { "example.org": { a: ["lb"] } } },
            pci: {
                ip: "192.0.2.60",
                cloud: { project: PROJECT, instance: INSTANCE, ssh: { host: "198.51.100.60", hostKey: HOST_KEY } },
                records: { "example.org": { a: ["pci"] } },
            },
        },
    };
}

function issuesOf(raw: RawConfig): ConfigIssue[] {
    try {
        parseStackConfig(raw);
        return [];
    } catch (err) {
        if (err instanceof ConfigError) return err.issues;
        throw err;
    }
}

function edited(edit: (c: Json) => void): Json {
    const c = layouts();
    edit(c);
    return c;
}

describe("the layouts of a stack", () => {
    it("derives each endpoint's mode, block, bridge and kind", () => {
        const spec = parseStackConfig(layouts());
        const byName = new Map(spec.endpoints.map((e) => [e.name, e]));
        expect(["web1", "web2", "web3"].map((n) => [byName.get(n)?.mode, byName.get(n)?.block, byName.get(n)?.container.bridge])).toEqual([
            ["bridged", "web", "vmbr0"], ["bridged", "web", "vmbr0"], ["bridged", "web", "vmbr0"],
        ]);
        expect(byName.get("routed")).toMatchObject({ mode: "routed", block: undefined, container: { bridge: "vmbr2" } });
        expect(byName.get("lb")).toMatchObject({ mode: "vrack", block: "rack", container: { bridge: "vmbr1" } });
        expect(spec.cloudEndpoints).toEqual([expect.objectContaining({
            name: "pci", ip: "192.0.2.60", project: PROJECT, instance: INSTANCE, interfaceName: undefined, flavour: "netplan",
            ssh: { host: "198.51.100.60", port: 22, user: "root", hostKey: HOST_KEY },
        })]);
        expect(spec.servers.get("ovh1")?.routed).toEqual({ bridge: "vmbr2", address: "192.168.0.1", prefixLength: 24, uplink: "vmbr0" });
        expect(spec.ipBlocks.map((b) => [b.name, `${b.block.network}/${b.block.prefixLength}`, b.server ?? b.vrack])).toEqual([["web", "203.0.113.8/29", "ovh1"], ["rack", "203.0.113.16/29", "rack1"]]);
    });

    it("takes a stack of Public Cloud endpoints only, with no servers", () => {
        const c = layouts();
        const spec = parseStackConfig({ endpoints: { pci: c.endpoints.pci } });
        expect(spec.cloudEndpoints.map((e) => e.name)).toEqual(["pci"]);
        expect(spec.servers.size).toBe(0);
    });

    const refusals: [string, (c: Json) => void, string, RegExp][] = [
        // Point 3 of the checks before a move.
        ["a bridged IP on a server without virtual MACs", (c) => (c.servers.ovh1.virtualMacs = false), "endpoints.web1.mode", /routed .*virtualMacs is false.*needs a virtual MAC/],
        ["more virtual MACs than the server takes", (c) => (c.servers.ovh1.virtualMacLimit = 2), "servers.ovh1.virtualMacLimit", /room for the 3 virtual MACs .*web1, web2, web3/],
        ["a block routed to a server of another region", (c) => (c.ipBlocks.web.region = "ca-east-bhs"), "ipBlocks.web.server", /ca-east-bhs.*eu-west-gra.*stays in its region/],
        ["an IP that would lose its virtual MAC in a vRack", (c) => (c.endpoints.lb.virtualMac = { macAddress: "02:00:00:12:34:56" }), "endpoints.lb.virtualMac", /drops the virtual MACs.*dropVirtualMacs/],
        ["a routed IP with a virtual MAC", (c) => (c.endpoints.routed.virtualMac = { type: "ovh" }), "endpoints.routed.virtualMac", /routed IP has no virtual MAC/],
        // The layouts' own rules.
        ["a vRack IP that is the gateway", (c) => (c.endpoints.lb.ip = "203.0.113.22"), "endpoints.lb.ip", /the vRack gateway, reserved/],
        ["a vRack IP that is the network address", (c) => (c.endpoints.lb.ip = "203.0.113.16"), "endpoints.lb.ip", /the network address/],
        ["a vRack IP that is the broadcast address", (c) => (c.endpoints.lb.ip = "203.0.113.23"), "endpoints.lb.ip", /the broadcast address/],
        ["a vRack block smaller than /29", (c) => (c.ipBlocks.rack.block = "203.0.113.16/30"), "ipBlocks.rack.block", /\/24 to \/29/],
        ["a block with host bits", (c) => (c.ipBlocks.web.block = "203.0.113.10/29"), "ipBlocks.web.block", /block of 203\.0\.113\.10 is 203\.0\.113\.8\/29/],
        ["a block routed to a server and a vRack", (c) => (c.ipBlocks.web.vrack = "rack1"), "ipBlocks.web.vrack", /one of .*server.*vrack/],
        ["a block routed nowhere", (c) => delete c.ipBlocks.web.server, "ipBlocks.web.server", /one of/],
        ["overlapping blocks", (c) => (c.ipBlocks.more = { block: "203.0.113.8/30", server: "ovh1" }), "ipBlocks.more.block", /no other entry overlaps .*ipBlocks\.web\.block/],
        ["an endpoint of a block on another server", (c) => (c.endpoints.web2.server = "ovh2"), "endpoints.web2.server", /ovh1: 203\.0\.113\.10 is in ipBlocks\.web/],
        ["routed mode on a host without a routed bridge", (c) => (c.endpoints.routed.server = "ovh2"), "servers.ovh2.routed", /needed by endpoints\.routed\.mode/],
        ["a routed NIC on another bridge", (c) => (c.endpoints.routed.container.bridge = "vmbr0"), "endpoints.routed.container.bridge", /vmbr2, or no bridge/],
        ["a routed bridge that is the uplink", (c) => (c.servers.ovh1.routed.bridge = "vmbr0"), "servers.ovh1.routed.bridge", /not the uplink/],
        ["a public routed bridge address", (c) => (c.servers.ovh1.routed.address = "198.51.100.1"), "servers.ovh1.routed.address", /private IPv4/],
        ["mode vrack outside a vRack block", (c) => (c.endpoints.web1.mode = "vrack"), "endpoints.web1.mode", /bridged, or no mode.*no vRack block/],
        ["mode bridged in a vRack block", (c) => (c.endpoints.lb.mode = "bridged"), "endpoints.lb.mode", /vrack, or no mode/],
        ["an unknown mode", (c) => (c.endpoints.web1.mode = "nat"), "endpoints.web1.mode", /bridged, routed, vrack, cloud/],
        ["a Public Cloud endpoint with a container", (c) => (c.endpoints.pci.container = { vmid: 120, nic: 1 }), "endpoints.pci.container", /no server, container or virtual MAC/],
        ["a Public Cloud endpoint with ip6", (c) => (c.endpoints.pci.ip6 = "::60"), "endpoints.pci.ip6", /IPv4/],
        ["a Public Cloud endpoint in a block", (c) => (c.endpoints.pci.ip = "203.0.113.12"), "endpoints.pci.ip", /lone additional IP/],
        ["a Public Cloud instance by name", (c) => (c.endpoints.pci.cloud.instance = "edge-1"), "endpoints.pci.cloud.instance", /UUID/],
        ["a Public Cloud endpoint without a host key", (c) => delete c.endpoints.pci.cloud.ssh.hostKey, "endpoints.pci.cloud.ssh.hostKey", /ssh-ed25519/],
        ["a Public Cloud endpoint without SSH", (c) => delete c.endpoints.pci.cloud.ssh, "endpoints.pci.cloud.ssh", /SSH to the instance/],
        ["a Public Cloud IP another endpoint has", (c) => (c.endpoints.pci.ip = "192.0.2.50"), "endpoints.routed.ip", /no other endpoint uses/],
        ["a vRack service name", (c) => (c.vracks.rack1.serviceName = "rack1"), "vracks.rack1.serviceName", /pn-/],
        // IPv6 of a vRack block's IP: the vRack's own IPv6 block, never the server's prefix.
        ["an ip6 of a vRack IP without the vRack's IPv6 block", (c) => {
            c.servers.ovh2.ipv6 = { prefix: "2001:db8:3:1a00::/64" };
            c.endpoints.lb.ip6 = "::10";
        }, "vracks.rack1.ipv6", /Additional IPv6 block.*needed by endpoints\.lb\.ip6.*server's own IPv6 prefix is not/],
        ["an ip6 of a vRack IP outside the bridged /64", (c) => {
            c.vracks.rack1.ipv6 = "2001:db8:abcd:ef00::/56";
            c.endpoints.lb.ip6 = "2001:db8:abcd:ef01::10";
        }, "endpoints.lb.ip6", /inside .*2001:db8:abcd:ef00::\/64/],
        ["an ip6 of a vRack IP that is the vRack's IPv6 gateway", (c) => {
            c.vracks.rack1.ipv6 = "2001:db8:abcd:ef00::/56";
            c.endpoints.lb.ip6 = "::1";
        }, "endpoints.lb.ip6", /gateway of vracks\.rack1\.ipv6.*first address/],
        ["a vRack IPv6 block with host bits", (c) => (c.vracks.rack1.ipv6 = "2001:db8:abcd:ef00::1/56"), "vracks.rack1.ipv6", /network address/],
        // IPv6 in routed mode.
        ["a routed IP with ip6 on a host without routed.address6", (c) => withIpv6(c, undefined), "servers.ovh1.routed.address6", /IPv6 address the host holds on vmbr2 .*needed by endpoints\.routed\.ip6/],
        ["a routed ip6 outside the server's prefix", (c) => withIpv6(c, "fd00::1", "2001:db8:2::10"), "endpoints.routed.ip6", /inside the server's prefix 2001:db8:1:4662::\/64/],
        ["a routed bridge IPv6 address inside the server's prefix", (c) => withIpv6(c, "2001:db8:1:4662::1", "::10"), "servers.ovh1.routed.address6", /outside servers\.ovh1\.ipv6\.prefix \(2001:db8:1:4662::\/64\).*on the uplink \(vmbr0\)/],
        ["a routed ip6 that is the bridge's own address", (c) => withIpv6(c, "2001:db8:1:4662::1", "::1"), "servers.ovh1.routed.address6", /outside servers\.ovh1\.ipv6\.prefix/],
        ["a routed bridge IPv6 address that is multicast", (c) => withIpv6(c, "ff02::1"), "servers.ovh1.routed.address6", /global unicast, unique local/],
        ["a routed bridge IPv6 address that is not one", (c) => withIpv6(c, "192.168.0.1"), "servers.ovh1.routed.address6", /IPv6 address/],
    ];

    it("takes a routed endpoint's ip6 in the server's prefix (relative form too) with the bridge's IPv6 address, link-local or not", () => {
        for (const address6 of ["fd00::1", "FD00::0:1", "fe80::1", "2001:db8:ffff::1"]) {
            const spec = parseStackConfig(edited((c) => withIpv6(c, address6, "::10")));
            expect(spec.endpoints.find((e) => e.name === "routed")?.ip6).toBe("2001:db8:1:4662::10");
            expect(spec.servers.get("ovh1")?.routed?.address6).toBe(address6 === "FD00::0:1" ? "fd00::1" : address6);
        }
    });

    it.each(refusals)("refuses %s, with its key and the reason", (_what, edit, key, expected) => {
        const issues = issuesOf(edited(edit));
        const issue = issues.find((i) => i.key === key);
        expect(issue, JSON.stringify(issues, null, 1)).toBeDefined();
        expect(issue!.expected).toMatch(expected);
    });

    it("gives an IP of a vRack block its ip6 in the vRack's bridged /64, not in the server's prefix", () => {
        const spec = parseStackConfig(edited((c) => {
            c.servers.ovh2.ipv6 = { prefix: "2001:db8:3:1a00::/64" };
            c.vracks.rack1.ipv6 = "2001:db8:abcd:ef00::/56";
            c.endpoints.lb.ip6 = "::10";
        }));
        expect(spec.endpoints.find((e) => e.name === "lb")?.ip6).toBe("2001:db8:abcd:ef00::10");
        expect(spec.vracks.get("rack1")?.ipv6).toEqual({ network: "2001:db8:abcd:ef00::", length: 56 });
    });

    it("accepts the vRack's drop when the stack says so, and a limit the stack keeps within", () => {
        expect(issuesOf(edited((c) => (c.servers.ovh1.virtualMacLimit = 3)))).toEqual([]);
        expect(issuesOf(edited((c) => (c.ipBlocks.web.region = "eu-west-rbx")))).toEqual([]);
        // gra, rbx and sbg move among themselves; par is a region of its own.
        expect(issuesOf(edited((c) => (c.ipBlocks.web.region = "eu-west-par"))).map((i) => i.key)).toEqual(["ipBlocks.web.server"]);
    });

    it("refuses an edge pair's IP inside a block: OVH moves only whole blocks", async () => {
        const { parseProgramConfig } = await import("../../../components/config/programConfig");
        const raw = layouts();
        raw.edges = {
            edge: {
                failoverIp: "203.0.113.12",
                group: { vhid: 1, address: "10.25.0.10", prefixLength: 16, carpdev: "eth1" },
                health: { pingTarget: "192.0.2.53" },
                nodes: [1, 2].map((i) => ({
                    name: `n${i}`, advskew: i, publicInterface: "eth0", privateInterface: "eth1", privateAddress: `10.25.0.1${i}`,
                    ssh: { host: `198.51.100.4${i}`, hostKey: HOST_KEY }, move: { server: "ns3012345.ip-198-51-100.eu" },
                })),
            },
        };
        let issues: ConfigIssue[] = [];
        try {
            parseProgramConfig(raw, { edgePasswords: { edge: "Pass_w-8" }, edgeOvhCredentials: { edge: { endpoint: "ovh-eu", applicationKey: "a", applicationSecret: "b", consumerKey: "c" } } });
        } catch (err) {
            if (!(err instanceof ConfigError)) throw err;
            issues = err.issues;
        }
        expect(issues.find((i) => i.key === "edges.edge.failoverIp")?.expected).toMatch(/ipBlocks\.web.*whole/);
    });
});

// A hostile or careless stack file: the layouts' values that reach a shell or a host file (the
// routed bridge's script and if-up.d hook, the instance's netplan or ifupdown file, sudo on the
// instance) are refused at their key unless they fit a strict grammar.
describe("hostile values in the layouts' keys", () => {
    const hostile: [string, (c: Json) => void, string][] = [
        ["a command in the routed bridge", (c) => (c.servers.ovh1.routed.bridge = "vmbr2;reboot"), "servers.ovh1.routed.bridge"],
        ["a substitution in the uplink", (c) => (c.servers.ovh1.routed.uplink = "vmbr0$(id)"), "servers.ovh1.routed.uplink"],
        ["the kernel's defaults as the uplink", (c) => (c.servers.ovh1.routed.uplink = "all"), "servers.ovh1.routed.uplink"],
        ["the loopback as the routed bridge", (c) => (c.servers.ovh1.routed.bridge = "lo"), "servers.ovh1.routed.bridge"],
        ["a newline in the bridge address", (c) => (c.servers.ovh1.routed.address = "192.168.0.1\nup reboot"), "servers.ovh1.routed.address"],
        ["a prefix length of 33", (c) => (c.servers.ovh1.routed.prefixLength = 33), "servers.ovh1.routed.prefixLength"],
        ["a quote in the vRack bridge", (c) => (c.vracks.rack1.bridge = "vmbr1'"), "vracks.rack1.bridge"],
        ["a command in the vRack's IPv6 block", (c) => (c.vracks.rack1.ipv6 = "2001:db8::/56;id"), "vracks.rack1.ipv6"],
        ["a command in the instance's interface", (c) => (c.endpoints.pci.cloud.interfaceName = "ens3;reboot"), "endpoints.pci.cloud.interfaceName"],
        ["a path in the instance's interface", (c) => (c.endpoints.pci.cloud.interfaceName = "../../etc/passwd"), "endpoints.pci.cloud.interfaceName"],
        ["a command in the instance's user", (c) => (c.endpoints.pci.cloud.ssh.user = "debian;id"), "endpoints.pci.cloud.ssh.user"],
        ["user@host in the instance's host", (c) => (c.endpoints.pci.cloud.ssh.host = "root@198.51.100.60"), "endpoints.pci.cloud.ssh.host"],
        ["an unknown flavour", (c) => (c.endpoints.pci.cloud.flavour = "sh -c id"), "endpoints.pci.cloud.flavour"],
        ["a project that is not an id", (c) => (c.endpoints.pci.cloud.project = "p$(id)"), "endpoints.pci.cloud.project"],
        ["an unknown key under routed", (c) => (c.servers.ovh1.routed.postUp = "reboot"), "servers.ovh1.routed.postUp"],
        ["an unknown key under cloud", (c) => (c.endpoints.pci.cloud.script = "id"), "endpoints.pci.cloud.script"],
    ];
    it.each(hostile)("refuses %s at its key", (_what, edit, key) => {
        const issues = issuesOf(edited(edit));
        expect(issues.map((i) => i.key), JSON.stringify(issues)).toContain(key);
    });

    // Whatever string the interface keys are given, what is accepted is a name no shell or file
    // reads as more than a word: letters, digits, '_', '.', '-', at most 15 characters.
    const WORD = /^[A-Za-z][A-Za-z0-9_.-]{0,14}$/;
    const keys: [string, (c: Json, x: string) => void][] = [
        ["servers.ovh1.routed.bridge", (c, x) => (c.servers.ovh1.routed.bridge = x)],
        ["servers.ovh1.routed.uplink", (c, x) => (c.servers.ovh1.routed.uplink = x)],
        ["vracks.rack1.bridge", (c, x) => (c.vracks.rack1.bridge = x)],
        ["endpoints.pci.cloud.interfaceName", (c, x) => (c.endpoints.pci.cloud.interfaceName = x)],
    ];
    it.each(keys)("accepts at %s only a plain interface name", (key, set) => {
        const value = fc.oneof(fc.string({ maxLength: 20 }), fc.constantFrom("vmbr2", "eth0", "a;b", "a b", "a$b", "a'b", "a\nb", "-x", "x".repeat(16)));
        fc.assert(fc.property(value, (x) => {
            const refused = issuesOf(edited((c) => set(c, x))).some((i) => i.key === key);
            expect(refused || WORD.test(x), JSON.stringify(x)).toBe(true);
        }), { numRuns: 150 });
    });
});
