// The plugin package's entry: the components other languages use. @pulumi/pulumi's run-plugin
// (cmd/run-plugin/run.js) requires this folder, finds the ComponentResource classes exported here
// and serves them as the provider of package "ovh-failover" (package.json's name), with the
// schema its analyzer infers from their args.
export { CarpPair } from "./carpPair";
export { CloudEndpoint } from "./cloudEndpoint";
export { IpBlock } from "./ipBlock";
export { PublicEndpoint } from "./publicEndpoint";
