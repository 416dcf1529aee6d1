/**
 * @apiserver/client: the API server's typed gRPC API for components written in TypeScript.
 *
 * - `client.kinds.<group>.<version>.<Kinds>`: the typed service of each built-in kind
 *   (`client.kinds.apps.v1.Deployments`, `client.kinds.core.v1.ConfigMaps`), taking and
 *   returning the kind's Kubernetes protobuf message as typed objects (types generated from
 *   proto/ into ./gen by `make gen`).
 * - `client.resources`: the JSON Resources API (apiserver.v1.Resources), for any kind,
 *   custom kinds included; objects are JSON bytes.
 *
 * Every method returns a promise (watch: an async iterable); a refusal is an {@link ApiError}
 * carrying the Kubernetes Status the server sent. One channel serves every service.
 * See ../README.md for an example.
 */
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';
import { KIND_FILES, type KindsPackage } from './kinds.ts';
import type { ResourcesClient } from './gen/apiserver/v1/Resources.ts';
import type { Status__Output as KubeStatus } from './gen/apiserver/v1/Status.ts';
import type { StatusDetails__Output } from './gen/apiserver/v1/StatusDetails.ts';
import type { Status__Output as RpcStatus } from './gen/google/rpc/Status.ts';

/** The repository's proto/ directory, which this workspace package reads at run time. */
export const DEFAULT_PROTO_DIR = fileURLToPath(new URL('../../../proto', import.meta.url));

/** The gateway's default typed API address (its --listen). */
export const DEFAULT_ADDRESS = '127.0.0.1:50051';

export interface ClientOptions {
  /** host:port of the gateway's typed gRPC API (default 127.0.0.1:50051). */
  address?: string;
  /** The bearer token sent with every call (e.g. a line of `make up`'s tokens.csv). */
  token?: string;
  /**
   * Mutual TLS, required when the gateway runs with --grpc-tls-ca/--grpc-tls-cert/--grpc-tls-key:
   * that CA, and a certificate and key it signed (PEM). Plaintext when absent.
   */
  tls?: { ca: string | Buffer; cert: string | Buffer; key: string | Buffer };
  /** Where proto/ is (default: the repository's). */
  protoDir?: string;
  /** Called with each warning of a write (what REST sends as Warning headers). */
  onWarning?: (warning: string) => void;
  /** The deadline of a unary call, in milliseconds (default 30,000). */
  timeoutMs?: number;
}

export interface CallOptions {
  /** Cancels the call (a watch: ends the iteration). */
  signal?: AbortSignal;
  /** This call's deadline in milliseconds; a watch has none unless given one. */
  timeoutMs?: number;
}

/** A Kubernetes Status refusing a call (NotFound, Conflict, Invalid with its causes, ...). */
export class ApiError extends Error {
  /** The Status reason, e.g. "NotFound"; "Unknown" when the server sent none. */
  readonly reason: string;
  /** The HTTP status code the reason stands for, e.g. 404. */
  readonly code: number;
  /** The gRPC status code of the call. */
  readonly grpcCode: grpc.status;
  readonly details: StatusDetails__Output | undefined;

  constructor(message: string, reason: string, code: number, grpcCode: grpc.status, details?: StatusDetails__Output) {
    super(message);
    this.name = 'ApiError';
    this.reason = reason;
    this.code = code;
    this.grpcCode = grpcCode;
    this.details = details;
  }
}

/** Which argument a generated method takes and what it answers (the last overload is `(argument, callback)`). */
type UnaryRequest<F> = F extends (argument: infer R, callback: grpc.requestCallback<infer _>) => grpc.ClientUnaryCall ? R : never;
type UnaryResponse<F> = F extends (argument: infer _, callback: grpc.requestCallback<infer R>) => grpc.ClientUnaryCall ? R : never;
type StreamRequest<F> = F extends (argument: infer R, options?: grpc.CallOptions) => grpc.ClientReadableStream<infer _> ? R : never;
type StreamMessage<F> = F extends (argument: infer _, options?: grpc.CallOptions) => grpc.ClientReadableStream<infer M> ? M : never;
type Method<C, K extends string> = K extends keyof C ? C[K] : never;

/** The promise form of a generated client of the Resources API or of a kind's typed service. */
export interface ServiceClient<C> {
  create(request: UnaryRequest<Method<C, 'Create'>>, options?: CallOptions): Promise<UnaryResponse<Method<C, 'Create'>>>;
  get(request: UnaryRequest<Method<C, 'Get'>>, options?: CallOptions): Promise<UnaryResponse<Method<C, 'Get'>>>;
  list(request: UnaryRequest<Method<C, 'List'>>, options?: CallOptions): Promise<UnaryResponse<Method<C, 'List'>>>;
  update(request: UnaryRequest<Method<C, 'Update'>>, options?: CallOptions): Promise<UnaryResponse<Method<C, 'Update'>>>;
  patch(request: UnaryRequest<Method<C, 'Patch'>>, options?: CallOptions): Promise<UnaryResponse<Method<C, 'Patch'>>>;
  delete(request: UnaryRequest<Method<C, 'Delete'>>, options?: CallOptions): Promise<UnaryResponse<Method<C, 'Delete'>>>;
  /** The events of a watch, until the server ends it, `options.signal` aborts, or the loop breaks. */
  watch(request: StreamRequest<Method<C, 'Watch'>>, options?: CallOptions): AsyncIterable<StreamMessage<Method<C, 'Watch'>>>;
}

/** A package of services as the generated types describe it, with each service as a ServiceClient. */
export type ServiceTree<T> = {
  [K in keyof T as T[K] extends MessageTypeDefinition<object, object> | EnumTypeDefinition ? never : K]: T[K] extends new (...args: never[]) => infer C
    ? ServiceClient<C>
    : ServiceTree<T[K]>;
};

/** The typed services of the built-in kinds: `kinds.apps.v1.Deployments`. */
export type Kinds = ServiceTree<KindsPackage>;

/** The options the types in ./gen were generated with (see the Makefile's client types). */
const LOADER_OPTIONS: protoLoader.Options = { keepCase: false, longs: String, enums: String, oneofs: true, defaults: false };

const STATUS_TYPE_URL = 'type.googleapis.com/apiserver.v1.Status';

/** The HTTP code of a gRPC code, for an error that carries no Status (a transport failure). */
const HTTP_OF_GRPC: Partial<Record<grpc.status, [number, string]>> = {
  [grpc.status.DEADLINE_EXCEEDED]: [504, 'Timeout'],
  [grpc.status.UNAVAILABLE]: [503, 'ServiceUnavailable'],
  [grpc.status.CANCELLED]: [499, 'Cancelled'],
  [grpc.status.UNAUTHENTICATED]: [401, 'Unauthorized'],
  [grpc.status.PERMISSION_DENIED]: [403, 'Forbidden'],
  [grpc.status.RESOURCE_EXHAUSTED]: [429, 'TooManyRequests'],
};

type Loaded = protoLoader.PackageDefinition;

/** A client of the gateway's typed gRPC API; close() when done. */
export class ApiClient {
  /** The JSON Resources API (apiserver.v1.Resources): any kind, objects as JSON bytes. */
  readonly resources: ServiceClient<ResourcesClient>;
  /** The typed service of each built-in kind, e.g. `kinds.core.v1.ConfigMaps`. */
  readonly kinds: Kinds;
  readonly #channel: grpc.Channel;
  readonly #options: ClientOptions;
  readonly #definition: Loaded;

  constructor(options: ClientOptions = {}) {
    this.#options = options;
    const protoDir = options.protoDir ?? DEFAULT_PROTO_DIR;
    this.#definition = protoLoader.loadSync(['apiserver/v1/resources.proto', 'google/rpc/status.proto', ...KIND_FILES], { ...LOADER_OPTIONS, includeDirs: [protoDir] });
    const tls = options.tls;
    const credentials =
      tls === undefined
        ? grpc.credentials.createInsecure()
        : grpc.credentials.createSsl(Buffer.from(tls.ca), Buffer.from(tls.key), Buffer.from(tls.cert));
    this.#channel = new grpc.Channel(options.address ?? DEFAULT_ADDRESS, credentials, {});
    const loaded = grpc.loadPackageDefinition(this.#definition) as unknown as {
      apiserver: { v1: { Resources: grpc.ServiceClientConstructor }; kinds: Record<string, unknown> };
    };
    this.resources = this.#serviceClient(loaded.apiserver.v1.Resources);
    this.kinds = this.#tree(loaded.apiserver.kinds) as Kinds;
  }

  /** Closes the channel; calls in flight fail. */
  close(): void {
    this.#channel.close();
  }

  /** A package's services as ServiceClients, each made on first use. */
  #tree(pkg: Record<string, unknown>): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(pkg)) {
      if (typeof value === 'function' && 'service' in value) {
        let client: ServiceClient<unknown> | undefined;
        Object.defineProperty(out, name, { enumerable: true, get: () => (client ??= this.#serviceClient(value as grpc.ServiceClientConstructor)) });
      } else if (typeof value === 'object' && value !== null && !('format' in value)) {
        out[name] = this.#tree(value as Record<string, unknown>);
      }
    }
    return out;
  }

  #serviceClient<C>(constructor: grpc.ServiceClientConstructor): ServiceClient<C> {
    const client = new constructor('', grpc.credentials.createInsecure(), { channelOverride: this.#channel }) as unknown as Record<string, (...args: unknown[]) => unknown>;
    const unary = (method: string) => (request: unknown, options?: CallOptions) => this.#unary(client, method, request, options);
    return {
      create: unary('Create'),
      get: unary('Get'),
      list: unary('List'),
      update: unary('Update'),
      patch: unary('Patch'),
      delete: unary('Delete'),
      watch: (request: unknown, options?: CallOptions) => this.#stream(client, 'Watch', request, options),
    } as ServiceClient<C>;
  }

  #metadata(): grpc.Metadata {
    const metadata = new grpc.Metadata();
    if (this.#options.token !== undefined) metadata.set('authorization', `Bearer ${this.#options.token}`);
    return metadata;
  }

  #unary(client: Record<string, (...args: unknown[]) => unknown>, method: string, request: unknown, options: CallOptions = {}): Promise<unknown> {
    return new Promise((resolve, reject) => {
      if (options.signal?.aborted === true) {
        reject(this.#error({ code: grpc.status.CANCELLED, details: 'the call was cancelled', metadata: new grpc.Metadata() }));
        return;
      }
      const deadline = Date.now() + (options.timeoutMs ?? this.#options.timeoutMs ?? 30_000);
      let response: unknown;
      const call = client[method]!.call(client, request, this.#metadata(), { deadline }, (err: grpc.ServiceError | null, r: unknown) => {
        if (err === null) response = r;
      }) as grpc.ClientUnaryCall;
      const onAbort = () => call.cancel();
      options.signal?.addEventListener('abort', onAbort, { once: true });
      // The status comes after the answer, with the trailers that carry the warnings.
      call.on('status', (status: grpc.StatusObject) => {
        options.signal?.removeEventListener('abort', onAbort);
        if (status.code !== grpc.status.OK) {
          reject(this.#error(status));
          return;
        }
        for (const w of status.metadata.get('warning')) this.#options.onWarning?.(String(w));
        resolve(response);
      });
    });
  }

  async *#stream(client: Record<string, (...args: unknown[]) => unknown>, method: string, request: unknown, options: CallOptions = {}): AsyncGenerator<unknown> {
    const callOptions = options.timeoutMs === undefined ? {} : { deadline: Date.now() + options.timeoutMs };
    const call = client[method]!.call(client, request, this.#metadata(), callOptions) as grpc.ClientReadableStream<unknown>;
    const onAbort = () => call.cancel();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      for await (const message of call) yield message;
    } catch (err) {
      if (options.signal?.aborted === true) return;
      throw this.#error(err as grpc.StatusObject);
    } finally {
      options.signal?.removeEventListener('abort', onAbort);
      call.cancel();
    }
  }

  /** The ApiError of a failed call: the Kubernetes Status in its details, else one from the gRPC code. */
  #error(status: Pick<grpc.StatusObject, 'code' | 'details' | 'metadata'>): ApiError {
    const [bytes] = status.metadata.get('grpc-status-details-bin');
    if (Buffer.isBuffer(bytes)) {
      const rpc = this.#message<RpcStatus>('google.rpc.Status', bytes);
      const any = rpc.details?.find((d) => d.type_url === STATUS_TYPE_URL);
      if (any?.value !== undefined) {
        const kube = this.#message<KubeStatus>('apiserver.v1.Status', Buffer.from(any.value));
        return new ApiError(kube.message ?? status.details, kube.reason ?? 'Unknown', kube.code ?? 500, status.code, kube.details);
      }
    }
    const [code, reason] = HTTP_OF_GRPC[status.code] ?? [500, 'InternalError'];
    return new ApiError(status.details, reason, code, status.code);
  }

  #message<T>(name: string, bytes: Buffer): T {
    return (this.#definition[name] as MessageTypeDefinition<object, T>).deserialize(bytes);
  }
}
