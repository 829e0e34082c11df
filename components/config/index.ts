// The stack configuration: parsing and validation of a stack's keys, before any resource exists.
export * from "./edgeConfig";
export * from "./stackConfig";
export * from "./programConfig";
export * from "./reader";
export * from "./keys";
export * from "./adoptFile";
