/**
 * End to end with real kubectl 1.27 and 1.33: server-side field validation, which kubectl
 * uses once the published OpenAPI offers PATCH with fieldValidation: an unknown field is
 * refused by the server under kubectl's default (Strict) and warned under `--validate=warn`,
 * on create and on the patch of `apply -f` of a changed object. The writes themselves (apply,
 * diff, patch of the three types, label, annotate, edit, ...) are in kubectl-writes.test.ts.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { before, describe, test } from 'node:test';
import { kubectlVersionsPlane, type Kubectl } from '../support/kubectl.ts';

const VERSIONS = ['1.27', '1.33'] as const;
const suite = kubectlVersionsPlane('patch', VERSIONS);

function configMap(name: string, data: Record<string, string>, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data, ...extra });
}

for (const version of VERSIONS) {
  describe(`kubectl ${version} patches`, { skip: suite.skip }, () => {
    let kubectl: Kubectl;
    const suffix = version.replace('.', '-');
    const data = async (name: string): Promise<Record<string, string>> => {
      const r = await kubectl(['get', 'configmap', name, '-o', 'json']);
      assert.equal(r.code, 0, r.stderr);
      return (JSON.parse(r.stdout) as { data?: Record<string, string> }).data ?? {};
    };
    before(() => {
      kubectl = suite.kubectl(version);
    });

    test('an unknown field: refused by the server under the default Strict, warned under --validate=warn (create)', async () => {
      const name = `unknown-${suffix}`;
      const refused = await kubectl(['apply', '-f', '-'], { input: configMap(name, { a: '1' }, { bogus: 1 }) });
      assert.notEqual(refused.code, 0);
      assert.match(refused.stderr, /Error from server \(BadRequest\): .*strict decoding error: unknown field "bogus"/);
      const warned = await kubectl(['apply', '--validate=warn', '-f', '-'], { input: configMap(name, { a: '1' }, { bogus: 1 }) });
      assert.equal(warned.code, 0, warned.stderr);
      assert.equal(warned.stdout.trim(), `configmap/${name} created`);
      assert.match(warned.stderr, /^Warning: unknown field "bogus"$/m);
    });

    test('an unknown field in a changed object: refused under Strict (422 on the patch, as kube), warned under --validate=warn', async () => {
      const name = `unknown-patch-${suffix}`;
      assert.equal((await kubectl(['apply', '-f', '-'], { input: configMap(name, { a: '1' }) })).code, 0);
      const refused = await kubectl(['apply', '-f', '-'], { input: configMap(name, { a: '2' }, { bogus: 1 }) });
      assert.notEqual(refused.code, 0);
      assert.match(refused.stderr, /The request is invalid: patch: Invalid value: ".*": strict decoding error: unknown field "bogus"/);
      assert.deepEqual(await data(name), { a: '1' });
      const warned = await kubectl(['apply', '--validate=warn', '-f', '-'], { input: configMap(name, { a: '2' }, { bogus: 1 }) });
      assert.equal(warned.code, 0, warned.stderr);
      assert.equal(warned.stdout.trim(), `configmap/${name} configured`);
      assert.match(warned.stderr, /^Warning: unknown field "bogus"$/m);
      assert.deepEqual(await data(name), { a: '2' });
    });

    test('the example Node is created with default validation (the server validates, not kubectl)', async () => {
      const node = JSON.parse(await readFile(new URL('../../examples/node.json', import.meta.url), 'utf8')) as { metadata: { name: string } };
      node.metadata.name = `example-${suffix}`;
      const r = await kubectl(['create', '-f', '-'], { input: JSON.stringify(node) });
      assert.equal(r.code, 0, r.stderr);
    });
  });
}
