// A real OpenSSH server with Debian's stock /etc/ssh/sshd_config (AcceptEnv LANG LC_* only), in a
// network namespace of its own and a mount namespace whose /etc, /var and /usr/local are
// copy-on-write overlays: what a remote script writes there stays in the lab. Keys only: a fresh
// host key and a fresh client key; the client checks the host key.
//
// Commands are run the way @pulumi/command runs them (pulumi/pulumi-command
// provider/pkg/provider/remote/commandOutputs.go): the command string over an exec channel,
// secrets on stdin, and the previous stdout offered as PULUMI_COMMAND_STDOUT through an SSH env
// request, which stock sshd refuses.
import { ChildProcess, execFileSync, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

export interface RemoteRun {
    status: number | null;
    stdout: string;
    stderr: string;
}

export interface SshHost {
    ns: string;
    /** The host key's public line (`ssh-ed25519 AAAA…`), as `ssh-keyscan` prints it without the name. */
    hostKey: string;
    /** The client's private key (OpenSSH PEM), which the host accepts for root and every user. */
    clientKey: string;
    clientPublicKey: string;
    /** Files here appear under /usr/local in the lab (stand-ins for pct, systemctl, …). */
    usrLocal: string;
    /** What the lab's /var and /etc hold, as written by the remote scripts. */
    varDir: string;
    etcDir: string;
    /** Runs a command over SSH (as root unless told), as @pulumi/command would. */
    run(command: string, opts?: { stdin?: string; previousStdout?: string; user?: string }): RemoteRun;
    /** Starts a command over SSH (as root unless told) and returns at once: for sessions that run side by side. */
    spawn(command: string, opts?: { user?: string }): ChildProcess;
    /** Runs a command in the lab's network namespace, outside SSH (to look at interfaces). */
    inNamespace(...argv: string[]): string;
    /** From now on the host accepts these public keys besides its own client key (a key rotated, the old one revoked). */
    setAuthorizedKeys(keys: string[]): void;
    /** What sshd has logged (-e: on standard error; LogLevel VERBOSE), each line with when it arrived (ms since the epoch). */
    log(): { at: number; line: string }[];
    stop(): void;
}

export function canRunSshLab(): boolean {
    return process.getuid?.() === 0 && fs.existsSync("/usr/sbin/sshd") && fs.existsSync("/etc/ssh/sshd_config") && spawnSync("ip", ["netns", "list"]).status === 0;
}

let count = 0;

function waitForLine(child: ChildProcess, pattern: RegExp, timeoutMs: number, what: string): Promise<void> {
    return new Promise((resolve, reject) => {
        let seen = "";
        const timer = setTimeout(() => reject(new Error(`${what}: no "${pattern.source}" within ${timeoutMs} ms:\n${seen}`)), timeoutMs);
        const onData = (d: Buffer) => {
            seen += d.toString();
            if (pattern.test(seen)) {
                clearTimeout(timer);
                child.stderr?.off("data", onData);
                resolve();
            }
        };
        child.stderr?.on("data", onData);
        child.on("exit", (code) => {
            clearTimeout(timer);
            reject(new Error(`${what} exited ${code}:\n${seen}`));
        });
    });
}

/**
 * What the lab relies on being Debian's stock setting, read from the effective configuration
 * (`sshd -T`): a drop-in under /etc/ssh/sshd_config.d on this machine could change it.
 */
export function stockSshdSettings(hostKey: string): void {
    // `sshd -T` refuses to run without its privilege separation directory, /run/sshd, which only
    // an init system creates (Debian's ssh.service RuntimeDirectory): it is made in a private /run,
    // so that nothing on this machine has to be left there by hand.
    const effective = execFileSync("unshare", [
        "--mount", "--propagation", "private", "sh", "-c",
        `mount -t tmpfs tmpfs /run && mkdir /run/sshd && exec /usr/sbin/sshd -T -f /etc/ssh/sshd_config -o HostKey=${hostKey}`,
    ], { encoding: "utf8" }).split("\n");
    const acceptEnv = effective.filter((l) => l.startsWith("acceptenv ")).sort();
    if (JSON.stringify(acceptEnv) !== JSON.stringify(["acceptenv LANG", "acceptenv LC_*"]) || !effective.includes("permituserenvironment no")) {
        throw new Error(`this machine's sshd is not Debian's stock one (AcceptEnv LANG LC_*, PermitUserEnvironment no): ${acceptEnv.join(", ")}`);
    }
}

export interface SshHostOptions {
    /**
     * The host also listens on <address>:22, reached from the network namespace `from` (the real
     * CLI's) through a veth pair: what a stack names as a host's address is that host there.
     */
    reachable?: { address: string; from: string };
    /** Public keys accepted besides the lab's own client key (one key for several hosts). */
    authorizedKeys?: string[];
}

/** Starts sshd in a fresh namespace pair; each interface asked for is one end of a veth pair there, up. */
export async function startSshHost(interfaces: string[] = [], opts: SshHostOptions = {}): Promise<SshHost> {
    const ns = `ovhf${process.pid}-ssh${++count}`;
    const work = fs.mkdtempSync(path.join(os.tmpdir(), `${ns}-`));
    const dirs = Object.fromEntries(["etc", "var", "usr-local"].flatMap((d) => [[`${d}-upper`, path.join(work, `${d}-upper`)], [`${d}-work`, path.join(work, `${d}-work`)]]));
    for (const d of Object.values(dirs)) fs.mkdirSync(d);
    fs.mkdirSync(path.join(dirs["usr-local-upper"], "sbin"));
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", path.join(work, "host_key")]);
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", path.join(work, "client_key")]);
    fs.writeFileSync(path.join(work, "authorized_keys"), [fs.readFileSync(path.join(work, "client_key.pub"), "utf8").trim(), ...(opts.authorizedKeys ?? [])].join("\n") + "\n");
    // sshd reads a user's authorized keys as that user: a user other than root logs in too.
    fs.chmodSync(work, 0o755);
    fs.chmodSync(path.join(work, "authorized_keys"), 0o644);
    stockSshdSettings(path.join(work, "host_key"));
    const hostPub = fs.readFileSync(path.join(work, "host_key.pub"), "utf8").trim().split(" ").slice(0, 2).join(" ");
    fs.writeFileSync(path.join(work, "known_hosts"), `[127.0.0.1]:2222 ${hostPub}\n`);

    execFileSync("ip", ["netns", "add", ns]);
    try {
        execFileSync("ip", ["-n", ns, "link", "set", "lo", "up"]);
        interfaces.forEach((name, i) => {
            execFileSync("ip", ["-n", ns, "link", "add", name, "type", "veth", "peer", "name", `peer${i}`]);
            for (const l of [name, `peer${i}`]) execFileSync("ip", ["-n", ns, "link", "set", l, "up"]);
        });
        if (opts.reachable) linkFrom(ns, `ovhf${process.pid}-${count}`, opts.reachable.address, opts.reachable.from);
    } catch (err) {
        spawnSync("ip", ["netns", "del", ns]);
        throw err;
    }
    const overlay = (target: string, d: string) => `mount -t overlay overlay -o lowerdir=${target},upperdir=${dirs[`${d}-upper`]},workdir=${dirs[`${d}-work`]} ${target}`;
    const setup = [
        overlay("/etc", "etc"),
        overlay("/var", "var"),
        overlay("/usr/local", "usr-local"),
        // sshd's privilege separation directory, in a /run of the lab's own.
        "mount -t tmpfs tmpfs /run",
        "mkdir -p /run/sshd",
        // Debian's stock configuration, as installed; only where the keys and the pid are changes,
        // and the log level: VERBOSE logs each session's kind ("Starting session: command …",
        // "… subsystem 'sftp' …"), which INFO does not.
        `exec /usr/sbin/sshd -D -e -f /etc/ssh/sshd_config -o ListenAddress=127.0.0.1:2222${opts.reachable ? ` -o ListenAddress=${opts.reachable.address}:22` : ""} -o HostKey=${work}/host_key -o PidFile=none -o AuthorizedKeysFile=${work}/authorized_keys -o StrictModes=no -o LogLevel=VERBOSE`,
    ].join(" && ");
    const sshd = spawn("ip", ["netns", "exec", ns, "unshare", "--mount", "--propagation", "private", "sh", "-c", setup], { stdio: ["ignore", "ignore", "pipe"] });
    // Every line sshd logs (logins, subsystem requests), kept as long as it runs.
    const log: { at: number; line: string }[] = [];
    let partial = "";
    sshd.stderr?.on("data", (d: Buffer) => {
        const at = performance.timeOrigin + performance.now();
        const lines = (partial + d.toString()).split("\n");
        partial = lines.pop() ?? "";
        for (const line of lines) log.push({ at, line: line.trimEnd() });
    });
    const stop = () => {
        sshd.kill("SIGTERM");
        // The veth pair goes with the namespace, and with it the route to it in `from`.
        spawnSync("ip", ["netns", "del", ns]);
        fs.rmSync(work, { recursive: true, force: true });
    };
    try {
        // sshd binds its ListenAddress lines in order and says so for each: the last one said, all are bound.
        const last = opts.reachable ? `${opts.reachable.address.replace(/\./g, "\\.")} port 22` : "127\\.0\\.0\\.1 port 2222";
        await waitForLine(sshd, new RegExp(`Server listening on ${last}`), 20_000, "sshd");
    } catch (err) {
        stop();
        throw err;
    }
    if (opts.reachable) fs.appendFileSync(path.join(work, "known_hosts"), `${opts.reachable.address} ${hostPub}\n`);
    const sshArgs = (command: string, user = "root") => [
        "netns", "exec", ns, "ssh", "-F", "/dev/null", "-i", path.join(work, "client_key"), "-o", "IdentitiesOnly=yes",
        "-o", `UserKnownHostsFile=${path.join(work, "known_hosts")}`, "-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes",
        "-o", "SendEnv=PULUMI_COMMAND_STDOUT", "-p", "2222", `${user}@127.0.0.1`, command,
    ];
    return {
        ns,
        hostKey: hostPub,
        clientKey: fs.readFileSync(path.join(work, "client_key"), "utf8"),
        clientPublicKey: fs.readFileSync(path.join(work, "client_key.pub"), "utf8").trim(),
        usrLocal: dirs["usr-local-upper"],
        varDir: dirs["var-upper"],
        etcDir: dirs["etc-upper"],
        run(command, opts = {}) {
            const r = spawnSync("ip", sshArgs(command, opts.user), {
                input: opts.stdin ?? "",
                encoding: "utf8",
                env: { ...process.env, PULUMI_COMMAND_STDOUT: opts.previousStdout ?? "" },
            });
            return { status: r.status, stdout: r.stdout, stderr: r.stderr };
        },
        spawn(command, opts = {}) {
            return spawn("ip", sshArgs(command, opts.user), { stdio: ["pipe", "pipe", "pipe"], env: { ...process.env, PULUMI_COMMAND_STDOUT: "" } });
        },
        inNamespace(...argv) {
            return execFileSync("ip", ["netns", "exec", ns, ...argv], { encoding: "utf8" });
        },
        setAuthorizedKeys(keys) {
            const own = fs.readFileSync(path.join(work, "client_key.pub"), "utf8");
            fs.writeFileSync(path.join(work, "authorized_keys"), [own, ...keys].map((k) => `${k.trim()}\n`).join(""));
        },
        log: () => [...log],
        stop,
    };
}

/** Runs a command over SSH without blocking the event loop (sshd's log pipe is read meanwhile); rejects unless it exits 0. */
export function remote(host: SshHost, command: string, opts: { user?: string } = {}): Promise<string> {
    return new Promise((resolve, reject) => {
        const child = host.spawn(command, opts);
        let out = "";
        let err = "";
        child.stdout?.on("data", (d: Buffer) => (out += d.toString()));
        child.stderr?.on("data", (d: Buffer) => (err += d.toString()));
        child.on("error", reject);
        child.on("close", (code) => (code === 0 ? resolve(out) : reject(new Error(`${command}\nexited ${code}: ${err}`))));
        child.stdin?.end();
    });
}

/**
 * A veth pair from the namespace `from` to the lab's: the lab holds `address` (a /32), `from`
 * routes it there, and the lab routes back to each IPv4 address `from` holds.
 */
function linkFrom(ns: string, name: string, address: string, from: string): void {
    const ip = (...args: string[]) => execFileSync("ip", args, { stdio: ["ignore", "ignore", "pipe"] });
    const sources = execFileSync("ip", ["-n", from, "-4", "-o", "addr", "show", "scope", "global"], { encoding: "utf8" })
        .split("\n").map((l) => /inet (\d+\.\d+\.\d+\.\d+)\//.exec(l)?.[1]).filter((a): a is string => a !== undefined);
    ip("link", "add", "uplink", "netns", ns, "type", "veth", "peer", "name", name, "netns", from);
    ip("-n", ns, "addr", "add", `${address}/32`, "dev", "uplink");
    ip("-n", ns, "link", "set", "uplink", "up");
    ip("-n", from, "link", "set", name, "up");
    ip("-n", from, "route", "add", `${address}/32`, "dev", name);
    for (const source of sources) ip("-n", ns, "route", "add", `${source}/32`, "dev", "uplink");
}
