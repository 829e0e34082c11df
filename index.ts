// The program: the stack's configuration, checked whole before anything is declared, becomes one
// PublicEndpoint per service IP.
import * as pulumi from "@pulumi/pulumi";
import { ConfigError, EndpointSpec, parseStackConfig, PublicEndpoint, RawConfig, StackSpec } from "./components";

const CONFIG_KEYS = ["ovhEndpoint", "dnsTtl", "protectIps", "servers", "endpoints"];

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

function loadStack(config: pulumi.Config): StackSpec {
    try {
        return parseStackConfig(readRawConfig(config));
    } catch (err) {
        // The message names every bad key; a stack trace would only hide it.
        if (err instanceof ConfigError) throw new pulumi.RunError(err.message);
        throw err;
    }
}

function declareEndpoint(spec: StackSpec, e: EndpointSpec, sshPrivateKey: pulumi.Output<string> | undefined): PublicEndpoint {
    const server = spec.servers.get(e.server)!;
    const proxmox = server.proxmox!;
    return new PublicEndpoint(e.name, {
        ip: e.ip,
        server: {
            serviceName: server.serviceName,
            mainIp: server.mainIp,
            gatewayFromApi: server.gatewayFromApi,
            gateway: server.gateway,
            gatewayCandidates: server.gatewayCandidates,
        },
        reverse: e.reverse,
        virtualMac: e.virtualMac,
        container: {
            proxmox: { host: proxmox.host, port: proxmox.port, user: proxmox.user, privateKey: sshPrivateKey },
            vmid: e.container.vmid,
            nic: e.container.nic,
            interfaceName: e.container.interfaceName,
            bridge: e.container.bridge,
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
        protect: spec.protectIps,
    });
}

const config = new pulumi.Config();
const stack = loadStack(config);
const sshPrivateKey = config.getSecret("proxmoxSshPrivateKey");

const declared = stack.endpoints.map((e) => declareEndpoint(stack, e, sshPrivateKey));

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
        },
    ]),
);
