// The real Pulumi engine for the tests: the CLI built from its Go module at the version engine/go.mod
// pins, a Node.js language host (engine/pulumi-language-nodejs), and @pulumi/pulumi's dynamic
// provider launcher beside them. Binaries go to a cache outside the work tree, in a folder keyed by
// what went into them, so a warm machine rebuilds nothing. Usage:
//
//   npm run engine:build            build (or find cached) and print the versions, sizes and time
//
// The provider plugins (pulumi-resource-command, -ovh, -proxmoxve) are not built here: the Go module
// proxy does not serve them, and the test:providers tier takes them, built by hand, from the folder
// OVH_FAILOVER_PLUGINS names (docs/testing.md).
import { execFileSync, spawnSync } from "child_process";
import { createHash } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

const ROOT = path.resolve(__dirname, "..");
const ENGINE = __dirname;

/** The oldest CLI the project runs on: import-then-update (`= import` then `~ update`) came in 3.174. */
const MIN_CLI = "3.174.0";

export interface Engine {
    /** The folder holding pulumi, pulumi-language-nodejs, pulumi-language-python and pulumi-resource-pulumi-nodejs. */
    binDir: string;
    cliVersion: string;
    /** @pulumi/pulumi's version in package-lock.json: the SDK the programs run on. */
    sdkVersion: string;
}

function lockedVersion(pkg: string): string {
    const lock = JSON.parse(fs.readFileSync(path.join(ROOT, "package-lock.json"), "utf8")) as { packages: Record<string, { version?: string }> };
    const version = lock.packages[`node_modules/${pkg}`]?.version;
    if (!version) throw new Error(`package-lock.json has no ${pkg}`);
    return version;
}

/** The CLI version engine/go.mod pins (github.com/pulumi/pulumi/pkg/v3). */
export function pinnedCliVersion(): string {
    const goMod = fs.readFileSync(path.join(ENGINE, "go.mod"), "utf8");
    const m = /^\s*github\.com\/pulumi\/pulumi\/pkg\/v3 v(\S+)/m.exec(goMod);
    if (!m) throw new Error("engine/go.mod does not require github.com/pulumi/pulumi/pkg/v3");
    return m[1];
}

function semverAtLeast(a: string, b: string): boolean {
    const pa = a.split(".").map(Number), pb = b.split(".").map(Number);
    for (let i = 0; i < 3; i++) if (pa[i] !== pb[i]) return pa[i] > pb[i];
    return true;
}

function launcherPath(): string {
    return path.join(ROOT, "node_modules", "@pulumi", "pulumi", "pulumi-resource-pulumi-nodejs");
}

/** Everything that goes into the binaries: the folder's name changes when any of it does. */
function cacheKey(cliVersion: string, sdkVersion: string): string {
    const hash = createHash("sha256");
    const goFiles = fs.readdirSync(ENGINE, { recursive: true, encoding: "utf8" }).filter((f) => /(\.go|\.py|go\.mod|go\.sum)$/.test(f)).sort();
    for (const f of goFiles) hash.update(`${f}\0`).update(fs.readFileSync(path.join(ENGINE, f)));
    hash.update(execFileSync("go", ["version"], { encoding: "utf8" }));
    hash.update(sdkVersion).update(fs.readFileSync(launcherPath()));
    return `pulumi-v${cliVersion}-${hash.digest("hex").slice(0, 12)}`;
}

function cacheRoot(): string {
    const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), ".cache");
    return process.env.OVH_FAILOVER_ENGINE_CACHE || path.join(base, "ovh-failover", "engine");
}

/** The engine's folder if it is built for what the work tree holds now; it builds nothing. */
export function locateEngine(): Engine & { built: boolean } {
    const cliVersion = pinnedCliVersion();
    const sdkVersion = lockedVersion("@pulumi/pulumi");
    const binDir = path.join(cacheRoot(), cacheKey(cliVersion, sdkVersion), "bin");
    return { binDir, cliVersion, sdkVersion, built: fs.existsSync(path.join(binDir, ".complete")) };
}

function goBuild(out: string, pkg: string, version: string): void {
    const ldflags = `-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v${version}`;
    const r = spawnSync("go", ["build", "-trimpath", "-ldflags", ldflags, "-o", out, pkg], {
        cwd: ENGINE,
        stdio: ["ignore", "inherit", "inherit"],
        // The machine's own Go (engine/go.mod asks no newer one); no cgo, so the binaries are static.
        env: { ...process.env, GOTOOLCHAIN: "local", CGO_ENABLED: "0", GOFLAGS: "-mod=readonly" },
    });
    if (r.status !== 0) throw new Error(`go build ${pkg} failed (exit ${r.status})`);
}

/** Builds the engine unless its folder is already there; returns it. */
export function ensureEngine(log: (line: string) => void = console.log): Engine {
    const found = locateEngine();
    const { cliVersion, sdkVersion, binDir } = found;
    if (!semverAtLeast(cliVersion, sdkVersion)) throw new Error(`engine/go.mod pins the CLI at ${cliVersion}, older than @pulumi/pulumi ${sdkVersion}`);
    if (!semverAtLeast(cliVersion, MIN_CLI)) throw new Error(`engine/go.mod pins the CLI at ${cliVersion}; the project needs ${MIN_CLI} or newer`);
    if (found.built) {
        log(`engine: cached in ${binDir}`);
        return { binDir, cliVersion, sdkVersion };
    }
    const started = Date.now();
    const staging = `${path.dirname(binDir)}.partial-${process.pid}`;
    fs.rmSync(staging, { recursive: true, force: true });
    fs.mkdirSync(path.join(staging, "bin"), { recursive: true });
    log(`engine: building pulumi v${cliVersion} and its Node.js and Python language hosts (a cold build downloads the modules first)`);
    goBuild(path.join(staging, "bin", "pulumi"), "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi", cliVersion);
    goBuild(path.join(staging, "bin", "pulumi-language-nodejs"), "./pulumi-language-nodejs", cliVersion);
    goBuild(path.join(staging, "bin", "pulumi-language-python"), "./pulumi-language-python", cliVersion);
    // The dynamic provider's launcher ships in @pulumi/pulumi; the CLI looks for plugins beside itself.
    fs.copyFileSync(launcherPath(), path.join(staging, "bin", "pulumi-resource-pulumi-nodejs"));
    fs.chmodSync(path.join(staging, "bin", "pulumi-resource-pulumi-nodejs"), 0o755);
    fs.writeFileSync(path.join(staging, "bin", ".complete"), `${new Date().toISOString()}\n`);
    fs.rmSync(path.dirname(binDir), { recursive: true, force: true });
    fs.renameSync(staging, path.dirname(binDir));
    const seconds = ((Date.now() - started) / 1000).toFixed(0);
    log(`engine: built in ${seconds} s into ${binDir}`);
    return { binDir, cliVersion, sdkVersion };
}

function sizeMiB(file: string): string {
    return `${(fs.statSync(file).size / 2 ** 20).toFixed(1)} MiB`;
}

function main(): void {
    const engine = ensureEngine();
    for (const name of ["pulumi", "pulumi-language-nodejs", "pulumi-language-python", "pulumi-resource-pulumi-nodejs"]) {
        const file = path.join(engine.binDir, name);
        const version = name === "pulumi-resource-pulumi-nodejs" ? `@pulumi/pulumi ${engine.sdkVersion}` : execFileSync(file, name === "pulumi" ? ["version"] : ["-version"], { encoding: "utf8" }).trim();
        console.log(`  ${name.padEnd(32)} ${version.padEnd(24)} ${sizeMiB(file)}`);
    }
    console.log("  the provider plugins are not built here: npm run test:providers takes them from OVH_FAILOVER_PLUGINS (docs/testing.md)");
}

if (require.main === module) main();
