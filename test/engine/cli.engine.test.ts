// The real Pulumi CLI: its version and its plugins', nothing downloaded, and its verdict on a stack's
// config held against the offline plan's (bin/plan/projectConfig.ts), case by case.
import * as fs from "fs";
import * as path from "path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as YAML from "yaml";
import { plan } from "../../bin/plan";
import { PROVIDER_PLUGINS } from "../support/plugins";
import { engineWorkspace, EngineWorkspace, previewSteps, REPO } from "../support/engine";

let ws: EngineWorkspace;
beforeAll(async () => {
    ws = await engineWorkspace();
});
afterAll(async () => {
    await ws?.close();
});

function lockedVersion(pkg: string): string {
    const lock = JSON.parse(fs.readFileSync(path.join(REPO, "package-lock.json"), "utf8")) as { packages: Record<string, { version: string }> };
    return lock.packages[`node_modules/${pkg}`].version;
}

describe("the engine", () => {
    it("is the CLI of @pulumi/pulumi's version, with its language host and the dynamic provider's launcher beside it; nothing is downloaded", async () => {
        const sdk = lockedVersion("@pulumi/pulumi");
        // An empty program runs through the language host; preview and up reach nothing outside.
        const dir = ws.project({
            "Pulumi.yaml": "name: empty\nruntime:\n  name: nodejs\n  options:\n    typescript: false\n",
            "index.js": "require('@pulumi/pulumi');\n",
        });
        const stack = await ws.stack(dir, "dev");
        console.log(`pulumi version: v${stack.workspace.pulumiVersion}`);
        expect(stack.workspace.pulumiVersion).toBe(sdk);
        // No plugin in PULUMI_HOME: whatever runs comes from the engine's folder.
        expect(await stack.workspace.listPlugins()).toEqual([]);
        for (const name of ["pulumi-language-nodejs", "pulumi-resource-pulumi-nodejs"]) {
            expect(fs.existsSync(path.join(ws.engine.binDir, name))).toBe(true);
        }
        console.log(`pulumi-language-nodejs: v${ws.engine.cliVersion}; pulumi-resource-pulumi-nodejs: @pulumi/pulumi ${sdk}`);
        for (const p of PROVIDER_PLUGINS) console.log(`pulumi-resource-${p.name}: not here (${p.npm} ${lockedVersion(p.npm)}: npm run test:providers runs it)`);

        const { steps } = await previewSteps(ws, stack);
        expect(steps.map((s) => `${s.op} ${s.urn}`)).toEqual(["create urn:pulumi:dev::empty::pulumi:pulumi:Stack::empty-dev"]);
        await stack.up();
        expect(ws.guard.attempts).toEqual([]);
    });
});

// The project of test/bin/plan/projectConfig.test.ts, and one key of each remaining type.
const PROJECT = `name: demo
runtime:
  name: nodejs
  options:
    typescript: false
config:
  region: { type: string }
  token: { type: string, secret: true }
  zones: { type: array, items: { type: string } }
  size: { type: integer, default: 2 }
  enabled: { type: boolean, default: false }
`;

interface ConfigCase {
    name: string;
    /** Plain values, as written in the stack file's config: block. */
    values: Record<string, unknown>;
    /** Values set with `pulumi config set --secret`. */
    secrets?: Record<string, string>;
}

const COMPLETE = { "demo:region": "gra", "demo:zones": ["a"] };
const TOKEN = { "demo:token": "t0ken" };

const CASES: ConfigCase[] = [
    { name: "nothing set", values: {} },
    { name: "one key missing", values: { "demo:zones": ["a"] }, secrets: TOKEN },
    { name: "a secret key in plain text", values: { ...COMPLETE, "demo:token": "plain" } },
    { name: "an array with an item of another type", values: { ...COMPLETE, "demo:zones": ["a", 3] }, secrets: TOKEN },
    { name: "an integer that is not one", values: { ...COMPLETE, "demo:size": "two" }, secrets: TOKEN },
    { name: "an integer written as a string", values: { ...COMPLETE, "demo:size": "3" }, secrets: TOKEN },
    { name: "an integer with a sign", values: { ...COMPLETE, "demo:size": "+3" }, secrets: TOKEN },
    { name: "a boolean written yes", values: { ...COMPLETE, "demo:enabled": "yes" }, secrets: TOKEN },
    { name: "a boolean written True", values: { ...COMPLETE, "demo:enabled": "True" }, secrets: TOKEN },
    { name: "a boolean written 1", values: { ...COMPLETE, "demo:enabled": 1 }, secrets: TOKEN },
    { name: "a number where a string is declared", values: { ...COMPLETE, "demo:region": 300 }, secrets: TOKEN },
    { name: "bare keys", values: { region: "gra", zones: ["a"] }, secrets: TOKEN },
    { name: "an undeclared key", values: { ...COMPLETE, "demo:colour": "blue" }, secrets: TOKEN },
    { name: "a list where a string is declared", values: { ...COMPLETE, "demo:region": ["gra"] }, secrets: TOKEN },
    { name: "everything right", values: { ...COMPLETE, "demo:size": 4, "demo:enabled": true }, secrets: TOKEN },
];

describe("a stack's config: the CLI's verdict and the offline plan's are the same", () => {
    it.each(CASES)("$name", async (c) => {
        const dir = ws.project({ "Pulumi.yaml": PROJECT, "index.js": "require('@pulumi/pulumi');\n" });
        // Stacks share the backend: each case has its own.
        const stackName = `case${CASES.indexOf(c)}`;
        const stack = await ws.stack(dir, stackName);
        for (const [key, value] of Object.entries(c.secrets ?? {})) await stack.setConfig(key, { value, secret: true });
        const file = path.join(dir, `Pulumi.${stackName}.yaml`);
        const stackFile = fs.existsSync(file) ? (YAML.parse(fs.readFileSync(file, "utf8")) ?? {}) : {};
        stackFile.config = { ...(stackFile.config ?? {}), ...c.values };
        fs.writeFileSync(file, YAML.stringify(stackFile));

        const cli = await stack.preview().then(
            () => undefined,
            (err: Error) => {
                const m = /error: validating stack config: (.*)/.exec(err.message);
                if (!m) throw err;
                return m[1].trim();
            },
        );
        const offline = await plan(dir, { stack: stackName, sets: [], json: false, showSame: false }, false);
        const offlineVerdict = /validating stack config: (.*)/.exec(offline.message ?? "")?.[1].trim();
        expect(offlineVerdict).toBe(cli);
        // Where the CLI accepts the config, the plan goes on and succeeds too.
        if (cli === undefined) expect([offline.exitCode, offline.message ?? ""]).toEqual([0, ""]);
    });
});
