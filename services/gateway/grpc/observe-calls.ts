/**
 * The typed gRPC front door's part of request observation (core/observe.ts): each call of the
 * Resources API and of the typed kind services gets the record a REST request gets — verb,
 * resource, who, the code its answer would have over REST — and the observers see it at the
 * same stages.
 */
import { context, trace } from '@opentelemetry/api';
import { StatusError } from '../../../lib/errors.ts';
import type { CallContext } from '../../../lib/grpc/serve.ts';
import type { KindRegistry } from '../../../lib/kinds/index.ts';
import { servedSubresource } from '../../../lib/kinds/subresources.ts';
import { APPLY_PATCH_YAML_MEDIA_TYPE } from '../core/apply.ts';
import { k8sSpanAttributes, newApiRequest, noteSpan, withApiRequest, type ApiRequest, type RequestObservers } from '../core/observe.ts';

/** Where a call points: what its request message says (the Resources API's `ref`, a typed call's namespace and name). */
export interface CallTarget {
  group: string;
  version: string;
  resource: string;
  subresource: string;
  namespace: string;
  name: string;
}

/** kube's verb of each method of the resource services. */
const VERBS: Readonly<Record<string, string>> = {
  Create: 'create',
  Get: 'get',
  List: 'list',
  Update: 'update',
  Patch: 'patch',
  Delete: 'delete',
  DeleteCollection: 'deletecollection',
  Watch: 'watch',
};

type Handler = (request: never, ctx: CallContext, send: never) => Promise<unknown>;

/**
 * `handlers` with every call observed: `targetOf` reads where a call points from its request
 * (it must not throw: a malformed request still gets a record, and its handler the error), and
 * names only what is served (the record's resource fields become metric labels).
 */
export function observedHandlers<H extends { readonly [K in keyof H]: Handler }>(
  serviceName: string,
  handlers: H,
  observers: RequestObservers,
  targetOf: (request: Record<string, unknown>) => CallTarget,
): H {
  const wrapped: Record<string, Handler> = {};
  for (const [method, handler] of Object.entries(handlers) as [string, Handler][]) {
    const verb = VERBS[method] ?? method.toLowerCase();
    wrapped[method] = (async (request: Record<string, unknown>, ctx: CallContext, send?: (m: unknown) => Promise<void>) => {
      const record = newApiRequest({
        protocol: 'grpc',
        method,
        requestUri: `/${serviceName}/${method}`,
        sourceIps: ctx.peer === undefined ? [] : [hostOfPeer(ctx.peer)],
        userAgent: metadataString(ctx, 'user-agent') ?? '',
        auditId: metadataString(ctx, 'audit-id'),
      });
      describeCall(record, verb, request, targetOf);
      record.bodies = observers.wantsBodies(record);
      const span = trace.getActiveSpan();
      noteSpan(record, span);
      observers.received(record);
      let started = false;
      const observedSend =
        send === undefined
          ? undefined
          : (message: unknown): Promise<void> => {
              if (!started) {
                started = true;
                observers.responseStarted(record);
              }
              return send(message);
            };
      try {
        const result = await context.with(withApiRequest(context.active(), record), () =>
          (handler as (r: unknown, c: CallContext, s?: (m: unknown) => Promise<void>) => Promise<unknown>)(request, ctx, observedSend),
        );
        record.code = verb === 'create' ? 201 : 200;
        return result;
      } catch (err) {
        const status = StatusError.from(err);
        record.code = status.code;
        record.statusReason = status.reason;
        record.statusMessage = status.message;
        throw err;
      } finally {
        if (span?.isRecording() === true) span.setAttributes(k8sSpanAttributes(record));
        observers.finished(record);
      }
    }) as Handler;
  }
  return wrapped as unknown as H;
}

function describeCall(record: ApiRequest, verb: string, request: Record<string, unknown>, targetOf: (request: Record<string, unknown>) => CallTarget): void {
  record.verb = verb;
  record.resourceRequest = true;
  record.longRunning = verb === 'watch';
  const t = targetOf(request);
  record.group = t.group;
  record.version = t.version;
  record.resource = t.resource;
  record.subresource = t.subresource;
  record.namespace = t.namespace;
  record.name = t.name;
  record.scope = t.name !== '' ? 'resource' : t.namespace !== '' ? 'namespace' : 'cluster';
  record.dryRun = request.dryRun === true;
  if (verb === 'patch' && request.type === 'PATCH_TYPE_APPLY') record.contentType = APPLY_PATCH_YAML_MEDIA_TYPE;
}

/**
 * The Resources API's target: its request's `ref`, when the registry serves what it names
 * (the kind, and the subresource if one is named). The ref is the client's, read before the
 * call is authenticated or checked: a kind or subresource nobody serves is left out of the
 * record (its group, version, resource and subresource empty, as for a REST path no route
 * serves), so that invented names never become label values of the request metrics. Kube
 * records only what it serves too (its metrics are those of its installed routes).
 */
export function resourcesCallTarget(registry: Pick<KindRegistry, 'get'>): (request: Record<string, unknown>) => CallTarget {
  return (request) => {
    const ref = (request.ref ?? {}) as Partial<Record<keyof CallTarget, unknown>>;
    const text = (v: unknown): string => (typeof v === 'string' ? v : '');
    const group = text(ref.group);
    // An empty version is v1, as the Resources handlers read the ref.
    const version = text(ref.version) === '' ? 'v1' : text(ref.version);
    const resource = text(ref.resource);
    const subresource = text(ref.subresource);
    const namespace = text(ref.namespace);
    const name = text(ref.name);
    const kind = resource === '' ? undefined : registry.get(group, version, resource);
    if (kind === undefined || (subresource !== '' && servedSubresource(kind, subresource) === undefined)) {
      return { group: '', version: '', resource: '', subresource: '', namespace, name };
    }
    return { group, version, resource, subresource, namespace, name };
  };
}

function metadataString(ctx: CallContext, key: string): string | undefined {
  const value = ctx.metadata.get(key)[0];
  return typeof value === 'string' ? value : undefined;
}

/** "127.0.0.1:5000" → "127.0.0.1", "[::1]:5000" → "::1". */
function hostOfPeer(peer: string): string {
  const bracketed = /^\[([^\]]*)\]:\d+$/.exec(peer);
  if (bracketed !== null) return bracketed[1] ?? peer;
  const colon = peer.lastIndexOf(':');
  const host = colon > 0 && peer.indexOf(':') === colon ? peer.slice(0, colon) : peer;
  return host.startsWith('::ffff:') ? host.slice(7) : host;
}
