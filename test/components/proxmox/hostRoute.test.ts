// HostRoute's rendering and the component under Pulumi's mock runtime. The scripts themselves run
// against real iproute2, sysctl and flock over a real sshd in hostRoute.integration.test.ts.
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
    HOST_ROUTE_EXIT, HOST_ROUTE_PATHS, HostRouteSpec, renderHostRouteCreate, renderHostRouteDelete, renderHostRouteProbe,
    renderHostRouteUpdate, renderIfUpHook,
} from "../../../components/proxmox/hostRouteScript";
import { ConfigValueError } from "../../../components/shared/validate";

// CI installs shellcheck and busybox from Debian's packages; there they must run.
const has = (tool: string) => spawnSync("sh", ["-c", `command -v ${tool}`]).status === 0 || process.env.CI === "true";
const spec: HostRouteSpec = { destination: "203.0.113.10/32", bridge: "vmbr2", bridgeAddress: "192.168.0.1", bridgePrefixLength: 24, uplink: "vmbr0", owner: "ovh-failover/prod/r1" };
const spec6: HostRouteSpec = { ...spec, destination6: "2001:DB8:1:4662:0:0:0:10", bridgeAddress6: "FE80::1" };

describe("HostRoute scripts", () => {
    const scripts = { create: renderHostRouteCreate, update: renderHostRouteUpdate, delete: renderHostRouteDelete } as const;
    for (const [name, render] of Object.entries(scripts)) {
        it(`${name} is valid POSIX sh (dash, busybox, shellcheck), names its values once, quoted, and reads nothing from the environment`, () => {
            const script = render(spec);
            execFileSync("sh", ["-n"], { input: script });
            if (has("busybox")) execFileSync("busybox", ["sh", "-n"], { input: script });
            if (has("shellcheck")) execFileSync("shellcheck", ["-s", "sh", "-"], { input: script });
            for (const line of ["dest='203.0.113.10/32'", "shown='203.0.113.10'", "bridge='vmbr2'", "address='192.168.0.1/24'", "uplink='vmbr0'", "owner='ovh-failover/prod/r1'"]) {
                expect(script.split("\n")).toContain(line);
            }
            expect(script).not.toContain("PULUMI_COMMAND");
            // Every step after the lock: nothing is read or written before it is held.
            const lock = script.indexOf('flock -w 300 9');
            expect(lock).toBeGreaterThan(0);
            expect(script.indexOf('"$list"')).toBeGreaterThan(lock);
        });
    }

    it("a block's first address is what create checks with ip route get", () => {
        const script = renderHostRouteCreate({ ...spec, destination: "203.0.113.8/29" });
        expect(script).toContain("dest='203.0.113.8/29'");
        expect(script).toContain("shown='203.0.113.8/29'");
        expect(script).toContain("probe='203.0.113.8'");
    });

    for (const [name, render] of Object.entries(scripts)) {
        it(`${name} with an IPv6 destination is valid POSIX sh (dash, busybox, shellcheck) and names its IPv6 values once, canonical and quoted`, () => {
            const script = render(spec6);
            execFileSync("sh", ["-n"], { input: script });
            if (has("busybox")) execFileSync("busybox", ["sh", "-n"], { input: script });
            if (has("shellcheck")) execFileSync("shellcheck", ["-s", "sh", "-"], { input: script });
            for (const line of ["dest6='2001:db8:1:4662::10/128'", "shown6='2001:db8:1:4662::10'", "address6='fe80::1'", "dest='203.0.113.10/32'"]) {
                expect(script.split("\n").filter((l) => l === line)).toHaveLength(1);
            }
        });
    }

    it("an IPv4-only route renders no IPv6 step: no IPv6 value, no ip -6, no IPv6 sysctl written", () => {
        for (const render of [renderHostRouteCreate, renderHostRouteDelete]) {
            const script = render(spec);
            expect(script).not.toMatch(/^(dest6|shown6|address6)=/m);
            expect(script).not.toContain("ip -6 route replace");
            expect(script).not.toContain(`ip -6 neigh replace proxy "$shown6"`);
            expect(script).not.toContain("set_sysctl net/ipv6/conf/all/forwarding 1");
        }
    });

    it("create with an IPv6 destination: routes the /128 to the bridge, turns IPv6 forwarding and the uplink's proxy_ndp on, adds the neighbour proxy entry, after recording what was there", () => {
        const script = renderHostRouteCreate(spec6);
        const at = (s: string) => {
            const i = script.indexOf(s);
            expect(i, s).toBeGreaterThan(0);
            return i;
        };
        const record = at('echo "net/ipv6/conf/all/forwarding $was"');
        const recordNdp = at('echo "net/ipv6/conf/$uplink/proxy_ndp $(sysctl -n "net/ipv6/conf/$uplink/proxy_ndp")"');
        const route = at('if [ "$kind6" = added ]; then ip -6 route replace "$dest6" dev "$bridge"; fi');
        const forward = at("set_sysctl net/ipv6/conf/all/forwarding 1");
        const ndp = at('set_sysctl "net/ipv6/conf/$uplink/proxy_ndp" 1');
        const proxy = at('if [ "$ndp6" = proxy-added ]; then ip -6 neigh replace proxy "$shown6" dev "$uplink"; fi');
        expect(Math.max(record, recordNdp)).toBeLessThan(Math.min(route, forward, ndp, proxy));
        // Every refusal of the IPv6 part comes before anything is recorded or changed.
        for (const code of [HOST_ROUTE_EXIT.bridgeWithoutAddress6, HOST_ROUTE_EXIT.raRoutes]) expect(at(`refuse ${code} `)).toBeLessThan(record);
    });

    it("create refuses each case with its own exit code, and says nothing changed", () => {
        const script = renderHostRouteCreate(spec6);
        const codes = Object.values(HOST_ROUTE_EXIT);
        expect(new Set(codes).size).toBe(codes.length);
        for (const [what, code] of Object.entries(HOST_ROUTE_EXIT)) {
            if (what === "notEffective") continue;
            expect(script).toMatch(new RegExp(`refuse ${code} ".*: nothing changed"$`, "m"));
        }
        expect(script).toMatch(new RegExp(`refuse ${HOST_ROUTE_EXIT.notEffective} `));
    });

    it("create writes the hook verbatim from a quoted here-document: nothing in it is expanded when written", () => {
        const script = renderHostRouteCreate(spec);
        expect(script).toContain(`cat > "$hook.new" <<'OVH_FAILOVER_HOOK'\n${renderIfUpHook()}OVH_FAILOVER_HOOK\n`);
        expect(renderIfUpHook()).not.toContain("OVH_FAILOVER_HOOK");
    });

    it("the hook holds no value of any stack, acts on its interface's lines only, and always exits 0 (ifupdown2 logs a failing script as the interface's error)", () => {
        const hook = renderIfUpHook();
        expect(hook.startsWith("#!/bin/sh\n")).toBe(true);
        execFileSync("sh", ["-n"], { input: hook });
        if (has("shellcheck")) execFileSync("shellcheck", ["-s", "sh", "-"], { input: hook });
        expect(hook).toContain(`list=${HOST_ROUTE_PATHS.list}\n`);
        expect(hook).not.toMatch(/203\.0\.113|vmbr2|vmbr0/);
        expect(hook).toContain('if [ "$bridge" = "$IFACE" ] && [ "$kind" = added ]; then');
        expect(hook.trimEnd().split("\n").at(-1)).toBe("exit 0");
        // run-parts (classic ifupdown) runs only names of [A-Za-z0-9_-].
        expect(path.basename(HOST_ROUTE_PATHS.hook)).toMatch(/^[A-Za-z0-9_-]+$/);
    });

    it("renders nothing for a value that is not what it claims to be", () => {
        const bad: [Partial<HostRouteSpec>, RegExp][] = [
            [{ bridge: "vmbr2; reboot" }, /bridge name/],
            [{ bridge: "all" }, /not "all"/],
            [{ uplink: "default" }, /not "default"/],
            [{ uplink: "lo" }, /loopback/],
            [{ uplink: "vmbr2" }, /other than the routed bridge/],
            [{ destination: "203.0.113.9/29" }, /not the first address of its \/29 \(203\.0\.113\.8\/29\)/],
            [{ destination: "10.0.0.0/24" }, /public unicast/],
            [{ destination: "203.0.0.0/8" }, /from \/16 to \/32/],
            [{ destination: "203.0.113.10/32 dev lo" }, /additional IP/],
            [{ bridgeAddress: "192.168.0.1'" }, /IPv4 address/],
            [{ bridgePrefixLength: 33 }, /prefix length/],
            [{ owner: "a b" }, /owner tag/],
            [{ owner: "x'$(reboot)" }, /owner tag/],
            [{ destination6: "2001:db8::10" }, /destination6 and bridgeAddress6 together/],
            [{ bridgeAddress6: "fe80::1" }, /destination6 and bridgeAddress6 together/],
            [{ destination6: "2001:db8::/64", bridgeAddress6: "fe80::1" }, /global unicast IPv6 address, alone or as \/128/],
            [{ destination6: "fe80::10", bridgeAddress6: "fe80::1" }, /global unicast IPv6 address.*linkLocal/],
            [{ destination6: "2001:db8::10'; reboot", bridgeAddress6: "fe80::1" }, /IPv6 address/],
            [{ destination6: "2001:db8::10", bridgeAddress6: "ff02::1" }, /global unicast, unique local .* or link-local/],
            [{ destination6: "2001:db8::10", bridgeAddress6: "2001:db8::10" }, /a bridge address other than the routed address/],
        ];
        for (const [over, message] of bad) {
            for (const render of [renderHostRouteCreate, renderHostRouteDelete]) {
                expect(() => render({ ...spec, ...over }), JSON.stringify(over)).toThrow(ConfigValueError);
                expect(() => render({ ...spec, ...over })).toThrow(message);
            }
        }
    });
});

describe("the host-side probe", () => {
    const probe = renderHostRouteProbe({ address: "203.0.113.10", bridge: "vmbr2", uplink: "vmbr0" });
    const work = fs.mkdtempSync(path.join(os.tmpdir(), "ovhf-hostroute-probe-"));
    afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

    // What the host's `ip route get` and sysctl answer, written as they print it.
    const run = (route: string, forward: string, proxyArp: string) => {
        fs.writeFileSync(path.join(work, "ip"), `#!/bin/sh\nprintf '%s\\n' ${JSON.stringify(route)}\n`, { mode: 0o755 });
        fs.writeFileSync(path.join(work, "sysctl"), `#!/bin/sh\ncase "$2" in net/ipv4/ip_forward) echo ${forward} ;; net/ipv4/conf/vmbr0/proxy_arp) echo ${proxyArp} ;; *) exit 1 ;; esac\n`, { mode: 0o755 });
        return spawnSync("sh", ["-c", probe], { encoding: "utf8", env: { PATH: `${work}:/usr/bin:/bin` } });
    };

    it("is valid POSIX sh, and refuses values that are not an address, a bridge, an interface", () => {
        execFileSync("sh", ["-n"], { input: probe });
        if (has("shellcheck")) execFileSync("shellcheck", ["-s", "sh", "-"], { input: probe });
        expect(() => renderHostRouteProbe({ address: "203.0.113.10/32", bridge: "vmbr2", uplink: "vmbr0" })).toThrow(ConfigValueError);
        expect(() => renderHostRouteProbe({ address: "203.0.113.10", bridge: "vmbr2 x", uplink: "vmbr0" })).toThrow(ConfigValueError);
        expect(() => renderHostRouteProbe({ address: "203.0.113.10", bridge: "vmbr2", uplink: "all" })).toThrow(ConfigValueError);
    });

    it("passes only for a route dev <bridge> with both sysctls 1, and names each failure", () => {
        const good = run("203.0.113.10 dev vmbr2 src 192.168.0.1 uid 0", "1", "1");
        expect(good.status, good.stdout).toBe(0);
        expect(good.stdout).toBe("host-route: 203.0.113.10 dev vmbr2, forwarding and proxy_arp on vmbr0: ok\n");

        // A bridge whose name begins like the right one is not the right one.
        const prefix = run("203.0.113.10 dev vmbr20 src 192.168.0.1 uid 0", "1", "1");
        expect(prefix.status).toBe(1);
        expect(prefix.stdout).toMatch(/routed elsewhere than dev vmbr2/);

        const local = run("local 203.0.113.10 dev lo src 203.0.113.10 uid 0", "1", "1");
        expect(local.status).toBe(1);
        expect(local.stdout).toMatch(/is not routed to a bridge: local 203\.0\.113\.10/);

        const off = run("203.0.113.10 dev vmbr2 src 192.168.0.1 uid 0", "0", "0");
        expect(off.status).toBe(1);
        expect(off.stdout).toBe("host-route: net.ipv4.ip_forward is 0, not 1\nhost-route: proxy_arp of vmbr0 is 0, not 1\n");
    });
});

describe("the host-side probe with an IPv6 address", () => {
    const probe = renderHostRouteProbe({ address: "203.0.113.10", bridge: "vmbr2", uplink: "vmbr0", address6: "2001:db8::10" });
    const work = fs.mkdtempSync(path.join(os.tmpdir(), "ovhf-hostroute-probe6-"));
    afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

    // What the host's ip (route get of each family, the uplink's proxy entries) and sysctl answer, as they print it.
    const run = (route6: string, forward6: string, proxyNdp: string, proxies: string) => {
        fs.writeFileSync(path.join(work, "ip"), `#!/bin/sh
case "$1 $2" in
  "-4 route") echo "203.0.113.10 dev vmbr2 src 192.168.0.1 uid 0" ;;
  "-6 route") printf '%s\\n' ${JSON.stringify(route6)} ;;
  "-6 neigh") printf '%s' ${JSON.stringify(proxies)} ;;
  *) exit 1 ;;
esac
`, { mode: 0o755 });
        fs.writeFileSync(path.join(work, "sysctl"), `#!/bin/sh
case "$2" in net/ipv4/ip_forward|net/ipv4/conf/vmbr0/proxy_arp) echo 1 ;; net/ipv6/conf/all/forwarding) echo ${forward6} ;; net/ipv6/conf/vmbr0/proxy_ndp) echo ${proxyNdp} ;; *) exit 1 ;; esac
`, { mode: 0o755 });
        return spawnSync("sh", ["-c", probe], { encoding: "utf8", env: { PATH: `${work}:/usr/bin:/bin` } });
    };

    it("is valid POSIX sh and refuses an IPv6 value that is not a global address", () => {
        execFileSync("sh", ["-n"], { input: probe });
        if (has("shellcheck")) execFileSync("shellcheck", ["-s", "sh", "-"], { input: probe });
        expect(() => renderHostRouteProbe({ address: "203.0.113.10", bridge: "vmbr2", uplink: "vmbr0", address6: "fe80::10" })).toThrow(ConfigValueError);
        expect(() => renderHostRouteProbe({ address: "203.0.113.10", bridge: "vmbr2", uplink: "vmbr0", address6: "2001:db8::10 x" })).toThrow(ConfigValueError);
    });

    it("passes only with the /128 dev <bridge>, IPv6 forwarding, proxy_ndp and the neighbour proxy entry; names each failure", () => {
        const good = run("2001:db8::10 from :: dev vmbr2 src fe80::1 metric 1024 pref medium", "1", "1", "2001:db8::10 proxy\n");
        expect(good.status, good.stdout).toBe(0);
        expect(good.stdout).toBe("host-route: 203.0.113.10 dev vmbr2, forwarding and proxy_arp on vmbr0: ok\nhost-route: 2001:db8::10 dev vmbr2, IPv6 forwarding, proxy_ndp and the neighbour proxy entry on vmbr0: ok\n");

        const bad = run("2001:db8::10 from :: via fe80::ff dev vmbr0 metric 1024 pref medium", "0", "0", "2001:db8::100 proxy\n");
        expect(bad.status).toBe(1);
        expect(bad.stdout).toBe([
            "host-route: 2001:db8::10 is routed elsewhere than dev vmbr2: 2001:db8::10 from :: via fe80::ff dev vmbr0 metric 1024 pref medium",
            "host-route: net.ipv6.conf.all.forwarding is 0, not 1",
            "host-route: proxy_ndp of vmbr0 is 0, not 1",
            "host-route: vmbr0 has no neighbour proxy entry for 2001:db8::10 (ip -6 neigh show proxy dev vmbr0)",
            // Each family's verdict of its own: the IPv4 side passed.
            "host-route: 203.0.113.10 dev vmbr2, forwarding and proxy_arp on vmbr0: ok",
            "",
        ].join("\n"));
    });
});

describe("the HostRoute component (mock runtime)", () => {
    const registered: { type: string; name: string; inputs: Record<string, unknown> }[] = [];
    beforeAll(() => {
        pulumi.runtime.setMocks({
            newResource: (args) => {
                registered.push({ type: args.type, name: args.name, inputs: args.inputs });
                return { id: `${args.name}-id`, state: args.inputs };
            },
            call: () => ({}),
        }, "ovh-failover", "unit", false);
    });
    const outputOf = <T>(o: pulumi.Output<T>): Promise<T> => new Promise((resolve) => o.apply(resolve));

    it("runs the three scripts over SSH with its owner, defaults (vmbr0, /24), and every routed value among the replacement triggers", async () => {
        const { HostRoute } = await import("../../../components/proxmox/hostRoute");
        const route = new HostRoute("r1-route", {
            proxmox: { host: "198.51.100.20", hostKey: "ssh-ed25519 AAAA" },
            bridge: "vmbr2",
            bridgeAddress: "192.168.0.1",
            destination: pulumi.output("203.0.113.10"),
        });
        expect(route.owner).toBe("ovh-failover/unit/r1-route");
        expect(await outputOf(route.destination)).toBe("203.0.113.10/32");
        await outputOf(route.applied.urn);
        const cmd = registered.find((r) => r.name === "r1-route-route");
        expect(cmd?.type).toBe("command:remote:Command");
        const inputs = cmd!.inputs as { create: string; update: string; delete: string; triggers: unknown[]; connection: Record<string, unknown>; addPreviousOutputInEnv: boolean };
        const expected: HostRouteSpec = { destination: "203.0.113.10/32", bridge: "vmbr2", bridgeAddress: "192.168.0.1", bridgePrefixLength: 24, uplink: "vmbr0", owner: "ovh-failover/unit/r1-route" };
        expect(inputs.create).toBe(renderHostRouteCreate(expected));
        expect(inputs.update).toBe(renderHostRouteUpdate(expected));
        expect(inputs.delete).toBe(renderHostRouteDelete(expected));
        expect(inputs.triggers).toEqual(["198.51.100.20", "203.0.113.10/32 vmbr2 192.168.0.1/24 vmbr0"]);
        // @pulumi/command makes the connection a secret: the mock sees it wrapped.
        const connection = (inputs.connection as { value?: unknown }).value ?? inputs.connection;
        expect(connection).toMatchObject({ host: "198.51.100.20", port: 22, user: "root", hostKey: "ssh-ed25519 AAAA" });
        expect(inputs.addPreviousOutputInEnv).toBe(false);
    });

    it("with an IPv6 destination: the scripts carry it, canonical as /128, and it joins the replacement triggers", async () => {
        const { HostRoute } = await import("../../../components/proxmox/hostRoute");
        const route = new HostRoute("r6-route", {
            proxmox: { host: "198.51.100.20", hostKey: "ssh-ed25519 AAAA" },
            bridge: "vmbr2",
            bridgeAddress: "192.168.0.1",
            destination: "203.0.113.10",
            destination6: pulumi.output("2001:DB8::10"),
            bridgeAddress6: "fe80::1",
        });
        await outputOf(route.applied.urn);
        const cmd = registered.find((r) => r.name === "r6-route-route");
        const inputs = cmd!.inputs as { create: string; triggers: unknown[] };
        const expected: HostRouteSpec = {
            destination: "203.0.113.10/32", bridge: "vmbr2", bridgeAddress: "192.168.0.1", bridgePrefixLength: 24, uplink: "vmbr0", owner: "ovh-failover/unit/r6-route",
            destination6: "2001:db8::10/128", bridgeAddress6: "fe80::1",
        };
        expect(inputs.create).toBe(renderHostRouteCreate(expected));
        expect(inputs.triggers).toEqual(["198.51.100.20", "203.0.113.10/32 vmbr2 192.168.0.1/24 vmbr0 2001:db8::10/128 fe80::1"]);
        const proxmox = { host: "198.51.100.20" };
        expect(() => new HostRoute("b6", { proxmox, bridge: "vmbr2", bridgeAddress: "192.168.0.1", destination: "203.0.113.10", destination6: "2001:db8::10" })).toThrow(/destination6 and bridgeAddress6 go together/);
        expect(() => new HostRoute("b7", { proxmox, bridge: "vmbr2", bridgeAddress: "192.168.0.1", destination: "203.0.113.10", destination6: "fe80::10", bridgeAddress6: "fe80::1" })).toThrow(/destination6: "fe80::10" is not valid/);
    });

    it("stops at declaration on a plain value that is not valid, naming the argument", async () => {
        const { HostRoute } = await import("../../../components/proxmox/hostRoute");
        const proxmox = { host: "198.51.100.20" };
        expect(() => new HostRoute("b1", { proxmox, bridge: "vmbr2", bridgeAddress: "192.168.0.1", destination: "203.0.113.9/29" })).toThrow(/destination: "203.0.113.9\/29" is not valid/);
        expect(() => new HostRoute("b2", { proxmox, bridge: "vmbr 2", bridgeAddress: "192.168.0.1", destination: "203.0.113.10" })).toThrow(/bridge: "vmbr 2" is not valid/);
        expect(() => new HostRoute("b3", { proxmox, bridge: "vmbr0", bridgeAddress: "192.168.0.1", destination: "203.0.113.10" })).toThrow(/uplink: vmbr0 is the routed bridge itself/);
        expect(() => new HostRoute("b 4", { proxmox, bridge: "vmbr2", bridgeAddress: "192.168.0.1", destination: "203.0.113.10" })).toThrow(/name: .* is not valid: expected an owner tag/);
    });
});
