/**
 * deletecollection: DELETE .../{resource} with list options in the query (which objects) and
 * DeleteOptions in the body or the query (how each is deleted). Answers the list of the objects
 * deleted, as kube's DeleteCollection does.
 */
import { apiVersionOf, withTypeMeta } from '../../../../lib/kinds/index.ts';
import { toTable } from '../../../../lib/kinds/printing.ts';
import { includeObjectPolicy } from '../query.ts';
import { queryAndDeadline, representationOf, targetOf, type VerbContext } from './context.ts';
import { deletionOptionsOf } from './delete.ts';
import { listItems } from './list.ts';

export async function deletecollection(ctx: VerbContext): Promise<void> {
  const representation = representationOf(ctx);
  const { query, signal } = queryAndDeadline(ctx);
  const body = await ctx.bodies.readDeleteOptions(ctx.req, ctx.res, ctx.info.decoder);
  const options = deletionOptionsOf(query, body);
  const info = ctx.info.resource;
  const result = await ctx.pipeline.deleteCollection(ctx.user, targetOf(ctx.info), query.list, { ...options, warnings: ctx.warnings }, signal);
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
