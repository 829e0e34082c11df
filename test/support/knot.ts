// Real authoritative name servers for tests: Knot DNS from Debian's packages (knot: knotd and
// knotc), each serving zone files rendered from records as the OVH stand-in holds them, in a
// network namespace of its own reached from this one through a veth pair. `publish` writes a zone
// and reloads it (what OVH's refresh does to its own servers); a server never published to keeps
// its old answers.
//
// Configuration as tried with knot 3.2.6 (/tmp/i27b/research28.md §1b): zonefile-load whole and
// journal-content none make a reload re-read the whole file, zonefile-sync -1 never writes it
// back, `knotc -b zone-reload` blocks until the zone is loaded (exit 1 when the file does not
// parse, the old zone then still served), the control socket is knot.sock in the rundir.
import { ChildProcess, execFile, spawn, spawnSync } from "child_process";
import * as dns from "dns";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { promisify } from "util";
import type { ZoneRecordSeed } from "./ovhStandIn";

const execFileAsync = promisify(execFile);

export const KNOTD = "/usr/sbin/knotd";
export const KNOTC = "/usr/sbin/knotc";

/** Root, iproute2's netns, and the knot package (apt-get install knot; .ci/run installs it). */
export function canRunKnot(): boolean {
    return process.getuid?.() === 0 && fs.existsSync(KNOTD) && fs.existsSync(KNOTC) && spawnSync("ip", ["netns", "list"]).status === 0;
}

export interface ZoneFileOptions {
    /** The SOA serial (OVH bumps it at each refresh). */
    serial: number;
    /** The zone's NS records (host names), e.g. the stand-in's nameServers. */
    nameServers: string[];
    /** The zone's default TTL: a record of TTL 0 gets it (GET /domain/zone/{zone}/soa, ttl). */
    defaultTtl: number;
}

const LABEL = /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9])?$/i;
const RENDERED_TYPES = ["A", "AAAA", "CNAME", "TXT"];

/** Whether a target may stand on a zone file line as it is: the type's syntax, and nothing that ends the line. */
function targetProblem(r: ZoneRecordSeed): string | undefined {
    // eslint-disable-next-line no-control-regex
    if (/[\u0000-\u001f\u007f]/.test(r.target)) return "a control character (a new line would start another record)";
    if (r.fieldType === "A" && !net.isIPv4(r.target)) return "not an IPv4 address";
    if (r.fieldType === "AAAA" && !net.isIPv6(r.target)) return "not an IPv6 address";
    if (r.fieldType === "CNAME" && !r.target.replace(/\.$/, "").split(".").every((l) => LABEL.test(l))) return "not a host name";
    if (r.fieldType === "TXT" && !/^"([^"\\]|\\.)*"(\s+"([^"\\]|\\.)*")*$/.test(r.target)) return 'not quoted as OVH stores it ("…" or "…" "…")';
    return undefined;
}

/**
 * The zone file of a zone's records: the SOA and NS records, then each record with its owner
 * ("" is the apex: @), its TTL (0: the zone's default, $TTL) and its target as OVH holds it (a
 * zone file's syntax: OVH's records are zone file lines, GET /domain/zone/{zone}/export).
 */
export function renderZoneFile(zone: string, records: ZoneRecordSeed[], opts: ZoneFileOptions): string {
    const ns = opts.nameServers.map((n) => (n.endsWith(".") ? n : `${n}.`));
    if (ns.length === 0) throw new Error(`knot: zone ${zone} needs a name server for its SOA`);
    const lines = [
        `$ORIGIN ${zone}.`,
        `$TTL ${opts.defaultTtl}`,
        `@ IN SOA ${ns[0]} tech.ovh.net. ${opts.serial} 86400 3600 3600000 300`,
        ...ns.map((n) => `@ IN NS ${n}`),
    ];
    for (const r of records) {
        const owner = r.subDomain === "" ? "@" : r.subDomain;
        if (!owner.split(".").every((l, i) => l === "@" || LABEL.test(l) || (l === "*" && i === 0))) throw new Error(`knot: ${JSON.stringify(r.subDomain)} of ${zone} is not a record name`);
        if (!RENDERED_TYPES.includes(r.fieldType)) throw new Error(`knot: ${r.fieldType} records are not rendered (${RENDERED_TYPES.join(", ")} are)`);
        if (!Number.isInteger(r.ttl) || r.ttl < 0) throw new Error(`knot: ${owner} ${r.fieldType} has TTL ${r.ttl}`);
        const problem = targetProblem(r);
        if (problem) throw new Error(`knot: ${owner} ${r.fieldType} ${JSON.stringify(r.target)} is ${problem}`);
        lines.push(`${owner} ${r.ttl === 0 ? "" : `${r.ttl} `}IN ${r.fieldType} ${r.target}`);
    }
    return `${lines.join("\n")}\n`;
}

export interface KnotServer {
    /** Where it answers, on port 53. */
    address: string;
    address6?: string;
    /** Writes the zone's file from these records and reloads it; resolves once the zone is loaded. */
    publish(zone: string, records: ZoneRecordSeed[]): Promise<void>;
    /** How many times publish reloaded a zone. */
    readonly reloads: number;
    /** What knotd logged so far. */
    log(): string;
    stop(): Promise<void>;
}

export interface KnotServerOptions {
    /** The zones it serves from the start, with their records. */
    zones: Record<string, ZoneRecordSeed[]>;
    /** The NS records of its zones (default: ns.invalid.). */
    nameServers?: string[];
    /** $TTL of its zones (default 3600, the stand-in's). */
    defaultTtl?: number;
}

/** A server of a lab: it has an IPv6 address too. */
export type LabKnotServer = KnotServer & { address6: string };

export interface KnotLab {
    /** The network namespace the servers run in. */
    ns: string;
    /** This namespace's end of the veth pair: an address where no name server listens. */
    hostAddress: string;
    /** A server with the next addresses of the lab (IPv4 and IPv6), answering once this resolves. */
    start(opts: KnotServerOptions): Promise<LabKnotServer>;
    /** Stops every server, then removes the namespace (and with it the veth pair). */
    destroy(): Promise<void>;
}

let labs = 0;

/** A /24 of 198.19.0.0/16 (RFC 2544's benchmarking range) that no link here uses yet. */
function freeSubnet(): number {
    const inUse = spawnSync("ip", ["-o", "addr", "show"], { encoding: "utf8" }).stdout;
    for (let i = 0; i < 250; i++) {
        const octet = ((process.pid + labs + i) % 250) + 1;
        if (!inUse.includes(` 198.19.${octet}.`)) return octet;
    }
    throw new Error("knot: no free /24 in 198.19.0.0/16");
}

function ip(...args: string[]): void {
    const r = spawnSync("ip", args, { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`ip ${args.join(" ")}: ${r.stderr.trim()}`);
}

/** Polls until the server answers the zone's SOA, or its process ends, or the bound. */
async function firstAnswer(address: string, zones: string[], child: ChildProcess, log: () => string, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
        if (child.exitCode !== null || child.signalCode !== null) throw new Error(`knotd at ${address} ended (${child.exitCode ?? child.signalCode}) before it answered:\n${log()}`);
        const resolver = new dns.promises.Resolver({ timeout: 500, tries: 1 });
        resolver.setServers([address]);
        const answered = await Promise.all(zones.map((z) => resolver.resolveSoa(z).then(() => true, () => false)));
        if (answered.every(Boolean)) return;
        if (Date.now() > deadline) throw new Error(`knotd at ${address} did not answer the SOA of ${zones.join(", ")} within ${timeoutMs / 1000} s:\n${log()}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
    }
}

export function createKnotLab(): KnotLab {
    labs++;
    const tag = `${process.pid}-${labs}`;
    const ns = `knot-${tag}`;
    const octet = freeSubnet();
    const hostIf = `kh${tag}`.slice(0, 15);
    const nsIf = `kn${tag}`.slice(0, 15);
    const servers: KnotServer[] = [];
    ip("netns", "add", ns);
    try {
        ip("-n", ns, "link", "set", "lo", "up");
        ip("link", "add", hostIf, "type", "veth", "peer", "name", nsIf, "netns", ns);
        ip("addr", "add", `198.19.${octet}.1/24`, "dev", hostIf);
        ip("-6", "addr", "add", `fd28:${octet.toString(16)}::1/64`, "dev", hostIf, "nodad");
        ip("link", "set", hostIf, "up");
        ip("-n", ns, "link", "set", nsIf, "up");
    } catch (err) {
        spawnSync("ip", ["netns", "del", ns]);
        throw err;
    }

    return {
        ns,
        hostAddress: `198.19.${octet}.1`,
        async start(opts) {
            const k = 53 + servers.length;
            const address = `198.19.${octet}.${k}`;
            const address6 = `fd28:${octet.toString(16)}::${k}`;
            ip("-n", ns, "addr", "add", `${address}/24`, "dev", nsIf);
            ip("-n", ns, "-6", "addr", "add", `${address6}/64`, "dev", nsIf, "nodad");
            const server = await startKnot({ address, address6, netns: ns }, opts);
            servers.push(server);
            return Object.assign(server, { address6 });
        },
        async destroy() {
            for (const s of servers) await s.stop();
            spawnSync("ip", ["netns", "del", ns]);
            // The host end goes with its peer; should it linger, remove it.
            spawnSync("ip", ["link", "del", hostIf], { stdio: "ignore" });
        },
    };
}

/** Where a server listens, on port 53: its addresses, in a network namespace or in this one. */
export interface KnotListen {
    address: string;
    address6?: string;
    /** The namespace it runs in (default: this process's). */
    netns?: string;
}

/** A knotd serving `opts.zones`, answering once this resolves; its files are removed when it stops. */
export async function startKnot(where: KnotListen, opts: KnotServerOptions): Promise<KnotServer> {
    const { address, address6 } = where;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "knot-"));
    fs.mkdirSync(path.join(dir, "zones"));
    fs.mkdirSync(path.join(dir, "db"));
    const zones = Object.keys(opts.zones);
    const serials = new Map(zones.map((z) => [z, 2026120700]));
    const fileOptions = (zone: string): ZoneFileOptions => ({ serial: serials.get(zone)!, nameServers: opts.nameServers ?? ["ns.invalid."], defaultTtl: opts.defaultTtl ?? 3600 });
    const write = (zone: string, records: ZoneRecordSeed[]) => {
        const file = path.join(dir, "zones", `${zone}.zone`);
        fs.writeFileSync(`${file}.new`, renderZoneFile(zone, records, fileOptions(zone)));
        fs.renameSync(`${file}.new`, file);
    };
    for (const [zone, records] of Object.entries(opts.zones)) write(zone, records);
    const conf = path.join(dir, "knot.conf");
    fs.writeFileSync(conf, [
        "server:",
        `    rundir: "${dir}"`,
        "    user: root:root",
        `    listen: [ ${[address, address6].filter((a) => a !== undefined).map((a) => `${a}@53`).join(", ")} ]`,
        "database:",
        `    storage: "${path.join(dir, "db")}"`,
        "log:",
        "  - target: stderr",
        "    any: info",
        "template:",
        "  - id: default",
        `    storage: "${path.join(dir, "zones")}"`,
        "    zonefile-sync: -1",
        "    zonefile-load: whole",
        "    journal-content: none",
        "    semantic-checks: off",
        "zone:",
        ...zones.flatMap((z) => [`  - domain: ${z}`, `    file: ${z}.zone`]),
        "",
    ].join("\n"));

    let logged = "";
    // `ip netns exec` execs knotd in the namespace: the child's pid is knotd's.
    const argv = [KNOTD, "-c", conf];
    const child = where.netns ? spawn("ip", ["netns", "exec", where.netns, ...argv], { stdio: ["ignore", "ignore", "pipe"] }) : spawn(argv[0], argv.slice(1), { stdio: ["ignore", "ignore", "pipe"] });
    child.stderr?.on("data", (d: Buffer) => (logged += d.toString()));
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    let reloads = 0;
    const server: KnotServer = {
        address,
        address6,
        async publish(zone, records) {
            if (!serials.has(zone)) throw new Error(`knot at ${address} does not serve ${zone} (it serves ${zones.join(", ")})`);
            serials.set(zone, serials.get(zone)! + 1);
            write(zone, records);
            try {
                await execFileAsync(KNOTC, ["-c", conf, "-b", "zone-reload", zone], { timeout: 30_000 });
            } catch (err) {
                const e = err as { stdout?: string; stderr?: string; message: string };
                throw new Error(`knotc zone-reload ${zone} at ${address} failed: ${e.stdout ?? ""}${e.stderr ?? e.message}\n${logged}`, { cause: err });
            }
            reloads++;
        },
        get reloads() {
            return reloads;
        },
        log: () => logged,
        async stop() {
            if (child.exitCode === null && child.signalCode === null) {
                child.kill("SIGTERM");
                const killed = setTimeout(() => child.kill("SIGKILL"), 10_000);
                await exited;
                clearTimeout(killed);
            }
            fs.rmSync(dir, { recursive: true, force: true });
        },
    };
    try {
        await firstAnswer(address, zones, child, () => logged);
    } catch (err) {
        await server.stop();
        throw err;
    }
    return server;
}
