/**
 * planList and readList against a scripted engine: what is asked of the store, in which
 * order the request is checked. The behaviour over real stores is in ../contract.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { StatusError } from '../../../lib/errors.ts';
import type { Logger } from '../../../lib/log.ts';
import { MalformedObjectLog } from '../../../lib/object-meta.ts';
import { DEFAULT_FIELDS } from '../../../lib/selectors.ts';
import type { StorageRef } from '../api.ts';
import { RevisionCompactedError, RevisionInFutureError, type KeyValueEngine, type RangeRequest, type RangeResponse } from './kv.ts';
import { planList, readList } from './list.ts';

const ref: StorageRef = { group: '', resource: 'configmaps', namespace: 'ns', name: '' };
const PREFIX = '/registry/configmaps/ns/';

function kv(name: string, labels: Record<string, string> = {}, modRevision = 2) {
  return { key: PREFIX + name, value: JSON.stringify({ metadata: { name, namespace: 'ns', labels } }), modRevision, version: 1 };
}

/** An engine that answers range requests from a script and records them. */
function scripted(answers: (RangeResponse | Error)[]): { engine: KeyValueEngine; requests: RangeRequest[] } {
  const requests: RangeRequest[] = [];
  const unused = () => Promise.reject(new Error('not used'));
  const engine: KeyValueEngine = {
    range: async (request) => {
      requests.push(request);
      const answer = answers.shift();
      if (answer === undefined) throw new Error('unexpected range request');
      if (answer instanceof Error) throw answer;
      return answer;
    },
    currentRevision: async () => 42,
    get: unused,
    create: unused,
    replace: unused,
    remove: unused,
    history: unused,
    compactedRevision: unused,
    compact: unused,
  };
  return { engine, requests };
}

function reason(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof StatusError);
    return `${err.reason}: ${err.message}`;
  }
  assert.fail('expected a StatusError');
}

describe('readList', () => {
  test('refills a page thinned by selectors: same revision, after the last key, twice the size', async () => {
    const { engine, requests } = scripted([
      { kvs: [kv('a'), kv('b', { pick: 'yes' })], more: true, count: 6, revision: 10 },
      { kvs: [kv('c'), kv('d'), kv('e', { pick: 'yes' }), kv('f', { pick: 'yes' })], more: false, count: 4, revision: 11 },
    ]);
    const result = await readList(engine, planList(ref, { limit: 2, labelSelector: 'pick=yes' }, DEFAULT_FIELDS));
    assert.deepEqual(result.items.map((o) => o.metadata?.name), ['b', 'e']);
    assert.equal(result.resourceVersion, '10', 'every read at the first read\'s revision');
    assert.deepEqual(
      requests.map((r) => [r.start, r.limit, r.revision]),
      [
        [PREFIX, 2, 0],
        [`${PREFIX}b\x00`, 4, 10],
      ],
    );
    // The page filled up at "e" with "f" unexamined: the token points after "e".
    const token = JSON.parse(Buffer.from(result.continue, 'base64url').toString('utf8')) as { rv: number; start: string };
    assert.deepEqual(token, { v: 'meta.k8s.io/v1', rv: 10, start: 'e\x00' });
    assert.equal(result.remainingItemCount, undefined);
  });

  test('the refill size stops growing at 10000', async () => {
    const answers: RangeResponse[] = [];
    for (let i = 0; i < 3; i++) answers.push({ kvs: [kv(`k${i}`)], more: true, count: 100, revision: 5 });
    answers.push({ kvs: [kv('z', { pick: 'yes' })], more: false, count: 1, revision: 5 });
    const { engine, requests } = scripted(answers);
    await readList(engine, planList(ref, { limit: 4000, labelSelector: 'pick=yes' }, DEFAULT_FIELDS));
    assert.deepEqual(requests.map((r) => r.limit), [4000, 8000, 10000, 10000]);
  });

  test('remainingItemCount is the range\'s count minus the limit, without selectors', async () => {
    const { engine } = scripted([{ kvs: [kv('a'), kv('b')], more: true, count: 7, revision: 3 }]);
    const result = await readList(engine, planList(ref, { limit: 2 }, DEFAULT_FIELDS));
    assert.equal(result.remainingItemCount, 5);
  });

  test('a compacted revision: the continue message with a token, the list message without', async () => {
    const token = Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', rv: 3, start: 'a' })).toString('base64url');
    const withToken = scripted([new RevisionCompactedError()]);
    await assert.rejects(readList(withToken.engine, planList(ref, { continue: token }, DEFAULT_FIELDS)), /too old to display a consistent list result/);
    assert.deepEqual(withToken.requests.map((r) => [r.start, r.revision]), [[`${PREFIX}a`, 3]]);
    const exact = scripted([new RevisionCompactedError()]);
    await assert.rejects(readList(exact.engine, planList(ref, { resourceVersion: '3', resourceVersionMatch: 'Exact' }, DEFAULT_FIELDS)), {
      reason: 'Expired',
      message: 'The resourceVersion for the provided list is too old.',
    });
  });

  test('a token from the future is 504; etcd claiming more with no keys is 500', async () => {
    const token = Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', rv: 99, start: 'a' })).toString('base64url');
    const future = scripted([new RevisionInFutureError()]);
    await assert.rejects(readList(future.engine, planList(ref, { continue: token }, DEFAULT_FIELDS)), { reason: 'Timeout', message: 'Timeout: Too large resource version: 99, current: 42' });
    const odd = scripted([{ kvs: [], more: true, count: 0, revision: 3 }]);
    await assert.rejects(readList(odd.engine, planList(ref, {}, DEFAULT_FIELDS)), { reason: 'InternalError' });
  });

  test('a negative token revision (kube\'s after compaction) continues at the newest', async () => {
    const token = Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', rv: -1, start: 'b' })).toString('base64url');
    const { engine, requests } = scripted([{ kvs: [kv('b')], more: false, count: 1, revision: 8 }]);
    const result = await readList(engine, planList(ref, { continue: token }, DEFAULT_FIELDS));
    assert.equal(requests[0]?.revision, 0);
    assert.equal(result.resourceVersion, '8');
  });
});

describe('readList: malformed stored values', () => {
  /** A stored value as another writer (or an earlier version) may have left it. */
  const raw = (name: string, value: string) => ({ key: PREFIX + name, value, modRevision: 2, version: 1 });
  const stored = [
    raw('bad-json', '{"metadata":'),
    raw('labels-null', '{"metadata":{"name":"labels-null","namespace":"ns","labels":null}}'),
    raw('labels-string', '{"metadata":{"name":"labels-string","namespace":"ns","labels":"pick=yes"}}'),
    raw('metadata-array', '{"metadata":["metadata-array"]}'),
    raw('no-metadata', '{"data":{"a":"b"}}'),
    raw('not-an-object', '[1,2]'),
    raw('numeric-annotation', '{"metadata":{"name":"numeric-annotation","namespace":"ns","labels":{"pick":"yes"},"annotations":{"n":1}}}'),
    kv('ok', { pick: 'yes' }),
  ];

  function recording(): { log: MalformedObjectLog; keys: string[] } {
    const keys: string[] = [];
    const record = (_msg: string, fields?: Record<string, unknown>) => keys.push(String(fields?.key));
    const logger: Logger = { debug: record, info: record, warn: record, error: record, with: () => logger };
    return { log: new MalformedObjectLog(logger), keys };
  }

  const list = async (options: Parameters<typeof planList>[1], log?: MalformedObjectLog) => {
    const { engine } = scripted([{ kvs: stored, more: false, count: stored.length, revision: 9 }]);
    return readList(engine, planList(ref, options, DEFAULT_FIELDS), log);
  };
  const names = (items: { metadata?: { name?: string } }[]) => items.map((o) => o.metadata?.name ?? '(none)');

  test('with a label or field selector, what the selectors cannot read is skipped, not a failed list', async () => {
    assert.deepEqual(names((await list({ labelSelector: 'pick=yes' })).items), ['ok']);
    assert.deepEqual(names((await list({ labelSelector: '!pick' })).items), ['labels-null', '(none)', '(none)'], 'null labels and no metadata are no labels');
    assert.deepEqual(names((await list({ fieldSelector: 'metadata.name!=x' })).items), ['labels-null', '(none)', '(none)', 'ok']);
  });

  test('without selectors, every stored object is listed; a value that is no object is skipped', async () => {
    assert.deepEqual(names((await list({})).items), ['labels-null', 'labels-string', '(none)', '(none)', 'numeric-annotation', 'ok']);
  });

  test('each skipped key is reported once, however many lists skip it', async () => {
    const { log, keys } = recording();
    await list({ labelSelector: 'pick=yes' }, log);
    await list({ labelSelector: 'pick=yes' }, log);
    await list({}, log);
    assert.deepEqual(keys, [`${PREFIX}bad-json`, `${PREFIX}labels-string`, `${PREFIX}not-an-object`, `${PREFIX}numeric-annotation`]);
  });
});

describe('planList checks a request in kube\'s order', () => {
  test('selector syntax, then list options, then supported fields, then resourceVersion', () => {
    assert.match(reason(() => planList(ref, { labelSelector: 'a in (', resourceVersionMatch: 'Exact' }, DEFAULT_FIELDS)), /^BadRequest: unable to parse requirement/);
    assert.match(reason(() => planList(ref, { fieldSelector: 'nope', resourceVersionMatch: 'Exact' }, DEFAULT_FIELDS)), /^BadRequest: invalid selector/);
    assert.match(reason(() => planList(ref, { fieldSelector: 'status.phase=x', resourceVersionMatch: 'Exact' }, DEFAULT_FIELDS)), /^Invalid: /);
    assert.match(reason(() => planList(ref, { fieldSelector: 'status.phase=x', resourceVersion: 'bad' }, DEFAULT_FIELDS)), /^BadRequest: field label not supported/);
    assert.match(reason(() => planList(ref, { resourceVersion: 'bad', continue: 'also bad' }, DEFAULT_FIELDS)), /^BadRequest: invalid resource version/);
  });

  test('every failed rule of ValidateListOptions is listed', () => {
    assert.equal(
      reason(() => planList(ref, { resourceVersionMatch: 'Sometimes', continue: 'x' }, DEFAULT_FIELDS)),
      'Invalid: ListOptions.meta.k8s.io "" is invalid: [resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided, resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden when continue is provided, resourceVersionMatch: Unsupported value: "Sometimes": supported values: "Exact", "NotOlderThan", ""]',
    );
  });

  test('which revision is read', () => {
    assert.equal(planList(ref, {}, DEFAULT_FIELDS).revision, 0);
    assert.equal(planList(ref, { resourceVersion: '7' }, DEFAULT_FIELDS).revision, 0, 'legacy, unpaged: not older than');
    assert.equal(planList(ref, { resourceVersion: '7', limit: 5 }, DEFAULT_FIELDS).revision, 7, 'legacy, paged: exact');
    assert.equal(planList(ref, { resourceVersion: '7', resourceVersionMatch: 'NotOlderThan', limit: 5 }, DEFAULT_FIELDS).revision, 0);
    assert.equal(planList(ref, { resourceVersion: '7', resourceVersionMatch: 'Exact' }, DEFAULT_FIELDS).revision, 7);
    assert.equal(planList(ref, { resourceVersion: '7' }, DEFAULT_FIELDS).minimum, 7n);
    assert.equal(planList(ref, { resourceVersion: '0' }, DEFAULT_FIELDS).serializable, true);
    assert.equal(planList(ref, { resourceVersion: '0', limit: 5 }, DEFAULT_FIELDS).revision, 0);
  });
});
