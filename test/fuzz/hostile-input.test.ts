/**
 * Nothing a client sends may break the server for anyone else: the hostile-input fuzzer
 * (hostile.ts) with a fixed seed, 2,000 REST requests and 500 typed gRPC calls plus the big
 * cases (nesting 5,000 deep, a 3.5 MiB body, huge arrays), against the whole control plane as
 * separate processes on real etcd and Redis. `make fuzz` runs the same fuzzer at length.
 *
 * The assertion message is the fuzzer's report: every kind of request that broke a rule, with
 * examples and the service log lines written meanwhile, and every check after the run that
 * failed (processes, protected objects, lists with selectors, the watches that ran throughout).
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { startControlPlane, type ControlPlane } from '../../lib/local/control-plane.ts';
import { formatReport, passed, runHostileFuzz, summaryLine } from './hostile.ts';

/** Fixed: the same requests every run. */
const SEED = 20261206;

let dir: string;
let plane: ControlPlane;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'e2e-fuzz-'));
  plane = await startControlPlane({ dataDir: dir, logDir: join(dir, 'logs') });
});

after(async () => {
  await plane?.stop();
  await rm(dir, { recursive: true, force: true });
});

test('hostile requests get a 2xx or a 4xx Status, and harm nobody else', async (t) => {
  const report = await runHostileFuzz(
    { plane, dataDir: dir, logDir: join(dir, 'logs') },
    {
      seed: SEED,
      restRuns: 2_000,
      grpcRuns: 500,
      concurrency: 8,
      deadlineMs: 20_000,
      big: { depth: 5_000, oversizeBytes: 3.5 * 1024 * 1024, arrayLength: 200_000 },
    },
  );
  t.diagnostic(summaryLine(report));
  assert.ok(report.sent.rest >= 2_000 && report.sent.grpc >= 500, summaryLine(report));
  assert.ok(passed(report), formatReport(report));
});
