/**
 * The OpenAPI documents of the served kinds, as kube-apiserver publishes them: one v2 document
 * (`/openapi/v2`) with every served path and the definitions they reach, and one v3 document
 * per group-version (`/openapi/v3/api/v1`, `/openapi/v3/apis/<group>/<version>`) with its paths
 * and `components.schemas`, plus the v3 index naming each with the hash of its bytes.
 *
 * Everything is derived from the live {@link KindRegistry} (which kinds, which verbs, which
 * schema definition) and the generated schemas (or a custom kind's own `definitions`). Building
 * walks every kind's schema graph, so {@link OpenApiDocuments} builds each document on first
 * use and keeps its bytes until the registry's generation changes: a kind added or removed is in
 * the next request's document, and a request between changes costs a number comparison.
 *
 * Names, paths, operation ids, parameters and `x-kubernetes-*` extensions follow kube's
 * published documents (facts read from kube-openapi and the generated kube specs); descriptions
 * are left out, as in the generated schemas. Documents are serialised with sorted keys, so two
 * replicas with the same kinds serve the same bytes and the same ETag and v3 hash.
 */
import { createHash } from 'node:crypto';
import { listDefinitionName, type KindDefinition } from './types.ts';
import type { KindRegistry } from './registry.ts';

/** A JSON schema object as the generated data holds it (OpenAPI v2 style). */
export type JsonSchema = Readonly<Record<string, unknown>>;

/**
 * Where definitions come from: the generated schemas (lib/kinds/schemas.ts `SchemaSet`), or any
 * lookup of kube definition names. `get` returns undefined for an unknown name.
 */
export interface SchemaLookup {
  get(name: string): object | undefined;
}

/** The server's version, written in each document's `info`. */
export interface OpenApiInfo {
  readonly title: string;
  readonly version: string;
}

const META = 'io.k8s.apimachinery.pkg.apis.meta.v1';
const OBJECT_META = `${META}.ObjectMeta`;
const LIST_META = `${META}.ListMeta`;
const STATUS = `${META}.Status`;
const DELETE_OPTIONS = `${META}.DeleteOptions`;
const WATCH_EVENT = `${META}.WatchEvent`;
const PATCH = `${META}.Patch`;
/** Meta definitions kube registers in every group-version (one GVK per served group-version). */
const PER_GROUP_VERSION_KINDS: ReadonlyMap<string, string> = new Map([
  [DELETE_OPTIONS, 'DeleteOptions'],
  [WATCH_EVENT, 'WatchEvent'],
]);

const V2_REF = '#/definitions/';
const V3_REF = '#/components/schemas/';

/**
 * Types whose v3 schema is a oneOf of types (kube's OpenAPIV3OneOfTypes in apimachinery:
 * IntOrString and Quantity); their v2 schema is a plain string.
 */
const V3_ONE_OF: ReadonlyMap<string, readonly string[]> = new Map([
  ['io.k8s.apimachinery.pkg.util.intstr.IntOrString', ['integer', 'string']],
  ['io.k8s.apimachinery.pkg.api.resource.Quantity', ['string', 'number']],
]);

/** The schema a definition that cannot be found is published as: any object, so references still resolve. */
const UNKNOWN_DEFINITION: JsonSchema = Object.freeze({ type: 'object', 'x-kubernetes-preserve-unknown-fields': true });

/** What a list or watch takes (kube's ListOptions as query parameters), in kube's order. */
const LIST_PARAMETERS: readonly QueryParameter[] = [
  { name: 'allowWatchBookmarks', type: 'boolean' },
  { name: 'continue', type: 'string' },
  { name: 'fieldSelector', type: 'string' },
  { name: 'labelSelector', type: 'string' },
  { name: 'limit', type: 'integer' },
  { name: 'resourceVersion', type: 'string' },
  { name: 'resourceVersionMatch', type: 'string' },
  { name: 'sendInitialEvents', type: 'boolean' },
  { name: 'timeoutSeconds', type: 'integer' },
  { name: 'watch', type: 'boolean' },
];
/** Create and replace (CreateOptions, UpdateOptions); kubectl looks for fieldValidation to send Strict. */
const WRITE_PARAMETERS: readonly QueryParameter[] = [
  { name: 'dryRun', type: 'string' },
  { name: 'fieldManager', type: 'string' },
  { name: 'fieldValidation', type: 'string' },
];
const PATCH_PARAMETERS: readonly QueryParameter[] = [...WRITE_PARAMETERS, { name: 'force', type: 'boolean' }];
const DELETE_PARAMETERS: readonly QueryParameter[] = [
  { name: 'dryRun', type: 'string' },
  { name: 'gracePeriodSeconds', type: 'integer' },
  { name: 'ignoreStoreReadErrorWithClusterBreakingPotential', type: 'boolean' },
  { name: 'orphanDependents', type: 'boolean' },
  { name: 'propagationPolicy', type: 'string' },
];
const PRETTY: QueryParameter = { name: 'pretty', type: 'string' };

/** Media types the REST front door answers (JSON objects; watch streams of JSON lines). */
const PRODUCES = ['application/json'];
const PRODUCES_STREAM = ['application/json', 'application/json;stream=watch'];
const CONSUMES_PATCH = ['application/json-patch+json', 'application/merge-patch+json', 'application/strategic-merge-patch+json', 'application/apply-patch+yaml'];

interface QueryParameter {
  readonly name: string;
  readonly type: 'string' | 'integer' | 'boolean';
}

/** kube's x-kubernetes-action values. */
type Action = 'get' | 'list' | 'post' | 'put' | 'patch' | 'delete' | 'deletecollection' | 'watch' | 'watchlist';

/** One operation of a path, independent of the OpenAPI version it is written in. */
interface OperationSpec {
  readonly method: 'get' | 'put' | 'post' | 'delete' | 'patch';
  readonly operationId: string;
  readonly action: Action;
  readonly kind: KindDefinition;
  readonly query: readonly QueryParameter[];
  /** The request body's definition and whether it is required. */
  readonly body?: { readonly definition: string; readonly required: boolean };
  readonly consumes?: readonly string[];
  readonly produces: readonly string[];
  /** Response code -> definition. */
  readonly responses: readonly (readonly [string, string])[];
}

interface PathSpec {
  readonly path: string;
  readonly namespaced: boolean;
  readonly named: boolean;
  readonly kind: KindDefinition;
  readonly operations: OperationSpec[];
}

/** `api/v1` for the core group, `apis/<group>/<version>` otherwise: the v3 index key of a group-version. */
export function groupVersionPath(gv: { group: string; version: string }): string {
  return gv.group === '' ? `api/${gv.version}` : `apis/${gv.group}/${gv.version}`;
}

/**
 * kube's friendly group name in operation ids and tags: `core` for "", the group without a
 * `.k8s.io` suffix otherwise, each dot-separated part capitalised after the first
 * (`rbac.authorization.k8s.io` -> `rbacAuthorization`).
 */
function groupIdentifier(group: string): string {
  if (group === '') return 'core';
  const parts = group.replace(/\.k8s\.io$/, '').split(/[.-]/).filter((p) => p !== '');
  return parts.map((p, i) => (i === 0 ? p : upperFirst(p))).join('');
}

function upperFirst(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** The paths and operations of one kind, as kube-apiserver installs them (see installer.go). */
function pathsOf(kind: KindDefinition): PathSpec[] {
  const prefix = kind.group === '' ? `/api/${kind.version}` : `/apis/${kind.group}/${kind.version}`;
  const id = `${upperFirst(groupIdentifier(kind.group))}${upperFirst(kind.version)}`;
  const scope = kind.namespaced ? 'Namespaced' : '';
  const verbs = new Set(kind.verbs);
  const collection = kind.namespaced ? `${prefix}/namespaces/{namespace}/${kind.resource}` : `${prefix}/${kind.resource}`;
  const watchCollection = kind.namespaced ? `${prefix}/watch/namespaces/{namespace}/${kind.resource}` : `${prefix}/watch/${kind.resource}`;
  const list = listDefinitionName(kind);
  const out: PathSpec[] = [];
  const add = (path: string, named: boolean, namespaced: boolean, operations: (OperationSpec | false)[]): void => {
    const ops = operations.filter((o): o is OperationSpec => o !== false);
    if (ops.length > 0) out.push({ path, named, namespaced, kind, operations: ops });
  };
  const op = (spec: Omit<OperationSpec, 'kind'>): OperationSpec => ({ ...spec, kind });

  add(collection, false, kind.namespaced, [
    verbs.has('list') &&
      op({ method: 'get', operationId: `list${id}${scope}${kind.kind}`, action: 'list', query: LIST_PARAMETERS, produces: PRODUCES_STREAM, responses: [['200', list]] }),
    verbs.has('create') &&
      op({
        method: 'post',
        operationId: `create${id}${scope}${kind.kind}`,
        action: 'post',
        query: WRITE_PARAMETERS,
        body: { definition: kind.schema, required: true },
        produces: PRODUCES,
        responses: [['200', kind.schema], ['201', kind.schema], ['202', kind.schema]],
      }),
    verbs.has('deletecollection') &&
      op({
        method: 'delete',
        operationId: `delete${id}Collection${scope}${kind.kind}`,
        action: 'deletecollection',
        query: [...DELETE_PARAMETERS, ...LIST_PARAMETERS.filter((p) => p.name !== 'watch' && p.name !== 'allowWatchBookmarks')],
        body: { definition: DELETE_OPTIONS, required: false },
        produces: PRODUCES,
        responses: [['200', STATUS]],
      }),
  ]);
  add(`${collection}/{name}`, true, kind.namespaced, [
    verbs.has('get') && op({ method: 'get', operationId: `read${id}${scope}${kind.kind}`, action: 'get', query: [], produces: PRODUCES, responses: [['200', kind.schema]] }),
    verbs.has('update') &&
      op({
        method: 'put',
        operationId: `replace${id}${scope}${kind.kind}`,
        action: 'put',
        query: WRITE_PARAMETERS,
        body: { definition: kind.schema, required: true },
        produces: PRODUCES,
        responses: [['200', kind.schema], ['201', kind.schema]],
      }),
    verbs.has('patch') &&
      op({
        method: 'patch',
        operationId: `patch${id}${scope}${kind.kind}`,
        action: 'patch',
        query: PATCH_PARAMETERS,
        body: { definition: PATCH, required: true },
        consumes: CONSUMES_PATCH,
        produces: PRODUCES,
        responses: [['200', kind.schema], ['201', kind.schema]],
      }),
    verbs.has('delete') &&
      op({
        method: 'delete',
        operationId: `delete${id}${scope}${kind.kind}`,
        action: 'delete',
        query: DELETE_PARAMETERS,
        body: { definition: DELETE_OPTIONS, required: false },
        produces: PRODUCES,
        responses: [['200', STATUS], ['202', STATUS]],
      }),
  ]);
  if (kind.namespaced) {
    add(`${prefix}/${kind.resource}`, false, false, [
      verbs.has('list') &&
        op({ method: 'get', operationId: `list${id}${kind.kind}ForAllNamespaces`, action: 'list', query: LIST_PARAMETERS, produces: PRODUCES_STREAM, responses: [['200', list]] }),
    ]);
  }
  if (verbs.has('watch')) {
    // The deprecated /watch/ paths, which the front door still serves.
    add(watchCollection, false, kind.namespaced, [
      op({ method: 'get', operationId: `watch${id}${scope}${kind.kind}List`, action: 'watchlist', query: LIST_PARAMETERS, produces: PRODUCES_STREAM, responses: [['200', WATCH_EVENT]] }),
    ]);
    add(`${watchCollection}/{name}`, true, kind.namespaced, [
      op({ method: 'get', operationId: `watch${id}${scope}${kind.kind}`, action: 'watch', query: LIST_PARAMETERS, produces: PRODUCES_STREAM, responses: [['200', WATCH_EVENT]] }),
    ]);
    if (kind.namespaced) {
      add(`${prefix}/watch/${kind.resource}`, false, false, [
        op({
          method: 'get',
          operationId: `watch${id}${kind.kind}ListForAllNamespaces`,
          action: 'watchlist',
          query: LIST_PARAMETERS,
          produces: PRODUCES_STREAM,
          responses: [['200', WATCH_EVENT]],
        }),
      ]);
    }
  }
  return out;
}

/** The names of the definitions a schema refers to (its `$ref`s at any depth). */
function refsOf(value: unknown, out: Set<string>): void {
  if (Array.isArray(value)) {
    for (const v of value) refsOf(v, out);
    return;
  }
  if (value === null || typeof value !== 'object') return;
  for (const [key, v] of Object.entries(value)) {
    if (key === '$ref' && typeof v === 'string' && v.startsWith(V2_REF)) out.add(v.slice(V2_REF.length));
    else refsOf(v, out);
  }
}

/** The definitions a set of kinds needs: their schemas and lists, the meta types, and everything those reach. */
class DefinitionCollector {
  readonly definitions = new Map<string, JsonSchema>();
  /** Definitions referred to but found nowhere (published as {@link UNKNOWN_DEFINITION}). */
  readonly missing = new Set<string>();
  private readonly kinds: readonly KindDefinition[];
  private readonly schemas: SchemaLookup;
  /** The schemas kinds bring for their own names (schema and list), the first kind's for a name. */
  private readonly own = new Map<string, JsonSchema>();

  constructor(kinds: readonly KindDefinition[], schemas: SchemaLookup) {
    this.kinds = kinds;
    this.schemas = schemas;
    for (const k of kinds) {
      for (const name of [k.schema, listDefinitionName(k)]) {
        const schema = k.definitions?.[name];
        if (!this.own.has(name) && schema !== undefined && schema !== null && typeof schema === 'object') this.own.set(name, schema as JsonSchema);
      }
    }
  }

  /**
   * A definition by name: a generated one, else the one a kind brings for its own schema or
   * list. A kind's definitions of any other name are never read, and a generated name is never
   * taken from a kind: what one custom kind brings cannot change the schema of any other kind
   * (the registry refuses custom kinds with such names; this holds whatever registry is read).
   */
  private lookup(name: string): JsonSchema | undefined {
    return (this.schemas.get(name) as JsonSchema | undefined) ?? this.own.get(name);
  }

  /** Adds `name` and everything it reaches; `fallback` (when given) stands in for a definition found nowhere. */
  add(name: string, fallback?: () => JsonSchema): void {
    const pending = [name];
    let first = true;
    while (pending.length > 0) {
      const next = pending.pop() as string;
      if (this.definitions.has(next)) {
        first = false;
        continue;
      }
      let schema = this.lookup(next);
      if (schema === undefined && first && fallback !== undefined) schema = fallback();
      first = false;
      if (schema === undefined) {
        this.missing.add(next);
        schema = UNKNOWN_DEFINITION;
      }
      this.definitions.set(next, schema);
      const refs = new Set<string>();
      refsOf(schema, refs);
      pending.push(...refs);
    }
  }

  /** Adds every kind's schema (with its group-version-kind), its list, and the meta types. */
  addKinds(servedGroupVersions: readonly { group: string; version: string }[]): void {
    for (const kind of this.kinds) {
      const gvk = { group: kind.group, kind: kind.kind, version: kind.version };
      this.add(kind.schema);
      this.definitions.set(kind.schema, withGroupVersionKind(this.definitions.get(kind.schema) ?? UNKNOWN_DEFINITION, gvk));
      // A review kind has no list (kube defines none).
      if (kind.review === true) continue;
      const list = listDefinitionName(kind);
      this.add(list, () => syntheticList(kind));
      this.definitions.set(list, withGroupVersionKind(this.definitions.get(list) ?? UNKNOWN_DEFINITION, { ...gvk, kind: kind.listKind }));
    }
    for (const name of [OBJECT_META, LIST_META, STATUS, DELETE_OPTIONS, WATCH_EVENT, PATCH]) this.add(name);
    // DeleteOptions and WatchEvent are registered in every group-version kube serves: name the served ones.
    for (const [name, kindName] of PER_GROUP_VERSION_KINDS) {
      const schema = this.definitions.get(name);
      if (schema === undefined || schema === UNKNOWN_DEFINITION) continue;
      const gvks = servedGroupVersions.map(({ group, version }) => ({ group, kind: kindName, version }));
      this.definitions.set(name, { ...schema, 'x-kubernetes-group-version-kind': gvks });
    }
  }
}

/** The schema with `gvk` among its x-kubernetes-group-version-kind (kept as it is when already there). */
function withGroupVersionKind(schema: JsonSchema, gvk: { group: string; kind: string; version: string }): JsonSchema {
  const existing = Array.isArray(schema['x-kubernetes-group-version-kind']) ? (schema['x-kubernetes-group-version-kind'] as unknown[]) : [];
  const has = existing.some((e) => {
    const g = e as Record<string, unknown>;
    return g.group === gvk.group && g.kind === gvk.kind && g.version === gvk.version;
  });
  return has ? schema : { ...schema, 'x-kubernetes-group-version-kind': [...existing, gvk] };
}

/** The list of a kind whose list has no definition of its own (a custom kind), as kube builds it for CRDs. */
function syntheticList(kind: KindDefinition): JsonSchema {
  return {
    type: 'object',
    required: ['items'],
    properties: {
      apiVersion: { type: 'string' },
      items: { type: 'array', items: { $ref: `${V2_REF}${kind.schema}` } },
      kind: { type: 'string' },
      metadata: { $ref: `${V2_REF}${LIST_META}` },
    },
  };
}

/** Sorted copies of an object's keys, recursively: the documents' canonical form. */
function sortedKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortedKeys);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) out[key] = sortedKeys((value as Record<string, unknown>)[key]);
  return out;
}

function gvkExtension(kind: KindDefinition): Record<string, string> {
  return { group: kind.group, kind: kind.kind, version: kind.version };
}

function pathParameters(path: PathSpec): { name: string; description: string }[] {
  const out: { name: string; description: string }[] = [];
  if (path.named) out.push({ name: 'name', description: `name of the ${path.kind.kind}` });
  if (path.namespaced) out.push({ name: 'namespace', description: 'object name and auth scope, such as for teams and projects' });
  return out;
}

function tagOf(kind: KindDefinition): string {
  return `${groupIdentifier(kind.group)}_${kind.version}`;
}

/** The OpenAPI v2 (swagger 2.0) document of `kinds`, with the definitions their paths reach. */
export function buildOpenApiV2(kinds: readonly KindDefinition[], schemas: SchemaLookup, info: OpenApiInfo): { document: Record<string, unknown>; missing: string[] } {
  const collector = new DefinitionCollector(kinds, schemas);
  collector.addKinds(servedGroupVersions(kinds));
  const paths: Record<string, unknown> = {};
  for (const kind of kinds) {
    for (const path of pathsOf(kind)) {
      const item: Record<string, unknown> = {};
      for (const op of path.operations) {
        const parameters: Record<string, unknown>[] = [];
        if (op.body !== undefined) {
          parameters.push({ in: 'body', name: 'body', required: op.body.required, schema: { $ref: `${V2_REF}${op.body.definition}` } });
        }
        for (const q of op.query) parameters.push({ in: 'query', name: q.name, type: q.type, uniqueItems: true });
        const responses: Record<string, unknown> = {};
        for (const [code, definition] of op.responses) responses[code] = { description: responseText(code), schema: { $ref: `${V2_REF}${definition}` } };
        responses['401'] = { description: 'Unauthorized' };
        item[op.method] = {
          consumes: op.consumes ?? ['*/*'],
          operationId: op.operationId,
          ...(parameters.length > 0 ? { parameters } : {}),
          produces: op.produces,
          responses,
          schemes: ['https'],
          tags: [tagOf(op.kind)],
          'x-kubernetes-action': op.action,
          'x-kubernetes-group-version-kind': gvkExtension(op.kind),
        };
      }
      item.parameters = [
        ...pathParameters(path).map((p) => ({ description: p.description, in: 'path', name: p.name, required: true, type: 'string', uniqueItems: true })),
        { in: 'query', name: PRETTY.name, type: PRETTY.type, uniqueItems: true },
      ];
      paths[path.path] = item;
    }
  }
  const document = {
    swagger: '2.0',
    info: { title: info.title, version: info.version },
    paths,
    definitions: Object.fromEntries(collector.definitions),
    securityDefinitions: { BearerToken: { type: 'apiKey', name: 'authorization', in: 'header' } },
    security: [{ BearerToken: [] }],
  };
  return { document: sortedKeys(document) as Record<string, unknown>, missing: [...collector.missing].sort() };
}

function responseText(code: string): string {
  switch (code) {
    case '200':
      return 'OK';
    case '201':
      return 'Created';
    case '202':
      return 'Accepted';
    default:
      return code;
  }
}

/** Served group-versions, sorted (the core group first). */
function servedGroupVersions(kinds: readonly KindDefinition[]): { group: string; version: string }[] {
  const seen = new Map<string, { group: string; version: string }>();
  for (const k of kinds) seen.set(`${k.group}/${k.version}`, { group: k.group, version: k.version });
  return [...seen.values()].sort((a, b) => (a.group === b.group ? a.version.localeCompare(b.version) : a.group.localeCompare(b.group)));
}

/**
 * A v2 schema as kube writes it in v3: `$ref` into `#/components/schemas/`, a `$ref` with
 * siblings wrapped in `allOf` (v3 ignores a `$ref`'s siblings), `format: int-or-string` as a
 * oneOf of integer and string.
 */
function toV3Schema(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(toV3Schema);
  if (value === null || typeof value !== 'object') return value;
  const schema = value as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(schema)) {
    if (key === '$ref') continue;
    // Inside these, keys are property names (or extension payloads), not schema keywords.
    if (key === 'properties' && v !== null && typeof v === 'object' && !Array.isArray(v)) {
      out[key] = Object.fromEntries(Object.entries(v).map(([name, s]) => [name, toV3Schema(s)]));
    } else if (key.startsWith('x-') || key === 'enum' || key === 'default' || key === 'example' || key === 'required') {
      out[key] = v;
    } else {
      out[key] = toV3Schema(v);
    }
  }
  if (typeof schema.$ref === 'string') {
    const ref = schema.$ref.startsWith(V2_REF) ? `${V3_REF}${schema.$ref.slice(V2_REF.length)}` : schema.$ref;
    if (Object.keys(out).length === 0) return { $ref: ref };
    return { ...out, allOf: [{ $ref: ref }] };
  }
  if (out.format === 'int-or-string' && out.oneOf === undefined && out.anyOf === undefined) {
    delete out.type;
    out.oneOf = [{ type: 'integer' }, { type: 'string' }];
  }
  return out;
}

/** A definition in v3: {@link toV3Schema}, and the oneOf types kube gives IntOrString and Quantity. */
function toV3Definition(name: string, schema: JsonSchema): unknown {
  const oneOf = V3_ONE_OF.get(name);
  const converted = toV3Schema(schema) as Record<string, unknown>;
  if (oneOf === undefined) return converted;
  const { type: _type, oneOf: _oneOf, ...rest } = converted;
  return { ...rest, oneOf: oneOf.map((type) => ({ type })) };
}

/** The OpenAPI v3 document of one group-version: its kinds' paths, and the schemas they reach. */
export function buildOpenApiV3(
  kinds: readonly KindDefinition[],
  gv: { group: string; version: string },
  schemas: SchemaLookup,
  info: OpenApiInfo,
): { document: Record<string, unknown>; missing: string[] } {
  const own = kinds.filter((k) => k.group === gv.group && k.version === gv.version);
  const collector = new DefinitionCollector(own, schemas);
  collector.addKinds([gv]);
  const paths: Record<string, unknown> = {};
  for (const kind of own) {
    for (const path of pathsOf(kind)) {
      const item: Record<string, unknown> = {};
      for (const op of path.operations) {
        const content = (definition: string, types: readonly string[]): Record<string, unknown> =>
          Object.fromEntries(types.map((t) => [t, { schema: { $ref: `${V3_REF}${definition}` } }]));
        const responses: Record<string, unknown> = {};
        for (const [code, definition] of op.responses) responses[code] = { description: responseText(code), content: content(definition, op.produces) };
        responses['401'] = { description: 'Unauthorized' };
        item[op.method] = {
          operationId: op.operationId,
          ...(op.query.length > 0 ? { parameters: op.query.map((q) => ({ in: 'query', name: q.name, schema: { type: q.type, uniqueItems: true } })) } : {}),
          ...(op.body !== undefined ? { requestBody: { content: content(op.body.definition, op.consumes ?? ['*/*']), required: op.body.required } } : {}),
          responses,
          tags: [tagOf(op.kind)],
          'x-kubernetes-action': op.action,
          'x-kubernetes-group-version-kind': gvkExtension(op.kind),
        };
      }
      item.parameters = [
        ...pathParameters(path).map((p) => ({ description: p.description, in: 'path', name: p.name, required: true, schema: { type: 'string', uniqueItems: true } })),
        { in: 'query', name: PRETTY.name, schema: { type: PRETTY.type, uniqueItems: true } },
      ];
      paths[path.path] = item;
    }
  }
  const schemasOut: Record<string, unknown> = {};
  for (const [name, schema] of collector.definitions) schemasOut[name] = toV3Definition(name, schema);
  const document = {
    openapi: '3.0.0',
    info: { title: info.title, version: info.version },
    paths,
    components: {
      schemas: schemasOut,
      securitySchemes: { BearerToken: { type: 'apiKey', name: 'authorization', in: 'header' } },
    },
    security: [{ BearerToken: [] }],
  };
  return { document: sortedKeys(document) as Record<string, unknown>, missing: [...collector.missing].sort() };
}

/** A document's bytes and its hash: upper-case hex SHA-512 of the bytes, as kube-openapi computes ETags and v3 hashes. */
export interface EncodedDocument {
  readonly json: Buffer;
  readonly hash: string;
}

function encode(document: unknown): EncodedDocument {
  const json = Buffer.from(JSON.stringify(document));
  return { json, hash: createHash('sha512').update(json).digest('hex').toUpperCase() };
}

/** The v2 document of one registry generation: JSON now, protobuf when first asked. */
export interface V2Document extends EncodedDocument {
  readonly document: Record<string, unknown>;
}

/** What one registry generation's documents are; filled in as they are asked for. */
interface Generation {
  readonly number: number;
  readonly kinds: readonly KindDefinition[];
  v2?: V2Document;
  /** v3 documents by group-version path (`api/v1`); all of them once the index has been built. */
  readonly v3: Map<string, EncodedDocument>;
  index?: EncodedDocument;
  /** Derived encodings (e.g. the v2 protobuf), by name: their bytes, or the error they failed with. */
  readonly derived: Map<string, Buffer | Error>;
}

/**
 * The OpenAPI documents of a live registry, built on first use and kept per registry
 * generation. One instance per server (the gateway's REST handler holds it).
 */
export class OpenApiDocuments {
  private readonly registry: KindRegistry;
  private readonly schemas: SchemaLookup;
  private readonly info: OpenApiInfo;
  private readonly onMissing: (names: readonly string[]) => void;
  private current: Generation | undefined;

  /**
   * @param onMissing told, once per document built, of definitions referred to but found
   *   nowhere (published as any object so the document stays whole).
   */
  constructor(options: { registry: KindRegistry; schemas: SchemaLookup; info: OpenApiInfo; onMissing?: (names: readonly string[]) => void }) {
    this.registry = options.registry;
    this.schemas = options.schemas;
    this.info = options.info;
    this.onMissing = options.onMissing ?? (() => {});
  }

  /** The documents of the registry as it is now (a new, empty set when it changed since last asked). */
  private generation(): Generation {
    const number = this.registry.generation;
    if (this.current === undefined || this.current.number !== number) {
      this.current = { number, kinds: this.registry.all, v3: new Map(), derived: new Map() };
    }
    return this.current;
  }

  /** The v2 document. */
  v2(): V2Document {
    const g = this.generation();
    if (g.v2 === undefined) {
      const { document, missing } = buildOpenApiV2(g.kinds, this.schemas, this.info);
      if (missing.length > 0) this.onMissing(missing);
      g.v2 = { document, ...encode(document) };
    }
    return g.v2;
  }

  /**
   * An encoding derived from the v2 document (e.g. its protobuf form), computed once per
   * generation by `encoder`. When `encoder` throws, the error is kept too and thrown again for
   * the rest of the generation: a document that cannot be encoded is not rebuilt on every request.
   */
  v2Derived(name: string, encoder: (document: Record<string, unknown>) => Buffer): { bytes: Buffer; hash: string } {
    const v2 = this.v2();
    const g = this.generation();
    let bytes = g.derived.get(name);
    if (bytes === undefined) {
      try {
        bytes = encoder(v2.document);
      } catch (err) {
        bytes = err instanceof Error ? err : new Error(String(err));
      }
      g.derived.set(name, bytes);
    }
    if (bytes instanceof Error) throw bytes;
    return { bytes, hash: v2.hash };
  }

  /** The v3 document of a group-version path (`api/v1`, `apis/apps/v1`), or undefined when none is served. */
  v3(path: string): EncodedDocument | undefined {
    const g = this.generation();
    const cached = g.v3.get(path);
    if (cached !== undefined) return cached;
    const gv = servedGroupVersions(g.kinds).find((v) => groupVersionPath(v) === path);
    if (gv === undefined) return undefined;
    const { document, missing } = buildOpenApiV3(g.kinds, gv, this.schemas, this.info);
    if (missing.length > 0) this.onMissing(missing);
    const encoded = encode(document);
    g.v3.set(path, encoded);
    return encoded;
  }

  /** The v3 index: every served group-version path with the URL of its document, hash included. */
  v3Index(): EncodedDocument {
    const g = this.generation();
    if (g.index === undefined) {
      const paths: Record<string, { serverRelativeURL: string }> = {};
      for (const gv of servedGroupVersions(g.kinds)) {
        const path = groupVersionPath(gv);
        const doc = this.v3(path);
        if (doc !== undefined) paths[path] = { serverRelativeURL: `/openapi/v3/${path}?hash=${doc.hash}` };
      }
      g.index = encode(sortedKeys({ paths }));
    }
    return g.index;
  }
}
