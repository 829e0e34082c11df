import { execFileSync } from "child_process";
import * as fs from "fs";
import * as https from "https";
import * as os from "os";
import * as path from "path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ProxmoxStandIn, ROUTES_FILE, startProxmoxStandIn } from "./proxmoxStandIn";
import { readContainerConfig, writePctStandIn } from "./pctStandIn";

const TEMPLATE = "local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst";
const PVE_API = "/api2/json";

interface Answer {
    status: number;
    reason: string;
    body: { data: unknown; message?: string; errors?: Record<string, string> };
}

type Params = Record<string, string | string[]>;

/** One call as the plugin makes it (proxmox/api/client.go): a form body for POST/PUT, a query otherwise. */
function call(s: ProxmoxStandIn, method: string, route: string, params: Params = {}, token: string | null = s.apiToken): Promise<Answer> {
    const encoded = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) for (const one of Array.isArray(v) ? v : [v]) encoded.append(k, one);
    const form = method === "POST" || method === "PUT";
    const query = !form && encoded.toString() ? `?${encoded.toString()}` : "";
    const body = form ? encoded.toString() : "";
    const headers: Record<string, string> = { Accept: "application/json" };
    if (token !== null) headers.Authorization = `PVEAPIToken=${token}`;
    if (form && body) headers["Content-Type"] = "application/x-www-form-urlencoded";
    return new Promise((resolve, reject) => {
        const req = https.request({ host: "127.0.0.1", port: s.port, method, path: `${PVE_API}${route}${query}`, headers, ca: s.caPem }, (res) => {
            let text = "";
            res.on("data", (d: Buffer) => (text += d.toString()));
            res.on("end", () => resolve({ status: res.statusCode ?? 0, reason: res.statusMessage ?? "", body: JSON.parse(text) as Answer["body"] }));
        });
        req.on("error", reject);
        req.end(body);
    });
}

async function ok(s: ProxmoxStandIn, method: string, route: string, params: Params = {}): Promise<unknown> {
    const a = await call(s, method, route, params);
    if (a.status !== 200) throw new Error(`${method} ${route}: ${a.status} ${a.reason} ${JSON.stringify(a.body)}`);
    return a.body.data;
}

async function waitTask(s: ProxmoxStandIn, upid: string): Promise<Record<string, unknown>> {
    const node = upid.split(":")[1];
    for (let i = 0; i < 200; i++) {
        const st = (await ok(s, "GET", `/nodes/${node}/tasks/${encodeURIComponent(upid)}/status`)) as Record<string, unknown>;
        if (st.status === "stopped") return st;
        await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error(`task ${upid} never stopped`);
}

interface ReturnSchema {
    type?: string;
    optional?: number;
    properties?: Record<string, ReturnSchema>;
    items?: ReturnSchema;
}

/** What the answer lacks or mistypes against the route's `returns` schema. */
function returnProblems(data: unknown, schema: ReturnSchema | null, where = "data"): string[] {
    if (!schema || data === null || data === undefined) return [];
    const problems: string[] = [];
    if (schema.type === "array") {
        if (!Array.isArray(data)) return [`${where}: not an array`];
        data.forEach((item, i) => problems.push(...returnProblems(item, schema.items ?? null, `${where}[${i}]`)));
    } else if (schema.type === "object") {
        if (typeof data !== "object" || Array.isArray(data)) return [`${where}: not an object`];
        const record = data as Record<string, unknown>;
        for (const [k, sub] of Object.entries(schema.properties ?? {})) {
            if (record[k] === undefined) {
                if (sub.optional !== 1) problems.push(`${where}.${k}: missing`);
                continue;
            }
            problems.push(...returnProblems(record[k], sub, `${where}.${k}`));
        }
    } else if (schema.type === "integer" || schema.type === "number") {
        if (typeof data !== "number") problems.push(`${where}: ${JSON.stringify(data)} is not a number`);
    } else if (schema.type === "string") {
        if (typeof data !== "string") problems.push(`${where}: ${JSON.stringify(data)} is not a string`);
    }
    return problems;
}

const routes = (JSON.parse(fs.readFileSync(ROUTES_FILE, "utf8")) as { routes: Record<string, { returns: ReturnSchema | null }> }).routes;

async function checked(s: ProxmoxStandIn, method: string, template: string, route: string, params: Params = {}): Promise<unknown> {
    const data = await ok(s, method, route, params);
    expect(returnProblems(data, routes[`${method} ${template}`].returns), `${method} ${template}`).toEqual([]);
    return data;
}

/** What the plugin sent to create the stack's container (recorded from a run of the real plugin). */
const CREATE: Params = {
    arch: "amd64", cmode: "tty", console: "1", cores: "4", cpulimit: "0", description: "Managed by ovh-failover",
    hostname: "off1-proxy", memory: "2048",
    net0: "bridge=vmbr1,host-managed=0,ip=10.1.0.100/24,name=eth0",
    net1: "bridge=vmbr0,host-managed=0,ip=203.0.113.215/32,gw=198.51.100.254,hwaddr=02:00:00:AA:BB:CC,name=eth1",
    onboot: "1", ostemplate: TEMPLATE, ostype: "debian", protection: "0", rootfs: "volume=local-zfs:32", start: "1",
    storage: "local-zfs", swap: "0", template: "0", tty: "2", unprivileged: "1", vmid: "100",
};

describe("Proxmox VE API stand-in", () => {
    let s: ProxmoxStandIn;
    let root: string;
    beforeEach(async () => {
        root = fs.mkdtempSync(path.join(os.tmpdir(), "pve-root-"));
        s = await startProxmoxStandIn({ taskMs: 30, pveRoot: root });
        s.addNode("off1", { templates: [TEMPLATE] });
    });
    afterEach(async () => {
        await s.close();
        fs.rmSync(root, { recursive: true, force: true });
    });

    async function create(params: Params = CREATE): Promise<Record<string, unknown>> {
        const upid = (await checked(s, "POST", "/nodes/{node}/lxc", "/nodes/off1/lxc", params)) as string;
        return waitTask(s, upid);
    }

    it("checks the API token of every request", async () => {
        expect(await call(s, "GET", "/version", {}, null)).toMatchObject({ status: 401, reason: "No ticket" });
        const [user] = s.apiToken.split("=");
        expect((await call(s, "GET", "/version", {}, `${user}=00000000-0000-0000-0000-000000000000`)).status).toBe(401);
        expect((await call(s, "GET", "/version", {}, "root@pam:secret")).status).toBe(401);
        const version = (await checked(s, "GET", "/version", "/version")) as Record<string, unknown>;
        expect(version).toMatchObject({ version: "9.1.3", release: "9.1" });
        expect(s.violations).toHaveLength(3);
    });

    it("answers 501 for a route the API does not have, and 400 with the errors of each bad parameter", async () => {
        expect(await call(s, "GET", "/nodes/off1/lxc/100/nonsense")).toMatchObject({ status: 501 });
        const bad = await call(s, "POST", "/nodes/off1/lxc", {
            ...CREATE, vmid: "99", start: "true", colour: "blue",
            net1: "bridge=vmbr0,hwaddr=03:00:00:AA:BB:CC,name=eth1", net32: "name=eth32",
        });
        expect(bad.status).toBe(400);
        expect(bad.reason).toBe("Parameter verification failed.");
        expect(bad.body.errors).toEqual({
            // JSONSchema.pm check_prop checks the format before the range.
            vmid: "invalid format - value does not look like a valid VM ID",
            start: "type check ('boolean') failed - got 'true'",
            colour: "property is not defined in schema and the schema does not allow additional properties",
            net1: expect.stringMatching(/^invalid format - format error\nhwaddr: invalid format - value does not look like a valid unicast MAC address/) as unknown,
            net32: "property is not defined in schema and the schema does not allow additional properties",
        });
        const missing = await call(s, "POST", "/nodes/off1/lxc", { vmid: "100", net0: "bridge=vmbr0" });
        expect(missing.body.errors).toMatchObject({ ostemplate: "property is missing and it is not optional", net0: expect.stringContaining("name: property is missing") as unknown });
        expect(s.violations).toHaveLength(3);
        expect(s.containerConfig(100)).toBeUndefined();
    });

    it("creates a container in a task: locked at once, filled and started when the task ends", async () => {
        const release = s.holdTasks();
        const upid = (await ok(s, "POST", "/nodes/off1/lxc", CREATE)) as string;
        expect(upid).toMatch(/^UPID:off1:[0-9A-F]{8}:[0-9A-F]{8}:[0-9A-F]{8}:vzcreate:100:root@pam!ovh-failover:$/);
        const during = (await checked(s, "GET", "/nodes/{node}/lxc/{vmid}/status/current", "/nodes/off1/lxc/100/status/current")) as Record<string, unknown>;
        expect(during).toMatchObject({ status: "stopped", lock: "create" });
        expect((await checked(s, "GET", "/nodes/{node}/tasks/{upid}/status", `/nodes/off1/tasks/${encodeURIComponent(upid)}/status`)) as Record<string, unknown>).toMatchObject({ status: "running", type: "vzcreate" });
        release();
        expect(await waitTask(s, upid)).toMatchObject({ status: "stopped", exitstatus: "OK" });
        expect(s.isRunning(100)).toBe(true);

        const conf = s.containerConfig(100)!;
        expect(conf.lock).toBeUndefined();
        expect(conf.net1).toBe("name=eth1,bridge=vmbr0,gw=198.51.100.254,host-managed=0,hwaddr=02:00:00:AA:BB:CC,ip=203.0.113.215/32,type=veth");
        expect(conf.net0).toMatch(/^name=eth0,bridge=vmbr1,host-managed=0,hwaddr=BC:24:11:[0-9A-F]{2}:[0-9A-F]{2}:[0-9A-F]{2},ip=10\.1\.0\.100\/24,type=veth$/);
        expect(conf.rootfs).toBe("local-zfs:subvol-100-disk-0,size=32G");
        expect(s.containerConfigText(100)).toMatch(/^#Managed by ovh-failover\narch: amd64\n/);

        const got = (await checked(s, "GET", "/nodes/{node}/lxc/{vmid}/config", "/nodes/off1/lxc/100/config")) as Record<string, unknown>;
        expect(got).toMatchObject({ cores: 4, memory: 2048, onboot: 1, unprivileged: 1, description: "Managed by ovh-failover\n", hostname: "off1-proxy" });
        expect(got.digest).toMatch(/^[0-9a-f]{40}$/);
        const log = (await checked(s, "GET", "/nodes/{node}/tasks/{upid}/log", `/nodes/off1/tasks/${encodeURIComponent(upid)}/log`)) as { t: string }[];
        expect(log.at(-1)?.t).toBe("TASK OK");
        const ifaces = (await checked(s, "GET", "/nodes/{node}/lxc/{vmid}/interfaces", "/nodes/off1/lxc/100/interfaces")) as Record<string, unknown>[];
        expect(ifaces.map((i) => i.name)).toEqual(["lo", "eth0", "eth1"]);
        expect(ifaces[2]).toMatchObject({ "hardware-address": "02:00:00:aa:bb:cc", inet: "203.0.113.215/32" });
        expect(s.violations).toEqual([]);
    });

    it("refuses a second container with the same vmid, and fails the task of a template that is not there", async () => {
        await create();
        expect(await call(s, "POST", "/nodes/off1/lxc", CREATE)).toMatchObject({ status: 500, reason: "CT 100 already exists on node 'off1'" });
        const failed = await create({ ...CREATE, vmid: "101", ostemplate: "local:vztmpl/nothing.tar.zst" });
        expect(failed.exitstatus).toBe("unable to create CT 101 - volume 'local:vztmpl/nothing.tar.zst' does not exist");
        expect(s.containerConfig(101)).toBeUndefined();
        expect((await call(s, "POST", "/nodes/off1/lxc", { ...CREATE, vmid: "102", rootfs: "volume=local:8" })).body.errors).toEqual({ storage: "storage 'local' does not support container directories" });
        expect(await call(s, "POST", "/nodes/off1/lxc", { ...CREATE, vmid: "103", rootfs: "volume=nvme:8" })).toMatchObject({ status: 500, reason: "storage 'nvme' does not exist" });
        s.failNextTask("vzcreate", "unable to create CT 104 - disk full");
        expect((await create({ ...CREATE, vmid: "104" })).exitstatus).toBe("unable to create CT 104 - disk full");
    });

    it("answers 500 for a container or node that does not exist", async () => {
        expect(await call(s, "GET", "/nodes/off1/lxc/999/config")).toMatchObject({ status: 500, reason: "Configuration file 'nodes/off1/lxc/999.conf' does not exist" });
        expect((await call(s, "GET", "/nodes/off1/lxc/999/config")).body.message).toBe("Configuration file 'nodes/off1/lxc/999.conf' does not exist\n");
        expect((await call(s, "GET", "/nodes/off1/lxc/999/status/current")).status).toBe(500);
        expect((await call(s, "DELETE", "/nodes/off1/lxc/999")).status).toBe(500);
        expect((await call(s, "GET", "/nodes/off2/lxc")).reason).toMatch(/^hostname lookup 'off2' failed/);
        expect((await ok(s, "GET", "/nodes/off1/lxc/999/interfaces"))).toBeNull();
    });

    it("updates a running container: NICs and cores at once, other options pending until a reboot", async () => {
        await create();
        const before = s.containerConfig(100)!;
        // What the plugin sent for a change of cores and of the public NIC (delete as repeated keys).
        await checked(s, "PUT", "/nodes/{node}/lxc/{vmid}/config", "/nodes/off1/lxc/100/config", {
            arch: "amd64", cores: "2", ostype: "ubuntu",
            delete: ["cpulimit", "net2", "net3", "net4", "net5", "net6", "net7", "net8", "net9"],
            net0: `bridge=vmbr1,firewall=0,host-managed=0,ip=10.1.0.100/24,hwaddr=${/hwaddr=([^,]+)/.exec(before.net0)![1]},name=eth0`,
            net1: "bridge=vmbr0,firewall=0,host-managed=0,ip=203.0.113.216/32,gw=198.51.100.254,hwaddr=02:00:00:DD:EE:FF,name=eth1",
        });
        const conf = s.containerConfig(100)!;
        expect(conf.cores).toBe("2");
        expect(conf.cpulimit).toBeUndefined();
        expect(conf.net1).toBe("name=eth1,bridge=vmbr0,firewall=0,gw=198.51.100.254,host-managed=0,hwaddr=02:00:00:DD:EE:FF,ip=203.0.113.216/32,type=veth");
        expect(conf.ostype).toBe("debian");
        expect(s.pendingConfig(100)).toEqual({ arch: "amd64", ostype: "ubuntu" });
        expect(((await ok(s, "GET", "/nodes/off1/lxc/100/config")) as Record<string, unknown>).ostype).toBe("ubuntu");
        expect(((await ok(s, "GET", "/nodes/off1/lxc/100/config", { current: "1" })) as Record<string, unknown>).ostype).toBe("debian");
        const pending = (await checked(s, "GET", "/nodes/{node}/lxc/{vmid}/pending", "/nodes/off1/lxc/100/pending")) as Record<string, unknown>[];
        expect(pending.find((p) => p.key === "ostype")).toEqual({ key: "ostype", value: "debian", pending: "ubuntu" });
        expect(pending.find((p) => p.key === "cores")).toEqual({ key: "cores", value: "2" });
        const reboot = (await checked(s, "POST", "/nodes/{node}/lxc/{vmid}/status/reboot", "/nodes/off1/lxc/100/status/reboot", { timeout: "300" })) as string;
        expect((await waitTask(s, reboot)).exitstatus).toBe("OK");
        expect(s.containerConfig(100)!.ostype).toBe("ubuntu");
        expect(s.pendingConfig(100)).toEqual({});
        expect(s.violations).toEqual([]);
    });

    it("refuses what pve-container refuses on an update", async () => {
        await create();
        expect(await call(s, "PUT", "/nodes/off1/lxc/100/config", {})).toMatchObject({ status: 500, reason: "no options specified" });
        expect((await call(s, "PUT", "/nodes/off1/lxc/100/config", { cores: "2", delete: "cores" })).body.errors).toEqual({ delete: "you can't use '-cores' and -delete cores' at the same time" });
        expect(await call(s, "PUT", "/nodes/off1/lxc/100/config", { unprivileged: "0" })).toMatchObject({ status: 500, reason: "unable to modify read-only option: 'unprivileged'" });
        expect(await call(s, "PUT", "/nodes/off1/lxc/100/config", { delete: "memory" })).toMatchObject({ status: 500, reason: "unable to delete required option 'memory'" });
        expect(await call(s, "PUT", "/nodes/off1/lxc/100/config", { cores: "2", digest: "0".repeat(40) })).toMatchObject({ status: 500, reason: "detected modified configuration - file changed by other user? Try again." });
        expect((await call(s, "PUT", "/nodes/off1/lxc/100/config", { cores: "0" })).body.errors).toEqual({ cores: "value must have a minimum value of 1" });
    });

    it("starts, shuts down and deletes, and refuses to delete a running container", async () => {
        await create();
        expect(await call(s, "POST", "/nodes/off1/lxc/100/status/start")).toMatchObject({ status: 500, reason: "CT 100 already running" });
        expect(await call(s, "DELETE", "/nodes/off1/lxc/100")).toMatchObject({ status: 500, reason: "unable to destroy CT 100 - container is running" });
        const shutdown = (await checked(s, "POST", "/nodes/{node}/lxc/{vmid}/status/shutdown", "/nodes/off1/lxc/100/status/shutdown", { forceStop: "1", timeout: "55" })) as string;
        expect(s.isRunning(100)).toBe(true);
        await waitTask(s, shutdown);
        expect(s.isRunning(100)).toBe(false);
        expect(await call(s, "POST", "/nodes/off1/lxc/100/status/stop")).toMatchObject({ status: 500, reason: "CT 100 not running" });
        expect(await call(s, "POST", "/nodes/off1/lxc/100/status/reboot")).toMatchObject({ status: 500, reason: "VM 100 not running" });
        expect(await ok(s, "GET", "/nodes/off1/lxc/100/interfaces")).toBeNull();
        const start = (await checked(s, "POST", "/nodes/{node}/lxc/{vmid}/status/start", "/nodes/off1/lxc/100/status/start")) as string;
        await waitTask(s, start);
        const stop = (await checked(s, "POST", "/nodes/{node}/lxc/{vmid}/status/stop", "/nodes/off1/lxc/100/status/stop")) as string;
        await waitTask(s, stop);
        const del = (await checked(s, "DELETE", "/nodes/{node}/lxc/{vmid}", "/nodes/off1/lxc/100")) as string;
        expect(s.containerConfig(100)).toBeDefined();
        expect((await waitTask(s, del)).exitstatus).toBe("OK");
        expect(s.containerConfig(100)).toBeUndefined();
        expect(await call(s, "GET", "/nodes/off1/lxc/100/status/current")).toMatchObject({ status: 500, reason: "Configuration file 'nodes/off1/lxc/100.conf' does not exist" });
        expect(s.tasks().map((t) => t.type)).toEqual(["vzcreate", "vzshutdown", "vzstart", "vzstop", "vzdestroy"]);
        expect(s.violations).toEqual([]);
    });

    it("resizes the root disk in a task and refuses to shrink it", async () => {
        await create();
        const grow = (await checked(s, "PUT", "/nodes/{node}/lxc/{vmid}/resize", "/nodes/off1/lxc/100/resize", { disk: "rootfs", size: "+8G" })) as string;
        await waitTask(s, grow);
        expect(s.containerConfig(100)!.rootfs).toBe("local-zfs:subvol-100-disk-0,size=40G");
        const shrink = (await ok(s, "PUT", "/nodes/off1/lxc/100/resize", { disk: "rootfs", size: "16G" })) as string;
        expect((await waitTask(s, shrink)).exitstatus).toBe("unable to shrink disk size");
    });

    it("lists nodes, containers, storages, their content and cluster resources, and finds a free vmid", async () => {
        await create();
        expect(await checked(s, "GET", "/nodes", "/nodes")).toMatchObject([{ node: "off1", status: "online" }]);
        await checked(s, "GET", "/nodes/{node}/status", "/nodes/off1/status");
        expect(await checked(s, "GET", "/nodes/{node}/lxc", "/nodes/off1/lxc")).toMatchObject([{ vmid: 100, status: "running", name: "off1-proxy" }]);
        await checked(s, "GET", "/nodes/{node}/lxc/{vmid}", "/nodes/off1/lxc/100");
        const storages = (await checked(s, "GET", "/nodes/{node}/storage", "/nodes/off1/storage", { content: "rootdir" })) as { storage: string }[];
        expect(storages.map((x) => x.storage)).toEqual(["local-lvm", "local-zfs"]);
        expect(await checked(s, "GET", "/nodes/{node}/storage/{storage}/content", "/nodes/off1/storage/local/content", { content: "vztmpl" })).toMatchObject([{ volid: TEMPLATE }]);
        expect(await checked(s, "GET", "/nodes/{node}/storage/{storage}/content", "/nodes/off1/storage/local-zfs/content")).toMatchObject([{ volid: "local-zfs:subvol-100-disk-0", vmid: 100, size: 32 * 1024 ** 3 }]);
        expect(await checked(s, "GET", "/cluster/nextid", "/cluster/nextid")).toBe(101);
        expect(await call(s, "GET", "/cluster/nextid", { vmid: "100" })).toMatchObject({ status: 500, reason: "VM 100 already exists" });
        const resources = (await checked(s, "GET", "/cluster/resources", "/cluster/resources", { type: "vm" })) as Record<string, unknown>[];
        expect(resources).toMatchObject([{ id: "lxc/100", type: "lxc", node: "off1" }]);
        expect(s.violations).toEqual([]);
    });

    it("shares its containers with the pct stand-in when both use the same root", async () => {
        await create();
        const bin = fs.mkdtempSync(path.join(os.tmpdir(), "pct-bin-"));
        try {
            const pct = writePctStandIn(bin, root);
            expect(readContainerConfig(root, 100)).toContain("net1: name=eth1,bridge=vmbr0,");
            expect(execFileSync(pct, ["status", "100"], { encoding: "utf8" })).toBe("status: running\n");
            execFileSync(pct, ["set", "100", "--net1", "name=eth1,bridge=vmbr0,hwaddr=02:00:00:11:22:33,ip=203.0.113.217/32,gw=198.51.100.254"]);
            const got = (await ok(s, "GET", "/nodes/off1/lxc/100/config")) as Record<string, unknown>;
            expect(got.net1).toBe("name=eth1,bridge=vmbr0,gw=198.51.100.254,hwaddr=02:00:00:11:22:33,ip=203.0.113.217/32,type=veth");
            expect(got.description).toBe("Managed by ovh-failover\n");
        } finally {
            fs.rmSync(bin, { recursive: true, force: true });
        }
    });

    it("records every request with its route and parameters", async () => {
        await ok(s, "GET", "/nodes/off1/lxc/100/config").catch(() => undefined);
        await ok(s, "GET", "/version");
        expect(s.calls()).toEqual(["GET /nodes/{node}/lxc/{vmid}/config", "GET /version"]);
        expect(s.requests[0]).toMatchObject({ method: "GET", path: "/api2/json/nodes/off1/lxc/100/config", params: { node: "off1", vmid: "100" }, status: 500 });
    });
});
