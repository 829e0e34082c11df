// Disaster recovery is re-applying the stack: it must evaluate the same every time, and never
// give back what was paid for.
import * as path from "path";
import { describe, expect, it } from "vitest";
import { evaluate } from "../../../bin/plan";
import { diffEvaluations } from "../../../bin/plan/diff";
import { listStacks, loadProject, loadStackConfig } from "../../../bin/plan/stackFiles";

const root = path.resolve(__dirname, "../../..");
const project = loadProject(root);
const stacks = listStacks(root, project);

describe.each(stacks)("stack %s", (stack) => {
    it("evaluates twice to no changes: no random names, no timestamps", async () => {
        const config = loadStackConfig(root, project, stack);
        const [a, b] = await Promise.all([evaluate(root, project, stack, config), evaluate(root, project, stack, config)]);
        expect(a.error).toBeUndefined();
        const changed = diffEvaluations(a, b).filter((s) => s.op !== "same");
        expect(changed.map((s) => `${s.op} ${s.name} ${s.diffs.join(",")}`)).toEqual([]);
    });

    it("retains every routing on delete, and protects none of what an IP change replaces", async () => {
        const e = await evaluate(root, project, stack, loadStackConfig(root, project, stack));
        for (const r of e.resources.filter((x) => x.type === "ovh:Ip/move:Move" || x.type === "ovh:CloudProject/failoverIpAttach:FailoverIpAttach")) {
            expect({ name: r.name, retainOnDelete: r.retainOnDelete }).toEqual({ name: r.name, retainOnDelete: true });
        }
        // A Public Cloud attach too: an IP change replaces it (its ip is not updatable).
        for (const r of e.resources.filter((x) => x.type === "ovh:Ip/reverse:Reverse" || x.type === "pulumi-nodejs:dynamic/ovh-failover:VirtualMac" || x.type === "ovh:CloudProject/failoverIpAttach:FailoverIpAttach")) {
            expect({ name: r.name, protect: r.protect }).toEqual({ name: r.name, protect: false });
        }
    });
});
