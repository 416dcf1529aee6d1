/**
 * End to end with real kubectl 1.27 and 1.33: Pods, Jobs and CronJobs made by kubectl's own
 * commands (`run`, `create job`, `create cronjob`), stored with kube's defaults, printed with
 * kube-apiserver's columns (and `-o wide`), and refused with kube's 422 texts.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { kubectlVersionsPlane, type Kubectl } from '../support/kubectl.ts';

const VERSIONS = ['1.27', '1.33'] as const;
const suite = kubectlVersionsPlane('workloads', VERSIONS);

/** A table kubectl printed: the header's columns and each row split at two or more spaces. */
function table(output: string): string[][] {
  return output
    .trim()
    .split('\n')
    .map((line) => line.trim().split(/\s{2,}/));
}

/** The cells of the row whose first cell is `name`, cut at the header's column starts (empty cells kept). */
function row(output: string, name: string): Record<string, string> {
  const lines = output.replace(/\s+$/, '').split('\n');
  const header = lines[0] ?? '';
  const starts: { name: string; at: number }[] = [];
  for (const m of header.matchAll(/\S+(?: \S+)*/g)) starts.push({ name: m[0], at: m.index });
  const line = lines.find((l) => l.startsWith(`${name} `));
  assert.ok(line !== undefined, `no row ${name} in:\n${output}`);
  const cells: Record<string, string> = {};
  starts.forEach((s, i) => {
    cells[s.name] = line.slice(s.at, starts[i + 1]?.at ?? line.length).trim();
  });
  return cells;
}

for (const version of VERSIONS) {
  describe(`kubectl ${version}: pods, jobs and cronjobs`, { skip: suite.skip }, () => {
    let kubectl: Kubectl;
    const ns = `work-${version.replace('.', '-')}`;
    before(async () => {
      kubectl = suite.kubectl(version);
      const created = await kubectl(['create', 'namespace', ns]);
      assert.equal(created.code, 0, created.stderr);
    });

    test('run creates a Pod with kube\'s defaults; get pods prints its columns', async () => {
      const run = await kubectl(['run', 'nginx', '-n', ns, '--image=nginx:1.27', '--port=80', '--labels=app=nginx']);
      assert.equal(run.code, 0, run.stderr);
      assert.equal(run.stdout.trim(), 'pod/nginx created');

      const json = await kubectl(['get', 'pod', 'nginx', '-n', ns, '-o', 'json']);
      assert.equal(json.code, 0, json.stderr);
      const pod = JSON.parse(json.stdout) as { metadata: { generation: number }; spec: Record<string, unknown> & { containers: Record<string, unknown>[] }; status: Record<string, unknown> };
      assert.equal(pod.metadata.generation, 1);
      assert.equal(pod.spec['restartPolicy'], 'Always');
      assert.equal(pod.spec['dnsPolicy'], 'ClusterFirst');
      assert.equal(pod.spec['schedulerName'], 'default-scheduler');
      assert.equal(pod.spec['terminationGracePeriodSeconds'], 30);
      assert.equal(pod.spec['enableServiceLinks'], true);
      assert.deepEqual(pod.spec['securityContext'], {});
      assert.deepEqual(pod.spec.containers[0]?.['ports'], [{ containerPort: 80, protocol: 'TCP' }]);
      assert.equal(pod.spec.containers[0]?.['imagePullPolicy'], 'IfNotPresent');
      assert.equal(pod.spec.containers[0]?.['terminationMessagePath'], '/dev/termination-log');
      assert.equal(pod.status['phase'], 'Pending');
      assert.equal(pod.status['qosClass'], 'BestEffort');

      const get = await kubectl(['get', 'pods', '-n', ns]);
      assert.equal(get.code, 0, get.stderr);
      const [header] = table(get.stdout);
      assert.deepEqual(header, ['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE']);
      const cells = row(get.stdout, 'nginx');
      assert.equal(cells['READY'], '0/1');
      assert.equal(cells['STATUS'], 'Pending');
      assert.equal(cells['RESTARTS'], '0');
      assert.match(cells['AGE'] ?? '', /^\d+s$/);

      const wide = await kubectl(['get', 'po', '-n', ns, '-o', 'wide']);
      assert.equal(wide.code, 0, wide.stderr);
      assert.deepEqual(table(wide.stdout)[0], ['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE', 'IP', 'NODE', 'NOMINATED NODE', 'READINESS GATES']);
      const wideCells = row(wide.stdout, 'nginx');
      assert.equal(wideCells['IP'], '<none>');
      assert.equal(wideCells['NODE'], '<none>');
      assert.equal(wideCells['NOMINATED NODE'], '<none>');
      assert.equal(wideCells['READINESS GATES'], '<none>');

      const selected = await kubectl(['get', 'pods', '-n', ns, '--field-selector', 'status.phase=Pending,spec.nodeName=', '-o', 'name']);
      assert.equal(selected.code, 0, selected.stderr);
      assert.equal(selected.stdout.trim(), 'pod/nginx');
    });

    test('a Pod update may change the image but not the rest of the spec', async () => {
      const run = await kubectl(['run', 'busy', '-n', ns, '--image=busybox:1.36', '--restart=Never', '--', 'sleep', '3600']);
      assert.equal(run.code, 0, run.stderr);
      const image = await kubectl(['set', 'image', 'pod/busy', '-n', ns, 'busy=busybox:1.37']);
      assert.equal(image.code, 0, image.stderr);
      const patched = await kubectl(['patch', 'pod', 'busy', '-n', ns, '--type=merge', '-p', '{"spec":{"hostname":"other"}}']);
      assert.notEqual(patched.code, 0);
      assert.match(patched.stderr, /The Pod "busy" is invalid: spec: Forbidden: pod updates may not change fields other than `spec\.containers\[\*\]\.image`/);
    });

    test('create job: the generated selector and labels, kube\'s defaults, get jobs columns', async () => {
      const created = await kubectl(['create', 'job', 'pi', '-n', ns, '--image=perl:5.34.0', '--', 'perl', '-Mbignum=bpi', '-wle', 'print bpi(20)']);
      assert.equal(created.code, 0, created.stderr);
      assert.equal(created.stdout.trim(), 'job.batch/pi created');

      const json = await kubectl(['get', 'job', 'pi', '-n', ns, '-o', 'json']);
      assert.equal(json.code, 0, json.stderr);
      const job = JSON.parse(json.stdout) as { metadata: { uid: string }; spec: Record<string, unknown> & { template: { metadata: { labels: Record<string, string> }; spec: Record<string, unknown> } } };
      const uid = job.metadata.uid;
      assert.deepEqual(job.spec['selector'], { matchLabels: { 'batch.kubernetes.io/controller-uid': uid } });
      assert.deepEqual(job.spec.template.metadata.labels, {
        'batch.kubernetes.io/controller-uid': uid,
        'batch.kubernetes.io/job-name': 'pi',
        'controller-uid': uid,
        'job-name': 'pi',
      });
      for (const [field, value] of [
        ['backoffLimit', 6],
        ['completions', 1],
        ['parallelism', 1],
        ['completionMode', 'NonIndexed'],
        ['suspend', false],
        ['manualSelector', false],
        ['podReplacementPolicy', 'TerminatingOrFailed'],
      ] as const) {
        assert.equal(job.spec[field], value, field);
      }
      assert.equal(job.spec.template.spec['restartPolicy'], 'Never');

      const get = await kubectl(['get', 'jobs', '-n', ns]);
      assert.equal(get.code, 0, get.stderr);
      assert.deepEqual(table(get.stdout)[0], ['NAME', 'STATUS', 'COMPLETIONS', 'DURATION', 'AGE']);
      const cells = row(get.stdout, 'pi');
      assert.equal(cells['STATUS'], 'Running');
      assert.equal(cells['COMPLETIONS'], '0/1');
      assert.equal(cells['DURATION'], '');

      const wide = await kubectl(['get', 'job', '-n', ns, '-o', 'wide']);
      assert.equal(wide.code, 0, wide.stderr);
      assert.deepEqual(table(wide.stdout)[0], ['NAME', 'STATUS', 'COMPLETIONS', 'DURATION', 'AGE', 'CONTAINERS', 'IMAGES', 'SELECTOR']);
      const wideCells = row(wide.stdout, 'pi');
      assert.equal(wideCells['CONTAINERS'], 'pi');
      assert.equal(wideCells['IMAGES'], 'perl:5.34.0');
      assert.equal(wideCells['SELECTOR'], `batch.kubernetes.io/controller-uid=${uid}`);
    });

    test('create cronjob: kube\'s defaults, get cronjobs columns, a bad schedule refused in kube\'s words', async () => {
      const created = await kubectl(['create', 'cronjob', 'hello', '-n', ns, '--image=busybox:1.28', '--schedule=*/5 * * * *', '--', 'date']);
      assert.equal(created.code, 0, created.stderr);
      assert.equal(created.stdout.trim(), 'cronjob.batch/hello created');

      const json = await kubectl(['get', 'cj', 'hello', '-n', ns, '-o', 'json']);
      assert.equal(json.code, 0, json.stderr);
      const cronJob = JSON.parse(json.stdout) as { spec: Record<string, unknown> };
      assert.equal(cronJob.spec['concurrencyPolicy'], 'Allow');
      assert.equal(cronJob.spec['suspend'], false);
      assert.equal(cronJob.spec['successfulJobsHistoryLimit'], 3);
      assert.equal(cronJob.spec['failedJobsHistoryLimit'], 1);

      const get = await kubectl(['get', 'cronjobs', '-n', ns]);
      assert.equal(get.code, 0, get.stderr);
      assert.deepEqual(table(get.stdout)[0], ['NAME', 'SCHEDULE', 'TIMEZONE', 'SUSPEND', 'ACTIVE', 'LAST SCHEDULE', 'AGE']);
      const cells = row(get.stdout, 'hello');
      assert.equal(cells['SCHEDULE'], '*/5 * * * *');
      assert.equal(cells['TIMEZONE'], '<none>');
      assert.equal(cells['SUSPEND'], 'False');
      assert.equal(cells['ACTIVE'], '0');
      assert.equal(cells['LAST SCHEDULE'], '<none>');

      const wide = await kubectl(['get', 'cronjob', '-n', ns, '-o', 'wide']);
      assert.equal(wide.code, 0, wide.stderr);
      assert.deepEqual(table(wide.stdout)[0], ['NAME', 'SCHEDULE', 'TIMEZONE', 'SUSPEND', 'ACTIVE', 'LAST SCHEDULE', 'AGE', 'CONTAINERS', 'IMAGES', 'SELECTOR']);
      const wideCells = row(wide.stdout, 'hello');
      assert.equal(wideCells['CONTAINERS'], 'hello');
      assert.equal(wideCells['IMAGES'], 'busybox:1.28');
      assert.equal(wideCells['SELECTOR'], '<none>');

      const bad = await kubectl(['create', 'cronjob', 'bad', '-n', ns, '--image=busybox', '--schedule=* * *']);
      assert.notEqual(bad.code, 0);
      assert.match(bad.stderr, /^error: failed to create cronjob: CronJob\.batch "bad" is invalid: spec\.schedule: Invalid value: "\* \* \*": expected exactly 5 fields, found 3: \[\* \* \*\]/);
    });

    test('get all lists the pods, jobs and cronjobs', async () => {
      const all = await kubectl(['get', 'all', '-n', ns, '-o', 'name']);
      assert.equal(all.code, 0, all.stderr);
      const names = all.stdout.trim().split('\n');
      for (const name of ['pod/nginx', 'pod/busy', 'job.batch/pi', 'cronjob.batch/hello']) assert.ok(names.includes(name), `${name} in\n${all.stdout}`);
    });
  });
}
