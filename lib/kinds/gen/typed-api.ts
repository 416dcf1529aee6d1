/**
 * The typed gRPC services of the built-in kinds, written into proto/apiserver/kinds/ by
 * `make gen-typed-api` (scripts/gen-typed-api.ts) from the registry's built-in kinds and the
 * generated kind data: one service per kind (`apiserver.kinds.apps.v1.Deployments`) with the
 * verbs of apiserver.v1.Resources, taking and returning the kind's Kubernetes protobuf message
 * (`k8s.io.api.apps.v1.Deployment`, `DeploymentList`) and a typed watch event, and one file per
 * group-version (`apiserver/kinds/apps_v1.proto`, package `apiserver.kinds.apps.v1`: the last two
 * elements of the upstream protobuf package, as Go names it).
 *
 * The gateway finds each kind's service with {@link typedApiOf}, the same function the files are
 * written with, so what is served is what the committed files declare.
 */
import path from 'node:path';
import { StatusError } from '../../errors.ts';
import { readGoFacts, schemaFileOf, type GoDefinitionFacts } from '../schemas.ts';
import { apiVersionOf, listDefinitionName, type KindDefinition } from '../types.ts';

/** The directory of proto/ the generator owns entirely. */
export const TYPED_API_DIR = 'apiserver/kinds';

/** The module of the TypeScript client package that lists the typed services (see clientKindsText). */
export const CLIENT_KINDS_MODULE = 'packages/client/src/kinds.ts';

/** The shared requests of every typed service. */
export const TYPED_REQUESTS_FILE = 'apiserver/v1/typed.proto';

/** One kind's typed service, as the generated files declare it. */
export interface TypedKindApi {
  /** The file under proto/ (`apiserver/kinds/apps_v1.proto`). */
  readonly file: string;
  /** `apiserver.kinds.apps.v1` */
  readonly package: string;
  /** `Deployments` */
  readonly service: string;
  /** `apiserver.kinds.apps.v1.Deployments` */
  readonly serviceName: string;
  /** The kind's message, fully qualified (`k8s.io.api.apps.v1.Deployment`). */
  readonly message: string;
  /** Its list's message (`k8s.io.api.apps.v1.DeploymentList`). */
  readonly listMessage: string;
  /** The typed watch event, fully qualified (`apiserver.kinds.apps.v1.DeploymentWatchEvent`). */
  readonly watchEvent: string;
  /** The proto/ files of the kind's messages (`k8s/generated/apps.v1.proto`). */
  readonly imports: readonly string[];
}

/** The methods of every typed service, in the order they are declared. */
export const TYPED_METHODS = ['Create', 'Get', 'List', 'Update', 'Patch', 'Delete', 'Watch', 'DeleteCollection'] as const;
export type TypedMethod = (typeof TYPED_METHODS)[number];

/** The shared request of each method that takes no object (typed.proto). */
export const SHARED_REQUESTS: Readonly<Partial<Record<TypedMethod, string>>> = {
  Get: 'apiserver.v1.TypedGetRequest',
  List: 'apiserver.v1.TypedListRequest',
  Patch: 'apiserver.v1.TypedPatchRequest',
  Delete: 'apiserver.v1.TypedDeleteRequest',
  Watch: 'apiserver.v1.TypedWatchRequest',
  DeleteCollection: 'apiserver.v1.TypedDeleteCollectionRequest',
};

/** The field numbers of every kind's Create<Kind>Request and Update<Kind>Request. */
export const WRITE_REQUEST_FIELDS = { namespace: 1, object: 2, dryRun: 3, fieldValidation: 4, fieldManager: 5 } as const;

/** The field numbers of every kind's <Kind>WatchEvent. */
export const WATCH_EVENT_FIELDS = { type: 1, object: 2, resourceVersion: 3, status: 4 } as const;

/** The message of Status, which a watch's ERROR event carries. */
export const STATUS_MESSAGE = 'k8s.io.apimachinery.pkg.apis.meta.v1.Status';
const STATUS_FILE = 'k8s/generated/meta.v1.proto';

/**
 * The service name of a kind: its plural in the kind's own capitals (`ConfigMaps`, `Endpoints`,
 * `Ingresses`, `NetworkPolicies`). Throws for a plural it cannot spell so (the generator says so).
 */
export function serviceNameOf(kind: Pick<KindDefinition, 'kind' | 'resource'>): string {
  const lower = kind.kind.toLowerCase();
  if (kind.resource.startsWith(lower)) return kind.kind + kind.resource.slice(lower.length);
  if (lower.endsWith('y') && kind.resource === `${lower.slice(0, -1)}ies`) return `${kind.kind.slice(0, -1)}ies`;
  throw new StatusError('InternalError', `no typed service name for ${kind.kind} (resource ${kind.resource})`);
}

/** The message of a definition, from the Go facts. */
function messageOf(facts: ReadonlyMap<string, GoDefinitionFacts>, definition: string): string | undefined {
  return facts.get(definition)?.protobufMessage;
}

/**
 * The typed service of a kind, or undefined for one without generated messages (a custom kind,
 * a definition outside the generated data).
 */
export function typedApiOf(kind: KindDefinition, facts: ReadonlyMap<string, GoDefinitionFacts>): TypedKindApi | undefined {
  const message = messageOf(facts, kind.schema);
  const listMessage = messageOf(facts, listDefinitionName(kind));
  const kindFile = schemaFileOf(kind.schema);
  if (message === undefined || listMessage === undefined || kindFile === undefined) return undefined;
  const upstream = message.split('.').slice(0, -1);
  const [group, version] = upstream.slice(-2) as [string, string];
  const pkg = `apiserver.kinds.${group}.${version}`;
  const service = serviceNameOf(kind);
  const listFile = schemaFileOf(listDefinitionName(kind))!;
  return {
    file: `${TYPED_API_DIR}/${group}_${version}.proto`,
    package: pkg,
    service,
    serviceName: `${pkg}.${service}`,
    message,
    listMessage,
    watchEvent: `${pkg}.${kind.kind}WatchEvent`,
    imports: [...new Set([`k8s/generated/${kindFile}.proto`, `k8s/generated/${listFile}.proto`])],
  };
}

const HEADER = '// Generated by scripts/gen-typed-api.ts from the built-in kinds (lib/kinds/builtin/). Do not edit.\n';

function scopeOf(kind: KindDefinition): string {
  return kind.namespaced ? 'namespaced' : 'cluster-scoped';
}

/** The service and messages of one kind. */
function kindText(kind: KindDefinition, api: TypedKindApi): string {
  const m = `.${api.message}`;
  const k = kind.kind;
  const w = WRITE_REQUEST_FIELDS;
  const e = WATCH_EVENT_FIELDS;
  const r = (method: TypedMethod): string => `.${SHARED_REQUESTS[method]!}`;
  const namespace = kind.namespaced
    ? '  // The object\'s namespace (its metadata.namespace may be left out, or must be the same).\n'
    : '  // "" for this cluster-scoped kind.\n';
  return `// ${api.service} serves ${apiVersionOf(kind)} ${kind.resource}
// (${k}, ${scopeOf(kind)}) with the kind's own message, through the same pipeline as
// apiserver.v1.Resources.
service ${api.service} {
  rpc Create(Create${k}Request) returns (${m});
  rpc Get(${r('Get')}) returns (${m});
  rpc List(${r('List')}) returns (.${api.listMessage});
  // Replaces the object named by object.metadata.name; conditional on its resourceVersion when set.
  rpc Update(Update${k}Request) returns (${m});
  rpc Patch(${r('Patch')}) returns (${m});
  // Deletes an object; one that stays (held by finalizers, or deleted gracefully) is returned marked for deletion instead.
  rpc Delete(${r('Delete')}) returns (${m});
  rpc Watch(${r('Watch')}) returns (stream ${k}WatchEvent);
  // Deletes the objects the list options select, each as Delete does; answers those listed.
  rpc DeleteCollection(${r('DeleteCollection')}) returns (.${api.listMessage});
}

message Create${k}Request {
${namespace}  string namespace = ${w.namespace};
  ${m} object = ${w.object};
  bool dry_run = ${w.dryRun};
  // "Strict", "Warn" or "Ignore" as REST's fieldValidation; "" is Warn.
  string field_validation = ${w.fieldValidation};
  // Who writes, for metadata.managedFields, as REST's fieldManager ("": the user-agent's prefix).
  string field_manager = ${w.fieldManager};
}

message Update${k}Request {
${namespace}  string namespace = ${w.namespace};
  ${m} object = ${w.object};
  bool dry_run = ${w.dryRun};
  string field_validation = ${w.fieldValidation};
  string field_manager = ${w.fieldManager};
}

// One change of a ${k}, as apiserver.v1.WatchEvent with the object typed.
message ${k}WatchEvent {
  // ADDED, MODIFIED, DELETED, BOOKMARK or ERROR.
  string type = ${e.type};
  // The new state (the last state for DELETED; for BOOKMARK only metadata.resourceVersion).
  ${m} object = ${e.object};
  // The revision of the change.
  string resource_version = ${e.resourceVersion};
  // ERROR: why the watch ended (410 Expired: list again).
  .${STATUS_MESSAGE} status = ${e.status};
}
`;
}

/** The file of one group-version's kinds. */
function fileText(pkg: string, kinds: readonly { kind: KindDefinition; api: TypedKindApi }[]): string {
  const imports = new Set<string>([TYPED_REQUESTS_FILE, STATUS_FILE]);
  for (const { api } of kinds) for (const i of api.imports) imports.add(i);
  const apiVersions = [...new Set(kinds.map(({ kind }) => apiVersionOf(kind)))].join(', ');
  const lines = [
    HEADER,
    'syntax = "proto3";',
    '',
    `// The typed services of the built-in kinds of ${apiVersions}: ${kinds.map(({ kind }) => kind.kind).join(', ')}.`,
    `package ${pkg};`,
    '',
    ...[...imports].sort().map((i) => `import "${i}";`),
    '',
  ];
  return `${lines.join('\n')}\n${kinds.map(({ kind, api }) => kindText(kind, api)).join('\n')}`;
}

/**
 * The client package's list of the typed services: the proto/ files to load, and the type of the
 * `apiserver.kinds` package they make, from the types `make gen` generates from the same files.
 */
function clientKindsText(protoFiles: readonly string[]): string {
  const alias = (file: string) => path.basename(file, '.proto');
  const lines = [
    HEADER,
    '/** The typed services of the built-in kinds: the proto/ files declaring them, and their types. */',
    ...protoFiles.map((f) => `import type { ProtoGrpcType as ${alias(f)} } from './gen/${alias(f)}.ts';`),
    '',
    '/** The files under proto/ that declare the typed services. */',
    `export const KIND_FILES: readonly string[] = [${protoFiles.map((f) => `'${f}'`).join(', ')}];`,
    '',
    '/** The `apiserver.kinds` package of those files: a package per group-version, a service per kind. */',
    `export type KindsPackage = (${protoFiles.map(alias).join(' & ') || 'Record<string, never>'})['apiserver']['kinds'];`,
    '',
  ];
  return lines.join('\n');
}

/**
 * The files of the typed services of `kinds` (the built-in kinds, in registry order), by path
 * from the repository's root (the .proto files under proto/, and the client package's list of
 * them), and what was left out and why. Throws when two group-versions would share a package,
 * or a kind's service name cannot be spelt.
 */
export function generateTypedApi(
  kinds: readonly KindDefinition[],
  facts: ReadonlyMap<string, GoDefinitionFacts> = readGoFacts(),
): { files: Map<string, string>; warnings: string[] } {
  const warnings: string[] = [];
  const byPackage = new Map<string, { kind: KindDefinition; api: TypedKindApi }[]>();
  const groupVersionOf = new Map<string, string>();
  for (const kind of kinds) {
    // A review kind is only created, through the Resources API (it has no list, get or watch).
    if (kind.review === true) continue;
    const api = typedApiOf(kind, facts);
    if (api === undefined) {
      warnings.push(`${apiVersionOf(kind)} ${kind.kind}: no generated protobuf message for ${kind.schema} or its list; no typed service`);
      continue;
    }
    const gv = apiVersionOf(kind);
    const other = groupVersionOf.get(api.package);
    if (other !== undefined && other !== gv) throw new StatusError('InternalError', `${gv} and ${other} would share the package ${api.package}`);
    groupVersionOf.set(api.package, gv);
    const list = byPackage.get(api.package) ?? [];
    if (list.some((e) => e.api.service === api.service)) throw new StatusError('InternalError', `two kinds named ${api.serviceName}`);
    list.push({ kind, api });
    byPackage.set(api.package, list);
  }
  const files = new Map<string, string>();
  for (const [pkg, list] of [...byPackage].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    files.set(`proto/${list[0]!.api.file}`, fileText(pkg, list));
  }
  const protoFiles = [...files.keys()].map((f) => f.slice('proto/'.length));
  files.set(CLIENT_KINDS_MODULE, clientKindsText(protoFiles));
  return { files, warnings };
}
