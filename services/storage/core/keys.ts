/**
 * etcd keys of kube-apiserver: /registry/<resource>/<namespace>/<name> for the core group,
 * /registry/<group>/<resource>/... otherwise; cluster-scoped objects have no namespace segment.
 */
import { badRequest } from '../../../lib/errors.ts';
import type { StorageRef } from '../api.ts';

export const REGISTRY_PREFIX = '/registry/';

function resourcePrefix(ref: Pick<StorageRef, 'group' | 'resource'>): string {
  return ref.group === '' ? `${REGISTRY_PREFIX}${ref.resource}/` : `${REGISTRY_PREFIX}${ref.group}/${ref.resource}/`;
}

/** A key segment must not be able to escape its place in the key space. */
function checkSegment(what: string, value: string): void {
  if (value.includes('/') || value === '.' || value === '..') {
    throw badRequest(`invalid ${what} "${value}": may not contain "/" or be "." or ".."`);
  }
}

/** The key of one object. */
export function objectKey(ref: StorageRef): string {
  if (ref.name === '') throw badRequest('name is required');
  checkSegment('name', ref.name);
  if (ref.namespace === '') return resourcePrefix(ref) + ref.name;
  checkSegment('namespace', ref.namespace);
  return `${resourcePrefix(ref)}${ref.namespace}/${ref.name}`;
}

/** The prefix of a collection: the whole resource, or one namespace of it. Ends with "/". */
export function collectionPrefix(ref: StorageRef): string {
  if (ref.namespace === '') return resourcePrefix(ref);
  checkSegment('namespace', ref.namespace);
  return `${resourcePrefix(ref)}${ref.namespace}/`;
}

/**
 * The built-in API groups whose names have no ".": every other group has one (a custom
 * resource's group must), and no core resource is named like these.
 */
const DOTLESS_GROUPS: ReadonlySet<string> = new Set(['apps', 'autoscaling', 'batch', 'extensions', 'policy']);

/** The group and resource a key belongs to (core resources have no "." in their name; groups do, but for the few built-in ones above). */
export function resourceOfKey(key: string): { group: string; resource: string } | undefined {
  if (!key.startsWith(REGISTRY_PREFIX)) return undefined;
  const parts = key.slice(REGISTRY_PREFIX.length).split('/');
  const first = parts[0] ?? '';
  if (first === '') return undefined;
  if (first.includes('.') || DOTLESS_GROUPS.has(first)) {
    const resource = parts[1];
    return resource === undefined || resource === '' ? undefined : { group: first, resource };
  }
  return { group: '', resource: first };
}

/**
 * Whose key it is: group, resource, and namespace and name (namespace "" for cluster-scoped
 * objects, whose keys have one segment fewer). undefined for a key outside the layout; for
 * every other key, objectKey gives the key back.
 */
export function objectOfKey(key: string): StorageRef | undefined {
  const owner = resourceOfKey(key);
  if (owner === undefined) return undefined;
  const rest = key.slice(REGISTRY_PREFIX.length).split('/').slice(owner.group === '' ? 1 : 2);
  // Segments objectKey refuses never name an object.
  if (rest.some((segment) => segment === '' || segment === '.' || segment === '..')) return undefined;
  const [first, second] = rest as [string, string | undefined];
  if (rest.length === 1) return { ...owner, namespace: '', name: first };
  if (rest.length === 2) return { ...owner, namespace: first, name: second as string };
  return undefined;
}

/** The first key after every key that starts with `prefix` (etcd's range_end for a prefix). */
export function prefixEnd(prefix: string): Buffer {
  const end = Buffer.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if ((end[i] ?? 0) < 0xff) {
      end[i] = (end[i] ?? 0) + 1;
      return end.subarray(0, i + 1);
    }
  }
  return Buffer.from([0]);
}

// Code units at or above U+D800 are where UTF-16 order and UTF-8 byte order part ways.
const NON_BMP_ORDER = /[\uD800-\uFFFF]/;

/** Orders keys as etcd does: by their UTF-8 bytes. */
export function compareKeys(a: string, b: string): number {
  if (!NON_BMP_ORDER.test(a) && !NON_BMP_ORDER.test(b)) return a < b ? -1 : a > b ? 1 : 0;
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}
