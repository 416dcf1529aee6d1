/**
 * A committed change of a key, as the store's history reports it, turned into the event
 * watchers see: ADDED / MODIFIED / DELETED with the new and previous object, as kube's etcd3
 * watcher parses etcd events (a key's first version is ADDED; a delete carries the last state
 * stamped with the deletion's revision).
 *
 * The change stream (storedChange, forwarded unparsed by the changefeed) and history
 * (historyEvent, parsed for the Events call) take the same decisions, so a refill from history
 * gives exactly the events the stream would have: identity from the key, and no event for a
 * key outside the layout, a delete whose previous state is unknown, or a value that is not a
 * stored object.
 */
import { looksLikeObject, storedChangeEvent } from '../../../lib/change-event.ts';
import type { CommittedChange, HistoryEvent } from '../api.ts';
import { objectOfKey } from './keys.ts';
import type { KeyValue, RawChange } from './kv.ts';

/**
 * One change of a key in the form the change stream delivers: stored JSON, not parsed.
 * undefined when there is nothing to deliver (see above). A previous value that is not a
 * stored object leaves the event without prevObject.
 */
export function storedChange(change: RawChange): CommittedChange | undefined {
  const { kv, prevKv } = change;
  const ref = objectOfKey(kv.key);
  if (ref === undefined) return undefined;
  const id = { ...ref, key: kv.key };
  const prevObject = prevKv === undefined || !looksLikeObject(prevKv.value) ? undefined : { json: prevKv.value, revision: prevKv.modRevision };
  if (change.type === 'Delete') return prevObject === undefined ? undefined : { type: 'DELETED', revision: kv.modRevision, ...id, prevObject };
  if (!looksLikeObject(kv.value)) return undefined;
  const added = kv.version === 1;
  return { type: added ? 'ADDED' : 'MODIFIED', revision: kv.modRevision, ...id, object: kv.value, prevObject: added ? undefined : prevObject };
}

/**
 * The event for one change, parsed; undefined when there is nothing to deliver, including a
 * value that looks like an object and does not parse (the stream's subscribers drop that one).
 */
export function historyEvent(change: RawChange): HistoryEvent | undefined {
  const stored = storedChange(change);
  if (stored === undefined) return undefined;
  let event;
  try {
    event = storedChangeEvent(stored, 0);
  } catch {
    return undefined;
  }
  return { type: event.type, revision: event.revision, namespace: event.namespace, name: event.name, object: event.object, prevObject: event.prevObject };
}

/** A KeyValue for a deleted key: etcd reports the key with the deletion's revision and no value. */
export function deletedKeyValue(key: string, revision: number): KeyValue {
  return { key, value: '', modRevision: revision, version: 0 };
}
