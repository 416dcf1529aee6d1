/**
 * The Watch service over gRPC: each event becomes one WatchEvent message.
 */
import type { CallContext, HandlerMap } from '../../../lib/grpc.ts';
import { badRequest } from '../../../lib/errors.ts';
import type { WatchRequest__Output } from '../../../lib/gen/apiserver/v1/WatchRequest.ts';
import type { WatchEvent as ProtoWatchEvent } from '../../../lib/gen/apiserver/v1/WatchEvent.ts';
import type { WatchOptions__Output } from '../../../lib/gen/apiserver/v1/WatchOptions.ts';
import type { ResourceRef__Output } from '../../../lib/gen/apiserver/v1/ResourceRef.ts';
import type { Watcher, WatchOptions, WatchTarget } from '../core/watch-service.ts';

export function watchTargetFromProto(ref: ResourceRef__Output | null): WatchTarget {
  if (ref === null || ref.resource === '') throw badRequest('ref.resource is required');
  return { group: ref.group, version: ref.version, resource: ref.resource, namespace: ref.namespace };
}

export function watchOptionsFromProto(o: WatchOptions__Output | null): WatchOptions {
  if (o === null) return {};
  const timeout = Number(o.timeoutSeconds);
  return {
    labelSelector: o.labelSelector,
    fieldSelector: o.fieldSelector,
    resourceVersion: o.resourceVersion,
    resourceVersionMatch: o.resourceVersionMatch,
    allowWatchBookmarks: o.allowWatchBookmarks,
    sendInitialEvents: o.sendInitialEvents ? true : undefined,
    timeoutSeconds: timeout > 0 ? timeout : undefined,
  };
}

export function watchHandlers(watcher: Watcher): HandlerMap {
  return {
    Watch: async (req: WatchRequest__Output, ctx: CallContext, send: (m: ProtoWatchEvent) => Promise<void>): Promise<void> => {
      const events = watcher.watch(watchTargetFromProto(req.ref), watchOptionsFromProto(req.options), ctx.signal);
      for await (const event of events) {
        await send({ type: event.type, object: event.object, resourceVersion: event.resourceVersion });
      }
    },
  };
}
