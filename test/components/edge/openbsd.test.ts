import { readFileSync } from "fs";
import { join } from "path";
import { describe, expect, it } from "vitest";
import { CarpNodeSpec, EdgePairSpec } from "../../../components/edge/carpSpec";
import {
    insertPfRule,
    renderHostnameCarp,
    renderHostnameCarpdev,
    renderIfstatedConf,
    renderOpenbsdNodeFiles,
    renderPfCarpRule,
} from "../../../components/edge/openbsd";

const golden = (name: string) => readFileSync(join(__dirname, "golden", "openbsd", name), "utf8");

// Seed 001's own values.
const master: CarpNodeSpec = {
    name: "bi-edge-sbg-1",
    advskew: 1,
    publicInterface: "vio0",
    privateInterface: "vio1",
    move: { kind: "cloud", project: "t18s", instance: "bi-edge-sbg-1" },
};
const backup: CarpNodeSpec = { ...master, name: "bi-edge-sbg-2", advskew: 50, move: { kind: "cloud", project: "t18s", instance: "bi-edge-sbg-2" } };

function seedSpec(failoverIp = "146.59.143.231"): EdgePairSpec {
    return {
        group: { vhid: 1, address: "10.25.0.10", prefixLength: 16, carpdev: "vio2", advbase: 1, password: "xxx", carpUnit: 0 },
        nodes: [master, backup],
        failoverIp,
        health: { pingTarget: "8.8.8.8", intervalSeconds: 15 },
        ipmovePath: "/usr/local/bin/ipmoveOvh",
    };
}

function moveCommand(spec: EdgePairSpec, node: CarpNodeSpec): string {
    if (node.move.kind !== "cloud") throw new Error("cloud nodes only here");
    return `${spec.ipmovePath} -project ${node.move.project} -ip ${spec.failoverIp} -instance ${node.move.instance}`;
}

const ifstated = (spec: EdgePairSpec, node: CarpNodeSpec) => renderIfstatedConf(spec, node, moveCommand(spec, node));

/** Removes `#` comments outside quotes. */
function stripComment(line: string): string {
    let quote: string | undefined;
    for (let i = 0; i < line.length; i++) {
        const c = line[i];
        if (quote !== undefined) {
            if (c === quote) quote = undefined;
        } else if (c === "'" || c === '"') {
            quote = c;
        } else if (c === "#") {
            return line.slice(0, i);
        }
    }
    return line;
}

/**
 * Statements, comments and blanks normalised. A plain word single-quoted ('vio0') is the same word
 * to the shell that runs an ifstated action: the renderer quotes every value, the seed did not.
 */
function statements(text: string): string[] {
    return text
        .split("\n")
        .map((line) => stripComment(line).trim().replace(/[ \t]+/g, " ").replace(/'([A-Za-z0-9._/:-]+)'/g, "$1"))
        .filter((line) => line !== "");
}

function runCommands(text: string): string[] {
    return text.split("\n").flatMap((line) => {
        const m = /^\s*run "(.*)"\s*$/.exec(line);
        return m ? [m[1]] : [];
    });
}

/**
 * The statements of ifstated.conf without the re-assertion block, which seed 001 does not have
 * (its claim ran only on a change of state: the split-brain hole).
 */
function withoutReassertion(lines: string[]): string[] {
    const start = lines.findIndex((l) => /^if ! ".*" every \d+ \{$/.test(l));
    if (start < 0) return lines;
    return [...lines.slice(0, start), ...lines.slice(start + 3)];
}

describe("OpenBSD edge node files, seed 001", () => {
    const spec = seedSpec();

    it("render the seed's files statement for statement", () => {
        expect(statements(renderHostnameCarpdev(spec.group))).toEqual(statements(golden("hostname.vio2")));
        expect(statements(renderHostnameCarp(spec.group, master))).toEqual(statements(golden("hostname.carp0.master")));
        expect(statements(renderHostnameCarp(spec.group, backup))).toEqual(statements(golden("hostname.carp0.backup")));
        expect(statements(renderPfCarpRule(spec.group))).toEqual(statements(golden("pf-rule")));
        expect(withoutReassertion(statements(ifstated(spec, master)))).toEqual(statements(golden("ifstated.conf")));
    });

    it("re-claim the IP every reassertSeconds while promoted, with an external test that is the claim itself", () => {
        const conf = ifstated({ ...spec, reassertSeconds: 45 }, master);
        const promoted = conf.slice(conf.indexOf("state promoted {"), conf.indexOf("state demoted {"));
        const test = `if ! "${moveCommand(spec, master)} >/dev/null 2>&1" every 45 {`;
        expect(promoted).toContain(test);
        expect(conf.split("\n").filter((l) => l.includes("every 45") && !l.trim().startsWith("#"))).toHaveLength(1);
        expect(statements(conf).length - withoutReassertion(statements(conf)).length).toBe(3);
    });

    it("write hostname.carp0 exactly as the seed does", () => {
        expect(renderHostnameCarp(spec.group, master)).toBe("inet 10.25.0.10 255.255.0.0 10.25.255.255 vhid 1 carpdev vio2 pass xxx advskew 1\nup\n");
        expect(renderHostnameCarp(spec.group, backup)).toBe("inet 10.25.0.10 255.255.0.0 10.25.255.255 vhid 1 carpdev vio2 pass xxx advskew 50\nup\n");
        expect(renderHostnameCarp(spec.group, master)).toBe(golden("hostname.carp0.master"));
        expect(renderHostnameCarpdev(spec.group)).toBe(golden("hostname.vio2"));
        expect(renderPfCarpRule(spec.group)).toBe(golden("pf-rule"));
    });

    it("puts advbase after vhid only when it is not 1", () => {
        const group = { ...spec.group, advbase: 3 };
        expect(renderHostnameCarp(group, master)).toBe("inet 10.25.0.10 255.255.0.0 10.25.255.255 vhid 1 advbase 3 carpdev vio2 pass xxx advskew 1\nup\n");
    });

    it("lists the node's files, the CARP one secret, and the pf rule apart", () => {
        const { files, pfRule } = renderOpenbsdNodeFiles(spec, master, moveCommand(spec, master));
        expect(files.map((f) => [f.path, f.secret])).toEqual([
            ["/etc/hostname.vio2", false],
            ["/etc/hostname.carp0", true],
            ["/etc/ifstated.conf", false],
        ]);
        expect(files.every((f) => f.content.endsWith("\n"))).toBe(true);
        expect(pfRule).toBe("pass on vio2 proto carp\n");
    });
});

describe("a new failover IP", () => {
    const before = seedSpec("146.59.143.231");
    const after = seedSpec("51.75.1.2");

    it.each([master, backup])("changes only the IP lines of $name's ifstated.conf", (node) => {
        const a = ifstated(before, node).split("\n");
        const b = ifstated(after, node).split("\n");
        expect(b).toHaveLength(a.length);
        const changed = a.flatMap((line, i) => (line === b[i] ? [] : [[line.trim(), b[i].trim()]])).filter(([l]) => !l.includes("every 30"));
        expect(changed).toEqual([
            [`run "ifconfig 'vio0' inet alias '146.59.143.231' netmask 255.255.255.255 2>&1 | logger -p daemon.info -sit ifstated"`,
             `run "ifconfig 'vio0' inet alias '51.75.1.2' netmask 255.255.255.255 2>&1 | logger -p daemon.info -sit ifstated"`],
            [`run "/usr/local/bin/ipmoveOvh -project t18s -ip 146.59.143.231 -instance ${node.name} 2>&1 | logger -p daemon.info -sit ifstated"`,
             `run "/usr/local/bin/ipmoveOvh -project t18s -ip 51.75.1.2 -instance ${node.name} 2>&1 | logger -p daemon.info -sit ifstated"`],
            [`run "ifconfig 'vio0' inet -alias '146.59.143.231'"`, `run "ifconfig 'vio0' inet -alias '51.75.1.2'"`],
        ]);
    });

    it.each([master, backup])("leaves $name's other files alone", (node) => {
        const files = (spec: EdgePairSpec) => renderOpenbsdNodeFiles(spec, node, moveCommand(spec, node));
        const others = (spec: EdgePairSpec) => files(spec).files.filter((f) => f.path !== "/etc/ifstated.conf");
        expect(others(after)).toEqual(others(before));
        expect(others(before).map((f) => f.path)).toEqual(["/etc/hostname.vio2", "/etc/hostname.carp0"]);
        expect(files(after).pfRule).toBe(files(before).pfRule);
    });
});

describe("ifstated run actions", () => {
    it("hold no $ variable: ifstated cannot expand them", () => {
        const spec = seedSpec();
        for (const node of [master, backup]) {
            const commands = runCommands(ifstated(spec, node));
            // The seed's, and the log line of a re-assertion that failed.
            expect(commands).toHaveLength(runCommands(golden("ifstated.conf")).length + 1);
            for (const command of commands) expect(command).not.toContain("$");
        }
    });

    it("refuse a move command that would expand or break out of the string", () => {
        const spec = seedSpec();
        expect(() => renderIfstatedConf(spec, master, "/usr/local/bin/ovh-ipmove -ip $ip")).toThrow(/cannot contain/);
        expect(() => renderIfstatedConf(spec, master, 'ovh-ipmove -instance "a b"')).toThrow(/cannot contain/);
    });
});

describe("insertPfRule", () => {
    const rule = "pass on vio2 proto carp\n";
    const pfConf = "set skip on lo\n\nblock return\t# block stateless traffic\npass\t\t# establish keep-state\n\nblock return in on ! lo0 proto tcp to port 6000:6010\n";

    it("adds the rule once, after every block rule, and keeps the rest", () => {
        const once = insertPfRule(pfConf, rule);
        expect(once).toBe(`${pfConf}pass on vio2 proto carp\n`);
        expect(insertPfRule(once, rule)).toBe(once);
        expect(once.split("\n").filter((l) => l === "pass on vio2 proto carp")).toHaveLength(1);
    });

    it("recognises the rule already there, whatever its spacing or comment", () => {
        const present = "block all\npass  on vio2\tproto carp   # CARP on the VLAN\n";
        expect(insertPfRule(present, rule)).toBe(present);
    });

    it("copes with a file without a final newline, or empty", () => {
        expect(insertPfRule("block all", rule)).toBe("block all\npass on vio2 proto carp\n");
        expect(insertPfRule("", rule)).toBe("pass on vio2 proto carp\n");
    });
});
