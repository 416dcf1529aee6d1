/**
 * Impersonation as kube's filter (k8s.io/apiserver endpoints/filters/impersonation.go): the
 * `Impersonate-User`, `Impersonate-Group` (repeatable), `Impersonate-Uid` and
 * `Impersonate-Extra-<key>` headers (REST) or metadata (gRPC, lower-cased) ask to act as
 * another user; each thing asked for is authorized with the `impersonate` verb for the
 * requestor, and the request then goes on as the user they make up.
 */
import { badRequest, StatusError } from '../../../lib/errors.ts';
import { isDNS1123Label, isDNS1123Subdomain } from '../../../lib/validation/names.ts';
import type { Attributes, UserInfo } from '../../auth/api.ts';

const USER = 'impersonate-user';
const GROUP = 'impersonate-group';
const UID = 'impersonate-uid';
const EXTRA_PREFIX = 'impersonate-extra-';
const SERVICE_ACCOUNT_PREFIX = 'system:serviceaccount:';
const ANONYMOUS = 'system:anonymous';
const ALL_AUTHENTICATED = 'system:authenticated';
const ALL_UNAUTHENTICATED = 'system:unauthenticated';
const AUTHENTICATION_GROUP = 'authentication.k8s.io';

/**
 * How many groups and extra values one request may ask to impersonate, in all. Each is
 * authorized on its own, one after the other; kube sets no limit, but its header limits bound
 * the count where ours (gRPC metadata) may not as tightly.
 */
export const MAX_IMPERSONATED_VALUES = 100;

/** One thing a request asks to impersonate (kube's ObjectReference of it). */
export type ImpersonationRequest =
  | { kind: 'User'; name: string }
  | { kind: 'ServiceAccount'; namespace: string; name: string }
  | { kind: 'Group'; name: string }
  | { kind: 'UserExtra'; key: string; value: string }
  | { kind: 'UID'; uid: string };

/** What a request asks to impersonate, in kube's order of checks; empty when it asks nothing. */
export interface Impersonation {
  requests: ImpersonationRequest[];
  /** Whether any Impersonate-Group was sent: the groups asked for are then the user's groups. */
  groupsSpecified: boolean;
}

/**
 * kube's serviceaccount.SplitUsername: the namespace and name of `system:serviceaccount:<ns>:<name>`,
 * or undefined when `username` is no valid service account's username.
 */
export function splitServiceAccountUsername(username: string): { namespace: string; name: string } | undefined {
  if (!username.startsWith(SERVICE_ACCOUNT_PREFIX)) return undefined;
  const parts = username.slice(SERVICE_ACCOUNT_PREFIX.length).split(':');
  if (parts.length !== 2) return undefined;
  const [namespace, name] = parts as [string, string];
  if (isDNS1123Label(namespace).length > 0 || isDNS1123Subdomain(name).length > 0) return undefined;
  return { namespace, name };
}

/** kube's unescapeExtraKey: a percent-encoded key decoded, or kept as sent when it does not decode. */
function unescapeExtraKey(key: string): string {
  try {
    return decodeURIComponent(key);
  } catch {
    return key;
  }
}

/** kube's %v of a v1.ObjectReference (its seven fields, space-separated, in braces), for the one message that prints them. */
function goObjectReference(r: ImpersonationRequest): string {
  const fields = (kind: string, namespace: string, name: string, apiVersion: string, fieldPath: string) => `{${[kind, namespace, name, '', apiVersion, '', fieldPath].join(' ')}}`;
  switch (r.kind) {
    case 'User':
    case 'Group':
      return fields(r.kind, '', r.name, '', '');
    case 'ServiceAccount':
      return fields(r.kind, r.namespace, r.name, '', '');
    case 'UserExtra':
      return fields(r.kind, '', r.value, `${AUTHENTICATION_GROUP}/v1`, r.key);
    case 'UID':
      return fields(r.kind, '', r.uid, `${AUTHENTICATION_GROUP}/v1`, '');
  }
}

/**
 * kube's buildImpersonationRequests over a request's headers (or gRPC metadata) as name/value
 * pairs, names in any case, a repeated header once per value. An InternalError in kube's words
 * when groups, extras or a uid are asked for without a user; a BadRequest, before anything is
 * authorized, when more than MAX_IMPERSONATED_VALUES groups and extra values are asked for.
 */
export function impersonationOf(headers: Iterable<readonly [string, string]>): Impersonation {
  let user: string | undefined;
  let uid: string | undefined;
  const groups: string[] = [];
  const extras: ImpersonationRequest[] = [];
  for (const [rawName, value] of headers) {
    const name = rawName.toLowerCase();
    if (name === USER) user ??= value;
    else if (name === UID) uid ??= value;
    else if (name === GROUP) groups.push(value);
    else if (name.startsWith(EXTRA_PREFIX)) extras.push({ kind: 'UserExtra', key: unescapeExtraKey(name.slice(EXTRA_PREFIX.length)), value });
  }
  // In the words of a field list too long (field.TooMany), the headers standing for the field.
  const asked = groups.length + extras.length;
  if (asked > MAX_IMPERSONATED_VALUES) throw badRequest(`Impersonate-Group, Impersonate-Extra-*: Too many: ${asked}: must have at most ${MAX_IMPERSONATED_VALUES} items`);
  const requests: ImpersonationRequest[] = [];
  const hasUser = user !== undefined && user !== '';
  if (hasUser) {
    const serviceAccount = splitServiceAccountUsername(user!);
    requests.push(serviceAccount === undefined ? { kind: 'User', name: user! } : { kind: 'ServiceAccount', ...serviceAccount });
  }
  for (const group of groups) requests.push({ kind: 'Group', name: group });
  requests.push(...extras);
  const hasUid = uid !== undefined && uid !== '';
  if (hasUid) requests.push({ kind: 'UID', uid: uid! });
  if (!hasUser && (groups.length > 0 || extras.length > 0 || hasUid)) {
    const message = `requested [${requests.map(goObjectReference).join(' ')}] without impersonating a user`;
    throw new StatusError('InternalError', `Internal error occurred: ${message}`, { causes: [{ message }] });
  }
  return { requests, groupsSpecified: groups.length > 0 };
}

/** The name/value pairs of a Node request's rawHeaders (repeated headers stay separate, unlike `headers`). */
export function rawHeaderPairs(rawHeaders: readonly string[]): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) pairs.push([rawHeaders[i]!, rawHeaders[i + 1]!]);
  return pairs;
}

/** The `impersonate` check of one request (kube's actingAsAttributes). */
function attributesOf(requestor: UserInfo, r: ImpersonationRequest): Attributes {
  const base = { user: requestor, verb: 'impersonate', resourceRequest: true, apiVersion: '', subresource: '', namespace: '', path: '' };
  switch (r.kind) {
    case 'User':
      return { ...base, apiGroup: '', resource: 'users', name: r.name };
    case 'ServiceAccount':
      return { ...base, apiGroup: '', resource: 'serviceaccounts', namespace: r.namespace, name: r.name };
    case 'Group':
      return { ...base, apiGroup: '', resource: 'groups', name: r.name };
    case 'UserExtra':
      return { ...base, apiGroup: AUTHENTICATION_GROUP, resource: 'userextras', subresource: r.key, name: r.value };
    case 'UID':
      return { ...base, apiGroup: AUTHENTICATION_GROUP, resource: 'uids', name: r.uid };
  }
}

/**
 * The user `requestor` acts as: itself when nothing is asked; otherwise each request is
 * authorized in turn with `authorize` (which refuses with kube's Forbidden), and the user
 * made of them is answered, with system:authenticated added as kube adds it (to any user but
 * system:anonymous, unless system:authenticated or system:unauthenticated is among the
 * groups; system:unauthenticated to system:anonymous) and a service account's groups when no
 * group was asked for.
 */
export async function impersonate(
  requestor: UserInfo,
  impersonation: Impersonation,
  authorize: (attributes: Attributes, signal?: AbortSignal) => Promise<void>,
  signal?: AbortSignal,
): Promise<UserInfo> {
  if (impersonation.requests.length === 0) return requestor;
  let username = '';
  let uid = '';
  let groups: string[] = [];
  const extra: Record<string, string[]> = {};
  for (const r of impersonation.requests) {
    await authorize(attributesOf(requestor, r), signal);
    switch (r.kind) {
      case 'User':
        username = r.name;
        break;
      case 'ServiceAccount':
        username = `${SERVICE_ACCOUNT_PREFIX}${r.namespace}:${r.name}`;
        if (!impersonation.groupsSpecified) groups = ['system:serviceaccounts', `system:serviceaccounts:${r.namespace}`];
        break;
      case 'Group':
        groups.push(r.name);
        break;
      case 'UserExtra':
        (extra[r.key] ??= []).push(r.value);
        break;
      case 'UID':
        uid = r.uid;
        break;
    }
  }
  if (username !== ANONYMOUS) {
    if (!groups.includes(ALL_AUTHENTICATED) && !groups.includes(ALL_UNAUTHENTICATED)) groups.push(ALL_AUTHENTICATED);
  } else if (!groups.includes(ALL_UNAUTHENTICATED)) {
    groups.push(ALL_UNAUTHENTICATED);
  }
  return Object.keys(extra).length === 0 ? { username, uid, groups } : { username, uid, groups, extra };
}
