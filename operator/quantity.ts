/**
 * Kubernetes resource quantities by value. The API server stores a quantity in canonical form ("0.5" as "500m",
 * "1024Mi" as "1Gi"), so a desired value as the user wrote it never equals the stored one as text.
 */
const QUANTITY = /^([+-]?)(\d+(?:\.\d*)?|\.\d+)(?:([KMGTPE]i)|([numkMGTPE])|[eE]([+-]?\d+))?$/;
const BINARY: Record<string, number> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };
const DECIMAL: Record<string, number> = { n: -9, u: -6, m: -3, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };

/**
 * A quantity's value in nano-units, rounded up as the API server rounds what is finer than 1n; undefined for what
 * is not a quantity.
 */
export function quantityNanos(value: string | number): bigint | undefined {
  const m = QUANTITY.exec(String(value));
  if (!m) return undefined;
  const [, sign, number, binary, decimal, exponent] = m;
  const [whole = '', fraction = ''] = number!.split('.');
  // value = digits * 10^scale * 2^shift, kept exact as a fraction over a power of ten.
  const digits = BigInt(`${whole}${fraction}` || '0');
  const scale = (decimal ? DECIMAL[decimal]! : Number(exponent ?? 0)) - fraction.length + 9;
  const shift = binary ? BigInt(BINARY[binary]!) : 0n;
  let numerator = digits << shift;
  let denominator = 1n;
  if (scale >= 0) numerator *= 10n ** BigInt(scale);
  else denominator = 10n ** BigInt(-scale);
  const nanos = (numerator + denominator - 1n) / denominator;
  return sign === '-' ? -nanos : nanos;
}

/** Whether two quantities hold the same value (two values that are not quantities: whether they are equal). */
export function sameQuantity(a: unknown, b: unknown): boolean {
  if ((typeof a !== 'string' && typeof a !== 'number') || (typeof b !== 'string' && typeof b !== 'number')) {
    return a === b;
  }
  const [x, y] = [quantityNanos(a), quantityNanos(b)];
  return x !== undefined && y !== undefined ? x === y : a === b;
}
