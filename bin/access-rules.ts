// The OVH API access rules each edge node's consumer key needs for ovh-ipmove, from the stack file
// alone: what to ask for when creating the key (POST /auth/credential, accessRules), before any
// deploy. The stack output edgeAccessRules says the same once the stack is up.
import * as path from "path";
import { parseEdges } from "../components/config/edgeConfig";
import { AccessRule, ipmoveAccessRules } from "../components/network/ipMove";
import { parseCommandLine, projectDir, UsageError } from "./cli";
import { loadFlagStackFile, loadProject, loadStackConfig } from "./plan/stackFiles";

export const HELP = `usage: ovh-failover access-rules <stack> [--json] [--stack-file <file>]

Prints, for each edge pair and node of the stack, the OVH API routes ovh-ipmove calls: the only
rules the node's consumer key needs. Reads the stack file only: no credentials, no network.

  --json               only JSON on stdout: { "<pair>": { "<node>": [{ "method", "path" }] } }
  --stack-file <file>  read the stack's config from this file instead of the project's
                       Pulumi.<stack>.yaml
  -h, --help           this help
`;

export type AccessRules = Record<string, Record<string, AccessRule[]>>;

/** The rules by pair and node; throws with every bad key of `edges` when the stack's edges do not parse. */
export function accessRulesOf(rawEdges: unknown): AccessRules {
    // The passwords and credentials are not this command's business (and never read here).
    const { edges, issues } = parseEdges(rawEdges, undefined);
    const own = issues.filter((i) => !i.key.startsWith("edgePasswords"));
    if (own.length > 0) throw new Error(own.map((i) => `${i.key}: ${JSON.stringify(i.value)}: expected ${i.expected}`).join("\n"));
    return Object.fromEntries(edges.map((e) => [e.name, Object.fromEntries(e.nodes.map((n) => [n.name, ipmoveAccessRules(n.move, e.failoverIp)]))]));
}

export async function main(argv: string[] = process.argv.slice(2)): Promise<void> {
    let stack: string;
    let json: boolean;
    let stackFile: string | undefined;
    try {
        const { values, positionals } = parseCommandLine(argv, { json: { type: "boolean" }, "stack-file": { type: "string" } }, { usage: HELP.split("\n")[0] });
        if (positionals.length !== 1) throw new UsageError(positionals.length > 1 ? `one stack at a time (got ${positionals.join(" and ")})` : HELP.split("\n")[0]);
        stack = positionals[0];
        json = values.json ?? false;
        stackFile = values["stack-file"];
    } catch (err) {
        process.stderr.write(`${(err as Error).message}\n`);
        process.exitCode = 2;
        return;
    }
    let rules: AccessRules;
    try {
        const dir = projectDir();
        const project = loadProject(dir);
        const config = stackFile ? loadFlagStackFile(project, path.resolve(stackFile)) : loadStackConfig(dir, project, stack);
        const text = config.get(`${project.name}:edges`)?.text;
        if (text === undefined) throw new Error(`stack ${stack} has no edge pairs (${project.name}:edges), so no edge node needs a consumer key; the rules of the stack's own OVH credentials are in docs/ovh-credentials.md`);
        rules = accessRulesOf(JSON.parse(text));
    } catch (err) {
        process.stderr.write(`error: ${(err as Error).message}\n`);
        process.exitCode = 2;
        return;
    }
    if (json) {
        process.stdout.write(`${JSON.stringify(rules, null, 2)}\n`);
        return;
    }
    for (const [pair, nodes] of Object.entries(rules)) {
        for (const [node, list] of Object.entries(nodes)) {
            process.stdout.write(`edge pair ${pair}, node ${node}:\n${list.map((r) => `  ${r.method.padEnd(6)} ${r.path}`).join("\n")}\n`);
        }
    }
}

if (require.main === module) void main();
