/**
 * Admission over gRPC: decode, run the chain, encode (conversions in codec.ts).
 */
import type { CallContext, ServiceHandlers } from '../../../lib/grpc/serve.ts';
import type { AdmissionHandlers } from '../../../lib/gen/apiserver/v1/Admission.ts';
import type { AdmitRequest__Output } from '../../../lib/gen/apiserver/v1/AdmitRequest.ts';
import type { AdmitResponse } from '../../../lib/gen/apiserver/v1/AdmitResponse.ts';
import type { Admission } from '../api.ts';
import { admitRequestFromProto, admitResponseToProto } from './codec.ts';

export { ADMISSION_MAX_REQUEST_BYTES } from './codec.ts';

export function admissionHandlers(admission: Admission): ServiceHandlers<AdmissionHandlers> {
  return {
    Admit: async (req: AdmitRequest__Output, ctx: CallContext): Promise<AdmitResponse> =>
      admitResponseToProto(await admission.admit(admitRequestFromProto(req), ctx.signal)),
  };
}
