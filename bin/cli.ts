// Argument parsing for the command-line tools: Node's own util.parseArgs, with the tools' own
// messages. A usage error is a UsageError; each tool prints it with its usage line and exits 2.
import * as fs from "fs";
import * as path from "path";
import { parseArgs, type ParseArgsConfig } from "util";

export class UsageError extends Error {}

type OptionSpecs = NonNullable<ParseArgsConfig["options"]>;

/** The values and positionals util.parseArgs returns for these options (strict, positionals allowed). */
export type ParsedCommandLine<O extends OptionSpecs> = ReturnType<typeof parseArgs<{ args: string[]; options: O; allowPositionals: true; strict: true }>>;

export interface CommandLineMessages {
    /** What an option that takes a value needs, by option name: "--against needs a git ref". */
    needs?: Record<string, string>;
    /** How an option is written in messages (ovh-ipmove writes `-ip`); default `--name`. */
    spell?: (name: string) => string;
    /** A usage line to put under the message. */
    usage?: string;
}

/**
 * util.parseArgs in strict mode: an unknown option, an option without its value or a value given
 * to a flag is a UsageError naming the option as the user wrote it.
 */
export function parseCommandLine<const O extends OptionSpecs>(argv: string[], options: O, messages: CommandLineMessages = {}): ParsedCommandLine<O> {
    const spell = messages.spell ?? ((name: string) => `--${name}`);
    const fail = (message: string) => new UsageError(messages.usage ? `${message}\n${messages.usage}` : message);
    try {
        return parseArgs({ args: argv, options, allowPositionals: true, strict: true }) as ParsedCommandLine<O>;
    } catch (err) {
        const code = (err as { code?: string }).code;
        const option = /'(?:-\w, )?(-{1,2}[^' =]+)/.exec((err as Error).message)?.[1] ?? "";
        const name = option.replace(/^-+/, "");
        if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") throw fail(`unknown option ${option}`);
        if (code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE") {
            if (options[name]?.type === "boolean") throw fail(`${spell(name)} takes no value`);
            throw fail(messages.needs?.[name] ?? `${spell(name)} needs a value`);
        }
        throw err;
    }
}

/**
 * The Pulumi project the commands work on: the folder of the nearest Pulumi.yaml from here upward,
 * as the Pulumi CLI finds it.
 */
export function projectDir(from: string = process.cwd()): string {
    for (let dir = path.resolve(from); ; dir = path.dirname(dir)) {
        if (fs.existsSync(path.join(dir, "Pulumi.yaml")) || fs.existsSync(path.join(dir, "Pulumi.yml"))) return dir;
        if (path.dirname(dir) === dir) throw new UsageError(`no Pulumi.yaml in ${path.resolve(from)} or above it: run ovh-failover in your Pulumi project`);
    }
}
