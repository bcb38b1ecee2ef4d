/**
 * The drift window (scorer/monitor/window.ts) on an injected clock, fed the tensors a request brings and the outputs
 * of a real model's predictions: which bin each value lands in, rows leaving a slice at a time, the PSI's threshold,
 * and batches it cannot count.
 */
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import type { Baseline } from '../../../contract/drift.js';
import { loadScorerConfig } from '../../../scorer/config.js';
import { createIdentityModel } from '../../../scorer/formats/identity.js';
import { loadModel } from '../../../scorer/load/index.js';
import type { Model, Tensor } from '../../../scorer/model.js';
import { layoutOf } from '../../../scorer/monitor/layout.js';
import { DriftWindow } from '../../../scorer/monitor/window.js';
import { baselineOf, histogram, TestClock } from '../../helpers/baseline.js';

const XGB = fileURLToPath(new URL('../../fixtures/shared/xgb_binary.json', import.meta.url));
const EDGES = [0, 1, 2];
/** Seconds in a window of 10 slices of 10 s. */
const WINDOW = 100;

let xgb: Model;
beforeAll(async () => {
  ({ model: xgb } = await loadModel(loadScorerConfig({ MODEL_URI: XGB }), pino({ level: 'silent' })));
});
afterAll(() => xgb.dispose());

interface Setup {
  window: DriftWindow;
  clock: TestClock;
  warnings: string[];
}

function windowOf(model: Model, baseline: Baseline, minRows = 1): Setup {
  const clock = new TestClock();
  const warnings: string[] = [];
  const log = pino({ level: 'warn' }, { write: (line: string) => warnings.push(JSON.parse(line).msg as string) });
  const layout = layoutOf(baseline, model, 200);
  const window = new DriftWindow(baseline, { sha256: 'f'.repeat(64), uri: '/baseline.json' }, model.inputs, layout, {
    windowSeconds: WINDOW,
    minRows,
    now: clock.now,
    log,
  });
  return { window, clock, warnings };
}

/** The model's input for these rows (FP32, as the HTTP layer makes it), null as NaN. */
function rows(values: (number | null)[][]): Tensor {
  return {
    name: 'X',
    datatype: 'FP32',
    shape: [values.length, values[0]!.length],
    data: Float32Array.from(values.flat(), (v) => v ?? NaN),
  };
}

/** Predicts and counts, as the monitored model does. */
async function score(model: Model, window: DriftWindow, inputs: Tensor[], outputs?: string[]): Promise<Tensor[]> {
  const result = await model.predict(inputs, outputs);
  window.count(inputs, result);
  return result;
}

const row = (x0: number | null) => [x0, 0.5, 0.5, 0.5, 0.5];

describe('the drift window', () => {
  it('counts a value in bin i when it is in (edges[i-1], edges[i]], the ends open, missing values last', async () => {
    const { window } = windowOf(xgb, baselineOf(5, EDGES, [histogram('score', [0.5])]));
    await score(xgb, window, [rows([row(-1), row(0), row(0.5), row(1), row(1.5), row(3), row(null)])]);
    const report = window.report('xgb_binary');
    expect(report.window.rows).toBe(7);
    expect(report.features[0]!.counts).toEqual([2, 2, 1, 1, 1]);
    expect(report.features[1]!.counts).toEqual([0, 7, 0, 0, 0]);
    expect(report.features[0]!.expected).toEqual(new Array(5).fill(0.2));
    // Every row's score, in one of the two value bins of the edge 0.5.
    expect(report.outputs[0]!.counts.reduce((a, b) => a + b)).toBe(7);
    expect(report.outputs[0]!.counts[2]).toBe(0);
  });

  it("compares an FP32 input's values with edges rounded as they are: 0.2 stays in the bin of the edge 0.2", async () => {
    const { window } = windowOf(xgb, baselineOf(5, [0.2]));
    await score(xgb, window, [rows([[0.2, 0.2, 0.2, 0.2, 0.2]])]);
    expect(window.report('xgb_binary').features[0]!.counts).toEqual([1, 0, 0]);
  });

  it('keeps the rows of the last 10 slices of the window: they leave a slice at a time', async () => {
    const { window, clock } = windowOf(xgb, baselineOf(5, EDGES));
    const t0 = clock.time;
    await score(xgb, window, [rows([row(0.5)])]);
    clock.advance(5_000);
    await score(xgb, window, [rows([row(0.5), row(0.5)])]);
    clock.advance(5_000); // the second slice
    await score(xgb, window, [rows([row(3), row(3), row(3), row(3)])]);

    clock.advance(WINDOW * 1000 - 10_000 - 1); // the last moment of the tenth slice: the first is still in
    let report = window.report('xgb_binary');
    expect(report.window).toEqual({
      start: new Date(t0).toISOString(),
      end: new Date(t0 + WINDOW * 1000 - 1).toISOString(),
      seconds: 99.999,
      rows: 7,
    });
    expect(report.features[0]!.counts).toEqual([0, 3, 0, 4, 0]);

    clock.advance(1); // the eleventh slice begins: the first one's 3 rows leave
    report = window.report('xgb_binary');
    expect(report.window).toMatchObject({ start: new Date(t0 + 10_000).toISOString(), rows: 4 });
    expect(report.features[0]!.counts).toEqual([0, 0, 0, 4, 0]);

    clock.advance(10_000);
    report = window.report('xgb_binary');
    expect(report.window).toMatchObject({ start: new Date(t0 + 20_000).toISOString(), seconds: WINDOW - 10, rows: 0 });
    expect(report.features[0]!.counts).toEqual([0, 0, 0, 0, 0]);

    // A slice that held an old time counts afresh.
    await score(xgb, window, [rows([row(null)])]);
    expect(window.report('xgb_binary').features[0]!.counts).toEqual([0, 0, 0, 0, 1]);
  });

  it('starts the window at its own start until a whole window has passed', () => {
    const { window, clock } = windowOf(xgb, baselineOf(5, EDGES));
    const t0 = clock.time;
    clock.advance(12_345);
    expect(window.report('xgb_binary').window).toEqual({
      start: new Date(t0).toISOString(),
      end: new Date(t0 + 12_345).toISOString(),
      seconds: 12.345,
      rows: 0,
    });
  });

  it("gives a histogram's PSI once it holds minRows rows, and counts outputs only when the batch has them", async () => {
    const { window } = windowOf(xgb, baselineOf(5, EDGES, [histogram('score', [0.5])]), 3);
    await score(xgb, window, [rows([row(0.5), row(0.5)])]);
    let report = window.report('xgb_binary');
    expect(report.features.map((h) => h.psi)).toEqual([null, null, null, null, null]);

    // A V2 request that asked for no output this baseline has (xgb_binary has one: the counting sees none).
    window.count([rows([row(0.5)])], []);
    report = window.report('xgb_binary');
    expect(report.minRows).toBe(3);
    // Three rows of x0 in bin 1 against shares of 0.2 each: (1 - 0.2) ln(1 / 0.2) + 4 (1e-4 - 0.2) ln(1e-4 / 0.2).
    const expected = 0.8 * Math.log(5) + 4 * (1e-4 - 0.2) * Math.log(1e-4 / 0.2);
    expect(report.features[0]!.psi).toBeCloseTo(expected, 12);
    expect(report.outputs[0]!.counts.reduce((a, b) => a + b)).toBe(2);
    expect(report.outputs[0]!.psi).toBeNull();
  });

  it('skips a batch whose rows have another number of values than the baseline has features, and warns once', async () => {
    const identity = await createIdentityModel(new Uint8Array(), { name: 'identity' });
    const { window, warnings } = windowOf(identity, baselineOf(2, EDGES, [histogram('X[1]', [0])]));
    const x = (shape: number[], data: number[]): Tensor[] => [
      { name: 'X', datatype: 'FP64', shape, data: Float64Array.from(data) },
    ];
    await score(identity, window, x([1, 3], [1, 2, 3]));
    await score(identity, window, x([2, 3], [1, 2, 3, 4, 5, 6]));
    expect(window.skippedRows).toBe(3);
    expect(warnings).toEqual([
      'rows whose number of values differs from the drift baseline are not counted (scorer_drift_rows_skipped_total)',
    ]);
    // A flat row is one row (the seed's {"X": [1, 2]}); rows of two values count, the output's second column too.
    await score(identity, window, x([2], [0.5, -1]));
    await score(identity, window, x([2, 2], [0.5, 5, 1.5, 0.5]));
    const report = window.report('identity');
    expect(report.window.rows).toBe(3);
    expect(report.features[0]!.counts).toEqual([0, 2, 1, 0, 0]);
    expect(report.outputs[0]!).toMatchObject({ name: 'X[1]', counts: [1, 2, 0] });
    expect(window.skippedRows).toBe(3);
  });
});
