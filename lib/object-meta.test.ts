/**
 * The types of TypeMeta and ObjectMeta as kube's decoding into its typed structs checks them:
 * decodeObjectMeta on writes (normalised bodies, and kube-apiserver's words for a wrong type),
 * objectShapeProblem on the read path, and the once-per-key log of malformed stored objects.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { StatusError } from './errors.ts';
import type { KubeObject } from './kube.ts';
import type { Logger } from './log.ts';
import { decodeObjectMeta, goField, goStruct, MalformedObjectLog, objectShapeProblem } from './object-meta.ts';

const CONFIGMAP = { kind: 'ConfigMap', version: 'v1' };
const PREFIX = 'ConfigMap in version "v1" cannot be handled as a ConfigMap: ';

function decode(body: unknown): KubeObject {
  return decodeObjectMeta(body as KubeObject, CONFIGMAP);
}

/** The normalised metadata of a body with `metadata`. */
function metadataOf(metadata: unknown): unknown {
  return decode({ metadata }).metadata;
}

/** The BadRequest message decodeObjectMeta refuses `body` with. */
function refusal(body: unknown): string {
  try {
    decode(body);
  } catch (err) {
    assert.ok(err instanceof StatusError, `expected a StatusError, got ${String(err)}`);
    assert.equal(err.reason, 'BadRequest');
    assert.equal(err.code, 400);
    return err.message;
  }
  assert.fail(`accepted ${JSON.stringify(body)}`);
}

/** The message for a body whose metadata is `metadata`, without kube's prefix. */
function metadataRefusal(metadata: unknown): string {
  const message = refusal({ metadata });
  assert.ok(message.startsWith(PREFIX), message);
  return message.slice(PREFIX.length);
}

const field = (what: string, path: string, type: string, struct = 'ObjectMeta') =>
  `json: cannot unmarshal ${what} into Go struct field ${struct}.metadata.${path} of type ${type}`;

describe('decodeObjectMeta: strings (name, generateName, namespace, uid, resourceVersion, selfLink)', () => {
  const strings: [string, string][] = [
    ['name', 'string'],
    ['generateName', 'string'],
    ['namespace', 'string'],
    ['uid', 'types.UID'],
    ['resourceVersion', 'string'],
    ['selfLink', 'string'],
  ];

  test('a string is kept; null and "" are left out (Go\'s zero value, omitempty)', () => {
    for (const [name] of strings) {
      assert.deepEqual(metadataOf({ [name]: 'x' }), { [name]: 'x' }, name);
      assert.deepEqual(metadataOf({ [name]: null }), {}, name);
      assert.deepEqual(metadataOf({ [name]: '' }), {}, name);
    }
  });

  test('any other JSON value is refused, naming the field and its Go type', () => {
    for (const [name, type] of strings) {
      assert.equal(metadataRefusal({ [name]: 5 }), field('number', name, type));
      assert.equal(metadataRefusal({ [name]: true }), field('bool', name, type));
      assert.equal(metadataRefusal({ [name]: { a: 'b' } }), field('object', name, type));
      assert.equal(metadataRefusal({ [name]: ['a'] }), field('array', name, type));
    }
  });
});

describe('decodeObjectMeta: integers (generation, deletionGracePeriodSeconds)', () => {
  test('generation: an integer; 0 and null left out (omitempty)', () => {
    assert.deepEqual(metadataOf({ generation: 3 }), { generation: 3 });
    assert.deepEqual(metadataOf({ generation: 0 }), {});
    assert.deepEqual(metadataOf({ generation: null }), {});
    assert.deepEqual(metadataOf({ generation: -2 }), { generation: -2 });
  });

  test('deletionGracePeriodSeconds is a pointer: 0 is kept, null left out', () => {
    assert.deepEqual(metadataOf({ deletionGracePeriodSeconds: 0 }), { deletionGracePeriodSeconds: 0 });
    assert.deepEqual(metadataOf({ deletionGracePeriodSeconds: 30 }), { deletionGracePeriodSeconds: 30 });
    assert.deepEqual(metadataOf({ deletionGracePeriodSeconds: null }), {});
  });

  test('a fraction, a number beyond int64, or another type is refused', () => {
    for (const name of ['generation', 'deletionGracePeriodSeconds']) {
      assert.equal(metadataRefusal({ [name]: 1.5 }), field('number 1.5', name, 'int64'));
      assert.equal(metadataRefusal({ [name]: 2 ** 63 }), field(`number ${String(2 ** 63)}`, name, 'int64'));
      assert.equal(metadataRefusal({ [name]: '1' }), field('string', name, 'int64'));
      assert.equal(metadataRefusal({ [name]: false }), field('bool', name, 'int64'));
      assert.equal(metadataRefusal({ [name]: {} }), field('object', name, 'int64'));
    }
  });
});

describe('decodeObjectMeta: times (creationTimestamp, deletionTimestamp)', () => {
  test('an RFC 3339 time takes metav1.Time\'s form: UTC, whole seconds', () => {
    assert.deepEqual(metadataOf({ creationTimestamp: '2024-09-17T13:57:54.75+02:00' }), { creationTimestamp: '2024-09-17T11:57:54Z' });
    assert.deepEqual(metadataOf({ deletionTimestamp: '2024-09-17T11:57:54Z' }), { deletionTimestamp: '2024-09-17T11:57:54Z' });
  });

  test('null and Go\'s zero time are no time', () => {
    for (const name of ['creationTimestamp', 'deletionTimestamp']) {
      assert.deepEqual(metadataOf({ [name]: null }), {});
      assert.deepEqual(metadataOf({ [name]: '0001-01-01T00:00:00Z' }), {});
    }
  });

  test('a string that is no RFC 3339 time is refused with time.Parse\'s words; another type as metav1.Time decodes a string', () => {
    assert.equal(metadataRefusal({ creationTimestamp: '' }), 'parsing time "" as "2006-01-02T15:04:05Z07:00": cannot parse "" as "2006"');
    assert.equal(metadataRefusal({ deletionTimestamp: '2024-02-30T00:00:00Z' }), 'parsing time "2024-02-30T00:00:00Z": day out of range');
    assert.equal(metadataRefusal({ creationTimestamp: 1726565874 }), field('number', 'creationTimestamp', 'string'));
    assert.equal(metadataRefusal({ deletionTimestamp: {} }), field('object', 'deletionTimestamp', 'string'));
    assert.equal(metadataRefusal({ creationTimestamp: [] }), field('array', 'creationTimestamp', 'string'));
  });
});

describe('decodeObjectMeta: labels and annotations (map[string]string)', () => {
  test('a map of strings is kept; null and {} are left out', () => {
    for (const name of ['labels', 'annotations']) {
      assert.deepEqual(metadataOf({ [name]: { a: 'b', 'example.com/c': '' } }), { [name]: { a: 'b', 'example.com/c': '' } });
      assert.deepEqual(metadataOf({ [name]: null }), {}, `${name}: null is no ${name}`);
      assert.deepEqual(metadataOf({ [name]: {} }), {});
    }
  });

  test('a null value is "" (Go\'s zero string), and "__proto__" is just a key', () => {
    assert.deepEqual(metadataOf({ labels: { a: null } }), { labels: { a: '' } });
    const labels = (metadataOf({ labels: JSON.parse('{"__proto__":"x"}') as unknown }) as { labels: Record<string, string> }).labels;
    assert.equal(Object.hasOwn(labels, '__proto__'), true);
    assert.equal(Object.getPrototypeOf(labels), Object.prototype);
  });

  test('a value that is not a string, or a map that is not an object, is refused', () => {
    for (const name of ['labels', 'annotations']) {
      assert.equal(metadataRefusal({ [name]: { a: 1 } }), field('number', name, 'string'));
      assert.equal(metadataRefusal({ [name]: { a: { b: 'c' } } }), field('object', name, 'string'));
      assert.equal(metadataRefusal({ [name]: { a: true } }), field('bool', name, 'string'));
      assert.equal(metadataRefusal({ [name]: 'a=b' }), field('string', name, 'map[string]string'));
      assert.equal(metadataRefusal({ [name]: ['a'] }), field('array', name, 'map[string]string'));
      assert.equal(metadataRefusal({ [name]: 7 }), field('number', name, 'map[string]string'));
    }
  });
});

describe('decodeObjectMeta: finalizers, ownerReferences and managedFields (lists)', () => {
  test('finalizers: a list of strings; null and [] left out; a null entry is ""', () => {
    assert.deepEqual(metadataOf({ finalizers: ['a', 'b'] }), { finalizers: ['a', 'b'] });
    assert.deepEqual(metadataOf({ finalizers: null }), {});
    assert.deepEqual(metadataOf({ finalizers: [] }), {});
    assert.deepEqual(metadataOf({ finalizers: [null] }), { finalizers: [''] });
    assert.equal(metadataRefusal({ finalizers: 'a' }), field('string', 'finalizers', '[]string'));
    assert.equal(metadataRefusal({ finalizers: { a: 'b' } }), field('object', 'finalizers', '[]string'));
    assert.equal(metadataRefusal({ finalizers: ['a', 1] }), field('number', 'finalizers', 'string'));
  });

  test('ownerReferences: apiVersion, kind, name and uid always written; controller and blockOwnerDeletion kept when given; unknown fields dropped', () => {
    assert.deepEqual(metadataOf({ ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: 'n', uid: 'u', controller: false, extra: 1 }] }), {
      ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: 'n', uid: 'u', controller: false }],
    });
    assert.deepEqual(metadataOf({ ownerReferences: [null] }), { ownerReferences: [{ apiVersion: '', kind: '', name: '', uid: '' }] });
    assert.deepEqual(metadataOf({ ownerReferences: [{ name: 'n', blockOwnerDeletion: null }] }), { ownerReferences: [{ apiVersion: '', kind: '', name: 'n', uid: '' }] });
    assert.deepEqual(metadataOf({ ownerReferences: null }), {});
  });

  test('ownerReferences: a wrong type names the OwnerReference field', () => {
    assert.equal(metadataRefusal({ ownerReferences: [{ uid: 5 }] }), field('number', 'ownerReferences.uid', 'types.UID', 'OwnerReference'));
    assert.equal(metadataRefusal({ ownerReferences: [{ name: 'n', controller: 'yes' }] }), field('string', 'ownerReferences.controller', 'bool', 'OwnerReference'));
    assert.equal(metadataRefusal({ ownerReferences: [{ blockOwnerDeletion: 1 }] }), field('number', 'ownerReferences.blockOwnerDeletion', 'bool', 'OwnerReference'));
    assert.equal(metadataRefusal({ ownerReferences: ['a'] }), field('string', 'ownerReferences', 'v1.OwnerReference'));
    assert.equal(metadataRefusal({ ownerReferences: {} }), field('object', 'ownerReferences', '[]v1.OwnerReference'));
  });

  test('managedFields: a list of ManagedFieldsEntry; fieldsV1 is any JSON; its time is a time', () => {
    const entry = { manager: 'kubectl', operation: 'Update', apiVersion: 'v1', time: '2024-09-17T11:57:54Z', fieldsType: 'FieldsV1', fieldsV1: { 'f:data': { 'f:a': {} } } };
    assert.deepEqual(metadataOf({ managedFields: [{ ...entry, unknown: 1 }] }), { managedFields: [entry] });
    assert.deepEqual(metadataOf({ managedFields: [{ manager: 'm', time: null, fieldsV1: null }] }), { managedFields: [{ manager: 'm' }] });
    assert.equal(metadataRefusal({ managedFields: 'x' }), field('string', 'managedFields', '[]v1.ManagedFieldsEntry'));
    assert.equal(metadataRefusal({ managedFields: [3] }), field('number', 'managedFields', 'v1.ManagedFieldsEntry'));
    assert.equal(metadataRefusal({ managedFields: [{ operation: 1 }] }), field('number', 'managedFields.operation', 'v1.ManagedFieldsOperationType', 'ManagedFieldsEntry'));
    assert.equal(metadataRefusal({ managedFields: [{ time: 1 }] }), field('number', 'managedFields.time', 'string', 'ManagedFieldsEntry'));
  });
});

describe('decodeObjectMeta: metadata, kind and apiVersion', () => {
  test('metadata absent or null is an empty ObjectMeta; fields ObjectMeta does not have (names are case-sensitive) are dropped', () => {
    assert.deepEqual(decode({ data: { a: 'b' } }), { data: { a: 'b' }, metadata: {} });
    assert.deepEqual(decode({ metadata: null }), { metadata: {} });
    assert.deepEqual(metadataOf({ name: 'a', Name: 'b', color: 'blue' }), { name: 'a' });
  });

  test('everything outside metadata is left as it is', () => {
    const body = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a' }, data: { k: 1 }, spec: null };
    assert.deepEqual(decode(body), body);
  });

  test('metadata that is not an object names the kind\'s struct field', () => {
    assert.equal(refusal({ metadata: [] }), `${PREFIX}json: cannot unmarshal array into Go struct field ConfigMap.metadata of type v1.ObjectMeta`);
    assert.equal(refusal({ metadata: 'm' }), `${PREFIX}json: cannot unmarshal string into Go struct field ConfigMap.metadata of type v1.ObjectMeta`);
    assert.throws(() => decodeObjectMeta({ metadata: 1 } as unknown as KubeObject, { kind: 'Node', version: 'v1' }), {
      message: 'Node in version "v1" cannot be handled as a Node: json: cannot unmarshal number into Go struct field Node.metadata of type v1.ObjectMeta',
    });
  });

  test('kind and apiVersion: strings, null left out; another type is refused as the serializer\'s meta factory words it', () => {
    assert.deepEqual(decode({ kind: null, apiVersion: null, metadata: {} }), { metadata: {} });
    const unrecognized = 'the object provided is unrecognized (must be of type ConfigMap): couldn\'t get version/kind; json parse error: ';
    assert.equal(refusal({ kind: 1, metadata: {} }), `${unrecognized}json: cannot unmarshal number into Go struct field .kind of type string`);
    assert.equal(refusal({ apiVersion: {}, kind: 1 }), `${unrecognized}json: cannot unmarshal object into Go struct field .apiVersion of type string`);
  });

  test('the message names the kind and version the body gives', () => {
    assert.equal(
      refusal({ kind: 'Secret', apiVersion: 'apps/v2', metadata: { uid: 1 } }),
      `Secret in version "v2" cannot be handled as a ConfigMap: ${field('number', 'uid', 'types.UID')}`,
    );
  });

  test('the first wrong type in the body\'s order is reported; a time error stops decoding and wins', () => {
    assert.equal(metadataRefusal({ name: 1, labels: { a: 2 } }), field('number', 'name', 'string'));
    assert.equal(metadataRefusal({ labels: { a: 2 }, name: 1 }), field('number', 'labels', 'string'));
    assert.equal(metadataRefusal({ labels: { a: 2 }, creationTimestamp: 'now' }), 'parsing time "now" as "2006-01-02T15:04:05Z07:00": cannot parse "now" as "2006"');
  });

  test('the body given is not changed', () => {
    const body = { metadata: { name: 'a', labels: null, generation: 0 } };
    const copy = structuredClone(body);
    decode(body);
    assert.deepEqual(body, copy);
  });
});

describe('objectShapeProblem: the read path\'s check of stored objects', () => {
  test('a well-formed object, and null where Go reads null as absent, have no problem', () => {
    assert.equal(objectShapeProblem({ kind: 'ConfigMap', metadata: { name: 'a', labels: { a: 'b' }, creationTimestamp: '2024-09-17T11:57:54Z' } }), undefined);
    assert.equal(objectShapeProblem({ metadata: { name: 'p', namespace: 'ns', labels: null, annotations: null, finalizers: null } }), undefined);
    assert.equal(objectShapeProblem({}), undefined, 'no metadata is an empty ObjectMeta');
    assert.equal(objectShapeProblem({ metadata: null }), undefined);
  });

  test('a wrong type anywhere in metadata (or kind, apiVersion) is named, without its value', () => {
    const cases: [unknown, string][] = [
      [{ kind: 'ConfigMap', metadata: { labels: 'secret-looking' } }, 'json: cannot unmarshal string into Go struct field ObjectMeta.metadata.labels of type map[string]string'],
      [{ metadata: { annotations: { a: 12345 } } }, 'json: cannot unmarshal number into Go struct field ObjectMeta.metadata.annotations of type string'],
      [{ kind: 'ConfigMap', metadata: ['x'] }, 'json: cannot unmarshal array into Go struct field ConfigMap.metadata of type v1.ObjectMeta'],
      [{ metadata: 'x' }, 'json: cannot unmarshal string into Go struct field Object.metadata of type v1.ObjectMeta'],
      [{ metadata: { name: { a: 1 } } }, 'json: cannot unmarshal object into Go struct field ObjectMeta.metadata.name of type string'],
      [{ metadata: { generation: 1.5 } }, 'json: cannot unmarshal number into Go struct field ObjectMeta.metadata.generation of type int64'],
      [{ metadata: { finalizers: ['a', 2] } }, 'json: cannot unmarshal number into Go struct field ObjectMeta.metadata.finalizers of type string'],
      [{ metadata: { ownerReferences: [{ uid: 1 }] } }, 'json: cannot unmarshal number into Go struct field OwnerReference.metadata.ownerReferences.uid of type types.UID'],
      [{ metadata: { creationTimestamp: 'Tuesday 11:57' } }, 'ObjectMeta.metadata.creationTimestamp is not an RFC 3339 time'],
      [{ kind: 7, metadata: {} }, 'json: cannot unmarshal number into Go struct field Object.kind of type string'],
      [[], 'the object is array, not an object'],
    ];
    for (const [object, problem] of cases) {
      const found = objectShapeProblem(object);
      assert.equal(found, problem, JSON.stringify(object));
      assert.ok(!/secret-looking|12345|Tuesday/.test(found), 'no value is quoted');
    }
  });

  test('with the kind\'s own fields, their types count too', () => {
    const shapeless = { kind: 'Namespace', metadata: { name: 'a' }, status: { phase: 1 } };
    assert.equal(objectShapeProblem(shapeless), undefined, 'without them, only metadata is checked');
    const namespace = goStruct('Namespace', 'v1.Namespace', {
      status: goField.struct(goStruct('NamespaceStatus', 'v1.NamespaceStatus', { phase: goField.string('v1.NamespacePhase') })),
    });
    assert.equal(objectShapeProblem(shapeless, namespace), 'json: cannot unmarshal number into Go struct field NamespaceStatus.status.phase of type v1.NamespacePhase');
    assert.equal(objectShapeProblem({ status: 'Active' }, namespace), 'json: cannot unmarshal string into Go struct field Namespace.status of type v1.NamespaceStatus');
    assert.equal(objectShapeProblem({ status: { phase: 'Active', other: 1 } }, namespace), undefined, 'fields not described are not read');
    assert.equal(objectShapeProblem({ metadata: { labels: 1 }, status: 1 }, namespace), 'json: cannot unmarshal number into Go struct field ObjectMeta.metadata.labels of type map[string]string', 'metadata first');
  });
});

describe('MalformedObjectLog', () => {
  function recording(): { logger: Logger; lines: { msg: string; fields: Record<string, unknown> | undefined }[] } {
    const lines: { msg: string; fields: Record<string, unknown> | undefined }[] = [];
    const record = (msg: string, fields?: Record<string, unknown>) => lines.push({ msg, fields });
    const logger: Logger = { debug: record, info: record, warn: record, error: record, with: () => logger };
    return { logger, lines };
  }

  test('each key is logged once, with its problem', () => {
    const { logger, lines } = recording();
    const log = new MalformedObjectLog(logger);
    for (let i = 0; i < 5; i++) log.report('/registry/configmaps/ns/p', 'the problem');
    log.report('/registry/configmaps/ns/q', 'another');
    assert.equal(lines.length, 2);
    assert.deepEqual(lines[0]?.fields, { key: '/registry/configmaps/ns/p', problem: 'the problem' });
    assert.equal(lines[1]?.fields?.key, '/registry/configmaps/ns/q');
  });

  test('only the last `capacity` keys are remembered: memory stays bounded, an old key is logged again', () => {
    const { logger, lines } = recording();
    const log = new MalformedObjectLog(logger, 3);
    for (const key of ['a', 'b', 'c', 'd']) log.report(key, 'p');
    assert.equal(lines.length, 4);
    log.report('d', 'p');
    log.report('b', 'p');
    assert.equal(lines.length, 4, 'b, c and d are remembered');
    log.report('a', 'p');
    assert.equal(lines.length, 5, 'a was forgotten first');
  });
});
