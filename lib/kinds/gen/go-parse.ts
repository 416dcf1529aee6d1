/**
 * A reader of the Go declarations the kind generator needs (scripts/gen-kinds.ts): type
 * declarations (structs with their fields, tags and marker comments; named types), `const`
 * specs of a named type with a string value (enum values), and imports. Function bodies and
 * `var` declarations are skipped. It reads gofmt'ed API packages, not arbitrary Go: a syntax it
 * does not know throws with the line.
 *
 * Comments: a declaration's markers are the `// +...` lines of its doc comment and, for a
 * type, of the comment group before that one (the markers kube writes above a blank line), as
 * gengo reads them.
 */
import { StatusError } from '../../errors.ts';

/** A Go type expression. Named types carry the package alias as written (`metav1`), if any. */
export type GoType =
  | { readonly kind: 'named'; readonly pkg?: string; readonly name: string }
  | { readonly kind: 'pointer'; readonly elem: GoType }
  | { readonly kind: 'slice'; readonly elem: GoType }
  | { readonly kind: 'array'; readonly len: string; readonly elem: GoType }
  | { readonly kind: 'map'; readonly key: GoType; readonly value: GoType }
  | { readonly kind: 'struct'; readonly fields: readonly GoField[] }
  | { readonly kind: 'interface' }
  | { readonly kind: 'func' };

export interface GoField {
  /** The field name; for an embedded field, the type's name. */
  readonly name: string;
  readonly embedded: boolean;
  readonly type: GoType;
  /** The raw struct tag (without backquotes), '' when none. */
  readonly tag: string;
  /** The `+...` marker lines of the field's doc comment, without `//` and trimmed. */
  readonly markers: readonly string[];
  readonly line: number;
}

export interface GoTypeDecl {
  readonly name: string;
  readonly type: GoType;
  /** `type A = B` */
  readonly alias: boolean;
  readonly markers: readonly string[];
  readonly line: number;
}

export interface GoConst {
  readonly name: string;
  /** The declared type's name as written (`ServiceType`, `metav1.X`), '' when untyped. */
  readonly type: string;
  /** The value when it is a single string literal. */
  readonly value?: string;
}

export interface GoFile {
  readonly packageName: string;
  /** alias -> import path (the alias is the last path element when not given). */
  readonly imports: ReadonlyMap<string, string>;
  readonly types: readonly GoTypeDecl[];
  readonly consts: readonly GoConst[];
  /** The `+...` markers of comments before the package clause (e.g. `+groupName=`). */
  readonly packageMarkers: readonly string[];
}

/** `formatGoType` writes a type expression back as Go source (`[]metav1.Condition`). */
export function formatGoType(t: GoType): string {
  switch (t.kind) {
    case 'named':
      return t.pkg === undefined ? t.name : `${t.pkg}.${t.name}`;
    case 'pointer':
      return `*${formatGoType(t.elem)}`;
    case 'slice':
      return `[]${formatGoType(t.elem)}`;
    case 'array':
      return `[${t.len}]${formatGoType(t.elem)}`;
    case 'map':
      return `map[${formatGoType(t.key)}]${formatGoType(t.value)}`;
    case 'struct':
      return 'struct{...}';
    case 'interface':
      return 'interface{}';
    case 'func':
      return 'func(...)';
  }
}

/**
 * Parses a struct tag as reflect.StructTag.Get does: `json:"name,omitempty" protobuf:"..."`.
 * Returns key -> value.
 */
export function parseStructTag(tag: string): Map<string, string> {
  const out = new Map<string, string>();
  const re = /\s*([^\s:"]+):"((?:[^"\\]|\\.)*)"/y;
  let m: RegExpExecArray | null;
  while ((m = re.exec(tag)) !== null) {
    if (!out.has(m[1]!)) out.set(m[1]!, JSON.parse(`"${m[2]!}"`) as string);
  }
  return out;
}

// ---- tokens ----

interface Token {
  readonly t: 'ident' | 'string' | 'raw' | 'number' | 'char' | 'op' | 'nl' | 'eof';
  readonly v: string;
  readonly line: number;
}

interface Scanned {
  readonly tokens: Token[];
  /** line -> the text of a `//` comment that is alone on its line. */
  readonly comments: Map<number, string>;
}

function syntaxError(file: string, line: number, what: string): StatusError {
  return new StatusError('InternalError', `${file}:${line}: ${what}`);
}

function scan(src: string, file: string): Scanned {
  const tokens: Token[] = [];
  const comments = new Map<number, string>();
  let line = 1;
  let i = 0;
  let lineHasToken = false;
  const push = (t: Token['t'], v: string): void => {
    tokens.push({ t, v, line });
    lineHasToken = true;
  };
  while (i < src.length) {
    const c = src[i]!;
    if (c === '\n') {
      tokens.push({ t: 'nl', v: '\n', line });
      line++;
      lineHasToken = false;
      i++;
    } else if (c === ' ' || c === '\t' || c === '\r') {
      i++;
    } else if (src.startsWith('//', i)) {
      const end = src.indexOf('\n', i);
      const text = src.slice(i + 2, end < 0 ? src.length : end);
      if (!lineHasToken) comments.set(line, text);
      i = end < 0 ? src.length : end;
    } else if (src.startsWith('/*', i)) {
      const end = src.indexOf('*/', i + 2);
      if (end < 0) throw syntaxError(file, line, 'unterminated comment');
      for (let k = i; k < end; k++) if (src[k] === '\n') line++;
      i = end + 2;
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /[A-Za-z_0-9]+/y;
      m.lastIndex = i;
      const v = m.exec(src)![0];
      push('ident', v);
      i += v.length;
    } else if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(src[i + 1] ?? ''))) {
      const m = /[0-9A-Za-z_.]+/y;
      m.lastIndex = i;
      const v = m.exec(src)![0];
      push('number', v);
      i += v.length;
    } else if (c === '"') {
      const m = /"(?:[^"\\\n]|\\.)*"/y;
      m.lastIndex = i;
      const r = m.exec(src);
      if (r === null) throw syntaxError(file, line, 'unterminated string');
      push('string', r[0]);
      i += r[0].length;
    } else if (c === '`') {
      const end = src.indexOf('`', i + 1);
      if (end < 0) throw syntaxError(file, line, 'unterminated raw string');
      push('raw', src.slice(i + 1, end));
      for (let k = i; k < end; k++) if (src[k] === '\n') line++;
      i = end + 1;
    } else if (c === "'") {
      const m = /'(?:[^'\\\n]|\\.)+'/y;
      m.lastIndex = i;
      const r = m.exec(src);
      if (r === null) throw syntaxError(file, line, 'bad rune literal');
      push('char', r[0]);
      i += r[0].length;
    } else {
      const ops = ['...', '<<=', '>>=', '&^=', '&&', '||', '<-', '++', '--', '==', '!=', '<=', '>=', ':=', '+=', '-=', '*=', '/=', '%=', '&=', '|=', '^=', '<<', '>>', '&^'];
      const op = ops.find((o) => src.startsWith(o, i)) ?? c;
      push('op', op);
      i += op.length;
    }
  }
  tokens.push({ t: 'eof', v: '', line });
  return { tokens, comments };
}

// ---- declarations ----

function markersOf(lines: string[]): string[] {
  return lines.map((l) => l.trim()).filter((l) => l.startsWith('+'));
}

/** Parses one Go source file. Throws StatusError (InternalError) naming the line it cannot read. */
export function parseGoFile(src: string, file = '<go>'): GoFile {
  const { tokens, comments } = scan(src, file);
  let p = 0;
  const peek = (k = 0): Token => tokens[Math.min(p + k, tokens.length - 1)]!;
  const next = (): Token => tokens[p++]!;
  const fail = (what: string): never => {
    throw syntaxError(file, peek().line, `${what} (at ${JSON.stringify(peek().v)})`);
  };
  const expect = (v: string): Token => {
    if (peek().v !== v) fail(`expected ${JSON.stringify(v)}`);
    return next();
  };
  const skipNl = (): void => {
    while (peek().t === 'nl' || peek().v === ';') p++;
  };

  /** The comment group ending on the line before `line`, and its first line. */
  const groupBefore = (line: number): { lines: string[]; start: number } => {
    const lines: string[] = [];
    let l = line - 1;
    while (comments.has(l)) {
      lines.unshift(comments.get(l)!);
      l--;
    }
    return { lines, start: l + 1 };
  };
  const docMarkers = (line: number, second: boolean): string[] => {
    const first = groupBefore(line);
    const out = markersOf(first.lines);
    if (second) out.unshift(...markersOf(groupBefore(first.start - 1).lines));
    return out;
  };

  /** Skips balanced brackets starting at an opening one. */
  const skipBalanced = (): void => {
    const open = next().v;
    const close = open === '(' ? ')' : open === '[' ? ']' : '}';
    let depth = 1;
    while (depth > 0) {
      const t = next();
      if (t.t === 'eof') fail(`unbalanced ${open}`);
      if (t.v === open) depth++;
      else if (t.v === close) depth--;
    }
  };

  const parseType = (): GoType => {
    const t = peek();
    if (t.v === '*') {
      next();
      return { kind: 'pointer', elem: parseType() };
    }
    if (t.v === '[') {
      next();
      if (peek().v === ']') {
        next();
        return { kind: 'slice', elem: parseType() };
      }
      const len = next().v;
      expect(']');
      return { kind: 'array', len, elem: parseType() };
    }
    if (t.v === '(') {
      next();
      const inner = parseType();
      expect(')');
      return inner;
    }
    if (t.t !== 'ident') fail('expected a type');
    if (t.v === 'map') {
      next();
      expect('[');
      const key = parseType();
      expect(']');
      return { kind: 'map', key, value: parseType() };
    }
    if (t.v === 'struct') {
      next();
      return { kind: 'struct', fields: parseStructBody() };
    }
    if (t.v === 'interface') {
      next();
      if (peek().v !== '{') fail('expected {');
      skipBalanced();
      return { kind: 'interface' };
    }
    if (t.v === 'func') {
      next();
      if (peek().v === '(') skipBalanced();
      if (peek().v === '(') skipBalanced();
      else if (peek().t === 'ident' || peek().v === '*' || peek().v === '[') parseType();
      return { kind: 'func' };
    }
    next();
    if (peek().v === '.' && peek(1).t === 'ident') {
      next();
      return { kind: 'named', pkg: t.v, name: next().v };
    }
    return { kind: 'named', name: t.v };
  };

  const parseStructBody = (): GoField[] => {
    expect('{');
    const fields: GoField[] = [];
    for (;;) {
      skipNl();
      if (peek().v === '}') {
        next();
        return fields;
      }
      const line = peek().line;
      const markers = docMarkers(line, false);
      let names: string[];
      let type: GoType;
      let embedded = false;
      const after = peek(1);
      const isEmbedded =
        peek().v === '*' ||
        (peek().t === 'ident' && (after.v === '.' || after.t === 'nl' || after.t === 'raw' || after.t === 'string' || after.v === '}' || after.v === ';'));
      if (isEmbedded) {
        type = parseType();
        const base = type.kind === 'pointer' ? type.elem : type;
        if (base.kind !== 'named') fail('expected an embedded type name');
        names = [(base as { name: string }).name];
        embedded = true;
      } else {
        names = [next().v];
        while (peek().v === ',') {
          next();
          names.push(next().v);
        }
        type = parseType();
      }
      let tag = '';
      if (peek().t === 'raw' || peek().t === 'string') {
        const t = next();
        tag = t.t === 'raw' ? t.v : (JSON.parse(t.v) as string);
      }
      if (peek().t !== 'nl' && peek().v !== ';' && peek().v !== '}') fail('expected the end of a field');
      for (const name of names) fields.push({ name, embedded, type, tag, markers, line });
    }
  };

  const types: GoTypeDecl[] = [];
  const consts: GoConst[] = [];
  const imports = new Map<string, string>();
  let packageName = '';
  let packageMarkers: string[] = [];

  const parseTypeSpec = (grouped: boolean): void => {
    const nameTok = next();
    if (nameTok.t !== 'ident') fail('expected a type name');
    if (peek().v === '[' && peek(1).t === 'ident' && peek(2).t === 'ident') fail('generic types are not supported');
    let alias = false;
    if (peek().v === '=') {
      next();
      alias = true;
    }
    const type = parseType();
    // In a group, the spec's own doc comment; the group's markers apply to a lone spec only.
    types.push({ name: nameTok.v, type, alias, markers: docMarkers(nameTok.line, !grouped), line: nameTok.line });
  };

  /** Skips to the end of the current spec: the next newline outside brackets. */
  const skipToLineEnd = (): void => {
    while (peek().t !== 'nl' && peek().t !== 'eof' && peek().v !== ';' && peek().v !== ')') {
      if (peek().v === '(' || peek().v === '[' || peek().v === '{') skipBalanced();
      else next();
    }
  };

  const parseConstSpec = (): void => {
    const names = [next().v];
    while (peek().v === ',') {
      next();
      names.push(next().v);
    }
    let type = '';
    if (peek().t === 'ident') {
      const t = parseType();
      type = formatGoType(t);
    }
    let value: string | undefined;
    if (peek().v === '=') {
      next();
      if (peek().t === 'string' && (peek(1).t === 'nl' || peek(1).v === ';' || peek(1).v === ')')) {
        value = JSON.parse(next().v) as string;
      } else if (peek().t === 'raw' && (peek(1).t === 'nl' || peek(1).v === ')')) {
        value = next().v;
      } else {
        skipToLineEnd();
      }
    }
    for (const name of names) consts.push(value === undefined ? { name, type } : { name, type, value });
  };

  const parseImportSpec = (): void => {
    let alias: string | undefined;
    if (peek().t === 'ident' || peek().v === '.' || peek().v === '_') alias = next().v;
    const path = JSON.parse(next().v) as string;
    imports.set(alias ?? path.slice(path.lastIndexOf('/') + 1), path);
  };

  const group = (spec: () => void): void => {
    if (peek().v === '(') {
      next();
      for (;;) {
        skipNl();
        if (peek().v === ')') {
          next();
          return;
        }
        spec();
      }
    }
    spec();
  };

  for (;;) {
    skipNl();
    const t = peek();
    if (t.t === 'eof') break;
    if (t.t !== 'ident') fail('expected a declaration');
    next();
    switch (t.v) {
      case 'package':
        packageName = next().v;
        packageMarkers = docMarkers(t.line, true);
        break;
      case 'import':
        group(parseImportSpec);
        break;
      case 'type':
        if (peek().v === '(') group(() => parseTypeSpec(true));
        else parseTypeSpec(false);
        break;
      case 'const':
        group(parseConstSpec);
        break;
      case 'var':
        group(() => {
          skipToLineEnd();
        });
        break;
      case 'func': {
        // receiver, name, type parameters, parameters, results, then the body
        while (peek().v !== '{') {
          if (peek().t === 'eof') fail('expected a function body');
          if (peek().v === '(' || peek().v === '[') skipBalanced();
          else if (peek().v === 'struct' || peek().v === 'interface') {
            next();
            skipBalanced();
          } else next();
        }
        skipBalanced();
        break;
      }
      default:
        fail('unexpected declaration');
    }
  }
  return { packageName, imports, types, consts, packageMarkers };
}
