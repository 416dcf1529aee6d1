/**
 * YAML bodies and responses (`application/yaml`), as kube-apiserver's YAML serializer reads and
 * writes them: a body is converted to JSON (sigs.k8s.io/yaml over go-yaml v2) and then read as
 * a JSON body is, with the same checks; a response is its JSON object written as YAML.
 *
 * go-yaml v2 resolves plain scalars by YAML 1.1 rules, and kube follows it: `yes`, `on`, `y`
 * (any of their spellings) are true, `no`, `off`, `n` false, `0777` is octal, `1_000` is 1000,
 * and a key that resolves to a boolean or number becomes its text. Timestamps, `!!binary`,
 * sets and sexagesimal numbers are not resolved (go-yaml leaves them strings when decoding
 * into an interface). Merge keys (`<<`) merge. Only the first document is read. A key given
 * twice keeps its last value and is reported as kube's strict decoder reports it
 * (`line N: key "k" already set in map`), for fieldValidation to refuse, warn or drop.
 *
 * A hostile body cannot make more of itself than the edge admits: nesting is bounded before
 * the parser sees the text (a parser recursing into a megabyte of `[` costs seconds), aliases
 * are counted while the tree is built (shared, not copied), and the JSON they expand to is
 * measured without being built before it is, then checked and reserved as a JSON body's.
 *
 * Nor can it take more of the process than a JSON body would. The yaml package is slow and
 * large next to JSON.parse: measured on 2.3 MB bodies of many small nodes (a block map of
 * 230,000 keys, flow lists of 1.1 million numbers or 770,000 empty lists, quoted strings,
 * aliases, tags, comments), parsing took 2-10 s of synchronous CPU (one event loop: every
 * other request of the process waits) and grew the heap by 220-1,100 MB, some 300-1,150 bytes
 * for each node the pre-scan counts (a line, `:`, `,`, `[`, `{`, `- `, `? `, `*`, `!`, `"`, `'`);
 * a long string or block scalar costs little. So, before parsing:
 * - the cost reserved from the body budget is YAML_NODE_BYTES (1.25 KiB) per counted node
 *   plus four times the bytes, at or above every shape measured;
 * - a body of more than MAX_YAML_NODES counted nodes is refused, 413 in kube's words, which
 *   keeps one parse within about 0.3-0.7 s and 60 MB at worst (measured at 95,000 nodes: 0.7-
 *   1.5 s, 110 MB). A per-process limit of YAML decodes at once would bound nothing: the
 *   parse is synchronous, so one decode already holds the whole process while it runs.
 *   kubectl turns YAML into JSON before sending it, so bodies of this media type are
 *   hand-made, and 50,000 nodes is some 500 KB of YAML.
 * - a body that is a JSON object (`kubectl apply --server-side` sends its objects as JSON
 *   text under application/apply-patch+yaml: a big CRD's is megabytes) is read as JSON, which
 *   YAML reads the same; it is not held to the node limit. A key it gives twice is reported in
 *   go-yaml's words as for any YAML body; the text is read again for them only when JSON.parse
 *   kept fewer keys than it has (measured: +2-4% on a 1 KiB ConfigMap or a 1 MiB CRD; a 1 MiB
 *   map of 28,000 keys costs some 5 ms more, V8 enumerating its keys).
 */
import { isUtf8 } from 'node:buffer';
import YAML, { isAlias, isCollection, isMap, isPair, isScalar, LineCounter, type Document, type Tags } from 'yaml';
import { badRequest, StatusError } from '../../../../lib/errors.ts';
import { goQuote } from '../../../../lib/go-strconv.ts';
import { checkUntrustedJson, isPlainObject, MAX_JSON_DEPTH, parsedSizeEstimate, type KubeObject } from '../../../../lib/kube.ts';
import type { BodyDecoder, DecodedBody } from './decoder.ts';
import { decodeJsonObject } from './json.ts';

export const YAML_MEDIA_TYPE = 'application/yaml';
/** Server-side apply's patch type: YAML (or JSON) too. */
export const APPLY_PATCH_YAML_MEDIA_TYPE = 'application/apply-patch+yaml';

/** How many times aliases may be expanded (the yaml package's count, as go-yaml bounds its ratio). */
const MAX_ALIAS_COUNT = 100;
/** The most JSON a YAML body may convert to: twice kube's body limit (3 MiB). */
export const MAX_CONVERTED_BYTES = 2 * 3 * 1024 * 1024;
/** The most nodes (as yamlNodes counts them) a YAML body may have: see the top of this file. */
export const MAX_YAML_NODES = 50_000;
/** What the parse takes in memory for each node yamlNodes counts (measured: 300-1,150 bytes). */
export const YAML_NODE_BYTES = 1280;

/** The YAML 1.1 resolution of go-yaml v2: tags it does not resolve into an interface are left out (their scalars stay strings). */
function goYamlTags(tags: Tags): Tags {
  // Explicitly tagged, they resolve as go-yaml gives them to an interface: the decoded bytes as a string, the text of a timestamp.
  const binary = { tag: 'tag:yaml.org,2002:binary', resolve: (s: string) => Buffer.from(s.replace(/\s/g, ''), 'base64').toString('utf8') };
  const timestamp = { tag: 'tag:yaml.org,2002:timestamp', resolve: (s: string) => s };
  const kept = tags.filter((t) => {
    const tag = typeof t === 'string' ? t : t.tag;
    const format = typeof t === 'string' ? undefined : t.format;
    if (format === 'TIME') return false;
    return !['tag:yaml.org,2002:timestamp', 'tag:yaml.org,2002:binary', 'tag:yaml.org,2002:omap', 'tag:yaml.org,2002:pairs', 'tag:yaml.org,2002:set'].includes(tag);
  });
  return [...kept, binary, timestamp];
}

function conversionError(detail: string): StatusError {
  return badRequest(`error converting YAML to JSON: ${detail}`);
}

function tooDeep(): StatusError {
  return badRequest(`the body of the request is nested too deeply: at most ${MAX_JSON_DEPTH} levels of objects and arrays are allowed`);
}

/**
 * An upper bound of how deeply `text` nests, found without parsing: flow brackets still open
 * (counted everywhere, strings included: only unbalanced ones add up), plus twice the block
 * nesting a line can reach (its indentation and the compact `- `, `? `, `: ` it starts with;
 * a block sequence may sit at its parent mapping's indentation, hence twice).
 */
export function yamlNestingBound(text: string): number {
  let flow = 0;
  let maxFlow = 0;
  let maxBlock = 0;
  let lineStart = true;
  let column = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x0a) {
      lineStart = true;
      column = 0;
      continue;
    }
    if (lineStart) {
      const next = text.charCodeAt(i + 1);
      if (c === 0x20) column++;
      else if ((c === 0x2d || c === 0x3f || c === 0x3a) && (next === 0x20 || next === 0x0a || Number.isNaN(next))) column += 2;
      else {
        lineStart = false;
        if (column > maxBlock) maxBlock = column;
      }
    }
    if (c === 0x5b || c === 0x7b) {
      if (++flow > maxFlow) maxFlow = flow;
    } else if ((c === 0x5d || c === 0x7d) && flow > 0) flow--;
  }
  if (lineStart && column > maxBlock) maxBlock = column;
  return maxFlow + 2 * maxBlock + 1;
}

/**
 * About how many nodes the parser makes of `text`, counted without parsing: a line, `:`, `,`,
 * `[`, `{`, `*` (an alias), `!` (a tag), `"` and `'` (a quoted scalar's ends), and `-` or `?`
 * followed by a space or a line's end (a block entry or key). An upper bound of the parser's
 * work rather than an exact count.
 */
export function yamlNodes(text: string): number {
  let nodes = 1;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x0a || c === 0x3a || c === 0x2c || c === 0x5b || c === 0x7b || c === 0x2a || c === 0x21 || c === 0x22 || c === 0x27) nodes++;
    else if (c === 0x2d || c === 0x3f) {
      const next = text.charCodeAt(i + 1);
      if (next === 0x20 || next === 0x0a || Number.isNaN(next)) nodes++;
    }
  }
  return nodes;
}

/** What parsing `text` takes in memory, about (see the top of this file). */
export function yamlParseEstimate(text: string, nodes = yamlNodes(text)): number {
  return text.length * 4 + nodes * YAML_NODE_BYTES;
}

/** kube's 413 for a YAML body of more nodes than MAX_YAML_NODES. */
function tooManyNodes(): StatusError {
  return new StatusError('RequestEntityTooLarge', `Request entity too large: limit is ${MAX_YAML_NODES} YAML nodes`);
}

/**
 * Finds, in a parsed document, what go-yaml's decoding refuses or reports: keys given twice in
 * one mapping (reported, as strict decoding does), collection keys and null keys (refused).
 * The document's nesting is already bounded, so walking it recursively is safe.
 */
function checkKeys(doc: Document, lines: LineCounter): string[] {
  const duplicates: string[] = [];
  const walk = (node: unknown): void => {
    if (isMap(node)) {
      const seen = new Set<unknown>();
      for (const pair of node.items) {
        const key = pair.key;
        if (isCollection(key)) throw conversionError('yaml: invalid map key');
        if (key === null || (isScalar(key) && key.value === null)) throw conversionError('unsupported map key of type: <nil>');
        if (isScalar(key)) {
          const value = key.value;
          if (typeof value === 'string' && value === '<<' && key.source === '<<') continue;
          const repeated = seen.has(value);
          seen.add(value);
          // go-yaml decodes the value first and then finds its key set already (setMapIndex),
          // naming the line the value starts on (the key's when the value is empty).
          walk(pair.value);
          if (repeated) {
            const empty = isScalar(pair.value) && pair.value.value === null && pair.value.source === '';
            const range = pair.value !== null && !empty && (isScalar(pair.value) || isCollection(pair.value) || isAlias(pair.value)) ? pair.value.range : key.range;
            const line = range === undefined || range === null ? 0 : lines.linePos(range[0]).line;
            duplicates.push(`line ${line}: key ${typeof value === 'string' ? goQuote(value) : String(value)} already set in map`);
          }
          continue;
        }
        walk(pair.value);
      }
    } else if (isCollection(node)) {
      for (const item of node.items) walk(isPair(item) ? item.value : item);
    } else if (isAlias(node)) {
      // Its anchor was walked where it stands.
    }
  };
  walk(doc.contents);
  return duplicates;
}

/**
 * The JSON a converted value stringifies to, measured without building it: its size (each
 * shared subtree counted every time it is referenced, as JSON repeats it) and its depth.
 * Refuses cycles (an anchor containing its own alias), numbers JSON cannot carry, and values
 * that are too deep or too large, each before anything is expanded.
 */
export function measureConverted(root: unknown): { bytes: number; depth: number } {
  const done = new Map<object, { bytes: number; depth: number }>();
  const open = new Set<object>();
  const scalarBytes = (v: unknown): number => {
    if (typeof v === 'string') return v.length + 2;
    if (typeof v === 'number') {
      if (!Number.isFinite(v)) throw conversionError(`json: unsupported value: ${Number.isNaN(v) ? 'NaN' : v > 0 ? '+Inf' : '-Inf'}`);
      return String(v).length;
    }
    return 5; // true, false, null
  };
  interface Frame {
    value: object;
    children: unknown[];
    next: number;
    bytes: number;
    depth: number;
  }
  const frame = (value: object): Frame => {
    if (open.has(value)) throw conversionError('yaml: anchor value contains itself');
    open.add(value);
    if (open.size > MAX_JSON_DEPTH) throw tooDeep();
    const entries = Array.isArray(value) ? value : Object.entries(value as Record<string, unknown>);
    const keys = Array.isArray(value) ? 0 : (entries as [string, unknown][]).reduce((n, [k]) => n + k.length + 3, 0);
    const children = Array.isArray(value) ? entries : (entries as [string, unknown][]).map(([, v]) => v);
    return { value, children, next: 0, bytes: 2 + keys + children.length, depth: 1 };
  };
  if (typeof root !== 'object' || root === null) return { bytes: scalarBytes(root), depth: 0 };
  const stack: Frame[] = [frame(root)];
  let result = { bytes: 0, depth: 0 };
  while (stack.length > 0) {
    const top = stack[stack.length - 1] as Frame;
    if (top.next < top.children.length) {
      const child = top.children[top.next++];
      if (typeof child !== 'object' || child === null) {
        top.bytes += scalarBytes(child);
        continue;
      }
      const known = done.get(child);
      if (known !== undefined) {
        top.bytes += known.bytes;
        top.depth = Math.max(top.depth, known.depth + 1);
      } else {
        stack.push(frame(child));
      }
    } else {
      stack.pop();
      open.delete(top.value);
      const measured = { bytes: top.bytes, depth: top.depth };
      if (measured.bytes > MAX_CONVERTED_BYTES) {
        throw new StatusError('RequestEntityTooLarge', `Request entity too large: the YAML body converts to more than ${MAX_CONVERTED_BYTES} bytes of JSON`);
      }
      if (measured.depth > MAX_JSON_DEPTH) throw tooDeep();
      done.set(top.value, measured);
      const parent = stack[stack.length - 1];
      if (parent !== undefined) {
        parent.bytes += measured.bytes;
        parent.depth = Math.max(parent.depth, measured.depth + 1);
      }
      result = measured;
    }
  }
  return result;
}

/** Converts a YAML body to the JSON kube would read from it, and reports its duplicate keys. */
export function yamlToJson(body: Buffer, reserve: (bytes: number) => void = () => {}): { json: Buffer; duplicates: string[] } {
  if (!isUtf8(body)) throw badRequest('the body of the request is not valid UTF-8');
  const text = body.toString('utf8');
  if (yamlNestingBound(text) > 2 * MAX_JSON_DEPTH) throw tooDeep();
  // The parser's time and tree grow with its nodes, far past the text: bounded, then claimed first.
  const nodes = yamlNodes(text);
  if (nodes > MAX_YAML_NODES) throw tooManyNodes();
  reserve(yamlParseEstimate(text, nodes));
  const lines = new LineCounter();
  const options = { schema: 'yaml-1.1', customTags: goYamlTags, merge: true, prettyErrors: false, uniqueKeys: false, intAsBigInt: false, lineCounter: lines } as const;
  let doc: Document | undefined;
  try {
    doc = YAML.parseAllDocuments(text, options)[0] as Document | undefined;
  } catch (err) {
    if (err instanceof RangeError) throw tooDeep();
    throw err;
  }
  if (doc === undefined) return { json: Buffer.from('null'), duplicates: [] };
  const [error] = doc.errors;
  if (error !== undefined) {
    if (/call stack/i.test(error.message)) throw tooDeep();
    const line = lines.linePos(error.pos[0]).line;
    // The parser's own words, without the excerpt of the body it can add.
    throw conversionError(`yaml: line ${line}: ${error.message.split('\n')[0]?.slice(0, 200) ?? error.code}`);
  }
  const duplicates = checkKeys(doc, lines);
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (err) {
    if (err instanceof ReferenceError) throw conversionError('yaml: document contains excessive aliasing');
    if (err instanceof RangeError) throw tooDeep();
    throw err;
  }
  measureConverted(value);
  return { json: Buffer.from(JSON.stringify(value)), duplicates };
}

/** Keys of every object in `value`, counted without recursion (what JSON.parse kept of scanJson's count). */
function parsedKeys(value: unknown): number {
  let n = 0;
  const pending: unknown[] = [value];
  while (pending.length > 0) {
    const v = pending.pop();
    if (Array.isArray(v)) {
      for (const element of v) if (typeof element === 'object' && element !== null) pending.push(element);
    } else if (typeof v === 'object' && v !== null) {
      for (const key in v) {
        n++;
        const child = (v as Record<string, unknown>)[key];
        if (typeof child === 'object' && child !== null) pending.push(child);
      }
    }
  }
  return n;
}

/** Where a JSON string starting at `start` (its opening quote) ends: just past its closing quote. */
function jsonStringEnd(text: string, start: number): number {
  for (let i = start + 1; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x5c) i++;
    else if (c === 0x22) return i + 1;
  }
  return text.length;
}

/** Line breaks YAML counts inside a JSON string (JSON allows them unescaped there): NEL, LS, PS. */
function breaksIn(text: string, start: number, end: number): number {
  let n = 0;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x85 || c === 0x2028 || c === 0x2029) n++;
  }
  return n;
}

/**
 * The keys `text` (valid JSON: JSON.parse read it) gives twice in one object, as go-yaml's
 * strict decoding reports them when it reads the JSON as YAML (sigs.k8s.io/yaml):
 * `line N: key "k" already set in map`, N the line the repeated key's value starts on, in the
 * order its depth-first decoding meets them (what a value holds before the key it is under).
 */
export function jsonDuplicateKeys(text: string): string[] {
  const found: string[] = [];
  // One open object (keys seen, the key whose value is read, the line that value starts on) or array (keys undefined).
  const stack: { keys: Set<string> | undefined; key: string | undefined; valueLine: number }[] = [];
  let line = 1;
  // A value ended: in an object, its key is checked against the keys before it.
  const ended = (): void => {
    const top = stack[stack.length - 1];
    if (top?.keys === undefined || top.key === undefined) return;
    if (top.keys.has(top.key)) found.push(`line ${top.valueLine}: key ${goQuote(top.key)} already set in map`);
    else top.keys.add(top.key);
    top.key = undefined;
  };
  for (let i = 0; i < text.length; ) {
    const c = text.charCodeAt(i);
    if (c === 0x0a || c === 0x0d) {
      line++;
      i += c === 0x0d && text.charCodeAt(i + 1) === 0x0a ? 2 : 1;
      continue;
    }
    if (c === 0x20 || c === 0x09 || c === 0x2c || c === 0x3a) {
      i++;
      continue;
    }
    if (c === 0x7d || c === 0x5d) {
      stack.pop();
      i++;
      ended();
      continue;
    }
    const top = stack[stack.length - 1];
    if (top?.keys !== undefined && top.key === undefined) {
      // An object's key (a string).
      const end = jsonStringEnd(text, i);
      const raw = text.slice(i, end);
      top.key = raw.includes('\\') ? (JSON.parse(raw) as string) : raw.slice(1, -1);
      line += breaksIn(text, i, end);
      i = end;
      continue;
    }
    if (top !== undefined) top.valueLine = line;
    if (c === 0x7b || c === 0x5b) {
      stack.push({ keys: c === 0x7b ? new Set() : undefined, key: undefined, valueLine: 0 });
      i++;
      continue;
    }
    if (c === 0x22) {
      const end = jsonStringEnd(text, i);
      line += breaksIn(text, i, end);
      i = end;
    } else {
      while (i < text.length && !' \t\r\n,:]}'.includes(text.charAt(i))) i++;
    }
    ended();
  }
  return found;
}

/**
 * A body that is a JSON object decoded as the JSON path decodes it (JSON is YAML, read the
 * same); undefined when it is not JSON (the YAML parser then reads it). A key given twice is
 * reported as the YAML path reports it (go-yaml reads the JSON text), and looked for only when
 * JSON.parse kept fewer keys than the text has.
 */
function decodeJsonText(body: Buffer, reserve: (bytes: number) => void): DecodedBody | undefined {
  let i = 0;
  while (i < body.length && (body[i] === 0x20 || body[i] === 0x0a || body[i] === 0x0d || body[i] === 0x09)) i++;
  if (body[i] !== 0x7b) return undefined;
  const shape = checkUntrustedJson(body);
  reserve(parsedSizeEstimate(body.length, shape));
  const text = body.toString('utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined; // a flow mapping, `{a: 1}`: YAML
  }
  if (!isPlainObject(parsed)) return undefined;
  if (parsedKeys(parsed) === shape.keys) return { object: parsed as KubeObject, strictErrors: [], source: { bytes: body, keys: shape.keys } };
  const duplicates = jsonDuplicateKeys(text);
  return { object: parsed as KubeObject, strictErrors: duplicates.length === 0 ? [] : [unmarshalErrors(duplicates)] };
}

/** go-yaml's strict errors, reported together as one error of several lines. */
function unmarshalErrors(findings: readonly string[]): string {
  return `yaml: unmarshal errors:\n  ${findings.join('\n  ')}`;
}

/**
 * Decodes a YAML body: converted to JSON, then decoded exactly as a JSON body is; a body that
 * is JSON already is read as JSON.
 */
export function decodeYamlObject(body: Buffer, reserve: (bytes: number) => void): DecodedBody {
  const asJson = decodeJsonText(body, reserve);
  if (asJson !== undefined) return asJson;
  const { json, duplicates } = yamlToJson(body, reserve);
  const decoded = decodeJsonObject(json, reserve);
  return { object: decoded.object, strictErrors: duplicates.length === 0 ? [] : [unmarshalErrors(duplicates)] };
}

export const YAML_DECODER: BodyDecoder = { mediaType: YAML_MEDIA_TYPE, decode: decodeYamlObject };

/**
 * An object as YAML, as kube's serializer writes it (its JSON, then go-yaml's Marshal): keys
 * sorted, strings that would read back as another type (`"on"`, `"1"`, timestamps) quoted, no
 * anchors for repeated values.
 */
export function encodeYaml(value: unknown): Buffer {
  // The whole YAML 1.1 schema: a string that looks like a timestamp or a sexagesimal is quoted, as go-yaml quotes it.
  return Buffer.from(YAML.stringify(value, { schema: 'yaml-1.1', sortMapEntries: true, aliasDuplicateObjects: false, lineWidth: 0 }));
}
