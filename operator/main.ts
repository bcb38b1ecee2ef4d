/**
 * The operator's entry point: wires configuration, the API client, informers, the work queue, the reconciler,
 * leader election and the probe server. Every replica keeps warm caches (so each is ready and a successor starts
 * at once); only the Lease holder runs workers.
 */
import { CoordinationV1Api } from '@kubernetes/client-node';
import { hostname } from 'node:os';
import { pino } from 'pino';
import { ConfigError } from '../contract/settings.js';
import { apiErrorText } from './api-error.js';
import { loadOperatorConfig, type OperatorConfig } from './config.js';
import { reconcile } from './controller.js';
import { DriftMonitor } from './drift/monitor.js';
import { kubernetesWriter } from './kube.js';
import { PooledKubeConfig } from './kubeconfig.js';
import { readCertificateDir, selfSignedMetricsCertificate, watchCertificateDir } from './metrics-certificate.js';
import { cachingReviewer, kubernetesAccessReviewer, startMetricsServer } from './metrics-server.js';
import { OperatorMetrics } from './metrics.js';
import { RoutingServer } from './rollout/routing-server.js';
import { routingSource } from './rollout/routing.js';
import { every, systemClock } from './runtime/clock.js';
import { InformerSet } from './runtime/informers.js';
import { kubernetesLeasePort, LeaderElector } from './runtime/leader.js';
import { startWorkers, WorkQueue } from './runtime/queue.js';
import { startProbeServer } from './server.js';
import { WrittenStatuses } from './written-status.js';

async function main(config: OperatorConfig): Promise<void> {
  const log = pino({ level: config.logLevel, base: { component: 'scoring-operator' } });
  const identity = config.identity ?? `${hostname()}_${process.pid}`;
  const kc = new PooledKubeConfig();
  kc.loadFromDefault();
  const metrics = new OperatorMetrics(config.workers);
  // The one clock of the queue, the informers, the elector, the resync and the reconciler's timestamps.
  const clock = systemClock;
  const queue = new WorkQueue({ metrics: metrics.queue, clock });
  metrics.readQueue(queue);
  // Every replica answers the scorers' long-polls from its own caches (status.rollout, the candidates' pods).
  const routing = new RoutingServer({ clock, source: (ns, name, uid) => routingSource(informers)(ns, name, uid) });
  const informers: InformerSet = new InformerSet({
    kc,
    namespaces: config.watchNamespaces,
    enqueue: (key) => {
      queue.add(key);
      routing.changed(key);
    },
    log,
    metrics,
    clock,
  });
  metrics.readModels(() => informers.scoringModels());
  const writer = kubernetesWriter(kc, metrics, identity);
  const written = new WrittenStatuses();
  const drift = new DriftMonitor();
  const now = () => new Date(clock.now());
  const probes = await startProbeServer(config.port, '0.0.0.0', { ready: () => informers.synced() });
  const metricsEndpoint = await startMetricsServer({
    port: config.metricsPort,
    host: '0.0.0.0',
    metrics,
    secure: config.metricsSecure
      ? {
          tls: config.metricsCertDir
            ? readCertificateDir(config.metricsCertDir)
            : selfSignedMetricsCertificate(config.leaseNamespace, hostname()),
          reviewer: cachingReviewer(kubernetesAccessReviewer(kc)),
        }
      : undefined,
    onReviewError: (err) => log.warn({ err }, 'metrics: access review failed'),
  });
  // A renewed certificate (cert-manager, a Secret updated) is served to new connections as soon as it is mounted.
  const certificateWatch =
    config.metricsSecure && config.metricsCertDir
      ? watchCertificateDir(
          config.metricsCertDir,
          (tls) => {
            metricsEndpoint.setCertificate(tls);
            log.info({ dir: config.metricsCertDir }, 'metrics: serving the renewed certificate');
          },
          (err) => log.warn({ err: apiErrorText(err) }, 'metrics: the renewed certificate could not be read'),
        )
      : undefined;
  const routingEndpoint = await routing.listen(config.routingPort, '0.0.0.0');
  log.info(
    {
      url: probes.url,
      metrics: metricsEndpoint.url,
      routing: routingEndpoint.url,
      identity,
      namespaces: config.watchNamespaces,
      image: config.scorerImage,
    },
    'starting',
  );

  let workers: Promise<void> | undefined;
  let stopResync: (() => void) | undefined;
  const lead = async () => {
    metrics.leader.set(1);
    log.info('leading: starting workers');
    await informers.whenSynced();
    if (queue.isShutDown) return;
    for (const key of informers.keys()) queue.add(key);
    stopResync = every(clock, config.resyncSeconds * 1000, () => informers.keys().forEach((k) => queue.add(k)));
    workers = startWorkers(
      queue,
      config.workers,
      async (key) => {
        const keyLog = log.child({ scoringmodel: key });
        const outcome = await reconcile(key, { state: informers, writer, config, written, drift, log: keyLog, now });
        keyLog.debug({ ...outcome }, 'reconciled');
        return { requeueAfterMs: outcome.requeueAfterMs };
      },
      {
        onSuccess: (_key, ms, requeueAfterMs) => metrics.reconciled(requeueAfterMs ? 'requeue_after' : 'success', ms),
        onError: (key, err, retryInMs, ms) => {
          metrics.reconciled('error', ms);
          log.warn({ scoringmodel: key, err: apiErrorText(err), retryInMs }, 'reconcile failed; retrying');
        },
      },
    );
  };

  const elector = config.leaderElect
    ? new LeaderElector({
        port: kubernetesLeasePort(kc.makeApiClient(CoordinationV1Api), config.leaseNamespace, config.leaseName),
        identity,
        clock,
        onStartedLeading: () => void lead(),
        onStoppedLeading: () => {
          // client-go's rule: a replica that lost the Lease exits, and its restart rejoins as a follower.
          log.error('lost the leader Lease; exiting');
          log.flush();
          process.exit(1);
        },
        onError: (err) => log.warn({ err: apiErrorText(err) }, 'leader election'),
      })
    : undefined;

  const startInformers = informers.start().then(() => log.info('caches synced'));
  if (elector) elector.start();
  else void startInformers.then(lead);

  const stop = async (signal: string) => {
    log.info({ signal }, 'shutting down');
    stopResync?.();
    queue.shutDown();
    await workers;
    await elector?.stop();
    await informers.stop();
    routing.releaseAll();
    routingEndpoint.server.close();
    probes.server.close();
    certificateWatch?.close();
    metricsEndpoint.close();
    log.info('stopped');
    log.flush();
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
}

let config: OperatorConfig;
try {
  config = loadOperatorConfig(process.env, process.argv.slice(2));
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  process.stderr.write(`scoring-operator: ${err.message}\n`);
  process.exit(2);
}
main(config).catch((err: unknown) => {
  process.stderr.write(`scoring-operator: ${apiErrorText(err)}\n`);
  process.exit(1);
});
