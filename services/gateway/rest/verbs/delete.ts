/** delete: DELETE .../{resource}/{name}, with DeleteOptions in the query or the body. */
import { queryAndDeadline, representationOf, targetOf, type VerbContext } from './context.ts';

export async function del(ctx: VerbContext): Promise<void> {
  const representation = representationOf(ctx);
  const { query, signal } = queryAndDeadline(ctx);
  const options = await ctx.bodies.readDeleteOptions(ctx.req, ctx.res, ctx.info.decoder);
  const info = ctx.info.resource;
  const deleted = await ctx.pipeline.delete(
    ctx.user,
    targetOf(ctx.info),
    { preconditions: options.preconditions, dryRun: query.dryRun || options.dryRun, warnings: ctx.warnings },
    signal,
  );
  if (deleted.pending) {
    // Waiting for finalizers: kube answers the object, marked for deletion.
    ctx.writer.write(200, deleted.object, representation.format);
    return;
  }
  // Deleted at once: kube answers a Success Status naming what went (details.kind is the
  // resource, as in kube's Store.finalizeDelete; group is omitted when empty).
  const details: Record<string, string> = { name: ctx.info.name };
  if (info.group !== '') details.group = info.group;
  details.kind = info.resource;
  const uid: unknown = deleted.object.metadata?.uid;
  details.uid = typeof uid === 'string' ? uid : '';
  ctx.writer.write(200, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details }, representation.format);
}
