/**
 * The Storage service over gRPC: decode the request, call the Storage, encode the answer.
 * Errors are StatusErrors and reach the client as gRPC statuses through GrpcServer.
 */
import { MESSAGE_FRAMING_BYTES } from '../../../lib/grpc/limits.ts';
import type { CallContext, ServiceHandlers } from '../../../lib/grpc/serve.ts';
import type { StorageHandlers } from '../../../lib/gen/apiserver/v1/Storage.ts';
import { objectBytes, parseUntrustedObject } from '../../../lib/kube.ts';
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
import type { EventsOptions, Storage } from '../api.ts';
import { historyEventToProto, listOptionsFromProto, listResultToProto, preconditionsFromProto, refFromProto, STORAGE_MAX_CALL_BYTES } from './codec.ts';

/**
 * The largest request the storage server takes: one call, unary or as a message of the
 * multiplexed Exchange stream (whose envelope the framing covers). StorageClient refuses a
 * larger call itself, so that it never breaks the stream the other calls share.
 */
export const STORAGE_MAX_REQUEST_BYTES = STORAGE_MAX_CALL_BYTES + MESSAGE_FRAMING_BYTES;

export function storageHandlers(storage: Storage): ServiceHandlers<StorageHandlers> {
  return {
    Create: async (req: StorageCreateRequest__Output, ctx: CallContext): Promise<StorageObjectResponse> => ({
      object: objectBytes(await storage.create(refFromProto(req.ref), parseUntrustedObject(req.object), ctx.signal)),
    }),
    Get: async (req: StorageGetRequest__Output, ctx: CallContext): Promise<StorageObjectResponse> => ({
      object: objectBytes(await storage.get(refFromProto(req.ref), { resourceVersion: req.resourceVersion }, ctx.signal)),
    }),
    List: async (req: StorageListRequest__Output, ctx: CallContext): Promise<StorageListResponse> =>
      listResultToProto(await storage.list(refFromProto(req.ref), listOptionsFromProto(req.options), ctx.signal)),
    Update: async (req: StorageUpdateRequest__Output, ctx: CallContext): Promise<StorageObjectResponse> => ({
      object: objectBytes(await storage.update(refFromProto(req.ref), parseUntrustedObject(req.object), ctx.signal, { deletion: req.deletion })),
    }),
    Delete: async (req: StorageDeleteRequest__Output, ctx: CallContext): Promise<StorageDeleteResponse> => {
      const result = await storage.delete(refFromProto(req.ref), preconditionsFromProto(req.preconditions), ctx.signal, { finalizersRemoved: req.finalizersRemoved });
      return { object: objectBytes(result.object), pending: result.pending };
    },
    Events: async (req: StorageEventsRequest__Output, ctx: CallContext): Promise<StorageEventsResponse> => {
      if (req.resource === '') throw badRequest('resource is required');
      const options: EventsOptions = { fromRevision: req.fromRevision, limit: Number(req.limit) };
      if (req.toRevision !== '') options.toRevision = req.toRevision;
      const result = await storage.events({ group: req.group, resource: req.resource }, options, ctx.signal);
      return {
        events: result.events.map(historyEventToProto),
        resourceVersion: result.resourceVersion,
        more: result.more,
      };
    },
    CurrentRevision: async (_req: unknown, ctx: CallContext): Promise<CurrentRevisionResponse> => ({
      resourceVersion: await storage.currentRevision(ctx.signal),
    }),
  };
}
