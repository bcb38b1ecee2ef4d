/**
 * JSON with every object's keys in sorted order, so that values differing only in key order (or in a member that is
 * undefined, which JSON leaves out) give the same text: for comparing objects and for digests of them.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)))
      : v,
  );
}
