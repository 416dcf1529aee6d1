/**
 * The watch service's messages on the wire, both ways: what its server decodes, what its
 * client encodes, and the limit of a request. The gateway's Resources API carries the same
 * watch messages; it reaches these conversions through grpc/client.ts.
 */
import { badRequest } from '../../../lib/errors.ts';
import { MAX_SMALL_REQUEST_BYTES, MESSAGE_FRAMING_BYTES } from '../../../lib/grpc/limits.ts';
import type { ResourceRef, ResourceRef__Output } from '../../../lib/gen/apiserver/v1/ResourceRef.ts';
import type { WatchEvent as ProtoWatchEvent, WatchEvent__Output } from '../../../lib/gen/apiserver/v1/WatchEvent.ts';
import type { WatchOptions as ProtoWatchOptions, WatchOptions__Output } from '../../../lib/gen/apiserver/v1/WatchOptions.ts';
import type { WatchEvent, WatchOptions, WatchTarget } from '../api.ts';

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
 * The options of a watch as the wire carries them. A proto3 bool cannot say
 * sendInitialEvents=false (it is absent), which resourceVersionMatch needs: without initial
 * events the match changes nothing, and it is left out.
 */
export function watchOptionsToProto(o: WatchOptions): ProtoWatchOptions {
  return {
    labelSelector: o.labelSelector ?? '',
    fieldSelector: o.fieldSelector ?? '',
    resourceVersion: o.resourceVersion ?? '',
    resourceVersionMatch: o.sendInitialEvents === true ? (o.resourceVersionMatch ?? '') : '',
    allowWatchBookmarks: o.allowWatchBookmarks ?? false,
    sendInitialEvents: o.sendInitialEvents === true,
    timeoutSeconds: o.timeoutSeconds ?? 0,
  };
}

/**
 * The options of a watch as they came: checked by the watch itself (lib/list-options.ts), as
 * every other path's, so a value REST refuses is refused here too. A proto3 bool cannot tell
 * sendInitialEvents=false from absent: false is absent.
 */
export function watchOptionsFromProto(o: WatchOptions__Output | null | undefined): WatchOptions {
  if (o === null || o === undefined) return {};
  return {
    labelSelector: o.labelSelector,
    fieldSelector: o.fieldSelector,
    resourceVersion: o.resourceVersion,
    resourceVersionMatch: o.resourceVersionMatch,
    allowWatchBookmarks: o.allowWatchBookmarks,
    sendInitialEvents: o.sendInitialEvents ? true : undefined,
    timeoutSeconds: Number(o.timeoutSeconds),
  };
}

export function watchEventToProto(event: WatchEvent): ProtoWatchEvent {
  return { type: event.type, object: event.object, resourceVersion: event.resourceVersion };
}

/** An event from the wire; undefined for a type this side does not know (a newer server's). */
export function watchEventFromProto(event: WatchEvent__Output): WatchEvent | undefined {
  if (!EVENT_TYPES.has(event.type)) return undefined;
  return { type: event.type as WatchEvent['type'], object: event.object, resourceVersion: event.resourceVersion };
}
