/**
 * The three patch types of kube's PATCH verb, decoded and applied as kube-apiserver's patch
 * handler does (k8s.io/apiserver's handlers/patch.go): the patch type from the Content-Type
 * (415 for any other, listing the supported ones; custom kinds have no strategic merge patch),
 * the body decoded once per request (strictly under fieldValidation Strict or Warn: duplicate
 * fields become strict errors), and applied to each current object read (a retry after a
 * conflict applies it again). Pure: no I/O.
 *
 * - JSON Patch (RFC 6902; json-patch.ts): at most 10,000 operations (413); an operation that
 *   does not apply (a failed `test`, a missing path) is 422 with kube's generic message.
 * - JSON Merge Patch (RFC 7386; merge-patch.ts).
 * - Strategic merge patch (strategic.ts), with the merge facts of the kind's schema.
 *
 * Apply (`application/apply-patch+yaml`) is not applied here (services/gateway/core/apply.ts
 * serves it); the 415 lists it among the accepted types, as kube's does.
 */
import { badRequest, StatusError } from '../errors.ts';
import { checkUntrustedJson, isPlainObject, type KubeObject } from '../kube.ts';
import { jsonKind } from '../object-meta.ts';
import { goQuote } from '../go-strconv.ts';
import { JsonEntries, parseKeepingDuplicates, type FieldValidation } from '../kinds/validate.ts';
import { applyJsonPatch, JsonPatchError, MAX_JSON_PATCH_OPERATIONS, operationsOf, type JsonPatchOperation } from './json-patch.ts';
import { applyMergePatch, pruneNulls } from './merge-patch.ts';
import { applyStrategicMergePatch, NO_MERGE_FACTS, StrategicMergeError, type MergeSchema } from './strategic.ts';

export { MAX_JSON_PATCH_OPERATIONS } from './json-patch.ts';
export { mergeFactsOf, NO_MERGE_FACTS, type MergeSchema, type FactsSchema } from './strategic.ts';

export type PatchType = 'json' | 'merge' | 'strategic';

/** The media type of each patch type (types.PatchType). */
export const PATCH_MEDIA_TYPES: Readonly<Record<PatchType, string>> = {
  json: 'application/json-patch+json',
  merge: 'application/merge-patch+json',
  strategic: 'application/strategic-merge-patch+json',
};

/** Server-side apply's media type: served by the gateway's apply path (services/gateway/core/apply.ts), not here. */
export const APPLY_PATCH_MEDIA_TYPE = 'application/apply-patch+yaml';

/** The patch media types a kind takes, in kube's order (apply last): custom kinds have no strategic merge patch. */
export function supportedPatchMediaTypes(kind: { source: string }): string[] {
  return kind.source === 'builtin'
    ? [PATCH_MEDIA_TYPES.json, PATCH_MEDIA_TYPES.merge, PATCH_MEDIA_TYPES.strategic, APPLY_PATCH_MEDIA_TYPE]
    : [PATCH_MEDIA_TYPES.json, PATCH_MEDIA_TYPES.merge, APPLY_PATCH_MEDIA_TYPE];
}

/**
 * The patch type of a request's Content-Type (parameters after `;` ignored, as kube does);
 * 415 UnsupportedMediaType in kube's words for any other (apply is the caller's to route first).
 */
export function patchTypeOf(contentType: string | undefined, kind: { source: string }): PatchType {
  const raw = contentType ?? '';
  const semicolon = raw.indexOf(';');
  const mediaType = semicolon > 0 ? raw.slice(0, semicolon) : raw;
  const supported = supportedPatchMediaTypes(kind);
  for (const [type, media] of Object.entries(PATCH_MEDIA_TYPES) as [PatchType, string][]) {
    if (media === mediaType && supported.includes(media)) return type;
  }
  throw new StatusError('UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: ${supported.join(', ')}`);
}

/** A patch decoded from its body, ready to be applied to each object read. */
export interface DecodedPatch {
  readonly type: PatchType;
  /** The operations (json), or the patch document (merge: any JSON value under Ignore; strategic: an object). */
  readonly operations?: readonly JsonPatchOperation[];
  readonly document?: unknown;
  /** Strict errors of the patch itself (duplicate fields; unknown fields of JSON patch operations), in kube's words. */
  readonly strictErrors: readonly string[];
}

/** Keys of every object in a parsed value (to tell whether the bytes repeat some). */
function countKeys(value: unknown): number {
  if (Array.isArray(value)) return value.reduce((n: number, v) => n + countKeys(v), 0);
  if (!isPlainObject(value)) return 0;
  let n = 0;
  for (const k in value) n += 1 + countKeys(value[k]);
  return n;
}

/** The duplicate fields of the JSON text, as sigs.k8s.io/json names them (`a.b`, `[0].op`). */
function duplicateFields(bytes: Uint8Array): string[] {
  const out: string[] = [];
  const walk = (value: unknown, path: string): void => {
    if (Array.isArray(value)) {
      value.forEach((v, i) => walk(v, `${path}[${i}]`));
      return;
    }
    if (!(value instanceof JsonEntries)) return;
    const seen = new Set<string>();
    for (const [k, v] of value.entries) {
      const child = path === '' ? k : `${path}.${k}`;
      if (seen.has(k) && out.length < 100) out.push(`duplicate field ${goQuote(child)}`);
      seen.add(k);
      walk(v, child);
    }
  };
  walk(parseKeepingDuplicates(bytes), '');
  return [...new Set(out)];
}

const OPERATION_FIELDS = new Set(['op', 'path', 'from', 'value']);

/**
 * Decodes a patch body of `type` (checked first as every body is: UTF-8, nesting). Under
 * Strict and Warn the body is decoded strictly, as kube's sigs.k8s.io/json UnmarshalStrict:
 * 400 BadRequest for a body of the wrong shape, strict errors for duplicate fields (and
 * unknown fields of JSON patch operations); 413 for more than 10,000 JSON patch operations.
 */
export function decodePatch(type: PatchType, bytes: Uint8Array, fieldValidation: FieldValidation): DecodedPatch {
  const strict = fieldValidation !== 'Ignore';
  const prefix = type === 'strategic' ? '' : 'error decoding patch: ';
  let shape;
  let value: unknown;
  try {
    shape = checkUntrustedJson(bytes);
    value = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
  } catch (err) {
    if (err instanceof StatusError) throw err;
    // V8's message quotes the body: never echo it back.
    if (type === 'merge' && !strict) throw badRequest('Invalid JSON Patch');
    throw badRequest(`${strict || type === 'strategic' ? prefix : ''}the patch is not valid JSON`);
  }
  const strictErrors = strict && shape.keys > countKeys(value) ? duplicateFields(bytes) : [];
  switch (type) {
    case 'json': {
      if (value === null) value = [];
      if (!Array.isArray(value)) {
        throw badRequest(strict ? `${prefix}json: cannot unmarshal ${jsonKind(value)} into Go value of type []handlers.jsonPatchOp` : `json: cannot unmarshal ${jsonKind(value)} into Go value of type jsonpatch.Patch`);
      }
      const unknown: string[] = [];
      for (let i = 0; i < value.length; i++) {
        const element: unknown = value[i];
        if (element === null) continue;
        if (!isPlainObject(element)) {
          throw badRequest(strict ? `${prefix}json: cannot unmarshal ${jsonKind(element)} into Go value of type handlers.jsonPatchOp` : `json: cannot unmarshal ${jsonKind(element)} into Go value of type jsonpatch.Operation`);
        }
        if (!strict) continue;
        for (const k of Object.keys(element)) {
          const v = element[k];
          if (!OPERATION_FIELDS.has(k)) {
            unknown.push(`unknown field ${goQuote(`[${i}].${k}`)}`);
          } else if (k !== 'value' && v !== null && typeof v !== 'string') {
            throw badRequest(`${prefix}json: cannot unmarshal ${jsonKind(v)} into Go struct field jsonPatchOp.${k} of type string`);
          }
        }
      }
      if (value.length > MAX_JSON_PATCH_OPERATIONS) {
        throw new StatusError('RequestEntityTooLarge', `Request entity too large: The allowed maximum operations in a JSON patch is ${MAX_JSON_PATCH_OPERATIONS}, got ${value.length}`);
      }
      return { type, operations: operationsOf(value), strictErrors: [...strictErrors, ...unknown].map((e) => `json patch ${e}`) };
    }
    case 'merge':
      if (strict && value !== null && !isPlainObject(value)) throw badRequest(`${prefix}json: cannot unmarshal ${jsonKind(value)} into Go value of type map[string]interface {}`);
      if (value === null || (!isPlainObject(value) && !Array.isArray(value))) throw badRequest('Invalid JSON Patch');
      return { type, document: value, strictErrors };
    case 'strategic':
      if (value !== null && !isPlainObject(value)) throw badRequest(`json: cannot unmarshal ${jsonKind(value)} into Go value of type map[string]interface {}`);
      return { type, document: value ?? {}, strictErrors };
  }
}

/** kube's answer to a JSON patch operation that does not apply (NewGenericServerResponse 422: the reason is not told). */
function patchRejected(): StatusError {
  return new StatusError('Invalid', 'the server rejected our request due to an error in our request', {});
}

/**
 * `patch` applied to `current` (neither is changed): the patched JSON value, which the caller
 * decodes as the kind's object (it may be no object at all: a JSON patch may replace the root).
 * Throws StatusError as kube answers: 422 for a JSON patch operation or a strategic list of
 * lists, 400 for a malformed strategic merge patch (see strategic.ts).
 */
export function applyPatch(patch: DecodedPatch, current: KubeObject, facts: MergeSchema = NO_MERGE_FACTS): unknown {
  const doc = structuredClone(current) as Record<string, unknown>;
  switch (patch.type) {
    case 'json':
      try {
        // Each application takes its own copy of the operations' values (a retry applies them again).
        return applyJsonPatch(doc, structuredClone(patch.operations ?? []));
      } catch (err) {
        if (err instanceof JsonPatchError) throw patchRejected();
        throw err;
      }
    case 'merge': {
      const document = structuredClone(patch.document);
      return isPlainObject(document) ? applyMergePatch(doc, document) : pruneNulls(document);
    }
    case 'strategic':
      try {
        return applyStrategicMergePatch(doc, structuredClone(patch.document) as Record<string, unknown>, facts);
      } catch (err) {
        if (err instanceof StrategicMergeError) throw err.status === 422 ? patchRejected() : badRequest(err.message);
        throw err;
      }
  }
}
