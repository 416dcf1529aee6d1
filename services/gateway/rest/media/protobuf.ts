/**
 * Kubernetes protobuf bodies (`application/vnd.kubernetes.protobuf`): request bodies (kubectl
 * 1.32+ sends them for typed creates; decoded by ../protobuf.ts) and answers (encoded by
 * ../protobuf-encode.ts), framed as kube-apiserver frames them:
 * - an object, a list or a Status: the magic `k8s\x00`, then a runtime.Unknown whose TypeMeta
 *   names the object's apiVersion and kind and whose `raw` is the object's message (kube's
 *   protobuf Serializer: Unknown's fields in number order, its empty contentEncoding and
 *   contentType written, as go-to-protobuf writes value fields);
 * - a watch event (`;stream=watch`): a 4-byte big-endian length, then a metav1.WatchEvent written
 *   bare (kube's RawSerializer: no magic, no Unknown), whose `object.raw` is the event's object
 *   framed as above (kube's embedded encoder is the full Serializer).
 */
import { Buffer } from 'node:buffer';
import { StatusError } from '../../../../lib/errors.ts';
import type { KubeObject } from '../../../../lib/kube.ts';
import { apiVersionOf, type KindDefinition } from '../../../../lib/kinds/index.ts';
import { KubeProtobufDecoder, PROTOBUF_CONTENT_TYPE } from '../protobuf.ts';
import { KubeProtobufEncoder, lengthDelimitedField } from '../protobuf-encode.ts';
import type { BodyDecoder } from './decoder.ts';

/** The Content-Type of a protobuf watch stream. */
export const PROTOBUF_STREAM_CONTENT_TYPE = `${PROTOBUF_CONTENT_TYPE};stream=watch`;

/** `k8s\x00`: kube's protobuf Serializer's prefix (its fourth byte: the Unknown encoding). */
const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);
const EMPTY = Buffer.alloc(0);

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

/**
 * `raw` (an object's message) in kube's envelope: `k8s\x00` and a runtime.Unknown of
 * TypeMeta{apiVersion, kind} (field 1: apiVersion 1, kind 2), raw (2), contentEncoding (3) and
 * contentType (4), the last two empty and written, as kube writes them.
 */
export function protobufEnvelope(apiVersion: string, kind: string, raw: Buffer): Buffer {
  const typeMeta = Buffer.concat([lengthDelimitedField(1, Buffer.from(apiVersion)), lengthDelimitedField(2, Buffer.from(kind))]);
  return Buffer.concat([MAGIC, lengthDelimitedField(1, typeMeta), lengthDelimitedField(2, raw), lengthDelimitedField(3, EMPTY), lengthDelimitedField(4, EMPTY)]);
}

/**
 * One frame of a protobuf watch stream: the length of the event (4 bytes, big-endian: kube's
 * LengthDelimitedFramer), then metav1.WatchEvent{type (1), object (2): RawExtension{raw (1)}}
 * with `object` the event's object in its envelope.
 */
export function protobufWatchFrame(type: string, object: Buffer): Buffer {
  const event = Buffer.concat([lengthDelimitedField(1, Buffer.from(type)), lengthDelimitedField(2, lengthDelimitedField(1, object))]);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(event.length);
  return Buffer.concat([length, event]);
}

/**
 * Answers in Kubernetes protobuf: objects, lists and Statuses as their generated messages, in
 * kube's envelope, with the plans of a KubeProtobufDecoder (shared with the body decoder, so a
 * message's plan is built once). Nothing is read until the first protobuf answer.
 */
export class ProtobufAnswers {
  readonly #plans: KubeProtobufDecoder;
  readonly #encoder: KubeProtobufEncoder;

  constructor(plans: KubeProtobufDecoder) {
    this.#plans = plans;
    this.#encoder = new KubeProtobufEncoder(plans);
  }

  /**
   * Whether objects of `kind` are answered in protobuf: a built-in kind with a generated message
   * (kube has protobuf for its own types, and none for custom resources).
   */
  serves(kind: KindDefinition): boolean {
    return kind.source === 'builtin' && this.#plans.messageOf(apiVersionOf(kind), kind.kind) !== undefined;
  }

  /**
   * `object` (an object, a list or a Status, with its apiVersion and kind) as kube writes it,
   * envelope included. Throws NotAcceptable for a kind without a generated message (kube's
   * answer for an object its protobuf serializer cannot write), InternalError for a value its
   * field cannot hold (protobuf-encode.ts).
   */
  encode(object: unknown): Buffer {
    const { apiVersion, kind } = (object ?? {}) as { apiVersion?: unknown; kind?: unknown };
    return this.encodeAs(typeof apiVersion === 'string' ? apiVersion : '', typeof kind === 'string' ? kind : '', object);
  }

  /** `object` as the message of `apiVersion` `kind` (whatever the object says), envelope included. */
  encodeAs(apiVersion: string, kind: string, object: unknown): Buffer {
    const message = kind === '' ? undefined : this.#plans.messageOf(apiVersion, kind);
    if (message === undefined) {
      throw new StatusError('NotAcceptable', `object ${apiVersion}, Kind=${kind} cannot be encoded to a protobuf message`);
    }
    return protobufEnvelope(apiVersion, kind, this.#encoder.encode(message, object));
  }
}
