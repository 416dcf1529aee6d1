/**
 * Admission over gRPC: decode, run the chain, encode.
 */
import { MAX_OBJECT_BYTES_IN_REQUEST, MESSAGE_FRAMING_BYTES } from '../../../lib/grpc/limits.ts';
import type { CallContext, ServiceHandlers } from '../../../lib/grpc/server.ts';
import type { AdmissionHandlers } from '../../../lib/gen/apiserver/v1/Admission.ts';
import { badRequest } from '../../../lib/errors.ts';
import { objectBytes, parseUntrustedObject } from '../../../lib/kube.ts';
import type { AdmitRequest__Output } from '../../../lib/gen/apiserver/v1/AdmitRequest.ts';
import type { AdmitResponse } from '../../../lib/gen/apiserver/v1/AdmitResponse.ts';
import { userFromProto } from '../../auth/grpc/client.ts';
import type { Admission, Operation } from '../api.ts';

/** The largest request the admission server takes: an object and the object it replaces. */
export const ADMISSION_MAX_REQUEST_BYTES = 2 * MAX_OBJECT_BYTES_IN_REQUEST + MESSAGE_FRAMING_BYTES;

const OPERATIONS: readonly Operation[] = ['CREATE', 'UPDATE', 'DELETE', 'CONNECT'];

function operationOf(value: string): Operation {
  const op = OPERATIONS.find((o) => o === value);
  if (op === undefined) throw badRequest(`unknown admission operation "${value}"`);
  return op;
}

export function admissionHandlers(admission: Admission): ServiceHandlers<AdmissionHandlers> {
  return {
    Admit: async (req: AdmitRequest__Output, ctx: CallContext): Promise<AdmitResponse> => {
      if (req.ref === null) throw badRequest('ref is required');
      const object = await admission.admit(
        {
          operation: operationOf(req.operation),
          group: req.ref.group,
          version: req.ref.version,
          resource: req.ref.resource,
          kind: req.kind,
          namespace: req.ref.namespace,
          name: req.ref.name,
          object: req.object.length === 0 ? undefined : parseUntrustedObject(req.object),
          oldObject: req.oldObject.length === 0 ? undefined : parseUntrustedObject(req.oldObject),
          user: userFromProto(req.user),
          dryRun: req.dryRun,
        },
        ctx.signal,
      );
      return { object: object === undefined ? Buffer.alloc(0) : objectBytes(object) };
    },
  };
}
