/**
 * Drift judged across replicas, against the real API server: real scorer processes (the drift fixture's model and
 * baseline) listening on loopback addresses of their own stand in for a model's pods, whose status the test writes
 * as a kubelet would, with those addresses as pod IPs. The operator (its own, watching only this file's namespace)
 * asks each for its counts, sums them, and writes status.drift and the Drifted condition; with nothing new to say it
 * writes nothing.
 */
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { monitoringPath, monitoringReportSchema } from '../../contract/drift.js';
import { SCORER_PORT } from '../../contract/env.js';
import {
  audit,
  DIR,
  eventsOf,
  getJson,
  installOperatorPrerequisites,
  k,
  kubectl,
  OPERATOR_USER,
  readyPodStatus,
  ROOT,
  scoringModel,
  setPodStatus,
  freeLoopbackAddresses,
  startOperator,
  startScorerProcess,
  type ScorerProcess,
  waitFor,
  type OperatorProcess,
} from './kube.js';

const NS = 'drift';
const FIXTURES = join(ROOT, 'test/fixtures/generated');
const MODEL_FILE = join(FIXTURES, 'drift_churn.json');
const BASELINE_FILE = join(FIXTURES, 'drift_churn.baseline.json');
const BASELINE_SHA256 = createHash('sha256').update(readFileSync(BASELINE_FILE)).digest('hex');
/** The baseline's training rows, header first; an empty cell is a missing value. */
const TRAINING = readFileSync(join(FIXTURES, 'drift_churn.train.csv'), 'utf8').trim().split('\n');
const FEATURES = TRAINING[0]!.split(',');
const ROWS = TRAINING.slice(1).map((line) => line.split(',').map((v) => (v === '' ? null : Number(v))));
const INTERVAL_SECONDS = 10;

let op: OperatorProcess;
/** Loopback addresses on which the scorers' port is free: one per scorer "pod". */
let addresses: string[];

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- kubectl JSON

beforeAll(async () => {
  const kubeconfig = await installOperatorPrerequisites();
  if (kubectl(['get', 'namespace', NS]).status !== 0) k(['create', 'namespace', NS]);
  addresses = await freeLoopbackAddresses(2, SCORER_PORT);
  op = await startOperator(kubeconfig, {
    POD_NAME: 'operator-drift',
    LEADER_ELECT: 'false',
    WATCH_NAMESPACES: NS,
    // Each judgment logs "drift judged" at debug level: the quiet test counts them.
    LOG_LEVEL: 'debug',
  });
});

afterAll(async () => {
  k(['delete', 'sm', '--all', '-n', NS, '--wait=true']);
  await op.stop();
  k(['delete', 'namespace', NS, '--wait=false']);
  expect(op.logs().filter((l) => /forbidden/i.test(JSON.stringify(l)))).toEqual([]);
});

/** `node dist/scorer/main.js` serving the drift fixture as `model`, on `host`:8080, monitoring against `baseline`. */
function startScorer(host: string, model: string, baseline = BASELINE_FILE): Promise<ScorerProcess> {
  return startScorerProcess(host, { MODEL_URI: MODEL_FILE, MODEL_NAME: model, MONITOR_BASELINE: baseline });
}

/** Scores `rows` on a scorer, 100 rows a request. */
async function send(scorer: ScorerProcess, rows: (number | null)[][]): Promise<void> {
  for (let i = 0; i < rows.length; i += 100) {
    const res = await fetch(`${scorer.url}/score`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ X: rows.slice(i, i + 100) }),
    });
    if (!res.ok) throw new Error(`POST /score on ${scorer.host}: HTTP ${res.status} ${await res.text()}`);
  }
}

/** The scorer's own report, straight from it. */
async function reportOf(scorer: ScorerProcess, model: string) {
  const res = await fetch(scorer.url + monitoringPath(model));
  return monitoringReportSchema.parse(await res.json());
}

/** Applies a monitored ScoringModel of `replicas` and makes its pods ready at the scorers' addresses. */
async function monitoredModel(name: string, scorers: ScorerProcess[], monitoring: Json = {}): Promise<void> {
  k(
    ['apply', '-f', '-'],
    scoringModel(
      name,
      {
        model: { uri: 'https://models.example/churn.json' },
        replicas: scorers.length,
        monitoring: {
          baseline: { uri: 'https://models.example/churn.baseline.json' },
          minRows: 200,
          intervalSeconds: INTERVAL_SECONDS,
          ...monitoring,
        },
      },
      NS,
    ),
  );
  const pods = await waitFor(`${scorers.length} pods of ${name}`, () => {
    const names = k(['get', 'pods', '-n', NS, '-l', `app.kubernetes.io/instance=${name}`, '-o', 'name'])
      .split('\n')
      .filter(Boolean);
    return names.length === scorers.length ? names : undefined;
  });
  pods.forEach((pod, i) => {
    const ip = scorers[i]!.host;
    setPodStatus(pod, { ...readyPodStatus(), podIP: ip, podIPs: [{ ip }] }, NS);
  });
}

const sm = (name: string) => getJson(['scoringmodel', name, '-n', NS]);
const drifted = (name: string) =>
  (sm(name)?.status?.conditions as Json[] | undefined)?.find((c) => c.type === 'Drifted');
/** The operator's writes of a ScoringModel (its status) in the audit log, after `since`. */
const statusWrites = (name: string, since: Date) =>
  audit().filter(
    (e) =>
      e.user.username === OPERATOR_USER &&
      !['get', 'list', 'watch'].includes(e.verb) &&
      e.objectRef?.resource === 'scoringmodels' &&
      e.objectRef.namespace === NS &&
      e.objectRef.name === name &&
      new Date(e.stageTimestamp) > since,
  );
const judgments = (name: string) =>
  op.logs().filter((l) => l.msg === 'drift judged' && l.scoringmodel === `${NS}/${name}`).length;

describe('a monitored model served by two scorers', () => {
  const scorers: ScorerProcess[] = [];
  afterEach(async () => {
    await Promise.all(scorers.splice(0).map((s) => s.stop()));
  });

  it("sums both scorers' counts, Drifted=False for training-like traffic, then writes nothing while nothing changes", async () => {
    scorers.push(...(await Promise.all(addresses.map((host) => startScorer(host, 'steady')))));
    await monitoredModel('steady', scorers, {
      baseline: { uri: 'https://models.example/b.json', sha256: BASELINE_SHA256 },
    });
    await send(scorers[0]!, ROWS.slice(0, 300));
    await send(scorers[1]!, ROWS.slice(300, 500));
    const [a, b] = await Promise.all(scorers.map((s) => reportOf(s, 'steady')));
    expect([a!.window.rows, b!.window.rows]).toEqual([300, 200]);

    const drift = await waitFor(
      'status.drift of both scorers',
      () => {
        const d = sm('steady')?.status?.drift;
        return d?.pods?.answered === 2 && d.windowRows === 500 ? d : undefined;
      },
      4 * INTERVAL_SECONDS * 1000,
    );
    expect(drift).toEqual({
      judgedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
      windowRows: 500,
      pods: { answered: 2, asked: 2 },
      features: expect.any(Array),
      outputs: [{ name: 'score', psi: expect.any(Number) }],
    });
    expect(drift.features).toHaveLength(3);
    for (const f of [...drift.features, ...drift.outputs]) expect(f.psi).toBeLessThanOrEqual(0.2);
    expect(drifted('steady')).toMatchObject({ status: 'False', reason: 'PSIWithinThreshold' });
    expect(k(['get', 'sm', 'steady', '-n', NS])).toMatch(/\sDRIFT\s[\s\S]*^steady\s.*\sFalse\s+\S+$/m);
    await waitFor('the Drifted event', () => eventsOf('steady', NS).includes('Normal Drifted=PSIWithinThreshold'));

    // Two more judgments, with the same counts: no write.
    const since = new Date();
    const before = judgments('steady');
    await waitFor('two more judgments', () => judgments('steady') >= before + 2, 3 * INTERVAL_SECONDS * 1000);
    const until = new Date();
    await waitFor('the audit log past the judgments', () => audit().some((e) => new Date(e.stageTimestamp) > until));
    expect(statusWrites('steady', since)).toEqual([]);
    // The same filter finds the writes that put the figures there.
    expect(statusWrites('steady', new Date(0)).length).toBeGreaterThan(0);
    expect(sm('steady')!.status.drift).toEqual(drift);
  });

  it('turns Drifted=True naming the one feature shifted, with a Warning, and the model stays Ready', async () => {
    scorers.push(...(await Promise.all(addresses.map((host) => startScorer(host, 'shifted')))));
    await monitoredModel('shifted', scorers);
    const tenure = FEATURES.indexOf('tenure_months');
    // Customers of six more years: every tenure above the training range's top edge.
    const shifted = ROWS.slice(0, 500).map((row) => row.map((v, i) => (i === tenure && v !== null ? v + 72 : v)));
    await send(scorers[0]!, shifted.slice(0, 250));
    await send(scorers[1]!, shifted.slice(250));

    const condition = await waitFor(
      'Drifted=True',
      () => {
        const c = drifted('shifted');
        return c?.status === 'True' ? c : undefined;
      },
      4 * INTERVAL_SECONDS * 1000,
    );
    expect(condition).toMatchObject({
      reason: 'PSIAboveThreshold',
      message: expect.stringMatching(/^PSI above the threshold 0\.2: features tenure_months [\d.]+(;|$)/),
    });
    const drift = sm('shifted')!.status.drift;
    expect(drift).toMatchObject({ windowRows: 500, pods: { answered: 2, asked: 2 } });
    expect(drift.features[0]).toEqual({ name: 'tenure_months', psi: expect.any(Number) });
    expect(drift.features[0].psi).toBeGreaterThan(0.2);
    expect(k(['get', 'sm', 'shifted', '-n', NS])).toMatch(/^shifted\s.*\sTrue\s+\S+$/m);
    await waitFor('the Warning', () => eventsOf('shifted', NS).includes('Warning Drifted=PSIAboveThreshold'));
    await waitFor('Ready=True', () =>
      (sm('shifted')!.status.conditions as Json[]).some((c) => c.type === 'Ready' && c.status === 'True'),
    );
    expect(drifted('shifted')!.status).toBe('True');
    expect((sm('shifted')!.status.conditions as Json[]).map((c) => c.type)).not.toContain('Stalled');
  });

  it("says why when the scorers cannot use the baseline, in the scorer's words", async () => {
    scorers.push(await startScorer(addresses[0]!, 'blind', join(DIR, 'no-such-baseline.json')));
    await monitoredModel('blind', scorers);
    const condition = await waitFor(
      'Drifted=Unknown BaselineUnavailable',
      () => {
        const c = drifted('blind');
        return c?.reason === 'BaselineUnavailable' ? c : undefined;
      },
      4 * INTERVAL_SECONDS * 1000,
    );
    expect(condition.status).toBe('Unknown');
    expect(condition.message).toContain(`cannot load baseline ${join(DIR, 'no-such-baseline.json')}`);
    expect(sm('blind')!.status.drift).toMatchObject({ windowRows: 0, pods: { answered: 0, asked: 1 } });
    await waitFor('the Warning', () => eventsOf('blind', NS).includes('Warning Drifted=BaselineUnavailable'));
  });
});
