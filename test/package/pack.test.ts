// The library as another Pulumi project gets it: `npm pack` of this repository installed into a
// fresh Pulumi TypeScript project laid out as `pulumi new typescript` lays it out (Pulumi.yaml,
// package.json with main index.ts, its tsconfig.json), whose program declares a PublicEndpoint and
// a CarpPair. The consumer's own tsc checks the types the package ships; the package's command
// line evaluates the consumer's program offline (no TypeScript build of ours, no tsx of theirs).
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resourceSteps } from "../support/planJson";

const root = path.resolve(__dirname, "../..");
const work = fs.mkdtempSync(path.join(os.tmpdir(), "ovhf-pack-"));
const consumer = path.join(work, "consumer");
let tarball = "";
const lock = JSON.parse(fs.readFileSync(path.join(root, "package-lock.json"), "utf8")) as { packages: Record<string, { version: string }> };
const versionOf = (name: string) => lock.packages[`node_modules/${name}`].version;

const PROGRAM = `import * as pulumi from "@pulumi/pulumi";
import { CarpPair, ipmoveBundle, PublicEndpoint } from "ovh-failover";

const config = new pulumi.Config();
const hostKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMl7ZAtKZt9Ij7jq387j6PueCz+uHHISJPDZE3dAKT3u";

const web = new PublicEndpoint("web", {
    ip: "192.0.2.10",
    server: { serviceName: "ns3012345.ip-198-51-100.eu", mainIp: "198.51.100.20" },
    container: { proxmox: { host: "198.51.100.20", hostKey }, vmid: 101, nic: 1, interfaceName: "eth1", bridge: "vmbr0" },
    zones: [{ zone: "example.org", a: ["www"], cname: ["shop"] }],
    reverse: "www.example.org.",
});

const edge = new CarpPair("edge", {
    flavour: "keepalived",
    failoverIp: "203.0.113.231",
    group: { vhid: 7, address: "10.25.0.10", prefixLength: 16, carpdev: "eth2" },
    password: config.requireSecret("carpPassword"),
    nodes: [
        { name: "edge-1", advskew: 1, publicInterface: "eth0", privateInterface: "eth2", privateAddress: "10.25.0.11", ssh: { host: "198.51.100.41", hostKey }, move: { kind: "dedicated", serviceName: "ns1.ip-198-51-100.eu" } },
        { name: "edge-2", advskew: 50, publicInterface: "eth0", privateInterface: "eth2", privateAddress: "10.25.0.12", ssh: { host: "198.51.100.42", hostKey }, move: { kind: "dedicated", serviceName: "ns2.ip-198-51-100.eu" } },
    ],
    health: { pingTarget: "192.0.2.53", intervalSeconds: 15 },
    ovhCredentials: config.requireSecretObject("ipmoveCredentials"),
    ipmove: ipmoveBundle(),
});

export const ip = web.ip;
export const accessRules = edge.accessRules;
`;

beforeAll(() => {
    // The JavaScript is the suite's own build (test/support/buildSetup.ts); the declarations are
    // added here. Not prepare's whole build: it would rewrite dist/ under the tests running beside
    // this one.
    execFileSync("npm", ["run", "-s", "build:types"], { cwd: root, stdio: ["ignore", "ignore", "pipe"] });
    const out = execFileSync("npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", work], { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    // (prepare prints its own lines first)
    tarball = path.join(work, (JSON.parse(out.slice(out.search(/^\[/m))) as { filename: string }[])[0].filename);
    fs.mkdirSync(consumer);
    // As `pulumi new typescript` writes them (pulumi/templates typescript/).
    fs.writeFileSync(path.join(consumer, "Pulumi.yaml"), "name: consumer\ndescription: A Pulumi program on ovh-failover\nruntime:\n  name: nodejs\n  options:\n    packagemanager: npm\n");
    fs.writeFileSync(path.join(consumer, "package.json"), JSON.stringify({ name: "consumer", main: "index.ts", devDependencies: {}, dependencies: {} }, null, 2));
    fs.writeFileSync(path.join(consumer, "tsconfig.json"), JSON.stringify({
        compilerOptions: { strict: true, outDir: "bin", target: "es2020", module: "commonjs", moduleResolution: "node", sourceMap: true, experimentalDecorators: true, pretty: true, noFallthroughCasesInSwitch: true, noImplicitReturns: true, forceConsistentCasingInFileNames: true },
        files: ["index.ts"],
    }, null, 2));
    fs.writeFileSync(path.join(consumer, "index.ts"), PROGRAM);
    fs.writeFileSync(path.join(consumer, "Pulumi.dev.yaml"), [
        "config:",
        "  consumer:carpPassword:",
        "    secure: v1:Zm9yLWV4YW1wbGU=:cGxhY2Vob2xkZXI=",
        "  consumer:ipmoveCredentials:",
        "    endpoint: ovh-eu",
        "    applicationKey: { secure: \"v1:ZXhhbXBsZQ==:a2V5\" }",
        "    applicationSecret: { secure: \"v1:ZXhhbXBsZQ==:c2VjcmV0\" }",
        "    consumerKey: { secure: \"v1:ZXhhbXBsZQ==:Y29uc3VtZXI=\" }",
        "",
    ].join("\n"));
    // The tarball and what a consumer adds beside it, at this repository's versions, from npm's
    // cache when it has them (npm ci filled it).
    execFileSync("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund", tarball, `@pulumi/pulumi@${versionOf("@pulumi/pulumi")}`, `typescript@${versionOf("typescript")}`, `@types/node@${versionOf("@types/node")}`], { cwd: consumer, stdio: ["ignore", "ignore", "pipe"] });
}, 600_000);

afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

describe("the npm package", () => {
    it("ships compiled JavaScript, type declarations, the ovh-ipmove bundle and the LICENSE; TypeScript only for the plugin package", () => {
        const files = execFileSync("tar", ["-tzf", tarball], { encoding: "utf8" }).split("\n").filter(Boolean).map((f) => f.replace(/^package\//, ""));
        expect(files).toContain("dist/components/index.js");
        expect(files).toContain("dist/components/index.d.ts");
        expect(files).toContain("dist/bin/ovh-failover.js");
        expect(files).toContain("dist/ovh-ipmove.cjs");
        expect(files).toContain("LICENSE");
        expect(files).toContain("plugin/PulumiPlugin.yaml");
        // The plugin package's schema is inferred from the components' TypeScript (other languages).
        expect(files.filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts") && !/^(components|plugin)\//.test(f))).toEqual([]);
        const installed = JSON.parse(fs.readFileSync(path.join(consumer, "node_modules/ovh-failover/package.json"), "utf8")) as { license: string; private?: boolean };
        expect(installed.license).toBe("Apache-2.0");
        expect(installed.private).toBeUndefined();
        expect(fs.readFileSync(path.join(consumer, "node_modules/ovh-failover/LICENSE"), "utf8")).toContain("Apache License");
    });

    it("type-checks in the consumer's own strict tsconfig", () => {
        const r = spawnSync(process.execPath, [path.join(consumer, "node_modules/typescript/bin/tsc"), "--noEmit", "-p", consumer], { encoding: "utf8" });
        expect(r.status, r.stdout + r.stderr).toBe(0);
    });

    it("the virtual MAC's dynamic provider serializes from the installed package, as pulumi up does it, and the serialized code runs", () => {
        // @pulumi/pulumi serializes a dynamic provider with the modules it captures written as
        // require() of their public path in the package (runtime/closure/createClosure.ts): each
        // must be reachable through the exports map from the consumer's folder.
        const script = `
const fs = require("fs");
const pulumi = require("@pulumi/pulumi");
const { virtualMacProvider } = require("ovh-failover");
pulumi.runtime.serializeFunction(() => virtualMacProvider, { allowSecrets: true, isFactoryFunction: true }).then((r) => {
    fs.writeFileSync("provider.js", r.text);
    const provider = require("./provider.js").handler;
    console.log(JSON.stringify(["create", "read", "update", "delete", "diff"].filter((m) => typeof provider[m] === "function")));
}).catch((e) => { console.error(e.message); process.exit(1); });
`;
        const r = spawnSync(process.execPath, ["-e", script], { cwd: consumer, encoding: "utf8" });
        expect(r.status, r.stderr).toBe(0);
        expect(JSON.parse(r.stdout)).toEqual(["create", "read", "update", "delete", "diff"]);
        expect(fs.readFileSync(path.join(consumer, "provider.js"), "utf8")).toMatch(/require\("ovh-failover\/dist\/components\//);
    });

    it("npx ovh-failover plan evaluates the consumer's program: the endpoint's chain and the pair's nodes", () => {
        const r = spawnSync("npx", ["--no-install", "ovh-failover", "plan", "dev", "--json"], { cwd: consumer, encoding: "utf8" });
        expect(r.status, r.stderr).toBe(0);
        const steps = resourceSteps(r.stdout);
        const types = new Set(steps.map((s) => s.newState?.type));
        for (const t of ["ovh-failover:endpoint:PublicEndpoint", "ovh-failover:network:FailoverIp", "ovh:Ip/move:Move", "ovh:Ip/reverse:Reverse", "pulumi-nodejs:dynamic/ovh-failover:VirtualMac", "ovh-failover:proxmox:ContainerNic", "ovh-failover:proxmox:GatewayProbe", "ovh:Domain/zoneRecord:ZoneRecord", "ovh-failover:edge:CarpPair", "command:remote:Command", "command:remote:CopyToRemote"]) {
            expect(types, `${t} in ${[...types].join(", ")}`).toContain(t);
        }
        const names = steps.map((s) => s.name);
        expect(names).toContain("web-ip-routing");
        expect(names.filter((n) => /^edge-edge-[12]-/.test(n)).length).toBeGreaterThan(0);
        expect(r.stdout).not.toContain("placeholder");
    });
});
