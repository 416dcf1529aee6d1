/** Kubernetes protobuf request bodies (kubectl 1.32+ sends them for typed creates): see ../protobuf.ts. */
import type { KubeObject } from '../../../../lib/kube.ts';
import { decodeKubeProtobuf, PROTOBUF_CONTENT_TYPE } from '../protobuf.ts';
import type { BodyDecoder } from './decoder.ts';

export const PROTOBUF_DECODER: BodyDecoder = {
  mediaType: PROTOBUF_CONTENT_TYPE,
  // The decoder refuses what it cannot read; the JSON it makes comes from a bounded wire message.
  decode: (body) => ({ object: decodeKubeProtobuf(body) as KubeObject, strictErrors: [] }),
};
