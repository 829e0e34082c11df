// The library as another Pulumi project gets it, as docs/library.md says to get it: `npm pack` of
// this repository installed into a fresh Pulumi TypeScript project laid out as
// `pulumi new typescript` lays it out (Pulumi.yaml, package.json with main index.ts, and the
// tsconfig.json the page shows), whose program is the page's own code blocks: a PublicEndpoint
// with DNS and IPv6, and a CarpPair. The consumer's own tsc checks the types the package ships;
// the package's command line evaluates the consumer's program offline (no TypeScript build of
// ours, no tsx of theirs).
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

const LIBRARY_DOC = path.join(root, "docs/library.md");

/** The text of every fenced block of a page marked `<!-- consumer: <file> -->`, by file, in order. */
function consumerFiles(markdown: string): Map<string, string> {
    const files = new Map<string, string>();
    for (const m of markdown.matchAll(/^<!-- consumer: (\S+) -->\n```[a-z]*\n([\s\S]*?)^```$/gm)) {
        files.set(m[1], (files.get(m[1]) ?? "") + (files.has(m[1]) ? "\n" : "") + m[2]);
    }
    return files;
}
const documented = consumerFiles(fs.readFileSync(LIBRARY_DOC, "utf8"));

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
    // What docs/library.md shows: the tsconfig.json of pulumi/templates typescript/, and the program.
    for (const file of ["tsconfig.json", "index.ts"]) {
        if (!documented.has(file)) throw new Error(`docs/library.md has no block marked <!-- consumer: ${file} -->`);
        fs.writeFileSync(path.join(consumer, file), documented.get(file)!);
    }
    // The secrets the page sets with pulumi config set --secret (placeholders no passphrase decrypts).
    fs.writeFileSync(path.join(consumer, "Pulumi.dev.yaml"), [
        "config:",
        "  consumer:carpPassword:",
        "    secure: v1:Zm9yLWV4YW1wbGU=:cGxhY2Vob2xkZXI=",
        "  consumer:ipmoveApplicationKey:",
        "    secure: v1:ZXhhbXBsZQ==:a2V5",
        "  consumer:ipmoveApplicationSecret:",
        "    secure: v1:ZXhhbXBsZQ==:c2VjcmV0",
        "  consumer:ipmoveConsumerKey:",
        "    secure: v1:ZXhhbXBsZQ==:Y29uc3VtZXI=",
        "",
    ].join("\n"));
    // The tarball and the SDK, as the page installs them, and the template's devDependencies, at
    // this repository's versions, from npm's cache when it has them (npm ci filled it).
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
        // Every file of the plugin package (its components: plugin/index.ts), and each library
        // file it imports, so that the package's components load where it is installed.
        const pluginFiles = fs.readdirSync(path.join(root, "plugin")).map((f) => `plugin/${f}`);
        expect(pluginFiles).toEqual(expect.arrayContaining(["plugin/index.ts", "plugin/publicEndpoint.ts", "plugin/carpPair.ts", "plugin/ipBlock.ts", "plugin/cloudEndpoint.ts"]));
        for (const f of pluginFiles) {
            expect(files, f).toContain(f);
            if (!f.endsWith(".ts")) continue;
            for (const [, spec] of fs.readFileSync(path.join(root, f), "utf8").matchAll(/^import .* from "(\.\.?\/[^"]+)";$/gm)) {
                expect(files, `${f} imports ${spec}`).toContain(`${path.posix.join("plugin", spec)}.ts`);
            }
        }
        // The README's links reach the documentation in node_modules too.
        expect(files).toContain("docs/library.md");
        const shipped = new Set(files);
        for (const page of files.filter((f) => f.endsWith(".md"))) {
            const prose = fs.readFileSync(path.join(root, page), "utf8").replace(/^```[\s\S]*?^```/gm, "").replace(/`[^`\n]*`/g, "");
            for (const [, target] of prose.matchAll(/\]\(([^)\s#]+)(?:#[^)\s]*)?\)/g)) {
                if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue;
                expect(shipped, `${page} links to ${target}`).toContain(path.posix.normalize(path.posix.join(path.posix.dirname(page), target)));
            }
        }
        // The plugin package's schema is inferred from the components' TypeScript (other languages).
        expect(files.filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts") && !/^(components|plugin)\//.test(f))).toEqual([]);
        const installed = JSON.parse(fs.readFileSync(path.join(consumer, "node_modules/ovh-failover/package.json"), "utf8")) as {
            license: string; private?: boolean; peerDependencies?: Record<string, string>; peerDependenciesMeta?: Record<string, { optional?: boolean }>;
        };
        expect(installed.license).toBe("Apache-2.0");
        expect(installed.private).toBeUndefined();
        // The TypeScript versions docs/library.md names; this test compiles with the lockfile's 5.x.
        expect(installed.peerDependencies?.typescript).toBe(">=5.0.0 <7");
        expect(installed.peerDependenciesMeta?.typescript?.optional).toBe(true);
        expect(fs.readFileSync(path.join(consumer, "node_modules/ovh-failover/LICENSE"), "utf8")).toContain("Apache License");
    });

    it("takes its program and tsconfig.json from docs/library.md: a PublicEndpoint with DNS and IPv6, a CarpPair without ipmove", () => {
        const program = documented.get("index.ts")!;
        expect(program).toMatch(/new PublicEndpoint\(/);
        expect(program).toMatch(/ip6: /);
        expect(program).toMatch(/zones: /);
        expect(program).toMatch(/new CarpPair\(/);
        expect(program).not.toMatch(/ipmove:/);
        expect(JSON.parse(documented.get("tsconfig.json")!)).toMatchObject({ compilerOptions: { strict: true, module: "nodenext", moduleResolution: "nodenext" }, files: ["index.ts"] });
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
        // The pair copies the package's own ovh-ipmove to each node: the program gave no ipmove.
        for (const node of ["edge-1", "edge-2"]) {
            const copy = steps.find((s) => s.name === `edge-${node}-ipmove`);
            expect(copy?.newState?.type).toBe("command:remote:CopyToRemote");
            expect(JSON.stringify(copy?.newState?.inputs)).toMatch(/node_modules\/ovh-failover\/dist\/ovh-ipmove\.cjs/);
        }
        // DNS: A and AAAA at www and at the apex of example.net (written "@"), the CNAME to www.
        const records = steps.filter((s) => s.newState?.type === "ovh:Domain/zoneRecord:ZoneRecord").map((s) => s.newState!.inputs as Record<string, unknown>);
        expect(records.map((i) => `${i.fieldtype} ${i.subdomain}.${i.zone} ${i.target}`).sort()).toEqual([
            "A .example.net 192.0.2.10",
            "A www.example.org 192.0.2.10",
            "AAAA .example.net 2001:db8:1:4662::10",
            "AAAA www.example.org 2001:db8:1:4662::10",
            "CNAME shop.example.org www.example.org.",
        ]);
        // The data source's note says what the program gave (its mainIp and IPv6 prefix), not the stack.
        const sources = (JSON.parse(r.stdout) as { offlinePlan: { dataSources: { note?: string }[] } }).offlinePlan.dataSources;
        expect(sources.map((d) => d.note)).toContain("answered offline with no routing (no servers.<name>.mainIp or ipv6 key of the stack describes ns3012345.ip-198-51-100.eu; pulumi preview asks the OVH API): web takes its gateway from the .254 of the mainIp the program gave for the server and its IPv6 gateway 2001:db8:1:46ff:ff:ff:ff:ff from the ipv6 the program gave for the server");
        expect(r.stdout).not.toContain("no mainIp in the stack");
    });
});
