/**
 * The bootstrap configuration's autoupdate rules (k8s.io/api flowcontrol/v1
 * AutoUpdateAnnotationKey) and the split of the server's seats over the priority levels
 * (kube's nominalCL = ceil(serverCL * shares / sum of shares)), also after a change of the
 * objects.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KubeObject } from '../../../../lib/kube.ts';
import { createLogger } from '../../../../lib/log.ts';
import { AUTO_UPDATE_ANNOTATION, bootstrapConfiguration, reconciledObject } from './bootstrap.ts';
import { FlowControl } from './controller.ts';

const logger = createLogger({ service: 'test', level: 'error' });

function stored(object: KubeObject, annotation: string | undefined, generation: number, spec?: unknown): KubeObject {
  const annotations: Record<string, string> = annotation === undefined ? {} : { [AUTO_UPDATE_ANNOTATION]: annotation };
  return { ...structuredClone(object), metadata: { ...object.metadata, annotations, generation, uid: 'u', resourceVersion: '7' }, ...(spec === undefined ? {} : { spec }) };
}

test('autoupdate: mandatory objects are always restored; suggested ones by the annotation, or generation 1 without it', () => {
  const config = bootstrapConfiguration();
  const catchAll = config.mandatoryFlowSchemas[1]!;
  const globalDefault = config.suggestedFlowSchemas.find((s) => s.metadata?.name === 'global-default')!;
  const changedSpec = { ...(catchAll.spec as object), matchingPrecedence: 9000 };

  assert.equal(reconciledObject(stored(catchAll, 'true', 1), catchAll, true), undefined, 'as bootstrapped: nothing to do');
  const stomped = reconciledObject(stored(catchAll, 'false', 3, changedSpec), catchAll, true)!;
  assert.deepEqual(stomped.spec, catchAll.spec);
  assert.equal(stomped.metadata?.annotations?.[AUTO_UPDATE_ANNOTATION], 'true');
  assert.equal(stomped.metadata?.resourceVersion, '7', 'an update of what was read');

  const suggestedChanged = { ...(globalDefault.spec as object), matchingPrecedence: 9000 };
  assert.equal(reconciledObject(stored(globalDefault, 'false', 3, suggestedChanged), globalDefault, false), undefined, 'the operator\'s "false" is kept');
  assert.deepEqual(reconciledObject(stored(globalDefault, 'true', 3, suggestedChanged), globalDefault, false)!.spec, globalDefault.spec);
  // No annotation: generation 1 means never changed, so it is kept up to date and annotated "true"...
  const fresh = reconciledObject(stored(globalDefault, undefined, 1, suggestedChanged), globalDefault, false)!;
  assert.deepEqual(fresh.spec, globalDefault.spec);
  assert.equal(fresh.metadata?.annotations?.[AUTO_UPDATE_ANNOTATION], 'true');
  // ... a later generation means an operator changed it: annotated "false", the spec kept.
  const edited = reconciledObject(stored(globalDefault, undefined, 2, suggestedChanged), globalDefault, false)!;
  assert.deepEqual(edited.spec, suggestedChanged);
  assert.equal(edited.metadata?.annotations?.[AUTO_UPDATE_ANNOTATION], 'false');

  // The exempt level keeps the operator's shares and lendablePercent, and nothing else.
  const exempt = config.mandatoryPriorityLevels[1]!;
  const tuned = reconciledObject(stored(exempt, 'true', 2, { type: 'Exempt', exempt: { nominalConcurrencyShares: 10, lendablePercent: 5 } }), exempt, true);
  assert.equal(tuned, undefined);
});

test('the server\'s seats are split by nominalConcurrencyShares, kube\'s formula; changes are applied', () => {
  const fc = new FlowControl({ serverConcurrencyLimit: 600, logger });
  // Shares: catch-all 5, exempt 0, system 30, node-high 40, leader-election 10, workload-high 40,
  // workload-low 100, global-default 20: 245 in all.
  assert.deepEqual(Object.fromEntries(fc.nominalLimits()), {
    'catch-all': 13,
    system: 74,
    'node-high': 98,
    'leader-election': 25,
    'workload-high': 98,
    'workload-low': 245,
    'global-default': 49,
  });
  // Only the mandatory objects (the suggested ones deleted): catch-all has every seat; a schema
  // naming a missing level is ignored, so a request falls to catch-all.
  const config = bootstrapConfiguration();
  const dangling = { ...config.suggestedFlowSchemas.find((s) => s.metadata?.name === 'global-default')! };
  const updates = fc.apply(config.mandatoryPriorityLevels, [...config.mandatoryFlowSchemas, dangling]);
  assert.deepEqual(Object.fromEntries(fc.nominalLimits()), { 'catch-all': 600 });
  // Every schema gets its Dangling condition, in kube's words: True for the one naming a missing level.
  assert.deepEqual(
    updates.map((u) => [u.flowSchema.metadata?.name, u.condition.status, u.condition.reason]),
    [['exempt', 'False', 'Found'], ['catch-all', 'False', 'Found'], ['global-default', 'True', 'NotFound']],
  );
  assert.equal(updates[2]!.condition.message, 'This FlowSchema references the PriorityLevelConfiguration object named "global-default" but there is no such object');
  // A schema already carrying the right condition needs no write.
  const marked = { ...dangling, status: { conditions: [{ ...updates[2]!.condition }] } };
  assert.equal(fc.apply(config.mandatoryPriorityLevels, [marked]).length, 0);
  const digest = { user: { username: 'alice', groups: ['system:authenticated'] }, resourceRequest: true, verb: 'get', apiGroup: '', resource: 'pods', subresource: '', namespace: 'x', path: '' };
  assert.equal(fc.classify(digest).rules.name, 'catch-all');
  // No objects at all: the mandatory ones are imagined.
  fc.apply([], []);
  assert.equal(fc.classify(digest).rules.name, 'catch-all');
  assert.equal(fc.classify({ ...digest, user: { username: 'root', groups: ['system:masters'] } }).rules.name, 'exempt');
  const admitted = fc.admit({ ...digest, user: { username: 'root', groups: ['system:masters'] } });
  assert.equal(admitted.kind, 'execute');
  assert.equal(admitted.classification.exempt, true);
});

test('a dangling mandatory schema is replaced by the mandatory one: exempt stays exempt, every request has a level', () => {
  const fc = new FlowControl({ serverConcurrencyLimit: 600, logger });
  const config = bootstrapConfiguration();
  // The stored exempt and catch-all schemas name levels that do not exist.
  const danglingTo = (name: string): KubeObject => {
    const fs = structuredClone(config.mandatoryFlowSchemas.find((s) => s.metadata?.name === name)!);
    (fs.spec as { priorityLevelConfiguration: { name: string } }).priorityLevelConfiguration.name = 'missing';
    return fs;
  };
  const updates = fc.apply(config.mandatoryPriorityLevels, [danglingTo('exempt'), danglingTo('catch-all')]);
  assert.deepEqual(
    updates.map((u) => [u.flowSchema.metadata?.name, u.condition.status]),
    [['exempt', 'True'], ['catch-all', 'True']],
  );
  const master = { user: { username: 'admin', groups: ['system:masters'] }, resourceRequest: true, verb: 'get', apiGroup: '', resource: 'pods', subresource: '', namespace: 'x', path: '' };
  const exempt = fc.admit(master);
  assert.equal(exempt.kind, 'execute');
  assert.deepEqual([exempt.classification.flowSchema, exempt.classification.priorityLevel, exempt.classification.exempt], ['exempt', 'exempt', true]);
  const alice = { ...master, user: { username: 'alice', groups: ['system:authenticated'] } };
  const admitted = fc.admit(alice);
  assert.equal(admitted.kind, 'execute');
  assert.deepEqual([admitted.classification.flowSchema, admitted.classification.priorityLevel], ['catch-all', 'catch-all']);
  if (admitted.kind === 'execute') admitted.seat.release();
  if (exempt.kind === 'execute') exempt.seat.release();
});
