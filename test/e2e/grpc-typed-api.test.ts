/**
 * The typed services of the built-in kinds (apiserver.kinds.<group>.<version>.<Kinds>) on the
 * gateway's gRPC port, called as a generic gRPC client would from proto/ alone: the kinds' own
 * protobuf messages in and out, the same objects and the same decisions as the JSON Resources
 * API (both run the same pipeline), warnings as trailing metadata, a watch from a
 * resourceVersion, a 410 as a typed Status, and reflection describing the typed services.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { StatusError } from '../../lib/errors.ts';
import { serverStream, unary, type CallOptions } from '../../lib/grpc/client.ts';
import { fromGrpcError } from '../../lib/grpc-status.ts';
import { PROTO_DIR } from '../../lib/proto.ts';
import { createEtcdClient } from '../../services/storage/backends/etcd.ts';
import { KubeProtobufDecoder } from '../../services/gateway/rest/protobuf.ts';
import { startGrpcPlane, type GrpcPlane } from '../support/grpc-plane.ts';
import { ReflectionClient } from '../support/reflection-client.ts';

let g: GrpcPlane;
let typed: grpc.Client;
let services: Record<string, grpc.ServiceDefinition>;
const decoder = new KubeProtobufDecoder();

before(async () => {
  // A small watch cache, so that a compacted resourceVersion can be provoked.
  g = await startGrpcPlane('typed', { flags: { watch: ['--cache-capacity=4'] } });
  const definition = protoLoader.loadSync(['apiserver/kinds/core_v1.proto', 'apiserver/kinds/apiextensions_v1.proto'], {
    includeDirs: [PROTO_DIR],
    longs: String,
    enums: String,
    oneofs: true,
  });
  services = Object.fromEntries(Object.entries(definition).filter(([name]) => name.startsWith('apiserver.kinds.'))) as Record<string, grpc.ServiceDefinition>;
  typed = new grpc.Client(g.plane.addresses.gateway, grpc.credentials.createInsecure());
});

after(async () => {
  typed?.close();
  await g?.stop();
});

const CONFIG_MAPS = 'apiserver.kinds.core.v1.ConfigMaps';
const NAMESPACES = 'apiserver.kinds.core.v1.Namespaces';
const CRDS = 'apiserver.kinds.apiextensions.v1.CustomResourceDefinitions';

interface CallResult<T> {
  response: T;
  trailers: grpc.Metadata;
}

/**
 * Calls a typed unary method; with `raw`, the answer is its bytes (to read with the project's
 * decoder) rather than proto-loader's object.
 */
function call<T = Record<string, unknown>>(service: string, method: string, request: object, options: { metadata?: grpc.Metadata; raw?: boolean } = {}): Promise<CallResult<T>> {
  const def = services[service]![method]!;
  return new Promise((resolve, reject) => {
    let response: T | undefined;
    // the answer comes before the status that carries the trailers
    const c = typed.makeUnaryRequest(
      def.path,
      def.requestSerialize,
      options.raw === true ? (b: Buffer) => b : def.responseDeserialize,
      request,
      options.metadata ?? g.auth,
      { deadline: Date.now() + 20_000 },
      (err, r) => {
        if (err !== null) reject(fromGrpcError(err));
        else response = r as T;
      },
    );
    c.on('status', (s: grpc.StatusObject) => {
      if (s.code === grpc.status.OK) resolve({ response: response as T, trailers: s.metadata });
    });
  });
}

async function refusal(promise: Promise<unknown>): Promise<StatusError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof StatusError, String(err));
    return err;
  }
  assert.fail('expected a refusal');
}

const opts = (extra: Partial<CallOptions> = {}): CallOptions => ({ metadata: g.auth, timeoutMs: 20_000, ...extra });
const cmRef = (name = '') => ({ group: '', version: 'v1', resource: 'configmaps', namespace: 'typed', name });
const jsonOf = (b: Buffer) => JSON.parse(b.toString()) as Record<string, unknown> & { metadata: Record<string, unknown> };
const withoutTypeMeta = ({ kind: _k, apiVersion: _a, ...rest }: Record<string, unknown>) => rest;

interface Meta {
  name: string;
  namespace?: string;
  uid: string;
  resourceVersion: string;
  creationTimestamp: { seconds: string; nanos: number };
}

test('a ConfigMap through its typed service: the JSON API sees the same object, bytes included', async () => {
  const { response: ns } = await call<{ metadata: Meta; status: { phase: string } }>(NAMESPACES, 'Create', { object: { metadata: { name: 'typed' } } });
  assert.equal(ns.metadata.name, 'typed');
  assert.equal(ns.status.phase, 'Active');

  const object = { metadata: { name: 'one', labels: { app: 'web' } }, data: { a: 'b' }, binaryData: { bin: Buffer.from([0xff, 0xfe, 0x00]) } };
  const { response: created } = await call<{ metadata: Meta; data: Record<string, string>; binaryData: Record<string, Buffer> }>(CONFIG_MAPS, 'Create', { namespace: 'typed', object });
  assert.equal(created.metadata.namespace, 'typed');
  assert.match(created.metadata.uid, /^[0-9a-f-]{36}$/);
  assert.ok(Math.abs(Number(created.metadata.creationTimestamp.seconds) * 1000 - Date.now()) < 60_000);
  assert.deepEqual(created.binaryData.bin, Buffer.from([0xff, 0xfe, 0x00]));

  // the JSON API has the same object, and the typed answer decodes (kube's way) to exactly it
  const json = jsonOf((await unary(g.client, 'get', { ref: cmRef('one') }, opts())).object);
  assert.equal(json.metadata.uid, created.metadata.uid);
  assert.deepEqual(json.binaryData, { bin: '//4A' });
  const { response: raw } = await call<Buffer>(CONFIG_MAPS, 'Get', { namespace: 'typed', name: 'one' }, { raw: true });
  assert.deepEqual(decoder.decodeObject('k8s.io.api.core.v1.ConfigMap', raw), withoutTypeMeta(json));

  // list, update (conditional on the resourceVersion), patch, delete
  const { response: list } = await call<{ metadata: { resourceVersion: string }; items: { metadata: Meta }[] }>(CONFIG_MAPS, 'List', { namespace: 'typed' });
  assert.deepEqual(list.items.map((i) => i.metadata.name), ['one']);
  assert.ok(Number(list.metadata.resourceVersion) >= Number(created.metadata.resourceVersion));
  const { response: updated } = await call<{ metadata: Meta; data: Record<string, string> }>(CONFIG_MAPS, 'Update', {
    namespace: 'typed',
    object: { metadata: { name: 'one', resourceVersion: created.metadata.resourceVersion }, data: { a: 'c' } },
  });
  assert.deepEqual(updated.data, { a: 'c' });
  const stale = await refusal(call(CONFIG_MAPS, 'Update', { namespace: 'typed', object: { metadata: { name: 'one', resourceVersion: created.metadata.resourceVersion }, data: {} } }));
  assert.equal(stale.reason, 'Conflict');
  const { response: patched } = await call<{ data: Record<string, string> }>(CONFIG_MAPS, 'Patch', {
    namespace: 'typed',
    name: 'one',
    type: 'PATCH_TYPE_MERGE',
    patch: Buffer.from(JSON.stringify({ data: { d: 'e' } })),
  });
  assert.deepEqual(patched.data, { a: 'c', d: 'e' });
  const { response: deleted } = await call<{ metadata: Meta }>(CONFIG_MAPS, 'Delete', { namespace: 'typed', name: 'one' });
  assert.equal(deleted.metadata.uid, created.metadata.uid);
  assert.equal((await refusal(call(CONFIG_MAPS, 'Get', { namespace: 'typed', name: 'one' }))).reason, 'NotFound');
});

test('the same decisions as the JSON API: the same Statuses for the same requests', async () => {
  const same = async (typedCall: () => Promise<unknown>, jsonCall: () => Promise<unknown>): Promise<StatusError> => {
    const a = await refusal(typedCall());
    const b = await refusal(jsonCall());
    assert.deepEqual({ reason: a.reason, message: a.message, details: a.details }, { reason: b.reason, message: b.message, details: b.details });
    return a;
  };
  const invalid = await same(
    () => call(CONFIG_MAPS, 'Create', { namespace: 'typed', object: { metadata: { name: 'Bad_Name' } } }),
    () => unary(g.client, 'create', { ref: cmRef(), object: Buffer.from(JSON.stringify({ metadata: { name: 'Bad_Name' } })) }, opts()),
  );
  assert.equal(invalid.reason, 'Invalid');
  assert.equal(invalid.details?.causes?.[0]?.field, 'metadata.name');
  await call(CONFIG_MAPS, 'Create', { namespace: 'typed', object: { metadata: { name: 'twice' } } });
  const exists = await same(
    () => call(CONFIG_MAPS, 'Create', { namespace: 'typed', object: { metadata: { name: 'twice' } } }),
    () => unary(g.client, 'create', { ref: cmRef(), object: Buffer.from(JSON.stringify({ metadata: { name: 'twice' } })) }, opts()),
  );
  assert.equal(exists.message, 'configmaps "twice" already exists');
  const nobody = new grpc.Metadata();
  const unauthenticated = await same(
    () => call(CONFIG_MAPS, 'List', { namespace: 'typed' }, { metadata: nobody }),
    () => unary(g.client, 'list', { ref: cmRef() }, {}),
  );
  assert.equal(unauthenticated.code, 401);
  const otherNamespace = await same(
    () => call(CONFIG_MAPS, 'Create', { namespace: 'typed', object: { metadata: { name: 'x', namespace: 'elsewhere' } } }),
    () => unary(g.client, 'create', { ref: cmRef(), object: Buffer.from(JSON.stringify({ metadata: { name: 'x', namespace: 'elsewhere' } })) }, opts()),
  );
  assert.equal(otherNamespace.message, 'the namespace of the provided object does not match the namespace sent on the request');
  // what the typed requests themselves must name
  assert.equal((await refusal(call(CONFIG_MAPS, 'Create', { object: { metadata: { name: 'x' } } }))).message, 'namespace is required');
  assert.equal((await refusal(call(NAMESPACES, 'Get', { namespace: 'typed', name: 'typed' }))).message, 'namespaces is not namespaced');
  assert.equal((await refusal(call(CONFIG_MAPS, 'Get', { namespace: 'typed' }))).message, 'name is required');
  assert.equal((await refusal(call(CONFIG_MAPS, 'Update', { namespace: 'typed', object: { data: {} } }))).message, 'object.metadata.name is required');
});

test('warnings come as "warning" trailing metadata; a malformed object is INVALID_ARGUMENT', async () => {
  await call(CONFIG_MAPS, 'Create', { namespace: 'typed', object: { metadata: { name: 'warned' } } });
  const patch = { namespace: 'typed', name: 'warned', type: 'PATCH_TYPE_MERGE', patch: Buffer.from('{"bogus":1}'), fieldValidation: 'Warn' };
  const { trailers } = await call(CONFIG_MAPS, 'Patch', patch);
  assert.deepEqual(trailers.get('warning'), ['unknown field "bogus"']);
  // an object field that is no message: refused before any handler
  const definition = services[CONFIG_MAPS]!.Create!;
  const garbage = await new Promise<grpc.ServiceError>((resolve) => {
    typed.makeUnaryRequest(definition.path, (b: Buffer) => b, (b: Buffer) => b, Buffer.from([0x10, 0x01, 0x12, 0x05, 0x0a]), g.auth, {}, (err) => resolve(err!));
  });
  assert.equal(garbage.code, grpc.status.INVALID_ARGUMENT);
  // a Time that is not one: 400 from the codec's strict reading (wire type 2 for a varint field)
  const badTime = Buffer.from([0x12, 0x06, 0x0a, 0x04, 0x42, 0x02, 0x0a, 0x00]);
  const refused = await refusal(
    new Promise((resolve, reject) => {
      typed.makeUnaryRequest(definition.path, (b: Buffer) => b, (b: Buffer) => b, Buffer.concat([Buffer.from([0x0a, 0x05]), Buffer.from('typed'), badTime]), g.auth, {}, (err, r) =>
        err !== null ? reject(fromGrpcError(err)) : resolve(r),
      );
    }),
  );
  assert.equal(refused.reason, 'BadRequest');
  assert.match(refused.message, /^unable to decode the protobuf message k8s\.io\.api\.core\.v1\.ConfigMap: wrong wire type 2/);
});

test('a Deployment through its typed service: kube\'s defaults come back as typed values (IntOrString, pointers)', async () => {
  const deployments = 'apiserver.kinds.apps.v1.Deployments';
  const definition = protoLoader.loadSync('apiserver/kinds/apps_v1.proto', { includeDirs: [PROTO_DIR], longs: String, enums: String, oneofs: true });
  services[deployments] = definition[deployments] as grpc.ServiceDefinition;
  const template = { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx:1.27' }] } };
  const object = { metadata: { name: 'web' }, spec: { selector: { matchLabels: { app: 'web' } }, template, strategy: { rollingUpdate: { maxSurge: { type: '0', intVal: 2 } } } } };
  type Deployment = {
    metadata: Meta & { generation: string };
    spec: { replicas: number; revisionHistoryLimit: number; progressDeadlineSeconds: number; strategy: { type: string; rollingUpdate: { maxSurge: unknown; maxUnavailable: unknown } } };
  };
  const { response: created } = await call<Deployment>(deployments, 'Create', { namespace: 'typed', object });
  assert.equal(created.metadata.generation, '1', 'int64 as a string');
  assert.equal(created.spec.replicas, 1, 'the default of a *int32 left out');
  assert.equal(created.spec.revisionHistoryLimit, 10);
  assert.equal(created.spec.progressDeadlineSeconds, 600);
  assert.equal(created.spec.strategy.type, 'RollingUpdate');
  assert.deepEqual(created.spec.strategy.rollingUpdate.maxSurge, { type: '0', intVal: 2, strVal: '' }, 'the number sent');
  assert.deepEqual(created.spec.strategy.rollingUpdate.maxUnavailable, { type: '1', intVal: 0, strVal: '25%' }, 'the default, a string');
  const json = jsonOf((await unary(g.client, 'get', { ref: { group: 'apps', version: 'v1', resource: 'deployments', namespace: 'typed', name: 'web' } }, opts())).object);
  assert.deepEqual((json.spec as { strategy: unknown }).strategy, { type: 'RollingUpdate', rollingUpdate: { maxSurge: 2, maxUnavailable: '25%' } });
  const immutable = await refusal(
    call(deployments, 'Update', { namespace: 'typed', object: { ...object, spec: { ...object.spec, selector: { matchLabels: { app: 'other' } }, template: { ...template, metadata: { labels: { app: 'other' } } } } } }),
  );
  assert.equal(immutable.reason, 'Invalid');
  assert.ok(immutable.details?.causes?.some((c) => c.field === 'spec.selector'), JSON.stringify(immutable.details));
});

interface TypedEvent {
  type: string;
  resourceVersion: string;
  object?: { metadata: Meta; data?: Record<string, string> };
  status?: { code: number; reason: string; message: string };
}

/** The events of a typed watch until `enough` says so (or the stream ends). */
async function watchEvents(request: object, enough: (events: TypedEvent[]) => boolean): Promise<TypedEvent[]> {
  const stream = typed.makeServerStreamRequest(services[CONFIG_MAPS]!.Watch!.path, services[CONFIG_MAPS]!.Watch!.requestSerialize, services[CONFIG_MAPS]!.Watch!.responseDeserialize, request, g.auth, {
    deadline: Date.now() + 30_000,
  });
  const events: TypedEvent[] = [];
  try {
    for await (const e of stream as AsyncIterable<TypedEvent>) {
      events.push(e);
      if (enough(events)) break;
    }
  } catch (err) {
    if ((err as grpc.ServiceError).code !== grpc.status.CANCELLED) throw fromGrpcError(err as grpc.ServiceError);
  } finally {
    stream.cancel();
  }
  return events;
}

test('a typed watch from a resourceVersion sees the later changes, each a typed object', async () => {
  const { response: first } = await call<{ metadata: Meta }>(CONFIG_MAPS, 'Create', { namespace: 'typed', object: { metadata: { name: 'watched' }, data: { v: '1' } } });
  const from = first.metadata.resourceVersion;
  await call(CONFIG_MAPS, 'Update', { namespace: 'typed', object: { metadata: { name: 'watched' }, data: { v: '2' } } });
  await call(CONFIG_MAPS, 'Delete', { namespace: 'typed', name: 'watched' });
  const events = await watchEvents({ namespace: 'typed', options: { resourceVersion: from, fieldSelector: 'metadata.name=watched' } }, (e) => e.length === 2);
  assert.deepEqual(
    events.map((e) => [e.type, e.object?.metadata.name, e.object?.data]),
    [
      ['MODIFIED', 'watched', { v: '2' }],
      ['DELETED', 'watched', { v: '2' }],
    ],
  );
  assert.equal(events[0]!.resourceVersion, events[0]!.object!.metadata.resourceVersion);
  assert.ok(Number(events[1]!.resourceVersion) > Number(events[0]!.resourceVersion));
});

test('a typed watch from a compacted revision ends with ERROR carrying a typed 410 Status', async () => {
  const { response: old } = await call<{ metadata: { resourceVersion: string } }>(CONFIG_MAPS, 'List', { namespace: 'typed' });
  for (const name of ['c1', 'c2', 'c3', 'c4', 'c5']) await call(CONFIG_MAPS, 'Create', { namespace: 'typed', object: { metadata: { name } } });
  const { response: now } = await call<{ metadata: { resourceVersion: string } }>(CONFIG_MAPS, 'List', { namespace: 'typed' });
  const etcd = createEtcdClient(g.plane.etcdEndpoints);
  await etcd.kv.compact({ revision: now.metadata.resourceVersion });
  etcd.close();
  const events = await watchEvents({ namespace: 'typed', options: { resourceVersion: old.metadata.resourceVersion } }, (e) => e.some((x) => x.type === 'ERROR'));
  assert.deepEqual(events.map((e) => e.type), ['ERROR']);
  const error = events[0]!;
  assert.equal(error.status?.code, 410);
  assert.equal(error.status?.reason, 'Expired');
  assert.match(error.status?.message ?? '', /^too old resource version: \d+ \(\d+\)$/);
  assert.equal(error.object, undefined);
});

test('a CustomResourceDefinition through its typed service: schemas with every JSON-or-schema form', async () => {
  const schema = {
    type: 'object',
    properties: {
      spec: {
        type: 'object',
        properties: {
          replicas: { type: 'integer', minimum: 0, default: 1 },
          labels: { type: 'object', additionalProperties: { type: 'string' } },
          anything: { 'x-kubernetes-preserve-unknown-fields': true },
        },
      },
    },
  };
  const object = {
    metadata: { name: 'gadgets.example.com' },
    spec: {
      group: 'example.com',
      names: { plural: 'gadgets', singular: 'gadget', kind: 'Gadget', listKind: 'GadgetList' },
      scope: 'Namespaced',
      versions: [{ name: 'v1', served: true, storage: true }],
    },
  };
  // The typed message carries JSONSchemaProps as messages: the schema goes in through the codec's
  // own encoding (raw bytes), which is how any protobuf client writes it.
  const { KubeProtobufEncoder } = await import('../../services/gateway/rest/protobuf-encode.ts');
  const encoder = new KubeProtobufEncoder(decoder);
  const message = 'k8s.io.apiextensions_apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinition';
  const withSchema = { ...object, spec: { ...object.spec, versions: [{ ...object.spec.versions[0], schema: { openAPIV3Schema: schema } }] } };
  const objectBytes = encoder.encode(message, withSchema);
  const request = Buffer.concat([Buffer.from([0x12]), varint(objectBytes.length), objectBytes]);
  const createdBytes = await new Promise<Buffer>((resolve, reject) => {
    typed.makeUnaryRequest(services[CRDS]!.Create!.path, (b: Buffer) => b, (b: Buffer) => b, request, g.auth, {}, (err, r) => (err !== null ? reject(fromGrpcError(err)) : resolve(r!)));
  });
  const created = decoder.decodeObject(message, createdBytes) as typeof withSchema & { metadata: { uid: string } };
  assert.deepEqual(created.spec.versions[0]!.schema.openAPIV3Schema, schema);
  const json = jsonOf((await unary(g.client, 'get', { ref: { group: 'apiextensions.k8s.io', version: 'v1', resource: 'customresourcedefinitions', namespace: '', name: 'gadgets.example.com' } }, opts())).object);
  assert.equal(json.metadata.uid, created.metadata.uid);
  assert.deepEqual((json.spec as typeof withSchema.spec).versions[0]!.schema.openAPIV3Schema, schema);
  await call(CRDS, 'Delete', { name: 'gadgets.example.com' });
});

function varint(n: number): Buffer {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  out.push(n);
  return Buffer.from(out);
}

test('reflection describes the typed services and the Kubernetes messages they carry', async () => {
  const client = new ReflectionClient(g.plane.addresses.gateway, 'v1');
  try {
    const listed = await client.listServices();
    for (const name of [CONFIG_MAPS, NAMESPACES, 'apiserver.kinds.core.v1.Nodes', CRDS]) assert.ok(listed.includes(name), name);
    const files = await client.fileContainingSymbol(CONFIG_MAPS);
    const file = files[0]!;
    assert.equal(file.package, 'apiserver.kinds.core.v1');
    const service = file.service!.find((s) => s.name === 'ConfigMaps')!;
    const get = service.method!.find((m) => m.name === 'Get')!;
    assert.deepEqual([get.inputType, get.outputType], ['.apiserver.v1.TypedGetRequest', '.k8s.io.api.core.v1.ConfigMap']);
    const names = new Set(files.map((f) => f.name));
    for (const f of files) for (const d of f.dependency ?? []) assert.ok(names.has(d), `${f.name} imports ${d}, sent along`);
    const configMap = (await client.fileContainingSymbol('k8s.io.api.core.v1.ConfigMap'))[0]!;
    assert.equal(configMap.package, 'k8s.io.api.core.v1');
    const fields = configMap.messageType!.find((m) => m.name === 'ConfigMap')!.field!.map((f) => [f.name, f.number]);
    assert.deepEqual(fields, [
      ['metadata', 1],
      ['immutable', 4],
      ['data', 2],
      ['binaryData', 3],
    ]);
  } finally {
    client.close();
  }
});

test('server-side apply through a typed service: created, conflicting, forced; writes record their manager', async () => {
  await call(NAMESPACES, 'Create', { object: { metadata: { name: 'typed-apply' } } }).catch(() => undefined);
  const applyOf = (data: Record<string, string>) => Buffer.from(`apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: applied\ndata:\n${Object.entries(data).map(([k, v]) => `  ${k}: "${v}"`).join('\n')}\n`);
  interface Managed {
    metadata: { managedFields: { manager: string; operation: string }[] };
    data: Record<string, string>;
  }
  const request = (data: Record<string, string>, fieldManager: string, force = false) => ({ namespace: 'typed-apply', name: 'applied', type: 'PATCH_TYPE_APPLY', patch: applyOf(data), fieldManager, force });
  const { response: created } = await call<Managed>(CONFIG_MAPS, 'Patch', request({ a: '1', b: '2' }, 'one'));
  assert.deepEqual(created.data, { a: '1', b: '2' });
  assert.deepEqual(created.metadata.managedFields.map((e) => [e.manager, e.operation]), [['one', 'Apply']]);
  const conflict = await refusal(call(CONFIG_MAPS, 'Patch', request({ a: '9' }, 'two')));
  assert.equal(conflict.reason, 'Conflict');
  assert.equal(conflict.message, 'Apply failed with 1 conflict: conflict with "one": .data.a');
  const { response: forced } = await call<Managed>(CONFIG_MAPS, 'Patch', request({ a: '9' }, 'two', true));
  assert.deepEqual(forced.data, { a: '9', b: '2' });
  assert.deepEqual(forced.metadata.managedFields.map((e) => e.manager).sort(), ['one', 'two']);
  const noManager = await refusal(call(CONFIG_MAPS, 'Patch', request({ a: '1' }, '')));
  assert.equal(noManager.message, 'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch');
  const forcedMerge = await refusal(call(CONFIG_MAPS, 'Patch', { namespace: 'typed-apply', name: 'applied', type: 'PATCH_TYPE_MERGE', patch: Buffer.from('{}'), force: true }));
  assert.equal(forcedMerge.message, 'PatchOptions.meta.k8s.io "" is invalid: force: Forbidden: may not be specified for non-apply patch');
  // A create names its manager; without one the manager is the user-agent's prefix (grpc-js: "grpc-node-js").
  const { response: named } = await call<Managed>(CONFIG_MAPS, 'Create', { namespace: 'typed-apply', object: { metadata: { name: 'named' }, data: { x: 'y' } }, fieldManager: 'creator' });
  assert.deepEqual(named.metadata.managedFields.map((e) => [e.manager, e.operation]), [['creator', 'Update']]);
  const { response: unnamed } = await call<Managed>(CONFIG_MAPS, 'Create', { namespace: 'typed-apply', object: { metadata: { name: 'unnamed' }, data: { x: 'y' } } });
  assert.deepEqual(unnamed.metadata.managedFields.map((e) => e.manager), ['grpc-node-js']);
});

test('DeleteCollection and delete options, typed and over the Resources API: what is selected goes, finalizers as the propagation policy says', async () => {
  for (const [name, labels] of [
    ['dc-a1', { dc: 'a' }],
    ['dc-a2', { dc: 'a' }],
    ['dc-b1', { dc: 'b' }],
    ['dc-c1', { dc: 'c' }],
  ] as const) {
    await call(CONFIG_MAPS, 'Create', { namespace: 'typed', object: { metadata: { name, labels } } });
  }
  // a dry run lists what it would delete and deletes nothing
  const { response: dry } = await call<{ items: { metadata: Meta }[] }>(CONFIG_MAPS, 'DeleteCollection', { namespace: 'typed', options: { labelSelector: 'dc=a' }, dryRun: true });
  assert.deepEqual(dry.items.map((i) => i.metadata.name), ['dc-a1', 'dc-a2']);
  await call(CONFIG_MAPS, 'Get', { namespace: 'typed', name: 'dc-a1' });
  const { response: gone } = await call<{ items: { metadata: Meta }[] }>(CONFIG_MAPS, 'DeleteCollection', { namespace: 'typed', options: { labelSelector: 'dc=a' } });
  assert.deepEqual(gone.items.map((i) => i.metadata.name), ['dc-a1', 'dc-a2']);
  for (const n of ['dc-a1', 'dc-a2']) assert.equal((await refusal(call(CONFIG_MAPS, 'Get', { namespace: 'typed', name: n }))).reason, 'NotFound');
  // the Resources API: Orphan leaves the object marked, with the `orphan` finalizer
  const listed = await unary(g.client, 'deleteCollection', { ref: cmRef(), options: { fieldSelector: 'metadata.name=dc-b1' }, propagationPolicy: 'Orphan' }, opts());
  assert.deepEqual(listed.items.map((b) => jsonOf(b).metadata.name), ['dc-b1']);
  // The object's next state (watched from the state the answer lists): the garbage collector
  // may orphan its dependents and let it go any moment after it was marked, so a read could
  // already find it gone.
  const before = String(jsonOf(listed.items[0] ?? Buffer.from('{}')).metadata.resourceVersion);
  const controller = new AbortController();
  let marked: ReturnType<typeof jsonOf> | undefined;
  for await (const e of serverStream(g.client, 'watch', { ref: cmRef(), options: { fieldSelector: 'metadata.name=dc-b1', resourceVersion: before } }, { ...opts(), signal: controller.signal })) {
    assert.equal(e.type, 'MODIFIED');
    marked = jsonOf(e.object);
    break;
  }
  controller.abort();
  assert.ok(marked !== undefined);
  assert.deepEqual(marked.metadata.finalizers, ['orphan']);
  assert.equal(typeof marked.metadata.deletionTimestamp, 'string');
  // a typed Delete with Foreground; options refused as REST refuses them
  const { response: fg } = await call<{ metadata: Meta & { finalizers: string[] } }>(CONFIG_MAPS, 'Delete', { namespace: 'typed', name: 'dc-c1', propagationPolicy: 'Foreground' });
  assert.deepEqual(fg.metadata.finalizers, ['foregroundDeletion']);
  const both = await refusal(call(CONFIG_MAPS, 'Delete', { namespace: 'typed', name: 'dc-c1', propagationPolicy: 'Orphan', orphanDependents: true }));
  assert.equal(both.reason, 'Invalid');
  assert.match(both.message, /orphanDependents and deletionPropagation cannot be both set/);
  // namespaces delete no collection
  assert.equal((await refusal(call(NAMESPACES, 'DeleteCollection', {}))).reason, 'MethodNotAllowed');
});
