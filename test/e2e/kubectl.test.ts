/**
 * End to end with the real kubectl: the whole control plane as separate processes on real
 * etcd and Redis, driven exactly as a user would after `make up`.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile, appendFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startControlPlane, type ControlPlane } from '../../lib/local/control-plane.ts';
import { waitUntil } from '../../lib/local/process.ts';
import { createKubectl, type Kubectl } from '../support/kubectl.ts';
import { createRestClient, type RestClient } from '../support/rest-client.ts';

let dir: string;
let plane: ControlPlane;
let kubectl: Kubectl;
let rest: RestClient;
let adminToken: string;

const NODE = {
  apiVersion: 'v1',
  kind: 'Node',
  metadata: { name: 'worker-1', labels: { 'node-role.kubernetes.io/worker': '', 'node-role.kubernetes.io/infra': '' } },
  spec: {},
  status: {
    conditions: [
      { type: 'MemoryPressure', status: 'False' },
      { type: 'Ready', status: 'True', reason: 'KubeletReady' },
    ],
    addresses: [{ type: 'InternalIP', address: '10.0.0.7' }],
    nodeInfo: { kubeletVersion: 'v1.32.1', osImage: 'Debian GNU/Linux 12 (bookworm)', kernelVersion: '6.1.0', containerRuntimeVersion: 'containerd://1.7.0' },
  },
};

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'e2e-kubectl-'));
  plane = await startControlPlane({ dataDir: dir, logDir: join(dir, 'logs') });
  kubectl = createKubectl(plane.kubeconfig);
  const ca = await readFile(join(dir, 'pki', 'ca.crt'), 'utf8');
  adminToken = (await readFile(join(dir, 'tokens.csv'), 'utf8')).split(',')[0] ?? '';
  rest = createRestClient(`https://${plane.addresses.https}`, ca, adminToken);
});

after(async () => {
  await plane?.stop();
  await rm(dir, { recursive: true, force: true });
});

function table(output: string): string[][] {
  return output
    .trim()
    .split('\n')
    .map((line) => line.trim().split(/\s{2,}/));
}

describe('kubectl against the control plane', () => {
  test('version and discovery', async () => {
    const r = await kubectl(['version', '-o', 'json']);
    assert.equal(r.code, 0, r.stderr);
    const v = JSON.parse(r.stdout) as { serverVersion: { major: string; minor: string; gitVersion: string } };
    assert.equal(v.serverVersion.major, '1');
    assert.match(v.serverVersion.gitVersion, /^v1\.\d+\.\d+/);
    const resources = await kubectl(['api-resources', '--no-headers']);
    assert.equal(resources.code, 0, resources.stderr);
    const rows = table(resources.stdout).map((cells) => cells.join(' '));
    assert.ok(rows.some((row) => /^configmaps cm v1 true ConfigMap$/.test(row)), resources.stdout);
    assert.ok(rows.some((row) => /^nodes no v1 false Node$/.test(row)), resources.stdout);
    assert.ok(rows.some((row) => /^namespaces ns v1 false Namespace$/.test(row)), resources.stdout);
  });

  test('create -f node.json, then get nodes prints the node printer columns', async () => {
    const file = join(dir, 'node.json');
    await writeFile(file, JSON.stringify(NODE));
    const created = await kubectl(['create', '-f', file, '--validate=false']);
    assert.equal(created.code, 0, created.stderr);
    assert.equal(created.stdout.trim(), 'node/worker-1 created');

    const r = await kubectl(['get', 'nodes']);
    assert.equal(r.code, 0, r.stderr);
    const [header, row] = table(r.stdout);
    assert.deepEqual(header, ['NAME', 'STATUS', 'ROLES', 'AGE', 'VERSION']);
    assert.equal(row?.[0], 'worker-1');
    assert.equal(row?.[1], 'Ready');
    assert.equal(row?.[2], 'infra,worker');
    assert.match(row?.[3] ?? '', /^\d+s$/);
    assert.equal(row?.[4], 'v1.32.1');

    const wide = await kubectl(['get', 'no', '-o', 'wide']);
    const [wideHeader, wideRow] = table(wide.stdout);
    assert.deepEqual(wideHeader, ['NAME', 'STATUS', 'ROLES', 'AGE', 'VERSION', 'INTERNAL-IP', 'EXTERNAL-IP', 'OS-IMAGE', 'KERNEL-VERSION', 'CONTAINER-RUNTIME']);
    assert.equal(wideRow?.[5], '10.0.0.7');
    assert.equal(wideRow?.[6], '<none>');
    assert.equal(wideRow?.[9], 'containerd://1.7.0');

    const json = await kubectl(['get', 'node', 'worker-1', '-o', 'json']);
    const node = JSON.parse(json.stdout) as { kind: string; metadata: { uid: string; resourceVersion: string; creationTimestamp: string; generation: number } };
    assert.equal(node.kind, 'Node');
    assert.match(node.metadata.uid, /^[0-9a-f-]{36}$/);
    assert.match(node.metadata.resourceVersion, /^\d+$/);
    assert.match(node.metadata.creationTimestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.equal(node.metadata.generation, undefined, 'a Node has no generation, as in kube');
  });

  test('get configmaps -w shows a ConfigMap created elsewhere within a second, and its deletion', async () => {
    const ns = await kubectl(['create', '-f', '-', '--validate=false'], {
      input: JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team-a' } }),
    });
    assert.equal(ns.code, 0, ns.stderr);
    const watch = kubectl.spawn(['get', 'configmaps', '-n', 'team-a', '-w']);
    try {
      // The watch is open once kubectl has printed the (empty) list and asked for the stream.
      await new Promise((r) => setTimeout(r, 1500));
      const created = await kubectl(['create', '-f', '-', '--validate=false', '-n', 'team-a'], {
        input: JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings' }, data: { a: '1', b: '2' } }),
      });
      assert.equal(created.code, 0, created.stderr);
      const acknowledged = Date.now();
      await watch.waitFor((lines) => lines.some((l) => /^settings\s+2\s+\d+s$/.test(l)), 5_000);
      const seenAfter = Date.now() - acknowledged;
      assert.ok(seenAfter < 1_000, `seen ${seenAfter} ms after the create was acknowledged`);

      const get = await kubectl(['get', 'cm', '-n', 'team-a']);
      assert.deepEqual(table(get.stdout)[0], ['NAME', 'DATA', 'AGE']);

      const deleted = await kubectl(['delete', 'configmap', 'settings', '-n', 'team-a']);
      assert.equal(deleted.code, 0, deleted.stderr);
      assert.equal(deleted.stdout.trim(), 'configmap "settings" deleted');
      const gone = await kubectl(['get', 'configmap', 'settings', '-n', 'team-a']);
      assert.notEqual(gone.code, 0);
      assert.equal(gone.stderr.trim(), 'Error from server (NotFound): configmaps "settings" not found');
      // The watch prints the deleted object's row again, as kubectl does for DELETED events.
      await watch.waitFor((lines) => lines.filter((l) => l.startsWith('settings')).length >= 2, 5_000);
    } finally {
      watch.stop();
    }
  });

  test('the system namespaces exist from the start, so the default namespace just works', async () => {
    const ns = await kubectl(['get', 'namespaces', '-o', 'name']);
    const names = ns.stdout.trim().split('\n');
    for (const system of ['namespace/default', 'namespace/kube-node-lease', 'namespace/kube-public', 'namespace/kube-system']) {
      assert.ok(names.includes(system), `${system} in ${names.join(', ')}`);
    }
    const cm = await kubectl(['create', 'configmap', 'in-default', '--from-literal=k=v']);
    assert.equal(cm.code, 0, cm.stderr);
    assert.equal((await kubectl(['get', 'cm', 'in-default', '-o', 'jsonpath={.metadata.namespace}'])).stdout, 'default');
  });

  test('typed create commands (kubectl 1.32 sends protobuf bodies) work', async () => {
    const ns = await kubectl(['create', 'namespace', 'typed']);
    assert.equal(ns.code, 0, ns.stderr);
    assert.equal(ns.stdout.trim(), 'namespace/typed created');
    const cm = await kubectl(['create', 'configmap', 'literal', '-n', 'typed', '--from-literal=a=1', '--from-literal=b=two']);
    assert.equal(cm.code, 0, cm.stderr);
    const got = await kubectl(['get', 'configmap', 'literal', '-n', 'typed', '-o', 'json']);
    const obj = JSON.parse(got.stdout) as { data: Record<string, string>; metadata: { namespace: string } };
    assert.deepEqual(obj.data, { a: '1', b: 'two' });
    assert.equal(obj.metadata.namespace, 'typed');
    const ls = await kubectl(['get', 'ns', 'typed']);
    assert.deepEqual(table(ls.stdout)[1]?.slice(0, 2), ['typed', 'Active']);
  });

  test('a wrong token is refused with Unauthorized', async () => {
    const r = await kubectl(['get', 'configmaps', '--token=not-a-real-token']);
    assert.notEqual(r.code, 0);
    assert.equal(r.stderr.trim(), 'error: You must be logged in to the server (Unauthorized)');
  });

  test('errors carry kube-apiserver Status messages', async () => {
    const dup = await kubectl(['create', '-f', '-', '--validate=false'], {
      input: JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team-a' } }),
    });
    assert.match(dup.stderr, /Error from server \(AlreadyExists\): .*namespaces "team-a" already exists/);

    const bad = await kubectl(['create', '-f', '-', '--validate=false', '-n', 'team-a'], {
      input: JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'Bad_Name' } }),
    });
    assert.match(
      bad.stderr,
      /The ConfigMap "Bad_Name" is invalid: metadata\.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters/,
    );

    const noNs = await kubectl(['create', '-f', '-', '--validate=false', '-n', 'nowhere'], {
      input: JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' } }),
    });
    assert.match(noNs.stderr, /Error from server \(NotFound\): .*namespaces "nowhere" not found/);
  });

  test('a user outside system:masters is forbidden, with kube-apiserver\'s message', async () => {
    await appendFile(join(dir, 'tokens.csv'), 'jane-token-0123456789,jane,jane-uid,"developers"\n');
    await plane.restart('auth');
    // The gateway reconnects to the restarted auth service after its backoff (at most 5 s):
    // until then requests are answered 503, as during any outage of a control plane service.
    await waitUntil('the gateway to reach the restarted auth service', async () => (await kubectl(['get', 'namespaces', 'default'])).code === 0, { timeoutMs: 30_000 });
    const r = await kubectl(['get', 'configmaps', '-n', 'team-a', '--token=jane-token-0123456789']);
    assert.notEqual(r.code, 0);
    assert.equal(
      r.stderr.trim(),
      'Error from server (Forbidden): configmaps is forbidden: User "jane" cannot list resource "configmaps" in API group "" in the namespace "team-a"',
    );
  });

  test('REST answers Status bodies for bad input, never a crash', async () => {
    const notJson = await rest.request('POST', '/api/v1/namespaces/team-a/configmaps', { body: Buffer.from('{nope') });
    assert.equal(notJson.status, 400);
    assert.equal(notJson.json().kind, 'Status');
    assert.equal(notJson.json().reason, 'BadRequest');

    const wrongKind = await rest.request('POST', '/api/v1/namespaces/team-a/configmaps', { body: { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' } } });
    assert.equal(wrongKind.status, 400);

    const mismatch = await rest.request('POST', '/api/v1/namespaces/team-a/configmaps', {
      body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'm', namespace: 'other' } },
    });
    assert.equal(mismatch.status, 400);
    assert.equal(mismatch.json().message, 'the namespace of the provided object does not match the namespace sent on the request');

    const huge = await rest.request('POST', '/api/v1/namespaces/team-a/configmaps', {
      body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'huge' }, data: { x: 'y'.repeat(4 * 1024 * 1024) } },
    });
    assert.equal(huge.status, 413);
    assert.equal(huge.json().reason, 'RequestEntityTooLarge');

    const unknown = await rest.request('GET', '/api/v1/widgets');
    assert.equal(unknown.status, 404);
    assert.equal(unknown.json().kind, 'Status');

    const noToken = await rest.request('GET', '/api/v1/namespaces', { token: null });
    assert.equal(noToken.status, 401);

    const badSelector = await rest.request('GET', '/api/v1/namespaces/team-a/configmaps?watch=true&labelSelector=a%20in%20(', {});
    assert.equal(badSelector.status, 400);

    const htmlOnly = await rest.request('GET', '/api/v1/namespaces', { headers: { Accept: 'text/html' } });
    assert.equal(htmlOnly.status, 406);
    // a built-in kind is answered in protobuf (test/e2e/protobuf-answers.test.ts)
    const protoOnly = await rest.request('GET', '/api/v1/namespaces', { headers: { Accept: 'application/vnd.kubernetes.protobuf' } });
    assert.equal(protoOnly.status, 200);
    assert.equal(protoOnly.headers['content-type'], 'application/vnd.kubernetes.protobuf');

    const badPath = await rest.request('GET', '/api/v1/namespaces/%ZZ/configmaps');
    assert.equal(badPath.status, 400);
    assert.equal(badPath.json().reason, 'BadRequest');

    const badTimeout = await rest.request('GET', '/api/v1/namespaces?timeout=soon');
    assert.equal(badTimeout.status, 400);
    const goodTimeout = await rest.request('GET', '/api/v1/namespaces?timeout=1m30s');
    assert.equal(goodTimeout.status, 200);

    // Still serving after all of that.
    const ok = await rest.request('GET', '/api/v1/namespaces/team-a');
    assert.equal(ok.status, 200);
  });

  test('list pagination follows continue tokens at one revision', async () => {
    for (let i = 0; i < 7; i++) {
      const r = await rest.request('POST', '/api/v1/namespaces/team-a/configmaps', {
        body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `page-${i}` } },
      });
      assert.equal(r.status, 201, r.body.toString());
    }
    const names: string[] = [];
    let cont = '';
    let revision = '';
    let pages = 0;
    do {
      const r = await rest.request('GET', `/api/v1/namespaces/team-a/configmaps?limit=3${cont === '' ? '' : `&continue=${encodeURIComponent(cont)}`}`);
      assert.equal(r.status, 200, r.body.toString());
      const body = r.json() as { kind: string; metadata: { resourceVersion: string; continue?: string }; items: { metadata: { name: string } }[] };
      assert.equal(body.kind, 'ConfigMapList');
      if (revision === '') revision = body.metadata.resourceVersion;
      assert.equal(body.metadata.resourceVersion, revision);
      names.push(...body.items.map((i) => i.metadata.name));
      cont = body.metadata.continue ?? '';
      pages++;
      if (pages === 1) {
        // A write between pages must not show up in later pages.
        await rest.request('POST', '/api/v1/namespaces/team-a/configmaps', { body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'page-zz' } } });
      }
    } while (cont !== '');
    assert.equal(pages, 3);
    assert.deepEqual(names, ['page-0', 'page-1', 'page-2', 'page-3', 'page-4', 'page-5', 'page-6']);
    const all = await kubectl(['get', 'cm', '-n', 'team-a', '--chunk-size=2', '-o', 'name']);
    assert.equal(all.stdout.trim().split('\n').length, 8);
  });
  test('a watch spelt as the official Python client spells it (watch=True, allowWatchBookmarks=True) receives events', async () => {
    const ns = await rest.request('POST', '/api/v1/namespaces', { body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'python-client' } } });
    assert.equal(ns.status, 201, ns.body.toString());
    const listed = await rest.request('GET', '/api/v1/namespaces/python-client/configmaps');
    const resourceVersion = String((listed.json().metadata as { resourceVersion: string }).resourceVersion);
    const signal = AbortSignal.timeout(20_000);
    const events = rest.watch(`/api/v1/namespaces/python-client/configmaps?watch=True&allowWatchBookmarks=True&timeoutSeconds=15&resourceVersion=${resourceVersion}`, signal);
    const first = events.next();
    const created = await rest.request('POST', '/api/v1/namespaces/python-client/configmaps', { body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'from-python' } } });
    assert.equal(created.status, 201, created.body.toString());
    let event = (await first).value as Record<string, unknown> | undefined;
    while (event !== undefined && event.type === 'BOOKMARK') event = (await events.next()).value as Record<string, unknown> | undefined;
    assert.equal(event?.type, 'ADDED');
    assert.equal((event?.object as { metadata: { name: string } }).metadata.name, 'from-python');
    await events.return(undefined);
  });

  test('YAML in and out: bodies, objects, lists and Status errors; duplicate keys warned or refused per fieldValidation; no YAML watch', async () => {
    const yaml = { 'Content-Type': 'application/yaml', Accept: 'application/yaml' };
    const body = Buffer.from('apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: from-yaml\ndata:\n  enabled: "on"\n  a: x\n  a: z\n');
    const created = await rest.request('POST', '/api/v1/namespaces/team-a/configmaps', { body, headers: yaml });
    assert.equal(created.status, 201, created.body.toString());
    assert.equal(created.headers['content-type'], 'application/yaml');
    assert.deepEqual(created.headers.warning, '299 - "line 8: key \\"a\\" already set in map"');
    assert.match(created.body.toString(), /^data:\n {2}a: z\n {2}enabled: "on"\n/m);

    const strict = await rest.request('POST', '/api/v1/namespaces/team-a/configmaps?fieldValidation=Strict', { body, headers: yaml });
    assert.equal(strict.status, 400);
    assert.match(strict.body.toString(), /^kind: Status$/m);
    assert.match(strict.body.toString(), /strict decoding error: yaml: unmarshal errors:/);

    const got = await rest.request('GET', '/api/v1/namespaces/team-a/configmaps/from-yaml', { headers: { Accept: 'application/yaml' } });
    assert.equal(got.status, 200);
    assert.match(got.body.toString(), /^kind: ConfigMap$/m);
    const listed = await rest.request('GET', '/api/v1/namespaces/team-a/configmaps', { headers: { Accept: 'application/yaml' } });
    assert.match(listed.body.toString(), /^kind: ConfigMapList$/m);
    const missing = await rest.request('GET', '/api/v1/namespaces/team-a/configmaps/nope', { headers: { Accept: 'application/yaml' } });
    assert.equal(missing.status, 404);
    assert.match(missing.body.toString(), /^reason: NotFound$/m);

    const watch = await rest.request('GET', '/api/v1/namespaces/team-a/configmaps?watch=1&timeoutSeconds=1', { headers: { Accept: 'application/yaml' } });
    assert.equal(watch.status, 406);
    assert.match(watch.body.toString(), /only the following media types are accepted: application\/json;stream=watch/);
  });
});
