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

export function encodeChangeEvent(event: ChangeEvent): string {
  return JSON.stringify(event);
}

/** Decodes and checks a message; throws Error on anything malformed (never trust the bus). */
export function decodeChangeEvent(message: string): ChangeEvent {
  const raw: unknown = JSON.parse(message);
  if (!isPlainObject(raw)) throw new Error('change event is not an object');
  const { type, revision, prevRevision, group, resource, namespace, name, object, prevObject, traceparent } = raw;
  if (type !== 'ADDED' && type !== 'MODIFIED' && type !== 'DELETED') throw new Error('change event has no valid type');
  if (typeof revision !== 'number' || !Number.isSafeInteger(revision) || revision <= 0) throw new Error('change event has no valid revision');
  if (typeof prevRevision !== 'number' || !Number.isSafeInteger(prevRevision) || prevRevision < 0) throw new Error('change event has no valid prevRevision');
  if (typeof group !== 'string' || typeof resource !== 'string' || typeof namespace !== 'string' || typeof name !== 'string') {
    throw new Error('change event has no valid identity');
  }
  if (!isPlainObject(object)) throw new Error('change event has no object');
  if (prevObject !== undefined && !isPlainObject(prevObject)) throw new Error('change event has an invalid prevObject');
  if (traceparent !== undefined && typeof traceparent !== 'string') throw new Error('change event has an invalid traceparent');
  return {
    type,
    revision,
    prevRevision,
    group,
    resource,
    namespace,
    name,
    object: object as KubeObject,
    prevObject: prevObject as KubeObject | undefined,
    traceparent,
  };
}
