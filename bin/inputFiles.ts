// Files a tool reads because a flag named them (--state, --outputs, --stack-file): every error
// names the flag and the file, and says how the file is made.

/** The text of a file given with a flag; an error names both, never only the errno. */
export function readFlagFile(flag: string, file: string, howMade: string, read: (file: string) => string): string {
    try {
        return read(file);
    } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        const why = code === "ENOENT" ? "no such file" : code === "EISDIR" ? "a folder, not a file" : code === "EACCES" ? "not readable (permission denied)" : `cannot be read (${(err as Error).message})`;
        throw new Error(`${flag} ${file}: ${why}; ${howMade}`, { cause: err });
    }
}

/** A JSON file given with a flag. */
export function readFlagJson(flag: string, file: string, howMade: string, read: (file: string) => string): unknown {
    const text = readFlagFile(flag, file, howMade, read);
    try {
        return JSON.parse(text);
    } catch (err) {
        // JSON.parse's message quotes the text, which may hold a secret: not repeated here.
        throw new Error(`${flag} ${file}: not JSON; ${howMade}`, { cause: err });
    }
}
