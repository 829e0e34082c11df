import { describe, expect, it } from "vitest";
import { parseRecordName } from "../../../components/dns/records";
import * as v from "../../../components/shared/validate";

const bad = (fn: (x: unknown) => unknown, value: unknown, expected: RegExp) => {
    expect(() => fn(value)).toThrow(v.ConfigValueError);
    expect(() => fn(value)).toThrow(expected);
};

describe("validators", () => {
    it("IPv4: dotted quads, canonical, public or documentation ranges", () => {
        expect(v.parsePublicIpv4("192.0.2.10")).toBe("192.0.2.10");
        expect(v.parsePublicIpv4("51.38.1.2")).toBe("51.38.1.2");
        bad(v.parsePublicIpv4, "192.0.2.300", /IPv4 address/);
        bad(v.parsePublicIpv4, "192.0.2", /IPv4 address/);
        bad(v.parsePublicIpv4, "192.0.2.010", /IPv4 address/);
        bad(v.parsePublicIpv4, "10.1.0.100", /public unicast.*private/);
        bad(v.parsePublicIpv4, 42, /IPv4 address/);
    });

    it("CIDR for private NICs", () => {
        expect(v.parseIpv4Cidr("10.1.0.100/24")).toEqual({ address: "10.1.0.100", prefixLength: 24 });
        bad(v.parseIpv4Cidr, "10.1.0.100", /prefix length/);
        bad(v.parseIpv4Cidr, "10.1.0.100/33", /prefix length/);
    });

    it("routed destinations: an additional IP or a block's first address, public, /16 to /32, in CIDR form", () => {
        expect(v.parseRoutedDestination("203.0.113.10")).toBe("203.0.113.10/32");
        expect(v.parseRoutedDestination("203.0.113.10/32")).toBe("203.0.113.10/32");
        expect(v.parseRoutedDestination("203.0.113.8/29")).toBe("203.0.113.8/29");
        expect(v.parseRoutedDestination("51.38.0.0/16")).toBe("51.38.0.0/16");
        bad(v.parseRoutedDestination, "203.0.113.9/29", /not the first address of its \/29 \(203\.0\.113\.8\/29\)/);
        bad(v.parseRoutedDestination, "51.0.0.0/15", /from \/16 to \/32/);
        bad(v.parseRoutedDestination, "203.0.113.10/33", /from \/16 to \/32/);
        bad(v.parseRoutedDestination, "203.0.113.10/", /additional IP/);
        bad(v.parseRoutedDestination, "203.0.113.10/32/1", /additional IP/);
        bad(v.parseRoutedDestination, "203.0.113.10/+8", /additional IP/);
        bad(v.parseRoutedDestination, "192.168.0.0/24", /public unicast/);
        bad(v.parseRoutedDestination, 42, /additional IP/);
    });

    it("IPv4 prefix lengths, host interfaces, owner tags", () => {
        expect(v.parsePrefixLength4(24)).toBe(24);
        expect(v.parsePrefixLength4("32")).toBe(32);
        bad(v.parsePrefixLength4, 0, /1 to 32/);
        bad(v.parsePrefixLength4, 24.5, /1 to 32/);
        expect(v.parseHostInterface("vmbr0")).toBe("vmbr0");
        expect(v.parseHostInterface("bond0.100")).toBe("bond0.100");
        bad(v.parseHostInterface, "all", /not "all"/);
        bad(v.parseHostInterface, "default", /not "default"/);
        bad(v.parseHostInterface, "lo", /loopback/);
        bad(v.parseHostInterface, "vmbr0/x", /bridge name/);
        expect(v.parseOwnerTag("ovh-failover/prod/r1-route")).toBe("ovh-failover/prod/r1-route");
        bad(v.parseOwnerTag, "a b", /owner tag/);
        bad(v.parseOwnerTag, "/abs", /owner tag/);
        bad(v.parseOwnerTag, "x".repeat(201), /owner tag/);
    });

    it("MAC: colon form, unicast, lower-cased", () => {
        expect(v.parseMac("02:00:00:AB:cd:EF")).toBe("02:00:00:ab:cd:ef");
        bad(v.parseMac, "02-00-00-ab-cd-ef", /MAC address/);
        bad(v.parseMac, "02:00:00:ab:cd", /MAC address/);
        bad(v.parseMac, "01:00:5e:00:00:01", /unicast/);
    });

    it("vmid, NIC index, bridge, interface", () => {
        expect(v.parseVmid(101)).toBe(101);
        expect(v.parseVmid("101")).toBe(101);
        bad(v.parseVmid, 99, /100 to 999999999/);
        bad(v.parseVmid, 1.5, /vmid/);
        expect(v.parseNicIndex(1)).toBe(1);
        bad(v.parseNicIndex, 32, /0 to 31/);
        bad(v.parseNicIndex, -1, /0 to 31/);
        expect(v.parseBridge("vmbr0")).toBe("vmbr0");
        bad(v.parseBridge, "vmbr 0", /bridge name/);
        bad(v.parseBridge, "averyveryverylongbridge", /15 characters/);
        bad(v.parseInterfaceName, "eth/1", /interface name/);
    });

    it("TTL: 0 or at least 60", () => {
        expect(v.parseTtl(0)).toBe(0);
        expect(v.parseTtl(60)).toBe(60);
        expect(v.parseTtl("300")).toBe(300);
        bad(v.parseTtl, 30, /0 \(the zone's default\) or from 60/);
        bad(v.parseTtl, -5, /TTL/);
        bad(v.parseTtl, "5m", /TTL/);
    });

    it("DNS names (RFC 1035 lengths and characters)", () => {
        expect(v.parseZoneName("Example.ORG")).toBe("example.org");
        bad(v.parseZoneName, "localhost", /at least two labels/);
        bad(v.parseZoneName, "exa_mple.org", /labels of letters/);
        expect(parseRecordName("@", "example.org")).toBe("");
        expect(parseRecordName("WWW", "example.org")).toBe("www");
        expect(parseRecordName("*.dev", "example.org")).toBe("*.dev");
        expect(parseRecordName("_dmarc", "example.org")).toBe("_dmarc");
        bad((x) => parseRecordName(x, "example.org"), "-bad", /labels of letters/);
        bad((x) => parseRecordName(x, "example.org"), "a".repeat(64), /1 to 63 characters/);
        bad((x) => parseRecordName(x, "example.org"), "www.example.org.", /relative to example\.org/);
        bad((x) => parseRecordName(x, "example.org"), "a.*", /"\*" only as the first label/);
        const long = Array.from({ length: 5 }, () => "a".repeat(60)).join(".");
        bad((x) => parseRecordName(x, "example.org"), long, /at most 253 characters/);
        expect(v.parseFqdn("Proxy1.example.org.")).toBe("proxy1.example.org.");
        bad(v.parseFqdn, "proxy1.example.org", /trailing dot/);
    });

    it("virtual MAC types are dedicated.server.VmacTypeEnum", () => {
        expect(v.parseVirtualMacType("vmware")).toBe("vmware");
        bad(v.parseVirtualMacType, "kvm", /ovh, vmware/);
    });

    it("formats issues with key, value and expectation", () => {
        const err = new v.ConfigError([{ key: "endpoints.proxy.ip", value: "1.2.3", expected: "an IPv4 address" }]);
        expect(err.message).toContain('endpoints.proxy.ip: "1.2.3" is not valid: expected an IPv4 address');
        expect(err.message).toMatch(/^invalid stack configuration \(1 problem\)/);
    });
});
