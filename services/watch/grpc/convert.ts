/**
 * Watch requests from their proto form, for the watch service's RPCs and the gateway's.
 */
import { badRequest } from '../../../lib/errors.ts';
import type { WatchOptions__Output } from '../../../lib/gen/apiserver/v1/WatchOptions.ts';
import type { ResourceRef__Output } from '../../../lib/gen/apiserver/v1/ResourceRef.ts';
import type { WatchOptions, WatchTarget } from '../core/watch-service.ts';

export function watchTargetFromProto(ref: ResourceRef__Output | null | undefined): WatchTarget {
  if (ref === null || ref === undefined || ref.resource === '') throw badRequest('ref.resource is required');
  return { group: ref.group, version: ref.version, resource: ref.resource, namespace: ref.namespace };
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
