// The keys messages name, written as `pulumi config set --path` takes them, and issues reported
// once where one mistake used to give two.
import * as path from "path";
import { describe, expect, it } from "vitest";
import { evaluate } from "../../../bin/plan";
import { applySet, loadProject, loadStackConfig, parseConfigPath } from "../../../bin/plan/stackFiles";
import { issuesOf } from "../../support/programConfigFixture";
import { keyPath } from "../../../components/shared/validate";

const root = path.resolve(__dirname, "../../..");

describe("keyPath", () => {
    it("joins plain names with dots, indices in brackets, and quotes what is not a plain name", () => {
        expect(keyPath("endpoints", "proxy", "records", "example.org", "a", 0)).toBe('endpoints.proxy.records["example.org"].a[0]');
        expect(keyPath("servers", "ovh-1", "proxmox", "hostKey")).toBe("servers.ovh-1.proxmox.hostKey");
        expect(keyPath("edges", "edge", "nodes", 1, "ssh", "host")).toBe("edges.edge.nodes[1].ssh.host");
        expect(keyPath("endpoints", "a b", "x")).toBe('endpoints["a b"].x');
        expect(keyPath("endpoints", "1st")).toBe('endpoints["1st"]');
        expect(keyPath("endpoints", 'say "hi"')).toBe('endpoints["say \\"hi\\""]');
    });

    it("writes keys the --set parser reads back to the same segments", () => {
        for (const segments of [["endpoints", "proxy", "records", "example.org", "a", 0], ["edges", "edge.sbg", "nodes", 0, "name"], ["servers", "ovh_1", "ipv6", "prefix"]] as const) {
            const [base, ...rest] = segments;
            expect(parseConfigPath(keyPath(base, ...rest))).toEqual(segments);
        }
    });
});

describe("every message writes a key with a dot in --path syntax", () => {
    it("a record's key names its zone in brackets", () => {
        const issues = issuesOf((c) => (c.endpoints.proxy.records["example.org"].a[0] = "bad_name!"));
        expect(issues.map((i) => i.key)).toContain('endpoints.proxy.records["example.org"].a[0]');
    });

    it("a conflict names both records that way", () => {
        const issues = issuesOf((c) => c.endpoints.proxy.records["example.org"].a.push("world"));
        const issue = issues.find((i) => i.key.startsWith('endpoints.proxy.records["example.org"].cname['));
        expect(issue?.expected).toContain('endpoints.proxy.records["example.org"].a[1]');
    });

    it("names with dots: servers, endpoints, edge pairs and their secrets", () => {
        const issues = issuesOf((c, s) => {
            c.servers["ovh.1"] = c.servers.ovh1;
            delete c.servers.ovh1;
            c.servers["ovh.1"].proxmox.port = 0;
            c.endpoints.proxy.server = "ovh.1";
            c.edges["edge.sbg"] = c.edges.edge;
            delete c.edges.edge;
            c.edges["edge.sbg"].group.vhid = 0;
            s.edgePasswords = {};
            s.edgeOvhCredentials = {};
        });
        const keys = issues.map((i) => i.key);
        expect(keys).toEqual(expect.arrayContaining(['servers["ovh.1"].proxmox.port', 'edges["edge.sbg"].group.vhid', 'edgePasswords["edge.sbg"]', 'edgeOvhCredentials["edge.sbg"]']));
        expect(keys.join(" ")).not.toMatch(/ovh\.1\.|edge\.sbg\./);
    });

    it("an unknown key with a dot is quoted", () => {
        const issues = issuesOf((c) => (c.endpoints.proxy.container["vm.id"] = 1));
        expect(issues.map((i) => i.key)).toContain('endpoints.proxy.container["vm.id"]');
    });
});

describe("one mistake, one message", () => {
    it("a bad IPv6 prefix is reported once, not also as (missing) for the endpoint's ip6", () => {
        const issues = issuesOf((c) => (c.servers.ovh1.ipv6.prefix = "2001:db8:1:4662::/72"));
        expect(issues).toEqual([expect.objectContaining({ key: "servers.ovh1.ipv6.prefix", value: "2001:db8:1:4662::/72" })]);
    });

    it("a zone split at its dots by a --path key is named with the key to write instead", () => {
        const issues = issuesOf((c) => (c.endpoints.proxy.records = { example: { org: { a: ["www"] } } }));
        expect(issues).toEqual([{
            key: "endpoints.proxy.records.example",
            value: { org: { a: ["www"] } },
            expected: expect.stringContaining(`write endpoints.proxy.records["example.org"].a (pulumi config set --path 'endpoints.proxy.records["example.org"].a[0]' www)`),
        }]);
    });

    it("plan --set …records.example.org.a[0] says to write records[\"example.org\"]", () => {
        const project = loadProject(root);
        const config = loadStackConfig(root, project, "reverse-proxy");
        expect(() => applySet(project, config, "endpoints.proxy.records.example.org.a[0]=www")).toThrow(
            '--set endpoints.proxy.records.example.org.a[0]=www: a zone name holds dots, which a --path key splits; write endpoints.proxy.records["example.org"].a[0]=www (as pulumi config set --path takes it)',
        );
        expect(() => applySet(project, config, 'endpoints.proxy.records["example.org"].a[0]=www')).not.toThrow();
    });
});

describe("careless values that parse, refused with their key", () => {
    const owned = (privateNics: unknown[]) => (c: any) => { // eslint-disable-line @typescript-eslint/no-explicit-any
        c.endpoints.proxy.container = { vmid: 120, nic: 0, owned: { hostname: "p", template: "local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst", privateNics } };
        c.servers.ovh1.proxmox.node = "pve1";
    };
    const PRIVATE_KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\n-----END OPENSSH PRIVATE KEY-----";
    const cases: [string, (c: any, s: any) => void, string, RegExp][] = [ // eslint-disable-line @typescript-eslint/no-explicit-any
        ["a CNAME whose name is where the CNAMEs point", (c) => {
            c.endpoints.proxy.cnameTarget = "www.example.org.";
            c.endpoints.proxy.records["example.org"].cname.push("www");
        }, 'endpoints.proxy.records["example.org"].cname[5]', /other than where the CNAMEs point \(endpoints\.proxy\.cnameTarget is www\.example\.org\.\): a CNAME to itself/],
        ["an A name written with its zone", (c) => (c.endpoints.proxy.records["example.org"].a = ["proxy1.example.org"]), 'endpoints.proxy.records["example.org"].a[0]', /relative to example\.org: "proxy1", not "proxy1\.example\.org" \(that would be proxy1\.example\.org\.example\.org\)/],
        ["an apex written as its zone", (c) => (c.endpoints.proxy.records["example.net"].a = ["example.net"]), 'endpoints.proxy.records["example.net"].a[0]', /"@" for the apex, not "example\.net"/],
        ["a host key that is a private key", (c) => (c.servers.ovh1.proxmox.hostKey = PRIVATE_KEY), "servers.ovh1.proxmox.hostKey", /public key, not a private key/],
        ["a host key that is its fingerprint", (c) => (c.edges.edge.nodes[0].ssh.hostKey = "SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s"), "edges.edge.nodes[0].ssh.hostKey", /not its fingerprint/],
        ["a service name that is an IP", (c) => (c.servers.ovh1.serviceName = "198.51.100.20"), "servers.ovh1.serviceName", /service name .*not an IP address/],
        ["an edge node's public and private interfaces equal", (c) => (c.edges.edge.nodes[1].privateInterface = "vio0"), "edges.edge.nodes[1].privateInterface", /not the public one \(edges\.edge\.nodes\[1\]\.publicInterface is vio0 too\)/],
        ["a carpdev that is the public interface", (c) => (c.edges.edge.group.carpdev = "vio0"), "edges.edge.group.carpdev", /private network .* not the public interface .*edges\.edge\.nodes\[0\]\.publicInterface/],
        ["a health check that pings the pair's own IP", (c) => (c.edges.edge.health.pingTarget = "10.25.0.10"), "edges.edge.health.pingTarget", /not the pair's own \(edges\.edge\.group\.address\)/],
        ["an edge node reached over SSH at the failover IP", (c) => (c.edges.edge.nodes[1].ssh.host = "203.0.113.231"), "edges.edge.nodes[1].ssh.host", /node's own address, not the pair's shared one \(edges\.edge\.failoverIp\), which reaches whichever node is master/],
        ["an edge node reached over SSH at the CARP address", (c) => (c.edges.edge.nodes[0].ssh.host = "10.25.0.10"), "edges.edge.nodes[0].ssh.host", /\(edges\.edge\.group\.address\)/],
        ["a Proxmox host reached at an endpoint's failover IP", (c) => (c.servers.ovh1.proxmox.host = "192.0.2.10"), "servers.ovh1.proxmox.host", /not a failover IP routed to a container \(endpoints\.proxy\.ip\)/],
        ["a gateway that is the server's main IP", (c) => (c.servers.ovh1.gateway = "198.51.100.20"), "servers.ovh1.gateway", /not its own main IP \(servers\.ovh1\.mainIp\)/],
        ["a gateway candidate that is the server's main IP", (c) => (c.servers.ovh1.gatewayCandidates = ["198.51.100.254", "198.51.100.20"]), "servers.ovh1.gatewayCandidates[1]", /not the server's own main IP/],
        ["two private NICs with one nic number", owned([{ nic: 1, bridge: "vmbr1", ip: "10.1.0.5/24", interfaceName: "eth1" }, { nic: 1, bridge: "vmbr2", ip: "10.2.0.5/24", interfaceName: "eth2" }]), "endpoints.proxy.container.owned.privateNics[1].nic", /no other private NIC has \(endpoints\.proxy\.container\.owned\.privateNics\[0\]\.nic is 1 too\)/],
        ["two private NICs with one interface name", owned([{ nic: 1, bridge: "vmbr1", ip: "10.1.0.5/24", interfaceName: "eth1" }, { nic: 2, bridge: "vmbr2", ip: "10.2.0.5/24", interfaceName: "eth1" }]), "endpoints.proxy.container.owned.privateNics[1].interfaceName", /privateNics\[0\]\.interfaceName is eth1 too/],
    ];
    it.each(cases)("%s", (_, edit, key, expected) => {
        const issues = issuesOf(edit);
        const issue = issues.find((i) => i.key === key);
        expect(issue, JSON.stringify(issues)).toBeDefined();
        expect(issue!.expected).toMatch(expected);
    });

    it("never repeats a private key written as a host key", () => {
        const issues = issuesOf((c) => (c.servers.ovh1.proxmox.hostKey = PRIVATE_KEY));
        expect(JSON.stringify(issues)).not.toContain("b3BlbnNzaC1rZXktdjE");
        expect(issues.find((i) => i.key === "servers.ovh1.proxmox.hostKey")?.value).toBe("[not shown]");
    });

    it("still accepts a relative name that only contains the zone's first label", () => {
        expect(issuesOf((c) => c.endpoints.proxy.records["example.org"].cname.push("example"))).toEqual([]);
    });
});

describe("one container declared by two endpoints", () => {
    const owned = { vmid: 120, nic: 0, owned: { hostname: "p", template: "local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst" } };
    it("is refused when either owns it: the provider manages every NIC of a container it creates", () => {
        const issues = issuesOf((c) => {
            c.servers.ovh1.proxmox.node = "pve1";
            c.endpoints.proxy.container = owned;
            c.endpoints.web = { server: "ovh1", ip: "192.0.2.11", container: { vmid: 120, nic: 1 } };
        });
        const issue = issues.find((i) => i.key === "endpoints.web.container.vmid");
        expect(issue?.expected).toBe("a container no other endpoint declares (endpoints.proxy.container.vmid is 120 too): endpoints.proxy.container.owned creates it, and the Proxmox provider then manages every NIC it has");
    });

    it("is accepted when neither owns it (two failover IPs on one container, each its own NIC)", () => {
        expect(issuesOf((c) => (c.endpoints.web = { server: "ovh1", ip: "192.0.2.11", container: { vmid: 101, nic: 2 } }))).toEqual([]);
    });
});

describe("a key in a misspelt namespace", () => {
    it("is named, with the namespace it meant, not only as the key it meant being missing", async () => {
        const project = loadProject(root);
        const config = new Map([...loadStackConfig(root, project, "reverse-proxy")].map(([key, value]) => [key === "ovh-failover:endpoints" ? "ovh-failovr:endpoints" : key, value]));
        const e = await evaluate(root, project, "reverse-proxy", config);
        expect(e.error).toContain("ovh-failovr:endpoints: \"[not shown]\" is not valid: expected no such namespace ovh-failovr (did you mean ovh-failover:endpoints?)");
    });

    it("is not reported for the providers' namespaces the example stacks set", async () => {
        const project = loadProject(root);
        const e = await evaluate(root, project, "reverse-proxy", loadStackConfig(root, project, "reverse-proxy"));
        expect(e.error).toBeUndefined();
    });
});
