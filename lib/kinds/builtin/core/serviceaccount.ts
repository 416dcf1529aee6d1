/**
 * ServiceAccount (core/v1, namespaced, short name "sa"): the secrets it lists are kept as
 * names only, as kube's strategy cleans them; printed as kube's printServiceAccount. Its
 * `token` subresource takes TokenRequests (`kubectl create token`), as kube's TokenREST.
 */
import { badRequest, conflict, invalid, StatusError, type FieldError } from '../../../errors.ts';
import { isPlainObject, rfc3339, type KubeObject } from '../../../kube.ts';
import { DEFAULT_FIELDS } from '../../../selectors.ts';
import { AGE_COLUMN, ageOf, column, nameOf, NAME_COLUMN } from '../../printing.ts';
import type { KindDefinition, PostSubresource, SubresourceCall, SubresourceTokenRequest } from '../../types.ts';
import { STANDARD_VERBS } from '../common.ts';
import { str } from './common.ts';

/**
 * cleanSecretReferences: each entry of `secrets` becomes a reference by name alone (kind,
 * namespace, uid and the rest are dropped; an empty name leaves an empty reference).
 */
function cleanSecretReferences(object: KubeObject): KubeObject {
  const secrets: unknown = object.secrets;
  if (!Array.isArray(secrets)) return object;
  return {
    ...object,
    secrets: secrets.map((secret) => {
      const name = isPlainObject(secret) ? str(secret.name) : '';
      return name === '' ? {} : { name };
    }),
  };
}

const TOKEN_REQUEST_GROUP = 'authentication.k8s.io';
/** kube's bounds and default of a token's lifetime (validation.MinTokenAgeSec, MaxTokenAgeSec; the scheme's default). */
const MIN_TOKEN_SECONDS = 10 * 60;
const MAX_TOKEN_SECONDS = 2 ** 32;
const DEFAULT_TOKEN_SECONDS = 60 * 60;

function record(value: unknown): Record<string, unknown> {
  return isPlainObject(value) ? value : {};
}

function tokenRequestInvalid(name: string, field: string, value: unknown, detail: string): StatusError {
  const error: FieldError = { type: 'FieldValueInvalid', field, value, detail };
  return invalid('TokenRequest', TOKEN_REQUEST_GROUP, name, [error]);
}

/**
 * What a TokenRequest's answer reads of the token it got (unverified: the issuer just signed it):
 * the audiences it is for (its `aud` claim, a string or a list), to fill a defaulted
 * spec.audiences, and the lifetime it was given (exp - iat), which is shorter than the one asked
 * for when the issuer's maximum cut it.
 */
function claimsOf(token: string): { audiences: string[]; lifetimeSeconds?: number } {
  try {
    const payload = record(JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')));
    const aud = payload.aud;
    const audiences = typeof aud === 'string' ? [aud] : Array.isArray(aud) ? aud.filter((a): a is string => typeof a === 'string') : [];
    const { exp, iat } = payload;
    return typeof exp === 'number' && typeof iat === 'number' && Number.isFinite(exp - iat) ? { audiences, lifetimeSeconds: exp - iat } : { audiences };
  } catch {
    return { audiences: [] };
  }
}

/**
 * The object a TokenRequest binds its token to (spec.boundObjectRef), read and checked as
 * kube's TokenREST does: a Pod running as the ServiceAccount, a Secret, or a Node; its uid
 * must be the reference's when the reference has one.
 */
async function boundObjectOf(call: SubresourceCall, ref: Record<string, unknown>): Promise<SubresourceTokenRequest['boundObject']> {
  const apiVersion = str(ref.apiVersion);
  const kind = str(ref.kind);
  const name = str(ref.name);
  const slash = apiVersion.indexOf('/');
  const group = slash < 0 ? '' : apiVersion.slice(0, slash);
  const version = slash < 0 ? apiVersion : apiVersion.slice(slash + 1);
  let object: KubeObject;
  if (group === '' && kind === 'Pod') {
    object = await call.store.get({ group: '', resource: 'pods', namespace: call.namespace, name });
    const runsAs = str(record(object.spec).serviceAccountName);
    if (runsAs !== call.name) throw badRequest(`cannot bind token for serviceaccount ${JSON.stringify(call.name)} to pod running with different serviceaccount name.`);
  } else if (group === '' && kind === 'Node') {
    object = await call.store.get({ group: '', resource: 'nodes', namespace: '', name });
  } else if (group === '' && kind === 'Secret') {
    object = await call.store.get({ group: '', resource: 'secrets', namespace: call.namespace, name });
  } else {
    // Go's GroupVersionKind.String().
    throw badRequest(`cannot bind token to object of type ${group}/${version}, Kind=${kind}`);
  }
  const uid = str(object.metadata?.uid);
  const wanted = str(ref.uid);
  if (wanted !== '' && wanted !== uid) {
    throw conflict(
      { group, resource: kind },
      name,
      `the UID in the bound object reference (${wanted}) does not match the UID in record. The object might have been deleted and then recreated`,
    );
  }
  return { kind, apiVersion, name, uid };
}

/**
 * serviceaccounts/token: kube's TokenREST.Create. The body's name and namespace, when given,
 * must be the URL's; the ServiceAccount is read (NotFound as kube) and its uid checked against
 * the body's; the lifetime defaults to an hour and is at least 10 minutes; a bound object must
 * exist (with the reference's uid). The token is signed by the issuer the pipeline gives, and
 * the answer is the TokenRequest with status.token and status.expirationTimestamp, its
 * audiences the token's (the API server's own when none were asked for), and its
 * spec.expirationSeconds the token's lifetime, with kube's warning when the issuer's maximum
 * shortened it.
 */
async function requestToken(call: SubresourceCall): Promise<KubeObject> {
  const metadata = record(call.body.metadata);
  const bodyName = str(metadata.name);
  if (bodyName !== '' && bodyName !== call.name) throw tokenRequestInvalid(call.name, 'metadata.name', bodyName, 'must match the service account name if specified');
  const bodyNamespace = str(metadata.namespace);
  if (bodyNamespace !== '' && bodyNamespace !== call.namespace) {
    throw tokenRequestInvalid(call.name, 'metadata.namespace', bodyNamespace, 'must match the service account namespace if specified');
  }
  const account = await call.store.get({ group: '', resource: 'serviceaccounts', namespace: call.namespace, name: call.name });
  const accountUid = str(account.metadata?.uid);
  const bodyUid = str(metadata.uid);
  if (bodyUid !== '' && bodyUid !== accountUid) {
    throw conflict(
      { group: TOKEN_REQUEST_GROUP, resource: 'TokenRequest' },
      call.name,
      `the UID in the token request (${bodyUid}) does not match the UID of the service account (${accountUid})`,
    );
  }
  const spec = record(call.body.spec);
  const requested: unknown = spec.expirationSeconds;
  const expirationSeconds = typeof requested === 'number' ? requested : DEFAULT_TOKEN_SECONDS;
  if (expirationSeconds < MIN_TOKEN_SECONDS) throw tokenRequestInvalid('', 'spec.expirationSeconds', expirationSeconds, 'may not specify a duration less than 10 minutes');
  if (expirationSeconds > MAX_TOKEN_SECONDS) throw tokenRequestInvalid('', 'spec.expirationSeconds', expirationSeconds, 'may not specify a duration larger than 2^32 seconds');
  const audiences = Array.isArray(spec.audiences) ? spec.audiences.filter((a): a is string => typeof a === 'string') : [];
  const ref = isPlainObject(spec.boundObjectRef) ? spec.boundObjectRef : undefined;
  const boundObject = ref === undefined ? undefined : await boundObjectOf(call, ref);
  if (call.tokens === undefined) throw new StatusError('ServiceUnavailable', 'service account tokens are not configured');
  const now = call.now();
  const issued = await call.tokens.issue({ namespace: call.namespace, name: call.name, uid: accountUid, audiences, expirationSeconds, boundObject });
  const claims = claimsOf(issued.token);
  // The issuer's --service-account-max-token-expiration cut the lifetime: the answer says so, as kube's.
  let granted = expirationSeconds;
  if (claims.lifetimeSeconds !== undefined && claims.lifetimeSeconds > 0 && claims.lifetimeSeconds < expirationSeconds) {
    granted = claims.lifetimeSeconds;
    call.warn?.(`requested expiration of ${expirationSeconds} seconds shortened to ${granted} seconds`);
  }
  return {
    kind: 'TokenRequest',
    apiVersion: `${TOKEN_REQUEST_GROUP}/v1`,
    metadata: { ...metadata, name: call.name, namespace: call.namespace, creationTimestamp: rfc3339(now) },
    spec: {
      audiences: audiences.length > 0 ? audiences : claims.audiences,
      expirationSeconds: granted,
      ...(boundObject === undefined ? {} : { boundObjectRef: boundObject }),
    },
    status: { token: issued.token, expirationTimestamp: rfc3339(issued.expirationTimestamp) },
  };
}

/** serviceaccounts/token: an authentication.k8s.io/v1 TokenRequest. */
export const SERVICE_ACCOUNT_TOKEN: PostSubresource = Object.freeze({
  group: TOKEN_REQUEST_GROUP,
  version: 'v1',
  kind: 'TokenRequest',
  schema: 'io.k8s.api.authentication.v1.TokenRequest',
  create: requestToken,
});

const SECRETS_DESCRIPTION =
  'Secrets is a list of the secrets in the same namespace that pods running using this ServiceAccount are allowed to use. Pods are only limited to this list if this service account has a "kubernetes.io/enforce-mountable-secrets" annotation set to "true". The "kubernetes.io/enforce-mountable-secrets" annotation is deprecated since v1.32. Prefer separate namespaces to isolate access to mounted secrets. This field should not be used to find auto-generated service account token secrets for use outside of pods. Instead, tokens can be requested directly using the TokenRequest API, or service account token secrets can be manually created. More info: https://kubernetes.io/docs/concepts/configuration/secret';

/** printServiceAccount: NAME, SECRETS (how many are listed), AGE. */
function serviceAccountCells(object: Record<string, unknown>, now: Date): unknown[] {
  const secrets = object['secrets'];
  return [nameOf(object), Array.isArray(secrets) ? secrets.length : 0, ageOf(object, now)];
}

export const SERVICE_ACCOUNT: KindDefinition = {
  source: 'builtin',
  group: '',
  version: 'v1',
  resource: 'serviceaccounts',
  singular: 'serviceaccount',
  kind: 'ServiceAccount',
  listKind: 'ServiceAccountList',
  namespaced: true,
  shortNames: ['sa'],
  categories: [],
  verbs: STANDARD_VERBS,
  subresources: ['token'],
  postSubresources: Object.freeze({ token: SERVICE_ACCOUNT_TOKEN }),
  nameValidation: 'dns1123Subdomain',
  selectableFields: DEFAULT_FIELDS,
  strategy: { prepareForCreate: cleanSecretReferences, prepareForUpdate: cleanSecretReferences, generation: 'none' },
  printer: {
    // kube declares SECRETS as type "string" although its cells are integers; kept as kube serves it.
    columns: Object.freeze([NAME_COLUMN, column('Secrets', 'string', SECRETS_DESCRIPTION), AGE_COLUMN]),
    cells: serviceAccountCells,
  },
  schema: 'io.k8s.api.core.v1.ServiceAccount',
  // kube's store answers a delete with the deleted object.
  deletion: { returnDeletedObject: true },
};
