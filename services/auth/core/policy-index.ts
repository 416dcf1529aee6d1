/**
 * The auth service's view of who may do what, kept current through the watch service: the
 * four RBAC resources (rbac.authorization.k8s.io/v1) in an RbacIndex, and the uids and deletion
 * times of the ServiceAccounts, Pods, Secrets and Nodes (v1) that service-account tokens are
 * checked against, each followed by an informer. A decision reads memory only; a
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
import type { Attributes, AuthorizationResult, Authorizer, BoundObjectKind, LiveObject, RuleResolver, RulesResult, ServiceAccountLookup, TokenObjectLookup, UserInfo } from '../api.ts';
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
    description: 'the watch service through which the RBAC objects, and the ServiceAccounts, Pods, Secrets and Nodes that tokens are checked against, are followed: one or more replicas, comma-separated',
  },
  {
    flag: 'policy-sync-timeout',
    env: 'AUTH_POLICY_SYNC_TIMEOUT',
    default: '30',
    description: 'seconds the auth service waits at start for its first lists of RBAC objects, ServiceAccounts, Pods, Secrets and Nodes before it serves anyway (and logs so)',
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
  /** The ServiceAccounts that exist. */
  serviceAccounts: ServiceAccountLookup;
  /** The ServiceAccounts, Pods, Secrets and Nodes that exist, for service-account token verification. */
  objects: TokenObjectLookup;
  /** Whether every resource's first list is in (before that, decisions may miss bindings). */
  synced(): boolean;
  /** Resolves true once synced, or false when `ms` pass first. */
  readyWithin(ms: number): Promise<boolean>;
  /** Stops every watch. */
  stop(): Promise<void>;
}

/**
 * uid and deletion time by namespace and name, for one resource. Only these are kept (the pods
 * of a large cluster cost about 130 bytes each here, not their whole objects), in a map per
 * namespace so that no "namespace/name" key is built per object.
 */
export class LiveObjectTable {
  /** The uid alone while an object is not being deleted (the common case: no object per entry). */
  private readonly byNamespace = new Map<string, Map<string, string | LiveObject>>();

  get(namespace: string, name: string): LiveObject | undefined {
    const entry = this.byNamespace.get(namespace)?.get(name);
    return typeof entry === 'string' ? { uid: entry } : entry;
  }

  replace(objects: KubeObject[]): void {
    this.byNamespace.clear();
    for (const object of objects) this.apply('ADDED', object);
  }

  apply(type: 'ADDED' | 'MODIFIED' | 'DELETED', object: KubeObject): void {
    const meta = isPlainObject(object.metadata) ? object.metadata : {};
    const s = (v: unknown): string => (typeof v === 'string' ? v : '');
    const namespace = s(meta.namespace);
    const name = s(meta.name);
    if (type === 'DELETED') {
      const names = this.byNamespace.get(namespace);
      names?.delete(name);
      if (names?.size === 0) this.byNamespace.delete(namespace);
      return;
    }
    let names = this.byNamespace.get(namespace);
    if (names === undefined) this.byNamespace.set(namespace, (names = new Map()));
    const uid = s(meta.uid);
    const deletion = s(meta.deletionTimestamp);
    // An unreadable deletion time counts as long past: the object's tokens are refused.
    names.set(name, deletion === '' ? uid : { uid, deletionTimestamp: Number.isNaN(Date.parse(deletion)) ? 0 : Date.parse(deletion) });
  }

  /** The objects known (tests, logs). */
  get size(): number {
    let n = 0;
    for (const names of this.byNamespace.values()) n += names.size;
    return n;
  }
}

/** What the table needs of an object: nothing else of it is held, even while a list comes in. */
function livenessOnly(object: KubeObject): KubeObject {
  const meta = isPlainObject(object.metadata) ? object.metadata : {};
  return { metadata: { namespace: meta.namespace, name: meta.name, uid: meta.uid, deletionTimestamp: meta.deletionTimestamp } };
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

/** The core/v1 resources whose objects' uids tokens are checked against. */
const TOKEN_OBJECT_RESOURCES = { ServiceAccount: 'serviceaccounts', Pod: 'pods', Secret: 'secrets', Node: 'nodes' } as const;

/** Starts following the RBAC objects, and the ServiceAccounts and the objects tokens are bound to, through `watcher`. */
export function startPolicyIndex(options: PolicyIndexOptions): PolicyIndex {
  const { watcher, logger } = options;
  const index = new RbacIndex();
  const informers: Informer[] = [];
  const follow = (
    target: InformerTarget,
    replace: (objects: KubeObject[]) => void,
    event: (type: 'ADDED' | 'MODIFIED' | 'DELETED', object: KubeObject) => void,
    project?: (object: KubeObject) => KubeObject,
  ): void => {
    informers.push(new Informer({ source: watcher, target, logger, retryMs: options.retryMs, project, handlers: { replace, event } }).start());
  };
  for (const resource of RBAC_RESOURCES) {
    follow(
      { group: RBAC_GROUP, version: 'v1', resource, namespace: '' },
      (objects) => index.replace(resource as RbacResource, objects),
      (type, object) => index.apply(resource, type, object),
    );
  }
  const tables = {} as Record<keyof typeof TOKEN_OBJECT_RESOURCES, LiveObjectTable>;
  for (const [kind, resource] of Object.entries(TOKEN_OBJECT_RESOURCES) as [keyof typeof TOKEN_OBJECT_RESOURCES, string][]) {
    const table = (tables[kind] = new LiveObjectTable());
    follow(
      { group: '', version: 'v1', resource, namespace: '' },
      (objects) => table.replace(objects),
      (type, object) => table.apply(type, object),
      livenessOnly,
    );
  }
  const objects: TokenObjectLookup = {
    serviceAccount: (namespace, name) => tables.ServiceAccount.get(namespace, name),
    bound: (kind: BoundObjectKind, namespace, name) => tables[kind].get(kind === 'Node' ? '' : namespace, name),
  };
  const synced = (): boolean => informers.every((i) => i.synced());
  const allSynced = Promise.all(informers.map((i) => i.whenSynced())).then(() => {
    if (synced()) logger.info('policy index synced', { ...index.counts() });
  });
  return {
    authorizer: new PolicyAuthorizer(new RbacAuthorizer(index)),
    serviceAccounts: { uidOf: (namespace, name) => tables.ServiceAccount.get(namespace, name)?.uid },
    objects,
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
