/**
 * A ScoringModel's status, computed from what the caches hold: its Deployment and the pods of its current template.
 * Pure: the same inputs give the same status, and a status equal to the one written is not written again.
 */
import type { V1ContainerStatus, V1Deployment, V1Pod, V2HorizontalPodAutoscaler } from '@kubernetes/client-node';
import { formatFromName } from '../contract/formats.js';
import { locate } from '../contract/uri.js';
import type { Condition, ScoringModel, ScoringModelObject, ScoringModelStatus } from './api/v1alpha1.js';
import { canonicalJson } from './canonical-json.js';
import { SCORER_CONTAINER } from './desired/deployment.js';
import { LABELS, selectorString } from './desired/labels.js';
import { serviceURL } from './desired/service.js';

export const CONDITION = {
  ready: 'Ready',
  modelLoaded: 'ModelLoaded',
  autoscaling: 'Autoscaling',
  /** With spec.monitoring: whether live traffic has drifted from the baseline. It never changes Ready. */
  drifted: 'Drifted',
  reconciling: 'Reconciling',
  stalled: 'Stalled',
} as const;

/**
 * Ready reasons that need someone to act: the operator cannot get the model served by itself. They make the
 * ScoringModel Stalled (kstatus: Failed) and their events Warnings.
 */
export const STALLED_REASONS: ReadonlySet<string> = new Set([
  'InvalidSpec',
  'ModelLoadFailed',
  'ImagePullFailed',
  'ContainerFailed',
  'ApplyFailed',
  'ChildConflict',
  'ImageNotAllowed',
]);

/** A condition as the operator means it, before `lastTransitionTime` and `observedGeneration` are filled in. */
export interface ConditionDraft {
  type: string;
  status: Condition['status'];
  reason: string;
  message: string;
  /** Only on a condition carried over unobserved: the generation it was observed at. */
  observedGeneration?: number;
}

/** The format a ScoringModel serves: its spec's, or the one its file name implies. */
export function servedFormat(sm: ScoringModel): string {
  if (sm.spec.model.format) return sm.spec.model.format;
  try {
    return formatFromName(locate(sm.spec.model.uri.replace(/^pvc:\/\//, 'file:///')).fileName) ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

interface PodProblem {
  reason: 'ModelLoadFailed' | 'ImagePullFailed' | 'ContainerFailed';
  message: string;
}

/** Why the current template's pods are failing, if they are: a scorer's termination message names the model's problem. */
export function podProblem(pods: readonly V1Pod[], templateHash: string | undefined): PodProblem | undefined {
  const current = pods.filter(
    (p) => !p.metadata?.deletionTimestamp && p.metadata?.labels?.[LABELS.templateHash] === templateHash,
  );
  for (const pod of current) {
    const scorer = pod.status?.containerStatuses?.find((c) => c.name === SCORER_CONTAINER);
    if (!scorer) continue;
    const problem = containerProblem(scorer);
    if (problem) return problem;
  }
  return undefined;
}

function containerProblem(c: V1ContainerStatus): PodProblem | undefined {
  const waiting = c.state?.waiting;
  if (waiting && /ImagePull|ErrImage|InvalidImageName/.test(waiting.reason ?? '')) {
    return { reason: 'ImagePullFailed', message: `${waiting.reason}: ${waiting.message ?? ''}`.trim() };
  }
  const terminated = c.state?.terminated ?? c.lastState?.terminated;
  if (!terminated || terminated.exitCode === 0) return undefined;
  const line = (terminated.message ?? '').trim().split('\n')[0] ?? '';
  if (terminated.exitCode === 1 && line.startsWith('cannot load model '))
    return { reason: 'ModelLoadFailed', message: line };
  if (terminated.exitCode === 2 && line.startsWith('scorer: ')) return { reason: 'ModelLoadFailed', message: line };
  const why = terminated.reason === 'OOMKilled' ? 'OOMKilled: raise spec.resources.limits.memory' : terminated.reason;
  return {
    reason: 'ContainerFailed',
    message: `the scorer exited with code ${terminated.exitCode}${why ? ` (${why})` : ''}${line ? `: ${line}` : ''}`,
  };
}

/** The conditions and fields of a valid ScoringModel's status. */
export function computeStatus(
  sm: ScoringModel,
  deployment: V1Deployment | undefined,
  pods: readonly V1Pod[],
  hpa?: V2HorizontalPodAutoscaler,
) {
  const desired = sm.spec.autoscaling
    ? (deployment?.spec?.replicas ?? sm.spec.autoscaling.minReplicas)
    : sm.spec.replicas;
  const replicas = deployment?.status?.replicas ?? 0;
  const readyReplicas = deployment?.status?.readyReplicas ?? 0;
  const updated = deployment?.status?.updatedReplicas ?? 0;
  const hash = deployment?.spec?.template?.metadata?.labels?.[LABELS.templateHash];
  const problem = deployment ? podProblem(pods, hash) : undefined;

  let modelLoaded: ConditionDraft;
  let ready: ConditionDraft;
  if (problem?.reason === 'ModelLoadFailed') {
    modelLoaded = { type: CONDITION.modelLoaded, status: 'False', reason: 'ModelLoadFailed', message: problem.message };
  } else if (readyReplicas > 0) {
    modelLoaded = {
      type: CONDITION.modelLoaded,
      status: 'True',
      reason: 'Loaded',
      message: 'the model is loaded and answered a warm-up prediction',
    };
  } else {
    modelLoaded = {
      type: CONDITION.modelLoaded,
      status: 'Unknown',
      reason: desired === 0 ? 'ScaledToZero' : 'Loading',
      message: desired === 0 ? 'no scorer is running' : 'waiting for a scorer pod to load the model',
    };
  }

  const counts = `${readyReplicas}/${desired} replicas ready`;
  if (!deployment) {
    ready = { type: CONDITION.ready, status: 'False', reason: 'Progressing', message: 'creating the Deployment' };
  } else if (problem) {
    ready = { type: CONDITION.ready, status: 'False', reason: problem.reason, message: problem.message };
  } else if (desired === 0) {
    ready = { type: CONDITION.ready, status: 'False', reason: 'ScaledToZero', message: 'replicas is 0' };
  } else if (readyReplicas === 0) {
    ready = { type: CONDITION.ready, status: 'False', reason: 'Progressing', message: counts };
  } else {
    // A spec the Deployment controller has not seen yet is a rollout about to start.
    const unobserved = (deployment.status?.observedGeneration ?? 0) < (deployment.metadata?.generation ?? 0);
    const rolling = unobserved || updated < desired || replicas > desired;
    ready = {
      type: CONDITION.ready,
      status: 'True',
      reason: rolling ? 'Progressing' : 'Available',
      message: rolling ? `${counts}, rolling out` : counts,
    };
  }
  const scaling = sm.spec.autoscaling ? autoscalingCondition(hpa) : undefined;
  if (scaling?.status === 'False' && ready.status === 'True' && ready.reason === 'Available') {
    ready = {
      ...ready,
      reason: 'AutoscalingInactive',
      message: `${counts}; autoscaling cannot work: ${scaling.message}`,
    };
  }

  return {
    fields: {
      replicas,
      readyReplicas,
      ready: `${readyReplicas}/${desired}`,
      selector: selectorString(sm),
      format: servedFormat(sm),
      url: serviceURL(sm),
    },
    conditions: scaling ? [ready, modelLoaded, scaling] : [ready, modelLoaded],
  };
}

/**
 * What the HPA says of itself (AbleToScale, ScalingActive, ScalingLimited), as one condition: False with the HPA's
 * own reason and message when it cannot scale (no CPU request to compute utilisation from, no metrics, no scale
 * target), True otherwise, Unknown until the HPA controller has looked at it.
 */
export function autoscalingCondition(hpa: V2HorizontalPodAutoscaler | undefined): ConditionDraft {
  const conditions = hpa?.status?.conditions ?? [];
  const of = (type: string) => conditions.find((c) => c.type === type);
  const from = (c: { status: string; reason?: string; message?: string }, status: Condition['status']) => ({
    type: CONDITION.autoscaling,
    status,
    reason: c.reason && /^[A-Za-z][A-Za-z0-9_]*$/.test(c.reason) ? c.reason : 'Unknown',
    message: `HorizontalPodAutoscaler ${hpa!.metadata?.namespace}/${hpa!.metadata?.name}: ${c.message ?? ''}`.trim(),
  });
  const failing = [of('AbleToScale'), of('ScalingActive')].find((c) => c?.status === 'False');
  if (failing) return from(failing, 'False');
  const active = of('ScalingActive');
  if (!active || active.status !== 'True') {
    return {
      type: CONDITION.autoscaling,
      status: 'Unknown',
      reason: 'Pending',
      message: 'waiting for the HorizontalPodAutoscaler controller to compute a scale',
    };
  }
  const limited = of('ScalingLimited');
  return from(limited?.status === 'True' ? limited : active, 'True');
}

/**
 * The kstatus conditions (sigs.k8s.io/cli-utils: what Flux, kpt and Argo-style appliers wait on), derived from Ready
 * and the rollout (rollout/machine.ts rolloutCondition): `Stalled` while the operator needs someone to act (Ready's
 * reason, or a rollout of the revision the spec asks for that rolled back or was aborted), `Reconciling` while a
 * rollout, or a rolling update, is under way; neither once the model is served as asked (kstatus then says Current).
 * Both are abnormal-true: absent when they do not hold.
 */
export function withKstatusConditions(drafts: readonly ConditionDraft[], rollout?: ConditionDraft): ConditionDraft[] {
  const own = drafts.filter((d) => d.type !== CONDITION.stalled && d.type !== CONDITION.reconciling);
  const ready = own.find((d) => d.type === CONDITION.ready);
  if (!ready) return own;
  if (ready.status !== 'True' && STALLED_REASONS.has(ready.reason)) {
    return [...own, { type: CONDITION.stalled, status: 'True', reason: ready.reason, message: ready.message }];
  }
  if (rollout) return [...own, rollout];
  if (ready.reason === 'Progressing') {
    return [...own, { type: CONDITION.reconciling, status: 'True', reason: ready.reason, message: ready.message }];
  }
  return own;
}

/** The status of a ScoringModel whose spec is invalid: nothing else is touched. */
export function invalidSpecConditions(message: string): ConditionDraft[] {
  return [{ type: CONDITION.ready, status: 'False', reason: 'InvalidSpec', message }];
}

/**
 * The status when the operator cannot make the children what the spec asks (one could not be applied, one of their
 * names is taken, the image is not allowed): Ready says why, and the rest of what was observed stays (the URL, the
 * replica counts, ModelLoaded): the children that exist still serve.
 */
export function blockedStatus(
  previous: ScoringModelStatus | undefined,
  reason: 'ApplyFailed' | 'ChildConflict' | 'ImageNotAllowed',
  message: string,
): { fields: Partial<ScoringModelStatus>; conditions: ConditionDraft[] } {
  const { observedGeneration: _observed, conditions = [], ...fields } = previous ?? {};
  const kept = conditions
    .filter((c) => c.type !== CONDITION.ready)
    .map(({ lastTransitionTime: _kept, ...draft }) => draft);
  return {
    fields,
    conditions: [{ type: CONDITION.ready, status: 'False', reason, message }, ...kept],
  };
}

/**
 * Merges drafts into the previous conditions: `lastTransitionTime` moves only when a condition's status flips,
 * conditions the operator no longer reports are dropped, every condition carries the observed generation.
 */
export function mergeConditions(
  previous: readonly Condition[] | undefined,
  drafts: readonly ConditionDraft[],
  generation: number | undefined,
  now: Date,
): Condition[] {
  return drafts.map((d) => {
    const before = previous?.find((c) => c.type === d.type);
    const lastTransitionTime =
      before && before.status === d.status ? before.lastTransitionTime : now.toISOString().replace(/\.\d+Z$/, 'Z');
    return { ...d, observedGeneration: d.observedGeneration ?? generation, lastTransitionTime };
  });
}

/** The whole status the operator would write now. */
export function nextStatus(
  sm: ScoringModelObject,
  fields: Partial<ScoringModelStatus>,
  drafts: readonly ConditionDraft[],
  now: Date,
): ScoringModelStatus {
  const generation = sm.metadata.generation;
  return {
    ...fields,
    observedGeneration: generation,
    conditions: mergeConditions(sm.status?.conditions, drafts, generation, now),
  };
}

/** Whether writing `next` would change what the object holds (field order and absent-vs-undefined aside). */
export function statusChanged(current: ScoringModelStatus | undefined, next: ScoringModelStatus): boolean {
  return canonicalJson(current ?? {}) !== canonicalJson(next);
}

/** Transitions worth an event: a condition that appeared or changed status or reason. */
export function transitions(previous: readonly Condition[] | undefined, next: readonly Condition[]): Condition[] {
  return next.filter((c) => {
    const before = previous?.find((p) => p.type === c.type);
    return !before || before.status !== c.status || before.reason !== c.reason;
  });
}
