/**
 * Content negotiation of the REST front door: which representation an Accept header asks for
 * (JSON, YAML or Kubernetes protobuf; an object or a meta.k8s.io Table; aggregated discovery),
 * and what Status errors are written in. The body's Content-Type is read by the request-info
 * step (media/decoder.ts).
 */
import { StatusError } from '../../../lib/errors.ts';
import { PROTOBUF_CONTENT_TYPE } from './protobuf.ts';

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

/**
 * The media types resource responses are served in, in kube's order (the first is the default).
 * kube lists protobuf for custom resources too (their serializer has it, for Status and
 * metadata), although it never answers their objects in it.
 */
export const RESPONSE_MEDIA_TYPES = ['application/json', 'application/yaml', PROTOBUF_CONTENT_TYPE] as const;
/** Those of them a watch can stream (YAML has no framing for a stream of objects). */
export const STREAM_MEDIA_TYPES = ['application/json;stream=watch', `${PROTOBUF_CONTENT_TYPE};stream=watch`] as const;

/** The serialization of a response. */
export type OutputFormat = 'json' | 'yaml' | 'protobuf';

/** What a resource request's response should be: its serialization, and whether it is a meta.k8s.io Table. */
export interface Representation {
  format: OutputFormat;
  table: boolean;
}

function formatOf(type: string): OutputFormat | undefined {
  if (isJson(type)) return 'json';
  if (type === 'application/yaml') return 'yaml';
  if (type === PROTOBUF_CONTENT_TYPE) return 'protobuf';
  return undefined;
}

/**
 * Whether a range's `stream` parameter rules it out, as kube's acceptMediaTypeOptions: only
 * `stream=watch`, and only on a media type that can be streamed (not YAML).
 */
function badStream(range: MediaRange, format: OutputFormat): boolean {
  const stream = range.params.stream;
  return stream !== undefined && stream !== '' && (stream !== 'watch' || format === 'yaml');
}

function notAcceptable(accepted: readonly string[]): StatusError {
  return new StatusError('NotAcceptable', `only the following media types are accepted: ${accepted.join(', ')}`);
}

/**
 * The first acceptable representation in the client's order, as kube's NegotiateOutputMediaType:
 * JSON for application/json or wildcards, YAML for application/yaml, Kubernetes protobuf for
 * application/vnd.kubernetes.protobuf when `protobuf()` says the resource has it (built-in
 * kinds; a custom resource's range is skipped, as kube's StandardSerializers leave protobuf out
 * for them); a Table when a JSON or YAML range asks `as=Table;g=meta.k8s.io;v=v1|v1beta1`.
 * Other representations (Tables in protobuf, PartialObjectMetadata) are skipped; NotAcceptable,
 * listing the media types served, when nothing is left. `protobuf` is called only when a
 * protobuf range is reached, so JSON clients never pay for the lookup.
 */
export function negotiateResource(accept: string | undefined, protobuf: () => boolean = () => false): Representation {
  for (const range of parseAccept(accept)) {
    const format = formatOf(range.type);
    if (format === undefined || badStream(range, format)) continue;
    const as = range.params.as;
    if (format === 'protobuf') {
      if (as === undefined && protobuf()) return { format, table: false };
      continue;
    }
    if (as === undefined) return { format, table: false };
    if (as === 'Table' && range.params.g === 'meta.k8s.io' && (range.params.v === 'v1' || range.params.v === 'v1beta1')) {
      return { format, table: true };
    }
  }
  throw notAcceptable(RESPONSE_MEDIA_TYPES);
}

/**
 * The representation of a watch stream: negotiated as any response is (406 as there when
 * nothing is acceptable), and then, as kube's NegotiateOutputMediaTypeStream, refused with 406
 * listing the stream media types when the chosen one cannot be streamed (YAML). JSON streams
 * lines; protobuf streams length-prefixed frames (response.ts).
 */
export function negotiateWatch(accept: string | undefined, protobuf: () => boolean = () => false): Representation {
  const representation = negotiateResource(accept, protobuf);
  if (representation.format === 'yaml') throw notAcceptable(STREAM_MEDIA_TYPES);
  return representation;
}

/**
 * The format of a resource request's Status errors, as kube's ErrorNegotiated: negotiated from
 * Accept apart from the response's representation, without transformations (a range with `as`
 * is skipped: a Table client's errors are plain Status), protobuf included whatever the kind
 * (a Status always has a message); JSON when nothing is acceptable (kube's WriteRawJSON).
 */
export function negotiateErrorFormat(accept: string | undefined): OutputFormat {
  for (const range of parseAccept(accept)) {
    const format = formatOf(range.type);
    if (format === undefined || range.params.as !== undefined || badStream(range, format)) continue;
    return format;
  }
  return 'json';
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
