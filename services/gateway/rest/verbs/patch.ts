/**
 * patch: PATCH .../{resource}/{name} with a JSON patch, a JSON merge patch or a strategic
 * merge patch (its Content-Type; lib/patch), or server-side apply
 * (application/apply-patch+yaml: YAML or JSON). A patch body is kept as bytes: the pipeline
 * checks the patch type after authorization (415 for any other) and decodes it. An apply body
 * is decoded here as a YAML body is (with its limits), and answered 201 when it created the
 * object.
 */
import { decodeApplyBody, isApplyPatch } from '../../core/apply.ts';
import { queryAndDeadline, representationOf, targetOf, writeObject, type VerbContext } from './context.ts';

export async function patch(ctx: VerbContext): Promise<void> {
  const representation = representationOf(ctx);
  const { query, signal } = queryAndDeadline(ctx);
  const contentType = ctx.req.headers['content-type'];
  const options = { dryRun: query.dryRun, fieldValidation: query.fieldValidation, warnings: ctx.warnings, fieldManager: query.fieldManager, userAgent: ctx.req.headers['user-agent'] };
  if (isApplyPatch(contentType)) {
    const body = await ctx.bodies.read(ctx.req, ctx.res);
    const applied = decodeApplyBody(body, ctx.bodies.reserver(ctx.res));
    const { object, created } = await ctx.pipeline.apply(ctx.user, targetOf(ctx.info), applied, { ...options, force: query.force }, signal);
    writeObject(ctx, created ? 201 : 200, object, representation, query);
    return;
  }
  const body = await ctx.bodies.readPatch(ctx.req, ctx.res);
  const patched = await ctx.pipeline.patch(ctx.user, targetOf(ctx.info), { contentType, body }, options, signal);
  writeObject(ctx, 200, patched, representation, query);
}
