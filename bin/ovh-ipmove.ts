#!/usr/bin/env tsx
// ovh-ipmove: routes a failover IP to this node through the OVH API, run by ifstated (OpenBSD) or
// keepalived (Linux) when the node is promoted. The successor of seed 001's
//
//   /usr/local/bin/ipmoveOvh -project t18s -ip 146.59.143.231 -instance bi-edge-sbg-1
//
// with the same flags (GNU --flag and --flag=value work too), -server for a dedicated server, and
// bounded waits. One line per step on stdout, `ovh-ipmove: <ip>: ...`, for `2>&1 | logger`; the
// error on stderr; the exit codes of components/network/ipMove.ts (EXIT_CODES_HELP). Credentials from the
// environment as for the OVH Pulumi provider (OVH_ENDPOINT, OVH_APPLICATION_KEY,
// OVH_APPLICATION_SECRET, OVH_CONSUMER_KEY, or OVH_CLIENT_ID and OVH_CLIENT_SECRET), or from
// -config <file> (KEY=VALUE lines; the OVH_* variables then come from that file alone).
import * as fs from "fs";
import { version as VERSION } from "../package.json";
import { parseCommandLine, ParsedCommandLine, UsageError } from "./cli";
import {
    EXIT_CODES_HELP,
    EXIT_OK,
    EXIT_TIMEOUT,
    EXIT_USAGE,
    exitCodeOf,
    type MoveTarget,
    moveFailoverIp,
    MoveConfigError,
    parseIpBlock,
} from "../components/network/ipMove";
import { DEFAULT_RETRY, OvhApi, ovhClientOptionsFromEnv, type RetryPolicy } from "../components/network/ovhApiClient";

export const USAGE = [
    "usage: ovh-ipmove -ip <address>[/<prefix>] -project <project id> -instance <instance name or id> [options]",
    "       ovh-ipmove -ip <address>[/<prefix>] -server <dedicated server service name> [options]",
    "",
    "Routes the failover IP to this node: a Public Cloud instance (POST .../ip/failover/{id}/attach)",
    "or a dedicated server (POST /ip/{block}/move), then waits until OVH has done it.",
    "Nothing is sent when the IP is already there.",
    "",
    "options (-flag value, --flag value and --flag=value are the same):",
    "  -timeout <seconds>  give up waiting after this long (default 120)",
    "  -poll <seconds>     delay between two reads of the operation (default 2)",
    "  -config <file>      read the OVH_* settings from this file (KEY=VALUE lines) instead of the environment",
    "  -yield-to <a,b>     leave the IP where it is when it is routed to one of these (instances or",
    "                      servers): a periodic re-assertion yields to the nodes of higher priority",
    "  -version            print the version and exit",
    "  -h, -help           this text",
    "",
    "credentials: OVH_ENDPOINT (ovh-eu, ovh-ca, ... or an https:// URL), OVH_APPLICATION_KEY,",
    "OVH_APPLICATION_SECRET and OVH_CONSUMER_KEY, or OVH_CLIENT_ID and OVH_CLIENT_SECRET.",
    "",
    "exit codes:",
    ...EXIT_CODES_HELP.map((l) => `  ${l}`),
].join("\n");

/** Bad flags: exit 2 with the usage text. */
export { UsageError };

export interface IpmoveArgs {
    ip: string;
    target: MoveTarget;
    timeoutSeconds: number;
    pollSeconds: number;
    configFile?: string;
    yieldTo: string[];
}

const OPTIONS = {
    ip: { type: "string", multiple: true },
    project: { type: "string", multiple: true },
    instance: { type: "string", multiple: true },
    server: { type: "string", multiple: true },
    timeout: { type: "string", multiple: true },
    poll: { type: "string", multiple: true },
    config: { type: "string", multiple: true },
    "yield-to": { type: "string", multiple: true },
    help: { type: "boolean", short: "h" },
    version: { type: "boolean" },
} as const;
type ValueFlag = Exclude<keyof typeof OPTIONS, "help" | "version">;

function positiveSeconds(flag: string, raw: string): number {
    const n = /^\d+(\.\d+)?$/.test(raw) ? Number(raw) : NaN;
    if (!(n > 0)) throw new UsageError(`-${flag} takes a number of seconds greater than 0, not ${JSON.stringify(raw)}`);
    return n;
}

/**
 * seed 001's tool took Go-style flags (-ip, -project): each one-dash word is read as its two-dash
 * form, which util.parseArgs understands; -h stays the short form of -help.
 */
function gnuStyle(argv: string[]): { args: string[]; asWritten: Map<string, string> } {
    const asWritten = new Map<string, string>();
    const args = argv.map((arg) => {
        const m = /^-([a-z][a-z-]+)(=.*)?$/s.exec(arg);
        if (!m) return arg;
        asWritten.set(`--${m[1]}`, `-${m[1]}`);
        return `--${m[1]}${m[2] ?? ""}`;
    });
    return { args, asWritten };
}

/** Parses the arguments (without node and the script); undefined for -h, "version" for -version. Throws UsageError. */
export function parseArgs(argv: string[]): IpmoveArgs | "version" | undefined {
    const { args, asWritten } = gnuStyle(argv);
    let parsed: ParsedCommandLine<typeof OPTIONS>;
    try {
        parsed = parseCommandLine(args, OPTIONS, { spell: (name) => `-${name}` });
    } catch (err) {
        if (!(err instanceof UsageError)) throw err;
        throw new UsageError(err.message.replace(/--?[a-z]+$/, (o) => asWritten.get(o) ?? o));
    }
    if (parsed.values.help) return undefined;
    if (parsed.values.version) return "version";
    if (parsed.positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(parsed.positionals[0])}`);
    const values: Partial<Record<ValueFlag, string>> = {};
    for (const flag of Object.keys(OPTIONS) as (keyof typeof OPTIONS)[]) {
        if (flag === "help" || flag === "version") continue;
        const given = parsed.values[flag];
        if (given === undefined) continue;
        if (given.length > 1) throw new UsageError(`-${flag} is given twice`);
        if (given[0] === "") throw new UsageError(`-${flag} needs a value`);
        values[flag] = given[0];
    }
    if (!values.ip) throw new UsageError("-ip is required");
    try {
        parseIpBlock(values.ip);
    } catch (err) {
        throw new UsageError(`-ip: ${(err as Error).message}`);
    }
    const cloud = values.project !== undefined || values.instance !== undefined;
    let target: MoveTarget;
    if (cloud && values.server !== undefined) {
        throw new UsageError("give either -project and -instance (Public Cloud) or -server (dedicated server), not both");
    } else if (cloud) {
        if (!values.project || !values.instance) throw new UsageError("a Public Cloud move needs both -project and -instance");
        target = { kind: "cloud", project: values.project, instance: values.instance };
    } else if (values.server) {
        target = { kind: "dedicated", serviceName: values.server };
    } else {
        throw new UsageError("say where the IP goes: -project and -instance (Public Cloud) or -server (dedicated server)");
    }
    const timeoutSeconds = values.timeout === undefined ? 120 : positiveSeconds("timeout", values.timeout);
    const pollSeconds = values.poll === undefined ? 2 : positiveSeconds("poll", values.poll);
    const yieldTo = values["yield-to"] === undefined ? [] : values["yield-to"].split(",");
    if (yieldTo.some((y) => !/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(y))) throw new UsageError(`-yield-to takes instance or server names separated by commas, not ${JSON.stringify(values["yield-to"])}`);
    return { ip: values.ip, target, timeoutSeconds, pollSeconds, configFile: values.config, yieldTo };
}

/**
 * The environment with the OVH_* settings of a config file in place of the environment's own:
 * KEY=VALUE lines (an `export ` prefix and quotes around the value are allowed), # comments.
 */
export function environmentWithConfig(env: NodeJS.ProcessEnv, file: string): NodeJS.ProcessEnv {
    let text: string;
    try {
        text = fs.readFileSync(file, "utf8");
    } catch (err) {
        throw new MoveConfigError(`cannot read -config ${file}: ${(err as Error).message}`);
    }
    const merged: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(env).filter(([k]) => !k.startsWith("OVH_")));
    text.split(/\r?\n/).forEach((line, i) => {
        if (/^\s*(#.*)?$/.test(line)) return;
        const m = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/.exec(line);
        if (!m) throw new MoveConfigError(`${file}:${i + 1}: not a KEY=VALUE line`);
        const quoted = /^(["'])(.*)\1$/.exec(m[2]);
        merged[m[1]] = quoted ? quoted[2] : m[2];
    });
    return merged;
}

export interface CliIo {
    out(line: string): void;
    err(line: string): void;
    /** Retries of the OVH client (DEFAULT_RETRY unless given; tests shorten the delays). */
    retry?: RetryPolicy;
}

const processIo: CliIo = {
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
};

/** Runs ovh-ipmove with these arguments (without node and the script); resolves to the exit code. */
export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env, io: CliIo = processIo): Promise<number> {
    let args: IpmoveArgs | "version" | undefined;
    try {
        args = parseArgs(argv);
    } catch (err) {
        if (!(err instanceof UsageError)) throw err;
        io.err(`ovh-ipmove: ${err.message}`);
        io.err(USAGE);
        return EXIT_USAGE;
    }
    if (args === "version") {
        // What the deploy checks on a node before it installs this file.
        io.out(`ovh-ipmove ${VERSION} (Node.js ${process.versions.node})`);
        return EXIT_OK;
    }
    if (!args) {
        io.out(USAGE);
        return EXIT_OK;
    }
    const prefix = `ovh-ipmove: ${args.ip}: `;
    const log = (line: string) => io.out(prefix + line);

    let api: OvhApi;
    try {
        const effective = args.configFile ? environmentWithConfig(env, args.configFile) : env;
        api = new OvhApi(ovhClientOptionsFromEnv(effective), io.retry ?? DEFAULT_RETRY, log);
    } catch (err) {
        io.err(`${prefix}error: ${err instanceof Error ? err.message : String(err)}`);
        return EXIT_USAGE;
    }

    try {
        await moveFailoverIp(api, args.target, args.ip, {
            timeoutMs: args.timeoutSeconds * 1000,
            pollIntervalMs: args.pollSeconds * 1000,
            log,
            yieldTo: args.yieldTo,
        });
        return EXIT_OK;
    } catch (err) {
        const code = exitCodeOf(err);
        io.err(`${prefix}${code === EXIT_TIMEOUT ? "timeout" : "error"}: ${err instanceof Error ? err.message : String(err)}`);
        return code;
    }
}

if (require.main === module) {
    void main(process.argv.slice(2), process.env).then((code) => {
        process.exitCode = code;
    });
}
