/**
 * The built-in admission plugins against kube-apiserver's behaviour: BeforeCreate's system
 * fields, ValidateObjectMeta's messages and the NamespaceLifecycle plugin.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { notFound, StatusError } from '../../../lib/errors.ts';
import type { KubeObject } from '../../../lib/kube.ts';
import { builtinRegistry } from '../../../lib/kinds/index.ts';
import type { Storage, StorageRef } from '../../storage/api.ts';
import type { AdmissionRequest } from '../api.ts';
import { rfc3339 } from '../../../lib/kube.ts';
import { generateName, NamespaceLifecycle, ObjectMetaValidation, SystemFieldsPlugin } from './plugins.ts';

const ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const SUBDOMAIN_MSG =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const QUALIFIED_NAME_MSG =
  "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
const LABEL_VALUE_MSG =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";
const LABEL_MSG =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";

const registry = builtinRegistry();

function request(overrides: Partial<AdmissionRequest> = {}): AdmissionRequest {
  return {
    operation: 'CREATE',
    group: '',
    version: 'v1',
    resource: 'configmaps',
    kind: 'ConfigMap',
    namespace: 'default',
    name: 'cm',
    user: { username: 'alice', uid: '1', groups: ['system:authenticated'] },
    dryRun: false,
    ...overrides,
  };
}

function configMap(metadata: KubeObject['metadata']): KubeObject {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata, data: { a: '1' } };
}

/** Runs `fn`, which must reject with a StatusError, and returns it. */
async function rejection(fn: () => Promise<unknown>): Promise<StatusError> {
  try {
    await fn();
  } catch (err) {
    assert.ok(err instanceof StatusError, `expected a StatusError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected a rejection');
}

describe('generateName and rfc3339', () => {
  test('names.SimpleNameGenerator: the prefix and 5 characters of kube\'s alphabet', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 2000; i++) {
      const name = generateName('web-');
      assert.match(name, /^web-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
      for (const ch of name.slice(4)) seen.add(ch);
    }
    // Every character of the alphabet shows up, and nothing else does.
    assert.deepEqual([...seen].sort().join(''), [...ALPHABET].sort().join(''));
  });

  test('a long prefix is cut to 58 characters, so the name fits 63', () => {
    const name = generateName('p'.repeat(80));
    assert.equal(name.length, 63);
    assert.equal(name.slice(0, 58), 'p'.repeat(58));
    assert.equal(generateName('p'.repeat(58)).length, 63);
    assert.equal(generateName('ab').length, 7);
  });

  test('RFC 3339 in UTC at second precision, as metav1.Time marshals (truncated, not rounded)', () => {
    assert.equal(rfc3339(new Date('2024-09-18T09:34:31.999Z')), '2024-09-18T09:34:31Z');
    assert.equal(rfc3339(new Date(Date.UTC(2024, 0, 2, 3, 4, 5))), '2024-01-02T03:04:05Z');
  });
});

describe('SystemFieldsPlugin', () => {
  const NOW = new Date('2024-09-18T09:34:31.456Z');
  const plugin = new SystemFieldsPlugin(registry, () => NOW);

  test('handles creates only', () => {
    assert.equal(plugin.handles(request()), true);
    for (const operation of ['UPDATE', 'DELETE', 'CONNECT'] as const) assert.equal(plugin.handles(request({ operation })), false);
  });

  test('generation 1 for a kind that keeps one (a Deployment); a ConfigMap keeps none of its own, as kube\'s strategies', async () => {
    const deployment = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd', namespace: 'default', generation: 9 }, spec: {} } as KubeObject;
    const out = await plugin.admit(request({ group: 'apps', resource: 'deployments', kind: 'Deployment', name: 'd' }), deployment);
    assert.equal(out.metadata?.generation, 1);
    assert.equal((await plugin.admit(request(), configMap({ name: 'cm', namespace: 'default' }))).metadata?.generation, undefined);
  });

  test('uid and creationTimestamp replace whatever the client sent; deletion fields go', async () => {
    const input = configMap({
      name: 'cm',
      namespace: 'default',
      uid: 'client-chosen',
      creationTimestamp: '1999-01-01T00:00:00Z',
      generation: 9,
      deletionTimestamp: '2024-01-01T00:00:00Z',
      deletionGracePeriodSeconds: 30,
      labels: { app: 'web' },
    });
    const frozen = structuredClone(input);
    const out = await plugin.admit(request(), input);
    assert.match(out.metadata?.uid ?? '', UUID);
    assert.equal(out.metadata?.creationTimestamp, '2024-09-18T09:34:31Z');
    assert.equal('deletionTimestamp' in (out.metadata ?? {}), false);
    assert.equal('deletionGracePeriodSeconds' in (out.metadata ?? {}), false);
    assert.deepEqual(out.metadata?.labels, { app: 'web' });
    assert.deepEqual(out.data, { a: '1' });
    assert.equal(out.metadata?.name, 'cm');
    assert.deepEqual(input, frozen, 'the input object is not modified');
  });

  test('every object gets its own uid', async () => {
    const a = await plugin.admit(request(), configMap({ name: 'a' }));
    const b = await plugin.admit(request(), configMap({ name: 'a' }));
    assert.notEqual(a.metadata?.uid, b.metadata?.uid);
  });

  test('generateName gives a name only when there is none', async () => {
    const generated = await plugin.admit(request({ name: '' }), configMap({ generateName: 'settings-' }));
    assert.match(generated.metadata?.name ?? '', /^settings-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    assert.equal(generated.metadata?.generateName, 'settings-');
    const named = await plugin.admit(request(), configMap({ name: 'fixed', generateName: 'settings-' }));
    assert.equal(named.metadata?.name, 'fixed');
    const neither = await plugin.admit(request({ name: '' }), configMap({}));
    assert.equal(neither.metadata?.name, undefined);
  });

  test('a Namespace starts Active with the "kubernetes" finalizer (namespaceStrategy.PrepareForCreate)', async () => {
    const ns = request({ resource: 'namespaces', kind: 'Namespace', namespace: '', name: 'team-a' });
    const out = await plugin.admit(ns, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team-a' }, status: { phase: 'Terminating', conditions: [{ type: 'X' }] } });
    assert.deepEqual(out.status, { phase: 'Active' });
    assert.deepEqual(out.spec, { finalizers: ['kubernetes'] });
    const own = await plugin.admit(ns, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'b' }, spec: { finalizers: ['example.com/x'] } });
    assert.deepEqual(own.spec, { finalizers: ['example.com/x', 'kubernetes'] });
    const already = await plugin.admit(ns, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'c' }, spec: { finalizers: ['kubernetes'] } });
    assert.deepEqual(already.spec, { finalizers: ['kubernetes'] });
  });

  test('other kinds get no status', async () => {
    const out = await plugin.admit(request(), configMap({ name: 'cm' }));
    assert.equal('status' in out, false);
    assert.equal('spec' in out, false);
  });
});

describe('ObjectMetaValidation', () => {
  const plugin = new ObjectMetaValidation(registry);
  const nsRequest = request({ resource: 'namespaces', kind: 'Namespace', namespace: '' });

  test('handles creates and updates', () => {
    assert.equal(plugin.handles(request()), true);
    assert.equal(plugin.handles(request({ operation: 'UPDATE' })), true);
    assert.equal(plugin.handles(request({ operation: 'DELETE' })), false);
  });

  test('valid objects pass', async () => {
    await plugin.validate(request(), configMap({ name: 'my.config-1', namespace: 'default' }));
    await plugin.validate(nsRequest, { kind: 'Namespace', metadata: { name: 'team-a' } });
    await plugin.validate(request({ resource: 'nodes', kind: 'Node', namespace: '' }), { kind: 'Node', metadata: { name: 'worker-1.example.com' } });
  });

  test('an invalid name: 422 with kube-apiserver\'s message', async () => {
    const err = await rejection(() => plugin.validate(request(), configMap({ name: 'Bad_Name', namespace: 'default' })));
    assert.equal(err.code, 422);
    assert.equal(err.reason, 'Invalid');
    assert.equal(err.message, `ConfigMap "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name": ${SUBDOMAIN_MSG}`);
    assert.deepEqual(err.details, {
      name: 'Bad_Name',
      group: '',
      kind: 'ConfigMap',
      causes: [{ reason: 'FieldValueInvalid', message: `Invalid value: "Bad_Name": ${SUBDOMAIN_MSG}`, field: 'metadata.name' }],
    });
  });

  test('no finalizer may be added to an object being deleted (kube\'s ValidateNoNewFinalizers); removing or keeping them may', async () => {
    const old = configMap({ name: 'cm', namespace: 'default', deletionTimestamp: '2026-01-01T00:00:00Z', finalizers: ['example.com/a'] });
    const update = request({ operation: 'UPDATE', oldObject: old });
    const err = await rejection(() => plugin.validate(update, configMap({ ...old.metadata, finalizers: ['example.com/c', 'example.com/a', 'example.com/b'] })));
    assert.equal(err.code, 422);
    assert.equal(err.message, 'ConfigMap "cm" is invalid: metadata.finalizers: Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers []string{"example.com/b", "example.com/c"}');
    await plugin.validate(update, configMap({ ...old.metadata, finalizers: [] }));
    await plugin.validate(update, configMap({ ...old.metadata }));
    // Not being deleted: finalizers may be added.
    const live = configMap({ name: 'cm', namespace: 'default' });
    await plugin.validate(request({ operation: 'UPDATE', oldObject: live }), configMap({ name: 'cm', namespace: 'default', finalizers: ['example.com/a'] }));
  });

  test('a name over 253 characters', async () => {
    const name = 'a'.repeat(254);
    const err = await rejection(() => plugin.validate(request(), configMap({ name, namespace: 'default' })));
    assert.equal(err.message, `ConfigMap "${name}" is invalid: metadata.name: Invalid value: "${name}": must be no more than 253 characters`);
  });

  test('Namespace names are DNS labels: no dots', async () => {
    const err = await rejection(() => plugin.validate(nsRequest, { kind: 'Namespace', metadata: { name: 'team.a' } }));
    assert.equal(err.message, 'Namespace "team.a" is invalid: metadata.name: Invalid value: "team.a": must not contain dots');
    const upper = await rejection(() => plugin.validate(nsRequest, { kind: 'Namespace', metadata: { name: 'Team' } }));
    assert.equal(upper.message, `Namespace "Team" is invalid: metadata.name: Invalid value: "Team": ${LABEL_MSG}`);
  });

  test('no name and no generateName', async () => {
    const err = await rejection(() => plugin.validate(request(), configMap({ namespace: 'default' })));
    assert.equal(err.message, 'ConfigMap "" is invalid: metadata.name: Required value: name or generateName is required');
  });

  test('the namespace: required and a DNS label for namespaced kinds, forbidden for cluster-scoped ones', async () => {
    const missing = await rejection(() => plugin.validate(request(), configMap({ name: 'cm' })));
    assert.equal(missing.message, 'ConfigMap "cm" is invalid: metadata.namespace: Required value');
    const bad = await rejection(() => plugin.validate(request(), configMap({ name: 'cm', namespace: 'Prod' })));
    assert.equal(bad.message, `ConfigMap "cm" is invalid: metadata.namespace: Invalid value: "Prod": ${LABEL_MSG}`);
    const forbidden = await rejection(() => plugin.validate(nsRequest, { kind: 'Namespace', metadata: { name: 'x', namespace: 'default' } }));
    assert.equal(forbidden.message, 'Namespace "x" is invalid: metadata.namespace: Forbidden: not allowed on this type');
  });

  test('several problems at once: bracketed, in ValidateObjectMeta\'s order', async () => {
    const err = await rejection(() => plugin.validate(request(), configMap({ name: 'Bad_Name' })));
    assert.equal(
      err.message,
      `ConfigMap "Bad_Name" is invalid: [metadata.name: Invalid value: "Bad_Name": ${SUBDOMAIN_MSG}, metadata.namespace: Required value]`,
    );
    assert.deepEqual(
      err.details?.causes?.map((c) => c.field),
      ['metadata.name', 'metadata.namespace'],
    );
  });

  test('generateName is validated too, a trailing "-" allowed (maskTrailingDash)', async () => {
    await plugin.validate(request(), configMap({ generateName: 'settings-', name: 'settings-x2b4z', namespace: 'default' }));
    await plugin.validate(nsRequest, { kind: 'Namespace', metadata: { generateName: 'team-', name: 'team-x2b4z' } });
    const err = await rejection(() => plugin.validate(request(), configMap({ generateName: 'Bad_', name: 'Bad_x2b4z', namespace: 'default' })));
    assert.equal(
      err.message,
      `ConfigMap "Bad_x2b4z" is invalid: [metadata.generateName: Invalid value: "Bad_": ${SUBDOMAIN_MSG}, metadata.name: Invalid value: "Bad_x2b4z": ${SUBDOMAIN_MSG}]`,
    );
  });

  test('label keys and values: 422 on metadata.labels naming the key or value (ValidateLabels)', async () => {
    await plugin.validate(request(), configMap({ name: 'cm', namespace: 'default', labels: { app: 'web', 'example.com/tier': '', 'a.b_c-d': 'X.y_z-1' } }));
    const err = await rejection(() => plugin.validate(request(), configMap({ name: 'cm', namespace: 'default', labels: { 'bad key': 'ok', app: 'has space' } })));
    assert.equal(err.code, 422);
    assert.equal(err.reason, 'Invalid');
    assert.equal(
      err.message,
      `ConfigMap "cm" is invalid: [metadata.labels: Invalid value: "bad key": name part ${QUALIFIED_NAME_MSG}, metadata.labels: Invalid value: "has space": ${LABEL_VALUE_MSG}]`,
    );
    assert.deepEqual(err.details?.causes, [
      { reason: 'FieldValueInvalid', message: `Invalid value: "bad key": name part ${QUALIFIED_NAME_MSG}`, field: 'metadata.labels' },
      { reason: 'FieldValueInvalid', message: `Invalid value: "has space": ${LABEL_VALUE_MSG}`, field: 'metadata.labels' },
    ]);
    const long = await rejection(() => plugin.validate(request({ operation: 'UPDATE' }), configMap({ name: 'cm', namespace: 'default', labels: { v: 'x'.repeat(64) } })));
    assert.equal(long.message, `ConfigMap "cm" is invalid: metadata.labels: Invalid value: "${'x'.repeat(64)}": must be no more than 63 characters`);
    const prefix = await rejection(() => plugin.validate(request(), configMap({ name: 'cm', namespace: 'default', labels: { 'Example.com/x': 'y' } })));
    assert.equal(prefix.message, `ConfigMap "cm" is invalid: metadata.labels: Invalid value: "Example.com/x": prefix part ${SUBDOMAIN_MSG}`);
  });

  test('annotation keys regardless of case, and 256 KiB in all (ValidateAnnotations)', async () => {
    await plugin.validate(request(), configMap({ name: 'cm', namespace: 'default', annotations: { 'Example.COM/Some-Key': 'any value at all: ☃', note: '' } }));
    const err = await rejection(() => plugin.validate(request(), configMap({ name: 'cm', namespace: 'default', annotations: { 'a/b/c': 'v' } })));
    assert.equal(
      err.message,
      `ConfigMap "cm" is invalid: metadata.annotations: Invalid value: "a/b/c": a qualified name ${QUALIFIED_NAME_MSG} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`,
    );
    assert.deepEqual(err.details?.causes?.map((c) => [c.reason, c.field]), [['FieldValueInvalid', 'metadata.annotations']]);
    // Keys and values count together, in bytes: exactly 256 KiB passes, one byte more does not.
    const exact = { k: 'x'.repeat(256 * 1024 - 1) };
    await plugin.validate(request(), configMap({ name: 'cm', namespace: 'default', annotations: exact }));
    // 262,144 characters, but "é" is two bytes.
    const over = { k: 'x'.repeat(128 * 1024), note: `é${'x'.repeat(128 * 1024 - 6)}` };
    const big = await rejection(() => plugin.validate(request({ operation: 'UPDATE' }), configMap({ name: 'cm', namespace: 'default', annotations: over })));
    assert.equal(big.message, 'ConfigMap "cm" is invalid: metadata.annotations: Too long: may not be more than 262144 bytes');
    assert.deepEqual(big.details?.causes, [{ reason: 'FieldValueTooLong', message: 'Too long: may not be more than 262144 bytes', field: 'metadata.annotations' }]);
  });

  test('unknown resources and missing objects are not its business', async () => {
    await plugin.validate(request({ resource: 'widgets' }), configMap({ name: 'Bad_Name' }));
    await plugin.validate(request({ operation: 'UPDATE' }), undefined);
  });
});

/** A tiny in-memory stand-in for storage's get. */
class FakeNamespaces implements Pick<Storage, 'get'> {
  readonly calls: { ref: StorageRef; signal: AbortSignal | undefined }[] = [];
  readonly objects = new Map<string, KubeObject>();
  failure: StatusError | undefined;

  async get(ref: StorageRef, _options?: unknown, signal?: AbortSignal): Promise<KubeObject> {
    this.calls.push({ ref, signal });
    if (this.failure !== undefined) throw this.failure;
    const found = ref.resource === 'namespaces' ? this.objects.get(ref.name) : undefined;
    if (found === undefined) throw notFound({ group: ref.group, resource: ref.resource }, ref.name);
    return structuredClone(found);
  }

  add(name: string, status?: Record<string, unknown>, metadata: Record<string, unknown> = {}): void {
    const ns: KubeObject = { apiVersion: 'v1', kind: 'Namespace', metadata: { name, ...metadata } };
    if (status !== undefined) ns.status = status;
    this.objects.set(name, ns);
  }
}

describe('NamespaceLifecycle', () => {
  function setup(): { storage: FakeNamespaces; plugin: NamespaceLifecycle } {
    const storage = new FakeNamespaces();
    storage.add('default', { phase: 'Active' });
    storage.add('going', { phase: 'Terminating' });
    storage.add('deleted', { phase: 'Active' }, { deletionTimestamp: '2024-01-01T00:00:00Z' });
    return { storage, plugin: new NamespaceLifecycle(storage, registry) };
  }

  test('handles creates of namespaced resources in a namespace only', () => {
    const { plugin } = setup();
    assert.equal(plugin.handles(request()), true);
    assert.equal(plugin.handles(request({ operation: 'UPDATE' })), false);
    assert.equal(plugin.handles(request({ operation: 'DELETE' })), false);
    assert.equal(plugin.handles(request({ namespace: '' })), false);
    assert.equal(plugin.handles(request({ resource: 'namespaces', kind: 'Namespace', namespace: '' })), false);
    assert.equal(plugin.handles(request({ resource: 'nodes', kind: 'Node', namespace: 'default' })), false);
    assert.equal(plugin.handles(request({ resource: 'widgets' })), false);
  });

  test('an existing, active namespace: allowed; storage is asked for exactly that namespace', async () => {
    const { storage, plugin } = setup();
    const signal = new AbortController().signal;
    await plugin.validate(request(), configMap({ name: 'cm' }), signal);
    assert.deepEqual(storage.calls, [{ ref: { group: '', resource: 'namespaces', namespace: '', name: 'default' }, signal }]);
  });

  test('a missing namespace: 404 `namespaces "x" not found`', async () => {
    const { plugin } = setup();
    const err = await rejection(() => plugin.validate(request({ namespace: 'nope' }), configMap({ name: 'cm' })));
    assert.equal(err.code, 404);
    assert.equal(err.reason, 'NotFound');
    assert.equal(err.message, 'namespaces "nope" not found');
    assert.deepEqual(err.details, { name: 'nope', group: '', kind: 'namespaces' });
  });

  test('storage\'s own NotFound wording does not leak through', async () => {
    const { storage, plugin } = setup();
    storage.failure = new StatusError('NotFound', 'key /registry/namespaces/nope not found in etcd');
    const err = await rejection(() => plugin.validate(request({ namespace: 'nope' }), configMap({ name: 'cm' })));
    assert.equal(err.message, 'namespaces "nope" not found');
  });

  test('a terminating namespace: 403 with kube\'s message', async () => {
    const { plugin } = setup();
    for (const namespace of ['going', 'deleted']) {
      const err = await rejection(() => plugin.validate(request({ namespace }), configMap({ name: 'cm' })));
      assert.equal(err.code, 403);
      assert.equal(err.reason, 'Forbidden');
      assert.equal(err.message, `configmaps "cm" is forbidden: unable to create new content in namespace ${namespace} because it is being terminated`);
      assert.deepEqual(err.details, {
        name: 'cm',
        group: '',
        kind: 'configmaps',
        causes: [{ reason: 'NamespaceTerminating', message: `namespace ${namespace} is being terminated`, field: 'metadata.namespace' }],
      });
    }
  });

  test('a namespace stored with deletionTimestamp null (another writer\'s) is not terminating: null is Go\'s nil', async () => {
    const { storage, plugin } = setup();
    storage.add('nulled', { phase: 'Active' }, { deletionTimestamp: null });
    await plugin.validate(request({ namespace: 'nulled' }), configMap({ name: 'cm' }));
  });

  test('a terminating namespace and a name not known yet: admission.NewForbidden names the generateName (kube\'s mutating admission runs before the name is made)', async () => {
    const { plugin } = setup();
    const err = await rejection(() => plugin.validate(request({ namespace: 'going', name: '' }), configMap({ name: 'x-b4k9z', generateName: 'x-' })));
    assert.equal(err.message, 'configmaps "x-" is forbidden: unable to create new content in namespace going because it is being terminated');
    assert.equal(err.details?.name, 'x-');
  });

  test('without a namespace cache, every create reads its namespace from storage', async () => {
    const { storage, plugin } = setup();
    for (let i = 0; i < 3; i++) await plugin.validate(request(), configMap({ name: 'cm' }));
    assert.equal(storage.calls.length, 3);
  });

  test('creates of localsubjectaccessreviews are not checked: an answer about the namespace would leak it', () => {
    const { plugin } = setup();
    assert.equal(plugin.handles(request({ group: 'authorization.k8s.io', resource: 'localsubjectaccessreviews', kind: 'LocalSubjectAccessReview', namespace: 'nope' })), false);
  });

  test('other storage failures pass through unchanged', async () => {
    const { storage, plugin } = setup();
    const down = new StatusError('ServiceUnavailable', 'etcd is unavailable');
    storage.failure = down;
    assert.equal(await rejection(() => plugin.validate(request(), configMap({ name: 'cm' }))), down);
  });
});
