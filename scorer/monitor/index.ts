/**
 * Drift monitoring (MONITOR_BASELINE): the baseline fetched like the model (same loader, digest check and retries),
 * checked against the model, and a window counting every row the model scores, whatever the protocol, because the
 * model itself is wrapped (`monitored`).
 *
 * A baseline that cannot be fetched, parsed or matched to the model never stops the scorer: it serves the model, logs
 * the reason, and GET .../monitoring answers 503 with it.
 */
import type { Logger } from 'pino';
import { parseBaseline, type Baseline } from '../../contract/drift.js';
import { locate, redactUri } from '../../contract/uri.js';
import type { ScorerConfig } from '../config.js';
import { fetchVerified } from '../load/index.js';
import { withPredict, type Model, type Tensor } from '../model.js';
import { layoutOf } from './layout.js';
import { DriftWindow } from './window.js';

export type Monitoring =
  | { state: 'off' }
  /** `reason` is the one line the log and the monitoring endpoint show. */
  | { state: 'failed'; reason: string }
  | { state: 'on'; window: DriftWindow };

/** A fetched baseline, or why there is none. */
export type FetchedBaseline =
  { baseline: Baseline; sha256: string; uri: string; reason?: undefined } | { reason: string };

/** Fetches, verifies (MONITOR_BASELINE_SHA256) and parses the baseline at `uri` (MONITOR_BASELINE); never rejects. */
export async function fetchBaseline(baselineUri: string, config: ScorerConfig, log: Logger): Promise<FetchedBaseline> {
  let uri = redactUri(baselineUri);
  try {
    const location = locate(baselineUri);
    uri = location.display;
    log.info({ uri }, 'fetching drift baseline');
    const { bytes, sha256 } = await fetchVerified(location, config.monitorBaselineSha256, config, log, 'baseline');
    return { baseline: parseBaseline(Buffer.from(bytes).toString('utf8')), sha256, uri };
  } catch (err) {
    return { reason: `cannot load baseline ${uri}: ${(err as Error).message}` };
  }
}

export interface MonitoringOptions {
  config: Pick<ScorerConfig, 'monitorWindowSeconds' | 'monitorMinRows' | 'monitorMaxHistograms'>;
  log: Logger;
  /** Milliseconds since the epoch. */
  now: () => number;
}

/**
 * Monitoring of `model` against a fetched baseline: on, with the model to serve in its place (which counts what it
 * scores), or failed, with the reason logged.
 */
export function startMonitoring(
  fetched: FetchedBaseline,
  model: Model,
  { config, log, now }: MonitoringOptions,
): { monitoring: Monitoring; model: Model } {
  let reason: string;
  if (fetched.reason !== undefined) {
    reason = fetched.reason;
  } else {
    const { baseline, sha256, uri } = fetched;
    try {
      const layout = layoutOf(baseline, model, config.monitorMaxHistograms);
      const window = new DriftWindow(baseline, { sha256, uri }, model.inputs, layout, {
        windowSeconds: config.monitorWindowSeconds,
        minRows: config.monitorMinRows,
        now,
        log,
      });
      log.info(
        {
          uri,
          sha256,
          features: baseline.features.length,
          outputs: baseline.outputs.map((h) => h.name),
          windowSeconds: config.monitorWindowSeconds,
          minRows: config.monitorMinRows,
        },
        'drift monitoring on',
      );
      return { monitoring: { state: 'on', window }, model: monitored(model, window) };
    } catch (err) {
      reason = `baseline ${uri} does not fit model "${model.name}": ${(err as Error).message}`;
    }
  }
  log.error({ reason }, 'drift monitoring is off: the model is served without it');
  return { monitoring: { state: 'failed', reason }, model };
}

/** The model, counting into `window` the inputs and the outputs of every prediction that succeeds. */
export function monitored(model: Model, window: DriftWindow): Model {
  const count = (inputs: readonly Tensor[], outputs: Tensor[]) => {
    window.count(inputs, outputs);
    return outputs;
  };
  // As the model answers: at once, or with a promise.
  return withPredict(model, (inputs, outputNames) => {
    const outputs = model.predict(inputs, outputNames);
    return outputs instanceof Promise ? outputs.then((o) => count(inputs, o)) : count(inputs, outputs);
  });
}
