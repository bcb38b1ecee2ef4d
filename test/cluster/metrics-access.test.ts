/**
 * The operator's /metrics behind the real API server's TokenReview and SubjectAccessReview: refused without a
 * token, refused to a ServiceAccount the metrics-reader ClusterRole is not bound to, served to one it is (the suite's
 * scraper, bound in installOperatorPrerequisites). Tokens from `kubectl create token`, as a Prometheus pod's
 * projected token would be.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { get } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadAll } from 'js-yaml';
import { KubeConfig } from '@kubernetes/client-node';
import { cachingReviewer, kubernetesAccessReviewer } from '../../operator/metrics-server.js';
import { selfSignedCertificate } from '../../operator/self-signed.js';
import {
  ADMIN,
  audit,
  getJson,
  installOperatorPrerequisites,
  k,
  kubectl,
  metricsOf,
  ROOT,
  scoringModel,
  scrape,
  startOperator,
  waitFor,
  type OperatorProcess,
} from './kube.js';

const NS = 'metrics-access';
let op: OperatorProcess;
let kubeconfig: string;

beforeAll(async () => {
  kubeconfig = await installOperatorPrerequisites();
  if (kubectl(['get', 'namespace', NS]).status !== 0) k(['create', 'namespace', NS]);
  k(['create', 'serviceaccount', 'nosy', '-n', NS]);
  op = await startOperator(kubeconfig, { POD_NAME: 'operator-metrics', LEADER_ELECT: 'false', WATCH_NAMESPACES: NS });
});

afterAll(async () => {
  k(['delete', 'sm', '--all', '-n', NS, '--wait=true']);
  await op.stop();
  k(['delete', 'namespace', NS, '--wait=false']);
});

it('serves /metrics over HTTPS only', () => {
  expect(op.metricsUrl).toMatch(/^https:/);
});

it('refuses a scrape without a token: 401', async () => {
  expect(await scrape(op)).toEqual({ status: 401, text: 'Unauthorized\n' });
});

it('refuses a token the API server does not know: 401', async () => {
  expect((await scrape(op, 'not-a-token')).status).toBe(401);
});

it('refuses a ServiceAccount not bound to the metrics-reader role: 403', async () => {
  const token = k(['create', 'token', 'nosy', '-n', NS, '--duration=10m']).trim();
  expect(await scrape(op, token)).toEqual({
    status: 403,
    text: `Forbidden: system:serviceaccount:${NS}:nosy may not get /metrics\n`,
  });
});

it('keeps the reviews: a token asked about three times costs the API server one TokenReview and one SubjectAccessReview', async () => {
  // As the admin, whose reviews no other test asks for: the audit log tells them apart from the operators'.
  const kc = new KubeConfig();
  kc.loadFromFile(ADMIN);
  const reviewer = cachingReviewer(kubernetesAccessReviewer(kc));
  const reviews = () =>
    audit()
      .filter(
        (e) => e.user.username === 'admin' && /^(tokenreviews|subjectaccessreviews)$/.test(e.objectRef?.resource ?? ''),
      )
      .map((e) => e.objectRef!.resource);
  const before = reviews().length;
  const token = k(['create', 'token', 'nosy', '-n', NS, '--duration=10m']).trim();
  for (let i = 0; i < 3; i++) {
    const user = await reviewer.authenticate(token);
    expect(user?.username).toBe(`system:serviceaccount:${NS}:nosy`);
    expect(await reviewer.authorize(user!, '/metrics', 'get')).toBe(false);
  }
  expect(reviews().slice(before)).toEqual(['tokenreviews', 'subjectaccessreviews']);
});

it("serves a ServiceAccount bound to it, with each model's conditions", async () => {
  k(['apply', '-f', '-'], scoringModel('watched', { model: { uri: 'identity' } }, NS));
  await waitFor('the status', () => getJson(['sm', 'watched', '-n', NS])?.status?.observedGeneration === 1);
  const text = await waitFor('the Ready condition in the metrics', async () => {
    const t = await metricsOf(op);
    return /^scoring_operator_model_condition\{namespace="metrics-access",model="watched",type="Ready",/m.test(t) && t;
  });
  expect(text).toMatch(/^controller_runtime_reconcile_total\{controller="scoringmodel",result="success"\} [1-9]/m);
  // No pod runs here (no kubelet): the Deployment is not available, so the model is not Ready.
  expect(text).toMatch(
    /^scoring_operator_model_condition\{namespace="metrics-access",model="watched",type="Ready",status="False",reason="Progressing"\} 1$/m,
  );
});

it("serves the kit's scraper identity: the token the API server puts in its Secret, as the ServiceMonitor reads it", async () => {
  // The kit's ServiceAccount, token Secret and binding, as `kubectl apply -k config/prometheus` applies them (the
  // monitors and the rule need the Prometheus Operator's CRDs, which this cluster has not).
  const kit = (loadAll(k(['kustomize', 'config/prometheus'])) as { kind: string }[]).filter((o) =>
    ['ServiceAccount', 'Secret', 'ClusterRoleBinding'].includes(o.kind),
  );
  expect(kit).toHaveLength(3);
  k(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: kit }));
  try {
    const token = await waitFor('the token controller to fill the Secret', () => {
      const data = getJson(['secret', 'scoring-operator-metrics-scraper', '-n', 'scoring-system'])?.data;
      return data?.token && Buffer.from(data.token as string, 'base64').toString('utf8');
    });
    const scraper = 'system:serviceaccount:scoring-system:scoring-operator-metrics-scraper';
    await waitFor(
      'the RBAC authorizer to know the binding',
      () => kubectl(['auth', 'can-i', '--as', scraper, 'get', '/metrics']).stdout.trim() === 'yes',
    );
    const { status, text } = await scrape(op, token);
    expect(status).toBe(200);
    expect(text).toContain('# TYPE scoring_operator_leader gauge');
  } finally {
    // The token controller deletes the Secret with its ServiceAccount: either may be gone first.
    k(
      ['delete', '-f', '-', '--wait=true', '--ignore-not-found'],
      JSON.stringify({ apiVersion: 'v1', kind: 'List', items: kit }),
    );
  }
});

it('accepts the NetworkPolicy example (in namespaces of the test)', () => {
  const policies = loadAll(readFileSync(`${ROOT}config/prometheus/networkpolicy.yaml`, 'utf8')) as {
    metadata: { namespace: string };
  }[];
  expect(policies).toHaveLength(2);
  for (const p of policies) p.metadata.namespace = NS;
  const run = kubectl(
    ['apply', '--dry-run=server', '-f', '-'],
    JSON.stringify({ apiVersion: 'v1', kind: 'List', items: policies }),
  );
  expect(run.stderr).toBe('');
  expect(run.status).toBe(0);
});

it('serves the certificate mounted in METRICS_CERT_DIR, which a scraper can verify', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'metrics-cert-'));
  const tls = selfSignedCertificate(['localhost', '127.0.0.1']);
  writeFileSync(join(dir, 'tls.crt'), tls.cert);
  writeFileSync(join(dir, 'tls.key'), tls.key);
  // A second operator, watching a namespace with nothing in it, so that it leaves the first one's models alone.
  const mounted = await startOperator(kubeconfig, {
    POD_NAME: 'operator-mounted-cert',
    LEADER_ELECT: 'false',
    WATCH_NAMESPACES: `${NS}-empty`,
    METRICS_CERT_DIR: dir,
  });
  try {
    const token = k(['create', 'token', 'metrics-scraper', '-n', 'scoring-system', '--duration=10m']).trim();
    const status = await new Promise<number>((resolve, reject) => {
      get(mounted.metricsUrl, { agent: false, ca: tls.cert, headers: { authorization: `Bearer ${token}` } }, (res) => {
        res.resume();
        resolve(res.statusCode!);
      }).on('error', reject);
    });
    expect(status).toBe(200);
  } finally {
    await mounted.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

it('keeps its health probes plain HTTP, without a token', async () => {
  expect((await fetch(`${op.probesUrl}/healthz`)).status).toBe(200);
  expect((await fetch(`${op.probesUrl}/readyz`)).status).toBe(200);
  expect((await fetch(`${op.probesUrl}/metrics`)).status).toBe(404);
});
