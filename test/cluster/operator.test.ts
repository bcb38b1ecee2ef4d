/**
 * The operator against a real kube-apiserver and kube-controller-manager, authenticated as its own ServiceAccount
 * bound to the project's ClusterRole: a missing verb shows as a failure here, and the operator's logs must hold no
 * "forbidden". No kubelet runs: Deployment and pod status are written by the test through the status subresource.
 */
import { readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { restartApiserver } from '../../harness/controlplane.js';
import {
  audit,
  DIR,
  getJson,
  installOperatorPrerequisites,
  k,
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

async function startOp(identity: string): Promise<OperatorProcess> {
  const started = await startOperator(kubeconfig, { POD_NAME: identity });
  operators.push(started);
  return started;
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

/** The first scorer pod of a ScoringModel (made by the real ReplicaSet controller). */
const scorerPod = (instance: string) =>
  waitFor(
    'a scorer pod',
    () => k(['get', 'pods', '-l', `app.kubernetes.io/instance=${instance}`, '-o', 'name']).split('\n')[0],
  );
const deployment = (name: string, ns = 'default') => getJson(['deployment', name, '-n', ns]);
const status = (name: string, ns = 'default') => getJson(['scoringmodel', name, '-n', ns])?.status;
const readyCondition = (name: string) =>
  (status(name)?.conditions as { type: string; status: string; reason: string; message: string }[] | undefined)?.find(
    (c) => c.type === 'Ready',
  );

/** The operator's events about a ScoringModel, as `Condition=Reason`, sorted (two can share a microsecond). */
const eventsOf = (name: string, ns = 'default') =>
  (
    getJson(['events.events.k8s.io', '-n', ns])!.items as {
      regarding: { kind: string; name: string };
      action: string;
      reason: string;
    }[]
  )
    .filter((e) => e.regarding.kind === 'ScoringModel' && e.regarding.name === name)
    .map((e) => `${e.action}=${e.reason}`)
    .sort();

interface Kube {
  metadata: { name: string; namespace: string; uid: string; generation: number; ownerReferences?: { uid: string }[] };
  spec: { replicas?: number };
  status?: { observedGeneration?: number; replicas?: number };
}

/** The successful reconciles an operator counted. */
const reconciles = async (o: OperatorProcess) =>
  Number(
    /^controller_runtime_reconcile_total\{controller="scoringmodel",result="success"\} (\d+)/m.exec(
      await (await fetch(o.metricsUrl)).text(),
    )?.[1] ?? 0,
  );
/** Until the operator has sent nothing for `quietMs`. */
const settled = async (quietMs = 2000) => {
  let last = await writes(op);
  await waitFor('the operator to settle', async () => {
    await new Promise((r) => setTimeout(r, quietMs));
    const now = await writes(op);
    const same = now === last;
    last = now;
    return same;
  });
};

describe('a ScoringModel applied', () => {
  beforeAll(() => {
    k(
      ['apply', '-f', '-'],
      scoringModel('churn', { model: { uri: 's3://models/churn/model.json' }, autoscaling: { maxReplicas: 4 } }),
    );
  });

  it('gets a Deployment, a Service and an HPA with labels, owner references and the env contract', async () => {
    const d = await waitFor('the Deployment', () => deployment('churn'));
    const sm = getJson(['scoringmodel', 'churn'])!;
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
    expect(env).toMatchObject({ MODEL_URI: 's3://models/churn/model.json', MODEL_NAME: 'churn', PORT: '8080' });
    expect(d.spec.template.spec.containers[0].image).toBe('scoring.dev/scorer:test');
    const svc = await waitFor('the Service', () => getJson(['service', 'churn']));
    expect(svc.spec.ports).toMatchObject([{ name: 'http', port: 80, targetPort: 'http' }]);
    const hpa = await waitFor('the HPA', () => getJson(['hpa', 'churn']));
    expect(hpa.spec).toMatchObject({
      minReplicas: 1,
      maxReplicas: 4,
      scaleTargetRef: { kind: 'Deployment', name: 'churn' },
    });
  });

  it('has a status with observedGeneration, the URL and conditions', async () => {
    const s = await waitFor('status', () => status('churn')?.observedGeneration === 1 && status('churn'));
    expect(s).toMatchObject({
      url: 'http://churn.default.svc.cluster.local',
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
    const table = k(['get', 'sm', 'churn']);
    expect(table.split('\n')[0]).toMatch(/^NAME\s+FORMAT\s+READY\s+URL\s+REASON\s+DRIFT\s+AGE/);
    expect(table).toMatch(/churn\s+xgboost\s+0\/1\s+http:\/\/churn\.default\.svc\.cluster\.local\s+Progressing/);
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
        items: names.map((n) => JSON.parse(scoringModel(n, { model: { uri: 'identity' } }))),
      }),
    );
    await waitFor('statuses', () => names.every((n) => status(n)?.conditions));
    await settled();
    for (const n of names) expect(eventsOf(n)).toEqual(['ModelLoaded=Loading', 'Ready=Progressing']);
  });
});

describe('defaults', () => {
  it('applies the defaults', () => {
    k(['apply', '-f', '-'], scoringModel('defaults', { model: { uri: 'identity' } }));
    expect(getJson(['sm', 'defaults'])!.spec).toEqual({
      model: { uri: 'identity' },
      replicas: 1,
      resources: { requests: { cpu: '100m', memory: '256Mi' }, limits: { memory: '1Gi' } },
      service: { type: 'ClusterIP', port: 80 },
    });
  });
});

describe('updates', () => {
  beforeAll(() => {
    k(
      ['apply', '-f', '-'],
      scoringModel('iris', { model: { uri: 'https://models.example.com/iris.onnx' }, replicas: 2 }),
    );
  });

  it('children follow spec changes: uri, replicas, resources', async () => {
    await waitFor('the Deployment', () => deployment('iris')?.spec.replicas === 2);
    k(
      ['apply', '-f', '-'],
      scoringModel('iris', {
        model: { uri: 'https://models.example.com/iris-v2.onnx' },
        replicas: 3,
        resources: { requests: { cpu: '200m' }, limits: { memory: '300Mi' } },
      }),
    );
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
    expect(c.resources).toEqual(getJson(['sm', 'iris'])!.spec.resources);
    expect(c.resources).toMatchObject({ requests: { cpu: '200m' }, limits: { memory: '300Mi' } });
  });

  it('kubectl scale changes replicas through the scale subresource', async () => {
    k(['scale', 'sm', 'iris', '--replicas=5']);
    await waitFor('5 replicas', () => deployment('iris')?.spec.replicas === 5);
  });

  it('turning autoscaling on makes an HPA and hands it the replica count; turning it off deletes the HPA', async () => {
    k([
      'patch',
      'sm',
      'iris',
      '--type=merge',
      '-p',
      JSON.stringify({ spec: { autoscaling: { minReplicas: 2, maxReplicas: 6 } } }),
    ]);
    await waitFor('the HPA', () => getJson(['hpa', 'iris']));
    k(['patch', 'sm', 'iris', '--type=json', '-p', '[{"op": "remove", "path": "/spec/autoscaling"}]']);
    await waitFor('the HPA gone', () => getJson(['hpa', 'iris']) === undefined);
  });

  it('hands spec.replicas to the HPA without a drop when autoscaling is added to a running model', async () => {
    const uri = (v: string) => ({ model: { uri: `https://models.example.com/${v}.onnx` } });
    k(['apply', '-f', '-'], scoringModel('handover', { ...uri('a'), replicas: 3 }));
    await waitFor('3 replicas', () => deployment('handover')?.spec.replicas === 3);
    const seen: number[] = [];
    const sample = () => seen.push(deployment('handover')!.spec.replicas as number);
    k([
      'patch',
      'sm',
      'handover',
      '--type=merge',
      '-p',
      '{"spec": {"autoscaling": {"minReplicas": 2, "maxReplicas": 5}}}',
    ]);
    sample();
    await waitFor('the HPA', () => (sample(), getJson(['hpa', 'handover'])));
    // The next apply of the Deployment (a new pod template) is the one that would drop replicas the operator kept.
    k(['patch', 'sm', 'handover', '--type=merge', '-p', JSON.stringify({ spec: uri('b') })]);
    await waitFor('the new template', () => {
      sample();
      return JSON.stringify(deployment('handover')!.spec.template).includes('/b.onnx');
    });
    for (const _ of [1, 2, 3, 4, 5]) {
      await new Promise((r) => setTimeout(r, 500));
      sample();
    }
    // No HPA controller runs here: nothing but a lost field would change the count.
    expect(new Set(seen)).toEqual(new Set([3]));
  });

  it('writes nothing more for quantities the API server canonicalised (cpu "0.5", memory "1024Mi")', async () => {
    k(
      ['apply', '-f', '-'],
      scoringModel('quantities', {
        model: { uri: 'identity' },
        resources: { requests: { cpu: '0.5', memory: '1024Mi' }, limits: { memory: '1024Mi' } },
      }),
    );
    const d = await waitFor('the Deployment', () => deployment('quantities'));
    expect(d.spec.template.spec.containers[0].resources).toEqual({
      requests: { cpu: '500m', memory: '1Gi' },
      limits: { memory: '1Gi' },
    });
    await waitFor('status', () => status('quantities')?.conditions);
    await settled();
    const before = await writes(op);
    const reconciled = await reconciles(op);
    // An annotation changes no generation: the reconcile it sets off is one with nothing to do, like a resync.
    for (const i of [1, 2, 3]) {
      k(['annotate', 'sm', 'quantities', `poke=${i}`, '--overwrite']);
      await waitFor('a reconcile', async () => (await reconciles(op)) > reconciled + i - 1);
    }
    await settled();
    expect(await writes(op)).toBe(before);
  });

  it('deletes an HPA it found in its initial list (no kind there) when autoscaling is removed', async () => {
    k(['apply', '-f', '-'], scoringModel('relisted', { model: { uri: 'identity' }, autoscaling: { maxReplicas: 3 } }));
    await waitFor('the HPA', () => getJson(['hpa', 'relisted']));
    // A new operator knows the HPA from its list only, until the HPA changes.
    await op.stop();
    op = await startOp('operator-relisted');
    k(['patch', 'sm', 'relisted', '--type=json', '-p', '[{"op": "remove", "path": "/spec/autoscaling"}]']);
    await waitFor('the HPA gone', () => getJson(['hpa', 'relisted']) === undefined);
  });
});

describe('drift', () => {
  it('restores a Deployment whose image someone edited', async () => {
    await waitFor('the Deployment', () => deployment('churn'));
    k(['set', 'image', 'deployment/churn', 'scorer=someone/else:1']);
    await waitFor(
      'the image restored',
      () => deployment('churn')?.spec.template.spec.containers[0].image === 'scoring.dev/scorer:test',
    );
  });

  it('recreates a Service someone deleted', async () => {
    const before = getJson(['service', 'churn'])!.metadata.uid;
    k(['delete', 'service', 'churn', '--wait=true']);
    const after = await waitFor('a new Service', () => getJson(['service', 'churn']));
    expect(after.metadata.uid).not.toBe(before);
  });
});

describe('status from the world', () => {
  it('Ready follows the pods: a ready scorer pod makes the ScoringModel Ready and Available', async () => {
    // No kubelet: the test marks the pod ready; the real ReplicaSet and Deployment controllers count it.
    const pod = await scorerPod('defaults');
    setPodStatus(pod, readyPodStatus());
    await waitFor('Ready=True', () => readyCondition('defaults')?.status === 'True');
    await waitFor('the events of the transition', () => eventsOf('defaults').length >= 4);
    await settled();
    expect(eventsOf('defaults')).toEqual([
      'ModelLoaded=Loaded',
      'ModelLoaded=Loading',
      'Ready=Available',
      'Ready=Progressing',
    ]);
    expect(status('defaults')).toMatchObject({ readyReplicas: 1, ready: '1/1' });
    expect(status('defaults').conditions[1]).toMatchObject({ type: 'ModelLoaded', status: 'True', reason: 'Loaded' });
    expect(k(['get', 'sm', 'defaults'])).toMatch(/defaults\s+identity\s+1\/1\s+\S+\s+Available/);
  });

  it('a scorer pod that cannot load its model makes ModelLoadFailed with its termination message', async () => {
    const pod = await scorerPod('churn');
    const message = 'cannot load model s3://models/churn/model.json: no object "churn/model.json" in bucket "models"';
    setPodStatus(pod, {
      containerStatuses: [
        {
          name: 'scorer',
          image: 'scoring.dev/scorer:test',
          imageID: '',
          ready: false,
          restartCount: 3,
          state: { waiting: { reason: 'CrashLoopBackOff' } },
          lastState: { terminated: { exitCode: 1, reason: 'Error', message: `${message}\n` } },
        },
      ],
    });
    await waitFor('ModelLoadFailed', () => readyCondition('churn')?.reason === 'ModelLoadFailed');
    expect(status('churn').conditions).toMatchObject([
      { type: 'Ready', status: 'False', reason: 'ModelLoadFailed', message },
      { type: 'ModelLoaded', status: 'False', reason: 'ModelLoadFailed', message },
      { type: 'Autoscaling', status: 'Unknown' },
      { type: 'Stalled', status: 'True', reason: 'ModelLoadFailed', message },
    ]);
    expect(k(['get', 'sm', 'churn'])).toMatch(/churn\s+xgboost\s+0\/1\s+\S+\s+ModelLoadFailed/);
    const described = k(['describe', 'sm', 'churn']);
    expect(described).toContain(`Warning  ModelLoadFailed`);
    expect(described).toContain(message);
  });
});

describe('quiet', () => {
  const CONVERGE_MS = 60_000;
  const QUIET_MS = 60_000;
  /**
   * What the controller-manager has still to do with the Deployments: a spec it has not observed, a ReplicaSet
   * whose pods are not all made, counts not summed up yet. (No kubelet runs, so a rollout may wait for ever on
   * pods that never become ready; that is settled too: nothing changes any more.)
   */
  const pending = (): string[] => {
    const replicaSets = getJson(['replicasets', '-A'])!.items as Kube[];
    return (getJson(['deployments', '-A'])!.items as Kube[]).flatMap((d) => {
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
  };

  it(
    'writes nothing during a quiet minute after convergence (counted from the audit log and its own metrics)',
    async () => {
      // Converged: no operator write and nothing pending in the controller-manager, twice 3 s apart.
      let last = -1;
      await waitFor(
        'convergence',
        async () => {
          await new Promise((r) => setTimeout(r, 3000));
          const now = await writes(op);
          const converged = now === last && pending().length === 0;
          last = now;
          return converged;
        },
        CONVERGE_MS,
      );
      const since = new Date();
      await new Promise((r) => setTimeout(r, QUIET_MS));
      const until = new Date();
      expect(await writes(op)).toBe(last);
      // The window is wholly in the log once an entry after it is (Lease renewals come every few seconds).
      await waitFor('the audit log past the window', () => audit().some((e) => new Date(e.stageTimestamp) > until));
      const operatorWrites = audit().filter(
        (e) =>
          e.user.username === OPERATOR_USER &&
          new Date(e.stageTimestamp) > since &&
          new Date(e.stageTimestamp) <= until &&
          e.objectRef?.resource !== 'leases',
      );
      expect(operatorWrites).toEqual([]);
    },
    CONVERGE_MS + QUIET_MS + 30_000,
  );
});

describe('deletion', () => {
  it("a deleted ScoringModel's children are garbage-collected by the controller-manager", async () => {
    await waitFor('the HPA', () => getJson(['hpa', 'churn']));
    k(['delete', 'sm', 'churn', '--wait=true']);
    await waitFor('children gone', () =>
      ['deployment', 'service', 'hpa'].every((kind) => getJson([kind, 'churn']) === undefined),
    );
  });
});

describe('resilience', () => {
  it('recovers from a kube-apiserver restart without restarting itself', async () => {
    apiserverRestart.from = Date.now();
    await restartApiserver(DIR);
    await waitForAuthorizer(120_000);
    apiserverRestart.to = Date.now();
    k(['apply', '-f', '-'], scoringModel('after-restart', { model: { uri: 'identity' } }));
    await waitFor('children after the restart', () => deployment('after-restart'), 120_000);
    expect(op.child.exitCode).toBeNull();
  });
});

describe("the operator's /metrics", () => {
  itWithPromtool(
    'passes promtool check metrics once it has reconciled, and counts the reconciles and writes',
    async (promtool) => {
      k(['create', 'namespace', 'metrics']);
      k(['apply', '-f', '-'], scoringModel('scraped', { model: { uri: 'identity' } }, 'metrics'));
      await waitFor('the status', () => status('scraped', 'metrics')?.observedGeneration === 1);
      const text = await (await fetch(op.metricsUrl)).text();
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
  it('killed mid-way through a batch of 50 ScoringModels, a new operator converges with no duplicate or orphan', async () => {
    k(['create', 'namespace', 'batch']);
    const batch = Array.from({ length: 50 }, (_, i) =>
      scoringModel(`m${i}`, { model: { uri: `https://m/${i}.onnx` } }, 'batch'),
    );
    // Killed once it has applied a few Deployments: watched through its metrics, which answer in a millisecond.
    const deploymentApplies = async () =>
      Number(
        /^scoring_operator_api_writes_total\{verb="apply",kind="Deployment",result="success"\} (\d+)/m.exec(
          await (await fetch(op.metricsUrl)).text(),
        )?.[1] ?? 0,
      );
    const before = await deploymentApplies();
    k(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: batch.map((b) => JSON.parse(b)) }));
    while ((await deploymentApplies()) < before + 5) await new Promise((r) => setTimeout(r, 10));
    await op.stop('SIGKILL');
    // Else the test would prove nothing about a restart mid-way.
    const convergedAtKill = (getJson(['sm', '-n', 'batch'])!.items as { status?: { url?: string } }[]).filter(
      (s) => s.status?.url,
    ).length;
    expect(convergedAtKill).toBeLessThan(50);
    op = await startOp('operator-restarted');
    await waitFor(
      'every model converged',
      () => {
        const sms = getJson(['sm', '-n', 'batch'])!.items as {
          status?: { observedGeneration?: number; url?: string };
        }[];
        return sms.length === 50 && sms.every((s) => s.status?.observedGeneration === 1 && s.status.url);
      },
      120_000,
    );
    const uids = new Set(
      (getJson(['sm', '-n', 'batch'])!.items as { metadata: { uid: string } }[]).map((s) => s.metadata.uid),
    );
    for (const kind of ['deployments', 'services']) {
      const items = getJson([kind, '-n', 'batch'])!.items as {
        metadata: { name: string; ownerReferences: { uid: string }[] };
      }[];
      expect(items).toHaveLength(50);
      expect(
        items.every((o) => o.metadata.ownerReferences.length === 1 && uids.has(o.metadata.ownerReferences[0]!.uid)),
      ).toBe(true);
    }
  });

  it('makes its API calls over a few pooled connections, not one per call', () => {
    // The restarted operator has just made some 250 writes for the batch, and watches five kinds. client-node 2.0.1
    // alone opens a TLS connection per call and keeps it (operator/kubeconfig.ts).
    const apiPort = Number(new URL(/server: (\S+)/.exec(readFileSync(kubeconfig, 'utf8'))![1]!).port);
    expect(establishedTcp(op.child.pid!, apiPort)).toBeLessThanOrEqual(20);
  });

  it('of two replicas exactly one reconciles; the other takes over when the first stops', async () => {
    const standby = await startOp('operator-standby');
    try {
      const leaderBefore = await reconciles(op);
      k(['apply', '-f', '-'], scoringModel('two-replicas', { model: { uri: 'identity' } }));
      await waitFor('children from the leader', () => deployment('two-replicas'));
      // A reconcile is counted once it has finished: after its children, it still writes status and events.
      await waitFor('the leader to count the reconcile', async () => (await reconciles(op)) > leaderBefore);
      expect(await reconciles(standby)).toBe(0);
      expect(getJson(['lease', 'scoring-operator-leader', '-n', 'scoring-system'])!.spec.holderIdentity).toBe(
        op.identity,
      );

      // A clean stop releases the Lease: the standby leads within a retry period, not a whole lease duration.
      await op.stop('SIGTERM');
      await waitFor(
        'the standby leading',
        async () =>
          getJson(['lease', 'scoring-operator-leader', '-n', 'scoring-system'])!.spec.holderIdentity ===
          'operator-standby',
        15_000,
      );
      k(['apply', '-f', '-'], scoringModel('after-takeover', { model: { uri: 'identity' } }));
      await waitFor('children from the new leader', () => deployment('after-takeover'));
      expect(await reconciles(standby)).toBeGreaterThan(0);
    } finally {
      op = standby;
    }
  });
});
