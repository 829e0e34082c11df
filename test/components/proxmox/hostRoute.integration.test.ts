// HostRoute's scripts on a Proxmox-like host: a real OpenSSH server (Debian's stock
// configuration) in a network namespace of its own, with real iproute2, procps' sysctl and
// util-linux's flock, /etc and /var copy-on-write (test/support/sshLab.ts). The host has an
// uplink (vmbr0, holding a public /24 and the default route, with forwarding on as ifupdown2 sets
// it on a bridge with an address; ICMP redirects ignored, as a hardened host has them), the routed
// bridge (vmbr2, no ports, 192.168.0.1/24), a bridge with no address, and one that is down.
import { ChildProcess, execFileSync, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
    HOST_ROUTE_EXIT, HOST_ROUTE_PATHS, HostRouteSpec, renderHostRouteCreate, renderHostRouteDelete, renderHostRouteProbe, renderHostRouteUpdate, renderIfUpHook,
} from "../../../components/proxmox/hostRouteScript";
import { waitUntil } from "../../support/processes";
import { canRunSshLab, RemoteRun, SshHost, startSshHost } from "../../support/sshLab";

const hasTools = ["sysctl", "flock"].every((t) => spawnSync("sh", ["-c", `command -v ${t}`]).status === 0);
const runnable = canRunSshLab() && hasTools;
if (!runnable && process.env.CI === "true") throw new Error("the SSH lab needs root, iproute2, procps (sysctl), util-linux (flock) and openssh-server in CI");

const BASE: Omit<HostRouteSpec, "destination" | "owner"> = { bridge: "vmbr2", bridgeAddress: "192.168.0.1", bridgePrefixLength: 24, uplink: "vmbr0" };
const route = (destination: string, name: string, over: Partial<HostRouteSpec> = {}): HostRouteSpec => ({ ...BASE, destination, owner: `ovh-failover/lab/${name}`, ...over });

// What the host looks like, as far as the stack may touch it: every IPv4 route of every table,
// ip_forward and each interface's forwarding and proxy_arp, and the folders and files the scripts
// may write (kind, mode, path, and each file's checksum).
const SNAPSHOT = `echo '## routes'; ip -4 route show table all | sort
echo '## sysctls'; for f in /proc/sys/net/ipv4/ip_forward /proc/sys/net/ipv4/conf/*/forwarding /proc/sys/net/ipv4/conf/*/proxy_arp /proc/sys/net/ipv4/conf/*/accept_redirects; do echo "$f $(cat "$f")"; done
echo '## files'
for d in /etc/ovh-failover /etc/sysctl.d /etc/network /var/lib/ovh-failover; do
  if [ -e "$d" ]; then find "$d" -printf '%y %m %p\\n' | sort; find "$d" -type f -exec md5sum {} + | sort; fi
done`;

/** A remote command's end: its status and everything it wrote. */
function finished(child: ChildProcess): Promise<RemoteRun> {
    return new Promise((resolve) => {
        let stdout = "";
        let stderr = "";
        child.stdout?.on("data", (d: Buffer) => (stdout += d.toString()));
        child.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
        child.on("close", (status) => resolve({ status, stdout, stderr }));
    });
}

describe.skipIf(!runnable)("HostRoute on a Proxmox-like host through a real sshd", () => {
    let host: SshHost;
    let base: string;
    // Every remote command runs asynchronously: the test process must keep reading what sshd logs
    // (LogLevel VERBOSE, on a pipe to this process), or sshd blocks on a full pipe mid-session.
    const sh = (script: string): Promise<RemoteRun> => finished(host.spawn(script));
    const ok = async (script: string): Promise<string> => {
        const r = await sh(script);
        expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
        return r.stdout;
    };
    const snapshot = () => ok(SNAPSHOT);
    const routeOf = async (dest: string) => (await ok(`ip -4 route show exact ${dest}`)).trim();
    const sysctl = async (key: string) => (await ok(`sysctl -n ${key}`)).trim();
    const file = (p: string) => ok(`cat ${p} 2>/dev/null || true`);

    beforeAll(async () => {
        host = await startSshHost(["vmbr0"]);
        for (const args of [
            ["ip", "addr", "add", "198.51.100.20/24", "dev", "vmbr0"],
            ["ip", "route", "add", "default", "via", "198.51.100.254", "dev", "vmbr0"],
            ["ip", "link", "add", "vmbr2", "type", "bridge"],
            ["ip", "addr", "add", "192.168.0.1/24", "dev", "vmbr2"],
            ["ip", "link", "set", "vmbr2", "up"],
            ["ip", "link", "add", "vmbr3", "type", "bridge"],
            ["ip", "link", "set", "vmbr3", "up"],
            ["ip", "link", "add", "vmbr4", "type", "bridge"],
            ["ip", "addr", "add", "192.168.4.1/24", "dev", "vmbr4"],
            // ifupdown2 turns forwarding on for a bridge with an address, ip_forward staying 0.
            ["sysctl", "-q", "-w", "net.ipv4.conf.vmbr0.forwarding=1"],
            // A hardened host ignores ICMP redirects; ip_forward going 1 then 0 would turn them back on.
            ["sysctl", "-q", "-w", "net.ipv4.conf.all.accept_redirects=0"],
        ]) host.inNamespace(...args);
        expect(host.inNamespace("sysctl", "-n", "net.ipv4.ip_forward").trim()).toBe("0");
        base = await snapshot();
    });
    afterAll(() => host?.stop());

    it("refuses, each with its own exit code and nothing changed: a missing bridge, a bridge that is down, a bridge without the address, a missing uplink, an address of the host, a route that is not the stack's", async () => {
        const cases: [HostRouteSpec, number, RegExp][] = [
            [route("203.0.113.10", "a", { bridge: "vmbr9" }), HOST_ROUTE_EXIT.noBridge, /bridge vmbr9 does not exist/],
            [route("203.0.113.10", "a", { bridge: "vmbr4", bridgeAddress: "192.168.4.1" }), HOST_ROUTE_EXIT.bridgeDown, /bridge vmbr4 is down/],
            [route("203.0.113.10", "a", { bridge: "vmbr3" }), HOST_ROUTE_EXIT.bridgeWithoutAddress, /bridge vmbr3 does not hold 192\.168\.0\.1\/24 \(it holds: no IPv4 address\)/],
            [route("203.0.113.10", "a", { bridgePrefixLength: 16 }), HOST_ROUTE_EXIT.bridgeWithoutAddress, /does not hold 192\.168\.0\.1\/16 \(it holds: 192\.168\.0\.1\/24\)/],
            [route("203.0.113.10", "a", { uplink: "bond0" }), HOST_ROUTE_EXIT.noUplink, /uplink bond0 does not exist/],
            [route("198.51.100.20/32", "a"), HOST_ROUTE_EXIT.destinationOnHost, /holds an address in 198\.51\.100\.20\/32 \(198\.51\.100\.20\/24 on vmbr0\)/],
            [route("198.51.100.0/24", "a"), HOST_ROUTE_EXIT.destinationOnHost, /holds an address in 198\.51\.100\.0\/24/],
        ];
        for (const [spec, code, message] of cases) {
            const r = await sh(renderHostRouteCreate(spec));
            expect(r.status, r.stderr).toBe(code);
            expect(r.stderr).toMatch(message);
            expect(r.stderr).toMatch(/nothing changed/);
            expect(await snapshot()).toBe(base);
        }
        // Routed by hand (or by another tool) elsewhere: not the stack's to take.
        host.inNamespace("ip", "route", "add", "203.0.113.50/32", "via", "198.51.100.1", "dev", "vmbr0");
        const before = await snapshot();
        const r = await sh(renderHostRouteCreate(route("203.0.113.50/32", "a")));
        expect(r.status, r.stderr).toBe(HOST_ROUTE_EXIT.routedElsewhere);
        expect(r.stderr).toMatch(/203\.0\.113\.50\/32 is already routed on this host, not by the stack \(203\.0\.113\.50 via 198\.51\.100\.1 dev vmbr0/);
        expect(await snapshot()).toBe(before);
        host.inNamespace("ip", "route", "del", "203.0.113.50/32");
        expect(await snapshot()).toBe(base);
    });

    const a = route("203.0.113.10", "a");
    const b = route("203.0.113.16/29", "b");

    it("create: the route dev vmbr2, forwarding and proxy_arp on, the list, the sysctl.d file and the hook; the probe fails before and passes after", async () => {
        const probe = renderHostRouteProbe({ address: "203.0.113.10", bridge: "vmbr2", uplink: "vmbr0" });
        const early = await sh(probe);
        expect(early.status).toBe(1);
        expect(early.stdout).toMatch(/203\.0\.113\.10 is routed elsewhere than dev vmbr2: 203\.0\.113\.10 via 198\.51\.100\.254 dev vmbr0/);
        expect(early.stdout).toMatch(/net\.ipv4\.ip_forward is 0, not 1/);
        expect(early.stdout).toMatch(/proxy_arp of vmbr0 is 0, not 1/);

        const r = await sh(renderHostRouteCreate(a));
        expect(r.status, r.stderr).toBe(0);
        expect(r.stdout).toContain("routed=203.0.113.10/32 dev=vmbr2 kind=added");
        expect(await routeOf("203.0.113.10/32")).toBe("203.0.113.10 dev vmbr2 scope link");
        expect(await sysctl("net.ipv4.ip_forward")).toBe("1");
        expect(await sysctl("net.ipv4.conf.vmbr0.proxy_arp")).toBe("1");
        expect(await file(HOST_ROUTE_PATHS.list)).toBe("203.0.113.10/32 vmbr2 vmbr0 ovh-failover/lab/a added\n");
        expect(await file(HOST_ROUTE_PATHS.sysctlConf)).toMatch(/\nnet\.ipv4\.ip_forward = 1\nnet\/ipv4\/conf\/vmbr0\/proxy_arp = 1\n$/);
        expect(await file(HOST_ROUTE_PATHS.hook)).toBe(renderIfUpHook());
        expect((await ok(`stat -c %a ${HOST_ROUTE_PATHS.hook}`)).trim()).toBe("755");
        // What was there before: ip_forward 0, and each interface's own forwarding (vmbr0's 1).
        const forwarding = await file(`${HOST_ROUTE_PATHS.stateDir}/forwarding.before`);
        expect(forwarding.split("\n").slice(0, 2)).toEqual(["net/ipv4/ip_forward 0", "net/ipv4/conf/all/accept_redirects 0"]);
        expect(forwarding).toContain("net/ipv4/conf/vmbr0/forwarding 1\n");
        expect(forwarding).toContain("net/ipv4/conf/vmbr2/forwarding 0\n");

        const late = await sh(probe);
        expect(late.status, late.stdout).toBe(0);
        expect(late.stdout).toBe("host-route: 203.0.113.10 dev vmbr2, forwarding and proxy_arp on vmbr0: ok\n");
    });

    it("a second route (a block) shares the list and the sysctls; run again, a create changes nothing; another resource cannot claim a destination", async () => {
        const r = await sh(renderHostRouteCreate(b));
        expect(r.status, r.stderr).toBe(0);
        expect(await routeOf("203.0.113.16/29")).toBe("203.0.113.16/29 dev vmbr2 scope link");
        expect(await file(HOST_ROUTE_PATHS.list)).toBe("203.0.113.10/32 vmbr2 vmbr0 ovh-failover/lab/a added\n203.0.113.16/29 vmbr2 vmbr0 ovh-failover/lab/b added\n");
        expect((await file(HOST_ROUTE_PATHS.sysctlConf)).match(/proxy_arp/g)).toHaveLength(1);
        expect((await sh(renderHostRouteProbe({ address: "203.0.113.21", bridge: "vmbr2", uplink: "vmbr0" }))).status).toBe(0);

        const before = await snapshot();
        const again = await sh(renderHostRouteCreate(a));
        expect(again.status, again.stderr).toBe(0);
        expect(await snapshot()).toBe(before);

        const claim = await sh(renderHostRouteCreate(route("203.0.113.10", "c")));
        expect(claim.status, claim.stderr).toBe(HOST_ROUTE_EXIT.claimedByAnother);
        expect(claim.stderr).toMatch(/routed by another HostRoute \(ovh-failover\/lab\/a\)/);
        expect(await snapshot()).toBe(before);
    });

    it("the hook, run as ifupdown2 runs it when the bridge comes up, puts back the routes the kernel dropped; for the uplink, proxy_arp; for any other interface, nothing", async () => {
        host.inNamespace("ip", "link", "set", "vmbr2", "down");
        host.inNamespace("ip", "link", "set", "vmbr2", "up");
        expect(await routeOf("203.0.113.10/32")).toBe("");
        expect(await routeOf("203.0.113.16/29")).toBe("");
        // ifupdown2 runs the file itself, with its environment plus IFACE, MODE and PHASE.
        const hook = (iface: string) => ok(`env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin IFACE=${iface} LOGICAL=${iface} MODE=start PHASE=up ADDRFAM=inet METHOD=static ${HOST_ROUTE_PATHS.hook}`);
        await hook("lo");
        expect(await routeOf("203.0.113.10/32")).toBe("");
        await hook("vmbr2");
        expect(await routeOf("203.0.113.10/32")).toBe("203.0.113.10 dev vmbr2 scope link");
        expect(await routeOf("203.0.113.16/29")).toBe("203.0.113.16/29 dev vmbr2 scope link");

        host.inNamespace("sysctl", "-q", "-w", "net.ipv4.conf.vmbr0.proxy_arp=0");
        await hook("vmbr0");
        expect(await sysctl("net.ipv4.conf.vmbr0.proxy_arp")).toBe("1");
    });

    it("delete of one leaves the other, the shared sysctls and files; delete of the last puts the host back exactly as it was", async () => {
        const d1 = await sh(renderHostRouteDelete(a));
        expect(d1.status, d1.stderr).toBe(0);
        expect(d1.stdout).toContain("removed=203.0.113.10/32 dev=vmbr2");
        expect(await routeOf("203.0.113.10/32")).toBe("");
        expect(await routeOf("203.0.113.16/29")).toBe("203.0.113.16/29 dev vmbr2 scope link");
        expect(await sysctl("net.ipv4.ip_forward")).toBe("1");
        expect(await sysctl("net.ipv4.conf.vmbr0.proxy_arp")).toBe("1");
        expect(await file(HOST_ROUTE_PATHS.list)).toBe("203.0.113.16/29 vmbr2 vmbr0 ovh-failover/lab/b added\n");
        expect((await sh(renderHostRouteProbe({ address: "203.0.113.10", bridge: "vmbr2", uplink: "vmbr0" }))).status).toBe(1);

        // Delete runs again after a failure: nothing of it left, nothing else touched.
        const before = await snapshot();
        const again = await sh(renderHostRouteDelete(a));
        expect(again.status, again.stderr).toBe(0);
        expect(again.stdout).toMatch(/nothing of it to undo/);
        expect(await snapshot()).toBe(before);

        const d2 = await sh(renderHostRouteDelete(b));
        expect(d2.status, d2.stderr).toBe(0);
        expect(d2.stdout).toContain("restored: no route of the stack left on this host");
        expect(await snapshot()).toBe(base);
        // vmbr0's own forwarding came back after ip_forward went back to 0, which zeroes every interface's.
        expect(await sysctl("net.ipv4.conf.vmbr0.forwarding")).toBe("1");
        expect(await sysctl("net.ipv4.conf.vmbr2.forwarding")).toBe("0");
        expect(await sysctl("net.ipv4.conf.all.accept_redirects")).toBe("0");
    });

    it("adopts a route that was there before (OVH's guide's `up ip route add … dev vmbr2`) and leaves it on delete", async () => {
        host.inNamespace("ip", "route", "add", "203.0.113.30/32", "dev", "vmbr2");
        const before = await snapshot();
        const r = await sh(renderHostRouteCreate(route("203.0.113.30", "d")));
        expect(r.status, r.stderr).toBe(0);
        expect(r.stdout).toContain("kind=adopted");
        expect(await file(HOST_ROUTE_PATHS.list)).toBe("203.0.113.30/32 vmbr2 vmbr0 ovh-failover/lab/d adopted\n");
        const d = await sh(renderHostRouteDelete(route("203.0.113.30", "d")));
        expect(d.status, d.stderr).toBe(0);
        expect(d.stdout).toMatch(/was there before the stack: left as it is/);
        expect(await snapshot()).toBe(before);
        host.inNamespace("ip", "route", "del", "203.0.113.30/32");
        expect(await snapshot()).toBe(base);
    });

    it("on a host that forwards and answers proxy ARP already, changes neither and leaves both on at delete", async () => {
        host.inNamespace("sysctl", "-q", "-w", "net.ipv4.ip_forward=1", "net.ipv4.conf.vmbr0.proxy_arp=1");
        const before = await snapshot();
        const r = await sh(renderHostRouteCreate(route("203.0.113.60", "e")));
        expect(r.status, r.stderr).toBe(0);
        // Nothing to record per interface: ip_forward was not turned on by the stack.
        expect(await file(`${HOST_ROUTE_PATHS.stateDir}/forwarding.before`)).toBe("net/ipv4/ip_forward 1\n");
        expect(await file(`${HOST_ROUTE_PATHS.stateDir}/proxy_arp.vmbr0.before`)).toBe("net/ipv4/conf/vmbr0/proxy_arp 1\n");
        const d = await sh(renderHostRouteDelete(route("203.0.113.60", "e")));
        expect(d.status, d.stderr).toBe(0);
        expect(await snapshot()).toBe(before);
        expect(await sysctl("net.ipv4.ip_forward")).toBe("1");
        expect(await sysctl("net.ipv4.conf.vmbr0.proxy_arp")).toBe("1");
        // Back to the host of the other tests (ip_forward 0 zeroes every interface's forwarding: vmbr0's own goes back on).
        host.inNamespace("sysctl", "-q", "-w", "net.ipv4.ip_forward=0", "net.ipv4.conf.vmbr0.proxy_arp=0");
        host.inNamespace("sysctl", "-q", "-w", "net.ipv4.conf.vmbr0.forwarding=1", "net.ipv4.conf.all.accept_redirects=0");
        expect(await snapshot()).toBe(base);
    });

    it("creates and deletes that run side by side wait for each other's lock and lose no line", async () => {
        const specs = ["203.0.113.40/32", "203.0.113.41/32", "203.0.113.42/32"].map((ip, i) => route(ip, `p${i}`));
        // A session holds the lock until its standard input closes.
        const holder = host.spawn(`mkdir -p "$(dirname ${HOST_ROUTE_PATHS.lock})" && exec 9>>${HOST_ROUTE_PATHS.lock} && flock 9 && stat -c 'inode=%i' ${HOST_ROUTE_PATHS.lock} && read -r _`);
        const inode = await new Promise<string>((resolve, reject) => {
            let out = "";
            holder.stdout?.on("data", (d: Buffer) => {
                out += d.toString();
                const m = /inode=(\d+)/.exec(out);
                if (m) resolve(m[1]);
            });
            holder.on("exit", (code) => reject(new Error(`the lock holder exited ${code}`)));
        });
        // Each script, once started, waits in flock: the kernel lists it as a blocked waiter on the lock's inode.
        const waiters = () => fs.readFileSync("/proc/locks", "utf8").split("\n").filter((l) => l.includes("->") && new RegExp(`:${inode} `).test(l)).length;
        const creates = specs.map((s) => finished(host.spawn(renderHostRouteCreate(s))));
        await waitUntil("three creates waiting on the lock", () => (waiters() === 3 ? true : undefined), 60_000, 50);
        expect(await file(HOST_ROUTE_PATHS.list)).toBe("");
        holder.stdin?.end();
        for (const r of await Promise.all(creates)) expect(r.status, r.stderr).toBe(0);
        expect((await file(HOST_ROUTE_PATHS.list)).split("\n").filter(Boolean).sort()).toEqual(specs.map((s) => `${s.destination} vmbr2 vmbr0 ${s.owner} added`).sort());
        for (const s of specs) expect(await routeOf(s.destination)).toBe(`${s.destination.replace(/\/32$/, "")} dev vmbr2 scope link`);

        const deletes = await Promise.all(specs.map((s) => finished(host.spawn(renderHostRouteDelete(s)))));
        for (const r of deletes) expect(r.status, r.stderr).toBe(0);
        expect(deletes.filter((r) => r.stdout.includes("restored: no route of the stack left"))).toHaveLength(1);
        expect(await snapshot()).toBe(base);
    });
});

// IPv6 in routed mode, in a lab of three namespaces: the host (sshd, vmbr0 on the public link with
// the server's /64, vmbr2 holding fe80::1), OVH's router on the other end of vmbr0's link (it
// finds each address of the /64 by neighbour discovery, as OVH's router does), and a guest whose
// veth is a port of vmbr2, holding its address as /128 with fe80::1 as gateway.
// The router's answer is read from its own kernel's neighbour table (what OVH's router does with
// it), not from ndisc6: the host answers a solicitation for a proxied address from its link-local
// address, and ndisc6 drops an answer whose source has another scope than the global target it
// asked for (ndisc6 src/ndisc.c, recvadv: "ensures the response came through the right interface").
const PREFIX6 = "2001:db8:1:4662";
const SNAPSHOT6 = `${SNAPSHOT}
echo '## routes6'; ip -6 route show table all | sort
echo '## proxies6'; ip -6 neigh show proxy | sort
echo '## sysctls6'; for f in /proc/sys/net/ipv6/conf/*/forwarding /proc/sys/net/ipv6/conf/*/force_forwarding /proc/sys/net/ipv6/conf/*/proxy_ndp /proc/sys/net/ipv6/conf/*/accept_ra; do if [ -e "$f" ]; then echo "$f $(cat "$f")"; fi; done`;

describe.skipIf(!runnable || spawnSync("sh", ["-c", "command -v ndisc6"]).status !== 0)("HostRoute's IPv6 on a Proxmox-like host, seen from OVH's router", () => {
    let host: SshHost;
    let base: string;
    const router = `ovhf${process.pid}-r6router`;
    const guest = `ovhf${process.pid}-r6guest`;
    const sh = (script: string): Promise<RemoteRun> => finished(host.spawn(script));
    const ok = async (script: string): Promise<string> => {
        const r = await sh(script);
        expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
        return r.stdout;
    };
    const snapshot = () => ok(SNAPSHOT6);
    const file = (p: string) => ok(`cat ${p} 2>/dev/null || true`);
    const inNs = (ns: string, ...argv: string[]) => spawnSync("ip", ["netns", "exec", ns, ...argv], { encoding: "utf8" });
    const six = (over: Partial<HostRouteSpec> = {}): HostRouteSpec => ({
        ...route("203.0.113.10", "v6"), destination6: `${PREFIX6}::10/128`, bridgeAddress6: "fe80::1", ...over,
    });
    const uplinkMac = () => JSON.parse(host.inNamespace("ip", "-j", "link", "show", "dev", "vmbr0"))[0].address as string;
    const ping = (address: string) => inNs(router, "ping", "-6", "-c", "1", "-W", "2", address);
    // The router's kernel solicits the address afresh (its entry flushed, then a packet to send):
    // the link-layer address it learns, or undefined when nobody answers.
    const solicit = (address: string): string | undefined => {
        inNs(router, "ip", "-6", "neigh", "flush", "dev", "peer0");
        ping(address);
        const entries = JSON.parse(inNs(router, "ip", "-j", "-6", "neigh", "show", address, "dev", "peer0").stdout || "[]") as { lladdr?: string }[];
        return entries[0]?.lladdr;
    };
    // Addresses still in duplicate address detection have no local route yet: the snapshot waits for them.
    const settled = () => waitUntil("no tentative IPv6 address on the host", () => (host.inNamespace("ip", "-6", "addr", "show", "tentative").trim() === "" ? true : undefined), 30_000, 100);
    // The host's public side as ifupdown2 sets it up: the server's /64 on vmbr0, fe80::1 on vmbr2.
    const addHostAddresses = async () => {
        host.inNamespace("ip", "-6", "addr", "replace", `${PREFIX6}::1/64`, "dev", "vmbr0", "nodad");
        host.inNamespace("ip", "-6", "addr", "replace", "fe80::1/64", "dev", "vmbr2", "nodad");
        host.inNamespace("ip", "route", "replace", "default", "via", "198.51.100.254", "dev", "vmbr0", "onlink");
        await settled();
    };

    beforeAll(async () => {
        host = await startSshHost(["vmbr0"]);
        spawnSync("ip", ["netns", "add", router]);
        spawnSync("ip", ["netns", "add", guest]);
        const run = (argv: string[]) => execFileSync("ip", argv);
        run(["-n", host.ns, "link", "set", "peer0", "netns", router]);
        for (const argv of [
            ["-n", router, "link", "set", "lo", "up"],
            ["-n", router, "link", "set", "peer0", "up"],
            ["-n", router, "-6", "addr", "add", `${PREFIX6}::fffe/64`, "dev", "peer0", "nodad"],
            // A bridge's MAC follows its ports unless set: fixed, so is its link-local address.
            ["-n", host.ns, "link", "add", "vmbr2", "address", "02:00:00:00:00:02", "type", "bridge"],
            ["-n", host.ns, "addr", "add", "192.168.0.1/24", "dev", "vmbr2"],
            ["-n", host.ns, "link", "set", "vmbr2", "up"],
            ["-n", host.ns, "link", "add", "veth120i1", "type", "veth", "peer", "name", "eth1"],
            ["-n", host.ns, "link", "set", "eth1", "netns", guest],
            ["-n", host.ns, "link", "set", "veth120i1", "master", "vmbr2", "up"],
            ["-n", guest, "link", "set", "lo", "up"],
            ["-n", guest, "link", "set", "eth1", "up"],
            ["-n", guest, "-6", "addr", "add", `${PREFIX6}::10/128`, "dev", "eth1", "nodad"],
            ["-n", guest, "-6", "route", "add", "default", "via", "fe80::1", "dev", "eth1"],
        ]) run(argv);
        await addHostAddresses();
        base = await snapshot();
    });
    afterAll(() => {
        host?.stop();
        spawnSync("ip", ["netns", "del", router]);
        spawnSync("ip", ["netns", "del", guest]);
    });

    it("refuses, nothing changed: a bridge without the IPv6 gateway, an address the host holds, routes learned from Router Advertisements", async () => {
        const cases: [HostRouteSpec, number, RegExp][] = [
            [six({ bridgeAddress6: "fe80::2" }), HOST_ROUTE_EXIT.bridgeWithoutAddress6, /bridge vmbr2 does not hold fe80::2, the guests' IPv6 gateway \(it holds: .*fe80::1\/64/],
            [six({ destination6: `${PREFIX6}::1` }), HOST_ROUTE_EXIT.destinationOnHost, /this host holds 2001:db8:1:4662::1 \(2001:db8:1:4662::1\/64 on vmbr0\)/],
        ];
        for (const [spec, code, message] of cases) {
            const r = await sh(renderHostRouteCreate(spec));
            expect(r.status, r.stderr).toBe(code);
            expect(r.stderr).toMatch(message);
            expect(r.stderr).toMatch(/nothing changed/);
            expect(await snapshot()).toBe(base);
        }
        host.inNamespace("ip", "-6", "route", "add", "2001:db8:99::/64", "via", "fe80::fffe", "dev", "vmbr0", "proto", "ra");
        const before = await snapshot();
        const r = await sh(renderHostRouteCreate(six()));
        expect(r.status, r.stderr).toBe(HOST_ROUTE_EXIT.raRoutes);
        expect(r.stderr).toMatch(/IPv6 routes from Router Advertisements on vmbr0 : IPv6 forwarding would make the host ignore them \(set accept_ra to 2/);
        expect(await snapshot()).toBe(before);
        host.inNamespace("ip", "-6", "route", "del", "2001:db8:99::/64", "via", "fe80::fffe", "dev", "vmbr0");
        expect(await snapshot()).toBe(base);
    });

    it("create: OVH's router's neighbour solicitation is answered with the uplink's MAC, and its ping reaches the guest's /128 through the host; the probe passes", async () => {
        expect(solicit(`${PREFIX6}::10`)).toBeUndefined();
        expect(ping(`${PREFIX6}::10`).status).not.toBe(0);
        const probe = renderHostRouteProbe({ address: "203.0.113.10", bridge: "vmbr2", uplink: "vmbr0", address6: `${PREFIX6}::10` });
        const early = await sh(probe);
        expect(early.status).toBe(1);
        expect(early.stdout).toMatch(/net\.ipv6\.conf\.all\.forwarding is 0, not 1/);
        expect(early.stdout).toMatch(/proxy_ndp of vmbr0 is 0, not 1/);
        expect(early.stdout).toMatch(/vmbr0 has no neighbour proxy entry for 2001:db8:1:4662::10/);

        const r = await sh(renderHostRouteCreate(six()));
        expect(r.status, r.stderr).toBe(0);
        expect(r.stdout).toContain("routed6=2001:db8:1:4662::10/128 dev=vmbr2 kind=added neighbour=proxy-added");
        expect((await ok(`ip -6 route show exact ${PREFIX6}::10/128`)).trim()).toMatch(/^2001:db8:1:4662::10 dev vmbr2 /);
        expect((await ok("sysctl -n net.ipv6.conf.all.forwarding net.ipv6.conf.vmbr0.proxy_ndp")).split("\n").slice(0, 2)).toEqual(["1", "1"]);
        expect(await file(HOST_ROUTE_PATHS.list)).toBe(`203.0.113.10/32 vmbr2 vmbr0 ovh-failover/lab/v6 added\n${PREFIX6}::10/128 vmbr2 vmbr0 ovh-failover/lab/v6 added proxy-added\n`);
        expect(await file(HOST_ROUTE_PATHS.sysctlConf)).toMatch(/\nnet\.ipv4\.ip_forward = 1\nnet\/ipv4\/conf\/vmbr0\/proxy_arp = 1\nnet\/ipv6\/conf\/all\/forwarding = 1\nnet\/ipv6\/conf\/vmbr0\/proxy_ndp = 1\n$/);
        expect(await file(`${HOST_ROUTE_PATHS.stateDir}/forwarding6.before`)).toMatch(/^net\/ipv6\/conf\/all\/forwarding 0\n(.*\n)*net\/ipv6\/conf\/default\/forwarding 0\n/);

        const answer = await waitUntil("the router's solicitation answered", () => solicit(`${PREFIX6}::10`), 30_000, 200);
        expect(answer.toLowerCase()).toBe(uplinkMac().toLowerCase());
        await waitUntil("the router's ping answered by the guest", () => (ping(`${PREFIX6}::10`).status === 0 ? true : undefined), 30_000, 200);

        const late = await sh(probe);
        expect(late.status, late.stdout).toBe(0);
        expect(late.stdout).toBe("host-route: 203.0.113.10 dev vmbr2, forwarding and proxy_arp on vmbr0: ok\nhost-route: 2001:db8:1:4662::10 dev vmbr2, IPv6 forwarding, proxy_ndp and the neighbour proxy entry on vmbr0: ok\n");

        // Run again, a create changes nothing.
        const before = await snapshot();
        const again = await sh(renderHostRouteCreate(six()));
        expect(again.status, again.stderr).toBe(0);
        expect(await snapshot()).toBe(before);
        // Another resource cannot claim the IPv6 address.
        const claim = await sh(renderHostRouteCreate(six({ destination: "203.0.113.11/32", owner: "ovh-failover/lab/other" })));
        expect(claim.status, claim.stderr).toBe(HOST_ROUTE_EXIT.claimedByAnother);
        expect(claim.stderr).toMatch(/2001:db8:1:4662::10\/128 is routed by another HostRoute \(ovh-failover\/lab\/v6\)/);
        expect(await snapshot()).toBe(before);
    });

    it("the hook puts back what the kernel drops: the /128 when the bridge comes up, the neighbour proxy entry when the uplink does", async () => {
        const hook = (iface: string) => ok(`env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin IFACE=${iface} LOGICAL=${iface} MODE=start PHASE=up ADDRFAM=inet6 METHOD=static ${HOST_ROUTE_PATHS.hook}`);
        const before = await snapshot();
        host.inNamespace("ip", "link", "set", "vmbr2", "down");
        host.inNamespace("ip", "link", "set", "vmbr2", "up");
        host.inNamespace("ip", "link", "set", "vmbr0", "down");
        host.inNamespace("ip", "link", "set", "vmbr0", "up");
        await addHostAddresses();
        expect((await ok(`ip -6 route show exact ${PREFIX6}::10/128`)).trim()).toBe("");
        expect((await ok("ip -6 neigh show proxy")).trim()).toBe("");
        await hook("vmbr2");
        await hook("vmbr0");
        expect(await snapshot()).toBe(before);
        await waitUntil("the guest reachable again", () => (ping(`${PREFIX6}::10`).status === 0 ? true : undefined), 30_000, 200);
    });

    it("with an IPv4-only route beside it: delete of the IPv6 one puts IPv6 forwarding and proxy_ndp back and leaves the IPv4 side; delete of the last puts the host back exactly as it was; the router's solicitation goes unanswered", async () => {
        const v4 = route("203.0.113.16/29", "v4only");
        expect((await sh(renderHostRouteCreate(v4))).status).toBe(0);
        const d1 = await sh(renderHostRouteDelete(six()));
        expect(d1.status, d1.stderr).toBe(0);
        expect(d1.stdout).toContain(`removed=${PREFIX6}::10/128 dev=vmbr2`);
        expect(d1.stdout).toContain(`removed neighbour proxy ${PREFIX6}::10 dev=vmbr0`);
        // No IPv6 line left: IPv6 forwarding and proxy_ndp are back to what they were, the IPv4 side stays.
        expect((await ok("sysctl -n net.ipv6.conf.all.forwarding net.ipv6.conf.vmbr0.proxy_ndp net.ipv4.ip_forward")).split("\n").slice(0, 3)).toEqual(["0", "0", "1"]);
        expect(await file(HOST_ROUTE_PATHS.sysctlConf)).not.toMatch(/ipv6/);
        expect(await file(HOST_ROUTE_PATHS.list)).toBe("203.0.113.16/29 vmbr2 vmbr0 ovh-failover/lab/v4only added\n");
        expect(solicit(`${PREFIX6}::10`)).toBeUndefined();
        expect(ping(`${PREFIX6}::10`).status).not.toBe(0);
        const d2 = await sh(renderHostRouteDelete(v4));
        expect(d2.status, d2.stderr).toBe(0);
        expect(await snapshot()).toBe(base);
    });

    it("an update adds IPv6 to a live IPv4 route, changes its address, then removes it, the IPv4 route never touched; delete puts the host back exactly as it was", async () => {
        const v4 = route("203.0.113.10", "v6");
        const v4Route = async () => (await ok("ip -4 route show exact 203.0.113.10")).trim();
        expect((await sh(renderHostRouteCreate(v4))).status).toBe(0);
        const routed4 = await v4Route();
        expect(routed4).toMatch(/^203\.0\.113\.10 dev vmbr2 /);
        // The IPv4 route is watched for the whole of each update: a delete-first step would show.
        const watch = async (script: string): Promise<RemoteRun> => {
            const monitor = spawn("ip", ["-n", host.ns, "-4", "monitor", "route"], { stdio: ["ignore", "pipe", "ignore"] });
            let events = "";
            monitor.stdout.on("data", (d: Buffer) => (events += d.toString()));
            // Listening once it reports a marker route that comes and goes.
            await waitUntil("ip monitor listening", () => {
                host.inNamespace("ip", "route", "replace", "198.18.0.1/32", "dev", "vmbr2");
                return /198\.18\.0\.1/.test(events) ? true : undefined;
            }, 30_000, 100);
            host.inNamespace("ip", "route", "del", "198.18.0.1/32", "dev", "vmbr2");
            const r = await sh(script);
            monitor.kill();
            expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
            expect(events).not.toMatch(/Deleted .*203\.0\.113\.10/);
            expect(await v4Route()).toBe(routed4);
            return r;
        };

        const added = await watch(renderHostRouteUpdate(six()));
        expect(added.stdout).toContain("routed6=2001:db8:1:4662::10/128 dev=vmbr2 kind=added neighbour=proxy-added");
        await waitUntil("the router's ping answered by the guest", () => (ping(`${PREFIX6}::10`).status === 0 ? true : undefined), 30_000, 200);

        // Another address: the old /128 and its proxy entry go, IPv6 forwarding stays on between the two.
        inNs(guest, "ip", "-6", "addr", "add", `${PREFIX6}::11/128`, "dev", "eth1", "nodad");
        const changed = await watch(renderHostRouteUpdate(six({ destination6: `${PREFIX6}::11/128` })));
        expect(changed.stdout).toContain(`removed=${PREFIX6}::10/128 dev=vmbr2`);
        expect(changed.stdout).toContain(`removed neighbour proxy ${PREFIX6}::10 dev=vmbr0`);
        expect(changed.stdout).not.toMatch(/forwarding.*0/);
        expect((await ok(`ip -6 route show exact ${PREFIX6}::10/128`)).trim()).toBe("");
        expect((await ok("ip -6 neigh show proxy")).trim()).toBe(`${PREFIX6}::11 dev vmbr0 proxy`);
        expect(await file(HOST_ROUTE_PATHS.list)).toBe(`203.0.113.10/32 vmbr2 vmbr0 ovh-failover/lab/v6 added\n${PREFIX6}::11/128 vmbr2 vmbr0 ovh-failover/lab/v6 added proxy-added\n`);
        await waitUntil("the router's ping to the new address answered", () => (ping(`${PREFIX6}::11`).status === 0 ? true : undefined), 30_000, 200);
        expect(solicit(`${PREFIX6}::10`)).toBeUndefined();

        // IPv6 removed: IPv6 forwarding and proxy_ndp are written back, the IPv4 side stays.
        const removed = await watch(renderHostRouteUpdate(v4));
        expect(removed.stdout).toContain(`removed=${PREFIX6}::11/128 dev=vmbr2`);
        expect((await ok("sysctl -n net.ipv6.conf.all.forwarding net.ipv6.conf.vmbr0.proxy_ndp net.ipv4.ip_forward")).split("\n").slice(0, 3)).toEqual(["0", "0", "1"]);
        expect(await file(HOST_ROUTE_PATHS.sysctlConf)).not.toMatch(/ipv6/);
        expect(await file(HOST_ROUTE_PATHS.list)).toBe("203.0.113.10/32 vmbr2 vmbr0 ovh-failover/lab/v6 added\n");
        expect(solicit(`${PREFIX6}::11`)).toBeUndefined();
        // Run again with nothing stale, an update changes nothing.
        const before = await snapshot();
        expect((await sh(renderHostRouteUpdate(v4))).status).toBe(0);
        expect(await snapshot()).toBe(before);

        const d = await sh(renderHostRouteDelete(v4));
        expect(d.status, d.stderr).toBe(0);
        inNs(guest, "ip", "-6", "addr", "del", `${PREFIX6}::11/128`, "dev", "eth1");
        expect(await snapshot()).toBe(base);
    });

    it("a delete rendered before IPv6 was added (an update that failed half-way keeps it in the state) still undoes the IPv6 line the host holds: the host back exactly as it was", async () => {
        const r = await sh(renderHostRouteCreate(six()));
        expect(r.status, r.stderr).toBe(0);
        expect(await file(HOST_ROUTE_PATHS.list)).toContain(`${PREFIX6}::10/128 vmbr2 vmbr0 ovh-failover/lab/v6 added proxy-added`);
        const d = await sh(renderHostRouteDelete(route("203.0.113.10", "v6")));
        expect(d.status, d.stderr).toBe(0);
        expect(d.stdout).toContain(`removed=${PREFIX6}::10/128 dev=vmbr2`);
        expect(d.stdout).toContain(`removed neighbour proxy ${PREFIX6}::10 dev=vmbr0`);
        expect(await snapshot()).toBe(base);
    });

    it("on a host that forwards IPv6, answers proxy NDP and has the neighbour proxy entry already, changes none of them and leaves them at delete", async () => {
        host.inNamespace("sysctl", "-q", "-w", "net.ipv6.conf.all.forwarding=1", "net.ipv6.conf.vmbr0.proxy_ndp=1");
        host.inNamespace("ip", "-6", "neigh", "add", "proxy", `${PREFIX6}::10`, "dev", "vmbr0");
        const before = await snapshot();
        const r = await sh(renderHostRouteCreate(six()));
        expect(r.status, r.stderr).toBe(0);
        expect(r.stdout).toContain("neighbour=proxy-kept");
        expect(await file(`${HOST_ROUTE_PATHS.stateDir}/forwarding6.before`)).toBe("net/ipv6/conf/all/forwarding 1\n");
        const d = await sh(renderHostRouteDelete(six()));
        expect(d.status, d.stderr).toBe(0);
        expect(d.stdout).toMatch(/neighbour proxy entry of 2001:db8:1:4662::10 on vmbr0 was there before the stack: left as it is/);
        expect(await snapshot()).toBe(before);
        // Back to the host of the other tests: all.forwarding 0 zeroes every interface's (their recorded values were 0 too).
        host.inNamespace("ip", "-6", "neigh", "del", "proxy", `${PREFIX6}::10`, "dev", "vmbr0");
        host.inNamespace("sysctl", "-q", "-w", "net.ipv6.conf.all.forwarding=0", "net.ipv6.conf.vmbr0.proxy_ndp=0");
        expect(await snapshot()).toBe(base);
    });
});
