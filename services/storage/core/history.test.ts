import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decodeChangeEvent, encodeChangeEvent } from '../../../lib/change-event.ts';
import { historyEvent, storedChange } from './history.ts';
import type { KeyValue, RawChange } from './kv.ts';

const key = '/registry/configmaps/ns/cm';
const v1 = JSON.stringify({ metadata: { name: 'cm', namespace: 'ns' }, data: { k: 'a' } });
const v2 = JSON.stringify({ metadata: { name: 'cm', namespace: 'ns' }, data: { k: 'b' } });
const kv = (value: string, modRevision: number, version: number): KeyValue => ({ key, value, modRevision, version });
const put = (value: string, modRevision: number, version: number, prevKv?: KeyValue): RawChange => ({ type: 'Put', kv: kv(value, modRevision, version), prevKv });
const del = (modRevision: number, prevKv?: KeyValue): RawChange => ({ type: 'Delete', kv: kv('', modRevision, 0), prevKv });

describe('changes as the stream delivers them and as history reports them', () => {
  test('ADDED, MODIFIED and DELETED; the stream and history give the same event', () => {
    const changes = [put(v1, 5, 1), put(v2, 7, 2, kv(v1, 5, 1)), del(9, kv(v2, 7, 2))];
    assert.deepEqual(
      changes.map((c) => storedChange(c)?.type),
      ['ADDED', 'MODIFIED', 'DELETED'],
    );
    for (const change of changes) {
      const stored = storedChange(change);
      assert.ok(stored !== undefined);
      const { prevRevision: _p, group: _g, resource: _r, traceparent: _t, ...fromStream } = decodeChangeEvent(encodeChangeEvent(stored, 1));
      assert.deepEqual(fromStream, historyEvent(change));
    }
    assert.equal(historyEvent(del(9, kv(v2, 7, 2)))?.object.metadata?.resourceVersion, '9', 'a deletion carries the last state at its revision');
    assert.equal(historyEvent(del(9, kv(v2, 7, 2)))?.prevObject?.metadata?.resourceVersion, '7');
  });

  test('identity comes from the key, whatever the stored metadata says', () => {
    const other = JSON.stringify({ metadata: { name: 'elsewhere', namespace: 'kube-system' } });
    assert.deepEqual(
      [storedChange(put(other, 5, 1))?.namespace, storedChange(put(other, 5, 1))?.name, historyEvent(put(other, 5, 1))?.namespace],
      ['ns', 'cm', 'ns'],
    );
  });

  test('nothing to deliver: a delete without previous state, a key outside the layout, a value that is not an object', () => {
    assert.equal(storedChange(del(9)), undefined);
    assert.equal(storedChange({ type: 'Put', kv: { key: '/registry/configmaps', value: v1, modRevision: 5, version: 1 } }), undefined);
    for (const value of ['', 'null', '[1]', '"text"']) {
      assert.equal(storedChange(put(value, 5, 1)), undefined, value);
      assert.equal(historyEvent(put(value, 5, 1)), undefined, value);
    }
    // Looks like an object but does not parse: the stream forwards it (its subscribers drop
    // it), history skips it, so a refill never fails on it.
    assert.notEqual(storedChange(put('{not json}', 5, 1)), undefined);
    assert.equal(historyEvent(put('{not json}', 5, 1)), undefined);
  });

  test('a MODIFIED without a usable previous state has no prevObject; JSON with surrounding whitespace is an object', () => {
    assert.equal(storedChange(put(v2, 7, 2))?.prevObject, undefined);
    assert.equal(storedChange(put(v2, 7, 2, kv('garbage', 5, 1)))?.prevObject, undefined);
    const brokenPrev = historyEvent(put(v2, 7, 2, kv('{broken', 5, 1)));
    assert.deepEqual([brokenPrev?.type, brokenPrev?.prevObject, brokenPrev?.object.data], ['MODIFIED', undefined, { k: 'b' }], 'the change itself is whole');
    assert.equal(historyEvent(del(9, kv('{broken', 7, 2))), undefined, 'a deletion is made of its previous state');
    assert.deepEqual(historyEvent(put(`${v2}\n`, 7, 2))?.object.data, { k: 'b' });
  });
});
