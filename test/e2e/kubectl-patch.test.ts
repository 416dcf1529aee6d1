/**
 * End to end with real kubectl 1.27 and 1.33: the PATCH verb. `apply -f` of a changed object
 * (a strategic merge patch), `patch --type=json|merge|strategic`, `label`, `annotate`; and
 * server-side field validation, which kubectl uses once the published OpenAPI offers PATCH
 * with fieldValidation: an unknown field is refused by the server under kubectl's default
 * (Strict) and warned under `--validate=warn`, on create and on patch.
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

    test('apply -f of a changed ConfigMap patches it (strategic merge patch)', async () => {
      const name = `applied-${suffix}`;
      const created = await kubectl(['apply', '-f', '-'], { input: configMap(name, { a: '1', gone: 'x' }) });
      assert.equal(created.code, 0, created.stderr);
      const changed = await kubectl(['apply', '-f', '-'], { input: configMap(name, { a: '2', b: '3' }) });
      assert.equal(changed.code, 0, changed.stderr);
      assert.equal(changed.stdout.trim(), `configmap/${name} configured`);
      assert.deepEqual(await data(name), { a: '2', b: '3' });
    });

    test('patch --type=json, merge and strategic; a failed JSON patch test is refused', async () => {
      const name = `patched-${suffix}`;
      assert.equal((await kubectl(['create', 'configmap', name, '--from-literal=a=1'])).code, 0);
      for (const [type, patch] of [
        ['json', '[{"op":"add","path":"/data/j","value":"json"}]'],
        ['merge', '{"data":{"a":null,"m":"merge"}}'],
        ['strategic', '{"data":{"s":"strategic"}}'],
      ] as const) {
        const r = await kubectl(['patch', 'configmap', name, `--type=${type}`, '-p', patch]);
        assert.equal(r.code, 0, r.stderr);
        assert.equal(r.stdout.trim(), `configmap/${name} patched`);
      }
      assert.deepEqual(await data(name), { j: 'json', m: 'merge', s: 'strategic' });
      const failed = await kubectl(['patch', 'configmap', name, '--type=json', '-p', '[{"op":"test","path":"/data/j","value":"other"}]']);
      assert.notEqual(failed.code, 0);
      assert.match(failed.stderr, /The request is invalid: the server rejected our request due to an error in our request/);
    });

    test('label and annotate', async () => {
      const name = `labelled-${suffix}`;
      assert.equal((await kubectl(['create', 'configmap', name, '--from-literal=a=1'])).code, 0);
      const labelled = await kubectl(['label', 'configmap', name, 'tier=web']);
      assert.equal(labelled.code, 0, labelled.stderr);
      assert.equal(labelled.stdout.trim(), `configmap/${name} labeled`);
      const annotated = await kubectl(['annotate', 'configmap', name, 'note=hi']);
      assert.equal(annotated.code, 0, annotated.stderr);
      assert.match(annotated.stdout.trim(), new RegExp(`^configmap/${name} annotated?$`)); // 1.27 prints "annotate"
      const got = await kubectl(['get', 'configmap', name, '-o', 'jsonpath={.metadata.labels.tier} {.metadata.annotations.note}']);
      assert.equal(got.stdout, 'web hi');
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
