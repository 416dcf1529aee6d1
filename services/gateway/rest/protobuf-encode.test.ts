/**
 * Tests of the JSON-to-protobuf encoder: the bytes Go writes (real kubectl bodies), values read
 * back by an independent decoder (protobufjs over the generated .proto files), and the way back
 * through the project's decoder.
 * Run: ./node_modules/.bin/node --test services/gateway/rest/protobuf-encode.test.ts
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import { StatusError } from '../../../lib/errors.ts';
import { KubeProtobufDecoder } from './protobuf.ts';
import { KubeProtobufEncoder } from './protobuf-encode.ts';

const decoder = new KubeProtobufDecoder();
const encoder = new KubeProtobufEncoder(decoder);

const PROTO_DIR = fileURLToPath(new URL('../../../proto', import.meta.url));
const testdata = (name: string): Buffer => readFileSync(new URL(`testdata/${name}`, import.meta.url));

/** protobufjs over the generated files: a decoder that shares nothing with the project's. */
function independentRoot(): protobuf.Root {
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => `${PROTO_DIR}/${target}`;
  root.loadSync(['k8s/generated/core.v1.proto', 'k8s/generated/apps.v1.proto', 'k8s/generated/apiextensions.v1.proto', 'k8s/generated/batch.v1.proto'], { keepCase: true });
  return root;
}
const root = independentRoot();
const read = (message: string, bytes: Buffer): Record<string, unknown> => {
  const type = root.lookupType(message);
  return type.toObject(type.decode(bytes), { longs: Number, bytes: String, defaults: false }) as Record<string, unknown>;
};

/** The raw object and the TypeMeta of a kube protobuf envelope (magic, then runtime.Unknown). */
function unwrap(body: Buffer): { apiVersion: string; kind: string; raw: Buffer } {
  const unknown = root.lookupType('k8s.io.apimachinery.pkg.runtime.Unknown');
  const u = unknown.decode(body.subarray(4)) as unknown as { typeMeta: { apiVersion: string; kind: string }; raw: Uint8Array };
  return { apiVersion: u.typeMeta.apiVersion, kind: u.typeMeta.kind, raw: Buffer.from(u.raw) };
}

function encodeError(message: string, object: unknown): StatusError {
  try {
    encoder.encode(message, object);
  } catch (err) {
    assert.ok(err instanceof StatusError, String(err));
    return err;
  }
  assert.fail('encoded what should have been refused');
}

test('real kubectl bodies: decoding then encoding gives the bytes Go wrote', () => {
  const bodies = [
    ['kubectl-1.32-create-namespace.pb', 'k8s.io.api.core.v1.Namespace'],
    ['kubectl-1.32-create-configmap.pb', 'k8s.io.api.core.v1.ConfigMap'],
    ['kubectl-1.32-create-secret.pb', 'k8s.io.api.core.v1.Secret'],
    ['kubectl-1.32-create-secret-saveconfig.pb', 'k8s.io.api.core.v1.Secret'],
    ['kubectl-1.32-create-serviceaccount.pb', 'k8s.io.api.core.v1.ServiceAccount'],
  ] as const;
  for (const [file, message] of bodies) {
    const { raw } = unwrap(testdata(file));
    const object = decoder.decodeObject(message, raw);
    assert.equal(encoder.encode(message, object).toString('hex'), raw.toString('hex'), file);
    // and the envelope's decoding agrees with the message's
    const { kind: _kind, apiVersion: _apiVersion, ...fromEnvelope } = decoder.decode(testdata(file));
    assert.deepEqual(object, fromEnvelope, file);
  }
});

test('Go value fields are written as their zeros, pointers only when present, bytes only when present', () => {
  const bytes = encoder.encode('k8s.io.api.core.v1.ConfigMap', { metadata: { name: 'a' } });
  // metadata: name, generateName, namespace, selfLink, uid, resourceVersion, generation, creationTimestamp (empty)
  assert.equal(bytes.toString('hex'), '0a11' + '0a0161' + '1200' + '1a00' + '2200' + '2a00' + '3200' + '3800' + '4200');
  const cm = read('k8s.io.api.core.v1.ConfigMap', bytes);
  assert.equal('immutable' in cm, false, 'a *bool left out is not written');
  const immutable = read('k8s.io.api.core.v1.ConfigMap', encoder.encode('k8s.io.api.core.v1.ConfigMap', { immutable: false }));
  assert.equal(immutable.immutable, false, 'a *bool present is written, false included');
});

test('a Deployment read back by an independent decoder: numbers, IntOrString, Quantity, Time, maps in key order', () => {
  const deployment = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: 'web',
      namespace: 'prod',
      uid: '0b7e1f3c-1111-2222-3333-444455556666',
      resourceVersion: '42',
      generation: 3,
      creationTimestamp: '2024-01-02T03:04:05Z',
      labels: { z: '1', app: 'web', b: '2' },
      unknownField: 'dropped',
    },
    spec: {
      replicas: 3,
      selector: { matchLabels: { app: 'web' } },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: 1 } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: {
          containers: [
            {
              name: 'nginx',
              image: 'nginx:1.27',
              ports: [{ containerPort: 80, protocol: 'TCP' }],
              resources: { limits: { cpu: '500m', memory: '128Mi' }, requests: { cpu: 0.25 } },
            },
          ],
          terminationGracePeriodSeconds: 30,
        },
      },
    },
    status: { observedGeneration: 3, replicas: 3, conditions: [{ type: 'Available', status: 'True', lastUpdateTime: '2025-06-07T08:09:10Z' }] },
  };
  const bytes = encoder.encode('k8s.io.api.apps.v1.Deployment', deployment);
  const got = read('k8s.io.api.apps.v1.Deployment', bytes) as {
    metadata: { name: string; generation: number; creationTimestamp: { seconds: number; nanos: number }; labels: Record<string, string> };
    spec: {
      replicas: number;
      strategy: { rollingUpdate: { maxSurge: unknown; maxUnavailable: unknown } };
      template: { spec: { containers: { resources: { limits: Record<string, unknown>; requests: Record<string, unknown> } }[]; terminationGracePeriodSeconds: number } };
    };
    status: { conditions: { lastUpdateTime: { seconds: number } }[] };
  };
  assert.equal(got.metadata.name, 'web');
  assert.equal(got.metadata.generation, 3);
  assert.deepEqual(got.metadata.creationTimestamp, { seconds: 1704164645, nanos: 0 });
  assert.deepEqual(Object.keys(got.metadata.labels), ['app', 'b', 'z'], 'map entries in key order');
  assert.equal(got.spec.replicas, 3);
  assert.deepEqual(got.spec.strategy.rollingUpdate.maxSurge, { type: 1, intVal: 0, strVal: '25%' });
  assert.deepEqual(got.spec.strategy.rollingUpdate.maxUnavailable, { type: 0, intVal: 1, strVal: '' });
  const resources = got.spec.template.spec.containers[0]!.resources;
  assert.deepEqual(resources.limits, { cpu: { string: '500m' }, memory: { string: '128Mi' } });
  assert.deepEqual(resources.requests, { cpu: { string: '250m' } }, 'a quantity given as a number, in its canonical text');
  assert.equal(got.spec.template.spec.terminationGracePeriodSeconds, 30);
  assert.equal(got.status.conditions[0]!.lastUpdateTime.seconds, 1749283750);

  // and back: what Go's decoding of these bytes gives (the fields kube always writes included)
  const back = decoder.decodeObject('k8s.io.api.apps.v1.Deployment', bytes);
  const { apiVersion: _a, kind: _k, ...expected } = deployment;
  const metadata = { ...expected.metadata } as Record<string, unknown>;
  delete metadata.unknownField;
  assert.deepEqual((back.metadata as Record<string, unknown>).labels, { app: 'web', b: '2', z: '1' });
  assert.deepEqual({ ...(back.metadata as object), labels: undefined }, { ...metadata, labels: undefined });
  const spec = back.spec as { strategy: unknown; template: { spec: { containers: { resources: unknown }[] } } };
  assert.deepEqual(spec.strategy, expected.spec.strategy);
  assert.deepEqual(spec.template.spec.containers[0]!.resources, { limits: { cpu: '500m', memory: '128Mi' }, requests: { cpu: '250m' } });
  // encoding what was decoded gives the same bytes
  assert.deepEqual(encoder.encode('k8s.io.api.apps.v1.Deployment', back), bytes);
});

test('times: fractions kept to the nanosecond (MicroTime: the microsecond), offsets to UTC, the zero time left empty', () => {
  const time = (value: string) => read('k8s.io.api.core.v1.Event', encoder.encode('k8s.io.api.core.v1.Event', { firstTimestamp: value, eventTime: value }));
  const t = time('2024-01-02T04:04:05.123456789+01:00') as { firstTimestamp: unknown; eventTime: unknown };
  assert.deepEqual(t.firstTimestamp, { seconds: 1704164645, nanos: 123456789 });
  assert.deepEqual(t.eventTime, { seconds: 1704164645, nanos: 123456000 });
  const zero = time('0001-01-01T00:00:00Z') as { firstTimestamp?: unknown };
  assert.deepEqual(zero.firstTimestamp, {}, 'an empty message, as metav1.Time writes the zero time');
  assert.match(encodeError('k8s.io.api.core.v1.Event', { firstTimestamp: 'yesterday' }).message, /firstTimestamp: parsing time "yesterday"/);
});

test('a CustomResourceDefinition: the JSON-or-schema types, embedded JSON and doubles survive the way there and back', () => {
  const crd = {
    metadata: { name: 'widgets.example.com' },
    spec: {
      group: 'example.com',
      names: { plural: 'widgets', singular: 'widget', shortNames: ['wd'], kind: 'Widget', listKind: 'WidgetList' },
      scope: 'Namespaced',
      versions: [
        {
          name: 'v1',
          served: true,
          storage: true,
          schema: {
            openAPIV3Schema: {
              type: 'object',
              properties: {
                spec: {
                  type: 'object',
                  required: ['replicas'],
                  properties: {
                    closed: { type: 'object', additionalProperties: false },
                    labels: { type: 'object', additionalProperties: { type: 'string' } },
                    one: { items: { type: 'string', enum: ['a', 'b', null] } },
                    open: { type: 'object', additionalProperties: true },
                    replicas: { type: 'integer', default: 1, maximum: 10.5, minimum: 0 },
                    tags: { type: 'array', items: [{ type: 'string' }, { type: 'integer' }] },
                    anything: { 'x-kubernetes-preserve-unknown-fields': true, default: { a: [1, { b: null }] } },
                  },
                  dependencies: { replicas: ['selector', 'labels'], tags: { type: 'array' } },
                  'x-kubernetes-validations': [{ rule: 'self.replicas >= 0', message: 'no negatives' }],
                },
              },
            },
          },
        },
      ],
    },
    status: { acceptedNames: { plural: 'widgets', kind: 'Widget' }, storedVersions: ['v1'] },
  };
  const message = 'k8s.io.apiextensions_apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinition';
  const bytes = encoder.encode(message, crd);
  const back = decoder.decodeObject(message, bytes) as typeof crd & { spec: { conversion?: unknown } };
  const properties = back.spec.versions[0]!.schema.openAPIV3Schema.properties.spec.properties;
  assert.deepEqual(properties, {
    anything: crd.spec.versions[0]!.schema.openAPIV3Schema.properties.spec.properties.anything,
    closed: { type: 'object', additionalProperties: false },
    labels: { type: 'object', additionalProperties: { type: 'string' } },
    one: { items: { type: 'string', enum: ['a', 'b', null] } },
    open: { type: 'object', additionalProperties: true },
    replicas: { type: 'integer', default: 1, maximum: 10.5, minimum: 0 },
    tags: { type: 'array', items: [{ type: 'string' }, { type: 'integer' }] },
  });
  assert.deepEqual(back.spec.versions[0]!.schema.openAPIV3Schema.properties.spec.dependencies, crd.spec.versions[0]!.schema.openAPIV3Schema.properties.spec.dependencies);
  assert.deepEqual(back.status, crd.status);
  assert.deepEqual(encoder.encode(message, back), bytes, 'stable');
});

test('named lists (metav1.Verbs) and repeated numbers', () => {
  const resource = { name: 'pods', singularName: 'pod', namespaced: true, kind: 'Pod', verbs: ['get', 'list'] };
  const message = 'k8s.io.apimachinery.pkg.apis.meta.v1.APIResource';
  const back = decoder.decodeObject(message, encoder.encode(message, resource));
  assert.deepEqual(back.verbs, ['get', 'list']);
  const ports = { spec: { ports: [{ port: 80 }], externalIPs: ['1.2.3.4'] }, status: { conditions: [] } };
  const svc = decoder.decodeObject('k8s.io.api.core.v1.Service', encoder.encode('k8s.io.api.core.v1.Service', ports)) as { spec: { ports: unknown[]; externalIPs: string[] } };
  assert.deepEqual(svc.spec.ports, [{ port: 80, targetPort: 0 }]);
  assert.deepEqual(svc.spec.externalIPs, ['1.2.3.4']);
});

test('a value its field cannot hold is an InternalError naming the field', () => {
  const cases: [unknown, RegExp][] = [
    [{ spec: { replicas: 'three' } }, /spec\.replicas: a string .* where an integer belongs/],
    [{ spec: { replicas: 1.5 } }, /spec\.replicas: a number \(1\.5\) where an integer belongs/],
    [{ spec: { replicas: 2 ** 31 } }, /spec\.replicas/],
    [{ metadata: { labels: { a: 1 } } }, /metadata\.labels\["a"\]: a number where a string belongs/],
    [{ metadata: { finalizers: 'x' } }, /metadata\.finalizers: a string where an array belongs/],
    [{ spec: [] }, /spec: an array where an object belongs/],
    [{ spec: { strategy: { rollingUpdate: { maxSurge: true } } } }, /maxSurge: a boolean where an integer or a string belongs/],
  ];
  for (const [object, message] of cases) {
    const err = encodeError('k8s.io.api.apps.v1.Deployment', object);
    assert.equal(err.reason, 'InternalError');
    assert.match(err.message, /^the object cannot be encoded as k8s\.io\.api\.apps\.v1\.Deployment: /);
    assert.match(err.message, message);
  }
  assert.throws(() => encoder.encode('k8s.io.api.apps.v1.NoSuchThing', {}), StatusError);
});

test('nulls are absent, as encoding/json leaves a field it reads null alone', () => {
  const bytes = encoder.encode('k8s.io.api.core.v1.ConfigMap', { metadata: { name: 'a', labels: null, deletionTimestamp: null }, data: null, immutable: null });
  assert.deepEqual(bytes, encoder.encode('k8s.io.api.core.v1.ConfigMap', { metadata: { name: 'a' } }));
});

test('int64 values beyond the safe integers (stored from JSON as doubles) are written as the int64 they are', () => {
  const job = (activeDeadlineSeconds: number) => encoder.encode('k8s.io.api.batch.v1.Job', { spec: { activeDeadlineSeconds } });
  const readBack = (bytes: Buffer) => {
    const type = root.lookupType('k8s.io.api.batch.v1.Job');
    return (type.toObject(type.decode(bytes), { longs: String }) as { spec: { activeDeadlineSeconds: string } }).spec.activeDeadlineSeconds;
  };
  assert.equal(readBack(job(2 ** 60)), '1152921504606846976');
  assert.equal(readBack(job(-(2 ** 63))), '-9223372036854775808');
  assert.equal(encodeError('k8s.io.api.batch.v1.Job', { spec: { activeDeadlineSeconds: 2 ** 63 } }).reason, 'InternalError');
});
