/**
 * List continue tokens in kube-apiserver's format: unpadded base64url of
 * {"v":"meta.k8s.io/v1","rv":<revision>,"start":"<key after the prefix>"}. The revision pins
 * every page to the first page's snapshot.
 */
import { badRequest } from '../../../lib/errors.ts';

const VERSION = 'meta.k8s.io/v1';

export interface ContinueToken {
  /** The revision every page is read at; negative: the newest. */
  revision: number;
  /** The key to start the next page at, relative to the collection prefix. */
  start: string;
}

/** The token for the page starting at `start` (relative to the collection prefix). */
export function encodeContinue(token: ContinueToken): string {
  return Buffer.from(JSON.stringify({ v: VERSION, rv: token.revision, start: token.start })).toString('base64url');
}

// The words of kube's storage errors, behind "invalid continue token: " as its list handler puts them.
const INVALID_RV = 'continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)';
const EMPTY_START = 'continue key is not valid: encoded start key empty (version meta.k8s.io/v1)';

function invalidToken(why: string): never {
  throw badRequest(`invalid continue token: ${why}`);
}

/** Whether a rooted path is what Go's path.Clean makes of it: no "", "." or ".." segment, no trailing "/". */
function isClean(rooted: string): boolean {
  if (rooted === '/') return true;
  return rooted
    .slice(1)
    .split('/')
    .every((segment) => segment !== '' && segment !== '.' && segment !== '..');
}

/**
 * Decodes a token; BadRequest when it is not one of ours. As kube's DecodeContinue, a start key
 * that would not survive path cleaning ("../x", "a//b", ...) is refused, so a token can never
 * reach outside the collection it is used on.
 */
export function decodeContinue(raw: string): ContinueToken {
  if (!/^[A-Za-z0-9_-]*$/.test(raw) || raw.length % 4 === 1) invalidToken(`${INVALID_RV}: illegal base64 data`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
  } catch {
    invalidToken(`${INVALID_RV}: invalid JSON`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) invalidToken(`${INVALID_RV}: not a JSON object`);
  const t = parsed as { v?: unknown; rv?: unknown; start?: unknown };
  if (t.v !== VERSION) {
    invalidToken(`continue key is not valid: server does not recognize this encoded version ${typeof t.v === 'string' ? t.v : ''}`);
  }
  // Only 0 is refused, as in kube: a negative revision (kube hands one out with the 410 for a
  // compacted token) means "continue at the newest revision".
  if (typeof t.rv !== 'number' || !Number.isSafeInteger(t.rv) || t.rv === 0) invalidToken(INVALID_RV);
  if (typeof t.start !== 'string') invalidToken(INVALID_RV);
  if (t.start === '') invalidToken(EMPTY_START);
  const rooted = t.start.startsWith('/') ? t.start : `/${t.start}`;
  if (!isClean(rooted)) invalidToken(`continue key is not valid: ${t.start}`);
  return { revision: t.rv, start: rooted.slice(1) };
}
