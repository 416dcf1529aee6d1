/** list: a collection, or a page of it (GET .../{resource}). */
import { encodedJsonOf, unchangedOr, type KubeObject } from '../../../../lib/kube.ts';
import type { ListResult } from '../../../storage/api.ts';
import { apiVersionOf, withTypeMeta, type KindDefinition } from '../../../../lib/kinds/index.ts';
import { toTable } from '../../../../lib/kinds/printing.ts';
import { includeObjectPolicy } from '../query.ts';
import { queryAndDeadline, representationOf, targetOf, type VerbContext } from './context.ts';

/**
 * The items of a list of `info` as kube writes them: a typed (built-in) list's items carry no
 * kind or apiVersion; a custom resource list's items are unstructured objects and keep both,
 * set to the served version (storage does not rely on the stored ones).
 */
export function listItems(items: readonly KubeObject[], info: KindDefinition): KubeObject[] {
  if (info.source === 'custom') return items.map((o) => withTypeMeta(o, info));
  return items.map(({ kind: _k, apiVersion: _a, ...rest }) => rest);
}

const OPEN_BRACE = Buffer.from('{');
const EMPTY_OBJECT = Buffer.from('{}');
const COMMA = Buffer.from(',');
const LIST_END = Buffer.from(']}');

/**
 * Adds to `parts` the JSON listItems(...) would give `item` as JSON.stringify writes it, taken
 * from the JSON storage encoded the item as (encodedJsonOf); false (nothing added) when the
 * item has none or the bytes cannot be shown to be the same. A custom resource's item is the
 * stored JSON when its kind and apiVersion are the served ones already; a typed item is the
 * stored JSON without its kind and apiVersion when the JSON begins with them (as objects
 * written through the API do), or as it is when it has neither. `prefixes` caches the bytes
 * of those beginnings over one list.
 */
function addEncodedListItem(parts: Uint8Array[], item: KubeObject, info: KindDefinition, prefixes: Map<string, Buffer>): boolean {
  const json = encodedJsonOf(item);
  if (json === undefined) return false;
  const hasKind = Object.hasOwn(item, 'kind');
  const hasApiVersion = Object.hasOwn(item, 'apiVersion');
  if (info.source === 'custom' ? unchangedOr(withTypeMeta(item, info), item) === item : !hasKind && !hasApiVersion) {
    parts.push(json);
    return true;
  }
  if (info.source === 'custom') return false;
  const kind = hasKind ? `"kind":${JSON.stringify(item.kind)}` : undefined;
  const apiVersion = hasApiVersion ? `"apiVersion":${JSON.stringify(item.apiVersion)}` : undefined;
  const heads = kind === undefined ? [`{${String(apiVersion)}`] : apiVersion === undefined ? [`{${kind}`] : [`{${apiVersion},${kind}`, `{${kind},${apiVersion}`];
  for (const head of heads) {
    let prefix = prefixes.get(head);
    if (prefix === undefined) prefixes.set(head, (prefix = Buffer.from(head)));
    if (json.length <= prefix.length || Buffer.compare(prefix, json.subarray(0, prefix.length)) !== 0) continue;
    // What follows the members removed: the closing brace, or the comma before the other members.
    const next = json[prefix.length];
    if (next === 0x7d) {
      parts.push(EMPTY_OBJECT);
      return true;
    }
    if (next === 0x2c) {
      parts.push(OPEN_BRACE, json.subarray(prefix.length + 1));
      return true;
    }
  }
  return false;
}

export async function list(ctx: VerbContext): Promise<void> {
  const representation = representationOf(ctx);
  const { query, signal } = queryAndDeadline(ctx);
  writeList(ctx, await ctx.pipeline.list(ctx.user, targetOf(ctx.info), query.list, signal), representation, query, { storedJson: true });
}

/**
 * Writes a list result (of a list, or of what a deletecollection deleted) as the kind's List,
 * or as a Table. With `storedJson` (a list, whose items are the objects storage answered), a
 * JSON answer is put together from the JSON storage encoded the items as, where that is
 * provably what encoding them would give (addEncodedListItem), rather than encoded again.
 */
export function writeList(
  ctx: VerbContext,
  result: ListResult,
  representation: ReturnType<typeof representationOf>,
  query: ReturnType<typeof queryAndDeadline>['query'],
  options: { storedJson?: boolean } = {},
): void {
  const info = ctx.info.resource;
  const listMeta: { resourceVersion: string; continue?: string; remainingItemCount?: number } = { resourceVersion: result.resourceVersion };
  if (result.continue !== '') listMeta.continue = result.continue;
  if (result.remainingItemCount !== undefined) listMeta.remainingItemCount = result.remainingItemCount;
  if (representation.table) {
    const objects = result.items.map((o) => withTypeMeta(o, info));
    ctx.writer.write(200, toTable(info.printer, objects, { now: ctx.clock(), includeObject: includeObjectPolicy(query), listMeta }), representation.format);
    return;
  }
  const answer = () => ({ kind: info.listKind, apiVersion: apiVersionOf(info), metadata: listMeta, items: listItems(result.items, info) });
  if (options.storedJson === true && representation.format === 'json') ctx.writer.encodedJson(200, encodedList(info, listMeta, result.items), answer);
  else ctx.writer.write(200, answer(), representation.format);
}

/**
 * The JSON of the List of `info` with `listMeta` and `items` (in parts, in order): exactly
 * JSON.stringify of the answer writeList builds, with each item's JSON taken from what storage
 * encoded where addEncodedListItem can, encoded anew otherwise.
 */
export function encodedList(info: KindDefinition, listMeta: Record<string, unknown>, items: readonly KubeObject[]): Uint8Array[] {
  // JSON.stringify of the answer is its members before items, then the items' JSON, comma-separated.
  const head = JSON.stringify({ kind: info.listKind, apiVersion: apiVersionOf(info), metadata: listMeta });
  const parts: Uint8Array[] = [Buffer.from(`${head.slice(0, -1)},"items":[`)];
  const prefixes = new Map<string, Buffer>();
  for (const [i, item] of items.entries()) {
    if (i > 0) parts.push(COMMA);
    if (!addEncodedListItem(parts, item, info, prefixes)) parts.push(Buffer.from(JSON.stringify(listItems([item], info)[0])));
  }
  parts.push(LIST_END);
  return parts;
}
