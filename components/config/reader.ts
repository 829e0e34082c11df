// Reading a stack's raw config: every bad value becomes one ConfigIssue naming its key (in
// `pulumi config set --path` syntax), the value, and what is expected; unknown keys are issues too.
import * as v from "../shared/validate";

export type Parser<T> = (value: unknown) => T;

/** Reads raw config values, recording every problem with its key instead of stopping at the first. */
export class ConfigReader {
    readonly issues: v.ConfigIssue[] = [];

    /** Runs a validator; on failure records the issue and returns undefined. */
    parse<T>(key: string, value: unknown, parser: Parser<T>): T | undefined {
        try {
            return parser(value);
        } catch (err) {
            if (!(err instanceof v.ConfigValueError)) throw err;
            this.issues.push({ key, value: err.hideValue ? "[not shown]" : value, expected: err.message });
            return undefined;
        }
    }

    required<T>(key: string, value: unknown, parser: Parser<T>): T | undefined {
        if (value === undefined || value === null) {
            // Let the parser describe what is expected.
            return this.parse(key, undefined, parser);
        }
        return this.parse(key, value, parser);
    }

    optional<T>(key: string, value: unknown, parser: Parser<T>, fallback: T): T;
    optional<T>(key: string, value: unknown, parser: Parser<T>): T | undefined;
    optional<T>(key: string, value: unknown, parser: Parser<T>, fallback?: T): T | undefined {
        if (value === undefined || value === null) return fallback;
        return this.parse(key, value, parser) ?? fallback;
    }

    /** An object with only the allowed keys; unknown keys are typos worth reporting. */
    object(key: string, value: unknown, allowed: string[]): Record<string, unknown> | undefined {
        if (typeof value !== "object" || value === null || Array.isArray(value)) {
            this.issues.push({ key, value, expected: `an object with keys among: ${allowed.join(", ")}` });
            return undefined;
        }
        const obj = value as Record<string, unknown>;
        for (const k of Object.keys(obj)) {
            if (!allowed.includes(k)) {
                const near = v.nearestKey(k, allowed);
                this.issues.push({ key: v.keyPath(key, k), value: obj[k], expected: `no such key here${near ? ` (did you mean ${near}?)` : ""}; allowed keys are: ${allowed.join(", ")}` });
            }
        }
        return obj;
    }

    list(key: string, value: unknown): unknown[] | undefined {
        if (value === undefined || value === null) return [];
        if (!Array.isArray(value)) {
            this.issues.push({ key, value, expected: "a list" });
            return undefined;
        }
        return value;
    }
}
