// The Proxmox side (tokens ovh-failover:proxmox:*): the container NIC and its `pct` scripts, the
// gateway rule, and the probe that proves the gateway answers.
export * from "./containerNic";
export * from "./gateway";
export * from "./gatewayProbe";
export * from "./pct";
export * from "./probeScript";
