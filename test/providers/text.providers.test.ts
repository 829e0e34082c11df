// What the real CLI prints in a terminal: `pulumi preview` (the tree of resources, pkg/backend/display
// progress.go and tree.go) and `pulumi preview --diff` (each resource's properties, diff.go and
// object_diff.go) of every bundled stack from an empty state, and of the reverse-proxy stack after
// `ovh-failover adopt --no-state` (imports), through the real CLI, the real command, ovh and
// proxmoxve plugins (OVH_FAILOVER_PLUGINS, built by hand: docs/testing.md) and the HTTPS OVH
// stand-in. The tree is drawn only on a terminal: each preview runs under script(1), in a
// pseudo-terminal of a fixed size, without colors; what ends on the screen is recorded, normalized,
// as test/recorded/<stack>.<world>.preview.txt and .preview-diff.txt, which the ordinary suite holds
// the offline plan's text to (test/recorded/text.test.ts).
import * as fs from "fs";
import * as path from "path";
import { describe, expect, it } from "vitest";
import { REPO } from "../support/engine";
import { useProvidersTier } from "../support/providersTier";
import { realProject, RealProject } from "../support/realStack";
import { RECORDED_DIR, readRecordings, RecordedWorld } from "../support/recording";
import { accountBefore, lostStateWorld } from "../support/worlds";

const BUNDLED = ["reverse-proxy", "new-container", "edge-pair", "layouts", "routed", "public-cloud"];

/** The terminal: wide enough that no row of the tree is cut (the CLI cuts a row at the width less one). */
const COLUMNS = 200;
const ROWS = 50;

const tier = useProvidersTier();

/**
 * The screen a stream of terminal output leaves: printable characters written at the cursor,
 * carriage return, line feed, backspace, cursor up and down (CSI A, B), erase to the end of the
 * line (CSI K); other control sequences (colors, the cursor shown or hidden, the CLI's queries of
 * the terminal) change nothing on it. The tree is redrawn in place from where it began, so the
 * screen keeps its last frame. Lines are not wrapped: the tree's rows are cut by the CLI to the
 * width, and the rest is printed once, line by line.
 */
function finalScreen(raw: string): string[] {
    const lines: string[][] = [[]];
    let row = 0;
    let col = 0;
    const chars = Array.from(raw);
    const line = () => {
        while (lines.length <= row) lines.push([]);
        return lines[row];
    };
    for (let i = 0; i < chars.length; i++) {
        const c = chars[i];
        if (c === "\x1b") {
            if (chars[i + 1] === "[") {
                let j = i + 2;
                let params = "";
                while (j < chars.length && /[0-9;?<=>]/.test(chars[j])) params += chars[j++];
                const count = Number(params.replace(/^\?/, "") || "1");
                const final = chars[j];
                if (final === "A") row = Math.max(0, row - count);
                else if (final === "B") row += count;
                else if (final === "K" && (params === "" || params === "0")) line().length = Math.min(line().length, col);
                i = j;
            } else if (chars[i + 1] === "]") {
                // An operating system command, ended by BEL or ESC \.
                let j = i + 2;
                while (j < chars.length && chars[j] !== "\x07" && !(chars[j] === "\x1b" && chars[j + 1] === "\\")) j++;
                i = chars[j] === "\x07" ? j : j + 1;
            } else {
                i += 1;
            }
        } else if (c === "\r") {
            col = 0;
        } else if (c === "\n") {
            row++;
            line();
        } else if (c === "\b") {
            col = Math.max(0, col - 1);
        } else if (c >= " ") {
            const l = line();
            while (l.length < col) l.push(" ");
            l[col++] = c;
        }
    }
    return lines.map((l) => l.join("").trimEnd());
}

/**
 * A capture made comparable across machines and runs: the run's folders become <project> and
 * <repo>; the lines naming where the update can be seen online (Pulumi Cloud's "View in Browser"
 * and "View Live", a permalink) and how long it took go; blank lines at the start and the end go.
 */
function normalizeCapture(lines: string[], folders: { project: string; repo: string }): string {
    const replaceFolders = (text: string) => {
        let out = text.split(folders.project).join("<project>").split(fs.realpathSync(folders.project)).join("<project>");
        out = out.split(folders.repo).join("<repo>");
        return out;
    };
    const kept = lines
        .map(replaceFolders)
        .filter((l) => !/^\s*(View in Browser|View Live)\b/.test(l) && !/^\s*https?:\/\/\S+\s*$/.test(l) && !/^\s*Duration:/.test(l));
    while (kept.length > 0 && kept[0].trim() === "") kept.shift();
    while (kept.length > 0 && kept[kept.length - 1].trim() === "") kept.pop();
    return `${kept.join("\n")}\n`;
}

/** `pulumi preview` as a user runs it in a terminal, without colors; the screen it leaves. */
async function previewOnTerminal(project: RealProject, ...flags: string[]): Promise<string[]> {
    const pulumi = path.join(tier.ws.engine.binDir, "pulumi");
    const command = `stty cols ${COLUMNS} rows ${ROWS} && exec '${pulumi}' preview --stack '${project.stack}' --color never ${flags.join(" ")}`;
    const r = await project.run(["script", "--quiet", "--flush", "--return", "--command", command, "/dev/null"], { NO_COLOR: "1", TERM: "xterm" });
    const screen = finalScreen(r.stdout);
    if (r.code !== 0) throw new Error(`pulumi preview ${flags.join(" ")} exited ${r.code}:\n${screen.join("\n")}\n${r.stderr}`);
    return screen;
}

function write(file: string, text: string): void {
    // The CLI lists siblings in the order their inputs resolve, which changes from run to run: a
    // capture that says the same in another order is left as it is, so a recording changes only
    // when what it says does.
    const target = path.join(RECORDED_DIR, file);
    const sameLines = (a: string, b: string) => a.split("\n").map((l) => l.replace(/[├└]─/g, "")).sort().join("\n") === b.split("\n").map((l) => l.replace(/[├└]─/g, "")).sort().join("\n");
    if (fs.existsSync(target) && sameLines(fs.readFileSync(target, "utf8"), text)) return;
    fs.writeFileSync(target, text);
    console.log(`recorded ${path.relative(REPO, path.join(RECORDED_DIR, file))}`);
}

/** Both displays of one stack in one world, checked and recorded. */
async function capture(project: RealProject, world: RecordedWorld): Promise<void> {
    const folders = { project: project.dir, repo: REPO };
    const tree = await previewOnTerminal(project);
    const diff = await previewOnTerminal(project, "--diff");
    for (const [file, screen] of [[`${project.stack}.${world}.preview.txt`, tree], [`${project.stack}.${world}.preview-diff.txt`, diff]] as const) {
        const text = normalizeCapture(screen, folders);
        // The display of a preview that ran clean: its header, the summary, no diagnostics.
        expect(text).toMatch(new RegExp(`^Previewing update \\(${project.stack}\\):\n`));
        expect(text).toMatch(/\nResources:\n( {4}.*\n)+$/);
        expect(text).not.toMatch(/^(Diagnostics:|\s*(warning|error): )/m);
        write(file, text);
    }
    // No row of the tree reached the width, where the CLI would have cut it.
    expect(tree.filter((l) => l.length >= COLUMNS - 1)).toEqual([]);
    expect(tree.some((l) => /^ \+ {3}pulumi:pulumi:Stack /.test(l))).toBe(true);
    expect(tier.standIn.violations).toEqual([]);
}

describe.each(BUNDLED)("the bundled stack %s from an empty state, previewed by the real CLI and plugins on a terminal", (stack) => {
    it("prints the tree of resources and, with --diff, their properties: both recorded", async () => {
        accountBefore(stack, tier.standIn);
        await capture(await realProject(tier.ws, stack), "empty");
    });
});

describe("the reverse-proxy stack after ovh-failover adopt --no-state, previewed by the real CLI and plugins on a terminal", () => {
    it("prints the imports: both displays recorded, with the adopt file of the --json recording", async () => {
        lostStateWorld(tier.standIn);
        const project = await realProject(tier.ws, "reverse-proxy");
        const adopt = await project.run(
            [process.execPath, path.join(REPO, "dist", "bin", "ovh-failover.js"), "adopt", "reverse-proxy", "--no-state", "--skip-hosts"],
            { OVH_ENDPOINT: "ovh-eu" },
        );
        expect(adopt.code, adopt.stderr).toBe(0);
        // The ordinary suite plans with the adopt file of test/recorded/reverse-proxy.adopted.json.
        const adoptFile = fs.readFileSync(path.join(project.dir, "stacks", "reverse-proxy.adopt.yaml"), "utf8");
        const recorded = readRecordings().find((r) => r.stack === "reverse-proxy" && r.world === "adopted")?.adoptFile;
        expect(adoptFile.trim(), "the adopt file differs from the --json recording's: npm run test:providers records both").toBe(recorded?.trim());
        await capture(project, "adopted");
    });
});
