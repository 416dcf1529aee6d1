/**
 * The namespaces NamespaceLifecycle decides by, as kube's plugin reads them from a namespace
 * informer instead of from storage on every create: a cache fed by the watch service (a
 * watch-list, then changes; lib/informer.ts), holding of each namespace only what the plugin
 * looks at. And the short-lived set of names kube's plugin reads live for a while after a
 * delete (its forceLiveLookupCache), so that a cache a moment behind cannot let a create into
 * a namespace being deleted.
 */
import { Informer, type WatchSource } from '../../../lib/informer.ts';
import { isPlainObject, type KubeObject } from '../../../lib/kube.ts';
import type { Logger } from '../../../lib/log.ts';

/** What NamespaceLifecycle needs of a namespace. */
export interface NamespaceState {
  /** status.phase ("" when not set). */
  phase: string;
  /** Whether metadata.deletionTimestamp is set (null is Go's nil: not set). */
  deleting: boolean;
}

/** The state of a namespace object, cached or read live. */
export function namespaceState(namespace: KubeObject): NamespaceState {
  const phase = isPlainObject(namespace.status) ? namespace.status.phase : undefined;
  const deletionTimestamp: unknown = namespace.metadata?.deletionTimestamp;
  return { phase: typeof phase === 'string' ? phase : '', deleting: deletionTimestamp !== undefined && deletionTimestamp !== null };
}

/** Whether creates in a namespace in `state` are refused: it is Terminating, or marked for deletion. */
export function isTerminating(state: NamespaceState): boolean {
  return state.phase === 'Terminating' || state.deleting;
}

/** The namespaces as a cache holds them (kube's NamespaceLister and its informer's HasSynced). */
export interface NamespaceLister {
  /** The namespace as last seen, or undefined when the cache has not seen it (or saw it go). */
  get(name: string): NamespaceState | undefined;
  /** Whether the first list is in. */
  synced(): boolean;
  /** Resolves true once the first list is in; false when `ms` pass, `signal` aborts or the cache stops first. */
  waitForSync(ms: number, signal?: AbortSignal): Promise<boolean>;
}

export interface NamespaceCacheOptions {
  /** The watch service (its gRPC client, or the service itself in a single process). */
  source: WatchSource;
  logger: Logger;
  /** The first pause after a failed watch (the informer's default when absent). */
  retryMs?: number;
  /**
   * The longest pause between watches that keep failing (default 5 s, shorter than the
   * informer's own): while no watch runs the cache does not move, and a create waits for the
   * first list.
   */
  maxRetryMs?: number;
}

/** The default of NamespaceCacheOptions.maxRetryMs. */
const MAX_RETRY_MS = 5_000;

/** Of a namespace only what namespaceState reads is kept, even while a list comes in. */
function lifecycleOnly(object: KubeObject): KubeObject {
  const meta = isPlainObject(object.metadata) ? object.metadata : {};
  const status = isPlainObject(object.status) ? object.status : {};
  return { metadata: { name: meta.name, deletionTimestamp: meta.deletionTimestamp }, status: { phase: status.phase } };
}

function nameOf(object: KubeObject): string {
  const name = object.metadata?.name;
  return typeof name === 'string' ? name : '';
}

/**
 * Every namespace, followed through the watch service until stopped. Between a relist's start
 * and its end the previous contents stay (the list replaces them whole), as an informer's
 * store does.
 */
export class NamespaceCache implements NamespaceLister {
  private readonly informer: Informer;
  private byName = new Map<string, NamespaceState>();

  constructor(options: NamespaceCacheOptions) {
    this.informer = new Informer({
      source: options.source,
      target: { group: '', version: 'v1', resource: 'namespaces', namespace: '' },
      logger: options.logger,
      retryMs: options.retryMs,
      maxRetryMs: options.maxRetryMs ?? MAX_RETRY_MS,
      project: lifecycleOnly,
      handlers: {
        replace: (objects) => {
          const next = new Map<string, NamespaceState>();
          for (const object of objects) {
            const name = nameOf(object);
            if (name !== '') next.set(name, namespaceState(object));
          }
          this.byName = next;
        },
        event: (type, object) => {
          const name = nameOf(object);
          if (name === '') return;
          if (type === 'DELETED') this.byName.delete(name);
          else this.byName.set(name, namespaceState(object));
        },
      },
    });
  }

  /** Starts following (once). */
  start(): this {
    this.informer.start();
    return this;
  }

  get(name: string): NamespaceState | undefined {
    return this.byName.get(name);
  }

  synced(): boolean {
    return this.informer.synced();
  }

  async waitForSync(ms: number, signal?: AbortSignal): Promise<boolean> {
    if (this.synced()) return true;
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    const giveUp = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, ms);
      onAbort = resolve;
      signal?.addEventListener('abort', onAbort, { once: true });
    });
    try {
      await Promise.race([this.informer.whenSynced(), giveUp]);
    } finally {
      clearTimeout(timer);
      if (onAbort !== undefined) signal?.removeEventListener('abort', onAbort);
    }
    return this.synced();
  }

  /** The namespaces known (tests, logs). */
  get size(): number {
    return this.byName.size;
  }

  /** Stops following; resolves when the watch has ended. */
  async stop(): Promise<void> {
    await this.informer.stop();
  }
}

/**
 * A set of names that each leave it `ttlMs` after they were added, holding at most `capacity`
 * (the least recently used goes first): kube's LRUExpireCache as its NamespaceLifecycle uses it.
 */
export class ExpiringNames {
  private readonly capacity: number;
  private readonly ttlMs: number;
  private readonly now: () => number;
  /** Name -> when it expires; Map order is the order of use, the least recent first. */
  private readonly expiries = new Map<string, number>();

  constructor(capacity: number, ttlMs: number, now: () => number = Date.now) {
    this.capacity = capacity;
    this.ttlMs = ttlMs;
    this.now = now;
  }

  add(name: string): void {
    this.expiries.delete(name);
    this.expiries.set(name, this.now() + this.ttlMs);
    while (this.expiries.size > this.capacity) {
      const oldest = this.expiries.keys().next();
      if (oldest.done === true) break;
      this.expiries.delete(oldest.value);
    }
  }

  /** Whether `name` is in the set and not expired; a hit counts as a use. */
  has(name: string): boolean {
    const expiry = this.expiries.get(name);
    if (expiry === undefined) return false;
    this.expiries.delete(name);
    if (this.now() >= expiry) return false;
    this.expiries.set(name, expiry);
    return true;
  }
}
