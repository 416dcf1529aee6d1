/**
 * The admission service's wire conversions: an AdmissionRequest to and from its AdmitRequest
 * message, and the admitted object to and from the response. The client and the server use
 * these alone, so the two sides cannot drift.
 */
import { badRequest } from '../../../lib/errors.ts';
import type { AdmitRequest, AdmitRequest__Output } from '../../../lib/gen/apiserver/v1/AdmitRequest.ts';
import type { AdmitResponse, AdmitResponse__Output } from '../../../lib/gen/apiserver/v1/AdmitResponse.ts';
import { MAX_OBJECT_BYTES_IN_REQUEST, MESSAGE_FRAMING_BYTES } from '../../../lib/grpc/limits.ts';
import { objectBytes, parseObjectBytes, parseUntrustedObject, type KubeObject } from '../../../lib/kube.ts';
import { userFromProto, userToProto } from '../../auth/grpc/client.ts';
import type { AdmissionRequest, Operation } from '../api.ts';

/** The largest request of one admission call: an object and the object it replaces. */
export const ADMISSION_MAX_CALL_BYTES = 2 * MAX_OBJECT_BYTES_IN_REQUEST + MESSAGE_FRAMING_BYTES;

/** The largest message the admission server takes: one call and its Exchange envelope (CallRequest). */
export const ADMISSION_MAX_REQUEST_BYTES = ADMISSION_MAX_CALL_BYTES + MESSAGE_FRAMING_BYTES;

const OPERATIONS: readonly Operation[] = ['CREATE', 'UPDATE', 'DELETE', 'CONNECT'];

function operationOf(value: string): Operation {
  const op = OPERATIONS.find((o) => o === value);
  if (op === undefined) throw badRequest(`unknown admission operation "${value}"`);
  return op;
}

/** An absent object travels as no bytes. */
function bytesOf(object: KubeObject | undefined): Buffer {
  return object === undefined ? Buffer.alloc(0) : objectBytes(object);
}

export function admitRequestToProto(r: AdmissionRequest): AdmitRequest {
  return {
    operation: r.operation,
    ref: { group: r.group, version: r.version, resource: r.resource, namespace: r.namespace, name: r.name, subresource: r.subresource ?? '' },
    kind: r.kind,
    object: bytesOf(r.object),
    oldObject: bytesOf(r.oldObject),
    user: userToProto(r.user),
    dryRun: r.dryRun,
  };
}

/** A received request; its objects are untrusted bytes, checked as every body is. BadRequest when malformed. */
export function admitRequestFromProto(req: AdmitRequest__Output): AdmissionRequest {
  if (req.ref === null) throw badRequest('ref is required');
  return {
    operation: operationOf(req.operation),
    group: req.ref.group,
    version: req.ref.version,
    resource: req.ref.resource,
    subresource: req.ref.subresource,
    kind: req.kind,
    namespace: req.ref.namespace,
    name: req.ref.name,
    object: req.object.length === 0 ? undefined : parseUntrustedObject(req.object),
    oldObject: req.oldObject.length === 0 ? undefined : parseUntrustedObject(req.oldObject),
    user: userFromProto(req.user),
    dryRun: req.dryRun,
  };
}

export function admitResponseToProto(object: KubeObject | undefined): AdmitResponse {
  return { object: bytesOf(object) };
}

export function admitResponseFromProto(res: AdmitResponse__Output): KubeObject | undefined {
  return res.object.length === 0 ? undefined : parseObjectBytes(res.object);
}
