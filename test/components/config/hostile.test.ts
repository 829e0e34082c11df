// A hostile or careless stack file: every value that reaches a shell, a host file or an ifstated
// line has a strict grammar, unknown keys are refused with the nearest known one, layouts that
// cannot work are refused naming both keys, all before any resource; and what is accepted is
// rendered inert (the move command single-quotes every value).
import { spawnSync } from "child_process";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseProgramConfig, ProgramConfig } from "../../../components/config/programConfig";
import { IPMOVE_CONFIG, renderMoveCommand, renderNodeDeployment } from "../../../components/edge/carpPair";
import { PASSWORD_MARKER } from "../../../components/edge/edgeDeploy";
import { renderHostProbeScript } from "../../../components/proxmox/gatewayProbe";
import { NicSpec, renderCreateScript, renderDeleteScript, renderUpdateScript } from "../../../components/proxmox/pct";
import { renderProbeScript } from "../../../components/proxmox/probeScript";
import { fullConfig, issuesOf } from "../../support/programConfigFixture";
import { ConfigError, ConfigIssue } from "../../../components/shared/validate";


describe("the bundled stacks together", () => {
    it("parse cleanly", () => {
        expect(issuesOf(() => undefined)).toEqual([]);
    });
});

describe("strict values", () => {
    const cases: [string, (c: any, s: any) => void, string, RegExp][] = [ // eslint-disable-line @typescript-eslint/no-explicit-any
        ["a command in an instance name", (c) => (c.edges.edge.nodes[0].move.instance = "edge-sbg-1;reboot"), "edges.edge.nodes[0].move.instance", /instance id \(a UUID\) or name/],
        ["a name with a space", (c) => (c.edges.edge.nodes[0].move.instance = "edge sbg"), "edges.edge.nodes[0].move.instance", /instance/],
        ["a project that is not an id", (c) => (c.edges.edge.nodes[0].move.project = "t18s $(id)"), "edges.edge.nodes[0].move.project", /32 lower-case hexadecimal/],
        ["a server with a quote", (c) => (c.edges.edge.nodes[0].move = { server: "ns1'x" }), "edges.edge.nodes[0].move.server", /service name/],
        ["a relative ovh-ipmove path", (c) => (c.edges.edge.ipmovePath = "bin/ovh-ipmove"), "edges.edge.ipmovePath", /absolute path/],
        ["an ovh-ipmove path with a space", (c) => (c.edges.edge.ipmovePath = "/usr/local/bin/ovh ipmove"), "edges.edge.ipmovePath", /absolute path/],
        ["an SSH port of 70000", (c) => (c.edges.edge.nodes[0].ssh.port = 70000), "edges.edge.nodes[0].ssh.port", /1 to 65535/],
        ["carpUnit -1", (c) => (c.edges.edge.group.carpUnit = -1), "edges.edge.group.carpUnit", /0 to 255/],
        ["a host written addr:port", (c) => (c.edges.edge.nodes[0].ssh.host = "198.51.100.41:2222"), "edges.edge.nodes[0].ssh.host", /no :port/],
        ["an underscore in a host name", (c) => (c.servers.ovh1.proxmox.host = "pve_1.example.org"), "servers.ovh1.proxmox.host", /RFC 1123/],
        ["user@host", (c) => (c.servers.ovh1.proxmox.host = "root@pve1.example.org"), "servers.ovh1.proxmox.host", /no user@/],
        ["a user name with a semicolon", (c) => (c.servers.ovh1.proxmox.user = "root;id"), "servers.ovh1.proxmox.user", /login name/],
        ["an OVH endpoint that does not exist", (c, s) => (s.edgeOvhCredentials.edge.endpoint = "ovh-mars"), "edgeOvhCredentials.edge.endpoint", /ovh-eu, ovh-ca/],
        ["a consumer key with a newline", (c, s) => (s.edgeOvhCredentials.edge.consumerKey = "ck\nOVH_ENDPOINT=https://evil.example"), "edgeOvhCredentials.edge.consumerKey", /letters, digits/],
        ["a host key that is not one", (c) => (c.edges.edge.nodes[0].ssh.hostKey = "198.51.100.41 ssh-ed25519 AAAA"), "edges.edge.nodes[0].ssh.hostKey", /host key/],
        ["an RSA host key, which @pulumi/command would offer as ssh-rsa only", (c) => (c.edges.edge.nodes[0].ssh.hostKey = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC7"), "edges.edge.nodes[0].ssh.hostKey", /not ssh-rsa/],
        ["a re-assertion every 5 s (a read at OVH each time)", (c) => (c.edges.edge.reassertSeconds = 5), "edges.edge.reassertSeconds", /from 10 to 3600/],
        ["preempt written as yes", (c) => (c.edges.edge.preempt = "yes"), "edges.edge.preempt", /^true or false$/],
        ["preempt written as 1", (c) => (c.edges.edge.preempt = 1), "edges.edge.preempt", /^true or false$/],
        ["an ip6 outside the server's prefix", (c) => (c.endpoints.proxy.ip6 = "2001:db8:9::10"), "endpoints.proxy.ip6", /inside the server's prefix 2001:db8:1:4662::\/64/],
        ["an ip6 that is the subnet-router anycast address", (c) => (c.endpoints.proxy.ip6 = "2001:db8:1:4662::"), "endpoints.proxy.ip6", /subnet-router anycast/],
        ["an ip6 among the reserved subnet anycast ids", (c) => (c.endpoints.proxy.ip6 = "::fdff:ffff:ffff:ff80"), "endpoints.proxy.ip6", /RFC 2526/],
        ["an ip6 that is not an address", (c) => (c.endpoints.proxy.ip6 = "::10;reboot"), "endpoints.proxy.ip6", /interface id relative to it/],
        ["an ip6 with a zone index", (c) => (c.endpoints.proxy.ip6 = "fe80::10%eth1"), "endpoints.proxy.ip6", /IPv6 address/],
        ["an ip6 that is the server's gateway", (c) => {
            c.servers.ovh1.ipv6.prefix = "2001:db8:1:46ff::/64";
            c.endpoints.proxy.ip6 = "::ff:ff:ff:ff";
        }, "endpoints.proxy.ip6", /other than the gateway/],
        ["an ip6 that is the configured gateway", (c) => {
            c.servers.ovh1.ipv6.gateway = "2001:db8:1:4662::1";
            c.endpoints.proxy.ip6 = "::1";
        }, "endpoints.proxy.ip6", /other than the gateway/],
        ["a prefix with host bits", (c) => (c.servers.ovh1.ipv6.prefix = "2001:db8:1:4662::1/64"), "servers.ovh1.ipv6.prefix", /network address, with no host bits set \(2001:db8:1:4662::\/64\)/],
        ["a /72 prefix", (c) => (c.servers.ovh1.ipv6.prefix = "2001:db8:1:4662::/72"), "servers.ovh1.ipv6.prefix", /from \/48 to \/64/],
        ["a prefix without its length", (c) => (c.servers.ovh1.ipv6.prefix = "2001:db8:1:4662::"), "servers.ovh1.ipv6.prefix", /from \/48 to \/64/],
        ["a link-local prefix", (c) => (c.servers.ovh1.ipv6.prefix = "fe80::/64"), "servers.ovh1.ipv6.prefix", /global unicast/],
        ["a multicast gateway", (c) => (c.servers.ovh1.ipv6.gateway = "ff02::1"), "servers.ovh1.ipv6.gateway", /global unicast, unique local .* or link-local/],
        ["an IPv4 gateway for IPv6", (c) => (c.servers.ovh1.ipv6.gateway = "198.51.100.254"), "servers.ovh1.ipv6.gateway", /IPv6 address/],
        ["a template with a space", (c) => (c.endpoints.proxy.container.owned = { hostname: "p", template: "local:vztmpl/x y.tar.zst" }), "endpoints.proxy.container.owned.template", /template volume/],
    ];
    it.each(cases)("refuses %s, naming its key", (_, edit, key, expected) => {
        const issues = issuesOf(edit);
        const issue = issues.find((i) => i.key === key);
        expect(issue, JSON.stringify(issues)).toBeDefined();
        expect(issue!.expected).toMatch(expected);
    });

    it("takes IPv6 values as OVH writes them, and uses them canonically", () => {
        const { raw, secrets } = fullConfig();
        (raw.servers as any).ovh1.ipv6 = { prefix: "2001:DB8:1:4662:0::/64", gateway: "2001:0DB8:0001:46FF:00FF:00FF:00FF:00FF" }; // eslint-disable-line @typescript-eslint/no-explicit-any
        (raw.endpoints as any).proxy.ip6 = "2001:DB8:1:4662::10"; // eslint-disable-line @typescript-eslint/no-explicit-any
        const { stack } = parseProgramConfig(raw, secrets);
        expect(stack.servers.get("ovh1")?.ipv6).toEqual({ prefix: { network: "2001:db8:1:4662::", length: 64 }, gateway: "2001:db8:1:46ff:ff:ff:ff:ff" });
        expect(stack.endpoints[0].ip6).toBe("2001:db8:1:4662::10");
    });

    it("reads preempt as a boolean, written as YAML's or as pulumi config set --path stores it, false when absent", () => {
        const preempt = (value: unknown) => {
            const { raw, secrets } = fullConfig();
            if (value === undefined) delete (raw.edges as any).edge.preempt; // eslint-disable-line @typescript-eslint/no-explicit-any
            else (raw.edges as any).edge.preempt = value; // eslint-disable-line @typescript-eslint/no-explicit-any
            return parseProgramConfig(raw, secrets).edges[0].preempt;
        };
        expect([preempt(undefined), preempt(true), preempt("true"), preempt(false), preempt("false")]).toEqual([false, true, true, false, false]);
    });

    it("accepts an IPv6 address as an SSH host", () => {
        expect(issuesOf((c) => (c.servers.ovh1.proxmox.host = "2001:db8::20"))).toEqual([]);
    });

    it("never puts the CARP password anywhere but after pass, whatever the names hold", () => {
        const { raw, secrets } = fullConfig();
        (raw.edges as any).edge.nodes[0].name = "x_CARPPW_"; // eslint-disable-line @typescript-eslint/no-explicit-any
        const config = parseProgramConfig(raw, secrets);
        const [script] = renderedScripts(config).slice(-2);
        const awked = script.split("\n").filter((l) => l.includes("awk") && l.includes("CARP_PASSWORD"));
        for (const l of awked) expect(l).toContain(`gsub(/pass ${PASSWORD_MARKER}/`);
        expect(script).toContain("x_CARPPW_");
    });

    it("never shows a secret in its message", () => {
        const issues = issuesOf((c, s) => (s.edgeOvhCredentials.edge.consumerKey = "ck with spaces"));
        expect(JSON.stringify(issues)).not.toContain("ck with spaces");
    });
});

describe("unknown keys, at every level", () => {
    it.each([
        [(c: any) => (c.edges.edge.failoverIP = "203.0.113.231"), "edges.edge.failoverIP", "failoverIp"], // eslint-disable-line @typescript-eslint/no-explicit-any
        [(c: any) => (c.edges.edge.group.vhdi = 2), "edges.edge.group.vhdi", "vhid"], // eslint-disable-line @typescript-eslint/no-explicit-any
        [(c: any) => (c.edges.edge.nodes[1].ssh.hostkey = "x"), "edges.edge.nodes[1].ssh.hostkey", "hostKey"], // eslint-disable-line @typescript-eslint/no-explicit-any
        [(c: any) => (c.edges.edge.health.pingTraget = "192.0.2.1"), "edges.edge.health.pingTraget", "pingTarget"], // eslint-disable-line @typescript-eslint/no-explicit-any
        [(c: any) => (c.servers.ovh1.proxmox.hots = "x"), "servers.ovh1.proxmox.hots", "host"], // eslint-disable-line @typescript-eslint/no-explicit-any
        [(c: any) => (c.endpoints.proxy.container.bridg = "vmbr1"), "endpoints.proxy.container.bridg", "bridge"], // eslint-disable-line @typescript-eslint/no-explicit-any
        [(c: any) => (c.servers.ovh1.ipv6.prefx = "2001:db8::/64"), "servers.ovh1.ipv6.prefx", "prefix"], // eslint-disable-line @typescript-eslint/no-explicit-any
        [(c: any) => (c.endpoints.proxy.ipv6 = "::10"), "endpoints.proxy.ipv6", "ip6"], // eslint-disable-line @typescript-eslint/no-explicit-any
        [(c: any) => (c.edges.edge.preemt = true), "edges.edge.preemt", "preempt"], // eslint-disable-line @typescript-eslint/no-explicit-any
    ])("%#: names the key and the nearest known one", (edit, key, near) => {
        const issue = issuesOf(edit).find((i) => i.key === key);
        expect(issue?.expected).toContain(`did you mean ${near}?`);
    });
});

describe("layouts that cannot work, refused with both keys", () => {
    const both = (issues: ConfigIssue[], key: string, other: string) => {
        const issue = issues.find((i) => i.key === key);
        expect(issue, JSON.stringify(issues, null, 1)).toBeDefined();
        expect(issue!.expected).toContain(other);
    };
    it("two nodes with one SSH host", () => both(issuesOf((c) => (c.edges.edge.nodes[1].ssh.host = "198.51.100.41")), "edges.edge.nodes[1].ssh.host", "edges.edge.nodes[0].ssh.host"));
    it("two nodes with one private address", () => both(issuesOf((c) => {
        c.edges.edge.nodes[0].privateAddress = "10.25.0.11";
        c.edges.edge.nodes[1].privateAddress = "10.25.0.11";
    }), "edges.edge.nodes[1].privateAddress", "edges.edge.nodes[0].privateAddress"));
    it("one failover IP claimed by an endpoint and an edge pair", () => both(issuesOf((c) => (c.edges.edge.failoverIp = "192.0.2.10")), "edges.edge.failoverIp", "endpoints.proxy.ip"));
    it("a CARP address equal to the failover IP", () => both(issuesOf((c) => (c.edges.edge.group.address = "203.0.113.231")), "edges.edge.group.address", "edges.edge.failoverIp"));
    it("a CARP address equal to a node's own", () => both(issuesOf((c) => (c.edges.edge.nodes[0].privateAddress = "10.25.0.10")), "edges.edge.group.address", "edges.edge.nodes[0].privateAddress"));
    it("a failover IP equal to a server's main IP", () => {
        both(issuesOf((c) => (c.endpoints.proxy.ip = "198.51.100.20")), "endpoints.proxy.ip", "servers.ovh1.mainIp");
        both(issuesOf((c) => (c.edges.edge.failoverIp = "203.0.113.20")), "edges.edge.failoverIp", "servers.ovh2.mainIp");
    });
    it("two NICs of one container with one interface name", () => both(issuesOf((c) => {
        c.endpoints.web = { ...structuredClone(c.endpoints.proxy), ip: "192.0.2.11", container: { vmid: 101, nic: 2, interfaceName: "eth1" }, records: { "example.org": { a: ["web"] } } };
    }), "endpoints.web.container.interfaceName", "endpoints.proxy.container.interfaceName"));
    it("a server with no source for the gateway", () => both(issuesOf((c) => {
        c.servers.ovh1.gatewayFromApi = false;
        delete c.servers.ovh1.mainIp;
    }), "servers.ovh1.gatewayFromApi", "mainIp"));
    it("an owned container's NICs not numbered from 0 without a gap", () => both(issuesOf((c) => {
        c.endpoints.proxy.container = { vmid: 120, nic: 2, owned: { hostname: "p", template: "local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst", privateNics: [{ nic: 0, bridge: "vmbr1", ip: "10.1.0.5/24" }] } };
        c.servers.ovh1.proxmox.node = "pve1";
    }), "endpoints.proxy.container.nic", "privateNics"));
    it("an ip6 on a server without an IPv6 prefix", () => both(issuesOf((c) => delete c.servers.ovh1.ipv6), "servers.ovh1.ipv6.prefix", "endpoints.proxy.ip6"));
    it("two endpoints with one ip6, written whole and relative", () => both(issuesOf((c) => {
        c.endpoints.web = { ...structuredClone(c.endpoints.proxy), ip: "192.0.2.11", ip6: "2001:db8:1:4662::10", container: { vmid: 102, nic: 1 }, records: {} };
    }), "endpoints.web.ip6", "endpoints.proxy.ip6"));
    it("a /56 with no source for its gateway", () => both(issuesOf((c) => {
        c.servers.ovh1.ipv6.prefix = "2001:db8:1:4600::/56";
        c.servers.ovh1.gatewayFromApi = false;
    }), "servers.ovh1.ipv6.gateway", "servers.ovh1.gatewayFromApi"));
    it("an edge pair without its OVH credentials", () => both(issuesOf((c, s) => delete s.edgeOvhCredentials.edge), "edgeOvhCredentials.edge", "ovh-ipmove"));
    it("an edge node without a host key, unless told to skip the check", () => {
        both(issuesOf((c) => delete c.edges.edge.nodes[0].ssh.hostKey), "edges.edge.nodes[0].ssh.hostKey", "insecureSkipHostKeyCheck");
        expect(issuesOf((c) => {
            delete c.edges.edge.nodes[0].ssh.hostKey;
            c.edges.edge.nodes[0].ssh.insecureSkipHostKeyCheck = true;
        })).toEqual([]);
    });
});

/** Every script the accepted config renders: the NIC's, the probe's, each edge node's deploy. */
function renderedScripts(config: ProgramConfig): string[] {
    const scripts: string[] = [];
    for (const e of config.stack.endpoints) {
        const six = config.stack.servers.get(e.server)?.ipv6;
        const gateway6 = six ? six.gateway ?? "fe80::1" : undefined;
        const ipv6 = e.ip6 && six && gateway6 ? { address: e.ip6, prefixLength: six.prefix.length, gateway: gateway6, onLink: true } : undefined;
        const nic: NicSpec = { vmid: e.container.vmid, index: e.container.nic, interfaceName: e.container.interfaceName, bridge: e.container.bridge, macAddress: "02:00:00:00:00:01", address: e.ip, prefixLength: 32, gateway: "198.51.100.254", ipv6 };
        scripts.push(renderCreateScript(nic), renderUpdateScript(nic), renderDeleteScript(nic));
        scripts.push(renderHostProbeScript(e.container.vmid, e.container.nic, renderProbeScript({ interfaceName: e.container.interfaceName, address: e.ip, gateways: ["198.51.100.254"], gateway6: ipv6?.gateway, address6: ipv6?.address, tries: 3, timeoutSeconds: 5, label: e.name }), ["198.51.100.254"]));
    }
    for (const edge of config.edges) {
        const spec = { group: { ...edge.group, password: PASSWORD_MARKER }, nodes: edge.nodes, failoverIp: edge.failoverIp, health: edge.health, ipmovePath: edge.ipmovePath, reassertSeconds: edge.reassertSeconds, preempt: edge.preempt };
        for (const node of edge.nodes) scripts.push(renderNodeDeployment(edge.flavour, spec, node));
    }
    return scripts;
}

// Every string field of an endpoint and of an edge pair, as a config path and a setter.
const FIELDS: [string, (c: any, v: string) => void][] = [ // eslint-disable-line @typescript-eslint/no-explicit-any
    ["servers.ovh1.serviceName", (c, v) => (c.servers.ovh1.serviceName = v)],
    ["servers.ovh1.proxmox.host", (c, v) => (c.servers.ovh1.proxmox.host = v)],
    ["servers.ovh1.proxmox.user", (c, v) => (c.servers.ovh1.proxmox.user = v)],
    ["servers.ovh1.proxmox.node", (c, v) => (c.servers.ovh1.proxmox.node = v)],
    ["servers.ovh1.proxmox.hostKey", (c, v) => (c.servers.ovh1.proxmox.hostKey = v)],
    ["servers.ovh1.proxmox.port", (c, v) => (c.servers.ovh1.proxmox.port = v)],
    ["endpoints.proxy.ip", (c, v) => (c.endpoints.proxy.ip = v)],
    ["endpoints.proxy.ip6", (c, v) => (c.endpoints.proxy.ip6 = v)],
    ["servers.ovh1.ipv6.prefix", (c, v) => (c.servers.ovh1.ipv6.prefix = v)],
    ["servers.ovh1.ipv6.gateway", (c, v) => (c.servers.ovh1.ipv6.gateway = v)],
    ["endpoints.proxy.reverse", (c, v) => (c.endpoints.proxy.reverse = v)],
    ["endpoints.proxy.virtualMac.virtualMachineName", (c, v) => (c.endpoints.proxy.virtualMac.virtualMachineName = v)],
    ["endpoints.proxy.virtualMac.macAddress", (c, v) => (c.endpoints.proxy.virtualMac.macAddress = v)],
    ["endpoints.proxy.container.interfaceName", (c, v) => (c.endpoints.proxy.container.interfaceName = v)],
    ["endpoints.proxy.container.bridge", (c, v) => (c.endpoints.proxy.container.bridge = v)],
    ["endpoints.proxy.container.vmid", (c, v) => (c.endpoints.proxy.container.vmid = v)],
    ["endpoints.proxy.container.nic", (c, v) => (c.endpoints.proxy.container.nic = v)],
    ["endpoints.proxy.cnameTarget", (c, v) => (c.endpoints.proxy.cnameTarget = v)],
    ["edges.edge.failoverIp", (c, v) => (c.edges.edge.failoverIp = v)],
    ["edges.edge.group.address", (c, v) => (c.edges.edge.group.address = v)],
    ["edges.edge.group.carpdev", (c, v) => (c.edges.edge.group.carpdev = v)],
    ["edges.edge.group.carpUnit", (c, v) => (c.edges.edge.group.carpUnit = v)],
    ["edges.edge.health.pingTarget", (c, v) => (c.edges.edge.health.pingTarget = v)],
    ["edges.edge.ipmovePath", (c, v) => (c.edges.edge.ipmovePath = v)],
    ["edges.edge.nodes[0].name", (c, v) => (c.edges.edge.nodes[0].name = v)],
    ["edges.edge.nodes[0].publicInterface", (c, v) => (c.edges.edge.nodes[0].publicInterface = v)],
    ["edges.edge.nodes[0].privateInterface", (c, v) => (c.edges.edge.nodes[0].privateInterface = v)],
    ["edges.edge.nodes[0].privateAddress", (c, v) => (c.edges.edge.nodes[0].privateAddress = v)],
    ["edges.edge.nodes[0].ssh.host", (c, v) => (c.edges.edge.nodes[0].ssh.host = v)],
    ["edges.edge.nodes[0].ssh.user", (c, v) => (c.edges.edge.nodes[0].ssh.user = v)],
    ["edges.edge.nodes[0].ssh.hostKey", (c, v) => (c.edges.edge.nodes[0].ssh.hostKey = v)],
    ["edges.edge.nodes[0].move.project", (c, v) => (c.edges.edge.nodes[0].move.project = v)],
    ["edges.edge.nodes[0].move.instance", (c, v) => (c.edges.edge.nodes[0].move.instance = v)],
];

// Strings built to break out: shell metacharacters, quotes, blanks, newlines, and plain parts.
const hostile = fc.oneof(
    fc.constantFrom("edge-sbg-1;reboot", "$(reboot)", "`id`", "a'b", 'a"b', "a b", "a\nb", "x|y", "x&&y", "x>y", "../x", "-rf", "*", "~root", "\\", "a#b", "{a,b}", "${IFS}"),
    fc.stringMatching(/^[a-z0-9 ;|&$`'"\\(){}<>*?~#!\n\t.\-_/:]{1,20}$/),
);

describe("any value of any string field", () => {
    it("is refused with its key, or rendered inert: every script parses, the value only single-quoted in the move command", () => {
        fc.assert(
            fc.property(fc.constantFrom(...FIELDS), hostile, ([key, set], value) => {
                const { raw, secrets } = fullConfig();
                set(raw, value);
                let config: ProgramConfig;
                try {
                    config = parseProgramConfig(raw, secrets);
                } catch (err) {
                    if (!(err instanceof ConfigError)) throw err;
                    expect(err.issues.map((i) => i.key), `${key} = ${JSON.stringify(value)}`).toContain(key);
                    return;
                }
                // Accepted: it can hold nothing a shell would read.
                expect(value, key).toMatch(/^[A-Za-z0-9._/:-]*$/);
                for (const script of renderedScripts(config)) {
                    expect(spawnSync("sh", ["-n"], { input: script }).status, `${key} = ${JSON.stringify(value)}`).toBe(0);
                }
                for (const edge of config.edges) {
                    for (const node of edge.nodes) {
                        const move = renderMoveCommand(edge.ipmovePath, edge.failoverIp, node.move, IPMOVE_CONFIG);
                        const words = move.split(" ").filter((w) => !/^-[a-z]+$/.test(w));
                        for (const w of words) expect(w).toMatch(/^'[^']*'$/);
                    }
                }
            }),
            { numRuns: 300 },
        );
    });
});
