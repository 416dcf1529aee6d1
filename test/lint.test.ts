/**
 * The project's own lint rules fire: the ESLint of this repository (its eslint.config.js) is
 * run on small files held in memory, placed where the rule applies, and must report them.
 */
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import { ESLint } from 'eslint';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const RULE = 'local/service-boundaries';

/** The messages of RULE for `code` as if it were the file `file` of the repository. */
async function boundaryErrors(eslint: ESLint, file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: `${ROOT}${file}` });
  assert.ok(result !== undefined);
  const fatal = result.messages.filter((m) => m.fatal === true);
  assert.deepEqual(fatal, [], 'the probe file must parse');
  return result.messages.filter((m) => m.ruleId === RULE).map((m) => m.message);
}

describe('service boundaries (scripts/lint/service-boundaries.js)', () => {
  const eslint = new ESLint({ cwd: ROOT });

  test("a service importing another service's core is refused, whatever the form of the import", { timeout: 60_000 }, async () => {
    const errors = await boundaryErrors(
      eslint,
      'services/gateway/rest/probe.ts',
      [
        "import type { WatchEvent } from '../../watch/core/watch-cache.ts';",
        "import { MemoryStorage } from '../../storage/backends/memory.ts';",
        "export { watchOptionsFromProto } from '../../watch/grpc/codec.ts';",
        "export * from '../../auth/grpc/server.ts';",
        "export const load = () => import('../../admission/core/chain.ts');",
        'export const probe: WatchEvent | undefined = undefined;',
        'export const storage = MemoryStorage;',
      ].join('\n'),
    );
    assert.deepEqual(errors, [
      'services/gateway may import of the watch service only services/watch/api.ts and services/watch/grpc/client.ts, not services/watch/core/watch-cache.ts',
      'services/gateway may import of the storage service only services/storage/api.ts and services/storage/grpc/client.ts, not services/storage/backends/memory.ts',
      'services/gateway may import of the watch service only services/watch/api.ts and services/watch/grpc/client.ts, not services/watch/grpc/codec.ts',
      'services/gateway may import of the auth service only services/auth/api.ts and services/auth/grpc/client.ts, not services/auth/grpc/server.ts',
      'services/gateway may import of the admission service only services/admission/api.ts and services/admission/grpc/client.ts, not services/admission/core/chain.ts',
    ]);
  });

  test("a service may import another's api.ts and grpc/client.ts, and any file of its own", { timeout: 60_000 }, async () => {
    const code = [
      "import type { WatchEvent } from '../watch/api.ts';",
      "import { WatchClient } from '../watch/grpc/client.ts';",
      "import type { Storage } from '../storage/api.ts';",
      'export type Probe = [WatchEvent, WatchClient, Storage];',
    ].join('\n');
    assert.deepEqual(await boundaryErrors(eslint, 'services/gateway/probe.ts', code), []);
    assert.deepEqual(
      await boundaryErrors(eslint, 'services/watch/grpc/probe.ts', "export { WatchService } from '../core/watch-service.ts';"),
      [],
    );
  });

  test('lib imports no service', { timeout: 60_000 }, async () => {
    assert.deepEqual(await boundaryErrors(eslint, 'lib/probe.ts', "export type { Storage } from '../services/storage/api.ts';"), [
      'lib/ imports no service (services/storage/api.ts): it is what services share',
    ]);
  });

  test('tests and compositions may import any part of a service', { timeout: 60_000 }, async () => {
    const code = "export { WatchService } from '../../watch/core/watch-service.ts';";
    assert.deepEqual(await boundaryErrors(eslint, 'services/gateway/core/probe.test.ts', code), []);
    assert.deepEqual(await boundaryErrors(eslint, 'scripts/probe.ts', "export { WatchService } from '../services/watch/core/watch-service.ts';"), []);
    assert.deepEqual(await boundaryErrors(eslint, 'test/integration/probe.ts', "export { WatchService } from '../../services/watch/core/watch-service.ts';"), []);
  });
});
