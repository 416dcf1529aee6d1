/**
 * Rough cost of the field manager on a Deployment-sized object (not a test):
 * `node lib/apply/bench.ts`. Prints the CPU time (user + system, so that other load on the
 * machine counts less) per update, create and apply.
 */
import { readGoFacts, SchemaSet } from '../kinds/schemas.ts';
import type { KubeObject } from '../kube.ts';
import { applyTypesOf, FieldManager } from './index.ts';

const definitions = new SchemaSet();
const goFacts = readGoFacts();
const types = applyTypesOf((n) => definitions.get(n), 'io.k8s.api.apps.v1.Deployment', (n) => goFacts.get(n));
const fm = new FieldManager({ types, apiVersion: 'apps/v1', kind: 'Deployment', subresource: '', resetFields: [['status']], now: () => new Date() });

const container = (i: number, image: string): Record<string, unknown> => ({
  name: `c${i}`,
  image,
  imagePullPolicy: 'IfNotPresent',
  ports: [{ containerPort: 80 + i, protocol: 'TCP', name: `http${i}` }],
  env: [
    { name: 'A', value: '1' },
    { name: 'B', value: '2' },
  ],
  resources: { limits: { cpu: '1', memory: '1Gi' }, requests: { cpu: '100m', memory: '128Mi' } },
  terminationMessagePath: '/dev/termination-log',
  terminationMessagePolicy: 'File',
  volumeMounts: [{ name: 'data', mountPath: '/data' }],
});

const deployment = (replicas: number, image: string): KubeObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', namespace: 'default', uid: 'u1', resourceVersion: '5', generation: 1, labels: { app: 'web', tier: 'front' }, annotations: { 'deployment.kubernetes.io/revision': '1' } },
  spec: {
    replicas,
    selector: { matchLabels: { app: 'web' } },
    strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } },
    revisionHistoryLimit: 10,
    progressDeadlineSeconds: 600,
    template: {
      metadata: { labels: { app: 'web' } },
      spec: { containers: [container(1, 'nginx:1'), container(2, image)], volumes: [{ name: 'data', emptyDir: {} }], restartPolicy: 'Always', terminationGracePeriodSeconds: 30, dnsPolicy: 'ClusterFirst', schedulerName: 'default-scheduler', securityContext: {} },
    },
  },
  status: { replicas: 2, readyReplicas: 2, conditions: [{ type: 'Available', status: 'True' }] },
});

function cpuMicros(n: number, fn: (i: number) => void): number {
  const start = process.cpuUsage();
  for (let i = 0; i < n; i++) fn(i);
  const used = process.cpuUsage(start);
  return (used.user + used.system) / n;
}

let live = fm.update(undefined, deployment(2, 'a'), 'creator');
cpuMicros(1000, (i) => fm.update(live, deployment(3, `w${i}`), 'kubectl'));
const update = cpuMicros(5000, (i) => {
  // clients send the live managedFields back, as kubectl edit and patches do
  const next = deployment(2 + (i % 3), `b${i % 7}`);
  next.metadata = { ...next.metadata, managedFields: live.metadata?.managedFields };
  live = fm.update(live, next, i % 2 === 0 ? 'kubectl' : 'controller');
});
const create = cpuMicros(5000, () => fm.update(undefined, deployment(2, 'a'), 'creator'));
const config = (i: number): KubeObject => ({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' }, spec: { replicas: 4, template: { spec: { containers: [{ name: 'c1', image: `nginx:${i % 3}` }] } } } });
const apply = cpuMicros(1000, (i) => fm.apply(live, config(i), 'applier', true));
console.log(`CPU per Deployment: update ${update.toFixed(0)} µs, create ${create.toFixed(0)} µs, apply ${apply.toFixed(0)} µs`);
