/**
 * Storage over gRPC: the same interface as the backends, for the other services.
 */
import type * as grpc from '@grpc/grpc-js';
import { clientSettings, unary, type ClientOptions } from '../../../lib/grpc/client.ts';
import { MultiplexedClient } from '../../../lib/grpc/exchange-client.ts';
import { parseObjectBytes, objectBytes, type KubeObject } from '../../../lib/kube.ts';
import { loadApiProto } from '../../../lib/proto.ts';
import type { StorageClient as GeneratedStorageClient } from '../../../lib/gen/apiserver/v1/Storage.ts';
import { STORAGE_MAX_CALL_BYTES } from './server.ts';
import type { DeleteResult, EventsOptions, EventsResult, GetOptions, HistoryEvent, ListOptions, ListResult, Preconditions, Storage, StorageRef } from '../api.ts';

/**
 * The small, frequent calls (create, get, update, delete, currentRevision) go over one
 * multiplexed Exchange stream, which costs both sides far less per call than a unary call;
 * list and events answers can be large, so they keep unary calls of their own.
 */
export class StorageClient implements Storage {
  readonly client: GeneratedStorageClient;
  private readonly mux: MultiplexedClient<GeneratedStorageClient>;

  constructor(address: string, options: ClientOptions) {
    const { credentials, channelOptions } = clientSettings(options);
    const proto = loadApiProto();
    this.client = new proto.apiserver.v1.Storage(address, credentials, channelOptions);
    this.mux = new MultiplexedClient(this.client, 'apiserver.v1.Storage', options.telemetry, { maxRequestBytes: STORAGE_MAX_CALL_BYTES });
  }

  private ref(ref: StorageRef) {
    return { group: ref.group, resource: ref.resource, namespace: ref.namespace, name: ref.name };
  }

  async create(ref: StorageRef, object: KubeObject, signal?: AbortSignal): Promise<KubeObject> {
    const res = await this.mux.call('create', { ref: this.ref(ref), object: objectBytes(object) }, { signal });
    return parseObjectBytes(res.object);
  }

  async get(ref: StorageRef, options: GetOptions = {}, signal?: AbortSignal): Promise<KubeObject> {
    const res = await this.mux.call('get', { ref: this.ref(ref), resourceVersion: options.resourceVersion ?? '' }, { signal });
    return parseObjectBytes(res.object);
  }

  async list(ref: StorageRef, options: ListOptions = {}, signal?: AbortSignal): Promise<ListResult> {
    const res = await unary(this.client, 'list',
      {
        ref: this.ref(ref),
        options: {
          limit: options.limit ?? 0,
          continue: options.continue ?? '',
          resourceVersion: options.resourceVersion ?? '',
          resourceVersionMatch: options.resourceVersionMatch ?? '',
          labelSelector: options.labelSelector ?? '',
          fieldSelector: options.fieldSelector ?? '',
        },
      },
      { signal },
    );
    const result: ListResult = {
      items: res.items.map(parseObjectBytes),
      resourceVersion: res.resourceVersion,
      continue: res.continue,
    };
    const remaining = Number(res.remainingItemCount);
    if (remaining >= 0 && res.continue !== '') result.remainingItemCount = remaining;
    return result;
  }

  async update(ref: StorageRef, object: KubeObject, signal?: AbortSignal): Promise<KubeObject> {
    const res = await this.mux.call('update', { ref: this.ref(ref), object: objectBytes(object) }, { signal });
    return parseObjectBytes(res.object);
  }

  async delete(ref: StorageRef, preconditions: Preconditions = {}, signal?: AbortSignal): Promise<DeleteResult> {
    const res = await this.mux.call(
      'delete',
      { ref: this.ref(ref), preconditions: { uid: preconditions.uid ?? '', resourceVersion: preconditions.resourceVersion ?? '' } },
      { signal },
    );
    return { object: parseObjectBytes(res.object), pending: res.pending };
  }

  async events(ref: Pick<StorageRef, 'group' | 'resource'>, options: EventsOptions, signal?: AbortSignal): Promise<EventsResult> {
    const res = await unary(
      this.client,
      'events',
      { group: ref.group, resource: ref.resource, fromRevision: options.fromRevision, toRevision: options.toRevision ?? '', limit: options.limit ?? 0 },
      { signal },
    );
    return {
      events: res.events.map((e) => ({
        type: e.type as HistoryEvent['type'],
        revision: Number(e.revision),
        namespace: e.namespace,
        name: e.name,
        object: parseObjectBytes(e.object),
        prevObject: e.prevObject.length === 0 ? undefined : parseObjectBytes(e.prevObject),
      })),
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
    (this.client as grpc.Client).close();
  }
}
