/**
 * End to end with real kubectl 1.27 and 1.33: the platform kinds. kubectl's typed create
 * commands (role, rolebinding, clusterrole, clusterrolebinding, priorityclass,
 * poddisruptionbudget, ingress), `apply -f` of the others (NetworkPolicy, IngressClass,
 * StorageClass, HorizontalPodAutoscaler), and `get` (and `get -o wide`) with kube's columns;
 * the system priority classes every cluster has; a 422 as kubectl shows it.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { kubectlVersionsPlane, type Kubectl } from '../support/kubectl.ts';

const VERSIONS = ['1.27', '1.33'] as const;
const suite = kubectlVersionsPlane('platform', VERSIONS);

/** A `kubectl get` table: the header's column names and each row's cells (columns are two or more spaces apart). */
function table(stdout: string): { header: string[]; rows: string[][] } {
  const [first = '', ...rest] = stdout.trimEnd().split('\n');
  const split = (line: string) => line.trim().split(/\s{2,}/);
  return { header: split(first), rows: rest.map(split) };
}

const AGE = /^\d+s$/;

for (const version of VERSIONS) {
  describe(`kubectl ${version}: platform kinds`, { skip: suite.skip }, () => {
    let kubectl: Kubectl;
    const v = version.replace('.', '-');
    /** Runs kubectl, expecting success; its stdout. */
    const ok = async (args: string[], input?: string): Promise<string> => {
      const r = await kubectl(args, input === undefined ? {} : { input });
      assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
      return r.stdout;
    };
    const get = async (...args: string[]) => table(await ok(['get', ...args]));

    before(() => {
      kubectl = suite.kubectl(version);
    });

    test('create role, rolebinding, clusterrole, clusterrolebinding; get with their columns', async () => {
      assert.equal((await ok(['create', 'role', `reader-${v}`, '--verb=get,list', '--resource=configmaps'])).trim(), `role.rbac.authorization.k8s.io/reader-${v} created`);
      assert.equal(
        (await ok(['create', 'rolebinding', `readers-${v}`, `--role=reader-${v}`, '--user=alice', '--user=bob', '--group=devs', '--serviceaccount=default:bot'])).trim(),
        `rolebinding.rbac.authorization.k8s.io/readers-${v} created`,
      );
      assert.equal((await ok(['create', 'clusterrole', `health-${v}`, '--verb=get', '--non-resource-url=/healthz'])).trim(), `clusterrole.rbac.authorization.k8s.io/health-${v} created`);
      assert.equal(
        (await ok(['create', 'clusterrolebinding', `health-${v}`, `--clusterrole=health-${v}`, '--group=system:authenticated'])).trim(),
        `clusterrolebinding.rbac.authorization.k8s.io/health-${v} created`,
      );

      const roles = await get('role', `reader-${v}`);
      assert.deepEqual(roles.header, ['NAME', 'CREATED AT']);
      assert.equal(roles.rows[0]?.[0], `reader-${v}`);
      assert.match(roles.rows[0]?.[1] ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      const role = JSON.parse(await ok(['get', 'role', `reader-${v}`, '-o', 'json'])) as { rules: unknown };
      assert.deepEqual(role.rules, [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list'] }]);

      const bindings = await get('rolebinding', `readers-${v}`);
      assert.deepEqual(bindings.header, ['NAME', 'ROLE', 'AGE']);
      assert.deepEqual(bindings.rows[0]?.slice(0, 2), [`readers-${v}`, `Role/reader-${v}`]);
      assert.match(bindings.rows[0]?.[2] ?? '', AGE);
      const wide = await get('rolebinding', `readers-${v}`, '-o', 'wide');
      assert.deepEqual(wide.header, ['NAME', 'ROLE', 'AGE', 'USERS', 'GROUPS', 'SERVICEACCOUNTS']);
      assert.deepEqual(wide.rows[0]?.slice(3), ['alice, bob', 'devs', 'default/bot']);

      const clusterRoles = await get('clusterrole', `health-${v}`);
      assert.deepEqual(clusterRoles.header, ['NAME', 'CREATED AT']);
      const clusterRole = JSON.parse(await ok(['get', 'clusterrole', `health-${v}`, '-o', 'json'])) as { rules: unknown };
      assert.deepEqual(clusterRole.rules, [{ nonResourceURLs: ['/healthz'], verbs: ['get'] }]);
      const clusterBindings = await get('clusterrolebinding', `health-${v}`, '-o', 'wide');
      assert.deepEqual(clusterBindings.header, ['NAME', 'ROLE', 'AGE', 'USERS', 'GROUPS', 'SERVICEACCOUNTS']);
      assert.deepEqual([clusterBindings.rows[0]?.[1], clusterBindings.rows[0]?.[3]], [`ClusterRole/health-${v}`, 'system:authenticated']);
    });

    test('a roleRef cannot change: kubectl shows kube\'s 422', async () => {
      await ok(['create', 'rolebinding', `fixed-${v}`, '--clusterrole=view', '--user=carol']);
      const binding = JSON.parse(await ok(['get', 'rolebinding', `fixed-${v}`, '-o', 'json'])) as { roleRef: Record<string, string> };
      assert.deepEqual(binding.roleRef, { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' });
      const changed = await kubectl(['patch', 'rolebinding', `fixed-${v}`, '--type=merge', '-p', '{"roleRef":{"name":"edit"}}']);
      assert.notEqual(changed.code, 0);
      assert.match(
        changed.stderr,
        new RegExp(`The RoleBinding "fixed-${v}" is invalid: roleRef: Invalid value: .*"Name":"edit".*: cannot change roleRef`),
      );
    });

    test('create priorityclass; get lists it beside the system classes', async () => {
      assert.equal(
        (await ok(['create', 'priorityclass', `high-${v}`, '--value=1000', '--description=important', '--preemption-policy=Never'])).trim(),
        `priorityclass.scheduling.k8s.io/high-${v} created`,
      );
      const classes = await get('priorityclass');
      assert.deepEqual(classes.header, ['NAME', 'VALUE', 'GLOBAL-DEFAULT', 'AGE', 'PREEMPTIONPOLICY']);
      const byName = new Map(classes.rows.map((r) => [r[0], r]));
      assert.deepEqual(byName.get(`high-${v}`)?.slice(0, 3), [`high-${v}`, '1000', 'false']);
      assert.equal(byName.get(`high-${v}`)?.[4], 'Never');
      assert.deepEqual(byName.get('system-cluster-critical')?.slice(0, 3), ['system-cluster-critical', '2000000000', 'false']);
      assert.deepEqual(byName.get('system-node-critical')?.slice(0, 3), ['system-node-critical', '2000001000', 'false']);
      assert.equal(byName.get('system-node-critical')?.[4], 'PreemptLowerPriority');
      const refused = await kubectl(['create', 'priorityclass', `system-${v}`, '--value=1']);
      assert.notEqual(refused.code, 0);
      assert.match(
        refused.stderr,
        new RegExp(
          `failed to create priorityclass: PriorityClass.scheduling.k8s.io "system-${v}" is invalid: metadata.name: Forbidden: priority class names with 'system-' prefix are reserved for system use only. error: system-${v} is not a known system priority class`,
        ),
      );
    });

    test('create poddisruptionbudget; get shows its bounds', async () => {
      assert.equal((await ok(['create', 'poddisruptionbudget', `web-${v}`, '--selector=app=web', '--min-available=50%'])).trim(), `poddisruptionbudget.policy/web-${v} created`);
      await ok(['create', 'pdb', `db-${v}`, '--selector=app=db', '--max-unavailable=1']);
      const budgets = await get('pdb', `web-${v}`, `db-${v}`);
      assert.deepEqual(budgets.header, ['NAME', 'MIN AVAILABLE', 'MAX UNAVAILABLE', 'ALLOWED DISRUPTIONS', 'AGE']);
      assert.deepEqual(
        budgets.rows.map((r) => r.slice(0, 4)),
        [
          [`web-${v}`, '50%', 'N/A', '0'],
          [`db-${v}`, 'N/A', '1', '0'],
        ],
      );
    });

    test('create ingress; get shows class, hosts and ports', async () => {
      assert.equal(
        (await ok(['create', 'ingress', `web-${v}`, '--class=nginx', '--rule=foo.example.com/api*=api:80,tls=web-tls', '--rule=bar.example.com/=web:http'])).trim(),
        `ingress.networking.k8s.io/web-${v} created`,
      );
      const ingresses = await get('ingress', `web-${v}`);
      assert.deepEqual(ingresses.header, ['NAME', 'CLASS', 'HOSTS', 'ADDRESS', 'PORTS', 'AGE']);
      // ADDRESS is empty until a controller reports one, so the row has one cell less.
      assert.deepEqual(ingresses.rows[0]?.slice(0, 4), [`web-${v}`, 'nginx', 'foo.example.com,bar.example.com', '80, 443']);
      const ingress = JSON.parse(await ok(['get', 'ingress', `web-${v}`, '-o', 'json'])) as { spec: { rules: { http: { paths: { pathType: string }[] } }[] } };
      assert.deepEqual(
        ingress.spec.rules.map((r) => r.http.paths.map((p) => p.pathType)),
        [['Prefix'], ['Exact']],
      );
    });

    test('apply -f of NetworkPolicy, IngressClass, StorageClass, HorizontalPodAutoscaler; get with kube\'s columns and defaults', async () => {
      const manifest = [
        { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: `db-${v}` }, spec: { podSelector: { matchLabels: { app: 'db' } }, egress: [{ ports: [{ port: 5432 }] }] } },
        { apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', metadata: { name: `nginx-${v}` }, spec: { controller: 'k8s.io/ingress-nginx', parameters: { apiGroup: 'k8s.example.com', kind: 'Params', name: 'p' } } },
        {
          apiVersion: 'storage.k8s.io/v1',
          kind: 'StorageClass',
          metadata: { name: `fast-${v}`, annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } },
          provisioner: 'example.com/ssd',
          allowVolumeExpansion: true,
        },
        {
          apiVersion: 'autoscaling/v2',
          kind: 'HorizontalPodAutoscaler',
          metadata: { name: `web-${v}` },
          spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, maxReplicas: 5 },
        },
      ];
      const applied = await ok(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: manifest }));
      assert.match(applied, new RegExp(`horizontalpodautoscaler.autoscaling/web-${v} created`));

      const policies = await get('netpol', `db-${v}`);
      assert.deepEqual(policies.header, ['NAME', 'POD-SELECTOR', 'AGE']);
      assert.deepEqual(policies.rows[0]?.slice(0, 2), [`db-${v}`, 'app=db']);
      const policy = JSON.parse(await ok(['get', 'networkpolicy', `db-${v}`, '-o', 'json'])) as { spec: Record<string, unknown> };
      assert.deepEqual(policy.spec.policyTypes, ['Ingress', 'Egress']);
      assert.deepEqual(policy.spec.egress, [{ ports: [{ port: 5432, protocol: 'TCP' }] }]);

      const classes = await get('ingressclass', `nginx-${v}`);
      assert.deepEqual(classes.header, ['NAME', 'CONTROLLER', 'PARAMETERS', 'AGE']);
      assert.deepEqual(classes.rows[0]?.slice(0, 3), [`nginx-${v}`, 'k8s.io/ingress-nginx', 'Params.k8s.example.com/p']);

      const storage = await get('sc', `fast-${v}`);
      assert.deepEqual(storage.header, ['NAME', 'PROVISIONER', 'RECLAIMPOLICY', 'VOLUMEBINDINGMODE', 'ALLOWVOLUMEEXPANSION', 'AGE']);
      assert.deepEqual(storage.rows[0]?.slice(0, 5), [`fast-${v} (default)`, 'example.com/ssd', 'Delete', 'Immediate', 'true']);

      const autoscalers = await get('hpa', `web-${v}`);
      assert.deepEqual(autoscalers.header, ['NAME', 'REFERENCE', 'TARGETS', 'MINPODS', 'MAXPODS', 'REPLICAS', 'AGE']);
      assert.deepEqual(autoscalers.rows[0]?.slice(0, 6), [`web-${v}`, 'Deployment/web', 'cpu: <unknown>/80%', '1', '5', '0']);

      // A second apply of the same manifest finds nothing to change: the defaults are the server's.
      const again = await ok(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: manifest }));
      assert.match(again, new RegExp(`storageclass.storage.k8s.io/fast-${v} unchanged`));
      assert.match(again, new RegExp(`horizontalpodautoscaler.autoscaling/web-${v} unchanged`));
    });
  });
}
