/**
 * The access reviews' answers kept for a while (cachingReviewer), over a stand-in for the API server's reviews and a
 * clock the test moves (test/cluster/metrics-access.test.ts counts the real API server's reviews).
 */
import { cachingReviewer, REVIEW_CACHE, type AccessReviewer, type TokenUser } from '../../operator/metrics-server.js';

const READER: TokenUser = { username: 'system:serviceaccount:monitoring:prometheus', groups: ['g'] };
const OTHER: TokenUser = { username: 'system:serviceaccount:default:other' };

/** The stand-in: who each token is, who may get /metrics, and every question asked of it. */
function apiServer() {
  const asked: string[] = [];
  let failing = false;
  const reviewer: AccessReviewer = {
    authenticate: async (token) => {
      asked.push(`authenticate ${token}`);
      if (failing) throw new Error('connect ECONNREFUSED');
      return { reader: READER, other: OTHER }[token];
    },
    authorize: async (user, path, verb) => {
      asked.push(`authorize ${user.username} ${verb} ${path}`);
      if (failing) throw new Error('connect ECONNREFUSED');
      return user.username === READER.username;
    },
  };
  return {
    reviewer,
    asked,
    fail: (f: boolean) => (failing = f),
  };
}

function clock() {
  let t = 1_000_000;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

describe('cachingReviewer', () => {
  it('asks about a token once while its answer is kept, and again once it is not', async () => {
    const api = apiServer();
    const c = clock();
    const reviewer = cachingReviewer(api.reviewer, { now: c.now });
    for (let i = 0; i < 3; i++) expect(await reviewer.authenticate('reader')).toEqual(READER);
    expect(api.asked).toEqual(['authenticate reader']);
    c.advance(REVIEW_CACHE.authenticatedMs - 1);
    await reviewer.authenticate('reader');
    expect(api.asked).toHaveLength(1);
    c.advance(1);
    expect(await reviewer.authenticate('reader')).toEqual(READER);
    expect(api.asked).toEqual(['authenticate reader', 'authenticate reader']);
  });

  it('asks again about a token it did not authenticate sooner, after unauthenticatedMs', async () => {
    const api = apiServer();
    const c = clock();
    const reviewer = cachingReviewer(api.reviewer, { now: c.now });
    expect(await reviewer.authenticate('stranger')).toBeUndefined();
    expect(await reviewer.authenticate('stranger')).toBeUndefined();
    expect(api.asked).toHaveLength(1);
    c.advance(REVIEW_CACHE.unauthenticatedMs);
    await reviewer.authenticate('stranger');
    expect(api.asked).toHaveLength(2);
  });

  it('keeps an allowed answer for allowedMs and a denied one for deniedMs, per user, path and verb', async () => {
    const api = apiServer();
    const c = clock();
    const reviewer = cachingReviewer(api.reviewer, { now: c.now });
    expect(await reviewer.authorize(READER, '/metrics', 'get')).toBe(true);
    expect(await reviewer.authorize(OTHER, '/metrics', 'get')).toBe(false);
    expect(await reviewer.authorize(READER, '/metrics', 'get')).toBe(true);
    expect(await reviewer.authorize(OTHER, '/metrics', 'get')).toBe(false);
    // Another verb, another group: other questions.
    await reviewer.authorize(READER, '/metrics', 'head');
    await reviewer.authorize({ ...READER, groups: ['g', 'h'] }, '/metrics', 'get');
    expect(api.asked).toHaveLength(4);
    c.advance(REVIEW_CACHE.deniedMs);
    await reviewer.authorize(READER, '/metrics', 'get');
    await reviewer.authorize(OTHER, '/metrics', 'get');
    expect(api.asked.slice(4)).toEqual([`authorize ${OTHER.username} get /metrics`]);
    c.advance(REVIEW_CACHE.allowedMs - REVIEW_CACHE.deniedMs);
    await reviewer.authorize(READER, '/metrics', 'get');
    expect(api.asked.slice(5)).toEqual([`authorize ${READER.username} get /metrics`]);
  });

  it('keeps no failed review: the next scrape asks again', async () => {
    const api = apiServer();
    const reviewer = cachingReviewer(api.reviewer, { now: clock().now });
    api.fail(true);
    await expect(reviewer.authenticate('reader')).rejects.toThrow('ECONNREFUSED');
    await expect(reviewer.authorize(READER, '/metrics', 'get')).rejects.toThrow('ECONNREFUSED');
    api.fail(false);
    expect(await reviewer.authenticate('reader')).toEqual(READER);
    expect(await reviewer.authorize(READER, '/metrics', 'get')).toBe(true);
    expect(api.asked).toHaveLength(4);
  });

  it('keeps at most maxEntries answers, dropping the oldest first', async () => {
    const api = apiServer();
    const reviewer = cachingReviewer(api.reviewer, { now: clock().now, maxEntries: 2 });
    await reviewer.authenticate('reader');
    await reviewer.authenticate('other');
    await reviewer.authenticate('stranger');
    expect(api.asked).toHaveLength(3);
    // 'reader' went: asked again; 'stranger' is still kept.
    await reviewer.authenticate('stranger');
    await reviewer.authenticate('reader');
    expect(api.asked.slice(3)).toEqual(['authenticate reader']);
  });
});
