// The catalog of every stack key: what the validator accepts and what docs/stack-keys.md says
// (npm run docs:keys writes it from here). The allowed-key lists of stackConfig.ts and
// edgeConfig.ts are read from it, so a key cannot be accepted without being described.
import { DEFAULT_TTL } from "../dns/serviceRecords";
import { DEFAULT_SERVES_WITHIN_SECONDS } from "../dns/zoneServes";
import { DEFAULT_ADVBASE, DEFAULT_CARP_UNIT, DEFAULT_HEALTH_INTERVAL_SECONDS, DEFAULT_IPMOVE_PATH, DEFAULT_PREEMPT, DEFAULT_REASSERT_SECONDS } from "../edge/carpSpec";
import { DEFAULT_FLAVOUR } from "../edge/edgeDeploy";
import { CONTAINER_DEFAULTS } from "../proxmox/containerNic";
import { DEFAULT_SSH_PORT, DEFAULT_SSH_USER } from "../shared/ssh";
import { DEFAULT_VIRTUAL_MAC_TYPE } from "../shared/validate";
import { KEEPALIVED_ADVSKEW_MAX, KEEPALIVED_PASSWORD_MAX } from "../edge/keepalived";

/** One key of one object of the stack's configuration. */
export interface KeySpec {
    /** The key's own name within its object. */
    name: string;
    /** What it takes, as a person writes it. */
    expected: string;
    /** The value it has when unset, as written in the stack file. */
    default?: string;
    required?: boolean;
    /** Set with `pulumi config set --secret`; the program refuses it in plain text. */
    secret?: boolean;
    description: string;
}

export interface ObjectSpec {
    /** Where the object sits, in `pulumi config set --path` syntax with placeholders. */
    path: string;
    section: Section;
    /** One line on what the object is. */
    summary: string;
    keys: KeySpec[];
}

export const SECTIONS = ["top-level", "servers", "blocks", "endpoints", "edges", "secrets"] as const;
export type Section = (typeof SECTIONS)[number];

const k = (name: string, expected: string, description: string, more: Partial<KeySpec> = {}): KeySpec => ({ name, expected, description, ...more });
const required = { required: true };

const HOST_KEY = "`<type> <base64>`, type ssh-ed25519 or ecdsa-sha2-nistp256/384/521 (not ssh-rsa)";

export const CATALOG = {
    top: {
        path: "",
        section: "top-level",
        summary: "The keys of the project's namespace (`ovh-failover:`). Any other key is refused, with the nearest known one.",
        keys: [
            k("dnsTtl", "0 (the zone's default) or 60 to 2147483647 seconds", "Default TTL of the DNS records; an IP change waits this long in resolvers.", { default: String(DEFAULT_TTL) }),
            k("dnsServesWithin", "0, or 1 to 86400 seconds", "After an `up` changed an endpoint's records, how long each zone's own name servers (as OVH lists them) have to answer the new values; `up` fails past it, naming each server and what it still answers. The zone is refreshed at OVH first, and a refused refresh fails with the access rule to add. 0: no proof (the records are applied, not proven served).", { default: String(DEFAULT_SERVES_WITHIN_SECONDS) }),
            k("protectIps", "true or false", "Protect the routing of the IPs and blocks routed to a server or a vRack from `pulumi destroy` (it is retained on delete either way). A Public Cloud attach is never protected: an IP change replaces it, and its delete only forgets it.", { default: "true" }),
            k("servers", "a map of server name to a server", "The dedicated servers the endpoints' IPs are routed to, and their Proxmox hosts."),
            k("ipBlocks", "a map of block name to an IP block", "Additional IP blocks (/30, /29, …) routed as a whole to a server or into a vRack; a lone IP needs no entry."),
            k("vracks", "a map of vRack name to a vRack", "The vRacks that blocks are routed into."),
            k("endpoints", "a map of endpoint name to an endpoint", "One public service IP each: failover IP, virtual MAC, container NIC, DNS records."),
            k("edges", "a map of edge pair name to an edge pair", "CARP/VRRP pairs of nodes that move a failover IP between them at run time."),
            k("proxmoxSshPrivateKey", "an SSH private key (OpenSSH PEM)", "Secret, optional: the key for the Proxmox hosts; without it, the SSH agent.", { secret: true }),
            k("edgeSshPrivateKey", "an SSH private key (OpenSSH PEM)", "Secret, optional: the key for the edge nodes; without it, the SSH agent.", { secret: true }),
            k("cloudSshPrivateKey", "an SSH private key (OpenSSH PEM)", "Secret, optional: the key for the Public Cloud instances of cloud endpoints; without it, the SSH agent.", { secret: true }),
            k("edgePasswords", "a map of edge pair name to a CARP password", "Secret; see the secrets section.", { secret: true }),
            k("edgeOvhCredentials", "a map of edge pair name to OVH credentials", "Secret; see the secrets section.", { secret: true }),
        ],
    },
    server: {
        path: "servers.<server>",
        section: "servers",
        summary: "A dedicated server at OVH, by a name of letters, digits, '_', '.', '-'.",
        keys: [
            k("serviceName", "an OVH service name such as ns3012345.ip-198-51-100.eu", "The server's service name at OVH (GET /dedicated/server), not its IP.", required),
            k("mainIp", "a public IPv4 address", "The server's main IP: gives the .254 gateway rule when the API does not, and may not be an endpoint's IP."),
            k("gatewayFromApi", "true or false", "Read the gateway from the OVH API (routing.ipv4.gateway).", { default: "true" }),
            k("gateway", "a public IPv4 address", "A gateway written by hand, when neither the API nor mainIp gives it."),
            k("gatewayCandidates", "a list of public IPv4 addresses", "Gateways tried in order from inside the container, the first that answers ARP is set (last resort)."),
            k("proxmox", "an object (below)", "SSH to the server's Proxmox host, where the container NICs are set."),
            k("ipv6", "an object (below)", "The server's IPv6 prefix, for endpoints with an ip6."),
            k("unreachable", "true or false", "True once the server is gone: what ran on its host is forgotten on delete instead of undone over SSH.", { default: "false" }),
            k("virtualMacs", "true or false", "Whether the server takes virtual MACs (the API's specifications/network vmac.supported); false leaves routed mode and vRack blocks.", { default: "true" }),
            k("virtualMacLimit", "a positive integer", "The most distinct virtual MACs the server takes (third-generation Advance: 32); the stack's own count is checked against it."),
            k("region", "an OVH region code such as eu-west-gra", "The server's region, to check that the blocks routed to it may move there."),
            k("routed", "an object (below)", "Present when the host carries routed-mode endpoints: a bridge with a private address that the host routes their IPs to."),
        ],
    },
    routed: {
        path: "servers.<server>.routed",
        section: "servers",
        summary: "Routed mode on the Proxmox host (no virtual MAC): the host routes each IP to a bridge of its own, with proxy_arp on the uplink.",
        keys: [
            k("bridge", "a bridge name such as vmbr2", "A bridge with no ports that exists on the host and holds address; the routed NICs sit on it.", required),
            k("address", "a private IPv4 address such as 192.168.0.1", "The bridge's address: the gateway of every routed guest.", required),
            k("prefixLength", "8 to 30", "The prefix length of the bridge's address.", { default: "24" }),
            k("uplink", "an interface name such as vmbr0", "The public interface that answers ARP for the routed IPs (proxy_arp).", { default: "vmbr0" }),
            k("address6", "an IPv6 address such as fd00::1 or fe80::1 (global, unique local or link-local), outside the server's IPv6 prefix", "An IPv6 address the host holds on the bridge: the IPv6 gateway of the routed guests; needed by a routed endpoint with ip6, whose address the host then answers for on the uplink (proxy_ndp) and routes to the bridge."),
        ],
    },
    vrack: {
        path: "vracks.<vrack>",
        section: "blocks",
        summary: "A vRack, by a name of letters, digits, '_', '.', '-'.",
        keys: [
            k("serviceName", "a vRack service name such as pn-123456", "The vRack at OVH (GET /vrack).", required),
            k("bridge", "a bridge name such as vmbr1", "The Proxmox bridge on the servers' vRack interface, where the guests of its blocks sit.", { default: "vmbr1" }),
            k("ipv6", "the vRack's Additional IPv6 block, written as its network address (2001:db8:abcd:ef00::/56)", "For endpoints of its blocks with an ip6: they take it in the block's first /64, the subrange OVH bridges into the vRack, with the block's first address as gateway."),
        ],
    },
    ipBlock: {
        path: "ipBlocks.<block>",
        section: "blocks",
        summary: "An additional IP block, routed as a whole (OVH moves only whole blocks): to one server (server) or into a vRack (vrack). Endpoints whose ip lies in it use it.",
        keys: [
            k("block", "a block written as its network address and length, /24 to /32, such as 203.0.113.8/29 (a vRack block: /29 at the smallest)", "The block as OVH holds it.", required),
            k("server", "the name of a server under servers", "The server the block is routed to (one of server and vrack)."),
            k("vrack", "the name of a vRack under vracks", "The vRack the block is routed into (one of server and vrack): no virtual MACs; the first, penultimate and last addresses are reserved, the penultimate is the gateway."),
            k("region", "an OVH region code such as eu-west-gra", "The block's region, when known: a block stays in its region (gra, rbx and sbg move among themselves)."),
            k("dropVirtualMacs", "true or false", "Allow a block whose IPs have virtual MACs into a vRack, where OVH drops them.", { default: "false" }),
        ],
    },
    proxmox: {
        path: "servers.<server>.proxmox",
        section: "servers",
        summary: "SSH to the Proxmox host of a server.",
        keys: [
            k("host", "an IP address or a host name (no user@, no :port)", "The Proxmox host's SSH address.", required),
            k("port", "a TCP port, 1 to 65535", "Its SSH port.", { default: String(DEFAULT_SSH_PORT) }),
            k("user", "a login name", "The SSH user.", { default: DEFAULT_SSH_USER }),
            k("node", "a Proxmox node name", "The node name; needed for containers the stack owns."),
            k("hostKey", HOST_KEY, "The host's public key, from ssh-keyscan -t ed25519 <host> without the host name; without it any key is accepted (the plan warns)."),
        ],
    },
    ipv6: {
        path: "servers.<server>.ipv6",
        section: "servers",
        summary: "The server's IPv6 prefix.",
        keys: [
            k("prefix", "a global unicast prefix /48 to /64, written as its network address (2001:db8:1:4662::/64)", "The server's prefix; endpoints take their ip6 in it.", required),
            k("gateway", "an IPv6 address (global unicast, unique local or link-local, such as fe80::1)", "A gateway by hand, when neither routing.ipv6.gateway nor OVH's /64 rule gives it."),
        ],
    },
    endpoint: {
        path: "endpoints.<endpoint>",
        section: "endpoints",
        summary: "A public service IP, by a name of letters, digits, '_', '.', '-'.",
        keys: [
            k("server", "the name of a server under servers", "The server the failover IP is routed to (in a vRack block: the server whose Proxmox host runs the container).", { default: "required, except with cloud" }),
            k("ip", "a public IPv4 address", "The failover IP: the one value an IP change edits.", required),
            k("mode", "bridged, routed, vrack or cloud", "How the IP reaches the guest: a virtual MAC (bridged), a route on the host (routed), a vRack block (vrack), a Public Cloud instance (cloud).", { default: "cloud with cloud, vrack in a vRack block, else bridged" }),
            k("cloud", "an object (below)", "Present for an IP attached to a Public Cloud instance, instead of server and container."),
            k("ip6", "an IPv6 address in the server's prefix, best relative to it (::10); for an IP of a vRack block, in the first /64 of the vRack's ipv6", "AAAA records and ip6/gw6 on the NIC."),
            k("reverse", "a fully qualified name with its trailing dot (proxy1.example.org.)", "The IP's reverse DNS; OVH refuses it unless the name resolves to the IP."),
            k("virtualMac", "an object (below)", "The virtual MAC that carries the IP."),
            k("container", "an object (below)", "The Proxmox container NIC that carries the IP.", { default: "required, except with cloud" }),
            k("records", "a map of zone (written records[\"example.org\"]) to { a, cname }", "The DNS records that point at the IP."),
            k("cnameTarget", "a fully qualified name with its trailing dot", "Where the CNAMEs point.", { default: "the first A name, when A names are in one zone only (else required)" }),
            k("ttl", "0 (the zone's default) or 60 to 2147483647 seconds", "The records' TTL.", { default: "dnsTtl" }),
            k("lowerTtl", "60 seconds to one below ttl", "While set, the records' TTL instead of ttl, and the stack records since when (output ttlLowerings): the first step of an IP change, which `ovh-failover change-ip` sets, waits out and removes.", { default: "unset" }),
        ],
    },
    virtualMac: {
        path: "endpoints.<endpoint>.virtualMac",
        section: "endpoints",
        summary: "The virtual MAC OVH gives the IP.",
        keys: [
            k("type", "ovh or vmware", "The MAC's type (dedicated.server.VmacTypeEnum).", { default: DEFAULT_VIRTUAL_MAC_TYPE }),
            k("virtualMachineName", "a name of letters, digits, '_', '.', '-'", "The VM name OVH shows next to the MAC.", { default: "the endpoint's name" }),
            k("macAddress", "a unicast MAC such as 02:00:00:12:34:56", "The MAC the IP already has, to adopt it (checked)."),
        ],
    },
    cloud: {
        path: "endpoints.<endpoint>.cloud",
        section: "endpoints",
        summary: "A Public Cloud instance that the IP is attached to, and SSH to it, where the IP is added as a /32 alias.",
        keys: [
            k("project", "a Public Cloud project id, 32 lower-case hex digits", "The project the IP was imported into.", required),
            k("instance", "an instance id (a UUID)", "The instance the IP is attached to.", required),
            k("interfaceName", "an interface name such as ens3", "The instance's public interface.", { default: "the interface of the instance's default route, found on it" }),
            k("flavour", "netplan or debian", "How the alias is kept across reboots: a file of /etc/netplan, or of /etc/network/interfaces.d (ifupdown).", { default: "netplan" }),
            k("ssh", "an object (below)", "SSH to the instance.", required),
        ],
    },
    cloudSsh: {
        path: "endpoints.<endpoint>.cloud.ssh",
        section: "endpoints",
        summary: "SSH to a Public Cloud instance.",
        keys: [
            k("host", "an IP address or a host name (no user@, no :port)", "The instance's SSH address.", required),
            k("port", "a TCP port, 1 to 65535", "Its SSH port.", { default: String(DEFAULT_SSH_PORT) }),
            k("user", "a login name", "The SSH user; any other than root runs the scripts with sudo -n (Public Cloud images log in as debian or ubuntu, with sudo).", { default: DEFAULT_SSH_USER }),
            k("hostKey", HOST_KEY, "The instance's public key.", required),
        ],
    },
    container: {
        path: "endpoints.<endpoint>.container",
        section: "endpoints",
        summary: "The Proxmox LXC container and the NIC that carries the IP.",
        keys: [
            k("vmid", "a container id, 100 to 999999999", "The container.", required),
            k("nic", "a NIC index, 0 to 31 (the N of netN)", "The NIC that carries the IP.", required),
            k("interfaceName", "an interface name such as eth1", "The interface inside the container.", { default: "eth<nic>" }),
            k("bridge", "a bridge name such as vmbr0", "The host bridge the NIC is on.", { default: CONTAINER_DEFAULTS.bridge }),
            k("owned", "an object (below)", "Present when the stack creates and owns the whole container."),
        ],
    },
    owned: {
        path: "endpoints.<endpoint>.container.owned",
        section: "endpoints",
        summary: "A container the stack creates and owns (Proxmox provider).",
        keys: [
            k("hostname", "a name of letters, digits, '_', '.', '-'", "The container's host name.", required),
            k("template", "a template volume such as local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst", "The template it is created from.", required),
            k("osType", "a Proxmox OS type", "The OS type.", { default: CONTAINER_DEFAULTS.osType }),
            k("cores", "a positive integer", "CPU cores.", { default: String(CONTAINER_DEFAULTS.cores) }),
            k("memoryMb", "a positive integer", "Memory in MiB.", { default: String(CONTAINER_DEFAULTS.memoryMb) }),
            k("diskGb", "a positive integer", "Root disk size in GiB.", { default: String(CONTAINER_DEFAULTS.diskGb) }),
            k("datastore", "a datastore name", "Where the root disk lives.", { default: CONTAINER_DEFAULTS.datastore }),
            k("privateNics", "a list of private NICs (below)", "Other NICs; with the public one their indices run from 0 with no gap."),
        ],
    },
    privateNic: {
        path: "endpoints.<endpoint>.container.owned.privateNics[<i>]",
        section: "endpoints",
        summary: "A private NIC of an owned container.",
        keys: [
            k("nic", "a NIC index, 0 to 31, not the public NIC's", "The N of netN.", required),
            k("interfaceName", "an interface name such as eth0", "The interface inside the container.", { default: "eth<its place in the list>" }),
            k("bridge", "a bridge name such as vmbr1", "The host bridge.", required),
            k("ip", "an IPv4 address with its prefix length (10.1.0.100/24)", "The NIC's address.", required),
            k("gateway", "an IPv4 address", "Its gateway."),
        ],
    },
    zone: {
        path: "endpoints.<endpoint>.records[\"<zone>\"]",
        section: "endpoints",
        summary: "The names of one zone (example.org) that point at the endpoint; names are relative to the zone, \"@\" is the apex.",
        keys: [
            k("a", "a list of names relative to the zone (www, not www.example.org)", "Names that get an A record (and AAAA with ip6): what an IP change edits."),
            k("cname", "a list of names relative to the zone, never the apex", "Names that get a CNAME to cnameTarget."),
        ],
    },
    edge: {
        path: "edges.<pair>",
        section: "edges",
        summary: "An edge pair: two nodes that hold a failover IP by CARP (OpenBSD) or VRRP (keepalived) and move it with ovh-ipmove.",
        keys: [
            k("flavour", "openbsd or keepalived", "CARP + ifstated + pf, or VRRP on Debian/Proxmox.", { default: DEFAULT_FLAVOUR }),
            k("failoverIp", "a public IPv4 address", "The failover IP the pair moves between its nodes at run time.", required),
            k("reverse", "a fully qualified name with its trailing dot", "The IP's reverse DNS."),
            k("group", "an object (below)", "The CARP/VRRP group on the private network.", required),
            k("health", "an object (below)", "The health check that demotes a node.", required),
            k("nodes", "a list of nodes (below), at least two", "The pair's nodes.", required),
            k("ipmovePath", "an absolute path", "Where ovh-ipmove lives on the nodes.", { default: DEFAULT_IPMOVE_PATH }),
            k("reassertSeconds", "10 to 3600 seconds", "Seconds between two claims of the IP by the master.", { default: String(DEFAULT_REASSERT_SECONDS) }),
            k("preempt", "true or false", "Whether a healthy node with a lower advskew takes the master role back (each change is a move at OVH).", { default: String(DEFAULT_PREEMPT) }),
        ],
    },
    group: {
        path: "edges.<pair>.group",
        section: "edges",
        summary: "The CARP/VRRP group.",
        keys: [
            k("vhid", "1 to 255", "The virtual host id.", required),
            k("address", "an IPv4 address on the private network", "The shared CARP address (not a node's own, not the failover IP).", required),
            k("prefixLength", "1 to 32", "The prefix length of the CARP address.", required),
            k("carpdev", "an interface name", "The interface on the private network CARP runs on (not the public one). On OpenBSD its `/etc/hostname.<carpdev>` stays the node's own: every line is kept (an address the interface carries, comments, `!` commands), and the deploy adds a line `up` at the end unless the last `up` or `down` line is `up` already. Leaving the pair puts the file back byte for byte (or removes it, if there was none).", required),
            k("advbase", "1 to 255 seconds", "The advertisement interval.", { default: String(DEFAULT_ADVBASE) }),
            k("carpUnit", "0 to 255", "The carp interface's number (0 for carp0).", { default: String(DEFAULT_CARP_UNIT) }),
        ],
    },
    health: {
        path: "edges.<pair>.health",
        section: "edges",
        summary: "The health check of the nodes.",
        keys: [
            k("pingTarget", "an IPv4 address beyond the pair", "A node that cannot ping it is demoted.", required),
            k("intervalSeconds", "1 to 3600 seconds", "Seconds between two checks.", { default: String(DEFAULT_HEALTH_INTERVAL_SECONDS) }),
        ],
    },
    node: {
        path: "edges.<pair>.nodes[<i>]",
        section: "edges",
        summary: "A node of an edge pair.",
        keys: [
            k("name", "a name of letters, digits, '_', '.', '-', distinct", "The node's name.", required),
            k("advskew", `0 to 254 (keepalived: at most ${KEEPALIVED_ADVSKEW_MAX}), distinct`, "The lowest is the master.", required),
            k("publicInterface", "an interface name", "The interface that carries the failover IP.", required),
            k("privateInterface", "an interface name, not the public one", "The interface on the private network, watched by the health check.", required),
            k("privateAddress", "an IPv4 address", "The node's address on the CARP network; required with keepalived (its unicast source)."),
            k("ssh", "an object (below)", "SSH to the node, for the deploy.", required),
            k("move", "an object (below)", "Where the IP is routed when this node is master.", required),
        ],
    },
    ssh: {
        path: "edges.<pair>.nodes[<i>].ssh",
        section: "edges",
        summary: "SSH to an edge node.",
        keys: [
            k("host", "an IP address or a host name (no user@, no :port)", "The node's SSH address.", required),
            k("port", "a TCP port, 1 to 65535", "Its SSH port.", { default: String(DEFAULT_SSH_PORT) }),
            k("user", "a login name", "The SSH user. Any other user than root runs the deploy and the removal with `doas -n`, which never prompts: the node's `/etc/doas.conf` needs `permit nopass <user> as root cmd /bin/sh` after every other rule that matches the user, since the last matching rule decides (doas.conf(5)).", { default: DEFAULT_SSH_USER }),
            k("hostKey", HOST_KEY, "The node's public key: required, since the deploy sends it secrets, unless insecureSkipHostKeyCheck."),
            k("insecureSkipHostKeyCheck", "true or false", "Accept any host key (a lab only).", { default: "false" }),
        ],
    },
    move: {
        path: "edges.<pair>.nodes[<i>].move",
        section: "edges",
        summary: "Where ovh-ipmove routes the IP for this node: { project, instance } (Public Cloud) or { server } (a dedicated server).",
        keys: [
            k("project", "a Public Cloud project id, 32 lower-case hex digits", "The node's Public Cloud project (with instance)."),
            k("instance", "an instance id (a UUID) or name", "The node's instance (with project)."),
            k("server", "an OVH service name", "The node's dedicated server (alone)."),
        ],
    },
    edgePasswords: {
        path: "edgePasswords",
        section: "secrets",
        summary: "Secret: a map of edge pair name to its CARP password, set with pulumi config set --secret --path.",
        keys: [
            k("<pair>", `letters, digits, '_' and '-' (keepalived: at most ${KEEPALIVED_PASSWORD_MAX})`, "The pair's CARP/VRRP password.", { required: true, secret: true }),
        ],
    },
    credentials: {
        path: "edgeOvhCredentials.<pair>",
        section: "secrets",
        summary: "Secret: the OVH API credentials ovh-ipmove uses on the nodes of one pair (least privilege), set with pulumi config set --secret --path.",
        keys: [
            k("endpoint", "ovh-eu, ovh-ca, ovh-us, kimsufi-eu, kimsufi-ca, soyoustart-eu, soyoustart-ca, or an https:// URL", "The OVH API endpoint.", required),
            k("applicationKey", "letters, digits, '_' and '-'", "The application key.", { required: true, secret: true }),
            k("applicationSecret", "letters, digits, '_' and '-'", "The application secret.", { required: true, secret: true }),
            k("consumerKey", "letters, digits, '_' and '-'", "The consumer key.", { required: true, secret: true }),
        ],
    },
} satisfies Record<string, ObjectSpec>;

export type ObjectName = keyof typeof CATALOG;

/** The keys an object allows, in the catalog's order: what reader.object is given. */
export function keysOf(object: ObjectName): string[] {
    return CATALOG[object].keys.map((key) => key.name);
}

/** The top-level keys that are secrets, and those that are not. */
export const SECRET_KEYS: string[] = CATALOG.top.keys.filter((key) => key.secret).map((key) => key.name);
export const CONFIG_KEYS: string[] = CATALOG.top.keys.filter((key) => !key.secret).map((key) => key.name);
