// The rendered ifstated.conf played through a model of ifstated (test/support/ifstatedModel.ts)
// against what happens to an edge node: starting as backup or master, promotion, demotion, link
// flaps, a failing ping, a slow OVH. ifstated itself cannot run here; the model follows
// usr.sbin/ifstated/ifstated.c and parse.y, and its first tests pin those rules on small files.
import { readFileSync } from "fs";
import { join } from "path";
import { describe, expect, it } from "vitest";
import { renderMoveCommand } from "../../../components/edge/carpPair";
import { CarpNodeSpec, EdgePairSpec } from "../../../components/edge/carpSpec";
import { CLAIM_SCRIPT_PATH, renderOpenbsdNodeFiles } from "../../../components/edge/openbsd";
import { Host, IfstatedSimulation, IfstatedSyntaxError, LinkState, parseIfstatedConf, TraceEntry } from "../../support/ifstatedModel";
import { EdgeNodeWorld, JournalEntry } from "../../support/openbsdEdgeWorld";

const INTERFACES = ["vio0", "vio1", "vio2", "carp0", "em0", "em1"];

/** A host whose links are set by the test and whose commands are listed, each with a status and a duration. */
class ScriptedHost implements Host {
    links: Record<string, LinkState> = { vio0: "up", vio1: "up", vio2: "up", carp0: "down", em0: "up", em1: "up" };
    results = new Map<string, { status: number; seconds: number }>();
    readonly ran: { at: number; command: string; kind: string; state: string }[] = [];
    link(ifname: string): LinkState {
        return this.links[ifname];
    }
    exec(command: string, how: { kind: "run" | "test"; state: string; at: number }) {
        this.ran.push({ at: how.at, command, kind: how.kind, state: how.state });
        return this.results.get(command) ?? { status: 0, seconds: 0 };
    }
}

function simulate(text: string, host: ScriptedHost): IfstatedSimulation {
    const sim = new IfstatedSimulation(parseIfstatedConf(text, { interfaces: INTERFACES }), host);
    sim.start();
    return sim;
}

describe("the ifstated model, on small files (ifstated.c, parse.y)", () => {
    it("starts in the first state declared, or in init-state's", () => {
        const states = "state one {\n\tif em0.link.up\n\t\trun \"one\"\n}\nstate two {\n\tif em0.link.up\n\t\trun \"two\"\n}\n";
        expect(simulate(states, new ScriptedHost()).current?.name).toBe("one");
        expect(simulate(`init-state two\n${states}`, new ScriptedHost()).current?.name).toBe("two");
        expect(() => parseIfstatedConf(`init-state three\n${states}`, { interfaces: INTERFACES })).toThrow(/invalid start state three/);
    });

    it("enters a state by running its external tests at once, waiting for each, then its init, then its body", () => {
        const host = new ScriptedHost();
        host.results.set("slow-test", { status: 0, seconds: 7 });
        const sim = simulate(
            'state one {\n\tinit {\n\t\trun "init"\n\t}\n\tif "slow-test" every 10 {\n\t\trun "body"\n\t}\n}\n',
            host,
        );
        expect(host.ran.map((r) => [r.at, r.command])).toEqual([[0, "slow-test"], [7, "init"], [7, "body"]]);
        expect(sim.trace.filter((t) => t.kind === "test")).toEqual([expect.objectContaining({ mode: "sync", seconds: 7 })]);
    });

    it("waits for a run command (system), and kills a test still running when it is due again", () => {
        const host = new ScriptedHost();
        host.results.set("blocking", { status: 0, seconds: 5 });
        host.results.set("long-test", { status: 1, seconds: 25 });
        const sim = simulate('if em0.link.up\n\trun "blocking"\nif ! "long-test" every 10\n\trun "after"\n', host);
        // The global part's tests run before its body, which runs before any state.
        expect(host.ran.slice(0, 3).map((r) => [r.at, r.command])).toEqual([[0, "long-test"], [25, "blocking"], [30, "after"]]);
        sim.runUntil(60);
        expect(sim.trace.filter((t) => t.kind === "killed").map((t) => [t.at, (t as { after: number }).after])).toEqual([[45, 10], [55, 10]]);
    });

    it("evaluates the current state on a link event, with every state's link tests brought up to date", () => {
        const host = new ScriptedHost();
        const sim = simulate('state a {\n\tif carp0.link.up\n\t\tset-state b\n}\nstate b {\n\tif carp0.link.down\n\t\tset-state a\n}\n', host);
        expect(sim.current?.name).toBe("a");
        host.links.carp0 = "up";
        sim.at(5, () => sim.linkChanged("carp0"));
        sim.runUntil(6);
        expect(sim.current?.name).toBe("b");
        // carp INIT is not up: .link.down holds (sys/net/if.h LINK_STATE_IS_UP).
        host.links.carp0 = "invalid";
        sim.at(7, () => sim.linkChanged("carp0"));
        sim.runUntil(8);
        expect(sim.current?.name).toBe("a");
    });

    it("does not evaluate a state entered again until each of its tests has finished again in the background", () => {
        const host = new ScriptedHost();
        const conf = 'state a {\n\tif carp0.link.up && "t" every 15\n\t\tset-state b\n}\nstate b {\n\tif carp0.link.down\n\t\tset-state a\n}\n';
        const sim = simulate(conf, host);
        const flip = (at: number, s: LinkState) => sim.at(at, () => {
            host.links.carp0 = s;
            sim.linkChanged("carp0");
        });
        flip(20, "up"); // a → b (the test finished at 15, after a was entered)
        flip(40, "down"); // b → a: a entered again at 40
        flip(45, "up"); // a is deaf: its test last finished at 30, before 40
        sim.runUntil(50);
        expect(sim.current?.name).toBe("a");
        expect(sim.trace.filter((t) => t.kind === "eval-skipped").map((t) => t.at)).toEqual([45]);
        // At 55 the test finishes with the same status: no evaluation, the event stays lost.
        sim.runUntil(70);
        expect(sim.current?.name).toBe("a");
    });

    it("reads the grammar as parse.y does: precedence, blocks, macros only outside quotes", () => {
        const host = new ScriptedHost();
        host.links.carp0 = "up";
        // `! a && b` is `(!a) && b`: false here, so nothing runs.
        simulate('state s {\n\tif ! em0.link.down && carp0.link.down\n\t\trun "x"\n}\n', host);
        expect(host.ran).toEqual([]);
        const macro = "link_ok = 'em0.link.up'\nstate s {\n\tif $link_ok {\n\t\trun \"$link_ok\"\n\t}\n}\n";
        simulate(macro, host);
        expect(host.ran.map((r) => r.command)).toEqual(["$link_ok"]);
        const bad: [string, RegExp][] = [
            ['state s {\n\tif em0.link.up { run "x" }\n}\n', /syntax error/],
            ['if em0.link.up\n\tset-state s\nstate s {\n\tif em0.link.up\n\t\trun "x"\n}\n', /set-state must be used inside 'if'/],
            ['state s {\n\tif em9.link.up\n\t\trun "x"\n}\n', /unknown interface em9/],
            ['state s {\n\tif $nope\n\t\trun "x"\n}\n', /macro 'nope' not defined/],
            ['state s {\n\tif em0.link.up\n\t\tset-state t\n}\n', /state 't' not declared/],
            ['state s {\n\tif "t" every 0\n\t\trun "x"\n}\n', /invalid interval/],
            ['state s {\n\tif em0.link.up\n\t\trun "x"\n}', /expected a newline/],
            // A macro cannot be named as a keyword (ifstated.conf.5, MACROS).
            ["up = 'em0.link.up'\n", /syntax error/],
        ];
        for (const [text, message] of bad) expect(() => parseIfstatedConf(text, { interfaces: INTERFACES }), text).toThrow(message);
        expect(() => parseIfstatedConf(bad[0][0], { interfaces: INTERFACES })).toThrow(IfstatedSyntaxError);
    });
});

// ---------------------------------------------------------------------------------------------
// The rendered files.

const IPMOVE = "/usr/local/bin/ovh-ipmove";
const CLAIM = CLAIM_SCRIPT_PATH;
const REASSERT = 30;

const master: CarpNodeSpec = { name: "edge-sbg-1", advskew: 1, publicInterface: "vio0", privateInterface: "vio1", move: { kind: "cloud", project: "0123456789abcdef0123456789abcdef", instance: "edge-sbg-1" } };
const backup: CarpNodeSpec = { ...master, name: "edge-sbg-2", advskew: 50, move: { kind: "cloud", project: "0123456789abcdef0123456789abcdef", instance: "edge-sbg-2" } };
const spec: EdgePairSpec = {
    group: { vhid: 1, address: "10.25.0.10", prefixLength: 16, carpdev: "vio2", advbase: 1, password: "xxx", carpUnit: 0 },
    nodes: [master, backup],
    failoverIp: "203.0.113.231",
    health: { pingTarget: "192.0.2.53", intervalSeconds: 15 },
    ipmovePath: IPMOVE,
    reassertSeconds: REASSERT,
    preempt: false,
};

function rendered(node: CarpNodeSpec): string {
    const files = renderOpenbsdNodeFiles(spec, node, renderMoveCommand(spec.ipmovePath, spec.failoverIp, node.move)).files;
    return files.find((f) => f.path === "/etc/ifstated.conf")!.content;
}

interface Scenario {
    name: string;
    /** CARP's state when ifstated starts: up is MASTER, down BACKUP, invalid INIT. */
    carp: LinkState;
    moveSeconds?: number;
    peer?: boolean;
    events?: [number, (w: EdgeNodeWorld) => void][];
}

const carpTo = (s: LinkState) => (w: EdgeNodeWorld) => w.setLink("carp0", s);

const SCENARIOS: Scenario[] = [
    { name: "starts as backup", carp: "down" },
    { name: "starts as master", carp: "up" },
    { name: "backup promoted", carp: "down", events: [[100, carpTo("up")]] },
    { name: "master demoted", carp: "up", events: [[100, carpTo("down")]] },
    {
        name: "master whose ping fails, then comes back",
        carp: "up",
        peer: true,
        events: [[100, (w) => (w.ping = false)], [200, (w) => (w.ping = true)]],
    },
    {
        name: "master whose carpdev flaps, twice within a ping period, then comes back",
        carp: "up",
        events: [[100, carpTo("invalid")], [103, carpTo("up")], [106, carpTo("invalid")], [109, carpTo("down")], [200, carpTo("up")]],
    },
    {
        name: "master whose carpdev flaps and stays master",
        carp: "up",
        events: [[100, carpTo("invalid")], [103, carpTo("up")], [106, carpTo("invalid")], [108, carpTo("up")]],
    },
    {
        name: "master whose public link goes down and up: the peer takes over for good",
        carp: "up",
        peer: true,
        events: [[100, (w) => w.setLink("vio0", "down")], [150, (w) => w.setLink("vio0", "up")]],
    },
    { name: "master with a slow OVH: a claim outlasts reassertSeconds", carp: "up", moveSeconds: 45 },
    { name: "node booting: CARP in INIT, then BACKUP, then MASTER (no peer)", carp: "invalid", events: [[3, carpTo("down")], [5, carpTo("up")]] },
];

const END = 300;

function play(text: string, scenario: Scenario, ipmovePath = IPMOVE): { world: EdgeNodeWorld; trace: TraceEntry[]; sim: IfstatedSimulation; samples: Sample[] } {
    const world = new EdgeNodeWorld(
        { publicInterface: "vio0", privateInterface: "vio1", carpdev: "vio2", carp: "carp0", failoverIp: spec.failoverIp, ipmovePath, claimPath: CLAIM, moveSeconds: scenario.moveSeconds ?? 20, peer: scenario.peer ?? false },
        scenario.carp,
    );
    const sim = new IfstatedSimulation(parseIfstatedConf(text, { interfaces: INTERFACES }), world);
    world.sim = sim;
    const samples: Sample[] = [];
    for (let t = 1; t <= END; t++) sim.at(t, () => samples.push({ at: sim.now, carp: world.carp(), alias: world.alias, state: sim.current?.name }));
    for (const [at, apply] of scenario.events ?? []) sim.at(at, () => apply(world));
    sim.start();
    sim.runUntil(END);
    return { world, trace: sim.trace, sim, samples };
}

interface Sample {
    at: number;
    carp: LinkState;
    alias: boolean;
    state?: string;
}

const moves = (j: JournalEntry[]) => j.filter((e) => e.what === "move");
const show = (j: JournalEntry[]) => j.filter((e) => e.what !== "claim").map((e) => `${e.at.toFixed(2)} ${e.what} by ${e.by} (carp ${e.carp}, alias ${e.alias ? "on" : "off"})`).join("\n");

/** Where the node stands against CARP, every second: not MASTER for 2 s means no alias; MASTER for reassertSeconds + 2 means the alias and a claim since. */
function convergence(samples: Sample[], journal: JournalEntry[]): string[] {
    const problems: string[] = [];
    const changes = journal.filter((e) => e.what === "link" && e.detail?.startsWith("carp0 "));
    for (const s of samples) {
        const since = changes.filter((c) => c.at <= s.at).pop()?.at ?? 0;
        const held = s.at - since;
        if (s.carp !== "up" && held >= 2 && s.alias) problems.push(`${s.at}: alias on a node CARP ${s.carp} for ${held} s (state ${s.state})`);
        if (s.carp === "up" && held >= REASSERT + 2) {
            if (!s.alias) problems.push(`${s.at}: no alias on a node MASTER for ${held} s (state ${s.state})`);
            if (!moves(journal).some((m) => m.at >= since && m.at <= s.at)) problems.push(`${s.at}: no claim since MASTER at ${since}`);
        }
    }
    return problems;
}

describe.each([
    ["the master node's", master],
    ["the backup node's", backup],
])("%s rendered ifstated.conf", (_, node) => {
    const text = rendered(node);

    it("parses as ifstated -n would", () => {
        expect(() => parseIfstatedConf(text, { interfaces: INTERFACES })).not.toThrow();
    });

    describe.each(SCENARIOS)("$name", (scenario) => {
        const { world, trace, samples } = play(text, scenario);

        it("claims nothing while the node is not CARP master, at start or ever", () => {
            expect(moves(world.journal).filter((m) => m.carp !== "up"), show(world.journal)).toEqual([]);
        });

        it("moves the IP through the claim script only, and enters promoted only as CARP master", () => {
            expect(moves(world.journal).filter((m) => m.by !== "claim"), show(world.journal)).toEqual([]);
            const promotions = trace.filter((t) => t.kind === "state" && t.to === "promoted");
            const carpAt = (at: number) => world.journal.filter((e) => e.what === "link" && e.detail?.startsWith("carp0 ") && e.at <= at).pop()?.detail ?? `carp0 ${scenario.carp}`;
            for (const p of promotions) expect(carpAt(p.at), `promoted at ${p.at}`).toBe("carp0 up");
        });

        it("adds the alias before every move", () => {
            expect(moves(world.journal).filter((m) => !m.alias), show(world.journal)).toEqual([]);
        });

        it("never blocks ifstated on a claim: no command it waits for takes more than the ping's second", () => {
            const waits = trace.filter((t) => (t.kind === "run" || (t.kind === "test" && t.mode === "sync")) && t.seconds > 1.5);
            expect(waits).toEqual([]);
        });

        it("never kills a claim half-way", () => {
            expect(trace.filter((t) => t.kind === "killed")).toEqual([]);
        });

        it("forgets this mastership's claim within a second of CARP no longer being master", () => {
            const carp = world.journal.filter((e) => e.what === "link" && e.detail?.startsWith("carp0 "));
            const losses = carp.filter((e, i) => e.detail !== "carp0 up" && (i === 0 ? scenario.carp === "up" : carp[i - 1].detail === "carp0 up"));
            for (const loss of losses) {
                const forgotten = world.journal.find((e) => e.what === "claim-forgotten" && e.at >= loss.at);
                expect(forgotten, `lost MASTER at ${loss.at}\n${show(world.journal)}`).toBeDefined();
                expect(forgotten!.at - loss.at).toBeLessThan(1);
            }
        });

        it("ends up as CARP says: no alias on a backup, the alias and a claim on a master", () => {
            expect(convergence(samples, world.journal), show(world.journal)).toEqual([]);
        });
    });

    it("claims at once on a master at start, then every reassertSeconds while master", () => {
        const { world } = play(text, SCENARIOS[1]);
        const m = moves(world.journal);
        expect(m[0].at).toBeLessThan(1);
        expect(m.length).toBeGreaterThanOrEqual(END / REASSERT - 1);
        expect(m.length).toBeLessThanOrEqual(END / REASSERT + 2);
    });

    it("claims within 2 s of a promotion, with the alias first", () => {
        const { world } = play(text, SCENARIOS[2]);
        const m = moves(world.journal);
        expect(m[0].at).toBeGreaterThanOrEqual(100);
        expect(m[0].at).toBeLessThan(102);
        const alias = world.journal.find((e) => e.what === "alias-add")!;
        expect(alias.at).toBeLessThanOrEqual(m[0].at);
        expect(world.journal.indexOf(alias)).toBeLessThan(world.journal.indexOf(m[0]));
    });

    it("drops the alias within a second of a demotion and claims no more", () => {
        const { world } = play(text, SCENARIOS[3]);
        const del = world.journal.find((e) => e.what === "alias-del" && e.at >= 100)!;
        expect(del.at).toBeLessThan(101);
        expect(moves(world.journal).filter((m) => m.at >= 100)).toEqual([]);
    });

    it("gives up the master role when its ping fails, and its demotion when the ping is back", () => {
        const { world, sim } = play(text, SCENARIOS[4]);
        expect(world.carp()).toBe("down");
        expect(world.demote).toBe(0);
        expect(sim.current?.name).toBe("demoted");
        expect(moves(world.journal).filter((m) => m.at >= 100)).toEqual([]);
    });

    it("never has two claims at once: a claim that outlasts the period is left to finish", () => {
        const { world } = play(text, SCENARIOS[8]);
        expect(world.journal.filter((e) => e.what === "claim-skipped").length).toBeGreaterThan(0);
        const m = moves(world.journal);
        for (let i = 1; i < m.length; i++) expect(m[i].at - m[i - 1].at).toBeGreaterThanOrEqual(45);
    });
});

describe("seed 001's own ifstated.conf in the model", () => {
    const seed = readFileSync(join(__dirname, "golden", "openbsd", "ifstated.conf"), "utf8").replace(/146\.59\.143\.231/g, spec.failoverIp);
    const SEED_MOVE = "/usr/local/bin/ipmoveOvh";

    it("claims nothing on a node that starts as backup: its claim is in the body, behind carp0.link.up", () => {
        const { world, sim } = play(seed, SCENARIOS[0], SEED_MOVE);
        expect(moves(world.journal)).toEqual([]);
        expect(sim.current?.name).toBe("demoted");
    });

    it("on a master: the alias, then the move, which ifstated waits for; and no claim again (the split-brain hole)", () => {
        const { world, trace } = play(seed, SCENARIOS[1], SEED_MOVE);
        expect(world.journal.filter((e) => e.what === "alias-add" || e.what === "move").map((e) => e.what)).toEqual(["alias-add", "move"]);
        expect(trace.find((t) => t.kind === "run" && t.command.startsWith(SEED_MOVE))).toMatchObject({ seconds: 20 });
    });
});
