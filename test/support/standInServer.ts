// The OVH API stand-in as a program, for labs where the API lives in its own network namespace:
//
//   ip netns exec <api-ns> node --import tsx test/support/standInServer.ts \
//       --listen 198.51.100.99 --dir <dir> --ready <file> --log <file> \
//       --project <serviceName> --failover-ip 203.0.113.50 --failover-id fip-1 \
//       --instance edge-1=<uuid> --instance edge-2=<uuid> ...
//
// startOvhStandIn() only listens on 127.0.0.1 and its certificate names 127.0.0.1 and localhost,
// so this program puts a TLS-terminating reverse proxy in front of it on --listen (port 443
// unless --port), with its own certificate for that address: the nodes' ovh-ipmove talks to
// https://<listen>/1.0 and checks the proxy's certificate (NODE_EXTRA_CA_CERTS=<caFile>). The
// proxy keeps the Host header, so the stand-in checks the signature against the URL the client
// signed. Everything the stand-in sees is written to --log as JSON lines, as it happens:
//
//   {"type":"request","t":<ms since epoch, when the request reached the stand-in>,"method","path",
//    "route","body","status","routedTo","ipStatus"}    (routedTo/ipStatus: the failover IP right
//                                                       after the stand-in handled the request)
//   {"type":"routing","t","routedTo","ipStatus"}       (each change of the failover IP's routing)
//   {"type":"violation","t","text"}                    (the stand-in's schema/auth violations)
//   {"type":"control","t","down"}                      (--control <file> applied: the API down or back)
//
// --ready gets {"url","caFile","applicationKey","applicationSecret","consumerKey","project",
// "failoverIpId","failoverIp","instances"} once it serves. SIGTERM or SIGINT: flush, close, exit 0.
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import * as https from "node:https";
import * as path from "node:path";
import { promisify } from "node:util";
import { startOvhStandIn, type OvhStandIn, type RecordedRequest } from "./ovhStandIn";

export interface StandInServerArgs {
    listen: string;
    port: number;
    dir: string;
    ready: string;
    log: string;
    project: string;
    failoverIp: string;
    failoverId: string;
    /** Instance name → id, one per edge node. */
    instances: Record<string, string>;
    /** Where the failover IP is routed at start ("" for nowhere). */
    routedTo: string;
    /** How long an attach stays operationPending, in ms, as a real one takes seconds (default 0). */
    attachMs: number;
    /** A file the lab writes {"down": boolean} to, to take the API down and bring it back (setDown). */
    control?: string;
}

export interface StandInReady {
    url: string;
    caFile: string;
    applicationKey: string;
    applicationSecret: string;
    consumerKey: string;
    project: string;
    failoverIpId: string;
    failoverIp: string;
    instances: Record<string, string>;
}

export type StandInLogLine =
    | {
          type: "request";
          t: number;
          method: string;
          path: string;
          route: string | null;
          body: unknown;
          status: number;
          routedTo: string;
          ipStatus: string;
      }
    | { type: "routing"; t: number; routedTo: string; ipStatus: string }
    | { type: "violation"; t: number; text: string }
    | { type: "control"; t: number; down: boolean };

const USAGE =
    "usage: standInServer.ts --listen <address> [--port 443] --dir <dir> --ready <file> --log <file> " +
    "--project <serviceName> --failover-ip <ip> --failover-id <id> --instance <name>=<id> ... [--routed-to <instance id>] [--attach-ms <ms>] [--control <file>]";

export function parseServerArgs(argv: string[]): StandInServerArgs {
    const one: Record<string, string> = {};
    const instances: Record<string, string> = {};
    for (let i = 0; i < argv.length; i++) {
        const m = /^--([a-z-]+)$/.exec(argv[i]);
        const value = argv[i + 1];
        if (!m || value === undefined) throw new Error(`${USAGE}\n(bad argument ${JSON.stringify(argv[i])})`);
        i++;
        if (m[1] === "instance") {
            const [name, id] = value.split("=");
            if (!name || !id) throw new Error(`--instance takes <name>=<id>, not ${JSON.stringify(value)}`);
            instances[name] = id;
        } else {
            one[m[1]] = value;
        }
    }
    for (const key of ["listen", "dir", "ready", "log", "project", "failover-ip", "failover-id"]) {
        if (!one[key]) throw new Error(`${USAGE}\n(--${key} is missing)`);
    }
    if (Object.keys(instances).length === 0) throw new Error(`${USAGE}\n(no --instance)`);
    return {
        listen: one.listen,
        port: Number(one.port ?? 443),
        dir: one.dir,
        ready: one.ready,
        log: one.log,
        project: one.project,
        failoverIp: one["failover-ip"],
        failoverId: one["failover-id"],
        instances,
        routedTo: one["routed-to"] ?? "",
        attachMs: Number(one["attach-ms"] ?? 0),
        control: one.control,
    };
}

async function certificateFor(address: string, dir: string): Promise<{ key: string; cert: string; certFile: string }> {
    const keyFile = path.join(dir, "proxy-key.pem");
    const certFile = path.join(dir, "proxy-cert.pem");
    await promisify(execFile)("openssl", [
        "req", "-x509", "-newkey", "rsa:2048", "-nodes",
        "-subj", `/CN=${address}`,
        "-addext", `subjectAltName=IP:${address}`,
        "-days", "2",
        "-keyout", keyFile,
        "-out", certFile,
    ]);
    fs.chmodSync(keyFile, 0o600);
    return { key: fs.readFileSync(keyFile, "utf8"), cert: fs.readFileSync(certFile, "utf8"), certFile };
}

/** A TLS-terminating reverse proxy from `listen:port` to the stand-in, Host header untouched. */
async function startProxy(standIn: OvhStandIn, args: StandInServerArgs): Promise<{ server: https.Server; caFile: string }> {
    const { key, cert, certFile } = await certificateFor(args.listen, args.dir);
    const agent = new https.Agent({ keepAlive: true, ca: standIn.caPem });
    const server = https.createServer({ key, cert }, (req: IncomingMessage, res: ServerResponse) => {
        const upstream = https.request(
            { host: "127.0.0.1", port: standIn.port, method: req.method, path: req.url, headers: req.headers, agent },
            (answer) => {
                res.writeHead(answer.statusCode ?? 502, answer.headers);
                answer.pipe(res);
            },
        );
        upstream.on("error", () => {
            // The stand-in dropped the connection (crashAfterCreate) or is closing: do the same.
            req.socket.destroy();
        });
        req.pipe(upstream);
    });
    await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(args.port, args.listen, () => resolve());
    });
    return { server, caFile: certFile };
}

export async function serve(args: StandInServerArgs): Promise<() => Promise<void>> {
    fs.mkdirSync(args.dir, { recursive: true });
    const standIn = await startOvhStandIn();
    standIn.addCloudProject(args.project, {
        instances: Object.entries(args.instances).map(([name, id]) => ({ id, name })),
        failoverIps: [{ id: args.failoverId, ip: args.failoverIp, routedTo: args.routedTo }],
    });
    standIn.attachOutcome("ok", { durationMs: args.attachMs });

    const failoverIp = () => standIn.cloudFailoverIps(args.project).find((f) => f.id === args.failoverId)!;

    // When each request reached the stand-in (its record is pushed once the body is read), and
    // the failover IP right after it was handled (the stand-in sets the status then).
    const seen = new Map<RecordedRequest, { t: number; routedTo?: string; ipStatus?: string }>();
    const requests = standIn.requests;
    const push = requests.push.bind(requests);
    requests.push = (...items: RecordedRequest[]) => {
        const t = Date.now();
        for (const r of items) {
            const note: { t: number; routedTo?: string; ipStatus?: string } = { t };
            seen.set(r, note);
            let status = r.status;
            Object.defineProperty(r, "status", {
                enumerable: true,
                configurable: true,
                get: () => status,
                set: (value: number) => {
                    status = value;
                    const f = failoverIp();
                    note.routedTo = f.routedTo;
                    note.ipStatus = f.status;
                },
            });
        }
        return push(...items);
    };

    const log = fs.openSync(args.log, "a");
    const write = (line: StandInLogLine) => fs.writeSync(log, `${JSON.stringify(line)}\n`);
    let written = 0;
    let violations = 0;
    let routing = `${failoverIp().routedTo} ${failoverIp().status}`;
    write({ type: "routing", t: Date.now(), routedTo: failoverIp().routedTo, ipStatus: failoverIp().status });

    /** Writes the answered requests in order, new violations and any change of routing. */
    const flush = () => {
        while (written < requests.length && requests[written].status !== 0) {
            const r = requests[written++];
            const note = seen.get(r) ?? { t: Date.now() };
            const f = failoverIp();
            write({
                type: "request",
                t: note.t,
                method: r.method,
                path: r.path,
                route: r.route,
                body: r.body,
                status: r.status,
                routedTo: note.routedTo ?? f.routedTo,
                ipStatus: note.ipStatus ?? f.status,
            });
            seen.delete(r);
        }
        while (violations < standIn.violations.length) write({ type: "violation", t: Date.now(), text: standIn.violations[violations++] });
        const f = failoverIp();
        if (`${f.routedTo} ${f.status}` !== routing) {
            routing = `${f.routedTo} ${f.status}`;
            write({ type: "routing", t: Date.now(), routedTo: f.routedTo, ipStatus: f.status });
        }
    };
    // The control file, read at each tick; each change it makes is logged once applied.
    let control = "";
    const readControl = () => {
        if (!args.control) return;
        let text: string;
        try {
            text = fs.readFileSync(args.control, "utf8");
        } catch {
            return;
        }
        if (text === control) return;
        control = text;
        const { down } = JSON.parse(text) as { down: boolean };
        standIn.setDown(down);
        write({ type: "control", t: Date.now(), down });
    };
    const timer = setInterval(() => {
        readControl();
        flush();
    }, 20);

    const proxy = await startProxy(standIn, args);
    const url = `https://${args.listen}${args.port === 443 ? "" : `:${args.port}`}/1.0`;
    const ready: StandInReady = {
        url,
        caFile: proxy.caFile,
        applicationKey: standIn.applicationKey,
        applicationSecret: standIn.applicationSecret,
        consumerKey: standIn.consumerKey,
        project: args.project,
        failoverIpId: args.failoverId,
        failoverIp: args.failoverIp,
        instances: args.instances,
    };
    fs.writeFileSync(`${args.ready}.tmp`, JSON.stringify(ready));
    fs.renameSync(`${args.ready}.tmp`, args.ready);

    return async () => {
        clearInterval(timer);
        flush();
        proxy.server.closeAllConnections();
        await new Promise<void>((resolve) => proxy.server.close(() => resolve()));
        await standIn.close();
        fs.closeSync(log);
    };
}

if (require.main === module) {
    let args: StandInServerArgs;
    try {
        args = parseServerArgs(process.argv.slice(2));
    } catch (err) {
        console.error((err as Error).message);
        process.exit(2);
    }
    serve(args).then(
        (close) => {
            let closing = false;
            const stop = () => {
                if (closing) return;
                closing = true;
                close().then(
                    () => process.exit(0),
                    (err: unknown) => {
                        console.error(`standInServer: ${String(err)}`);
                        process.exit(1);
                    },
                );
            };
            process.on("SIGTERM", stop);
            process.on("SIGINT", stop);
        },
        (err: unknown) => {
            console.error(`standInServer: ${err instanceof Error ? err.stack : String(err)}`);
            process.exit(1);
        },
    );
}
