/**
 * The controllers' work queue, as client-go's rate-limited work queue behaves: a key is queued
 * at most once however often it is added, is handed to one worker at a time (added again while
 * a worker has it, it comes back once that worker is done), and a key that failed comes back
 * after a per-key backoff that doubles with each failure until it is forgotten. The queue holds
 * at most one entry and one timer per key: it is bounded by the keys its controller follows
 * (the garbage collector's graph nodes, namespaces or definitions being deleted).
 */

export interface WorkQueueOptions {
  /** First delay of a key that failed (default 5 ms, as client-go's). */
  initialBackoffMs?: number;
  /** Longest delay of a key that keeps failing (default 5 minutes). */
  maxBackoffMs?: number;
}

export class WorkQueue<K> {
  private readonly initial: number;
  private readonly max: number;
  /** Keys waiting for a worker, in the order they came. */
  private readonly queue: K[] = [];
  /** The keys in `queue` (a key is queued once). */
  private readonly queued = new Set<K>();
  /** Keys a worker has now. */
  private readonly processing = new Set<K>();
  /** Keys added while a worker had them: queued again when it is done. */
  private readonly dirty = new Set<K>();
  /** Consecutive failures per key, for its backoff. */
  private readonly failures = new Map<K, number>();
  /** Keys waiting out their backoff. */
  private readonly delayed = new Map<K, NodeJS.Timeout>();
  private readonly waiting: ((key: K | undefined) => void)[] = [];
  private stopped = false;

  constructor(options: WorkQueueOptions = {}) {
    this.initial = options.initialBackoffMs ?? 5;
    this.max = options.maxBackoffMs ?? 300_000;
  }

  /** Keys queued, delayed or being worked on. */
  get size(): number {
    return this.queued.size + this.processing.size + this.delayed.size;
  }

  /** Queues `key` now (no-op when it is queued already; after the current worker when one has it). */
  add(key: K): void {
    if (this.stopped) return;
    const timer = this.delayed.get(key);
    if (timer !== undefined) {
      clearTimeout(timer);
      this.delayed.delete(key);
    }
    if (this.processing.has(key)) {
      this.dirty.add(key);
      return;
    }
    if (this.queued.has(key)) return;
    const worker = this.waiting.shift();
    if (worker !== undefined) {
      this.processing.add(key);
      worker(key);
      return;
    }
    this.queued.add(key);
    this.queue.push(key);
  }

  /**
   * Queues `key` after `delayMs` (kube's AddAfter; now when not positive). No-op when the key
   * is queued or waits already: the sooner wins, as an {@link add} cancels the wait.
   */
  addAfter(key: K, delayMs: number): void {
    if (delayMs <= 0) {
      this.add(key);
      return;
    }
    if (this.stopped || this.delayed.has(key) || this.queued.has(key)) return;
    this.delay(key, delayMs);
  }

  /**
   * Queues `key` after its backoff, which doubles with every call until {@link forget}, up to
   * `maxMs` (the queue's longest delay unless lower).
   */
  addRateLimited(key: K, maxMs = this.max): void {
    if (this.stopped || this.delayed.has(key)) return;
    const failures = this.failures.get(key) ?? 0;
    this.failures.set(key, failures + 1);
    this.delay(key, Math.min(this.initial * 2 ** Math.min(failures, 30), this.max, maxMs));
  }

  /** The key succeeded (or is given up): its backoff starts over. */
  forget(key: K): void {
    this.failures.delete(key);
  }

  /** The key needs no more work: its wait, if any, is cancelled and its backoff starts over (a queued or running key stays). */
  drop(key: K): void {
    const timer = this.delayed.get(key);
    if (timer !== undefined) clearTimeout(timer);
    this.delayed.delete(key);
    this.failures.delete(key);
  }

  /** The next key for a worker, which must call {@link done} with it; undefined once shut down. */
  get(): Promise<K | undefined> {
    if (this.stopped) return Promise.resolve(undefined);
    const key = this.queue.shift();
    if (key !== undefined) {
      this.queued.delete(key);
      this.processing.add(key);
      return Promise.resolve(key);
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  /** A worker is done with `key`: if it was added meanwhile, it is queued again. */
  done(key: K): void {
    this.processing.delete(key);
    if (this.dirty.delete(key)) this.add(key);
  }

  private delay(key: K, ms: number): void {
    const timer = setTimeout(() => {
      this.delayed.delete(key);
      this.add(key);
    }, ms);
    timer.unref();
    this.delayed.set(key, timer);
  }

  /** Stops handing out keys: waiting workers get undefined; timers are cleared. */
  shutDown(): void {
    this.stopped = true;
    for (const timer of this.delayed.values()) clearTimeout(timer);
    this.delayed.clear();
    for (const worker of this.waiting.splice(0)) worker(undefined);
    this.queue.length = 0;
    this.queued.clear();
    this.dirty.clear();
    this.failures.clear();
  }
}

/** What a worker's handler says of a key: nothing more to do, or to be tried again after its backoff. */
export type Outcome = 'done' | 'again';

export interface WorkerOptions<K> {
  /** Handles one key; a rejection is a failure, retried after the key's backoff. */
  handle: (key: K) => Promise<Outcome>;
  /** Told of each failure (unless `signal` aborted), to report it. */
  failed: (key: K, err: unknown) => void;
  /** Longest backoff of a key whose handler said 'again' (the queue's longest by default). */
  againMaxMs?: number;
}

/**
 * A worker: takes keys from `queue` until it shuts down. A key done is forgotten (its backoff
 * starts over); one to be tried again, or whose handler failed, comes back after its backoff.
 * Once `signal` aborts, nothing is queued again.
 */
export async function runWorker<K>(queue: WorkQueue<K>, signal: AbortSignal, options: WorkerOptions<K>): Promise<void> {
  for (;;) {
    const key = await queue.get();
    if (key === undefined) return;
    try {
      if ((await options.handle(key)) === 'again') {
        if (!signal.aborted) queue.addRateLimited(key, options.againMaxMs);
      } else {
        queue.forget(key);
      }
    } catch (err) {
      if (!signal.aborted) {
        options.failed(key, err);
        queue.addRateLimited(key);
      }
    } finally {
      queue.done(key);
    }
  }
}
