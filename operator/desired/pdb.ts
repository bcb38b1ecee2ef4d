import type { V1PodDisruptionBudget } from '@kubernetes/client-node';
import type { ScoringModel } from '../api/v1alpha1.js';
import { objectMeta, selectorLabels } from './labels.js';

export const PDB_TYPE = { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget' } as const;

/** The most scorer pods a ScoringModel can run: its HPA's ceiling, or its replica count. */
export function mostReplicas(sm: ScoringModel): number {
  return sm.spec.autoscaling ? sm.spec.autoscaling.maxReplicas : sm.spec.replicas;
}

/**
 * A budget of one voluntary disruption at a time (a node drain evicts one scorer, waits for its replacement to be
 * ready, then the next), for models that can run two pods or more: with one pod it would only block drains or mean
 * nothing. maxUnavailable, not minAvailable, so that it follows the replica count as the HPA changes it. Pods that are
 * not ready (a model that cannot load) may always be evicted, so a broken model never holds a node drain up.
 */
export function desiredPDB(sm: ScoringModel): V1PodDisruptionBudget | undefined {
  if (mostReplicas(sm) < 2) return undefined;
  return {
    ...PDB_TYPE,
    metadata: objectMeta(sm),
    spec: {
      maxUnavailable: 1,
      selector: { matchLabels: selectorLabels(sm) },
      unhealthyPodEvictionPolicy: 'AlwaysAllow',
    },
  };
}
