/**
 * The rollout step machine, transition by transition, and the kstatus condition a status means. Every
 * status the machine returns is one the CRD's status schema admits, and feeding it back (as the cluster would hand
 * it to a restarted operator) is all the machine needs to go on.
 */
import { emptyLatency, latencyBucket } from '../../../contract/rollout.js';
import { parseSpec, rolloutStatusSchema, type Rollout, type RolloutStatus } from '../../../operator/api/v1alpha1.js';
import type { StepFigures } from '../../../operator/rollout/analysis.js';
import {
  ANALYSIS_INTERVAL_MS,
  decideRollout,
  plan,
  rolloutCondition,
  SETTLE_INTERVAL_MS,
  type RolloutDecision,
  type RolloutInput,
} from '../../../operator/rollout/machine.js';

const T0 = Date.parse('2026-11-25T10:00:00Z');
/** `s` seconds after T0. */
const at = (s: number) => new Date(T0 + s * 1000);
const iso = (s: number) =>
  at(s)
    .toISOString()
    .replace(/\.\d+Z$/, 'Z');

function rolloutSpec(rollout: Record<string, unknown>): Rollout {
  const parsed = parseSpec({ model: { uri: 'm.onnx' }, rollout });
  if (!parsed.ok) throw new Error(parsed.message);
  return parsed.spec.rollout!;
}
/** A shadow step of 60 s, then 10% and 50% for 60 s each. */
const CANARY = rolloutSpec({ strategy: 'Canary', shadow: {}, steps: [{ weight: 10 }, { weight: 50 }] });
const SHADOW = rolloutSpec({ strategy: 'Shadow', shadow: { percent: 40, pauseSeconds: 30 } });

/** The stable scorers' counts of a step: 1-1.5 ms predictions on both sides; every compared row agrees. */
function figures(candidate: number, candidateErrors = 0, agreeing = candidate): StepFigures {
  const latency = (n: number) => {
    const l = emptyLatency();
    l.counts[latencyBucket(0.0012)] = n;
    return l;
  };
  return {
    pods: { answered: 2, asked: 2 },
    stable: { requests: 1000, errors: 0, latency: latency(1000) },
    candidate: { requests: candidate, errors: candidateErrors, latency: latency(candidate - candidateErrors) },
    forwarded: candidate,
    mirrored: 0,
    mirrorsSkipped: 0,
    agreement: { rows: candidate, agreeing, values: candidate, absDiffSum: 0 },
    inFlight: 0,
  };
}

/** A change from r0 to r1 under CANARY, at T0, nothing ready yet. */
function input(over: Partial<RolloutInput> = {}): RolloutInput {
  return {
    rollout: CANARY,
    previous: undefined,
    stableRevision: 'r0',
    desiredRevision: 'r1',
    candidateAvailable: false,
    stableRolledOut: false,
    routingSettled: false,
    now: at(0),
    ...over,
  };
}

/** Decides, and checks what every decision must be: a status the CRD admits, the same decision from the same input. */
function decide(i: RolloutInput): RolloutDecision {
  const decision = decideRollout(i);
  if (decision.status) expect(rolloutStatusSchema.parse(decision.status)).toEqual(decision.status);
  expect(decideRollout(structuredClone(i))).toEqual(decision);
  return decision;
}
/** The status a decision wrote, as a restarted operator would read it back from the cluster. */
const stored = (d: RolloutDecision) => rolloutStatusSchema.parse(JSON.parse(JSON.stringify(d.status))) as RolloutStatus;
const reasons = (d: RolloutDecision) => d.events.map((e) => `${e.type} ${e.reason}`);

/** The status of step `step` (1: shadow, 2: 10%, 3: 50%) of CANARY, started `started` seconds after T0. */
function inStep(step: number, started: number, over: Partial<RolloutStatus> = {}): RolloutStatus {
  const s = plan(CANARY)[step - 1]!;
  return {
    phase: s.kind === 'shadow' ? 'Shadow' : 'Canary',
    revision: 'r1',
    stableRevision: 'r0',
    step,
    steps: 3,
    weight: s.weight,
    shadowPercent: s.shadow,
    startedAt: iso(0),
    stepStartedAt: iso(started),
    message: 'm',
    ...over,
  };
}

describe('no rollout', () => {
  it('without spec.rollout a change is a rolling update: the stable Deployment gets the desired template', () => {
    expect(decide(input({ rollout: undefined }))).toEqual({
      status: undefined,
      stable: 'desired',
      candidate: false,
      events: [],
      actionConsumed: false,
    });
  });

  it('a ScoringModel created with spec.rollout has nothing to roll out: there is no stable Deployment yet', () => {
    expect(decide(input({ stableRevision: undefined }))).toMatchObject({
      status: undefined,
      stable: 'desired',
      candidate: false,
      events: [],
    });
  });

  it('nothing changes while the spec asks for the stable revision', () => {
    expect(decide(input({ desiredRevision: 'r0' }))).toMatchObject({
      status: undefined,
      stable: 'desired',
      candidate: false,
      events: [],
    });
  });

  it('a finished rollout stays as history while the spec asks for its revision, and goes with the next change', () => {
    const promoted = inStep(3, 120, { phase: 'Promoted', finishedAt: iso(200), weight: 0 });
    const held = decide(input({ previous: promoted, stableRevision: 'r1', desiredRevision: 'r1' }));
    expect(held).toMatchObject({ status: promoted, stable: 'desired', candidate: false, events: [] });
    const withoutSpec = decide(
      input({ rollout: undefined, previous: promoted, stableRevision: 'r1', desiredRevision: 'r1' }),
    );
    expect(withoutSpec.status).toEqual(promoted);
    const next = decide(input({ rollout: undefined, previous: promoted, stableRevision: 'r1', desiredRevision: 'r2' }));
    expect(next).toMatchObject({ status: undefined, stable: 'desired', candidate: false });
  });

  it('a promoted revision whose stable Deployment was edited meanwhile is put back, not rolled out again', () => {
    const promoted = inStep(3, 120, { phase: 'Promoted', finishedAt: iso(200), weight: 0 });
    const d = decide(input({ previous: promoted, stableRevision: 'edited', desiredRevision: 'r1' }));
    expect(d).toMatchObject({ status: promoted, stable: 'desired', candidate: false, events: [] });
  });
});

describe('a rollout starts', () => {
  it('when the spec asks for another revision than the stable one: step 1, waiting for the candidate', () => {
    const d = decide(input());
    expect(d).toEqual({
      status: {
        phase: 'Shadow',
        revision: 'r1',
        stableRevision: 'r0',
        step: 1,
        steps: 3,
        weight: 0,
        shadowPercent: 0,
        startedAt: iso(0),
        message: "step 1/3 (100% of requests mirrored to the candidate) waits for the candidate's pods to be available",
      },
      stable: 'keep',
      candidate: true,
      events: [
        {
          type: 'Normal',
          reason: 'RolloutStarted',
          message:
            'rolling out revision r1 (stable r0) in 3 steps: 100% of requests mirrored to the candidate; 10% of ' +
            'requests forwarded to the candidate; 50% of requests forwarded to the candidate',
        },
      ],
      actionConsumed: false,
    });
  });

  it('as a Canary step when there is no shadow step', () => {
    const d = decide(input({ rollout: rolloutSpec({ strategy: 'Canary', steps: [{ weight: 25 }] }) }));
    expect(d.status).toMatchObject({ phase: 'Canary', step: 1, steps: 1, weight: 0, shadowPercent: 0 });
  });

  it('waits for the candidate without writing anything new', () => {
    const first = decide(input());
    const again = decide(input({ previous: stored(first), now: at(30) }));
    expect(again).toMatchObject({ status: first.status, stable: 'keep', candidate: true, events: [] });
  });

  it("starts step 1 once the candidate's pods are available: the shadow percent is mirrored from then", () => {
    const d = decide(input({ previous: stored(decide(input())), candidateAvailable: true, now: at(40) }));
    expect(d.status).toMatchObject({ phase: 'Shadow', step: 1, weight: 0, shadowPercent: 100, stepStartedAt: iso(40) });
    expect(d.events).toEqual([
      { type: 'Normal', reason: 'StepStarted', message: 'step 1/3 (100% of requests mirrored to the candidate)' },
    ]);
    expect(d.requeueAfterMs).toBe(ANALYSIS_INTERVAL_MS);
  });

  it('starts step 1 at once when the candidate is available already', () => {
    const d = decide(input({ candidateAvailable: true }));
    expect(reasons(d)).toEqual(['Normal RolloutStarted', 'Normal StepStarted']);
    expect(d.status).toMatchObject({ shadowPercent: 100, stepStartedAt: iso(0) });
  });
});

describe('a step', () => {
  const running = (over: Partial<RolloutInput>) =>
    decide(input({ previous: inStep(2, 100), candidateAvailable: true, ...over }));

  it("waits for the stable scorers' counts", () => {
    const d = running({ now: at(110) });
    expect(d).toMatchObject({ stable: 'keep', candidate: true, events: [], requeueAfterMs: ANALYSIS_INTERVAL_MS });
    expect(d.status).toMatchObject({
      phase: 'Canary',
      weight: 10,
      message: "step 2/3 (10% of requests forwarded to the candidate): waiting for the stable scorers' counts",
    });
  });

  it('waits below minRequests, saying how many of how many, with the figures so far', () => {
    const d = running({ figures: figures(37), now: at(500) });
    expect(d.status!.message).toBe(
      'step 2/3 (10% of requests forwarded to the candidate): 37 of the 100 candidate predictions a step needs ' +
        '(analysis.minRequests)',
    );
    expect(d.status!.analysis).toEqual({
      pods: { answered: 2, asked: 2 },
      candidate: { requests: 37, errorRate: 0, p99Ms: 1.5 },
      stable: { requests: 1000, errorRate: 0, p99Ms: 1.5 },
    });
    expect(d.events).toEqual([]);
  });

  it('within the limits, holds until its pause has elapsed, looking again when it ends', () => {
    const d = running({ figures: figures(150), now: at(158) });
    expect(d.status).toMatchObject({ step: 2, weight: 10 });
    expect(d.status!.message).toBe(
      'step 2/3 (10% of requests forwarded to the candidate): within the limits so far (candidate error rate ' +
        'within 0.01 of the stable one); the step ends at 2026-11-25T10:02:40Z',
    );
    expect(d.requeueAfterMs).toBe(2_000);
    expect(d.events).toEqual([]);
  });

  it('passes once the analysis holds and the pause has elapsed: the next step starts, counted afresh', () => {
    const d = running({ figures: figures(150), now: at(160) });
    expect(d.status).toEqual({
      ...inStep(3, 160),
      message: "step 3/3 (50% of requests forwarded to the candidate): waiting for the stable scorers' counts",
    });
    expect(d.events).toEqual([
      { type: 'Normal', reason: 'StepStarted', message: 'step 3/3 (50% of requests forwarded to the candidate)' },
    ]);
  });

  it('the shadow step passes into the first canary step', () => {
    const d = decide(input({ previous: inStep(1, 0), candidateAvailable: true, figures: figures(500), now: at(60) }));
    expect(d.status).toMatchObject({ phase: 'Canary', step: 2, weight: 10, shadowPercent: 0, stepStartedAt: iso(60) });
  });

  it("does not pass on time alone: the step's minRequests are needed", () => {
    expect(running({ figures: figures(99), now: at(10_000) }).status).toMatchObject({ step: 2, weight: 10 });
  });

  it('waits for the candidate again when it is not available as the next step begins: nothing routed meanwhile', () => {
    const d = running({ figures: figures(150), now: at(160), candidateAvailable: false });
    expect(d.status).toMatchObject({ phase: 'Canary', step: 3, weight: 0, shadowPercent: 0 });
    expect(d.status!.stepStartedAt).toBeUndefined();
    expect(d.events).toEqual([]);
  });

  it('fails at once, before its pause has elapsed: RolledBack, nothing routed to the candidate', () => {
    const d = running({ figures: figures(100, 45), now: at(101) });
    expect(d.status).toMatchObject({ phase: 'RolledBack', step: 2, weight: 0, shadowPercent: 0 });
    expect(d.status!.analysis!.candidate).toEqual({ requests: 100, errorRate: 0.45, p99Ms: 1.5 });
    const message =
      'step 2/3 (10% of requests forwarded to the candidate) failed: candidate error rate 0.4500 exceeds stable ' +
      '0.0000 by more than 0.01 (analysis.maxErrorRateIncrease), over 100 candidate and 1000 stable predictions; ' +
      'the stable scorers answer every request';
    expect(d.status!.message).toBe(message);
    expect(d.events).toEqual([{ type: 'Warning', reason: 'RolledBack', message }]);
    expect(d).toMatchObject({ stable: 'keep', candidate: true, requeueAfterMs: SETTLE_INTERVAL_MS });
  });

  it('the shadow step fails when answers disagree', () => {
    const d = decide(input({ previous: inStep(1, 0), candidateAvailable: true, figures: figures(500, 0, 400) }));
    expect(d.status).toMatchObject({ phase: 'RolledBack', weight: 0, shadowPercent: 0 });
    expect(d.status!.message).toContain('0.8000 of 500 compared rows agree within tolerance 0.000001, below 0.99');
    expect(d.status!.analysis!.agreement).toEqual({ rows: 500, share: 0.8, meanAbsDiff: 0 });
  });

  it("rolls back when the candidate's pods fail, with their message", () => {
    const problem = 'cannot load model https://models.example.com/v2.onnx: sha256 mismatch';
    for (const previous of [stored(decide(input())), inStep(2, 100)]) {
      const d = decide(input({ previous, candidateProblem: problem, now: at(120) }));
      expect(d.status).toMatchObject({ phase: 'RolledBack', weight: 0, shadowPercent: 0 });
      expect(d.status!.message).toBe(`the candidate's pods fail: ${problem}; the stable scorers answer every request`);
      expect(reasons(d)).toEqual(['Warning RolledBack']);
    }
  });

  it("follows the spec's weights as they are now, and ends the plan where it stands when steps are removed", () => {
    const reweighted = rolloutSpec({ strategy: 'Canary', shadow: {}, steps: [{ weight: 20 }, { weight: 50 }] });
    expect(running({ rollout: reweighted, now: at(110) }).status).toMatchObject({ step: 2, weight: 20 });
    const shorter = rolloutSpec({ strategy: 'Canary', shadow: {}, steps: [{ weight: 10 }] });
    const d = decide(input({ rollout: shorter, previous: inStep(3, 100), figures: figures(200), now: at(160) }));
    expect(d.status).toMatchObject({ phase: 'Promoting', step: 2, steps: 2 });
  });
});

describe('after the last step', () => {
  const last = (over: Partial<RolloutInput> = {}) =>
    decide(input({ previous: inStep(3, 200), candidateAvailable: true, figures: figures(300), now: at(260), ...over }));

  it('Promoting with autoPromote: the stable Deployment gets the desired template, the candidate keeps its weight', () => {
    const d = last();
    const message =
      'every step passed (the last: candidate error rate within 0.01 of the stable one); promoting: the stable ' +
      'Deployment rolls out revision r1, then the candidate is removed';
    expect(d.status).toMatchObject({ phase: 'Promoting', step: 3, weight: 50, shadowPercent: 0, message });
    expect(d).toMatchObject({
      stable: 'desired',
      candidate: true,
      events: [{ type: 'Normal', reason: 'Promoting', message }],
    });
  });

  describe('Paused without autoPromote', () => {
    const manual = rolloutSpec({ ...CANARY, autoPromote: false });
    const paused = () => last({ rollout: manual });

    it('waits for the annotation, the candidate keeping its weight', () => {
      const d = paused();
      expect(d.status).toMatchObject({ phase: 'Paused', step: 3, weight: 50 });
      expect(d.status!.message).toBe(
        'every step passed (the last: candidate error rate within 0.01 of the stable one); waiting for kubectl ' +
          'annotate ... scoring.dev/rollout=promote (autoPromote is false)',
      );
      expect(d).toMatchObject({ stable: 'keep', candidate: true, requeueAfterMs: ANALYSIS_INTERVAL_MS });
      expect(reasons(d)).toEqual(['Normal Paused']);
    });

    it('stays Paused, with one event only, and while the counts start afresh', () => {
      const previous = stored(paused());
      const again = decide(
        input({ rollout: manual, previous, candidateAvailable: true, figures: figures(400), now: at(900) }),
      );
      expect(again).toMatchObject({ status: { phase: 'Paused', message: previous.message }, events: [] });
      const afresh = decide(
        input({ rollout: manual, previous, candidateAvailable: true, figures: figures(3), now: at(900) }),
      );
      expect(afresh).toMatchObject({ status: { phase: 'Paused', message: previous.message }, events: [] });
    });

    it('is still judged: a failure rolls back', () => {
      const previous = stored(paused());
      const d = decide(
        input({ rollout: manual, previous, candidateAvailable: true, figures: figures(400, 200), now: at(900) }),
      );
      expect(d.status).toMatchObject({ phase: 'RolledBack', weight: 0 });
    });

    it('promotes once autoPromote is set', () => {
      const d = last({ previous: stored(paused()), now: at(900) });
      expect(d.status).toMatchObject({ phase: 'Promoting', weight: 50 });
    });
  });
});

describe('Promoting', () => {
  const promoting = stored(
    decide(input({ previous: inStep(3, 200), candidateAvailable: true, figures: figures(300), now: at(260) })),
  );
  const go = (over: Partial<RolloutInput>) => decide(input({ previous: promoting, now: at(300), ...over }));

  it('holds the weight while the stable Deployment rolls out', () => {
    expect(go({ stableRevision: 'r1' })).toMatchObject({
      status: promoting,
      stable: 'desired',
      candidate: true,
      events: [],
    });
  });

  it('routes nothing to the candidate once the stable Deployment runs the desired revision', () => {
    const d = go({ stableRevision: 'r1', stableRolledOut: true });
    expect(d.status).toEqual({ ...promoting, weight: 0, shadowPercent: 0 });
    expect(d).toMatchObject({ stable: 'desired', candidate: true, events: [], requeueAfterMs: SETTLE_INTERVAL_MS });
  });

  it('removes the candidate once every stable scorer has stopped sending to it: Promoted', () => {
    const drained = { ...promoting, weight: 0 };
    const waiting = go({ previous: drained, stableRevision: 'r1', stableRolledOut: true });
    expect(waiting).toMatchObject({ status: drained, candidate: true, requeueAfterMs: SETTLE_INTERVAL_MS });
    const d = go({ previous: drained, stableRevision: 'r1', stableRolledOut: true, routingSettled: true });
    const message =
      'every step passed (the last: candidate error rate within 0.01 of the stable one); promoted: the stable ' +
      'Deployment runs revision r1';
    expect(d.status).toEqual({ ...drained, phase: 'Promoted', finishedAt: iso(300), message });
    expect(d).toMatchObject({
      stable: 'desired',
      candidate: false,
      events: [{ type: 'Normal', reason: 'Promoted', message }],
    });
  });

  it('a Shadow rollout promotes with nothing routed to the candidate', () => {
    const shadowStep: RolloutStatus = { ...inStep(1, 0), steps: 1, shadowPercent: 40 };
    const d = decide(
      input({ rollout: SHADOW, previous: shadowStep, candidateAvailable: true, figures: figures(200), now: at(30) }),
    );
    expect(d.status).toMatchObject({ phase: 'Promoting', weight: 0, shadowPercent: 0 });
  });

  it('goes on when spec.rollout is removed meanwhile', () => {
    expect(go({ rollout: undefined, stableRevision: 'r1' }).status).toEqual(promoting);
  });
});

describe('RolledBack', () => {
  const rolledBack = stored(
    decide(input({ previous: inStep(2, 100), candidateAvailable: true, figures: figures(100, 45) })),
  );

  it('keeps the candidate until every stable scorer has stopped sending to it, then says when it finished', () => {
    const waiting = decide(input({ previous: rolledBack, now: at(110) }));
    expect(waiting).toMatchObject({ status: rolledBack, stable: 'keep', candidate: true, events: [] });
    expect(waiting.requeueAfterMs).toBe(SETTLE_INTERVAL_MS);
    const done = decide(input({ previous: rolledBack, routingSettled: true, now: at(112) }));
    expect(done).toMatchObject({
      status: { ...rolledBack, finishedAt: iso(112) },
      stable: 'keep',
      candidate: false,
      events: [],
    });
  });

  it('stays so for the same revision: no retry until the spec changes', () => {
    const finished = { ...rolledBack, finishedAt: iso(112) };
    expect(
      decide(input({ previous: finished, routingSettled: true, candidateAvailable: true, now: at(5000) })),
    ).toEqual({
      status: finished,
      stable: 'keep',
      candidate: false,
      events: [],
      actionConsumed: false,
    });
  });

  it('a new revision starts a new rollout', () => {
    const d = decide(input({ previous: { ...rolledBack, finishedAt: iso(112) }, desiredRevision: 'r2', now: at(200) }));
    expect(d.status).toMatchObject({
      phase: 'Shadow',
      revision: 'r2',
      stableRevision: 'r0',
      step: 1,
      startedAt: iso(200),
    });
    expect(reasons(d)).toEqual(['Normal RolloutStarted']);
  });

  it('the spec back to the stable revision keeps it as history, no longer Stalled', () => {
    const d = decide(input({ previous: { ...rolledBack, finishedAt: iso(112) }, desiredRevision: 'r0' }));
    expect(d).toMatchObject({ status: { phase: 'RolledBack', revision: 'r1' }, stable: 'desired', candidate: false });
    expect(rolloutCondition(d.status, 'r0')).toBeUndefined();
  });

  it('removing spec.rollout lets the change through as a rolling update', () => {
    expect(decide(input({ rollout: undefined, previous: { ...rolledBack, finishedAt: iso(112) } }))).toMatchObject({
      status: undefined,
      stable: 'desired',
      candidate: false,
    });
  });
});

describe('the spec changes in the middle', () => {
  it('to another revision: the rollout starts over from step 1, the stable Deployment untouched', () => {
    const d = decide(input({ previous: inStep(3, 200), desiredRevision: 'r2', now: at(230) }));
    expect(d.status).toEqual({
      phase: 'Shadow',
      revision: 'r2',
      stableRevision: 'r0',
      step: 1,
      steps: 3,
      weight: 0,
      shadowPercent: 0,
      startedAt: iso(230),
      message: "step 1/3 (100% of requests mirrored to the candidate) waits for the candidate's pods to be available",
    });
    expect(d).toMatchObject({ stable: 'keep', candidate: true });
    expect(d.events.map((e) => e.message)).toEqual([
      'the spec changed during the rollout of r1: starting over, rolling out revision r2 (stable r0) in 3 steps: ' +
        '100% of requests mirrored to the candidate; 10% of requests forwarded to the candidate; 50% of requests ' +
        'forwarded to the candidate',
    ]);
  });

  it('to another revision while Promoting: the new one is rolled out against what the stable Deployment runs', () => {
    const promoting = { ...inStep(3, 200), phase: 'Promoting' as const };
    const d = decide(input({ previous: promoting, stableRevision: 'r1', desiredRevision: 'r2', now: at(300) }));
    expect(d.status).toMatchObject({ phase: 'Shadow', revision: 'r2', stableRevision: 'r1', step: 1 });
    expect(d.stable).toBe('keep');
  });

  it('back to the stable revision: Aborted, nothing routed, the candidate removed once the scorers stopped', () => {
    const d = decide(input({ previous: inStep(2, 100), desiredRevision: 'r0', now: at(130) }));
    const message =
      'spec is back to the stable revision r0: the rollout of r1 is aborted; the stable scorers answer every request';
    expect(d.status).toEqual({ ...inStep(2, 100), phase: 'Aborted', weight: 0, shadowPercent: 0, message });
    expect(d).toMatchObject({
      stable: 'keep',
      candidate: true,
      events: [{ type: 'Warning', reason: 'Aborted', message }],
    });
    const cleaned = decide(input({ previous: stored(d), desiredRevision: 'r0', routingSettled: true, now: at(135) }));
    expect(cleaned).toMatchObject({ status: { phase: 'Aborted', finishedAt: iso(135) }, candidate: false, events: [] });
    expect(rolloutCondition(cleaned.status, 'r0')).toBeUndefined();
  });

  it('spec.rollout removed: the change goes on as a rolling update, promoting the candidate', () => {
    const d = decide(input({ rollout: undefined, previous: inStep(2, 100), now: at(130) }));
    expect(d.status).toMatchObject({
      phase: 'Promoting',
      weight: 10,
      message:
        'spec.rollout was removed; promoting: the stable Deployment rolls out revision r1, then the candidate is removed',
    });
    expect(d.stable).toBe('desired');
  });

  it('spec.rollout removed together with the revision change: a rolling update, the rollout dropped', () => {
    expect(decide(input({ rollout: undefined, previous: inStep(2, 100), desiredRevision: 'r2' }))).toMatchObject({
      status: undefined,
      stable: 'desired',
      candidate: false,
    });
  });
});

describe('the scoring.dev/rollout annotation', () => {
  const waitingForPods = () => stored(decide(input()));
  const paused = { ...inStep(3, 200), phase: 'Paused' as const };
  const phases: [string, () => RolloutStatus][] = [
    ['waiting for the candidate', waitingForPods],
    ['Shadow', () => inStep(1, 0)],
    ['Canary', () => inStep(2, 100)],
    ['Paused', () => paused],
  ];

  it.each(phases)('promote in %s: Promoting at once, the annotation consumed', (_phase, previous) => {
    const prev = previous();
    const d = decide(
      input({ previous: prev, action: 'promote', candidateAvailable: true, figures: figures(1), now: at(250) }),
    );
    expect(d.status).toMatchObject({ phase: 'Promoting', step: prev.step, weight: prev.weight, shadowPercent: 0 });
    expect(d.status!.message).toBe(
      `promoted by scoring.dev/rollout=promote at step ${prev.step}/3; promoting: the stable Deployment rolls out ` +
        'revision r1, then the candidate is removed',
    );
    expect(d).toMatchObject({ stable: 'desired', candidate: true, actionConsumed: true });
    expect(reasons(d)).toEqual(['Normal Promoting']);
  });

  it.each(phases)('abort in %s: Aborted at once, nothing routed, the annotation consumed', (_phase, previous) => {
    const prev = previous();
    const d = decide(
      input({ previous: prev, action: 'abort', candidateAvailable: true, figures: figures(500), now: at(250) }),
    );
    expect(d.status).toMatchObject({ phase: 'Aborted', weight: 0, shadowPercent: 0 });
    expect(d.status!.message).toBe(
      `aborted by scoring.dev/rollout=abort at step ${prev.step}/3; the stable scorers answer every request`,
    );
    expect(d).toMatchObject({ stable: 'keep', candidate: true, actionConsumed: true });
    expect(reasons(d)).toEqual(['Warning Aborted']);
    expect(rolloutCondition(d.status, 'r1')).toMatchObject({ type: 'Stalled', reason: 'Aborted' });
  });

  it('given with the change itself, acts on the rollout it starts', () => {
    expect(reasons(decide(input({ action: 'promote' })))).toEqual(['Normal RolloutStarted', 'Normal Promoting']);
    const aborted = decide(input({ previous: inStep(2, 100), desiredRevision: 'r2', action: 'abort' }));
    expect(aborted.status).toMatchObject({ phase: 'Aborted', revision: 'r2' });
    expect(reasons(aborted)).toEqual(['Normal RolloutStarted', 'Warning Aborted']);
  });

  const ignoredIn: [string, Partial<RolloutInput>, string][] = [
    [
      'no rollout',
      { desiredRevision: 'r0', action: 'promote' },
      'scoring.dev/rollout=promote: no rollout is under way',
    ],
    [
      'Promoting (abort)',
      { previous: { ...inStep(3, 200), phase: 'Promoting' }, action: 'abort' },
      'scoring.dev/rollout=abort: too late: the stable Deployment rolls out revision r1 already; to go back, change ' +
        'the spec back',
    ],
    [
      'RolledBack',
      { previous: { ...inStep(2, 100), phase: 'RolledBack', weight: 0, finishedAt: iso(120) }, action: 'promote' },
      'scoring.dev/rollout=promote: the rollout of revision r1 is over (RolledBack); to try again change the spec, ' +
        'or remove spec.rollout for a rolling update',
    ],
    [
      'Aborted',
      { previous: { ...inStep(2, 100), phase: 'Aborted', weight: 0, finishedAt: iso(120) }, action: 'promote' },
      'scoring.dev/rollout=promote: the rollout of revision r1 is over (Aborted); to try again change the spec, ' +
        'or remove spec.rollout for a rolling update',
    ],
    [
      'a rollout whose spec.rollout was removed',
      { rollout: undefined, previous: inStep(2, 100), action: 'abort' },
      'scoring.dev/rollout=abort: spec.rollout was removed: the change goes on as a rolling update',
    ],
    [
      'a Canary step (an unknown value)',
      { previous: inStep(2, 100), action: 'rollback' },
      'scoring.dev/rollout=rollback: not promote or abort',
    ],
  ];

  it.each(ignoredIn)('is consumed and ignored in %s, with a Warning saying why', (_what, over, message) => {
    const d = decide(input({ now: at(300), ...over }));
    expect(d.actionConsumed).toBe(true);
    expect(d.events.at(-1)).toEqual({ type: 'Warning', reason: 'ActionIgnored', message });
    expect(d).toEqual({
      ...decide(input({ now: at(300), ...over, action: undefined })),
      events: d.events,
      actionConsumed: true,
    });
  });
});

describe('an action already in effect', () => {
  const readAgain: [string, Partial<RolloutInput>][] = [
    ['promote while Promoting', { previous: { ...inStep(3, 200), phase: 'Promoting' }, action: 'promote' }],
    [
      'promote once Promoted',
      {
        previous: { ...inStep(3, 200), phase: 'Promoted', weight: 0, finishedAt: iso(250) },
        stableRevision: 'r1',
        action: 'promote',
      },
    ],
    [
      'abort once Aborted',
      { previous: { ...inStep(2, 100), phase: 'Aborted', weight: 0, finishedAt: iso(120) }, action: 'abort' },
    ],
  ];

  it.each(readAgain)('(%s: read again before the cache saw it removed) is consumed quietly', (_what, over) => {
    const d = decide(input({ now: at(300), ...over }));
    expect(d.actionConsumed).toBe(true);
    expect(d).toEqual({ ...decide(input({ now: at(300), ...over, action: undefined })), actionConsumed: true });
  });
});

describe('without memory', () => {
  /** The inputs of a whole rollout, each from the status the one before wrote, read back from JSON. */
  function walk(rollout: Rollout, steps: Partial<RolloutInput>[]): RolloutDecision[] {
    const decisions: RolloutDecision[] = [];
    let previous: RolloutStatus | undefined;
    for (const over of steps) {
      const d = decide(input({ rollout, previous, ...over }));
      decisions.push(d);
      previous = d.status && stored(d);
    }
    return decisions;
  }
  const ready = { candidateAvailable: true };

  it('walks a good rollout from the change to Promoted, with one event per transition', () => {
    const decisions = walk(CANARY, [
      { now: at(0) },
      { ...ready, now: at(20) },
      { ...ready, figures: figures(40), now: at(40) },
      { ...ready, figures: figures(500), now: at(80) },
      { ...ready, figures: figures(120), now: at(140) },
      { ...ready, figures: figures(150), now: at(200) },
      { ...ready, stableRevision: 'r1', now: at(210) },
      { ...ready, stableRevision: 'r1', stableRolledOut: true, now: at(240) },
      { ...ready, stableRevision: 'r1', stableRolledOut: true, routingSettled: true, now: at(245) },
      { stableRevision: 'r1', desiredRevision: 'r1', stableRolledOut: true, routingSettled: true, now: at(300) },
    ]);
    expect(decisions.map((d) => [d.status?.phase, d.status?.step, d.status?.weight, d.status?.shadowPercent])).toEqual([
      ['Shadow', 1, 0, 0],
      ['Shadow', 1, 0, 100],
      ['Shadow', 1, 0, 100],
      ['Canary', 2, 10, 0],
      ['Canary', 3, 50, 0],
      ['Promoting', 3, 50, 0],
      ['Promoting', 3, 50, 0],
      ['Promoting', 3, 0, 0],
      ['Promoted', 3, 0, 0],
      ['Promoted', 3, 0, 0],
    ]);
    expect(decisions.flatMap(reasons)).toEqual([
      'Normal RolloutStarted',
      'Normal StepStarted',
      'Normal StepStarted',
      'Normal StepStarted',
      'Normal Promoting',
      'Normal Promoted',
    ]);
    expect(decisions.map((d) => d.stable)).toEqual([...Array(5).fill('keep'), ...Array(5).fill('desired')]);
    expect(decisions.map((d) => d.candidate)).toEqual([...Array(8).fill(true), false, false]);
  });

  it('an operator restarted in the middle of a step decides from the status alone what the old one would have', () => {
    const [, started] = walk(CANARY, [{ now: at(0) }, { ...ready, now: at(20) }]);
    // The old operator, had it lived, and a new one reading the stored status later: the step's end comes from
    // stepStartedAt in status, not from when the operator started.
    const later = { ...ready, previous: stored(started!), figures: figures(300) };
    const before = decideRollout(input({ ...later, now: at(79) }));
    const after = decideRollout(input({ ...later, now: at(80) }));
    expect(before.status).toMatchObject({ step: 1 });
    expect(after.status).toMatchObject({ step: 2, stepStartedAt: iso(80) });
    expect(
      decideRollout(input({ ...later, previous: JSON.parse(JSON.stringify(started!.status)), now: at(80) })),
    ).toEqual(after);
  });

  it('a status written but whose events were lost is not acted on twice: the next decision moves on', () => {
    const [first] = walk(CANARY, [{ ...ready, now: at(0) }]);
    const second = decide(input({ ...ready, previous: stored(first!), now: at(1) }));
    expect(second.events).toEqual([]);
    expect(second.status).toMatchObject({ step: 1, stepStartedAt: iso(0) });
  });
});

describe('rolloutCondition', () => {
  it.each(['Shadow', 'Canary', 'Paused', 'Promoting'] as const)(
    'is Reconciling while %s, with the phase as its reason and the rollout message',
    (phase) => {
      expect(rolloutCondition({ ...inStep(2, 100), phase, message: 'why' }, 'r1')).toEqual({
        type: 'Reconciling',
        status: 'True',
        reason: phase,
        message: 'why',
      });
    },
  );

  it.each(['RolledBack', 'Aborted'] as const)('is Stalled once %s while the spec asks for its revision', (phase) => {
    const rollout = { ...inStep(2, 100), phase, weight: 0, message: 'why' };
    expect(rolloutCondition(rollout, 'r1')).toEqual({ type: 'Stalled', status: 'True', reason: phase, message: 'why' });
    expect(rolloutCondition({ ...rollout, finishedAt: iso(200) }, 'r1')).toMatchObject({ type: 'Stalled' });
    expect(rolloutCondition(rollout, 'r0')).toBeUndefined();
  });

  it('is none once Promoted, or without a rollout', () => {
    expect(rolloutCondition({ ...inStep(3, 200), phase: 'Promoted', finishedAt: iso(300) }, 'r1')).toBeUndefined();
    expect(rolloutCondition(undefined, 'r1')).toBeUndefined();
  });
});
