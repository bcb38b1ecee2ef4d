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
  ListWatch,
  PolicyV1Api,
  Watch,
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
  type V1Deployment,
  type V1PodDisruptionBudget,
  type V1Pod,
  type V1Service,
  type V2HorizontalPodAutoscaler,
} from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { apiErrorText } from '../api-error.js';
import { GROUP, KIND, PLURAL, VERSION, type ScoringModelObject } from '../api/v1alpha1.js';
import type { ClusterState } from '../controller.js';
import { LABELS, MANAGED_SELECTOR } from '../desired/labels.js';
import type { OperatorMetrics } from '../metrics.js';
import { forCache } from './cache-transform.js';
import { delay, systemClock, type Clock } from './clock.js';

interface Watched {
  resource: string;
  namespace: string | undefined;
  informer: ListWatch<KubernetesObject>;
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
  /** Times the restart backoff and client-node's delay before it re-opens a watch that ended. */
  clock?: Clock;
}

interface Apis {
  custom: CustomObjectsApi;
  apps: AppsV1Api;
  core: CoreV1Api;
  autoscaling: AutoscalingV2Api;
  policy: PolicyV1Api;
}

/** One watched kind: its plural, its API group's path, and its list call (in one namespace, or in all). */
interface WatchedKind {
  resource: string;
  api: string;
  /** Only the operator's children are label-selected: every ScoringModel is its own. */
  labelled: boolean;
  list(apis: Apis, namespace: string | undefined, page: ListPage): Promise<unknown>;
}

/** One page of a list: the label selector, the page size, and where the previous page ended. */
interface ListPage {
  labelSelector: string | undefined;
  limit: number;
  _continue: string | undefined;
}

/**
 * Objects per page of an informer's list (client-go's reflector asks for 500). A list answered whole is one string
 * of every object, parsed and then copied into client-node's model classes before the cache keeps a slim copy of
 * each: a peak of several times the objects' size, per kind, all kinds at once. In pages, the peak is a page's.
 */
export const LIST_PAGE_SIZE = 500;

const WATCHED_KINDS: readonly WatchedKind[] = [
  {
    resource: PLURAL,
    api: `/apis/${GROUP}/${VERSION}`,
    labelled: false,
    list: ({ custom }, namespace, page) =>
      namespace
        ? custom.listNamespacedCustomObject({ group: GROUP, version: VERSION, plural: PLURAL, namespace, ...page })
        : custom.listClusterCustomObject({ group: GROUP, version: VERSION, plural: PLURAL, ...page }),
  },
  {
    resource: 'deployments',
    api: '/apis/apps/v1',
    labelled: true,
    list: ({ apps }, namespace, page) =>
      namespace ? apps.listNamespacedDeployment({ namespace, ...page }) : apps.listDeploymentForAllNamespaces(page),
  },
  {
    resource: 'services',
    api: '/api/v1',
    labelled: true,
    list: ({ core }, namespace, page) =>
      namespace ? core.listNamespacedService({ namespace, ...page }) : core.listServiceForAllNamespaces(page),
  },
  {
    resource: 'horizontalpodautoscalers',
    api: '/apis/autoscaling/v2',
    labelled: true,
    list: ({ autoscaling }, namespace, page) =>
      namespace
        ? autoscaling.listNamespacedHorizontalPodAutoscaler({ namespace, ...page })
        : autoscaling.listHorizontalPodAutoscalerForAllNamespaces(page),
  },
  {
    resource: 'poddisruptionbudgets',
    api: '/apis/policy/v1',
    labelled: true,
    list: ({ policy }, namespace, page) =>
      namespace
        ? policy.listNamespacedPodDisruptionBudget({ namespace, ...page })
        : policy.listPodDisruptionBudgetForAllNamespaces(page),
  },
  {
    resource: 'pods',
    api: '/api/v1',
    labelled: true,
    list: ({ core }, namespace, page) =>
      namespace ? core.listNamespacedPod({ namespace, ...page }) : core.listPodForAllNamespaces(page),
  },
];

/**
 * The key of the ScoringModel an object belongs to: itself, its controller owner, or (pods) the model a rollout's
 * candidate pod is the candidate of, else its instance label.
 */
export function ownerKey(object: KubernetesObject): string | undefined {
  const { metadata, kind } = object;
  if (!metadata?.namespace) return undefined;
  if (kind === KIND || object.apiVersion?.startsWith(`${GROUP}/`)) return `${metadata.namespace}/${metadata.name}`;
  const owner = metadata.ownerReferences?.find((r) => r.controller && r.kind === KIND);
  if (owner) return `${metadata.namespace}/${owner.name}`;
  const instance = metadata.labels?.[LABELS.candidateOf] ?? metadata.labels?.[LABELS.instance];
  return instance ? `${metadata.namespace}/${instance}` : undefined;
}

const OBJECT_PHASES = new Set(['ADDED', 'MODIFIED', 'DELETED']);

/** A Watch whose objects (added, modified, deleted) reach the ListWatch through `transform`. */
class TransformingWatch extends Watch {
  private readonly transform: (object: KubernetesObject) => KubernetesObject;
  constructor(kc: KubeConfig, transform: (object: KubernetesObject) => KubernetesObject) {
    super(kc);
    this.transform = transform;
  }

  override watch(
    path: string,
    queryParams: Record<string, string | number | boolean | undefined>,
    callback: (phase: string, apiObj: KubernetesObject, watchObj?: unknown) => void,
    done: (err: unknown) => void,
  ): Promise<AbortController> {
    // The raw event is not passed on: the ListWatch reads only the phase and the object.
    return super.watch(
      path,
      queryParams,
      (phase, object: KubernetesObject) =>
        callback(phase, OBJECT_PHASES.has(phase) && object?.metadata ? this.transform(object) : object),
      done,
    );
  }
}

export class InformerSet implements ClusterState {
  private readonly watched: Watched[] = [];
  private readonly timers = new Set<unknown>();
  private readonly failures = new Map<Watched, number>();
  private stopped = false;
  private readonly opts: Required<InformerSetOptions>;
  private readonly settled: Promise<void>;
  private settle!: () => void;

  constructor(options: InformerSetOptions) {
    this.opts = { restartBaseMs: 500, restartMaxMs: 30_000, clock: systemClock, ...options };
    this.settled = new Promise((resolve) => (this.settle = resolve));
    const { kc } = options;
    const apis: Apis = {
      custom: kc.makeApiClient(CustomObjectsApi),
      apps: kc.makeApiClient(AppsV1Api),
      core: kc.makeApiClient(CoreV1Api),
      autoscaling: kc.makeApiClient(AutoscalingV2Api),
      policy: kc.makeApiClient(PolicyV1Api),
    };
    const namespaces = options.namespaces.length > 0 ? options.namespaces : [undefined];
    for (const ns of namespaces) for (const kind of WATCHED_KINDS) this.add(kind, ns, apis);
  }

  private add(kind: WatchedKind, namespace: string | undefined, apis: Apis): void {
    const { resource } = kind;
    const labelSelector = kind.labelled ? MANAGED_SELECTOR : undefined;
    const path = `${kind.api}${namespace ? `/namespaces/${namespace}` : ''}/${resource}`;
    const slim = (object: KubernetesObject) => forCache(resource, object);
    // The cache holds what forCache keeps of each object, from the list and from the watch alike.
    // Page after page, each slimmed before the next is asked for; the watch starts from the last page's
    // resourceVersion, which every page of one list shares (the snapshot of the first).
    const list = async () => {
      const items: KubernetesObject[] = [];
      let _continue: string | undefined;
      for (;;) {
        const page = (await kind.list(apis, namespace, {
          labelSelector,
          limit: LIST_PAGE_SIZE,
          _continue,
        })) as KubernetesListObject<KubernetesObject>;
        for (const item of page.items) items.push(slim(item));
        // Typed lists are client-node's models (`_continue`); custom objects come as the server's JSON (`continue`).
        const metadata = page.metadata as { _continue?: string; continue?: string } | undefined;
        _continue = metadata?._continue ?? metadata?.continue;
        if (!_continue) return { ...page, items };
      }
    };
    // client-node's makeInformer, with the clock for the delay before it re-opens a watch that ended.
    const delayFn = (ms: number) => delay(this.opts.clock, ms);
    const watch = new TransformingWatch(this.opts.kc, slim);
    const informer = new ListWatch(path, watch, list, false, labelSelector, undefined, { delayFn });
    const w: Watched = { resource, namespace, informer, synced: false, errors: 0 };
    const onObject = (object: KubernetesObject) => {
      try {
        // List items come without kind; the path says what they are.
        const key = ownerKey(resource === PLURAL ? { ...object, kind: KIND } : object);
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
    const retryInMs = Math.min(this.opts.restartMaxMs, this.opts.restartBaseMs * 2 ** (failures - 1));
    this.opts.metrics.informerRestarts.inc({ resource: w.resource });
    this.opts.log.warn(
      { resource: w.resource, namespace: w.namespace, err: apiErrorText(err), retryInMs },
      'informer stopped; restarting',
    );
    const timer = this.opts.clock.setTimeout(() => {
      this.timers.delete(timer);
      if (!this.stopped) void this.startOne(w);
    }, retryInMs);
    this.timers.add(timer);
  }

  private async startOne(w: Watched): Promise<void> {
    const errors = w.errors;
    // start() resolves after the first list either way; a failed list reports through 'error' (and a restart).
    await w.informer.start();
    if (w.errors === errors) {
      w.synced = true;
      this.failures.delete(w);
      if (this.synced()) this.settle();
    }
  }

  /** Starts every informer; resolves once each has listed successfully (restarts keep trying meanwhile), or on stop. */
  async start(): Promise<void> {
    await Promise.all(this.watched.map((w) => this.startOne(w)));
    await this.settled;
  }

  /** Resolves once every informer has listed successfully, or once the set is stopped. */
  whenSynced(): Promise<void> {
    return this.settled;
  }

  synced(): boolean {
    return this.watched.every((w) => w.synced);
  }

  /** Every ScoringModel key in the caches (for the resync timer). */
  keys(): string[] {
    return this.watched
      .filter((w) => w.resource === PLURAL)
      .flatMap((w) => w.informer.list().map((o) => `${o.metadata!.namespace}/${o.metadata!.name}`));
  }

  /** Every ScoringModel in the caches (for the model condition metric). */
  scoringModels(): ScoringModelObject[] {
    return this.watched.filter((w) => w.resource === PLURAL).flatMap((w) => w.informer.list() as ScoringModelObject[]);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.settle();
    for (const t of this.timers) this.opts.clock.clearTimeout(t);
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
    return this.get<ScoringModelObject>(PLURAL, namespace, name);
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
