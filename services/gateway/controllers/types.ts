/**
 * What a controller of the control plane is, as the controller host (host.ts) runs it: code that
 * reads and writes objects through the gateway's pipeline, as a named user, while this gateway
 * replica holds the controllers' Lease (leader.ts).
 */
import type { KindRegistry } from '../../../lib/kinds/index.ts';
import type { Logger } from '../../../lib/log.ts';
import { SYSTEM_MASTERS, type UserInfo } from '../../auth/api.ts';
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

/**
 * The user controllers act as (a new object each call: callers may keep it). In group system:masters for now: authorization allows that group
 * everything and refuses every other user; once RBAC is enforced each controller gets its own
 * identity and role, as kube's controllers have their service accounts.
 */
export function controllerUser(): UserInfo {
  return { username: 'system:kube-controller-manager', uid: '', groups: [SYSTEM_MASTERS] };
}

/**
 * What controllers' writes say of who wrote (kube's controllers send their process's User-Agent,
 * whose prefix names their managedFields entries).
 */
export const CONTROLLER_WRITES = Object.freeze({ fieldManager: 'kube-controller-manager' });

/** Resolves after `ms`, or at once when `signal` aborts (never rejects). */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
