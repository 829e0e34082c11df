// DNS (tokens ovh-failover:dns:*): which records an endpoint needs, their OVH zone records, and the
// proof that the zone's name servers serve them, and since when they are at a lowered TTL.
export * from "./answers";
export * from "./records";
export * from "./serviceRecords";
export * from "./zoneServes";
export { checkZoneServes, type ResolveHost, type ServerProof, type ZoneServesInputs, type ZoneServesOutputs, zoneServesProvider } from "./zoneServesProvider";
export * from "./ttlLowering";
export { loweringChanges, lowered, type TtlLoweringInputs, type TtlLoweringOutputs, ttlLoweringProvider } from "./ttlLoweringProvider";
