// The provider the VirtualMac dynamic resource runs under, carrying the OVH endpoint and
// credentials from the stack's `ovh:` config, as the OVH provider reads them.
//
// A dynamic provider runs in a process of its own and sees only the inputs of the provider
// resource it runs under (@pulumi/pulumi cmd/dynamic-provider: `configure`); the default
// `pulumi-nodejs` provider has none of the `ovh:` keys. This explicit one has them. Its inputs are
// kept in the state like any provider's config, the credentials as secrets (encrypted there).
// A credential rotated in the stack is an update of this provider, never a replacement of a MAC:
// the dynamic provider has no DiffConfig, which the engine takes as no replacement
// (sdk/go/common/resource/plugin/provider_plugin.go DiffConfig, Unimplemented → DiffUnknown).
import * as pulumi from "@pulumi/pulumi";
import { OVH_SETTINGS, OvhApiSettings } from "./ovhApiClient";

export type OvhApiProviderArgs = { [K in keyof OvhApiSettings]?: pulumi.Input<string> };

export class OvhApiProvider extends pulumi.ProviderResource {
    /**
     * Each setting not given here is read from the stack's `ovh:` config; a setting unset in both
     * falls back, in the provider's process, to the OVH provider's environment variable.
     */
    constructor(name: string, args: OvhApiProviderArgs = {}, opts?: pulumi.ResourceOptions) {
        const stack = new pulumi.Config("ovh");
        const inputs: Record<string, pulumi.Input<string>> = {};
        for (const s of OVH_SETTINGS) {
            const key = s.config.slice("ovh:".length);
            const value = args[s.key] ?? (s.secret ? stack.getSecret(key) : stack.get(key));
            if (value === undefined) continue;
            inputs[s.config] = s.secret ? pulumi.secret(value) : value;
        }
        super("pulumi-nodejs", name, inputs, opts);
    }
}
