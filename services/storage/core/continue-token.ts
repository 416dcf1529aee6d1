/**
 * List continue tokens in kube-apiserver's format: base64 of
 * {"v":"meta.k8s.io/v1","rv":<revision>,"start":"<key after the prefix>"}. The revision pins
 * every page to the first page's snapshot.
 */
import { badRequest } from '../../../lib/errors.ts';

const VERSION = 'meta.k8s.io/v1';

export interface ContinueToken {
  /** The revision every page is read at. */
  revision: number;
  /** The key to start the next page at, relative to the collection prefix. */
  start: string;
}

export function encodeContinue(token: ContinueToken): string {
  return Buffer.from(JSON.stringify({ v: VERSION, rv: token.revision, start: token.start })).toString('base64');
}

/** Decodes a token; BadRequest when it is not one of ours. */
export function decodeContinue(raw: string): ContinueToken {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(raw, 'base64').toString('utf8'));
  } catch {
    throw badRequest('continue key is not valid: invalid encoding');
  }
  const t = parsed as { v?: unknown; rv?: unknown; start?: unknown };
  if (t.v !== VERSION) throw badRequest('continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)');
  if (typeof t.rv !== 'number' || !Number.isInteger(t.rv) || t.rv <= 0) {
    throw badRequest('continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)');
  }
  if (typeof t.start !== 'string' || t.start === '' || t.start.includes('..') || t.start.startsWith('/')) {
    throw badRequest('continue key is not valid: start key is invalid');
  }
  return { revision: t.rv, start: t.start };
}
