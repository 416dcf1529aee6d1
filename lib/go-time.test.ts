/**
 * time.Parse(time.RFC3339, s) as Go answers it (what parses, and the words of each failure),
 * and metav1.Time's JSON form.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { formatRFC3339, parseRFC3339, type GoTime } from './go-time.ts';

function parsed(text: string): GoTime {
  const result = parseRFC3339(text);
  if ('error' in result) assert.fail(`${text}: ${result.error}`);
  return result;
}

function error(text: string): string {
  const result = parseRFC3339(text);
  assert.ok('error' in result, `${text} parsed`);
  return result.error;
}

const LAYOUT = '"2006-01-02T15:04:05Z07:00"';

describe('parseRFC3339', () => {
  test('what Go accepts: Z or an offset, a fraction after "." or ",", a one-digit hour, offsets up to 24:60', () => {
    assert.equal(parsed('2024-09-17T11:57:54Z').ms, Date.UTC(2024, 8, 17, 11, 57, 54));
    assert.equal(parsed('2024-09-17T13:57:54+02:00').ms, Date.UTC(2024, 8, 17, 11, 57, 54));
    assert.equal(parsed('2024-09-17T10:57:54-01:00').ms, Date.UTC(2024, 8, 17, 11, 57, 54));
    const fraction = parsed('2024-09-17T11:57:54.123456789Z');
    assert.equal(fraction.ms, Date.UTC(2024, 8, 17, 11, 57, 54, 123));
    assert.ok(Math.abs(fraction.fraction - 0.456789) < 1e-9);
    assert.equal(parsed('2024-09-17T11:57:54,5Z').ms, Date.UTC(2024, 8, 17, 11, 57, 54, 500));
    assert.equal(parsed('2024-09-17T11:57:54.1234567891234Z').ms, Date.UTC(2024, 8, 17, 11, 57, 54, 123), 'digits past nine are read and dropped');
    assert.equal(parsed('2024-09-17T1:57:54Z').ms, Date.UTC(2024, 8, 17, 1, 57, 54));
    assert.equal(parsed('2024-09-17T11:57:54+24:60').ms, Date.UTC(2024, 8, 17, 11, 57, 54) - (24 * 60 + 60) * 60_000);
    assert.equal(parsed('2024-02-29T00:00:00Z').ms, Date.UTC(2024, 1, 29));
    assert.equal(parsed('0099-01-01T00:00:00Z').ms, new Date('0099-01-01T00:00:00Z').getTime(), 'years below 100 are not 19xx');
  });

  test('Go\'s zero time, at any offset, is marked zero', () => {
    assert.equal(parsed('0001-01-01T00:00:00Z').zero, true);
    assert.equal(parsed('0001-01-01T01:00:00+01:00').zero, true);
    assert.equal(parsed('0001-01-01T00:00:00.000001Z').zero, false);
    assert.equal(parsed('2024-09-17T11:57:54Z').zero, false);
  });

  test('an element that does not fit: cannot parse the rest as the layout element', () => {
    assert.equal(error(''), `parsing time "" as ${LAYOUT}: cannot parse "" as "2006"`);
    assert.equal(error('yesterday'), `parsing time "yesterday" as ${LAYOUT}: cannot parse "yesterday" as "2006"`);
    assert.equal(error('24-09-17T11:57:54Z'), `parsing time "24-09-17T11:57:54Z" as ${LAYOUT}: cannot parse "24-09-17T11:57:54Z" as "2006"`);
    assert.equal(error('2024/09/17T11:57:54Z'), `parsing time "2024/09/17T11:57:54Z" as ${LAYOUT}: cannot parse "/09/17T11:57:54Z" as "-"`);
    assert.equal(error('2024-9-17T11:57:54Z'), `parsing time "2024-9-17T11:57:54Z" as ${LAYOUT}: cannot parse "9-17T11:57:54Z" as "01"`);
    assert.equal(error('2024-09-17 11:57:54Z'), `parsing time "2024-09-17 11:57:54Z" as ${LAYOUT}: cannot parse " 11:57:54Z" as "T"`);
    assert.equal(error('2024-09-17t11:57:54z'), `parsing time "2024-09-17t11:57:54z" as ${LAYOUT}: cannot parse "t11:57:54z" as "T"`);
    assert.equal(error('2024-09-17T11:5:54Z'), `parsing time "2024-09-17T11:5:54Z" as ${LAYOUT}: cannot parse "5:54Z" as "04"`);
    assert.equal(error('2024-09-17T11:57:54'), `parsing time "2024-09-17T11:57:54" as ${LAYOUT}: cannot parse "" as "Z07:00"`);
    assert.equal(error('2024-09-17T11:57:54+0200'), `parsing time "2024-09-17T11:57:54+0200" as ${LAYOUT}: cannot parse "+0200" as "Z07:00"`);
    assert.equal(error('2024-09-17T11:57:54*02:00'), `parsing time "2024-09-17T11:57:54*02:00" as ${LAYOUT}: cannot parse "*02:00" as "Z07:00"`);
    assert.equal(error('2024-09-17T11:57:54.Z'), `parsing time "2024-09-17T11:57:54.Z" as ${LAYOUT}: cannot parse ".Z" as "Z07:00"`);
  });

  test('a number out of its range, and text after the time', () => {
    assert.equal(error('2024-13-01T00:00:00Z'), 'parsing time "2024-13-01T00:00:00Z": month out of range');
    assert.equal(error('2024-00-01T00:00:00Z'), 'parsing time "2024-00-01T00:00:00Z": month out of range');
    assert.equal(error('2024-09-17T24:00:00Z'), 'parsing time "2024-09-17T24:00:00Z": hour out of range');
    assert.equal(error('2024-09-17T11:60:00Z'), 'parsing time "2024-09-17T11:60:00Z": minute out of range');
    assert.equal(error('2024-09-17T11:57:60Z'), 'parsing time "2024-09-17T11:57:60Z": second out of range');
    assert.equal(error('2024-09-17T11:57:54+25:00'), 'parsing time "2024-09-17T11:57:54+25:00": time zone offset hour out of range');
    assert.equal(error('2024-09-17T11:57:54+01:61'), 'parsing time "2024-09-17T11:57:54+01:61": time zone offset minute out of range');
    assert.equal(error('2024-09-17T11:57:54Zjunk'), 'parsing time "2024-09-17T11:57:54Zjunk": extra text: "junk"');
    // The day is checked against its month last, after any extra text.
    assert.equal(error('2023-02-29T00:00:00Z'), 'parsing time "2023-02-29T00:00:00Z": day out of range');
    assert.equal(error('2024-09-31T00:00:00Zx'), 'parsing time "2024-09-31T00:00:00Zx": extra text: "x"');
    assert.equal(error('2024-09-00T00:00:00Z'), 'parsing time "2024-09-00T00:00:00Z": day out of range');
  });

  test('quoted as Go quotes: " and \\ escaped, every byte of a non-ASCII or control character as \\xNN', () => {
    assert.equal(error('é'), `parsing time "\\xc3\\xa9" as ${LAYOUT}: cannot parse "\\xc3\\xa9" as "2006"`);
    assert.equal(error('a"b\\c\n'), `parsing time "a\\"b\\\\c\\x0a" as ${LAYOUT}: cannot parse "a\\"b\\\\c\\x0a" as "2006"`);
    // Go reads bytes: the two bytes of "é" are not two digits of an offset.
    assert.equal(error('2024-09-17T11:57:54+é:00'), `parsing time "2024-09-17T11:57:54+\\xc3\\xa9:00" as ${LAYOUT}: cannot parse "+\\xc3\\xa9:00" as "Z07:00"`);
  });
});

describe('formatRFC3339', () => {
  test('UTC, whole seconds cut (not rounded), four-digit years as Go writes them', () => {
    assert.equal(formatRFC3339(Date.UTC(2024, 8, 17, 11, 57, 54, 999)), '2024-09-17T11:57:54Z');
    assert.equal(formatRFC3339(parsed('2024-09-17T13:57:54.9+02:00').ms), '2024-09-17T11:57:54Z');
    assert.equal(formatRFC3339(parsed('0099-01-01T00:00:00Z').ms), '0099-01-01T00:00:00Z');
    assert.equal(formatRFC3339(parsed('9999-12-31T23:00:00-02:00').ms), '10000-01-01T01:00:00Z');
    assert.equal(formatRFC3339(parsed('0000-01-01T00:00:00+01:00').ms), '-0001-12-31T23:00:00Z');
    assert.equal(formatRFC3339(-500), '1969-12-31T23:59:59Z', 'before the epoch the second below is kept');
  });
});
