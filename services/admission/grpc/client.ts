/**
 * The admission service over gRPC, as an Admission for the gateway.
 */
import type { ClientOptions } from '../../../lib/grpc/client.ts';
import { generatedReplicas, replicaUnary, type ReplicaSet } from '../../../lib/grpc/replicas.ts';
import type { KubeObject } from '../../../lib/kube.ts';
import { loadApiProto } from '../../../lib/proto.ts';
import type { AdmissionClient as GeneratedAdmissionClient } from '../../../lib/gen/apiserver/v1/Admission.ts';
import type { Admission, AdmissionRequest } from '../api.ts';
import { admitRequestToProto, admitResponseFromProto } from './codec.ts';

const asIs = (client: GeneratedAdmissionClient): GeneratedAdmissionClient => client;

/** Calls spread over the admission replicas (lib/grpc/replicas.ts). */
export class AdmissionClient implements Admission {
  /** The admission replicas, one generated client each. */
  readonly replicas: ReplicaSet<GeneratedAdmissionClient>;

  /** `address`: one or more admission replicas, comma-separated `host:port` (a DNS name stands for every address it resolves to). */
  constructor(address: string, options: ClientOptions) {
    this.replicas = generatedReplicas(loadApiProto().apiserver.v1.Admission, address, options);
  }

  async admit(r: AdmissionRequest, signal?: AbortSignal): Promise<KubeObject | undefined> {
    return admitResponseFromProto(await replicaUnary(this.replicas, asIs, 'admit', admitRequestToProto(r), { signal }));
  }

  close(): void {
    this.replicas.close();
  }
}
