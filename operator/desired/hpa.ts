import type { V2HorizontalPodAutoscaler } from '@kubernetes/client-node';
import type { ScoringModel } from '../api/v1alpha1.js';
import { objectMeta } from './labels.js';

export const HPA_TYPE = { apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler' } as const;

/** The HPA, when the ScoringModel asks for autoscaling; undefined when it does not. */
export function desiredHPA(sm: ScoringModel): V2HorizontalPodAutoscaler | undefined {
  const autoscaling = sm.spec.autoscaling;
  if (!autoscaling) return undefined;
  return {
    ...HPA_TYPE,
    metadata: objectMeta(sm),
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: sm.metadata.name },
      minReplicas: autoscaling.minReplicas,
      maxReplicas: autoscaling.maxReplicas,
      metrics: [
        {
          type: 'Resource',
          resource: {
            name: 'cpu',
            target: { type: 'Utilization', averageUtilization: autoscaling.targetCPUUtilizationPercentage },
          },
        },
      ],
    },
  };
}
