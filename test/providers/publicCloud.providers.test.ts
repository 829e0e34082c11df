// `pulumi up` through the real CLI and the real command and ovh plugins for the public-cloud stack
// (stacks/Pulumi.public-cloud.yaml): an additional IP imported into a Public Cloud project,
// attached to an instance, which takes it as a /32 in a netplan file of its own; then DNS. Up
// from nothing, an `up` with nothing to do, an IP change (to the project's second IP: a new
// attach, the alias moved, the old IP left attached since OVH has no detach), a change of the
// records alone, and `destroy`. The world: the HTTPS OVH stand-in (whose attach leaves the IP
// operationPending for a step), and the instance (test/support/cloudInstance.ts), a real sshd at
// the stack's address logged into as `debian`, root through sudo; OVH's network on its public
// port routes an IP to it once attached. A ping from there proves the alias answers; its absence
// after destroy proves the instance undone while the attaches stay.
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CloudInstance, startCloudInstance } from "../support/cloudInstance";
import { REPO } from "../support/engine";
import { changed, editStack } from "../support/lifecycle";
import { DNS_WRITE, startLifecycle } from "../support/lifecycleRun";
import { writeLifecycleRecording } from "../support/lifecycleRecording";
import { recordedBy, useProvidersTier } from "../support/providersTier";
import { remote } from "../support/sshLab";
import { accountBefore, PUBLIC_CLOUD } from "../support/worlds";

const tier = useProvidersTier();

const STACK = "public-cloud";
const ZONE = "example.org";
const ADDRESS = "198.51.100.60";
const GATEWAY = "198.51.100.1";
const PORT = "ens3";
const ALIAS_FILE = "/etc/netplan/60-ovh-failover-192-0-2-60.yaml";
const NEW_ALIAS_FILE = "/etc/netplan/60-ovh-failover-192-0-2-61.yaml";
const ATTACH = /^POST \/cloud\/project\/[^ ]*\/ip\/failover\/[^ ]*\/attach$/;

/** What the alias may change on the instance: its addresses, its routes (every table), and every file under the folders it writes, with mode, owner and digest. */
const INSTANCE_STATE = `ip -4 -o addr show
ip -4 route show table all
find /etc/netplan /etc/network /var/lib/ovh-failover -printf '%p %m %U\\n' 2>/dev/null | sort || true
find /etc/netplan /etc/network /var/lib/ovh-failover -type f -exec sha256sum {} + 2>/dev/null | sort || true`;

describe("the public-cloud stack through the real CLI and plugins: an attach, the instance's /32 in netplan, DNS", () => {
    let instance: CloudInstance;
    let before: string;

    beforeAll(async () => {
        instance = await startCloudInstance(tier.ws.network.ns, { address: ADDRESS, gateway: GATEWAY, interfaceName: PORT, user: "debian" });
        before = await remote(instance.ssh, INSTANCE_STATE);
    }, 120_000);
    afterAll(() => instance?.stop());

    const sh = (script: string) => remote(instance.ssh, script);
    const state = () => sh(INSTANCE_STATE);
    /** OVH's network pings the IP: an answer within 3 s. */
    const answers = (ip = PUBLIC_CLOUD.ip) => instance.inOvh("ping", "-n", "-c", "1", "-W", "3", ip).status === 0;
    const silent = (ip: string) => instance.inOvh("ping", "-n", "-c", "1", "-W", "1", ip).status !== 0;
    const failoverIp = (id = PUBLIC_CLOUD.failoverId) => tier.standIn.cloudFailoverIps(PUBLIC_CLOUD.project).find((f) => f.id === id);
    /** The instance's state as the alias of the second IP instead of the first would leave it: every trace of one swapped for the other's. */
    const withSecondIp = (text: string) => text.replaceAll(PUBLIC_CLOUD.ip, PUBLIC_CLOUD.ip2).replaceAll(PUBLIC_CLOUD.ip.replaceAll(".", "-"), PUBLIC_CLOUD.ip2.replaceAll(".", "-"));
    /** The contents of every file under the folders the alias writes (the state's digests cannot be swapped). */
    const files = () => sh("find /etc/netplan /etc/network /var/lib/ovh-failover -type f 2>/dev/null | sort | while read -r f; do echo \"== $f\"; cat \"$f\"; done");
    const now = () => performance.timeOrigin + performance.now();

    it("up from nothing, a no-op, an IP change, a records change, destroy", async () => {
        accountBefore(STACK, tier.standIn);
        const secrets = [tier.standIn.applicationSecret, tier.standIn.consumerKey, instance.ssh.clientKey.split("\n")[1]];
        const doc = YAML.parseDocument(fs.readFileSync(path.join(REPO, "stacks", `Pulumi.${STACK}.yaml`), "utf8"));
        doc.setIn(["config", "ovh-failover:endpoints", "pci", "cloud", "ssh", "hostKey"], instance.ssh.hostKey);
        doc.setIn(["config", "ovh-failover:cloudSshPrivateKey"], { secure: `v1:bGFi:${Buffer.from(instance.ssh.clientKey).toString("base64")}` });
        const lifecycle = await startLifecycle(tier, {}, STACK, doc.toString(), () => secrets);
        const { project, run, recordsOf } = lifecycle;

        // Before: both IPs attached to the project's other instance; the instance holds its lease only.
        expect(failoverIp()?.routedTo).toBe(PUBLIC_CLOUD.otherInstance);
        expect(failoverIp(PUBLIC_CLOUD.failoverId2)?.routedTo).toBe(PUBLIC_CLOUD.otherInstance);
        expect(await sh(`ip -4 -o addr show dev ${PORT}`)).not.toContain(PUBLIC_CLOUD.ip);

        // 1. From nothing: the attach (polled until OVH says ok), then the /32 on ens3 and its
        // netplan file, then DNS.
        const since = now();
        const first = await run("up from nothing", "up");
        expect(first.world.filter((e) => ATTACH.test(e.what)).map((e) => e.status)).toEqual([200]);
        expect(failoverIp()).toMatchObject({ routedTo: PUBLIC_CLOUD.instance, status: "ok" });
        instance.routeToInstance(PUBLIC_CLOUD.ip);
        const addresses = (await sh(`ip -4 -o addr show dev ${PORT}`)).split("\n").map((l) => /inet (\S+)/.exec(l)?.[1]).filter((a) => a !== undefined);
        expect(addresses.sort()).toEqual([`${ADDRESS}/32`, `${PUBLIC_CLOUD.ip}/32`].sort());
        // The instance keeps its lease's default route.
        expect(await sh("ip -4 route show default")).toMatch(new RegExp(`^default via ${GATEWAY} dev ${PORT} proto dhcp src ${ADDRESS} metric 100 \\n$`));
        expect(await sh(`cat ${ALIAS_FILE}`)).toContain(`${PUBLIC_CLOUD.ip}/32`);
        // netplan reads it with cloud-init's file: the next boot gives ens3 both its lease and the /32.
        expect(await sh(`netplan get ethernets.${PORT}`)).toMatch(new RegExp(`addresses:\\n- "?${PUBLIC_CLOUD.ip.replace(/\./g, "\\.")}/32"?\\n[\\s\\S]*dhcp4: true`));
        expect(await sh("cat /etc/netplan/50-cloud-init.yaml")).toBe(instance.cloudInitNetplan);
        const written = Number((await sh(`stat -c %.9Y ${ALIAS_FILE}`)).trim()) * 1000;
        const attachAt = first.world.find((e) => ATTACH.test(e.what))!.at;
        const dnsAt = first.world.find((e) => DNS_WRITE.test(e.what))!.at;
        expect(written, "the alias after the attach").toBeGreaterThan(attachAt);
        expect(written, "the alias before DNS").toBeLessThan(dnsAt);
        expect(written).toBeGreaterThan(since);
        // The attach ends (the IP polled until ok) before DNS.
        const whats = first.world.map((e) => e.what);
        const attachIndex = whats.findIndex((w) => ATTACH.test(w));
        const dnsIndex = whats.findIndex((w) => DNS_WRITE.test(w));
        expect(whats.slice(attachIndex + 1, dnsIndex).filter((w) => w === "GET /cloud/project/{serviceName}/ip/failover").length, whats.join("\n")).toBeGreaterThanOrEqual(1);
        expect(recordsOf(ZONE, "pci")).toEqual([`A ${PUBLIC_CLOUD.ip}`]);
        expect(answers()).toBe(true);

        // 2. Nothing to do: nothing written, on the instance neither.
        const applied = await state();
        const appliedFiles = await files();
        const noop = await run("no change", "up");
        expect(changed(noop.steps)).toEqual([]);
        expect(noop.world.filter((e) => e.writes)).toEqual([]);
        expect(await state()).toBe(applied);

        // 3. The project's second IP instead: a new attach (the attach's ip is not updatable in
        // the provider, so the library replaces it), the old alias taken back and the new one
        // added, then DNS; the old attach is only forgotten: nothing at OVH detaches or parks it.
        editStack(project, (d) => d.setIn(["config", "ovh-failover:endpoints", "pci", "ip"], PUBLIC_CLOUD.ip2));
        const changeAt = now();
        const ipChange = await run("an IP change", "up");
        expect(changed(ipChange.steps)).toEqual(changed(ipChange.previewed));
        expect(changed(ipChange.steps)).toEqual([
            "replace command:remote:Command pci-guest-alias",
            "replace ovh:CloudProject/failoverIpAttach:FailoverIpAttach pci-ip-routing",
            "update ovh:Domain/zoneRecord:ZoneRecord pci-dns-A-pci.example.org",
            "update pulumi-nodejs:dynamic/ovh-failover:ZoneServes pci-dns-serves.example.org",
        ]);
        const cloudWrites = ipChange.world.filter((e) => e.writes && !DNS_WRITE.test(e.what) && !/^POST \/domain\/zone\/\{zoneName\}\/refresh$/.test(e.what));
        expect(cloudWrites.map((e) => `${e.what} ${e.status}`)).toEqual(["POST /cloud/project/{serviceName}/ip/failover/{id}/attach 200"]);
        // The attach of the second IP, to this instance: the first is not touched.
        expect(tier.standIn.requests.filter((q) => q.method === "POST" && q.route === "/cloud/project/{serviceName}/ip/failover/{id}/attach" && q.at >= changeAt).map((q) => [q.params.id, q.body])).toEqual([
            [PUBLIC_CLOUD.failoverId2, { instanceId: PUBLIC_CLOUD.instance }],
        ]);
        // OVH: both IPs attached to the instance, nothing parked or detached.
        expect(failoverIp(PUBLIC_CLOUD.failoverId2)).toMatchObject({ routedTo: PUBLIC_CLOUD.instance, status: "ok" });
        expect(failoverIp()).toMatchObject({ routedTo: PUBLIC_CLOUD.instance, status: "ok" });
        instance.routeToInstance(PUBLIC_CLOUD.ip2);
        // The instance: exactly as the first alias left it, with the second IP in its place.
        expect(await sh(`test -e ${ALIAS_FILE} || echo gone`)).toBe("gone\n");
        expect(await sh(`cat ${NEW_ALIAS_FILE}`)).toContain(`${PUBLIC_CLOUD.ip2}/32`);
        expect(await files()).toBe(withSecondIp(appliedFiles));
        expect(await sh("cat /etc/netplan/50-cloud-init.yaml")).toBe(instance.cloudInitNetplan);
        const moved = await state();
        expect(moved.split("\n").filter((l) => !/^[0-9a-f]{64} /.test(l))).toEqual(withSecondIp(applied).split("\n").filter((l) => !/^[0-9a-f]{64} /.test(l)));
        // The new alias after the new attach, and before DNS moved.
        const rewritten = Number((await sh(`stat -c %.9Y ${NEW_ALIAS_FILE}`)).trim()) * 1000;
        expect(rewritten, "the new alias after the new attach").toBeGreaterThan(cloudWrites[0].at);
        expect(rewritten, "the new alias before DNS").toBeLessThan(ipChange.world.find((e) => DNS_WRITE.test(e.what))!.at);
        expect(recordsOf(ZONE, "pci")).toEqual([`A ${PUBLIC_CLOUD.ip2}`]);
        expect(answers(PUBLIC_CLOUD.ip2)).toBe(true);
        // OVH still routes the old IP here, but the instance no longer holds it.
        expect(silent(PUBLIC_CLOUD.ip)).toBe(true);

        // 4. Another name for the endpoint: only DNS moves.
        editStack(project, (d) => d.setIn(["config", "ovh-failover:endpoints", "pci", "records", ZONE, "a"], ["pci", "www"]));
        const records = await run("another name", "up");
        expect(changed(records.steps)).toEqual(changed(records.previewed));
        expect(changed(records.steps).every((s) => /dns/.test(s)), changed(records.steps).join("\n")).toBe(true);
        // The record, the provider's refresh after it, and the proof's refresh before it asks.
        expect(records.world.filter((e) => e.writes).map((e) => e.what)).toEqual(["POST /domain/zone/{zoneName}/record", "POST /domain/zone/{zoneName}/refresh", "POST /domain/zone/{zoneName}/refresh"]);
        expect(recordsOf(ZONE, "www")).toEqual([`A ${PUBLIC_CLOUD.ip2}`]);
        expect(recordsOf(ZONE, "pci")).toEqual([`A ${PUBLIC_CLOUD.ip2}`]);
        expect(await state()).toBe(moved);
        expect(failoverIp(PUBLIC_CLOUD.failoverId2)?.routedTo).toBe(PUBLIC_CLOUD.instance);

        // 5. destroy, with nothing to unprotect (an attach is retained, never protected): the
        // instance exactly as before the first up; both attaches left as they are (OVH has no
        // detach); the records gone.
        const destroy = await run("destroy", "destroy");
        expect(destroy.world.filter((e) => e.writes && /^(POST|DELETE) \/cloud\//.test(e.what))).toEqual([]);
        expect(await state()).toBe(before);
        expect(failoverIp()).toMatchObject({ routedTo: PUBLIC_CLOUD.instance, status: "ok" });
        expect(failoverIp(PUBLIC_CLOUD.failoverId2)).toMatchObject({ routedTo: PUBLIC_CLOUD.instance, status: "ok" });
        expect(tier.standIn.zoneRecords(ZONE)).toEqual([]);
        expect(silent(PUBLIC_CLOUD.ip)).toBe(true);
        expect(silent(PUBLIC_CLOUD.ip2)).toBe(true);

        const file = writeLifecycleRecording({ stack: STACK, recorded: recordedBy(tier), phases: lifecycle.phases });
        console.log(`recorded ${path.relative(REPO, file)}`);
    });
});
