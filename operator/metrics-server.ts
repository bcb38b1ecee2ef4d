/**
 * The operator's /metrics, on a port of its own: over HTTPS, to a client whose bearer token the API server
 * authenticates (TokenReview) and allows `get` on the non-resource URL `/metrics` (SubjectAccessReview), as
 * controller-runtime's `filters.WithAuthenticationAndAuthorization` does. So a scraper needs a ServiceAccount bound to
 * the `metrics-reader` ClusterRole (config/rbac), and nothing else on the pod network can read the operator's
 * metrics. The reviews' answers are kept for a while (`cachingReviewer`). `secure: undefined` serves plain HTTP to
 * anyone (METRICS_SECURE=false: a local run, a benchmark).
 */
import { AuthenticationV1Api, AuthorizationV1Api, type KubeConfig } from '@kubernetes/client-node';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { apiErrorText } from './api-error.js';
import type { OperatorMetrics } from './metrics.js';
import type { KeyAndCertificate } from './self-signed.js';

export const METRICS_PATH = '/metrics';

/** Who a token belongs to, as the API server's TokenReview says. */
export interface TokenUser {
  username: string;
  uid?: string;
  groups?: string[];
  extra?: Record<string, string[]>;
}

/** The API server's two reviews, behind a port so that the server's logic is tested without a cluster. */
export interface AccessReviewer {
  /** The token's user, or undefined when the API server does not authenticate it. */
  authenticate(token: string): Promise<TokenUser | undefined>;
  /** Whether `user` may `verb` the non-resource URL `path`. */
  authorize(user: TokenUser, path: string, verb: string): Promise<boolean>;
}

export function kubernetesAccessReviewer(kc: KubeConfig): AccessReviewer {
  const authentication = kc.makeApiClient(AuthenticationV1Api);
  const authorization = kc.makeApiClient(AuthorizationV1Api);
  return {
    async authenticate(token) {
      const review = await authentication.createTokenReview({ body: { spec: { token } } });
      const user = review.status?.user;
      return review.status?.authenticated && user?.username
        ? { username: user.username, uid: user.uid, groups: user.groups, extra: user.extra }
        : undefined;
    },
    async authorize(user, path, verb) {
      const review = await authorization.createSubjectAccessReview({
        body: {
          spec: {
            user: user.username,
            uid: user.uid,
            groups: user.groups,
            extra: user.extra,
            nonResourceAttributes: { path, verb },
          },
        },
      });
      return review.status?.allowed === true;
    },
  };
}

/**
 * How long a review's answer is used again, as the kubelet's delegated authentication and authorization keep theirs
 * (`authentication.webhook.cacheTTL` 2 minutes; `authorization.webhook.cacheAuthorizedTTL` 5 minutes,
 * `cacheUnauthorizedTTL` 30 seconds): a token the API server did not authenticate is asked about again after
 * `unauthenticatedMs`. A ServiceAccount whose binding is removed can read the metrics for `allowedMs` more.
 */
export interface ReviewCacheOptions {
  authenticatedMs: number;
  unauthenticatedMs: number;
  allowedMs: number;
  deniedMs: number;
  /** The most answers kept of each review; the oldest goes first. */
  maxEntries: number;
  now: () => number;
}

export const REVIEW_CACHE: ReviewCacheOptions = {
  authenticatedMs: 120_000,
  unauthenticatedMs: 10_000,
  allowedMs: 300_000,
  deniedMs: 30_000,
  maxEntries: 1000,
  now: Date.now,
};

/**
 * `reviewer` with its answers kept for a while (ReviewCacheOptions): a scraper's every scrape, every 15 to 30
 * seconds, otherwise costs the API server a TokenReview and a SubjectAccessReview. Tokens are kept as their SHA-256,
 * never themselves; a review that failed is not kept.
 */
export function cachingReviewer(reviewer: AccessReviewer, options: Partial<ReviewCacheOptions> = {}): AccessReviewer {
  const o = { ...REVIEW_CACHE, ...options };
  const users = new Answers<TokenUser | undefined>(o);
  const decisions = new Answers<boolean>(o);
  return {
    authenticate(token) {
      const key = createHash('sha256').update(token).digest('hex');
      return users.get(
        key,
        () => reviewer.authenticate(token),
        (user) => (user ? o.authenticatedMs : o.unauthenticatedMs),
      );
    },
    authorize(user, path, verb) {
      const key = JSON.stringify([user.username, user.uid, user.groups, user.extra, path, verb]);
      return decisions.get(
        key,
        () => reviewer.authorize(user, path, verb),
        (allowed) => (allowed ? o.allowedMs : o.deniedMs),
      );
    },
  };
}

/** Answers by key until they expire, at most `maxEntries` (the oldest dropped first). */
class Answers<T> {
  private readonly kept = new Map<string, { answer: T; until: number }>();
  private readonly options: Pick<ReviewCacheOptions, 'maxEntries' | 'now'>;
  constructor(options: Pick<ReviewCacheOptions, 'maxEntries' | 'now'>) {
    this.options = options;
  }

  async get(key: string, ask: () => Promise<T>, keepFor: (answer: T) => number): Promise<T> {
    const found = this.kept.get(key);
    if (found && found.until > this.options.now()) return found.answer;
    this.kept.delete(key);
    const answer = await ask();
    if (this.kept.size >= this.options.maxEntries) {
      const now = this.options.now();
      for (const [k, v] of this.kept) if (v.until <= now) this.kept.delete(k);
      // Still full: the oldest goes (a Map keeps its keys in insertion order).
      if (this.kept.size >= this.options.maxEntries) this.kept.delete(this.kept.keys().next().value!);
    }
    this.kept.set(key, { answer, until: this.options.now() + keepFor(answer) });
    return answer;
  }
}

export interface MetricsServerOptions {
  port: number;
  host: string;
  metrics: OperatorMetrics;
  /** HTTPS and the reviews; undefined: plain HTTP, no check. */
  secure?: { tls: KeyAndCertificate; reviewer: AccessReviewer };
  /** Told of a review the API server failed to answer (the client gets a 500). */
  onReviewError?: (err: string) => void;
}

export interface MetricsEndpoint {
  url: string;
  /** Serves `tls` to new connections from now on (a renewed certificate); throws if key and certificate differ. */
  setCertificate(tls: KeyAndCertificate): void;
  close(): void;
}

export async function startMetricsServer(options: MetricsServerOptions): Promise<MetricsEndpoint> {
  const { metrics, secure } = options;
  const serve = (res: ServerResponse) =>
    metrics.registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text),
      () => res.writeHead(500).end(),
    );
  const text = (res: ServerResponse, status: number, body: string) =>
    res.writeHead(status, { 'content-type': 'text/plain' }).end(`${body}\n`);

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (path !== METRICS_PATH) return text(res, 404, 'not found');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (!secure) return void serve(res);
    const token = /^Bearer (\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
    if (!token) return text(res, 401, 'Unauthorized');
    void (async () => {
      const user = await secure.reviewer.authenticate(token);
      if (!user) return text(res, 401, 'Unauthorized');
      if (!(await secure.reviewer.authorize(user, path, 'get'))) {
        return text(res, 403, `Forbidden: ${user.username} may not get ${path}`);
      }
      await serve(res);
    })().catch((err: unknown) => {
      options.onReviewError?.(apiErrorText(err));
      if (!res.headersSent) text(res, 500, 'the API server did not answer the access review');
    });
  };

  const https = secure && createHttpsServer({ key: secure.tls.key, cert: secure.tls.cert }, handle);
  const server = https || createHttpServer(handle);
  server.listen(options.port, options.host);
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  const host = options.host === '0.0.0.0' ? '127.0.0.1' : options.host;
  return {
    url: `${secure ? 'https' : 'http'}://${host}:${port}${METRICS_PATH}`,
    setCertificate(tls) {
      if (!https) throw new Error('/metrics is served over plain HTTP (METRICS_SECURE=false)');
      https.setSecureContext({ key: tls.key, cert: tls.cert });
    },
    close: () => server.close(),
  };
}
