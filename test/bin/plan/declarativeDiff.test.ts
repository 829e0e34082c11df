// The promise of the project: changing the IP of the example stack is one edit, and the diff
// touches exactly the checks before the move, the IP's routing, its virtual MAC, the container NIC and the A records, plus
// the gateway probe, which runs again to prove the new NIC's gateway before DNS moves, and the
// proof that each zone's name servers serve the new records. A CNAME
// that came to depend on the IP, or anything else that moved, makes this test fail.
import { execFile } from "child_process";
import * as path from "path";
import { promisify } from "util";
import { beforeAll, describe, expect, it } from "vitest";
import { plan } from "../../../bin/plan";
import { Step } from "../../../bin/plan/model";
import { IP_CHANGE_STEPS } from "../../support/ipChange";
import { PlanJson, resourceSteps } from "../../support/planJson";

const root = path.resolve(__dirname, "../../..");
const NEW_IP = "203.0.113.77";
const SET = `endpoints.proxy.ip=${NEW_IP}`;

const EXPECTED = IP_CHANGE_STEPS;

describe("an IP change is one declarative diff", () => {
    let steps: Step[];
    beforeAll(async () => {
        const result = await plan(root, { stack: "reverse-proxy", sets: [SET], json: false, showSame: false }, false);
        expect(result.exitCode).toBe(0);
        steps = result.steps;
    });

    it("changes exactly the move check, the routing, the vMAC, the NIC, the probe, the A records and their proof", () => {
        const changed = Object.fromEntries(steps.filter((s) => s.op !== "same").map((s) => [s.name, s.op]));
        expect(changed).toEqual(EXPECTED);
    });

    it("leaves every CNAME as it is", () => {
        const cnames = steps.filter((s) => s.type === "ovh:Domain/zoneRecord:ZoneRecord" && s.new?.inputs.fieldtype === "CNAME");
        expect(cnames.length).toBe(6);
        for (const c of cnames) expect(c.op, c.name).toBe("same");
    });

    it("says what changes, old -> new", () => {
        const byName = Object.fromEntries(steps.map((s) => [s.name, s]));
        expect(byName["proxy-ip-routing"].detailedDiff).toEqual({ ip: { kind: "update" } });
        expect(byName["proxy-vmac"].detailedDiff).toEqual({ ipAddress: { kind: "update-replace" } });
        expect(byName["proxy-dns-A-proxy1.example.org"].detailedDiff).toEqual({ target: { kind: "update" } });
        expect(byName["proxy-dns-A-proxy1.example.org"].new?.inputs.target).toBe(NEW_IP);
        expect(String(byName["proxy-nic-pct-set"].new?.inputs.create)).toContain(`ip=${NEW_IP}/32`);
        expect(String(byName["proxy-nic-pct-set"].new?.inputs.create)).toContain(`hwaddr=[vmac-of-${NEW_IP}@ns3012345.ip-198-51-100.eu]`);
    });

    it("prints the same through the command line, as JSON and as text", async () => {
        const run = promisify(execFile);
        const cli = ["--import", "tsx", path.join(root, "bin/plan.ts"), "reverse-proxy", "--set", SET];
        const out = (await run(process.execPath, [...cli, "--json"], { cwd: root })).stdout;
        const json = JSON.parse(out) as PlanJson;
        expect(Object.fromEntries(resourceSteps(out).map((s) => [s.name, s.op]))).toEqual(EXPECTED);
        // As pulumi preview --json: the root stack is listed, unchanged, and counted.
        expect(json.steps[0]).toEqual({
            op: "same",
            urn: "urn:pulumi:reverse-proxy::ovh-failover::pulumi:pulumi:Stack::ovh-failover-reverse-proxy",
            newState: { urn: "urn:pulumi:reverse-proxy::ovh-failover::pulumi:pulumi:Stack::ovh-failover-reverse-proxy", custom: false, type: "pulumi:pulumi:Stack" },
            detailedDiff: null,
        });
        expect(json.changeSummary).toEqual({ update: 7, replace: 2, same: 15 });
        for (const s of json.steps) expect(s.urn).toMatch(/^urn:pulumi:reverse-proxy::ovh-failover::/);
        // An update names its changed inputs (diffReasons), a replacement the ones that replace it.
        const routing = resourceSteps(out).find((s) => s.name === "proxy-ip-routing")!;
        expect(routing).toMatchObject({ op: "update", diffReasons: ["ip"], oldState: { inputs: { ip: "192.0.2.10/32" } }, newState: { inputs: { ip: `${NEW_IP}/32` } } });
        const vmac = resourceSteps(out).find((s) => s.name === "proxy-vmac")!;
        expect(vmac).toMatchObject({ op: "replace", replaceReasons: ["ipAddress"], offlinePlan: { replacementOrder: "create-before-delete" } });

        // The tree, as pulumi preview's: a row per change with what changes; --diff adds old => new.
        const tree = (await run(process.execPath, cli, { cwd: root })).stdout;
        expect(tree).toMatch(/^ ~ +.*ovh:Ip:Move +proxy-ip-routing +update +\[diff: ~ip\]$/m);
        expect(tree).toMatch(/^ \+- +.*pulumi-nodejs:dynamic\/ovh-failover:VirtualMac +proxy-vmac +replace +\[diff: ~ipAddress\]$/m);
        expect(tree).toMatch(/~ 7 to update\n\s+\+-2 to replace\n\s+9 changes\. \d+ unchanged/);
        const text = (await run(process.execPath, [...cli, "--diff"], { cwd: root })).stdout;
        expect(text).toContain(`~ target: "192.0.2.10" => "${NEW_IP}"`);
        expect(text).toContain(`~ ip: "192.0.2.10/32" => "${NEW_IP}/32"`);
        expect(text).not.toContain(`"${NEW_IP}/32" (forces replacement)`);
        expect(text).toMatch(/~ 7 to update\n\s+\+-2 to replace\n\s+9 changes\. \d+ unchanged/);
        expect(text).not.toContain("\x1b["); // no colours when not on a terminal
        // Secrets print as [secret], never as the keyed hash the plan compares them by.
        expect(`${text}${JSON.stringify(json)}`).not.toMatch(/\[secret#/);
    });
});
