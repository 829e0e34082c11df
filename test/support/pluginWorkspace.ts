// The real engine with the plugins of OVH_FAILOVER_PLUGINS installed, in a network namespace whose
// hosts file sends OVH's API host to the HTTPS stand-in on port 443, and the names of its zones'
// name servers to a real DNS server that serves what each refresh of the stand-in deploys
// (standInDns.ts): what the test:providers tier and `npm run bench:up` run on. The stand-in's
// certificate goes in the CA file the CLI's environment names (Go's TLS in the plugins, Node.js's
// in the program).
import * as fs from "fs";
import * as path from "path";
import { engineWorkspace, EngineWorkspace } from "./engine";
import { OvhStandIn, startOvhStandIn } from "./ovhStandIn";
import { findPlugins, FoundPlugin, installPlugins } from "./plugins";
import { OVH_EU_HOST, scratch } from "./realStack";
import { OVH_NAME_SERVERS, StandInDns, standInDns } from "./standInDns";

export const STAND_IN_KEYS = { applicationKey: "tier-application-key", applicationSecret: "tier-application-secret", consumerKey: "tier-consumer-key" };

export interface PluginWorkspace {
    plugins: FoundPlugin[];
    ws: EngineWorkspace;
    /** A fresh stand-in answering for eu.api.ovh.com, trusted by the CLI from now on, its zones served by `dns`. */
    startStandIn(): Promise<OvhStandIn>;
    /** The name servers of the current stand-in's zones. */
    dns: StandInDns;
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
    }, { hosts: [OVH_EU_HOST, ...OVH_NAME_SERVERS] });
    const dns = standInDns(ws.network.hostAddress);
    installPlugins(ws.env.PULUMI_HOME, plugins);
    let current = "";
    const trusted: string[] = [];
    const writeCaFile = () => fs.writeFileSync(caFile, [current, ...trusted].filter((p) => p !== "").join("\n"));
    return {
        plugins,
        ws,
        dns,
        async startStandIn() {
            const standIn = await startOvhStandIn({ ...STAND_IN_KEYS, listen: { host: ws.network.hostAddress, port: 443 }, dnsNames: [OVH_EU_HOST] });
            current = standIn.caPem;
            writeCaFile();
            await dns.serve(standIn);
            return standIn;
        },
        trust(caPem) {
            trusted.push(caPem);
            writeCaFile();
        },
        async close() {
            await dns.stop();
            await ws.close();
            fs.rmSync(work, { recursive: true, force: true });
        },
    };
}
