/**
 * The watch service over gRPC, as a Watcher for the gateway, spread over any number of watch
 * replicas. Each watch goes to the next replica in turn; when its replica fails (UNAVAILABLE),
 * the watch continues on another one from the last resourceVersion it delivered, so the
 * watcher sees neither a gap nor a duplicate, and no 410 while storage's history reaches back
 * that far.
 */
import { StatusError } from '../../../lib/errors.ts';
import { clientSettings, serverStream, type ClientOptions } from '../../../lib/grpc.ts';
import { loadApiProto } from '../../../lib/proto.ts';
import type { WatchClient as GeneratedWatchClient } from '../../../lib/gen/apiserver/v1/Watch.ts';
import type { WatchEvent } from '../core/watch-cache.ts';
import { INITIAL_EVENTS_END_ANNOTATION, type Watcher, type WatchOptions, type WatchTarget } from '../core/watch-service.ts';

const TYPES = new Set(['ADDED', 'MODIFIED', 'DELETED', 'BOOKMARK', 'ERROR']);

/** Pause before trying the next replica, per failure so far (a restarting fleet is not hammered). */
const RETRY_PAUSE_MS = 100;

export class WatchClient implements Watcher {
  private readonly replicas: GeneratedWatchClient[];
  /** Round-robin position; touched only on the event loop. */
  private next = 0;

  /** `addresses`: one or more watch replicas, comma-separated. */
  constructor(addresses: string, options: ClientOptions) {
    const { credentials, channelOptions } = clientSettings(options);
    const Watch = loadApiProto().apiserver.v1.Watch;
    const list = addresses.split(',').map((a) => a.trim()).filter((a) => a !== '');
    if (list.length === 0) throw new Error('no watch service address');
    this.replicas = list.map((address) => new Watch(address, credentials, channelOptions));
  }

  async *watch(target: WatchTarget, options: WatchOptions, signal: AbortSignal): AsyncGenerator<WatchEvent> {
    const ref = { group: target.group, version: target.version, resource: target.resource, namespace: target.namespace, name: '' };
    const rv = options.resourceVersion ?? '';
    // From an explicit revision every event is a change, so the watch can resume anywhere. A
    // watch that starts with the current state can resume only once that state is delivered:
    // after the initial-events-end bookmark (watch-list); a plain rv "" watch has no marker.
    let resumable = rv !== '' && rv !== '0' && options.sendInitialEvents !== true;
    let lastRevision = rv;
    let delivered = false;
    let failures = 0;
    for (;;) {
      const replica = this.replicas[this.next++ % this.replicas.length] as GeneratedWatchClient;
      const resumed = delivered && resumable;
      const request = {
        ref,
        options: {
          labelSelector: options.labelSelector ?? '',
          fieldSelector: options.fieldSelector ?? '',
          resourceVersion: resumed ? lastRevision : rv,
          resourceVersionMatch: resumed ? '' : (options.resourceVersionMatch ?? ''),
          allowWatchBookmarks: options.allowWatchBookmarks ?? false,
          sendInitialEvents: resumed ? false : (options.sendInitialEvents ?? false),
          timeoutSeconds: options.timeoutSeconds ?? 0,
        },
      };
      try {
        for await (const m of serverStream(replica, 'watch', request, { signal })) {
          if (!TYPES.has(m.type)) continue;
          const event: WatchEvent = { type: m.type as WatchEvent['type'], object: m.object, resourceVersion: m.resourceVersion };
          if (event.type === 'BOOKMARK' && !resumable && event.object.includes(INITIAL_EVENTS_END_ANNOTATION)) resumable = true;
          if (event.resourceVersion !== '') lastRevision = event.resourceVersion;
          delivered = true;
          failures = 0;
          yield event;
        }
        return;
      } catch (err) {
        const unavailable = err instanceof StatusError && err.reason === 'ServiceUnavailable';
        if (!unavailable || signal.aborted || (delivered && !resumable) || ++failures > this.replicas.length * 3) throw err;
        await new Promise((resolve) => setTimeout(resolve, RETRY_PAUSE_MS * failures));
      }
    }
  }

  close(): void {
    for (const replica of this.replicas) replica.close();
  }
}
