/**
 * Custom kinds: what a CustomResourceDefinition object serves, as kind definitions of the live
 * registry (one per served version), the way kube's apiextensions-apiserver serves custom
 * resources: its verbs, the status and scale subresources when declared, additionalPrinterColumns
 * (a subset of kube's JSONPath: simple dotted paths) else NAME and AGE, selectable fields
 * (metadata.name, metadata.namespace and spec.selectableFields), and the generation rule of
 * kube's custom resource strategy.
 */
import { createHash } from 'node:crypto';
import { parseRFC3339 } from '../go-time.ts';
import { isPlainObject, type KubeObject } from '../kube.ts';
import { objectFields, type SelectableFields } from '../selectors.ts';
import { CRD_CLEANUP_FINALIZER, defaultedNames } from './builtin/customresourcedefinition.ts';
import { age, column, NAME_COLUMN } from './printing.ts';
import type { KindDefinition, KindPrinter, TableColumnDefinition } from './types.ts';

export { CRD_CLEANUP_FINALIZER };

/** The verbs kube's discovery lists for every custom resource. */
export const CUSTOM_RESOURCE_VERBS: readonly string[] = Object.freeze(['delete', 'deletecollection', 'get', 'list', 'patch', 'create', 'update', 'watch']);

const CREATION_TIMESTAMP_DESCRIPTION =
  'CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata';

function str(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

function obj(value: unknown): Record<string, unknown> {
  return isPlainObject(value) ? value : {};
}

/**
 * kube's OpenAPI definition name of a custom kind: the group reversed, the version and the
 * kind (`widgets.example.com` v1 Widget: `com.example.v1.Widget`).
 */
export function customDefinitionName(group: string, version: string, kind: string): string {
  return [...group.split('.').reverse(), version, kind].join('.');
}

/** The segments of a simple JSONPath (`.spec.replicas` -> ["spec", "replicas"]); undefined when it is not one. */
export function simplePath(path: string): string[] | undefined {
  if (!path.startsWith('.')) return undefined;
  const segments = path.slice(1).split('.');
  if (segments.some((s) => s === '' || /[[\]{}*@$]/.test(s))) return undefined;
  return segments;
}

/** The value at `segments` in `object`, or undefined when a step is missing (AllowMissingKeys). */
export function valueAt(object: unknown, segments: readonly string[]): unknown {
  let value = object;
  for (const segment of segments) {
    if (!isPlainObject(value)) return undefined;
    value = value[segment];
  }
  return value;
}

/** How client-go's JSONPath prints a value (PrintResults): strings as they are, others as JSON. */
function printed(value: unknown): string {
  return typeof value === 'string' ? value : (JSON.stringify(value) ?? '');
}

/** kube's tableconvertor cellForJSONValue: the cell of a non-string column, or null. */
function cellFor(type: string, value: unknown, now: Date): unknown {
  if (value === null || value === undefined) return null;
  switch (type) {
    case 'integer':
      return typeof value === 'number' && Number.isFinite(value) ? Math.trunc(value) : null;
    case 'number':
      return typeof value === 'number' ? value : null;
    case 'boolean':
      return typeof value === 'boolean' ? value : null;
    case 'date': {
      if (typeof value !== 'string') return null;
      return 'error' in parseRFC3339(value) ? '<invalid>' : age(value, now);
    }
    default:
      return null;
  }
}

interface Column {
  definition: TableColumnDefinition;
  path: string[] | undefined;
}

/**
 * The printer of a version: NAME, then its additionalPrinterColumns (kube's tableconvertor),
 * or NAME and AGE (kube's default columns of a CRD without any). A column whose path is not a
 * simple dotted one prints nothing (null), as a path kube cannot parse would.
 */
export function customPrinter(columns: readonly unknown[]): KindPrinter {
  const defined = columns.length > 0 ? columns.map(obj) : [{ name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp', description: CREATION_TIMESTAMP_DESCRIPTION }];
  const extra: Column[] = defined.map((c) => {
    const jsonPath = str(c.jsonPath);
    const description = str(c.description) !== '' ? str(c.description) : `Custom resource definition column (in JSONPath format): ${jsonPath}`;
    const priority = typeof c.priority === 'number' && Number.isSafeInteger(c.priority) ? c.priority : 0;
    return { definition: column(str(c.name), str(c.type), description, priority, str(c.format)), path: simplePath(jsonPath) };
  });
  return {
    columns: Object.freeze([NAME_COLUMN, ...extra.map((c) => c.definition)]),
    cells(object: Record<string, unknown>, now: Date): unknown[] {
      const cells: unknown[] = [str(obj(object.metadata).name)];
      for (const c of extra) {
        const value = c.path === undefined ? undefined : valueAt(object, c.path);
        if (value === undefined || value === null) cells.push(null);
        else if (c.definition.type === 'string') cells.push(printed(value));
        else cells.push(cellFor(c.definition.type, value, now));
      }
      return cells;
    },
  };
}

/**
 * The selectable fields of a custom resource: metadata.name, metadata.namespace, and each
 * spec.selectableFields path (`.spec.color` -> `spec.color`) with its value as kube's field set
 * holds it (strings as they are, booleans and integers in decimal, anything else absent: "").
 */
export function customSelectableFields(selectable: readonly unknown[]): SelectableFields {
  const paths = selectable
    .map((s) => str(obj(s).jsonPath))
    .map((p) => ({ label: p.slice(1), segments: simplePath(p) }))
    .filter((p): p is { label: string; segments: string[] } => p.segments !== undefined);
  return {
    supported: ['metadata.name', 'metadata.namespace', ...paths.map((p) => p.label)],
    values(object: KubeObject): Record<string, string> {
      const values = objectFields(object);
      for (const p of paths) {
        const value = valueAt(object, p.segments);
        values[p.label] = typeof value === 'string' ? value : typeof value === 'boolean' || (typeof value === 'number' && Number.isInteger(value)) ? String(value) : '';
      }
      return values;
    },
  };
}

/** JSON with every object's keys sorted: the same value gives the same text whatever the order it was written in. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  const o = value as Record<string, unknown>;
  const entries = Object.keys(o)
    .filter((k) => o[k] !== undefined)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`);
  return `{${entries.join(',')}}`;
}

/**
 * The kinds a CustomResourceDefinition object serves: one per served version, none when it is
 * malformed (no group, plural or kind) or not established. While the definition is being
 * deleted its kinds are served `terminating` (kube serves a terminating definition's custom
 * resources until its cleanup finalizer has deleted them, refusing only creates).
 */
export function kindsOfDefinition(crd: KubeObject): KindDefinition[] {
  const spec = obj(crd.spec);
  const names = defaultedNames(obj(spec.names));
  const group = str(spec.group);
  const resource = str(names.plural);
  const kind = str(names.kind);
  if (group === '' || resource === '' || kind === '') return [];
  const deleting = crd.metadata?.deletionTimestamp;
  const terminating = deleting !== undefined && deleting !== null;
  const established = (Array.isArray(obj(crd.status).conditions) ? (obj(crd.status).conditions as unknown[]) : []).some(
    (c) => obj(c).type === 'Established' && obj(c).status === 'True',
  );
  if (!established) return [];
  const kinds: KindDefinition[] = [];
  const listedVersions: Record<string, string> = {};
  for (const raw of Array.isArray(spec.versions) ? spec.versions : []) {
    const v = obj(raw);
    if (str(v.name) !== '') listedVersions[str(v.name)] = isPlainObject(obj(v.subresources).scale) ? str(obj(obj(v.subresources).scale).specReplicasPath) : '';
  }
  Object.freeze(listedVersions);
  for (const raw of Array.isArray(spec.versions) ? spec.versions : []) {
    const v = obj(raw);
    const version = str(v.name);
    if (version === '' || v.served !== true) continue;
    const subresources = obj(v.subresources);
    const status = isPlainObject(subresources.status);
    const schema = customDefinitionName(group, version, kind);
    // Everything below is made from these and nothing else: equal facts, an equal kind.
    const facts = { origin: str(crd.metadata?.name), group, scope: spec.scope, names, version: v, listedVersions, terminating };
    const definition: KindDefinition = {
      source: 'custom',
      group,
      version,
      resource,
      singular: str(names.singular),
      kind,
      listKind: str(names.listKind),
      namespaced: spec.scope === 'Namespaced',
      shortNames: Object.freeze(strings(names.shortNames)),
      categories: Object.freeze(strings(names.categories)),
      verbs: CUSTOM_RESOURCE_VERBS,
      subresources: Object.freeze([...(status ? ['status'] : []), ...(isPlainObject(subresources.scale) ? ['scale'] : [])]),
      nameValidation: 'dns1123Subdomain',
      selectableFields: customSelectableFields(Array.isArray(v.selectableFields) ? v.selectableFields : []),
      strategy: { generation: status ? 'allButMetadataAndStatus' : 'allButMetadata' },
      ...scaleOfVersion(subresources.scale),
      printer: customPrinter(Array.isArray(v.additionalPrinterColumns) ? v.additionalPrinterColumns : []),
      schema,
      definitions: Object.freeze({ [schema]: withTypeAndObjectMeta(obj(v.schema).openAPIV3Schema) }),
      origin: facts.origin,
      listedVersions,
      ...(terminating ? { terminating } : {}),
      fingerprint: createHash('sha256').update(canonicalJson(facts)).digest('hex'),
    };
    kinds.push(Object.freeze(definition));
  }
  return kinds;
}

/**
 * Where a version's scale subresource reads and writes its resources (the definition's
 * specReplicasPath, statusReplicasPath and labelSelectorPath), when it declares one.
 */
function scaleOfVersion(scale: unknown): Pick<KindDefinition, 'scale'> {
  if (!isPlainObject(scale)) return {};
  const labelSelectorPath = str(scale.labelSelectorPath);
  return {
    scale: Object.freeze({
      specReplicasPath: str(scale.specReplicasPath),
      statusReplicasPath: str(scale.statusReplicasPath),
      ...(labelSelectorPath === '' ? {} : { labelSelectorPath }),
    }),
  };
}

/**
 * A version's schema as kube serves and checks custom resources: apiVersion, kind and metadata
 * (an ObjectMeta) are always fields of the object, whether or not the CRD's schema names them.
 */
function withTypeAndObjectMeta(schema: unknown): Record<string, unknown> {
  const s: Record<string, unknown> = isPlainObject(schema) ? schema : { type: 'object' };
  const properties = isPlainObject(s.properties) ? s.properties : {};
  return {
    ...s,
    properties: {
      ...properties,
      apiVersion: { type: 'string' },
      kind: { type: 'string' },
      metadata: { $ref: '#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta' },
    },
  };
}
