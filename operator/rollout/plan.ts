/**
 * The reconciler's side of a rollout: gathers what the step machine decides from (the stable and candidate
 * Deployments and pods in the caches, the stable scorers' reports of the current step, the manual action) and
 * returns its decision with the candidate Deployment it implies.
 */
import type { V1Deployment } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { RolloutReport } from '../../contract/rollout.js';
import { ROLLOUT_ANNOTATION, type ScoringModel, type ScoringModelStatus } from '../api/v1alpha1.js';
import type { ClusterState } from '../controller.js';
import { candidateName, desiredCandidate } from '../desired/candidate.js';
import { desiredDeployment, revisionOf, type DesiredConfig } from '../desired/deployment.js';
import type { ReportFetcher } from '../scorer-pods.js';
import { podProblem } from '../status.js';
import { routingSettled, sumReports } from './analysis.js';
import { decideRollout, type RolloutDecision } from './machine.js';
import { readReports } from './reports.js';
import { routingOf } from './routing.js';

export interface RolloutPlan {
  decision: RolloutDecision;
  /** The stable Deployment as the spec asks for it (applied only when the decision says `desired`). */
  stable: V1Deployment;
  /** The candidate Deployment as the spec asks for it. */
  candidate: V1Deployment;
  /** The annotation's value the decision read, which the reconciler then removes. */
  action?: string;
}

/** Fully rolled out: the controller saw the latest spec, and every replica is updated and available. */
export function rolledOut(d: V1Deployment | undefined): boolean {
  if (!d) return false;
  const want = d.spec?.replicas ?? 1;
  const s = d.status ?? {};
  return (
    (s.observedGeneration ?? 0) >= (d.metadata?.generation ?? 1) &&
    (s.updatedReplicas ?? 0) === want &&
    (s.replicas ?? 0) === want &&
    (s.availableReplicas ?? 0) === want
  );
}

export async function planRollout(
  sm: ScoringModel,
  previous: ScoringModelStatus | undefined,
  state: ClusterState,
  config: DesiredConfig,
  fetcher: ReportFetcher | undefined,
  now: Date,
  log: Logger,
): Promise<RolloutPlan> {
  const { namespace, name } = sm.metadata;
  const stable = desiredDeployment(sm, config);
  const candidate = desiredCandidate(sm, config);
  const desiredRevision = revisionOf(stable)!;
  const live = state.deployment(namespace, name);
  const liveCandidate = state.deployment(namespace, candidateName(sm));
  const candidatePods = state.pods(namespace, candidateName(sm));
  const prev = previous?.rollout;

  // The stable scorers are asked only while there is something to judge or to wait for: a rollout not finished
  // (spec.rollout removed meanwhile included: the candidate goes only once no scorer sends to it).
  let reports: RolloutReport[] | undefined;
  let asked = 0;
  if (prev && !prev.finishedAt) {
    const answers = await readReports(state.pods(namespace, name), name, fetcher);
    asked = answers.length;
    reports = answers.flatMap((a) => ('report' in a ? [a.report] : []));
    const unheard = answers.flatMap((a) =>
      'report' in a ? [] : [{ pod: a.pod, why: 'failed' in a ? a.failed : a.unavailable }],
    );
    if (unheard.length > 0) log.info({ unheard }, 'stable scorers without a rollout report');
  }
  const routing = routingOf({ ...sm, status: previous }, candidatePods);
  const action = sm.metadata.annotations?.[ROLLOUT_ANNOTATION];
  const decision = decideRollout({
    rollout: sm.spec.rollout,
    previous: prev,
    stableRevision: revisionOf(live),
    desiredRevision,
    candidateAvailable: revisionOf(liveCandidate) === desiredRevision && rolledOut(liveCandidate),
    candidateProblem: liveCandidate ? podProblem(candidatePods, desiredRevision)?.message : undefined,
    stableRolledOut: revisionOf(live) === desiredRevision && rolledOut(live),
    figures: reports ? sumReports(reports, routing.step, asked) : undefined,
    // Nothing to wait for when no scorer was asked because no rollout is left to finish.
    routingSettled: reports ? routingSettled(reports, routing.version, asked) : true,
    action,
    now,
  });
  return { decision, stable, candidate, ...(decision.actionConsumed && action !== undefined ? { action } : {}) };
}
