/**
 * What a model's stable scorers are told (contract/rollout.ts Routing), from what the caches hold: status.rollout
 * says the step, the weight and the shadow share; the candidate's ready pods of the rollout's revision are where to
 * send them. Pure, so that every operator replica tells the same.
 */
import type { V1Pod } from '@kubernetes/client-node';
import { NO_ROUTING, type Routing } from '../../contract/rollout.js';
import { parseSpec, type RolloutStatus, type ScoringModel } from '../api/v1alpha1.js';
import type { ClusterState } from '../controller.js';
import { candidateName } from '../desired/candidate.js';
import { LABELS, digest } from '../desired/labels.js';
import { readyScorers } from '../scorer-pods.js';
import type { RoutingSource } from './routing-server.js';

/** The analysis window's id: a new step, or the same step of a new rollout, is a new window. */
export function stepId(rollout: Pick<RolloutStatus, 'revision' | 'step' | 'stepStartedAt'>): string {
  return rollout.stepStartedAt ? `${rollout.revision}/${rollout.step}/${rollout.stepStartedAt}` : '';
}

/** The base URLs of the candidate's ready pods that run the rollout's revision, in name order. */
export function candidateBases(pods: readonly V1Pod[], revision: string): string[] {
  const current = pods.filter((p) => p.metadata?.labels?.[LABELS.templateHash] === revision);
  return readyScorers(current).map((s) => s.base);
}

export function routingOf(sm: ScoringModel, candidatePods: readonly V1Pod[]): Routing {
  const rollout = sm.status?.rollout;
  if (!rollout) return NO_ROUTING;
  const weight = rollout.weight ?? 0;
  const shadow = rollout.shadowPercent ?? 0;
  const routing = {
    step: stepId(rollout),
    candidates: weight > 0 || shadow > 0 ? candidateBases(candidatePods, rollout.revision) : [],
    weight,
    shadow,
    tolerance: sm.spec.rollout?.analysis.agreement.tolerance ?? 0,
  };
  return { version: digest(routing), ...routing };
}

/** The routing source of the routing endpoint: a model the caches hold, by namespace, name and uid. */
export function routingSource(state: ClusterState): RoutingSource {
  return (namespace, name, uid) => {
    const object = state.scoringModel(namespace, name);
    if (!object || object.metadata.uid !== uid) return undefined;
    const parsed = parseSpec(object.spec);
    if (!parsed.ok) return NO_ROUTING;
    const sm: ScoringModel = { ...object, spec: parsed.spec };
    return routingOf(sm, state.pods(namespace, candidateName(sm)));
  };
}
