/** The model fixtures: models written by the real training libraries, with the libraries' own predictions. */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface Fixture {
  name: string;
  file: string;
  format: 'onnx' | 'xgboost' | 'lightgbm';
  library: string;
  /** Allowed difference, relative to max(1, |expected|). */
  tolerance: number;
  outputs?: string[];
  /** Absolute paths. */
  path: string;
  inputs: (number | null)[][];
  expected: Record<string, unknown[]>;
}

const DIRS = ['shared', 'generated'].map((d) => fileURLToPath(new URL(`../fixtures/${d}/`, import.meta.url)));

export function fixtures(format?: Fixture['format']): Fixture[] {
  const all: Fixture[] = [];
  for (const dir of DIRS) {
    const manifest = `${dir}manifest.json`;
    if (!existsSync(manifest)) continue;
    for (const entry of JSON.parse(readFileSync(manifest, 'utf8')) as Omit<Fixture, 'path' | 'inputs' | 'expected'>[]) {
      if (format && entry.format !== format) continue;
      const base = `${dir}${entry.name}`;
      all.push({
        ...entry,
        tolerance: parseFloat(String(entry.tolerance)),
        path: `${dir}${entry.file}`,
        inputs: (JSON.parse(readFileSync(`${base}.inputs.json`, 'utf8')) as { X: (number | null)[][] }).X,
        expected: JSON.parse(readFileSync(`${base}.expected.json`, 'utf8')) as Record<string, unknown[]>,
      });
    }
  }
  return all;
}

/** Largest |actual - expected| / max(1, |expected|) over two equally nested arrays; Infinity on a shape mismatch. */
export function maxRelativeError(actual: unknown, expected: unknown): number {
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual) || actual.length !== expected.length) return Infinity;
    let worst = 0;
    for (let i = 0; i < expected.length; i++) worst = Math.max(worst, maxRelativeError(actual[i], expected[i]));
    return worst;
  }
  if (typeof expected !== 'number' || typeof actual !== 'number') return actual === expected ? 0 : Infinity;
  return Math.abs(actual - expected) / Math.max(1, Math.abs(expected));
}
