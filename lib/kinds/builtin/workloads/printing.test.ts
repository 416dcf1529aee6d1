/**
 * The Table cells of Pods, Jobs and CronJobs as kube's printPod, printJob and printCronJob
 * compute them (with Wide set, as the server sends them), for the states kubectl users see.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { columnDefinitions, rowsFor } from '../../printing.ts';
import { CRON_JOB } from './cronjob.ts';
import { JOB } from './job.ts';
import { POD } from './pod.ts';

const NOW = new Date('2025-01-01T12:00:00Z');
const CREATED = '2025-01-01T11:55:00Z';

function cells(printer: typeof POD.printer, object: Record<string, unknown>): unknown[] {
  return rowsFor(printer, [object], { now: NOW })[0]?.cells ?? [];
}

const pod = (status: Record<string, unknown>, spec: Record<string, unknown> = {}, metadata: Record<string, unknown> = {}) => ({
  metadata: { name: 'web', creationTimestamp: CREATED, ...metadata },
  spec: { containers: [{ name: 'a', image: 'x' }], ...spec },
  status,
});

describe('printPod', () => {
  test('columns: NAME READY STATUS RESTARTS AGE, wide IP NODE NOMINATED NODE READINESS GATES', () => {
    const columns = columnDefinitions(POD.printer);
    assert.deepEqual(
      columns.map((c) => [c.name, c.type, c.priority]),
      [
        ['Name', 'string', 0],
        ['Ready', 'string', 0],
        ['Status', 'string', 0],
        ['Restarts', 'string', 0],
        ['Age', 'string', 0],
        ['IP', 'string', 1],
        ['Node', 'string', 1],
        ['Nominated Node', 'string', 1],
        ['Readiness Gates', 'string', 1],
      ],
    );
  });

  const running = {
    phase: 'Running',
    conditions: [{ type: 'Ready', status: 'True' }],
    podIPs: [{ ip: '10.1.2.3' }],
    containerStatuses: [{ name: 'a', ready: true, restartCount: 0, state: { running: { startedAt: CREATED } } }],
  };
  const cases: { name: string; pod: Record<string, unknown>; cells: unknown[] }[] = [
    { name: 'just created', pod: pod({ phase: 'Pending', qosClass: 'BestEffort' }), cells: ['web', '0/1', 'Pending', '0', '5m', '<none>', '<none>', '<none>', '<none>'] },
    { name: 'running on a node', pod: pod(running, { nodeName: 'worker-1' }), cells: ['web', '1/1', 'Running', '0', '5m', '10.1.2.3', 'worker-1', '<none>', '<none>'] },
    {
      name: 'crash looping, restarted',
      pod: pod({
        phase: 'Running',
        containerStatuses: [{ name: 'a', ready: false, restartCount: 4, state: { waiting: { reason: 'CrashLoopBackOff' } }, lastState: { terminated: { exitCode: 1, finishedAt: '2025-01-01T11:59:00Z' } } }],
      }),
      cells: ['web', '0/1', 'CrashLoopBackOff', '4 (60s ago)', '5m', '<none>', '<none>', '<none>', '<none>'],
    },
    {
      name: 'completed',
      pod: pod({ phase: 'Succeeded', containerStatuses: [{ name: 'a', ready: false, restartCount: 0, state: { terminated: { exitCode: 0, reason: 'Completed' } } }] }),
      cells: ['web', '0/1', 'Completed', '0', '5m', '<none>', '<none>', '<none>', '<none>'],
    },
    {
      name: 'killed by a signal, no reason',
      pod: pod({ phase: 'Failed', containerStatuses: [{ name: 'a', state: { terminated: { exitCode: 137, signal: 9 } } }] }),
      cells: ['web', '0/1', 'Signal:9', '0', '5m', '<none>', '<none>', '<none>', '<none>'],
    },
    {
      name: 'init containers: the second is running',
      pod: pod(
        { phase: 'Pending', initContainerStatuses: [{ name: 'i1', state: { terminated: { exitCode: 0 } } }, { name: 'i2', state: { running: {} } }] },
        { initContainers: [{ name: 'i1', image: 'x' }, { name: 'i2', image: 'x' }] },
      ),
      cells: ['web', '0/1', 'Init:1/2', '0', '5m', '<none>', '<none>', '<none>', '<none>'],
    },
    {
      name: 'init container failing',
      pod: pod({ phase: 'Pending', initContainerStatuses: [{ name: 'i1', restartCount: 2, state: { waiting: { reason: 'CrashLoopBackOff' } } }] }, { initContainers: [{ name: 'i1', image: 'x' }] }),
      cells: ['web', '0/1', 'Init:CrashLoopBackOff', '2', '5m', '<none>', '<none>', '<none>', '<none>'],
    },
    {
      name: 'a started sidecar counts as a container',
      pod: pod(
        { ...running, initContainerStatuses: [{ name: 'proxy', started: true, ready: true, restartCount: 1, state: { running: {} } }], conditions: [{ type: 'Initialized', status: 'True' }, { type: 'Ready', status: 'True' }] },
        { initContainers: [{ name: 'proxy', image: 'envoy', restartPolicy: 'Always' }] },
      ),
      cells: ['web', '2/2', 'Running', '1', '5m', '10.1.2.3', '<none>', '<none>', '<none>'],
    },
    { name: 'being deleted', pod: pod(running, {}, { deletionTimestamp: '2025-01-01T11:59:30Z' }), cells: ['web', '1/1', 'Terminating', '0', '5m', '10.1.2.3', '<none>', '<none>', '<none>'] },
    {
      name: 'scheduling gated',
      pod: pod({ phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'SchedulingGated' }] }),
      cells: ['web', '0/1', 'SchedulingGated', '0', '5m', '<none>', '<none>', '<none>', '<none>'],
    },
    {
      name: 'readiness gates and a nominated node',
      pod: pod({ ...running, nominatedNodeName: 'worker-2', conditions: [{ type: 'Ready', status: 'True' }, { type: 'example.com/lb', status: 'True' }] }, { readinessGates: [{ conditionType: 'example.com/lb' }, { conditionType: 'example.com/dns' }] }),
      cells: ['web', '1/1', 'Running', '0', '5m', '10.1.2.3', '<none>', 'worker-2', '1/2'],
    },
    { name: 'evicted', pod: pod({ phase: 'Failed', reason: 'Evicted' }), cells: ['web', '0/1', 'Evicted', '0', '5m', '<none>', '<none>', '<none>', '<none>'] },
  ];
  for (const c of cases) test(c.name, () => assert.deepEqual(cells(POD.printer, c.pod), c.cells));

  test('malformed pods print without throwing', () => {
    for (const bad of [{}, { spec: 'x', status: 5 }, { status: { containerStatuses: [null, 3, { state: 'x' }], initContainerStatuses: 'x' } }]) cells(POD.printer, bad);
  });
});

const job = (spec: Record<string, unknown>, status: Record<string, unknown>, metadata: Record<string, unknown> = {}) => ({
  metadata: { name: 'pi', creationTimestamp: CREATED, ...metadata },
  spec: { template: { spec: { containers: [{ name: 'pi', image: 'perl:5.34' }, { name: 'side', image: 'busybox' }] } }, ...spec },
  status,
});

describe('printJob', () => {
  test('columns: NAME STATUS COMPLETIONS DURATION AGE, wide CONTAINERS IMAGES SELECTOR', () => {
    assert.deepEqual(
      columnDefinitions(JOB.printer).map((c) => [c.name, c.priority]),
      [
        ['Name', 0],
        ['Status', 0],
        ['Completions', 0],
        ['Duration', 0],
        ['Age', 0],
        ['Containers', 1],
        ['Images', 1],
        ['Selector', 1],
      ],
    );
  });
  const selector = { matchLabels: { 'batch.kubernetes.io/controller-uid': 'u1' } };
  const cases: { name: string; job: Record<string, unknown>; cells: unknown[] }[] = [
    { name: 'just created', job: job({ completions: 1, parallelism: 1, selector }, {}), cells: ['pi', 'Running', '0/1', '', '5m', 'pi,side', 'perl:5.34,busybox', 'batch.kubernetes.io/controller-uid=u1'] },
    {
      name: 'running for two minutes',
      job: job({ completions: 3, selector }, { startTime: '2025-01-01T11:58:00Z', succeeded: 1, active: 1 }),
      cells: ['pi', 'Running', '1/3', '2m', '5m', 'pi,side', 'perl:5.34,busybox', 'batch.kubernetes.io/controller-uid=u1'],
    },
    {
      name: 'complete',
      job: job({ completions: 1 }, { startTime: '2025-01-01T11:55:00Z', completionTime: '2025-01-01T11:55:09Z', succeeded: 1, conditions: [{ type: 'SuccessCriteriaMet', status: 'True' }, { type: 'Complete', status: 'True' }] }),
      cells: ['pi', 'Complete', '1/1', '9s', '5m', 'pi,side', 'perl:5.34,busybox', '<none>'],
    },
    { name: 'failed', job: job({ completions: 1 }, { conditions: [{ type: 'Failed', status: 'True' }] }), cells: ['pi', 'Failed', '0/1', '', '5m', 'pi,side', 'perl:5.34,busybox', '<none>'] },
    { name: 'suspended', job: job({ completions: 1 }, { conditions: [{ type: 'Suspended', status: 'True' }] }), cells: ['pi', 'Suspended', '0/1', '', '5m', 'pi,side', 'perl:5.34,busybox', '<none>'] },
    { name: 'being deleted', job: job({ completions: 1 }, {}, { deletionTimestamp: CREATED }), cells: ['pi', 'Terminating', '0/1', '', '5m', 'pi,side', 'perl:5.34,busybox', '<none>'] },
    { name: 'a work queue (no completions)', job: job({ parallelism: 4 }, { succeeded: 2 }), cells: ['pi', 'Running', '2/1 of 4', '', '5m', 'pi,side', 'perl:5.34,busybox', '<none>'] },
    {
      name: 'a selector with expressions',
      job: job({ completions: 1, selector: { matchLabels: { b: '2', a: '1' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['web', 'api'] }, { key: 'z', operator: 'DoesNotExist' }] } }, {}),
      cells: ['pi', 'Running', '0/1', '', '5m', 'pi,side', 'perl:5.34,busybox', 'a=1,b=2,tier in (api,web),!z'],
    },
  ];
  for (const c of cases) test(c.name, () => assert.deepEqual(cells(JOB.printer, c.job), c.cells));
});

describe('printCronJob', () => {
  test('columns: NAME SCHEDULE TIMEZONE SUSPEND ACTIVE LAST SCHEDULE AGE, wide CONTAINERS IMAGES SELECTOR', () => {
    assert.deepEqual(
      columnDefinitions(CRON_JOB.printer).map((c) => [c.name, c.type, c.priority]),
      [
        ['Name', 'string', 0],
        ['Schedule', 'string', 0],
        ['Timezone', 'string', 0],
        ['Suspend', 'boolean', 0],
        ['Active', 'integer', 0],
        ['Last Schedule', 'string', 0],
        ['Age', 'string', 0],
        ['Containers', 'string', 1],
        ['Images', 'string', 1],
        ['Selector', 'string', 1],
      ],
    );
  });
  test('cells', () => {
    const cronJob = {
      metadata: { name: 'hello', creationTimestamp: CREATED },
      spec: { schedule: '*/1 * * * *', suspend: false, jobTemplate: { spec: { template: { spec: { containers: [{ name: 'hello', image: 'busybox:1.28' }] } } } } },
      status: { active: [{ name: 'hello-1' }], lastScheduleTime: '2025-01-01T11:59:00Z' },
    };
    assert.deepEqual(cells(CRON_JOB.printer, cronJob), ['hello', '*/1 * * * *', '<none>', 'False', 1, '60s', '5m', 'hello', 'busybox:1.28', '<none>']);
    const zoned = { ...cronJob, spec: { ...cronJob.spec, timeZone: 'Europe/Berlin', suspend: true }, status: {} };
    assert.deepEqual(cells(CRON_JOB.printer, zoned), ['hello', '*/1 * * * *', 'Europe/Berlin', 'True', 0, '<none>', '5m', 'hello', 'busybox:1.28', '<none>']);
  });
});
