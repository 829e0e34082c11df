// The VirtualMac dynamic provider, driven for real (official @ovhcloud/node-ovh client, real HTTPS,
// signed requests) against the local OVH API stand-in, which checks every request against the
// official schemas (dedicated-server.json) and keeps virtual MAC and task state.
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { OvhApi, ovhClientOptions, route } from '../../../components/network/ovhApiClient';
import {
  changedKeys,
  createVirtualMac,
  deleteVirtualMac,
  readVirtualMac,
  virtualMacProvider,
  type VirtualMacInputs,
  type VirtualMacOutputs,
} from '../../../components/network/virtualMacProvider';
import { type OvhStandIn, type RecordedRequest } from '../../support/ovhStandIn';
import { useOvhStandInEnv } from '../../support/ovhStandInEnv';

const VMACS_ROUTE = '/dedicated/server/{serviceName}/virtualMac';
const VMAC_ROUTE = '/dedicated/server/{serviceName}/virtualMac/{macAddress}';
const VADDR_ROUTE = '/dedicated/server/{serviceName}/virtualMac/{macAddress}/virtualAddress/{ipAddress}';
const TASK_ROUTE = '/dedicated/server/{serviceName}/task/{taskId}';

const TIMING = { pollIntervalMs: 20, taskTimeoutMs: 1500, retryAttempts: 4, retryBaseDelayMs: 10 };

let standIn: OvhStandIn;
let serverCount = 0;
/** The fresh server of the running test, and where its requests start in standIn.requests. */
let sn = '';
let firstRequest = 0;

const ovh = useOvhStandInEnv();
beforeAll(() => {
  standIn = ovh.standIn();
});

beforeEach(() => {
  serverCount++;
  sn = `ns${100000 + serverCount}.ip-198-51-100.eu`;
  standIn.addServer(sn, { mainIp: '198.51.100.10' });
  firstRequest = standIn.requests.length;
});

afterEach(() => {
  // Task outcomes are per function for the whole stand-in: put them back.
  standIn.taskOutcome('addVirtualMac', 'done');
  standIn.taskOutcome('removeVirtualMac', 'done');
  standIn.delayMs(0);
  expect(standIn.violations).toEqual([]);
  const unrouted = standIn.requests.filter((r) => r.route === null).map((r) => `${r.method} ${r.path}`);
  expect(unrouted).toEqual([]);
});

function inputs(ipAddress: string, over: Partial<VirtualMacInputs> = {}): VirtualMacInputs {
  return { serviceName: sn, ipAddress, type: 'ovh', virtualMachineName: `ct-${ipAddress.split('.')[3]}`, timing: { ...TIMING }, ...over };
}

/** Requests of the running test, optionally only those of one method and route template. */
function sent(method?: string, template?: string): RecordedRequest[] {
  return standIn.requests
    .slice(firstRequest)
    .filter((r) => (method === undefined || r.method === method) && (template === undefined || r.route === template));
}

function macsCarrying(ip: string): string[] {
  return Object.entries(standIn.virtualMacs(sn))
    .filter(([, v]) => ip in v.addresses)
    .map(([mac]) => mac);
}

async function failureOf(call: Promise<unknown>): Promise<Error> {
  try {
    await call;
  } catch (error) {
    expect(error).toBeInstanceOf(Error);
    return error as Error;
  }
  throw new Error('expected the call to fail');
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('VirtualMac provider against the OVH stand-in', () => {
  it('create: POSTs once with the inputs and returns the MAC the API now holds for the IP (ovh and vmware)', async () => {
    const ip = '203.0.113.10';
    const out = await createVirtualMac(inputs(ip));

    const state = standIn.virtualMacs(sn);
    expect(Object.keys(state)).toEqual([out.macAddress]);
    expect(state[out.macAddress]).toEqual({ type: 'ovh', addresses: { [ip]: 'ct-10' } });
    expect(out).toMatchObject({ serviceName: sn, ipAddress: ip, type: 'ovh', virtualMachineName: 'ct-10' });
    expect(out.macAddress).toMatch(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);

    const posts = sent('POST', VMACS_ROUTE);
    expect(posts).toHaveLength(1);
    expect(posts[0].body).toEqual({ ipAddress: ip, type: 'ovh', virtualMachineName: 'ct-10' });
    expect(posts[0].params).toEqual({ serviceName: sn });
    expect(posts[0].status).toBe(200);
    // The task was polled to its end.
    expect(standIn.tasks(sn).map((t) => [t.function, t.status])).toEqual([['addVirtualMac', 'done']]);

    const ip2 = '203.0.113.11';
    const vm = await createVirtualMac(inputs(ip2, { type: 'vmware' }));
    expect(vm.type).toBe('vmware');
    expect(vm.macAddress).not.toBe(out.macAddress);
    expect(standIn.virtualMacs(sn)[vm.macAddress]).toEqual({ type: 'vmware', addresses: { [ip2]: 'ct-11' } });
    const posts2 = sent('POST', VMACS_ROUTE);
    expect(posts2).toHaveLength(2);
    expect(posts2[1].body).toEqual({ ipAddress: ip2, type: 'vmware', virtualMachineName: 'ct-11' });
  });

  it('an IP whose move has not finished (routed to another server) gets no MAC: create refuses, naming the routing, and sends no POST', async () => {
    standIn.addServer('ns2.ip-203-0-113.eu', { mainIp: '203.0.113.10' });
    standIn.addIp('192.0.2.77', { routedTo: 'ns2.ip-203-0-113.eu' });
    const before = standIn.requests.length;
    await expect(createVirtualMac(inputs('192.0.2.77'))).rejects.toThrow(
      /192\.0\.2\.77 \(block 192\.0\.2\.77\/32\) is routed to ns2\.ip-203-0-113\.eu, not to .*: its move has not finished/,
    );
    expect(standIn.requests.slice(before).filter((r) => r.method !== 'GET')).toEqual([]);
    // Routed to this server, the same IP gets its MAC.
    standIn.addIp('192.0.2.78', { routedTo: sn });
    const made = await createVirtualMac(inputs('192.0.2.78'));
    expect(Object.keys(standIn.virtualMacs(sn)[made.macAddress].addresses)).toEqual(['192.0.2.78']);
  });

  it('an IP inside a /29: the block is found with GET /ip?ip=, its routing read with GET /ip/{block}; an unfinished move of the block stops the create', async () => {
    const other = `ns${200000 + serverCount}.ip-203-0-113.eu`;
    standIn.addServer(other, { mainIp: '203.0.113.200' });
    const block = `10.${serverCount}.0.8/29`;
    const ip = `10.${serverCount}.0.10`;
    standIn.addIp(block, { routedTo: other });
    const before = standIn.requests.length;
    await expect(createVirtualMac(inputs(ip))).rejects.toThrow(
      new RegExp(`${escape(ip)} \\(block ${escape(block)}\\) is routed to ${escape(other)}, not to ${escape(sn)}: its move has not finished \\(OVH's task: GET /ip/${escape(block)}/task\\)`),
    );
    const calls = standIn.requests.slice(before);
    expect(calls.filter((r) => r.method !== 'GET')).toEqual([]);
    expect(calls.filter((r) => r.route === '/ip' || r.route === '/ip/{ip}').map((r) => [r.route, r.query.ip ?? r.params.ip])).toEqual([
      ['/ip', ip],
      ['/ip/{ip}', block],
    ]);
    // Once the whole block reaches this server, the IP gets its MAC.
    standIn.addIp(`10.${serverCount}.1.0/29`, { routedTo: sn });
    const made = await createVirtualMac(inputs(`10.${serverCount}.1.3`));
    expect(standIn.virtualMacs(sn)[made.macAddress].addresses).toEqual({ [`10.${serverCount}.1.3`]: `ct-3` });
  });

  it('shareMacOf: the IP joins the MAC of another (POST …/virtualAddress, no new MAC); read and diff hold; delete leaves the MAC to the others', async () => {
    const first = await createVirtualMac(inputs('203.0.113.40'));
    const before = standIn.requests.length;
    const second = await createVirtualMac(inputs('203.0.113.41', { shareMacOf: first.macAddress.toUpperCase() }));
    expect(second.macAddress).toBe(first.macAddress);
    const posts = standIn.requests.slice(before).filter((r) => r.method === 'POST');
    expect(posts.map((r) => [r.route, r.params.macAddress, r.body])).toEqual([
      [`${VMAC_ROUTE}/virtualAddress`, first.macAddress, { ipAddress: '203.0.113.41', virtualMachineName: 'ct-41' }],
    ]);
    expect(standIn.virtualMacs(sn)).toEqual({ [first.macAddress]: { type: 'ovh', addresses: { '203.0.113.40': 'ct-40', '203.0.113.41': 'ct-41' } } });

    const id = `${sn}/${second.macAddress}/203.0.113.41`;
    await expect(readVirtualMac(second)).resolves.toEqual(second);
    const same = await virtualMacProvider.diff!(id, second, inputs('203.0.113.41', { shareMacOf: first.macAddress }));
    expect(same).toMatchObject({ changes: false, replaces: [] });
    // Sharing another MAC, or none, is another MAC for the IP: replaced, the old one let go first.
    const own = await virtualMacProvider.diff!(id, second, inputs('203.0.113.41'));
    expect(own).toMatchObject({ changes: true, replaces: ['shareMacOf'], deleteBeforeReplace: true });

    // The sharer's delete removes only its own address; the MAC stays with the first IP.
    await deleteVirtualMac(second);
    expect(standIn.virtualMacs(sn)).toEqual({ [first.macAddress]: { type: 'ovh', addresses: { '203.0.113.40': 'ct-40' } } });
    await expect(readVirtualMac(first)).resolves.toEqual(first);
    await deleteVirtualMac(first);
    expect(standIn.virtualMacs(sn)).toEqual({});
  });

  it('shareMacOf when the IP already has a MAC of its own: an error naming both MACs and the call that frees the IP; a bad MAC is refused before any call', async () => {
    standIn.seedVirtualMac(sn, '02:00:00:aa:bb:50', 'ovh', [{ ipAddress: '203.0.113.50', virtualMachineName: 'a' }]);
    standIn.seedVirtualMac(sn, '02:00:00:aa:bb:51', 'ovh', [{ ipAddress: '203.0.113.51', virtualMachineName: 'b' }]);
    await expect(createVirtualMac(inputs('203.0.113.51', { shareMacOf: '02:00:00:aa:bb:50' }))).rejects.toThrow(
      /203\.0\.113\.51 already has its own virtual MAC 02:00:00:aa:bb:51, not 02:00:00:aa:bb:50 it should share; remove that MAC from it \(DELETE \/dedicated\/server\/.*\/virtualMac\/02:00:00:aa:bb:51\/virtualAddress\/203\.0\.113\.51\)/,
    );
    // Already on the shared MAC: adopted, nothing sent.
    const before = standIn.requests.length;
    const adopted = await createVirtualMac(inputs('203.0.113.50', { shareMacOf: '02:00:00:aa:bb:50' }));
    expect(adopted.macAddress).toBe('02:00:00:aa:bb:50');
    expect(standIn.requests.slice(before).filter((r) => r.method !== 'GET')).toEqual([]);
    const requests = standIn.requests.length;
    await expect(createVirtualMac(inputs('203.0.113.52', { shareMacOf: '02:00:00:aa:bb' }))).rejects.toThrow(/shareMacOf "02:00:00:aa:bb" is not a MAC address/);
    expect(standIn.requests.length).toBe(requests);
  });

  it('macLimit: a new MAC past the limit is refused before its POST, naming the server, the count, the limit and where it comes from; sharing adds none', async () => {
    standIn.seedVirtualMac(sn, '02:00:00:aa:cc:01', 'ovh', [{ ipAddress: '203.0.113.61', virtualMachineName: 'a' }]);
    standIn.seedVirtualMac(sn, '02:00:00:aa:cc:02', 'ovh', [{ ipAddress: '203.0.113.62', virtualMachineName: 'b' }]);
    const before = standIn.requests.length;
    const refused = await failureOf(createVirtualMac(inputs('203.0.113.63', { macLimit: 2 })));
    expect(refused.message).toMatch(
      new RegExp(`${escape(sn)} has 2 virtual MACs and takes at most 2 \\(macLimit, from the stack's virtualMacLimit for this server; OVH's API has no such field`),
    );
    expect(standIn.requests.slice(before).filter((r) => r.method === 'POST')).toEqual([]);
    const shared = await createVirtualMac(inputs('203.0.113.63', { macLimit: 2, shareMacOf: '02:00:00:aa:cc:01' }));
    expect(shared.macAddress).toBe('02:00:00:aa:cc:01');
    const own = await createVirtualMac(inputs('203.0.113.64', { macLimit: 3 }));
    expect(Object.keys(standIn.virtualMacs(sn))).toHaveLength(3);
    expect(own.macAddress).not.toMatch(/^02:00:00:aa:cc/);
    // The limit is operational: changing it replaces nothing.
    const diff = await virtualMacProvider.diff!(`${sn}/${own.macAddress}/203.0.113.64`, own, inputs('203.0.113.64', { macLimit: 32 }));
    expect(diff.replaces).toEqual([]);
  });

  it("without macLimit, a third-generation Advance server's 32 (its EPYC 4004 processor, from specifications/hardware) is the limit; another processor gives none", async () => {
    const advance = 'ns9.ip-203-0-113.eu';
    const other = 'ns8.ip-203-0-113.eu';
    standIn.addServer(advance, { mainIp: '203.0.113.90', hardware: { processorName: 'AMD EPYC 4344P' }, virtualMacLimit: 1000 });
    standIn.addServer(other, { mainIp: '203.0.113.80', hardware: { processorName: 'Intel Xeon-E 2386G' }, virtualMacLimit: 1000 });
    for (const server of [advance, other]) {
      for (let i = 0; i < 32; i++) standIn.seedVirtualMac(server, `02:00:00:ab:00:${i.toString(16).padStart(2, '0')}`, 'ovh', []);
    }
    standIn.addIp('203.0.113.91', { routedTo: advance });
    standIn.addIp('203.0.113.81', { routedTo: other });
    const before = standIn.requests.length;
    const refused = await failureOf(createVirtualMac({ ...inputs('203.0.113.91'), serviceName: advance }));
    expect(refused.message).toMatch(/has 32 virtual MACs and takes at most 32 \(its processor, AMD EPYC 4344P, makes it a third-generation Advance server/);
    expect(standIn.requests.slice(before).filter((r) => r.method === 'POST')).toEqual([]);
    const made = await createVirtualMac({ ...inputs('203.0.113.81'), serviceName: other });
    expect(Object.keys(standIn.virtualMacs(other))).toHaveLength(33);
    expect(made.macAddress).toMatch(/^[0-9a-f:]{17}$/);
  });

  it('adopt: an IP that already has a virtual MAC gets that MAC and no POST is sent', async () => {
    const ip = '203.0.113.20';
    const mac = '02:00:00:aa:bb:20';
    standIn.seedVirtualMac(sn, mac, 'ovh', [{ ipAddress: ip, virtualMachineName: 'by-hand' }]);
    standIn.seedVirtualMac(sn, '02:00:00:aa:bb:21', 'ovh', [{ ipAddress: '203.0.113.21', virtualMachineName: 'other' }]);

    const out = await createVirtualMac(inputs(ip));
    expect(out.macAddress).toBe(mac);
    expect(out.type).toBe('ovh');
    expect(sent('POST')).toEqual([]);
    expect(standIn.tasks(sn)).toEqual([]);
    expect(macsCarrying(ip)).toEqual([mac]);

    // Uppercase MACs from the API are still matched and reported in lowercase; a type mismatch is adopted as it is.
    const upper = '02:00:00:AA:BB:22';
    standIn.seedVirtualMac(sn, upper, 'vmware', [{ ipAddress: '203.0.113.22', virtualMachineName: 'vm' }]);
    const other = await createVirtualMac(inputs('203.0.113.22'));
    expect(other.macAddress).toBe(upper.toLowerCase());
    // The MAC keeps OVH's type, reported as liveType; `type` stays what the stack asked for, so
    // that adopting a MAC made by hand never reads as a change to replace it.
    expect(other.liveType).toBe('vmware');
    expect(other.type).toBe('ovh');
    expect(changedKeys(other, inputs('203.0.113.22'))).toEqual([]);
    expect(sent('POST')).toEqual([]);
  });

  it('retries 500 and 503 on GET and 429 on POST, and gives up after the retry budget with a precise error', async () => {
    // 500 then 503 on the list of virtual MACs: both retried.
    standIn.failNext({ method: 'GET', route: VMACS_ROUTE, status: 500 });
    standIn.failNext({ method: 'GET', route: VMACS_ROUTE, status: 503 });
    const a = await createVirtualMac(inputs('203.0.113.30'));
    expect(macsCarrying('203.0.113.30')).toEqual([a.macAddress]);
    expect(sent('GET', VMACS_ROUTE).slice(0, 3).map((r) => r.status)).toEqual([500, 503, 200]);

    // 429 on the POST: not processed, so sent again; exactly one vMAC results.
    let mark = standIn.requests.length;
    standIn.failNext({ method: 'POST', route: VMACS_ROUTE, status: 429 });
    const b = await createVirtualMac(inputs('203.0.113.31'));
    const posts = standIn.requests.slice(mark).filter((r) => r.method === 'POST');
    expect(posts.map((r) => r.status)).toEqual([429, 200]);
    expect(macsCarrying('203.0.113.31')).toEqual([b.macAddress]);
    expect(Object.keys(standIn.virtualMacs(sn))).toHaveLength(2);
    expect(standIn.tasks(sn).filter((t) => t.function === 'addVirtualMac')).toHaveLength(2);

    // A GET fault that outlasts the budget (5 > 4 attempts): the error names method, path and status.
    mark = standIn.requests.length;
    standIn.failNext({ method: 'GET', route: VMACS_ROUTE, status: 500, count: TIMING.retryAttempts + 1 });
    const getErr = await failureOf(createVirtualMac(inputs('203.0.113.32')));
    expect(getErr.message).toMatch(new RegExp(`^OVH API GET ${escape(`/dedicated/server/${sn}/virtualMac`)} failed: HTTP 500: `));
    const gets = standIn.requests.slice(mark).filter((r) => r.method === 'GET' && r.route === VMACS_ROUTE);
    expect(gets).toHaveLength(TIMING.retryAttempts);
    expect(gets.every((r) => r.status === 500)).toBe(true);
    expect(standIn.requests.slice(mark).filter((r) => r.method === 'POST')).toEqual([]);
    // A re-run uses up the last injected 500 on its first attempt and then succeeds.
    mark = standIn.requests.length;
    const c = await createVirtualMac(inputs('203.0.113.32'));
    expect(standIn.requests.slice(mark).filter((r) => r.route === VMACS_ROUTE && r.method === 'GET')[0].status).toBe(500);
    expect(macsCarrying('203.0.113.32')).toEqual([c.macAddress]);

    // A POST fault that outlasts the budget: 503 every time, never applied.
    mark = standIn.requests.length;
    standIn.failNext({ method: 'POST', route: VMACS_ROUTE, status: 503, count: TIMING.retryAttempts + 1 });
    const postErr = await failureOf(createVirtualMac(inputs('203.0.113.33')));
    expect(postErr.message).toMatch(new RegExp(`^OVH API POST ${escape(`/dedicated/server/${sn}/virtualMac`)} failed: HTTP 503: `));
    const failedPosts = standIn.requests.slice(mark).filter((r) => r.method === 'POST');
    expect(failedPosts.map((r) => r.status)).toEqual(Array(TIMING.retryAttempts).fill(503));
    expect(macsCarrying('203.0.113.33')).toEqual([]);
    // Use up the last injected 503: the re-run's first POST gets it, its second one succeeds.
    const d = await createVirtualMac(inputs('203.0.113.33'));
    expect(macsCarrying('203.0.113.33')).toEqual([d.macAddress]);
    expect(standIn.requests.slice(mark).filter((r) => r.method === 'POST').map((r) => r.status)).toEqual([
      ...Array(TIMING.retryAttempts + 1).fill(503),
      200,
    ]);
  });

  it('500 on the POST (ambiguous, not applied): looks, finds nothing, and fails naming POST, the path and HTTP 500', async () => {
    const ip = '203.0.113.40';
    standIn.failNext({ method: 'POST', route: VMACS_ROUTE, status: 500 });
    const err = await failureOf(createVirtualMac(inputs(ip)));
    expect(err.message).toBe(`OVH API POST /dedicated/server/${sn}/virtualMac failed: HTTP 500: Internal server error`);
    // An ambiguous POST is not blindly sent again.
    expect(sent('POST', VMACS_ROUTE)).toHaveLength(1);
    expect(standIn.virtualMacs(sn)).toEqual({});
    expect(standIn.tasks(sn)).toEqual([]);
    // It looked at the state after the failure (the MAC list is read again after the POST).
    const postIndex = standIn.requests.indexOf(sent('POST', VMACS_ROUTE)[0]);
    expect(standIn.requests.slice(postIndex + 1).some((r) => r.method === 'GET' && r.route === VMACS_ROUTE)).toBe(true);
  });

  it.each([
    ['customerError', 'The IP is not routed to this server'],
    ['ovhError', 'An internal error occurred, OVHcloud has been notified'],
  ] as const)('a task that ends %s fails with its status and comment and leaves nothing half-made', async (outcome, comment) => {
    const ip = '203.0.113.50';
    standIn.taskOutcome('addVirtualMac', outcome);
    const err = await failureOf(createVirtualMac(inputs(ip)));
    expect(err.message).toContain(`'${outcome}'`);
    expect(err.message).toContain(comment);
    const [task] = standIn.tasks(sn);
    expect(task).toMatchObject({ function: 'addVirtualMac', status: outcome });
    expect(err.message).toContain(String(task.taskId));
    expect(macsCarrying(ip)).toEqual([]);
    expect(standIn.virtualMacs(sn)).toEqual({});
    expect(sent('POST', VMACS_ROUTE)).toHaveLength(1);
  });

  it('a task that never finishes fails within a bounded time, saying it is still unfinished', async () => {
    const ip = '203.0.113.60';
    standIn.taskOutcome('addVirtualMac', 'never');
    const started = Date.now();
    const err = await failureOf(createVirtualMac(inputs(ip)));
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(TIMING.taskTimeoutMs);
    expect(elapsed).toBeLessThan(5000);
    const [task] = standIn.tasks(sn);
    expect(task.status).toBe('doing');
    expect(err.message).toContain(`still 'doing'`);
    expect(err.message).toContain(String(task.taskId));
    expect(err.message).toContain(`/dedicated/server/${sn}/task/${task.taskId}`);
    expect(sent('POST', VMACS_ROUTE)).toHaveLength(1);
    // Polled at the configured interval, not flat out: ~1500 ms / 20 ms, with slack for slow machines.
    const polls = sent('GET', TASK_ROUTE).length;
    expect(polls).toBeGreaterThan(5);
    expect(polls).toBeLessThanOrEqual(TIMING.taskTimeoutMs / TIMING.pollIntervalMs + 1);
    expect(macsCarrying(ip)).toEqual([]);
  }, 8000);

  it('crash after the create: the run recovers, a re-run returns the same MAC, and only one POST was ever sent', async () => {
    const ip = '203.0.113.70';
    standIn.crashAfterCreate();
    let first: VirtualMacOutputs | undefined;
    let firstError: Error | undefined;
    try {
      first = await createVirtualMac(inputs(ip));
    } catch (error) {
      firstError = error as Error;
    }
    const posts = sent('POST', VMACS_ROUTE);
    expect(posts).toHaveLength(1);
    expect(posts[0].dropped).toBe(true);
    if (firstError) expect(firstError.message).toMatch(/POST .*virtualMac/);

    const again = await createVirtualMac(inputs(ip));
    if (first) expect(again.macAddress).toBe(first.macAddress);
    expect(macsCarrying(ip)).toEqual([again.macAddress]);
    expect(Object.keys(standIn.virtualMacs(sn))).toEqual([again.macAddress]);
    expect(sent('POST', VMACS_ROUTE)).toHaveLength(1);
    expect(standIn.tasks(sn).map((t) => [t.function, t.status])).toEqual([['addVirtualMac', 'done']]);
    // This provider recovers in the same run: it waits for the pending task and adopts its MAC.
    expect(firstError).toBeUndefined();
  });

  it('crash after the create while the task is still running: the re-run waits, then fails without a second POST', async () => {
    const ip = '203.0.113.75';
    standIn.taskOutcome('addVirtualMac', 'never');
    standIn.crashAfterCreate();
    const first = await failureOf(createVirtualMac(inputs(ip)));
    expect(first.message).toContain(`still 'doing'`);
    const again = await failureOf(createVirtualMac(inputs(ip)));
    expect(again.message).toContain(`still 'doing'`);
    expect(again.message).toContain('run pulumi up again');
    expect(sent('POST', VMACS_ROUTE)).toHaveLength(1);
    expect(standIn.tasks(sn)).toHaveLength(1);
  }, 10000);

  it('delete: removes the address; deleting again (404) is not an error; other addresses of the MAC stay', async () => {
    const ip = '203.0.113.80';
    const out = await createVirtualMac(inputs(ip));
    expect(macsCarrying(ip)).toEqual([out.macAddress]);

    await deleteVirtualMac(out);
    expect(standIn.virtualMacs(sn)).toEqual({});
    const deletes = sent('DELETE', VADDR_ROUTE);
    expect(deletes).toHaveLength(1);
    expect(deletes[0].params).toEqual({ serviceName: sn, macAddress: out.macAddress, ipAddress: ip });
    expect(standIn.tasks(sn).map((t) => [t.function, t.status])).toContainEqual(['removeVirtualMac', 'done']);

    await expect(deleteVirtualMac(out)).resolves.toBeUndefined();
    expect(sent('DELETE', VADDR_ROUTE).map((r) => r.status)).toEqual([200, 404]);

    // Through the provider object, on a MAC that carries two addresses: only ours goes.
    const mac = '02:00:00:aa:bb:80';
    standIn.seedVirtualMac(sn, mac, 'ovh', [
      { ipAddress: '203.0.113.81', virtualMachineName: 'a' },
      { ipAddress: '203.0.113.82', virtualMachineName: 'b' },
    ]);
    const shared: VirtualMacOutputs = { ...inputs('203.0.113.81'), macAddress: mac, liveType: 'ovh' };
    await virtualMacProvider.delete!(`${sn}/${mac}/203.0.113.81`, shared);
    expect(standIn.virtualMacs(sn)).toEqual({ [mac]: { type: 'ovh', addresses: { '203.0.113.82': 'b' } } });
  });

  it('a failed removal task is an error and the address stays', async () => {
    const ip = '203.0.113.85';
    const out = await createVirtualMac(inputs(ip));
    standIn.taskOutcome('removeVirtualMac', 'ovhError', { comment: 'removal broke' });
    const err = await failureOf(deleteVirtualMac(out));
    expect(err.message).toContain(`'ovhError'`);
    expect(err.message).toContain('removal broke');
    expect(macsCarrying(ip)).toEqual([out.macAddress]);
  });

  it('read and diff: drift, replacements and no-op', async () => {
    const ip = '203.0.113.90';
    const out = await createVirtualMac(inputs(ip));
    const id = `${sn}/${out.macAddress}/${ip}`;
    const provider = virtualMacProvider;

    // Nothing changed and the live MAC is the one in state: no changes.
    const same = await provider.diff!(id, out, inputs(ip));
    expect(same.changes).toBe(false);
    expect(same.replaces).toEqual([]);
    // A different timing is operational only.
    const retimed = await provider.diff!(id, out, inputs(ip, { timing: { ...TIMING, pollIntervalMs: 50 } }));
    expect(retimed.changes).toBe(false);

    const read = await provider.read!(id, out);
    expect(read.id).toBe(id);
    expect(read.props).toMatchObject({ macAddress: out.macAddress, ipAddress: ip, type: 'ovh' });
    await expect(readVirtualMac(out)).resolves.toEqual(out);

    // A changed IP: replaced, the new one created before the old one is deleted.
    const ipChange = await provider.diff!(id, out, inputs(ip, { ipAddress: '203.0.113.91' }));
    expect(ipChange.changes).toBe(true);
    expect(ipChange.replaces).toContain('ipAddress');
    expect(ipChange.deleteBeforeReplace).toBe(false);

    // A changed type: the same IP cannot carry two MACs, so delete first.
    const typeChange = await provider.diff!(id, out, inputs(ip, { type: 'vmware' }));
    expect(typeChange.changes).toBe(true);
    expect(typeChange.replaces).toEqual(['type']);
    expect(typeChange.deleteBeforeReplace).toBe(true);

    // Removed behind the provider's back (another API client).
    const other = new OvhApi();
    const task = await other.request<{ taskId: number; status: string }>(
      'DELETE',
      route(VADDR_ROUTE, { serviceName: sn, macAddress: out.macAddress, ipAddress: ip }),
    );
    for (let i = 0; i < 10 && task.status !== 'done'; i++) {
      Object.assign(task, await other.request('GET', route(TASK_ROUTE, { serviceName: sn, taskId: task.taskId })));
    }
    expect(task.status).toBe('done');
    expect(standIn.virtualMacs(sn)).toEqual({});

    await expect(readVirtualMac(out)).resolves.toBeUndefined();
    const gone = await provider.read!(id, out);
    expect(gone.id).toBeUndefined();
    const goneDiff = await provider.diff!(id, out, inputs(ip));
    expect(goneDiff.changes).toBe(true);
    expect(goneDiff.replaces).toEqual(['macAddress']);

    // Another MAC now carries the IP: replace on macAddress, delete first.
    const intruder = '02:00:00:aa:bb:90';
    standIn.seedVirtualMac(sn, intruder, 'ovh', [{ ipAddress: ip, virtualMachineName: 'intruder' }]);
    const drift = await provider.diff!(id, out, inputs(ip));
    expect(drift.changes).toBe(true);
    expect(drift.replaces).toContain('macAddress');
    expect(drift.deleteBeforeReplace).toBe(true);
    const live = await readVirtualMac(out);
    expect(live?.macAddress).toBe(intruder);
    expect((await provider.read!(id, out)).id).toBe(`${sn}/${intruder}/${ip}`);
    // The diff read the live state through the schema-checked routes.
    expect(sent('GET', VMAC_ROUTE).length).toBeGreaterThan(0);
  });

  it('new provider code alone: an update that stores it and keeps every output, never a replacement', async () => {
    const ip = '203.0.113.61';
    const provider = virtualMacProvider;
    const { id, outs } = await provider.create!(inputs(ip));
    const olds = { ...outs, __provider: 'code at create' } as VirtualMacOutputs;
    const same = await provider.diff!(id, olds, { ...inputs(ip), __provider: 'code at create' } as VirtualMacInputs);
    expect(same.changes).toBe(false);
    const fixed = await provider.diff!(id, olds, { ...inputs(ip), __provider: 'code with a fix' } as VirtualMacInputs);
    expect(fixed).toMatchObject({ changes: true, replaces: [] });
    const before = sent().length;
    const updated = await provider.update!(id, olds, { ...inputs(ip), timing: { ...TIMING, pollIntervalMs: 30 } });
    expect(updated.outs).toMatchObject({ macAddress: outs.macAddress, liveType: 'ovh', ipAddress: ip, timing: { pollIntervalMs: 30 } });
    // Nothing at OVH is asked to change.
    expect(sent().slice(before)).toEqual([]);
  });
});

describe('OVH endpoint and credentials: the stack\'s ovh: config, each unset key from its environment variable', () => {
  it('takes each setting from the config first, then from the environment, as the OVH provider does', () => {
    const env = { OVH_ENDPOINT: 'ovh-eu', OVH_APPLICATION_KEY: 'env-ak', OVH_APPLICATION_SECRET: 'env-as', OVH_CONSUMER_KEY: 'env-ck' };
    expect(ovhClientOptions({ endpoint: 'ovh-ca', consumerKey: 'cfg-ck' }, env).client).toEqual({ endpoint: 'ovh-ca', appKey: 'env-ak', appSecret: 'env-as', consumerKey: 'cfg-ck' });
    expect(ovhClientOptions({}, env).client).toEqual({ endpoint: 'ovh-eu', appKey: 'env-ak', appSecret: 'env-as', consumerKey: 'env-ck' });
    expect(() => ovhClientOptions({ endpoint: 'ovh-ca' }, {})).toThrow(/set ovh:applicationKey \(or OVH_APPLICATION_KEY\), ovh:applicationSecret \(or OVH_APPLICATION_SECRET\), ovh:consumerKey \(or OVH_CONSUMER_KEY\)/);
    expect(() => ovhClientOptions({ endpoint: 'ovh-mars' }, env)).toThrow(/ovh:endpoint \(or OVH_ENDPOINT\)="ovh-mars" is not valid/);
    expect(ovhClientOptions({ clientId: 'id', clientSecret: 'secret' }, env).client).toEqual({ endpoint: 'ovh-eu', clientID: 'id', clientSecret: 'secret' });
  });
});
