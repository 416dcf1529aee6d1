/** Kubernetes protobuf request bodies (kubectl 1.32+ sends them for typed creates): see ../protobuf.ts. */
import type { KubeObject } from '../../../../lib/kube.ts';
import { KubeProtobufDecoder, PROTOBUF_CONTENT_TYPE } from '../protobuf.ts';
import type { BodyDecoder } from './decoder.ts';

/**
 * The body decoder of one reader of protobuf bodies. The KubeProtobufDecoder reads nothing until
 * the first protobuf body arrives, then keeps the plans of the messages it has met.
 */
export function protobufBodyDecoder(decoder: KubeProtobufDecoder = new KubeProtobufDecoder()): BodyDecoder {
  return {
    mediaType: PROTOBUF_CONTENT_TYPE,
    // The decoder refuses what it cannot read; the JSON it makes comes from a bounded wire message.
    decode: (body) => ({ object: decoder.decode(body) as KubeObject, strictErrors: [] }),
  };
}
