// The plugin package's CloudEndpoint (plugin/cloudEndpoint.ts) under Pulumi's mock runtime, held
// against the library's for the same args: the same resources under the same URNs, with the same
// inputs and options (so that nothing of the plugin's args is lost on the way), the same outputs;
// secret inputs stay secrets.
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { CloudEndpoint as LibraryCloudEndpoint, CloudEndpointArgs as LibraryArgs } from "../../components/cloudEndpoint";
import { CloudEndpoint, CloudEndpointArgs } from "../../plugin/cloudEndpoint";
import { optionsSeen, outputOf, registrations, SECRET_SIG, SeenOptions } from "../support/mockRegistrations";

const URN = "urn:pulumi:dev::cloud-project::";
const ALIAS = `${URN}ovh-failover:cloud:InstanceAlias$command:remote:Command::app-guest-alias`;
const HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMl7ZAtKZt9Ij7jq387j6PueCz+uHHISJPDZE3dAKT3u";

/** Every field of the library's args set, the private key a secret. */
const common = () => ({
    ip: "203.0.113.40",
    project: "0123456789abcdef0123456789abcdef",
    instanceId: "6c2e9e38-4ad5-4a2b-9d51-2f0e1e2b3c4d",
    ssh: { host: "198.51.100.50", port: 2222, user: "debian", hostKey: HOST_KEY, privateKey: pulumi.secret("PRIVATE KEY") },
    interfaceName: "ens3",
    flavour: "debian" as const,
    reverse: "app.example.org.",
    zones: [{ zone: "example.org", a: ["app"], cname: ["www"] }],
    cnameTarget: "edge.example.net.",
    ttl: 600,
    importIds: { "app-dns-A-app.example.org": "123" },
    instanceGone: true,
});

interface Declared { registered: Map<string, Record<string, unknown>>; options: Map<string, SeenOptions>; outputs: { ip: unknown; interfaceName: unknown } }

async function declared(make: (opts: pulumi.ComponentResourceOptions) => { ip: pulumi.Output<string>; interfaceName: pulumi.Output<string> }): Promise<Declared> {
    const { transformation, seen } = optionsSeen();
    let outputs: Promise<{ ip: unknown; interfaceName: unknown }> = Promise.resolve({ ip: undefined, interfaceName: undefined });
    // The alias's command reports the interface it put the address on (components/cloud/aliasScript.ts).
    const registered = await registrations(() => {
        const c = make({ transformations: [transformation] });
        outputs = Promise.all([outputOf(c.ip), outputOf(c.interfaceName)]).then(([ip, interfaceName]) => ({ ip, interfaceName }));
    }, "cloud-project", (a) => (a.type === "command:remote:Command" ? { stdout: "interface=ens3\n" } : {}));
    return { registered, options: seen, outputs: await outputs };
}

describe("the plugin's CloudEndpoint", () => {
    it("declares the library's resources under the same URNs, with the same inputs, options and outputs", async () => {
        const library = await declared((opts) => new LibraryCloudEndpoint("app", common() satisfies LibraryArgs, opts));
        const plugin = await declared((opts) => new CloudEndpoint("app", common() satisfies CloudEndpointArgs, opts));
        const urns = [...plugin.registered.keys()].sort();
        expect(urns).toEqual([...library.registered.keys()].sort());
        // The mock monitor qualifies a type by its parent's own type only (runtime/mocks.js newUrn).
        expect(urns).toEqual(expect.arrayContaining([
            `${URN}ovh-failover:endpoint:CloudEndpoint::app`,
            `${URN}ovh-failover:endpoint:CloudEndpoint$ovh-failover:network:FailoverIp::app-ip`,
            `${URN}ovh-failover:endpoint:CloudEndpoint$ovh-failover:cloud:InstanceAlias::app-guest`,
            ALIAS,
            `${URN}ovh-failover:endpoint:CloudEndpoint$ovh-failover:dns:ServiceRecords::app-dns`,
        ]));
        for (const urn of urns) expect(plugin.registered.get(urn), urn).toEqual(library.registered.get(urn));
        expect([...plugin.options.keys()].sort()).toEqual([...library.options.keys()].sort());
        for (const [key, o] of plugin.options) expect(o, key).toEqual(library.options.get(key));
        expect(plugin.outputs).toEqual(library.outputs);
        expect(plugin.outputs).toEqual({ ip: "203.0.113.40", interfaceName: "ens3" });
        expect(plugin.options.get("ovh:Domain/zoneRecord:ZoneRecord::app-dns-A-app.example.org")?.import).toBe("123");
        expect(plugin.registered.get(`${URN}ovh-failover:dns:ServiceRecords$ovh:Domain/zoneRecord:ZoneRecord::app-dns-CNAME-www.example.org`)).toMatchObject({ target: "edge.example.net." });
        // instanceGone: the alias is forgotten on delete, not undone over SSH.
        expect(plugin.options.get("command:remote:Command::app-guest-alias")?.retainOnDelete).toBe(true);
    });

    it("passes secret inputs through as secrets: the project and instance to the attach, the SSH key to the alias", async () => {
        const plugin = await declared((opts) => new CloudEndpoint("app", {
            ...common(), project: pulumi.secret(common().project), instanceId: pulumi.secret(common().instanceId),
        }, opts));
        const attach = plugin.registered.get(`${URN}ovh-failover:network:FailoverIp$ovh:CloudProject/failoverIpAttach:FailoverIpAttach::app-ip-routing`)!;
        for (const [field, value] of [["serviceName", common().project], ["routedTo", common().instanceId]]) {
            expect(Object.values(attach[field] as object), field).toContain(SECRET_SIG);
            expect((attach[field] as { value: string }).value, field).toBe(value);
        }
        // The command SDK makes the whole connection a secret; the key reached it.
        const connection = plugin.registered.get(ALIAS)!.connection as Record<string, unknown>;
        expect(Object.values(connection)).toContain(SECRET_SIG);
        expect(connection.value).toMatchObject({ host: "198.51.100.50", port: 2222, user: "debian", hostKey: HOST_KEY, privateKey: "PRIVATE KEY" });
    });
});
