/**
 * The admission process: the built-in chain, served over gRPC. It reads namespaces through the
 * storage service (NamespaceLifecycle).
 */
import { runService } from '../../lib/service-main.ts';
import { loadApiProto } from '../../lib/proto.ts';
import { builtinRegistry } from '../../lib/kinds/index.ts';
import { StorageClient } from '../storage/grpc/client.ts';
import { AdmissionChain } from './core/chain.ts';
import { generatedSchemaValidator } from '../../lib/kinds/validate.ts';
import { NamespaceLifecycle, ObjectMetaValidation, SchemaValidation, SystemFieldsPlugin } from './core/plugins.ts';
import { ADMISSION_MAX_REQUEST_BYTES, admissionHandlers } from './grpc/server.ts';

const FLAGS = [
  { flag: 'listen', env: 'ADMISSION_LISTEN', default: '127.0.0.1:50063', description: 'gRPC listen address' },
  { flag: 'storage-address', env: 'STORAGE_ADDRESS', default: '127.0.0.1:50061', description: 'the storage service' },
] as const;

await runService('admission', FLAGS, { maxReceiveMessageBytes: ADMISSION_MAX_REQUEST_BYTES }, async ({ config, logger, telemetry, tls, server, onStop }) => {
  const registry = builtinRegistry();
  const storage = new StorageClient(config['storage-address'], { telemetry, tls });
  onStop(() => storage.close());
  const chain = new AdmissionChain(
    [new SystemFieldsPlugin(registry)],
    [new ObjectMetaValidation(registry), new SchemaValidation(registry, generatedSchemaValidator()), new NamespaceLifecycle(storage, registry)],
    // Every request's objects are decoded anew by the gRPC server.
    { ownsRequestObjects: true },
  );
  server.addService('apiserver.v1.Admission', loadApiProto().apiserver.v1.Admission.service, admissionHandlers(chain));
  const port = await server.listen(config.listen);
  logger.info('serving', { port });
});
