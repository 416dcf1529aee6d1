/**
 * The admission chain: mutating plugins in order, then validating plugins in order. Validators
 * see the final object, so no mutation can slip a value past validation.
 */
import type { KubeObject } from '../../../lib/kube.ts';
import type { Admission, AdmissionRequest, MutatingPlugin, ValidatingPlugin } from '../api.ts';

export class AdmissionChain implements Admission {
  private readonly mutating: readonly MutatingPlugin[];
  private readonly validating: readonly ValidatingPlugin[];

  constructor(mutating: readonly MutatingPlugin[], validating: readonly ValidatingPlugin[]) {
    this.mutating = mutating;
    this.validating = validating;
  }

  async admit(request: AdmissionRequest, signal?: AbortSignal): Promise<KubeObject | undefined> {
    let object = request.object === undefined ? undefined : structuredClone(request.object);
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
