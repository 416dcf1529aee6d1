/**
 * Content negotiation with the Accept headers real clients send.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { StatusError } from '../../../lib/errors.ts';
import { bodyDecoderFor, unsupportedMediaType } from './media/decoder.ts';
import { AGGREGATED_DISCOVERY_CONTENT_TYPE, negotiateErrorFormat, negotiateResource, negotiateWatch, parseAccept, wantsAggregatedDiscovery } from './negotiation.ts';

/** kubectl get (human output) asks for a Table first. */
const KUBECTL_GET = 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json';
/** kubectl's discovery client (1.30+) asks for aggregated discovery first. */
const KUBECTL_DISCOVERY =
  'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json';
/** client-go's default for typed clients that prefer protobuf. */
const CLIENT_GO_PROTOBUF = 'application/vnd.kubernetes.protobuf,application/json';

const JSON_OBJECT = { format: 'json', table: false };
const JSON_TABLE = { format: 'json', table: true };
const PROTOBUF_OBJECT = { format: 'protobuf', table: false };
/** A built-in kind: it has protobuf messages. */
const BUILTIN = (): boolean => true;
/** A custom resource: no protobuf. */
const CUSTOM = (): boolean => false;
const SERVED = 'only the following media types are accepted: application/json, application/yaml, application/vnd.kubernetes.protobuf';

function notAcceptable(accept: string, negotiate = negotiateResource): StatusError {
  try {
    negotiate(accept);
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
    assert.deepEqual(negotiateResource(KUBECTL_GET), JSON_TABLE);
  });

  test('a v1beta1 Table is a Table too', () => {
    assert.deepEqual(negotiateResource('application/json;as=Table;v=v1beta1;g=meta.k8s.io'), JSON_TABLE);
  });

  test('plain JSON for application/json, wildcards, no header', () => {
    for (const accept of ['application/json', '*/*', 'application/*', 'application/json, */*', undefined, '']) {
      assert.deepEqual(negotiateResource(accept), JSON_OBJECT, String(accept));
    }
  });

  test('the client\'s order decides', () => {
    assert.deepEqual(negotiateResource(`application/json,${KUBECTL_GET}`), JSON_OBJECT);
    assert.deepEqual(negotiateResource('*/*;as=Table;v=v1;g=meta.k8s.io,application/json'), JSON_TABLE);
  });

  test('representations we do not serve are skipped, not chosen', () => {
    assert.deepEqual(negotiateResource(CLIENT_GO_PROTOBUF, CUSTOM), JSON_OBJECT);
    assert.deepEqual(negotiateResource(`application/vnd.kubernetes.protobuf;as=Table;v=v1;g=meta.k8s.io,${KUBECTL_GET}`, BUILTIN), JSON_TABLE);
    assert.deepEqual(negotiateResource('application/vnd.kubernetes.protobuf;as=PartialObjectMetadata;v=v1;g=meta.k8s.io,application/json', BUILTIN), JSON_OBJECT);
    assert.deepEqual(negotiateResource('application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io,application/json'), JSON_OBJECT);
    assert.deepEqual(negotiateResource('application/json;as=Table;v=v2;g=meta.k8s.io,application/json'), JSON_OBJECT);
    assert.deepEqual(negotiateResource('application/json;as=Table;v=v1;g=example.com,application/json'), JSON_OBJECT);
    assert.deepEqual(negotiateResource('application/json;as=Table;v=v1,application/json'), JSON_OBJECT);
  });

  test('protobuf only to a custom resource, or only representations we do not serve: 406 with kube\'s message', () => {
    const err = notAcceptable('application/vnd.kubernetes.protobuf');
    // kube's words, listing the media types served (protobuf too, as kube lists it for custom
    // resources; a Table is not one).
    assert.equal(err.message, SERVED);
    notAcceptable('application/vnd.kubernetes.protobuf;as=Table;v=v1;g=meta.k8s.io', (accept) => negotiateResource(accept, BUILTIN));
    notAcceptable('text/html');
    notAcceptable('application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io');
  });

  test('YAML for application/yaml, objects and Tables alike; the client\'s order decides', () => {
    assert.deepEqual(negotiateResource('application/yaml'), { format: 'yaml', table: false });
    assert.deepEqual(negotiateResource('application/yaml;as=Table;v=v1;g=meta.k8s.io'), { format: 'yaml', table: true });
    assert.deepEqual(negotiateResource('application/vnd.kubernetes.protobuf,application/yaml,application/json'), { format: 'yaml', table: false });
    assert.deepEqual(negotiateResource('application/json,application/yaml'), JSON_OBJECT);
  });
});

describe('negotiateResource: protobuf', () => {
  test('a built-in kind is answered in protobuf when the client prefers it (client-go\'s typed clients, kubectl\'s typed commands)', () => {
    assert.deepEqual(negotiateResource(CLIENT_GO_PROTOBUF, BUILTIN), PROTOBUF_OBJECT);
    assert.deepEqual(negotiateResource('application/vnd.kubernetes.protobuf', BUILTIN), PROTOBUF_OBJECT);
    assert.deepEqual(negotiateResource('Application/Vnd.Kubernetes.Protobuf, */*', BUILTIN), PROTOBUF_OBJECT);
  });

  test('the client\'s order decides: JSON first stays JSON, and wildcards are JSON', () => {
    assert.deepEqual(negotiateResource('application/json,application/vnd.kubernetes.protobuf', BUILTIN), JSON_OBJECT);
    assert.deepEqual(negotiateResource('*/*', BUILTIN), JSON_OBJECT);
    assert.deepEqual(negotiateResource(KUBECTL_GET, BUILTIN), JSON_TABLE);
  });

  test('a custom resource is never answered in protobuf: the next range is taken, or 406', () => {
    assert.deepEqual(negotiateResource(CLIENT_GO_PROTOBUF, CUSTOM), JSON_OBJECT);
    assert.deepEqual(negotiateResource('application/vnd.kubernetes.protobuf,application/yaml', CUSTOM), { format: 'yaml', table: false });
    assert.equal(notAcceptable('application/vnd.kubernetes.protobuf', (accept) => negotiateResource(accept, CUSTOM)).message, SERVED);
  });

  test('whether the kind has protobuf is asked only when a protobuf range is reached', () => {
    let asked = 0;
    const counting = (): boolean => {
      asked++;
      return true;
    };
    for (const accept of [undefined, 'application/json', KUBECTL_GET, 'application/yaml', `application/json,${CLIENT_GO_PROTOBUF}`]) negotiateResource(accept, counting);
    assert.equal(asked, 0);
    negotiateResource(CLIENT_GO_PROTOBUF, counting);
    assert.equal(asked, 1);
  });

  test('a range whose stream parameter is not watch, or YAML with one, is skipped (kube\'s acceptMediaTypeOptions)', () => {
    assert.deepEqual(negotiateResource('application/vnd.kubernetes.protobuf;stream=watch', BUILTIN), PROTOBUF_OBJECT);
    assert.deepEqual(negotiateResource('application/vnd.kubernetes.protobuf;stream=other,application/json', BUILTIN), JSON_OBJECT);
    assert.deepEqual(negotiateResource('application/yaml;stream=watch,application/json', BUILTIN), JSON_OBJECT);
  });
});

describe('negotiateErrorFormat', () => {
  test('Status errors follow the client\'s first plain range, protobuf included whatever the kind', () => {
    assert.equal(negotiateErrorFormat(undefined), 'json');
    assert.equal(negotiateErrorFormat(CLIENT_GO_PROTOBUF), 'protobuf');
    assert.equal(negotiateErrorFormat('application/vnd.kubernetes.protobuf'), 'protobuf');
    assert.equal(negotiateErrorFormat('application/yaml'), 'yaml');
    assert.equal(negotiateErrorFormat('application/json,application/vnd.kubernetes.protobuf'), 'json');
  });

  test('a Table client\'s errors are plain Status: ranges with `as` are skipped (kube\'s DefaultEndpointRestrictions)', () => {
    assert.equal(negotiateErrorFormat(KUBECTL_GET), 'json');
    assert.equal(negotiateErrorFormat('application/yaml;as=Table;v=v1;g=meta.k8s.io,application/yaml'), 'yaml');
    assert.equal(negotiateErrorFormat('application/vnd.kubernetes.protobuf;as=Table;v=v1;g=meta.k8s.io,application/json'), 'json');
  });

  test('nothing acceptable: JSON (kube writes the Status as raw JSON)', () => {
    assert.equal(negotiateErrorFormat('text/html'), 'json');
    assert.equal(negotiateErrorFormat('application/yaml;as=Table;v=v1;g=meta.k8s.io'), 'json');
  });
});

describe('negotiateWatch', () => {
  test('JSON streams, Tables included', () => {
    assert.deepEqual(negotiateWatch(undefined), JSON_OBJECT);
    assert.deepEqual(negotiateWatch(KUBECTL_GET), JSON_TABLE);
    assert.deepEqual(negotiateWatch('application/json;stream=watch'), JSON_OBJECT);
  });

  test('protobuf streams for a built-in kind; a custom resource\'s watch is JSON', () => {
    assert.deepEqual(negotiateWatch(CLIENT_GO_PROTOBUF, BUILTIN), PROTOBUF_OBJECT);
    assert.deepEqual(negotiateWatch('application/vnd.kubernetes.protobuf;stream=watch', BUILTIN), PROTOBUF_OBJECT);
    assert.deepEqual(negotiateWatch(CLIENT_GO_PROTOBUF, CUSTOM), JSON_OBJECT);
  });

  test('YAML chosen for a watch is 406 listing the stream media types, as kube (YAML has no stream framing)', () => {
    const err = notAcceptable('application/yaml', negotiateWatch);
    assert.equal(err.message, 'only the following media types are accepted: application/json;stream=watch, application/vnd.kubernetes.protobuf;stream=watch');
    notAcceptable('application/yaml,application/json', negotiateWatch);
  });

  test('nothing acceptable at all: the 406 of any response', () => {
    assert.equal(notAcceptable('text/html', negotiateWatch).message, SERVED);
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

describe('bodyDecoderFor', () => {
  test('JSON bodies (with or without parameters), and no Content-Type, are read as JSON', () => {
    for (const type of [undefined, '', 'application/json', 'application/json; charset=utf-8', 'Application/JSON']) {
      assert.equal(bodyDecoderFor(type)?.mediaType, 'application/json', String(type));
    }
  });

  test('YAML and Kubernetes protobuf bodies have their own decoders; the apply patch type only for a patch', () => {
    assert.equal(bodyDecoderFor('application/yaml')?.mediaType, 'application/yaml');
    assert.equal(bodyDecoderFor('application/vnd.kubernetes.protobuf')?.mediaType, 'application/vnd.kubernetes.protobuf');
    assert.equal(bodyDecoderFor('application/apply-patch+yaml'), undefined);
    assert.equal(bodyDecoderFor('application/apply-patch+yaml', { patch: true })?.mediaType, 'application/yaml');
  });

  test('anything else has none: 415 UnsupportedMediaType with kube\'s message', () => {
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'text/yaml']) assert.equal(bodyDecoderFor(type), undefined, type);
    const err = unsupportedMediaType();
    assert.equal(err.reason, 'UnsupportedMediaType');
    assert.equal(err.code, 415);
    assert.equal(err.message, 'the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf');
  });
});
