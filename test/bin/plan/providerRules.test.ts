// The providers' rules the plan and the components rely on, one table with its upstream files
// (bin/plan/providerRules.ts): every resource the stacks declare has its rule, and nothing the
// stacks declare sets an input the provider never sends.
import * as path from "path";
import { describe, expect, it } from "vitest";
import { evaluate, plan } from "../../../bin/plan";
import { changedKeys, VirtualMacOutputs } from "../../../components/network/virtualMacProvider";
import { VIRTUAL_MAC_TYPE } from "../../../bin/plan/model";
import { deleteEffectOf, PROVIDER_RULES } from "../../../bin/plan/providerRules";
import { listStacks, loadProject, loadStackConfig } from "../../../bin/plan/stackFiles";
import { resourceSteps } from "../../support/planJson";

const root = path.resolve(__dirname, "../../..");
const project = loadProject(root);

describe("the provider rules", () => {
    it.each(listStacks(root, project))("cover every custom resource of stack %s, and none of its inputs is one the provider ignores", async (stack) => {
        const e = await evaluate(root, project, stack, loadStackConfig(root, project, stack));
        expect(e.error).toBeUndefined();
        for (const r of e.resources.filter((x) => x.custom)) {
            const rule = PROVIDER_RULES[r.type];
            expect({ type: r.type, ruled: rule !== undefined }).toEqual({ type: r.type, ruled: true });
            const ignored = rule.neverSent.filter((k) => k in r.inputs);
            expect({ name: r.name, ignored }).toEqual({ name: r.name, ignored: [] });
        }
    });

    it("name their upstream source", () => {
        for (const [type, rule] of Object.entries(PROVIDER_RULES)) expect({ type, source: rule.source.length > 20 }).toEqual({ type, source: true });
    });

    it("agree with the VirtualMac provider's own diff", () => {
        const olds = { serviceName: "s", ipAddress: "192.0.2.1", type: "ovh", virtualMachineName: "v", macAddress: "02:00:00:00:00:01", liveType: "ovh" } as VirtualMacOutputs;
        for (const key of PROVIDER_RULES[VIRTUAL_MAC_TYPE].replaceOn) {
            expect(changedKeys(olds, { ...olds, [key]: "changed" })).toEqual([key]);
        }
    });

    it("say which resources the provider cannot update: the plan warns at such an update, and the library replaces the attach on ip instead", async () => {
        expect(Object.entries(PROVIDER_RULES).filter(([, r]) => r.noUpdate).map(([t]) => t).sort()).toEqual(["ovh:CloudProject/failoverIpAttach:FailoverIpAttach", "ovh:Vrack/ipAddress:IpAddress"]);
        const region = await plan(root, { stack: "layouts", sets: ["ipBlocks.rack.region=eu-west-rbx"], json: true, showSame: false }, false);
        const update = resourceSteps(region.output).find((s) => s.name === "rack-block-routing");
        expect(update?.op).toBe("update");
        expect(update?.offlinePlan?.warnings).toEqual([`the provider has no update for this resource: pulumi up fails here ("doesn't support update") on the change of region`]);
        const ip = await plan(root, { stack: "public-cloud", sets: ["endpoints.pci.ip=192.0.2.61"], json: true, showSame: false }, false);
        const attach = resourceSteps(ip.output).find((s) => s.name === "pci-ip-routing");
        expect(attach).toMatchObject({ op: "replace" });
        expect(attach?.offlinePlan?.warnings).toBeUndefined();
    });

    it("say what a delete does: a Move parks, a command runs its delete script only if it has one", () => {
        expect(deleteEffectOf("ovh:Ip/move:Move", {})).toMatch(/parks the IP/);
        expect(deleteEffectOf("command:remote:Command", { create: "x" })).toBeUndefined();
        expect(deleteEffectOf("command:remote:Command", { create: "x", delete: "y" })).toMatch(/delete script/);
        expect(deleteEffectOf("ovh-failover:network:FailoverIp", {})).toBeUndefined();
    });
});
