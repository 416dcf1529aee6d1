/** get: one object (GET .../{resource}/{name}). */
import { queryAndDeadline, representationOf, targetOf, writeObject, type VerbContext } from './context.ts';

export async function get(ctx: VerbContext): Promise<void> {
  const representation = representationOf(ctx);
  const { query, signal } = queryAndDeadline(ctx);
  const object = await ctx.pipeline.get(ctx.user, targetOf(ctx.info), { resourceVersion: query.resourceVersion }, signal);
  writeObject(ctx, 200, object, representation, query, { storedJson: true });
}
