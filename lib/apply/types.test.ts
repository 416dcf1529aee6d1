/**
 * Schema facts as kube-openapi's schemaconv reads them (pkg/schemaconv/openapi.go parseObject,
 * parseList, convertPrimitive; smd.go getListElementRelationship, getMapElementRelationship),
 * checked through the field sets they give, on built-in and CRD-style schemas.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { SchemaSet } from '../kinds/schemas.ts';
import { applyTypesOf, toFieldSet } from './index.ts';

const fieldsOf = (schema: object, value: unknown, definitions: Record<string, unknown> = {}): string[] => toFieldSet(value, applyTypesOf((n) => definitions[n], schema).root).paths();

describe('lists (schemaconv getListElementRelationship)', () => {
  const list = (ext: Record<string, unknown>, items: object = { type: 'object', properties: { name: { type: 'string' }, v: { type: 'string' } } }) => ({ type: 'object', properties: { l: { type: 'array', items, ...ext } } });
  const items = [{ name: 'a', v: 'x' }];
  test('x-kubernetes-list-type map keys the items on x-kubernetes-list-map-keys', () => {
    assert.deepEqual(fieldsOf(list({ 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['name'] }), { l: items }), ['.l[name="a"]', '.l[name="a"].name', '.l[name="a"].v']);
  });
  test('x-kubernetes-list-type set makes the values the elements', () => {
    assert.deepEqual(fieldsOf(list({ 'x-kubernetes-list-type': 'set' }, { type: 'string' }), { l: ['b', 'a'] }), ['.l[="a"]', '.l[="b"]']);
  });
  test('x-kubernetes-list-type atomic (and no facts at all) makes the list a leaf', () => {
    assert.deepEqual(fieldsOf(list({ 'x-kubernetes-list-type': 'atomic' }), { l: items }), ['.l']);
    assert.deepEqual(fieldsOf(list({}), { l: items }), ['.l']);
  });
  test('without a list type, patch strategy merge with a merge key is a map on that key', () => {
    assert.deepEqual(fieldsOf(list({ 'x-kubernetes-patch-strategy': 'merge', 'x-kubernetes-patch-merge-key': 'name' }), { l: items }), ['.l[name="a"]', '.l[name="a"].name', '.l[name="a"].v']);
    assert.deepEqual(fieldsOf(list({ 'x-kubernetes-patch-strategy': 'merge,retainKeys', 'x-kubernetes-patch-merge-key': 'name' }), { l: items }), ['.l[name="a"]', '.l[name="a"].name', '.l[name="a"].v']);
  });
  test('patch strategy merge without a merge key is a set; retainKeys alone is atomic', () => {
    assert.deepEqual(fieldsOf(list({ 'x-kubernetes-patch-strategy': 'merge' }, { type: 'string' }), { l: ['a'] }), ['.l[="a"]']);
    assert.deepEqual(fieldsOf(list({ 'x-kubernetes-patch-strategy': 'retainKeys' }), { l: items }), ['.l']);
  });
  test('the list type wins over the patch strategy', () => {
    assert.deepEqual(fieldsOf(list({ 'x-kubernetes-list-type': 'atomic', 'x-kubernetes-patch-strategy': 'merge', 'x-kubernetes-patch-merge-key': 'name' }), { l: items }), ['.l']);
  });
  test('multiple keys are written sorted by name; a missing key without default is left out', () => {
    const s = list({ 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['port', 'protocol'] }, { type: 'object', properties: { port: { type: 'integer' }, protocol: { type: 'string', default: 'TCP' }, x: { type: 'string' } } });
    assert.deepEqual(fieldsOf(s, { l: [{ protocol: 'UDP', port: 53 }, { port: 80 }] }), ['.l[port=53,protocol="UDP"]', '.l[port=80,protocol="TCP"]', '.l[port=53,protocol="UDP"].port', '.l[port=53,protocol="UDP"].protocol', '.l[port=80,protocol="TCP"].port']);
    const noDefault = list({ 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['port', 'protocol'] }, { type: 'object', properties: { port: { type: 'integer' }, protocol: { type: 'string' } } });
    assert.deepEqual(fieldsOf(noDefault, { l: [{ port: 80 }] }), ['.l[port=80]', '.l[port=80].port']);
  });
});

describe('maps (schemaconv parseObject)', () => {
  test('struct fields with content are not members; map entries are', () => {
    const s = { type: 'object', properties: { s: { type: 'object', properties: { a: { type: 'string' } } }, m: { type: 'object', additionalProperties: { type: 'object', properties: { a: { type: 'string' } } } } } };
    assert.deepEqual(fieldsOf(s, { s: { a: 'x' }, m: { k: { a: 'x' } } }), ['.m.k', '.m.k.a', '.s.a']);
  });
  test('empty maps and nulls are leaves', () => {
    const s = { type: 'object', properties: { s: { type: 'object', properties: { a: { type: 'string' } } }, n: { type: 'string' } } };
    assert.deepEqual(fieldsOf(s, { s: {}, n: null }), ['.n', '.s']);
  });
  test('x-kubernetes-map-type atomic makes a map a leaf, granular keeps it granular', () => {
    const s = (t: string) => ({ type: 'object', properties: { m: { type: 'object', additionalProperties: { type: 'string' }, 'x-kubernetes-map-type': t } } });
    assert.deepEqual(fieldsOf(s('atomic'), { m: { a: 'x' } }), ['.m']);
    assert.deepEqual(fieldsOf(s('granular'), { m: { a: 'x' } }), ['.m.a']);
  });
  test('an object without properties or additionalProperties (RawExtension) is deduced: granular maps, atomic lists', () => {
    const s = { type: 'object', properties: { raw: { type: 'object' } } };
    assert.deepEqual(fieldsOf(s, { raw: { a: { b: 1 }, l: [{ x: 1 }] } }), ['.raw.a', '.raw.l', '.raw.a.b']);
  });
  test('x-kubernetes-preserve-unknown-fields deduces undeclared fields below', () => {
    const s = { type: 'object', properties: { spec: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true, properties: { known: { type: 'string' } } } } };
    assert.deepEqual(fieldsOf(s, { spec: { known: 'a', other: { deep: 1 } } }), ['.spec.known', '.spec.other', '.spec.other.deep']);
  });
  test('int-or-string, quantities and untyped values are scalars', () => {
    const s = { type: 'object', properties: { p: { 'x-kubernetes-int-or-string': true, anyOf: [{ type: 'integer' }, { type: 'string' }] }, q: { type: 'string', format: 'int-or-string' } } };
    assert.deepEqual(fieldsOf(s, { p: 80, q: '50%' }), ['.p', '.q']);
  });
});

describe('built-in and custom kinds', () => {
  const definitions = new SchemaSet();
  test('Pod: containers keyed by name, ports by containerPort and protocol, env by name, finalizers a set, nodeSelector an atomic map', () => {
    const pod = applyTypesOf((n) => definitions.get(n), 'io.k8s.api.core.v1.Pod');
    const paths = toFieldSet(
      { metadata: { finalizers: ['x'] }, spec: { containers: [{ name: 'c', ports: [{ containerPort: 80, protocol: 'TCP' }], env: [{ name: 'A', value: '1' }] }], nodeSelector: { a: 'b' } } },
      pod.root,
    ).paths();
    assert.deepEqual(paths, [
      '.metadata.finalizers[="x"]',
      '.spec.nodeSelector',
      '.spec.containers[name="c"]',
      '.spec.containers[name="c"].name',
      '.spec.containers[name="c"].env[name="A"]',
      '.spec.containers[name="c"].env[name="A"].name',
      '.spec.containers[name="c"].env[name="A"].value',
      '.spec.containers[name="c"].ports[containerPort=80,protocol="TCP"]',
      '.spec.containers[name="c"].ports[containerPort=80,protocol="TCP"].containerPort',
      '.spec.containers[name="c"].ports[containerPort=80,protocol="TCP"].protocol',
    ]);
  });
  test('a CRD structural schema with ObjectMeta by reference', () => {
    const crd = {
      type: 'object',
      properties: {
        apiVersion: { type: 'string' },
        kind: { type: 'string' },
        metadata: { $ref: '#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta' },
        spec: {
          type: 'object',
          properties: {
            items: { type: 'array', 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['id'], items: { type: 'object', properties: { id: { type: 'integer' }, tags: { type: 'array', items: { type: 'string' } } } } },
            selector: { type: 'object', 'x-kubernetes-map-type': 'atomic', properties: { a: { type: 'string' } } },
          },
        },
      },
    };
    const types = applyTypesOf((n) => definitions.get(n), crd);
    assert.deepEqual(toFieldSet({ metadata: { labels: { x: 'y' } }, spec: { items: [{ id: 1, tags: ['a'] }], selector: { a: 'b' } } }, types.root).paths(), [
      '.metadata.labels.x',
      '.spec.selector',
      '.spec.items[id=1]',
      '.spec.items[id=1].id',
      '.spec.items[id=1].tags',
    ]);
  });
  test('recursive schemas (JSONSchemaProps) resolve lazily', () => {
    const types = applyTypesOf((n) => definitions.get(n), 'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaProps');
    assert.deepEqual(toFieldSet({ properties: { a: { properties: { b: { type: 'string' } } } } }, types.root).paths(), ['.properties.a', '.properties.a.properties.b', '.properties.a.properties.b.type']);
  });
});
