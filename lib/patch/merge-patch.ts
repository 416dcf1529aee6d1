/**
 * JSON Merge Patch (RFC 7386) as kube-apiserver applies it (evanphx/json-patch's MergePatch):
 * an object merges key by key, null deletes, anything else replaces; values placed where
 * there was nothing to merge with lose their null fields. Pure; `doc` is changed in place.
 */
import { isPlainObject } from '../kube.ts';

/** The value with the null fields of its objects removed, recursively (arrays keep null items). */
export function pruneNulls(value: unknown): unknown {
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = pruneNulls(value[i]);
    return value;
  }
  if (isPlainObject(value)) {
    for (const k of Object.keys(value)) {
      if (value[k] === null) delete value[k];
      else value[k] = pruneNulls(value[k]);
    }
  }
  return value;
}

/**
 * Merges `patch` into `doc` (both objects) and returns `doc`. The caller refuses a patch that
 * is no object first (kube: `Invalid JSON Patch`, or a decoding error under Strict).
 */
export function applyMergePatch(doc: Record<string, unknown>, patch: Record<string, unknown>): Record<string, unknown> {
  for (const k of Object.keys(patch)) {
    const value = patch[k];
    if (value === null) {
      delete doc[k];
      continue;
    }
    const current = Object.hasOwn(doc, k) ? doc[k] : undefined;
    let merged: unknown;
    // Nothing to merge with: the value goes in without its null fields. An object meets an
    // object: merged; anything else: replaced as is.
    if (!isPlainObject(current)) merged = pruneNulls(value);
    else merged = isPlainObject(value) ? applyMergePatch(current, value) : value;
    Object.defineProperty(doc, k, { value: merged, writable: true, enumerable: true, configurable: true });
  }
  return doc;
}
