/**
 * The watch service over gRPC, as a Watcher for the gateway.
 */
import { clientSettings, serverStream, type ClientOptions } from '../../../lib/grpc.ts';
import { loadApiProto } from '../../../lib/proto.ts';
import type { WatchClient as GeneratedWatchClient } from '../../../lib/gen/apiserver/v1/Watch.ts';
import type { WatchEvent } from '../core/watch-cache.ts';
import type { Watcher, WatchOptions, WatchTarget } from '../core/watch-service.ts';

const TYPES = new Set(['ADDED', 'MODIFIED', 'DELETED', 'BOOKMARK', 'ERROR']);

export class WatchClient implements Watcher {
  private readonly client: GeneratedWatchClient;

  constructor(address: string, options: ClientOptions) {
    const { credentials, channelOptions } = clientSettings(options);
    this.client = new (loadApiProto().apiserver.v1.Watch)(address, credentials, channelOptions);
  }

  async *watch(target: WatchTarget, options: WatchOptions, signal: AbortSignal): AsyncGenerator<WatchEvent> {
    const request = {
      ref: { group: target.group, version: target.version, resource: target.resource, namespace: target.namespace, name: '' },
      options: {
        labelSelector: options.labelSelector ?? '',
        fieldSelector: options.fieldSelector ?? '',
        resourceVersion: options.resourceVersion ?? '',
        resourceVersionMatch: options.resourceVersionMatch ?? '',
        allowWatchBookmarks: options.allowWatchBookmarks ?? false,
        sendInitialEvents: options.sendInitialEvents ?? false,
        timeoutSeconds: options.timeoutSeconds ?? 0,
      },
    };
    for await (const m of serverStream(this.client, 'watch', request, { signal })) {
      if (!TYPES.has(m.type)) continue;
      yield { type: m.type as WatchEvent['type'], object: m.object, resourceVersion: m.resourceVersion };
    }
  }

  close(): void {
    this.client.close();
  }
}
