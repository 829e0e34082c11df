// The key catalog is what the validator accepts and what docs/stack-keys.md says: the generated
// file is the one committed, every catalog key is accepted in a valid stack, and every allowed-key
// list the validator names is the catalog's.
import * as fs from "fs";
import { describe, expect, it } from "vitest";
import { parseConfigPath } from "../../../bin/plan/stackFiles";
import { KEYS_DOC, renderKeysDoc } from "../../../docs/generate-keys";
import { CATALOG, CONFIG_KEYS, keysOf, ObjectName, SECRET_KEYS } from "../../../components/config/keys";
import { parseProgramConfig } from "../../../components/config/programConfig";
import { ConfigError, ConfigIssue } from "../../../components/shared/validate";

const KEY_1 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMl7ZAtKZt9Ij7jq387j6PueCz+uHHISJPDZE3dAKT3u";
const KEY_2 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOAnJ1uVmlo9zy9KE3uLfh4FyAugJdtgroLbXi76jtu6";

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** One valid stack that sets every key of the catalog at least once. */
function everyKey(): { raw: Json; secrets: Json } {
    const node = (i: number, move: Json) => ({
        name: `edge-${i}`, advskew: i * 10, publicInterface: "eth0", privateInterface: "eth1", privateAddress: `10.25.0.1${i}`,
        ssh: { host: `198.51.100.4${i}`, port: 22, user: "root", hostKey: i === 1 ? KEY_1 : KEY_2, insecureSkipHostKeyCheck: false },
        move,
    });
    return {
        raw: {
            dnsTtl: 300,
            dnsServesWithin: 600,
            protectIps: true,
            servers: {
                ovh1: {
                    serviceName: "ns3012345.ip-198-51-100.eu", mainIp: "198.51.100.20", gatewayFromApi: false, gateway: "198.51.100.254", gatewayCandidates: ["198.51.100.254"],
                    proxmox: { host: "198.51.100.20", port: 22, user: "root", node: "pve1", hostKey: KEY_1 },
                    ipv6: { prefix: "2001:db8:1:4662::/64", gateway: "fe80::1" },
                    unreachable: false,
                    virtualMacs: true, virtualMacLimit: 32, region: "eu-west-gra",
                    routed: { bridge: "vmbr2", address: "192.168.0.1", prefixLength: 24, uplink: "vmbr0", address6: "fd00::1" },
                },
            },
            vracks: { rack1: { serviceName: "pn-123456", bridge: "vmbr1", ipv6: "2001:db8:abcd:ef00::/56" } },
            ipBlocks: {
                web: { block: "203.0.113.8/29", server: "ovh1", region: "eu-west-rbx", dropVirtualMacs: false },
                rack: { block: "203.0.113.16/29", vrack: "rack1" },
            },
            endpoints: {
                proxy: {
                    server: "ovh1", ip: "192.0.2.10", ip6: "::10", reverse: "proxy1.example.org.",
                    virtualMac: { type: "ovh", virtualMachineName: "proxy", macAddress: "02:00:00:ab:cd:ef" },
                    container: {
                        vmid: 101, nic: 1, interfaceName: "eth1", bridge: "vmbr0",
                        owned: {
                            hostname: "proxy", template: "local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst", osType: "debian", cores: 2, memoryMb: 1024, diskGb: 8, datastore: "local-lvm",
                            privateNics: [{ nic: 0, interfaceName: "eth0", bridge: "vmbr1", ip: "10.1.0.100/24", gateway: "10.1.0.1" }],
                        },
                    },
                    records: { "example.org": { a: ["proxy1"], cname: ["www"] } },
                    cnameTarget: "proxy1.example.org.",
                    ttl: 300,
                    lowerTtl: 60,
                },
                routed: { server: "ovh1", ip: "203.0.113.9", mode: "routed", container: { vmid: 102, nic: 1 } },
                lb: { server: "ovh1", ip: "203.0.113.18", container: { vmid: 103, nic: 1 } },
                pci: {
                    ip: "192.0.2.60",
                    cloud: {
                        project: "0123456789abcdef0123456789abcdef", instance: "5f0e4f9c-3b1d-4a55-9d0e-2f4b8c6a7d21", interfaceName: "ens3", flavour: "debian",
                        ssh: { host: "198.51.100.60", port: 22, user: "root", hostKey: KEY_2 },
                    },
                },
            },
            edges: {
                edge: {
                    flavour: "keepalived", failoverIp: "203.0.113.231", reverse: "edge.example.org.",
                    group: { vhid: 1, address: "10.25.0.10", prefixLength: 16, carpdev: "eth1", advbase: 1, carpUnit: 0 },
                    health: { pingTarget: "192.0.2.53", intervalSeconds: 15 },
                    nodes: [node(1, { project: "0123456789abcdef0123456789abcdef", instance: "edge-1" }), node(2, { server: "ns3054321.ip-198-51-100.eu" })],
                    ipmovePath: "/usr/local/bin/ovh-ipmove", reassertSeconds: 30, preempt: false,
                },
            },
        },
        secrets: {
            edgePasswords: { edge: "Pass_w-8" },
            edgeOvhCredentials: { edge: { endpoint: "ovh-eu", applicationKey: "ak", applicationSecret: "as", consumerKey: "ck" } },
        },
    };
}

function issuesOf(raw: Json, secrets: Json): ConfigIssue[] {
    try {
        parseProgramConfig(raw, secrets);
        return [];
    } catch (err) {
        if (err instanceof ConfigError) return err.issues;
        throw err;
    }
}

/** The objects at a catalog path in a config, placeholders matched by every name or index. */
function objectsAt(root: unknown, path: string): Json[] {
    if (path === "") return [root as Json];
    const segments = parseConfigPath(path.replace(/\[<i>\]/g, "[0]").replace(/<(\w+)>/g, "*"));
    let found: unknown[] = [root];
    segments.forEach((s, i) => {
        const anyIndex = typeof s === "number" && /\[<i>\]/.test(path) && i > 0;
        found = found.flatMap((o) => {
            if (typeof o !== "object" || o === null) return [];
            if (s === "*" || s === '"*"' || anyIndex) return Object.values(o);
            return [(o as Json)[s as string]];
        });
    });
    return found.filter((o): o is Json => typeof o === "object" && o !== null);
}

const OBJECTS = (Object.keys(CATALOG) as ObjectName[]).filter((o) => o !== "top");

describe("docs/stack-keys.md", () => {
    it("is what npm run docs:keys writes from the catalog", () => {
        const committed = fs.existsSync(KEYS_DOC) ? fs.readFileSync(KEYS_DOC, "utf8") : "";
        expect(committed === renderKeysDoc(), "docs/stack-keys.md is out of date: run npm run docs:keys and commit it").toBe(true);
    });

    it("names every key of the catalog in --path syntax", () => {
        const doc = renderKeysDoc();
        for (const o of OBJECTS) for (const k of CATALOG[o].keys) expect(doc).toContain(`\`${CATALOG[o].path}.${k.name}\``);
    });
});

describe("the catalog and the validator", () => {
    it("accepts a stack that sets every catalog key", () => {
        const { raw, secrets } = everyKey();
        expect(issuesOf(raw, secrets)).toEqual([]);
        const all = { ...raw, ...secrets };
        for (const o of OBJECTS) {
            const objects = objectsAt(all, CATALOG[o].path);
            expect(objects.length, CATALOG[o].path).toBeGreaterThan(0);
            for (const k of CATALOG[o].keys) {
                if (k.name.startsWith("<")) continue;
                expect({ key: `${CATALOG[o].path}.${k.name}`, set: objects.some((x) => x[k.name] !== undefined) }).toEqual({ key: `${CATALOG[o].path}.${k.name}`, set: true });
            }
        }
    });

    it.each(OBJECTS.filter((o) => o !== "edgePasswords"))("%s: an unknown key is refused naming exactly the catalog's keys", (o) => {
        const { raw, secrets } = everyKey();
        const target = objectsAt({ ...raw, ...secrets }, CATALOG[o].path)[0];
        target.bogus = "1";
        const issue = issuesOf(raw, secrets).find((i) => /\.bogus$/.test(i.key));
        expect(issue, CATALOG[o].path).toBeDefined();
        expect(issue!.expected).toMatch(new RegExp(`allowed keys are: ${keysOf(o).join(", ")}$`));
    });

    it("the program's top-level keys are the catalog's, secrets apart", () => {
        expect([...CONFIG_KEYS, ...SECRET_KEYS].sort()).toEqual(keysOf("top").sort());
        expect(SECRET_KEYS.sort()).toEqual(["cloudSshPrivateKey", "edgeOvhCredentials", "edgePasswords", "edgeSshPrivateKey", "proxmoxSshPrivateKey"]);
        const program = fs.readFileSync(`${__dirname}/../../../index.ts`, "utf8");
        expect(program).not.toMatch(/const (CONFIG|SECRET)_KEYS = \[/);
    });

    it("no validator keeps an allowed-key list of its own", () => {
        for (const file of ["stackConfig.ts", "edgeConfig.ts"]) {
            const text = fs.readFileSync(`${__dirname}/../../../components/config/${file}`, "utf8");
            expect({ file, lists: text.match(/_KEYS = \[/g) ?? [] }).toEqual({ file, lists: [] });
            expect({ file, literal: /r\.object\([^)]*\[/.test(text) }).toEqual({ file, literal: false });
        }
    });
});
