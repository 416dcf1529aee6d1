/**
 * patch: PATCH .../{resource}/{name} with a JSON patch, a JSON merge patch or a strategic
 * merge patch (its Content-Type; lib/patch). The body is kept as bytes: the pipeline checks
 * the patch type after authorization (415 for any other, apply included) and decodes it.
 */
import { queryAndDeadline, representationOf, targetOf, writeObject, type VerbContext } from './context.ts';

export async function patch(ctx: VerbContext): Promise<void> {
  const representation = representationOf(ctx);
  const { query, signal } = queryAndDeadline(ctx);
  const body = await ctx.bodies.readPatch(ctx.req, ctx.res);
  const patched = await ctx.pipeline.patch(
    ctx.user,
    targetOf(ctx.info),
    { contentType: ctx.req.headers['content-type'], body },
    { dryRun: query.dryRun, fieldValidation: query.fieldValidation, warnings: ctx.warnings },
    signal,
  );
  writeObject(ctx, 200, patched, representation, query);
}
