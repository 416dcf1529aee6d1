/**
 * Keeps a KindRegistry in step with the stored CustomResourceDefinitions: list, then watch
 * from the list's revision; ADDED/MODIFIED put the definition's kinds, DELETED removes them.
 * When a watch ends or fails, the follower lists again (after a backoff that grows while
 * failures repeat) and removes what vanished meanwhile, as a client-go reflector relists. Each
 * process follows through what it has: the gateway and admission through storage (list) and
 * the watch service (watch), the watch service through its own cache, storage through its own
 * store and change stream (see the sources below).
 */
import { StatusError } from '../errors.ts';
import { isPlainObject, type KubeObject } from '../kube.ts';
import type { Logger } from '../log.ts';
import { CRD_GROUP, CRD_RESOURCE } from './builtin/customresourcedefinition.ts';
import { kindsOfDefinition } from './custom.ts';
import type { KindRegistry } from './registry.ts';
import { resourceKey, type KindDefinition } from './types.ts';

/** One change of a definition, as a watch delivers it. */
export interface DefinitionEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: KubeObject;
}

/** Where definitions are read from: a consistent list, and a watch from its revision. */
export interface DefinitionSource {
  list(signal: AbortSignal): Promise<{ items: KubeObject[]; resourceVersion: string }>;
  /** Every change after `resourceVersion` until it ends (returns or throws) or `signal` aborts. */
  watch(resourceVersion: string, signal: AbortSignal): AsyncIterable<DefinitionEvent>;
}

export interface FollowOptions {
  registry: KindRegistry;
  source: DefinitionSource;
  logger: Logger;
  /** First pause before a relist after a failure (default 250 ms); doubles up to maxBackoffMs. */
  initialBackoffMs?: number;
  /** Longest pause between relists (default 10 s). */
  maxBackoffMs?: number;
}

interface Served {
  /** The definition's resourceVersion when its kinds were put (an unchanged one is not put again). */
  resourceVersion: string;
  kinds: KindDefinition[];
}

function nameOf(object: KubeObject): string {
  const name = object.metadata?.name;
  return typeof name === 'string' ? name : '';
}

/**
 * Follows the definitions into `registry` until stopped. Owns the kinds it put: built-in
 * kinds are never removed, and a kind the registry refuses (it would replace or share what a
 * built-in kind or another definition's kind has) is logged and skipped, and tried again when
 * a kind goes.
 */
export class DefinitionFollower {
  private readonly o: FollowOptions;
  private readonly served = new Map<string, Served>();
  /**
   * Definitions with a kind the registry refused (it clashed with a kind served), by name:
   * tried again when a kind goes, as kube's naming controller requeues a definition whose
   * names were taken.
   */
  private readonly refused = new Map<string, KubeObject>();
  private retrying = false;
  private readonly controller = new AbortController();
  private readonly done: Promise<void>;
  private markReady!: () => void;
  /** Resolves once the first list has been applied. */
  readonly ready: Promise<void>;

  constructor(options: FollowOptions) {
    this.o = options;
    this.ready = new Promise((resolve) => (this.markReady = resolve));
    this.done = this.run();
  }

  /** Stops following; the kinds put stay in the registry. */
  async stop(): Promise<void> {
    this.controller.abort();
    await this.done;
  }

  /** Waits for the first list, at most `ms`; false when it did not come in time. */
  async readyWithin(ms: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
    try {
      return await Promise.race([this.ready.then(() => true), late]);
    } finally {
      clearTimeout(timer);
    }
  }

  private async run(): Promise<void> {
    const signal = this.controller.signal;
    const initial = this.o.initialBackoffMs ?? 250;
    const max = this.o.maxBackoffMs ?? 10_000;
    let backoff = 0;
    while (!signal.aborted) {
      if (backoff > 0) {
        await pause(backoff, signal);
        if (signal.aborted) return;
      }
      let listed = false;
      try {
        const { items, resourceVersion } = await this.o.source.list(signal);
        this.replaceAll(items);
        listed = true;
        this.markReady();
        for await (const event of this.o.source.watch(resourceVersion, signal)) {
          // An ERROR event (410 Expired: the revision is too old) ends the watch: list again.
          if (event.type === 'ERROR') throw new StatusError('Expired', `the watch of definitions ended: ${String(event.object.message ?? '')}`);
          if (event.type === 'BOOKMARK') continue;
          if (event.type === 'DELETED') this.remove(nameOf(event.object));
          else this.apply(event.object);
          backoff = 0;
        }
        if (signal.aborted) return;
        // A watch that ended cleanly (timeout, a replica going away): list again soon.
        backoff = Math.max(backoff, initial);
      } catch (err) {
        if (signal.aborted) return;
        backoff = backoff === 0 ? initial : Math.min(backoff * 2, max);
        this.o.logger.warn(listed ? 'watch of custom resource definitions failed; listing again' : 'listing custom resource definitions failed', {
          error: err,
          retryInMs: backoff,
        });
      }
    }
  }

  /** A fresh list: every listed definition applied, every one no longer listed removed. */
  private replaceAll(items: readonly KubeObject[]): void {
    const listed = new Set(items.map(nameOf));
    for (const name of [...this.served.keys()]) if (!listed.has(name)) this.remove(name);
    for (const item of items) this.apply(item);
  }

  private apply(crd: KubeObject, again = false): void {
    const name = nameOf(crd);
    if (name === '') return;
    const resourceVersion = typeof crd.metadata?.resourceVersion === 'string' ? crd.metadata.resourceVersion : '';
    const previous = this.served.get(name);
    if (!again && previous !== undefined && resourceVersion !== '' && previous.resourceVersion === resourceVersion && !this.refused.has(name)) return;
    const wanted = kindsOfDefinition(crd);
    const keep = new Set(wanted.map(resourceKey));
    let removed = false;
    for (const old of previous?.kinds ?? []) {
      if (!keep.has(resourceKey(old))) removed = this.o.registry.remove(old.group, old.version, old.resource) || removed;
    }
    const kinds: KindDefinition[] = [];
    let clashed = false;
    for (const kind of wanted) {
      try {
        this.o.registry.put(kind);
        kinds.push(kind);
      } catch (err) {
        clashed = true;
        this.o.logger.warn('a custom resource definition is not served', { name, resource: resourceKey(kind), error: err });
      }
    }
    if (clashed) this.refused.set(name, crd);
    else this.refused.delete(name);
    if (kinds.length === 0) this.served.delete(name);
    else this.served.set(name, { resourceVersion, kinds });
    if (removed) this.retryRefused();
  }

  private remove(name: string): void {
    this.refused.delete(name);
    const served = this.served.get(name);
    if (served === undefined) return;
    this.served.delete(name);
    for (const kind of served.kinds) {
      // Only what this follower put (a built-in kind of the same key was never replaced).
      if (this.o.registry.get(kind.group, kind.version, kind.resource)?.source === 'custom') this.o.registry.remove(kind.group, kind.version, kind.resource);
    }
    this.retryRefused();
  }

  /** Tries the refused definitions again: what they clashed with may be gone. */
  private retryRefused(): void {
    if (this.retrying) return;
    this.retrying = true;
    try {
      for (const crd of [...this.refused.values()]) this.apply(crd, true);
    } finally {
      this.retrying = false;
    }
  }
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

/** The reference of the definitions collection, for storage calls. */
export const DEFINITIONS_REF = Object.freeze({ group: CRD_GROUP, resource: CRD_RESOURCE, namespace: '', name: '' });

/** What a list call of storage (its Storage API, local or over gRPC) gives. */
export interface DefinitionLister {
  list(
    ref: { group: string; resource: string; namespace: string; name: string },
    options: { limit?: number; continue?: string },
    signal?: AbortSignal,
  ): Promise<{ items: KubeObject[]; resourceVersion: string; continue: string }>;
}

/** Every definition at one revision, page by page. */
export async function listDefinitions(storage: DefinitionLister, signal: AbortSignal): Promise<{ items: KubeObject[]; resourceVersion: string }> {
  const items: KubeObject[] = [];
  let resourceVersion = '';
  let token = '';
  do {
    const page = await storage.list(DEFINITIONS_REF, { limit: 500, continue: token }, signal);
    items.push(...page.items);
    if (resourceVersion === '') resourceVersion = page.resourceVersion;
    token = page.continue;
  } while (token !== '');
  return { items, resourceVersion };
}

/** A watch service (its Watcher: in process or the gRPC client), as far as the follower needs it. */
export interface DefinitionWatcher {
  watch(
    target: { group: string; version: string; resource: string; namespace: string },
    options: { resourceVersion?: string; allowWatchBookmarks?: boolean },
    signal: AbortSignal,
  ): AsyncIterable<{ type: string; object: Uint8Array }>;
}

/**
 * The source of the gateway, admission and the watch service: lists from storage, watches
 * through a watch service (the gRPC client over every replica, or the watch service itself).
 */
export function watchedDefinitions(storage: DefinitionLister, watcher: DefinitionWatcher): DefinitionSource {
  return {
    list: (signal) => listDefinitions(storage, signal),
    async *watch(resourceVersion, signal) {
      const target = { group: CRD_GROUP, version: 'v1', resource: CRD_RESOURCE, namespace: '' };
      for await (const event of watcher.watch(target, { resourceVersion }, signal)) {
        const object: unknown = JSON.parse(Buffer.from(event.object).toString('utf8'));
        yield { type: event.type as DefinitionEvent['type'], object: isPlainObject(object) ? (object as KubeObject) : {} };
      }
    },
  };
}

/** One committed change of a store's change stream (storage's CommittedChange), as far as the follower needs it. */
export interface StoredDefinitionChange {
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  revision: number;
  group: string;
  resource: string;
  name: string;
  object?: string | undefined;
  prevObject?: { json: string; revision: number } | undefined;
}

/** A store's change stream (storage's ChangeSource.watchChanges). */
export type ChangeStream = (
  fromRevision: string,
  onChanges: (changes: StoredDefinitionChange[]) => void,
  onError: (err: StatusError) => void,
) => Promise<{ close(): Promise<void> }>;

/**
 * The source of the storage service: lists from its own store and watches its change stream
 * (etcd's watch, or the memory store's log). A stream error ends the watch: the follower lists
 * again.
 */
export function storedDefinitions(storage: DefinitionLister, changes: ChangeStream): DefinitionSource {
  return {
    list: (signal) => listDefinitions(storage, signal),
    async *watch(resourceVersion, signal) {
      const queue: DefinitionEvent[] = [];
      let failure: StatusError | undefined;
      let wake: (() => void) | undefined;
      const notify = () => {
        const w = wake;
        wake = undefined;
        w?.();
      };
      const subscription = await changes(
        resourceVersion,
        (batch) => {
          for (const c of batch) {
            if (c.group !== CRD_GROUP || c.resource !== CRD_RESOURCE) continue;
            const json = c.type === 'DELETED' ? c.prevObject?.json : c.object;
            let object: unknown = {};
            try {
              object = JSON.parse(json ?? '{}');
            } catch {
              // Unparseable stored text: the name still removes or refreshes the definition.
            }
            const parsed: KubeObject = isPlainObject(object) ? (object as KubeObject) : {};
            queue.push({ type: c.type, object: { ...parsed, metadata: { ...parsed.metadata, name: c.name, resourceVersion: String(c.revision) } } });
          }
          notify();
        },
        (err) => {
          failure = err;
          notify();
        },
      );
      const onAbort = () => notify();
      signal.addEventListener('abort', onAbort, { once: true });
      try {
        for (;;) {
          while (queue.length > 0) yield queue.shift() as DefinitionEvent;
          if (signal.aborted) return;
          if (failure !== undefined) throw failure;
          await new Promise<void>((resolve) => (wake = resolve));
        }
      } finally {
        signal.removeEventListener('abort', onAbort);
        await subscription.close();
      }
    },
  };
}
