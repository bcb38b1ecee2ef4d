/** Small drift baselines written by hand (contract/drift.ts's format, version 1), for the scorer's monitoring tests. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Baseline, Histogram } from '../../contract/drift.js';

/** A histogram with these edges and `shares` (one per value bin, then the missing-value bin); even shares if none. */
export function histogram(name: string, edges: number[], shares?: number[]): Histogram {
  const bins = edges.length + 2;
  return { name, edges, shares: shares ?? new Array<number>(bins).fill(1 / bins) };
}

/** A baseline of `features` histograms named x0, x1, ... with these edges, and the given outputs. */
export function baselineOf(features: number, edges: number[], outputs: Histogram[] = []): Baseline {
  return {
    version: 1,
    rows: 1000,
    features: Array.from({ length: features }, (_, i) => histogram(`x${i}`, edges)),
    outputs,
  };
}

/** Writes a baseline (or any text) to `dir/name` and returns its path. */
export function writeBaseline(dir: string, name: string, baseline: Baseline | string): string {
  const path = join(dir, name);
  writeFileSync(path, typeof baseline === 'string' ? baseline : JSON.stringify(baseline));
  return path;
}

/** A clock for the drift window that moves only when told; starts on a minute's boundary. */
export class TestClock {
  time = Date.UTC(2030, 0, 1);
  readonly now = (): number => this.time;

  advance(ms: number): void {
    this.time += ms;
  }
}
