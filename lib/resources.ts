/**
 * The built-in resources the control plane serves: the one table from which discovery,
 * routing, storage keys, admission and printing read what a resource is.
 */

export interface ResourceInfo {
  /** API group; "" for the core group. */
  readonly group: string;
  readonly version: string;
  /** Plural, lower-case: the URL segment and the storage key segment. */
  readonly resource: string;
  readonly singular: string;
  readonly kind: string;
  readonly listKind: string;
  readonly namespaced: boolean;
  readonly shortNames: readonly string[];
  readonly verbs: readonly string[];
  /** How names are validated, as kube's ValidateObjectMeta name functions. */
  readonly nameValidation: 'dns1123Subdomain' | 'dns1123Label';
}

const VERBS = ['create', 'delete', 'get', 'list', 'update', 'watch'] as const;

export const BUILTIN_RESOURCES: readonly ResourceInfo[] = [
  {
    group: '',
    version: 'v1',
    resource: 'namespaces',
    singular: 'namespace',
    kind: 'Namespace',
    listKind: 'NamespaceList',
    namespaced: false,
    shortNames: ['ns'],
    verbs: VERBS,
    nameValidation: 'dns1123Label',
  },
  {
    group: '',
    version: 'v1',
    resource: 'nodes',
    singular: 'node',
    kind: 'Node',
    listKind: 'NodeList',
    namespaced: false,
    shortNames: ['no'],
    verbs: VERBS,
    nameValidation: 'dns1123Subdomain',
  },
  {
    group: '',
    version: 'v1',
    resource: 'configmaps',
    singular: 'configmap',
    kind: 'ConfigMap',
    listKind: 'ConfigMapList',
    namespaced: true,
    shortNames: ['cm'],
    verbs: VERBS,
    nameValidation: 'dns1123Subdomain',
  },
];

/** Lookup of resources by group/version/resource. */
export class ResourceRegistry {
  private readonly byKey = new Map<string, ResourceInfo>();
  readonly all: readonly ResourceInfo[];

  constructor(resources: readonly ResourceInfo[] = BUILTIN_RESOURCES) {
    this.all = resources;
    for (const r of resources) this.byKey.set(`${r.group}/${r.version}/${r.resource}`, r);
  }

  get(group: string, version: string, resource: string): ResourceInfo | undefined {
    return this.byKey.get(`${group}/${version}/${resource}`);
  }

  /** Group versions served, in discovery order. */
  groupVersions(): { group: string; version: string }[] {
    const seen = new Map<string, { group: string; version: string }>();
    for (const r of this.all) seen.set(`${r.group}/${r.version}`, { group: r.group, version: r.version });
    return [...seen.values()];
  }
}

/** "v1" for the core group, "group/version" otherwise. */
export function apiVersionOf(r: { group: string; version: string }): string {
  return r.group === '' ? r.version : `${r.group}/${r.version}`;
}

/** The object with the kind and apiVersion of `info` (storage keeps objects without relying on them). */
export function withTypeMeta<T extends { kind?: unknown; apiVersion?: unknown }>(object: T, info: ResourceInfo): T & { kind: string; apiVersion: string } {
  return { ...object, kind: info.kind, apiVersion: apiVersionOf(info) };
}
