/**
 * The work queue of the garbage collector's workers, as client-go's rate-limited work queue
 * behaves: a key is queued at most once however often it is added, is handed to one worker at a
 * time (added again while a worker has it, it comes back once that worker is done), and a key
 * that failed comes back after a per-key backoff that doubles with each failure until it is
 * forgotten. Keys are the uids of the owner graph's nodes, so the queue never holds more than
 * one entry (and at most one timer) per node: it is bounded by the graph.
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

  /** Queues `key` after its backoff, which doubles with every call until {@link forget}. */
  addRateLimited(key: K): void {
    if (this.stopped || this.delayed.has(key)) return;
    const failures = this.failures.get(key) ?? 0;
    this.failures.set(key, failures + 1);
    const delay = Math.min(this.initial * 2 ** Math.min(failures, 30), this.max);
    const timer = setTimeout(() => {
      this.delayed.delete(key);
      this.add(key);
    }, delay);
    timer.unref();
    this.delayed.set(key, timer);
  }

  /** The key succeeded (or is given up): its backoff starts over. */
  forget(key: K): void {
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
