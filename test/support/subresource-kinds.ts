/**
 * Kinds for tests of the subresource machinery: a built-in-style kind with status and scale
 * (a Deployment's scale facts and schema, under a group of its own so it never meets a real
 * kind), and a CustomResourceDefinition with both subresources. Built only from the definition
 * facts the machinery reads, never special-cased by it.
 */
import type { FieldError } from '../../lib/errors.ts';
import { isPlainObject, type KubeObject } from '../../lib/kube.ts';
import { CUSTOM_RESOURCE_DEFINITION } from '../../lib/kinds/builtin/customresourcedefinition.ts';
import { kindsOfDefinition } from '../../lib/kinds/custom.ts';
import type { KindDefinition } from '../../lib/kinds/index.ts';
import { DEFAULT_FIELDS } from '../../lib/selectors.ts';

/** A status strategy's own check, so tests see the hooks run: status.replicas may not be negative. */
function validateReplicatorStatus(object: KubeObject): FieldError[] {
  const status = isPlainObject(object.status) ? object.status : {};
  return typeof status.replicas === 'number' && status.replicas < 0
    ? [{ type: 'FieldValueInvalid', field: 'status.replicas', value: status.replicas, detail: 'must be greater than or equal to 0' }]
    : [];
}

/** A built-in-style kind with the status and scale subresources (kube's Deployment facts). */
export const REPLICATORS: KindDefinition = Object.freeze({
  source: 'builtin',
  group: 'example.test',
  version: 'v1',
  resource: 'replicators',
  singular: 'replicator',
  kind: 'Replicator',
  listKind: 'ReplicatorList',
  namespaced: true,
  shortNames: [],
  categories: [],
  verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
  subresources: ['status', 'scale'],
  nameValidation: 'dns1123Subdomain',
  selectableFields: DEFAULT_FIELDS,
  strategy: { generation: 'spec' },
  statusStrategy: { validate: validateReplicatorStatus },
  scale: { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas', selectorPath: '.spec.selector' },
  schema: 'io.k8s.api.apps.v1.Deployment',
} satisfies KindDefinition);

export const WIDGET_GROUP = 'widgets.example.com';

/**
 * A stored, established CustomResourceDefinition of `widgets` in WIDGET_GROUP, with the status
 * subresource and a scale subresource at .spec.size / .status.ready / .status.selector; or
 * without subresources when `subresources` is false.
 */
export function widgetDefinition(subresources = true): KubeObject {
  const crd: KubeObject = {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `widgets.${WIDGET_GROUP}` },
    spec: {
      group: WIDGET_GROUP,
      scope: 'Namespaced',
      names: { plural: 'widgets', kind: 'Widget' },
      versions: [
        {
          name: 'v1',
          served: true,
          storage: true,
          schema: {
            openAPIV3Schema: {
              type: 'object',
              properties: {
                spec: { type: 'object', properties: { size: { type: 'integer' }, color: { type: 'string' } } },
                status: { type: 'object', properties: { ready: { type: 'integer' }, selector: { type: 'string' } } },
              },
            },
          },
          ...(subresources
            ? { subresources: { status: {}, scale: { specReplicasPath: '.spec.size', statusReplicasPath: '.status.ready', labelSelectorPath: '.status.selector' } } }
            : {}),
        },
      ],
    },
  };
  return CUSTOM_RESOURCE_DEFINITION.strategy.prepareForCreate?.(crd) ?? crd;
}

/** The kind of {@link widgetDefinition}. */
export function widgetKind(subresources = true): KindDefinition {
  const [kind] = kindsOfDefinition(widgetDefinition(subresources));
  if (kind === undefined) throw new Error('the widget definition serves no kind');
  return kind;
}
