/**
 * The admission chain: mutating plugins in order, then validating plugins in order. Validators
 * see the final object, so no mutation can slip a value past validation. buildAdmissionChain
 * is the one place that says which built-in plugins run, and in what order.
 */
import type { KubeObject } from '../../../lib/kube.ts';
import type { KindRegistry } from '../../../lib/kinds/index.ts';
import { generatedSchemaValidator, type SchemaValidator } from '../../../lib/kinds/validate.ts';
import type { Storage } from '../../storage/api.ts';
import type { Admission, AdmissionRequest, MutatingPlugin, ValidatingPlugin } from '../api.ts';
import { GoShapes } from '../../../lib/kinds/go-json.ts';
import type { NamespaceLister } from './namespaces.ts';
import { GoRoundTrip, NamespaceLifecycle, ObjectMetaValidation, SchemaValidation, SystemFieldsPlugin, TerminatingDefinitionCreates } from './plugins.ts';

export interface AdmissionChainOptions {
  /**
   * The request's objects are the chain's own (decoded for it from the wire), so mutating
   * plugins may change them in place. Default false: the chain works on a copy and the
   * caller's object is never changed. A deep copy of a large object costs far more than
   * decoding it (about a second for 3 MiB of small values), so the gRPC server, which
   * decodes every request anew, says true.
   */
  ownsRequestObjects?: boolean;
}

export class AdmissionChain implements Admission {
  private readonly mutating: readonly MutatingPlugin[];
  private readonly validating: readonly ValidatingPlugin[];
  private readonly ownsRequestObjects: boolean;

  constructor(mutating: readonly MutatingPlugin[], validating: readonly ValidatingPlugin[], options: AdmissionChainOptions = {}) {
    this.mutating = mutating;
    this.validating = validating;
    this.ownsRequestObjects = options.ownsRequestObjects ?? false;
  }

  async admit(request: AdmissionRequest, signal?: AbortSignal): Promise<KubeObject | undefined> {
    let object = request.object === undefined || this.ownsRequestObjects ? request.object : structuredClone(request.object);
    if (object !== undefined) {
      for (const plugin of this.mutating) {
        if (plugin.handles(request)) object = await plugin.admit(request, object, signal);
      }
    }
    for (const plugin of this.validating) {
      if (plugin.handles(request)) await plugin.validate(request, object, signal);
    }
    return object;
  }
}

/** What the built-in plugins need. */
export interface AdmissionChainDeps extends AdmissionChainOptions {
  /** The served resources: their scope and name rules (ObjectMetaValidation, NamespaceLifecycle). */
  registry: KindRegistry;
  /**
   * Where namespaces are read live (NamespaceLifecycle): the storage service or a backend in
   * process.
   */
  storage: Pick<Storage, 'get'>;
  /**
   * The namespaces as a cache fed by the watch service holds them (NamespaceLifecycle reads
   * storage only when the cache cannot be trusted). Without one every namespaced create reads
   * its namespace from `storage`.
   */
  namespaces?: NamespaceLister;
  /** The time creationTimestamp is set from (SystemFields); the wall clock by default. */
  clock?: () => Date;
  /** Checks objects against their kind's schema (SchemaValidation); the generated schemas by default. */
  schemas?: SchemaValidator;
  /** The Go shapes of built-in kinds (GoRoundTrip); the generated ones by default. */
  shapes?: GoShapes;
}

/**
 * The built-in chain, as the admission service serves it and a single process runs it: the
 * refusal of creates of a terminating definition's custom resources, system fields on create, then the Go round trip of built-in objects (mutating; it stays last, so
 * that what every other mutation does is shaped too), then ValidateObjectMeta, the schema's
 * rules and NamespaceLifecycle (validating).
 */
export function buildAdmissionChain(deps: AdmissionChainDeps): AdmissionChain {
  const { registry, storage, namespaces, clock, schemas, shapes, ...options } = deps;
  return new AdmissionChain(
    [new TerminatingDefinitionCreates(registry), new SystemFieldsPlugin(registry, clock), new GoRoundTrip(registry, shapes ?? new GoShapes())],
    [new ObjectMetaValidation(registry), new SchemaValidation(registry, schemas ?? generatedSchemaValidator()), new NamespaceLifecycle(storage, registry, { namespaces })],
    options,
  );
}
