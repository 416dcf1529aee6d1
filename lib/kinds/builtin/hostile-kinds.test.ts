/**
 * Hostile bodies for every built-in kind: random and adversarial JSON made by walking the kind's
 * generated schema (a wrong type at every level, huge and infinite numbers, very long strings,
 * deep nesting within MAX_JSON_DEPTH, null everywhere, arrays for objects, quantities, cron
 * schedules, selectors and CIDRs no parser should choke on) sent through the in-process
 * pipeline as create, update, merge patch, status and scale writes. Every refusal must be a
 * StatusError below 500, every call must end quickly; the kinds' printers, strategies, views and
 * the Go shaping, called directly with the same inputs, must never throw.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { StatusError } from '../../errors.ts';
import { MAX_JSON_DEPTH, type KubeObject } from '../../kube.ts';
import { GoShapes } from '../go-json.ts';
import { builtinRegistry } from '../index.ts';
import { BUILTIN_KINDS } from './index.ts';
import { SchemaSet } from '../schemas.ts';
import type { KindDefinition } from '../types.ts';
import { MemoryStorage } from '../../../services/storage/backends/memory.ts';
import type { Target } from '../../../services/gateway/core/pipeline.ts';
import { inProcessPipeline } from '../../../test/support/pipeline.ts';

const admin = { username: 'admin', uid: '1', groups: ['system:masters'] };
const CASES_PER_KIND = Number(process.env.HOSTILE_CASES ?? 120);
/**
 * The most CPU time one call may take before it counts as a hang (CPU time of this process, in
 * which calls run one at a time: what a busy machine does to wall time does not count).
 */
const CALL_BUDGET_MS = 3_000;

/** Milliseconds of CPU this process spent since `since` (process.cpuUsage()). */
function cpuMsSince(since: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / 1000;
}

interface Schema {
  type?: string;
  format?: string;
  $ref?: string;
  properties?: Record<string, Schema>;
  items?: Schema;
  additionalProperties?: Schema;
  enum?: unknown[];
}

/** mulberry32: a small seeded generator, so a failure is reproduced by its seed. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const manyTerms = (n: number) => Array.from({ length: n }, (_, i) => `k${i} in (a,b)`).join(',');
const STRINGS = [
  '', 'a', 'Always', 'None', 'TCP', 'ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName', 'Recreate', 'RollingUpdate', 'OnDelete', 'Parallel',
  'Never', 'OnFailure', 'IfNotPresent', 'Forbid', 'Replace', 'Allow', 'NonIndexed', 'Indexed', 'Opaque', 'kubernetes.io/tls', 'kubernetes.io/dockerconfigjson',
  '1', '-1', '0', '1Gi', '100m', '1e3', '1e9999999999', '9'.repeat(10_000) + 'Gi', '-9'.repeat(3000), '0.000000000000000000001', '1E', 'Ki', '.5', '+1', '1e-9999999',
  '*/0 * * * *', '* * * * *', '@every 1s', '@hourly', '0 0 31 2 *', ','.repeat(10_000), '*/99999999999999999999 * * * *', '1-99999999 * * * *', 'CRON_TZ=Nowhere/Nothing * * * * *', 'TZ=UTC */5 * * * *',
  '1.2.3.4/99', '10.0.0.0/8', '::/999', '1.2.3.4', '::1', '256.1.1.1', '10.96.0.1', 'fe80::1%eth0', '0.0.0.0/0', '1.2.3.4/-1', '::ffff:1.2.3.4', 'x'.repeat(100_000),
  'app=web', manyTerms(3000), '!'.repeat(5000), 'a,'.repeat(5000), 'a in (' + 'b,'.repeat(5000) + 'c)', '\u0000', '\ud800', '../..', '%2F', 'a/b',
  '2024-01-01T00:00:00Z', 'not-a-time', '9999-99-99T99:99:99Z', '10%', '-10%', '9'.repeat(400) + '%', 'eyJhIjoxfQ==', 'not base64!', '{"auths":{}}',
  'http://a', 'x.example.com', '*.example.com', '/path', 'Exact', 'Prefix', 'ImplementationSpecific', 'Ingress', 'Egress', 'Pods', 'Resource', 'Utilization', 'AverageValue',
];
const NUMBERS = [0, 1, -1, 2, 65535, 65536, 30080, 2147483647, 2147483648, -2147483649, 2 ** 53 + 2, 1e308, 0.5, -0.0, 1.5e-300, Infinity, -Infinity, 9.9e99];

/** JSON's own numbers: 1e400 parses to Infinity, as a body's text does. */
const fromJson = (text: string): unknown => JSON.parse(text) as unknown;

function deep(levels: number, rnd: () => number): unknown {
  let v: unknown = rnd() < 0.5 ? 'x' : null;
  for (let i = 0; i < levels; i++) v = rnd() < 0.5 ? [v] : { a: v };
  return v;
}

class Generator {
  readonly #schemas: SchemaSet;
  readonly #rnd: () => number;
  /** Whether values of the wrong type are mixed in (otherwise only content is hostile). */
  wrongTypes = true;
  /** How many more values and how many more big ones (long strings, long lists, deep nests) one body may hold. */
  #values = 0;
  #big = 0;

  /** Starts a new body. */
  reset(): void {
    this.#values = 300;
    this.#big = 3;
  }

  /** Whether another big value fits in the body. */
  big(): boolean {
    return this.#big-- > 0;
  }

  constructor(schemas: SchemaSet, rnd: () => number) {
    this.#schemas = schemas;
    this.#rnd = rnd;
  }

  pick<T>(list: readonly T[]): T {
    const value = list[Math.floor(this.#rnd() * list.length)] as T;
    // A big string when one fits, else a short one.
    if (typeof value === 'string' && value.length > 1000 && !this.big()) return 'x' as T;
    return value;
  }

  chance(p: number): boolean {
    return this.#rnd() < p;
  }

  hostile(depth: number): unknown {
    switch (Math.floor(this.#rnd() * 10)) {
      case 0: return null;
      case 1: return [];
      case 2: return {};
      case 3: return this.pick(NUMBERS);
      case 4: return this.pick(STRINGS);
      case 5: return [this.pick(STRINGS), null, {}, [this.pick(NUMBERS)]];
      case 6: return this.chance(0.2) && this.big() ? deep(MAX_JSON_DEPTH - depth - 20, this.#rnd) : deep(20, this.#rnd);
      case 7: return this.chance(0.5);
      case 8: return !this.big() ? null : { [this.pick(STRINGS)]: this.pick(STRINGS), matchExpressions: Array.from({ length: 2000 }, (_, i) => ({ key: `k${i}`, operator: 'In', values: ['a'] })) };
      default: return fromJson('1e400');
    }
  }

  /** A value for `schema` at `depth`; undefined to leave the field out. */
  value(schema: Schema, depth: number, name = ''): unknown {
    if (this.#values-- <= 0) return null;
    if (this.wrongTypes && this.chance(0.12)) return this.hostile(depth);
    const resolved = this.#schemas.resolve(schema as never) as Schema;
    const ref = schema.$ref ?? '';
    if (ref.endsWith('.LabelSelector') && this.chance(0.3)) {
      return { matchLabels: { app: 'x', [this.pick(STRINGS)]: this.pick(STRINGS) }, matchExpressions: Array.from({ length: this.chance(0.5) && this.big() ? 3000 : 2 }, (_, i) => ({ key: `k${i}`, operator: this.pick(['In', 'NotIn', 'Exists', 'DoesNotExist', 'Bogus']), values: this.chance(0.5) ? ['a', this.pick(STRINGS)] : [] })) };
    }
    if (ref.endsWith('.Time') || ref.endsWith('.MicroTime')) return this.pick(['2024-01-01T00:00:00Z', 'not-a-time', '9999-12-31T23:59:59.999999Z', '0000-01-01T00:00:00Z']);
    if (ref.endsWith('.Quantity')) return this.chance(0.5) ? this.pick(['1e9999999999', '9'.repeat(10_000) + 'Gi', '1Gi', '-1', '100m', '0.1n', '1e-9999', '9'.repeat(400), 'Infinity', 'NaN']) : this.pick(NUMBERS);
    if (resolved.format === 'int-or-string') return this.chance(0.5) ? this.pick(NUMBERS) : this.pick(STRINGS);
    if (/schedule/i.test(name) && this.chance(0.7)) return this.pick(['*/0 * * * *', ','.repeat(10_000), '*/5 * * * *', '0-59/0 * * * *', '1-99999999 * * * *', '@yearly', 'CRON_TZ=UTC 0 0 * * *', '* * * * * * *']);
    if (/cidr|ip$|ips$/i.test(name) && resolved.type === 'string' && this.chance(0.7)) return this.pick(['1.2.3.4/99', '::/999', '10.0.0.0/8', '1.2.3.4', '::1', '999.1.1.1', 'None', '', '10.96.0.1', '10.96.0.10']);
    switch (resolved.type) {
      case 'string':
        if (resolved.enum !== undefined && this.chance(0.5)) return this.pick(resolved.enum);
        return this.pick(STRINGS);
      case 'integer':
      case 'number':
        return this.pick(NUMBERS);
      case 'boolean':
        return this.chance(0.5);
      case 'array': {
        if (depth > 7) return [];
        const n = this.chance(0.1) && this.big() ? 60 : Math.floor(this.#rnd() * 3);
        return Array.from({ length: n }, () => this.value(resolved.items ?? {}, depth + 1, name));
      }
      default: {
        if (resolved.properties !== undefined) {
          const out: Record<string, unknown> = {};
          if (depth > 7) return out;
          for (const [field, sub] of Object.entries(resolved.properties)) {
            if (field === 'apiVersion' || field === 'kind' || field === 'metadata') continue;
            if (this.chance(0.45)) out[field] = this.value(sub, depth + 1, field);
          }
          return out;
        }
        if (resolved.additionalProperties !== undefined) {
          const out: Record<string, unknown> = {};
          const n = this.chance(0.1) && this.big() ? 200 : Math.floor(this.#rnd() * 3);
          for (let i = 0; i < n; i++) out[i % 2 === 0 ? `k${i}` : this.pick(STRINGS).slice(0, 300)] = this.value(resolved.additionalProperties, depth + 1, name);
          return out;
        }
        return this.hostile(depth);
      }
    }
  }
}

const POD_SPEC = { containers: [{ name: 'c', image: 'nginx', ports: [{ containerPort: 80 }], resources: { limits: { cpu: '1', memory: '1Gi' }, requests: { cpu: '100m' } }, env: [{ name: 'A', value: 'b' }] }], nodeSelector: { a: 'b' }, tolerations: [{ key: 'k', operator: 'Exists' }] };
const TEMPLATE = { metadata: { labels: { app: 'web' } }, spec: POD_SPEC };
const SELECTOR = { matchLabels: { app: 'web' } };
const SUBJECTS = [{ kind: 'User', name: 'u', apiGroup: 'rbac.authorization.k8s.io' }, { kind: 'ServiceAccount', name: 's', namespace: 'default' }];
const HPA_METRIC = { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } };
/** A valid object of each kind beyond its identity, for mutation (kinds absent here start empty). */
const SEEDS: Record<string, Record<string, unknown>> = {
  'v1/nodes': { spec: { podCIDR: '10.0.0.0/24', podCIDRs: ['10.0.0.0/24'], taints: [{ key: 'k', effect: 'NoSchedule' }] }, status: { capacity: { cpu: '4' }, addresses: [{ type: 'InternalIP', address: '10.0.0.1' }] } },
  'v1/configmaps': { data: { a: 'b' }, binaryData: { b: 'YQ==' } },
  'v1/secrets': { type: 'Opaque', data: { password: 'c2VjcmV0' }, stringData: { token: 'hunter2' } },
  'v1/serviceaccounts': { secrets: [{ name: 's' }], imagePullSecrets: [{ name: 'p' }] },
  'v1/endpoints': { subsets: [{ addresses: [{ ip: '10.0.0.1', nodeName: 'n' }], ports: [{ port: 80, protocol: 'TCP', name: 'http' }] }] },
  'v1/events': { involvedObject: { kind: 'Pod', name: 'p', namespace: 'default' }, reason: 'R', message: 'm', type: 'Normal', count: 1, firstTimestamp: '2024-01-01T00:00:00Z', source: { component: 'c' } },
  'v1/limitranges': { spec: { limits: [{ type: 'Container', max: { cpu: '2' }, min: { cpu: '100m' }, default: { cpu: '1' }, defaultRequest: { cpu: '500m' }, maxLimitRequestRatio: { cpu: '10' } }] } },
  'v1/resourcequotas': { spec: { hard: { pods: '10', 'requests.cpu': '4' }, scopes: ['NotTerminating'] }, status: { hard: { pods: '10' }, used: { pods: '1' } } },
  'v1/persistentvolumes': { spec: { capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'], hostPath: { path: '/tmp' }, persistentVolumeReclaimPolicy: 'Retain' } },
  'v1/persistentvolumeclaims': { spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, storageClassName: 'std' } },
  'coordination.k8s.io/v1/leases': { spec: { holderIdentity: 'h', leaseDurationSeconds: 15, renewTime: '2024-01-01T00:00:00.000000Z' } },
  'discovery.k8s.io/v1/endpointslices': { addressType: 'IPv4', endpoints: [{ addresses: ['10.0.0.1'], conditions: { ready: true } }], ports: [{ name: 'http', port: 80, protocol: 'TCP' }] },
  'v1/services': { spec: { type: 'NodePort', selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080, protocol: 'TCP', name: 'http' }, { port: 443, targetPort: 'https', name: 'https' }] } },
  'v1/pods': { spec: POD_SPEC },
  'batch/v1/jobs': { spec: { template: { spec: { ...POD_SPEC, restartPolicy: 'Never' } }, backoffLimit: 3, completions: 2, parallelism: 2 } },
  'batch/v1/cronjobs': { spec: { schedule: '*/5 * * * *', timeZone: 'Etc/UTC', jobTemplate: { spec: { template: { spec: { ...POD_SPEC, restartPolicy: 'OnFailure' } } } } } },
  'apps/v1/deployments': { spec: { replicas: 2, selector: SELECTOR, template: TEMPLATE, strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: 1 } } } },
  'apps/v1/replicasets': { spec: { replicas: 2, selector: SELECTOR, template: TEMPLATE } },
  'apps/v1/statefulsets': { spec: { replicas: 2, serviceName: 's', selector: SELECTOR, template: TEMPLATE, volumeClaimTemplates: [{ metadata: { name: 'd' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }] } },
  'apps/v1/daemonsets': { spec: { selector: SELECTOR, template: TEMPLATE, updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '10%' } } } },
  'autoscaling/v2/horizontalpodautoscalers': { spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'd' }, minReplicas: 1, maxReplicas: 5, metrics: [HPA_METRIC] } },
  'autoscaling/v1/horizontalpodautoscalers': { spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'd' }, minReplicas: 1, maxReplicas: 5, targetCPUUtilizationPercentage: 50 } },
  'networking.k8s.io/v1/ingressclasses': { spec: { controller: 'example.com/ingress' } },
  'networking.k8s.io/v1/ingresses': { spec: { ingressClassName: 'nginx', tls: [{ hosts: ['a.example.com'], secretName: 't' }], rules: [{ host: 'a.example.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 's', port: { number: 80 } } } }] } }] } },
  'networking.k8s.io/v1/networkpolicies': { spec: { podSelector: SELECTOR, policyTypes: ['Ingress', 'Egress'], ingress: [{ from: [{ ipBlock: { cidr: '10.0.0.0/8', except: ['10.1.0.0/16'] } }, { namespaceSelector: SELECTOR }], ports: [{ port: 80, protocol: 'TCP', endPort: 90 }] }], egress: [{ to: [{ podSelector: SELECTOR }] }] } },
  'policy/v1/poddisruptionbudgets': { spec: { minAvailable: '50%', selector: SELECTOR } },
  'rbac.authorization.k8s.io/v1/clusterrolebindings': { roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' }, subjects: SUBJECTS },
  'rbac.authorization.k8s.io/v1/rolebindings': { roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'r' }, subjects: SUBJECTS },
  'rbac.authorization.k8s.io/v1/clusterroles': { rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get'] }, { nonResourceURLs: ['/healthz'], verbs: ['get'] }], aggregationRule: { clusterRoleSelectors: [SELECTOR] } },
  'rbac.authorization.k8s.io/v1/roles': { rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list'] }] },
  'storage.k8s.io/v1/storageclasses': { provisioner: 'example.com/p', reclaimPolicy: 'Delete', volumeBindingMode: 'WaitForFirstConsumer', parameters: { a: 'b' }, allowedTopologies: [{ matchLabelExpressions: [{ key: 'zone', values: ['a'] }] }] },
  'scheduling.k8s.io/v1/priorityclasses': { value: 1000, preemptionPolicy: 'Never', description: 'd' },
  'events.k8s.io/v1/events': { eventTime: '2024-01-01T00:00:00.000000Z', reportingController: 'c', reportingInstance: 'i', action: 'A', reason: 'R', type: 'Normal', regarding: { kind: 'Pod', name: 'p', namespace: 'default' }, note: 'n', series: { count: 2, lastObservedTime: '2024-01-01T00:00:00.000000Z' } },
  'apiextensions.k8s.io/v1/customresourcedefinitions': { spec: { group: 'example.com', names: { plural: 'widgets', singular: 'widget', kind: 'Widget', listKind: 'WidgetList' }, scope: 'Namespaced', versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object', properties: { size: { type: 'integer' } } } } } }, subresources: { status: {}, scale: { specReplicasPath: '.spec.size', statusReplicasPath: '.status.size' } } }] } },
};

/** Every place in `value` a mutation can replace: [container, key] pairs. */
function places(value: unknown, out: [Record<string, unknown> | unknown[], string | number][] = [], depth = 0): typeof out {
  if (depth > 12) return out;
  if (Array.isArray(value)) value.forEach((v, i) => { out.push([value, i]); places(v, out, depth + 1); });
  else if (typeof value === 'object' && value !== null) for (const [k, v] of Object.entries(value)) { out.push([value as Record<string, unknown>, k]); places(v, out, depth + 1); }
  return out;
}

/** `seed` with one to three of its values replaced by hostile ones. */
function mutated(gen: Generator, seed: Record<string, unknown>): Record<string, unknown> {
  const out = structuredClone(seed);
  const all = places(out);
  const n = 1 + Math.floor(gen.pick([0, 1, 2]));
  for (let i = 0; i < n && all.length > 0; i++) {
    const [container, key] = gen.pick(all);
    const value = gen.chance(0.5) ? gen.hostile(8) : gen.chance(0.5) ? gen.pick(STRINGS) : gen.pick(NUMBERS);
    (container as Record<string | number, unknown>)[key] = value;
  }
  return out;
}

function apiVersionOf(kind: KindDefinition): string {
  return kind.group === '' ? kind.version : `${kind.group}/${kind.version}`;
}

/**
 * The 500s kube answers itself, with a message saying why: pods/binding returns
 * ValidatePodBinding's field errors unwrapped (an aggregate, which its handler answers as an
 * internal error); a Service asking for more node ports than the range holds is refused with
 * InternalError (what it claimed is released: see the targeted test).
 */
const KUBE_500 = [/ binding: (\[)?target\.(kind|name): /, /services.* create: Internal error occurred: failed to allocate a nodePort: range is full$/];

/** Runs one pipeline call: a StatusError below 500, or success; never anything else, never slow. */
async function call(what: string, run: () => Promise<unknown>, failures: string[]): Promise<unknown> {
  const started = process.cpuUsage();
  try {
    return await run();
  } catch (err) {
    if (!(err instanceof StatusError)) {
      failures.push(`${what}: threw ${err instanceof Error ? err.stack?.split('\n').slice(0, 4).join(' | ') : String(err)}`);
    } else if (err.code >= 500 && !KUBE_500.some((known) => known.test(`${what}: ${err.message}`))) {
      failures.push(`${what}: ${err.code} ${err.reason}: ${err.message.slice(0, 300)}`);
    }
    return undefined;
  } finally {
    const took = cpuMsSince(started);
    if (took > CALL_BUDGET_MS) failures.push(`${what}: took ${Math.round(took)} ms of CPU`);
  }
}

/** Calls `fn` directly; anything it throws is a failure (the kinds' functions never throw). */
function direct(what: string, fn: () => unknown, failures: string[]): void {
  const started = process.cpuUsage();
  try {
    fn();
  } catch (err) {
    failures.push(`${what}: threw ${err instanceof Error ? err.stack?.split('\n').slice(0, 4).join(' | ') : String(err)}`);
  }
  const took = cpuMsSince(started);
  if (took > CALL_BUDGET_MS) failures.push(`${what}: took ${Math.round(took)} ms of CPU`);
}

const describeCase = (kind: KindDefinition, i: number, op: string) => `${kind.resource}.${kind.group || 'core'}/${kind.version} case ${i} ${op}`;

test('every built-in kind: hostile bodies end in a StatusError below 500, quickly; its functions never throw', { timeout: 240_000 }, async () => {
  const registry = builtinRegistry();
  const storage = new MemoryStorage();
  const { pipeline } = await inProcessPipeline(storage, registry);
  const schemas = new SchemaSet();
  const shapes = new GoShapes(schemas);
  const failures: string[] = [];
  const now = new Date('2024-06-01T00:00:00Z');
  const only = process.env.HOSTILE_KIND;
  const kinds = BUILTIN_KINDS.filter((k) => only === undefined || k.resource === only);
  assert.ok(only !== undefined || kinds.length >= 35, `${kinds.length} built-in kinds`);
  for (const [k, kind] of kinds.entries()) {
    const rnd = random(Number(process.env.HOSTILE_SEED ?? 1000) + BUILTIN_KINDS.indexOf(kind));
    const gen = new Generator(schemas, rnd);
    const schema = schemas.get(kind.schema) as Schema | undefined;
    assert.ok(schema !== undefined, kind.schema);
    const namespace = kind.namespaced ? 'default' : '';
    const target = (name: string, subresource?: string): Target => ({ info: kind, namespace, name, subresource });
    // An object to update, patch and write the status and scale of: created by the pipeline
    // from the first body it takes, else stored as an older server might have left it.
    const baseName = `base-${k}`;
    const stored = kind.storedAs ?? kind;
    const seed = SEEDS[`${apiVersionOf(kind)}/${kind.resource}`] ?? {};
    const base: KubeObject = { ...structuredClone(seed), apiVersion: apiVersionOf(kind), kind: kind.kind, metadata: { name: baseName, ...(kind.namespaced ? { namespace } : {}) } };
    const made = await call(`${kind.resource} base create`, () => pipeline.create(admin, target(''), structuredClone(base)), failures);
    if (made === undefined) await storage.create({ group: stored.group, resource: stored.resource, namespace, name: baseName }, kind.storedAs?.toStored(structuredClone(base)) ?? structuredClone(base));
    for (let i = 0; i < CASES_PER_KIND; i++) {
      gen.wrongTypes = i % 2 === 0;
      const name = `h${i}`;
      gen.reset();
      const spec = (i % 3 === 2 ? gen.value(schema, 0) : mutated(gen, seed)) as Record<string, unknown>;
      const body = { ...(typeof spec === 'object' && spec !== null && !Array.isArray(spec) ? spec : {}), apiVersion: apiVersionOf(kind), kind: kind.kind, metadata: { name, ...(kind.namespaced ? { namespace } : {}) } } as KubeObject;
      if (gen.chance(0.1)) body.metadata = { ...body.metadata, labels: { [gen.pick(STRINGS).slice(0, 100)]: gen.pick(STRINGS).slice(0, 100) }, annotations: { a: gen.pick(STRINGS) } };
      const op = (o: string) => describeCase(kind, i, o);

      // The kind's own functions, directly, with what no decoding checked.
      const copy = () => structuredClone(body);
      const strategy = kind.strategy;
      direct(op('printer'), () => kind.printer?.cells(copy(), now), failures);
      direct(op('defaults'), () => strategy.defaults?.(copy()), failures);
      direct(op('prepareForCreate'), () => strategy.prepareForCreate?.(copy()), failures);
      direct(op('prepareForUpdate'), () => strategy.prepareForUpdate?.(copy(), structuredClone(base)), failures);
      direct(op('prepareForUpdate (hostile old)'), () => strategy.prepareForUpdate?.(structuredClone(base), copy()), failures);
      direct(op('validate'), () => strategy.validate?.(copy(), undefined), failures);
      direct(op('validate update'), () => strategy.validate?.(copy(), structuredClone(base)), failures);
      direct(op('validate update (hostile old)'), () => strategy.validate?.(copy(), copy()), failures);
      direct(op('status prepareForUpdate'), () => kind.statusStrategy?.prepareForUpdate?.(copy(), copy()), failures);
      direct(op('status validate'), () => kind.statusStrategy?.validate?.(copy(), copy()), failures);
      direct(op('go shape'), () => shapes.shape(copy(), kind.schema), failures);
      direct(op('toStored'), () => kind.storedAs?.toStored(copy()), failures);
      direct(op('fromStored'), () => kind.storedAs?.fromStored(copy()), failures);
      direct(op('selectable fields'), () => kind.selectableFields.values(copy()), failures);

      // Through the pipeline, as a client's requests.
      const created = await call(op('create'), () => pipeline.create(admin, target(''), copy()), failures);
      if (created !== undefined) {
        await call(op('delete'), () => pipeline.delete(admin, target(name)), failures);
      }
      const put = { ...copy(), metadata: { name: baseName, ...(kind.namespaced ? { namespace } : {}) } } as KubeObject;
      await call(op('update'), () => pipeline.update(admin, target(baseName), structuredClone(put)), failures);
      const patch = new TextEncoder().encode(JSON.stringify({ ...spec as object, metadata: { labels: { a: 'b' } } }).replaceAll('null', gen.chance(0.5) ? 'null' : '1e400'));
      await call(op('merge patch'), () => pipeline.patch(admin, target(baseName), { contentType: 'application/merge-patch+json', body: patch }), failures);
      if (kind.subresources.includes('status')) {
        await call(op('status update'), () => pipeline.update(admin, target(baseName, 'status'), structuredClone(put)), failures);
        await call(op('status patch'), () => pipeline.patch(admin, target(baseName, 'status'), { contentType: 'application/merge-patch+json', body: patch }), failures);
      }
      if (kind.subresources.includes('binding')) {
        const binding = { apiVersion: 'v1', kind: 'Binding', metadata: { name: baseName, namespace, ...(gen.chance(0.3) ? { annotations: { a: gen.pick(STRINGS) }, labels: { l: 'x' } } : {}) }, target: gen.chance(0.5) ? { kind: 'Node', name: gen.pick(STRINGS) } : gen.hostile(3) } as KubeObject;
        await call(op('binding'), () => pipeline.post(admin, target(baseName, 'binding'), binding, { dryRun: gen.chance(0.5) }), failures);
      }
      if (kind.subresources.includes('eviction')) {
        const eviction = { apiVersion: gen.pick(['policy/v1', 'policy/v1beta1']), kind: 'Eviction', metadata: { name: baseName, namespace }, deleteOptions: gen.chance(0.5) ? { gracePeriodSeconds: gen.pick(NUMBERS), preconditions: { uid: gen.pick(STRINGS) } } : gen.hostile(3) } as KubeObject;
        await call(op('eviction'), () => pipeline.post(admin, target(baseName, 'eviction'), eviction, { dryRun: true }), failures);
      }
      if (kind.subresources.includes('scale')) {
        const scale = { apiVersion: 'autoscaling/v1', kind: 'Scale', metadata: { name: baseName, ...(kind.namespaced ? { namespace } : {}) }, spec: { replicas: gen.chance(0.5) ? gen.pick(NUMBERS) : gen.hostile(3) } } as KubeObject;
        await call(op('scale update'), () => pipeline.update(admin, target(baseName, 'scale'), scale), failures);
        const scalePatch = new TextEncoder().encode(JSON.stringify({ spec: { replicas: gen.chance(0.5) ? gen.pick(NUMBERS) : gen.hostile(3) } }));
        await call(op('scale patch'), () => pipeline.patch(admin, target(baseName, 'scale'), { contentType: 'application/merge-patch+json', body: scalePatch }), failures);
      }
    }
  }
  assert.deepEqual(failures.slice(0, 40), [], `${failures.length} failures`);
});

/** Bodies that once broke a kind (or would, written carelessly): each a create of `resource`. */
const TARGETED: [group: string, version: string, resource: string, kind: string, body: Record<string, unknown>][] = [];
{
  const pod = (resources: Record<string, unknown>) => ({ spec: { containers: [{ name: 'c', image: 'i', resources }], overhead: resources.limits } });
  for (const q of ['1e9999999999', '1e-9999999999', '9'.repeat(10_000) + 'Gi', '99999999999999999999999Ei', '1e9007199254740991']) {
    // requests and limits compared and summed for the QoS class: scales 10^10 apart
    TARGETED.push(['', 'v1', 'pods', 'Pod', pod({ limits: { cpu: q, memory: q }, requests: { cpu: q, memory: '1' } })]);
    TARGETED.push(['', 'v1', 'pods', 'Pod', pod({ limits: { cpu: '1m' }, requests: { cpu: q } })]);
    TARGETED.push(['', 'v1', 'resourcequotas', 'ResourceQuota', { spec: { hard: { pods: q, 'requests.cpu': q } } }]);
    TARGETED.push(['', 'v1', 'limitranges', 'LimitRange', { spec: { limits: [{ type: 'Container', max: { cpu: q }, min: { cpu: '1m' }, default: { cpu: '1' }, maxLimitRequestRatio: { cpu: q } }] } }]);
    TARGETED.push(['', 'v1', 'persistentvolumeclaims', 'PersistentVolumeClaim', { spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: q } } } }]);
  }
  for (const schedule of ['*/0 * * * *', ','.repeat(10_000), '*/99999999999999999999 * * * *', '1-99999999 * * * *', '0 0 31 2 *', 'TZ=No/Where * * * * *']) {
    TARGETED.push(['batch', 'v1', 'cronjobs', 'CronJob', { spec: { schedule, jobTemplate: { spec: { template: { spec: { containers: [{ name: 'c', image: 'i' }], restartPolicy: 'OnFailure' } } } } } }]);
  }
  for (const cidr of ['1.2.3.4/99', '::/999', '1.2.3.4/-1', '/8', 'x'.repeat(100_000)]) {
    TARGETED.push(['networking.k8s.io', 'v1', 'networkpolicies', 'NetworkPolicy', { spec: { podSelector: {}, ingress: [{ from: [{ ipBlock: { cidr, except: [cidr] } }] }] } }]);
    TARGETED.push(['', 'v1', 'services', 'Service', { spec: { type: 'LoadBalancer', clusterIP: cidr, loadBalancerSourceRanges: [cidr], ports: [{ port: 80 }] } }]);
  }
  const selector = { matchLabels: { app: 'web' }, matchExpressions: Array.from({ length: 5000 }, (_, i) => ({ key: `k${i}`, operator: 'In', values: ['a'] })) };
  TARGETED.push(['policy', 'v1', 'poddisruptionbudgets', 'PodDisruptionBudget', { spec: { minAvailable: 1, selector } }]);
  TARGETED.push(['apps', 'v1', 'deployments', 'Deployment', { spec: { selector, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'i' }] } } } }]);
  TARGETED.push(['', 'v1', 'services', 'Service', { spec: { type: 'NodePort', ports: Array.from({ length: 3000 }, (_, i) => ({ port: 1 + i, name: `p${i}` })) } }]);
}

test('targeted hostile values (quantities, schedules, CIDRs, selectors, port counts) end in a StatusError below 500, quickly', { timeout: 120_000 }, async () => {
  const registry = builtinRegistry();
  const { pipeline } = await inProcessPipeline(new MemoryStorage(), registry);
  const failures: string[] = [];
  for (const [i, [group, version, resource, kind, body]] of TARGETED.entries()) {
    const info = registry.get(group, version, resource);
    assert.ok(info !== undefined, resource);
    const object = { ...structuredClone(body), apiVersion: group === '' ? version : `${group}/${version}`, kind, metadata: { name: `t${i}` } } as KubeObject;
    const created = await call(`${resource} targeted ${i} create`, () => pipeline.create(admin, { info, namespace: info.namespaced ? 'default' : '', name: '' }, object), failures);
    if (created !== undefined) await call(`${resource} targeted ${i} delete`, () => pipeline.delete(admin, { info, namespace: info.namespaced ? 'default' : '', name: `t${i}` }), failures);
  }
  assert.deepEqual(failures, []);
  // What the refused Service of thousands of node ports claimed was released.
  const services = registry.get('', 'v1', 'services');
  assert.ok(services !== undefined);
  const created = await pipeline.create(admin, { info: services, namespace: 'default', name: '' }, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'after' }, spec: { type: 'NodePort', ports: Array.from({ length: 2000 }, (_, i) => ({ port: 1 + i, name: `p${i}` })) } });
  assert.equal((created.spec as { ports: unknown[] }).ports.length, 2000);
});
