/**
 * Content negotiation of the REST front door: which representation an Accept header asks for
 * (plain JSON, a meta.k8s.io Table, aggregated discovery), and whether a request body's
 * Content-Type is one we read.
 */
import { StatusError } from '../../../lib/errors.ts';

/** One media range of an Accept header, with its parameters (lower-cased names). */
export interface MediaRange {
  type: string;
  params: Record<string, string>;
}

export function parseAccept(header: string | undefined): MediaRange[] {
  if (header === undefined || header.trim() === '') return [{ type: '*/*', params: {} }];
  return header.split(',').map((part) => {
    const [type = '', ...rest] = part.split(';').map((s) => s.trim());
    const params: Record<string, string> = {};
    for (const p of rest) {
      const eq = p.indexOf('=');
      if (eq > 0) params[p.slice(0, eq).trim().toLowerCase()] = p.slice(eq + 1).trim().replace(/^"|"$/g, '');
    }
    return { type: type.toLowerCase(), params };
  });
}

function isJson(type: string): boolean {
  return type === 'application/json' || type === 'application/*' || type === '*/*';
}

/** What a resource request's response should be. */
export type ResourceRepresentation = 'json' | 'table';

/**
 * The first acceptable representation in the client's order: a Table when a range asks
 * `as=Table;g=meta.k8s.io;v=v1|v1beta1`, plain JSON for application/json or wildcards. Other
 * representations (protobuf, PartialObjectMetadata) are skipped; NotAcceptable when nothing is left.
 */
export function negotiateResource(accept: string | undefined): ResourceRepresentation {
  for (const range of parseAccept(accept)) {
    if (!isJson(range.type)) continue;
    const as = range.params.as;
    if (as === undefined) return 'json';
    if (as === 'Table' && range.params.g === 'meta.k8s.io' && (range.params.v === 'v1' || range.params.v === 'v1beta1')) {
      return 'table';
    }
  }
  throw new StatusError('NotAcceptable', 'only the following media types are accepted: application/json, application/json;as=Table;v=v1;g=meta.k8s.io');
}

/** Whether the client asks for aggregated discovery (apidiscovery.k8s.io/v2) before plain. */
export function wantsAggregatedDiscovery(accept: string | undefined): boolean {
  for (const range of parseAccept(accept)) {
    if (!isJson(range.type)) continue;
    if (range.params.as === 'APIGroupDiscoveryList' && range.params.g === 'apidiscovery.k8s.io' && range.params.v === 'v2') return true;
    if (range.params.as === undefined) return false;
  }
  return false;
}

export const AGGREGATED_DISCOVERY_CONTENT_TYPE = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList';

/** Refuses a body we cannot read (415, as kube-apiserver). */
export function checkBodyContentType(contentType: string | undefined): void {
  const type = (contentType ?? 'application/json').split(';')[0]?.trim().toLowerCase() ?? '';
  if (type === 'application/json' || type === '') return;
  throw new StatusError(
    'UnsupportedMediaType',
    `the body of the request was in an unknown format - accepted media types include: application/json`,
  );
}
