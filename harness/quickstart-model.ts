/**
 * The quickstart's models (scripts/quickstart.sh calls it; the e2e suite too, against its own cluster):
 *
 *   node dist/harness/quickstart-model.js --samples
 *     puts the files the samples in config/samples/ read into the model store (harness/model-store.ts);
 *   node dist/harness/quickstart-model.js --model PATH [--name NAME] [--format F] [--namespace NS] [--reach R]
 *     puts a model file of the user's into the store, applies a ScoringModel for it, waits until it is Ready, reads
 *     its inputs from its V2 metadata, scores a row of zeros from inside the cluster, and prints the `curl` commands
 *     that send the same request: to the Service's ClusterIP (`--reach clusterip`: the local node, whose host routes
 *     the Service range) or through `kubectl port-forward` (`--reach port-forward`, the default: kind, any cluster).
 *
 * Progress goes to stderr; stdout gets the result: the model, its answer to the row of zeros, and the commands.
 * The cluster is the one KUBECONFIG names, with the operator installed.
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, statSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { MODEL_FORMATS, formatFromName, type ModelFormat } from '../contract/formats.js';
import {
  curlCommand,
  exampleRequests,
  parseMetadata,
  type ExampleRequests,
  type ModelMetadata,
} from './model-request.js';
import {
  SAMPLE_FILES,
  STORE_NAMESPACE,
  ensureStore,
  kubectl,
  operatorScorerImage,
  putFile,
  sendFromStore,
  storeUrl,
} from './model-store.js';
import { repoRoot } from './paths.js';
import { StopWaiting, waitFor } from './wait.js';

export class UsageError extends Error {}

export const REACH = ['clusterip', 'port-forward'] as const;
export type Reach = (typeof REACH)[number];

export type Options =
  | { command: 'samples'; storeNamespace: string; image?: string }
  | {
      command: 'model';
      model: string;
      name: string;
      format: Exclude<ModelFormat, 'identity'>;
      namespace: string;
      storeNamespace: string;
      reach: Reach;
      timeoutSeconds: number;
      image?: string;
    };

const USAGE =
  'usage: quickstart-model --samples | --model PATH [--name NAME] [--format onnx|xgboost|lightgbm] ' +
  '[--namespace NS] [--reach clusterip|port-forward] [--timeout SECONDS] [--store-namespace NS] [--image IMAGE]';

/**
 * A ScoringModel name (a DNS-1035 label) from a model's file name: lower case, runs of other characters as `-`,
 * starting with a letter (`model-` put before one that does not), at most 63 characters.
 */
export function nameFromFile(file: string): string {
  const stem = basename(file).replace(/\.[^.]*$/, '');
  let name = stem
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/-+/g, '-')
    .replace(/^-|-$/g, '');
  if (!/^[a-z]/.test(name)) name = `model-${name}`.replace(/-$/, '');
  return name.slice(0, 63).replace(/-+$/, '');
}

/** The command line's options; throws UsageError saying what is wrong. `cwd` resolves a relative --model path. */
export function parseOptions(argv: string[], cwd = process.cwd()): Options {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        samples: { type: 'boolean' },
        model: { type: 'string' },
        name: { type: 'string' },
        format: { type: 'string' },
        namespace: { type: 'string' },
        reach: { type: 'string' },
        timeout: { type: 'string' },
        'store-namespace': { type: 'string' },
        image: { type: 'string' },
      },
    }));
  } catch (err) {
    throw new UsageError(`${(err as Error).message}\n${USAGE}`);
  }
  const storeNamespace = values['store-namespace'] ?? STORE_NAMESPACE;
  const image = values.image;
  if (values.samples && values.model !== undefined)
    throw new UsageError(`--samples and --model are separate runs\n${USAGE}`);
  if (values.samples) return { command: 'samples', storeNamespace, ...(image ? { image } : {}) };
  if (values.model === undefined) throw new UsageError(`--samples or --model PATH is required\n${USAGE}`);

  const model = resolve(cwd, values.model);
  if (!existsSync(model) || !statSync(model).isFile()) throw new UsageError(`--model ${values.model}: no such file`);
  const format = (values.format ?? formatFromName(basename(model))) as ModelFormat | undefined;
  if (format === undefined) {
    throw new UsageError(
      `--model ${values.model}: the file name does not say its format (.onnx, .json, .ubj, .txt); ` +
        'give --format onnx, xgboost or lightgbm',
    );
  }
  if (!MODEL_FORMATS.includes(format) || format === 'identity') {
    throw new UsageError(`--format ${format}: one of onnx, xgboost, lightgbm`);
  }
  const name = values.name ?? nameFromFile(model);
  if (!/^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/.test(name)) {
    throw new UsageError(`--name ${name}: a ScoringModel's name is a DNS-1035 label (a-z, 0-9, -; a letter first)`);
  }
  const reach = (values.reach ?? 'port-forward') as Reach;
  if (!REACH.includes(reach)) throw new UsageError(`--reach ${reach}: one of ${REACH.join(', ')}`);
  const timeoutSeconds = Number(values.timeout ?? 300);
  if (!Number.isInteger(timeoutSeconds) || timeoutSeconds <= 0) {
    throw new UsageError(`--timeout ${values.timeout}: a whole number of seconds above 0`);
  }
  return {
    command: 'model',
    model,
    name,
    format,
    namespace: values.namespace ?? 'default',
    storeNamespace,
    reach,
    timeoutSeconds,
    ...(image ? { image } : {}),
  };
}

const log = (line: string) => process.stderr.write(`quickstart-model: ${line}\n`);

/** Puts `file` into the store under `key` and checks that the store holds those very bytes. */
function put(key: string, file: string, storeNamespace: string, sha256: string): void {
  const got = putFile(key, file, storeNamespace);
  if (got.sha256 !== sha256) throw new Error(`the store holds ${key} with sha256 ${got.sha256}, not ${sha256}`);
  log(`${file} -> ${storeUrl(storeNamespace)}/${key} (${got.bytes} bytes)`);
}

async function digest(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export async function putSamples(storeNamespace: string, image: string): Promise<void> {
  ensureStore(image, storeNamespace);
  for (const [key, file] of Object.entries(SAMPLE_FILES)) {
    const path = `${repoRoot()}/${file}`;
    put(key, path, storeNamespace, await digest(path));
  }
}

/** Ready's reasons that need someone to act (the operator's Stalled ones): waiting longer will not help. */
const STALLED = [
  'ModelLoadFailed',
  'ImagePullFailed',
  'ContainerFailed',
  'InvalidSpec',
  'ApplyFailed',
  'ChildConflict',
  'ImageNotAllowed',
];

interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
}

/** Waits until the ScoringModel's Ready is True for its current generation; fails at once on a stalled reason. */
async function waitReady(name: string, namespace: string, timeoutSeconds: number): Promise<string> {
  return waitFor(
    `ScoringModel ${namespace}/${name} to be Ready`,
    () => {
      const sm = JSON.parse(kubectl(['get', 'scoringmodel', name, '-n', namespace, '-o', 'json'])) as {
        metadata: { generation: number };
        status?: { observedGeneration?: number; url?: string; conditions?: Condition[] };
      };
      const ready = sm.status?.conditions?.find((c) => c.type === 'Ready');
      if ((sm.status?.observedGeneration ?? 0) < sm.metadata.generation || !ready) return undefined;
      if (ready.status === 'True') return sm.status?.url;
      if (ready.reason && STALLED.includes(ready.reason)) {
        throw new StopWaiting(
          `ScoringModel ${namespace}/${name} is not Ready: ${ready.reason}: ${ready.message ?? ''}`,
        );
      }
      return undefined;
    },
    timeoutSeconds * 1000,
    1000,
  );
}

/**
 * The first request to a new Service, from the store's pod: the model is Ready once its pods are, and its Service
 * answers a moment later (kube-proxy programs it). Retries "no answer" only, never an HTTP answer.
 */
async function sendOnceServed(url: string, body: unknown, storeNamespace: string): Promise<unknown> {
  const reply = await waitFor(
    `an answer from ${url}`,
    () => {
      const r = sendFromStore(url, body, storeNamespace);
      return r.status !== 0 ? r : undefined;
    },
    60_000,
    1000,
  );
  if (reply.status !== 200) throw new Error(`${url} answered HTTP ${reply.status}: ${reply.body}`);
  return JSON.parse(reply.body) as unknown;
}

export interface LoadedModel {
  name: string;
  namespace: string;
  uri: string;
  metadata: ModelMetadata;
  requests: ExampleRequests;
  /** The model's answer to the row of zeros (through /score when the model takes it, else V2 infer). */
  answer: unknown;
  /** The commands to run: a port-forward first where needed, then one curl per request. */
  commands: string[];
}

export async function loadModel(o: Extract<Options, { command: 'model' }>, image: string): Promise<LoadedModel> {
  ensureStore(image, o.storeNamespace);
  const key = `user/${o.name}/${basename(o.model)}`;
  const sha256 = await digest(o.model);
  put(key, o.model, o.storeNamespace, sha256);
  const uri = `${storeUrl(o.storeNamespace)}/${key}`;
  kubectl(
    ['apply', '-f', '-'],
    JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: o.namespace } }),
  );
  const sm = {
    apiVersion: 'scoring.dev/v1alpha1',
    kind: 'ScoringModel',
    metadata: { name: o.name, namespace: o.namespace },
    spec: { model: { uri, format: o.format, sha256 } },
  };
  kubectl(['apply', '-f', '-'], JSON.stringify(sm));
  log(`ScoringModel ${o.namespace}/${o.name} applied (${uri}); waiting until it is Ready`);
  const url = await waitReady(o.name, o.namespace, o.timeoutSeconds);

  const metadata = parseMetadata(await sendOnceServed(`${url}/v2/models/${o.name}`, undefined, o.storeNamespace));
  const requests = exampleRequests(metadata);
  const answer = requests.score
    ? await sendOnceServed(`${url}/score`, requests.score, o.storeNamespace)
    : await sendOnceServed(`${url}/v2/models/${o.name}/infer`, requests.infer, o.storeNamespace);

  let base: string;
  const commands: string[] = [];
  if (o.reach === 'clusterip') {
    const ip = kubectl(['get', 'service', o.name, '-n', o.namespace, '-o', 'jsonpath={.spec.clusterIP}']).trim();
    base = `http://${ip}`;
  } else {
    base = 'http://127.0.0.1:8080';
    commands.push(`kubectl port-forward -n ${o.namespace} service/${o.name} 8080:80 &`);
  }
  if (requests.score) commands.push(curlCommand(`${base}/score`, requests.score));
  commands.push(curlCommand(`${base}/v2/models/${o.name}/infer`, requests.infer));
  return { name: o.name, namespace: o.namespace, uri, metadata, requests, answer, commands };
}

/** What the quickstart prints for the user's model. */
export function describeLoaded(m: LoadedModel): string {
  const tensors = (list: ModelMetadata['inputs']) =>
    list.map((t) => `${t.name} ${t.datatype} [${t.shape.join(', ')}]`).join('; ');
  return [
    `model ${m.namespace}/${m.name} is Ready, from ${m.uri}`,
    `inputs: ${tensors(m.metadata.inputs)}; outputs: ${tensors(m.metadata.outputs)}`,
    `a row of zeros (${m.requests.score ? 'POST /score' : 'V2 infer'}) answered: ${JSON.stringify(m.answer)}`,
    '',
    ...m.commands,
  ].join('\n');
}

async function main(): Promise<void> {
  let o: Options;
  try {
    o = parseOptions(process.argv.slice(2), process.env.INIT_CWD ?? process.cwd());
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`quickstart-model: ${err.message}\n`);
    process.exit(2);
  }
  const image = o.image ?? operatorScorerImage();
  if (o.command === 'samples') {
    await putSamples(o.storeNamespace, image);
    process.stdout.write(`the samples' models are in ${storeUrl(o.storeNamespace)}: kubectl apply -k config/samples\n`);
    return;
  }
  process.stdout.write(`${describeLoaded(await loadModel(o, image))}\n`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err: Error) => {
    process.stderr.write(`quickstart-model: ${err.message}\n`);
    process.exit(1);
  });
}
