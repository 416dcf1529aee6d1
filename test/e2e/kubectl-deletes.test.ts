/**
 * End to end with real kubectl 1.27 and 1.33: deletes. `delete -l`, `--field-selector` and
 * `--all` (kubectl lists, then deletes each), `--dry-run=server` storing nothing,
 * `--cascade=orphan`, `foreground` and `background` of a Deployment owning a ReplicaSet (the
 * garbage collector orphans it, deletes it first, or collects it after), `--grace-period` on a scheduled pod (it stays, marked, until its grace period is
 * shortened to 0), `--force --grace-period=0`; and through the REST API directly (kubectl's
 * --raw): preconditions in kube's words, and deletecollection. Each step checks the objects.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { KubeObject } from '../../lib/kube.ts';
import { kubectlVersionsPlane, type Kubectl } from '../support/kubectl.ts';

const VERSIONS = ['1.27', '1.33'] as const;
const suite = kubectlVersionsPlane('deletes', VERSIONS);

for (const version of VERSIONS) {
  describe(`kubectl ${version} deletes`, { skip: suite.skip }, () => {
    let kubectl: Kubectl;
    let scratch: string;
    const ns = `deletes-${version.replace('.', '-')}`;
    const inNs = (args: string[]) => kubectl([...args, '-n', ns]);
    const ok = async (args: string[], input?: string) => {
      const r = input === undefined ? await inNs(args) : await kubectl([...args, '-n', ns], { input });
      assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
      return r.stdout;
    };
    const names = async (resource: string): Promise<string[]> => {
      const out = await ok(['get', resource, '-o', 'json']);
      return (JSON.parse(out) as { items: KubeObject[] }).items.map((o) => String(o.metadata?.name)).sort();
    };
    const object = async (resource: string, name: string): Promise<KubeObject> => JSON.parse(await ok(['get', resource, name, '-o', 'json'])) as KubeObject;
    const configMaps = async (list: [string, Record<string, string>][]) => {
      for (const [name, labels] of list) {
        await ok(['create', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, labels }, data: { a: '1' } }));
      }
    };
    /** kubectl --raw against this namespace's configmaps; a body is sent from a file. */
    const raw = async (verb: 'get' | 'delete', path: string, body?: unknown) => {
      const args = [verb, '--raw', `/api/v1/namespaces/${ns}/configmaps${path}`];
      if (body !== undefined) {
        const file = join(scratch, `body-${Math.random().toString(36).slice(2)}.json`);
        await writeFile(file, JSON.stringify(body));
        args.push('-f', file);
      }
      return kubectl(args);
    };

    before(async () => {
      kubectl = suite.kubectl(version);
      scratch = await mkdtemp(join(tmpdir(), 'kubectl-deletes-'));
      const created = await kubectl(['create', 'namespace', ns]);
      assert.equal(created.code, 0, created.stderr);
    });
    after(async () => {
      if (scratch !== undefined) await rm(scratch, { recursive: true, force: true });
    });

    test('delete -l, --field-selector and --all delete what they select, and nothing else', async () => {
      await configMaps([
        ['web-1', { app: 'web' }],
        ['web-2', { app: 'web' }],
        ['db-1', { app: 'db' }],
        ['db-2', { app: 'db' }],
      ]);
      const byLabel = await ok(['delete', 'configmaps', '-l', 'app=web']);
      assert.deepEqual(byLabel.trim().split('\n').sort(), ['configmap "web-1" deleted', 'configmap "web-2" deleted']);
      assert.deepEqual(await names('configmaps'), ['db-1', 'db-2']);
      const byField = await ok(['delete', 'configmaps', '--field-selector', 'metadata.name=db-1']);
      assert.equal(byField.trim(), 'configmap "db-1" deleted');
      assert.deepEqual(await names('configmaps'), ['db-2']);
      await configMaps([['other', {}]]);
      const all = await ok(['delete', 'configmaps', '--all']);
      assert.deepEqual(all.trim().split('\n').sort(), ['configmap "db-2" deleted', 'configmap "other" deleted']);
      assert.deepEqual(await names('configmaps'), []);
    });

    test('--dry-run=server deletes nothing, alone or by selector', async () => {
      await configMaps([['dry-1', { dry: 'yes' }], ['dry-2', { dry: 'yes' }]]);
      const before = await object('configmap', 'dry-1');
      const one = await ok(['delete', 'configmap', 'dry-1', '--dry-run=server']);
      assert.equal(one.trim(), 'configmap "dry-1" deleted (server dry run)');
      const selected = await ok(['delete', 'configmaps', '-l', 'dry=yes', '--dry-run=server']);
      assert.deepEqual(selected.trim().split('\n').sort(), ['configmap "dry-1" deleted (server dry run)', 'configmap "dry-2" deleted (server dry run)']);
      const after = await object('configmap', 'dry-1');
      assert.equal(after.metadata?.resourceVersion, before.metadata?.resourceVersion);
      assert.equal(after.metadata?.deletionTimestamp, undefined);
      assert.deepEqual(await names('configmaps'), ['dry-1', 'dry-2']);
      await ok(['delete', 'configmaps', '-l', 'dry=yes']);
    });

    test('--cascade=orphan, foreground and background: the garbage collector orphans, deletes first, or collects the ReplicaSet a Deployment owns', async () => {
      const labels = (name: string) => ({ app: name });
      const template = (name: string) => ({ metadata: { labels: labels(name) }, spec: { containers: [{ name: 'c', image: 'nginx' }] } });
      /** A Deployment and a ReplicaSet it owns (blockOwnerDeletion, as the deployment controller writes it). */
      const owned = async (name: string): Promise<string> => {
        await ok(['create', '-f', '-'], JSON.stringify({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name }, spec: { replicas: 1, selector: { matchLabels: labels(name) }, template: template(name) } }));
        const uid = String((await object('deployment', name)).metadata?.uid);
        const ownerReferences = [{ apiVersion: 'apps/v1', kind: 'Deployment', name, uid, controller: true, blockOwnerDeletion: true }];
        await ok(['create', '-f', '-'], JSON.stringify({ apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: `${name}-rs`, ownerReferences }, spec: { replicas: 1, selector: { matchLabels: labels(name) }, template: template(name) } }));
        return uid;
      };
      const gone = async (resource: string, name: string) => {
        const r = await inNs(['get', resource, name]);
        assert.notEqual(r.code, 0, `${resource}/${name} is still there`);
        assert.match(r.stderr, /NotFound/);
      };
      // Orphan: kubectl waits until the Deployment is gone; the ReplicaSet stays, its reference to it removed.
      await owned('orphaned');
      assert.equal((await ok(['delete', 'deployment', 'orphaned', '--cascade=orphan'])).trim(), 'deployment.apps "orphaned" deleted');
      await gone('deployment', 'orphaned');
      assert.equal((await object('replicaset', 'orphaned-rs')).metadata?.ownerReferences, undefined);
      // Foreground: the ReplicaSet goes first, then the Deployment; kubectl returns when both are gone.
      await owned('foreground');
      assert.equal((await ok(['delete', 'deployment', 'foreground', '--cascade=foreground'])).trim(), 'deployment.apps "foreground" deleted');
      await gone('deployment', 'foreground');
      await gone('replicaset', 'foreground-rs');
      // Background (kubectl's default): the Deployment goes at once, the ReplicaSet is collected after.
      await owned('background');
      await ok(['delete', 'deployment', 'background']);
      await gone('deployment', 'background');
      await ok(['wait', '--for=delete', 'replicaset/background-rs', '--timeout=60s']);
    });

    test('--grace-period on a scheduled pod marks it (deletionTimestamp = now + grace); --force --grace-period=0 removes it', async () => {
      const pod = (name: string) =>
        JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { nodeName: 'node-1', containers: [{ name: 'c', image: 'nginx' }] } });
      await ok(['create', '-f', '-'], pod('graceful'));
      const started = Math.floor(Date.now() / 1000);
      const deleted = await ok(['delete', 'pod', 'graceful', '--grace-period=45', '--wait=false']);
      assert.equal(deleted.trim(), 'pod "graceful" deleted');
      const marked = await object('pod', 'graceful');
      assert.equal(marked.metadata?.deletionGracePeriodSeconds, 45);
      const deadline = Date.parse(String(marked.metadata?.deletionTimestamp)) / 1000;
      assert.ok(deadline >= started + 45 && deadline <= Math.ceil(Date.now() / 1000) + 45, String(marked.metadata?.deletionTimestamp));
      // a shorter grace period shortens it
      await ok(['delete', 'pod', 'graceful', '--grace-period=15', '--wait=false']);
      const shortened = await object('pod', 'graceful');
      assert.equal(shortened.metadata?.deletionGracePeriodSeconds, 15);
      assert.equal(Date.parse(String(shortened.metadata?.deletionTimestamp)) / 1000, deadline - 30);
      const forced = await inNs(['delete', 'pod', 'graceful', '--force', '--grace-period=0']);
      assert.equal(forced.code, 0, forced.stderr);
      assert.match(forced.stdout, /pod "graceful" force deleted/);
      assert.deepEqual(await names('pods'), []);
      // an unscheduled pod goes at once
      await ok(['create', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'pending' }, spec: { containers: [{ name: 'c', image: 'nginx' }] } }));
      await ok(['delete', 'pod', 'pending', '--grace-period=45', '--wait=false']);
      assert.deepEqual(await names('pods'), []);
    });

    test('REST: preconditions refused with kube\'s Conflict; deletecollection answers the list of what it deleted', async () => {
      await configMaps([['pre', {}]]);
      const cm = await object('configmap', 'pre');
      const wrongUid = await raw('delete', '/pre', { kind: 'DeleteOptions', apiVersion: 'v1', preconditions: { uid: 'not-the-uid' } });
      assert.notEqual(wrongUid.code, 0);
      assert.match(
        wrongUid.stderr,
        new RegExp(`Operation cannot be fulfilled on ConfigMap "pre": the UID in the precondition \\(not-the-uid\\) does not match the UID in record \\(${String(cm.metadata?.uid)}\\)`),
      );
      const wrongVersion = await raw('delete', '/pre', { kind: 'DeleteOptions', apiVersion: 'v1', preconditions: { resourceVersion: '1' } });
      assert.notEqual(wrongVersion.code, 0);
      assert.match(wrongVersion.stderr, /the ResourceVersion in the precondition \(1\) does not match the ResourceVersion in record/);
      assert.equal((await object('configmap', 'pre')).metadata?.uid, cm.metadata?.uid);
      const right = await raw('delete', '/pre', { kind: 'DeleteOptions', apiVersion: 'v1', preconditions: { uid: cm.metadata?.uid, resourceVersion: cm.metadata?.resourceVersion } });
      assert.equal(right.code, 0, right.stderr);
      const status = JSON.parse(right.stdout) as { kind: string; status: string; details: { name: string; kind: string; uid: string } };
      assert.deepEqual([status.kind, status.status, status.details.name, status.details.kind, status.details.uid], ['Status', 'Success', 'pre', 'configmaps', cm.metadata?.uid]);

      await configMaps([['col-1', { col: 'x' }], ['col-2', { col: 'x' }], ['col-3', { col: 'y' }]]);
      const dry = await raw('delete', '?labelSelector=col%3Dx&dryRun=All');
      assert.equal(dry.code, 0, dry.stderr);
      assert.deepEqual(await names('configmaps'), ['col-1', 'col-2', 'col-3']);
      const collection = await raw('delete', '?labelSelector=col%3Dx');
      assert.equal(collection.code, 0, collection.stderr);
      const list = JSON.parse(collection.stdout) as { kind: string; apiVersion: string; items: KubeObject[] };
      assert.equal(list.kind, 'ConfigMapList');
      assert.equal(list.apiVersion, 'v1');
      assert.deepEqual(list.items.map((o) => o.metadata?.name), ['col-1', 'col-2']);
      assert.deepEqual(await names('configmaps'), ['col-3']);
      // Orphan: the answer lists what was selected, as listed (kube's); the object is marked with the
      // `orphan` finalizer (test/integration/deletes.test.ts), which the garbage collector then takes away.
      const orphaned = await raw('delete', '?fieldSelector=metadata.name%3Dcol-3', { kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: 'Orphan' });
      assert.equal(orphaned.code, 0, orphaned.stderr);
      assert.deepEqual((JSON.parse(orphaned.stdout) as { items: KubeObject[] }).items.map((o) => o.metadata?.name), ['col-3']);
      await ok(['wait', '--for=delete', 'configmap/col-3', '--timeout=60s']);
    });
  });
}
