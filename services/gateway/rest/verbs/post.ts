/**
 * POST to a subresource (`.../{resource}/{name}/{subresource}`: pods/binding, pods/eviction),
 * in any body media type: the pipeline hands the body to the kind's handler, and its answer
 * (a Status) is written with 201 Created, whatever the Status says, as kube's create handler
 * writes it.
 */
import { queryAndDeadline, representationOf, targetOf, withFieldValidation, type VerbContext } from './context.ts';

export async function post(ctx: VerbContext): Promise<void> {
  const representation = representationOf(ctx);
  const { query, signal } = queryAndDeadline(ctx);
  const decoded = await ctx.bodies.readObject(ctx.req, ctx.res, ctx.info.decoder);
  const body = withFieldValidation(decoded, query.fieldValidation, ctx.warnings);
  const answer = await ctx.pipeline.post(ctx.user, targetOf(ctx.info), body, { dryRun: query.dryRun, fieldValidation: query.fieldValidation, source: decoded.source, warnings: ctx.warnings }, signal);
  ctx.writer.write(201, answer, representation.format);
}
