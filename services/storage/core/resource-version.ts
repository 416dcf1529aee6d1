/**
 * resourceVersion arguments as kube-apiserver reads them: parsing (APIObjectVersioner),
 * the list option rules (apimachinery's ValidateListOptions), and the "not older than" wait.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { badRequest, StatusError, type FieldError } from '../../../lib/errors.ts';
import { invalidListOptions, tooLargeResourceVersion } from './storage-errors.ts';

const UINT64_MAX = 2n ** 64n - 1n;

/** Go's strconv.ParseUint(s, 10, 64): digits only, no sign; the error text Go gives. */
export function parseUint64(s: string): { value: bigint } | { error: string } {
  if (!/^[0-9]+$/.test(s)) return { error: `strconv.ParseUint: parsing ${JSON.stringify(s)}: invalid syntax` };
  const value = BigInt(s);
  if (value > UINT64_MAX) return { error: `strconv.ParseUint: parsing ${JSON.stringify(s)}: value out of range` };
  return { value };
}

/**
 * A resourceVersion argument of get or list: "" and "0" are 0; anything else must be an
 * unsigned integer, otherwise BadRequest in kube's words:
 * `invalid resource version: resourceVersion: Invalid value: "x": strconv.ParseUint: ...`.
 */
export function parseResourceVersion(rv: string | undefined): bigint {
  if (rv === undefined || rv === '' || rv === '0') return 0n;
  const parsed = parseUint64(rv);
  if ('error' in parsed) {
    throw badRequest(`invalid resource version: resourceVersion: Invalid value: ${JSON.stringify(rv)}: ${parsed.error}`);
  }
  return parsed.value;
}

/**
 * The resourceVersion of an object being updated (APIObjectVersioner.ObjectResourceVersion):
 * 0 when unset. kube returns the parse error unwrapped, which its handler serves as a 500.
 */
export function objectResourceVersion(rv: string | undefined): bigint {
  if (rv === undefined || rv === '') return 0n;
  const parsed = parseUint64(rv);
  if ('error' in parsed) throw new StatusError('InternalError', parsed.error);
  return parsed.value;
}

/** The list options ValidateListOptions checks before a list reaches storage. */
export interface ListOptionsToValidate {
  resourceVersion?: string | undefined;
  resourceVersionMatch?: string | undefined;
  continue?: string | undefined;
}

/** 422 Invalid for combinations kube refuses, every failed rule listed, in kube's order. */
export function validateListOptions(o: ListOptionsToValidate): void {
  const match = o.resourceVersionMatch ?? '';
  if (match === '') return;
  const rv = o.resourceVersion ?? '';
  const errors: FieldError[] = [];
  const forbidden = (detail: string) => errors.push({ type: 'FieldValueForbidden', field: 'resourceVersionMatch', detail });
  if (rv === '') forbidden('resourceVersionMatch is forbidden unless resourceVersion is provided');
  if ((o.continue ?? '') !== '') forbidden('resourceVersionMatch is forbidden when continue is provided');
  if (match !== 'Exact' && match !== 'NotOlderThan') {
    errors.push({
      type: 'FieldValueNotSupported',
      field: 'resourceVersionMatch',
      value: match,
      detail: 'supported values: "Exact", "NotOlderThan", ""',
    });
  }
  if (match === 'Exact' && rv === '0') forbidden('resourceVersionMatch "exact" is forbidden for resourceVersion "0"');
  if (errors.length > 0) throw invalidListOptions(errors);
}

/** Default wait for a resourceVersion the store has not reached yet: kube's watch cache waits 3 s. */
export const DEFAULT_TOO_LARGE_RESOURCE_VERSION_WAIT_MS = 3_000;

const POLL_MS = 25;

/**
 * Resolves with the store's revision once it is at least `minimum`. A store that does not get
 * there within `timeoutMs` is answered as kube does: 504 "Too large resource version". Waiting
 * briefly, as kube's watch cache does, lets a client that read a revision from a faster path
 * (another replica, the watch stream) use it right away.
 */
export async function waitForRevision(
  minimum: bigint,
  current: () => Promise<number>,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const revision = await current();
    if (BigInt(revision) >= minimum) return revision;
    const left = deadline - Date.now();
    if (left <= 0) throw tooLargeResourceVersion(minimum, revision);
    try {
      await sleep(Math.min(POLL_MS, left), undefined, signal === undefined ? undefined : { signal });
    } catch {
      // The caller gave up (its deadline passed or it went away), as the gRPC layer words it.
      throw new StatusError('Timeout', 'request did not complete within requested timeout');
    }
  }
}
