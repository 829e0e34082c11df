// Edge nodes for the real CLI: each a real sshd (test/support/sshLab.ts) at the address a stack
// names for it, reached from the CLI's network namespace, with what an edge deploy needs there.
// An OpenBSD node has stand-ins for the tools of the base system the deploy calls (rcctl as
// rcctl.sh answers, ifconfig, ifstated's check, pfctl, sysctl, /etc/netstart); a Debian node has
// the real keepalived (its `-t` check) and iproute2, and a systemctl stand-in (no systemd in the
// lab). Node.js is the machine's. Each stand-in logs its calls with their time, and sshd its
// logins: what the CLI ran on a node, and when, is read back from there.
import * as fs from "fs";
import * as path from "path";
import { rcctlStandIn } from "./rcctlStandIn";
import { SshHost, startSshHost } from "./sshLab";

export type EdgeNodeFlavour = "openbsd" | "keepalived";

export interface EdgeNodeSpec {
    flavour: EdgeNodeFlavour;
    /** The address the stack names (edges.<pair>.nodes[].ssh.host). */
    address: string;
    /** The network namespace of the CLI, which reaches the node at `address`. */
    from: string;
    /** The node's interfaces (keepalived's check and the VRRP address need them there). */
    interfaces: string[];
    /** The node's own files under /etc before the first deploy, relative to /etc, with their mode (0644 unless told). */
    etc?: Record<string, string | { content: string; mode: number }>;
    /** keepalived only: whether it is enabled and running before the first deploy. */
    keepalivedEnabled?: boolean;
    authorizedKeys?: string[];
}

/** Something that happened on a node: a stand-in's call, or a session the CLI opened. */
export interface NodeEvent {
    at: number;
    /** `rcctl restart ifstated`, `systemctl reload-or-restart keepalived`; `ssh exec`, `sftp`. */
    what: string;
}

/** A file as the node sees it: `<type> <mode> <uid>:<gid> <sha256 or link target>`. */
export type FileState = string;

export interface EdgeNodeHost {
    ssh: SshHost;
    /** The stand-ins' calls, in order. */
    calls(): NodeEvent[];
    /**
     * The SSH sessions opened from anywhere but the lab's own client, one event each: `sftp` for
     * the sftp subsystem (CopyToRemote), `ssh exec` for a command (remote.Command), as sshd logs
     * them at LogLevel VERBOSE.
     */
    sessions(): NodeEvent[];
    /** /etc and /usr/local as the node sees them, every entry (of /usr/local, the folders the node wrote to and bin). */
    files(): Map<string, FileState>;
    /** Every path under /etc and /usr/local the node ever wrote (its overlays' upper layers). */
    written(): string[];
    /** A file's content as the node sees it, or undefined when there is none. */
    read(file: string): string | undefined;
    stop(): void;
}

const CALL_LOG = "/var/log/ovhf-calls";

/** A stand-in that logs its call, with the time, then runs `body`. */
function standIn(name: string, body: string): string {
    return `#!/bin/sh\necho "$(date +%s%N) ${name} $*" >> ${CALL_LOG}\n${body}\n`;
}

const OPENBSD_TOOLS: Record<string, string> = {
    ifconfig: "exit 0",
    // ifstated -n -f <file>: the check the deploy runs before anything is replaced.
    ifstated: `[ "$1" = -n ] && [ "$2" = -f ] && [ -s "$3" ] || { echo "ifstated: no configuration to check in $3" >&2; exit 1; }`,
    pfctl: `if [ "$1" = -nf ] || [ "$1" = -f ]; then [ -s "$2" ] || { echo "pfctl: $2: no rules" >&2; exit 1; }; fi`,
    // OpenBSD's default: net.inet.carp.preempt=0.
    sysctl: `[ "$1" = -n ] && echo 0; exit 0`,
};

const SYSTEMCTL = `action=$1; shift
[ "\${1-}" = --quiet ] && shift
unit=\${1-}
units=/var/lib/ovhf-systemctl
mkdir -p "$units"
case "$action" in
  is-enabled) [ -e "$units/$unit.enabled" ] ;;
  is-active) [ -e "$units/$unit.active" ] ;;
  enable) : > "$units/$unit.enabled" ;;
  disable) rm -f "$units/$unit.enabled" ;;
  start|restart|reload-or-restart) : > "$units/$unit.active" ;;
  stop) rm -f "$units/$unit.active" ;;
  *) echo "systemctl: the stand-in does not know $action" >&2; exit 1 ;;
esac`;

export async function startEdgeNode(spec: EdgeNodeSpec): Promise<EdgeNodeHost> {
    const ssh = await startSshHost(spec.interfaces, { reachable: { address: spec.address, from: spec.from }, authorizedKeys: spec.authorizedKeys });
    try {
        const sbin = path.join(ssh.usrLocal, "sbin");
        const write = (file: string, content: string, mode = 0o755) => {
            fs.mkdirSync(path.dirname(file), { recursive: true });
            fs.writeFileSync(file, content, { mode });
        };
        if (spec.flavour === "openbsd") {
            for (const [name, body] of Object.entries(OPENBSD_TOOLS)) write(path.join(sbin, name), standIn(name, body));
            // rcctl as rcctl.sh answers, behind a wrapper that logs the call with its time.
            write(path.join(ssh.usrLocal, "libexec", "rcctl"), rcctlStandIn({ etcDir: "/etc", runDir: "/var/run/rcctl", callLog: "/dev/null" }));
            write(path.join(sbin, "rcctl"), standIn("rcctl", 'exec /usr/local/libexec/rcctl "$@"'));
            write(path.join(ssh.etcDir, "netstart"), `echo "$(date +%s%N) netstart $*" >> ${CALL_LOG}\n`, 0o644);
        } else {
            // Whether each unit is enabled and active, in files, as systemd would answer.
            write(path.join(sbin, "systemctl"), standIn("systemctl", SYSTEMCTL));
            if (spec.keepalivedEnabled) for (const f of ["keepalived.enabled", "keepalived.active"]) write(path.join(ssh.varDir, "lib", "ovhf-systemctl", f), "", 0o644);
        }
        for (const [file, c] of Object.entries(spec.etc ?? {})) {
            const { content, mode } = typeof c === "string" ? { content: c, mode: 0o644 } : c;
            write(path.join(ssh.etcDir, file), content, mode);
            // writeFileSync's mode goes through the umask.
            fs.chmodSync(path.join(ssh.etcDir, file), mode);
        }
    } catch (err) {
        ssh.stop();
        throw err;
    }
    const roots = [["/etc", ssh.etcDir], ["/usr/local", ssh.usrLocal]] as const;
    return {
        ssh,
        calls() {
            const file = path.join(ssh.varDir, CALL_LOG.replace(/^\/var\//, ""));
            if (!fs.existsSync(file)) return [];
            return fs.readFileSync(file, "utf8").split("\n").filter((l) => l !== "").map((l) => {
                const space = l.indexOf(" ");
                return { at: Number(BigInt(l.slice(0, space)) / 1000n) / 1000, what: l.slice(space + 1).trim() };
            });
        },
        sessions() {
            return ssh.log().flatMap(({ at, line }) => {
                const session = /^Starting session: (command|subsystem 'sftp') for \S+ from (\S+) port /.exec(line);
                if (!session || session[2] === "127.0.0.1") return [];
                return [{ at, what: session[1] === "command" ? "ssh exec" : "sftp" }];
            });
        },
        files() {
            // /usr/local: only its folders the node has written to, and bin (this machine's
            // /usr/local holds a Go toolchain, which no deploy touches).
            const local = [...new Set(["bin", ...fs.readdirSync(ssh.usrLocal)])].map((d) => `/usr/local/${d}`).join(" ");
            const listing = ssh.run(`find /etc ${local} -xdev -printf '%y %m %U:%G %p\\t%l\\n'; echo; find /etc ${local} -xdev -type f -print0 | xargs -0 sha256sum`);
            if (listing.status !== 0) throw new Error(`listing the node's files: status ${listing.status}: ${listing.stderr}`);
            const [entries, sums] = listing.stdout.split("\n\n");
            const sha = new Map(sums.split("\n").filter((l) => l !== "").map((l) => [l.slice(66), l.slice(0, 64)] as const));
            const files = new Map<string, FileState>();
            for (const line of entries.split("\n").filter((l) => l !== "")) {
                const [head, target] = line.split("\t");
                const [type, mode, owner, ...rest] = head.split(" ");
                const file = rest.join(" ");
                files.set(file, `${type} ${mode} ${owner} ${type === "f" ? sha.get(file) : type === "l" ? target : ""}`.trim());
            }
            return files;
        },
        written() {
            const out: string[] = [];
            for (const [root, upper] of roots) {
                const walk = (dir: string) => {
                    for (const entry of fs.readdirSync(path.join(upper, dir), { withFileTypes: true })) {
                        const rel = path.join(dir, entry.name);
                        out.push(path.join(root, rel));
                        if (entry.isDirectory()) walk(rel);
                    }
                };
                walk(".");
            }
            return out.sort();
        },
        read(file) {
            const r = ssh.run(`cat '${file}'`);
            return r.status === 0 ? r.stdout : undefined;
        },
        stop: () => ssh.stop(),
    };
}

/**
 * How a node's files differ from what they were: every path the node wrote at either time
 * (nothing else can differ: the lab's /etc and /usr/local are overlays of this machine's, where
 * every change lands in the upper layer), `path: before -> after`, absent as "-".
 */
export function filesChanged(before: Map<string, FileState>, after: Map<string, FileState>, written: string[]): string[] {
    return written.filter((p) => before.get(p) !== after.get(p)).map((p) => `${p}: ${before.get(p) ?? "-"} -> ${after.get(p) ?? "-"}`);
}
