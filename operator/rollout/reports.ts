/**
 * The stable scorers' rollout reports (contract/rollout.ts), read from each ready pod directly, all at once, each with
 * a short timeout: the figures a step is judged from, and whether every stable scorer follows the current routing.
 */
import type { V1Pod } from '@kubernetes/client-node';
import { rolloutReportPath, rolloutReportSchema, type RolloutReport, type Routing } from '../../contract/rollout.js';
import { askScorer, httpFetcher, scorerTargets, type ReportFetcher, type ScorerAnswer } from '../scorer-pods.js';

/** How long a scorer has to answer: it serves its counts from memory. */
export const ROLLOUT_REPORT_TIMEOUT_MS = 2000;

export async function readReports(
  pods: readonly V1Pod[],
  model: string,
  fetcher: ReportFetcher = httpFetcher,
  timeoutMs = ROLLOUT_REPORT_TIMEOUT_MS,
): Promise<ScorerAnswer<RolloutReport>[]> {
  const targets = scorerTargets(pods, rolloutReportPath(model));
  return Promise.all(targets.map((t) => askScorer(fetcher, t, timeoutMs, rolloutReportSchema)));
}

/**
 * True when every ready stable scorer answered, follows `routing` (its version) and has nothing in flight to the
 * candidate: the candidate may then go without a request failing on its way there.
 */
export function routingSettled(answers: readonly ScorerAnswer<RolloutReport>[], routing: Routing): boolean {
  return answers.every((a) => 'report' in a && a.report.routing.version === routing.version && a.report.inFlight === 0);
}
