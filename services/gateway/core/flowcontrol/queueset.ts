/**
 * One priority level's seats and queues, after kube's queueset (k8s.io/apiserver
 * pkg/util/flowcontrol/fairqueuing/queueset), every request one seat:
 *
 * - A request starts at once while the level has a free seat and nobody waits.
 * - Otherwise, with queuing, shuffle sharding deals the flow a hand of `handSize` queues from
 *   its hash and the request joins the shortest of them (visited from a rotating offset, as
 *   kube does, so that equal queues share the load); when every seat is taken and that queue
 *   already holds `queueLengthLimit` requests it is rejected ("queue-full"). Without queuing
 *   (limitResponse Reject) a request that finds no free seat is rejected ("concurrency-limit").
 * - A freed seat goes to the head of the next non-empty queue in turn (round robin over the
 *   queues: with one-seat requests this is what kube's virtual-time fair queuing dispatches,
 *   each queue getting an equal share of the freed seats).
 * - A request that waited `waitLimitMs` is taken out of its queue ("time-out"); one whose
 *   client went away too ("cancelled").
 *
 * A level of type Exempt is a QueueSet without a limit. No timers run while nobody waits.
 */

/** How a waiting request ended, or why it was refused. */
export type RejectReason = 'queue-full' | 'concurrency-limit' | 'time-out' | 'cancelled';

/** The queuing parameters of a Limited level that queues (limitResponse Queue). */
export interface QueuingConfig {
  queues: number;
  handSize: number;
  queueLengthLimit: number;
}

export interface QueueSetConfig {
  /** The seats requests of this level may hold at once; Infinity for the exempt level. */
  concurrencyLimit: number;
  /** Absent: a request that finds no free seat is rejected. */
  queuing?: QueuingConfig;
}

/** Told of each change of a request's state, for the level's metrics (by flow schema). */
export interface QueueSetObserver {
  queued(flowSchema: string, queueLength: number): void;
  unqueued(flowSchema: string): void;
  executing(flowSchema: string, waitedMs: number): void;
  finished(flowSchema: string): void;
  rejected(flowSchema: string, reason: RejectReason, waitedMs: number): void;
}

/** A seat held; release() gives it back (once; later calls do nothing). */
export interface Seat {
  release(): void;
}

/** A request the queue set answered at once: it runs, or is refused. */
export type Immediate = { kind: 'execute'; seat: Seat } | { kind: 'reject'; reason: RejectReason };

/** A request that waits in a queue: its seat or refusal comes later. */
export interface Waiting {
  kind: 'wait';
  /** Resolves with the seat, or with the reason it was taken out of its queue. Never rejects. */
  readonly outcome: Promise<{ kind: 'execute'; seat: Seat } | { kind: 'reject'; reason: RejectReason }>;
  /** The client went away: leave the queue (nothing happens if the request already runs). */
  cancel(): void;
}

interface Request {
  flowSchema: string;
  hash: bigint;
  enqueuedAt: number;
  queue: number;
  timer: NodeJS.Timeout | undefined;
  settle: (result: { kind: 'execute'; seat: Seat } | { kind: 'reject'; reason: RejectReason }) => void;
}

/** The queue set of one priority level. */
export class QueueSet {
  private config: QueueSetConfig;
  private readonly waitLimitMs: number;
  private readonly observer: QueueSetObserver;
  private readonly now: () => number;
  /**
   * The queues that hold requests, by index (an empty queue is absent): a level may have up to
   * kube's 10^7 queues, so they are not all made up front.
   */
  private queues = new Map<number, Request[]>();
  /** Seats held now. */
  private inUse = 0;
  private waiting = 0;
  /** Where the round robin of dispatches continues. */
  private nextQueue = 0;
  /** Rotates the order in which a hand's queues are visited. */
  private enqueues = 0;
  private readonly hands = new Map<bigint, number[]>();

  constructor(config: QueueSetConfig, waitLimitMs: number, observer: QueueSetObserver, now: () => number = () => performance.now()) {
    this.config = config;
    this.waitLimitMs = waitLimitMs;
    this.observer = observer;
    this.now = now;
  }

  /** Seats held now. */
  get executing(): number {
    return this.inUse;
  }

  /** Requests waiting now. */
  get queued(): number {
    return this.waiting;
  }

  /** Whether nothing runs or waits (a level whose configuration went away may then be dropped). */
  get idle(): boolean {
    return this.inUse === 0 && this.waiting === 0;
  }

  get limit(): number {
    return this.config.concurrencyLimit;
  }

  /**
   * A new configuration (the level's objects or the server's limit changed): requests waiting
   * are dealt into the new queues by their flows, or rejected "concurrency-limit" when the
   * level no longer queues; then as many start as the new limit allows.
   */
  reconfigure(config: QueueSetConfig): void {
    const old = [...this.queues.values()].flat().sort((a, b) => a.enqueuedAt - b.enqueuedAt);
    this.config = config;
    this.hands.clear();
    this.queues = new Map();
    this.nextQueue = 0;
    for (const request of old) {
      if (config.queuing === undefined) {
        this.waiting--;
        this.observer.unqueued(request.flowSchema);
        this.reject(request, 'concurrency-limit');
      } else {
        request.queue = this.shortestQueueOf(request.hash);
        const queue = this.queueAt(request.queue);
        queue.push(request);
        this.queues.set(request.queue, queue);
      }
    }
    this.dispatch();
  }

  /**
   * Asks for a seat for a request of `flowSchema` whose flow hashes to `hash`: a seat now, a
   * refusal now, or a place in a queue.
   */
  start(flowSchema: string, hash: bigint): Immediate | Waiting {
    if (this.waiting === 0 && this.inUse < this.config.concurrencyLimit) {
      this.observer.executing(flowSchema, 0);
      return { kind: 'execute', seat: this.seat(flowSchema) };
    }
    const queuing = this.config.queuing;
    if (queuing === undefined) {
      this.observer.rejected(flowSchema, 'concurrency-limit', 0);
      return { kind: 'reject', reason: 'concurrency-limit' };
    }
    const index = this.shortestQueueOf(hash);
    const queue = this.queueAt(index);
    if (this.inUse >= this.config.concurrencyLimit && queue.length >= queuing.queueLengthLimit) {
      this.observer.rejected(flowSchema, 'queue-full', 0);
      return { kind: 'reject', reason: 'queue-full' };
    }
    let settle!: Request['settle'];
    const outcome = new Promise<{ kind: 'execute'; seat: Seat } | { kind: 'reject'; reason: RejectReason }>((resolve) => (settle = resolve));
    const request: Request = { flowSchema, hash, enqueuedAt: this.now(), queue: index, timer: undefined, settle };
    queue.push(request);
    this.queues.set(index, queue);
    this.waiting++;
    this.observer.queued(flowSchema, queue.length);
    request.timer = setTimeout(() => this.leave(request, 'time-out'), this.waitLimitMs);
    // The seat may have been free (someone else waited in another queue): dispatch now.
    this.dispatch();
    return { kind: 'wait', outcome, cancel: () => this.leave(request, 'cancelled') };
  }

  /** The hand's queue with the fewest waiting requests, visited from a rotating offset. */
  private shortestQueueOf(hash: bigint): number {
    const queuing = this.config.queuing!;
    let hand = this.hands.get(hash);
    if (hand === undefined) {
      hand = dealHand(hash, queuing.queues, queuing.handSize);
      // Flows are few; the cache is dropped on reconfiguration and bounded here.
      if (this.hands.size > 10_000) this.hands.clear();
      this.hands.set(hash, hand);
    }
    const offset = this.enqueues++ % hand.length;
    let best = hand[offset]!;
    for (let i = 1; i < hand.length; i++) {
      const candidate = hand[(offset + i) % hand.length]!;
      if (this.lengthOf(candidate) < this.lengthOf(best)) best = candidate;
    }
    return best;
  }

  private lengthOf(index: number): number {
    return this.queues.get(index)?.length ?? 0;
  }

  /** The queue at `index`: a new empty one (not yet kept) when none holds requests. */
  private queueAt(index: number): Request[] {
    return this.queues.get(index) ?? [];
  }

  /** Takes a request out of its queue, refused for `reason` (nothing if it left already). */
  private leave(request: Request, reason: RejectReason): void {
    const queue = this.queues.get(request.queue);
    const at = queue === undefined ? -1 : queue.indexOf(request);
    if (at < 0) return;
    queue!.splice(at, 1);
    if (queue!.length === 0) this.queues.delete(request.queue);
    this.waiting--;
    this.observer.unqueued(request.flowSchema);
    this.reject(request, reason);
  }

  private reject(request: Request, reason: RejectReason): void {
    clearTimeout(request.timer);
    this.observer.rejected(request.flowSchema, reason, this.now() - request.enqueuedAt);
    request.settle({ kind: 'reject', reason });
  }

  /** Starts waiting requests while seats are free, taking the queues in turn. */
  private dispatch(): void {
    while (this.waiting > 0 && this.inUse < this.config.concurrencyLimit) {
      // The round robin's next non-empty queue: the first at or after nextQueue, else the first.
      let index = -1;
      let first = -1;
      for (const i of this.queues.keys()) {
        if (first < 0 || i < first) first = i;
        if (i >= this.nextQueue && (index < 0 || i < index)) index = i;
      }
      if (index < 0) index = first;
      const queue = this.queues.get(index)!;
      const request = queue.shift()!;
      if (queue.length === 0) this.queues.delete(index);
      this.nextQueue = index + 1;
      this.waiting--;
      clearTimeout(request.timer);
      this.observer.unqueued(request.flowSchema);
      this.observer.executing(request.flowSchema, this.now() - request.enqueuedAt);
      request.settle({ kind: 'execute', seat: this.seat(request.flowSchema) });
    }
  }

  private seat(flowSchema: string): Seat {
    this.inUse++;
    let held = true;
    return {
      release: () => {
        if (!held) return;
        held = false;
        this.inUse--;
        this.observer.finished(flowSchema);
        this.dispatch();
      },
    };
  }
}

/**
 * shufflesharding.Dealer.Deal: the hand of `handSize` distinct queues (of `deckSize`) a hash
 * picks, in deal order.
 */
export function dealHand(hash: bigint, deckSize: number, handSize: number): number[] {
  const remainders: number[] = [];
  let value = hash;
  for (let i = 0; i < handSize; i++) {
    const size = BigInt(deckSize - i);
    remainders.push(Number(value % size));
    value /= size;
  }
  const hand: number[] = [];
  for (let i = 0; i < handSize; i++) {
    let card = remainders[i]!;
    for (let j = i; j > 0; j--) if (card >= remainders[j - 1]!) card++;
    hand.push(card);
  }
  return hand;
}
