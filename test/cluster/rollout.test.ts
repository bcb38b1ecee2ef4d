/**
 * Rollouts against the real API server, as the operator's ServiceAccount: the operator (its own, watching only this
 * file's namespace, its routing endpoint on loopback) walks a ScoringModel's rollout from status.rollout. Real
 * scorer processes stand in for the stable and candidate pods: each runs with its pod template's environment (the
 * stable ones long-poll the ROUTING_URL the operator put there) on a loopback address the test writes as the pod's IP,
 * as a kubelet would. Requests go to the stable scorers, as the model's Service would send them.
 */
import { copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { rolloutReportPath, SERVED_BY_HEADER } from '../../contract/rollout.js';
import { stepId } from '../../operator/rollout/routing.js';
import { SCORER_PORT } from '../../contract/env.js';
import { freePort } from '../../harness/net.js';
import {
  DIR,
  eventsOf,
  freeLoopbackAddresses,
  getJson,
  installOperatorPrerequisites,
  k,
  kubectl,
  readyPodStatus,
  ROOT,
  scoringModel,
  setPodStatus,
  startOperator,
  startScorerProcess,
  waitFor,
  type OperatorProcess,
  type ScorerProcess,
} from './kube.js';

const NS = 'rollout';
const SHARED = join(ROOT, 'test/fixtures/shared');
const STABLE_MODEL = join(SHARED, 'mlp_classifier.onnx');
/** The same model under another name: a new template, the same predictions. */
const SAME_MODEL = join(DIR, 'mlp_classifier-v2.onnx');
/** Loads and warms up, then fails on every real row (test/models/make_rollout.py). */
const FAILING_MODEL = join(ROOT, 'test/fixtures/generated/rollout_fails.onnx');
const ROWS = (JSON.parse(readFileSync(join(SHARED, 'mlp_classifier.inputs.json'), 'utf8')) as { X: number[][] }).X;

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- kubectl JSON

let kubeconfig: string;
let routingPort: number;
let op: OperatorProcess;
let addresses: string[];
const scorers: ScorerProcess[] = [];

const startRollingOperator = () =>
  startOperator(kubeconfig, {
    POD_NAME: 'operator-rollout',
    LEADER_ELECT: 'false',
    WATCH_NAMESPACES: NS,
    ROUTING_PORT: String(routingPort),
    ROUTING_URL: `http://127.0.0.1:${routingPort}`,
  });

beforeAll(async () => {
  kubeconfig = await installOperatorPrerequisites();
  if (kubectl(['get', 'namespace', NS]).status !== 0) k(['create', 'namespace', NS]);
  copyFileSync(STABLE_MODEL, SAME_MODEL);
  addresses = await freeLoopbackAddresses(8, SCORER_PORT);
  routingPort = await freePort();
  op = await startRollingOperator();
});

afterEach(async () => {
  await Promise.all(scorers.splice(0).map((s) => s.stop()));
});

afterAll(async () => {
  k(['delete', 'sm', '--all', '-n', NS, '--wait=true']);
  await op.stop();
  k(['delete', 'namespace', NS, '--wait=false']);
  expect(op.logs().filter((l) => /forbidden/i.test(JSON.stringify(l)))).toEqual([]);
});

const sm = (name: string): Json | undefined => getJson(['scoringmodel', name, '-n', NS]);
const rolloutOf = (name: string): Json | undefined => sm(name)?.status?.rollout;
const deployment = (name: string): Json | undefined => getJson(['deployment', name, '-n', NS]);
const revisionOf = (d: Json | undefined): string | undefined =>
  d?.spec?.template?.metadata?.labels?.['scoring.dev/template-hash'];

/** A free loopback address for the next scorer "pod". */
function nextAddress(): string {
  const used = new Set(scorers.map((s) => s.host));
  const free = addresses.find((a) => !used.has(a));
  if (!free) throw new Error('no loopback address left');
  return free;
}

/**
 * Makes every pod of `deploymentName` that is not yet a scorer one: a scorer process with the pod template's
 * environment on an address of its own, and the pod's status written ready at that address.
 */
async function serveNewPods(deploymentName: string, count: number): Promise<ScorerProcess[]> {
  const d = await waitFor(`Deployment ${deploymentName}`, () => deployment(deploymentName));
  const selector = Object.entries(d.spec.selector.matchLabels as Record<string, string>)
    .map(([key, v]) => `${key}=${v}`)
    .join(',');
  const revision = revisionOf(d);
  const pods = await waitFor(`${count} pods of ${deploymentName} at revision ${revision}`, () => {
    const list = (getJson(['pods', '-n', NS, '-l', selector])?.items ?? []) as Json[];
    const fresh = list.filter(
      (p) =>
        p.metadata.labels['scoring.dev/template-hash'] === revision &&
        !p.metadata.deletionTimestamp &&
        !p.status?.podIP,
    );
    return fresh.length >= count ? fresh.slice(0, count) : undefined;
  });
  const started: ScorerProcess[] = [];
  for (const pod of pods) {
    const container = (pod.spec.containers as Json[]).find((c) => c.name === 'scorer')!;
    const env = Object.fromEntries((container.env as Json[]).map((e) => [e.name as string, e.value as string]));
    const host = nextAddress();
    const scorer = await startScorerProcess(host, env);
    scorers.push(scorer);
    started.push(scorer);
    setPodStatus(`pod/${pod.metadata.name}`, { ...readyPodStatus(), podIP: host, podIPs: [{ ip: host }] }, NS);
  }
  return started;
}

interface Sent {
  ok: boolean;
  status: number;
  candidate: boolean;
  body: string;
}

/** One 4-row /score request to a stable scorer, as the Service would send it. */
async function score(scorer: ScorerProcess, i: number): Promise<Sent> {
  const rows = [0, 1, 2, 3].map((j) => ROWS[(i * 4 + j) % ROWS.length]!);
  const res = await fetch(`${scorer.url}/score`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ X: rows }),
  });
  const body = await res.text();
  return { ok: res.ok, status: res.status, candidate: res.headers.get(SERVED_BY_HEADER) === 'candidate', body };
}

/** Whether every scorer's rollout report says it follows the step of `rollout` (no step: no rollout). */
async function followsStep(targets: ScorerProcess[], name: string, rollout: Json | undefined): Promise<boolean> {
  const want = rollout?.stepStartedAt ? stepId(rollout as Parameters<typeof stepId>[0]) : '';
  const steps = await Promise.all(
    targets.map(async (t) => {
      const res = await fetch(`${t.url}${rolloutReportPath(name)}`);
      return res.ok ? ((await res.json()) as Json).routing.step : undefined;
    }),
  );
  return steps.every((s) => s === want);
}

/**
 * Sends requests to the stable scorers in batches, round robin, until `done` says so. Every request is in `all`;
 * each batch is also filed under the rollout's phase and weight seen before and after it (a batch that straddles a
 * change, or sent while a scorer had not yet heard of it, is filed under none).
 */
async function loadUntil(
  stable: () => ScorerProcess[],
  name: string,
  done: (rollout: Json | undefined) => boolean,
  timeoutMs = 150_000,
): Promise<{ byStep: Map<string, Sent[]>; all: Sent[] }> {
  const byStep = new Map<string, Sent[]>();
  const all: Sent[] = [];
  const stepKey = (r: Json | undefined) => (r ? `${r.phase}/${r.step}/${r.weight}/${r.shadowPercent}` : 'none');
  const deadline = Date.now() + timeoutMs;
  let i = 0;
  for (;;) {
    const before = rolloutOf(name);
    if (done(before)) return { byStep, all };
    if (Date.now() > deadline) throw new Error(`the rollout did not finish; it is at ${JSON.stringify(before)}`);
    const targets = stable();
    // The scorers follow the status a moment after it is written: a batch counts only when they already do.
    const following = await followsStep(targets, name, before);
    const batch = await Promise.all(Array.from({ length: 20 }, () => score(targets[i % targets.length]!, i++)));
    all.push(...batch);
    const after = rolloutOf(name);
    if (stepKey(before) !== stepKey(after) || !following || !(await followsStep(targets, name, after))) continue;
    byStep.set(stepKey(before), [...(byStep.get(stepKey(before)) ?? []), ...batch]);
  }
}

const rolloutSpec = {
  strategy: 'Canary',
  shadow: { percent: 100, pauseSeconds: 2 },
  steps: [
    { weight: 10, pauseSeconds: 2 },
    { weight: 50, pauseSeconds: 2 },
  ],
  analysis: { minRequests: 40 },
};

/** A model of one stable scorer, Ready, with no rollout yet. */
async function stableModel(name: string): Promise<ScorerProcess[]> {
  k(['apply', '-f', '-'], scoringModel(name, { model: { uri: STABLE_MODEL }, rollout: rolloutSpec }, NS));
  const stable = await serveNewPods(name, 1);
  await waitFor(`${name} Ready`, () =>
    (sm(name)?.status?.conditions as Json[] | undefined)?.some((c) => c.type === 'Ready' && c.status === 'True'),
  );
  expect(rolloutOf(name)).toBeUndefined();
  return stable;
}

describe('a rollout of a model with the same predictions', () => {
  it('shadows, canaries at 10% and 50% (exact shares), survives an operator restart, and promotes', async () => {
    const name = 'fraud';
    const stable = await stableModel(name);
    const before = deployment(name)!;
    k(['apply', '-f', '-'], scoringModel(name, { model: { uri: SAME_MODEL }, rollout: rolloutSpec }, NS));

    // The candidate appears beside the stable Deployment, which keeps its template.
    await serveNewPods(`${name}-candidate`, 1);
    expect(revisionOf(deployment(name))).toBe(revisionOf(before));
    const candidateDeployment = deployment(`${name}-candidate`)!;
    expect(candidateDeployment.metadata.ownerReferences).toMatchObject([
      { kind: 'ScoringModel', name, controller: true },
    ]);
    const candidateEnv = (candidateDeployment.spec.template.spec.containers[0].env as Json[]).map((e) => e.name);
    expect(candidateEnv).not.toContain('ROUTING_URL');
    // The model's Service does not select the candidate's pods.
    const service = getJson(['service', name, '-n', NS])!;
    expect(candidateDeployment.spec.template.metadata.labels).not.toMatchObject(service.spec.selector);

    // Walk the steps under load; kill the operator once the 10% step runs, and start another.
    let restarted = false;
    let promoting: Promise<void> | undefined;
    const targets = [...stable];
    const { byStep, all } = await loadUntil(
      () => targets,
      name,
      (r) => {
        if (!restarted && r?.phase === 'Canary' && r.weight === 10 && r.stepStartedAt) {
          restarted = true;
          void (async () => {
            await op.stop('SIGKILL');
            op = await startRollingOperator();
          })();
        }
        if (r?.phase === 'Promoting' && !promoting && revisionOf(deployment(name)) === r.revision) {
          // The stable Deployment rolls out the candidate's revision: its new pod gets a scorer too.
          promoting = serveNewPods(name, 1).then((s) => void targets.push(...s));
        }
        return r?.phase === 'Promoted';
      },
    );
    await promoting;
    expect(restarted).toBe(true);

    // Every request answered, those around each transition and the operator's restart included; the shadow step
    // returned nothing of the candidate's; the canary steps' shares.
    expect(all.filter((s) => !s.ok)).toEqual([]);
    const share = (key: string) => {
      const sent = byStep.get(key) ?? [];
      return { n: sent.length, candidate: sent.filter((s) => s.candidate).length };
    };
    expect(share('Shadow/1/0/100').candidate).toBe(0);
    expect(share('Shadow/1/0/100').n).toBeGreaterThan(0);
    for (const [key, weight] of [
      ['Canary/2/10/0', 10],
      ['Canary/3/50/0', 50],
    ] as const) {
      const { n, candidate: c } = share(key);
      expect(n).toBeGreaterThanOrEqual(100);
      expect(Math.abs((100 * c) / n - weight)).toBeLessThanOrEqual(3);
    }

    const done = rolloutOf(name)!;
    expect(done).toMatchObject({
      phase: 'Promoted',
      revision: revisionOf(deployment(name)),
      stableRevision: revisionOf(before),
      weight: 0,
      shadowPercent: 0,
    });
    expect(done.message).toMatch(/promoted/);
    // The last step's figures, summed over the stable scorer, stay in status.
    expect(done.analysis).toMatchObject({
      pods: { answered: 1, asked: 1 },
      candidate: { errorRate: 0 },
      stable: { errorRate: 0 },
    });
    expect(done.analysis.candidate.requests).toBeGreaterThanOrEqual(rolloutSpec.analysis.minRequests);
    await waitFor('the candidate Deployment to go', () => deployment(`${name}-candidate`) === undefined);
    const events = eventsOf(name, NS);
    for (const e of ['RolloutStarted', 'StepStarted', 'Promoting', 'Promoted']) {
      expect(events).toContain(`Normal Rollout=${e}`);
    }
    expect(events.filter((e) => e === 'Normal Rollout=StepStarted')).toHaveLength(3);
    expect(events.filter((e) => e.startsWith('Warning'))).toEqual([]);
    expect(k(['get', 'sm', name, '-n', NS])).toMatch(/\sROLLOUT\s+WEIGHT\s[\s\S]*\sPromoted\s+0\s/);
  });
});

describe('a rollout of a model that fails on real inputs', () => {
  it('rolls back at the first step with enough requests, stable untouched, and the candidate goes', async () => {
    const name = 'churn';
    const stable = await stableModel(name);
    const before = deployment(name)!;
    const spec = { ...rolloutSpec, shadow: undefined, steps: [{ weight: 50, pauseSeconds: 30 }] };
    k(['apply', '-f', '-'], scoringModel(name, { model: { uri: FAILING_MODEL }, rollout: spec }, NS));
    await serveNewPods(`${name}-candidate`, 1);

    const { byStep } = await loadUntil(
      () => stable,
      name,
      (r) => r?.phase === 'RolledBack',
    );
    const during = byStep.get('Canary/1/50/0') ?? [];
    const failed = during.filter((s) => !s.ok);
    expect(failed.length).toBeGreaterThan(0);
    expect(failed.every((s) => s.status === 422 && /could not score this input/.test(s.body))).toBe(true);
    const rolledBack = rolloutOf(name)!;
    expect(rolledBack).toMatchObject({ phase: 'RolledBack', weight: 0, shadowPercent: 0 });
    expect(rolledBack.message).toMatch(/error rate/);
    expect(rolledBack.analysis.candidate.errorRate).toBeGreaterThan(0.9);

    // From the verdict on, the stable scorers answer everything themselves.
    const after = await Promise.all(Array.from({ length: 40 }, (_, i) => score(stable[0]!, i)));
    expect(after.filter((s) => !s.ok || s.candidate)).toEqual([]);
    await waitFor('the candidate Deployment to go', () => deployment(`${name}-candidate`) === undefined);
    expect(deployment(name)!.metadata.generation).toBe(before.metadata.generation);
    expect(revisionOf(deployment(name))).toBe(revisionOf(before));
    expect(eventsOf(name, NS)).toContain('Warning Rollout=RolledBack');
    const stalled = (sm(name)!.status.conditions as Json[]).find((c) => c.type === 'Stalled');
    expect(stalled).toMatchObject({ status: 'True', reason: 'RolledBack' });
  });
});

describe('a rollout aborted by hand', () => {
  it('stops at once on kubectl annotate scoring.dev/rollout=abort, and the annotation is removed', async () => {
    const name = 'pricing';
    const stable = await stableModel(name);
    const spec = { ...rolloutSpec, shadow: undefined, steps: [{ weight: 20, pauseSeconds: 600 }] };
    k(['apply', '-f', '-'], scoringModel(name, { model: { uri: SAME_MODEL }, rollout: spec }, NS));
    await serveNewPods(`${name}-candidate`, 1);
    await waitFor('the 20% step', () => rolloutOf(name)?.stepStartedAt !== undefined);
    k(['annotate', 'sm', name, '-n', NS, 'scoring.dev/rollout=abort']);
    const aborted = await waitFor('Aborted', () =>
      rolloutOf(name)?.phase === 'Aborted' ? rolloutOf(name) : undefined,
    );
    expect(aborted).toMatchObject({ weight: 0, shadowPercent: 0 });
    expect(aborted!.message).toMatch(/aborted by scoring.dev\/rollout=abort/);
    await waitFor(
      'the annotation removed',
      () => sm(name)?.metadata?.annotations?.['scoring.dev/rollout'] === undefined,
    );
    await waitFor('the candidate Deployment to go', () => deployment(`${name}-candidate`) === undefined);
    const after = await Promise.all(Array.from({ length: 20 }, (_, i) => score(stable[0]!, i)));
    expect(after.filter((s) => !s.ok || s.candidate)).toEqual([]);
    // One event for the abort, none for the annotation read again before the cache saw it removed.
    expect(eventsOf(name, NS).filter((e) => e.startsWith('Warning'))).toEqual(['Warning Rollout=Aborted']);
  });
});

describe('a spec change in the middle of a rollout', () => {
  it('starts over from step 1 with the latest template, the stable Deployment untouched', async () => {
    const name = 'billing';
    await stableModel(name);
    const before = deployment(name)!;
    const spec = { ...rolloutSpec, shadow: undefined, steps: [{ weight: 20, pauseSeconds: 600 }] };
    k(['apply', '-f', '-'], scoringModel(name, { model: { uri: SAME_MODEL }, rollout: spec }, NS));
    await serveNewPods(`${name}-candidate`, 1);
    const first = await waitFor('the 20% step', () =>
      rolloutOf(name)?.stepStartedAt !== undefined ? rolloutOf(name) : undefined,
    );

    // A third template: the candidate Deployment follows it, and the rollout starts again from its first step.
    k(['apply', '-f', '-'], scoringModel(name, { model: { uri: FAILING_MODEL }, rollout: spec }, NS));
    const again = await waitFor('a rollout of the new revision', () => {
      const r = rolloutOf(name);
      return r && r.revision !== first!.revision ? r : undefined;
    });
    expect(again).toMatchObject({ phase: 'Canary', step: 1, stableRevision: revisionOf(before) });
    expect(again!.stepStartedAt).toBeUndefined();
    expect(revisionOf(deployment(`${name}-candidate`))).toBe(again!.revision);
    expect(revisionOf(deployment(name))).toBe(revisionOf(before));
    expect(deployment(name)!.metadata.generation).toBe(before.metadata.generation);
    expect(eventsOf(name, NS).filter((e) => e === 'Normal Rollout=RolloutStarted')).toHaveLength(2);
  });
});

describe('a rollout without autoPromote', () => {
  it('waits in Paused after its last step, the candidate keeping its share, until annotated promote', async () => {
    const name = 'ranking';
    const stable = await stableModel(name);
    const before = deployment(name)!;
    const spec = { ...rolloutSpec, shadow: undefined, steps: [{ weight: 20, pauseSeconds: 1 }], autoPromote: false };
    k(['apply', '-f', '-'], scoringModel(name, { model: { uri: SAME_MODEL }, rollout: spec }, NS));
    await serveNewPods(`${name}-candidate`, 1);
    const targets = [...stable];
    const untilPaused = await loadUntil(
      () => targets,
      name,
      (r) => r?.phase === 'Paused',
    );
    const paused = rolloutOf(name)!;
    expect(paused).toMatchObject({ phase: 'Paused', step: 1, steps: 1, weight: 20 });
    expect(paused.message).toMatch(/scoring\.dev\/rollout=promote \(autoPromote is false\)/);

    // Paused: the stable Deployment untouched, and exactly 20 of any 100 consecutive requests answered by the candidate.
    const held = await Promise.all(Array.from({ length: 100 }, (_, i) => score(stable[0]!, i)));
    expect(held.filter((s) => !s.ok)).toEqual([]);
    expect(held.filter((s) => s.candidate)).toHaveLength(20);
    expect(rolloutOf(name)).toMatchObject({ phase: 'Paused', weight: 20 });
    expect(revisionOf(deployment(name))).toBe(revisionOf(before));

    k(['annotate', 'sm', name, '-n', NS, 'scoring.dev/rollout=promote']);
    let promoting: Promise<void> | undefined;
    const untilPromoted = await loadUntil(
      () => targets,
      name,
      (r) => {
        if (r?.phase === 'Promoting' && !promoting && revisionOf(deployment(name)) === r.revision) {
          promoting = serveNewPods(name, 1).then((s) => void targets.push(...s));
        }
        return r?.phase === 'Promoted';
      },
    );
    await promoting;
    // Zero failed requests from the change to the promoted model.
    expect([...untilPaused.all, ...untilPromoted.all].filter((s) => !s.ok)).toEqual([]);
    const done = rolloutOf(name)!;
    expect(done).toMatchObject({ phase: 'Promoted', weight: 0, revision: revisionOf(deployment(name)) });
    expect(done.message).toMatch(/promoted by scoring\.dev\/rollout=promote at step 1\/1/);
    await waitFor(
      'the annotation removed',
      () => sm(name)?.metadata?.annotations?.['scoring.dev/rollout'] === undefined,
    );
    await waitFor('the candidate Deployment to go', () => deployment(`${name}-candidate`) === undefined);
    const events = eventsOf(name, NS);
    expect(events.filter((e) => e === 'Normal Rollout=Paused')).toHaveLength(1);
    expect(events).toContain('Normal Rollout=Promoting');
    expect(events).toContain('Normal Rollout=Promoted');
    expect(events.filter((e) => e.startsWith('Warning'))).toEqual([]);
  });
});

describe("the scorers' routing channel", () => {
  it("cannot be written by the namespace's pods or its editors: status.rollout is the operator's alone", async () => {
    const name = 'channel';
    k(['apply', '-f', '-'], scoringModel(name, { model: { uri: STABLE_MODEL }, rollout: rolloutSpec }, NS));
    // An editor of the namespace (the aggregated edit role's ScoringModel rules), as a pod's ServiceAccount.
    const editor = `system:serviceaccount:${NS}:model-editor`;
    const apply = (...create: string[]) =>
      k(['apply', '-f', '-'], k(['create', ...create, '-n', NS, '--dry-run=client', '-o', 'yaml']));
    apply('serviceaccount', 'model-editor');
    apply('rolebinding', 'model-editor', '--clusterrole=scoringmodel-editor', `--serviceaccount=${NS}:model-editor`);
    const can = (user: string, ...what: string[]) =>
      kubectl(['auth', 'can-i', '--as', user, '-n', NS, ...what]).stdout.trim() === 'yes';
    await waitFor('the RBAC authorizer to know the editor', () => can(editor, 'patch', 'scoringmodels.scoring.dev'));

    // The editor may annotate (promote, abort) but not write the status a scorer's routing is computed from.
    k(['annotate', 'sm', name, '-n', NS, '--as', editor, 'example.com/note=x']);
    const forged = {
      status: { rollout: { phase: 'Canary', revision: 'r', stableRevision: 's', step: 1, steps: 1, weight: 100 } },
    };
    for (const user of [editor, `system:serviceaccount:${NS}:default`]) {
      const write = kubectl([
        'patch',
        'sm',
        name,
        '-n',
        NS,
        '--as',
        user,
        '--subresource=status',
        '--type=merge',
        '-p',
        JSON.stringify(forged),
      ]);
      expect([user, write.status, write.stderr]).toEqual([user, 1, expect.stringMatching(/forbidden/)]);
      expect(can(user, 'update', 'scoringmodels.scoring.dev', '--subresource=status')).toBe(false);
    }
    expect(rolloutOf(name)).toBeUndefined();
  });
});
