// The OVH side (tokens ovh-failover:network:*): the failover IP's routing and reverse, its virtual
// MAC, the OVH API client, and the IP move an edge node runs when promoted.
export * from "./blocks";
export * from "./dynamicOvh";
export * from "./failoverIp";
export * from "./ipBlock";
export * from "./ipMove";
export * from "./moveCheck";
export { moveRefused, type MoveCheckInputs, type MoveCheckOutputs, moveCheckProvider } from "./moveCheckProvider";
export * from "./ovhApiClient";
export * from "./ovhApiProvider";
export * from "./virtualMac";
export { type VirtualMacInputs, type VirtualMacOutputs, type VirtualMacTiming, virtualMacProvider } from "./virtualMacProvider";
