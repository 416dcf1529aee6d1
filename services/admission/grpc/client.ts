/**
 * The admission service over gRPC, as an Admission for the gateway.
 */
import type { ClientOptions } from '../../../lib/grpc/client.ts';
import { MultiplexedClient } from '../../../lib/grpc/exchange-client.ts';
import { generatedReplicas, type ReplicaSet } from '../../../lib/grpc/replicas.ts';
import type { KubeObject } from '../../../lib/kube.ts';
import { loadApiProto } from '../../../lib/proto.ts';
import type { AdmissionClient as GeneratedAdmissionClient } from '../../../lib/gen/apiserver/v1/Admission.ts';
import type { Admission, AdmissionRequest } from '../api.ts';
import { ADMISSION_MAX_CALL_BYTES, admitRequestToProto, admitResponseFromProto } from './codec.ts';

/**
 * Admit calls go over one multiplexed Exchange stream per admission replica (as storage's
 * small calls do: lib/grpc/exchange-client.ts), spread over the replicas
 * (lib/grpc/replicas.ts). A call over the server's size limit is refused here with 413, as
 * the server's refusal would end the stream and every call on it.
 */
export class AdmissionClient implements Admission {
  /** The admission replicas, one generated client each. */
  readonly replicas: ReplicaSet<GeneratedAdmissionClient>;
  private readonly mux: MultiplexedClient<GeneratedAdmissionClient>;

  /** `address`: one or more admission replicas, comma-separated `host:port` (a DNS name stands for every address it resolves to). */
  constructor(address: string, options: ClientOptions) {
    const Admission = loadApiProto().apiserver.v1.Admission;
    this.replicas = generatedReplicas(Admission, address, options);
    this.mux = new MultiplexedClient(this.replicas, 'apiserver.v1.Admission', options.telemetry, { maxRequestBytes: ADMISSION_MAX_CALL_BYTES, service: Admission.service });
  }

  async admit(r: AdmissionRequest, signal?: AbortSignal): Promise<KubeObject | undefined> {
    return admitResponseFromProto(await this.mux.call('admit', admitRequestToProto(r), { signal }));
  }

  close(): void {
    this.mux.close();
    this.replicas.close();
  }
}
