/**
 * managedFields across API versions: structured-merge-diff's multiple-version test tables
 * (sigs.k8s.io/structured-merge-diff/v6, merge/multiple_appliers_test.go and
 * merge/obsolete_versions_test.go) as facts about this field manager. Each case names its
 * source. The tables' converters are rebuilt here as small test converters: the renaming
 * converter (a field suffixed with the version is renamed to the target's suffix), the
 * repeating converter (a key is its letter repeated as many times as the version's number) and
 * the converter that knows only some versions. As in SMD's fixture, the live object is
 * converted to the version of each operation before it runs.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { StatusError } from '../errors.ts';
import { isPlainObject, type KubeObject } from '../kube.ts';
import { decodeFieldsV1 } from './fieldpath.ts';
import { applyTypesOf, type ApplyTypes, FieldManager, type ManagedFieldsEntry } from './index.ts';
import type { VersionConverter } from './manager.ts';

/** Converts `object` (of the version its apiVersion names) to `version`; undefined when that version is unknown. */
type Convert = (object: KubeObject, version: string) => KubeObject | undefined;

/** SMD's fixture State: the live object and its managers, written version by version. */
class State {
  live: KubeObject | undefined;
  private tick = 0;
  private readonly typesOf: (version: string) => ApplyTypes;
  private readonly convert: Convert;

  constructor(typesOf: (version: string) => ApplyTypes, convert: Convert) {
    this.typesOf = typesOf;
    this.convert = convert;
  }

  private manager(version: string): FieldManager {
    const converter: VersionConverter = (object, to) => {
      const converted = this.convert(object, to);
      return converted === undefined ? undefined : { object: converted, types: this.typesOf(to) };
    };
    return new FieldManager({ types: this.typesOf(version), apiVersion: version, subresource: '', resetFields: [], now: () => new Date(Date.UTC(2026, 0, 1, 0, 0, this.tick++)), convert: converter });
  }

  /** The live object in `version`, as the fixture converts it before each operation. */
  private liveAt(version: string): KubeObject | undefined {
    if (this.live === undefined) return undefined;
    const converted = this.convert(this.live, version);
    if (converted === undefined) throw new Error(`live object cannot be converted to ${version}`);
    return converted;
  }

  update(version: string, manager: string, object: Record<string, unknown>): void {
    const live = this.liveAt(version);
    const next: KubeObject = { apiVersion: version, metadata: { name: 'o', managedFields: live?.metadata?.managedFields }, ...object };
    this.live = this.manager(version).update(live, next, manager);
  }

  apply(version: string, manager: string, object: Record<string, unknown>, force = false): void {
    this.live = this.manager(version).apply(this.liveAt(version), { apiVersion: version, metadata: { name: 'o' }, ...object }, manager, force);
  }

  /** manager -> [apiVersion, owned paths], SMD's ManagedFields (whose comparison ignores the applied flag). */
  managers(): Record<string, [string, string[]]> {
    const out: Record<string, [string, string[]]> = {};
    for (const e of (this.live?.metadata?.managedFields ?? []) as ManagedFieldsEntry[]) out[e.manager] = [e.apiVersion, decodeFieldsV1(e.fieldsV1).paths().sort()];
    return out;
  }

  /** The live object in `version`, without apiVersion and metadata (what the tables' Object states). */
  objectAt(version: string): Record<string, unknown> {
    const { apiVersion: _v, metadata: _m, ...rest } = this.liveAt(version) ?? {};
    return rest;
  }
}

/** An OpenAPI object schema of `properties`, with the fields every object here has. */
function objectSchema(properties: Record<string, unknown>): Record<string, unknown> {
  return { type: 'object', properties: { apiVersion: { type: 'string' }, kind: { type: 'string' }, metadata: { type: 'object', properties: { name: { type: 'string' } } }, ...properties } };
}

/** `value` with every key ending in `from` ending in `to` instead, at any depth. */
function renameFields(value: unknown, from: string, to: string): unknown {
  if (Array.isArray(value)) return value.map((v) => renameFields(v, from, to));
  if (!isPlainObject(value)) return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k.endsWith(from) ? k.slice(0, -from.length) + to : k, renameFields(v, from, to)]));
}

// merge/multiple_appliers_test.go structMultiversionParser: struct.{name, scalarField_vN, complexField_vN.name} per version vN.
const STRUCT_VERSIONS = new Map(
  ['v1', 'v2', 'v3'].map((v) => [
    v,
    applyTypesOf(
      () => undefined,
      objectSchema({
        struct: { type: 'object', properties: { name: { type: 'string' }, [`scalarField_${v}`]: { type: 'string' }, [`complexField_${v}`]: { type: 'object', properties: { name: { type: 'string' } } } } },
        version: { type: 'string' },
      }),
    ),
  ]),
);

/** merge/multiple_appliers_test.go renamingConverter (metadata.managedFields kept as they are). */
const renaming: Convert = (object, version) => {
  if (!STRUCT_VERSIONS.has(version)) return undefined;
  const { metadata, ...rest } = object;
  const from = String(object.apiVersion);
  return { ...(renameFields(rest, `_${from}`, `_${version}`) as KubeObject), apiVersion: version, ...(metadata === undefined ? {} : { metadata }) };
};

const VERSIONS = ['v1', 'v2', 'v3'];
const triples: [string, string, string][] = VERSIONS.flatMap((a) => VERSIONS.flatMap((b) => VERSIONS.map((c): [string, string, string] => [a, b, c])));

describe('SMD merge/multiple_appliers_test.go TestMultipleAppliersFieldUnsetting (renamingConverter, every version triple)', () => {
  for (const [v1, v2, v3] of triples) {
    test(`${v1}-${v2}-${v3}: unset_scalar_sole_owner`, () => {
      const s = new State((v) => STRUCT_VERSIONS.get(v)!, renaming);
      s.apply(v1, 'apply-one', { struct: { name: 'a', [`scalarField_${v1}`]: 'a' } });
      s.apply(v2, 'apply-one', { struct: { name: 'a' } });
      assert.deepEqual(s.objectAt(v3), { struct: { name: 'a' } });
      assert.deepEqual(s.managers(), { 'apply-one': [v2, ['.struct.name']] });
    });

    test(`${v1}-${v2}-${v3}: unset_scalar_shared_with_applier`, () => {
      const s = new State((v) => STRUCT_VERSIONS.get(v)!, renaming);
      s.apply(v1, 'apply-one', { struct: { name: 'a', [`scalarField_${v1}`]: 'a' } });
      s.apply(v2, 'apply-two', { struct: { [`scalarField_${v2}`]: 'a' } });
      s.apply(v3, 'apply-one', { struct: { name: 'a' } });
      assert.deepEqual(s.objectAt(v3), { struct: { name: 'a', [`scalarField_${v3}`]: 'a' } });
      assert.deepEqual(s.managers(), { 'apply-one': [v3, ['.struct.name']], 'apply-two': [v2, [`.struct.scalarField_${v2}`]] });
    });

    test(`${v1}-${v2}-${v3}: unset_scalar_shared_with_updater`, () => {
      const s = new State((v) => STRUCT_VERSIONS.get(v)!, renaming);
      s.update(v1, 'updater', { struct: { name: 'a', [`scalarField_${v1}`]: 'a' } });
      s.apply(v2, 'applier', { struct: { name: 'a', [`scalarField_${v2}`]: 'a' } });
      s.apply(v3, 'applier', { struct: { name: 'a' } });
      assert.deepEqual(s.objectAt(v3), { struct: { name: 'a', [`scalarField_${v3}`]: 'a' } });
      assert.deepEqual(s.managers(), { updater: [v1, ['.struct', '.struct.name', `.struct.scalarField_${v1}`]], applier: [v3, ['.struct.name']] });
    });

    test(`${v1}-${v2}-${v3}: updater_claims_field`, () => {
      const s = new State((v) => STRUCT_VERSIONS.get(v)!, renaming);
      s.apply(v1, 'applier', { struct: { name: 'a', [`scalarField_${v1}`]: 'a' } });
      s.update(v2, 'updater', { struct: { name: 'a', [`scalarField_${v2}`]: 'b' } });
      assert.deepEqual(s.objectAt(v3), { struct: { name: 'a', [`scalarField_${v3}`]: 'b' } });
      assert.deepEqual(s.managers(), { updater: [v2, [`.struct.scalarField_${v2}`]], applier: [v1, ['.struct.name']] });
    });

    test(`${v1}-${v2}-${v3}: unset_complex_sole_owner`, () => {
      const s = new State((v) => STRUCT_VERSIONS.get(v)!, renaming);
      s.apply(v1, 'apply-one', { struct: { name: 'a', [`complexField_${v1}`]: { name: 'b' } } });
      s.apply(v2, 'apply-one', { struct: { name: 'a' } });
      assert.deepEqual(s.objectAt(v3), { struct: { name: 'a' } });
      assert.deepEqual(s.managers(), { 'apply-one': [v2, ['.struct.name']] });
    });

    test(`${v1}-${v2}-${v3}: unset_complex_shared_with_applier`, () => {
      const s = new State((v) => STRUCT_VERSIONS.get(v)!, renaming);
      s.apply(v1, 'apply-one', { struct: { name: 'a', [`complexField_${v1}`]: { name: 'b' } } });
      s.apply(v2, 'apply-two', { struct: { [`complexField_${v2}`]: { name: 'b' } } });
      s.apply(v3, 'apply-one', { struct: { name: 'a' } });
      assert.deepEqual(s.objectAt(v3), { struct: { name: 'a', [`complexField_${v3}`]: { name: 'b' } } });
      assert.deepEqual(s.managers(), { 'apply-one': [v3, ['.struct.name']], 'apply-two': [v2, [`.struct.complexField_${v2}.name`]] });
    });
  }
});

describe('SMD merge/multiple_appliers_test.go TestMultipleAppliersFieldRenameConversions (renamingConverter, every version triple)', () => {
  for (const [v1, v2, v3] of triples) {
    test(`${v1}-${v2}-${v3}: updater_claims_field`, () => {
      const s = new State((v) => STRUCT_VERSIONS.get(v)!, renaming);
      s.apply(v1, 'applier', { struct: { name: 'a', [`scalarField_${v1}`]: 'a' } });
      s.update(v2, 'updater', { struct: { name: 'a', [`scalarField_${v2}`]: 'b' } });
      assert.deepEqual(s.objectAt(v3), { struct: { name: 'a', [`scalarField_${v3}`]: 'b' } });
      assert.deepEqual(s.managers(), { updater: [v2, [`.struct.scalarField_${v2}`]], applier: [v1, ['.struct.name']] });
    });
  }
});

describe('conflicts are found in the owner\'s version and name its paths there (SMD merge/update.go update())', () => {
  test('an applier at v2 changing what an applier at v1 owns conflicts on the v1 path; force takes it', () => {
    const s = new State((v) => STRUCT_VERSIONS.get(v)!, renaming);
    s.apply('v1', 'one', { struct: { name: 'a', scalarField_v1: 'a' } });
    let err: unknown;
    try {
      s.apply('v2', 'two', { struct: { scalarField_v2: 'b' } });
    } catch (e) {
      err = e;
    }
    assert.ok(err instanceof StatusError && err.reason === 'Conflict', String(err));
    assert.equal(err.message, 'Apply failed with 1 conflict: conflict with "one": .struct.scalarField_v1');
    s.apply('v2', 'two', { struct: { scalarField_v2: 'b' } }, true);
    assert.deepEqual(s.managers(), { one: ['v1', ['.struct.name']], two: ['v2', ['.struct.scalarField_v2']] });
  });
});

// merge/nested_test.go nestedTypeParser's mapOfMapsRecursive: a granular map whose elements are of its own type.
const RECURSIVE = {
  type: 'object',
  additionalProperties: { $ref: '#/definitions/mapOfMapsRecursive' },
};
const NESTED = applyTypesOf((name) => (name === 'mapOfMapsRecursive' ? RECURSIVE : undefined), objectSchema({ mapOfMapsRecursive: { $ref: '#/definitions/mapOfMapsRecursive' } }));

/**
 * A key of one letter repeated n times, repeated `times` times instead, at any depth. As the Go
 * converter rewrites each YAML line as `<letter repeated>:`, a value written on its key's line
 * (a scalar, `{}`) becomes null.
 */
function repeatKeys(value: unknown, times: number): unknown {
  if (!isPlainObject(value) || Object.keys(value).length === 0) return null;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k.slice(0, 1).repeat(times), repeatKeys(v, times)]));
}

/** merge/multiple_appliers_test.go repeatingConverter: version vN repeats each key's letter N times (in mapOfMapsRecursive). */
const repeating: Convert = (object, version) => {
  const n = /^v([1-9]\d*)$/.exec(version);
  if (n === null) return undefined;
  const out: KubeObject = { ...object, apiVersion: version };
  if (object.mapOfMapsRecursive !== undefined) out.mapOfMapsRecursive = repeatKeys(object.mapOfMapsRecursive, Number(n[1]));
  return out;
};

describe('SMD merge/multiple_appliers_test.go TestMultipleAppliersRealConversion (repeatingConverter)', () => {
  test('multiple_appliers_recursive_map_real_conversion', () => {
    const s = new State(() => NESTED, repeating);
    s.apply('v1', 'apply-one', { mapOfMapsRecursive: { a: { b: null }, c: { d: null } } });
    s.apply('v2', 'apply-two', { mapOfMapsRecursive: { aa: null, cc: { dd: null } } });
    s.update('v3', 'controller', { mapOfMapsRecursive: { aaa: { bbb: { ccc: { ddd: null } } }, ccc: { ddd: { eee: { fff: null } } } } });
    s.apply('v4', 'apply-one', { mapOfMapsRecursive: null });
    assert.deepEqual(s.objectAt('v4'), { mapOfMapsRecursive: { aaaa: null, cccc: { dddd: { eeee: { ffff: null } } } } });
    assert.deepEqual(s.managers(), {
      'apply-one': ['v4', ['.mapOfMapsRecursive']],
      'apply-two': ['v2', ['.mapOfMapsRecursive.aa', '.mapOfMapsRecursive.cc', '.mapOfMapsRecursive.cc.dd']],
      controller: ['v3', ['.mapOfMapsRecursive.ccc.ddd.eee', '.mapOfMapsRecursive.ccc.ddd.eee.fff']],
    });
  });

  test('appliers_remove_from_controller_real_conversion', () => {
    const s = new State(() => NESTED, repeating);
    s.apply('v3', 'apply', { mapOfMapsRecursive: { aaa: { bbb: null } } });
    s.update('v1', 'controller', { mapOfMapsRecursive: { a: { b: { c: null } } } });
    s.apply('v2', 'apply', { mapOfMapsRecursive: { aa: { bb: null }, cc: { dd: null } } });
    s.apply('v3', 'apply', { mapOfMapsRecursive: { aaa: null, ccc: null } });
    assert.deepEqual(s.objectAt('v3'), { mapOfMapsRecursive: { aaa: null, ccc: null } });
    assert.deepEqual(s.managers(), { apply: ['v3', ['.mapOfMapsRecursive.aaa', '.mapOfMapsRecursive.ccc']] });
  });

  test('applier_updater_shared_ownership_real_conversion', () => {
    const s = new State(() => NESTED, repeating);
    s.update('v1', 'updater', { mapOfMapsRecursive: { a: { b: { c: null } } } });
    s.apply('v2', 'apply', { mapOfMapsRecursive: { aa: { bb: null }, cc: { dd: null } } });
    s.apply('v3', 'apply', { mapOfMapsRecursive: { aaa: null, ccc: null } });
    assert.deepEqual(s.objectAt('v3'), { mapOfMapsRecursive: { aaa: { bbb: { ccc: null } }, ccc: null } });
    assert.deepEqual(s.managers(), {
      updater: ['v1', ['.mapOfMapsRecursive', '.mapOfMapsRecursive.a', '.mapOfMapsRecursive.a.b', '.mapOfMapsRecursive.a.b.c']],
      apply: ['v3', ['.mapOfMapsRecursive.aaa', '.mapOfMapsRecursive.ccc']],
    });
  });
});

describe('SMD merge/obsolete_versions_test.go (specificVersionConverter: only the versions listed exist)', () => {
  /** The object as is, in the versions `accepted` lists. */
  const specific =
    (accepted: { versions: string[] }): Convert =>
    (object, version) =>
      accepted.versions.includes(version) ? { ...object, apiVersion: version } : undefined;

  test('TestObsoleteVersions: managers of a version that no longer exists are removed', () => {
    const accepted = { versions: ['v1', 'v2'] };
    const deduced = applyTypesOf(() => undefined, { type: 'object', 'x-kubernetes-preserve-unknown-fields': true });
    const s = new State(() => deduced, specific(accepted));
    s.update('v1', 'v1', { v1: 0 });
    s.update('v2', 'v2', { v1: 0, v2: 0 });
    accepted.versions = ['v2', 'v3'];
    s.update('v3', 'v3', { v1: 0, v2: 0, v3: 0 });
    assert.deepEqual(s.managers(), { v2: ['v2', ['.v2']], v3: ['v3', ['.v3']] });
  });

  test('TestApplyObsoleteVersion: an applier whose last version is gone prunes nothing', () => {
    const accepted = { versions: ['v1'] };
    const sets = applyTypesOf(() => undefined, objectSchema({ list: { type: 'array', items: { type: 'string' }, 'x-kubernetes-list-type': 'set' } }));
    const s = new State(() => sets, specific(accepted));
    s.apply('v1', 'apply', { list: ['a', 'b', 'c', 'd'] });
    accepted.versions = ['v2'];
    s.apply('v2', 'apply', { list: ['a'] });
    assert.deepEqual(s.objectAt('v2'), { list: ['a', 'b', 'c', 'd'] });
  });
});
