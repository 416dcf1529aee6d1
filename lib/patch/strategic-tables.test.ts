/**
 * Strategic merge patch against kube's own test tables: every application case (original +
 * patch -> result, or an error) of k8s.io/apimachinery's pkg/util/strategicpatch/patch_test.go
 * (TestStrategicMergePatch: createStrategicMergePatchTestCaseData and
 * strategicMergePatchRawTestCases, two-way and three-way applications; TestCustomStrategicMergePatch:
 * customStrategicMergePatchTestCaseData and customStrategicMergePatchRawTestCases), taken as
 * facts into testdata/kube-strategic-cases.json by testdata/extract-kube-cases.ts. Each test
 * is named after its source: the Go test, the table and the case's description.
 *
 * The tables' schema is testdata/swagger-merge-item.json of the same package (definitions
 * mergeItem and retainKeysMergeItem), given here as the OpenAPI facts mergeFactsOf reads.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { isPlainObject } from '../kube.ts';
import { applyStrategicMergePatch, mergeFactsOf, StrategicMergeError, type FactsSchema, type MergeSchema } from './strategic.ts';

const mergingList = (strategy: string): FactsSchema => ({
  items: { $ref: '#/definitions/mergeItem' },
  'x-kubernetes-patch-merge-key': 'name',
  'x-kubernetes-patch-strategy': strategy,
});
const mergingIntList: FactsSchema = { items: {}, 'x-kubernetes-patch-strategy': 'merge' };
const nonMergingList: FactsSchema = { items: { $ref: '#/definitions/mergeItem' } };

/** swagger-merge-item.json's definitions: the fields' patch strategies, merge keys and item types. */
const DEFINITIONS: Record<string, FactsSchema> = {
  mergeItem: {
    properties: {
      name: {},
      value: {},
      other: {},
      mergingList: mergingList('merge'),
      nonMergingList,
      mergingIntList,
      nonMergingIntList: { items: {} },
      mergeItemPtr: { $ref: '#/definitions/mergeItem', 'x-kubernetes-patch-merge-key': 'name', 'x-kubernetes-patch-strategy': 'merge' },
      simpleMap: { additionalProperties: {} },
      replacingItem: { $ref: '#/definitions/io.k8s.apimachinery.pkg.runtime.RawExtension', 'x-kubernetes-patch-strategy': 'replace' },
      retainKeysMap: { $ref: '#/definitions/retainKeysMergeItem', 'x-kubernetes-patch-strategy': 'retainKeys' },
      retainKeysMergingList: mergingList('merge,retainKeys'),
      jsonItem: {},
    },
  },
  retainKeysMergeItem: {
    properties: { name: {}, value: {}, other: {}, simpleMap: {}, mergingList: mergingList('merge'), nonMergingList, mergingIntList },
  },
  'io.k8s.apimachinery.pkg.runtime.RawExtension': { properties: { Raw: {} } },
};

const MERGE_ITEM = mergeFactsOf((name) => DEFINITIONS[name], 'mergeItem');

interface Case {
  test: string;
  table: string;
  description: string;
  application: 'twoWay' | 'threeWay';
  sorted: boolean;
  original: Record<string, unknown> | null;
  patch: Record<string, unknown> | null;
  expected?: Record<string, unknown> | null;
  error?: string;
}

const TABLES = JSON.parse(readFileSync(new URL('./testdata/kube-strategic-cases.json', import.meta.url), 'utf8')) as { source: string; cases: Case[] };

/** fmt's %v of a decoded JSON scalar, which kube's test sorts by. */
const goString = (v: unknown): string => (v === undefined || v === null ? '<nil>' : String(v));

function strategyOf(strategies: readonly string[]): string {
  return strategies.filter((s) => s !== 'retainKeys').join(',');
}

/**
 * kube's test preparation of the YAML tables (sortMergeListsByName): every merging list sorted,
 * lists of objects by their merge key's %v, lists of scalars deduplicated and sorted by %v;
 * `$retainKeys` and `$deleteFromPrimitiveList` lists sorted, `$setElementOrder` lists kept.
 */
function sortMergeLists(m: Record<string, unknown>, schema: MergeSchema): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(m)) {
    let value = v;
    if ((k === '$retainKeys' || k.startsWith('$deleteFromPrimitiveList/')) && Array.isArray(v)) {
      value = v.slice().sort((a, b) => (goString(a) <= goString(b) ? -1 : 1));
    } else if (k !== '$patch' && !k.startsWith('$setElementOrder/')) {
      if (isPlainObject(v)) value = sortMergeLists(v, schema.lookup(k, false).schema);
      else if (Array.isArray(v) && v.length > 0) {
        const { schema: sub, meta } = schema.lookup(k, true);
        if (strategyOf(meta.strategies) === 'merge') {
          if (isPlainObject(v[0])) {
            value = v
              .map((e) => sortMergeLists(e as Record<string, unknown>, sub))
              .sort((a, b) => (goString(a[meta.mergeKey]) <= goString(b[meta.mergeKey]) ? -1 : 1));
          } else {
            value = [...new Set(v)].sort((a, b) => (goString(a) <= goString(b) ? -1 : 1));
          }
        }
      }
    }
    out[k] = value;
  }
  return out;
}

function prepare(doc: Record<string, unknown> | null | undefined, sorted: boolean): Record<string, unknown> {
  const d = structuredClone(doc ?? {});
  return sorted ? sortMergeLists(d, MERGE_ITEM) : d;
}

describe(`strategic merge patch: kube's test tables (${TABLES.source})`, () => {
  test('the tables were read: every table has cases', () => {
    const tables = new Set(TABLES.cases.map((c) => c.table));
    assert.deepEqual([...tables].sort(), ['createStrategicMergePatchTestCaseData', 'customStrategicMergePatchRawTestCases', 'customStrategicMergePatchTestCaseData', 'strategicMergePatchRawTestCases']);
    assert.ok(TABLES.cases.length > 200);
  });

  for (const c of TABLES.cases) {
    test(`${c.test} ${c.table}: ${c.description} (${c.application} patch applied)`, () => {
      const original = prepare(c.original, c.sorted);
      const patch = prepare(c.patch, c.sorted);
      if (c.error !== undefined) {
        assert.throws(() => applyStrategicMergePatch(original, patch, MERGE_ITEM), (err: unknown) => err instanceof StrategicMergeError && err.message.includes(c.error as string));
        return;
      }
      assert.deepEqual(applyStrategicMergePatch(original, patch, MERGE_ITEM), prepare(c.expected, c.sorted));
    });
  }
});
