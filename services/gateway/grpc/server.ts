/**
 * The typed resource API over gRPC for internal components: the same Pipeline as REST, with
 * the caller's bearer token in the `authorization` metadata, and the same limits: an object
 * may be as large as a REST body.
 */
import type { Metadata } from '@grpc/grpc-js';
import { badRequest, StatusError } from '../../../lib/errors.ts';
import { MESSAGE_FRAMING_BYTES } from '../../../lib/grpc/limits.ts';
import type { CallContext, ServiceHandlers } from '../../../lib/grpc/serve.ts';
import { checkUntrustedJson, MAX_JSON_DEPTH, objectBytes, parsedSizeEstimate, parseObjectBytes, scanJson, type KubeObject } from '../../../lib/kube.ts';
import type { JsonSource } from '../../../lib/kinds/validate.ts';
import { PATCH_MEDIA_TYPES } from '../../../lib/patch/index.ts';
import { APPLY_PATCH_YAML_MEDIA_TYPE, decodeApplyBody, type ApplyConfiguration } from '../core/apply.ts';
import type { PatchRequest__Output } from '../../../lib/gen/apiserver/v1/PatchRequest.ts';
import type { KindRegistry } from '../../../lib/kinds/index.ts';
import { listOptionsFromProto, watchOptionsFromProto } from '../../../lib/list-options.ts';
import type { CreateRequest__Output } from '../../../lib/gen/apiserver/v1/CreateRequest.ts';
import type { DeleteRequest__Output } from '../../../lib/gen/apiserver/v1/DeleteRequest.ts';
import type { DeleteCollectionRequest__Output } from '../../../lib/gen/apiserver/v1/DeleteCollectionRequest.ts';
import type { Preconditions__Output } from '../../../lib/gen/apiserver/v1/Preconditions.ts';
import type { DeletionOptions } from '../core/deletion.ts';
import type { ListResult } from '../../storage/api.ts';
import type { UpdateRequest__Output } from '../../../lib/gen/apiserver/v1/UpdateRequest.ts';
import type { GetRequest__Output } from '../../../lib/gen/apiserver/v1/GetRequest.ts';
import type { ListRequest__Output } from '../../../lib/gen/apiserver/v1/ListRequest.ts';
import type { ListResponse } from '../../../lib/gen/apiserver/v1/ListResponse.ts';
import type { ObjectResponse } from '../../../lib/gen/apiserver/v1/ObjectResponse.ts';
import type { ResourceRef__Output } from '../../../lib/gen/apiserver/v1/ResourceRef.ts';
import type { ResourcesHandlers } from '../../../lib/gen/apiserver/v1/Resources.ts';
import type { WatchEvent as ProtoWatchEvent } from '../../../lib/gen/apiserver/v1/WatchEvent.ts';
import type { WatchRequest__Output } from '../../../lib/gen/apiserver/v1/WatchRequest.ts';
import type { UserInfo } from '../../auth/api.ts';
import { watchEventToProto } from '../../watch/grpc/client.ts';
import { callCredentials, metadataPairs } from '../core/credentials.ts';
import { impersonationOf } from '../core/impersonation.ts';
import { currentApiRequest, type RequestObservers } from '../core/observe.ts';
import type { Pipeline, Target } from '../core/pipeline.ts';
import { WarningRecorder } from '../core/warnings.ts';
import { parseRestQuery } from '../rest/query.ts';
import { MAX_BODY_BYTES, tooLarge, tooManyRequests } from '../rest/body.ts';
import type { BodyBudget } from '../rest/edge-limits.ts';

/**
 * The largest request the Resources API takes: an object as large as a REST body, and the
 * rest of the message. A larger one is refused from its length prefix, before it is read and
 * before its caller is authenticated.
 */
export const RESOURCES_MAX_REQUEST_BYTES = MAX_BODY_BYTES + MESSAGE_FRAMING_BYTES;

/**
 * Runs `use` with the object of a create or update, checked as REST checks a body (its size,
 * UTF-8, nesting) and counted against the front door's budget of memory for bodies in flight
 * while it runs (TooManyRequests when the budget cannot take it, as over REST).
 */
async function withObject<T>(bytes: Buffer, budget: BodyBudget | undefined, use: (object: KubeObject, source: JsonSource) => Promise<T>): Promise<T> {
  if (bytes.length > MAX_BODY_BYTES) throw tooLarge();
  const shape = checkUntrustedJson(bytes);
  const cost = parsedSizeEstimate(bytes.length, shape);
  if (budget !== undefined && !budget.tryReserve(cost)) throw tooManyRequests();
  try {
    return await use(parseObjectBytes(bytes), { bytes, keys: shape.keys });
  } finally {
    budget?.release(cost);
  }
}

/** A patch's bytes, within the same limits as an object's (checked and parsed by the pipeline). */
export async function withPatch<T>(bytes: Buffer, budget: BodyBudget | undefined, use: () => Promise<T>): Promise<T> {
  if (bytes.length > MAX_BODY_BYTES) throw tooLarge();
  const cost = parsedSizeEstimate(bytes.length, scanJson(bytes, MAX_JSON_DEPTH));
  if (budget !== undefined && !budget.tryReserve(cost)) throw tooManyRequests();
  try {
    return await use();
  } finally {
    budget?.release(cost);
  }
}

/**
 * Runs `use` with an apply configuration decoded from its bytes (YAML or JSON) as a REST apply
 * body is, within the same limits, what it takes reserved from the budget while it runs.
 */
export async function withApplyConfiguration<T>(bytes: Buffer, budget: BodyBudget | undefined, use: (applied: ApplyConfiguration) => Promise<T>): Promise<T> {
  if (bytes.length > MAX_BODY_BYTES) throw tooLarge();
  let held = 0;
  const reserveUpTo = (n: number): void => {
    if (n <= held) return;
    if (budget !== undefined && !budget.tryReserve(n - held)) throw tooManyRequests();
    held = n;
  };
  try {
    return await use(decodeApplyBody(bytes, reserveUpTo));
  } finally {
    budget?.release(held);
  }
}

/** The options of a typed patch call (its type, fieldManager, force) as a pipeline patch or apply takes them. */
export interface TypedPatchFields {
  type: string;
  patch: Buffer;
  dryRun: boolean;
  fieldValidation: string;
  fieldManager: string;
  force: boolean;
}

/**
 * A typed Patch call through the pipeline: a patch, or for PATCH_TYPE_APPLY server-side apply
 * (its configuration decoded as REST decodes one; fieldManager required; force).
 */
export async function typedPatch(pipeline: Pipeline, caller: UserInfo, t: Target, req: TypedPatchFields, ctx: CallContext, budget: BodyBudget | undefined, warnings: WarningRecorder): Promise<KubeObject> {
  const apply = req.type === 'PATCH_TYPE_APPLY';
  const { fieldValidation, fieldManager, force } = writeOptions('patch', req, { apply, userAgent: userAgentOf(ctx.metadata) });
  const options = { dryRun: req.dryRun, fieldValidation, warnings, fieldManager, userAgent: userAgentOf(ctx.metadata) };
  if (apply) return withApplyConfiguration(req.patch, budget, async (applied) => (await pipeline.apply(caller, t, applied, { ...options, force }, ctx.signal)).object);
  const patch = { contentType: PATCH_CONTENT_TYPES[req.type], body: req.patch };
  return withPatch(req.patch, budget, () => pipeline.patch(caller, t, patch, options, ctx.signal));
}

/** The user-agent of a call (grpc-js sends "grpc-node-js/<version>"), whose prefix is the manager of a write that names none. */
export function userAgentOf(metadata: Metadata): string | undefined {
  const value = metadata.get('user-agent')[0];
  return typeof value === 'string' ? value : undefined;
}

/**
 * The write options of a typed call, checked as REST checks its query (422 Invalid
 * CreateOptions, UpdateOptions or PatchOptions in kube's words).
 */
export function writeOptions(
  verb: 'create' | 'update' | 'patch',
  fields: { fieldValidation: string; fieldManager?: string; force?: boolean },
  options: { apply?: boolean; userAgent?: string } = {},
): { fieldValidation: string; fieldManager: string; force: boolean } {
  const q = new URLSearchParams({ fieldValidation: fields.fieldValidation, fieldManager: fields.fieldManager ?? '' });
  // proto3 cannot tell false from unset: force=false is no force.
  if (fields.force === true) q.set('force', 'true');
  const query = parseRestQuery(q, verb, { apply: options.apply });
  return { fieldValidation: query.fieldValidation, fieldManager: query.fieldManager, force: query.force };
}

/** The DeleteOptions fields the delete requests of the gRPC APIs share. */
export interface DeleteOptionFields {
  preconditions: Preconditions__Output | null;
  dryRun: boolean;
  gracePeriodSeconds?: string;
  propagationPolicy: string;
  orphanDependents?: boolean;
}

/** The DeleteOptions of a delete request, checked as REST checks them (422 Invalid DeleteOptions in kube's words). */
export function deletionOptions(req: DeleteOptionFields): DeletionOptions {
  const q = new URLSearchParams();
  if (req.propagationPolicy !== '') q.set('propagationPolicy', req.propagationPolicy);
  if (req.orphanDependents !== undefined) q.set('orphanDependents', String(req.orphanDependents));
  if (req.gracePeriodSeconds !== undefined) q.set('gracePeriodSeconds', req.gracePeriodSeconds);
  const query = parseRestQuery(q, 'delete');
  if (query.gracePeriodSeconds !== undefined && !Number.isSafeInteger(query.gracePeriodSeconds)) throw badRequest(`gracePeriodSeconds out of range: ${req.gracePeriodSeconds ?? ''}`);
  return {
    preconditions: { uid: req.preconditions?.uid ?? '', resourceVersion: req.preconditions?.resourceVersion ?? '' },
    dryRun: req.dryRun,
    ...(query.gracePeriodSeconds === undefined ? {} : { gracePeriodSeconds: query.gracePeriodSeconds }),
    ...(query.propagationPolicy === undefined ? {} : { propagationPolicy: query.propagationPolicy }),
    ...(query.orphanDependents === undefined ? {} : { orphanDependents: query.orphanDependents }),
  };
}

/** A list result as ListResponse carries it. */
export function listResponse(result: ListResult): ListResponse {
  return {
    items: result.items.map(objectBytes),
    resourceVersion: result.resourceVersion,
    continue: result.continue,
    remainingItemCount: result.remainingItemCount ?? -1,
  };
}

/** The media type a typed patch type stands for (undefined: answered 415 as REST answers any other). */
export const PATCH_CONTENT_TYPES: Readonly<Record<string, string>> = {
  PATCH_TYPE_JSON: PATCH_MEDIA_TYPES.json,
  PATCH_TYPE_MERGE: PATCH_MEDIA_TYPES.merge,
  PATCH_TYPE_STRATEGIC_MERGE: PATCH_MEDIA_TYPES.strategic,
  PATCH_TYPE_APPLY: APPLY_PATCH_YAML_MEDIA_TYPE,
};

/**
 * Who a call is from, as REST works it out: its credentials (the token of its `authorization`
 * metadata, its TLS client certificate) authenticated, then what its `impersonate-*` metadata
 * asks, authorized with the `impersonate` verb. No path of the typed API takes anonymous calls.
 * With `observers`, the call's record learns its user and asks them again which bodies to keep.
 */
export async function callerOf(pipeline: Pipeline, ctx: CallContext, observers?: RequestObservers): Promise<UserInfo> {
  const authenticated = await pipeline.authenticate(callCredentials(ctx), ctx.signal);
  const record = currentApiRequest();
  if (record !== undefined) {
    record.user = authenticated;
    // Which bodies to keep was asked before the user was known (observe-calls.ts): a rule of
    // the audit policy naming users or groups may keep them (or none) for this user. The
    // pipeline keeps the request object after this, as every handler calls it afterwards.
    if (observers !== undefined) record.bodies = observers.wantsBodies(record);
  }
  const user = await pipeline.impersonate(authenticated, impersonationOf(metadataPairs(ctx.metadata)), ctx.signal);
  if (record !== undefined && user !== authenticated) record.impersonatedUser = user;
  return user;
}

/** The Resources service's handlers; `budget` is shared with REST (see BodyBudget). */
export function resourcesHandlers(pipeline: Pipeline, registry: KindRegistry, budget?: BodyBudget, observers?: RequestObservers): ServiceHandlers<ResourcesHandlers> {
  const target = (ref: ResourceRef__Output | null): Target => {
    if (ref === null || ref.resource === '') throw badRequest('ref.resource is required');
    const info = registry.get(ref.group, ref.version === '' ? 'v1' : ref.version, ref.resource);
    if (info === undefined) throw new StatusError('NotFound', `the server could not find the requested resource (${ref.resource})`);
    if (!info.namespaced && ref.namespace !== '') throw badRequest(`${ref.resource} is not namespaced`);
    return { info, namespace: ref.namespace, name: ref.name, subresource: ref.subresource };
  };
  const user = (ctx: CallContext): Promise<UserInfo> => callerOf(pipeline, ctx, observers);
  const named = (t: Target): Target => {
    if (t.name === '') throw badRequest('ref.name is required');
    return t;
  };

  return {
    Create: async (req: CreateRequest__Output, ctx: CallContext): Promise<ObjectResponse> => {
      // A create names no object, unless it is a POST to a subresource of one (pods/binding).
      const t = (req.ref?.subresource ?? '') === '' ? target(req.ref) : named(target(req.ref));
      if (t.info.namespaced && t.namespace === '') throw badRequest('ref.namespace is required');
      const caller = await user(ctx);
      const { fieldValidation, fieldManager } = writeOptions('create', req);
      const warnings = new WarningRecorder();
      const options = { dryRun: req.dryRun, fieldValidation, warnings, fieldManager, userAgent: userAgentOf(ctx.metadata) };
      const created = await withObject(req.object, budget, (object, source) => pipeline.create(caller, t, object, { ...options, source }, ctx.signal));
      return { object: objectBytes(created), warnings: warnings.warnings };
    },
    Get: async (req: GetRequest__Output, ctx: CallContext): Promise<ObjectResponse> => {
      const object = await pipeline.get(await user(ctx), named(target(req.ref)), { resourceVersion: req.resourceVersion }, ctx.signal);
      return { object: objectBytes(object) };
    },
    List: async (req: ListRequest__Output, ctx: CallContext): Promise<ListResponse> => {
      const result = await pipeline.list(await user(ctx), { ...target(req.ref), name: '' }, listOptionsFromProto(req.options), ctx.signal);
      return listResponse(result);
    },
    Update: async (req: UpdateRequest__Output, ctx: CallContext): Promise<ObjectResponse> => {
      const t = named(target(req.ref));
      const caller = await user(ctx);
      const { fieldValidation, fieldManager } = writeOptions('update', req);
      const warnings = new WarningRecorder();
      const options = { dryRun: req.dryRun, fieldValidation, warnings, fieldManager, userAgent: userAgentOf(ctx.metadata) };
      const updated = await withObject(req.object, budget, (object, source) => pipeline.update(caller, t, object, { ...options, source }, ctx.signal));
      return { object: objectBytes(updated), warnings: warnings.warnings };
    },
    Patch: async (req: PatchRequest__Output, ctx: CallContext): Promise<ObjectResponse> => {
      const t = named(target(req.ref));
      const caller = await user(ctx);
      const warnings = new WarningRecorder();
      const patched = await typedPatch(pipeline, caller, t, req, ctx, budget, warnings);
      return { object: objectBytes(patched), warnings: warnings.warnings };
    },
    Delete: async (req: DeleteRequest__Output, ctx: CallContext): Promise<ObjectResponse> => {
      const t = named(target(req.ref));
      const options = deletionOptions(req);
      const deleted = await pipeline.delete(await user(ctx), t, options, ctx.signal);
      return { object: objectBytes(deleted.object) };
    },
    DeleteCollection: async (req: DeleteCollectionRequest__Output, ctx: CallContext): Promise<ListResponse> => {
      const t = target(req.ref);
      if (t.name !== '') throw badRequest('ref.name must be empty: a collection is deleted');
      const options = deletionOptions(req);
      const result = await pipeline.deleteCollection(await user(ctx), t, listOptionsFromProto(req.options), options, ctx.signal);
      return listResponse(result);
    },
    Watch: async (req: WatchRequest__Output, ctx: CallContext, send: (m: ProtoWatchEvent) => Promise<void>): Promise<void> => {
      const events = await pipeline.watch(await user(ctx), { ...target(req.ref), name: '' }, watchOptionsFromProto(req.options), ctx.signal);
      const { delivery } = events;
      try {
        for await (const e of events) {
          delivery?.arrived(e);
          await send(watchEventToProto(e));
          delivery?.handedOn();
        }
      } finally {
        delivery?.stopped();
      }
    },
  };
}
