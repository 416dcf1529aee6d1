/** JSON request bodies: checked (UTF-8, nesting) and their cost reserved before they are parsed. */
import { checkUntrustedJson, parsedSizeEstimate, parseObjectBytes } from '../../../../lib/kube.ts';
import type { BodyDecoder, DecodedBody } from './decoder.ts';

export const JSON_MEDIA_TYPE = 'application/json';

/**
 * Decodes JSON bytes into an object the way every body ends: checked, then what the parsed
 * object will take reserved (a body of many small values costs many times its bytes once
 * parsed, in this process and the next ones), then parsed. The YAML decoder ends here too.
 */
export function decodeJsonObject(body: Buffer, reserve: (bytes: number) => void): DecodedBody {
  const shape = checkUntrustedJson(body);
  reserve(parsedSizeEstimate(body.length, shape));
  // The bytes and their key count go along: duplicate fields can only be seen in them.
  return { object: parseObjectBytes(body), strictErrors: [], source: { bytes: body, keys: shape.keys } };
}

export const JSON_DECODER: BodyDecoder = { mediaType: JSON_MEDIA_TYPE, decode: decodeJsonObject };
