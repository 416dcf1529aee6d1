/**
 * events.k8s.io/v1 Event <-> core/v1 Event, as kube converts them (the same stored object seen
 * through two group-versions): `regarding` is involvedObject, `note` is message,
 * `reportingController` is reportingComponent, and the `deprecated*` fields are the core
 * Event's source, firstTimestamp, lastTimestamp and count. Every other field has the same name
 * and shape in both (metadata, eventTime, series, reportingInstance, action, reason, related,
 * type).
 */
import type { KubeObject } from '../../../kube.ts';

/** events.k8s.io/v1 name -> core/v1 name, for the fields that differ. */
const RENAMED: readonly (readonly [string, string])[] = [
  ['regarding', 'involvedObject'],
  ['note', 'message'],
  ['reportingController', 'reportingComponent'],
  ['deprecatedSource', 'source'],
  ['deprecatedFirstTimestamp', 'firstTimestamp'],
  ['deprecatedLastTimestamp', 'lastTimestamp'],
  ['deprecatedCount', 'count'],
];

const SHARED = ['metadata', 'eventTime', 'series', 'reportingInstance', 'action', 'reason', 'related', 'type'] as const;

function renamed(object: KubeObject, pairs: readonly (readonly [string, string])[], apiVersion: string): KubeObject {
  const source: Record<string, unknown> = object;
  const out: Record<string, unknown> = { apiVersion, kind: 'Event' };
  for (const key of SHARED) if (source[key] !== undefined) out[key] = source[key];
  for (const [from, to] of pairs) if (source[from] !== undefined) out[to] = source[from];
  return out as KubeObject;
}

/** An events.k8s.io/v1 Event as the core/v1 Event it is stored as. */
export function eventsV1ToCore(object: KubeObject): KubeObject {
  return renamed(object, RENAMED, 'v1');
}

/** A stored core/v1 Event as events.k8s.io/v1 shows it. */
export function coreToEventsV1(object: KubeObject): KubeObject {
  return renamed(
    object,
    RENAMED.map(([a, b]) => [b, a] as const),
    'events.k8s.io/v1',
  );
}
