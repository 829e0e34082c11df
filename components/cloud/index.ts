// The Public Cloud side (tokens ovh-failover:cloud:*): the additional IP inside the instance, its
// scripts, and the proof that the instance holds it and sends from it.
export * from "./aliasScript";
export * from "./instanceAlias";
