// Disaster recovery is re-applying the stack: it must evaluate the same every time, keep what
// was paid for protected, and say loudly when a change would remove a protected resource.
import * as path from "path";
import { describe, expect, it } from "vitest";
import { evaluate, plan } from "../../../bin/plan";
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

    it("protects every IP routing, reverse and virtual MAC it declares", async () => {
        const e = await evaluate(root, project, stack, loadStackConfig(root, project, stack));
        const paid = e.resources.filter((r) => ["ovh:Ip/move:Move", "ovh:Ip/reverse:Reverse", "pulumi-nodejs:dynamic/ovh-failover:VirtualMac"].includes(r.type));
        for (const r of paid) expect(r.protect, r.name).toBe(true);
    });
});

describe("a plan that would replace a protected resource", () => {
    it("says so in bold, with the command that unprotects it on purpose", async () => {
        const opts = { stack: "reverse-proxy", sets: ["endpoints.proxy.ip=203.0.113.77"], json: false, showSame: false };
        const plain = await plan(root, opts, false);
        expect(plain.output).toMatch(/\*\* PROTECTED: pulumi up refuses to replace this resource; unprotect it on purpose first \(pulumi state unprotect 'urn:pulumi:reverse-proxy::ovh-failover::[^']+::proxy-vmac'\) \*\*/);
        const onTerminal = await plan(root, opts, true);
        expect(onTerminal.output).toContain("\x1b[1m** PROTECTED: pulumi up refuses to replace");
    });

    it("and says nothing of the kind for an update", async () => {
        const r = await plan(root, { stack: "reverse-proxy", sets: ["endpoints.proxy.ttl=600"], json: false, showSame: false }, false);
        expect(r.output).toContain("~ ttl: 300 => 600");
        expect(r.output).not.toContain("PROTECTED");
    });
});
