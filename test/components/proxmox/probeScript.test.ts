import { execFileSync } from "child_process";
import { describe, expect, it } from "vitest";
import { chosenGateway, renderHostProbeScript } from "../../../components/proxmox/gatewayProbe";
import { renderProbeScript } from "../../../components/proxmox/probeScript";

const probe = renderProbeScript({ interfaceName: "eth1", gateways: ["198.51.100.1", "198.51.100.254"], tries: 3, timeoutSeconds: 5, label: "container 101 net1" });
const host = renderHostProbeScript(101, 1, probe);

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
    });

    // CI installs shellcheck from Debian's packages; there it must run, not be skipped.
    it.runIf(hasShellcheck() || process.env.CI === "true")("passes shellcheck as sh", () => {
        execFileSync("shellcheck", ["-s", "sh", "-"], { input: probe });
        execFileSync("shellcheck", ["-s", "sh", "-"], { input: host });
    });

    it("tries the gateways in the order given and uses both arping flavours", () => {
        expect(probe).toContain("gateways=${PROBE_GATEWAYS:-'198.51.100.1 198.51.100.254'}");
        expect(probe).toContain('arping -q -f -c "$tries" -w "$bound" -I "$iface"'); // iputils
        expect(probe).toContain('arping -q -C 1 -c "$tries" -w "$bound" -i "$iface"'); // Habets
        expect(probe).toContain("REACHABLE|STALE|DELAY)");
    });

    it("reads the chosen gateway from the output", () => {
        expect(chosenGateway("gateway-probe: x eth1 gateway 198.51.100.1: DEAD (...)\ngateway-probe: x eth1 gateway 198.51.100.254: alive\nchosen=198.51.100.254\n")).toBe("198.51.100.254");
        expect(chosenGateway("nothing")).toBeUndefined();
    });

    it("quotes the probe whole into pct exec, so no value becomes shell syntax on the host", () => {
        expect(host).toContain(`out=$(pct exec "$vmid" -- sh -c '#!/bin/sh`);
        expect(host).toContain("DNS is left as it was");
    });
});
