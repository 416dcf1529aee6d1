/**
 * The one error type (errors.ts) and its gRPC wire form (grpc-status.ts): every reason survives
 * a trip through a gRPC status, transport failures become sensible Statuses, and kube's
 * message shapes (errors.NewInvalid, NewNotFound, ...) are reproduced.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Metadata, status as GrpcCode } from '@grpc/grpc-js';
import {
  alreadyExists,
  badRequest,
  conflict,
  invalid,
  isStatusReason,
  notFound,
  REASONS,
  StatusError,
  type StatusDetails,
  type StatusReason,
} from './errors.ts';
import { fitForTrailers, fromGrpcError, MAX_STATUS_TRAILER_BYTES, toGrpcStatus } from './grpc-status.ts';

/** What a client sees for a server-side error: the status object as grpc-js delivers it. */
function roundTrip(err: StatusError): StatusError {
  const status = toGrpcStatus(err);
  return fromGrpcError({ code: status.code, details: status.details ?? '', metadata: status.metadata ?? new Metadata() });
}

const ALL_REASONS = Object.keys(REASONS) as StatusReason[];

// metav1.StatusReason -> HTTP code, as k8s.io/apimachinery/pkg/api/errors produces them.
const KUBE_HTTP: Record<StatusReason, number> = {
  BadRequest: 400,
  Unauthorized: 401,
  Forbidden: 403,
  NotFound: 404,
  MethodNotAllowed: 405,
  NotAcceptable: 406,
  AlreadyExists: 409,
  Conflict: 409,
  Gone: 410,
  Expired: 410,
  RequestEntityTooLarge: 413,
  UnsupportedMediaType: 415,
  Invalid: 422,
  TooManyRequests: 429,
  InternalError: 500,
  ServiceUnavailable: 503,
  Timeout: 504,
};

describe('the reason table', () => {
  test('every reason has kube\'s HTTP code', () => {
    assert.deepEqual(Object.keys(REASONS).sort(), Object.keys(KUBE_HTTP).sort());
    for (const reason of ALL_REASONS) assert.equal(REASONS[reason].http, KUBE_HTTP[reason], reason);
  });

  test('the gRPC codes of the architecture\'s mapping', () => {
    const expected: [StatusReason, GrpcCode][] = [
      ['NotFound', GrpcCode.NOT_FOUND],
      ['AlreadyExists', GrpcCode.ALREADY_EXISTS],
      ['Conflict', GrpcCode.ABORTED],
      ['Invalid', GrpcCode.INVALID_ARGUMENT],
      ['Forbidden', GrpcCode.PERMISSION_DENIED],
      ['Unauthorized', GrpcCode.UNAUTHENTICATED],
      ['Expired', GrpcCode.OUT_OF_RANGE],
      ['Gone', GrpcCode.OUT_OF_RANGE],
      ['TooManyRequests', GrpcCode.RESOURCE_EXHAUSTED],
      ['Timeout', GrpcCode.DEADLINE_EXCEEDED],
      ['ServiceUnavailable', GrpcCode.UNAVAILABLE],
      ['InternalError', GrpcCode.INTERNAL],
    ];
    for (const [reason, code] of expected) assert.equal(new StatusError(reason, 'x').grpcCode, code, reason);
  });

  test('isStatusReason knows exactly the table\'s reasons', () => {
    for (const reason of ALL_REASONS) assert.equal(isStatusReason(reason), true);
    for (const other of ['', 'notfound', 'Unknown', 'toString', 'constructor', '__proto__']) assert.equal(isStatusReason(other), false, other);
  });
});

describe('StatusError', () => {
  test('toStatus is a kube Status object', () => {
    const err = new StatusError('NotFound', 'configmaps "x" not found', { name: 'x', group: '', kind: 'configmaps' });
    assert.deepEqual(err.toStatus(), {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'configmaps "x" not found',
      reason: 'NotFound',
      // kube's omitempty: the core group's "" is left out.
      details: { name: 'x', kind: 'configmaps' },
      code: 404,
    });
    assert.equal('details' in new StatusError('BadRequest', 'b').toStatus(), false);
    assert.ok(err instanceof Error);
    assert.equal(err.name, 'StatusError');
  });

  test('from() passes a StatusError through and never echoes anything else', () => {
    const original = new StatusError('Conflict', 'c');
    assert.equal(StatusError.from(original), original);
    const secret = 'password=hunter2 at 10.0.0.7:2379';
    for (const thrown of [new Error(secret), new TypeError(secret), secret, { message: secret }, undefined, null, 42]) {
      const err = StatusError.from(thrown);
      assert.equal(err.reason, 'InternalError');
      assert.equal(err.code, 500);
      assert.ok(!err.message.includes('hunter2'), err.message);
      assert.equal(err.details, undefined);
      assert.ok(!JSON.stringify(err.toStatus()).includes('hunter2'));
    }
  });

  test('notFound, alreadyExists, conflict and badRequest speak as kube-apiserver', () => {
    const core = { resource: 'configmaps', group: '' };
    const apps = { resource: 'deployments', group: 'apps' };
    assert.equal(notFound(core, 'x').message, 'configmaps "x" not found');
    assert.equal(notFound(apps, 'x').message, 'deployments.apps "x" not found');
    assert.deepEqual(notFound(apps, 'x').details, { name: 'x', group: 'apps', kind: 'deployments' });
    assert.equal(notFound(core, 'x').code, 404);
    assert.equal(alreadyExists(core, 'x').message, 'configmaps "x" already exists');
    assert.equal(alreadyExists(core, 'x').reason, 'AlreadyExists');
    const c = conflict(core, 'x', 'the object has been modified; please apply your changes to the latest version and try again');
    assert.equal(
      c.message,
      'Operation cannot be fulfilled on configmaps "x": the object has been modified; please apply your changes to the latest version and try again',
    );
    assert.equal(c.code, 409);
    // Names are quoted as Go's %q does.
    assert.equal(notFound(core, 'a"b').message, 'configmaps "a\\"b" not found');
    assert.deepEqual([badRequest('nope').reason, badRequest('nope').code, badRequest('nope').message], ['BadRequest', 400, 'nope']);
  });
});

describe('invalid(): errors.NewInvalid', () => {
  const SUBDOMAIN_MSG =
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";

  test('one field error: the error itself after the name', () => {
    const err = invalid('ConfigMap', '', 'Bad_Name', [{ type: 'FieldValueInvalid', field: 'metadata.name', value: 'Bad_Name', detail: SUBDOMAIN_MSG }]);
    assert.equal(err.reason, 'Invalid');
    assert.equal(err.code, 422);
    assert.equal(err.message, `ConfigMap "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name": ${SUBDOMAIN_MSG}`);
    assert.deepEqual(err.details, {
      name: 'Bad_Name',
      group: '',
      kind: 'ConfigMap',
      causes: [{ reason: 'FieldValueInvalid', message: `Invalid value: "Bad_Name": ${SUBDOMAIN_MSG}`, field: 'metadata.name' }],
    });
  });

  test('several field errors: bracketed, comma-separated, in order; repeats shown once', () => {
    const err = invalid('ConfigMap', '', '', [
      { type: 'FieldValueRequired', field: 'metadata.name', detail: 'name or generateName is required' },
      { type: 'FieldValueRequired', field: 'metadata.namespace', detail: '' },
      { type: 'FieldValueRequired', field: 'metadata.namespace', detail: '' },
    ]);
    assert.equal(
      err.message,
      'ConfigMap "" is invalid: [metadata.name: Required value: name or generateName is required, metadata.namespace: Required value]',
    );
    assert.equal(err.details?.causes?.length, 3);
    const same = invalid('ConfigMap', '', 'x', [
      { type: 'FieldValueForbidden', field: 'metadata.namespace', detail: 'not allowed on this type' },
      { type: 'FieldValueForbidden', field: 'metadata.namespace', detail: 'not allowed on this type' },
    ]);
    assert.equal(same.message, 'ConfigMap "x" is invalid: metadata.namespace: Forbidden: not allowed on this type');
  });

  test('each error type prints as field.Error.ErrorBody()', () => {
    const one = (e: Parameters<typeof invalid>[3][number]) => invalid('Node', '', 'n', [e]).message;
    assert.equal(one({ type: 'FieldValueForbidden', field: 'spec.x', detail: '' }), 'Node "n" is invalid: spec.x: Forbidden');
    assert.equal(one({ type: 'FieldValueRequired', field: 'spec.x', detail: '' }), 'Node "n" is invalid: spec.x: Required value');
    assert.equal(
      one({ type: 'FieldValueNotSupported', field: 'spec.policy', value: 'Sometimes', detail: 'supported values: "Always", "Never"' }),
      'Node "n" is invalid: spec.policy: Unsupported value: "Sometimes": supported values: "Always", "Never"',
    );
    assert.equal(one({ type: 'FieldValueInvalid', field: 'spec.replicas', value: -1, detail: 'must be greater than or equal to 0' }), 'Node "n" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0');
    assert.equal(one({ type: 'FieldValueInvalid', field: 'spec.x', value: undefined, detail: 'bad' }), 'Node "n" is invalid: spec.x: Invalid value: null: bad');
  });

  test('the kind is qualified by a non-core group', () => {
    const err = invalid('Deployment', 'apps', 'web', [{ type: 'FieldValueRequired', field: 'spec.selector', detail: '' }]);
    assert.equal(err.message, 'Deployment.apps "web" is invalid: spec.selector: Required value');
    assert.deepEqual([err.details?.kind, err.details?.group], ['Deployment', 'apps']);
  });

  test('no field errors: just "is invalid"', () => {
    assert.equal(invalid('ConfigMap', '', 'x', []).message, 'ConfigMap "x" is invalid');
  });
});

describe('gRPC status round trip', () => {
  test('every reason arrives with its message, code and details (causes, retryAfterSeconds)', () => {
    for (const reason of ALL_REASONS) {
      const details: StatusDetails = {
        name: `obj-${reason}`,
        group: 'example.com',
        kind: 'widgets',
        uid: '1b4e28ba-2fa1-11d2-883f-0016d3cca427',
        causes: [
          { reason: 'FieldValueInvalid', message: 'Invalid value: "x": bad', field: 'metadata.name' },
          { message: 'only a message' },
        ],
        retryAfterSeconds: 7,
      };
      const sent = new StatusError(reason, `message of ${reason}: "quoted", ünïcödé, 100%`, details);
      const status = toGrpcStatus(sent);
      assert.equal(status.code, REASONS[reason].grpc, reason);
      const got = roundTrip(sent);
      assert.equal(got.reason, reason);
      assert.equal(got.code, KUBE_HTTP[reason]);
      assert.equal(got.message, sent.message);
      assert.deepEqual(got.details, details, reason);
    }
  });

  test('an error without details arrives without details; partial details stay partial', () => {
    const bare = roundTrip(new StatusError('Gone', 'gone'));
    assert.deepEqual([bare.reason, bare.message, bare.details], ['Gone', 'gone', undefined]);
    const partial = roundTrip(new StatusError('TooManyRequests', 'slow down', { retryAfterSeconds: 3 }));
    assert.deepEqual(partial.details, { retryAfterSeconds: 3 });
    assert.equal(partial.code, 429);
  });

  test('the Status travels in grpc-status-details-bin, not in the message text', () => {
    const status = toGrpcStatus(new StatusError('Conflict', 'c'));
    assert.equal(status.details, 'c');
    // A client that only had the code and the text would not know Conflict from Expired.
    const got = fromGrpcError({ code: status.code, details: 'something else', metadata: status.metadata ?? new Metadata() });
    assert.equal(got.reason, 'Conflict');
    assert.equal(got.message, 'c');
    assert.equal(status.metadata?.get('grpc-status-details-bin').length, 1);
  });
});

describe('gRPC failures without a Status (transport errors)', () => {
  const cases: [GrpcCode, StatusReason, number][] = [
    [GrpcCode.UNAVAILABLE, 'ServiceUnavailable', 503],
    [GrpcCode.DEADLINE_EXCEEDED, 'Timeout', 504],
    [GrpcCode.UNAUTHENTICATED, 'Unauthorized', 401],
    [GrpcCode.PERMISSION_DENIED, 'Forbidden', 403],
    [GrpcCode.RESOURCE_EXHAUSTED, 'RequestEntityTooLarge', 413],
    [GrpcCode.INTERNAL, 'InternalError', 500],
    [GrpcCode.UNKNOWN, 'InternalError', 500],
  ];
  for (const [code, reason, http] of cases) {
    test(`${GrpcCode[code]} -> ${reason} ${http}`, () => {
      const err = fromGrpcError({ code, details: 'No connection established', metadata: new Metadata() });
      assert.equal(err.reason, reason);
      assert.equal(err.code, http);
    });
  }

  test('messages say what happened, without transport internals', () => {
    const unavailable = fromGrpcError({ code: GrpcCode.UNAVAILABLE, details: 'connect ECONNREFUSED 127.0.0.1:50061' }).message;
    assert.match(unavailable, /^service unavailable/);
    assert.doesNotMatch(unavailable, /ECONNREFUSED|127\.0\.0\.1/);
    assert.equal(fromGrpcError({ code: GrpcCode.DEADLINE_EXCEEDED, details: 'Deadline exceeded' }).message, 'request did not complete within requested timeout');
    assert.equal(fromGrpcError({ code: GrpcCode.CANCELLED, details: 'Cancelled on client' }).message, 'request did not complete within requested timeout');
    assert.equal(fromGrpcError({ code: GrpcCode.INTERNAL, details: 'stack trace here' }).message, 'an internal error occurred');
    assert.equal(fromGrpcError({ code: GrpcCode.UNAUTHENTICATED, details: 'x' }).message, 'Unauthorized');
  });

  test('an error that is no gRPC error at all is an InternalError', () => {
    const err = fromGrpcError({});
    assert.equal(err.reason, 'InternalError');
    assert.equal(err.code, 500);
  });

  test('undecodable or foreign details fall back to the code', () => {
    const garbage = new Metadata();
    garbage.set('grpc-status-details-bin', Buffer.from([0xff, 0xff, 0xff, 0x01]));
    assert.equal(fromGrpcError({ code: GrpcCode.UNAVAILABLE, details: 'x', metadata: garbage }).reason, 'ServiceUnavailable');

    // A Status whose reason we do not know is not trusted either.
    const sent = toGrpcStatus(new StatusError('NotFound', 'n'));
    const raw = sent.metadata?.get('grpc-status-details-bin')[0] as Buffer;
    const forged = new Metadata();
    forged.set('grpc-status-details-bin', Buffer.from(raw.toString('latin1').replace('NotFound', 'NotFouNd'), 'latin1'));
    assert.equal(fromGrpcError({ code: GrpcCode.DEADLINE_EXCEEDED, details: 'x', metadata: forged }).reason, 'Timeout');
  });
});

describe('a Status that quotes a long value', () => {
  test('is shortened to fit the trailers, keeping its reason and saying what was cut', () => {
    const long = 'y'.repeat(20_000);
    const err = new StatusError('Invalid', `ConfigMap "${long}" is invalid: metadata.name: Invalid value: "${long}": must be no more than 253 characters`, {
      name: long,
      causes: Array.from({ length: 50 }, () => ({ reason: 'FieldValueInvalid', field: 'metadata.name', message: `Invalid value: "${long}"` })),
    });
    const status = toGrpcStatus(err);
    const details = status.metadata?.get('grpc-status-details-bin')[0] as Buffer;
    const trailers = Buffer.byteLength(status.details ?? '') + details.toString('base64').length;
    assert.ok(trailers <= MAX_STATUS_TRAILER_BYTES, `${trailers} bytes of trailers`);
    const back = fromGrpcError({ code: status.code, details: status.details ?? '', metadata: status.metadata });
    assert.equal(back.reason, 'Invalid');
    assert.match(back.message, /^ConfigMap "y+\.\.\. \(\d+ more characters\)$/);
    assert.equal(back.details?.causes?.length, 4);
  });

  test('a message past ASCII is counted as percent-encoded, and fits too', () => {
    const long = '名'.repeat(5_000);
    const status = toGrpcStatus(new StatusError('Invalid', `ConfigMap "${long}" is invalid`, { name: long }));
    const details = status.metadata?.get('grpc-status-details-bin')[0] as Buffer;
    const trailers = encodeURI(status.details ?? '').length + details.toString('base64').length;
    assert.ok(trailers <= MAX_STATUS_TRAILER_BYTES, `${trailers} bytes of trailers`);
  });

  test('a short Status is sent as it is', () => {
    const err = new StatusError('NotFound', 'configmaps "x" not found');
    assert.equal(fitForTrailers(err), err);
  });
});

describe('a Status that quotes a string with a lone surrogate', () => {
  test('is sent well-formed, so the trailers can be encoded (grpc-js would throw otherwise)', () => {
    const name = `bad\uD800name`;
    const err = new StatusError('Invalid', `ConfigMap "${name}" is invalid`, { name, causes: [{ field: 'metadata.name', message: `Invalid value: "${name}"` }] });
    const status = toGrpcStatus(err);
    assert.doesNotThrow(() => encodeURI(status.details ?? ''));
    assert.equal(status.details, 'ConfigMap "bad\uFFFDname" is invalid');
    const back = fromGrpcError({ code: status.code, details: status.details ?? '', metadata: status.metadata });
    assert.equal(back.details?.name, 'bad\uFFFDname');
    assert.equal(back.details?.causes?.[0]?.message, 'Invalid value: "bad\uFFFDname"');
  });
});
