/**
 * The statuses this process wrote, each kept until the cache holds it. A reconcile right after a status write (set
 * off by a child's or a pod's event) can still read the old status from the informer; compared with that, the new
 * status looks changed again: a second write, a moved lastTransitionTime, a repeated event.
 */
import type { ScoringModelObject, ScoringModelStatus } from './api/v1alpha1.js';

export class WrittenStatuses {
  private readonly byKey = new Map<string, { resourceVersion: string; status: ScoringModelStatus }>();

  /** The object's status as of now: the cache's, unless this process has since written a newer one. */
  current(key: string, object: ScoringModelObject): ScoringModelStatus | undefined {
    const written = this.byKey.get(key);
    if (written && isNewer(written.resourceVersion, object.metadata.resourceVersion)) return written.status;
    this.byKey.delete(key);
    return object.status;
  }

  /** A status the API server accepted, at the resourceVersion its answer carried. */
  record(key: string, resourceVersion: string | undefined, status: ScoringModelStatus): void {
    if (resourceVersion) this.byKey.set(key, { resourceVersion, status });
  }

  forget(key: string): void {
    this.byKey.delete(key);
  }
}

const DECIMAL = /^[1-9][0-9]*$/;

/**
 * Whether resourceVersion `a` is newer than `b`. etcd-backed API servers write them as decimal integers and
 * Kubernetes 1.35 made their order a guarantee (KEP-5504: compare by length, then digit by digit). A version not in
 * that form is not newer: the cache wins, as it would without this memory.
 */
export function isNewer(a: string, b: string | undefined): boolean {
  if (b === undefined || !DECIMAL.test(a) || !DECIMAL.test(b)) return false;
  return a.length !== b.length ? a.length > b.length : a > b;
}
