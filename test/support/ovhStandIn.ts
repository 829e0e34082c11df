/**
 * A local HTTPS stand-in for the OVH API v1, for tests.
 *
 * - Every request is checked against OVH's published API descriptions (../shared/ovh-api beside
 *   the repository, or ovh-api/ in it: `npm run ovh-api:fetch` downloads them)
 *   (route, method, path/query/body parameter types, enums, required and unknown fields);
 *   each problem is answered like OVH does (400/404) and recorded in `violations`.
 * - Authentication is checked like OVH's application key/secret + consumer key scheme: the "$1$"
 *   SHA-1 signature as @ovhcloud/node-ovh and go-ovh (the Pulumi ovh provider's client) each
 *   compute it, and GET /auth/time and /auth/details, which the provider calls to configure.
 * - The dedicated-server virtual MAC routes are backed by in-memory state with tasks
 *   (todo -> doing -> done, one step per GET of the task).
 * - Public Cloud projects (instances, failover IPs and their attach, which leaves the IP
 *   operationPending for a step before it is ok and routed to the new instance, one step per
 *   GET of the failover IP or of the list) and /ip blocks (routing, POST move and park making a
 *   genericMoveFloatingIp task that advances like the server tasks, reverses) are stateful too,
 *   and so are DNS zones (records created, updated, deleted, TXT targets quoted as OVH stores
 *   them; the zone's name servers; refreshes counted, refused like a key without the access rule,
 *   or handed to a hook that publishes the records to a real DNS server: test/support/knot.ts).
 * - Blocks bigger than /32 are first-class: GET /ip finds the block holding an address, a block
 *   moves whole (one address of it is refused), its virtual MACs follow it to the new server, and
 *   a move is refused across regions, to a server without virtual MACs, with a MAC shared inside
 *   the block, or past the destination's MAC limit (GET /ip/{ip}/move and ipCanBeMovedTo say the
 *   same). Servers have a region, hardware specifications, vmac.supported and a MAC limit.
 * - vRacks: a block added to one loses its virtual MACs and leaves its server; its vRack tasks
 *   vanish (404) once done, as the provider's waiter expects. The /vrack routes are checked
 *   against vrack.json when present, else against VRACK_FALLBACK (from the provider's types).
 * - Every call terraform-provider-ovh v2.19 makes for ovh_ip_move, ovh_ip_reverse,
 *   ovh_domain_zone_record, ovh_cloud_project_failover_ip_attach, ovh_vrack_ip and the data
 *   sources ovh_dedicated_server_specifications_network and _hardware is answered; the upstream
 *   facts are noted beside the routes that model them.
 * - Faults can be injected: error statuses, task failures, slowness, a dropped connection,
 *   an attach that stays pending or is refused, the whole API down (503) until it is back.
 *
 * Node built-ins only. Start it with `startOvhStandIn()`, close it with `close()`.
 */
import { execFile } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { findSchemaDir } from '../../bin/ovh-api-fetch';

// ---------------------------------------------------------------------------------------
// Public types
// ---------------------------------------------------------------------------------------

export interface StandInCredentials {
  applicationKey: string;
  applicationSecret: string;
  consumerKey: string;
}

/**
 * Which names resolve to an address, for POST /ip/{ip}/reverse (OVH refuses a reverse whose name
 * does not resolve to the address): 'always' (the default), 'zones' (a name resolves to the
 * address of an A or AAAA record of it in the stand-in's own zones), or a predicate.
 */
export type ReverseResolution = 'always' | 'zones' | ((name: string, address: string) => boolean);

export interface StandInOptions extends Partial<StandInCredentials> {
  reverseResolves?: ReverseResolution;
  /** Where to listen (default 127.0.0.1 on a free port); port 443 lets a client use OVH's own URL. */
  listen?: { host: string; port: number };
  /** Host names the certificate is valid for besides localhost, e.g. eu.api.ovh.com. */
  dnsNames?: string[];
}

export interface RecordedRequest {
  method: string;
  /** Path as sent, without the /1.0 prefix and without the query string. */
  path: string;
  query: Record<string, string>;
  /** Percent-decoded path parameters of the matched route. */
  params: Record<string, string>;
  /** Parsed JSON body, or undefined when there was none (or it was not JSON). */
  body: unknown;
  /** Schema path template that matched, e.g. /dedicated/server/{serviceName}/virtualMac. */
  route: string | null;
  /** Status answered (0 while pending). */
  status: number;
  /** True when the connection was destroyed instead of answering (crashAfterCreate). */
  dropped: boolean;
  /** When the request was read, in milliseconds since the epoch (sub-millisecond). */
  at: number;
}

export interface FaultSpec {
  method: string;
  route: string;
  status: number;
  count?: number;
  message?: string;
}

export type TaskOutcome = 'done' | 'customerError' | 'ovhError' | 'never';

export interface TaskOutcomeOptions {
  /** GETs of the task answering `doing` before the one answering the end status (default 1). */
  stepsBeforeEnd?: number;
  /** Comment set on the task when it ends in error (a default is used otherwise). */
  comment?: string;
  /** And at least this long after it was made, as OVH's tasks take seconds (default 0). */
  durationMs?: number;
}

export type VirtualMacSnapshot = Record<string, { type: string; addresses: Record<string, string> }>;

/** dedicated.server.Task */
export interface DedicatedServerTask {
  taskId: number;
  function: string;
  status: string;
  comment: string | null;
  startDate: string;
  lastUpdate: string | null;
  doneDate: string | null;
  needSchedule: boolean;
  note: string | null;
  plannedInterventionId: number | null;
  ticketReference: string | null;
}

export interface CloudProjectSeed {
  /** cloud.instance.Instance: id (a UUID at OVH), name, region (default SBG5). */
  instances?: Array<{ id: string; name: string; region?: string }>;
  /**
   * cloud.ip.FailoverIp: its id, its address, and the id of the instance it is routed to. `ip`
   * may be a block (a CIDR of more than one address): the entry then has `ip: null` and `block`
   * its first address (cloud.json types `block` as `ip`, an address, so the prefix is not in it).
   */
  failoverIps?: Array<{ id: string; ip: string; routedTo: string }>;
}

/** cloud.ip.FailoverIp as the stand-in answers it. */
export interface CloudFailoverIp {
  id: string;
  /** null for a block of several addresses. */
  ip: string | null;
  block: string | null;
  continentCode: string | null;
  geoloc: string | null;
  progress: number;
  routedTo: string;
  /** cloud.ip.IpStatusEnum */
  status: 'ok' | 'operationPending';
  subType: 'cloud' | 'ovh';
}

/** How the next attaches end: 'ok' (after stepsBeforeEnd GETs answering operationPending) or 'never'. */
export type AttachOutcome = 'ok' | 'never';

export interface AttachOutcomeOptions {
  /** GETs of the failover IP answering operationPending before the one answering ok (default 1). */
  stepsBeforeEnd?: number;
  /** And at least this long after the attach, as a real attach takes seconds (default 0). */
  durationMs?: number;
}

export interface IpBlockSeed {
  /** Service name the block is routed to (ip.RoutedTo.serviceName), null when it is not routed. */
  routedTo: string | null;
  /** ip.IpTypeEnum (default failover). */
  type?: string;
  /**
   * ip.Ip.regions (coreTypes.RegionCodenameEnum[], alpha): where the block may be used. Null (the
   * default) is a block OVH gives no region for: the stand-in then lets it move anywhere.
   */
  regions?: string[] | null;
  /** ip.Ip.isAdditionalIp (alpha; default true). */
  isAdditionalIp?: boolean;
  /** ip.Ip.description (default null). */
  description?: string | null;
}

/** A vRack (GET /dedicated/server/{sn}/vrack, /vrack/{serviceName}/ip…). */
export interface VrackSeed {
  /** The dedicated servers in it (GET /dedicated/server/{sn}/vrack lists this vRack for each). */
  servers?: string[];
  /** Blocks of /ip (addIp first) that are in it already, announced in their first region (default eu-west-gra). */
  ips?: string[];
}

/** One block of a vRack, as GET /vrack/{serviceName}/ip/{ip} answers it. */
export interface VrackIpState {
  ip: string;
  gateway: string | null;
  zone: string | null;
  region: string;
}

/** vrack.Task (dedicated-server.json holds the model). */
export interface VrackTask {
  id: number;
  function: string;
  status: string;
  serviceName: string | null;
  targetDomain: string | null;
  orderId: number | null;
  lastUpdate: string | null;
  todoDate: string | null;
}

/** ip.IpTask */
export interface IpTask {
  taskId: number;
  function: string;
  status: string;
  comment: string | null;
  destination: { serviceName: string | null } | null;
  startDate: string;
  lastUpdate: string | null;
  doneDate: string | null;
}

export interface StandInRequest {
  method: string;
  path: string;
  route: string;
  params: Record<string, string>;
  query: Record<string, string>;
  body: unknown;
}

export interface StandInReply {
  status: number;
  body?: unknown;
  headers?: OutgoingHttpHeaders;
}

export type StandInHandler = (request: StandInRequest) => StandInReply | Promise<StandInReply>;

export interface OvhStandIn {
  /** e.g. https://127.0.0.1:PORT/1.0 */
  url: string;
  port: number;
  caPem: string;
  /** Path of the certificate PEM (usable as NODE_EXTRA_CA_CERTS). */
  caFile: string;
  applicationKey: string;
  applicationSecret: string;
  consumerKey: string;
  requests: RecordedRequest[];
  violations: string[];
  close(): Promise<void>;
  addServer(serviceName: string, opts?: ServerOptions): void;
  /** The server's IPv6 routing from now on, as after OVH gave it another prefix. */
  setServerIpv6(serviceName: string, ipv6: ServerIpv6): void;
  seedVirtualMac(
    serviceName: string,
    mac: string,
    type: string,
    addresses: Array<{ ipAddress: string; virtualMachineName: string }>,
  ): void;
  virtualMacs(serviceName: string): VirtualMacSnapshot;
  tasks(serviceName: string): DedicatedServerTask[];
  failNext(fault: FaultSpec): void;
  /**
   * The API down (true) or back (false): while down, every request is checked as usual, then
   * answered 503 (which the clients retry as not processed) and changes nothing.
   */
  setDown(down: boolean): void;
  taskOutcome(fn: string, outcome: TaskOutcome, opts?: TaskOutcomeOptions): void;
  delayMs(ms: number): void;
  /** The next matching create (default POST /dedicated/server/{serviceName}/virtualMac) is applied, then the connection is destroyed. */
  crashAfterCreate(opts?: { method?: string; route?: string }): void;
  /** Serve another schema route (schema checking and auth still apply). */
  handle(method: string, route: string, handler: StandInHandler): void;
  /** A Public Cloud project with instances and failover IPs (GET instance, GET/POST ip/failover routes). */
  addCloudProject(serviceName: string, seed?: CloudProjectSeed): void;
  cloudFailoverIps(serviceName: string): CloudFailoverIp[];
  /**
   * How the next POST .../ip/failover/{id}/attach ends; 'never' leaves the IP operationPending
   * for good (a stuck operation). Global to the stand-in, like taskOutcome.
   */
  attachOutcome(outcome: AttachOutcome, opts?: AttachOutcomeOptions): void;
  /** The next `count` (default 1) attaches are refused with 400 and OVH's message (nothing changes). */
  refuseAttach(message?: string, count?: number): void;
  /**
   * An IP block under /ip (an address alone is its /32) and where it is routed; POST /ip/{ip}/move
   * to a server added with addServer makes a genericMoveFloatingIp task, driven by taskOutcome.
   */
  addIp(block: string, seed: IpBlockSeed): void;
  /** ip.RoutedTo.serviceName of the block now. */
  ipRoutedTo(block: string): string | null;
  /** The reverse of an address of a block (GET /ip/{ip}/reverse/{ipReverse}). */
  setReverse(block: string, ipReverse: string, reverse: string): void;
  /** The reverses of a block now, by address. */
  reverses(block: string): Record<string, string>;
  /** Which names resolve from now on (the option reverseResolves). */
  reverseResolves(rule: ReverseResolution): void;
  /** A DNS zone (GET /domain/zone/{zoneName}/record…), empty until addRecord. */
  addZone(zone: string): void;
  /** A record of a zone, as OVH holds it (a TXT target quoted: see storedTarget); returns its id. */
  addRecord(zone: string, record: ZoneRecordSeed): number;
  /** The records of a zone now (domain.zone.Record), by id. */
  zoneRecords(zone: string): ZoneRecord[];
  /** The zones refreshed so far, one entry per successful POST /domain/zone/{zoneName}/refresh. */
  zoneRefreshes(): string[];
  /**
   * The zone's name servers from now on (domain.ZoneWithIAM.nameServers, host names); by default
   * a pair as OVH assigns them, dns<n>.ovh.net and ns<n>.ovh.net.
   */
  setZoneNameServers(zone: string, nameServers: string[]): void;
  /**
   * Whether POST /domain/zone/{zoneName}/refresh is granted (the default): refused, it is answered
   * 403 as OVH answers a key without the access rule, and changes nothing.
   */
  zoneRefreshGranted(granted: boolean): void;
  /**
   * The next `count` (default 1) refreshes are refused as while another refresh is scheduled ("you
   * cannot schedule more than one refresh at a time", ovh/terraform-provider-ovh#76), and change
   * nothing. OVH's status and words for it are not published: the 409 (default) and the message
   * are the stand-in's; domain.json declares no error answer for the route, so a 4xx fits it.
   * A call replaces the refusals still pending (0: none).
   */
  refuseZoneRefreshes(count?: number, status?: number): void;
  /**
   * Called on each successful refresh with the zone and its records, before the answer (null: none):
   * a test publishes them to a real DNS server, as OVH's refresh does to its own.
   */
  onZoneRefresh(hook: ZoneRefreshHook | null): void;
  ipTasks(block: string): IpTask[];
  /** A vRack, with the servers in it. */
  addVrack(serviceName: string, seed?: VrackSeed): void;
  /** The blocks of a vRack now. */
  vrackIps(serviceName: string): VrackIpState[];
  /** The tasks of a vRack (a done one is gone from the API, not from here). */
  vrackTasks(serviceName: string): VrackTask[];
  /** The vRack a block is in, or null. */
  ipVrack(block: string): string | null;
  /** Where the vRack routes are checked against: OVH's vrack.json, or the stand-in's description from the provider's types. */
  vrackSchema: 'vrack.json' | 'provider types';
}

// ---------------------------------------------------------------------------------------
// Schemas
// ---------------------------------------------------------------------------------------

interface SchemaParameter {
  name?: string;
  dataType: string;
  paramType: 'path' | 'query' | 'body';
  required?: boolean;
}

interface SchemaOperation {
  httpMethod: string;
  noAuthentication?: boolean;
  responseType?: string;
  parameters: SchemaParameter[];
}

interface SchemaProperty {
  type: string;
  canBeNull?: boolean;
  readOnly?: boolean;
  required?: boolean;
}

interface SchemaModel {
  enum?: Array<string | number>;
  enumType?: string;
  generics?: string[];
  properties?: Record<string, SchemaProperty>;
}

interface SchemaFile {
  apis: Array<{ path: string; operations: SchemaOperation[] }>;
  models: Record<string, SchemaModel>;
}

type ModelLookup = (name: string) => SchemaModel | undefined;

interface RouteEntry {
  template: string;
  segments: string[];
  operations: Map<string, SchemaOperation>;
  models: ModelLookup;
}

interface RouteMatch {
  entry: RouteEntry;
  params: Record<string, string>;
}

interface Catalog {
  byLength: Map<number, RouteEntry[]>;
  find(template: string): RouteEntry | undefined;
  /** Where the /vrack routes come from. */
  vrackSchema: 'vrack.json' | 'provider types';
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isSchemaFile(value: unknown): value is SchemaFile {
  return isRecord(value) && Array.isArray(value.apis) && isRecord(value.models);
}

/** Where the API descriptions are; an error naming `npm run ovh-api:fetch` when nowhere. */
export function schemaDir(): string {
  return findSchemaDir(path.resolve(__dirname, '../..'));
}

let cachedCatalog: { dir: string; catalog: Catalog } | undefined;

const pathParam = (name: string, dataType = 'string'): SchemaParameter => ({ name, dataType, paramType: 'path', required: true });

/**
 * The /vrack routes the stand-in serves when no vrack.json is at hand (`npm run ovh-api:fetch`
 * downloads it where the network allows; ../shared/ovh-api has none). Written from what
 * terraform-provider-ovh v2.19.0 sends and reads for ovh_vrack_ip: ovh/resource_vrack_ip.go (POST
 * /vrack/{sn}/ip, GET and DELETE /vrack/{sn}/ip/{block}), ovh/types_vrack.go (VrackIpCreateOpts
 * {block, region omitempty}, VrackIp {gateway, ip, zone, region}, VrackTask) and ovh/vrack_task.go
 * (GET /vrack/{sn}/task/{id}); path parameter names as OVH's console names them ({ip}, {taskId}).
 * vrack.Task is OVH's own model, from dedicated-server.json. With vrack.json present, its routes
 * and models are used instead and this description is not loaded.
 */
const VRACK_FALLBACK: SchemaFile = {
  apis: [
    {
      path: '/vrack/{serviceName}/ip',
      operations: [
        { httpMethod: 'GET', responseType: 'ipBlock[]', parameters: [pathParam('serviceName')] },
        {
          httpMethod: 'POST',
          responseType: 'vrack.Task',
          parameters: [
            pathParam('serviceName'),
            { name: 'block', dataType: 'ipBlock', paramType: 'body', required: true },
            { name: 'region', dataType: 'string', paramType: 'body', required: false },
          ],
        },
      ],
    },
    {
      path: '/vrack/{serviceName}/ip/{ip}',
      operations: [
        { httpMethod: 'GET', responseType: 'vrack.ip', parameters: [pathParam('serviceName'), pathParam('ip', 'ipBlock')] },
        { httpMethod: 'DELETE', responseType: 'vrack.Task', parameters: [pathParam('serviceName'), pathParam('ip', 'ipBlock')] },
      ],
    },
    { path: '/vrack/{serviceName}/task', operations: [{ httpMethod: 'GET', responseType: 'long[]', parameters: [pathParam('serviceName')] }] },
    {
      path: '/vrack/{serviceName}/task/{taskId}',
      operations: [{ httpMethod: 'GET', responseType: 'vrack.Task', parameters: [pathParam('serviceName'), pathParam('taskId', 'long')] }],
    },
  ],
  models: {
    'vrack.ip': {
      properties: {
        gateway: { type: 'ipv4', canBeNull: true, readOnly: true },
        ip: { type: 'ipBlock', canBeNull: false, readOnly: true },
        zone: { type: 'string', canBeNull: true, readOnly: true },
        region: { type: 'string', canBeNull: true, readOnly: true },
      },
    },
  },
};

function loadCatalog(dir: string): Catalog {
  if (cachedCatalog?.dir === dir) return cachedCatalog.catalog;
  const files = fs.readdirSync(dir).filter((name) => name.endsWith('.json')).sort();
  if (files.length === 0) throw new Error(`ovhStandIn: no OVH API schemas (*.json) in ${dir}`);
  const schemas = files.map((name) => {
    const parsed: unknown = JSON.parse(fs.readFileSync(path.join(dir, name), 'utf8'));
    if (!isSchemaFile(parsed)) throw new Error(`ovhStandIn: ${name} is not an OVH API schema`);
    return parsed;
  });
  const vrackSchema = files.includes('vrack.json') ? 'vrack.json' : 'provider types';
  if (vrackSchema === 'provider types') schemas.push(VRACK_FALLBACK);
  const allModels: Record<string, SchemaModel> = Object.assign({}, ...schemas.map((s) => s.models));
  const byLength = new Map<number, RouteEntry[]>();
  const byTemplate = new Map<string, RouteEntry>();
  for (const schema of schemas) {
    const models: ModelLookup = (name) => schema.models[name] ?? allModels[name];
    for (const api of schema.apis) {
      const entry: RouteEntry = {
        template: api.path,
        segments: api.path.split('/').slice(1),
        operations: new Map(api.operations.map((op) => [op.httpMethod.toUpperCase(), op])),
        models,
      };
      byTemplate.set(api.path, entry);
      const bucket = byLength.get(entry.segments.length) ?? [];
      bucket.push(entry);
      byLength.set(entry.segments.length, bucket);
    }
  }
  const catalog: Catalog = { byLength, find: (template) => byTemplate.get(template), vrackSchema };
  cachedCatalog = { dir, catalog };
  return catalog;
}

function isParamSegment(segment: string): boolean {
  return segment.startsWith('{') && segment.endsWith('}');
}

function safeDecode(segment: string): string | null {
  try {
    return decodeURIComponent(segment);
  } catch {
    return null;
  }
}

function matchEntry(entry: RouteEntry, segments: string[]): Record<string, string> | null {
  const params: Record<string, string> = {};
  for (let i = 0; i < segments.length; i++) {
    const wanted = entry.segments[i];
    const decoded = safeDecode(segments[i]);
    if (decoded === null) return null;
    if (isParamSegment(wanted)) {
      if (decoded === '') return null;
      params[wanted.slice(1, -1)] = decoded;
    } else if (decoded !== wanted) {
      return null;
    }
  }
  return params;
}

/** '0' for a literal segment, '1' for a {param}: sorting ascending prefers literals, left to right. */
function specificity(entry: RouteEntry): string {
  return entry.segments.map((s) => (isParamSegment(s) ? '1' : '0')).join('');
}

function matchRoute(catalog: Catalog, apiPath: string): RouteMatch | null {
  const segments = apiPath.split('/').slice(1);
  const candidates: RouteMatch[] = [];
  for (const entry of catalog.byLength.get(segments.length) ?? []) {
    const params = matchEntry(entry, segments);
    if (params) candidates.push({ entry, params });
  }
  candidates.sort((a, b) => specificity(a.entry).localeCompare(specificity(b.entry)));
  return candidates[0] ?? null;
}

// ---------------------------------------------------------------------------------------
// Value checking against schema types
// ---------------------------------------------------------------------------------------

interface CheckContext {
  models: ModelLookup;
  /** 'input': request values (required / read-only apply); 'output': stand-in answers. */
  mode: 'input' | 'output';
  bindings: ReadonlyMap<string, string>;
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const MAC = /^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/;
const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

function isString(v: unknown): v is string {
  return typeof v === 'string';
}

function isIpv4(v: unknown): boolean {
  return isString(v) && IPV4.test(v);
}

function isBlock(v: unknown, isAddress: (s: string) => boolean, maxPrefix: number): boolean {
  if (!isString(v)) return false;
  const [address, prefix, extra] = v.split('/');
  if (extra !== undefined || !isAddress(address)) return false;
  return prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= maxPrefix);
}

const isIpv4Block = (v: unknown): boolean => isBlock(v, (s) => IPV4.test(s), 32);
const isIpv6Block = (v: unknown): boolean => isBlock(v, (s) => net.isIPv6(s), 128);

const PRIMITIVES: Record<string, { expected: string; test: (v: unknown) => boolean }> = {
  string: { expected: 'a string', test: isString },
  text: { expected: 'a string', test: isString },
  password: { expected: 'a string', test: isString },
  phoneNumber: { expected: 'a string', test: isString },
  time: { expected: 'a string', test: isString },
  duration: { expected: 'a string', test: isString },
  long: { expected: 'an integer', test: (v) => Number.isInteger(v) },
  int: { expected: 'an integer', test: (v) => Number.isInteger(v) },
  double: { expected: 'a number', test: (v) => typeof v === 'number' && Number.isFinite(v) },
  float: { expected: 'a number', test: (v) => typeof v === 'number' && Number.isFinite(v) },
  boolean: { expected: 'a boolean', test: (v) => typeof v === 'boolean' },
  ipv4: { expected: 'an IPv4 address', test: isIpv4 },
  ipv6: { expected: 'an IPv6 address', test: (v) => isString(v) && net.isIPv6(v) },
  ip: { expected: 'an IP address', test: (v) => isString(v) && net.isIP(v) !== 0 },
  ipv4Block: { expected: 'an IPv4 block', test: isIpv4Block },
  ipv6Block: { expected: 'an IPv6 block', test: isIpv6Block },
  ipBlock: { expected: 'an IP block', test: (v) => isIpv4Block(v) || isIpv6Block(v) },
  macAddress: { expected: 'a MAC address', test: (v) => isString(v) && MAC.test(v) },
  uuid: { expected: 'a UUID', test: (v) => isString(v) && UUID.test(v) },
  datetime: { expected: 'a date-time', test: (v) => isString(v) && !Number.isNaN(Date.parse(v)) },
  date: { expected: 'a date (YYYY-MM-DD)', test: (v) => isString(v) && /^\d{4}-\d{2}-\d{2}$/.test(v) },
};

function show(value: unknown): string {
  return JSON.stringify(value) ?? String(value);
}

/** Resolves `name` or `name<Arg>` to its model and the generic bindings it introduces. */
function resolveModel(type: string, ctx: CheckContext): { model: SchemaModel; ctx: CheckContext } | undefined {
  const generic = /^([^<]+)<(.+)>$/.exec(type);
  const model = ctx.models(type) ?? (generic ? ctx.models(`${generic[1]}<T>`) : undefined);
  if (!model) return undefined;
  if (!generic || !model.generics) return { model, ctx };
  const args = generic[2].split(',').map((a) => a.trim());
  const bindings = new Map(ctx.bindings);
  model.generics.forEach((name, i) => bindings.set(name, args[i] ?? 'string'));
  return { model, ctx: { ...ctx, bindings } };
}

function checkValue(value: unknown, type: string, where: string, ctx: CheckContext): string[] {
  const bound = ctx.bindings.get(type);
  if (bound) return checkValue(value, bound, where, ctx);
  if (type.endsWith('[]')) {
    if (!Array.isArray(value)) return [`${where}: ${show(value)} is not an array (${type})`];
    return value.flatMap((item, i) => checkValue(item, type.slice(0, -2), `${where}[${i}]`, ctx));
  }
  const mapOf = /^map\[string\](.+)$/.exec(type);
  if (mapOf) {
    if (!isRecord(value)) return [`${where}: ${show(value)} is not an object (${type})`];
    return Object.entries(value).flatMap(([k, v]) => checkValue(v, mapOf[1], `${where}.${k}`, ctx));
  }
  const primitive = PRIMITIVES[type];
  if (primitive) return primitive.test(value) ? [] : [`${where}: ${show(value)} is not ${primitive.expected} (${type})`];
  const resolved = resolveModel(type, ctx);
  if (!resolved) return []; // a type the schemas do not describe: nothing to check
  const { model } = resolved;
  if (model.enum) {
    // Some long enums are listed as strings ("500"), others as numbers: compare as text, but type-check first.
    const rightType = model.enumType === 'long' ? Number.isInteger(value) : typeof value === 'string';
    const ok = rightType && model.enum.some((e) => String(e) === String(value));
    return ok ? [] : [`${where}: ${show(value)} is not one of ${type} (${model.enum.join(', ')})`];
  }
  if (model.properties) return checkObject(value, type, model.properties, where, resolved.ctx);
  return [];
}

function checkObject(
  value: unknown,
  type: string,
  properties: Record<string, SchemaProperty>,
  where: string,
  ctx: CheckContext,
): string[] {
  if (!isRecord(value)) return [`${where}: ${show(value)} is not an object (${type})`];
  const problems: string[] = [];
  for (const [key, field] of Object.entries(value)) {
    const prop = properties[key];
    if (!prop) problems.push(`${where}: unknown field "${key}" (not in ${type})`);
    else if (ctx.mode === 'input' && prop.readOnly) problems.push(`${where}: field "${key}" of ${type} is read-only`);
    else if (field === null) {
      if (prop.canBeNull === false) problems.push(`${where}.${key}: must not be null`);
    } else problems.push(...checkValue(field, prop.type, `${where}.${key}`, ctx));
  }
  if (ctx.mode === 'input') {
    for (const [key, prop] of Object.entries(properties)) {
      if (prop.required && !prop.readOnly && value[key] === undefined) {
        problems.push(`${where}: missing required field "${key}" (${type})`);
      }
    }
  }
  return problems;
}

/** Query and path values arrive as strings: turn them into what the type expects first. */
function fromString(raw: string, type: string, ctx: CheckContext): unknown {
  const model = resolveModel(type, ctx)?.model;
  const numeric = ['long', 'int', 'double', 'float'].includes(type) || model?.enumType === 'long';
  if (numeric && /^-?\d+(\.\d+)?$/.test(raw)) return Number(raw);
  if (type === 'boolean' && (raw === 'true' || raw === 'false')) return raw === 'true';
  return raw;
}

function checkRequest(
  op: SchemaOperation,
  entry: RouteEntry,
  params: Record<string, string>,
  query: Record<string, string>,
  body: unknown,
): string[] {
  const ctx: CheckContext = { models: entry.models, mode: 'input', bindings: new Map() };
  const problems: string[] = [];
  const byType = (kind: SchemaParameter['paramType']): SchemaParameter[] =>
    op.parameters.filter((p) => p.paramType === kind);

  for (const p of byType('path')) {
    const raw = params[p.name ?? ''];
    if (raw !== undefined) problems.push(...checkValue(fromString(raw, p.dataType, ctx), p.dataType, `path ${p.name}`, ctx));
  }

  const queryParams = byType('query');
  for (const key of Object.keys(query)) {
    if (!queryParams.some((p) => p.name === key)) problems.push(`query: unknown parameter "${key}"`);
  }
  for (const p of queryParams) {
    const raw = query[p.name ?? ''];
    if (raw === undefined) {
      if (p.required) problems.push(`query: missing required parameter "${p.name}"`);
    } else problems.push(...checkValue(fromString(raw, p.dataType, ctx), p.dataType, `query ${p.name}`, ctx));
  }

  problems.push(...checkBody(byType('body'), body, ctx));
  return problems;
}

function checkBody(bodyParams: SchemaParameter[], body: unknown, ctx: CheckContext): string[] {
  const whole = bodyParams.find((p) => p.name === undefined);
  if (whole) {
    // The whole body is one model (e.g. domain.zone.RecordCreate).
    if (body === undefined) return whole.required ? [`body: missing (${whole.dataType})`] : [];
    return checkValue(body, whole.dataType, 'body', ctx);
  }
  if (bodyParams.length === 0) {
    return body === undefined || (isRecord(body) && Object.keys(body).length === 0) ? [] : ['body: this call takes no body'];
  }
  const fields = body ?? {};
  if (!isRecord(fields)) return [`body: ${show(body)} is not an object`];
  const problems: string[] = [];
  for (const key of Object.keys(fields)) {
    if (!bodyParams.some((p) => p.name === key)) problems.push(`body: unknown field "${key}"`);
  }
  for (const p of bodyParams) {
    const value = fields[p.name ?? ''];
    if (value === undefined || value === null) {
      if (p.required) problems.push(`body: missing required field "${p.name}" (${p.dataType})`);
    } else problems.push(...checkValue(value, p.dataType, `body.${p.name}`, ctx));
  }
  return problems;
}

// ---------------------------------------------------------------------------------------
// Authentication (application key / secret + consumer key)
// ---------------------------------------------------------------------------------------

export function signOvhRequest(input: {
  applicationSecret: string;
  consumerKey: string;
  method: string;
  /** The URL the client signs: 'https://' + host, with or without ':port' (see authProblem), + /1.0 path and query. */
  url: string;
  body: string;
  timestamp: number | string;
}): string {
  const payload = [input.applicationSecret, input.consumerKey, input.method, input.url, input.body, input.timestamp];
  return '$1$' + crypto.createHash('sha1').update(payload.join('+')).digest('hex');
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Why OVH refuses a request's authentication: its status, message and errorCode. */
interface AuthProblem {
  status: number;
  message: string;
  errorCode?: string;
}

/**
 * The URLs a signature may be over. OVH checks the signature over the URL the request was sent
 * to. On OVH's port 443 both clients sign the same string, but on the stand-in's port they differ:
 * - go-ovh (ovh/ovh.go, NewRequest) signs its target, the endpoint + path exactly as it sends it,
 *   so with the endpoint https://127.0.0.1:PORT/1.0 the port is in it; its Host header carries the
 *   same host:port, so this is 'https://' + Host + request path.
 * - @ovhcloud/node-ovh (lib/ovh.es5.js, request) signs 'https://' + host + path with its `host`
 *   option alone, never the port, while Node's Host header adds ':PORT' off 443.
 * Each form is one exact digest: a signature over anything else (another port, path, body,
 * timestamp or secret) is still refused.
 */
function signedUrls(req: IncomingMessage): string[] {
  const host = header(req, 'host') ?? '127.0.0.1';
  const withoutPort = host.replace(/:\d+$/, '');
  return [...new Set([`https://${host}${req.url ?? ''}`, `https://${withoutPort}${req.url ?? ''}`])];
}

/**
 * Returns why the request is not authenticated, or null when it is. OVH's answers: an unknown
 * application key is 403 INVALID_KEY, an unknown consumer key 403 INVALID_CREDENTIAL (python-ovh
 * ovh/client.py maps both errorCodes), a wrong signature 400 INVALID_SIGNATURE "Invalid signature"
 * (Client::BadRequest, as reported against php-ovh and go-ovh users). A 400 matters to the
 * provider: terraform-provider-ovh retries a 400 on POST /ip/{ip}/reverse and on an attach.
 */
function authProblem(req: IncomingMessage, rawBody: string, keys: StandInCredentials): AuthProblem | null {
  if (header(req, 'x-ovh-application') !== keys.applicationKey) return { status: 403, message: 'Invalid application key', errorCode: 'INVALID_KEY' };
  if (header(req, 'x-ovh-consumer') !== keys.consumerKey) return { status: 403, message: 'This credential is not valid', errorCode: 'INVALID_CREDENTIAL' };
  const timestamp = header(req, 'x-ovh-timestamp') ?? '';
  // OVH's answer to a stale timestamp is not documented: kept as the stand-in always answered it.
  if (!/^\d+$/.test(timestamp) || Math.abs(Number(timestamp) - nowSeconds()) > 300) return { status: 403, message: 'Invalid timestamp' };
  const signature = header(req, 'x-ovh-signature');
  const signedBy = (url: string): string =>
    signOvhRequest({ applicationSecret: keys.applicationSecret, consumerKey: keys.consumerKey, method: req.method ?? 'GET', url, body: rawBody, timestamp });
  if (signedUrls(req).some((url) => signature === signedBy(url))) return null;
  return { status: 400, message: 'Invalid signature', errorCode: 'INVALID_SIGNATURE' };
}

function authError(problem: AuthProblem): StandInReply {
  const reply = ovhError(problem.status, problem.message);
  if (problem.errorCode === undefined) return reply;
  const httpCode = problem.status === 400 ? '400 Bad Request' : '403 Forbidden';
  return { ...reply, body: { class: errorClass(problem.status), message: problem.message, errorCode: problem.errorCode, httpCode } };
}

// ---------------------------------------------------------------------------------------
// Replies
// ---------------------------------------------------------------------------------------

const ERROR_CLASSES: Record<number, string> = {
  400: 'Client::BadRequest',
  401: 'Client::Unauthorized',
  403: 'Client::Forbidden',
  404: 'Client::NotFound',
  409: 'Client::Conflict',
  429: 'Client::TooManyRequests',
  500: 'Server::InternalServerError',
  501: 'Server::NotImplemented',
  502: 'Server::BadGateway',
  503: 'Server::ServiceUnavailable',
  504: 'Server::GatewayTimeout',
};

const DEFAULT_MESSAGES: Record<number, string> = {
  // OVH's answer to a call the credential's access rules do not cover (NOT_GRANTED_CALL).
  403: 'This call has not been granted',
  429: 'Too many requests',
  500: 'Internal server error',
  502: 'Bad gateway',
  503: 'Service temporarily unavailable',
  504: 'Gateway timeout',
};

function errorClass(status: number): string {
  return ERROR_CLASSES[status] ?? (status >= 500 ? 'Server::InternalServerError' : 'Client::BadRequest');
}

function ovhError(status: number, message: string): StandInReply {
  const headers: OutgoingHttpHeaders = status === 429 ? { 'Retry-After': '0' } : {};
  return { status, body: { class: errorClass(status), message }, headers };
}

function notFound(what: string): StandInReply {
  return ovhError(404, `The requested object (${what}) does not exist`);
}

function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

/** OVH-style date: 2024-07-23T10:00:00+00:00 */
function ovhDate(date = new Date()): string {
  return date.toISOString().replace(/\.\d{3}Z$/, '+00:00');
}

// ---------------------------------------------------------------------------------------
// Dedicated servers, virtual MACs and their tasks
// ---------------------------------------------------------------------------------------

interface VirtualMacState {
  type: string;
  addresses: Map<string, string>;
}

/** The fields every OVH task type has that the stand-in moves along. */
interface TaskCore {
  status: string;
  comment: string | null;
  lastUpdate: string | null;
  doneDate: string | null;
}

interface TaskState<T extends { status: string; lastUpdate: string | null } = DedicatedServerTask> {
  task: T;
  /** The block a vRack task is about. */
  block?: string;
  outcome: TaskOutcome;
  stepsLeft: number;
  /** When the task may end (ms since epoch). */
  endsAt: number;
  failComment: string;
  /** Applies the change when the task completes; returns an error comment if it cannot. */
  apply: () => string | null;
}

interface ServerState {
  mainIp: string;
  gateway: string;
  network: string;
  ipv6: ServerIpv6 | null;
  vmacs: Map<string, VirtualMacState>;
  tasks: Map<number, TaskState>;
  /** dedicated.server.Dedicated.region, e.g. eu-west-gra. */
  region: string;
  datacenter: string;
  commercialRange: string | null;
  /** specifications/network vmac.supported. */
  vmacSupported: boolean;
  /** The most distinct virtual MACs the server takes (null: no limit modelled). */
  vmacLimit: number | null;
  hardware: ServerHardware;
}

interface OutcomeRule {
  outcome: TaskOutcome;
  stepsBeforeEnd: number;
  comment?: string;
  durationMs?: number;
}

const DEFAULT_FAIL_COMMENTS: Record<string, string> = {
  'addVirtualMac/customerError': 'The IP is not routed to this server',
  'removeVirtualMac/customerError': 'This IP address is not associated with this virtual MAC',
  'genericMoveFloatingIp/customerError': 'The IP cannot be routed to this service',
  ovhError: 'An internal error occurred, OVHcloud has been notified',
};

/** dedicated.server.RoutingDetailsIpv6 of a server (ip and network are ipv6Block). */
export interface ServerIpv6 {
  ip: string;
  gateway: string;
  network?: string;
}

export interface ServerOptions {
  mainIp?: string;
  gateway?: string;
  /** routing.ipv6 of the server's network specifications (null when not given). */
  ipv6?: ServerIpv6;
  /**
   * dedicated.server.Dedicated.region (default eu-west-gra), which the region rule of a move reads,
   * and its datacenter (dedicated.DatacenterEnum, default gra3).
   */
  region?: string;
  datacenter?: string;
  /** dedicated.server.Dedicated.commercialRange (default null). */
  commercialRange?: string | null;
  /**
   * specifications/network `vmac.supported` (default true). VMAC-SUP (ovh/docs
   * pages/bare_metal_cloud/dedicated_servers/network_support_virtual_mac): false means "You cannot
   * use the virtual MAC feature on this server"; the stand-in then refuses every new virtual MAC
   * and every move of a block that has some.
   */
  vmacSupported?: boolean;
  /**
   * The most distinct virtual MACs the server takes (default: no limit). OVH's API has no field
   * for it; ovh/docs network_virtual_mac (2025-05-16) gives 32 for third-generation Advance
   * servers ("support 32 different vMACs") and enforces it on moves too (its FAQ: a block of 4
   * IPs with different vMACs is not moved onto a server that has 30).
   */
  virtualMacLimit?: number;
  /** specifications/hardware, over the defaults (an Advance-3 style AMD EPYC 4344P server). */
  hardware?: Partial<ServerHardware>;
}

/** dedicated.server.HardwareSpecifications, the fields the stand-in answers. */
export interface ServerHardware {
  bootMode: string;
  coresPerProcessor: number | null;
  description: string | null;
  formFactor: string | null;
  memorySize: { unit: string; value: number } | null;
  motherboard: string | null;
  numberOfProcessors: number | null;
  processorArchitecture: string | null;
  processorName: string | null;
  threadsPerProcessor: number | null;
}

const DEFAULT_HARDWARE: ServerHardware = {
  bootMode: 'uefi',
  coresPerProcessor: 8,
  description: 'Advance-1 Gen 3',
  formFactor: '1u',
  memorySize: { unit: 'MB', value: 65536 },
  motherboard: 'ASRockRack B650D4U',
  numberOfProcessors: 1,
  processorArchitecture: 'x86_64',
  processorName: 'AMD EPYC 4344P',
  threadsPerProcessor: 16,
};

/** dedicated.server.HardwareSpecifications: every field, the unknown ones null. */
function hardwareSpecifications(s: ServerState): Record<string, unknown> {
  return {
    ...s.hardware,
    defaultHardwareRaidSize: null,
    defaultHardwareRaidType: null,
    diskGroups: [],
    expansionCards: null,
    usbKeys: null,
  };
}

/** dedicated.server.DedicatedWithIAM of a server. */
function dedicatedBody(serviceName: string, s: ServerState): Record<string, unknown> {
  return {
    availabilityZone: `${s.region}-a`,
    bootId: 1,
    bootScript: null,
    commercialRange: s.commercialRange,
    datacenter: s.datacenter,
    iam: null,
    ip: s.mainIp,
    linkSpeed: 1000,
    monitoring: true,
    name: serviceName,
    newUpgradeSystem: true,
    noIntervention: false,
    os: 'proxmox8_64',
    powerState: 'poweron',
    professionalUse: false,
    rack: 'G123A45',
    region: s.region,
    rescueMail: null,
    rescueSshKey: null,
    reverse: null,
    rootDevice: null,
    serverId: 1_000_001,
    state: 'ok',
    supportLevel: 'pro',
  };
}

const mbps = (value: number) => ({ unit: 'Mbps', value });

/** dedicated.server.NetworkSpecifications: every field OVH answers, for a server of a 1 Gbps offer. */
function networkSpecifications(s: ServerState): Record<string, unknown> {
  return {
    bandwidth: { InternetToOvh: mbps(1000), OvhToInternet: mbps(1000), OvhToOvh: mbps(3000), type: 'included' },
    connection: mbps(1000),
    ola: {
      available: true,
      availableModes: [
        { default: true, name: 'default', interfaces: [{ aggregation: false, count: 1, type: 'public' }, { aggregation: false, count: 1, type: 'vrack' }] },
      ],
      supportedModes: ['public', 'vrack'],
    },
    routing: { ipv4: { ip: s.mainIp, gateway: s.gateway, network: s.network }, ipv6: s.ipv6 ? { ...s.ipv6 } : null },
    switching: { name: null },
    traffic: { inputQuotaSize: null, inputQuotaUsed: null, isThrottled: false, outputQuotaSize: null, outputQuotaUsed: null, resetQuotaDate: null },
    vmac: { supported: s.vmacSupported },
    vrack: { bandwidth: mbps(1000), type: 'included' },
  };
}

const ALREADY_ASSOCIATED = 'This IP address is already associated with a virtual MAC';
const VMAC_UNSUPPORTED = (serviceName: string) => `${serviceName} does not support virtual MACs (specifications/network vmac.supported is false)`;
const VMAC_TYPES = ['ovh', 'vmware'];

class DedicatedServers {
  private readonly servers = new Map<string, ServerState>();
  private readonly outcomes = new Map<string, OutcomeRule>();
  private nextTaskId = 4_200_001;

  add(serviceName: string, opts: ServerOptions = {}): void {
    if (this.servers.has(serviceName)) throw new Error(`ovhStandIn: server ${serviceName} already exists`);
    const mainIp = opts.mainIp ?? '198.51.100.10';
    if (!IPV4.test(mainIp)) throw new Error(`ovhStandIn: mainIp ${mainIp} is not IPv4`);
    if (opts.ipv6 && (!isIpv6Block(opts.ipv6.ip) || !net.isIPv6(opts.ipv6.gateway))) throw new Error('ovhStandIn: ipv6 needs an IPv6 block and an IPv6 gateway');
    const prefix = mainIp.split('.').slice(0, 3).join('.');
    this.servers.set(serviceName, {
      mainIp,
      gateway: opts.gateway ?? `${prefix}.254`,
      network: `${prefix}.0/24`,
      ipv6: opts.ipv6 ? { ...opts.ipv6, network: opts.ipv6.network ?? opts.ipv6.ip } : null,
      vmacs: new Map(),
      tasks: new Map(),
      region: opts.region ?? 'eu-west-gra',
      datacenter: opts.datacenter ?? 'gra3',
      commercialRange: opts.commercialRange ?? null,
      vmacSupported: opts.vmacSupported ?? true,
      vmacLimit: opts.virtualMacLimit ?? null,
      hardware: { ...DEFAULT_HARDWARE, ...opts.hardware },
    });
  }

  get(serviceName: string): ServerState | undefined {
    return this.servers.get(serviceName);
  }

  /** OVH gave the server another prefix (a migration): specifications/network says so from now on. */
  setIpv6(serviceName: string, ipv6: ServerIpv6): void {
    if (!isIpv6Block(ipv6.ip) || !net.isIPv6(ipv6.gateway)) throw new Error('ovhStandIn: ipv6 needs an IPv6 block and an IPv6 gateway');
    this.mustGet(serviceName).ipv6 = { ...ipv6, network: ipv6.network ?? ipv6.ip };
  }

  names(): string[] {
    return [...this.servers.keys()];
  }

  mustGet(serviceName: string): ServerState {
    const server = this.servers.get(serviceName);
    if (!server) throw new Error(`ovhStandIn: unknown server ${serviceName} (call addServer first)`);
    return server;
  }

  seed(serviceName: string, mac: string, type: string, addresses: Array<{ ipAddress: string; virtualMachineName: string }>): void {
    const server = this.mustGet(serviceName);
    if (!MAC.test(mac)) throw new Error(`ovhStandIn: ${mac} is not a MAC address`);
    if (!VMAC_TYPES.includes(type)) throw new Error(`ovhStandIn: vMAC type must be one of ${VMAC_TYPES.join(', ')}`);
    const vmac = server.vmacs.get(mac.toLowerCase()) ?? { type, addresses: new Map<string, string>() };
    for (const a of addresses) {
      if (!IPV4.test(a.ipAddress)) throw new Error(`ovhStandIn: ${a.ipAddress} is not IPv4`);
      const owner = this.macOfIp(server, a.ipAddress);
      if (owner && owner !== mac.toLowerCase()) throw new Error(`ovhStandIn: ${a.ipAddress} already has vMAC ${owner}`);
      vmac.addresses.set(a.ipAddress, a.virtualMachineName);
    }
    server.vmacs.set(mac.toLowerCase(), vmac);
  }

  snapshot(serviceName: string): VirtualMacSnapshot {
    const result: VirtualMacSnapshot = {};
    for (const [mac, vmac] of this.mustGet(serviceName).vmacs) {
      result[mac] = { type: vmac.type, addresses: Object.fromEntries(vmac.addresses) };
    }
    return result;
  }

  taskList(serviceName: string): DedicatedServerTask[] {
    return [...this.mustGet(serviceName).tasks.values()].map((t) => ({ ...t.task }));
  }

  setOutcome(fn: string, outcome: TaskOutcome, opts: TaskOutcomeOptions = {}): void {
    this.outcomes.set(fn, { outcome, stepsBeforeEnd: opts.stepsBeforeEnd ?? 1, comment: opts.comment, durationMs: opts.durationMs });
  }

  macOfIp(server: ServerState, ip: string): string | undefined {
    for (const [mac, vmac] of server.vmacs) if (vmac.addresses.has(ip)) return mac;
    return undefined;
  }

  newMac(): string {
    const taken = new Set([...this.servers.values()].flatMap((s) => [...s.vmacs.keys()]));
    for (;;) {
      const mac = '02:00:00:' + [...crypto.randomBytes(3)].map((b) => b.toString(16).padStart(2, '0')).join(':');
      if (!taken.has(mac)) return mac;
    }
  }

  createTask(server: ServerState, fn: string, apply: () => string | null): DedicatedServerTask {
    const rule = this.outcomeOf(fn);
    const failKey = rule.outcome === 'ovhError' ? 'ovhError' : `${fn}/${rule.outcome}`;
    const now = ovhDate();
    const task: DedicatedServerTask = {
      taskId: this.nextTaskId++,
      function: fn,
      status: 'todo',
      comment: null,
      startDate: now,
      lastUpdate: now,
      doneDate: null,
      needSchedule: false,
      note: null,
      plannedInterventionId: null,
      ticketReference: null,
    };
    server.tasks.set(task.taskId, {
      task,
      outcome: rule.outcome,
      stepsLeft: rule.stepsBeforeEnd,
      endsAt: Date.now() + (rule.durationMs ?? 0),
      failComment: rule.comment ?? DEFAULT_FAIL_COMMENTS[failKey] ?? 'The task failed',
      apply,
    });
    return { ...task };
  }

  /** The rule for tasks of a function (shared with the /ip tasks). */
  outcomeOf(fn: string): OutcomeRule {
    return this.outcomes.get(fn) ?? { outcome: 'done', stepsBeforeEnd: 1 };
  }

  /** One step per GET: todo -> doing -> (end status). */
  advance(state: TaskState): void {
    advanceTask(state);
  }
}

const UNFINISHED_TASK = ['init', 'todo', 'doing'];

/** One step per GET of a task: todo/init -> doing -> (end status). */
function advanceTask<T extends TaskCore>(state: TaskState<T>): void {
  const { task } = state;
  if (!UNFINISHED_TASK.includes(task.status)) return;
  task.lastUpdate = ovhDate();
  if (state.outcome === 'never' || state.stepsLeft > 0 || Date.now() < state.endsAt) {
    task.status = 'doing';
    state.stepsLeft--;
    return;
  }
  task.doneDate = task.lastUpdate;
  if (state.outcome !== 'done') {
    task.status = state.outcome;
    task.comment = state.failComment;
    return;
  }
  const error = state.apply();
  task.status = error ? 'customerError' : 'done';
  task.comment = error;
}

function stringField(body: unknown, key: string): string {
  const value = isRecord(body) ? body[key] : undefined;
  return typeof value === 'string' ? value : '';
}

type RouteTable = Array<[method: string, route: string, handler: StandInHandler]>;

const SERVER = '/dedicated/server/{serviceName}';
const VMAC = `${SERVER}/virtualMac/{macAddress}`;

function dedicatedServerRoutes(world: DedicatedServers, blocks: IpBlocks, vracks: Vracks): RouteTable {
  /** Runs `then` with the server (and the vMAC when the route has one), or answers 404. */
  const withServer =
    (then: (server: ServerState, r: StandInRequest) => StandInReply): StandInHandler =>
    (r) => {
      const server = world.get(r.params.serviceName);
      return server ? then(server, r) : notFound(`serviceName = ${r.params.serviceName}`);
    };
  const withVmac = (then: (server: ServerState, mac: string, vmac: VirtualMacState, r: StandInRequest) => StandInReply) =>
    withServer((server, r) => {
      const mac = r.params.macAddress.toLowerCase();
      const vmac = server.vmacs.get(mac);
      return vmac ? then(server, mac, vmac, r) : notFound(`macAddress = ${r.params.macAddress}`);
    });

  /**
   * Why OVH would not give this IP a virtual MAC on this server now, or null. An IP of a block in
   * a vRack takes none (network_virtual_mac: "If an IP block has been moved to the vRack, it is no
   * longer assigned to a physical server, as such, you cannot assign a virtual MAC address to any
   * IP"); an IP of a block known to be routed elsewhere is not this server's to bind. An IP the
   * stand-in has no block for is let through, as before.
   */
  const ipProblem = (server: ServerState, serviceName: string, ip: string): string | null => {
    const block = blocks.get(ip) ?? blocks.enclosing(ip);
    if (!block) return null;
    if (block.vrack !== null) return `${ip} is in ${block.block}, which is in the vRack ${block.vrack}: an IP of a vRack block takes no virtual MAC`;
    if (block.routedTo !== serviceName) return DEFAULT_FAIL_COMMENTS['addVirtualMac/customerError'];
    return server.vmacSupported ? null : VMAC_UNSUPPORTED(serviceName);
  };

  const addVirtualMac = (server: ServerState, serviceName: string, ip: string, vmName: string, toMac: () => [string, VirtualMacState], newMac: boolean) => {
    if (world.macOfIp(server, ip)) return ovhError(400, ALREADY_ASSOCIATED);
    if (!server.vmacSupported) return ovhError(400, VMAC_UNSUPPORTED(serviceName));
    const vrackBlock = blocks.get(ip) ?? blocks.enclosing(ip);
    if (vrackBlock?.vrack) return ovhError(400, ipProblem(server, serviceName, ip) ?? '');
    // The distinct MACs a server takes (network_virtual_mac: third-generation Advance servers
    // "support 32 different vMACs"); an address added to an existing MAC adds no MAC.
    if (newMac && server.vmacLimit !== null && server.vmacs.size >= server.vmacLimit) {
      return ovhError(400, `${serviceName} has ${server.vmacs.size} virtual MACs, its limit: add the address to an existing virtual MAC or remove one`);
    }
    const task = world.createTask(server, 'addVirtualMac', () => {
      if (world.macOfIp(server, ip)) return ALREADY_ASSOCIATED;
      const problem = ipProblem(server, serviceName, ip);
      if (problem) return problem;
      if (newMac && server.vmacLimit !== null && server.vmacs.size >= server.vmacLimit) return `${serviceName} has reached its limit of ${server.vmacLimit} virtual MACs`;
      const [mac, vmac] = toMac();
      vmac.addresses.set(ip, vmName);
      server.vmacs.set(mac, vmac);
      return null;
    });
    return { status: 200, body: task };
  };

  return [
    ['GET', '/dedicated/server', () => ({ status: 200, body: world.names() })],
    // Also read by the data source ovh_dedicated_server_specifications_network
    // (terraform-provider-ovh ovh/data_dedicated_server_specifications_network.go: one GET).
    ['GET', `${SERVER}/specifications/network`, withServer((s) => ({ status: 200, body: networkSpecifications(s) }))],
    // The data source ovh_dedicated_server_specifications_hardware reads this (processorName tells
    // a third-generation Advance server, "powered by EPYC 4004 Series processors": network_virtual_mac).
    ['GET', `${SERVER}/specifications/hardware`, withServer((s) => ({ status: 200, body: hardwareSpecifications(s) }))],
    ['GET', SERVER, withServer((s, r) => ({ status: 200, body: dedicatedBody(r.params.serviceName, s) }))],
    // The vRacks the server is in (dedicated-server.json: string[]).
    ['GET', `${SERVER}/vrack`, withServer((_s, r) => ({ status: 200, body: vracks.of(r.params.serviceName) }))],
    [
      'GET',
      `${SERVER}/ipCanBeMovedTo`,
      // dedicated-server.json: "Check if given IP can be moved to this server", answering void:
      // 200 (null) means yes, an error says why. The same rules as POST /ip/{ip}/move.
      withServer((_s, r) => {
        const asked = r.query.ip ?? '';
        const state = blocks.get(asked);
        if (!state) {
          const inside = blocks.enclosing(asked);
          return inside ? wholeBlocksOnly(inside, asked) : notFound(`ip = ${asked}`);
        }
        if (state.routedTo === r.params.serviceName) return ovhError(400, `${state.block} is already routed to ${r.params.serviceName}`);
        const problem = moveProblem(state, r.params.serviceName, world);
        return problem ? ovhError(400, problem) : { status: 200, body: null };
      }),
    ],
    ['GET', `${SERVER}/virtualMac`, withServer((s) => ({ status: 200, body: [...s.vmacs.keys()] }))],
    [
      'POST',
      `${SERVER}/virtualMac`,
      withServer((s, r) => {
        const type = stringField(r.body, 'type');
        const newVmac = (): [string, VirtualMacState] => [world.newMac(), { type, addresses: new Map() }];
        return addVirtualMac(s, r.params.serviceName, stringField(r.body, 'ipAddress'), stringField(r.body, 'virtualMachineName'), newVmac, true);
      }),
    ],
    ['GET', VMAC, withVmac((_s, mac, v) => ({ status: 200, body: { macAddress: mac, type: v.type } }))],
    ['GET', `${VMAC}/virtualAddress`, withVmac((_s, _m, v) => ({ status: 200, body: [...v.addresses.keys()] }))],
    [
      'POST',
      `${VMAC}/virtualAddress`,
      // dedicated-server.json: "Add an IP to this Virtual MAC", body {ipAddress, virtualMachineName}:
      // the route that shares one MAC between IPs (ovh/docs network_virtual_mac names a POST on
      // .../virtualAddress/{ipAddress} instead, a path the schema has no POST for). The task is an
      // addVirtualMac like the one of POST .../virtualMac.
      withVmac((s, mac, v, r) =>
        addVirtualMac(
          s,
          r.params.serviceName,
          stringField(r.body, 'ipAddress'),
          stringField(r.body, 'virtualMachineName'),
          () => [mac, s.vmacs.get(mac) ?? v],
          false,
        ),
      ),
    ],
    [
      'GET',
      `${VMAC}/virtualAddress/{ipAddress}`,
      withVmac((_s, _m, v, r) => {
        const vmName = v.addresses.get(r.params.ipAddress);
        if (vmName === undefined) return notFound(`ipAddress = ${r.params.ipAddress}`);
        return { status: 200, body: { ipAddress: r.params.ipAddress, virtualMachineName: vmName } };
      }),
    ],
    [
      'DELETE',
      `${VMAC}/virtualAddress/{ipAddress}`,
      withVmac((s, mac, v, r) => {
        const ip = r.params.ipAddress;
        if (!v.addresses.has(ip)) return notFound(`ipAddress = ${ip}`);
        const task = world.createTask(s, 'removeVirtualMac', () => {
          const current = s.vmacs.get(mac);
          if (!current?.addresses.delete(ip)) return DEFAULT_FAIL_COMMENTS['removeVirtualMac/customerError'];
          // The MAC goes with its last address: dedicated-server.json has no DELETE on
          // /virtualMac/{macAddress}, so removing the addresses is the only way to remove a MAC
          // (an inference from the routes); while others remain, the MAC stays with them.
          if (current.addresses.size === 0) s.vmacs.delete(mac);
          return null;
        });
        return { status: 200, body: task };
      }),
    ],
    [
      'GET',
      `${SERVER}/task`,
      withServer((s, r) => {
        const ids = [...s.tasks.values()]
          .filter(({ task }) => (r.query.function ?? task.function) === task.function)
          .filter(({ task }) => (r.query.status ?? task.status) === task.status)
          .map(({ task }) => task.taskId);
        return { status: 200, body: ids };
      }),
    ],
    [
      'GET',
      `${SERVER}/task/{taskId}`,
      withServer((s, r) => {
        const state = s.tasks.get(Number(r.params.taskId));
        if (!state) return notFound(`taskId = ${r.params.taskId}`);
        world.advance(state);
        return { status: 200, body: { ...state.task } };
      }),
    ],
  ];
}

// ---------------------------------------------------------------------------------------
// Public Cloud projects: instances and failover IPs
// ---------------------------------------------------------------------------------------

interface CloudInstanceState {
  id: string;
  name: string;
  region: string;
  created: string;
}

interface CloudFailoverIpState {
  ip: CloudFailoverIp;
  /** The instance an attach is moving the IP to, while the IP is operationPending. */
  pendingTo: string | null;
  stepsLeft: number;
  /** When the pending attach may end (ms since epoch). */
  endsAt: number;
  outcome: AttachOutcome;
}

interface CloudProjectState {
  instances: CloudInstanceState[];
  failoverIps: Map<string, CloudFailoverIpState>;
}

const OPERATION_PENDING = 'An operation is already pending on this failover IP';

class CloudProjects {
  private readonly projects = new Map<string, CloudProjectState>();
  private attachRule: { outcome: AttachOutcome; stepsBeforeEnd: number; durationMs: number } = { outcome: 'ok', stepsBeforeEnd: 1, durationMs: 0 };

  add(serviceName: string, seed: CloudProjectSeed = {}): void {
    if (this.projects.has(serviceName)) throw new Error(`ovhStandIn: cloud project ${serviceName} already exists`);
    const instances = (seed.instances ?? []).map((i) => ({ id: i.id, name: i.name, region: i.region ?? 'SBG5', created: ovhDate() }));
    const failoverIps = new Map<string, CloudFailoverIpState>();
    for (const f of seed.failoverIps ?? []) {
      const single = IPV4.test(f.ip) || (isIpv4Block(f.ip) && f.ip.endsWith('/32'));
      if (!single && !isIpv4Block(f.ip)) throw new Error(`ovhStandIn: failover IP ${f.ip} is not IPv4 (an address or a block)`);
      if (failoverIps.has(f.id)) throw new Error(`ovhStandIn: failover IP id ${f.id} is there twice`);
      const address = f.ip.split('/')[0];
      failoverIps.set(f.id, {
        // block is typed "ip" in cloud.ip.FailoverIp, so it holds the address, not a CIDR. A block
        // of several addresses has `ip` null (cloud.json: ip canBeNull) and its first address as
        // `block`. terraform-provider-ovh v2.19.0 resource_cloud_project_failover_ip_attach.go
        // matches `ip` only, so it never finds such an entry ("cannot be found in cloud project").
        ip: { id: f.id, ip: single ? address : null, block: single ? address : networkOf(f.ip), continentCode: 'EU', geoloc: 'fr', progress: 0, routedTo: f.routedTo, status: 'ok', subType: 'cloud' },
        pendingTo: null,
        stepsLeft: 0,
        endsAt: 0,
        outcome: 'ok',
      });
    }
    this.projects.set(serviceName, { instances, failoverIps });
  }

  get(serviceName: string): CloudProjectState | undefined {
    return this.projects.get(serviceName);
  }

  mustGet(serviceName: string): CloudProjectState {
    const project = this.projects.get(serviceName);
    if (!project) throw new Error(`ovhStandIn: unknown cloud project ${serviceName} (call addCloudProject first)`);
    return project;
  }

  snapshot(serviceName: string): CloudFailoverIp[] {
    return [...this.mustGet(serviceName).failoverIps.values()].map((f) => ({ ...f.ip }));
  }

  setAttachOutcome(outcome: AttachOutcome, opts: AttachOutcomeOptions = {}): void {
    this.attachRule = { outcome, stepsBeforeEnd: opts.stepsBeforeEnd ?? 1, durationMs: opts.durationMs ?? 0 };
  }

  attach(state: CloudFailoverIpState, instanceId: string): void {
    state.pendingTo = instanceId;
    state.stepsLeft = this.attachRule.stepsBeforeEnd;
    state.endsAt = Date.now() + this.attachRule.durationMs;
    state.outcome = this.attachRule.outcome;
    state.ip.status = 'operationPending';
    state.ip.progress = 0;
  }

  /** One step per GET of the failover IP: operationPending (progress grows) -> ok, routed to the new instance. */
  advance(state: CloudFailoverIpState): void {
    if (state.pendingTo === null) return;
    if (state.outcome === 'never' || state.stepsLeft > 0 || Date.now() < state.endsAt) {
      state.stepsLeft--;
      state.ip.progress = Math.min(90, state.ip.progress + 30);
      return;
    }
    state.ip.routedTo = state.pendingTo;
    state.ip.status = 'ok';
    state.ip.progress = 0;
    state.pendingTo = null;
  }
}

function instanceBody(i: CloudInstanceState): Record<string, unknown> {
  return {
    id: i.id,
    name: i.name,
    region: i.region,
    status: 'ACTIVE',
    created: i.created,
    flavorId: '906e8259-0340-4856-95b5-4ea2d26fe377',
    imageId: 'a3b8a4bd-9d2c-4a0e-9f51-0a3f0e2b7f3c',
    ipAddresses: [],
    monthlyBilling: null,
    operationIds: [],
    planCode: null,
    sshKeyId: null,
    currentMonthOutgoingTraffic: null,
  };
}

const PROJECT = '/cloud/project/{serviceName}';
const FAILOVER = `${PROJECT}/ip/failover/{id}`;

function cloudRoutes(world: CloudProjects): RouteTable {
  const withProject =
    (then: (project: CloudProjectState, r: StandInRequest) => StandInReply): StandInHandler =>
    (r) => {
      const project = world.get(r.params.serviceName);
      return project ? then(project, r) : notFound(`serviceName = ${r.params.serviceName}`);
    };
  const withFailoverIp = (then: (project: CloudProjectState, f: CloudFailoverIpState, r: StandInRequest) => StandInReply) =>
    withProject((project, r) => {
      const f = project.failoverIps.get(r.params.id);
      return f ? then(project, f, r) : notFound(`id = ${r.params.id}`);
    });

  return [
    ['GET', `${PROJECT}/instance`, withProject((p, r) => ({
      status: 200,
      body: p.instances.filter((i) => (r.query.region ?? i.region) === i.region).map(instanceBody),
    }))],
    [
      'GET',
      `${PROJECT}/ip/failover`,
      // terraform-provider-ovh ovh/resource_cloud_project_failover_ip_attach.go: after the attach,
      // Create re-reads this list, without pausing, until the IP is no longer operationPending;
      // so a read of the list moves a pending attach along like a read of the IP itself.
      withProject((p) => {
        for (const f of p.failoverIps.values()) world.advance(f);
        return { status: 200, body: [...p.failoverIps.values()].map((f) => ({ ...f.ip })) };
      }),
    ],
    [
      'GET',
      FAILOVER,
      withFailoverIp((_p, f) => {
        world.advance(f);
        return { status: 200, body: { ...f.ip } };
      }),
    ],
    [
      'POST',
      `${FAILOVER}/attach`,
      // terraform-provider-ovh ovh/resource_cloud_project_failover_ip_attach.go: Create finds the
      // id by matching `ip` in GET .../ip/failover, then POSTs {instanceId}, retrying a 400 for 5
      // minutes (the instance may not be ready); Read and an import read the list again and
      // match `ip`; Delete calls nothing (an attach cannot be undone).
      withFailoverIp((p, f, r) => {
        const instanceId = stringField(r.body, 'instanceId');
        if (!p.instances.some((i) => i.id === instanceId)) return notFound(`instanceId = ${instanceId}`);
        if (f.ip.status === 'operationPending') return ovhError(409, OPERATION_PENDING);
        world.attach(f, instanceId);
        return { status: 200, body: { ...f.ip } };
      }),
    ],
  ];
}

// ---------------------------------------------------------------------------------------
// IP blocks (/ip): routing and move tasks
// ---------------------------------------------------------------------------------------

interface IpBlockState {
  block: string;
  type: string;
  routedTo: string | null;
  tasks: Map<number, TaskState<IpTask>>;
  /** ip.ReverseIp by address (GET /ip/{ip}/reverse/{ipReverse}). */
  reverses: Map<string, string>;
  regions: string[] | null;
  isAdditionalIp: boolean;
  description: string | null;
  /** The vRack the block is in (POST /vrack/{serviceName}/ip), or null. */
  vrack: string | null;
}

const MOVE_FUNCTION = 'genericMoveFloatingIp';
const MOVE_PENDING = 'A move of this IP is already in progress';

/** An address as a number (IPv4 in 32 bits, IPv6 in 128), null when it is not one. */
function addressValue(address: string): { bits: number; value: bigint } | null {
  if (IPV4.test(address)) return { bits: 32, value: address.split('.').reduce((acc, part) => (acc << 8n) | BigInt(part), 0n) };
  if (!net.isIPv6(address)) return null;
  let text = address;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const n = addressValue(v4[1])?.value ?? 0n;
    text = text.slice(0, -v4[1].length) + `${(n >> 16n).toString(16)}:${(n & 0xffffn).toString(16)}`;
  }
  const [head, tail] = text.split('::');
  const groups = (part: string | undefined) => (part ? part.split(':') : []);
  const missing = 8 - groups(head).length - groups(tail).length;
  const all = tail === undefined ? groups(head) : [...groups(head), ...Array<string>(missing).fill('0'), ...groups(tail)];
  return { bits: 128, value: all.reduce((acc, g) => (acc << 16n) | BigInt(`0x${g || '0'}`), 0n) };
}

function sameAddress(a: string, b: string): boolean {
  const x = addressValue(a);
  const y = addressValue(b);
  return x !== null && y !== null && x.bits === y.bits && x.value === y.value;
}

/** Whether an address is inside a block (an address alone is its /32 or /128). */
function blockContains(block: string, address: string): boolean {
  const [base, prefix] = normalizeBlock(block).split('/');
  const b = addressValue(base);
  const a = addressValue(address);
  if (b === null || a === null || a.bits !== b.bits) return false;
  const shift = BigInt(b.bits - Number(prefix));
  return a.value >> shift === b.value >> shift;
}

/** An address without a prefix length is the /32 (or /128) block. */
function normalizeBlock(block: string): string {
  if (block.includes('/')) return block;
  return `${block}/${net.isIPv6(block) ? 128 : 32}`;
}

class IpBlocks {
  private readonly blocks = new Map<string, IpBlockState>();
  private nextTaskId = 9_100_001;

  constructor(private readonly rules: (fn: string) => OutcomeRule) {}

  add(block: string, opts: IpBlockSeed): void {
    const key = normalizeBlock(block);
    if (!isIpv4Block(key) && !isIpv6Block(key)) throw new Error(`ovhStandIn: ${block} is not an IP block`);
    if (this.blocks.has(key)) throw new Error(`ovhStandIn: IP block ${key} already exists`);
    const regions = opts.regions ?? null;
    const enumOk = (r: string) => REGION_CODENAMES.includes(r);
    if (regions && !regions.every(enumOk)) throw new Error(`ovhStandIn: regions must be coreTypes.RegionCodenameEnum values (${REGION_CODENAMES.join(', ')})`);
    const base = key.split('/')[0];
    if (addressValue(base) === null || !blockContains(key, base) || networkOf(key) !== base) throw new Error(`ovhStandIn: ${block} is not a network address with its prefix`);
    const overlap = [...this.blocks.keys()].find((k) => blockContains(k, base) || blockContains(key, k.split('/')[0]));
    if (overlap) throw new Error(`ovhStandIn: ${key} overlaps ${overlap}`);
    this.blocks.set(key, {
      block: key,
      type: opts.type ?? 'failover',
      routedTo: opts.routedTo,
      tasks: new Map(),
      reverses: new Map(),
      regions,
      isAdditionalIp: opts.isAdditionalIp ?? true,
      description: opts.description ?? null,
      vrack: null,
    });
  }

  all(): IpBlockState[] {
    return [...this.blocks.values()];
  }

  /**
   * The block an address or a smaller block is part of, when it is not a block of its own: OVH
   * holds the /29, and GET /ip/{address} of one of its addresses is a 404.
   */
  enclosing(value: string): IpBlockState | undefined {
    if (this.get(value)) return undefined;
    return this.all().find((b) => covers(b.block, value));
  }

  get(block: string): IpBlockState | undefined {
    return this.blocks.get(normalizeBlock(block));
  }

  mustGet(block: string): IpBlockState {
    const state = this.get(block);
    if (!state) throw new Error(`ovhStandIn: unknown IP block ${block} (call addIp first)`);
    return state;
  }

  pendingMove(state: IpBlockState): boolean {
    return [...state.tasks.values()].some((t) => UNFINISHED_TASK.includes(t.task.status));
  }

  /** A move to a service, or to the parking when `to` is null (POST /ip/{ip}/park). */
  createMove(state: IpBlockState, to: string | null, apply: () => string | null = () => null): IpTask {
    const rule = this.rules(MOVE_FUNCTION);
    const now = ovhDate();
    const task: IpTask = {
      taskId: this.nextTaskId++,
      function: MOVE_FUNCTION,
      status: 'todo',
      comment: null,
      destination: { serviceName: to },
      startDate: now,
      lastUpdate: now,
      doneDate: null,
    };
    const failKey = rule.outcome === 'ovhError' ? 'ovhError' : `${MOVE_FUNCTION}/${rule.outcome}`;
    state.tasks.set(task.taskId, {
      task,
      outcome: rule.outcome,
      stepsLeft: rule.stepsBeforeEnd,
      endsAt: Date.now() + (rule.durationMs ?? 0),
      failComment: rule.comment ?? DEFAULT_FAIL_COMMENTS[failKey] ?? 'The task failed',
      apply: () => {
        const problem = apply();
        if (problem) return problem;
        state.routedTo = to;
        return null;
      },
    });
    return { ...task, destination: { serviceName: to } };
  }
}

function ipBody(state: IpBlockState): Record<string, unknown> {
  return {
    ip: state.block,
    type: state.type,
    version: state.block.includes(':') ? 6 : 4,
    routedTo: { serviceName: state.routedTo },
    description: state.description,
    canBeTerminated: true,
    isAdditionalIp: state.isAdditionalIp,
    bringYourOwnIp: false,
    country: null,
    campus: null,
    organisationId: null,
    regions: state.regions ? [...state.regions] : null,
    rir: 'RIPE',
  };
}

/** coreTypes.RegionCodenameEnum (ip.json). */
const REGION_CODENAMES = [
  'ap-south-mum', 'ap-southeast-sgp', 'ap-southeast-syd', 'ca-east-bhs', 'ca-east-tor', 'eu-central-waw', 'eu-west-eri',
  'eu-west-gra', 'eu-west-lim', 'eu-west-par', 'eu-west-rbx', 'eu-west-sbg', 'us-east-vin', 'us-west-hil',
];

/**
 * ovh/docs pages/bare_metal_cloud/dedicated_servers/move-failover-ip/guide.en-gb.md (2024-12-02):
 * "IP address blocks in a region can be moved from one datacenter to another within that region
 * but cannot be moved outside of that region", "Except for the 3 regions eu-west-gra, eu-west-rbx,
 * and eu-west-sbg" (its table keeps eu-west-par apart). A block with no regions (ip.Ip.regions is
 * alpha and may be null) is let through: OVH's own check is the verdict, not this table.
 */
const FRENCH_TRIO = ['eu-west-gra', 'eu-west-rbx', 'eu-west-sbg'];

function regionAllows(regions: string[] | null, serverRegion: string): boolean {
  if (!regions || regions.length === 0) return true;
  return regions.some((r) => r === serverRegion || (FRENCH_TRIO.includes(r) && FRENCH_TRIO.includes(serverRegion)));
}

/** The network address of a block (its first address). */
function networkOf(block: string): string {
  const [base, prefix] = normalizeBlock(block).split('/');
  const v = addressValue(base);
  if (v === null) return base;
  const shift = BigInt(v.bits - Number(prefix));
  return formatAddress((v.value >> shift) << shift, v.bits);
}

/** The address at `offset` from the start of an IPv4 block (negative: from its end). */
function addressAt(block: string, offset: number): string {
  const [base, prefix] = normalizeBlock(block).split('/');
  const v = addressValue(base);
  if (v === null || v.bits !== 32) throw new Error(`ovhStandIn: ${block} is not an IPv4 block`);
  const size = 1n << BigInt(32 - Number(prefix));
  const start = (v.value >> BigInt(32 - Number(prefix))) << BigInt(32 - Number(prefix));
  return formatAddress(offset >= 0 ? start + BigInt(offset) : start + size + BigInt(offset), 32);
}

function formatAddress(value: bigint, bits: number): string {
  if (bits === 32) return [24n, 16n, 8n, 0n].map((s) => String((value >> s) & 0xffn)).join('.');
  const groups: string[] = [];
  for (let i = 7; i >= 0; i--) groups.push(((value >> BigInt(i * 16)) & 0xffffn).toString(16));
  return groups.join(':');
}

/** Whether `outer` contains or equals `inner` (an address or a block). */
function covers(outer: string, inner: string): boolean {
  const [innerBase, innerPrefix] = normalizeBlock(inner).split('/');
  const outerPrefix = Number(normalizeBlock(outer).split('/')[1]);
  return outerPrefix <= Number(innerPrefix) && blockContains(outer, innerBase);
}

/** The block's addresses that have a virtual MAC on the server it is routed to, by MAC. */
function macsOfBlock(state: IpBlockState, servers: DedicatedServers): Map<string, { vmac: VirtualMacState; inBlock: string[] }> {
  const found = new Map<string, { vmac: VirtualMacState; inBlock: string[] }>();
  const server = state.routedTo === null ? undefined : servers.get(state.routedTo);
  if (!server) return found;
  for (const [mac, vmac] of server.vmacs) {
    const inBlock = [...vmac.addresses.keys()].filter((a) => blockContains(state.block, a));
    if (inBlock.length > 0) found.set(mac, { vmac, inBlock });
  }
  return found;
}

/**
 * Why OVH would refuse to route a whole block to a dedicated server, or null. The rules, from
 * ovh/docs move-failover-ip (2024-12-02) and network_virtual_mac (2025-05-16), in our words:
 * - the region rule above;
 * - "If the Additional IP address or one of the block IP addresses has a virtual MAC attached,
 *   the target server must support the vMAC functionality" (vmac.supported);
 * - "blocks containing duplicate virtual MAC addresses cannot be moved" (one MAC carrying several
 *   addresses; the stand-in also counts a MAC shared with an address outside the block, which
 *   could not follow the block to another server: the guides do not say);
 * - the destination's distinct virtual MACs after the move may not pass its limit (the vMAC FAQ:
 *   "the total of vMACs would be greater than the 32 vMACs allowed").
 * A block in a vRack is not routed to a server: it has to leave the vRack first (stand-in rule).
 */
function moveProblem(state: IpBlockState, to: string, servers: DedicatedServers): string | null {
  const target = servers.get(to);
  if (!target) return `${to} is not a valid destination for ${state.block}`;
  if (state.vrack !== null) return `${state.block} is in the vRack ${state.vrack}: take it out of the vRack before routing it to a server`;
  if (!regionAllows(state.regions, target.region)) {
    return `${state.block} belongs to ${state.regions?.join(', ') ?? 'no region'} and ${to} is in ${target.region}: a block stays in its region (only eu-west-gra, eu-west-rbx and eu-west-sbg exchange blocks)`;
  }
  if (state.routedTo === to) return null;
  const macs = macsOfBlock(state, servers);
  if (macs.size > 0 && !target.vmacSupported) {
    const ips = [...macs.values()].flatMap((m) => m.inBlock);
    return `${to} does not support virtual MACs (vmac.supported is false) and ${state.block} has some (${ips.join(', ')}): remove them before the move`;
  }
  for (const [mac, m] of macs) {
    if (m.vmac.addresses.size > 1) {
      return `the virtual MAC ${mac} carries several addresses (${[...m.vmac.addresses.keys()].join(', ')}): a block with duplicate virtual MACs cannot be moved; remove the duplicates first`;
    }
  }
  if (target.vmacLimit !== null && target.vmacs.size + macs.size > target.vmacLimit) {
    return `${to} has ${target.vmacs.size} virtual MACs and ${state.block} brings ${macs.size}: ${target.vmacs.size + macs.size} would pass its limit of ${target.vmacLimit} distinct virtual MACs`;
  }
  return null;
}

/**
 * A block's virtual MACs follow it to the new server (move-failover-ip: "When an IP block
 * containing unique virtual MAC addresses is moved between two servers, those addresses are
 * temporarily suspended. They will appear on the new server once the move is complete.").
 */
function carryMacs(state: IpBlockState, to: string, servers: DedicatedServers): void {
  const from = state.routedTo === null ? undefined : servers.get(state.routedTo);
  const target = servers.get(to);
  if (!from || !target || from === target) return;
  for (const [mac, m] of macsOfBlock(state, servers)) {
    from.vmacs.delete(mac);
    target.vmacs.set(mac, m.vmac);
  }
}

/** A move of an address inside a block is refused (move-failover-ip: "Migration only works for whole blocks"). */
function wholeBlocksOnly(inside: IpBlockState, asked: string): StandInReply {
  return ovhError(400, `${asked} is part of the block ${inside.block}: only whole blocks can be moved, not single addresses of a block; move ${inside.block}`);
}

function taskBody(task: IpTask): IpTask {
  return { ...task, destination: task.destination ? { ...task.destination } : null };
}

/**
 * A reverse as OVH keeps it, a name with its trailing dot: inferred from OVH's refusal quoted in
 * terraform-provider-ovh pull request #54, which names "example.com." for a reverse sent as
 * example.com. The project always sends the dot.
 */
function dotted(name: string): string {
  return name.endsWith('.') ? name : `${name}.`;
}

function ipRoutes(blocks: IpBlocks, servers: DedicatedServers, resolves: (name: string, address: string) => boolean): RouteTable {
  const withBlock =
    (then: (state: IpBlockState, r: StandInRequest) => StandInReply): StandInHandler =>
    (r) => {
      const state = blocks.get(r.params.ip);
      return state ? then(state, r) : notFound(`ip = ${r.params.ip}`);
    };

  /** A move's target: a whole block, never one address of a bigger block. */
  const withWholeBlock =
    (then: (state: IpBlockState, r: StandInRequest) => StandInReply): StandInHandler =>
    (r) => {
      const state = blocks.get(r.params.ip);
      if (state) return then(state, r);
      const inside = blocks.enclosing(r.params.ip);
      return inside ? wholeBlocksOnly(inside, r.params.ip) : notFound(`ip = ${r.params.ip}`);
    };

  return [
    [
      'GET',
      '/ip',
      // ip.json GET /ip: "ip" is a filter "contains or equals": the blocks that hold the given
      // address or block, so GET /ip?ip=<address> finds the /29 an address belongs to. The
      // others filter on the field of the same name (routedTo.serviceName on ip.RoutedTo);
      // description, like the other string filters of OVH's API, is taken as an exact match here.
      (r) => {
        const q = r.query;
        const found = blocks.all().filter(
          (b) =>
            (q.ip === undefined || covers(b.block, q.ip)) &&
            (q.type === undefined || b.type === q.type) &&
            (q['routedTo.serviceName'] === undefined || b.routedTo === q['routedTo.serviceName']) &&
            (q.version === undefined || String(b.block.includes(':') ? 6 : 4) === q.version) &&
            (q.isAdditionalIp === undefined || String(b.isAdditionalIp) === q.isAdditionalIp) &&
            (q.description === undefined || b.description === q.description) &&
            q.campus === undefined, // campus is null on every stand-in block
        );
        return { status: 200, body: found.map((b) => b.block) };
      },
    ],
    // GET /ip/{ip} needs the block as OVH holds it: one address of a /29 is a 404, as it was before.
    ['GET', '/ip/{ip}', withBlock((state) => ({ status: 200, body: ipBody(state) }))],
    [
      'GET',
      '/ip/{ip}/move',
      // ip.json (BETA): ip.Destinations, the services the block may move to, each with its nexthops.
      // The stand-in lists the other dedicated servers the region rule allows, with no nexthop
      // (terraform-provider-ovh v2.19.0 never sends one: types_ip_service.go, IpMoveOpts.FromResource).
      withWholeBlock((state) => ({
        status: 200,
        body: {
          cloudProject: [],
          dedicatedCloud: [],
          dedicatedServer: servers
            .names()
            .filter((sn) => sn !== state.routedTo && state.vrack === null && regionAllows(state.regions, servers.mustGet(sn).region))
            .map((service) => ({ service, nexthop: [] })),
          hostingReseller: [],
          ipLoadbalancing: [],
          vps: [],
        },
      })),
    ],
    // terraform-provider-ovh ovh/resource_ip_move.go: Create and Update read GET /ip/{ip} and
    // move only when routedTo differs (the id becomes the task's id); they wait on GET
    // /ip/{ip}/task/{taskId}, 10 s between reads, until done or in error (5 minutes at most;
    // after that it reports success, with no error, whatever the task's state: waitForTaskFinished),
    // then read GET /ip/{ip} again. An import's id is the IP, then one GET /ip/{ip}.
    [
      'POST',
      '/ip/{ip}/move',
      // A block bigger than /32 moves whole (ovh/docs move-failover-ip: "Migration only works for
      // whole blocks, it is not possible to migrate individual IPs within a block"); the refusals
      // of moveProblem are answered at once (and checked again when the task ends); the block's
      // virtual MACs follow it when the task is done.
      withWholeBlock((state, r) => {
        const to = stringField(r.body, 'to');
        const problem = moveProblem(state, to, servers);
        if (problem) return ovhError(400, problem);
        if (state.routedTo === to) return ovhError(400, `${state.block} is already routed to ${to}`);
        if (blocks.pendingMove(state)) return ovhError(409, MOVE_PENDING);
        const task = blocks.createMove(state, to, () => {
          const late = moveProblem(state, to, servers);
          if (late) return late;
          carryMacs(state, to, servers);
          return null;
        });
        return { status: 200, body: task };
      }),
    ],
    [
      'POST',
      '/ip/{ip}/park',
      // terraform-provider-ovh ovh/resource_ip_move.go: Delete parks the IP (POST /ip/{ip}/park,
      // no body) unless it is parked already, then waits on the task like a move. ip.json names
      // no task function for parking: the stand-in uses the move's, genericMoveFloatingIp, with
      // no destination service; once done the IP is routed nowhere. Whole blocks only, like a move.
      withWholeBlock((state) => {
        if (state.routedTo === null) return ovhError(400, `${state.block} is already parked`);
        if (blocks.pendingMove(state)) return ovhError(409, MOVE_PENDING);
        return { status: 200, body: blocks.createMove(state, null) };
      }),
    ],
    ['GET', '/ip/{ip}/reverse', withBlock((state) => ({ status: 200, body: [...state.reverses.keys()] }))],
    [
      'POST',
      '/ip/{ip}/reverse',
      // terraform-provider-ovh ovh/resource_ip_reverse.go: Create POSTs {ipReverse, reverse} and
      // retries a 400 every 5 s until readiness_timeout_duration (1 minute by default), because
      // OVH refuses with 400 a name that does not resolve to the address (the message quoted in
      // terraform-provider-ovh pull request #54); the id is the answer's ipReverse, then a GET.
      withBlock((state, r) => {
        const ipReverse = stringField(r.body, 'ipReverse');
        const reverse = dotted(stringField(r.body, 'reverse'));
        if (!blockContains(state.block, ipReverse)) return ovhError(400, `${ipReverse} is not in ${state.block}`);
        if (!resolves(reverse, ipReverse)) return ovhError(400, `${reverse} does not resolve to ${ipReverse}`);
        const known = [...state.reverses.keys()].find((a) => sameAddress(a, ipReverse));
        if (known !== undefined) state.reverses.delete(known);
        state.reverses.set(ipReverse, reverse);
        return { status: 200, body: { ipReverse, reverse } };
      }),
    ],
    [
      'GET',
      '/ip/{ip}/reverse/{ipReverse}',
      // Read, and an import's read: the import id is "<ip>|<ipReverse>" (resource_ip_reverse.go).
      withBlock((state, r) => {
        const known = [...state.reverses.keys()].find((a) => sameAddress(a, r.params.ipReverse));
        return known === undefined
          ? notFound(`ipReverse = ${r.params.ipReverse}`)
          : { status: 200, body: { ipReverse: known, reverse: state.reverses.get(known) } };
      }),
    ],
    [
      'DELETE',
      '/ip/{ip}/reverse/{ipReverse}',
      // resource_ip_reverse.go: Delete sends this; a 404 counts as already gone.
      withBlock((state, r) => {
        const known = [...state.reverses.keys()].find((a) => sameAddress(a, r.params.ipReverse));
        if (known === undefined) return notFound(`ipReverse = ${r.params.ipReverse}`);
        state.reverses.delete(known);
        return { status: 200, body: null };
      }),
    ],
    [
      'GET',
      '/ip/{ip}/task',
      withBlock((state, r) => {
        const ids = [...state.tasks.values()]
          .filter(({ task }) => (r.query.function ?? task.function) === task.function)
          .filter(({ task }) => (r.query.status ?? task.status) === task.status)
          .map(({ task }) => task.taskId);
        return { status: 200, body: ids };
      }),
    ],
    [
      'GET',
      '/ip/{ip}/task/{taskId}',
      withBlock((state, r) => {
        const task = state.tasks.get(Number(r.params.taskId));
        if (!task) return notFound(`taskId = ${r.params.taskId}`);
        advanceTask(task);
        return { status: 200, body: taskBody(task.task) };
      }),
    ],
  ];
}

// ---------------------------------------------------------------------------------------
// vRacks: blocks in a vRack (POST/GET/DELETE /vrack/{serviceName}/ip…) and their tasks
// ---------------------------------------------------------------------------------------

interface VrackState {
  servers: Set<string>;
  ips: Map<string, VrackIpState>;
  tasks: Map<number, TaskState<VrackTask>>;
}

/** Task functions as OVH's Control Panel (ovh/manager) names them; no schema lists them. */
const VRACK_ADD_BLOCK = 'addBlockToBridgeDomain';
const VRACK_REMOVE_BLOCK = 'removeBlockFromBridgeDomain';

/** vrack.VrackZoneEnum value of a region codename (the zone a block is announced in). */
function zoneOf(region: string): string | null {
  const zones: Record<string, string> = {
    'eu-west-gra': 'gra', 'eu-west-rbx': 'rbx', 'eu-west-sbg': 'sbg', 'ca-east-bhs': 'bhs', 'eu-central-waw': 'waw',
    'ap-southeast-sgp': 'sgp1', 'ap-southeast-syd': 'syd1', 'us-east-vin': 'was1', 'us-west-hil': 'pdx1',
  };
  return zones[region] ?? null;
}

class Vracks {
  private readonly vracks = new Map<string, VrackState>();
  private nextTaskId = 7_300_001;

  constructor(private readonly rules: (fn: string) => OutcomeRule) {}

  add(serviceName: string, seed: VrackSeed = {}): void {
    if (this.vracks.has(serviceName)) throw new Error(`ovhStandIn: vRack ${serviceName} already exists`);
    this.vracks.set(serviceName, { servers: new Set(seed.servers ?? []), ips: new Map(), tasks: new Map() });
  }

  get(serviceName: string): VrackState | undefined {
    return this.vracks.get(serviceName);
  }

  mustGet(serviceName: string): VrackState {
    const state = this.vracks.get(serviceName);
    if (!state) throw new Error(`ovhStandIn: unknown vRack ${serviceName} (call addVrack first)`);
    return state;
  }

  /** The vRacks a server is in. */
  of(server: string): string[] {
    return [...this.vracks].filter(([, v]) => v.servers.has(server)).map(([name]) => name);
  }

  pending(state: VrackState, block: string): boolean {
    return [...state.tasks.values()].some((t) => t.task.function.endsWith('BridgeDomain') && t.block === block && UNFINISHED_TASK.includes(t.task.status));
  }

  createTask(serviceName: string, fn: string, block: string, apply: () => string | null): VrackTask {
    const state = this.mustGet(serviceName);
    const rule = this.rules(fn);
    const now = ovhDate();
    // A real one (a vRack task as OVH answered it, status init, orderId null) has this shape.
    const task: VrackTask = { id: this.nextTaskId++, function: fn, status: 'init', serviceName, targetDomain: block, orderId: null, lastUpdate: now, todoDate: now };
    state.tasks.set(task.id, {
      task,
      block,
      outcome: rule.outcome,
      stepsLeft: rule.stepsBeforeEnd,
      endsAt: Date.now() + (rule.durationMs ?? 0),
      failComment: rule.comment ?? 'cancelled',
      apply,
    });
    return { ...task };
  }
}

/**
 * One step per GET: init -> doing -> done, or cancelled (vrack.TaskStatusEnum has no error
 * status; a failed outcome or a refusal when applied ends cancelled).
 */
function advanceVrackTask(state: TaskState<VrackTask>): void {
  const { task } = state;
  if (!UNFINISHED_TASK.includes(task.status)) return;
  task.lastUpdate = ovhDate();
  if (state.outcome === 'never' || state.stepsLeft > 0 || Date.now() < state.endsAt) {
    task.status = 'doing';
    state.stepsLeft--;
    return;
  }
  task.status = state.outcome === 'done' && state.apply() === null ? 'done' : 'cancelled';
}

/** The gateway of a vRack block: its penultimate address (configuring-an-ip-block-in-a-vrack). */
function vrackGateway(block: string): string | null {
  return block.includes(':') ? null : addressAt(block, -2);
}

function vrackRoutes(vracks: Vracks, blocks: IpBlocks, servers: DedicatedServers, answersRegion: () => boolean): RouteTable {
  const VRACK = '/vrack/{serviceName}';
  const withVrack =
    (then: (v: VrackState, r: StandInRequest) => StandInReply): StandInHandler =>
    (r) => {
      const v = vracks.get(r.params.serviceName);
      return v ? then(v, r) : notFound(`serviceName = ${r.params.serviceName}`);
    };
  const body = (ip: VrackIpState): Record<string, unknown> => {
    const { region, ...rest } = ip;
    // vrack.ip in the vrack.json read for this work has no region; the provider's VrackIp has one.
    return answersRegion() ? { ...rest, region } : rest;
  };

  return [
    ['GET', `${VRACK}/ip`, withVrack((v) => ({ status: 200, body: [...v.ips.keys()] }))],
    [
      'POST',
      `${VRACK}/ip`,
      // terraform-provider-ovh v2.19.0 ovh/resource_vrack_ip.go, Create: POST {block, region?}
      // (types_vrack.go VrackIpCreateOpts, region omitted when unset), then waitForVrackTask on the
      // answer's serviceName and id, then Read. ovh/docs configuring-an-ip-block-in-a-vrack
      // (2025-06-04): "Once an IP block is added to the vRack, it is no longer attached to a
      // physical server"; the block needs "a minimum of four addresses". move-failover-ip: "If an
      // IP block is moved/added to the vRack … any virtual MAC address will be lost during the
      // transfer." Once done the block is routed to the vRack's service (ip.RoutedTo names the
      // vRack: the stand-in's reading, no guide says what routedTo becomes).
      withVrack((v, r) => {
        const asked = stringField(r.body, 'block');
        const state = blocks.get(asked);
        if (!state) {
          const inside = blocks.enclosing(asked);
          return inside ? wholeBlocksOnly(inside, asked) : notFound(`block = ${asked}`);
        }
        const size = state.block.includes(':') ? Infinity : 2 ** (32 - Number(state.block.split('/')[1]));
        if (size < 4) return ovhError(400, `${state.block} is too small for a vRack: a block needs at least four addresses (network, gateway, broadcast and one usable)`);
        if (state.vrack !== null) return ovhError(400, `${state.block} is already in the vRack ${state.vrack}`);
        if (blocks.pendingMove(state) || vracks.pending(v, state.block)) return ovhError(409, MOVE_PENDING);
        const region = stringField(r.body, 'region') || (state.regions?.[0] ?? 'eu-west-gra');
        if (!regionAllows(state.regions, region)) return ovhError(400, `${state.block} cannot be announced in ${region} (its regions: ${state.regions?.join(', ') ?? 'none'})`);
        const vrack = r.params.serviceName;
        const task = vracks.createTask(vrack, VRACK_ADD_BLOCK, state.block, () => {
          if (state.vrack !== null) return `${state.block} is already in the vRack ${state.vrack}`;
          const server = state.routedTo === null ? undefined : servers.get(state.routedTo);
          for (const [mac, m] of macsOfBlock(state, servers)) {
            for (const ip of m.inBlock) m.vmac.addresses.delete(ip);
            if (m.vmac.addresses.size === 0) server?.vmacs.delete(mac);
          }
          state.vrack = vrack;
          state.routedTo = vrack;
          v.ips.set(state.block, { ip: state.block, gateway: vrackGateway(state.block), zone: zoneOf(region), region });
          return null;
        });
        return { status: 200, body: task };
      }),
    ],
    [
      'GET',
      `${VRACK}/ip/{ip}`,
      // resource_vrack_ip.go, Read: GET /vrack/{sn}/ip/{url.PathEscape(block)} (the slash sent as
      // %2F), sets block from `ip` and gateway, zone, region from the answer (types_vrack.go
      // VrackIp); a 404 drops the resource from the state (helpers.CheckDeleted).
      withVrack((v, r) => {
        const ip = v.ips.get(normalizeBlock(r.params.ip));
        return ip ? { status: 200, body: body(ip) } : notFound(`ip = ${r.params.ip}`);
      }),
    ],
    [
      'DELETE',
      `${VRACK}/ip/{ip}`,
      // resource_vrack_ip.go, Delete: DELETE, then waitForVrackTask. Where the block lands
      // afterwards is undocumented: the stand-in leaves it routed nowhere (as if parked).
      withVrack((v, r) => {
        const key = normalizeBlock(r.params.ip);
        const state = blocks.get(key);
        if (!v.ips.has(key) || !state) return notFound(`ip = ${r.params.ip}`);
        if (vracks.pending(v, key)) return ovhError(409, MOVE_PENDING);
        const task = vracks.createTask(r.params.serviceName, VRACK_REMOVE_BLOCK, key, () => {
          v.ips.delete(key);
          state.vrack = null;
          state.routedTo = null;
          return null;
        });
        return { status: 200, body: task };
      }),
    ],
    ['GET', `${VRACK}/task`, withVrack((v) => ({ status: 200, body: [...v.tasks.values()].filter((t) => t.task.status !== 'done').map((t) => t.task.id) }))],
    [
      'GET',
      `${VRACK}/task/{taskId}`,
      // terraform-provider-ovh v2.19.0 ovh/vrack_task.go, waitForVrackTask: 10 s, then a GET at
      // least every 3 s while the status is init, todo or doing; a 404 is the only "completed"
      // (any other status, done included, is an unexpected state and fails the wait). So a task
      // is gone once it has ended well: the GET that ends it, and every later one, is a 404.
      withVrack((v, r) => {
        const state = v.tasks.get(Number(r.params.taskId));
        if (!state) return notFound(`taskId = ${r.params.taskId}`);
        advanceVrackTask(state);
        return state.task.status === 'done' ? notFound(`taskId = ${r.params.taskId}`) : { status: 200, body: { ...state.task } };
      }),
    ],
  ];
}

// ---------------------------------------------------------------------------------------
// DNS zones (domain.json): the records of a zone, as GET /domain/zone/{zoneName}/record lists them
// ---------------------------------------------------------------------------------------

/** domain.zone.Record: what GET /domain/zone/{zoneName}/record/{id} returns. */
export interface ZoneRecordSeed {
  fieldType: string;
  /** "" for the apex. */
  subDomain: string;
  target: string;
  ttl: number;
}

export interface ZoneRecord extends ZoneRecordSeed {
  id: number;
  zone: string;
}

/** The name servers of the stand-in's n-th zone (from 1): OVH gives a zone a numbered pair of its own, e.g. dns200.ovh.net and ns200.ovh.net. */
export function zoneNameServers(n: number): string[] {
  return [`dns${100 + n}.ovh.net`, `ns${100 + n}.ovh.net`];
}

export type ZoneRefreshHook = (zone: string, records: ZoneRecord[]) => void | Promise<void>;

/** What the stand-in holds of a zone besides its records (domain.ZoneWithIAM, domain.zone.Status). */
interface ZoneState {
  nameServers: string[];
  /** When a record last changed, or the zone was made. */
  lastUpdate: Date;
  /** No record has changed since the last successful refresh. */
  deployed: boolean;
  iamId: string;
}

class DnsZones {
  private readonly zones = new Map<string, Map<number, ZoneRecord>>();
  private readonly states = new Map<string, ZoneState>();
  private nextId = 5_000_000_001;
  readonly refreshes: string[] = [];
  /** The SOA's TTL: a zone's default. */
  defaultTtl = 3600;
  refreshGranted = true;
  refreshHook: ZoneRefreshHook | null = null;

  add(zone: string): void {
    if (this.zones.has(zone)) return;
    this.zones.set(zone, new Map());
    this.states.set(zone, { nameServers: zoneNameServers(this.zones.size), lastUpdate: new Date(), deployed: true, iamId: crypto.randomUUID() });
  }

  names(): string[] {
    return [...this.zones.keys()];
  }

  state(zone: string): ZoneState {
    const state = this.states.get(zone);
    if (!state) throw new Error(`ovhStandIn: unknown zone ${zone} (call addZone first)`);
    return state;
  }

  /** A record changed: the zone needs a refresh to be served so. */
  changed(zone: string): void {
    const state = this.state(zone);
    state.lastUpdate = new Date();
    state.deployed = false;
  }

  addRecord(zone: string, seed: ZoneRecordSeed): number {
    const records = this.zones.get(zone);
    if (!records) throw new Error(`ovhStandIn: unknown zone ${zone} (call addZone first)`);
    const id = this.nextId++;
    records.set(id, { ...seed, id, zone });
    return id;
  }

  get(zone: string): Map<number, ZoneRecord> | undefined {
    return this.zones.get(zone);
  }

  /** Whether a name (with or without its trailing dot) has an A or AAAA record of this address here. */
  resolves(name: string, address: string): boolean {
    const fqdn = name.replace(/\.$/, '').toLowerCase();
    const type = net.isIPv6(address) ? 'AAAA' : 'A';
    for (const [zone, records] of this.zones) {
      if (fqdn !== zone && !fqdn.endsWith(`.${zone}`)) continue;
      const sub = fqdn === zone ? '' : fqdn.slice(0, -(zone.length + 1));
      for (const rec of records.values()) {
        if (rec.fieldType === type && rec.subDomain.toLowerCase() === sub && sameAddress(rec.target, address)) return true;
      }
    }
    return false;
  }
}

function ilike(value: string, pattern: string): boolean {
  const re = pattern.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/%/g, '.*').replace(/_/g, '.');
  return new RegExp(`^${re}$`, 'i').test(value);
}

/**
 * A TXT target as OVH stores it: quoted when it was given unquoted (terraform-provider-ovh v2.19.0
 * ovh/resource_domain_zone_record.go, the target's DiffSuppressFunc: "The API silently quotes TXT
 * fields", and suppresses the diff when `"\"" + new + "\"" == old`); one already quoted is kept.
 */
export function storedTarget(fieldType: string, target: string): string {
  return fieldType === 'TXT' && !target.startsWith('"') ? `"${target}"` : target;
}

function dnsRoutes(zones: DnsZones): RouteTable {
  const withZone =
    (then: (records: Map<number, ZoneRecord>, r: StandInRequest) => StandInReply): StandInHandler =>
    (r) => {
      const records = zones.get(r.params.zoneName);
      return records ? then(records, r) : notFound(`zoneName = ${r.params.zoneName}`);
    };
  return [
    [
      'GET',
      '/domain/zone/{zoneName}/record',
      // domain.json: subDomain is "Filter the value of subDomain property (ilike)": case
      // ignored, '_' one character and '%' any; subDomain= (empty) is the apex.
      withZone((records, r) => ({
        status: 200,
        body: [...records.values()]
          .filter((rec) => r.query.fieldType === undefined || rec.fieldType === r.query.fieldType)
          .filter((rec) => r.query.subDomain === undefined || ilike(rec.subDomain, r.query.subDomain))
          .map((rec) => rec.id),
      })),
    ],
    [
      'POST',
      '/domain/zone/{zoneName}/record',
      // terraform-provider-ovh ovh/resource_domain_zone_record.go: Create POSTs {fieldType,
      // subDomain (left out for the apex), target, ttl (0 = the zone's default)} and keeps the
      // answer's id; should OVH answer id 0, it searches GET .../record instead (never here).
      // Then POST .../refresh (a failure only logged), then GET .../record/{id}, a 404 retried
      // for a minute. The record exists at once: listable and readable.
      withZone((records, r) => {
        const body = isRecord(r.body) ? r.body : {};
        const fieldType = stringField(body, 'fieldType');
        const id = zones.addRecord(r.params.zoneName, {
          fieldType,
          subDomain: stringField(body, 'subDomain'),
          target: storedTarget(fieldType, stringField(body, 'target')),
          ttl: typeof body.ttl === 'number' ? body.ttl : 0,
        });
        zones.changed(r.params.zoneName);
        return { status: 200, body: { ...records.get(id) } };
      }),
    ],
    [
      'GET',
      '/domain/zone/{zoneName}/record/{id}',
      // Read, and an import's read: the import id is "<id>.<zone>" (resource_domain_zone_record.go).
      withZone((records, r) => {
        const rec = records.get(Number(r.params.id));
        return rec ? { status: 200, body: { ...rec } } : notFound(`id = ${r.params.id}`);
      }),
    ],
    [
      'PUT',
      '/domain/zone/{zoneName}/record/{id}',
      // resource_domain_zone_record.go: Update PUTs {subDomain (left out when empty), target,
      // ttl}, then refreshes and reads; fieldType and zone changes replace the record instead.
      withZone((records, r) => {
        const rec = records.get(Number(r.params.id));
        if (!rec) return notFound(`id = ${r.params.id}`);
        const body = isRecord(r.body) ? r.body : {};
        if ('subDomain' in body) rec.subDomain = stringField(body, 'subDomain');
        if (typeof body.target === 'string') rec.target = storedTarget(rec.fieldType, body.target);
        if ('ttl' in body) rec.ttl = typeof body.ttl === 'number' ? body.ttl : 0;
        zones.changed(r.params.zoneName);
        return { status: 200, body: null };
      }),
    ],
    [
      'DELETE',
      '/domain/zone/{zoneName}/record/{id}',
      // resource_domain_zone_record.go: Delete sends this (a 404 counts as gone), then refreshes.
      withZone((records, r) => {
        if (!records.delete(Number(r.params.id))) return notFound(`id = ${r.params.id}`);
        zones.changed(r.params.zoneName);
        return { status: 200, body: null };
      }),
    ],
    [
      'GET',
      '/domain/zone/{zoneName}/soa',
      // The zone's default TTL is what a record of TTL 0 gets.
      withZone((_, r) => ({ status: 200, body: { email: `hostmaster.${r.params.zoneName}`, expire: 604800, nxDomainTtl: 86400, refresh: 86400, serial: 2026112201, server: 'dns100.ovh.net.', ttl: zones.defaultTtl } })),
    ],
    [
      'POST',
      '/domain/zone/{zoneName}/refresh',
      // resource_domain_zone_record.go: sent after each create, update and delete, with no body;
      // an error (a 403 for a credential without this route, say) is logged and ignored. A key
      // without the access rule is answered 403 NOT_GRANTED_CALL, "This call has not been
      // granted" (python-ovh ovh/client.py maps that errorCode to NotGrantedCall). A hook set by
      // the test publishes the records before the answer, as OVH's refresh applies the zone.
      async (r) => {
        const records = zones.get(r.params.zoneName);
        if (!records) return notFound(`zoneName = ${r.params.zoneName}`);
        if (!zones.refreshGranted) return authError({ status: 403, message: DEFAULT_MESSAGES[403], errorCode: 'NOT_GRANTED_CALL' });
        if (zones.refreshHook) await zones.refreshHook(r.params.zoneName, [...records.values()].map((rec) => ({ ...rec })));
        zones.refreshes.push(r.params.zoneName);
        zones.state(r.params.zoneName).deployed = true;
        return { status: 200, body: null };
      },
    ],
    [
      'GET',
      '/domain/zone',
      // domain.json: the zone names of the account (string[]); iamTags, a filter, is not modelled.
      () => ({ status: 200, body: zones.names() }),
    ],
    [
      'GET',
      '/domain/zone/{zoneName}',
      // domain.ZoneWithIAM: nameServers is "Name servers that host the DNS zone".
      withZone((_, r) => {
        const state = zones.state(r.params.zoneName);
        return {
          status: 200,
          body: {
            name: r.params.zoneName,
            nameServers: [...state.nameServers],
            dnssecSupported: true,
            hasDnsAnycast: false,
            lastUpdate: ovhDate(state.lastUpdate),
            iam: { id: state.iamId, urn: `urn:v1:eu:resource:dnsZone:${r.params.zoneName}`, displayName: null, tags: null },
          },
        };
      }),
    ],
    [
      'GET',
      '/domain/zone/{zoneName}/status',
      // domain.zone.Status: deployed unless a record changed since the last refresh.
      withZone((_, r) => ({ status: 200, body: { isDeployed: zones.state(r.params.zoneName).deployed, errors: [], warnings: [] } })),
    ],
  ];
}

// ---------------------------------------------------------------------------------------
// HTTP server
// ---------------------------------------------------------------------------------------

const execFileAsync = promisify(execFile);

async function makeCertificate(dir: string, address: string, dnsNames: string[]): Promise<{ key: string; cert: string; certFile: string }> {
  const keyFile = path.join(dir, 'key.pem');
  const certFile = path.join(dir, 'cert.pem');
  await execFileAsync('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes',
    '-subj', '/CN=localhost',
    '-addext', `subjectAltName=${[`IP:${address}`, 'DNS:localhost', ...dnsNames.map((n) => `DNS:${n}`)].join(',')}`,
    '-days', '2',
    '-keyout', keyFile,
    '-out', certFile,
  ]);
  return { key: fs.readFileSync(keyFile, 'utf8'), cert: fs.readFileSync(certFile, 'utf8'), certFile };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, reply: StandInReply): void {
  const payload = reply.body === undefined ? 'null' : JSON.stringify(reply.body);
  res.writeHead(reply.status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(payload),
    'X-Ovh-QueryID': `EU.stand-in.${crypto.randomBytes(6).toString('hex')}`,
    ...reply.headers,
  });
  res.end(payload);
}

interface PendingFault {
  method: string;
  route: string;
  status: number;
  remaining: number;
  message?: string;
}

interface Crash {
  method: string;
  route: string;
}

/** Everything one running stand-in knows; `decide` turns a request into a reply. */
class StandInCore {
  readonly requests: RecordedRequest[] = [];
  readonly violations: string[] = [];
  readonly world = new DedicatedServers();
  readonly cloud = new CloudProjects();
  readonly ips = new IpBlocks((fn) => this.world.outcomeOf(fn));
  readonly vracks = new Vracks((fn) => this.world.outcomeOf(fn));
  readonly dns = new DnsZones();
  readonly handlers = new Map<string, StandInHandler>();
  readonly faults: PendingFault[] = [];
  crash: Crash | null = null;
  delay = 0;
  /** The API is down: every request, checked as usual, is answered 503 and changes nothing. */
  down = false;

  constructor(
    readonly catalog: Catalog,
    readonly keys: StandInCredentials,
    public reverseRule: ReverseResolution = 'always',
  ) {
    // go-ovh (ovh/ovh.go, getTimeDelta) asks GET /auth/time, unsigned, once per client before
    // its first signed call, and signs with the server's time.
    this.handle('GET', '/auth/time', () => ({ status: 200, body: nowSeconds() }));
    // terraform-provider-ovh ovh/config.go, loadAndValidate: configuring the provider reads
    // GET /auth/details once (SDK and framework halves each configure) and keeps its account.
    this.handle('GET', '/auth/details', () => ({ status: 200, body: authDetails() }));
    const answersRegion = () => this.catalog.find('/vrack/{serviceName}/ip/{ip}')?.models('vrack.ip')?.properties?.region !== undefined;
    const routes = [
      ...dedicatedServerRoutes(this.world, this.ips, this.vracks),
      ...cloudRoutes(this.cloud),
      ...ipRoutes(this.ips, this.world, (name, address) => this.resolves(name, address)),
      ...vrackRoutes(this.vracks, this.ips, this.world, answersRegion),
      ...dnsRoutes(this.dns),
    ];
    for (const [method, route, handler] of routes) this.handle(method, route, handler);
  }

  resolves(name: string, address: string): boolean {
    const rule = this.reverseRule;
    if (rule === 'always') return true;
    if (rule === 'zones') return this.dns.resolves(name, address);
    return rule(name, address);
  }

  /** Throws when the route/method is not in the schemas (catches typos in tests). */
  operation(method: string, route: string): SchemaOperation {
    const op = this.catalog.find(route)?.operations.get(method.toUpperCase());
    if (!op) throw new Error(`ovhStandIn: ${method} ${route} is not in the OVH API schemas`);
    return op;
  }

  handle(method: string, route: string, handler: StandInHandler): void {
    this.operation(method, route);
    this.handlers.set(`${method.toUpperCase()} ${route}`, handler);
  }

  violation(reply: StandInReply, text: string): StandInReply {
    this.violations.push(text);
    return reply;
  }

  takeFault(method: string, route: string): StandInReply | null {
    const fault = this.faults.find((f) => f.method === method && f.route === route && f.remaining > 0);
    if (!fault) return null;
    fault.remaining--;
    return ovhError(fault.status, fault.message ?? DEFAULT_MESSAGES[fault.status] ?? `Error ${fault.status}`);
  }

  takeCrash(method: string, route: string): boolean {
    if (this.crash?.method !== method || this.crash.route !== route) return false;
    this.crash = null;
    return true;
  }

  async decide(req: IncomingMessage, rawBody: string, record: RecordedRequest): Promise<StandInReply & { drop?: boolean }> {
    const method = record.method;
    const fullPath = new URL(req.url ?? '/', 'https://127.0.0.1').pathname;
    const label = `${method} ${fullPath}`;
    if (!fullPath.startsWith('/1.0/')) return this.violation(notFound(fullPath), `${label}: not under /1.0`);

    const match = matchRoute(this.catalog, record.path);
    if (!match) return this.violation(notFound(record.path), `${label}: no such route in the OVH API schemas`);
    const { entry, params } = match;
    record.route = entry.template;
    record.params = params;
    const op = entry.operations.get(method);
    if (!op) return this.violation(notFound(record.path), `${method} ${entry.template}: no such method in the OVH API schemas`);

    if (!op.noAuthentication) {
      const problem = authProblem(req, rawBody, this.keys);
      if (problem) return this.violation(authError(problem), `${method} ${entry.template}: ${problem.message}`);
    }

    if (rawBody.trim() !== '') {
      try {
        record.body = JSON.parse(rawBody) as unknown;
      } catch {
        return this.violation(ovhError(400, 'Invalid JSON body'), `${method} ${entry.template}: body is not JSON`);
      }
    }

    const problems = checkRequest(op, entry, params, record.query, record.body);
    if (problems.length > 0) {
      this.violations.push(...problems.map((p) => `${method} ${entry.template}: ${p}`));
      return ovhError(400, problems.join('; '));
    }

    if (this.down) return ovhError(503, DEFAULT_MESSAGES[503]);
    const fault = this.takeFault(method, entry.template);
    if (fault) return fault;

    const reply = await this.run(method, entry, op, record);
    return this.takeCrash(method, entry.template) ? { ...reply, drop: true } : reply;
  }

  async run(method: string, entry: RouteEntry, op: SchemaOperation, record: RecordedRequest): Promise<StandInReply> {
    const handler = this.handlers.get(`${method} ${entry.template}`);
    if (!handler) {
      return ovhError(501, `The OVH stand-in does not implement ${method} ${entry.template} (use standIn.handle)`);
    }
    const { path: reqPath, params, query, body } = record;
    const request: StandInRequest = { method, path: reqPath, route: entry.template, params, query, body };
    let reply: StandInReply;
    try {
      reply = await handler(request);
    } catch (error) {
      return this.violation(ovhError(500, 'Stand-in handler failed'), `stand-in bug in ${method} ${entry.template}: ${String(error)}`);
    }
    if (reply.status >= 200 && reply.status < 300 && op.responseType && op.responseType !== 'void') {
      const ctx: CheckContext = { models: entry.models, mode: 'output', bindings: new Map() };
      const problems = checkValue(reply.body, op.responseType, 'response', ctx);
      this.violations.push(...problems.map((p) => `stand-in answer to ${method} ${entry.template} breaks the schema: ${p}`));
    }
    return reply;
  }
}

/** The account every stand-in credential belongs to (auth.Details.account). */
export const STAND_IN_ACCOUNT = 'xx1111-ovh';

/**
 * auth.Details of an application key credential: method account, the account as identity, and
 * the rules of a credential granted every call (the stand-in does not restrict any).
 */
function authDetails(): Record<string, unknown> {
  return {
    account: STAND_IN_ACCOUNT,
    allowedRoutes: ['GET', 'POST', 'PUT', 'DELETE'].map((method) => ({ method, path: '/*' })),
    description: null,
    identities: [`urn:v1:eu:identity:account:${STAND_IN_ACCOUNT}`],
    method: 'account',
    roles: null,
    user: null,
  };
}

function sleep(ms: number, timers: Set<NodeJS.Timeout>): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      resolve();
    }, ms);
    timers.add(timer);
  });
}

function newRecord(req: IncomingMessage): RecordedRequest {
  const url = new URL(req.url ?? '/', 'https://127.0.0.1');
  return {
    method: (req.method ?? 'GET').toUpperCase(),
    path: url.pathname.replace(/^\/1\.0(?=\/)/, ''),
    query: Object.fromEntries(url.searchParams),
    params: {},
    body: undefined,
    route: null,
    status: 0,
    dropped: false,
    at: performance.timeOrigin + performance.now(),
  };
}

export async function startOvhStandIn(opts: StandInOptions = {}): Promise<OvhStandIn> {
  const keys: StandInCredentials = {
    applicationKey: opts.applicationKey ?? 'test-ak',
    applicationSecret: opts.applicationSecret ?? 'test-as',
    consumerKey: opts.consumerKey ?? 'test-ck',
  };
  const core = new StandInCore(loadCatalog(schemaDir()), keys, opts.reverseResolves);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ovh-stand-in-'));
  const host = opts.listen?.host ?? '127.0.0.1';
  const { key, cert, certFile } = await makeCertificate(dir, host, opts.dnsNames ?? []);
  const timers = new Set<NodeJS.Timeout>();

  const onRequest = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const rawBody = await readBody(req);
    const record = newRecord(req);
    core.requests.push(record);
    if (core.delay > 0) await sleep(core.delay, timers);
    const reply = await core.decide(req, rawBody, record);
    record.status = reply.status;
    if (reply.drop) {
      record.dropped = true;
      req.socket.destroy();
      return;
    }
    send(res, reply);
  };

  const server = https.createServer({ key, cert }, (req, res) => {
    onRequest(req, res).catch((error: unknown) => {
      core.violations.push(`stand-in failure: ${String(error)}`);
      if (!res.headersSent) send(res, ovhError(500, 'Stand-in failure'));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.listen?.port ?? 0, host, () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('ovhStandIn: no TCP address');

  return {
    url: `https://${host}:${address.port}/1.0`,
    port: address.port,
    caPem: cert,
    caFile: certFile,
    ...keys,
    requests: core.requests,
    violations: core.violations,
    async close() {
      for (const timer of timers) clearTimeout(timer);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      fs.rmSync(dir, { recursive: true, force: true });
    },
    addServer: (serviceName, serverOpts) => core.world.add(serviceName, serverOpts),
    setServerIpv6: (serviceName, ipv6) => core.world.setIpv6(serviceName, ipv6),
    seedVirtualMac: (serviceName, mac, type, addresses) => core.world.seed(serviceName, mac, type, addresses),
    virtualMacs: (serviceName) => core.world.snapshot(serviceName),
    tasks: (serviceName) => core.world.taskList(serviceName),
    failNext(fault) {
      const method = fault.method.toUpperCase();
      core.operation(method, fault.route);
      core.faults.push({ method, route: fault.route, status: fault.status, remaining: fault.count ?? 1, message: fault.message });
    },
    setDown(down) {
      core.down = down;
    },
    taskOutcome: (fn, outcome, outcomeOpts) => core.world.setOutcome(fn, outcome, outcomeOpts),
    delayMs(ms) {
      core.delay = ms;
    },
    crashAfterCreate(crashOpts = {}) {
      const method = (crashOpts.method ?? 'POST').toUpperCase();
      const route = crashOpts.route ?? `${SERVER}/virtualMac`;
      core.operation(method, route);
      core.crash = { method, route };
    },
    handle: (method, route, handler) => core.handle(method, route, handler),
    addCloudProject: (serviceName, seed) => core.cloud.add(serviceName, seed),
    cloudFailoverIps: (serviceName) => core.cloud.snapshot(serviceName),
    attachOutcome: (outcome, attachOpts) => core.cloud.setAttachOutcome(outcome, attachOpts),
    refuseAttach(message = 'The instance is not in the same region', count = 1) {
      core.faults.push({ method: 'POST', route: `${FAILOVER}/attach`, status: 400, remaining: count, message });
    },
    addIp: (block, seed) => core.ips.add(block, seed),
    ipRoutedTo: (block) => core.ips.mustGet(block).routedTo,
    setReverse: (block, ipReverse, reverse) => void core.ips.mustGet(block).reverses.set(ipReverse, reverse),
    reverses: (block) => Object.fromEntries(core.ips.mustGet(block).reverses),
    reverseResolves(rule) {
      core.reverseRule = rule;
    },
    addZone: (zone) => core.dns.add(zone),
    addRecord: (zone, record) => core.dns.addRecord(zone, record),
    zoneRecords(zone) {
      const records = core.dns.get(zone);
      if (!records) throw new Error(`ovhStandIn: unknown zone ${zone} (call addZone first)`);
      return [...records.values()].map((rec) => ({ ...rec }));
    },
    zoneRefreshes: () => [...core.dns.refreshes],
    setZoneNameServers(zone, nameServers) {
      core.dns.state(zone).nameServers = [...nameServers];
    },
    zoneRefreshGranted(granted) {
      core.dns.refreshGranted = granted;
    },
    refuseZoneRefreshes(count = 1, status = 409) {
      if (status < 400 || status >= 500) throw new Error(`ovhStandIn: a refused refresh is a 4xx, not ${status}`);
      const message = 'You cannot schedule more than one refresh at a time';
      for (const f of core.faults) if (f.route === '/domain/zone/{zoneName}/refresh' && f.message === message) f.remaining = 0;
      core.faults.push({ method: 'POST', route: '/domain/zone/{zoneName}/refresh', status, remaining: count, message });
    },
    onZoneRefresh(hook) {
      core.dns.refreshHook = hook;
    },
    ipTasks: (block) => [...core.ips.mustGet(block).tasks.values()].map((t) => taskBody(t.task)),
    addVrack(serviceName, seed) {
      for (const server of seed?.servers ?? []) core.world.mustGet(server);
      core.vracks.add(serviceName, seed);
      for (const block of seed?.ips ?? []) {
        const state = core.ips.mustGet(block);
        const region = state.regions?.[0] ?? 'eu-west-gra';
        state.vrack = serviceName;
        state.routedTo = serviceName;
        core.vracks.mustGet(serviceName).ips.set(state.block, { ip: state.block, gateway: vrackGateway(state.block), zone: zoneOf(region), region });
      }
    },
    vrackIps: (serviceName) => [...core.vracks.mustGet(serviceName).ips.values()].map((ip) => ({ ...ip })),
    vrackTasks: (serviceName) => [...core.vracks.mustGet(serviceName).tasks.values()].map((t) => ({ ...t.task })),
    ipVrack: (block) => core.ips.mustGet(block).vrack,
    vrackSchema: core.catalog.vrackSchema,
  };
}

/** The environment a command of bin/ reads the OVH API from, pointed at this stand-in (its certificate trusted). */
export function standInClientEnv(standIn: Pick<OvhStandIn, 'caFile' | 'url' | 'applicationKey' | 'applicationSecret' | 'consumerKey'>): Record<string, string> {
  return {
    NODE_EXTRA_CA_CERTS: standIn.caFile,
    OVH_ENDPOINT: standIn.url,
    OVH_APPLICATION_KEY: standIn.applicationKey,
    OVH_APPLICATION_SECRET: standIn.applicationSecret,
    OVH_CONSUMER_KEY: standIn.consumerKey,
  };
}
