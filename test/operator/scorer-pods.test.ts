/**
 * Asking the scorers: which pods are asked, at which URL, and what each kind of answer becomes, over real sockets
 * (an HTTP server on loopback playing the scorer). When the asking happens is the controller's test.
 */
import type { V1Pod } from '@kubernetes/client-node';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { monitoringPath, monitoringReportSchema } from '../../contract/drift.js';
import { askScorer, httpFetcher, scorerTargets } from '../../operator/scorer-pods.js';
import { report } from '../helpers/drift.js';

function pod(name: string, status: V1Pod['status'], extra: Partial<V1Pod> = {}): V1Pod {
  return { metadata: { name }, status, ...extra };
}
const ready = { type: 'Ready', status: 'True' };

describe('scorerTargets', () => {
  it('asks the ready pods with an IP, not the ones deleting, at the port their scorer container declares', () => {
    const targets = scorerTargets(
      [
        pod('m-b', { podIP: '10.0.0.2', conditions: [ready] }),
        pod(
          'm-a',
          { podIP: '10.0.0.1', conditions: [ready] },
          {
            spec: { containers: [{ name: 'scorer', ports: [{ name: 'http', containerPort: 9000 }] }] },
          },
        ),
        pod('m-c', { podIP: '10.0.0.3', conditions: [{ type: 'Ready', status: 'False' }] }),
        pod('m-d', { conditions: [ready] }),
        {
          ...pod('m-e', { podIP: '10.0.0.5', conditions: [ready] }),
          metadata: { name: 'm-e', deletionTimestamp: new Date() },
        },
        pod('m-f', { podIP: 'fd00::7', conditions: [ready] }),
      ],
      monitoringPath('fraud v2'),
    );
    expect(targets).toEqual([
      { pod: 'm-a', url: 'http://10.0.0.1:9000/v2/models/fraud%20v2/monitoring' },
      { pod: 'm-b', url: 'http://10.0.0.2:8080/v2/models/fraud%20v2/monitoring' },
      { pod: 'm-f', url: 'http://[fd00::7]:8080/v2/models/fraud%20v2/monitoring' },
    ]);
  });
});

describe('askScorer over HTTP', () => {
  let server: Server;
  let base: string;
  /** What the playing scorer does with a request, by path. */
  const routes = new Map<string, (res: ServerResponse) => void>();
  const held: ServerResponse[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      const route = routes.get(req.url ?? '');
      if (route) route(res);
      else res.writeHead(404, { 'content-type': 'text/html' }).end('<h1>Not Found</h1>');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    for (const res of held) res.destroy();
    await new Promise((resolve) => server.close(resolve));
  });

  const json = (status: number, body: unknown) => (res: ServerResponse) =>
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  const ask = (path: string, timeoutMs = 2000) =>
    askScorer(httpFetcher, { pod: 'p', url: base + path }, timeoutMs, monitoringReportSchema);

  it('parses a report', async () => {
    const counts = report({ features: { x0: [1, 2, 0] } });
    routes.set('/ok', json(200, counts));
    expect(await ask('/ok')).toEqual({ pod: 'p', report: counts });
  });

  it("takes a 503's error as the scorer's word that it cannot monitor", async () => {
    routes.set('/unavailable', json(503, { error: 'cannot fetch baseline http://b/x.json: HTTP 404 Not Found' }));
    expect(await ask('/unavailable')).toEqual({
      pod: 'p',
      unavailable: 'cannot fetch baseline http://b/x.json: HTTP 404 Not Found',
    });
  });

  it('says what else came back: another status, a body not JSON, a body not a report', async () => {
    routes.set('/busy', json(500, { error: 'boom' }));
    routes.set('/odd', json(200, { ...report({ features: { x0: [1] } }), window: { rows: -1 } }));
    expect(await ask('/busy')).toEqual({ pod: 'p', failed: 'HTTP 500: boom' });
    expect(await ask('/missing')).toEqual({ pod: 'p', failed: 'HTTP 404, and the body is not JSON' });
    expect(await ask('/odd')).toEqual({
      pod: 'p',
      failed: expect.stringMatching(/^the report's window\.\w+ is invalid: /),
    });
  });

  it('gives up on a scorer that does not answer in time', async () => {
    routes.set('/slow', (res) => held.push(res));
    expect(await ask('/slow', 100)).toEqual({ pod: 'p', failed: 'no answer within 100 ms' });
  });

  it('says why no connection was made', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise((resolve) => closed.close(resolve));
    const answer = await askScorer(
      httpFetcher,
      { pod: 'p', url: `http://127.0.0.1:${port}/x` },
      2000,
      monitoringReportSchema,
    );
    expect(answer).toEqual({ pod: 'p', failed: `connect ECONNREFUSED 127.0.0.1:${port}` });
  });
});
