/**
 * `REPLICAS=2 make up`: two processes of every service. The banner lists every process with its
 * gRPC address and its monitoring port (the first replica of each service at its documented,
 * configurable port, the others at free ones), each of which serves /metrics; and each gateway
 * replica audits into its own file (its own --audit-log-path wins over the shared one).
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { SERVICE_NAMES } from '../../lib/local/control-plane.ts';
import { waitUntil } from '../../lib/local/process.ts';
import { startMakeUp, type MakeUp } from '../support/make-up.ts';
import { createRestClient } from '../support/rest-client.ts';

let up: MakeUp;

before(async () => {
  up = await startMakeUp('replicas', { REPLICAS: '2' }, 180_000);
});

after(async () => {
  const status = await up?.stop();
  if (status !== undefined) assert.deepEqual(status, { code: 0, signal: null }, 'SIGTERM stops make up cleanly');
});

/** The banner's line of one process: its gRPC address and monitoring port. */
function listed(name: string): { address: string; metrics: string } {
  const pattern = new RegExp(`^\\s+${name}:\\s+(\\S+), http://(\\S+)/metrics$`);
  for (const line of up.lines) {
    const m = pattern.exec(line);
    if (m !== null) return { address: m[1] as string, metrics: m[2] as string };
  }
  assert.fail(`the banner lists no ${name}:\n${up.lines.join('\n')}`);
}

test('the banner lists every process with its gRPC address and monitoring port, and each serves /metrics', async () => {
  const seen = new Set<string>();
  for (const service of SERVICE_NAMES) {
    const first = listed(service);
    assert.equal(first.address, up.addresses[service]);
    assert.equal(first.metrics, up.addresses.metrics[service], `${service}: the configured monitoring port`);
    const second = listed(`${service}-1`);
    for (const { address, metrics } of [first, second]) {
      assert.ok(!seen.has(metrics), `${metrics} listed twice`);
      seen.add(metrics);
      const res = await fetch(`http://${metrics}/metrics`);
      assert.equal(res.status, 200, `${service} at ${metrics}`);
      assert.match(await res.text(), /^process_cpu_user_seconds_total /m);
      seen.add(address);
    }
  }
  assert.equal(seen.size, 20);
});

test('each gateway replica audits into its own file', async () => {
  const gateway0 = await up.rest();
  const token = (await readFile(join(up.dir, 'tokens.csv'), 'utf8')).split(',')[0] ?? '';
  const ca = await readFile(join(up.dir, 'pki', 'ca.crt'), 'utf8');
  const https1 = /^\s+gateway-1:\s+https:\/\/(\S+), gRPC/.exec(up.lines.find((l) => /^\s+gateway-1:\s+https:/.test(l)) ?? '')?.[1];
  assert.ok(https1 !== undefined, up.lines.join('\n'));
  const gateway1 = createRestClient(`https://${https1}`, ca, token);
  const ids: Record<string, string> = {};
  for (const [name, rest] of [['via-gateway-0', gateway0], ['via-gateway-1', gateway1]] as const) {
    const created = await rest.request('POST', '/api/v1/namespaces/default/configmaps', { body: { metadata: { name } } });
    assert.equal(created.status, 201, created.body.toString());
    ids[name] = created.headers['audit-id'] as string;
  }
  const auditIds = async (file: string): Promise<string[]> =>
    (await readFile(join(up.dir, 'logs', file), 'utf8').catch(() => ''))
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => (JSON.parse(l) as { auditID: string }).auditID);
  await waitUntil(
    'both creates audited',
    async () => (await auditIds('audit.log')).includes(ids['via-gateway-0'] as string) && (await auditIds('audit-gateway-1.log')).includes(ids['via-gateway-1'] as string),
    { timeoutMs: 10_000 },
  );
  assert.ok(!(await auditIds('audit.log')).includes(ids['via-gateway-1'] as string), 'gateway-1 does not write gateway-0\'s file');
  assert.ok(!(await auditIds('audit-gateway-1.log')).includes(ids['via-gateway-0'] as string));
});
