/**
 * End to end on a real cluster: the operator installed with `kubectl apply -k config/default` from our images,
 * the samples applied, real scorer pods serving real models through the Services the operator made.
 * Runs against the cluster KUBECONFIG names (npm run test:e2e); e2e/local/run.sh and e2e/kind/run.sh make one.
 * The operator, the suite's namespace, the client pod and the model store are set up once and only read; each describe
 * (or test) applies the ScoringModels it looks at, under names of its own, and deletes them, so that any test runs
 * alone (-t).
 */
import { readFileSync } from 'node:fs';
import { load } from 'js-yaml';
import { fixtures, maxRelativeError } from '../helpers/fixtures.js';
import { ROOT, eventsOf, getJson, k, kubectl, scoringModel, waitFor } from '../cluster/kube.js';
import { StopWaiting } from '../helpers/wait.js';
import {
  NS,
  ready,
  remove,
  send,
  sendGrpcOnceServed,
  sendOnceServed,
  sha256,
  startLoad,
  startWorld,
  privilegedPod,
  url,
  waitReady,
} from './world.js';

const fixture = (name: string) => fixtures().find((f) => f.name === name)!;
const onnx = fixture('mlp_classifier');
const onnxNext = fixture('logreg_multiclass');
const xgboost = fixture('xgb_binary');
/** The drift fixture's model, its baseline (the monitored sample's, beside it) and its training rows. */
const driftChurn = fixture('drift_churn');
const BASELINE = `${ROOT}config/samples/churn.baseline.json`;
const TRAINING = readFileSync(`${ROOT}test/fixtures/generated/drift_churn.train.csv`, 'utf8').trim().split('\n');
const FEATURES = TRAINING[0]!.split(',');
const TRAINING_ROWS = TRAINING.slice(1).map((line) => line.split(',').map((v) => (v === '' ? null : Number(v))));

type Manifest = { metadata: { name: string; namespace?: string }; spec: Record<string, unknown> };
const sample = (file: string) =>
  load(readFileSync(`${ROOT}config/samples/scoring_v1alpha1_scoringmodel_${file}.yaml`, 'utf8')) as Manifest;
/** Applies `m` in the suite's namespace, under `name` when given. */
const apply = (m: Manifest, name = m.metadata.name) =>
  k(['apply', '-f', '-'], JSON.stringify({ ...m, metadata: { ...m.metadata, name, namespace: NS } }));

let store: string;
/** The samples, their models moved to the suite's store (with their real digests). */
const samples = {
  identity: () => sample('identity'),
  onnx: () => {
    const iris = sample('onnx');
    iris.spec.model = { uri: `${store}/${onnx.file}`, format: 'onnx', sha256: sha256(onnx.path) };
    return iris;
  },
  xgboost: () => {
    const churn = sample('xgboost');
    churn.spec.model = { uri: `${store}/${xgboost.file}`, sha256: sha256(xgboost.path) };
    delete churn.spec.credentials;
    // And it predicts on a worker thread, through spec.env: the image's read-only, non-root scorer runs the thread.
    churn.spec.env = [{ name: 'PREDICT_THREAD', value: 'true' }];
    return churn;
  },
  drift: () => {
    const monitored = sample('drift');
    const spec = monitored.spec as { model: object; monitoring: { baseline: object } };
    // The sample's digests stay: they must be those of the files the store serves.
    spec.model = { ...spec.model, uri: `${store}/${driftChurn.file}` };
    spec.monitoring.baseline = { ...spec.monitoring.baseline, uri: `${store}/churn.baseline.json` };
    delete monitored.spec.credentials;
    delete monitored.spec.env;
    return monitored;
  },
};

beforeAll(async () => {
  store = await startWorld([onnx.path, onnxNext.path, xgboost.path, driftChurn.path, BASELINE]);
}, 900_000);

describe('restricted pod security', () => {
  it('runs the operator in its restricted namespace', () => {
    const ns = getJson(['namespace', 'scoring-system'])!;
    expect(ns.metadata.labels['pod-security.kubernetes.io/enforce']).toBe('restricted');
    const d = getJson(['deployment', 'scoring-operator', '-n', 'scoring-system'])!;
    expect(d.status.readyReplicas).toBe(d.spec.replicas);
  });

  // The negative control: without it the tests above and the models' pods would pass just as well on a cluster
  // whose PodSecurity admission is off.
  it.each(['scoring-system', NS])('refuses a privileged pod in %s', (namespace) => {
    const run = kubectl(['create', '--dry-run=server', '-f', '-'], privilegedPod(namespace));
    expect(run.status).not.toBe(0);
    expect(run.stderr).toMatch(/violates PodSecurity "restricted:[^"]+": privileged/);
  });
});

describe('the samples', () => {
  // Each test applies the samples it reads (kubectl apply: a no-op for one an earlier test of this describe applied).
  afterAll(() => remove(['identity', 'iris', 'churn']));

  it('the seed identity model answers {"X": [1, 2]} with {"score": [1, 2]} through its Service', async () => {
    apply(samples.identity());
    await waitReady('identity');
    expect(await sendOnceServed(url('identity', '/score'), { X: [1, 2] })).toEqual({
      status: 200,
      body: { score: [1, 2] },
    });
  });

  it('the ONNX model answers with scikit-learn predictions, through /score and V2 infer', async () => {
    apply(samples.onnx());
    await waitReady('iris');
    const reply = await sendOnceServed(url('iris', '/score'), { X: onnx.inputs });
    expect(reply.status).toBe(200);
    expect(
      maxRelativeError((reply.body as { score: unknown[] }).score, onnx.expected.probabilities!),
    ).toBeLessThanOrEqual(onnx.tolerance);
    const meta = send(url('iris', '/v2/models/iris')).body as { inputs: { name: string; datatype: string }[] };
    const rows = onnx.inputs.slice(0, 5);
    const v2 = send(url('iris', '/v2/models/iris/infer'), {
      inputs: [
        {
          name: meta.inputs[0]!.name,
          datatype: meta.inputs[0]!.datatype,
          shape: [5, rows[0]!.length],
          data: rows.flat(),
        },
      ],
    });
    expect(v2.status).toBe(200);
    const out = (v2.body as { outputs: { name: string; data: number[] }[] }).outputs.find(
      (o) => o.name === 'probabilities',
    )!;
    expect(maxRelativeError(out.data, onnx.expected.probabilities!.slice(0, 5).flat())).toBeLessThanOrEqual(
      onnx.tolerance,
    );
  });

  it('the XGBoost model answers with XGBoost predictions, predicting on a thread (PREDICT_THREAD)', async () => {
    apply(samples.xgboost());
    await waitReady('churn');
    const reply = await sendOnceServed(url('churn', '/score'), { X: xgboost.inputs });
    expect(reply.status).toBe(200);
    expect(maxRelativeError((reply.body as { score: unknown[] }).score, xgboost.expected.score!)).toBeLessThanOrEqual(
      xgboost.tolerance,
    );
    const loaded = k(['logs', 'deployment/churn', '-n', NS])
      .split('\n')
      .find((l) => l.includes('"msg":"model loaded"'));
    expect(loaded).toContain('"thread":true');
  });

  it("the XGBoost model answers a gRPC ModelInfer through the Service's grpc port with XGBoost predictions", async () => {
    apply(samples.xgboost());
    await waitReady('churn');
    const rows = xgboost.inputs;
    const reply = await sendGrpcOnceServed('churn', 'ModelInfer', {
      model_name: 'churn',
      inputs: [
        {
          name: 'X',
          datatype: 'FP64',
          shape: [rows.length, rows[0]!.length],
          contents: { fp64_contents: rows.flat() as number[] },
        },
      ],
    });
    expect(reply.code).toBe(0);
    const outputs = (reply.body as { outputs: { name: string; contents: { fp32_contents: number[] } }[] }).outputs;
    expect(outputs.map((o) => o.name)).toEqual(['score']);
    expect(maxRelativeError(outputs[0]!.contents.fp32_contents, xgboost.expected.score!)).toBeLessThanOrEqual(
      xgboost.tolerance,
    );
  });

  it('kubectl get sm shows them Ready with their URLs', async () => {
    for (const m of [samples.identity(), samples.onnx(), samples.xgboost()]) apply(m);
    for (const name of ['identity', 'iris', 'churn']) {
      // Ready's reason is AutoscalingInactive while a new HPA has no metrics yet: Available comes after.
      const row = await waitFor(
        `${name}'s row to say Available`,
        () => {
          const line = k(['get', 'sm', name, '-n', NS]).split('\n')[1];
          return line !== undefined && /Available/.test(line) ? line : undefined;
        },
        300_000,
        1000,
      );
      expect(row.startsWith(`${name} `)).toBe(true);
      expect(row).toContain(`http://${name}.${NS}.svc.cluster.local`);
      expect(row).toMatch(/Available/);
    }
  });
});

describe('the URL in status', () => {
  afterAll(() => remove(['dns']));

  it('answers from inside the cluster, through cluster DNS', async () => {
    k(['apply', '-f', '-'], scoringModel('dns', { model: { uri: 'identity' } }, NS));
    await waitReady('dns');
    const statusUrl = getJson(['sm', 'dns', '-n', NS])!.status.url as string;
    expect(statusUrl).toBe(`http://dns.${NS}.svc.cluster.local`);
    expect(await sendOnceServed(`${statusUrl}/score`, { X: [1, 2] })).toEqual({ status: 200, body: { score: [1, 2] } });
  });
});

describe('a model that cannot load', () => {
  afterAll(() => remove(['wrong-digest', 'missing-object']));

  it.each([
    ['wrong-digest', () => ({ uri: `${store}/${onnx.file}`, sha256: '0'.repeat(64) }), /sha256/i],
    ['missing-object', () => ({ uri: `${store}/no-such-model.onnx` }), /404/],
  ])('%s shows Ready=False, ModelLoadFailed and the reason in get and describe', async (name, model, reason) => {
    k(['apply', '-f', '-'], scoringModel(name, { model: model() }, NS));
    const condition = await waitFor(
      `${name} ModelLoadFailed`,
      () => {
        const c = ready(name);
        return c?.reason === 'ModelLoadFailed' ? c : undefined;
      },
      300_000,
    );
    expect(condition.status).toBe('False');
    expect(condition.message).toMatch(reason);
    const row = k(['get', 'sm', name, '-n', NS]).split('\n')[1]!;
    expect(row).toContain('ModelLoadFailed');
    const described = k(['describe', 'sm', name, '-n', NS]);
    expect(described).toContain('ModelLoadFailed');
    expect(described).toMatch(reason);
  });
});

describe('scaling', () => {
  afterAll(() => remove(['scaled', 'busy'], ['hpa-load']));

  it('kubectl scale sm changes the replicas of a model without autoscaling', async () => {
    k(['apply', '-f', '-'], scoringModel('scaled', { model: { uri: 'identity' } }, NS));
    await waitReady('scaled');
    k(['scale', 'sm', 'scaled', '-n', NS, '--replicas=2']);
    await waitFor(
      '2 ready scaled replicas',
      () => getJson(['sm', 'scaled', '-n', NS])?.status?.readyReplicas === 2,
      300_000,
    );
    expect(getJson(['deployment', 'scaled', '-n', NS])!.spec.replicas).toBe(2);
  });

  it('CPU load on the autoscaled model makes its HPA add replicas', async () => {
    // The XGBoost sample (autoscaled on CPU), under a name of this test's own.
    apply(samples.xgboost(), 'busy');
    await waitReady('busy');
    const load = startLoad('hpa-load', url('busy', '/score'), { X: xgboost.inputs }, 300, 4);
    try {
      await waitFor(
        'the HPA to scale busy up',
        () => (getJson(['deployment', 'busy', '-n', NS])?.spec.replicas as number) > 1,
        300_000,
      );
    } finally {
      load.stop();
    }
    const hpa = getJson(['hpa', 'busy', '-n', NS])!;
    expect(hpa.status.desiredReplicas).toBeGreaterThan(1);
    expect(hpa.status.currentMetrics[0].resource.current.averageUtilization).toBeGreaterThan(0);
  });
});

describe('disruption', () => {
  afterAll(() => remove(['evictable'], ['eviction-load']));

  it('evicts its scorer pods one at a time through the Eviction API under the PDB, serving throughout', async () => {
    k(['apply', '-f', '-'], scoringModel('evictable', { model: { uri: 'identity' }, replicas: 2 }, NS));
    const readyPods = () =>
      // eslint-disable-next-line @typescript-eslint/no-explicit-any -- kubectl JSON
      getJson<{ items: any[] }>(['pods', '-n', NS, '-l', 'app.kubernetes.io/instance=evictable'])!
        .items.filter(
          (p) =>
            !p.metadata.deletionTimestamp &&
            p.status.conditions?.some(
              (c: { type: string; status: string }) => c.type === 'Ready' && c.status === 'True',
            ),
        )
        .map((p) => p.metadata.name as string);
    // The disruption controller has counted both ready pods: one may go.
    const settled = () =>
      waitFor(
        'two ready pods and one disruption allowed',
        () => readyPods().length === 2 && getJson(['pdb', 'evictable', '-n', NS])?.status?.disruptionsAllowed === 1,
        300_000,
      );
    await settled();
    const evict = (pod: string) =>
      kubectl(
        ['create', '--raw', `/api/v1/namespaces/${NS}/pods/${pod}/eviction`, '-f', '-'],
        JSON.stringify({ apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: pod, namespace: NS } }),
      );
    const load = startLoad('eviction-load', url('evictable', '/score'), { X: [1, 2] }, 600, 4);
    try {
      await load.serving();
      const [first, second] = readyPods();
      expect(evict(first!)).toMatchObject({ status: 0 });
      // The budget is spent until the replacement is ready.
      const refused = evict(second!);
      expect(refused.status).not.toBe(0);
      expect(refused.stderr).toMatch(/disruption budget/);
      await waitFor('the first pod gone', () => !getJson(['pod', first!, '-n', NS]), 120_000);
      await settled();
      expect(evict(second!)).toMatchObject({ status: 0 });
      await waitFor('the second pod gone', () => !getJson(['pod', second!, '-n', NS]), 120_000);
      await settled();
    } finally {
      load.finish();
    }
    const result = await load.result();
    console.log(`evictions under load: ${JSON.stringify(result)}`);
    expect(result.ok).toBeGreaterThan(100);
    expect(result).toEqual({ ok: result.ok, failed: 0, errors: {} });
  });
});

describe('a rolling update under load', () => {
  afterAll(() => remove(['rollout'], ['rollout-load']));

  it('changes the model with zero failed requests, the load running until the old pods are gone', async () => {
    // The ONNX sample (two replicas), under a name of this test's own.
    apply(samples.onnx(), 'rollout');
    await waitReady('rollout');
    const generation = getJson(['sm', 'rollout', '-n', NS])!.metadata.generation as number;
    const before = getJson(['deployment', 'rollout', '-n', NS])!;
    const selector = Object.entries(before.spec.selector.matchLabels as Record<string, string>)
      .map(([key, value]) => `${key}=${value}`)
      .join(',');
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- kubectl JSON
    const pods = () => getJson<{ items: any[] }>(['pods', '-n', NS, '-l', selector])!.items;
    const oldPods = pods().map((p) => p.metadata.name as string);
    expect(oldPods.length).toBeGreaterThan(0);
    // Longer than any rollout takes: it is ended below, once the rollout has finished.
    const load = startLoad('rollout-load', url('rollout', '/score'), { X: onnx.inputs.slice(0, 1) }, 600, 4);
    try {
      // The rollout starts under load: once the load's requests are answered.
      await load.serving();
      k([
        'patch',
        'sm',
        'rollout',
        '-n',
        NS,
        '--type=merge',
        '-p',
        JSON.stringify({ spec: { model: { uri: `${store}/${onnxNext.file}`, sha256: sha256(onnxNext.path) } } }),
      ]);
      // Finished: the Deployment observed its new template and counts only new, available replicas, and the pods
      // behind the Service are exactly those: every old pod gone (not just terminating), none left over.
      const finished = await waitFor(
        'the rollout to finish',
        () => {
          const sm = getJson(['sm', 'rollout', '-n', NS])!;
          const d = getJson(['deployment', 'rollout', '-n', NS])!;
          const want = d.spec.replicas as number;
          const counted =
            sm.status?.observedGeneration > generation &&
            d.status.observedGeneration >= d.metadata.generation &&
            d.metadata.generation > before.metadata.generation &&
            [d.status.replicas, d.status.updatedReplicas, d.status.readyReplicas, d.status.availableReplicas].every(
              (n) => n === want,
            );
          if (!counted) return undefined;
          const now = pods();
          const done =
            now.length === want &&
            now.every((p) => !p.metadata.deletionTimestamp && !oldPods.includes(p.metadata.name as string));
          return done ? { want, now } : undefined;
        },
        300_000,
      );
      const hashes = new Set(finished.now.map((p) => p.metadata.labels['pod-template-hash'] as string));
      expect(hashes.size).toBe(1);
      // The ReplicaSets of the old template have no pods left.
      // eslint-disable-next-line @typescript-eslint/no-explicit-any -- kubectl JSON
      const sets = getJson<{ items: any[] }>(['replicasets', '-n', NS, '-l', selector])!.items;
      for (const rs of sets.filter((r) => !hashes.has(r.metadata.labels['pod-template-hash'] as string))) {
        expect({ name: rs.metadata.name, replicas: rs.status.replicas ?? 0 }).toEqual({
          name: rs.metadata.name,
          replicas: 0,
        });
      }
    } finally {
      load.finish();
    }
    const result = await load.result();
    console.log(`rolling update under load: ${JSON.stringify(result)}`);
    expect(result.ok).toBeGreaterThan(100);
    expect(result).toEqual({ ok: result.ok, failed: 0, errors: {} });
    // The new model answers: the logistic regression's labels (its first output), no longer the MLP's probabilities.
    const reply = send(url('rollout', '/score'), { X: onnxNext.inputs });
    expect(
      maxRelativeError((reply.body as { score: unknown[] }).score, onnxNext.expected[onnxNext.outputs![0]!]!),
    ).toBeLessThanOrEqual(onnxNext.tolerance);
  });
});

describe('drift', () => {
  afterAll(() => remove(['churn-monitored'], ['drift-load', 'drift-shifted-load']));

  /** Seconds of the scorers' windows (through spec.env): rows sent before the shift are gone this long after it. */
  const WINDOW_SECONDS = 30;
  const INTERVAL_SECONDS = 10;
  /** Rows a request scores, drawn at random from the training rows by the load pod. */
  const SAMPLE = 20;
  /** The feature the second load shifts: every monthly charge 40 higher, prices gone up. */
  const SHIFTED = 'monthly_charges';
  type Condition = { type: string; status: string; reason: string; message: string };
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- kubectl JSON
  const status = () => getJson(['sm', 'churn-monitored', '-n', NS])?.status as Record<string, any> | undefined;
  const drifted = (s = status()) => (s?.conditions as Condition[] | undefined)?.find((c) => c.type === 'Drifted');
  /** The DRIFT column of the model's row in `kubectl get sm` (columns are aligned with the header's). */
  const driftColumn = () => {
    const [header, row] = k(['get', 'sm', 'churn-monitored', '-n', NS]).split('\n');
    return row!.slice(header!.indexOf(' DRIFT ') + 1).split(/\s+/)[0];
  };

  it('judges traffic drawn like the training data not drifted, and one shifted feature drifted within two intervals', async () => {
    // The monitored sample (its name is no other test's), judged often, over a short window, on two replicas whose
    // counts the operator sums.
    const m = samples.drift();
    m.spec.replicas = 2;
    m.spec.env = [{ name: 'MONITOR_WINDOW_SECONDS', value: String(WINDOW_SECONDS) }];
    Object.assign(m.spec.monitoring as object, { minRows: 1000, intervalSeconds: INTERVAL_SECONDS });
    apply(m);
    await waitReady('churn-monitored');
    // Judged with no traffic yet: the scorers loaded the baseline (its digest is the sample's), and count nothing.
    await waitFor('Drifted=Unknown, TooFewRows', () => drifted()?.reason === 'TooFewRows', 120_000, 1000);

    const like = startLoad('drift-load', url('churn-monitored', '/score'), TRAINING_ROWS, 600, 2, SAMPLE);
    await like.serving();
    const first = await waitFor(
      'Drifted=False under traffic drawn like the training data',
      () => {
        const s = status();
        return drifted(s)?.status === 'False' ? s : undefined;
      },
      120_000,
      1000,
    );
    expect(drifted(first)).toMatchObject({ reason: 'PSIWithinThreshold' });
    expect(first!.drift.windowRows).toBeGreaterThanOrEqual(1000);
    expect(first!.drift.pods).toEqual({ answered: 2, asked: 2 });
    expect(driftColumn()).toBe('False');
    // And it stays so: a later judgment, with more rows, finds it within the threshold again.
    const later = await waitFor(
      'a later judgment of the same traffic',
      () => {
        const s = status();
        if (drifted(s)?.status !== 'False') throw new StopWaiting(`Drifted is now ${JSON.stringify(drifted(s))}`);
        return s!.drift.judgedAt !== first!.drift.judgedAt ? s : undefined;
      },
      (WINDOW_SECONDS + 3 * INTERVAL_SECONDS) * 1000,
      1000,
    );
    for (const f of later!.drift.features as { name: string; psi: number }[]) expect(f.psi).toBeLessThan(0.05);
    like.finish();
    const stopped = Date.now();
    expect(await like.result()).toMatchObject({ failed: 0 });

    const rows = TRAINING_ROWS.map((row) =>
      row.map((v, i) => (FEATURES[i] === SHIFTED && v !== null ? Math.round((v + 40) * 100) / 100 : v)),
    );
    const shifted = startLoad('drift-shifted-load', url('churn-monitored', '/score'), rows, 600, 2, SAMPLE);
    try {
      await shifted.serving();
      const started = Date.now();
      // Every row in the scorers' windows is a shifted one from WINDOW_SECONDS after the first load stopped: the
      // verdict is due within two intervals of that.
      const filled = Math.max(started, stopped + WINDOW_SECONDS * 1000);
      const deadline = filled + (2 * INTERVAL_SECONDS + 10) * 1000;
      const judged = await waitFor(
        `Drifted=True within two intervals of the window's filling with shifted rows`,
        () => {
          const s = status();
          return drifted(s)?.status === 'True' ? s : undefined;
        },
        deadline - Date.now(),
        1000,
      );
      console.log(
        `drift: Drifted=True ${((Date.now() - started) / 1000).toFixed(1)} s after the shifted traffic was ` +
          `answered (window ${WINDOW_SECONDS} s, interval ${INTERVAL_SECONDS} s); ${JSON.stringify(judged!.drift)}`,
      );
      const condition = drifted(judged)!;
      expect(condition.reason).toBe('PSIAboveThreshold');
      // The shifted feature and no other: `PSI above the threshold 0.2: features monthly_charges 1.9; outputs ...`
      const named = /features ([^;]*)/.exec(condition.message)?.[1] ?? '';
      expect(named).toMatch(new RegExp(`^${SHIFTED} \\d`));
      for (const other of FEATURES.filter((f) => f !== SHIFTED)) expect(named).not.toContain(other);
      const [top, ...rest] = judged!.drift.features as { name: string; psi: number }[];
      expect(top).toMatchObject({ name: SHIFTED });
      expect(top!.psi).toBeGreaterThan(0.2);
      for (const f of rest) expect(f.psi).toBeLessThanOrEqual(0.2);
      expect(judged!.drift.pods).toEqual({ answered: 2, asked: 2 });
      expect(driftColumn()).toBe('True');
      console.log(`drift: ${condition.message}\nkubectl get sm\n${k(['get', 'sm', 'churn-monitored', '-n', NS])}`);
      expect(eventsOf('churn-monitored', NS)).toContain('Warning Drifted=PSIAboveThreshold');
    } finally {
      shifted.finish();
    }
    expect(await shifted.result()).toMatchObject({ failed: 0 });
  });
});

describe('deletion', () => {
  afterAll(() => remove(['doomed']));

  it("removes the ScoringModel's Deployment, Service and HPA", async () => {
    const children = () => ['deployment', 'service', 'hpa'].map((kind) => getJson([kind, 'doomed', '-n', NS]));
    k(
      ['apply', '-f', '-'],
      scoringModel('doomed', { model: { uri: 'identity' }, autoscaling: { maxReplicas: 2 } }, NS),
    );
    await waitFor('the children', () => children().every((c) => c !== undefined));
    k(['delete', 'sm', 'doomed', '-n', NS, '--wait=true']);
    await waitFor('children gone', () => children().every((c) => c === undefined), 180_000);
  });
});
