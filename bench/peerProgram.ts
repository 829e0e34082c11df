// The benchmark's peer: the same resources as index.ts declares for a stack's endpoints, declared
// directly with the providers, without the components (no component resources, no per-component
// checks). The plan's cost over this is what the components cost.
import * as ovh from "@ovhcloud/pulumi-ovh";
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { parseStackConfig, RawConfig } from "../components/config/stackConfig";
import { planRecords } from "../components/dns/records";
import { renderCreateScript, renderDeleteScript, renderUpdateScript } from "../components/proxmox/pct";
import { renderHostProbeScript } from "../components/proxmox/gatewayProbe";
import { renderProbeScript } from "../components/proxmox/probeScript";
import { resolveGateway } from "../components/proxmox/gateway";
import { VirtualMac } from "../components/network/virtualMac";

const config = new pulumi.Config();
const raw: RawConfig = {};
for (const key of ["servers", "endpoints", "dnsTtl"]) {
    const text = config.get(key);
    if (text !== undefined) raw[key] = JSON.parse(text);
}
const stack = parseStackConfig(raw);

for (const e of stack.endpoints) {
    const server = stack.servers.get(e.server)!;
    const proxmox = server.proxmox!;
    const connection = { host: proxmox.host, port: proxmox.port, user: proxmox.user };
    const move = new ovh.ip.Move(`${e.name}-ip-routing`, { ip: `${e.ip}/32`, routedTo: { serviceName: server.serviceName } }, { protect: true });
    const vmac = new VirtualMac(`${e.name}-vmac`, { serviceName: server.serviceName, ipAddress: e.ip }, { protect: true, dependsOn: [move] });
    const gateway = ovh.dedicated.getServerSpecificationsNetworkOutput({ serviceName: server.serviceName })
        .apply((spec) => resolveGateway({ apiGateway: spec.routing?.ipv4?.gateway || undefined, mainIp: server.mainIp }));
    const nic = pulumi.all([vmac.macAddress, gateway]).apply(([macAddress, gw]) => ({
        vmid: e.container.vmid, index: e.container.nic, interfaceName: e.container.interfaceName, bridge: e.container.bridge,
        macAddress, address: e.ip, prefixLength: 32, gateway: gw.gateway,
    }));
    const pct = new command.remote.Command(`${e.name}-nic-pct-set`, {
        connection, create: nic.apply(renderCreateScript), update: nic.apply(renderUpdateScript), delete: nic.apply(renderDeleteScript),
        triggers: [proxmox.host, e.container.vmid, e.container.nic],
    });
    const probe = new command.remote.Command(`${e.name}-gateway-arp`, {
        connection,
        create: gateway.apply((g) => renderHostProbeScript(e.container.vmid, e.container.nic, renderProbeScript({
            interfaceName: e.container.interfaceName, address: e.ip, gateways: g.probe, tries: 3, timeoutSeconds: 5, label: `container ${e.container.vmid} net${e.container.nic}`,
        }), g.probe)),
        triggers: [e.ip, vmac.macAddress, gateway.apply((g) => g.probe)],
    }, { dependsOn: [pct] });
    for (const r of planRecords({ endpoint: e.name, zones: e.records, cnameTarget: e.cnameTarget }, e.ip, e.ttl)) {
        new ovh.domain.ZoneRecord(`${e.name}-dns-${r.fieldtype}-${r.subdomain || "apex"}.${r.zone}`,
            { zone: r.zone, subdomain: r.subdomain, fieldtype: r.fieldtype, target: r.target, ttl: r.ttl }, { dependsOn: [probe] });
    }
}
