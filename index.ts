// The program: the stack's configuration, checked whole before anything is declared, becomes one
// PublicEndpoint per service IP.
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import {
    AdoptFile, CarpPair, IpmoveBundle, ConfigError, ConfigIssue, EdgeConfig, EndpointSpec, CONFIG_KEYS, endpointResourceNames, importIdsFor, vrackBlockImportIdFor, ipmoveBundle, keyPath, nearestKey, OvhCredentialsForNodes, parseAdoptFile, unknownNamespaces, parseProgramConfig,
    CloudEndpoint, CloudEndpointSpec, cloudEndpointResourceNames, OvhApiProvider, prefixText, ProgramConfig, PublicEndpoint, RawConfig, SECRET_KEYS, StackSpec, IpBlock, blockText, EndpointBlock, EndpointLayout, provesRecords, ServiceRecords, ZoneNames,
} from "./components";
import { assertFreshBuild } from "./bin/freshBuild";

// Pulumi runs dist/index.js (Pulumi.yaml main): yesterday's build must not pass for today's code.
assertFreshBuild(__filename, path.basename(__dirname) === "dist" ? path.dirname(__dirname) : __dirname);

// CONFIG_KEYS and SECRET_KEYS come from the key catalog (components/config/keys.ts); the secret ones
// must be `secure:` values in the stack file, which Pulumi.yaml cannot require of optional keys.

// The SDK's own record of which config keys the CLI decrypted (PULUMI_CONFIG_SECRET_KEYS);
// pulumi/pulumi sdk/nodejs/runtime/config.ts, isConfigSecret.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { isConfigSecret } = require("@pulumi/pulumi/runtime/config") as { isConfigSecret(fullKey: string): boolean };

/** Keys of the project's namespace the program does not know: a typo would silently fall back to a default. */
function unknownKeys(config: pulumi.Config): ConfigIssue[] {
    const known = [...CONFIG_KEYS, ...SECRET_KEYS];
    return Object.keys(pulumi.runtime.allConfig())
        .filter((k) => k.startsWith(`${config.name}:`))
        .map((k) => k.slice(config.name.length + 1))
        .filter((k) => !known.includes(k))
        .map((key) => {
            const near = nearestKey(key, known);
            return { key, value: "[not shown]", expected: `no such key${near ? ` (did you mean ${near}?)` : ""}; the keys are: ${known.join(", ")}` };
        });
}

function plainSecrets(config: pulumi.Config): ConfigIssue[] {
    return SECRET_KEYS.filter((key) => config.get(key) !== undefined && !isConfigSecret(`${config.name}:${key}`)).map((key) => ({
        key,
        value: "[not shown]",
        expected: `a secure value (pulumi config set --secret${key.endsWith("Key") ? "" : " --path"}), not plain text in the stack file`,
    }));
}

function readRawConfig(config: pulumi.Config): RawConfig {
    const raw: RawConfig = {};
    for (const key of CONFIG_KEYS) {
        const text = config.get(key);
        if (text === undefined) continue;
        try {
            raw[key] = JSON.parse(text);
        } catch {
            raw[key] = text; // a plain string such as ovh-eu
        }
    }
    return raw;
}

function loadStack(config: pulumi.Config): ProgramConfig {
    try {
        // Read to be checked, never printed: the resources get them as secrets.
        return parseProgramConfig(readRawConfig(config), {
            edgePasswords: secretObject(config, "edgePasswords").plain,
            edgeOvhCredentials: secretObject(config, "edgeOvhCredentials").plain,
        }, [...unknownNamespaces(Object.keys(pulumi.runtime.allConfig()), config.name), ...unknownKeys(config), ...plainSecrets(config)]);
    } catch (err) {
        // The message names every bad key; a stack trace would only hide it.
        if (err instanceof ConfigError) throw new pulumi.RunError(err.message);
        throw err;
    }
}

/**
 * A secret structured value. Pulumi's own getSecretObject puts the value in its error when it is
 * not JSON (a `pulumi config set --secret` without `--path`): this says so without it.
 */
function secretObject<T>(config: pulumi.Config, key: string): { plain: T | undefined; secret: pulumi.Output<T> } {
    const text = config.get(key);
    let plain: T | undefined;
    if (text !== undefined) {
        try {
            plain = JSON.parse(text) as T;
        } catch {
            throw new pulumi.RunError(`${key}: [secret] is not valid: expected a map (set it with pulumi config set --secret --path '${key}.<name>' <value>)`);
        }
    }
    return { plain, secret: pulumi.secret(plain ?? ({} as T)) as unknown as pulumi.Output<T> };
}

function declareEdge(e: EdgeConfig, ipmove: IpmoveBundle, passwords: pulumi.Output<Record<string, string>>, credentials: pulumi.Output<Record<string, OvhCredentialsForNodes>>, sshPrivateKey: pulumi.Output<string> | undefined, protect: boolean): CarpPair {
    return new CarpPair(e.name, {
        protect,
        flavour: e.flavour,
        failoverIp: e.failoverIp,
        reverse: e.reverse,
        group: e.group,
        password: passwords.apply((p) => p[e.name]),
        nodes: e.nodes.map((n) => ({ ...n, ssh: { ...n.ssh, privateKey: sshPrivateKey } })),
        health: e.health,
        // Checked with the rest of the config (parseEdges), before any resource.
        ovhCredentials: credentials.apply((c) => c[e.name]),
        ipmovePath: e.ipmovePath,
        reassertSeconds: e.reassertSeconds,
        preempt: e.preempt,
        ipmove,
    });
}

/**
 * stacks/<stack>.adopt.yaml of the project, written by `ovh-failover adopt`, if there is one. The
 * program runs in the folder of its main, dist/, not the project's (pulumi/pulumi
 * pkg/engine/project.go, getPwdMain): the project's folder is the root directory the CLI gives it.
 */
function loadAdoptFile(): AdoptFile | undefined {
    const root = pulumi.runtime.getRootDirectory();
    if (!fs.existsSync(path.join(root, "Pulumi.yaml")) && !fs.existsSync(path.join(root, "Pulumi.yml"))) {
        throw new pulumi.RunError(`the project's folder is not known (the root directory is ${JSON.stringify(root)}, with no Pulumi.yaml): the adopt file cannot be found`);
    }
    const file = path.join(root, "stacks", `${pulumi.getStack()}.adopt.yaml`);
    if (!fs.existsSync(file)) return undefined;
    try {
        return parseAdoptFile(fs.readFileSync(file, "utf8"), file);
    } catch (err) {
        throw new pulumi.RunError((err as Error).message);
    }
}

function declareCloudEndpoint(spec: StackSpec, e: CloudEndpointSpec, sshPrivateKey: pulumi.Output<string> | undefined, adopt: AdoptFile | undefined, ovhApi: OvhApiProvider | undefined): CloudEndpoint {
    return new CloudEndpoint(e.name, {
        ip: e.ip,
        project: e.project,
        instanceId: e.instance,
        ssh: { host: e.ssh.host, port: e.ssh.port, user: e.ssh.user, hostKey: e.ssh.hostKey, privateKey: sshPrivateKey },
        interfaceName: e.interfaceName,
        flavour: e.flavour,
        reverse: e.reverse,
        zones: e.records,
        cnameTarget: e.cnameTarget,
        ttl: e.ttl,
        servesWithinSeconds: spec.dnsServesWithin,
        lowerTtl: e.lowerTtl,
        importIds: importIdsFor(e, cloudEndpointResourceNames(e.name), adopt),
        ovhApi,
    });
}

/** One IpBlock per block of ipBlocks: the routing its endpoints share, and the checks it waits for. */
function declareBlocks(spec: StackSpec, adopt: AdoptFile | undefined, ovhApi: OvhApiProvider | undefined): Map<string, IpBlock> {
    return new Map(spec.ipBlocks.map((b) => [b.name, new IpBlock(`${b.name}-block`, {
        block: blockText(b.block),
        routeTo: b.vrack !== undefined
            ? { vrack: spec.vracks.get(b.vrack)!.serviceName, region: b.region }
            : { dedicatedServer: spec.servers.get(b.server!)!.serviceName },
        protect: spec.protectIps,
        importId: b.vrack === undefined ? undefined : vrackBlockImportIdFor(b.name, blockText(b.block), adopt),
        check: {
            subject: keyPath("ipBlocks", b.name),
            needsVirtualMacs: spec.endpoints.some((e) => e.block === b.name && e.mode === "bridged"),
            dropVirtualMacs: b.dropVirtualMacs,
            macLimit: b.server === undefined ? undefined : spec.servers.get(b.server)!.virtualMacLimit,
            ovhApi,
        },
    })]));
}

function layoutOf(spec: StackSpec, e: EndpointSpec): EndpointLayout {
    if (e.mode === "routed") return { mode: "routed", hostRoute: spec.servers.get(e.server)!.routed! };
    if (e.mode === "vrack") {
        const rack = spec.vracks.get(spec.ipBlocks.find((b) => b.name === e.block)!.vrack!)!;
        return { mode: "vrack", ipv6Block: rack.ipv6 && prefixText(rack.ipv6) };
    }
    return { mode: e.mode };
}

function declareEndpoint(spec: StackSpec, e: EndpointSpec, sshPrivateKey: pulumi.Output<string> | undefined, adopt: AdoptFile | undefined, ovhApi: OvhApiProvider | undefined, blocks: Map<string, IpBlock>): PublicEndpoint {
    const server = spec.servers.get(e.server)!;
    const proxmox = server.proxmox!;
    const block = e.block === undefined ? undefined : blocks.get(e.block)!;
    const inBlock: EndpointBlock | undefined = block && { cidr: blockText(block.parsed), routing: block.routing, inVrack: e.mode === "vrack" };
    return new PublicEndpoint(e.name, {
        ip: e.ip,
        layout: layoutOf(spec, e),
        block: inBlock,
        ip6: e.ip6,
        server: {
            serviceName: server.serviceName,
            mainIp: server.mainIp,
            gatewayFromApi: server.gatewayFromApi,
            gateway: server.gateway,
            gatewayCandidates: server.gatewayCandidates,
            virtualMacLimit: server.virtualMacLimit,
            ipv6: server.ipv6 && { prefix: prefixText(server.ipv6.prefix), gateway: server.ipv6.gateway },
        },
        reverse: e.reverse,
        virtualMac: e.mode === "bridged" ? e.virtualMac : undefined,
        container: {
            proxmox: { host: proxmox.host, port: proxmox.port, user: proxmox.user, privateKey: sshPrivateKey, hostKey: proxmox.hostKey },
            vmid: e.container.vmid,
            nic: e.container.nic,
            interfaceName: e.container.interfaceName,
            bridge: e.container.bridge,
            hostUnreachable: server.unreachable,
            owned: e.container.owned && {
                ...e.container.owned,
                node: proxmox.node!,
                privateNics: e.container.owned.privateNics.map((p) => ({
                    index: p.index,
                    interfaceName: p.interfaceName,
                    bridge: p.bridge,
                    cidr: `${p.address}/${p.prefixLength}`,
                    gateway: p.gateway,
                })),
            },
        },
        zones: e.records,
        cnameTarget: e.cnameTarget,
        ttl: e.ttl,
        servesWithinSeconds: spec.dnsServesWithin,
        lowerTtl: e.lowerTtl,
        protect: spec.protectIps,
        importIds: importIdsFor(e, endpointResourceNames(e.name), adopt),
        ovhApi,
    });
}

const config = new pulumi.Config();
const { stack, edges } = loadStack(config);
const sshPrivateKey = config.getSecret("proxmoxSshPrivateKey");

for (const [name, server] of stack.servers) {
    if (server.proxmox && !server.proxmox.hostKey && stack.endpoints.some((e) => e.server === name)) {
        void pulumi.log.warn(`${keyPath("servers", name, "proxmox", "hostKey")} is not set: the SSH connection to ${server.proxmox.host} accepts any host key; set it from ssh-keyscan -t ed25519 ${server.proxmox.host}`);
    }
}
const adopt = loadAdoptFile();
// The OVH endpoint and credentials from the stack's ovh: config, for the virtual MACs, the checks
// before a block or a lone IP moves and the proof that DNS serves the records (the OVH provider
// reads the same keys itself).
const provesDns = (e: { records: ZoneNames[] }) => provesRecords({ zones: e.records, servesWithinSeconds: stack.dnsServesWithin });
const ovhApi = stack.ipBlocks.length > 0 || stack.endpoints.some((e) => e.mode === "bridged" || e.block === undefined || provesDns(e)) || stack.cloudEndpoints.some(provesDns)
    ? new OvhApiProvider("ovh-api")
    : undefined;
const blocks = declareBlocks(stack, adopt, ovhApi);
const declared = stack.endpoints.map((e) => declareEndpoint(stack, e, sshPrivateKey, adopt, ovhApi, blocks));
const cloudSshPrivateKey = config.getSecret("cloudSshPrivateKey");
const declaredCloud = stack.cloudEndpoints.map((e) => declareCloudEndpoint(stack, e, cloudSshPrivateKey, adopt, ovhApi));
// ovh-ipmove for the edge nodes (dist/ovh-ipmove.cjs).
const bundle = edges.length === 0 ? undefined : ipmoveBundle();
const declaredEdges = edges.length === 0 || !bundle ? [] : edges.map((e) => declareEdge(
    e,
    bundle,
    secretObject<Record<string, string>>(config, "edgePasswords").secret,
    secretObject<Record<string, OvhCredentialsForNodes>>(config, "edgeOvhCredentials").secret,
    config.getSecret("edgeSshPrivateKey"),
    stack.protectIps,
));

/** Per edge pair and node, the OVH API rules the node's consumer key needs. */
export const edgeAccessRules = Object.fromEntries(declaredEdges.map((d, i) => [edges[i].name, d.accessRules]));

/**
 * While the records are lowered (lowerTtl): since when, and from when the IP can change without a
 * resolver keeping the old address; `ovh-failover change-ip` reads it from the stack's outputs.
 */
function ttlLoweringOf(records: ServiceRecords): { ttlLowering?: Record<string, pulumi.Output<string | number>> } {
    const l = records.lowering;
    return l ? { ttlLowering: { loweredAt: l.loweredAt, safeAt: l.safeAt, fromTtl: l.fromTtl, toTtl: l.toTtl } } : {};
}

export const endpoints = Object.fromEntries(
    declared.map((d, i) => [
        stack.endpoints[i].name,
        {
            ip: d.ip,
            macAddress: d.macAddress,
            gateway: d.gateway,
            gatewaySource: d.gatewaySource,
            addressNames: d.records.addressNames,
            aliasNames: d.records.aliasNames,
            ...(d.ip6 ? { ip6: d.ip6, gateway6: d.gateway6, gateway6Source: d.gateway6Source } : {}),
            ...ttlLoweringOf(d.records),
        },
    ]),
);

/** The Public Cloud endpoints: no gateway of their own, the interface their alias is on. */
export const cloudEndpoints = Object.fromEntries(
    declaredCloud.map((d, i) => [
        stack.cloudEndpoints[i].name,
        { ip: d.ip, interfaceName: d.interfaceName, addressNames: d.records.addressNames, aliasNames: d.records.aliasNames, ...ttlLoweringOf(d.records) },
    ]),
);

