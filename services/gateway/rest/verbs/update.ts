/** update: PUT .../{resource}/{name}, in any body media type. */
import { queryAndDeadline, representationOf, targetOf, withFieldValidation, writeObject, type VerbContext } from './context.ts';

export async function update(ctx: VerbContext): Promise<void> {
  const representation = representationOf(ctx);
  const { query, signal } = queryAndDeadline(ctx);
  const decoded = await ctx.bodies.readObject(ctx.req, ctx.res, ctx.info.decoder);
  const body = withFieldValidation(decoded, query.fieldValidation, ctx.warnings);
  const updated = await ctx.pipeline.update(ctx.user, targetOf(ctx.info), body, { dryRun: query.dryRun, fieldValidation: query.fieldValidation, source: decoded.source, warnings: ctx.warnings, fieldManager: query.fieldManager, userAgent: ctx.req.headers['user-agent'] }, signal);
  writeObject(ctx, 200, updated, representation, query);
}
