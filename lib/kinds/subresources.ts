/**
 * The subresources a kind serves, read from its definition alone (so that routing, the
 * pipeline, admission and discovery agree): `status` (the object itself, read and written as
 * kube's status strategies do), `scale` (an autoscaling/v1 Scale made from the object, when the
 * definition says where the replicas are), the POST subresources of its handler table, and the
 * PUT subresources with a strategy of their own (namespaces/finalize).
 * A name in `subresources` that none of these serves is not served.
 */
import type { KindDefinition, PostSubresource, UpdateSubresource } from './types.ts';

/** The group, version and kind of what a subresource answers. */
export interface GroupVersionKind {
  readonly group: string;
  readonly version: string;
  readonly kind: string;
}

/** One served subresource, as discovery lists it. */
export interface ServedSubresource {
  readonly name: string;
  /** Its verbs, as discovery lists them. */
  readonly verbs: readonly string[];
  readonly responseKind: GroupVersionKind;
  /** The handler of a POST subresource. */
  readonly post?: PostSubresource;
  /** The strategy of a PUT subresource that writes the object (namespaces/finalize). */
  readonly update?: UpdateSubresource;
}

/** The verbs of kube's status and scale subresources (get, and writes: update and patch). */
const READ_WRITE_VERBS: readonly string[] = Object.freeze(['get', 'patch', 'update']);
const CREATE_VERBS: readonly string[] = Object.freeze(['create']);
/** The verbs of a PUT subresource with its own strategy (kube's namespaces/finalize). */
const UPDATE_VERBS: readonly string[] = Object.freeze(['update']);

/** The kind of the scale subresource's objects. */
export const SCALE_GVK: GroupVersionKind = Object.freeze({ group: 'autoscaling', version: 'v1', kind: 'Scale' });

/** The subresource `name` of `kind`, when it serves it. */
export function servedSubresource(kind: KindDefinition, name: string): ServedSubresource | undefined {
  if (name === '' || !kind.subresources.includes(name)) return undefined;
  if (name === 'status') return { name, verbs: READ_WRITE_VERBS, responseKind: { group: kind.group, version: kind.version, kind: kind.kind } };
  if (name === 'scale') return kind.scale === undefined ? undefined : { name, verbs: READ_WRITE_VERBS, responseKind: SCALE_GVK };
  const update = kind.updateSubresources !== undefined && Object.hasOwn(kind.updateSubresources, name) ? kind.updateSubresources[name] : undefined;
  if (update !== undefined) return { name, verbs: UPDATE_VERBS, responseKind: { group: kind.group, version: kind.version, kind: kind.kind }, update };
  const post = kind.postSubresources !== undefined && Object.hasOwn(kind.postSubresources, name) ? kind.postSubresources[name] : undefined;
  if (post === undefined) return undefined;
  return { name, verbs: CREATE_VERBS, responseKind: { group: post.group, version: post.version, kind: post.kind }, post };
}

/** Every subresource `kind` serves, in the order of its `subresources`. */
export function servedSubresources(kind: KindDefinition): ServedSubresource[] {
  return kind.subresources.map((name) => servedSubresource(kind, name)).filter((s): s is ServedSubresource => s !== undefined);
}

/** Whether writes to `kind` follow the status rules (create resets status, the main resource keeps it). */
export function servesStatus(kind: KindDefinition): boolean {
  return servedSubresource(kind, 'status') !== undefined;
}
