// An edge pair (seed 001): the failover IP, the CARP/VRRP group and the nodes are declared once;
// every node's files are rendered from them and deployed over SSH, validated on the node before
// they replace the running ones. A change of IP re-renders every node in the same diff.
//
// Who routes the IP: the nodes do, at run time (ovh-ipmove when promoted). The stack only adopts
// the IP and sets its reverse; it declares no ip.Move or attach that would move it back.
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { MoveTarget } from "../network/ipMove";
import { shellQuote } from "../shared/shell";
import { sshConnection, SshConnection } from "../shared/ssh";
import {
    CarpGroupSpec, CarpNodeSpec, checkEdgePair, DEFAULT_ADVBASE, DEFAULT_CARP_UNIT, DEFAULT_HEALTH_INTERVAL_SECONDS, DEFAULT_IPMOVE_PATH, DEFAULT_PREEMPT, EdgePairSpec, HealthCheckSpec,
} from "./carpSpec";
import { IPMOVE_NODE_MAJOR, IpmoveBundle, ipmoveBundle } from "./ipmoveBundle";
import {
    asRoot, DEFAULT_FLAVOUR, DeployFile, parseEdgeFlavour, EDGE_STATE_FILE, EdgeFlavour, IpmoveOnNode, KeepalivedDeploy, OpenbsdDeploy, PASSWORD_MARKER, renderKeepalivedDeploy, renderKeepalivedRemoval, renderOpenbsdDeploy,
    renderOpenbsdRemoval, renderSecretsInput,
} from "./edgeDeploy";
import { FailoverIp } from "../network/failoverIp";
import { ipmoveAccessRules } from "../network/ipMove";
import { KEEPALIVED_ADVSKEW_MAX, KEEPALIVED_PASSWORD_MAX, notifyScriptPath, renderKeepalivedNodeFiles } from "./keepalived";
import { CLAIM_SCRIPT_PATH, renderOpenbsdNodeFiles } from "./openbsd";
import { ConfigValueError, formatIssues } from "../shared/validate";

export interface EdgeNode extends CarpNodeSpec {
    /** How to reach the node over SSH (root, or a user that may write /etc and restart the daemon). */
    ssh: SshConnection;
}

/** The OVH credentials ovh-ipmove uses on the nodes, as its configuration holds them. */
export interface OvhCredentialsForNodes {
    endpoint: string;
    applicationKey: string;
    applicationSecret: string;
    consumerKey: string;
}

/** The credentials as a program gives them: each field may be an Output, a secret config value. */
export interface OvhCredentialsArgs {
    /** ovh-eu, ovh-ca, ovh-us… */
    endpoint: pulumi.Input<string>;
    applicationKey: pulumi.Input<string>;
    applicationSecret: pulumi.Input<string>;
    consumerKey: pulumi.Input<string>;
}

export interface CarpPairArgs {
    /** The daemon on the nodes (default DEFAULT_FLAVOUR, openbsd). */
    flavour?: EdgeFlavour;
    failoverIp: string;
    group: Omit<CarpGroupSpec, "password" | "carpUnit" | "advbase"> & { advbase?: number; carpUnit?: number };
    /** [A-Za-z0-9_-]; keep it a Pulumi secret. */
    password: pulumi.Input<string>;
    nodes: EdgeNode[];
    /** intervalSeconds: default DEFAULT_HEALTH_INTERVAL_SECONDS (15). */
    health: Omit<HealthCheckSpec, "intervalSeconds"> & { intervalSeconds?: number };
    /**
     * The credentials ovh-ipmove uses on the nodes, least privilege (see accessRules): each field
     * an Input, or the whole object one (config.requireSecretObject). The pair makes them a secret.
     */
    ovhCredentials: pulumi.Input<OvhCredentialsArgs>;
    /** Where ovh-ipmove lives on the nodes (default DEFAULT_IPMOVE_PATH, /usr/local/bin/ovh-ipmove). */
    ipmovePath?: string;
    /** Seconds between two re-assertions of the routing by the master (default 30). */
    reassertSeconds?: number;
    /** Whether the node with the lowest advskew takes the master role back (default DEFAULT_PREEMPT, false). */
    preempt?: boolean;
    /**
     * The ovh-ipmove copied to every node: by default this package's own (ipmoveBundle()), or a
     * bundle of one's own (buildIpmoveBundle); false copies nothing, and the deploy then checks
     * that ipmovePath is on the node and executable.
     */
    ipmove?: IpmoveBundle | false;
    reverse?: string;
    protect?: boolean;
}

export const IPMOVE_CONFIG = "/etc/ovh-ipmove.conf";

/**
 * Where CopyToRemote puts the bundle until the deploy has checked it: beside its place for root;
 * for another user, who cannot write there over SFTP, in that user's home (SFTP resolves a
 * relative path there, and the deploy, run through doas, starts there).
 */
export const stagedIpmovePath = (ipmovePath: string, sshUser = "root") => (sshUser === "root" ? `${ipmovePath}.new` : "ovh-ipmove.new");
const KEEPALIVED_DIR = "/etc/keepalived";

/**
 * The command a promoted node runs to claim the IP, written literally (ifstated cannot use
 * variables). Every value is single-quoted: the validators allow no quote, and the quoting makes
 * any other character inert.
 */
export function renderMoveCommand(ipmovePath: string, ip: string, move: MoveTarget, configPath = IPMOVE_CONFIG): string {
    const q = shellQuote;
    const target = move.kind === "cloud" ? `-project ${q(move.project)} -ip ${q(ip)} -instance ${q(move.instance)}` : `-server ${q(move.serviceName)} -ip ${q(ip)}`;
    return `${q(ipmovePath)} -config ${q(configPath)} ${target}`;
}

/** ovh-ipmove's configuration: the OVH credentials, as environment-style lines. */
export function renderIpmoveConfig(c: OvhCredentialsForNodes): string {
    return [
        `OVH_ENDPOINT=${c.endpoint}`,
        `OVH_APPLICATION_KEY=${c.applicationKey}`,
        `OVH_APPLICATION_SECRET=${c.applicationSecret}`,
        `OVH_CONSUMER_KEY=${c.consumerKey}`,
        "",
    ].join("\n");
}

type NodeDeploy = { flavour: "openbsd"; deploy: OpenbsdDeploy } | { flavour: "keepalived"; deploy: KeepalivedDeploy };

/** Everything one node's deploy and removal are rendered from. */
function nodeDeploy(flavour: EdgeFlavour, spec: EdgePairSpec, node: CarpNodeSpec, ipmoveSha256: string | undefined, sshUser: string): NodeDeploy {
    const moveCommand = renderMoveCommand(spec.ipmovePath, spec.failoverIp, node.move);
    const ipmove: IpmoveOnNode = ipmoveSha256 === undefined
        ? { path: spec.ipmovePath }
        : { path: spec.ipmovePath, staged: stagedIpmovePath(spec.ipmovePath, sshUser), sha256: ipmoveSha256, nodeMajor: IPMOVE_NODE_MAJOR };
    if (flavour === "openbsd") {
        const rendered = renderOpenbsdNodeFiles(spec, node, moveCommand);
        const files: DeployFile[] = rendered.files.map((f) => ({ path: f.path, content: f.content, mode: f.mode }));
        return {
            flavour,
            deploy: {
                files,
                failoverIp: spec.failoverIp,
                publicInterface: node.publicInterface,
                stateFile: EDGE_STATE_FILE.openbsd,
                ipmove,
                ipmoveConfig: IPMOVE_CONFIG,
                pfRule: rendered.pfRule.trim(),
                carpdev: spec.group.carpdev,
                carpUnit: spec.group.carpUnit,
                ifstatedConf: "/etc/ifstated.conf",
                claimScript: CLAIM_SCRIPT_PATH,
                carpPreempt: spec.preempt,
            },
        };
    }
    const files: DeployFile[] = renderKeepalivedNodeFiles(spec, node, { scriptDir: KEEPALIVED_DIR, moveCommand, reassertSeconds: spec.reassertSeconds }).map((f) => ({
        path: f.path,
        content: f.content,
        mode: f.mode,
    }));
    return {
        flavour,
        deploy: {
            files,
            ipmoveConfig: IPMOVE_CONFIG,
            conf: `${KEEPALIVED_DIR}/keepalived.conf`,
            failoverIp: spec.failoverIp,
            publicInterface: node.publicInterface,
            stateFile: EDGE_STATE_FILE.keepalived,
            ipmove,
            vip: spec.group.address,
            carpdev: spec.group.carpdev,
            masterScript: notifyScriptPath(KEEPALIVED_DIR, "master"),
        },
    };
}

/**
 * All files of one node and the script that deploys them. Pure, and free of secrets: the spec's
 * password is PASSWORD_MARKER, replaced on the node by the one read from standard input.
 */
export function renderNodeDeployment(flavour: EdgeFlavour, spec: EdgePairSpec, node: CarpNodeSpec, ipmoveSha256?: string, sshUser = "root"): string {
    const n = nodeDeploy(flavour, spec, node, ipmoveSha256, sshUser);
    return asRoot(sshUser, n.flavour === "openbsd" ? renderOpenbsdDeploy(n.deploy) : renderKeepalivedDeploy(n.deploy));
}

/** The script that takes the node out of the pair: no claim, no credentials, its files as they were. */
export function renderNodeRemoval(flavour: EdgeFlavour, spec: EdgePairSpec, node: CarpNodeSpec, ipmoveSha256?: string, sshUser = "root"): string {
    const n = nodeDeploy(flavour, spec, node, ipmoveSha256, sshUser);
    return asRoot(sshUser, n.flavour === "openbsd" ? renderOpenbsdRemoval(n.deploy) : renderKeepalivedRemoval(n.deploy));
}

/** What declareCarpPair declares: the IP, each node's deploy, the access rules of each node's credentials. */
export interface CarpPairParts {
    failoverIp: FailoverIp;
    deployments: command.remote.Command[];
    accessRules: Record<string, { method: string; path: string }[]>;
}

/**
 * The pair's checks and children, under `self`: the body of CarpPair, shared with the plugin
 * package's CarpPair (plugin/carpPair.ts), which registers with the same type token so that its
 * children get the same URNs.
 */
export function declareCarpPair(self: pulumi.ComponentResource, name: string, args: CarpPairArgs): CarpPairParts {
    const flavour = args.flavour ?? DEFAULT_FLAVOUR;
    const group = { ...args.group, advbase: args.group.advbase ?? DEFAULT_ADVBASE, carpUnit: args.group.carpUnit ?? DEFAULT_CARP_UNIT };
    const health: HealthCheckSpec = { ...args.health, intervalSeconds: args.health.intervalSeconds ?? DEFAULT_HEALTH_INTERVAL_SECONDS };
    // The password is checked where it is known; a secret Output is checked when it resolves.
    const issues = checkEdgePair({ group: { ...group, password: "placeholder" }, nodes: args.nodes, failoverIp: args.failoverIp, health, ipmovePath: args.ipmovePath }, "args");
    try {
        parseEdgeFlavour(flavour);
    } catch (err) {
        if (!(err instanceof ConfigValueError)) throw err;
        issues.push({ key: "args.flavour", value: flavour, expected: err.message });
    }
    if (flavour === "keepalived") {
        args.nodes.forEach((n, i) => {
            if (!n.privateAddress) issues.push({ key: `args.nodes[${i}].privateAddress`, value: undefined, expected: "the node's address on the CARP network (keepalived's unicast source)" });
            if (n.advskew > KEEPALIVED_ADVSKEW_MAX) issues.push({ key: `args.nodes[${i}].advskew`, value: n.advskew, expected: `at most ${KEEPALIVED_ADVSKEW_MAX} with keepalived (VRRP has no priority left for 254)` });
        });
    }
    if (args.preempt !== undefined && typeof args.preempt !== "boolean") issues.push({ key: "args.preempt", value: args.preempt, expected: "true or false" });
    if (issues.length > 0) throw new pulumi.ResourceError(formatIssues(issues), self);

    const failoverIp = new FailoverIp(`${name}-ip`, { ip: args.failoverIp, reverse: args.reverse, protect: args.protect }, { parent: self });

    const password = pulumi.secret(args.password).apply((p) => {
        const problems = checkEdgePair({ group: { ...group, password: p }, nodes: args.nodes, failoverIp: args.failoverIp, health }, "args")
            .filter((i) => i.key.endsWith("password"));
        if (flavour === "keepalived" && p.length > KEEPALIVED_PASSWORD_MAX) {
            problems.push({ key: "args.password", value: "[secret]", expected: `at most ${KEEPALIVED_PASSWORD_MAX} characters: VRRP's PASS authentication keeps only that many` });
        }
        if (problems.length > 0) throw new pulumi.ResourceError(formatIssues(problems.map((i) => ({ ...i, value: "[secret]" }))), self);
        return p;
    });
    const ipmovePath = args.ipmovePath ?? DEFAULT_IPMOVE_PATH;
    // Without ovh-ipmove a node cannot claim the IP: the package's own, unless told otherwise.
    const ipmove = args.ipmove === false ? undefined : args.ipmove ?? ipmoveBundle();
    const nodes: CarpNodeSpec[] = args.nodes.map(({ ssh: _ssh, ...node }) => node);

    const spec: EdgePairSpec = {
        group: { ...group, password: PASSWORD_MARKER },
        nodes,
        failoverIp: args.failoverIp,
        health,
        ipmovePath,
        reassertSeconds: args.reassertSeconds,
        preempt: args.preempt ?? DEFAULT_PREEMPT,
    };
    // pulumi.output lifts each field's Input, secret or not, into one plain object.
    const credentials = pulumi.secret(pulumi.output(args.ovhCredentials));
    const secrets = pulumi.all([password, credentials]).apply(([p, creds]) => renderSecretsInput(p, renderIpmoveConfig(creds)));
    const deployments = args.nodes.map((node, i) => {
        // The user the node is reached as; root, or a user who may run /bin/sh as root with doas.
        const user = pulumi.output(node.ssh.user ?? "root");
        const script = user.apply((u) => renderNodeDeployment(flavour, spec, nodes[i], ipmove?.sha256, u));
        // The bundle goes beside its place over SFTP (CopyToRemote: stock sshd has the sftp
        // subsystem on OpenBSD and Debian); the deploy checks and installs it. Its checksum is
        // in the deploy script: a new bundle redeploys.
        const copy = ipmove && new command.remote.CopyToRemote(`${name}-${node.name}-ipmove`, {
            connection: sshConnection(node.ssh),
            source: new pulumi.asset.FileAsset(ipmove.file),
            remotePath: user.apply((u) => stagedIpmovePath(ipmovePath, u)),
            triggers: [ipmove.sha256],
        }, { parent: self });
        return new command.remote.Command(`${name}-${node.name}-deploy`, {
            connection: sshConnection(node.ssh),
            // It holds no secret; the password and the credentials go on stdin. The command
            // plugin runs `update` again when any input changes (this script, which holds
            // ovh-ipmove's checksum; the removal; the secrets; the connection): the deploy
            // replaces and applies only the files that differ on the node (edgeDeploy.ts).
            create: script,
            update: script,
            // Removed from the stack, or destroyed: the node stops claiming and is put back.
            delete: user.apply((u) => renderNodeRemoval(flavour, spec, nodes[i], ipmove?.sha256, u)),
            stdin: secrets,
            // Nothing is read back from the environment: the node keeps what it needs.
            addPreviousOutputInEnv: false,
        }, { parent: self, dependsOn: copy ? [copy] : [] });
    });
    const accessRules = Object.fromEntries(args.nodes.map((n) => [n.name, ipmoveAccessRules(n.move, args.failoverIp)]));
    return { failoverIp, deployments, accessRules };
}

export class CarpPair extends pulumi.ComponentResource {
    readonly failoverIp: FailoverIp;
    readonly deployments: command.remote.Command[];
    /** Per node, the OVH API access rules its consumer key needs: only what ovh-ipmove calls. */
    readonly accessRules: Record<string, { method: string; path: string }[]>;

    constructor(name: string, args: CarpPairArgs, opts?: pulumi.ComponentResourceOptions) {
        super("ovh-failover:edge:CarpPair", name, {}, opts);
        const parts = declareCarpPair(this, name, args);
        this.failoverIp = parts.failoverIp;
        this.deployments = parts.deployments;
        this.accessRules = parts.accessRules;
        this.registerOutputs({ accessRules: this.accessRules });
    }
}
