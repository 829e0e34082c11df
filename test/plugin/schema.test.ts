// The plugin package's schema, as the engine gets it (GetSchema): inferred by @pulumi/pulumi's
// analyzer from plugin/'s TypeScript, without the engine. Every arg of the library's
// PublicEndpoint, CarpPair, IpBlock and CloudEndpoint has its counterpart in it, and each of them
// reaches the library (test/plugin/carpPair.test.ts, ipBlock.test.ts, cloudEndpoint.test.ts).
import * as path from "path";
import ts from "typescript";
import { ComponentProvider } from "@pulumi/pulumi/provider/experimental/provider";
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { ALIAS_FLAVOURS } from "../../components/shared/validate";
import { CarpPair } from "../../plugin/carpPair";
import { CloudEndpoint } from "../../plugin/cloudEndpoint";
import { IpBlock } from "../../plugin/ipBlock";
import { libraryArgs, PublicEndpoint, PublicEndpointArgs } from "../../plugin/publicEndpoint";

const ROOT = path.resolve(__dirname, "../..");

interface PropertySpec { type?: string; $ref?: string; plain?: boolean; secret?: boolean; items?: PropertySpec; additionalProperties?: PropertySpec }
interface PackageSpec {
    name: string;
    resources: Record<string, { isComponent: boolean; inputProperties: Record<string, PropertySpec>; requiredInputs: string[]; properties: Record<string, PropertySpec> }>;
    types: Record<string, { type: string; properties?: Record<string, PropertySpec>; required?: string[]; enum?: { value: string }[] }>;
}

/**
 * The properties of an interface of a file as TypeScript sees them (inherited ones too), or of the
 * type of one of its members (an inline, Omit or intersection type) or of one arm of a member's
 * union (by its `kind`): each name, and whether it is optional.
 */
const programs = new Map<string, ts.Program>();
function typeProperties(file: string, name: string, member?: string, kind?: string): { all: string[]; required: string[] } {
    if (!programs.has(file)) programs.set(file, ts.createProgram([file], { strict: true, skipLibCheck: true, noEmit: true }));
    const program = programs.get(file)!;
    const source = program.getSourceFile(file)!;
    const checker = program.getTypeChecker();
    let type: ts.Type | undefined;
    source.forEachChild((node) => {
        if (ts.isInterfaceDeclaration(node) && node.name.text === name) type = checker.getTypeAtLocation(node);
    });
    if (!type) throw new Error(`${name} not in ${file}`);
    if (member) {
        const symbol = type.getProperty(member)!;
        type = checker.getNonNullableType(checker.getTypeOfSymbol(symbol));
    }
    if (kind) {
        type = (type as ts.UnionType).types.find((t) => {
            const k = t.getProperty("kind");
            return k && (checker.getTypeOfSymbol(k) as ts.StringLiteralType).value === kind;
        })!;
    }
    const props = type.getProperties();
    return {
        all: props.map((p) => p.name).sort(),
        required: props.filter((p) => !(p.flags & ts.SymbolFlags.Optional)).map((p) => p.name).sort(),
    };
}

/** The properties of each arm of the union type of an interface's member, merged: each name, and those every arm requires. */
function unionProperties(file: string, name: string, member: string): { all: string[]; required: string[] } {
    typeProperties(file, name);
    const program = programs.get(file)!;
    const checker = program.getTypeChecker();
    let arms: readonly ts.Type[] = [];
    program.getSourceFile(file)!.forEachChild((node) => {
        if (ts.isInterfaceDeclaration(node) && node.name.text === name) {
            const type = checker.getNonNullableType(checker.getTypeOfSymbol(checker.getTypeAtLocation(node).getProperty(member)!));
            arms = (type as ts.UnionType).types;
        }
    });
    const each = arms.map((t) => t.getProperties().map((p) => ({ name: p.name, optional: (p.flags & ts.SymbolFlags.Optional) !== 0 })));
    return {
        all: [...new Set(each.flat().map((p) => p.name))].sort(),
        required: [...new Set(each.flat().map((p) => p.name))].filter((n) => each.every((arm) => arm.some((p) => p.name === n && !p.optional))).sort(),
    };
}

/** The property names of an interface of a file, as TypeScript sees them. */
const interfaceProperties = (file: string, name: string): string[] => typeProperties(file, name).all;

let schema: PackageSpec;
/** A property's type by its name in the package (AccessRule for #/types/ovh-failover:index:AccessRule). */
const ref = (p: PropertySpec) => p.$ref?.replace("#/types/ovh-failover:index:", "");
const type = (name: string) => schema.types[`ovh-failover:index:${name}`];
/** The field names of a type of the package. */
const names = (name: string) => Object.keys(type(name).properties!).sort();
beforeAll(async () => {
    const provider = new ComponentProvider({ name: "ovh-failover", dirname: path.join(ROOT, "plugin"), components: [PublicEndpoint, CarpPair, IpBlock, CloudEndpoint] });
    schema = JSON.parse(await provider.getSchema()) as PackageSpec;
});

describe("the plugin package's schema", () => {
    it("serves PublicEndpoint, CarpPair, IpBlock and CloudEndpoint as ovh-failover:index:*, components", () => {
        expect(schema.name).toBe("ovh-failover");
        const tokens = ["CarpPair", "CloudEndpoint", "IpBlock", "PublicEndpoint"].map((c) => `ovh-failover:index:${c}`);
        expect(Object.keys(schema.resources).sort()).toEqual(tokens);
        for (const token of tokens) expect(schema.resources[token].isComponent, token).toBe(true);
    });

    it("has every arg of the library's PublicEndpoint, the same ones required", () => {
        const endpoint = schema.resources["ovh-failover:index:PublicEndpoint"];
        const library = interfaceProperties(path.join(ROOT, "components/publicEndpoint.ts"), "PublicEndpointArgs");
        expect(Object.keys(endpoint.inputProperties).sort()).toEqual(library);
        expect(endpoint.requiredInputs.sort()).toEqual(["container", "ip", "server"]);
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
        // The same fields required as in the library, whose defaults are the stack keys'.
        const container = typeProperties(path.join(ROOT, "components/publicEndpoint.ts"), "PublicEndpointArgs", "container");
        expect(schema.types["ovh-failover:index:Container"].required!.sort()).toEqual(container.required);
        const zone = typeProperties(path.join(ROOT, "components/dns/records.ts"), "ZoneNamesArgs");
        expect(Object.keys(schema.types["ovh-failover:index:ZoneNames"].properties!).sort()).toEqual(zone.all);
        expect(schema.types["ovh-failover:index:ZoneNames"].required!.sort()).toEqual(zone.required);
        expect(ref(schema.types["ovh-failover:index:DedicatedServer"].properties!.ipv6)).toBe("ovh-failover:index:ServerIpv6");
        expect(input.importIds).toMatchObject({ type: "object", additionalProperties: { type: "string" } });
        // The library checks the IP and names as it declares the children: they are plain values.
        expect(input.ip.plain).toBe(true);
        // What may come from another resource stays an input.
        expect(schema.types["ovh-failover:index:SshConnection"].properties!.privateKey.plain).toBeUndefined();
    });
});

describe("the plugin package's CarpPair", () => {
    const LIBRARY = path.join(ROOT, "components/edge/carpPair.ts");
    const SPEC = path.join(ROOT, "components/edge/carpSpec.ts");
    const pair = () => schema.resources["ovh-failover:index:CarpPair"];

    it("has every arg of the library's CarpPairArgs, the same ones required", () => {
        const library = typeProperties(LIBRARY, "CarpPairArgs");
        expect(Object.keys(pair().inputProperties).sort()).toEqual(library.all);
        expect(pair().requiredInputs.sort()).toEqual(library.required);
        expect(pair().requiredInputs.sort()).toEqual(["failoverIp", "group", "health", "nodes", "ovhCredentials", "password"]);
    });

    it("has every field of the library's nested args, the same ones required, under names of its own where redesigned", () => {
        const input = pair().inputProperties;
        // A node: the library's EdgeNode, field for field.
        expect(ref(input.nodes.items!)).toBe("EdgeNode");
        const node = typeProperties(LIBRARY, "EdgeNode");
        expect(names("EdgeNode")).toEqual(node.all);
        expect(type("EdgeNode").required!.sort()).toEqual(node.required);
        expect(ref(type("EdgeNode").properties!.ssh)).toBe("SshConnection");
        // The group: Omit<CarpGroupSpec, "password" | "carpUnit" | "advbase"> & { advbase?, carpUnit? }
        // is the interface CarpGroup, field for field.
        expect(ref(input.group)).toBe("CarpGroup");
        const group = typeProperties(LIBRARY, "CarpPairArgs", "group");
        expect(names("CarpGroup")).toEqual(group.all);
        expect(type("CarpGroup").required!.sort()).toEqual(group.required);
        expect(ref(input.health)).toBe("HealthCheck");
        const health = typeProperties(LIBRARY, "CarpPairArgs", "health");
        expect(names("HealthCheck")).toEqual(health.all);
        expect(type("HealthCheck").required!.sort()).toEqual(health.required);
        expect(ref(input.ovhCredentials)).toBe("OvhCredentialsForNodes");
        expect(names("OvhCredentialsForNodes")).toEqual(typeProperties(LIBRARY, "OvhCredentialsArgs").all);
    });

    it("carries the unions as the schema can: move as one of cloud and dedicatedServer, the flavour as an enum", () => {
        // move: { kind: "cloud", project, instance } | { kind: "dedicated", serviceName }
        expect(ref(type("EdgeNode").properties!.move)).toBe("MoveTarget");
        expect(names("MoveTarget")).toEqual(["cloud", "dedicatedServer"]);
        expect(type("MoveTarget").required ?? []).toEqual([]);
        const lessKind = (p: { all: string[] }) => p.all.filter((n) => n !== "kind");
        expect(ref(type("MoveTarget").properties!.cloud)).toBe("CloudMoveTarget");
        expect(names("CloudMoveTarget")).toEqual(lessKind(typeProperties(SPEC, "CarpNodeSpec", "move", "cloud")));
        expect(ref(type("MoveTarget").properties!.dedicatedServer)).toBe("DedicatedMoveTarget");
        expect(names("DedicatedMoveTarget")).toEqual(lessKind(typeProperties(SPEC, "CarpNodeSpec", "move", "dedicated")));
        // flavour: "openbsd" | "keepalived"
        expect(ref(pair().inputProperties.flavour)).toBe("EdgeFlavour");
        expect(type("EdgeFlavour")).toMatchObject({ type: "string", enum: [{ value: "openbsd" }, { value: "keepalived" }] });
    });

    it("takes ipmove as a source (install, file), the package's own bundle by default", () => {
        // The library's IpmoveBundle { file, sha256 }: the plugin computes sha256 from the file.
        expect(typeProperties(path.join(ROOT, "components/edge/ipmoveBundle.ts"), "IpmoveBundle").all).toEqual(["file", "sha256"]);
        expect(ref(pair().inputProperties.ipmove)).toBe("IpmoveSource");
        expect(names("IpmoveSource")).toEqual(["file", "install"]);
        expect(type("IpmoveSource").required ?? []).toEqual([]);
    });

    it("takes the password and the credentials as inputs, so that a secret passes through", () => {
        const input = pair().inputProperties;
        // The analyzer has no way to mark a property secret (provider/experimental/analyzer.js
        // writes no `secret`); the pair makes them secret itself (test/plugin/carpPair.test.ts).
        expect(input.password).toMatchObject({ type: "string" });
        expect(input.password.plain).toBeUndefined();
        expect(input.ovhCredentials.plain).toBeUndefined();
        for (const field of names("OvhCredentialsForNodes")) expect(type("OvhCredentialsForNodes").properties![field].plain, field).toBeUndefined();
        for (const [name, p] of Object.entries(input)) expect(p.secret, name).toBeUndefined();
        // What the library checks as it declares the children is plain.
        expect(input.failoverIp.plain).toBe(true);
        expect(input.nodes.plain).toBe(true);
    });

    it("gives accessRules as a map of node to a list of { method, path }", () => {
        expect(Object.keys(pair().properties)).toEqual(["accessRules"]);
        const rules = pair().properties.accessRules;
        expect(rules).toMatchObject({ type: "object", additionalProperties: { type: "array", items: { $ref: "#/types/ovh-failover:index:AccessRule" } } });
        expect(names("AccessRule")).toEqual(["method", "path"]);
    });
});

/** A component of the package has the library's args, the same ones required (these), and these outputs. */
function expectArgsAndOutputs(component: string, library: { all: string[]; required: string[] }, required: string[], outputs: string[]): void {
    const resource = schema.resources[`ovh-failover:index:${component}`];
    expect(Object.keys(resource.inputProperties).sort()).toEqual(library.all);
    expect(resource.requiredInputs.sort()).toEqual(library.required);
    expect(resource.requiredInputs.sort()).toEqual(required);
    expect(Object.keys(resource.properties).sort()).toEqual(outputs);
}

describe("the plugin package's IpBlock", () => {
    const LIBRARY = path.join(ROOT, "components/network/ipBlock.ts");
    const block = () => schema.resources["ovh-failover:index:IpBlock"];

    it("has every arg of the library's IpBlockArgs, the same ones required, and its outputs", () => {
        // The outputs the library registers; its routing and its check are resources of their own.
        expectArgsAndOutputs("IpBlock", typeProperties(LIBRARY, "IpBlockArgs"), ["block", "routeTo"], ["block", "gateway"]);
    });

    it("carries routeTo as one object of the union's fields, and check as MoveCheckOptions with the provider's settings", () => {
        const input = block().inputProperties;
        // routeTo: { dedicatedServer } | { vrack, region? }: every field of both, none required
        // (exactly one of dedicatedServer and vrack: test/plugin/ipBlock.test.ts).
        expect(ref(input.routeTo)).toBe("IpBlockRouting");
        expect(names("IpBlockRouting")).toEqual(unionProperties(LIBRARY, "IpBlockArgs", "routeTo").all);
        expect(type("IpBlockRouting").required ?? []).toEqual([]);
        // check: an inline type whose ovhApi is a provider instance.
        expect(ref(input.check)).toBe("MoveCheckOptions");
        const check = typeProperties(LIBRARY, "IpBlockArgs", "check");
        expect(names("MoveCheckOptions")).toEqual(check.all);
        expect(type("MoveCheckOptions").required ?? []).toEqual(check.required);
        expect(ref(type("MoveCheckOptions").properties!.ovhApi)).toBe("OvhApiSettings");
    });

    it("takes the destination and the provider's settings as inputs, so that an output or a secret passes through", () => {
        for (const field of names("IpBlockRouting")) expect(type("IpBlockRouting").properties![field].plain, field).toBeUndefined();
        for (const field of names("OvhApiSettings")) expect(type("OvhApiSettings").properties![field].plain, field).toBeUndefined();
        // The library checks the block as it declares the children: a plain value.
        expect(block().inputProperties.block.plain).toBe(true);
    });
});

describe("the plugin package's CloudEndpoint", () => {
    const LIBRARY = path.join(ROOT, "components/cloudEndpoint.ts");
    const endpoint = () => schema.resources["ovh-failover:index:CloudEndpoint"];

    it("has every arg of the library's CloudEndpointArgs, the same ones required, and its outputs", () => {
        expectArgsAndOutputs("CloudEndpoint", typeProperties(LIBRARY, "CloudEndpointArgs"), ["instanceId", "ip", "project", "ssh"], ["interfaceName", "ip"]);
    });

    it("carries ssh as InstanceSsh (the host key required), the flavour as an enum, the zones as ZoneNames", () => {
        const input = endpoint().inputProperties;
        // ssh: SshConnection & { hostKey: Input<string> }
        expect(ref(input.ssh)).toBe("InstanceSsh");
        const ssh = typeProperties(LIBRARY, "CloudEndpointArgs", "ssh");
        expect(names("InstanceSsh")).toEqual(ssh.all);
        expect(type("InstanceSsh").required!.sort()).toEqual(ssh.required);
        expect(type("InstanceSsh").required!.sort()).toEqual(["host", "hostKey"]);
        // flavour: AliasFlavour, a union of the library's ALIAS_FLAVOURS.
        expect(ref(input.flavour)).toBe("AliasFlavour");
        expect(type("AliasFlavour").type).toBe("string");
        expect(type("AliasFlavour").enum!.map((e) => e.value)).toEqual([...ALIAS_FLAVOURS]);
        expect(ref(input.zones.items!)).toBe("ZoneNames");
        expect(input.importIds).toMatchObject({ type: "object", additionalProperties: { type: "string" } });
    });

    it("takes the project, the instance and the SSH connection's fields as inputs, so that an output or a secret passes through", () => {
        const input = endpoint().inputProperties;
        expect(input.project.plain).toBeUndefined();
        expect(input.instanceId.plain).toBeUndefined();
        for (const field of names("InstanceSsh")) expect(type("InstanceSsh").properties![field].plain, field).toBeUndefined();
        // The library checks the IP as it declares the children: a plain value.
        expect(input.ip.plain).toBe(true);
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
