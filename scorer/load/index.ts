/**
 * Loading the model the configuration names: fetch its bytes, verify the digest, build the format's model.
 * Any failure is a ModelLoadError whose message is the one line the scorer exits with.
 */
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { formatFromName, MODEL_FORMATS } from '../../contract/formats.js';
import { locate, type ModelLocation } from '../../contract/uri.js';
import type { ScorerConfig } from '../config.js';
import { ModelLoadError } from '../errors.js';
import { MODEL_FACTORIES } from '../formats/index.js';
import { createThreadModel } from '../formats/thread.js';
import type { LoadedModel } from '../server.js';
import { fetchFile, type FetchLimits } from './fetch.js';

export async function loadModel(config: ScorerConfig, log: Logger): Promise<LoadedModel> {
  let location: ModelLocation;
  try {
    location = locate(config.modelUri);
  } catch (err) {
    throw new ModelLoadError(config.modelUri, (err as Error).message);
  }
  const fail = (reason: string, cause?: unknown) => new ModelLoadError(location.display, reason, { cause });

  const format = config.modelFormat ?? formatFromName(location.fileName);
  if (format === undefined) {
    throw fail(
      `cannot tell the format from the file name "${location.fileName}": set MODEL_FORMAT (${MODEL_FORMATS.join(', ')})`,
    );
  }
  const name = config.modelName ?? nameFromFile(location.fileName);

  const started = performance.now();
  const noFile = format === 'identity' && location.scheme === 'identity';
  if (!noFile) log.info({ uri: location.display, format }, 'fetching model');
  let bytes: Uint8Array;
  let sha256: string;
  try {
    ({ bytes, sha256 } = await fetchVerified(location, config.modelSha256, config, log, 'model'));
  } catch (err) {
    throw fail((err as Error).message, err);
  }
  const fetchedMs = performance.now() - started;

  // The identity model does no work a thread could take over.
  const onThread = config.predictThread && format !== 'identity';
  let model;
  try {
    const options = { name, output: config.modelOutput };
    model = onThread
      ? await createThreadModel(format, bytes, options, (err) => {
          // Nothing can predict any more: exit, for the kubelet to restart the container.
          log.fatal({ err: err.message }, 'the model thread stopped');
          process.exit(1);
        })
      : await MODEL_FACTORIES[format](bytes, options);
  } catch (err) {
    throw fail(`not a valid ${format} model: ${(err as Error).message}`, err);
  }
  log.info(
    {
      uri: location.display,
      format,
      bytes: bytes.length,
      fetchMs: Math.round(fetchedMs),
      compileMs: Math.round(performance.now() - started - fetchedMs),
      thread: onThread,
    },
    'model loaded',
  );
  return { model, bytes: bytes.length, sha256: noFile ? undefined : sha256, uri: location.display };
}

/**
 * A file's bytes and their SHA-256, refused when `expected` names another digest; `what` names the file in messages
 * ("model", "baseline"). Throws an Error whose message is the reason. The digest is computed whether or not a check
 * is asked for: the scorer reports it (scorer_model_info, the monitoring report's baseline).
 */
export async function fetchVerified(
  location: ModelLocation,
  expected: string | undefined,
  limits: FetchLimits,
  log: Logger,
  what: string,
): Promise<{ bytes: Uint8Array; sha256: string }> {
  const bytes = await fetchFile(location, limits, log, what);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  if (expected !== undefined && sha256 !== expected) {
    throw new Error(`sha256 mismatch: expected ${expected}, got ${sha256}`);
  }
  return { bytes, sha256 };
}

/** A V2 model name from a file name: the name without extension, limited to the characters the API allows. */
function nameFromFile(fileName: string): string {
  const stem = fileName.replace(/\.[A-Za-z0-9]+$/, '');
  const cleaned = stem
    .replace(/[^A-Za-z0-9_.-]+/g, '-')
    .replace(/^[^A-Za-z0-9]+/, '')
    .slice(0, 128);
  return cleaned || 'model';
}
