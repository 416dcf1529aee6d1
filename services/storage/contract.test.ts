/**
 * The storage contract, as k8s.io/apiserver's storage/testing: one suite of kube-apiserver's
 * etcd3 semantics, run against every implementation of Storage — the memory backend, the etcd
 * backend on a real etcd, and the gRPC client over a real server in front of that backend.
 * Each case gets an empty store (a new memory store; for etcd, every /registry/ key deleted),
 * so cases never see each other's objects; revisions are always taken relative to the store's.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import { StatusError, type StatusReason } from '../../lib/errors.ts';
import { GrpcServer } from '../../lib/grpc/serve.ts';
import type { KubeObject } from '../../lib/kube.ts';
import { startEtcd, type EtcdServer } from '../../lib/local/etcd.ts';
import { createLogger } from '../../lib/log.ts';
import { loadApiProto } from '../../lib/proto.ts';
import { createTelemetry } from '../../lib/tracing.ts';
import type { ChangeSource, CommittedChange, Storage, StorageRef } from './api.ts';
import { createEtcdClient, EtcdStorage } from './backends/etcd.ts';
import { MemoryEngine, MemoryStorage } from './backends/memory.ts';
import { StorageClient } from './grpc/client.ts';
import { STORAGE_MAX_REQUEST_BYTES, storageHandlers } from './grpc/server.ts';

/** One implementation under test, on an empty store. */
export interface ContractSubject {
  storage: Storage;
  /** Compacts the store behind `storage` (for the gRPC client: the backend it serves). */
  compact(revision: string): Promise<void>;
  /** The store's change stream, when this subject has one. */
  changes?: Pick<ChangeSource, 'watchChanges'> | undefined;
  /** How long the store waits for a resourceVersion newer than itself before answering 504. */
  tooLargeWaitMs: number;
  /** Writes `value` at `key` of the store behind `storage`, past every rule of Storage (as another writer could). */
  putRaw(key: string, value: string): Promise<void>;
  close(): Promise<void>;
}

/** Makes a subject on an empty store; called before every case. */
export type ContractFactory = () => Promise<ContractSubject>;

const CONTINUE_EXPIRED =
  'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.';

async function rejects(promise: Promise<unknown>, reason: StatusReason, message?: string | RegExp): Promise<StatusError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof StatusError, `expected a StatusError, got ${String(err)}`);
    assert.equal(err.reason, reason, err.message);
    if (typeof message === 'string') assert.equal(err.message, message);
    else if (message !== undefined) assert.match(err.message, message);
    return err;
  }
  assert.fail(`expected ${reason}`);
}

const cmRef = (namespace: string, name = ''): StorageRef => ({ group: '', resource: 'configmaps', namespace, name });
const nodeRef = (name = ''): StorageRef => ({ group: '', resource: 'nodes', namespace: '', name });
const nsRef = (name = ''): StorageRef => ({ group: '', resource: 'namespaces', namespace: '', name });

function configMap(namespace: string, name: string, extra: { labels?: Record<string, string>; data?: Record<string, string>; uid?: string } = {}): KubeObject {
  const metadata: KubeObject['metadata'] = { name, namespace };
  if (extra.labels !== undefined) metadata.labels = extra.labels;
  if (extra.uid !== undefined) metadata.uid = extra.uid;
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata, data: extra.data ?? {} };
}

const names = (items: KubeObject[]) => items.map((o) => o.metadata?.name);
const rv = (o: KubeObject) => Number(o.metadata?.resourceVersion);

/** The JSON inside a continue token. */
function tokenOf(raw: string): { rv: number; start: string } {
  return JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as { rv: number; start: string };
}

/** Runs every case of the contract against subjects made by `factory`. */
export function runStorageContract(name: string, factory: ContractFactory): void {
  describe(`storage contract: ${name}`, () => {
    let subject: ContractSubject;
    let s: Storage;
    const current = async () => Number(await s.currentRevision());

    beforeEach(async () => {
      subject = await factory();
      s = subject.storage;
    });
    afterEach(async () => {
      await subject?.close();
    });

    describe('create and get', () => {
      test('create stores the object at the next revision, its resourceVersion', async () => {
        const before = await current();
        const created = await s.create(cmRef('ns1', 'a'), configMap('ns1', 'a', { data: { k: 'v' } }));
        assert.equal(rv(created), before + 1, 'one write, one revision');
        assert.equal(await current(), before + 1);
        assert.deepEqual(created.data, { k: 'v' });
        const got = await s.get(cmRef('ns1', 'a'));
        assert.deepEqual(got, created, 'get returns what create returned, resourceVersion included');
        const node = await s.create(nodeRef('n1'), { kind: 'Node', metadata: { name: 'n1' } });
        assert.equal(rv(node), before + 2);
      });

      test('AlreadyExists when the name is taken, with kube\'s message and details', async () => {
        await s.create(cmRef('ns1', 'a'), configMap('ns1', 'a'));
        const before = await current();
        const err = await rejects(s.create(cmRef('ns1', 'a'), configMap('ns1', 'a')), 'AlreadyExists', 'configmaps "a" already exists');
        assert.equal(err.code, 409);
        assert.equal(err.details?.name, 'a');
        assert.equal(err.details?.kind, 'configmaps');
        assert.equal(await current(), before, 'a refused create writes nothing');
        await rejects(
          s.create({ group: 'example.com', resource: 'widgets', namespace: 'ns1', name: 'w' }, { metadata: { name: 'w' } }).then(() =>
            s.create({ group: 'example.com', resource: 'widgets', namespace: 'ns1', name: 'w' }, { metadata: { name: 'w' } }),
          ),
          'AlreadyExists',
          'widgets.example.com "w" already exists',
        );
      });

      test('an object that carries a resourceVersion is refused as kube refuses it; "0" is ignored', async () => {
        const err = await rejects(
          s.create(cmRef('ns1', 'b'), { metadata: { name: 'b', namespace: 'ns1', resourceVersion: '5' } }),
          'InternalError',
          'resourceVersion should not be set on objects to be created',
        );
        assert.equal(err.code, 500);
        await rejects(s.get(cmRef('ns1', 'b')), 'NotFound');
        const zero = await s.create(cmRef('ns1', 'c'), { metadata: { name: 'c', namespace: 'ns1', resourceVersion: '0' } });
        assert.equal(rv(zero), await current());
      });

      test('get of a missing object: NotFound with kube\'s message', async () => {
        const err = await rejects(s.get(cmRef('ns1', 'missing')), 'NotFound', 'configmaps "missing" not found');
        assert.equal(err.code, 404);
        assert.equal(err.details?.name, 'missing');
        await rejects(s.get({ group: 'example.com', resource: 'widgets', namespace: '', name: 'x' }), 'NotFound', 'widgets.example.com "x" not found');
      });

      test('get with a resourceVersion: "0" and one not newer than the store read the object', async () => {
        const created = await s.create(cmRef('ns1', 'a'), configMap('ns1', 'a'));
        assert.deepEqual(await s.get(cmRef('ns1', 'a'), { resourceVersion: '0' }), created);
        assert.deepEqual(await s.get(cmRef('ns1', 'a'), { resourceVersion: String(rv(created)) }), created);
        await rejects(
          s.get(cmRef('ns1', 'a'), { resourceVersion: 'abc' }),
          'BadRequest',
          'invalid resource version: resourceVersion: Invalid value: "abc": strconv.ParseUint: parsing "abc": invalid syntax',
        );
        await rejects(s.get(cmRef('ns1', 'a'), { resourceVersion: '-1' }), 'BadRequest', /^invalid resource version: .*invalid syntax$/);
      });

      test('get with a resourceVersion newer than the store waits for it, then answers 504', async () => {
        await s.create(cmRef('ns1', 'a'), configMap('ns1', 'a'));
        const now = await current();
        const started = Date.now();
        const err = await rejects(
          s.get(cmRef('ns1', 'a'), { resourceVersion: String(now + 1000) }),
          'Timeout',
          `Timeout: Too large resource version: ${now + 1000}, current: ${now}`,
        );
        assert.equal(err.code, 504);
        assert.ok(Date.now() - started >= subject.tooLargeWaitMs - 20, `answered after ${Date.now() - started} ms`);
        assert.deepEqual(err.details?.causes?.map((c) => [c.reason, c.message]), [['ResourceVersionTooLarge', 'Too large resource version']]);
        // A write that arrives during the wait satisfies it: the read then sees that write.
        const waiting = s.get(cmRef('ns1', 'late'), { resourceVersion: String(now + 1) });
        await s.create(cmRef('ns1', 'late'), configMap('ns1', 'late'));
        assert.equal((await waiting).metadata?.name, 'late');
      });
    });

    describe('update', () => {
      test('compare-and-swap on the resourceVersion read; stale: Conflict in kube\'s words', async () => {
        const created = await s.create(cmRef('ns1', 'u'), configMap('ns1', 'u', { data: { a: '1' }, uid: 'uid-u' }));
        const updated = await s.update(cmRef('ns1', 'u'), { ...created, data: { a: '2' } });
        assert.equal(rv(updated), rv(created) + 1);
        assert.deepEqual((await s.get(cmRef('ns1', 'u'))).data, { a: '2' });
        const before = await current();
        const err = await rejects(
          s.update(cmRef('ns1', 'u'), { ...created, data: { a: '3' } }),
          'Conflict',
          'Operation cannot be fulfilled on configmaps "u": the object has been modified; please apply your changes to the latest version and try again',
        );
        assert.equal(err.code, 409);
        assert.equal(await current(), before, 'a refused update writes nothing');
      });

      test('without a resourceVersion (or "0") an update is unconditional; uid and creationTimestamp are kept', async () => {
        await s.create(cmRef('ns1', 'u'), { ...configMap('ns1', 'u', { uid: 'uid-u' }), metadata: { name: 'u', namespace: 'ns1', uid: 'uid-u', creationTimestamp: '2020-01-01T00:00:00Z' } });
        const first = await s.update(cmRef('ns1', 'u'), { metadata: { name: 'u', namespace: 'ns1' }, data: { a: 'x' } });
        assert.equal(first.metadata?.uid, 'uid-u');
        assert.equal(first.metadata?.creationTimestamp, '2020-01-01T00:00:00Z');
        const second = await s.update(cmRef('ns1', 'u'), { metadata: { name: 'u', namespace: 'ns1', resourceVersion: '0' }, data: { a: 'y' } });
        assert.equal(rv(second), rv(first) + 1);
        assert.deepEqual(second.data, { a: 'y' });
      });

      test('the uid an update carries is a precondition (Conflict with the storage layer\'s words)', async () => {
        const created = await s.create(cmRef('ns1', 'u'), configMap('ns1', 'u', { uid: 'uid-u' }));
        await rejects(
          s.update(cmRef('ns1', 'u'), { ...created, metadata: { ...created.metadata, uid: 'other' } }),
          'Conflict',
          'Operation cannot be fulfilled on configmaps "u": StorageError: invalid object, Code: 4, Key: /registry/configmaps/ns1/u, ResourceVersion: 0, AdditionalErrorMsg: Precondition failed: UID in precondition: other, UID in object meta: uid-u',
        );
      });

      test('NotFound for a missing object; an unparsable resourceVersion as kube answers it', async () => {
        await rejects(s.update(cmRef('ns1', 'absent'), configMap('ns1', 'absent')), 'NotFound', 'configmaps "absent" not found');
        await s.create(cmRef('ns1', 'u'), configMap('ns1', 'u'));
        await rejects(
          s.update(cmRef('ns1', 'u'), { metadata: { name: 'u', namespace: 'ns1', resourceVersion: 'abc' } }),
          'InternalError',
          'strconv.ParseUint: parsing "abc": invalid syntax',
        );
      });

      test('an update that changes nothing writes nothing and keeps the resourceVersion', async () => {
        const created = await s.create(cmRef('ns1', 'u'), configMap('ns1', 'u', { data: { a: '1' } }));
        const before = await current();
        const same = await s.update(cmRef('ns1', 'u'), { ...created });
        assert.equal(rv(same), rv(created));
        assert.equal(await current(), before);
        const unconditional = await s.update(cmRef('ns1', 'u'), { ...created, metadata: { ...created.metadata, resourceVersion: '' } });
        assert.equal(rv(unconditional), rv(created));
      });

      test('generation rises when the desired state changes, not for metadata or status', async () => {
        // A Deployment: its generation follows its spec (kube's strategy); a ConfigMap has none.
        const ref = { group: 'apps', resource: 'deployments', namespace: 'ns1', name: 'g' };
        const created = await s.create(ref, { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'g', namespace: 'ns1', generation: 1 }, spec: { replicas: 1 } });
        const spec = await s.update(ref, { ...created, spec: { replicas: 2 } });
        assert.equal(spec.metadata?.generation, 2);
        const labels = await s.update(ref, { ...spec, metadata: { ...spec.metadata, labels: { x: 'y' } } });
        assert.equal(labels.metadata?.generation, 2);
        const status = await s.update(ref, { ...labels, status: { replicas: 2 } });
        assert.equal(status.metadata?.generation, 2);
        const forged = await s.update(ref, { ...status, metadata: { ...status.metadata, generation: 40 } });
        assert.equal(forged.metadata?.generation, 2, 'the caller cannot set generation');
        const plain = await s.create(cmRef('ns1', 'p'), configMap('ns1', 'p'));
        const relabelled = await s.update(cmRef('ns1', 'p'), { ...plain, metadata: { ...plain.metadata, labels: { a: 'b' } } });
        assert.equal(relabelled.metadata?.generation, undefined, 'no generation is invented for an object without one');
      });

      test('an update can neither set nor clear deletionTimestamp', async () => {
        const created = await s.create(cmRef('ns1', 'd'), configMap('ns1', 'd'));
        const set = await s.update(cmRef('ns1', 'd'), { ...created, metadata: { ...created.metadata, deletionTimestamp: '2020-01-01T00:00:00Z' }, data: { a: '1' } });
        assert.equal(set.metadata?.deletionTimestamp, undefined);
      });

      test('the update of a delete sets deletionTimestamp, its grace period, finalizers and generation; conditional; it never clears them', async () => {
        const created = await s.create(cmRef('ns1', 'g'), { ...configMap('ns1', 'g'), metadata: { name: 'g', namespace: 'ns1', generation: 1 } });
        const marking = { ...created, metadata: { ...created.metadata, deletionTimestamp: '2030-01-01T00:00:30Z', deletionGracePeriodSeconds: 30, finalizers: ['orphan'], generation: 2 } };
        const marked = await s.update(cmRef('ns1', 'g'), marking, undefined, { deletion: true });
        assert.equal(marked.metadata?.deletionTimestamp, '2030-01-01T00:00:30Z');
        assert.equal(marked.metadata?.deletionGracePeriodSeconds, 30);
        assert.deepEqual(marked.metadata?.finalizers, ['orphan']);
        assert.equal(marked.metadata?.generation, 2);
        assert.deepEqual((await s.get(cmRef('ns1', 'g'))).metadata, marked.metadata, 'stored as answered');
        await rejects(s.update(cmRef('ns1', 'g'), marking, undefined, { deletion: true }), 'Conflict', /the object has been modified/);
        const shortened = await s.update(cmRef('ns1', 'g'), { ...marked, metadata: { ...marked.metadata, deletionTimestamp: '2030-01-01T00:00:10Z', deletionGracePeriodSeconds: 10 } }, undefined, { deletion: true });
        assert.equal(shortened.metadata?.deletionTimestamp, '2030-01-01T00:00:10Z');
        assert.equal(shortened.metadata?.deletionGracePeriodSeconds, 10);
        const { deletionTimestamp: _t, deletionGracePeriodSeconds: _g, ...rest } = shortened.metadata ?? {};
        const kept = await s.update(cmRef('ns1', 'g'), { ...shortened, metadata: rest }, undefined, { deletion: true });
        assert.equal(kept.metadata?.deletionTimestamp, '2030-01-01T00:00:10Z', 'never cleared');
        assert.equal(kept.metadata?.deletionGracePeriodSeconds, 10);
        const { resourceVersion: _rv, ...unpinned } = kept.metadata ?? {};
        await rejects(s.update(cmRef('ns1', 'g'), { ...kept, metadata: unpinned }, undefined, { deletion: true }), 'BadRequest', /must carry the resourceVersion/);
      });
    });

    describe('delete', () => {
      test('preconditions on uid and resourceVersion, in the words of kube\'s BeforeDelete', async () => {
        const created = await s.create(cmRef('ns1', 'd'), configMap('ns1', 'd', { uid: 'uid-d' }));
        await rejects(
          s.delete(cmRef('ns1', 'd'), { uid: 'other' }),
          'Conflict',
          'Operation cannot be fulfilled on ConfigMap "d": the UID in the precondition (other) does not match the UID in record (uid-d). The object might have been deleted and then recreated',
        );
        await rejects(
          s.delete(cmRef('ns1', 'd'), { resourceVersion: '1' }),
          'Conflict',
          `Operation cannot be fulfilled on ConfigMap "d": the ResourceVersion in the precondition (1) does not match the ResourceVersion in record (${rv(created)}). The object might have been modified`,
        );
        const deleted = await s.delete(cmRef('ns1', 'd'), { uid: 'uid-d', resourceVersion: String(rv(created)) });
        assert.equal(deleted.pending, false);
        assert.equal(deleted.object.metadata?.name, 'd');
        assert.equal(rv(deleted.object), await current(), 'the deleted object comes back at the deletion\'s revision');
        await rejects(s.get(cmRef('ns1', 'd')), 'NotFound');
        await rejects(s.delete(cmRef('ns1', 'd')), 'NotFound', 'configmaps "d" not found');
      });

      test('finalizers: delete marks once, the update that empties them removes the object', async () => {
        await s.create(cmRef('ns1', 'f'), { ...configMap('ns1', 'f'), metadata: { name: 'f', namespace: 'ns1', finalizers: ['example.com/hold'], generation: 1 } });
        const first = await s.delete(cmRef('ns1', 'f'));
        assert.equal(first.pending, true);
        assert.match(first.object.metadata?.deletionTimestamp ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
        assert.equal(first.object.metadata?.deletionGracePeriodSeconds, 0);
        assert.equal(first.object.metadata?.generation, 2, 'marking for deletion raises generation');
        const before = await current();
        const again = await s.delete(cmRef('ns1', 'f'));
        assert.equal(again.pending, true);
        assert.equal(rv(again.object), rv(first.object), 'a second delete writes nothing');
        assert.equal(await current(), before);
        const held = await s.get(cmRef('ns1', 'f'));
        assert.equal(held.metadata?.deletionTimestamp, first.object.metadata?.deletionTimestamp);
        const kept = await s.update(cmRef('ns1', 'f'), { ...held, metadata: { ...held.metadata, deletionTimestamp: undefined }, data: { a: '1' } });
        assert.equal(kept.metadata?.deletionTimestamp, held.metadata?.deletionTimestamp, 'an update cannot clear deletionTimestamp');
        const cleared = await s.update(cmRef('ns1', 'f'), { ...kept, metadata: { ...kept.metadata, finalizers: [] } });
        assert.equal(cleared.metadata?.name, 'f');
        assert.deepEqual(cleared.metadata?.finalizers, [], 'the answer is the update\'s object');
        // kube's Store.Update (errEmptiedFinalizers): nothing stored, the state read deleted.
        assert.equal(await current(), rv(kept) + 1, 'deleted without storing the update: one revision');
        assert.equal(rv(cleared), await current(), 'the answer carries the deletion\'s revision');
        await rejects(s.get(cmRef('ns1', 'f')), 'NotFound');
        const history = await s.events({ group: '', resource: 'configmaps' }, { fromRevision: String(rv(kept)) });
        assert.deepEqual(
          history.events.map((e) => [e.type, e.object.metadata?.finalizers]),
          [['DELETED', ['example.com/hold']]],
        );
      });

      test('a delete that takes the finalizers away removes the state it names, in one change', async () => {
        const created = await s.create(cmRef('ns1', 'o'), { ...configMap('ns1', 'o'), metadata: { name: 'o', namespace: 'ns1', finalizers: ['orphan'] } });
        const removes = { finalizersRemoved: true };
        await rejects(s.delete(cmRef('ns1', 'o'), {}, undefined, removes), 'BadRequest', /must carry the resourceVersion/);
        await rejects(s.delete(cmRef('ns1', 'o'), { resourceVersion: String(rv(created) - 1) }, undefined, removes), 'Conflict', /does not match the ResourceVersion in record/);
        const deleted = await s.delete(cmRef('ns1', 'o'), { resourceVersion: String(rv(created)) }, undefined, removes);
        assert.equal(deleted.pending, false);
        assert.deepEqual(deleted.object.metadata?.finalizers, ['orphan'], 'the last state, as stored');
        assert.equal(await current(), rv(created) + 1, 'one revision: nothing stored before the removal');
        await rejects(s.get(cmRef('ns1', 'o')), 'NotFound');
        const history = await s.events({ group: '', resource: 'configmaps' }, { fromRevision: String(rv(created)) });
        assert.deepEqual(history.events.map((e) => e.type), ['DELETED']);
      });

      test('marking an object without generation does not invent one', async () => {
        await s.create(cmRef('ns1', 'f'), { ...configMap('ns1', 'f'), metadata: { name: 'f', namespace: 'ns1', finalizers: ['x/y'] } });
        const marked = await s.delete(cmRef('ns1', 'f'));
        assert.equal(marked.object.metadata?.generation, undefined);
      });
    });

    describe('list', () => {
      test('by prefix: one namespace ("ns" never covers "ns2") or all, in key order, at the newest revision', async () => {
        for (const [ns, n] of [['ns', 'b'], ['ns2', 'a'], ['ns', 'a'], ['other', 'z']] as const) await s.create(cmRef(ns, n), configMap(ns, n));
        await s.create(nodeRef('n1'), { metadata: { name: 'n1' } });
        const one = await s.list(cmRef('ns'));
        assert.deepEqual(names(one.items), ['a', 'b']);
        assert.equal(Number(one.resourceVersion), await current());
        assert.equal(one.continue, '');
        assert.equal(one.remainingItemCount, undefined);
        for (const item of one.items) assert.ok(rv(item) > 0, 'every item carries its resourceVersion');
        const all = await s.list(cmRef(''));
        assert.deepEqual(all.items.map((o) => `${o.metadata?.namespace}/${o.metadata?.name}`), ['ns/a', 'ns/b', 'ns2/a', 'other/z']);
        assert.deepEqual(names((await s.list(nodeRef())).items), ['n1']);
        assert.deepEqual((await s.list(cmRef('empty'))).items, []);
      });

      test('a stored value of the wrong shape fails no list: selectors skip what they cannot read, and it can be read and deleted', async () => {
        const poisoned: [string, string][] = [
          ['labels-null', '{"metadata":{"name":"labels-null","namespace":"ns","labels":null}}'],
          ['labels-string', '{"metadata":{"name":"labels-string","namespace":"ns","labels":"app=web"}}'],
          ['metadata-array', '{"metadata":["metadata-array"]}'],
          ['no-metadata', '{"data":{"a":"b"}}'],
          ['numeric-annotation', '{"metadata":{"name":"numeric-annotation","namespace":"ns","labels":{"app":"web"},"annotations":{"n":1}}}'],
          ['not-json', '{"metadata":'],
        ];
        for (const [name, value] of poisoned) await subject.putRaw(`/registry/configmaps/ns/${name}`, value);
        await s.create(cmRef('ns', 'web'), configMap('ns', 'web', { labels: { app: 'web' } }));
        const select = async (options: { labelSelector?: string; fieldSelector?: string; limit?: number }) =>
          (await s.list(cmRef('ns'), options)).items.map((o) => o.metadata?.name ?? '(no name)');
        assert.deepEqual(await select({ labelSelector: 'app=web' }), ['web']);
        assert.deepEqual(await select({ labelSelector: '!app' }), ['labels-null', '(no name)', '(no name)'], 'null labels and no metadata: no labels');
        assert.deepEqual(await select({ fieldSelector: 'metadata.name=labels-null' }), ['labels-null']);
        assert.deepEqual(await select({ fieldSelector: 'metadata.name!=x', labelSelector: 'app' }), ['web']);
        assert.deepEqual(await select({ labelSelector: 'app=web', limit: 1 }), ['web'], 'paged, the selectors read on past what they skip');
        assert.deepEqual(await select({}), ['labels-null', 'labels-string', '(no name)', '(no name)', 'numeric-annotation', 'web'], 'a value that is no object is left out');
        assert.equal((await s.get(cmRef('ns', 'labels-string'))).metadata?.labels, 'app=web' as unknown, 'read as stored');
        await s.delete(cmRef('ns', 'labels-string'));
        await s.delete(cmRef('ns', 'metadata-array'));
        assert.deepEqual(await select({}), ['labels-null', '(no name)', 'numeric-annotation', 'web']);
      });

      test('label selectors: =, ==, !=, in, notin, exists, !', async () => {
        await s.create(cmRef('ns', 'a'), configMap('ns', 'a', { labels: { app: 'web', tier: 'fe' } }));
        await s.create(cmRef('ns', 'b'), configMap('ns', 'b', { labels: { app: 'db' } }));
        await s.create(cmRef('ns', 'c'), configMap('ns', 'c'));
        const select = async (labelSelector: string) => names((await s.list(cmRef('ns'), { labelSelector })).items);
        assert.deepEqual(await select('app=web'), ['a']);
        assert.deepEqual(await select('app==db'), ['b']);
        assert.deepEqual(await select('app!=web'), ['b', 'c']);
        assert.deepEqual(await select('app in (web, db)'), ['a', 'b']);
        assert.deepEqual(await select('app notin (web)'), ['b', 'c']);
        assert.deepEqual(await select('tier'), ['a']);
        assert.deepEqual(await select('!tier'), ['b', 'c']);
        assert.deepEqual(await select('app=web,tier=fe'), ['a']);
        assert.deepEqual(await select(''), ['a', 'b', 'c']);
        await rejects(s.list(cmRef('ns'), { labelSelector: 'app in (' }), 'BadRequest', /^unable to parse requirement: /);
      });

      test('field selectors: metadata.name and metadata.namespace, =, == and !=', async () => {
        await s.create(cmRef('ns1', 'a'), configMap('ns1', 'a'));
        await s.create(cmRef('ns1', 'b'), configMap('ns1', 'b'));
        await s.create(cmRef('ns2', 'a'), configMap('ns2', 'a'));
        const select = async (ref: StorageRef, fieldSelector: string) => (await s.list(ref, { fieldSelector })).items.map((o) => `${o.metadata?.namespace}/${o.metadata?.name}`);
        assert.deepEqual(await select(cmRef(''), 'metadata.name=a'), ['ns1/a', 'ns2/a']);
        assert.deepEqual(await select(cmRef(''), 'metadata.namespace==ns1'), ['ns1/a', 'ns1/b']);
        assert.deepEqual(await select(cmRef(''), 'metadata.namespace=ns1,metadata.name!=a'), ['ns1/b']);
        assert.deepEqual(await select(cmRef('ns2'), 'metadata.name=b'), []);
        await rejects(s.list(cmRef(''), { fieldSelector: 'status.phase=Active' }), 'BadRequest', 'field label not supported: status.phase');
        await rejects(s.list(cmRef(''), { fieldSelector: 'metadata.name' }), 'BadRequest', "invalid selector: 'metadata.name'; can't understand 'metadata.name'");
      });

      test('per-kind field selectors: Namespace status.phase, Node spec.unschedulable (kube\'s lists)', async () => {
        await s.create(nsRef('active'), { kind: 'Namespace', metadata: { name: 'active' }, status: { phase: 'Active' } });
        await s.create(nsRef('leaving'), { kind: 'Namespace', metadata: { name: 'leaving' }, status: { phase: 'Terminating' } });
        await s.create(nodeRef('cordoned'), { kind: 'Node', metadata: { name: 'cordoned' }, spec: { unschedulable: true } });
        await s.create(nodeRef('open'), { kind: 'Node', metadata: { name: 'open' } });
        const select = async (ref: StorageRef, fieldSelector: string) => names((await s.list(ref, { fieldSelector })).items);
        assert.deepEqual(await select(nsRef(), 'status.phase=Active'), ['active']);
        assert.deepEqual(await select(nsRef(), 'status.phase!=Active'), ['leaving']);
        assert.deepEqual(await select(nsRef(), 'metadata.name=leaving'), ['leaving']);
        assert.deepEqual(await select(nodeRef(), 'spec.unschedulable=true'), ['cordoned']);
        assert.deepEqual(await select(nodeRef(), 'spec.unschedulable=false'), ['open']);
        // Namespace and Node replace the default fields: metadata.namespace is not theirs.
        await rejects(s.list(nsRef(), { fieldSelector: 'metadata.namespace=x' }), 'BadRequest', 'field label not supported: metadata.namespace');
        await rejects(s.list(nodeRef(), { fieldSelector: 'status.phase=x' }), 'BadRequest', 'field label not supported: status.phase');
      });

      test('limit and continue: every page at the first page\'s revision, whatever is written between', async () => {
        for (const n of ['p1', 'p2', 'p3', 'p4', 'p5']) await s.create(cmRef('ns', n), configMap('ns', n, { data: { v: 'old' } }));
        const first = await s.list(cmRef('ns'), { limit: 2 });
        assert.deepEqual(names(first.items), ['p1', 'p2']);
        assert.equal(first.remainingItemCount, 3);
        assert.deepEqual(tokenOf(first.continue), { v: 'meta.k8s.io/v1', rv: Number(first.resourceVersion), start: 'p2\u0000' });
        await s.create(cmRef('ns', 'p0'), configMap('ns', 'p0'));
        await s.create(cmRef('ns', 'p6'), configMap('ns', 'p6'));
        await s.delete(cmRef('ns', 'p4'));
        const p3 = await s.get(cmRef('ns', 'p3'));
        await s.update(cmRef('ns', 'p3'), { ...p3, data: { v: 'new' } });
        const second = await s.list(cmRef('ns'), { limit: 2, continue: first.continue });
        assert.equal(second.resourceVersion, first.resourceVersion);
        assert.deepEqual(names(second.items), ['p3', 'p4']);
        assert.deepEqual(second.items[0]?.data, { v: 'old' }, 'the state at the first page\'s revision');
        assert.equal(second.remainingItemCount, 1);
        // resourceVersion "0" is allowed with a token; the token's revision still rules.
        const third = await s.list(cmRef('ns'), { limit: 2, continue: second.continue, resourceVersion: '0' });
        assert.deepEqual(names(third.items), ['p5']);
        assert.equal(third.continue, '');
        assert.equal(third.remainingItemCount, undefined);
        assert.equal(third.resourceVersion, first.resourceVersion);
      });

      test('with selectors, pages are filled from further reads and continue after the last key examined', async () => {
        for (let i = 0; i < 10; i++) await s.create(cmRef('ns', `o${i}`), configMap('ns', `o${i}`, { labels: { pick: i === 1 || i === 5 || i === 9 ? 'yes' : 'no' } }));
        const first = await s.list(cmRef('ns'), { limit: 2, labelSelector: 'pick=yes' });
        assert.deepEqual(names(first.items), ['o1', 'o5']);
        assert.equal(first.remainingItemCount, undefined, 'unknown with a selector');
        assert.equal(tokenOf(first.continue).start, 'o5\u0000');
        const second = await s.list(cmRef('ns'), { limit: 2, labelSelector: 'pick=yes', continue: first.continue });
        assert.deepEqual(names(second.items), ['o9']);
        assert.equal(second.continue, '');
        // A page that fills up on its last key still says there may be more.
        const one = await s.list(cmRef('ns'), { limit: 1, fieldSelector: 'metadata.name=o0' });
        assert.deepEqual(names(one.items), ['o0']);
        assert.equal(tokenOf(one.continue).start, 'o0\u0000');
        const rest = await s.list(cmRef('ns'), { limit: 1, fieldSelector: 'metadata.name=o0', continue: one.continue });
        assert.deepEqual(rest.items, []);
        assert.equal(rest.continue, '');
      });

      test('a negative limit is refused; a limit equal to the size ends without a token', async () => {
        for (const n of ['a', 'b', 'c']) await s.create(cmRef('ns', n), configMap('ns', n));
        await rejects(s.list(cmRef('ns'), { limit: -1 }), 'BadRequest', 'limit: Invalid value: -1: must be greater than or equal to 0');
        const exact = await s.list(cmRef('ns'), { limit: 3 });
        assert.deepEqual(names(exact.items), ['a', 'b', 'c']);
        assert.equal(exact.continue, '');
      });

      test('resourceVersion: unset and NotOlderThan read the newest state; Exact reads the past', async () => {
        const a = await s.create(cmRef('ns', 'a'), configMap('ns', 'a', { data: { v: '1' } }));
        await s.create(cmRef('ns', 'b'), configMap('ns', 'b'));
        const then = await current();
        await s.update(cmRef('ns', 'a'), { ...a, data: { v: '2' } });
        await s.delete(cmRef('ns', 'b'));
        await s.create(cmRef('ns', 'c'), configMap('ns', 'c'));
        const now = await current();

        const newest = await s.list(cmRef('ns'));
        assert.deepEqual(names(newest.items), ['a', 'c']);
        assert.equal(Number(newest.resourceVersion), now);
        const any = await s.list(cmRef('ns'), { resourceVersion: '0' });
        assert.deepEqual(names(any.items), ['a', 'c']);
        const notOlder = await s.list(cmRef('ns'), { resourceVersion: String(then), resourceVersionMatch: 'NotOlderThan' });
        assert.equal(Number(notOlder.resourceVersion), now, 'not older than N: the newest, not N');
        assert.deepEqual(names(notOlder.items), ['a', 'c']);
        const legacyUnpaged = await s.list(cmRef('ns'), { resourceVersion: String(then) });
        assert.equal(Number(legacyUnpaged.resourceVersion), now);

        const exact = await s.list(cmRef('ns'), { resourceVersion: String(then), resourceVersionMatch: 'Exact' });
        assert.equal(Number(exact.resourceVersion), then);
        assert.deepEqual(names(exact.items), ['a', 'b']);
        assert.deepEqual(exact.items[0]?.data, { v: '1' });
        assert.equal(rv(exact.items[0] as KubeObject), rv(a));
        // kube's legacy rule: a paged list with a resourceVersion reads exactly at it.
        const legacyPaged = await s.list(cmRef('ns'), { resourceVersion: String(then), limit: 1 });
        assert.equal(Number(legacyPaged.resourceVersion), then);
        assert.deepEqual(names(legacyPaged.items), ['a']);
        assert.deepEqual(names((await s.list(cmRef('ns'), { continue: legacyPaged.continue })).items), ['b']);
      });

      test('NotOlderThan a revision the store has not reached: waits, then 504; a write meanwhile answers it', async () => {
        await s.create(cmRef('ns', 'a'), configMap('ns', 'a'));
        const now = await current();
        const started = Date.now();
        await rejects(
          s.list(cmRef('ns'), { resourceVersion: String(now + 50), resourceVersionMatch: 'NotOlderThan' }),
          'Timeout',
          `Timeout: Too large resource version: ${now + 50}, current: ${now}`,
        );
        assert.ok(Date.now() - started >= subject.tooLargeWaitMs - 20);
        await rejects(s.list(cmRef('ns'), { resourceVersion: String(now + 50), resourceVersionMatch: 'Exact' }), 'Timeout', /^Timeout: Too large resource version/);
        const waiting = s.list(cmRef('ns'), { resourceVersion: String(now + 1), resourceVersionMatch: 'NotOlderThan' });
        await s.create(cmRef('ns', 'b'), configMap('ns', 'b'));
        const answered = await waiting;
        assert.deepEqual(names(answered.items), ['a', 'b']);
        assert.ok(Number(answered.resourceVersion) >= now + 1);
      });

      test('invalid option combinations are refused with kube\'s words', async () => {
        const invalid = (message: string) => `ListOptions.meta.k8s.io "" is invalid: ${message}`;
        let err = await rejects(
          s.list(cmRef('ns'), { resourceVersionMatch: 'NotOlderThan' }),
          'Invalid',
          invalid('resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided'),
        );
        assert.equal(err.code, 422);
        await rejects(
          s.list(cmRef('ns'), { resourceVersion: '0', resourceVersionMatch: 'Exact' }),
          'Invalid',
          invalid('resourceVersionMatch: Forbidden: resourceVersionMatch "exact" is forbidden for resourceVersion "0"'),
        );
        await rejects(
          s.list(cmRef('ns'), { resourceVersion: '5', resourceVersionMatch: 'Newest' }),
          'Invalid',
          invalid('resourceVersionMatch: Unsupported value: "Newest": supported values: "Exact", "NotOlderThan", ""'),
        );
        for (const n of ['a', 'b']) await s.create(cmRef('ns', n), configMap('ns', n));
        const page = await s.list(cmRef('ns'), { limit: 1 });
        await rejects(
          s.list(cmRef('ns'), { continue: page.continue, resourceVersion: page.resourceVersion, resourceVersionMatch: 'Exact' }),
          'Invalid',
          invalid('resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden when continue is provided'),
        );
        err = await rejects(
          s.list(cmRef('ns'), { continue: page.continue, resourceVersion: page.resourceVersion }),
          'BadRequest',
          'specifying resource version is not allowed when using continue',
        );
        assert.equal(err.code, 400);
        await rejects(
          s.list(cmRef('ns'), { resourceVersion: 'x1' }),
          'BadRequest',
          'invalid resource version: resourceVersion: Invalid value: "x1": strconv.ParseUint: parsing "x1": invalid syntax',
        );
        await rejects(s.list(cmRef('ns'), { continue: 'bm90LWEtdG9rZW4' }), 'BadRequest', /^invalid continue token: continue key is not valid: /);
      });

      test('compaction: an Exact list before it and a continue token past it get 410 with kube\'s messages', async () => {
        for (const n of ['a', 'b', 'c']) await s.create(cmRef('ns', n), configMap('ns', n));
        const old = await current();
        const page = await s.list(cmRef('ns'), { limit: 1 });
        await s.create(cmRef('ns', 'd'), configMap('ns', 'd'));
        const compactAt = await current();
        await subject.compact(String(compactAt));
        let err = await rejects(s.list(cmRef('ns'), { resourceVersion: String(old), resourceVersionMatch: 'Exact' }), 'Expired', 'The resourceVersion for the provided list is too old.');
        assert.equal(err.code, 410);
        err = await rejects(s.list(cmRef('ns'), { limit: 1, continue: page.continue }), 'Expired', CONTINUE_EXPIRED);
        assert.equal(err.code, 410);
        // The compaction revision itself, and everything newer, can still be read.
        assert.deepEqual(names((await s.list(cmRef('ns'), { resourceVersion: String(compactAt), resourceVersionMatch: 'Exact' })).items), ['a', 'b', 'c', 'd']);
        assert.deepEqual(names((await s.list(cmRef('ns'))).items), ['a', 'b', 'c', 'd']);
        // Compacting an older revision again is nothing to do; a future one is refused.
        await subject.compact(String(old));
        await rejects(subject.compact(String(compactAt + 1000)), 'BadRequest');
      });
    });

    describe('history (events)', () => {
      test('the changes of one resource in revision order, with previous states', async () => {
        const from = await current();
        const h1 = await s.create(cmRef('ns', 'h1'), configMap('ns', 'h1'));
        await s.create(nodeRef('h-node'), { metadata: { name: 'h-node' } });
        const modified = await s.update(cmRef('ns', 'h1'), { ...h1, data: { v: '1' } });
        await s.delete(cmRef('ns', 'h1'));
        const to = await current();
        const result = await s.events({ group: '', resource: 'configmaps' }, { fromRevision: String(from), toRevision: String(to) });
        assert.deepEqual(
          result.events.map((e) => [e.type, e.namespace, e.name, e.revision]),
          [
            ['ADDED', 'ns', 'h1', from + 1],
            ['MODIFIED', 'ns', 'h1', from + 3],
            ['DELETED', 'ns', 'h1', from + 4],
          ],
        );
        const [added, change, deleted] = result.events;
        assert.equal(added?.prevObject, undefined);
        assert.deepEqual(change?.object, modified);
        assert.deepEqual(change?.prevObject, h1);
        assert.equal(deleted?.object.metadata?.resourceVersion, String(from + 4), 'DELETED carries the deletion\'s revision');
        assert.deepEqual(deleted?.prevObject, modified);
        assert.equal(result.resourceVersion, String(to));
        assert.equal(result.more, false);
        const nodes = await s.events({ group: '', resource: 'nodes' }, { fromRevision: String(from) });
        assert.deepEqual(nodes.events.map((e) => e.name), ['h-node']);
        assert.deepEqual((await s.events({ group: '', resource: 'namespaces' }, { fromRevision: String(from) })).events, []);
        const after = await s.events({ group: '', resource: 'configmaps' }, { fromRevision: String(from + 3) });
        assert.deepEqual(after.events.map((e) => e.type), ['DELETED'], 'fromRevision is exclusive');
      });

      test('limit cuts the answer short and says so', async () => {
        const from = await current();
        for (const n of ['a', 'b', 'c']) await s.create(cmRef('ns', n), configMap('ns', n));
        const limited = await s.events({ group: '', resource: 'configmaps' }, { fromRevision: String(from), limit: 2 });
        assert.deepEqual(limited.events.map((e) => e.name), ['a', 'b']);
        assert.equal(limited.more, true);
        assert.equal(limited.resourceVersion, String(from + 2));
        const rest = await s.events({ group: '', resource: 'configmaps' }, { fromRevision: limited.resourceVersion, limit: 2 });
        assert.deepEqual(rest.events.map((e) => e.name), ['c']);
        assert.equal(rest.more, false);
      });

      test('bad bounds: BadRequest; a bound newer than the store: 504', async () => {
        const now = await current();
        await rejects(s.events({ group: '', resource: 'configmaps' }, { fromRevision: 'x' }), 'BadRequest');
        await rejects(s.events({ group: '', resource: 'configmaps' }, { fromRevision: String(now), toRevision: String(now - 1) }), 'BadRequest');
        await rejects(s.events({ group: '', resource: 'configmaps' }, { fromRevision: String(now), toRevision: String(now + 100) }), 'Timeout', /^Timeout: Too large resource version/);
      });

      test('history before the compacted revision is Expired; from it on, it is served', async () => {
        const from = await current();
        await s.create(cmRef('ns', 'a'), configMap('ns', 'a'));
        await s.create(cmRef('ns', 'b'), configMap('ns', 'b'));
        const compactAt = await current();
        await s.create(cmRef('ns', 'c'), configMap('ns', 'c'));
        await subject.compact(String(compactAt));
        const err = await rejects(
          s.events({ group: '', resource: 'configmaps' }, { fromRevision: String(from) }),
          'Expired',
          `too old resource version: ${from} (${compactAt})`,
        );
        assert.equal(err.code, 410);
        const kept = await s.events({ group: '', resource: 'configmaps' }, { fromRevision: String(compactAt) });
        assert.deepEqual(kept.events.map((e) => e.name), ['c']);
      });
    });

    test('objects over etcd\'s request limit are refused with 413', async () => {
      const big = configMap('ns', 'big', { data: { x: 'y'.repeat(1_600_000) } });
      const before = await current();
      const err = await rejects(s.create(cmRef('ns', 'big'), big), 'RequestEntityTooLarge', 'Request entity too large: limit is 3145728');
      assert.equal(err.code, 413);
      const small = await s.create(cmRef('ns', 'big'), configMap('ns', 'big'));
      await rejects(s.update(cmRef('ns', 'big'), { ...small, data: big.data }), 'RequestEntityTooLarge');
      assert.equal(await current(), before + 1);
    });

    test('keys cannot escape their place: bad names, namespaces and continue tokens are BadRequest', async () => {
      await s.create(nodeRef('n1'), { metadata: { name: 'n1' } });
      await rejects(s.get(cmRef('ns', '../../nodes/n1')), 'BadRequest', 'invalid name "../../nodes/n1": may not contain "/" or be "." or ".."');
      await rejects(s.get(cmRef('..', 'n1')), 'BadRequest', 'invalid namespace "..": may not contain "/" or be "." or ".."');
      await rejects(s.create(cmRef('ns', 'a/b'), configMap('ns', 'a/b')), 'BadRequest');
      await rejects(s.update(cmRef('ns', '.'), configMap('ns', '.')), 'BadRequest');
      await rejects(s.delete(cmRef('ns', '..')), 'BadRequest');
      await rejects(s.list(cmRef('../nodes')), 'BadRequest');
      await rejects(s.get(cmRef('ns', '')), 'BadRequest', 'name is required');
      const escape = Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', rv: await current(), start: '../../nodes/n1' })).toString('base64url');
      await rejects(s.list(cmRef('ns'), { continue: escape }), 'BadRequest', 'invalid continue token: continue key is not valid: ../../nodes/n1');
      assert.equal((await s.get(nodeRef('n1'))).metadata?.name, 'n1');
    });

    test('the change stream delivers every change after its start, in order; Expired when compacted', async (t) => {
      const changes = subject.changes;
      if (changes === undefined) {
        t.skip('this subject has no change stream');
        return;
      }
      const from = await current();
      const seen: CommittedChange[] = [];
      const errors: StatusError[] = [];
      const subscription = await changes.watchChanges(String(from), (batch) => seen.push(...batch), (err) => errors.push(err));
      try {
        const a = await s.create(cmRef('ns', 'w'), configMap('ns', 'w'));
        await s.update(cmRef('ns', 'w'), { ...a, data: { v: '1' } });
        await s.create(nodeRef('wn'), { metadata: { name: 'wn' } });
        await s.delete(cmRef('ns', 'w'));
        await until(() => seen.length >= 4);
        assert.deepEqual(
          seen.map((c) => [c.type, c.resource, c.name, c.revision]),
          [
            ['ADDED', 'configmaps', 'w', from + 1],
            ['MODIFIED', 'configmaps', 'w', from + 2],
            ['ADDED', 'nodes', 'wn', from + 3],
            ['DELETED', 'configmaps', 'w', from + 4],
          ],
        );
        assert.deepEqual(errors, []);
      } finally {
        await subscription.close();
      }
      // A stream that keeps up is not cut off by a compaction right after a write.
      const live: CommittedChange[] = [];
      const liveErrors: StatusError[] = [];
      const follower = await changes.watchChanges(String(await current()), (batch) => live.push(...batch), (err) => liveErrors.push(err));
      try {
        const last = await s.create(cmRef('ns', 'last'), configMap('ns', 'last'));
        await subject.compact(String(rv(last)));
        await until(() => live.length >= 1);
        assert.deepEqual(live.map((c) => [c.type, c.name, c.revision]), [['ADDED', 'last', rv(last)]]);
        assert.deepEqual(liveErrors, []);
      } finally {
        await follower.close();
      }
      const expired: StatusError[] = [];
      const late = await changes.watchChanges(String(from), () => assert.fail('no change may be delivered from a compacted start'), (err) => expired.push(err));
      try {
        await until(() => expired.length > 0);
        assert.equal(expired[0]?.reason, 'Expired');
      } finally {
        await late.close();
      }
    });
  });
}

/** Polls until `condition` holds (5 s at most). */
async function until(condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

// ---- The implementations ----

/** Kept short so the 504 cases are quick; the default (3 s) is kube's. */
const WAIT_MS = 200;

runStorageContract('memory backend', async () => {
  const engine = new MemoryEngine();
  const memory = new MemoryStorage({ tooLargeResourceVersionWaitMs: WAIT_MS }, engine);
  const putRaw = async (key: string, value: string) => {
    await engine.create(key, value);
  };
  return { storage: memory, changes: memory, compact: (r) => memory.compact(r), tooLargeWaitMs: WAIT_MS, putRaw, close: async () => {} };
});

describe('on a real etcd', () => {
  const telemetry = createTelemetry({ serviceName: 'test', env: {} });
  let etcd: EtcdServer;
  let backend: EtcdStorage;
  let server: GrpcServer;
  let client: StorageClient;

  before(async () => {
    etcd = await startEtcd();
    backend = new EtcdStorage(createEtcdClient(etcd.endpoint), { tracer: telemetry.tracer, tooLargeResourceVersionWaitMs: WAIT_MS });
    server = new GrpcServer({ name: 'storage', telemetry, logger: createLogger({ service: 'test', level: 'error' }), maxReceiveMessageBytes: STORAGE_MAX_REQUEST_BYTES });
    server.addService('apiserver.v1.Storage', loadApiProto().apiserver.v1.Storage.service, storageHandlers(backend));
    client = new StorageClient(`127.0.0.1:${await server.listen('127.0.0.1:0')}`, { telemetry });
  });

  after(async () => {
    client?.close();
    await server?.shutdown(1_000);
    backend?.client.close();
    await etcd?.stop();
  });

  /** An empty store for each case: every object key deleted (revisions keep counting). */
  const emptied = async (): Promise<void> => {
    await backend.client.delete().prefix('/registry/');
  };
  const putRaw = async (key: string, value: string): Promise<void> => {
    await backend.client.put(key).value(value);
  };

  runStorageContract('etcd backend', async () => {
    await emptied();
    return { storage: backend, changes: backend, compact: (r) => backend.compact(r), tooLargeWaitMs: WAIT_MS, putRaw, close: async () => {} };
  });

  runStorageContract('gRPC client over the etcd backend', async () => {
    await emptied();
    return { storage: client, compact: (r) => backend.compact(r), tooLargeWaitMs: WAIT_MS, putRaw, close: async () => {} };
  });
});
