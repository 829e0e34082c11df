// The Public Cloud alias's scripts through a real OpenSSH server with Debian's stock
// configuration (test/support/sshLab.ts), with real iproute2, ifupdown and netplan, on an
// "instance": a network namespace whose ens3 has a DHCP-like /32 (dynamic, with a lifetime), an
// on-link route to its gateway and a default route through it, as an OVH Public Cloud instance
// has. Its peer sits in another namespace, "OVH's network", which routes the additional IP to
// the instance (what the attach does). /etc and /var are copy-on-write: the files the scripts
// write stay in the lab.
import { execFileSync, spawnSync } from "child_process";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ALIAS_EXIT, AliasSpec, renderAliasCheck, renderAliasCreate, renderAliasDelete } from "../../../components/cloud/aliasScript";
import { canRunSshLab, SshHost, startSshHost } from "../../support/sshLab";

const runnable = canRunSshLab();
if (!runnable && process.env.CI === "true") throw new Error("the SSH lab needs root, iproute2 and openssh-server in CI");
const hasTools = spawnSync("sh", ["-c", "command -v ifup && command -v ifquery && command -v netplan && command -v ping"]).status === 0;
if (runnable && !hasTools && process.env.CI === "true") throw new Error("the alias tests need ifupdown, netplan.io and iputils-ping (.ci/run installs them)");

const MAIN = "198.51.100.20";
const GATEWAY = "198.51.100.1";
const ALIAS = "203.0.113.60";
const DEBIAN_FILE = "/etc/network/interfaces.d/60-ovh-failover-203-0-113-60";
const NETPLAN_FILE = "/etc/netplan/60-ovh-failover-203-0-113-60.yaml";

// Debian's /etc/network/interfaces as ifupdown installs it, and cloud-init's rendering of a DHCP
// port (cloudinit/net/eni.py, netplan.py): the files the stack must leave as they are.
const INTERFACES = "# interfaces(5) file used by ifup(8) and ifdown(8)\n# Include files from /etc/network/interfaces.d:\nsource /etc/network/interfaces.d/*\n";
const CLOUD_INIT_ENI = "# This file is generated from information provided by the datasource.\nauto lo\niface lo inet loopback\n\nauto ens3\niface ens3 inet dhcp\n";
const cloudInitNetplan = (mac: string) =>
    `# This file is generated from information provided by the datasource.\nnetwork:\n    version: 2\n    ethernets:\n        ens3:\n            dhcp4: true\n            match:\n                macaddress: ${mac}\n            set-name: ens3\n`;

describe.runIf(runnable && hasTools)("the Public Cloud alias through a real sshd, iproute2, ifupdown and netplan", () => {
    let host: SshHost;
    let CLOUD_INIT_NETPLAN: string;
    const net = `ovhf${process.pid}-pcinet`;
    /**
     * Runs a command over SSH, after letting the event loop turn: host.run blocks it, and sshd
     * logs each connection on a pipe this process reads only then (about thirty runs in a row
     * fill it, and sshd stops until it is read).
     */
    const run = async (script: string) => {
        await new Promise((resolve) => setImmediate(resolve));
        return host.run(script);
    };
    const sh = async (script: string) => {
        const r = await run(script);
        expect(r.status, `${script}\n${r.stderr}`).toBe(0);
        return r.stdout;
    };
    const inNet = (...argv: string[]) => spawnSync("ip", ["netns", "exec", net, ...argv], { encoding: "utf8" });

    beforeAll(async () => {
        host = await startSshHost(["ens3"]);
        // ens3's peer goes to OVH's network, which answers as the gateway and routes the
        // instance's address and the additional IP to it.
        execFileSync("ip", ["netns", "add", net]);
        const ip = (...args: string[]) => execFileSync("ip", args, { stdio: ["ignore", "ignore", "pipe"] });
        ip("-n", host.ns, "link", "set", "peer0", "netns", net);
        ip("-n", net, "link", "set", "lo", "up");
        ip("-n", net, "link", "set", "peer0", "up");
        ip("-n", net, "addr", "add", `${GATEWAY}/32`, "dev", "peer0");
        ip("-n", net, "route", "add", `${MAIN}/32`, "dev", "peer0");
        ip("-n", net, "route", "add", `${ALIAS}/32`, "via", MAIN, "dev", "peer0");
        // The instance as DHCP leaves it: a /32 with a lease, the gateway on-link, the default route.
        ip("-n", host.ns, "addr", "add", `${MAIN}/32`, "dev", "ens3", "valid_lft", "86400", "preferred_lft", "86400");
        ip("-n", host.ns, "route", "add", GATEWAY, "dev", "ens3", "proto", "dhcp", "scope", "link", "src", MAIN);
        ip("-n", host.ns, "route", "add", "default", "via", GATEWAY, "dev", "ens3", "proto", "dhcp", "src", MAIN, "metric", "100");
        CLOUD_INIT_NETPLAN = cloudInitNetplan((await sh("cat /sys/class/net/ens3/address")).trim());
        await sh(`mkdir -p /etc/network/interfaces.d /etc/netplan
printf '%s' '${INTERFACES}' > /etc/network/interfaces
printf '%s' '${CLOUD_INIT_ENI}' > /etc/network/interfaces.d/50-cloud-init
printf '%s' '${CLOUD_INIT_NETPLAN}' > /etc/netplan/50-cloud-init.yaml
chmod 0600 /etc/netplan/50-cloud-init.yaml`);
    });
    afterAll(() => {
        host?.stop();
        spawnSync("ip", ["netns", "del", net]);
    });

    /** Addresses (lifetimes dropped: they count down), routes, and every file the alias may touch, with its mode. */
    const snapshot = async () => sh(`ip -4 -o addr show | sed -E 's/(valid|preferred)_lft [^ ]+//g'
ip -4 route show table all
find /etc/network /etc/netplan /var/lib/ovh-failover -printf '%p %m %U\\n' 2>/dev/null | sort
find /etc/network /etc/netplan /var/lib/ovh-failover -type f -exec sha256sum {} + 2>/dev/null | sort`);
    /** "<address>/<prefix> <label>" of each IPv4 address on ens3. */
    const holds = async () => sh(`ip -4 -o addr show dev ens3 | sed -E 's/\\\\.*//' | awk '{ print $4, $NF }'`);
    /** OVH's network pings the additional IP: an answer within 5 s. */
    const pingsAlias = () => inNet("ping", "-n", "-c", "1", "-W", "5", ALIAS).status === 0;
    /** No answer within 1 s (nothing holds the address: the kernel of the instance drops it at once). */
    const silentAlias = () => inNet("ping", "-n", "-c", "1", "-W", "1", ALIAS).status !== 0;

    beforeEach(async () => {
        // Each test starts from the instance as DHCP and cloud-init left it.
        expect(await holds()).not.toContain(ALIAS);
    });

    it("debian (ifupdown): the interface found from the default route, the /32 added and answering, a second apply changes nothing, the file read by ifup at boot, delete restores exactly", async () => {
        const before = await snapshot();
        expect(silentAlias()).toBe(true);
        const spec: AliasSpec = { address: ALIAS, flavour: "debian", pingTarget: GATEWAY };
        const create = await run(renderAliasCreate(spec));
        expect(create.status, create.stderr).toBe(0);
        expect(create.stdout).toContain("interface=ens3");
        expect(create.stdout).toContain(`address=added ${ALIAS}/32 on ens3 (ens3:60)`);
        expect(create.stdout).toContain(`file=written ${DEBIAN_FILE}`);
        expect(create.stdout).toContain(`check=holds ${ALIAS}/32 on ens3, and sends from it`);
        expect(create.stdout).toContain(`check=${GATEWAY} answers ${ALIAS}`);
        expect(await holds()).toContain(`${ALIAS}/32 ens3:60`);
        // The instance keeps its DHCP address and its default route, which the alias does not change.
        expect(await holds()).toContain(`${MAIN}/32 ens3`);
        expect(await sh("ip -4 route show default")).toMatch(new RegExp(`^default via ${GATEWAY} dev ens3 proto dhcp src ${MAIN} metric 100`));
        // Another namespace reaches the alias, and the kernel sends from it.
        expect(pingsAlias()).toBe(true);
        expect(await sh(`ip -4 route get 192.0.2.1 from ${ALIAS}`)).toMatch(new RegExp(`from ${ALIAS} via ${GATEWAY} dev ens3`));
        // cloud-init's files are as they were.
        expect(await sh("cat /etc/network/interfaces.d/50-cloud-init")).toBe(CLOUD_INIT_ENI);
        expect(await sh("cat /etc/network/interfaces")).toBe(INTERFACES);
        expect((await sh(`stat -c %a ${DEBIAN_FILE}`)).trim()).toBe("644");

        const applied = await snapshot();
        const again = await run(renderAliasCreate(spec));
        expect(again.status, again.stderr).toBe(0);
        expect(again.stdout).toContain(`address=kept ${ALIAS}/32 on ens3`);
        expect(again.stdout).toContain(`file=unchanged ${DEBIAN_FILE}`);
        expect(await snapshot()).toBe(applied);

        // The proof alone, as the lead's probe would run it.
        expect((await run(renderAliasCheck(spec))).status).toBe(0);

        // A reboot: the address gone, ifup reads the stanza through /etc/network/interfaces and
        // puts it back as the create did (same address, prefix and label).
        await sh(`ip addr del ${ALIAS}/32 dev ens3`);
        const lost = await run(renderAliasCheck(spec));
        expect(lost.status).toBe(ALIAS_EXIT.checkFailed);
        expect(lost.stderr).toContain(`${ALIAS}/32 is not on ens3`);
        await sh("mkdir -p /run/network && ifup --no-scripts ens3:60");
        expect(await holds()).toContain(`${ALIAS}/32 ens3:60`);
        expect(pingsAlias()).toBe(true);
        expect((await run(renderAliasCheck(spec))).status).toBe(0);

        const del = await run(renderAliasDelete(spec));
        expect(del.status, del.stderr).toBe(0);
        expect(del.stdout).toContain(`address=removed ${ALIAS}/32 from ens3`);
        expect(del.stdout).toContain(`file=removed ${DEBIAN_FILE}`);
        expect(await snapshot()).toBe(before);
        expect(silentAlias()).toBe(true);
        // Run again (a delete retried), it finds no record and touches nothing.
        expect((await run(renderAliasDelete(spec))).stdout).toContain("no record");
        expect(await snapshot()).toBe(before);
    });

    it("netplan: the /32 joins cloud-init's definition (netplan reads both files), answers, a second apply changes nothing, delete restores exactly", async () => {
        const before = await snapshot();
        const spec: AliasSpec = { address: ALIAS, flavour: "netplan", interfaceName: "ens3", pingTarget: GATEWAY };
        const create = await run(renderAliasCreate(spec));
        expect(create.status, create.stderr).toBe(0);
        expect(create.stdout).toContain(`address=added ${ALIAS}/32 on ens3`);
        expect(create.stdout).toContain(`file=written ${NETPLAN_FILE}`);
        expect(await holds()).toContain(`${ALIAS}/32 ens3`);
        expect(pingsAlias()).toBe(true);
        expect((await sh(`stat -c %a ${NETPLAN_FILE}`)).trim()).toBe("600");
        // What the next boot's netplan generate makes of the two files: one definition, DHCP and the /32.
        expect(await sh("netplan get ethernets.ens3")).toMatch(new RegExp(`addresses:\\n- "${ALIAS.replace(/\./g, "\\.")}/32"\\ndhcp4: true`));
        const generated = await sh("r=$(mktemp -d) && mkdir -p $r/etc/netplan && cp /etc/netplan/*.yaml $r/etc/netplan/ && netplan generate --root-dir $r && cat $r/run/systemd/network/*.network && rm -rf $r");
        expect(generated).toContain("DHCP=ipv4");
        expect(generated).toContain(`Address=${ALIAS}/32`);
        expect(generated.match(/\[Match\]/g)).toHaveLength(1);
        expect(await sh("cat /etc/netplan/50-cloud-init.yaml")).toBe(CLOUD_INIT_NETPLAN);

        const applied = await snapshot();
        const again = await run(renderAliasCreate(spec));
        expect(again.status, again.stderr).toBe(0);
        expect(again.stdout).toContain(`file=unchanged ${NETPLAN_FILE}`);
        expect(await snapshot()).toBe(applied);

        const del = await run(renderAliasDelete(spec));
        expect(del.status, del.stderr).toBe(0);
        expect(await snapshot()).toBe(before);
        expect(silentAlias()).toBe(true);
    });

    it.each(["debian", "netplan"] as const)("%s: an IP change as the stack makes it (the old alias deleted first, then the new one created) leaves the instance as the first alias did, the new address in its place; its delete restores it as before", async (flavour) => {
        const NEW_ALIAS = "203.0.113.61";
        execFileSync("ip", ["-n", net, "route", "replace", `${NEW_ALIAS}/32`, "via", MAIN, "dev", "peer0"]);
        /** The snapshot's lines but its digests, and each file's content: what can be compared with the other address swapped in. */
        const comparable = async () => `${(await snapshot()).split("\n").filter((l) => !/^[0-9a-f]{64} /.test(l)).join("\n")}\n${await sh("find /etc/network /etc/netplan /var/lib/ovh-failover -type f 2>/dev/null | sort | while read -r f; do echo \"== $f\"; cat \"$f\"; done")}`;
        const swapped = (text: string) => text.replaceAll(ALIAS, NEW_ALIAS).replaceAll(ALIAS.replaceAll(".", "-"), NEW_ALIAS.replaceAll(".", "-")).replaceAll("ens3:60", "ens3:61");
        const before = await snapshot();
        const old: AliasSpec = { address: ALIAS, flavour, pingTarget: GATEWAY };
        const next: AliasSpec = { ...old, address: NEW_ALIAS };
        expect((await run(renderAliasCreate(old))).status).toBe(0);
        const applied = await comparable();

        const del = await run(renderAliasDelete(old));
        expect(del.status, del.stderr).toBe(0);
        const create = await run(renderAliasCreate(next));
        expect(create.status, create.stderr).toBe(0);
        expect(create.stdout).toContain(`check=${GATEWAY} answers ${NEW_ALIAS}`);
        expect(await holds()).not.toContain(`${ALIAS}/32`);
        expect(await comparable()).toBe(swapped(applied));
        expect(silentAlias()).toBe(true);
        expect(inNet("ping", "-n", "-c", "1", "-W", "5", NEW_ALIAS).status).toBe(0);

        expect((await run(renderAliasDelete(next))).status).toBe(0);
        expect(await snapshot()).toBe(before);
        execFileSync("ip", ["-n", net, "route", "del", `${NEW_ALIAS}/32`]);
    });

    it("an address put there by hand, and a file of that name, are left as they were on delete", async () => {
        await sh(`ip addr add ${ALIAS}/32 dev ens3`);
        const own = "# mine\nauto ens3:60\niface ens3:60 inet static\n    address 203.0.113.60\n    netmask 255.255.255.255\n";
        await sh(`printf '%s' '${own}' > ${DEBIAN_FILE} && chmod 0640 ${DEBIAN_FILE}`);
        const before = await snapshot();
        const spec: AliasSpec = { address: ALIAS, flavour: "debian", interfaceName: "ens3" };
        const create = await run(renderAliasCreate(spec));
        expect(create.status, create.stderr).toBe(0);
        expect(create.stdout).toContain(`address=kept ${ALIAS}/32 on ens3`);
        expect(create.stdout).toContain(`file=written ${DEBIAN_FILE}`);
        expect(await sh(`cat ${DEBIAN_FILE}`)).toContain("written by ovh-failover");

        const del = await run(renderAliasDelete(spec));
        expect(del.status, del.stderr).toBe(0);
        expect(del.stdout).toContain(`address=left ${ALIAS}`);
        expect(del.stdout).toContain(`file=restored ${DEBIAN_FILE}`);
        expect(await snapshot()).toBe(before);
        expect(await sh(`cat ${DEBIAN_FILE}`)).toBe(own);
        await sh(`ip addr del ${ALIAS}/32 dev ens3 && rm ${DEBIAN_FILE}`);
    });

    it("refusals change nothing: a missing interface, another prefix set by hand, netplan with no definition of the interface, a ping target that does not answer (rolled back)", async () => {
        const before = await snapshot();
        const missing = await run(renderAliasCreate({ address: ALIAS, flavour: "debian", interfaceName: "ens9" }));
        expect(missing.status).toBe(ALIAS_EXIT.noInterface);
        expect(missing.stderr).toMatch(/the interface ens9 does not exist on this instance \(ip -o link lists: lo ens3/);
        expect(await snapshot()).toBe(before);

        await sh(`ip addr add ${ALIAS}/24 dev ens3`);
        const withPrefix = await snapshot();
        const other = await run(renderAliasCreate({ address: ALIAS, flavour: "netplan" }));
        expect(other.status).toBe(ALIAS_EXIT.otherPrefix);
        expect(other.stderr).toContain(`${ALIAS} is on ens3 with prefix length /24, not /32`);
        expect(await snapshot()).toBe(withPrefix);
        await sh(`ip addr del ${ALIAS}/24 dev ens3`);

        // netplan with no configuration, then with one that defines another interface only.
        await sh("mv /etc/netplan/50-cloud-init.yaml /etc/netplan/.held");
        const noConfig = await run(renderAliasCreate({ address: ALIAS, flavour: "netplan" }));
        expect(noConfig.status).toBe(ALIAS_EXIT.notPersisted);
        expect(noConfig.stderr).toContain("netplan has no definition named ens3");
        await sh("sed 's/ens3/ens4/g' /etc/netplan/.held > /etc/netplan/50-cloud-init.yaml && chmod 0600 /etc/netplan/50-cloud-init.yaml");
        const otherIf = await run(renderAliasCreate({ address: ALIAS, flavour: "netplan" }));
        expect(otherIf.status).toBe(ALIAS_EXIT.notPersisted);
        expect(otherIf.stderr).toContain("netplan has no definition named ens3");
        await sh("mv /etc/netplan/.held /etc/netplan/50-cloud-init.yaml");
        expect(await snapshot()).toBe(before);

        // Nothing answers at .99: the proof fails, and the create takes back what it did.
        const silent = await run(renderAliasCreate({ address: ALIAS, flavour: "debian", pingTarget: "198.51.100.99", pingAttempts: 1 }));
        expect(silent.status).toBe(ALIAS_EXIT.checkFailed);
        expect(silent.stderr).toContain(`198.51.100.99 did not answer a ping from ${ALIAS}`);
        expect(await snapshot()).toBe(before);
    });

    it("refuses an /etc/network/interfaces that does not read interfaces.d: the alias would not survive a reboot", async () => {
        await sh("printf 'auto lo\\niface lo inet loopback\\n' > /etc/network/interfaces");
        const before = await snapshot();
        const r = await run(renderAliasCreate({ address: ALIAS, flavour: "debian" }));
        const after = await snapshot();
        await sh(`printf '%s' '${INTERFACES}' > /etc/network/interfaces`);
        expect(r.status).toBe(ALIAS_EXIT.notPersisted);
        expect(r.stderr).toContain("does not source /etc/network/interfaces.d");
        expect(after).toBe(before);
    });
});
