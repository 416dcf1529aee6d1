/**
 * Leader election on a coordination.k8s.io/v1 Lease, as client-go's leaderelection package
 * does it (its semantics; the code is the project's): the Lease's holderIdentity names the
 * leader, which renews renewTime every retry period; a candidate takes the Lease once
 * leaseDurationSeconds have passed since it last saw the Lease change (its own clock, so that
 * skew between replicas does not matter), counting leaseTransitions; a leader that cannot renew
 * within the renew deadline steps down. Every write goes through the pipeline with the
 * resourceVersion read as precondition (creation: AlreadyExists), so two candidates never both
 * win one round.
 */
import { StatusError } from '../../../lib/errors.ts';
import { isPlainObject, type KubeObject } from '../../../lib/kube.ts';
import { formatRFC3339Micro } from '../../../lib/go-time.ts';
import type { KindDefinition } from '../../../lib/kinds/index.ts';
import { CONTROLLER_WRITES, sleep, type ControllerContext } from './types.ts';

/** The durations of an election, in milliseconds (kube's --leader-elect-* flags). */
export interface ElectionTiming {
  /** How long a Lease not renewed stays the holder's before a candidate may take it (kube: 15 s). */
  leaseDurationMs: number;
  /** How long a leader keeps trying to renew before it steps down (kube: 10 s); less than leaseDurationMs. */
  renewDeadlineMs: number;
  /** How often candidates try to take the Lease and the leader renews it (kube: 2 s). */
  retryPeriodMs: number;
}

/** kube-controller-manager's defaults. */
export const DEFAULT_ELECTION_TIMING: ElectionTiming = Object.freeze({ leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 });

/** The Lease the gateway's controllers are elected on. */
export const DEFAULT_LEASE = Object.freeze({ namespace: 'kube-system', name: 'kube-grpc-apiserver-controllers' });

export interface LeaderElectorOptions {
  context: Pick<ControllerContext, 'pipeline' | 'registry' | 'logger' | 'user'>;
  /** This replica's holderIdentity: unique among replicas. */
  identity: string;
  timing?: Partial<ElectionTiming>;
  lease?: { namespace: string; name: string };
}

/**
 * Time.Duration's string form as kube's flags take it ("15s", "500ms", "1m30s"): a sequence of
 * decimal numbers each with a unit (ns, us, µs, ms, s, m, h). Milliseconds; NaN when malformed.
 */
export function parseDurationMs(text: string): number {
  const units: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  if (text === '0') return 0;
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/gy;
  let total = 0;
  let at = 0;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    total += Number(m[1]) * (units[m[2] ?? ''] ?? NaN);
    at = re.lastIndex;
  }
  return at === text.length && at > 0 ? total : NaN;
}

/** The parts of a Lease's spec an election reads and writes (coordination/v1 LeaseSpec). */
interface LeaseRecord {
  holderIdentity: string;
  leaseDurationSeconds: number;
  acquireTime: string;
  renewTime: string;
  leaseTransitions: number;
}

function recordOf(lease: KubeObject): LeaseRecord {
  const spec = isPlainObject(lease.spec) ? lease.spec : {};
  const str = (v: unknown): string => (typeof v === 'string' ? v : '');
  const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
  return {
    holderIdentity: str(spec.holderIdentity),
    leaseDurationSeconds: num(spec.leaseDurationSeconds),
    acquireTime: str(spec.acquireTime),
    renewTime: str(spec.renewTime),
    leaseTransitions: num(spec.leaseTransitions),
  };
}

/** A MicroTime of now, as client-go writes renewTime and acquireTime. */
function microNow(): string {
  return formatRFC3339Micro(Date.now());
}

/**
 * One replica's candidacy. `run` campaigns until its signal aborts: each time it wins, it calls
 * `lead` with a signal that aborts when leadership is lost (renewal failed within the deadline,
 * or another holder was seen) or the run is stopped, and waits for `lead` to settle before it
 * campaigns again. On stop a leader gives the Lease up (holder cleared, as client-go's
 * ReleaseOnCancel), so another replica takes over within one retry period.
 */
export class LeaderElector {
  private readonly o: LeaderElectorOptions;
  private readonly timing: ElectionTiming;
  private readonly lease: { namespace: string; name: string };
  /** The Lease as last read or written, and when (performance.now()) its record last changed. */
  private observed: KubeObject | undefined;
  private observedRecord: LeaseRecord | undefined;
  private observedAt = 0;
  private leading = false;

  constructor(options: LeaderElectorOptions) {
    this.o = options;
    this.timing = { ...DEFAULT_ELECTION_TIMING, ...options.timing };
    this.lease = options.lease ?? DEFAULT_LEASE;
    const t = this.timing;
    if (!(t.leaseDurationMs > t.renewDeadlineMs)) throw new StatusError('BadRequest', 'the lease duration must be greater than the renew deadline');
    if (!(t.renewDeadlineMs > t.retryPeriodMs * 1.2)) throw new StatusError('BadRequest', 'the renew deadline must be greater than 1.2 times the retry period');
    if (!(t.retryPeriodMs > 0)) throw new StatusError('BadRequest', 'the retry period must be greater than zero');
  }

  /** Whether this replica holds the Lease now. */
  get isLeader(): boolean {
    return this.leading;
  }

  async run(signal: AbortSignal, lead: (leadership: AbortSignal) => Promise<void>): Promise<void> {
    while (!signal.aborted) {
      if (!(await this.acquire(signal))) break;
      const leadership = new AbortController();
      const stop = (): void => leadership.abort();
      signal.addEventListener('abort', stop, { once: true });
      this.leading = true;
      this.o.context.logger.info('leading the controllers', { identity: this.o.identity, lease: `${this.lease.namespace}/${this.lease.name}` });
      const led = lead(leadership.signal).catch((err: unknown) => this.o.context.logger.error('controllers failed', { error: err }));
      await this.renewWhileLeading(leadership.signal);
      leadership.abort();
      signal.removeEventListener('abort', stop);
      await led;
      this.leading = false;
      if (signal.aborted) {
        await this.release();
        break;
      }
      this.o.context.logger.warn('lost the controllers\' lease', { identity: this.o.identity });
    }
  }

  /** Tries every retry period (with jitter) until the Lease is taken (true) or `signal` aborts (false). */
  private async acquire(signal: AbortSignal): Promise<boolean> {
    for (;;) {
      if (signal.aborted) return false;
      if (await this.tryAcquireOrRenew(signal)) return true;
      await sleep(this.timing.retryPeriodMs * (1 + Math.random() * 1.2), signal);
    }
  }

  /**
   * Renews every retry period; returns when a round could not renew within the renew deadline,
   * when another holder has the Lease, or when `signal` aborts.
   */
  private async renewWhileLeading(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      await sleep(this.timing.retryPeriodMs, signal);
      if (signal.aborted) return;
      const deadline = performance.now() + this.timing.renewDeadlineMs;
      let renewed = false;
      while (!signal.aborted && performance.now() < deadline) {
        const round = AbortSignal.any([signal, AbortSignal.timeout(Math.max(1, Math.ceil(deadline - performance.now())))]);
        if (await this.tryAcquireOrRenew(round)) {
          renewed = true;
          break;
        }
        // Someone else holds it: they won (our Lease expired before we renewed), step down now.
        if (this.observedRecord !== undefined && this.observedRecord.holderIdentity !== this.o.identity && this.observedRecord.holderIdentity !== '') return;
        await sleep(Math.min(this.timing.retryPeriodMs, Math.max(0, deadline - performance.now())), signal);
      }
      if (!renewed) return;
    }
  }

  private target(): { info: KindDefinition; namespace: string; name: string } {
    const info = this.o.context.registry.get('coordination.k8s.io', 'v1', 'leases');
    if (info === undefined) throw new StatusError('NotFound', 'the server could not find the requested resource (leases.coordination.k8s.io)');
    return { info, namespace: this.lease.namespace, name: this.lease.name };
  }

  /** Remembers the Lease read or written; its record's change restarts the expiry clock. */
  private observe(lease: KubeObject): void {
    const record = recordOf(lease);
    const prev = this.observedRecord;
    if (prev === undefined || JSON.stringify(prev) !== JSON.stringify(record)) this.observedAt = performance.now();
    this.observed = lease;
    this.observedRecord = record;
  }

  /**
   * One round, as client-go's tryAcquireOrRenew: create the Lease when there is none; leave it
   * when another holder's Lease has not expired by our observation; otherwise write ourselves
   * as holder (keeping acquireTime and leaseTransitions when we held it, else counting a
   * transition). False on any failure (a lost race is a Conflict or AlreadyExists).
   */
  private async tryAcquireOrRenew(signal: AbortSignal): Promise<boolean> {
    const { pipeline, user, logger } = this.o.context;
    const now = microNow();
    const durationSeconds = Math.max(1, Math.ceil(this.timing.leaseDurationMs / 1000));
    try {
      const target = this.target();
      let current: KubeObject;
      try {
        current = await pipeline.get(user, target, {}, signal);
      } catch (err) {
        if (!(err instanceof StatusError) || err.reason !== 'NotFound') throw err;
        const created = await pipeline.create(
          user,
          { ...target, name: '' },
          {
            apiVersion: 'coordination.k8s.io/v1',
            kind: 'Lease',
            metadata: { name: this.lease.name, namespace: this.lease.namespace },
            spec: { holderIdentity: this.o.identity, leaseDurationSeconds: durationSeconds, acquireTime: now, renewTime: now, leaseTransitions: 0 },
          },
          CONTROLLER_WRITES,
          signal,
        );
        this.observe(created);
        return true;
      }
      this.observe(current);
      const old = recordOf(current);
      const heldByMe = old.holderIdentity === this.o.identity;
      // A record's own duration decides its expiry (a replica may run with other flags).
      const expiresAt = this.observedAt + Math.max(1, old.leaseDurationSeconds) * 1000;
      if (old.holderIdentity !== '' && !heldByMe && performance.now() < expiresAt) return false;
      const spec: Record<string, unknown> = {
        ...(isPlainObject(current.spec) ? current.spec : {}),
        holderIdentity: this.o.identity,
        leaseDurationSeconds: durationSeconds,
        renewTime: now,
        acquireTime: heldByMe && old.acquireTime !== '' ? old.acquireTime : now,
        leaseTransitions: heldByMe ? old.leaseTransitions : old.leaseTransitions + 1,
      };
      const updated = await pipeline.update(user, target, { ...current, spec }, CONTROLLER_WRITES, signal);
      this.observe(updated);
      return true;
    } catch (err) {
      if (!signal.aborted) logger.debug('lease not acquired or renewed', { identity: this.o.identity, error: err });
      return false;
    }
  }

  /** Gives the Lease up (holder cleared, duration 1 s), when we still hold it as last seen. */
  private async release(): Promise<void> {
    const current = this.observed;
    if (current === undefined || this.observedRecord?.holderIdentity !== this.o.identity) return;
    const now = microNow();
    const spec = { ...(isPlainObject(current.spec) ? current.spec : {}), holderIdentity: '', leaseDurationSeconds: 1, renewTime: now, acquireTime: now };
    try {
      await this.o.context.pipeline.update(this.o.context.user, this.target(), { ...current, spec }, CONTROLLER_WRITES, AbortSignal.timeout(this.timing.renewDeadlineMs));
    } catch (err) {
      // Another holder wrote meanwhile, or storage is away: the Lease then expires by itself.
      this.o.context.logger.debug('lease not released', { identity: this.o.identity, error: err });
    }
  }
}
