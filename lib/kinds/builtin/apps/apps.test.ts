/**
 * The apps/v1 kinds through the gateway's pipeline as the services wire it (defaults at decode,
 * the admission chain, memory storage), table-driven: for each kind the defaulted object kube
 * stores for an input, and for invalid objects and updates the exact 422 causes kube answers
 * (figures and texts from kube's apps/v1 defaults, apps validation and registry strategies).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { StatusCause } from '../../../errors.ts';
import type { KubeObject } from '../../../kube.ts';
import { SYSTEM_MASTERS, type UserInfo } from '../../../../services/auth/api.ts';
import type { Target } from '../../../../services/gateway/core/pipeline.ts';
import { MemoryStorage } from '../../../../services/storage/backends/memory.ts';
import { inProcessPipeline, refusal } from '../../../../test/support/pipeline.ts';
import { builtinRegistry } from '../../index.ts';

const registry = builtinRegistry();
const admin: UserInfo = { username: 'admin', uid: '1', groups: [SYSTEM_MASTERS] };

type Resource = 'deployments' | 'replicasets' | 'statefulsets' | 'daemonsets';
const KINDS: Record<Resource, string> = { deployments: 'Deployment', replicasets: 'ReplicaSet', statefulsets: 'StatefulSet', daemonsets: 'DaemonSet' };

function target(resource: Resource, name = ''): Target {
  const info = registry.get('apps', 'v1', resource);
  assert.ok(info !== undefined, resource);
  return { info, namespace: 'default', name };
}

async function pipeline() {
  return (await inProcessPipeline(new MemoryStorage(), registry)).pipeline;
}

const clone = <T>(value: T): T => structuredClone(value);

/** A minimal valid object of the kind: selector and template labels `app: <name>`, one container. */
function base(resource: Resource, name = 'web'): KubeObject {
  const spec: Record<string, unknown> = {
    selector: { matchLabels: { app: name } },
    template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'main', image: 'nginx:1.27' }] } },
  };
  if (resource === 'statefulsets') spec.serviceName = name;
  return { apiVersion: 'apps/v1', kind: KINDS[resource], metadata: { name }, spec };
}

/** `base` with its spec changed by `edit`. */
function withSpec(resource: Resource, edit: (spec: Record<string, unknown>) => void, name = 'web'): KubeObject {
  const object = base(resource, name);
  edit(object.spec as Record<string, unknown>);
  return object;
}

/** The pod template of `base` as kube stores it: the pod spec's and the container's defaults. */
const DEFAULTED_TEMPLATE = {
  metadata: { labels: { app: 'web' } },
  spec: {
    containers: [{ name: 'main', image: 'nginx:1.27', imagePullPolicy: 'IfNotPresent', resources: {}, terminationMessagePath: '/dev/termination-log', terminationMessagePolicy: 'File' }],
    dnsPolicy: 'ClusterFirst',
    restartPolicy: 'Always',
    securityContext: {},
    terminationGracePeriodSeconds: 30,
    schedulerName: 'default-scheduler',
  },
};

const ZERO_WITH_ZERO = {
  reason: 'FieldValueInvalid',
  field: 'spec.strategy.rollingUpdate.maxUnavailable',
  message: 'Invalid value: 0: may not be 0 when `maxSurge` is 0',
};

interface DefaultsCase {
  name: string;
  resource: Resource;
  object: KubeObject;
  /** The stored spec. */
  spec: Record<string, unknown>;
}

const DEFAULTS: DefaultsCase[] = [
  {
    name: 'Deployment: one replica, RollingUpdate 25%/25%, ten revisions, 600 s deadline',
    resource: 'deployments',
    object: base('deployments'),
    spec: {
      selector: { matchLabels: { app: 'web' } },
      template: DEFAULTED_TEMPLATE,
      replicas: 1,
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' } },
      revisionHistoryLimit: 10,
      progressDeadlineSeconds: 600,
    },
  },
  {
    name: 'Deployment: what is set is kept; a half-set rollingUpdate is completed',
    resource: 'deployments',
    object: withSpec('deployments', (s) => {
      s.replicas = 0;
      s.strategy = { rollingUpdate: { maxSurge: 2 } };
      s.revisionHistoryLimit = 0;
      s.progressDeadlineSeconds = 120;
    }),
    spec: {
      selector: { matchLabels: { app: 'web' } },
      template: DEFAULTED_TEMPLATE,
      replicas: 0,
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: 2 } },
      revisionHistoryLimit: 0,
      progressDeadlineSeconds: 120,
    },
  },
  {
    name: 'Deployment: Recreate gets no rollingUpdate',
    resource: 'deployments',
    object: withSpec('deployments', (s) => (s.strategy = { type: 'Recreate' })),
    spec: {
      selector: { matchLabels: { app: 'web' } },
      template: DEFAULTED_TEMPLATE,
      replicas: 1,
      strategy: { type: 'Recreate' },
      revisionHistoryLimit: 10,
      progressDeadlineSeconds: 600,
    },
  },
  {
    name: 'ReplicaSet: one replica',
    resource: 'replicasets',
    object: base('replicasets'),
    spec: { selector: { matchLabels: { app: 'web' } },
      template: DEFAULTED_TEMPLATE, replicas: 1 },
  },
  {
    name: 'StatefulSet: OrderedReady, RollingUpdate partition 0 maxUnavailable 1, claims retained, one replica, ten revisions',
    resource: 'statefulsets',
    object: base('statefulsets'),
    spec: {
      selector: { matchLabels: { app: 'web' } },
      template: DEFAULTED_TEMPLATE,
      serviceName: 'web',
      podManagementPolicy: 'OrderedReady',
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 0, maxUnavailable: 1 } },
      persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Retain', whenScaled: 'Retain' },
      replicas: 1,
      revisionHistoryLimit: 10,
    },
  },
  {
    name: 'StatefulSet: OnDelete gets no rollingUpdate; volume claim templates get volumeMode, phase and quantities as kube writes them',
    resource: 'statefulsets',
    object: withSpec('statefulsets', (s) => {
      s.updateStrategy = { type: 'OnDelete' };
      s.persistentVolumeClaimRetentionPolicy = { whenDeleted: 'Delete' };
      s.volumeClaimTemplates = [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1.5Gi' } } } }];
    }),
    spec: {
      selector: { matchLabels: { app: 'web' } },
      template: DEFAULTED_TEMPLATE,
      serviceName: 'web',
      podManagementPolicy: 'OrderedReady',
      updateStrategy: { type: 'OnDelete' },
      persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Delete', whenScaled: 'Retain' },
      replicas: 1,
      revisionHistoryLimit: 10,
      volumeClaimTemplates: [
        {
          metadata: { name: 'data' },
          spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1536Mi' } }, volumeMode: 'Filesystem' },
          status: { phase: 'Pending' },
        },
      ],
    },
  },
  {
    name: 'DaemonSet: RollingUpdate with maxUnavailable 1 and maxSurge 0, ten revisions',
    resource: 'daemonsets',
    object: base('daemonsets'),
    spec: {
      selector: { matchLabels: { app: 'web' } },
      template: DEFAULTED_TEMPLATE,
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } },
      revisionHistoryLimit: 10,
    },
  },
];

describe('apps kinds: defaults', () => {
  for (const c of DEFAULTS) {
    test(c.name, async () => {
      const p = await pipeline();
      const created = await p.create(admin, target(c.resource), clone(c.object));
      assert.deepEqual(created.spec, c.spec);
      assert.equal(created.metadata?.generation, 1);
    });
  }

  test('DaemonSet: the template generation annotation starts at 1', async () => {
    const p = await pipeline();
    const created = await p.create(admin, target('daemonsets'), base('daemonsets'));
    assert.deepEqual(created.metadata?.annotations, { 'deprecated.daemonset.template.generation': '1' });
  });

  test('defaults leave a spec of the wrong type alone (decoding refuses it first, over the wire)', () => {
    for (const resource of Object.keys(KINDS) as Resource[]) {
      const info = target(resource).info;
      const odd = { apiVersion: 'apps/v1', kind: KINDS[resource], metadata: { name: 'x' }, spec: 'nonsense' } as unknown as KubeObject;
      assert.equal(info.strategy.defaults?.(odd).spec, 'nonsense');
    }
  });
});

interface InvalidCase {
  name: string;
  resource: Resource;
  object: KubeObject;
  causes: StatusCause[];
}

const selectorMismatch = (labels: string): StatusCause => ({
  reason: 'FieldValueInvalid',
  field: 'spec.template.metadata.labels',
  message: `Invalid value: ${labels}: \`selector\` does not match template \`labels\``,
});

const INVALID: InvalidCase[] = [
  {
    name: 'Deployment without a selector: Required, and the template is not selected',
    resource: 'deployments',
    object: withSpec('deployments', (s) => delete s.selector),
    causes: [{ reason: 'FieldValueRequired', field: 'spec.selector', message: 'Required value' }, selectorMismatch('{"app":"web"}')],
  },
  {
    name: 'Deployment whose selector does not select its template',
    resource: 'deployments',
    object: withSpec('deployments', (s) => (s.selector = { matchLabels: { app: 'other', tier: 'x' } })),
    causes: [selectorMismatch('{"app":"web"}')],
  },
  {
    name: 'Deployment with an empty selector',
    resource: 'deployments',
    object: withSpec('deployments', (s) => (s.selector = {})),
    causes: [{ reason: 'FieldValueInvalid', field: 'spec.selector', message: 'Invalid value: {}: empty selector is invalid for deployment' }],
  },
  {
    name: 'Deployment with a selector that does not convert',
    resource: 'deployments',
    object: withSpec('deployments', (s) => (s.selector = { matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'Near', values: ['a'] }] })),
    causes: [
      { reason: 'FieldValueInvalid', field: 'spec.selector.matchExpressions[0].operator', message: 'Invalid value: "Near": not a valid selector operator' },
      {
        reason: 'FieldValueInvalid',
        field: 'spec.selector',
        message: 'Invalid value: {"matchLabels":{"app":"web"},"matchExpressions":[{"key":"tier","operator":"Near","values":["a"]}]}: invalid label selector',
      },
    ],
  },
  {
    name: 'Deployment with negative replicas, a restart policy other than Always and a deadline',
    resource: 'deployments',
    object: withSpec('deployments', (s) => {
      s.replicas = -1;
      const pod = (s.template as { spec: Record<string, unknown> }).spec;
      pod.restartPolicy = 'OnFailure';
      pod.activeDeadlineSeconds = 30;
    }),
    causes: [
      { reason: 'FieldValueInvalid', field: 'spec.replicas', message: 'Invalid value: -1: must be greater than or equal to 0' },
      { reason: 'FieldValueNotSupported', field: 'spec.template.spec.restartPolicy', message: 'Unsupported value: "OnFailure": supported values: "Always"' },
      { reason: 'FieldValueForbidden', field: 'spec.template.spec.activeDeadlineSeconds', message: 'Forbidden: activeDeadlineSeconds in ReplicaSet is not Supported' },
    ],
  },
  {
    name: 'Deployment with maxUnavailable and maxSurge both 0',
    resource: 'deployments',
    object: withSpec('deployments', (s) => (s.strategy = { rollingUpdate: { maxUnavailable: 0, maxSurge: '0%' } })),
    causes: [ZERO_WITH_ZERO],
  },
  {
    name: 'Deployment with maxUnavailable over 100% and a maxSurge that is no percent',
    resource: 'deployments',
    object: withSpec('deployments', (s) => (s.strategy = { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '110%', maxSurge: 'lots' } })),
    causes: [
      {
        reason: 'FieldValueInvalid',
        field: 'spec.strategy.rollingUpdate.maxSurge',
        message: "Invalid value: \"lots\": a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')",
      },
      { reason: 'FieldValueInvalid', field: 'spec.strategy.rollingUpdate.maxUnavailable', message: 'Invalid value: "110%": must not be greater than 100%' },
    ],
  },
  {
    name: 'Deployment: Recreate with rollingUpdate',
    resource: 'deployments',
    object: withSpec('deployments', (s) => (s.strategy = { type: 'Recreate', rollingUpdate: { maxSurge: 1 } })),
    causes: [{ reason: 'FieldValueForbidden', field: 'spec.strategy.rollingUpdate', message: "Forbidden: may not be specified when strategy `type` is 'Recreate'" }],
  },
  {
    name: 'Deployment: an unknown strategy type',
    resource: 'deployments',
    object: withSpec('deployments', (s) => (s.strategy = { type: 'BlueGreen' })),
    causes: [
      {
        reason: 'FieldValueNotSupported',
        field: 'spec.strategy',
        message: 'Unsupported value: {"Type":"BlueGreen","RollingUpdate":null}: supported values: "Recreate", "RollingUpdate"',
      },
    ],
  },
  {
    name: 'Deployment: a progress deadline not above minReadySeconds',
    resource: 'deployments',
    object: withSpec('deployments', (s) => {
      s.minReadySeconds = 30;
      s.progressDeadlineSeconds = 30;
    }),
    causes: [{ reason: 'FieldValueInvalid', field: 'spec.progressDeadlineSeconds', message: 'Invalid value: 30: must be greater than minReadySeconds' }],
  },
  {
    name: 'Deployment: its pod template is validated as a pod template (ValidatePodTemplateSpec)',
    resource: 'deployments',
    object: withSpec('deployments', (s) => ((s.template as { spec: { containers: Record<string, unknown>[] } }).spec.containers = [{ name: 'main' }])),
    causes: [{ reason: 'FieldValueRequired', field: 'spec.template.spec.containers[0].image', message: 'Required value' }],
  },
  {
    name: 'DaemonSet: its pod template is validated as a pod template',
    resource: 'daemonsets',
    object: withSpec('daemonsets', (s) => ((s.template as { spec: { containers: Record<string, unknown>[] } }).spec.containers = [])),
    causes: [{ reason: 'FieldValueRequired', field: 'spec.template.spec.containers', message: 'Required value' }],
  },
  {
    name: 'ReplicaSet without a selector',
    resource: 'replicasets',
    object: withSpec('replicasets', (s) => delete s.selector),
    causes: [{ reason: 'FieldValueRequired', field: 'spec.selector', message: 'Required value' }, selectorMismatch('{"app":"web"}')],
  },
  {
    name: 'ReplicaSet with an empty selector (kube says "deployment" here too) and negative minReadySeconds',
    resource: 'replicasets',
    object: withSpec('replicasets', (s) => {
      s.selector = {};
      s.minReadySeconds = -5;
    }),
    causes: [
      { reason: 'FieldValueInvalid', field: 'spec.minReadySeconds', message: 'Invalid value: -5: must be greater than or equal to 0' },
      { reason: 'FieldValueInvalid', field: 'spec.selector', message: 'Invalid value: {}: empty selector is invalid for deployment' },
    ],
  },
  {
    name: 'StatefulSet: an unknown pod management policy and a name that is no DNS label',
    resource: 'statefulsets',
    object: (() => {
      const o = withSpec('statefulsets', (s) => (s.podManagementPolicy = 'Sometimes'));
      o.metadata = { name: 'web.v1' };
      return o;
    })(),
    causes: [
      { reason: 'FieldValueInvalid', field: 'metadata.name', message: 'Invalid value: "web.v1": must not contain dots' },
      { reason: 'FieldValueInvalid', field: 'spec.podManagementPolicy', message: "Invalid value: \"Sometimes\": must be 'OrderedReady' or 'Parallel'" },
    ],
  },
  {
    name: 'StatefulSet: OnDelete with a rollingUpdate',
    resource: 'statefulsets',
    object: withSpec('statefulsets', (s) => (s.updateStrategy = { type: 'OnDelete', rollingUpdate: { partition: 2 } })),
    causes: [
      {
        reason: 'FieldValueInvalid',
        field: 'spec.updateStrategy.rollingUpdate',
        message: 'Invalid value: {"Partition":2,"MaxUnavailable":null}: only allowed for updateStrategy \'RollingUpdate\'',
      },
    ],
  },
  {
    name: 'StatefulSet: maxUnavailable 0 and a negative partition',
    resource: 'statefulsets',
    object: withSpec('statefulsets', (s) => (s.updateStrategy = { rollingUpdate: { partition: -1, maxUnavailable: 0 } })),
    causes: [
      { reason: 'FieldValueInvalid', field: 'spec.updateStrategy.rollingUpdate.partition', message: 'Invalid value: -1: must be greater than or equal to 0' },
      { reason: 'FieldValueInvalid', field: 'spec.updateStrategy.rollingUpdate.maxUnavailable', message: 'Invalid value: 0: cannot be 0' },
    ],
  },
  {
    name: 'StatefulSet: an unknown claim retention policy, an empty selector, restartPolicy Never',
    resource: 'statefulsets',
    object: withSpec('statefulsets', (s) => {
      s.persistentVolumeClaimRetentionPolicy = { whenDeleted: 'Keep' };
      s.selector = {};
      (s.template as { spec: Record<string, unknown> }).spec.restartPolicy = 'Never';
    }),
    causes: [
      { reason: 'FieldValueNotSupported', field: 'spec.persistentVolumeClaimRetentionPolicy.whenDeleted', message: 'Unsupported value: "Keep": supported values: "Retain", "Delete"' },
      { reason: 'FieldValueInvalid', field: 'spec.selector', message: 'Invalid value: {}: empty selector is invalid for statefulset' },
      { reason: 'FieldValueNotSupported', field: 'spec.template.spec.restartPolicy', message: 'Unsupported value: "Never": supported values: "Always"' },
    ],
  },
  {
    name: 'StatefulSet: template labels are checked at spec.template.labels, as kube names them',
    resource: 'statefulsets',
    object: withSpec('statefulsets', (s) => ((s.template as { metadata: { labels: Record<string, string> } }).metadata.labels.tier = 'front end')),
    causes: [
      {
        reason: 'FieldValueInvalid',
        field: 'spec.template.labels',
        message:
          "Invalid value: \"front end\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')",
      },
    ],
  },
  {
    name: 'DaemonSet without a selector: no Required, but nothing is selected',
    resource: 'daemonsets',
    object: withSpec('daemonsets', (s) => delete s.selector),
    causes: [selectorMismatch('{"app":"web"}')],
  },
  {
    name: 'DaemonSet with an empty selector',
    resource: 'daemonsets',
    object: withSpec('daemonsets', (s) => (s.selector = {})),
    causes: [{ reason: 'FieldValueInvalid', field: 'spec.selector', message: 'Invalid value: {}: empty selector is invalid for daemonset' }],
  },
  {
    name: 'DaemonSet: maxUnavailable and maxSurge both 0',
    resource: 'daemonsets',
    object: withSpec('daemonsets', (s) => (s.updateStrategy = { rollingUpdate: { maxUnavailable: 0 } })),
    causes: [{ reason: 'FieldValueRequired', field: 'spec.updateStrategy.rollingUpdate.maxUnavailable', message: 'Required value: cannot be 0 when maxSurge is 0' }],
  },
  {
    name: 'DaemonSet: maxUnavailable and maxSurge both set',
    resource: 'daemonsets',
    object: withSpec('daemonsets', (s) => (s.updateStrategy = { rollingUpdate: { maxUnavailable: '10%', maxSurge: 1 } })),
    causes: [{ reason: 'FieldValueInvalid', field: 'spec.updateStrategy.rollingUpdate.maxSurge', message: 'Invalid value: 1: may not be set when maxUnavailable is non-zero' }],
  },
  {
    name: 'DaemonSet: an unknown update strategy',
    resource: 'daemonsets',
    object: withSpec('daemonsets', (s) => (s.updateStrategy = { type: 'Sideways' })),
    causes: [
      {
        reason: 'FieldValueNotSupported',
        field: 'spec.updateStrategy',
        message: 'Unsupported value: {"Type":"Sideways","RollingUpdate":null}: supported values: "RollingUpdate", "OnDelete"',
      },
    ],
  },
];

describe('apps kinds: validation on create (422 Invalid, kube\'s causes)', () => {
  test('StatefulSet: kube leaves its pod spec to the pods (a container without an image is stored)', async () => {
    const p = await pipeline();
    const object = withSpec('statefulsets', (s) => ((s.template as { spec: { containers: Record<string, unknown>[] } }).spec.containers = [{ name: 'main' }]));
    const created = await p.create(admin, target('statefulsets'), object);
    assert.equal(created.metadata?.name, 'web');
  });

  for (const c of INVALID) {
    test(c.name, async () => {
      const p = await pipeline();
      const err = await refusal(p.create(admin, target(c.resource), clone(c.object)), 'Invalid');
      assert.equal(err.code, 422);
      assert.deepEqual(err.details?.causes, c.causes);
      const name = String(c.object.metadata?.name);
      const list = [...new Set(c.causes.map((x) => `${x.field}: ${x.message}`))];
      assert.equal(err.message, `${KINDS[c.resource]}.apps "${name}" is invalid: ${list.length === 1 ? list[0] : `[${list.join(', ')}]`}`);
    });
  }
});

/** Creates the base object of `resource`, then updates it changed by `edit`. */
async function createThenUpdate(resource: Resource, edit: (object: KubeObject) => void) {
  const p = await pipeline();
  const created = await p.create(admin, target(resource), base(resource));
  const next = clone(created);
  edit(next);
  return { p, created, update: p.update(admin, target(resource, 'web'), next) };
}

const spec = (object: KubeObject) => object.spec as Record<string, unknown>;
const podSpec = (object: KubeObject) => (spec(object).template as { spec: Record<string, unknown> }).spec;

describe('apps kinds: updates', () => {
  for (const resource of ['deployments', 'replicasets', 'daemonsets'] as const) {
    test(`${KINDS[resource]}: spec.selector is immutable`, async () => {
      const { update } = await createThenUpdate(resource, (o) => {
        spec(o).selector = { matchLabels: { app: 'web', tier: 'front' } };
        (spec(o).template as { metadata: { labels: Record<string, string> } }).metadata.labels.tier = 'front';
      });
      const err = await refusal(update, 'Invalid');
      assert.deepEqual(err.details?.causes, [
        { reason: 'FieldValueInvalid', field: 'spec.selector', message: 'Invalid value: {"matchLabels":{"app":"web","tier":"front"}}: field is immutable' },
      ]);
      assert.equal(err.message, `${KINDS[resource]}.apps "web" is invalid: spec.selector: Invalid value: {"matchLabels":{"app":"web","tier":"front"}}: field is immutable`);
    });
  }

  test('ReplicaSet and DaemonSet list each spec error twice on update, as kube validates the spec twice there', async () => {
    for (const resource of ['replicasets', 'daemonsets'] as const) {
      const { update } = await createThenUpdate(resource, (o) => (spec(o).minReadySeconds = -1));
      const err = await refusal(update, 'Invalid');
      const cause = { reason: 'FieldValueInvalid', field: 'spec.minReadySeconds', message: 'Invalid value: -1: must be greater than or equal to 0' };
      assert.deepEqual(err.details?.causes, [cause, cause], resource);
      assert.equal(err.message, `${KINDS[resource]}.apps "web" is invalid: spec.minReadySeconds: Invalid value: -1: must be greater than or equal to 0`);
    }
  });

  test('Deployment: a change of the spec raises the generation, a change of labels does not', async () => {
    const { p, update } = await createThenUpdate('deployments', (o) => (spec(o).replicas = 5));
    const scaled = await update;
    assert.equal(scaled.metadata?.generation, 2);
    const labelled = await p.update(admin, target('deployments', 'web'), { ...scaled, metadata: { ...scaled.metadata, labels: { team: 'a' } } });
    assert.equal(labelled.metadata?.generation, 2);
  });

  test('StatefulSet: replicas, template, updateStrategy, ordinals, retention and minReadySeconds may change', async () => {
    const { update } = await createThenUpdate('statefulsets', (o) => {
      const s = spec(o);
      s.replicas = 4;
      s.minReadySeconds = 5;
      s.ordinals = { start: 1 };
      s.updateStrategy = { type: 'OnDelete' };
      s.persistentVolumeClaimRetentionPolicy = { whenDeleted: 'Delete', whenScaled: 'Delete' };
      podSpec(o).containers = [{ name: 'main', image: 'nginx:1.28' }];
    });
    const updated = await update;
    assert.equal(updated.metadata?.generation, 2);
    assert.equal(spec(updated).replicas, 4);
  });

  test('StatefulSet: any other spec change is forbidden', async () => {
    for (const edit of [
      (s: Record<string, unknown>) => (s.serviceName = 'other'),
      (s: Record<string, unknown>) => (s.podManagementPolicy = 'Parallel'),
      (s: Record<string, unknown>) => (s.revisionHistoryLimit = 3),
      (s: Record<string, unknown>) => (s.volumeClaimTemplates = [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'] } }]),
    ]) {
      const { update } = await createThenUpdate('statefulsets', (o) => edit(spec(o)));
      const err = await refusal(update, 'Invalid');
      assert.deepEqual(err.details?.causes, [
        {
          reason: 'FieldValueForbidden',
          field: 'spec',
          message:
            "Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
        },
      ]);
    }
  });

  test('DaemonSet: the template generation rises with the template only, and a client cannot set it', async () => {
    const { p, update } = await createThenUpdate('daemonsets', (o) => {
      podSpec(o).containers = [{ name: 'main', image: 'nginx:1.28' }];
      o.metadata = { ...o.metadata, annotations: { 'deprecated.daemonset.template.generation': '9' } };
    });
    const changed = await update;
    assert.equal(changed.metadata?.annotations?.['deprecated.daemonset.template.generation'], '2');
    assert.equal(changed.metadata?.generation, 2);
    const next = clone(changed);
    spec(next).minReadySeconds = 10;
    delete next.metadata?.annotations;
    const other = await p.update(admin, target('daemonsets', 'web'), next);
    assert.equal(other.metadata?.annotations?.['deprecated.daemonset.template.generation'], '2');
    assert.equal(other.metadata?.generation, 3);
  });
});

describe('apps kinds: status writes (the kinds\' status strategies)', () => {
  const status = (resource: Resource) => {
    const strategy = target(resource).info.statusStrategy;
    assert.ok(strategy?.validate !== undefined);
    return strategy;
  };
  const withStatus = (resource: Resource, value: Record<string, unknown>): KubeObject => ({ ...base(resource), status: value });

  test('Deployment: counters not negative, not above replicas, available not above ready; collisionCount never down', () => {
    const errors = status('deployments').validate?.(
      withStatus('deployments', { replicas: 2, readyReplicas: 3, availableReplicas: 3, unavailableReplicas: -1, collisionCount: 1 }),
      withStatus('deployments', { collisionCount: 2 }),
    );
    assert.deepEqual(errors, [
      { type: 'FieldValueInvalid', field: 'status.unavailableReplicas', value: -1, detail: 'must be greater than or equal to 0' },
      { type: 'FieldValueInvalid', field: 'status.readyReplicas', value: 3, detail: 'cannot be greater than status.replicas' },
      { type: 'FieldValueInvalid', field: 'status.availableReplicas', value: 3, detail: 'cannot be greater than status.replicas' },
      { type: 'FieldValueInvalid', field: 'status.collisionCount', value: 1, detail: 'cannot be decremented' },
    ]);
  });

  test('Deployment: a status write keeps the stored labels; DaemonSet: its template generation', () => {
    const kept = status('deployments').prepareForUpdate?.({ ...base('deployments'), metadata: { name: 'web', labels: { new: 'x' } } }, { ...base('deployments'), metadata: { name: 'web', labels: { old: 'y' } } });
    assert.deepEqual(kept?.metadata?.labels, { old: 'y' });
    const ds = status('daemonsets').prepareForUpdate?.(
      { ...base('daemonsets'), metadata: { name: 'web', annotations: { 'deprecated.daemonset.template.generation': '8' } } },
      { ...base('daemonsets'), metadata: { name: 'web', annotations: { 'deprecated.daemonset.template.generation': '3' } } },
    );
    assert.equal(ds?.metadata?.annotations?.['deprecated.daemonset.template.generation'], '3');
  });

  test('StatefulSet and ReplicaSet: the counters kube checks', () => {
    assert.deepEqual(status('statefulsets').validate?.(withStatus('statefulsets', { replicas: 1, readyReplicas: 1, availableReplicas: 2 }), withStatus('statefulsets', {})), [
      { type: 'FieldValueInvalid', field: 'status.availableReplicas', value: 2, detail: 'cannot be greater than status.replicas' },
      { type: 'FieldValueInvalid', field: 'status.availableReplicas', value: 2, detail: 'cannot be greater than status.readyReplicas' },
    ]);
    assert.deepEqual(status('replicasets').validate?.(withStatus('replicasets', { replicas: 1, fullyLabeledReplicas: 2 }), withStatus('replicasets', {})), [
      { type: 'FieldValueInvalid', field: 'status.fullyLabeledReplicas', value: 2, detail: 'cannot be greater than status.replicas' },
    ]);
  });

  test('the scale subresource reads spec.replicas and status.replicas, its selector from spec.selector; DaemonSets have none', () => {
    for (const resource of ['deployments', 'replicasets', 'statefulsets'] as const) {
      assert.deepEqual(target(resource).info.scale, { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas', selectorPath: '.spec.selector' });
      assert.deepEqual(target(resource).info.subresources, ['status', 'scale']);
    }
    assert.equal(target('daemonsets').info.scale, undefined);
    assert.deepEqual(target('daemonsets').info.subresources, ['status']);
  });
});
