/**
 * removeItems as SMD's removing walker (structured-merge-diff typed/remove.go, table
 * typed/remove_test.go, case "nested types"): the schema of that table written as OpenAPI (its
 * listOfLists keyed by name, each item's value a set of strings; mapOfMaps a map of string maps).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeFieldsV1 } from './fieldpath.ts';
import { removeItems } from './typed.ts';
import { applyTypesOf } from './types.ts';

const root = applyTypesOf(() => undefined, {
  type: 'object',
  properties: {
    listOfLists: {
      type: 'array',
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['name'],
      items: { type: 'object', properties: { name: { type: 'string' }, value: { type: 'array', 'x-kubernetes-list-type': 'set', items: { type: 'string' } } } },
    },
    mapOfMaps: { type: 'object', additionalProperties: { type: 'object', additionalProperties: { type: 'string' } } },
  },
}).root;

const listOfLists = { listOfLists: [{ name: 'a', value: ['b', 'c'] }, { name: 'd' }] };

test('a list item that loses every field stays as null, as SMD\'s walker appends it ("path to a top-level element", its remove output left out there as unparseable)', () => {
  const set = decodeFieldsV1({ 'f:listOfLists': { 'k:{"name":"d"}': { 'f:name': {} } } });
  assert.deepEqual(removeItems(structuredClone(listOfLists), set, root), { listOfLists: [{ name: 'a', value: ['b', 'c'] }, null] });
});

test('remove_test.go "nested types": a top-level element, a leaf of one, a missing element', () => {
  assert.deepEqual(removeItems(structuredClone(listOfLists), decodeFieldsV1({ 'f:listOfLists': { 'k:{"name":"d"}': {} } }), root), { listOfLists: [{ name: 'a', value: ['b', 'c'] }] });
  assert.deepEqual(removeItems(structuredClone(listOfLists), decodeFieldsV1({ 'f:listOfLists': { 'k:{"name":"a"}': { 'f:value': { 'v:"b"': {} } } } }), root), { listOfLists: [{ name: 'a', value: ['c'] }, { name: 'd' }] });
  assert.deepEqual(removeItems(structuredClone(listOfLists), decodeFieldsV1({ 'f:listOfLists': { 'k:{"name":"x"}': {} } }), root), listOfLists);
  const maps = { mapOfMaps: { b: { a: 'x', c: 'z' }, d: { e: 'y', f: 'w' } } };
  assert.deepEqual(removeItems(structuredClone(maps), decodeFieldsV1({ 'f:mapOfMaps': { 'f:b': {} } }), root), { mapOfMaps: { d: { e: 'y', f: 'w' } } });
  assert.deepEqual(removeItems(structuredClone(maps), decodeFieldsV1({ 'f:mapOfMaps': { 'f:b': { 'f:a': {} } } }), root), { mapOfMaps: { b: { c: 'z' }, d: { e: 'y', f: 'w' } } });
});

test('an empty map or list walked into keeps nothing, as the walker answers nil for it (remove.go doMap, doList)', () => {
  assert.deepEqual(removeItems({ mapOfMaps: { b: {}, d: { e: 'y' } } }, decodeFieldsV1({ 'f:mapOfMaps': { 'f:b': { 'f:a': {} } } }), root), { mapOfMaps: { b: null, d: { e: 'y' } } });
  assert.deepEqual(removeItems({ listOfLists: [{ name: 'a', value: [] }] }, decodeFieldsV1({ 'f:listOfLists': { 'k:{"name":"a"}': { 'f:value': { 'v:"b"': {} } } } }), root), { listOfLists: [{ name: 'a', value: null }] });
});
