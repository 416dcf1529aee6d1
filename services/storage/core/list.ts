/**
 * list, as kube-apiserver's etcd3 store.GetList does it: which revision to read at (from
 * resourceVersion, resourceVersionMatch or the continue token), then reading pages of keys
 * until `limit` objects matched the selectors or the range ended, with the continue token
 * pointing just after the last key examined.
 */
import { badRequest, StatusError } from '../../../lib/errors.ts';
import type { KubeObject } from '../../../lib/kube.ts';
import type { MalformedObjectLog } from '../../../lib/object-meta.ts';
import { compileObjectFilter, type ObjectFilter, type SelectableFields } from '../../../lib/selectors.ts';
import { checkListOptions } from '../../../lib/list-options.ts';
import type { ListOptions, ListResult, StorageRef } from '../api.ts';
import { decodeContinue, encodeContinue } from './continue-token.ts';
import { collectionPrefix, prefixEnd } from './keys.ts';
import { RevisionCompactedError, RevisionInFutureError, type KeyValueEngine, type RangeResponse } from './kv.ts';
import { decodeStored } from './object-rules.ts';
import { continueExpired, listExpired, tooLargeResourceVersion } from './storage-errors.ts';

/** kube's maxLimit: the largest page it asks etcd for while refilling a page the selectors thinned. */
const MAX_FETCH = 10_000;

/** How one list request reads the store. */
export interface ListPlan {
  /** The collection's key prefix (ends with "/"). */
  prefix: string;
  /** The first key to read (the prefix, or where the continue token points). */
  start: string;
  /** Objects per page; 0 for all. */
  limit: number;
  /** The revision to read at; 0 for the newest. */
  revision: number;
  /** The revision the answer must not be older than (resourceVersion); 0 for none. */
  minimum: bigint;
  /** resourceVersion "0": any state will do. */
  serializable: boolean;
  /** A continue token was given (its compaction gets its own message). */
  continued: boolean;
  /** Label and field selectors are both empty (only then is remainingItemCount known). */
  predicateEmpty: boolean;
  /** The selectors (the namespace is the key prefix's business). */
  filter: ObjectFilter;
}

/**
 * Checks a list request in the order kube-apiserver does (checkListOptions: limit, selector
 * syntax, ValidateListOptions, supported fields, resourceVersion; then the continue token) and
 * decides how to read. Throws BadRequest or Invalid with kube's words.
 */
export function planList(ref: StorageRef, options: ListOptions, selectable: SelectableFields): ListPlan {
  const prefix = collectionPrefix(ref);
  const { labels, fields, limit, resourceVersion: fromRV } = checkListOptions(selectable, options);
  const rv = options.resourceVersion ?? '';
  const plan: ListPlan = {
    prefix,
    start: prefix,
    limit,
    revision: 0,
    minimum: fromRV,
    serializable: false,
    continued: false,
    predicateEmpty: labels.empty && fields.empty,
    filter: compileObjectFilter('', labels, fields, selectable),
  };
  const continueToken = options.continue ?? '';
  if (continueToken !== '') {
    const token = decodeContinue(continueToken);
    if (rv !== '' && rv !== '0') throw badRequest('specifying resource version is not allowed when using continue');
    plan.start = prefix + token.start;
    plan.continued = true;
    // A negative token revision (kube issues one after compaction) continues at the newest.
    if (token.revision > 0) plan.revision = token.revision;
    return plan;
  }
  switch (options.resourceVersionMatch ?? '') {
    case 'Exact':
      plan.revision = revisionNumber(fromRV);
      break;
    case '':
      // Legacy: a paged list with a resourceVersion reads exactly at it.
      if (limit > 0 && fromRV > 0n) plan.revision = revisionNumber(fromRV);
      break;
    default: // NotOlderThan: the newest state, checked against `minimum`.
  }
  plan.serializable = rv === '0';
  return plan;
}

/** A revision as a number; one past 2^53 cannot exist yet, so the minimum check refuses it first. */
function revisionNumber(rv: bigint): number {
  return rv > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(rv);
}

/**
 * The object stored at one key of a list, or why there is none to give: a value that is not a
 * JSON object, or (with selectors) an object whose shape they cannot read. No stored value
 * fails the list it is in.
 */
function listed(plan: ListPlan, kv: { key: string; value: string; modRevision: number }, malformed: MalformedObjectLog | undefined): KubeObject | undefined {
  let object: KubeObject;
  try {
    object = decodeStored(kv.value, kv.modRevision);
  } catch (err) {
    malformed?.report(kv.key, err instanceof Error ? err.message : 'the stored value does not decode');
    return undefined;
  }
  const verdict = plan.filter.verdict(object);
  if (typeof verdict === 'object') malformed?.report(kv.key, verdict.malformed);
  return verdict === true ? object : undefined;
}

/**
 * Reads a list by `plan`: pages of keys from the engine, filtered, until `limit` objects or
 * the end of the collection, every page at the revision of the first. The continue token
 * names the key after the last one examined (matching or not) and the revision. A stored
 * value that is not an object, or that the selectors cannot read, is skipped (and reported to
 * `malformed`, once per key).
 */
export async function readList(engine: KeyValueEngine, plan: ListPlan, malformed?: MalformedObjectLog): Promise<ListResult> {
  const end = prefixEnd(plan.prefix);
  const paging = plan.limit > 0;
  let fetch = plan.limit;
  let key = plan.start;
  let withRev = plan.revision;
  const items: KubeObject[] = [];
  let lastKey: string | undefined;
  let hasMore = false;
  let response: RangeResponse;
  for (;;) {
    response = await rangeOrExplain(engine, plan, { start: key, end, limit: fetch, revision: withRev, serializable: plan.serializable && withRev === 0 });
    hasMore = response.more;
    if (response.kvs.length === 0 && response.more) {
      throw new StatusError('InternalError', 'no results were found, but etcd indicated there were more values remaining');
    }
    for (const kv of response.kvs) {
      if (paging && items.length >= plan.limit) {
        hasMore = true;
        break;
      }
      lastKey = kv.key;
      const object = listed(plan, kv, malformed);
      if (object !== undefined) items.push(object);
    }
    if (!hasMore || !paging) break;
    if (items.length >= plan.limit) break;
    // The selectors dropped objects: read on, in bigger steps, from after the last key.
    if (fetch < MAX_FETCH) fetch = Math.min(fetch * 2, MAX_FETCH);
    key = `${lastKey ?? key}\x00`;
    if (withRev === 0) withRev = response.revision;
  }
  if (withRev === 0) withRev = response.revision;
  const result: ListResult = { items, resourceVersion: String(withRev), continue: '' };
  if (hasMore && lastKey !== undefined) {
    result.continue = encodeContinue({ revision: withRev, start: `${lastKey.slice(plan.prefix.length)}\x00` });
    // Count includes objects the selectors would drop, so it is only given without selectors.
    if (plan.predicateEmpty) result.remainingItemCount = response.count - plan.limit;
  }
  return result;
}

async function rangeOrExplain(engine: KeyValueEngine, plan: ListPlan, request: Parameters<KeyValueEngine['range']>[0]): Promise<RangeResponse> {
  try {
    return await engine.range(request);
  } catch (err) {
    if (err instanceof RevisionCompactedError) throw plan.continued ? continueExpired() : listExpired();
    if (err instanceof RevisionInFutureError) throw tooLargeResourceVersion(request.revision, err.current ?? (await engine.currentRevision()));
    throw err;
  }
}
