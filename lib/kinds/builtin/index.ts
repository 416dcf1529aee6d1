/**
 * The built-in kinds, in discovery order (see {@link discoveryOrder}). Adding one: its module in its area's directory
 * (identity, strategy, printing; its schema comes from the generated data), one line in that
 * area's index.ts, and its tests.
 */
import type { KindDefinition } from '../types.ts';
import { APPS_KINDS } from './apps/index.ts';
import { CONFIG_MAP } from './configmap.ts';
import { CORE_KINDS } from './core/index.ts';
import { CUSTOM_RESOURCE_DEFINITION } from './customresourcedefinition.ts';
import { NAMESPACE } from './namespace.ts';
import { NODE } from './node.ts';
import { PLATFORM_KINDS } from './platform/index.ts';
import { REVIEW_KINDS } from './reviews/index.ts';
import { SERVICE_KINDS } from './service/index.ts';
import { VIEW_KINDS } from './views/index.ts';
import { WORKLOAD_KINDS } from './workloads/index.ts';

/**
 * The groups in the order kube-apiserver's discovery lists them (the aggregator's group
 * priorities, highest first; equal priorities by name). Groups not listed come after them.
 */
const GROUP_ORDER: readonly string[] = [
  '',
  'apps',
  'events.k8s.io',
  'authentication.k8s.io',
  'authorization.k8s.io',
  'autoscaling',
  'batch',
  'certificates.k8s.io',
  'networking.k8s.io',
  'policy',
  'rbac.authorization.k8s.io',
  'storage.k8s.io',
  'admissionregistration.k8s.io',
  'apiextensions.k8s.io',
  'scheduling.k8s.io',
  'coordination.k8s.io',
  'node.k8s.io',
  'discovery.k8s.io',
  'flowcontrol.apiserver.k8s.io',
];

/**
 * Kinds as kube's discovery orders them, which is what `kubectl get all` and `api-resources`
 * print in: groups by {@link GROUP_ORDER}, a group's versions as listed (the preferred one
 * first), a group version's resources by name.
 */
function discoveryOrder(kinds: readonly KindDefinition[]): KindDefinition[] {
  const rank = (group: string): number => {
    const i = GROUP_ORDER.indexOf(group);
    return i < 0 ? GROUP_ORDER.length : i;
  };
  const versionRank = new Map<string, number>();
  for (const k of kinds) if (!versionRank.has(`${k.group}/${k.version}`)) versionRank.set(`${k.group}/${k.version}`, versionRank.size);
  return [...kinds].sort(
    (a, b) =>
      rank(a.group) - rank(b.group) ||
      (a.group < b.group ? -1 : a.group > b.group ? 1 : 0) ||
      (versionRank.get(`${a.group}/${a.version}`) ?? 0) - (versionRank.get(`${b.group}/${b.version}`) ?? 0) ||
      (a.resource < b.resource ? -1 : a.resource > b.resource ? 1 : 0),
  );
}

export const BUILTIN_KINDS: readonly KindDefinition[] = Object.freeze(discoveryOrder([
  NAMESPACE,
  NODE,
  CONFIG_MAP,
  ...CORE_KINDS,
  ...SERVICE_KINDS,
  ...WORKLOAD_KINDS,
  ...APPS_KINDS,
  ...PLATFORM_KINDS,
  ...REVIEW_KINDS,
  ...VIEW_KINDS,
  CUSTOM_RESOURCE_DEFINITION,
]));
