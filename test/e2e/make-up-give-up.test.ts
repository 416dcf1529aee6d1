/**
 * `make up` gives up on a process that keeps failing to start: storage is killed and its port
 * taken by someone else, so each restart fails ("address already in use"); after five failed
 * starts in a row make up says why, with storage's last output, stops everything and exits 1.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { test } from 'node:test';
import { hostOf } from '../../lib/local/grpc-pki.ts';
import { startMakeUp } from '../support/make-up.ts';

test('a process that fails to start five times in a row stops make up with exit status 1 and the reason', async () => {
  const up = await startMakeUp('give-up');
  let squatter: Server | undefined;
  try {
    const pid = up.pidOf('storage');
    const port = Number(up.addresses.storage.slice(up.addresses.storage.lastIndexOf(':') + 1));
    process.kill(pid, 'SIGKILL');
    await up.line(new RegExp(`^\\[supervisor\\] storage \\(pid ${pid}\\) was killed by SIGKILL`), 10_000);
    // Take the port during the first backoff (1 s), before storage is started again.
    squatter = createServer((socket) => socket.destroy());
    await new Promise<void>((resolve, reject) => {
      squatter?.once('error', reject);
      squatter?.listen({ host: hostOf(up.addresses.storage), port }, resolve);
    });

    // 1 + 2 + 4 + 8 + 16 s of backoff and five starts of a few seconds: within 90 s.
    const status = await Promise.race([
      up.process.exited,
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`make up still runs:\n${up.lines.slice(-30).join('\n')}`)), 90_000).unref()),
    ]);
    assert.deepEqual(status, { code: 1, signal: null });
    const text = up.lines.join('\n');
    for (let n = 1; n <= 4; n++) {
      assert.match(text, new RegExp(`\\[supervisor\\] storage failed to start \\(${n} of 5 in a row\\): .*; retrying in ${2 ** n} s`));
    }
    assert.match(text, /\[supervisor\] storage failed to start 5 times in a row; giving up/);
    // The reason, with storage's own last words.
    assert.match(text, /make up: storage failed to start 5 times in a row; giving up: storage healthy at .*: storage exited with code \d+ before it was ready/);
    assert.match(text, /--- last output of storage \(pid \d+\) ---/);
    assert.match(text, /EADDRINUSE|address already in use/i);
    assert.match(text, /^stopped$/m);
    // Everything else was stopped: no process make up listed is left.
    for (const name of ['etcd', 'redis', 'auth', 'admission', 'watch', 'gateway']) {
      assert.throws(() => process.kill(up.pidOf(name), 0), { code: 'ESRCH' }, `${name} is stopped`);
    }
  } finally {
    squatter?.close();
    await up.stop();
  }
});
