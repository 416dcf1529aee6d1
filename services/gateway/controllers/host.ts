/**
 * The controller host: runs the control plane's controllers inside the gateway process while
 * this replica leads the election on the controllers' Lease (leader.ts), so that however many
 * gateway replicas run, one runs the controllers. Controllers start when leadership is gained
 * and are aborted when it is lost or the host stops; one that fails or returns early while
 * leading is started again after a backoff. Controllers keep no state of their own across
 * runs: what they resume from is stored (docs/decisions.md).
 */
import { LeaderElector, type ElectionTiming } from './leader.ts';
import { serviceAccountUser, sleep, type Controller, type ControllerContext } from './types.ts';

export interface ControllerHostOptions {
  context: ControllerContext;
  controllers: readonly Controller[];
  /** This replica's holderIdentity on the Lease: unique among replicas. */
  identity: string;
  timing?: Partial<ElectionTiming>;
  lease?: { namespace: string; name: string };
  /** First wait before a failed controller is started again; doubles up to 30 s (default 1 s). */
  restartBackoffMs?: number;
  /**
   * kube-controller-manager's --use-service-account-credentials: each controller with a service
   * account of its own acts as it (RBAC's system:controller:* roles authorize it); otherwise, and
   * for the others, the context's user.
   */
  useServiceAccountCredentials?: boolean;
}

type LeadershipListener = (leading: boolean) => void;

const MAX_RESTART_BACKOFF_MS = 30_000;

export class ControllerHost {
  private readonly o: ControllerHostOptions;
  private readonly elector: LeaderElector;
  private readonly listeners = new Set<LeadershipListener>();
  private stopper: AbortController | undefined;
  private running: Promise<void> | undefined;
  private leadingNow = false;

  constructor(options: ControllerHostOptions) {
    this.o = options;
    this.elector = new LeaderElector({ context: options.context, identity: options.identity, timing: options.timing, lease: options.lease });
  }

  /** Whether this replica runs the controllers now. */
  get leading(): boolean {
    return this.leadingNow;
  }

  /** Calls `listener` with true when this replica starts leading and false when it stops; returns the unsubscribe. */
  onLeadershipChange(listener: LeadershipListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Starts campaigning (in the background); a second call does nothing. */
  start(): void {
    if (this.running !== undefined) return;
    const stopper = new AbortController();
    this.stopper = stopper;
    this.running = this.elector.run(stopper.signal, (leadership) => this.lead(leadership)).catch((err: unknown) => {
      this.o.context.logger.error('controller host stopped on an error', { error: err });
    });
  }

  /** Stops the controllers, gives the Lease up when held, and resolves when all of it is done. */
  async stop(): Promise<void> {
    this.stopper?.abort();
    await this.running;
    this.running = undefined;
  }

  private emit(leading: boolean): void {
    this.leadingNow = leading;
    for (const listener of this.listeners) listener(leading);
  }

  /** Runs every controller until `leadership` aborts. */
  private async lead(leadership: AbortSignal): Promise<void> {
    this.emit(true);
    try {
      await Promise.all(this.o.controllers.map((c) => this.supervise(c, leadership)));
    } finally {
      this.emit(false);
    }
  }

  private async supervise(controller: Controller, leadership: AbortSignal): Promise<void> {
    const logger = this.o.context.logger.with({ controller: controller.name });
    // Each controller acts as its own service account when it has one (kube's controller identities).
    const own = this.o.useServiceAccountCredentials === true ? controller.serviceAccount : undefined;
    const user = own === undefined ? this.o.context.user : serviceAccountUser('kube-system', own);
    const context: ControllerContext = { ...this.o.context, logger, user };
    let backoff = this.o.restartBackoffMs ?? 1000;
    while (!leadership.aborted) {
      const started = performance.now();
      try {
        await controller.run(context, leadership);
        if (leadership.aborted) return;
        logger.warn('controller returned while leading; starting it again', { afterMs: backoff });
      } catch (err) {
        if (leadership.aborted) return;
        logger.error('controller failed; starting it again', { error: err, afterMs: backoff });
      }
      // A controller that ran a good while before failing starts again soon.
      if (performance.now() - started > 60_000) backoff = this.o.restartBackoffMs ?? 1000;
      await sleep(backoff, leadership);
      backoff = Math.min(backoff * 2, MAX_RESTART_BACKOFF_MS);
    }
  }
}
