// ovh-ipmove, driven for real (its main(), the official @ovhcloud/node-ovh client, real HTTPS,
// signed requests) against the local OVH API stand-in, which checks every request against the
// official schemas (cloud.json, ip.json) and keeps the failover IPs' routing and tasks.
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as https from 'node:https';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { main, USAGE } from '../../bin/ovh-ipmove';
import {
  EXIT_API_ERROR,
  EXIT_OK,
  EXIT_TIMEOUT,
  EXIT_USAGE,
  ipmoveAccessRules,
  moveFailoverIp,
  MoveConfigError,
  MoveTimeoutError,
} from '../../components/network/ipMove';
import { OvhApi, ovhClientOptionsFromEnv } from '../../components/network/ovhApiClient';
import { startOvhStandIn, type OvhStandIn, type RecordedRequest } from '../support/ovhStandIn';

const FAILOVER_LIST = '/cloud/project/{serviceName}/ip/failover';
const FAILOVER = '/cloud/project/{serviceName}/ip/failover/{id}';
const ATTACH = '/cloud/project/{serviceName}/ip/failover/{id}/attach';
const INSTANCES = '/cloud/project/{serviceName}/instance';
const IP = '/ip/{ip}';
const MOVE = '/ip/{ip}/move';
const TASKS = '/ip/{ip}/task';
const TASK = '/ip/{ip}/task/{taskId}';

const FAST_RETRY = { attempts: 4, baseDelayMs: 10, maxDelayMs: 40 };
const EDGE1 = '6f1d3c2a-0b4e-4c5d-8e9f-a0b1c2d3e401';
const EDGE2 = '6f1d3c2a-0b4e-4c5d-8e9f-a0b1c2d3e402';

let standIn: OvhStandIn;
let savedCa: typeof https.globalAgent.options.ca;
let tmp = '';
let count = 0;
/** The running test's project, failover IP, servers, and where its requests start. */
let project = '';
let ip = '';
let sn1 = '';
let sn2 = '';
let firstRequest = 0;

beforeAll(async () => {
  standIn = await startOvhStandIn();
  savedCa = https.globalAgent.options.ca;
  https.globalAgent.options.ca = standIn.caPem;
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ovh-ipmove-'));
});

afterAll(async () => {
  https.globalAgent.options.ca = savedCa;
  fs.rmSync(tmp, { recursive: true, force: true });
  await standIn?.close();
});

beforeEach(() => {
  count++;
  project = `0123456789abcdef0123456789ab${String(1000 + count)}`;
  ip = `203.0.113.${count}`;
  sn1 = `ns${100 + count}.ip-198-51-100.eu`;
  sn2 = `ns${200 + count}.ip-198-51-100.eu`;
  firstRequest = standIn.requests.length;
});

afterEach(() => {
  // Outcomes are global to the stand-in: put them back.
  standIn.attachOutcome('ok');
  standIn.taskOutcome('genericMoveFloatingIp', 'done');
  expect(standIn.violations).toEqual([]);
  const unrouted = standIn.requests.filter((r) => r.route === null).map((r) => `${r.method} ${r.path}`);
  expect(unrouted).toEqual([]);
});

function env(over: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  return {
    OVH_ENDPOINT: standIn.url,
    OVH_APPLICATION_KEY: standIn.applicationKey,
    OVH_APPLICATION_SECRET: standIn.applicationSecret,
    OVH_CONSUMER_KEY: standIn.consumerKey,
    ...over,
  };
}

interface Run {
  code: number;
  out: string[];
  err: string[];
  ms: number;
}

async function run(argv: string[], environment = env()): Promise<Run> {
  const out: string[] = [];
  const err: string[] = [];
  const started = Date.now();
  const code = await main(argv, environment, { out: (l) => out.push(l), err: (l) => err.push(l), retry: FAST_RETRY });
  return { code, out, err, ms: Date.now() - started };
}

/** Requests of the running test, optionally only those of one method and route template. */
function sent(method?: string, template?: string): RecordedRequest[] {
  return standIn.requests
    .slice(firstRequest)
    .filter((r) => (method === undefined || r.method === method) && (template === undefined || r.route === template));
}

function addProject(failoverRoutedTo = EDGE2, extraInstances: Array<{ id: string; name: string }> = []): void {
  standIn.addCloudProject(project, {
    instances: [{ id: EDGE1, name: 'edge-1' }, { id: EDGE2, name: 'edge-2' }, ...extraInstances],
    failoverIps: [
      { id: `fo-other-${count}`, ip: '198.51.100.200', routedTo: EDGE2 },
      { id: `fo-${count}`, ip, routedTo: failoverRoutedTo },
    ],
  });
}

function addServers(routedTo: string | null): void {
  standIn.addServer(sn1);
  standIn.addServer(sn2);
  standIn.addIp(ip, { routedTo });
}

const cloudArgs = (instance = 'edge-1', more: string[] = []) => ['-project', project, '-ip', ip, '-instance', instance, '-timeout', '5', '-poll', '0.02', ...more];
const dedicatedArgs = (server: string, more: string[] = []) => ['-server', server, '-ip', ip, '-timeout', '5', '-poll', '0.02', ...more];
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('ovh-ipmove, Public Cloud', () => {
  it('attaches the failover IP to the named instance: one POST, the state changed, one line per step', async () => {
    addProject();
    const r = await run(cloudArgs());

    expect(r.err).toEqual([]);
    expect(r.code).toBe(EXIT_OK);
    const posts = sent('POST');
    expect(posts).toHaveLength(1);
    expect(posts[0]).toMatchObject({ route: ATTACH, params: { serviceName: project, id: `fo-${count}` }, body: { instanceId: EDGE1 }, status: 200 });
    expect(standIn.cloudFailoverIps(project).find((f) => f.ip === ip)).toMatchObject({ routedTo: EDGE1, status: 'ok' });

    const p = `ovh-ipmove: ${ip}: `;
    const fo = `failover IP fo-${count}`;
    expect(r.out.slice(0, -1)).toEqual([
      `${p}project ${project}: ${fo} is routed to edge-2 (${EDGE2}), status ok; this node is instance edge-1 (${EDGE1}) in SBG5`,
      `${p}attaching to instance edge-1 (${EDGE1})`,
      `${p}attach accepted: ${fo} is routed to edge-2 (${EDGE2}), status operationPending; waiting for OVH to route it`,
    ]);
    expect(r.out.at(-1)).toMatch(new RegExp(`^${escape(p)}moved: routed to edge-1 \\(${EDGE1}\\) after \\d+\\.\\d s$`));
    // The IP was polled until it was ok, by its own route.
    expect(sent('GET', FAILOVER).map((q) => q.params.id)).toEqual([`fo-${count}`, `fo-${count}`]);
  });

  it('takes the instance by id, and GNU-style flags', async () => {
    addProject();
    const r = await run([`--project=${project}`, '--ip', ip, `--instance=${EDGE1}`, '--poll=0.02', '--timeout', '5']);
    expect(r.code).toBe(EXIT_OK);
    expect(sent('POST', ATTACH).map((q) => q.body)).toEqual([{ instanceId: EDGE1 }]);
  });

  it('-yield-to: a periodic claim leaves the IP on a node of higher priority, and takes it from any other', async () => {
    addProject(EDGE2);
    const yielded = await run(cloudArgs('edge-1', ['-yield-to', 'edge-2']));
    expect(yielded.code).toBe(EXIT_OK);
    expect(sent('POST')).toEqual([]);
    expect(yielded.out.at(-1)).toBe(`ovh-ipmove: ${ip}: routed to edge-2 (${EDGE2}), a node this one yields to: left there`);
    // By id too; and a node it does not yield to loses the IP.
    expect((await run(cloudArgs('edge-1', ['-yield-to', EDGE2]))).code).toBe(EXIT_OK);
    expect(sent('POST')).toEqual([]);
    const taken = await run(cloudArgs('edge-1', ['-yield-to', 'edge-3']));
    expect(taken.code).toBe(EXIT_OK);
    expect(sent('POST', ATTACH).map((q) => q.body)).toEqual([{ instanceId: EDGE1 }]);
  });

  it('sends nothing when the IP is already routed to the instance', async () => {
    addProject(EDGE1);
    const r = await run(cloudArgs());
    expect(r.code).toBe(EXIT_OK);
    expect(sent('POST')).toEqual([]);
    expect(r.out.at(-1)).toBe(`ovh-ipmove: ${ip}: already routed to edge-1 (${EDGE1}): nothing to do`);
    expect(r.err).toEqual([]);
  });

  it('retries GETs on 5xx and 429, and the POST on 429', async () => {
    addProject();
    standIn.failNext({ method: 'GET', route: FAILOVER_LIST, status: 503 });
    standIn.failNext({ method: 'GET', route: INSTANCES, status: 429, count: 2 });
    standIn.failNext({ method: 'GET', route: FAILOVER, status: 500 });
    standIn.failNext({ method: 'POST', route: ATTACH, status: 429 });

    const r = await run(cloudArgs());
    expect(r.err).toEqual([]);
    expect(r.code).toBe(EXIT_OK);
    expect(sent('POST', ATTACH).map((q) => q.status)).toEqual([429, 200]);
    expect(sent('GET', INSTANCES).map((q) => q.status)).toEqual([429, 429, 200]);
    expect(r.out.filter((l) => /; retry \d\/3 in \d+ ms$/.test(l))).toHaveLength(5);
    expect(standIn.cloudFailoverIps(project).find((f) => f.ip === ip)?.routedTo).toBe(EDGE1);
  });

  it('a stuck attach ends with exit 3 within the bound and a clear line', async () => {
    addProject();
    standIn.attachOutcome('never');
    const r = await run(['-project', project, '-ip', ip, '-instance', 'edge-1', '-timeout', '0.4', '-poll', '0.05']);
    expect(r.code).toBe(EXIT_TIMEOUT);
    expect(r.ms).toBeLessThan(2000);
    expect(r.err).toHaveLength(1);
    expect(r.err[0]).toMatch(
      new RegExp(
        `^ovh-ipmove: ${escape(ip)}: timeout: timed out after 0\\.\\d s waiting for the attach: failover IP fo-${count} is routed to edge-2 \\(${EDGE2}\\), status operationPending \\(progress \\d+%\\); ` +
          `the operation may still complete \\(see GET /cloud/project/${project}/ip/failover/fo-${count}\\)$`,
      ),
    );
    expect(sent('POST')).toHaveLength(1);
  });

  it("an attach refused by OVH exits 1 with OVH's message and is not sent again", async () => {
    addProject();
    standIn.refuseAttach('The instance is not in the same region');
    const r = await run(cloudArgs());
    expect(r.code).toBe(EXIT_API_ERROR);
    expect(r.err).toEqual([
      `ovh-ipmove: ${ip}: error: OVH API POST /cloud/project/${project}/ip/failover/fo-${count}/attach failed: HTTP 400: The instance is not in the same region`,
    ]);
    expect(sent('POST')).toHaveLength(1);
    expect(standIn.cloudFailoverIps(project).find((f) => f.ip === ip)).toMatchObject({ routedTo: EDGE2, status: 'ok' });
  });

  it('an attach whose answer is lost is found applied, waited for, and counts as moved', async () => {
    addProject();
    standIn.crashAfterCreate({ method: 'POST', route: ATTACH });
    const r = await run(cloudArgs());
    expect(r.err).toEqual([]);
    expect(r.code).toBe(EXIT_OK);
    expect(sent('POST', ATTACH)).toEqual([expect.objectContaining({ dropped: true })]);
    expect(r.out.some((l) => l.includes('checking whether the attach was applied anyway'))).toBe(true);
    expect(standIn.cloudFailoverIps(project).find((f) => f.ip === ip)).toMatchObject({ routedTo: EDGE1, status: 'ok' });
  });

  it('an attach answered 500 and not applied is an error after a look at the state, not a second POST', async () => {
    addProject();
    standIn.failNext({ method: 'POST', route: ATTACH, status: 500 });
    const r = await run(cloudArgs());
    expect(r.code).toBe(EXIT_API_ERROR);
    expect(r.err[0]).toContain('HTTP 500: Internal server error');
    expect(sent('POST')).toHaveLength(1);
    const afterPost = sent().slice(sent().indexOf(sent('POST')[0]) + 1);
    expect(afterPost.map((q) => `${q.method} ${q.route}`)).toEqual([`GET ${FAILOVER}`]);
  });

  it('waits for a pending operation before deciding', async () => {
    addProject();
    // edge-1's attach is under way when edge-2 is promoted: edge-2 waits for it to end, then claims the IP.
    const other = new OvhApi(ovhClientOptionsFromEnv(env()), FAST_RETRY);
    await other.request('POST', `/cloud/project/${project}/ip/failover/fo-${count}/attach`, { instanceId: EDGE1 });
    firstRequest = standIn.requests.length;
    const r = await run(cloudArgs('edge-2'));
    expect(r.code).toBe(EXIT_OK);
    expect(r.out[1]).toBe(`ovh-ipmove: ${ip}: an operation is pending on the failover IP; waiting for it to end before deciding`);
    expect(sent('POST', ATTACH).map((q) => q.body)).toEqual([{ instanceId: EDGE2 }]);
    expect(standIn.cloudFailoverIps(project).find((f) => f.ip === ip)?.routedTo).toBe(EDGE2);
  });

  it('an unknown IP, instance or project, or an ambiguous name, exits 2 with a clear message', async () => {
    addProject(EDGE2, [{ id: '6f1d3c2a-0b4e-4c5d-8e9f-a0b1c2d3e403', name: 'twin' }, { id: '6f1d3c2a-0b4e-4c5d-8e9f-a0b1c2d3e404', name: 'twin' }]);

    const noIp = await run(['-project', project, '-ip', '203.0.113.250', '-instance', 'edge-1']);
    expect(noIp.code).toBe(EXIT_USAGE);
    expect(noIp.err).toEqual([
      `ovh-ipmove: 203.0.113.250: error: 203.0.113.250 is not a failover IP of Public Cloud project ${project} (its failover IPs: 198.51.100.200, ${ip})`,
    ]);

    const noInstance = await run(cloudArgs('edge-9'));
    expect(noInstance.code).toBe(EXIT_USAGE);
    expect(noInstance.err[0]).toBe(`ovh-ipmove: ${ip}: error: project ${project} has no instance named or with id edge-9 (its instances: edge-1, edge-2, twin, twin)`);

    const twin = await run(cloudArgs('twin'));
    expect(twin.code).toBe(EXIT_USAGE);
    expect(twin.err[0]).toMatch(/2 instances of project \w+ are named twin \(.*e403 in SBG5, .*e404 in SBG5\): give -instance the id instead$/);

    const noProject = await run(['-project', 'nosuchproject', '-ip', ip, '-instance', 'edge-1']);
    expect(noProject.code).toBe(EXIT_USAGE);
    expect(noProject.err[0]).toMatch(/error: Public Cloud project nosuchproject does not exist or these credentials cannot see it \(.*HTTP 404/);

    expect(sent('POST')).toEqual([]);
  });
});

describe('ovh-ipmove, dedicated server', () => {
  it('moves the IP through a task and waits for it, one line per step', async () => {
    addServers(sn1);
    const r = await run(dedicatedArgs(sn2));
    expect(r.err).toEqual([]);
    expect(r.code).toBe(EXIT_OK);
    const posts = sent('POST');
    expect(posts).toHaveLength(1);
    expect(posts[0]).toMatchObject({ route: MOVE, params: { ip: `${ip}/32` }, body: { to: sn2 }, status: 200 });
    expect(posts[0].path).toBe(`/ip/${ip}%2F32/move`);
    expect(standIn.ipRoutedTo(ip)).toBe(sn2);
    const [task] = standIn.ipTasks(ip);
    expect(task).toMatchObject({ function: 'genericMoveFloatingIp', status: 'done' });

    const p = `ovh-ipmove: ${ip}: `;
    expect(r.out.slice(0, -1)).toEqual([
      `${p}${ip}/32 is routed to ${sn1}`,
      `${p}moving to ${sn2}`,
      `${p}move task ${task.taskId} is todo; waiting for it to end`,
      `${p}move task ${task.taskId} is doing`,
    ]);
    expect(r.out.at(-1)).toMatch(new RegExp(`^${escape(p)}moved: routed to ${escape(sn2)} after \\d+\\.\\d s$`));
  });

  it('-yield-to: a periodic claim leaves the IP on a server of higher priority', async () => {
    addServers(sn1);
    const r = await run(dedicatedArgs(sn2, ['-yield-to', sn1]));
    expect(r.code).toBe(EXIT_OK);
    expect(sent('POST')).toEqual([]);
    expect(r.out.at(-1)).toBe(`ovh-ipmove: ${ip}: routed to ${sn1}, a node this one yields to: left there`);
  });

  it('waits as long as OVH takes: a move task that lasts 600 ms is polled until it is done', async () => {
    addServers(sn1);
    standIn.taskOutcome('genericMoveFloatingIp', 'done', { durationMs: 600 });
    const r = await run(dedicatedArgs(sn2));
    expect(r.code).toBe(EXIT_OK);
    expect(r.ms).toBeGreaterThanOrEqual(600);
    expect(sent('GET', TASK).length).toBeGreaterThan(2);
    expect(standIn.ipRoutedTo(ip)).toBe(sn2);
  });

  it('sends nothing when the IP is already routed to the server', async () => {
    addServers(sn2);
    const r = await run(dedicatedArgs(sn2));
    expect(r.code).toBe(EXIT_OK);
    expect(sent('POST')).toEqual([]);
    expect(r.out).toEqual([`ovh-ipmove: ${ip}: ${ip}/32 is routed to ${sn2}`, `ovh-ipmove: ${ip}: already routed to ${sn2}: nothing to do`]);
  });

  it("a task that ends in error exits 1 with the task's comment", async () => {
    addServers(sn1);
    standIn.taskOutcome('genericMoveFloatingIp', 'customerError', { comment: 'The destination is in another datacenter' });
    const r = await run(dedicatedArgs(sn2));
    expect(r.code).toBe(EXIT_API_ERROR);
    expect(r.err).toEqual([
      expect.stringMatching(new RegExp(`error: OVH move task \\d+ of ${escape(ip)}/32 to ${escape(sn2)} ended 'customerError': The destination is in another datacenter$`)),
    ]);
    expect(standIn.ipRoutedTo(ip)).toBe(sn1);
  });

  it('a task that never ends exits 3 within the bound', async () => {
    addServers(sn1);
    standIn.taskOutcome('genericMoveFloatingIp', 'never');
    const r = await run(['-server', sn2, '-ip', ip, '-timeout', '0.3', '-poll', '0.05']);
    expect(r.code).toBe(EXIT_TIMEOUT);
    expect(r.ms).toBeLessThan(2000);
    expect(r.err[0]).toMatch(new RegExp(`timeout: timed out after 0\\.\\d s waiting for the move: move task \\d+ is doing; it may still complete \\(see GET /ip/${escape(ip)}%2F32/task/\\d+\\)$`));
  });

  it('retries the GETs on 5xx and 429, and the move on 503', async () => {
    addServers(sn1);
    standIn.failNext({ method: 'GET', route: IP, status: 502 });
    standIn.failNext({ method: 'POST', route: MOVE, status: 503 });
    standIn.failNext({ method: 'GET', route: TASK, status: 429 });
    const r = await run(dedicatedArgs(sn2));
    expect(r.code).toBe(EXIT_OK);
    expect(sent('POST', MOVE).map((q) => q.status)).toEqual([503, 200]);
    expect(standIn.ipTasks(ip)).toHaveLength(1);
    expect(standIn.ipRoutedTo(ip)).toBe(sn2);
  });

  it('a move whose answer is lost is found through the task list and waited for', async () => {
    addServers(sn1);
    standIn.crashAfterCreate({ method: 'POST', route: MOVE });
    const r = await run(dedicatedArgs(sn2));
    expect(r.err).toEqual([]);
    expect(r.code).toBe(EXIT_OK);
    expect(sent('POST', MOVE)).toEqual([expect.objectContaining({ dropped: true })]);
    expect(sent('GET', TASKS).map((q) => q.query)).toEqual(
      ['init', 'todo', 'doing'].map((status) => ({ function: 'genericMoveFloatingIp', status })),
    );
    expect(standIn.ipRoutedTo(ip)).toBe(sn2);
    expect(standIn.ipTasks(ip)).toHaveLength(1);
  });

  it('an IP that is not in the account exits 2', async () => {
    addServers(sn1);
    const r = await run(['-server', sn2, '-ip', '203.0.113.251']);
    expect(r.code).toBe(EXIT_USAGE);
    expect(r.err[0]).toMatch(/^ovh-ipmove: 203\.0\.113\.251: error: IP block 203\.0\.113\.251\/32 \(if .* give -ip the whole block.*\) does not exist or these credentials cannot see it/);
    expect(sent('POST')).toEqual([]);
  });
});

describe('ovh-ipmove, usage and configuration', () => {
  it.each([
    [[], '-ip is required'],
    [['-ip', '203.0.113.9'], 'say where the IP goes'],
    [['-ip', '203.0.113.300', '-server', 'ns1'], '-ip: "203.0.113.300" is not an IPv4 address or block'],
    [['-ip', '203.0.113.9', '-server', 'ns1', '-project', 'p', '-instance', 'i'], 'not both'],
    [['-ip', '203.0.113.9', '-project', 'p'], 'needs both -project and -instance'],
    [['-ip', '203.0.113.9', '-server', 'ns1', '-timeout', '0'], '-timeout takes a number of seconds greater than 0, not "0"'],
    [['-ip', '203.0.113.9', '-server', 'ns1', '-poll', 'fast'], '-poll takes a number of seconds'],
    [['-ip', '203.0.113.9', '-server', 'ns1', '-verbose'], 'unknown option -verbose'],
    [['-ip', '203.0.113.9', '-server'], '-server needs a value'],
    [['-ip', '203.0.113.9', '-ip', '203.0.113.8', '-server', 'ns1'], '-ip is given twice'],
    [['203.0.113.9'], 'unexpected argument "203.0.113.9"'],
  ])('%j exits 2 with the usage', async (argv, message) => {
    const r = await run(argv);
    expect(r.code).toBe(EXIT_USAGE);
    expect(r.out).toEqual([]);
    expect(r.err).toHaveLength(2);
    expect(r.err[0]).toMatch(/^ovh-ipmove: /);
    expect(r.err[0]).toContain(message);
    expect(r.err[1]).toBe(USAGE);
    expect(sent()).toEqual([]);
  });

  it('-h prints the usage with the exit codes on stdout and exits 0', async () => {
    for (const flag of ['-h', '--help', '-help']) {
      const r = await run([flag]);
      expect(r.code).toBe(EXIT_OK);
      expect(r.out).toEqual([USAGE]);
      expect(r.err).toEqual([]);
    }
    expect(USAGE).toMatch(/exit codes:\n {2}0 {2}the IP is routed to this node.*\n {2}1 .*\n {2}2 .*\n {2}3 {2}timed out/);
    expect(USAGE).toContain('-timeout <seconds>  give up waiting after this long (default 120)');
  });

  it('missing credentials or a bad endpoint exit 2 before any request', async () => {
    const noKey = await run(cloudArgs(), env({ OVH_CONSUMER_KEY: undefined }));
    expect(noKey.code).toBe(EXIT_USAGE);
    expect(noKey.err[0]).toMatch(/error: OVH API credentials are missing: set OVH_CONSUMER_KEY/);
    const badEndpoint = await run(cloudArgs(), env({ OVH_ENDPOINT: 'ovh-mars' }));
    expect(badEndpoint.code).toBe(EXIT_USAGE);
    expect(badEndpoint.err[0]).toContain('OVH_ENDPOINT="ovh-mars" is not valid');
    const noFile = await run(cloudArgs('edge-1', ['-config', path.join(tmp, 'missing.conf')]));
    expect(noFile.code).toBe(EXIT_USAGE);
    expect(noFile.err[0]).toContain('cannot read -config');
    expect(sent()).toEqual([]);
  });

  it('-config reads the credentials from a file, in place of the environment', async () => {
    addProject();
    const file = path.join(tmp, `ipmove-${count}.conf`);
    fs.writeFileSync(
      file,
      [
        '# ovh-ipmove credentials',
        `OVH_ENDPOINT=${standIn.url}`,
        `OVH_APPLICATION_KEY="${standIn.applicationKey}"`,
        `export OVH_APPLICATION_SECRET=${standIn.applicationSecret}`,
        `OVH_CONSUMER_KEY='${standIn.consumerKey}'`,
        '',
      ].join('\n'),
      { mode: 0o600 },
    );
    // The environment's own (wrong) credentials are not used.
    const r = await run(cloudArgs('edge-1', ['-config', file]), { OVH_CLIENT_ID: 'stale', OVH_CONSUMER_KEY: 'wrong' });
    expect(r.err).toEqual([]);
    expect(r.code).toBe(EXIT_OK);
  });

  it('runs as a program: the require.main guard, exit code and stdout lines (tsx, NODE_EXTRA_CA_CERTS)', async () => {
    addServers(sn1);
    const file = path.join(tmp, `ipmove-${count}.conf`);
    const creds = env();
    fs.writeFileSync(file, Object.entries(creds).map(([k, v]) => `${k}=${v}`).join('\n') + '\n', { mode: 0o600 });
    const tsx = path.resolve(__dirname, '../../node_modules/.bin/tsx');
    const script = path.resolve(__dirname, '../../bin/ovh-ipmove.ts');
    const child = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      execFile(
        tsx,
        [script, '-config', file, '-server', sn2, '-ip', ip, '-poll', '0.02'],
        { env: { PATH: process.env.PATH, HOME: process.env.HOME, NODE_EXTRA_CA_CERTS: standIn.caFile }, timeout: 30_000 },
        (error, stdout, stderr) => resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout, stderr }),
      );
    });
    expect(child.stderr).toBe('');
    expect(child.code).toBe(0);
    expect(child.stdout.trim().split('\n').at(-1)).toMatch(new RegExp(`^ovh-ipmove: ${escape(ip)}: moved: routed to ${escape(sn2)} after`));
    expect(standIn.ipRoutedTo(ip)).toBe(sn2);
  });
});

describe('moveFailoverIp and ipmoveAccessRules', () => {
  const api = () => new OvhApi(ovhClientOptionsFromEnv(env()), FAST_RETRY);
  const opts = (log: string[] = []) => ({ timeoutMs: 3000, pollIntervalMs: 20, log: (l: string) => log.push(l) });

  it('returns what happened; throws typed errors', async () => {
    addProject();
    const log: string[] = [];
    const moved = await moveFailoverIp(api(), { kind: 'cloud', project, instance: 'edge-1' }, ip, opts(log));
    expect(moved).toMatchObject({ moved: true, block: `${ip}/32`, routedTo: EDGE1, previous: EDGE2 });
    expect(log.length).toBeGreaterThanOrEqual(4);
    const again = await moveFailoverIp(api(), { kind: 'cloud', project, instance: EDGE1 }, ip, opts());
    expect(again).toMatchObject({ moved: false, routedTo: EDGE1, previous: EDGE1 });

    await expect(moveFailoverIp(api(), { kind: 'cloud', project, instance: 'edge-7' }, ip, opts())).rejects.toBeInstanceOf(MoveConfigError);
    standIn.attachOutcome('never');
    await expect(
      moveFailoverIp(api(), { kind: 'cloud', project, instance: 'edge-2' }, ip, { ...opts(), timeoutMs: 100 }),
    ).rejects.toBeInstanceOf(MoveTimeoutError);
  });

  it('access rules name only the routes ovh-ipmove calls, with the project or block filled in', () => {
    expect(ipmoveAccessRules({ kind: 'cloud', project: 't18s', instance: 'bi-edge-sbg-1' }, '146.59.143.231')).toEqual([
      { method: 'GET', path: '/cloud/project/t18s/ip/failover' },
      { method: 'GET', path: '/cloud/project/t18s/ip/failover/*' },
      { method: 'POST', path: '/cloud/project/t18s/ip/failover/*/attach' },
      { method: 'GET', path: '/cloud/project/t18s/instance' },
    ]);
    expect(ipmoveAccessRules({ kind: 'dedicated', serviceName: 'ns1' }, '146.59.143.231')).toEqual([
      { method: 'GET', path: '/ip/146.59.143.231%2F32' },
      { method: 'POST', path: '/ip/146.59.143.231%2F32/move' },
      { method: 'GET', path: '/ip/146.59.143.231%2F32/task' },
      { method: 'GET', path: '/ip/146.59.143.231%2F32/task/*' },
      { method: 'GET', path: '/ip/146.59.143.231/32' },
      { method: 'POST', path: '/ip/146.59.143.231/32/move' },
      { method: 'GET', path: '/ip/146.59.143.231/32/task' },
      { method: 'GET', path: '/ip/146.59.143.231/32/task/*' },
    ]);
  });

  it('every request of a move, lost answers included, is allowed by the access rules', async () => {
    const allowed = (rules: { method: string; path: string }[], r: RecordedRequest) =>
      r.route === '/auth/time' ||
      rules.some((rule) => rule.method === r.method && new RegExp(`^${rule.path.split('*').map(escape).join('.*')}$`).test(r.path));

    addProject();
    standIn.crashAfterCreate({ method: 'POST', route: ATTACH });
    expect((await run(cloudArgs())).code).toBe(EXIT_OK);
    const cloudRules = ipmoveAccessRules({ kind: 'cloud', project, instance: 'edge-1' }, ip);
    expect(sent().filter((r) => !allowed(cloudRules, r))).toEqual([]);
    expect(new Set(sent().map((r) => `${r.method} ${r.route}`))).toEqual(
      new Set(['GET /auth/time', `GET ${FAILOVER_LIST}`, `GET ${INSTANCES}`, `POST ${ATTACH}`, `GET ${FAILOVER}`]),
    );

    firstRequest = standIn.requests.length;
    addServers(sn1);
    standIn.crashAfterCreate({ method: 'POST', route: MOVE });
    expect((await run(dedicatedArgs(sn2))).code).toBe(EXIT_OK);
    const ipRules = ipmoveAccessRules({ kind: 'dedicated', serviceName: sn2 }, ip).slice(0, 4); // the encoded spelling, as sent
    expect(sent().filter((r) => !allowed(ipRules, r))).toEqual([]);
    expect(new Set(sent().map((r) => `${r.method} ${r.route}`))).toEqual(new Set(['GET /auth/time', `GET ${IP}`, `POST ${MOVE}`, `GET ${TASKS}`, `GET ${TASK}`]));
  });
});
