// A model of OpenBSD's ifstated(8), for the ifstated.conf files this project renders: ifstated
// cannot run here, so the tests parse a file as ifstated does and play it against a scripted
// world (link states, test results, the time each command takes) to see what runs, when, and in
// which state. Every rule below is ifstated's, read in openbsd/src:
//   usr.sbin/ifstated/parse.y        v1.56 (2021): the lexer and the grammar
//   usr.sbin/ifstated/ifstated.c     v1.68 (2024): what runs when
//   usr.sbin/ifstated/ifstated.conf.5 v1.10 (2018): the documented semantics
//   sys/net/if.h: link state values and LINK_STATE_IS_UP
// Deliberately left out: `-i` (inhibit), SIGHUP reloads, interfaces arriving or departing,
// libevent's cached clock (a timer is armed from the moment its setup runs), loglevel, and a test
// killed by a signal other than ifstated's SIGKILL.

/** if_link_state values (sys/net/if.h). A carp interface is UP as MASTER, DOWN as BACKUP, INVALID in INIT (netinet/ip_carp.c, carp_set_state). */
export const LINK_STATE = { unknown: 0, invalid: 1, down: 2, "kalive-down": 3, up: 4, "half-duplex": 5, "full-duplex": 6 } as const;
export type LinkState = keyof typeof LINK_STATE;

// sys/net/if.h: LINK_STATE_IS_UP(s) is s >= LINK_STATE_UP || s == LINK_STATE_UNKNOWN; ifstated.c
// defines LINK_STATE_IS_DOWN as its negation, so an unknown link is both "up" and "unknown".
const linkIsUp = (s: number) => s >= LINK_STATE.up || s === LINK_STATE.unknown;

export interface LinkLeaf {
    kind: "link";
    ifname: string;
    want: "up" | "down" | "unknown";
    /** The raw link state last seen, -1 before the first (parse.y new_ifstate). */
    prevstate: number;
    truth: boolean;
}

export interface ExternalTest {
    kind: "external";
    command: string;
    frequency: number;
    /** Exit status of the last completed run, -1 before the first (parse.y new_external). */
    prevstatus: number;
    truth: boolean;
    /** time() of the last run completed in the background; 0 until one has. */
    lastexec: number;
    /** A run in the background: its pid, in effect; `status` once it has exited. */
    running?: { id: number; startedAt: number; status?: number };
    timer?: number;
}

export type Expr = LinkLeaf | ExternalTest | { kind: "not"; right: Expr } | { kind: "and" | "or"; left: Expr; right: Expr };

export type Action =
    | { kind: "run"; command: string }
    | { kind: "set-state"; name: string; target?: State }
    | { kind: "if"; expr: Expr; actions: Action[] };

export interface State {
    name: string;
    init: Action[];
    body: Action[];
    /** Each state has its own link tests and external tests, shared by equal ones within it (parse.y new_ifstate, new_external). */
    links: LinkLeaf[];
    externals: ExternalTest[];
    entered: number;
}

export interface IfstatedConfig {
    /** The part outside any state ("initstate" in ifstated.c): its tests and actions are always live. */
    global: State;
    states: State[];
    /** init-state, else the first state declared (parse.y parse_config). */
    initial?: State;
}

export class IfstatedSyntaxError extends Error {}

// ---------------------------------------------------------------------------------------------
// The lexer (parse.y yylex, lgetc).

type Token = { t: "STRING"; v: string; line: number } | { t: "NUMBER"; v: number; line: number } | { t: string; line: number };

// parse.y lookup(): a word that is one of these is a keyword.
const KEYWORDS = new Set(["&&", "down", "every", "if", "init", "init-state", "link", "run", "set-state", "state", "unknown", "up", "||"]);

const isAlnum = (c: string) => /^[A-Za-z0-9]$/.test(c);
const isPunct = (c: string) => /^[!-/:-@[-`{-~]$/.test(c);
// parse.y allowed_in_string: a word goes on over letters, digits and punctuation but ( ) { } ! = # , .
const allowedInString = (c: string) => isAlnum(c) || (isPunct(c) && !"(){}!=#,.".includes(c));
// parse.y allowed_to_end_number
const endsNumber = (c: string | undefined) => c === undefined || /^\s$/.test(c) || ")/,}=".includes(c);

class Lexer {
    private pos = 0;
    private line = 1;
    /** A macro's value being read instead of the file (parse.y parsebuf). */
    private macro: { text: string; pos: number } | undefined;
    private pushback: string[] = [];
    readonly macros = new Map<string, string>();

    constructor(private readonly text: string) {}

    private getc(quoted = false): string | undefined {
        if (this.macro) {
            if (this.macro.pos < this.macro.text.length) return this.macro.text[this.macro.pos++];
            this.macro = undefined;
        }
        if (this.pushback.length > 0) return this.pushback.pop();
        if (quoted) return this.text[this.pos++];
        // A backslash before a newline joins the lines.
        while (this.text[this.pos] === "\\" && this.text[this.pos + 1] === "\n") {
            this.pos += 2;
            this.line++;
        }
        return this.text[this.pos++];
    }

    private ungetc(c: string | undefined): void {
        if (c === undefined) return;
        if (this.macro && this.macro.pos > 0) {
            this.macro.pos--;
            return;
        }
        this.pushback.push(c);
    }

    private error(message: string): never {
        throw new IfstatedSyntaxError(`line ${this.line}: ${message}`);
    }

    next(): Token {
        for (;;) {
            let c = this.getc();
            while (c === " " || c === "\t") c = this.getc();
            const line = this.line;
            if (c === "#") {
                while (c !== "\n" && c !== undefined) c = this.getc();
            }
            // A macro is expanded where it stands, outside quotes only, and not inside another macro.
            if (c === "$" && this.macro === undefined) {
                let name = "";
                for (;;) {
                    c = this.getc();
                    if (c !== undefined && (isAlnum(c) || c === "_")) {
                        name += c;
                        continue;
                    }
                    this.ungetc(c);
                    break;
                }
                const value = this.macros.get(name);
                if (value === undefined) this.error(`macro '${name}' not defined`);
                this.macro = { text: value, pos: 0 };
                continue;
            }
            if (c === "'" || c === '"') {
                const quote = c;
                let s = "";
                for (;;) {
                    let q = this.getc(true);
                    if (q === undefined) this.error("reached end of file while parsing quoted string");
                    if (q === "\n") {
                        this.line++;
                        continue;
                    }
                    if (q === "\\") {
                        const n = this.getc(true);
                        if (n === quote || n === " " || n === "\t") q = n;
                        else if (n === "\n") {
                            this.line++;
                            continue;
                        } else this.ungetc(n);
                    } else if (q === quote) {
                        break;
                    }
                    s += q;
                }
                return { t: "STRING", v: s, line };
            }
            if (c !== undefined && (c === "-" || /^[0-9]$/.test(c))) {
                let s = c;
                let d = this.getc();
                while (d !== undefined && /^[0-9]$/.test(d)) {
                    s += d;
                    d = this.getc();
                }
                this.ungetc(d);
                if (s !== "-" && endsNumber(d)) return { t: "NUMBER", v: Number(s), line };
                // Not a number: read it again as a word.
                for (let i = s.length - 1; i >= 1; i--) this.ungetc(s[i]);
                c = s[0];
                if (c === "-") return { t: "-", line };
            }
            if (c !== undefined && (isAlnum(c) || ":_&|".includes(c))) {
                let s = c;
                let d = this.getc();
                while (d !== undefined && allowedInString(d)) {
                    s += d;
                    d = this.getc();
                }
                this.ungetc(d);
                return KEYWORDS.has(s) ? { t: s, line } : { t: "STRING", v: s, line };
            }
            if (c === "\n") this.line++;
            if (c === undefined) return { t: "EOF", line };
            return { t: c, line };
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The grammar (parse.y), as recursive descent. `&&` and `||` have one precedence and group to the
// left (%left AND OR); `!` binds tighter (%prec UNARY).

export interface ParseOptions {
    /** The node's interfaces: parse.y refuses a link test of one if_nametoindex() does not know. */
    interfaces: string[];
}

class Parser {
    private readonly lexer: Lexer;
    private token: Token;
    private readonly global = newState("");
    private readonly states: State[] = [];
    private current: State | undefined;
    private startState: string | undefined;

    constructor(text: string, private readonly opts: ParseOptions) {
        this.lexer = new Lexer(text);
        this.token = this.lexer.next();
    }

    private error(message: string): never {
        throw new IfstatedSyntaxError(`line ${this.token.line}: ${message}`);
    }

    /** The current token's type, read through a call so that TypeScript does not narrow it across advance(). */
    private is(type: string): boolean {
        return this.token.t === type;
    }

    private advance(): Token {
        const t = this.token;
        this.token = this.lexer.next();
        return t;
    }

    private expect(type: string): Token {
        if (this.token.t !== type) this.error(`syntax error: expected ${type === "\n" ? "a newline" : type}, got ${describe(this.token)}`);
        return this.advance();
    }

    private string(): string {
        return (this.expect("STRING") as { v: string }).v;
    }

    private optnl(): void {
        while (this.token.t === "\n") this.advance();
    }

    /** nl: one newline or more. */
    private nl(): void {
        this.expect("\n");
        this.optnl();
    }

    parse(): IfstatedConfig {
        for (;;) {
            const t = this.token;
            if (t.t === "EOF") break;
            if (t.t === "\n") {
                this.advance();
                continue;
            }
            if (t.t === "init-state") {
                this.advance();
                this.startState = this.string();
            } else if (t.t === "state") {
                this.state();
            } else if (t.t === "STRING") {
                // varset: STRING '=' string, several words joined by a space.
                const name = this.string();
                this.expect("=");
                const words = [this.string()];
                while (this.token.t === "STRING") words.push(this.string());
                if (/\s/.test(name)) this.error("macro name cannot contain whitespace");
                this.lexer.macros.set(name, words.join(" "));
            } else {
                this.action(this.global.body, this.global);
            }
            // grammar: every entry ends with a newline.
            this.expect("\n");
        }
        // parse.y link_states: every set-state names a declared state.
        const link = (actions: Action[]) => {
            for (const a of actions) {
                if (a.kind === "set-state") {
                    a.target = this.states.find((s) => s.name === a.name);
                    if (!a.target) throw new IfstatedSyntaxError(`error: state '${a.name}' not declared`);
                } else if (a.kind === "if") link(a.actions);
            }
        };
        for (const s of this.states) {
            link(s.init);
            link(s.body);
        }
        let initial: State | undefined;
        if (this.startState !== undefined) {
            initial = this.states.find((s) => s.name === this.startState);
            if (!initial) throw new IfstatedSyntaxError(`invalid start state ${this.startState}`);
        } else {
            initial = this.states[0];
        }
        return { global: this.global, states: this.states, initial };
    }

    private state(): void {
        this.expect("state");
        const words = [this.string()];
        while (this.token.t === "STRING") words.push(this.string());
        const name = words.join(" ");
        if (this.states.some((s) => s.name === name)) this.error(`state ${name} already exists`);
        const state = newState(name);
        this.current = state;
        this.optnl();
        this.expect("{");
        this.optnl();
        // stateopts_l: one or more of `init action_block nl` or `action nl`.
        do {
            if (this.token.t === "init") {
                this.advance();
                this.actionBlock(state.init, state);
            } else {
                this.action(state.body, state);
            }
            this.nl();
        } while (!this.is("}"));
        this.expect("}");
        this.states.push(state);
        this.current = undefined;
    }

    /** action_block: optnl '{' optnl action_l '}' | optnl action; action_l is actions each ended by newlines. */
    private actionBlock(into: Action[], owner: State): void {
        this.optnl();
        if (this.token.t === "{") {
            this.advance();
            this.optnl();
            do {
                this.action(into, owner);
                this.nl();
            } while (!this.is("}"));
            this.advance();
        } else {
            this.action(into, owner);
        }
    }

    private action(into: Action[], owner: State): void {
        const t = this.token;
        if (t.t === "run") {
            this.advance();
            into.push({ kind: "run", command: this.string() });
        } else if (t.t === "set-state") {
            this.advance();
            const name = this.string();
            if (this.current === undefined) this.error("set-state must be used inside 'if'");
            into.push({ kind: "set-state", name });
        } else if (t.t === "if") {
            this.advance();
            const expr = this.expr(owner);
            const actions: Action[] = [];
            this.actionBlock(actions, owner);
            into.push({ kind: "if", expr, actions });
        } else {
            this.error(`syntax error: ${describe(t)}`);
        }
    }

    private expr(owner: State): Expr {
        let left = this.unary(owner);
        while (this.token.t === "&&" || this.token.t === "||") {
            const op = this.advance().t === "&&" ? "and" : "or";
            left = { kind: op, left, right: this.unary(owner) };
        }
        return left;
    }

    private unary(owner: State): Expr {
        if (this.token.t === "!") {
            this.advance();
            return { kind: "not", right: this.unary(owner) };
        }
        return this.term(owner);
    }

    private term(owner: State): Expr {
        if (this.token.t === "(") {
            this.advance();
            const e = this.expr(owner);
            this.expect(")");
            return e;
        }
        const word = this.string();
        if (this.token.t === "every") {
            this.advance();
            const n = this.expect("NUMBER") as { v: number };
            if (n.v <= 0 || n.v > 0xffffffff) this.error(`invalid interval: ${n.v}`);
            let test = owner.externals.find((e) => e.command === word && e.frequency === n.v);
            if (!test) {
                test = { kind: "external", command: word, frequency: n.v, prevstatus: -1, truth: false, lastexec: 0 };
                owner.externals.push(test);
            }
            return test;
        }
        // if_test: interface '.' link '.' (up | down | unknown)
        if (!this.opts.interfaces.includes(word)) this.error(`unknown interface ${word}`);
        this.expect(".");
        this.expect("link");
        this.expect(".");
        const want = this.advance().t;
        if (want !== "up" && want !== "down" && want !== "unknown") this.error(`syntax error: ${word}.link.${want}`);
        let leaf = owner.links.find((l) => l.ifname === word && l.want === want);
        if (!leaf) {
            leaf = { kind: "link", ifname: word, want, prevstate: -1, truth: false };
            owner.links.push(leaf);
        }
        return leaf;
    }
}

function describe(t: Token): string {
    if (t.t === "STRING") return JSON.stringify((t as { v: string }).v);
    if (t.t === "NUMBER") return String((t as { v: number }).v);
    return t.t === "\n" ? "a newline" : `'${t.t}'`;
}

function newState(name: string): State {
    return { name, init: [], body: [], links: [], externals: [], entered: 0 };
}

/** Parses ifstated.conf as `ifstated -n` would, or throws IfstatedSyntaxError. */
export function parseIfstatedConf(text: string, opts: ParseOptions): IfstatedConfig {
    return new Parser(text, opts).parse();
}

// ---------------------------------------------------------------------------------------------
// The daemon (ifstated.c), as a discrete-event simulation in seconds.

/** What a command does on the node: its exit status and how long it runs. */
export interface CommandResult {
    status: number;
    seconds: number;
}

export interface Host {
    /** The kernel's link state of an interface now. */
    link(ifname: string): LinkState;
    /**
     * Runs a command as ifstated would: `run` through system(), a test through `sh -c`. Called
     * when the command starts; its effects on the world happen then.
     */
    exec(command: string, how: { kind: "run" | "test"; state: string; at: number }): CommandResult;
}

export type TraceEntry =
    | { at: number; kind: "state"; from?: string; to: string }
    | { at: number; kind: "run"; state: string; command: string; seconds: number }
    /** sync: at state entry, ifstated waits for it; async: from a timer, in the background. */
    | { at: number; kind: "test"; state: string; command: string; mode: "sync" | "async"; status: number; seconds: number }
    | { at: number; kind: "killed"; state: string; command: string; after: number }
    | { at: number; kind: "eval-skipped"; state: string; cause: string };

type Event =
    | { at: number; seq: number; kind: "world"; apply: () => void }
    | { at: number; seq: number; kind: "rtmsg"; ifname: string }
    | { at: number; seq: number; kind: "timer"; state: State; test: ExternalTest; id: number }
    | { at: number; seq: number; kind: "exit"; test: ExternalTest; id: number; status: number };

type Unsequenced = Event extends infer E ? (E extends Event ? Omit<E, "seq"> : never) : never;

// time(NULL) never returns 0, which ifstated.c reads as "never ran" in lastexec.
const EPOCH = 1_700_000_000;

export class IfstatedSimulation {
    now = 0;
    readonly trace: TraceEntry[] = [];
    current: State | undefined;
    private next: State | undefined;
    private queue: Event[] = [];
    private seq = 0;
    private ids = 0;
    private readonly linkNames: string[];

    constructor(readonly conf: IfstatedConfig, private readonly host: Host) {
        const all = [conf.global, ...conf.states];
        this.linkNames = [...new Set(all.flatMap((s) => s.links.map((l) => l.ifname)))];
    }

    private time(): number {
        return EPOCH + Math.floor(this.now);
    }

    private push(e: Unsequenced): void {
        this.queue.push({ ...e, seq: this.seq++ } as Event);
        this.queue.sort((a, b) => a.at - b.at || a.seq - b.seq);
    }

    /** A change in the world at `at`; call linkChanged() from it when a link state changes. */
    at(at: number, apply: () => void): void {
        this.push({ at, kind: "world", apply });
    }

    /** The kernel's routing message for a link state change (ifstated.c rt_msg_handler). */
    linkChanged(ifname: string): void {
        this.push({ at: this.now, kind: "rtmsg", ifname });
    }

    /** ifstated starts (ifstated.c startup_handler → load_config). */
    start(): void {
        const conf = this.conf;
        conf.global.entered = this.time();
        this.fetchIfstate(false);
        this.evtimerAdd(conf.global);
        this.adjustExternal(conf.global);
        this.evalState(conf.global);
        if (conf.initial) {
            // load_config: the initial state is entered as any other, through state_change, and
            // its init and body run right after, with no gate.
            this.next = conf.initial;
            this.current = undefined;
            while (this.stateChange()) {
                this.doActions(this.current!.init, this.current!);
                this.doActions(this.current!.body, this.current!);
            }
        }
    }

    /** Processes events up to `until` (ifstated blocked in a command processes them late). */
    runUntil(until: number): void {
        while (this.queue.length > 0 && this.queue[0].at <= until) {
            const e = this.queue.shift()!;
            this.now = Math.max(this.now, e.at);
            switch (e.kind) {
                case "world":
                    e.apply();
                    break;
                case "rtmsg":
                    this.scanIfstate(e.ifname, LINK_STATE[this.host.link(e.ifname)], true);
                    break;
                case "timer":
                    if (e.test.timer === e.id) this.externalHandler(e.state, e.test);
                    break;
                case "exit":
                    if (e.test.running?.id === e.id) {
                        e.test.running.status = e.status;
                        this.sigchld();
                    }
                    break;
            }
        }
        this.now = Math.max(this.now, until);
    }

    // ifstated.c fetch_ifstate: every interface's current link state.
    private fetchIfstate(doEval: boolean): void {
        for (const name of this.linkNames) this.scanIfstate(name, LINK_STATE[this.host.link(name)], doEval);
    }

    // ifstated.c scan_ifstate: the global part first, then every state's tests (not only the
    // current one's); the current state is evaluated after all of them are up to date.
    private scanIfstate(ifname: string, s: number, doEval: boolean): void {
        if (this.scanSingle(ifname, s, this.conf.global) && doEval) this.evalState(this.conf.global);
        let curEval = false;
        for (const state of this.conf.states) {
            if (this.scanSingle(ifname, s, state) && doEval && state === this.current) curEval = true;
        }
        if (curEval) this.evalState(this.current!);
    }

    // ifstated.c scan_ifstate_single: a test changes only when the raw state differs from the last seen.
    private scanSingle(ifname: string, s: number, state: State): boolean {
        let changed = false;
        for (const leaf of state.links) {
            if (leaf.ifname !== ifname || leaf.prevstate === s) continue;
            leaf.truth = leaf.want === "unknown" ? s === LINK_STATE.unknown : leaf.want === "down" ? !linkIsUp(s) : linkIsUp(s);
            leaf.prevstate = s;
            changed = true;
        }
        return changed;
    }

    // ifstated.c adjust_external_expressions: a test's truth is its last exit status being 0,
    // once it has one.
    private adjustExternal(state: State): void {
        for (const t of state.externals) if (t.prevstatus !== -1) t.truth = t.prevstatus === 0;
    }

    // ifstated.c external_evtimer_setup(IFSD_EVTIMER_ADD): each test runs at once and ifstated
    // waits for it (external_exec(external, 0): fork, then waitpid), then its timer is armed.
    private evtimerAdd(state: State): void {
        for (const t of state.externals) {
            this.kill(state, t);
            const r = this.host.exec(t.command, { kind: "test", state: state.name, at: this.now });
            this.trace.push({ at: this.now, kind: "test", state: state.name, command: t.command, mode: "sync", status: r.status, seconds: r.seconds });
            this.now += r.seconds;
            t.prevstatus = r.status;
            this.arm(state, t);
        }
    }

    // ifstated.c external_evtimer_setup(IFSD_EVTIMER_DEL): a running test is SIGKILLed.
    private evtimerDel(state: State): void {
        for (const t of state.externals) {
            this.kill(state, t);
            t.timer = undefined;
        }
    }

    private arm(state: State, t: ExternalTest): void {
        const id = ++this.ids;
        t.timer = id;
        this.push({ at: this.now + t.frequency, kind: "timer", state, test: t, id });
    }

    private kill(state: State, t: ExternalTest): void {
        if (!t.running) return;
        this.trace.push({ at: this.now, kind: "killed", state: state.name, command: t.command, after: this.now - t.running.startedAt });
        t.running = undefined;
    }

    // ifstated.c external_handler: re-arm, then external_exec(external, 1), which SIGKILLs the
    // previous run if it is still going, and does not wait.
    private externalHandler(state: State, t: ExternalTest): void {
        this.arm(state, t);
        this.kill(state, t);
        const r = this.host.exec(t.command, { kind: "test", state: state.name, at: this.now });
        this.trace.push({ at: this.now, kind: "test", state: state.name, command: t.command, mode: "async", status: r.status, seconds: r.seconds });
        const id = ++this.ids;
        t.running = { id, startedAt: this.now };
        this.push({ at: this.now + r.seconds, kind: "exit", test: t, id, status: r.status });
    }

    // ifstated.c sigchld_handler
    private sigchld(): void {
        this.checkExternalStatus(this.conf.global);
        if (this.current) this.checkExternalStatus(this.current);
    }

    // ifstated.c check_external_status: each finished test's time is recorded and it goes to the
    // end of the list (the first is the one that finished longest ago); the state is evaluated
    // only if a status changed.
    private checkExternalStatus(state: State): void {
        let changed = false;
        const done = state.externals.filter((t) => t.running?.status !== undefined);
        for (const t of done) {
            const status = t.running!.status!;
            t.running = undefined;
            if (t.prevstatus !== status) {
                changed = true;
                t.prevstatus = status;
            }
            t.lastexec = this.time();
            state.externals.splice(state.externals.indexOf(t), 1);
            state.externals.push(t);
        }
        if (changed) {
            this.adjustExternal(state);
            this.evalState(state);
        }
    }

    // ifstated.c eval_state: the body runs only if the test that finished longest ago has finished
    // since the state was entered, or none ever finished in the background. A state entered again
    // is deaf to its events until every one of its tests has run again in the background.
    private evalState(state: State): void {
        const first = state.externals[0];
        if (first === undefined || first.lastexec >= state.entered || first.lastexec === 0) {
            this.doActions(state.body, state);
            while (this.stateChange()) {
                this.doActions(this.current!.init, this.current!);
                this.doActions(this.current!.body, this.current!);
            }
        } else {
            this.trace.push({ at: this.now, kind: "eval-skipped", state: state.name, cause: `${first.command} last finished before the state was entered` });
        }
    }

    // ifstated.c state_change: leave the current state (its tests killed, timers off), enter the
    // next: entered = time(), its tests run at once (ifstated waiting), then the caller runs
    // its init and its body.
    private stateChange(): boolean {
        if (this.next === undefined || this.next === this.current) return false;
        const from = this.current;
        if (from) this.evtimerDel(from);
        this.current = this.next;
        this.next = undefined;
        this.trace.push({ at: this.now, kind: "state", from: from?.name, to: this.current.name });
        this.current.entered = this.time();
        this.evtimerAdd(this.current);
        this.adjustExternal(this.current);
        return true;
    }

    // ifstated.c do_action: `run` is system(): ifstated waits for it; set-state only records the
    // next state, which takes effect after the whole body.
    private doActions(actions: Action[], owner: State): void {
        for (const a of actions) {
            if (a.kind === "run") {
                const r = this.host.exec(a.command, { kind: "run", state: owner.name, at: this.now });
                this.trace.push({ at: this.now, kind: "run", state: owner.name, command: a.command, seconds: r.seconds });
                this.now += r.seconds;
            } else if (a.kind === "set-state") {
                this.next = a.target;
            } else if (truth(a.expr)) {
                this.doActions(a.actions, owner);
            }
        }
    }
}

/** An expression's value from its tests' (ifstated.c adjust_expressions keeps each node so). */
export function truth(e: Expr): boolean {
    switch (e.kind) {
        case "link":
        case "external":
            return e.truth;
        case "not":
            return !truth(e.right);
        case "and":
            return truth(e.left) && truth(e.right);
        case "or":
            return truth(e.left) || truth(e.right);
    }
}
