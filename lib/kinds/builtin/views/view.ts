/**
 * A kind served as a view of another kind's storage (kube's one storage at several
 * group-versions): its identity is its own; its storage, printing, validation, strategy and
 * status strategy are the stored kind's, applied to the object converted to the stored form.
 */
import type { FieldError } from '../../../errors.ts';
import type { KubeObject } from '../../../kube.ts';
import type { KindDefinition, KindDeletion, KindPrinter, ResourceInfo } from '../../types.ts';

export interface ViewSpec {
  /** The view's identity (group, version, kind, names, scope, verbs, subresources). */
  identity: Omit<ResourceInfo, 'subresources'> & { subresources?: readonly string[] };
  /** Its schema's definition name. */
  schema: string;
  /** The view's object in the stored kind's form. */
  toStored(object: KubeObject): KubeObject;
  /** The stored form in the view's. */
  fromStored(object: KubeObject): KubeObject;
  /** The view version's own scheme defaults (kube defaults a body in the version it is sent in). */
  defaults?(object: KubeObject): KubeObject;
  /**
   * Validation kube adds for writes through this version, after the stored kind's: given the
   * objects in the stored form (`old` on update).
   */
  validate?(object: KubeObject, old: KubeObject | undefined): FieldError[];
}

/** The parts of a kind's deletion strategy that read no object (a view's objects are of another shape). */
function deletionFactsOf(deletion: KindDeletion): KindDeletion {
  return {
    ...(deletion.garbageCollectionPolicy === undefined ? {} : { garbageCollectionPolicy: deletion.garbageCollectionPolicy }),
    ...(deletion.returnDeletedObject === undefined ? {} : { returnDeletedObject: deletion.returnDeletedObject }),
  };
}

/**
 * The definition of a view of `stored`. Written objects are converted, then given the stored
 * version's defaults (kube applies them when it decodes the stored object, so a read in either
 * version shows them).
 */
export function viewOf(stored: KindDefinition, spec: ViewSpec): KindDefinition {
  const s = stored.strategy;
  const toStored = (object: KubeObject): KubeObject => {
    const converted = spec.toStored(object);
    return s.defaults === undefined ? converted : s.defaults(converted);
  };
  const { fromStored } = spec;
  const printer: KindPrinter | undefined =
    stored.printer === undefined ? undefined : { columns: stored.printer.columns, cells: (object, now) => stored.printer!.cells(toStored(object as KubeObject), now) };
  const statusStrategy = stored.statusStrategy;
  const id = spec.identity;
  return {
    group: id.group,
    version: id.version,
    resource: id.resource,
    singular: id.singular,
    kind: id.kind,
    listKind: id.listKind,
    namespaced: id.namespaced,
    shortNames: id.shortNames,
    categories: id.categories,
    verbs: id.verbs,
    nameValidation: id.nameValidation,
    subresources: id.subresources ?? stored.subresources,
    source: 'builtin',
    selectableFields: stored.selectableFields,
    schema: spec.schema,
    storedAs: { group: stored.group, version: stored.version, resource: stored.resource, toStored, fromStored, convertToStored: spec.toStored },
    ...(printer === undefined ? {} : { printer }),
    ...(stored.scale === undefined ? {} : { scale: stored.scale }),
    // The stored kind's strategy decides what a delete does to the object, whichever version it
    // is deleted through; its facts that need no object carry over as they are.
    ...(stored.deletion === undefined ? {} : { deletion: deletionFactsOf(stored.deletion) }),
    strategy: {
      generation: s.generation,
      ...(spec.defaults === undefined ? {} : { defaults: spec.defaults }),
      ...(s.prepareForCreate === undefined ? {} : { prepareForCreate: (object: KubeObject) => fromStored(s.prepareForCreate!(toStored(object))) }),
      ...(s.prepareForUpdate === undefined ? {} : { prepareForUpdate: (object: KubeObject, old: KubeObject) => fromStored(s.prepareForUpdate!(toStored(object), toStored(old))) }),
      ...(s.validate === undefined && spec.validate === undefined
        ? {}
        : {
            validate: (object: KubeObject, old: KubeObject | undefined) => {
              const stored = toStored(object);
              const storedOld = old === undefined ? undefined : toStored(old);
              return [...(s.validate?.(stored, storedOld) ?? []), ...(spec.validate?.(stored, storedOld) ?? [])];
            },
          }),
    },
    ...(statusStrategy === undefined
      ? {}
      : {
          statusStrategy: {
            ...(statusStrategy.prepareForUpdate === undefined
              ? {}
              : { prepareForUpdate: (object: KubeObject, old: KubeObject) => fromStored(statusStrategy.prepareForUpdate!(toStored(object), toStored(old))) }),
            ...(statusStrategy.validate === undefined ? {} : { validate: (object: KubeObject, old: KubeObject) => statusStrategy.validate!(toStored(object), toStored(old)) }),
          },
        }),
  };
}
