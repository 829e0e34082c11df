// The bundled routed stack (stacks/Pulumi.routed.yaml) as the program declares it: the host's
// route of the IPv4 /32 and of the IPv6 /128, and the container's NIC with the /128 and the
// bridge's IPv6 address as gateway.
import * as path from "path";
import { beforeAll, describe, expect, it } from "vitest";
import { evaluate } from "../../../bin/plan";
import { DeclaredResource, Evaluation } from "../../../bin/plan/model";
import { loadProject, loadStackConfig } from "../../../bin/plan/stackFiles";
import { renderHostRouteCreate, renderHostRouteDelete, renderHostRouteUpdate } from "../../../components/proxmox/hostRouteScript";

const root = path.resolve(__dirname, "../../..");
const project = loadProject(root);

describe("the routed stack with IPv6", () => {
    let e: Evaluation;
    const byName = (name: string): DeclaredResource => {
        const r = e.resources.find((x) => x.name === name);
        if (!r) throw new Error(`no resource ${name} in ${e.resources.map((x) => x.name).join(", ")}`);
        return r;
    };
    beforeAll(async () => {
        e = await evaluate(root, project, "routed", loadStackConfig(root, project, "routed"));
        expect(e.error).toBeUndefined();
    }, 120_000);

    it("routes the IPv4 /32 and the IPv6 /128 to vmbr2 with one HostRoute, fd00::1 being the bridge's", () => {
        const route = byName("app-host-route");
        const spec = {
            destination: "192.0.2.50/32", bridge: "vmbr2", bridgeAddress: "192.168.0.1", bridgePrefixLength: 24, uplink: "vmbr0",
            owner: "ovh-failover/routed/app-host", destination6: "2001:db8:3:4662::50/128", bridgeAddress6: "fd00::1",
        };
        expect(route.inputs.create).toBe(renderHostRouteCreate(spec));
        expect(route.inputs.delete).toBe(renderHostRouteDelete(spec));
        expect(route.inputs.update).toBe(renderHostRouteUpdate(spec));
        // The IPv6 values are not triggers: adding or changing them updates in place.
        expect(route.inputs.triggers).toEqual(["198.51.100.40", "192.0.2.50/32 vmbr2 192.168.0.1/24 vmbr0"]);
    });

    it("gives the NIC the /128 with the bridge's IPv6 address as gateway, after the host's route", () => {
        const nic = byName("app-nic-pct-set");
        const create = String(nic.inputs.create);
        expect(create).toContain("gw6=fd00::1");
        expect(create).toContain("ip6=2001:db8:3:4662::50/128");
        expect(nic.dependencies).toContain(byName("app-host-route").urn);
    });

    it("probes the IPv6 gateway from the /128, and puts an AAAA beside the A", () => {
        const probe = byName("app-gateway-arp");
        expect(String(probe.inputs.create)).toMatch(/fd00::1/);
        expect(String(probe.inputs.create)).toMatch(/2001:db8:3:4662::50/);
        expect(probe.dependencies).toContain(byName("app-nic-pct-set").urn);
        expect(byName("app-dns-AAAA-app.example.org").inputs).toMatchObject({ fieldtype: "AAAA", subdomain: "app", target: "2001:db8:3:4662::50" });
    });
});
