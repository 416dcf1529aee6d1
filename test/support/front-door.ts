/**
 * The gateway's real front doors (HTTPS REST and typed gRPC) over a pipeline a test builds in
 * process: loopback, free ports, no periodic repair passes, a short shutdown grace.
 */
import assert from 'node:assert/strict';
import { GrpcServer } from '../../lib/grpc/serve.ts';
import type { KindRegistry } from '../../lib/kinds/index.ts';
import type { Logger } from '../../lib/log.ts';
import type { Telemetry } from '../../lib/tracing.ts';
import type { RequestObservers } from '../../services/gateway/core/observe.ts';
import type { Pipeline } from '../../services/gateway/core/pipeline.ts';
import { startFrontDoor, type FrontDoor } from '../../services/gateway/front-door.ts';
import { RESOURCES_MAX_REQUEST_BYTES } from '../../services/gateway/grpc/server.ts';

export interface TestFrontDoorOptions {
  pipeline: Pipeline;
  registry: KindRegistry;
  telemetry: Telemetry;
  logger: Logger;
  /** The gateway's state directory (its pki/). */
  dataDir: string;
  clientCaFile?: string;
  observers?: RequestObservers;
}

export interface TestFrontDoor {
  frontDoor: FrontDoor;
  grpcServer: GrpcServer;
  /** The HTTPS port on 127.0.0.1. */
  port: number;
  /** host:port of the typed gRPC API. */
  grpcAddress: string;
  stop(): Promise<void>;
}

export async function startTestFrontDoor(o: TestFrontDoorOptions): Promise<TestFrontDoor> {
  const grpcServer = new GrpcServer({ name: 'gateway', telemetry: o.telemetry, logger: o.logger, maxReceiveMessageBytes: RESOURCES_MAX_REQUEST_BYTES });
  const frontDoor = await startFrontDoor({
    pipeline: o.pipeline,
    registry: o.registry,
    telemetry: o.telemetry,
    logger: o.logger,
    dataDir: o.dataDir,
    httpsListen: '127.0.0.1:0',
    tlsSans: ['127.0.0.1'],
    shutdownGraceMs: 1_000,
    grpcServer,
    allocationRepairIntervalMs: 0,
    ...(o.clientCaFile === undefined ? {} : { clientCaFile: o.clientCaFile }),
    ...(o.observers === undefined ? {} : { observers: o.observers }),
  });
  const address = frontDoor.https.address();
  assert.ok(address !== null && typeof address === 'object');
  const grpcAddress = `127.0.0.1:${await grpcServer.listen('127.0.0.1:0')}`;
  return {
    frontDoor,
    grpcServer,
    port: address.port,
    grpcAddress,
    stop: async () => {
      await frontDoor.stop();
      await grpcServer.shutdown(1_000);
    },
  };
}
