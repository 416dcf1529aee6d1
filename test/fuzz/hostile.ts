/**
 * The hostile-input fuzzer: sends generated requests (generators.ts) to a running control plane
 * over REST and the typed gRPC API, and checks that nothing a client sends breaks the server for
 * anyone else. Shared by the in-suite test (test/fuzz/hostile-input.test.ts) and `make fuzz`
 * (scripts/fuzz.ts), which differ only in counts, sizes and what they print.
 *
 * Per request: a success (2xx) about the object the request addressed, or a 4xx whose body is a
 * Kubernetes Status (kind Status, apiVersion v1, status Failure, code = the HTTP status; over
 * gRPC, the Status in the status details, or a transport code the project's client maps to a
 * 4xx); never a 5xx, no answer within the deadline, or a connection closed without an answer.
 * After the run: every process still runs; the protected objects (fuzz namespaces, system
 * namespaces, sentinels) are unchanged; lists with label and field selectors over every
 * resource answer 200; and the watches that ran throughout (configmaps of all namespaces, and
 * namespaces and nodes, each from a resourceVersion) saw strictly increasing resourceVersions,
 * no ERROR but 410 (after which they relisted), and end up with what a final list holds.
 *
 * Requests come from fast-check arbitraries sampled with a fixed seed, in chunks (so a long run
 * never holds all its bodies), and run with a fixed number in flight. They are not run as one
 * fast-check property: a server's state changes with every request, so shrinking a failing
 * request against it would not replay, and a report of every kind of failure says more than
 * the first one alone.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Agent, request as httpsRequest, type RequestOptions } from 'node:https';
import type { IncomingHttpHeaders } from 'node:http';
import type { Duplex } from 'node:stream';
import * as grpc from '@grpc/grpc-js';
import fc from 'fast-check';
import { parse as parseYaml } from 'yaml';
import { KubeProtobufDecoder } from '../../services/gateway/rest/protobuf.ts';
import { decodeStatusDetails, fromGrpcError } from '../../lib/grpc-status.ts';
import { SERVICE_NAMES, type ControlPlane, type ServiceName } from '../../lib/local/control-plane.ts';
import { rssBytes, type ManagedProcess } from '../../lib/local/process.ts';
import { loadApiProto } from '../../lib/proto.ts';
import type { ResourcesClient } from '../../lib/gen/apiserver/v1/Resources.ts';
import {
  ADMIN_TOKEN,
  bigCases,
  FUZZ_NAMESPACES,
  grpcRequest,
  KIND_OF,
  restRequest,
  SENTINEL,
  SENTINEL_NODE,
  type Addressed,
  type BigSizes,
  type Body,
  type FuzzRequest,
  type GrpcFuzzRequest,
  type RestFuzzRequest,
} from './generators.ts';

export interface FuzzTarget {
  plane: ControlPlane;
  /** The plane's data directory: pki/ca.crt and tokens.csv. */
  dataDir: string;
  /** Where the processes write their logs: error lines are reported, matched to failures. */
  logDir?: string | undefined;
}

export interface FuzzOptions {
  seed: number;
  /** Generated REST requests (the big cases come on top). */
  restRuns: number;
  /** Generated gRPC calls (the big cases come on top). */
  grpcRuns: number;
  /** Requests in flight. */
  concurrency: number;
  /** The longest wait for an answer (for a watch: its headers) before a request counts as hung. */
  deadlineMs: number;
  /** Sizes of the big cases. */
  big: BigSizes;
  /** One big case every this many requests, round robin; by default each once, spread over the run. */
  bigEvery?: number | undefined;
  /** Progress lines, about every tenth of the run. */
  log?: ((line: string) => void) | undefined;
  /** Run with no request in flight once `after` requests have been sent (heap snapshots). */
  pauses?: { after: number; run: () => Promise<void> }[] | undefined;
  /** How often the gateway's VmRSS is read (default 250 ms). */
  memorySampleMs?: number | undefined;
}

/** One request that broke a rule. */
export interface Violation {
  /** Which rule: "5xx", "hang", "4xx without a Status body", ... */
  rule: string;
  /** The request's coarse kind (generators' category). */
  category: string;
  /** What came back. */
  detail: string;
  /** The request, for replaying it by hand. */
  request: string;
  startedAt: number;
  endedAt: number;
  /** Service log lines written while it ran (filled in at the end). */
  logLines?: string[];
}

export interface FuzzReport {
  seed: number;
  sent: { rest: number; grpc: number };
  durationMs: number;
  /** REST answers by HTTP status (or hang / no answer / not sent). */
  restStatuses: Record<string, number>;
  /** gRPC answers by code (and whether a Status rode in the details). */
  grpcCodes: Record<string, number>;
  violations: Violation[];
  /** Checks after the run that failed: processes, protected objects, lists, watches. */
  failures: string[];
  /** Changes to protected objects seen by the watches, with the requests that may have made them. */
  collateral: string[];
  watches: { path: string; events: number; relists: number; restarts: number }[];
  /** The gateway's VmRSS in bytes; `atCrashes`: its last reading before each crash of it. */
  memory: { before: number; peak: number; after: number; atCrashes: number[] };
  /** Error lines of the services' logs, by message, with counts. */
  serverErrors: { line: string; count: number }[];
}

export function passed(report: FuzzReport): boolean {
  return report.violations.length === 0 && report.failures.length === 0;
}

// ---------------------------------------------------------------------------------------------
// Connections

interface Connection {
  host: string;
  port: number;
  ca: string;
  token: string;
  agent: Agent;
  grpc: ResourcesClient;
}

async function connect(target: FuzzTarget, concurrency: number): Promise<Connection> {
  const [host = '127.0.0.1', port = '0'] = target.plane.addresses.https.split(':');
  const ca = await readFile(join(target.dataDir, 'pki', 'ca.crt'), 'utf8');
  const token = (await readFile(join(target.dataDir, 'tokens.csv'), 'utf8')).split(',')[0] ?? '';
  const Resources = loadApiProto().apiserver.v1.Resources;
  // No client-side limits: the server's are what is under test.
  const client = new Resources(target.plane.addresses.gateway, grpc.credentials.createInsecure(), {
    'grpc.max_send_message_length': -1,
    'grpc.max_receive_message_length': -1,
  });
  return { host, port: Number(port), ca, token, agent: new Agent({ keepAlive: true, maxSockets: concurrency * 2, ca }), grpc: client };
}

function closeConnection(c: Connection): void {
  c.agent.destroy();
  c.grpc.close();
}

// ---------------------------------------------------------------------------------------------
// REST

type RestAnswer =
  | { kind: 'answer'; status: number; headers: IncomingHttpHeaders; body: Buffer; stream: boolean }
  | { kind: 'hang' }
  | { kind: 'no-answer'; error: string }
  | { kind: 'cut-off'; status: number; error: string }
  | { kind: 'not-sent'; error: string };

/** How long a streamed answer (a watch) is read before the client leaves. */
const STREAM_READ_MS = 250;

/**
 * One REST request, answered within `deadlineMs` or reported as a hang. Exported for the
 * fuzzer's own tests.
 */
export function restCall(
  c: Pick<Connection, 'host' | 'port' | 'ca' | 'agent'>,
  r: { method: string; path: string; headers: Record<string, string>; body?: Buffer | undefined; chunked?: boolean | undefined },
  deadlineMs: number,
): Promise<RestAnswer> {
  return new Promise((resolve) => {
    let settled = false;
    let req: ReturnType<typeof httpsRequest> | undefined;
    /** The socket of an answered CONNECT, no longer the request's. */
    let tunnel: Duplex | undefined;
    const timer = setTimeout(() => {
      done({ kind: 'hang' });
      req?.destroy();
      tunnel?.destroy();
    }, deadlineMs);
    const done = (a: RestAnswer): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(a);
    };
    const headers = { ...r.headers };
    // Chunked said outright: Node frames a DELETE's body only when told to.
    if (r.body !== undefined) {
      if (r.chunked === true) headers['transfer-encoding'] = 'chunked';
      else headers['content-length'] = String(r.body.length);
    }
    const options: RequestOptions = { host: c.host, port: c.port, ca: c.ca, agent: c.agent, method: r.method, path: r.path, headers };
    try {
      req = httpsRequest(options);
    } catch (err) {
      done({ kind: 'not-sent', error: (err as NodeJS.ErrnoException).code ?? String(err) });
      return;
    }
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      const stream = res.statusCode === 200 && res.headers['content-length'] === undefined && r.method !== 'HEAD';
      const finish = (): void => done({ kind: 'answer', status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), stream });
      if (stream) {
        // A watch: its headers came in time; read what it sends at once, then leave.
        setTimeout(() => {
          finish();
          req.destroy();
        }, STREAM_READ_MS);
      }
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', finish);
      res.on('error', (err) => done({ kind: 'cut-off', status: res.statusCode ?? 0, error: (err as NodeJS.ErrnoException).code ?? err.message }));
    });
    // Node hands over the answer to a CONNECT, whatever its status, with the socket: the
    // bytes after its headers are `head` and whatever follows on the socket. The body is read
    // to its Content-Length, or until the server closes the connection.
    req.on('connect', (res, socket, head) => {
      const chunks: Buffer[] = [head];
      let size = head.length;
      const length = Number(res.headers['content-length'] ?? Number.NaN);
      const finish = (): void => {
        const body = Buffer.concat(chunks, size);
        done({ kind: 'answer', status: res.statusCode ?? 0, headers: res.headers, body: Number.isInteger(length) ? body.subarray(0, length) : body, stream: false });
        socket.destroy();
      };
      if (size >= length) {
        finish();
        return;
      }
      tunnel = socket;
      socket.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        size += chunk.length;
        if (size >= length) finish();
      });
      socket.once('end', finish);
      socket.once('close', finish);
      socket.once('error', finish);
    });
    req.on('error', (err) => done({ kind: 'no-answer', error: (err as NodeJS.ErrnoException).code ?? err.message }));
    if (r.body === undefined) {
      req.end();
    } else if (r.chunked === true) {
      const slice = 256 * 1024;
      for (let i = 0; i < r.body.length; i += slice) req.write(r.body.subarray(i, i + slice));
      req.end();
    } else {
      req.end(r.body);
    }
  });
}

function authHeaders(c: Connection, headers: Record<string, string>): Record<string, string> {
  const out = { ...headers };
  if (out.authorization !== undefined) out.authorization = out.authorization.replace(ADMIN_TOKEN, c.token);
  return out;
}

async function adminJson(c: Connection, method: string, path: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const headers: Record<string, string> = { authorization: `Bearer ${c.token}`, accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const a = await restCall(c, { method, path, headers, body: body === undefined ? undefined : Buffer.from(JSON.stringify(body)) }, 30_000);
  if (a.kind !== 'answer') throw new Error(`${method} ${path}: ${a.kind}`);
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(a.body.toString()) as Record<string, unknown>;
  } catch {
    // Reported by the caller through the status.
  }
  return { status: a.status, json };
}

function parseJson(bytes: Buffer): unknown {
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch {
    return undefined;
  }
}

const PROTOBUF = 'application/vnd.kubernetes.protobuf';
/** Reads protobuf answers (kube's envelope) into the JSON objects they carry. */
const protobufAnswers = new KubeProtobufDecoder();

/** A protobuf answer's object (kind and apiVersion from its envelope), or undefined when it is not one. */
function parseProtobuf(bytes: Uint8Array): unknown {
  try {
    return protobufAnswers.decode(bytes);
  } catch {
    return undefined;
  }
}

/**
 * An answer's body as its Content-Type says: YAML (read as kube's clients read it, YAML 1.1),
 * Kubernetes protobuf, or JSON.
 */
function parseAnswer(bytes: Buffer, headers: IncomingHttpHeaders): unknown {
  if (headers['content-type'] === PROTOBUF) return parseProtobuf(bytes);
  if (headers['content-type'] !== 'application/yaml') return parseJson(bytes);
  try {
    return parseYaml(bytes.toString('utf8'), { schema: 'yaml-1.1' }) as unknown;
  } catch {
    return undefined;
  }
}

/**
 * The events of a watch stream as objects: JSON lines, or protobuf frames (a 4-byte length, a
 * metav1.WatchEvent: type (1) and object (2) whose raw (1) is the enveloped object). A last
 * line or frame cut off where the client left is not among them.
 */
function streamEvents(body: Buffer, headers: IncomingHttpHeaders): unknown[] {
  if (headers['content-type'] !== `${PROTOBUF};stream=watch`) return body.toString('utf8').split('\n').filter((l) => l.trim() !== '').map((l) => parseJson(Buffer.from(l)));
  const events: unknown[] = [];
  for (let at = 0; at + 4 <= body.length; ) {
    const end = at + 4 + body.readUInt32BE(at);
    if (end > body.length) break;
    const fields = delimitedFields(body.subarray(at + 4, end));
    const object = fields.get(2) === undefined ? undefined : delimitedFields(fields.get(2)!).get(1);
    events.push({ type: fields.get(1)?.toString('utf8'), object: object === undefined ? undefined : parseProtobuf(object) });
    at = end;
  }
  return events;
}

/** The length-delimited fields of a message whose fields all are (single-byte tags), by number. */
function delimitedFields(message: Buffer): Map<number, Buffer> {
  const fields = new Map<number, Buffer>();
  let at = 0;
  while (at < message.length) {
    const tag = message[at++]!;
    let length = 0;
    for (let shift = 0; at < message.length; shift += 7) {
      const b = message[at++]!;
      length += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) break;
    }
    if ((tag & 7) !== 2) break;
    fields.set(tag >> 3, message.subarray(at, at + length));
    at += length;
  }
  return fields;
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
const metaOf = (o: Record<string, unknown>): Record<string, unknown> => (isObject(o.metadata) ? o.metadata : {});

function clip(s: string, n = 200): string {
  return s.length > n ? `${s.slice(0, n)}…(${s.length})` : s;
}

/** A body that may be a Status, in protobuf (kube's magic first) or JSON. */
function parseBody(body: Buffer): unknown {
  return body.subarray(0, 4).toString('latin1') === 'k8s\x00' ? parseProtobuf(body) : parseJson(body);
}

/** What a Status body says, or the body itself, for a detail line. */
function answerText(status: number, body: Buffer): string {
  const json = parseBody(body);
  if (isObject(json) && json.kind === 'Status') return `${status} ${String(json.reason)}: ${clip(String(json.message), 160)}`;
  return `${status} ${clip(JSON.stringify(body.subarray(0, 200).toString('latin1')), 160)}`;
}

/** Why a success is not about the object the request addressed, or undefined if it is. */
function notAbout(method: string, target: Addressed, value: unknown): string | undefined {
  if (!isObject(value)) return 'the body is not a JSON object';
  if (value.kind === 'Table') return undefined;
  const kind = KIND_OF[target.resource];
  const meta = metaOf(value);
  const describe = (o: Record<string, unknown>) => `kind ${String(o.kind)} ${String(metaOf(o).namespace ?? '')}/${String(metaOf(o).name)}`;
  const namespaceOk = (o: Record<string, unknown>) => target.resource !== 'configmaps' || target.namespace === '' || metaOf(o).namespace === target.namespace;
  // A list, or a deletecollection (which answers the list of what it deleted).
  if ((method === 'GET' || method === 'DELETE') && target.name === '') {
    if (value.kind !== `${kind}List`) return `a list was asked for, the answer is ${describe(value)}`;
    const items = Array.isArray(value.items) ? value.items : [];
    const stray = items.find((i) => !isObject(i) || !namespaceOk(i));
    return stray === undefined ? undefined : `the list of namespace ${target.namespace} holds ${isObject(stray) ? describe(stray) : 'a non-object'}`;
  }
  if (method === 'DELETE' && value.kind === 'Status') {
    const details = isObject(value.details) ? value.details : {};
    if (details.kind !== target.resource || (target.name !== undefined && details.name !== target.name)) {
      return `deleted ${String(details.kind)} "${String(details.name)}" for ${target.resource} "${String(target.name)}"`;
    }
    return undefined;
  }
  if (value.kind !== kind) return `answered ${describe(value)} for ${target.resource} ${target.namespace}/${String(target.name)}`;
  if (method !== 'POST' && target.name !== undefined && target.name !== '' && meta.name !== target.name) return `answered ${describe(value)} for name "${clip(target.name, 60)}"`;
  if (!namespaceOk(value)) return `answered ${describe(value)} for namespace "${target.namespace}"`;
  return undefined;
}

/**
 * kube-apiserver's own 5xx for a read at a resourceVersion the server has not reached: after
 * waiting for it a moment, 504 Timeout "Too large resource version" (storage.NewTooLargeResourceVersionError).
 * The client asked for the future; nobody else is harmed.
 */
function tooLargeResourceVersion(code: number, reason: unknown, message: unknown): boolean {
  return code === 504 && reason === 'Timeout' && /^Timeout: Too large resource version/.test(String(message));
}

function tooLargeResourceVersionBody(status: number, body: Buffer): boolean {
  const json = parseBody(body);
  return isObject(json) && tooLargeResourceVersion(status, json.reason, json.message);
}

/** The rule a REST answer breaks, if any. */
function checkRest(r: RestFuzzRequest, a: RestAnswer, deadlineMs: number): { rule: string; detail: string } | undefined {
  switch (a.kind) {
    case 'not-sent':
      return undefined;
    case 'hang':
      return { rule: 'hang', detail: `no answer within ${deadlineMs} ms` };
    case 'no-answer':
      return { rule: 'connection closed without an answer', detail: a.error };
    case 'cut-off':
      return a.status >= 500 ? { rule: '5xx', detail: `${a.status} (cut off: ${a.error})` } : undefined;
    case 'answer':
      break;
  }
  const { status, body } = a;
  if (status >= 500 && !tooLargeResourceVersionBody(status, body)) return { rule: '5xx', detail: answerText(status, body) };
  if (status >= 400) {
    if (r.method === 'HEAD') return undefined;
    const json = parseAnswer(body, a.headers);
    if (isObject(json) && json.kind === 'Status' && json.apiVersion === 'v1' && json.status === 'Failure' && json.code === status) return undefined;
    if (body.length === 0 && a.headers['content-type'] === undefined) {
      return { rule: '4xx from the HTTP parser, without a Status body', detail: `${status} (no body)` };
    }
    return { rule: '4xx without a Status body', detail: answerText(status, body) };
  }
  if (status >= 200 && status < 300) {
    if (a.stream) {
      for (const event of streamEvents(body, a.headers)) {
        // The last line may be cut off where the client left.
        if (!isObject(event)) continue;
        const object = isObject(event.object) ? event.object : {};
        if (event.type === 'ERROR' && typeof object.code === 'number' && object.code >= 500) {
          return { rule: '5xx', detail: `watch ERROR ${String(object.code)} ${String(object.reason)}: ${clip(String(object.message), 160)}` };
        }
      }
      return undefined;
    }
    if (r.method === 'HEAD' || r.method === 'OPTIONS' || r.method === 'PATCH' || r.target === undefined) return undefined;
    const why = notAbout(r.method, r.target, parseAnswer(body, a.headers));
    return why === undefined ? undefined : { rule: 'success about another object', detail: why };
  }
  return { rule: 'unexpected status', detail: answerText(status, body) };
}

function describeBody(body: Body | undefined, bytes: Buffer | undefined): string {
  if (body === undefined || bytes === undefined) return '';
  return ` body [${body.label}] ${bytes.length} bytes: ${clip(JSON.stringify(bytes.subarray(0, 160).toString('latin1')), 180)}`;
}

function describeRest(r: RestFuzzRequest, bytes: Buffer | undefined): string {
  const h = Object.entries(r.headers)
    .filter(([k]) => k !== 'authorization')
    .map(([k, v]) => `${k}: ${clip(v, 60)}`);
  const auth = r.headers.authorization === undefined ? 'no token' : r.headers.authorization.includes(ADMIN_TOKEN) ? 'admin token' : `authorization: ${clip(r.headers.authorization, 40)}`;
  return `${r.method} ${clip(r.path, 300)} (${[auth, ...h].join('; ')})${r.chunked === true && bytes !== undefined ? ' chunked' : ''}${describeBody(r.body, bytes)}`;
}

// ---------------------------------------------------------------------------------------------
// gRPC

type UnaryFn = (request: unknown, metadata: grpc.Metadata, options: grpc.CallOptions, callback: (err: grpc.ServiceError | null, res?: unknown) => void) => grpc.ClientUnaryCall;
type StreamFn = (request: unknown, metadata: grpc.Metadata, options: grpc.CallOptions) => grpc.ClientReadableStream<unknown>;

export type GrpcAnswer =
  | { kind: 'ok'; response: unknown; events: unknown[] }
  | { kind: 'error'; error: grpc.ServiceError; events: unknown[] }
  | { kind: 'hang' };

const identity = (b: Buffer): Buffer => b;

/**
 * One typed gRPC call, answered within `deadlineMs` or reported as a hang. Exported for the
 * fuzzer's own tests.
 */
export function grpcCall(c: Pick<Connection, 'token' | 'grpc'>, r: GrpcFuzzRequest, message: Record<string, unknown> | Buffer, deadlineMs: number): Promise<GrpcAnswer> {
  const metadata = new grpc.Metadata();
  if (r.token !== undefined) metadata.set('authorization', `Bearer ${r.token === ADMIN_TOKEN ? c.token : r.token}`);
  const deadline = Date.now() + deadlineMs;
  const options: grpc.CallOptions = { deadline };
  // DEADLINE_EXCEEDED is the client's own when its deadline passed, but a server may answer it
  // too (kube's 504 Timeout, "Too large resource version", maps to it): that is an answer.
  // The client's timer may fire a hair before the clock reads the deadline.
  const isHang = (err: grpc.ServiceError): boolean => err.code === grpc.status.DEADLINE_EXCEEDED && Date.now() >= deadline - 50;
  const path = `/apiserver.v1.Resources/${r.method}`;
  return new Promise((resolve) => {
    let settled = false;
    const done = (a: GrpcAnswer): void => {
      if (settled) return;
      settled = true;
      resolve(a);
    };
    if (r.method !== 'Watch') {
      const callback = (err: grpc.ServiceError | null, res?: unknown) => {
        if (err !== null) done(isHang(err) ? { kind: 'hang' } : { kind: 'error', error: err, events: [] });
        else done({ kind: 'ok', response: res, events: [] });
      };
      if (Buffer.isBuffer(message)) c.grpc.makeUnaryRequest(path, identity, identity, message, metadata, options, callback);
      else (c.grpc[r.method] as unknown as UnaryFn).call(c.grpc, message, metadata, options, callback);
      return;
    }
    // A watch: its errors come at once; an open one is left after a moment.
    const events: unknown[] = [];
    const call = Buffer.isBuffer(message)
      ? c.grpc.makeServerStreamRequest(path, identity, identity, message, metadata, options)
      : (c.grpc.Watch as unknown as StreamFn).call(c.grpc, message, metadata, options);
    const timer = setTimeout(() => {
      done({ kind: 'ok', response: undefined, events });
      call.cancel();
    }, STREAM_READ_MS);
    call.on('data', (e: unknown) => events.push(e));
    call.on('error', (err: grpc.ServiceError) => {
      clearTimeout(timer);
      if (err.code === grpc.status.CANCELLED && settled) return;
      done(isHang(err) ? { kind: 'hang' } : { kind: 'error', error: err, events });
    });
    call.on('end', () => {
      clearTimeout(timer);
      done({ kind: 'ok', response: undefined, events });
    });
  });
}

/** An outcome that says the connection broke rather than what the server answered. */
function isTransportFailure(outcome: string): boolean {
  return outcome === 'no-answer' || outcome === 'hang' || outcome.endsWith('cut off') || /^(UNAVAILABLE|CANCELLED|INTERNAL \(stream reset\))/.test(outcome);
}

const CODE_NAMES = new Map(Object.entries(grpc.status).map(([name, code]) => [code as number, name]));

function grpcOutcome(a: GrpcAnswer): string {
  if (a.kind === 'hang') return 'hang';
  if (a.kind === 'ok') return 'OK';
  const hasStatus = a.error.metadata?.get('grpc-status-details-bin').length > 0;
  // The client's own words for a connection the server reset.
  if (a.error.code === grpc.status.INTERNAL && /RST_STREAM/.test(a.error.details)) return 'INTERNAL (stream reset)';
  return `${CODE_NAMES.get(a.error.code) ?? a.error.code}${hasStatus ? '' : ' (no Status)'}`;
}

function checkGrpc(r: GrpcFuzzRequest, a: GrpcAnswer, deadlineMs: number): { rule: string; detail: string } | undefined {
  if (a.kind === 'hang') return { rule: 'hang', detail: `no answer within ${deadlineMs} ms` };
  if (a.kind === 'error') {
    const raw = a.error.metadata?.get('grpc-status-details-bin')[0];
    const decoded = Buffer.isBuffer(raw) ? decodeStatusDetails(raw) : undefined;
    // What the project's own client makes of it: the Status in the details, else the code's.
    const status = decoded ?? fromGrpcError(a.error);
    const name = CODE_NAMES.get(a.error.code) ?? String(a.error.code);
    if (status.code >= 500 && /RST_STREAM/.test(a.error.details)) {
      // Every call in flight on a connection goes with it: this one may be another's victim.
      return { rule: '5xx', detail: `gRPC ${name}: ${clip(a.error.details, 160)} (the connection was reset, maybe by a call beside this one)` };
    }
    if (status.code >= 500 && !tooLargeResourceVersion(status.code, status.reason, status.message)) return { rule: '5xx', detail: `gRPC ${name}${decoded === undefined ? ' without a Status' : ''}: ${status.code} ${status.reason}: ${clip(decoded?.message ?? a.error.details, 160)}` };
    if (decoded !== undefined && decoded.grpcCode !== a.error.code) return { rule: 'gRPC code does not match its Status', detail: `${name} carrying ${decoded.code} ${decoded.reason}` };
    return undefined;
  }
  for (const e of a.events) {
    const event = e as { type?: string; object?: Buffer };
    if (event.type !== 'ERROR' || !Buffer.isBuffer(event.object)) continue;
    const status = parseJson(event.object);
    if (isObject(status) && typeof status.code === 'number' && status.code >= 500) {
      return { rule: '5xx', detail: `watch ERROR ${status.code} ${String(status.reason)}: ${clip(String(status.message), 160)}` };
    }
  }
  if (r.target === undefined || a.response === undefined) return undefined;
  const res = a.response as { object?: Buffer; items?: Buffer[] };
  if (r.method === 'List') {
    const items = (res.items ?? []).map((b) => parseJson(b));
    const why = notAbout('GET', r.target, { kind: `${KIND_OF[r.target.resource]}List`, items });
    return why === undefined ? undefined : { rule: 'success about another object', detail: why };
  }
  if (!Buffer.isBuffer(res.object)) return undefined;
  const method = r.method === 'Create' ? 'POST' : r.method === 'Update' ? 'PUT' : r.method === 'Delete' ? 'DELETE-object' : 'GET';
  const why = notAbout(method, r.target, parseJson(res.object));
  return why === undefined ? undefined : { rule: 'success about another object', detail: why };
}

/** The typed message with its Body fields built, or the raw bytes. */
function grpcMessage(r: GrpcFuzzRequest): Record<string, unknown> | Buffer {
  if ('raw' in r.message) return r.message.raw.bytes();
  const typed = { ...r.message.typed };
  const object = typed.object as Body | undefined;
  if (object !== undefined) typed.object = object.bytes();
  return typed;
}

function describeGrpc(r: GrpcFuzzRequest, message: Record<string, unknown> | Buffer): string {
  const auth = r.token === undefined ? 'no token' : r.token === ADMIN_TOKEN ? 'admin token' : `token ${clip(JSON.stringify(r.token), 40)}`;
  if (Buffer.isBuffer(message)) return `gRPC ${r.method} (${auth}) raw ${'raw' in r.message ? r.message.raw.label : ''} ${message.length} bytes: ${clip(message.toString('hex'), 160)}`;
  const shown = JSON.stringify(message, (k, v: unknown) => {
    if (k === 'object' && isObject(v) && (v as { type?: string }).type === 'Buffer') return undefined;
    return typeof v === 'string' ? clip(v, 80) : v;
  });
  const object = message.object;
  const body = 'typed' in r.message ? (r.message.typed.object as Body | undefined) : undefined;
  return `gRPC ${r.method} (${auth}) ${clip(shown, 400)}${describeBody(body, Buffer.isBuffer(object) ? object : undefined)}`;
}

// ---------------------------------------------------------------------------------------------
// Watches that run throughout

/** A watch the server answered with something else than 200 or 410. */
class WatchRefused extends Error {}

/** A watch of one collection from a resourceVersion, checked as it goes. */
class CheckedWatch {
  readonly path: string;
  readonly problems: string[] = [];
  events = 0;
  relists = 0;
  restarts = 0;
  /** Connections that broke, and the last error. */
  cuts = 0;
  lastCut = '';
  private readonly c: Connection;
  private readonly onChange: (type: string, object: Record<string, unknown>) => void;
  /** namespace/name -> resourceVersion of what it last saw. */
  private state = new Map<string, number>();
  private lastRv = 0;
  private stopped = false;
  private current: AbortController | undefined;
  private waiters = new Set<() => void>();
  private loop: Promise<void> | undefined;

  constructor(c: Connection, path: string, onChange: (type: string, object: Record<string, unknown>) => void) {
    this.c = c;
    this.path = path;
    this.onChange = onChange;
  }

  async start(): Promise<void> {
    await this.list();
    this.loop = this.run();
  }

  /** Resolves once it has seen `rv` (or later); false after `timeoutMs`. */
  seen(rv: number, timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      if (this.lastRv >= rv) return resolve(true);
      const check = (): void => {
        if (this.lastRv < rv) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        resolve(false);
      }, timeoutMs);
      this.waiters.add(check);
    });
  }

  /** Differences between what it saw last and `items` (a list taken after it caught up). */
  compare(items: Record<string, unknown>[]): string[] {
    const listed = new Map(items.map((o) => [keyOf(o), Number(metaOf(o).resourceVersion)]));
    const out: string[] = [];
    for (const [key, rv] of listed) {
      const seen = this.state.get(key);
      if (seen === undefined) out.push(`${key} (rv ${rv}) is listed but the watch never saw it`);
      else if (seen !== rv) out.push(`${key} is listed at rv ${rv} but the watch last saw rv ${seen}`);
    }
    for (const [key, rv] of this.state) if (!listed.has(key)) out.push(`${key} (rv ${rv}) is not listed but the watch did not see it go`);
    return out;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.current?.abort();
    await this.loop;
  }

  private async list(): Promise<void> {
    const { status, json } = await adminJson(this.c, 'GET', this.path);
    if (status !== 200) throw new Error(`GET ${this.path} answered ${status}: ${JSON.stringify(json)}`);
    const items = (Array.isArray(json.items) ? json.items : []) as Record<string, unknown>[];
    this.state = new Map(items.map((o) => [keyOf(o), Number(metaOf(o).resourceVersion)]));
    this.lastRv = Number(metaOf(json).resourceVersion);
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      const controller = new AbortController();
      this.current = controller;
      try {
        const relist = await this.stream(controller.signal);
        if (this.stopped) break;
        if (relist) {
          this.relists++;
          await this.list();
        }
      } catch (err) {
        if (this.stopped) break;
        if (err instanceof WatchRefused) {
          this.problems.push(`${this.path}: ${err.message}`);
        } else {
          // The connection broke (a crashed gateway does that): resume from the last
          // resourceVersion, as client-go's reflector does.
          this.cuts++;
          this.lastCut = err instanceof Error ? err.message : String(err);
        }
        await new Promise((r) => setTimeout(r, 200));
      }
      this.restarts++;
    }
  }

  /** One watch stream; resolves true when it must relist (410), false when it just ended. */
  private stream(signal: AbortSignal): Promise<boolean> {
    const path = `${this.path}?watch=true&allowWatchBookmarks=true&resourceVersion=${this.lastRv}`;
    return new Promise((resolve, reject) => {
      const req = httpsRequest({ host: this.c.host, port: this.c.port, ca: this.c.ca, agent: false, method: 'GET', path, headers: { authorization: `Bearer ${this.c.token}`, accept: 'application/json' }, signal });
      req.on('error', (err) => (signal.aborted ? resolve(false) : reject(err)));
      req.on('response', (res) => {
        if (res.statusCode === 410) {
          res.resume();
          resolve(true);
          return;
        }
        if (res.statusCode !== 200) {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => reject(new WatchRefused(`${path} answered ${res.statusCode}: ${Buffer.concat(chunks).toString().slice(0, 300)}`)));
          return;
        }
        let partial = '';
        let relist = false;
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          partial += chunk;
          let nl: number;
          while ((nl = partial.indexOf('\n')) >= 0) {
            const line = partial.slice(0, nl);
            partial = partial.slice(nl + 1);
            if (line.trim() === '' || relist) continue;
            if (this.handle(line)) {
              relist = true;
              req.destroy();
              resolve(true);
            }
          }
        });
        res.on('end', () => resolve(relist));
        res.on('error', (err) => (signal.aborted || relist ? resolve(relist) : reject(err)));
      });
      req.end();
    });
  }

  /** Checks and applies one event; true when the watch must relist. */
  private handle(line: string): boolean {
    const event = parseJson(Buffer.from(line));
    if (!isObject(event) || !isObject(event.object)) {
      this.problems.push(`${this.path}: an unparsable watch line: ${clip(line, 200)}`);
      return false;
    }
    const object = event.object;
    const type = String(event.type);
    if (type === 'ERROR') {
      if (object.code === 410) return true;
      this.problems.push(`${this.path}: an ERROR event other than 410: ${clip(JSON.stringify(object), 300)}`);
      return true;
    }
    const rv = Number(metaOf(object).resourceVersion);
    if (!Number.isSafeInteger(rv)) {
      this.problems.push(`${this.path}: a ${type} event with resourceVersion ${JSON.stringify(metaOf(object).resourceVersion)}`);
      return false;
    }
    if (type === 'BOOKMARK') {
      if (rv < this.lastRv) this.problems.push(`${this.path}: a BOOKMARK at rv ${rv} after rv ${this.lastRv}`);
    } else if (type === 'ADDED' || type === 'MODIFIED' || type === 'DELETED') {
      this.events++;
      if (rv <= this.lastRv) this.problems.push(`${this.path}: ${type} ${keyOf(object)} at rv ${rv} after rv ${this.lastRv}`);
      if (type === 'DELETED') this.state.delete(keyOf(object));
      else this.state.set(keyOf(object), rv);
      this.onChange(type, object);
    } else {
      this.problems.push(`${this.path}: an event of type ${JSON.stringify(type)}`);
    }
    this.lastRv = Math.max(this.lastRv, rv);
    for (const w of this.waiters) w();
    return false;
  }
}

function keyOf(o: Record<string, unknown>): string {
  const m = metaOf(o);
  return `${String(m.namespace ?? '')}/${String(m.name)}`;
}

// ---------------------------------------------------------------------------------------------
// Fixtures: what nothing may touch

interface Protected {
  path: string;
  uid: string;
  resourceVersion: string;
}

const MARKER_NAMESPACE = 'fuzz-marker';
const SYSTEM_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

async function createFixtures(c: Connection): Promise<Protected[]> {
  const create = async (path: string, body: Record<string, unknown>): Promise<void> => {
    const { status, json } = await adminJson(c, 'POST', path, body);
    if (status !== 201) throw new Error(`creating a fixture with POST ${path} answered ${status}: ${JSON.stringify(json)}`);
  };
  for (const ns of [...FUZZ_NAMESPACES, MARKER_NAMESPACE]) {
    await create('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels: { fuzz: 'yes' } } });
  }
  for (const ns of [...FUZZ_NAMESPACES, 'default']) {
    await create(`/api/v1/namespaces/${ns}/configmaps`, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: SENTINEL, labels: { fuzz: 'yes' } }, data: { keep: 'me' } });
  }
  await create('/api/v1/nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name: SENTINEL_NODE, labels: { fuzz: 'yes' } } });
  const paths = [
    ...[...FUZZ_NAMESPACES, ...SYSTEM_NAMESPACES].map((ns) => `/api/v1/namespaces/${ns}`),
    ...[...FUZZ_NAMESPACES, 'default'].map((ns) => `/api/v1/namespaces/${ns}/configmaps/${SENTINEL}`),
    `/api/v1/nodes/${SENTINEL_NODE}`,
  ];
  const out: Protected[] = [];
  for (const path of paths) {
    const { status, json } = await adminJson(c, 'GET', path);
    if (status !== 200) throw new Error(`GET ${path} answered ${status}`);
    out.push({ path, uid: String(metaOf(json).uid), resourceVersion: String(metaOf(json).resourceVersion) });
  }
  return out;
}

async function checkProtected(c: Connection, objects: Protected[]): Promise<string[]> {
  const out: string[] = [];
  for (const p of objects) {
    const { status, json } = await adminJson(c, 'GET', p.path);
    if (status === 404) out.push(`collateral damage: ${p.path} was deleted`);
    else if (status !== 200) out.push(`GET ${p.path} answered ${status}: ${clip(JSON.stringify(json), 200)}`);
    else if (String(metaOf(json).uid) !== p.uid) out.push(`collateral damage: ${p.path} was replaced (uid ${p.uid} -> ${String(metaOf(json).uid)})`);
    else if (String(metaOf(json).resourceVersion) !== p.resourceVersion) out.push(`collateral damage: ${p.path} was changed (rv ${p.resourceVersion} -> ${String(metaOf(json).resourceVersion)}): ${clip(JSON.stringify(json), 300)}`);
  }
  return out;
}

function isProtected(type: string, o: Record<string, unknown>): boolean {
  const m = metaOf(o);
  const kind = o.kind;
  if (kind === 'Namespace') return [...FUZZ_NAMESPACES, ...SYSTEM_NAMESPACES].includes(String(m.name));
  if (kind === 'Node') return m.name === SENTINEL_NODE;
  return type !== '' && m.name === SENTINEL && [...FUZZ_NAMESPACES, 'default'].includes(String(m.namespace));
}

// ---------------------------------------------------------------------------------------------
// After the run

const SELECTORS = [
  '',
  '?labelSelector=fuzz%3Dyes',
  '?labelSelector=fuzz%20in%20(yes%2Cno)%2C!missing',
  '?labelSelector=env!%3Dprod%2Cfuzz',
  '?fieldSelector=metadata.name!%3Dx',
  `?fieldSelector=metadata.name%3D${SENTINEL}`,
  '?labelSelector=fuzz&fieldSelector=metadata.name!%3Dx&limit=7',
];

/** Lists over every resource, with selectors, JSON and Table, over REST and gRPC: all must answer 200. */
async function checkLists(c: Connection): Promise<string[]> {
  const out: string[] = [];
  const collections: { path: string; kind: string }[] = [
    { path: '/api/v1/namespaces', kind: 'NamespaceList' },
    { path: '/api/v1/nodes', kind: 'NodeList' },
    { path: '/api/v1/configmaps', kind: 'ConfigMapList' },
    ...[...FUZZ_NAMESPACES, 'default'].map((ns) => ({ path: `/api/v1/namespaces/${ns}/configmaps`, kind: 'ConfigMapList' })),
  ];
  const extra = ['?fieldSelector=metadata.namespace%3Dfuzz-b', '?fieldSelector=metadata.namespace!%3Dfuzz-b%2Cmetadata.name!%3Dy'];
  for (const { path, kind } of collections) {
    for (const q of [...SELECTORS, ...(path === '/api/v1/configmaps' ? extra : [])]) {
      // Every page, so that every stored object is served once.
      let cont = '';
      let pages = 0;
      do {
        const url = `${path}${q}${cont === '' ? '' : `${q === '' ? '?' : '&'}continue=${encodeURIComponent(cont)}`}`;
        const { status, json } = await adminJson(c, 'GET', url);
        if (status !== 200 || json.kind !== kind) {
          out.push(`GET ${url} answered ${status} ${clip(JSON.stringify(json), 300)}`);
          break;
        }
        cont = String(metaOf(json).continue ?? '');
      } while (cont !== '' && ++pages < 1000);
    }
    const table = await restCall(c, { method: 'GET', path, headers: { authorization: `Bearer ${c.token}`, accept: 'application/json;as=Table;v=v1;g=meta.k8s.io' } }, 30_000);
    if (table.kind !== 'answer' || table.status !== 200) out.push(`GET ${path} as a Table answered ${table.kind === 'answer' ? answerText(table.status, table.body) : table.kind}`);
  }
  const metadata = new grpc.Metadata();
  metadata.set('authorization', `Bearer ${c.token}`);
  for (const [resource, namespace] of [['namespaces', ''], ['nodes', ''], ['configmaps', ''], ['configmaps', 'fuzz-b']] as const) {
    for (const labelSelector of ['', 'fuzz=yes', 'fuzz in (yes,no),!missing']) {
      const request = { ref: { group: '', version: 'v1', resource, namespace, name: '' }, options: { labelSelector, fieldSelector: 'metadata.name!=x', limit: 0 } };
      const a = await grpcCall(c, { api: 'grpc', category: '', method: 'List', message: { typed: request }, token: ADMIN_TOKEN }, request, 30_000);
      if (a.kind !== 'ok') out.push(`gRPC List ${resource} ${namespace} labelSelector=${labelSelector} failed: ${grpcOutcome(a)} ${a.kind === 'error' ? a.error.details : ''}`);
    }
  }
  return out;
}

/** Writes one marker per watched collection, waits for each watch to see it, then compares it with a list. */
async function checkWatches(c: Connection, watches: CheckedWatch[], crashed: boolean): Promise<string[]> {
  const out: string[] = [];
  // A crash cuts every watch; without one, a cut is the server's doing.
  if (!crashed) for (const w of watches) if (w.cuts > 0) out.push(`the watch of ${w.path} was cut ${w.cuts} times (last: ${w.lastCut})`);
  const markers: Record<string, { path: string; body: Record<string, unknown> }> = {
    '/api/v1/configmaps': { path: `/api/v1/namespaces/${MARKER_NAMESPACE}/configmaps`, body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'marker' } } },
    '/api/v1/namespaces': { path: '/api/v1/namespaces', body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: `${MARKER_NAMESPACE}-2` } } },
    '/api/v1/nodes': { path: '/api/v1/nodes', body: { apiVersion: 'v1', kind: 'Node', metadata: { name: `${MARKER_NAMESPACE}-node` } } },
  };
  for (const w of watches) {
    out.push(...w.problems);
    const marker = markers[w.path];
    if (marker === undefined) continue;
    const { status, json } = await adminJson(c, 'POST', marker.path, marker.body);
    if (status !== 201) {
      out.push(`creating the marker with POST ${marker.path} answered ${status}: ${clip(JSON.stringify(json), 200)}`);
      continue;
    }
    const rv = Number(metaOf(json).resourceVersion);
    if (!(await w.seen(rv, 15_000))) {
      out.push(`the watch of ${w.path} did not see the marker (rv ${rv}) within 15 s`);
      continue;
    }
    const list = await adminJson(c, 'GET', w.path);
    if (list.status !== 200) {
      out.push(`GET ${w.path} answered ${list.status}`);
      continue;
    }
    const diff = w.compare((Array.isArray(list.json.items) ? list.json.items : []) as Record<string, unknown>[]);
    if (diff.length > 0) out.push(`the watch of ${w.path} does not match a final list: ${diff.slice(0, 10).join('; ')}${diff.length > 10 ? ` (and ${diff.length - 10} more)` : ''}`);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Memory and logs

interface LogLine {
  time: number;
  text: string;
}

const SERVICES = ['gateway', 'storage', 'admission', 'auth', 'watch'];

/** Lines of the services' logs at level error, and anything that is not a JSON log line (a crash's stack). */
async function serviceErrorLines(logDir: string | undefined): Promise<LogLine[]> {
  if (logDir === undefined) return [];
  const out: LogLine[] = [];
  const files = (await readdir(logDir).catch(() => [] as string[])).filter((f) => SERVICES.some((s) => f.startsWith(s)) && f.endsWith('.log'));
  for (const file of files) {
    const service = file.replace(/\.log$/, '');
    // Consecutive lines that are not JSON (a crash's message and stack) make one entry.
    let block: string[] = [];
    const endBlock = (): void => {
      if (block.length > 0) out.push({ time: Number.NaN, text: `${service}: ${clip(block.join(' | '), 800)}` });
      block = [];
    };
    for (const line of (await readFile(join(logDir, file), 'utf8')).split('\n')) {
      if (line.trim() === '') continue;
      const json = parseJson(Buffer.from(line));
      if (isObject(json)) {
        endBlock();
        if (json.level === 'error') out.push({ time: Date.parse(String(json.time)), text: `${service}: ${clip(line, 500)}` });
      } else {
        block.push(line.trim());
      }
    }
    endBlock();
  }
  return out;
}

function groupLines(lines: LogLine[]): { line: string; count: number }[] {
  const groups = new Map<string, { line: string; count: number }>();
  for (const l of lines) {
    // One group per message and error, whatever the time, path or ids.
    const json = parseJson(Buffer.from(l.text.slice(l.text.indexOf(':') + 2)));
    const key = isObject(json) ? `${l.text.slice(0, l.text.indexOf(':'))} ${String(json.msg)} ${JSON.stringify(json.error ?? '')}` : l.text.replace(/\d+/g, 'N');
    const g = groups.get(key) ?? { line: l.text, count: 0 };
    g.count++;
    groups.set(key, g);
  }
  return [...groups.values()].sort((a, b) => b.count - a.count);
}

// ---------------------------------------------------------------------------------------------
// The run

/** Samples of `arbitrary` from a seed, a chunk at a time. */
class Sampler<T> {
  private buffer: T[] = [];
  private chunk = 0;
  private readonly arbitrary: fc.Arbitrary<T>;
  private readonly seed: number;

  constructor(arbitrary: fc.Arbitrary<T>, seed: number) {
    this.arbitrary = arbitrary;
    this.seed = seed;
  }

  next(): T {
    if (this.buffer.length === 0) {
      this.buffer = fc.sample(this.arbitrary, { seed: (this.seed ^ Math.imul(this.chunk + 1, 0x9e3779b1)) | 0, numRuns: 100 }).reverse();
      this.chunk++;
    }
    return this.buffer.pop() as T;
  }
}

/** The order of the run: 'r' REST, 'g' gRPC, 'b' the next big case. */
function schedule(o: FuzzOptions, bigCount: number): ('r' | 'g' | 'b')[] {
  const generated = o.restRuns + o.grpcRuns;
  const out: ('r' | 'g' | 'b')[] = [];
  for (let i = 0; i < generated; i++) out.push(Math.floor(((i + 1) * o.grpcRuns) / generated) > Math.floor((i * o.grpcRuns) / generated) ? 'g' : 'r');
  const every = o.bigEvery ?? Math.max(1, Math.floor(generated / Math.max(1, bigCount)));
  const bigs = o.bigEvery === undefined ? bigCount : Math.floor(generated / every);
  for (let k = bigs - 1; k >= 0; k--) out.splice(Math.min(out.length, Math.floor(every / 2) + k * every), 0, 'b');
  return out;
}

interface Recent {
  request: string;
  outcome: string;
  endedAt: number;
}

/**
 * Runs the fuzz against a running control plane: fixtures, watches, the requests, the checks
 * after. Never throws for what the server does (that is the report); throws when the fixtures
 * cannot be set up.
 *
 * A service that exits is a crash: the requests in flight then are reported with it (one of
 * them did it), the service is restarted and the run goes on, so that one crash does not hide
 * everything else; requests cut by the crash or sent while it restarts are not counted as
 * violations of their own. etcd or Redis exiting, or a restart failing, ends the run.
 */
export async function runHostileFuzz(target: FuzzTarget, o: FuzzOptions): Promise<FuzzReport> {
  const log = o.log ?? (() => undefined);
  const { plane } = target;
  const c = await connect(target, o.concurrency);
  const gatewayRss = (): number => rssBytes(plane.processes.gateway.pid);
  const memory = { before: gatewayRss(), peak: 0, after: 0, atCrashes: [] as number[] };
  memory.peak = memory.before;
  let lastRss = memory.before;
  const sampler = setInterval(() => {
    const rss = gatewayRss();
    if (rss > 0) lastRss = rss;
    memory.peak = Math.max(memory.peak, rss);
  }, o.memorySampleMs ?? 250);

  const report: FuzzReport = {
    seed: o.seed,
    sent: { rest: 0, grpc: 0 },
    durationMs: 0,
    restStatuses: {},
    grpcCodes: {},
    violations: [],
    failures: [],
    collateral: [],
    watches: [],
    memory,
    serverErrors: [],
  };
  const started = Date.now();
  /** Requests in flight by id. */
  const inFlight = new Map<number, string>();
  let nextId = 0;
  const recent: Recent[] = [];

  // Crashes: who was in flight, restart, and the time windows whose failures are the crash's.
  const crashes: string[] = [];
  const crashWindows: { from: number; to: number }[] = [];
  let restarting: Promise<void> | undefined;
  let fatal = false;
  let finished = false;
  const monitor = (p: ManagedProcess, service: ServiceName | undefined): void => {
    void p.exited.then((status) => {
      if (finished) return;
      // The parent hears of the exit a little after the connections broke.
      const window = { from: Date.now() - 3_000, to: Number.POSITIVE_INFINITY };
      crashWindows.push(window);
      const cut = recent.filter((r) => r.endedAt >= window.from && isTransportFailure(r.outcome)).map((r) => `${r.request} -> ${r.outcome}`);
      crashes.push(
        `crash: ${p.name} (pid ${p.pid}) exited ${JSON.stringify(status)}; requests cut just before or in flight (one of them did it):\n    ${[...cut, ...inFlight.values()].join('\n    ') || '(none)'}\n  its last output:\n    ${p.tail(12).split('\n').join('\n    ')}`,
      );
      if (service === 'gateway') memory.atCrashes.push(lastRss);
      log(`fuzz: ${p.name} exited ${JSON.stringify(status)}${service === undefined ? '' : '; restarting it'}`);
      if (service === undefined) {
        fatal = true;
        return;
      }
      restarting = (async () => {
        await plane.restart(service);
        // Healthy over gRPC first; the REST listener may open a moment later, and the gRPC
        // client waits out its reconnection backoff.
        const deadline = Date.now() + 30_000;
        while (Date.now() < deadline) {
          const a = await restCall(c, { method: 'GET', path: '/healthz', headers: {} }, 2_000);
          if (a.kind === 'answer' && a.status === 200) break;
          await new Promise((r) => setTimeout(r, 100));
        }
        await new Promise<void>((ready) => c.grpc.waitForReady(deadline, () => ready()));
      })().then(
        () => {
          window.to = Date.now() + 1_000;
          restarting = undefined;
          monitor(plane.processes[service], service);
        },
        (err: unknown) => {
          fatal = true;
          restarting = undefined;
          crashes.push(`restarting ${service} failed: ${err instanceof Error ? err.message : String(err)}`);
        },
      );
    });
  };
  for (const name of SERVICE_NAMES) monitor(plane.processes[name], name);
  for (const w of plane.watchReplicas.slice(1)) monitor(w.process, undefined);
  if (plane.etcd !== undefined) monitor(plane.etcd.process, undefined);
  if (plane.redis !== undefined) monitor(plane.redis.process, undefined);
  const duringCrash = (from: number, to: number): boolean => crashWindows.some((w) => to >= w.from && from <= w.to);
  /** Violations that are a broken connection: the crash's, when one happened meanwhile (known only later). */
  const transportFailures = new Set<Violation>();

  let watches: CheckedWatch[] = [];
  try {
    const protectedObjects = await createFixtures(c);
    const onChange = (type: string, object: Record<string, unknown>): void => {
      if (!isProtected(type, object)) return;
      const now = Date.now();
      const succeeded = (r: Recent) => r.outcome === 'OK' || /^2/.test(r.outcome);
      const suspects = [...recent.filter((r) => now - r.endedAt < 3_000 && succeeded(r)).map((r) => `${r.request} -> ${r.outcome}`), ...[...inFlight.values()].map((r) => `${r} (in flight)`)];
      report.collateral.push(`${type} ${String(object.kind)} ${keyOf(object)} (rv ${String(metaOf(object).resourceVersion)}); requests that succeeded just before, or were in flight:\n    ${suspects.slice(-10).join('\n    ') || '(none)'}`);
    };
    watches = ['/api/v1/configmaps', '/api/v1/namespaces', '/api/v1/nodes'].map((p) => new CheckedWatch(c, p, onChange));
    for (const w of watches) await w.start();

    const generatorErrors: string[] = [];
    const bigs = bigCases(o.big);
    const order = schedule(o, bigs.length);
    const rest = new Sampler(restRequest, o.seed);
    const grpcs = new Sampler(grpcRequest, o.seed + 1);
    let nextBig = 0;
    const bump = (counts: Record<string, number>, key: string) => (counts[key] = (counts[key] ?? 0) + 1);

    const runOne = async (r: FuzzRequest): Promise<void> => {
      const id = nextId++;
      try {
        await sendOne(r, id);
      } catch (err) {
        // A fuzzer bug, not the server's: reported, and the run goes on.
        generatorErrors.push(`${r.category}: ${err instanceof Error ? err.message : String(err)}`);
      } finally {
        inFlight.delete(id);
      }
    };
    const sendOne = async (r: FuzzRequest, id: number): Promise<void> => {
      const startedAt = Date.now();
      let description: string;
      let outcome: string;
      let broken: { rule: string; detail: string } | undefined;
      if (r.api === 'rest') {
        const bytes = r.body?.bytes();
        description = describeRest(r, bytes);
        inFlight.set(id, description);
        const answer = await restCall(c, { method: r.method, path: r.path, headers: authHeaders(c, r.headers), body: bytes, chunked: r.chunked }, o.deadlineMs);
        outcome = answer.kind === 'answer' ? String(answer.status) : answer.kind === 'cut-off' ? `${answer.status} cut off` : answer.kind;
        bump(report.restStatuses, outcome);
        report.sent.rest++;
        broken = checkRest(r, answer, o.deadlineMs);
      } else {
        const message = grpcMessage(r);
        description = describeGrpc(r, message);
        inFlight.set(id, description);
        const answer = await grpcCall(c, r, message, o.deadlineMs);
        outcome = grpcOutcome(answer);
        bump(report.grpcCodes, outcome);
        report.sent.grpc++;
        broken = checkGrpc(r, answer, o.deadlineMs);
      }
      inFlight.delete(id);
      const endedAt = Date.now();
      recent.push({ request: description, outcome, endedAt });
      if (recent.length > 64) recent.splice(0, recent.length - 32);
      if (broken !== undefined) {
        const v = { ...broken, category: r.category, request: description, startedAt, endedAt };
        report.violations.push(v);
        if (isTransportFailure(outcome)) transportFailures.add(v);
      }
    };

    const pauses = [...(o.pauses ?? [])].sort((a, b) => a.after - b.after);
    let index = 0;
    let nextReport = Math.ceil(order.length / 10);
    const segmentEnds = [...pauses.map((p) => Math.min(p.after, order.length)), order.length];
    for (const [s, end] of segmentEnds.entries()) {
      const worker = async (): Promise<void> => {
        while (index < end && !fatal) {
          if (restarting !== undefined) {
            await restarting;
            continue;
          }
          const kind = order[index++];
          const r: FuzzRequest = kind === 'b' ? (bigs[nextBig++ % bigs.length] as FuzzRequest) : kind === 'g' ? grpcs.next() : rest.next();
          await runOne(r);
          if (index >= nextReport) {
            nextReport += Math.ceil(order.length / 10);
            const rss = gatewayRss();
            memory.peak = Math.max(memory.peak, rss);
            log(`fuzz: ${index}/${order.length} sent, ${report.violations.length} violations so far, ${crashes.length} crashes, gateway RSS ${mib(rss)} MiB (peak ${mib(memory.peak)})`);
          }
        }
      };
      await Promise.all(Array.from({ length: o.concurrency }, worker));
      const pause = pauses[s];
      if (pause !== undefined && !fatal) await pause.run();
    }

    // Give the server a moment to settle (answers written, sockets closed) before judging it.
    await new Promise((r) => setTimeout(r, 500));
    if (restarting !== undefined) await restarting;
    for (const e of generatorErrors.slice(0, 10)) report.failures.push(`the fuzzer could not build a request (${generatorErrors.length} times): ${e}`);
    if (!fatal) {
      report.failures.push(...(await checkProtected(c, protectedObjects)));
      report.failures.push(...(await checkLists(c)));
      report.failures.push(...(await checkWatches(c, watches, crashes.length > 0)));
    }
  } finally {
    finished = true;
    for (const w of watches) await w.stop();
    report.watches = watches.map((w) => ({ path: w.path, events: w.events, relists: w.relists, restarts: w.restarts }));
    clearInterval(sampler);
    memory.after = gatewayRss();
    memory.peak = Math.max(memory.peak, memory.after);
    closeConnection(c);
    report.durationMs = Date.now() - started;
    // A crash first: it explains what follows; the requests it cut are its failure, not theirs.
    report.failures.unshift(...crashes);
    report.violations = report.violations.filter((v) => !(transportFailures.has(v) && duringCrash(v.startedAt, v.endedAt)));
  }

  const lines = await serviceErrorLines(target.logDir);
  report.serverErrors = groupLines(lines);
  for (const v of report.violations) {
    if (v.rule !== '5xx') continue;
    v.logLines = lines.filter((l) => l.time >= v.startedAt - 20 && l.time <= v.endedAt + 20).map((l) => l.text).slice(0, 3);
  }
  return report;
}

const mib = (bytes: number): number => Math.round(bytes / 1024 / 1024);

/** The groups of violations: rule, category and what came back (numbers blurred), largest first. */
function groupViolations(violations: Violation[]): { key: string; count: number; examples: Violation[] }[] {
  const groups = new Map<string, { key: string; count: number; examples: Violation[] }>();
  for (const v of violations) {
    const key = `${v.rule} | ${v.category} | ${v.detail.replace(/\d{3,}/g, 'N')}`;
    const g = groups.get(key) ?? { key, count: 0, examples: [] };
    g.count++;
    if (g.examples.length < 2) g.examples.push(v);
    groups.set(key, g);
  }
  return [...groups.values()].sort((a, b) => b.count - a.count);
}

/** One line: seed, counts, verdict, memory. */
export function summaryLine(r: FuzzReport): string {
  const groups = groupViolations(r.violations).length;
  return (
    `fuzz seed=${r.seed}: ${r.sent.rest} REST + ${r.sent.grpc} gRPC requests in ${(r.durationMs / 1000).toFixed(1)} s; ` +
    `${r.violations.length} violations in ${groups} groups, ${r.failures.length} failed checks after the run; ` +
    `gateway RSS ${mib(r.memory.before)} MiB before, ${mib(r.memory.peak)} peak, ${mib(r.memory.after)} after — ${passed(r) ? 'PASS' : 'FAIL'}`
  );
}

/** The whole report as text: counts, violations grouped with examples, failed checks, collateral, server errors. */
export function formatReport(r: FuzzReport, options: { maxGroups?: number } = {}): string {
  const out: string[] = [];
  const counts = (m: Record<string, number>) =>
    Object.entries(m)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, v]) => `${k}: ${v}`)
      .join(', ');
  out.push(`REST answers by status: ${counts(r.restStatuses)}`);
  out.push(`gRPC answers by code: ${counts(r.grpcCodes)}`);
  out.push(`watches: ${r.watches.map((w) => `${w.path} ${w.events} events, ${w.relists} relists, ${w.restarts} restarts`).join('; ')}`);
  out.push(
    `gateway RSS: ${mib(r.memory.before)} MiB before, ${mib(r.memory.peak)} MiB peak, ${mib(r.memory.after)} MiB after` +
      (r.memory.atCrashes.length === 0 ? '' : `; before each of its ${r.memory.atCrashes.length} crashes: ${r.memory.atCrashes.map((b) => `${mib(b)}`).join(', ')} MiB`),
  );
  const groups = groupViolations(r.violations);
  if (groups.length > 0) {
    out.push('', `VIOLATIONS (${r.violations.length} requests, ${groups.length} groups):`);
    for (const g of groups.slice(0, options.maxGroups ?? 60)) {
      out.push(`- [${g.count}x] ${g.key}`);
      for (const e of g.examples) {
        out.push(`    e.g. ${e.request}`);
        out.push(`      -> ${e.detail}`);
        for (const l of e.logLines ?? []) out.push(`      log: ${l}`);
      }
    }
    if (groups.length > (options.maxGroups ?? 60)) out.push(`  (and ${groups.length - (options.maxGroups ?? 60)} more groups)`);
  }
  if (r.failures.length > 0) {
    out.push('', 'FAILED CHECKS AFTER THE RUN:');
    for (const f of r.failures) out.push(`- ${f}`);
  }
  if (r.collateral.length > 0) {
    out.push('', 'CHANGES TO PROTECTED OBJECTS SEEN DURING THE RUN:');
    for (const f of r.collateral.slice(0, 20)) out.push(`- ${f}`);
  }
  if (r.serverErrors.length > 0) {
    out.push('', 'SERVICE LOG ERRORS (by message):');
    for (const e of r.serverErrors.slice(0, 25)) out.push(`- [${e.count}x] ${e.line}`);
  }
  out.push('', summaryLine(r));
  return out.join('\n');
}
