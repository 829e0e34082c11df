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

describe("HostRoute update of the IPv6 part, run against a stand-in host", () => {
    // The scripts run under sh and busybox sh with stand-ins of ip and sysctl that keep the
    // routes, the uplink's neighbour proxy entries and the sysctls in files and log each change;
    // the host files go to a temporary folder. flock and awk are the real ones. Real iproute2 and
    // sysctl in network namespaces: hostRoute.integration.test.ts.
    const uplink = "eth0"; // restore writes back only keys that exist under /proc/sys
    const base: HostRouteSpec = { ...spec, uplink, owner: "ovh-failover/prod/r1" };
    const with6: HostRouteSpec = { ...base, destination6: "2001:db8::10", bridgeAddress6: "fe80::1" };
    const shells = has("busybox") ? [["sh"], ["busybox", "sh"]] : [["sh"]];

    const fakeIp = (f: string) => `#!/bin/sh
F=${f}
echo "ip $*" >> "$F/log"
fam=4
case "$1" in -4) shift ;; -6) fam=6; shift ;; esac
[ "$1" = -o ] && shift
strip() { s=\${1%/32}; s=\${s%/128}; echo "$s"; }
touch "$F/routes4" "$F/routes6" "$F/neigh"
case "$1 $2" in
  "link show") echo "3: $4: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500" ;;
  "addr show")
    if [ "$3 $4" = "dev vmbr2" ]; then
      if [ $fam = 4 ]; then echo "5: vmbr2    inet 192.168.0.1/24 scope global vmbr2"; else echo "5: vmbr2    inet6 fe80::1/64 scope link"; fi
    fi ;;
  "route show") if [ "$3" = exact ]; then awk -v s="$(strip "$4")" '$1 == s' "$F/routes$fam"; fi ;;
  "route replace") s=$(strip "$3"); { awk -v s="$s" '$1 != s' "$F/routes$fam"; echo "$s dev $5"; } > "$F/new"; mv "$F/new" "$F/routes$fam" ;;
  "route del") s=$(strip "$3"); awk -v s="$s" '$1 != s' "$F/routes$fam" > "$F/new"; mv "$F/new" "$F/routes$fam" ;;
  "route get") awk -v s="$3" '$1 == s { print s " dev " $3 " src x"; f = 1 } END { if (!f) print s " via 192.0.2.1 dev eth0" }' "$F/routes$fam" ;;
  "neigh show") awk -v u="$5" '$2 == u { print $1 " proxy" }' "$F/neigh" ;;
  "neigh replace") { awk -v a="$4" -v u="$6" '!($1 == a && $2 == u)' "$F/neigh"; echo "$4 $6"; } > "$F/new"; mv "$F/new" "$F/neigh" ;;
  "neigh del") awk -v a="$4" -v u="$6" '!($1 == a && $2 == u)' "$F/neigh" > "$F/new"; mv "$F/new" "$F/neigh" ;;
  *) echo "stand-in ip: $*" >&2; exit 2 ;;
esac
`;
    const fakeSysctl = (f: string) => `#!/bin/sh
F=${f}
case "$1" in
  -n) k=$(echo "$2" | tr / .); cat "$F/sys/$k" 2>/dev/null || echo 0 ;;
  -q) kv=$3; k=$(echo "\${kv%%=*}" | tr / .); echo "sysctl $k=\${kv#*=}" >> "$F/log"; echo "\${kv#*=}" > "$F/sys/$k" ;;
  *) exit 2 ;;
esac
`;

    function host() {
        const f = fs.mkdtempSync(path.join(os.tmpdir(), "ovhf-hostroute-update-"));
        fs.mkdirSync(path.join(f, "bin"));
        fs.mkdirSync(path.join(f, "sys"));
        fs.writeFileSync(path.join(f, "bin", "ip"), fakeIp(f), { mode: 0o755 });
        fs.writeFileSync(path.join(f, "bin", "sysctl"), fakeSysctl(f), { mode: 0o755 });
        const initial = { "net.ipv4.ip_forward": "0", "net.ipv4.conf.all.accept_redirects": "1", [`net.ipv4.conf.${uplink}.proxy_arp`]: "0", "net.ipv6.conf.all.forwarding": "0", [`net.ipv6.conf.${uplink}.proxy_ndp`]: "0" };
        for (const [k, v] of Object.entries(initial)) fs.writeFileSync(path.join(f, "sys", k), `${v}\n`);
        const root = path.join(f, "root");
        const paths = { list: `${root}/etc/ovh-failover/routes`, conf: `${root}/etc/sysctl.d/90-ovh-failover.conf`, hook: `${root}/etc/network/if-up.d/ovh-failover`, state: `${root}/var/lib/ovh-failover/routed`, lock: `${f}/lock/routes.lock` };
        const dirs = [`${root}/etc/ovh-failover`, `${root}/etc/sysctl.d`, `${root}/etc/network`, `${root}/etc/network/if-up.d`, `${root}/var/lib/ovh-failover`, paths.state].join(" ");
        const read = (file: string) => (fs.existsSync(file) ? fs.readFileSync(file, "utf8") : "");
        let shell = 0;
        return {
            run(script: string) {
                let moved = script.replace(/^dirs='.*'$/m, `dirs='${dirs}'`);
                for (const [k, v] of Object.entries(paths)) moved = moved.replace(new RegExp(`^${k}='.*'$`, "m"), `${k}='${v}'`);
                expect(moved).not.toContain("'/etc/");
                const [cmd, ...args] = shells[shell++ % shells.length];
                const r = spawnSync(cmd, [...args, "-c", moved], { encoding: "utf8", env: { PATH: `${f}/bin:/usr/bin:/bin` }, timeout: 60_000 });
                expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
                return r.stdout;
            },
            /** What the host holds now: routes, proxy entries, sysctls, the list and the sysctl.d file. */
            snapshot: () => ({
                routes4: read(`${f}/routes4`), routes6: read(`${f}/routes6`), neigh: read(`${f}/neigh`), list: read(paths.list), conf: read(paths.conf),
                sys: Object.fromEntries(Object.keys(initial).map((k) => [k, read(path.join(f, "sys", k)).trim()])),
            }),
            log: () => read(`${f}/log`),
            clearLog: () => fs.rmSync(`${f}/log`, { force: true }),
            done: () => fs.rmSync(f, { recursive: true, force: true }),
        };
    }

    it("adding IPv6 to a routed IPv4 route, then removing it: the IPv4 route is never touched, and the IPv6 part goes back as it was", () => {
        const h = host();
        try {
            h.run(renderHostRouteCreate(base));
            const v4only = h.snapshot();
            expect(v4only.routes4).toBe("203.0.113.10 dev vmbr2\n");
            h.clearLog();

            h.run(renderHostRouteUpdate(with6));
            const both = h.snapshot();
            expect(both.routes6).toBe("2001:db8::10 dev vmbr2\n");
            expect(both.neigh).toBe(`2001:db8::10 ${uplink}\n`);
            expect(both.sys).toMatchObject({ "net.ipv6.conf.all.forwarding": "1", [`net.ipv6.conf.${uplink}.proxy_ndp`]: "1" });
            expect(both.list).toBe(`203.0.113.10/32 vmbr2 ${uplink} ovh-failover/prod/r1 added\n2001:db8::10/128 vmbr2 ${uplink} ovh-failover/prod/r1 added proxy-added\n`);
            expect(h.log()).not.toMatch(/ip (-4 )?route del|ip_forward=0|proxy_arp=0/);
            h.clearLog();

            const out = h.run(renderHostRouteUpdate(base));
            expect(out).toContain("removed=2001:db8::10/128 dev=vmbr2");
            expect(out).toContain(`removed neighbour proxy 2001:db8::10 dev=${uplink}`);
            // Back to what the IPv4-only route left: the IPv6 sysctls too, and the sysctl.d file.
            expect(h.snapshot()).toEqual(v4only);
            expect(h.log()).not.toMatch(/ip (-4 )?route del|ip_forward=0|proxy_arp=0/);
            h.clearLog();

            // Nothing stale: the same update again changes nothing.
            h.run(renderHostRouteUpdate(base));
            expect(h.snapshot()).toEqual(v4only);
            expect(h.log()).not.toMatch(/ del |sysctl /);
        } finally {
            h.done();
        }
    });

    it("a changed IPv6 address: the old one's route and proxy entry go before the new one's are added, with IPv6 forwarding kept on; another owner's lines stay", () => {
        const h = host();
        const other: HostRouteSpec = { ...base, destination: "203.0.113.20/32", owner: "ovh-failover/prod/r2", destination6: "2001:db8::20", bridgeAddress6: "fe80::1" };
        try {
            const original = h.snapshot();
            h.run(renderHostRouteCreate(with6));
            h.run(renderHostRouteCreate(other));
            h.clearLog();

            const moved: HostRouteSpec = { ...with6, destination6: "2001:db8::30" };
            h.run(renderHostRouteUpdate(moved));
            const after = h.snapshot();
            expect(after.routes6.split("\n").filter(Boolean).sort()).toEqual(["2001:db8::20 dev vmbr2", "2001:db8::30 dev vmbr2"]);
            expect(after.neigh.split("\n").filter(Boolean).sort()).toEqual([`2001:db8::20 ${uplink}`, `2001:db8::30 ${uplink}`]);
            expect(after.list).toContain(`2001:db8::20/128 vmbr2 ${uplink} ovh-failover/prod/r2 added proxy-added`);
            expect(after.list).toContain(`2001:db8::30/128 vmbr2 ${uplink} ovh-failover/prod/r1 added proxy-added`);
            expect(after.list).not.toContain("2001:db8::10/");
            const log = h.log();
            expect(log.indexOf("ip -6 route del 2001:db8::10/128 dev vmbr2")).toBeGreaterThanOrEqual(0);
            expect(log.indexOf("ip -6 route del 2001:db8::10/128 dev vmbr2")).toBeLessThan(log.indexOf("ip -6 route replace 2001:db8::30/128 dev vmbr2"));
            expect(log).not.toMatch(/=0$/m);
            expect(log).not.toMatch(/route del 203\.|2001:db8::20/);

            // Both routes removed to the last: every sysctl back to what the host had before the first.
            h.run(renderHostRouteDelete(other));
            h.run(renderHostRouteUpdate({ ...base }));
            expect(h.snapshot().sys["net.ipv6.conf.all.forwarding"]).toBe("0");
            h.run(renderHostRouteDelete(base));
            expect(h.snapshot()).toEqual(original);
        } finally {
            h.done();
        }
    });

    it("an IPv6 route whose address did not change: the update is create run again, and changes nothing", () => {
        const h = host();
        try {
            h.run(renderHostRouteCreate(with6));
            const before = h.snapshot();
            h.clearLog();
            const out = h.run(renderHostRouteUpdate(with6));
            expect(out).not.toContain("removed");
            expect(h.snapshot()).toEqual(before);
            expect(h.log()).not.toMatch(/ del |sysctl /);
        } finally {
            h.done();
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

    it("with an IPv6 destination: the scripts carry it, canonical as /128, and the replacement triggers stay the IPv4 route's", async () => {
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
        const inputs = cmd!.inputs as { create: string; update: string; triggers: unknown[] };
        const expected: HostRouteSpec = {
            destination: "203.0.113.10/32", bridge: "vmbr2", bridgeAddress: "192.168.0.1", bridgePrefixLength: 24, uplink: "vmbr0", owner: "ovh-failover/unit/r6-route",
            destination6: "2001:db8::10/128", bridgeAddress6: "fe80::1",
        };
        expect(inputs.create).toBe(renderHostRouteCreate(expected));
        expect(inputs.update).toBe(renderHostRouteUpdate(expected));
        // Adding, changing or removing IPv6 is an update: a replacement would delete the IPv4 route first.
        expect(inputs.triggers).toEqual(["198.51.100.20", "203.0.113.10/32 vmbr2 192.168.0.1/24 vmbr0"]);
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
