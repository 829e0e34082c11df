// Recordings of the real `pulumi preview --json` (test/recorded/), written by the test:providers
// tier with the real CLI and provider plugins, and read by the ordinary suite, which holds the
// offline plan to them. A recording is data: what the real programs printed, normalized so that
// it does not change from one machine or run to the next.
import * as fs from "fs";
import * as path from "path";
import { REPO } from "./engine";

export const RECORDED_DIR = path.join(REPO, "test", "recorded");

/** pkg/display/json.go PropertyDiff. */
export interface RecordedPropertyDiff {
    kind: string;
    inputDiff: boolean;
}

/** apitype.ResourceV3 as the preview writes it (sdk/go/common/apitype/core.go), the fields we keep. */
export interface RecordedState {
    urn: string;
    custom: boolean;
    type: string;
    id?: string;
    inputs?: Record<string, unknown>;
    outputs?: Record<string, unknown>;
    parent?: string;
    protect?: boolean;
    provider?: string;
    dependencies?: string[];
    propertyDependencies?: Record<string, string[]>;
    importID?: string;
    retainOnDelete?: boolean;
    ignoreChanges?: string[];
    replaceOnChanges?: string[];
    additionalSecretOutputs?: string[];
    [field: string]: unknown;
}

/** pkg/display/json.go PreviewStep. */
export interface RecordedStep {
    op: string;
    urn: string;
    provider?: string;
    oldState?: RecordedState;
    newState?: RecordedState;
    diffReasons?: string[];
    replaceReasons?: string[];
    detailedDiff: Record<string, RecordedPropertyDiff> | null;
}

export interface RecordedDiagnostic {
    urn?: string;
    prefix?: string;
    message?: string;
    severity?: string;
}

/** pkg/display/json.go PreviewDigest, less its duration. */
export interface RecordedPreview {
    config?: Record<string, string>;
    steps?: RecordedStep[];
    diagnostics?: RecordedDiagnostic[];
    changeSummary?: Record<string, number>;
    maybeCorrupt?: boolean;
}

export interface RecordedPlugin {
    version: string;
    repository: string;
    commit: string;
    tag?: string;
    upstream?: { repository: string; commit: string; tag?: string };
    note?: string;
}

/** The world the preview ran against: no state and nothing adopted, or after `adopt --no-state`. */
export type RecordedWorld = "empty" | "adopted";

export interface Recording {
    /** The bundled stack, or "generated". */
    stack: string;
    world: RecordedWorld;
    recorded: {
        /** The day of the run (YYYY-MM-DD). */
        date: string;
        /** The repository's commit the run was made at, with "+changes" when its work tree differed. */
        commit: string;
        cli: string;
        plugins: Record<string, RecordedPlugin>;
    };
    /** For a generated stack: the stack file it ran with. */
    stackFile?: string;
    /** For the adopted world: the adopt file `ovh-failover adopt --no-state` wrote. */
    adoptFile?: string;
    /** What `pulumi preview --json` printed, normalized (normalizePreview). */
    preview: RecordedPreview;
}


/**
 * Makes a preview comparable across machines and runs: its duration goes, the engine's timestamps
 * of states and the program's source positions go, and the folders of the run become <project>
 * and <repo>.
 */
export function normalizePreview(raw: unknown, folders: { project: string; repo?: string }): RecordedPreview {
    const replaceFolders = (text: string): string => {
        let out = text.split(folders.project).join("<project>");
        out = out.split(fs.realpathSync(folders.project)).join("<project>");
        if (folders.repo) out = out.split(folders.repo).join("<repo>");
        return out;
    };
    const walk = (value: unknown): unknown => {
        if (typeof value === "string") return replaceFolders(value);
        if (Array.isArray(value)) return value.map(walk);
        if (typeof value === "object" && value !== null) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, walk(v)]));
        return value;
    };
    const digest = walk(raw) as RecordedPreview & { duration?: number };
    delete digest.duration;
    for (const step of digest.steps ?? []) {
        for (const state of [step.oldState, step.newState]) {
            delete state?.created;
            delete state?.modified;
            // Where in the program each resource was declared, through the run's folders.
            delete state?.sourcePosition;
            delete state?.stackTrace;
        }
    }
    return digest;
}

export function recordingFile(stack: string, world: RecordedWorld): string {
    return path.join(RECORDED_DIR, `${stack}.${world}.json`);
}

export function readRecordings(): Recording[] {
    if (!fs.existsSync(RECORDED_DIR)) return [];
    return fs.readdirSync(RECORDED_DIR)
        .filter((f) => f.endsWith(".json"))
        .sort()
        .map((f) => JSON.parse(fs.readFileSync(path.join(RECORDED_DIR, f), "utf8")) as Recording);
}

export function writeRecording(r: Recording): string {
    fs.mkdirSync(RECORDED_DIR, { recursive: true });
    // The engine lists steps that do not depend on each other in the order their inputs resolve,
    // which changes from run to run: written by URN (a resource's own steps keep their order), a
    // recording changes only when what it says does.
    r = { ...r, preview: { ...r.preview, ...(r.preview.steps ? { steps: [...r.preview.steps].sort((x, y) => (x.urn < y.urn ? -1 : x.urn > y.urn ? 1 : 0)) } : {}) } };
    const file = recordingFile(r.stack, r.world);
    fs.writeFileSync(file, `${JSON.stringify(r, null, 2)}\n`);
    return file;
}
