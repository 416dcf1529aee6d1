/**
 * What keeps the gateway's short-lived authentication and authorization caches honest: it
 * follows the four RBAC resources, and the ServiceAccounts, Pods, Secrets and Nodes, through the
 * watch service (lib/informer) and drops the pipeline's decisions when any RBAC object changes,
 * and its users when one of the others is deleted (the tokens of a ServiceAccount, and those
 * bound to a Pod, Secret or Node, must stop working). Every replica follows on its own, so a
 * change takes effect on all of them as soon as the auth service's index has it: the cache is
 * dropped at the event, and once more `settleMs` after the last event of a burst, for answers
 * the auth service gave before its own index had the change. No object is kept.
 */
import { Informer, type InformerHandlers, type WatchSource } from '../../../lib/informer.ts';
import type { KubeObject } from '../../../lib/kube.ts';
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
  /** When a cache is dropped a second time after the last change (default 300 ms; 0: no second drop). */
  settleMs?: number;
  /** Told of every drop (tests await it). */
  onDrop?: (what: 'decisions' | 'users') => void;
}

export interface AuthCacheFollower {
  /** Whether every followed resource has been listed once. */
  synced(): boolean;
  stop(): Promise<void>;
}

/** The objects whose deletion ends the tokens that name them (the ServiceAccount, and what a token is bound to). */
const TOKEN_OBJECT_RESOURCES = ['serviceaccounts', 'pods', 'secrets', 'nodes'] as const;

/** Nothing of an object is kept: the handlers look at the event's type only. */
const nothing = (): KubeObject => ({});

/**
 * A drop now, and once more `settleMs` after the last of a burst of changes: the timer is
 * started again by every change, so that an answer the auth service gave before its index had
 * any of them is not kept.
 */
class SettlingDrop {
  private timer: NodeJS.Timeout | undefined;
  private readonly drop: () => void;
  private readonly settleMs: number;

  constructor(drop: () => void, settleMs: number) {
    this.drop = drop;
    this.settleMs = settleMs;
  }

  changed(): void {
    this.drop();
    if (this.settleMs <= 0) return;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.drop();
    }, this.settleMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }
}

/** Starts following; stop() ends it. */
export function followAuthChanges(o: AuthCacheFollowerOptions): AuthCacheFollower {
  const settleMs = o.settleMs ?? 300;
  const decisions = new SettlingDrop(() => {
    o.caches.dropDecisions();
    o.onDrop?.('decisions');
  }, settleMs);
  const users = new SettlingDrop(() => {
    o.caches.dropUsers();
    o.onDrop?.('users');
  }, settleMs);
  const informers: Informer[] = [];
  const follow = (group: string, resource: string, handlers: InformerHandlers): void => {
    informers.push(new Informer({ source: o.source, target: { group, version: 'v1', resource, namespace: '' }, handlers, logger: o.logger, project: nothing }));
  };
  // A relist may hide changes made while the watch was down: it drops too.
  for (const resource of RBAC_RESOURCES) follow(RBAC_GROUP, resource, { replace: () => decisions.changed(), event: () => decisions.changed() });
  for (const resource of TOKEN_OBJECT_RESOURCES) {
    follow('', resource, {
      replace: () => users.changed(),
      event: (type) => {
        if (type === 'DELETED') users.changed();
      },
    });
  }
  for (const informer of informers) informer.start();
  return {
    synced: () => informers.every((i) => i.synced()),
    async stop() {
      decisions.stop();
      users.stop();
      await Promise.all(informers.map((i) => i.stop()));
    },
  };
}
