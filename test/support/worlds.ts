// Worlds the OVH stand-in and the Proxmox host stand-ins can start with, for `npm run adopt`:
// - seed 000 after its incident: the IP routed by hand, a vmware virtual MAC typed by hand, the
//   records made in the OVH manager with an hour's TTL, net1 of container 101 set in the Proxmox
//   interface (with the firewall on);
// - a lost state: everything exactly as `pulumi up` of the reverse-proxy stack left it, IPv6
//   included.
// Documentation addresses only, the stack's own (stacks/Pulumi.reverse-proxy.yaml).
import { ovhGateway6 } from "../../components/proxmox/gateway";
import { parseIpv6Prefix } from "../../components/shared/ipv6";
import type { OvhStandIn } from "./ovhStandIn";

export const OVH1 = "ns3012345.ip-198-51-100.eu";
export const OVH2 = "ns3023456.ip-203-0-113.eu";
export const IP = "192.0.2.10";
/** ::10 of ovh1's prefix in the stack. */
export const IP6 = "2001:db8:1:4662::10";
const CANONICAL = "proxy1.example.org.";
const ALIASES = ["world", "api", "blog", "static", "images"];

export interface World {
    /** net1 of container 101 on the Proxmox host (`pct config`), or undefined. */
    net1: string | undefined;
    macAddress: string;
}

/** routing.ipv6 of a server with this /64, its gateway by OVH's rule. */
export function ipv6Of(prefix: string): { ip: string; gateway: string } {
    return { ip: prefix, gateway: ovhGateway6(parseIpv6Prefix(prefix)) };
}

function servers(s: OvhStandIn): void {
    s.addServer(OVH1, { mainIp: "198.51.100.20", gateway: "198.51.100.254", ipv6: ipv6Of("2001:db8:1:4662::/64") });
    s.addServer(OVH2, { mainIp: "203.0.113.20", gateway: "203.0.113.254", ipv6: ipv6Of("2001:db8:3:1a00::/64") });
    s.addIp(IP, { routedTo: OVH1 });
    s.addZone("example.org");
    s.addZone("example.net");
}

function records(s: OvhStandIn, ttl: number, withIpv6: boolean): void {
    s.addRecord("example.org", { fieldType: "A", subDomain: "proxy1", target: IP, ttl });
    if (withIpv6) {
        s.addRecord("example.org", { fieldType: "AAAA", subDomain: "proxy1", target: IP6, ttl });
        s.addRecord("example.net", { fieldType: "AAAA", subDomain: "", target: IP6, ttl });
    }
    for (const a of ALIASES) s.addRecord("example.org", { fieldType: "CNAME", subDomain: a, target: CANONICAL, ttl });
    s.addRecord("example.net", { fieldType: "A", subDomain: "", target: IP, ttl });
    s.addRecord("example.net", { fieldType: "CNAME", subDomain: "www", target: CANONICAL, ttl });
    // What the stack does not manage stays out of it.
    s.addRecord("example.org", { fieldType: "MX", subDomain: "", target: "10 mail.example.org.", ttl: 3600 });
}

export function seed000World(s: OvhStandIn): World {
    servers(s);
    const mac = "00:50:56:00:12:34";
    s.seedVirtualMac(OVH1, mac, "vmware", [{ ipAddress: IP, virtualMachineName: "proxy" }]);
    // Seed 000 had no IPv6 yet: the AAAA records are the stack's to create.
    records(s, 3600, false);
    return { macAddress: mac, net1: `name=eth1,bridge=vmbr0,firewall=1,gw=198.51.100.254,hwaddr=00:50:56:00:12:34,ip=${IP}/32,type=veth` };
}

export function lostStateWorld(s: OvhStandIn): World {
    servers(s);
    const mac = "02:00:00:5e:00:10";
    s.seedVirtualMac(OVH1, mac, "ovh", [{ ipAddress: IP, virtualMachineName: "proxy" }]);
    records(s, 300, true);
    return { macAddress: mac, net1: `name=eth1,bridge=vmbr0,gw=198.51.100.254,gw6=2001:db8:1:46ff:ff:ff:ff:ff,hwaddr=${mac},ip=${IP}/32,ip6=${IP6}/64,type=veth` };
}

/** The layouts stack's (stacks/Pulumi.layouts.yaml): its blocks, its vRack, its zone. */
export const LAYOUTS = {
    webBlock: "192.0.2.8/29",
    webIps: ["192.0.2.9", "192.0.2.10", "192.0.2.11"],
    rackBlock: "192.0.2.16/29",
    rackIp: "192.0.2.18",
    vrack: "pn-123456",
};

function layoutsAccount(s: OvhStandIn, rackInVrack = false): void {
    s.addServer(OVH1, { mainIp: "198.51.100.20", gateway: "198.51.100.254", region: "eu-west-gra" });
    s.addServer(OVH2, { mainIp: "203.0.113.20", gateway: "203.0.113.254", region: "eu-west-gra" });
    // Both /29 are rented and routed to ovh1; the stack puts the second into the vRack.
    s.addIp(LAYOUTS.webBlock, { routedTo: OVH1, regions: ["eu-west-gra"] });
    s.addIp(LAYOUTS.rackBlock, { routedTo: OVH1, regions: ["eu-west-gra"] });
    s.addVrack(LAYOUTS.vrack, { servers: [OVH1, OVH2], ips: rackInVrack ? [LAYOUTS.rackBlock] : [] });
    s.addZone("example.org");
}

/** The routed stack's server (stacks/Pulumi.routed.yaml): no virtual MACs; its IP. */
export const ROUTED = { server: "ns3034567.ip-198-51-100.eu", ip: "192.0.2.50" };

/** The public-cloud stack's project, instance and IP (stacks/Pulumi.public-cloud.yaml). */
export const PUBLIC_CLOUD = {
    project: "0123456789abcdef0123456789abcdef",
    instance: "5f0e4f9c-3b1d-4a55-9d0e-2f4b8c6a7d21",
    otherInstance: "0c7b2c1e-8d3a-4f6b-9e2d-1a5c3b7d9f01",
    ip: "192.0.2.60",
    failoverId: "8a3c6e2f-4b1d-4e9a-a7c5-3d2f1b0e9c84",
    /** A second additional IP in the project: where an IP change moves the endpoint. */
    ip2: "192.0.2.61",
    failoverId2: "b7d1e3c5-2a4f-4c6e-8b0d-9f1a3c5e7b26",
};

/** The project's additional IPs, both attached to its other instance for now, or as `pulumi up` left them. */
const publicCloudIps = (routedTo: string) => [
    { id: PUBLIC_CLOUD.failoverId, ip: PUBLIC_CLOUD.ip, routedTo },
    { id: PUBLIC_CLOUD.failoverId2, ip: PUBLIC_CLOUD.ip2, routedTo: PUBLIC_CLOUD.otherInstance },
];

function routedAccount(s: OvhStandIn): void {
    s.addServer(ROUTED.server, { mainIp: "198.51.100.40", gateway: "198.51.100.254", vmacSupported: false });
    s.addIp(ROUTED.ip, { routedTo: ROUTED.server });
    s.addZone("example.org");
}

/** The IPs imported into the project, attached to another instance of it for now. */
function publicCloudAccount(s: OvhStandIn): void {
    s.addCloudProject(PUBLIC_CLOUD.project, {
        instances: [{ id: PUBLIC_CLOUD.instance, name: "web-gra-1" }, { id: PUBLIC_CLOUD.otherInstance, name: "web-gra-2" }],
        failoverIps: publicCloudIps(PUBLIC_CLOUD.otherInstance),
    });
    s.addZone("example.org");
}

/**
 * What the OVH account of a bundled stack holds before its first `pulumi up`: the servers, the
 * rented IPs routed to them, the zones; nothing the stack makes (stacks/Pulumi.<stack>.yaml).
 */
export function accountBefore(stack: string, s: OvhStandIn): void {
    if (stack === "reverse-proxy") {
        servers(s);
    } else if (stack === "layouts") {
        layoutsAccount(s);
    } else if (stack === "routed") {
        routedAccount(s);
    } else if (stack === "public-cloud") {
        publicCloudAccount(s);
    } else if (stack === "new-container") {
        s.addServer("ns3054321.ip-198-51-100.eu", { mainIp: "198.51.100.30", gateway: "198.51.100.254" });
        s.addIp("203.0.113.215", { routedTo: "ns3054321.ip-198-51-100.eu" });
        s.addZone("example.org");
    }
    // edge-pair: the nodes move the IP at run time; the stack asks OVH nothing.
}

/**
 * What the OVH account of a bundled stack holds after a `pulumi up` whose state is lost: what
 * `ovh-failover adopt --no-state` finds and the stack imports.
 */
export function accountAfterUp(stack: string, s: OvhStandIn): void {
    if (stack === "reverse-proxy") {
        lostStateWorld(s);
    } else if (stack === "layouts") {
        layoutsAccount(s, true);
        LAYOUTS.webIps.forEach((ip, i) => s.seedVirtualMac(OVH1, `02:00:00:5e:01:0${i + 1}`, "ovh", [{ ipAddress: ip, virtualMachineName: `web${i + 1}` }]));
        for (const [name, ip] of [...LAYOUTS.webIps.map((ip, i) => [`web${i + 1}`, ip]), ["lb", LAYOUTS.rackIp]]) {
            s.addRecord("example.org", { fieldType: "A", subDomain: name, target: ip, ttl: 300 });
        }
    } else if (stack === "routed") {
        routedAccount(s);
        s.addRecord("example.org", { fieldType: "A", subDomain: "app", target: ROUTED.ip, ttl: 300 });
    } else if (stack === "public-cloud") {
        s.addCloudProject(PUBLIC_CLOUD.project, {
            instances: [{ id: PUBLIC_CLOUD.instance, name: "web-gra-1" }, { id: PUBLIC_CLOUD.otherInstance, name: "web-gra-2" }],
            failoverIps: publicCloudIps(PUBLIC_CLOUD.instance),
        });
        s.addZone("example.org");
        s.addRecord("example.org", { fieldType: "A", subDomain: "pci", target: PUBLIC_CLOUD.ip, ttl: 300 });
    } else if (stack === "new-container") {
        accountBefore(stack, s);
        s.addRecord("example.org", { fieldType: "A", subDomain: "off1-proxy", target: "203.0.113.215", ttl: 300 });
    } else {
        accountBefore(stack, s);
    }
}
