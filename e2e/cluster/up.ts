/**
 * `npm run cluster:up`: starts a control plane for a developer and prints the KUBECONFIG line; it keeps running
 * after this command returns. `npm run cluster:down` stops it.
 */
import { writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { startControlPlane } from './controlplane.js';

export const STATE_FILE = join(process.env.SCORING_CACHE ?? join(homedir(), '.cache/scoring-operator'), 'cluster.json');

const started = Date.now();
const cp = await startControlPlane();
writeFileSync(STATE_FILE, JSON.stringify({ dir: cp.dir, pids: cp.pids, kubeconfig: cp.kubeconfig, server: cp.server }));
console.error(
  `control plane ready at ${cp.server} in ${((Date.now() - started) / 1000).toFixed(1)} s (logs in ${cp.dir})`,
);
console.log(`export KUBECONFIG=${cp.kubeconfig}`);
