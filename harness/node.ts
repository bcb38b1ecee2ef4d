/**
 * One real Kubernetes node beside the control plane, without Docker: Debian's containerd (CRI plugin) and runc,
 * kubelet, kube-proxy (iptables mode) and kube-scheduler built from the pinned release, Debian's CNI plugins
 * (bridge + host-local + loopback + portmap). Needs root.
 *
 * Everything the node changes lives in places the harness made, and goes with them:
 * - a network namespace `scoring-node` joined to the host by one veth pair (host 10.240.0.1, node 10.240.0.2):
 *   the bridge, the pods' links, ip_forward and every iptables rule kube-proxy and the bridge plugin write are inside
 *   it. The host gets two routes through the veth (pods 10.244.0.0/24, Services 10.96.0.0/16) and nothing else;
 *   the namespace has no default route, so nothing a pod sends can leave the machine.
 * - a private mount namespace, held by one `sleep` process, where containerd, its shims and the kubelet run: their
 *   mounts (overlays, tmpfs volumes, pod network namespaces) vanish with it. /run is a tmpfs there, /var/log and
 *   /var/lib are the node directory's own (what kubelet writes to fixed paths, /var/lib/kubelet/device-plugins and
 *   pki, and the CNI result cache containerd keeps in /var/lib/cni, stay in the harness's directory);
 *   the four kernel tunables kubelet insists on rewriting (kernel.panic, kernel.panic_on_oops, vm.overcommit_memory,
 *   vm.panic_on_oom; also the root key quotas) are shadowed by files holding the values it wants, so the host's own
 *   settings stay as they are.
 * - a cgroup `scoring-node` in every v1 hierarchy: kubelet's cgroupRoot, and the runtime's cgroup, so that every
 *   process the node started (containers, shims) is found there and stopped by PID; runc also makes the pods'
 *   cgroups in a cgroup2 hierarchy mounted beside them (/sys/fs/cgroup/unified), and tear-down removes those too.
 * - /run/netns, when `ip netns add` had to make it (or make it a mount point): put back as it was.
 * - fs.inotify.max_user_instances is raised for the node's lifetime and put back.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmdirSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { NODE_NAME, SERVICE_CIDR } from './controlplane.js';
import { kubeconfigYaml } from './kubeconfig.js';
import { freePort } from './net.js';
import { repoRoot } from './paths.js';
import { logTail, running, sleepSync, startProcess, stopProcessesSync, withLogTail, type Recorded } from './process.js';
import { StopWaiting, waitFor } from './wait.js';

export const NETNS = 'scoring-node';
export const HOST_IP = '10.240.0.1';
export const NODE_IP = '10.240.0.2';
export const POD_CIDR = '10.244.0.0/24';
/** The kube-dns Service's address (e2e/addons/coredns.yaml). */
const CLUSTER_DNS = '10.96.0.10';
const HOST_LINK = 'scoring-h0';
const CGROUP = 'scoring-node';
/** The sandbox image, made by e2e/addons/build.sh from Debian's static catatonit in pause mode. */
export const PAUSE_IMAGE = 'localhost/scoring-dev/pause:catatonit';

/** What tear-down needs, written to node.json in the cluster's directory. */
export interface NodeState {
  dir: string;
  pids: Record<string, Recorded>;
  inotifyInstances?: number;
}

/** What makeNetwork() found, so that removeNetwork() puts back only what it changed. */
export interface NetworkState {
  /** /run/netns before: absent, a plain directory, or already a mount point (`ip netns add` makes it one). */
  runNetns: 'absent' | 'dir' | 'mount';
}

function run(cmd: string, args: string[], opts: { allowFail?: boolean } = {}): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0 && !opts.allowFail) {
    throw new Error(`${cmd} ${args.join(' ')} failed (exit ${r.status}): ${(r.stderr || r.stdout || '').trim()}`);
  }
  return r.stdout;
}

function need(cmd: string, pkg: string): void {
  if (spawnSync('sh', ['-c', `command -v ${cmd}`]).status !== 0) {
    throw new Error(`${cmd} is needed for a node (apt-get install ${pkg}; scripts/setup-node.sh installs them all)`);
  }
}

/** Checks what a node needs before anything is changed. */
export function checkNodePrerequisites(): void {
  if (process.getuid?.() !== 0) throw new Error('a node needs root (it makes a network namespace and cgroups)');
  need('containerd', 'containerd');
  need('runc', 'runc');
  need('ctr', 'containerd');
  need('iptables', 'iptables');
  need('ip', 'iproute2');
  need('nsenter', 'util-linux');
  need('buildah', 'buildah');
  need('catatonit', 'catatonit');
  for (const p of ['bridge', 'host-local', 'loopback', 'portmap']) {
    if (!existsSync(`/usr/lib/cni/${p}`)) throw new Error(`/usr/lib/cni/${p} is missing (containernetworking-plugins)`);
  }
  if (existsSync(`/run/netns/${NETNS}`)) {
    throw new Error(`a node is already up (network namespace ${NETNS} exists): npm run cluster:down first`);
  }
}

function isMountPoint(path: string): boolean {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .some((l) => l.split(' ')[4] === path);
}

/** The host side: the namespace, the veth pair and the two routes. Before the control plane (it listens there). */
export function makeNetwork(): NetworkState {
  const net: NetworkState = {
    runNetns: !existsSync('/run/netns') ? 'absent' : isMountPoint('/run/netns') ? 'mount' : 'dir',
  };
  run('ip', ['netns', 'add', NETNS]);
  try {
    run('ip', ['link', 'add', HOST_LINK, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', NETNS]);
    run('ip', ['addr', 'add', `${HOST_IP}/24`, 'dev', HOST_LINK]);
    run('ip', ['link', 'set', HOST_LINK, 'up']);
    const inNs = (...args: string[]) => run('nsenter', [`--net=/run/netns/${NETNS}`, ...args]);
    inNs('ip', 'link', 'set', 'lo', 'up');
    inNs('ip', 'addr', 'add', `${NODE_IP}/24`, 'dev', 'eth0');
    inNs('ip', 'link', 'set', 'eth0', 'up');
    // Pods and Services are reached from the host (the apiserver to metrics-server, a developer's curl) through
    // the node; the node forwards (inside its namespace only).
    inNs('sysctl', '-q', '-w', 'net.ipv4.ip_forward=1');
    run('ip', ['route', 'add', POD_CIDR, 'via', NODE_IP, 'dev', HOST_LINK]);
    run('ip', ['route', 'add', SERVICE_CIDR, 'via', NODE_IP, 'dev', HOST_LINK]);
  } catch (err) {
    removeNetwork(net);
    throw err;
  }
  return net;
}

/** Undoes makeNetwork(); /run/netns is put back only when `net` (what makeNetwork found) is known. */
export function removeNetwork(net: NetworkState | undefined): void {
  // Deleting the namespace destroys the veth pair (and with it the host routes), the bridge and its iptables rules.
  run('ip', ['link', 'del', HOST_LINK], { allowFail: true });
  run('ip', ['netns', 'del', NETNS], { allowFail: true });
  // `ip netns add` makes /run/netns a (shared) bind mount of itself, creating it when there was none: undone when
  // it did so and nothing else has a namespace there now.
  if (!net || net.runNetns === 'mount' || !existsSync('/run/netns') || readdirSync('/run/netns').length > 0) return;
  if (isMountPoint('/run/netns')) run('umount', ['/run/netns'], { allowFail: true });
  if (net.runNetns === 'absent') run('rmdir', ['/run/netns'], { allowFail: true });
}

/** The v1 hierarchies (the node's cgroups are made in each). */
function cgroupHierarchies(): string[] {
  return mountsOfType(/ - cgroup cgroup /);
}

/** Every cgroup hierarchy, v1 and v2 (runc puts the pods' cgroups in a cgroup2 one mounted beside v1's). */
function allCgroupHierarchies(): string[] {
  return mountsOfType(/ - cgroup2? cgroup2? /);
}

function mountsOfType(type: RegExp): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter((l) => type.test(l))
    .map((l) => l.split(' ')[4]!);
}

function makeCgroups(): void {
  for (const h of cgroupHierarchies()) {
    for (const sub of [CGROUP, `${CGROUP}/runtime`]) {
      const dir = join(h, sub);
      mkdirSync(dir, { recursive: true });
      if (h.endsWith('/cpuset')) {
        for (const f of ['cpuset.cpus', 'cpuset.mems']) {
          writeFileSync(join(dir, f), readFileSync(join(h, f), 'utf8'));
        }
      }
    }
  }
}

/** Every process in the node's cgroups (containers, shims, containerd), in any hierarchy. */
function cgroupProcesses(): number[] {
  const found = new Set<number>();
  const walk = (dir: string) => {
    if (!existsSync(dir)) return;
    for (const line of readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n')) if (line) found.add(Number(line));
    for (const e of readdirSync(dir)) if (statSync(join(dir, e)).isDirectory()) walk(join(dir, e));
  };
  for (const h of allCgroupHierarchies()) walk(join(h, CGROUP));
  return [...found];
}

function removeCgroups(): void {
  const rm = (dir: string) => {
    if (!existsSync(dir)) return;
    for (const e of readdirSync(dir)) if (statSync(join(dir, e)).isDirectory()) rm(join(dir, e));
    try {
      rmdirSync(dir);
    } catch {
      // still busy: left for the next tear-down, named in its message
    }
  };
  for (const h of allCgroupHierarchies()) rm(join(h, CGROUP));
  const left = allCgroupHierarchies().filter((h) => existsSync(join(h, CGROUP)));
  if (left.length > 0) console.error(`cgroups still busy, not removed: ${left.map((h) => join(h, CGROUP)).join(' ')}`);
}

/** kubelet rewrites these unless they already hold what it wants; it sees files holding those values instead. */
const KUBELET_SYSCTLS: Record<string, string> = {
  'vm/overcommit_memory': '1',
  'vm/panic_on_oom': '0',
  'kernel/panic': '10',
  'kernel/panic_on_oops': '1',
  'kernel/keys/root_maxkeys': '1000000',
  'kernel/keys/root_maxbytes': '25000000',
};

function containerdConfig(dir: string): string {
  return `version = 2
root = "${dir}/containerd/root"
state = "${dir}/containerd/state"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.blockfile"]
[grpc]
  address = "/run/containerd/containerd.sock"
[plugins."io.containerd.internal.v1.opt"]
  path = "${dir}/containerd/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "${PAUSE_IMAGE}"
  # CAP_SYS_RESOURCE is outside this machine's bounding set: without this every sandbox fails to start.
  restrict_oom_score_adj = true
  netns_mounts_under_state_dir = true
  stream_server_address = "127.0.0.1"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "${dir}/cni"
`;
}

function cniConfig(dir: string): string {
  return JSON.stringify(
    {
      cniVersion: '1.0.0',
      name: 'scoring',
      plugins: [
        {
          type: 'bridge',
          bridge: 'scoring-br0',
          isGateway: true,
          ipMasq: true,
          hairpinMode: true,
          ipam: {
            type: 'host-local',
            ranges: [[{ subnet: POD_CIDR }]],
            routes: [{ dst: '0.0.0.0/0' }],
            dataDir: `${dir}/ipam`,
          },
        },
        { type: 'portmap', capabilities: { portMappings: true } },
      ],
    },
    null,
    2,
  );
}

function kubeletConfig(dir: string, cpDir: string): string {
  return `apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
containerRuntimeEndpoint: unix:///run/containerd/containerd.sock
cgroupDriver: cgroupfs
cgroupRoot: /${CGROUP}
# These machines run cgroup v1; kubelet 1.34 still runs there when told to.
failCgroupV1: false
failSwapOn: false
address: ${NODE_IP}
port: 10250
healthzBindAddress: 127.0.0.1
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: ${cpDir}/ca.crt}
authorization:
  mode: Webhook
podLogsDir: ${dir}/pod-logs
# CoreDNS (an add-on) answers for cluster.local; pods must not query the host's resolvers (nothing leaves the machine).
clusterDNS: [${CLUSTER_DNS}]
clusterDomain: cluster.local
resolvConf: ""
staticPodPath: ""
serializeImagePulls: false
imageGCHighThresholdPercent: 95
evictionHard:
  memory.available: 200Mi
  nodefs.available: 5%
  imagefs.available: 5%
evictionPressureTransitionPeriod: 10s
containerLogMaxSize: 5Mi
`;
}

function kubeProxyConfig(dir: string): string {
  return `apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection:
  kubeconfig: ${dir}/kube-proxy.kubeconfig
hostnameOverride: ${NODE_NAME}
mode: iptables
clusterCIDR: ${POD_CIDR}
healthzBindAddress: 127.0.0.1:10256
metricsBindAddress: 127.0.0.1:10249
iptables:
  localhostNodePorts: false
# Leave the host's conntrack table size and timeouts alone.
conntrack:
  maxPerCore: 0
  min: 0
  tcpEstablishedTimeout: 0s
  tcpCloseWaitTimeout: 0s
`;
}

/** Runs a command inside the node's network and mount namespaces. */
export function inNode(holder: number, args: string[]): string[] {
  return ['nsenter', `--target=${holder}`, '--mount', '--net', '--', ...args];
}

/** Puts images from buildah's storage into the node's containerd, without a registry. */
export function importImages(holder: number, dir: string, images: string[]): void {
  for (const image of images) {
    const archive = join(dir, 'image.tar');
    run('buildah', ['push', '-q', image, `oci-archive:${archive}:${image}`]);
    const [nsenter, ...ctr] = inNode(holder, ['ctr', '-n', 'k8s.io', 'images', 'import', archive]);
    run(nsenter!, ctr);
    run('rm', ['-f', archive]);
  }
}

/**
 * Starts containerd, kubelet, kube-proxy and kube-scheduler for the control plane in `cpDir` (started with
 * hostIp = HOST_IP), after makeNetwork(). Resolves when the Node is Ready.
 */
export async function startNode(cpDir: string, binDir: string, server: string): Promise<NodeState> {
  const dir = join(cpDir, 'node');
  for (const shadowed of ['/run', '/var/log', '/var/lib']) {
    // The node's own /run, /var/log and /var/lib hide the host's, so its directory must be elsewhere.
    if (`${resolve(dir)}/`.startsWith(`${shadowed}/`))
      throw new Error(`the node's directory ${dir} is under ${shadowed}`);
  }
  mkdirSync(dir, { recursive: true });
  const state: NodeState = { dir, pids: {} };
  const save = () => writeFileSync(join(cpDir, 'node.json'), JSON.stringify(state));
  const inotify = '/proc/sys/fs/inotify/max_user_instances';
  state.inotifyInstances = Number(readFileSync(inotify, 'utf8'));
  if (state.inotifyInstances < 1024) writeFileSync(inotify, '1024');
  save();

  makeCgroups();
  for (const d of ['containerd', 'cni', 'ipam', 'pod-logs', 'kubelet', 'varlog', 'varlib', 'sysctl']) {
    mkdirSync(join(dir, d), { recursive: true });
  }
  writeFileSync(join(dir, 'containerd.toml'), containerdConfig(dir));
  writeFileSync(join(dir, 'cni', '10-scoring.conflist'), cniConfig(dir));
  writeFileSync(join(dir, 'kubelet.yaml'), kubeletConfig(dir, cpDir));
  writeFileSync(join(dir, 'kube-proxy.yaml'), kubeProxyConfig(dir));
  const kubeconfig = (name: string) => {
    const file = join(dir, `${name}.kubeconfig`);
    writeFileSync(
      file,
      kubeconfigYaml(server, join(cpDir, 'ca.crt'), {
        'client-certificate': join(cpDir, `${name}.crt`),
        'client-key': join(cpDir, `${name}.key`),
      }),
    );
    return file;
  };
  const shadows = Object.entries(KUBELET_SYSCTLS).map(([path, value]) => {
    const file = join(dir, 'sysctl', path.replace(/\//g, '.'));
    writeFileSync(file, `${value}\n`);
    return `mount --bind ${file} /proc/sys/${path}`;
  });

  // The holder: a process whose only job is to keep the private mount namespace (inside the node's network
  // namespace) alive; everything else of the node enters it. It sits in the runtime cgroup, and so does what enters.
  const enterCgroup = cgroupHierarchies()
    .map((h) => `echo $$ > ${join(h, CGROUP, 'runtime', 'cgroup.procs')}`)
    .join('; ');
  const holderScript = [
    'set -e',
    `mount -t tmpfs -o mode=755 tmpfs /run`,
    `mount --bind ${dir}/varlog /var/log`,
    `mount --bind ${dir}/varlib /var/lib`,
    ...shadows,
    'exec sleep infinity',
  ].join('\n');
  // sh execs nsenter, which execs unshare (a mount namespace needs no fork), which execs sh, which execs sleep:
  // one PID throughout.
  const holder = startProcess(
    'sh',
    [
      '-c',
      `${enterCgroup}; exec nsenter --net=/run/netns/${NETNS} unshare --mount --propagation private sh -c '${holderScript}'`,
    ],
    join(dir, 'holder.log'),
  );
  state.pids.holder = holder;
  save();
  await waitFor(
    'the node namespace holder',
    () => !running(holder) || readFileSync(`/proc/${holder.pid}/cmdline`, 'utf8').startsWith('sleep'),
    10_000,
    250,
  );
  if (!running(holder)) throw new Error(`the node namespace holder exited: ${logTail(join(dir, 'holder.log'))}`);

  const inside = (name: string, bin: string, args: string[]) => {
    const [cmd, ...rest] = inNode(holder.pid, [bin, ...args]);
    state.pids[name] = startProcess(
      'sh',
      ['-c', `${enterCgroup}; exec "$0" "$@"`, cmd!, ...rest],
      join(dir, `${name}.log`),
    );
    save();
  };
  inside('containerd', 'containerd', ['--config', join(dir, 'containerd.toml')]);
  const [nsenter, ...version] = inNode(holder.pid, ['ctr', 'version']);
  await waitFor('containerd', () => spawnSync(nsenter!, version).status === 0, 30_000, 250).catch(
    withLogTail(join(dir, 'containerd.log')),
  );
  // The sandbox image and the add-ons' images, made once (cached) and imported before kubelet needs the first.
  const addons = join(repoRoot(), 'e2e/addons');
  importImages(
    holder.pid,
    dir,
    run('bash', [join(addons, 'build.sh')])
      .trim()
      .split('\n'),
  );

  inside('kubelet', join(binDir, 'kubelet'), [
    `--config=${join(dir, 'kubelet.yaml')}`,
    `--kubeconfig=${kubeconfig('kubelet')}`,
    `--root-dir=${join(dir, 'kubelet')}`,
    `--hostname-override=${NODE_NAME}`,
    `--node-ip=${NODE_IP}`,
    '--v=1',
  ]);
  kubeconfig('kube-proxy');
  inside('kube-proxy', join(binDir, 'kube-proxy'), [`--config=${join(dir, 'kube-proxy.yaml')}`, '--v=1']);
  state.pids['kube-scheduler'] = startProcess(
    join(binDir, 'kube-scheduler'),
    [
      `--kubeconfig=${kubeconfig('kube-scheduler')}`,
      `--authentication-kubeconfig=${join(dir, 'kube-scheduler.kubeconfig')}`,
      `--authorization-kubeconfig=${join(dir, 'kube-scheduler.kubeconfig')}`,
      '--leader-elect=false',
      '--bind-address=127.0.0.1',
      `--secure-port=${await freePort()}`,
    ],
    join(dir, 'kube-scheduler.log'),
  );
  save();

  const admin = join(cpDir, 'admin.kubeconfig');
  await waitFor(
    `node ${NODE_NAME} Ready`,
    () => {
      const r = spawnSync(
        join(binDir, 'kubectl'),
        [
          '--kubeconfig',
          admin,
          'get',
          'node',
          NODE_NAME,
          '-o',
          'jsonpath={.status.conditions[?(@.type=="Ready")].status}',
        ],
        { encoding: 'utf8' },
      );
      for (const [name, p] of Object.entries(state.pids)) {
        if (!running(p)) throw new StopWaiting(`${name} exited: ${logTail(join(dir, `${name}.log`))}`);
      }
      return r.stdout.trim() === 'True';
    },
    180_000,
    250,
  ).catch(withLogTail(join(dir, 'kubelet.log')));
  // metrics-server (HPAs read real CPU use) and CoreDNS (Service names resolve in pods).
  for (const manifest of ['metrics-server.yaml', 'coredns.yaml']) {
    run(join(binDir, 'kubectl'), ['--kubeconfig', admin, 'apply', '-f', join(addons, manifest)]);
  }
  return state;
}

/**
 * Stops the node's processes (only those it started: by PID while still the process recorded, and those in its
 * cgroups) and undoes what it made; `net` is what makeNetwork() found. Synchronous (it also runs from signal handlers).
 */
export function stopNode(cpDir: string, net: NetworkState | undefined): void {
  const file = join(cpDir, 'node.json');
  if (!existsSync(file)) {
    removeCgroups();
    removeNetwork(net);
    return;
  }
  const state = JSON.parse(readFileSync(file, 'utf8')) as NodeState;
  stopProcessesSync(state.pids, ['kube-scheduler', 'kube-proxy', 'kubelet']);
  // Containers and their shims: in the node's cgroups, started by its containerd.
  stopProcessesSync(state.pids, ['containerd']);
  for (let i = 0; i < 50; i++) {
    const left = cgroupProcesses();
    if (left.length === 0) break;
    for (const pid of left) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    sleepSync(100);
  }
  stopProcessesSync(state.pids, ['holder']);
  removeCgroups();
  removeNetwork(net);
  if (state.inotifyInstances) writeFileSync('/proc/sys/fs/inotify/max_user_instances', String(state.inotifyInstances));
}
