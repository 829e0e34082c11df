// The plugin package's IpBlock (plugin/ipBlock.ts) under Pulumi's mock runtime, held against the
// library's for the same args: the same resources under the same URNs, with the same inputs and
// options (so that nothing of the plugin's args is lost on the way), the same outputs; a bad
// routeTo is refused before anything is declared.
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { IpBlock as LibraryIpBlock, IpBlockArgs as LibraryArgs } from "../../components/network/ipBlock";
import { OvhApiProvider } from "../../components/network/ovhApiProvider";
import { IpBlock, IpBlockArgs, IpBlockRouting } from "../../plugin/ipBlock";
import { optionsSeen, outputOf, registrations, SECRET_SIG, SeenOptions } from "../support/mockRegistrations";

const URN = "urn:pulumi:dev::edge-project::";
const SETTINGS = { endpoint: "ovh-ca", applicationKey: "ak", applicationSecret: "as", consumerKey: "ck" };

interface Declared { registered: Map<string, Record<string, unknown>>; options: Map<string, SeenOptions>; outputs: { block: unknown; gateway: unknown } }

/** What `make` declares, the options its resources were given, and the component's outputs. */
async function declared(make: (opts: pulumi.ComponentResourceOptions) => { block: pulumi.Output<string>; gateway?: pulumi.Output<string> }): Promise<Declared> {
    const { transformation, seen } = optionsSeen();
    let outputs: Promise<{ block: unknown; gateway: unknown }> = Promise.resolve({ block: undefined, gateway: undefined });
    const registered = await registrations(() => {
        const c = make({ transformations: [transformation] });
        outputs = Promise.all([outputOf(c.block), c.gateway && outputOf(c.gateway)]).then(([block, gateway]) => ({ block, gateway }));
    });
    return { registered, options: seen, outputs: await outputs };
}

function expectSame(plugin: Declared, library: Declared): void {
    const urns = [...plugin.registered.keys()].sort();
    expect(urns).toEqual([...library.registered.keys()].sort());
    for (const urn of urns) expect(plugin.registered.get(urn), urn).toEqual(library.registered.get(urn));
    expect([...plugin.options.keys()].sort()).toEqual([...library.options.keys()].sort());
    for (const [key, o] of plugin.options) expect(o, key).toEqual(library.options.get(key));
    expect(plugin.outputs).toEqual(library.outputs);
}

describe("the plugin's IpBlock", () => {
    it("routes a block to a dedicated server as the library does: the same resources, inputs, options and outputs", async () => {
        const check = { subject: "ipBlocks.web", needsVirtualMacs: true, macLimit: 32 };
        const library = await declared((opts) => new LibraryIpBlock("web-block", {
            block: "203.0.113.8/29", routeTo: { dedicatedServer: "ns1.ip-198-51-100.eu" }, protect: false, check,
        } satisfies LibraryArgs, opts));
        const plugin = await declared((opts) => new IpBlock("web-block", {
            block: "203.0.113.8/29", routeTo: { dedicatedServer: "ns1.ip-198-51-100.eu" }, protect: false, check,
        } satisfies IpBlockArgs, opts));
        expect([...plugin.registered.keys()].sort()).toEqual([
            `${URN}ovh-failover:network:IpBlock$ovh:Ip/move:Move::web-block-routing`,
            `${URN}ovh-failover:network:IpBlock$pulumi-nodejs:dynamic/ovh-failover:MoveCheck::web-block-move-check`,
            // The library's own provider, from the stack's ovh: config, under the component.
            `${URN}ovh-failover:network:IpBlock$pulumi:providers:pulumi-nodejs::web-block-ovh-api`,
            `${URN}ovh-failover:network:IpBlock::web-block`,
        ]);
        expectSame(plugin, library);
        expect(plugin.registered.get(`${URN}ovh-failover:network:IpBlock$pulumi-nodejs:dynamic/ovh-failover:MoveCheck::web-block-move-check`))
            .toMatchObject({ block: "203.0.113.8/29", destinationType: "dedicatedServer", destination: "ns1.ip-198-51-100.eu", needsVirtualMacs: true, macLimit: 32, subject: "ipBlocks.web" });
        expect(plugin.options.get("ovh:Ip/move:Move::web-block-routing")).toEqual({ protect: false, retainOnDelete: true, import: undefined });
        expect(plugin.outputs).toEqual({ block: "203.0.113.8/29", gateway: undefined });
    });

    it("routes a block into a vRack as the library does, its checks under a provider made of ovhApi's settings (the credentials secret)", async () => {
        const check = { dropVirtualMacs: true };
        const library = await declared((opts) => new LibraryIpBlock("rack-block", {
            block: "198.51.100.16/28", routeTo: { vrack: "pn-12345", region: "eu-west-gra" }, importId: "pn-12345,198.51.100.16/28",
            check: { ...check, ovhApi: new OvhApiProvider("rack-block-ovh-api", SETTINGS) },
        } satisfies LibraryArgs, opts));
        const plugin = await declared((opts) => new IpBlock("rack-block", {
            block: "198.51.100.16/28", routeTo: { vrack: "pn-12345", region: "eu-west-gra" }, importId: "pn-12345,198.51.100.16/28",
            check: { ...check, ovhApi: SETTINGS },
        } satisfies IpBlockArgs, opts));
        // The provider of ovhApi's settings stands beside the component, as a TypeScript program's own does.
        expect([...plugin.registered.keys()].sort()).toEqual([
            `${URN}ovh-failover:network:IpBlock$ovh:Vrack/ipAddress:IpAddress::rack-block-routing`,
            `${URN}ovh-failover:network:IpBlock$pulumi-nodejs:dynamic/ovh-failover:MoveCheck::rack-block-move-check`,
            `${URN}ovh-failover:network:IpBlock::rack-block`,
            `${URN}pulumi:providers:pulumi-nodejs::rack-block-ovh-api`,
        ]);
        expectSame(plugin, library);
        const provider = plugin.registered.get(`${URN}pulumi:providers:pulumi-nodejs::rack-block-ovh-api`)!;
        expect(provider["ovh:endpoint"]).toBe("ovh-ca");
        expect(Object.values(provider["ovh:applicationSecret"] as object)).toContain(SECRET_SIG);
        expect((provider["ovh:applicationSecret"] as { value: string }).value).toBe("as");
        expect(plugin.registered.get(`${URN}ovh-failover:network:IpBlock$ovh:Vrack/ipAddress:IpAddress::rack-block-routing`))
            .toMatchObject({ serviceName: "pn-12345", block: "198.51.100.16/28", region: "eu-west-gra" });
        expect(plugin.options.get("ovh:Vrack/ipAddress:IpAddress::rack-block-routing")).toEqual({ protect: true, retainOnDelete: true, import: "pn-12345,198.51.100.16/28" });
        // A vRack block's gateway is its penultimate address.
        expect(plugin.outputs).toEqual({ block: "198.51.100.16/28", gateway: "198.51.100.30" });
    });

    it.each<[string, IpBlockRouting, RegExp]>([
        ["both targets", { dedicatedServer: "ns1.ip-198-51-100.eu", vrack: "pn-12345" }, /args\.routeTo: "dedicatedServer and vrack" is not valid: expected exactly one of dedicatedServer .* and vrack/],
        ["no target", { region: "eu-west-gra" }, /args\.routeTo: \(missing\) is not valid: expected exactly one of dedicatedServer .* and vrack/],
        ["a region with a server", { dedicatedServer: "ns1.ip-198-51-100.eu", region: "eu-west-gra" }, /args\.routeTo\.region: "eu-west-gra" is not valid: expected no region with dedicatedServer/],
    ])("refuses a routeTo with %s, naming it, before anything is declared", async (_what, routeTo, message) => {
        const error = await registrations(() => new IpBlock("bad", { block: "203.0.113.8/29", routeTo })).then(() => undefined, (err: unknown) => err);
        expect(error).toBeInstanceOf(pulumi.ResourceError);
        expect(String((error as Error).message)).toMatch(message);
        // Not even the component was registered.
        const registered = await registrations(() => {
            try {
                new IpBlock("bad", { block: "203.0.113.8/29", routeTo });
            } catch {
                // counted below
            }
        });
        expect([...registered.keys()]).toEqual([]);
    });
});
