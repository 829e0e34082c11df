// The documentation's promises that can be checked here: every command it marks offline runs from
// the repository's root with no network and prints something, and every relative link points to a
// file (and a heading) that exists.
//
// A command is marked offline by a line `<!-- offline -->` right before its ```sh block; each line
// of the block is one command (`#` starts a comment). Commands that need `npm ci`, credentials or
// the network are not marked.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { describe, expect, it } from "vitest";

const root = path.resolve(__dirname, "../..");

function markdownFiles(): string[] {
    const out = ["README.md"];
    const walk = (dir: string) => {
        for (const e of fs.readdirSync(path.join(root, dir), { withFileTypes: true })) {
            const rel = path.posix.join(dir, e.name);
            if (e.isDirectory()) walk(rel);
            else if (e.name.endsWith(".md")) out.push(rel);
        }
    };
    if (fs.existsSync(path.join(root, "docs"))) walk("docs");
    return out.sort();
}

export interface OfflineCommand {
    file: string;
    line: number;
    command: string;
}

/** The commands of every ```sh block preceded by `<!-- offline -->`. */
export function offlineCommands(file: string, text: string): OfflineCommand[] {
    const lines = text.split("\n");
    const commands: OfflineCommand[] = [];
    for (let i = 0; i < lines.length; i++) {
        if (lines[i].trim() !== "<!-- offline -->") continue;
        const open = lines[i + 1]?.trim();
        if (open !== "```sh") throw new Error(`${file}:${i + 1}: <!-- offline --> must be followed by a \`\`\`sh block`);
        for (let j = i + 2; j < lines.length && lines[j].trim() !== "```"; j++) {
            const command = lines[j].replace(/\s+#.*$/, "").trim();
            if (command !== "" && !command.startsWith("#")) commands.push({ file, line: j + 1, command });
        }
    }
    return commands;
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens. */
export function headingAnchor(heading: string): string {
    return heading
        .trim()
        .toLowerCase()
        .replace(/[^\p{L}\p{N}\s_-]/gu, "")
        .replace(/\s/g, "-");
}

function anchorsOf(text: string): Set<string> {
    const anchors = new Set<string>();
    const seen = new Map<string, number>();
    for (const m of withoutCodeBlocks(text).matchAll(/^#{1,6}\s+(.+)$/gm)) {
        const base = headingAnchor(m[1]);
        const n = seen.get(base) ?? 0;
        seen.set(base, n + 1);
        anchors.add(n === 0 ? base : `${base}-${n}`);
    }
    return anchors;
}

function withoutCodeBlocks(text: string): string {
    return text.replace(/^```[\s\S]*?^```/gm, "");
}

/** Every [text](target) outside code: fenced blocks and inline code are left out. */
export function relativeLinks(text: string): string[] {
    const prose = withoutCodeBlocks(text).replace(/`[^`\n]*`/g, "");
    return [...prose.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]).filter((t) => !/^[a-z][a-z0-9+.-]*:/i.test(t));
}

/** No network: every proxy is a closed port, npm works from its cache, no OVH credentials. */
function offlineEnv(): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env)) {
        if (!/^(OVH_|PULUMI_ACCESS_TOKEN|AWS_|SSH_AUTH_SOCK$)/.test(k)) env[k] = v;
    }
    const closed = "http://127.0.0.1:9";
    return {
        ...env,
        HTTP_PROXY: closed,
        HTTPS_PROXY: closed,
        http_proxy: closed,
        https_proxy: closed,
        NO_PROXY: "",
        no_proxy: "",
        npm_config_offline: "true",
        npm_config_proxy: closed,
        npm_config_https_proxy: closed,
        npm_config_update_notifier: "false",
        CI: "true",
    };
}

const files = markdownFiles();
const commands = files.flatMap((f) => offlineCommands(f, fs.readFileSync(path.join(root, f), "utf8")));

describe("the documentation's offline commands", () => {
    it("the README marks its main command offline, and the package declares the command it runs", () => {
        expect(commands.filter((c) => c.file === "README.md").map((c) => c.command)).toContain("./ovh-failover plan reverse-proxy");
        const pkg = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8")) as { bin?: Record<string, string> };
        expect(pkg.bin?.["ovh-failover"]).toBeDefined();
    });

    it.each(commands.map((c) => [`${c.file}:${c.line}: ${c.command}`, c] as const))("%s", (_label, c) => {
        const r = spawnSync("bash", ["-c", c.command], { cwd: root, env: offlineEnv(), encoding: "utf8", timeout: 180_000 });
        expect({ status: r.status, stderr: r.status === 0 ? "" : r.stderr }).toEqual({ status: 0, stderr: "" });
        expect(r.stdout.trim().length).toBeGreaterThan(0);
    }, 200_000);
});

describe("the documentation's links", () => {
    it.each(files)("every relative link in %s points to a file and heading that exist", (file) => {
        const text = fs.readFileSync(path.join(root, file), "utf8");
        const broken: string[] = [];
        for (const link of relativeLinks(text)) {
            const [target, anchor] = link.split("#", 2);
            const resolved = target === "" ? file : path.posix.normalize(path.posix.join(path.posix.dirname(file), target));
            if (resolved.startsWith("..")) {
                broken.push(`${link}: outside the repository`);
                continue;
            }
            if (!fs.existsSync(path.join(root, resolved))) {
                broken.push(`${link}: no file ${resolved}`);
                continue;
            }
            if (anchor && resolved.endsWith(".md") && !anchorsOf(fs.readFileSync(path.join(root, resolved), "utf8")).has(anchor)) {
                broken.push(`${link}: no heading #${anchor} in ${resolved}`);
            }
        }
        expect(broken).toEqual([]);
    });

    it("reads links and anchors as GitHub does", () => {
        expect(relativeLinks("[a](docs/x.md) `[b](no.md)` [c](https://x.org) [d](#here)\n```\n[e](code.md)\n```")).toEqual(["docs/x.md", "#here"]);
        expect(headingAnchor("Quick start: from nothing to a first `pulumi up`")).toBe("quick-start-from-nothing-to-a-first-pulumi-up");
        expect(headingAnchor("Preemption: `edges.<pair>.preempt`")).toBe("preemption-edgespairpreempt");
        expect(offlineCommands("x.md", "<!-- offline -->\n```sh\nnpx a b   # c\n# d\n\nnpx e\n```\n```sh\nnpx f\n```")).toEqual([
            { file: "x.md", line: 3, command: "npx a b" },
            { file: "x.md", line: 6, command: "npx e" },
        ]);
    });
});
