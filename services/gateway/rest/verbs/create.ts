/** create: POST .../{resource}, in any body media type. */
import { queryAndDeadline, representationOf, targetOf, withFieldValidation, writeObject, type VerbContext } from './context.ts';

export async function create(ctx: VerbContext): Promise<void> {
  const representation = representationOf(ctx);
  const { query, signal } = queryAndDeadline(ctx);
  const decoded = await ctx.bodies.readObject(ctx.req, ctx.res, ctx.info.decoder);
  const body = withFieldValidation(decoded, query.fieldValidation, ctx.warnings);
  const created = await ctx.pipeline.create(ctx.user, targetOf(ctx.info), body, { dryRun: query.dryRun, fieldValidation: query.fieldValidation, source: decoded.source, warnings: ctx.warnings, fieldManager: query.fieldManager, userAgent: ctx.req.headers['user-agent'] }, signal);
  writeObject(ctx, 201, created, representation, query, { storedJson: true });
}
