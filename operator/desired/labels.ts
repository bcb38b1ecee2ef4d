/** Names, labels and owner references every child of a ScoringModel carries. */
import { createHash } from 'node:crypto';
import { API_VERSION, KIND, type ScoringModel } from '../api/v1alpha1.js';
import { canonicalJson } from '../canonical-json.js';

export const FIELD_MANAGER = 'scoring-operator';
/** Holds a Deployment's replicas while they pass from the operator to its HPA (see the controller). */
export const HANDOVER_FIELD_MANAGER = 'scoring-operator-handover';
export const MANAGED_BY = 'scoring-operator';

export const LABELS = {
  name: 'app.kubernetes.io/name',
  instance: 'app.kubernetes.io/instance',
  managedBy: 'app.kubernetes.io/managed-by',
  component: 'app.kubernetes.io/component',
  /** On pod templates: a digest of the template, so that status can tell current pods from old ones. */
  templateHash: 'scoring.dev/template-hash',
  /** On a rollout's candidate Deployment, Service and pods: the ScoringModel they are the candidate of. */
  candidateOf: 'scoring.dev/candidate-of',
} as const;

/** Informers select on this, so their caches hold only the operator's own objects. */
export const MANAGED_SELECTOR = `${LABELS.managedBy}=${MANAGED_BY}`;

/** The labels that select one ScoringModel's pods (immutable in a Deployment's selector). */
export function selectorLabels(sm: ScoringModel): Record<string, string> {
  return { [LABELS.name]: 'scorer', [LABELS.instance]: sm.metadata.name };
}

export function selectorString(sm: ScoringModel): string {
  return Object.entries(selectorLabels(sm))
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}

export function labels(sm: ScoringModel): Record<string, string> {
  return { ...selectorLabels(sm), [LABELS.managedBy]: MANAGED_BY, [LABELS.component]: 'model-server' };
}

export function ownerReference(sm: ScoringModel) {
  return {
    apiVersion: API_VERSION,
    kind: KIND,
    name: sm.metadata.name,
    uid: sm.metadata.uid,
    controller: true,
    blockOwnerDeletion: true,
  };
}

export function objectMeta(sm: ScoringModel) {
  return {
    name: sm.metadata.name,
    namespace: sm.metadata.namespace,
    labels: labels(sm),
    ownerReferences: [ownerReference(sm)],
  };
}

/** A short, stable digest of a JSON value (keys sorted). */
export function digest(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex').slice(0, 10);
}
