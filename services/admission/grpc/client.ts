/**
 * The admission service over gRPC, as an Admission for the gateway.
 */
import { clientSettings, unary, type ClientOptions } from '../../../lib/grpc/client.ts';
import type { KubeObject } from '../../../lib/kube.ts';
import { loadApiProto } from '../../../lib/proto.ts';
import type { AdmissionClient as GeneratedAdmissionClient } from '../../../lib/gen/apiserver/v1/Admission.ts';
import type { Admission, AdmissionRequest } from '../api.ts';
import { admitRequestToProto, admitResponseFromProto } from './codec.ts';

export class AdmissionClient implements Admission {
  private readonly client: GeneratedAdmissionClient;

  constructor(address: string, options: ClientOptions) {
    const { credentials, channelOptions } = clientSettings(options);
    this.client = new (loadApiProto().apiserver.v1.Admission)(address, credentials, channelOptions);
  }

  async admit(r: AdmissionRequest, signal?: AbortSignal): Promise<KubeObject | undefined> {
    return admitResponseFromProto(await unary(this.client, 'admit', admitRequestToProto(r), { signal }));
  }

  close(): void {
    this.client.close();
  }
}
