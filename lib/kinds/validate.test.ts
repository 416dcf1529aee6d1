import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { StatusError } from '../errors.ts';
import { scanJson, type KubeObject } from '../kube.ts';
import { BUILTIN_KINDS } from './builtin/index.ts';
import type { KindDefinition } from './types.ts';
import { base64Error, generatedSchemaValidator, quantityError, type FieldValidation } from './validate.ts';

const schemas = generatedSchemaValidator();
const kind = (k: string): KindDefinition => {
  const found = BUILTIN_KINDS.find((d) => d.kind === k);
  assert.ok(found !== undefined);
  return found;
};
const CM = kind('ConfigMap');
const NODE = kind('Node');

/** Decodes `text` as a body of `k`, as the front door does (the bytes' key count from the scan). */
function decode(k: KindDefinition, text: string, fieldValidation: FieldValidation = 'Strict') {
  const bytes = Buffer.from(text);
  return schemas.decode(JSON.parse(text) as KubeObject, k, { fieldValidation, source: { bytes, keys: scanJson(bytes).keys } });
}

function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof StatusError);
    assert.equal(err.reason, 'BadRequest');
    return err.message;
  }
  assert.fail('expected a BadRequest');
}

const CM_PREFIX = 'ConfigMap in version "v1" cannot be handled as a ConfigMap: ';
const NODE_PREFIX = 'Node in version "v1" cannot be handled as a Node: ';

describe('decoding: type errors as Go reports them (400)', () => {
  const cases: [KindDefinition, string, string][] = [
    [CM, '{"data":5}', `${CM_PREFIX}json: cannot unmarshal number into Go struct field ConfigMap.data of type map[string]string`],
    [CM, '{"data":{"a":true}}', `${CM_PREFIX}json: cannot unmarshal bool into Go struct field ConfigMap.data of type string`],
    [CM, '{"immutable":"yes"}', `${CM_PREFIX}json: cannot unmarshal string into Go struct field ConfigMap.immutable of type bool`],
    [CM, '{"binaryData":{"a":[1]},"data":[]}', `${CM_PREFIX}json: cannot unmarshal array into Go struct field ConfigMap.data of type map[string]string`],
    [CM, '{"binaryData":{"a":"abc"}}', `${CM_PREFIX}illegal base64 data at input byte 0`],
    [CM, '{"metadata":{"labels":{"a":1}}}', `${CM_PREFIX}json: cannot unmarshal number into Go struct field ObjectMeta.metadata.labels of type string`],
    // The first error in document order wins.
    [CM, '{"data":1,"metadata":{"labels":{"a":1}}}', `${CM_PREFIX}json: cannot unmarshal number into Go struct field ConfigMap.data of type map[string]string`],
    [NODE, '{"spec":{"taints":[{"key":5}]}}', `${NODE_PREFIX}json: cannot unmarshal number into Go struct field Taint.spec.taints.key of type string`],
    [NODE, '{"spec":{"taints":{}}}', `${NODE_PREFIX}json: cannot unmarshal object into Go struct field NodeSpec.spec.taints of type []v1.Taint`],
    [NODE, '{"spec":"x"}', `${NODE_PREFIX}json: cannot unmarshal string into Go struct field Node.spec of type v1.NodeSpec`],
    [NODE, '{"status":{"phase":1}}', `${NODE_PREFIX}json: cannot unmarshal number into Go struct field NodeStatus.status.phase of type v1.NodePhase`],
    [
      NODE,
      '{"status":{"daemonEndpoints":{"kubeletEndpoint":{"Port":3000000000}}}}',
      `${NODE_PREFIX}json: cannot unmarshal number 3000000000 into Go struct field DaemonEndpoint.status.daemonEndpoints.kubeletEndpoint.Port of type int32`,
    ],
    [
      NODE,
      '{"status":{"daemonEndpoints":{"kubeletEndpoint":{"Port":1.5}}}}',
      `${NODE_PREFIX}json: cannot unmarshal number 1.5 into Go struct field DaemonEndpoint.status.daemonEndpoints.kubeletEndpoint.Port of type int32`,
    ],
    // Time, Quantity: their own decoding stops at once, so their error wins over an earlier one.
    [NODE, '{"spec":{"podCIDR":1,"taints":[{"key":"k","timeAdded":"nope"}]}}', `${NODE_PREFIX}parsing time "nope" as "2006-01-02T15:04:05Z07:00": cannot parse "nope" as "2006"`],
    [NODE, '{"spec":{"taints":[{"timeAdded":5}]}}', `${NODE_PREFIX}json: cannot unmarshal number into Go struct field Taint.spec.taints.timeAdded of type string`],
    [NODE, '{"status":{"capacity":{"cpu":"1x"}}}', `${NODE_PREFIX}quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'`],
    [NODE, '{"status":{"capacity":{"cpu":"1Qi"}}}', `${NODE_PREFIX}quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'`],
    [NODE, '{"status":{"capacity":{"cpu":"1i"}}}', `${NODE_PREFIX}unable to parse quantity's suffix`],
    // The body's own kind and version name it.
    [CM, '{"apiVersion":"v2","kind":"Thing","data":5}', 'Thing in version "v2" cannot be handled as a ConfigMap: json: cannot unmarshal number into Go struct field ConfigMap.data of type map[string]string'],
  ];
  for (const [k, text, message] of cases) test(text, () => assert.equal(refusal(() => decode(k, text)), message));

  test('valid values pass unchanged (the same object: no copy)', () => {
    const text = '{"apiVersion":"v1","kind":"Node","metadata":{"name":"n","labels":{"a":"b"}},"spec":{"taints":[{"key":"k","effect":"NoSchedule","timeAdded":"2024-01-02T03:04:05Z"}]},"status":{"capacity":{"cpu":"500m","memory":"1Gi","pods":110}}}';
    const object = JSON.parse(text) as KubeObject;
    const bytes = Buffer.from(text);
    const result = schemas.decode(object, NODE, { fieldValidation: 'Strict', source: { bytes, keys: scanJson(bytes).keys } });
    assert.equal(result.object, object);
    assert.deepEqual(result.warnings, []);
  });

  test('null is a zero value, never a type error', () => {
    assert.deepEqual(decode(CM, '{"data":null,"binaryData":{"a":null},"immutable":null,"metadata":{"labels":null}}').warnings, []);
  });
});

describe('strict decoding: unknown and duplicate fields per fieldValidation', () => {
  const text = '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a","foo":1},"data":{"x":"y"},"spec":{"foo":1},"data":{"x":"y","x":"z"}}';

  test('Strict: 400 naming each, in document order, in kube\'s words', () => {
    assert.equal(
      refusal(() => decode(CM, text, 'Strict')),
      `${CM_PREFIX}strict decoding error: unknown field "metadata.foo", unknown field "spec", duplicate field "data", duplicate field "data.x"`,
    );
  });

  test('Warn: each as a warning; unknown fields dropped', () => {
    const result = decode(CM, text, 'Warn');
    assert.deepEqual(result.warnings, ['unknown field "metadata.foo"', 'unknown field "spec"', 'duplicate field "data"', 'duplicate field "data.x"']);
    assert.deepEqual(result.object, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a' }, data: { x: 'z' } });
  });

  test('Ignore: nothing said; unknown fields dropped still', () => {
    const result = decode(CM, text, 'Ignore');
    assert.deepEqual(result.warnings, []);
    assert.deepEqual(result.object, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a' }, data: { x: 'z' } });
  });

  test('paths of list items and nested unknown fields', () => {
    assert.equal(
      refusal(() => decode(NODE, '{"spec":{"taints":[{"key":"a","effect":"NoSchedule"},{"key":"b","colour":"red","key":"c"}]},"status":{"nodeInfo":{"x":1}}}')),
      `${NODE_PREFIX}strict decoding error: unknown field "spec.taints[1].colour", duplicate field "spec.taints[1].key", unknown field "status.nodeInfo.x"`,
    );
  });

  test('a type error wins over strict errors', () => {
    assert.equal(refusal(() => decode(CM, '{"foo":1,"data":5}')), `${CM_PREFIX}json: cannot unmarshal number into Go struct field ConfigMap.data of type map[string]string`);
  });

  test('an unknown field repeated is reported once', () => {
    assert.equal(refusal(() => decode(CM, '{"foo":1,"foo":2}')), `${CM_PREFIX}strict decoding error: unknown field "foo"`);
  });

  test('RawExtension and FieldsV1 keep anything, duplicates inside included', () => {
    const text = '{"metadata":{"managedFields":[{"manager":"m","fieldsV1":{"f:data":{"a":1,"a":2}}}]}}';
    assert.deepEqual(decode(CM, text).warnings, []);
  });

  test('without the bytes, duplicates go unseen (a protobuf body has none)', () => {
    const result = schemas.decode({ data: { x: 'y' } }, CM, { fieldValidation: 'Strict' });
    assert.deepEqual(result.warnings, []);
  });
});

describe('custom kinds bring their definitions', () => {
  const widget: KindDefinition = {
    ...CM,
    source: 'custom',
    group: 'example.com',
    resource: 'widgets',
    kind: 'Widget',
    schema: 'com.example.v1.Widget',
    definitions: {
      'com.example.v1.Widget': {
        type: 'object',
        properties: {
          apiVersion: { type: 'string' },
          kind: { type: 'string' },
          metadata: { $ref: '#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta' },
          spec: {
            type: 'object',
            required: ['size'],
            properties: {
              size: { type: 'integer', format: 'int32' },
              colour: { type: 'string', enum: ['red', 'blue'] },
              port: { 'x-kubernetes-int-or-string': true },
              extra: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
            },
          },
        },
      },
    },
  };

  test('int-or-string, preserve-unknown-fields, unknown fields', () => {
    const result = decode(widget, '{"apiVersion":"example.com/v1","kind":"Widget","spec":{"size":1,"port":"http","extra":{"any":{"thing":1}},"shape":"round"}}', 'Warn');
    assert.deepEqual(result.warnings, ['unknown field "spec.shape"']);
    assert.deepEqual(result.object.spec, { size: 1, port: 'http', extra: { any: { thing: 1 } } });
    assert.equal(
      refusal(() => decode(widget, '{"kind":"Widget","apiVersion":"example.com/v1","spec":{"port":true}}')),
      'Widget in version "v1" cannot be handled as a Widget: json: cannot unmarshal bool into Go struct field Widget.spec.port of type int32',
    );
  });

  test('required and enum: a field error each (422 causes)', () => {
    assert.deepEqual(schemas.validate({ spec: { colour: 'green' } }, widget), [
      { type: 'FieldValueRequired', field: 'spec.size', detail: '' },
      { type: 'FieldValueNotSupported', field: 'spec.colour', value: 'green', detail: 'supported values: "red", "blue"' },
    ]);
  });
});

test('built-in kinds are validated by their own rules, not from the schema (a Node without nodeInfo.machineID is fine)', () => {
  assert.deepEqual(schemas.validate({ spec: { taints: [{ effect: 'Sometimes' }] }, status: { nodeInfo: { osImage: 'x' }, phase: 'Foo' } }, NODE), []);
});

test('base64 as Go decodes it', () => {
  assert.equal(base64Error('aGVsbG8='), undefined);
  assert.equal(base64Error('aGVs\nbG8='), undefined);
  assert.equal(base64Error(''), undefined);
  assert.equal(base64Error('aGVsbG8'), 'illegal base64 data at input byte 4');
  assert.equal(base64Error('aGV!bG8='), 'illegal base64 data at input byte 3');
  assert.equal(base64Error('aG=='), undefined);
  assert.equal(base64Error('a==='), 'illegal base64 data at input byte 1');
  assert.equal(base64Error('aGVsbG8=x'), 'illegal base64 data at input byte 8');
});

test('quantities as ParseQuantity takes them', () => {
  for (const ok of ['0', '1', '500m', '1.5Gi', '+1e3', '1E-2', '2Ei', '.5', '1.']) assert.equal(quantityError(ok), undefined, ok);
  assert.equal(quantityError(''), "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'");
  assert.equal(quantityError('1..2'), "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'");
  assert.equal(quantityError('1Ki3'), "unable to parse quantity's suffix");
  assert.equal(quantityError('1e'), "unable to parse quantity's suffix");
});

describe('objects and schemas nested past MAX_JSON_DEPTH end in 400 or 422, never in a stack overflow', () => {
  const LEVELS = 20_000;
  /** A custom kind whose spec schema is LEVELS deep by `via` (as a stored CRD's might be), ending in an enum. */
  const deepKind = (via: 'properties' | 'items' | 'additionalProperties'): KindDefinition => {
    let schema: Record<string, unknown> = { type: 'string', enum: ['a'] };
    for (let i = 0; i < LEVELS; i++) {
      if (via === 'properties') schema = { type: 'object', required: ['p'], properties: { p: schema } };
      else if (via === 'items') schema = { type: 'array', items: schema };
      else schema = { type: 'object', additionalProperties: schema };
    }
    return { ...CM, source: 'custom', group: 'example.com', kind: 'Deep', schema: 'com.example.v1.Deep', definitions: { 'com.example.v1.Deep': { type: 'object', properties: { apiVersion: { type: 'string' }, kind: { type: 'string' }, spec: schema } } } };
  };
  /** An object LEVELS deep under spec (a patched or stored object may be; a body cannot). */
  const deepObject = (via: 'properties' | 'items' | 'additionalProperties'): KubeObject => {
    let o: unknown = 'b';
    for (let i = 0; i < LEVELS; i++) o = via === 'items' ? [o] : { p: o };
    return { apiVersion: 'example.com/v1', kind: 'Deep', spec: o } as KubeObject;
  };

  for (const via of ['properties', 'items', 'additionalProperties'] as const) {
    test(`a schema and an object ${LEVELS} levels deep by ${via}`, () => {
      const k = deepKind(via);
      const object = deepObject(via);
      assert.match(refusal(() => schemas.decode(object, k, { fieldValidation: 'Strict' })), /cannot be handled as a Deep: the object is nested too deeply: at most 1000 levels/);
      const patched = schemas.decodePatched(object, k, 'Strict');
      assert.match(patched.typeError ?? '', /nested too deeply/);
      const errors = schemas.validate(object, k);
      // only properties has something to check (required) at every level; the deeper schema is any JSON
      if (via === 'properties') assert.ok(errors.some((e) => e.type === 'FieldValueInvalid' && /nested too deeply/.test(e.detail)), JSON.stringify(errors.slice(0, 2)));
      else assert.deepEqual(errors, []);
      // within the bound, the deep schema still decodes
      let shallow: unknown = via === 'items' ? [] : {};
      for (let i = 0; i < 100; i++) shallow = via === 'items' ? [shallow] : { p: shallow };
      const ok = { apiVersion: 'example.com/v1', kind: 'Deep', spec: shallow } as KubeObject;
      assert.equal(schemas.decode(ok, k, { fieldValidation: 'Strict' }).object, ok);
    });
  }

  test('a wrong value or an unknown field at every level of a deep object costs one walk, not one per level above it', { timeout: 20_000 }, () => {
    const k = deepKind('properties');
    let wrong: unknown = 1; // a struct expected: a type error at the bottom, 60 levels down
    let unknown: unknown = {};
    for (let i = 0; i < 60; i++) {
      wrong = { p: wrong };
      unknown = { p: unknown, extra: i };
    }
    assert.match(refusal(() => schemas.decode({ spec: wrong } as KubeObject, k, { fieldValidation: 'Strict' })), /cannot unmarshal number into Go struct field/);
    const result = schemas.decode({ spec: unknown } as KubeObject, k, { fieldValidation: 'Warn' });
    assert.equal(result.warnings.length, 60);
    let level = (result.object as { spec: Record<string, unknown> }).spec;
    for (let i = 0; i < 59; i++) {
      assert.deepEqual(Object.keys(level), ['p'], 'unknown fields dropped at every level');
      level = level.p as Record<string, unknown>;
    }
  });

  test('an unknown field nested past the bound is dropped with its warning, its keys counted without recursion', () => {
    let o: unknown = 1;
    for (let i = 0; i < LEVELS; i++) o = { q: o };
    const text = `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x"},"data":{}}`;
    const object = { ...(JSON.parse(text) as KubeObject), unknown: o };
    // dropped as unknown, but counted for the duplicate check: no recursion
    assert.deepEqual(schemas.decode(object, CM, { fieldValidation: 'Warn' }).warnings, ['unknown field "unknown"']);
  });
});
