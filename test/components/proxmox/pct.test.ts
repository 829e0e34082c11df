import { execFileSync } from "child_process";
import { describe, expect, it } from "vitest";
import { NicSpec, renderCreateScript, renderDeleteScript, renderNetValue, renderUpdateScript } from "../../../components/proxmox/pct";
import { shellQuote } from "../../../components/shared/shell";

const nic: NicSpec = {
    vmid: 101, index: 1, interfaceName: "eth1", bridge: "vmbr0",
    macAddress: "02:00:00:12:34:56", address: "192.0.2.10", prefixLength: 32, gateway: "198.51.100.254",
};

describe("pct rendering", () => {
    it("renders --net1 with bridge, the vMAC, a /32 and the gateway", () => {
        expect(renderNetValue(nic)).toBe("name=eth1,bridge=vmbr0,gw=198.51.100.254,hwaddr=02:00:00:12:34:56,ip=192.0.2.10/32,type=veth");
    });

    it("quotes for the shell", () => {
        expect(shellQuote("it's")).toBe(`'it'\\''s'`);
    });

    for (const [name, render] of [["create", renderCreateScript], ["update", renderUpdateScript], ["delete", renderDeleteScript]] as const) {
        it(`${name} script is valid POSIX sh and targets net1 of 101`, () => {
            const script = render(nic);
            execFileSync("sh", ["-n"], { input: script });
            expect(script).toContain("vmid=101");
            expect(script).toContain("key=net1");
        });
    }

    it("create remembers the previous value; update keeps the first one; delete restores only its own NIC", () => {
        expect(renderCreateScript(nic)).toContain(`pct config "$vmid" | sed -n "s/^$key: //p" > "$state.new"`);
        expect(renderUpdateScript(nic)).toContain("PULUMI_COMMAND_STDOUT");
        const del = renderDeleteScript(nic);
        expect(del).toContain(`grep -qi "hwaddr=$mac"`);
        expect(del).toContain(`pct set "$vmid" "--$key" "$previous"`);
        expect(del).toContain(`pct set "$vmid" --delete "$key"`);
    });
});

// The scripts run against a fake `pct` that keeps one container's config in a file, to show
// what they do to it: this is the behaviour on the Proxmox host, minus Proxmox.
describe("pct scripts against a recorded container config", () => {
    const run = (script: string, config: string, stdout = ""): { config: string; out: string } => {
        const dir = execFileSync("mktemp", ["-d"]).toString().trim();
        const fake = `#!/bin/sh
cfg=${dir}/101.conf
case "$1" in
  config) cat "$cfg" ;;
  status) echo "status: stopped" ;;
  set) shift; shift
       if [ "$1" = --delete ]; then grep -v "^$2: " "$cfg" > "$cfg.new" || true; mv "$cfg.new" "$cfg"
       else k=\${1#--}; grep -v "^$k: " "$cfg" > "$cfg.new" || true; echo "$k: $2" >> "$cfg.new"; mv "$cfg.new" "$cfg"; fi ;;
esac
`;
        execFileSync("sh", ["-c", `mkdir -p ${dir}/bin && cat > ${dir}/bin/pct && chmod +x ${dir}/bin/pct`], { input: fake });
        execFileSync("sh", ["-c", `cat > ${dir}/101.conf`], { input: config });
        const out = execFileSync("sh", ["-s"], { input: script, env: { PATH: `${dir}/bin:/usr/bin:/bin`, PULUMI_COMMAND_STDOUT: stdout, OVH_FAILOVER_STATE_DIR: stateDir } }).toString();
        const after = execFileSync("cat", [`${dir}/101.conf`]).toString();
        execFileSync("rm", ["-rf", dir]);
        return { config: after, out };
    };
    const stateDir = execFileSync("mktemp", ["-d"]).toString().trim();
    const before = "hostname: proxy\nnet0: name=eth0,bridge=vmbr1,ip=10.1.0.100/24\nnet1: name=eth1,bridge=vmbr0,hwaddr=BC:24:11:00:00:01,ip=192.0.2.5/32,gw=198.51.100.254\n";

    it("create sets net1 and reports the old value; delete puts it back", () => {
        const created = run(renderCreateScript(nic), before);
        expect(created.config).toContain(`net1: ${renderNetValue(nic)}`);
        expect(created.config).toContain("net0: name=eth0");
        expect(created.out).toContain("previous=name=eth1,bridge=vmbr0,hwaddr=BC:24:11:00:00:01,ip=192.0.2.5/32,gw=198.51.100.254");
        const deleted = run(renderDeleteScript(nic), created.config, created.out);
        expect(deleted.config).toContain("net1: name=eth1,bridge=vmbr0,hwaddr=BC:24:11:00:00:01,ip=192.0.2.5/32");
    });

    it("a create run again after failing half-way keeps the original value, not its own", () => {
        const first = run(renderCreateScript(nic), before);
        // The run died before Pulumi recorded it: the NIC already has the stack's value.
        const again = run(renderCreateScript(nic), first.config);
        expect(again.out).toContain("previous=name=eth1,bridge=vmbr0,hwaddr=BC:24:11:00:00:01,ip=192.0.2.5/32,gw=198.51.100.254");
        const deleted = run(renderDeleteScript(nic), again.config, again.out);
        expect(deleted.config).toContain("net1: name=eth1,bridge=vmbr0,hwaddr=BC:24:11:00:00:01,ip=192.0.2.5/32");
    });

    it("delete removes a NIC it added, and leaves alone one changed since", () => {
        const fresh = "hostname: proxy\n";
        const created = run(renderCreateScript(nic), fresh);
        expect(run(renderDeleteScript(nic), created.config, created.out).config).not.toContain("net1:");
        const changed = created.config.replace("02:00:00:12:34:56", "02:00:00:99:99:99");
        const kept = run(renderDeleteScript(nic), changed, created.out);
        expect(kept.config).toContain("02:00:00:99:99:99");
        expect(kept.out).toContain("left as it is");
    });
});
