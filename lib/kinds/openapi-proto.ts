/**
 * The OpenAPI v2 document in the protobuf form kubectl asks for
 * (`application/com.github.proto-openapi.spec.v2@v1.0+protobuf`): gnostic's `openapi.v2.Document`
 * message (proto/gnostic/openapiv2.proto), filled in from the JSON document as gnostic's own
 * parser fills it: named maps become repeated name/value pairs, `type` and `items` become
 * one-element lists, `x-` keys become vendor extensions whose value is the YAML of their JSON
 * value (JSON text is YAML), parameters split into body, query and path kinds.
 *
 * Keywords v2 has no field for (`oneOf`, `anyOf`, `nullable`, from a custom kind's own
 * schema) are left out, as kube leaves them out of its v2 document.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import { StatusError } from '../errors.ts';
import { MAX_JSON_DEPTH } from '../kube.ts';

const PROTO_DIR = fileURLToPath(new URL('../../proto', import.meta.url));
const PROTO_FILE = 'gnostic/openapiv2.proto';

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

function strings(v: unknown): string[] | undefined {
  return Array.isArray(v) ? v.filter((s): s is string => typeof s === 'string') : undefined;
}

/** An openapi.v2.Any: the value's YAML text (its JSON, which YAML reads the same). */
function anyOf(value: unknown): Json {
  return { yaml: JSON.stringify(value) };
}

/** The `x-` keys of an object as openapi.v2.NamedAny values, in the object's order. */
function vendorExtensions(o: Json): Json[] {
  return Object.entries(o)
    .filter(([key]) => key.startsWith('x-'))
    .map(([name, value]) => ({ name, value: anyOf(value) }));
}

function compact(o: Json): Json {
  for (const key of Object.keys(o)) if (o[key] === undefined) delete o[key];
  return o;
}

/** An openapi.v2.Schema. */
function schemaOf(s: Json): Json {
  const num = (key: string): number | undefined => (typeof s[key] === 'number' ? s[key] : undefined);
  const bool = (key: string): boolean | undefined => (typeof s[key] === 'boolean' ? s[key] : undefined);
  const additional = s.additionalProperties;
  const items = s.items;
  const type = s.type;
  return compact({
    _ref: str(s.$ref),
    format: str(s.format),
    title: str(s.title),
    description: str(s.description),
    default: s.default === undefined ? undefined : anyOf(s.default),
    multiple_of: num('multipleOf'),
    maximum: num('maximum'),
    exclusive_maximum: bool('exclusiveMaximum'),
    minimum: num('minimum'),
    exclusive_minimum: bool('exclusiveMinimum'),
    max_length: num('maxLength'),
    min_length: num('minLength'),
    pattern: str(s.pattern),
    max_items: num('maxItems'),
    min_items: num('minItems'),
    unique_items: bool('uniqueItems'),
    max_properties: num('maxProperties'),
    min_properties: num('minProperties'),
    required: strings(s.required),
    enum: Array.isArray(s.enum) ? s.enum.map(anyOf) : undefined,
    additional_properties: isObject(additional) ? { schema: schemaOf(additional) } : typeof additional === 'boolean' ? { boolean: additional } : undefined,
    type: typeof type === 'string' ? { value: [type] } : Array.isArray(type) ? { value: strings(type) } : undefined,
    items: isObject(items) ? { schema: [schemaOf(items)] } : Array.isArray(items) ? { schema: items.filter(isObject).map(schemaOf) } : undefined,
    all_of: Array.isArray(s.allOf) ? s.allOf.filter(isObject).map(schemaOf) : undefined,
    properties: isObject(s.properties)
      ? { additional_properties: Object.entries(s.properties).filter(([, v]) => isObject(v)).map(([name, v]) => ({ name, value: schemaOf(v as Json) })) }
      : undefined,
    discriminator: str(s.discriminator),
    read_only: bool('readOnly'),
    example: s.example === undefined ? undefined : anyOf(s.example),
    vendor_extension: vendorExtensions(s),
  });
}

/** An openapi.v2.ParametersItem. */
function parameterOf(p: Json): Json {
  if (typeof p.$ref === 'string') return { json_reference: { _ref: p.$ref } };
  const common = { required: p.required === true, in: str(p.in), description: str(p.description), name: str(p.name) };
  switch (p.in) {
    case 'body':
      return { parameter: { body_parameter: compact({ ...common, schema: isObject(p.schema) ? schemaOf(p.schema) : undefined, vendor_extension: vendorExtensions(p) }) } };
    case 'path':
      return {
        parameter: {
          non_body_parameter: {
            path_parameter_sub_schema: compact({ ...common, type: str(p.type), format: str(p.format), unique_items: p.uniqueItems === true, vendor_extension: vendorExtensions(p) }),
          },
        },
      };
    case 'query':
      return {
        parameter: {
          non_body_parameter: {
            query_parameter_sub_schema: compact({ ...common, type: str(p.type), format: str(p.format), unique_items: p.uniqueItems === true, vendor_extension: vendorExtensions(p) }),
          },
        },
      };
    default:
      throw new StatusError('InternalError', `OpenAPI v2 parameter ${String(p.name)}: no protobuf form for parameters in ${String(p.in)}`);
  }
}

/** An openapi.v2.Operation. */
function operationOf(o: Json): Json {
  const responses = isObject(o.responses) ? o.responses : {};
  return compact({
    tags: strings(o.tags),
    summary: str(o.summary),
    description: str(o.description),
    operation_id: str(o.operationId),
    produces: strings(o.produces),
    consumes: strings(o.consumes),
    parameters: Array.isArray(o.parameters) ? o.parameters.filter(isObject).map(parameterOf) : undefined,
    responses: {
      response_code: Object.entries(responses)
        .filter(([, r]) => isObject(r))
        .map(([name, r]) => {
          const response = r as Json;
          if (typeof response.$ref === 'string') return { name, value: { json_reference: { _ref: response.$ref } } };
          return {
            name,
            value: {
              response: compact({
                description: str(response.description) ?? '',
                schema: isObject(response.schema) ? { schema: schemaOf(response.schema) } : undefined,
                vendor_extension: vendorExtensions(response),
              }),
            },
          };
        }),
    },
    schemes: strings(o.schemes),
    deprecated: o.deprecated === true ? true : undefined,
    vendor_extension: vendorExtensions(o),
  });
}

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch'] as const;

/** The gnostic `openapi.v2.Document` of a v2 JSON document, as a plain object of the message's fields. */
export function toGnosticDocument(doc: Json): Json {
  const paths = isObject(doc.paths) ? doc.paths : {};
  const definitions = isObject(doc.definitions) ? doc.definitions : {};
  const info = isObject(doc.info) ? doc.info : {};
  const securityDefinitions = isObject(doc.securityDefinitions) ? doc.securityDefinitions : {};
  return compact({
    swagger: str(doc.swagger),
    info: compact({ title: str(info.title), version: str(info.version), description: str(info.description), vendor_extension: vendorExtensions(info) }),
    paths: {
      path: Object.entries(paths)
        .filter(([, item]) => isObject(item))
        .map(([name, item]) => {
          const pathItem = item as Json;
          const value: Json = {};
          for (const method of METHODS) if (isObject(pathItem[method])) value[method] = operationOf(pathItem[method]);
          if (Array.isArray(pathItem.parameters)) value.parameters = pathItem.parameters.filter(isObject).map(parameterOf);
          value.vendor_extension = vendorExtensions(pathItem);
          return { name, value };
        }),
    },
    definitions: {
      additional_properties: Object.entries(definitions)
        .filter(([, s]) => isObject(s))
        .map(([name, s]) => ({ name, value: schemaOf(s as Json) })),
    },
    security: Array.isArray(doc.security)
      ? doc.security.filter(isObject).map((req) => ({
          additional_properties: Object.entries(req).map(([name, scopes]) => ({ name, value: { value: strings(scopes) ?? [] } })),
        }))
      : undefined,
    security_definitions: {
      additional_properties: Object.entries(securityDefinitions)
        .filter(([, d]) => isObject(d) && (d as Json).type === 'apiKey')
        .map(([name, d]) => {
          const def = d as Json;
          return { name, value: { api_key_security: compact({ type: 'apiKey', name: str(def.name), in: str(def.in), description: str(def.description) }) } };
        }),
    },
    vendor_extension: vendorExtensions(doc),
  });
}

/**
 * Encodes v2 documents as gnostic protobuf. The message definitions are loaded once per
 * instance (the gateway holds one).
 */
export class OpenApiV2Protobuf {
  readonly #document: protobuf.Type;

  constructor() {
    const root = new protobuf.Root();
    root.resolvePath = (_origin, target) => path.join(PROTO_DIR, target);
    root.loadSync(PROTO_FILE, { keepCase: true });
    root.resolveAll();
    this.#document = root.lookupType('openapi.v2.Document');
  }

  /**
   * The protobuf bytes of a v2 JSON document, however deeply its schemas nest (a custom
   * kind's schema may be some 500 levels deep by `properties`, each three messages deep
   * here). InternalError when the document is too deep to encode on the stack.
   */
  encode(doc: Json): Buffer {
    const gnostic = toGnosticDocument(doc);
    return withRecursionLimit(objectDepth(gnostic), () => {
      const bytes = this.#document.encode(this.#document.fromObject(gnostic)).finish();
      return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    });
  }

  /** The v2 document's message as a plain object (snake_case fields), for tests and inspection. */
  decode(bytes: Uint8Array): Json {
    return withRecursionLimit(MAX_MESSAGE_DEPTH, () =>
      this.#document.toObject(this.#document.decode(bytes), { longs: Number, defaults: false, arrays: false }) as Json,
    );
  }
}

/**
 * The deepest nesting of the gnostic object (its objects and arrays, which bound its
 * messages) that encode and decode take on. A CRD body nests at most MAX_JSON_DEPTH levels,
 * and one JSON level of a schema becomes at most three levels here (`items`: the schema, its
 * ItemsItem, the list in it); the built-in definitions refer to each other by name and stay
 * shallow. Well inside the stack: on the default stack, some 5,000 message levels encode
 * before it runs out.
 */
const MAX_MESSAGE_DEPTH = 4 * MAX_JSON_DEPTH;

/** How deeply objects and arrays nest in `value`, counted without recursion. */
function objectDepth(value: unknown): number {
  let max = 0;
  const stack: [unknown, number][] = [[value, 1]];
  for (let top = stack.pop(); top !== undefined; top = stack.pop()) {
    const [v, depth] = top;
    if (v === null || typeof v !== 'object') continue;
    if (depth > max) max = depth;
    for (const child of Array.isArray(v) ? v : Object.values(v)) {
      if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
    }
  }
  return max;
}

/**
 * Runs `fn` with protobufjs' nesting limit (100 messages, protoc's default, shared by every
 * generated fromObject, encode and decode) raised to `depth`, restoring it after: the limit
 * is global, and only this synchronous call may go deeper. InternalError past
 * MAX_MESSAGE_DEPTH, or when the stack runs out regardless.
 */
function withRecursionLimit<T>(depth: number, fn: () => T): T {
  if (depth > MAX_MESSAGE_DEPTH) {
    throw new StatusError('InternalError', `the OpenAPI v2 document nests ${depth} levels, more than the ${MAX_MESSAGE_DEPTH} its protobuf form may`);
  }
  const util = protobuf.util as { recursionLimit: number };
  const reader = protobuf.Reader as unknown as { recursionLimit: number };
  const saved = [util.recursionLimit, reader.recursionLimit] as const;
  util.recursionLimit = Math.max(saved[0], depth);
  reader.recursionLimit = Math.max(saved[1], depth);
  try {
    return fn();
  } catch (err) {
    if (err instanceof RangeError) throw new StatusError('InternalError', 'the OpenAPI v2 document nests too deeply for its protobuf form');
    throw err;
  } finally {
    util.recursionLimit = saved[0];
    reader.recursionLimit = saved[1];
  }
}
