// The process table (Linux /proc), for tests that hold a command to leaving no process behind:
// who descends from a process, whether a process seen once is still alive, and waiting for a
// condition by polling it against a bound rather than sleeping a fixed time.
import * as fs from "fs";

export interface ProcessEntry {
    pid: number;
    ppid: number;
    /** The process group. */
    pgid: number;
    /** R, S, D, Z (a zombie: dead, waiting for its parent to reap it), T, … */
    state: string;
    /** Clock ticks since boot at which it started: with the pid, it names this process and no later one given the same pid. */
    startTime: string;
    argv: string[];
}

/** A process as /proc describes it now, or undefined if there is none of that pid. */
export function readProcess(pid: number): ProcessEntry | undefined {
    let stat: string;
    let cmdline: string;
    try {
        stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
        cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8");
    } catch {
        return undefined;
    }
    // "pid (comm) state ppid pgrp …": comm may hold spaces and parentheses; the fields follow its last ")".
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return {
        pid,
        ppid: Number(fields[1]),
        pgid: Number(fields[2]),
        state: fields[0],
        startTime: fields[19],
        argv: cmdline.split("\0").filter((a) => a !== ""),
    };
}

/** Every process on the machine now. */
export function processTable(): ProcessEntry[] {
    return fs.readdirSync("/proc")
        .filter((name) => /^\d+$/.test(name))
        .map((name) => readProcess(Number(name)))
        .filter((p): p is ProcessEntry => p !== undefined);
}

/** The processes descending from pid now: its children, theirs, and so on. */
export function descendantsOf(pid: number): ProcessEntry[] {
    const table = processTable();
    const found: ProcessEntry[] = [];
    const parents = new Set([pid]);
    for (let grew = true; grew;) {
        grew = false;
        for (const p of table) {
            if (parents.has(p.ppid) && !parents.has(p.pid)) {
                parents.add(p.pid);
                found.push(p);
                grew = true;
            }
        }
    }
    return found;
}

/** Whether the process seen as p still runs: same pid and start time, and not a zombie. */
export function stillRunning(p: ProcessEntry): boolean {
    const now = readProcess(p.pid);
    return now !== undefined && now.startTime === p.startTime && now.state !== "Z" && now.state !== "X";
}

/** The name a process runs as: its program's file name. */
export function programName(p: ProcessEntry): string {
    return (p.argv[0] ?? "").split("/").pop() ?? "";
}

/** Polls check every intervalMs until it returns a value other than undefined, and returns it; throws after timeoutMs, saying what was awaited. */
export async function waitUntil<T>(what: string, check: () => T | undefined, timeoutMs: number, intervalMs = 200): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
        const value = check();
        if (value !== undefined) return value;
        if (Date.now() > deadline) throw new Error(`gave up after ${timeoutMs / 1000} s waiting for ${what}`);
        await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
}

/** SIGKILL to each process of the list still running: a failed test's leftovers. */
export function killLeftovers(list: ProcessEntry[]): void {
    for (const p of list) {
        if (!stillRunning(p)) continue;
        try {
            process.kill(p.pid, "SIGKILL");
        } catch {
            // gone in between
        }
    }
}
