// InstanceAlias: the guest side of a Public Cloud endpoint. On an OVH Public Cloud instance the
// additional IP, once attached (POST /cloud/project/{p}/ip/failover/{id}/attach, which has no
// detach), must be configured in the guest as a /32 with no gateway of its own; the instance
// keeps its DHCP address and default route. The stack applies it over SSH, as it deploys an edge
// node's files, and proves that the instance holds the address and sends from it: there is no
// gateway to probe for a Public Cloud alias. The scripts and the facts they rely on are in
// aliasScript.ts.
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { checked } from "../shared/checked";
import { sshConnection, SshConnection } from "../shared/ssh";
import {
    AliasFlavour, parseAbsolutePath, parseAliasFlavour, parseHostKey, parseHostname, parseInterfaceName, parseIpv4, parsePort, parsePublicIpv4, parseUserName,
} from "../shared/validate";
import { AliasSpec, asRootWithSudo, renderAliasCheck, renderAliasCreate, renderAliasDelete } from "./aliasScript";

/**
 * The flavour unless told: netplan, which OVH's guide gives for "Ubuntu 22.04 & Debian 12" (the
 * images Public Cloud offers today); the create refuses clearly (exit 22) on an instance without it.
 */
export const DEFAULT_ALIAS_FLAVOUR: AliasFlavour = "netplan";

export interface InstanceAliasArgs {
    /**
     * How the instance is reached. The host key is required: an instance is reached over the
     * Internet, and without one @pulumi/command accepts any key. Public Cloud images log in as
     * debian or ubuntu (with sudo without a password), not root.
     */
    ssh: SshConnection & { hostKey: pulumi.Input<string> };
    /** The additional IP, attached to this instance. */
    address: pulumi.Input<string>;
    /**
     * The interface that carries it. Unset: the interface of the instance's IPv4 default route,
     * found on the instance at create time and recorded there (OVH's guide has you look it up
     * with `ip a`: eth0 or ens3 depending on the image; the additional IP is routed to the
     * public port, the one whose DHCP lease gives the default route). Not a guessed "ens3": an
     * instance where it is ens4 would get a refusal, or worse, the private port.
     */
    interfaceName?: pulumi.Input<string>;
    /** netplan (default) or debian (ifupdown): where the /32 is kept across reboots. */
    flavour?: pulumi.Input<AliasFlavour>;
    /** The off-link address the kernel is asked for a route to, from the alias (default 192.0.2.1; nothing is sent). */
    probeTarget?: pulumi.Input<string>;
    /** When set, the proof also pings it from the alias and needs an answer: OVH routes the address to this instance. */
    pingTarget?: pulumi.Input<string>;
    /** Where the instance keeps what the stack found there (default /var/lib/ovh-failover). */
    stateDir?: string;
    /** The instance is gone: on delete or replacement, forget the alias instead of undoing it over SSH. */
    instanceGone?: boolean;
}

export class InstanceAlias extends pulumi.ComponentResource {
    /** The command that applies the alias: what anything needing the address in place depends on. */
    readonly applied: command.remote.Command;
    /** The interface the alias is on, as the instance reported it. */
    readonly interfaceName: pulumi.Output<string>;
    /** The proof alone, rendered for this alias (exit 0, or ALIAS_EXIT.checkFailed): to run again later. */
    readonly checkScript: pulumi.Output<string>;

    constructor(name: string, args: InstanceAliasArgs, opts?: pulumi.ComponentResourceOptions) {
        super("ovh-failover:cloud:InstanceAlias", name, {}, opts);
        const stateDir = args.stateDir === undefined ? undefined : checked(this, "stateDir", args.stateDir, parseAbsolutePath);
        if (args.ssh.hostKey === undefined) {
            throw new pulumi.ResourceError("ssh.hostKey: required (`<type> <base64>`, from ssh-keyscan -t ed25519 <host>): an instance is reached over the Internet", this);
        }
        // Values given as they are (not Outputs) are checked now, so that a plan fails at once on
        // them; every value is checked again where it resolves.
        const now = <T>(arg: string, value: unknown, parse: (v: unknown) => T) => {
            if (value !== undefined && !pulumi.Output.isInstance(value) && !(value instanceof Promise)) checked(this, arg, value, parse);
        };
        now("address", args.address, parsePublicIpv4);
        now("interfaceName", args.interfaceName, parseInterfaceName);
        now("flavour", args.flavour, parseAliasFlavour);
        now("probeTarget", args.probeTarget, parseIpv4);
        now("pingTarget", args.pingTarget, parseIpv4);
        now("ssh.host", args.ssh.host, parseHostname);
        now("ssh.port", args.ssh.port, parsePort);
        now("ssh.user", args.ssh.user, parseUserName);
        now("ssh.hostKey", args.ssh.hostKey, parseHostKey);
        const spec: pulumi.Output<AliasSpec> = pulumi
            .all([args.address, args.interfaceName, args.flavour, args.probeTarget, args.pingTarget])
            .apply(([address, interfaceName, flavour, probeTarget, pingTarget]) => ({
                address: checked(this, "address", address, parsePublicIpv4),
                interfaceName: interfaceName === undefined ? undefined : checked(this, "interfaceName", interfaceName, parseInterfaceName),
                flavour: checked(this, "flavour", flavour ?? DEFAULT_ALIAS_FLAVOUR, parseAliasFlavour),
                probeTarget: probeTarget === undefined ? undefined : checked(this, "probeTarget", probeTarget, parseIpv4),
                pingTarget: pingTarget === undefined ? undefined : checked(this, "pingTarget", pingTarget, parseIpv4),
                stateDir,
            }));
        const connection = pulumi
            .all([args.ssh.host, args.ssh.port, args.ssh.user, args.ssh.hostKey])
            .apply(([host, port, user, hostKey]) => ({
                host: checked(this, "ssh.host", host, parseHostname),
                port: port === undefined ? undefined : checked(this, "ssh.port", port, parsePort),
                user: user === undefined ? undefined : checked(this, "ssh.user", user, parseUserName),
                hostKey: checked(this, "ssh.hostKey", hostKey, parseHostKey),
            }));
        const user = connection.apply((c) => c.user ?? "root");
        const script = (render: (s: AliasSpec) => string) => pulumi.all([spec, user]).apply(([s, u]) => asRootWithSudo(u, render(s)));
        this.checkScript = script(renderAliasCheck);

        this.applied = new command.remote.Command(`${name}-alias`, {
            connection: sshConnection({
                host: connection.apply((c) => c.host),
                port: connection.apply((c) => c.port ?? 22),
                user,
                hostKey: connection.apply((c) => c.hostKey),
                privateKey: args.ssh.privateKey === undefined ? undefined : pulumi.secret(args.ssh.privateKey),
            }),
            create: script(renderAliasCreate),
            // A change that keeps the alias (a ping target, the library's scripts) runs the create
            // again, which changes nothing on the instance and runs the proof.
            update: script(renderAliasCreate),
            delete: script(renderAliasDelete),
            // Another instance, address, interface, flavour or state dir is another alias:
            // replaced, the old one taken back first (its file and address could be the new one's).
            triggers: [connection.apply((c) => c.host), spec.apply((s) => s.address), spec.apply((s) => s.interfaceName ?? ""), spec.apply((s) => s.flavour), spec.apply((s) => s.stateDir ?? "")],
            // The instance keeps what delete needs (aliasScript.ts): stock sshd refuses the
            // previous output @pulumi/command would send in PULUMI_COMMAND_STDOUT.
            addPreviousOutputInEnv: false,
        // The component's dependsOn (the attach) must hold for the command itself.
        }, { parent: this, dependsOn: opts?.dependsOn, deleteBeforeReplace: true, retainOnDelete: args.instanceGone === true });
        this.interfaceName = this.applied.stdout.apply((out) => /^interface=(.+)$/m.exec(out)?.[1] ?? "");
        this.registerOutputs({ interfaceName: this.interfaceName });
    }
}
