/** The warnings of one request, as kube's recorder keeps and sends them. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WarningRecorder } from './warnings.ts';

test('each text once, in order, as 299 - "<text>" with quotes and backslashes escaped', () => {
  const w = new WarningRecorder();
  w.add('unknown field "spec.x"');
  w.add('');
  w.add('unknown field "spec.x"');
  w.add('a\\b');
  w.add('bad\ncontrol');
  assert.deepEqual(w.headerValues(), ['299 - "unknown field \\"spec.x\\""', '299 - "a\\\\b"']);
});

test('UTF-8 text is sent as its bytes', () => {
  const w = new WarningRecorder();
  w.add('é');
  assert.deepEqual(Buffer.from(w.headerValues()[0] ?? '', 'latin1').toString('utf8'), '299 - "é"');
});

test('past 4096 characters in all, each text is cut to 256 and the rest dropped', () => {
  const w = new WarningRecorder();
  for (let i = 0; i < 40; i++) w.add(`${i} ${'x'.repeat(500)}`);
  const sent = w.warnings;
  assert.ok(sent.every((t) => t.length <= 256));
  assert.equal(sent.length, 16);
  assert.ok(sent.reduce((n, t) => n + t.length, 0) <= 4096);
  const few = new WarningRecorder();
  few.add('short');
  assert.deepEqual(few.warnings, ['short']);
});
