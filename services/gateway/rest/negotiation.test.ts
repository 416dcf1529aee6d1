/**
 * Content negotiation with the Accept headers real clients send.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { StatusError } from '../../../lib/errors.ts';
import { AGGREGATED_DISCOVERY_CONTENT_TYPE, checkBodyContentType, negotiateResource, parseAccept, wantsAggregatedDiscovery } from './negotiation.ts';

/** kubectl get (human output) asks for a Table first. */
const KUBECTL_GET = 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json';
/** kubectl's discovery client (1.30+) asks for aggregated discovery first. */
const KUBECTL_DISCOVERY =
  'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json';
/** client-go's default for typed clients that prefer protobuf. */
const CLIENT_GO_PROTOBUF = 'application/vnd.kubernetes.protobuf,application/json';

function notAcceptable(accept: string): StatusError {
  try {
    negotiateResource(accept);
  } catch (err) {
    assert.ok(err instanceof StatusError);
    assert.equal(err.reason, 'NotAcceptable');
    assert.equal(err.code, 406);
    return err;
  }
  assert.fail(`expected 406 for ${accept}`);
}

describe('parseAccept', () => {
  test('media ranges with their parameters, names lower-cased, quotes removed', () => {
    assert.deepEqual(parseAccept('Application/JSON; AS=Table ;v="v1";g=meta.k8s.io, text/plain;q=0.5'), [
      { type: 'application/json', params: { as: 'Table', v: 'v1', g: 'meta.k8s.io' } },
      { type: 'text/plain', params: { q: '0.5' } },
    ]);
  });

  test('no header, or an empty one, accepts anything', () => {
    assert.deepEqual(parseAccept(undefined), [{ type: '*/*', params: {} }]);
    assert.deepEqual(parseAccept('  '), [{ type: '*/*', params: {} }]);
  });
});

describe('negotiateResource', () => {
  test('kubectl get: a meta.k8s.io/v1 Table', () => {
    assert.equal(negotiateResource(KUBECTL_GET), 'table');
  });

  test('a v1beta1 Table is a Table too', () => {
    assert.equal(negotiateResource('application/json;as=Table;v=v1beta1;g=meta.k8s.io'), 'table');
  });

  test('plain JSON for application/json, wildcards, no header', () => {
    for (const accept of ['application/json', '*/*', 'application/*', 'application/json, */*', undefined, '']) {
      assert.equal(negotiateResource(accept), 'json', String(accept));
    }
  });

  test('the client\'s order decides', () => {
    assert.equal(negotiateResource(`application/json,${KUBECTL_GET}`), 'json');
    assert.equal(negotiateResource('*/*;as=Table;v=v1;g=meta.k8s.io,application/json'), 'table');
  });

  test('representations we do not serve are skipped, not chosen', () => {
    assert.equal(negotiateResource(CLIENT_GO_PROTOBUF), 'json');
    assert.equal(negotiateResource('application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io,application/json'), 'json');
    assert.equal(negotiateResource('application/json;as=Table;v=v2;g=meta.k8s.io,application/json'), 'json');
    assert.equal(negotiateResource('application/json;as=Table;v=v1;g=example.com,application/json'), 'json');
    assert.equal(negotiateResource('application/json;as=Table;v=v1,application/json'), 'json');
  });

  test('protobuf only, or only representations we do not serve: 406 with kube\'s message', () => {
    const err = notAcceptable('application/vnd.kubernetes.protobuf');
    assert.equal(err.message, 'only the following media types are accepted: application/json, application/json;as=Table;v=v1;g=meta.k8s.io');
    notAcceptable('application/vnd.kubernetes.protobuf;as=Table;v=v1;g=meta.k8s.io');
    notAcceptable('text/html');
    notAcceptable('application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io');
  });
});

describe('wantsAggregatedDiscovery', () => {
  test('kubectl\'s discovery header: yes', () => {
    assert.equal(wantsAggregatedDiscovery(KUBECTL_DISCOVERY), true);
    assert.equal(AGGREGATED_DISCOVERY_CONTENT_TYPE, 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList');
    assert.equal(wantsAggregatedDiscovery(AGGREGATED_DISCOVERY_CONTENT_TYPE), true);
  });

  test('plain clients, and clients that prefer plain JSON: no', () => {
    for (const accept of [undefined, '', 'application/json', '*/*', KUBECTL_GET, `application/json,${KUBECTL_DISCOVERY}`]) {
      assert.equal(wantsAggregatedDiscovery(accept), false, String(accept));
    }
  });

  test('only v2 counts; a v2beta1-only client gets plain discovery', () => {
    assert.equal(
      wantsAggregatedDiscovery('application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json'),
      false,
    );
  });

  test('a protobuf range in front does not hide the JSON one behind it', () => {
    assert.equal(
      wantsAggregatedDiscovery(`application/vnd.kubernetes.protobuf;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,${KUBECTL_DISCOVERY}`),
      true,
    );
  });
});

describe('checkBodyContentType', () => {
  test('JSON bodies (with or without parameters), and no Content-Type, are read', () => {
    for (const type of [undefined, 'application/json', 'application/json; charset=utf-8', 'Application/JSON']) checkBodyContentType(type);
  });

  test('anything else is 415 UnsupportedMediaType with kube\'s message', () => {
    for (const type of ['application/vnd.kubernetes.protobuf', 'text/plain', 'application/x-www-form-urlencoded']) {
      assert.throws(
        () => checkBodyContentType(type),
        (err: unknown) =>
          err instanceof StatusError &&
          err.reason === 'UnsupportedMediaType' &&
          err.code === 415 &&
          err.message === 'the body of the request was in an unknown format - accepted media types include: application/json',
        type,
      );
    }
  });
});
