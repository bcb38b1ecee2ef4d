/**
 * A worker's view of the pod's other workers (workers/primary.ts forks them): whether the pod is ready, and the
 * parts of the answers the pod gives as one (/metrics, the drift window, the rollout counts), gathered from every
 * worker through the primary over node:cluster's IPC channel.
 */
import cluster from 'node:cluster';
import type { MetricObjectWithValues, MetricValue } from 'prom-client';
import type { MonitoringReport } from '../../contract/drift.js';
import type { RolloutReport } from '../../contract/rollout.js';
import type { RequestSnapshot } from '../metrics.js';

/** One worker's share of the pod's /metrics. */
export interface MetricsPart {
  registry: MetricObjectWithValues<MetricValue<string>>[];
  /** Absent for the primary, which serves no request. */
  requests?: RequestSnapshot;
  drift?: { report: MonitoringReport; skippedRows: number };
}

/** One worker's drift monitoring: its window's report, or why it has none. */
export type MonitoringPart =
  { state: 'off' } | { state: 'failed'; reason: string } | { state: 'on'; report: MonitoringReport };

export interface Parts {
  metrics: MetricsPart;
  monitoring: MonitoringPart;
  rollout: RolloutReport | null;
}
export type PartKind = keyof Parts;

/** A worker's answer to "your part of `kind`". */
export type LocalParts = <K extends PartKind>(kind: K) => Promise<Parts[K]>;

/** Messages between the primary and its workers, tagged so that no other message is taken for one. */
export type ToPrimary =
  | { scorer: 'ready' }
  | { scorer: 'gather'; id: number; kind: PartKind }
  | { scorer: 'part'; id: number; part: unknown };
export type ToWorker =
  | { scorer: 'pod-ready' }
  | { scorer: 'part?'; id: number; kind: PartKind }
  | { scorer: 'gathered'; id: number; parts: unknown[] };

export const isScorerMessage = (m: unknown): m is { scorer: string } =>
  typeof m === 'object' && m !== null && typeof (m as { scorer?: unknown }).scorer === 'string';

export interface Peers {
  /** Workers in the pod. */
  readonly workers: number;
  /** Whether the pod's workers are all ready (their models loaded): one readiness for the pod. */
  readonly podReady: boolean;
  /** Answers the primary's requests for this worker's parts with `local`. */
  serve(local: LocalParts): void;
  /** Tells the primary that this worker's model is loaded and warmed up. */
  ready(): void;
  /** Every ready worker's part of `kind`, this one's included. */
  gather<K extends PartKind>(kind: K): Promise<Parts[K][]>;
}

/** A scorer that is the pod's only process. */
export function soloPeers(): Peers {
  let local: LocalParts | undefined;
  return {
    workers: 1,
    podReady: true,
    serve(l) {
      local = l;
    },
    ready() {},
    async gather(kind) {
      if (!local) throw new Error('no local parts to gather');
      return [await local(kind)];
    },
  };
}

/** A node:cluster worker of `workers`; `podReady` already true for a worker that replaces one (it listens late). */
export function clusterPeers(workers: number, podReady: boolean): Peers {
  const worker = cluster.worker;
  if (!worker) throw new Error('clusterPeers outside a cluster worker');
  let local: LocalParts | undefined;
  let next = 0;
  const waiting = new Map<number, (parts: unknown[]) => void>();
  const peers: Peers = {
    workers,
    podReady,
    serve(l) {
      local = l;
    },
    ready() {
      worker.send({ scorer: 'ready' } satisfies ToPrimary);
    },
    gather<K extends PartKind>(kind: K) {
      const id = next++;
      return new Promise<Parts[K][]>((resolve) => {
        waiting.set(id, (parts) => resolve(parts as Parts[K][]));
        worker.send({ scorer: 'gather', id, kind } satisfies ToPrimary);
      });
    },
  };
  worker.on('message', (m: unknown) => {
    if (!isScorerMessage(m)) return;
    const message = m as ToWorker;
    if (message.scorer === 'pod-ready') {
      (peers as { podReady: boolean }).podReady = true;
    } else if (message.scorer === 'gathered') {
      waiting.get(message.id)?.(message.parts);
      waiting.delete(message.id);
    } else if (message.scorer === 'part?' && local) {
      const { id } = message;
      local(message.kind).then(
        (part) => worker.send({ scorer: 'part', id, part } satisfies ToPrimary),
        () => worker.send({ scorer: 'part', id, part: null } satisfies ToPrimary),
      );
    }
  });
  return peers;
}
