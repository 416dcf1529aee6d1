/**
 * Lease (coordination.k8s.io/v1, namespaced): validated as kube's ValidateLeaseSpec (a
 * positive duration, transitions not negative, a known or qualified coordination strategy, a
 * preferred holder only with a strategy); printed as kube's printLease.
 */
import type { FieldError } from '../../../errors.ts';
import type { KubeObject } from '../../../kube.ts';
import { DEFAULT_FIELDS } from '../../../selectors.ts';
import { AGE_COLUMN, ageOf, column, field, nameOf, NAME_COLUMN, stringField } from '../../printing.ts';
import type { KindDefinition } from '../../types.ts';
import { STANDARD_VERBS } from '../common.ts';
import { obj, qualifiedNameErrors, supportedValues } from './common.ts';

const LEASE_STRATEGIES = ['OldestEmulationVersion'] as const;

/** ValidateCoordinatedLeaseStrategy (kube names the path `<strategy>.strategy`). */
function strategyErrors(strategy: string, at: string): FieldError[] {
  if (strategy.split('/').length === 1) {
    return (LEASE_STRATEGIES as readonly string[]).includes(strategy)
      ? []
      : [{ type: 'FieldValueNotSupported', field: `${at}.strategy`, value: strategy, detail: supportedValues(LEASE_STRATEGIES) }];
  }
  return qualifiedNameErrors(strategy, `${at}.strategy`);
}

/** ValidateLeaseSpec, the same on create and update. */
function validate(object: KubeObject): FieldError[] {
  const errors: FieldError[] = [];
  const spec = obj(object.spec);
  const duration: unknown = spec.leaseDurationSeconds;
  if (typeof duration === 'number' && duration <= 0) {
    errors.push({ type: 'FieldValueInvalid', field: 'spec.leaseDurationSeconds', value: duration, detail: 'must be greater than 0' });
  }
  const transitions: unknown = spec.leaseTransitions;
  if (typeof transitions === 'number' && transitions < 0) {
    errors.push({ type: 'FieldValueInvalid', field: 'spec.leaseTransitions', value: transitions, detail: 'must be greater than or equal to 0' });
  }
  const strategy: unknown = spec.strategy;
  if (typeof strategy === 'string') errors.push(...strategyErrors(strategy, 'spec.strategy'));
  if (typeof spec.preferredHolder === 'string' && spec.preferredHolder !== '' && (typeof strategy !== 'string' || strategy === '')) {
    errors.push({ type: 'FieldValueForbidden', field: 'spec.preferredHolder', detail: 'may only be specified if `strategy` is defined' });
  }
  return errors;
}

const HOLDER_DESCRIPTION =
  'holderIdentity contains the identity of the holder of a current lease. If Coordinated Leader Election is used, the holder identity must be equal to the elected LeaseCandidate.metadata.name field.';

export const LEASE: KindDefinition = {
  source: 'builtin',
  group: 'coordination.k8s.io',
  version: 'v1',
  resource: 'leases',
  singular: 'lease',
  kind: 'Lease',
  listKind: 'LeaseList',
  namespaced: true,
  shortNames: [],
  categories: [],
  verbs: STANDARD_VERBS,
  subresources: [],
  nameValidation: 'dns1123Subdomain',
  selectableFields: DEFAULT_FIELDS,
  strategy: { validate, generation: 'none' },
  printer: {
    columns: Object.freeze([NAME_COLUMN, column('Holder', 'string', HOLDER_DESCRIPTION), AGE_COLUMN]),
    // printLease: HOLDER is spec.holderIdentity, "" when unset.
    cells: (object, now) => [nameOf(object), stringField(field(object, 'spec'), 'holderIdentity'), ageOf(object, now)],
  },
  schema: 'io.k8s.api.coordination.v1.Lease',
};
