/**
 * make up's settings from the environment: defaults, empty as unset, GRPC_TLS.
 */
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { test } from 'node:test';
import { ConfigError } from '../config.ts';
import { makeUpSettings } from './make-up-config.ts';

test('defaults: ./.data, etcd and Redis started here, the documented ports, plaintext', () => {
  assert.deepEqual(makeUpSettings({ ETCD_ENDPOINTS: '', REDIS_URL: ' ' }), {
    dataDir: resolve('.data'),
    etcdEndpoints: undefined,
    etcdMembers: 1,
    redisUrl: undefined,
    addresses: {
      https: '127.0.0.1:6443',
      gateway: '127.0.0.1:50051',
      storage: '127.0.0.1:50061',
      auth: '127.0.0.1:50062',
      admission: '127.0.0.1:50063',
      watch: '127.0.0.1:50064',
    },
    metrics: { gateway: '127.0.0.1:9090', storage: '127.0.0.1:9091', auth: '127.0.0.1:9092', admission: '127.0.0.1:9093', watch: '127.0.0.1:9094' },
    generateTls: false,
    audit: { policyFile: resolve('examples/audit-policy.yaml'), logPath: resolve('.data/logs/audit.log') },
    replicas: 1,
  });
});

test('the audit log goes under DATA_DIR unless AUDIT_LOG_PATH says where; AUDIT_POLICY_FILE=none turns it off', () => {
  assert.deepEqual(makeUpSettings({ DATA_DIR: '/tmp/x' }).audit, { policyFile: resolve('examples/audit-policy.yaml'), logPath: '/tmp/x/logs/audit.log' });
  assert.deepEqual(makeUpSettings({ AUDIT_POLICY_FILE: '/etc/p.yaml', AUDIT_LOG_PATH: 'audit/a.log' }).audit, { policyFile: '/etc/p.yaml', logPath: resolve('audit/a.log') });
  assert.equal(makeUpSettings({ AUDIT_POLICY_FILE: 'none' }).audit, undefined);
});

test('REPLICAS: processes per service, a whole number of at least 1', () => {
  assert.equal(makeUpSettings({ REPLICAS: '2' }).replicas, 2);
  for (const bad of ['0', '1.5', 'two']) {
    assert.throws(() => makeUpSettings({ REPLICAS: bad }), (err: unknown) => err instanceof ConfigError && err.message === `REPLICAS must be a whole number of at least 1, got "${bad}"`, bad);
  }
});

test('ETCD_MEMBERS: members of the etcd started here, a whole number of at least 1', () => {
  assert.equal(makeUpSettings({ ETCD_MEMBERS: '3' }).etcdMembers, 3);
  for (const bad of ['0', '2.5', 'three']) {
    assert.throws(() => makeUpSettings({ ETCD_MEMBERS: bad }), (err: unknown) => err instanceof ConfigError && err.message === `ETCD_MEMBERS must be a whole number of at least 1, got "${bad}"`, bad);
  }
});

test('GRPC_TLS=1 makes certificates unless GRPC_TLS_*_FILE name some; anything but 0/1/true/false is refused', () => {
  assert.equal(makeUpSettings({ GRPC_TLS: '1' }).generateTls, true);
  assert.equal(makeUpSettings({ GRPC_TLS: 'TRUE' }).generateTls, true);
  assert.equal(makeUpSettings({ GRPC_TLS: 'false' }).generateTls, false);
  assert.equal(makeUpSettings({ GRPC_TLS: '1', GRPC_TLS_CA_FILE: '/ca.crt', GRPC_TLS_CERT_FILE: '/t.crt', GRPC_TLS_KEY_FILE: '/t.key' }).generateTls, false);
  assert.throws(() => makeUpSettings({ GRPC_TLS: 'yes' }), (err: unknown) => err instanceof ConfigError && /GRPC_TLS must be 1, true, 0 or false, got "yes"/.test(err.message));
});

test('given variables win', () => {
  const s = makeUpSettings({ DATA_DIR: '/tmp/x', ETCD_ENDPOINTS: 'http://e:2379', STORAGE_LISTEN: '0.0.0.0:1' });
  assert.equal(s.dataDir, '/tmp/x');
  assert.equal(s.etcdEndpoints, 'http://e:2379');
  assert.equal(s.addresses.storage, '0.0.0.0:1');
  assert.equal(makeUpSettings({ WATCH_METRICS_LISTEN: '127.0.0.1:19094' }).metrics.watch, '127.0.0.1:19094');
});
