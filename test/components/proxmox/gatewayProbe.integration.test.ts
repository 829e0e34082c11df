// The gateway probe with real packets: network namespaces stand for the Proxmox bridge, OVH's
// gateway and a container with a failover IP (/32 and an on-link route). Linux and root only;
// run by `npm run test:integration` and by CI.
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { renderHostProbeScript } from "../../../components/proxmox/gatewayProbe";
import { renderProbeScript, ROUTE_TARGET } from "../../../components/proxmox/probeScript";
import { busyboxPath, canMakeNamespaces, createLab, GATEWAY, GATEWAY6, Lab, LINK_LOCAL_GATEWAY6, NOTHING_THERE, NOTHING_THERE6, pathWithoutArping, SUBNET } from "../../support/netns";

const root = path.resolve(__dirname, "../../..");
const BOUND = 5;
/** The container's own IPv6 address in the lab (test/support/netns.ts). */
const ADDRESS6 = "2001:db8:1:4662::10";
/** The container's IPv4 address, its failover IP (test/support/netns.ts). */
const ADDRESS = `${SUBNET}.10`;
const probe = (gateways: string[], gateway6?: string, address6 = ADDRESS6) =>
    renderProbeScript({ interfaceName: "eth1", address: ADDRESS, gateways, gateway6, address6: gateway6 && address6, tries: 3, timeoutSeconds: BOUND, label: "container 101 net1" });

// In CI (root) this must run; anywhere else without root it says why it is skipped.
const runnable = canMakeNamespaces();
if (!runnable && process.env.CI === "true") throw new Error("integration tests need root and iproute2 in CI");

describe.runIf(runnable)("gateway probe with real packets", () => {
    let lab: Lab;
    let work: string;
    /** The PATH of each userland the probe runs in; undefined: this machine's (Debian's tools). */
    const paths = new Map<string, string | undefined>();
    const envOf = (userland: string): Record<string, string> => {
        const where = paths.get(userland);
        return where === undefined ? {} : { PATH: where };
    };

    beforeAll(() => {
        expect(spawnSync("sh", ["-c", "command -v arping"]).status, "arping must be installed").toBe(0);
        expect(spawnSync("sh", ["-c", "command -v ndisc6"]).status, "ndisc6 must be installed").toBe(0);
        lab = createLab(`ovhf${process.pid}`, ["101"]);
        work = fs.mkdtempSync(path.join(os.tmpdir(), "ovhf-probe-"));
        paths.set("Debian", undefined);
        paths.set("Debian without arping", pathWithoutArping(path.join(work, "no-arping")));
        paths.set("busybox", busyboxPath(path.join(work, "busybox")));
        paths.set("busybox without arping", busyboxPath(path.join(work, "busybox-no-arping"), { arping: false }));
        // An Alpine container: every tool the probe calls is busybox's, nothing of Debian's.
        const tools = lab.exec("101", "for t in sh ip ping arping awk grep sleep readlink env; do readlink -f \"$(command -v $t)\"; done", { PATH: paths.get("busybox")! });
        expect(new Set(tools.out.trim().split("\n")), tools.out).toEqual(new Set([fs.realpathSync(spawnSync("sh", ["-c", "command -v busybox"], { encoding: "utf8" }).stdout.trim())]));
    });

    /** Runs a setup script in the container with this machine's iproute2; it must succeed. */
    const sh = (script: string) => {
        const r = lab.exec("101", script);
        expect(r.code, r.out).toBe(0);
        return r.out;
    };
    /** The container's default route via another gateway, as a NIC set with it has (the on-link route first). */
    const routeVia = (gw: string) => sh(`ip route replace ${gw} dev eth1 scope link && ip route replace default via ${gw} dev eth1`);
    const restoreRoutes = (gw: string) => {
        lab.restoreRoutes("101");
        lab.exec("101", `ip route del ${gw} dev eth1`);
    };

    afterAll(() => {
        lab?.destroy();
        if (work) fs.rmSync(work, { recursive: true, force: true });
        const left = execFileSync("ip", ["netns", "list"]).toString();
        expect(left).not.toContain(`ovhf${process.pid}`);
    });

    // Each case in a Debian container (iproute2, iputils ping, arping) and in an Alpine one, whose
    // ip, ping and arping are busybox's applets; with arping and without it.
    const modes = [
        { name: "Debian: arping", userland: "Debian", arping: true },
        { name: "Debian: ping + ip neigh", userland: "Debian without arping", arping: false },
        { name: "busybox: arping", userland: "busybox", arping: true },
        { name: "busybox: ping + ip neigh", userland: "busybox without arping", arping: false },
    ] as const;
    for (const mode of modes) {
        const env = () => envOf(mode.userland);

        describe(mode.name, () => {
            it("passes against the .254 gateway", () => {
                const r = lab.exec("101", probe([GATEWAY]), env());
                expect(r.out).toMatch(new RegExp(`gateway ${GATEWAY}: alive \\(${mode.arping ? "arping" : "ip neigh: (REACHABLE|STALE|DELAY)"}`));
                expect(r.out).toContain(`route from ${ADDRESS}: through eth1 via ${GATEWAY}`);
                expect(r.out).toContain(`chosen=${GATEWAY}`);
                expect(r.code, r.out).toBe(0);
            });

            // ARP answers with no route at all: the probe must prove the route, not only ARP.
            it("fails with an empty routing table, saying the route is missing", () => {
                sh("ip -4 route flush table main");
                try {
                    const r = lab.exec("101", probe([GATEWAY]), env());
                    expect(r.code, r.out).toBe(1);
                    expect(r.out).toContain(`route from ${ADDRESS}: DEAD (route missing: nothing routes ${ROUTE_TARGET} from ${ADDRESS}`);
                    expect(r.out).not.toContain("chosen=");
                } finally {
                    lab.restoreRoutes("101");
                }
            });

            it("fails on a second default route through another interface, naming it", () => {
                // A second NIC with a gateway: pve-container gives it a default route too.
                sh("ip link add eth0 type veth peer name eth0p && ip addr add 10.0.0.2/24 dev eth0 && ip link set eth0 up && ip link set eth0p up && ip route append default via 10.0.0.1 dev eth0");
                try {
                    // Today the kernel still sends the failover IP's traffic through eth1.
                    expect(sh(`ip route get ${ROUTE_TARGET} from ${ADDRESS}`)).toContain(`via ${GATEWAY} dev eth1`);
                    const r = lab.exec("101", probe([GATEWAY]), env());
                    expect(r.code, r.out).toBe(1);
                    expect(r.out).toContain(`route from ${ADDRESS}: DEAD (a default route through another interface: default via 10.0.0.1 dev eth0;`);
                    expect(r.out).not.toContain("chosen=");
                } finally {
                    lab.exec("101", "ip link del eth0");
                }
            });

            it("fails when the gateway answers but the default route goes via another", () => {
                routeVia(NOTHING_THERE);
                try {
                    const r = lab.exec("101", probe([GATEWAY]), env());
                    expect(r.code, r.out).toBe(1);
                    expect(r.out).toContain(`gateway ${GATEWAY}: alive`);
                    expect(r.out).toContain(`route from ${ADDRESS}: DEAD (traffic from ${ADDRESS} goes via ${NOTHING_THERE}, not via the gateway ${GATEWAY})`);
                    expect(r.out).not.toContain("chosen=");
                } finally {
                    restoreRoutes(NOTHING_THERE);
                }
            });

            it("fails against .1, where nothing answers, within its bound", () => {
                const r = lab.exec("101", probe([NOTHING_THERE]), env());
                expect(r.code).toBe(1);
                expect(r.out).toContain(`gateway ${NOTHING_THERE}: DEAD`);
                expect(r.out).toContain("no gateway answered");
                expect(r.ms).toBeLessThan((BOUND + 2) * 1000);
            });

            it("picks .254 from the candidates [.1, .254]", () => {
                const r = lab.exec("101", probe([NOTHING_THERE, GATEWAY]), env());
                expect(r.code, r.out).toBe(0);
                expect(r.out.indexOf(`gateway ${NOTHING_THERE}: DEAD`)).toBeLessThan(r.out.indexOf(`gateway ${GATEWAY}: alive`));
                expect(r.out).toContain(`chosen=${GATEWAY}`);
            });

            // Without arping, the entry the first probe left (REACHABLE, then STALE) must not
            // answer for a gateway that is gone.
            it("reports the gateway dead once its link drops mid-way", () => {
                const first = lab.exec("101", probe([GATEWAY]), env());
                expect(first.code, first.out).toBe(0);
                lab.gatewayLink(false);
                try {
                    const r = lab.exec("101", probe([GATEWAY]), env());
                    expect(r.code, r.out).toBe(1);
                    expect(r.out).toMatch(mode.arping ? /DEAD \(arping: no ARP reply/ : /DEAD \(ip neigh: FAILED/);
                } finally {
                    lab.gatewayLink(true);
                }
                // Back: the FAILED entry the dead verdict left (which busybox's ip cannot delete)
                // is not the verdict on the gateway now.
                const back = lab.exec("101", probe([GATEWAY]), env());
                expect(back.code, back.out).toBe(0);
            });
        });
    }

    // IPv6: neighbour discovery of OVH's gateway, outside the container's /64, and of fe80::1.
    // busybox has no ndisc6 applet: there, it is always ping -6 and busybox's ip -6 neigh.
    const modes6 = [
        { name: "Debian: ndisc6", userland: "Debian", ndisc6: true },
        { name: "Debian: ping -6 + ip -6 neigh", userland: "Debian without arping", ndisc6: false },
        { name: "busybox: ping -6 + ip -6 neigh", userland: "busybox", ndisc6: false },
    ] as const;
    for (const mode of modes6) {
        const env = () => envOf(mode.userland);
        const alive = mode.ndisc6 ? "ndisc6: neighbour advertisement" : "ip -6 neigh: (REACHABLE|STALE|DELAY)";

        describe(mode.name, () => {
            it("passes when the IPv4 and the IPv6 gateway both answer", () => {
                const r = lab.exec("101", probe([GATEWAY], GATEWAY6), env());
                expect(r.out).toMatch(new RegExp(`gateway ${GATEWAY6}: alive \\(${alive}`));
                expect(r.out).toContain(`chosen=${GATEWAY}`);
                expect(r.code, r.out).toBe(0);
            });

            it("passes against a link-local gateway (fe80::1), with no route to add", () => {
                const r = lab.exec("101", probe([GATEWAY], LINK_LOCAL_GATEWAY6), env());
                expect(r.out).toMatch(new RegExp(`gateway ${LINK_LOCAL_GATEWAY6}: alive \\(${alive}`));
                expect(r.code, r.out).toBe(0);
            });

            it("fails, within its bound, when the IPv6 gateway does not answer though the IPv4 one does", () => {
                const r = lab.exec("101", probe([GATEWAY], NOTHING_THERE6), env());
                expect(r.code).toBe(1);
                expect(r.out).toContain(`gateway ${GATEWAY}: alive`);
                expect(r.out).toMatch(new RegExp(`gateway ${NOTHING_THERE6}: DEAD \\(${mode.ndisc6 ? "ndisc6: no neighbour advertisement" : "ip -6 neigh: (FAILED|INCOMPLETE|no entry)"}`));
                expect(r.out).toContain(`the IPv6 gateway ${NOTHING_THERE6} did not answer`);
                expect(r.out).not.toContain("chosen=");
                expect(r.ms).toBeLessThan((2 * BOUND + 2) * 1000);
                // The probe leaves no route of its own behind.
                expect(lab.exec("101", `ip -6 route show ${NOTHING_THERE6}`).out.trim()).toBe("");
            });

            it("fails when the NIC does not hold its address, though the gateway answers the link-local one", () => {
                const r = lab.exec("101", probe([GATEWAY], GATEWAY6, "2001:db8:1:4662::77"), env());
                expect(r.code).toBe(1);
                expect(r.out).toContain(`gateway ${GATEWAY6}: DEAD (the NIC does not hold 2001:db8:1:4662::77)`);
            });

            it("fails at once when the NIC's address is a duplicate on the link (DAD failed)", () => {
                const duplicate = "2001:db8:1:4662::99";
                lab.onGateway("-6", "addr", "add", `${duplicate}/64`, "dev", "gw0", "nodad");
                try {
                    lab.exec("101", `ip -6 addr add ${duplicate}/64 dev eth1`);
                    const r = lab.exec("101", probe([GATEWAY], GATEWAY6, duplicate), env());
                    expect(r.code).toBe(1);
                    expect(r.out).toContain(`DEAD (${duplicate} failed duplicate address detection`);
                    expect(r.ms).toBeLessThan((BOUND - 1) * 1000);
                } finally {
                    lab.exec("101", `ip -6 addr del ${duplicate}/64 dev eth1`);
                    lab.onGateway("-6", "addr", "del", `${duplicate}/64`, "dev", "gw0");
                }
            });

            it("waits for a NIC set anew to leave DAD's tentative state before it solicits", () => {
                lab.replug("101");
                expect(lab.exec("101", "ip -6 addr show dev eth1 tentative").out).toContain("tentative");
                const r = lab.exec("101", probe([GATEWAY], GATEWAY6), env());
                // Soliciting from a tentative address fails ("Cannot assign requested address"):
                // without the wait, ndisc6 would fail and the verdict come from the fallback.
                expect(r.out).toMatch(new RegExp(`gateway ${GATEWAY6}: alive \\(${alive}`));
                expect(r.code, r.out).toBe(0);
            });
        });
    }

    /**
     * Stand-ins for the Proxmox host's `pct` (containers are the lab's namespaces, their config a
     * file) and for `ssh` (runs the script here). Returns the folder to put first on PATH.
     */
    function proxmoxHostStandIns(gateway: string, gateway6?: string): string {
        const bin = path.join(work, "bin");
        fs.mkdirSync(bin, { recursive: true });
        const { address, address6 } = lab.containers.get("101")!;
        const six = (option: string) => (gateway6 ? option : "");
        fs.writeFileSync(path.join(work, "101.conf"), `net1: name=eth1,bridge=vmbr0,gw=${gateway},${six(`gw6=${gateway6},`)}hwaddr=02:00:00:00:01:01,ip=${address}/32,${six(`ip6=${address6}/64,`)}type=veth\n`);
        fs.writeFileSync(path.join(bin, "pct"), `#!/bin/sh
cfg="${work}/$2.conf"
case "$1" in
  config) cat "$cfg" ;;
  status) echo "status: running" ;;
  exec) vmid=$2; shift 3; exec ip netns exec "${lab.containers.get("101")!.ns.replace(/101$/, "")}$vmid" "$@" ;;
  set) k=\${3#--}
       old=$(sed -n "s/^$k: .*gw=\\([0-9.]*\\).*/\\1/p" "$cfg"); new=$(printf '%s\\n' "$4" | sed -n 's/.*gw=\\([0-9.]*\\).*/\\1/p')
       # A running container follows a new gateway at once (pve-container src/PVE/LXC.pm, update_ipconfig).
       if [ "$old" != "$new" ]; then
         ip netns exec "${lab.containers.get("101")!.ns}" ip route add "$new" dev eth1 2>/dev/null
         ip netns exec "${lab.containers.get("101")!.ns}" ip route replace default via "$new"
         ip netns exec "${lab.containers.get("101")!.ns}" ip route del "$old" dev eth1 2>/dev/null
       fi
       grep -v "^$k: " "$cfg" > "$cfg.new"; echo "$k: $4" >> "$cfg.new"; mv "$cfg.new" "$cfg" ;;
  *) echo "pct stand-in: $1 not supported" >&2; exit 2 ;;
esac
`, { mode: 0o755 });
        fs.writeFileSync(path.join(bin, "fake-ssh"), `#!/bin/sh\nshift\nexec sh -s\n`, { mode: 0o755 });
        return bin;
    }

    const onHost = (bin: string, script: string) =>
        spawnSync("sh", ["-s"], { input: script, encoding: "utf8", env: { ...process.env, PATH: `${bin}:${process.env.PATH}` } });

    it("on the Proxmox host, a dead gateway fails the step with container, NIC, gateway and what was seen", () => {
        const bin = proxmoxHostStandIns(NOTHING_THERE);
        const r = onHost(bin, renderHostProbeScript(101, 1, probe([NOTHING_THERE]), [NOTHING_THERE]));
        expect(r.status).toBe(1);
        expect(r.stdout).toContain(`gateway-probe: container 101 net1 eth1 gateway ${NOTHING_THERE}: DEAD (arping: no ARP reply`);
        expect(r.stderr).toContain("gateway probe failed in container 101 (net1): DNS is left as it was");
    });

    it("on the Proxmox host, a dead IPv6 gateway fails the step: DNS is left as it was", () => {
        const bin = proxmoxHostStandIns(GATEWAY);
        const r = onHost(bin, renderHostProbeScript(101, 1, probe([GATEWAY], NOTHING_THERE6), [GATEWAY]));
        expect(r.status).toBe(1);
        expect(r.stdout).toContain(`gateway-probe: container 101 net1 eth1 gateway ${NOTHING_THERE6}: DEAD`);
        expect(r.stderr).toContain("gateway probe failed in container 101 (net1): DNS is left as it was");
    });

    it("on the Proxmox host, candidates set the one that answered on the NIC, then prove the route through it", () => {
        const bin = proxmoxHostStandIns(NOTHING_THERE);
        // The NIC starts with the first candidate: so does the container's default route.
        routeVia(NOTHING_THERE);
        try {
            const r = onHost(bin, renderHostProbeScript(101, 1, probe([NOTHING_THERE, GATEWAY]), [NOTHING_THERE, GATEWAY]));
            expect(r.status, r.stderr + r.stdout).toBe(0);
            expect(r.stdout).toContain(`chosen=${GATEWAY}`);
            expect(r.stdout).toContain(`nic-gateway=${GATEWAY}`);
            expect(fs.readFileSync(path.join(work, "101.conf"), "utf8")).toContain(`net1: name=eth1,bridge=vmbr0,gw=${GATEWAY},hwaddr=02:00:00:00:01:01`);
            // Probed again once set: the failover IP's traffic now goes via the one that answered.
            expect(r.stdout.indexOf(`nic-gateway=${GATEWAY}`)).toBeLessThan(r.stdout.indexOf(`route from ${ADDRESS}: through eth1 via ${GATEWAY}`));
            expect(sh("ip route show default").trim()).toBe(`default via ${GATEWAY} dev eth1`);
        } finally {
            restoreRoutes(NOTHING_THERE);
        }
    });

    it("check-gateways reports each endpoint as a Prometheus sample and exits 1 when a gateway is dead", () => {
        const bin = proxmoxHostStandIns(GATEWAY);
        const textfile = path.join(work, "gateways.prom");
        const check = () => spawnSync(process.execPath, ["--import", "tsx", path.join(root, "bin/check-gateways.ts"), "reverse-proxy", "--textfile", textfile], {
            cwd: root,
            encoding: "utf8",
            env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, OVH_FAILOVER_SSH: path.join(bin, "fake-ssh") },
        });

        const up = check();
        expect(up.status, up.stderr).toBe(0);
        const sample = `ovh_failover_gateway_up{stack="reverse-proxy",endpoint="proxy",container="101",nic="net1",gateway="${GATEWAY}"}`;
        expect(up.stdout).toContain(`${sample} 1`);
        expect(fs.readFileSync(textfile, "utf8")).toContain(`${sample} 1`);

        // A NIC with IPv6: a sample for each gateway, and a silent IPv6 gateway alone makes the check fail.
        proxmoxHostStandIns(GATEWAY, GATEWAY6);
        const both = check();
        expect(both.status, both.stderr).toBe(0);
        const sample6 = (gw: string) => `ovh_failover_gateway6_up{stack="reverse-proxy",endpoint="proxy",container="101",nic="net1",gateway="${gw}"}`;
        expect(both.stdout).toContain(`${sample} 1`);
        expect(both.stdout).toContain(`${sample6(GATEWAY6)} 1`);
        proxmoxHostStandIns(GATEWAY, NOTHING_THERE6);
        const silent6 = check();
        expect(silent6.status).toBe(1);
        expect(silent6.stdout).toContain(`${sample} 1`);
        expect(silent6.stdout).toContain(`${sample6(NOTHING_THERE6)} 0`);
        expect(silent6.stderr).toContain(`DEAD: endpoint proxy (container 101 net1) IPv6 gateway ${NOTHING_THERE6}`);

        // The gateway answers, but the failover IP's traffic goes via another: not up.
        proxmoxHostStandIns(GATEWAY);
        routeVia(NOTHING_THERE);
        try {
            const astray = check();
            expect(astray.status).toBe(1);
            expect(astray.stdout).toContain(`${sample} 0`);
            expect(astray.stderr).toContain(`DEAD: endpoint proxy (container 101 net1) gateway ${GATEWAY}:`);
            expect(astray.stderr).toContain(`route from ${ADDRESS}: DEAD (traffic from ${ADDRESS} goes via ${NOTHING_THERE}`);
        } finally {
            restoreRoutes(NOTHING_THERE);
        }

        lab.gatewayLink(false);
        try {
            const down = check();
            expect(down.status).toBe(1);
            expect(down.stdout).toContain(`${sample} 0`);
            expect(down.stderr).toContain(`DEAD: endpoint proxy (container 101 net1) gateway ${GATEWAY}`);
            expect(fs.readFileSync(textfile, "utf8")).toContain(`${sample} 0`);
        } finally {
            lab.gatewayLink(true);
        }
    });
});
