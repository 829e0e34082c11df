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

/**
 * What the OVH account of a bundled stack holds before its first `pulumi up`: the servers, the
 * rented IPs routed to them, the zones; nothing the stack makes (stacks/Pulumi.<stack>.yaml).
 */
export function accountBefore(stack: string, s: OvhStandIn): void {
    if (stack === "reverse-proxy") {
        servers(s);
    } else if (stack === "layouts") {
        layoutsAccount(s);
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
    } else if (stack === "new-container") {
        accountBefore(stack, s);
        s.addRecord("example.org", { fieldType: "A", subDomain: "off1-proxy", target: "203.0.113.215", ttl: 300 });
    } else {
        accountBefore(stack, s);
    }
}
