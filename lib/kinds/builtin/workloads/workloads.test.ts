/**
 * Pod, Job and CronJob through the pipeline as the server runs it (decoding, defaults,
 * admission with the kinds' strategies, memory storage): the objects kube-apiserver would
 * store for typical manifests, and the 422 causes it answers for broken ones.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { StatusCause } from '../../../errors.ts';
import type { KubeObject } from '../../../kube.ts';
import { builtinRegistry } from '../../index.ts';
import { SYSTEM_MASTERS, type UserInfo } from '../../../../services/auth/api.ts';
import type { Target } from '../../../../services/gateway/core/pipeline.ts';
import { MemoryStorage } from '../../../../services/storage/backends/memory.ts';
import { inProcessPipeline, refusal } from '../../../../test/support/pipeline.ts';

const admin: UserInfo = { username: 'admin', uid: '1', groups: [SYSTEM_MASTERS] };

async function setup() {
  const registry = builtinRegistry();
  const { pipeline } = await inProcessPipeline(new MemoryStorage(), registry);
  const target = (group: string, resource: string, name = ''): Target => {
    const info = registry.get(group, group === '' ? 'v1' : 'v1', resource);
    assert.ok(info !== undefined, resource);
    return { info, namespace: 'default', name };
  };
  return { pipeline, target };
}

/** The causes of a 422 as "field: reason: message" lines. */
function causeLines(causes: StatusCause[] | undefined): string[] {
  return (causes ?? []).map((c) => `${c.field}: ${c.reason}: ${c.message}`);
}

const POD = (spec: Record<string, unknown>, name = 'web'): KubeObject => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec });

describe('Pod', () => {
  test('created: defaults, status Pending with its QoS class, generation 1', async () => {
    const { pipeline, target } = await setup();
    const created = await pipeline.create(
      admin,
      target('', 'pods'),
      POD({ containers: [{ name: 'web', image: 'nginx:1.27', ports: [{ containerPort: 80 }], resources: { limits: { cpu: '0.5', memory: '128Mi' } } }] }),
    );
    assert.equal(created.metadata?.generation, 1);
    assert.deepEqual(created.spec, {
      containers: [
        {
          name: 'web',
          image: 'nginx:1.27',
          ports: [{ containerPort: 80, protocol: 'TCP' }],
          resources: { limits: { cpu: '500m', memory: '128Mi' }, requests: { cpu: '500m', memory: '128Mi' } },
          imagePullPolicy: 'IfNotPresent',
          terminationMessagePath: '/dev/termination-log',
          terminationMessagePolicy: 'File',
        },
      ],
      enableServiceLinks: true,
      dnsPolicy: 'ClusterFirst',
      restartPolicy: 'Always',
      securityContext: {},
      terminationGracePeriodSeconds: 30,
      schedulerName: 'default-scheduler',
    });
    assert.deepEqual(created.status, { phase: 'Pending', qosClass: 'Guaranteed' });
  });

  test('scheduling gates: PodScheduled=False SchedulingGated', async () => {
    const { pipeline, target } = await setup();
    const created = await pipeline.create(admin, target('', 'pods'), POD({ containers: [{ name: 'a', image: 'x' }], schedulingGates: [{ name: 'example.com/wait' }] }));
    assert.deepEqual(created.status, {
      phase: 'Pending',
      qosClass: 'BestEffort',
      conditions: [{ type: 'PodScheduled', status: 'False', lastProbeTime: null, lastTransitionTime: null, reason: 'SchedulingGated', message: 'Scheduling is blocked due to non-empty scheduling gates' }],
    });
  });

  const invalid: { name: string; spec: Record<string, unknown>; causes: string[] }[] = [
    { name: 'no containers', spec: { containers: [] }, causes: ['spec.containers: FieldValueRequired: Required value'] },
    {
      name: 'a container without image, a duplicate name',
      spec: { containers: [{ name: 'a' }, { name: 'a', image: ' x' }] },
      causes: [
        'spec.containers[0].image: FieldValueRequired: Required value',
        'spec.containers[1].name: FieldValueDuplicate: Duplicate value: "a"',
        'spec.containers[1].image: FieldValueInvalid: Invalid value: " x": must not have leading or trailing whitespace',
      ],
    },
    {
      name: 'restartPolicy and a mount of no volume',
      spec: { restartPolicy: 'Sometimes', containers: [{ name: 'a', image: 'x', volumeMounts: [{ name: 'data', mountPath: '/data' }] }] },
      causes: [
        'spec.containers[0].volumeMounts[0].name: FieldValueNotFound: Not found: "data"',
        'spec.restartPolicy: FieldValueNotSupported: Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"',
      ],
    },
    {
      name: 'requests above limits',
      spec: { containers: [{ name: 'a', image: 'x', resources: { limits: { memory: '1Gi' }, requests: { memory: '2Gi' } } }] },
      causes: ['spec.containers[0].resources.requests: FieldValueInvalid: Invalid value: "2Gi": must be less than or equal to memory limit of 1Gi'],
    },
    {
      name: 'ephemeral containers on create',
      spec: { containers: [{ name: 'a', image: 'x' }], ephemeralContainers: [{ name: 'debug', image: 'busybox' }] },
      causes: ['spec.ephemeralContainers: FieldValueForbidden: Forbidden: cannot be set on create'],
    },
  ];
  for (const c of invalid) {
    test(`refused: ${c.name}`, async () => {
      const { pipeline, target } = await setup();
      const err = await refusal(pipeline.create(admin, target('', 'pods'), POD(c.spec)), 'Invalid');
      assert.equal(err.code, 422);
      assert.deepEqual(causeLines(err.details?.causes), c.causes);
      assert.match(err.message, /^Pod "web" is invalid: /);
    });
  }

  test('update: the image may change (generation rises), other spec fields may not', async () => {
    const { pipeline, target } = await setup();
    const created = await pipeline.create(admin, target('', 'pods'), POD({ containers: [{ name: 'a', image: 'nginx:1.26' }] }));
    const spec = structuredClone(created.spec) as { containers: { image: string }[]; restartPolicy?: string };
    (spec.containers[0] as { image: string }).image = 'nginx:1.27';
    const updated = await pipeline.update(admin, target('', 'pods', 'web'), { ...created, spec });
    assert.equal(updated.metadata?.generation, 2);
    assert.equal((updated.spec as typeof spec).containers[0]?.image, 'nginx:1.27');

    const changed = structuredClone(updated.spec) as typeof spec;
    changed.restartPolicy = 'Never';
    const err = await refusal(pipeline.update(admin, target('', 'pods', 'web'), { ...updated, spec: changed }), 'Invalid');
    const [cause] = err.details?.causes ?? [];
    assert.equal(cause?.field, 'spec');
    assert.equal(cause?.reason, 'FieldValueForbidden');
    assert.ok(
      cause?.message?.startsWith(
        'Forbidden: pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)\n',
      ),
      cause?.message,
    );
    assert.match(cause?.message ?? '', /- spec\.restartPolicy: "Always"\n\+ spec\.restartPolicy: "Never"/);

    const more = structuredClone(updated.spec) as { containers: unknown[] };
    more.containers.push({ name: 'b', image: 'x' });
    const added = await refusal(pipeline.update(admin, target('', 'pods', 'web'), { ...updated, spec: more }), 'Invalid');
    assert.deepEqual(causeLines(added.details?.causes), ['spec.containers: FieldValueForbidden: Forbidden: pod updates may not add or remove containers']);
  });

  test('status writes keep the QoS class, observed generations and owner references', () => {
    const registry = builtinRegistry();
    const pods = registry.get('', 'v1', 'pods');
    assert.ok(pods?.statusStrategy?.prepareForUpdate !== undefined);
    const owner = [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'rs', uid: 'u', controller: true }];
    const old: KubeObject = { metadata: { name: 'p', ownerReferences: owner }, status: { phase: 'Pending', qosClass: 'Burstable', observedGeneration: 2, conditions: [{ type: 'Ready', status: 'False', observedGeneration: 2 }] } };
    const next: KubeObject = { metadata: { name: 'p' }, status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] } };
    const prepared = pods.statusStrategy.prepareForUpdate(next, old);
    assert.deepEqual(prepared.status, { phase: 'Running', qosClass: 'Burstable', observedGeneration: 2, conditions: [{ type: 'Ready', status: 'True', observedGeneration: 2 }] });
    assert.deepEqual(prepared.metadata?.ownerReferences, owner);
    const changedQoS = pods.statusStrategy.validate?.({ ...prepared, status: { ...prepared.status, qosClass: 'Guaranteed' } }, old) ?? [];
    assert.deepEqual(changedQoS, [{ type: 'FieldValueInvalid', field: 'status.qosClass', value: 'Guaranteed', detail: 'field is immutable' }]);
  });

  test('selectable by kube\'s pod field labels', () => {
    const registry = builtinRegistry();
    const pods = registry.get('', 'v1', 'pods');
    assert.ok(pods !== undefined);
    const fields = pods.selectableFields.values({
      metadata: { name: 'p', namespace: 'ns' },
      spec: { nodeName: 'n1', restartPolicy: 'Always', schedulerName: 'default-scheduler', hostNetwork: true },
      status: { phase: 'Running', podIPs: [{ ip: '10.0.0.1' }, { ip: 'fd00::1' }] },
    });
    assert.deepEqual(fields, {
      'metadata.name': 'p',
      'metadata.namespace': 'ns',
      'spec.nodeName': 'n1',
      'spec.restartPolicy': 'Always',
      'spec.schedulerName': 'default-scheduler',
      'spec.serviceAccountName': '',
      'spec.hostNetwork': 'true',
      'status.phase': 'Running',
      'status.podIP': '10.0.0.1',
      'status.nominatedNodeName': '',
      'spec.host': 'n1',
    });
  });
});

const JOB = (spec: Record<string, unknown>, name = 'pi'): KubeObject => ({ apiVersion: 'batch/v1', kind: 'Job', metadata: { name }, spec });
const TEMPLATE = { spec: { restartPolicy: 'Never', containers: [{ name: 'pi', image: 'perl:5.34.0', command: ['perl', '-e', 'print 1'] }] } };

describe('Job', () => {
  test('created: defaults, the generated selector and template labels, an empty status', async () => {
    const { pipeline, target } = await setup();
    const created = await pipeline.create(admin, target('batch', 'jobs'), JOB({ template: TEMPLATE }));
    const uid = String(created.metadata?.uid);
    assert.match(uid, /^[0-9a-f-]{36}$/);
    const spec = created.spec as Record<string, unknown>;
    assert.deepEqual(
      { ...spec, template: undefined },
      {
        completions: 1,
        parallelism: 1,
        backoffLimit: 6,
        completionMode: 'NonIndexed',
        suspend: false,
        podReplacementPolicy: 'TerminatingOrFailed',
        manualSelector: false,
        selector: { matchLabels: { 'batch.kubernetes.io/controller-uid': uid } },
        template: undefined,
      },
    );
    assert.deepEqual((spec['template'] as { metadata: unknown }).metadata, {
      labels: { 'job-name': 'pi', 'batch.kubernetes.io/job-name': 'pi', 'controller-uid': uid, 'batch.kubernetes.io/controller-uid': uid },
    });
    assert.equal((spec['template'] as { spec: { terminationGracePeriodSeconds: number } }).spec.terminationGracePeriodSeconds, 30);
    assert.deepEqual(created.status, {});
    assert.equal(created.metadata?.generation, 1);
  });

  test('the template labels become the Job labels when it has none', async () => {
    const { pipeline, target } = await setup();
    const created = await pipeline.create(admin, target('batch', 'jobs'), JOB({ template: { ...TEMPLATE, metadata: { labels: { app: 'pi' } } } }));
    assert.deepEqual(created.metadata?.labels, { app: 'pi' });
  });

  const invalid: { name: string; spec: Record<string, unknown>; causes: string[] }[] = [
    {
      name: 'restartPolicy Always (the pod default)',
      spec: { template: { spec: { containers: [{ name: 'a', image: 'x' }] } } },
      causes: ['spec.template.spec.restartPolicy: FieldValueRequired: Required value: valid values: "OnFailure", "Never"'],
    },
    {
      name: 'negative counts',
      spec: { template: TEMPLATE, parallelism: -1, backoffLimit: -2 },
      causes: [
        'spec.parallelism: FieldValueInvalid: Invalid value: -1: must be greater than or equal to 0',
        'spec.backoffLimit: FieldValueInvalid: Invalid value: -2: must be greater than or equal to 0',
      ],
    },
    {
      name: 'a manual selector that does not match the template',
      spec: { manualSelector: true, selector: { matchLabels: { app: 'a' } }, template: { ...TEMPLATE, metadata: { labels: { app: 'b' } } } },
      causes: ['spec.template.metadata.labels: FieldValueInvalid: Invalid value: {"app":"b"}: `selector` does not match template `labels`'],
    },
    {
      name: 'a manual selector missing',
      spec: { manualSelector: true, template: TEMPLATE },
      // kube: an absent selector selects nothing, so it does not match the template either.
      causes: ['spec.selector: FieldValueRequired: Required value', 'spec.template.metadata.labels: FieldValueInvalid: Invalid value: null: `selector` does not match template `labels`'],
    },
    {
      name: 'an unknown completion mode',
      spec: { completionMode: 'Sometimes', template: TEMPLATE },
      causes: ['spec.completionMode: FieldValueNotSupported: Unsupported value: "Sometimes": supported values: "NonIndexed", "Indexed"'],
    },
  ];
  for (const c of invalid) {
    test(`refused: ${c.name}`, async () => {
      const { pipeline, target } = await setup();
      const err = await refusal(pipeline.create(admin, target('batch', 'jobs'), JOB(c.spec)), 'Invalid');
      assert.deepEqual(causeLines(err.details?.causes), c.causes);
      assert.match(err.message, /^Job\.batch "pi" is invalid: /);
    });
  }

  test('an update without the uid is checked against the stored uid, as kube fills it first', async () => {
    const { pipeline, target } = await setup();
    const created = await pipeline.create(admin, target('batch', 'jobs'), JOB({ template: TEMPLATE }));
    const { uid: _uid, resourceVersion: _rv, ...metadata } = created.metadata ?? {};
    const updated = await pipeline.update(admin, target('batch', 'jobs', 'pi'), { ...created, metadata: { ...metadata, labels: { team: 'a' } } });
    assert.equal(updated.metadata?.uid, created.metadata?.uid);
    assert.deepEqual(updated.metadata?.labels, { team: 'a' });
  });

  test('update: spec.template is immutable, parallelism is not; generation follows the spec', async () => {
    const { pipeline, target } = await setup();
    const created = await pipeline.create(admin, target('batch', 'jobs'), JOB({ template: TEMPLATE }));
    const scaled = await pipeline.update(admin, target('batch', 'jobs', 'pi'), { ...created, spec: { ...(created.spec as object), parallelism: 3 } });
    assert.equal(scaled.metadata?.generation, 2);
    const spec = structuredClone(scaled.spec) as { template: { spec: { containers: { image: string }[] } } };
    (spec.template.spec.containers[0] as { image: string }).image = 'perl:5.36';
    const err = await refusal(pipeline.update(admin, target('batch', 'jobs', 'pi'), { ...scaled, spec }), 'Invalid');
    const fields = (err.details?.causes ?? []).map((c) => `${c.field}: ${c.reason}`);
    assert.deepEqual(fields, ['spec.template: FieldValueInvalid']);
    assert.match(err.details?.causes?.[0]?.message ?? '', /: field is immutable$/);
  });
});

const CRON_JOB = (spec: Record<string, unknown>, name = 'hello'): KubeObject => ({ apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name }, spec });
const JOB_TEMPLATE = { spec: { template: { spec: { restartPolicy: 'OnFailure', containers: [{ name: 'hello', image: 'busybox:1.28', command: ['date'] }] } } } };

describe('CronJob', () => {
  test('created: defaults, the job template pod defaults, an empty status', async () => {
    const { pipeline, target } = await setup();
    const created = await pipeline.create(admin, target('batch', 'cronjobs'), CRON_JOB({ schedule: '*/1 * * * *', jobTemplate: JOB_TEMPLATE }));
    const spec = created.spec as Record<string, unknown>;
    assert.equal(spec['concurrencyPolicy'], 'Allow');
    assert.equal(spec['suspend'], false);
    assert.equal(spec['successfulJobsHistoryLimit'], 3);
    assert.equal(spec['failedJobsHistoryLimit'], 1);
    const jobSpec = (spec['jobTemplate'] as { spec: Record<string, unknown> }).spec;
    // A job template's JobSpec is not defaulted as a Job's is; its pod template is.
    assert.equal(jobSpec['backoffLimit'], undefined);
    assert.deepEqual(Object.keys(jobSpec), ['template']);
    const podSpec = (jobSpec['template'] as { spec: Record<string, unknown> }).spec;
    assert.equal(podSpec['dnsPolicy'], 'ClusterFirst');
    assert.equal(podSpec['schedulerName'], 'default-scheduler');
    assert.deepEqual(created.status, {});
  });

  const invalid: { name: string; cronJob: KubeObject; causes: string[] }[] = [
    {
      name: 'a schedule with four fields',
      cronJob: CRON_JOB({ schedule: '* * * *', jobTemplate: JOB_TEMPLATE }),
      causes: ['spec.schedule: FieldValueInvalid: Invalid value: "* * * *": expected exactly 5 fields, found 4: [* * * *]'],
    },
    {
      name: 'a minute out of range',
      cronJob: CRON_JOB({ schedule: '61 * * * *', jobTemplate: JOB_TEMPLATE }),
      causes: ['spec.schedule: FieldValueInvalid: Invalid value: "61 * * * *": end of range (61) above maximum (59): 61'],
    },
    {
      name: 'a word for a number',
      cronJob: CRON_JOB({ schedule: 'x * * * *', jobTemplate: JOB_TEMPLATE }),
      causes: ['spec.schedule: FieldValueInvalid: Invalid value: "x * * * *": failed to parse int from x: strconv.Atoi: parsing "x": invalid syntax'],
    },
    {
      name: 'a time zone in the schedule',
      cronJob: CRON_JOB({ schedule: 'TZ=UTC 0 * * * *', jobTemplate: JOB_TEMPLATE }),
      causes: ['spec.schedule: FieldValueInvalid: Invalid value: "TZ=UTC 0 * * * *": cannot use TZ or CRON_TZ in schedule, use timeZone field instead'],
    },
    {
      name: 'an unknown time zone',
      cronJob: CRON_JOB({ schedule: '@daily', timeZone: 'Mars/Olympus', jobTemplate: JOB_TEMPLATE }),
      causes: ['spec.timeZone: FieldValueInvalid: Invalid value: "Mars/Olympus": unknown time zone Mars/Olympus'],
    },
    {
      name: 'a selector in the job template, a Never-restarting pod policy missing',
      cronJob: CRON_JOB({ schedule: '@hourly', jobTemplate: { spec: { selector: { matchLabels: { a: 'b' } }, template: { spec: { containers: [{ name: 'a', image: 'x' }] } } } } }),
      causes: [
        'spec.jobTemplate.spec.template.spec.restartPolicy: FieldValueRequired: Required value: valid values: "OnFailure", "Never"',
        'spec.jobTemplate.spec.selector: FieldValueInvalid: Invalid value: {"matchLabels":{"a":"b"}}: `selector` will be auto-generated',
      ],
    },
    {
      name: 'a name longer than 52 characters',
      cronJob: CRON_JOB({ schedule: '@weekly', jobTemplate: JOB_TEMPLATE }, 'a'.repeat(53)),
      causes: [`metadata.name: FieldValueInvalid: Invalid value: "${'a'.repeat(53)}": must be no more than 52 characters`],
    },
  ];
  for (const c of invalid) {
    test(`refused: ${c.name}`, async () => {
      const { pipeline, target } = await setup();
      const err = await refusal(pipeline.create(admin, target('batch', 'cronjobs'), c.cronJob), 'Invalid');
      assert.deepEqual(causeLines(err.details?.causes), c.causes);
    });
  }

  test('accepted schedules and time zones', async () => {
    const { pipeline, target } = await setup();
    const schedules: [string, string | undefined][] = [
      ['0 0 * * MON-FRI', undefined],
      ['*/15 9-17 * jan,jul ?', 'Europe/Berlin'],
      ['@every 1h30m', 'UTC'],
      ['30 2 1 */3 0', 'America/New_York'],
    ];
    for (const [i, [schedule, timeZone]] of schedules.entries()) {
      const spec: Record<string, unknown> = { schedule, jobTemplate: JOB_TEMPLATE };
      if (timeZone !== undefined) spec['timeZone'] = timeZone;
      await pipeline.create(admin, target('batch', 'cronjobs'), CRON_JOB(spec, `c${i}`));
    }
  });
});
