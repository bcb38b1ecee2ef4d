/**
 * `npm run -s baseline -- TRAINING.csv [--bins N] [--model URI [--format F]] > baseline.json`: the drift baseline of
 * training rows (and of a model's outputs on them) on stdout. Exit codes: 2 for a usage error, 1 for data or a model
 * that cannot be read.
 */
import { writeFile } from 'node:fs/promises';
import { pino } from 'pino';
import { MAX_BINS } from '../../contract/drift.js';
import { SCORER_ENV, type ScorerSetting } from '../../contract/env.js';
import { MODEL_FORMATS, type ModelFormat } from '../../contract/formats.js';
import { scorerConfigSchema } from '../config.js';
import { formatBaseline, makeBaseline } from './baseline.js';
import { DEFAULT_BINS } from './histogram.js';
import { INPUT_FORMATS, inputFormatFromName, readTable, type InputFormat } from './rows.js';

const USAGE = `usage: npm run -s baseline -- TRAINING [flags] > baseline.json

TRAINING       training rows: CSV with a header (.csv), a JSON array of rows (.json) or one row a line (.ndjson,
               .jsonl); a row is an array of numbers or an object keyed by feature name; empty, NaN, null: missing
--bins N       value bins per feature and output, at quantiles of the training values (default ${DEFAULT_BINS}, at most ${MAX_BINS - 1})
--model URI    add the histograms of this model's outputs on the training rows (a path, http(s):// or s3:// URI)
--format F     the model's format when its file name does not say (${MODEL_FORMATS.join(', ')})
--input F      the training file's format when its name does not say (${INPUT_FORMATS.join(', ')})
--output FILE  write the baseline to FILE instead of stdout (npm run without -s writes its own lines to stdout)`;

class UsageError extends Error {
  override readonly name = 'UsageError';
}

interface Args {
  training: string;
  input: InputFormat;
  bins: number;
  model?: string;
  format?: ModelFormat;
  output?: string;
}

function parseArgs(argv: readonly string[]): Args | 'help' {
  const flags = new Map<string, string>();
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--help' || arg === '-h') return 'help';
    if (!arg.startsWith('--')) {
      positional.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const flag = arg.slice(2, eq === -1 ? undefined : eq);
    if (!['bins', 'model', 'format', 'input', 'output'].includes(flag)) throw new UsageError(`unknown flag --${flag}`);
    const value = eq === -1 ? argv[++i] : arg.slice(eq + 1);
    if (value === undefined || value === '') throw new UsageError(`flag --${flag} needs a value`);
    flags.set(flag, value);
  }
  if (positional.length !== 1) {
    throw new UsageError(
      positional.length === 0 ? 'name the training file' : `one training file, not ${positional.length}`,
    );
  }
  const training = positional[0]!;

  const bins = Number(flags.get('bins') ?? DEFAULT_BINS);
  if (!Number.isInteger(bins) || bins < 2 || bins > MAX_BINS - 1) {
    throw new UsageError(`--bins must be an integer from 2 to ${MAX_BINS - 1}, not ${flags.get('bins')}`);
  }
  const input = flags.get('input') ?? inputFormatFromName(training);
  if (input === undefined) {
    throw new UsageError(
      `cannot tell the format of "${training}" from its name: give --input (${INPUT_FORMATS.join(', ')})`,
    );
  }
  if (!(INPUT_FORMATS as readonly string[]).includes(input)) {
    throw new UsageError(`--input must be one of ${INPUT_FORMATS.join(', ')}, not ${input}`);
  }
  const format = flags.get('format');
  if (format !== undefined && !(MODEL_FORMATS as readonly string[]).includes(format)) {
    throw new UsageError(`--format must be one of ${MODEL_FORMATS.join(', ')}, not ${format}`);
  }
  const model = flags.get('model');
  if (format !== undefined && model === undefined) throw new UsageError('--format goes with --model');
  return {
    training,
    input: input as InputFormat,
    bins,
    model,
    format: format as ModelFormat | undefined,
    output: flags.get('output'),
  };
}

/** The scorer's model settings for --model and --format; downloads read the scorer's variables (S3_ENDPOINT, ...). */
function modelConfig(uri: string, format: ModelFormat | undefined) {
  const fromEnv: ScorerSetting[] = [
    's3Endpoint',
    's3ForcePathStyle',
    'downloadTimeoutMs',
    'downloadRetries',
    'downloadMaxBytes',
  ];
  const raw: Record<string, string> = { modelUri: uri };
  if (format !== undefined) raw.modelFormat = format;
  for (const setting of fromEnv) {
    const value = process.env[SCORER_ENV[setting]];
    if (value) raw[setting] = value;
  }
  const parsed = scorerConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const setting = issue.path[0] as ScorerSetting;
    const where = setting === 'modelUri' ? '--model' : SCORER_ENV[setting];
    throw new UsageError(`invalid ${where}: ${issue.message}`);
  }
  return parsed.data;
}

async function main(argv: readonly string[]): Promise<number> {
  let args;
  let config;
  try {
    args = parseArgs(argv);
    if (args !== 'help' && args.model !== undefined) config = modelConfig(args.model, args.format);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`baseline: ${err.message}\n\n${USAGE}\n`);
    return 2;
  }
  if (args === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }

  const table = await readTable(args.training, args.input);
  let outputs;
  if (config) {
    // Warnings and errors only: the loader's progress lines are for a running scorer.
    const log = pino({ level: 'warn', base: { component: 'baseline' } }, pino.destination({ fd: 2, sync: true }));
    // Imported here: the loader brings onnxruntime and the S3 client, which rows alone do not need.
    const [{ loadModel }, { predictOutputs }] = await Promise.all([import('../load/index.js'), import('./outputs.js')]);
    const { model } = await loadModel(config, log);
    try {
      outputs = await predictOutputs(model, table);
    } finally {
      await model.dispose();
    }
  }
  const text = formatBaseline(makeBaseline(table, args.bins, outputs));
  if (args.output === undefined) process.stdout.write(text);
  else await writeFile(args.output, text);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    const usage = err instanceof UsageError;
    process.stderr.write(`baseline: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = usage ? 2 : 1;
  },
);
