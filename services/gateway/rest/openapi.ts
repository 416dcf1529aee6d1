/**
 * The OpenAPI endpoints, served as kube-apiserver serves them (kube-openapi's handler and
 * handler3):
 * - `GET /openapi/v2`: JSON, or gnostic protobuf for
 *   `application/com.github.proto-openapi.spec.v2[@.]v1.0+protobuf` (what kubectl 1.27 asks).
 * - `GET /openapi/v3`: the index of group-version documents, each URL carrying `?hash=`.
 * - `GET /openapi/v3/api/v1`, `/openapi/v3/apis/<group>/<version>`: a group-version's JSON
 *   document. With `?hash=` of the current document it is cacheable for good
 *   (`Cache-Control: public, immutable`); with any other hash the client is redirected (301) to
 *   the current one.
 * Every answer has an ETag (the hash: upper-case hex SHA-512 of the JSON bytes; the protobuf form
 * shares its JSON's) and a matching If-None-Match is answered 304. Documents come from
 * {@link OpenApiDocuments}, which rebuilds them only when the kind registry changes.
 */
import { StatusError } from '../../../lib/errors.ts';
import type { Logger } from '../../../lib/log.ts';
import type { KindRegistry } from '../../../lib/kinds/index.ts';
import { OpenApiDocuments, type SchemaLookup } from '../../../lib/kinds/openapi.ts';
import { OpenApiV2Protobuf } from '../../../lib/kinds/openapi-proto.ts';
import type { EdgeRequest, EdgeResponse } from './body.ts';
import { parseAccept } from './negotiation.ts';

export const OPENAPI_V2_PROTOBUF = 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf';
const OPENAPI_V2_PROTOBUF_DEPRECATED = 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf';

export interface OpenApiEndpointsOptions {
  registry: KindRegistry;
  schemas: SchemaLookup;
  logger: Logger;
  /** The server's gitVersion, for the documents' `info.version`. */
  version: string;
}

/** A representation a request may ask for, and the Content-Type it is answered with. */
interface Offer {
  readonly mediaType: string;
  readonly contentType: string;
}

const JSON_OFFER: Offer = { mediaType: 'application/json', contentType: 'application/json' };
const V2_OFFERS: readonly Offer[] = [
  JSON_OFFER,
  { mediaType: OPENAPI_V2_PROTOBUF_DEPRECATED, contentType: OPENAPI_V2_PROTOBUF },
  { mediaType: OPENAPI_V2_PROTOBUF, contentType: OPENAPI_V2_PROTOBUF },
];
const V3_OFFERS: readonly Offer[] = [JSON_OFFER];

/**
 * The first offer an Accept header takes, its ranges ordered as goautoneg orders them (by
 * quality, then specific before wildcard, then as written); undefined when none. No header
 * takes the first offer.
 */
export function negotiateOffer(accept: string | undefined, offers: readonly Offer[]): Offer | undefined {
  const ranges = parseAccept(accept)
    .map((range, index) => {
      const [type = '', subtype = ''] = range.type.split('/');
      const q = range.params.q === undefined ? 1 : Number(range.params.q);
      return { type, subtype, q: Number.isFinite(q) ? q : 0, index };
    })
    .filter((r) => r.q > 0)
    .sort((a, b) => b.q - a.q || specificity(b) - specificity(a) || a.index - b.index);
  for (const range of ranges) {
    for (const offer of offers) {
      const [type, subtype] = offer.mediaType.split('/');
      if ((range.type === type || range.type === '*') && (range.subtype === subtype || range.subtype === '*')) return offer;
    }
  }
  return undefined;
}

function specificity(r: { type: string; subtype: string }): number {
  return r.type === '*' ? 0 : r.subtype === '*' ? 1 : 2;
}

/** Whether an If-None-Match header names `etag` (quoted), weakly compared, or is `*`. */
function matches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (ifNoneMatch === undefined) return false;
  return ifNoneMatch.split(',').some((tag) => {
    const t = tag.trim();
    return t === '*' || t.replace(/^W\//, '') === etag;
  });
}

export class OpenApiEndpoints {
  private readonly documents: OpenApiDocuments;
  private readonly protobuf: OpenApiV2Protobuf;
  private readonly logger: Logger;

  constructor(options: OpenApiEndpointsOptions) {
    this.logger = options.logger;
    this.documents = new OpenApiDocuments({
      registry: options.registry,
      schemas: options.schemas,
      info: { title: 'Kubernetes', version: options.version },
      onMissing: (names) => this.logger.warn('OpenAPI: definitions not found, published as any object', { names }),
    });
    this.protobuf = new OpenApiV2Protobuf();
  }

  /**
   * Answers a GET or HEAD of `/openapi/<rest>` (`rest`: `v2`, `v3`, `v3/api/v1`, ...). Throws
   * StatusError (NotFound, NotAcceptable) for what it cannot answer.
   */
  serve(req: EdgeRequest, res: EdgeResponse, rest: string, query: URLSearchParams): void {
    if (rest === 'v2') {
      this.serveV2(req, res);
      return;
    }
    if (rest === 'v3') {
      const index = this.documents.v3Index();
      this.write(req, res, index.json, 'application/json', index.hash, {});
      return;
    }
    if (rest.startsWith('v3/')) {
      this.serveV3GroupVersion(req, res, rest.slice('v3/'.length), query);
      return;
    }
    throw new StatusError('NotFound', 'the server could not find the requested resource');
  }

  private serveV2(req: EdgeRequest, res: EdgeResponse): void {
    const offer = negotiateOffer(req.headers.accept, V2_OFFERS);
    if (offer === undefined) throw notAcceptable(V2_OFFERS);
    if (offer === JSON_OFFER) {
      const v2 = this.documents.v2();
      this.write(req, res, v2.json, offer.contentType, v2.hash, { Vary: 'Accept' });
      return;
    }
    const { bytes, hash } = this.documents.v2Derived('protobuf', (doc) => this.protobuf.encode(doc));
    this.write(req, res, bytes, offer.contentType, hash, { Vary: 'Accept' });
  }

  private serveV3GroupVersion(req: EdgeRequest, res: EdgeResponse, groupVersion: string, query: URLSearchParams): void {
    const offer = negotiateOffer(req.headers.accept, V3_OFFERS);
    const doc = this.documents.v3(groupVersion);
    if (doc === undefined) throw new StatusError('NotFound', 'the server could not find the requested resource');
    if (offer === undefined) throw notAcceptable(V3_OFFERS);
    const hash = query.get('hash');
    if (hash !== null && hash !== '') {
      if (hash !== doc.hash) {
        // A stale hash: kube sends the client to the current document.
        res.writeHead(301, { Location: `/openapi/v3/${groupVersion}?hash=${doc.hash}`, ETag: `"${doc.hash}"`, Vary: 'Accept', 'Content-Length': 0 });
        res.end();
        return;
      }
      // The URL names these bytes for good.
      const expires = new Date(Date.now() + 365 * 24 * 3600 * 1000).toUTCString();
      this.write(req, res, doc.json, offer.contentType, doc.hash, { Vary: 'Accept', 'Cache-Control': 'public, immutable', Expires: expires });
      return;
    }
    this.write(req, res, doc.json, offer.contentType, doc.hash, { Vary: 'Accept' });
  }

  private write(req: EdgeRequest, res: EdgeResponse, body: Buffer, contentType: string, hash: string, headers: Record<string, string>): void {
    const etag = `"${hash}"`;
    const common = { ETag: etag, 'Cache-Control': 'no-cache, private', ...headers };
    if (matches(req.headers['if-none-match'], etag)) {
      res.writeHead(304, common);
      res.end();
      return;
    }
    res.writeHead(200, { ...common, 'Content-Type': contentType, 'Content-Length': body.length });
    res.end(body);
  }
}

function notAcceptable(offers: readonly Offer[]): StatusError {
  return new StatusError('NotAcceptable', `only the following media types are accepted: ${offers.map((o) => o.mediaType).join(', ')}`);
}
