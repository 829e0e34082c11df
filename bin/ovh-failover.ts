#!/usr/bin/env node
// The command line: `ovh-failover <command> …`, run in a Pulumi project (the nearest Pulumi.yaml
// from the working directory). Each command is a module of bin/, loaded only when asked for.
import * as fs from "fs";
import * as path from "path";
import { assertFreshBuild } from "./freshBuild";
import { markRefused } from "./textfile";

interface CommandModule {
    main(argv: string[]): Promise<void>;
    HELP?: string;
}

interface Command {
    summary: string;
    help: string;
    load(): CommandModule;
}

// require, not import(): compiled to CommonJS, a dynamic import() would resolve as an ES module.
/* eslint-disable @typescript-eslint/no-require-imports */

const COMMANDS: Record<string, Command> = {
    plan: {
        summary: "what the stack declares, or what a change would do: offline, no credentials",
        help: `usage: ovh-failover plan <stack> [options]

Evaluates the project's program under Pulumi's mock runtime with the stack's config (the stack file,
secure values never decrypted) and prints each resource and what would happen to it. No Pulumi CLI,
no credentials, no network. Exit 0, or 1 (--expect-no-changes found changes), or 2 (an error: a
bad value, with its key).

  --set <key>=<value>       change a config value first (key in pulumi config set --path syntax,
                            e.g. endpoints.proxy.ip=203.0.113.20); repeatable; the plan shows the
                            difference
  --against <git-ref>       compare with the stack file and program at this commit (a branch, a
                            tag, HEAD~1, origin/main)
  --expect-no-changes       exit 1 when anything would change (with --against or --set)
  --json                    only JSON on stdout, shaped as pulumi preview --json
  --diff                    each resource's properties too, old => new, as pulumi preview --diff
                            (the plan's own notes fold a long script to its first line)
  --diff-full               --diff, with every script under Offline plan: in full
  --show-same               list unchanged resources too when comparing
  --show-replacement-steps  list each replacement as its create and delete steps, in the
                            engine's order
  --stack-file <file>       read the stack's config from this file instead of the project's
                            Pulumi.<stack>.yaml
  --program <file>          evaluate this program instead of the project's main
  -h, --help                this help
`,
        load: () => require("./plan") as CommandModule,
    },
    adopt: {
        summary: "what already exists at OVH and on the Proxmox hosts, as ids for Pulumi to import",
        help: `usage: ovh-failover adopt <stack> (--state <file> | --no-state) [options]

Reads, for each endpoint of the stack, what exists at OVH (routing, reverse, virtual MAC, DNS
records) and on the Proxmox hosts (the container NIC), prints a table, and writes
<stackConfigDir>/<stack>.adopt.yaml with the ids the program imports. Needs the OVH API
credentials in the environment (OVH_ENDPOINT, OVH_APPLICATION_KEY, OVH_APPLICATION_SECRET,
OVH_CONSUMER_KEY) and SSH to the hosts. Writes nothing while a conflict is left (exit 1).

  --state <file>       the stack's state (pulumi stack export > file): what it holds is not imported
  --no-state           the stack has no state (a first adoption, or a lost state)
  --output <file>      write the adopt file here instead
  --stack-file <file>  read the stack's config from this file instead of Pulumi.<stack>.yaml
  --skip-hosts         do not read the NICs over SSH
  -h, --help           this help
`,
        load: () => require("./adopt") as CommandModule,
    },
    "change-ip": {
        summary: "an IP change in the order resolvers follow at once: TTL lowered, waited out, change, TTL restored",
        help: `usage: ovh-failover change-ip <stack> --set <key>=<value> [--set …] [options]

Runs an IP change through the Pulumi CLI (its Automation API, in this project) so that no resolver
keeps the old address: it lowers the TTL of the address records the change reaches
(endpoints.<e>.lowerTtl, then pulumi up), waits one old TTL from when the stack applied them (the
time is in the stack's state), makes the change (the --set values, then pulumi up, which proves
each zone's name servers serve the new records) and restores the TTL (lowerTtl removed, then
pulumi up). The stack file keeps the change: commit it. Stopped anywhere, the same command
resumes where the stack stands. Needs what pulumi up needs (credentials, the Proxmox hosts).

  --set <key>=<value>  the change, as pulumi config set --path takes it
                       (endpoints.proxy.ip=203.0.113.20); repeatable
  --lower-ttl <s>      the TTL to lower to (default 60, OVH's lowest; below the records' TTL)
  --dry-run            print the schedule; change nothing
  -h, --help           this help
`,
        load: () => require("./change-ip") as CommandModule,
    },
    "find-ip": {
        summary: "every place an address still appears (DNS of every zone, reverse, routing, virtual MACs, containers), managed by the stack or not",
        help: `usage: ovh-failover find-ip <address> [--stack <stack>] [options]

Lists every place the address (IPv4 or IPv6) still appears: the records of every zone of the OVH
account (A or AAAA targets; TXT and SPF text, an SPF ip4:/ip6: block that holds it included), its
reverse and where OVH routes it, the virtual MACs of the account's servers, and with --stack the
container configs of the stack's Proxmox hosts (pct config of every container pct list shows,
over SSH). With --stack each place says whether the stack manages it (the key that declares it)
or not. Reads only. Needs the OVH variables (OVH_ENDPOINT, OVH_APPLICATION_KEY,
OVH_APPLICATION_SECRET, OVH_CONSUMER_KEY), and SSH to the hosts with --stack. Exit 1 when
something the stack does not manage holds the address (without --stack: when anything does), 2 on
an error or a host that could not be read, else 0.

  --stack <stack>      the stack whose hosts are read and whose declarations are matched
  --stack-file <file>  read the stack's config from this file instead of Pulumi.<stack>.yaml
  -h, --help           this help
`,
        load: () => require("./find-ip") as CommandModule,
    },
    drift: {
        summary: "compare the container NICs with what the stack sets (pulumi refresh cannot see them)",
        help: `usage: ovh-failover drift <stack> [--outputs <file>]

Reads \`pct config\` of each endpoint's container over SSH to its Proxmox host and compares the NIC
(bridge, MAC, IP, gateways, the options the stack manages) with the stack: a remote command has no
read, so \`pulumi refresh\` cannot see a NIC changed by hand. Prints OK, DRIFT or UNCHECKED per
endpoint; exit 0 (no drift), 1 (drift) or 2 (a host could not be read). Needs SSH to the hosts,
no OVH credentials.

  --outputs <file>  the stack's outputs (pulumi stack output --json --show-secrets=false > file):
                    the MAC OVH assigned and the gateway in use, which the stack file alone does
                    not know
  -h, --help        this help
`,
        load: () => require("./drift") as CommandModule,
    },
    "check-gateways": {
        summary: "probe each container's gateway from inside it, as metrics",
        help: `usage: ovh-failover check-gateways <stack> [--textfile <file.prom>]

Runs the gateway probe inside each endpoint's container over SSH to its Proxmox host and prints
Prometheus metrics (ovh_failover_gateway_up, ovh_failover_gateway_check_ok). Exit 0 (all up),
1 (a gateway is dead) or 2 (a check could not run).

  --textfile <file.prom>  also write the metrics to this file, atomically (node_exporter's
                          textfile collector); a refused run writes check_ok 0 there and
                          no gateway_up, or removes the file
  -h, --help              this help
`,
        load: () => require("./check-gateways") as CommandModule,
    },
    "access-rules": {
        summary: "the OVH API rules each edge node's consumer key needs, from the stack file",
        help: "",
        load: () => require("./access-rules") as CommandModule,
    },
};

/* eslint-enable @typescript-eslint/no-require-imports */

function usage(): string {
    const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
    return `usage: ovh-failover <command> [options]     (ovh-failover <command> --help for its options)

${Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`).join("\n")}

  --version  the package's version
`;
}

function packageRoot(): string {
    let dir = __dirname;
    while (!fs.existsSync(path.join(dir, "package.json"))) dir = path.dirname(dir);
    return dir;
}

function version(): string {
    return (JSON.parse(fs.readFileSync(path.join(packageRoot(), "package.json"), "utf8")) as { version: string }).version;
}

export async function main(argv: string[]): Promise<void> {
    const [name, ...rest] = argv;
    if (name === undefined || name === "-h" || name === "--help" || name === "help") {
        process.stdout.write(usage());
        if (name === undefined) process.exitCode = 2;
        return;
    }
    if (name === "--version" || name === "-v") {
        process.stdout.write(`${version()}\n`);
        return;
    }
    const refuse = (message: string) => {
        process.stderr.write(message);
        // The command's module never runs here: its --textfile would keep the last run's gateway_up.
        const left = name === "check-gateways" ? markRefused(rest) : undefined;
        if (left !== undefined) process.stderr.write(`error: ${left}\n`);
        process.exitCode = 2;
    };
    try {
        // In a checkout, a command compiled before the last edit would run yesterday's code.
        assertFreshBuild(__filename, packageRoot());
    } catch (err) {
        refuse(`error: ${(err as Error).message}\n`);
        return;
    }
    const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
    if (!command) {
        // Loaded here, not at the top: the dispatcher must load from dist/bin alone, to refuse a
        // stale or half-copied build with its own message.
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const { nearestKey } = require("../components/shared/validate") as typeof import("../components/shared/validate");
        const near = nearestKey(name, Object.keys(COMMANDS));
        process.stderr.write(`unknown command ${name}${near ? ` (did you mean ${near}?)` : ""}\n${usage()}`);
        process.exitCode = 2;
        return;
    }
    let module: CommandModule;
    try {
        module = command.load();
    } catch (err) {
        // A build with a file missing (an interrupted npm run build, a broken install).
        refuse(`error: ${name} cannot be loaded: ${(err as Error).message}\n`);
        return;
    }
    if (rest.includes("--help") || rest.includes("-h")) {
        process.stdout.write(command.help || module.HELP || "");
        return;
    }
    await module.main(rest);
}

if (require.main === module) void main(process.argv.slice(2));
