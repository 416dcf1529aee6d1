/**
 * The generated kind data (lib/kinds/generated/, written by `make gen-kinds`; see
 * lib/kinds/gen/generate.ts) read at run time, without network.
 *
 * - {@link SchemaSet}: the OpenAPI v2 definitions by kube's definition name
 *   (`io.k8s.api.core.v1.ConfigMap`), one file per group-version, each read on first use.
 * - {@link readGoFacts}: the Go facts of each definition (go.json): per JSON field its Go type,
 *   `omitempty` (and `omitzero` where set), pointer, inline and protobuf number, in Go struct
 *   order, and its protobuf message.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { StatusError } from '../errors.ts';

/** The generated data's directory. */
export const GENERATED_DIR = fileURLToPath(new URL('./generated', import.meta.url));

/** An OpenAPI v2 schema as generated (kube's /openapi/v2 `definitions` shape). */
export interface Schema {
  readonly type?: string;
  readonly format?: string;
  readonly properties?: Readonly<Record<string, Schema>>;
  readonly required?: readonly string[];
  readonly items?: Schema;
  readonly additionalProperties?: Schema;
  readonly enum?: readonly string[];
  readonly $ref?: string;
  readonly 'x-kubernetes-group-version-kind'?: readonly GroupVersionKind[];
  readonly 'x-kubernetes-patch-strategy'?: string;
  readonly 'x-kubernetes-patch-merge-key'?: string;
  readonly 'x-kubernetes-list-type'?: string;
  readonly 'x-kubernetes-list-map-keys'?: readonly string[];
  readonly 'x-kubernetes-map-type'?: string;
}

export interface GroupVersionKind {
  readonly group: string;
  readonly version: string;
  readonly kind: string;
}

/** A definition that is a top-level kind, with one of its group-version-kinds. */
export interface KindDefinitionRef extends GroupVersionKind {
  /** The definition name. */
  readonly name: string;
}

const REF_PREFIX = '#/definitions/';

/**
 * The schema file holding a definition: `io.k8s.api.<group>.<version>.<Type>` is
 * `<group>.<version>`, `io.k8s.apimachinery.pkg.apis.meta.v1.<Type>` is `meta.v1`, another
 * apimachinery package is its last element (`runtime`, `resource`, `intstr`),
 * `io.k8s.apiextensions-apiserver.pkg.apis.<group>.<version>.<Type>` is `<group>.<version>`
 * (`apiextensions.v1`).
 */
export function schemaFileOf(name: string): string | undefined {
  const parts = name.split('.');
  if (parts.length < 4 || parts[0] !== 'io' || parts[1] !== 'k8s') return undefined;
  const pkg = parts.slice(2, -1);
  if (pkg[0] === 'api' && pkg.length === 3) return `${pkg[1]}.${pkg[2]}`;
  if (pkg[0] === 'apimachinery') return pkg.join('.') === 'apimachinery.pkg.apis.meta.v1' ? 'meta.v1' : pkg.at(-1);
  if (pkg[0] === 'apiextensions-apiserver' && pkg.length === 5 && pkg[1] === 'pkg' && pkg[2] === 'apis') return `${pkg[3]}.${pkg[4]}`;
  return undefined;
}

/**
 * The generated OpenAPI definitions. Files are read lazily, once each, and kept; an instance is
 * meant to live as long as its owner (no module-level instance).
 */
export class SchemaSet {
  readonly #dir: string;
  readonly #files = new Map<string, ReadonlyMap<string, Schema>>();

  /** @param dir the schemas directory (default: the committed lib/kinds/generated/schemas). */
  constructor(dir = path.join(GENERATED_DIR, 'schemas')) {
    this.#dir = dir;
  }

  #file(file: string): ReadonlyMap<string, Schema> {
    let defs = this.#files.get(file);
    if (defs !== undefined) return defs;
    let text: string;
    try {
      text = readFileSync(path.join(this.#dir, `${file}.json`), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        defs = new Map();
        this.#files.set(file, defs);
        return defs;
      }
      throw StatusError.from(err);
    }
    const parsed = JSON.parse(text) as { definitions: Record<string, Schema> };
    defs = new Map(Object.entries(parsed.definitions));
    this.#files.set(file, defs);
    return defs;
  }

  /** The definition of that name, or undefined. */
  get(name: string): Schema | undefined {
    const file = schemaFileOf(name);
    return file === undefined ? undefined : this.#file(file).get(name);
  }

  /**
   * The schema a `$ref` points to (`#/definitions/<name>`), followed until a schema without
   * `$ref`; a schema without `$ref` is returned as is. Throws StatusError (InternalError) for a
   * reference to a definition that does not exist.
   */
  resolve(schema: Schema): Schema {
    let current = schema;
    for (let hops = 0; current.$ref !== undefined; hops++) {
      const ref = current.$ref;
      const target = ref.startsWith(REF_PREFIX) ? this.get(ref.slice(REF_PREFIX.length)) : undefined;
      if (target === undefined || hops > 16) throw new StatusError('InternalError', `unresolvable schema reference ${ref}`);
      current = target;
    }
    return current;
  }

  /** The definition name a `$ref` names, or undefined when the schema has none. */
  static refName(schema: Schema): string | undefined {
    return schema.$ref?.startsWith(REF_PREFIX) ? schema.$ref.slice(REF_PREFIX.length) : undefined;
  }

  /** Every definition name of the generated files (reads them all). */
  names(): string[] {
    const out: string[] = [];
    for (const file of this.#fileNames()) out.push(...this.#file(file).keys());
    return out.sort();
  }

  /**
   * Every (definition, group-version-kind) pair of definitions carrying
   * `x-kubernetes-group-version-kind` (reads every file), sorted by definition name.
   */
  kinds(): KindDefinitionRef[] {
    const out: KindDefinitionRef[] = [];
    for (const name of this.names()) {
      for (const gvk of this.get(name)?.['x-kubernetes-group-version-kind'] ?? []) out.push({ name, ...gvk });
    }
    return out;
  }

  #fileNames(): string[] {
    return readdirSync(this.#dir)
      .filter((f) => f.endsWith('.json'))
      .map((f) => f.slice(0, -'.json'.length))
      .sort();
  }
}

/** One JSON field's Go facts. */
export interface GoFieldFacts {
  /** The Go type as written in the source (`*int64`, `[]Container`, `metav1.ObjectMeta`). */
  readonly go: string;
  readonly omitempty: boolean;
  /** `json:",omitzero"` (Go 1.24): left out when it is its type's zero value; absent when not set. */
  readonly omitzero?: boolean;
  readonly pointer: boolean;
  /** An embedded struct whose fields encoding/json writes into the parent (keyed by its Go name). */
  readonly inline: boolean;
  /** The protobuf field number; absent for fields go-to-protobuf leaves out (TypeMeta). */
  readonly protobuf?: number;
  /** For an inline field carried as a message: the protobuf field name. */
  readonly protobufName?: string;
}

/** One definition's Go facts. */
export interface GoDefinitionFacts {
  /** The fully qualified protobuf message (`k8s.io.api.core.v1.ConfigMap`). */
  readonly protobufMessage?: string;
  /** For a named list carried as a message (metav1.Verbs): its Go type; the message has `items`. */
  readonly go?: string;
  /** JSON name (Go name for inline fields) -> facts, in Go struct order (the order of the JSON). */
  readonly fields?: Readonly<Record<string, GoFieldFacts>>;
}

/** Reads go.json: definition name -> Go facts. */
export function readGoFacts(dir = GENERATED_DIR): ReadonlyMap<string, GoDefinitionFacts> {
  const parsed = JSON.parse(readFileSync(path.join(dir, 'go.json'), 'utf8')) as Record<string, GoDefinitionFacts>;
  return new Map(Object.entries(parsed));
}
