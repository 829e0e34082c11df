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
 *   and so are DNS zones (records created, updated, deleted; refreshes counted).
 * - Every call terraform-provider-ovh v2.19 makes for ovh_ip_move, ovh_ip_reverse,
 *   ovh_domain_zone_record, ovh_cloud_project_failover_ip_attach and the data source
 *   ovh_dedicated_server_specifications_network is answered; the upstream facts are noted
 *   beside the routes that model them.
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
  /** cloud.ip.FailoverIp: its id, its address, and the id of the instance it is routed to. */
  failoverIps?: Array<{ id: string; ip: string; routedTo: string }>;
}

/** cloud.ip.FailoverIp as the stand-in answers it. */
export interface CloudFailoverIp {
  id: string;
  ip: string;
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
  /** A record of a zone; returns its id. */
  addRecord(zone: string, record: ZoneRecordSeed): number;
  /** The records of a zone now (domain.zone.Record), by id. */
  zoneRecords(zone: string): ZoneRecord[];
  /** The zones refreshed so far, one entry per successful POST /domain/zone/{zoneName}/refresh. */
  zoneRefreshes(): string[];
  ipTasks(block: string): IpTask[];
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

function loadCatalog(dir: string): Catalog {
  if (cachedCatalog?.dir === dir) return cachedCatalog.catalog;
  const files = fs.readdirSync(dir).filter((name) => name.endsWith('.json')).sort();
  if (files.length === 0) throw new Error(`ovhStandIn: no OVH API schemas (*.json) in ${dir}`);
  const schemas = files.map((name) => {
    const parsed: unknown = JSON.parse(fs.readFileSync(path.join(dir, name), 'utf8'));
    if (!isSchemaFile(parsed)) throw new Error(`ovhStandIn: ${name} is not an OVH API schema`);
    return parsed;
  });
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
  const catalog: Catalog = { byLength, find: (template) => byTemplate.get(template) };
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

interface TaskState<T extends TaskCore = DedicatedServerTask> {
  task: T;
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
    vmac: { supported: true },
    vrack: { bandwidth: mbps(1000), type: 'included' },
  };
}

const ALREADY_ASSOCIATED = 'This IP address is already associated with a virtual MAC';
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

function dedicatedServerRoutes(world: DedicatedServers): RouteTable {
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

  const addVirtualMac = (server: ServerState, ip: string, vmName: string, toMac: () => [string, VirtualMacState]) => {
    if (world.macOfIp(server, ip)) return ovhError(400, ALREADY_ASSOCIATED);
    const task = world.createTask(server, 'addVirtualMac', () => {
      if (world.macOfIp(server, ip)) return ALREADY_ASSOCIATED;
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
    ['GET', `${SERVER}/virtualMac`, withServer((s) => ({ status: 200, body: [...s.vmacs.keys()] }))],
    [
      'POST',
      `${SERVER}/virtualMac`,
      withServer((s, r) => {
        const type = stringField(r.body, 'type');
        const newVmac = (): [string, VirtualMacState] => [world.newMac(), { type, addresses: new Map() }];
        return addVirtualMac(s, stringField(r.body, 'ipAddress'), stringField(r.body, 'virtualMachineName'), newVmac);
      }),
    ],
    ['GET', VMAC, withVmac((_s, mac, v) => ({ status: 200, body: { macAddress: mac, type: v.type } }))],
    ['GET', `${VMAC}/virtualAddress`, withVmac((_s, _m, v) => ({ status: 200, body: [...v.addresses.keys()] }))],
    [
      'POST',
      `${VMAC}/virtualAddress`,
      withVmac((s, mac, v, r) =>
        addVirtualMac(s, stringField(r.body, 'ipAddress'), stringField(r.body, 'virtualMachineName'), () => [
          mac,
          s.vmacs.get(mac) ?? v,
        ]),
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
      if (!IPV4.test(f.ip)) throw new Error(`ovhStandIn: failover IP ${f.ip} is not IPv4`);
      if (failoverIps.has(f.id)) throw new Error(`ovhStandIn: failover IP id ${f.id} is there twice`);
      failoverIps.set(f.id, {
        // block is typed "ip" in cloud.ip.FailoverIp, so it holds the address, not a CIDR.
        ip: { id: f.id, ip: f.ip, block: f.ip, continentCode: 'EU', geoloc: 'fr', progress: 0, routedTo: f.routedTo, status: 'ok', subType: 'cloud' },
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
    this.blocks.set(key, { block: key, type: opts.type ?? 'failover', routedTo: opts.routedTo, tasks: new Map(), reverses: new Map() });
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
  createMove(state: IpBlockState, to: string | null): IpTask {
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
    description: null,
    canBeTerminated: true,
    isAdditionalIp: true,
    bringYourOwnIp: false,
    country: null,
    campus: null,
    organisationId: null,
    regions: null,
    rir: 'RIPE',
  };
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

  return [
    ['GET', '/ip/{ip}', withBlock((state) => ({ status: 200, body: ipBody(state) }))],
    // terraform-provider-ovh ovh/resource_ip_move.go: Create and Update read GET /ip/{ip} and
    // move only when routedTo differs (the id becomes the task's id); they wait on GET
    // /ip/{ip}/task/{taskId}, 10 s between reads, until done or in error (5 minutes at most;
    // after that it reports success, with no error, whatever the task's state: waitForTaskFinished),
    // then read GET /ip/{ip} again. An import's id is the IP, then one GET /ip/{ip}.
    [
      'POST',
      '/ip/{ip}/move',
      withBlock((state, r) => {
        const to = stringField(r.body, 'to');
        if (!servers.get(to)) return ovhError(400, `${to} is not a valid destination for ${state.block}`);
        if (state.routedTo === to) return ovhError(400, `${state.block} is already routed to ${to}`);
        if (blocks.pendingMove(state)) return ovhError(409, MOVE_PENDING);
        return { status: 200, body: blocks.createMove(state, to) };
      }),
    ],
    [
      'POST',
      '/ip/{ip}/park',
      // terraform-provider-ovh ovh/resource_ip_move.go: Delete parks the IP (POST /ip/{ip}/park,
      // no body) unless it is parked already, then waits on the task like a move. ip.json names
      // no task function for parking: the stand-in uses the move's, genericMoveFloatingIp, with
      // no destination service; once done the IP is routed nowhere.
      withBlock((state) => {
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

class DnsZones {
  private readonly zones = new Map<string, Map<number, ZoneRecord>>();
  private nextId = 5_000_000_001;
  readonly refreshes: string[] = [];
  /** The SOA's TTL: a zone's default. */
  defaultTtl = 3600;

  add(zone: string): void {
    if (!this.zones.has(zone)) this.zones.set(zone, new Map());
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
        const id = zones.addRecord(r.params.zoneName, {
          fieldType: stringField(body, 'fieldType'),
          subDomain: stringField(body, 'subDomain'),
          target: stringField(body, 'target'),
          ttl: typeof body.ttl === 'number' ? body.ttl : 0,
        });
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
        if (typeof body.target === 'string') rec.target = body.target;
        if ('ttl' in body) rec.ttl = typeof body.ttl === 'number' ? body.ttl : 0;
        return { status: 200, body: null };
      }),
    ],
    [
      'DELETE',
      '/domain/zone/{zoneName}/record/{id}',
      // resource_domain_zone_record.go: Delete sends this (a 404 counts as gone), then refreshes.
      withZone((records, r) => {
        if (!records.delete(Number(r.params.id))) return notFound(`id = ${r.params.id}`);
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
      // an error (a 403 for a credential without this route, say) is logged and ignored.
      withZone((_, r) => {
        zones.refreshes.push(r.params.zoneName);
        return { status: 200, body: null };
      }),
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
    const routes = [...dedicatedServerRoutes(this.world), ...cloudRoutes(this.cloud), ...ipRoutes(this.ips, this.world, (name, address) => this.resolves(name, address)), ...dnsRoutes(this.dns)];
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
    ipTasks: (block) => [...core.ips.mustGet(block).tasks.values()].map((t) => taskBody(t.task)),
  };
}
