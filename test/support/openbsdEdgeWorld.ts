// One OpenBSD edge node around the ifstated model: its links, its CARP state, the failover IP's
// alias, the carp demotion counter, ovh-ipmove and the claim script, each command of ifstated.conf
// acting on them. A journal records what changed, when, and what CARP said at that moment.
import { Host, IfstatedSimulation, LinkState } from "./ifstatedModel";

export interface NodeWorldOptions {
    publicInterface: string;
    privateInterface: string;
    carpdev: string;
    carp: string;
    failoverIp: string;
    /** A command that starts with it is a move at OVH (ovh-ipmove, or the seed's ipmoveOvh). */
    ipmovePath: string;
    /** A command that starts with it runs the claim script (see claimContract). */
    claimPath?: string;
    /** How long one move takes at OVH. */
    moveSeconds: number;
    /**
     * A healthy peer: it takes the master role from this node when this node demotes itself
     * (netinet/ip_carp.c carp_proto_input_c: a BACKUP takes over a master that advertises a
     * higher demote count, whatever net.inet.carp.preempt says), one advertisement later.
     */
    peer: boolean;
}

export type JournalEntry = {
    at: number;
    what: "alias-add" | "alias-del" | "move" | "claim" | "claim-skipped" | "claim-forgotten" | "carpdemote" | "-carpdemote" | "link";
    /** run: an ifstated `run`; test: an ifstated external test; claim: the claim script. */
    by: "run" | "test" | "claim" | "world";
    /** CARP's state when it happened: up is MASTER. */
    carp: LinkState;
    /** Whether the alias was there just before. */
    alias: boolean;
    detail?: string;
};

/** The shell words of the first command of a pipeline, quotes removed, redirections dropped. */
export function commandWords(command: string): string[] {
    const words: string[] = [];
    let word: string | undefined;
    let quote: string | undefined;
    for (let i = 0; i < command.length; i++) {
        const c = command[i];
        if (quote) {
            if (c === quote) quote = undefined;
            else word = (word ?? "") + c;
        } else if (c === "'" || c === '"') {
            quote = c;
            word = word ?? "";
        } else if (c === "|" || c === ";" || c === "&") {
            if (c === "&" && command[i - 1] === ">") {
                word = (word ?? "") + c;
                continue;
            }
            break;
        } else if (c === " " || c === "\t") {
            if (word !== undefined) words.push(word);
            word = undefined;
        } else {
            word = (word ?? "") + c;
        }
    }
    if (word !== undefined) words.push(word);
    return words.filter((w) => !/^[0-9]*>/.test(w) && !w.startsWith("<"));
}

export class EdgeNodeWorld implements Host {
    readonly links: Record<string, LinkState>;
    ping = true;
    alias = false;
    demote = 0;
    readonly journal: JournalEntry[] = [];
    /** The claim script's lock: held until this time by a claim in progress. */
    private claimBusyUntil = -Infinity;
    /** A claim of this mastership went through (the claim script's state, claimState.ts). */
    private claimed = false;
    sim!: IfstatedSimulation;

    constructor(readonly opts: NodeWorldOptions, carp: LinkState) {
        this.links = { [opts.publicInterface]: "up", [opts.privateInterface]: "up", [opts.carpdev]: "up", [opts.carp]: carp };
    }

    private note(what: JournalEntry["what"], by: JournalEntry["by"], detail?: string): void {
        this.journal.push({ at: this.sim.now, what, by, carp: this.links[this.opts.carp], alias: this.alias, detail });
    }

    link(ifname: string): LinkState {
        const s = this.links[ifname];
        if (s === undefined) throw new Error(`no interface ${ifname} on this node`);
        return s;
    }

    setLink(ifname: string, state: LinkState): void {
        if (this.links[ifname] === state) return;
        this.links[ifname] = state;
        this.note("link", "world", `${ifname} ${state}`);
        this.sim.linkChanged(ifname);
    }

    carp(): LinkState {
        return this.links[this.opts.carp];
    }

    private addAlias(by: JournalEntry["by"]): void {
        this.note("alias-add", by);
        this.alias = true;
    }

    private move(by: JournalEntry["by"], detail: string): void {
        this.note("move", by, detail);
    }

    /**
     * What the claim script does (components/edge/openbsd.ts renderClaimScript; its own tests run
     * it with sh): nothing unless CARP is MASTER; nothing while another claim holds the lock;
     * else the /32 alias if it is missing, then ovh-ipmove, which holds the lock while it runs.
     */
    private claimContract(periodic: boolean): void {
        this.note("claim", "claim");
        if (this.carp() !== "up") return;
        if (this.sim.now < this.claimBusyUntil) {
            this.note("claim-skipped", "claim");
            return;
        }
        if (!this.alias) this.addAlias("claim");
        // The periodic claim yields to the nodes above once a claim of this mastership went
        // through; here the move always goes through.
        this.move("claim", periodic && this.claimed ? "ovh-ipmove -yield-to" : "ovh-ipmove");
        this.claimed = true;
        this.claimBusyUntil = this.sim.now + this.opts.moveSeconds;
    }

    exec(command: string, how: { kind: "run" | "test" }): { status: number; seconds: number } {
        const o = this.opts;
        const w = commandWords(command);
        const by = how.kind;
        if (w[0] === "logger") return { status: 0, seconds: 0.01 };
        if (w[0] === "ping") return this.ping ? { status: 0, seconds: 0.05 } : { status: 1, seconds: 1 };
        if (w[0] === "ifconfig" && w[1] === "-g" && w[2] === "carp" && (w[3] === "carpdemote" || w[3] === "-carpdemote")) {
            this.note(w[3], by);
            if (w[3] === "carpdemote") {
                this.demote++;
                if (o.peer && this.carp() === "up") this.sim.at(this.sim.now + 1, () => this.setLink(o.carp, "down"));
            } else {
                this.demote = Math.max(0, this.demote - 1);
            }
            return { status: 0, seconds: 0.01 };
        }
        if (w[0] === "ifconfig" && w[1] === o.publicInterface && w[2] === "inet" && w[4] === o.failoverIp) {
            if (w[3] === "alias") {
                this.addAlias(by);
                return { status: 0, seconds: 0.01 };
            }
            if (w[3] === "-alias") {
                const had = this.alias;
                this.note("alias-del", by);
                this.alias = false;
                return { status: had ? 0 : 1, seconds: 0.01 };
            }
        }
        if (w[0] === o.ipmovePath) {
            this.move(by, command);
            return { status: 0, seconds: o.moveSeconds };
        }
        // The claim script: on promotion with no argument, every period with "reassert".
        if (o.claimPath !== undefined && w[0] === o.claimPath && (w.length === 1 || (w.length === 2 && w[1] === "reassert"))) {
            this.claimContract(w[1] === "reassert");
            return { status: 0, seconds: 0.01 };
        }
        // "demoted": the claim script forgets this mastership's claim, at once.
        if (o.claimPath !== undefined && w[0] === o.claimPath && w.length === 2 && w[1] === "demoted") {
            this.claimed = false;
            this.note("claim-forgotten", by);
            return { status: 0, seconds: 0.01 };
        }
        throw new Error(`the world does not know this command: ${command}`);
    }
}
