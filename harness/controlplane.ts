/**
 * A real Kubernetes control plane on loopback, for the cluster tests and for developers: etcd, kube-apiserver
 * (secure port on 127.0.0.1, generated CA and certificates, a service-account signing key, RBAC, an audit log of
 * writes) and kube-controller-manager (garbage collector, deployment, replicaset and service-account token
 * controllers), on free ports in a temporary directory. Binaries come from scripts/build-k8s.sh.
 * stop() ends only the processes this module started, by PID (checked against their recorded identity), and removes
 * the directory; so does a failed start, and so does SIGINT/SIGTERM/SIGHUP of the process that started them (they
 * run detached, in their own session, so a Ctrl-C of jest or of a bench reaches only that process).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kubeconfigYaml } from './kubeconfig.js';
import { freePort } from './net.js';
import { binaries, repoRoot } from './paths.js';
import { onTermination, startProcess, stopProcess, stopProcessesSync, withLogTail, type Recorded } from './process.js';
import { waitFor } from './wait.js';

export interface ControlPlane {
  dir: string;
  /** Admin kubeconfig (system:masters). */
  kubeconfig: string;
  server: string;
  auditLog: string;
  binDir: string;
  /** Its processes at start, with each one's identity (kube-apiserver's changes on restartApiserver: pids.json in
   * `dir` is current). */
  processes: Record<string, Recorded>;
  /** Stops and starts kube-apiserver on the same port and data (for resilience tests). */
  restartApiserver(): Promise<void>;
  stop(): Promise<void>;
  /** Stops watching for signals: the processes outlive this process (`cluster:up`; stop them by their record). */
  keepRunning(): void;
}

function openssl(args: string[], cwd: string): void {
  const run = spawnSync('openssl', args, { cwd, encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`openssl ${args[0]} failed: ${run.stderr}`);
}

/** The Services' range; its first address is the `kubernetes` Service, which the serving certificate names. */
export const SERVICE_CIDR = '10.96.0.0/16';

/**
 * A CA, a serving certificate for 127.0.0.1 (and the node-facing address), an admin client certificate, a
 * service-account key pair; for a cluster with a node also the client certificates of the kubelet, kube-proxy,
 * kube-scheduler, and of the apiserver towards kubelets and aggregated APIs.
 */
function makeCertificates(dir: string, hostIp?: string): void {
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl(
    ['req', '-x509', ...ec, '-days', '2', '-subj', '/CN=scoring-test-ca', '-keyout', 'ca.key', '-out', 'ca.crt'],
    dir,
  );
  const sign = (name: string, subject: string, ext: string) => {
    openssl(['req', ...ec, '-subj', subject, '-keyout', `${name}.key`, '-out', `${name}.csr`], dir);
    writeFileSync(join(dir, `${name}.ext`), ext);
    openssl(
      [
        'x509',
        '-req',
        '-in',
        `${name}.csr`,
        '-CA',
        'ca.crt',
        '-CAkey',
        'ca.key',
        '-CAcreateserial',
        '-days',
        '2',
        '-extfile',
        `${name}.ext`,
        '-out',
        `${name}.crt`,
      ],
      dir,
    );
  };
  sign(
    'apiserver',
    '/CN=kube-apiserver',
    `subjectAltName=IP:127.0.0.1,IP:10.96.0.1,${hostIp ? `IP:${hostIp},` : ''}DNS:localhost,DNS:kubernetes,` +
      'DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local\n' +
      'extendedKeyUsage=serverAuth\n',
  );
  sign('admin', '/O=system:masters/CN=admin', 'extendedKeyUsage=clientAuth\n');
  if (hostIp) {
    const client = 'extendedKeyUsage=clientAuth\n';
    sign('kubelet', `/O=system:nodes/CN=system:node:${NODE_NAME}`, client);
    sign('kube-proxy', '/CN=system:kube-proxy', client);
    sign('kube-scheduler', '/CN=system:kube-scheduler', client);
    // The apiserver's identity towards kubelets (logs, exec, port-forward) and towards aggregated APIs.
    sign('apiserver-kubelet-client', '/O=system:masters/CN=kube-apiserver-kubelet-client', client);
    sign('front-proxy-client', '/CN=front-proxy-client', client);
  }
  openssl(['genrsa', '-out', 'sa.key', '2048'], dir);
  openssl(['rsa', '-in', 'sa.key', '-pubout', '-out', 'sa.pub'], dir);
}

/**
 * Only writes, and only their metadata: enough to count who wrote what. With `readsBy`, that user's reads too (the
 * operator benchmark counts every request it makes).
 */
const auditPolicy = (readsBy?: string) => `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
${readsBy ? `  - level: Metadata\n    users: [${JSON.stringify(readsBy)}]\n` : ''}  - level: Metadata
    verbs: [create, update, patch, delete, deletecollection]
  - level: None
`;

async function waitReady(server: string, dir: string, path: string, timeoutMs: number, log: string): Promise<void> {
  const ca = readFileSync(join(dir, 'ca.crt'));
  const cert = readFileSync(join(dir, 'admin.crt'));
  const key = readFileSync(join(dir, 'admin.key'));
  const status = () =>
    new Promise<number>((resolve) => {
      const req = request(`${server}${path}`, { ca, cert, key, timeout: 2000 }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', () => resolve(0));
      req.on('timeout', () => req.destroy());
      req.end();
    });
  await waitFor(`${server}${path}`, async () => (await status()) === 200, timeoutMs).catch(withLogTail(log));
}

/** The control plane's processes, in the order they stop (the reverse of their start). */
const STOP_ORDER = ['kube-controller-manager', 'kube-apiserver', 'etcd'];

/** The one node's name, in its client certificate and its Node object. */
export const NODE_NAME = 'scoring-node';

export interface ControlPlaneOptions {
  binDir?: string;
  /**
   * For a cluster with a node: the host's address on the link to the node's network namespace. kube-apiserver
   * listens there (not on 127.0.0.1: pods reach it through the `kubernetes` Service), authorizes kubelets with the
   * Node authorizer, proxies to aggregated APIs (metrics-server); kube-controller-manager runs all its controllers.
   */
  hostIp?: string;
  /** A user whose reads (get, list, watch) the audit log records too, not only everyone's writes. */
  auditReadsBy?: string;
}

export async function startControlPlane(options: ControlPlaneOptions = {}): Promise<ControlPlane> {
  const { hostIp } = options;
  const binDir = options.binDir ?? binaries(hostIp !== undefined);
  const dir = mkdtempSync(join(tmpdir(), 'scoring-cp-'));
  const procs: Record<string, Recorded> = {};
  // The current record (a restart from another process updates pids.json), else what this process started.
  const stopNow = () => stopRecordedSync(existsSync(join(dir, 'pids.json')) ? readPids(dir) : procs, dir);
  const unregister = onTermination(stopNow);
  try {
    makeCertificates(dir, hostIp);
    writeFileSync(join(dir, 'audit-policy.yaml'), auditPolicy(options.auditReadsBy));
    mkdirSync(join(dir, 'etcd'));
    const [etcdClient, etcdPeer, apiPort] = [await freePort(), await freePort(), await freePort()];
    const server = `https://${hostIp ?? '127.0.0.1'}:${apiPort}`;
    const auditLog = join(dir, 'audit.log');
    const kubeconfig = join(dir, 'admin.kubeconfig');
    writeFileSync(
      kubeconfig,
      kubeconfigYaml(server, join(dir, 'ca.crt'), {
        'client-certificate': join(dir, 'admin.crt'),
        'client-key': join(dir, 'admin.key'),
      }),
    );

    const etcdUrl = `http://127.0.0.1:${etcdClient}`;
    procs.etcd = startProcess(
      join(binDir, 'etcd'),
      [
        '--name=default',
        `--data-dir=${join(dir, 'etcd')}`,
        `--listen-client-urls=${etcdUrl}`,
        `--advertise-client-urls=${etcdUrl}`,
        `--listen-peer-urls=http://127.0.0.1:${etcdPeer}`,
        `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeer}`,
        `--initial-cluster=default=http://127.0.0.1:${etcdPeer}`,
        '--unsafe-no-fsync',
        '--log-level=warn',
      ],
      join(dir, 'etcd.log'),
    );
    savePids(dir, procs);

    const apiserverArgs = [
      `--etcd-servers=${etcdUrl}`,
      `--secure-port=${apiPort}`,
      `--bind-address=${hostIp ?? '127.0.0.1'}`,
      `--advertise-address=${hostIp ?? '127.0.0.1'}`,
      `--cert-dir=${dir}`,
      `--tls-cert-file=${join(dir, 'apiserver.crt')}`,
      `--tls-private-key-file=${join(dir, 'apiserver.key')}`,
      `--client-ca-file=${join(dir, 'ca.crt')}`,
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
      `--service-account-key-file=${join(dir, 'sa.pub')}`,
      `--service-account-signing-key-file=${join(dir, 'sa.key')}`,
      `--service-cluster-ip-range=${SERVICE_CIDR}`,
      ...(hostIp
        ? [
            '--authorization-mode=Node,RBAC',
            '--enable-admission-plugins=NodeRestriction',
            `--kubelet-client-certificate=${join(dir, 'apiserver-kubelet-client.crt')}`,
            `--kubelet-client-key=${join(dir, 'apiserver-kubelet-client.key')}`,
            '--kubelet-preferred-address-types=InternalIP',
            `--requestheader-client-ca-file=${join(dir, 'ca.crt')}`,
            '--requestheader-allowed-names=front-proxy-client',
            '--requestheader-username-headers=X-Remote-User',
            '--requestheader-group-headers=X-Remote-Group',
            '--requestheader-extra-headers-prefix=X-Remote-Extra-',
            `--proxy-client-cert-file=${join(dir, 'front-proxy-client.crt')}`,
            `--proxy-client-key-file=${join(dir, 'front-proxy-client.key')}`,
            '--enable-aggregator-routing=true',
          ]
        : ['--authorization-mode=RBAC']),
      '--allow-privileged=true',
      `--audit-policy-file=${join(dir, 'audit-policy.yaml')}`,
      `--audit-log-path=${auditLog}`,
      '--audit-log-mode=blocking',
      '--v=0',
    ];
    const apiserverLog = join(dir, 'kube-apiserver.log');
    writeFileSync(
      join(dir, 'kube-apiserver.json'),
      JSON.stringify({ bin: join(binDir, 'kube-apiserver'), args: apiserverArgs, server }),
    );
    procs['kube-apiserver'] = startProcess(join(binDir, 'kube-apiserver'), apiserverArgs, apiserverLog);
    savePids(dir, procs);
    await waitReady(server, dir, '/readyz', 120_000, apiserverLog);

    const cmLog = join(dir, 'kube-controller-manager.log');
    procs['kube-controller-manager'] = startProcess(
      join(binDir, 'kube-controller-manager'),
      [
        `--kubeconfig=${kubeconfig}`,
        `--authentication-kubeconfig=${kubeconfig}`,
        `--authorization-kubeconfig=${kubeconfig}`,
        hostIp
          ? '--controllers=*'
          : '--controllers=garbagecollector,deployment-controller,replicaset-controller,serviceaccount-token-controller,serviceaccount-controller,namespace-controller',
        ...(hostIp ? ['--horizontal-pod-autoscaler-sync-period=5s'] : []),
        `--service-account-private-key-file=${join(dir, 'sa.key')}`,
        `--root-ca-file=${join(dir, 'ca.crt')}`,
        '--leader-elect=false',
        '--bind-address=127.0.0.1',
        `--secure-port=${await freePort()}`,
        '--v=0',
      ],
      cmLog,
    );
    savePids(dir, procs);

    return {
      dir,
      kubeconfig,
      server,
      auditLog,
      binDir,
      processes: procs,
      restartApiserver: () => restartApiserver(dir),
      async stop() {
        unregister();
        await stopRecorded(readPids(dir), dir);
      },
      keepRunning: unregister,
    };
  } catch (err) {
    unregister();
    stopNow();
    throw err;
  }
}

function savePids(dir: string, procs: Record<string, Recorded>): void {
  writeFileSync(join(dir, 'pids.json'), JSON.stringify(procs));
}

/** The control plane's processes as its directory records them now. */
export function readPids(dir: string): Record<string, Recorded> {
  return JSON.parse(readFileSync(join(dir, 'pids.json'), 'utf8')) as Record<string, Recorded>;
}

/**
 * Stops kube-apiserver and starts it again with the same arguments, port and etcd data; works from any process
 * that knows the control plane's directory (the tests run apart from the process that started it).
 */
export async function restartApiserver(dir: string): Promise<void> {
  const pids = readPids(dir);
  const { bin, args, server } = JSON.parse(readFileSync(join(dir, 'kube-apiserver.json'), 'utf8')) as {
    bin: string;
    args: string[];
    server: string;
  };
  // It stops listening at once on SIGTERM but can linger for many seconds after; a restart need not wait for that.
  await stopProcess(pids['kube-apiserver'], 2000, 'kube-apiserver');
  const log = join(dir, 'kube-apiserver.log');
  pids['kube-apiserver'] = startProcess(bin, args, log);
  savePids(dir, pids);
  await waitReady(server, dir, '/readyz', 120_000, log);
}

/**
 * Stops a control plane's recorded processes (by PID, each only while it is still the process recorded) and removes
 * its directory.
 */
export async function stopRecorded(procs: Record<string, Recorded>, dir: string): Promise<void> {
  for (const name of STOP_ORDER) await stopProcess(procs[name], 10_000, name);
  rmSync(dir, { recursive: true, force: true });
}

/** The same, synchronously (for signal handlers). */
export function stopRecordedSync(procs: Record<string, Recorded>, dir: string): void {
  stopProcessesSync(procs, STOP_ORDER);
  rmSync(dir, { recursive: true, force: true });
}

/** kubectl as the control plane's admin, from the repository's root; stdout, or throws with its stderr. */
export function kubectlOn(cp: Pick<ControlPlane, 'kubeconfig'>, args: string[], input?: string): string {
  const run = spawnSync('kubectl', args, {
    cwd: repoRoot(),
    input,
    encoding: 'utf8',
    env: { ...process.env, KUBECONFIG: cp.kubeconfig },
  });
  if (run.status !== 0) throw new Error(`kubectl ${args.join(' ')}: ${run.stderr}`);
  return run.stdout;
}
