/**
 * The auth service's view of who may do what, kept current through the watch service: the
 * four RBAC resources (rbac.authorization.k8s.io/v1) in an RbacIndex and the ServiceAccounts
 * (v1) by namespace and name, each followed by an informer. A decision reads memory only; a
 * changed binding takes effect as soon as its event arrives (well within a second).
 *
 * Its authorizer is the auth service's chain: members of system:masters are allowed (kube's
 * privileged-group authorizer, first), everyone else gets RBAC's answer.
 */
import { Informer, type InformerTarget } from '../../../lib/informer.ts';
import { isPlainObject, type KubeObject } from '../../../lib/kube.ts';
import type { Logger } from '../../../lib/log.ts';
import { RbacAuthorizer } from '../../../lib/rbac/authorizer.ts';
import { RBAC_RESOURCES, RbacIndex, type RbacResource } from '../../../lib/rbac/rbac-index.ts';
import type { Watcher } from '../../watch/api.ts';
import type { Attributes, AuthorizationResult, Authorizer, RuleResolver, RulesResult, ServiceAccountLookup, UserInfo } from '../api.ts';
import { PrivilegedGroupAuthorizer } from './authorizer.ts';

/**
 * The auth process's flags for the index: where the watch service is (as the gateway's
 * --watch-address: one or more replicas, comma-separated) and how long readiness waits for the
 * first lists.
 */
export const POLICY_INDEX_FLAGS = [
  {
    flag: 'watch-address',
    env: 'WATCH_ADDRESS',
    default: '127.0.0.1:50064',
    description: 'the watch service the RBAC objects and ServiceAccounts are followed through: one or more replicas, comma-separated',
  },
  {
    flag: 'policy-sync-timeout',
    env: 'AUTH_POLICY_SYNC_TIMEOUT',
    default: '30',
    description: 'seconds the auth service waits at start for its first lists of RBAC objects and ServiceAccounts before it serves anyway (and logs so)',
  },
] as const;

export interface PolicyIndexOptions {
  watcher: Watcher;
  logger: Logger;
  /** The first pause after a failed watch (default 250 ms; it doubles up to 30 s). */
  retryMs?: number;
}

export interface PolicyIndex {
  /** system:masters, then RBAC over the index; also kube's rule resolver (rulesFor). */
  authorizer: Authorizer & RuleResolver;
  /** The ServiceAccounts that exist, for service-account token verification. */
  serviceAccounts: ServiceAccountLookup;
  /** Whether every resource's first list is in (before that, decisions may miss bindings). */
  synced(): boolean;
  /** Resolves true once synced, or false when `ms` pass first. */
  readyWithin(ms: number): Promise<boolean>;
  /** Stops every watch. */
  stop(): Promise<void>;
}

function metaOf(object: KubeObject): { name: string; namespace: string; uid: string } {
  const meta = isPlainObject(object.metadata) ? object.metadata : {};
  const s = (v: unknown): string => (typeof v === 'string' ? v : '');
  return { name: s(meta.name), namespace: s(meta.namespace), uid: s(meta.uid) };
}

/** ServiceAccount uids by "namespace/name". */
class ServiceAccountTable implements ServiceAccountLookup {
  private readonly uids = new Map<string, string>();

  uidOf(namespace: string, name: string): string | undefined {
    return this.uids.get(`${namespace}/${name}`);
  }

  replace(objects: KubeObject[]): void {
    this.uids.clear();
    for (const object of objects) this.apply('ADDED', object);
  }

  apply(type: 'ADDED' | 'MODIFIED' | 'DELETED', object: KubeObject): void {
    const { name, namespace, uid } = metaOf(object);
    if (type === 'DELETED') this.uids.delete(`${namespace}/${name}`);
    else this.uids.set(`${namespace}/${name}`, uid);
  }
}

/** The privileged group first, then RBAC. */
class PolicyAuthorizer implements Authorizer, RuleResolver {
  private readonly privileged = new PrivilegedGroupAuthorizer();
  private readonly rbac: RbacAuthorizer;

  constructor(rbac: RbacAuthorizer) {
    this.rbac = rbac;
  }

  async authorize(attributes: Attributes): Promise<AuthorizationResult> {
    const first = await this.privileged.authorize(attributes);
    if (first.decision !== 'NoOpinion') return first;
    return this.rbac.decide(attributes);
  }

  async rulesFor(user: UserInfo, namespace: string): Promise<RulesResult> {
    return this.rbac.resolve(user, namespace);
  }
}

const RBAC_GROUP = 'rbac.authorization.k8s.io';

/** Starts following the RBAC objects and ServiceAccounts through `watcher`. */
export function startPolicyIndex(options: PolicyIndexOptions): PolicyIndex {
  const { watcher, logger } = options;
  const index = new RbacIndex();
  const serviceAccounts = new ServiceAccountTable();
  const informers: Informer[] = [];
  const follow = (target: InformerTarget, replace: (objects: KubeObject[]) => void, event: (type: 'ADDED' | 'MODIFIED' | 'DELETED', object: KubeObject) => void): void => {
    informers.push(new Informer({ source: watcher, target, logger, retryMs: options.retryMs, handlers: { replace, event } }).start());
  };
  for (const resource of RBAC_RESOURCES) {
    follow(
      { group: RBAC_GROUP, version: 'v1', resource, namespace: '' },
      (objects) => index.replace(resource as RbacResource, objects),
      (type, object) => index.apply(resource, type, object),
    );
  }
  follow(
    { group: '', version: 'v1', resource: 'serviceaccounts', namespace: '' },
    (objects) => serviceAccounts.replace(objects),
    (type, object) => serviceAccounts.apply(type, object),
  );
  const synced = (): boolean => informers.every((i) => i.synced());
  const allSynced = Promise.all(informers.map((i) => i.whenSynced())).then(() => {
    if (synced()) logger.info('policy index synced', { ...index.counts() });
  });
  return {
    authorizer: new PolicyAuthorizer(new RbacAuthorizer(index)),
    serviceAccounts,
    synced,
    async readyWithin(ms: number): Promise<boolean> {
      if (synced()) return true;
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)));
      await Promise.race([allSynced, timeout]);
      clearTimeout(timer);
      return synced();
    },
    async stop(): Promise<void> {
      await Promise.all(informers.map((i) => i.stop()));
    },
  };
}
