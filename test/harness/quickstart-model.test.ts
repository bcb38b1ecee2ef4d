/**
 * harness/quickstart-model.ts and harness/model-store.ts without a cluster: the command line, the name a model file
 * gives its ScoringModel, and the samples' models: every sample that reads the quickstart's store names a file the
 * quickstart puts there, with that file's digest.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { load } from 'js-yaml';
import { SAMPLE_FILES, STORE_NAMESPACE, storeManifests, storeUrl } from '../../harness/model-store.js';
import { describeLoaded, nameFromFile, parseOptions, UsageError } from '../../harness/quickstart-model.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const digest = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

describe('parseOptions', () => {
  const dir = mkdtempSync(join(tmpdir(), 'quickstart-model-'));
  for (const f of ['My Model.v2.onnx', 'churn.json', 'trees.txt', 'cats.ubj', 'weights.bin', '2024_fraud.onnx']) {
    writeFileSync(join(dir, f), 'x');
  }

  it('reads --model relative to the directory it was run from, with the format from the name and defaults', () => {
    expect(parseOptions(['--model', 'churn.json'], dir)).toEqual({
      command: 'model',
      model: join(dir, 'churn.json'),
      name: 'churn',
      format: 'xgboost',
      namespace: 'default',
      storeNamespace: STORE_NAMESPACE,
      reach: 'port-forward',
      timeoutSeconds: 300,
    });
  });

  it.each([
    ['My Model.v2.onnx', 'onnx', 'my-model-v2'],
    ['trees.txt', 'lightgbm', 'trees'],
    ['cats.ubj', 'xgboost', 'cats'],
    ['2024_fraud.onnx', 'onnx', 'model-2024-fraud'],
  ])('%s is a %s model named %s', (file, format, name) => {
    expect(parseOptions([`--model=${join(dir, file)}`])).toMatchObject({ format, name });
  });

  it('takes every flag', () => {
    const args = ['--model', 'weights.bin', '--format', 'onnx', '--name', 'w', '--namespace', 'team', '--reach'];
    expect(
      parseOptions([...args, 'clusterip', '--timeout', '60', '--store-namespace', 's', '--image', 'i:1'], dir),
    ).toEqual({
      command: 'model',
      model: join(dir, 'weights.bin'),
      name: 'w',
      format: 'onnx',
      namespace: 'team',
      storeNamespace: 's',
      reach: 'clusterip',
      timeoutSeconds: 60,
      image: 'i:1',
    });
    expect(parseOptions(['--samples'])).toEqual({ command: 'samples', storeNamespace: STORE_NAMESPACE });
  });

  it.each([
    [[], '--samples or --model PATH is required'],
    [['--model', 'nothing.onnx'], '--model nothing.onnx: no such file'],
    [['--model', 'weights.bin'], 'does not say its format'],
    [['--model', 'weights.bin', '--format', 'pickle'], '--format pickle: one of onnx, xgboost, lightgbm'],
    [['--model', 'churn.json', '--format', 'identity'], '--format identity'],
    [['--model', 'churn.json', '--name', 'Churn'], 'DNS-1035 label'],
    [['--model', 'churn.json', '--reach', 'nodeport'], '--reach nodeport: one of clusterip, port-forward'],
    [['--model', 'churn.json', '--timeout', '0'], '--timeout 0'],
    [['--model', 'churn.json', '--replicas', '2'], "Unknown option '--replicas'"],
    [['--model', 'churn.json', '--samples'], 'separate runs'],
  ])('refuses %j saying why', (args, message) => {
    expect(() => parseOptions(args, dir)).toThrow(UsageError);
    expect(() => parseOptions(args, dir)).toThrow(message);
  });
});

describe('nameFromFile', () => {
  it.each([
    ['/a/b/model.onnx', 'model'],
    ['XGB__Binary.json', 'xgb-binary'],
    ['-x-.txt', 'x'],
    ['123.onnx', 'model-123'],
    [`${'a'.repeat(62)}-b.onnx`, 'a'.repeat(62)],
  ])('%s -> %s', (file, name) => {
    expect(nameFromFile(file)).toBe(name);
    expect(name).toMatch(/^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/);
  });
});

describe("the samples' models", () => {
  const dir = `${root}config/samples/`;
  const uris = readdirSync(dir)
    .filter((f) => f.startsWith('scoring_') && f.endsWith('.yaml'))
    .flatMap((f) => {
      const spec = (load(readFileSync(dir + f, 'utf8')) as { spec: Record<string, any> }).spec; // eslint-disable-line @typescript-eslint/no-explicit-any
      return [
        [f, spec.model.uri as string, spec.model.sha256 as string | undefined],
        ...(spec.monitoring
          ? [[f, spec.monitoring.baseline.uri as string, spec.monitoring.baseline.sha256 as string]]
          : []),
      ] as [string, string, string | undefined][];
    });

  it('point at nothing that does not exist: the identity model, or the quickstart store', () => {
    for (const [, uri] of uris) expect(uri === 'identity' || uri.startsWith(`${storeUrl()}/`)).toBe(true);
  });

  it.each(uris.filter(([, uri]) => uri !== 'identity'))(
    '%s: %s is a file the quickstart puts in the store',
    (_f, uri, sha) => {
      const file = SAMPLE_FILES[uri.slice(storeUrl().length + 1)];
      expect(file).toBeDefined();
      if (sha) expect(digest(`${root}${file}`)).toBe(sha);
    },
  );

  it("holds the fraud sample's v2, the model its comment rolls out to", () => {
    expect(readFileSync(`${dir}scoring_v1alpha1_scoringmodel_rollout.yaml`, 'utf8')).toContain(
      `${storeUrl()}/fraud/v2/model.onnx`,
    );
    expect(SAMPLE_FILES['fraud/v2/model.onnx']).toBeDefined();
  });
});

describe('storeManifests', () => {
  it('runs one pod of the given image under the restricted profile, its files in an emptyDir, behind port 80', () => {
    const [ns, deployment, service] = storeManifests('img:1', 'store') as Record<string, any>[]; // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(ns).toMatchObject({ kind: 'Namespace', metadata: { name: 'store' } });
    const pod = deployment!.spec.template.spec;
    expect(deployment!.spec).toMatchObject({ replicas: 1, strategy: { type: 'Recreate' } });
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
    expect(pod.containers[0]).toMatchObject({
      image: 'img:1',
      securityContext: {
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        capabilities: { drop: ['ALL'] },
      },
    });
    expect(pod.volumes).toEqual([{ name: 'models', emptyDir: {} }]);
    expect(service!.spec.ports).toEqual([{ name: 'http', port: 80, targetPort: 'http' }]);
    expect(storeUrl('store')).toBe('http://model-store.store.svc.cluster.local');
  });
});

describe('describeLoaded', () => {
  it('says where the model is, its tensors, its answer, and the commands last', () => {
    const text = describeLoaded({
      name: 'churn',
      namespace: 'default',
      uri: 'http://model-store.scoring-models.svc.cluster.local/user/churn/churn.json',
      metadata: {
        name: 'churn',
        inputs: [{ name: 'X', datatype: 'FP32', shape: [-1, 5] }],
        outputs: [{ name: 'score', datatype: 'FP32', shape: [-1] }],
      },
      requests: { infer: { inputs: [] }, score: { X: [0, 0, 0, 0, 0] } },
      answer: { score: [0.25] },
      commands: ['kubectl port-forward -n default service/churn 8080:80 &', 'curl ...'],
    });
    expect(text.split('\n')).toEqual([
      'model default/churn is Ready, from http://model-store.scoring-models.svc.cluster.local/user/churn/churn.json',
      'inputs: X FP32 [-1, 5]; outputs: score FP32 [-1]',
      'a row of zeros (POST /score) answered: {"score":[0.25]}',
      '',
      'kubectl port-forward -n default service/churn 8080:80 &',
      'curl ...',
    ]);
  });
});
