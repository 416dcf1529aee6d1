/**
 * Calls the gateway's gRPC API as a generic client would from proto/ alone: the typed services
 * of the built-in kinds (apiserver.kinds.<group>.<version>.<Kinds>) and the JSON Resources
 * service, by service and method name. Answers the response, or the call's gRPC error as it
 * came (code and details), for tests that compare refusals word for word.
 */
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { PROTO_DIR } from '../../lib/proto.ts';

export interface TypedGrpc {
  /**
   * One unary call of `service` (its full name, e.g. apiserver.kinds.core.v1.Pods) and
   * `method`; resolves with the answer or the ServiceError, never rejects on a gRPC status.
   */
  call(service: string, method: string, request: object, metadata: grpc.Metadata): Promise<{ response?: unknown; error?: grpc.ServiceError }>;
  close(): void;
}

/** A client of the gRPC API at `address` (plaintext) for the services of `protoFiles` (paths under proto/). */
export function typedGrpc(address: string, protoFiles: readonly string[]): TypedGrpc {
  const definition = protoLoader.loadSync([...protoFiles], { includeDirs: [PROTO_DIR], longs: String, enums: String, oneofs: true });
  const client = new grpc.Client(address, grpc.credentials.createInsecure());
  return {
    call: (service, method, request, metadata) => {
      const def = (definition[service] as grpc.ServiceDefinition | undefined)?.[method];
      if (def === undefined) throw new Error(`no method ${service}/${method} in ${protoFiles.join(', ')}`);
      return new Promise((resolve) => {
        client.makeUnaryRequest(def.path, def.requestSerialize, def.responseDeserialize, request, metadata, { deadline: Date.now() + 20_000 }, (err, response) =>
          resolve(err === null ? { response } : { error: err }),
        );
      });
    },
    close: () => client.close(),
  };
}
