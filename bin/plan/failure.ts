// A plan that fails, said to a script: with --json, stdout holds one JSON object, {"error": …},
// so that `plan … --json | jq` sees the failure instead of nothing; the text still goes to stderr.

/** One bad config value, as the program's config check names it (components/shared/validate.ts, ConfigIssue). */
export interface ConfigIssueJson {
    key: string;
    /** The value as the stack file has it; absent when the key is missing or its value is not shown. */
    value?: unknown;
    expected: string;
}

export interface PlanErrorJson {
    error: {
        message: string;
        stack?: string;
        /** Each bad config value, when the failure is the stack's config. */
        issues?: ConfigIssueJson[];
    };
}

// The program reports its ConfigError as a message only (a RunError, so that pulumi up prints no
// stack trace): one line per issue, as formatIssues writes it, read back here.
const ISSUE_LINE = /^ {2}(\S+): (.*) is not valid: expected (.*)$/;

/** The issues a config error's message lists, one a line (formatIssues's lines). */
export function issuesInMessage(message: string): ConfigIssueJson[] {
    return message.split("\n").flatMap((line) => {
        const m = ISSUE_LINE.exec(line);
        if (!m) return [];
        const [, key, shown, expected] = m;
        return [{ key, ...valueShown(shown), expected }];
    });
}

/** describeValue's text back to the value: JSON when it parses, nothing when missing, else the text. */
function valueShown(shown: string): { value?: unknown } {
    if (shown === "(missing)") return {};
    try {
        return { value: JSON.parse(shown) as unknown };
    } catch {
        // Cut (…) or hidden: as printed.
        return { value: shown };
    }
}

/** The JSON error a failed plan prints on stdout under --json: the message without its `error: ` prefix. */
export function planErrorJson(message: string, stack?: string): string {
    const text = message.replace(/^error: /, "").replace(/\n+$/, "");
    const issues = issuesInMessage(text);
    const doc: PlanErrorJson = { error: { message: text, ...(stack !== undefined ? { stack } : {}), ...(issues.length > 0 ? { issues } : {}) } };
    return `${JSON.stringify(doc, null, 2)}\n`;
}
