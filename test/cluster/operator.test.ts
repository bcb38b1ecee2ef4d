/**
 * The operator against a real kube-apiserver and kube-controller-manager, authenticated as its own ServiceAccount
 * bound to the project's ClusterRole: a missing verb shows as a failure here, and the operator's logs must hold no
 * "forbidden". No kubelet runs: Deployment and pod status are written by the test through the status subresource.
 * Each test works in a namespace of its own, made before it and removed after it, so that any test runs alone
 * (`-t`); the operator process is shared, and a test that stops it leaves another one leading.
 */
import { readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { restartApiserver } from '../../harness/controlplane.js';
import { OPERATOR_ONLY_ENV } from '../../operator/api/v1alpha1.js';
import {
  audit,
  crashedPodStatus,
  DIR,
  eventsOf,
  getJson,
  installOperatorPrerequisites,
  k,
  metricsOf,
  OPERATOR_USER,
  readyPodStatus,
  scoringModel,
  setPodStatus,
  startOperator,
  waitFor,
  waitForAuthorizer,
  writes,
  type OperatorProcess,
} from './kube.js';
import { checkMetrics, itWithPromtool } from '../helpers/promtool.js';

let kubeconfig: string;
/** Every operator the suite starts: the RBAC verdict reads all their logs. */
const operators: OperatorProcess[] = [];
/** The operator the tests talk to (the leader, or the one about to lead). */
let op: OperatorProcess;
/**
 * While kube-apiserver restarts and its RBAC caches refill it refuses everyone: "forbidden" then says nothing about
 * the ClusterRole. Outside this window any "forbidden" is a missing verb.
 */
const apiserverRestart = { from: Infinity, to: Infinity };

async function startOp(identity: string, env: Record<string, string> = {}): Promise<OperatorProcess> {
  const started = await startOperator(kubeconfig, { POD_NAME: identity, ...env });
  operators.push(started);
  return started;
}

/** Until `o` holds the leader Lease (its own gauge, set once it has taken the Lease). */
const leading = (o: OperatorProcess, timeoutMs = 60_000) =>
  waitFor(`${o.identity} to lead`, async () => /^scoring_operator_leader 1$/m.test(await metricsOf(o)), timeoutMs);

/** Stops the operator the tests talk to and starts `identity` in its place; resolves once the new one leads. */
async function replaceOp(identity: string, env: Record<string, string> = {}): Promise<void> {
  await op.stop('SIGTERM');
  op = await startOp(identity, env);
  await leading(op);
}

beforeAll(async () => {
  kubeconfig = await installOperatorPrerequisites();
  op = await startOp('operator-main');
});
afterAll(async () => {
  await Promise.all(operators.map((o) => o.stop()));
  const lines = operators.flatMap((o) =>
    o.logs().map((l): Record<string, unknown> => ({ operator: o.identity, ...l })),
  );
  // Kept for a failing run: the operators' own account of it.
  writeFileSync(join(tmpdir(), 'scoring-operator-cluster-test.log'), lines.map((l) => JSON.stringify(l)).join('\n'));
  const during = (t: number) => t >= apiserverRestart.from && t <= apiserverRestart.to;
  const denied = lines.filter((l) => !during(l.time as number) && /forbidden/i.test(JSON.stringify(l)));
  expect(denied).toEqual([]);
  // The verdict needs logs to judge: every operator started logged its start.
  expect(operators.map((o) => o.logs().some((l) => l.msg === 'starting'))).toEqual(operators.map(() => true));
});

/** The namespace of the test that runs now. */
let ns: string;
let made = 0;
beforeEach(() => {
  const slug = (expect.getState().currentTestName ?? '').toLowerCase().replace(/[^a-z0-9]+/g, '-');
  ns = `t${++made}-${slug}`.slice(0, 63).replace(/-+$/, '');
  k(['create', 'namespace', ns]);
});
afterEach(async () => {
  // A test that failed between stopping the operator and starting another leaves none: the next test gets one.
  if (op.child.exitCode !== null || op.child.signalCode !== null) op = await startOp(`operator-after-${made}`);
  // ScoringModels first: none is left for the operator to find in a namespace being deleted, where it may create
  // nothing (and would log "forbidden").
  k(['delete', 'sm', '--all', '-n', ns, '--wait=true']);
  k(['delete', 'namespace', ns, '--wait=false']);
});

/** The established TCP connections process `pid` has to `remotePort` on 127.0.0.1 (its sockets in /proc/net/tcp). */
function establishedTcp(pid: number, remotePort: number): number {
  const sockets = new Set(
    readdirSync(`/proc/${pid}/fd`).flatMap((fd) => {
      try {
        return [/^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`))?.[1]];
      } catch {
        return []; // closed meanwhile
      }
    }),
  );
  const remote = `0100007F:${remotePort.toString(16).toUpperCase().padStart(4, '0')}`;
  return readFileSync('/proc/net/tcp', 'utf8')
    .split('\n')
    .slice(1)
    .map((line) => line.trim().split(/\s+/))
    .filter((f) => f[2] === remote && f[3] === '01' && sockets.has(f[9])).length;
}

type Condition = { type: string; status: string; reason: string; message: string };
const apply = (name: string, spec: Record<string, unknown>) => k(['apply', '-f', '-'], scoringModel(name, spec, ns));
const deployment = (name: string) => getJson(['deployment', name, '-n', ns]);
const status = (name: string) => getJson(['scoringmodel', name, '-n', ns])?.status;
const readyCondition = (name: string) =>
  (status(name)?.conditions as Condition[] | undefined)?.find((c) => c.type === 'Ready');
/** The first scorer pod of a ScoringModel (made by the real ReplicaSet controller). */
const scorerPod = (instance: string) =>
  waitFor(
    'a scorer pod',
    () => k(['get', 'pods', '-n', ns, '-l', `app.kubernetes.io/instance=${instance}`, '-o', 'name']).split('\n')[0],
  );
/** An autoscaled XGBoost model from S3 (whose pods, with no kubelet, never load it). */
const CHURN = { model: { uri: 's3://models/churn/model.json' }, autoscaling: { maxReplicas: 4 } };

interface Kube {
  metadata: { name: string; namespace: string; uid: string; generation: number; ownerReferences?: { uid: string }[] };
  spec: { replicas?: number };
  status?: { observedGeneration?: number; replicas?: number };
}

const counted = async (o: OperatorProcess, family: RegExp) => Number(family.exec(await metricsOf(o))?.[1] ?? 0);
/** The successful reconciles an operator counted. */
const reconciles = (o: OperatorProcess) =>
  counted(o, /^controller_runtime_reconcile_total\{controller="scoringmodel",result="success"\} (\d+)/m);
/** Nothing in the operator's queue and no worker busy. */
const idle = async (o: OperatorProcess) => {
  const text = await metricsOf(o);
  return /^workqueue_depth\{[^}]*\} 0$/m.test(text) && /^controller_runtime_active_workers\{[^}]*\} 0$/m.test(text);
};

/**
 * What the controller-manager has still to do with the Deployments of `namespace` (of every namespace without one,
 * and then a namespace being deleted counts too): a spec it has not observed, a ReplicaSet whose pods are not all
 * made, counts not summed up yet. (No kubelet runs, so a rollout may wait for ever on pods that never become ready;
 * that is settled too: nothing changes any more.)
 */
const pending = (namespace?: string): string[] => {
  const where = namespace ? ['-n', namespace] : ['-A'];
  const replicaSets = getJson(['replicasets', ...where])!.items as Kube[];
  const deployments = (getJson(['deployments', ...where])!.items as Kube[]).flatMap((d) => {
    const mine = replicaSets.filter((rs) => rs.metadata.ownerReferences?.some((o) => o.uid === d.metadata.uid));
    const made = mine.reduce((n, rs) => n + (rs.status?.replicas ?? 0), 0);
    const unsettled =
      d.status?.observedGeneration !== d.metadata.generation ||
      mine.some(
        (rs) =>
          rs.status?.observedGeneration !== rs.metadata.generation ||
          (rs.status?.replicas ?? 0) !== (rs.spec.replicas ?? 0),
      ) ||
      (d.status?.replicas ?? 0) !== made;
    return unsettled ? [`${d.metadata.namespace}/${d.metadata.name}`] : [];
  });
  const terminating = namespace
    ? []
    : (getJson(['namespaces'])!.items as { metadata: { name: string }; status: { phase: string } }[])
        .filter((n) => n.status.phase === 'Terminating')
        .map((n) => `namespace ${n.metadata.name}`);
  return [...deployments, ...terminating];
};

let barriers = 0;
/** The ScoringModels settled() makes: their objects and events are named after them. */
const BARRIER = /^barrier-/;
/**
 * Until everything set off in the test's namespace so far has played out: the controller-manager has nothing left to
 * do there and the operator has handled all it did. The proof for the operator: a ScoringModel made after that is
 * reconciled (its queue hands keys out first in, first out), and then its queue is empty with no worker busy.
 * `each` runs at every look (a test sampling what it watches meanwhile).
 */
async function settled(each: () => void = () => {}): Promise<void> {
  const done = () => (each(), pending(ns).length === 0);
  await waitFor('the controller-manager to be done', done);
  const barrier = `barrier-${++barriers}`;
  apply(barrier, { model: { uri: 'identity' } });
  await waitFor('the operator to reconcile a later ScoringModel', () => (each(), status(barrier)?.observedGeneration));
  await waitFor('the controller-manager to be done again', done);
  await waitFor('the operator idle', async () => (each(), idle(op)));
}

/**
 * The access reviews the operator asks for when the tests scrape its /metrics: creates that the API server answers
 * and stores nothing of, so not writes.
 */
const REVIEWS = new Set(['tokenreviews', 'subjectaccessreviews']);

/** The writes the operator's ServiceAccount sent after `since` (audit log), but for Lease renewals and barriers. */
const operatorWritesSince = (since: Date) =>
  audit()
    .filter(
      (e) =>
        e.user.username === OPERATOR_USER &&
        new Date(e.stageTimestamp) > since &&
        e.objectRef?.resource !== 'leases' &&
        !REVIEWS.has(e.objectRef?.resource ?? '') &&
        !BARRIER.test(e.objectRef?.name ?? ''),
    )
    .map((e) => `${e.verb} ${e.objectRef?.resource} ${e.objectRef?.namespace}/${e.objectRef?.name}`);

describe('a ScoringModel applied', () => {
  it("runs one scorer worker per core of its CPU limit, and spec.env's WORKERS once it sets one", async () => {
    const workersOf = async (want: string) =>
      waitFor(`WORKERS=${want}`, () => {
        const env = deployment('cores')?.spec.template.spec.containers[0].env as { name: string; value: string }[];
        const named = env?.filter((e) => e.name === 'WORKERS');
        return named?.length === 1 && named[0]!.value === want ? named : undefined;
      });
    const spec = { model: { uri: 's3://models/cores/model.json' } };
    apply('cores', { ...spec, resources: { requests: { cpu: '1' }, limits: { cpu: '2500m' } } });
    await workersOf('3');
    apply('cores', { ...spec, resources: { limits: { cpu: '2500m' } }, env: [{ name: 'WORKERS', value: '1' }] });
    await workersOf('1');
    k(['delete', 'scoringmodel', 'cores', '-n', ns, '--wait=false']);
  });

  it('gets a Deployment, a Service and an HPA with labels, owner references and the env contract', async () => {
    apply('churn', CHURN);
    const d = await waitFor('the Deployment', () => deployment('churn'));
    const sm = getJson(['scoringmodel', 'churn', '-n', ns])!;
    expect(d.metadata.labels).toMatchObject({
      'app.kubernetes.io/name': 'scorer',
      'app.kubernetes.io/instance': 'churn',
      'app.kubernetes.io/managed-by': 'scoring-operator',
    });
    expect(d.metadata.ownerReferences).toEqual([
      {
        apiVersion: 'scoring.dev/v1alpha1',
        kind: 'ScoringModel',
        name: 'churn',
        uid: sm.metadata.uid,
        controller: true,
        blockOwnerDeletion: true,
      },
    ]);
    const env = Object.fromEntries(
      (d.spec.template.spec.containers[0].env as { name: string; value: string }[]).map((e) => [e.name, e.value]),
    );
    expect(env).toMatchObject({
      MODEL_URI: 's3://models/churn/model.json',
      MODEL_NAME: 'churn',
      PORT: '8080',
      GRPC_PORT: '8081',
      METRICS_PORT: '9090',
      WORKERS: '1',
    });
    expect(d.spec.template.spec.containers[0].image).toBe('scoring.dev/scorer:test');
    const svc = await waitFor('the Service', () => getJson(['service', 'churn', '-n', ns]));
    // The metrics port is the pods' alone: a LoadBalancer model does not publish its metrics.
    expect(d.spec.template.spec.containers[0].ports).toMatchObject([
      { name: 'http', containerPort: 8080 },
      { name: 'grpc', containerPort: 8081 },
      { name: 'metrics', containerPort: 9090 },
    ]);
    expect(svc.spec.ports).toMatchObject([
      { name: 'http', port: 80, targetPort: 'http' },
      { name: 'grpc', port: 8081, targetPort: 'grpc', appProtocol: 'grpc' },
    ]);
    const hpa = await waitFor('the HPA', () => getJson(['hpa', 'churn', '-n', ns]));
    expect(hpa.spec).toMatchObject({
      minReplicas: 1,
      maxReplicas: 4,
      scaleTargetRef: { kind: 'Deployment', name: 'churn' },
    });
  });

  it("sets every name spec.env may not set, so that the credentials' Secret cannot: its NODE_OPTIONS and ROUTING_URL are shadowed", async () => {
    k(
      ['create', 'secret', 'generic', 's3-keys', '-n', ns, '--from-literal=AWS_ACCESS_KEY_ID=minio'].concat(
        ['--from-literal=NODE_OPTIONS=--import=data:text/javascript,process.exit(7)'],
        ['--from-literal=ROUTING_URL=http://127.0.0.2:8082/routing/v1/elsewhere'],
      ),
    );
    apply('keyed', { model: { uri: 's3://models/keyed/model.json' }, credentials: { secretRef: { name: 's3-keys' } } });
    const d = await waitFor('the Deployment', () => deployment('keyed'));
    const container = d.spec.template.spec.containers[0];
    expect(container.envFrom).toEqual([{ secretRef: { name: 's3-keys' } }]);
    const env = container.env as { name: string; value?: string }[];
    const names = env.map((e) => e.name);
    expect(names).toEqual([...new Set(names)]);
    expect(names).toEqual(expect.arrayContaining([...OPERATOR_ONLY_ENV]));
    // As the kubelet resolves it: the Secret's keys first, then env, whose entries win (one without value is empty).
    const data = getJson(['secret', 's3-keys', '-n', ns])!.data as Record<string, string>;
    const resolved: Record<string, string> = {
      ...Object.fromEntries(Object.entries(data).map(([key, b64]) => [key, Buffer.from(b64, 'base64').toString()])),
      ...Object.fromEntries(env.map((e) => [e.name, e.value ?? ''])),
    };
    expect(resolved).toMatchObject({ AWS_ACCESS_KEY_ID: 'minio', NODE_OPTIONS: '', MODEL_SHA256: '', HOST: '' });
    expect(resolved.ROUTING_URL).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/routing\/v1\/[^/]+\/keyed\?uid=/);
    // The empty entries are stored as applied: reconciles with nothing to do write nothing.
    await waitFor('status', () => status('keyed')?.conditions);
    await settled();
    const since = new Date();
    const reconciled = await reconciles(op);
    for (const i of [1, 2]) {
      k(['annotate', 'sm', 'keyed', '-n', ns, `poke=${i}`, '--overwrite']);
      await waitFor('a reconcile', async () => (await reconciles(op)) > reconciled + i - 1);
    }
    await settled();
    expect(operatorWritesSince(since)).toEqual([]);
  });

  it('has a status with observedGeneration, the URL and conditions', async () => {
    apply('churn', CHURN);
    const s = await waitFor('status', () => status('churn')?.observedGeneration === 1 && status('churn'));
    expect(s).toMatchObject({
      url: `http://churn.${ns}.svc.cluster.local`,
      format: 'xgboost',
      selector: 'app.kubernetes.io/name=scorer,app.kubernetes.io/instance=churn',
      conditions: [
        { type: 'Ready', status: 'False', reason: 'Progressing' },
        { type: 'ModelLoaded', status: 'Unknown' },
        // No HPA controller runs here.
        { type: 'Autoscaling', status: 'Unknown', reason: 'Pending' },
        { type: 'Reconciling', status: 'True', reason: 'Progressing' },
      ],
    });
  });

  it('shows its printer columns in kubectl get, and kubectl explain describes the spec', async () => {
    apply('churn', CHURN);
    await waitFor('status', () => status('churn')?.observedGeneration === 1);
    const table = k(['get', 'sm', 'churn', '-n', ns]);
    expect(table.split('\n')[0]).toMatch(/^NAME\s+FORMAT\s+READY\s+URL\s+REASON\s+DRIFT\s+ROLLOUT\s+WEIGHT\s+AGE/);
    expect(table).toMatch(
      new RegExp(`churn\\s+xgboost\\s+0/1\\s+http://churn\\.${ns}\\.svc\\.cluster\\.local\\s+Progressing`),
    );
    // No spec.monitoring: an empty DRIFT, then the age.
    expect(table).toMatch(/^churn\s.*\sProgressing\s+\S+$/m);
    expect(k(['explain', 'scoringmodel.spec.model'])).toMatch(/Where the model is: s3:\/\/bucket\/key/);
  });

  it('records one event per condition transition, however often it reconciles', async () => {
    const names = ['fresh-0', 'fresh-1', 'fresh-2', 'fresh-3', 'fresh-4'];
    k(
      ['apply', '-f', '-'],
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'List',
        items: names.map((n) => JSON.parse(scoringModel(n, { model: { uri: 'identity' } }, ns))),
      }),
    );
    await waitFor('statuses', () => names.every((n) => status(n)?.conditions));
    await settled();
    for (const n of names) expect(eventsOf(n, ns)).toEqual(['Normal ModelLoaded=Loading', 'Normal Ready=Progressing']);
  });
});

describe('defaults', () => {
  it('applies the defaults', () => {
    apply('defaults', { model: { uri: 'identity' } });
    expect(getJson(['sm', 'defaults', '-n', ns])!.spec).toEqual({
      model: { uri: 'identity' },
      replicas: 1,
      resources: { requests: { cpu: '100m', memory: '256Mi' }, limits: { memory: '1Gi' } },
      service: { type: 'ClusterIP', port: 80 },
    });
  });
});

describe('updates', () => {
  const IRIS = { model: { uri: 'https://models.example.com/iris.onnx' }, replicas: 2 };

  it('children follow spec changes: uri, replicas, resources', async () => {
    apply('iris', IRIS);
    await waitFor('the Deployment', () => deployment('iris')?.spec.replicas === 2);
    apply('iris', {
      model: { uri: 'https://models.example.com/iris-v2.onnx' },
      replicas: 3,
      resources: { requests: { cpu: '200m' }, limits: { memory: '300Mi' } },
    });
    const d = (await waitFor('the new spec', () => {
      const x = deployment('iris');
      return x?.spec.replicas === 3 && x;
      // eslint-disable-next-line @typescript-eslint/no-explicit-any -- kubectl JSON
    })) as Record<string, any>;
    const c = d.spec.template.spec.containers[0];
    expect(c.env.find((e: { name: string }) => e.name === 'MODEL_URI').value).toBe(
      'https://models.example.com/iris-v2.onnx',
    );
    // kubectl apply merges into what the API server defaulted before (requests.memory stays): the Deployment follows
    // the ScoringModel as stored.
    expect(c.resources).toEqual(getJson(['sm', 'iris', '-n', ns])!.spec.resources);
    expect(c.resources).toMatchObject({ requests: { cpu: '200m' }, limits: { memory: '300Mi' } });
  });

  it('kubectl scale changes replicas through the scale subresource', async () => {
    apply('iris', IRIS);
    await waitFor('the Deployment', () => deployment('iris')?.spec.replicas === 2);
    k(['scale', 'sm', 'iris', '-n', ns, '--replicas=5']);
    await waitFor('5 replicas', () => deployment('iris')?.spec.replicas === 5);
  });

  it('turning autoscaling on makes an HPA and hands it the replica count; turning it off deletes the HPA', async () => {
    apply('iris', IRIS);
    await waitFor('the Deployment', () => deployment('iris'));
    const autoscaling = { spec: { autoscaling: { minReplicas: 2, maxReplicas: 6 } } };
    k(['patch', 'sm', 'iris', '-n', ns, '--type=merge', '-p', JSON.stringify(autoscaling)]);
    await waitFor('the HPA', () => getJson(['hpa', 'iris', '-n', ns]));
    k(['patch', 'sm', 'iris', '-n', ns, '--type=json', '-p', '[{"op": "remove", "path": "/spec/autoscaling"}]']);
    await waitFor('the HPA gone', () => getJson(['hpa', 'iris', '-n', ns]) === undefined);
  });

  it('hands spec.replicas to the HPA without a drop when autoscaling is added to a running model', async () => {
    const uri = (v: string) => ({ model: { uri: `https://models.example.com/${v}.onnx` } });
    apply('handover', { ...uri('a'), replicas: 3 });
    await waitFor('3 replicas', () => deployment('handover')?.spec.replicas === 3);
    const seen: number[] = [];
    const sample = () => seen.push(deployment('handover')!.spec.replicas as number);
    const autoscaling = { spec: { autoscaling: { minReplicas: 2, maxReplicas: 5 } } };
    k(['patch', 'sm', 'handover', '-n', ns, '--type=merge', '-p', JSON.stringify(autoscaling)]);
    sample();
    await waitFor('the HPA', () => (sample(), getJson(['hpa', 'handover', '-n', ns])));
    // The next apply of the Deployment (a new pod template) is the one that would drop replicas the operator kept.
    k(['patch', 'sm', 'handover', '-n', ns, '--type=merge', '-p', JSON.stringify({ spec: uri('b') })]);
    await waitFor('the new template', () => {
      sample();
      return JSON.stringify(deployment('handover')!.spec.template).includes('/b.onnx');
    });
    // Until the rollout of the new template has played out, and the operator has seen all of it.
    await settled(sample);
    sample();
    // No HPA controller runs here: nothing but a lost field would change the count.
    expect(new Set(seen)).toEqual(new Set([3]));
  });

  it('writes nothing more for quantities the API server canonicalised (cpu "0.5", memory "1024Mi")', async () => {
    apply('quantities', {
      model: { uri: 'identity' },
      resources: { requests: { cpu: '0.5', memory: '1024Mi' }, limits: { memory: '1024Mi' } },
    });
    const d = await waitFor('the Deployment', () => deployment('quantities'));
    expect(d.spec.template.spec.containers[0].resources).toEqual({
      requests: { cpu: '500m', memory: '1Gi' },
      limits: { memory: '1Gi' },
    });
    await waitFor('status', () => status('quantities')?.conditions);
    await settled();
    const since = new Date();
    const reconciled = await reconciles(op);
    // An annotation changes no generation: the reconcile it sets off is one with nothing to do, like a resync.
    for (const i of [1, 2, 3]) {
      k(['annotate', 'sm', 'quantities', '-n', ns, `poke=${i}`, '--overwrite']);
      await waitFor('a reconcile', async () => (await reconciles(op)) > reconciled + i - 1);
    }
    await settled();
    expect(operatorWritesSince(since)).toEqual([]);
  });

  it('deletes an HPA it found in its initial list (no kind there) when autoscaling is removed', async () => {
    apply('relisted', { model: { uri: 'identity' }, autoscaling: { maxReplicas: 3 } });
    await waitFor('the HPA', () => getJson(['hpa', 'relisted', '-n', ns]));
    // A new operator knows the HPA from its list only, until the HPA changes.
    await replaceOp('operator-relisted');
    k(['patch', 'sm', 'relisted', '-n', ns, '--type=json', '-p', '[{"op": "remove", "path": "/spec/autoscaling"}]']);
    await waitFor('the HPA gone', () => getJson(['hpa', 'relisted', '-n', ns]) === undefined);
  });
});

describe('drift', () => {
  it('restores a Deployment whose image someone edited', async () => {
    apply('churn', CHURN);
    await waitFor('the Deployment', () => deployment('churn'));
    k(['set', 'image', 'deployment/churn', '-n', ns, 'scorer=someone/else:1']);
    await waitFor(
      'the image restored',
      () => deployment('churn')?.spec.template.spec.containers[0].image === 'scoring.dev/scorer:test',
    );
  });

  it('recreates a Service someone deleted', async () => {
    apply('churn', CHURN);
    const before = (await waitFor('the Service', () => getJson(['service', 'churn', '-n', ns]))).metadata.uid;
    k(['delete', 'service', 'churn', '-n', ns, '--wait=true']);
    const after = await waitFor('a new Service', () => getJson(['service', 'churn', '-n', ns]));
    expect(after.metadata.uid).not.toBe(before);
  });
});

describe('status from the world', () => {
  it('Ready follows the pods: a ready scorer pod makes the ScoringModel Ready and Available', async () => {
    apply('defaults', { model: { uri: 'identity' } });
    // No kubelet: the test marks the pod ready; the real ReplicaSet and Deployment controllers count it.
    const pod = await scorerPod('defaults');
    setPodStatus(pod, readyPodStatus(), ns);
    await waitFor('Ready=True', () => readyCondition('defaults')?.status === 'True');
    await waitFor('the events of the transition', () => eventsOf('defaults', ns).length >= 4);
    await settled();
    expect(eventsOf('defaults', ns)).toEqual([
      'Normal ModelLoaded=Loaded',
      'Normal ModelLoaded=Loading',
      'Normal Ready=Available',
      'Normal Ready=Progressing',
    ]);
    expect(status('defaults')).toMatchObject({ readyReplicas: 1, ready: '1/1' });
    expect(status('defaults').conditions[1]).toMatchObject({ type: 'ModelLoaded', status: 'True', reason: 'Loaded' });
    expect(k(['get', 'sm', 'defaults', '-n', ns])).toMatch(/defaults\s+identity\s+1\/1\s+\S+\s+Available/);
  });

  it('a scorer pod that cannot load its model makes ModelLoadFailed with its termination message', async () => {
    apply('churn', CHURN);
    const pod = await scorerPod('churn');
    const message = 'cannot load model s3://models/churn/model.json: no object "churn/model.json" in bucket "models"';
    setPodStatus(pod, crashedPodStatus(message), ns);
    await waitFor('ModelLoadFailed', () => readyCondition('churn')?.reason === 'ModelLoadFailed');
    expect(status('churn').conditions).toMatchObject([
      { type: 'Ready', status: 'False', reason: 'ModelLoadFailed', message },
      { type: 'ModelLoaded', status: 'False', reason: 'ModelLoadFailed', message },
      { type: 'Autoscaling', status: 'Unknown' },
      { type: 'Stalled', status: 'True', reason: 'ModelLoadFailed', message },
    ]);
    expect(k(['get', 'sm', 'churn', '-n', ns])).toMatch(/churn\s+xgboost\s+0\/1\s+\S+\s+ModelLoadFailed/);
    const described = k(['describe', 'sm', 'churn', '-n', ns]);
    expect(described).toContain(`Warning  ModelLoadFailed`);
    expect(described).toContain(message);
  });
});

describe('quiet', () => {
  const RESYNC_SECONDS = 10;

  it('writes nothing in two resyncs of every model after convergence (counted from the audit log and its own metrics)', async () => {
    // A resync reconciles every ScoringModel it knows: a short period makes the passes the events to wait for.
    await replaceOp('operator-quiet', { RESYNC_SECONDS: String(RESYNC_SECONDS) });
    try {
      // Models in each state the others reach: progressing, autoscaled, Available, ModelLoadFailed.
      apply('progressing', { model: { uri: 'identity' } });
      apply('autoscaled', CHURN);
      apply('available', { model: { uri: 'identity' } });
      apply('failing', { model: { uri: 's3://models/missing/model.json' } });
      setPodStatus(await scorerPod('available'), readyPodStatus(), ns);
      const missing =
        'cannot load model s3://models/missing/model.json: no object "missing/model.json" in bucket "models"';
      setPodStatus(await scorerPod('failing'), crashedPodStatus(missing), ns);
      await waitFor('Available', () => readyCondition('available')?.reason === 'Available');
      await waitFor('ModelLoadFailed', () => readyCondition('failing')?.reason === 'ModelLoadFailed');
      const models = () => (getJson(['sm', '-A'])!.items as unknown[]).length;
      /** Until every ScoringModel has been reconciled once more than now (a resync pass), and the queue is empty. */
      const aPass = async () => {
        const from = await reconciles(op);
        const n = models();
        await waitFor('a resync pass', async () => (await reconciles(op)) >= from + n, 3 * RESYNC_SECONDS * 1000);
        await waitFor('the operator idle', () => idle(op));
      };
      // Converged: the controller-manager done everywhere, and then a whole pass in which the operator caught up.
      await waitFor('the controller-manager to be done', () => pending().length === 0, 60_000);
      await aPass();
      expect(pending()).toEqual([]);
      const since = new Date();
      const before = await writes(op);
      await aPass();
      await aPass();
      const until = new Date();
      expect(await writes(op)).toBe(before);
      // The window is wholly in the log once an entry after it is (Lease renewals come every few seconds).
      await waitFor('the audit log past the window', () => audit().some((e) => new Date(e.stageTimestamp) > until));
      const operatorWrites = audit().filter(
        (e) =>
          e.user.username === OPERATOR_USER &&
          new Date(e.stageTimestamp) > since &&
          new Date(e.stageTimestamp) <= until &&
          e.objectRef?.resource !== 'leases' &&
          !REVIEWS.has(e.objectRef?.resource ?? ''),
      );
      expect(operatorWrites).toEqual([]);
    } finally {
      await replaceOp('operator-main-again');
    }
  }, 180_000);
});

describe('deletion', () => {
  it("a deleted ScoringModel's children are garbage-collected by the controller-manager", async () => {
    apply('churn', CHURN);
    await waitFor('the children', () =>
      ['deployment', 'service', 'hpa'].every((kind) => getJson([kind, 'churn', '-n', ns]) !== undefined),
    );
    k(['delete', 'sm', 'churn', '-n', ns, '--wait=true']);
    await waitFor('children gone', () =>
      ['deployment', 'service', 'hpa'].every((kind) => getJson([kind, 'churn', '-n', ns]) === undefined),
    );
  });
});

describe('resilience', () => {
  it('recovers from a kube-apiserver restart without restarting itself', async () => {
    apiserverRestart.from = Date.now();
    await restartApiserver(DIR);
    await waitForAuthorizer(120_000);
    apiserverRestart.to = Date.now();
    apply('after-restart', { model: { uri: 'identity' } });
    await waitFor('children after the restart', () => deployment('after-restart'), 120_000);
    expect(op.child.exitCode).toBeNull();
  });
});

describe("the operator's /metrics", () => {
  itWithPromtool(
    'passes promtool check metrics once it has reconciled, and counts the reconciles and writes',
    async (promtool) => {
      apply('scraped', { model: { uri: 'identity' } });
      await waitFor('the status', () => status('scraped')?.observedGeneration === 1);
      const text = await metricsOf(op);
      expect(checkMetrics(promtool, text)).toEqual({ status: 0, output: '' });
      expect(await reconciles(op)).toBeGreaterThan(0);
      expect(text).toMatch(
        /^scoring_operator_api_writes_total\{verb="apply",kind="Deployment",result="success"\} [1-9]/m,
      );
      expect(text).toMatch(/^workqueue_adds_total\{name="scoringmodel",controller="scoringmodel"\} [1-9]/m);
    },
  );
});

describe('restarts and replicas', () => {
  /** A List of `n` ScoringModels m0, m1, ... in the test's namespace. */
  const batch = (n: number) =>
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'List',
      items: Array.from({ length: n }, (_, i) =>
        JSON.parse(scoringModel(`m${i}`, { model: { uri: `https://m/${i}.onnx` } }, ns)),
      ),
    });
  const converged = (n: number) => {
    const sms = getJson(['sm', '-n', ns])!.items as { status?: { observedGeneration?: number; url?: string } }[];
    return sms.length === n && sms.every((s) => s.status?.observedGeneration === 1 && s.status.url);
  };

  it('killed mid-way through a batch of 50 ScoringModels, a new operator converges with no duplicate or orphan', async () => {
    // Killed once it has applied a few Deployments: watched through its metrics, which answer in a millisecond.
    const deploymentApplies = () =>
      counted(op, /^scoring_operator_api_writes_total\{verb="apply",kind="Deployment",result="success"\} (\d+)/m);
    const before = await deploymentApplies();
    k(['apply', '-f', '-'], batch(50));
    await waitFor('a few Deployments applied', async () => (await deploymentApplies()) >= before + 5, 60_000, 10);
    await op.stop('SIGKILL');
    // Else the test would prove nothing about a restart mid-way.
    const convergedAtKill = (getJson(['sm', '-n', ns])!.items as { status?: { url?: string } }[]).filter(
      (s) => s.status?.url,
    ).length;
    expect(convergedAtKill).toBeLessThan(50);
    // It leads once the Lease the killed one held has expired.
    op = await startOp('operator-restarted');
    await waitFor('every model converged', () => converged(50), 120_000);
    const uids = new Set(
      (getJson(['sm', '-n', ns])!.items as { metadata: { uid: string } }[]).map((s) => s.metadata.uid),
    );
    for (const kind of ['deployments', 'services']) {
      const items = getJson([kind, '-n', ns])!.items as {
        metadata: { name: string; ownerReferences: { uid: string }[] };
      }[];
      expect(items).toHaveLength(50);
      expect(
        items.every((o) => o.metadata.ownerReferences.length === 1 && uids.has(o.metadata.ownerReferences[0]!.uid)),
      ).toBe(true);
    }
  });

  it('makes its API calls over a few pooled connections, not one per call', async () => {
    // Some 250 writes for a batch of 50, and watches on five kinds. client-node 2.0.1 alone opens a TLS connection per
    // call and keeps it (operator/kubeconfig.ts).
    k(['apply', '-f', '-'], batch(50));
    await waitFor('every model converged', () => converged(50), 120_000);
    const apiPort = Number(new URL(/server: (\S+)/.exec(readFileSync(kubeconfig, 'utf8'))![1]!).port);
    expect(establishedTcp(op.child.pid!, apiPort)).toBeLessThanOrEqual(20);
  });

  it('of two replicas exactly one reconciles; the other takes over when the first stops', async () => {
    const leader = op;
    await leading(leader);
    const standby = await startOp('operator-standby');
    try {
      const leaderBefore = await reconciles(leader);
      apply('two-replicas', { model: { uri: 'identity' } });
      await waitFor('children from the leader', () => deployment('two-replicas'));
      // A reconcile is counted once it has finished: after its children, it still writes status and events.
      await waitFor('the leader to count the reconcile', async () => (await reconciles(leader)) > leaderBefore);
      expect(await reconciles(standby)).toBe(0);
      expect(getJson(['lease', 'scoring-operator-leader', '-n', 'scoring-system'])!.spec.holderIdentity).toBe(
        leader.identity,
      );

      // A clean stop releases the Lease: the standby leads within a retry period, not a whole lease duration.
      await leader.stop('SIGTERM');
      op = standby;
      await waitFor(
        'the standby leading',
        async () =>
          getJson(['lease', 'scoring-operator-leader', '-n', 'scoring-system'])!.spec.holderIdentity ===
          'operator-standby',
        15_000,
      );
      apply('after-takeover', { model: { uri: 'identity' } });
      await waitFor('children from the new leader', () => deployment('after-takeover'));
      // Counted once the reconcile has finished, which is after the Deployment it made is visible.
      await waitFor('the new leader to count the reconcile', async () => (await reconciles(standby)) > 0);
    } finally {
      if (op === leader) await standby.stop();
    }
  });
});
