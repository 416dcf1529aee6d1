/**
 * The body decoders of the REST edge, one per media type, and the one choice among them by a
 * request's Content-Type (as kube's NegotiateInputSerializer: no Content-Type is JSON, the
 * first media type served; parameters such as charset are ignored; anything else is 415).
 */
import { StatusError } from '../../../../lib/errors.ts';
import type { JsonSource } from '../../../../lib/kinds/validate.ts';
import type { KubeObject } from '../../../../lib/kube.ts';
import { JSON_DECODER } from './json.ts';
import { KubeProtobufDecoder } from '../protobuf.ts';
import { protobufBodyDecoder } from './protobuf.ts';
import { APPLY_PATCH_YAML_MEDIA_TYPE, YAML_DECODER } from './yaml.ts';

/** A decoded body: the object, and what strict decoding found wrong in it (duplicate fields). */
export interface DecodedBody {
  object: KubeObject;
  /**
   * kube's strict decoding errors (e.g. `line 3: key "a" already set in map`): refused under
   * fieldValidation=Strict, sent as warnings under Warn (the default), dropped under Ignore.
   */
  strictErrors: string[];
  /** The JSON the object was parsed from, for the schema decoding's duplicate-field check (none for protobuf). */
  source?: JsonSource;
}

/** Decodes whole request bodies of one media type. */
export interface BodyDecoder {
  readonly mediaType: string;
  /**
   * Decodes `body` (never empty) into an object. `reserve(bytes)` claims what the decoded
   * object will take from the gateway's budget of bytes in flight (it throws 429 when the
   * budget cannot take it), before the object is built. Throws StatusError (400, 413, 415).
   */
  decode(body: Buffer, reserve: (bytes: number) => void): DecodedBody;
}

/** The media types request bodies may have, in kube's order (its 415 message lists them so). */
export const BODY_MEDIA_TYPES = ['application/json', 'application/yaml', 'application/vnd.kubernetes.protobuf'] as const;

/** kube's 415, listing the media types request bodies may have. */
export function unsupportedMediaType(): StatusError {
  return new StatusError('UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: ${BODY_MEDIA_TYPES.join(', ')}`);
}

// One protobuf decoder for the process: what it holds is a cache of plans built from the
// committed generated schemas (the same for every request), and nothing is read until the first
// protobuf body arrives. Protobuf answers are encoded with the same plans (sharedProtobufPlans).
const PROTOBUF_PLANS = new KubeProtobufDecoder();
const PROTOBUF_DECODER = protobufBodyDecoder(PROTOBUF_PLANS);

/** The plans the protobuf body decoder reads with, for the encoder of protobuf answers to share. */
export function sharedProtobufPlans(): KubeProtobufDecoder {
  return PROTOBUF_PLANS;
}

const DECODERS: ReadonlyMap<string, BodyDecoder> = new Map([
  [JSON_DECODER.mediaType, JSON_DECODER],
  [YAML_DECODER.mediaType, YAML_DECODER],
  [PROTOBUF_DECODER.mediaType, PROTOBUF_DECODER],
]);

/** The media type of a Content-Type header, lower-cased, without parameters ("" when absent). */
export function mediaTypeOf(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

/**
 * The decoder of a body with this Content-Type; undefined when none reads it (the request is
 * answered 415 once it has a body to decode). `patch` lets the patch media types in (the
 * apply patch is YAML); no other verb takes them.
 */
export function bodyDecoderFor(contentType: string | undefined, options: { patch?: boolean } = {}): BodyDecoder | undefined {
  const type = mediaTypeOf(contentType);
  if (type === '') return JSON_DECODER;
  if (options.patch === true && type === APPLY_PATCH_YAML_MEDIA_TYPE) return YAML_DECODER;
  return DECODERS.get(type);
}
