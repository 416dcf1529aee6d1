/**
 * The admission service over gRPC, as an Admission for the gateway.
 */
import { clientSettings, unary, type ClientOptions } from '../../../lib/grpc/client.ts';
import { objectBytes, parseObjectBytes, type KubeObject } from '../../../lib/kube.ts';
import { loadApiProto } from '../../../lib/proto.ts';
import type { AdmissionClient as GeneratedAdmissionClient } from '../../../lib/gen/apiserver/v1/Admission.ts';
import { userToProto } from '../../auth/grpc/client.ts';
import type { Admission, AdmissionRequest } from '../api.ts';

export class AdmissionClient implements Admission {
  private readonly client: GeneratedAdmissionClient;

  constructor(address: string, options: ClientOptions) {
    const { credentials, channelOptions } = clientSettings(options);
    this.client = new (loadApiProto().apiserver.v1.Admission)(address, credentials, channelOptions);
  }

  async admit(r: AdmissionRequest, signal?: AbortSignal): Promise<KubeObject | undefined> {
    const res = await unary(
      this.client,
      'admit',
      {
        operation: r.operation,
        ref: { group: r.group, version: r.version, resource: r.resource, namespace: r.namespace, name: r.name },
        kind: r.kind,
        object: r.object === undefined ? Buffer.alloc(0) : objectBytes(r.object),
        oldObject: r.oldObject === undefined ? Buffer.alloc(0) : objectBytes(r.oldObject),
        user: userToProto(r.user),
        dryRun: r.dryRun,
      },
      { signal },
    );
    return res.object.length === 0 ? undefined : parseObjectBytes(res.object);
  }

  close(): void {
    this.client.close();
  }
}
