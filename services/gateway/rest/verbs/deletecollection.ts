/**
 * deletecollection: DELETE .../{resource} with list options in the query (which objects) and
 * DeleteOptions in the body or the query (how each is deleted). Answers the list of the objects
 * deleted, as kube's DeleteCollection does.
 */
import { queryAndDeadline, representationOf, targetOf, type VerbContext } from './context.ts';
import { deletionOptionsOf } from './delete.ts';
import { writeList } from './list.ts';

export async function deletecollection(ctx: VerbContext): Promise<void> {
  const representation = representationOf(ctx);
  const { query, signal } = queryAndDeadline(ctx);
  const body = await ctx.bodies.readDeleteOptions(ctx.req, ctx.res, ctx.info.decoder);
  const options = deletionOptionsOf(query, body);
  writeList(ctx, await ctx.pipeline.deleteCollection(ctx.user, targetOf(ctx.info), query.list, { ...options, warnings: ctx.warnings }, signal), representation, query);
}
