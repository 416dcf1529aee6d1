/**
 * Tests of protobuf answers: kube's envelope (byte for byte against bodies Go wrote), the frames
 * of a protobuf watch stream, and objects, lists and Statuses read back by an independent
 * decoder (protobufjs over the generated .proto files).
 * Run: ./node_modules/.bin/node --test services/gateway/rest/media/protobuf.test.ts
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import { StatusError } from '../../../../lib/errors.ts';
import { builtinRegistry } from '../../../../lib/kinds/index.ts';
import { CUSTOM_RESOURCE_DEFINITION } from '../../../../lib/kinds/builtin/customresourcedefinition.ts';
import { kindsOfDefinition } from '../../../../lib/kinds/custom.ts';
import { KubeProtobufDecoder } from '../protobuf.ts';
import { protobufEnvelope, ProtobufAnswers, protobufWatchFrame } from './protobuf.ts';

const plans = new KubeProtobufDecoder();
const answers = new ProtobufAnswers(plans);

const PROTO_DIR = fileURLToPath(new URL('../../../../proto', import.meta.url));
const testdata = (name: string): Buffer => readFileSync(new URL(`../testdata/${name}`, import.meta.url));

const root = new protobuf.Root();
root.resolvePath = (_origin, target) => `${PROTO_DIR}/${target}`;
root.loadSync(['k8s/generated/core.v1.proto', 'k8s/generated/apps.v1.proto', 'k8s/generated/meta.v1.proto', 'k8s/generated/runtime.proto'], { keepCase: true });

const read = (message: string, bytes: Uint8Array): Record<string, unknown> => {
  const type = root.lookupType(message);
  return type.toObject(type.decode(bytes), { longs: Number, bytes: String, defaults: false }) as Record<string, unknown>;
};

/** The TypeMeta and raw object of an enveloped body, read by protobufjs. */
function unwrap(body: Buffer): { apiVersion: string; kind: string; raw: Buffer } {
  assert.equal(body.subarray(0, 4).toString('hex'), '6b387300', 'the k8s\\0 magic');
  const u = root.lookupType('k8s.io.apimachinery.pkg.runtime.Unknown').decode(body.subarray(4)) as unknown as {
    typeMeta: { apiVersion: string; kind: string };
    raw: Uint8Array;
  };
  return { apiVersion: u.typeMeta.apiVersion, kind: u.typeMeta.kind, raw: Buffer.from(u.raw) };
}

function kind(group: string, version: string, resource: string) {
  const k = builtinRegistry().get(group, version, resource);
  assert.ok(k !== undefined, `${group}/${version}/${resource}`);
  return k;
}

describe('the envelope', () => {
  test('k8s\\0, then runtime.Unknown: TypeMeta, raw, and the empty contentEncoding and contentType, as kube writes them', () => {
    const body = protobufEnvelope('v1', 'ConfigMap', Buffer.from([0x0a, 0x00]));
    const typeMeta = `0a02${Buffer.from('v1').toString('hex')}1209${Buffer.from('ConfigMap').toString('hex')}`;
    assert.equal(body.toString('hex'), `6b387300` + `0a0f${typeMeta}` + '12020a00' + '1a00' + '2200');
  });

  test('real kubectl bodies: what Go wrote for an object is what is answered for it, envelope included', () => {
    for (const file of ['namespace', 'configmap', 'secret', 'secret-saveconfig', 'serviceaccount']) {
      const sent = testdata(`kubectl-1.32-create-${file}.pb`);
      const object = plans.decode(sent);
      assert.equal(answers.encode(object).toString('hex'), sent.toString('hex'), file);
    }
  });
});

describe('watch frames', () => {
  test('a 4-byte big-endian length, then a bare metav1.WatchEvent whose object.raw is the enveloped object', () => {
    const object = protobufEnvelope('v1', 'ConfigMap', Buffer.alloc(300, 0x20));
    const frame = protobufWatchFrame('MODIFIED', object);
    assert.equal(frame.readUInt32BE(0), frame.length - 4);
    assert.ok(frame.length - 4 > 255, 'a length of more than one byte, to tell the byte order');
    const event = frame.subarray(4);
    // no magic and no Unknown around the event (kube's RawSerializer)
    assert.equal(event.subarray(0, 10).toString('hex'), `0a08${Buffer.from('MODIFIED').toString('hex')}`);
    const decoded = root.lookupType('k8s.io.apimachinery.pkg.apis.meta.v1.WatchEvent').decode(event) as unknown as { type: string; object: { raw: Uint8Array } };
    assert.equal(decoded.type, 'MODIFIED');
    assert.deepEqual(Buffer.from(decoded.object.raw), object);
  });

  test('frames follow one another in a stream and are read back by their lengths', () => {
    const a = protobufWatchFrame('ADDED', answers.encode({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a', resourceVersion: '5' } }));
    const b = protobufWatchFrame('DELETED', answers.encode({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'b', resourceVersion: '6' } }));
    const stream = Buffer.concat([a, b]);
    const names: string[] = [];
    for (let at = 0; at < stream.length; ) {
      const length = stream.readUInt32BE(at);
      const event = read('k8s.io.apimachinery.pkg.apis.meta.v1.WatchEvent', stream.subarray(at + 4, at + 4 + length)) as { type: string; object: { raw: string } };
      const { kind: k, raw } = unwrap(Buffer.from(event.object.raw, 'base64'));
      assert.equal(k, 'ConfigMap');
      names.push(`${event.type} ${(read('k8s.io.api.core.v1.ConfigMap', raw).metadata as { name: string }).name}`);
      at += 4 + length;
    }
    assert.deepEqual(names, ['ADDED a', 'DELETED b']);
  });
});

describe('ProtobufAnswers', () => {
  test('built-in kinds have protobuf; custom resources do not', () => {
    for (const [g, v, r] of [['', 'v1', 'configmaps'], ['', 'v1', 'secrets'], ['', 'v1', 'services'], ['apps', 'v1', 'deployments'], ['apiextensions.k8s.io', 'v1', 'customresourcedefinitions']] as const) {
      assert.equal(answers.serves(kind(g, v, r)), true, r);
    }
    const crd = {
      metadata: { name: 'widgets.example.com' },
      spec: { group: 'example.com', scope: 'Namespaced', names: { plural: 'widgets', kind: 'Widget' }, versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object' } } }] },
    };
    const [widgets] = kindsOfDefinition(CUSTOM_RESOURCE_DEFINITION.strategy.prepareForCreate?.(crd) ?? crd);
    assert.ok(widgets !== undefined);
    assert.equal(answers.serves(widgets), false);
  });

  test('an object in its kind\'s message, TypeMeta from the object', () => {
    const deployment = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace: 'team-a', labels: { app: 'web' }, resourceVersion: '42' },
      spec: { replicas: 3, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'nginx', image: 'nginx:1.27' }] } } },
    };
    const { apiVersion, kind: k, raw } = unwrap(answers.encode(deployment));
    assert.deepEqual([apiVersion, k], ['apps/v1', 'Deployment']);
    const got = read('k8s.io.api.apps.v1.Deployment', raw) as { metadata: { name: string; resourceVersion: string }; spec: { replicas: number; template: { spec: { containers: { image: string }[] } } } };
    assert.equal(got.metadata.name, 'web');
    assert.equal(got.metadata.resourceVersion, '42');
    assert.equal(got.spec.replicas, 3);
    assert.equal(got.spec.template.spec.containers[0]?.image, 'nginx:1.27');
    // and the request-body decoder reads the answer back
    const back = plans.decode(answers.encode(deployment)) as typeof deployment;
    assert.deepEqual([back.apiVersion, back.kind, back.metadata.labels, back.spec.selector], ['apps/v1', 'Deployment', { app: 'web' }, { matchLabels: { app: 'web' } }]);
  });

  test('a list in its List message: ListMeta and items', () => {
    const list = {
      kind: 'SecretList',
      apiVersion: 'v1',
      metadata: { resourceVersion: '77', continue: 'token', remainingItemCount: 4 },
      items: [{ metadata: { name: 's1' }, type: 'Opaque', data: { k: Buffer.from('v').toString('base64') } }, { metadata: { name: 's2' } }],
    };
    const { kind: k, raw } = unwrap(answers.encode(list));
    assert.equal(k, 'SecretList');
    const got = read('k8s.io.api.core.v1.SecretList', raw) as { metadata: Record<string, unknown>; items: { metadata: { name: string }; data?: Record<string, string> }[] };
    // Go writes every value field, its zero included (selfLink); remainingItemCount is a pointer, written when set
    assert.deepEqual(got.metadata, { selfLink: '', resourceVersion: '77', continue: 'token', remainingItemCount: 4 });
    assert.deepEqual(got.items.map((i) => i.metadata.name), ['s1', 's2']);
    assert.equal(Buffer.from(got.items[0]?.data?.k ?? '', 'base64').toString(), 'v');
  });

  test('a Status (an error, or a delete\'s Success) in meta/v1 Status, apiVersion v1', () => {
    const status = new StatusError('NotFound', 'configmaps "nope" not found', { name: 'nope', kind: 'configmaps' }).toStatus();
    const { apiVersion, kind: k, raw } = unwrap(answers.encode(status));
    assert.deepEqual([apiVersion, k], ['v1', 'Status']);
    const got = read('k8s.io.apimachinery.pkg.apis.meta.v1.Status', raw);
    assert.equal(got.status, 'Failure');
    assert.equal(got.reason, 'NotFound');
    assert.equal(got.code, 404);
    assert.equal(got.message, 'configmaps "nope" not found');
    assert.deepEqual(got.details, { name: 'nope', group: '', kind: 'configmaps', uid: '', retryAfterSeconds: 0 });
  });

  test('encodeAs: the message of the kind given, whatever the object says (watch events, bookmarks)', () => {
    const bookmark = { kind: 'ConfigMap', apiVersion: 'v1', metadata: { resourceVersion: '9', annotations: { 'k8s.io/initial-events-end': 'true' } } };
    const { kind: k, raw } = unwrap(answers.encodeAs('v1', 'ConfigMap', bookmark));
    assert.equal(k, 'ConfigMap');
    const metadata = read('k8s.io.api.core.v1.ConfigMap', raw).metadata as Record<string, unknown>;
    assert.equal(metadata.resourceVersion, '9');
    assert.deepEqual(metadata.annotations, { 'k8s.io/initial-events-end': 'true' });
    assert.equal(metadata.name, '', 'an empty object of the kind, as kube\'s bookmarks are');
  });

  test('a kind without a generated message cannot be answered in protobuf: NotAcceptable', () => {
    for (const object of [{ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' } }, { metadata: {} }]) {
      assert.throws(
        () => answers.encode(object),
        (err: unknown) => err instanceof StatusError && err.code === 406 && /cannot be encoded to a protobuf message/.test(err.message),
      );
    }
  });
});
