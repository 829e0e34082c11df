// The rendering of the Public Cloud alias's scripts and files, and the component's wiring under
// Pulumi's mocks. The scripts themselves run against real iproute2, ifupdown, netplan and sshd
// in instanceAlias.integration.test.ts.
import { execFileSync, spawnSync } from "child_process";
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import {
    ALIAS_EXIT, aliasFilePath, aliasId, aliasStatePath, AliasSpec, asRootWithSudo, DEFAULT_PROBE_TARGET, renderAliasCheck, renderAliasCreate, renderAliasDelete, renderAliasFile,
} from "../../../components/cloud/aliasScript";
import { InstanceAlias } from "../../../components/cloud/instanceAlias";
import { ConfigValueError, parseAliasFlavour } from "../../../components/shared/validate";

// CI installs shellcheck from Debian's packages; there it must run.
const hasShellcheck = spawnSync("shellcheck", ["--version"]).status === 0 || process.env.CI === "true";
const HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHpJ2ZE6k3Yx1nJtD3WQy2gq2J7dY1mX8Hc3xqv0r0sV";

const spec: AliasSpec = { address: "203.0.113.60", flavour: "netplan" };

describe("the alias's files", () => {
    it("debian: an ifupdown alias stanza, as OVH's guide writes it, with no gateway; a file name source-directory reads", () => {
        const file = renderAliasFile("debian", "203.0.113.60", "ens3", "ens3:60");
        expect(file.split("\n").filter((l) => !l.startsWith("#"))).toEqual([
            "auto ens3:60", "iface ens3:60 inet static", "    address 203.0.113.60", "    netmask 255.255.255.255", "",
        ]);
        expect(file.split("\n").filter((l) => !l.startsWith("#")).join("\n")).not.toMatch(/gateway/);
        const path = aliasFilePath("debian", "203.0.113.60");
        expect(path).toBe("/etc/network/interfaces.d/60-ovh-failover-203-0-113-60");
        // interfaces(5): source-directory reads only ^[a-zA-Z0-9_-]+$; sorted after cloud-init's 50-cloud-init.
        expect(path.split("/").pop()).toMatch(/^[a-zA-Z0-9_-]+$/);
        expect(["50-cloud-init", path.split("/").pop()!].sort()[1]).toBe(path.split("/").pop());
    });

    it("netplan: the /32 added to the definition named after the interface, nothing else (no dhcp4, no routes): netplan appends it to cloud-init's", () => {
        const file = renderAliasFile("netplan", "203.0.113.60", "ens3", "ens3:60");
        expect(file.split("\n").filter((l) => !l.startsWith("#"))).toEqual([
            "network:", "  version: 2", "  ethernets:", "    ens3:", "      addresses:", "        - 203.0.113.60/32", "",
        ]);
        expect(aliasFilePath("netplan", "203.0.113.60")).toBe("/etc/netplan/60-ovh-failover-203-0-113-60.yaml");
    });

    it("the alias's ID is the last octet; its state lives under the state dir, one per address", () => {
        expect(aliasId("203.0.113.60")).toBe("60");
        expect(aliasStatePath({ address: "203.0.113.60" })).toBe("/var/lib/ovh-failover/instance-alias-203-0-113-60");
        expect(aliasStatePath({ address: "203.0.113.60", stateDir: "/srv/state" })).toBe("/srv/state/instance-alias-203-0-113-60");
        expect(() => aliasStatePath({ address: "203.0.113.60", stateDir: "/srv/a b" })).toThrow(ConfigValueError);
    });

    it("netplan reads the rendered file (netplan generate, when installed)", () => {
        if (spawnSync("sh", ["-c", "command -v netplan"]).status !== 0) return;
        const root = execFileSync("mktemp", ["-d"], { encoding: "utf8" }).trim();
        execFileSync("sh", ["-c", `mkdir -p ${root}/etc/netplan && cat > ${root}/etc/netplan/60.yaml && chmod 600 ${root}/etc/netplan/60.yaml`], { input: renderAliasFile("netplan", "203.0.113.60", "ens3", "ens3:60") });
        execFileSync("netplan", ["generate", "--root-dir", root]);
        expect(execFileSync("sh", ["-c", `cat ${root}/run/systemd/network/10-netplan-ens3.network; rm -rf ${root}`], { encoding: "utf8" })).toContain("Address=203.0.113.60/32");
    });
});

describe("the alias's scripts", () => {
    it("every value reaches the shell quoted, after its validator", () => {
        const create = renderAliasCreate({ ...spec, interfaceName: "ens3", pingTarget: "198.51.100.1" });
        expect(create).toContain("ip='203.0.113.60'");
        expect(create).toContain("want_if='ens3'");
        expect(create).toContain("ping_target='198.51.100.1'");
        expect(create).toContain(`probe='${DEFAULT_PROBE_TARGET}'`);
        expect(create).toContain("file='/etc/netplan/60-ovh-failover-203-0-113-60.yaml'");
        expect(() => renderAliasCreate({ ...spec, interfaceName: "ens3; reboot" })).toThrow(ConfigValueError);
        expect(() => renderAliasCreate({ ...spec, address: "203.0.113.60'" })).toThrow(ConfigValueError);
        expect(() => renderAliasCreate({ ...spec, pingTarget: "$(reboot)" })).toThrow(ConfigValueError);
        expect(() => renderAliasCreate({ ...spec, flavour: "centos" as never })).toThrow(ConfigValueError);
        expect(() => renderAliasCreate({ ...spec, probeTarget: "203.0.113.60" })).toThrow(/the alias itself/);
        expect(() => renderAliasCreate({ ...spec, pingAttempts: 0 })).toThrow(/pingAttempts/);
    });

    it("create adds the /32 with no gateway and no route, and never runs netplan apply, netplan try or an ifup/ifdown of the interface", () => {
        for (const flavour of ["debian", "netplan"] as const) {
            const create = renderAliasCreate({ ...spec, flavour });
            expect(create).toMatch(/ip addr add "\$ip\/32" dev "\$ifname"/);
            expect(create).not.toMatch(/ip (-4 )?route (add|replace|del)/);
            expect(create).not.toMatch(/^\s*(netplan (apply|try)|ifup|ifdown|systemctl restart)\b/m);
            // cloud-init's files and settings are left alone.
            // (named in messages only)
            for (const line of create.split("\n").filter((l) => /50-cloud-init|99-disable-network-config/.test(l))) expect(line).toMatch(/^\s*echo "/);
        }
        expect(renderAliasCreate({ ...spec, flavour: "debian" })).toContain('ip addr add "$ip/32" dev "$ifname" label "$label"');
    });

    it("the proof: the /32 held, a route from it by the interface, and the ping only when a target is given", () => {
        const check = renderAliasCheck(spec);
        expect(check).toContain('ip -4 route get "$probe" from "$ip"');
        expect(check).toContain(`exit ${ALIAS_EXIT.checkFailed}`);
        expect(check).toContain('if [ -n "$ping_target" ]');
        expect(check).toContain("ping_target=''");
        expect(renderAliasCheck({ ...spec, pingTarget: "198.51.100.1", pingAttempts: 3 })).toContain("ping_attempts=3");
        // The check changes nothing on the instance.
        expect(check).not.toMatch(/ip addr (add|del)|mkdir|rm -|mv |cat >/);
    });

    it("delete removes only what the record says the stack added, and with no record touches nothing", () => {
        const del = renderAliasDelete(spec);
        expect(del).toMatch(/if \[ ! -f "\$state\/recorded" \]; then\n\s+echo "no record[^\n]*\n\s+exit 0/);
        expect(del).toContain('if [ "$(cat "$state/address")" = absent ]');
        expect(del).toContain('cp -p "$state/file.original" "$file"');
        expect(del).toContain('elif [ -e "$state/file.absent" ]; then\n  rm -f "$file"');
    });

    it("distinct exit codes, none the shell's own (1, 2, 126, 127) or ssh's (255)", () => {
        const codes = Object.values(ALIAS_EXIT);
        expect(new Set(codes).size).toBe(codes.length);
        for (const c of codes) expect([0, 1, 2, 126, 127, 255]).not.toContain(c);
    });

    it.runIf(hasShellcheck)("create, check and delete, of both flavours, as root and through sudo, pass sh -n and shellcheck", () => {
        for (const flavour of ["debian", "netplan"] as const) {
            for (const render of [renderAliasCreate, renderAliasCheck, renderAliasDelete]) {
                for (const script of [render({ ...spec, flavour, pingTarget: "198.51.100.1" }), asRootWithSudo("debian", render({ ...spec, flavour }))]) {
                    execFileSync("sh", ["-n"], { input: script });
                    execFileSync("shellcheck", ["-s", "sh", "-"], { input: script });
                }
            }
        }
    });

    it("a user other than root goes through sudo -n, refused before anything runs", () => {
        expect(asRootWithSudo("root", "true")).toBe("true");
        const wrapped = asRootWithSudo("debian", "echo it's");
        expect(wrapped).toContain(`sudo -n sh -c : </dev/null 2>/dev/null || {`);
        expect(wrapped).toContain(`exit ${ALIAS_EXIT.noRoot}`);
        expect(wrapped).toContain(`sudo -n sh -c 'echo it'\\''s'`);
        expect(() => asRootWithSudo("Debian; reboot", "true")).toThrow(ConfigValueError);
    });
});

describe("parseAliasFlavour", () => {
    it("netplan or debian, nothing else", () => {
        expect(parseAliasFlavour("netplan")).toBe("netplan");
        expect(parseAliasFlavour("debian")).toBe("debian");
        for (const bad of ["ifupdown", "Netplan", "", 1, undefined]) expect(() => parseAliasFlavour(bad)).toThrow(ConfigValueError);
    });
});

describe("InstanceAlias under Pulumi's mocks", () => {
    const commands: { name: string; inputs: Record<string, unknown> }[] = [];
    beforeAll(async () => {
        await pulumi.runtime.setMocks({
            newResource: (args) => {
                if (args.type === "command:remote:Command") commands.push({ name: args.name, inputs: args.inputs as Record<string, unknown> });
                return { id: `${args.name}-id`, state: { ...args.inputs, stdout: "file=written x\naddress=added 203.0.113.60/32 on ens3\ninterface=ens3\n" } };
            },
            call: () => ({}),
        }, "project", "stack", false);
    });

    const resolve = <T>(o: pulumi.Output<T>) => new Promise<T>((r) => o.apply((v) => { r(v); return v; }));

    it("one remote command: the scripts for its user, the host key checked, the triggers of a replacement, the interface read from the output", async () => {
        const alias = new InstanceAlias("pci", {
            ssh: { host: "198.51.100.20", user: "debian", hostKey: HOST_KEY, privateKey: pulumi.secret("-----BEGIN OPENSSH PRIVATE KEY-----") },
            address: "203.0.113.60",
            pingTarget: "198.51.100.1",
        });
        expect(await resolve(alias.interfaceName)).toBe("ens3");
        const check = await resolve(alias.checkScript);
        expect(check).toContain("sudo -n sh -c");
        expect(check).toContain("ip -4 route get");
        await resolve(alias.applied.create as pulumi.Output<string>);
        const cmd = commands.find((c) => c.name === "pci-alias");
        expect(cmd).toBeDefined();
        const create = String(cmd!.inputs.create);
        expect(create).toContain("sudo -n sh -c");
        expect(create).toContain("flavour='\\''netplan'\\''");
        expect(String(cmd!.inputs.delete)).toContain("no record");
        expect(cmd!.inputs.addPreviousOutputInEnv).toBe(false);
        expect(JSON.stringify(cmd!.inputs.connection)).toContain(HOST_KEY);
        expect(cmd!.inputs.triggers).toEqual(["198.51.100.20", "203.0.113.60", "", "netplan", ""]);
    });

    it("refuses a missing host key, and invalid values, naming the argument", () => {
        const ssh = { host: "198.51.100.20", hostKey: HOST_KEY };
        expect(() => new InstanceAlias("nokey", { ssh: { host: "198.51.100.20" } as never, address: "203.0.113.60" })).toThrow(/ssh.hostKey: required/);
        expect(() => new InstanceAlias("bad1", { ssh, address: "10.0.0.5" })).toThrow(/address: "10.0.0.5" is not valid: expected a public unicast/);
        expect(() => new InstanceAlias("bad2", { ssh, address: "203.0.113.60", interfaceName: "ens3 up" })).toThrow(/interfaceName: "ens3 up" is not valid/);
        expect(() => new InstanceAlias("bad3", { ssh, address: "203.0.113.60", flavour: "centos" as never })).toThrow(/flavour: "centos" is not valid/);
        expect(() => new InstanceAlias("bad4", { ssh: { ...ssh, hostKey: "SHA256:abc" }, address: "203.0.113.60" })).toThrow(/ssh.hostKey/);
        expect(() => new InstanceAlias("bad5", { ssh: { ...ssh, user: "root@x" }, address: "203.0.113.60" })).toThrow(/ssh.user/);
        expect(() => new InstanceAlias("bad6", { ssh, address: "203.0.113.60", pingTarget: "gateway" })).toThrow(/pingTarget/);
    });
});
