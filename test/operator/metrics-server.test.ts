/**
 * The operator's protected /metrics over a real TLS socket, with the API server's reviews behind a stand-in (the
 * cluster suite runs them against a real kube-apiserver: test/cluster/metrics-access.test.ts).
 */
import { request } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { X509Certificate } from 'node:crypto';
import { startMetricsServer, type AccessReviewer, type TokenUser } from '../../operator/metrics-server.js';
import { OperatorMetrics } from '../../operator/metrics.js';
import { selfSignedCertificate } from '../../operator/self-signed.js';
import { startProbeServer } from '../../operator/server.js';

const tls = selfSignedCertificate(['scoring-operator-metrics.scoring-system.svc', 'localhost', '127.0.0.1']);

/** Tokens the stand-in API server knows: their users, and whether each may get /metrics. */
const USERS: Record<string, { user: TokenUser; allowed: boolean }> = {
  'reader-token': { user: { username: 'system:serviceaccount:monitoring:prometheus', groups: ['g'] }, allowed: true },
  'other-token': { user: { username: 'system:serviceaccount:default:other' }, allowed: false },
};

function get(url: string, token?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    // Verified against the self-signed certificate itself: its names must cover the address.
    const req = request(url, { ca: tls.cert, headers: token ? { authorization: `Bearer ${token}` } : {} }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe("the operator's protected /metrics", () => {
  const asked: [string, string, string][] = [];
  const reviewErrors: string[] = [];
  let failing = false;
  const reviewer: AccessReviewer = {
    authenticate: async (token) => {
      if (failing) throw new Error('connect ECONNREFUSED');
      return USERS[token]?.user;
    },
    authorize: async (user, path, verb) => {
      asked.push([user.username, path, verb]);
      return Object.values(USERS).some((u) => u.user === user && u.allowed);
    },
  };
  let server: Awaited<ReturnType<typeof startMetricsServer>>;
  beforeAll(async () => {
    server = await startMetricsServer({
      port: 0,
      host: '127.0.0.1',
      metrics: new OperatorMetrics(2),
      secure: { tls, reviewer },
      onReviewError: (err) => reviewErrors.push(err),
    });
  });
  afterAll(() => server.close());
  beforeEach(() => {
    asked.length = 0;
    failing = false;
  });

  it('is served over HTTPS with the certificate given, whose names cover the address', async () => {
    expect(server.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/metrics$/);
    const cert = new X509Certificate(tls.cert);
    expect(cert.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(cert.checkHost('scoring-operator-metrics.scoring-system.svc')).toBeDefined();
    expect((await get(server.url)).status).toBe(401);
  });

  it('refuses a request without a bearer token with 401, asking the API server nothing', async () => {
    expect(await get(server.url)).toEqual({ status: 401, body: 'Unauthorized\n' });
    expect(asked).toEqual([]);
  });

  it('refuses a token the API server does not authenticate with 401', async () => {
    expect((await get(server.url, 'forged-token')).status).toBe(401);
    expect(asked).toEqual([]);
  });

  it('refuses an authenticated user not allowed to get the /metrics URL with 403', async () => {
    expect(await get(server.url, 'other-token')).toEqual({
      status: 403,
      body: 'Forbidden: system:serviceaccount:default:other may not get /metrics\n',
    });
    expect(asked).toEqual([['system:serviceaccount:default:other', '/metrics', 'get']]);
  });

  it('serves the metrics to a user allowed to get /metrics', async () => {
    const reply = await get(server.url, 'reader-token');
    expect(reply.status).toBe(200);
    expect(reply.body).toContain('\n# TYPE controller_runtime_reconcile_total counter\n');
    expect(asked).toEqual([['system:serviceaccount:monitoring:prometheus', '/metrics', 'get']]);
  });

  it('answers 500 when the API server cannot review, and says why', async () => {
    failing = true;
    expect((await get(server.url, 'reader-token')).status).toBe(500);
    expect(reviewErrors).toEqual(['connect ECONNREFUSED']);
  });

  it('serves a renewed certificate to new connections, and refuses a key that is not the certificate’s', async () => {
    const fingerprint = () =>
      new Promise<string>((resolve, reject) => {
        const req = request(server.url, { rejectUnauthorized: false, agent: false }, (res) => {
          resolve((res.socket as TLSSocket).getPeerCertificate().fingerprint256);
          res.resume();
        });
        req.on('error', reject);
        req.end();
      });
    const renewed = selfSignedCertificate(['localhost', '127.0.0.1']);
    try {
      expect(await fingerprint()).toBe(new X509Certificate(tls.cert).fingerprint256);
      server.setCertificate(renewed);
      expect(await fingerprint()).toBe(new X509Certificate(renewed.cert).fingerprint256);
      expect(() => server.setCertificate({ cert: tls.cert, key: renewed.key })).toThrow();
    } finally {
      server.setCertificate(tls);
    }
  });

  it('serves nothing but /metrics', async () => {
    expect((await get(server.url.replace('/metrics', '/healthz'), 'reader-token')).status).toBe(404);
  });
});

describe('the health probes', () => {
  it('stay plain HTTP, without /metrics', async () => {
    const probes = await startProbeServer(0, '127.0.0.1', { ready: () => true });
    try {
      expect((await fetch(`${probes.url}/healthz`)).status).toBe(200);
      expect((await fetch(`${probes.url}/readyz`)).status).toBe(200);
      expect((await fetch(`${probes.url}/metrics`)).status).toBe(404);
    } finally {
      probes.server.close();
    }
  });
});
