/**
 * A gRPC server reflection client written against the reflection protos @grpc/reflection ships
 * (grpc.reflection.v1 and v1alpha), as grpcurl uses them: one bidirectional stream, one
 * response per request, file descriptors decoded with protobufjs' descriptor.proto.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type protobuf from 'protobufjs';

const require = createRequire(import.meta.url);
const REFLECTION_PROTO_DIR = path.join(path.dirname(require.resolve('@grpc/reflection/package.json')), 'build', 'proto');
const descriptorTypes = require('protobufjs/ext/descriptor') as { FileDescriptorProto: protobuf.Type };

export type ReflectionVersion = 'v1' | 'v1alpha';

/** google.protobuf.FileDescriptorProto as protobufjs decodes it (the parts the tests read). */
export interface FileDescriptor {
  name: string;
  package?: string;
  dependency?: string[];
  messageType?: { name: string; field?: { name: string; number: number; typeName?: string; label?: number }[] }[];
  service?: { name: string; method?: { name: string; inputType: string; outputType: string; serverStreaming?: boolean }[] }[];
}

interface ReflectionResponse {
  listServicesResponse?: { service: { name: string }[] };
  fileDescriptorResponse?: { fileDescriptorProto: Buffer[] };
  errorResponse?: { errorCode: number; errorMessage: string };
}

type ReflectionStream = grpc.ClientDuplexStream<Record<string, unknown>, ReflectionResponse>;

/** A reflection client of one version over one stream; close() ends it. */
export class ReflectionClient {
  readonly #client: grpc.Client;
  readonly #stream: ReflectionStream;
  readonly #pending: { resolve: (r: ReflectionResponse) => void; reject: (e: Error) => void }[] = [];

  constructor(address: string, version: ReflectionVersion, credentials = grpc.credentials.createInsecure()) {
    const definition = protoLoader.loadSync(`grpc/reflection/${version}/reflection.proto`, { includeDirs: [REFLECTION_PROTO_DIR], defaults: true, oneofs: true });
    const pkg = grpc.loadPackageDefinition(definition) as unknown as {
      grpc: { reflection: Record<ReflectionVersion, { ServerReflection: grpc.ServiceClientConstructor }> };
    };
    this.#client = new pkg.grpc.reflection[version].ServerReflection(address, credentials);
    this.#stream = (this.#client as unknown as { ServerReflectionInfo(): ReflectionStream }).ServerReflectionInfo();
    this.#stream.on('data', (r: ReflectionResponse) => this.#pending.shift()?.resolve(r));
    this.#stream.on('error', (e: Error) => {
      for (const p of this.#pending.splice(0)) p.reject(e);
    });
  }

  #ask(request: Record<string, unknown>): Promise<ReflectionResponse> {
    return new Promise((resolve, reject) => {
      this.#pending.push({ resolve, reject });
      this.#stream.write({ host: '', ...request });
    });
  }

  /** The names of the services the server lists. */
  async listServices(): Promise<string[]> {
    const r = await this.#ask({ listServices: '' });
    if (r.listServicesResponse === undefined) throw new Error(`listServices: ${JSON.stringify(r.errorResponse)}`);
    return r.listServicesResponse.service.map((s) => s.name);
  }

  /** The file defining `symbol`, then the files it depends on (as the server sends them). */
  async fileContainingSymbol(symbol: string): Promise<FileDescriptor[]> {
    return this.#files(await this.#ask({ fileContainingSymbol: symbol }));
  }

  async fileByFilename(name: string): Promise<FileDescriptor[]> {
    return this.#files(await this.#ask({ fileByFilename: name }));
  }

  /** The error answer (code, message) to a request for `symbol`, or undefined when it was found. */
  async symbolError(symbol: string): Promise<{ errorCode: number; errorMessage: string } | undefined> {
    return (await this.#ask({ fileContainingSymbol: symbol })).errorResponse;
  }

  #files(r: ReflectionResponse): FileDescriptor[] {
    if (r.fileDescriptorResponse === undefined) throw new Error(`no file: ${JSON.stringify(r.errorResponse)}`);
    return r.fileDescriptorResponse.fileDescriptorProto.map(
      (bytes) => descriptorTypes.FileDescriptorProto.toObject(descriptorTypes.FileDescriptorProto.decode(bytes), { defaults: false }) as FileDescriptor,
    );
  }

  close(): void {
    this.#stream.end();
    this.#client.close();
  }
}
