/**
 * kubectl's `kubectl.kubernetes.io/last-applied-configuration` annotation and server-side
 * apply, as kube's lastAppliedManager and lastAppliedUpdater do them
 * (k8s.io/apimachinery/pkg/util/managedfields/internal), both only for the manager "kubectl"
 * (`kubectl apply --server-side`'s default; any other manager opts out):
 *
 * - the upgrade from client-side to server-side apply: a conflict on a field of the
 *   last-applied configuration that still holds its value in the live object is no conflict
 *   (kubectl applied it); when every conflict is such, the apply is done again with force,
 *   otherwise the 409 names only the others;
 * - after an apply to an object that has the annotation, the annotation is the apply
 *   configuration (as Go's encoding/json writes it: sorted keys, a trailing newline), so a later
 *   client-side `kubectl apply` diffs against what was last applied.
 *
 * kube stacks them over its field manager in this order (NewDefaultFieldManager): version check,
 * lastAppliedUpdater, lastAppliedManager, then the rest, which {@link FieldManager} does. The
 * version check throws before anything here matters, so wrapping FieldManager.apply is the
 * same order.
 */
import { isPlainObject, jsonNestingDepth, MAX_JSON_DEPTH, type KubeObject } from '../kube.ts';
import { goJson, type FieldSet } from './fieldpath.ts';
import { ApplyConflictError, conflictError, type FieldManager } from './manager.ts';
import { compare, toFieldSet, TypedError } from './typed.ts';
import type { ApplyTypes } from './types.ts';

/** The annotation kubectl's client-side apply keeps its three-way merge's "original" in. */
export const LAST_APPLIED_ANNOTATION = 'kubectl.kubernetes.io/last-applied-configuration';

/** The one manager whose applies read and write the annotation. */
export const LAST_APPLIED_MANAGER = 'kubectl';

/** kube's TotalAnnotationSizeLimitB: the annotations' keys and values, in bytes. */
const TOTAL_ANNOTATION_SIZE_LIMIT = 256 * 1024;

export interface LastAppliedOptions {
  /** The endpoint's types: the last-applied configuration and the live object are compared as this kind. */
  types: ApplyTypes;
  /** The endpoint's apiVersion and kind: a last-applied configuration of another is ignored. */
  apiVersion: string;
  kind: string;
}

/**
 * A {@link FieldManager} with kube's lastAppliedUpdater and lastAppliedManager around its
 * apply (see the module comment); update is the FieldManager's. Pure, as FieldManager is.
 */
export class LastAppliedFieldManager {
  readonly #inner: FieldManager;
  readonly #o: LastAppliedOptions;

  constructor(inner: FieldManager, o: LastAppliedOptions) {
    this.#inner = inner;
    this.#o = o;
  }

  /** FieldManager.update. */
  update(live: KubeObject | undefined, newObject: KubeObject, manager: string): KubeObject {
    return this.#inner.update(live, newObject, manager);
  }

  /**
   * FieldManager.apply, and for the manager "kubectl": conflicts the last-applied annotation of
   * `live` allows are forced (the 409 otherwise names only the others), and a result that has a
   * non-empty annotation gets `applied` (without the annotation) as its value, or loses it when
   * the annotations would pass kube's 256 KiB limit.
   */
  apply(live: KubeObject | undefined, applied: KubeObject, manager: string, force: boolean): KubeObject {
    const result = this.#upgrading(live, applied, manager, force);
    if (manager !== LAST_APPLIED_MANAGER || lastAppliedOf(result) === undefined) return result;
    return withLastApplied(result, lastAppliedValue(applied));
  }

  /** lastAppliedManager.Apply. */
  #upgrading(live: KubeObject | undefined, applied: KubeObject, manager: string, force: boolean): KubeObject {
    try {
      return this.#inner.apply(live, applied, manager, force);
    } catch (err) {
      if (manager !== LAST_APPLIED_MANAGER || !(err instanceof ApplyConflictError)) throw err;
      const allowed = this.allowedConflicts(live);
      if (allowed === undefined) throw err;
      const remaining = err.conflicts.filter((c) => !allowed.has(c.path));
      if (remaining.length > 0) throw conflictError(remaining);
      return this.#inner.apply(live, applied, manager, true);
    }
  }

  /**
   * The fields of `live`'s last-applied configuration that still hold the value it gives them
   * (its field set less what comparing it with `live` finds modified, added or removed), or
   * undefined (nothing allowed) when there is no annotation, or it does not decode to an object
   * of the endpoint's apiVersion and kind, or either side does not fit the schema.
   */
  allowedConflicts(live: KubeObject | undefined): FieldSet | undefined {
    const text = lastAppliedOf(live);
    if (text === undefined) return undefined;
    // walked recursively below: a configuration nested beyond any real object's depth is none
    if (jsonNestingDepth(Buffer.from(text), MAX_JSON_DEPTH) > MAX_JSON_DEPTH) return undefined;
    let last: unknown;
    try {
      last = JSON.parse(text);
    } catch {
      return undefined;
    }
    // kube decodes it as Unstructured (a kind is required) and types it by its kind
    if (!isPlainObject(last) || last.apiVersion !== this.#o.apiVersion || last.kind !== this.#o.kind) return undefined;
    const root = this.#o.types.root;
    try {
      const set = toFieldSet(last, root, true);
      // kube types the live object without allowing duplicate list items too
      toFieldSet(live, root, true);
      const cmp = compare(last, live, root);
      return set.difference(cmp.modified).difference(cmp.added).difference(cmp.removed);
    } catch (err) {
      if (err instanceof TypedError) return undefined;
      throw err;
    }
  }
}

/** The non-empty last-applied annotation of `object`, if any (kube's hasLastApplied). */
export function lastAppliedOf(object: KubeObject | undefined): string | undefined {
  const annotations = object?.metadata?.annotations;
  if (!isPlainObject(annotations)) return undefined;
  const value = annotations[LAST_APPLIED_ANNOTATION];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/**
 * kube's buildLastApplied: the apply configuration without the annotation itself, encoded as
 * kube's unstructured JSON encoder writes it (Go's json.Encoder: keys sorted, HTML characters
 * escaped, a newline at the end). Annotations are read as Unstructured reads them: a null value
 * is "", null or unreadable annotations are dropped.
 */
export function lastAppliedValue(applied: KubeObject): string {
  const metadata = applied.metadata;
  if (!isPlainObject(metadata)) return `${goJson(applied)}\n`;
  const { annotations, ...rest } = metadata;
  let kept: Record<string, string> | undefined;
  if (isPlainObject(annotations)) {
    kept = {};
    for (const [k, v] of Object.entries(annotations)) {
      if (typeof v === 'string') kept[k] = v;
      else if (v === null) kept[k] = '';
      else {
        kept = undefined;
        break;
      }
    }
    if (kept !== undefined) delete kept[LAST_APPLIED_ANNOTATION];
  }
  return `${goJson({ ...applied, metadata: kept === undefined ? rest : { ...rest, annotations: kept } })}\n`;
}

/** kube's SetLastApplied: `object` with the annotation set to `value`, or without it when the annotations would be too large. */
function withLastApplied(object: KubeObject, value: string): KubeObject {
  const metadata = isPlainObject(object.metadata) ? object.metadata : {};
  const annotations: Record<string, string> = isPlainObject(metadata.annotations) ? { ...(metadata.annotations as Record<string, string>) } : {};
  annotations[LAST_APPLIED_ANNOTATION] = value;
  let size = 0;
  for (const [k, v] of Object.entries(annotations)) size += Buffer.byteLength(k) + Buffer.byteLength(String(v));
  if (size > TOTAL_ANNOTATION_SIZE_LIMIT) delete annotations[LAST_APPLIED_ANNOTATION];
  // an empty map stays, as Unstructured keeps it (a built-in kind's encoding leaves it out)
  return { ...object, metadata: { ...metadata, annotations } };
}
