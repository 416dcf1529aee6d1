/**
 * Services with the real kubectl (1.27 and 1.33, the latter sending protobuf for its typed
 * commands) against the whole control plane: `kubectl create service` of every type, the
 * printService columns of `get svc` and `-o wide`, the `kubernetes` Service every cluster has,
 * kube's refusals of node ports and cluster IPs out of range or taken, and a cluster IP free
 * again once its Service is deleted.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { kubectlVersionsPlane } from '../support/kubectl.ts';

const VERSIONS = ['1.27', '1.33'] as const;
const plane = kubectlVersionsPlane('services', VERSIONS);

function table(output: string): string[][] {
  return output
    .trim()
    .split('\n')
    .map((line) => line.trim().split(/\s{2,}/));
}

/** An address of kube's default service range 10.96.0.0/12. */
const SERVICE_IP = /^10\.(9[6-9]|10[0-9]|11[01])\.\d{1,3}\.\d{1,3}$/;

describe('kubectl and Services', { skip: plane.skip }, () => {
  for (const version of VERSIONS) {
    test(`kubectl ${version}: create service clusterip and nodeport, get svc (-o wide), get svc kubernetes`, async () => {
      const kubectl = plane.kubectl(version);
      const v = version.replace('.', '-');
      const web = `web-${v}`;
      const np = `np-${v}`;

      let r = await kubectl(['create', 'service', 'clusterip', web, '--tcp=80:8080']);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.trim(), `service/${web} created`);
      r = await kubectl(['create', 'service', 'nodeport', np, '--tcp=443:8443']);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.trim(), `service/${np} created`);

      r = await kubectl(['create', 'service', 'loadbalancer', `lb-${v}`, '--tcp=80:8080']);
      assert.equal(r.code, 0, r.stderr);
      r = await kubectl(['create', 'service', 'externalname', `ext-${v}`, '--external-name=db.example.com']);
      assert.equal(r.code, 0, r.stderr);

      r = await kubectl(['get', 'svc', web, '-o', 'json']);
      assert.equal(r.code, 0, r.stderr);
      const svc = JSON.parse(r.stdout) as { spec: Record<string, unknown>; status: unknown };
      assert.match(String(svc.spec.clusterIP), SERVICE_IP);
      assert.deepEqual(svc.spec.clusterIPs, [svc.spec.clusterIP]);
      assert.deepEqual(svc.spec.ports, [{ name: '80-8080', port: 80, protocol: 'TCP', targetPort: 8080 }]);
      assert.deepEqual(svc.spec.selector, { app: web });
      assert.equal(svc.spec.type, 'ClusterIP');
      assert.equal(svc.spec.sessionAffinity, 'None');
      assert.equal(svc.spec.internalTrafficPolicy, 'Cluster');
      assert.equal(svc.spec.ipFamilyPolicy, 'SingleStack');
      assert.deepEqual(svc.spec.ipFamilies, ['IPv4']);
      assert.deepEqual(svc.status, { loadBalancer: {} });

      r = await kubectl(['get', 'svc']);
      assert.equal(r.code, 0, r.stderr);
      const rows = table(r.stdout);
      assert.deepEqual(rows[0], ['NAME', 'TYPE', 'CLUSTER-IP', 'EXTERNAL-IP', 'PORT(S)', 'AGE']);
      const byName = new Map(rows.slice(1).map((row) => [row[0], row]));
      assert.deepEqual(byName.get('kubernetes')?.slice(0, 5), ['kubernetes', 'ClusterIP', '10.96.0.1', '<none>', '443/TCP']);
      assert.deepEqual(byName.get(web)?.slice(0, 5), [web, 'ClusterIP', svc.spec.clusterIP, '<none>', '80/TCP']);
      const npRow = byName.get(np);
      assert.equal(npRow?.[1], 'NodePort');
      assert.match(npRow?.[2] ?? '', SERVICE_IP);
      assert.equal(npRow?.[3], '<none>');
      const nodePort = Number(/^443:(\d+)\/TCP$/.exec(npRow?.[4] ?? '')?.[1]);
      assert.ok(nodePort >= 30000 && nodePort <= 32767, npRow?.[4]);

      const lbRow = byName.get(`lb-${v}`);
      assert.deepEqual([lbRow?.[1], lbRow?.[3]], ['LoadBalancer', '<pending>']);
      assert.match(lbRow?.[4] ?? '', /^80:3\d{4}\/TCP$/);
      assert.deepEqual(byName.get(`ext-${v}`)?.slice(0, 5), [`ext-${v}`, 'ExternalName', '<none>', 'db.example.com', '<none>']);

      r = await kubectl(['get', 'svc', web, np, '-o', 'wide']);
      assert.equal(r.code, 0, r.stderr);
      const wide = table(r.stdout);
      assert.deepEqual(wide[0], ['NAME', 'TYPE', 'CLUSTER-IP', 'EXTERNAL-IP', 'PORT(S)', 'AGE', 'SELECTOR']);
      assert.equal(wide[1]?.[6], `app=${web}`);
      assert.equal(wide[2]?.[6], `app=${np}`);

      r = await kubectl(['get', 'svc', 'kubernetes', '-n', 'default', '--no-headers']);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(table(r.stdout)[0]?.slice(0, 5), ['kubernetes', 'ClusterIP', '10.96.0.1', '<none>', '443/TCP']);

      // kube's refusals, as kubectl prints them.
      r = await kubectl(['create', 'service', 'nodeport', `bad-${v}`, '--tcp=80:8080', '--node-port=8080']);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /spec\.ports\[0\]\.nodePort: Invalid value: 8080: provided port is not in the valid range\. The range of valid ports is 30000-32767/);
      r = await kubectl(['create', 'service', 'nodeport', `dup-${v}`, '--tcp=80:8080', `--node-port=${nodePort}`]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, new RegExp(`spec\\.ports\\[0\\]\\.nodePort: Invalid value: ${nodePort}: provided port is already allocated`));

      // A cluster IP asked for by name is free again once its Service is gone.
      const fixed = version === '1.27' ? '10.96.0.27' : '10.96.0.33';
      r = await kubectl(['create', 'service', 'clusterip', `fixed-${v}`, `--clusterip=${fixed}`, '--tcp=80']);
      assert.equal(r.code, 0, r.stderr);
      r = await kubectl(['create', 'service', 'clusterip', `taken-${v}`, `--clusterip=${fixed}`, '--tcp=80']);
      assert.equal(r.code, 1);
      assert.match(r.stderr, new RegExp(`failed to allocate IP ${fixed.replaceAll('.', '\\.')}: provided IP is already allocated`));
      r = await kubectl(['delete', 'svc', `fixed-${v}`]);
      assert.equal(r.code, 0, r.stderr);
      r = await kubectl(['create', 'service', 'clusterip', `taken-${v}`, `--clusterip=${fixed}`, '--tcp=80']);
      assert.equal(r.code, 0, r.stderr);
    });
  }
});
