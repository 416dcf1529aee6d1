/**
 * The typed gRPC resource API as an internal component uses it: same pipeline as REST, Status
 * errors decoded from gRPC status details, and a watch resumed from its last resourceVersion.
 * Ends with a graceful stop: SIGTERM ends open watches cleanly and every process exits 0.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Client, credentials as grpcCredentials, Metadata, status as GrpcCode, type ServiceError } from '@grpc/grpc-js';
import { StatusError } from '../../lib/errors.ts';
import { clientSettings, serverStream, unary, type CallOptions } from '../../lib/grpc/client.ts';
import { fromGrpcError } from '../../lib/grpc-status.ts';
import { SERVICE_NAMES, startControlPlane, type ControlPlane } from '../../lib/local/control-plane.ts';
import { loadApiProto } from '../../lib/proto.ts';
import { createTelemetry } from '../../lib/tracing.ts';
import { createEtcdClient } from '../../services/storage/backends/etcd.ts';
import type { ResourcesClient } from '../../lib/gen/apiserver/v1/Resources.ts';
import { createRestClient, type RestClient } from '../support/rest-client.ts';

let dir: string;
let plane: ControlPlane;
let client: ResourcesClient;
let auth: Metadata;
let rest: RestClient;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'e2e-grpc-'));
  // A small watch cache, so that a too-old resourceVersion can be provoked.
  plane = await startControlPlane({ dataDir: dir, logDir: join(dir, 'logs'), flags: { watch: ['--cache-capacity=4'] } });
  const token = (await readFile(join(dir, 'tokens.csv'), 'utf8')).split(',')[0] ?? '';
  auth = new Metadata();
  auth.set('authorization', `Bearer ${token}`);
  const { credentials, channelOptions } = clientSettings({ telemetry: createTelemetry({ serviceName: 'test', env: {} }) });
  client = new (loadApiProto().apiserver.v1.Resources)(plane.addresses.gateway, credentials, channelOptions);
  rest = createRestClient(`https://${plane.addresses.https}`, await readFile(join(dir, 'pki', 'ca.crt'), 'utf8'), token);
});

after(async () => {
  client?.close();
  await plane?.stop();
  await rm(dir, { recursive: true, force: true });
});

const opts = (extra: Partial<CallOptions> = {}): CallOptions => ({ metadata: auth, timeoutMs: 10_000, ...extra });
const nsRef = (name = '') => ({ group: '', version: 'v1', resource: 'namespaces', namespace: '', name });
const cmRef = (name = '') => ({ group: '', version: 'v1', resource: 'configmaps', namespace: 'apps', name });
const json = (o: unknown) => Buffer.from(JSON.stringify(o));
const parse = (b: Buffer) => JSON.parse(b.toString()) as { metadata: { name: string; resourceVersion: string; uid: string } };

async function expectStatus(promise: Promise<unknown>, reason: string): Promise<StatusError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof StatusError, String(err));
    assert.equal(err.reason, reason, err.message);
    return err;
  }
  assert.fail(`expected ${reason}`);
}

test('create, get, list and delete through the typed API', async () => {
  await unary(client, 'create', { ref: nsRef(), object: json({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'apps' } }) }, opts());
  const created = parse((await unary(client, 'create', { ref: cmRef(), object: json({ metadata: { name: 'one' }, data: { a: 'b' } }) }, opts())).object);
  assert.equal(created.metadata.name, 'one');
  assert.match(created.metadata.uid, /^[0-9a-f-]{36}$/);
  const got = parse((await unary(client, 'get', { ref: cmRef('one') }, opts())).object);
  assert.equal(got.metadata.resourceVersion, created.metadata.resourceVersion);
  const list = await unary(client, 'list', { ref: cmRef(), options: { limit: 10 } }, opts());
  assert.deepEqual(list.items.map((i) => parse(i).metadata.name), ['one']);
  const dup = await expectStatus(unary(client, 'create', { ref: cmRef(), object: json({ metadata: { name: 'one' } }) }, opts()), 'AlreadyExists');
  assert.equal(dup.message, 'configmaps "one" already exists');
  await unary(client, 'delete', { ref: cmRef('one') }, opts());
  const missing = await expectStatus(unary(client, 'get', { ref: cmRef('one') }, opts()), 'NotFound');
  assert.equal(missing.code, 404);
});

test('patch through the typed API, with fieldValidation and the warnings REST sends as headers', async () => {
  await unary(client, 'create', { ref: cmRef(), object: json({ metadata: { name: 'patched' }, data: { a: '1' } }) }, opts());
  const merged = await unary(client, 'patch', { ref: cmRef('patched'), type: 'PATCH_TYPE_MERGE', patch: json({ data: { b: '2' } }) }, opts());
  assert.deepEqual((JSON.parse(merged.object.toString()) as { data: unknown }).data, { a: '1', b: '2' });
  const ops = [{ op: 'remove', path: '/data/a' }];
  const jsonPatched = await unary(client, 'patch', { ref: cmRef('patched'), type: 'PATCH_TYPE_JSON', patch: json(ops) }, opts());
  assert.deepEqual((JSON.parse(jsonPatched.object.toString()) as { data: unknown }).data, { b: '2' });
  const warned = await unary(client, 'patch', { ref: cmRef('patched'), type: 'PATCH_TYPE_STRATEGIC_MERGE', patch: json({ bogus: 1 }), fieldValidation: 'Warn' }, opts());
  assert.deepEqual(warned.warnings, ['unknown field "bogus"']);
  const strict = await expectStatus(unary(client, 'patch', { ref: cmRef('patched'), type: 'PATCH_TYPE_MERGE', patch: json({ bogus: 1 }), fieldValidation: 'Strict' }, opts()), 'Invalid');
  assert.match(strict.message, /strict decoding error: unknown field "bogus"$/);
  const unspecified = await expectStatus(unary(client, 'patch', { ref: cmRef('patched'), patch: json({}) }, opts()), 'UnsupportedMediaType');
  assert.match(unspecified.message, /^the body of the request was in an unknown format - accepted media types include: /);
  await expectStatus(unary(client, 'patch', { ref: cmRef('absent'), type: 'PATCH_TYPE_MERGE', patch: json({}) }, opts()), 'NotFound');
  const created = await unary(client, 'create', { ref: cmRef(), object: json({ metadata: { name: 'warned' }, bogus: 1 }), fieldValidation: 'Warn' }, opts());
  assert.deepEqual(created.warnings, ['unknown field "bogus"']);
  await expectStatus(unary(client, 'update', { ref: cmRef('warned'), object: json({ metadata: { name: 'warned' }, bogus: 1 }), fieldValidation: 'Strict' }, opts()), 'BadRequest');
  const badOption = await expectStatus(unary(client, 'patch', { ref: cmRef('patched'), type: 'PATCH_TYPE_MERGE', patch: json({}), fieldValidation: 'Loud' }, opts()), 'Invalid');
  assert.match(badOption.message, /^PatchOptions\.meta\.k8s\.io "" is invalid: fieldValidation: Unsupported value: "Loud"/);
});

test('errors are Kubernetes Statuses: Unauthorized, Invalid, BadRequest', async () => {
  const wrong = new Metadata();
  wrong.set('authorization', 'Bearer nope');
  await expectStatus(unary(client, 'list', { ref: cmRef() }, { metadata: wrong }), 'Unauthorized');
  await expectStatus(unary(client, 'list', { ref: cmRef() }, {}), 'Unauthorized');
  const invalid = await expectStatus(unary(client, 'create', { ref: cmRef(), object: json({ metadata: { name: 'UPPER' } }) }, opts()), 'Invalid');
  assert.equal(invalid.details?.causes?.[0]?.field, 'metadata.name');
  assert.equal(invalid.details?.causes?.[0]?.reason, 'FieldValueInvalid');
  await expectStatus(unary(client, 'create', { ref: cmRef(), object: Buffer.from('[1,2]') }, opts()), 'BadRequest');
  await expectStatus(unary(client, 'get', { ref: { ...cmRef('x'), resource: 'widgets' } }, opts()), 'NotFound');
});

/** The resident memory of a process, from /proc. */
async function rss(pid: number): Promise<number> {
  const kib = /^VmRSS:\s+(\d+) kB$/m.exec(await readFile(`/proc/${pid}/status`, 'utf8'))?.[1];
  assert.ok(kib !== undefined, 'VmRSS in /proc/<pid>/status');
  return Number(kib) * 1024;
}

test('a message over the API\'s limit is refused from its length prefix: quickly, before authentication, without being buffered', async () => {
  const gateway = plane.processes.gateway.pid;
  const huge = { ref: cmRef(), object: Buffer.alloc(10 * 1024 * 1024, 0x20) };
  const refused = async (metadata: Metadata | undefined) => {
    const started = Date.now();
    const err = await expectStatus(unary(client, 'create', huge, { metadata, timeoutMs: 10_000 }), 'RequestEntityTooLarge');
    assert.equal(err.grpcCode, GrpcCode.RESOURCE_EXHAUSTED);
    return Date.now() - started;
  };
  // Once first, so that what a first call allocates for good is in the baseline.
  await refused(undefined);
  const before = await rss(gateway);
  // Without a token, and with one: four at a time, as an attacker would.
  const elapsed = await Promise.all([undefined, undefined, auth, auth].map(refused));
  const grown = (await rss(gateway)) - before;
  // The answer comes as soon as the length prefix is read: the rest is not uploaded.
  assert.ok(Math.max(...elapsed) < 3_000, `refused within ${Math.max(...elapsed)} ms`);
  // Buffering them would take 40 MiB.
  assert.ok(grown < 4 * 1024 * 1024, `the gateway grew by ${(grown / 1024 / 1024).toFixed(1)} MiB`);
  // An object as large as REST takes still goes through: refused by storage's own limit, as over REST.
  const nodeRef = { group: '', version: 'v1', resource: 'nodes', namespace: '', name: '' };
  const large = await expectStatus(unary(client, 'create', { ref: nodeRef, object: json({ metadata: { name: 'large' }, spec: { podCIDR: 'x'.repeat(2 * 1024 * 1024) } }) }, opts()), 'RequestEntityTooLarge');
  assert.equal(large.message, 'Request entity too large: limit is 3145728');
});

test('every service answers a request that does not decode, or whose object is not JSON, with INVALID_ARGUMENT', async () => {
  const identity = (b: Buffer) => b;
  // The tag of a varint field 1, without its value: no message decodes it.
  const malformed = Buffer.from([0x08]);
  const api = loadApiProto().apiserver.v1;
  const call = (address: string, path: string, bytes: Buffer, metadata = new Metadata()) =>
    new Promise<ServiceError>((resolve, reject) => {
      const raw = new Client(address, grpcCredentials.createInsecure());
      raw.makeUnaryRequest(path, identity, identity, bytes, metadata, (err) => {
        raw.close();
        if (err === null) reject(new Error(`${path} answered`));
        else resolve(err);
      });
    });
  const expectBadRequest = (err: ServiceError, message: RegExp) => {
    assert.equal(err.code, GrpcCode.INVALID_ARGUMENT, err.details);
    const status = fromGrpcError(err);
    assert.equal(status.reason, 'BadRequest');
    assert.match(status.message, message);
  };
  const a = plane.addresses;
  const unaryMethods: [string, string][] = [
    [a.gateway, '/apiserver.v1.Resources/Create'],
    [a.gateway, '/apiserver.v1.Resources/List'],
    [a.storage, '/apiserver.v1.Storage/Create'],
    [a.storage, '/apiserver.v1.Storage/List'],
    [a.auth, '/apiserver.v1.Authentication/Authenticate'],
    [a.auth, '/apiserver.v1.Authorization/Authorize'],
    [a.admission, '/apiserver.v1.Admission/Admit'],
  ];
  for (const [address, path] of unaryMethods) {
    expectBadRequest(await call(address, path, malformed, auth), new RegExp(`^malformed ${path.slice(1).replaceAll('.', '\\.')} request: `));
  }
  const watch = new Client(a.watch, grpcCredentials.createInsecure());
  const stream = watch.makeServerStreamRequest('/apiserver.v1.Watch/Watch', identity, identity, malformed);
  expectBadRequest(await new Promise<ServiceError>((resolve) => stream.on('error', resolve)), /^malformed apiserver\.v1\.Watch\/Watch request: /);
  watch.close();
  // Well-formed messages whose object is not JSON.
  const notJson = Buffer.from('{"metadata":');
  const notJsonMessage = /^the body of the request was in an unknown format/;
  const create = Buffer.from(api.Resources.service.Create.requestSerialize({ ref: cmRef(), object: notJson }));
  expectBadRequest(await call(a.gateway, '/apiserver.v1.Resources/Create', create, auth), notJsonMessage);
  const stored = Buffer.from(api.Storage.service.Create.requestSerialize({ ref: cmRef('x'), object: notJson }));
  expectBadRequest(await call(a.storage, '/apiserver.v1.Storage/Create', stored), notJsonMessage);
  const admit = Buffer.from(api.Admission.service.Admit.requestSerialize({ operation: 'CREATE', ref: cmRef('x'), kind: 'ConfigMap', object: notJson }));
  expectBadRequest(await call(a.admission, '/apiserver.v1.Admission/Admit', admit), notJsonMessage);
});

test('list and watch options get the same answer over gRPC as over REST', async () => {
  /** What REST answers: its Status as "code reason: message". */
  const overRest = async (query: string) => {
    const res = await rest.request('GET', `/api/v1/namespaces/apps/configmaps?${query}`);
    const status = res.json() as { code: number; reason: string; message: string };
    return `${res.status} ${status.reason}: ${status.message}`;
  };
  /** What gRPC answers: its code and its Status. */
  const overGrpc = async (call: Promise<unknown>) => {
    try {
      await call;
    } catch (err) {
      assert.ok(err instanceof StatusError, String(err));
      return { grpc: err.grpcCode, answer: `${err.code} ${err.reason}: ${err.message}` };
    }
    assert.fail('expected a refusal');
  };
  const list = (options: object) => unary(client, 'list', { ref: cmRef(), options }, opts());
  const watch = async (options: object) => {
    for await (const _ of serverStream(client, 'watch', { ref: cmRef(), options }, opts({ timeoutMs: undefined }))) assert.fail('no event expected');
  };
  const cases: { query: string; grpc: () => Promise<unknown>; expect: string }[] = [
    { query: 'limit=-1', grpc: () => list({ limit: -1 }), expect: '400 BadRequest: limit: Invalid value: -1: must be greater than or equal to 0' },
    {
      query: 'watch=true&timeoutSeconds=-1',
      grpc: () => watch({ timeoutSeconds: -1 }),
      expect: '400 BadRequest: timeoutSeconds: Invalid value: -1: must be greater than or equal to 0',
    },
    {
      query: 'resourceVersionMatch=Exact',
      grpc: () => list({ resourceVersionMatch: 'Exact' }),
      expect: '422 Invalid: ListOptions.meta.k8s.io "" is invalid: resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided',
    },
    {
      query: 'watch=1&resourceVersion=x',
      grpc: () => watch({ resourceVersion: 'x' }),
      expect: '400 BadRequest: invalid resource version: resourceVersion: Invalid value: "x": strconv.ParseUint: parsing "x": invalid syntax',
    },
  ];
  for (const { query, grpc, expect } of cases) {
    assert.equal(await overRest(query), expect, query);
    const answer = await overGrpc(grpc());
    assert.equal(answer.answer, expect, query);
    // 400 BadRequest and 422 Invalid are both INVALID_ARGUMENT.
    assert.equal(answer.grpc, GrpcCode.INVALID_ARGUMENT, query);
  }
});

test('a watch resumed from its last resourceVersion misses nothing', async () => {
  const first = new AbortController();
  const seen: { type: string; name: string; rv: string }[] = [];
  const stream = serverStream(client, 'watch', { ref: cmRef(), options: { resourceVersion: '' } }, opts({ signal: first.signal, timeoutMs: undefined }));
  const create = (name: string) => unary(client, 'create', { ref: cmRef(), object: json({ metadata: { name } }) }, opts());
  await create('w1');
  for await (const e of stream) {
    seen.push({ type: e.type, name: parse(e.object).metadata.name, rv: e.resourceVersion });
    if (seen.some((s) => s.name === 'w1')) break;
  }
  first.abort();
  const last = seen[seen.length - 1]?.rv ?? '';
  // Changes while no watch is open.
  await create('w2');
  await unary(client, 'delete', { ref: cmRef('w1') }, opts());
  await create('w3');
  const resumed: { type: string; name: string; rv: number }[] = [];
  const second = new AbortController();
  for await (const e of serverStream(client, 'watch', { ref: cmRef(), options: { resourceVersion: last } }, opts({ signal: second.signal, timeoutMs: undefined }))) {
    resumed.push({ type: e.type, name: parse(e.object).metadata.name, rv: Number(e.resourceVersion) });
    if (resumed.length === 3) break;
  }
  second.abort();
  assert.deepEqual(
    resumed.map((r) => [r.type, r.name]),
    [
      ['ADDED', 'w2'],
      ['DELETED', 'w1'],
      ['ADDED', 'w3'],
    ],
  );
  assert.ok(resumed.every((r, i) => i === 0 || r.rv > (resumed[i - 1]?.rv ?? 0)), 'revision order');
  assert.ok((resumed[0]?.rv ?? 0) > Number(last));
});

test('a watch from a revision older than the cache window is served from storage history', async () => {
  const before = parse((await unary(client, 'create', { ref: cmRef(), object: json({ metadata: { name: 'hist-0' } }) }, opts())).object).metadata.resourceVersion;
  // More changes than the watch cache keeps (4).
  for (const name of ['hist-1', 'hist-2', 'hist-3', 'hist-4', 'hist-5', 'hist-6']) {
    await unary(client, 'create', { ref: cmRef(), object: json({ metadata: { name } }) }, opts());
  }
  const controller = new AbortController();
  const names: string[] = [];
  for await (const e of serverStream(client, 'watch', { ref: cmRef(), options: { resourceVersion: before } }, opts({ signal: controller.signal, timeoutMs: undefined }))) {
    assert.equal(e.type, 'ADDED');
    names.push(parse(e.object).metadata.name);
    if (names.length === 6) break;
  }
  controller.abort();
  assert.deepEqual(names, ['hist-1', 'hist-2', 'hist-3', 'hist-4', 'hist-5', 'hist-6']);
});

test('a watch from a compacted revision ends with 410 Expired', async () => {
  const old = await unary(client, 'list', { ref: cmRef() }, opts());
  for (const name of ['old1', 'old2', 'old3', 'old4', 'old5']) {
    await unary(client, 'create', { ref: cmRef(), object: json({ metadata: { name } }) }, opts());
  }
  const etcd = createEtcdClient(plane.etcdEndpoints);
  const now = (await unary(client, 'list', { ref: cmRef() }, opts())).resourceVersion;
  await etcd.kv.compact({ revision: now });
  etcd.close();
  const events = [];
  for await (const e of serverStream(client, 'watch', { ref: cmRef(), options: { resourceVersion: old.resourceVersion } }, opts({ timeoutMs: undefined }))) events.push(e);
  assert.equal(events.length, 1);
  assert.equal(events[0]?.type, 'ERROR');
  const status = JSON.parse(events[0]?.object.toString() ?? '{}') as { code: number; reason: string; message: string };
  assert.equal(status.code, 410);
  assert.equal(status.reason, 'Expired');
  assert.match(status.message, /^too old resource version: \d+ \(\d+\)$/);
});

test('SIGTERM lets a call in flight finish before the gateway exits', async () => {
  const storagePid = plane.processes.storage.pid;
  process.kill(storagePid, 'SIGSTOP');
  let created: Promise<{ object: Buffer }>;
  try {
    created = unary(client, 'create', { ref: cmRef(), object: json({ metadata: { name: 'drained' } }) }, opts());
    await new Promise((r) => setTimeout(r, 200)); // the call is now waiting on storage
    process.kill(plane.processes.gateway.pid, 'SIGTERM');
    await new Promise((r) => setTimeout(r, 300));
  } finally {
    process.kill(storagePid, 'SIGCONT');
  }
  const object = parse((await created).object);
  assert.equal(object.metadata.name, 'drained');
  assert.equal((await plane.processes.gateway.exited).code, 0);
  await plane.restart('gateway');
});

test('SIGTERM stops every service cleanly: open watches end, exit code 0', async () => {
  const events: string[] = [];
  // How the watch ends is taken as soon as it starts: it may fail while plane.stop() runs.
  const watchEnd = (async () => {
    for await (const e of serverStream(client, 'watch', { ref: cmRef(), options: {} }, opts({ timeoutMs: undefined }))) events.push(e.type);
  })().then(() => undefined, (err: unknown) => err);
  await new Promise((r) => setTimeout(r, 300));
  const exits = SERVICE_NAMES.map((n) => plane.processes[n].exited);
  await plane.stop();
  // The stream ends (normally or with a Status once the gateway is gone), it does not hang.
  const ended = await watchEnd;
  assert.ok(ended === undefined || ended instanceof StatusError, `the watch ended with ${String(ended)}`);
  for (const [i, exit] of exits.entries()) {
    const status = await exit;
    assert.equal(status.code, 0, `${SERVICE_NAMES[i]} exited with ${JSON.stringify(status)}`);
  }
});
