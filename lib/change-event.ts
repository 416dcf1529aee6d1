/**
 * The changefeed's message: one committed change, as storage publishes it to Redis and the
 * watch service reads it. Every event carries its etcd revision and the revision of the
 * previous event on the same channel, so a subscriber detects any message it missed.
 */
import { isPlainObject, withResourceVersion, type KubeObject } from './kube.ts';

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

/**
 * Whether stored text can be forwarded as an object: it starts with "{" and ends with "}",
 * whitespace aside. The subscriber parses it in full; text that passes this and still does not
 * parse is dropped there, as it is from history (so a refill skips it too).
 */
export function looksLikeObject(json: string): boolean {
  const text = json.trim();
  return text.charCodeAt(0) === 0x7b && text.charCodeAt(text.length - 1) === 0x7d;
}

/** The message format version; messages without it are the earlier single-document format. */
const FORMAT = 2;

/**
 * The message for a change: a JSON head on one line (its fields, and the lengths of the two
 * objects), then the stored objects' text as it is, object first. Each object is parsed on its
 * own by the subscriber, so no stored text can add or change a field of the message.
 */
export function encodeChangeEvent(change: StoredChange, prevRevision: number, traceparent?: string): string {
  const object = change.object ?? '';
  const prevObject = change.prevObject?.json ?? '';
  const head = JSON.stringify({
    v: FORMAT,
    type: change.type,
    revision: change.revision,
    prevRevision,
    group: change.group,
    resource: change.resource,
    namespace: change.namespace,
    name: change.name,
    traceparent,
    objectLength: object.length,
    prevObjectLength: prevObject.length,
    prevObjectRevision: change.prevObject?.revision,
  });
  return `${head}\n${object}${prevObject}`;
}

/**
 * The event for a change whose objects are parsed: stamps their resourceVersions, and makes a
 * DELETED event's object the last state at the deletion's revision.
 */
function eventOf(
  head: Omit<ChangeEvent, 'object' | 'prevObject'>,
  object: Record<string, unknown> | undefined,
  prevObject: Record<string, unknown> | undefined,
  prevObjectRevision: number | undefined,
): ChangeEvent {
  // Without a revision for it, the previous object keeps the resourceVersion it carries.
  const prev = prevObject === undefined ? undefined : prevObjectRevision === undefined ? (prevObject as KubeObject) : withResourceVersion(prevObject, prevObjectRevision);
  const base = head.type === 'DELETED' ? prevObject : object;
  if (base === undefined) throw new Error(head.type === 'DELETED' ? 'change event has no prevObject' : 'change event has no object');
  return { ...head, object: withResourceVersion(base, head.revision), prevObject: prev };
}

function parseObject(json: string, what: string): Record<string, unknown> {
  const value: unknown = JSON.parse(json);
  if (!isPlainObject(value)) throw new Error(`${what} is not an object`);
  return value;
}

/**
 * The previous object of a change. One that does not parse only leaves an ADDED or MODIFIED
 * event without it (the change itself is whole); a DELETED event is made of it, so it fails.
 */
function parsePrevious(type: ChangeType, json: string, what: string): Record<string, unknown> | undefined {
  try {
    return parseObject(json, what);
  } catch (err) {
    if (type === 'DELETED') throw err;
    return undefined;
  }
}

/** The event a StoredChange stands for (parses its objects); throws Error on unparsable ones. */
export function storedChangeEvent(change: StoredChange, prevRevision: number, traceparent?: string): ChangeEvent {
  const { type, revision, group, resource, namespace, name, object, prevObject } = change;
  return eventOf(
    { type, revision, prevRevision, group, resource, namespace, name, traceparent },
    object === undefined ? undefined : parseObject(object, 'stored object'),
    prevObject === undefined ? undefined : parsePrevious(change.type, prevObject.json, 'stored previous object'),
    prevObject?.revision,
  );
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/** Checks a message's fields; the objects are checked by the caller. */
function checkHead(raw: Record<string, unknown>): Omit<ChangeEvent, 'object' | 'prevObject'> {
  const { type, revision, prevRevision, group, resource, namespace, name, traceparent } = raw;
  if (type !== 'ADDED' && type !== 'MODIFIED' && type !== 'DELETED') throw new Error('change event has no valid type');
  if (!isCount(revision) || revision === 0) throw new Error('change event has no valid revision');
  if (!isCount(prevRevision)) throw new Error('change event has no valid prevRevision');
  if (typeof group !== 'string' || typeof resource !== 'string' || typeof namespace !== 'string' || typeof name !== 'string') {
    throw new Error('change event has no valid identity');
  }
  if (traceparent !== undefined && typeof traceparent !== 'string') throw new Error('change event has an invalid traceparent');
  return { type, revision, prevRevision, group, resource, namespace, name, traceparent };
}

/**
 * Decodes and checks a message; throws Error on anything malformed (never trust the bus).
 * Reads the earlier single-document format too (objects inline, resourceVersions set), so a
 * watch service can be upgraded before storage.
 */
export function decodeChangeEvent(message: string): ChangeEvent {
  const newline = message.indexOf('\n');
  const raw: unknown = JSON.parse(newline < 0 ? message : message.slice(0, newline));
  if (!isPlainObject(raw)) throw new Error('change event is not an object');
  const head = checkHead(raw);
  if (newline < 0) {
    // The earlier format: objects inline, either with their resourceVersions set (and a
    // DELETED event's object given) or, later, as stored with prevObjectRevision beside them.
    if (raw.v !== undefined) throw new Error('change event has no objects');
    const { object, prevObject, prevObjectRevision } = raw;
    if (object !== undefined && !isPlainObject(object)) throw new Error('change event has an invalid object');
    if (prevObject !== undefined && !isPlainObject(prevObject)) throw new Error('change event has an invalid prevObject');
    return eventOf(head, object, prevObject, isCount(prevObjectRevision) && prevObjectRevision > 0 ? prevObjectRevision : undefined);
  }
  const { v, objectLength, prevObjectLength, prevObjectRevision } = raw;
  if (v !== FORMAT) throw new Error(`change event has an unknown format version ${String(v)}`);
  if (!isCount(objectLength) || !isCount(prevObjectLength) || newline + 1 + objectLength + prevObjectLength !== message.length) {
    throw new Error('change event objects do not have the lengths its head gives');
  }
  if (prevObjectLength > 0 && (!isCount(prevObjectRevision) || prevObjectRevision === 0)) throw new Error('change event has no valid prevObjectRevision');
  const start = newline + 1;
  return eventOf(
    head,
    objectLength === 0 ? undefined : parseObject(message.slice(start, start + objectLength), 'change event object'),
    prevObjectLength === 0 ? undefined : parsePrevious(head.type, message.slice(start + objectLength), 'change event prevObject'),
    isCount(prevObjectRevision) ? prevObjectRevision : undefined,
  );
}
