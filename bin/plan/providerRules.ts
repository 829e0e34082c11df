// What each provider does with the resources the stack declares, read in the provider's source:
// which input changes replace, which inputs it never sends, and what its delete does in the
// world. The offline plan decides replacements from this table and prints the delete effects;
// the components are written against it (test/bin/plan/providerRules.test.ts checks both).
// Versions: @ovhcloud/pulumi-ovh 2.19 (terraform-provider-ovh v2.19), @pulumi/command 1.2.
import { MOVE_CHECK_TYPE, TTL_LOWERING_TYPE, VIRTUAL_MAC_TYPE, ZONE_SERVES_TYPE } from "./model";

export interface ProviderRule {
    /** The upstream file the rule was read in. */
    source: string;
    /** Top-level inputs whose change replaces (ForceNew, replaceOnChanges). */
    replaceOn: string[];
    /** Inputs the provider accepts but never sends: setting them only makes a permanent diff. */
    neverSent: string[];
    /** Top-level inputs whose update in place restarts what the resource is (a running container rebooted). */
    rebootOn?: string[];
    /**
     * The provider has no update function: a change of an input outside replaceOn is an update
     * that `pulumi up` fails with "doesn't support update" (terraform-plugin-sdk
     * helper/schema/resource.go, Apply), though the preview shows it as an update.
     */
    noUpdate?: true;
    /** What the provider's delete does (also the delete half of a replacement), given the old inputs. */
    onDelete: string | ((inputs: Record<string, unknown>) => string | undefined);
    /** What the resource's id is, and what `pulumi import` takes. */
    importId: string;
    /**
     * For a bridged (Terraform) provider: the defaults its Check fills in, by the path of the
     * object they go in ("" for the top, `a.b[]` for each object of the list a.b). Check marks every
     * object with `__defaults`, the keys it filled (pulumi-terraform-bridge), which is what the
     * engine shows and stores as the resource's inputs.
     */
    checkDefaults?: Record<string, Record<string, unknown>>;
    /**
     * What the provider's Read of an imported object gives, from the import id and the values the
     * object holds: its id and its outputs (the old state of the update that follows an import).
     */
    imported?: (importId: string, live: Record<string, unknown>) => { id: string; outputs: Record<string, unknown> };
}

export const PROVIDER_RULES: Record<string, ProviderRule> = {
    "ovh:Ip/move:Move": {
        // Bridged: Check marks each object with __defaults, and fills nothing in for what the library sets.
        checkDefaults: {},
        source: "ovh/terraform-provider-ovh ovh/resource_ip_move.go (no ForceNew; IpMoveOpts in ovh/types_ip_service.go sends nexthop and to only)",
        replaceOn: [],
        neverSent: ["description"],
        // resourceIpMoveDelete sets routed_to.service_name to "" and calls update: POST /ip/{ip}/park
        // (since v2.14, PR #1301).
        onDelete: "parks the IP (POST /ip/{ip}/park): it stops being routed to any server",
        importId: "the IP block, e.g. 192.0.2.10/32",
    },
    "ovh:Ip/reverse:Reverse": {
        // Bridged: Check marks each object with __defaults, and fills nothing in for what the library sets.
        checkDefaults: {},
        source: "ovh/terraform-provider-ovh ovh/resource_ip_reverse.go (every field ForceNew; id = ip_reverse; create retries the POST every 5 s on HTTP 400 for readiness_timeout_duration, 60 s by default)",
        replaceOn: ["ip", "ReverseIp", "ReverseValue", "readinessTimeoutDuration"],
        neverSent: [],
        onDelete: "removes the reverse of the address (DELETE /ip/{ip}/reverse/{ipReverse}), whichever resource set it",
        importId: "ip|ip_reverse, e.g. 192.0.2.10/32|192.0.2.10",
    },
    "ovh:Domain/zoneRecord:ZoneRecord": {
        // Bridged: Check marks each object with __defaults, and fills nothing in for what the library sets.
        checkDefaults: {},
        source: "ovh/terraform-provider-ovh ovh/resource_domain_zone_record.go (zone and fieldtype ForceNew; subdomain, target, ttl updated with PUT; a zone refresh after each change, a failed one only logged)",
        replaceOn: ["zone", "fieldtype"],
        neverSent: [],
        onDelete: "deletes that record (DELETE /domain/zone/{zone}/record/{id}) and refreshes the zone",
        importId: "<recordId>.<zone>",
        // The importer keeps the part before the first dot as the id; Read sets every field
        // (resource_domain_zone_record.go, resourceOvhDomainZoneRecordImportState and Read).
        imported: (importId, live) => {
            const id = importId.split(".")[0];
            return { id, outputs: { fieldtype: live.fieldtype, id, subdomain: live.subdomain, target: live.target, ttl: live.ttl, zone: live.zone } };
        },
    },
    "ovh:CloudProject/failoverIpAttach:FailoverIpAttach": {
        // Bridged: Check marks each object with __defaults, and fills nothing in for what the library sets.
        checkDefaults: {},
        source: "ovh/terraform-provider-ovh ovh/resource_cloud_project_failover_ip_attach.go (serviceName and routedTo ForceNew; ip neither ForceNew nor updatable: no update function, so the library replaces on it)",
        replaceOn: ["serviceName", "routedTo"],
        neverSent: [],
        noUpdate: true,
        onDelete: "nothing: a failover IP cannot be detached, it stays attached",
        importId: "the failover IP's id in the project; but the importer keeps the id alone and Read then asks GET /cloud/project//ip/failover, a 404 (seen with the real plugin): it cannot be imported",
    },
    "ovh:Vrack/ipAddress:IpAddress": {
        // Bridged: Check marks each object with __defaults, and fills nothing in for what the library sets.
        checkDefaults: {},
        source: "ovh/terraform-provider-ovh ovh/resource_vrack_ip.go (service_name and block ForceNew; region Optional and Computed; no update function; the importer takes SERVICE_NAME,IPBlock)",
        replaceOn: ["serviceName", "block"],
        neverSent: [],
        noUpdate: true,
        // resourceVrackIpDelete: DELETE /vrack/{sn}/ip/{block}, then waits for the vRack task.
        onDelete: "takes the block out of the vRack (DELETE /vrack/{serviceName}/ip/{block}): it is routed nowhere until moved",
        importId: "<vRack service name>,<block>, e.g. pn-123456,203.0.113.16/29",
    },
    "command:remote:Command": {
        source: "pulumi/pulumi-command provider/pkg/provider/common/inputs.go (only triggers is replaceOnChanges; any other change runs update) and remote/command.go (Delete runs the delete script with the old state; no Read)",
        replaceOn: ["triggers"],
        neverSent: [],
        onDelete: (inputs) => (typeof inputs.delete === "string" && inputs.delete !== "" ? "runs its delete script on the host" : undefined),
        importId: "none: a command cannot be imported",
    },
    "command:remote:CopyToRemote": {
        source: "pulumi/pulumi-command provider/pkg/provider/remote/copy.go and copyController.go (only triggers is replaceOnChanges; an update copies again when the asset's hash or remotePath changes; no Delete)",
        replaceOn: ["triggers"],
        neverSent: [],
        onDelete: () => undefined,
        importId: "none: a copy cannot be imported",
    },
    "proxmoxve:index/containerLegacy:ContainerLegacy": {
        source: "bpg/terraform-provider-proxmox proxmoxtf/resource/container/container.go, Container() (node_name, operating_system, unprivileged, template, pool_id, mount_point, initialization.user_account ForceNew; vm_id by CustomizeDiff; network_interface and ip_config updated in place, a running container rebooted)",
        replaceOn: ["nodeName", "vmId", "operatingSystem", "unprivileged", "template", "poolId", "mountPoints"],
        neverSent: [],
        // containerUpdate sets rebootRequired for these (v0.111.1, container.go), then reboots a
        // started container: a NIC's IP or MAC, its gateway, the hostname, the memory.
        rebootOn: ["console", "environmentVariables", "initialization", "memory", "devicePassthroughs", "idmaps", "networkInterfaces"],
        onDelete: "destroys the container",
        importId: "<node>/<vmid>",
        // The schema's Default of each key the library leaves unset (container.go, the dv* constants),
        // as the recorded preview showed them (test/recorded/new-container.empty.json).
        checkDefaults: {
            "": {
                clone: null,
                console: { enabled: true, ttyCount: 2, type: "tty" },
                features: { fuse: false, keyctl: false, mknod: false, mounts: [], nesting: false },
                timeoutClone: 1800,
                timeoutCreate: 1800,
                timeoutDelete: 60,
                timeoutUpdate: 1800,
            },
            cpu: { architecture: "amd64" },
            initialization: { dns: null, userAccount: null },
            "initialization.ipConfigs[]": { ipv6: null },
            "networkInterfaces[]": { enabled: true },
        },
    },
    [VIRTUAL_MAC_TYPE]: {
        source: "components/network/virtualMacProvider.ts (this project's dynamic provider: changedKeys, diff, delete)",
        replaceOn: ["serviceName", "ipAddress", "type", "virtualMachineName"],
        neverSent: [],
        onDelete: "removes the IP from the virtual MAC (DELETE /dedicated/server/{sn}/virtualMac/{mac}/virtualAddress/{ip})",
        importId: "<serviceName>/<macAddress>/<ipAddress>",
    },
    [MOVE_CHECK_TYPE]: {
        source: "components/network/moveCheckProvider.ts (this project's dynamic provider: diff never replaces, an update checks again, delete does nothing)",
        replaceOn: [],
        neverSent: [],
        onDelete: "does nothing at OVH: the check only read the API before the move",
        importId: "(nothing to import: it only checks)",
    },
    [ZONE_SERVES_TYPE]: {
        source: "components/dns/zoneServesProvider.ts (this project's dynamic provider: diff never replaces and proves again only when the zone or what it must serve changes, delete does nothing)",
        replaceOn: [],
        neverSent: [],
        onDelete: "does nothing at OVH or in DNS: the proof only refreshed the zone and asked its name servers",
        importId: "(nothing to import: it only proves)",
    },
    [TTL_LOWERING_TYPE]: {
        source: "components/dns/ttlLoweringProvider.ts (this project's dynamic provider: diff never replaces and updates on other records, another lowered TTL or a higher TTL before; delete does nothing)",
        replaceOn: [],
        neverSent: [],
        onDelete: "does nothing in the world: it only remembered since when the records were lowered",
        importId: "(nothing to import: it only remembers a time)",
    },
    "pulumi:providers:pulumi-nodejs": {
        source: "@pulumi/pulumi cmd/dynamic-provider (no DiffConfig: the engine updates a provider whose config changed, never replaces it; sdk/go/common/resource/plugin/provider_plugin.go) and components/network/ovhApiProvider.ts",
        replaceOn: [],
        neverSent: [],
        onDelete: "nothing in the world: it only carried the OVH endpoint and credentials to the virtual MAC, move check and DNS proof providers",
        importId: "(a provider is not imported)",
    },
};

/** Component resources have no provider: nothing in the world is replaced or deleted with them. */
export function ruleFor(type: string): ProviderRule | undefined {
    return PROVIDER_RULES[type];
}

/** What the provider's delete of a resource with these inputs does, if anything. */
export function deleteEffectOf(type: string, inputs: Record<string, unknown>): string | undefined {
    const rule = ruleFor(type);
    if (!rule) return undefined;
    return typeof rule.onDelete === "string" ? rule.onDelete : rule.onDelete(inputs);
}

/**
 * The inputs as a bridged provider's Check returns them, which is what `pulumi preview` shows: each
 * object of the inputs (not a default it filled in, not a secret or an asset) with the defaults of
 * its path added and `__defaults` listing them, sorted. Inputs of other providers are as given.
 */
export function checkedInputs(type: string, inputs: Record<string, unknown>): Record<string, unknown> {
    const defaults = ruleFor(type)?.checkDefaults;
    if (!defaults) return inputs;
    const visit = (value: unknown, path: string): unknown => {
        if (Array.isArray(value)) return value.map((v) => visit(v, `${path}[]`));
        if (typeof value !== "object" || value === null || Object.keys(value).some((k) => /^[0-9a-f]{32}$/.test(k))) return value;
        const out: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(value)) out[k] = visit(v, path === "" ? k : `${path}.${k}`);
        const filled = Object.keys(defaults[path] ?? {}).filter((k) => out[k] === undefined).sort();
        for (const k of filled) out[k] = defaults[path][k];
        out.__defaults = filled;
        return out;
    };
    return visit(inputs, "") as Record<string, unknown>;
}
