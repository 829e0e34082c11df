// Tests of the OVH API stand-in itself, through the real @ovhcloud/node-ovh client and raw HTTPS.
import * as https from 'node:https';
import { afterEach, describe, expect, it } from 'vitest';
import { signOvhRequest, startOvhStandIn, type DedicatedServerTask, type OvhStandIn } from './ovhStandIn';

interface OvhClient {
  requestPromised(method: string, path: string, params?: Record<string, unknown>): Promise<unknown>;
}
type OvhFactory = (params: {
  appKey: string;
  appSecret: string;
  consumerKey: string;
  host: string;
  port: number;
  basePath: string;
}) => OvhClient;
// eslint-disable-next-line @typescript-eslint/no-require-imports
const ovhFactory = require('@ovhcloud/node-ovh') as OvhFactory;

interface OvhFailure {
  error: unknown;
  message: unknown;
}

interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
}

const SN = 'ns1234567.ip-198-51-100.eu';
const VMACS = `/dedicated/server/${SN}/virtualMac`;

const running: OvhStandIn[] = [];

afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.close()));
});

async function start(): Promise<{ standIn: OvhStandIn; ovh: OvhClient }> {
  const standIn = await startOvhStandIn();
  running.push(standIn);
  standIn.addServer(SN, { mainIp: '198.51.100.10' });
  https.globalAgent.options.ca = standIn.caPem;
  const ovh = ovhFactory({
    appKey: standIn.applicationKey,
    appSecret: standIn.applicationSecret,
    consumerKey: standIn.consumerKey,
    host: '127.0.0.1',
    port: standIn.port,
    basePath: '/1.0',
  });
  return { standIn, ovh };
}

async function failure(call: Promise<unknown>): Promise<OvhFailure> {
  try {
    await call;
  } catch (error) {
    return error as OvhFailure;
  }
  throw new Error('expected the call to fail');
}

function asTask(value: unknown): DedicatedServerTask {
  expect(value).toMatchObject({ taskId: expect.any(Number), function: expect.any(String), status: expect.any(String) });
  return value as DedicatedServerTask;
}

async function pollTask(ovh: OvhClient, taskId: number): Promise<DedicatedServerTask[]> {
  const seen: DedicatedServerTask[] = [];
  for (let i = 0; i < 10; i++) {
    const task = asTask(await ovh.requestPromised('GET', `/dedicated/server/${SN}/task/${taskId}`));
    seen.push(task);
    if (task.status !== 'todo' && task.status !== 'doing') return seen;
  }
  return seen;
}

function raw(
  standIn: OvhStandIn,
  method: string,
  apiPath: string,
  opts: { body?: unknown; signature?: string } = {},
): Promise<RawResponse> {
  const body = opts.body === undefined ? '' : JSON.stringify(opts.body);
  const fullPath = `/1.0${apiPath}`;
  const timestamp = Math.floor(Date.now() / 1000);
  const signature =
    opts.signature ??
    signOvhRequest({
      applicationSecret: standIn.applicationSecret,
      consumerKey: standIn.consumerKey,
      method,
      url: `https://127.0.0.1${fullPath}`,
      body,
      timestamp,
    });
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: '127.0.0.1',
        port: standIn.port,
        method,
        path: fullPath,
        ca: standIn.caPem,
        headers: {
          'Content-Type': 'application/json',
          'X-Ovh-Application': standIn.applicationKey,
          'X-Ovh-Consumer': standIn.consumerKey,
          'X-Ovh-Timestamp': String(timestamp),
          'X-Ovh-Signature': signature,
        },
      },
      (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: JSON.parse(text) as unknown }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const createBody = { ipAddress: '203.0.113.10', type: 'ovh', virtualMachineName: 'ct-101' };

describe('OVH stand-in', () => {
  it('creates a virtual MAC through create -> poll -> done (real node-ovh client)', async () => {
    const { standIn, ovh } = await start();

    expect(await ovh.requestPromised('GET', `/dedicated/server/${SN}/specifications/network`)).toEqual({
      routing: { ipv4: { ip: '198.51.100.10', gateway: '198.51.100.254', network: '198.51.100.0/24' } },
      vmac: { supported: true },
    });

    const created = asTask(await ovh.requestPromised('POST', VMACS, { ...createBody }));
    expect(created).toMatchObject({ function: 'addVirtualMac', status: 'todo', doneDate: null, needSchedule: false });
    expect(await ovh.requestPromised('GET', VMACS)).toEqual([]); // nothing before the task is done

    const statuses = (await pollTask(ovh, created.taskId)).map((t) => t.status);
    expect(statuses).toEqual(['doing', 'done']);

    const macs = (await ovh.requestPromised('GET', VMACS)) as string[];
    expect(macs).toHaveLength(1);
    const mac = macs[0];
    expect(mac).toMatch(/^02:00:00(:[0-9a-f]{2}){3}$/);
    expect(await ovh.requestPromised('GET', `${VMACS}/${mac}`)).toEqual({ macAddress: mac, type: 'ovh' });
    expect(await ovh.requestPromised('GET', `${VMACS}/${mac}/virtualAddress`)).toEqual(['203.0.113.10']);
    expect(await ovh.requestPromised('GET', `${VMACS}/${mac}/virtualAddress/203.0.113.10`)).toEqual({
      ipAddress: '203.0.113.10',
      virtualMachineName: 'ct-101',
    });
    expect(standIn.virtualMacs(SN)).toEqual({ [mac]: { type: 'ovh', addresses: { '203.0.113.10': 'ct-101' } } });
    expect(await ovh.requestPromised('GET', `/dedicated/server/${SN}/task`, { function: 'addVirtualMac', status: 'done' })).toEqual([
      created.taskId,
    ]);

    const post = standIn.requests.find((r) => r.method === 'POST');
    expect(post).toMatchObject({ path: VMACS, route: '/dedicated/server/{serviceName}/virtualMac', body: createBody, status: 200 });
    expect(standIn.violations).toEqual([]);
  });

  it('answers 400 and records a violation for a wrong enum value or a missing field', async () => {
    const { standIn, ovh } = await start();

    const badEnum = await failure(ovh.requestPromised('POST', VMACS, { ...createBody, type: 'kvm' }));
    expect(badEnum.error).toBe(400);
    expect(String(badEnum.message)).toContain('dedicated.server.VmacTypeEnum');

    const missing = await raw(standIn, 'POST', VMACS, { body: { ipAddress: '203.0.113.10', type: 'ovh' } });
    expect(missing.status).toBe(400);
    expect(missing.body).toMatchObject({ class: 'Client::BadRequest', message: expect.stringContaining('virtualMachineName') });

    const unknownField = await raw(standIn, 'POST', VMACS, { body: { ...createBody, vlan: 12 } });
    expect(unknownField.status).toBe(400);

    const badPathIp = await raw(standIn, 'GET', `${VMACS}/02:00:00:aa:bb:cc/virtualAddress/not-an-ip`);
    expect(badPathIp.status).toBe(400);

    const badQuery = await raw(standIn, 'GET', `/dedicated/server/${SN}/task?status=finished`);
    expect(badQuery.status).toBe(400);

    expect(standIn.violations).toHaveLength(5);
    expect(standIn.violations[0]).toMatch(/body\.type: "kvm" is not one of dedicated\.server\.VmacTypeEnum/);
    expect(standIn.violations[1]).toMatch(/missing required field "virtualMachineName"/);
    expect(standIn.violations[2]).toMatch(/unknown field "vlan"/);
    expect(standIn.violations[3]).toMatch(/path ipAddress/);
    expect(standIn.violations[4]).toMatch(/query status/);
    expect(standIn.virtualMacs(SN)).toEqual({});
    expect(standIn.tasks(SN)).toEqual([]);
  });

  it('answers 404 for routes that are not in the schemas and for unknown objects', async () => {
    const { standIn, ovh } = await start();

    const noRoute = await failure(ovh.requestPromised('GET', `/dedicated/server/${SN}/virtualMacs`));
    expect(noRoute.error).toBe(404);
    expect(standIn.violations).toEqual([expect.stringContaining('no such route')]);

    const noServer = await failure(ovh.requestPromised('GET', '/dedicated/server/ns-unknown/virtualMac'));
    expect(noServer).toEqual({ error: 404, message: 'The requested object (serviceName = ns-unknown) does not exist' });
    expect(standIn.violations).toHaveLength(1); // an unknown object is not a schema violation
  });

  it('rejects a bad signature with 403 and accepts a correct raw signature', async () => {
    const { standIn } = await start();

    const bad = await raw(standIn, 'GET', VMACS, { signature: '$1$0000000000000000000000000000000000000000' });
    expect(bad.status).toBe(403);
    expect(bad.body).toEqual({ class: 'Client::Forbidden', message: 'Invalid signature' });
    expect(standIn.violations).toEqual([expect.stringContaining('Invalid signature')]);

    const good = await raw(standIn, 'GET', VMACS);
    expect(good.status).toBe(200);
    expect(good.body).toEqual([]);

    const time = await raw(standIn, 'GET', '/auth/time', { signature: 'ignored' });
    expect(typeof time.body).toBe('number');
    expect(standIn.violations).toHaveLength(1);
  });

  it('failNext answers 503 once without touching state, then the call succeeds', async () => {
    const { standIn, ovh } = await start();
    standIn.failNext({ method: 'POST', route: '/dedicated/server/{serviceName}/virtualMac', status: 503 });

    const first = await failure(ovh.requestPromised('POST', VMACS, { ...createBody }));
    expect(first).toEqual({ error: 503, message: 'Service temporarily unavailable' });
    expect(standIn.tasks(SN)).toEqual([]);

    const task = asTask(await ovh.requestPromised('POST', VMACS, { ...createBody }));
    expect(task.status).toBe('todo');
    expect(standIn.tasks(SN)).toHaveLength(1);
    expect(standIn.violations).toEqual([]);
  });

  it('failNext 429 sends Retry-After: 0', async () => {
    const { standIn } = await start();
    standIn.failNext({ method: 'GET', route: '/dedicated/server/{serviceName}/virtualMac', status: 429, count: 2 });

    for (let i = 0; i < 2; i++) {
      const limited = await raw(standIn, 'GET', VMACS);
      expect(limited.status).toBe(429);
      expect(limited.headers['retry-after']).toBe('0');
    }
    expect((await raw(standIn, 'GET', VMACS)).status).toBe(200);
  });

  it('taskOutcome customerError ends the task in error and changes nothing', async () => {
    const { standIn, ovh } = await start();
    standIn.taskOutcome('addVirtualMac', 'customerError');

    const created = asTask(await ovh.requestPromised('POST', VMACS, { ...createBody }));
    const seen = await pollTask(ovh, created.taskId);
    expect(seen.map((t) => t.status)).toEqual(['doing', 'customerError']);
    expect(seen[1].comment).toBe('The IP is not routed to this server');
    expect(standIn.virtualMacs(SN)).toEqual({});
    expect(standIn.violations).toEqual([]);
  });

  it("taskOutcome 'never' keeps the task doing", async () => {
    const { standIn, ovh } = await start();
    standIn.taskOutcome('addVirtualMac', 'never');
    const created = asTask(await ovh.requestPromised('POST', VMACS, { ...createBody }));
    const seen = await pollTask(ovh, created.taskId);
    expect(seen).toHaveLength(10);
    expect(new Set(seen.map((t) => t.status))).toEqual(new Set(['doing']));
  });

  it('refuses an IP that already has a virtual MAC, adds and removes addresses', async () => {
    const { standIn, ovh } = await start();
    const mac = '02:00:00:12:34:56';
    standIn.seedVirtualMac(SN, mac, 'ovh', [{ ipAddress: '203.0.113.10', virtualMachineName: 'ct-101' }]);

    const again = await failure(ovh.requestPromised('POST', VMACS, { ...createBody }));
    expect(again).toEqual({ error: 400, message: 'This IP address is already associated with a virtual MAC' });

    const add = asTask(
      await ovh.requestPromised('POST', `${VMACS}/${mac}/virtualAddress`, { ipAddress: '203.0.113.11', virtualMachineName: 'ct-102' }),
    );
    await pollTask(ovh, add.taskId);
    expect(standIn.virtualMacs(SN)[mac].addresses).toEqual({ '203.0.113.10': 'ct-101', '203.0.113.11': 'ct-102' });

    for (const ip of ['203.0.113.10', '203.0.113.11']) {
      const removal = asTask(await ovh.requestPromised('DELETE', `${VMACS}/${mac}/virtualAddress/${ip}`));
      expect(removal.function).toBe('removeVirtualMac');
      await pollTask(ovh, removal.taskId);
    }
    expect(standIn.virtualMacs(SN)).toEqual({}); // a MAC without addresses disappears
    expect(standIn.violations).toEqual([]);
  });

  it('crashAfterCreate applies the create but drops the connection', async () => {
    const { standIn, ovh } = await start();
    standIn.crashAfterCreate();

    const lost = await failure(ovh.requestPromised('POST', VMACS, { ...createBody }));
    expect(lost.error).toBeDefined();
    expect(standIn.requests.find((r) => r.method === 'POST')).toMatchObject({ dropped: true });

    const ids = (await ovh.requestPromised('GET', `/dedicated/server/${SN}/task`, { function: 'addVirtualMac' })) as number[];
    expect(ids).toHaveLength(1);
    await pollTask(ovh, ids[0]);
    expect(Object.values(standIn.virtualMacs(SN))).toEqual([{ type: 'ovh', addresses: { '203.0.113.10': 'ct-101' } }]);
    expect(standIn.violations).toEqual([]);
  });

  it('delayMs slows answers down', async () => {
    const { standIn, ovh } = await start();
    await ovh.requestPromised('GET', VMACS); // fetches /auth/time first
    standIn.delayMs(150);
    const started = Date.now();
    await ovh.requestPromised('GET', VMACS);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
  });
});

describe('OVH stand-in: Public Cloud failover IPs and /ip moves', () => {
  const PROJECT = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';
  const FIP = `/cloud/project/${PROJECT}/ip/failover`;
  const EDGE1 = '8c6e0f8a-1b2c-4d3e-9f40-5a6b7c8d9e01';
  const EDGE2 = '8c6e0f8a-1b2c-4d3e-9f40-5a6b7c8d9e02';
  const BLOCK = '203.0.113.50/32';
  const IPPATH = `/ip/${encodeURIComponent(BLOCK)}`;

  async function startCloud(): Promise<{ standIn: OvhStandIn; ovh: OvhClient }> {
    const started = await start();
    started.standIn.addCloudProject(PROJECT, {
      instances: [
        { id: EDGE1, name: 'edge-1' },
        { id: EDGE2, name: 'edge-2', region: 'GRA11' },
      ],
      failoverIps: [{ id: 'fo-1', ip: '203.0.113.50', routedTo: EDGE2 }],
    });
    return started;
  }

  it('lists instances and failover IPs; attach is operationPending for a step, then ok and routed', async () => {
    const { standIn, ovh } = await startCloud();
    const instances = (await ovh.requestPromised('GET', `/cloud/project/${PROJECT}/instance`)) as Array<Record<string, unknown>>;
    expect(instances.map((i) => [i.id, i.name, i.region, i.status])).toEqual([
      [EDGE1, 'edge-1', 'SBG5', 'ACTIVE'],
      [EDGE2, 'edge-2', 'GRA11', 'ACTIVE'],
    ]);
    expect(await ovh.requestPromised('GET', `/cloud/project/${PROJECT}/instance`, { region: 'GRA11' })).toHaveLength(1);
    expect(await ovh.requestPromised('GET', FIP)).toEqual([expect.objectContaining({ id: 'fo-1', ip: '203.0.113.50', routedTo: EDGE2, status: 'ok' })]);

    const attached = (await ovh.requestPromised('POST', `${FIP}/fo-1/attach`, { instanceId: EDGE1 })) as Record<string, unknown>;
    expect(attached).toMatchObject({ routedTo: EDGE2, status: 'operationPending' });
    // A second attach while the first is pending is refused.
    const again = await failure(ovh.requestPromised('POST', `${FIP}/fo-1/attach`, { instanceId: EDGE1 }));
    expect(again.error).toBe(409);

    const first = (await ovh.requestPromised('GET', `${FIP}/fo-1`)) as Record<string, unknown>;
    expect(first).toMatchObject({ routedTo: EDGE2, status: 'operationPending' });
    const second = (await ovh.requestPromised('GET', `${FIP}/fo-1`)) as Record<string, unknown>;
    expect(second).toMatchObject({ routedTo: EDGE1, status: 'ok' });
    expect(standIn.cloudFailoverIps(PROJECT)).toEqual([expect.objectContaining({ routedTo: EDGE1, status: 'ok' })]);

    const unknown = await failure(ovh.requestPromised('POST', `${FIP}/fo-1/attach`, { instanceId: 'no-such-instance' }));
    expect(unknown.error).toBe(404);
    const badBody = await failure(ovh.requestPromised('POST', `${FIP}/fo-1/attach`, { instance: EDGE2 }));
    expect(badBody.error).toBe(400);
    expect(standIn.violations).toEqual([
      expect.stringMatching(/body: unknown field "instance"/),
      expect.stringMatching(/body: missing required field "instanceId"/),
    ]);
  });

  it("refuseAttach answers 400 with OVH's message; attachOutcome 'never' stays pending", async () => {
    const { standIn, ovh } = await startCloud();
    standIn.refuseAttach();
    const refused = await failure(ovh.requestPromised('POST', `${FIP}/fo-1/attach`, { instanceId: EDGE1 }));
    expect(refused).toEqual({ error: 400, message: 'The instance is not in the same region' });
    expect(standIn.cloudFailoverIps(PROJECT)[0]).toMatchObject({ routedTo: EDGE2, status: 'ok' });

    standIn.attachOutcome('never');
    await ovh.requestPromised('POST', `${FIP}/fo-1/attach`, { instanceId: EDGE1 });
    for (let i = 0; i < 5; i++) {
      expect(await ovh.requestPromised('GET', `${FIP}/fo-1`)).toMatchObject({ routedTo: EDGE2, status: 'operationPending' });
    }
    expect(standIn.violations).toEqual([]);
  });

  it('routes an /ip block and moves it through a genericMoveFloatingIp task', async () => {
    const { standIn, ovh } = await start();
    standIn.addServer('ns2.ip-198-51-100.eu', { mainIp: '198.51.100.20' });
    standIn.addIp('203.0.113.50', { routedTo: SN });

    expect(await ovh.requestPromised('GET', IPPATH)).toMatchObject({ ip: BLOCK, routedTo: { serviceName: SN }, type: 'failover', version: 4 });
    const nowhere = await failure(ovh.requestPromised('POST', `${IPPATH}/move`, { to: 'ns-unknown' }));
    expect(nowhere.error).toBe(400);

    const task = (await ovh.requestPromised('POST', `${IPPATH}/move`, { to: 'ns2.ip-198-51-100.eu' })) as Record<string, unknown>;
    expect(task).toMatchObject({ function: 'genericMoveFloatingIp', status: 'todo', destination: { serviceName: 'ns2.ip-198-51-100.eu' } });
    expect(await ovh.requestPromised('GET', `${IPPATH}/task`, { function: 'genericMoveFloatingIp', status: 'todo' })).toEqual([task.taskId]);
    const statuses: unknown[] = [];
    for (let i = 0; i < 2; i++) statuses.push(((await ovh.requestPromised('GET', `${IPPATH}/task/${String(task.taskId)}`)) as Record<string, unknown>).status);
    expect(statuses).toEqual(['doing', 'done']);
    expect(standIn.ipRoutedTo(BLOCK)).toBe('ns2.ip-198-51-100.eu');
    expect(standIn.ipTasks(BLOCK)).toEqual([expect.objectContaining({ taskId: task.taskId, status: 'done' })]);

    standIn.taskOutcome('genericMoveFloatingIp', 'customerError', { comment: 'The destination is in another datacenter' });
    const failing = (await ovh.requestPromised('POST', `${IPPATH}/move`, { to: SN })) as Record<string, unknown>;
    await ovh.requestPromised('GET', `${IPPATH}/task/${String(failing.taskId)}`);
    expect(await ovh.requestPromised('GET', `${IPPATH}/task/${String(failing.taskId)}`)).toMatchObject({
      status: 'customerError',
      comment: 'The destination is in another datacenter',
    });
    expect(standIn.ipRoutedTo(BLOCK)).toBe('ns2.ip-198-51-100.eu');

    const notABlock = await failure(ovh.requestPromised('GET', '/ip/203.0.113.999'));
    expect(notABlock.error).toBe(400);
    expect(standIn.violations).toEqual([expect.stringContaining('path ip')]);
  });
});
