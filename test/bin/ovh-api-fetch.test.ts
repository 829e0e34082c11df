// npm run ovh-api:fetch: which URL goes to which file, where the files go and where the tests look.
// The download itself is not run against OVH here (no network): a fake fetch answers.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { afterEach, describe, expect, it } from "vitest";
import { checkSchema, downloadPlan, fetchSchemas, fetchTarget, findSchemaDir, OPTIONAL_OVH_API_SCHEMAS, OVH_API_SCHEMAS, schemaDirCandidates, schemaFileName, schemaUrl } from "../../bin/ovh-api-fetch";

const tmps: string[] = [];
function tmp(): string {
    const d = fs.mkdtempSync(path.join(os.tmpdir(), "ovh-api-fetch-"));
    tmps.push(d);
    return d;
}
afterEach(() => {
    for (const d of tmps.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

const SCHEMA = JSON.stringify({ apis: [{ path: "/ip", operations: [] }], models: {} });

describe("the file mapping", () => {
    it("names each file as the tests read it and each URL as OVH publishes it", () => {
        expect(OVH_API_SCHEMAS.map(schemaFileName)).toEqual(["auth.json", "cloud.json", "dedicated-server.json", "domain.json", "ip.json", "vrack.json"]);
        expect(schemaUrl("dedicated/server")).toBe("https://eu.api.ovh.com/1.0/dedicated/server.json");
        expect(schemaUrl("ip", "https://ca.api.ovh.com/1.0/")).toBe("https://ca.api.ovh.com/1.0/ip.json");
        const plan = downloadPlan("/x");
        expect(plan.map((d) => [d.url, d.file])).toEqual([
            ["https://eu.api.ovh.com/1.0/auth.json", "/x/auth.json"],
            ["https://eu.api.ovh.com/1.0/cloud.json", "/x/cloud.json"],
            ["https://eu.api.ovh.com/1.0/dedicated/server.json", "/x/dedicated-server.json"],
            ["https://eu.api.ovh.com/1.0/domain.json", "/x/domain.json"],
            ["https://eu.api.ovh.com/1.0/ip.json", "/x/ip.json"],
            ["https://eu.api.ovh.com/1.0/vrack.json", "/x/vrack.json"],
        ]);
    });

    it("covers every description the tests need where they are present (vrack.json may be missing: the stand-in has its own description)", () => {
        const root = path.resolve(__dirname, "../..");
        let dir: string;
        try {
            dir = findSchemaDir(root);
        } catch {
            return; // nothing fetched on this machine: the stand-in's tests say so with the command
        }
        const present = fs.readdirSync(dir).filter((n) => n.endsWith(".json")).sort();
        const needed = OVH_API_SCHEMAS.filter((api) => !OPTIONAL_OVH_API_SCHEMAS.includes(api));
        expect(needed).toEqual(["auth", "cloud", "dedicated/server", "domain", "ip"]);
        expect(present).toEqual(expect.arrayContaining(needed.map(schemaFileName)));
    });
});

describe("where the files are", () => {
    it("reads ovh-api/ in the repository first (where the fetch writes), then ../shared/ovh-api; OVH_API_SCHEMA_DIR alone when set", () => {
        expect(schemaDirCandidates("/w/repo", {})).toEqual(["/w/repo/ovh-api", "/w/shared/ovh-api"]);
        expect(schemaDirCandidates("/w/repo", { OVH_API_SCHEMA_DIR: "/s" })).toEqual(["/s"]);
    });

    it("writes only inside the repository (or OVH_API_SCHEMA_DIR), finds its own folder, and names the command when neither holds the files", () => {
        const base = tmp();
        const root = path.join(base, "repo");
        fs.mkdirSync(root);
        expect(() => findSchemaDir(root, {})).toThrow(/npm run ovh-api:fetch/);
        expect(fetchTarget(root, {})).toBe(path.join(root, "ovh-api"));
        fs.mkdirSync(path.join(root, "ovh-api"));
        fs.writeFileSync(path.join(root, "ovh-api", "ip.json"), SCHEMA);
        expect(findSchemaDir(root, {})).toBe(path.join(root, "ovh-api"));
        // A ../shared beside the repository may be anyone's folder: the fetch still writes inside the
        // repository, and its fresh files come before any ../shared/ovh-api.
        fs.mkdirSync(path.join(base, "shared", "ovh-api"), { recursive: true });
        fs.writeFileSync(path.join(base, "shared", "ovh-api", "ip.json"), SCHEMA);
        expect(fetchTarget(root, {})).toBe(path.join(root, "ovh-api"));
        expect(findSchemaDir(root, {})).toBe(path.join(root, "ovh-api"));
        fs.rmSync(path.join(root, "ovh-api"), { recursive: true });
        expect(findSchemaDir(root, {})).toBe(path.join(base, "shared", "ovh-api"));
    });
});

describe("the download", () => {
    it("writes each answer to its file", async () => {
        const dir = path.join(tmp(), "out");
        const asked: string[] = [];
        await fetchSchemas(downloadPlan(dir), async (url) => {
            asked.push(url);
            return { ok: true, status: 200, text: async () => SCHEMA };
        });
        expect(asked).toHaveLength(OVH_API_SCHEMAS.length);
        expect(fs.readdirSync(dir).sort()).toEqual(["auth.json", "cloud.json", "dedicated-server.json", "domain.json", "ip.json", "vrack.json"]);
    });

    it("writes nothing when one answer is an error or not an API description", async () => {
        const dir = path.join(tmp(), "out");
        await expect(
            fetchSchemas(downloadPlan(dir), async (url) => ({ ok: !url.endsWith("/ip.json"), status: 503, text: async () => SCHEMA })),
        ).rejects.toThrow("GET https://eu.api.ovh.com/1.0/ip.json: HTTP 503");
        await expect(fetchSchemas(downloadPlan(dir), async () => ({ ok: true, status: 200, text: async () => "<html>" }))).rejects.toThrow(/not JSON/);
        expect(fs.existsSync(dir)).toBe(false);
        expect(() => checkSchema("ip", JSON.stringify({ apis: [] }))).toThrow(/not an OVH API description/);
    });
});
