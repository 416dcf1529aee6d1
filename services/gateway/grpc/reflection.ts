/**
 * gRPC server reflection (grpc.reflection.v1 and v1alpha, from @grpc/reflection) on the
 * gateway's typed API port, so that grpcurl and other generic tools can list its services,
 * describe its messages and call it without a copy of proto/.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import type * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { ReflectionService } from '@grpc/reflection';
import type { GrpcServer } from '../../../lib/grpc/serve.ts';
import { PROTO_DIR } from '../../../lib/proto.ts';

const require = createRequire(import.meta.url);

/** The proto directories of the packages that serve the port's other services. */
const HEALTH_PROTO_DIR = path.join(path.dirname(require.resolve('grpc-health-check/package.json')), 'proto');
const REFLECTION_PROTO_DIR = path.join(path.dirname(require.resolve('@grpc/reflection/package.json')), 'build', 'proto');

const REFLECTION_FILES = ['grpc/reflection/v1/reflection.proto', 'grpc/reflection/v1alpha/reflection.proto'];
const REFLECTION_SERVICES = ['grpc.reflection.v1.ServerReflection', 'grpc.reflection.v1alpha.ServerReflection'];

/** Services every GrpcServer serves besides its own: health checking, and reflection itself. */
const PLATFORM_FILES = ['health/v1/health.proto', ...REFLECTION_FILES];
const PLATFORM_SERVICES = ['grpc.health.v1.Health', ...REFLECTION_SERVICES];

/**
 * The options @grpc/reflection loads its own protos with (its PROTO_LOADER_OPTS): the requests
 * its implementation reads must decode as it expects them.
 */
const REFLECTION_LOADER_OPTIONS: protoLoader.Options = { longs: String, enums: String, bytes: Array, defaults: true, oneofs: true };

type StreamHandler = (call: grpc.ServerDuplexStream<unknown, unknown>) => void;

/**
 * The reflection implementation, built from the files: the files' descriptors for every
 * service named, indexed once. Given one entry of the loaded definition: every type of one
 * load carries the descriptors of all of its files, which the reflection service decodes once
 * per entry it is given (thousands of Kubernetes messages would cost it seconds).
 */
function buildReflection(files: readonly string[], services: readonly string[]): Map<string, StreamHandler> {
  const definition = protoLoader.loadSync([...files, ...PLATFORM_FILES], {
    includeDirs: [PROTO_DIR, HEALTH_PROTO_DIR, REFLECTION_PROTO_DIR],
    keepCase: true,
  });
  const entry = Object.entries(definition).find(([, d]) => 'fileDescriptorProtos' in d);
  if (entry === undefined) throw new Error('reflection: the files define no message');
  // Loaded here, on first use, rather than with the gateway: it is a fifth of a second of start.
  const { ReflectionService: Reflection } = require('@grpc/reflection') as { ReflectionService: typeof ReflectionService };
  const reflection = new Reflection({ [entry[0]]: entry[1] } as unknown as ConstructorParameters<typeof ReflectionService>[0], {
    services: [...services, ...PLATFORM_SERVICES],
  });
  const handlers = new Map<string, StreamHandler>();
  reflection.addToServer({
    addService: (service, implementation) => {
      for (const [method, def] of Object.entries(service)) handlers.set(def.path, implementation[method] as StreamHandler);
    },
  });
  return handlers;
}

/**
 * Adds the reflection services to `server`, describing `services` (fully qualified names) and
 * the port's health and reflection services from the files of proto/ named in `files` (paths
 * relative to it) and what they import. Only the services named are listed, although the
 * files may define more (resources.proto imports watch.proto, whose Watch service the gateway
 * does not serve).
 *
 * The descriptors are built on the first reflection call, not at start: they cover most
 * Kubernetes messages, which cost the gateway's start most of a second for a tool that is
 * seldom used. That first call waits for them (a few hundred milliseconds); every later call
 * answers from them.
 */
export function serveReflection(server: GrpcServer, files: readonly string[], services: readonly string[]): void {
  const protocol = protoLoader.loadSync(REFLECTION_FILES, { includeDirs: [REFLECTION_PROTO_DIR], ...REFLECTION_LOADER_OPTIONS });
  let handlers: Map<string, StreamHandler> | undefined;
  for (const name of REFLECTION_SERVICES) {
    const service = protocol[name] as grpc.ServiceDefinition;
    const implementation = Object.fromEntries(
      Object.entries(service).map(([method, def]) => [
        method,
        (call: grpc.ServerDuplexStream<unknown, unknown>) => {
          handlers ??= buildReflection(files, services);
          handlers.get(def.path)!(call);
        },
      ]),
    );
    server.addSelfServedServices((s) => s.addService(service, implementation));
  }
}
