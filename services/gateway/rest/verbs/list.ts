/** list: a collection, or a page of it (GET .../{resource}). */
import type { KubeObject } from '../../../../lib/kube.ts';
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

export async function list(ctx: VerbContext): Promise<void> {
  const representation = representationOf(ctx);
  const { query, signal } = queryAndDeadline(ctx);
  writeList(ctx, await ctx.pipeline.list(ctx.user, targetOf(ctx.info), query.list, signal), representation, query);
}

/** Writes a list result (of a list, or of what a deletecollection deleted) as the kind's List, or as a Table. */
export function writeList(ctx: VerbContext, result: ListResult, representation: ReturnType<typeof representationOf>, query: ReturnType<typeof queryAndDeadline>['query']): void {
  const info = ctx.info.resource;
  const listMeta: { resourceVersion: string; continue?: string; remainingItemCount?: number } = { resourceVersion: result.resourceVersion };
  if (result.continue !== '') listMeta.continue = result.continue;
  if (result.remainingItemCount !== undefined) listMeta.remainingItemCount = result.remainingItemCount;
  if (representation.table) {
    const objects = result.items.map((o) => withTypeMeta(o, info));
    ctx.writer.write(200, toTable(info.printer, objects, { now: ctx.clock(), includeObject: includeObjectPolicy(query), listMeta }), representation.format);
    return;
  }
  ctx.writer.write(200, { kind: info.listKind, apiVersion: apiVersionOf(info), metadata: listMeta, items: listItems(result.items, info) }, representation.format);
}
