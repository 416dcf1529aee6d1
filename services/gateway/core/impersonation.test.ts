import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { StatusError } from '../../../lib/errors.ts';
import type { Attributes, UserInfo } from '../../auth/api.ts';
import { impersonate, impersonationOf, MAX_IMPERSONATED_VALUES, rawHeaderPairs, splitServiceAccountUsername } from './impersonation.ts';

const requestor: UserInfo = { username: 'ops', uid: 'u1', groups: ['system:authenticated'] };

/** An authorize that allows everything and records what it was asked. */
function recording(): { asked: Attributes[]; authorize: (a: Attributes) => Promise<void> } {
  const asked: Attributes[] = [];
  return { asked, authorize: (a) => (asked.push(a), Promise.resolve()) };
}

describe('impersonationOf (kube buildImpersonationRequests)', () => {
  test('nothing asked without the headers', () => {
    assert.deepEqual(impersonationOf([['Authorization', 'Bearer x'], ['Accept', '*/*']]), { requests: [], groupsSpecified: false });
  });

  test('user, groups in order, extras percent-decoded and lower-cased, uid last', () => {
    const got = impersonationOf(
      rawHeaderPairs(['Impersonate-User', 'jane', 'Impersonate-Group', 'a', 'IMPERSONATE-GROUP', 'b, c', 'Impersonate-Extra-Example.Com%2FScopes', 'view', 'Impersonate-Uid', '42']),
    );
    assert.deepEqual(got, {
      groupsSpecified: true,
      requests: [
        { kind: 'User', name: 'jane' },
        { kind: 'Group', name: 'a' },
        { kind: 'Group', name: 'b, c' },
        { kind: 'UserExtra', key: 'example.com/scopes', value: 'view' },
        { kind: 'UID', uid: '42' },
      ],
    });
  });

  test('a service account username is asked as one; a malformed one as a user', () => {
    assert.deepEqual(splitServiceAccountUsername('system:serviceaccount:ns:sa'), { namespace: 'ns', name: 'sa' });
    for (const name of ['system:serviceaccount:ns', 'system:serviceaccount:ns:sa:x', 'system:serviceaccount:Bad_NS:sa', 'system:serviceaccount::sa', 'serviceaccount:ns:sa']) {
      assert.equal(splitServiceAccountUsername(name), undefined, name);
    }
    assert.deepEqual(impersonationOf([['impersonate-user', 'system:serviceaccount:ns:sa']]).requests, [{ kind: 'ServiceAccount', namespace: 'ns', name: 'sa' }]);
  });

  test('groups, extras or a uid without a user: kube\'s internal error, printing the references as Go does', () => {
    assert.throws(
      () => impersonationOf([['impersonate-group', 'g'], ['impersonate-extra-k', 'v'], ['impersonate-uid', '7']]),
      (err: unknown) =>
        err instanceof StatusError &&
        err.reason === 'InternalError' &&
        err.message === 'Internal error occurred: requested [{Group  g    } {UserExtra  v  authentication.k8s.io/v1  k} {UID  7  authentication.k8s.io/v1  }] without impersonating a user',
    );
  });

  test('at most 100 groups and extra values in all: beyond, a BadRequest before any check', () => {
    const values = (count: number, name: (i: number) => string): Array<[string, string]> => Array.from({ length: count }, (_, i) => [name(i), `v${i}`]);
    const user: Array<[string, string]> = [['impersonate-user', 'jane'], ['impersonate-uid', '1']];
    assert.equal(MAX_IMPERSONATED_VALUES, 100);
    // Exactly the limit, split between groups and extras (user and uid do not count): accepted.
    const atLimit = impersonationOf([...user, ...values(60, () => 'impersonate-group'), ...values(40, (i) => `impersonate-extra-k${i % 3}`)]);
    assert.equal(atLimit.requests.length, 102);
    for (const [groups, extras] of [
      [101, 0],
      [0, 101],
      [61, 40],
      [5000, 5000],
    ] as const) {
      assert.throws(
        () => impersonationOf([...user, ...values(groups, () => 'Impersonate-Group'), ...values(extras, () => 'Impersonate-Extra-Scopes')]),
        (err: unknown) => err instanceof StatusError && err.reason === 'BadRequest' && err.message === `Impersonate-Group, Impersonate-Extra-*: Too many: ${groups + extras}: must have at most 100 items`,
      );
    }
    // Without a user as well: the count is refused first, not echoed back in the internal error.
    assert.throws(
      () => impersonationOf(values(101, () => 'impersonate-group')),
      (err: unknown) => err instanceof StatusError && err.reason === 'BadRequest',
    );
  });
});

describe('impersonate', () => {
  test('the requestor itself when nothing is asked, with no check', async () => {
    const { asked, authorize } = recording();
    assert.equal(await impersonate(requestor, { requests: [], groupsSpecified: false }, authorize), requestor);
    assert.equal(asked.length, 0);
  });

  test('each part checked with the impersonate verb on kube\'s resources', async () => {
    const { asked, authorize } = recording();
    const headers: Array<[string, string]> = [
      ['impersonate-user', 'system:serviceaccount:ns:sa'],
      ['impersonate-group', 'g'],
      ['impersonate-extra-scopes', 's'],
      ['impersonate-uid', '9'],
    ];
    const user = await impersonate(requestor, impersonationOf(headers), authorize);
    assert.deepEqual(
      asked.map((a) => [a.verb, a.apiGroup, a.resource, a.subresource, a.namespace, a.name, a.resourceRequest, a.user.username]),
      [
        ['impersonate', '', 'serviceaccounts', '', 'ns', 'sa', true, 'ops'],
        ['impersonate', '', 'groups', '', '', 'g', true, 'ops'],
        ['impersonate', 'authentication.k8s.io', 'userextras', 'scopes', '', 's', true, 'ops'],
        ['impersonate', 'authentication.k8s.io', 'uids', '', '', '9', true, 'ops'],
      ],
    );
    // Groups were asked for: they are the user's, and system:authenticated is added.
    assert.deepEqual(user, { username: 'system:serviceaccount:ns:sa', uid: '9', groups: ['g', 'system:authenticated'], extra: { scopes: ['s'] } });
  });

  test('groups as kube adds them', async () => {
    const { authorize } = recording();
    const as = async (headers: Array<[string, string]>) => (await impersonate(requestor, impersonationOf(headers), authorize)).groups;
    assert.deepEqual(await as([['impersonate-user', 'jane']]), ['system:authenticated']);
    assert.deepEqual(await as([['impersonate-user', 'system:serviceaccount:ns:sa']]), ['system:serviceaccounts', 'system:serviceaccounts:ns', 'system:authenticated']);
    assert.deepEqual(await as([['impersonate-user', 'jane'], ['impersonate-group', 'system:unauthenticated']]), ['system:unauthenticated']);
    assert.deepEqual(await as([['impersonate-user', 'jane'], ['impersonate-group', 'system:authenticated']]), ['system:authenticated']);
    assert.deepEqual(await as([['impersonate-user', 'system:anonymous']]), ['system:unauthenticated']);
  });

  test('a refused part stops there: the user is not changed', async () => {
    const asked: Attributes[] = [];
    const authorize = (a: Attributes) => {
      asked.push(a);
      return a.resource === 'groups' ? Promise.reject(new StatusError('Forbidden', 'no')) : Promise.resolve();
    };
    const attempt = impersonate(requestor, impersonationOf([['impersonate-user', 'jane'], ['impersonate-group', 'g'], ['impersonate-uid', '1']]), authorize);
    await assert.rejects(attempt, (err: unknown) => err instanceof StatusError && err.reason === 'Forbidden');
    assert.deepEqual(asked.map((a) => a.resource), ['users', 'groups']);
  });
});
