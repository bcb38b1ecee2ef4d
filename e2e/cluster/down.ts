/** `npm run cluster:down`: stops the cluster `cluster:up` started (its own PIDs only) and undoes what it made. */
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { readPids, stopRecorded } from './controlplane.js';
import { stopNode } from './node.js';
import { STATE_FILE, readState } from './state.js';

const state = readState();
if (!state) {
  console.error('no cluster recorded (nothing to stop)');
} else {
  if (state.node) await stopNode(state.dir);
  // pids.json in its directory is current (a restarted kube-apiserver has a new PID).
  await stopRecorded(existsSync(join(state.dir, 'pids.json')) ? readPids(state.dir) : state.pids, state.dir);
  rmSync(STATE_FILE);
  console.error(`stopped the cluster in ${state.dir}`);
}
