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
    /** Files here appear under /usr/local in the lab (stand-ins for pct, systemctl, …). */
    usrLocal: string;
    /** What the lab's /var and /etc hold, as written by the remote scripts. */
    varDir: string;
    etcDir: string;
    /** Runs a command over SSH (as root unless told), as @pulumi/command would. */
    run(command: string, opts?: { stdin?: string; previousStdout?: string; user?: string }): RemoteRun;
    /** Runs a command in the lab's network namespace, outside SSH (to look at interfaces). */
    inNamespace(...argv: string[]): string;
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

/** Starts sshd in a fresh namespace pair; each interface asked for is one end of a veth pair there, up. */
export async function startSshHost(interfaces: string[] = []): Promise<SshHost> {
    const ns = `ovhf${process.pid}-ssh${++count}`;
    const work = fs.mkdtempSync(path.join(os.tmpdir(), `${ns}-`));
    const dirs = Object.fromEntries(["etc", "var", "usr-local"].flatMap((d) => [[`${d}-upper`, path.join(work, `${d}-upper`)], [`${d}-work`, path.join(work, `${d}-work`)]]));
    for (const d of Object.values(dirs)) fs.mkdirSync(d);
    fs.mkdirSync(path.join(dirs["usr-local-upper"], "sbin"));
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", path.join(work, "host_key")]);
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", path.join(work, "client_key")]);
    fs.copyFileSync(path.join(work, "client_key.pub"), path.join(work, "authorized_keys"));
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
        // Debian's stock configuration, as installed; only where the keys and the pid are changes.
        `exec /usr/sbin/sshd -D -e -f /etc/ssh/sshd_config -o Port=2222 -o ListenAddress=127.0.0.1 -o HostKey=${work}/host_key -o PidFile=none -o AuthorizedKeysFile=${work}/authorized_keys -o StrictModes=no`,
    ].join(" && ");
    const sshd = spawn("ip", ["netns", "exec", ns, "unshare", "--mount", "--propagation", "private", "sh", "-c", setup], { stdio: ["ignore", "ignore", "pipe"] });
    const stop = () => {
        sshd.kill("SIGTERM");
        spawnSync("ip", ["netns", "del", ns]);
        fs.rmSync(work, { recursive: true, force: true });
    };
    try {
        await waitForLine(sshd, /Server listening on 127\.0\.0\.1 port 2222/, 20_000, "sshd");
    } catch (err) {
        stop();
        throw err;
    }
    return {
        ns,
        usrLocal: dirs["usr-local-upper"],
        varDir: dirs["var-upper"],
        etcDir: dirs["etc-upper"],
        run(command, opts = {}) {
            const r = spawnSync("ip", [
                "netns", "exec", ns, "ssh", "-F", "/dev/null", "-i", path.join(work, "client_key"), "-o", "IdentitiesOnly=yes",
                "-o", `UserKnownHostsFile=${path.join(work, "known_hosts")}`, "-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes",
                "-o", "SendEnv=PULUMI_COMMAND_STDOUT", "-p", "2222", `${opts.user ?? "root"}@127.0.0.1`, command,
            ], {
                input: opts.stdin ?? "",
                encoding: "utf8",
                env: { ...process.env, PULUMI_COMMAND_STDOUT: opts.previousStdout ?? "" },
            });
            return { status: r.status, stdout: r.stdout, stderr: r.stderr };
        },
        inNamespace(...argv) {
            return execFileSync("ip", ["netns", "exec", ns, ...argv], { encoding: "utf8" });
        },
        stop,
    };
}
