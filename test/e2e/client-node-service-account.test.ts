/**
 * The pod-less service-account flow of a program, with `@kubernetes/client-node` against the
 * whole control plane: an administrator creates a ServiceAccount, a Role and a RoleBinding and
 * requests a token (TokenRequest); a client configured with that token alone lists what the
 * Role allows and is refused, with kube's 403 Status word for word, what it does not; taking the
 * binding away takes the right away within a second or so.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  ApiException,
  AuthenticationV1Api,
  CoreV1Api,
  KubeConfig,
  RbacAuthorizationV1Api,
  type V1Status,
} from '@kubernetes/client-node';
import { startControlPlane, type ControlPlane } from '../../lib/local/control-plane.ts';

const NS = 'robots';
const SA = 'reader';
const USER = `system:serviceaccount:${NS}:${SA}`;

/** kube's Forbidden Status of a request with no object name. */
function forbidden(verb: string, resource: string, where: string): V1Status {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: `${resource} is forbidden: User "${USER}" cannot ${verb} resource "${resource}" in API group "" ${where}`,
    reason: 'Forbidden',
    details: { kind: resource },
    code: 403,
  };
}

/** The Status a call was refused with (client-node gives the body as the server's text). */
async function refusal(call: Promise<unknown>): Promise<{ code: number; status: V1Status }> {
  try {
    await call;
  } catch (err) {
    assert.ok(err instanceof ApiException, String(err));
    const body = typeof err.body === 'string' ? (JSON.parse(err.body) as V1Status) : (err.body as V1Status);
    return { code: err.code, status: body };
  }
  assert.fail('expected a refusal');
}

describe('a ServiceAccount without a pod, through @kubernetes/client-node', () => {
  let dir: string;
  let plane: ControlPlane;
  let admin: KubeConfig;
  let token: string;
  let robot: KubeConfig;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'e2e-client-node-sa-'));
    plane = await startControlPlane({ dataDir: dir, logDir: join(dir, 'logs') });
    admin = new KubeConfig();
    admin.loadFromFile(plane.kubeconfig);
  });
  after(async () => {
    await plane?.stop();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  test('the administrator creates the account, a Role and a RoleBinding, and requests a token', async () => {
    const core = admin.makeApiClient(CoreV1Api);
    const rbac = admin.makeApiClient(RbacAuthorizationV1Api);
    await core.createNamespace({ body: { metadata: { name: NS } } });
    const account = await core.createNamespacedServiceAccount({ namespace: NS, body: { metadata: { name: SA } } });
    await rbac.createNamespacedRole({
      namespace: NS,
      body: { metadata: { name: 'configmap-reader' }, rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list', 'watch'] }] },
    });
    await rbac.createNamespacedRoleBinding({
      namespace: NS,
      body: {
        metadata: { name: 'reader-reads-configmaps' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'configmap-reader' },
        subjects: [{ kind: 'ServiceAccount', name: SA, namespace: NS }],
      },
    });
    await core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: 'settings' }, data: { mode: 'fast' } } });

    const before = Date.now();
    const answer = await core.createNamespacedServiceAccountToken({ name: SA, namespace: NS, body: { spec: { audiences: [], expirationSeconds: 600 } } });
    token = answer.status?.token ?? '';
    assert.notEqual(token, '');
    const expires = answer.status?.expirationTimestamp;
    assert.ok(expires instanceof Date, `expirationTimestamp ${String(expires)}`);
    const lifetime = expires.getTime() - before;
    assert.ok(lifetime > 595_000 && lifetime < 605_000, `lifetime ${lifetime} ms`);
    // kube's claims: the account's user name, the API's audience, the account's uid.
    const claims = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as {
      sub: string;
      aud: string[];
      'kubernetes.io': { namespace: string; serviceaccount: { name: string; uid: string } };
    };
    assert.equal(claims.sub, USER);
    assert.deepEqual(claims.aud, ['https://kubernetes.default.svc.cluster.local']);
    assert.deepEqual(claims['kubernetes.io'], { namespace: NS, serviceaccount: { name: SA, uid: account.metadata?.uid } });

    // A client that has the cluster and the token, nothing else.
    const cluster = admin.getCurrentCluster();
    assert.ok(cluster !== null);
    robot = new KubeConfig();
    robot.loadFromOptions({
      clusters: [cluster],
      users: [{ name: SA, token }],
      contexts: [{ name: SA, cluster: cluster.name, user: SA, namespace: NS }],
      currentContext: SA,
    });
  });

  test('the token is the account: SelfSubjectReview names it and its groups', async () => {
    const review = await robot.makeApiClient(AuthenticationV1Api).createSelfSubjectReview({ body: {} });
    const user = review.status?.userInfo;
    assert.equal(user?.username, USER);
    assert.deepEqual(user?.groups, ['system:serviceaccounts', `system:serviceaccounts:${NS}`, 'system:authenticated']);
    assert.match(user?.extra?.['authentication.kubernetes.io/credential-id']?.[0] ?? '', /^JTI=[0-9a-f-]{36}$/);
  });

  test('it lists and reads what the Role allows', async () => {
    const core = robot.makeApiClient(CoreV1Api);
    const list = await core.listNamespacedConfigMap({ namespace: NS });
    assert.ok(list.items.some((c) => c.metadata?.name === 'settings'), JSON.stringify(list.items.map((c) => c.metadata?.name)));
    assert.ok(list.items.every((c) => c.metadata?.namespace === NS));
    const read = await core.readNamespacedConfigMap({ name: 'settings', namespace: NS });
    assert.deepEqual(read.data, { mode: 'fast' });
  });

  test('it is refused, 403 with kube\'s Status, what the Role does not allow', async () => {
    const core = robot.makeApiClient(CoreV1Api);
    const secrets = await refusal(core.listNamespacedSecret({ namespace: NS }));
    assert.equal(secrets.code, 403);
    assert.deepEqual(secrets.status, forbidden('list', 'secrets', `in the namespace "${NS}"`));

    const create = await refusal(core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: 'mine' } } }));
    assert.equal(create.code, 403);
    assert.deepEqual(create.status, forbidden('create', 'configmaps', `in the namespace "${NS}"`));

    const elsewhere = await refusal(core.listNamespacedConfigMap({ namespace: 'default' }));
    assert.deepEqual(elsewhere.status, forbidden('list', 'configmaps', 'in the namespace "default"'));

    const namespaces = await refusal(core.listNamespace());
    assert.deepEqual(namespaces.status, forbidden('list', 'namespaces', 'at the cluster scope'));

    const deletion = await refusal(core.deleteNamespacedConfigMap({ name: 'settings', namespace: NS }));
    assert.deepEqual(deletion.status, {
      ...forbidden('delete', 'configmaps', `in the namespace "${NS}"`),
      message: `configmaps "settings" is forbidden: User "${USER}" cannot delete resource "configmaps" in API group "" in the namespace "${NS}"`,
      details: { name: 'settings', kind: 'configmaps' },
    });
  });

  test('without the RoleBinding the same list is refused within a second or so', async () => {
    await admin.makeApiClient(RbacAuthorizationV1Api).deleteNamespacedRoleBinding({ name: 'reader-reads-configmaps', namespace: NS });
    const core = robot.makeApiClient(CoreV1Api);
    const deadline = Date.now() + 5_000;
    for (;;) {
      try {
        await core.listNamespacedConfigMap({ namespace: NS });
      } catch (err) {
        const { code, status } = await refusal(Promise.reject(err));
        assert.equal(code, 403);
        assert.deepEqual(status, forbidden('list', 'configmaps', `in the namespace "${NS}"`));
        break;
      }
      assert.ok(Date.now() < deadline, 'still allowed 5 s after the RoleBinding was deleted');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  });
});
