/**
 * The gateway's audit log and access log, end to end: the control plane as separate processes
 * with the policy `make up` ships (examples/audit-policy.yaml: every change at Metadata,
 * RequestReceived omitted) and its spans exported to a receiver the test starts. kubectl
 * creates, replaces and deletes a ConfigMap, and is refused one create as an impersonated user.
 * The audit log records each change (audit.k8s.io/v1 Events: user, impersonated user, verb,
 * objectRef, code, the authorizer's decision) and no read; the access log has one line per
 * request, each with the trace id of a span the gateway exported and the audit id of its audit
 * event; the admin's token is in neither.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import type { AuditEvent } from '../../lib/audit/event.ts';
import { startControlPlane, type ControlPlane } from '../../lib/local/control-plane.ts';
import { waitUntil } from '../../lib/local/process.ts';
import { createKubectl, type Kubectl } from '../support/kubectl.ts';
import { startOtlpReceiver, type OtlpReceiver } from '../support/otlp-receiver.ts';

const POLICY = fileURLToPath(new URL('../../examples/audit-policy.yaml', import.meta.url));
const NS = 'audited';

let dir: string;
let auditPath: string;
let plane: ControlPlane | undefined;
let receiver: OtlpReceiver;
let kubectl: Kubectl;
let adminToken: string;
let adminName: string;
const lines: string[] = [];

async function auditEvents(): Promise<AuditEvent[]> {
  let text: string;
  try {
    text = await readFile(auditPath, 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as AuditEvent);
}

/** The gateway's access lines so far. */
function accessLines(): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const line of lines) {
    if (!line.startsWith('[gateway] {')) continue;
    const json = JSON.parse(line.slice('[gateway] '.length)) as Record<string, unknown>;
    if (json.component === 'access' && json.msg === 'request') out.push(json);
  }
  return out;
}

async function ok(args: string[], input?: string): Promise<string> {
  const r = await kubectl(args, input === undefined ? {} : { input });
  assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'e2e-audit-'));
  auditPath = join(dir, 'logs', 'audit.log');
  receiver = await startOtlpReceiver();
  plane = await startControlPlane({
    dataDir: dir,
    logDir: join(dir, 'logs'),
    env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_BSP_SCHEDULE_DELAY: '50' },
    flags: { gateway: [`--audit-policy-file=${POLICY}`, `--audit-log-path=${auditPath}`] },
    onLine: (line) => lines.push(line),
  });
  kubectl = createKubectl(plane.kubeconfig);
  const [token, name] = (await readFile(join(dir, 'tokens.csv'), 'utf8')).split('\n')[0]!.split(',');
  adminToken = token!;
  adminName = name!;
});

after(async () => {
  await plane?.stop();
  await receiver?.close();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

describe('audit and access logs', () => {
  let changes: AuditEvent[] = [];
  let denied: AuditEvent | undefined;

  before(async () => {
    await ok(['create', 'namespace', NS]);
    const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm-audited', namespace: NS }, data: { a: '1' } };
    await ok(['create', '-f', '-'], JSON.stringify(cm));
    const current = JSON.parse(await ok(['get', 'configmap', 'cm-audited', '-n', NS, '-o', 'json'])) as typeof cm;
    await ok(['replace', '-f', '-'], JSON.stringify({ ...current, data: { a: '2' } }));
    await ok(['delete', 'configmap', 'cm-audited', '-n', NS]);
    const refused = await kubectl(['create', 'configmap', 'cm-denied', '-n', NS, '--as', 'jane']);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /forbidden/);
    await waitUntil(
      'the audit events of the changes',
      async () => {
        const events = await auditEvents();
        changes = events.filter((e) => e.objectRef?.resource === 'configmaps' && e.objectRef.name === 'cm-audited');
        denied = events.find((e) => e.objectRef?.resource === 'configmaps' && e.responseStatus?.code === 403);
        return changes.length >= 3 && denied !== undefined;
      },
      { timeoutMs: 20_000 },
    );
  });

  test('create, update and delete are recorded at Metadata with user, verb, objectRef and code', () => {
    assert.deepEqual(
      changes.map((e) => [e.verb, e.responseStatus?.code]),
      [
        ['create', 201],
        ['update', 200],
        ['delete', 200],
      ],
    );
    for (const e of changes) {
      assert.equal(e.kind, 'Event');
      assert.equal(e.apiVersion, 'audit.k8s.io/v1');
      assert.equal(e.level, 'Metadata');
      assert.equal(e.stage, 'ResponseComplete');
      assert.equal(e.user.username, adminName);
      assert.ok(e.user.groups?.includes('system:masters'), JSON.stringify(e.user));
      assert.deepEqual({ ...e.objectRef, uid: undefined, resourceVersion: undefined }, { resource: 'configmaps', namespace: NS, name: 'cm-audited', apiVersion: 'v1', uid: undefined, resourceVersion: undefined });
      assert.deepEqual(e.sourceIPs, ['127.0.0.1']);
      assert.match(e.userAgent ?? '', /^kubectl/);
      assert.equal(e.annotations?.['authorization.k8s.io/decision'], 'allow');
      assert.match(e.requestReceivedTimestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
      assert.match(e.stageTimestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
      assert.ok(e.stageTimestamp >= e.requestReceivedTimestamp);
      assert.equal(e.requestObject, undefined, 'Metadata carries no object');
      assert.equal(e.responseObject, undefined);
    }
    assert.equal(new Set(changes.map((e) => e.auditID)).size, 3);
  });

  test('a refused impersonated create names both users, the decision and the Status', () => {
    assert.equal(denied!.verb, 'create');
    assert.equal(denied!.user.username, adminName);
    assert.equal(denied!.impersonatedUser?.username, 'jane');
    assert.equal(denied!.responseStatus?.reason, 'Forbidden');
    assert.match(denied!.responseStatus?.message ?? '', /User "jane" cannot create resource "configmaps"/);
    assert.equal(denied!.annotations?.['authorization.k8s.io/decision'], 'forbid');
  });

  test('the shipped policy records no reads and omits RequestReceived', async () => {
    const events = await auditEvents();
    assert.ok(events.length >= 5, `${events.length} events`);
    assert.deepEqual(
      events.filter((e) => ['get', 'list', 'watch'].includes(e.verb) || e.stage !== 'ResponseComplete'),
      [],
    );
  });

  test('the access log has one line per request with its trace and span ids and its audit id', async () => {
    let access: Record<string, unknown>[] = [];
    await waitUntil(
      'access lines of every audited request',
      async () => {
        access = accessLines();
        const ids = new Set(access.map((a) => a.audit_id));
        return [...changes, denied!].every((e) => ids.has(e.auditID));
      },
      { timeoutMs: 20_000 },
    );
    // Each audited request's line says the same of it.
    for (const e of [...changes, denied!]) {
      const line = access.find((a) => a.audit_id === e.auditID)!;
      assert.equal(line.level, 'info');
      assert.equal(line.service, 'gateway');
      assert.equal(line.verb, e.verb);
      assert.equal(line.code, e.responseStatus?.code);
      assert.equal(line.user, adminName);
      assert.equal(line.resource, 'configmaps');
      assert.equal(line.namespace, NS);
      assert.equal(line.protocol, 'rest');
      assert.equal(typeof line.latency_ms, 'number');
    }
    assert.equal(access.find((a) => a.audit_id === denied!.auditID)!.impersonated_user, 'jane');
    // Reads are in the access log (not the audit log): the get before the replace.
    assert.ok(access.some((a) => a.verb === 'get' && a.name === 'cm-audited' && a.code === 200));
    // One line per request: no audit id twice.
    assert.equal(new Set(access.map((a) => a.audit_id)).size, access.length);
    // Every line's trace id is a trace the gateway exported, with the line's span in it.
    for (const a of access) {
      assert.match(String(a.trace_id), /^[0-9a-f]{32}$/);
      assert.match(String(a.span_id), /^[0-9a-f]{16}$/);
    }
    await receiver.waitFor((spans) => access.every((a) => spans.some((s) => s.service === 'gateway' && s.traceId === a.trace_id && s.spanId === a.span_id)), 20_000);
  });

  test('no token in either log', async () => {
    assert.ok(adminToken.length >= 16);
    const audit = await readFile(auditPath, 'utf8');
    assert.ok(audit.length > 0);
    assert.ok(!audit.includes(adminToken), 'the admin token is in the audit log');
    const access = accessLines().map((a) => JSON.stringify(a));
    assert.ok(access.length > 0);
    assert.ok(!access.some((l) => l.includes(adminToken)), 'the admin token is in the access log');
    assert.ok(!lines.some((l) => l.includes(adminToken)), 'the admin token is in an output line');
  });
});
