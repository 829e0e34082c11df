// The script that deploys an edge node's rendered files over SSH: write each file beside the
// running one, validate the new set on the node itself (the checks need its own interfaces), and
// only then move them into place and apply. Pure: CarpPair runs the text with @pulumi/command.
import { shellQuote } from "./pct";

export type EdgeFlavour = "openbsd" | "keepalived";

export interface NodeFile {
    path: string;
    content: string;
    /** Octal mode, e.g. "0600" for a file that holds the CARP password. */
    mode: string;
}

const DELIMITER = "OVH_FAILOVER_EOF";

function writeNew(file: NodeFile): string {
    if (file.content.split("\n").includes(DELIMITER)) {
        throw new Error(`${file.path}: its content holds the line ${DELIMITER}, which would end the here-document early`);
    }
    const body = file.content.endsWith("\n") ? file.content : `${file.content}\n`;
    return `cat > ${shellQuote(`${file.path}.new`)} <<'${DELIMITER}'\n${body}${DELIMITER}\nchmod ${file.mode} ${shellQuote(`${file.path}.new`)}`;
}

function install(files: NodeFile[]): string {
    return files.map((f) => `mv -f ${shellQuote(`${f.path}.new`)} ${shellQuote(f.path)}`).join("\n");
}

export interface OpenbsdDeploy {
    files: NodeFile[];
    pfRule: string;
    carpdev: string;
    carpUnit: number;
    ifstatedConf: string;
}

export function renderOpenbsdDeploy(d: OpenbsdDeploy): string {
    return `set -eu
umask 077
${d.files.map(writeNew).join("\n")}
# pf.conf is the node's own: add the CARP rule once, keep the rest.
cp /etc/pf.conf /etc/pf.conf.new
grep -qxF ${shellQuote(d.pfRule)} /etc/pf.conf.new || printf '%s\\n' ${shellQuote(d.pfRule)} >> /etc/pf.conf.new
# Validate everything before anything replaces the running files.
ifstated -n -f ${shellQuote(`${d.ifstatedConf}.new`)}
pfctl -nf /etc/pf.conf.new
${install(d.files)}
mv -f /etc/pf.conf.new /etc/pf.conf
sh /etc/netstart ${d.carpdev} carp${d.carpUnit}
pfctl -f /etc/pf.conf
rcctl enable ifstated >/dev/null
rcctl set ifstated flags -f ${shellQuote(d.ifstatedConf)} >/dev/null
rcctl restart ifstated
echo "deployed: ${d.files.map((f) => f.path).join(" ")} /etc/pf.conf"
`;
}

export interface KeepalivedDeploy {
    files: NodeFile[];
    /** keepalived.conf's path; the other files are its notify scripts. */
    conf: string;
}

export function renderKeepalivedDeploy(d: KeepalivedDeploy): string {
    const scripts = d.files.filter((f) => f.path !== d.conf);
    const conf = d.files.filter((f) => f.path === d.conf);
    return `set -eu
umask 077
mkdir -p ${shellQuote(d.conf.replace(/\/[^/]+$/, ""))}
${d.files.map(writeNew).join("\n")}
# The notify scripts are inert until keepalived calls them: install them first, so that the
# new configuration is validated against the scripts it names.
${install(scripts)}
keepalived -t -f ${shellQuote(`${d.conf}.new`)}
${install(conf)}
systemctl enable keepalived >/dev/null 2>&1 || true
systemctl reload-or-restart keepalived
echo "deployed: ${d.files.map((f) => f.path).join(" ")}"
`;
}
