/**
 * Generators of hostile requests for the fuzzer (hostile.ts): fast-check arbitraries of REST
 * requests and typed gRPC calls (apiserver.v1.Resources) to the gateway.
 *
 * Every body starts as a valid ConfigMap, Namespace or Node and is then mutated: type swaps at
 * any path, hostile strings (unicode, control characters, lone surrogates, invalid UTF-8
 * bytes), nulls, inserted keys (`__proto__`, server-owned metadata), huge arrays, deep nesting,
 * duplicate keys, truncation, YAML, Kubernetes protobuf garbage behind the `k8s\0` magic.
 * Paths carry odd names (`.`, `..`, `%2e%2e`, slashes, very long, uppercase) and dot-segments
 * and percent-encodings in every position; query strings carry invalid values of every
 * parameter the API reads; methods, content types and Accept headers are odd too.
 *
 * Contracts the runner relies on:
 * - A request never legitimately addresses a protected object (the fuzz namespaces, the
 *   system namespaces, the sentinels): generated names come from pools (`fz-N`, `fzns-N`,
 *   `fzno-N`) or from odd spellings that only reach a protected object if the server resolves
 *   a path it should not, and a DELETE of a collection selects the sentinels away. So any
 *   change to a protected object is collateral damage.
 * - A request built from (resource, namespace, name) says so in `target`: a success must be
 *   about that object.
 * - Sizes stay moderate here (a run of thousands takes seconds); the big cases (deep nesting
 *   of thousands of levels, bodies over 3 MiB, huge arrays) are a fixed list, `bigCases`.
 * - Bodies are built when sent (`Body.bytes`), so a generated batch stays small in memory.
 */
import fc from 'fast-check';
import { stringify as toYaml } from 'yaml';

export type Resource = 'configmaps' | 'namespaces' | 'nodes';
export const RESOURCES: readonly Resource[] = ['configmaps', 'namespaces', 'nodes'];
export const KIND_OF: Readonly<Record<Resource, string>> = { configmaps: 'ConfigMap', namespaces: 'Namespace', nodes: 'Node' };

/** Namespaces the fuzz writes ConfigMaps into (created before the run). */
export const FUZZ_NAMESPACES = ['fuzz-a', 'fuzz-b', 'fuzz-c'] as const;
/** A ConfigMap of this name sits in every fuzz namespace and in `default`; nothing may touch it. */
export const SENTINEL = 'sentinel';
/** A Node nothing may touch. */
export const SENTINEL_NODE = 'sentinel-node';
/** Stands for the admin's bearer token in generated headers and metadata. */
export const ADMIN_TOKEN = '<admin>';

/** Pools of names, small so that later requests find what earlier ones created. */
const POOL_SIZE = 24;
const POOL_PREFIX: Readonly<Record<Resource, string>> = { configmaps: 'fz-', namespaces: 'fzns-', nodes: 'fzno-' };

/** A request body, built when sent. */
export interface Body {
  /** Its family (for grouping findings): valid, mutated, bytes, non-object, yaml, protobuf, big. */
  family: string;
  /** What was done to it, for reports. */
  label: string;
  bytes(): Buffer;
}

/** What a request built from parts addresses. */
export interface Addressed {
  resource: Resource;
  /** Decoded namespace ("" for none). */
  namespace: string;
  /** Decoded name ("" for the collection); undefined when the name cannot be decoded. */
  name: string | undefined;
}

export interface RestFuzzRequest {
  api: 'rest';
  /** Coarse kind of request, for grouping findings. */
  category: string;
  method: string;
  /** The request-target exactly as sent. */
  path: string;
  /** Header values; ADMIN_TOKEN in authorization stands for the admin's token. */
  headers: Record<string, string>;
  body?: Body | undefined;
  /** Send the body without Content-Length (chunked). */
  chunked?: boolean;
  target?: Addressed | undefined;
}

export type GrpcMethod = 'Create' | 'Get' | 'List' | 'Update' | 'Delete' | 'Watch';

export interface GrpcFuzzRequest {
  api: 'grpc';
  category: string;
  method: GrpcMethod;
  /** A request the generated client encodes (object: a Body, encoded when sent), or raw message bytes. */
  message: { typed: Record<string, unknown> } | { raw: Body };
  /** ADMIN_TOKEN, another token, or undefined for no authorization metadata. */
  token: string | undefined;
  target?: Addressed | undefined;
}

export type FuzzRequest = RestFuzzRequest | GrpcFuzzRequest;

// ---------------------------------------------------------------------------------------------
// Strings and names

const bytesOf = (s: string): Buffer => Buffer.from(s, 'utf8');

/** Percent-encodes everything but RFC 3986 unreserved characters (lone surrogates become U+FFFD first). */
export function encodeSegment(s: string): string {
  let out = '';
  for (const byte of Buffer.from(s, 'utf8')) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9\-._~]/.test(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** The decoded form of a path segment, or undefined when it is not validly percent-encoded. */
export function decodeSegment(s: string): string | undefined {
  try {
    return decodeURIComponent(s);
  } catch {
    return undefined;
  }
}

const CONTROL = ['\u0000', '\u0001', '\u0007', '\b', '\t', '\n', '\r', '\u001b', '\u001f', '\u007f', '\u0085', '\u2028', '\u2029', '\ufeff', '\ufffe', '\uffff'];
const SURROGATES = ['\ud800', '\udbff', '\udc00', '\udfff', '\ud83d'];

/** Strings that break naive code: unicode, control characters, lone surrogates, lookalikes, long. */
export const hostileString: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.string({ unit: 'grapheme', maxLength: 24 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 24 }) },
  { weight: 2, arbitrary: fc.string({ unit: fc.constantFrom(...CONTROL, ...SURROGATES, 'a', '.', '/', '"', '\\'), maxLength: 16 }) },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      '', ' ', '.', '..', '%2e%2e', '/', 'a/b', '../../x', 'UPPER', 'a'.repeat(63), 'a'.repeat(64), 'a'.repeat(253), 'a'.repeat(254),
      '__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'null', 'undefined', 'true', '-1', '1e400', 'NaN',
      '{}', '[]', '${x}', '{{x}}', '<script>', "'; --", 'k8s\u0000', '\u202e', 'ﬁ', 'İ', 'ǅ', 'ß', '𝕏', '👍🏽', 'é', 'é',
    ),
  },
  { weight: 1, arbitrary: fc.integer({ min: 300, max: 20_000 }).map((n) => 'x'.repeat(n)) },
);

/** Keys that break naive object handling. */
const hostileKey: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'valueOf', 'hasOwnProperty', '', ' ', '.', 'a.b', 'a/b', '$ref', '0', '-1', 'length') },
  { weight: 2, arbitrary: hostileString.filter((s) => s.length < 200) },
);

/**
 * One arbitrary per argument, built once: an arbitrary built inside a `chain` for every value
 * (a regular expression's among them) makes generation a hundred times slower.
 */
function memo<K, T>(make: (key: K) => T): (key: K) => T {
  const made = new Map<K, T>();
  return (key) => {
    if (!made.has(key)) made.set(key, make(key));
    return made.get(key) as T;
  };
}

/** The names of one resource's pool: objects the fuzz creates, updates and deletes. */
const poolName = memo((resource: Resource): fc.Arbitrary<string> => fc.nat({ max: POOL_SIZE - 1 }).map((i) => `${POOL_PREFIX[resource]}${i}`));

const validName = memo((resource: Resource): fc.Arbitrary<string> =>
  fc.stringMatching(/^[a-z0-9]([-a-z0-9]{0,20}[a-z0-9])?$/).map((s) => `${POOL_PREFIX[resource]}${s}`));

/**
 * Odd names as they appear in a path (already percent-encoded where meant): dot-segments and
 * their encodings, encoded slashes (some spelling a protected object's key), invalid or
 * overlong encodings, uppercase, very long.
 */
const ODD_NAME_SEGMENTS = [
  '.', '..', '...', '%2e', '%2E', '%2e%2e', '%2E%2E', '.%2e', '%2e.', '%2E.', '.%2E', '%2e%2e%2f', '..%2f', '..%2F..', '%2f', '%2F',
  'a%2Fb', '..%2F..%2Fnamespaces', `fuzz-a%2F${SENTINEL}`, `%2e%2e%2ffuzz-a%2f${SENTINEL}`, `..%2Ffuzz-b%2F${SENTINEL}`, '%00', `${SENTINEL}%00`,
  '%ZZ', '%', '%e0%80', '%ff', '%c0%ae%c0%ae', '%252e%252e', '%u002e', 'UPPER', 'Mixed-Case', '-leading', 'trailing-', 'a_b', 'a..b',
  '%20', '+', 'a%3Fb', 'a%23b', '%3F', '%23', ';', 'a;b=c', '*', '~', '%5C', '%5C..', 'watch', 'status', 'namespaces', 'configmaps',
  'x'.repeat(64), 'x'.repeat(254), 'x'.repeat(300), 'x'.repeat(5000), 'ÿ',
];

/** Dot-segments and their encodings: a server that resolves them addresses another object. */
const DOT_SEGMENTS = ['.', '..', '%2e', '%2E', '%2e%2e', '%2E%2E', '.%2e', '%2e.', '%2E.', '.%2E', '%2e%2E'];

/** A name segment for `resource` in a path: mostly the pool, else valid, odd, or encoded hostile strings. */
const nameSegment = memo((resource: Resource): fc.Arbitrary<string> =>
  fc.oneof(
    { weight: 10, arbitrary: poolName(resource) },
    { weight: 1, arbitrary: validName(resource) },
    { weight: 3, arbitrary: fc.constantFrom(...DOT_SEGMENTS) },
    { weight: 4, arbitrary: fc.constantFrom(...ODD_NAME_SEGMENTS) },
    { weight: 2, arbitrary: hostileString.filter((s) => s.length < 2000 && s !== SENTINEL).map(encodeSegment) },
  ));

/** A namespace segment: mostly the fuzz namespaces, sometimes one that does not exist or an odd one. */
const namespaceSegment: fc.Arbitrary<string> = fc.oneof(
  { weight: 12, arbitrary: fc.constantFrom(...FUZZ_NAMESPACES) },
  { weight: 1, arbitrary: poolName('namespaces') },
  { weight: 2, arbitrary: fc.constantFrom('.', '..', '%2e%2e', '%2E%2E', '%2e', 'nowhere', 'UPPER', '%2F', 'a%2Fb', '%00', '%ZZ', 'x'.repeat(64), 'x'.repeat(300)) },
  { weight: 1, arbitrary: hostileString.filter((s) => s.length < 300).map(encodeSegment) },
);

/** A name for a body's metadata.name: the decoded counterpart of nameSegment. */
const bodyName = memo((resource: Resource): fc.Arbitrary<string> =>
  fc.oneof(
    { weight: 10, arbitrary: poolName(resource) },
    { weight: 1, arbitrary: validName(resource) },
    { weight: 3, arbitrary: fc.constantFrom('.', '..', 'a/b', `fuzz-a/${SENTINEL}`, `../fuzz-b/${SENTINEL}`, 'UPPER', 'x'.repeat(254), '', `${SENTINEL}\u0000`) },
    { weight: 1, arbitrary: hostileString.filter((s) => s !== SENTINEL) },
  ));

// ---------------------------------------------------------------------------------------------
// Valid objects

const labelKey = fc.stringMatching(/^([a-z0-9]([-a-z0-9]{0,10}[a-z0-9])?(\.[a-z0-9]{1,5})?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,15}[A-Za-z0-9])?$/);
const labelValue = fc.stringMatching(/^([A-Za-z0-9]([-A-Za-z0-9_.]{0,15}[A-Za-z0-9])?)?$/);
const labels = fc.oneof(
  fc.dictionary(labelKey, labelValue, { maxKeys: 4 }),
  // Some objects carry the labels the post-run selectors look for.
  fc.record({ fuzz: fc.constantFrom('yes', 'no'), env: fc.constantFrom('a', 'b', 'prod') }),
);
const annotations = fc.dictionary(labelKey, fc.string({ maxLength: 40 }), { maxKeys: 3 });

const metadata = (name: fc.Arbitrary<string>) =>
  fc.record(
    { name, labels, annotations, generateName: fc.constant('fz-gen-') },
    { requiredKeys: ['name'] },
  );

const validConfigMap = fc.record(
  {
    apiVersion: fc.constant('v1'),
    kind: fc.constant('ConfigMap'),
    metadata: metadata(bodyName('configmaps')),
    data: fc.dictionary(fc.stringMatching(/^[-._a-zA-Z0-9]{1,20}$/), fc.string({ unit: 'grapheme', maxLength: 60 }), { maxKeys: 5 }),
    binaryData: fc.dictionary(fc.stringMatching(/^[-._a-zA-Z0-9]{1,20}$/), fc.base64String({ maxLength: 40 }), { maxKeys: 2 }),
    immutable: fc.constant(false),
  },
  { requiredKeys: ['apiVersion', 'kind', 'metadata'] },
);

const validNamespace = fc.record(
  {
    apiVersion: fc.constant('v1'),
    kind: fc.constant('Namespace'),
    metadata: metadata(bodyName('namespaces')),
    spec: fc.record({ finalizers: fc.constantFrom([], ['kubernetes']) }),
  },
  { requiredKeys: ['apiVersion', 'kind', 'metadata'] },
);

const validNode = fc.record(
  {
    apiVersion: fc.constant('v1'),
    kind: fc.constant('Node'),
    metadata: metadata(bodyName('nodes')),
    spec: fc.record(
      {
        podCIDR: fc.constantFrom('10.0.0.0/24', '10.1.0.0/24'),
        unschedulable: fc.boolean(),
        taints: fc.array(fc.record({ key: labelKey, value: labelValue, effect: fc.constantFrom('NoSchedule', 'NoExecute', 'PreferNoSchedule') }), { maxLength: 2 }),
      },
      { requiredKeys: [] },
    ),
    status: fc.record({
      conditions: fc.constant([{ type: 'Ready', status: 'True', reason: 'KubeletReady' }]),
      addresses: fc.constant([{ type: 'InternalIP', address: '10.0.0.7' }]),
      nodeInfo: fc.constant({ kubeletVersion: 'v1.32.1', osImage: 'Debian GNU/Linux 12 (bookworm)', kernelVersion: '6.1.0', containerRuntimeVersion: 'containerd://1.7.0' }),
      capacity: fc.constant({ cpu: '2', memory: '4Gi', pods: '110' }),
    }),
  },
  { requiredKeys: ['apiVersion', 'kind', 'metadata'] },
);

const VALID: Readonly<Record<Resource, fc.Arbitrary<Record<string, unknown>>>> = {
  configmaps: validConfigMap,
  namespaces: validNamespace,
  nodes: validNode,
};

// ---------------------------------------------------------------------------------------------
// Structural mutations (on the object before it is serialized)

/** `depth` levels of nesting around `leaf`, arrays or objects. */
export function nested(depth: number, shape: 'array' | 'object' | 'mixed', leaf: unknown = 'x'): unknown {
  let value: unknown = leaf;
  for (let i = 0; i < depth; i++) {
    const asArray = shape === 'array' || (shape === 'mixed' && i % 2 === 0);
    value = asArray ? [value] : { a: value };
  }
  return value;
}

/** A value of some other type than the one it replaces. */
const scalarJunk: fc.Arbitrary<unknown> = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer(),
  fc.double(),
  fc.constantFrom(1e308, -1, 0, -0, 2 ** 53 + 2, 1e-300, Number.MAX_SAFE_INTEGER),
  hostileString,
);

const junk: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', maxDepth: 3 },
    { weight: 4, arbitrary: scalarJunk },
    { weight: 1, arbitrary: fc.array(tie('value'), { maxLength: 4 }) },
    { weight: 1, arbitrary: fc.dictionary(hostileKey, tie('value'), { maxKeys: 4 }) },
  ),
})).value;

/** A replacement value: junk, or moderately deep nesting, a long array, a long string. */
const replacement: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 8, arbitrary: junk },
  { weight: 1, arbitrary: fc.tuple(fc.integer({ min: 10, max: 1500 }), fc.constantFrom('array', 'object', 'mixed') as fc.Arbitrary<'array' | 'object' | 'mixed'>).map(([d, s]) => nested(d, s)) },
  // Distinct elements: a shared one would be written out once per element after a later
  // mutation grew it (2,000 references to one object given 3,000 entries made a 32 MB body).
  { weight: 1, arbitrary: fc.tuple(fc.integer({ min: 100, max: 5000 }), fc.constantFrom<unknown>(0, null, 'a', true, {}, [], -1.5)).map(([n, v]) => Array.from({ length: n }, () => structuredClone(v))) },
  { weight: 1, arbitrary: fc.integer({ min: 1000, max: 100_000 }).map((n) => 'y'.repeat(n)) },
);

/** Keys worth inserting: fields the server owns or reads, and keys that break naive code. */
const insertedKey: fc.Arbitrary<string> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      'resourceVersion', 'uid', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'finalizers', 'ownerReferences', 'managedFields', 'generateName',
      'namespace', 'selfLink', 'creationTimestamp', 'generation', 'labels', 'annotations', 'name',
    ),
  },
  { weight: 2, arbitrary: fc.constantFrom('kind', 'apiVersion', 'data', 'binaryData', 'immutable', 'spec', 'status', 'items', 'type', 'object', 'metadata') },
  { weight: 2, arbitrary: hostileKey },
);

interface Mutation {
  op: 'replace' | 'delete' | 'insert';
  /** Picks the place among all the places of the object (modulo their number). */
  at: number;
  /** Insert into metadata rather than anywhere. */
  inMetadata: boolean;
  key: string;
  value: unknown;
}

const mutation: fc.Arbitrary<Mutation> = fc.record({
  op: fc.constantFrom('replace', 'replace', 'replace', 'delete', 'insert') as fc.Arbitrary<Mutation['op']>,
  at: fc.nat(),
  inMetadata: fc.boolean(),
  key: insertedKey,
  value: replacement,
});

type Place = { parent: Record<string, unknown> | unknown[]; key: string | number; path: string };

/** The places of `value` a mutation may hit; within what an earlier mutation grew, only the first few. */
function places(value: unknown, path = '', depth = 0): Place[] {
  const out: Place[] = [];
  if (depth > 12) return out;
  if (Array.isArray(value)) {
    value.slice(0, 8).forEach((v, i) => {
      out.push({ parent: value, key: i, path: `${path}[${i}]` });
      out.push(...places(v, `${path}[${i}]`, depth + 1));
    });
  } else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value).slice(0, 32)) {
      out.push({ parent: value as Record<string, unknown>, key: k, path: path === '' ? k : `${path}.${k}` });
      out.push(...places(v, path === '' ? k : `${path}.${k}`, depth + 1));
    }
  }
  return out;
}

function containers(value: unknown): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  const walk = (v: unknown, depth: number): void => {
    if (depth > 12) return;
    if (Array.isArray(v)) v.slice(0, 8).forEach((x) => walk(x, depth + 1));
    else if (v !== null && typeof v === 'object') {
      out.push(v as Record<string, unknown>);
      Object.values(v).slice(0, 32).forEach((x) => walk(x, depth + 1));
    }
  };
  walk(value, 0);
  return out;
}

/** Sets an own property, even `__proto__`, so that JSON.stringify writes it. */
function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

function describeValue(v: unknown): string {
  if (Array.isArray(v)) return `array(${v.length})`;
  if (v === null) return 'null';
  if (typeof v === 'object') return 'object';
  if (typeof v === 'string') return v.length > 20 ? `string(${v.length})` : JSON.stringify(v);
  return String(v);
}

/** Applies mutations to a copy of `object`; returns it and what was done. */
function mutate(object: Record<string, unknown>, mutations: Mutation[]): { value: Record<string, unknown>; done: string[] } {
  const value = structuredClone(object);
  const done: string[] = [];
  for (const generated of mutations) {
    // fast-check hands out some values (constants) as the same instance every time: a copy,
    // so that one mutation never puts an object inside itself.
    const m = { ...generated, value: structuredClone(generated.value) };
    if (m.op === 'insert') {
      const meta = value.metadata;
      const targets = m.inMetadata && meta !== null && typeof meta === 'object' && !Array.isArray(meta) ? [meta as Record<string, unknown>] : containers(value);
      const target = targets[m.at % targets.length];
      if (target === undefined) continue;
      setOwn(target, m.key, m.value);
      done.push(`insert ${JSON.stringify(m.key.slice(0, 30))}=${describeValue(m.value)}`);
      continue;
    }
    const all = places(value);
    const place = all[m.at % Math.max(1, all.length)];
    if (place === undefined) continue;
    if (m.op === 'delete') {
      if (Array.isArray(place.parent)) place.parent.splice(place.key as number, 1);
      else delete place.parent[place.key as string];
      done.push(`delete ${place.path}`);
    } else {
      if (Array.isArray(place.parent)) place.parent[place.key as number] = m.value;
      else setOwn(place.parent, place.key as string, m.value);
      done.push(`${place.path}=${describeValue(m.value)}`);
    }
  }
  return { value, done };
}

// ---------------------------------------------------------------------------------------------
// Byte-level mutations (on the serialized JSON)

const INVALID_UTF8: readonly number[][] = [[0xff], [0xfe], [0xc0, 0x80], [0xc0, 0xae], [0xed, 0xa0, 0x80], [0xe0, 0x80], [0x80], [0xf8, 0x88, 0x80, 0x80, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xc3]];

interface ByteMutation {
  op: 'invalid-utf8' | 'duplicate-key' | 'truncate' | 'bom' | 'trailing' | 'nul' | 'bad-number';
  at: number;
  pick: number;
  dupKey: string;
  dupValue: string;
}

const DUPLICATES: readonly [string, string][] = [
  ['kind', '"Namespace"'], ['kind', '"ConfigMap"'], ['kind', '"Node"'], ['kind', '"Secret"'], ['apiVersion', '"v2"'], ['metadata', '{"name":"dup"}'],
  ['metadata', '{"name":"fz-1","namespace":"fuzz-b"}'], ['metadata', '{"name":"fuzz-a"}'], ['metadata', 'null'], ['metadata', '[]'], ['name', '"fz-2"'],
  ['namespace', '"fuzz-b"'], ['data', '{"a":1}'], ['labels', '{"fuzz":{}}'], ['__proto__', '{"polluted":"yes"}'], ['resourceVersion', '"x"'],
];

const byteMutation: fc.Arbitrary<ByteMutation> = fc.record({
  op: fc.constantFrom('invalid-utf8', 'invalid-utf8', 'duplicate-key', 'duplicate-key', 'truncate', 'bom', 'trailing', 'nul', 'bad-number') as fc.Arbitrary<ByteMutation['op']>,
  at: fc.nat(),
  pick: fc.nat(),
  dupKey: fc.constantFrom(...DUPLICATES.map(([k]) => k)),
  dupValue: fc.constantFrom(...DUPLICATES.map(([, v]) => v)),
});

function indexesOf(bytes: Buffer, char: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < bytes.length; i++) if (bytes[i] === char) out.push(i);
  return out;
}

function mutateBytes(input: Buffer, m: ByteMutation): { bytes: Buffer; done: string } {
  const insertAt = (i: number, extra: Buffer): Buffer => Buffer.concat([input.subarray(0, i), extra, input.subarray(i)]);
  switch (m.op) {
    case 'invalid-utf8': {
      const quotes = indexesOf(input, 0x22);
      const i = quotes.length === 0 ? 0 : (quotes[m.at % quotes.length] as number) + 1;
      const bad = INVALID_UTF8[m.pick % INVALID_UTF8.length] as number[];
      return { bytes: insertAt(i, Buffer.from(bad)), done: `invalid UTF-8 ${Buffer.from(bad).toString('hex')}` };
    }
    case 'duplicate-key': {
      const braces = indexesOf(input, 0x7b);
      const i = braces.length === 0 ? 0 : (braces[m.at % braces.length] as number) + 1;
      const pair = `"${m.dupKey}":${m.dupValue}`;
      // After the opening brace (the original's key wins) or, with the comma after, first.
      const atEnd = m.pick % 2 === 0;
      if (atEnd) {
        const closing = input.lastIndexOf(0x7d);
        if (closing > 0) return { bytes: insertAt(closing, bytesOf(`,${pair}`)), done: `duplicate key last ${pair}` };
      }
      return { bytes: insertAt(i, bytesOf(`${pair},`)), done: `duplicate key first ${pair}` };
    }
    case 'truncate':
      return { bytes: input.subarray(0, m.at % Math.max(1, input.length)), done: 'truncated' };
    case 'bom':
      return { bytes: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), input]), done: 'BOM' };
    case 'trailing':
      return { bytes: Buffer.concat([input, bytesOf(['}', ']', ' null', '{}', '\u0000', ',', '\n{"kind":"Namespace"}'][m.pick % 7] as string)]), done: 'trailing garbage' };
    case 'nul':
      return { bytes: insertAt(m.at % (input.length + 1), Buffer.from([0])), done: 'NUL byte' };
    case 'bad-number': {
      const colons = indexesOf(input, 0x3a);
      const i = colons.length === 0 ? 0 : (colons[m.at % colons.length] as number) + 1;
      const n = ['1e999', '-0', '01', 'NaN', 'Infinity', '0x10', '1.', '.5', '-', '1e', '99999999999999999999999999'][m.pick % 11] as string;
      return { bytes: insertAt(i, bytesOf(`${n},"x":`)), done: `number ${n}` };
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Kubernetes protobuf (`k8s\0` + runtime.Unknown), written by hand so that it can be malformed

function varint(n: number | bigint): number[] {
  let v = BigInt(n);
  if (v < 0n) v += 1n << 64n;
  const out: number[] = [];
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v !== 0n) byte |= 0x80;
    out.push(byte);
  } while (v !== 0n);
  return out;
}

const field = (no: number, wireType: number): number[] => varint((no << 3) | wireType);
const lengthDelimited = (no: number, payload: Buffer): Buffer => Buffer.concat([Buffer.from([...field(no, 2), ...varint(payload.length)]), payload]);
const pbString = (no: number, s: string): Buffer => lengthDelimited(no, bytesOf(s));
const mapEntry = (no: number, k: string, v: string): Buffer => lengthDelimited(no, Buffer.concat([pbString(1, k), pbString(2, v)]));

/** A well-formed protobuf body of `kind` named `name`, as kubectl 1.32 sends. */
export function protobufBody(kind: string, name: string, data: Record<string, string> = {}): Buffer {
  const meta = lengthDelimited(1, Buffer.concat([pbString(1, name), ...Object.entries({ fuzz: 'yes' }).map(([k, v]) => mapEntry(11, k, v))]));
  const raw = Buffer.concat([meta, ...Object.entries(data).map(([k, v]) => mapEntry(2, k, v))]);
  const typeMeta = lengthDelimited(1, Buffer.concat([pbString(1, 'v1'), pbString(2, kind)]));
  return Buffer.concat([Buffer.from('k8s\0', 'latin1'), typeMeta, lengthDelimited(2, raw)]);
}

/** `depth` nested groups of an unknown field (wire types 3 and 4), inside `raw`. */
export function protobufDeepGroups(kind: string, depth: number): Buffer {
  const open = Buffer.from(field(15, 3));
  const close = Buffer.from(field(15, 4));
  const groups = Buffer.concat([Buffer.alloc(open.length * depth, open), Buffer.alloc(close.length * depth, close)]);
  const typeMeta = lengthDelimited(1, Buffer.concat([pbString(1, 'v1'), pbString(2, kind)]));
  return Buffer.concat([Buffer.from('k8s\0', 'latin1'), typeMeta, lengthDelimited(2, Buffer.concat([lengthDelimited(1, pbString(1, 'fz-deep')), groups]))]);
}

/** `depth` nested length-delimited unknown fields inside `raw`. */
export function protobufDeepMessages(kind: string, depth: number): Buffer {
  let inner: Buffer = pbString(1, 'x');
  for (let i = 0; i < depth; i++) inner = lengthDelimited(15, inner);
  const typeMeta = lengthDelimited(1, Buffer.concat([pbString(1, 'v1'), pbString(2, kind)]));
  return Buffer.concat([Buffer.from('k8s\0', 'latin1'), typeMeta, lengthDelimited(2, inner)]);
}

const protobufGarbage = memo((kind: string): fc.Arbitrary<Body> =>
  fc
    .record({
      variant: fc.constantFrom('flip', 'truncate', 'random', 'huge-length', 'groups', 'nested', 'bad-magic', 'magic-only', 'other-kind', 'wrong-wire', 'json-in-raw', 'valid'),
      bytes: fc.uint8Array({ maxLength: 200 }),
      at: fc.nat(),
      depth: fc.integer({ min: 1, max: 2000 }),
      name: bodyName(kind === 'ConfigMap' ? 'configmaps' : kind === 'Namespace' ? 'namespaces' : 'nodes'),
      data: fc.dictionary(fc.stringMatching(/^[a-z]{1,8}$/), hostileString.filter((s) => s.length < 100), { maxKeys: 3 }),
    })
    .map(({ variant, bytes, at, depth, name, data }) => {
      const make = (): Buffer => {
        const valid = protobufBody(kind, name, data);
        const magic = Buffer.from('k8s\0', 'latin1');
        switch (variant) {
          case 'flip': {
            const copy = Buffer.from(valid);
            for (const b of bytes.slice(0, 4)) {
              const i = 4 + ((at + b) % (copy.length - 4));
              copy[i] = (copy[i] ?? 0) ^ (b | 1);
            }
            return copy;
          }
          case 'truncate':
            return valid.subarray(0, 4 + (at % (valid.length - 3)));
          case 'random':
            return Buffer.concat([magic, Buffer.from(bytes)]);
          case 'huge-length':
            return Buffer.concat([magic, Buffer.from([...field(2, 2), ...varint(at % 2 === 0 ? 0xffffffff : 2n ** 63n)]), Buffer.from(bytes)]);
          case 'groups':
            return protobufDeepGroups(kind, depth);
          case 'nested':
            return protobufDeepMessages(kind, depth);
          case 'bad-magic':
            return Buffer.concat([Buffer.from('k8s\x01', 'latin1'), valid.subarray(4)]);
          case 'magic-only':
            return magic;
          case 'other-kind':
            return protobufBody(['Secret', 'Pod', '', 'ConfigMap', 'Namespace', 'Node'][at % 6] as string, name, data);
          case 'wrong-wire':
            return Buffer.concat([magic, Buffer.from([...field(1, 0), ...varint(at)]), valid.subarray(4)]);
          case 'json-in-raw':
            return Buffer.concat([magic, lengthDelimited(1, Buffer.concat([pbString(1, 'v1'), pbString(2, kind)])), lengthDelimited(2, bytesOf(JSON.stringify({ metadata: { name } })))]);
          case 'valid':
            return valid;
        }
      };
      return { family: 'protobuf', label: `protobuf ${kind} ${variant}`, bytes: make };
    }));

// ---------------------------------------------------------------------------------------------
// Bodies

const NON_OBJECTS = ['[]', 'null', '"x"', '1', 'true', '', ' ', '{}', '{"kind":"ConfigMap"}', '{"metadata":null}', '{"metadata":"x"}', '{"metadata":{"name":{}}}', '{"metadata":{"name":null}}', '{"metadata":{"labels":[]}}', '[{"kind":"ConfigMap"}]', '{"a":1'];

/** YAML of `value`; JSON (which is YAML too) when it is nested too deep for the YAML printer. */
function yamlText(value: unknown): string {
  try {
    return toYaml(value);
  } catch {
    return JSON.stringify(value);
  }
}

/** A JSON (or YAML) body for `resource`: valid, mutated, corrupted at the byte level, or not an object. */
export const jsonBody = memo((resource: Resource): fc.Arbitrary<Body> =>
  fc
    .record({
      base: fc.oneof({ weight: 6, arbitrary: VALID[resource] }, { weight: 1, arbitrary: fc.constantFrom(...RESOURCES).chain((r) => VALID[r]) }),
      mutations: fc.oneof({ weight: 1, arbitrary: fc.constant<Mutation[]>([]) }, { weight: 4, arbitrary: fc.array(mutation, { minLength: 1, maxLength: 3 }) }),
      byteMutations: fc.oneof({ weight: 3, arbitrary: fc.constant<ByteMutation[]>([]) }, { weight: 1, arbitrary: fc.array(byteMutation, { minLength: 1, maxLength: 2 }) }),
      yaml: fc.nat({ max: 15 }).map((n) => n === 0),
    })
    .map(({ base, mutations, byteMutations, yaml }) => {
      const { value, done } = mutate(base, mutations);
      const family = yaml ? 'yaml' : byteMutations.length > 0 ? 'bytes' : mutations.length > 0 ? 'mutated' : 'valid';
      const label = `${String(base.kind)} ${family}${done.length + byteMutations.length > 0 ? ': ' : ''}${[...done, ...byteMutations.map((m) => m.op)].join('; ')}`;
      return {
        family,
        label,
        bytes: () => {
          let bytes = yaml ? bytesOf(yamlText(value)) : bytesOf(JSON.stringify(value));
          for (const m of byteMutations) bytes = mutateBytes(bytes, m).bytes;
          return bytes;
        },
      };
    }));

/** Any body for `resource`, with the content type it claims (sometimes a lie) or none. */
const bodyWithType = memo((resource: Resource): fc.Arbitrary<{ body: Body; contentType: string | undefined }> =>
  fc.oneof(
    { weight: 14, arbitrary: fc.tuple(jsonBody(resource), contentTypeFor('json')).map(([body, contentType]) => ({ body, contentType: body.family === 'yaml' ? 'application/yaml' : contentType })) },
    { weight: 2, arbitrary: fc.tuple(fc.constantFrom(...NON_OBJECTS), contentTypeFor('json')).map(([text, contentType]) => ({ body: { family: 'non-object', label: `non-object ${JSON.stringify(text)}`, bytes: () => bytesOf(text) }, contentType })) },
    { weight: 3, arbitrary: fc.tuple(protobufGarbage(KIND_OF[resource]), contentTypeFor('protobuf')).map(([body, contentType]) => ({ body, contentType })) },
  ));

const CONTENT_TYPES = ['application/json; charset=utf-8', 'application/yaml', 'application/vnd.kubernetes.protobuf', 'text/plain', 'application/json-patch+json', 'application/merge-patch+json', 'application/apply-patch+yaml', '*/*', 'application/json;;;', 'x', '', 'application/JSON', 'application/json; charset=latin1', 'multipart/form-data; boundary=x'];

function contentTypeFor(kind: 'json' | 'protobuf'): fc.Arbitrary<string | undefined> {
  const usual = kind === 'json' ? 'application/json' : 'application/vnd.kubernetes.protobuf';
  return fc.oneof({ weight: 12, arbitrary: fc.constant(usual) }, { weight: 2, arbitrary: fc.constantFrom(...CONTENT_TYPES) }, { weight: 1, arbitrary: fc.constant(undefined) });
}

// ---------------------------------------------------------------------------------------------
// Query strings

const LABEL_SELECTOR_GARBAGE = [
  'a in (', '!', '!!a', 'a==', '=b', 'a=b=c', 'a in (b,', 'a notin ()', ',,,', 'a,b,,', '(', ')', 'a in (b)c', 'a>1', 'a<x', 'a=b,a!=b', '!fuzz,fuzz',
  'fuzz in (yes,no),env notin (prod)', 'fuzz=yes', 'ü=ö', 'a=\u0000', 'x'.repeat(1000), `a in (${'b,'.repeat(300)}c)`, 'a b', 'a=', 'a!=', 'a in ()', 'metadata.name=x', 'a/b/c=d',
];
const FIELD_SELECTOR_GARBAGE = [
  'metadata.name', 'metadata.name==', 'spec.unknown=x', 'metadata.namespace!=', 'a=b', '=', '==', '!=', 'metadata.name=a,', 'metadata.name=x\\', 'status.phase=Running',
  'metadata.name in (a)', 'metadata.name=a,metadata.name=b', 'metadata.namespace=fuzz-a', `metadata.name=${'x'.repeat(500)}`, 'metadata.name=\\,', 'metadata.name=%', ',', 'spec.unschedulable=true',
];
const CONTINUE_GARBAGE = [
  'garbage', '', '=', 'eyJ2IjoibWV0YS5rOHMuaW8vdjEiLCJydiI6LTEsInN0YXJ0IjoiLi4vIn0', Buffer.from('{"v":"meta.k8s.io/v1","rv":"x","start":"../../namespaces/"}').toString('base64'),
  Buffer.from('{"v":"meta.k8s.io/v1","rv":1,"start":"\u0000"}').toString('base64'), Buffer.from('[]').toString('base64'), Buffer.from('null').toString('base64'), '%%%', 'x'.repeat(2000),
];

const QUERY_VALUES: Readonly<Record<string, readonly string[]>> = {
  limit: ['-1', 'abc', '0', '1', '3', '500', '1e3', '99999999999999999999', '0x10', ' 1', '1.5', '', '-0', '+1'],
  watch: ['True', 'true', '1', 'false', '0', 'yes', '', 'TRUE'],
  resourceVersion: ['x', '-1', '0', '1', '99999999999', '18446744073709551616', '1.5', '', ' 1', '0x1'],
  resourceVersionMatch: ['bogus', 'Exact', 'NotOlderThan', 'exact', ''],
  labelSelector: LABEL_SELECTOR_GARBAGE,
  fieldSelector: FIELD_SELECTOR_GARBAGE,
  timeoutSeconds: ['-1', '0', '1', 'abc', '99999999999', '1.5'],
  dryRun: ['Bogus', 'All', 'all', '', 'All,Bogus'],
  includeObject: ['x', 'None', 'Object', 'Metadata', ''],
  continue: CONTINUE_GARBAGE,
  allowWatchBookmarks: ['x', 'true', '1'],
  sendInitialEvents: ['x', 'true', 'false'],
  timeout: ['-1s', '1h', 'x', '0s', '30s', '1m30s', '5', '1e3s', '99999999h'],
  pretty: ['x', 'true'],
  propagationPolicy: ['Bogus', 'Foreground', 'Orphan'],
  gracePeriodSeconds: ['-5', 'x', '0'],
  fieldManager: ['x'.repeat(200), '\u0000'],
  fieldValidation: ['Bogus', 'Strict', 'Ignore'],
};

const queryPair: fc.Arbitrary<string> = fc.oneof(
  { weight: 10, arbitrary: fc.constantFrom(...Object.keys(QUERY_VALUES)).chain((k) => fc.constantFrom(...(QUERY_VALUES[k] as string[])).map((v) => `${k}=${encodeSegment(v)}`)) },
  { weight: 2, arbitrary: fc.tuple(fc.constantFrom('labelSelector', 'fieldSelector', 'continue', 'resourceVersion'), hostileString.filter((s) => s.length < 3000)).map(([k, v]) => `${k}=${encodeSegment(v)}`) },
  // Raw, not encoded: the server's own decoding of odd bytes.
  { weight: 1, arbitrary: fc.constantFrom('&&&', '=', '==', 'a=%ZZ', 'limit=%', 'labelSelector=%E0%80', 'watch', 'watch=', '%00=1', 'a=b=c', 'limit=1&limit=2', 'limit[]=1', 'resourceVersion=1;2', 'labelSelector=a+in+(b)') },
);

const query: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.constant('') },
  { weight: 5, arbitrary: fc.array(queryPair, { minLength: 1, maxLength: 4 }).map((pairs) => `?${pairs.join('&')}`) },
);

// ---------------------------------------------------------------------------------------------
// Headers

const authorization: fc.Arbitrary<string | undefined> = fc.oneof(
  { weight: 30, arbitrary: fc.constant(`Bearer ${ADMIN_TOKEN}`) },
  { weight: 1, arbitrary: fc.constantFrom(undefined, 'Bearer ', 'Bearer garbage', 'Basic YWRtaW46YWRtaW4=', `bearer ${ADMIN_TOKEN}`, `Bearer ${'x'.repeat(4000)}`, `Bearer ${ADMIN_TOKEN} extra`, 'Bearer \u00ff\u00fe') },
);

const ACCEPTS = [
  'application/json;as=Table;v=v1;g=meta.k8s.io', 'application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json', 'application/vnd.kubernetes.protobuf', '*/*', 'text/html',
  'application/json;as=APIGroupDiscoveryList;v=v2;g=apidiscovery.k8s.io', ';;;,,,', 'application/json;as=Table', 'application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io',
  'application/yaml', `application/json;${'q=1;'.repeat(200)}`, 'application/json, application/vnd.kubernetes.protobuf',
];

const extraHeaders: fc.Arbitrary<Record<string, string>> = fc.oneof(
  { weight: 8, arbitrary: fc.constant({}) },
  {
    weight: 1,
    arbitrary: fc.constantFrom<Record<string, string>>(
      { traceparent: '00-garbage' },
      { traceparent: `00-${'0'.repeat(32)}-${'0'.repeat(16)}-01` },
      { traceparent: `00-${'f'.repeat(32)}-${'f'.repeat(16)}-ff`, tracestate: 'x'.repeat(600) },
      { 'impersonate-user': 'system:admin', 'impersonate-group': 'system:masters' },
      { 'x-forwarded-for': '1.2.3.4, ::1' },
      { 'content-encoding': 'gzip' },
      { 'x-remote-user': 'admin', 'x-remote-group': 'system:masters' },
      { expect: '100-continue' },
      { 'accept-encoding': 'gzip, br' },
      { 'x-large': 'x'.repeat(8000) },
    ),
  },
);

// ---------------------------------------------------------------------------------------------
// REST requests

const PREFIX: Readonly<Record<Resource, string>> = { configmaps: '/api/v1', namespaces: '/api/v1', nodes: '/api/v1' };

/** A request built from (method, resource, namespace, name, query): the bulk of the fuzz. */
const structuredRequest: fc.Arbitrary<RestFuzzRequest> = fc
  .constantFrom(...RESOURCES)
  .chain(memo((resource: Resource) =>
    fc.record({
      resource: fc.constant(resource),
      method: fc.oneof(
        { weight: 30, arbitrary: fc.constant('GET') },
        { weight: 25, arbitrary: fc.constant('POST') },
        { weight: 22, arbitrary: fc.constant('PUT') },
        { weight: 15, arbitrary: fc.constant('DELETE') },
        { weight: 3, arbitrary: fc.constantFrom('PATCH', 'HEAD', 'OPTIONS') },
      ),
      namespace: resource === 'configmaps' ? fc.oneof({ weight: 12, arbitrary: namespaceSegment }, { weight: 1, arbitrary: fc.constant('') }) : fc.constant(''),
      name: nameSegment(resource),
      collection: fc.nat({ max: 3 }).map((n) => n === 0),
      query,
      bodyWithType: bodyWithType(resource),
      deleteBody: fc.oneof(
        { weight: 4, arbitrary: fc.constant(undefined) },
        {
          weight: 1,
          arbitrary: fc
            .record({ base: fc.constant({ kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: 'Background', preconditions: { uid: 'x' } }), mutations: fc.array(mutation, { maxLength: 2 }) })
            .map(({ base, mutations }) => {
              const { value, done } = mutate(base, mutations);
              return { family: 'delete-options', label: `DeleteOptions ${done.join('; ')}`, bytes: () => bytesOf(JSON.stringify(value)) } satisfies Body;
            }),
        },
      ),
      authorization,
      accept: fc.oneof({ weight: 8, arbitrary: fc.constant('application/json') }, { weight: 1, arbitrary: fc.constant(undefined) }, { weight: 2, arbitrary: fc.constantFrom(...ACCEPTS) }),
      extra: extraHeaders,
      chunked: fc.nat({ max: 9 }).map((n) => n === 0),
    }),
  ))
  .map((r) => {
    // POST goes to the collection; the other verbs mostly to an object.
    const collection = r.method === 'POST' ? !r.collection : r.collection;
    const nsPart = r.namespace === '' ? '' : `/namespaces/${r.namespace}`;
    // A DELETE of a collection (deletecollection) would legitimately delete the sentinels: its
    // first fieldSelector (the one the server reads) selects them away.
    const protect = r.method === 'DELETE' && collection ? `fieldSelector=${encodeURIComponent(`metadata.name!=${r.resource === 'nodes' ? SENTINEL_NODE : SENTINEL}`)}` : '';
    const queryString = protect === '' ? r.query : `?${protect}${r.query === '' ? '' : `&${r.query.slice(1)}`}`;
    const path = `${PREFIX[r.resource]}${nsPart}/${r.resource}${collection ? '' : `/${r.name}`}${queryString}`;
    const headers: Record<string, string> = { ...r.extra };
    if (r.authorization !== undefined) headers.authorization = r.authorization;
    if (r.accept !== undefined) headers.accept = r.accept;
    let body: Body | undefined;
    if (r.method === 'POST' || r.method === 'PUT' || r.method === 'PATCH') {
      body = r.bodyWithType.body;
      if (r.bodyWithType.contentType !== undefined) headers['content-type'] = r.bodyWithType.contentType;
    } else if (r.method === 'DELETE' && r.deleteBody !== undefined) {
      body = r.deleteBody;
      headers['content-type'] = 'application/json';
    }
    const namespace = r.namespace === '' ? '' : decodeSegment(r.namespace);
    const target: Addressed | undefined =
      namespace === undefined ? undefined : { resource: r.resource, namespace, name: collection ? '' : decodeSegment(r.name) };
    const category = `${r.method} ${r.resource}${collection ? '' : '/{name}'}${body === undefined ? '' : ` ${body.family}`}`;
    return { api: 'rest', category, method: r.method, path, headers, body, chunked: r.chunked, target } satisfies RestFuzzRequest;
  });

const PATH_TOKENS = ['.', '..', '%2e', '%2E', '%2e%2e', '%2E%2E', '.%2e', '%2e.', '%2F', '%2f', '%2F..', '..%2F', '%00', '%', '%ZZ', 'watch', '%c0%ae', ';', '~', '%5C', '\\', 'namespaces', 'configmaps', 'status', '%2e%2e%2f%2e%2e', 'ÿ'];

interface PathEdit {
  op: 'insert' | 'replace' | 'encode' | 'upper';
  at: number;
  token: string;
}

/**
 * A structured request whose path is then edited: dot-segments and encodings inserted in any
 * position, a segment replaced by one (never removed: an empty segment could make a shorter,
 * legitimate path to a protected object), a segment percent-encoded or uppercased.
 */
const oddPathRequest: fc.Arbitrary<RestFuzzRequest> = fc
  .record({
    base: structuredRequest,
    edits: fc.array(
      fc.record({
        op: fc.constantFrom('insert', 'insert', 'replace', 'encode', 'upper') as fc.Arbitrary<PathEdit['op']>,
        at: fc.nat(),
        token: fc.constantFrom(...PATH_TOKENS),
      }),
      { minLength: 1, maxLength: 3 },
    ),
    emptyInsert: fc.nat({ max: 5 }).map((n) => n === 0),
    prefix: fc.constantFrom('', '', '', '/', '//', '/./', '/%2e/', 'https://localhost', 'http://other.example'),
    trailing: fc.constantFrom('', '', '/', '/.', '/..', '/%2e%2e', '#frag', '/..;', '%2f'),
  })
  .map(({ base, edits, emptyInsert, prefix, trailing }) => {
    const q = base.path.indexOf('?');
    const path = q < 0 ? base.path : base.path.slice(0, q);
    const queryPart = q < 0 ? '' : base.path.slice(q);
    const segments = path.split('/').slice(1);
    for (const e of edits) {
      const i = e.at % (segments.length + (e.op === 'insert' ? 1 : 0));
      if (e.op === 'insert') segments.splice(i, 0, e.token);
      else if (e.op === 'replace') segments[i] = e.token;
      else if (e.op === 'encode') segments[i] = (segments[i] ?? '').replace(/[a-z]/, (c) => `%${c.charCodeAt(0).toString(16)}`);
      else segments[i] = (segments[i] ?? '').replace(/[a-z]/g, (ch) => ch.toUpperCase());
    }
    if (emptyInsert) segments.splice((edits[0]?.at ?? 0) % segments.length, 0, '');
    const edited = `${prefix}/${segments.join('/')}${trailing}${queryPart}`;
    return { ...base, category: `${base.method} odd path`, path: edited, target: undefined } satisfies RestFuzzRequest;
  });

/** Methods the HTTP parser does not know, CONNECT, raw non-ASCII bytes in the request line. */
const oddMethodRequest: fc.Arbitrary<RestFuzzRequest> = fc
  .record({
    method: fc.constantFrom('FOO', 'PROPFIND', 'TRACE', 'CONNECT', 'M-SEARCH', 'PURGE', 'LINK', 'QUERY', 'MKCOL', 'SEARCH', 'BREW'),
    path: fc.constantFrom('/api/v1/namespaces/fuzz-a/configmaps', '/api/v1/namespaces/fuzz-a/configmaps/fz-1', '/api/v1/nodes', '/', '*', '/api/v1/namespaces/fuzz-a/configmaps/é'),
  })
  .map(({ method, path }) => ({ api: 'rest', category: `${method} odd method`, method, path, headers: { authorization: `Bearer ${ADMIN_TOKEN}` } }) satisfies RestFuzzRequest);

/** Paths outside the resources: discovery, health, things that do not exist. */
const otherPathRequest: fc.Arbitrary<RestFuzzRequest> = fc
  .record({
    method: fc.constantFrom('GET', 'GET', 'GET', 'POST', 'DELETE', 'PUT'),
    path: fc.constantFrom('/', '/api', '/apis', '/version', '/openapi/v2', '/openapi/v3', '/healthz', '/livez', '/readyz', '/metrics', '/api/v1', '/apis/apps/v1', '/api/v2', '/apis/', '/logs', '/api/v1/', '/api/v1/namespaces/fuzz-a', '/api/v1/watch', '/api/v1/watch/namespaces', '/apis/apidiscovery.k8s.io/v2'),
    accept: fc.constantFrom(undefined, 'application/json', ...ACCEPTS),
    authorization,
  })
  .map(({ method, path, accept, authorization: auth }) => {
    const headers: Record<string, string> = {};
    if (auth !== undefined) headers.authorization = auth;
    if (accept !== undefined) headers.accept = accept;
    // A DELETE of /api/v1/namespaces/fuzz-a would be a legitimate one: that path is only read.
    const safeMethod = path === '/api/v1/namespaces/fuzz-a' ? 'GET' : method;
    return { api: 'rest', category: `${safeMethod} other path`, method: safeMethod, path, headers } satisfies RestFuzzRequest;
  });

/** One REST request of the fuzz. */
export const restRequest: fc.Arbitrary<RestFuzzRequest> = fc.oneof(
  { weight: 70, arbitrary: structuredRequest },
  { weight: 20, arbitrary: oddPathRequest },
  { weight: 3, arbitrary: oddMethodRequest },
  { weight: 7, arbitrary: otherPathRequest },
);

// ---------------------------------------------------------------------------------------------
// gRPC requests

const oddRefString = fc.oneof(hostileString.filter((s) => s.length < 500), fc.constantFrom('..', '.', '/', 'a/b', `fuzz-a/${SENTINEL}`, `/${SENTINEL}`, '*'));

const grpcToken: fc.Arbitrary<string | undefined> = fc.oneof({ weight: 30, arbitrary: fc.constant(ADMIN_TOKEN) }, { weight: 1, arbitrary: fc.constantFrom(undefined, '', 'garbage', 'x'.repeat(4000)) });

const grpcRef = fc.constantFrom(...RESOURCES).chain(memo((resource: Resource) =>
  fc.record({
    resource: fc.constant(resource),
    ref: fc.record({
      group: fc.oneof({ weight: 20, arbitrary: fc.constant('') }, { weight: 1, arbitrary: fc.constantFrom('apps', 'core', '..', 'v1') }),
      version: fc.oneof({ weight: 20, arbitrary: fc.constantFrom('v1', '') }, { weight: 1, arbitrary: fc.constantFrom('v2', 'V1', 'v1beta1', '..', '%2e') }),
      resource: fc.oneof({ weight: 20, arbitrary: fc.constant<string>(resource) }, { weight: 1, arbitrary: fc.constantFrom('', 'ConfigMaps', 'configmap', 'secrets', '../configmaps', 'configmaps/status', 'namespaces/fuzz-a', 'nodes ') }),
      namespace:
        resource === 'configmaps'
          ? fc.oneof({ weight: 12, arbitrary: fc.constantFrom<string>(...FUZZ_NAMESPACES) }, { weight: 2, arbitrary: fc.constantFrom('', 'nowhere', '..', 'fuzz-a/x') }, { weight: 1, arbitrary: oddRefString })
          : fc.oneof({ weight: 12, arbitrary: fc.constant('') }, { weight: 1, arbitrary: fc.constantFrom('fuzz-a', '..') }),
      name: fc.oneof({ weight: 10, arbitrary: poolName(resource) }, { weight: 1, arbitrary: fc.constant('') }, { weight: 3, arbitrary: oddRefString.filter((s) => s !== SENTINEL) }),
    }),
  }),
));

const int64 = fc.oneof(fc.constantFrom('0', '1', '3', '500', '-1', '9223372036854775807', '-9223372036854775808'), fc.integer().map(String));

const listOptions = fc.record({
  labelSelector: fc.oneof(fc.constant(''), fc.constantFrom(...LABEL_SELECTOR_GARBAGE), hostileString),
  fieldSelector: fc.oneof(fc.constant(''), fc.constantFrom(...FIELD_SELECTOR_GARBAGE), hostileString),
  limit: int64,
  continue: fc.oneof(fc.constant(''), fc.constantFrom(...CONTINUE_GARBAGE)),
  resourceVersion: fc.oneof(fc.constant(''), fc.constantFrom(...(QUERY_VALUES.resourceVersion as string[]))),
  resourceVersionMatch: fc.oneof(fc.constant(''), fc.constantFrom(...(QUERY_VALUES.resourceVersionMatch as string[]))),
});

const watchOptions = fc.record({
  labelSelector: fc.oneof(fc.constant(''), fc.constantFrom(...LABEL_SELECTOR_GARBAGE)),
  fieldSelector: fc.oneof(fc.constant(''), fc.constantFrom(...FIELD_SELECTOR_GARBAGE)),
  resourceVersion: fc.oneof(fc.constant(''), fc.constantFrom(...(QUERY_VALUES.resourceVersion as string[]))),
  resourceVersionMatch: fc.oneof(fc.constant(''), fc.constantFrom(...(QUERY_VALUES.resourceVersionMatch as string[]))),
  allowWatchBookmarks: fc.boolean(),
  sendInitialEvents: fc.boolean(),
  timeoutSeconds: fc.constantFrom('-1', '0', '1', '2', '9223372036854775807'),
});

const typedGrpcRequest: fc.Arbitrary<GrpcFuzzRequest> = fc
  .record({
    method: fc.constantFrom<GrpcMethod>('Create', 'Create', 'Get', 'List', 'Update', 'Update', 'Delete', 'Watch'),
    ref: grpcRef,
    dryRun: fc.nat({ max: 7 }).map((n) => n === 0),
    resourceVersion: fc.oneof(fc.constant(''), fc.constantFrom(...(QUERY_VALUES.resourceVersion as string[]))),
    listOptions,
    watchOptions,
    preconditions: fc.record({ uid: fc.oneof(fc.constant(''), hostileString), resourceVersion: fc.oneof(fc.constant(''), fc.constantFrom('x', '-1', '1')) }),
    token: grpcToken,
  })
  .chain((r) =>
    (r.method === 'Create' || r.method === 'Update' ? fc.oneof({ weight: 6, arbitrary: jsonBody(r.ref.resource) }, { weight: 1, arbitrary: fc.constantFrom(...NON_OBJECTS).map((t): Body => ({ family: 'non-object', label: `non-object ${JSON.stringify(t)}`, bytes: () => bytesOf(t) })) }) : fc.constant(undefined)).map((body) => {
      const { ref, resource } = r.ref;
      let typed: Record<string, unknown>;
      switch (r.method) {
        case 'Create':
        case 'Update':
          typed = { ref, object: body, dryRun: r.dryRun };
          break;
        case 'Get':
          typed = { ref, resourceVersion: r.resourceVersion };
          break;
        case 'List':
          typed = { ref, options: r.listOptions };
          break;
        case 'Delete':
          typed = { ref, preconditions: r.preconditions, dryRun: r.dryRun };
          break;
        case 'Watch':
          typed = { ref, options: r.watchOptions };
          break;
      }
      const addressed = ref.resource === resource && ref.group === '' && (ref.version === 'v1' || ref.version === '');
      const category = `gRPC ${r.method} ${addressed ? resource : 'odd ref'}${body === undefined ? '' : ` ${body.family}`}`;
      return {
        api: 'grpc',
        category,
        method: r.method,
        message: { typed },
        token: r.token,
        target: addressed ? { resource, namespace: ref.namespace, name: r.method === 'List' || r.method === 'Create' || r.method === 'Watch' ? '' : ref.name } : undefined,
      } satisfies GrpcFuzzRequest;
    }),
  );

/** A ResourceRef, by hand: strings may be invalid UTF-8. */
function rawRef(resource: string, namespace: Buffer | string, name: Buffer | string): Buffer {
  const s = (no: number, v: Buffer | string) => lengthDelimited(no, typeof v === 'string' ? bytesOf(v) : v);
  return Buffer.concat([s(2, 'v1'), s(3, resource), s(4, namespace), s(5, name)]);
}

/** Malformed gRPC messages: random bytes, invalid UTF-8 in strings, wrong wire types, huge lengths, deep groups. */
const rawGrpcRequest: fc.Arbitrary<GrpcFuzzRequest> = fc
  .record({
    method: fc.constantFrom<GrpcMethod>('Create', 'Get', 'List', 'Update', 'Delete', 'Watch'),
    variant: fc.constantFrom('random', 'invalid-utf8', 'wrong-wire', 'huge-length', 'groups', 'repeated-ref', 'empty', 'truncated'),
    bytes: fc.uint8Array({ maxLength: 256 }),
    depth: fc.integer({ min: 10, max: 3000 }),
    pick: fc.nat(),
  })
  .map(({ method, variant, bytes, depth, pick }): GrpcFuzzRequest => {
    const bad = Buffer.from(INVALID_UTF8[pick % INVALID_UTF8.length] as number[]);
    const make = (): Buffer => {
      const object = lengthDelimited(2, bytesOf(JSON.stringify({ metadata: { name: 'fz-raw' } })));
      switch (variant) {
        case 'random':
          return Buffer.from(bytes);
        case 'invalid-utf8':
          return Buffer.concat([lengthDelimited(1, rawRef('configmaps', Buffer.concat([bytesOf('fuzz-'), bad]), Buffer.concat([bytesOf('fz-'), bad]))), object]);
        case 'wrong-wire':
          return Buffer.concat([Buffer.from([...field(1, 0), ...varint(pick)]), object]);
        case 'huge-length':
          return Buffer.concat([Buffer.from([...field(2, 2), ...varint(0xfffffff0)]), Buffer.from(bytes)]);
        case 'groups':
          return Buffer.concat([lengthDelimited(1, rawRef('configmaps', 'fuzz-a', 'fz-1')), Buffer.alloc(depth, Buffer.from(field(15, 3))), Buffer.alloc(depth, Buffer.from(field(15, 4)))]);
        case 'repeated-ref':
          return Buffer.concat([lengthDelimited(1, rawRef('configmaps', 'fuzz-a', 'fz-1')), lengthDelimited(1, rawRef('namespaces', '', 'fuzz-a')), object]);
        case 'empty':
          return Buffer.alloc(0);
        case 'truncated':
          return Buffer.concat([lengthDelimited(1, rawRef('configmaps', 'fuzz-a', 'fz-1')), object]).subarray(0, pick % 30);
      }
    };
    return { api: 'grpc', category: `gRPC ${method} raw ${variant}`, method, message: { raw: { family: 'raw', label: `raw ${variant}`, bytes: make } }, token: ADMIN_TOKEN };
  });

/** One typed gRPC call of the fuzz. */
export const grpcRequest: fc.Arbitrary<GrpcFuzzRequest> = fc.oneof({ weight: 9, arbitrary: typedGrpcRequest }, { weight: 1, arbitrary: rawGrpcRequest });

// ---------------------------------------------------------------------------------------------
// The big cases

/** Sizes of the big cases: deep nesting levels, the oversize body, the huge array. */
export interface BigSizes {
  depth: number;
  oversizeBytes: number;
  arrayLength: number;
}

const lazyJson = (label: string, value: () => unknown): Body => ({ family: 'big', label, bytes: () => bytesOf(JSON.stringify(value())) });

/** Stands for the deep part of a big body; replaced in the JSON text. */
const DEEP = '@@deep@@';

/**
 * `depth` levels of nesting as JSON text, as `nested` shapes them. Written as text because
 * JSON.stringify itself overflows the stack somewhere past 4,000 levels.
 */
export function nestedText(depth: number, shape: 'array' | 'object' | 'mixed', leaf = '"x"'): string {
  const open: string[] = [];
  const close: string[] = [];
  for (let i = depth - 1; i >= 0; i--) {
    const asArray = shape === 'array' || (shape === 'mixed' && i % 2 === 0);
    open.push(asArray ? '[' : '{"a":');
    close.push(asArray ? ']' : '}');
  }
  return `${open.join('')}${leaf}${close.reverse().join('')}`;
}

/** A body whose DEEP placeholder is `depth` levels of nesting. */
const deepJson = (label: string, depth: number, shape: 'array' | 'object' | 'mixed', value: () => unknown): Body => ({
  family: 'big',
  label,
  bytes: () => bytesOf(JSON.stringify(value()).replace(`"${DEEP}"`, nestedText(depth, shape))),
});

/**
 * A fixed list of requests too big to generate often: nesting `depth` deep in every place that
 * matters, bodies over the 3 MiB limit (sized and chunked), huge arrays, a selector of a
 * megabyte, over REST and gRPC.
 */
export function bigCases(sizes: BigSizes): FuzzRequest[] {
  const { depth, oversizeBytes, arrayLength } = sizes;
  const auth = { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json', accept: 'application/json' };
  const cm = (name: string, extra: Record<string, unknown>) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, ...extra });
  const post = (label: string, body: Body, path = '/api/v1/namespaces/fuzz-a/configmaps', chunked = false): RestFuzzRequest => ({
    api: 'rest',
    category: `POST configmaps big: ${label}`,
    method: 'POST',
    path,
    headers: { ...auth },
    body,
    chunked,
    target: { resource: 'configmaps', namespace: 'fuzz-a', name: '' },
  });
  const raw = (label: string, text: () => string): Body => ({ family: 'big', label, bytes: () => bytesOf(text()) });
  const grpc = (method: GrpcMethod, label: string, typed: Record<string, unknown>, target?: Addressed): GrpcFuzzRequest => ({
    api: 'grpc',
    category: `gRPC ${method} big: ${label}`,
    method,
    message: { typed },
    token: ADMIN_TOKEN,
    target,
  });
  const cmRef = (name: string) => ({ group: '', version: 'v1', resource: 'configmaps', namespace: 'fuzz-b', name });
  return [
    post(`data nested ${depth} deep (arrays)`, deepJson('deep arrays in data', depth, 'array', () => cm('fz-big-1', { data: { a: DEEP } }))),
    post(`labels nested ${depth} deep (objects)`, deepJson('deep objects in labels', depth, 'object', () => cm('fz-big-2', { metadata: { name: 'fz-big-2', labels: DEEP } }))),
    post(`unknown field nested ${depth} deep (mixed)`, deepJson('deep mixed in unknown field', depth, 'mixed', () => cm('fz-big-3', { extra: DEEP }))),
    post(`the whole body nested ${depth} deep`, raw('deep body', () => nestedText(depth, 'object', '1'))),
    post(`an array nested ${depth * 4} deep`, raw('deep array body', () => nestedText(depth * 4, 'array', ''))),
    post(`${oversizeBytes} bytes with Content-Length`, lazyJson('oversize', () => cm('fz-big-4', { data: { x: 'y'.repeat(oversizeBytes) } }))),
    post(`${oversizeBytes} bytes chunked`, lazyJson('oversize chunked', () => cm('fz-big-5', { data: { x: 'y'.repeat(oversizeBytes) } })), undefined, true),
    post(`just under 3 MiB`, lazyJson('just under the limit', () => cm('fz-big-6', { data: { x: 'y'.repeat(3 * 1024 * 1024 - 200) } }))),
    post(`array of ${arrayLength} in an unknown field`, lazyJson('huge array', () => cm('fz-big-7', { items: new Array<number>(arrayLength).fill(0) }))),
    post(`${arrayLength / 10} finalizers`, lazyJson('huge finalizers', () => cm('fz-big-8', { metadata: { name: 'fz-big-8', finalizers: new Array<string>(arrayLength / 10).fill('a/b') } }))),
    post(`${arrayLength / 10} labels`, lazyJson('huge labels', () => cm('fz-big-9', { metadata: { name: 'fz-big-9', labels: Object.fromEntries(Array.from({ length: arrayLength / 10 }, (_, i) => [`k${i}`, 'v'])) } }))),
    post(`${arrayLength / 10} data keys`, lazyJson('huge data', () => cm('fz-big-10', { data: Object.fromEntries(Array.from({ length: arrayLength / 10 }, (_, i) => [`k${i}`, 'v'])) }))),
    post(`protobuf, ${depth} nested groups`, { family: 'big', label: 'protobuf deep groups', bytes: () => protobufDeepGroups('ConfigMap', depth) }),
    post(`protobuf, ${depth} nested messages`, { family: 'big', label: 'protobuf deep messages', bytes: () => protobufDeepMessages('ConfigMap', depth) }),
    { ...post(`namespace spec nested ${depth} deep`, deepJson('deep namespace', depth, 'mixed', () => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'fzns-big' }, spec: DEEP })), '/api/v1/namespaces'), category: 'POST namespaces big: deep spec', target: { resource: 'namespaces', namespace: '', name: '' } },
    { ...post(`node status nested ${depth} deep`, deepJson('deep node', depth, 'array', () => ({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'fzno-big' }, status: { conditions: DEEP } })), '/api/v1/nodes'), category: 'POST nodes big: deep status', target: { resource: 'nodes', namespace: '', name: '' } },
    {
      api: 'rest',
      category: 'DELETE configmaps/{name} big: deep DeleteOptions',
      method: 'DELETE',
      path: '/api/v1/namespaces/fuzz-a/configmaps/fz-1',
      headers: { ...auth },
      body: deepJson('deep DeleteOptions', depth, 'object', () => ({ kind: 'DeleteOptions', apiVersion: 'v1', preconditions: DEEP })),
      target: { resource: 'configmaps', namespace: 'fuzz-a', name: 'fz-1' },
    },
    {
      api: 'rest',
      category: 'GET configmaps big: huge labelSelector',
      method: 'GET',
      path: `/api/v1/configmaps?labelSelector=${encodeSegment(`a in (${'b,'.repeat(2500)}c)`)}`,
      headers: { ...auth },
      target: { resource: 'configmaps', namespace: '', name: '' },
    },
    grpc('Create', `object nested ${depth} deep`, { ref: cmRef(''), object: deepJson('deep', depth, 'mixed', () => cm('fz-big-g1', { data: { a: DEEP } })) }, { resource: 'configmaps', namespace: 'fuzz-b', name: '' }),
    grpc('Create', `${oversizeBytes} bytes`, { ref: cmRef(''), object: lazyJson('oversize', () => cm('fz-big-g2', { data: { x: 'y'.repeat(oversizeBytes) } })) }, { resource: 'configmaps', namespace: 'fuzz-b', name: '' }),
    grpc('Create', `${oversizeBytes * 4} bytes`, { ref: cmRef(''), object: lazyJson('oversize x4', () => cm('fz-big-g3', { data: { x: 'y'.repeat(oversizeBytes * 4) } })) }, { resource: 'configmaps', namespace: 'fuzz-b', name: '' }),
    grpc('Update', `array of ${arrayLength}`, { ref: cmRef('fz-1'), object: lazyJson('huge array', () => cm('fz-1', { data: { a: 'b' }, items: new Array<number>(arrayLength).fill(0) })) }, { resource: 'configmaps', namespace: 'fuzz-b', name: 'fz-1' }),
    grpc('List', 'labelSelector of 1 MiB', { ref: cmRef(''), options: { labelSelector: `a in (${'b,'.repeat(512 * 1024)}c)` } }, { resource: 'configmaps', namespace: 'fuzz-b', name: '' }),
    {
      api: 'grpc',
      category: `gRPC Create big: ${depth} nested groups in the message`,
      method: 'Create',
      message: { raw: { family: 'big', label: 'deep groups', bytes: () => Buffer.concat([lengthDelimited(1, rawRef('configmaps', 'fuzz-a', 'fz-1')), Buffer.alloc(depth, Buffer.from(field(15, 3))), Buffer.alloc(depth, Buffer.from(field(15, 4)))]) } },
      token: ADMIN_TOKEN,
    },
  ];
}
