/**
 * Structured logs: one JSON object a line on stderr, written by pino. A line carries `time`
 * (ISO 8601), `level` as a word, `service`, `msg` and the caller's fields at top level.
 *
 * Callers pass facts, never credentials: tokens, keys and request bodies are not logged anywhere
 * in the project. pino's redaction stands behind that rule: a field named like a credential or a
 * body (at top level, or under a field such as `headers`, `request` or `options`; in a line's
 * fields or in a logger's bound fields) is written as "[Redacted]" whatever a caller put there. Errors are written as their name, message
 * and code only: a stack or an error's other properties may carry what a caller never meant to
 * log (a request, a header, a configuration).
 *
 * A line whose fields are all strings, finite numbers or booleans (the access log's line per
 * request) is built here rather than by pino's general path, to the same JSON; and lines on
 * stderr are written together once per turn of the event loop (see batchedStderr), not one
 * write each.
 */
import { pino, type DestinationStream, type Logger as PinoLogger } from 'pino';

export type Level = 'debug' | 'info' | 'warn' | 'error';

const LEVELS: readonly Level[] = ['debug', 'info', 'warn', 'error'];

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  with(fields: Record<string, unknown>): Logger;
}

export interface LoggerOptions {
  service: string;
  level?: Level;
  /** Where lines go (one call a line, without its newline); stderr by default. */
  write?: (line: string) => void;
}

/** Field names that hold credentials or bodies: never written (see REDACTED_PATHS). */
const REDACTED_NAMES = [
  'authorization',
  'Authorization',
  'cookie',
  'token',
  'bearerToken',
  'accessToken',
  'refreshToken',
  'idToken',
  'password',
  'privateKey',
  'clientKey',
  'body',
  'requestObject',
  'responseObject',
] as const;

/** Fields whose values may hold such fields one level down (a request, its headers, options). */
const PARENTS = ['headers', 'request', 'req', 'response', 'res', 'credentials', 'options', 'config', 'spec', 'request.headers', 'req.headers'] as const;

/**
 * pino `redact` paths: each name at top level and under each of PARENTS. Explicit paths, not
 * wildcards: pino's wildcard paths ('*.token') cost some 10-40 times a line's own cost, paid on
 * every line (the access log writes one per request); explicit ones cost almost nothing.
 */
export const REDACTED_PATHS: readonly string[] = [...REDACTED_NAMES, ...PARENTS.flatMap((parent) => REDACTED_NAMES.map((name) => `${parent}.${name}`))];

/** What an Error becomes in a line: its name, message and code, never its stack or other fields. */
function safeError(err: Error): Record<string, unknown> {
  const out: Record<string, unknown> = { name: err.name, message: err.message };
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' || typeof code === 'number') out.code = code;
  return out;
}

/** A line's fields with every Error value (top level) replaced by its safe form. */
function withSafeErrors(fields: Record<string, unknown>): Record<string, unknown> {
  let out: Record<string, unknown> | undefined;
  for (const [k, v] of Object.entries(fields)) {
    if (v instanceof Error) {
      out ??= { ...fields };
      out[k] = safeError(v);
    }
  }
  return out ?? fields;
}

/** Keys a hand-built line never writes itself: pino's own, and those redaction or a serializer handle. */
const NOT_PLAIN_KEYS: ReadonlySet<string> = new Set(['level', 'time', 'msg', 'err', ...REDACTED_NAMES, ...PARENTS]);

/**
 * The members `fields` adds to a line (`,"key":value` each, undefined values left out, as
 * pino writes them) when every value is a string, a finite number or a boolean and no key is
 * one of NOT_PLAIN_KEYS; undefined otherwise (pino's path writes the line).
 */
function plainMembers(fields: Record<string, unknown>): string | undefined {
  let out = '';
  for (const key in fields) {
    if (!Object.hasOwn(fields, key)) continue;
    const value = fields[key];
    if (value === undefined) continue;
    if (NOT_PLAIN_KEYS.has(key)) return undefined;
    const type = typeof value;
    if (type === 'string') out += `,${JSON.stringify(key)}:${JSON.stringify(value)}`;
    else if ((type === 'number' && Number.isFinite(value)) || type === 'boolean') out += `,${JSON.stringify(key)}:${String(value)}`;
    else return undefined;
  }
  return out;
}

/** Where a logger's lines go, and the pino fields every line of the root carries (`"service":...`). */
interface Sink {
  destination: DestinationStream;
  base: Record<string, unknown>;
}

/**
 * `root`'s lines with `bindings` on each. A `with()` makes one child of the root with the
 * bindings merged (a key given again replaces the earlier value), not a child of a child:
 * pino writes the bindings of every level, so a key bound twice would appear twice in a line.
 */
function wrap(root: PinoLogger, sink: Sink, bindings: Record<string, unknown> = {}): Logger {
  const logger = Object.keys(bindings).length === 0 ? root : root.child(bindings);
  // The members pino writes after time for every line (base, then bindings), when they are plain.
  const base = plainMembers(sink.base);
  const bound = plainMembers(bindings);
  const head = base === undefined || bound === undefined ? undefined : base + bound;
  const emit = (level: Level, msg: string, fields: Record<string, unknown> | undefined): void => {
    // pino checks the level itself; the check here only skips building fields for nothing.
    if (!logger.isLevelEnabled(level)) return;
    const members = head === undefined || fields === undefined ? undefined : plainMembers(fields);
    if (members !== undefined) {
      // pino's line for these fields: level, time (isoTime), base and bindings, fields, msg.
      sink.destination.write(`{"level":"${level}","time":"${new Date().toISOString()}"${String(head)}${members},"msg":${JSON.stringify(msg)}}\n`);
      return;
    }
    if (fields === undefined) logger[level](msg);
    else logger[level](withSafeErrors(fields), msg);
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    with: (fields) => wrap(root, sink, { ...bindings, ...withSafeErrors(fields) }),
  };
}

/**
 * A destination that writes its lines to `stream` (stderr) together, once per turn of the event
 * loop or when 64 KiB are held, rather than one write (a system call, and a wake-up of the
 * reader of a pipe) per line: under load a service writes many lines a turn (the access log
 * one per request). Lines held when the process exits are written then (stderr's writes to a
 * file or pipe are synchronous); a process killed outright loses at most one turn's lines.
 */
export function batchedStderr(stream: { write(chunk: string): unknown } = process.stderr): DestinationStream {
  let held = '';
  let scheduled: NodeJS.Immediate | undefined;
  const flush = (): void => {
    if (scheduled !== undefined) {
      clearImmediate(scheduled);
      scheduled = undefined;
      process.off('exit', flush);
    }
    if (held === '') return;
    const chunk = held;
    held = '';
    stream.write(chunk);
  };
  return {
    write(line: string): void {
      held += line;
      if (held.length >= 64 * 1024) flush();
      else if (scheduled === undefined) {
        scheduled = setImmediate(flush);
        // The exit listener writes what is held if the process exits before the turn ends.
        scheduled.unref();
        process.once('exit', flush);
      }
    },
  };
}

/**
 * A logger for a service. Lines below `level` (default info) are dropped. Each logger is its own
 * pino instance: nothing is shared between loggers of one process (tests make many).
 */
export function createLogger(options: LoggerOptions, base: Record<string, unknown> = {}): Logger {
  const write = options.write;
  // A custom sink gets each line without its newline, as callers collect lines.
  const destination: DestinationStream =
    write === undefined ? batchedStderr() : { write: (chunk: string) => write(chunk.endsWith('\n') ? chunk.slice(0, -1) : chunk) };
  const logger = pino(
    {
      level: options.level ?? 'info',
      base: { service: options.service },
      messageKey: 'msg',
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: [...REDACTED_PATHS] },
      // Only the safe form of errors is written (see withSafeErrors); pino's own error
      // serializer (stack, every property) is not used.
      serializers: { err: (value: unknown) => (value instanceof Error ? safeError(value) : value) },
    },
    destination,
  );
  return wrap(logger, { destination, base: { service: options.service } }, withSafeErrors(base));
}

export function isLevel(value: string): value is Level {
  return (LEVELS as readonly string[]).includes(value);
}
