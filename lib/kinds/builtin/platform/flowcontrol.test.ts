/** PriorityLevelConfiguration validation of the queuing parameters, in kube's words. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PRIORITY_LEVEL_CONFIGURATION } from './flowcontrol.ts';

function queuingErrors(queuing: Record<string, number>): string[] {
  const object = {
    apiVersion: 'flowcontrol.apiserver.k8s.io/v1',
    kind: 'PriorityLevelConfiguration',
    metadata: { name: 'level' },
    spec: { type: 'Limited', limited: { nominalConcurrencyShares: 10, limitResponse: { type: 'Queue', queuing } } },
  };
  return (PRIORITY_LEVEL_CONFIGURATION.strategy!.validate!(object, undefined) ?? []).map((e) => `${e.field}: ${e.detail}`);
}

test('queues: at most kube\'s 10^7', () => {
  assert.deepEqual(queuingErrors({ queues: 10_000_000, handSize: 1, queueLengthLimit: 50 }), []);
  assert.deepEqual(queuingErrors({ queues: 10_000_001, handSize: 1, queueLengthLimit: 50 }), ['spec.limited.limitResponse.queuing.queues: must not be greater than 10000000']);
  assert.deepEqual(queuingErrors({ queues: 0, handSize: 1, queueLengthLimit: 50 }), [
    'spec.limited.limitResponse.queuing.queues: must be positive',
    'spec.limited.limitResponse.queuing.handSize: should not be greater than queues (0)',
  ]);
});
