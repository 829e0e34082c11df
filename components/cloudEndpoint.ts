// The public endpoint of a service on an OVH Public Cloud instance, in the order its IP needs:
// the additional IP is attached to the instance, the instance takes it as a /32 alias (and shows
// that it holds it and sends from it: there is no gateway of its own to probe), then DNS points at
// it; the reverse comes last, once its name resolves to the IP.
//
// OVH's guide (ovh/docs pages/public_cloud/public_cloud_network_services/
// getting-started-04-configure-additional-ip-to-instance): "you do not need a gateway and subnet
// mask". The IP must be in the project already (imported in the control panel): the attach finds
// it in GET /cloud/project/{p}/ip/failover, and there is no detach (terraform-provider-ovh
// ovh/resource_cloud_project_failover_ip_attach.go: its delete does nothing).
import * as pulumi from "@pulumi/pulumi";
import { InstanceAlias } from "./cloud/instanceAlias";
import { ZoneNamesArgs } from "./dns/records";
import { DEFAULT_TTL, pendingAddressRecords, ServiceRecords } from "./dns/serviceRecords";
import { FailoverIp } from "./network/failoverIp";
import { OvhApiProvider } from "./network/ovhApiProvider";
import { provesRecords, reverseReadiness } from "./publicEndpoint";
import { SshConnection } from "./shared/ssh";
import { AliasFlavour } from "./shared/validate";

export interface CloudEndpointArgs {
    /** The additional IP, already in the project. */
    ip: string;
    /** The Public Cloud project (32 hex digits) and the instance's id (a UUID). */
    project: pulumi.Input<string>;
    instanceId: pulumi.Input<string>;
    /** SSH to the instance; its host key is required (the instance is on the Internet). */
    ssh: SshConnection & { hostKey: pulumi.Input<string> };
    /** The instance's public interface (default: the one of its default route, found on it). */
    interfaceName?: string;
    /** netplan (default) or debian (ifupdown): where the /32 is kept across reboots. */
    flavour?: AliasFlavour;
    reverse?: string;
    /** The DNS names that point at the IP, per zone; "@" (or "") is the apex. Default: none. */
    zones?: ZoneNamesArgs[];
    cnameTarget?: string;
    /** The records' TTL (default DEFAULT_TTL, 300). */
    ttl?: number;
    /** While given, the records' TTL (below ttl) and a TtlLowering since when: the first step of an IP change. */
    lowerTtl?: number;
    /** How long the zones' name servers have to serve changed records (default 600 s; 0: no proof). */
    servesWithinSeconds?: number;
    /**
     * The provider the proof that DNS serves the records runs under, which carries the OVH endpoint
     * and credentials; share one between endpoints. Default: one of the endpoint's own, from the
     * stack's `ovh:` config.
     */
    ovhApi?: OvhApiProvider;
    /** Ids of the records that exist already, by resource name, for Pulumi to import. */
    importIds?: Record<string, string>;
    /** The instance is gone: its alias is forgotten on delete instead of undone over SSH. */
    instanceGone?: boolean;
}

/** The names of a Public Cloud endpoint's resources that can be adopted: what an adopt file is keyed by. */
export function cloudEndpointResourceNames(name: string): { routing: string; reverse: string; records: string } {
    return { routing: `${name}-ip-routing`, reverse: `${name}-ip-reverse`, records: `${name}-dns` };
}

export class CloudEndpoint extends pulumi.ComponentResource {
    readonly ip: pulumi.Output<string>;
    /** The interface the alias is on, as the instance reported it. */
    readonly interfaceName: pulumi.Output<string>;
    readonly failoverIp: FailoverIp;
    readonly alias: InstanceAlias;
    readonly records: ServiceRecords;

    constructor(name: string, args: CloudEndpointArgs, opts?: pulumi.ComponentResourceOptions) {
        super("ovh-failover:endpoint:CloudEndpoint", name, {}, opts);
        const pending = pendingAddressRecords();
        const addressRecords = pending.records;
        try {
            this.failoverIp = new FailoverIp(`${name}-ip`, {
                ip: args.ip,
                routeTo: { cloudProject: args.project, instanceId: args.instanceId },
                reverse: args.reverse,
                reverseAfter: addressRecords,
                reverseReadiness: reverseReadiness(args.ttl ?? DEFAULT_TTL),
            }, { parent: this });
            // The alias once OVH routes the IP to the instance: the proof's route from it is then real.
            this.alias = new InstanceAlias(`${name}-guest`, {
                ssh: args.ssh,
                address: args.ip,
                interfaceName: args.interfaceName,
                flavour: args.flavour,
                instanceGone: args.instanceGone,
            }, { parent: this, dependsOn: this.failoverIp.routing ? [this.failoverIp.routing] : [] });
            this.records = new ServiceRecords(`${name}-dns`, {
                ip: args.ip,
                zones: args.zones,
                cnameTarget: args.cnameTarget,
                ttl: args.ttl,
                importIds: args.importIds,
                servesWithinSeconds: args.servesWithinSeconds,
                lowerTtl: args.lowerTtl,
                ovhApi: provesRecords(args) ? args.ovhApi ?? new OvhApiProvider(`${name}-ovh-api`, {}, { parent: this }) : undefined,
            }, { parent: this, dependsOn: [this.alias.applied] });
            pending.declared(this.records.reverseWaitsFor);
        } catch (err) {
            pending.failed(err);
            throw err;
        }
        this.ip = pulumi.output(args.ip);
        this.interfaceName = this.alias.interfaceName;
        this.registerOutputs({ ip: this.ip, interfaceName: this.interfaceName });
    }
}
