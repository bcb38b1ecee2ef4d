/**
 * `npm run cluster:down`: stops the cluster `cluster:up` started (its own processes only: a PID is signalled only
 * while it is still the process recorded) and undoes what it made. `-- --owner X` stops it only when it was started
 * with SCORING_CLUSTER_OWNER=X (a runner tearing down only what it brought up).
 */
import { STATE_FILE, readState, stopCluster } from './state.js';

const i = process.argv.indexOf('--owner');
const owner = i >= 0 ? process.argv[i + 1] : undefined;
const state = readState();
if (!state) {
  console.error('no cluster recorded (nothing to stop)');
} else if (owner !== undefined && state.owner !== owner) {
  console.error(`the cluster recorded in ${STATE_FILE} (${state.dir}) was not started by this run: left as it is`);
} else {
  stopCluster(state);
  console.error(`stopped the cluster in ${state.dir}`);
}
