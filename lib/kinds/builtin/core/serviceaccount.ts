/**
 * ServiceAccount (core/v1, namespaced, short name "sa"): the secrets it lists are kept as
 * names only, as kube's strategy cleans them; printed as kube's printServiceAccount.
 */
import { isPlainObject, type KubeObject } from '../../../kube.ts';
import { DEFAULT_FIELDS } from '../../../selectors.ts';
import { AGE_COLUMN, ageOf, column, nameOf, NAME_COLUMN } from '../../printing.ts';
import type { KindDefinition } from '../../types.ts';
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
  // kube also serves serviceaccounts/token (TokenRequest), which this server does not issue.
  subresources: [],
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
