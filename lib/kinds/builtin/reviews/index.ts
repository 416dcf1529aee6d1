/**
 * The review kinds of authentication.k8s.io and authorization.k8s.io: created and answered by
 * the API server (services/gateway/core/reviews.ts), never stored. In discovery order within
 * each group (resources by name).
 */
import type { KindDefinition } from '../../types.ts';
import { reviewKind } from './common.ts';

const AUTHENTICATION = 'authentication.k8s.io';
const AUTHORIZATION = 'authorization.k8s.io';

export const REVIEW_KINDS: readonly KindDefinition[] = Object.freeze([
  reviewKind(AUTHENTICATION, 'SelfSubjectReview', 'selfsubjectreviews', false),
  reviewKind(AUTHENTICATION, 'TokenReview', 'tokenreviews', false),
  reviewKind(AUTHORIZATION, 'LocalSubjectAccessReview', 'localsubjectaccessreviews', true),
  reviewKind(AUTHORIZATION, 'SelfSubjectAccessReview', 'selfsubjectaccessreviews', false),
  reviewKind(AUTHORIZATION, 'SelfSubjectRulesReview', 'selfsubjectrulesreviews', false),
  reviewKind(AUTHORIZATION, 'SubjectAccessReview', 'subjectaccessreviews', false),
]);
