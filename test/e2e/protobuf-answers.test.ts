/**
 * End to end: answers in Kubernetes protobuf (`application/vnd.kubernetes.protobuf`) for clients
 * that prefer it, against the whole control plane on real etcd and Redis.
 *
 * - A client of its own asks protobuf first (client-go's typed clients' Accept) for create, get,
 *   list, update, patch, delete and watch of ConfigMaps, Secrets, Services and Deployments, sends
 *   protobuf bodies, and reads every answer with protobufjs over the generated .proto files
 *   (nothing of the gateway's own codec): kube's envelope, the kind's message and its List,
 *   Status for errors and deletes, and length-prefixed WatchEvent frames for watches.
 * - Custom resources have no protobuf: JSON when JSON follows in Accept, 406 when it does not;
 *   Tables stay JSON.
 * - kubectl 1.33, whose typed commands ask protobuf (`create deployment|secret|service|
 *   configmap`, `describe`, `events -w`; `get -o yaml` asks JSON), decodes what it gets.
 * - @kubernetes/client-node (JSON) reads the same objects as before.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { request, type RequestOptions } from 'node:https';
import type { IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { AppsV1Api, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import protobuf from 'protobufjs';
import { startControlPlane, type ControlPlane } from '../../lib/local/control-plane.ts';
import { createKubectl, type Kubectl } from '../support/kubectl.ts';
import { createRestClient, type RestClient, type RestResponse } from '../support/rest-client.ts';

const PROTOBUF = 'application/vnd.kubernetes.protobuf';
/** What client-go's typed clients (and kubectl's typed commands) send. */
const PREFER_PROTOBUF = `${PROTOBUF},application/json`;
const NS = 'pb';
const KUBECTL_133 = '/usr/lib/google-cloud-sdk/bin/kubectl.1.33';

let dir: string;
let plane: ControlPlane;
let rest: RestClient;
let ca: string;
let token: string;

// ---- protobufjs over the generated files: a reader that shares nothing with the gateway ----

const PROTO_DIR = fileURLToPath(new URL('../../proto', import.meta.url));
const root = new protobuf.Root();
root.resolvePath = (_origin, target) => `${PROTO_DIR}/${target}`;
root.loadSync(['core.v1', 'apps.v1', 'autoscaling.v1', 'apiextensions.v1', 'meta.v1', 'runtime'].map((f) => `k8s/generated/${f}.proto`), { keepCase: true });

/** The message of an apiVersion and kind (the groups this test uses). */
function messageOf(apiVersion: string, kind: string): string {
  if (kind === 'Status') return 'k8s.io.apimachinery.pkg.apis.meta.v1.Status';
  if (apiVersion === 'apiextensions.k8s.io/v1') return `k8s.io.apiextensions_apiserver.pkg.apis.apiextensions.v1.${kind}`;
  const group = apiVersion === 'v1' ? 'core' : apiVersion.split('/')[0];
  return `k8s.io.api.${group}.v1.${kind}`;
}

interface Decoded {
  apiVersion: string;
  kind: string;
  object: Record<string, unknown>;
}

function toObject(message: string, bytes: Uint8Array): Record<string, unknown> {
  const type = root.lookupType(message);
  return type.toObject(type.decode(bytes), { longs: Number, bytes: String, defaults: false }) as Record<string, unknown>;
}

/** A body in kube's envelope: `k8s\0`, runtime.Unknown, the message of its TypeMeta. */
function unwrap(body: Buffer): Decoded {
  assert.equal(body.subarray(0, 4).toString('latin1'), 'k8s\x00', `not a protobuf body: ${body.subarray(0, 200).toString()}`);
  const unknown = toObject('k8s.io.apimachinery.pkg.runtime.Unknown', body.subarray(4)) as { typeMeta: { apiVersion: string; kind: string }; raw?: string };
  const { apiVersion, kind } = unknown.typeMeta;
  return { apiVersion, kind, object: toObject(messageOf(apiVersion, kind), Buffer.from(unknown.raw ?? '', 'base64')) };
}

/** An object as a protobuf request body, written by protobufjs. */
function body(apiVersion: string, kind: string, object: Record<string, unknown>): Buffer {
  const type = root.lookupType(messageOf(apiVersion, kind));
  const raw = type.encode(type.fromObject(object)).finish();
  const unknown = root.lookupType('k8s.io.apimachinery.pkg.runtime.Unknown');
  const envelope = unknown.encode(unknown.fromObject({ typeMeta: { apiVersion, kind }, raw, contentEncoding: '', contentType: '' })).finish();
  return Buffer.concat([Buffer.from('k8s\x00', 'latin1'), envelope]);
}

/** A request that prefers protobuf, with a protobuf body when `object` is given. */
function pb(method: string, path: string, object?: { apiVersion: string; kind: string; value: Record<string, unknown> }, accept = PREFER_PROTOBUF): Promise<RestResponse> {
  const headers: Record<string, string> = { Accept: accept };
  if (object === undefined) return rest.request(method, path, { headers });
  return rest.request(method, path, { headers: { ...headers, 'Content-Type': PROTOBUF }, body: body(object.apiVersion, object.kind, object.value) });
}

/** A protobuf answer: its status, and the object read from it. */
function answer(res: RestResponse, status: number): Decoded {
  assert.equal(res.status, status, res.body.subarray(0, 300).toString());
  assert.equal(res.headers['content-type'], PROTOBUF);
  return unwrap(res.body);
}

/** Watch events read from a protobuf stream: each frame's WatchEvent, its object unwrapped. */
async function* protobufWatch(path: string, signal: AbortSignal): AsyncGenerator<{ type: string } & Decoded> {
  const url = new URL(`https://${plane.addresses.https}${path}`);
  const options: RequestOptions = { host: url.hostname, port: url.port, path, ca, signal, headers: { Accept: PREFER_PROTOBUF, Authorization: `Bearer ${token}` } };
  const res = await new Promise<IncomingMessage>((resolve, reject) => request(options, resolve).on('error', reject).end());
  assert.equal(res.statusCode, 200);
  assert.equal(res.headers['content-type'], `${PROTOBUF};stream=watch`);
  let pending = Buffer.alloc(0);
  try {
    for await (const chunk of res) {
      pending = Buffer.concat([pending, chunk as Buffer]);
      while (pending.length >= 4 && pending.length >= 4 + pending.readUInt32BE(0)) {
        const length = pending.readUInt32BE(0);
        // a bare WatchEvent (no envelope), whose object is enveloped
        const event = toObject('k8s.io.apimachinery.pkg.apis.meta.v1.WatchEvent', pending.subarray(4, 4 + length)) as { type: string; object: { raw: string } };
        pending = pending.subarray(4 + length);
        yield { type: event.type, ...unwrap(Buffer.from(event.object.raw, 'base64')) };
      }
    }
  } catch (err) {
    if (!signal.aborted) throw err;
  }
}

const nameOf = (o: Record<string, unknown>): string => (o.metadata as { name: string }).name;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'e2e-protobuf-'));
  plane = await startControlPlane({ dataDir: dir, logDir: join(dir, 'logs') });
  ca = await readFile(join(dir, 'pki', 'ca.crt'), 'utf8');
  token = (await readFile(join(dir, 'tokens.csv'), 'utf8')).split(',')[0] ?? '';
  rest = createRestClient(`https://${plane.addresses.https}`, ca, token);
  const ns = await rest.request('POST', '/api/v1/namespaces', { body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } } });
  assert.equal(ns.status, 201, ns.body.toString());
});

after(async () => {
  await plane?.stop();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

describe('a client that prefers protobuf', () => {
  test('ConfigMap: create, get, list, update, patch, delete, each answered in protobuf', async () => {
    const base = `/api/v1/namespaces/${NS}/configmaps`;
    const created = answer(await pb('POST', base, { apiVersion: 'v1', kind: 'ConfigMap', value: { metadata: { name: 'cm1' }, data: { a: '1' } } }), 201);
    assert.deepEqual([created.apiVersion, created.kind], ['v1', 'ConfigMap']);
    const meta = created.object.metadata as { name: string; namespace: string; uid: string; resourceVersion: string; creationTimestamp: { seconds: number } };
    assert.deepEqual([meta.name, meta.namespace], ['cm1', NS]);
    assert.match(meta.uid, /^[0-9a-f-]{36}$/);
    assert.ok(meta.creationTimestamp.seconds > 1_600_000_000);
    assert.deepEqual(created.object.data, { a: '1' });

    const got = answer(await pb('GET', `${base}/cm1`), 200);
    assert.deepEqual(got.object, created.object);

    const list = answer(await pb('GET', base), 200);
    assert.deepEqual([list.apiVersion, list.kind], ['v1', 'ConfigMapList']);
    assert.match((list.object.metadata as { resourceVersion: string }).resourceVersion, /^\d+$/);
    assert.deepEqual((list.object.items as Record<string, unknown>[]).map(nameOf), ['cm1']);

    const updated = answer(
      await pb('PUT', `${base}/cm1`, { apiVersion: 'v1', kind: 'ConfigMap', value: { metadata: { name: 'cm1', resourceVersion: meta.resourceVersion }, data: { a: '2' } } }),
      200,
    );
    assert.deepEqual(updated.object.data, { a: '2' });

    const patched = answer(
      await rest.request('PATCH', `${base}/cm1`, { headers: { Accept: PREFER_PROTOBUF, 'Content-Type': 'application/merge-patch+json' }, body: { data: { b: '3' } } }),
      200,
    );
    assert.deepEqual(patched.object.data, { a: '2', b: '3' });

    const deleted = answer(await pb('DELETE', `${base}/cm1`), 200);
    assert.deepEqual([deleted.apiVersion, deleted.kind], ['v1', 'Status']);
    assert.equal(deleted.object.status, 'Success');
    assert.deepEqual((deleted.object.details as { name: string; kind: string }).name, 'cm1');
    assert.deepEqual((deleted.object.details as { name: string; kind: string }).kind, 'configmaps');
  });

  test('Secret, Service and Deployment: created and read back in protobuf, with the defaults and allocations the server applies', async () => {
    const secret = answer(
      await pb('POST', `/api/v1/namespaces/${NS}/secrets`, { apiVersion: 'v1', kind: 'Secret', value: { metadata: { name: 's1' }, data: { password: Buffer.from('hunter2') } } }),
      201,
    );
    assert.equal(secret.object.type, 'Opaque');
    assert.equal(Buffer.from((secret.object.data as { password: string }).password, 'base64').toString(), 'hunter2');
    assert.equal(answer(await pb('GET', `/api/v1/namespaces/${NS}/secrets/s1`), 200).object.type, 'Opaque');

    const service = answer(
      await pb('POST', `/api/v1/namespaces/${NS}/services`, {
        apiVersion: 'v1',
        kind: 'Service',
        value: { metadata: { name: 'web' }, spec: { selector: { app: 'web' }, ports: [{ port: 80, targetPort: { type: 0, intVal: 8080 } }] } },
      }),
      201,
    );
    const spec = service.object.spec as { type: string; clusterIP: string; clusterIPs: string[]; sessionAffinity: string; ports: { protocol: string; targetPort: { intVal: number } }[] };
    assert.equal(spec.type, 'ClusterIP');
    assert.match(spec.clusterIP, /^10\.(9[6-9]|10\d|11[01])\.\d+\.\d+$/);
    assert.deepEqual(spec.clusterIPs, [spec.clusterIP]);
    assert.equal(spec.sessionAffinity, 'None');
    assert.deepEqual([spec.ports[0]?.protocol, spec.ports[0]?.targetPort.intVal], ['TCP', 8080]);
    const services = answer(await pb('GET', `/api/v1/namespaces/${NS}/services`), 200);
    assert.equal(services.kind, 'ServiceList');
    assert.deepEqual((services.object.items as Record<string, unknown>[]).map(nameOf), ['web']);

    const labels = { app: 'web' };
    const deployment = answer(
      await pb('POST', `/apis/apps/v1/namespaces/${NS}/deployments`, {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        value: { metadata: { name: 'web' }, spec: { replicas: 2, selector: { matchLabels: labels }, template: { metadata: { labels }, spec: { containers: [{ name: 'nginx', image: 'nginx:1.27' }] } } } },
      }),
      201,
    );
    assert.deepEqual([deployment.apiVersion, deployment.kind], ['apps/v1', 'Deployment']);
    const dspec = deployment.object.spec as { replicas: number; revisionHistoryLimit: number; strategy: { type: string }; template: { spec: { restartPolicy: string; containers: { imagePullPolicy: string }[] } } };
    assert.equal(dspec.replicas, 2);
    assert.equal(dspec.revisionHistoryLimit, 10);
    assert.equal(dspec.strategy.type, 'RollingUpdate');
    assert.equal(dspec.template.spec.restartPolicy, 'Always');
    assert.equal(dspec.template.spec.containers[0]?.imagePullPolicy, 'IfNotPresent');
    const deployments = answer(await pb('GET', `/apis/apps/v1/namespaces/${NS}/deployments`), 200);
    assert.equal(deployments.kind, 'DeploymentList');
    assert.deepEqual((deployments.object.items as Record<string, unknown>[]).map(nameOf), ['web']);
    assert.deepEqual(answer(await pb('GET', `/apis/apps/v1/namespaces/${NS}/deployments/web`), 200).object, deployment.object);
  });

  test('subresources: /status in the kind\'s message, /scale as autoscaling/v1 Scale, read and written in protobuf', async () => {
    const status = answer(await pb('GET', `/apis/apps/v1/namespaces/${NS}/deployments/web/status`), 200);
    assert.deepEqual([status.apiVersion, status.kind, nameOf(status.object)], ['apps/v1', 'Deployment', 'web']);
    const scale = answer(await pb('GET', `/apis/apps/v1/namespaces/${NS}/deployments/web/scale`), 200);
    assert.deepEqual([scale.apiVersion, scale.kind], ['autoscaling/v1', 'Scale']);
    assert.equal((scale.object.spec as { replicas: number }).replicas, 2);
    const metadata = scale.object.metadata as { name: string; namespace: string; resourceVersion: string };
    const scaled = answer(
      await pb('PUT', `/apis/apps/v1/namespaces/${NS}/deployments/web/scale`, {
        apiVersion: 'autoscaling/v1',
        kind: 'Scale',
        value: { metadata: { name: 'web', namespace: NS, resourceVersion: metadata.resourceVersion }, spec: { replicas: 4 } },
      }),
      200,
    );
    assert.equal((scaled.object.spec as { replicas: number }).replicas, 4);
    const deployment = answer(await pb('GET', `/apis/apps/v1/namespaces/${NS}/deployments/web`), 200);
    assert.equal((deployment.object.spec as { replicas: number }).replicas, 4);
  });

  test('watch: length-prefixed WatchEvent frames, from the initial events and their bookmark to a delete', async () => {
    const base = `/api/v1/namespaces/${NS}/configmaps`;
    answer(await pb('POST', base, { apiVersion: 'v1', kind: 'ConfigMap', value: { metadata: { name: 'before' } } }), 201);
    const controller = new AbortController();
    const events = protobufWatch(`${base}?watch=1&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true`, controller.signal);
    const seen: string[] = [];
    const next = async (): Promise<{ type: string } & Decoded> => {
      const { value, done } = await events.next();
      assert.ok(!done && value !== undefined, 'the stream ended early');
      return value;
    };
    try {
      const initial = await next();
      assert.deepEqual([initial.type, initial.kind, nameOf(initial.object)], ['ADDED', 'ConfigMap', 'before']);
      const bookmark = await next();
      assert.deepEqual([bookmark.type, bookmark.kind], ['BOOKMARK', 'ConfigMap']);
      assert.deepEqual((bookmark.object.metadata as { annotations: Record<string, string> }).annotations, { 'k8s.io/initial-events-end': 'true' });

      answer(await pb('POST', base, { apiVersion: 'v1', kind: 'ConfigMap', value: { metadata: { name: 'during' }, data: { x: 'y' } } }), 201);
      await rest.request('PATCH', `${base}/during`, { headers: { 'Content-Type': 'application/merge-patch+json' }, body: { data: { x: 'z' } } });
      answer(await pb('DELETE', `${base}/during`), 200);
      for (let i = 0; i < 3; i++) {
        let event = await next();
        while (event.type === 'BOOKMARK') event = await next();
        seen.push(`${event.type} ${nameOf(event.object)} ${JSON.stringify(event.object.data)}`);
      }
    } finally {
      controller.abort();
      await events.return(undefined);
    }
    assert.deepEqual(seen, ['ADDED during {"x":"y"}', 'MODIFIED during {"x":"z"}', 'DELETED during {"x":"z"}']);
  });

  test('errors are meta/v1 Status in protobuf: 404, 409, 422 with its causes, 401', async () => {
    const missing = answer(await pb('GET', `/api/v1/namespaces/${NS}/configmaps/nope`), 404);
    assert.deepEqual([missing.kind, missing.object.reason, missing.object.code], ['Status', 'NotFound', 404]);
    assert.equal(missing.object.message, 'configmaps "nope" not found');

    const twice = answer(await pb('POST', `/api/v1/namespaces/${NS}/secrets`, { apiVersion: 'v1', kind: 'Secret', value: { metadata: { name: 's1' } } }), 409);
    assert.equal(twice.object.reason, 'AlreadyExists');

    const invalid = answer(
      await pb('POST', `/apis/apps/v1/namespaces/${NS}/deployments`, {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        value: { metadata: { name: 'bad' }, spec: { replicas: -1, selector: { matchLabels: { app: 'a' } }, template: { metadata: { labels: { app: 'a' } }, spec: { containers: [{ name: 'c', image: 'i' }] } } } },
      }),
      422,
    );
    assert.equal(invalid.object.reason, 'Invalid');
    const causes = (invalid.object.details as { causes: { field: string; reason: string }[] }).causes;
    assert.ok(causes.some((c) => c.field === 'spec.replicas' && c.reason === 'FieldValueInvalid'), JSON.stringify(causes));

    const unauthorized = await rest.request('GET', `/api/v1/namespaces/${NS}/configmaps`, { headers: { Accept: PREFER_PROTOBUF }, token: 'wrong' });
    assert.equal(answer(unauthorized, 401).object.reason, 'Unauthorized');
  });

  test('Tables stay JSON, and a client that puts JSON first gets JSON', async () => {
    const tableAccept = `application/json;as=Table;v=v1;g=meta.k8s.io,${PREFER_PROTOBUF}`;
    const table = await rest.request('GET', `/apis/apps/v1/namespaces/${NS}/deployments`, { headers: { Accept: tableAccept } });
    assert.equal(table.headers['content-type'], 'application/json');
    assert.equal(table.json().kind, 'Table');
    const json = await rest.request('GET', `/apis/apps/v1/namespaces/${NS}/deployments/web`, { headers: { Accept: `application/json,${PROTOBUF}` } });
    assert.equal(json.headers['content-type'], 'application/json');
    assert.equal(json.json().kind, 'Deployment');
  });
});

describe('custom resources have no protobuf', () => {
  const CRD = {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: 'gadgets.example.com' },
    spec: {
      group: 'example.com',
      scope: 'Namespaced',
      names: { plural: 'gadgets', singular: 'gadget', kind: 'Gadget', listKind: 'GadgetList' },
      versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } }],
    },
  };
  const base = `/apis/example.com/v1/namespaces/${NS}/gadgets`;

  before(async () => {
    const created = await rest.request('POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', { body: CRD });
    assert.equal(created.status, 201, created.body.toString());
    // Served once the gateway's registry has the kind: until then the path is 404.
    const deadline = Date.now() + 15_000;
    for (;;) {
      const res = await rest.request('POST', base, { body: { apiVersion: 'example.com/v1', kind: 'Gadget', metadata: { name: 'g1' }, size: 3 } });
      if (res.status === 201) break;
      assert.ok(res.status === 404 && Date.now() < deadline, `${res.status} ${res.body.toString()}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  });

  test('protobuf then JSON in Accept: JSON, for objects, lists and watches', async () => {
    const got = await pb('GET', `${base}/g1`);
    assert.equal(got.status, 200);
    assert.equal(got.headers['content-type'], 'application/json');
    assert.equal(got.json().size, 3);
    const list = await pb('GET', base);
    assert.equal(list.headers['content-type'], 'application/json');
    assert.equal(list.json().kind, 'GadgetList');
    const controller = new AbortController();
    const events = rest.watch(`${base}?watch=1&resourceVersion=0`, controller.signal, { Accept: PREFER_PROTOBUF });
    const first = await events.next();
    controller.abort();
    await events.return(undefined);
    assert.equal((first.value as { type: string }).type, 'ADDED');
  });

  test('protobuf alone: 406 listing the media types, as kube answers (the Status itself in protobuf, as kube negotiates errors)', async () => {
    const res = await pb('GET', `${base}/g1`, undefined, PROTOBUF);
    const status = answer(res, 406);
    assert.equal(status.object.reason, 'NotAcceptable');
    assert.equal(status.object.message, `only the following media types are accepted: application/json, application/yaml, ${PROTOBUF}`);
  });

  test('the CustomResourceDefinition itself is a built-in kind: protobuf', async () => {
    const crd = answer(await pb('GET', `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${CRD.metadata.name}`), 200);
    assert.deepEqual([crd.apiVersion, crd.kind], ['apiextensions.k8s.io/v1', 'CustomResourceDefinition']);
  });
});

describe('kubectl 1.33 typed commands, answered in protobuf', { skip: existsSync(KUBECTL_133) ? false : 'no kubectl 1.33' }, () => {
  let kubectl: Kubectl;
  before(() => {
    kubectl = createKubectl(plane.kubeconfig, KUBECTL_133);
  });

  /** Runs kubectl at -v=8 and says whether a response came back in protobuf. */
  async function run(args: string[]): Promise<{ stdout: string; protobufAnswer: boolean }> {
    const r = await kubectl([...args, '-v=8']);
    assert.equal(r.code, 0, r.stderr.split('\n').filter((l) => !l.includes('round_trippers') && !l.startsWith('\t')).join('\n'));
    return { stdout: r.stdout, protobufAnswer: /Content-Type: application\/vnd\.kubernetes\.protobuf/.test(r.stderr) };
  }

  test('create deployment, secret, service, configmap: created, and read back by describe and get', async () => {
    for (const [args, out] of [
      [['create', 'deployment', 'kd', '--image=nginx:1.27', '--replicas=2'], 'deployment.apps/kd created'],
      [['create', 'secret', 'generic', 'ks', '--from-literal=user=admin'], 'secret/ks created'],
      [['create', 'service', 'clusterip', 'ksvc', '--tcp=80:8080'], 'service/ksvc created'],
      [['create', 'configmap', 'kcm', '--from-literal=a=b'], 'configmap/kcm created'],
    ] as const) {
      const r = await run([...args, '-n', NS]);
      assert.equal(r.stdout.trim(), out);
      assert.ok(r.protobufAnswer, `${args.join(' ')}: the answer was not protobuf`);
    }
    const described = await run(['describe', 'deployment', 'kd', '-n', NS]);
    assert.ok(described.protobufAnswer);
    assert.match(described.stdout, /^Replicas:\s+2 desired/m);
    assert.match(described.stdout, /^StrategyType:\s+RollingUpdate$/m);
    assert.match(described.stdout, /Image:\s+nginx:1\.27/);

    const yaml = await kubectl(['get', 'service', 'ksvc', '-n', NS, '-o', 'jsonpath={.spec.type} {.spec.ports[0].targetPort}']);
    assert.equal(yaml.stdout, 'ClusterIP 8080');
  });

  test('an error answered in protobuf reaches the user in kube\'s words', async () => {
    const again = await kubectl(['create', 'deployment', 'kd', '--image=nginx', '-n', NS]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /deployments\.apps "kd" already exists/);
    const invalid = await kubectl(['create', 'deployment', 'neg', '--image=nginx', '--replicas=-1', '-n', NS]);
    assert.equal(invalid.code, 1);
    assert.match(invalid.stderr, /Deployment\.apps "neg" is invalid: spec\.replicas: Invalid value: -1: must be greater than or equal to 0/);
  });

  test('events -w: a typed watch, streamed in protobuf frames', async () => {
    const watcher = kubectl.spawn(['events', '-w', '-n', NS, '-v=8']);
    try {
      await watcher.waitFor((lines) => lines.some((l) => l.includes(`Content-Type: ${PROTOBUF};stream=watch`)), 30_000);
      const event = {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name: 'kd.1' },
        involvedObject: { kind: 'Deployment', name: 'kd', namespace: NS },
        reason: 'Testing',
        message: 'seen through a protobuf watch',
        type: 'Normal',
        firstTimestamp: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
        lastTimestamp: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
        count: 1,
      };
      const created = await rest.request('POST', `/api/v1/namespaces/${NS}/events`, { body: event });
      assert.equal(created.status, 201, created.body.toString());
      await watcher.waitFor((lines) => lines.some((l) => /Normal\s+Testing\s+Deployment\/kd\s+seen through a protobuf watch/.test(l)), 30_000);
    } finally {
      watcher.stop();
    }
  });
});

describe('@kubernetes/client-node (JSON) is unaffected', () => {
  test('reads and lists the objects written in protobuf, and writes its own', async () => {
    const kc = new KubeConfig();
    kc.loadFromFile(plane.kubeconfig);
    const core = kc.makeApiClient(CoreV1Api);
    const apps = kc.makeApiClient(AppsV1Api);
    const deployment = await apps.readNamespacedDeployment({ name: 'web', namespace: NS });
    assert.equal(deployment.spec?.replicas, 4);
    assert.equal(deployment.spec?.strategy?.type, 'RollingUpdate');
    const secret = await core.readNamespacedSecret({ name: 's1', namespace: NS });
    assert.equal(Buffer.from(secret.data?.password ?? '', 'base64').toString(), 'hunter2');
    const created = await core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: 'from-client-node' }, data: { k: 'v' } } });
    assert.equal(created.metadata?.name, 'from-client-node');
    const list = await core.listNamespacedConfigMap({ namespace: NS });
    assert.ok(list.items.some((c) => c.metadata?.name === 'from-client-node'));
  });
});
