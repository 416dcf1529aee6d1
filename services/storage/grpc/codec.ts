/**
 * The storage service's messages on the wire, both ways: what its client encodes and its
 * server decodes (and the reverse for answers), and the size of one call. Objects travel as
 * their JSON bytes; a request's objects are parsed as untrusted input by the server.
 */
import { badRequest } from '../../../lib/errors.ts';
import { MAX_OBJECT_BYTES_IN_REQUEST, MESSAGE_FRAMING_BYTES } from '../../../lib/grpc/limits.ts';
import { objectBytes, parseEncodedObject, parseObjectBytes } from '../../../lib/kube.ts';
import type { Preconditions as ProtoPreconditions, Preconditions__Output } from '../../../lib/gen/apiserver/v1/Preconditions.ts';
import type { ResourceRef, ResourceRef__Output } from '../../../lib/gen/apiserver/v1/ResourceRef.ts';
import type { StorageEvent, StorageEvent__Output } from '../../../lib/gen/apiserver/v1/StorageEvent.ts';
import type { StorageListResponse, StorageListResponse__Output } from '../../../lib/gen/apiserver/v1/StorageListResponse.ts';
import type { HistoryEvent, ListResult, Preconditions, StorageRef } from '../api.ts';

// The options' conversion has one home, shared with the watch service and the typed API.
export { listOptionsFromProto, listOptionsToProto } from '../../../lib/list-options.ts';

/** The largest request of one storage call: an object and its reference. */
export const STORAGE_MAX_CALL_BYTES = MAX_OBJECT_BYTES_IN_REQUEST + MESSAGE_FRAMING_BYTES;

export function refToProto(ref: StorageRef): ResourceRef {
  return { group: ref.group, resource: ref.resource, namespace: ref.namespace, name: ref.name };
}

export function refFromProto(ref: ResourceRef__Output | null): StorageRef {
  if (ref === null || ref.resource === '') throw badRequest('ref.resource is required');
  return { group: ref.group, resource: ref.resource, namespace: ref.namespace, name: ref.name };
}



/** A page as the wire carries it: -1 says the remaining count is unknown. */
export function listResultToProto(result: ListResult): StorageListResponse {
  return {
    items: result.items.map(objectBytes),
    resourceVersion: result.resourceVersion,
    continue: result.continue,
    remainingItemCount: result.remainingItemCount ?? -1,
  };
}

/**
 * A page from the wire; a remaining count only with a continue token, as kube sends it. The
 * items keep their JSON (parseEncodedObject: listResultToProto wrote them with objectBytes).
 */
export function listResultFromProto(res: StorageListResponse__Output): ListResult {
  const result: ListResult = { items: res.items.map((item) => parseEncodedObject(item)), resourceVersion: res.resourceVersion, continue: res.continue };
  const remaining = Number(res.remainingItemCount);
  if (remaining >= 0 && res.continue !== '') result.remainingItemCount = remaining;
  return result;
}

export function preconditionsToProto(p: Preconditions): ProtoPreconditions {
  return { uid: p.uid ?? '', resourceVersion: p.resourceVersion ?? '' };
}

export function preconditionsFromProto(p: Preconditions__Output | null): Preconditions {
  return { uid: p?.uid ?? '', resourceVersion: p?.resourceVersion ?? '' };
}

export function historyEventToProto(e: HistoryEvent): StorageEvent {
  return {
    type: e.type,
    revision: e.revision,
    namespace: e.namespace,
    name: e.name,
    object: objectBytes(e.object),
    prevObject: e.prevObject === undefined ? Buffer.alloc(0) : objectBytes(e.prevObject),
  };
}

export function historyEventFromProto(e: StorageEvent__Output): HistoryEvent {
  return {
    type: e.type as HistoryEvent['type'],
    revision: Number(e.revision),
    namespace: e.namespace,
    name: e.name,
    object: parseObjectBytes(e.object),
    prevObject: e.prevObject.length === 0 ? undefined : parseObjectBytes(e.prevObject),
  };
}
