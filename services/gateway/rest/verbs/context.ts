/**
 * What the handler of each verb is given: the request as the request-info step worked it out,
 * who sent it, and the pipeline, body reader and response writer it answers through.
 */
import { badRequest } from '../../../../lib/errors.ts';
import { encodedJsonOf, type KubeObject } from '../../../../lib/kube.ts';
import type { Logger } from '../../../../lib/log.ts';
import { withTypeMeta } from '../../../../lib/kinds/index.ts';
import { scaleKindOf } from '../../../../lib/kinds/scale.ts';
import type { UserInfo } from '../../../auth/api.ts';
import type { Pipeline, Target } from '../../core/pipeline.ts';
import { isApplyPatch } from '../../core/apply.ts';
import type { WarningRecorder } from '../../core/warnings.ts';
import { toTable } from '../../../../lib/kinds/printing.ts';
import type { BodyReader, EdgeRequest, EdgeResponse } from '../body.ts';
import type { DecodedBody } from '../media/decoder.ts';
import type { ProtobufAnswers } from '../media/protobuf.ts';
import { negotiateResource, negotiateWatch, type Representation } from '../negotiation.ts';
import { includeObjectPolicy, parseRestQuery, type RestQuery } from '../query.ts';
import type { RequestInfo, RequestVerb } from '../request-info.ts';
import type { ResponseWriter } from '../response.ts';

export interface VerbContext {
  req: EdgeRequest;
  res: EdgeResponse;
  info: RequestInfo & { verb: RequestVerb };
  user: UserInfo;
  pipeline: Pipeline;
  bodies: BodyReader;
  writer: ResponseWriter;
  /** Encodes protobuf answers (the writer's), and says which kinds have them. */
  protobuf: ProtobufAnswers;
  /** The request's warnings (sent by the writer with the answer). */
  warnings: WarningRecorder;
  logger: Logger;
  clock: () => Date;
  /** Fires when the client goes away. */
  closed: AbortSignal;
  /** Fires when the gateway shuts down (ends watches; other requests are left to finish). */
  stopping: AbortSignal;
}

/** Handles one verb of a resource request, writing its answer (or throwing a StatusError). */
export type VerbHandler = (ctx: VerbContext) => Promise<void>;

/**
 * Whether the answer to a request can be protobuf: the kind has it (built-in), or the answer is
 * a Scale (kube's scale scope offers protobuf for custom resources' /scale too); a custom
 * resource's own answers, its /status included, are never protobuf.
 */
function protobufAnswer(ctx: VerbContext): boolean {
  return ctx.protobuf.serves(ctx.info.subresource === 'scale' ? scaleKindOf(ctx.info.resource) : ctx.info.resource);
}

/**
 * The representation of a request's answer, negotiated from its Accept header: protobuf only
 * when the answer has it (protobufAnswer), looked up only when the client asks for protobuf.
 */
export function representationOf(ctx: VerbContext): Representation {
  return negotiateResource(ctx.req.headers.accept, () => protobufAnswer(ctx));
}

/** The representation of a watch stream (see negotiateWatch). */
export function streamRepresentationOf(ctx: VerbContext): Representation {
  return negotiateWatch(ctx.req.headers.accept, () => protobufAnswer(ctx));
}

/** The pipeline's target of a request. */
export function targetOf(info: RequestInfo): Target {
  return { info: info.resource, namespace: info.namespace, name: info.name, subresource: info.subresource };
}

/** The verb's query, and the signal that ends a non-watch request: its client gone, or ?timeout= (kube's request deadline) passed. */
export function queryAndDeadline(ctx: VerbContext): { query: RestQuery; signal: AbortSignal } {
  const apply = ctx.info.verb === 'patch' && isApplyPatch(ctx.req.headers['content-type']);
  const query = parseRestQuery(ctx.info.query, ctx.info.verb, { apply });
  return { query, signal: AbortSignal.any([ctx.closed, AbortSignal.timeout(query.timeoutMs)]) };
}

/**
 * The object of a decoded body, with what strict decoding found (duplicate fields) handled per
 * fieldValidation as kube's handlers do: Strict refuses it (400 `strict decoding error: ...`),
 * Warn (the default) sends each finding as a warning, Ignore drops them.
 */
export function withFieldValidation(decoded: DecodedBody, fieldValidation: string, warnings: WarningRecorder): KubeObject {
  if (decoded.strictErrors.length === 0) return decoded.object;
  const directive = fieldValidation === '' ? 'Warn' : fieldValidation;
  if (directive === 'Strict') throw badRequest(`strict decoding error: ${decoded.strictErrors.join(', ')}`);
  if (directive === 'Warn') {
    for (const error of decoded.strictErrors) {
      // A YAML error lists its findings a line each: one warning each (kube's parseYAMLWarnings).
      const body = error.replace(/^yaml: unmarshal errors:\n/, '').replace(/^error converting YAML to JSON: yaml: unmarshal errors:\n/, '');
      for (const line of body.split('\n')) warnings.add(line.trim());
    }
  }
  return decoded.object;
}

/**
 * Writes one object, or it as a Table when the client asked for one (a Scale printed as kube
 * prints Scales). With `storedJson` (get and create, whose answer is the object storage
 * answered, when nothing changed it), an object that still has the JSON storage encoded it as
 * is sent as those bytes when the client asked for JSON: they are what encoding it would give.
 */
export function writeObject(ctx: VerbContext, code: number, object: KubeObject, representation: Representation, query: RestQuery, options: { storedJson?: boolean } = {}): void {
  if (representation.table) {
    const info = ctx.info.subresource === 'scale' ? scaleKindOf(ctx.info.resource) : ctx.info.resource;
    const table = toTable(info.printer, [withTypeMeta(object, info)], { now: ctx.clock(), includeObject: includeObjectPolicy(query), listMeta: {} });
    ctx.writer.write(code, table, representation.format);
    return;
  }
  const json = options.storedJson === true && representation.format === 'json' ? encodedJsonOf(object) : undefined;
  if (json !== undefined) ctx.writer.encodedJson(code, json, () => object);
  else ctx.writer.write(code, object, representation.format);
}
