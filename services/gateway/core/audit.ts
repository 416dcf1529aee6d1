/**
 * The gateway's audit log: a RequestObserver that records front-door requests as audit.k8s.io/v1
 * Events, at the level the audit policy gives each (lib/audit/policy.ts) and capped at Metadata
 * for resources whose bodies are credentials (lib/audit/event.ts), to the audit log
 * (lib/audit/writer.ts).
 *
 * Stages as kube's: RequestReceived, ResponseStarted (long-running requests: watches) and
 * ResponseComplete, each unless the policy omits it. kube decides a request's level when it
 * arrives, after authentication; here the record learns who and what in steps, so the policy
 * is evaluated at the first of: the front door asking which bodies to keep (once the verb and
 * resource are known; over REST the user too), the response starting, the request finishing;
 * and once more if the user was not known then (the typed gRPC API authenticates in its
 * handler), so that rules naming users and groups apply. The
 * RequestReceived event is written then, stamped with the time the request arrived. A request
 * that failed authentication is evaluated without a user, as kube's failed-authentication audit
 * does, and recorded with an empty user.
 */
import { evaluatePolicy, levelLess, type AuditDecision, type Policy, type Stage } from '../../../lib/audit/policy.ts';
import { buildEvent, effectiveLevel, type AuditRequest } from '../../../lib/audit/event.ts';
import type { AuditSink } from '../../../lib/audit/writer.ts';
import type { ApiRequest, RequestObserver } from './observe.ts';

interface State {
  decision: AuditDecision;
  /** Whether the decision saw the user (the typed gRPC API asks for bodies before it authenticates). */
  withUser: boolean;
  receivedWritten: boolean;
}

export interface AuditObserverOptions {
  policy: Policy;
  sink: AuditSink;
}

/** The policy's decision for a request as the record stands. */
export function decide(policy: Policy, request: ApiRequest): AuditDecision {
  return evaluatePolicy(policy, {
    user: request.user,
    verb: request.verb,
    resourceRequest: request.resourceRequest,
    group: request.group,
    resource: request.resource,
    subresource: request.subresource,
    namespace: request.namespace,
    name: request.name,
    path: request.requestUri.split('?')[0] ?? '',
  });
}

export class AuditObserver implements RequestObserver {
  private readonly policy: Policy;
  private readonly sink: AuditSink;
  /** Each request's decision, kept with the record and gone with it. */
  private readonly states = new WeakMap<ApiRequest, State>();

  constructor(options: AuditObserverOptions) {
    this.policy = options.policy;
    this.sink = options.sink;
  }

  wantsBodies(request: ApiRequest): 'none' | 'request' | 'requestResponse' {
    const level = effectiveLevel(this.state(request).decision.level, request);
    if (level === 'None' || !request.resourceRequest) return 'none';
    if (level === 'RequestResponse') return 'requestResponse';
    if (level === 'Request') return 'request';
    // At Metadata a create's object is still read for its name, as kube's objectRef names the
    // object created; the object itself is not written.
    return request.verb === 'create' ? 'request' : 'none';
  }

  responseStarted(request: ApiRequest): void {
    this.record(request, 'ResponseStarted');
  }

  finished(request: ApiRequest): void {
    this.record(request, 'ResponseComplete');
  }

  private state(request: ApiRequest): State {
    let state = this.states.get(request);
    if (state === undefined) {
      state = { decision: decide(this.policy, request), withUser: request.user !== undefined, receivedWritten: false };
      this.states.set(request, state);
    } else if (!state.withUser && request.user !== undefined) {
      // Decided before authentication: rules that name users or groups could not match then.
      state.decision = decide(this.policy, request);
      state.withUser = true;
    }
    return state;
  }

  private record(request: ApiRequest, stage: Stage): void {
    const state = this.state(request);
    const { decision } = state;
    if (levelLess(decision.level, 'Metadata')) return;
    if (!state.receivedWritten) {
      state.receivedWritten = true;
      if (!decision.omitStages.has('RequestReceived')) this.write(request, decision, 'RequestReceived', BigInt(request.received.getTime()) * 1000n);
    }
    if (!decision.omitStages.has(stage)) this.write(request, decision, stage, undefined);
  }

  private write(request: AuditRequest, decision: AuditDecision, stage: Stage, stageMicros: bigint | undefined): void {
    this.sink.write(buildEvent(request, { level: decision.level, stage, omitManagedFields: decision.omitManagedFields, ...(stageMicros !== undefined && { stageMicros }) }));
  }
}
