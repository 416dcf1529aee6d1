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
  /**
   * The ServiceAccount in kube-system the controller acts as (kube-controller-manager's
   * --use-service-account-credentials: the bootstrap roles system:controller:<name> authorize
   * it); absent: the host's user (the API server's own loopback identity, in system:masters).
   */
  readonly serviceAccount?: string;
  /** Runs while this replica leads; resolves soon after `signal` aborts; resumes from stored state. */
  run(ctx: ControllerContext, signal: AbortSignal): Promise<void>;
}

/**
 * The host's user (a new object each call: callers may keep it), in group system:masters: what
 * the leader election and the controllers without a service account of their own (crd-cleanup,
 * part of the API server in kube, acting over its loopback connection) act as.
 */
export function controllerUser(): UserInfo {
  return { username: 'system:kube-controller-manager', uid: '', groups: [SYSTEM_MASTERS] };
}

/**
 * The user of ServiceAccount `namespace/name` as a service-account token authenticates it
 * (kube's serviceaccount.UserInfo, without the token's uid and credential id).
 */
export function serviceAccountUser(namespace: string, name: string): UserInfo {
  return {
    username: `system:serviceaccount:${namespace}:${name}`,
    uid: '',
    groups: ['system:serviceaccounts', `system:serviceaccounts:${namespace}`, 'system:authenticated'],
  };
}

/**
 * What controllers' writes say of who wrote (kube's controllers send their process's User-Agent,
 * whose prefix names their managedFields entries).
 */
export const CONTROLLER_WRITES = Object.freeze({ fieldManager: 'kube-controller-manager' });

/** Resolves after `ms`, or at once when `signal` aborts (never rejects). */
export { abortableSleep as sleep } from '../../../lib/sleep.ts';
