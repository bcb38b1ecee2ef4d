/**
 * `npm run cluster:up`: starts a control plane for a developer and prints the KUBECONFIG line; it keeps running
 * after this command returns. `npm run cluster:up -- --node` adds a real node (containerd, kubelet, kube-proxy,
 * kube-scheduler; needs root) and waits until it is Ready. `npm run cluster:down` stops either.
 * Refuses while a cluster it recorded still runs; a failed or interrupted start (SIGINT, SIGTERM) undoes itself.
 * `--check` makes only that check (e2e/local/up.sh runs it before spending minutes on images).
 */
import { startControlPlane } from './controlplane.js';
import { HOST_IP, checkNodePrerequisites, makeNetwork, removeNetwork, startNode, type NetworkState } from './node.js';
import { onTermination } from './process.js';
import { STATE_FILE, liveProcesses, readState, stopCluster, writeState, type ClusterState } from './state.js';

const withNode = process.argv.includes('--node');
const started = Date.now();
const seconds = () => ((Date.now() - started) / 1000).toFixed(1);

const recorded = readState();
if (recorded) {
  const live = liveProcesses(recorded);
  if (live.length > 0) {
    console.error(
      `a cluster is already up (${STATE_FILE}: ${recorded.dir}, running ${live.join(', ')}): ` +
        `use it (export KUBECONFIG=${recorded.kubeconfig}) or stop it first (npm run cluster:down)`,
    );
    process.exit(1);
  }
  console.error(`the cluster recorded in ${STATE_FILE} (${recorded.dir}) no longer runs: clearing what it left`);
  stopCluster(recorded);
}
if (process.argv.includes('--check')) process.exit(0);

if (withNode) checkNodePrerequisites();
// Until the cluster is up, a signal undoes what this command made so far (the control plane's own handler, which
// runs first, stops its processes; this one removes the network).
let network: NetworkState | undefined;
const unregisterNetwork = onTermination(() => network && removeNetwork(network));
if (withNode) network = makeNetwork();
let cp;
try {
  cp = await startControlPlane(withNode ? { hostIp: HOST_IP } : {});
} catch (err) {
  unregisterNetwork();
  if (network) removeNetwork(network);
  throw err;
}
const state: ClusterState = {
  dir: cp.dir,
  pids: cp.processes,
  kubeconfig: cp.kubeconfig,
  server: cp.server,
  node: withNode,
  ...(network ? { network } : {}),
  ...(process.env.SCORING_CLUSTER_OWNER ? { owner: process.env.SCORING_CLUSTER_OWNER } : {}),
};
// Recorded before the node starts, so that `cluster:down` can undo a start that was killed half-way.
writeState(state);
const unregister = onTermination(() => stopCluster(state));
cp.keepRunning();
unregisterNetwork();
console.error(`control plane ready at ${cp.server} in ${seconds()} s (logs in ${cp.dir})`);
if (withNode) {
  try {
    await startNode(cp.dir, cp.binDir, cp.server);
  } catch (err) {
    unregister();
    stopCluster(state);
    throw err;
  }
  console.error(`node Ready in ${seconds()} s (logs in ${cp.dir}/node)`);
}
// From here the cluster outlives this command.
unregister();
console.log(`export KUBECONFIG=${cp.kubeconfig}`);
