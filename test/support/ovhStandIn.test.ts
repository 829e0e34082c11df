// Tests of the OVH API stand-in itself, through the real @ovhcloud/node-ovh client and raw HTTPS.
import * as fs from 'node:fs';
import * as https from 'node:https';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  schemaDir,
  signOvhRequest,
  STAND_IN_ACCOUNT,
  startOvhStandIn,
  type CloudFailoverIp,
  type DedicatedServerTask,
  type IpTask,
  type OvhStandIn,
  type VrackTask,
  type ZoneRecord,
} from './ovhStandIn';

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

    expect(await ovh.requestPromised('GET', `/dedicated/server/${SN}/specifications/network`)).toMatchObject({
      routing: { ipv4: { ip: '198.51.100.10', gateway: '198.51.100.254', network: '198.51.100.0/24' }, ipv6: null },
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

  it("refuses a bad signature with OVH's 400 Invalid signature and accepts node-ovh's (no port in the URL)", async () => {
    const { standIn } = await start();

    const bad = await raw(standIn, 'GET', VMACS, { signature: '$1$0000000000000000000000000000000000000000' });
    expect(bad.status).toBe(400);
    expect(bad.body).toEqual({ class: 'Client::BadRequest', message: 'Invalid signature', errorCode: 'INVALID_SIGNATURE', httpCode: '400 Bad Request' });
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

  it('a second IP attached to the same instance leaves the first attached to it: OVH has no detach, and an attach moves only its own IP', async () => {
    const { standIn, ovh } = await start();
    standIn.addCloudProject(PROJECT, {
      instances: [{ id: EDGE1, name: 'edge-1' }, { id: EDGE2, name: 'edge-2' }],
      failoverIps: [{ id: 'fo-1', ip: '203.0.113.50', routedTo: EDGE2 }, { id: 'fo-2', ip: '203.0.113.51', routedTo: EDGE2 }],
    });
    const settle = async (id: string) => {
      for (let i = 0; i < 10; i++) {
        const f = (await ovh.requestPromised('GET', `${FIP}/${id}`)) as Record<string, unknown>;
        if (f.status === 'ok') return f;
      }
      throw new Error(`${id} still pending`);
    };
    await ovh.requestPromised('POST', `${FIP}/fo-1/attach`, { instanceId: EDGE1 });
    expect(await settle('fo-1')).toMatchObject({ ip: '203.0.113.50', routedTo: EDGE1 });
    await ovh.requestPromised('POST', `${FIP}/fo-2/attach`, { instanceId: EDGE1 });
    // While the second is pending, the first stays where it is.
    expect(await ovh.requestPromised('GET', `${FIP}/fo-1`)).toMatchObject({ routedTo: EDGE1, status: 'ok' });
    expect(await settle('fo-2')).toMatchObject({ ip: '203.0.113.51', routedTo: EDGE1 });
    expect(standIn.cloudFailoverIps(PROJECT).map((f) => [f.ip, f.routedTo, f.status])).toEqual([
      ['203.0.113.50', EDGE1, 'ok'],
      ['203.0.113.51', EDGE1, 'ok'],
    ]);
    // No route takes an IP off an instance (cloud.json has no detach and no DELETE on a failover IP).
    expect(await failure(ovh.requestPromised('DELETE', `${FIP}/fo-1`))).toMatchObject({ error: 404 });
    expect(await failure(ovh.requestPromised('POST', `${FIP}/fo-1/detach`, {}))).toMatchObject({ error: 404 });
    expect(standIn.cloudFailoverIps(PROJECT)[0]).toMatchObject({ routedTo: EDGE1, status: 'ok' });
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

// ---------------------------------------------------------------------------------------
// The calls of the Pulumi ovh provider (terraform-provider-ovh v2.19, go-ovh v1.7.0)
// ---------------------------------------------------------------------------------------

interface GoOvhAnswer {
  status: number;
  body: unknown;
}

/**
 * A client that sends what go-ovh v1.7.0 sends (ovh/ovh.go): GET /auth/time once, unsigned, for
 * the time delta; then each call signed over its target, the endpoint + path as sent (the port
 * included), the JSON body or nothing, and the server's time.
 */
class GoOvh {
  private delta: number | undefined;

  constructor(
    private readonly standIn: OvhStandIn,
    private readonly sign: { secret?: string; consumerKey?: string; url?: (target: string) => string } = {},
  ) {}

  private send(method: string, target: string, body: string, headers: Record<string, string>): Promise<GoOvhAnswer> {
    return new Promise((resolve, reject) => {
      const url = new URL(target);
      // agent: false, as the global agent's options (a CA the other tests set) override a request's.
      const options = { host: url.hostname, port: url.port, path: `${url.pathname}${url.search}`, method, ca: this.standIn.caPem, headers, agent: false };
      const req = https.request(options, (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text === '' ? undefined : (JSON.parse(text) as unknown) }));
      });
      req.on('error', reject);
      req.end(body);
    });
  }

  private baseHeaders(): Record<string, string> {
    return { 'X-Ovh-Application': this.standIn.applicationKey, Accept: 'application/json', 'User-Agent': 'github.com/ovh/go-ovh (Terraform/2.19.0)' };
  }

  async call(method: string, path: string, body?: unknown): Promise<GoOvhAnswer> {
    const target = `${this.standIn.url}${path}`;
    if (this.delta === undefined) {
      const time = await this.send('GET', `${this.standIn.url}/auth/time`, '', this.baseHeaders());
      this.delta = Math.floor(Date.now() / 1000) - Number(time.body);
    }
    const payload = body === undefined ? '' : JSON.stringify(body);
    const timestamp = Math.floor(Date.now() / 1000) - this.delta;
    const signature = signOvhRequest({
      applicationSecret: this.sign.secret ?? this.standIn.applicationSecret,
      consumerKey: this.sign.consumerKey ?? this.standIn.consumerKey,
      method,
      url: this.sign.url ? this.sign.url(target) : target,
      body: payload,
      timestamp,
    });
    const headers: Record<string, string> = {
      ...this.baseHeaders(),
      ...(body === undefined ? {} : { 'Content-Type': 'application/json;charset=utf-8' }),
      'X-Ovh-Timestamp': String(timestamp),
      'X-Ovh-Consumer': this.sign.consumerKey ?? this.standIn.consumerKey,
      'X-Ovh-Signature': signature,
    };
    return this.send(method, target, payload, headers);
  }

  /** The answer of a call that must succeed. */
  async ok(method: string, path: string, body?: unknown): Promise<unknown> {
    const answer = await this.call(method, path, body);
    if (answer.status < 200 || answer.status >= 300) throw new Error(`${method} ${path}: ${answer.status} ${JSON.stringify(answer.body)}`);
    return answer.body;
  }
}

const INVALID_SIGNATURE = { class: 'Client::BadRequest', message: 'Invalid signature', errorCode: 'INVALID_SIGNATURE', httpCode: '400 Bad Request' };

describe('OVH stand-in: the calls of the Pulumi ovh provider (terraform-provider-ovh v2.19, go-ovh)', () => {
  const SN2 = 'ns2.ip-198-51-100.eu';
  const BLOCK = '203.0.113.50/32';
  const IPP = `/ip/${encodeURIComponent(BLOCK)}`;
  const ZONE = 'example.org';
  const RECORDS = `/domain/zone/${ZONE}/record`;
  const PROJECT = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';
  const FIPS = `/cloud/project/${PROJECT}/ip/failover`;
  const EDGE1 = '8c6e0f8a-1b2c-4d3e-9f40-5a6b7c8d9e01';
  const EDGE2 = '8c6e0f8a-1b2c-4d3e-9f40-5a6b7c8d9e02';

  async function startWorld(opts: Parameters<typeof startOvhStandIn>[0] = {}): Promise<{ standIn: OvhStandIn; go: GoOvh }> {
    const standIn = await startOvhStandIn(opts);
    running.push(standIn);
    standIn.addServer(SN, { mainIp: '198.51.100.10', ipv6: { ip: '2001:db8:1:4600::/56', gateway: '2001:db8:1:46ff:ff:ff:ff:ff' } });
    standIn.addServer(SN2, { mainIp: '198.51.100.20' });
    standIn.addIp(BLOCK, { routedTo: SN });
    standIn.addZone(ZONE);
    standIn.addCloudProject(PROJECT, {
      instances: [
        { id: EDGE1, name: 'edge-1' },
        { id: EDGE2, name: 'edge-2' },
      ],
      failoverIps: [{ id: 'fo-1', ip: '203.0.113.60', routedTo: EDGE2 }],
    });
    return { standIn, go: new GoOvh(standIn) };
  }

  /** What the provider does after a move or a park: read the task until it has ended. */
  async function waitTask(go: GoOvh, taskId: number): Promise<string[]> {
    const seen: string[] = [];
    for (let i = 0; i < 10; i++) {
      const task = (await go.ok('GET', `${IPP}/task/${taskId}`)) as { status: string };
      seen.push(task.status);
      if (!['init', 'todo', 'doing'].includes(task.status)) break;
    }
    return seen;
  }

  function calls(standIn: OvhStandIn, from = 0): string[] {
    return standIn.requests.slice(from).map((r) => `${r.status} ${r.method} ${r.route ?? r.path}`);
  }

  it('accepts the signature go-ovh computes (the URL with its port) on every route the provider calls, and refuses a wrong one', async () => {
    const { standIn, go } = await startWorld();
    // One call per resource and per configure, each first signed right, then wrong twice: over
    // another port (node-ovh's port-less URL is accepted, no other), and with a wrong secret.
    const routes: Array<[string, string, unknown?]> = [
      ['GET', '/auth/details'],
      ['GET', IPP],
      ['GET', `/dedicated/server/${SN}/specifications/network`],
      ['GET', RECORDS],
      ['GET', FIPS],
      ['POST', `${IPP}/reverse`, { ipReverse: '203.0.113.50', reverse: 'proxy1.example.org.' }],
      ['POST', RECORDS, { target: '203.0.113.50', ttl: 0, fieldType: 'A', subDomain: 'proxy1' }],
      ['POST', `/domain/zone/${ZONE}/refresh`],
    ];
    const otherPort = new GoOvh(standIn, { url: (target) => target.replace(`:${standIn.port}/`, `:${standIn.port + 1}/`) });
    const otherSecret = new GoOvh(standIn, { secret: 'not-the-secret' });
    for (const [method, path, body] of routes) {
      await expect(otherPort.call(method, path, body), `${method} ${path} signed over another port`).resolves.toEqual({ status: 400, body: INVALID_SIGNATURE });
      await expect(otherSecret.call(method, path, body), `${method} ${path} with a wrong secret`).resolves.toEqual({ status: 400, body: INVALID_SIGNATURE });
    }
    // Nothing refused changed anything.
    expect(standIn.zoneRecords(ZONE)).toEqual([]);
    expect(standIn.reverses(BLOCK)).toEqual({});
    expect(standIn.zoneRefreshes()).toEqual([]);

    for (const [method, path, body] of routes) {
      expect((await go.call(method, path, body)).status, `${method} ${path}`).toBe(200);
    }
    expect(standIn.zoneRecords(ZONE)).toHaveLength(1);
    expect(standIn.violations).toHaveLength(routes.length * 2);
    expect(standIn.violations.every((v) => v.endsWith(': Invalid signature'))).toBe(true);
    // The time delta was asked for once per client, unsigned.
    expect(calls(standIn).filter((c) => c.endsWith('/auth/time'))).toEqual(['200 GET /auth/time', '200 GET /auth/time', '200 GET /auth/time']);
  });

  it('configure: GET /auth/time, then GET /auth/details answered as auth.Details', async () => {
    const { standIn, go } = await startWorld();
    const details = await go.ok('GET', '/auth/details');
    expect(details).toEqual({
      account: STAND_IN_ACCOUNT,
      allowedRoutes: [
        { method: 'GET', path: '/*' },
        { method: 'POST', path: '/*' },
        { method: 'PUT', path: '/*' },
        { method: 'DELETE', path: '/*' },
      ],
      description: null,
      identities: [`urn:v1:eu:identity:account:${STAND_IN_ACCOUNT}`],
      method: 'account',
      roles: null,
      user: null,
    });
    expect(calls(standIn)).toEqual(['200 GET /auth/time', '200 GET /auth/details']);
    expect(standIn.violations).toEqual([]);
    // A consumer key OVH does not know: 403 INVALID_CREDENTIAL, and the provider fails to configure.
    const stranger = new GoOvh(standIn, { consumerKey: 'unknown-ck' });
    expect(await stranger.call('GET', '/auth/details')).toEqual({
      status: 403,
      body: { class: 'Client::Forbidden', message: 'This credential is not valid', errorCode: 'INVALID_CREDENTIAL', httpCode: '403 Forbidden' },
    });
    expect(standIn.violations).toEqual(['GET /auth/details: This credential is not valid']);
  });

  it('the data source ovh_dedicated_server_specifications_network: one GET, every field of the model', async () => {
    const { standIn, go } = await startWorld();
    const spec = (await go.ok('GET', `/dedicated/server/${SN}/specifications/network`)) as Record<string, unknown>;
    expect(Object.keys(spec).sort()).toEqual(['bandwidth', 'connection', 'ola', 'routing', 'switching', 'traffic', 'vmac', 'vrack']);
    expect(spec.routing).toEqual({
      ipv4: { ip: '198.51.100.10', gateway: '198.51.100.254', network: '198.51.100.0/24' },
      ipv6: { ip: '2001:db8:1:4600::/56', gateway: '2001:db8:1:46ff:ff:ff:ff:ff', network: '2001:db8:1:4600::/56' },
    });
    expect(((await go.ok('GET', `/dedicated/server/${SN2}/specifications/network`)) as Record<string, { ipv6: unknown }>).routing.ipv6).toBeNull();
    expect((await go.call('GET', '/dedicated/server/ns-unknown/specifications/network')).status).toBe(404);
    expect(standIn.violations).toEqual([]);
  });

  it('ovh_ip_move: create (read, move, task, read), update, import read, delete (park)', async () => {
    const { standIn, go } = await startWorld();
    // Create: routed elsewhere, so a move; the id becomes the task's.
    expect(await go.ok('GET', IPP)).toMatchObject({ ip: BLOCK, routedTo: { serviceName: SN } });
    const move = (await go.ok('POST', `${IPP}/move`, { to: SN2 })) as IpTask;
    expect(move).toMatchObject({ function: 'genericMoveFloatingIp', status: 'todo', destination: { serviceName: SN2 }, doneDate: null });
    expect(await waitTask(go, move.taskId)).toEqual(['doing', 'done']);
    expect(await go.ok('GET', IPP)).toMatchObject({ routedTo: { serviceName: SN2 } });
    expect(standIn.ipRoutedTo(BLOCK)).toBe(SN2);

    // Update back to the first server; a second move while one is pending is refused.
    const back = (await go.ok('POST', `${IPP}/move`, { to: SN })) as IpTask;
    expect(await go.call('POST', `${IPP}/move`, { to: SN })).toMatchObject({ status: 409 });
    expect(await waitTask(go, back.taskId)).toEqual(['doing', 'done']);
    // Import: the id is the IP, then one read.
    expect(await go.ok('GET', IPP)).toMatchObject({ ip: BLOCK, type: 'failover', routedTo: { serviceName: SN } });

    // Delete parks the IP: POST /ip/{ip}/park without a body, then the task.
    const from = standIn.requests.length;
    const park = (await go.ok('POST', `${IPP}/park`)) as IpTask;
    expect(park).toMatchObject({ function: 'genericMoveFloatingIp', status: 'todo', destination: { serviceName: null } });
    expect(standIn.ipRoutedTo(BLOCK)).toBe(SN); // not before the task is done
    expect(await waitTask(go, park.taskId)).toEqual(['doing', 'done']);
    expect(await go.ok('GET', IPP)).toMatchObject({ routedTo: { serviceName: null } });
    expect(standIn.ipRoutedTo(BLOCK)).toBeNull();
    expect(standIn.requests[from]).toMatchObject({ method: 'POST', route: '/ip/{ip}/park', body: undefined, status: 200 });
    expect(await go.call('POST', `${IPP}/park`)).toMatchObject({ status: 400 });
    expect(standIn.ipTasks(BLOCK).map((t) => [t.status, t.destination?.serviceName])).toEqual([
      ['done', SN2],
      ['done', SN],
      ['done', null],
    ]);
    expect(standIn.violations).toEqual([]);
  });

  it('ovh_ip_reverse: create (POST, then GET), import read, delete; a name that does not resolve is a 400', async () => {
    const { standIn, go } = await startWorld({ reverseResolves: 'zones' });
    const create = { ipReverse: '203.0.113.50', reverse: 'proxy1.example.org.' };
    // The provider retries this 400 every 5 s until its readiness timeout.
    expect(await go.call('POST', `${IPP}/reverse`, create)).toEqual({
      status: 400,
      body: { class: 'Client::BadRequest', message: 'proxy1.example.org. does not resolve to 203.0.113.50' },
    });
    expect(standIn.reverses(BLOCK)).toEqual({});
    // Once the A record is there, the retry goes through.
    await go.ok('POST', RECORDS, { target: '203.0.113.50', ttl: 0, fieldType: 'A', subDomain: 'proxy1' });
    expect(await go.ok('POST', `${IPP}/reverse`, create)).toEqual(create);
    expect(await go.ok('GET', `${IPP}/reverse/203.0.113.50`)).toEqual(create);
    // Import: "<ip>|<ipReverse>", then the same read.
    const [ip, ipReverse] = `${BLOCK}|203.0.113.50`.split('|');
    expect(await go.ok('GET', `/ip/${encodeURIComponent(ip)}/reverse/${ipReverse}`)).toEqual(create);
    expect(await go.ok('GET', `${IPP}/reverse`)).toEqual(['203.0.113.50']);

    // An address outside the block, and a name of another address, are refused.
    expect(await go.call('POST', `${IPP}/reverse`, { ipReverse: '203.0.113.51', reverse: 'proxy1.example.org.' })).toMatchObject({ status: 400 });
    standIn.reverseResolves((name, address) => name === 'other.example.org.' && address === '203.0.113.50');
    expect(await go.call('POST', `${IPP}/reverse`, { ...create, reverse: 'proxy2.example.org.' })).toMatchObject({ status: 400 });
    // OVH keeps the name with its trailing dot.
    expect(await go.ok('POST', `${IPP}/reverse`, { ...create, reverse: 'other.example.org' })).toEqual({ ...create, reverse: 'other.example.org.' });
    expect(standIn.reverses(BLOCK)).toEqual({ '203.0.113.50': 'other.example.org.' });

    expect(await go.call('DELETE', `${IPP}/reverse/203.0.113.50`)).toEqual({ status: 200, body: null });
    expect(standIn.reverses(BLOCK)).toEqual({});
    expect(await go.call('GET', `${IPP}/reverse/203.0.113.50`)).toMatchObject({ status: 404 });
    expect(await go.call('DELETE', `${IPP}/reverse/203.0.113.50`)).toMatchObject({ status: 404 });
    expect(standIn.violations).toEqual([]);
  });

  it('ovh_domain_zone_record: create, refresh, read, list, update, import read, delete; state kept', async () => {
    const { standIn, go } = await startWorld();
    // Create as the provider marshals it: no subDomain for the apex, ttl 0 for the zone's default.
    const apex = (await go.ok('POST', RECORDS, { target: '203.0.113.50', ttl: 0, fieldType: 'A' })) as ZoneRecord;
    expect(apex).toEqual({ id: expect.any(Number), zone: ZONE, fieldType: 'A', subDomain: '', target: '203.0.113.50', ttl: 0 });
    const created = (await go.ok('POST', RECORDS, { target: '203.0.113.50', ttl: 0, fieldType: 'A', subDomain: 'proxy1' })) as ZoneRecord;
    expect(created).toMatchObject({ zone: ZONE, subDomain: 'proxy1' });
    expect(created.id).not.toBe(apex.id);
    expect(await go.call('POST', `/domain/zone/${ZONE}/refresh`)).toEqual({ status: 200, body: null });
    expect(await go.ok('GET', `${RECORDS}/${created.id}`)).toEqual(created);
    expect(await go.ok('GET', `${RECORDS}?fieldType=A&subDomain=proxy1`)).toEqual([created.id]);
    expect(await go.ok('GET', RECORDS)).toEqual([apex.id, created.id]);

    // Update: subDomain, target, ttl.
    expect(await go.call('PUT', `${RECORDS}/${created.id}`, { target: '203.0.113.77', ttl: 300, subDomain: 'proxy1' })).toEqual({ status: 200, body: null });
    await go.ok('POST', `/domain/zone/${ZONE}/refresh`);
    // Import: "<id>.<zone>", split at the first dot, then the read.
    const [id, zone] = [`${created.id}.${ZONE}`.slice(0, `${created.id}.${ZONE}`.indexOf('.')), `${created.id}.${ZONE}`.slice(`${created.id}.${ZONE}`.indexOf('.') + 1)];
    expect(await go.ok('GET', `/domain/zone/${zone}/record/${id}`)).toEqual({ ...created, target: '203.0.113.77', ttl: 300 });

    // Delete, then refresh; the record is gone, a second delete is a 404 (which counts as gone).
    expect(await go.call('DELETE', `${RECORDS}/${created.id}`)).toEqual({ status: 200, body: null });
    await go.ok('POST', `/domain/zone/${ZONE}/refresh`);
    expect(await go.call('GET', `${RECORDS}/${created.id}`)).toMatchObject({ status: 404 });
    expect(await go.call('DELETE', `${RECORDS}/${created.id}`)).toMatchObject({ status: 404 });
    expect(standIn.zoneRecords(ZONE)).toEqual([apex]);
    expect(standIn.zoneRefreshes()).toEqual([ZONE, ZONE, ZONE]);

    // A field the API does not take is refused, as OVH's schema says.
    expect(await go.call('PUT', `${RECORDS}/${apex.id}`, { target: '203.0.113.78', ttl: 0, fieldType: 'A' })).toMatchObject({ status: 400 });
    expect(standIn.violations).toEqual([expect.stringContaining('unknown field "fieldType"')]);
  });

  it('refreshes refused as while another is scheduled: the next N answered 409, nothing refreshed, then granted', async () => {
    const { standIn, go } = await startWorld();
    standIn.refuseZoneRefreshes(2);
    for (let i = 0; i < 2; i++) {
      expect(await go.call('POST', `/domain/zone/${ZONE}/refresh`)).toMatchObject({
        status: 409,
        body: { message: 'You cannot schedule more than one refresh at a time' },
      });
    }
    expect(standIn.zoneRefreshes()).toEqual([]);
    expect(await go.call('POST', `/domain/zone/${ZONE}/refresh`)).toMatchObject({ status: 200 });
    expect(standIn.zoneRefreshes()).toEqual([ZONE]);
    // A call replaces the refusals still pending.
    standIn.refuseZoneRefreshes(5, 400);
    standIn.refuseZoneRefreshes(0);
    expect(await go.call('POST', `/domain/zone/${ZONE}/refresh`)).toMatchObject({ status: 200 });
    expect(() => standIn.refuseZoneRefreshes(1, 500)).toThrow('a refused refresh is a 4xx, not 500');
    expect(standIn.violations).toEqual([]);
  });

  it('a refresh refused with 403 is answered 403; the record change it follows stands', async () => {
    const { standIn, go } = await startWorld();
    standIn.failNext({ method: 'POST', route: '/domain/zone/{zoneName}/refresh', status: 403 });
    const created = (await go.ok('POST', RECORDS, { target: '203.0.113.50', ttl: 0, fieldType: 'A', subDomain: 'proxy1' })) as ZoneRecord;
    expect(await go.call('POST', `/domain/zone/${ZONE}/refresh`)).toMatchObject({
      status: 403,
      body: { class: 'Client::Forbidden', message: 'This call has not been granted' },
    });
    expect(standIn.zoneRefreshes()).toEqual([]);
    expect(await go.ok('GET', `${RECORDS}/${created.id}`)).toEqual(created);
    expect(await go.call('POST', `/domain/zone/${ZONE}/refresh`)).toMatchObject({ status: 200 });
    expect(standIn.zoneRefreshes()).toEqual([ZONE]);
    expect(calls(standIn).slice(1)).toEqual([
      `200 POST /domain/zone/{zoneName}/record`,
      `403 POST /domain/zone/{zoneName}/refresh`,
      `200 GET /domain/zone/{zoneName}/record/{id}`,
      `200 POST /domain/zone/{zoneName}/refresh`,
    ]);
  });

  it('the zones of the account, a zone with its name servers, and its status: deployed again by a refresh', async () => {
    const { standIn, go } = await startWorld();
    standIn.addZone('example.net');
    expect(await go.ok('GET', '/domain/zone')).toEqual([ZONE, 'example.net']);
    const zone = (await go.ok('GET', `/domain/zone/${ZONE}`)) as { name: string; nameServers: string[] };
    expect(zone).toMatchObject({ name: ZONE, nameServers: [expect.stringMatching(/^dns\d+\.ovh\.net$/), expect.stringMatching(/^ns\d+\.ovh\.net$/)] });
    standIn.setZoneNameServers(ZONE, ['dns28.ovh.net', 'ns28.ovh.net']);
    expect(await go.ok('GET', `/domain/zone/${ZONE}`)).toMatchObject({ nameServers: ['dns28.ovh.net', 'ns28.ovh.net'] });
    expect(await go.call('GET', '/domain/zone/unknown.example')).toMatchObject({ status: 404 });

    expect(await go.ok('GET', `/domain/zone/${ZONE}/status`)).toEqual({ isDeployed: true, errors: [], warnings: [] });
    await go.ok('POST', RECORDS, { target: '203.0.113.50', ttl: 0, fieldType: 'A', subDomain: 'proxy1' });
    expect(await go.ok('GET', `/domain/zone/${ZONE}/status`)).toMatchObject({ isDeployed: false });
    await go.ok('POST', `/domain/zone/${ZONE}/refresh`);
    expect(await go.ok('GET', `/domain/zone/${ZONE}/status`)).toMatchObject({ isDeployed: true });
    // Every answer was checked against domain.json (domain.ZoneWithIAM, domain.zone.Status).
    expect(standIn.violations).toEqual([]);
  });

  it('a refresh a key is not granted: 403 NOT_GRANTED_CALL, nothing published, nothing counted; granted again, the hook gets the records', async () => {
    const { standIn, go } = await startWorld();
    const published: Array<[string, ZoneRecord[]]> = [];
    standIn.onZoneRefresh((zone, records) => void published.push([zone, records]));
    const created = (await go.ok('POST', RECORDS, { target: '203.0.113.50', ttl: 0, fieldType: 'A', subDomain: 'proxy1' })) as ZoneRecord;
    standIn.zoneRefreshGranted(false);
    expect(await go.call('POST', `/domain/zone/${ZONE}/refresh`)).toEqual({
      status: 403,
      body: { class: 'Client::Forbidden', message: 'This call has not been granted', errorCode: 'NOT_GRANTED_CALL', httpCode: '403 Forbidden' },
    });
    expect(published).toEqual([]);
    expect(standIn.zoneRefreshes()).toEqual([]);
    expect(await go.ok('GET', `/domain/zone/${ZONE}/status`)).toMatchObject({ isDeployed: false });
    standIn.zoneRefreshGranted(true);
    await go.ok('POST', `/domain/zone/${ZONE}/refresh`);
    expect(published).toEqual([[ZONE, [created]]]);
    expect(standIn.zoneRefreshes()).toEqual([ZONE]);
    // A hook that fails is the test's bug: answered 500 and recorded, never counted as a refresh.
    standIn.onZoneRefresh(() => {
      throw new Error('the DNS server is gone');
    });
    expect(await go.call('POST', `/domain/zone/${ZONE}/refresh`)).toMatchObject({ status: 500 });
    expect(standIn.zoneRefreshes()).toEqual([ZONE]);
    expect(standIn.violations).toEqual([expect.stringContaining('the DNS server is gone')]);
  });

  it('TXT targets are stored quoted, as OVH stores them; one sent quoted is kept; other types are stored as sent', async () => {
    const { standIn, go } = await startWorld();
    const spf = (await go.ok('POST', RECORDS, { target: 'v=spf1 ip4:203.0.113.50 -all', ttl: 0, fieldType: 'TXT' })) as ZoneRecord;
    expect(spf.target).toBe('"v=spf1 ip4:203.0.113.50 -all"');
    const quoted = (await go.ok('POST', RECORDS, { target: '"a" "b"', ttl: 0, fieldType: 'TXT', subDomain: 'two' })) as ZoneRecord;
    expect(quoted.target).toBe('"a" "b"');
    await go.ok('PUT', `${RECORDS}/${spf.id}`, { target: 'v=spf1 ip4:203.0.113.77 -all', ttl: 0 });
    expect(await go.ok('GET', `${RECORDS}/${spf.id}`)).toMatchObject({ target: '"v=spf1 ip4:203.0.113.77 -all"' });
    const a = (await go.ok('POST', RECORDS, { target: '203.0.113.50', ttl: 0, fieldType: 'A', subDomain: 'proxy1' })) as ZoneRecord;
    expect(a.target).toBe('203.0.113.50');
    expect(standIn.violations).toEqual([]);
  });

  it('ovh_cloud_project_failover_ip_attach: list, attach, re-read the list until settled; import read', async () => {
    const { standIn, go } = await startWorld();
    const list = (await go.ok('GET', FIPS)) as CloudFailoverIp[];
    const found = list.find((f) => f.ip === '203.0.113.60');
    expect(found).toMatchObject({ id: 'fo-1', routedTo: EDGE2, status: 'ok' });
    // A 400 (the instance not ready) is retried by the provider; nothing changes meanwhile.
    standIn.refuseAttach('The instance is not ready');
    expect(await go.call('POST', `${FIPS}/fo-1/attach`, { instanceId: EDGE1 })).toMatchObject({ status: 400 });
    const attached = (await go.ok('POST', `${FIPS}/fo-1/attach`, { instanceId: EDGE1 })) as CloudFailoverIp;
    expect(attached).toMatchObject({ id: 'fo-1', status: 'operationPending', routedTo: EDGE2 });
    // The provider re-reads the list, with no pause, until the IP is no longer operationPending.
    const seen: string[] = [];
    for (let i = 0; i < 10; i++) {
      const ip = ((await go.ok('GET', FIPS)) as CloudFailoverIp[]).find((f) => f.ip === '203.0.113.60');
      seen.push(`${ip?.status} ${ip?.routedTo}`);
      if (ip?.status !== 'operationPending') break;
    }
    expect(seen).toEqual([`operationPending ${EDGE2}`, `ok ${EDGE1}`]);
    // Import read: the list again, matched on the IP.
    expect(((await go.ok('GET', FIPS)) as CloudFailoverIp[]).find((f) => f.ip === '203.0.113.60')).toMatchObject({ id: 'fo-1', routedTo: EDGE1, status: 'ok' });
    expect(standIn.cloudFailoverIps(PROJECT)).toEqual([expect.objectContaining({ routedTo: EDGE1, status: 'ok' })]);
    expect(standIn.violations).toEqual([]);
  });

  it("checks its own answers: one that breaks OVH's model is recorded as a violation", async () => {
    const { standIn, go } = await startWorld();
    standIn.handle('GET', '/ip/{ip}/reverse/{ipReverse}', () => ({ status: 200, body: { ipReverse: '203.0.113.50', reverse: 7, routedTo: 'x' } }));
    await go.ok('GET', `${IPP}/reverse/203.0.113.50`);
    expect(standIn.violations).toEqual([
      expect.stringMatching(/answer to GET \/ip\/\{ip\}\/reverse\/\{ipReverse\} breaks the schema: response\.reverse: 7 is not a string/),
      expect.stringMatching(/unknown field "routedTo" \(not in ip\.ReverseIp\)/),
    ]);
  });
});

describe('OVH stand-in: blocks, their moves and virtual MACs, vRacks (issue 27)', () => {
  const SN2 = 'ns2.ip-198-51-100.eu';
  const NOVMAC = 'ns3.ip-198-51-100.eu';
  const PAR = 'ns4.ip-198-51-100.eu';
  const FULL = 'ns5.ip-198-51-100.eu';
  const BLOCK = '203.0.113.8/29';
  const BP = `/ip/${encodeURIComponent(BLOCK)}`;
  const MAC_A = '02:00:00:00:00:0a';
  const MAC_B = '02:00:00:00:00:0b';

  async function startBlocks(): Promise<{ standIn: OvhStandIn; go: GoOvh }> {
    const standIn = await startOvhStandIn();
    running.push(standIn);
    standIn.addServer(SN, { mainIp: '198.51.100.10', region: 'eu-west-gra' });
    standIn.addServer(SN2, { mainIp: '198.51.100.20', region: 'eu-west-rbx' });
    standIn.addServer(NOVMAC, { mainIp: '198.51.100.30', region: 'eu-west-sbg', vmacSupported: false, hardware: { processorName: 'Intel Xeon-E 2388G' } });
    standIn.addServer(PAR, { mainIp: '198.51.100.40', region: 'eu-west-par' });
    standIn.addServer(FULL, { mainIp: '198.51.100.50', region: 'eu-west-gra', virtualMacLimit: 3 });
    standIn.addIp(BLOCK, { routedTo: SN, regions: ['eu-west-gra'] });
    standIn.addIp('203.0.113.50', { routedTo: SN2 });
    standIn.addIp('192.0.2.0/28', { routedTo: SN, type: 'dedicated', isAdditionalIp: false });
    standIn.seedVirtualMac(SN, MAC_A, 'ovh', [{ ipAddress: '203.0.113.9', virtualMachineName: 'ct-101' }]);
    standIn.seedVirtualMac(SN, MAC_B, 'ovh', [{ ipAddress: '203.0.113.10', virtualMachineName: 'ct-102' }]);
    return { standIn, go: new GoOvh(standIn) };
  }

  const q = (params: Record<string, string>) => `?${new URLSearchParams(params).toString()}`;

  it('GET /ip: "ip" finds the block that contains or equals the address or block; the other filters', async () => {
    const { standIn, go } = await startBlocks();
    expect(await go.ok('GET', `/ip${q({ ip: '203.0.113.10' })}`)).toEqual([BLOCK]);
    expect(await go.ok('GET', `/ip${q({ ip: BLOCK })}`)).toEqual([BLOCK]);
    expect(await go.ok('GET', `/ip${q({ ip: '203.0.113.12/30' })}`)).toEqual([BLOCK]);
    expect(await go.ok('GET', `/ip${q({ ip: '203.0.113.0/28' })}`)).toEqual([]); // bigger than any block held
    expect(await go.ok('GET', `/ip${q({ ip: '203.0.113.16' })}`)).toEqual([]);
    expect(await go.ok('GET', `/ip${q({ 'routedTo.serviceName': SN2 })}`)).toEqual(['203.0.113.50/32']);
    expect(await go.ok('GET', `/ip${q({ type: 'dedicated' })}`)).toEqual(['192.0.2.0/28']);
    expect(await go.ok('GET', `/ip${q({ isAdditionalIp: 'false' })}`)).toEqual(['192.0.2.0/28']);
    expect(await go.ok('GET', `/ip${q({ version: '6' })}`)).toEqual([]);
    expect(await go.ok('GET', `/ip${q({ version: '4', type: 'failover', 'routedTo.serviceName': SN })}`)).toEqual([BLOCK]);
    // An address of the /29 is not a block of its own.
    expect(await go.call('GET', `/ip/${encodeURIComponent('203.0.113.10')}`)).toMatchObject({ status: 404 });
    expect(await go.ok('GET', BP)).toMatchObject({ ip: BLOCK, regions: ['eu-west-gra'], routedTo: { serviceName: SN } });
    expect(standIn.violations).toEqual([]);
    expect(await go.call('GET', `/ip${q({ type: 'nope' })}`)).toMatchObject({ status: 400 });
    expect(standIn.violations).toEqual([expect.stringMatching(/query type: "nope" is not one of ip\.IpTypeEnum/)]);
  });

  it('moves a /29 whole, with its virtual MACs; one address of it is refused', async () => {
    const { standIn, go } = await startBlocks();
    for (const asked of ['203.0.113.10', '203.0.113.10/32', '203.0.113.8/30']) {
      const single = await go.call('POST', `/ip/${encodeURIComponent(asked)}/move`, { to: SN2 });
      expect(single).toMatchObject({ status: 400, body: { message: expect.stringMatching(/part of the block 203\.0\.113\.8\/29: only whole blocks can be moved/) } });
      expect(await go.call('GET', `/dedicated/server/${SN2}/ipCanBeMovedTo${q({ ip: asked })}`)).toMatchObject({ status: 400 });
    }
    expect(await go.call('GET', `/dedicated/server/${SN2}/ipCanBeMovedTo${q({ ip: BLOCK })}`)).toEqual({ status: 200, body: null });
    const task = (await go.ok('POST', `${BP}/move`, { to: SN2 })) as IpTask;
    expect(task).toMatchObject({ function: 'genericMoveFloatingIp', destination: { serviceName: SN2 } });
    // Until the task is done the MACs stay where they were.
    expect(Object.keys(standIn.virtualMacs(SN2))).toEqual([]);
    const seen: string[] = [];
    for (let i = 0; i < 5 && !['done', 'customerError'].includes(seen.at(-1) ?? ''); i++) seen.push(((await go.ok('GET', `${BP}/task/${task.taskId}`)) as IpTask).status);
    expect(seen).toEqual(['doing', 'done']);
    expect(standIn.ipRoutedTo(BLOCK)).toBe(SN2);
    expect(Object.keys(standIn.virtualMacs(SN2)).sort()).toEqual([MAC_A, MAC_B]);
    expect(standIn.virtualMacs(SN)).toEqual({});
    expect(await go.ok('GET', `/dedicated/server/${SN2}/virtualMac/${MAC_B}/virtualAddress`)).toEqual(['203.0.113.10']);
    expect(await go.call('GET', `/dedicated/server/${SN}/virtualMac/${MAC_B}`)).toMatchObject({ status: 404 });
    expect(standIn.violations).toEqual([]);
  });

  it('refuses a move to a server without virtual MACs while the block has some, then lets it go once they are removed', async () => {
    const { standIn, go } = await startBlocks();
    expect(((await go.ok('GET', `/dedicated/server/${NOVMAC}/specifications/network`)) as { vmac: unknown }).vmac).toEqual({ supported: false });
    const refused = await go.call('POST', `${BP}/move`, { to: NOVMAC });
    expect(refused).toMatchObject({ status: 400, body: { message: expect.stringMatching(/does not support virtual MACs .* \(203\.0\.113\.9, 203\.0\.113\.10\)/) } });
    expect(await go.call('GET', `/dedicated/server/${NOVMAC}/ipCanBeMovedTo${q({ ip: BLOCK })}`)).toMatchObject({ status: 400, body: refused.body });
    // A server without virtual MACs takes no new one either.
    standIn.addIp('203.0.113.60', { routedTo: NOVMAC });
    const made = await go.call('POST', `/dedicated/server/${NOVMAC}/virtualMac`, { ipAddress: '203.0.113.60', type: 'ovh', virtualMachineName: 'x' });
    expect(made).toMatchObject({ status: 400, body: { message: expect.stringMatching(/vmac\.supported is false/) } });
    for (const [mac, ip] of [[MAC_A, '203.0.113.9'], [MAC_B, '203.0.113.10']]) {
      const removal = (await go.ok('DELETE', `/dedicated/server/${SN}/virtualMac/${mac}/virtualAddress/${ip}`)) as DedicatedServerTask;
      for (let i = 0; i < 3; i++) await go.ok('GET', `/dedicated/server/${SN}/task/${removal.taskId}`);
    }
    expect(await go.call('GET', `/dedicated/server/${NOVMAC}/ipCanBeMovedTo${q({ ip: BLOCK })}`)).toEqual({ status: 200, body: null });
    expect(await go.call('POST', `${BP}/move`, { to: NOVMAC })).toMatchObject({ status: 200 });
    expect(standIn.violations).toEqual([]);
  });

  it('refuses a block whose IPs share a virtual MAC, and a move past the destination\'s MAC limit', async () => {
    const { standIn, go } = await startBlocks();
    // FULL takes 3 distinct MACs and has 2: the block's 2 would make 4.
    standIn.addIp('198.51.100.128/30', { routedTo: FULL });
    standIn.seedVirtualMac(FULL, '02:00:00:00:01:01', 'ovh', [{ ipAddress: '198.51.100.129', virtualMachineName: 'a' }]);
    standIn.seedVirtualMac(FULL, '02:00:00:00:01:02', 'ovh', [{ ipAddress: '198.51.100.130', virtualMachineName: 'b' }]);
    const over = await go.call('POST', `${BP}/move`, { to: FULL });
    expect(over).toMatchObject({ status: 400, body: { message: expect.stringMatching(/has 2 virtual MACs and 203\.0\.113\.8\/29 brings 2: 4 would pass its limit of 3/) } });
    // The limit on a new MAC: the third is taken, a fourth is refused; sharing one adds none.
    const third = (await go.ok('POST', `/dedicated/server/${FULL}/virtualMac`, { ipAddress: '198.51.100.131', type: 'ovh', virtualMachineName: 'c' })) as DedicatedServerTask;
    for (let i = 0; i < 2; i++) await go.ok('GET', `/dedicated/server/${FULL}/task/${third.taskId}`);
    expect(Object.keys(standIn.virtualMacs(FULL))).toHaveLength(3);
    standIn.addIp('198.51.100.132/30', { routedTo: FULL });
    const fourth = await go.call('POST', `/dedicated/server/${FULL}/virtualMac`, { ipAddress: '198.51.100.132', type: 'ovh', virtualMachineName: 'd' });
    expect(fourth).toMatchObject({ status: 400, body: { message: expect.stringMatching(/has 3 virtual MACs, its limit/) } });
    const shared = (await go.ok('POST', `/dedicated/server/${FULL}/virtualMac/02:00:00:00:01:01/virtualAddress`, { ipAddress: '198.51.100.132', virtualMachineName: 'd' })) as DedicatedServerTask;
    for (let i = 0; i < 2; i++) await go.ok('GET', `/dedicated/server/${FULL}/task/${shared.taskId}`);
    expect(standIn.virtualMacs(FULL)['02:00:00:00:01:01'].addresses).toEqual({ '198.51.100.129': 'a', '198.51.100.132': 'd' });

    // A MAC that carries two addresses of the block: the block cannot move anywhere.
    const share = (await go.ok('POST', `/dedicated/server/${SN}/virtualMac/${MAC_A}/virtualAddress`, { ipAddress: '203.0.113.11', virtualMachineName: 'ct-103' })) as DedicatedServerTask;
    for (let i = 0; i < 2; i++) await go.ok('GET', `/dedicated/server/${SN}/task/${share.taskId}`);
    const dup = await go.call('POST', `${BP}/move`, { to: SN2 });
    expect(dup).toMatchObject({ status: 400, body: { message: expect.stringMatching(/02:00:00:00:00:0a carries several addresses \(203\.0\.113\.9, 203\.0\.113\.11\): a block with duplicate virtual MACs cannot be moved/) } });
    expect(standIn.ipRoutedTo(BLOCK)).toBe(SN);
    // Removing one of the two addresses leaves the MAC with the other; the block can move again.
    const removal = (await go.ok('DELETE', `/dedicated/server/${SN}/virtualMac/${MAC_A}/virtualAddress/203.0.113.11`)) as DedicatedServerTask;
    for (let i = 0; i < 2; i++) await go.ok('GET', `/dedicated/server/${SN}/task/${removal.taskId}`);
    expect(standIn.virtualMacs(SN)[MAC_A].addresses).toEqual({ '203.0.113.9': 'ct-101' });
    expect(await go.call('GET', `/dedicated/server/${SN2}/ipCanBeMovedTo${q({ ip: BLOCK })}`)).toEqual({ status: 200, body: null });
    expect(standIn.violations).toEqual([]);
  });

  it('keeps a block in its region, except among eu-west-gra, eu-west-rbx and eu-west-sbg; GET /ip/{block}/move lists what is allowed', async () => {
    const { standIn, go } = await startBlocks();
    const far = 'ns6.ip-198-51-100.ca';
    standIn.addServer(far, { mainIp: '198.51.100.60', region: 'ca-east-bhs', datacenter: 'bhs3' });
    for (const to of [PAR, far]) {
      const refused = await go.call('POST', `${BP}/move`, { to });
      expect(refused).toMatchObject({ status: 400, body: { message: expect.stringMatching(/belongs to eu-west-gra .* a block stays in its region/) } });
      expect(await go.call('GET', `/dedicated/server/${to}/ipCanBeMovedTo${q({ ip: BLOCK })}`)).toMatchObject({ status: 400, body: refused.body });
    }
    const destinations = (await go.ok('GET', `${BP}/move`)) as { dedicatedServer: Array<{ service: string; nexthop: string[] }> };
    expect(destinations.dedicatedServer.map((d) => d.service).sort()).toEqual([SN2, NOVMAC, FULL].sort());
    // A block with no regions goes anywhere (OVH's own check is the verdict then).
    expect(((await go.ok('GET', `/ip/${encodeURIComponent('203.0.113.50/32')}/move`)) as typeof destinations).dedicatedServer.map((d) => d.service)).toContain(far);
    expect(await go.ok('GET', `/dedicated/server/${far}`)).toMatchObject({ region: 'ca-east-bhs', datacenter: 'bhs3', ip: '198.51.100.60' });
    expect(await go.ok('GET', `/dedicated/server/${NOVMAC}/specifications/hardware`)).toMatchObject({ processorName: 'Intel Xeon-E 2388G', processorArchitecture: 'x86_64' });
    expect(await go.ok('GET', `/dedicated/server/${SN}/specifications/hardware`)).toMatchObject({ processorName: 'AMD EPYC 4344P' });
    expect(standIn.violations).toEqual([]);
  });

  it('ovh_vrack_ip: create (POST, the vRack task until it is gone), read, delete; virtual MACs are lost, no new one', async () => {
    const { standIn, go } = await startBlocks();
    const VR = 'pn-123456';
    standIn.addVrack(VR, { servers: [SN, SN2] });
    expect(standIn.vrackSchema).toBe(fs.existsSync(path.join(schemaDir(), 'vrack.json')) ? 'vrack.json' : 'provider types');
    expect(await go.ok('GET', `/dedicated/server/${SN}/vrack`)).toEqual([VR]);
    expect(await go.ok('GET', `/dedicated/server/${NOVMAC}/vrack`)).toEqual([]);
    expect(await go.call('POST', `/vrack/${VR}/ip`, { block: '203.0.113.50/32' })).toMatchObject({ status: 400, body: { message: expect.stringMatching(/at least four addresses/) } });
    expect(await go.call('POST', `/vrack/${VR}/ip`, { block: '203.0.113.12/30' })).toMatchObject({ status: 400, body: { message: expect.stringMatching(/only whole blocks/) } });

    // Create: POST, then waitForVrackTask on the answer's serviceName and id; only a 404 ends it.
    const task = (await go.ok('POST', `/vrack/${VR}/ip`, { block: BLOCK })) as VrackTask;
    expect(task).toMatchObject({ function: 'addBlockToBridgeDomain', status: 'init', serviceName: VR, targetDomain: BLOCK });
    expect(await go.ok('GET', `/vrack/${VR}/task`)).toEqual([task.id]);
    const polled: string[] = [];
    for (let i = 0; i < 5; i++) {
      const answer = await go.call('GET', `/vrack/${task.serviceName ?? ''}/task/${task.id}`);
      polled.push(answer.status === 404 ? 'gone' : (answer.body as VrackTask).status);
      if (answer.status === 404) break;
    }
    expect(polled).toEqual(['doing', 'gone']);
    expect(await go.ok('GET', `/vrack/${VR}/task`)).toEqual([]);
    // Read: the block path-escaped, as url.PathEscape sends it.
    const read = (await go.ok('GET', `/vrack/${VR}/ip/${encodeURIComponent(BLOCK)}`)) as Record<string, unknown>;
    expect(read).toMatchObject({ ip: BLOCK, gateway: '203.0.113.14', zone: 'gra' });
    if (standIn.vrackSchema === 'provider types') expect(read.region).toBe('eu-west-gra');
    expect(await go.ok('GET', `/vrack/${VR}/ip`)).toEqual([BLOCK]);
    expect(standIn.ipVrack(BLOCK)).toBe(VR);
    expect(standIn.ipRoutedTo(BLOCK)).toBe(VR);
    expect(standIn.virtualMacs(SN)).toEqual({}); // "any virtual MAC address will be lost"
    const vmac = await go.call('POST', `/dedicated/server/${SN}/virtualMac`, { ipAddress: '203.0.113.10', type: 'ovh', virtualMachineName: 'x' });
    expect(vmac).toMatchObject({ status: 400, body: { message: expect.stringMatching(/vRack pn-123456: an IP of a vRack block takes no virtual MAC/) } });
    expect(await go.call('POST', `${BP}/move`, { to: SN2 })).toMatchObject({ status: 400, body: { message: expect.stringMatching(/is in the vRack/) } });
    expect(await go.call('POST', `/vrack/${VR}/ip`, { block: BLOCK })).toMatchObject({ status: 400 });

    // Delete: DELETE, then the task until it is gone; the block is in no vRack and routed nowhere.
    const removal = (await go.ok('DELETE', `/vrack/${VR}/ip/${encodeURIComponent(BLOCK)}`)) as VrackTask;
    expect(removal).toMatchObject({ function: 'removeBlockFromBridgeDomain', serviceName: VR });
    let gone = false;
    for (let i = 0; i < 5 && !gone; i++) gone = (await go.call('GET', `/vrack/${VR}/task/${removal.id}`)).status === 404;
    expect(gone).toBe(true);
    expect(await go.call('GET', `/vrack/${VR}/ip/${encodeURIComponent(BLOCK)}`)).toMatchObject({ status: 404 });
    expect(standIn.ipVrack(BLOCK)).toBeNull();
    expect(standIn.ipRoutedTo(BLOCK)).toBeNull();
    expect(standIn.violations).toEqual([]);
  });

  it('a vRack task that fails ends cancelled (which the provider reports as an unexpected state) and changes nothing', async () => {
    const { standIn, go } = await startBlocks();
    standIn.addVrack('pn-1');
    standIn.taskOutcome('addBlockToBridgeDomain', 'customerError');
    const task = (await go.ok('POST', '/vrack/pn-1/ip', { block: BLOCK, region: 'eu-west-rbx' })) as VrackTask;
    const statuses: string[] = [];
    for (let i = 0; i < 2; i++) statuses.push(((await go.ok('GET', `/vrack/pn-1/task/${task.id}`)) as VrackTask).status);
    expect(statuses).toEqual(['doing', 'cancelled']);
    expect(standIn.ipVrack(BLOCK)).toBeNull();
    expect(Object.keys(standIn.virtualMacs(SN))).toHaveLength(2);
    expect(standIn.vrackTasks('pn-1')).toEqual([expect.objectContaining({ id: task.id, status: 'cancelled' })]);
    // A region the block may not be announced in is refused at once.
    expect(await go.call('POST', '/vrack/pn-1/ip', { block: BLOCK, region: 'ca-east-bhs' })).toMatchObject({ status: 400 });
    expect(standIn.violations).toEqual([]);
  });

  it('Public Cloud: a block in a project has ip null (the provider, matching ip, never finds it); an id not in the project is a 404', async () => {
    const standIn = await startOvhStandIn();
    running.push(standIn);
    const P = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';
    const I = '8c6e0f8a-1b2c-4d3e-9f40-5a6b7c8d9e01';
    standIn.addCloudProject(P, { instances: [{ id: I, name: 'edge-1' }], failoverIps: [{ id: 'fo-blk', ip: '203.0.113.64/30', routedTo: I }, { id: 'fo-1', ip: '203.0.113.70', routedTo: I }] });
    const go = new GoOvh(standIn);
    const list = (await go.ok('GET', `/cloud/project/${P}/ip/failover`)) as CloudFailoverIp[];
    expect(list.map((f) => [f.id, f.ip, f.block])).toEqual([['fo-blk', null, '203.0.113.64'], ['fo-1', '203.0.113.70', '203.0.113.70']]);
    expect(list.find((f) => f.ip === '203.0.113.64')).toBeUndefined();
    expect(await go.ok('GET', `/cloud/project/${P}/ip/failover/fo-blk`)).toMatchObject({ ip: null, block: '203.0.113.64' });
    expect(await go.call('GET', `/cloud/project/${P}/ip/failover/fo-unknown`)).toMatchObject({ status: 404 });
    expect(await go.call('POST', `/cloud/project/${P}/ip/failover/fo-unknown/attach`, { instanceId: I })).toMatchObject({ status: 404 });
    expect(standIn.violations).toEqual([]);
  });
});
