/**
 * Configuration: command-line flags with environment fallbacks, declared once per service as a
 * table that is also the documentation (`--help` prints it; docs/configuration.md lists it).
 */

export interface FlagSpec {
  /** Flag name without dashes: `listen` is `--listen=...` or `--listen ...`. */
  readonly flag: string;
  /** Environment variable read when the flag is absent. */
  readonly env: string;
  readonly default: string;
  readonly description: string;
}

export type FlagTable = readonly FlagSpec[];

export type Config<T extends FlagTable> = { [K in T[number]['flag']]: string };

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/**
 * Resolves each flag: the command line first, then the environment, then the default.
 * Throws ConfigError for an unknown flag or a flag without a value.
 */
export function parseConfig<const T extends FlagTable>(
  table: T,
  argv: readonly string[] = process.argv.slice(2),
  env: NodeJS.ProcessEnv = process.env,
): Config<T> {
  const fromArgs = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (!arg.startsWith('--')) throw new ConfigError(`unexpected argument "${arg}"`);
    const eq = arg.indexOf('=');
    const name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
    if (!table.some((s) => s.flag === name)) throw new ConfigError(`unknown flag --${name}`);
    let value: string | undefined;
    if (eq !== -1) value = arg.slice(eq + 1);
    else {
      value = argv[i + 1];
      i++;
    }
    if (value === undefined) throw new ConfigError(`flag --${name} needs a value`);
    fromArgs.set(name, value);
  }
  const out: Record<string, string> = {};
  for (const spec of table) {
    out[spec.flag] = fromArgs.get(spec.flag) ?? env[spec.env] ?? spec.default;
  }
  return out as Config<T>;
}

/** The table as Markdown, for `--help` and the docs. */
export function describeFlags(table: FlagTable): string {
  const rows = table.map(
    (s) => `| \`--${s.flag}\` | \`${s.env}\` | ${s.default === '' ? '(none)' : `\`${s.default}\``} | ${s.description} |`,
  );
  return ['| flag | environment | default | meaning |', '|---|---|---|---|', ...rows].join('\n');
}

/** Parses a positive integer setting, with the setting's name in the error. */
export function positiveInt(name: string, raw: string): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw new ConfigError(`${name} must be a positive integer, got "${raw}"`);
  return n;
}
