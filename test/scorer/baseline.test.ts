/**
 * `npm run baseline` as a process (`node dist/scorer/baseline/main.js`, built by `npm run build`): training files on
 * disk in, the baseline on stdout, compared with numpy's numbers for the drift fixture (test/models/make_drift.py
 * wrote them into drift_churn.numpy.json; no code under test made them).
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseBaseline, type Baseline, type Histogram } from '../../contract/drift.js';
import { quantile } from '../../scorer/baseline/histogram.js';
import { fixtures } from '../helpers/fixtures.js';

const MAIN = fileURLToPath(new URL('../../dist/scorer/baseline/main.js', import.meta.url));
const generated = (file: string) => fileURLToPath(new URL(`../fixtures/generated/${file}`, import.meta.url));
const TRAINING = generated('drift_churn.train.csv');
const MODEL = fixtures('xgboost').find((f) => f.name === 'drift_churn')!;

interface NumpyHistogram {
  name: string;
  edges: number[];
  counts: number[];
}
const numpy = JSON.parse(readFileSync(generated('drift_churn.numpy.json'), 'utf8')) as {
  rows: number;
  bins: number;
  features: NumpyHistogram[];
  outputs: NumpyHistogram[];
};

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [MAIN, ...args],
      { env: { PATH: process.env.PATH }, maxBuffer: 16 << 20 },
      (err, stdout, stderr) => {
        resolve({ code: err ? Number((err as { code?: unknown }).code) : 0, stdout, stderr });
      },
    );
  });
}

/** Runs the command and parses what it wrote with the scorer's parser. */
async function baselineOf(...args: string[]): Promise<Baseline> {
  const result = await run(...args);
  expect(result).toMatchObject({ code: 0, stderr: '' });
  return parseBaseline(result.stdout);
}

/** Same edges within `tolerance` relative to max(1, |edge|), and shares equal to numpy's count / rows within 1e-12. */
function expectHistogram(actual: Histogram, expected: NumpyHistogram, tolerance: number) {
  expect(actual.name).toBe(expected.name);
  expect(actual.edges).toHaveLength(expected.edges.length);
  actual.edges.forEach((edge, i) => {
    const want = expected.edges[i]!;
    expect(Math.abs(edge - want)).toBeLessThanOrEqual(tolerance * Math.max(1, Math.abs(want)));
  });
  expect(actual.shares).toHaveLength(expected.counts.length);
  actual.shares.forEach((share, i) => {
    expect(Math.abs(share - expected.counts[i]! / numpy.rows)).toBeLessThanOrEqual(1e-12);
  });
}

/** The fixture's training rows: header names and rows, null for an empty cell. */
function trainingRows(): { names: string[]; rows: (number | null)[][] } {
  const [header, ...lines] = readFileSync(TRAINING, 'utf8').trimEnd().split('\n');
  return {
    names: header!.split(','),
    rows: lines.map((line) => line.split(',').map((c) => (c === '' ? null : Number(c)))),
  };
}

let dir: string;
const write = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};
let fromCsv: Baseline;

beforeAll(async () => {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run "npm run build" first (npm run test:unit does)`);
  dir = mkdtempSync(join(tmpdir(), 'baseline-'));
  fromCsv = await baselineOf(TRAINING);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the baseline of the drift fixture', () => {
  it('has numpy edges (within 1e-12) and shares (count / rows) for every feature, named by the CSV header', () => {
    expect(fromCsv).toMatchObject({ version: 1, rows: numpy.rows, outputs: [] });
    expect(fromCsv.features.map((h) => h.name)).toEqual(numpy.features.map((h) => h.name));
    fromCsv.features.forEach((h, i) => expectHistogram(h, numpy.features[i]!, 1e-12));
  });

  it('gives a feature with few values fewer bins, and missing values their bin, last', () => {
    const byName = new Map(fromCsv.features.map((h) => [h.name, h]));
    expect(byName.get('contract_months')!.edges).toEqual([1, 12, 24]);
    expect(byName.get('total_charges')!.shares.at(-1)).toBeGreaterThan(0);
    expect(byName.get('tenure_months')!.shares.at(-1)).toBe(0);
  });

  it("with --model, adds the model's output: numpy's histogram of XGBoost's own predictions", async () => {
    const baseline = await baselineOf(TRAINING, '--model', MODEL.path);
    expect(baseline.features).toEqual(fromCsv.features);
    expect(baseline.outputs).toHaveLength(1);
    // Edges come from our predictions, which agree with XGBoost's within the fixture's tolerance.
    expectHistogram(baseline.outputs[0]!, numpy.outputs[0]!, MODEL.tolerance);
  });

  it('is the committed fixture and sample baseline, byte for byte', async () => {
    const result = await run(TRAINING, '--model', MODEL.path);
    expect(result.code).toBe(0);
    expect(readFileSync(generated('drift_churn.baseline.json'), 'utf8')).toBe(result.stdout);
    const sample = fileURLToPath(new URL('../../config/samples/churn.baseline.json', import.meta.url));
    expect(readFileSync(sample, 'utf8')).toBe(result.stdout);
  });

  it('with --output, writes the same text to a file and nothing to stdout', async () => {
    const out = join(dir, 'out.json');
    expect(await run(TRAINING, '--output', out)).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(parseBaseline(readFileSync(out, 'utf8'))).toEqual(fromCsv);
  });

  it('with --bins 4, cuts at the quartiles', async () => {
    const baseline = await baselineOf(TRAINING, '--bins', '4');
    const monthly = baseline.features.find((h) => h.name === 'monthly_charges')!;
    expect(monthly.edges).toHaveLength(3);
    expect(monthly.shares.slice(0, 4).every((s) => Math.abs(s - 0.25) < 0.002)).toBe(true);
  });
});

describe('training rows as JSON', () => {
  it('a JSON array of objects keyed by feature name makes the same baseline as the CSV', async () => {
    const { names, rows } = trainingRows();
    const objects = rows.map((r) => Object.fromEntries(names.map((n, j) => [n, r[j]])));
    expect(await baselineOf(write('rows.json', JSON.stringify(objects)))).toEqual(fromCsv);
  });

  it('NDJSON objects make the same baseline as the CSV; a key left out is a missing value', async () => {
    const { names, rows } = trainingRows();
    const lines = rows.map((r) =>
      JSON.stringify(Object.fromEntries(names.flatMap((n, j) => (r[j] === null ? [] : [[n, r[j]]])))),
    );
    expect(await baselineOf(write('rows.ndjson', `${lines.join('\n')}\n`))).toEqual(fromCsv);
  });

  it('rows as arrays (NDJSON, or a JSON array of them) make the same histograms, named x0, x1, ...', async () => {
    const { rows } = trainingRows();
    const unnamed = fromCsv.features.map((h, j) => ({ ...h, name: `x${j}` }));
    const ndjson = await baselineOf(write('rows.jsonl', rows.map((r) => JSON.stringify(r)).join('\n')));
    expect(ndjson.features).toEqual(unnamed);
    const document = await baselineOf(write('arrays.json', JSON.stringify(rows)));
    expect(document.features).toEqual(unnamed);
  });
});

describe('missing values', () => {
  it('are empty cells, NaN or null, counted in the last bin; a column without values has one value bin', async () => {
    const csv = write('missing.csv', 'a,b,none\n1,,\n2,NaN,nan\n3,null,NULL\n4,5,\n');
    const baseline = await baselineOf(csv, '--bins', '2');
    expect(baseline.features).toEqual([
      { name: 'a', edges: [2.5], shares: [0.5, 0.5, 0] },
      { name: 'b', edges: [5], shares: [0.25, 0, 0.75] },
      { name: 'none', edges: [], shares: [0, 1] },
    ]);
  });

  it('are null in JSON rows', async () => {
    const baseline = await baselineOf(write('missing.json', '[[1, null], [2, 3]]'), '--bins', '2');
    expect(baseline.features[1]).toEqual({ name: 'x1', edges: [3], shares: [0.5, 0, 0.5] });
  });
});

describe('CSV', () => {
  it('reads quoted names, CRLF line ends, a byte order mark, blank lines and spaces around numbers', async () => {
    const csv = write('quoted.csv', '\uFEFF"age, years","say ""hi"""\r\n 1 , 2\r\n\r\n3,4e0\r\n');
    const baseline = await baselineOf(csv, '--bins', '2');
    expect(baseline.features.map((h) => [h.name, h.edges])).toEqual([
      ['age, years', [2]],
      ['say "hi"', [3]],
    ]);
  });

  it('without a header (a first line of numbers), names the columns x0, x1, ... and keeps that row', async () => {
    const baseline = await baselineOf(write('headerless.csv', '1,2\n3,4\n'), '--bins', '2');
    expect(baseline).toMatchObject({
      rows: 2,
      features: [
        { name: 'x0', edges: [2] },
        { name: 'x1', edges: [3] },
      ],
    });
  });
});

describe('bad data exits 1, naming where', () => {
  it.each([
    [
      'a cell that is not a number',
      'bad.csv',
      'a,b\n1,2\n3,abc\n',
      '/bad.csv:3: column 2 ("b") is "abc", not a finite number (missing values: empty, NaN or null)',
    ],
    ['a number out of range', 'big.csv', 'a\n1e999\n', '/big.csv:2: column 1 ("a") is "1e999", not a finite number'],
    ['a hexadecimal number', 'hex.csv', 'a\n0x10\n', '/hex.csv:2: column 1 ("a") is "0x10", not a finite number'],
    ['a row of another width', 'short.csv', 'a,b\n1,2\n3\n', '/short.csv:3: the row has 1 value; there are 2 columns'],
    ['a name given twice', 'twice.csv', 'a,b,a\n1,2,3\n', '/twice.csv:1: column 3 is named "a" again'],
    ['an unnamed column', 'unnamed.csv', 'a,,c\n1,2,3\n', '/unnamed.csv:1: column 2 has no name'],
    ['an open quote', 'quote.csv', '"a,b\n1,2\n', '/quote.csv:1: a quoted cell runs past the end of the line'],
    ['a header and no rows', 'empty.csv', 'a,b\n', '/empty.csv has no rows'],
    ['a JSON string', 'string.json', '[[1, "x"]]', '/string.json: row 1: column 2 ("x1") is "x", not a finite number'],
    ['a JSON boolean', 'bool.ndjson', '{"a": 1}\n{"a": true}\n', '/bool.ndjson:2: column 1 ("a") is true, not a'],
    [
      'an unknown key',
      'keys.ndjson',
      '{"a": 1}\n{"b": 2}\n',
      '/keys.ndjson:2: "b" is not one of the first row\'s keys (a)',
    ],
    [
      'arrays after objects',
      'mixed.ndjson',
      '{"a": 1}\n[2]\n',
      '/mixed.ndjson:2: an array; the first row is an object',
    ],
    ['a line that is not JSON', 'broken.ndjson', '[1]\n[2\n', '/broken.ndjson:2: not JSON: '],
    ['a JSON document that is not an array', 'object.json', '{"a": [1]}', '/object.json is not a JSON array of rows'],
  ])('%s', async (_name, file, text, message) => {
    const result = await run(write(file, text));
    expect(result).toMatchObject({ code: 1, stdout: '' });
    expect(result.stderr).toContain(`baseline: ${dir}${message}`);
  });

  it('training rows whose width is not the model input', async () => {
    const result = await run(write('narrow.csv', 'a,b\n1,2\n'), '--model', MODEL.path);
    expect(result).toMatchObject({ code: 1, stdout: '' });
    expect(result.stderr).toContain(
      'baseline: the model reads 5 values per row ("X" [-1, 5]); the training data has 2 columns',
    );
  });

  it('a feature named like an output', async () => {
    const { rows } = trainingRows();
    const csv = write('score.csv', `a,b,score,d,e\n${rows.map((r) => r.map((v) => v ?? '').join(',')).join('\n')}\n`);
    const result = await run(csv, '--model', MODEL.path);
    expect(result).toMatchObject({ code: 1, stdout: '' });
    expect(result.stderr).toContain('baseline: the baseline names "score" twice');
  });

  it('a model that cannot be loaded', async () => {
    const result = await run(TRAINING, '--model', join(dir, 'absent.json'));
    expect(result).toMatchObject({ code: 1, stdout: '' });
    expect(result.stderr).toContain(`baseline: cannot load model ${join(dir, 'absent.json')}: `);
  });
});

describe('usage errors exit 2 with the usage', () => {
  it.each([
    ['no training file', [], 'name the training file'],
    ['two training files', ['a.csv', 'b.csv'], 'one training file, not 2'],
    ['an unknown flag', ['a.csv', '--columns', 'x'], 'unknown flag --columns'],
    ['a flag without its value', ['a.csv', '--bins'], 'flag --bins needs a value'],
    ['one bin', ['a.csv', '--bins', '1'], '--bins must be an integer from 2 to 101, not 1'],
    ['too many bins', ['a.csv', '--bins=102'], '--bins must be an integer from 2 to 101, not 102'],
    [
      'a file name of no known format',
      ['rows.txt'],
      'cannot tell the format of "rows.txt" from its name: give --input',
    ],
    ['an unknown input format', ['rows.txt', '--input', 'tsv'], '--input must be one of csv, json, ndjson, not tsv'],
    ['an unknown model format', ['a.csv', '--model', 'm', '--format', 'pmml'], '--format must be one of onnx,'],
    ['--format without --model', ['a.csv', '--format', 'onnx'], '--format goes with --model'],
    ['an unsupported model URI', ['a.csv', '--model', 'ftp://host/m.json'], 'invalid --model: must be a path,'],
  ])('%s', async (_name, args, message) => {
    const result = await run(...args);
    expect(result).toMatchObject({ code: 2, stdout: '' });
    expect(result.stderr).toContain(`baseline: ${message}`);
    expect(result.stderr).toContain('usage: npm run -s baseline -- TRAINING [flags] > baseline.json');
  });

  it('--help prints the usage on stdout and exits 0', async () => {
    const result = await run('--help');
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout).toContain('--model URI');
  });
});

describe('quantile', () => {
  it("is numpy's linear method: exact at both ends and at whole positions, interpolated between", () => {
    const sorted = Float64Array.from([1, 2, 4, 8, 16]);
    expect([0, 0.25, 0.5, 0.75, 1].map((q) => quantile(sorted, q))).toEqual([1, 2, 4, 8, 16]);
    expect(quantile(sorted, 0.1)).toBeCloseTo(1.4, 14);
    expect(quantile(sorted, 0.9)).toBeCloseTo(12.8, 14);
    expect(quantile(Float64Array.from([7]), 0.3)).toBe(7);
  });
});
