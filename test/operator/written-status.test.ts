import type { ScoringModelObject, ScoringModelStatus } from '../../operator/api/v1alpha1.js';
import { isNewer, WrittenStatuses } from '../../operator/written-status.js';

const at = (resourceVersion: string, status: ScoringModelStatus): ScoringModelObject => ({
  apiVersion: 'scoring.dev/v1alpha1',
  kind: 'ScoringModel',
  metadata: { name: 'churn', namespace: 'ml', uid: 'u1', resourceVersion },
  status,
});

describe('isNewer', () => {
  it('orders decimal resourceVersions by value, not as text', () => {
    expect(isNewer('10', '9')).toBe(true);
    expect(isNewer('9', '10')).toBe(false);
    expect(isNewer('123457', '123456')).toBe(true);
    expect(isNewer('5', '5')).toBe(false);
  });

  it('calls nothing newer when either is not a decimal without leading zeros', () => {
    expect(isNewer('abc', '1')).toBe(false);
    expect(isNewer('2', 'x1')).toBe(false);
    expect(isNewer('012', '3')).toBe(false);
    expect(isNewer('2', undefined)).toBe(false);
  });
});

describe('WrittenStatuses', () => {
  const old: ScoringModelStatus = { url: 'old' };
  const mine: ScoringModelStatus = { url: 'mine' };

  it('answers with the status written while the cache is older than the write', () => {
    const written = new WrittenStatuses();
    written.record('ml/churn', '7', mine);
    expect(written.current('ml/churn', at('6', old))).toBe(mine);
  });

  it('answers with the cache once it has caught up, and forgets the write', () => {
    const written = new WrittenStatuses();
    written.record('ml/churn', '7', mine);
    const caughtUp = { url: 'cache' };
    expect(written.current('ml/churn', at('7', caughtUp))).toBe(caughtUp);
    expect(written.current('ml/churn', at('6', old))).toBe(old);
  });

  it('answers with the cache for a key written by no one here, or forgotten', () => {
    const written = new WrittenStatuses();
    expect(written.current('ml/churn', at('6', old))).toBe(old);
    written.record('ml/churn', '7', mine);
    written.forget('ml/churn');
    expect(written.current('ml/churn', at('6', old))).toBe(old);
  });
});
