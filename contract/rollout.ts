/**
 * Rollouts' shared definitions: the routing the operator tells every stable scorer (which share of requests to
 * forward to the candidate, which share to mirror to it), the headers of a forwarded or mirrored request, and the
 * report each stable scorer serves and the operator sums to judge a step.
 *
 * The channel: a scorer long-polls ROUTING_URL (the operator's routing endpoint, in the operator's namespace): the
 * answer is the routing of its ScoringModel, derived from status.rollout, so every operator replica gives the same
 * answer and a restarted one resumes where the cluster says. Pods of the model's namespace can read it but cannot
 * change what a scorer is told: only the operator's Service answers at that address.
 */
import { z } from 'zod';

/** The operator's routing endpoint: `${ROUTING_PATH}/NAMESPACE/NAME?uid=UID`, the ScoringModel's uid. */
export const ROUTING_PATH = '/routing/v1';

/** The query parameter with the version a scorer holds: the answer waits until the routing differs from it. */
export const ROUTING_AFTER_PARAM = 'after';

/** How long the operator holds a long-poll whose routing has not changed before answering it unchanged. */
export const ROUTING_LONG_POLL_SECONDS = 25;

export function routingPath(namespace: string, name: string): string {
  return `${ROUTING_PATH}/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}`;
}

export const routingSchema = z.object({
  /** Changes whenever anything else here does: a scorer polls with the version it holds. */
  version: z.string().min(1).max(128),
  /**
   * The analysis window the scorer counts into: a new step (or a new rollout) has a new id, and the scorer starts
   * its counts afresh. Empty when no rollout is under way.
   */
  step: z.string().max(256),
  /**
   * Where forwarded and mirrored requests go: the base URLs (http://podIP:port) of the candidate's ready pods, taken
   * in turn. The operator keeps the list current from its pod cache, so no Service, DNS or kube-proxy is on the path
   * and a pod that stops being ready leaves the list at once. Empty: nothing is forwarded or mirrored.
   */
  candidates: z.array(z.string().max(512)).max(1000),
  /** Percent of requests (0-100) a stable scorer forwards to the candidate and returns its answer. */
  weight: z.number().int().min(0).max(100),
  /** Percent of requests (0-100) whose inputs a stable scorer also sends to the candidate, to compare answers. */
  shadow: z.number().int().min(0).max(100),
  /** Two output values agree when |candidate - stable| <= tolerance * max(1, |stable|). */
  tolerance: z.number().min(0),
});
export type Routing = z.infer<typeof routingSchema>;

/** What a scorer does when it has no routing (none yet, the operator unreachable at start, no rollout). */
export const NO_ROUTING: Routing = { version: 'none', step: '', candidates: [], weight: 0, shadow: 0, tolerance: 0 };

/** Sent with every forwarded or mirrored request: the step it belongs to. The candidate answers PREDICT_SECONDS. */
export const FORWARDED_HEADER = 'scoring-forwarded';
/** The candidate's own prediction time for a forwarded request, in seconds: the hop is not held against it. */
export const PREDICT_SECONDS_HEADER = 'scoring-predict-seconds';
/** On a client's answer that the candidate computed (a forwarded request): `candidate`. */
export const SERVED_BY_HEADER = 'scoring-served-by';

/**
 * Upper bounds (seconds) of the prediction-time histogram a report carries; a last, unbounded bucket follows.
 * Roughly x1.5 apart from 50 µs to 30 s, so that an interpolated p99 is within a few tens of percent.
 */
export const LATENCY_BOUNDS: readonly number[] = [
  0.00005, 0.000075, 0.0001, 0.00015, 0.0002, 0.0003, 0.0005, 0.00075, 0.001, 0.0015, 0.002, 0.003, 0.005, 0.0075, 0.01,
  0.015, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 0.75, 1, 1.5, 2, 3, 5, 7.5, 10, 15, 20, 30,
];

const latencySchema = z.object({
  /** Per bucket of LATENCY_BOUNDS, then the unbounded one: LATENCY_BOUNDS.length + 1 counts. */
  counts: z.array(z.number().int().min(0)).length(LATENCY_BOUNDS.length + 1),
});
export type Latency = z.infer<typeof latencySchema>;

const sideSchema = z.object({
  /** Predictions asked of this side. */
  requests: z.number().int().min(0),
  /** Of those, the ones that failed: the model could not score (422), a 5xx, no answer at all. */
  errors: z.number().int().min(0),
  /** Prediction time of the ones that succeeded, as the side's own scorer measured it. */
  latency: latencySchema,
});
export type Side = z.infer<typeof sideSchema>;

export const rolloutReportSchema = z.object({
  /** The routing the scorer follows, and the step its counts below are for. */
  routing: z.object({ version: z.string(), step: z.string() }),
  /** Forwarded and mirrored requests sent and not yet answered. */
  inFlight: z.number().int().min(0),
  /** Predictions the scorer made itself in this step. */
  stable: sideSchema,
  /** Predictions asked of the candidate in this step: forwarded and mirrored alike. */
  candidate: sideSchema,
  /** Requests forwarded (their answers returned) and mirrored (their answers compared) in this step. */
  forwarded: z.number().int().min(0),
  mirrored: z.number().int().min(0),
  /** Mirrors not sent because too many were already in flight. */
  mirrorsSkipped: z.number().int().min(0),
  /** Mirrored answers compared with the scorer's own, row by row. */
  agreement: z.object({
    rows: z.number().int().min(0),
    /** Rows whose every output value agreed within the routing's tolerance. */
    agreeing: z.number().int().min(0),
    /** Output values compared, and the sum of their absolute differences. */
    values: z.number().int().min(0),
    absDiffSum: z.number().min(0),
  }),
});
export type RolloutReport = z.infer<typeof rolloutReportSchema>;

/** Where a scorer serves its rollout report. */
export function rolloutReportPath(model: string): string {
  return `/v2/models/${encodeURIComponent(model)}/rollout`;
}

/** An empty histogram. */
export function emptyLatency(): Latency {
  return { counts: new Array<number>(LATENCY_BOUNDS.length + 1).fill(0) };
}

/** The bucket a duration (seconds) falls in. */
export function latencyBucket(seconds: number): number {
  let lo = 0;
  let hi = LATENCY_BOUNDS.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (seconds <= LATENCY_BOUNDS[mid]!) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/**
 * The q-quantile (0 < q < 1) of a histogram, interpolated linearly inside its bucket as Prometheus'
 * histogram_quantile does; a quantile in the unbounded bucket is its lower bound. Undefined when it holds nothing.
 */
export function quantile(latency: Latency, q: number): number | undefined {
  const total = latency.counts.reduce((a, b) => a + b, 0);
  if (total === 0) return undefined;
  const rank = q * total;
  let seen = 0;
  for (let i = 0; i < latency.counts.length; i++) {
    const count = latency.counts[i]!;
    if (count > 0 && seen + count >= rank) {
      const lower = i === 0 ? 0 : LATENCY_BOUNDS[i - 1]!;
      if (i === LATENCY_BOUNDS.length) return lower;
      const upper = LATENCY_BOUNDS[i]!;
      return lower + (upper - lower) * ((rank - seen) / count);
    }
    seen += count;
  }
  return LATENCY_BOUNDS.at(-1);
}

/** Adds `b`'s counts into `a`. */
export function addLatency(a: Latency, b: Latency): void {
  b.counts.forEach((c, i) => (a.counts[i]! += c));
}

/** A report's counts: what sums across scorers (the operator's step figures) and across a pod's workers. */
export type ReportCounts = Omit<RolloutReport, 'routing'>;

/** Adds `from`'s counts (both sides, forwarded, mirrored, agreement, in flight) into `into`. */
export function addReportCounts(into: ReportCounts, from: ReportCounts): void {
  for (const side of ['stable', 'candidate'] as const) {
    into[side].requests += from[side].requests;
    into[side].errors += from[side].errors;
    addLatency(into[side].latency, from[side].latency);
  }
  into.forwarded += from.forwarded;
  into.mirrored += from.mirrored;
  into.mirrorsSkipped += from.mirrorsSkipped;
  into.agreement.rows += from.agreement.rows;
  into.agreement.agreeing += from.agreement.agreeing;
  into.agreement.values += from.agreement.values;
  into.agreement.absDiffSum += from.agreement.absDiffSum;
  into.inFlight += from.inFlight;
}
