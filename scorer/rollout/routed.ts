/**
 * The model as a stable scorer serves it during a rollout: each prediction is either forwarded to the candidate (its
 * outputs returned, marked so that the HTTP layer says `scoring-served-by: candidate`) or made locally, and then
 * possibly mirrored to the candidate, whose answer is compared with the local one and never returned. Everything is
 * counted into the step the prediction started in. With nothing routed (weight and shadow 0) a prediction goes
 * straight to the model, uncounted: no step is judged on it, and the scorer's clients pay for no rollout.
 */
import type { Logger } from 'pino';
import type { Routing } from '../../contract/rollout.js';
import { batchRows, withPredict, type Model, type Tensor } from '../model.js';
import { compareRows } from './compare.js';
import type { StepCounts } from './counts.js';
import { candidateTarget, CandidateUnreachable, type CandidateTarget } from './forward.js';
import type { Rollout } from './index.js';

/** Outputs the candidate computed: the HTTP layer marks their answers. */
const fromCandidate = new WeakSet<Tensor[]>();

/** Whether `outputs` are a forwarded request's, computed by the candidate. */
export function servedByCandidate(outputs: Tensor[]): boolean {
  return fromCandidate.has(outputs);
}

/** A warning logged at most once per interval, with how many were left out since the last. */
function throttled(log: Logger, message: string, intervalMs = 5000) {
  let last = -Infinity;
  let suppressed = 0;
  return (error: unknown) => {
    const now = performance.now();
    if (now - last < intervalMs) {
      suppressed++;
      return;
    }
    log.warn({ error: error instanceof Error ? error.message : String(error), suppressed }, message);
    last = now;
    suppressed = 0;
  };
}

export function routed(model: Model, rollout: Rollout): Model {
  const { counts, candidate, log } = rollout;
  const unreachable = throttled(log, 'the candidate gave no answer to a forwarded request; answered locally');
  const mirrorFailed = throttled(log, 'a mirrored request failed on the candidate');

  // The candidate pods' endpoints, worked out again only when a new routing names them; taken in turn.
  let candidates: readonly string[] | undefined;
  let targets: CandidateTarget[] = [];
  let turn = 0;
  const targetsOf = (routing: Routing): CandidateTarget[] => {
    if (routing.candidates === candidates) return targets;
    candidates = routing.candidates;
    targets = [];
    for (const base of candidates) {
      try {
        targets.push(candidateTarget(base, model.name));
      } catch (err) {
        log.error(
          { candidate: base, error: (err as Error).message },
          'the routing names an unusable candidate: left out',
        );
      }
    }
    return targets;
  };
  const nextOf = (among: CandidateTarget[]): CandidateTarget => {
    turn = (turn + 1) % among.length;
    return among[turn]!;
  };

  const local = async (step: StepCounts, inputs: readonly Tensor[], outputNames?: readonly string[]) => {
    const started = performance.now();
    try {
      const outputs = await model.predict(inputs, outputNames);
      step.stable.succeeded((performance.now() - started) / 1000);
      return outputs;
    } catch (err) {
      step.stable.failed();
      throw err;
    }
  };

  /** The candidate's outputs, or undefined when it gave no answer (the caller predicts locally). */
  const forward = async (
    to: CandidateTarget,
    routing: Routing,
    step: StepCounts,
    inputs: readonly Tensor[],
    outputNames?: readonly string[],
  ): Promise<Tensor[] | undefined> => {
    step.forwarded++;
    counts.inFlight++;
    try {
      const answer = await candidate.infer(to, inputs, outputNames, routing.step);
      step.candidate.succeeded(answer.predictSeconds);
      fromCandidate.add(answer.outputs);
      return answer.outputs;
    } catch (err) {
      step.candidate.failed();
      if (!(err instanceof CandidateUnreachable)) throw err;
      unreachable(err);
      return undefined;
    } finally {
      counts.inFlight--;
    }
  };

  /** Sends the inputs to the candidate and compares its answer with `outputs`, without waiting for it. */
  const mirror = (
    to: CandidateTarget,
    routing: Routing,
    step: StepCounts,
    inputs: readonly Tensor[],
    outputNames: readonly string[] | undefined,
    outputs: Tensor[],
  ): void => {
    if (rollout.mirrorsInFlight >= rollout.maxMirrors) {
      step.mirrorsSkipped++;
      return;
    }
    step.mirrored++;
    rollout.mirrorsInFlight++;
    counts.inFlight++;
    const rows = batchRows(model.inputs, inputs);
    void (async () => {
      try {
        const answer = await candidate.infer(to, inputs, outputNames, routing.step);
        step.candidate.succeeded(answer.predictSeconds);
        step.agreed(compareRows(outputs, answer.outputs, rows, routing.tolerance));
      } catch (err) {
        step.candidate.failed();
        mirrorFailed(err);
      } finally {
        rollout.mirrorsInFlight--;
        counts.inFlight--;
      }
    })();
  };

  /** A prediction while something is routed: forwarded, or local and maybe mirrored; counted into its step. */
  const route = async (routing: Routing, inputs: readonly Tensor[], outputNames?: readonly string[]) => {
    const step = counts.current;
    const among = targetsOf(routing);
    if (among.length === 0) return local(step, inputs, outputNames);
    if (routing.weight > 0 && rollout.forwards.take(routing.weight)) {
      const answer = await forward(nextOf(among), routing, step, inputs, outputNames);
      if (answer) return answer;
    }
    const outputs = await local(step, inputs, outputNames);
    // Of the requests answered locally: a forwarded one has no local answer to compare.
    if (routing.shadow > 0 && rollout.mirrors.take(routing.shadow)) {
      mirror(nextOf(among), routing, step, inputs, outputNames, outputs);
    }
    return outputs;
  };

  return withPredict(model, (inputs, outputNames) => {
    const routing = rollout.routing;
    // Nothing routed (no rollout, or none of its steps under way): straight to the model, uncounted, as no step is
    // judged on it.
    if (routing.weight === 0 && routing.shadow === 0) return model.predict(inputs, outputNames);
    return route(routing, inputs, outputNames);
  });
}
