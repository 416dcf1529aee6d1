/**
 * A committed change of a key, as the store's history reports it, turned into the event
 * watchers see: ADDED / MODIFIED / DELETED with the new and previous object, as kube's etcd3
 * watcher parses etcd events (a key's first version is ADDED; a delete carries the last state
 * stamped with the deletion's revision).
 */
import { looksLikeObject, type StoredChange } from '../../../lib/change-event.ts';
import type { HistoryEvent } from '../api.ts';
import { objectOfKey } from './keys.ts';
import type { KeyValue, RawChange } from './kv.ts';
import { decodeStored } from './object-rules.ts';

/**
 * The event for one change, or undefined for a delete whose previous state is unknown (it
 * was compacted away): there is no object to report.
 */
export function historyEvent(change: RawChange): HistoryEvent | undefined {
  const { kv, prevKv } = change;
  const revision = kv.modRevision;
  const prevObject = prevKv === undefined || prevKv.value === '' ? undefined : decodeStored(prevKv.value, prevKv.modRevision);
  if (change.type === 'Delete') {
    if (prevObject === undefined) return undefined;
    const object = { ...prevObject, metadata: { ...prevObject.metadata, resourceVersion: String(revision) } };
    return { type: 'DELETED', revision, namespace: object.metadata.namespace ?? '', name: object.metadata.name ?? '', object, prevObject };
  }
  const object = decodeStored(kv.value, revision);
  const added = kv.version === 1;
  return {
    type: added ? 'ADDED' : 'MODIFIED',
    revision,
    namespace: object.metadata?.namespace ?? '',
    name: object.metadata?.name ?? '',
    object,
    prevObject: added ? undefined : prevObject,
  };
}

/**
 * One change of a key in the form the change stream delivers: stored JSON, not parsed.
 * undefined for a key outside the layout, a delete whose previous state is unknown, or a value
 * that is not a stored object (nothing can be delivered for it; subscribers see the gap in the
 * revision chain).
 */
export function storedChange(change: RawChange): StoredChange | undefined {
  const id = objectOfKey(change.kv.key);
  if (id === undefined) return undefined;
  const { kv, prevKv } = change;
  const prevObject = prevKv === undefined || !looksLikeObject(prevKv.value) ? undefined : { json: prevKv.value, revision: prevKv.modRevision };
  if (change.type === 'Delete') return prevObject === undefined ? undefined : { type: 'DELETED', revision: kv.modRevision, ...id, prevObject };
  if (!looksLikeObject(kv.value)) return undefined;
  const added = kv.version === 1;
  return { type: added ? 'ADDED' : 'MODIFIED', revision: kv.modRevision, ...id, object: kv.value, prevObject: added ? undefined : prevObject };
}

/** A KeyValue for a deleted key: etcd reports the key with the deletion's revision and no value. */
export function deletedKeyValue(key: string, revision: number): KeyValue {
  return { key, value: '', modRevision: revision, version: 0 };
}
