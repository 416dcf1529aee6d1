/**
 * kubectl --as / --as-group against the whole control plane as separate processes: the
 * headers kubectl sends are checked with the `impersonate` verb and the request then runs as
 * the user they name; requests without credentials are refused off the anonymous paths.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startControlPlane, type ControlPlane } from '../../lib/local/control-plane.ts';
import { createKubectl, type Kubectl } from '../support/kubectl.ts';
import { createRestClient, type RestClient } from '../support/rest-client.ts';

let dir: string;
let plane: ControlPlane;
let kubectl: Kubectl;
let rest: RestClient;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'e2e-impersonation-'));
  plane = await startControlPlane({ dataDir: dir, logDir: join(dir, 'logs') });
  kubectl = createKubectl(plane.kubeconfig);
  const ca = await readFile(join(dir, 'pki', 'ca.crt'), 'utf8');
  const adminToken = (await readFile(join(dir, 'tokens.csv'), 'utf8')).split(',')[0] ?? '';
  rest = createRestClient(`https://${plane.addresses.https}`, ca, adminToken);
});

after(async () => {
  await plane?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('impersonation through kubectl', () => {
  test('--as a user outside system:masters is refused as that user', async () => {
    // --raw: without RBAC's discovery roles jane cannot read discovery either.
    const r = await kubectl(['get', '--raw', '/api/v1/namespaces/default/configmaps', '--as', 'jane']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /User "jane" cannot list resource "configmaps" in API group "" in the namespace "default"/);
  });

  test('--as with --as-group system:masters acts as that user and group', async () => {
    const r = await kubectl(['create', 'configmap', 'made-as-jane', '-n', 'default', '--as', 'jane', '--as-group', 'system:masters', '-o', 'json']);
    assert.equal(r.code, 0, r.stderr);
    const made = JSON.parse(r.stdout) as { metadata: { name: string } };
    assert.equal(made.metadata.name, 'made-as-jane');
    // The same user without the group is refused: the group came from --as-group alone.
    const refused = await kubectl(['delete', 'configmap', 'made-as-jane', '-n', 'default', '--as', 'jane']);
    assert.notEqual(refused.code, 0);
  });

  test('a request without credentials is 401 off the anonymous paths', async () => {
    const r = await rest.request('GET', '/api/v1/namespaces', { token: null });
    assert.equal(r.status, 401);
  });
});
