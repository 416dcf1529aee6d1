/**
 * The gateway's access log: one line per front-door request (REST and typed gRPC), at level
 * info, written when the answer is complete (a watch's line when it ends). A line names the
 * request (verb, group, version, resource, subresource, namespace, name, or the URI of a
 * non-resource request), who made it (user, and the impersonated user), the answer (code,
 * reason), how long it took (latency_ms; a watch's is its whole life, marked long_running),
 * the ids that tie it to its trace and its audit events (trace_id, span_id, audit_id), whether
 * that trace was sampled (trace_sampled: with ratio sampling most trace ids name no stored
 * trace), and client_gone when the client went away before any answer (code 0).
 *
 * Never a body, a header or a credential: the record's objects are not read, and no query
 * string is written (a resource request is named by its parts; a non-resource request by its
 * path, such as /version).
 */
import type { Logger } from '../../../lib/log.ts';
import { elapsedSeconds, type ApiRequest, type RequestObserver } from './observe.ts';

/** The access-log observer; `logger` writes its lines (component access). */
export function accessLog(logger: Logger): RequestObserver {
  const log = logger.with({ component: 'access' });
  return {
    finished(request: ApiRequest): void {
      log.info('request', accessFields(request, elapsedSeconds(request)));
    },
  };
}

/** The fields of a request's access line; empty ones are left out. */
export function accessFields(request: ApiRequest, seconds: number): Record<string, unknown> {
  const fields: Record<string, unknown> = { protocol: request.protocol, verb: request.verb || request.method.toLowerCase() };
  const put = (key: string, value: string): void => {
    if (value !== '') fields[key] = value;
  };
  if (request.resourceRequest) {
    put('group', request.group);
    put('version', request.version);
    put('resource', request.resource);
    put('subresource', request.subresource);
    put('namespace', request.namespace);
    put('name', request.name);
  } else {
    put('uri', request.requestUri.split('?')[0] ?? '');
  }
  put('user', request.user?.username ?? '');
  put('impersonated_user', request.impersonatedUser?.username ?? '');
  fields.code = request.code;
  if (request.clientGone) fields.client_gone = true;
  put('reason', request.statusReason);
  fields.latency_ms = Math.round(seconds * 1e6) / 1e3;
  if (request.longRunning) fields.long_running = true;
  if (request.dryRun) fields.dry_run = true;
  if (request.traceId !== '') {
    fields.trace_id = request.traceId;
    fields.trace_sampled = request.traceSampled;
  }
  put('span_id', request.spanId);
  fields.audit_id = request.auditId;
  put('source_ip', request.sourceIps[0] ?? '');
  put('user_agent', request.userAgent);
  return fields;
}
