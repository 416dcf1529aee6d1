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
    // The decoder refuses what it cannot read or what nests too deeply, and reserves what the
    // object it makes will take as it reads the body.
    decode: (body, reserve) => ({ object: decoder.decode(body, reserve) as KubeObject, strictErrors: [] }),
  };
}
