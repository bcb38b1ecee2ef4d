// Starts one control plane for the cluster suite (from the compiled harness: `npm run test:cluster` builds first)
// and hands its kubeconfig to the tests through the environment.
import { startControlPlane } from '../../dist/harness/controlplane.js';

export default async function setup() {
  const started = Date.now();
  const cp = await startControlPlane();
  globalThis.__controlPlane = cp;
  process.env.TEST_KUBECONFIG = cp.kubeconfig;
  process.env.TEST_CLUSTER_DIR = cp.dir;
  console.log(`\ncontrol plane ${cp.server} ready in ${((Date.now() - started) / 1000).toFixed(1)} s (${cp.dir})`);
}
