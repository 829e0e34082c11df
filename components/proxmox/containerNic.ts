// The Proxmox LXC NIC that carries a failover IP: bridge, hwaddr = the virtual MAC, ip=<addr>/32
// and the gateway. For a container the stack does not own (importing a whole container into the
// Proxmox provider risks replacing it) the NIC is set in place with `pct set` over SSH; for a
// container the stack owns, the same values feed proxmoxve.ContainerLegacy.
import * as proxmoxve from "@muhlba91/pulumi-proxmoxve";
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { checked } from "../shared/checked";
import { sshConnection, SshConnection } from "../shared/ssh";
import { parseIpv6, parseIpv6Gateway, prefixOf } from "../shared/ipv6";
import { needsOnLinkRoute6 } from "./gateway";
import { NicSpec, renderCreateScript, renderDeleteScript, renderNetValue, renderUpdateScript } from "./pct";
import { parseBridge, parseInterfaceName, parseIpv4, parseNicIndex, parseVmid } from "../shared/validate";

export interface PrivateNic {
    index: number;
    interfaceName: string;
    bridge: string;
    /** Address with prefix length, e.g. 10.1.0.100/24. */
    cidr: string;
    gateway?: string;
}

/** A container the stack creates and owns (seed 003: a new container with a private and a public NIC). */
export interface OwnedContainer {
    node: pulumi.Input<string>;
    hostname: string;
    /** Template volume id, e.g. local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst. */
    template: pulumi.Input<string>;
    osType?: string;
    cores?: number;
    memoryMb?: number;
    diskGb?: number;
    datastore?: string;
    privateNics?: PrivateNic[];
}

/** The defaults of a container's optional values, for the library and the stack keys alike. */
export const CONTAINER_DEFAULTS = { bridge: "vmbr0", osType: "debian", cores: 1, memoryMb: 512, diskGb: 8, datastore: "local-lvm" } as const;

/** The interface inside the container of NIC netN, unless named: ethN. */
export function defaultInterfaceName(nic: number): string {
    return `eth${nic}`;
}

/** How the Proxmox host is reached over SSH. */
export type ProxmoxConnection = SshConnection;

export interface ContainerNicArgs {
    proxmox: ProxmoxConnection;
    vmid: number;
    /** The N of netN. */
    index: number;
    interfaceName: string;
    bridge: string;
    macAddress: pulumi.Input<string>;
    address: pulumi.Input<string>;
    /** 32 for a failover IP. */
    prefixLength?: number;
    gateway: pulumi.Input<string>;
    /** The NIC's IPv6 address (in its server's prefix, of that prefix's length) and gateway. */
    ipv6?: { address: string; prefixLength: number; gateway: pulumi.Input<string> };
    /** Set when the stack owns the whole container. */
    owned?: OwnedContainer;
    /** The host is gone: on delete or replacement, forget the NIC instead of undoing it over SSH. */
    hostUnreachable?: boolean;
}

export class ContainerNic extends pulumi.ComponentResource {
    /** The value Proxmox holds for netN once applied. */
    readonly netValue: pulumi.Output<string>;
    /** The resource that applies the NIC: what anything needing the NIC in place depends on. */
    readonly applied: command.remote.Command | proxmoxve.ContainerLegacy;

    constructor(name: string, args: ContainerNicArgs, opts?: pulumi.ComponentResourceOptions) {
        super("ovh-failover:proxmox:ContainerNic", name, {}, opts);
        const vmid = checked(this, "vmid", args.vmid, parseVmid);
        const index = checked(this, "index", args.index, parseNicIndex);
        const interfaceName = checked(this, "interfaceName", args.interfaceName, parseInterfaceName);
        const bridge = checked(this, "bridge", args.bridge, parseBridge);
        const prefixLength = args.prefixLength ?? 32;

        const ipv6 = args.ipv6;
        const address6 = ipv6 && checked(this, "ipv6.address", ipv6.address, parseIpv6);
        const spec: pulumi.Output<NicSpec> = pulumi
            .all([args.macAddress, args.address, args.gateway, ipv6?.gateway])
            // The gateways may come from the OVH API: checked like values of the stack. The MAC is
            // the VirtualMac provider's (and a named stand-in in the offline plan).
            .apply(([macAddress, address, gateway, gateway6]) => ({
                vmid, index, interfaceName, bridge, macAddress, prefixLength,
                address: checked(this, "address", address, parseIpv4),
                gateway: checked(this, "gateway", gateway, parseIpv4),
                ipv6: ipv6 && address6 ? this.ipv6Of(address6, ipv6.prefixLength, checked(this, "ipv6.gateway", gateway6, parseIpv6Gateway)) : undefined,
            }));
        this.netValue = spec.apply(renderNetValue);

        this.applied = args.owned
            ? this.ownedContainer(name, args, args.owned, vmid, index, interfaceName, bridge, prefixLength, opts?.dependsOn)
            : new command.remote.Command(`${name}-pct-set`, {
                  connection: sshConnection(args.proxmox),
                  create: spec.apply(renderCreateScript),
                  update: spec.apply(renderUpdateScript),
                  delete: spec.apply(renderDeleteScript),
                  // Another container or another netN is another NIC: replace, do not update.
                  triggers: [args.proxmox.host, vmid, index],
                  // The host keeps what update and delete need (see pct.ts).
                  addPreviousOutputInEnv: false,
              }, {
                  parent: this,
                  // The component's dependsOn (a routed IP's host route) must hold for the command itself.
                  dependsOn: opts?.dependsOn,
                  // The old NIC is put back before the new one is set: created first, the new
                  // value would be undone by the old delete when both are the same NIC.
                  deleteBeforeReplace: true,
                  retainOnDelete: args.hostUnreachable === true,
              });
        this.registerOutputs({ netValue: this.netValue });
    }

    private ipv6Of(address: string, prefixLength: number, gateway: string): NonNullable<NicSpec["ipv6"]> {
        if (!Number.isInteger(prefixLength) || prefixLength < 1 || prefixLength > 128) {
            throw new pulumi.ResourceError(`ipv6.prefixLength: ${prefixLength} is not valid: expected a prefix length from 1 to 128`, this);
        }
        if (gateway === address) throw new pulumi.ResourceError(`ipv6.address: ${address} is the gateway's address`, this);
        return { address, prefixLength, gateway, onLink: needsOnLinkRoute6(prefixOf(address, prefixLength), gateway) };
    }

    private ownedContainer(
        name: string, args: ContainerNicArgs, owned: OwnedContainer,
        vmid: number, index: number, interfaceName: string, bridge: string, prefixLength: number, dependsOn: pulumi.Input<pulumi.Input<pulumi.Resource>[]> | pulumi.Input<pulumi.Resource> | undefined,
    ): proxmoxve.ContainerLegacy {
        const privateNics = owned.privateNics ?? [];
        const indices = [index, ...privateNics.map((n) => n.index)].sort((a, b) => a - b);
        // The provider numbers NICs by their position in the list: net0, net1, … with no gap.
        if (indices.some((n, i) => n !== i)) {
            throw new pulumi.ResourceError(
                `owned container ${vmid}: NIC indices ${indices.join(", ")} must run from 0 with no gap or repeat (the public NIC and privateNics together)`,
                this,
            );
        }
        const nics: { index: number; nic: proxmoxve.types.input.ContainerLegacyNetworkInterface; ip: proxmoxve.types.input.ContainerLegacyInitializationIpConfig }[] = [
            {
                index,
                nic: { name: interfaceName, bridge, macAddress: pulumi.output(args.macAddress).apply((m) => m.toUpperCase()) },
                ip: {
                    ipv4: { address: pulumi.interpolate`${args.address}/${prefixLength}`, gateway: args.gateway },
                    // bpg/terraform-provider-proxmox, container initialization.ip_config.ipv6: the
                    // address in CIDR form and its gateway, sent as ip6= and gw6= of netN.
                    ...(args.ipv6 ? { ipv6: { address: `${args.ipv6.address}/${args.ipv6.prefixLength}`, gateway: args.ipv6.gateway } } : {}),
                },
            },
            ...privateNics.map((p) => ({
                index: p.index,
                nic: { name: p.interfaceName, bridge: p.bridge },
                ip: { ipv4: { address: p.cidr, gateway: p.gateway } },
            })),
        ].sort((a, b) => a.index - b.index);

        return new proxmoxve.ContainerLegacy(`${name}-container`, {
            nodeName: owned.node,
            vmId: vmid,
            description: "Managed by ovh-failover",
            unprivileged: true,
            startOnBoot: true,
            started: true,
            operatingSystem: { templateFileId: owned.template, type: owned.osType ?? CONTAINER_DEFAULTS.osType },
            cpu: { cores: owned.cores ?? CONTAINER_DEFAULTS.cores },
            memory: { dedicated: owned.memoryMb ?? CONTAINER_DEFAULTS.memoryMb },
            disk: { datastoreId: owned.datastore ?? CONTAINER_DEFAULTS.datastore, size: owned.diskGb ?? CONTAINER_DEFAULTS.diskGb },
            initialization: { hostname: owned.hostname, ipConfigs: nics.map((n) => n.ip) },
            networkInterfaces: nics.map((n) => n.nic),
        }, { parent: this, dependsOn, retainOnDelete: args.hostUnreachable === true });
    }
}
