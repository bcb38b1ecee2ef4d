/**
 * The quickstart's model store: a Deployment and a Service in the cluster serving files over plain HTTP, so that a
 * ScoringModel's `model.uri` can be `http://model-store.scoring-models.svc.cluster.local/KEY`. It runs the scorer
 * image (its Node; no other image is needed, and that one is already in the cluster) and keeps its files in an
 * emptyDir: files of any size go in through `kubectl exec` (stdin streamed to the pod), in kind and on the local node
 * alike, where a ConfigMap would stop at 1 MiB. A store pod that restarts comes back empty; the scorers already
 * running keep their models (they load them at start-up), and putting the files again (the quickstart does) mends it.
 * A real deployment keeps its models in S3 or behind HTTPS instead.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';

export const STORE_NAMESPACE = 'scoring-models';
export const STORE_NAME = 'model-store';

/** The base URL scorer pods fetch the store's files from (cluster DNS). */
export function storeUrl(namespace = STORE_NAMESPACE): string {
  return `http://${STORE_NAME}.${namespace}.svc.cluster.local`;
}

/**
 * The files the samples in config/samples/ read from the store: key (the URL's path) -> file in this repository.
 * The fraud sample's v2 is the same model as its v1 under another URI: a rollout to it passes its steps.
 */
export const SAMPLE_FILES: Record<string, string> = {
  'iris/model.onnx': 'test/fixtures/shared/logreg_multiclass.onnx',
  'churn/model.json': 'test/fixtures/shared/xgb_binary.json',
  'churn-monitored/model.json': 'test/fixtures/generated/drift_churn.json',
  'churn-monitored/baseline.json': 'config/samples/churn.baseline.json',
  'fraud/v1/model.onnx': 'test/fixtures/shared/mlp_classifier.onnx',
  'fraud/v2/model.onnx': 'test/fixtures/shared/mlp_classifier.onnx',
};

/** GET (and HEAD) /KEY answers the file /models/KEY; nothing else is served. */
const SERVER = `
const http = require('http'), fs = require('fs'), path = require('path');
http.createServer((req, res) => {
  let rel;
  try { rel = path.posix.normalize(decodeURIComponent(new URL(req.url, 'http://store').pathname)); } catch { rel = '/'; }
  const file = path.join('/models', rel);
  const missing = () => { res.writeHead(404, { 'content-type': 'text/plain' }); res.end('not found\\n'); };
  if ((req.method !== 'GET' && req.method !== 'HEAD') || rel === '/') return missing();
  fs.stat(file, (err, st) => {
    if (err || !st.isFile()) return missing();
    res.writeHead(200, { 'content-length': st.size, 'content-type': 'application/octet-stream' });
    if (req.method === 'HEAD') return res.end();
    fs.createReadStream(file).pipe(res);
  });
}).listen(8080, () => console.log('serving /models on 8080'));`;

/** Writes stdin to /models/KEY (through a temporary file, renamed once whole); prints its digest and size. */
const WRITER = `
const fs = require('fs'), path = require('path'), crypto = require('crypto');
const file = path.join('/models', path.posix.normalize('/' + process.argv[1]));
fs.mkdirSync(path.dirname(file), { recursive: true });
const part = file + '.part', out = fs.createWriteStream(part), hash = crypto.createHash('sha256');
let bytes = 0;
process.stdin.on('data', (c) => { hash.update(c); bytes += c.length; });
process.stdin.pipe(out);
out.on('finish', () => { fs.renameSync(part, file); console.log(JSON.stringify({ sha256: hash.digest('hex'), bytes })); });`;

/** One request from the store's pod (inside the cluster); prints its status and body. */
const SEND = `
const [url, body] = process.argv.slice(1);
fetch(url, body ? { method: 'POST', headers: { 'content-type': 'application/json' }, body } : {})
  .then(async (r) => console.log(JSON.stringify({ status: r.status, body: await r.text() })))
  .catch((e) => console.log(JSON.stringify({ status: 0, body: String(e.cause?.code ?? e.message) })));`;

/** The store's Namespace, Deployment and Service, meeting the restricted Pod Security profile. */
export function storeManifests(image: string, namespace = STORE_NAMESPACE): Record<string, unknown>[] {
  const labels = { 'app.kubernetes.io/name': STORE_NAME, 'app.kubernetes.io/part-of': 'scoring-quickstart' };
  return [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: STORE_NAME, namespace, labels },
      spec: {
        replicas: 1,
        // One pod with its own emptyDir: a second would start empty.
        strategy: { type: 'Recreate' },
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            automountServiceAccountToken: false,
            securityContext: {
              runAsNonRoot: true,
              runAsUser: 65532,
              runAsGroup: 65532,
              seccompProfile: { type: 'RuntimeDefault' },
            },
            containers: [
              {
                name: 'store',
                image,
                imagePullPolicy: 'IfNotPresent',
                command: ['node', '-e', SERVER],
                ports: [{ name: 'http', containerPort: 8080 }],
                readinessProbe: { tcpSocket: { port: 8080 }, periodSeconds: 2 },
                resources: { requests: { cpu: '10m', memory: '64Mi' }, limits: { memory: '256Mi' } },
                securityContext: {
                  allowPrivilegeEscalation: false,
                  readOnlyRootFilesystem: true,
                  capabilities: { drop: ['ALL'] },
                },
                volumeMounts: [{ name: 'models', mountPath: '/models' }],
              },
            ],
            volumes: [{ name: 'models', emptyDir: {} }],
          },
        },
      },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: STORE_NAME, namespace, labels },
      spec: { selector: labels, ports: [{ name: 'http', port: 80, targetPort: 'http' }] },
    },
  ];
}

/** kubectl with the caller's KUBECONFIG; throws with its stderr when it fails. */
export function kubectl(args: string[], input?: string | number): string {
  const run = spawnSync('kubectl', args, {
    encoding: 'utf8',
    maxBuffer: 64 << 20,
    ...(typeof input === 'number' ? { stdio: [input, 'pipe', 'pipe'] } : { input }),
  });
  if (run.error) throw run.error;
  if (run.status !== 0) throw new Error(`kubectl ${args.slice(0, 4).join(' ')} ... failed: ${run.stderr.trim()}`);
  return run.stdout;
}

/** Applies the store and waits until its pod is ready. */
export function ensureStore(image: string, namespace = STORE_NAMESPACE): void {
  const list = { apiVersion: 'v1', kind: 'List', items: storeManifests(image, namespace) };
  kubectl(['apply', '-f', '-'], JSON.stringify(list));
  kubectl(['rollout', 'status', `deployment/${STORE_NAME}`, '-n', namespace, '--timeout=300s']);
}

/** Streams `file` into the store under `key`; returns what the store received (its digest and size). */
export function putFile(key: string, file: string, namespace = STORE_NAMESPACE): { sha256: string; bytes: number } {
  const fd = openSync(file, 'r');
  try {
    const out = kubectl(
      ['exec', '-i', '-n', namespace, `deployment/${STORE_NAME}`, '--', 'node', '-e', WRITER, key],
      fd,
    );
    return JSON.parse(out.trim().split('\n').pop()!) as { sha256: string; bytes: number };
  } finally {
    closeSync(fd);
  }
}

/** One request sent from the store's pod: any URL the cluster's pods reach. Status 0: no answer (the reason in body). */
export function sendFromStore(
  url: string,
  body?: unknown,
  namespace = STORE_NAMESPACE,
): { status: number; body: string } {
  const args = ['exec', '-n', namespace, `deployment/${STORE_NAME}`, '--', 'node', '-e', SEND, url];
  if (body !== undefined) args.push(JSON.stringify(body));
  return JSON.parse(kubectl(args).trim().split('\n').pop()!) as { status: number; body: string };
}

/** The scorer image the installed operator deploys (its SCORER_IMAGE): the store runs it too. */
export function operatorScorerImage(): string {
  const d = JSON.parse(kubectl(['get', 'deployment', 'scoring-operator', '-n', 'scoring-system', '-o', 'json'])) as {
    spec: { template: { spec: { containers: { env?: { name: string; value?: string }[] }[] } } };
  };
  const image = d.spec.template.spec.containers
    .flatMap((c) => c.env ?? [])
    .find((e) => e.name === 'SCORER_IMAGE')?.value;
  if (!image) throw new Error('the operator (deployment/scoring-operator in scoring-system) sets no SCORER_IMAGE');
  return image;
}
