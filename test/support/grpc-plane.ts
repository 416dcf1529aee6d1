/**
 * A control plane in a temporary folder with what the gRPC end-to-end tests use: a typed
 * Resources client with the admin token, and a storage client for ground truth (history).
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Metadata } from '@grpc/grpc-js';
import { clientSettings } from '../../lib/grpc/client.ts';
import { startControlPlane, type ControlPlane, type ControlPlaneOptions } from '../../lib/local/control-plane.ts';
import { loadApiProto } from '../../lib/proto.ts';
import { createTelemetry } from '../../lib/tracing.ts';
import type { ResourcesClient } from '../../lib/gen/apiserver/v1/Resources.ts';
import { StorageClient } from '../../services/storage/grpc/client.ts';

export interface GrpcPlane {
  plane: ControlPlane;
  client: ResourcesClient;
  storage: StorageClient;
  /** Metadata carrying the admin token. */
  auth: Metadata;
  stop(): Promise<void>;
}

export async function startGrpcPlane(name: string, options: Omit<ControlPlaneOptions, 'dataDir'> = {}): Promise<GrpcPlane> {
  const dir = await mkdtemp(join(tmpdir(), `e2e-${name}-`));
  const plane = await startControlPlane({ dataDir: dir, logDir: join(dir, 'logs'), ...options });
  const token = (await readFile(join(dir, 'tokens.csv'), 'utf8')).split(',')[0] ?? '';
  const auth = new Metadata();
  auth.set('authorization', `Bearer ${token}`);
  const telemetry = createTelemetry({ serviceName: 'test', env: {} });
  const { credentials, channelOptions } = clientSettings({ telemetry });
  const client = new (loadApiProto().apiserver.v1.Resources)(plane.addresses.gateway, credentials, channelOptions);
  const storage = new StorageClient(plane.addresses.storage, { telemetry });
  return {
    plane,
    client,
    storage,
    auth,
    stop: async () => {
      client.close();
      storage.close();
      await plane.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
