import { execFileSync, spawnSync } from "child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { describe, expect, it } from "vitest";
import { chosenGateway, renderHostProbeScript } from "../../../components/proxmox/gatewayProbe";
import { renderProbeScript } from "../../../components/proxmox/probeScript";
import { writeContainerConfig, writePctStandIn } from "../../support/pctStandIn";

const probe = renderProbeScript({ interfaceName: "eth1", address: "192.0.2.10", gateways: ["198.51.100.1", "198.51.100.254"], tries: 3, timeoutSeconds: 5, label: "container 101 net1" });
const host = renderHostProbeScript(101, 1, probe, ["198.51.100.1", "198.51.100.254"]);
const owned = renderHostProbeScript(101, 1, probe, ["198.51.100.1", "198.51.100.254"], 30);
const probe6 = renderProbeScript({ interfaceName: "eth1", address: "192.0.2.10", gateways: ["198.51.100.254"], gateway6: "2001:db8:1:46ff:ff:ff:ff:ff", address6: "2001:db8:1:4662::10", tries: 3, timeoutSeconds: 5, label: "container 101 net1" });

function hasShellcheck(): boolean {
    try {
        execFileSync("shellcheck", ["--version"]);
        return true;
    } catch {
        return false;
    }
}

describe("gateway probe script", () => {
    it("is valid POSIX sh, in the container and on the host", () => {
        execFileSync("sh", ["-n"], { input: probe });
        execFileSync("sh", ["-n"], { input: host });
        execFileSync("sh", ["-n"], { input: owned });
        execFileSync("sh", ["-n"], { input: probe6 });
    });

    // CI installs shellcheck from Debian's packages; there it must run, not be skipped.
    it.runIf(hasShellcheck() || process.env.CI === "true")("passes shellcheck as sh", () => {
        execFileSync("shellcheck", ["-s", "sh", "-"], { input: probe });
        execFileSync("shellcheck", ["-s", "sh", "-"], { input: host });
        execFileSync("shellcheck", ["-s", "sh", "-"], { input: owned });
        execFileSync("shellcheck", ["-s", "sh", "-"], { input: probe6 });
    });

    it("tries the gateways in the order given and uses each arping with its own flags", () => {
        expect(probe).toContain("gateways=${PROBE_GATEWAYS:-'198.51.100.1 198.51.100.254'}");
        expect(probe).toContain('arping -q -f -c "$tries" -w "$bound" -I "$iface"'); // iputils and busybox
        expect(probe).toContain('arping -q -C 1 -c "$tries" -w "$bound" -i "$iface"'); // Habets
        expect(probe).toContain("*BusyBox*) echo busybox");
        expect(probe).toContain("REACHABLE|STALE|DELAY)");
    });

    // busybox 1.35 (Debian 12) as run here: ip neigh has show and flush, no del; ip addr show
    // takes no "tentative" (networking/libiproute/ipneigh.c, ipaddress.c).
    it("asks busybox's ip (an Alpine container) only what it can do", () => {
        expect(probe).toContain('ip "$2" neigh del "$1" dev "$iface" 2>/dev/null ||\n         ip "$2" neigh flush to "$1" dev "$iface"');
        expect(probe6).not.toMatch(/addr show[^\n]*tentative/);
    });

    it("proves the IPv6 gateway after the IPv4 one, with ndisc6's documented exit statuses, and only when there is one", () => {
        expect(probe6).toContain("gateway6=${PROBE_GATEWAY6-'2001:db8:1:46ff:ff:ff:ff:ff'}");
        // ndisc6(8): 0 an advertisement, 2 none after the tries; 1 (an error) falls back to the neighbour table.
        // Solicited from the NIC's own address, which the container must hold past DAD.
        expect(probe6).toContain('ndisc6 -q -n -1 -r "$tries" -w 1666 -s "$address6" "$1" "$iface"');
        expect(probe6).toContain("address6=${PROBE_ADDRESS6-'2001:db8:1:4662::10'}");
        expect(probe6).toContain('held=$(ip -6 addr show dev "$iface" to "$address6/128"');
        expect(probe6).toMatch(/0\) say "\$1" "alive \(ndisc6[^\n]*\n\s+2\) say "\$1" "DEAD \(ndisc6/);
        expect(probe6.indexOf('if probe "$gw"')).toBeLessThan(probe6.indexOf('probe6 "$gateway6"'));
        expect(probe).toContain("gateway6=${PROBE_GATEWAY6-''}");
    });

    it("proves the route from the NIC's address: through the NIC before any gateway is tried, via the one that answered after", () => {
        expect(probe).toContain("address=${PROBE_ADDRESS:-'192.0.2.10'}");
        expect(probe).toContain("target='192.0.2.1'");
        expect(probe).toContain('route=$(ip -4 route get "$target" from "$address" 2>&1)');
        expect(probe).toContain("ip -4 route show default");
        expect(probe.indexOf("if ! route_check")).toBeLessThan(probe.indexOf('if probe "$gw"'));
        expect(probe.indexOf('if probe "$gw"')).toBeLessThan(probe.indexOf('[ "$via" != "$chosen" ]'));
    });

    it("reads the chosen gateway from the output, only if it is one it was given", () => {
        expect(chosenGateway("gateway-probe: x eth1 gateway 198.51.100.1: DEAD (...)\ngateway-probe: x eth1 gateway 198.51.100.254: alive\nchosen=198.51.100.254\n")).toBe("198.51.100.254");
        expect(chosenGateway("nothing")).toBeUndefined();
        expect(chosenGateway("chosen=203.0.113.9\n", ["198.51.100.254"])).toBeUndefined();
    });

    // The container's root controls what the probe prints: the host must not trust it.
    it.each([
        ["a sed command with the e flag", "chosen=1/;s|.*|touch PWNED|e;#"],
        ["extra NIC options", "chosen=198.51.100.254,link_down=1"],
        ["two answers", "chosen=198.51.100.254\nchosen=198.51.100.1"],
        ["a gateway it was not given", "chosen=203.0.113.9"],
    ])("refuses a forged answer from the container: %s", (_, forged) => {
        const dir = mkdtempSync(join(tmpdir(), "ovhf-forged-"));
        try {
            const conf = join(dir, "101.conf");
            writeFileSync(conf, "net1: name=eth1,bridge=vmbr0,gw=198.51.100.1,hwaddr=02:00:00:00:01:01,ip=192.0.2.10/32,type=veth\n");
            writeFileSync(join(dir, "pct"), `#!/bin/sh
case "$1" in
  status) echo "status: running" ;;
  exec) printf '%b\\n' ${JSON.stringify(forged).replace(/"/g, "'")} ;;
  config) cat ${conf} ;;
  set) echo "$4" > ${dir}/set ;;
esac
`, { mode: 0o755 });
            const r = spawnSync("sh", ["-s"], { input: host, cwd: dir, encoding: "utf8", env: { PATH: `${dir}:/usr/bin:/bin` } });
            expect(r.status).toBe(1);
            expect(r.stderr).toContain("named no gateway it was given to try");
            expect(existsSync(join(dir, "PWNED"))).toBe(false);
            expect(existsSync(join(dir, "set"))).toBe(false);
        } finally {
            rmSync(dir, { recursive: true, force: true });
        }
    });

    it("on a stopped container: pct exec is refused (as pct's lxc-attach refuses it), so the step says the NIC waits for its start, DNS stays, and how to go on", () => {
        const dir = mkdtempSync(join(tmpdir(), "ovhf-stopped-"));
        try {
            const bin = join(dir, "bin");
            writePctStandIn(bin, dir);
            writeContainerConfig(dir, 101, ["net1: name=eth1,bridge=vmbr0,gw=198.51.100.254,hwaddr=02:00:00:00:01:01,ip=192.0.2.10/32,type=veth"], false);
            // The stand-in refuses what pct refuses.
            const exec = spawnSync("pct", ["exec", "101", "--", "true"], { encoding: "utf8", env: { PATH: `${bin}:/usr/bin:/bin` } });
            expect(exec.status).toBe(1);
            expect(exec.stderr).toContain("Failed to get init pid");

            const r = spawnSync("sh", ["-s"], { input: host, encoding: "utf8", env: { PATH: `${bin}:/usr/bin:/bin` } });
            expect(r.status).toBe(3);
            expect(r.stderr).toBe("container 101 is not running: net1 is set for its next start, its gateway is not proved, and DNS is left as it was; start it (pct start 101) and run pulumi up again\n");
            expect(r.stdout).toBe("");
            // Started, it is probed as usual.
            writeContainerConfig(dir, 101, ["net1: name=eth1,bridge=vmbr0,gw=198.51.100.254,hwaddr=02:00:00:00:01:01,ip=192.0.2.10/32,type=veth"], true);
            const started = spawnSync("sh", ["-s"], { input: host, encoding: "utf8", env: { PATH: `${bin}:/usr/bin:/bin` } });
            expect(started.stderr).not.toContain("is not running");
        } finally {
            rmSync(dir, { recursive: true, force: true });
        }
    });

    it.each([
        ["with firewall=1, tried again until pve-firewall has compiled the new MAC and IP in", "firewall=1,", 0, 0],
        ["without a firewall, a dead gateway fails at once", "", 1, 0],
        ["a container that has just started (one the stack owns), tried again until its networking service has configured the NIC", "", 0, 30],
    ])("a probe that fails twice before the gateway answers: %s", (_, firewall, expected, bootPatience) => {
        const host = renderHostProbeScript(101, 1, probe, ["198.51.100.1", "198.51.100.254"], bootPatience);
        const dir = mkdtempSync(join(tmpdir(), "ovhf-firewall-"));
        try {
            const conf = join(dir, "101.conf");
            writeFileSync(conf, `net1: name=eth1,bridge=vmbr0,${firewall}gw=198.51.100.254,hwaddr=02:00:00:00:01:01,ip=192.0.2.10/32,type=veth\n`);
            // The gateway's answers are dropped for the first two probes, as ebtables drops them
            // until pve-firewall's next compile.
            writeFileSync(join(dir, "pct"), `#!/bin/sh
case "$1" in
  status) echo "status: running" ;;
  exec) n=$(cat ${dir}/count 2>/dev/null || echo 0); echo $((n + 1)) > ${dir}/count
        if [ "$n" -lt 2 ]; then echo "gateway-probe: dead"; exit 1; fi; echo chosen=198.51.100.254 ;;
  config) cat ${conf} ;;
  set) echo "$4" > ${dir}/set ;;
esac
`, { mode: 0o755 });
            const r = spawnSync("sh", ["-s"], { input: host, encoding: "utf8", env: { PATH: `${dir}:/usr/bin:/bin` } });
            expect(r.status, r.stderr).toBe(expected);
            // Passed, the one that answered is probed again alone (the route through it): a fourth exec.
            expect(readFileSync(join(dir, "count"), "utf8").trim()).toBe(expected === 0 ? "4" : "1");
        } finally {
            rmSync(dir, { recursive: true, force: true });
        }
    });

    it("sets the gateway that answered without touching the NIC's other options", () => {
        const dir = mkdtempSync(join(tmpdir(), "ovhf-chosen-"));
        try {
            const conf = join(dir, "101.conf");
            writeFileSync(conf, "net1: name=eth1,bridge=vmbr0,firewall=1,gw=198.51.100.1,hwaddr=02:00:00:00:01:01,ip=192.0.2.10/32,tag=5,type=veth\n");
            writeFileSync(join(dir, "pct"), `#!/bin/sh\ncase "$1" in\n  status) echo "status: running" ;;\n  exec) echo "$5" >> ${dir}/execs; echo chosen=198.51.100.254 ;;\n  config) cat ${conf} ;;\n  set) echo "$4" > ${dir}/set ;;\nesac\n`, { mode: 0o755 });
            const r = spawnSync("sh", ["-s"], { input: host, cwd: dir, encoding: "utf8", env: { PATH: `${dir}:/usr/bin:/bin` } });
            expect(r.status, r.stderr).toBe(0);
            expect(readFileSync(join(dir, "set"), "utf8")).toBe("name=eth1,bridge=vmbr0,firewall=1,gw=198.51.100.254,hwaddr=02:00:00:00:01:01,ip=192.0.2.10/32,tag=5,type=veth\n");
            // Then the one that answered alone, set on the NIC: the route through it.
            expect(readFileSync(join(dir, "execs"), "utf8")).toBe("PROBE_GATEWAYS=\nPROBE_GATEWAYS=198.51.100.254\n");
        } finally {
            rmSync(dir, { recursive: true, force: true });
        }
    });

    it("fails the step when the one that answered, once set, does not carry the route", () => {
        const dir = mkdtempSync(join(tmpdir(), "ovhf-reprobe-"));
        try {
            const conf = join(dir, "101.conf");
            writeFileSync(conf, "net1: name=eth1,bridge=vmbr0,gw=198.51.100.1,hwaddr=02:00:00:00:01:01,ip=192.0.2.10/32,type=veth\n");
            writeFileSync(join(dir, "pct"), `#!/bin/sh\ncase "$1" in\n  status) echo "status: running" ;;\n  exec) case "$5" in PROBE_GATEWAYS=) echo chosen=198.51.100.254 ;; *) echo "route: DEAD"; exit 1 ;; esac ;;\n  config) cat ${conf} ;;\n  set) echo "$4" > ${dir}/set ;;\nesac\n`, { mode: 0o755 });
            const r = spawnSync("sh", ["-s"], { input: host, cwd: dir, encoding: "utf8", env: { PATH: `${dir}:/usr/bin:/bin` } });
            expect(r.status).toBe(1);
            expect(r.stderr).toContain("gateway probe failed in container 101 (net1) through 198.51.100.254, the gateway that answered: DNS is left as it was");
        } finally {
            rmSync(dir, { recursive: true, force: true });
        }
    });

    it("quotes the probe whole into pct exec, so no value becomes shell syntax on the host", () => {
        expect(host).toContain(`out=$(pct exec "$vmid" -- env PROBE_GATEWAYS="$1" sh -c '#!/bin/sh`);
        expect(host).toContain("DNS is left as it was");
    });
});
