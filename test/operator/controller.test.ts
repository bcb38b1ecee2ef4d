/**
 * The reconciler's decisions, over a ClusterState held in memory and a writer that records calls. What the API
 * server does with those writes (SSA merge, defaulting, garbage collection) is tested against a real API server in
 * the cluster suite; here: what is written, and that nothing is written when nothing changed.
 */
import type {
  KubernetesObject,
  V1Deployment,
  V1Pod,
  V1PodDisruptionBudget,
  V1Service,
  V2HorizontalPodAutoscaler,
} from '@kubernetes/client-node';
import { ApiException } from '@kubernetes/client-node';
import { pino } from 'pino';
import type { ScoringModelObject, ScoringModelStatus } from '../../operator/api/v1alpha1.js';
import { FIELD_MANAGER } from '../../operator/desired/labels.js';
import { WrittenStatuses } from '../../operator/written-status.js';
import { DriftMonitor } from '../../operator/drift/monitor.js';
import type { ReportFetcher } from '../../operator/scorer-pods.js';
import type { MonitoringReport } from '../../contract/drift.js';
import { report } from '../helpers/drift.js';
import { apiErrorText } from '../../operator/api-error.js';
import {
  isSubset,
  reconcile,
  type ClusterEvent,
  type ClusterState,
  type ClusterWriter,
  type ObjectRef,
} from '../../operator/controller.js';

class World implements ClusterState {
  /** What the informers hold. */
  readonly objects = new Map<string, KubernetesObject>();
  /** Objects only the API server shows: without the operator's label, the informers never see them. */
  readonly unlabelled = new Map<string, KubernetesObject>();
  pods_: V1Pod[] = [];
  scoringModel(ns: string, name: string) {
    return this.objects.get(`ScoringModel/${ns}/${name}`) as ScoringModelObject | undefined;
  }
  deployment(ns: string, name: string) {
    return this.objects.get(`Deployment/${ns}/${name}`) as V1Deployment | undefined;
  }
  service(ns: string, name: string) {
    return this.objects.get(`Service/${ns}/${name}`) as V1Service | undefined;
  }
  hpa(ns: string, name: string) {
    return this.objects.get(`HorizontalPodAutoscaler/${ns}/${name}`) as V2HorizontalPodAutoscaler | undefined;
  }
  pdb(ns: string, name: string) {
    return this.objects.get(`PodDisruptionBudget/${ns}/${name}`) as V1PodDisruptionBudget | undefined;
  }
  pods(): readonly V1Pod[] {
    return this.pods_;
  }
  put(o: KubernetesObject, kind = o.kind) {
    this.objects.set(`${kind}/${o.metadata!.namespace}/${o.metadata!.name}`, structuredClone(o));
  }
}

/**
 * Records writes and, like the API server, makes them visible to the next read; with `staleStatus`, a status write
 * is not (yet) visible, as when the informer has not delivered it.
 */
class Recorder implements ClusterWriter {
  readonly calls: string[] = [];
  readonly events: ClusterEvent[] = [];
  readonly deleted: ObjectRef[] = [];
  staleStatus = false;
  private resourceVersion = 1;
  private readonly world: World;
  constructor(world: World) {
    this.world = world;
  }
  readonly handedOver: KubernetesObject[] = [];
  readonly reads: string[] = [];
  async read(ref: ObjectRef) {
    const key = `${ref.kind}/${ref.namespace}/${ref.name}`;
    this.reads.push(key);
    return this.world.objects.get(key) ?? this.world.unlabelled.get(key);
  }
  async apply(o: KubernetesObject) {
    this.calls.push(`apply ${o.kind}`);
    const ownsReplicas = (o as V1Deployment).spec?.replicas !== undefined;
    const fieldsV1 = ownsReplicas ? { 'f:spec': { 'f:replicas': {} } } : {};
    this.world.put({
      ...o,
      metadata: { ...o.metadata, managedFields: [{ manager: FIELD_MANAGER, operation: 'Apply', fieldsV1 }] },
    });
  }
  async handOver(o: KubernetesObject) {
    this.calls.push(`hand over ${o.kind}`);
    this.handedOver.push(o);
  }
  async delete(ref: ObjectRef) {
    this.calls.push(`delete ${ref.kind}`);
    this.deleted.push(ref);
    this.world.objects.delete(`${ref.kind}/${ref.namespace}/${ref.name}`);
  }
  async clearAnnotation(sm: ScoringModelObject, key: string, value: string) {
    this.calls.push(`clear annotation ${key}=${value}`);
    const live = this.world.scoringModel(sm.metadata.namespace, sm.metadata.name);
    if (live?.metadata.annotations?.[key] !== value) return;
    const { [key]: _gone, ...annotations } = live.metadata.annotations;
    this.world.put({ ...live, metadata: { ...live.metadata, annotations } } as KubernetesObject);
  }
  async applyStatus(sm: ScoringModelObject, status: ScoringModelStatus) {
    this.calls.push('apply status');
    const resourceVersion = String(++this.resourceVersion);
    if (!this.staleStatus)
      this.world.put({ ...sm, metadata: { ...sm.metadata, resourceVersion }, status } as KubernetesObject);
    return resourceVersion;
  }
  async event(e: ClusterEvent) {
    this.events.push(e);
  }
}

const log = pino({ level: 'silent' });
const ownedBy = {
  apiVersion: 'scoring.dev/v1alpha1',
  kind: 'ScoringModel',
  name: 'churn',
  uid: 'u1',
  controller: true,
};
const config = { scorerImage: 'scorer:1', scorerImages: ['scorer', 'registry.example/team/'] };

function setup(spec: unknown) {
  const world = new World();
  world.put({
    apiVersion: 'scoring.dev/v1alpha1',
    kind: 'ScoringModel',
    metadata: { name: 'churn', namespace: 'ml', uid: 'u1', generation: 1, resourceVersion: '1' },
    spec,
  } as KubernetesObject);
  const writer = new Recorder(world);
  const written = new WrittenStatuses();
  const scorers = new Scorers();
  let drift = new DriftMonitor({ fetcher: scorers.fetch });
  let now = new Date('2026-11-25T00:00:00Z');
  const run = () => reconcile('ml/churn', { state: world, writer, config, written, drift, log, now: () => now });
  const later = (minutes: number) => (now = new Date(now.getTime() + minutes * 60_000));
  /** A new operator process: what it remembers is gone. */
  const restart = () => (drift = new DriftMonitor({ fetcher: scorers.fetch }));
  return { world, writer, run, later, scorers, restart };
}

/** What the scorer pods' monitoring endpoints answer, by URL, as the operator's fetcher reaches them. */
class Scorers {
  readonly asked: string[] = [];
  readonly answers = new Map<string, MonitoringReport | { status: number; error: string }>();
  readonly fetch: ReportFetcher = async (url) => {
    this.asked.push(url);
    const answer = this.answers.get(url);
    if (!answer) throw new TypeError('fetch failed', { cause: new Error(`connect ECONNREFUSED ${new URL(url).host}`) });
    if ('status' in answer) return { status: answer.status, text: JSON.stringify({ error: answer.error }) };
    return { status: 200, text: JSON.stringify(answer) };
  };
}

/** A scorer pod of the model, as the kubelet reports it: ready or not, at `ip`. */
function scorerPod(name: string, ip: string, ready = true): V1Pod {
  return {
    metadata: { name, namespace: 'ml', labels: { 'app.kubernetes.io/instance': 'churn' } },
    spec: { containers: [{ name: 'scorer', ports: [{ name: 'http', containerPort: 8080 }] }] },
    status: { podIP: ip, conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
  };
}

describe('reconcile', () => {
  it('applies the Deployment and Service, then writes status once', async () => {
    const { writer, run, world } = setup({ model: { uri: 's3://b/m.onnx' } });
    await run();
    expect(writer.calls).toEqual(['apply Deployment', 'apply Service', 'apply status']);
    expect(world.scoringModel('ml', 'churn')!.status).toMatchObject({
      observedGeneration: 1,
      url: 'http://churn.ml.svc.cluster.local',
      conditions: [
        { type: 'Ready', status: 'False', reason: 'Progressing' },
        { type: 'ModelLoaded' },
        { type: 'Reconciling', status: 'True', reason: 'Progressing' },
      ],
    });
  });

  it('writes nothing when nothing changed', async () => {
    const { writer, run } = setup({ model: { uri: 's3://b/m.onnx' } });
    await run();
    writer.calls.length = 0;
    await run();
    expect(writer.calls).toEqual([]);
  });

  it('restores a child someone edited', async () => {
    const { writer, run, world } = setup({ model: { uri: 's3://b/m.onnx' } });
    await run();
    const d = world.deployment('ml', 'churn')!;
    d.spec!.template.spec!.containers[0]!.image = 'someone/else';
    writer.calls.length = 0;
    await run();
    expect(writer.calls).toEqual(['apply Deployment']);
    expect(world.deployment('ml', 'churn')!.spec!.template.spec!.containers[0]!.image).toBe('scorer:1');
  });

  it('makes an HPA for autoscaling, and deletes it when autoscaling is removed', async () => {
    const { writer, run, world } = setup({ model: { uri: 'm.onnx' }, autoscaling: { maxReplicas: 3 } });
    await run();
    expect(writer.calls).toContain('apply HorizontalPodAutoscaler');
    const sm = world.scoringModel('ml', 'churn')!;
    world.put({
      ...sm,
      spec: { model: { uri: 'm.onnx' } },
      metadata: { ...sm.metadata, generation: 2 },
    } as KubernetesObject);
    writer.calls.length = 0;
    await run();
    expect(writer.calls).toEqual([
      'apply Deployment',
      'delete HorizontalPodAutoscaler',
      'delete PodDisruptionBudget',
      'apply status',
    ]);
  });

  it('deletes an HPA from an informer list (no kind, no apiVersion) by naming it', async () => {
    const { writer, run, world } = setup({ model: { uri: 'm.onnx' } });
    world.put(
      { metadata: { name: 'churn', namespace: 'ml', uid: 'hpa-1', ownerReferences: [ownedBy] } },
      'HorizontalPodAutoscaler',
    );
    await run();
    expect(writer.deleted).toEqual([
      { apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', namespace: 'ml', name: 'churn', uid: 'hpa-1' },
    ]);
    expect(world.hpa('ml', 'churn')).toBeUndefined();
  });

  it('hands the replicas it owns to another field manager, at their live value, when autoscaling is added', async () => {
    const { writer, run, world } = setup({ model: { uri: 'm.onnx' }, replicas: 3 });
    await run();
    const sm = world.scoringModel('ml', 'churn')!;
    world.put({
      ...sm,
      spec: { model: { uri: 'm.onnx' }, replicas: 3, autoscaling: { minReplicas: 2, maxReplicas: 5 } },
      metadata: { ...sm.metadata, generation: 2 },
    } as KubernetesObject);
    writer.calls.length = 0;
    await run();
    // The pod template is unchanged, yet the Deployment is applied: without replicas, letting go of them.
    expect(writer.calls).toEqual([
      'hand over Deployment',
      'apply Deployment',
      'apply HorizontalPodAutoscaler',
      'apply status',
    ]);
    expect(writer.handedOver).toEqual([
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'churn', namespace: 'ml' },
        spec: { replicas: 3 },
      },
    ]);
    expect(world.deployment('ml', 'churn')!.spec).not.toHaveProperty('replicas');
    writer.calls.length = 0;
    await run();
    expect(writer.calls).toEqual([]);
  });

  it('leaves an HPA it does not own alone', async () => {
    const { writer, run, world } = setup({ model: { uri: 'm.onnx' } });
    world.put({
      apiVersion: 'autoscaling/v2',
      kind: 'HorizontalPodAutoscaler',
      metadata: { name: 'churn', namespace: 'ml', ownerReferences: [] },
    });
    await run();
    expect(writer.calls).not.toContain('delete HorizontalPodAutoscaler');
  });

  it('marks an invalid spec InvalidSpec and touches no child', async () => {
    const { writer, run, world } = setup({ model: { uri: 'ftp://x/m.onnx' } });
    await run();
    expect(writer.calls).toEqual(['apply status']);
    expect(world.scoringModel('ml', 'churn')!.status!.conditions).toEqual([
      {
        type: 'Ready',
        status: 'False',
        reason: 'InvalidSpec',
        message: expect.stringContaining('spec.model.uri: must be s3://bucket/key'),
        observedGeneration: 1,
        lastTransitionTime: '2026-11-25T00:00:00Z',
      },
      expect.objectContaining({ type: 'Stalled', status: 'True', reason: 'InvalidSpec' }),
    ]);
    expect(writer.events).toMatchObject([{ type: 'Warning', reason: 'InvalidSpec' }]);
  });

  it('marks a name the Service cannot take InvalidSpec (admitted before the CRD checked names)', async () => {
    const world = new World();
    world.put({
      apiVersion: 'scoring.dev/v1alpha1',
      kind: 'ScoringModel',
      metadata: { name: 'churn.v1', namespace: 'ml', uid: 'u1', generation: 1, resourceVersion: '1' },
      spec: { model: { uri: 'm.onnx' } },
    } as KubernetesObject);
    const writer = new Recorder(world);
    await reconcile('ml/churn.v1', {
      state: world,
      writer,
      config,
      written: new WrittenStatuses(),
      drift: new DriftMonitor(),
      log,
    });
    expect(writer.calls).toEqual(['apply status']);
    expect(world.scoringModel('ml', 'churn.v1')!.status!.conditions![0]).toMatchObject({
      reason: 'InvalidSpec',
      message: expect.stringContaining('metadata.name must be a DNS-1035 label'),
    });
  });

  it('records events on transitions only', async () => {
    const { writer, run } = setup({ model: { uri: 'm.onnx' } });
    await run();
    const first = writer.events.length;
    await run();
    expect(first).toBe(2);
    expect(writer.events).toHaveLength(first);
  });

  it('a re-run that still reads the status from before its write writes nothing and records no event', async () => {
    const { writer, run, later } = setup({ model: { uri: 'm.onnx' } });
    writer.staleStatus = true;
    await run();
    later(5);
    await run();
    expect(writer.calls.filter((c) => c === 'apply status')).toHaveLength(1);
    expect(writer.events.map((e) => `${e.action}=${e.reason}`)).toEqual(['Ready=Progressing', 'ModelLoaded=Loading']);
  });

  it('compares with the cache again once it holds a status newer than the one written', async () => {
    const { writer, run, world } = setup({ model: { uri: 'm.onnx' } });
    writer.staleStatus = true;
    await run();
    // Someone else's write after ours (resourceVersion 2) clears the status: it is put back.
    const sm = world.scoringModel('ml', 'churn')!;
    world.put({ ...sm, metadata: { ...sm.metadata, resourceVersion: '3' }, status: {} } as KubernetesObject);
    writer.calls.length = 0;
    await run();
    expect(writer.calls).toEqual(['apply status']);
  });

  it('writes no child while a same-named object it does not control exists, and says which in Ready', async () => {
    const { writer, run, world } = setup({ model: { uri: 'm.onnx' } });
    const theirs = {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'churn', namespace: 'ml', uid: 's-9' },
      spec: { selector: { app: 'api' }, ports: [{ port: 80, targetPort: 9090 }] },
    };
    world.unlabelled.set('Service/ml/churn', structuredClone(theirs));
    const outcome = await run();
    expect(writer.calls).toEqual(['apply status']);
    expect(world.unlabelled.get('Service/ml/churn')).toEqual(theirs);
    expect(outcome.requeueAfterMs).toBeGreaterThan(0);
    const conditions = world.scoringModel('ml', 'churn')!.status!.conditions!;
    expect(conditions[0]).toMatchObject({
      type: 'Ready',
      status: 'False',
      reason: 'ChildConflict',
      message: expect.stringMatching(/^Service ml\/churn exists and is not controlled by any object, not by this/),
    });
    expect(conditions.find((c) => c.type === 'Stalled')).toMatchObject({ status: 'True', reason: 'ChildConflict' });
    expect(writer.events).toMatchObject([{ type: 'Warning', reason: 'ChildConflict' }]);

    // Still there: nothing more is written, and no second event.
    writer.calls.length = 0;
    await run();
    expect(writer.calls).toEqual([]);
    expect(writer.events).toHaveLength(1);

    // Gone: the children come.
    world.unlabelled.delete('Service/ml/churn');
    const recovered = await run();
    expect(writer.calls).toEqual(['apply Deployment', 'apply Service', 'apply status']);
    expect(recovered.requeueAfterMs).toBeUndefined();
  });

  it('names the controller of a child controlled by something else, even one its informers see', async () => {
    const { writer, run, world } = setup({ model: { uri: 'm.onnx' } });
    const other = { ...ownedBy, uid: 'u0' };
    world.put({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'churn', namespace: 'ml', ownerReferences: [other] },
    });
    await run();
    expect(writer.calls).toEqual(['apply status']);
    expect(world.scoringModel('ml', 'churn')!.status!.conditions![0]!.message).toMatch(
      /^Deployment ml\/churn exists and is controlled by ScoringModel churn, not by this ScoringModel/,
    );
  });

  it("writes nothing while a rollout's candidate name is held by a Deployment it does not control", async () => {
    const spec = { model: { uri: 'm.onnx' }, rollout: { strategy: 'Canary', steps: [{ weight: 10 }] } };
    const { writer, run, world } = setup(spec);
    await run();
    // A new template: a rollout starts, and its candidate Deployment, churn-candidate, is wanted.
    const sm = world.scoringModel('ml', 'churn')!;
    world.put({
      ...sm,
      spec: { ...spec, model: { uri: 'n.onnx' } },
      metadata: { ...sm.metadata, generation: 2 },
    } as KubernetesObject);
    const theirs = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'churn-candidate', namespace: 'ml', uid: 'd-9' },
      spec: { replicas: 1 },
    };
    world.unlabelled.set('Deployment/ml/churn-candidate', structuredClone(theirs));
    writer.calls.length = 0;
    writer.reads.length = 0;
    await run();
    expect(writer.reads).toEqual(['Deployment/ml/churn-candidate']);
    expect(writer.calls).toEqual(['apply status']);
    expect(world.unlabelled.get('Deployment/ml/churn-candidate')).toEqual(theirs);
    expect(world.scoringModel('ml', 'churn')!.status!.conditions![0]).toMatchObject({
      type: 'Ready',
      status: 'False',
      reason: 'ChildConflict',
      message: expect.stringMatching(/^Deployment ml\/churn-candidate exists and is not controlled by any object/),
    });
  });

  it('reads a child missing from the caches before creating it, and not again once they hold it', async () => {
    const { writer, run } = setup({ model: { uri: 'm.onnx' } });
    await run();
    expect(writer.reads).toEqual(['Deployment/ml/churn', 'Service/ml/churn']);
    writer.reads.length = 0;
    await run();
    expect(writer.reads).toEqual([]);
  });

  it('makes a PodDisruptionBudget for two replicas or more, and deletes it at one', async () => {
    const { writer, run, world } = setup({ model: { uri: 'm.onnx' }, replicas: 2 });
    await run();
    expect(writer.calls).toEqual(['apply Deployment', 'apply Service', 'apply PodDisruptionBudget', 'apply status']);
    expect(world.pdb('ml', 'churn')!.spec).toMatchObject({ maxUnavailable: 1 });
    const sm = world.scoringModel('ml', 'churn')!;
    world.put({
      ...sm,
      spec: { model: { uri: 'm.onnx' }, replicas: 1 },
      metadata: { ...sm.metadata, generation: 2 },
    } as KubernetesObject);
    writer.calls.length = 0;
    await run();
    expect(writer.calls).toEqual(['apply Deployment', 'delete PodDisruptionBudget', 'apply status']);
  });

  it.each([
    ['another registry', 'evil.example/scorer:1', false],
    ['a repository only sharing a prefix', 'scorer-evil:1', false],
    ['an allowed repository with any tag', 'scorer:2', true],
    ['a repository under an allowed prefix, by digest', `registry.example/team/scorer@sha256:${'a'.repeat(64)}`, true],
  ])('with spec.image from %s: children %s', async (_what, image, allowed) => {
    const { writer, run, world } = setup({ model: { uri: 'm.onnx' }, image });
    await run();
    if (allowed) {
      expect(world.deployment('ml', 'churn')!.spec!.template.spec!.containers[0]!.image).toBe(image);
      return;
    }
    expect(writer.calls).toEqual(['apply status']);
    expect(world.scoringModel('ml', 'churn')!.status!.conditions![0]).toMatchObject({
      type: 'Ready',
      status: 'False',
      reason: 'ImageNotAllowed',
      message: expect.stringContaining(`spec.image ${image} is not allowed`),
    });
  });

  it('does nothing for a ScoringModel that is gone or being deleted', async () => {
    const { writer, world } = setup({ model: { uri: 'm.onnx' } });
    const written = new WrittenStatuses();
    const drift = new DriftMonitor();
    const gone = await reconcile('ml/other', { state: world, writer, config, written, drift, log });
    expect(gone).toEqual({ applied: [], deleted: [], statusWritten: false });
    const sm = world.scoringModel('ml', 'churn')!;
    world.put({ ...sm, metadata: { ...sm.metadata, deletionTimestamp: new Date() } } as KubernetesObject);
    await reconcile('ml/churn', { state: world, writer, config, written, drift, log });
    expect(writer.calls).toEqual([]);
  });
});

describe('spec.monitoring', () => {
  const monitoring = { baseline: { uri: 's3://b/baseline.json' }, minRows: 100 };
  const url = (ip: string) => `http://${ip}:8080/v2/models/churn/monitoring`;
  /** Two ready scorers and one not yet ready, each answering with `counts` of feature x0. */
  const scorersAnswering = (world: World, scorers: Scorers, a: number[], b: number[]) => {
    world.pods_ = [
      scorerPod('churn-1', '10.0.0.1'),
      scorerPod('churn-2', '10.0.0.2'),
      scorerPod('churn-3', '10.0.0.3', false),
    ];
    scorers.answers.set(url('10.0.0.1'), report({ features: { x0: a }, outputs: { score: a } }));
    scorers.answers.set(url('10.0.0.2'), report({ features: { x0: b }, outputs: { score: b } }));
    scorers.answers.set(url('10.0.0.3'), report({ features: { x0: [0, 1000, 0] } }));
  };
  const statusOf = (world: World) => world.scoringModel('ml', 'churn')!.status!;
  const drifted = (world: World) => statusOf(world).conditions!.find((c) => c.type === 'Drifted');
  const respec = (world: World, spec: unknown) => {
    const sm = world.scoringModel('ml', 'churn')!;
    world.put({ ...sm, spec, metadata: { ...sm.metadata, generation: 2 } } as KubernetesObject);
  };

  it('asks every ready scorer pod at its IP, sums their counts, and writes status.drift and Drifted', async () => {
    const { world, writer, run, scorers } = setup({ model: { uri: 'm.onnx' }, replicas: 2, monitoring });
    scorersAnswering(world, scorers, [30, 20, 0], [20, 30, 0]);
    const outcome = await run();
    expect(scorers.asked).toEqual([url('10.0.0.1'), url('10.0.0.2')]);
    expect(statusOf(world).drift).toEqual({
      judgedAt: '2026-11-25T00:00:00Z',
      windowRows: 100,
      pods: { answered: 2, asked: 2 },
      features: [{ name: 'x0', psi: 0 }],
      outputs: [{ name: 'score', psi: 0 }],
    });
    expect(drifted(world)).toEqual({
      type: 'Drifted',
      status: 'False',
      reason: 'PSIWithinThreshold',
      message: "every feature's and output's PSI is at or below the threshold 0.2 (the highest: x0 0)",
      observedGeneration: 1,
      lastTransitionTime: '2026-11-25T00:00:00Z',
    });
    expect(writer.events.map((e) => `${e.type} ${e.action}=${e.reason}`)).toContain(
      'Normal Drifted=PSIWithinThreshold',
    );
    expect(outcome.requeueAfterMs).toBe(60_000);
  });

  it('judges at most once an interval: a reconcile in between keeps the last judgment and writes nothing', async () => {
    const { world, writer, run, later, scorers } = setup({ model: { uri: 'm.onnx' }, replicas: 2, monitoring });
    scorersAnswering(world, scorers, [30, 20, 0], [20, 30, 0]);
    await run();
    const judged = structuredClone(statusOf(world));
    writer.calls.length = 0;

    scorersAnswering(world, scorers, [10, 40, 0], [0, 50, 0]);
    later(0.5);
    const between = await run();
    expect(scorers.asked).toHaveLength(2);
    expect(writer.calls).toEqual([]);
    expect(statusOf(world)).toEqual(judged);
    expect(between.requeueAfterMs).toBe(30_000);

    later(0.5);
    const next = await run();
    expect(scorers.asked).toHaveLength(4);
    expect(writer.calls).toEqual(['apply status']);
    expect(drifted(world)).toMatchObject({
      status: 'True',
      reason: 'PSIAboveThreshold',
      message: 'PSI above the threshold 0.2: features x0 0.88; outputs score 0.88',
      lastTransitionTime: '2026-11-25T00:01:00Z',
    });
    expect(statusOf(world).drift).toMatchObject({
      judgedAt: '2026-11-25T00:01:00Z',
      features: [{ name: 'x0', psi: 0.88 }],
    });
    expect(writer.events.at(-1)).toMatchObject({ type: 'Warning', action: 'Drifted', reason: 'PSIAboveThreshold' });
    expect(next.requeueAfterMs).toBe(60_000);
    // A drifted model still serves: Ready, and what kstatus reads from it, are as they were.
    const others = (s: ScoringModelStatus) => s.conditions!.filter((c) => c.type !== 'Drifted');
    expect(others(statusOf(world))).toEqual(others(judged));
  });

  it('writes nothing when a judgment finds the same rounded figures', async () => {
    const { world, writer, run, later, scorers } = setup({ model: { uri: 'm.onnx' }, replicas: 2, monitoring });
    scorersAnswering(world, scorers, [300, 200, 0], [200, 300, 0]);
    await run();
    writer.calls.length = 0;
    const events = writer.events.length;
    // More rows, a little noise: 1003 rows are shown as 1000, and the PSI is 0 to 2 decimals.
    scorersAnswering(world, scorers, [302, 200, 0], [200, 301, 0]);
    later(1);
    const outcome = await run();
    expect(scorers.asked).toHaveLength(4);
    expect(writer.calls).toEqual([]);
    expect(writer.events).toHaveLength(events);
    expect(statusOf(world).drift!.judgedAt).toBe('2026-11-25T00:00:00Z');
    expect(outcome.requeueAfterMs).toBe(60_000);
  });

  it('judges at once after a restart, and after a change of spec', async () => {
    const { world, run, later, scorers, restart } = setup({ model: { uri: 'm.onnx' }, replicas: 2, monitoring });
    scorersAnswering(world, scorers, [20, 30, 0], [20, 30, 0]);
    await run();
    later(0.1);
    restart();
    await run();
    expect(scorers.asked).toHaveLength(4);
    expect(drifted(world)!.status).toBe('False');

    later(0.1);
    respec(world, { model: { uri: 'm.onnx' }, replicas: 2, monitoring: { ...monitoring, threshold: 0.03 } });
    await run();
    expect(scorers.asked).toHaveLength(6);
    expect(drifted(world)).toMatchObject({ status: 'True', observedGeneration: 2 });
  });

  it('counts the scorers that do not answer, and never fails the reconcile for them', async () => {
    const { world, run, later, scorers } = setup({ model: { uri: 'm.onnx' }, replicas: 2, monitoring });
    scorersAnswering(world, scorers, [50, 50, 0], [50, 50, 0]);
    scorers.answers.delete(url('10.0.0.2'));
    await run();
    expect(statusOf(world).drift).toMatchObject({ windowRows: 100, pods: { answered: 1, asked: 2 } });
    expect(drifted(world)!.status).toBe('False');

    scorers.answers.clear();
    later(1);
    await expect(run()).resolves.toMatchObject({ requeueAfterMs: 60_000 });
    expect(drifted(world)).toMatchObject({
      status: 'Unknown',
      reason: 'NoReports',
      message: 'no scorer answered with its counts (0/2): churn-1: connect ECONNREFUSED 10.0.0.1:8080',
    });
  });

  it("is Unknown with the scorer's error when it cannot use the baseline, a Warning", async () => {
    const { world, writer, run, scorers } = setup({ model: { uri: 'm.onnx' }, monitoring });
    world.pods_ = [scorerPod('churn-1', '10.0.0.1')];
    const error = 'the baseline has 4 features; the model reads 3 per row';
    scorers.answers.set(url('10.0.0.1'), { status: 503, error });
    await run();
    expect(drifted(world)).toMatchObject({ status: 'Unknown', reason: 'BaselineUnavailable', message: error });
    expect(writer.events.at(-1)).toMatchObject({ type: 'Warning', reason: 'BaselineUnavailable' });
  });

  it('is Unknown until a scorer is ready, then while the windows hold fewer than minRows rows', async () => {
    const { world, run, later, scorers } = setup({ model: { uri: 'm.onnx' }, monitoring });
    await run();
    expect(drifted(world)).toMatchObject({ status: 'Unknown', reason: 'NoReadyScorers' });
    expect(statusOf(world).drift).toMatchObject({ windowRows: 0, pods: { answered: 0, asked: 0 } });
    world.pods_ = [scorerPod('churn-1', '10.0.0.1')];
    scorers.answers.set(url('10.0.0.1'), report({ features: { x0: [0, 99, 0] } }));
    later(1);
    await run();
    expect(drifted(world)).toMatchObject({ status: 'Unknown', reason: 'TooFewRows' });
    expect(statusOf(world).drift).toEqual({
      judgedAt: '2026-11-25T00:01:00Z',
      windowRows: 99,
      pods: { answered: 1, asked: 1 },
    });
  });

  it('keeps the last judgment while the children are blocked by an object it does not control', async () => {
    const { world, run, later, scorers } = setup({ model: { uri: 'm.onnx' }, replicas: 2, monitoring });
    scorersAnswering(world, scorers, [10, 40, 0], [0, 50, 0]);
    await run();
    const judged = statusOf(world);
    world.objects.delete('Service/ml/churn');
    world.unlabelled.set('Service/ml/churn', { apiVersion: 'v1', kind: 'Service', metadata: { name: 'churn' } });
    later(2);
    await run();
    expect(statusOf(world).conditions![0]).toMatchObject({ reason: 'ChildConflict' });
    expect(statusOf(world).drift).toEqual(judged.drift);
    expect(drifted(world)).toEqual(judged.conditions!.find((c) => c.type === 'Drifted'));
  });

  it('asks no scorer and writes no drift without spec.monitoring, and drops both when it is removed', async () => {
    const { world, run, later, scorers } = setup({ model: { uri: 'm.onnx' }, replicas: 2 });
    scorersAnswering(world, scorers, [10, 40, 0], [0, 50, 0]);
    const outcome = await run();
    expect(scorers.asked).toEqual([]);
    expect(statusOf(world).drift).toBeUndefined();
    expect(drifted(world)).toBeUndefined();
    expect(outcome.requeueAfterMs).toBeUndefined();

    respec(world, { model: { uri: 'm.onnx' }, replicas: 2, monitoring });
    await run();
    expect(drifted(world)!.status).toBe('True');
    respec(world, { model: { uri: 'm.onnx' }, replicas: 2 });
    later(0.1);
    await run();
    expect(statusOf(world).drift).toBeUndefined();
    expect(drifted(world)).toBeUndefined();
  });
});

describe('isSubset', () => {
  it('ignores fields the API server added, but not changed or missing list elements', () => {
    expect(isSubset({ a: 1, l: [{ x: 1 }] }, { a: 1, b: 2, l: [{ x: 1, y: 2 }] })).toBe(true);
    expect(isSubset({ a: 1 }, { a: 2 })).toBe(false);
    expect(isSubset({ l: [{ x: 1 }] }, { l: [{ x: 1 }, { x: 2 }] })).toBe(false);
    expect(isSubset({ o: {} }, {})).toBe(false);
  });

  it('matches resource quantities by value, as the API server stores them canonical', () => {
    const resources = (cpu: string, memory: string) => ({ containers: [{ resources: { requests: { cpu, memory } } }] });
    expect(isSubset(resources('0.5', '1024Mi'), resources('500m', '1Gi'))).toBe(true);
    expect(isSubset(resources('0.5', '1024Mi'), resources('500m', '1G'))).toBe(false);
    expect(isSubset({ emptyDir: { sizeLimit: '65536Ki' } }, { emptyDir: { sizeLimit: '64Mi' } })).toBe(true);
  });

  it('compares anything else as text, quantity-like or not', () => {
    expect(isSubset({ env: [{ name: 'CPU', value: '0.5' }] }, { env: [{ name: 'CPU', value: '500m' }] })).toBe(false);
  });
});

describe('a child the API server refuses', () => {
  /** What client-node throws for the API server's 422: its Status in the body, the response headers beside it. */
  const invalid = (message: string) =>
    new ApiException(
      422,
      'Unknown API Status Code!',
      { kind: 'Status', status: 'Failure', reason: 'Invalid', code: 422, message },
      {
        'audit-id': 'a1b2',
      },
    );
  const refuseServices = (writer: Recorder, world: World) => {
    writer.apply = async (o: KubernetesObject) => {
      if (o.kind === 'Service') {
        throw invalid('Service "churn" is invalid: spec.ports[0].nodePort: port is in use');
      }
      world.put(o);
    };
  };

  it("keeps a healthy model's status but Ready, which says ApplyFailed and why", async () => {
    const { writer, run, world, later } = setup({ model: { uri: 'm.onnx' } });
    await run();
    const d = world.deployment('ml', 'churn')!;
    world.put({ ...d, status: { replicas: 1, readyReplicas: 1, updatedReplicas: 1 } } as KubernetesObject);
    await run();
    const healthy = world.scoringModel('ml', 'churn')!.status!;
    const sm = world.scoringModel('ml', 'churn')!;
    world.put({
      ...sm,
      metadata: { ...sm.metadata, generation: 2 },
      spec: { model: { uri: 'm.onnx' }, service: { type: 'NodePort', port: 80 } },
    } as KubernetesObject);
    refuseServices(writer, world);
    later(1);
    await expect(run()).rejects.toThrow('422');
    const { conditions, ...fields } = world.scoringModel('ml', 'churn')!.status!;
    expect(fields).toEqual({ ...healthy, conditions: undefined, observedGeneration: 2 });
    expect(conditions).toEqual([
      {
        type: 'Ready',
        status: 'False',
        reason: 'ApplyFailed',
        message:
          'applying Service/churn failed: HTTP 422 Invalid: Service "churn" is invalid: spec.ports[0].nodePort: port is in use',
        observedGeneration: 2,
        lastTransitionTime: '2026-11-25T00:01:00Z',
      },
      healthy.conditions![1],
      expect.objectContaining({ type: 'Stalled', status: 'True', reason: 'ApplyFailed' }),
    ]);
    expect(healthy.conditions![1]).toMatchObject({ type: 'ModelLoaded', status: 'True', observedGeneration: 1 });
  });

  it('puts the reason in the status and fails the reconcile, so it is retried with backoff', async () => {
    const { writer, run, world } = setup({ model: { uri: 'm.onnx' } });
    writer.apply = async (o: KubernetesObject) => {
      if (o.kind === 'Service') {
        throw invalid('Service "churn" is invalid: spec.clusterIPs: failed to allocate IP: range is full');
      }
      world.put(o);
    };
    await expect(run()).rejects.toThrow('422');
    expect(world.scoringModel('ml', 'churn')!.status!.conditions).toMatchObject([
      {
        type: 'Ready',
        status: 'False',
        reason: 'ApplyFailed',
        message:
          'applying Service/churn failed: HTTP 422 Invalid: Service "churn" is invalid: spec.clusterIPs: failed to allocate IP: range is full',
      },
      { type: 'Stalled', status: 'True', reason: 'ApplyFailed' },
    ]);
  });

  it('fails with both errors when the status write that reports a failed apply fails too', async () => {
    const { writer, run, world } = setup({ model: { uri: 'm.onnx' } });
    refuseServices(writer, world);
    writer.applyStatus = async () => {
      throw new ApiException(
        409,
        'Unknown API Status Code!',
        { kind: 'Status', reason: 'Conflict', code: 409, message: 'the object has been modified' },
        { 'audit-id': 'c3d4' },
      );
    };
    const failure = await run().then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(failure).toBeInstanceOf(AggregateError);
    expect(apiErrorText(failure)).toBe(
      'the reconcile failed, and so did writing its status: ' +
        'HTTP 422 Invalid: Service "churn" is invalid: spec.ports[0].nodePort: port is in use; ' +
        'HTTP 409 Conflict: the object has been modified',
    );
  });
});
