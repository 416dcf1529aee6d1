/**
 * List and watch options checked as kube-apiserver checks them: each case is the options and
 * the Status they get (or none), word for word; Go's quoting and integer parsing under them.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { StatusError } from './errors.ts';
import { goQuote, parseInt64, parseUint64 } from './go-strconv.ts';
import {
  checkListOptions,
  checkWatchOptions,
  listOptionsFromProto,
  listOptionsToProto,
  watchOptionsFromProto,
  watchOptionsToProto,
  type ListOptions,
  type WatchOptions,
} from './list-options.ts';
import { loadApiProto } from './proto.ts';
import { builtinRegistry } from './kinds/index.ts';

const kinds = builtinRegistry();
const configmaps = kinds.selectableFields('', 'configmaps');
const namespaces = kinds.selectableFields('', 'namespaces');
const INVALID = 'ListOptions.meta.k8s.io "" is invalid: ';

/** The Status `check` throws, as "Reason: message", or "ok". */
function outcome(check: () => unknown): string {
  try {
    check();
    return 'ok';
  } catch (err) {
    assert.ok(err instanceof StatusError, String(err));
    return `${err.reason}: ${err.message}`;
  }
}

describe('checkListOptions', () => {
  const cases: { options: ListOptions; target?: typeof configmaps; expect: string | RegExp }[] = [
    { options: {}, expect: 'ok' },
    { options: { limit: 0 }, expect: 'ok' },
    { options: { limit: 500, continue: 'token', labelSelector: 'a=b,c in (d)', fieldSelector: 'metadata.name=x' }, expect: 'ok' },
    { options: { limit: -1 }, expect: 'BadRequest: limit: Invalid value: -1: must be greater than or equal to 0' },
    { options: { limit: 1.5 }, expect: 'BadRequest: limit: Invalid value: 1.5: must be an integer' },
    { options: { labelSelector: 'a in (' }, expect: /^BadRequest: unable to parse requirement/ },
    { options: { fieldSelector: 'nope' }, expect: "BadRequest: invalid selector: 'nope'; can't understand 'nope'" },
    { options: { fieldSelector: 'status.phase=Active' }, expect: 'BadRequest: field label not supported: status.phase' },
    { options: { fieldSelector: 'status.phase=Active' }, target: namespaces, expect: 'ok' },
    {
      options: { resourceVersionMatch: 'Exact' },
      expect: `Invalid: ${INVALID}resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided`,
    },
    {
      options: { resourceVersion: '5', resourceVersionMatch: 'NotOlderThan', continue: 'token' },
      expect: `Invalid: ${INVALID}resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden when continue is provided`,
    },
    {
      options: { resourceVersion: '5', resourceVersionMatch: 'Sometimes' },
      expect: `Invalid: ${INVALID}resourceVersionMatch: Unsupported value: "Sometimes": supported values: "Exact", "NotOlderThan", ""`,
    },
    {
      options: { resourceVersion: '0', resourceVersionMatch: 'Exact' },
      expect: `Invalid: ${INVALID}resourceVersionMatch: Forbidden: resourceVersionMatch "exact" is forbidden for resourceVersion "0"`,
    },
    {
      // Every rule that fails is listed, in kube's order.
      options: { resourceVersionMatch: 'Sometimes', continue: 'token' },
      expect: `Invalid: ${INVALID}[resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided, resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden when continue is provided, resourceVersionMatch: Unsupported value: "Sometimes": supported values: "Exact", "NotOlderThan", ""]`,
    },
    { options: { resourceVersion: '5', resourceVersionMatch: 'Exact' }, expect: 'ok' },
    { options: { sendInitialEvents: false }, expect: `Invalid: ${INVALID}sendInitialEvents: Forbidden: sendInitialEvents is forbidden for list` },
    {
      options: { resourceVersion: 'x' },
      expect: 'BadRequest: invalid resource version: resourceVersion: Invalid value: "x": strconv.ParseUint: parsing "x": invalid syntax',
    },
    {
      options: { resourceVersion: '-1' },
      expect: 'BadRequest: invalid resource version: resourceVersion: Invalid value: "-1": strconv.ParseUint: parsing "-1": invalid syntax',
    },
    {
      options: { resourceVersion: '18446744073709551616' },
      expect:
        'BadRequest: invalid resource version: resourceVersion: Invalid value: "18446744073709551616": strconv.ParseUint: parsing "18446744073709551616": value out of range',
    },
    // The order: values, selector syntax, the rules, supported fields, resourceVersion.
    { options: { limit: -1, labelSelector: 'a in (' }, expect: /^BadRequest: limit: / },
    { options: { labelSelector: 'a in (', resourceVersionMatch: 'Exact' }, expect: /^BadRequest: unable to parse requirement/ },
    { options: { fieldSelector: 'status.phase=x', resourceVersionMatch: 'Exact' }, expect: /^Invalid: / },
    { options: { fieldSelector: 'status.phase=x', resourceVersion: 'x' }, expect: /^BadRequest: field label not supported/ },
  ];
  for (const { options, target, expect } of cases) {
    test(`${JSON.stringify(options)}${target === undefined ? '' : ` on ${target.supported.join(',')}`}`, () => {
      const got = outcome(() => checkListOptions(target ?? configmaps, options));
      if (typeof expect === 'string') assert.equal(got, expect);
      else assert.match(got, expect);
    });
  }

  test('what it parses: the page size (a page larger than any collection is the same), selectors, the revision', () => {
    const checked = checkListOptions(configmaps, { limit: 2 ** 60, labelSelector: 'a=b', resourceVersion: '42' });
    assert.equal(checked.limit, Number.MAX_SAFE_INTEGER);
    assert.equal(checked.labels.matches({ a: 'b' }), true);
    assert.equal(checked.labels.matches({ a: 'c' }), false);
    assert.equal(checked.fields.empty, true);
    assert.equal(checked.resourceVersion, 42n);
    assert.equal(checkListOptions(configmaps, {}).limit, 0);
  });
});

describe('checkWatchOptions', () => {
  const cases: { options: WatchOptions; expect: string | RegExp }[] = [
    { options: {}, expect: 'ok' },
    { options: { timeoutSeconds: 0, allowWatchBookmarks: true, resourceVersion: '7' }, expect: 'ok' },
    { options: { timeoutSeconds: -1 }, expect: 'BadRequest: timeoutSeconds: Invalid value: -1: must be greater than or equal to 0' },
    { options: { sendInitialEvents: true, resourceVersionMatch: 'NotOlderThan', allowWatchBookmarks: true }, expect: 'ok' },
    // kube takes a watch-list without bookmarks (it then sends no end marker).
    { options: { sendInitialEvents: true, resourceVersionMatch: 'NotOlderThan' }, expect: 'ok' },
    { options: { sendInitialEvents: false, resourceVersionMatch: 'NotOlderThan', resourceVersion: '7' }, expect: 'ok' },
    {
      options: { sendInitialEvents: true },
      expect: `Invalid: ${INVALID}resourceVersionMatch: Forbidden: sendInitialEvents requires setting resourceVersionMatch to NotOlderThan`,
    },
    {
      options: { sendInitialEvents: false },
      expect: `Invalid: ${INVALID}resourceVersionMatch: Forbidden: sendInitialEvents requires setting resourceVersionMatch to NotOlderThan`,
    },
    {
      options: { resourceVersionMatch: 'NotOlderThan', resourceVersion: '7' },
      expect: `Invalid: ${INVALID}resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided`,
    },
    {
      options: { sendInitialEvents: true, resourceVersionMatch: 'Exact' },
      expect: `Invalid: ${INVALID}[resourceVersionMatch: Forbidden: sendInitialEvents requires setting resourceVersionMatch to NotOlderThan, resourceVersionMatch: Unsupported value: "Exact": supported values: "NotOlderThan"]`,
    },
    {
      options: { sendInitialEvents: true, resourceVersionMatch: 'NotOlderThan', continue: 'token' },
      expect: `Invalid: ${INVALID}resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden when continue is provided`,
    },
    { options: { fieldSelector: 'spec.unschedulable=true' }, expect: 'BadRequest: field label not supported: spec.unschedulable' },
    {
      options: { resourceVersion: 'abc' },
      expect: 'BadRequest: invalid resource version: resourceVersion: Invalid value: "abc": strconv.ParseUint: parsing "abc": invalid syntax',
    },
    { options: { timeoutSeconds: -5, sendInitialEvents: true }, expect: /^BadRequest: timeoutSeconds: / },
  ];
  for (const { options, expect } of cases) {
    test(JSON.stringify(options), () => {
      const got = outcome(() => checkWatchOptions(configmaps, options));
      if (typeof expect === 'string') assert.equal(got, expect);
      else assert.match(got, expect);
    });
  }
});

describe('Go strconv', () => {
  test('goQuote quotes as strconv.Quote', () => {
    const cases: [string, string][] = [
      ['abc', '"abc"'],
      ['', '""'],
      ['a"b\\c', '"a\\"b\\\\c"'],
      ['\n\t\x07\x01\x7f', '"\\n\\t\\a\\x01\\x7f"'],
      ['é ü 日本', '"é ü 日本"'],
      ['\u00a0\u00ad', '"\\u00a0\\u00ad"'],
      ['😀', '"😀"'],
      ['\u{e0001}', '"\\U000e0001"'],
    ];
    for (const [input, quoted] of cases) assert.equal(goQuote(input), quoted, JSON.stringify(input));
  });

  test('parseInt64 and parseUint64 take what Go takes and say what Go says', () => {
    const ints: [string, bigint | string][] = [
      ['5', 5n],
      ['+5', 5n],
      ['-5', -5n],
      ['-9223372036854775808', -(2n ** 63n)],
      ['9223372036854775807', 2n ** 63n - 1n],
      ['9223372036854775808', 'strconv.ParseInt: parsing "9223372036854775808": value out of range'],
      ['', 'strconv.ParseInt: parsing "": invalid syntax'],
      ['1.5', 'strconv.ParseInt: parsing "1.5": invalid syntax'],
      ['0x10', 'strconv.ParseInt: parsing "0x10": invalid syntax'],
      [' 5', 'strconv.ParseInt: parsing " 5": invalid syntax'],
      ['1_000', 'strconv.ParseInt: parsing "1_000": invalid syntax'],
    ];
    for (const [input, expected] of ints) {
      const parsed = parseInt64(input);
      assert.deepEqual(parsed, typeof expected === 'bigint' ? { value: expected } : { error: expected }, input);
    }
    assert.deepEqual(parseUint64('18446744073709551615'), { value: 2n ** 64n - 1n });
    assert.deepEqual(parseUint64('+5'), { error: 'strconv.ParseUint: parsing "+5": invalid syntax' });
  });
});

describe('the wire form (apiserver.v1.ListOptions and WatchOptions)', () => {
  // Through real protobuf encoding, as a client and a server see the messages.
  const proto = loadApiProto();
  const listMethod = proto.apiserver.v1.Storage.service.List;
  const watchMethod = proto.apiserver.v1.Watch.service.Watch;
  const sendList = (o: ListOptions) => listMethod.requestDeserialize(listMethod.requestSerialize({ options: listOptionsToProto(o) })).options;
  const sendWatch = (o: WatchOptions) => watchMethod.requestDeserialize(watchMethod.requestSerialize({ options: watchOptionsToProto(o) })).options;

  test('list options arrive as sent; absent ones as their zero values', () => {
    const full = { labelSelector: 'a=b', fieldSelector: 'metadata.name=x', limit: 500, continue: 'tok', resourceVersion: '12', resourceVersionMatch: 'NotOlderThan' };
    assert.deepEqual(listOptionsFromProto(sendList(full)), full);
    const zero = { labelSelector: '', fieldSelector: '', limit: 0, continue: '', resourceVersion: '', resourceVersionMatch: '' };
    assert.deepEqual(listOptionsFromProto(sendList({})), zero);
    assert.deepEqual(listOptionsFromProto(null), zero);
    // int64 arrives as a decimal string (the loader's longs: String) and is read back as a number.
    assert.equal(listOptionsFromProto(sendList({ limit: Number.MAX_SAFE_INTEGER })).limit, Number.MAX_SAFE_INTEGER);
    // A negative limit travels, so that the receiver's check refuses it in kube's words.
    assert.equal(outcome(() => checkListOptions(configmaps, listOptionsFromProto(sendList({ limit: -1 })))), 'BadRequest: limit: Invalid value: -1: must be greater than or equal to 0');
  });

  test('watch options arrive as sent; sendInitialEvents=false cannot travel and arrives absent', () => {
    const full: WatchOptions = {
      labelSelector: 'a',
      fieldSelector: 'metadata.name=x',
      resourceVersion: '7',
      resourceVersionMatch: 'NotOlderThan',
      allowWatchBookmarks: true,
      sendInitialEvents: true,
      timeoutSeconds: 30,
    };
    assert.deepEqual(watchOptionsFromProto(sendWatch(full)), full);
    assert.equal(watchOptionsFromProto(sendWatch({ ...full, sendInitialEvents: false })).sendInitialEvents, undefined);
    assert.deepEqual(watchOptionsFromProto(null), {});
    assert.deepEqual(watchOptionsFromProto(sendWatch({})), {
      labelSelector: '',
      fieldSelector: '',
      resourceVersion: '',
      resourceVersionMatch: '',
      allowWatchBookmarks: false,
      sendInitialEvents: undefined,
      timeoutSeconds: 0,
    });
  });

  test('without initial events the match is left out, so a watch the sender may make is not refused at the receiver', () => {
    // sendInitialEvents=false with NotOlderThan is a valid watch; on the wire false is absent,
    // and an absent sendInitialEvents with a match would be refused.
    const sent: WatchOptions = { resourceVersion: '5', resourceVersionMatch: 'NotOlderThan', sendInitialEvents: false };
    assert.equal(outcome(() => checkWatchOptions(configmaps, sent)), 'ok');
    const received = watchOptionsFromProto(sendWatch(sent));
    assert.equal(received.resourceVersionMatch, '');
    assert.equal(outcome(() => checkWatchOptions(configmaps, received)), 'ok');
    assert.equal(watchOptionsToProto({ resourceVersionMatch: 'NotOlderThan' }).resourceVersionMatch, '');
    assert.equal(watchOptionsToProto({ resourceVersionMatch: 'Exact', sendInitialEvents: true }).resourceVersionMatch, 'Exact');
  });
});
