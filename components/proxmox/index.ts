// The Proxmox side (tokens ovh-failover:proxmox:*): the container NIC and its `pct` scripts, the
// gateway rule, the probe that proves the gateway answers, and the host route of a routed-mode
// endpoint with its scripts.
export * from "./containerNic";
export * from "./gateway";
export * from "./gatewayProbe";
export * from "./pct";
export * from "./probeScript";
export * from "./hostRoute";
export * from "./hostRouteScript";
