/**
 * The operator's side of drift monitoring: which scorer pods to ask for their counts, asking them (all at once, each
 * with a short timeout, directly at the pod's IP: no Prometheus needed), and when: at most once per
 * spec.monitoring.intervalSeconds per ScoringModel. Between judgments the last one stays in status as it is.
 */
import type { V1Pod } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { monitoringPath, monitoringReportSchema } from '../../contract/drift.js';
import { SCORER_PORT } from '../../contract/env.js';
import type { Condition, DriftStatus, ScoringModel, ScoringModelStatus } from '../api/v1alpha1.js';
import { HTTP_PORT_NAME, SCORER_CONTAINER } from '../desired/deployment.js';
import { CONDITION, type ConditionDraft } from '../status.js';
import { driftStatus, judge, type PodAnswer } from './judge.js';

/** How long a scorer has to answer: it serves counts from memory, so a slow one is a busy or a broken one. */
export const REPORT_TIMEOUT_MS = 2000;
/** The longest part of a scorer's answer a message quotes. */
const MAX_ERROR_CHARS = 1024;

/** One HTTP GET: the answer's status and text; a rejection when none came (refused, reset, timed out). */
export type ReportFetcher = (url: string, timeoutMs: number) => Promise<{ status: number; text: string }>;

export const httpFetcher: ReportFetcher = async (url, timeoutMs) => {
  // The signal covers reading the body too.
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), redirect: 'error' });
  return { status: res.status, text: await res.text() };
};

export interface ScorerTarget {
  pod: string;
  url: string;
}

const isReady = (pod: V1Pod) => pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;

/** The ready scorer pods of a model, each with its monitoring URL (the port its container declares), by name. */
export function scorerTargets(pods: readonly V1Pod[], model: string): ScorerTarget[] {
  return pods
    .filter((p) => !p.metadata?.deletionTimestamp && p.status?.podIP && isReady(p))
    .map((p) => {
      const ip = p.status!.podIP!;
      const container = p.spec?.containers?.find((c) => c.name === SCORER_CONTAINER);
      const port = container?.ports?.find((x) => x.name === HTTP_PORT_NAME)?.containerPort ?? SCORER_PORT;
      const host = ip.includes(':') ? `[${ip}]` : ip;
      return { pod: p.metadata?.name ?? ip, url: `http://${host}:${port}${monitoringPath(model)}` };
    })
    .sort((a, b) => (a.pod < b.pod ? -1 : a.pod > b.pod ? 1 : 0));
}

/** Asks one scorer for its report; never rejects: whatever went wrong is the answer. */
export async function askScorer(fetcher: ReportFetcher, target: ScorerTarget, timeoutMs: number): Promise<PodAnswer> {
  const { pod } = target;
  let answer: { status: number; text: string };
  try {
    answer = await fetcher(target.url, timeoutMs);
  } catch (err) {
    return { pod, failed: noAnswer(err, timeoutMs) };
  }
  const { status, text } = answer;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { pod, failed: `HTTP ${status}, and the body is not JSON` };
  }
  if (status === 200) {
    const parsed = monitoringReportSchema.safeParse(json);
    if (parsed.success) return { pod, report: parsed.data };
    const issue = parsed.error.issues[0]!;
    return { pod, failed: `the report's ${issue.path.join('.') || 'document'} is invalid: ${issue.message}` };
  }
  const error = (json as { error?: unknown } | null)?.error;
  const said = typeof error === 'string' ? error.slice(0, MAX_ERROR_CHARS) : undefined;
  if (status === 503 && said) return { pod, unavailable: said };
  return { pod, failed: `HTTP ${status}${said ? `: ${said}` : ''}` };
}

function noAnswer(err: unknown, timeoutMs: number): string {
  const e = err as { name?: string; message?: string; cause?: { message?: string } };
  if (e?.name === 'TimeoutError') return `no answer within ${timeoutMs} ms`;
  return (e?.cause?.message ?? e?.message ?? String(err)).split('\n')[0]!;
}

export interface DriftVerdict {
  /** status.drift, and the Drifted condition: absent without spec.monitoring. */
  drift?: DriftStatus;
  conditions: ConditionDraft[];
  /** When the next judgment is due. */
  requeueAfterMs?: number;
}

export interface DriftMonitorOptions {
  fetcher?: ReportFetcher;
  timeoutMs?: number;
}

/** One per process: the time of each ScoringModel's last judgment, in memory (a restarted operator judges at once). */
export class DriftMonitor {
  private readonly judged = new Map<string, { atMs: number; generation: number | undefined }>();
  private readonly fetcher: ReportFetcher;
  private readonly timeoutMs: number;

  constructor(options: DriftMonitorOptions = {}) {
    this.fetcher = options.fetcher ?? httpFetcher;
    this.timeoutMs = options.timeoutMs ?? REPORT_TIMEOUT_MS;
  }

  /**
   * The drift part of a valid ScoringModel's status. Judged now when due: never judged by this process, an interval
   * gone by, the spec changed, or status without the last judgment; otherwise the last judgment, as status holds it.
   */
  async assess(
    key: string,
    sm: ScoringModel,
    pods: readonly V1Pod[],
    previous: ScoringModelStatus | undefined,
    now: Date,
    log: Logger,
  ): Promise<DriftVerdict> {
    const monitoring = sm.spec.monitoring;
    if (!monitoring) {
      this.judged.delete(key);
      return { conditions: [] };
    }
    const intervalMs = monitoring.intervalSeconds * 1000;
    const nowMs = now.getTime();
    const last = this.judged.get(key);
    const kept = lastJudgment(previous);
    if (kept && last && last.generation === sm.metadata.generation && nowMs < last.atMs + intervalMs) {
      return { ...kept, requeueAfterMs: last.atMs + intervalMs - nowMs };
    }

    const targets = scorerTargets(pods, sm.metadata.name);
    const answers = await Promise.all(targets.map((t) => askScorer(this.fetcher, t, this.timeoutMs)));
    const { figures, condition } = judge(answers, monitoring);
    this.judged.set(key, { atMs: nowMs, generation: sm.metadata.generation });
    log.debug({ ...figures, drifted: condition.status, reason: condition.reason }, 'drift judged');
    return {
      drift: driftStatus(figures, previous?.drift, now),
      conditions: [condition],
      requeueAfterMs: intervalMs,
    };
  }

  forget(key: string): void {
    this.judged.delete(key);
  }
}

/** status.drift and the Drifted condition as status holds them, carried over unchanged between judgments. */
function lastJudgment(previous: ScoringModelStatus | undefined): Omit<DriftVerdict, 'requeueAfterMs'> | undefined {
  const drifted = previous?.conditions?.find((c) => c.type === CONDITION.drifted);
  if (!previous?.drift || !drifted) return undefined;
  return { drift: previous.drift, conditions: [carried(drifted)] };
}

function carried({ lastTransitionTime: _kept, ...draft }: Condition): ConditionDraft {
  return draft;
}
