// An OVH stand-in for tests that run a dynamic provider in this process: the provider reads its
// endpoint and credentials from the OVH provider's environment variables (as the OVH provider
// does), and node's HTTPS agent trusts the stand-in's certificate. Both are put back afterwards.
import * as https from "node:https";
import { afterAll, beforeAll } from "vitest";
import { startOvhStandIn, type OvhStandIn } from "./ovhStandIn";

const ENV_KEYS = ["OVH_ENDPOINT", "OVH_APPLICATION_KEY", "OVH_APPLICATION_SECRET", "OVH_CONSUMER_KEY", "OVH_CLIENT_ID", "OVH_CLIENT_SECRET"] as const;

/** Starts the stand-in before the file's tests and stops it after; `standIn()` is the running one. */
export function useOvhStandInEnv(): { standIn: () => OvhStandIn } {
    let standIn: OvhStandIn | undefined;
    const savedEnv: Partial<Record<(typeof ENV_KEYS)[number], string>> = {};
    let savedCa: typeof https.globalAgent.options.ca;
    beforeAll(async () => {
        standIn = await startOvhStandIn();
        for (const key of ENV_KEYS) savedEnv[key] = process.env[key];
        // The stand-in takes the application key's signed requests: no OAuth2 client of the caller's environment.
        delete process.env.OVH_CLIENT_ID;
        delete process.env.OVH_CLIENT_SECRET;
        process.env.OVH_ENDPOINT = standIn.url;
        process.env.OVH_APPLICATION_KEY = standIn.applicationKey;
        process.env.OVH_APPLICATION_SECRET = standIn.applicationSecret;
        process.env.OVH_CONSUMER_KEY = standIn.consumerKey;
        savedCa = https.globalAgent.options.ca;
        https.globalAgent.options.ca = standIn.caPem;
    });
    afterAll(async () => {
        for (const key of ENV_KEYS) {
            if (savedEnv[key] === undefined) delete process.env[key];
            else process.env[key] = savedEnv[key];
        }
        https.globalAgent.options.ca = savedCa;
        await standIn?.close();
    });
    return {
        standIn: () => {
            if (!standIn) throw new Error("the OVH stand-in runs only inside the file's tests");
            return standIn;
        },
    };
}
