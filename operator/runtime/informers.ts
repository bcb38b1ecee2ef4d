/**
 * Informers for ScoringModels and the objects the operator owns, built on client-node's ListWatch.
 * Handlers only map an object to its ScoringModel's key and enqueue it (they never throw: a throw would stop the
 * watch). client-node stops an informer on any error but 410 and has no resync: here a stopped informer is
 * restarted with backoff, and `resync` re-enqueues every key on a long timer.
 */
import {
  AppsV1Api,
  AutoscalingV2Api,
  CoreV1Api,
  CustomObjectsApi,
  makeInformer,
  PolicyV1Api,
  type Informer,
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
  type ObjectCache,
  type V1Deployment,
  type V1PodDisruptionBudget,
  type V1Pod,
  type V1Service,
  type V2HorizontalPodAutoscaler,
} from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { GROUP, KIND, PLURAL, VERSION, type ScoringModelObject } from '../api/v1alpha1.js';
import type { ClusterState } from '../controller.js';
import { LABELS, MANAGED_SELECTOR } from '../desired/labels.js';
import type { OperatorMetrics } from '../metrics.js';

type Cache<T extends KubernetesObject> = Informer<T> & ObjectCache<T>;

interface Watched {
  resource: string;
  namespace: string | undefined;
  informer: Cache<KubernetesObject>;
  synced: boolean;
  /** Errors seen so far, to tell whether a start() succeeded. */
  errors: number;
}

export interface InformerSetOptions {
  kc: KubeConfig;
  /** Empty: all namespaces. */
  namespaces: readonly string[];
  enqueue: (key: string) => void;
  log: Logger;
  metrics: OperatorMetrics;
  /** Restart backoff after an informer error: base doubling up to max. */
  restartBaseMs?: number;
  restartMaxMs?: number;
}

/** The key of the ScoringModel an object belongs to: itself, its controller owner, or (pods) its instance label. */
export function ownerKey(object: KubernetesObject): string | undefined {
  const { metadata, kind } = object;
  if (!metadata?.namespace) return undefined;
  if (kind === KIND || object.apiVersion?.startsWith(`${GROUP}/`)) return `${metadata.namespace}/${metadata.name}`;
  const owner = metadata.ownerReferences?.find((r) => r.controller && r.kind === KIND);
  if (owner) return `${metadata.namespace}/${owner.name}`;
  const instance = metadata.labels?.[LABELS.instance];
  return instance ? `${metadata.namespace}/${instance}` : undefined;
}

export class InformerSet implements ClusterState {
  private readonly watched: Watched[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly failures = new Map<Watched, number>();
  private stopped = false;
  private readonly opts: Required<InformerSetOptions>;

  constructor(options: InformerSetOptions) {
    this.opts = { restartBaseMs: 500, restartMaxMs: 30_000, ...options };
    const { kc } = options;
    const custom = kc.makeApiClient(CustomObjectsApi);
    const apps = kc.makeApiClient(AppsV1Api);
    const core = kc.makeApiClient(CoreV1Api);
    const autoscaling = kc.makeApiClient(AutoscalingV2Api);
    const policy = kc.makeApiClient(PolicyV1Api);
    const labelSelector = MANAGED_SELECTOR;
    const namespaces = options.namespaces.length > 0 ? options.namespaces : [undefined];
    for (const ns of namespaces) {
      const at = (group: string, plural: string) => `${group}${ns ? `/namespaces/${ns}` : ''}/${plural}`;
      const list = <T>(all: () => Promise<T>, namespaced: (ns: string) => Promise<T>) =>
        (() => (ns ? namespaced(ns) : all())) as () => Promise<KubernetesListObject<KubernetesObject>>;
      this.add(
        'scoringmodels',
        ns,
        at(`/apis/${GROUP}/${VERSION}`, PLURAL),
        list(
          () => custom.listClusterCustomObject({ group: GROUP, version: VERSION, plural: PLURAL }),
          (namespace) =>
            custom.listNamespacedCustomObject({ group: GROUP, version: VERSION, plural: PLURAL, namespace }),
        ),
      );
      this.add(
        'deployments',
        ns,
        at('/apis/apps/v1', 'deployments'),
        list(
          () => apps.listDeploymentForAllNamespaces({ labelSelector }),
          (namespace) => apps.listNamespacedDeployment({ namespace, labelSelector }),
        ),
        labelSelector,
      );
      this.add(
        'services',
        ns,
        at('/api/v1', 'services'),
        list(
          () => core.listServiceForAllNamespaces({ labelSelector }),
          (namespace) => core.listNamespacedService({ namespace, labelSelector }),
        ),
        labelSelector,
      );
      this.add(
        'horizontalpodautoscalers',
        ns,
        at('/apis/autoscaling/v2', 'horizontalpodautoscalers'),
        list(
          () => autoscaling.listHorizontalPodAutoscalerForAllNamespaces({ labelSelector }),
          (namespace) => autoscaling.listNamespacedHorizontalPodAutoscaler({ namespace, labelSelector }),
        ),
        labelSelector,
      );
      this.add(
        'poddisruptionbudgets',
        ns,
        at('/apis/policy/v1', 'poddisruptionbudgets'),
        list(
          () => policy.listPodDisruptionBudgetForAllNamespaces({ labelSelector }),
          (namespace) => policy.listNamespacedPodDisruptionBudget({ namespace, labelSelector }),
        ),
        labelSelector,
      );
      this.add(
        'pods',
        ns,
        at('/api/v1', 'pods'),
        list(
          () => core.listPodForAllNamespaces({ labelSelector }),
          (namespace) => core.listNamespacedPod({ namespace, labelSelector }),
        ),
        labelSelector,
      );
    }
  }

  private add(
    resource: string,
    namespace: string | undefined,
    path: string,
    list: () => Promise<KubernetesListObject<KubernetesObject>>,
    labelSelector?: string,
  ): void {
    const informer = makeInformer<KubernetesObject>(this.opts.kc, path, list, labelSelector);
    const w: Watched = { resource, namespace, informer, synced: false, errors: 0 };
    const onObject = (object: KubernetesObject) => {
      try {
        // List items come without kind; the path says what they are.
        const key = ownerKey(resource === 'scoringmodels' ? { ...object, kind: KIND } : object);
        if (key) this.opts.enqueue(key);
      } catch (err) {
        this.opts.log.error({ err, resource }, 'informer handler failed');
      }
    };
    informer.on('add', onObject);
    informer.on('update', onObject);
    informer.on('delete', onObject);
    informer.on('error', (err: unknown) => this.restart(w, err));
    this.watched.push(w);
  }

  private restart(w: Watched, err: unknown): void {
    if (this.stopped) return;
    w.errors++;
    const failures = (this.failures.get(w) ?? 0) + 1;
    this.failures.set(w, failures);
    const delay = Math.min(this.opts.restartMaxMs, this.opts.restartBaseMs * 2 ** (failures - 1));
    this.opts.metrics.informerRestarts.inc({ resource: w.resource });
    this.opts.log.warn(
      { resource: w.resource, namespace: w.namespace, err: errorText(err), retryInMs: delay },
      'informer stopped; restarting',
    );
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (!this.stopped) void this.startOne(w);
    }, delay);
    this.timers.add(timer);
  }

  private async startOne(w: Watched): Promise<void> {
    const errors = w.errors;
    // start() resolves after the first list either way; a failed list reports through 'error' (and a restart).
    await w.informer.start();
    if (w.errors === errors) {
      w.synced = true;
      this.failures.delete(w);
    }
  }

  /** Starts every informer; resolves once each has listed successfully (restarts keep trying meanwhile). */
  async start(): Promise<void> {
    await Promise.all(this.watched.map((w) => this.startOne(w)));
    while (!this.synced() && !this.stopped) await new Promise((r) => setTimeout(r, 100));
  }

  synced(): boolean {
    return this.watched.every((w) => w.synced);
  }

  /** Every ScoringModel key in the caches (for the resync timer). */
  keys(): string[] {
    return this.watched
      .filter((w) => w.resource === 'scoringmodels')
      .flatMap((w) => w.informer.list().map((o) => `${o.metadata!.namespace}/${o.metadata!.name}`));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    await Promise.all(this.watched.map((w) => w.informer.stop()));
  }

  private get<T>(resource: string, namespace: string, name: string): T | undefined {
    for (const w of this.watched) {
      if (w.resource !== resource || (w.namespace && w.namespace !== namespace)) continue;
      const found = w.informer.get(name, namespace);
      if (found) return found as T;
    }
    return undefined;
  }

  scoringModel(namespace: string, name: string): ScoringModelObject | undefined {
    return this.get<ScoringModelObject>('scoringmodels', namespace, name);
  }
  deployment(namespace: string, name: string): V1Deployment | undefined {
    return this.get<V1Deployment>('deployments', namespace, name);
  }
  service(namespace: string, name: string): V1Service | undefined {
    return this.get<V1Service>('services', namespace, name);
  }
  hpa(namespace: string, name: string): V2HorizontalPodAutoscaler | undefined {
    return this.get<V2HorizontalPodAutoscaler>('horizontalpodautoscalers', namespace, name);
  }
  pdb(namespace: string, name: string): V1PodDisruptionBudget | undefined {
    return this.get<V1PodDisruptionBudget>('poddisruptionbudgets', namespace, name);
  }
  pods(namespace: string, instance: string): readonly V1Pod[] {
    return this.watched
      .filter((w) => w.resource === 'pods' && (!w.namespace || w.namespace === namespace))
      .flatMap((w) => w.informer.list(namespace) as V1Pod[])
      .filter((p) => p.metadata?.labels?.[LABELS.instance] === instance);
  }
}

function errorText(err: unknown): string {
  if (err instanceof Error) return err.message;
  const e = err as { code?: number; body?: unknown };
  return e?.code ? `HTTP ${e.code}` : String(err);
}
