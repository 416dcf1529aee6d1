/**
 * Loads proto/ at run time (the single source of truth for every RPC). The TypeScript types
 * under lib/gen are generated from the same files by `make gen`.
 */
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import protobuf from 'protobufjs';
import type { ProtoGrpcType as AdmissionProto } from './gen/admission.ts';
import type { ProtoGrpcType as AuthProto } from './gen/auth.ts';
import type { ProtoGrpcType as ResourcesProto } from './gen/resources.ts';
import type { ProtoGrpcType as StorageProto } from './gen/storage.ts';
import type { ProtoGrpcType as WatchProto } from './gen/watch.ts';

export const PROTO_DIR = fileURLToPath(new URL('../proto', import.meta.url));

const FILES = [
  'apiserver/v1/meta.proto',
  'apiserver/v1/storage.proto',
  'apiserver/v1/auth.proto',
  'apiserver/v1/admission.proto',
  'apiserver/v1/watch.proto',
  'apiserver/v1/resources.proto',
  'google/rpc/status.proto',
];

/** The options `make gen` passes to proto-loader-gen-types; the generated types assume them. */
const LOADER_OPTIONS: protoLoader.Options = {
  keepCase: false,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
  includeDirs: [PROTO_DIR],
};

export type ApiProto = AdmissionProto & AuthProto & ResourcesProto & StorageProto & WatchProto;

/** Service definitions and clients of every apiserver.v1 service. */
export function loadApiProto(): ApiProto {
  const definition = protoLoader.loadSync(FILES, LOADER_OPTIONS);
  return grpc.loadPackageDefinition(definition) as unknown as ApiProto;
}

/** The protobufjs root, for the messages encoded by hand (grpc-status-details-bin). */
export function loadProtoRoot(): protobuf.Root {
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => `${PROTO_DIR}/${target}`;
  root.loadSync(['apiserver/v1/meta.proto', 'google/rpc/status.proto']);
  root.resolveAll();
  return root;
}
