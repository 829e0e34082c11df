// The offline plan skips serializing the VirtualMac provider's code (it is not intent, and it is
// slow); `pulumi up` does serialize it, so this test does, with the real closure serializer.
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { virtualMacProvider } from "../../../components/network/virtualMacProvider";

describe("the VirtualMac dynamic provider", () => {
    it("serializes, with the code it calls and the official OVH client", async () => {
        const sf = await pulumi.runtime.serializeFunction(() => virtualMacProvider, { allowSecrets: true });
        expect(sf.text).toContain("createVirtualMac");
        expect(sf.text).toContain("waitForTask");
        expect(sf.text).toContain("@ovhcloud/node-ovh");
        expect(sf.containsSecrets).toBe(false);
    }, 60_000);
});
