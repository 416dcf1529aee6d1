/**
 * The controllers the gateway can run (append new ones to the list), the flags that choose them
 * and time their election, and the host built from those flags.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { ConfigError } from '../../../lib/config.ts';
import { ControllerHost } from './host.ts';
import { parseDurationMs, type ElectionTiming } from './leader.ts';
import { ClusterRoleAggregationController } from './clusterrole-aggregation.ts';
import { CrdCleanupController } from './crd-cleanup.ts';
import { GarbageCollector } from './garbage-collector.ts';
import { NamespaceController } from './namespace.ts';
import type { Controller, ControllerContext } from './types.ts';

/** What the controllers' own flags set. */
export interface ControllerSettings {
  /** The namespace controller's wait before its first pass over a namespace being deleted (NamespaceControllerOptions.startDelayMs). */
  namespaceDeletionGracePeriodMs?: number;
}

/** Every controller the gateway can run, a new instance each (controllers may hold per-run state). */
export function availableControllers(settings: ControllerSettings = {}): Controller[] {
  const namespace = settings.namespaceDeletionGracePeriodMs === undefined ? {} : { startDelayMs: settings.namespaceDeletionGracePeriodMs };
  return [new NamespaceController(namespace), new GarbageCollector(), new CrdCleanupController(), new ClusterRoleAggregationController()];
}

/** The gateway's flags of the controller host (kube-controller-manager's names and defaults). */
export const CONTROLLER_FLAGS = [
  {
    flag: 'controllers',
    env: 'GATEWAY_CONTROLLERS',
    default: '*',
    description:
      `controllers this gateway runs while it holds the controllers' Lease (kube-system/kube-grpc-apiserver-controllers): comma-separated names, "*" for all, "-name" to leave one out, "" for none (then this replica never campaigns); known: ${availableControllers()
      .map((c) => c.name)
      .join(', ')}`,
  },
  {
    flag: 'use-service-account-credentials',
    env: 'GATEWAY_USE_SERVICE_ACCOUNT_CREDENTIALS',
    default: 'true',
    description:
      'whether controllers act as their own service accounts in kube-system (namespace-controller, generic-garbage-collector, clusterrole-aggregation-controller; authorized by the bootstrap RBAC roles), as kube-controller-manager with the same flag; "false": as a member of system:masters',
  },
  {
    flag: 'namespace-deletion-grace-period',
    env: 'GATEWAY_NAMESPACE_DELETION_GRACE_PERIOD',
    default: '5s',
    description:
      'how long the namespace controller waits before it first empties a namespace being deleted (kube\'s namespaceDeletionGracePeriod, 5s), so that creates another admission replica admitted from a namespace cache that had not yet seen the deletion are stored before it; shorter only with one admission replica',
  },
  { flag: 'leader-elect-lease-duration', env: 'GATEWAY_LEADER_ELECT_LEASE_DURATION', default: '15s', description: 'how long a candidate waits after the leader last renewed before it takes the controllers\' Lease' },
  { flag: 'leader-elect-renew-deadline', env: 'GATEWAY_LEADER_ELECT_RENEW_DEADLINE', default: '10s', description: 'how long the leader keeps trying to renew before it stops its controllers; less than the lease duration' },
  { flag: 'leader-elect-retry-period', env: 'GATEWAY_LEADER_ELECT_RETRY_PERIOD', default: '2s', description: 'how often candidates try to take the Lease and the leader renews it' },
] as const;

/**
 * The controllers `spec` names out of `available` (kube's --controllers: "*" all, "name" one,
 * "-name" not that one). ConfigError for a name no controller has.
 */
export function selectControllers(spec: string, available: readonly Controller[]): Controller[] {
  const names = spec.split(',').map((s) => s.trim()).filter((s) => s !== '');
  const known = new Set(available.map((c) => c.name));
  for (const n of names) {
    const bare = n.startsWith('-') ? n.slice(1) : n;
    if (bare !== '*' && !known.has(bare)) throw new ConfigError(`--controllers: unknown controller "${bare}" (known: ${[...known].join(', ')})`);
  }
  const all = names.includes('*');
  return available.filter((c) => !names.includes(`-${c.name}`) && (all || names.includes(c.name)));
}

/** The election durations of the flags; ConfigError when one is malformed or they do not fit together. */
export function electionTimingFrom(config: Record<'leader-elect-lease-duration' | 'leader-elect-renew-deadline' | 'leader-elect-retry-period', string>): ElectionTiming {
  const read = (flag: keyof typeof config): number => {
    const ms = parseDurationMs(config[flag]);
    if (!Number.isFinite(ms) || ms <= 0) throw new ConfigError(`--${flag} must be a positive duration such as "15s", got "${config[flag]}"`);
    return ms;
  };
  const timing: ElectionTiming = { leaseDurationMs: read('leader-elect-lease-duration'), renewDeadlineMs: read('leader-elect-renew-deadline'), retryPeriodMs: read('leader-elect-retry-period') };
  if (!(timing.leaseDurationMs > timing.renewDeadlineMs)) throw new ConfigError('--leader-elect-lease-duration must be greater than --leader-elect-renew-deadline');
  if (!(timing.renewDeadlineMs > timing.retryPeriodMs * 1.2)) throw new ConfigError('--leader-elect-renew-deadline must be greater than 1.2 times --leader-elect-retry-period');
  return timing;
}

/**
 * The controller host of a gateway process from its flags, not started; undefined when no
 * controller is chosen. Its identity is the host name and a fresh UUID, as kube-controller-manager's.
 * `available` makes the controllers to choose from with the flags' settings (so
 * --namespace-deletion-grace-period applies to them too); kube's set when absent.
 */
export function controllerHostFrom(
  config: Record<(typeof CONTROLLER_FLAGS)[number]['flag'], string>,
  context: ControllerContext,
  available: (settings: ControllerSettings) => readonly Controller[] = availableControllers,
): ControllerHost | undefined {
  const grace = parseDurationMs(config['namespace-deletion-grace-period']);
  if (!Number.isFinite(grace) || grace < 0) throw new ConfigError(`--namespace-deletion-grace-period must be a duration such as "5s", got "${config['namespace-deletion-grace-period']}"`);
  const controllers = selectControllers(config.controllers, available({ namespaceDeletionGracePeriodMs: grace }));
  const timing = electionTimingFrom(config);
  const credentials = config['use-service-account-credentials'];
  if (credentials !== 'true' && credentials !== 'false') throw new ConfigError(`--use-service-account-credentials must be "true" or "false", got "${credentials}"`);
  if (controllers.length === 0) return undefined;
  return new ControllerHost({ context, controllers, identity: `${hostname()}_${randomUUID()}`, timing, useServiceAccountCredentials: credentials === 'true' });
}
