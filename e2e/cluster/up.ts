/**
 * `npm run cluster:up`: starts a control plane for a developer and prints the KUBECONFIG line; it keeps running
 * after this command returns. `npm run cluster:up -- --node` adds a real node (containerd, kubelet, kube-proxy,
 * kube-scheduler; needs root) and waits until it is Ready. `npm run cluster:down` stops either.
 */
import { writeFileSync } from 'node:fs';
import { startControlPlane, stopRecorded, readPids } from './controlplane.js';
import { HOST_IP, checkNodePrerequisites, makeNetwork, removeNetwork, startNode, stopNode } from './node.js';
import { STATE_FILE } from './state.js';

const withNode = process.argv.includes('--node');
const started = Date.now();
const seconds = () => ((Date.now() - started) / 1000).toFixed(1);
if (withNode) {
  checkNodePrerequisites();
  makeNetwork();
}
let cp;
try {
  cp = await startControlPlane(withNode ? { hostIp: HOST_IP } : {});
} catch (err) {
  if (withNode) removeNetwork();
  throw err;
}
writeFileSync(
  STATE_FILE,
  JSON.stringify({ dir: cp.dir, pids: cp.pids, kubeconfig: cp.kubeconfig, server: cp.server, node: withNode }),
);
console.error(`control plane ready at ${cp.server} in ${seconds()} s (logs in ${cp.dir})`);
if (withNode) {
  try {
    await startNode(cp.dir, cp.binDir, cp.server);
  } catch (err) {
    await stopNode(cp.dir);
    await stopRecorded(readPids(cp.dir), cp.dir);
    throw err;
  }
  console.error(`node Ready in ${seconds()} s (logs in ${cp.dir}/node)`);
}
console.log(`export KUBECONFIG=${cp.kubeconfig}`);
