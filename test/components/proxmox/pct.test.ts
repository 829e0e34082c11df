import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { afterAll, describe, expect, it } from "vitest";
import { NicSpec, parseNetValue, renderCreateScript, renderDeleteScript, renderNetValue, renderUpdateScript } from "../../../components/proxmox/pct";
import { shellQuote } from "../../../components/shared/shell";
import { netLineOf, readContainerConfig, writeContainerConfig, writePctStandIn } from "../../support/pctStandIn";

const work = fs.mkdtempSync(path.join(os.tmpdir(), "ovh-failover-pct-"));
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

const nic: NicSpec = {
    vmid: 101, index: 1, interfaceName: "eth1", bridge: "vmbr0",
    macAddress: "02:00:00:12:34:56", address: "192.0.2.10", prefixLength: 32, gateway: "198.51.100.254",
};

describe("pct rendering", () => {
    it("renders --net1 with bridge, the vMAC, a /32 and the gateway", () => {
        expect(renderNetValue(nic)).toBe("name=eth1,bridge=vmbr0,gw=198.51.100.254,hwaddr=02:00:00:12:34:56,ip=192.0.2.10/32,type=veth");
        expect(parseNetValue("name=eth1,firewall=1")).toEqual([["name", "eth1"], ["firewall", "1"]]);
    });

    it("quotes for the shell", () => {
        expect(shellQuote("it's")).toBe(`'it'\\''s'`);
    });

    for (const [name, render] of [["create", renderCreateScript], ["update", renderUpdateScript], ["delete", renderDeleteScript]] as const) {
        it(`${name} script is valid POSIX sh, targets net1 of 101 and reads nothing from the environment`, () => {
            const script = render(nic);
            execFileSync("sh", ["-n"], { input: script });
            expect(script).toContain("vmid=101");
            expect(script).toContain("key=net1");
            expect(script).not.toContain("PULUMI_COMMAND");
            expect(script).not.toMatch(/\$\{?OVH_FAILOVER/);
        });
    }
});

// The scripts against the pct stand-in (Proxmox's semantics: the whole property string replaced,
// name first then sorted, hwaddr generated when missing), on one host folder per test.
describe("pct scripts against a container configuration", () => {
    let count = 0;
    function host(lines: string[]) {
        const root = path.join(work, `host-${++count}`);
        const bin = path.join(root, "bin");
        writePctStandIn(bin, root);
        writeContainerConfig(root, 101, lines);
        const spec = { ...nic, stateDir: path.join(root, "var/lib/ovh-failover") };
        const run = (script: string) => {
            const r = spawnSync("sh", ["-s"], { input: script, encoding: "utf8", env: { PATH: `${bin}:/usr/bin:/bin` } });
            expect(r.status, r.stderr).toBe(0);
            return r.stdout;
        };
        /** Runs with `pct config` failing, as it does without quorum or after a migration. */
        const runWithoutConfig = (script: string) => {
            const broken = path.join(root, "broken");
            fs.mkdirSync(broken, { recursive: true });
            fs.writeFileSync(path.join(broken, "pct"), `#!/bin/sh\n[ "$1" = config ] && { echo "cluster not ready - no quorum?" >&2; exit 255; }\nexec ${bin}/pct "$@"\n`, { mode: 0o755 });
            return spawnSync("sh", ["-s"], { input: script, encoding: "utf8", env: { PATH: `${broken}:/usr/bin:/bin` } });
        };
        return { root, spec, run, runWithoutConfig, net1: () => netLineOf(readContainerConfig(root, 101), 1) };
    }
    const ORIGINAL = "name=eth1,bridge=vmbr0,firewall=1,gw=198.51.100.1,gw6=fe80::1,hwaddr=BC:24:11:00:00:01,ip=192.0.2.5/24,ip6=2001:db8::5/64,mtu=1400,rate=10,tag=5,type=veth";

    it("keeps the MAC as the NIC writes it when it is the stack's MAC in another case: Proxmox compares hwaddr as text and would recreate the veth", () => {
        // pve-container src/PVE/LXC.pm update_net: a changed hwaddr string (case included) tears
        // down and recreates the veth; the value is kept as written.
        // OVH gives the MAC in lower case; the NIC was written in upper case by hand.
        const upper = "name=eth1,bridge=vmbr0,firewall=1,gw=198.51.100.254,hwaddr=02:00:00:AB:CD:EF,ip=192.0.2.10/32,type=veth";
        const h = host(["hostname: proxy", `net1: ${upper}`]);
        const spec = { ...h.spec, macAddress: "02:00:00:ab:cd:ef" };
        const out = h.run(renderCreateScript(spec));
        expect(h.net1()).toBe(upper);
        expect(out).toContain(`applied=${upper}`);
        h.run(renderUpdateScript({ ...spec, address: "192.0.2.11" }));
        expect(h.net1()).toBe(upper.replace("ip=192.0.2.10/32", "ip=192.0.2.11/32"));
        // A different MAC is written as the stack has it.
        h.run(renderUpdateScript({ ...spec, address: "192.0.2.11", macAddress: "02:00:00:ab:cd:f0" }));
        expect(h.net1()).toContain("hwaddr=02:00:00:ab:cd:f0,");
    });

    it("create merges: the managed options change, firewall, tag, mtu, rate and IPv6 stay; delete restores the line exactly", () => {
        const h = host(["hostname: proxy", "net0: name=eth0,bridge=vmbr1,hwaddr=BC:24:11:00:00:02,ip=10.1.0.100/24,type=veth", `net1: ${ORIGINAL}`]);
        h.run(renderCreateScript(h.spec));
        expect(h.net1()).toBe("name=eth1,bridge=vmbr0,firewall=1,gw=198.51.100.254,gw6=fe80::1,hwaddr=02:00:00:12:34:56,ip=192.0.2.10/32,ip6=2001:db8::5/64,mtu=1400,rate=10,tag=5,type=veth");
        h.run(renderDeleteScript(h.spec));
        expect(h.net1()).toBe(ORIGINAL);
        expect(readContainerConfig(h.root, 101)).toContain("net0: name=eth0,bridge=vmbr1");
    });

    it("a create run again after failing half-way keeps the original value, not its own", () => {
        const h = host([`net1: ${ORIGINAL}`]);
        h.run(renderCreateScript(h.spec));
        h.run(renderCreateScript(h.spec));
        h.run(renderDeleteScript(h.spec));
        expect(h.net1()).toBe(ORIGINAL);
    });

    it("an update (an IP change) merges on the NIC as it is, and delete still restores the original", () => {
        const h = host([`net1: ${ORIGINAL}`]);
        h.run(renderCreateScript(h.spec));
        const changed = { ...h.spec, address: "203.0.113.77", macAddress: "02:00:00:aa:bb:cc" };
        h.run(renderUpdateScript(changed));
        expect(h.net1()).toBe("name=eth1,bridge=vmbr0,firewall=1,gw=198.51.100.254,gw6=fe80::1,hwaddr=02:00:00:aa:bb:cc,ip=203.0.113.77/32,ip6=2001:db8::5/64,mtu=1400,rate=10,tag=5,type=veth");
        h.run(renderDeleteScript(changed));
        expect(h.net1()).toBe(ORIGINAL);
    });

    it("stops, changing nothing and recording nothing, when pct config fails", () => {
        const h = host([`net1: ${ORIGINAL}`]);
        for (const render of [renderCreateScript, renderUpdateScript, renderDeleteScript]) {
            const r = h.runWithoutConfig(render(h.spec));
            expect(r.status).toBe(1);
            expect(r.stderr).toContain("pct config 101 failed: net1 left as it is");
        }
        expect(h.net1()).toBe(ORIGINAL);
        expect(fs.existsSync(h.spec.stateDir)).toBe(false);
        // And once it works again, the original is the true one.
        h.run(renderCreateScript(h.spec));
        const r = h.runWithoutConfig(renderDeleteScript(h.spec));
        expect(r.status).toBe(1);
        h.run(renderDeleteScript(h.spec));
        expect(h.net1()).toBe(ORIGINAL);
    });

    it("adopts a NIC set by hand with the stack's MAC: as it was found is what delete puts back", () => {
        const byHand = "name=eth1,bridge=vmbr0,firewall=1,gw=198.51.100.254,hwaddr=02:00:00:12:34:56,ip=192.0.2.10/32,type=veth";
        const h = host([`net1: ${byHand}`]);
        h.run(renderCreateScript(h.spec));
        expect(h.net1()).toBe(byHand);
        h.run(renderDeleteScript(h.spec));
        expect(h.net1()).toBe(byHand);
    });

    it("delete removes a NIC it added, and leaves alone one changed since, or one it has no record of", () => {
        const fresh = host(["hostname: proxy"]);
        fresh.run(renderCreateScript(fresh.spec));
        expect(fresh.net1()).toBe("name=eth1,bridge=vmbr0,gw=198.51.100.254,hwaddr=02:00:00:12:34:56,ip=192.0.2.10/32,type=veth");
        fresh.run(renderDeleteScript(fresh.spec));
        expect(fresh.net1()).toBeUndefined();

        const changed = host([`net1: ${ORIGINAL}`]);
        changed.run(renderCreateScript(changed.spec));
        const byHand = changed.net1()!.replace("02:00:00:12:34:56", "02:00:00:99:99:99");
        writeContainerConfig(changed.root, 101, [`net1: ${byHand}`]);
        expect(changed.run(renderDeleteScript(changed.spec))).toContain("left as it is");
        expect(changed.net1()).toBe(byHand);

        const unknown = host([`net1: ${ORIGINAL}`]);
        unknown.run(renderCreateScript(unknown.spec));
        fs.rmSync(unknown.spec.stateDir, { recursive: true });
        unknown.run(renderDeleteScript(unknown.spec));
        expect(unknown.net1()).toContain("hwaddr=02:00:00:12:34:56");
    });

    describe("IPv6", () => {
        const V6 = { address: "2001:db8:1:4662::10", prefixLength: 64, gateway: "2001:db8:1:46ff:ff:ff:ff:ff", onLink: true };

        it("sets ip6 and gw6 in place of the NIC's own, keeping every other option; delete restores the line exactly", () => {
            const h = host([`net1: ${ORIGINAL}`]);
            h.run(renderCreateScript({ ...h.spec, ipv6: V6 }));
            expect(h.net1()).toBe("name=eth1,bridge=vmbr0,firewall=1,gw=198.51.100.254,gw6=2001:db8:1:46ff:ff:ff:ff:ff,hwaddr=02:00:00:12:34:56,ip=192.0.2.10/32,ip6=2001:db8:1:4662::10/64,mtu=1400,rate=10,tag=5,type=veth");
            h.run(renderDeleteScript({ ...h.spec, ipv6: V6 }));
            expect(h.net1()).toBe(ORIGINAL);
        });

        it("a new prefix is an update of ip6 and gw6 alone", () => {
            const h = host([`net1: ${ORIGINAL}`]);
            h.run(renderCreateScript({ ...h.spec, ipv6: V6 }));
            h.run(renderUpdateScript({ ...h.spec, ipv6: { ...V6, address: "2001:db8:2:100::10", gateway: "2001:db8:2:1ff:ff:ff:ff:ff" } }));
            expect(h.net1()).toBe("name=eth1,bridge=vmbr0,firewall=1,gw=198.51.100.254,gw6=2001:db8:2:1ff:ff:ff:ff:ff,hwaddr=02:00:00:12:34:56,ip=192.0.2.10/32,ip6=2001:db8:2:100::10/64,mtu=1400,rate=10,tag=5,type=veth");
        });

        it("an endpoint whose ip6 goes gets back the IPv6 the NIC had before the stack, or none", () => {
            const had = host([`net1: ${ORIGINAL}`]);
            had.run(renderCreateScript({ ...had.spec, ipv6: V6 }));
            had.run(renderUpdateScript(had.spec));
            expect(had.net1()).toBe(ORIGINAL.replace("gw=198.51.100.1", "gw=198.51.100.254").replace("hwaddr=BC:24:11:00:00:01", "hwaddr=02:00:00:12:34:56").replace("ip=192.0.2.5/24", "ip=192.0.2.10/32"));

            const none = host(["hostname: proxy"]);
            none.run(renderCreateScript({ ...none.spec, ipv6: V6 }));
            none.run(renderUpdateScript(none.spec));
            expect(none.net1()).toBe("name=eth1,bridge=vmbr0,gw=198.51.100.254,hwaddr=02:00:00:12:34:56,ip=192.0.2.10/32,type=veth");
        });

        it("puts back the IPv6 the NIC had when the stack first set its own, even one set by hand after the stack came", () => {
            const h = host([`net1: ${ORIGINAL}`]);
            h.run(renderCreateScript(h.spec));
            const byHand = h.net1()!.replace("ip6=2001:db8::5/64", "ip6=2001:db8::7/64");
            writeContainerConfig(h.root, 101, [`net1: ${byHand}`]);
            h.run(renderUpdateScript({ ...h.spec, ipv6: V6 }));
            expect(h.net1()).toContain("ip6=2001:db8:1:4662::10/64");
            h.run(renderUpdateScript({ ...h.spec, ipv6: { ...V6, address: "2001:db8:1:4662::11" } }));
            h.run(renderUpdateScript(h.spec));
            expect(h.net1()).toBe(byHand);
        });

        it("leaves an ip6 changed by hand since: it is no longer the stack's", () => {
            const h = host(["hostname: proxy"]);
            h.run(renderCreateScript({ ...h.spec, ipv6: V6 }));
            const byHand = h.net1()!.replace("ip6=2001:db8:1:4662::10/64", "ip6=2001:db8:1:4662::99/64");
            writeContainerConfig(h.root, 101, [`net1: ${byHand}`]);
            h.run(renderUpdateScript(h.spec));
            expect(h.net1()).toBe(byHand);
        });

        it("adds the on-link route only to a gateway outside the prefix", () => {
            expect(renderCreateScript({ ...nic, ipv6: V6 })).toContain(`ip -6 route replace "$gw6" dev "$ifname"`);
            const linkLocal = renderCreateScript({ ...nic, ipv6: { ...V6, gateway: "fe80::1", onLink: false } });
            expect(linkLocal).not.toContain(`ip -6 route replace "$gw6" dev`);
            // The address and the default route (with its device) are made sure of either way.
            expect(linkLocal).toContain(`ip -6 route replace default via "$gw6" dev "$ifname"`);
            expect(linkLocal).toContain(`ip -6 addr add "$addr6/$len6" dev "$ifname"`);
        });
    });
});
