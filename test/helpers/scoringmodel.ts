/** A validated ScoringModel for unit tests of the pure desired-state and status functions. */
import { parseSpec, type ScoringModel, type ScoringModelSpecInput } from '../../operator/api/v1alpha1.js';

export function model(spec: ScoringModelSpecInput, name = 'churn', namespace = 'ml'): ScoringModel {
  const parsed = parseSpec(spec);
  if (!parsed.ok) throw new Error(parsed.message);
  return {
    apiVersion: 'scoring.dev/v1alpha1',
    kind: 'ScoringModel',
    metadata: { name, namespace, uid: 'uid-1', generation: 3 },
    spec: parsed.spec,
  };
}
