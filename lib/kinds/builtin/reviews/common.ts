/** What the review kinds share: their identity (created only, never stored). */
import { DEFAULT_FIELDS } from '../../../selectors.ts';
import type { KindDefinition } from '../../types.ts';

/** A review kind of `group`/v1: its only verb is create; `namespaced` only for LocalSubjectAccessReview. */
export function reviewKind(group: string, kind: string, resource: string, namespaced: boolean): KindDefinition {
  return Object.freeze({
    source: 'builtin',
    group,
    version: 'v1',
    resource,
    singular: resource.slice(0, -1),
    kind,
    listKind: `${kind}List`,
    namespaced,
    shortNames: [],
    categories: [],
    verbs: ['create'],
    subresources: [],
    nameValidation: 'dns1123Subdomain',
    selectableFields: DEFAULT_FIELDS,
    strategy: { generation: 'none' },
    schema: `io.k8s.api.${group.split('.')[0]}.v1.${kind}`,
    review: true,
  } satisfies KindDefinition);
}
