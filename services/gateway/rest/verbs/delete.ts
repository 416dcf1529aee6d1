/** delete: DELETE .../{resource}/{name}, with DeleteOptions in the query or the body. */
import type { DeletionOptions } from '../../core/deletion.ts';
import type { DeleteOptionsBody, RestQuery } from '../query.ts';
import { queryAndDeadline, representationOf, targetOf, type VerbContext } from './context.ts';

/**
 * The DeleteOptions of a DELETE as kube's handlers read them: from the body when there is one,
 * else from the query (dryRun from either).
 */
export function deletionOptionsOf(query: RestQuery, body: DeleteOptionsBody): DeletionOptions {
  const from = body.present
    ? { gracePeriodSeconds: body.gracePeriodSeconds, propagationPolicy: body.propagationPolicy, orphanDependents: body.orphanDependents }
    : { gracePeriodSeconds: query.gracePeriodSeconds, propagationPolicy: query.propagationPolicy, orphanDependents: query.orphanDependents };
  return {
    preconditions: body.preconditions,
    dryRun: query.dryRun || body.dryRun,
    ...(from.gracePeriodSeconds === undefined ? {} : { gracePeriodSeconds: from.gracePeriodSeconds }),
    ...(from.propagationPolicy === undefined ? {} : { propagationPolicy: from.propagationPolicy }),
    ...(from.orphanDependents === undefined ? {} : { orphanDependents: from.orphanDependents }),
  };
}

export async function del(ctx: VerbContext): Promise<void> {
  const representation = representationOf(ctx);
  const { query, signal } = queryAndDeadline(ctx);
  const body = await ctx.bodies.readDeleteOptions(ctx.req, ctx.res, ctx.info.decoder);
  const options = deletionOptionsOf(query, body);
  const info = ctx.info.resource;
  const deleted = await ctx.pipeline.delete(ctx.user, targetOf(ctx.info), { ...options, warnings: ctx.warnings }, signal);
  // kube answers 202 when the object stays and the client asked for its dependents to go (orphanDependents=false).
  const code = deleted.pending && options.orphanDependents === false ? 202 : 200;
  if (deleted.pending || info.deletion?.returnDeletedObject === true) {
    // Waiting for finalizers or a grace period, or a kind whose store answers the object.
    ctx.writer.write(code, deleted.object, representation.format);
    return;
  }
  // Deleted at once: kube answers a Success Status naming what went (details.kind is the
  // resource, as in kube's Store.finalizeDelete; group is omitted when empty).
  const details: Record<string, string> = { name: ctx.info.name };
  if (info.group !== '') details.group = info.group;
  details.kind = info.resource;
  const uid: unknown = deleted.object.metadata?.uid;
  details.uid = typeof uid === 'string' ? uid : '';
  ctx.writer.write(code, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details }, representation.format);
}
