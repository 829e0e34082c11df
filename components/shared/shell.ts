// The one quoting path: every value that reaches a shell goes through shellQuote.

/** POSIX single-quoting, so that no value can be read as shell syntax. */
export function shellQuote(value: string): string {
    return `'${value.replace(/'/g, `'\\''`)}'`;
}
