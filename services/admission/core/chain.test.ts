import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { notFound, StatusError } from '../../../lib/errors.ts';
import type { KubeObject } from '../../../lib/kube.ts';
import { builtinRegistry } from '../../../lib/kinds/index.ts';
import type { StorageRef } from '../../storage/api.ts';
import type { AdmissionRequest, MutatingPlugin, ValidatingPlugin } from '../api.ts';
import { AdmissionChain, buildAdmissionChain } from './chain.ts';

function request(overrides: Partial<AdmissionRequest> = {}): AdmissionRequest {
  return {
    operation: 'CREATE',
    group: '',
    version: 'v1',
    resource: 'configmaps',
    kind: 'ConfigMap',
    namespace: 'default',
    name: 'cm',
    object: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm', namespace: 'default' } },
    user: { username: 'alice', uid: '1', groups: [] },
    dryRun: false,
    ...overrides,
  };
}

/** Records what each plugin saw, in order. */
function recorder() {
  const log: string[] = [];
  const mutating = (name: string, handles = true): MutatingPlugin => ({
    name,
    handles: () => handles,
    async admit(_req, object) {
      log.push(`mutate ${name} ${JSON.stringify(object.metadata?.annotations ?? {})}`);
      return { ...object, metadata: { ...object.metadata, annotations: { ...(object.metadata?.annotations ?? {}), [name]: 'x' } } };
    },
  });
  const validating = (name: string, handles = true, fail?: StatusError): ValidatingPlugin => ({
    name,
    handles: () => handles,
    async validate(_req, object) {
      log.push(`validate ${name} ${JSON.stringify(object?.metadata?.annotations ?? null)}`);
      if (fail !== undefined) throw fail;
    },
  });
  return { log, mutating, validating };
}

describe('AdmissionChain', () => {
  test('mutating plugins in order, then validating plugins in order, on the final object', async () => {
    const { log, mutating, validating } = recorder();
    const chain = new AdmissionChain([mutating('m1'), mutating('m2')], [validating('v1'), validating('v2')]);
    const out = await chain.admit(request());
    assert.deepEqual(log, [
      'mutate m1 {}',
      'mutate m2 {"m1":"x"}',
      'validate v1 {"m1":"x","m2":"x"}',
      'validate v2 {"m1":"x","m2":"x"}',
    ]);
    assert.deepEqual(out?.metadata?.annotations, { m1: 'x', m2: 'x' });
  });

  test('plugins that do not handle the request are skipped', async () => {
    const { log, mutating, validating } = recorder();
    const chain = new AdmissionChain([mutating('m1', false), mutating('m2')], [validating('v1', false), validating('v2')]);
    await chain.admit(request());
    assert.deepEqual(log, ['mutate m2 {}', 'validate v2 {"m2":"x"}']);
  });

  test('the request\'s object is never changed in place', async () => {
    const inPlace: MutatingPlugin = {
      name: 'in-place',
      handles: () => true,
      async admit(_req, object) {
        (object.metadata ??= {}).labels = { sneaky: 'yes' };
        return object;
      },
    };
    const req = request();
    const out = await new AdmissionChain([inPlace], []).admit(req);
    assert.deepEqual(out?.metadata?.labels, { sneaky: 'yes' });
    assert.equal(req.object?.metadata?.labels, undefined);
  });

  test('a chain that owns its request objects mutates them in place, without copying', async () => {
    const inPlace: MutatingPlugin = {
      name: 'in-place',
      handles: () => true,
      async admit(_req, object) {
        (object.metadata ??= {}).labels = { mine: 'yes' };
        return object;
      },
    };
    const req = request();
    const out = await new AdmissionChain([inPlace], [], { ownsRequestObjects: true }).admit(req);
    assert.equal(out, req.object);
    assert.deepEqual(req.object?.metadata?.labels, { mine: 'yes' });
  });

  test('a refusal stops the chain and is the result', async () => {
    const { log, mutating, validating } = recorder();
    const refusal = new StatusError('Forbidden', 'no');
    const chain = new AdmissionChain([mutating('m1')], [validating('v1', true, refusal), validating('v2')]);
    await assert.rejects(chain.admit(request()), (err) => err === refusal);
    assert.deepEqual(log, ['mutate m1 {}', 'validate v1 {"m1":"x"}']);
  });

  test('without an object (DELETE) mutation is skipped, validation still runs, the result is undefined', async () => {
    const { log, mutating, validating } = recorder();
    const chain = new AdmissionChain([mutating('m1')], [validating('v1')]);
    assert.equal(await chain.admit(request({ operation: 'DELETE', object: undefined })), undefined);
    assert.deepEqual(log, ['validate v1 null']);
  });

  test('the abort signal reaches every plugin', async () => {
    const signals: (AbortSignal | undefined)[] = [];
    const m: MutatingPlugin = { name: 'm', handles: () => true, admit: async (_r, o, s) => (signals.push(s), o) };
    const v: ValidatingPlugin = { name: 'v', handles: () => true, validate: async (_r, _o, s) => void signals.push(s) };
    const signal = new AbortController().signal;
    await new AdmissionChain([m], [v]).admit(request(), signal);
    assert.deepEqual(signals, [signal, signal]);
  });
});

describe('the built-in chain', () => {
  const registry = builtinRegistry();
  const namespaces = new Map<string, KubeObject>([['default', { kind: 'Namespace', metadata: { name: 'default' }, status: { phase: 'Active' } }]]);
  const storage = {
    async get(ref: StorageRef): Promise<KubeObject> {
      const ns = namespaces.get(ref.name);
      if (ns === undefined) throw notFound({ group: '', resource: 'namespaces' }, ref.name);
      return ns;
    },
  };
  const clock = () => new Date('2024-09-18T09:34:31Z');
  const chain = buildAdmissionChain({ registry, storage, clock });

  test('a ConfigMap with generateName gets a valid generated name and its system fields', async () => {
    const out = await chain.admit(
      request({ name: '', object: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { generateName: 'settings-', namespace: 'default' } } }),
    );
    assert.match(out?.metadata?.name ?? '', /^settings-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    assert.equal(out?.metadata?.creationTimestamp, '2024-09-18T09:34:31Z');
    assert.equal(out?.metadata?.generation, undefined, 'a ConfigMap has no generation, as in kube');
  });

  test('validation sees the mutated object: an invalid name is refused after defaults', async () => {
    const err = await chain.admit(request({ object: { kind: 'ConfigMap', metadata: { name: 'Bad_Name', namespace: 'default' } } })).catch((e: unknown) => e);
    assert.ok(err instanceof StatusError);
    assert.equal(err.reason, 'Invalid');
    assert.match(err.message, /^ConfigMap "Bad_Name" is invalid: metadata\.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain/);
  });

  test('label keys and annotation keys are validated on the mutated object', async () => {
    const err = await chain
      .admit(request({ object: { kind: 'ConfigMap', metadata: { name: 'cm', namespace: 'default', labels: { 'a/b/c': 'x' }, annotations: { '/x': 'y' } } } }))
      .catch((e: unknown) => e);
    assert.ok(err instanceof StatusError);
    assert.equal(err.reason, 'Invalid');
    assert.deepEqual(err.details?.causes?.map((c) => c.field), ['metadata.labels', 'metadata.annotations']);
  });

  test('a missing namespace is NotFound', async () => {
    const err = await chain
      .admit(request({ namespace: 'ghost', object: { kind: 'ConfigMap', metadata: { name: 'cm', namespace: 'ghost' } } }))
      .catch((e: unknown) => e);
    assert.ok(err instanceof StatusError);
    assert.equal(err.message, 'namespaces "ghost" not found');
  });
});
