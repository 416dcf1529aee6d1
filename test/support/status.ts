/** Assertions on the StatusErrors a synchronous call throws. */
import assert from 'node:assert/strict';
import { StatusError } from '../../lib/errors.ts';

/** The StatusError `fn` throws; fails the test when it throws something else or nothing. */
export function statusOf(fn: () => unknown): StatusError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof StatusError, String(err));
    return err;
  }
  assert.fail('no error');
}
