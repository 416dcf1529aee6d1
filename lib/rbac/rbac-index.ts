/**
 * The RBAC objects a decision reads, held in memory and kept current by events (an informer):
 * Roles and RoleBindings by namespace, ClusterRoles by name, ClusterRoleBindings. A binding
 * lookup is a scan of the cluster's ClusterRoleBindings and of one namespace's RoleBindings, as
 * kube's rule resolver scans its listers; nothing is read from storage.
 */
import { isPlainObject } from '../kube.ts';
import { compareGoStrings, rulesOf, type PolicyRule } from './rules.ts';

export type RbacResource = 'roles' | 'clusterroles' | 'rolebindings' | 'clusterrolebindings';
export const RBAC_RESOURCES: readonly RbacResource[] = ['roles', 'clusterroles', 'rolebindings', 'clusterrolebindings'];

/** rbacv1.Subject */
export interface Subject {
  kind: string;
  apiGroup: string;
  name: string;
  namespace: string;
}

/** rbacv1.RoleRef */
export interface RoleRef {
  apiGroup: string;
  kind: string;
  name: string;
}

/** A RoleBinding (namespace set) or ClusterRoleBinding (namespace ""). */
export interface Binding {
  name: string;
  namespace: string;
  roleRef: RoleRef;
  subjects: Subject[];
}

/** A Role (namespace set) or ClusterRole (namespace ""), its rules as stored. */
export interface RoleEntry {
  name: string;
  namespace: string;
  rules: PolicyRule[];
}

/** One change of one resource, as a watch event brings it. */
export type IndexEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

function str(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

function metaOf(object: Record<string, unknown>): { name: string; namespace: string } {
  const meta = isPlainObject(object.metadata) ? object.metadata : {};
  return { name: str(meta.name), namespace: str(meta.namespace) };
}

/** A binding from JSON; absent fields read as empty. */
export function bindingFrom(object: Record<string, unknown>): Binding {
  const ref = isPlainObject(object.roleRef) ? object.roleRef : {};
  const subjects = Array.isArray(object.subjects) ? object.subjects : [];
  return {
    ...metaOf(object),
    roleRef: { apiGroup: str(ref.apiGroup), kind: str(ref.kind), name: str(ref.name) },
    subjects: subjects.map((s) => (isPlainObject(s) ? s : {})).map((s) => ({ kind: str(s.kind), apiGroup: str(s.apiGroup), name: str(s.name), namespace: str(s.namespace) })),
  };
}

/** A role from JSON. */
export function roleFrom(object: Record<string, unknown>): RoleEntry {
  return { ...metaOf(object), rules: rulesOf(object) };
}

/** Entries by namespace ("" for cluster-scoped) and name, with a name-sorted list per namespace made on demand. */
class Table<T extends { name: string; namespace: string }> {
  private readonly byNamespace = new Map<string, Map<string, T>>();
  private readonly sorted = new Map<string, readonly T[]>();

  get(namespace: string, name: string): T | undefined {
    return this.byNamespace.get(namespace)?.get(name);
  }

  set(entry: T): void {
    let names = this.byNamespace.get(entry.namespace);
    if (names === undefined) this.byNamespace.set(entry.namespace, (names = new Map()));
    names.set(entry.name, entry);
    this.sorted.delete(entry.namespace);
  }

  delete(namespace: string, name: string): void {
    const names = this.byNamespace.get(namespace);
    if (names === undefined) return;
    names.delete(name);
    if (names.size === 0) this.byNamespace.delete(namespace);
    this.sorted.delete(namespace);
  }

  clear(): void {
    this.byNamespace.clear();
    this.sorted.clear();
  }

  /** The entries of `namespace` by name (a stable order, so that a decision's reason is too). */
  list(namespace: string): readonly T[] {
    let list = this.sorted.get(namespace);
    if (list === undefined) {
      list = [...(this.byNamespace.get(namespace)?.values() ?? [])].sort((a, b) => compareGoStrings(a.name, b.name));
      this.sorted.set(namespace, list);
    }
    return list;
  }

  get size(): number {
    let n = 0;
    for (const names of this.byNamespace.values()) n += names.size;
    return n;
  }
}

/**
 * The four RBAC resources in memory. `apply` takes one watch event, `replace` a resource's
 * whole list (a relist after the watch lost its place). Cluster-scoped objects are kept under
 * namespace "", whatever namespace their JSON carries.
 */
export class RbacIndex {
  private readonly roles = new Table<RoleEntry>();
  private readonly clusterRoles = new Table<RoleEntry>();
  private readonly roleBindings = new Table<Binding>();
  private readonly clusterRoleBindings = new Table<Binding>();

  /** Applies one event of `resource` to the index. */
  apply(resource: RbacResource, type: IndexEventType, object: Record<string, unknown>): void {
    const clusterScoped = resource === 'clusterroles' || resource === 'clusterrolebindings';
    const { name, namespace: ns } = metaOf(object);
    const namespace = clusterScoped ? '' : ns;
    if (type === 'DELETED') {
      this.table(resource).delete(namespace, name);
      return;
    }
    if (resource === 'roles' || resource === 'clusterroles') {
      (resource === 'roles' ? this.roles : this.clusterRoles).set({ ...roleFrom(object), namespace });
    } else {
      (resource === 'rolebindings' ? this.roleBindings : this.clusterRoleBindings).set({ ...bindingFrom(object), namespace });
    }
  }

  /** Replaces everything of `resource` with `objects`. */
  replace(resource: RbacResource, objects: Iterable<Record<string, unknown>>): void {
    this.table(resource).clear();
    for (const object of objects) this.apply(resource, 'ADDED', object);
  }

  private table(resource: RbacResource): Table<RoleEntry> | Table<Binding> {
    switch (resource) {
      case 'roles':
        return this.roles;
      case 'clusterroles':
        return this.clusterRoles;
      case 'rolebindings':
        return this.roleBindings;
      case 'clusterrolebindings':
        return this.clusterRoleBindings;
    }
  }

  role(namespace: string, name: string): RoleEntry | undefined {
    return this.roles.get(namespace, name);
  }

  clusterRole(name: string): RoleEntry | undefined {
    return this.clusterRoles.get('', name);
  }

  /** Every ClusterRoleBinding, by name. */
  listClusterRoleBindings(): readonly Binding[] {
    return this.clusterRoleBindings.list('');
  }

  /** The RoleBindings of `namespace`, by name. */
  listRoleBindings(namespace: string): readonly Binding[] {
    return this.roleBindings.list(namespace);
  }

  /** How many objects of each resource the index holds. */
  counts(): Record<RbacResource, number> {
    return { roles: this.roles.size, clusterroles: this.clusterRoles.size, rolebindings: this.roleBindings.size, clusterrolebindings: this.clusterRoleBindings.size };
  }
}
