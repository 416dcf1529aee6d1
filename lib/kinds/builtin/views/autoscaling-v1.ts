/**
 * autoscaling/v1 HorizontalPodAutoscaler: the stored autoscaling/v2 objects as v1 shows them
 * (kubectl 1.27's `autoscale` writes v1), converted as kube converts them
 * (convert-autoscaling.ts).
 */
import { isPlainObject, type KubeObject } from '../../../kube.ts';
import { HORIZONTAL_POD_AUTOSCALER } from '../platform/autoscaling.ts';
import { autoscalingV1ToV2, autoscalingV2ToV1 } from './convert-autoscaling.ts';
import { viewOf } from './view.ts';

/** autoscaling/v1's SetDefaults_HorizontalPodAutoscaler: minReplicas 1. */
function defaultsV1(object: KubeObject): KubeObject {
  if (isPlainObject(object.spec) && (object.spec.minReplicas === undefined || object.spec.minReplicas === null)) object.spec.minReplicas = 1;
  return object;
}

export const HORIZONTAL_POD_AUTOSCALER_V1 = viewOf(HORIZONTAL_POD_AUTOSCALER, {
  identity: { ...HORIZONTAL_POD_AUTOSCALER, version: 'v1' },
  schema: 'io.k8s.api.autoscaling.v1.HorizontalPodAutoscaler',
  toStored: autoscalingV1ToV2,
  fromStored: autoscalingV2ToV1,
  defaults: defaultsV1,
});
