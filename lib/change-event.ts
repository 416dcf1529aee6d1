/**
 * The changefeed's message: one committed change, as storage publishes it to Redis and the
 * watch service reads it. Every event carries its etcd revision and the revision of the
 * previous event on the same channel, so a subscriber detects any message it missed.
 */
import type { KubeObject } from './kube.ts';
import { isPlainObject } from './kube.ts';

export type ChangeType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface ChangeEvent {
  type: ChangeType;
  /** etcd revision of the change; the object's resourceVersion. */
  revision: number;
  /**
   * Revision of the previous event published on the same channel. The first event after a
   * publisher starts names the revision it started from: everything up to there may have been
   * committed unpublished, so a subscriber that is not complete up to it must treat it as a gap.
   */
  prevRevision: number;
  group: string;
  resource: string;
  namespace: string;
  name: string;
  /** The new state; for DELETED the last state, with resourceVersion = revision. */
  object: KubeObject;
  /** The state before the change (absent for ADDED). */
  prevObject?: KubeObject | undefined;
  /** W3C traceparent of the write, when known. */
  traceparent?: string | undefined;
}

/** The Redis channel of a resource's events. */
export function channelFor(group: string, resource: string): string {
  return group === '' ? `apiserver/events/${resource}` : `apiserver/events/${group}/${resource}`;
}

/**
 * One committed change with its objects as they are stored: JSON text without resourceVersion
 * (a stored object's resourceVersion is the revision it was written at). The changefeed
 * forwards this text into its messages as it is, without parsing and re-encoding it.
 */
export interface StoredChange {
  type: ChangeType;
  revision: number;
  group: string;
  resource: string;
  namespace: string;
  name: string;
  /** The new state (absent for DELETED, whose object is the last state at the deletion's revision). */
  object?: string | undefined;
  /** The state before the change (absent for ADDED) and the revision it was written at. */
  prevObject?: { json: string; revision: number } | undefined;
}

/** Whether stored text can be forwarded as an object (the subscriber parses it in full). */
export function looksLikeObject(json: string): boolean {
  return json.charCodeAt(0) === 0x7b && json.charCodeAt(json.length - 1) === 0x7d;
}

/**
 * The message for a change: its fields as JSON, with the stored objects spliced in as they are.
 * prevObjectRevision tells the subscriber the previous object's resourceVersion.
 */
export function encodeChangeEvent(change: StoredChange, prevRevision: number, traceparent?: string): string {
  const head = JSON.stringify({
    type: change.type,
    revision: change.revision,
    prevRevision,
    group: change.group,
    resource: change.resource,
    namespace: change.namespace,
    name: change.name,
    traceparent,
    prevObjectRevision: change.prevObject?.revision,
  });
  let message = head.slice(0, -1);
  if (change.object !== undefined) message += `,"object":${change.object}`;
  if (change.prevObject !== undefined) message += `,"prevObject":${change.prevObject.json}`;
  return `${message}}`;
}

/** A stored object as read at `revision`: its resourceVersion is that revision. */
function atRevision(object: Record<string, unknown>, revision: number): KubeObject {
  const metadata = isPlainObject(object.metadata) ? object.metadata : {};
  return { ...object, metadata: { ...metadata, resourceVersion: String(revision) } } as KubeObject;
}

/**
 * The event for a change whose objects are parsed: stamps their resourceVersions, and makes a
 * DELETED event's object the last state at the deletion's revision.
 */
function eventOf(
  head: Omit<ChangeEvent, 'object' | 'prevObject'>,
  object: Record<string, unknown> | undefined,
  prevObject: Record<string, unknown> | undefined,
  prevObjectRevision: number,
): ChangeEvent {
  const prev = prevObject === undefined ? undefined : atRevision(prevObject, prevObjectRevision);
  const base = head.type === 'DELETED' ? prevObject : object;
  if (base === undefined) throw new Error(head.type === 'DELETED' ? 'change event has no prevObject' : 'change event has no object');
  return { ...head, object: atRevision(base, head.revision), prevObject: prev };
}

/** The event a StoredChange stands for (parses its objects); throws Error on unparsable ones. */
export function storedChangeEvent(change: StoredChange, prevRevision: number, traceparent?: string): ChangeEvent {
  const parse = (json: string): Record<string, unknown> => {
    const value: unknown = JSON.parse(json);
    if (!isPlainObject(value)) throw new Error('stored value is not an object');
    return value;
  };
  const { object, prevObject, ...identity } = change;
  return eventOf(
    { ...identity, prevRevision, traceparent },
    object === undefined ? undefined : parse(object),
    prevObject === undefined ? undefined : parse(prevObject.json),
    prevObject?.revision ?? 0,
  );
}

/** Decodes and checks a message; throws Error on anything malformed (never trust the bus). */
export function decodeChangeEvent(message: string): ChangeEvent {
  const raw: unknown = JSON.parse(message);
  if (!isPlainObject(raw)) throw new Error('change event is not an object');
  const { type, revision, prevRevision, group, resource, namespace, name, object, prevObject, prevObjectRevision, traceparent } = raw;
  if (type !== 'ADDED' && type !== 'MODIFIED' && type !== 'DELETED') throw new Error('change event has no valid type');
  if (typeof revision !== 'number' || !Number.isSafeInteger(revision) || revision <= 0) throw new Error('change event has no valid revision');
  if (typeof prevRevision !== 'number' || !Number.isSafeInteger(prevRevision) || prevRevision < 0) throw new Error('change event has no valid prevRevision');
  if (typeof group !== 'string' || typeof resource !== 'string' || typeof namespace !== 'string' || typeof name !== 'string') {
    throw new Error('change event has no valid identity');
  }
  if (object !== undefined && !isPlainObject(object)) throw new Error('change event has an invalid object');
  if (prevObject !== undefined && !isPlainObject(prevObject)) throw new Error('change event has an invalid prevObject');
  if (prevObject !== undefined && (typeof prevObjectRevision !== 'number' || !Number.isSafeInteger(prevObjectRevision) || prevObjectRevision <= 0)) {
    throw new Error('change event has no valid prevObjectRevision');
  }
  if (traceparent !== undefined && typeof traceparent !== 'string') throw new Error('change event has an invalid traceparent');
  return eventOf(
    { type, revision, prevRevision, group, resource, namespace, name, traceparent },
    object,
    prevObject,
    typeof prevObjectRevision === 'number' ? prevObjectRevision : 0,
  );
}
