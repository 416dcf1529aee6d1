/**
 * Storage over gRPC: the same interface as the backends, for the other services.
 */
import type { ClientOptions } from '../../../lib/grpc/client.ts';
import { MultiplexedClient } from '../../../lib/grpc/exchange-client.ts';
import { generatedReplicas, replicaUnary, type ReplicaSet } from '../../../lib/grpc/replicas.ts';
import { parseEncodedObject, objectBytes, type KubeObject } from '../../../lib/kube.ts';
import { loadApiProto } from '../../../lib/proto.ts';
import type { StorageClient as GeneratedStorageClient } from '../../../lib/gen/apiserver/v1/Storage.ts';
import type { DeleteOptions, DeleteResult, EventsOptions, EventsResult, GetOptions, ListOptions, ListResult, Preconditions, Storage, StorageRef, UpdateOptions } from '../api.ts';
import { historyEventFromProto, listOptionsToProto, listResultFromProto, preconditionsToProto, refToProto, STORAGE_MAX_CALL_BYTES } from './codec.ts';

const asIs = (client: GeneratedStorageClient): GeneratedStorageClient => client;

/**
 * The small, frequent calls (create, get, update, delete, currentRevision) go over one
 * multiplexed Exchange stream per storage replica, which costs both sides far less per call
 * than a unary call; list and events answers can be large, so they keep unary calls of their
 * own. Calls spread over the replicas (lib/grpc/replicas.ts).
 *
 * The objects answered keep the JSON they were parsed from (parseEncodedObject: the server
 * writes every object with objectBytes), so that the gateway can send an unchanged one as it is.
 */
export class StorageClient implements Storage {
  /** The storage replicas, one generated client each. */
  readonly replicas: ReplicaSet<GeneratedStorageClient>;
  private readonly mux: MultiplexedClient<GeneratedStorageClient>;

  /** `address`: one or more storage replicas, comma-separated `host:port` (a DNS name stands for every address it resolves to). */
  constructor(address: string, options: ClientOptions) {
    const Storage = loadApiProto().apiserver.v1.Storage;
    this.replicas = generatedReplicas(Storage, address, options);
    this.mux = new MultiplexedClient(this.replicas, 'apiserver.v1.Storage', options.telemetry, { maxRequestBytes: STORAGE_MAX_CALL_BYTES, service: Storage.service });
  }

  async create(ref: StorageRef, object: KubeObject, signal?: AbortSignal): Promise<KubeObject> {
    const res = await this.mux.call('create', { ref: refToProto(ref), object: objectBytes(object) }, { signal });
    return parseEncodedObject(res.object);
  }

  async get(ref: StorageRef, options: GetOptions = {}, signal?: AbortSignal): Promise<KubeObject> {
    const res = await this.mux.call('get', { ref: refToProto(ref), resourceVersion: options.resourceVersion ?? '' }, { signal });
    return parseEncodedObject(res.object);
  }

  async list(ref: StorageRef, options: ListOptions = {}, signal?: AbortSignal): Promise<ListResult> {
    const res = await replicaUnary(this.replicas, asIs, 'list', { ref: refToProto(ref), options: listOptionsToProto(options) }, { signal });
    return listResultFromProto(res);
  }

  async update(ref: StorageRef, object: KubeObject, signal?: AbortSignal, options: UpdateOptions = {}): Promise<KubeObject> {
    const res = await this.mux.call('update', { ref: refToProto(ref), object: objectBytes(object), deletion: options.deletion === true }, { signal });
    return parseEncodedObject(res.object);
  }

  async delete(ref: StorageRef, preconditions: Preconditions = {}, signal?: AbortSignal, options: DeleteOptions = {}): Promise<DeleteResult> {
    const res = await this.mux.call('delete', { ref: refToProto(ref), preconditions: preconditionsToProto(preconditions), finalizersRemoved: options.finalizersRemoved === true }, { signal });
    return { object: parseEncodedObject(res.object), pending: res.pending };
  }

  async events(ref: Pick<StorageRef, 'group' | 'resource'>, options: EventsOptions, signal?: AbortSignal): Promise<EventsResult> {
    const res = await replicaUnary(
      this.replicas,
      asIs,
      'events',
      { group: ref.group, resource: ref.resource, fromRevision: options.fromRevision, toRevision: options.toRevision ?? '', limit: options.limit ?? 0 },
      { signal },
    );
    return {
      events: res.events.map(historyEventFromProto),
      resourceVersion: res.resourceVersion,
      more: res.more,
    };
  }

  async currentRevision(signal?: AbortSignal): Promise<string> {
    const res = await this.mux.call('currentRevision', {}, { signal });
    return res.resourceVersion;
  }

  close(): void {
    this.mux.close();
    this.replicas.close();
  }
}
