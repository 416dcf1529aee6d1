/**
 * What kube-apiserver answers a dry run with (its DryRunnableStorage: the registry runs in
 * full, storage is asked but writes nothing). The pipeline stops before storage on a dry run;
 * these are the parts of storage's work that shape the answer or refuse the request.
 */
import { alreadyExists, conflict, StatusError, type Qualified } from '../../../lib/errors.ts';
import type { KubeObject } from '../../../lib/kube.ts';
import type { GenerationRule } from '../../../lib/kinds/index.ts';
import { nextGeneration } from '../../../lib/kinds/generation.ts';

/**
 * A dry-run create of `name`: AlreadyExists when an object of that name is stored, as kube's
 * dry-run create checks (`read` rejects with NotFound when there is none).
 */
export async function checkDryRunCreate(q: Qualified, name: string, read: () => Promise<unknown>): Promise<void> {
  try {
    await read();
  } catch (err) {
    if (err instanceof StatusError && err.reason === 'NotFound') return;
    throw err;
  }
  throw alreadyExists(q, name);
}

/**
 * The answer to a dry-run update of `current` (both in their stored form) to `next`: `next`
 * with what storage would change on writing it (services/storage/core/object-rules.ts'
 * prepareUpdate, which the gateway does not reach): generation raised when the desired state
 * changed, uid, creationTimestamp and deletion fields kept; at current's resourceVersion, as
 * kube's dry-run update returns it. Conflict in storage's words when `next` carries a
 * resourceVersion other than current's.
 */
export function dryRunUpdated(q: Qualified, name: string, current: KubeObject, next: KubeObject, rule: GenerationRule): KubeObject {
  const resourceVersion = next.metadata?.resourceVersion ?? '';
  const stored = current.metadata ?? {};
  if (resourceVersion !== '' && resourceVersion !== '0' && resourceVersion !== stored.resourceVersion) {
    throw conflict(q, name, 'the object has been modified; please apply your changes to the latest version and try again');
  }
  const metadata: NonNullable<KubeObject['metadata']> = { ...next.metadata, resourceVersion: stored.resourceVersion ?? '' };
  const generation = nextGeneration(current, next, rule);
  if (generation > 0) metadata.generation = generation;
  else delete metadata.generation;
  for (const field of ['uid', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds'] as const) {
    if (stored[field] === undefined) delete metadata[field];
    else (metadata as Record<string, unknown>)[field] = stored[field];
  }
  return { ...next, metadata };
}
