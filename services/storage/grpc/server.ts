/**
 * The Storage service over gRPC: decode the request, call the Storage, encode the answer.
 * Errors are StatusErrors and reach the client as gRPC statuses through GrpcServer.
 */
import { MAX_OBJECT_BYTES_IN_REQUEST, MESSAGE_FRAMING_BYTES } from '../../../lib/grpc/limits.ts';
import type { CallContext, ServiceHandlers } from '../../../lib/grpc/server.ts';
import type { StorageHandlers } from '../../../lib/gen/apiserver/v1/Storage.ts';
import { objectBytes, parseUntrustedObject } from '../../../lib/kube.ts';
import type { ResourceRef__Output } from '../../../lib/gen/apiserver/v1/ResourceRef.ts';
import type { StorageCreateRequest__Output } from '../../../lib/gen/apiserver/v1/StorageCreateRequest.ts';
import type { StorageDeleteRequest__Output } from '../../../lib/gen/apiserver/v1/StorageDeleteRequest.ts';
import type { StorageGetRequest__Output } from '../../../lib/gen/apiserver/v1/StorageGetRequest.ts';
import type { StorageListRequest__Output } from '../../../lib/gen/apiserver/v1/StorageListRequest.ts';
import type { StorageListResponse } from '../../../lib/gen/apiserver/v1/StorageListResponse.ts';
import type { StorageObjectResponse } from '../../../lib/gen/apiserver/v1/StorageObjectResponse.ts';
import type { CurrentRevisionResponse } from '../../../lib/gen/apiserver/v1/CurrentRevisionResponse.ts';
import type { StorageUpdateRequest__Output } from '../../../lib/gen/apiserver/v1/StorageUpdateRequest.ts';
import type { StorageDeleteResponse } from '../../../lib/gen/apiserver/v1/StorageDeleteResponse.ts';
import type { StorageEventsRequest__Output } from '../../../lib/gen/apiserver/v1/StorageEventsRequest.ts';
import type { StorageEventsResponse } from '../../../lib/gen/apiserver/v1/StorageEventsResponse.ts';
import { badRequest } from '../../../lib/errors.ts';
import type { EventsOptions, Storage, StorageRef } from '../api.ts';

/** The largest request of one storage call: an object and its reference. */
export const STORAGE_MAX_CALL_BYTES = MAX_OBJECT_BYTES_IN_REQUEST + MESSAGE_FRAMING_BYTES;

/**
 * The largest request the storage server takes: one call, unary or as a message of the
 * multiplexed Exchange stream (whose envelope the framing covers). StorageClient refuses a
 * larger call itself, so that it never breaks the stream the other calls share.
 */
export const STORAGE_MAX_REQUEST_BYTES = STORAGE_MAX_CALL_BYTES + MESSAGE_FRAMING_BYTES;

export function refFromProto(ref: ResourceRef__Output | null): StorageRef {
  if (ref === null || ref.resource === '') throw badRequest('ref.resource is required');
  return { group: ref.group, resource: ref.resource, namespace: ref.namespace, name: ref.name };
}

export function storageHandlers(storage: Storage): ServiceHandlers<StorageHandlers> {
  return {
    Create: async (req: StorageCreateRequest__Output, ctx: CallContext): Promise<StorageObjectResponse> => ({
      object: objectBytes(await storage.create(refFromProto(req.ref), parseUntrustedObject(req.object), ctx.signal)),
    }),
    Get: async (req: StorageGetRequest__Output, ctx: CallContext): Promise<StorageObjectResponse> => ({
      object: objectBytes(await storage.get(refFromProto(req.ref), { resourceVersion: req.resourceVersion }, ctx.signal)),
    }),
    List: async (req: StorageListRequest__Output, ctx: CallContext): Promise<StorageListResponse> => {
      const o = req.options;
      const result = await storage.list(
        refFromProto(req.ref),
        {
          limit: o === null ? 0 : Number(o.limit),
          continue: o?.continue ?? '',
          resourceVersion: o?.resourceVersion ?? '',
          resourceVersionMatch: o?.resourceVersionMatch ?? '',
          labelSelector: o?.labelSelector ?? '',
          fieldSelector: o?.fieldSelector ?? '',
        },
        ctx.signal,
      );
      return {
        items: result.items.map(objectBytes),
        resourceVersion: result.resourceVersion,
        continue: result.continue,
        remainingItemCount: result.remainingItemCount ?? -1,
      };
    },
    Update: async (req: StorageUpdateRequest__Output, ctx: CallContext): Promise<StorageObjectResponse> => ({
      object: objectBytes(await storage.update(refFromProto(req.ref), parseUntrustedObject(req.object), ctx.signal)),
    }),
    Delete: async (req: StorageDeleteRequest__Output, ctx: CallContext): Promise<StorageDeleteResponse> => {
      const result = await storage.delete(
        refFromProto(req.ref),
        { uid: req.preconditions?.uid ?? '', resourceVersion: req.preconditions?.resourceVersion ?? '' },
        ctx.signal,
      );
      return { object: objectBytes(result.object), pending: result.pending };
    },
    Events: async (req: StorageEventsRequest__Output, ctx: CallContext): Promise<StorageEventsResponse> => {
      if (req.resource === '') throw badRequest('resource is required');
      const options: EventsOptions = { fromRevision: req.fromRevision, limit: Number(req.limit) };
      if (req.toRevision !== '') options.toRevision = req.toRevision;
      const result = await storage.events({ group: req.group, resource: req.resource }, options, ctx.signal);
      return {
        events: result.events.map((e) => ({
          type: e.type,
          revision: e.revision,
          namespace: e.namespace,
          name: e.name,
          object: objectBytes(e.object),
          prevObject: e.prevObject === undefined ? Buffer.alloc(0) : objectBytes(e.prevObject),
        })),
        resourceVersion: result.resourceVersion,
        more: result.more,
      };
    },
    CurrentRevision: async (_req: unknown, ctx: CallContext): Promise<CurrentRevisionResponse> => ({
      resourceVersion: await storage.currentRevision(ctx.signal),
    }),
  };
}
