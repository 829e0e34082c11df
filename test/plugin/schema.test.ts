// The plugin package's schema, as the engine gets it (GetSchema): inferred by @pulumi/pulumi's
// analyzer from plugin/'s TypeScript, without the engine. Every arg of the library's
// PublicEndpoint has its counterpart in it, and each of them reaches the library.
import * as path from "path";
import ts from "typescript";
import { ComponentProvider } from "@pulumi/pulumi/provider/experimental/provider";
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { libraryArgs, PublicEndpoint, PublicEndpointArgs } from "../../plugin/publicEndpoint";

const ROOT = path.resolve(__dirname, "../..");

interface PropertySpec { type?: string; $ref?: string; plain?: boolean; items?: PropertySpec; additionalProperties?: PropertySpec }
interface PackageSpec {
    name: string;
    resources: Record<string, { isComponent: boolean; inputProperties: Record<string, PropertySpec>; requiredInputs: string[]; properties: Record<string, PropertySpec> }>;
    types: Record<string, { type: string; properties?: Record<string, PropertySpec>; enum?: { value: string }[] }>;
}

/** The property names of an interface of a file, as TypeScript sees them. */
function interfaceProperties(file: string, name: string): string[] {
    const program = ts.createProgram([file], { strict: true, skipLibCheck: true, noEmit: true });
    const source = program.getSourceFile(file)!;
    const checker = program.getTypeChecker();
    let found: string[] | undefined;
    source.forEachChild((node) => {
        if (ts.isInterfaceDeclaration(node) && node.name.text === name) found = checker.getTypeAtLocation(node).getProperties().map((p) => p.name);
    });
    if (!found) throw new Error(`${name} not in ${file}`);
    return found.sort();
}

let schema: PackageSpec;
beforeAll(async () => {
    const provider = new ComponentProvider({ name: "ovh-failover", dirname: path.join(ROOT, "plugin"), components: [PublicEndpoint] });
    schema = JSON.parse(await provider.getSchema()) as PackageSpec;
});

describe("the plugin package's schema", () => {
    it("serves PublicEndpoint as ovh-failover:index:PublicEndpoint, a component", () => {
        expect(schema.name).toBe("ovh-failover");
        expect(Object.keys(schema.resources)).toEqual(["ovh-failover:index:PublicEndpoint"]);
        expect(schema.resources["ovh-failover:index:PublicEndpoint"].isComponent).toBe(true);
    });

    it("has every arg of the library's PublicEndpoint, the same ones required", () => {
        const endpoint = schema.resources["ovh-failover:index:PublicEndpoint"];
        const library = interfaceProperties(path.join(ROOT, "components/publicEndpoint.ts"), "PublicEndpointArgs");
        expect(Object.keys(endpoint.inputProperties).sort()).toEqual(library);
        expect(endpoint.requiredInputs.sort()).toEqual(["container", "ip", "server", "zones"]);
        expect(Object.keys(endpoint.properties).sort()).toEqual(["gateway", "gateway6", "gatewaySource", "ip", "ip6", "macAddress"]);
    });

    it("carries what the schema cannot as types of its own: objects for inline ones, an enum for a union, settings for a provider", () => {
        const ref = (p: PropertySpec) => p.$ref?.replace("#/types/", "");
        const input = schema.resources["ovh-failover:index:PublicEndpoint"].inputProperties;
        expect(ref(input.ovhApi)).toBe("ovh-failover:index:OvhApiSettings");
        expect(Object.keys(schema.types["ovh-failover:index:OvhApiSettings"].properties!).sort())
            .toEqual(["applicationKey", "applicationSecret", "clientId", "clientSecret", "consumerKey", "endpoint"]);
        expect(schema.types["ovh-failover:index:VirtualMacType"]).toMatchObject({ type: "string", enum: [{ value: "ovh" }, { value: "vmware" }] });
        expect(ref(input.container)).toBe("ovh-failover:index:Container");
        expect(ref(schema.types["ovh-failover:index:Container"].properties!.proxmox)).toBe("ovh-failover:index:SshConnection");
        expect(ref(schema.types["ovh-failover:index:DedicatedServer"].properties!.ipv6)).toBe("ovh-failover:index:ServerIpv6");
        expect(input.importIds).toMatchObject({ type: "object", additionalProperties: { type: "string" } });
        // The library checks the IP and names as it declares the children: they are plain values.
        expect(input.ip.plain).toBe(true);
        // What may come from another resource stays an input.
        expect(schema.types["ovh-failover:index:SshConnection"].properties!.privateKey.plain).toBeUndefined();
    });
});

describe("the plugin's args", () => {
    beforeAll(() => {
        pulumi.runtime.setMocks({ newResource: (a) => ({ id: `${a.name}-id`, state: a.inputs }), call: () => ({}) }, "ovh-failover", "plugin", false);
    });

    it("reach the library unchanged, and ovhApi becomes the provider the library names <name>-ovh-api", async () => {
        const parent = new pulumi.ComponentResource("test:index:Parent", "p");
        const args: PublicEndpointArgs = {
            ip: "198.51.100.7",
            server: { serviceName: "ns1.example.net", ipv6: { prefix: "2001:db8::/64" } },
            container: { proxmox: { host: "pve" }, vmid: 101, nic: 1, interfaceName: "eth1", bridge: "vmbr0" },
            zones: [{ zone: "example.org", a: ["www"], cname: [] }],
            virtualMac: { type: "vmware" },
            importIds: { "ep-dns-a-www": "123" },
            ovhApi: { endpoint: "ovh-ca", applicationKey: "k" },
        };
        const lib = libraryArgs(parent, "ep", args);
        const { ovhApi, ...rest } = lib;
        expect({ ...rest, ovhApi: args.ovhApi }).toEqual(args);
        expect(await new Promise((resolve) => ovhApi!.urn.apply(resolve))).toMatch(/::ep-ovh-api$/);
        expect(libraryArgs(parent, "ep2", { ...args, ovhApi: undefined }).ovhApi).toBeUndefined();
    });
});
