/**
 * End to end with real kubectl 1.27 and 1.33: subresources. `kubectl scale` of a custom
 * resource with a scale subresource (found through discovery's `widgets/scale`), with and
 * without a resourceVersion precondition; `kubectl get --subresource=status|scale`; `kubectl
 * patch --subresource=status`, which changes status alone, while a write to the object keeps
 * the stored status; the same for Pods; `kubectl drain`, which finds pods/eviction (policy/v1)
 * in discovery and evicts the node's pods through it; `kubectl scale` of Deployments,
 * ReplicaSets and StatefulSets through apps/v1 `<resource>/scale`.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { kubectlVersionsPlane, type Kubectl } from '../support/kubectl.ts';

const VERSIONS = ['1.27', '1.33'] as const;
const suite = kubectlVersionsPlane('subresources', VERSIONS);

/** A definition of its own per kubectl version (one control plane serves both). */
function definition(group: string): string {
  return JSON.stringify({
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `widgets.${group}` },
    spec: {
      group,
      scope: 'Namespaced',
      names: { plural: 'widgets', singular: 'widget', kind: 'Widget' },
      versions: [
        {
          name: 'v1',
          served: true,
          storage: true,
          schema: {
            openAPIV3Schema: {
              type: 'object',
              properties: {
                spec: { type: 'object', properties: { size: { type: 'integer' }, color: { type: 'string' } } },
                status: { type: 'object', properties: { ready: { type: 'integer' }, selector: { type: 'string' } } },
              },
            },
          },
          subresources: { status: {}, scale: { specReplicasPath: '.spec.size', statusReplicasPath: '.status.ready', labelSelectorPath: '.status.selector' } },
          additionalPrinterColumns: [{ name: 'Size', type: 'integer', jsonPath: '.spec.size' }],
        },
      ],
    },
  });
}

/** Runs kubectl until it succeeds (a kind defined a moment ago is served within seconds), bounded. */
async function eventually(kubectl: Kubectl, args: string[], input?: string, ms = 20_000): Promise<string> {
  const deadline = Date.now() + ms;
  for (;;) {
    const r = await kubectl(args, input === undefined ? {} : { input });
    if (r.code === 0) return r.stdout;
    if (Date.now() > deadline) assert.fail(`kubectl ${args.join(' ')} kept failing: ${r.stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

for (const version of VERSIONS) {
  describe(`kubectl ${version} and subresources`, { skip: suite.skip }, () => {
    let kubectl: Kubectl;
    const group = `v${version.replace('.', '-')}.example.com`;
    const resource = `widgets.${group}`;
    const jsonpath = async (args: string[], path: string): Promise<string> => {
      const r = await kubectl(['get', ...args, '-o', `jsonpath=${path}`]);
      assert.equal(r.code, 0, r.stderr);
      return r.stdout;
    };

    before(async () => {
      kubectl = suite.kubectl(version);
      const created = await kubectl(['apply', '-f', '-'], { input: definition(group) });
      assert.equal(created.code, 0, created.stderr);
      await eventually(kubectl, ['get', resource]);
      const widget = JSON.stringify({ apiVersion: `${group}/v1`, kind: 'Widget', metadata: { name: 'w' }, spec: { size: 1, color: 'red' }, status: { ready: 9 } });
      await eventually(kubectl, ['apply', '-f', '-'], widget);
    });

    test('a create cannot set status; patch --subresource=status sets it, and only it', async () => {
      assert.equal(await jsonpath([resource, 'w'], '{.status}'), '');
      const patched = await kubectl(['patch', resource, 'w', '--subresource=status', '--type=merge', '-p', '{"status":{"ready":2,"selector":"app=w"},"spec":{"size":7}}']);
      assert.equal(patched.code, 0, patched.stderr);
      assert.match(patched.stdout.trim(), new RegExp(`^widget.${group.replaceAll('.', '\\.')}/w patched$`));
      assert.equal(await jsonpath([resource, 'w'], '{.spec.size} {.status.ready} {.metadata.generation}'), '1 2 1');
      // A write to the object keeps the stored status.
      const merged = await kubectl(['patch', resource, 'w', '--type=merge', '-p', '{"status":{"ready":0},"spec":{"color":"blue"}}']);
      assert.equal(merged.code, 0, merged.stderr);
      assert.equal(await jsonpath([resource, 'w'], '{.spec.color} {.status.ready} {.metadata.generation}'), 'blue 2 2');
    });

    test('get --subresource=status prints the object\'s columns; --subresource=scale the Scale', async () => {
      const status = await kubectl(['get', resource, 'w', '--subresource=status']);
      assert.equal(status.code, 0, status.stderr);
      assert.match(status.stdout, /^NAME\s+SIZE\s*\nw\s+\d+\s*\n$/);
      assert.equal(await jsonpath([resource, 'w', '--subresource=status'], '{.status.ready}'), '2');
      const scale = await kubectl(['get', resource, 'w', '--subresource=scale']);
      assert.equal(scale.code, 0, scale.stderr);
      assert.match(scale.stdout, /^NAME\s+DESIRED\s+AVAILABLE\s+AGE\s*\nw\s+\d+\s+2\s+\S+\s*\n$/);
      assert.equal(await jsonpath([resource, 'w', '--subresource=scale'], '{.kind} {.apiVersion} {.status.selector}'), 'Scale autoscaling/v1 app=w');
    });

    test('scale --replicas writes spec.size through the Scale, with or without a precondition', async () => {
      const scaled = await kubectl(['scale', resource, 'w', '--replicas=3']);
      assert.equal(scaled.code, 0, scaled.stderr);
      assert.match(scaled.stdout.trim(), new RegExp(`^widget.${group.replaceAll('.', '\\.')}/w scaled$`));
      assert.equal(await jsonpath([resource, 'w'], '{.spec.size} {.spec.color} {.status.ready}'), '3 blue 2');
      const current = await jsonpath([resource, 'w'], '{.metadata.resourceVersion}');
      const pinned = await kubectl(['scale', resource, 'w', '--replicas=4', `--resource-version=${current}`]);
      assert.equal(pinned.code, 0, pinned.stderr);
      assert.equal(await jsonpath([resource, 'w'], '{.spec.size}'), '4');
      const stale = await kubectl(['scale', resource, 'w', '--replicas=5', `--resource-version=${current}`]);
      assert.notEqual(stale.code, 0);
      // kubectl reads the Scale and compares its resourceVersion itself.
      assert.match(stale.stderr, new RegExp(`Expected resource version to be ${current}, was \\d+`));
      assert.equal(await jsonpath([resource, 'w'], '{.spec.size}'), '4');
    });
  });
}

for (const version of VERSIONS) {
  describe(`kubectl ${version}: pods/status and pods/eviction`, { skip: suite.skip }, () => {
    let kubectl: Kubectl;
    const suffix = version.replace('.', '-');
    const ns = `evict-${suffix}`;
    const node = `drained-${suffix}`;
    before(async () => {
      kubectl = suite.kubectl(version);
      assert.equal((await kubectl(['create', 'namespace', ns])).code, 0);
    });

    test('get and patch --subresource=status of a Pod', async () => {
      const run = await kubectl(['run', 'web', '-n', ns, '--image=nginx']);
      assert.equal(run.code, 0, run.stderr);
      const patched = await kubectl(['patch', 'pod', 'web', '-n', ns, '--subresource=status', '-p', '{"status":{"phase":"Running","podIP":"10.1.2.3","podIPs":[{"ip":"10.1.2.3"}]},"spec":{"nodeName":"x"}}']);
      assert.equal(patched.code, 0, patched.stderr);
      assert.equal(patched.stdout.trim(), 'pod/web patched');
      const status = await kubectl(['get', 'pod', 'web', '-n', ns, '--subresource=status', '-o', 'wide']);
      assert.equal(status.code, 0, status.stderr);
      assert.match(status.stdout, /^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\s+IP\s+NODE\s.*\nweb\s+0\/1\s+Running\s+0\s+\S+\s+10\.1\.2\.3\s+<none>\s/);
      const got = await kubectl(['get', 'pod', 'web', '-n', ns, '-o', 'jsonpath={.status.phase} {.status.podIP} {.spec.nodeName}']);
      assert.equal(got.stdout.trim(), 'Running 10.1.2.3');
    });

    test('drain evicts the node\'s pods through pods/eviction', async () => {
      const created = await kubectl(['create', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'Node', metadata: { name: node } }) });
      assert.equal(created.code, 0, created.stderr);
      for (const name of ['a', 'b']) {
        const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: ns }, spec: { nodeName: node, containers: [{ name: 'c', image: 'busybox' }] } };
        const made = await kubectl(['create', '-f', '-'], { input: JSON.stringify(pod) });
        assert.equal(made.code, 0, made.stderr);
      }
      // Evicted with their grace period (30 s by default), the pods stay Terminating: no kubelet
      // ends them here, so drain waits in vain.
      const waited = await kubectl(['drain', node, '--force', '--timeout=3s'], { timeoutMs: 60_000 });
      assert.notEqual(waited.code, 0);
      const terminating = await kubectl(['get', 'pods', '-n', ns, '--field-selector', `spec.nodeName=${node}`, '-o', 'jsonpath={range .items[*]}{.metadata.name} {.metadata.deletionGracePeriodSeconds} {.status.conditions[0].type};{end}']);
      assert.equal(terminating.stdout, 'a 30 DisruptionTarget;b 30 DisruptionTarget;');
      // --grace-period=0 evicts them at once.
      const drained = await kubectl(['drain', node, '--force', '--grace-period=0', '--timeout=60s'], { timeoutMs: 90_000 });
      assert.equal(drained.code, 0, drained.stderr);
      assert.match(drained.stdout, new RegExp(`node/${node} (cordoned|already cordoned)`));
      assert.match(drained.stdout, /pod\/a evicted/);
      assert.match(drained.stdout, /pod\/b evicted/);
      assert.match(drained.stdout, new RegExp(`node/${node} drained`));
      const left = await kubectl(['get', 'pods', '-n', ns, '--field-selector', `spec.nodeName=${node}`, '-o', 'name']);
      assert.equal(left.code, 0, left.stderr);
      assert.equal(left.stdout.trim(), '');
      assert.equal((await kubectl(['get', 'node', node, '-o', 'jsonpath={.spec.unschedulable}'])).stdout, 'true');
    });

    test('drain stops at a PodDisruptionBudget that allows no disruption, and goes on once it allows one', async () => {
      const guarded = `guarded-${suffix}`;
      assert.equal((await kubectl(['create', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'Node', metadata: { name: guarded } }) })).code, 0);
      const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'g', namespace: ns, labels: { app: 'guarded' } }, spec: { nodeName: guarded, containers: [{ name: 'c', image: 'busybox' }] } };
      assert.equal((await kubectl(['create', '-f', '-'], { input: JSON.stringify(pod) })).code, 0);
      // Running and Ready, as a kubelet would report it: now its budget is asked.
      const running = await kubectl(['patch', 'pod', 'g', '-n', ns, '--subresource=status', '--type=merge', '-p', '{"status":{"phase":"Running","conditions":[{"type":"Ready","status":"True"}]}}']);
      assert.equal(running.code, 0, running.stderr);
      const pdb = await kubectl(['create', 'poddisruptionbudget', 'guard', '-n', ns, '--selector=app=guarded', '--min-available=1']);
      assert.equal(pdb.code, 0, pdb.stderr);
      const budget = (allowed: number) => ['patch', 'pdb', 'guard', '-n', ns, '--subresource=status', '--type=merge', '-p', JSON.stringify({ status: { observedGeneration: 1, disruptionsAllowed: allowed, currentHealthy: 1, desiredHealthy: 1, expectedPods: 1 } })];
      const blocking = await kubectl(budget(0));
      assert.equal(blocking.code, 0, blocking.stderr);
      const refused = await kubectl(['drain', guarded, '--force', '--timeout=2s'], { timeoutMs: 60_000 });
      assert.notEqual(refused.code, 0);
      assert.match(refused.stderr, /Cannot evict pod as it would violate the pod's disruption budget\./);
      assert.equal((await kubectl(['get', 'pod', 'g', '-n', ns, '-o', 'jsonpath={.status.phase}'])).stdout, 'Running');
      assert.equal((await kubectl(budget(1))).code, 0);
      const drained = await kubectl(['drain', guarded, '--force', '--grace-period=0', '--timeout=60s'], { timeoutMs: 90_000 });
      assert.equal(drained.code, 0, drained.stderr);
      assert.match(drained.stdout, /pod\/g evicted/);
      // The eviction took the budget's one disruption and recorded the pod.
      assert.match((await kubectl(['get', 'pdb', 'guard', '-n', ns, '-o', 'jsonpath={.status.disruptionsAllowed} {.status.disruptedPods.g}'])).stdout, /^0 \d{4}-\d\d-\d\dT/);
    });

    test('an Eviction posted over REST (kubectl create --raw) honours its deleteOptions', async () => {
      const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'r', namespace: ns }, spec: { nodeName: 'elsewhere', containers: [{ name: 'c', image: 'busybox' }] } };
      assert.equal((await kubectl(['create', '-f', '-'], { input: JSON.stringify(pod) })).code, 0);
      const uid = (await kubectl(['get', 'pod', 'r', '-n', ns, '-o', 'jsonpath={.metadata.uid}'])).stdout;
      const evict = (deleteOptions: Record<string, unknown>, apiVersion = 'policy/v1') =>
        kubectl(['create', '--raw', `/api/v1/namespaces/${ns}/pods/r/eviction`, '-f', '-'], { input: JSON.stringify({ apiVersion, kind: 'Eviction', metadata: { name: 'r', namespace: ns }, deleteOptions }) });
      const state = async () => (await kubectl(['get', 'pod', 'r', '-n', ns, '-o', 'jsonpath={.metadata.deletionGracePeriodSeconds}|{.status.conditions[*].type}'])).stdout;
      const dry = await evict({ dryRun: ['All'] });
      assert.equal(dry.code, 0, dry.stderr);
      assert.deepEqual(JSON.parse(dry.stdout), { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 });
      assert.equal(await state(), '|', 'a dry run marks and deletes nothing');
      const wrong = await evict({ preconditions: { uid: 'not-the-uid' } });
      assert.notEqual(wrong.code, 0);
      assert.match(wrong.stderr, new RegExp(`Operation cannot be fulfilled on Pod "r": the UID in the precondition \\(not-the-uid\\) does not match the UID in record \\(${uid}\\)\\. The object might have been deleted and then recreated`));
      const graceful = await evict({ gracePeriodSeconds: 45, preconditions: { uid } }, 'policy/v1beta1');
      assert.equal(graceful.code, 0, graceful.stderr);
      assert.equal(await state(), '45|DisruptionTarget');
      assert.equal((await evict({ gracePeriodSeconds: 0 })).code, 0);
      const gone = await kubectl(['get', 'pod', 'r', '-n', ns]);
      assert.match(gone.stderr, /NotFound|not found/);
    });
  });
}

for (const version of VERSIONS) {
  describe(`kubectl ${version}: scale of apps/v1 kinds`, { skip: suite.skip }, () => {
    let kubectl: Kubectl;
    const ns = `scale-${version.replace('.', '-')}`;
    before(async () => {
      kubectl = suite.kubectl(version);
      assert.equal((await kubectl(['create', 'namespace', ns])).code, 0);
    });

    test('scale a Deployment: spec.replicas through its Scale, with --current-replicas as a precondition', async () => {
      const created = await kubectl(['create', 'deployment', 'web', '-n', ns, '--image=nginx', '--replicas=2']);
      assert.equal(created.code, 0, created.stderr);
      const scaled = await kubectl(['scale', 'deployment', 'web', '-n', ns, '--replicas=5']);
      assert.equal(scaled.code, 0, scaled.stderr);
      assert.equal(scaled.stdout.trim(), 'deployment.apps/web scaled');
      const got = await kubectl(['get', 'deployment', 'web', '-n', ns, '-o', 'jsonpath={.spec.replicas} {.metadata.generation} {.spec.template.spec.containers[0].image}']);
      assert.equal(got.stdout, '5 2 nginx');
      const table = await kubectl(['get', 'deployment', 'web', '-n', ns, '--subresource=scale']);
      assert.equal(table.code, 0, table.stderr);
      assert.match(table.stdout, /^NAME\s+DESIRED\s+AVAILABLE\s+AGE\s*\nweb\s+5\s+0\s+\S+\s*\n$/);
      const selector = await kubectl(['get', 'deployment', 'web', '-n', ns, '--subresource=scale', '-o', 'jsonpath={.status.selector}']);
      assert.equal(selector.stdout, 'app=web');
      const wrong = await kubectl(['scale', 'deployment', 'web', '-n', ns, '--current-replicas=3', '--replicas=1']);
      assert.notEqual(wrong.code, 0);
      assert.match(wrong.stderr, /Expected replicas to be 3, was 5/);
      const right = await kubectl(['scale', 'deployment', 'web', '-n', ns, '--current-replicas=5', '--replicas=1']);
      assert.equal(right.code, 0, right.stderr);
      assert.equal((await kubectl(['get', 'deployment', 'web', '-n', ns, '-o', 'jsonpath={.spec.replicas}'])).stdout, '1');
    });

    test('scale a ReplicaSet and a StatefulSet', async () => {
      const labels = { app: 'db' };
      const template = { metadata: { labels }, spec: { containers: [{ name: 'c', image: 'busybox' }] } };
      const objects = [
        { apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'rs', namespace: ns }, spec: { replicas: 1, selector: { matchLabels: labels }, template } },
        { apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'sts', namespace: ns }, spec: { replicas: 1, serviceName: 'db', selector: { matchLabels: labels }, template } },
      ];
      for (const object of objects) {
        const applied = await kubectl(['apply', '-f', '-'], { input: JSON.stringify(object) });
        assert.equal(applied.code, 0, applied.stderr);
      }
      for (const [kind, name] of [['replicaset', 'rs'], ['statefulset', 'sts']] as const) {
        const scaled = await kubectl(['scale', kind, name, '-n', ns, '--replicas=3']);
        assert.equal(scaled.code, 0, scaled.stderr);
        assert.equal(scaled.stdout.trim(), `${kind}.apps/${name} scaled`);
        assert.equal((await kubectl(['get', kind, name, '-n', ns, '-o', 'jsonpath={.spec.replicas}'])).stdout, '3');
      }
    });
  });
}
