/**
 * End to end with real kubectl 1.27 and 1.33: the core kinds. kubectl's typed create commands
 * (`create secret generic|tls|docker-registry`, `create serviceaccount`, `create quota`), a
 * Secret's stringData stored as data, a refused Secret, and `get` (and `get -o wide`) of every
 * core kind with kube's columns, from a multi-document manifest applied with kubectl's default
 * (Strict) validation.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ensureCA, issueCertificate } from '../../lib/pki.ts';
import { kubectlVersionsPlane, type Kubectl } from '../support/kubectl.ts';

const VERSIONS = ['1.27', '1.33'] as const;
const suite = kubectlVersionsPlane('core', VERSIONS);

/** The header line of a `get`'s output, its columns split on runs of two spaces or more. */
function headerOf(stdout: string): string[] {
  const [first = ''] = stdout.split('\n');
  return first.trim().split(/\s{2,}/);
}

/** The row of `name` in a `get`'s output, split as the header. */
function rowOf(stdout: string, name: string): string[] {
  const line = stdout.split('\n').find((l) => l.split(/\s{2,}/)[0] === name || l.split(/\s{2,}/).includes(name));
  assert.ok(line !== undefined, `no row for ${name} in:\n${stdout}`);
  return line.trim().split(/\s{2,}/);
}

/** A multi-document manifest of one object of each core kind that makes sense to apply, named after `suffix`. */
function manifest(suffix: string): string {
  const docs = [
    { apiVersion: 'v1', kind: 'Secret', metadata: { name: `applied-${suffix}` }, stringData: { token: 'from-string-data' }, data: { kept: 'a2VwdA==' } },
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: `builder-${suffix}` } },
    { apiVersion: 'v1', kind: 'Endpoints', metadata: { name: `ext-${suffix}` }, subsets: [{ addresses: [{ ip: '10.10.0.1' }, { ip: '10.10.0.2' }], ports: [{ port: 5432 }] }] },
    {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: `web.${suffix}` },
      involvedObject: { kind: 'Pod', namespace: 'default', name: `web-${suffix}`, fieldPath: 'spec.containers{app}' },
      reason: 'Pulled',
      message: 'Container image pulled',
      type: 'Normal',
      source: { component: 'kubelet', host: 'node-1' },
      count: 2,
    },
    { apiVersion: 'v1', kind: 'LimitRange', metadata: { name: `limits-${suffix}` }, spec: { limits: [{ type: 'Container', max: { cpu: '2' }, min: { cpu: '100m' } }] } },
    {
      apiVersion: 'v1',
      kind: 'PersistentVolume',
      metadata: { name: `pv-${suffix}` },
      spec: { capacity: { storage: '5Gi' }, accessModes: ['ReadWriteOnce'], storageClassName: 'manual', hostPath: { path: '/srv/data' } },
    },
    {
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: { name: `claim-${suffix}` },
      spec: { accessModes: ['ReadWriteOnce'], storageClassName: 'manual', resources: { requests: { storage: '1Gi' } } },
    },
    { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: `leader-${suffix}` }, spec: { holderIdentity: 'node-1', leaseDurationSeconds: 15 } },
    {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: `ext-${suffix}-abc`, labels: { 'kubernetes.io/service-name': `ext-${suffix}` } },
      addressType: 'IPv4',
      endpoints: [{ addresses: ['10.10.0.1'] }, { addresses: ['10.10.0.2'] }],
      ports: [{ name: 'pg', port: 5432 }],
    },
  ];
  // YAML documents (each JSON, which YAML reads as it is): a stream that began with "{" would be
  // read by kubectl as one JSON value.
  return docs.map((d) => `---\n${JSON.stringify(d)}`).join('\n');
}

let files: string;

before(async () => {
  files = await mkdtemp(join(tmpdir(), 'e2e-core-files-'));
  const ca = await ensureCA(join(files, 'ca'), 'e2e test CA');
  const pair = await issueCertificate(ca, { commonName: 'web.example', usage: 'server', dnsNames: ['web.example'] });
  await writeFile(join(files, 'tls.crt'), pair.certPem);
  await writeFile(join(files, 'tls.key'), pair.keyPem);
});

after(async () => {
  if (files !== undefined) await rm(files, { recursive: true, force: true });
});

for (const version of VERSIONS) {
  describe(`kubectl ${version} with the core kinds`, { skip: suite.skip }, () => {
    let kubectl: Kubectl;
    const suffix = version.replace('.', '-');
    before(() => {
      kubectl = suite.kubectl(version);
    });

    const ok = async (args: string[], input?: string): Promise<string> => {
      const r = await kubectl(args, input === undefined ? {} : { input });
      assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
      return r.stdout;
    };

    test('api-resources lists the core kinds with kube\'s names, short names, groups and scope', async () => {
      const rows = (await ok(['api-resources', '--no-headers'])).split('\n').map((line) => line.trim().split(/\s+/).join(' '));
      for (const expected of [
        'secrets v1 true Secret',
        'serviceaccounts sa v1 true ServiceAccount',
        'endpoints ep v1 true Endpoints',
        'events ev v1 true Event',
        'limitranges limits v1 true LimitRange',
        'resourcequotas quota v1 true ResourceQuota',
        'persistentvolumes pv v1 false PersistentVolume',
        'persistentvolumeclaims pvc v1 true PersistentVolumeClaim',
        'leases coordination.k8s.io/v1 true Lease',
        'endpointslices discovery.k8s.io/v1 true EndpointSlice',
      ]) {
        assert.ok(rows.includes(expected), `${expected} in:\n${rows.join('\n')}`);
      }
    });

    test('create secret generic: an Opaque secret with one data key per literal', async () => {
      const name = `generic-${suffix}`;
      assert.equal((await ok(['create', 'secret', 'generic', name, '--from-literal=user=admin', '--from-literal=password=s3cret'])).trim(), `secret/${name} created`);
      const got = await ok(['get', 'secret', name]);
      assert.deepEqual(headerOf(got), ['NAME', 'TYPE', 'DATA', 'AGE']);
      assert.deepEqual(rowOf(got, name).slice(0, 3), [name, 'Opaque', '2']);
      const data = JSON.parse(await ok(['get', 'secret', name, '-o', 'jsonpath={.data}'])) as Record<string, string>;
      assert.deepEqual(data, { password: Buffer.from('s3cret').toString('base64'), user: Buffer.from('admin').toString('base64') });
    });

    test('create secret tls and docker-registry: their types and keys', async () => {
      const tls = `tls-${suffix}`;
      await ok(['create', 'secret', 'tls', tls, `--cert=${join(files, 'tls.crt')}`, `--key=${join(files, 'tls.key')}`]);
      assert.deepEqual(rowOf(await ok(['get', 'secret', tls]), tls).slice(0, 3), [tls, 'kubernetes.io/tls', '2']);
      const registry = `registry-${suffix}`;
      await ok(['create', 'secret', 'docker-registry', registry, '--docker-server=registry.example', '--docker-username=ci', '--docker-password=pw']);
      assert.deepEqual(rowOf(await ok(['get', 'secret', registry]), registry).slice(0, 3), [registry, 'kubernetes.io/dockerconfigjson', '1']);
      const config = await ok(['get', 'secret', registry, '-o', 'jsonpath={.data.\\.dockerconfigjson}']);
      assert.match(Buffer.from(config, 'base64').toString(), /"registry\.example"/);
      // Selected by type, as kube's field selector allows.
      const selected = await ok(['get', 'secrets', '--field-selector', 'type=kubernetes.io/tls', '-o', 'name']);
      assert.ok(selected.split('\n').includes(`secret/${tls}`), selected);
      assert.ok(!selected.includes(registry), selected);
    });

    test('a Secret\'s stringData is stored as data, and a refused Secret gets kube\'s 422', async () => {
      const name = `string-data-${suffix}`;
      const doc = { apiVersion: 'v1', kind: 'Secret', metadata: { name }, stringData: { password: 'from-string' } };
      await ok(['create', '-f', '-'], JSON.stringify(doc));
      const object = JSON.parse(await ok(['get', 'secret', name, '-o', 'json'])) as Record<string, unknown>;
      assert.deepEqual(object.data, { password: Buffer.from('from-string').toString('base64') });
      assert.equal(object.stringData, undefined);
      assert.equal(object.type, 'Opaque');
      const bad = { apiVersion: 'v1', kind: 'Secret', metadata: { name: `bad-${suffix}` }, type: 'kubernetes.io/tls', stringData: { 'tls.crt': 'only-a-cert' } };
      const refused = await kubectl(['create', '-f', '-'], { input: JSON.stringify(bad) });
      assert.notEqual(refused.code, 0);
      assert.match(refused.stderr, new RegExp(`The Secret "bad-${suffix}" is invalid: data\\[tls\\.key\\]: Required value`));
      assert.ok(!refused.stderr.includes('only-a-cert'));
    });

    test('create serviceaccount: NAME SECRETS AGE', async () => {
      const name = `robot-${suffix}`;
      assert.equal((await ok(['create', 'serviceaccount', name])).trim(), `serviceaccount/${name} created`);
      const got = await ok(['get', 'sa', name]);
      assert.deepEqual(headerOf(got), ['NAME', 'SECRETS', 'AGE']);
      assert.deepEqual(rowOf(got, name).slice(0, 2), [name, '0']);
    });

    test('create quota: hard limits canonical, kube\'s columns (status is the quota controller\'s)', async () => {
      const name = `compute-${suffix}`;
      assert.equal((await ok(['create', 'quota', name, '--hard=requests.cpu=1000m,limits.memory=2048Mi,pods=10'])).trim(), `resourcequota/${name} created`);
      const got = await ok(['get', 'quota', name]);
      assert.deepEqual(headerOf(got), ['NAME', 'REQUEST', 'LIMIT', 'AGE']);
      assert.equal(rowOf(got, name)[0], name);
      const hard = JSON.parse(await ok(['get', 'resourcequota', name, '-o', 'jsonpath={.spec.hard}'])) as Record<string, string>;
      assert.deepEqual(hard, { 'limits.memory': '2Gi', pods: '10', 'requests.cpu': '1' });
      const refused = await kubectl(['create', 'quota', `bad-${suffix}`, '--hard=pods=1.5']);
      assert.notEqual(refused.code, 0);
      assert.match(refused.stderr, /spec\.hard\[pods\]: Invalid value: "1500m": must be an integer/);
    });

    test('apply of a manifest with every core kind, then get with kube\'s columns', async () => {
      const applied = await ok(['apply', '-f', '-'], manifest(suffix));
      assert.equal(applied.trim().split('\n').length, 9, applied);
      const expectations: Array<[string, string, string[], string[]]> = [
        ['secret', `applied-${suffix}`, ['NAME', 'TYPE', 'DATA', 'AGE'], [`applied-${suffix}`, 'Opaque', '2']],
        ['serviceaccount', `builder-${suffix}`, ['NAME', 'SECRETS', 'AGE'], [`builder-${suffix}`, '0']],
        ['endpoints', `ext-${suffix}`, ['NAME', 'ENDPOINTS', 'AGE'], [`ext-${suffix}`, '10.10.0.1:5432,10.10.0.2:5432']],
        ['limitrange', `limits-${suffix}`, ['NAME', 'CREATED AT'], [`limits-${suffix}`]],
        ['pv', `pv-${suffix}`, ['NAME', 'CAPACITY', 'ACCESS MODES', 'RECLAIM POLICY', 'STATUS', 'STORAGECLASS', 'VOLUMEATTRIBUTESCLASS', 'AGE'], [`pv-${suffix}`, '5Gi', 'RWO', 'Retain', 'Pending', 'manual', '<unset>']],
        ['pvc', `claim-${suffix}`, ['NAME', 'STATUS', 'CAPACITY', 'ACCESS MODES', 'STORAGECLASS', 'VOLUMEATTRIBUTESCLASS', 'AGE'], [`claim-${suffix}`, 'Pending', 'manual', '<unset>']],
        ['lease', `leader-${suffix}`, ['NAME', 'HOLDER', 'AGE'], [`leader-${suffix}`, 'node-1']],
        ['endpointslice', `ext-${suffix}-abc`, ['NAME', 'ADDRESSTYPE', 'PORTS', 'ENDPOINTS', 'AGE'], [`ext-${suffix}-abc`, 'IPv4', '5432', '10.10.0.1,10.10.0.2']],
      ];
      for (const [kind, name, header, cells] of expectations) {
        const got = await ok(['get', kind, name]);
        // Empty cells (CLAIM, REASON, VOLUME) leave only runs of spaces: the header has them, the row not.
        const columns = headerOf(got).filter((c) => !['CLAIM', 'REASON', 'VOLUME'].includes(c));
        assert.deepEqual(columns, header, `${kind}: ${got}`);
        assert.deepEqual(rowOf(got, name).slice(0, cells.length), cells, `${kind}: ${got}`);
      }
      assert.match(await ok(['get', 'limitrange', `limits-${suffix}`]), /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ/);
      const events = await ok(['get', 'events', '--field-selector', `involvedObject.name=web-${suffix}`]);
      assert.deepEqual(headerOf(events), ['LAST SEEN', 'TYPE', 'REASON', 'OBJECT', 'MESSAGE']);
      assert.deepEqual(rowOf(events, `pod/web-${suffix}`).slice(1), ['Normal', 'Pulled', `pod/web-${suffix}`, 'Container image pulled']);
      const slices = await ok(['get', 'endpointslices', '-l', `kubernetes.io/service-name=ext-${suffix}`, '-o', 'name']);
      assert.equal(slices.trim(), `endpointslice.discovery.k8s.io/ext-${suffix}-abc`);
      const secret = JSON.parse(await ok(['get', 'secret', `applied-${suffix}`, '-o', 'jsonpath={.data}'])) as Record<string, string>;
      assert.deepEqual(secret, { kept: 'a2VwdA==', token: Buffer.from('from-string-data').toString('base64') });
      // A second apply of the same manifest changes nothing. kubectl still sends (and so
      // reports "configured") what the live objects cannot show as sent, as against a real
      // cluster: a Secret's stringData, and atomic lists that the server defaulted inside.
      const versionOf = async (kind: string, name: string): Promise<string> => ok(['get', kind, name, '-o', 'jsonpath={.metadata.resourceVersion}']);
      const before = await versionOf('secret', `applied-${suffix}`);
      const again = await ok(['apply', '-f', '-'], manifest(suffix));
      const configured = ['secret/', 'endpoints/', 'limitrange/', 'endpointslice.discovery.k8s.io/'];
      for (const line of again.trim().split('\n')) {
        assert.match(line, configured.some((prefix) => line.startsWith(prefix)) ? / configured$/ : / unchanged$/, again);
      }
      assert.equal(await versionOf('secret', `applied-${suffix}`), before);
    });

    test('get -o wide: the wide columns of events, persistent volumes and claims', async () => {
      const events = await ok(['get', 'events', '-o', 'wide', '--field-selector', `involvedObject.name=web-${suffix}`]);
      assert.deepEqual(headerOf(events), ['LAST SEEN', 'TYPE', 'REASON', 'OBJECT', 'SUBOBJECT', 'SOURCE', 'MESSAGE', 'FIRST SEEN', 'COUNT', 'NAME']);
      const row = rowOf(events, `pod/web-${suffix}`);
      assert.deepEqual(row.slice(1, 7), ['Normal', 'Pulled', `pod/web-${suffix}`, 'spec.containers{app}', 'kubelet, node-1', 'Container image pulled']);
      assert.deepEqual(row.slice(8), ['2', `web.${suffix}`]);
      const pv = await ok(['get', 'pv', `pv-${suffix}`, '-o', 'wide']);
      assert.equal(headerOf(pv).at(-1), 'VOLUMEMODE');
      assert.equal(rowOf(pv, `pv-${suffix}`).at(-1), 'Filesystem');
      const pvc = await ok(['get', 'pvc', `claim-${suffix}`, '-o', 'wide']);
      assert.equal(headerOf(pvc).at(-1), 'VOLUMEMODE');
      assert.equal(rowOf(pvc, `claim-${suffix}`).at(-1), 'Filesystem');
    });
  });
}
