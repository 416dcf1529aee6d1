/**
 * The watch service's contract, as its callers (the gateway) see it: what a watch names, the
 * options it takes, the events it yields and the errors it ends with. The service's core
 * (core/watch-service.ts) and its gRPC client (grpc/client.ts) both implement Watcher; another
 * service reaches the watch service only through this module and grpc/client.ts.
 */
import { StatusError } from '../../lib/errors.ts';
import { checkWatchOptions, type WatchOptions } from '../../lib/list-options.ts';
import { createObjectFilter, type ObjectFilter, type SelectableFields } from '../../lib/selectors.ts';

export type { WatchOptions };

/** What a watch watches: one resource, in one namespace or all of them. */
export interface WatchTarget {
  group: string;
  version: string;
  resource: string;
  /** "" for all namespaces or a cluster-scoped resource. */
  namespace: string;
}

/** One event as a watcher receives it. The JSON of an object is made once for all watchers. */
export interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  /** The object's JSON bytes, shared by every watcher that receives this event. */
  object: Buffer;
  /** The revision this event brings the watcher to ("" for ERROR). */
  resourceVersion: string;
  /**
   * W3C traceparent of the write that made this change (the watch service's span for its
   * changefeed message), for delivery spans linked to that write; absent when unknown, and
   * for listed objects, bookmarks and errors.
   */
  traceparent?: string | undefined;
}

/** What the watch service offers; the gRPC server and in-process callers use it alike. */
export interface Watcher {
  /**
   * Yields the events of one watch until it ends: by `signal`, by timeoutSeconds, by shutdown,
   * or with a terminal ERROR event (410 Expired when the requested revision is too old).
   * Rejects (before any event) with BadRequest / NotFound for a bad request, and with a
   * SlowWatcherError when the watch is dropped because its consumer fell behind.
   */
  watch(target: WatchTarget, options: WatchOptions, signal: AbortSignal): AsyncIterable<WatchEvent>;
}

/** The annotation of the BOOKMARK that ends a watch-list's initial events. */
export const INITIAL_EVENTS_END_ANNOTATION = 'k8s.io/initial-events-end';

/**
 * The error a watcher is dropped with when it does not keep up with its events: a 429
 * TooManyRequests (the WatchClosed of the typed gRPC API carries it as such). Its own class, so
 * that the REST watch path can tell it from other 429s: there, as kube-apiserver's cacher does
 * with an unresponsive watcher, the stream of a dropped watcher just ends, without an ERROR
 * event, and the client watches again from its last resourceVersion.
 */
export class SlowWatcherError extends StatusError {
  /**
   * The cause type that marks the drop in the Status, so that it is still recognized after a
   * gRPC hop (the watch service's WatchClosed to the gateway), apart from other 429s such as a
   * stream's watch limit.
   */
  static readonly CAUSE = 'WatcherTooSlow';

  constructor(queuedOrMessage: number | string) {
    super(
      'TooManyRequests',
      typeof queuedOrMessage === 'string' ? queuedOrMessage : `the watch was closed: its watcher did not keep up with its events (${queuedOrMessage} queued)`,
      { causes: [{ reason: SlowWatcherError.CAUSE, message: 'the watcher did not keep up with its events' }] },
    );
  }

  /** `err` as a SlowWatcherError when it is one that crossed a gRPC hop; otherwise `err`. */
  static recognize<E extends StatusError | undefined>(err: E): E | SlowWatcherError {
    if (err === undefined || err instanceof SlowWatcherError || err.reason !== 'TooManyRequests') return err;
    return err.details?.causes?.some((c) => c.reason === SlowWatcherError.CAUSE) === true ? new SlowWatcherError(err.message) : err;
  }
}

export function slowWatcherError(queued: number): SlowWatcherError {
  return new SlowWatcherError(queued);
}

/** An ERROR event carrying `err` as a Status. */
export function statusEvent(err: StatusError): WatchEvent {
  return { type: 'ERROR', object: Buffer.from(JSON.stringify(err.toStatus())), resourceVersion: '' };
}

/**
 * Checks a watch request the way kube-apiserver does before it starts streaming
 * (checkWatchOptions, shared with every other path), and compiles its filter. Throws
 * BadRequest / Invalid; the gateway calls it too, so a bad request gets an error instead of a
 * stream.
 */
export function validateWatch(target: Pick<WatchTarget, 'namespace'>, selectable: SelectableFields, options: WatchOptions): ObjectFilter {
  checkWatchOptions(selectable, options);
  return createObjectFilter({
    namespace: target.namespace,
    selectable,
    labelSelector: options.labelSelector ?? '',
    fieldSelector: options.fieldSelector ?? '',
  });
}
