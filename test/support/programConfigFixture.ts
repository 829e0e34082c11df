// One stack with an endpoint and an edge pair (the bundled reverse-proxy and edge-pair stacks
// together), as the program reads it with its secrets given plain, and the issues an edit of it
// gets from the validator: what the config tests start from.
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { parseProgramConfig } from "../../components/config/programConfig";
import { RawConfig } from "../../components/config/stackConfig";
import { ConfigError, ConfigIssue } from "../../components/shared/validate";

const root = path.resolve(__dirname, "../..");

export function fullConfig(): { raw: RawConfig; secrets: { edgePasswords: Record<string, unknown>; edgeOvhCredentials: Record<string, unknown> } } {
    const read = (stack: string) => (YAML.parse(fs.readFileSync(path.join(root, "stacks", `Pulumi.${stack}.yaml`), "utf8")) as { config: Record<string, unknown> }).config;
    const all = { ...read("reverse-proxy"), ...read("edge-pair") };
    const raw: RawConfig = {};
    for (const key of ["dnsTtl", "protectIps", "servers", "endpoints", "edges"]) {
        if (all[`ovh-failover:${key}`] !== undefined) raw[key] = structuredClone(all[`ovh-failover:${key}`]);
    }
    return {
        raw,
        secrets: {
            edgePasswords: { edge: "Pass_w-8" },
            edgeOvhCredentials: { edge: { endpoint: "ovh-eu", applicationKey: "ak", applicationSecret: "as", consumerKey: "ck" } },
        },
    };
}

/** The validator's issues for the full config after an edit; none when it parses. */
export function issuesOf(edit: (raw: any, secrets: any) => void): ConfigIssue[] { // eslint-disable-line @typescript-eslint/no-explicit-any
    const { raw, secrets } = fullConfig();
    edit(raw, secrets);
    try {
        parseProgramConfig(raw, secrets);
        return [];
    } catch (err) {
        if (err instanceof ConfigError) return err.issues;
        throw err;
    }
}
