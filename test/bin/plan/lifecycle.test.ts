// What `pulumi up` would do to what the stack owns, in the engine's terms: the URNs it would use,
// the order of each replacement, what is retained, and what would stop it. The engine's rules are
// pulumi/pulumi pkg/resource/deploy/step_generator.go and step.go; the providers' are
// bin/plan/providerRules.ts.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";
import { afterAll, describe, expect, it } from "vitest";
import { evaluate, plan } from "../../../bin/plan";
import { diffEvaluations } from "../../../bin/plan/diff";
import { engineUrn, Step } from "../../../bin/plan/model";
import { renderJson, renderText, rootStack } from "../../../bin/plan/render";
import { resourceSteps } from "../../support/planJson";
import { loadProject, loadStackConfig, parseStackFile } from "../../../bin/plan/stackFiles";

const root = path.resolve(__dirname, "../../..");
const project = loadProject(root);
const work = fs.mkdtempSync(path.join(os.tmpdir(), "ovh-failover-lifecycle-"));
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

type StackDoc = { config: Record<string, unknown> };
const stackDoc = (): StackDoc => YAML.parse(fs.readFileSync(path.join(root, "stacks", "Pulumi.reverse-proxy.yaml"), "utf8")) as StackDoc;
const endpointsOf = (doc: StackDoc) => doc.config["ovh-failover:endpoints"] as Record<string, Record<string, unknown>>;

function writeStack(doc: StackDoc): string {
    const file = path.join(work, `stack-${Math.random().toString(36).slice(2)}.yaml`);
    fs.writeFileSync(file, YAML.stringify(doc));
    return file;
}

/** The reverse-proxy stack with a reverse on proxy1.example.org, one of its A records. */
function withReverse(): StackDoc {
    const doc = stackDoc();
    endpointsOf(doc).proxy.reverse = "proxy1.example.org.";
    return doc;
}

const byName = (steps: Step[], name: string) => steps.find((s) => s.name === name)!;

describe("engine URNs", () => {
    it("chain every parent type, and never the root stack's (urn.go New, deployment.go generateURN)", () => {
        const endpoint = engineUrn("s", "p", undefined, "ovh-failover:endpoint:PublicEndpoint", "proxy");
        const ip = engineUrn("s", "p", endpoint, "ovh-failover:network:FailoverIp", "proxy-ip");
        const reverse = engineUrn("s", "p", ip, "ovh:Ip/reverse:Reverse", "proxy-ip-reverse");
        expect(reverse).toBe("urn:pulumi:s::p::ovh-failover:endpoint:PublicEndpoint$ovh-failover:network:FailoverIp$ovh:Ip/reverse:Reverse::proxy-ip-reverse");
        expect(engineUrn("s", "p", "urn:pulumi:s::p::pulumi:pulumi:Stack::p-s", "T", "n")).toBe("urn:pulumi:s::p::T::n");
    });

    it("are what the plan prints and compares, for every nested resource", async () => {
        const e = await evaluate(root, project, "reverse-proxy", parseStackFile(project, YAML.stringify(withReverse()), "x"));
        expect(e.error).toBeUndefined();
        const reverse = e.resources.find((r) => r.name === "proxy-ip-reverse")!;
        expect(reverse.urn).toBe("urn:pulumi:reverse-proxy::ovh-failover::ovh-failover:endpoint:PublicEndpoint$ovh-failover:network:FailoverIp$ovh:Ip/reverse:Reverse::proxy-ip-reverse");
        for (const r of e.resources) {
            const parent = e.resources.find((p) => p.urn === r.parent);
            expect(r.urn).toBe(engineUrn("reverse-proxy", "ovh-failover", parent?.urn, r.type, r.name));
            for (const d of r.dependencies) expect(e.resources.map((x) => x.urn)).toContain(d);
        }
    });
});

describe("an IP change is one pulumi up", () => {
    it("has no protected step, with or without a reverse", async () => {
        for (const doc of [stackDoc(), withReverse()]) {
            const r = await plan(root, { stack: "reverse-proxy", sets: ["endpoints.proxy.ip=203.0.113.77"], json: true, showSame: false, stackFile: writeStack(doc) }, false);
            expect(r.exitCode).toBe(0);
            const steps = resourceSteps(r.output);
            expect(steps.filter((s) => s.offlinePlan?.blockedBy).map((s) => s.name)).toEqual([]);
            expect(r.output).not.toContain("PROTECTED");
        }
    });

    it("sets the reverse after the A records, delete-before-replace, waiting at least the TTL", async () => {
        const r = await plan(root, { stack: "reverse-proxy", sets: ["endpoints.proxy.ip=203.0.113.77"], json: false, showSame: false, stackFile: writeStack(withReverse()) }, false);
        const steps = r.steps;
        const reverse = byName(steps, "proxy-ip-reverse");
        expect(reverse.op).toBe("replace");
        expect(reverse.replacementOrder).toBe("delete-before-replace");
        for (const a of ["proxy-dns-A-proxy1.example.org", "proxy-dns-A-apex.example.net"]) {
            expect(reverse.new!.dependencies).toContain(byName(steps, a).urn);
        }
        // Only the A records make the name resolve; the CNAMEs are not waited for.
        expect(reverse.new!.dependencies.filter((d) => d.includes("-CNAME-"))).toEqual([]);
        expect(reverse.new!.inputs.readinessTimeoutDuration).toBe("360s");
        // No ignoreChanges: the engine would create the replacement with the old value.
        expect(reverse.new!.ignoreChanges).toEqual([]);
        // The tree's row says replace; the plan's own section, after it, in which order.
        expect(r.output).toMatch(/^ \+- .*ovh:Ip:Reverse +proxy-ip-reverse +replace +\[diff: ~ReverseIp,ip\]$/m);
        expect(r.output).toMatch(/^ {2}ovh:Ip:Reverse \(proxy-ip-reverse\):\n {4}\[delete-before-replace\] the old one is deleted first/m);
        const diff = await plan(root, { stack: "reverse-proxy", sets: ["endpoints.proxy.ip=203.0.113.77"], json: false, diff: true, showSame: false, stackFile: writeStack(withReverse()) }, false);
        expect(diff.output).toMatch(/^ +\+-ovh:Ip\/reverse:Reverse: \(replace\)$/m);
    });

    it("changing only the reverse name deletes the old reverse first, so the new one stays", async () => {
        const doc = withReverse();
        endpointsOf(doc).proxy.records = { "example.org": { a: ["proxy1", "www"] }, "example.net": { a: ["@"] } };
        const r = await plan(root, { stack: "reverse-proxy", sets: ["endpoints.proxy.reverse=www.example.org."], json: false, showSame: false, stackFile: writeStack(doc) }, false);
        const reverse = byName(r.steps, "proxy-ip-reverse");
        expect(reverse.op).toBe("replace");
        expect(reverse.replacementOrder).toBe("delete-before-replace");
        expect(r.steps.filter((s) => s.op !== "same").map((s) => s.name)).toEqual(["proxy-ip-reverse"]);
    });

    it("lists a replacement's steps in the engine's order with --show-replacement-steps, in text and JSON", async () => {
        const opts = { stack: "reverse-proxy", sets: ["endpoints.proxy.ip=203.0.113.77"], showSame: false, showReplacementSteps: true, stackFile: writeStack(withReverse()) };
        const json = await plan(root, { ...opts, json: true }, false);
        const ops = resourceSteps(json.output).map((s) => `${s.op} ${s.name}`);
        // delete-before-replace: delete-replaced, replace, create-replacement, in place.
        const at = ops.indexOf("delete-replaced proxy-ip-reverse");
        expect(ops.slice(at, at + 3)).toEqual(["delete-replaced proxy-ip-reverse", "replace proxy-ip-reverse", "create-replacement proxy-ip-reverse"]);
        // create-before-delete: create-replacement and replace in place, delete-replaced after every create and update.
        const vmac = ops.indexOf("create-replacement proxy-vmac");
        expect(ops[vmac + 1]).toBe("replace proxy-vmac");
        const lastUpdate = Math.max(...ops.map((o, i) => (o.startsWith("update ") ? i : -1)));
        expect(ops.indexOf("delete-replaced proxy-vmac")).toBeGreaterThan(lastUpdate);
        // With --diff, each step is a block, in that order, as pulumi preview --diff --show-replacement-steps prints them.
        const diff = await plan(root, { ...opts, json: false, diff: true }, false);
        expect(diff.output).toMatch(/--ovh:Ip\/reverse:Reverse: \(delete-replaced\)[\s\S]*\+-ovh:Ip\/reverse:Reverse: \(replace\)[\s\S]*\+\+ovh:Ip\/reverse:Reverse: \(create-replacement\)/);
        // The tree has one row per resource, as the CLI's; the steps are listed after it.
        const text = await plan(root, { ...opts, json: false }, false);
        expect(text.output).toMatch(/replacement steps, in the engine's order:\n(?: {4}.*\n)*? {4}--ovh:Ip:Reverse \(proxy-ip-reverse\) delete-replaced\n {4}\+-ovh:Ip:Reverse \(proxy-ip-reverse\) replace\n {4}\+\+ovh:Ip:Reverse \(proxy-ip-reverse\) create-replacement\n/);
    });
});

describe("a Public Cloud endpoint's IP change is one pulumi up", () => {
    const opts = { stack: "public-cloud", sets: ["endpoints.pci.ip=192.0.2.61"], showSame: false };

    it("attaches the new IP first and forgets the old attach (retained, nothing detaches it), moves the alias delete-first, then the record and its proof", async () => {
        const r = await plan(root, { ...opts, json: false }, false);
        expect(r.exitCode).toBe(0);
        expect(r.output).not.toContain("PROTECTED");
        const changedSteps = r.steps.filter((s) => s.op !== "same");
        expect(changedSteps.map((s) => `${s.op} ${s.name}`).sort()).toEqual(["replace pci-guest-alias", "replace pci-ip-routing", "update pci-dns-A-pci.example.org", "update pci-dns-serves.example.org"]);
        const attach = byName(r.steps, "pci-ip-routing");
        expect(attach).toMatchObject({ replacementOrder: "create-before-delete", retained: true });
        expect(attach.blockedBy).toBeUndefined();
        expect(attach.deleteEffect).toBeUndefined();
        expect(attach.new!.inputs).toMatchObject({ ip: "192.0.2.61" });
        const alias = byName(r.steps, "pci-guest-alias");
        expect(alias.replacementOrder).toBe("delete-before-replace");
        // The old alias's delete script takes back the old /32; the new one's create adds the new one.
        expect(String(alias.old!.inputs.delete)).toContain("192.0.2.60");
        expect(String(alias.new!.inputs.create)).toContain("192.0.2.61");
        expect(String(alias.new!.inputs.create)).not.toContain("192.0.2.60");
        expect(alias.new!.dependencies).toContain(attach.urn);
        expect(byName(r.steps, "pci-dns-A-pci.example.org").new!.inputs.target).toBe("192.0.2.61");
        expect(byName(r.steps, "pci-dns-serves.example.org").new!.inputs.expected).toEqual([{ name: "pci.example.org.", type: "A", values: ["192.0.2.61"] }]);
    });

    it("in the engine's order: the new attach, the old alias removed, the new alias, DNS and its proof; the old attach forgotten last", async () => {
        const json = await plan(root, { ...opts, json: true, showReplacementSteps: true }, false);
        const ops = resourceSteps(json.output).filter((s) => s.op !== "same").map((s) => `${s.op} ${s.name}`);
        expect(ops).toEqual([
            "create-replacement pci-ip-routing",
            "replace pci-ip-routing",
            "delete-replaced pci-guest-alias",
            "replace pci-guest-alias",
            "create-replacement pci-guest-alias",
            "update pci-dns-A-pci.example.org",
            "update pci-dns-serves.example.org",
            "delete-replaced pci-ip-routing",
        ]);
        const forgotten = resourceSteps(json.output).find((s) => s.op === "delete-replaced" && s.name === "pci-ip-routing")!;
        expect(forgotten).toMatchObject({ offlinePlan: { retained: true }, oldState: { retainOnDelete: true } });
        expect(forgotten.offlinePlan?.deleteEffect).toBeUndefined();
    });
});

describe("a server that is gone", () => {
    it("is forgotten on delete once marked unreachable, so a move to another server needs no SSH to it", async () => {
        const marked = stackDoc();
        (marked.config["ovh-failover:servers"] as Record<string, Record<string, unknown>>).ovh1.unreachable = true;
        const [before, after] = await Promise.all([
            evaluate(root, project, "reverse-proxy", parseStackFile(project, YAML.stringify(marked), "marked")),
            evaluate(root, project, "reverse-proxy", parseStackFile(project, YAML.stringify(marked).replace("server: ovh1", "server: ovh2"), "moved")),
        ]);
        expect([before.error, after.error]).toEqual([undefined, undefined]);
        const steps = diffEvaluations(before, after);
        for (const name of ["proxy-nic-pct-set", "proxy-gateway-arp"]) {
            expect(byName(steps, name)).toMatchObject({ op: "replace", retained: true });
            expect(byName(steps, name).deleteEffect).toBeUndefined();
        }
        // The virtual MAC is the OVH API's: it is really removed from the old server.
        expect(byName(steps, "proxy-vmac")).toMatchObject({ op: "replace", replacementOrder: "delete-before-replace", retained: false });
    });

    it("lists, delete-first, the replaced resources that depend on the virtual MAC before it (calculateDependentReplacements)", async () => {
        const r = await plan(root, { stack: "reverse-proxy", sets: ["endpoints.proxy.server=ovh2"], json: true, showSame: false, showReplacementSteps: true }, false);
        const ops = resourceSteps(r.output).map((s) => `${s.op} ${s.name}`);
        const vmacDelete = ops.indexOf("delete-replaced proxy-vmac");
        expect(ops.indexOf("delete-replaced proxy-gateway-arp")).toBeLessThan(vmacDelete);
        expect(ops.indexOf("delete-replaced proxy-nic-pct-set")).toBeLessThan(vmacDelete);
        expect(ops.filter((o) => o.startsWith("delete-replaced")).length).toBe(3);
    });
});

describe("removing an endpoint never unroutes its IP", () => {
    async function removal(protectIps: boolean): Promise<Step[]> {
        const two = stackDoc();
        two.config["ovh-failover:protectIps"] = protectIps;
        endpointsOf(two).web = { ...endpointsOf(two).proxy, ip: "192.0.2.11", ip6: "::11", container: { vmid: 102, nic: 1 }, records: { "example.org": { a: ["web"] } } };
        const one = stackDoc();
        one.config["ovh-failover:protectIps"] = protectIps;
        endpointsOf(one).web = endpointsOf(two).web;
        delete endpointsOf(one).proxy;
        const [before, after] = await Promise.all([
            evaluate(root, project, "reverse-proxy", parseStackFile(project, YAML.stringify(two), "two")),
            evaluate(root, project, "reverse-proxy", parseStackFile(project, YAML.stringify(one), "one")),
        ]);
        expect([before.error, after.error]).toEqual([undefined, undefined]);
        return diffEvaluations(before, after);
    }

    it("with protectIps (the default): pulumi up stops at the routing, and would retain it anyway", async () => {
        const steps = await removal(true);
        const routing = byName(steps, "proxy-ip-routing");
        expect(routing).toMatchObject({ op: "delete", blockedBy: "protect", retained: true });
        expect(routing.deleteEffect).toBeUndefined();
        const text = renderText("t", steps, { import: 0, create: 0, update: 0, replace: 0, delete: 0, same: 0 }, [], rootStack("reverse-proxy", "ovh-failover", true), { color: false }, false);
        expect(text).toMatch(/^ - +[│ ]*[├└]─ ovh:Ip:Move +proxy-ip-routing +delete\[retain\]$/m);
        expect(text).toContain("pulumi state unprotect 'urn:pulumi:reverse-proxy::ovh-failover::ovh-failover:endpoint:PublicEndpoint$ovh-failover:network:FailoverIp$ovh:Ip/move:Move::proxy-ip-routing'");
    });

    it("with protectIps false: no delete that reaches OVH touches the routing; the IP stays where it is", async () => {
        const steps = await removal(false);
        const deletes = steps.filter((s) => s.op === "delete");
        expect(deletes.map((s) => s.name)).toContain("proxy-ip-routing");
        expect(deletes.filter((s) => s.blockedBy)).toEqual([]);
        const reachingOvh = deletes.filter((s) => s.deleteEffect !== undefined);
        expect(reachingOvh.map((s) => s.type)).not.toContain("ovh:Ip/move:Move");
        expect(reachingOvh.some((s) => /park/.test(s.deleteEffect!))).toBe(false);
        expect(byName(steps, "proxy-ip-routing")).toMatchObject({ retained: true });
        // web, which stays, is untouched.
        expect(steps.filter((s) => s.name.startsWith("web") && s.op !== "same")).toEqual([]);
        const json = resourceSteps(renderJson(steps, { import: 0, create: 0, update: 0, replace: 0, delete: deletes.length, same: 0 }, [], rootStack("reverse-proxy", "ovh-failover", true)));
        expect(json.find((s) => s.name === "proxy-ip-routing")).toMatchObject({ op: "delete", offlinePlan: { retained: true }, oldState: { retainOnDelete: true } });
        expect(json.find((s) => s.name === "proxy-ip-routing")?.newState).toBeUndefined();
    });
});

describe("the as-written stacks", () => {
    it("declare the routing's delete, were it to run, as what it is: a park", async () => {
        const e = await evaluate(root, project, "reverse-proxy", loadStackConfig(root, project, "reverse-proxy"));
        const gone = diffEvaluations(e, { resources: [], invokes: [] });
        const routing = byName(gone, "proxy-ip-routing");
        expect(routing.retained).toBe(true);
        const withoutRetain = diffEvaluations({ ...e, resources: e.resources.map((r) => ({ ...r, retainOnDelete: false })) }, { resources: [], invokes: [] });
        expect(byName(withoutRetain, "proxy-ip-routing").deleteEffect).toMatch(/parks the IP/);
    });
});
