/**
 * The error Go's encoding/json gives for bytes unmarshalled into a map[string]interface{}, as
 * kube's Secret validation reports it for a docker config: a syntax error in the words of Go's
 * scanner ("invalid character 'x' looking for beginning of value", "unexpected end of JSON
 * input"), or a type error when the JSON is valid but no object. Only the one offending
 * character of the input ever appears in a message, as in kube's.
 */
import { goQuote } from '../../../go-strconv.ts';

class SyntaxError_ extends Error {}

/** scanner's quoteChar: the byte in single quotes, escaped as Go quotes it. */
function quoteChar(c: number): string {
  if (c === 0x27) return "'\\''";
  if (c === 0x22) return `'"'`;
  const quoted = goQuote(String.fromCharCode(c));
  return `'${quoted.slice(1, -1)}'`;
}

function isSpace(c: number | undefined): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
}

function isDigit(c: number | undefined): boolean {
  return c !== undefined && c >= 0x30 && c <= 0x39;
}

function isHex(c: number | undefined): boolean {
  return c !== undefined && ((c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46));
}

/** A recursive-descent reading of Go's scanner states; throws SyntaxError_ with Go's message. */
class Scanner {
  private pos = 0;
  private readonly bytes: Uint8Array;
  private depth = 0;

  constructor(bytes: Uint8Array) {
    this.bytes = bytes;
  }

  private peek(): number | undefined {
    return this.bytes[this.pos];
  }

  private fail(c: number | undefined, context: string): never {
    if (c === undefined) throw new SyntaxError_('unexpected end of JSON input');
    throw new SyntaxError_(`invalid character ${quoteChar(c)} ${context}`);
  }

  private skipSpace(): void {
    while (isSpace(this.peek())) this.pos++;
  }

  /** The JSON kind of the top-level value: "object", "array", "string", "number", "bool" or "null". */
  document(): string {
    this.skipSpace();
    const kind = this.value();
    this.skipSpace();
    if (this.pos < this.bytes.length) this.fail(this.peek(), 'after top-level value');
    return kind;
  }

  private value(): string {
    this.skipSpace();
    const c = this.peek();
    if (c === 0x7b) return this.object();
    if (c === 0x5b) return this.array();
    if (c === 0x22) {
      this.string();
      return 'string';
    }
    if (c === 0x2d || isDigit(c)) {
      this.number();
      return 'number';
    }
    if (c === 0x74) return this.literal('true', 'bool');
    if (c === 0x66) return this.literal('false', 'bool');
    if (c === 0x6e) return this.literal('null', 'null');
    return this.fail(c, 'looking for beginning of value');
  }

  private nest(): void {
    // Go stops at 10000 levels; a secret's docker config never comes near.
    if (++this.depth > 10000) throw new SyntaxError_('exceeded max depth');
  }

  private object(): string {
    this.nest();
    this.pos++;
    this.skipSpace();
    if (this.peek() === 0x7d) {
      this.pos++;
      this.depth--;
      return 'object';
    }
    for (;;) {
      this.skipSpace();
      if (this.peek() !== 0x22) this.fail(this.peek(), 'looking for beginning of object key string');
      this.string();
      this.skipSpace();
      if (this.peek() !== 0x3a) this.fail(this.peek(), 'after object key');
      this.pos++;
      this.value();
      this.skipSpace();
      const c = this.peek();
      if (c === 0x2c) {
        this.pos++;
        continue;
      }
      if (c === 0x7d) {
        this.pos++;
        this.depth--;
        return 'object';
      }
      this.fail(c, 'after object key:value pair');
    }
  }

  private array(): string {
    this.nest();
    this.pos++;
    this.skipSpace();
    if (this.peek() === 0x5d) {
      this.pos++;
      this.depth--;
      return 'array';
    }
    for (;;) {
      this.value();
      this.skipSpace();
      const c = this.peek();
      if (c === 0x2c) {
        this.pos++;
        continue;
      }
      if (c === 0x5d) {
        this.pos++;
        this.depth--;
        return 'array';
      }
      this.fail(c, 'after array element');
    }
  }

  private string(): void {
    this.pos++;
    for (;;) {
      const c = this.peek();
      if (c === undefined) this.fail(c, '');
      this.pos++;
      if (c === 0x22) return;
      if (c < 0x20) this.fail(c, 'in string literal');
      if (c !== 0x5c) continue;
      const e = this.peek();
      if (e === undefined) this.fail(e, '');
      this.pos++;
      if (e === 0x75) {
        for (let i = 0; i < 4; i++) {
          const h = this.peek();
          if (!isHex(h)) this.fail(h, 'in \\u hexadecimal character escape');
          this.pos++;
        }
      } else if (!'bfnrt\\/"'.includes(String.fromCharCode(e))) {
        this.fail(e, 'in string escape code');
      }
    }
  }

  private number(): void {
    if (this.peek() === 0x2d) {
      this.pos++;
      if (!isDigit(this.peek())) this.fail(this.peek(), 'in numeric literal');
    }
    if (this.peek() === 0x30) this.pos++;
    else while (isDigit(this.peek())) this.pos++;
    if (this.peek() === 0x2e) {
      this.pos++;
      if (!isDigit(this.peek())) this.fail(this.peek(), 'after decimal point in numeric literal');
      while (isDigit(this.peek())) this.pos++;
    }
    const e = this.peek();
    if (e === 0x65 || e === 0x45) {
      this.pos++;
      if (this.peek() === 0x2b || this.peek() === 0x2d) this.pos++;
      if (!isDigit(this.peek())) this.fail(this.peek(), 'in exponent of numeric literal');
      while (isDigit(this.peek())) this.pos++;
    }
  }

  private literal(word: string, kind: string): string {
    for (let i = 0; i < word.length; i++) {
      const c = this.peek();
      if (c !== word.charCodeAt(i)) this.fail(c, `in literal ${word} (expecting ${quoteChar(word.charCodeAt(i))})`);
      this.pos++;
    }
    return kind;
  }
}

/**
 * json.Unmarshal(bytes, &map[string]interface{}{})'s error text, or undefined when it succeeds
 * (an object, or null).
 */
export function unmarshalObjectError(bytes: Uint8Array): string | undefined {
  let kind: string;
  try {
    kind = new Scanner(bytes).document();
  } catch (err) {
    if (err instanceof SyntaxError_) return err.message;
    // Nesting deeper than the call stack allows: Go refuses it too (past 10000 levels).
    if (err instanceof RangeError) return 'exceeded max depth';
    throw err;
  }
  if (kind === 'object' || kind === 'null') return undefined;
  return `json: cannot unmarshal ${kind} into Go value of type map[string]interface {}`;
}
