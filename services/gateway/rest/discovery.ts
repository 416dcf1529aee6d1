/**
 * The discovery documents kubectl and client libraries read before anything else: /version,
 * /api, /api/v1, /apis (plain and aggregated apidiscovery.k8s.io/v2 forms), all derived from
 * the resource registry.
 */
import { createHash } from 'node:crypto';
import { apiVersionOf, type KindDefinition, type ResourceInfo, type KindRegistry } from '../../../lib/kinds/index.ts';
import { servedSubresources, type ServedSubresource } from '../../../lib/kinds/subresources.ts';

/** The Kubernetes API version this server speaks; kubectl checks skew against it. */
export const KUBE_VERSION = { major: '1', minor: '32', gitVersion: 'v1.32.0' } as const;

export function versionInfo(): Record<string, string> {
  return {
    major: KUBE_VERSION.major,
    minor: KUBE_VERSION.minor,
    gitVersion: KUBE_VERSION.gitVersion,
    gitCommit: '0000000000000000000000000000000000000000',
    gitTreeState: 'clean',
    buildDate: '2026-01-01T00:00:00Z',
    goVersion: `node${process.versions.node}`,
    compiler: 'tsc',
    platform: `${process.platform}/${process.arch === 'x64' ? 'amd64' : process.arch}`,
  };
}

/** storageVersionHash: a stable digest of group/version/kind, as clients only compare it. */
function storageVersionHash(r: ResourceInfo): string {
  return createHash('sha256').update(`${r.group}/${r.version}/${r.kind}`).digest('base64').slice(0, 11);
}

export function apiVersions(serverAddress: string): Record<string, unknown> {
  return {
    kind: 'APIVersions',
    versions: ['v1'],
    serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }],
  };
}

export function apiGroupList(registry: KindRegistry): Record<string, unknown> {
  const groups = new Map<string, string[]>();
  for (const { group, version } of registry.groupVersions()) {
    if (group === '') continue;
    groups.set(group, [...(groups.get(group) ?? []), version]);
  }
  return {
    kind: 'APIGroupList',
    apiVersion: 'v1',
    groups: [...groups].map(([name, versions]) => ({
      name,
      versions: versions.map((v) => ({ groupVersion: `${name}/${v}`, version: v })),
      preferredVersion: { groupVersion: `${name}/${versions[0]}`, version: versions[0] },
    })),
  };
}

/** APIResourceList of one group version, or undefined when it is not served. */
export function apiResourceList(registry: KindRegistry, group: string, version: string): Record<string, unknown> | undefined {
  const resources = registry.all.filter((r) => r.group === group && r.version === version);
  if (resources.length === 0) return undefined;
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: apiVersionOf({ group, version }),
    resources: resources.flatMap((r) => [
      {
        name: r.resource,
        singularName: r.singular,
        namespaced: r.namespaced,
        kind: r.kind,
        verbs: [...r.verbs],
        shortNames: [...r.shortNames],
        // omitempty, as kube serves it.
        ...(r.categories.length > 0 ? { categories: [...r.categories] } : {}),
        storageVersionHash: storageVersionHash(r),
      },
      ...legacySubresourceEntries(r),
    ]),
  };
}

/**
 * A resource's subresources in discovery's order: a built-in kind's by name (kube lists its
 * storage paths sorted), a custom kind's status then scale (as apiextensions adds them).
 */
function discoveryOrder(r: KindDefinition): ServedSubresource[] {
  const served = servedSubresources(r);
  return r.source === 'custom' ? served : served.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/**
 * A resource's subresources as legacy discovery lists them, after the resource:
 * `deployments/scale` with the group and version of its kind when they differ from the
 * resource's (autoscaling/v1 Scale, policy/v1 Eviction), no singular name, its own verbs.
 */
function legacySubresourceEntries(r: KindDefinition): Record<string, unknown>[] {
  return discoveryOrder(r).map((s) => {
    const { group, version, kind } = s.responseKind;
    const other = group !== r.group || version !== r.version;
    return {
      name: `${r.resource}/${s.name}`,
      singularName: '',
      namespaced: r.namespaced,
      ...(other ? { group, version } : {}),
      kind,
      verbs: [...s.verbs],
    };
  });
}

/**
 * Aggregated discovery (apidiscovery.k8s.io/v2): `legacy` true for /api (the core group),
 * false for /apis (every named group).
 */
export function aggregatedDiscovery(registry: KindRegistry, legacy: boolean): Record<string, unknown> {
  const byGroup = new Map<string, Map<string, KindDefinition[]>>();
  for (const r of registry.all) {
    if ((r.group === '') !== legacy) continue;
    const versions = byGroup.get(r.group) ?? new Map<string, KindDefinition[]>();
    versions.set(r.version, [...(versions.get(r.version) ?? []), r]);
    byGroup.set(r.group, versions);
  }
  return {
    kind: 'APIGroupDiscoveryList',
    apiVersion: 'apidiscovery.k8s.io/v2',
    metadata: {},
    items: [...byGroup].map(([group, versions]) => ({
      metadata: group === '' ? { creationTimestamp: null } : { name: group, creationTimestamp: null },
      versions: [...versions].map(([version, resources]) => ({
        version,
        resources: resources.map((r) => ({
          resource: r.resource,
          responseKind: { group: r.group, version: r.version, kind: r.kind },
          scope: r.namespaced ? 'Namespaced' : 'Cluster',
          singularResource: r.singular,
          verbs: [...r.verbs],
          shortNames: [...r.shortNames],
          ...(r.categories.length > 0 ? { categories: [...r.categories] } : {}),
          ...aggregatedSubresources(r),
        })),
        freshness: 'Current',
      })),
    })),
  };
}

/** A resource's subresources as aggregated discovery lists them (omitted when none): name, responseKind and verbs. */
function aggregatedSubresources(r: KindDefinition): { subresources?: Record<string, unknown>[] } {
  const served = discoveryOrder(r);
  if (served.length === 0) return {};
  return { subresources: served.map((s) => ({ subresource: s.name, responseKind: { ...s.responseKind }, verbs: [...s.verbs] })) };
}
