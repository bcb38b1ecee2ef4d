/**
 * The operator's side of drift monitoring: which scorer pods to ask for their counts, asking them (all at once, each
 * with a short timeout, directly at the pod's IP: no Prometheus needed), and when: at most once per
 * spec.monitoring.intervalSeconds per ScoringModel. Between judgments the last one stays in status as it is.
 */
import type { V1Pod } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { monitoringPath, monitoringReportSchema } from '../../contract/drift.js';
import type { Condition, DriftStatus, ScoringModel, ScoringModelStatus } from '../api/v1alpha1.js';
import { askScorer, httpFetcher, scorerTargets, type ReportFetcher } from '../scorer-pods.js';
import { CONDITION, type ConditionDraft } from '../status.js';
import { driftStatus, judge } from './judge.js';

/** How long a scorer has to answer: it serves counts from memory, so a slow one is a busy or a broken one. */
export const REPORT_TIMEOUT_MS = 2000;

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

    const targets = scorerTargets(pods, monitoringPath(sm.metadata.name));
    const answers = await Promise.all(
      targets.map((t) => askScorer(this.fetcher, t, this.timeoutMs, monitoringReportSchema)),
    );
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
