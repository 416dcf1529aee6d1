/**
 * The watch cache of one resource: the recent changes received from the changefeed, in revision
 * order, and the watchers they are fanned out to.
 *
 * Guarantees: a watcher gets every change after its starting revision exactly once and in
 * revision order, or it is ended with a 410 Expired ERROR event (after which clients relist).
 * A change that the bus lost is detected from the revision stamps (an event whose previous
 * revision is newer than the last one received); the cache then cannot vouch for the gap, so
 * every watcher ends with 410 and the window restarts after the gap.
 *
 * Concurrency: everything here runs on the event loop; `events`, `knownThrough`, `oldest` and
 * `watchers` change only inside synchronous sections, so a watcher registered in the same
 * tick as it reads the window can neither miss nor repeat an event.
 */
import type { ChangeEvent } from '../../../lib/change-event.ts';
import { StatusError } from '../../../lib/errors.ts';
import { withResourceVersion, type KubeObject } from '../../../lib/kube.ts';
import { objectShapeProblem, type GoStruct } from '../../../lib/object-meta.ts';
import type { ObjectFilter } from '../../../lib/selectors.ts';
import type { WatchEvent } from '../api.ts';

/** A cached change with its serialized forms, computed on first use. */
export class CachedChange {
  readonly change: ChangeEvent;
  /** When the cache received it (ms since the epoch), for the time bound of the window. */
  readonly receivedAt: number;
  private objectJson: Buffer | undefined;
  private prevJson: Buffer | undefined;
  /** objectShapeProblem of the object and of the previous one (null: none), once checked. */
  private shapes: [string | null, string | null] | undefined;

  constructor(change: ChangeEvent, receivedAt = 0) {
    this.change = change;
    this.receivedAt = receivedAt;
  }

  get revision(): number {
    return this.change.revision;
  }

  json(): Buffer {
    this.objectJson ??= Buffer.from(JSON.stringify(this.change.object));
    return this.objectJson;
  }

  /**
   * Why the selectors of this resource cannot read the object and the previous object
   * (objectShapeProblem; null when they can), found once for every watcher the change is
   * offered to. `shape`: the fields of the kind the selectors read (the same for every filter
   * of a resource).
   */
  shapeProblems(shape: GoStruct | undefined): [string | null, string | null] {
    if (this.shapes === undefined) {
      const { object, prevObject } = this.change;
      this.shapes = [objectShapeProblem(object, shape) ?? null, prevObject === undefined ? null : (objectShapeProblem(prevObject, shape) ?? null)];
    }
    return this.shapes;
  }

  /** The previous state, stamped with this change's revision (for a synthesized DELETED). */
  prevJsonAtRevision(): Buffer {
    if (this.prevJson === undefined) {
      const prev = this.change.prevObject ?? this.change.object;
      this.prevJson = Buffer.from(JSON.stringify(withResourceVersion(prev, this.change.revision)));
    }
    return this.prevJson;
  }
}

/**
 * How one change looks to a watcher with `filter`, applied to both old and new state as kube's
 * cacher does: starts matching -> ADDED, stops matching -> DELETED (the old state), matches
 * both -> the change itself, matches neither -> nothing. The namespace is the one of the
 * change's key; a state the selectors cannot read (malformed) matches none of them.
 */
export function eventFor(cached: CachedChange, filter: ObjectFilter): WatchEvent | undefined {
  const { change } = cached;
  if (filter.everything) return watchEvent(change.type, cached.json(), change);
  const [objectProblem, prevProblem] = filter.selective ? cached.shapeProblems(filter.shape) : [null, null];
  const now = filter.verdict(change.object, change.namespace, objectProblem) === true;
  if (change.type === 'ADDED') return now ? watchEvent('ADDED', cached.json(), change) : undefined;
  if (change.type === 'DELETED') return now ? watchEvent('DELETED', cached.json(), change) : undefined;
  const before = change.prevObject !== undefined && filter.verdict(change.prevObject, change.namespace, prevProblem) === true;
  if (now && before) return watchEvent('MODIFIED', cached.json(), change);
  if (now) return watchEvent('ADDED', cached.json(), change);
  if (before) return watchEvent('DELETED', cached.prevJsonAtRevision(), change);
  return undefined;
}

/** A change's event of `type`, with the write's trace when the change carries one (for delivery spans). */
function watchEvent(type: WatchEvent['type'], object: Buffer, change: ChangeEvent): WatchEvent {
  const event: WatchEvent = { type, object, resourceVersion: String(change.revision) };
  if (change.traceparent !== undefined) event.traceparent = change.traceparent;
  return event;
}

/** Receives events; `end` closes it with an optional terminal ERROR. */
export interface WatcherSink {
  readonly filter: ObjectFilter;
  /**
   * Kept by the cache while the sink is registered: the revision it has everything up to (it
   * is sent only changes after it). On the sink rather than in a map, to keep a watcher small.
   */
  cacheAfter?: number;
  /** Delivers one change; returns false when the watcher's buffer overflowed (it is then dropped). */
  push(change: CachedChange): boolean;
  end(error?: StatusError): void;
}

export interface WatchCacheOptions {
  /** Changes kept for watchers that resume from an older revision. */
  capacity: number;
  /**
   * Changes older than this (ms) leave the window too, so an idle resource does not hold
   * memory for ever; older resumes are served from storage's history. Default: no time bound.
   */
  maxAgeMs?: number;
  clock?: () => number;
  /**
   * Reads the resource's committed changes in (from, to] from storage's history, in order,
   * to fill a gap the bus left. Rejects with Expired when that history is compacted. Without
   * it, a gap ends every watcher with 410.
   */
  refill?: (from: number, to: number) => Promise<ChangeEvent[]>;
  /** Told of each gap the bus left: refilled from history, or expired (every watcher got 410). */
  onGap?: (outcome: 'refilled' | 'expired') => void;
}

export class WatchCache {
  /** Changes after `oldest`, in revision order; at most `capacity`. */
  private events: CachedChange[] = [];
  /** Every change with a revision in (oldest, knownThrough] is in `events` (or was dropped by capacity, raising `oldest`). */
  private oldest: number;
  private knownThrough: number;
  /**
   * The watchers by the namespace their filter requires ("" for all namespaces, and
   * cluster-scoped resources): a change is offered only to the watchers of its namespace and
   * those of every namespace, as kube's cacher indexes its watchers, so 10,000 one-namespace
   * watchers cost a change one. A namespace with one watcher holds it directly (no Set).
   */
  private readonly watchers = new Map<string, WatcherSink | Set<WatcherSink>>();
  private count = 0;
  /** Changes kept at most (WatchCacheOptions.capacity). */
  readonly capacity: number;
  private readonly maxAgeMs: number;
  private readonly clock: () => number;
  private readonly refill: WatchCacheOptions['refill'];
  private readonly onGap: WatchCacheOptions['onGap'];
  /** While a gap is being refilled, changes from the bus wait here, in arrival order. */
  private held: ChangeEvent[] | undefined;

  /** `startRevision`: the cache is complete for changes after this revision. */
  constructor(startRevision: number, options: WatchCacheOptions) {
    this.oldest = startRevision;
    this.knownThrough = startRevision;
    this.capacity = options.capacity;
    this.maxAgeMs = options.maxAgeMs ?? Infinity;
    this.clock = options.clock ?? Date.now;
    this.refill = options.refill;
    this.onGap = options.onGap;
  }

  /** How many changes the cache holds now. */
  get size(): number {
    return this.events.length;
  }

  /** True while a gap is being refilled from storage. */
  get refilling(): boolean {
    return this.held !== undefined;
  }

  /** The newest revision the cache is complete up to. */
  get revision(): number {
    return this.knownThrough;
  }

  get watcherCount(): number {
    return this.count;
  }

  private add(sink: WatcherSink, after: number): void {
    const namespace = sink.filter.namespace;
    const group = this.watchers.get(namespace);
    if (sink.cacheAfter === undefined) this.count++;
    sink.cacheAfter = after;
    if (group === undefined) this.watchers.set(namespace, sink);
    else if (group instanceof Set) group.add(sink);
    else if (group !== sink) this.watchers.set(namespace, new Set([group, sink]));
  }

  /** Forgets a watcher (nothing more is offered to it). */
  unwatch(sink: WatcherSink): void {
    if (sink.cacheAfter === undefined) return;
    sink.cacheAfter = undefined;
    this.count--;
    const namespace = sink.filter.namespace;
    const group = this.watchers.get(namespace);
    if (group === sink) this.watchers.delete(namespace);
    else if (group instanceof Set) {
      group.delete(sink);
      if (group.size === 1) this.watchers.set(namespace, group.values().next().value as WatcherSink);
    }
  }

  /** Ends every watcher and forgets them all. */
  private endAll(error?: StatusError): void {
    const all: WatcherSink[] = [];
    for (const group of this.watchers.values()) {
      if (group instanceof Set) all.push(...group);
      else all.push(group);
    }
    this.watchers.clear();
    this.count = 0;
    for (const w of all) w.cacheAfter = undefined;
    for (const w of all) w.end(error);
  }

  /**
   * Takes one change from the bus. Duplicates and stale messages are dropped. A gap (the change
   * names a predecessor the cache never received) is refilled from storage's history before
   * anything later is delivered; when it cannot be (no refill, or history compacted), every
   * watcher ends with 410 and the window restarts after the gap.
   */
  receive(change: ChangeEvent): void {
    if (this.held !== undefined) {
      this.held.push(change);
      return;
    }
    if (change.revision <= this.knownThrough) return;
    if (change.prevRevision > this.knownThrough) {
      if (this.refill !== undefined) {
        this.held = [change];
        void this.fill(change.prevRevision, true);
        return;
      }
      this.onGap?.('expired');
      this.expireAll(change.prevRevision);
    }
    this.apply(change);
  }

  /**
   * Brings the cache up to `revision` from storage's history (after the bus reconnected, when
   * messages may have been lost with nothing after them to reveal it).
   */
  catchUp(revision: number): void {
    if (this.held !== undefined || this.refill === undefined || revision <= this.knownThrough) return;
    this.held = [];
    void this.fill(revision, false);
  }

  /** Refills (knownThrough, to], then replays what the bus delivered meanwhile; `gap`: a gap was seen (not a catch-up). */
  private async fill(to: number, gap: boolean): Promise<void> {
    const refill = this.refill as NonNullable<WatchCacheOptions['refill']>;
    try {
      const changes = await refill(this.knownThrough, to);
      for (const change of changes) if (change.revision > this.knownThrough && change.revision <= to) this.apply(change);
      // History up to `to` is complete: nothing else happened on this resource until then.
      this.knownThrough = Math.max(this.knownThrough, to);
      if (gap) this.onGap?.('refilled');
    } catch {
      if (gap) this.onGap?.('expired');
      this.expireAll(to);
    }
    const held = this.held ?? [];
    this.held = undefined;
    for (const change of held) this.receive(change);
  }

  /** Ends every watcher with 410 and restarts the window at `revision`. */
  private expireAll(revision: number): void {
    const err = new StatusError(
      'Expired',
      `too old resource version: ${this.knownThrough} (${revision}): the watch cache missed changes and must be rebuilt`,
    );
    this.endAll(err);
    this.events = [];
    this.oldest = revision;
    this.knownThrough = revision;
  }

  /**
   * Drops changes beyond the capacity (in batches of a tenth, so appending stays O(1)
   * amortised) and changes older than maxAgeMs; `oldest` rises to the last one dropped.
   */
  private trim(now: number): void {
    let drop = 0;
    if (this.events.length > this.capacity) {
      drop = this.events.length - this.capacity + Math.floor(this.capacity / 10);
    }
    const horizon = now - this.maxAgeMs;
    while (drop < this.events.length && (this.events[drop]?.receivedAt ?? Infinity) < horizon) drop++;
    if (drop === 0) return;
    const dropped = this.events.splice(0, Math.min(drop, this.events.length));
    this.oldest = dropped[dropped.length - 1]?.revision ?? this.oldest;
  }

  /** Appends a change that directly follows the window and fans it out. */
  private apply(change: ChangeEvent): void {
    const now = this.clock();
    const cached = new CachedChange(change, now);
    this.events.push(cached);
    this.knownThrough = change.revision;
    this.trim(now);
    this.offer(cached, this.watchers.get(''));
    const namespace = change.namespace;
    if (namespace !== '') this.offer(cached, this.watchers.get(namespace));
  }

  private offer(cached: CachedChange, group: WatcherSink | Set<WatcherSink> | undefined): void {
    if (group === undefined) return;
    if (!(group instanceof Set)) {
      if (cached.revision > (group.cacheAfter ?? Infinity) && !group.push(cached)) this.unwatch(group);
      return;
    }
    for (const w of group) {
      if (cached.revision <= (w.cacheAfter ?? Infinity)) continue;
      // Deleting the entry being visited is safe in a Set iteration.
      if (!w.push(cached)) this.unwatch(w);
    }
  }

  /**
   * Registers a watcher for every change after `fromRevision`: the cached ones now, the rest as
   * they come. Throws 410 Expired when changes after `fromRevision` are no longer all cached.
   * A `fromRevision` the cache has not reached yet (a client that listed from storage, ahead
   * of the bus) is fine: changes up to it are not sent.
   */
  watchFrom(fromRevision: number, sink: WatcherSink): () => void {
    this.subscribeFrom(fromRevision, sink);
    return () => this.unwatch(sink);
  }

  /** watchFrom without the closure: false when the sink refused a replayed change (it is then not registered). */
  subscribeFrom(fromRevision: number, sink: WatcherSink): boolean {
    if (fromRevision < this.oldest) {
      throw new StatusError('Expired', `too old resource version: ${fromRevision} (${this.oldest})`);
    }
    for (const cached of this.events) {
      if (cached.revision > fromRevision && !sink.push(cached)) return false;
    }
    this.add(sink, fromRevision);
    return true;
  }

  /**
   * Registers a watcher that gets every change from now on, before its initial state is known:
   * the caller lists, then skips buffered changes at or below the list's revision.
   */
  watchFromNow(sink: WatcherSink): () => void {
    this.add(sink, 0);
    return () => this.unwatch(sink);
  }

  /** watchFromNow without the closure; unwatch() forgets the sink. */
  subscribeFromNow(sink: WatcherSink): void {
    this.add(sink, 0);
  }

  /** Ends every watcher (shutdown). */
  close(error?: StatusError): void {
    this.endAll(error);
  }
}

/** The object of a BOOKMARK event at `revision`, as kube sends it. */
export function bookmarkObject(kind: string, apiVersion: string, revision: string, annotations?: Record<string, string>): KubeObject {
  const metadata: KubeObject['metadata'] = { resourceVersion: revision };
  if (annotations !== undefined) metadata.annotations = annotations;
  return { kind, apiVersion, metadata };
}
