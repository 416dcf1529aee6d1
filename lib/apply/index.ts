/**
 * Server-side apply: field ownership (`metadata.managedFields`) and the merge of apply
 * configurations, as kube-apiserver does them (structured-merge-diff v6 driven by the kind's
 * OpenAPI schema, and apimachinery's managedfields). Nothing here knows a kind: every rule comes
 * from the schema facts {@link applyTypesOf} reads.
 *
 * - {@link applyTypesOf}: a kind's facts, built once per kind and cached by the caller;
 * - {@link FieldManager}: `update` for create/update/patch, `apply` for apply patches;
 * - {@link LastAppliedFieldManager}: a FieldManager with kubectl's last-applied annotation (kube's lastAppliedManager/Updater);
 * - field sets and the FieldsV1 encoding ({@link FieldSet}, {@link decodeFieldsV1}).
 */
export { applyTypesOf, ApplyTypes, DEDUCED, KEY_FIELD_DEFAULTS, UNTYPED, type Atom, type GoFactsOf, type ListAtom, type MapAtom } from './types.ts';
export { ApplyConflictError, FieldManager, capManagedFields, conflictError, decodeManagedFields, type Conflict, type FieldManagerOptions, type ManagedFieldsEntry } from './manager.ts';
export { FieldSet, FieldsV1Error, decodeFieldsV1, pathString, type DecodeLimits } from './fieldpath.ts';
export { compare, merge, removeItems, toFieldSet, TypedError, type Comparison } from './typed.ts';
export { LAST_APPLIED_ANNOTATION, LAST_APPLIED_MANAGER, LastAppliedFieldManager, lastAppliedOf, lastAppliedValue, type LastAppliedOptions } from './last-applied.ts';
