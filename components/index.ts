// The library: one folder per domain, named as the type tokens' module (ovh-failover:<module>:<Name>),
// and PublicEndpoint, which composes them. Imports run one way:
//   shared <- network, proxmox, dns, cloud <- edge <- config (dns also uses network's OVH API client and provider);
//   PublicEndpoint <- network, proxmox, dns.
export * from "./cloud";
export * from "./config";
export * from "./dns";
export * from "./edge";
export * from "./network";
export * from "./proxmox";
export * from "./publicEndpoint";
export * from "./cloudEndpoint";
export * from "./shared";
