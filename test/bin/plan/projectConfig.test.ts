// The plan refuses a stack as `pulumi preview` does, with the CLI's words: the rules of
// pulumi/pulumi pkg/workspace/config.go (mergeConfig, validateStackConfigValue) and
// sdk/go/common/workspace/project.go (ValidateConfigValue), one failing stack file per rule.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { afterAll, describe, expect, it } from "vitest";
import { plan } from "../../../bin/plan";
import { fitsType, readDeclarations, validateStackConfig } from "../../../bin/plan/projectConfig";
import { listStacks, loadProject, parseStackFile } from "../../../bin/plan/stackFiles";

const root = path.resolve(__dirname, "../../..");
const work = fs.mkdtempSync(path.join(os.tmpdir(), "ovh-failover-config-"));
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

/** A project folder with this Pulumi.yaml and one stack file; the plan of it. */
async function planOf(pulumiYaml: string, stackYaml: string, stack = "dev") {
    const dir = fs.mkdtempSync(path.join(work, "p-"));
    fs.writeFileSync(path.join(dir, "Pulumi.yaml"), pulumiYaml);
    fs.writeFileSync(path.join(dir, `Pulumi.${stack}.yaml`), stackYaml);
    return plan(dir, { stack, sets: [], json: false, showSame: false }, false);
}

/** The real project's plan of a stack file written here. */
async function planOfRealProject(stackYaml: string) {
    const file = path.join(work, `stack-${Math.random().toString(36).slice(2)}.yaml`);
    fs.writeFileSync(file, stackYaml);
    return plan(root, { stack: "dev", sets: [], json: false, showSame: false, stackFile: file }, false);
}

const PROJECT = `name: demo
runtime: nodejs
config:
  region: { type: string }
  token: { type: string, secret: true }
  zones: { type: array, items: { type: string } }
  size: { type: integer, default: 2 }
`;

describe("the CLI's config rules", () => {
    it("a declared key without default, unset: every missing key in one message, sorted, no Oxford comma", async () => {
        const one = await planOf(PROJECT, "config:\n  demo:zones: [a]\n  demo:token: { secure: v1:abc }\n");
        expect(one.exitCode).toBe(2);
        expect(one.message).toBe("error: stack dev: validating stack config: Stack 'dev' is missing configuration value 'region'\n");
        const three = await planOf(PROJECT, "config: {}\n");
        expect(three.message).toContain("Stack 'dev' is missing configuration values 'region', 'token' and 'zones'");
    });

    it("a secret key set in plain text", async () => {
        const r = await planOf(PROJECT, "config:\n  demo:region: gra\n  demo:token: plain\n  demo:zones: [a]\n");
        expect(r.message).toContain("Stack 'dev' with configuration key 'token' must be encrypted as it's secret");
    });

    it("a value of the wrong type, arrays named array<items>", async () => {
        const r = await planOf(PROJECT, "config:\n  demo:region: gra\n  demo:token: { secure: v1:abc }\n  demo:zones: [a, 3]\n");
        expect(r.message).toContain("Stack 'dev' with configuration key 'zones' must be of type 'array<string>'");
        const size = await planOf(PROJECT, "config:\n  region: gra\n  demo:token: { secure: v1:abc }\n  demo:zones: [a]\n  demo:size: two\n");
        expect(size.message).toContain("Stack 'dev' with configuration key 'size' must be of type 'integer'");
    });

    it("the real project: dnsTtl must be an integer, protectIps a boolean, the first in key order only", async () => {
        const r = await planOfRealProject("config:\n  ovh-failover:dnsTtl: five minutes\n  ovh-failover:protectIps: yes\n");
        expect(r.exitCode).toBe(2);
        expect(r.message).toBe("error: stack dev: validating stack config: Stack 'dev' with configuration key 'dnsTtl' must be of type 'integer'\n");
        const b = await planOfRealProject("config:\n  ovh-failover:protectIps: yes\n");
        expect(b.message).toContain("Stack 'dev' with configuration key 'protectIps' must be of type 'boolean'");
    });

    it("every bundled stack passes", async () => {
        const project = loadProject(root);
        const stacks = listStacks(root, project);
        expect(stacks.length).toBeGreaterThanOrEqual(3);
        for (const stack of stacks) {
            const config = parseStackFile(project, fs.readFileSync(path.join(root, "stacks", `Pulumi.${stack}.yaml`), "utf8"), stack);
            expect({ stack, verdict: validateStackConfig(stack, project.declared, config) }).toEqual({ stack, verdict: undefined });
        }
    });

    it("allows keys of the project's namespace that are set but not declared, and bare keys", () => {
        const declared = readDeclarations("demo", { region: { type: "string" } });
        const config = parseStackFile({ name: "demo", main: "index.ts", stackConfigDir: ".", declared }, "config:\n  region: gra\n  demo:extra: 1\n", "x");
        expect(validateStackConfig("dev", declared, config)).toBeUndefined();
    });

    it("types as the CLI does: scalars arrive as strings; integer is strconv.Atoi; boolean only true/false", () => {
        expect(fitsType("string", undefined, "300")).toBe(true);
        expect(fitsType("integer", undefined, "300")).toBe(true);
        expect(fitsType("integer", undefined, "-3")).toBe(true);
        expect(fitsType("integer", undefined, "3.5")).toBe(false);
        expect(fitsType("integer", undefined, " 300")).toBe(false);
        expect(fitsType("boolean", undefined, "true")).toBe(true);
        expect(fitsType("boolean", undefined, "True")).toBe(false);
        expect(fitsType("boolean", undefined, "yes")).toBe(false);
        expect(fitsType("array", { type: "integer" }, ["3", 4])).toBe(true);
        expect(fitsType("array", undefined, ["a"])).toBe(false);
    });

    it("refuses a Pulumi.yaml the CLI refuses", () => {
        expect(() => readDeclarations("demo", { a: { type: "array" } })).toThrow("The configuration key 'a' declares an array but does not specify the underlying type via the 'items' attribute");
        expect(() => readDeclarations("demo", { a: { type: "integer", default: "x" } })).toThrow("The default value specified for configuration key 'a' is not of the expected type 'integer'");
        expect(() => readDeclarations("demo", { a: { default: 1, value: 2 } })).toThrow("project config 'a' cannot have both a 'default' and 'value' attribute");
    });
});

describe("secrets the program refuses in plain text (Pulumi.yaml cannot require them of optional keys)", () => {
    it("names the key and never shows the value", async () => {
        const stack = fs.readFileSync(path.join(root, "stacks", "Pulumi.reverse-proxy.yaml"), "utf8")
            .replace(/ovh-failover:proxmoxSshPrivateKey:\n\s+secure: \S+/, "ovh-failover:proxmoxSshPrivateKey: PLAIN-KEY-TEXT");
        const r = await planOfRealProject(stack);
        expect(r.exitCode).toBe(2);
        expect(r.message).toContain("proxmoxSshPrivateKey: \"[not shown]\" is not valid: expected a secure value (pulumi config set --secret), not plain text in the stack file");
        expect(r.message).not.toContain("PLAIN-KEY-TEXT");
    });
});
