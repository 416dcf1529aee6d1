/**
 * structured-merge-diff's merge tables (merge/*_test.go), run through the field manager: each
 * case's schema written as the OpenAPI schema schemaconv reads into the same SMD types, its
 * operations (apply, force apply, update by manager) in order, and the expected object, field
 * sets per manager and conflicts. Versions are left out (this library does not convert).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { StatusError } from '../errors.ts';
import type { KubeObject } from '../kube.ts';
import { decodeFieldsV1 } from './fieldpath.ts';
import { applyTypesOf, FieldManager, type ManagedFieldsEntry } from './index.ts';

type Op =
  | { apply: Record<string, unknown>; manager: string; force?: boolean; conflicts?: [string, string][] }
  | { update: Record<string, unknown>; manager: string };

interface Case {
  ops: Op[];
  object: Record<string, unknown>;
  /** manager -> the paths it owns, as SMD prints them (when the source table gives them). */
  managed?: Record<string, string[]>;
}

function run(schema: Record<string, unknown>, c: Case, definitions: Record<string, unknown> = {}): void {
  const root = { type: 'object', ...schema, properties: { apiVersion: { type: 'string' }, ...(schema.properties as object) } };
  const types = applyTypesOf((name) => definitions[name], root);
  let clock = 0;
  const fm = new FieldManager({ types, apiVersion: 'v1', subresource: '', resetFields: [], now: () => new Date(Date.UTC(2026, 0, 1, 0, 0, clock++)) });
  let live: KubeObject | undefined;
  for (const op of c.ops) {
    if ('update' in op) {
      live = fm.update(live, { apiVersion: 'v1', ...structuredClone(op.update) }, op.manager);
      continue;
    }
    const config = { apiVersion: 'v1', ...structuredClone(op.apply) };
    if (op.conflicts !== undefined) {
      assert.throws(
        () => fm.apply(live, config, op.manager, op.force ?? false),
        (err: unknown) => {
          assert.ok(err instanceof StatusError);
          assert.equal(err.reason, 'Conflict');
          const causes = (err.details?.causes ?? []).map((cause) => [/"([^"]*)"/.exec(cause.message ?? '')?.[1], cause.field]);
          assert.deepEqual(causes, op.conflicts);
          return true;
        },
      );
      continue;
    }
    live = fm.apply(live, config, op.manager, op.force ?? false);
  }
  assert.ok(live !== undefined);
  const { metadata, apiVersion: _v, ...object } = live;
  assert.deepEqual(object, c.object);
  if (c.managed === undefined) return;
  const got: Record<string, string[]> = {};
  for (const e of (metadata?.managedFields ?? []) as ManagedFieldsEntry[]) got[e.manager] = decodeFieldsV1(e.fieldsV1).paths().sort();
  const want = Object.fromEntries(Object.entries(c.managed).map(([m, paths]) => [m, [...paths].sort()]));
  assert.deepEqual(got, want);
}

const leafFields = { properties: { numeric: { type: 'number' }, string: { type: 'string' }, bool: { type: 'boolean' } } };

describe('leaf fields (merge/leaf_test.go TestUpdateLeaf)', () => {
  test('apply_twice', () =>
    run(leafFields, {
      ops: [
        { manager: 'default', apply: { numeric: 1, string: 'string' } },
        { manager: 'default', apply: { numeric: 2, string: 'string', bool: false } },
      ],
      object: { numeric: 2, string: 'string', bool: false },
      managed: { default: ['.numeric', '.string', '.bool'] },
    }));
  test('apply_update_apply_no_conflict', () =>
    run(leafFields, {
      ops: [
        { manager: 'default', apply: { numeric: 1, string: 'string' } },
        { manager: 'controller', update: { numeric: 1, string: 'string', bool: true } },
        { manager: 'default', apply: { numeric: 2, string: 'string' } },
      ],
      object: { numeric: 2, string: 'string', bool: true },
      managed: { default: ['.numeric', '.string'], controller: ['.bool'] },
    }));
  test('apply_update_apply_with_conflict', () =>
    run(leafFields, {
      ops: [
        { manager: 'default', apply: { numeric: 1, string: 'string' } },
        { manager: 'controller', update: { numeric: 1, string: 'controller string', bool: true } },
        { manager: 'default', apply: { numeric: 2, string: 'user string' }, conflicts: [['controller', '.string']] },
        { manager: 'default', apply: { numeric: 2, string: 'user string' }, force: true },
      ],
      object: { numeric: 2, string: 'user string', bool: true },
      managed: { default: ['.numeric', '.string'], controller: ['.bool'] },
    }));
});

const sets = { properties: { list: { type: 'array', items: { type: 'string' }, 'x-kubernetes-list-type': 'set' } } };

describe('sets (merge/set_test.go TestUpdateSet)', () => {
  test('apply_twice', () =>
    run(sets, {
      ops: [
        { manager: 'default', apply: { list: ['a', 'c'] } },
        { manager: 'default', apply: { list: ['a', 'b', 'c', 'd'] } },
      ],
      object: { list: ['a', 'b', 'c', 'd'] },
      managed: { default: ['.list[="a"]', '.list[="b"]', '.list[="c"]', '.list[="d"]'] },
    }));
  test('apply_update_apply_no_overlap', () =>
    run(sets, {
      ops: [
        { manager: 'default', apply: { list: ['a', 'c'] } },
        { manager: 'controller', update: { list: ['a', 'b', 'c', 'd'] } },
        { manager: 'default', apply: { list: ['a', 'aprime', 'c', 'cprime'] } },
      ],
      object: { list: ['a', 'b', 'aprime', 'c', 'd', 'cprime'] },
      managed: { default: ['.list[="a"]', '.list[="aprime"]', '.list[="c"]', '.list[="cprime"]'], controller: ['.list[="b"]', '.list[="d"]'] },
    }));
  test('apply_update_apply_with_overlap', () =>
    run(sets, {
      ops: [
        { manager: 'default', apply: { list: ['a', 'c'] } },
        { manager: 'controller', update: { list: ['a', 'b', 'c', 'd'] } },
        { manager: 'default', apply: { list: ['a', 'b', 'c'] } },
      ],
      object: { list: ['a', 'b', 'c', 'd'] },
      managed: { default: ['.list[="a"]', '.list[="b"]', '.list[="c"]'], controller: ['.list[="b"]', '.list[="d"]'] },
    }));
});

const associativeList = {
  properties: {
    list: {
      type: 'array',
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['name'],
      items: { type: 'object', properties: { name: { type: 'string' }, value: { type: 'number' } } },
    },
  },
};

describe('associative lists (merge/key_test.go, merge/multiple_appliers_test.go TestMultipleAppliersSet)', () => {
  test('removing_obsolete_applied_structs', () =>
    run(associativeList, {
      ops: [
        { manager: 'default', apply: { list: [{ name: 'a', value: 1 }] } },
        { manager: 'default', apply: { list: [{ name: 'b', value: 2 }] } },
      ],
      object: { list: [{ name: 'b', value: 2 }] },
      managed: { default: ['.list[name="b"]', '.list[name="b"].name', '.list[name="b"].value'] },
    }));
  test('change_value_yes_conflict', () =>
    run(associativeList, {
      ops: [
        { manager: 'apply-one', apply: { list: [{ name: 'a', value: 0 }] } },
        { manager: 'apply-two', apply: { list: [{ name: 'a', value: 1 }] }, conflicts: [['apply-one', '.list[name="a"].value']] },
      ],
      object: { list: [{ name: 'a', value: 0 }] },
      managed: { 'apply-one': ['.list[name="a"]', '.list[name="a"].name', '.list[name="a"].value'] },
    }));
  test('remove_one_keep_one', () =>
    run(associativeList, {
      ops: [
        { manager: 'apply-one', apply: { list: [{ name: 'a' }, { name: 'b' }, { name: 'c' }] } },
        { manager: 'apply-two', apply: { list: [{ name: 'c' }, { name: 'd' }] } },
        { manager: 'apply-one', apply: { list: [{ name: 'a' }] } },
      ],
      object: { list: [{ name: 'a' }, { name: 'c' }, { name: 'd' }] },
      managed: {
        'apply-one': ['.list[name="a"]', '.list[name="a"].name'],
        'apply-two': ['.list[name="c"]', '.list[name="d"]', '.list[name="c"].name', '.list[name="d"].name'],
      },
    }));
  test('same_value_no_conflict', () =>
    run(associativeList, {
      ops: [
        { manager: 'apply-one', apply: { list: [{ name: 'a', value: 0 }] } },
        { manager: 'apply-two', apply: { list: [{ name: 'a', value: 0 }] } },
      ],
      object: { list: [{ name: 'a', value: 0 }] },
      managed: {
        'apply-one': ['.list[name="a"]', '.list[name="a"].name', '.list[name="a"].value'],
        'apply-two': ['.list[name="a"]', '.list[name="a"].name', '.list[name="a"].value'],
      },
    }));
});

const struct = {
  properties: {
    struct: { type: 'object', properties: { name: { type: 'string' }, scalarField_v1: { type: 'string' }, complexField_v1: { type: 'object', properties: { name: { type: 'string' } } } } },
    version: { type: 'string' },
  },
};

describe('unsetting fields (merge/multiple_appliers_test.go TestMultipleAppliersFieldUnsetting, v1-v1-v1)', () => {
  test('unset_scalar_sole_owner', () =>
    run(struct, {
      ops: [
        { manager: 'apply-one', apply: { struct: { name: 'a', scalarField_v1: 'a' } } },
        { manager: 'apply-one', apply: { struct: { name: 'a' } } },
      ],
      object: { struct: { name: 'a' } },
      managed: { 'apply-one': ['.struct.name'] },
    }));
  test('unset_scalar_shared_with_applier', () =>
    run(struct, {
      ops: [
        { manager: 'apply-one', apply: { struct: { name: 'a', scalarField_v1: 'a' } } },
        { manager: 'apply-two', apply: { struct: { scalarField_v1: 'a' } } },
        { manager: 'apply-one', apply: { struct: { name: 'a' } } },
      ],
      object: { struct: { name: 'a', scalarField_v1: 'a' } },
      managed: { 'apply-one': ['.struct.name'], 'apply-two': ['.struct.scalarField_v1'] },
    }));
  test('unset_scalar_shared_with_updater', () =>
    run(struct, {
      ops: [
        { manager: 'updater', update: { struct: { name: 'a', scalarField_v1: 'a' } } },
        { manager: 'applier', apply: { struct: { name: 'a', scalarField_v1: 'a' } } },
        { manager: 'applier', apply: { struct: { name: 'a' } } },
      ],
      object: { struct: { name: 'a', scalarField_v1: 'a' } },
      managed: { updater: ['.struct', '.struct.name', '.struct.scalarField_v1'], applier: ['.struct.name'] },
    }));
  test('updater_claims_field', () =>
    run(struct, {
      ops: [
        { manager: 'applier', apply: { struct: { name: 'a', scalarField_v1: 'a' } } },
        { manager: 'updater', update: { struct: { name: 'a', scalarField_v1: 'b' } } },
      ],
      object: { struct: { name: 'a', scalarField_v1: 'b' } },
      managed: { updater: ['.struct.scalarField_v1'], applier: ['.struct.name'] },
    }));
  test('unset_complex_sole_owner', () =>
    run(struct, {
      ops: [
        { manager: 'apply-one', apply: { struct: { name: 'a', complexField_v1: { name: 'b' } } } },
        { manager: 'apply-one', apply: { struct: { name: 'a' } } },
      ],
      object: { struct: { name: 'a' } },
      managed: { 'apply-one': ['.struct.name'] },
    }));
  test('unset_complex_shared_with_applier', () =>
    run(struct, {
      ops: [
        { manager: 'apply-one', apply: { struct: { name: 'a', complexField_v1: { name: 'b' } } } },
        { manager: 'apply-two', apply: { struct: { complexField_v1: { name: 'b' } } } },
        { manager: 'apply-one', apply: { struct: { name: 'a' } } },
      ],
      object: { struct: { name: 'a', complexField_v1: { name: 'b' } } },
      managed: { 'apply-one': ['.struct.name'], 'apply-two': ['.struct.complexField_v1.name'] },
    }));
});

const listOfLists = {
  properties: {
    listOfLists: {
      type: 'array',
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['name'],
      items: { type: 'object', properties: { name: { type: 'string' }, value: { type: 'array', items: { type: 'string' }, 'x-kubernetes-list-type': 'set' } } },
    },
  },
};

describe('nested lists (merge/multiple_appliers_test.go TestMultipleAppliersNestedType)', () => {
  test('remove_one_keep_one_with_two_sub_items', () =>
    run(listOfLists, {
      ops: [
        { manager: 'apply-one', apply: { listOfLists: [{ name: 'a' }, { name: 'b', value: ['c'] }] } },
        { manager: 'apply-two', apply: { listOfLists: [{ name: 'b', value: ['d'] }] } },
        { manager: 'apply-one', apply: { listOfLists: [{ name: 'a' }] } },
      ],
      object: { listOfLists: [{ name: 'a' }, { name: 'b', value: ['d'] }] },
      managed: {
        'apply-one': ['.listOfLists[name="a"]', '.listOfLists[name="a"].name'],
        'apply-two': ['.listOfLists[name="b"]', '.listOfLists[name="b"].name', '.listOfLists[name="b"].value[="d"]'],
      },
    }));
  test('remove_one_keep_one_with_dangling_subitem', () =>
    run(listOfLists, {
      ops: [
        { manager: 'apply-one', apply: { listOfLists: [{ name: 'a' }, { name: 'b', value: ['c'] }] } },
        { manager: 'apply-two', apply: { listOfLists: [{ name: 'b', value: ['d'] }] } },
        { manager: 'controller', update: { listOfLists: [{ name: 'a' }, { name: 'b', value: ['c', 'd', 'e'] }] } },
        { manager: 'apply-one', apply: { listOfLists: [{ name: 'a' }] } },
      ],
      object: { listOfLists: [{ name: 'a' }, { name: 'b', value: ['d', 'e'] }] },
      managed: {
        'apply-one': ['.listOfLists[name="a"]', '.listOfLists[name="a"].name'],
        'apply-two': ['.listOfLists[name="b"]', '.listOfLists[name="b"].name', '.listOfLists[name="b"].value[="d"]'],
        controller: ['.listOfLists[name="b"].value[="e"]'],
      },
    }));
  test('remove_one_with_dangling_subitem_keep_one', () =>
    run(listOfLists, {
      ops: [
        { manager: 'apply-one', apply: { listOfLists: [{ name: 'a' }, { name: 'b', value: ['c'] }] } },
        { manager: 'apply-two', apply: { listOfLists: [{ name: 'a', value: ['b'] }] } },
        { manager: 'controller', update: { listOfLists: [{ name: 'a', value: ['b'] }, { name: 'b', value: ['c', 'd'] }] } },
        { manager: 'apply-one', apply: { listOfLists: [{ name: 'a' }] } },
      ],
      object: { listOfLists: [{ name: 'a', value: ['b'] }] },
      managed: {
        'apply-one': ['.listOfLists[name="a"]', '.listOfLists[name="a"].name'],
        'apply-two': ['.listOfLists[name="a"]', '.listOfLists[name="a"].name', '.listOfLists[name="a"].value[="b"]'],
      },
    }));
});

/** SMD's elementRelationship overrides on references are x-kubernetes-map-type on a $ref property. */
const overrides = {
  properties: {
    separableMapReference: { $ref: '#/definitions/atomicMap', 'x-kubernetes-map-type': 'granular' },
    atomicMapReference: { $ref: '#/definitions/unspecifiedMap', 'x-kubernetes-map-type': 'atomic' },
  },
};
const overrideDefinitions = {
  unspecifiedMap: { type: 'object', properties: { name: { type: 'string' }, value: { type: 'number' } } },
  atomicMap: { type: 'object', 'x-kubernetes-map-type': 'atomic', properties: { name: { type: 'string' }, value: { type: 'number' } } },
};

describe('field-level overrides (merge/field_level_overrides_test.go)', () => {
  test('test_override_atomic_map_with_separable', () =>
    run(
      overrides,
      {
        ops: [
          { manager: 'apply_one', apply: { separableMapReference: { name: 'a' } } },
          { manager: 'apply_two', apply: { separableMapReference: { value: 2 } } },
        ],
        object: { separableMapReference: { name: 'a', value: 2 } },
        managed: { apply_one: ['.separableMapReference.name'], apply_two: ['.separableMapReference.value'] },
      },
      overrideDefinitions,
    ));
  test('test_override_unspecified_map_with_atomic', () =>
    run(
      overrides,
      {
        ops: [
          { manager: 'apply_one', apply: { atomicMapReference: { name: 'a' } } },
          { manager: 'apply_two', apply: { atomicMapReference: { value: 2 } }, conflicts: [['apply_one', '.atomicMapReference']] },
          { manager: 'apply_one', apply: { atomicMapReference: { name: 'b', value: 2 } } },
        ],
        object: { atomicMapReference: { name: 'b', value: 2 } },
        managed: { apply_one: ['.atomicMapReference'] },
      },
      overrideDefinitions,
    ));
});

/** SMD's DeducedParser: a root of deduced type, which is what preserve-unknown-fields gives. */
const deduced = { 'x-kubernetes-preserve-unknown-fields': true, properties: {} };

describe('deduced types (merge/deduced_test.go TestDeduced*)', () => {
  test('leaf_apply_update_apply_with_conflict', () =>
    run(deduced, {
      ops: [
        { manager: 'default', apply: { numeric: 1, string: 'string' } },
        { manager: 'controller', update: { numeric: 1, string: 'controller string', bool: true } },
        { manager: 'default', apply: { numeric: 2, string: 'user string' }, conflicts: [['controller', '.string']] },
        { manager: 'default', apply: { numeric: 2, string: 'user string' }, force: true },
      ],
      object: { numeric: 2, string: 'user string', bool: true },
      managed: { default: ['.numeric', '.string'], controller: ['.bool'] },
    }));
  test('leaf_update_remove_empty_set', () =>
    run(deduced, {
      ops: [
        { manager: 'default', apply: { string: 'string' } },
        { manager: 'controller', update: { string: 'new string' } },
      ],
      object: { string: 'new string' },
      managed: { controller: ['.string'] },
    }));
  test('apply_twice_list_is_atomic', () =>
    run(deduced, {
      ops: [
        { manager: 'default', apply: { list: ['a', 'c'] } },
        { manager: 'default', apply: { list: ['a', 'd', 'c', 'b'] } },
      ],
      object: { list: ['a', 'd', 'c', 'b'] },
      managed: { default: ['.list'] },
    }));
  test('apply_update_apply_list', () =>
    run(deduced, {
      ops: [
        { manager: 'default', apply: { list: ['a', 'c'] } },
        { manager: 'controller', update: { list: ['a', 'b', 'c', 'd'] } },
        { manager: 'default', apply: { list: ['a', 'b', 'c'] }, force: true },
      ],
      object: { list: ['a', 'b', 'c'] },
      managed: { default: ['.list'] },
    }));
  test('leaf_apply_remove_empty_set', () =>
    run(deduced, {
      ops: [
        { manager: 'default', apply: { string: 'string' } },
        { manager: 'default', apply: {} },
      ],
      object: {},
      managed: {},
    }));
  test('apply_update_apply_nested', () =>
    run(deduced, {
      ops: [
        { manager: 'default', apply: { a: 1, b: { c: { d: 2, e: [1, 2, 3], f: [{ name: 'n', value: 1 }] } } } },
        { manager: 'controller', update: { a: 1, b: { c: { d: 3, e: [1, 2, 3, 4], f: [{ name: 'n', value: 2 }], g: 5 } } } },
        {
          manager: 'default',
          apply: { a: 2, b: { c: { d: 2, e: [3, 2, 1], f: [{ name: 'n', value: 1 }] } } },
          conflicts: [
            ['controller', '.b.c.d'],
            ['controller', '.b.c.e'],
            ['controller', '.b.c.f'],
          ],
        },
        { manager: 'default', apply: { a: 2, b: { c: { d: 2, e: [3, 2, 1], f: [{ name: 'n', value: 1 }] } } }, force: true },
      ],
      object: { a: 2, b: { c: { d: 2, e: [3, 2, 1], f: [{ name: 'n', value: 1 }], g: 5 } } },
    }));
});

/** A key field with a schema default (SMD `default:`, OpenAPI `default`). */
const defaultKeys = {
  properties: {
    containerPorts: {
      type: 'array',
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['port', 'protocol'],
      items: { type: 'object', properties: { port: { type: 'number' }, protocol: { type: 'string', default: 'TCP' }, name: { type: 'string' } } },
    },
  },
};

describe('defaulted keys (merge/default_keys_test.go TestDefaultKeysFlat)', () => {
  test('apply_missing_defaulted_key_A', () =>
    run(defaultKeys, {
      ops: [{ manager: 'default', apply: { containerPorts: [{ port: 80 }] } }],
      object: { containerPorts: [{ port: 80 }] },
      managed: { default: ['.containerPorts[port=80,protocol="TCP"]', '.containerPorts[port=80,protocol="TCP"].port'] },
    }));
  test('apply_missing_defaulted_key_B', () =>
    run(defaultKeys, {
      ops: [{ manager: 'default', apply: { containerPorts: [{ port: 80 }, { port: 80, protocol: 'UDP' }] } }],
      object: { containerPorts: [{ port: 80 }, { port: 80, protocol: 'UDP' }] },
      managed: {
        default: [
          '.containerPorts[port=80,protocol="TCP"]',
          '.containerPorts[port=80,protocol="TCP"].port',
          '.containerPorts[port=80,protocol="UDP"]',
          '.containerPorts[port=80,protocol="UDP"].port',
          '.containerPorts[port=80,protocol="UDP"].protocol',
        ],
      },
    }));
  test('apply_missing_defaulted_key_with_conflict', () =>
    run(defaultKeys, {
      ops: [
        { manager: 'apply-one', apply: { containerPorts: [{ port: 80, protocol: 'TCP', name: 'foo' }] } },
        { manager: 'apply-two', apply: { containerPorts: [{ port: 80, name: 'bar' }] }, conflicts: [['apply-one', '.containerPorts[port=80,protocol="TCP"].name']] },
      ],
      object: { containerPorts: [{ port: 80, protocol: 'TCP', name: 'foo' }] },
      managed: {
        'apply-one': ['.containerPorts[port=80,protocol="TCP"]', '.containerPorts[port=80,protocol="TCP"].port', '.containerPorts[port=80,protocol="TCP"].protocol', '.containerPorts[port=80,protocol="TCP"].name'],
      },
    }));
});
