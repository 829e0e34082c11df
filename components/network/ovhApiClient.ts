// The one way this project talks to the OVH API outside the Pulumi provider: the official client
// (@ovhcloud/node-ovh), the endpoint and credentials from the same config keys and environment
// variables as the OVH Pulumi provider, bounded retries with backoff on 5xx and 429, and errors that carry the route and
// OVH's own message. Used by the VirtualMac dynamic provider and by bin/ovh-ipmove.
import type { URL as NodeUrl } from "url";
import { OVH_ENDPOINT_NAMES } from "../shared/validate";

export interface RetryPolicy {
    /** Total attempts for one request, the first included. */
    attempts: number;
    /** Delay before the first retry; doubled at each retry, with jitter. */
    baseDelayMs: number;
    maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 5, baseDelayMs: 1000, maxDelayMs: 15000 };

/** A request with no answer by then counts as no answer (node-ovh's own timeout leaks listeners). */
const REQUEST_TIMEOUT_MS = 30000;

export interface OvhClientOptions {
    /** Connection parameters handed to @ovhcloud/node-ovh. */
    client: Record<string, string | number>;
    /** Where the requests go, for messages. */
    description: string;
}

export type HttpMethod = "GET" | "POST" | "PUT" | "DELETE";

function apiErrorMessage(method: HttpMethod, path: string, status: number | undefined, ovhMessage: string): string {
    return `OVH API ${method} ${path} failed: ${status === undefined ? "no answer" : `HTTP ${status}`}: ${ovhMessage}`;
}

/** An answer from the OVH API that was not a success, or no answer at all (status undefined). */
export class OvhApiError extends Error {
    constructor(
        readonly method: HttpMethod,
        readonly path: string,
        readonly status: number | undefined,
        readonly ovhMessage: string,
    ) {
        super(apiErrorMessage(method, path, status, ovhMessage));
        // Set once more: the dynamic providers' code is serialized, and @pulumi/pulumi's closure
        // serializer (runtime/closure/createClosure.js) rewrites super(...) into __super.call(this, ...),
        // which for Error sets nothing on this: the engine then shows an empty error (seen with the
        // real CLI in test/engine/virtualMac.engine.test.ts). Any Error subclass such code throws
        // sets its message itself.
        this.message = apiErrorMessage(method, path, status, ovhMessage);
        this.name = "OvhApiError";
    }

    /** 429 and 503 mean the request was not processed, so even a POST can be sent again. */
    get notProcessed(): boolean {
        return this.status === 429 || this.status === 503;
    }

    /** The request may or may not have been applied: the caller must look before it retries. */
    get ambiguous(): boolean {
        return this.status === undefined || (this.status >= 500 && !this.notProcessed);
    }

    get retriable(): boolean {
        return this.notProcessed || this.ambiguous;
    }
}

const ENDPOINT_NAMES = OVH_ENDPOINT_NAMES;

/**
 * What the OVH provider is configured with: the stack's `ovh:` config keys, each of which falls
 * back to its environment variable when unset (terraform-provider-ovh `ovh/provider.go`: each
 * field's DefaultFunc is EnvDefaultFunc of its variable; the bridge reads the stack's `ovh:`
 * namespace into those fields).
 */
export interface OvhApiSettings {
    endpoint?: string;
    applicationKey?: string;
    applicationSecret?: string;
    consumerKey?: string;
    clientId?: string;
    clientSecret?: string;
}

/** Each setting, its stack config key and its environment variable. */
export const OVH_SETTINGS: readonly { key: keyof OvhApiSettings; config: string; env: string; secret: boolean }[] = [
    { key: "endpoint", config: "ovh:endpoint", env: "OVH_ENDPOINT", secret: false },
    { key: "applicationKey", config: "ovh:applicationKey", env: "OVH_APPLICATION_KEY", secret: true },
    { key: "applicationSecret", config: "ovh:applicationSecret", env: "OVH_APPLICATION_SECRET", secret: true },
    { key: "consumerKey", config: "ovh:consumerKey", env: "OVH_CONSUMER_KEY", secret: true },
    { key: "clientId", config: "ovh:clientId", env: "OVH_CLIENT_ID", secret: true },
    { key: "clientSecret", config: "ovh:clientSecret", env: "OVH_CLIENT_SECRET", secret: true },
];

/**
 * The client's parameters from the settings, each unset one from its environment variable: an
 * application key, secret and consumer key, or an OAuth2 client id and secret. The endpoint may
 * also be an https URL (https://host[:port]/1.0), for a proxy or a test stand-in.
 */
export function ovhClientOptions(settings: OvhApiSettings, env: NodeJS.ProcessEnv = process.env, fromConfig = true): OvhClientOptions {
    const value = (key: keyof OvhApiSettings) => {
        const s = OVH_SETTINGS.find((x) => x.key === key)!;
        return settings[key] || env[s.env] || undefined;
    };
    const name = (key: keyof OvhApiSettings) => {
        const s = OVH_SETTINGS.find((x) => x.key === key)!;
        return fromConfig ? `${s.config} (or ${s.env})` : s.env;
    };
    const endpoint = value("endpoint") ?? "ovh-eu";
    const client: Record<string, string | number> = {};
    if (/^https:\/\//.test(endpoint)) {
        const url: NodeUrl = new URL(endpoint);
        client.host = url.hostname;
        client.port = url.port ? Number(url.port) : 443;
        client.basePath = url.pathname.replace(/\/$/, "") || "/1.0";
    } else if (ENDPOINT_NAMES.includes(endpoint)) {
        client.endpoint = endpoint;
    } else {
        throw new Error(`${name("endpoint")}=${JSON.stringify(endpoint)} is not valid: expected one of ${ENDPOINT_NAMES.join(", ")} or an https:// URL`);
    }
    const clientId = value("clientId");
    const clientSecret = value("clientSecret");
    if (clientId || clientSecret) {
        if (!clientId || !clientSecret) throw new Error(`OAuth2 credentials need both ${name("clientId")} and ${name("clientSecret")}`);
        client.clientID = clientId;
        client.clientSecret = clientSecret;
    } else {
        const keys = ["applicationKey", "applicationSecret", "consumerKey"] as const;
        const missing = keys.filter((k) => !value(k));
        if (missing.length > 0) {
            throw new Error(`OVH API credentials are missing: set ${missing.map(name).join(", ")}, or ${name("clientId")} and ${name("clientSecret")}, as for the OVH Pulumi provider`);
        }
        client.appKey = value("applicationKey")!;
        client.appSecret = value("applicationSecret")!;
        client.consumerKey = value("consumerKey")!;
    }
    return { client, description: endpoint };
}

/** The client's parameters from the environment alone (ovh-ipmove on an edge node, adopt). */
export function ovhClientOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): OvhClientOptions {
    return ovhClientOptions({}, env, false);
}

interface NodeOvhClient {
    requestPromised(method: string, path: string, params?: object): Promise<unknown>;
}

interface NodeOvhRejection {
    error?: unknown;
    message?: unknown;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class OvhApi {
    private readonly client: NodeOvhClient;

    constructor(
        options: OvhClientOptions = ovhClientOptionsFromEnv(),
        private readonly retry: RetryPolicy = DEFAULT_RETRY,
        private readonly log: (line: string) => void = () => undefined,
    ) {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const createClient = require("@ovhcloud/node-ovh") as (params: object) => NodeOvhClient;
        this.client = createClient({ ...options.client });
    }

    /**
     * One request, retried with exponential backoff while the API answers 429 or 5xx or does not
     * answer. A POST or DELETE is retried only on 429/503, when it was certainly not processed;
     * any other failure of theirs goes to the caller, which must look at the state first.
     */
    async request<T>(method: HttpMethod, path: string, body?: object): Promise<T> {
        const idempotent = method === "GET" || method === "PUT";
        for (let attempt = 1; ; attempt++) {
            try {
                return (await withTimeout(this.client.requestPromised(method, path, body ? { ...body } : {}), REQUEST_TIMEOUT_MS)) as T;
            } catch (raw) {
                const err = toOvhApiError(method, path, raw);
                const again = idempotent ? err.retriable : err.notProcessed;
                if (!again || attempt >= this.retry.attempts) throw err;
                const delay = Math.min(this.retry.maxDelayMs, this.retry.baseDelayMs * 2 ** (attempt - 1));
                const jittered = Math.round(delay * (0.75 + Math.random() * 0.5));
                this.log(`${err.message}; retry ${attempt}/${this.retry.attempts - 1} in ${jittered} ms`);
                await sleep(jittered);
            }
        }
    }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject({ error: `no answer within ${ms / 1000} s` }), ms);
    });
    return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function toOvhApiError(method: HttpMethod, path: string, raw: unknown): OvhApiError {
    if (raw instanceof OvhApiError) return raw;
    const r = (typeof raw === "object" && raw !== null ? raw : { error: raw }) as NodeOvhRejection;
    // node-ovh rejects with { error: <HTTP status or errno or message>, message: <OVH's message> }.
    const status = typeof r.error === "number" && r.error >= 100 ? r.error : undefined;
    const message =
        typeof r.message === "string" && r.message
            ? r.message
            : typeof r.error === "string"
              ? r.error
              : r.error instanceof Error
                ? r.error.message
                : raw instanceof Error
                  ? raw.message
                  : JSON.stringify(r.error ?? raw);
    return new OvhApiError(method, path, status, message);
}

/** Path segments are always encoded: an IP or a MAC in a path must not change the route. */
export function route(template: string, params: Record<string, string | number>): string {
    return template.replace(/\{(\w+)\}/g, (_, name: string) => {
        if (!(name in params)) throw new Error(`route ${template}: no value for {${name}}`);
        return encodeURIComponent(String(params[name]));
    });
}
