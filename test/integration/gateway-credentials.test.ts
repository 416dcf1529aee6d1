import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { StatusError } from '../../lib/errors.ts';
import { builtinRegistry } from '../../lib/kinds/index.ts';
import { createLogger } from '../../lib/log.ts';
import { buildAdmissionChain } from '../../services/admission/core/chain.ts';
import type { AuthenticationResult, Authenticator, Credentials } from '../../services/auth/api.ts';
import { PrivilegedGroupAuthorizer } from '../../services/auth/core/authorizer.ts';
import { MemoryStorage } from '../../services/storage/backends/memory.ts';
import { WatchService } from '../../services/watch/core/watch-service.ts';
import { bearerToken, credentialsKey, presentsCredentials } from '../../services/gateway/core/credentials.ts';
import { Pipeline } from '../../services/gateway/core/pipeline.ts';

const cert = (s: string) => Buffer.from(s);

describe('credentials', () => {
  test('bearer tokens as before', () => {
    assert.equal(bearerToken('Bearer abc'), 'abc');
    assert.equal(bearerToken('bearer  abc '), 'abc');
    assert.equal(bearerToken('Basic abc'), undefined);
    assert.equal(bearerToken(undefined), undefined);
  });

  test('the cache key tells apart every presentation, and holds no credential', () => {
    const presentations: Credentials[] = [
      {},
      { token: 'ab' },
      { token: 'a', clientCertificates: [cert('b')] },
      { clientCertificates: [cert('ab')] },
      { clientCertificates: [cert('a'), cert('b')] },
      { token: 'ab', audiences: ['x'] },
    ];
    const keys = presentations.map(credentialsKey);
    assert.equal(new Set(keys).size, keys.length);
    assert.equal(credentialsKey({ token: 'ab' }), credentialsKey({ token: 'ab', clientCertificates: [] }));
    const secret = 'the-secret-token-value';
    assert.ok(!credentialsKey({ token: secret }).includes(secret));
    assert.equal(presentsCredentials({}), false);
    assert.equal(presentsCredentials({ token: '' }), false);
    assert.equal(presentsCredentials({ clientCertificates: [cert('x')] }), true);
  });
});

describe('Pipeline.authenticate', () => {
  function pipelineWith(authenticator: Authenticator): Pipeline {
    const registry = builtinRegistry();
    const storage = new MemoryStorage({ kinds: registry });
    const watcher = new WatchService({ caches: new Map(), storage, registry, logger: createLogger({ service: 'test', level: 'error' }) });
    return new Pipeline({ authenticator, authorizer: new PrivilegedGroupAuthorizer(), admission: buildAdmissionChain({ registry, storage }), storage, watcher, kinds: registry });
  }

  test('asks the authenticator once per accepted presentation within the cache time, every time for a refused one; both credentials go together', async () => {
    const asked: Credentials[] = [];
    const pipeline = pipelineWith({
      authenticate: (c): Promise<AuthenticationResult> => {
        asked.push(c);
        return Promise.resolve(c.token === 'good' ? { user: { username: 'u', uid: '', groups: [] }, audiences: [] } : { audiences: [], error: 'bad' });
      },
    });
    const presented = { token: 'good', clientCertificates: [cert('leaf'), cert('ca')] };
    assert.equal((await pipeline.authenticate(presented)).username, 'u');
    assert.equal((await pipeline.authenticate(presented)).username, 'u');
    assert.deepEqual(asked, [presented]);
    await assert.rejects(pipeline.authenticate({ token: 'bad' }), (e: unknown) => e instanceof StatusError && e.reason === 'Unauthorized');
    await assert.rejects(pipeline.authenticate({ token: 'bad' }), (e: unknown) => e instanceof StatusError && e.reason === 'Unauthorized');
    assert.equal(asked.length, 3, 'a refusal is not cached (kube caches only successes): a token added meanwhile works at once');
  });

  test('no credentials: anonymous where allowed, without asking; Unauthorized elsewhere; bad ones Unauthorized even there', async () => {
    let asked = 0;
    const pipeline = pipelineWith({ authenticate: () => (asked++, Promise.resolve({ audiences: [] })) });
    assert.deepEqual(await pipeline.authenticate({}, undefined, { anonymous: true }), { username: 'system:anonymous', uid: '', groups: ['system:unauthenticated'] });
    assert.equal(asked, 0);
    await assert.rejects(pipeline.authenticate({}), (e: unknown) => e instanceof StatusError && e.reason === 'Unauthorized');
    await assert.rejects(pipeline.authenticate({ token: 'x' }, undefined, { anonymous: true }), (e: unknown) => e instanceof StatusError && e.reason === 'Unauthorized');
  });
});
