// The offline plan held to what the real CLI and provider plugins printed (test/recorded/, written
// by `npm run test:providers`): for every recording, the plan of the same stack in the same world
// gives the same `pulumi preview --json`, step for step and field for field, but for the
// differences the README lists (test/support/previewDifferences.ts). A recording made with other
// provider or CLI versions than the lock's is stale: record again.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { describe, expect, it } from "vitest";
import { plan } from "../../bin/plan";
import { REPO } from "../support/engine";
import { GENERATED, GENERATED_STACK_FILE } from "../support/generatedStack";
import { staleVersions } from "../support/plugins";
import { expectSamePreview } from "../support/previewCompare";
import { differencesTable, unlistedDiagnostics } from "../support/previewDifferences";
import { normalizePreview, readRecordings, Recording } from "../support/recording";

const recordings = readRecordings();

/** The project with the recording's stack file and adopt file, as the tier ran it. */
function projectFor(r: Recording): { dir: string; cleanup(): void } {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ovh-failover-recorded-"));
    fs.copyFileSync(path.join(REPO, "Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
    for (const f of ["package.json", "dist", "node_modules"]) fs.symlinkSync(path.join(REPO, f), path.join(dir, f));
    fs.mkdirSync(path.join(dir, "stacks"));
    const stackFile = r.stackFile ?? fs.readFileSync(path.join(REPO, "stacks", `Pulumi.${r.stack}.yaml`), "utf8");
    fs.writeFileSync(path.join(dir, "stacks", `Pulumi.${r.stack}.yaml`), stackFile);
    if (r.adoptFile !== undefined) fs.writeFileSync(path.join(dir, "stacks", `${r.stack}.adopt.yaml`), r.adoptFile);
    return { dir, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

describe("the recordings of the real preview", () => {
    it("cover every bundled stack and the generated one, from an empty state and after adopt", () => {
        const bundled = fs.readdirSync(path.join(REPO, "stacks")).map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1]).filter((s): s is string => s !== undefined);
        const wanted = [...bundled, GENERATED].flatMap((s) => [`${s}.empty`, `${s}.adopted`]).sort();
        expect(recordings.map((r) => `${r.stack}.${r.world}`).sort()).toEqual(wanted);
    });
    it("hold the generated stack as the tier generates it", () => {
        expect(recordings.filter((r) => r.stack === GENERATED).map((r) => r.stackFile)).toEqual([GENERATED_STACK_FILE, GENERATED_STACK_FILE]);
    });
});

describe.each(recordings.map((r) => [`${r.stack} (${r.world})`, r] as const))("the offline plan of %s and the real preview", (_, r) => {
    it("were made with the CLI and provider plugins package-lock.json and engine/go.mod name (else: npm run test:providers)", () => {
        expect(staleVersions(r.recorded), "the recording is stale: record again with npm run test:providers").toEqual([]);
    });

    it("hold no warning or error the README's table does not list", () => {
        expect(unlistedDiagnostics(r.preview)).toEqual([]);
    });

    it("agree step for step and field for field, but for the listed differences", async () => {
        const project = projectFor(r);
        try {
            const result = await plan(project.dir, { stack: r.stack, sets: [], json: true, showSame: false }, false);
            expect(result.message ?? "").toBe("");
            expectSamePreview(normalizePreview(JSON.parse(result.output), { project: project.dir, repo: REPO }), r.preview);
        } finally {
            project.cleanup();
        }
    });
});

describe("the README's table of differences", () => {
    it("is the list the comparison leaves out, with each reason (test/support/previewDifferences.ts)", () => {
        const readme = fs.readFileSync(path.join(REPO, "README.md"), "utf8");
        expect(readme).toContain(`${differencesTable()}\n`);
    });
});
