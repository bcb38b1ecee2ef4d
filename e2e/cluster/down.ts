/** `npm run cluster:down`: stops the control plane `cluster:up` started (its own PIDs only). */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { readPids, stopRecorded } from './controlplane.js';

const STATE_FILE = join(process.env.SCORING_CACHE ?? join(homedir(), '.cache/scoring-operator'), 'cluster.json');
if (!existsSync(STATE_FILE)) {
  console.error('no control plane recorded (nothing to stop)');
} else {
  const state = JSON.parse(readFileSync(STATE_FILE, 'utf8')) as { dir: string; pids: Record<string, number> };
  // pids.json in its directory is current (a restarted kube-apiserver has a new PID).
  await stopRecorded(existsSync(join(state.dir, 'pids.json')) ? readPids(state.dir) : state.pids, state.dir);
  rmSync(STATE_FILE);
  console.error(`stopped the control plane in ${state.dir}`);
}
