// Before the test:providers tier: the plugins of OVH_FAILOVER_PLUGINS are there and report the npm
// SDKs' versions, or the tier stops at once and says what it needs.
import { findPlugins } from "./plugins";

export default async function setup(): Promise<void> {
    const plugins = await findPlugins();
    for (const p of plugins) console.log(`pulumi-resource-${p.name} ${p.version} (GetPluginInfo; package-lock.json ${p.sdkVersion})`);
}
