/**
 * End to end with real kubectl 1.27 (reads /openapi/v2 as gnostic protobuf) and 1.33 (reads
 * /openapi/v3 first): `explain` walks the published schemas, and `apply -f` and `create -f`
 * work with default validation (which downloads the documents before sending anything).
 * Each version runs with its own empty HOME, so nothing comes from a cache.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { kubectlVersionsPlane, type Kubectl } from '../support/kubectl.ts';

const VERSIONS = ['1.27', '1.33'] as const;
const suite = kubectlVersionsPlane('openapi', VERSIONS);

function configMap(name: string): string {
  return JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { mode: 'fast' } });
}

for (const version of VERSIONS) {
  describe(`kubectl ${version} with the published OpenAPI`, { skip: suite.skip }, () => {
    let kubectl: Kubectl;
    before(() => {
      kubectl = suite.kubectl(version);
    });

    test('explain configmap.data', async () => {
      const r = await kubectl(['explain', 'configmap.data']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^KIND:\s+ConfigMap$/m);
      assert.match(r.stdout, /^VERSION:\s+v1$/m);
      assert.match(r.stdout, /^FIELD:\s+data\s+<map\[string\]string>$/m);
    });

    test('explain namespace.spec walks into the referenced definition', async () => {
      const r = await kubectl(['explain', 'namespace.spec']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^FIELD:\s+spec\s+<NamespaceSpec>$/m);
      assert.match(r.stdout, /^\s+finalizers\s+<\[\]string>$/m);
    });

    test('apply -f with default validation creates, and a second apply finds it unchanged', async () => {
      const name = `applied-${version.replace('.', '-')}`;
      const created = await kubectl(['apply', '-f', '-'], { input: configMap(name) });
      assert.equal(created.code, 0, created.stderr);
      assert.equal(created.stdout.trim(), `configmap/${name} created`);
      const again = await kubectl(['apply', '-f', '-'], { input: configMap(name) });
      assert.equal(again.code, 0, again.stderr);
      assert.equal(again.stdout.trim(), `configmap/${name} unchanged`);
    });

    test('create -f with default validation', async () => {
      const name = `created-${version.replace('.', '-')}`;
      const created = await kubectl(['create', '-f', '-'], { input: configMap(name) });
      assert.equal(created.code, 0, created.stderr);
      assert.equal(created.stdout.trim(), `configmap/${name} created`);
      const got = await kubectl(['get', 'configmap', name, '-o', 'jsonpath={.data.mode}']);
      assert.equal(got.stdout, 'fast');
    });

    test('an unknown field is refused by the server: kubectl finds fieldValidation on the PATCH operation and sends Strict', async () => {
      const r = await kubectl(['create', '-f', '-'], {
        input: JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'bogus' }, bogus: 1 }),
      });
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /Error from server \(BadRequest\): .*ConfigMap in version "v1" cannot be handled as a ConfigMap: strict decoding error: unknown field "bogus"/);
    });
  });
}
