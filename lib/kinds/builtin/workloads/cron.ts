/**
 * The CronJob schedule and time zone checks: github.com/robfig/cron/v3's ParseStandard (what
 * kube's validateScheduleFormat runs) with its error texts, and Go's time.LoadLocation for the
 * time zone (answered here by the ICU time zone data of the runtime).
 */
import { goQuote } from '../../../go-strconv.ts';

interface Bounds {
  min: number;
  max: number;
  names?: Readonly<Record<string, number>>;
}

const MINUTES: Bounds = { min: 0, max: 59 };
const HOURS: Bounds = { min: 0, max: 23 };
const DAYS_OF_MONTH: Bounds = { min: 1, max: 31 };
const MONTHS: Bounds = { min: 1, max: 12, names: { jan: 1, feb: 2, mar: 3, apr: 4, may: 5, jun: 6, jul: 7, aug: 8, sep: 9, oct: 10, nov: 11, dec: 12 } };
const DAYS_OF_WEEK: Bounds = { min: 0, max: 6, names: { sun: 0, mon: 1, tue: 2, wed: 3, thu: 4, fri: 5, sat: 6 } };

const DESCRIPTORS = new Set(['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly']);

/** strconv.Atoi's error, or the number. */
function atoi(s: string): number | { error: string } {
  if (!/^[+-]?[0-9]+$/.test(s)) return { error: `strconv.Atoi: parsing ${goQuote(s)}: invalid syntax` };
  const n = Number(s);
  if (!Number.isSafeInteger(n) && (BigInt(s) > 2n ** 63n - 1n || BigInt(s) < -(2n ** 63n))) return { error: `strconv.Atoi: parsing ${goQuote(s)}: value out of range` };
  return n;
}

/** mustParseInt. */
function parseNonNegative(expr: string): number | { error: string } {
  const n = atoi(expr);
  if (typeof n !== 'number') return { error: `failed to parse int from ${expr}: ${n.error}` };
  if (n < 0) return { error: `negative number (${n}) not allowed: ${expr}` };
  return n;
}

/** parseIntOrName. */
function parseIntOrName(expr: string, bounds: Bounds): number | { error: string } {
  const named = bounds.names?.[expr.toLowerCase()];
  if (named !== undefined && Object.hasOwn(bounds.names ?? {}, expr.toLowerCase())) return named;
  return parseNonNegative(expr);
}

/** getRange's checks of one range expression; an error text or undefined. */
function rangeError(expr: string, bounds: Bounds): string | undefined {
  const rangeAndStep = expr.split('/');
  const lowAndHigh = (rangeAndStep[0] ?? '').split('-');
  const single = lowAndHigh.length === 1;
  let start: number;
  let end: number;
  const low = lowAndHigh[0] ?? '';
  if (low === '*' || low === '?') {
    start = bounds.min;
    end = bounds.max;
  } else {
    const s = parseIntOrName(low, bounds);
    if (typeof s !== 'number') return s.error;
    start = s;
    if (lowAndHigh.length === 1) end = start;
    else if (lowAndHigh.length === 2) {
      const e = parseIntOrName(lowAndHigh[1] ?? '', bounds);
      if (typeof e !== 'number') return e.error;
      end = e;
    } else return `too many hyphens: ${expr}`;
  }
  let step = 1;
  if (rangeAndStep.length === 2) {
    const s = parseNonNegative(rangeAndStep[1] ?? '');
    if (typeof s !== 'number') return s.error;
    step = s;
    if (single) end = bounds.max;
  } else if (rangeAndStep.length > 2) return `too many slashes: ${expr}`;
  if (start < bounds.min) return `beginning of range (${start}) below minimum (${bounds.min}): ${expr}`;
  if (end > bounds.max) return `end of range (${end}) above maximum (${bounds.max}): ${expr}`;
  if (start > end) return `beginning of range (${start}) beyond end of range (${end}): ${expr}`;
  if (step === 0) return `step of range should be a positive number: ${expr}`;
  return undefined;
}

/** Go's time.ParseDuration's acceptance (its error text when it refuses). */
function durationError(s: string): string | undefined {
  const orig = s;
  if (s === '0') return undefined;
  let rest = s;
  if (rest.startsWith('-') || rest.startsWith('+')) rest = rest.slice(1);
  if (rest === '') return `time: invalid duration ${goQuote(orig)}`;
  while (rest !== '') {
    const m = /^([0-9]*)(\.[0-9]*)?/.exec(rest);
    const number = m?.[0] ?? '';
    if (number === '' || number === '.') return `time: invalid duration ${goQuote(orig)}`;
    rest = rest.slice(number.length);
    const unit = /^[^0-9.]*/.exec(rest)?.[0] ?? '';
    if (unit === '') return `time: missing unit in duration ${goQuote(orig)}`;
    if (!['ns', 'us', 'µs', 'μs', 'ms', 's', 'm', 'h'].includes(unit)) return `time: unknown unit ${goQuote(unit)} in duration ${goQuote(orig)}`;
    rest = rest.slice(unit.length);
  }
  return undefined;
}

/** Whether the runtime's time zone data knows `name` as Go's LoadLocation would (case-sensitively). */
export function isKnownTimeZone(name: string): boolean {
  if (name === 'UTC' || name === 'Local') return true;
  let resolved: string;
  try {
    resolved = new Intl.DateTimeFormat('en-US', { timeZone: name }).resolvedOptions().timeZone;
  } catch {
    return false;
  }
  // ICU accepts any case; Go's zone files do not. An alias resolves to another name.
  return !(resolved.toLowerCase() === name.toLowerCase() && resolved !== name);
}

/**
 * cron.ParseStandard's error for `spec` (five fields, or a descriptor such as "@daily" or
 * "@every 1h", optionally after TZ= / CRON_TZ=), in the library's words; undefined when it
 * parses.
 */
export function cronScheduleError(spec: string): string | undefined {
  if (spec.length === 0) return 'empty spec string';
  let rest = spec;
  if (rest.startsWith('TZ=') || rest.startsWith('CRON_TZ=')) {
    const space = rest.indexOf(' ');
    const eq = rest.indexOf('=');
    const zone = space === -1 ? rest.slice(eq + 1) : rest.slice(eq + 1, space);
    if (!isKnownTimeZone(zone)) return `provided bad location ${zone}: unknown time zone ${zone}`;
    rest = space === -1 ? '' : rest.slice(space).trim();
  }
  if (rest.startsWith('@')) {
    if (DESCRIPTORS.has(rest)) return undefined;
    if (rest.startsWith('@every ')) {
      const error = durationError(rest.slice('@every '.length));
      return error === undefined ? undefined : `failed to parse duration ${rest}: ${error}`;
    }
    return `unrecognized descriptor: ${rest}`;
  }
  const fields = rest.split(/[\t\n\v\f\r ]+/).filter((f) => f !== '');
  if (fields.length !== 5) return `expected exactly 5 fields, found ${fields.length}: [${fields.join(' ')}]`;
  const bounds = [MINUTES, HOURS, DAYS_OF_MONTH, MONTHS, DAYS_OF_WEEK];
  for (let i = 0; i < 5; i++) {
    for (const expr of (fields[i] ?? '').split(',').filter((e) => e !== '')) {
      const error = rangeError(expr, bounds[i] as Bounds);
      if (error !== undefined) return error;
    }
  }
  return undefined;
}
