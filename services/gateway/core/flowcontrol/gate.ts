/**
 * The flow-control step of a request, as kube's WithPriorityAndFairness filter runs it after
 * authentication and impersonation and before authorization: classify, then run at once, wait
 * in a queue (leaving it when the client goes away), or be refused. Knows nothing of HTTP: the
 * front door writes the headers and the 429 (see the REST handler).
 */
import type { UserInfo } from '../../../auth/api.ts';
import type { RequestDigest } from './classify.ts';
import type { Classification, FlowControl } from './controller.ts';

/** kube's response headers naming the matched objects by UID (k8s.io/api flowcontrol/v1). */
export const FLOW_SCHEMA_UID_HEADER = 'X-Kubernetes-PF-FlowSchema-UID';
export const PRIORITY_LEVEL_UID_HEADER = 'X-Kubernetes-PF-PriorityLevel-UID';
/** The body of kube's APF rejection (http.Error: plain text, a newline after it). */
export const TOO_MANY_REQUESTS_MESSAGE = 'Too many requests, please try again later.';

export type GateResult =
  | { admitted: true; classification: Classification; release: () => void }
  | { admitted: false; classification: Classification; retryAfterSeconds: number };

/** A request's digest from what the front door worked out (RequestInfo and user). */
export function requestDigest(
  user: UserInfo,
  request:
    | { resourceRequest: true; verb: string; apiGroup: string; resource: string; subresource: string; namespace: string }
    | { resourceRequest: false; verb: string; path: string },
): RequestDigest {
  const u = { username: user.username, groups: user.groups };
  if (request.resourceRequest) return { user: u, path: '', ...request };
  return { user: u, resourceRequest: false, verb: request.verb, path: request.path, apiGroup: '', resource: '', subresource: '', namespace: '' };
}

/**
 * Passes a request through flow control. Admitted: the caller calls release() when the request
 * is done (a watch: once its stream has started). Refused: the caller answers 429 with the
 * Retry-After given. A request still waiting when `gone` fires leaves its queue (refused).
 */
export async function passGate(flowControl: FlowControl, digest: RequestDigest, gone: AbortSignal): Promise<GateResult> {
  const admission = flowControl.admit(digest);
  const { classification } = admission;
  if (admission.kind === 'execute') return { admitted: true, classification, release: admission.seat.release };
  if (admission.kind === 'reject') return { admitted: false, classification, retryAfterSeconds: admission.retryAfterSeconds };
  const cancel = () => admission.cancel();
  gone.addEventListener('abort', cancel, { once: true });
  if (gone.aborted) cancel();
  const outcome = await admission.outcome;
  gone.removeEventListener('abort', cancel);
  if (outcome.kind === 'execute') return { admitted: true, classification, release: outcome.seat.release };
  return { admitted: false, classification, retryAfterSeconds: outcome.retryAfterSeconds };
}
