// Edge pairs (tokens ovh-failover:edge:*): the pair's values, the OpenBSD and keepalived
// renderers, the deploy script, and the CarpPair component.
export * from "./carpPair";
export * from "./carpSpec";
export * from "./edgeDeploy";
export * from "./keepalived";
export * from "./openbsd";
export * from "./ipmoveBundle";
