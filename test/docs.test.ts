/**
 * The documentation that is derived from code stays in step with it.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { CONFIG_DOC, renderConfigDoc } from '../scripts/config-docs.ts';

test('docs/configuration.md lists exactly the flags the services read', () => {
  assert.equal(readFileSync(CONFIG_DOC, 'utf8'), renderConfigDoc(), 'stale: run node scripts/config-docs.ts');
});

test('the README shows the two commands first', () => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const first = readme.indexOf('make up');
  assert.ok(first > 0 && first < readme.indexOf('## Architecture'));
  assert.ok(readme.indexOf('make test') < readme.indexOf('## Architecture'));
});
