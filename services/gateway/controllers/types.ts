/**
 * What the gateway's controllers (kube-controller-manager's loops, run in the gateway process
 * under leader election by the host) are given, and what they provide.
 */
import type { KindRegistry } from '../../../lib/kinds/index.ts';
import type { Logger } from '../../../lib/log.ts';
import type { UserInfo } from '../../auth/api.ts';
import type { Pipeline } from '../core/pipeline.ts';

export interface ControllerContext {
  pipeline: Pipeline;
  registry: KindRegistry;
  logger: Logger;
  /** The identity controllers act as (kube: a service account per controller). */
  user: UserInfo;
}

export interface Controller {
  readonly name: string;
  /** Runs while this replica leads; resolves soon after `signal` aborts; resumes from stored state. */
  run(ctx: ControllerContext, signal: AbortSignal): Promise<void>;
}
