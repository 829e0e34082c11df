// check-gateways' --textfile, for node_exporter's textfile collector. Kept apart from the command so
// that the dispatcher can mark the check failed when it refuses to load the command (a stale
// build): a refusal that left the last run's file would keep serving its ovh_failover_gateway_up 1.
import * as fs from "fs";
import * as path from "path";
import { parseArgs } from "util";

/** A Prometheus label value, escaped as the exposition format wants it. */
export const labelValue = (v: string) => v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");

export const CHECK_OK_HELP = [
    "# HELP ovh_failover_gateway_check_ok Whether the check could run at all (SSH to the host, pct).",
    "# TYPE ovh_failover_gateway_check_ok gauge",
];

/**
 * The metrics of a run that was refused before any gateway was checked: the check failed, and no
 * gateway's verdict. endpoint="" keeps the series' label names those of a run that checked.
 */
export function renderRefusal(stack: string): string {
    return `${[...CHECK_OK_HELP, `ovh_failover_gateway_check_ok{stack="${labelValue(stack)}",endpoint=""} 0`].join("\n")}\n`;
}

/** Before any probe runs: the folder --textfile writes into is there and is a folder. */
export function checkTextfileFolder(textfile: string): void {
    const folder = path.dirname(path.resolve(textfile));
    const stat = fs.statSync(folder, { throwIfNoEntry: false });
    if (!stat?.isDirectory()) {
        throw new Error(`--textfile ${textfile}: the folder ${folder} ${stat ? "is not a folder" : "does not exist"}; give a file in node_exporter's --collector.textfile.directory`);
    }
}

/** Writes the metrics whole (a .tmp file renamed, which the collector's *.prom does not match), so the collector never reads half a file. */
export function writeTextfile(textfile: string, metrics: string): void {
    try {
        fs.writeFileSync(`${textfile}.tmp`, metrics);
        fs.renameSync(`${textfile}.tmp`, textfile);
    } catch (err) {
        throw new Error(`--textfile ${textfile}: cannot be written (${(err as Error).message})`, { cause: err });
    }
}

/**
 * The stack and --textfile of a command line that may be wrong (an unknown option, two stacks):
 * read leniently, since a refusal of that very command line must still mark the textfile failed.
 */
export function refusalTarget(argv: string[]): { stack: string; textfile?: string } {
    const { values, positionals } = parseArgs({ args: argv, options: { textfile: { type: "string" } }, allowPositionals: true, strict: false });
    // Not "--nope" from `--textfile --nope`: strict parsing refuses that as a value, so must this.
    const textfile = typeof values.textfile === "string" && values.textfile !== "" && !values.textfile.startsWith("-") ? values.textfile : undefined;
    return { stack: positionals.length === 1 ? positionals[0] : "", textfile };
}

/**
 * After a refusal of check-gateways: rewrites its --textfile as a failed check, or, when that cannot
 * be written, removes it. Returns what went wrong when the old file is still there.
 */
export function markRefused(argv: string[]): string | undefined {
    const { stack, textfile } = refusalTarget(argv);
    if (textfile === undefined) return undefined;
    try {
        writeTextfile(textfile, renderRefusal(stack));
        return undefined;
    } catch (err) {
        try {
            fs.rmSync(textfile, { force: true });
            return undefined;
        } catch (rmErr) {
            // Under a path that is not a folder there is no old file either.
            if (!fs.existsSync(textfile)) return undefined;
            return `${(err as Error).message}, nor removed (${(rmErr as Error).message}): it still holds the last run's metrics`;
        }
    }
}
