/**
 * The REST query read as kube-apiserver reads it: each case is a query, the verb of the
 * request, and what it becomes (or the Status it gets), word for word.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { StatusError } from '../../../lib/errors.ts';
import { decodeDeleteOptionsBody, includeObjectPolicy, MAX_REQUEST_TIMEOUT_MS, parseGoDuration, parseRestQuery, queryBool, type RestQuery, type RestVerb } from './query.ts';

/** The query parsed, or "Reason: message". */
function parse(query: string, verb: RestVerb): RestQuery | string {
  try {
    return parseRestQuery(new URLSearchParams(query), verb);
  } catch (err) {
    assert.ok(err instanceof StatusError, String(err));
    return `${err.reason}: ${err.message}`;
  }
}

const CREATE_INVALID = 'Invalid: CreateOptions.meta.k8s.io "" is invalid: ';
const UPDATE_INVALID = 'Invalid: UpdateOptions.meta.k8s.io "" is invalid: ';
const DELETE_INVALID = 'Invalid: DeleteOptions.meta.k8s.io "" is invalid: ';

describe('parseRestQuery', () => {
  const cases: { query: string; verb: RestVerb; expect: Partial<RestQuery> | string }[] = [
    // list
    {
      query: '',
      verb: 'list',
      expect: {
        timeoutMs: MAX_REQUEST_TIMEOUT_MS,
        list: { labelSelector: '', fieldSelector: '', limit: 0, continue: '', resourceVersion: '', resourceVersionMatch: '', sendInitialEvents: undefined },
      },
    },
    {
      query: 'limit=5&continue=abc&resourceVersion=7&resourceVersionMatch=NotOlderThan&labelSelector=a%3Db&fieldSelector=metadata.name%3Dx',
      verb: 'list',
      expect: {
        list: { labelSelector: 'a=b', fieldSelector: 'metadata.name=x', limit: 5, continue: 'abc', resourceVersion: '7', resourceVersionMatch: 'NotOlderThan', sendInitialEvents: undefined },
      },
    },
    // A negative limit converts; the pipeline refuses it (lib/list-options.ts), as for gRPC.
    { query: 'limit=-1', verb: 'list', expect: { list: { labelSelector: '', fieldSelector: '', limit: -1, continue: '', resourceVersion: '', resourceVersionMatch: '', sendInitialEvents: undefined } } },
    { query: 'limit=abc', verb: 'list', expect: 'BadRequest: strconv.ParseInt: parsing "abc": invalid syntax' },
    { query: 'limit=', verb: 'list', expect: 'BadRequest: strconv.ParseInt: parsing "": invalid syntax' },
    { query: 'limit=1.5', verb: 'list', expect: 'BadRequest: strconv.ParseInt: parsing "1.5": invalid syntax' },
    { query: 'limit=99999999999999999999', verb: 'list', expect: 'BadRequest: strconv.ParseInt: parsing "99999999999999999999": value out of range' },
    // The first value counts, as in kube.
    { query: 'limit=3&limit=x', verb: 'list', expect: { list: { labelSelector: '', fieldSelector: '', limit: 3, continue: '', resourceVersion: '', resourceVersionMatch: '', sendInitialEvents: undefined } } },
    // kube converts timeoutSeconds before limit.
    { query: 'limit=x&timeoutSeconds=y', verb: 'list', expect: 'BadRequest: strconv.ParseInt: parsing "y": invalid syntax' },
    { query: 'sendInitialEvents=false', verb: 'list', expect: { list: { labelSelector: '', fieldSelector: '', limit: 0, continue: '', resourceVersion: '', resourceVersionMatch: '', sendInitialEvents: false } } },
    // watch
    {
      query: 'watch=1&resourceVersion=9&timeoutSeconds=30&allowWatchBookmarks=true&labelSelector=a',
      verb: 'watch',
      expect: {
        watch: { labelSelector: 'a', fieldSelector: '', resourceVersion: '9', resourceVersionMatch: '', allowWatchBookmarks: true, sendInitialEvents: undefined, timeoutSeconds: 30, continue: '' },
      },
    },
    {
      query: 'sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks',
      verb: 'watch',
      expect: {
        watch: { labelSelector: '', fieldSelector: '', resourceVersion: '', resourceVersionMatch: 'NotOlderThan', allowWatchBookmarks: true, sendInitialEvents: true, timeoutSeconds: undefined, continue: '' },
      },
    },
    {
      query: 'timeoutSeconds=-1&allowWatchBookmarks=FALSE&sendInitialEvents=0',
      verb: 'watch',
      expect: {
        watch: { labelSelector: '', fieldSelector: '', resourceVersion: '', resourceVersionMatch: '', allowWatchBookmarks: false, sendInitialEvents: false, timeoutSeconds: -1, continue: '' },
      },
    },
    { query: 'timeoutSeconds=soon', verb: 'watch', expect: 'BadRequest: strconv.ParseInt: parsing "soon": invalid syntax' },
    // A watch has no request deadline: ?timeout is not read.
    { query: 'timeout=never', verb: 'watch', expect: { timeoutMs: MAX_REQUEST_TIMEOUT_MS } },
    // the request deadline
    { query: 'timeout=32s', verb: 'get', expect: { timeoutMs: 32_000 } },
    { query: 'timeout=1m30s', verb: 'list', expect: { timeoutMs: MAX_REQUEST_TIMEOUT_MS } },
    { query: 'timeout=1.5s', verb: 'create', expect: { timeoutMs: 1_500 } },
    { query: 'timeout=1us', verb: 'delete', expect: { timeoutMs: 1 } },
    { query: 'timeout=0', verb: 'get', expect: { timeoutMs: MAX_REQUEST_TIMEOUT_MS } },
    { query: 'timeout=-5s', verb: 'get', expect: { timeoutMs: MAX_REQUEST_TIMEOUT_MS } },
    { query: 'timeout=', verb: 'get', expect: { timeoutMs: MAX_REQUEST_TIMEOUT_MS } },
    { query: 'timeout=abc', verb: 'get', expect: 'BadRequest: invalid timeout specified in the request URL - time: invalid duration "abc"' },
    { query: 'timeout=10', verb: 'update', expect: 'BadRequest: invalid timeout specified in the request URL - time: missing unit in duration "10"' },
    { query: 'timeout=3d', verb: 'other', expect: 'BadRequest: invalid timeout specified in the request URL - time: unknown unit "d" in duration "3d"' },
    // get reads only its resourceVersion
    { query: 'resourceVersion=5&limit=x&watch=maybe', verb: 'get', expect: { resourceVersion: '5' } },
    // create and update
    { query: 'dryRun=All&fieldManager=kubectl-create&fieldValidation=Strict', verb: 'create', expect: { dryRun: true, fieldManager: 'kubectl-create', fieldValidation: 'Strict' } },
    { query: 'dryRun=All&dryRun=All', verb: 'update', expect: { dryRun: true } },
    { query: 'limit=x', verb: 'create', expect: { dryRun: false } },
    { query: 'dryRun=x', verb: 'create', expect: `${CREATE_INVALID}dryRun: Unsupported value: ["x"]: supported values: "All"` },
    { query: 'dryRun=All&dryRun=server', verb: 'update', expect: `${UPDATE_INVALID}dryRun: Unsupported value: ["All","server"]: supported values: "All"` },
    { query: 'dryRun=', verb: 'create', expect: `${CREATE_INVALID}dryRun: Unsupported value: [""]: supported values: "All"` },
    { query: `fieldManager=${'m'.repeat(128)}`, verb: 'create', expect: { fieldManager: 'm'.repeat(128) } },
    { query: `fieldManager=${'m'.repeat(129)}`, verb: 'create', expect: `${CREATE_INVALID}fieldManager: Too long: may not be more than 128 bytes` },
    // 128 bytes, not characters.
    { query: `fieldManager=${'é'.repeat(65)}`, verb: 'update', expect: `${UPDATE_INVALID}fieldManager: Too long: may not be more than 128 bytes` },
    { query: 'fieldManager=a%01b', verb: 'create', expect: `${CREATE_INVALID}fieldManager: Invalid value: "a\\x01b": invalid character U+0001 (at position 1)` },
    {
      query: 'fieldManager=%C3%A9%0A%C2%A0',
      verb: 'create',
      expect: `${CREATE_INVALID}[fieldManager: Invalid value: "é\\n\\u00a0": invalid character U+000A (at position 2), fieldManager: Invalid value: "é\\n\\u00a0": invalid character U+00A0 (at position 3)]`,
    },
    { query: 'fieldValidation=strict', verb: 'create', expect: `${CREATE_INVALID}fieldValidation: Unsupported value: "strict": supported values: "", "Ignore", "Strict", "Warn"` },
    {
      query: 'fieldValidation=no&dryRun=no',
      verb: 'update',
      expect: `${UPDATE_INVALID}[dryRun: Unsupported value: ["no"]: supported values: "All", fieldValidation: Unsupported value: "no": supported values: "", "Ignore", "Strict", "Warn"]`,
    },
    // delete
    { query: 'gracePeriodSeconds=0&propagationPolicy=Background&dryRun=All', verb: 'delete', expect: { gracePeriodSeconds: 0, propagationPolicy: 'Background', dryRun: true } },
    { query: 'gracePeriodSeconds=-1', verb: 'delete', expect: { gracePeriodSeconds: -1 } },
    { query: 'gracePeriodSeconds=later', verb: 'delete', expect: 'BadRequest: strconv.ParseInt: parsing "later": invalid syntax' },
    { query: 'propagationPolicy=Sideways', verb: 'delete', expect: `${DELETE_INVALID}propagationPolicy: Unsupported value: "Sideways": supported values: "Foreground", "Background", "Orphan", "nil"` },
    {
      query: 'orphanDependents=false&propagationPolicy=Orphan',
      verb: 'delete',
      expect: `${DELETE_INVALID}propagationPolicy: Invalid value: "Orphan": orphanDependents and deletionPropagation cannot be both set`,
    },
    { query: 'dryRun=yes', verb: 'delete', expect: `${DELETE_INVALID}dryRun: Unsupported value: ["yes"]: supported values: "All"` },
    { query: 'orphanDependents=true', verb: 'delete', expect: { orphanDependents: true } },
    // deletecollection: the list options and the DeleteOptions, both from the query
    {
      query: 'labelSelector=a%3Db&fieldSelector=metadata.name%3Dx&limit=5&propagationPolicy=Foreground&gracePeriodSeconds=3&dryRun=All',
      verb: 'deletecollection',
      expect: { list: { labelSelector: 'a=b', fieldSelector: 'metadata.name=x', limit: 5, continue: '', resourceVersion: '', resourceVersionMatch: '', sendInitialEvents: undefined }, propagationPolicy: 'Foreground', gracePeriodSeconds: 3, dryRun: true },
    },
    { query: 'propagationPolicy=Sideways', verb: 'deletecollection', expect: `${DELETE_INVALID}propagationPolicy: Unsupported value: "Sideways": supported values: "Foreground", "Background", "Orphan", "nil"` },
    // A request refused for its method reads nothing but its deadline.
    { query: 'dryRun=x&limit=y', verb: 'other', expect: { dryRun: false } },
  ];
  for (const { query, verb, expect } of cases) {
    test(`${verb} ?${query.length > 60 ? `${query.slice(0, 60)}...` : query}`, () => {
      const got = parse(query, verb);
      if (typeof expect === 'string') {
        assert.equal(got, expect);
        return;
      }
      assert.ok(typeof got !== 'string', got as string);
      for (const [key, value] of Object.entries(expect)) assert.deepEqual(got[key as keyof RestQuery], value, key);
    });
  }
});

describe('PatchOptions of apply and of other patches (kube\'s ValidatePatchOptions)', () => {
  const PATCH_INVALID = 'Invalid: PatchOptions.meta.k8s.io "" is invalid: ';
  const patch = (query: string, apply: boolean): RestQuery | string => {
    try {
      return parseRestQuery(new URLSearchParams(query), 'patch', { apply });
    } catch (err) {
      assert.ok(err instanceof StatusError, String(err));
      return `${err.reason}: ${err.message}`;
    }
  };

  test('apply requires a fieldManager and reads force as a query boolean', () => {
    assert.equal(patch('', true), `${PATCH_INVALID}fieldManager: Required value: is required for apply patch`);
    assert.equal(patch('force=true', true), `${PATCH_INVALID}fieldManager: Required value: is required for apply patch`);
    const forced = patch('fieldManager=m&force=true', true);
    assert.ok(typeof forced !== 'string', forced as string);
    assert.deepEqual([forced.fieldManager, forced.force], ['m', true]);
    const plain = patch('fieldManager=m&force=false', true);
    assert.ok(typeof plain !== 'string', plain as string);
    assert.equal(plain.force, false);
  });

  test('another patch may not set force (whatever its value), and needs no fieldManager', () => {
    assert.equal(patch('force=false', false), `${PATCH_INVALID}force: Forbidden: may not be specified for non-apply patch`);
    const ok = patch('', false);
    assert.ok(typeof ok !== 'string', ok as string);
    assert.deepEqual([ok.fieldManager, ok.force], ['', false]);
  });
});

describe('queryBool', () => {
  const q = (s: string) => new URLSearchParams(s);
  test('as kube reads every boolean parameter: only "0" and "false" (any case) are false, the first value decides', () => {
    for (const query of ['f=', 'f', 'f=true', 'f=1', 'f=True', 'f=TRUE', 'f=yes', 'f=maybe', 'f=t', 'f=true&f=false']) assert.equal(queryBool(q(query), 'f'), true, query);
    for (const query of ['f=false', 'f=False', 'f=FALSE', 'f=0', 'f=false&f=true']) assert.equal(queryBool(q(query), 'f'), false, query);
    assert.equal(queryBool(q('g=1'), 'f'), undefined);
  });

  test('the Python client\'s spelling turns on watch bookmarks and initial events', () => {
    const query = parseRestQuery(q('watch=True&allowWatchBookmarks=True&sendInitialEvents=True&timeoutSeconds=5'), 'watch');
    assert.equal(query.watch.allowWatchBookmarks, true);
    assert.equal(query.watch.sendInitialEvents, true);
    assert.equal(query.watch.timeoutSeconds, 5);
    assert.equal(parseRestQuery(q('allowWatchBookmarks=False&sendInitialEvents=0'), 'watch').watch.allowWatchBookmarks, false);
    assert.equal(parseRestQuery(q('sendInitialEvents=0'), 'watch').watch.sendInitialEvents, false);
  });
});

describe('includeObjectPolicy', () => {
  test('Metadata by default; None, Metadata, Object; anything else the 400 kube gives a Table request', () => {
    assert.equal(includeObjectPolicy({ includeObject: '' }), 'Metadata');
    assert.equal(includeObjectPolicy({ includeObject: 'Metadata' }), 'Metadata');
    assert.equal(includeObjectPolicy({ includeObject: 'None' }), 'None');
    assert.equal(includeObjectPolicy({ includeObject: 'Object' }), 'Object');
    assert.throws(() => includeObjectPolicy({ includeObject: 'object' }), {
      reason: 'BadRequest',
      message: 'Unable to convert to Table as requested: includeObject: Invalid value: "object": must be \'Metadata\', \'Object\', \'None\', or empty',
    });
  });
});

describe('parseGoDuration', () => {
  test('reads what time.ParseDuration reads and says what it says', () => {
    const cases: [string, number | string][] = [
      ['0', 0],
      ['-0', 0],
      ['300ms', 300],
      ['1.5h', 5_400_000],
      ['2h45m', 9_900_000],
      ['.5s', 500],
      ['+5s', 5_000],
      ['-2s', -2_000],
      ['1us', 0.001],
      ['1µs', 0.001],
      ['1μs', 0.001],
      ['7ns', 0.000007],
      ['2562047h', 9_223_369_200_000],
      ['', 'time: invalid duration ""'],
      ['abc', 'time: invalid duration "abc"'],
      ['10', 'time: missing unit in duration "10"'],
      ['5x', 'time: unknown unit "x" in duration "5x"'],
      ['1..5s', 'time: missing unit in duration "1..5s"'],
      ['.s', 'time: invalid duration ".s"'],
      ['٣s', 'time: invalid duration "\\xd9\\xa3s"'],
      ['5µx', 'time: unknown unit "\\xc2\\xb5x" in duration "5\\xc2\\xb5x"'],
      ['9223372036854775808ns', 'time: invalid duration "9223372036854775808ns"'],
      ['2562048h', 'time: invalid duration "2562048h"'],
    ];
    for (const [input, expected] of cases) {
      assert.deepEqual(parseGoDuration(input), typeof expected === 'number' ? { ms: expected } : { error: expected }, input);
    }
  });
});

describe('decodeDeleteOptionsBody', () => {
  const fails = (body: Record<string, unknown>, reason: string, message: RegExp) =>
    assert.throws(() => decodeDeleteOptionsBody(body), (err: unknown) => err instanceof StatusError && err.reason === reason && message.test(err.message));

  test('decodes what kubectl sends, and nulls as absent', () => {
    assert.deepEqual(decodeDeleteOptionsBody({ kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: 'Background' }), { present: true, preconditions: {}, dryRun: false, propagationPolicy: 'Background' });
    assert.deepEqual(decodeDeleteOptionsBody({ preconditions: { uid: 'u', resourceVersion: '7' }, dryRun: ['All'], gracePeriodSeconds: 0 }), {
      present: true,
      preconditions: { uid: 'u', resourceVersion: '7' },
      dryRun: true,
      gracePeriodSeconds: 0,
    });
    assert.deepEqual(decodeDeleteOptionsBody({ preconditions: null, dryRun: null }), { present: true, preconditions: {}, dryRun: false });
    assert.deepEqual(decodeDeleteOptionsBody({ orphanDependents: false }), { present: true, preconditions: {}, dryRun: false, orphanDependents: false });
  });

  test('a field of the wrong type is a 400 naming it; a precondition is never dropped silently', () => {
    fails({ preconditions: { uid: 5 } }, 'BadRequest', /cannot unmarshal number into Go struct field DeleteOptions\.preconditions\.uid of type types\.UID/);
    fails({ preconditions: 'x' }, 'BadRequest', /preconditions of type v1\.Preconditions/);
    fails({ dryRun: 'All' }, 'BadRequest', /dryRun of type \[\]string/);
    fails({ gracePeriodSeconds: 1.5 }, 'BadRequest', /gracePeriodSeconds of type int64/);
    fails({ propagationPolicy: false }, 'BadRequest', /propagationPolicy of type v1\.DeletionPropagation/);
  });

  test('values kube refuses are 422, as in the query: a misspelt dry run never deletes', () => {
    fails({ dryRun: ['Al'] }, 'Invalid', /dryRun: Unsupported value/);
    fails({ propagationPolicy: 'Bogus' }, 'Invalid', /propagationPolicy: Unsupported value: "Bogus"/);
    fails({ propagationPolicy: 'Orphan', orphanDependents: true }, 'Invalid', /cannot be both set/);
  });
});
