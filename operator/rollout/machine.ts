/**
 * The rollout step machine: from spec.rollout, status.rollout and what the caches and the scorers say now, the next
 * status.rollout and what the children should be. Pure and without memory: everything it needs to go on is in
 * status.rollout (the cluster), so an operator restarted in the middle of a rollout, or another replica, decides the
 * same from the same object.
 *
 * A rollout is a plan of steps (the shadow step first, if any, then the canary steps). A step starts once the
 * candidate's pods are available (stepStartedAt), is judged from the stable scorers' counts of that step
 * (analysis.ts), and passes once the analysis holds and its pause has elapsed. After the last: Promoting (the stable
 * Deployment rolls out the new template) or Paused. A failure rolls back at once. Promoting, RolledBack and Aborted
 * stop sending requests to the candidate, and remove it only once every stable scorer has stopped (routing settled).
 */
import {
  ROLLOUT_ACTIONS,
  ROLLOUT_ANNOTATION,
  type Rollout,
  type RolloutAction,
  type RolloutPhase,
  type RolloutStatus,
} from '../api/v1alpha1.js';
import { CONDITION, type ConditionDraft } from '../status.js';
import { judgeStep, type StepFigures, type StepKind } from './analysis.js';

/**
 * How often the stable scorers' counts are read while a step runs: a failing candidate is judged within this of its
 * minRequests-th prediction, so it bounds what it fails beyond them (the weight's share of this interval's requests).
 */
export const ANALYSIS_INTERVAL_MS = 2_000;
/** How often the stable scorers are asked whether they stopped sending requests to the candidate. */
export const SETTLE_INTERVAL_MS = 2_000;

export interface RolloutInput {
  /** spec.rollout, parsed (defaults applied); undefined: a change is a rolling update. */
  rollout: Rollout | undefined;
  /** status.rollout as the object holds it. */
  previous: RolloutStatus | undefined;
  /** The stable Deployment's template digest; undefined while there is no stable Deployment (first creation). */
  stableRevision: string | undefined;
  /** The template digest the spec asks for. */
  desiredRevision: string;
  /** Whether the candidate Deployment runs the desired revision and is available. */
  candidateAvailable: boolean;
  /** Why the candidate's pods of the desired revision fail, if they do (a ModelLoadFailed, ImagePullFailed... message). */
  candidateProblem?: string;
  /** Whether the stable Deployment is fully rolled out on the desired revision. */
  stableRolledOut: boolean;
  /**
   * The current step's counts, summed over the stable scorers (sumReports with the step of the routing `previous`
   * means, routing.ts routingOf); undefined when none were read.
   */
  figures?: StepFigures;
  /**
   * Whether every ready stable scorer follows the routing `previous` means and has nothing in flight
   * (routingSettled): a decision that stops routing to the candidate removes it only on a later one, when this holds.
   */
  routingSettled: boolean;
  /** The value of the scoring.dev/rollout annotation, when set. */
  action?: string;
  now: Date;
}

export interface RolloutEvent {
  type: 'Normal' | 'Warning';
  /** RolloutStarted, StepStarted, Paused, Promoting, Promoted (Normal); RolledBack, Aborted, ActionIgnored (Warning). */
  reason: string;
  message: string;
}

export interface RolloutDecision {
  /** The next status.rollout: undefined when there is none to show. */
  status: RolloutStatus | undefined;
  /** keep: the stable Deployment keeps its live template; desired: it gets the desired one. */
  stable: 'keep' | 'desired';
  /** Whether the candidate Deployment should exist (it has no Service: the stable scorers send to its pods by address). */
  candidate: boolean;
  /** One per transition, in order. */
  events: RolloutEvent[];
  /** When to look again though nothing in the caches changes: a step's pause ending, the next reading of counts. */
  requeueAfterMs?: number;
  /** Whether the annotation was read (acted on, or ignored with a Warning saying why): the caller removes it. */
  actionConsumed: boolean;
}

/** Phases in which a rollout is under way: the candidate is (or is about to be) served. */
const UNDER_WAY: ReadonlySet<RolloutPhase> = new Set(['Shadow', 'Canary', 'Paused', 'Promoting']);

export interface PlannedStep {
  kind: StepKind;
  /** Percent forwarded. */
  weight: number;
  /** Percent mirrored. */
  shadow: number;
  pauseSeconds: number;
}

/** The steps of a rollout: the shadow step first, if any, then the canary steps. */
export function plan(rollout: Rollout): PlannedStep[] {
  const shadow: PlannedStep[] = rollout.shadow
    ? [{ kind: 'shadow', weight: 0, shadow: rollout.shadow.percent, pauseSeconds: rollout.shadow.pauseSeconds }]
    : [];
  const canary: PlannedStep[] =
    rollout.strategy === 'Canary'
      ? (rollout.steps ?? []).map((s) => ({
          kind: 'canary',
          weight: s.weight,
          shadow: 0,
          pauseSeconds: s.pauseSeconds,
        }))
      : [];
  return [...shadow, ...canary];
}

const phaseOf = (step: PlannedStep): RolloutPhase => (step.kind === 'shadow' ? 'Shadow' : 'Canary');
const iso = (t: Date | number) => new Date(t).toISOString().replace(/\.\d+Z$/, 'Z');
const describe = (step: PlannedStep) =>
  step.kind === 'shadow'
    ? `${step.shadow}% of requests mirrored to the candidate`
    : `${step.weight}% of requests forwarded to the candidate`;
const stepName = (index: number, steps: PlannedStep[]) =>
  `step ${index}/${steps.length} (${describe(steps[index - 1]!)})`;

/** What every decision starts from; the branches below fill in the rest. */
interface Draft {
  status: RolloutStatus | undefined;
  stable: 'keep' | 'desired';
  candidate: boolean;
  events: RolloutEvent[];
  requeueAfterMs?: number;
}

/** A step begins: routed at once when the candidate is available, else waiting for it with nothing routed. */
function enterStep(
  base: Omit<RolloutStatus, 'phase' | 'step' | 'weight' | 'shadowPercent' | 'stepStartedAt' | 'analysis' | 'message'>,
  index: number,
  steps: PlannedStep[],
  i: RolloutInput,
  events: RolloutEvent[],
): Draft {
  const step = steps[index - 1]!;
  const name = stepName(index, steps);
  const entered = { ...base, phase: phaseOf(step), step: index, steps: steps.length };
  if (!i.candidateAvailable) {
    return {
      status: {
        ...entered,
        weight: 0,
        shadowPercent: 0,
        message: `${name} waits for the candidate's pods to be available`,
      },
      stable: 'keep',
      candidate: true,
      events,
    };
  }
  return {
    status: {
      ...entered,
      weight: step.weight,
      shadowPercent: step.shadow,
      stepStartedAt: iso(i.now),
      message: `${name}: waiting for the stable scorers' counts`,
    },
    stable: 'keep',
    candidate: true,
    events: [...events, { type: 'Normal', reason: 'StepStarted', message: name }],
    requeueAfterMs: ANALYSIS_INTERVAL_MS,
  };
}

/** A new rollout of the desired revision against the stable one, from step 1. */
function start(i: RolloutInput, rollout: Rollout, stableRevision: string, why: string): Draft {
  const steps = plan(rollout);
  const started = {
    type: 'Normal' as const,
    reason: 'RolloutStarted',
    message:
      `${why}rolling out revision ${i.desiredRevision} (stable ${stableRevision}) in ${steps.length} ` +
      `step${steps.length === 1 ? '' : 's'}: ${steps.map(describe).join('; ')}`,
  };
  const base = { revision: i.desiredRevision, stableRevision, steps: steps.length, startedAt: iso(i.now) };
  return enterStep(base, 1, steps, i, [started]);
}

/** Nothing routed to the candidate any more; the verdict stays until the spec changes. */
function stop(prev: RolloutStatus, phase: 'RolledBack' | 'Aborted', message: string, events: RolloutEvent[]): Draft {
  const { finishedAt: _unfinished, ...rest } = prev;
  const text = `${message}; the stable scorers answer every request`;
  return {
    status: { ...rest, phase, weight: 0, shadowPercent: 0, message: text },
    stable: 'keep',
    candidate: true,
    events: [...events, { type: 'Warning', reason: phase, message: text }],
    requeueAfterMs: SETTLE_INTERVAL_MS,
  };
}

const promotingTail = (revision: string) =>
  `; promoting: the stable Deployment rolls out revision ${revision}, then the candidate is removed`;

/** Promotion begins: the stable Deployment gets the desired template; the candidate keeps its share meanwhile. */
function promote(prev: RolloutStatus, why: string, events: RolloutEvent[]): Draft {
  const message = `${why}${promotingTail(prev.revision)}`;
  return {
    status: { ...prev, phase: 'Promoting', shadowPercent: 0, message },
    stable: 'desired',
    candidate: true,
    events: [...events, { type: 'Normal', reason: 'Promoting', message }],
  };
}

/**
 * Promoting, level by level: the stable Deployment rolls out; then nothing is routed to the candidate; once every
 * stable scorer has stopped, the candidate goes and the rollout is Promoted.
 */
function promoting(prev: RolloutStatus, i: RolloutInput): Draft {
  const going: Draft = { status: prev, stable: 'desired', candidate: true, events: [] };
  if (!i.stableRolledOut) return going;
  if (prev.weight > 0 || prev.shadowPercent > 0) {
    return { ...going, status: { ...prev, weight: 0, shadowPercent: 0 }, requeueAfterMs: SETTLE_INTERVAL_MS };
  }
  if (!i.routingSettled) return { ...going, requeueAfterMs: SETTLE_INTERVAL_MS };
  const tail = promotingTail(prev.revision);
  const why = prev.message.endsWith(tail) ? prev.message.slice(0, -tail.length) : prev.message;
  const message = `${why}; promoted: the stable Deployment runs revision ${prev.revision}`;
  return {
    status: { ...prev, phase: 'Promoted', finishedAt: iso(i.now), message },
    stable: 'desired',
    candidate: false,
    events: [{ type: 'Normal', reason: 'Promoted', message }],
  };
}

/** A step under way (Shadow, Canary) or the last one passed (Paused): judged, held, passed or failed. */
function stepping(prev: RolloutStatus, i: RolloutInput, rollout: Rollout): Draft {
  const steps = plan(rollout);
  // Level-based on the spec as it is now: steps removed meanwhile end the plan where it stands.
  const index = Math.min(prev.step, steps.length);
  const step = steps[index - 1]!;
  const name = stepName(index, steps);
  const base: RolloutStatus = { ...prev, step: index, steps: steps.length };
  if (i.candidateProblem) return stop(base, 'RolledBack', `the candidate's pods fail: ${i.candidateProblem}`, []);
  if (!prev.stepStartedAt) {
    const { analysis: _none, stepStartedAt: _unstarted, ...unstarted } = base;
    return enterStep(unstarted, index, steps, i, []);
  }
  // A step under way follows the spec's weights as they are now.
  const current: RolloutStatus = { ...base, phase: phaseOf(step), weight: step.weight, shadowPercent: step.shadow };
  const judged = i.figures ? judgeStep(i.figures, rollout.analysis, step.kind) : undefined;
  const analysis = judged?.analysis ?? prev.analysis;
  const measured: RolloutStatus = { ...current, ...(analysis ? { analysis } : {}) };
  if (judged?.verdict === 'fail') return stop(measured, 'RolledBack', `${name} failed: ${judged.message}`, []);
  const holding = (message: string, requeueAfterMs = ANALYSIS_INTERVAL_MS): Draft => ({
    status: { ...measured, message },
    stable: 'keep',
    candidate: true,
    events: [],
    requeueAfterMs,
  });
  const last = index === steps.length;
  // Paused stays Paused while its counts start afresh (a stable scorer restarted): it has passed already.
  if (prev.phase === 'Paused' && last && !rollout.autoPromote && judged?.verdict !== 'pass') {
    return { ...holding(prev.message), status: { ...measured, phase: 'Paused', message: prev.message } };
  }
  if (!judged) return holding(`${name}: waiting for the stable scorers' counts`);
  if (judged.verdict === 'wait') return holding(`${name}: ${judged.message}`);
  const ends = Date.parse(prev.stepStartedAt) + step.pauseSeconds * 1000;
  if (i.now.getTime() < ends) {
    return holding(
      `${name}: within the limits so far (${judged.message}); the step ends at ${iso(ends)}`,
      Math.min(ends - i.now.getTime(), ANALYSIS_INTERVAL_MS),
    );
  }
  if (!last) {
    const { analysis: _previous, stepStartedAt: _ended, ...next } = measured;
    return enterStep(next, index + 1, steps, i, []);
  }
  const passed = `every step passed (the last: ${judged.message})`;
  if (rollout.autoPromote) return promote(measured, passed, []);
  const message = `${passed}; waiting for kubectl annotate ... ${ROLLOUT_ANNOTATION}=promote (autoPromote is false)`;
  return {
    ...holding(message),
    status: { ...measured, phase: 'Paused', message },
    events: prev.phase === 'Paused' ? [] : [{ type: 'Normal', reason: 'Paused', message }],
  };
}

/** The annotation's value, when it is one the machine knows. */
function knownAction(value: string | undefined): RolloutAction | undefined {
  return (ROLLOUT_ACTIONS as readonly string[]).includes(value ?? '') ? (value as RolloutAction) : undefined;
}

const ignored = (action: string, why: string): RolloutEvent => ({
  type: 'Warning',
  reason: 'ActionIgnored',
  message: `${ROLLOUT_ANNOTATION}=${action}: ${why}`,
});

/** A manual action on a rollout in a step (or Paused): promote skips the rest, abort rolls back now. */
function act(prev: RolloutStatus, action: RolloutAction, events: RolloutEvent[]): Draft {
  const at = `at step ${prev.step}/${prev.steps}`;
  if (action === 'promote') return promote(prev, `promoted by ${ROLLOUT_ANNOTATION}=promote ${at}`, events);
  return stop(prev, 'Aborted', `aborted by ${ROLLOUT_ANNOTATION}=abort ${at}`, events);
}

/**
 * The finished rollout status.rollout keeps showing while the spec asks for one of its revisions: a RolledBack or
 * Aborted one keeps the candidate until every stable scorer has stopped sending to it, then says when it finished.
 */
function history(prev: RolloutStatus | undefined, i: RolloutInput, stable: 'keep' | 'desired'): Draft {
  if (!prev || prev.finishedAt) return { status: prev, stable, candidate: false, events: [] };
  if (!i.routingSettled) {
    return { status: prev, stable, candidate: true, events: [], requeueAfterMs: SETTLE_INTERVAL_MS };
  }
  return { status: { ...prev, finishedAt: iso(i.now) }, stable, candidate: false, events: [] };
}

/** Why an annotation was not acted on. */
function whyIgnored(i: RolloutInput, action: RolloutAction | undefined): string {
  const prev = i.previous;
  const ours = prev?.revision === i.desiredRevision;
  if (action === undefined) return `not ${ROLLOUT_ACTIONS.join(' or ')}`;
  if (ours && prev.phase === 'Promoting') {
    return `too late: the stable Deployment rolls out revision ${prev.revision} already; to go back, change the spec back`;
  }
  if (ours && UNDER_WAY.has(prev.phase)) return 'spec.rollout was removed: the change goes on as a rolling update';
  if (ours && (prev.phase === 'RolledBack' || prev.phase === 'Aborted')) {
    return (
      `the rollout of revision ${prev.revision} is over (${prev.phase}); to try again change the spec, or remove ` +
      'spec.rollout for a rolling update'
    );
  }
  return 'no rollout is under way';
}

/**
 * The next status.rollout and children, by the first rule that applies:
 * 1. no stable Deployment (first creation): no rollout;
 * 2. a rollout under way of another revision than the spec's: Aborted when the spec is back to the stable one, else
 *    it starts over from step 1 (without spec.rollout: a rolling update);
 * 3. Promoting goes on to Promoted;
 * 4. spec.rollout removed during a step: the candidate's revision is promoted;
 * 5. a step (or Paused): the annotation acts first, else the step is judged;
 * 6. the spec asks for the stable revision: nothing to roll out, the finished rollout kept as history;
 * 7. Promoted to the spec's revision: kept as history;
 * 8. no spec.rollout: a rolling update;
 * 9. RolledBack or Aborted for the spec's revision: stays so until the spec changes;
 * 10. else a new rollout starts (an annotation given with the change acts on it).
 * An annotation not acted on is consumed too, with an ActionIgnored Warning saying why (none when it is in effect
 * already: the same annotation read again before the cache saw it removed).
 */
export function decideRollout(i: RolloutInput): RolloutDecision {
  const prev = i.previous;
  const desired = i.desiredRevision;
  const stable = i.stableRevision;
  const underWay = prev !== undefined && UNDER_WAY.has(prev.phase);
  const action = knownAction(i.action);
  // Set where the annotation is acted on; otherwise it is ignored, with a Warning, at the end.
  let consumed = false;
  let draft: Draft;

  if (stable === undefined) {
    // First creation (or the stable Deployment is gone): the desired template is the stable one.
    draft = { status: undefined, stable: 'desired', candidate: false, events: [] };
  } else if (underWay && prev.revision !== desired) {
    if (desired === stable) {
      draft = stop(
        prev,
        'Aborted',
        `spec is back to the stable revision ${stable}: the rollout of ${prev.revision} is aborted`,
        [],
      );
    } else if (i.rollout) {
      draft = start(i, i.rollout, stable, `the spec changed during the rollout of ${prev.revision}: starting over, `);
      if (action) {
        draft = act(draft.status!, action, draft.events);
        consumed = true;
      }
    } else {
      draft = { status: undefined, stable: 'desired', candidate: false, events: [] };
    }
  } else if (underWay && prev.phase === 'Promoting') {
    draft = promoting(prev, i);
  } else if (underWay && !i.rollout) {
    draft = promote(prev, 'spec.rollout was removed', []);
  } else if (underWay && i.rollout) {
    if (action) {
      draft = act(prev, action, []);
      consumed = true;
    } else {
      draft = stepping(prev, i, i.rollout);
    }
  } else if (desired === stable) {
    // Nothing to roll out. A finished rollout stays as history while the spec asks for the template it promoted,
    // or for the stable one it kept.
    const kept = prev && (prev.phase === 'Promoted' ? prev.revision === desired : prev.stableRevision === desired);
    draft = history(kept ? prev : undefined, i, 'desired');
  } else if (prev?.revision === desired && prev.phase === 'Promoted') {
    draft = history(prev, i, 'desired');
  } else if (!i.rollout) {
    // A rolling update, including of a revision a rollout refused: removing spec.rollout is the way to force it.
    draft = { status: undefined, stable: 'desired', candidate: false, events: [] };
  } else if (prev?.revision === desired) {
    // RolledBack or Aborted: no retry until the spec changes.
    draft = history(prev, i, 'keep');
  } else {
    draft = start(i, i.rollout, stable, '');
    if (action) {
      draft = act(draft.status!, action, draft.events);
      consumed = true;
    }
  }

  // An action already in effect is one read again before the cache saw it removed: consumed, quietly.
  const inEffect =
    prev?.revision === desired &&
    ((action === 'abort' && prev.phase === 'Aborted') ||
      (action === 'promote' && (prev.phase === 'Promoting' || prev.phase === 'Promoted')));
  if (i.action !== undefined && !consumed && !inEffect) {
    draft = { ...draft, events: [...draft.events, ignored(i.action, whyIgnored(i, action))] };
  }
  return { ...draft, actionConsumed: i.action !== undefined };
}

/**
 * The kstatus condition a rollout means, for withKstatusConditions: Reconciling while it is under way (reason the
 * phase), Stalled once it rolled back or was aborted while the spec still asks for its revision (someone must act:
 * change the spec, or remove spec.rollout); none otherwise.
 */
export function rolloutCondition(
  rollout: RolloutStatus | undefined,
  desiredRevision: string,
): ConditionDraft | undefined {
  if (!rollout) return undefined;
  if (UNDER_WAY.has(rollout.phase)) {
    return { type: CONDITION.reconciling, status: 'True', reason: rollout.phase, message: rollout.message };
  }
  if ((rollout.phase === 'RolledBack' || rollout.phase === 'Aborted') && rollout.revision === desiredRevision) {
    return { type: CONDITION.stalled, status: 'True', reason: rollout.phase, message: rollout.message };
  }
  return undefined;
}
