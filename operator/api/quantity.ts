/**
 * Kubernetes resource quantities as apimachinery reads them, exact, since "0.3" and "300m" must compare equal: for
 * parseSpec's twins of the CRD's CEL quantity rules (a request above its limit, a negative quantity), and for the
 * controller's comparison of desired children with stored ones (the API server stores "0.5" as "500m", "1024Mi" as
 * "1Gi").
 */

const SUFFIXES: Record<string, { base: bigint; exponent: number }> = {
  '': { base: 10n, exponent: 0 },
  n: { base: 10n, exponent: -9 },
  u: { base: 10n, exponent: -6 },
  m: { base: 10n, exponent: -3 },
  k: { base: 10n, exponent: 3 },
  M: { base: 10n, exponent: 6 },
  G: { base: 10n, exponent: 9 },
  T: { base: 10n, exponent: 12 },
  P: { base: 10n, exponent: 15 },
  E: { base: 10n, exponent: 18 },
  Ki: { base: 2n, exponent: 10 },
  Mi: { base: 2n, exponent: 20 },
  Gi: { base: 2n, exponent: 30 },
  Ti: { base: 2n, exponent: 40 },
  Pi: { base: 2n, exponent: 50 },
  Ei: { base: 2n, exponent: 60 },
};

const FORM = /^([+-])?([0-9]*)(?:\.([0-9]*))?(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE]([+-]?[0-9]+))?$/;
/**
 * Decimal exponents are bounded so that a quantity like "1e999999999" cannot make a number of a billion digits;
 * beyond ±1000 the comparison with any quantity a person writes is the same.
 */
const MAX_EXPONENT = 1000;

/**
 * The quantity in nano-units, rounded up as apimachinery rounds (a positive value below 1n counts as 1n);
 * undefined when it is not a quantity.
 */
export function nanoUnits(quantity: string | number): bigint | undefined {
  const text = String(quantity);
  const m = FORM.exec(text);
  if (!m || (m[2] === '' && (m[3] ?? '') === '')) return undefined;
  const [, sign, whole, fraction = '', suffix = '', exponentText] = m;
  const { base, exponent } =
    exponentText !== undefined
      ? { base: 10n, exponent: Math.max(-MAX_EXPONENT, Math.min(MAX_EXPONENT, Number(exponentText))) }
      : SUFFIXES[suffix]!;
  // value = digits / 10^fraction.length * base^exponent, as numerator / denominator, times 10^9 for nano-units.
  let numerator = BigInt(`${whole}${fraction}` || '0') * 10n ** 9n;
  let denominator = 10n ** BigInt(fraction.length);
  if (exponent >= 0) numerator *= base ** BigInt(exponent);
  else denominator *= base ** BigInt(-exponent);
  const magnitude = (numerator + denominator - 1n) / denominator;
  return sign === '-' ? -magnitude : magnitude;
}

/** Whether a is above b, both quantities; false when either is not one (the schema's pattern reports that). */
export function quantityAbove(a: string | number, b: string | number): boolean {
  const x = nanoUnits(a);
  const y = nanoUnits(b);
  return x !== undefined && y !== undefined && x > y;
}

/** Whether a quantity is below zero. */
export function quantityNegative(q: string | number): boolean {
  const n = nanoUnits(q);
  return n !== undefined && n < 0n;
}

/** Whether two quantities hold the same value (two values that are not quantities: whether they are equal). */
export function sameQuantity(a: unknown, b: unknown): boolean {
  if ((typeof a !== 'string' && typeof a !== 'number') || (typeof b !== 'string' && typeof b !== 'number')) {
    return a === b;
  }
  const [x, y] = [nanoUnits(a), nanoUnits(b)];
  return x !== undefined && y !== undefined ? x === y : a === b;
}
