// The addressing layouts as the program declares them (docs/layouts.md): a /29 split over three
// containers with one routing for the whole block, and a vRack block's endpoint with no virtual
// MAC, the block's length and its penultimate address as gateway.
import * as fs from "fs";
import * as path from "path";
import { beforeAll, describe, expect, it } from "vitest";
import { evaluate } from "../../../bin/plan";
import { DeclaredResource, Evaluation } from "../../../bin/plan/model";
import { loadProject, parseStackFile } from "../../../bin/plan/stackFiles";

const root = path.resolve(__dirname, "../../..");
const project = loadProject(root);
const stackFile = path.join(__dirname, "layouts.stack.yaml");

describe("a /29 over three containers and a vRack block", () => {
    let e: Evaluation;
    const byName = (name: string): DeclaredResource => {
        const r = e.resources.find((x) => x.name === name);
        if (!r) throw new Error(`no resource ${name} in ${e.resources.map((x) => x.name).join(", ")}`);
        return r;
    };
    const ofType = (type: string) => e.resources.filter((r) => r.type === type);
    beforeAll(async () => {
        e = await evaluate(root, project, "layouts", parseStackFile(project, fs.readFileSync(stackFile, "utf8"), stackFile));
        expect(e.error).toBeUndefined();
    }, 120_000);

    it("routes each block once, protected and retained, and no endpoint of a block routes its IP alone", () => {
        expect(ofType("ovh:Ip/move:Move").map((r) => r.inputs)).toEqual([{ ip: "192.0.2.8/29", routedTo: { serviceName: "ns3012345.ip-198-51-100.eu" } }]);
        const vrack = ofType("ovh:Vrack/ipAddress:IpAddress");
        expect(vrack.map((r) => r.inputs)).toEqual([{ serviceName: "pn-123456", block: "192.0.2.16/29" }]);
        for (const r of [...ofType("ovh:Ip/move:Move"), ...vrack]) expect([r.protect, r.retainOnDelete]).toEqual([true, true]);
    });

    it("gives each IP of the server's block a virtual MAC of its own, after the block's routing", () => {
        const move = byName("web-block-routing");
        const vmacs = ofType("pulumi-nodejs:dynamic/ovh-failover:VirtualMac");
        expect(vmacs.map((r) => r.inputs.ipAddress).sort()).toEqual(["192.0.2.10", "192.0.2.11", "192.0.2.9"]);
        for (const v of vmacs) expect(v.dependencies).toContain(move.urn);
    });

    it("sets each NIC of the block with ip/32 and the server's gateway; the vRack NIC with /29, .22 and a MAC of the IP", () => {
        const net = (name: string) => String(byName(`${name}-nic-pct-set`).inputs.create);
        expect(net("web2")).toContain("ip=192.0.2.10/32");
        expect(net("web2")).toContain("gw=198.51.100.254");
        expect(net("lb")).toContain("name=eth1,bridge=vmbr1,gw=192.0.2.22,");
        expect(net("lb")).toContain(",hwaddr=0e:c0:00:02:12:01,ip=192.0.2.18/29,");
        expect(e.resources.some((r) => r.name === "lb-vmac")).toBe(false);
    });

    it("gives the vRack NIC its ip6 in the vRack's bridged /64, with the IPv6 block's first address as gateway", () => {
        const net = String(byName("lb-nic-pct-set").inputs.create);
        expect(net).toContain("gw6=2001:db8:abcd:ef00::1,");
        expect(net).toContain("ip6=2001:db8:abcd:ef00::10/64");
        const aaaa = e.resources.filter((r) => r.type === "ovh:Domain/zoneRecord:ZoneRecord" && r.inputs.fieldtype === "AAAA");
        expect(aaaa.map((r) => [r.inputs.subdomain, r.inputs.target])).toEqual([["lb", "2001:db8:abcd:ef00::10"]]);
    });
});

describe("a Public Cloud endpoint", () => {
    let e: Evaluation;
    beforeAll(async () => {
        e = await evaluate(root, project, "layouts", parseStackFile(project, fs.readFileSync(stackFile, "utf8"), stackFile));
        expect(e.error).toBeUndefined();
    }, 120_000);
    const byName = (name: string): DeclaredResource => {
        const r = e.resources.find((x) => x.name === name);
        if (!r) throw new Error(`no resource ${name} in ${e.resources.map((x) => x.name).join(", ")}`);
        return r;
    };

    it("attaches the IP to the instance, retained and replaced on an IP change (so not protected); then the alias over SSH; then DNS", () => {
        const attach = byName("pci-ip-routing");
        expect(attach.type).toBe("ovh:CloudProject/failoverIpAttach:FailoverIpAttach");
        expect(attach.inputs).toEqual({ serviceName: "0123456789abcdef0123456789abcdef", ip: "192.0.2.60", routedTo: "5f0e4f9c-3b1d-4a55-9d0e-2f4b8c6a7d21" });
        expect([attach.protect, attach.retainOnDelete, attach.replaceOnChanges]).toEqual([false, true, ["ip"]]);
        const alias = byName("pci-guest-alias");
        expect(alias.dependencies).toContain(attach.urn);
        // The connection is a secret as a whole (it may hold the private key): only its token shows.
        expect(JSON.stringify(alias.inputs.connection)).toMatch(/\[secret/);
        expect(String(alias.inputs.create)).toContain("192.0.2.60");
        expect(byName("pci-dns-A-pci.example.org").dependencies).toContain(alias.urn);
        // No virtual MAC, no NIC, no probe of a gateway.
        expect(e.resources.filter((r) => r.name.startsWith("pci-") && /VirtualMac|pct|gateway/.test(r.name + r.type))).toEqual([]);
    });
});
