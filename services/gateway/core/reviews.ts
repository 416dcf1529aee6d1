/**
 * The answers of the review kinds (lib/kinds/builtin/reviews), as kube's REST storage of each
 * answers a create (pkg/registry/authorization/*, pkg/registry/authentication/*): the spec
 * validated with kube's words, the question put to the API server's authorizer, rule resolver
 * or authenticator, the answer in status. `kubectl auth can-i` sends the self reviews (with --as
 * through impersonation, --list as a rules review), `kubectl auth whoami` a SelfSubjectReview.
 * The token of a TokenReview is never shown in an error.
 */
import { badRequest, invalid, StatusError, type FieldError } from '../../../lib/errors.ts';
import { formatRFC3339 } from '../../../lib/go-time.ts';
import { isPlainObject, type KubeObject } from '../../../lib/kube.ts';
import type { KindDefinition } from '../../../lib/kinds/index.ts';
import { list, obj, str } from '../../../lib/kinds/builtin/platform/validation.ts';
import { aggregateMessage } from '../../../lib/rbac/rules.ts';
import type { Attributes, Authenticator, Authorizer, PolicyRule, RuleResolver, UserInfo } from '../../auth/api.ts';

/** What a review's answer is computed with: who asks, and the API server's own authenticator and authorizer. */
export interface ReviewContext {
  /** The user of the request (the one a self review is about). */
  readonly user: UserInfo;
  /** The request's namespace ("" for cluster-scoped kinds). */
  readonly namespace: string;
  readonly authenticator: Authenticator;
  readonly authorizer: Authorizer;
  /** The rules a user holds; absent when the API server has none (a rules review is then incomplete). */
  readonly rules?: RuleResolver;
  readonly signal?: AbortSignal;
  now(): Date;
}

type Answer = (review: KubeObject, context: ReviewContext) => Promise<KubeObject>;

const AUTHZ = 'authorization.k8s.io';
const AUTHN = 'authentication.k8s.io';

function isSet(value: unknown): boolean {
  return value !== undefined && value !== null;
}

/** ValidateSubjectAccessReviewSpec (`self`: ValidateSelfSubjectAccessReviewSpec, which asks for no user). */
function specErrors(spec: Record<string, unknown>, self: boolean): FieldError[] {
  const errors: FieldError[] = [];
  const resource = isSet(spec.resourceAttributes);
  const nonResource = isSet(spec.nonResourceAttributes);
  if (resource && nonResource) {
    errors.push({ type: 'FieldValueInvalid', field: 'spec.nonResourceAttributes', value: spec.nonResourceAttributes, detail: 'cannot be specified in combination with resourceAttributes' });
  }
  if (!resource && !nonResource) {
    errors.push({ type: 'FieldValueInvalid', field: 'spec.resourceAttributes', value: null, detail: 'exactly one of nonResourceAttributes or resourceAttributes must be specified' });
  }
  if (!self && str(spec.user) === '' && list(spec.groups).length === 0) {
    errors.push({ type: 'FieldValueInvalid', field: 'spec.user', value: str(spec.user), detail: 'at least one of user or group must be specified' });
  }
  return errors;
}

/** Whether metadata says nothing but (when `but` is given) that field and managedFields, as kube requires of access reviews. */
function metadataEmpty(metadata: unknown, but?: string): boolean {
  if (!isPlainObject(metadata)) return true;
  return Object.entries(metadata).every(
    ([k, v]) => k === 'managedFields' || k === but || v === undefined || v === null || v === '' || (Array.isArray(v) && v.length === 0) || (isPlainObject(v) && Object.keys(v).length === 0),
  );
}

/** The user a SubjectAccessReview asks about (spec.user, uid, groups, extra), as kube's AuthorizationAttributesFrom. */
function specUser(spec: Record<string, unknown>): UserInfo {
  const extra: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(obj(spec.extra))) extra[k] = list(v).map(str);
  return { username: str(spec.user), uid: str(spec.uid), groups: list(spec.groups).map(str), extra };
}

/** The attributes of the question a review's spec asks for `user` (kube's ResourceAttributesFrom / NonResourceAttributesFrom). */
function attributesOf(user: UserInfo, spec: Record<string, unknown>): Attributes {
  if (isSet(spec.resourceAttributes)) {
    const r = obj(spec.resourceAttributes);
    return {
      user,
      verb: str(r.verb),
      resourceRequest: true,
      apiGroup: str(r.group),
      apiVersion: str(r.version),
      resource: str(r.resource),
      subresource: str(r.subresource),
      namespace: str(r.namespace),
      name: str(r.name),
      path: '',
    };
  }
  const n = obj(spec.nonResourceAttributes);
  return { user, verb: str(n.verb), resourceRequest: false, apiGroup: '', apiVersion: '', resource: '', subresource: '', namespace: '', name: '', path: str(n.path) };
}

/** The review with the authorizer's answer in status (allowed, denied, reason), as kube's SubjectAccessReviewStatus. */
async function answered(review: KubeObject, attributes: Attributes, context: ReviewContext): Promise<KubeObject> {
  const { decision, reason } = await context.authorizer.authorize(attributes, context.signal);
  const status: Record<string, unknown> = { allowed: decision === 'Allow' };
  if (decision === 'Deny') status.denied = true;
  if (reason !== '') status.reason = reason;
  return { ...review, status };
}

/** Invalid, naming the kind as kube does (the body's kind; the URL's matches it by now). */
function refuse(kind: string, errors: FieldError[]): void {
  if (errors.length > 0) throw invalid(kind, AUTHZ, '', errors);
}

async function subjectAccessReview(review: KubeObject, context: ReviewContext): Promise<KubeObject> {
  const spec = obj(review.spec);
  const errors = specErrors(spec, false);
  if (!metadataEmpty(review.metadata)) errors.push({ type: 'FieldValueInvalid', field: 'metadata', value: review.metadata, detail: 'must be empty' });
  refuse('SubjectAccessReview', errors);
  return answered(review, attributesOf(specUser(spec), spec), context);
}

async function selfSubjectAccessReview(review: KubeObject, context: ReviewContext): Promise<KubeObject> {
  const spec = obj(review.spec);
  const errors = specErrors(spec, true);
  if (!metadataEmpty(review.metadata)) errors.push({ type: 'FieldValueInvalid', field: 'metadata', value: review.metadata, detail: 'must be empty' });
  refuse('SelfSubjectAccessReview', errors);
  return answered(review, attributesOf(context.user, spec), context);
}

async function localSubjectAccessReview(review: KubeObject, context: ReviewContext): Promise<KubeObject> {
  const spec = obj(review.spec);
  const namespace = str(obj(review.metadata).namespace);
  const errors = specErrors(spec, false);
  if (!metadataEmpty(review.metadata, 'namespace')) errors.push({ type: 'FieldValueInvalid', field: 'metadata', value: review.metadata, detail: 'must be empty except for namespace' });
  const asked = str(obj(spec.resourceAttributes).namespace);
  if (isSet(spec.resourceAttributes) && asked !== namespace) {
    errors.push({ type: 'FieldValueInvalid', field: 'spec.resourceAttributes.namespace', value: asked, detail: 'must match metadata.namespace' });
  }
  if (isSet(spec.nonResourceAttributes)) errors.push({ type: 'FieldValueInvalid', field: 'spec.nonResourceAttributes', value: spec.nonResourceAttributes, detail: 'disallowed on this kind of request' });
  refuse('LocalSubjectAccessReview', errors);
  if (context.namespace === '') throw badRequest(`namespace is required on this type: ${context.namespace}`);
  if (context.namespace !== namespace) throw badRequest(`spec.resourceAttributes.namespace must match namespace: ${context.namespace}`);
  return answered(review, attributesOf(specUser(spec), spec), context);
}

/** A ResourceRule of SubjectRulesReviewStatus (empty lists left out, as Go's omitempty). */
function resourceRule(rule: PolicyRule): Record<string, unknown> {
  const out: Record<string, unknown> = { verbs: rule.verbs };
  if (rule.apiGroups.length > 0) out.apiGroups = rule.apiGroups;
  if (rule.resources.length > 0) out.resources = rule.resources;
  if (rule.resourceNames.length > 0) out.resourceNames = rule.resourceNames;
  return out;
}

async function selfSubjectRulesReview(review: KubeObject, context: ReviewContext): Promise<KubeObject> {
  const namespace = str(obj(review.spec).namespace);
  if (namespace === '') throw badRequest('no namespace on request');
  // kube answers a new object: the status only, neither the spec nor the metadata sent.
  const answer = { apiVersion: review.apiVersion, kind: review.kind, metadata: {}, spec: {} };
  if (context.rules === undefined) {
    return { ...answer, status: { resourceRules: [], nonResourceRules: [], incomplete: true, evaluationError: 'the API server has no rule resolver' } };
  }
  const { rules, errors } = await context.rules.rulesFor(context.user, namespace, context.signal);
  // As kube's RBAC RulesFor: a rule naming resources is a resource rule, one naming URLs a
  // non-resource rule; errors (a binding naming a missing role) are reported, not "incomplete".
  const status: Record<string, unknown> = {
    resourceRules: rules.filter((r) => r.resources.length > 0).map(resourceRule),
    nonResourceRules: rules.filter((r) => r.nonResourceURLs.length > 0).map((r) => ({ verbs: r.verbs, nonResourceURLs: r.nonResourceURLs })),
    incomplete: false,
  };
  if (errors.length > 0) status.evaluationError = aggregateMessage(errors);
  return { ...answer, status };
}

/** authentication/v1 UserInfo of a user, as kube encodes it (empty fields left out). */
function userInfoOf(user: UserInfo): Record<string, unknown> {
  const out: Record<string, unknown> = { username: user.username };
  if (user.uid !== '') out.uid = user.uid;
  if (user.groups.length > 0) out.groups = user.groups;
  if (Object.keys(user.extra ?? {}).length > 0) out.extra = { ...user.extra };
  return out;
}

async function tokenReview(review: KubeObject, context: ReviewContext): Promise<KubeObject> {
  if (context.namespace !== '') throw badRequest(`namespace is not allowed on this type: ${context.namespace}`);
  const spec = obj(review.spec);
  const token = str(spec.token);
  if (token === '') throw badRequest('token is required for TokenReview in authentication');
  const audiences = list(spec.audiences).map(str);
  const result = await context.authenticator.authenticate({ token, audiences: audiences.length > 0 ? audiences : undefined }, context.signal);
  const status: Record<string, unknown> = { authenticated: result.user !== undefined };
  if (result.user !== undefined) {
    status.user = userInfoOf(result.user);
    status.audiences = result.audiences;
  } else if (result.error !== undefined && result.error !== '') {
    status.error = result.error;
  }
  return { ...review, status };
}

async function selfSubjectReview(review: KubeObject, context: ReviewContext): Promise<KubeObject> {
  // A new object, as kube's: created now, telling who asks.
  return { apiVersion: review.apiVersion, kind: review.kind, metadata: { creationTimestamp: formatRFC3339(context.now().getTime()) }, status: { userInfo: userInfoOf(context.user) } };
}

const ANSWERS: ReadonlyMap<string, Answer> = new Map([
  [`${AUTHZ}/subjectaccessreviews`, subjectAccessReview],
  [`${AUTHZ}/selfsubjectaccessreviews`, selfSubjectAccessReview],
  [`${AUTHZ}/localsubjectaccessreviews`, localSubjectAccessReview],
  [`${AUTHZ}/selfsubjectrulesreviews`, selfSubjectRulesReview],
  [`${AUTHN}/tokenreviews`, tokenReview],
  [`${AUTHN}/selfsubjectreviews`, selfSubjectReview],
]);

/**
 * The answer to a create of `review` (decoded against its kind's schema and checked against the
 * URL) of the review kind `info`: the review with its status, as kube answers it. Rejects with a
 * StatusError (Invalid, BadRequest) as kube's does; NotFound for a kind that is no review this
 * API server answers.
 */
export async function answerReview(info: KindDefinition, review: KubeObject, context: ReviewContext): Promise<KubeObject> {
  const answer = info.review === true ? ANSWERS.get(`${info.group}/${info.resource}`) : undefined;
  if (answer === undefined) throw new StatusError('NotFound', 'the server could not find the requested resource');
  return answer(review, context);
}
