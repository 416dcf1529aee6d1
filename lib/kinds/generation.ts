/**
 * metadata.generation under a kind's generation rule: what storage stores on an update and what
 * a dry-run update answers (the gateway stops before storage then), from one definition.
 */
import { isDeepStrictEqual } from 'node:util';
import type { KubeObject } from '../kube.ts';
import type { GenerationRule } from './types.ts';

/** The part of an object whose change is a change of the desired state, per the kind's generation rule. */
function desiredState(object: KubeObject, rule: GenerationRule): unknown {
  switch (rule) {
    case 'none':
      return undefined;
    case 'spec':
      return object.spec;
    case 'allButMetadataAndStatus': {
      const { metadata: _m, status: _s, kind: _k, apiVersion: _a, ...rest } = object;
      return rest;
    }
    case 'allButMetadata': {
      const { metadata: _m, kind: _k, apiVersion: _a, ...rest } = object;
      return rest;
    }
  }
}

/** Whether `next` changes the desired state of `current` under `rule` (so its generation rises). */
export function sameDesiredState(current: KubeObject, next: KubeObject, rule: GenerationRule): boolean {
  return isDeepStrictEqual(desiredState(current, rule), desiredState(next, rule));
}

/** The stored generation of an object (0 when it has none or it is not a safe integer). */
export function generationOf(object: KubeObject): number {
  const generation = object.metadata?.generation;
  return typeof generation === 'number' && Number.isSafeInteger(generation) ? generation : 0;
}

/** The generation `next` gets replacing `current`: raised when the desired state changed; 0 means none is written. */
export function nextGeneration(current: KubeObject, next: KubeObject, rule: GenerationRule): number {
  const generation = generationOf(current);
  return sameDesiredState(current, next, rule) ? generation : generation + 1;
}
