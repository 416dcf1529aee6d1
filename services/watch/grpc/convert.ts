/**
 * Watch targets from their proto form, for the watch service's RPCs (the options' conversion is
 * lib/list-options.ts's, shared with the gateway's typed API).
 */
import { badRequest } from '../../../lib/errors.ts';
import type { ResourceRef__Output } from '../../../lib/gen/apiserver/v1/ResourceRef.ts';
import type { WatchTarget } from '../core/watch-service.ts';

export function watchTargetFromProto(ref: ResourceRef__Output | null | undefined): WatchTarget {
  if (ref === null || ref === undefined || ref.resource === '') throw badRequest('ref.resource is required');
  return { group: ref.group, version: ref.version, resource: ref.resource, namespace: ref.namespace };
}
