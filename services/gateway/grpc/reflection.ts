/**
 * gRPC server reflection (grpc.reflection.v1 and v1alpha, from @grpc/reflection) on the
 * gateway's typed API port, so that grpcurl and other generic tools can list its services,
 * describe its messages and call it without a copy of proto/.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import * as protoLoader from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import type { GrpcServer } from '../../../lib/grpc/serve.ts';
import { PROTO_DIR } from '../../../lib/proto.ts';

const require = createRequire(import.meta.url);

/** The proto directories of the packages that serve the port's other services. */
const HEALTH_PROTO_DIR = path.join(path.dirname(require.resolve('grpc-health-check/package.json')), 'proto');
const REFLECTION_PROTO_DIR = path.join(path.dirname(require.resolve('@grpc/reflection/package.json')), 'build', 'proto');

/** Services every GrpcServer serves besides its own: health checking, and reflection itself. */
const PLATFORM_FILES = ['health/v1/health.proto', 'grpc/reflection/v1/reflection.proto', 'grpc/reflection/v1alpha/reflection.proto'];
const PLATFORM_SERVICES = ['grpc.health.v1.Health', 'grpc.reflection.v1.ServerReflection', 'grpc.reflection.v1alpha.ServerReflection'];

/**
 * Adds the reflection services to `server`, describing `services` (fully qualified names) and
 * the port's health and reflection services: the files of proto/ named in `files` (paths
 * relative to it) and what they import. Only the services named are listed, although the
 * files may define more (resources.proto imports watch.proto, whose Watch service the gateway
 * does not serve). Each call of `list` and `describe` answers from descriptors built once here.
 */
export function serveReflection(server: GrpcServer, files: readonly string[], services: readonly string[]): void {
  const definition = protoLoader.loadSync([...files, ...PLATFORM_FILES], {
    includeDirs: [PROTO_DIR, HEALTH_PROTO_DIR, REFLECTION_PROTO_DIR],
    keepCase: true,
  });
  // Every type of one load carries the descriptors of all of its files: the reflection service
  // decodes them once per entry it is given, so it is given one (thousands of k8s messages
  // would otherwise cost it seconds at start).
  const entry = Object.entries(definition).find(([, d]) => 'fileDescriptorProtos' in d);
  if (entry === undefined) throw new Error('reflection: the files define no message');
  const reflection = new ReflectionService({ [entry[0]]: entry[1] } as unknown as ConstructorParameters<typeof ReflectionService>[0], {
    services: [...services, ...PLATFORM_SERVICES],
  });
  server.addSelfServedServices((s) => reflection.addToServer(s));
}
