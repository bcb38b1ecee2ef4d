/**
 * End to end on the local node: the ways a model reaches a scorer pod, each in a namespace of its own test's.
 *
 * - the quickstart's `--model`: harness/quickstart-model.js, the very command scripts/quickstart.sh runs, puts a
 *   fixture into the in-cluster model store, applies its ScoringModel and prints `curl` commands; those commands,
 *   run from this machine, are answered, and the model answers the fixture's rows with the library's predictions;
 * - every sample in config/samples/, its models put into the quickstart's store by the same command, is Ready and
 *   answers its fixture's rows;
 * - `s3://` from a real S3-compatible server: MinIO (scripts/build-minio.sh) on this machine, at the address the node's
 *   pods reach it by (the API server's: the local node's host end), the keys in a Secret (`credentials.secretRef`),
 *   `S3_ENDPOINT` in `spec.env`;
 * - `pvc://` from a PersistentVolumeClaim bound to a local PersistentVolume: a directory of this machine, which is
 *   the node's.
 * `http://` is the scoring suite's model store (test/e2e/scoring.test.ts).
 */
import { execFile } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { load } from 'js-yaml';
import { STORE_NAMESPACE } from '../../harness/model-store.js';
import { ADMIN, ROOT, getJson, k, kubectl, waitFor } from '../cluster/kube.js';
import { fixtures, maxRelativeError, type Fixture } from '../helpers/fixtures.js';
import { startS3Server, type S3Server } from '../servers/s3.js';
import {
  SCORER_IMAGE,
  installOperator,
  makeNamespace,
  ready,
  sendOnceServed,
  sha256,
  startClient,
  url,
  waitReady,
} from './world.js';

const run = promisify(execFile);
const fixture = (name: string) => fixtures().find((f) => f.name === name)!;
/** What `/score` returns for a fixture: its first output (ONNX), else `score`. */
const expectedScore = (f: Fixture) => f.expected[f.outputs?.[0] ?? 'score']!;

/** harness/quickstart-model.js, as scripts/quickstart.sh runs it; its stdout. */
async function quickstartModel(args: string[]): Promise<string> {
  const { stdout } = await run(process.execPath, [`${ROOT}dist/harness/quickstart-model.js`, ...args], {
    cwd: ROOT,
    env: { ...process.env, KUBECONFIG: ADMIN },
    maxBuffer: 16 << 20,
  }).catch((err: Error & { stderr?: string }) => {
    throw new Error(`quickstart-model ${args.join(' ')} failed: ${err.stderr ?? err.message}`, { cause: err });
  });
  return stdout;
}

/** A namespace of a test's own, made anew (a run that stopped half-way leaves it behind), with its client pod. */
function freshNamespace(ns: string, client = true): void {
  deleteNamespace(ns);
  makeNamespace(ns);
  if (client) startClient(ns);
}

function deleteNamespace(ns: string): void {
  kubectl(['delete', 'namespace', ns, '--ignore-not-found', '--wait=true', '--timeout=180s']);
}

/** Sends the fixture's rows to the model's /score from the namespace's client pod; the largest relative error. */
async function errorOnFixture(name: string, ns: string, f: Fixture): Promise<number> {
  const reply = await sendOnceServed(url(name, '/score', ns), { X: f.inputs }, ns);
  expect(reply.status).toBe(200);
  return maxRelativeError((reply.body as { score: unknown[] }).score, expectedScore(f));
}

beforeAll(() => installOperator(), 600_000);

describe('the quickstart with --model', () => {
  const NS = 'e2e-quickstart';
  const STORE_NS = 'e2e-quickstart-store';
  const dir = mkdtempSync(join(tmpdir(), 'e2e-quickstart-'));
  // The XGBoost fixture with 2 MiB of trailing whitespace (still the same JSON): larger than a ConfigMap may hold,
  // so the store's way in (kubectl exec, streamed) is the one exercised.
  const big = join(dir, 'churn-big.json');
  writeFileSync(big, Buffer.concat([readFileSync(fixture('xgb_binary').path), Buffer.alloc(2 << 20, ' ')]));

  beforeAll(() => {
    freshNamespace(NS);
    deleteNamespace(STORE_NS);
  }, 600_000);
  afterAll(() => {
    deleteNamespace(NS);
    deleteNamespace(STORE_NS);
    rmSync(dir, { recursive: true, force: true });
  }, 600_000);

  it.each([
    ['an ONNX model', 'mlp_classifier', fixture('mlp_classifier').path, 'mlp-classifier'],
    ['an XGBoost JSON model of 2 MiB', 'xgb_binary', big, 'churn-big'],
    ['a LightGBM text model', 'lgbm_multiclass', fixture('lgbm_multiclass').path, 'lgbm-multiclass'],
  ])(
    '%s (%s) is served, its printed curl commands are answered, and it predicts as the library',
    async (_what, name, file, model) => {
      const f = fixture(name);
      const out = await quickstartModel([
        '--model',
        file,
        '--namespace',
        NS,
        '--store-namespace',
        STORE_NS,
        '--reach',
        'clusterip',
        '--image',
        SCORER_IMAGE,
      ]);
      console.log(`quickstart-model --model ${file}:\n${out}`);
      const lines = out.trim().split('\n');
      expect(lines[0]).toBe(
        `model ${NS}/${model} is Ready, from http://model-store.${STORE_NS}.svc.cluster.local/user/${model}/${file.split('/').pop()}`,
      );
      const zeros = /^a row of zeros \(POST \/score\) answered: (.*)$/.exec(lines[2]!)?.[1];
      expect(zeros).toBeDefined();
      // The commands, as a user copies them, from this machine (which routes the Service range to the node).
      const curls = lines.filter((l) => l.startsWith('curl '));
      expect(curls.map((c) => /http:\/\/[\d.]+(\/\S+)/.exec(c)?.[1])).toEqual(['/score', `/v2/models/${model}/infer`]);
      const [score, infer] = await Promise.all(
        curls.map((c) =>
          waitFor(`${c} to be answered`, async () => (await run('bash', ['-c', `${c} -f`])).stdout, 60_000, 500),
        ),
      );
      expect(JSON.parse(score!)).toEqual(JSON.parse(zeros!));
      expect(JSON.parse(infer!)).toMatchObject({
        model_name: model,
        outputs: [expect.objectContaining({ shape: expect.any(Array) })],
      });
      // The model is the fixture: the library's predictions on its rows.
      expect(await errorOnFixture(model, NS, f)).toBeLessThanOrEqual(f.tolerance);
      expect(getJson(['sm', model, '-n', NS])!.spec.model).toEqual({
        uri: `http://model-store.${STORE_NS}.svc.cluster.local/user/${model}/${file.split('/').pop()}`,
        format: f.format,
        sha256: sha256(file),
      });
    },
  );
});

describe('the samples on the quickstart store', () => {
  const NS = 'e2e-samples';
  const dir = `${ROOT}config/samples/`;
  const files = ['identity', 'onnx', 'xgboost', 'drift', 'rollout'].map(
    (s) => `scoring_v1alpha1_scoringmodel_${s}.yaml`,
  );
  /** The fixture each sample's model is (config/samples' comments; harness/model-store.ts SAMPLE_FILES). */
  const models: Record<string, Fixture | 'identity'> = {
    identity: 'identity',
    iris: fixture('logreg_multiclass'),
    churn: fixture('xgb_binary'),
    'churn-monitored': fixture('drift_churn'),
    fraud: fixture('mlp_classifier'),
  };

  beforeAll(() => {
    freshNamespace(NS);
    deleteNamespace(STORE_NAMESPACE);
  }, 600_000);
  afterAll(() => {
    deleteNamespace(NS);
    deleteNamespace(STORE_NAMESPACE);
  }, 600_000);

  it('every sample, its models put into the store as the quickstart does, is Ready and answers as its fixture', async () => {
    const names = files.map(
      (f) => (load(readFileSync(dir + f, 'utf8')) as { metadata: { name: string } }).metadata.name,
    );
    expect(names.sort()).toEqual(Object.keys(models).sort());
    await quickstartModel(['--samples', '--image', SCORER_IMAGE]);
    for (const f of files) k(['apply', '-n', NS, '-f', dir + f]);
    for (const name of names) {
      await waitFor(
        `sample ${name} Ready`,
        () => {
          const c = ready(name, NS);
          if (c?.reason === 'ModelLoadFailed') throw new Error(`${name}: ${c.message}`);
          return c?.status === 'True';
        },
        300_000,
        1000,
      );
    }
    console.log(`the samples:\n${k(['get', 'sm', '-n', NS])}`);
    for (const name of names) {
      const m = models[name]!;
      if (m === 'identity') {
        expect(await sendOnceServed(url(name, '/score', NS), { X: [1, 2] }, NS)).toEqual({
          status: 200,
          body: { score: [1, 2] },
        });
      } else {
        const error = await errorOnFixture(name, NS, m);
        expect({ name, error, within: error <= m.tolerance }).toMatchObject({ name, within: true });
      }
    }
    // The monitored sample's scorers fetched its baseline too (their digest is the sample's): drift is judged.
    await waitFor(
      "churn-monitored's baseline loaded (Drifted judged)",
      () => {
        const conditions = getJson(['sm', 'churn-monitored', '-n', NS])?.status?.conditions as
          { type: string; reason: string }[] | undefined;
        const drifted = conditions?.find((c) => c.type === 'Drifted');
        if (drifted?.reason === 'BaselineUnavailable')
          throw new Error(`baseline unavailable: ${JSON.stringify(drifted)}`);
        return drifted?.reason === 'TooFewRows';
      },
      180_000,
      1000,
    );
  });
});

/** The address of this machine that the node's pods reach: the API server's (the local node's host end). */
function hostAddress(): string {
  const server = k(['config', 'view', '--minify', '-o', 'jsonpath={.clusters[0].cluster.server}']);
  return new URL(server).hostname;
}
const onLocalNode = !/^(127\.|localhost$|\[?::1)/.test(hostAddress());
if (!onLocalNode) console.warn('s3:// and pvc:// from this machine need the local node (e2e/local/run.sh): skipped');
const localIt = onLocalNode ? it : it.skip;

describe('s3:// from a real S3-compatible server', () => {
  const NS = 'e2e-s3';
  const xgboost = fixture('xgb_binary');
  let s3: S3Server | undefined;

  beforeAll(async () => {
    if (!onLocalNode) return;
    freshNamespace(NS);
    s3 = await startS3Server({ host: hostAddress() });
    await s3.bucket('models');
    await s3.put('models', 'churn/model.json', readFileSync(xgboost.path));
  }, 600_000);
  afterAll(async () => {
    if (!onLocalNode) return;
    deleteNamespace(NS);
    await s3?.stop();
  }, 600_000);

  const model = (name: string, secret: string) => ({
    apiVersion: 'scoring.dev/v1alpha1',
    kind: 'ScoringModel',
    metadata: { name, namespace: NS },
    spec: {
      model: { uri: 's3://models/churn/model.json', sha256: sha256(xgboost.path) },
      credentials: { secretRef: { name: secret } },
      env: [{ name: 'S3_ENDPOINT', value: s3!.endpoint }],
    },
  });
  const secret = (name: string, key: string, value: string) =>
    k([
      'create',
      'secret',
      'generic',
      name,
      '-n',
      NS,
      `--from-literal=AWS_ACCESS_KEY_ID=${key}`,
      `--from-literal=AWS_SECRET_ACCESS_KEY=${value}`,
    ]);

  localIt(
    'loads the model with the keys of the Secret credentials.secretRef names, and predicts as XGBoost',
    async () => {
      secret('s3-credentials', s3!.accessKeyId, s3!.secretAccessKey);
      k(['apply', '-f', '-'], JSON.stringify(model('churn-s3', 's3-credentials')));
      await waitReady('churn-s3', 300_000, NS);
      expect(await errorOnFixture('churn-s3', NS, xgboost)).toBeLessThanOrEqual(xgboost.tolerance);
      // The keys reach the scorer from the Secret, by reference: the Deployment holds its name, not its values.
      const deployment = JSON.stringify(getJson(['deployment', 'churn-s3', '-n', NS]));
      expect(deployment).toContain('"envFrom":[{"secretRef":{"name":"s3-credentials"}}]');
      expect(deployment).not.toContain(s3!.secretAccessKey);
    },
  );

  // The control: the same model, with a Secret whose key the server does not know, cannot load.
  localIt('refuses to load with a wrong key: ModelLoadFailed naming the object and the key to check', async () => {
    secret('wrong-credentials', s3!.accessKeyId, 'not-the-secret-key');
    k(['apply', '-f', '-'], JSON.stringify(model('churn-s3-wrong', 'wrong-credentials')));
    const condition = await waitFor(
      'churn-s3-wrong ModelLoadFailed',
      () => {
        const c = ready('churn-s3-wrong', NS);
        return c?.reason === 'ModelLoadFailed' ? c : undefined;
      },
      300_000,
      1000,
    );
    console.log(`s3 with a wrong key: ${condition.message}`);
    expect(condition.message).toContain(
      'cannot load model s3://models/churn/model.json: the request signature does not match (check AWS_SECRET_ACCESS_KEY)',
    );
  });
});

describe('pvc:// from a claim bound to a local PersistentVolume', () => {
  const NS = 'e2e-pvc';
  const PV = 'e2e-pvc-models';
  const onnx = fixture('mlp_classifier');
  // A directory of this machine is the node's: the kubelet bind-mounts it into the scorer pods.
  const dir = mkdtempSync(join(tmpdir(), 'e2e-pv-'));

  beforeAll(() => {
    if (!onLocalNode) return;
    freshNamespace(NS);
    kubectl(['delete', 'pv', PV, '--ignore-not-found', '--wait=true', '--timeout=120s']);
    mkdirSync(join(dir, 'fraud'));
    copyFileSync(onnx.path, join(dir, 'fraud/model.onnx'));
    // The scorer runs as a user of its own: the directory must be readable by any.
    chmodSync(dir, 0o755);
    chmodSync(join(dir, 'fraud'), 0o755);
    chmodSync(join(dir, 'fraud/model.onnx'), 0o644);
  }, 600_000);
  afterAll(() => {
    if (onLocalNode) {
      deleteNamespace(NS);
      kubectl(['delete', 'pv', PV, '--ignore-not-found', '--wait=true', '--timeout=120s']);
    }
    rmSync(dir, { recursive: true, force: true });
  }, 600_000);

  localIt('loads the model from the claim, mounted read-only, and predicts as scikit-learn', async () => {
    const node = k(['get', 'nodes', '-o', 'jsonpath={.items[0].metadata.name}']).trim();
    k(
      ['apply', '-f', '-'],
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'List',
        items: [
          {
            apiVersion: 'v1',
            kind: 'PersistentVolume',
            metadata: { name: PV },
            spec: {
              capacity: { storage: '10Mi' },
              accessModes: ['ReadOnlyMany'],
              persistentVolumeReclaimPolicy: 'Retain',
              storageClassName: '',
              local: { path: dir },
              nodeAffinity: {
                required: {
                  nodeSelectorTerms: [
                    { matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [node] }] },
                  ],
                },
              },
              claimRef: { namespace: NS, name: 'models' },
            },
          },
          {
            apiVersion: 'v1',
            kind: 'PersistentVolumeClaim',
            metadata: { name: 'models', namespace: NS },
            spec: {
              accessModes: ['ReadOnlyMany'],
              storageClassName: '',
              volumeName: PV,
              resources: { requests: { storage: '10Mi' } },
            },
          },
        ],
      }),
    );
    await waitFor(
      'the claim bound',
      () => getJson(['pvc', 'models', '-n', NS])?.status?.phase === 'Bound',
      120_000,
      500,
    );
    k(
      ['apply', '-f', '-'],
      JSON.stringify({
        apiVersion: 'scoring.dev/v1alpha1',
        kind: 'ScoringModel',
        metadata: { name: 'fraud-pvc', namespace: NS },
        spec: { model: { uri: 'pvc://models/fraud/model.onnx', sha256: sha256(onnx.path) } },
      }),
    );
    await waitReady('fraud-pvc', 300_000, NS);
    expect(await errorOnFixture('fraud-pvc', NS, onnx)).toBeLessThanOrEqual(onnx.tolerance);
    const pod = getJson(['deployment', 'fraud-pvc', '-n', NS])!.spec.template.spec;
    expect(pod.volumes).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ persistentVolumeClaim: { claimName: 'models', readOnly: true } }),
      ]),
    );
  });
});
