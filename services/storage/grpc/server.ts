/**
 * The Storage service over gRPC: decode the request, call the Storage, encode the answer.
 * Errors are StatusErrors and reach the client as gRPC statuses through GrpcServer.
 */
import type { CallContext, HandlerMap } from '../../../lib/grpc.ts';
import { objectBytes, parseObjectBytes } from '../../../lib/kube.ts';
import type { ResourceRef__Output } from '../../../lib/gen/apiserver/v1/ResourceRef.ts';
import type { StorageCreateRequest__Output } from '../../../lib/gen/apiserver/v1/StorageCreateRequest.ts';
import type { StorageDeleteRequest__Output } from '../../../lib/gen/apiserver/v1/StorageDeleteRequest.ts';
import type { StorageGetRequest__Output } from '../../../lib/gen/apiserver/v1/StorageGetRequest.ts';
import type { StorageListRequest__Output } from '../../../lib/gen/apiserver/v1/StorageListRequest.ts';
import type { StorageListResponse } from '../../../lib/gen/apiserver/v1/StorageListResponse.ts';
import type { StorageObjectResponse } from '../../../lib/gen/apiserver/v1/StorageObjectResponse.ts';
import type { CurrentRevisionResponse } from '../../../lib/gen/apiserver/v1/CurrentRevisionResponse.ts';
import { badRequest } from '../../../lib/errors.ts';
import type { Storage, StorageRef } from '../api.ts';

export function refFromProto(ref: ResourceRef__Output | null): StorageRef {
  if (ref === null || ref.resource === '') throw badRequest('ref.resource is required');
  return { group: ref.group, resource: ref.resource, namespace: ref.namespace, name: ref.name };
}

export function storageHandlers(storage: Storage): HandlerMap {
  return {
    Create: async (req: StorageCreateRequest__Output, ctx: CallContext): Promise<StorageObjectResponse> => ({
      object: objectBytes(await storage.create(refFromProto(req.ref), parseObjectBytes(req.object), ctx.signal)),
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
    Delete: async (req: StorageDeleteRequest__Output, ctx: CallContext): Promise<StorageObjectResponse> => ({
      object: objectBytes(
        await storage.delete(
          refFromProto(req.ref),
          { uid: req.preconditions?.uid ?? '', resourceVersion: req.preconditions?.resourceVersion ?? '' },
          ctx.signal,
        ),
      ),
    }),
    CurrentRevision: async (_req: unknown, ctx: CallContext): Promise<CurrentRevisionResponse> => ({
      resourceVersion: await storage.currentRevision(ctx.signal),
    }),
  };
}
