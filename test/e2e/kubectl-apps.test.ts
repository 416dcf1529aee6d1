/**
 * End to end with real kubectl 1.27 and 1.33 (default client-side validation on) against the
 * apps/v1 kinds: `create deployment` (protobuf or JSON, as each version sends it), `get` with
 * kube's columns and `-o wide`, the defaults a real cluster shows in `-o json`, apply of a
 * Deployment, StatefulSet and DaemonSet manifest (again: nothing written; `diff`: nothing), a
 * watch of Deployments, and a change of spec.selector refused with kube's words.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { kubectlVersionsPlane, type Kubectl } from '../support/kubectl.ts';

const VERSIONS = ['1.27', '1.33'] as const;
const suite = kubectlVersionsPlane('apps', VERSIONS);

/** The rows of a kubectl table, cells split on the runs of spaces between columns. */
function table(output: string): string[][] {
  return output
    .trim()
    .split('\n')
    .map((line) => line.trim().split(/\s{2,}/));
}

/** A Deployment, a StatefulSet and a DaemonSet, as a multi-document YAML manifest. */
function manifest(ns: string, selectorApp = 'web'): string {
  return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: ${ns}
spec:
  replicas: 3
  selector:
    matchLabels:
      app: ${selectorApp}
  template:
    metadata:
      labels:
        app: ${selectorApp}
    spec:
      containers:
      - name: nginx
        image: nginx:1.27
        ports:
        - containerPort: 80
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: db
  namespace: ${ns}
spec:
  serviceName: db
  replicas: 2
  selector:
    matchLabels:
      app: db
  template:
    metadata:
      labels:
        app: db
    spec:
      containers:
      - name: postgres
        image: postgres:16
  volumeClaimTemplates:
  - metadata:
      name: data
    spec:
      accessModes: ["ReadWriteOnce"]
      resources:
        requests:
          storage: 1Gi
---
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: agent
  namespace: ${ns}
spec:
  selector:
    matchLabels:
      app: agent
  template:
    metadata:
      labels:
        app: agent
    spec:
      nodeSelector:
        kubernetes.io/os: linux
      containers:
      - name: agent
        image: busybox:1.36
        command: ["sleep", "infinity"]
`;
}

for (const version of VERSIONS) {
  describe(`kubectl ${version} with apps/v1`, { skip: suite.skip }, () => {
    let kubectl: Kubectl;
    const ns = `apps-${version.replace('.', '-')}`;
    before(async () => {
      kubectl = suite.kubectl(version);
      const created = await kubectl(['create', 'namespace', ns]);
      assert.equal(created.code, 0, created.stderr);
    });

    test('create deployment, then get and get -o wide print kube\'s columns', async () => {
      const created = await kubectl(['create', 'deployment', 'x', '--image=nginx', '--replicas=2', '-n', ns]);
      assert.equal(created.code, 0, created.stderr);
      assert.equal(created.stdout.trim(), 'deployment.apps/x created');

      const get = await kubectl(['get', 'deploy', 'x', '-n', ns]);
      assert.equal(get.code, 0, get.stderr);
      const [header, row] = table(get.stdout);
      assert.deepEqual(header, ['NAME', 'READY', 'UP-TO-DATE', 'AVAILABLE', 'AGE']);
      assert.deepEqual(row?.slice(0, 4), ['x', '0/2', '0', '0']);

      const wide = await kubectl(['get', 'deployments', '-n', ns, '-o', 'wide']);
      assert.equal(wide.code, 0, wide.stderr);
      const [wideHeader, wideRow] = table(wide.stdout);
      assert.deepEqual(wideHeader, ['NAME', 'READY', 'UP-TO-DATE', 'AVAILABLE', 'AGE', 'CONTAINERS', 'IMAGES', 'SELECTOR']);
      assert.deepEqual(wideRow?.slice(5), ['nginx', 'nginx', 'app=x']);
    });

    test('get -o json shows the defaults a cluster shows', async () => {
      const got = await kubectl(['get', 'deployment', 'x', '-n', ns, '-o', 'json']);
      assert.equal(got.code, 0, got.stderr);
      const deployment = JSON.parse(got.stdout);
      assert.equal(deployment.metadata.generation, 1);
      const spec = deployment.spec;
      assert.equal(spec.replicas, 2);
      assert.deepEqual(spec.strategy, { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' } });
      assert.equal(spec.revisionHistoryLimit, 10);
      assert.equal(spec.progressDeadlineSeconds, 600);
      assert.deepEqual(spec.selector, { matchLabels: { app: 'x' } });
      const pod = spec.template.spec;
      assert.equal(pod.restartPolicy, 'Always');
      assert.equal(pod.dnsPolicy, 'ClusterFirst');
      assert.equal(pod.schedulerName, 'default-scheduler');
      assert.equal(pod.terminationGracePeriodSeconds, 30);
      assert.equal(pod.containers[0].terminationMessagePath, '/dev/termination-log');
      assert.equal(pod.containers[0].terminationMessagePolicy, 'File');
      assert.equal(pod.containers[0].imagePullPolicy, 'Always');
    });

    test('apply of a Deployment, StatefulSet and DaemonSet: created, then nothing changes, and diff finds nothing', async () => {
      const applied = await kubectl(['apply', '-f', '-'], { input: manifest(ns) });
      assert.equal(applied.code, 0, applied.stderr);
      assert.deepEqual(applied.stdout.trim().split('\n'), ['deployment.apps/web created', 'statefulset.apps/db created', 'daemonset.apps/agent created']);

      const stsVersion = async () => (await kubectl(['get', 'statefulset', 'db', '-n', ns, '-o', 'jsonpath={.metadata.resourceVersion}'])).stdout;
      const before = await stsVersion();
      const again = await kubectl(['apply', '-f', '-'], { input: manifest(ns) });
      assert.equal(again.code, 0, again.stderr);
      // The StatefulSet's volumeClaimTemplates are an atomic list that the server defaults
      // (volumeMode, status.phase), so kubectl's three-way patch always replaces it and says
      // "configured", as against any cluster; the server finds nothing changed and writes nothing.
      assert.deepEqual(again.stdout.trim().split('\n'), ['deployment.apps/web unchanged', 'statefulset.apps/db configured', 'daemonset.apps/agent unchanged']);
      assert.equal(await stsVersion(), before);

      const diff = await kubectl(['diff', '-f', '-'], { input: manifest(ns) });
      assert.equal(diff.code, 0, `diff found changes:\n${diff.stdout}${diff.stderr}`);

      const sts = await kubectl(['get', 'statefulset', 'db', '-n', ns, '-o', 'json']);
      const stsSpec = JSON.parse(sts.stdout).spec;
      assert.equal(stsSpec.podManagementPolicy, 'OrderedReady');
      assert.deepEqual(stsSpec.updateStrategy, { type: 'RollingUpdate', rollingUpdate: { partition: 0, maxUnavailable: 1 } });
      assert.deepEqual(stsSpec.persistentVolumeClaimRetentionPolicy, { whenDeleted: 'Retain', whenScaled: 'Retain' });
      assert.equal(stsSpec.volumeClaimTemplates[0].spec.volumeMode, 'Filesystem');

      const ds = await kubectl(['get', 'daemonset', 'agent', '-n', ns, '-o', 'json']);
      const daemonSet = JSON.parse(ds.stdout);
      assert.deepEqual(daemonSet.spec.updateStrategy, { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } });
      assert.equal(daemonSet.metadata.annotations['deprecated.daemonset.template.generation'], '1');
    });

    test('get sts, ds and rs print kube\'s columns, -o wide too', async () => {
      const sts = await kubectl(['get', 'sts', '-n', ns, '-o', 'wide']);
      assert.equal(sts.code, 0, sts.stderr);
      const [stsHeader, stsRow] = table(sts.stdout);
      assert.deepEqual(stsHeader, ['NAME', 'READY', 'AGE', 'CONTAINERS', 'IMAGES']);
      assert.deepEqual([stsRow?.[0], stsRow?.[1], stsRow?.[3], stsRow?.[4]], ['db', '0/2', 'postgres', 'postgres:16']);

      const ds = await kubectl(['get', 'ds', '-n', ns]);
      assert.equal(ds.code, 0, ds.stderr);
      const [dsHeader, dsRow] = table(ds.stdout);
      assert.deepEqual(dsHeader, ['NAME', 'DESIRED', 'CURRENT', 'READY', 'UP-TO-DATE', 'AVAILABLE', 'NODE SELECTOR', 'AGE']);
      assert.deepEqual(dsRow?.slice(0, 7), ['agent', '0', '0', '0', '0', '0', 'kubernetes.io/os=linux']);
      const dsWide = table((await kubectl(['get', 'ds', '-n', ns, '-o', 'wide'])).stdout);
      assert.deepEqual(dsWide[0]?.slice(8), ['CONTAINERS', 'IMAGES', 'SELECTOR']);
      assert.deepEqual(dsWide[1]?.slice(8), ['agent', 'busybox:1.36', 'app=agent']);

      const rs = await kubectl(['get', 'rs', '-n', ns]);
      assert.equal(rs.code, 0, rs.stderr);
      // No controller runs here, so no ReplicaSet exists; the header comes with the first row only.
      assert.match(rs.stderr, /No resources found/);
    });

    test('get -w sees a Deployment created and scaled (watch events of the apps group)', async () => {
      const watched = `${ns}-watch`;
      assert.equal((await kubectl(['create', 'namespace', watched])).code, 0);
      assert.equal((await kubectl(['create', 'deployment', 'first', '--image=nginx', '-n', watched])).code, 0);
      const watch = kubectl.spawn(['get', 'deployments', '-n', watched, '-w']);
      try {
        // The watch starts at the list's resourceVersion: what is written after the list is seen.
        await watch.waitFor((lines) => lines.some((l) => l.startsWith('first ')), 10_000);
        const created = await kubectl(['create', 'deployment', 'watched', '--image=nginx', '-n', watched]);
        assert.equal(created.code, 0, created.stderr);
        await watch.waitFor((lines) => lines.some((l) => /^watched\s+0\/1\s+0\s+0\s+\d+s$/.test(l)), 10_000);
        const patched = await kubectl(['patch', 'deployment', 'watched', '-n', watched, '-p', '{"spec":{"replicas":3}}']);
        assert.equal(patched.code, 0, patched.stderr);
        await watch.waitFor((lines) => lines.some((l) => /^watched\s+0\/3\s/.test(l)), 10_000);
      } finally {
        watch.stop();
      }
    });

    test('a change of spec.selector is refused: field is immutable', async () => {
      const changed = await kubectl(['apply', '-f', '-'], { input: manifest(ns, 'web-v2') });
      assert.notEqual(changed.code, 0);
      assert.match(
        changed.stderr,
        /The Deployment "web" is invalid: spec\.selector: Invalid value: \{"matchLabels":\{"app":"web-v2"\}\}: field is immutable/,
      );
      const still = await kubectl(['get', 'deployment', 'web', '-n', ns, '-o', 'jsonpath={.spec.selector.matchLabels.app}']);
      assert.equal(still.stdout, 'web');
    });
  });
}
