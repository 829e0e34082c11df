// The name servers of the OVH stand-in's zones, for tiers that run a real `pulumi up`: one Knot
// server (test/support/knot.ts) that serves every zone the stand-in has refreshed, as OVH's
// refresh deploys a zone to its own servers, answering for all the names the stand-in gives its
// zones' name servers (OVH_NAME_SERVERS, which the tier's hosts file points at its address).
import * as dns from "dns";
import { OvhStandIn, ZoneRecord, zoneNameServers } from "./ovhStandIn";
import { KnotServer, startKnot } from "./knot";

/** The name servers the stand-in gives its first eight zones. */
export const OVH_NAME_SERVERS = Array.from({ length: 8 }, (_, i) => zoneNameServers(i + 1)).flat();

export interface StandInDns {
    /** From now on, each refresh of this stand-in's zones is served (the zones of an earlier stand-in are forgotten). */
    serve(standIn: OvhStandIn): Promise<void>;
    /** What the server answers for a name and type now, as node's resolver gives it (none: no such record); throws before the first refresh. */
    ask(name: string, type: "A" | "AAAA" | "CNAME"): Promise<string[]>;
    stop(): Promise<void>;
}

/** A Knot server on `address` (port 53, this namespace), started at the first refresh. */
export function standInDns(address: string): StandInDns {
    let server: KnotServer | undefined;
    let zones = new Map<string, ZoneRecord[]>();
    const stop = async () => {
        if (!server) return;
        await server.stop();
        server = undefined;
    };
    // knotd reads its zones from its configuration at start: a zone it does not serve yet
    // restarts it with every zone. Refreshes of two zones may come at once (the OVH provider
    // writes records in parallel): one at a time, so that one knotd listens, not two.
    const deploy = async (zone: string, records: ZoneRecord[]) => {
        const known = zones.has(zone);
        zones.set(zone, records);
        if (server && known) return server.publish(zone, records);
        await stop();
        server = await startKnot({ address }, { zones: Object.fromEntries(zones), nameServers: [OVH_NAME_SERVERS[0]] });
    };
    let queue: Promise<void> = Promise.resolve();
    const publish = (zone: string, records: ZoneRecord[]): Promise<void> => {
        const next = queue.then(() => deploy(zone, records));
        queue = next.catch(() => undefined);
        return next;
    };
    return {
        async serve(standIn) {
            await queue;
            await stop();
            zones = new Map();
            standIn.onZoneRefresh(publish);
        },
        async ask(name, type) {
            if (!server) throw new Error(`standInDns: asked for ${name} ${type}, but no zone has been refreshed yet: no server runs`);
            const resolver = new dns.promises.Resolver({ timeout: 2000, tries: 2 });
            resolver.setServers([address]);
            try {
                return (await resolver.resolve(name, type)).map(String);
            } catch (err) {
                const code = (err as { code?: string }).code;
                if (code === dns.NODATA || code === dns.NOTFOUND) return [];
                throw err;
            }
        },
        async stop() {
            await queue;
            await stop();
        },
    };
}
