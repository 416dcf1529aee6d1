/**
 * End to end with real kubectl 1.27 and 1.33 (default validation on): the writes tools make,
 * each step checked on the resulting object. Client-side apply of a ConfigMap, a Service and
 * a Deployment (the last-applied-configuration annotation drives kubectl's three-way
 * strategic merge patch: created, unchanged, configured, a field dropped from the manifest
 * dropped from the object, a change made by another hand kept, `$retainKeys` of a Deployment's
 * strategy); `kubectl diff` (exit 1 and exactly the changed lines; exit 0 and nothing when
 * nothing changes); `label` and `annotate` (overwrite, removal with `key-`); `edit` with
 * KUBE_EDITOR a script; `patch` of all three types on a Deployment, a Service (ports merge by
 * port) and a Pod (containers merge by name); `set image`; `rollout restart`; and
 * `--dry-run=server` of create, apply, label, annotate, patch, scale, set image and delete
 * (`rollout restart` has no --dry-run in these kubectl versions): kubectl's words printed, the
 * object as kube returns it, nothing stored.
 * `scale` itself (and its --current-replicas precondition) is in kubectl-subresources.test.ts.
 */
import assert from 'node:assert/strict';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { stringify } from 'yaml';
import { kubectlVersionsPlane, type Kubectl } from '../support/kubectl.ts';

const VERSIONS = ['1.27', '1.33'] as const;
const suite = kubectlVersionsPlane('writes', VERSIONS);

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** The manifest's objects, first version: a ConfigMap, a Service and a Deployment with two containers. */
function manifestV1(ns: string): Obj[] {
  return [
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings', namespace: ns, labels: { app: 'web', tier: 'front' } }, data: { color: 'blue', size: 'large' } },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web', namespace: ns },
      spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] },
    },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace: ns },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: 'web' } },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: {
            containers: [
              { name: 'app', image: 'nginx:1.25', env: [{ name: 'MODE', value: 'prod' }, { name: 'DEBUG', value: 'false' }] },
              { name: 'sidecar', image: 'busybox:1.36', command: ['sleep', 'infinity'] },
            ],
          },
        },
      },
    },
  ];
}

/**
 * The second version: the ConfigMap's `color` changed, `size` and the label `tier` dropped; a
 * second Service port; the Deployment's image changed, env DEBUG dropped, strategy Recreate.
 */
function manifestV2(ns: string): Obj[] {
  const [cm, svc, deploy] = manifestV1(ns) as [Obj, Obj, Obj];
  cm.metadata.labels = { app: 'web' };
  cm.data = { color: 'green' };
  svc.spec.ports.push({ name: 'https', port: 443, targetPort: 8443 });
  const app = deploy.spec.template.spec.containers[0];
  app.image = 'nginx:1.26';
  app.env = [{ name: 'MODE', value: 'prod' }];
  deploy.spec.strategy = { type: 'Recreate' };
  return [cm, svc, deploy];
}

const yamlOf = (objects: Obj[]): string => objects.map((o) => stringify(o)).join('---\n');

/**
 * The last-applied-configuration kubectl writes for a manifest object: its JSON as Go writes
 * a map (keys sorted), with `metadata.annotations` (empty when the manifest has none: kubectl
 * sets the annotation on the object it serializes) and a newline.
 */
function lastApplied(o: Obj): string {
  return `${goJson({ ...o, metadata: { annotations: {}, ...o.metadata } })}\n`;
}

/** JSON as Go's encoding/json writes a map: keys sorted at every level (kubectl's last-applied-configuration). */
function goJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(goJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    return `{${Object.keys(o)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${goJson(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

/** The changed lines of a unified diff: `-` and `+` lines without the file headers, sorted. */
function changedLines(diff: string): string[] {
  return diff
    .split('\n')
    .filter((l) => (l.startsWith('-') && !l.startsWith('---')) || (l.startsWith('+') && !l.startsWith('+++')))
    .sort();
}

for (const version of VERSIONS) {
  describe(`kubectl ${version} writes`, { skip: suite.skip }, () => {
    let kubectl: Kubectl;
    const ns = `writes-${version.replace('.', '-')}`;
    let editorDir: string;

    const ok = async (args: string[], input?: string, env?: Record<string, string>): Promise<string> => {
      const r = await kubectl(args, { ...(input === undefined ? {} : { input }), ...(env === undefined ? {} : { env }) });
      assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
      return r.stdout;
    };
    const get = async (resource: string, name: string): Promise<Obj> => JSON.parse(await ok(['get', resource, name, '-n', ns, '-o', 'json'])) as Obj;
    before(async () => {
      kubectl = suite.kubectl(version);
      await ok(['create', 'namespace', ns]);
      editorDir = await mkdtemp(join(tmpdir(), 'kube-editor-'));
    });
    after(async () => {
      if (editorDir !== undefined) await rm(editorDir, { recursive: true, force: true });
    });

    test('apply -f creates; again: unchanged, nothing written; diff: exit 0, nothing', async () => {
      const created = await ok(['apply', '-f', '-'], yamlOf(manifestV1(ns)));
      assert.deepEqual(created.trim().split('\n'), ['configmap/settings created', 'service/web created', 'deployment.apps/web created']);
      const cm = await get('configmap', 'settings');
      assert.deepEqual(cm.data, { color: 'blue', size: 'large' });
      assert.equal(cm.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration'], lastApplied(manifestV1(ns)[0] as Obj));

      const versions = async (): Promise<string[]> =>
        Promise.all([['configmap', 'settings'], ['service', 'web'], ['deployment', 'web']].map(async ([r, n]) => (await get(r as string, n as string)).metadata.resourceVersion as string));
      const before = await versions();
      const again = await ok(['apply', '-f', '-'], yamlOf(manifestV1(ns)));
      assert.deepEqual(again.trim().split('\n'), ['configmap/settings unchanged', 'service/web unchanged', 'deployment.apps/web unchanged']);
      assert.deepEqual(await versions(), before);

      const diff = await kubectl(['diff', '-f', '-'], { input: yamlOf(manifestV1(ns)) });
      assert.equal(diff.code, 0, `diff found changes:\n${diff.stdout}${diff.stderr}`);
      assert.equal(diff.stdout, '');
    });

    test('diff of a changed manifest: exit 1 and exactly the changed lines; nothing written', async () => {
      const live = await get('deployment', 'web');
      const [cm2, svc2, deploy2] = manifestV2(ns) as [Obj, Obj, Obj];
      // kubectl diffs the live object against the dry-run patch's answer, patched without the
      // last-applied-configuration annotation (annotate off): no annotation lines.
      const deployDiff = await kubectl(['diff', '-f', '-'], { input: yamlOf([deploy2]) });
      assert.equal(deployDiff.code, 1, deployDiff.stderr);
      assert.deepEqual(
        changedLines(deployDiff.stdout),
        [
          // generation, image, env, strategy (rollingUpdate dropped by $retainKeys).
          `-  generation: ${live.metadata.generation as number}`,
          `+  generation: ${(live.metadata.generation as number) + 1}`,
          '-        - name: DEBUG',
          '-          value: "false"',
          '-        image: nginx:1.25',
          '+        image: nginx:1.26',
          '-    rollingUpdate:',
          '-      maxSurge: 25%',
          '-      maxUnavailable: 25%',
          '-    type: RollingUpdate',
          '+    type: Recreate',
        ].sort(),
      );
      const diff = await kubectl(['diff', '-f', '-'], { input: yamlOf([cm2, svc2]) });
      assert.equal(diff.code, 1, diff.stderr);
      assert.deepEqual(
        // (ConfigMaps and Services have no generation, as in kube: no generation lines)
        changedLines(diff.stdout),
        [
          // ConfigMap: the data and label changes.
          '-  size: large',
          '-  color: blue',
          '+  color: green',
          '-    tier: front',
          // Service: the new port, with its defaulted protocol.
          '+  - name: https',
          '+    port: 443',
          '+    protocol: TCP',
          '+    targetPort: 8443',
        ].sort(),
      );
      assert.equal((await get('deployment', 'web')).metadata.resourceVersion, live.metadata.resourceVersion);
    });

    test('apply of the changed manifest: configured; dropped fields go, others\' changes stay, lists merge by key', async () => {
      // A label set by another hand is not in the last-applied configuration: apply keeps it.
      await ok(['label', 'configmap', 'settings', '-n', ns, 'owner=ops']);
      const before = await get('deployment', 'web');
      const applied = await ok(['apply', '-f', '-'], yamlOf(manifestV2(ns)));
      assert.deepEqual(applied.trim().split('\n'), ['configmap/settings configured', 'service/web configured', 'deployment.apps/web configured']);

      const cm = await get('configmap', 'settings');
      assert.deepEqual(cm.data, { color: 'green' });
      assert.deepEqual(cm.metadata.labels, { app: 'web', owner: 'ops' });
      assert.equal(cm.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration'], lastApplied(manifestV2(ns)[0] as Obj));

      const svc = await get('service', 'web');
      assert.deepEqual(svc.spec.ports, [
        { name: 'http', port: 80, protocol: 'TCP', targetPort: 8080 },
        { name: 'https', port: 443, protocol: 'TCP', targetPort: 8443 },
      ]);

      const deploy = await get('deployment', 'web');
      assert.equal(deploy.metadata.generation, before.metadata.generation + 1);
      assert.deepEqual(deploy.spec.strategy, { type: 'Recreate' });
      const [app, sidecar] = deploy.spec.template.spec.containers;
      assert.equal(app.image, 'nginx:1.26');
      assert.deepEqual(app.env, [{ name: 'MODE', value: 'prod' }]);
      // What the server defaulted and the manifest never said stays.
      assert.equal(app.terminationMessagePath, '/dev/termination-log');
      assert.deepEqual(sidecar, before.spec.template.spec.containers[1]);

      const again = await ok(['apply', '-f', '-'], yamlOf(manifestV2(ns)));
      assert.deepEqual(again.trim().split('\n'), ['configmap/settings unchanged', 'service/web unchanged', 'deployment.apps/web unchanged']);
    });

    test('label and annotate: add, --overwrite, removal with key-', async () => {
      const labelled = await ok(['label', 'deployment', 'web', '-n', ns, 'team=a']);
      assert.equal(labelled.trim(), 'deployment.apps/web labeled');
      assert.equal((await get('deployment', 'web')).metadata.labels.team, 'a');
      const refused = await kubectl(['label', 'deployment', 'web', '-n', ns, 'team=b']);
      assert.notEqual(refused.code, 0);
      assert.match(refused.stderr, /'team' already has a value \(a\), and --overwrite is false/);
      await ok(['label', 'deployment', 'web', '-n', ns, 'team=b', '--overwrite']);
      assert.equal((await get('deployment', 'web')).metadata.labels.team, 'b');
      const unlabelled = await ok(['label', 'deployment', 'web', '-n', ns, 'team-']);
      assert.equal(unlabelled.trim(), 'deployment.apps/web unlabeled');
      assert.equal((await get('deployment', 'web')).metadata.labels?.team, undefined);

      const annotated = await ok(['annotate', 'service', 'web', '-n', ns, 'note=hello world', 'other=x']);
      assert.match(annotated.trim(), /^service\/web annotated?$/); // 1.27 prints "annotate"
      assert.equal((await get('service', 'web')).metadata.annotations.note, 'hello world');
      await ok(['annotate', 'service', 'web', '-n', ns, 'note-']);
      const annotations = (await get('service', 'web')).metadata.annotations;
      assert.equal(annotations.note, undefined);
      assert.equal(annotations.other, 'x');
      assert.ok(annotations['kubectl.kubernetes.io/last-applied-configuration'] !== undefined);
    });

    test('edit with KUBE_EDITOR a script: the change is patched in; an edit that changes nothing is cancelled', async () => {
      const editor = join(editorDir, `edit-${version}.sh`);
      await writeFile(editor, '#!/bin/sh\nsed -i -e "s/^  color: green$/  color: edited/" -e "s/^    app: web$/    app: web\\n    edited: \\"yes\\"/" "$1"\n');
      await chmod(editor, 0o755);
      const edited = await ok(['edit', 'configmap', 'settings', '-n', ns], undefined, { KUBE_EDITOR: editor });
      assert.equal(edited.trim(), 'configmap/settings edited');
      const cm = await get('configmap', 'settings');
      assert.deepEqual(cm.data, { color: 'edited' });
      assert.deepEqual(cm.metadata.labels, { app: 'web', edited: 'yes', owner: 'ops' });

      const noop = join(editorDir, `noop-${version}.sh`);
      await writeFile(noop, '#!/bin/sh\nexit 0\n');
      await chmod(noop, 0o755);
      const cancelled = await kubectl(['edit', 'configmap', 'settings', '-n', ns], { env: { KUBE_EDITOR: noop } });
      assert.equal(cancelled.code, 0, cancelled.stderr);
      assert.match(cancelled.stderr, /Edit cancelled, no changes made\./);
      assert.equal((await get('configmap', 'settings')).metadata.resourceVersion, cm.metadata.resourceVersion);
    });

    test('patch --type strategic, merge and json: containers merge by name, ports by port; merge patch replaces lists', async () => {
      // Strategic: the named container changes, the other stays; a new env var merges by name.
      const strategic = await ok(['patch', 'deployment', 'web', '-n', ns, '-p', JSON.stringify({ spec: { template: { spec: { containers: [{ name: 'sidecar', image: 'busybox:1.37', env: [{ name: 'X', value: '1' }] }] } } } })]);
      assert.equal(strategic.trim(), 'deployment.apps/web patched');
      let deploy = await get('deployment', 'web');
      assert.deepEqual(deploy.spec.template.spec.containers.map((c: Obj) => [c.name, c.image]), [['app', 'nginx:1.26'], ['sidecar', 'busybox:1.37']]);
      assert.deepEqual(deploy.spec.template.spec.containers[1].env, [{ name: 'X', value: '1' }]);
      assert.deepEqual(deploy.spec.template.spec.containers[1].command, ['sleep', 'infinity']);
      // $patch: delete of a container by its name.
      await ok(['patch', 'deployment', 'web', '-n', ns, '--type=strategic', '-p', '{"spec":{"template":{"spec":{"containers":[{"name":"sidecar","$patch":"delete"}]}}}}']);
      deploy = await get('deployment', 'web');
      assert.deepEqual(deploy.spec.template.spec.containers.map((c: Obj) => c.name), ['app']);

      // Service ports merge by port: port 80's targetPort changes, 443 stays.
      await ok(['patch', 'service', 'web', '-n', ns, '-p', '{"spec":{"ports":[{"port":80,"targetPort":9090}]}}']);
      assert.deepEqual((await get('service', 'web')).spec.ports.map((p: Obj) => [p.port, p.targetPort]), [[80, 9090], [443, 8443]]);
      // A merge patch replaces the list.
      const merged = await ok(['patch', 'service', 'web', '-n', ns, '--type=merge', '-p', '{"spec":{"ports":[{"name":"https","port":443,"targetPort":8443}]}}']);
      assert.equal(merged.trim(), 'service/web patched');
      assert.deepEqual((await get('service', 'web')).spec.ports, [{ name: 'https', port: 443, protocol: 'TCP', targetPort: 8443 }]);
      // JSON patch: test, then add and remove.
      const json = await ok(['patch', 'service', 'web', '-n', ns, '--type=json', '-p', '[{"op":"test","path":"/spec/ports/0/port","value":443},{"op":"add","path":"/metadata/labels","value":{"via":"json"}},{"op":"remove","path":"/spec/selector/app"}]']);
      assert.equal(json.trim(), 'service/web patched');
      const svc = await get('service', 'web');
      assert.deepEqual(svc.metadata.labels, { via: 'json' });
      assert.equal(svc.spec.selector, undefined);
      const failed = await kubectl(['patch', 'service', 'web', '-n', ns, '--type=json', '-p', '[{"op":"test","path":"/spec/ports/0/port","value":80}]']);
      assert.notEqual(failed.code, 0);
      assert.match(failed.stderr, /The request is invalid: the server rejected our request due to an error in our request/);
      // Nothing to change: kubectl says so, nothing is written.
      const same = await ok(['patch', 'service', 'web', '-n', ns, '--type=merge', '-p', '{"metadata":{"labels":{"via":"json"}}}']);
      assert.equal(same.trim(), 'service/web patched (no change)');
      assert.equal((await get('service', 'web')).metadata.resourceVersion, svc.metadata.resourceVersion);
    });

    test('a Service with one port on two protocols: apply keeps both; a strategic patch merges by port alone, as kube does', async () => {
      const dns = (udpTarget: number): Obj => ({
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'dns', namespace: ns },
        spec: {
          selector: { app: 'dns' },
          ports: [
            { name: 'dns-tcp', port: 53, protocol: 'TCP', targetPort: 5353 },
            { name: 'dns-udp', port: 53, protocol: 'UDP', targetPort: udpTarget },
          ],
        },
      });
      assert.equal((await ok(['apply', '-f', '-'], yamlOf([dns(5353)]))).trim(), 'service/dns created');
      assert.equal((await ok(['apply', '-f', '-'], yamlOf([dns(5353)]))).trim(), 'service/dns unchanged');
      await ok(['label', 'service', 'dns', '-n', ns, 'role=dns']);
      const ports = (await get('service', 'dns')).spec.ports.map((p: Obj) => [p.name, p.port, p.protocol, p.targetPort]);
      assert.deepEqual(ports, [['dns-tcp', 53, 'TCP', 5353], ['dns-udp', 53, 'UDP', 5353]]);
      // The patch merge key of Service ports is `port` (port+protocol are the keys of
      // server-side apply only): the UDP item merges into the first port 53, the TCP one,
      // which leaves two UDP ports 53, refused by validation. Nothing changes.
      const refused = await kubectl(['patch', 'service', 'dns', '-n', ns, '-p', '{"spec":{"ports":[{"port":53,"protocol":"UDP","targetPort":5354}]}}']);
      assert.notEqual(refused.code, 0);
      assert.match(refused.stderr, /The Service "dns" is invalid: spec\.ports\[1\]: Duplicate value: /);
      assert.deepEqual((await get('service', 'dns')).spec.ports.map((p: Obj) => [p.name, p.port, p.protocol, p.targetPort]), ports);
    });

    test('patch of a Pod: containers merge by name, the image of one changes', async () => {
      const pod = {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'two', namespace: ns },
        spec: { containers: [{ name: 'a', image: 'busybox:1.36', command: ['sleep', '1d'] }, { name: 'b', image: 'nginx:1.25' }] },
      };
      await ok(['create', '-f', '-'], JSON.stringify(pod));
      await ok(['patch', 'pod', 'two', '-n', ns, '-p', '{"spec":{"containers":[{"name":"b","image":"nginx:1.26"}]}}']);
      const got = await get('pod', 'two');
      assert.deepEqual(got.spec.containers.map((c: Obj) => [c.name, c.image]), [['a', 'busybox:1.36'], ['b', 'nginx:1.26']]);
      assert.deepEqual(got.spec.containers[0].command, ['sleep', '1d']);
      // A new name merges in as a new container, which a Pod may not gain: refused by validation.
      const refused = await kubectl(['patch', 'pod', 'two', '-n', ns, '-p', '{"spec":{"containers":[{"name":"c","image":"nginx"}]}}']);
      assert.notEqual(refused.code, 0);
      assert.match(refused.stderr, /The Pod "two" is invalid: spec\.containers: Forbidden: pod updates may not add or remove containers/);
    });

    test('set image and rollout restart: template changes, generation rises', async () => {
      const before = await get('deployment', 'web');
      const set = await ok(['set', 'image', 'deployment/web', '-n', ns, 'app=nginx:1.27']);
      assert.equal(set.trim(), 'deployment.apps/web image updated');
      const imaged = await get('deployment', 'web');
      assert.equal(imaged.spec.template.spec.containers[0].image, 'nginx:1.27');
      assert.equal(imaged.metadata.generation, before.metadata.generation + 1);

      const restarted = await ok(['rollout', 'restart', 'deployment/web', '-n', ns]);
      assert.equal(restarted.trim(), 'deployment.apps/web restarted');
      const after = await get('deployment', 'web');
      const at = after.spec.template.metadata.annotations?.['kubectl.kubernetes.io/restartedAt'] as string | undefined;
      assert.match(at ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-Z]/);
      assert.equal(after.metadata.generation, imaged.metadata.generation + 1);
      assert.deepEqual(after.spec.template.metadata.labels, { app: 'web' });
    });
  });

  describe(`kubectl ${version} --dry-run=server`, { skip: suite.skip }, () => {
    let kubectl: Kubectl;
    const ns = `dry-${version.replace('.', '-')}`;
    const ok = async (args: string[], input?: string): Promise<string> => {
      const r = await kubectl(args, input === undefined ? {} : { input });
      assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
      return r.stdout;
    };
    const get = async (resource: string, name: string): Promise<Obj> => JSON.parse(await ok(['get', resource, name, '-n', ns, '-o', 'json'])) as Obj;
    const missing = async (resource: string, name: string): Promise<void> => {
      const r = await kubectl(['get', resource, name, '-n', ns]);
      assert.notEqual(r.code, 0, `${resource}/${name} exists`);
      assert.match(r.stderr, /\(NotFound\)/);
    };
    let deployment: Obj;
    let configMap: Obj;

    before(async () => {
      kubectl = suite.kubectl(version);
      await ok(['create', 'namespace', ns]);
      await ok(['apply', '-f', '-'], yamlOf(manifestV1(ns)));
      deployment = await get('deployment', 'web');
      configMap = await get('configmap', 'settings');
    });

    /** The objects are as they were before the dry runs. */
    const unchanged = async (): Promise<void> => {
      assert.deepEqual(await get('deployment', 'web'), deployment);
      assert.deepEqual(await get('configmap', 'settings'), configMap);
    };

    test('create: printed as kube returns it (uid and defaults, no resourceVersion), not stored', async () => {
      const printed = await ok(['create', 'deployment', 'dry', '-n', ns, '--image=nginx', '--dry-run=server']);
      assert.equal(printed.trim(), 'deployment.apps/dry created (server dry run)');
      const object = JSON.parse(await ok(['create', 'deployment', 'dry', '-n', ns, '--image=nginx', '--dry-run=server', '-o', 'json'])) as Obj;
      assert.match(object.metadata.uid, /^[0-9a-f-]{36}$/);
      assert.ok(object.metadata.creationTimestamp !== undefined);
      assert.equal(object.metadata.resourceVersion, undefined);
      assert.equal(object.metadata.generation, 1);
      assert.deepEqual(object.spec.strategy, { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' } });
      await missing('deployment', 'dry');
      const fromFile = await ok(['create', '-f', '-', '--dry-run=server'], JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'dry', namespace: ns }, data: { a: '1' } }));
      assert.equal(fromFile.trim(), 'configmap/dry created (server dry run)');
      await missing('configmap', 'dry');
      // The full pipeline runs: an existing name is refused as it would be.
      const exists = await kubectl(['create', 'configmap', 'settings', '-n', ns, '--dry-run=server']);
      assert.notEqual(exists.code, 0);
      assert.match(exists.stderr, /configmaps "settings" already exists/);
    });

    test('apply: a new object created, a changed one configured, neither stored', async () => {
      const applied = await ok(['apply', '--dry-run=server', '-f', '-'], yamlOf([...manifestV2(ns), { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'new', namespace: ns } }]));
      assert.deepEqual(applied.trim().split('\n'), [
        'configmap/settings configured (server dry run)',
        'service/web configured (server dry run)',
        'deployment.apps/web configured (server dry run)',
        'configmap/new created (server dry run)',
      ]);
      const printed = JSON.parse(await ok(['apply', '--dry-run=server', '-o', 'json', '-f', '-'], yamlOf([manifestV2(ns)[2] as Obj]))) as Obj;
      assert.equal(printed.spec.template.spec.containers[0].image, 'nginx:1.26');
      assert.deepEqual(printed.spec.strategy, { type: 'Recreate' });
      assert.equal(printed.metadata.generation, deployment.metadata.generation + 1);
      assert.equal(printed.metadata.resourceVersion, deployment.metadata.resourceVersion);
      await missing('configmap', 'new');
      await unchanged();
    });

    test('label, annotate, patch: printed changed, not stored', async () => {
      assert.equal((await ok(['label', 'configmap', 'settings', '-n', ns, 'x=y', '--dry-run=server'])).trim(), 'configmap/settings labeled (server dry run)');
      const labelled = JSON.parse(await ok(['label', 'configmap', 'settings', '-n', ns, 'x=y', '--dry-run=server', '-o', 'json'])) as Obj;
      assert.deepEqual(labelled.metadata.labels, { ...configMap.metadata.labels, x: 'y' });
      assert.match((await ok(['annotate', 'configmap', 'settings', '-n', ns, 'note=n', '--dry-run=server'])).trim(), /^configmap\/settings annotated? \(server dry run\)$/);
      // kubectl patch sets its printer's operation after the dry-run suffix: no suffix printed.
      const patched = await ok(['patch', 'configmap', 'settings', '-n', ns, '-p', '{"data":{"color":"red"}}', '--dry-run=server']);
      assert.equal(patched.trim(), 'configmap/settings patched');
      const printed = JSON.parse(await ok(['patch', 'configmap', 'settings', '-n', ns, '--type=merge', '-p', '{"data":{"color":"red"}}', '--dry-run=server', '-o', 'json'])) as Obj;
      assert.deepEqual(printed.data, { color: 'red', size: 'large' });
      assert.equal(printed.metadata.resourceVersion, configMap.metadata.resourceVersion);
      await unchanged();
    });

    test('scale and set image: printed, not stored', async () => {
      assert.equal((await ok(['scale', 'deployment', 'web', '-n', ns, '--replicas=7', '--dry-run=server'])).trim(), 'deployment.apps/web scaled (server dry run)');
      assert.equal((await ok(['set', 'image', 'deployment/web', '-n', ns, 'app=nginx:1.99', '--dry-run=server'])).trim(), 'deployment.apps/web image updated (server dry run)');
      const imaged = JSON.parse(await ok(['set', 'image', 'deployment/web', '-n', ns, 'app=nginx:1.99', '--dry-run=server', '-o', 'json'])) as Obj;
      assert.equal(imaged.spec.template.spec.containers[0].image, 'nginx:1.99');
      assert.equal(imaged.metadata.generation, deployment.metadata.generation + 1);
      await unchanged();
    });

    test('delete: printed deleted, still there', async () => {
      const deleted = await ok(['delete', 'configmap', 'settings', '-n', ns, '--dry-run=server']);
      assert.equal(deleted.trim(), 'configmap "settings" deleted (server dry run)');
      await unchanged();
    });
  });
}
