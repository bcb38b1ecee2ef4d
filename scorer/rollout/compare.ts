/**
 * The agreement of a mirrored request: the candidate's outputs and the scorer's own, compared row by row. A row
 * agrees when every value of every output both have (by name) is within the routing's tolerance:
 * |candidate - stable| <= tolerance * max(1, |stable|).
 */
import type { Tensor } from '../model.js';

export interface Agreement {
  /** Rows compared, and the ones whose every value agreed. */
  rows: number;
  agreeing: number;
  /** Pairs of numbers compared (both present: NaN is a missing value), and the sum of their absolute differences. */
  values: number;
  absDiffSum: number;
}

export function emptyAgreement(): Agreement {
  return { rows: 0, agreeing: 0, values: 0, absDiffSum: 0 };
}

/**
 * Compares `rows` rows of the scorer's outputs (`stable`) with the candidate's. An output both have whose values per
 * row differ in number (three classes against two) makes every row disagree; so does having no output in common.
 * Two missing values (NaN) agree; a missing value against a present one disagrees and is not a compared value.
 * Strings (BYTES) agree when equal.
 */
export function compareRows(
  stable: readonly Tensor[],
  candidate: readonly Tensor[],
  rows: number,
  tolerance: number,
): Agreement {
  const agrees = new Array<boolean>(rows).fill(true);
  const result = emptyAgreement();
  result.rows = rows;
  let common = 0;
  for (const s of stable) {
    const c = candidate.find((t) => t.name === s.name);
    if (!c) continue;
    common++;
    const width = s.data.length / rows;
    if (c.data.length !== s.data.length || !Number.isInteger(width)) {
      agrees.fill(false);
      continue;
    }
    for (let r = 0; r < rows; r++) {
      for (let k = r * width; k < (r + 1) * width; k++) {
        const a = s.data[k]!;
        const b = c.data[k]!;
        if (typeof a === 'string' || typeof b === 'string') {
          if (a !== b) agrees[r] = false;
          continue;
        }
        const x = Number(a);
        const y = Number(b);
        if (Number.isNaN(x) || Number.isNaN(y)) {
          if (Number.isNaN(x) !== Number.isNaN(y)) agrees[r] = false;
          continue;
        }
        // Equal infinities agree (their difference is NaN).
        const diff = x === y ? 0 : Math.abs(y - x);
        result.values++;
        // An infinite difference (an overflow on one side) disagrees, and is left out of the sum it would swamp.
        if (!Number.isFinite(diff)) agrees[r] = false;
        else {
          result.absDiffSum += diff;
          if (diff > tolerance * Math.max(1, Math.abs(x))) agrees[r] = false;
        }
      }
    }
  }
  result.agreeing = common === 0 ? 0 : agrees.filter(Boolean).length;
  return result;
}

/** Adds `b` into `a`. */
export function addAgreement(a: Agreement, b: Agreement): void {
  a.rows += b.rows;
  a.agreeing += b.agreeing;
  a.values += b.values;
  a.absDiffSum += b.absDiffSum;
}
