/**
 * Rollouts end to end, under load the whole time: a stable model (the shared mlp_classifier, two replicas) whose
 * spec.model changes to a candidate, which the operator shadows, canaries and promotes, or rolls back, while a load
 * pod scores the stable model's rows through the model's Service and counts, per 100 ms window, the answers, the
 * failures, the answers the candidate computed (the scoring-served-by header) and the answers that are not the stable
 * model's prediction for their row. A poller keeps when each state of status.rollout was first and last seen, so that
 * the windows can be attributed to steps, leaving a margin around each transition.
 * The candidates (test/models/make_rollout.py): the same model file under another URI (same predictions, another
 * template), rollout_fails.onnx (passes the warm-up, fails on every real row) and rollout_disagrees (answers, wrongly).
 * Each describe applies its own ScoringModel and load pod, and deletes them, so that any test runs alone (-t).
 */
import { fileURLToPath } from 'node:url';
import { SCORER_ENV } from '../../contract/env.js';
import { LABELS } from '../../operator/desired/labels.js';
import { getJson, k, scoringModel } from '../cluster/kube.js';
import { fixtures } from '../helpers/fixtures.js';
import { StopWaiting, waitFor } from '../helpers/wait.js';
import {
  LOAD_WINDOW_MS,
  NS,
  between,
  remove,
  rolloutKey,
  sha256,
  startRecordedLoad,
  startWorld,
  url,
  waitReady,
  watchRollout,
  type LoadWindow,
  type RolloutRun,
  type RolloutStatus,
} from './world.js';

const stable = fixtures('onnx').find((f) => f.name === 'mlp_classifier')!;
const disagrees = fixtures('onnx').find((f) => f.name === 'rollout_disagrees')!;
const FAILS = fileURLToPath(new URL('../fixtures/generated/rollout_fails.onnx', import.meta.url));
/** The good candidate: the stable model's own file, served under another name (another URI, the same sha256). */
const GOOD_FILE = 'mlp_classifier-v2.onnx';
/** The rows the load sends: the stable fixture's rows drawn from data (zeros, +-1000 and the mean come after). */
const DRAWN = stable.inputs.findIndex((row) => row.every((v) => v === 0));
const ROWS = stable.inputs.slice(0, DRAWN);
const EXPECTED = stable.expected.probabilities!.slice(0, DRAWN);

const STABLE_REPLICAS = 2;
/** Candidate predictions a step needs before it is judged (spec.rollout.analysis.minRequests). */
const MIN_REQUESTS = 100;
/** Each canary step's pause: long enough for 2,000 requests at the load's rate, with the margins below taken off. */
const STEP_SECONDS = 30;
const SHADOW_SECONDS = 20;
/** The bar: each canary step's share is measured over at least this many requests. */
const STEP_REQUESTS = 2000;
const CONCURRENCY = 4;
/** Longer than any rollout here takes: each test ends its load once it has seen what it waits for. */
const LOAD_SECONDS = 900;
/**
 * After a state of status.rollout is first seen, how long the stable scorers may take to follow it: the operator
 * answers their long-polls from its cache of the status it wrote, and requests sent before the change are answered
 * after it. Windows closer than this to a state's first sighting are not attributed to it; nor are windows within
 * END_MS of its last sighting (the poll's clock against the load pod's, both this machine's).
 */
const SWITCH_MS = 2000;
const END_MS = 500;
/** How long the load runs on after a verdict, for "none after the verdict" to be measured. */
const AFTER_VERDICT_MS = 10_000;

let store: string;

beforeAll(async () => {
  store = await startWorld([stable.path, `${GOOD_FILE}=${stable.path}`, FAILS, disagrees.path]);
}, 900_000);

/** The stable model with `rollout`: every describe starts from it and changes spec.model to its candidate. */
const stableModel = (name: string, rollout: Record<string, unknown>) =>
  scoringModel(
    name,
    {
      model: { uri: `${store}/${stable.file}`, format: 'onnx', sha256: sha256(stable.path) },
      replicas: STABLE_REPLICAS,
      rollout,
    },
    NS,
  );

const startRollout = (name: string, file: string, path: string) =>
  k([
    'patch',
    'sm',
    name,
    '-n',
    NS,
    '--type=merge',
    '-p',
    JSON.stringify({ spec: { model: { uri: `${store}/${file}`, sha256: sha256(path) } } }),
  ]);

/** Waits until the latest status.rollout satisfies `done`; stops at once on one that `fatal` picks instead. */
const until = (
  watch: ReturnType<typeof watchRollout>,
  what: string,
  done: (r: RolloutStatus) => boolean,
  fatal: (r: RolloutStatus) => boolean,
  timeoutMs: number,
) =>
  waitFor(
    what,
    () => {
      const r = watch.latest();
      if (r && done(r)) return r;
      if (r && fatal(r)) throw new StopWaiting(`waiting for ${what}, the rollout is ${rolloutKey(r)}: ${r.message}`);
      return undefined;
    },
    timeoutMs,
    250,
  );

/** The cells of a ScoringModel's row in `kubectl get sm`, by column header (cells are aligned with their headers). */
const columns = (name: string): Record<string, string> => {
  const [header, row] = k(['get', 'sm', name, '-n', NS]).split('\n');
  const starts = [...header!.matchAll(/\S+/g)].map((m) => ({ name: m[0], at: m.index }));
  return Object.fromEntries(starts.map((c, i) => [c.name, row!.slice(c.at, starts[i + 1]?.at).trim()]));
};

/** The events about a ScoringModel, as `type reason`, through the core events API's field selector. */
const events = (name: string): string[] =>
  getJson<{ items: { type: string; reason: string }[] }>([
    'events',
    '-n',
    NS,
    '--field-selector',
    `involvedObject.kind=ScoringModel,involvedObject.name=${name}`,
  ])!.items.map((e) => `${e.type} ${e.reason}`);

const revisionOf = (deployment: Record<string, unknown> | undefined): string | undefined =>
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- kubectl JSON
  (deployment as any)?.spec?.template?.metadata?.labels?.[LABELS.templateHash];

/** The stable Deployment rolled out on `revision`: every replica updated and available, no other pod behind it. */
const stableOn = (name: string, revision: string): boolean => {
  const d = getJson(['deployment', name, '-n', NS]);
  if (!d || revisionOf(d) !== revision) return false;
  const want = d.spec.replicas as number;
  const counted =
    d.status.observedGeneration >= d.metadata.generation &&
    [d.status.replicas, d.status.updatedReplicas, d.status.readyReplicas, d.status.availableReplicas].every(
      (n) => n === want,
    );
  if (!counted) return false;
  const selector = Object.entries(d.spec.selector.matchLabels as Record<string, string>)
    .map(([key, value]) => `${key}=${value}`)
    .join(',');
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- kubectl JSON
  const pods = getJson<{ items: any[] }>(['pods', '-n', NS, '-l', selector])!.items;
  return (
    pods.length === want &&
    pods.every((p) => !p.metadata.deletionTimestamp && p.metadata.labels[LABELS.templateHash] === revision)
  );
};

/** No candidate Deployment, Service or pod left. */
const candidateGone = (name: string): boolean =>
  !getJson(['deployment', `${name}-candidate`, '-n', NS]) &&
  !getJson(['service', `${name}-candidate`, '-n', NS]) &&
  getJson<{ items: unknown[] }>(['pods', '-n', NS, '-l', `${LABELS.candidateOf}=${name}`])!.items.length === 0;

const modelUriOf = (name: string): string | undefined =>
  (
    getJson(['deployment', name, '-n', NS])!.spec.template.spec.containers as {
      env?: { name: string; value?: string }[];
    }[]
  )
    .flatMap((c) => c.env ?? [])
    .find((e) => e.name === SCORER_ENV.modelUri)?.value;

/** The windows that lie wholly inside a run of the poller, margins taken off: what that state alone served. */
const during = (windows: LoadWindow[], run: RolloutRun) =>
  between(windows, run.firstSeenAt + SWITCH_MS, run.lastSentAt - END_MS);

/** The runs' states in order, for a log line a reader can follow. */
const timeline = (runs: RolloutRun[]) =>
  runs
    .map(
      (r) => `${((r.lastSeenAt - r.firstSeenAt) / 1000).toFixed(1).padStart(6)} s  ${r.key}: ${r.last?.message ?? ''}`,
    )
    .join('\n');

const terminal = (r: RolloutStatus) => ['RolledBack', 'Aborted', 'Promoted'].includes(r.phase);

/**
 * After a verdict: the load goes on until it has answered for AFTER_VERDICT_MS past it (its own clock, read from its
 * progress line), and the candidate's Deployment and pods are gone (once no stable scorer sends it anything).
 */
const afterVerdict = async (name: string, load: ReturnType<typeof startRecordedLoad>, verdictAt: number) => {
  await waitFor('the candidate removed', () => candidateGone(name), 180_000, 1000);
  await waitFor(
    `the load answered for ${AFTER_VERDICT_MS / 1000} s after the verdict`,
    () => (load.progress()?.at ?? 0) >= verdictAt + AFTER_VERDICT_MS,
    AFTER_VERDICT_MS + 60_000,
    1000,
  );
};

describe('a good model: shadowed, canaried at 10% and 50%, promoted', () => {
  const NAME = 'rollout-good';
  const LOAD = 'rollout-good-load';
  afterAll(() => remove([NAME], [LOAD]));

  it('serves every request, the candidate answering each canary step its weight within 3 points, and promotes', async () => {
    k(
      ['apply', '-f', '-'],
      stableModel(NAME, {
        strategy: 'Canary',
        shadow: { percent: 100, pauseSeconds: SHADOW_SECONDS },
        steps: [
          { weight: 10, pauseSeconds: STEP_SECONDS },
          { weight: 50, pauseSeconds: STEP_SECONDS },
        ],
        analysis: { minRequests: MIN_REQUESTS },
      }),
    );
    await waitReady(NAME);
    const before = getJson(['deployment', NAME, '-n', NS])!;
    const load = startRecordedLoad(
      LOAD,
      url(NAME, '/score'),
      ROWS,
      EXPECTED,
      stable.tolerance,
      LOAD_SECONDS,
      CONCURRENCY,
    );
    let watch: ReturnType<typeof watchRollout> | undefined;
    let promoted: RolloutStatus;
    let canaryColumns: Record<string, string>;
    try {
      await load.serving();
      watch = watchRollout(NAME);
      startRollout(NAME, GOOD_FILE, stable.path);
      await until(
        watch,
        'the canary at 50%',
        (r) => r.phase === 'Canary' && r.weight === 50,
        (r) => terminal(r) || r.phase === 'Promoting',
        600_000,
      );
      canaryColumns = columns(NAME);
      promoted = await until(watch, 'Promoted', (r) => r.phase === 'Promoted', terminal, 600_000);
      await waitFor(
        'the stable Deployment rolled out on the new revision, the candidate gone',
        () => stableOn(NAME, promoted.revision) && candidateGone(NAME),
        300_000,
        1000,
      );
    } finally {
      await watch?.stop();
      load.finish();
    }
    const result = await load.result();
    const runs = watch.runs();
    console.log(`rollout of a good model, status.rollout as polled (time each was seen):\n${timeline(runs)}`);
    console.log(`kubectl get sm during the 50% step: ${JSON.stringify(canaryColumns)}`);

    // Every request answered, and with the stable model's prediction, whoever computed it.
    expect(result.ok).toBeGreaterThan(0);
    expect({ failed: result.failed, errors: result.errors, wrong: result.wrong }).toEqual({
      failed: 0,
      errors: {},
      wrong: 0,
    });

    // The steps in order: shadow, the two canary weights, promotion.
    const phases = runs.flatMap((r) => (r.last ? [r.last.phase] : []));
    expect(phases.filter((p, i) => p !== phases[i - 1])).toEqual(['Shadow', 'Canary', 'Promoting', 'Promoted']);
    const canaries = runs.filter((r) => r.last?.phase === 'Canary' && r.last.weight > 0);
    expect(canaries.map((r) => r.last!.weight)).toEqual([10, 50]);

    // Shadow: every request mirrored, none answered by the candidate, whose answers all agreed.
    const shadow = runs.find((r) => r.last?.phase === 'Shadow' && r.last.shadowPercent === 100)!;
    expect(shadow).toBeDefined();
    expect(shadow.last!.weight).toBe(0);
    expect(between(result.windows, 0, shadow.lastSentAt).candidate).toBe(0);
    expect(shadow.last!.analysis?.agreement).toMatchObject({ share: 1 });
    expect(shadow.last!.analysis!.agreement!.rows).toBeGreaterThan(0);

    // Each canary step: the candidate's share of the requests within 3 points of the weight, over 2,000 or more.
    for (const run of canaries) {
      const weight = run.last!.weight;
      const step = during(result.windows, run);
      const share = (100 * step.candidate) / step.answered;
      console.log(
        `canary ${weight}%: ${step.candidate} of ${step.answered} requests answered by the candidate ` +
          `(${share.toFixed(2)}%) over ${((run.lastSentAt - run.firstSeenAt - SWITCH_MS - END_MS) / 1000).toFixed(1)} s; ` +
          `status: ${JSON.stringify(run.last!.analysis)}`,
      );
      expect(step.answered).toBeGreaterThanOrEqual(STEP_REQUESTS);
      expect(Math.abs(share - weight)).toBeLessThanOrEqual(3);
      expect(run.last!.analysis?.candidate.errorRate).toBe(0);
    }
    expect(canaryColumns).toMatchObject({ ROLLOUT: 'Canary', WEIGHT: '50' });

    // Promoted: the stable Deployment runs the new template, nothing forwarded, the candidate gone.
    const status = getJson(['sm', NAME, '-n', NS])!.status.rollout as RolloutStatus;
    expect(status).toMatchObject({
      phase: 'Promoted',
      weight: 0,
      shadowPercent: 0,
      stableRevision: revisionOf(before),
    });
    expect(status.revision).not.toBe(revisionOf(before));
    expect(revisionOf(getJson(['deployment', NAME, '-n', NS]))).toBe(status.revision);
    expect(modelUriOf(NAME)).toBe(`${store}/${GOOD_FILE}`);
    expect(candidateGone(NAME)).toBe(true);
    expect(columns(NAME)).toMatchObject({ ROLLOUT: 'Promoted', WEIGHT: '0' });
    console.log(`kubectl get sm\n${k(['get', 'sm', NAME, '-n', NS])}\nmessage: ${status.message}`);

    // One event per step transition, none of them a warning.
    const told = events(NAME);
    console.log(`events: ${told.join(', ')}`);
    expect(told).toContain('Normal RolloutStarted');
    expect(told.filter((e) => e === 'Normal StepStarted').length).toBeGreaterThanOrEqual(2);
    expect(told).toContain('Normal Promoting');
    expect(told).toContain('Normal Promoted');
    expect(told.filter((e) => /RolledBack|Aborted/.test(e))).toEqual([]);
  }, 1_200_000);
});

describe('a model that fails on real inputs, canaried at 10%', () => {
  const NAME = 'rollout-fails';
  const LOAD = 'rollout-fails-load';
  const WEIGHT = 10;
  afterAll(() => remove([NAME], [LOAD]));

  it('is rolled back automatically: failures at most the weight times the step requests, none after the verdict', async () => {
    k(
      ['apply', '-f', '-'],
      stableModel(NAME, {
        strategy: 'Canary',
        steps: [
          { weight: WEIGHT, pauseSeconds: STEP_SECONDS },
          { weight: 50, pauseSeconds: STEP_SECONDS },
        ],
        analysis: { minRequests: MIN_REQUESTS },
      }),
    );
    await waitReady(NAME);
    const before = getJson(['deployment', NAME, '-n', NS])!;
    const load = startRecordedLoad(
      LOAD,
      url(NAME, '/score'),
      ROWS,
      EXPECTED,
      stable.tolerance,
      LOAD_SECONDS,
      CONCURRENCY,
    );
    let watch: ReturnType<typeof watchRollout> | undefined;
    try {
      await load.serving();
      watch = watchRollout(NAME);
      startRollout(NAME, 'rollout_fails.onnx', FAILS);
      await until(
        watch,
        'RolledBack',
        (r) => r.phase === 'RolledBack',
        (r) => terminal(r) || r.phase === 'Promoting' || r.step > 1,
        600_000,
      );
      const verdict = watch.runs().find((r) => r.last?.phase === 'RolledBack')!;
      await afterVerdict(NAME, load, verdict.firstSeenAt);
    } finally {
      await watch?.stop();
      load.finish();
    }
    const result = await load.result();
    const runs = watch.runs();
    console.log(`rollout of a model that fails on real inputs (time each state was seen):\n${timeline(runs)}`);

    // The verdict: rolled back at step 1, naming the error rate; the failing step's figures in status.
    const verdictAt = runs.findIndex((r) => r.last?.phase === 'RolledBack');
    const verdict = runs[verdictAt]!;
    const rolledBack = getJson(['sm', NAME, '-n', NS])!.status.rollout as RolloutStatus;
    expect(rolledBack).toMatchObject({ phase: 'RolledBack', step: 1, weight: 0, shadowPercent: 0 });
    expect(rolledBack.message).toMatch(/error rate/i);
    expect(verdict.first!.analysis!.candidate.errorRate).toBeGreaterThan(0.9);
    expect(runs.some((r) => (r.last?.step ?? 0) > 1)).toBe(false);

    // The step: from the last sighting of the state before the candidate got any request (it cannot have got one
    // before the status said so) to SWITCH_MS after the verdict was first seen.
    const reached = runs.findIndex((r) => (r.last?.weight ?? 0) > 0 || r.last?.phase === 'RolledBack');
    expect(reached).toBeGreaterThan(0);
    const stepFrom = runs[reached - 1]!.lastSentAt - LOAD_WINDOW_MS;
    const stepTo = verdict.firstSeenAt + SWITCH_MS;
    const step = between(result.windows, stepFrom - LOAD_WINDOW_MS, stepTo + LOAD_WINDOW_MS);
    console.log(
      `failed ${result.failed} of ${step.answered} requests during the step ` +
        `(${((stepTo - stepFrom) / 1000).toFixed(1)} s); after it ${JSON.stringify(between(result.windows, stepTo, Infinity))}; ` +
        `status at the verdict: ${JSON.stringify(verdict.first!.analysis)}; errors ${JSON.stringify(result.samples)}`,
    );
    // Every failure is the candidate's: the model could not score the input, answered as the scorer's 422.
    expect(result.failed).toBeGreaterThan(0);
    expect(Object.keys(result.errors)).toEqual(['HTTP 422']);
    expect(result.samples['HTTP 422']).toMatch(/the model could not score this input/);
    // At most the weight's share of the step's requests: the split is exact, and each stable replica may round its
    // share up by one request. The step's count includes the margins around it, which only add requests.
    expect(result.failed).toBeLessThanOrEqual(Math.ceil((WEIGHT / 100) * step.answered) + STABLE_REPLICAS);
    expect(between(result.windows, 0, stepFrom).failed).toBe(0);
    // None after the verdict: nothing reaches the candidate, every answer is the stable model's.
    const after = between(result.windows, stepTo, Infinity);
    expect(after.answered).toBeGreaterThan(0);
    expect({ failed: after.failed, candidate: after.candidate }).toEqual({ failed: 0, candidate: 0 });
    expect(result.wrong).toBe(0);

    // The stable Deployment untouched; the candidate gone; a warning event; the printer column.
    const now = getJson(['deployment', NAME, '-n', NS])!;
    expect(now.metadata.generation).toBe(before.metadata.generation);
    expect(revisionOf(now)).toBe(revisionOf(before));
    expect(rolledBack.stableRevision).toBe(revisionOf(before));
    expect(candidateGone(NAME)).toBe(true);
    expect(events(NAME)).toContain('Warning RolledBack');
    expect(columns(NAME)).toMatchObject({ ROLLOUT: 'RolledBack', WEIGHT: '0' });
    console.log(`message: ${rolledBack.message}`);
  }, 1_200_000);
});

describe('a model whose predictions differ, shadowed', () => {
  const NAME = 'rollout-disagrees';
  const LOAD = 'rollout-disagrees-load';
  afterAll(() => remove([NAME], [LOAD]));

  it('is stopped at the shadow step with the disagreement in status, no client ever getting its answers', async () => {
    k(
      ['apply', '-f', '-'],
      stableModel(NAME, {
        strategy: 'Shadow',
        shadow: { percent: 100, pauseSeconds: STEP_SECONDS },
        analysis: { minRequests: MIN_REQUESTS },
      }),
    );
    await waitReady(NAME);
    const before = getJson(['deployment', NAME, '-n', NS])!;
    const load = startRecordedLoad(
      LOAD,
      url(NAME, '/score'),
      ROWS,
      EXPECTED,
      stable.tolerance,
      LOAD_SECONDS,
      CONCURRENCY,
    );
    let watch: ReturnType<typeof watchRollout> | undefined;
    try {
      await load.serving();
      watch = watchRollout(NAME);
      startRollout(NAME, disagrees.file, disagrees.path);
      await until(
        watch,
        'RolledBack',
        (r) => r.phase === 'RolledBack',
        (r) => terminal(r) || r.phase === 'Promoting',
        600_000,
      );
      const verdict = watch.runs().find((r) => r.last?.phase === 'RolledBack')!;
      await afterVerdict(NAME, load, verdict.firstSeenAt);
    } finally {
      await watch?.stop();
      load.finish();
    }
    const result = await load.result();
    const runs = watch.runs();
    console.log(`rollout of a model that disagrees (time each state was seen):\n${timeline(runs)}`);

    // Stopped at the shadow step, the disagreement in status and in the message.
    const rolledBack = getJson(['sm', NAME, '-n', NS])!.status.rollout as RolloutStatus;
    expect(rolledBack).toMatchObject({ phase: 'RolledBack', step: 1, steps: 1, weight: 0, shadowPercent: 0 });
    expect(rolledBack.message).toMatch(/agree/i);
    const judged = runs.find((r) => r.last?.phase === 'RolledBack')!.first!.analysis!;
    console.log(`message: ${rolledBack.message}; status at the verdict: ${JSON.stringify(judged)}`);
    expect(judged.agreement!.rows).toBeGreaterThan(0);
    expect(judged.agreement!.share).toBeLessThan(0.99);
    expect(runs.every((r) => (r.last?.weight ?? 0) === 0)).toBe(true);

    // No client ever received one of its answers: none served by the candidate, every answer the stable model's.
    expect(result.ok).toBeGreaterThan(0);
    expect({ failed: result.failed, errors: result.errors, candidate: result.candidate, wrong: result.wrong }).toEqual({
      failed: 0,
      errors: {},
      candidate: 0,
      wrong: 0,
    });

    const now = getJson(['deployment', NAME, '-n', NS])!;
    expect(now.metadata.generation).toBe(before.metadata.generation);
    expect(revisionOf(now)).toBe(revisionOf(before));
    expect(candidateGone(NAME)).toBe(true);
    expect(events(NAME)).toContain('Warning RolledBack');
    expect(columns(NAME)).toMatchObject({ ROLLOUT: 'RolledBack', WEIGHT: '0' });
  }, 1_200_000);
});
