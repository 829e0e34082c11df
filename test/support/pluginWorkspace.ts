// The real engine with the plugins of OVH_FAILOVER_PLUGINS installed, in a network namespace whose
// hosts file sends OVH's API host to the HTTPS stand-in on port 443: what the test:providers tier
// and `npm run bench:up` run on. The stand-in's certificate goes in the CA file the CLI's
// environment names (Go's TLS in the plugins, Node.js's in the program).
import * as fs from "fs";
import * as path from "path";
import { engineWorkspace, EngineWorkspace } from "./engine";
import { OvhStandIn, startOvhStandIn } from "./ovhStandIn";
import { findPlugins, FoundPlugin, installPlugins } from "./plugins";
import { OVH_EU_HOST, scratch } from "./realStack";

export const STAND_IN_KEYS = { applicationKey: "tier-application-key", applicationSecret: "tier-application-secret", consumerKey: "tier-consumer-key" };

export interface PluginWorkspace {
    plugins: FoundPlugin[];
    ws: EngineWorkspace;
    /** A fresh stand-in answering for eu.api.ovh.com, trusted by the CLI from now on. */
    startStandIn(): Promise<OvhStandIn>;
    /** The CLI and its plugins trust this certificate too, from now on (another stand-in's). */
    trust(caPem: string): void;
    close(): Promise<void>;
}

export async function pluginWorkspace(): Promise<PluginWorkspace> {
    const plugins = await findPlugins();
    const work = scratch("ovh-failover-providers-");
    const caFile = path.join(work, "ca.pem");
    const ws = await engineWorkspace({
        OVH_APPLICATION_KEY: STAND_IN_KEYS.applicationKey,
        OVH_APPLICATION_SECRET: STAND_IN_KEYS.applicationSecret,
        OVH_CONSUMER_KEY: STAND_IN_KEYS.consumerKey,
        SSL_CERT_FILE: caFile,
        NODE_EXTRA_CA_CERTS: caFile,
    }, { hosts: [OVH_EU_HOST] });
    installPlugins(ws.env.PULUMI_HOME, plugins);
    let current = "";
    const trusted: string[] = [];
    const writeCaFile = () => fs.writeFileSync(caFile, [current, ...trusted].filter((p) => p !== "").join("\n"));
    return {
        plugins,
        ws,
        async startStandIn() {
            const standIn = await startOvhStandIn({ ...STAND_IN_KEYS, listen: { host: ws.network.hostAddress, port: 443 }, dnsNames: [OVH_EU_HOST] });
            current = standIn.caPem;
            writeCaFile();
            return standIn;
        },
        trust(caPem) {
            trusted.push(caPem);
            writeCaFile();
        },
        async close() {
            await ws.close();
            fs.rmSync(work, { recursive: true, force: true });
        },
    };
}
