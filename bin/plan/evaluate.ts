// Runs the program once under the Pulumi SDK's mock runtime and records every resource it declares
// (URN, inputs, parent, dependencies, protect). The mock runtime is the process's own: one
// evaluation per process. bin/plan.ts runs one in its own process when it needs one, or starts
// this file as a child for each when it compares two. Needs no CLI, no credentials, no network.
import { createHash, createHmac } from "crypto";
import * as fs from "fs";
import * as pulumi from "@pulumi/pulumi";
import type { MockCallArgs, MockResourceArgs } from "@pulumi/pulumi/runtime";
import { dot254, ovhGateway6 } from "../../components/proxmox/gateway";
import { Ipv6Prefix, parseIpv6Prefix, prefixText } from "../../components/shared/ipv6";
import { DeclaredResource, engineUrn, Evaluation, InvokeRecord, knownAfterApply, ProviderReference, SIG, UNKNOWN_TEXT, VIRTUAL_MAC_TYPE } from "./model";

/** { PULUMI_CONFIG, PULUMI_CONFIG_SECRET_KEYS } as Pulumi would put them in the environment. */
export interface ConfigEnvironment {
    PULUMI_CONFIG: string;
    PULUMI_CONFIG_SECRET_KEYS: string;
}

export interface EvaluationJob {
    project: string;
    stack: string;
    /** The project's folder (Pulumi.yaml's). */
    root: string;
    /** The program's entry: JavaScript, or TypeScript (run through tsx, as Pulumi's ts-node would). */
    main: string;
    /** The child's result file (a child evaluation only). */
    output?: string;
    /** A file holding the ConfigEnvironment (a child: a stack of hundreds of endpoints is larger than an environment variable may be). */
    configFile?: string;
    config?: ConfigEnvironment;
    /** Servers' facts for the offline answer of getServerSpecificationsNetwork, by service name. */
    servers: Record<string, OfflineServerFacts>;
    /** Keys the secrets' tokens, so that two evaluations can compare them; never printed. */
    secretKey: string;
}

interface RegisterRequest {
    getType(): string;
    getName(): string;
    getParent(): string;
    getCustom(): boolean;
    getProtect(): boolean | undefined;
    getDependenciesList(): string[];
    getDeletebeforereplace(): boolean;
    getDeletebeforereplacedefined(): boolean;
    getRetainondelete(): boolean | undefined;
    getIgnorechangesList(): string[];
    getReplaceonchangesList(): string[];
    getImportid(): string;
    getObject(): { toJavaScript(): Record<string, unknown> } | undefined;
    getProvider(): string;
    getVersion(): string;
    getPlugindownloadurl(): string;
    getPropertydependenciesMap(): { forEach(f: (deps: { getUrnsList(): string[] }, key: string) => void): void };
    getAdditionalsecretoutputsList(): string[];
}

interface Monitor {
    registerResource(req: RegisterRequest, callback: (err: unknown, resp?: { getUrn(): string }) => void): void;
    registerResourceOutputs(req: { getUrn(): string; getOutputs(): { toJavaScript(): Record<string, unknown> } | undefined }, callback: (err: unknown, resp?: unknown) => void): void;
}

// A key that lives only as long as one plan: it lets two evaluations tell whether a secret
// changed, without the secret, or anything that could be matched against it, leaving the plan.
let secretKey = "";
let offlineServers: Record<string, OfflineServerFacts> = {};
/** The answers given with no routing, by the server they were for: their notes say, at the end, what the program gave. */
const unroutedServers = new Map<InvokeRecord, string>();

/** How an endpoint's gateway came from what the program gave it, by its gatewaySource (components/proxmox/gateway.ts). */
const PROGRAM_GATEWAY: Record<string, string> = {
    "main-ip": "the .254 of the mainIp the program gave for the server",
    config: "the gateway the program gave for the server",
    probe: "the gatewayCandidates the program gave for the server, the first that answers",
};

/**
 * The offline plan knows a server's routing only from the stack keys (servers.<name>.mainIp and
 * ipv6): a program of the library's own gives its server facts to the components instead.
 */
function unroutedNote(serviceName: string): string {
    return `answered offline with no routing (no servers.<name>.mainIp or ipv6 key of the stack describes ${serviceName}; pulumi preview asks the OVH API)`;
}

/**
 * The note of an answer with no routing, once the program is evaluated: what each endpoint on that
 * server took its gateway from (its registered gatewaySource), found by its virtual MAC, a child
 * that names the server.
 */
function describeUnrouted(record: InvokeRecord, serviceName: string, resources: DeclaredResource[], outputs: Map<string, Record<string, unknown>>): void {
    const said = resources.filter((r) => r.type === VIRTUAL_MAC_TYPE && r.inputs.serviceName === serviceName && r.parent !== undefined).flatMap((r) => {
        const registered = outputs.get(r.parent!);
        const source = registered?.gatewaySource;
        if (typeof source !== "string" || !(source in PROGRAM_GATEWAY)) return [];
        const six = typeof registered?.gateway6 === "string" ? ` and its IPv6 gateway ${registered.gateway6} from the ipv6 the program gave for the server` : "";
        return [`${r.parent!.slice(r.parent!.lastIndexOf("::") + 2)} takes its gateway from ${PROGRAM_GATEWAY[source]}${six}`];
    });
    if (said.length > 0) record.note = `${unroutedNote(serviceName)}: ${said.join("; ")}`;
}

/** Replaces the wire forms of secrets, unknowns and resource references by readable values. */
export function readable(value: unknown): unknown {
    if (value === SIG.unknownValue) return UNKNOWN_TEXT;
    if (Array.isArray(value)) return value.map(readable);
    if (typeof value !== "object" || value === null) return value;
    const obj = value as Record<string, unknown>;
    const sig = obj[SIG.key];
    if (sig === SIG.secret) return secretToken(JSON.stringify(obj.value ?? null));
    if (sig === SIG.resourceReference) return obj.urn;
    // A file to copy: its name, not this machine's path (which differs in --against's checkout).
    if (sig === SIG.asset) return typeof obj.path === "string" ? fileAsset(obj.path) : obj;
    return Object.fromEntries(Object.entries(obj).map(([k, v]) => [k, readable(v)]));
}

/**
 * A file asset as the engine holds it: its path as the program gave it and the SHA-256 of its
 * content, which the engine computes (pulumi/pulumi sdk/go/common/resource/asset/asset.go,
 * EnsureHash), so that a new file is a change.
 */
function fileAsset(file: string): Record<string, unknown> {
    const hash = fs.existsSync(file) ? createHash("sha256").update(fs.readFileSync(file)).digest("hex") : undefined;
    return { [SIG.key]: SIG.asset, ...(hash ? { hash } : {}), path: file };
}

/**
 * The name the engine gives a package's default provider: default, then _major_minor_patch and
 * the prerelease and build parts, then the download URL made a QName (pulumi/pulumi
 * pkg/resource/deploy/providers/provider.go, DefaultName; sdk/go/common/tokens/names.go, IntoQName).
 */
export function defaultProviderName(version: string, downloadUrl: string): string {
    let name = "default";
    const v = /^v?(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?(?:\+([0-9A-Za-z.-]+))?$/.exec(version);
    if (v) {
        name += `_${Number(v[1])}_${Number(v[2])}_${Number(v[3])}`;
        for (const part of [...(v[4]?.split(".") ?? []), ...(v[5]?.split(".") ?? [])]) name += `_${part}`;
    }
    if (downloadUrl) {
        const qname = downloadUrl.split("/").filter((seg) => seg !== "").map((seg) => seg.replace(/[^A-Za-z0-9_.-]/g, "_")).join("/");
        name += `_${qname || "_"}`;
    }
    return name;
}

function secretToken(plain: string): string {
    if (!secretKey) return "[secret]";
    return `[secret#${createHmac("sha256", secretKey).update(plain).digest("hex").slice(0, 16)}]`;
}

/** The outputs a resource would have: its inputs, and stand-ins for what only the API knows. */
function offlineState(args: MockResourceArgs): Record<string, unknown> {
    if (args.type === VIRTUAL_MAC_TYPE) {
        return { ...args.inputs, macAddress: knownAfterApply(`vmac-of-${String(args.inputs.ipAddress)}@${String(args.inputs.serviceName)}`) };
    }
    return args.inputs as Record<string, unknown>;
}

/** What the stack says of a server, for the offline answer (bin/plan.ts, offlineServerFacts). */
export interface OfflineServerFacts {
    mainIp?: string;
    ipv6Prefix?: string;
    ipv6Gateway?: string;
}

/** routing.ipv6 as the API would state it: the stack's gateway, else OVH's rule for a /64. */
function offlineIpv6(facts: OfflineServerFacts): { network: string; gateway: string; how: string } | undefined {
    if (!facts.ipv6Prefix) return undefined;
    let prefix: Ipv6Prefix;
    try {
        prefix = parseIpv6Prefix(facts.ipv6Prefix);
    } catch {
        return undefined; // the program reports a bad prefix, with its key
    }
    const network = prefixText(prefix);
    if (facts.ipv6Gateway) return { network, gateway: facts.ipv6Gateway, how: "the stack's ipv6.gateway" };
    if (prefix.length === 64) return { network, gateway: ovhGateway6(prefix), how: `OVH's rule for ${network}` };
    // No rule for a /56: only the API knows. A stand-in, said as such.
    return { network, gateway: "fe80::1", how: `a stand-in: OVH gives no rule for a /${prefix.length}, the API says which` };
}

/** What a data source answers when there is no API to ask. */
function offlineAnswer(args: MockCallArgs, record: InvokeRecord): Record<string, unknown> {
    if (args.token === "ovh:Dedicated/getServerSpecificationsNetwork:getServerSpecificationsNetwork") {
        const facts = offlineServers[String(args.inputs.serviceName)] ?? {};
        const routing: Record<string, unknown> = {};
        const notes: string[] = [];
        if (facts.mainIp) {
            routing.ipv4 = { ip: facts.mainIp, gateway: dot254(facts.mainIp) };
            notes.push(`routing.ipv4.gateway = ${dot254(facts.mainIp)} (the .254 of the server's mainIp ${facts.mainIp})`);
        }
        const six = offlineIpv6(facts);
        if (six) {
            routing.ipv6 = { network: six.network, gateway: six.gateway };
            notes.push(`routing.ipv6.gateway = ${six.gateway} (${six.how})`);
        }
        if (notes.length > 0) {
            record.answer = { routing };
            record.note = `answered offline with ${notes.join(" and ")}; pulumi preview asks the OVH API`;
            return { serviceName: args.inputs.serviceName, routing };
        }
        record.answer = { routing: null };
        record.note = `${unroutedNote(String(args.inputs.serviceName))}: the gateway comes from what the program gave for the server`;
        unroutedServers.set(record, String(args.inputs.serviceName));
        return { serviceName: args.inputs.serviceName };
    }
    record.answer = {};
    record.note = "no offline answer: answered with an empty result";
    return {};
}

/**
 * The Pulumi SDK records a stack trace for every promise it makes (for leak reports) and every
 * resource (for its source position). Under tsx each trace goes through source maps, which cost
 * more than everything else in a plan of a few hundred endpoints. The plan needs neither: traces
 * stay short and unmapped while the program is evaluated.
 */
function cheapStackTraces(): void {
    process.setSourceMapsEnabled(false);
    Error.stackTraceLimit = Number(process.env.OVH_FAILOVER_PLAN_STACK_LIMIT ?? 0);
    // Each resource's source position is read off a whole stack trace, which the SDK takes with
    // no depth limit (@pulumi/pulumi resource.ts, Resource.callsites); the plan shows no position.
    (pulumi.Resource as unknown as { callsites(): unknown[] }).callsites = () => [];
}

/**
 * A dynamic resource serializes its provider's code into a `__provider` input, which the plan
 * leaves out of every diff. Serializing it (closure analysis with the TypeScript compiler) is a
 * quarter of a small plan's time, so here it is skipped; test/components/network/serialization.test.ts
 * serializes the real provider, so that what `pulumi up` does is still checked.
 */
function skipProviderSerialization(): void {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const closure = require("@pulumi/pulumi/runtime/closure/serializeClosure") as { serializeFunction: unknown };
    closure.serializeFunction = async () => ({ text: "(serialized by pulumi up)", containsSecrets: false });
}

/**
 * Evaluates the program in this process: resolves once it has declared everything (the event loop
 * is empty) or failed. The process can evaluate nothing else after.
 */
export function evaluateHere(job: EvaluationJob): Promise<Evaluation> {
    secretKey = job.secretKey;
    offlineServers = job.servers;
    process.env.PULUMI_NODEJS_STACK = job.stack;
    process.env.PULUMI_NODEJS_PROJECT = job.project;
    // The project's folder, as the CLI passes it to a program it runs in the folder of its main.
    process.env.PULUMI_NODEJS_ROOT_DIRECTORY = job.root;
    cheapStackTraces();
    skipProviderSerialization();
    const evaluation: Evaluation = { resources: [], invokes: [] };
    let resolveEvaluation: (e: Evaluation) => void = () => undefined;
    const done = new Promise<Evaluation>((resolve) => (resolveEvaluation = resolve));
    let finished = false;
    // What the program writes to stdout (console.log, pulumi.log.info under mocks) goes to stderr:
    // stdout is the plan's, and with --json only JSON.
    const stdoutWrite = process.stdout.write;
    process.stdout.write = process.stderr.write.bind(process.stderr) as typeof process.stdout.write;
    // A program that exits is a program that stopped: said as such, with the plan's exit code.
    const exit = process.exit;
    process.exit = ((code?: number) => {
        fail(new pulumi.RunError(`the program called process.exit(${code ?? ""}) before it declared everything`));
        return undefined as never;
    }) as typeof process.exit;
    const finish = (error?: string) => {
        if (finished) return;
        finished = true;
        for (const [record, serviceName] of unroutedServers) describeUnrouted(record, serviceName, evaluation.resources, registeredOutputs);
        process.stdout.write = stdoutWrite;
        process.exit = exit;
        process.off("uncaughtException", fail);
        process.off("unhandledRejection", fail);
        if (error !== undefined) evaluation.error = error;
        resolveEvaluation(evaluation);
    };
    function fail(err: unknown): void {
        // RunError and ResourceError carry a message meant for the user; anything else is a bug.
        const message = err instanceof Error ? (err instanceof pulumi.RunError || err instanceof pulumi.ResourceError ? err.message : err.stack ?? err.message) : String(err);
        finish(message);
    }
    process.on("uncaughtException", fail);
    process.on("unhandledRejection", fail);

    const config = job.config ?? (JSON.parse(fs.readFileSync(job.configFile ?? "", "utf8")) as ConfigEnvironment);
    pulumi.runtime.setAllConfig(JSON.parse(config.PULUMI_CONFIG) as Record<string, string>, JSON.parse(config.PULUMI_CONFIG_SECRET_KEYS) as string[]);

    pulumi.runtime.setMocks(
        {
            newResource: (args: MockResourceArgs) => ({ id: undefined, state: offlineState(args) }),
            call: (args: MockCallArgs) => {
                const record: InvokeRecord = { token: args.token, args: readable(args.inputs) as Record<string, unknown> };
                evaluation.invokes.push(record);
                return offlineAnswer(args, record);
            },
        },
        job.project,
        job.stack,
        true,
    );

    // The mock runtime's newResource does not see parents, dependencies or options: read them
    // off the registration request itself. URNs are the engine's (every parent type chained),
    // not the mock's; the mock's are kept only to translate parents and dependencies.
    const engineUrnOf = new Map<string, string>();
    const translate = (mockUrn: string) => engineUrnOf.get(mockUrn) ?? mockUrn;
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const settings = require("@pulumi/pulumi/runtime/settings") as { getMonitor(): Monitor };
    // The SDK read its settings when first loaded, which in this process may have been before
    // PULUMI_NODEJS_ROOT_DIRECTORY was set (runtime/state.js): the project's folder goes in directly.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    (require("@pulumi/pulumi/runtime/state") as { getStore(): { settings: { options: { rootDirectory?: string } } } }).getStore().settings.options.rootDirectory = job.root;
    const monitor = settings.getMonitor();
    const register = monitor.registerResource.bind(monitor);
    // What components register as their outputs, by engine URN: what the data sources' notes say.
    const registeredOutputs = new Map<string, Record<string, unknown>>();
    const registerOutputs = monitor.registerResourceOutputs.bind(monitor);
    monitor.registerResourceOutputs = (req, callback) => {
        registeredOutputs.set(translate(req.getUrn()), readable(req.getOutputs()?.toJavaScript() ?? {}) as Record<string, unknown>);
        registerOutputs(req, callback);
    };
    // The provider a custom resource runs under: the one the program gave (its URN, as the engine
    // names it), else the package's default provider for the SDK's version and download URL.
    const providerOf = (req: RegisterRequest): ProviderReference => {
        const given = req.getProvider();
        if (given) return { urn: translate(given.slice(0, given.lastIndexOf("::"))) };
        const pkg = req.getType().split(":")[0];
        const name = defaultProviderName(req.getVersion(), req.getPlugindownloadurl());
        return { urn: engineUrn(job.stack, job.project, undefined, `pulumi:providers:${pkg}`, name), default: true };
    };
    // Per input, the resources it came from, as the SDK tells the engine.
    const propertyDependenciesOf = (req: RegisterRequest): Record<string, string[]> => {
        const out: Record<string, string[]> = {};
        req.getPropertydependenciesMap().forEach((deps, key) => (out[key] = deps.getUrnsList().map(translate)));
        return out;
    };
    monitor.registerResource = (req, callback) => {
        const parent = req.getParent() ? translate(req.getParent()) : undefined;
        const entry: DeclaredResource = {
            urn: engineUrn(job.stack, job.project, parent, req.getType(), req.getName()),
            type: req.getType(),
            name: req.getName(),
            parent,
            custom: req.getCustom(),
            protect: req.getProtect() === true,
            deleteBeforeReplace: req.getDeletebeforereplacedefined() ? req.getDeletebeforereplace() : undefined,
            retainOnDelete: req.getRetainondelete() === true,
            ignoreChanges: [...req.getIgnorechangesList()],
            replaceOnChanges: [...req.getReplaceonchangesList()],
            dependencies: req.getDependenciesList().map(translate),
            inputs: readable(req.getObject()?.toJavaScript() ?? {}) as Record<string, unknown>,
            ...(req.getImportid() ? { importId: req.getImportid() } : {}),
            // A provider resource runs under no provider of its own.
            ...(req.getCustom() && !req.getType().startsWith("pulumi:providers:") ? { provider: providerOf(req) } : {}),
            propertyDependencies: propertyDependenciesOf(req),
            additionalSecretOutputs: [...req.getAdditionalsecretoutputsList()],
        };
        // A dynamic provider's serialized code changes with any edit of the code: not intent.
        delete entry.inputs.__provider;
        register(req, (err, resp) => {
            if (resp) {
                engineUrnOf.set(resp.getUrn(), entry.urn);
                evaluation.resources.push(entry);
            }
            callback(err, resp);
        });
    };

    process.once("beforeExit", () => finish());
    try {
        if (/\.[cm]?tsx?$/.test(job.main)) {
            // eslint-disable-next-line @typescript-eslint/no-require-imports
            (require("tsx/cjs/api") as { register(): void }).register();
        }
        // As @pulumi/pulumi's cmd/run does: a module's default export, and a function export is
        // called (the program is its body).
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const loaded = require(job.main) as unknown;
        const program = loaded !== null && typeof loaded === "object" && "default" in loaded && (loaded as { __esModule?: boolean }).__esModule ? (loaded as { default: unknown }).default : loaded;
        if (typeof program === "function") Promise.resolve((program as () => unknown)()).catch(fail);
    } catch (err) {
        fail(err);
    }
    return done;
}

/** A child evaluation: the job in OVH_FAILOVER_PLAN_JOB, the result into its output file. */
async function runChild(job: EvaluationJob): Promise<void> {
    const evaluation = await evaluateHere(job);
    fs.writeFileSync(job.output ?? "", JSON.stringify(evaluation));
    process.exit(evaluation.error === undefined ? 0 : 2);
}

if (require.main === module) void runChild(JSON.parse(process.env.OVH_FAILOVER_PLAN_JOB ?? "{}") as EvaluationJob);
