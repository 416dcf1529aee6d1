import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { ConfigError } from '../config.ts';
import { createLogger } from '../log.ts';
import type { AuditEvent } from './event.ts';
import { openAuditLog, pruneRotated, rotatedFiles } from './writer.ts';

const logger = createLogger({ service: 'test', level: 'error' });

function event(n: number): AuditEvent {
  return {
    kind: 'Event',
    apiVersion: 'audit.k8s.io/v1',
    level: 'Metadata',
    auditID: `id-${n}`,
    stage: 'ResponseComplete',
    requestURI: `/api/v1/namespaces/default/configmaps/cm-${n}`,
    verb: 'update',
    user: { username: 'alice' },
    requestReceivedTimestamp: '2026-12-07T05:40:56.123000Z',
    stageTimestamp: '2026-12-07T05:40:56.124000Z',
  };
}

async function withDir(run: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'audit-writer-'));
  try {
    await run(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Every event line of the log and its rotated files, in order. */
async function allIds(path: string): Promise<string[]> {
  const files = [...rotatedFiles(path).map((f) => f.file), path];
  const ids: string[] = [];
  for (const f of files) {
    for (const line of (await readFile(f, 'utf8')).split('\n')) if (line !== '') ids.push((JSON.parse(line) as AuditEvent).auditID);
  }
  return ids;
}

describe('openAuditLog', () => {
  test('writes one JSON event a line, in a directory it creates, readable by its owner only', async () => {
    await withDir(async (dir) => {
      const path = join(dir, 'logs', 'audit.log');
      const sink = openAuditLog({ path, maxSizeMb: 100, maxBackups: 0, maxAgeDays: 0, logger });
      sink.write(event(1));
      sink.write(event(2));
      await sink.close();
      const lines = (await readFile(path, 'utf8')).split('\n');
      assert.equal(lines.length, 3);
      assert.equal(lines[2], '');
      assert.deepEqual(JSON.parse(lines[0]!), event(1));
      assert.equal((await stat(path)).mode & 0o777, 0o600);
    });
  });

  test('rotates by size into kube-named files, keeps maxBackups, and loses no event', async () => {
    await withDir(async (dir) => {
      const path = join(dir, 'audit.log');
      const lineBytes = JSON.stringify(event(100)).length + 1;
      const sink = openAuditLog({ path, maxSizeMb: 1, maxBackups: 2, maxAgeDays: 0, logger, maxSizeBytes: lineBytes * 3 });
      for (let i = 100; i < 120; i++) sink.write(event(i));
      await sink.close();
      const rotated = rotatedFiles(path);
      assert.ok(rotated.length >= 1 && rotated.length <= 2, `rotated files: ${rotated.map((r) => r.file).join(', ')}`);
      for (const r of rotated) assert.match(r.file, /audit-\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d\.\d{3}(-\d+)?\.log$/);
      // What is left is the newest events, in order, none twice.
      const ids = await allIds(path);
      const expected = Array.from({ length: 20 }, (_, k) => `id-${100 + k}`);
      assert.deepEqual(ids, expected.slice(expected.length - ids.length));
      assert.ok(ids.length >= 6);
      // The live file stays under the limit plus one event.
      assert.ok((await stat(path)).size <= lineBytes * 4);
    });
  });

  test('prunes rotated files beyond maxBackups and older than maxAgeDays; leaves other files alone', async () => {
    await withDir(async (dir) => {
      const path = join(dir, 'audit.log');
      const now = Date.parse('2026-12-07T12:00:00Z');
      const names = [
        'audit-2026-11-01T00-00-00.000.log', // 36 days old
        'audit-2026-12-01T00-00-00.000.log',
        'audit-2026-12-05T00-00-00.000.log',
        'audit-2026-12-06T00-00-00.000-2.log',
        'audit-2026-12-07T00-00-00.000.log',
        'audit.log.txt',
        'other-2020-01-01T00-00-00.000.log',
      ];
      for (const n of names) await writeFile(join(dir, n), 'x\n');
      assert.deepEqual(
        rotatedFiles(path).map((f) => f.file.slice(dir.length + 1)),
        names.slice(0, 5),
      );
      pruneRotated(path, 0, 30, now);
      assert.ok(!(await readdir(dir)).includes(names[0]!));
      pruneRotated(path, 2, 0, now);
      assert.deepEqual((await readdir(dir)).sort(), [names[3]!, names[4]!, 'audit.log.txt', 'other-2020-01-01T00-00-00.000.log'].sort());
      // Ages are read from the names, not from the files' times.
      await utimes(join(dir, names[3]!), new Date(0), new Date(0));
      pruneRotated(path, 0, 30, now);
      assert.ok((await readdir(dir)).includes(names[3]!));
    });
  });

  test('refuses negative or fractional limits', () => {
    for (const [k, v] of [
      ['maxSizeMb', -1],
      ['maxBackups', 1.5],
      ['maxAgeDays', -3],
    ] as const) {
      assert.throws(() => openAuditLog({ path: '-', maxSizeMb: 1, maxBackups: 1, maxAgeDays: 1, logger, [k]: v }), ConfigError);
    }
  });
});
