// The whole configuration the program reads, checked at once: endpoints, edge pairs, and what
// must hold across them. Pure: index.ts hands it the raw values and the secrets (never printed).
import { ConfigError, ConfigIssue, nearestKey } from "../shared/validate";
import { crossCheck, EdgeConfig, parseEdges } from "./edgeConfig";
import { emptyStack, parseStackConfig, RawConfig, StackSpec } from "./stackConfig";

export interface ProgramConfig {
    stack: StackSpec;
    edges: EdgeConfig[];
}

export interface ConfigSecrets {
    edgePasswords?: unknown;
    edgeOvhCredentials?: unknown;
}

/** Every problem with the configuration, or the parsed values; `extra` are issues found elsewhere. */
export function parseProgramConfig(raw: RawConfig, secrets: ConfigSecrets, extra: ConfigIssue[] = []): ProgramConfig {
    const issues: ConfigIssue[] = [...extra];
    let stack: StackSpec = emptyStack();
    // Edge pairs are optional; a stack of only edges has no endpoints.
    if (raw.endpoints !== undefined || raw.servers !== undefined || raw.ipBlocks !== undefined || raw.vracks !== undefined || raw.edges === undefined) {
        try {
            stack = parseStackConfig(raw);
        } catch (err) {
            if (!(err instanceof ConfigError)) throw err;
            issues.push(...err.issues);
        }
    }
    const edges = parseEdges(raw.edges, secrets.edgePasswords, raw.edges === undefined ? undefined : secrets.edgeOvhCredentials ?? {});
    issues.push(...edges.issues, ...crossCheck(stack, edges.edges));
    if (issues.length > 0) throw new ConfigError(issues);
    return { stack, edges: edges.edges };
}

/** The namespaces besides the project's that the program's config may use: its providers' and Pulumi's own. */
export const OTHER_NAMESPACES = ["ovh", "proxmoxve", "command", "pulumi"];

/**
 * Keys in a namespace neither the project's nor a provider's: the program never reads them, so a
 * typo there (`ovh-failovr:endpoints`) would otherwise surface only as the key it meant being missing.
 */
export function unknownNamespaces(fullKeys: readonly string[], project: string): ConfigIssue[] {
    const known = [project, ...OTHER_NAMESPACES];
    return fullKeys.flatMap((full) => {
        const at = full.indexOf(":");
        const namespace = full.slice(0, at);
        if (at < 0 || known.includes(namespace)) return [];
        const near = nearestKey(namespace, known);
        return [{
            key: full,
            value: "[not shown]",
            expected: `no such namespace ${namespace}${near ? ` (did you mean ${near}:${full.slice(at + 1)}?)` : ""}; the namespaces read here are ${project} (the project's) and ${OTHER_NAMESPACES.join(", ")}`,
        }];
    });
}
