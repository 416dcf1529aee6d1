/**
 * What keeps the gateway's short-lived authentication and authorization caches honest: it
 * follows the four RBAC resources and the ServiceAccounts through the watch service (lib/informer)
 * and drops the pipeline's decisions when any RBAC object changes, and its users when a
 * ServiceAccount is deleted (its tokens must stop working). Every replica follows on its own, so a
 * changed binding takes effect on all of them as soon as the auth service's index has it: the
 * decisions are dropped at the event, and once more `settleMs` later for answers the auth
 * service gave before its own index had the change.
 */
import { Informer, type WatchSource } from '../../../lib/informer.ts';
import type { Logger } from '../../../lib/log.ts';
import { RBAC_RESOURCES } from '../../../lib/rbac/rbac-index.ts';

const RBAC_GROUP = 'rbac.authorization.k8s.io';

/** What is dropped. */
export interface DroppableCaches {
  dropDecisions(): void;
  dropUsers(): void;
}

export interface AuthCacheFollowerOptions {
  source: WatchSource;
  caches: DroppableCaches;
  logger: Logger;
  /** When the decisions are dropped a second time after a change (default 300 ms; 0: no second drop). */
  settleMs?: number;
  /** Told of every drop (tests await it). */
  onDrop?: (what: 'decisions' | 'users') => void;
}

export interface AuthCacheFollower {
  /** Whether every followed resource has been listed once. */
  synced(): boolean;
  stop(): Promise<void>;
}

/** Starts following; stop() ends it. */
export function followAuthChanges(o: AuthCacheFollowerOptions): AuthCacheFollower {
  const settleMs = o.settleMs ?? 300;
  let settle: NodeJS.Timeout | undefined;
  const dropDecisions = (): void => {
    o.caches.dropDecisions();
    o.onDrop?.('decisions');
  };
  const decisionsChanged = (): void => {
    dropDecisions();
    if (settle === undefined && settleMs > 0) {
      settle = setTimeout(() => {
        settle = undefined;
        dropDecisions();
      }, settleMs);
      settle.unref();
    }
  };
  const dropUsers = (): void => {
    o.caches.dropUsers();
    o.onDrop?.('users');
  };
  const informers: Informer[] = [];
  for (const resource of RBAC_RESOURCES) {
    // A relist may hide changes made while the watch was down: it drops them too.
    const handlers = { replace: decisionsChanged, event: decisionsChanged };
    informers.push(new Informer({ source: o.source, target: { group: RBAC_GROUP, version: 'v1', resource, namespace: '' }, handlers, logger: o.logger }));
  }
  informers.push(
    new Informer({
      source: o.source,
      target: { group: '', version: 'v1', resource: 'serviceaccounts', namespace: '' },
      handlers: {
        replace: dropUsers,
        event: (type) => {
          if (type === 'DELETED') dropUsers();
        },
      },
      logger: o.logger,
    }),
  );
  for (const informer of informers) informer.start();
  return {
    synced: () => informers.every((i) => i.synced()),
    async stop() {
      if (settle !== undefined) clearTimeout(settle);
      await Promise.all(informers.map((i) => i.stop()));
    },
  };
}
