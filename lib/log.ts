/**
 * Structured logs: one JSON object a line on stderr. Callers pass facts, never credentials:
 * tokens, keys and request bodies are not logged anywhere in the project.
 */
export type Level = 'debug' | 'info' | 'warn' | 'error';

const ORDER: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

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
  /** Where lines go; stderr by default. */
  write?: (line: string) => void;
}

function errorFields(value: unknown): unknown {
  if (value instanceof Error) return { name: value.name, message: value.message };
  return value;
}

export function createLogger(options: LoggerOptions, base: Record<string, unknown> = {}): Logger {
  const min = ORDER[options.level ?? 'info'];
  const write = options.write ?? ((line: string) => process.stderr.write(line + '\n'));
  const emit = (level: Level, msg: string, fields?: Record<string, unknown>): void => {
    if (ORDER[level] < min) return;
    const record: Record<string, unknown> = {
      time: new Date().toISOString(),
      level,
      service: options.service,
      msg,
      ...base,
    };
    if (fields !== undefined) {
      for (const [k, v] of Object.entries(fields)) record[k] = errorFields(v);
    }
    write(JSON.stringify(record));
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    with: (fields) => createLogger(options, { ...base, ...fields }),
  };
}

export function isLevel(value: string): value is Level {
  return Object.hasOwn(ORDER, value);
}
