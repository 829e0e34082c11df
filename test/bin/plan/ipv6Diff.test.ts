// A new IPv6 prefix is one edit (seed 002: the ISP changed the IPv4 address and the IPv6 prefix at
// once, and every v6 address had to be found by hand): the example stack writes its proxy's ip6
// relative to ovh1's prefix, so changing the prefix changes exactly the NIC's ip6 and gw6, the
// probe that proves the new gateway, and the AAAA records, and nothing of IPv4.
import { execFile } from "child_process";
import * as path from "path";
import { promisify } from "util";
import { beforeAll, describe, expect, it } from "vitest";
import { evaluate, plan } from "../../../bin/plan";
import { applySet, loadProject, loadStackConfig } from "../../../bin/plan/stackFiles";
import { Step } from "../../../bin/plan/model";

const root = path.resolve(__dirname, "../../..");
const SET = "servers.ovh1.ipv6.prefix=2001:db8:2:100::/64";

describe("a new IPv6 prefix is one declarative diff", () => {
    let steps: Step[];
    beforeAll(async () => {
        const result = await plan(root, { stack: "reverse-proxy", sets: [SET], json: false, showSame: false }, false);
        expect(result.exitCode, result.message).toBe(0);
        steps = result.steps;
    });

    it("changes exactly the NIC, the probe and the AAAA records of that server's endpoint, and their proof", () => {
        const changed = Object.fromEntries(steps.filter((s) => s.op !== "same").map((s) => [s.name, s.op]));
        expect(changed).toEqual({
            "proxy-nic-pct-set": "update",
            "proxy-gateway-arp": "replace",
            "proxy-dns-AAAA-proxy1.example.org": "update",
            "proxy-dns-AAAA-apex.example.net": "update",
            "proxy-dns-serves.example.org": "update",
            "proxy-dns-serves.example.net": "update",
        });
    });

    it("moves the address and the gateway to the new prefix, and nothing of IPv4", () => {
        const byName = Object.fromEntries(steps.map((s) => [s.name, s]));
        expect(byName["proxy-dns-AAAA-proxy1.example.org"].detailedDiff).toEqual({ target: { kind: "update" } });
        expect(byName["proxy-dns-AAAA-proxy1.example.org"].new?.inputs.target).toBe("2001:db8:2:100::10");
        const nic = byName["proxy-nic-pct-set"];
        const before = String(nic.old?.inputs.create);
        const after = String(nic.new?.inputs.create);
        expect(after).toContain("ip6=2001:db8:2:100::10/64");
        expect(after).toContain("gw6=2001:db8:2:1ff:ff:ff:ff:ff");
        // Every line that is not about IPv6 is as it was.
        const v4 = (script: string) => script.split("\n").filter((l) => !/ip6|gw6|addr6/.test(l)).join("\n");
        expect(v4(after)).toBe(v4(before));
        for (const name of ["proxy-ip-routing", "proxy-vmac", "proxy-dns-A-proxy1.example.org", "proxy-dns-A-apex.example.net"]) {
            expect(byName[name].op, name).toBe("same");
        }
    });

    it("prints the same through the command line, as JSON", async () => {
        const run = promisify(execFile);
        const out = await run(process.execPath, ["--import", "tsx", path.join(root, "bin/plan.ts"), "reverse-proxy", "--set", SET, "--json"], { cwd: root });
        const json = JSON.parse(out.stdout) as { changeSummary: Record<string, number> };
        // The root stack is counted as pulumi preview --json counts it.
        expect(json.changeSummary).toEqual({ update: 5, replace: 1, same: 18 });
    });
});

describe("a bad IPv6 value", () => {
    it("is refused with its key before any resource is declared", async () => {
        const project = loadProject(root);
        for (const [set, key] of [
            ["endpoints.proxy.ip6=2001:db8:9::10", "endpoints.proxy.ip6"],
            ["servers.ovh1.ipv6.prefix=2001:db8:1:4662::1/64", "servers.ovh1.ipv6.prefix"],
            ["servers.ovh1.ipv6.gateway=ff02::2", "servers.ovh1.ipv6.gateway"],
        ]) {
            const e = await evaluate(root, project, "reverse-proxy", applySet(project, loadStackConfig(root, project, "reverse-proxy"), set));
            expect(e.error, set).toContain(`${key}: `);
            expect(e.resources, set).toEqual([]);
            expect(e.invokes, set).toEqual([]);
        }
        const r = await plan(root, { stack: "reverse-proxy", sets: ["endpoints.proxy.ip6=2001:db8:9::10"], json: false, showSame: false }, false);
        expect(r.exitCode).toBe(2);
        expect(r.message).toContain("endpoints.proxy.ip6: \"2001:db8:9::10\" is not valid: expected an address inside the server's prefix 2001:db8:1:4662::/64");
    });
});
