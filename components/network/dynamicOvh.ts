// What a dynamic provider over the OVH API needs from the provider resource it runs under
// (OvhApiProvider): its `ovh:` settings, and a client with the resource's retry bounds. A module of
// its own: the serialized code of a dynamic provider holds every module it uses whole, so a helper
// added to ovhApiClient.ts would change the code, and make an update, of every VirtualMac.
import { DEFAULT_RETRY, OVH_SETTINGS, OvhApi, OvhApiSettings, ovhClientOptions } from "./ovhApiClient";

/**
 * The settings handed to a dynamic provider's `configure`: the provider resource's inputs
 * (@pulumi/pulumi cmd/dynamic-provider), which OvhApiProvider fills from the stack's `ovh:` keys.
 */
export function ovhSettingsFromConfig(config: { get(key: string): string | undefined }): OvhApiSettings {
    return Object.fromEntries(OVH_SETTINGS.map((s) => [s.key, config.get(s.config)]).filter(([, v]) => v)) as OvhApiSettings;
}

/** A client of those settings (each unset one from its environment variable) with the given retry bounds over DEFAULT_RETRY. */
export function ovhApiOf(settings: OvhApiSettings, retry?: { attempts?: number; baseDelayMs?: number }, log?: (line: string) => void): OvhApi {
    return new OvhApi(ovhClientOptions(settings), { ...DEFAULT_RETRY, ...(retry ?? {}) }, log);
}
