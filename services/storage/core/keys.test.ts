import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { StatusError } from '../../../lib/errors.ts';
import { collectionPrefix, objectKey, objectOfKey, prefixEnd, REGISTRY_PREFIX, resourceOfKey } from './keys.ts';

function badRequest(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof StatusError, `expected a StatusError, got ${String(err)}`);
    assert.equal(err.reason, 'BadRequest');
    return err.message;
  }
  assert.fail('expected a BadRequest');
}

describe('key layout (kube-apiserver\'s /registry/...)', () => {
  test('objects of the core group: /registry/<resource>/[<namespace>/]<name>', () => {
    assert.equal(REGISTRY_PREFIX, '/registry/');
    assert.equal(objectKey({ group: '', resource: 'configmaps', namespace: 'default', name: 'cm' }), '/registry/configmaps/default/cm');
    assert.equal(objectKey({ group: '', resource: 'namespaces', namespace: '', name: 'default' }), '/registry/namespaces/default');
  });

  test('objects of other groups: /registry/<group>/<resource>/...', () => {
    assert.equal(objectKey({ group: 'example.com', resource: 'widgets', namespace: 'ns', name: 'w' }), '/registry/example.com/widgets/ns/w');
    assert.equal(objectKey({ group: 'example.com', resource: 'clusterwidgets', namespace: '', name: 'w' }), '/registry/example.com/clusterwidgets/w');
  });

  test('collections end with "/", so "ns" never covers "ns2"', () => {
    assert.equal(collectionPrefix({ group: '', resource: 'configmaps', namespace: '', name: '' }), '/registry/configmaps/');
    assert.equal(collectionPrefix({ group: '', resource: 'configmaps', namespace: 'ns', name: '' }), '/registry/configmaps/ns/');
    assert.equal(collectionPrefix({ group: 'example.com', resource: 'widgets', namespace: 'ns', name: '' }), '/registry/example.com/widgets/ns/');
    const prefix = collectionPrefix({ group: '', resource: 'configmaps', namespace: 'ns', name: '' });
    assert.ok(!objectKey({ group: '', resource: 'configmaps', namespace: 'ns2', name: 'x' }).startsWith(prefix));
    assert.ok(objectKey({ group: '', resource: 'configmaps', namespace: 'ns', name: 'x' }).startsWith(prefix));
  });

  test('an object needs a name', () => {
    assert.equal(badRequest(() => objectKey({ group: '', resource: 'configmaps', namespace: 'ns', name: '' })), 'name is required');
  });

  test('segments that could leave their place are refused', () => {
    for (const evil of ['../x', '..', '.', 'a/b', '/etc', 'x/..']) {
      assert.match(badRequest(() => objectKey({ group: '', resource: 'secrets', namespace: 'ns', name: evil })), /^invalid name /, evil);
      assert.match(badRequest(() => objectKey({ group: '', resource: 'secrets', namespace: evil, name: 'n' })), /^invalid namespace /, evil);
      assert.match(badRequest(() => collectionPrefix({ group: '', resource: 'secrets', namespace: evil, name: '' })), /^invalid namespace /, evil);
    }
    assert.equal(
      badRequest(() => objectKey({ group: '', resource: 'configmaps', namespace: 'ns', name: '../../secrets/ns/token' })),
      'invalid name "../../secrets/ns/token": may not contain "/" or be "." or ".."',
    );
    // Dots inside a name are fine.
    assert.equal(objectKey({ group: '', resource: 'configmaps', namespace: 'ns', name: 'a..b' }), '/registry/configmaps/ns/a..b');
  });
});

describe('resourceOfKey', () => {
  test('the group and resource a key belongs to', () => {
    assert.deepEqual(resourceOfKey('/registry/configmaps/default/cm'), { group: '', resource: 'configmaps' });
    assert.deepEqual(resourceOfKey('/registry/namespaces/default'), { group: '', resource: 'namespaces' });
    assert.deepEqual(resourceOfKey('/registry/example.com/widgets/ns/w'), { group: 'example.com', resource: 'widgets' });
    // Built-in groups without a dot.
    assert.deepEqual(resourceOfKey('/registry/apps/deployments/ns/web'), { group: 'apps', resource: 'deployments' });
    assert.deepEqual(resourceOfKey('/registry/batch/jobs/ns/j'), { group: 'batch', resource: 'jobs' });
    assert.deepEqual(resourceOfKey('/registry/policy/poddisruptionbudgets/ns/p'), { group: 'policy', resource: 'poddisruptionbudgets' });
    assert.deepEqual(resourceOfKey('/registry/autoscaling/horizontalpodautoscalers/ns/h'), { group: 'autoscaling', resource: 'horizontalpodautoscalers' });
  });

  test('round trip with objectKey', () => {
    for (const ref of [
      { group: '', resource: 'nodes', namespace: '', name: 'n1' },
      { group: 'stable.example.com', resource: 'crontabs', namespace: 'ns', name: 'c' },
    ]) {
      assert.deepEqual(resourceOfKey(objectKey(ref)), { group: ref.group, resource: ref.resource });
    }
  });

  test('keys outside the registry, or without a resource, belong to nothing', () => {
    for (const key of ['/other/configmaps/x', 'registry/configmaps/x', '/registry/', '/registry//x', '/registry/example.com', '/registry/example.com/']) {
      assert.equal(resourceOfKey(key), undefined, key);
    }
  });
});

describe('objectOfKey', () => {
  test('round trip with objectKey, namespaced and cluster-scoped, core and other groups', () => {
    for (const ref of [
      { group: '', resource: 'nodes', namespace: '', name: 'n1' },
      { group: '', resource: 'configmaps', namespace: 'ns', name: 'cm' },
      { group: 'stable.example.com', resource: 'crontabs', namespace: 'ns', name: 'c' },
      { group: 'stable.example.com', resource: 'clusterwidgets', namespace: '', name: 'w' },
      { group: 'apps', resource: 'deployments', namespace: 'ns', name: 'web' },
      { group: 'batch', resource: 'jobs', namespace: 'ns', name: 'j' },
    ]) {
      assert.deepEqual(objectOfKey(objectKey(ref)), ref);
    }
  });

  test('keys that name no object give undefined', () => {
    for (const key of ['/other/configmaps/ns/x', '/registry/configmaps', '/registry/configmaps/', '/registry/configmaps/ns/', '/registry/configmaps//x', '/registry/configmaps/a/b/c', '/registry/configmaps/ns/..', '/registry/example.com/widgets', '/registry/nodes/.']) {
      assert.equal(objectOfKey(key), undefined, key);
    }
  });
});

describe('prefixEnd (etcd\'s range end for a prefix)', () => {
  test('the last byte plus one', () => {
    assert.deepEqual(prefixEnd('/registry/configmaps/'), Buffer.from('/registry/configmaps0'));
    assert.deepEqual(prefixEnd('a'), Buffer.from('b'));
  });

  test('computed on the UTF-8 bytes of the prefix', () => {
    // "ÿ" is c3 bf in UTF-8: the last byte is incremented, not the character.
    assert.deepEqual(prefixEnd('aÿÿ'), Buffer.from([0x61, 0xc3, 0xbf, 0xc3, 0xc0]));
    assert.deepEqual(prefixEnd('\u{10FFFF}'), Buffer.from([0xf4, 0x8f, 0xbf, 0xc0]));
  });

  test('every key with the prefix sorts before the end, and the end does not have the prefix', () => {
    const prefix = '/registry/configmaps/ns/';
    const end = prefixEnd(prefix);
    for (const key of [prefix, `${prefix}a`, `${prefix}\u{10FFFF}`, `${prefix}zzzz`]) {
      assert.ok(Buffer.compare(Buffer.from(key), end) < 0, key);
    }
    assert.ok(Buffer.compare(Buffer.from('/registry/configmaps/ns0'), end) >= 0);
    assert.ok(!end.toString('utf8').startsWith(prefix));
  });

  test('the empty prefix ranges over the whole key space: [0], as clientv3.GetPrefixRangeEnd', () => {
    assert.deepEqual(prefixEnd(''), Buffer.from([0]));
  });
});
