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

/**
 * `root`'s lines with `bindings` on each. A `with()` makes one child of the root with the
 * bindings merged (a key given again replaces the earlier value), not a child of a child:
 * pino writes the bindings of every level, so a key bound twice would appear twice in a line.
 */
function wrap(root: PinoLogger, bindings: Record<string, unknown> = {}): Logger {
  const logger = Object.keys(bindings).length === 0 ? root : root.child(bindings);
  const emit = (level: Level, msg: string, fields: Record<string, unknown> | undefined): void => {
    // pino checks the level itself; the check here only skips building fields for nothing.
    if (!logger.isLevelEnabled(level)) return;
    if (fields === undefined) logger[level](msg);
    else logger[level](withSafeErrors(fields), msg);
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    with: (fields) => wrap(root, { ...bindings, ...withSafeErrors(fields) }),
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
    write === undefined ? process.stderr : { write: (chunk: string) => write(chunk.endsWith('\n') ? chunk.slice(0, -1) : chunk) };
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
  return wrap(logger, withSafeErrors(base));
}

export function isLevel(value: string): value is Level {
  return (LEVELS as readonly string[]).includes(value);
}
