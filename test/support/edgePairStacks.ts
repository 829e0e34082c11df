// The edge-pair stacks the test:providers tier runs through their lifecycle, one per flavour, each
// with three nodes (a pair needs two, so that one can leave it): the bundled OpenBSD stack
// (stacks/Pulumi.edge-pair.yaml) with a third node, and a keepalived pair of Debian nodes. Host
// keys, the SSH key and the secrets are the caller's (the lab's); `placeholderKeys` gives the
// text with fixed placeholders, as a recording holds it.
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { REPO } from "./engine";

export interface EdgeStackSecrets {
    password: string;
    applicationKey: string;
    applicationSecret: string;
    consumerKey: string;
    /** The private key the nodes accept (edgeSshPrivateKey). */
    sshPrivateKey: string;
}

export interface EdgeStackNode {
    name: string;
    address: string;
}

/** A secure value in the bundled stacks' placeholder form: its text, base64, after the last colon. */
const secure = (text: string) => ({ secure: `v1:bGFi:${Buffer.from(text).toString("base64")}` });

export const PLACEHOLDER_SECRETS: EdgeStackSecrets = {
    password: "place-pw",
    applicationKey: "placeholder-application-key",
    applicationSecret: "placeholder-application-secret",
    consumerKey: "placeholder-consumer-key",
    sshPrivateKey: "placeholder-not-a-real-key",
};

/** The bundled OpenBSD pair with a third node, edge-sbg-3 (the lowest priority), at 198.51.100.43. */
export const OPENBSD_NODES: EdgeStackNode[] = [
    { name: "edge-sbg-1", address: "198.51.100.41" },
    { name: "edge-sbg-2", address: "198.51.100.42" },
    { name: "edge-sbg-3", address: "198.51.100.43" },
];

export function openbsdEdgeStack(hostKeys: Record<string, string>, s: EdgeStackSecrets): string {
    const doc = YAML.parseDocument(fs.readFileSync(path.join(REPO, "stacks", "Pulumi.edge-pair.yaml"), "utf8"));
    const nodes = ["config", "ovh-failover:edges", "edge", "nodes"];
    const third = (doc.getIn([...nodes, 1]) as YAML.YAMLMap).toJSON() as Record<string, unknown>;
    doc.addIn(nodes, doc.createNode({ ...third, name: "edge-sbg-3", advskew: 100, ssh: { host: OPENBSD_NODES[2].address }, move: { ...(third.move as object), instance: "edge-sbg-3" } }));
    OPENBSD_NODES.forEach((n, i) => {
        if (doc.getIn([...nodes, i, "ssh", "host"]) !== n.address) throw new Error(`stacks/Pulumi.edge-pair.yaml: node ${i} is no longer at ${n.address}`);
        doc.setIn([...nodes, i, "ssh", "hostKey"], hostKeys[n.name]);
    });
    doc.setIn(["config", "ovh-failover:edgePasswords", "edge"], secure(s.password));
    for (const k of ["applicationKey", "applicationSecret", "consumerKey"] as const) doc.setIn(["config", "ovh-failover:edgeOvhCredentials", "edge", k], secure(s[k]));
    doc.setIn(["config", "ovh-failover:edgeSshPrivateKey"], secure(s.sshPrivateKey));
    return doc.toString({ lineWidth: 0 });
}

export const KEEPALIVED_NODES: EdgeStackNode[] = [
    { name: "kad-1", address: "198.51.100.61" },
    { name: "kad-2", address: "198.51.100.62" },
    { name: "kad-3", address: "198.51.100.63" },
];

/** Three Debian nodes on dedicated servers, VRRP with unicast peers on eth2. */
export function keepalivedEdgeStack(hostKeys: Record<string, string>, s: EdgeStackSecrets): string {
    const node = (n: EdgeStackNode, i: number) => ({
        name: n.name,
        advskew: [1, 50, 100][i],
        publicInterface: "eth0",
        privateInterface: "eth1",
        privateAddress: `10.27.0.${11 + i}`,
        ssh: { host: n.address, hostKey: hostKeys[n.name] },
        move: { server: `ns30${i + 1}${i + 1}${i + 1}${i + 1}${i + 1}.ip-198-51-100.eu` },
    });
    const doc = new YAML.Document({
        config: {
            "ovh-failover:edges": {
                kad: {
                    flavour: "keepalived",
                    failoverIp: "203.0.113.242",
                    group: { vhid: 3, address: "10.27.0.10", prefixLength: 16, carpdev: "eth2" },
                    health: { pingTarget: "192.0.2.53", intervalSeconds: 5 },
                    nodes: KEEPALIVED_NODES.map(node),
                },
            },
            "ovh-failover:edgePasswords": { kad: secure(s.password) },
            "ovh-failover:edgeOvhCredentials": {
                kad: { endpoint: "ovh-eu", applicationKey: secure(s.applicationKey), applicationSecret: secure(s.applicationSecret), consumerKey: secure(s.consumerKey) },
            },
            "ovh-failover:edgeSshPrivateKey": secure(s.sshPrivateKey),
        },
    });
    doc.commentBefore = " A keepalived edge pair of three Debian nodes (test/support/edgePairStacks.ts), for the test:providers tier.";
    return doc.toString({ lineWidth: 0 });
}

/** The stack text with fixed placeholders for the lab's host keys and the secrets. */
export function placeholderKeys(stack: (hostKeys: Record<string, string>, s: EdgeStackSecrets) => string, nodes: EdgeStackNode[]): string {
    return stack(Object.fromEntries(nodes.map((n) => [n.name, "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPlaceholderPlaceholderPlaceholderPlace"])), PLACEHOLDER_SECRETS);
}
