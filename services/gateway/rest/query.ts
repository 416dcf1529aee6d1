/**
 * The query of a REST request, read once, as kube-apiserver's handlers decode it into the
 * options of their verb (metav1.GetOptions, ListOptions, CreateOptions, UpdateOptions,
 * DeleteOptions; TableOptions for Table output; the request deadline's `timeout`): each verb
 * reads only its own parameters, as kube ignores the others, and a value that does not convert
 * is a 400 with kube's words (`strconv.ParseInt: parsing "x": invalid syntax`, `invalid timeout
 * specified in the request URL - time: invalid duration "x"`). The options a verb validates as
 * a whole (CreateOptions, UpdateOptions, DeleteOptions) are validated here, 422 as in kube; the
 * list and watch options are validated by the pipeline (lib/list-options.ts), after
 * authorization and alike for REST and gRPC.
 *
 * Booleans are read as kube reads query booleans (runtime.Convert_Slice_string_To_bool): "0"
 * and "false" in any case are false, any other value, even an empty one (`?watch`), is true.
 */
import { badRequest, invalid, StatusError, type FieldError } from '../../../lib/errors.ts';
import { goQuote, parseInt64 } from '../../../lib/go-strconv.ts';
import type { ListOptions, WatchOptions } from '../../../lib/list-options.ts';
import type { IncludeObjectPolicy } from '../../../lib/kinds/printing.ts';
import type { RequestVerb } from './request-info.ts';

/** What a request does, which decides the parameters it reads (a verb not served yet reads none). */
export type RestVerb = RequestVerb | 'other';

/** kube-apiserver's --request-timeout default: the longest a non-watch request may take. */
export const MAX_REQUEST_TIMEOUT_MS = 60_000;

/** kube's FieldManagerMaxLength, in bytes. */
const FIELD_MANAGER_MAX_BYTES = 128;

/** The parameters of one request, each converted once. A verb's own fields are set; the rest have their defaults. */
export interface RestQuery {
  /** How long a non-watch request may take: ?timeout= when shorter than the maximum. */
  timeoutMs: number;
  /** GET of one object. */
  resourceVersion: string;
  /** GET of a collection. */
  list: ListOptions;
  /** GET with ?watch (or the /watch/ path). */
  watch: WatchOptions;
  /** create, update, delete: ?dryRun=All. */
  dryRun: boolean;
  /** create, update and patch: who writes, for metadata.managedFields (required for apply). */
  fieldManager: string;
  /** patch: ?force= of server-side apply (taking the fields of other managers). */
  force: boolean;
  fieldValidation: string;
  /** delete and deletecollection: DeleteOptions from the query (a body, when there is one, has them instead). */
  gracePeriodSeconds: number | undefined;
  propagationPolicy: string | undefined;
  orphanDependents: boolean | undefined;
  /** ?includeObject= as sent: checked only for Table output, as kube does (tableOptions). */
  includeObject: string;
}

/**
 * A boolean query parameter as kube-apiserver reads every one (runtime.Convert_Slice_string_To_bool
 * and _To_Pointer_bool, through its query parameter codec): absent is undefined; the first
 * value decides; "0" and "false" in any case are false; anything else is true, the empty
 * value (`?watch`), `True` (the Python client's spelling) and `maybe` alike. Not
 * strconv.ParseBool: no value is refused.
 */
export function queryBool(q: URLSearchParams, name: string): boolean | undefined {
  const value = q.get(name);
  if (value === null) return undefined;
  return !(value === '0' || value.toLowerCase() === 'false');
}

/** An int64 parameter, as runtime.Convert_Slice_string_To_int64: absent is undefined, anything but an integer a 400. */
function int64(q: URLSearchParams, name: string): number | undefined {
  const value = q.get(name);
  if (value === null) return undefined;
  const parsed = parseInt64(value);
  if ('error' in parsed) throw badRequest(parsed.error);
  return Number(parsed.value);
}

const DURATION_UNITS_NS: Readonly<Record<string, bigint>> = {
  ns: 1n,
  us: 1_000n,
  'µs': 1_000n, // U+00B5 micro sign
  'μs': 1_000n, // U+03BC Greek mu
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
};

/** 2^63 nanoseconds: one past the longest Go duration. */
const DURATION_LIMIT_NS = 2n ** 63n;

/**
 * time.ParseDuration, in milliseconds; the error text Go gives. A sign, then numbers with
 * optional fractions, each with a unit: "300ms", "-1.5h", "2h45m".
 */
export function parseGoDuration(s: string): { ms: number } | { error: string } {
  const invalidDuration = { error: `time: invalid duration ${goTimeQuote(s)}` };
  let rest = s;
  let negative = false;
  if (rest.startsWith('-') || rest.startsWith('+')) {
    negative = rest.startsWith('-');
    rest = rest.slice(1);
  }
  if (rest === '0') return { ms: 0 };
  if (rest === '') return invalidDuration;
  let totalNs = 0n;
  while (rest !== '') {
    const number = /^([0-9]*)(?:\.([0-9]*))?/.exec(rest);
    const whole = number?.[1] ?? '';
    const fraction = number?.[2] ?? '';
    if (whole === '' && fraction === '') return invalidDuration;
    rest = rest.slice(number?.[0].length ?? 0);
    const unitLength = /^[^0-9.]*/.exec(rest)?.[0].length ?? 0;
    if (unitLength === 0) return { error: `time: missing unit in duration ${goTimeQuote(s)}` };
    const unit = rest.slice(0, unitLength);
    rest = rest.slice(unitLength);
    const scale = DURATION_UNITS_NS[unit];
    if (scale === undefined) return { error: `time: unknown unit ${goTimeQuote(unit)} in duration ${goTimeQuote(s)}` };
    let ns = BigInt(whole === '' ? '0' : whole) * scale;
    // Go adds the fraction through a float64, truncated to whole nanoseconds.
    if (fraction !== '') ns += BigInt(Math.trunc(Number(`0.${fraction}`) * Number(scale)));
    totalNs += ns;
    if (totalNs > DURATION_LIMIT_NS) return invalidDuration;
  }
  if (!negative && totalNs === DURATION_LIMIT_NS) return invalidDuration;
  return { ms: Number(negative ? -totalNs : totalNs) / 1e6 };
}

/** The time package's own quoting: bytes outside printable ASCII as \xNN. */
function goTimeQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const code = ch.codePointAt(0) ?? 0;
    if (code >= 0x80 || code < 0x20) {
      for (const byte of Buffer.from(ch)) out += `\\x${byte.toString(16).padStart(2, '0')}`;
    } else out += ch === '"' || ch === '\\' ? `\\${ch}` : ch;
  }
  return `${out}"`;
}

/**
 * ?timeout= as kube's request deadline reads it: a Go duration; one that is positive and
 * shorter than the maximum shortens the request's time, anything else leaves the maximum.
 */
function requestTimeoutMs(q: URLSearchParams): number {
  const value = q.get('timeout');
  if (value === null || value === '') return MAX_REQUEST_TIMEOUT_MS;
  const parsed = parseGoDuration(value);
  if ('error' in parsed) throw badRequest(`invalid timeout specified in the request URL - ${parsed.error}`);
  // Whole milliseconds for the timer: a timeout under one is one.
  return parsed.ms > 0 && parsed.ms < MAX_REQUEST_TIMEOUT_MS ? Math.ceil(parsed.ms) : MAX_REQUEST_TIMEOUT_MS;
}

/** unicode.IsPrint. */
const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u;

/** validation.ValidateFieldManager. */
function fieldManagerErrors(fieldManager: string): FieldError[] {
  const errors: FieldError[] = [];
  if (Buffer.byteLength(fieldManager) > FIELD_MANAGER_MAX_BYTES) {
    errors.push({ type: 'FieldValueTooLong', field: 'fieldManager', detail: `may not be more than ${FIELD_MANAGER_MAX_BYTES} bytes` });
  }
  let position = 0;
  for (const ch of fieldManager) {
    if (!PRINTABLE.test(ch)) {
      const code = (ch.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0');
      errors.push({ type: 'FieldValueInvalid', field: 'fieldManager', value: fieldManager, detail: `invalid character U+${code} (at position ${position})` });
    }
    position += Buffer.byteLength(ch);
  }
  return errors;
}

/** validation.ValidateDryRun: every value must be "All". */
function dryRunErrors(dryRun: string[]): FieldError[] {
  if (dryRun.every((v) => v === 'All')) return [];
  return [{ type: 'FieldValueNotSupported', field: 'dryRun', value: dryRun, detail: 'supported values: "All"' }];
}

const FIELD_VALIDATIONS = ['', 'Ignore', 'Strict', 'Warn'];
const PROPAGATION_POLICIES = ['Foreground', 'Background', 'Orphan'];

/** What validation.ValidateDeleteOptions looks at, from a DELETE's query or its body. */
interface DeleteOptionValues {
  orphanDependents?: boolean | undefined;
  propagationPolicy?: string | undefined;
  dryRun: string[];
}

/** 422 Invalid, in kube's words, for delete options kube refuses (one check for query and body). */
function checkDeleteOptions(o: DeleteOptionValues): void {
  const errors: FieldError[] = [];
  const policy = o.propagationPolicy;
  if (o.orphanDependents !== undefined && policy !== undefined) {
    errors.push({ type: 'FieldValueInvalid', field: 'propagationPolicy', value: policy, detail: 'orphanDependents and deletionPropagation cannot be both set' });
  }
  if (policy !== undefined && !PROPAGATION_POLICIES.includes(policy)) {
    errors.push({
      type: 'FieldValueNotSupported',
      field: 'propagationPolicy',
      value: policy,
      detail: `supported values: ${[...PROPAGATION_POLICIES, 'nil'].map((v) => goQuote(v)).join(', ')}`,
    });
  }
  errors.push(...dryRunErrors(o.dryRun));
  if (errors.length > 0) throw invalid('DeleteOptions', 'meta.k8s.io', '', errors);
}

/** metav1.DeleteOptions as a DELETE body gives them. */
export interface DeleteOptionsBody {
  /** Whether the request had a body (kube then reads no DeleteOptions from the query). */
  present: boolean;
  preconditions: { uid?: string; resourceVersion?: string };
  dryRun: boolean;
  propagationPolicy?: string;
  gracePeriodSeconds?: number;
  orphanDependents?: boolean;
}

/**
 * A DELETE body decoded as kube decodes metav1.DeleteOptions: a field of the wrong JSON type
 * is a 400 naming it (json.UnmarshalTypeError's words), and the values are then checked as the
 * query's are (422). Unknown fields are ignored, as kube's decoder does.
 */
export function decodeDeleteOptionsBody(body: Record<string, unknown>): DeleteOptionsBody {
  const typeError = (value: unknown, path: string, type: string): StatusError => {
    const kind = value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value === 'boolean' ? 'bool' : typeof value;
    return badRequest(`json: cannot unmarshal ${kind} into Go struct field DeleteOptions.${path} of type ${type}`);
  };
  const str = (value: unknown, path: string, type = 'string'): string | undefined => {
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'string') throw typeError(value, path, type);
    return value;
  };
  const pre = body.preconditions;
  let preconditions: DeleteOptionsBody['preconditions'] = {};
  if (pre !== undefined && pre !== null) {
    if (typeof pre !== 'object' || Array.isArray(pre)) throw typeError(pre, 'preconditions', 'v1.Preconditions');
    const p = pre as Record<string, unknown>;
    const uid = str(p.uid, 'preconditions.uid', 'types.UID');
    const resourceVersion = str(p.resourceVersion, 'preconditions.resourceVersion');
    preconditions = { ...(uid === undefined ? {} : { uid }), ...(resourceVersion === undefined ? {} : { resourceVersion }) };
  }
  let dryRun: string[] = [];
  if (body.dryRun !== undefined && body.dryRun !== null) {
    if (!Array.isArray(body.dryRun)) throw typeError(body.dryRun, 'dryRun', '[]string');
    dryRun = body.dryRun.map((v, i) => str(v, `dryRun[${i}]`) ?? '');
  }
  const propagationPolicy = str(body.propagationPolicy, 'propagationPolicy', 'v1.DeletionPropagation');
  let orphanDependents: boolean | undefined;
  if (body.orphanDependents !== undefined && body.orphanDependents !== null) {
    if (typeof body.orphanDependents !== 'boolean') throw typeError(body.orphanDependents, 'orphanDependents', 'bool');
    orphanDependents = body.orphanDependents;
  }
  let gracePeriodSeconds: number | undefined;
  if (body.gracePeriodSeconds !== undefined && body.gracePeriodSeconds !== null) {
    if (typeof body.gracePeriodSeconds !== 'number' || !Number.isSafeInteger(body.gracePeriodSeconds)) throw typeError(body.gracePeriodSeconds, 'gracePeriodSeconds', 'int64');
    gracePeriodSeconds = body.gracePeriodSeconds;
  }
  checkDeleteOptions({ orphanDependents, propagationPolicy, dryRun });
  return {
    present: true,
    preconditions,
    dryRun: dryRun.length > 0,
    ...(propagationPolicy === undefined ? {} : { propagationPolicy }),
    ...(gracePeriodSeconds === undefined ? {} : { gracePeriodSeconds }),
    ...(orphanDependents === undefined ? {} : { orphanDependents }),
  };
}

/** The query of a request of `verb`; throws 400 BadRequest or 422 Invalid as kube does. */
export function parseRestQuery(q: URLSearchParams, verb: RestVerb, options: { apply?: boolean } = {}): RestQuery {
  const query: RestQuery = {
    timeoutMs: MAX_REQUEST_TIMEOUT_MS,
    resourceVersion: '',
    list: {},
    watch: {},
    dryRun: false,
    fieldManager: '',
    force: false,
    fieldValidation: '',
    gracePeriodSeconds: undefined,
    propagationPolicy: undefined,
    orphanDependents: undefined,
    includeObject: q.get('includeObject') ?? '',
  };
  // The deadline comes first (a filter in kube); a watch has none.
  if (verb !== 'watch') query.timeoutMs = requestTimeoutMs(q);
  switch (verb) {
    case 'get':
      query.resourceVersion = q.get('resourceVersion') ?? '';
      break;
    case 'list':
    case 'watch':
    case 'deletecollection': {
      // metav1.ListOptions from the query, in the order kube converts its fields.
      const labelSelector = q.get('labelSelector') ?? '';
      const fieldSelector = q.get('fieldSelector') ?? '';
      const allowWatchBookmarks = queryBool(q, 'allowWatchBookmarks') ?? false;
      const resourceVersion = q.get('resourceVersion') ?? '';
      const resourceVersionMatch = q.get('resourceVersionMatch') ?? '';
      const timeoutSeconds = int64(q, 'timeoutSeconds');
      const limit = int64(q, 'limit') ?? 0;
      const continueToken = q.get('continue') ?? '';
      const sendInitialEvents = queryBool(q, 'sendInitialEvents');
      query.list = { labelSelector, fieldSelector, limit, continue: continueToken, resourceVersion, resourceVersionMatch, sendInitialEvents };
      query.watch = { labelSelector, fieldSelector, resourceVersion, resourceVersionMatch, allowWatchBookmarks, sendInitialEvents, timeoutSeconds, continue: continueToken };
      // A deletecollection takes DeleteOptions from its query too (when it has no body).
      if (verb === 'deletecollection') readDeleteQuery(q, query);
      break;
    }
    case 'create':
    case 'update':
    case 'patch': {
      const dryRun = q.getAll('dryRun');
      query.fieldManager = q.get('fieldManager') ?? '';
      query.fieldValidation = q.get('fieldValidation') ?? '';
      const errors: FieldError[] = [];
      if (options.apply === true) {
        // Apply needs a manager: kubectl sends one, controllers must (kube's ValidatePatchOptions).
        if (query.fieldManager === '') errors.push({ type: 'FieldValueRequired', field: 'fieldManager', detail: 'is required for apply patch' });
        query.force = queryBool(q, 'force') ?? false;
      } else if (verb === 'patch' && q.has('force')) {
        // PatchOptions.force is for apply only.
        errors.push({ type: 'FieldValueForbidden', field: 'force', detail: 'may not be specified for non-apply patch' });
      }
      errors.push(...fieldManagerErrors(query.fieldManager), ...dryRunErrors(dryRun));
      if (!FIELD_VALIDATIONS.includes(query.fieldValidation)) {
        errors.push({
          type: 'FieldValueNotSupported',
          field: 'fieldValidation',
          value: query.fieldValidation,
          detail: `supported values: ${FIELD_VALIDATIONS.map((v) => goQuote(v)).join(', ')}`,
        });
      }
      if (errors.length > 0) throw invalid(verb === 'create' ? 'CreateOptions' : verb === 'update' ? 'UpdateOptions' : 'PatchOptions', 'meta.k8s.io', '', errors);
      query.dryRun = dryRun.length > 0;
      break;
    }
    case 'delete':
      readDeleteQuery(q, query);
      break;
    default:
      break;
  }
  return query;
}

/** metav1.DeleteOptions from a query, checked as kube's ValidateDeleteOptions. */
function readDeleteQuery(q: URLSearchParams, query: RestQuery): void {
  query.gracePeriodSeconds = int64(q, 'gracePeriodSeconds');
  query.propagationPolicy = q.get('propagationPolicy') ?? undefined;
  query.orphanDependents = queryBool(q, 'orphanDependents');
  const dryRun = q.getAll('dryRun');
  checkDeleteOptions({ orphanDependents: query.orphanDependents, propagationPolicy: query.propagationPolicy, dryRun });
  query.dryRun = dryRun.length > 0;
}

/**
 * The includeObject of Table output (metav1.TableOptions), checked when a Table is served, as
 * kube does: 400 `Unable to convert to Table as requested: includeObject: Invalid value: ...`.
 */
export function includeObjectPolicy(query: Pick<RestQuery, 'includeObject'>): IncludeObjectPolicy {
  const value = query.includeObject;
  if (value === '' || value === 'Metadata') return 'Metadata';
  if (value === 'None' || value === 'Object') return value;
  throw new StatusError(
    'BadRequest',
    `Unable to convert to Table as requested: includeObject: Invalid value: ${goQuote(value)}: must be 'Metadata', 'Object', 'None', or empty`,
  );
}
