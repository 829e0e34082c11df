// The SSH connection of every remote command (Proxmox hosts, edge nodes), in one place.
import type * as command from "@pulumi/command";
import type * as pulumi from "@pulumi/pulumi";

export interface SshConnection {
    /** SSH address of the host. */
    host: pulumi.Input<string>;
    port?: pulumi.Input<number>;
    user?: pulumi.Input<string>;
    /** A private key (a Pulumi secret); without it the SSH agent (SSH_AUTH_SOCK) is used. */
    privateKey?: pulumi.Input<string>;
    /**
     * The host's public key, `<type> <base64>`. Without it @pulumi/command accepts any key
     * (ssh.InsecureIgnoreHostKey in pulumi/pulumi-command provider/pkg/provider/remote/connection.go).
     */
    hostKey?: pulumi.Input<string>;
}

export const DEFAULT_SSH_PORT = 22;
export const DEFAULT_SSH_USER = "root";

/** The connection @pulumi/command uses: root on port 22 unless told otherwise. */
export function sshConnection(c: SshConnection): command.types.input.remote.ConnectionArgs {
    return { host: c.host, port: c.port ?? DEFAULT_SSH_PORT, user: c.user ?? DEFAULT_SSH_USER, privateKey: c.privateKey, hostKey: c.hostKey };
}
