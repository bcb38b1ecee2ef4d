/**
 * Talking to a model's scorer pods directly, at their pod IPs (no Service, no Prometheus): which pods, at which base
 * URL (the port their scorer container declares), and one GET of a JSON report, whatever goes wrong becoming the
 * answer. Drift judgment and rollout analysis both read the scorers this way.
 */
import type { V1Pod } from '@kubernetes/client-node';
import type { z } from 'zod';
import { SCORER_PORT } from '../contract/env.js';
import { HTTP_PORT_NAME, SCORER_CONTAINER } from './desired/deployment.js';

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

/** What one scorer pod said when asked for a report. */
export type ScorerAnswer<T> =
  | { pod: string; report: T }
  /** The scorer answered 503 with an error: it serves the model but cannot give this report. */
  | { pod: string; unavailable: string }
  /** No report: a connection failure, a timeout, another HTTP status, a body that is not a report. */
  | { pod: string; failed: string };

export const isReady = (pod: V1Pod) =>
  pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;

/** The ready scorer pods, not being deleted, with an IP, each with its base URL (http://IP:port), by name. */
export function readyScorers(pods: readonly V1Pod[]): { pod: string; base: string }[] {
  return pods
    .filter((p) => !p.metadata?.deletionTimestamp && p.status?.podIP && isReady(p))
    .map((p) => {
      const ip = p.status!.podIP!;
      const container = p.spec?.containers?.find((c) => c.name === SCORER_CONTAINER);
      const port = container?.ports?.find((x) => x.name === HTTP_PORT_NAME)?.containerPort ?? SCORER_PORT;
      const host = ip.includes(':') ? `[${ip}]` : ip;
      return { pod: p.metadata?.name ?? ip, base: `http://${host}:${port}` };
    })
    .sort((a, b) => (a.pod < b.pod ? -1 : a.pod > b.pod ? 1 : 0));
}

/** The ready scorer pods, each with the URL of `path` on it. */
export function scorerTargets(pods: readonly V1Pod[], path: string): ScorerTarget[] {
  return readyScorers(pods).map(({ pod, base }) => ({ pod, url: `${base}${path}` }));
}

/** Asks one scorer for a report `schema` validates; never rejects: whatever went wrong is the answer. */
export async function askScorer<T>(
  fetcher: ReportFetcher,
  target: ScorerTarget,
  timeoutMs: number,
  schema: z.ZodType<T>,
): Promise<ScorerAnswer<T>> {
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
    const parsed = schema.safeParse(json);
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
