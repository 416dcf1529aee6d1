/**
 * The watch service's messages on the wire, both ways: what its server decodes, what its
 * client encodes, and the limit of a request. The gateway's Resources API carries the same
 * watch messages; it reaches these conversions through grpc/client.ts.
 */
import { badRequest } from '../../../lib/errors.ts';
import { MAX_SMALL_REQUEST_BYTES, MESSAGE_FRAMING_BYTES } from '../../../lib/grpc/limits.ts';
import type { ResourceRef, ResourceRef__Output } from '../../../lib/gen/apiserver/v1/ResourceRef.ts';
import type { WatchEvent as ProtoWatchEvent, WatchEvent__Output } from '../../../lib/gen/apiserver/v1/WatchEvent.ts';
import type { WatchEvent, WatchTarget } from '../api.ts';

// The options' conversion has one home, shared with storage and the typed API.
export { watchOptionsFromProto, watchOptionsToProto } from '../../../lib/list-options.ts';

/**
 * The largest request the watch server takes: one watch (its names, selectors and trace
 * context) or one WatchStream message. WatchClient refuses a larger watch itself, so that it
 * never breaks the stream the other watches share.
 */
export const WATCH_MAX_REQUEST_BYTES = MAX_SMALL_REQUEST_BYTES + MESSAGE_FRAMING_BYTES;

const EVENT_TYPES: ReadonlySet<string> = new Set<WatchEvent['type']>(['ADDED', 'MODIFIED', 'DELETED', 'BOOKMARK', 'ERROR']);

export function watchTargetToProto(target: WatchTarget): ResourceRef {
  return { group: target.group, version: target.version, resource: target.resource, namespace: target.namespace, name: '' };
}

export function watchTargetFromProto(ref: ResourceRef__Output | null | undefined): WatchTarget {
  if (ref === null || ref === undefined || ref.resource === '') throw badRequest('ref.resource is required');
  return { group: ref.group, version: ref.version, resource: ref.resource, namespace: ref.namespace };
}



/**
 * An event for the wire. `withTrace`: with the write's traceparent, for the watch service's
 * own client (the gateway); API clients get none (it names the server's internal spans).
 */
export function watchEventToProto(event: WatchEvent, withTrace = false): ProtoWatchEvent {
  const wire: ProtoWatchEvent = { type: event.type, object: event.object, resourceVersion: event.resourceVersion };
  if (withTrace && event.traceparent !== undefined) wire.traceparent = event.traceparent;
  return wire;
}

/** An event from the wire; undefined for a type this side does not know (a newer server's). */
export function watchEventFromProto(event: WatchEvent__Output): WatchEvent | undefined {
  if (!EVENT_TYPES.has(event.type)) return undefined;
  const decoded: WatchEvent = { type: event.type as WatchEvent['type'], object: event.object, resourceVersion: event.resourceVersion };
  if (event.traceparent !== '') decoded.traceparent = event.traceparent;
  return decoded;
}
