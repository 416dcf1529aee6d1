/**
 * The kind generator's core (run by scripts/gen-kinds.ts): from the Go API packages of
 * kubernetes/api, kubernetes/apimachinery and kubernetes/apiextensions-apiserver (the
 * CustomResourceDefinition types), the committed kind data (see docs/decisions.md):
 * - `lib/kinds/generated/schemas/<file>.json`: OpenAPI v2 definitions, as kube's /openapi/v2
 *   names and shapes them (descriptions left out);
 * - `lib/kinds/generated/go.json`: the Go facts of each definition's fields (type, omitempty,
 *   omitzero where set, pointer, inline, protobuf number) and its protobuf message;
 * - `proto/k8s/generated/<file>.proto`: the go-to-protobuf messages, written from the Go facts.
 *
 * Everything is taken from the Go source (types, json/protobuf/patch struct tags, `+` markers);
 * upstream's generated.proto only cross-checks the protobuf facts and completes the messages of
 * types whose protobuf form is hand-written upstream (Time, MicroTime, Quantity). Pure: the
 * sources come through {@link Source}, so a test can run it on files of its own.
 */
import { StatusError } from '../../errors.ts';
import { formatGoType, parseGoFile, parseStructTag, type GoConst, type GoField, type GoType, type GoTypeDecl } from './go-parse.ts';
import { parseProtoFile, type ProtoField, type ProtoFile } from './proto-parse.ts';

/** Where the generator reads files: a repository ({@link Repo}) and a path in it. */
export interface Source {
  list(repo: Repo): string[];
  read(repo: Repo, path: string): string;
}

export type Repo = 'api' | 'apimachinery' | 'apiextensions';

export interface PackageSpec {
  readonly repo: Repo;
  /** The directory in the repository. */
  readonly dir: string;
  /** The Go import path. */
  readonly importPath: string;
  /** The output file's stem (`core.v1`, `meta.v1`, `runtime`). */
  readonly file: string;
  /** The group-version of the package's kinds; absent for packages without kinds. */
  readonly groupVersion?: { readonly group: string; readonly version: string };
  /** The .go files to read (default: every non-generated, non-test .go file of the directory). */
  readonly goFiles?: readonly string[];
  /** The types that become definitions (default: every exported struct type). */
  readonly types?: readonly string[];
}

const IMPORT_PREFIX: Record<Repo, string> = { api: 'k8s.io/api/', apimachinery: 'k8s.io/apimachinery/', apiextensions: 'k8s.io/apiextensions-apiserver/' };

/** The packages of kubernetes/apiextensions-apiserver read: the CustomResourceDefinition API. */
const APIEXTENSIONS_DIRS: readonly string[] = ['pkg/apis/apiextensions/v1'];

/** The apimachinery packages the API types use, with the files and types taken from them. */
const APIMACHINERY: readonly PackageSpec[] = [
  {
    repo: 'apimachinery',
    dir: 'pkg/apis/meta/v1',
    importPath: 'k8s.io/apimachinery/pkg/apis/meta/v1',
    file: 'meta.v1',
    groupVersion: { group: '', version: 'v1' },
    goFiles: ['types.go', 'time.go', 'micro_time.go', 'duration.go', 'group_version.go', 'watch.go', 'fieldsv1_byte.go'],
  },
  { repo: 'apimachinery', dir: 'pkg/runtime', importPath: 'k8s.io/apimachinery/pkg/runtime', file: 'runtime', goFiles: ['types.go'], types: ['RawExtension', 'TypeMeta', 'Unknown'] },
  { repo: 'apimachinery', dir: 'pkg/api/resource', importPath: 'k8s.io/apimachinery/pkg/api/resource', file: 'resource', goFiles: ['quantity.go'], types: ['Quantity'] },
  { repo: 'apimachinery', dir: 'pkg/util/intstr', importPath: 'k8s.io/apimachinery/pkg/util/intstr', file: 'intstr', goFiles: ['intstr.go'], types: ['IntOrString'] },
];

/** Named types of packages not read, by import path and name: their underlying Go type. */
const EXTERNAL: ReadonlyMap<string, string> = new Map([
  ['k8s.io/apimachinery/pkg/types.UID', 'string'],
  ['k8s.io/apimachinery/pkg/types.NodeName', 'string'],
  ['time.Duration', 'int64'],
]);

/** Definitions whose JSON is not their Go struct's (custom marshallers), as kube publishes them. */
const SPECIAL_SCHEMAS: ReadonlyMap<string, Schema> = new Map<string, Schema>([
  ['io.k8s.apimachinery.pkg.apis.meta.v1.Time', { type: 'string', format: 'date-time' }],
  ['io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime', { type: 'string', format: 'date-time' }],
  ['io.k8s.apimachinery.pkg.apis.meta.v1.Duration', { type: 'string' }],
  ['io.k8s.apimachinery.pkg.apis.meta.v1.FieldsV1', { type: 'object' }],
  ['io.k8s.apimachinery.pkg.api.resource.Quantity', { type: 'string' }],
  ['io.k8s.apimachinery.pkg.util.intstr.IntOrString', { type: 'string', format: 'int-or-string' }],
  ['io.k8s.apimachinery.pkg.runtime.RawExtension', { type: 'object' }],
  // Any JSON value, or one of two shapes: their OpenAPISchemaType() is nil, so kube publishes
  // them without a type (and only a description, left out here).
  ['io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSON', {}],
  ['io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrArray', {}],
  ['io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrBool', {}],
  ['io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrStringArray', {}],
]);

/**
 * meta/v1 types every group-version registers (metav1.AddToGroupVersion): kube lists each
 * group-version in their x-kubernetes-group-version-kind.
 */
const REGISTERED_IN_EVERY_GROUP: ReadonlySet<string> = new Set(['DeleteOptions', 'WatchEvent']);

const RUNTIME_OBJECT_MARKER = '+k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object';

export type Schema = { [key: string]: unknown };

/** One field's Go facts (go.json). */
export interface GoFieldFacts {
  go: string;
  omitempty: boolean;
  /** `json:",omitzero"`: left out when it is its type's zero value (written only when set). */
  omitzero?: true;
  pointer: boolean;
  inline: boolean;
  protobuf?: number;
  /** For an inline field carried as a message: the protobuf field's name. */
  protobufName?: string;
}

/** One definition's Go facts (go.json). */
export interface GoDefinitionFacts {
  protobufMessage?: string;
  /** For a named non-struct type carried as a message (metav1.Verbs): its Go type. */
  go?: string;
  /** JSON name (Go name for inline fields) -> facts, in Go struct order. */
  fields?: Record<string, GoFieldFacts>;
}

export interface Generated {
  /** Output path (relative to the repository root) -> content. */
  readonly files: Map<string, string>;
  /** Differences from upstream's generated.proto and other things worth a look. */
  readonly warnings: string[];
}

// ---- loading packages ----

interface TypeEntry {
  readonly decl: GoTypeDecl;
  readonly pkg: Pkg;
  /** alias -> import path, of the file declaring it */
  readonly imports: ReadonlyMap<string, string>;
}

interface Pkg {
  readonly spec: PackageSpec;
  readonly types: Map<string, TypeEntry>;
  readonly consts: GoConst[];
  readonly upstreamProto?: ProtoFile;
  /** `k8s.io.api.core.v1` */
  readonly protoPackage: string;
  /** `io.k8s.api.core.v1` */
  readonly defPrefix: string;
}

function fail(message: string): StatusError {
  return new StatusError('InternalError', message);
}

/** `k8s.io/api/core/v1` -> `io.k8s.api.core.v1`, kube's OpenAPI definition prefix. */
export function definitionPrefix(importPath: string): string {
  const [domain, ...rest] = importPath.split('/');
  return [...domain!.split('.').reverse(), ...rest].join('.');
}

/** The API group of a package: its doc.go `+groupName` marker, or register.go's GroupName. */
function groupOf(source: Source, repo: Repo, dir: string): string {
  const doc = parseGoFile(source.read(repo, `${dir}/doc.go`), `${dir}/doc.go`);
  const marker = doc.packageMarkers.find((m) => m.startsWith('+groupName='))?.slice('+groupName='.length);
  if (marker !== undefined) return marker;
  const registered = parseGoFile(source.read(repo, `${dir}/register.go`), `${dir}/register.go`).consts.find((c) => c.name === 'GroupName')?.value;
  if (registered === undefined) throw fail(`${dir}: neither a +groupName marker nor a GroupName constant`);
  return registered;
}

/** The stable (not alpha, not beta) group-versions of kubernetes/api, from their doc.go. */
export function apiPackages(source: Source): PackageSpec[] {
  const dirs = new Set<string>();
  for (const path of source.list('api')) {
    const m = /^([a-z0-9]+)\/(v[0-9]+)\/generated\.proto$/.exec(path);
    if (m !== null) dirs.add(`${m[1]}/${m[2]}`);
  }
  return [...dirs].sort().map((dir) => {
    const [groupDir, version] = dir.split('/') as [string, string];
    return {
      repo: 'api',
      dir,
      importPath: IMPORT_PREFIX.api + dir,
      file: `${groupDir}.${version}`,
      groupVersion: { group: groupOf(source, 'api', dir), version },
    };
  });
}

/**
 * The packages of kubernetes/apiextensions-apiserver read (`pkg/apis/apiextensions/v1`): files
 * named `<group dir>.<version>` (`apiextensions.v1`) like kubernetes/api's.
 */
export function apiextensionsPackages(source: Source): PackageSpec[] {
  return APIEXTENSIONS_DIRS.map((dir) => {
    const [groupDir, version] = dir.split('/').slice(-2) as [string, string];
    return {
      repo: 'apiextensions',
      dir,
      importPath: IMPORT_PREFIX.apiextensions + dir,
      file: `${groupDir}.${version}`,
      groupVersion: { group: groupOf(source, 'apiextensions', dir), version },
    };
  });
}

function loadPackage(source: Source, spec: PackageSpec, all: string[]): Pkg {
  const goFiles =
    spec.goFiles?.map((f) => `${spec.dir}/${f}`) ??
    all.filter((p) => p.startsWith(`${spec.dir}/`) && /^[a-z0-9_]+\.go$/.test(p.slice(spec.dir.length + 1)) && !/(_test|generated|zz_|fuzz)/.test(p));
  // go-to-protobuf's package name: `/` -> `.`, and `-` (not allowed in proto names) -> `_`
  const protoPackage = spec.importPath.replaceAll('/', '.').replaceAll('-', '_');
  const protoPath = `${spec.dir}/generated.proto`;
  const upstreamProto = all.includes(protoPath) ? parseProtoFile(source.read(spec.repo, protoPath)) : undefined;
  const pkg: Pkg = { spec, types: new Map(), consts: [], protoPackage, defPrefix: definitionPrefix(spec.importPath), ...(upstreamProto && { upstreamProto }) };
  for (const path of goFiles.sort()) {
    const file = parseGoFile(source.read(spec.repo, path), path);
    for (const decl of file.types) pkg.types.set(decl.name, { decl, pkg, imports: file.imports });
    pkg.consts.push(...file.consts);
  }
  return pkg;
}

// ---- the generator ----

const BUILTIN_SCHEMAS: ReadonlyMap<string, Schema> = new Map<string, Schema>([
  ['string', { type: 'string' }],
  ['bool', { type: 'boolean' }],
  ['int', { type: 'integer', format: 'int32' }],
  ['int8', { type: 'integer', format: 'int32' }],
  ['int16', { type: 'integer', format: 'int32' }],
  ['int32', { type: 'integer', format: 'int32' }],
  ['int64', { type: 'integer', format: 'int64' }],
  ['uint', { type: 'integer', format: 'int32' }],
  ['uint8', { type: 'integer', format: 'byte' }],
  ['uint16', { type: 'integer', format: 'int32' }],
  ['uint32', { type: 'integer', format: 'int64' }],
  ['uint64', { type: 'integer', format: 'int64' }],
  ['byte', { type: 'integer', format: 'byte' }],
  ['float32', { type: 'number', format: 'float' }],
  ['float64', { type: 'number', format: 'double' }],
]);

const BUILTIN_PROTO: ReadonlyMap<string, string> = new Map([
  ['string', 'string'],
  ['bool', 'bool'],
  ['int', 'int64'],
  ['int32', 'int32'],
  ['int64', 'int64'],
  ['uint32', 'uint32'],
  ['uint64', 'uint64'],
  ['float32', 'float'],
  ['float64', 'double'],
]);

/** A named type resolved: a builtin, or a declaration in a package read. */
type Resolved = { builtin: string } | { entry: TypeEntry };

interface JsonTag {
  name: string;
  omitempty: boolean;
  omitzero: boolean;
  inline: boolean;
  skip: boolean;
}

function jsonTag(field: GoField): JsonTag {
  const tag = parseStructTag(field.tag).get('json');
  if (tag === '-') return { name: '', omitempty: false, omitzero: false, inline: false, skip: true };
  const [name = '', ...opts] = (tag ?? '').split(',');
  const inline = opts.includes('inline') || (field.embedded && name === '');
  return { name: name === '' ? field.name : name, omitempty: opts.includes('omitempty'), omitzero: opts.includes('omitzero'), inline, skip: false };
}

interface ProtobufTag {
  number: number;
  name: string;
}

function protobufTag(field: GoField): ProtobufTag | undefined {
  const tag = parseStructTag(field.tag).get('protobuf');
  if (tag === undefined || tag === '-') return undefined;
  const parts = tag.split(',');
  // go-to-protobuf names a field without `name=` after the Go field, lowerCamel
  const name = parts.find((p) => p.startsWith('name='))?.slice(5) ?? field.name[0]!.toLowerCase() + field.name.slice(1);
  const number = Number(parts[1]);
  if (!Number.isInteger(number)) return undefined;
  return { number, name };
}

function markerValues(markers: readonly string[], key: string): string[] {
  return markers.filter((m) => m.startsWith(`${key}=`)).map((m) => m.slice(key.length + 1));
}

/** Sorts object keys recursively (arrays keep their order): the files' deterministic form. */
function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) out[key] = sortKeys((value as Record<string, unknown>)[key]);
  return out;
}

class Generator {
  readonly pkgs: Map<string, Pkg>;
  readonly warnings: string[] = [];
  /** Definition name -> schema */
  readonly schemas = new Map<string, Schema>();
  readonly goFacts = new Map<string, GoDefinitionFacts>();
  /** proto package -> message name -> lines */
  readonly protos = new Map<string, Map<string, string[]>>();
  /** proto package -> imported proto packages */
  readonly protoImports = new Map<string, Set<string>>();
  readonly allGroupVersions: { group: string; version: string }[];

  constructor(pkgs: Pkg[]) {
    this.pkgs = new Map(pkgs.map((p) => [p.spec.importPath, p]));
    this.allGroupVersions = pkgs.filter((p) => p.spec.repo !== 'apimachinery' && p.spec.groupVersion).map((p) => p.spec.groupVersion!);
  }

  resolve(from: TypeEntry | Pkg, t: { pkg?: string; name: string }): Resolved {
    const pkg = 'decl' in from ? from.pkg : from;
    if (t.pkg === undefined) {
      const local = pkg.types.get(t.name);
      if (local !== undefined) return { entry: local };
      if (BUILTIN_SCHEMAS.has(t.name) || t.name === 'string' || t.name === 'bool') return { builtin: t.name };
      throw fail(`${pkg.spec.importPath}: unknown type ${t.name}`);
    }
    const imports = 'decl' in from ? from.imports : new Map<string, string>();
    const path = imports.get(t.pkg);
    if (path === undefined) throw fail(`${pkg.spec.importPath}: unknown package ${t.pkg}`);
    const target = this.pkgs.get(path);
    const entry = target?.types.get(t.name);
    if (entry !== undefined) return { entry };
    const external = EXTERNAL.get(`${path}.${t.name}`);
    if (external !== undefined) return { builtin: external };
    throw fail(`${pkg.spec.importPath}: unknown type ${path}.${t.name}`);
  }

  defName(entry: TypeEntry): string {
    return `${entry.pkg.defPrefix}.${entry.decl.name}`;
  }

  isDefinition(entry: TypeEntry): boolean {
    const { spec } = entry.pkg;
    if (spec.types !== undefined) return spec.types.includes(entry.decl.name);
    return this.structOf(entry) !== undefined && !entry.decl.alias && /^[A-Z]/.test(entry.decl.name);
  }

  /**
   * The struct a type declares: its own, or that of the struct type it is defined as
   * (`type List metav1.List`), with the declaration its field types resolve in.
   */
  structOf(entry: TypeEntry): { fields: readonly GoField[]; scope: TypeEntry } | undefined {
    const t = entry.decl.type;
    if (t.kind === 'struct') return { fields: t.fields, scope: entry };
    if (t.kind !== 'named') return undefined;
    let r: Resolved;
    try {
      r = this.resolve(entry, t);
    } catch {
      // defined as a type of a package not read (metav1.InternalEvent): not a definition
      return undefined;
    }
    return 'entry' in r ? this.structOf(r.entry) : undefined;
  }

  /** A named non-struct type upstream carries as a message (metav1.Verbs, ExtraValue). */
  isWrapperMessage(entry: TypeEntry): boolean {
    return !this.isDefinition(entry) && entry.decl.type.kind !== 'struct' && entry.pkg.upstreamProto?.messages.has(entry.decl.name) === true;
  }

  // ---- schemas ----

  typeSchema(from: TypeEntry, t: GoType): Schema {
    switch (t.kind) {
      case 'pointer':
        return this.typeSchema(from, t.elem);
      case 'slice':
        if (t.elem.kind === 'named' && t.elem.pkg === undefined && t.elem.name === 'byte') return { type: 'string', format: 'byte' };
        return { type: 'array', items: this.typeSchema(from, t.elem) };
      case 'array':
        return { type: 'array', items: this.typeSchema(from, t.elem) };
      case 'map':
        return { type: 'object', additionalProperties: this.typeSchema(from, t.value) };
      case 'interface':
      case 'struct':
        return { type: 'object' };
      case 'func':
        throw fail(`${this.defName(from)}: a func-typed field`);
      case 'named': {
        const r = this.resolve(from, t);
        if ('builtin' in r) return { ...BUILTIN_SCHEMAS.get(r.builtin)! };
        if (this.isDefinition(r.entry) || this.structOf(r.entry) !== undefined) return { $ref: `#/definitions/${this.defName(r.entry)}` };
        const schema = this.typeSchema(r.entry, r.entry.decl.type);
        if (r.entry.decl.markers.includes('+enum')) {
          const values = r.entry.pkg.consts.filter((c) => c.type === r.entry.decl.name && c.value !== undefined).map((c) => c.value!);
          if (values.length > 0) schema.enum = [...new Set(values)].sort();
        }
        return schema;
      }
    }
  }

  /** The properties and required fields of a struct, inline embedded structs flattened. */
  structSchema(entry: TypeEntry, fields: readonly GoField[], props: Record<string, Schema>, required: string[]): void {
    for (const field of fields) {
      const json = jsonTag(field);
      if (json.skip || !/^[A-Z]/.test(field.name)) continue;
      if (json.inline) {
        const base = field.type.kind === 'pointer' ? field.type.elem : field.type;
        if (base.kind !== 'named') throw fail(`${this.defName(entry)}.${field.name}: inline of a non-named type`);
        const r = this.resolve(entry, base);
        const inner = 'entry' in r ? this.structOf(r.entry) : undefined;
        if (inner === undefined) throw fail(`${this.defName(entry)}.${field.name}: inline of a non-struct`);
        this.structSchema(inner.scope, inner.fields, props, required);
        continue;
      }
      const schema = this.typeSchema(entry, field.type);
      const tags = parseStructTag(field.tag);
      const strategy = tags.get('patchStrategy');
      const mergeKey = tags.get('patchMergeKey');
      if (strategy) schema['x-kubernetes-patch-strategy'] = strategy;
      if (mergeKey) schema['x-kubernetes-patch-merge-key'] = mergeKey;
      const listType = markerValues(field.markers, '+listType')[0];
      const listMapKeys = markerValues(field.markers, '+listMapKey');
      const mapType = markerValues(field.markers, '+mapType')[0];
      if (listType !== undefined) schema['x-kubernetes-list-type'] = listType;
      if (listMapKeys.length > 0) schema['x-kubernetes-list-map-keys'] = listMapKeys;
      if (mapType !== undefined) schema['x-kubernetes-map-type'] = mapType;
      props[json.name] = schema;
      const optional = field.markers.some((m) => m === '+optional' || m === '+k8s:optional') || json.omitempty;
      const forced = field.markers.some((m) => m === '+required' || m === '+k8s:required');
      if (forced || !optional) required.push(json.name);
    }
  }

  groupVersionKinds(entry: TypeEntry): { group: string; kind: string; version: string }[] | undefined {
    const gv = entry.pkg.spec.groupVersion;
    const struct = this.structOf(entry);
    if (gv === undefined || struct === undefined) return undefined;
    const isObject =
      entry.decl.markers.includes(RUNTIME_OBJECT_MARKER) ||
      struct.fields.some((f) => f.embedded && f.type.kind === 'named' && f.type.name === 'TypeMeta');
    if (!isObject) return undefined;
    const kind = entry.decl.name;
    const gvks = [{ group: gv.group, kind, version: gv.version }];
    if (entry.pkg.spec.repo === 'apimachinery' && REGISTERED_IN_EVERY_GROUP.has(kind)) {
      for (const other of this.allGroupVersions) if (other.group !== '') gvks.push({ group: other.group, kind, version: other.version });
    }
    return gvks;
  }

  definitionSchema(entry: TypeEntry): Schema {
    const name = this.defName(entry);
    const special = SPECIAL_SCHEMAS.get(name);
    if (special !== undefined) return { ...special };
    const struct = this.structOf(entry);
    if (struct === undefined) return this.typeSchema(entry, entry.decl.type);
    const props: Record<string, Schema> = {};
    const required: string[] = [];
    this.structSchema(struct.scope, struct.fields, props, required);
    const schema: Schema = { type: 'object' };
    if (Object.keys(props).length > 0) schema.properties = props;
    if (required.length > 0) schema.required = required;
    const gvks = this.groupVersionKinds(entry);
    if (gvks !== undefined) schema['x-kubernetes-group-version-kind'] = gvks;
    const structType = markerValues(entry.decl.markers, '+structType')[0];
    if (structType !== undefined) schema['x-kubernetes-map-type'] = structType;
    return schema;
  }

  // ---- protobuf ----

  /** The proto element type of a Go type, or a map/repeated shape. */
  protoType(from: TypeEntry, t: GoType, where: string, home: Pkg = from.pkg): { label: 'optional' | 'repeated' | 'map'; type: string } {
    switch (t.kind) {
      case 'pointer':
        return this.protoType(from, t.elem, where, home);
      case 'slice': {
        if (t.elem.kind === 'named' && t.elem.pkg === undefined && t.elem.name === 'byte') return { label: 'optional', type: 'bytes' };
        const elem = this.protoType(from, t.elem, where, home);
        if (elem.label !== 'optional') throw fail(`${where}: a list of lists or maps needs a message`);
        return { label: 'repeated', type: elem.type };
      }
      case 'map': {
        const value = this.protoType(from, t.value, where, home);
        if (value.label !== 'optional') throw fail(`${where}: a map of lists or maps needs a message`);
        return { label: 'map', type: value.type };
      }
      case 'named': {
        const r = this.resolve(from, t);
        if ('builtin' in r) {
          const type = BUILTIN_PROTO.get(r.builtin);
          if (type === undefined) throw fail(`${where}: no protobuf type for ${r.builtin}`);
          return { label: 'optional', type };
        }
        if (this.isDefinition(r.entry) || this.isWrapperMessage(r.entry)) return { label: 'optional', type: this.messageRef(home, r.entry) };
        return this.protoType(r.entry, r.entry.decl.type, where, home);
      }
      default:
        throw fail(`${where}: no protobuf type for ${formatGoType(t)}`);
    }
  }

  messageRef(from: Pkg, entry: TypeEntry): string {
    if (entry.pkg === from) return entry.decl.name;
    let imports = this.protoImports.get(from.protoPackage);
    if (imports === undefined) this.protoImports.set(from.protoPackage, (imports = new Set()));
    imports.add(entry.pkg.protoPackage);
    return `.${entry.pkg.protoPackage}.${entry.decl.name}`;
  }

  /** Normalises a type name of upstream's generated.proto to the form written here. */
  upstreamType(pkg: Pkg, type: string): string {
    return type.startsWith(`.${pkg.protoPackage}.`) ? type.slice(pkg.protoPackage.length + 2) : type;
  }

  addMessage(entry: TypeEntry, fields: { label: string; type: string; name: string; number: number }[]): void {
    const { pkg } = entry;
    const name = entry.decl.name;
    const upstream = pkg.upstreamProto?.messages.get(name);
    let own = fields;
    if (own.length === 0 && upstream !== undefined && upstream.length > 0) {
      // hand-written protobuf form upstream (Time, MicroTime, Quantity): complete from generated.proto
      own = upstream.map((f) => ({ ...f, type: this.upstreamType(pkg, f.type) }));
    } else if (upstream !== undefined) {
      const fmt = (f: { label: string; type: string; name: string; number: number }): string => `${f.label} ${f.type} ${f.name} = ${f.number}`;
      const a = own.map(fmt).sort().join('; ');
      const b = upstream.map((f: ProtoField) => fmt({ ...f, type: this.upstreamType(pkg, f.type) })).sort().join('; ');
      if (a !== b) this.warnings.push(`${pkg.protoPackage}.${name}: differs from upstream generated.proto:\n  ours:     ${a}\n  upstream: ${b}`);
    } else if (own.length > 0) {
      this.warnings.push(`${pkg.protoPackage}.${name}: not in upstream generated.proto`);
    }
    if (own.length === 0 && upstream === undefined) return;
    let messages = this.protos.get(pkg.protoPackage);
    if (messages === undefined) this.protos.set(pkg.protoPackage, (messages = new Map()));
    messages.set(
      name,
      own.map((f) => (f.label === 'map' ? `  map<string, ${f.type}> ${f.name} = ${f.number};` : `  ${f.label} ${f.type} ${f.name} = ${f.number};`)),
    );
  }

  // ---- one definition ----

  definition(entry: TypeEntry): void {
    const name = this.defName(entry);
    if (!this.isWrapperMessage(entry)) this.schemas.set(name, sortKeys(this.definitionSchema(entry)) as Schema);
    const facts: GoDefinitionFacts = {};
    const protoFields: { label: string; type: string; name: string; number: number }[] = [];
    const decl = entry.decl.type;
    const struct = this.structOf(entry);
    if (struct !== undefined) {
      const fields: Record<string, GoFieldFacts> = {};
      for (const field of struct.fields) {
        if (!/^[A-Z]/.test(field.name)) continue;
        const json = jsonTag(field);
        const pb = protobufTag(field);
        const where = `${name}.${field.name}`;
        if (pb !== undefined) {
          const p = this.protoType(struct.scope, field.type, where, entry.pkg);
          protoFields.push({ ...p, name: pb.name, number: pb.number });
        }
        if (json.skip) continue;
        const key = json.inline ? field.name : json.name;
        const f: GoFieldFacts = { go: formatGoType(field.type), omitempty: json.omitempty, ...(json.omitzero && { omitzero: true as const }), pointer: field.type.kind === 'pointer', inline: json.inline };
        if (pb !== undefined) {
          f.protobuf = pb.number;
          if (pb.name !== key) f.protobufName = pb.name;
        }
        fields[key] = f;
      }
      facts.fields = fields;
    } else {
      facts.go = formatGoType(decl);
      const p = this.protoType(entry, decl, name);
      if (p.label !== 'repeated') throw fail(`${name}: only named lists become messages`);
      protoFields.push({ label: 'repeated', type: p.type, name: 'items', number: 1 });
    }
    this.addMessage(entry, protoFields);
    if (this.protos.get(entry.pkg.protoPackage)?.has(entry.decl.name)) facts.protobufMessage = `${entry.pkg.protoPackage}.${entry.decl.name}`;
    this.goFacts.set(name, facts);
  }

  run(): Generated {
    const files = new Map<string, string>();
    const byFile = new Map<string, Map<string, Schema>>();
    for (const pkg of this.pkgs.values()) {
      const before = new Set(this.schemas.keys());
      for (const entry of [...pkg.types.values()].sort((a, b) => (a.decl.name < b.decl.name ? -1 : 1))) {
        if (this.isDefinition(entry) || this.isWrapperMessage(entry)) this.definition(entry);
      }
      const defs = new Map<string, Schema>();
      for (const [name, schema] of this.schemas) if (!before.has(name)) defs.set(name, schema);
      byFile.set(pkg.spec.file, defs);
    }
    for (const pkg of this.pkgs.values()) {
      const ours = this.protos.get(pkg.protoPackage);
      for (const name of pkg.upstreamProto?.messages.keys() ?? []) {
        if (ours?.has(name) !== true && (pkg.spec.types === undefined || pkg.spec.types.includes(name))) this.warnings.push(`${pkg.protoPackage}.${name}: upstream has a message not generated here`);
      }
    }
    for (const [file, defs] of byFile) {
      files.set(`lib/kinds/generated/schemas/${file}.json`, definitionsJson(defs));
    }
    const go = [...this.goFacts.keys()].sort().map((name) => `${JSON.stringify(name)}:${JSON.stringify(this.goFacts.get(name))}`);
    files.set('lib/kinds/generated/go.json', `{\n${go.join(',\n')}\n}\n`);
    for (const pkg of this.pkgs.values()) {
      const messages = this.protos.get(pkg.protoPackage);
      if (messages === undefined) continue;
      files.set(`proto/k8s/generated/${pkg.spec.file}.proto`, this.protoFile(pkg, messages));
    }
    return { files, warnings: this.warnings };
  }

  protoFile(pkg: Pkg, messages: Map<string, string[]>): string {
    const fileOf = new Map([...this.pkgs.values()].map((p) => [p.protoPackage, p.spec.file]));
    const imports = [...(this.protoImports.get(pkg.protoPackage) ?? [])].map((p) => `import "k8s/generated/${fileOf.get(p)}.proto";`).sort();
    const lines = [
      `// Generated by scripts/gen-kinds.ts from the Go types of ${pkg.spec.importPath} (see lib/kinds/gen/generate.ts). Do not edit.`,
      '',
      'syntax = "proto2";',
      '',
      `package ${pkg.protoPackage};`,
      '',
    ];
    if (imports.length > 0) lines.push(...imports, '');
    for (const name of [...messages.keys()].sort()) {
      lines.push(`message ${name} {`, ...messages.get(name)!, '}', '');
    }
    return lines.join('\n');
  }
}

/** `{"definitions": {...}}` with one definition per line, keys sorted. */
function definitionsJson(defs: Map<string, Schema>): string {
  const lines = [...defs.keys()].sort().map((name) => `${JSON.stringify(name)}:${JSON.stringify(defs.get(name))}`);
  return `{"definitions":{\n${lines.join(',\n')}\n}}\n`;
}

/** Generates the kind data from the sources: see the module comment. */
export function generate(source: Source, packages?: PackageSpec[]): Generated {
  const specs = packages ?? [...APIMACHINERY, ...apiPackages(source), ...apiextensionsPackages(source)];
  const listing = new Map<Repo, string[]>();
  const list = (repo: Repo): string[] => {
    let l = listing.get(repo);
    if (l === undefined) listing.set(repo, (l = source.list(repo)));
    return l;
  };
  const pkgs = specs.map((spec) => loadPackage(source, spec, list(spec.repo)));
  return new Generator(pkgs).run();
}
