// DNS (tokens ovh-failover:dns:*): which records an endpoint needs, and their OVH zone records.
export * from "./records";
export * from "./serviceRecords";
