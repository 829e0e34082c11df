// Writes docs/stack-keys.md from the key catalog (components/config/keys.ts), the lists the
// validator accepts: `npm run docs:keys`. A test fails when the committed file differs.
import * as fs from "fs";
import * as path from "path";
import { CATALOG, KeySpec, ObjectSpec, Section, SECTIONS } from "../components/config/keys";

export const KEYS_DOC = path.join(__dirname, "stack-keys.md");

const INTRO: Record<Section, string> = {
    "top-level": "Every key lives in the project's namespace: `ovh-failover:<key>` in the stack file, or the bare key with `pulumi config set`.",
    servers: "The dedicated servers that endpoints are routed to, and SSH to their Proxmox hosts.",
    blocks: "Additional IP blocks routed as a whole, to a server or into a vRack, and the vRacks. An endpoint whose ip lies in a block uses it; a lone IP is its own /32 and needs no entry.",
    endpoints: "One public service IP each, and what follows from it: the routing, the virtual MAC, the container NIC, the DNS records. A zone's name holds dots, so a key writes it in brackets: `records[\"example.org\"]`.",
    edges: "CARP/VRRP edge pairs: the nodes own the IP's routing at run time.",
    secrets: "Set with `pulumi config set --secret --path`; the program refuses them in plain text and never prints them.",
};

const EXAMPLE: Record<Section, string[]> = {
    "top-level": ["pulumi config set dnsTtl 300"],
    servers: [
        "pulumi config set --path servers.ovh1.serviceName ns3012345.ip-198-51-100.eu",
        "pulumi config set --path servers.ovh1.proxmox.hostKey 'ssh-ed25519 AAAAC3Nza…'",
    ],
    blocks: [
        "pulumi config set --path ipBlocks.web.block 203.0.113.8/29",
        "pulumi config set --path ipBlocks.web.server ovh1",
    ],
    endpoints: [
        "pulumi config set --path endpoints.proxy.ip 192.0.2.10",
        "pulumi config set --path 'endpoints.proxy.records[\"example.org\"].a[0]' proxy1",
    ],
    edges: [
        "pulumi config set --path edges.edge.failoverIp 203.0.113.231",
        "pulumi config set --path 'edges.edge.nodes[0].ssh.host' 198.51.100.41",
    ],
    secrets: [
        "pulumi config set --secret --path edgePasswords.edge <password>",
        "pulumi config set --secret --path edgeOvhCredentials.edge.consumerKey <key>",
        "pulumi config set --secret proxmoxSshPrivateKey < ~/.ssh/id_ed25519",
    ],
};

const TITLE: Record<Section, string> = { "top-level": "Top-level keys", servers: "servers", blocks: "ipBlocks and vracks", endpoints: "endpoints", edges: "edges", secrets: "Secrets" };

/** A table cell: pipes escaped, so that no value breaks the table. */
const cell = (text: string) => text.replace(/\|/g, "\\|");

function keyOf(object: ObjectSpec, key: KeySpec): string {
    return object.path === "" ? key.name : `${object.path}.${key.name}`;
}

function defaultOf(key: KeySpec): string {
    const marks = [key.required ? "**required**" : undefined, key.secret ? "secret" : undefined].filter(Boolean);
    // A value is written as code; a default that is a description (the first A name) is not.
    const value = key.default === undefined ? undefined : /^[\w./:-]+$/.test(key.default) ? `\`${key.default}\`` : key.default;
    return [value, ...marks].filter(Boolean).join(", ") || "—";
}

function renderObject(object: ObjectSpec): string {
    const heading = object.path === "" ? "" : `### \`${object.path}\`\n\n`;
    const rows = object.keys.map((key) => `| \`${cell(keyOf(object, key))}\` | ${cell(key.expected)} | ${cell(defaultOf(key))} | ${cell(key.description)} |`);
    return `${heading}${object.summary}\n\n| key | expected | default | description |\n| --- | --- | --- | --- |\n${rows.join("\n")}\n`;
}

/** The whole reference, as docs/stack-keys.md holds it. */
export function renderKeysDoc(): string {
    const objects: ObjectSpec[] = Object.values(CATALOG);
    const sections = SECTIONS.map((section) => {
        const body = objects.filter((o) => o.section === section).map(renderObject).join("\n");
        const example = EXAMPLE[section].map((l) => `${l}\n`).join("");
        return `## ${TITLE[section]}\n\n${INTRO[section]}\n\n\`\`\`sh\n${example}\`\`\`\n\n${body}`;
    });
    return [
        "# Stack keys",
        "",
        "<!-- Written by npm run docs:keys from components/config/keys.ts, the lists the validator accepts: do not edit by hand. -->",
        "",
        "Every key a stack file may hold, written as `pulumi config set --path` takes it (`<server>`, `<endpoint>`, `<pair>` and `<zone>` are names you choose, `[<i>]` is a list index).",
        "Every bad value is refused before any resource is declared, with its key, the value and what is expected; an unknown key is refused with the nearest known one.",
        "",
        sections.join("\n"),
    ].join("\n");
}

if (require.main === module) {
    fs.writeFileSync(KEYS_DOC, renderKeysDoc());
    process.stdout.write(`wrote ${path.relative(process.cwd(), KEYS_DOC)}\n`);
}
