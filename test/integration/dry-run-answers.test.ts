/**
 * What a dry run answers through the pipeline (over the real admission chain and the memory
 * storage backend), as kube's DryRunnableStorage answers: a create of a name that exists is
 * AlreadyExists; an update or patch answers the object as storage would store it (generation
 * raised by a change of the desired state, uid and creationTimestamp kept) at the stored
 * resourceVersion, and a stale resourceVersion is a Conflict; nothing is stored.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KubeObject } from '../../lib/kube.ts';
import { builtinRegistry } from '../../lib/kinds/index.ts';
import { SYSTEM_MASTERS, type UserInfo } from '../../services/auth/api.ts';
import type { Target } from '../../services/gateway/core/pipeline.ts';
import { MemoryStorage } from '../../services/storage/backends/memory.ts';
import { inProcessPipeline, refusal } from '../support/pipeline.ts';

const registry = builtinRegistry();
const admin: UserInfo = { username: 'admin', uid: '1', groups: [SYSTEM_MASTERS] };

async function setup() {
  const { pipeline } = await inProcessPipeline(new MemoryStorage(), registry);
  const deployments = registry.get('apps', 'v1', 'deployments');
  assert.ok(deployments !== undefined);
  const target: Target = { info: deployments, namespace: 'default', name: 'web' };
  const deployment: KubeObject = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web' },
    spec: { selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'app', image: 'nginx:1.25' }] } } },
  };
  const stored = await pipeline.create(admin, { ...target, name: '' }, deployment);
  return { pipeline, target, deployment, stored };
}

test('a dry-run create of an existing name is AlreadyExists; of a new one answers it without storing', async () => {
  const { pipeline, target, deployment } = await setup();
  const exists = await refusal(pipeline.create(admin, { ...target, name: '' }, deployment, { dryRun: true }), 'AlreadyExists');
  assert.equal(exists.message, 'deployments.apps "web" already exists');
  const created = await pipeline.create(admin, { ...target, name: '' }, { ...deployment, metadata: { name: 'other' } }, { dryRun: true });
  assert.equal(created.metadata?.generation, 1);
  assert.equal(created.metadata?.resourceVersion, undefined);
  await refusal(pipeline.get(admin, { ...target, name: 'other' }), 'NotFound');
});

test('a dry-run patch or update answers the object as stored: generation raised, the stored resourceVersion; nothing stored', async () => {
  const { pipeline, target, stored } = await setup();
  const body = Buffer.from(JSON.stringify({ spec: { template: { spec: { containers: [{ name: 'app', image: 'nginx:1.26' }] } } } }));
  const patched = await pipeline.patch(admin, target, { contentType: 'application/strategic-merge-patch+json', body }, { dryRun: true });
  assert.equal((patched.spec as { template: { spec: { containers: { image: string }[] } } }).template.spec.containers[0]?.image, 'nginx:1.26');
  assert.equal(patched.metadata?.generation, 2);
  assert.equal(patched.metadata?.resourceVersion, stored.metadata?.resourceVersion);
  assert.equal(patched.metadata?.uid, stored.metadata?.uid);

  // A change of metadata only is no change of the desired state.
  const labelled = await pipeline.patch(admin, target, { contentType: 'application/merge-patch+json', body: Buffer.from('{"metadata":{"labels":{"a":"b"}}}') }, { dryRun: true });
  assert.equal(labelled.metadata?.generation, 1);

  const updated = await pipeline.update(admin, target, { ...stored, spec: { ...(stored.spec as object), replicas: 5 } }, { dryRun: true });
  assert.equal(updated.metadata?.generation, 2);
  assert.equal(updated.metadata?.resourceVersion, stored.metadata?.resourceVersion);
  const stale = await refusal(pipeline.update(admin, target, { ...stored, metadata: { ...stored.metadata, resourceVersion: '1' } }, { dryRun: true }), 'Conflict');
  assert.equal(stale.message, 'Operation cannot be fulfilled on deployments.apps "web": the object has been modified; please apply your changes to the latest version and try again');

  assert.deepEqual(await pipeline.get(admin, target), stored);
});
