/** Where `cluster:up` records the cluster it started, for `cluster:down` and for loading images. */
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { readPids, stopRecordedSync } from './controlplane.js';
import { stopNode, type NetworkState, type NodeState } from './node.js';
import { alive, running, type Recorded } from './process.js';

export const STATE_FILE = join(process.env.SCORING_CACHE ?? join(homedir(), '.cache/scoring-operator'), 'cluster.json');

export interface ClusterState {
  dir: string;
  pids: Record<string, Recorded>;
  kubeconfig: string;
  server: string;
  node?: boolean;
  /** What makeNetwork() found on the host (a cluster with a node). */
  network?: NetworkState;
  /** $SCORING_CLUSTER_OWNER of the `cluster:up` that started it: `cluster:down --owner X` stops only X's. */
  owner?: string;
}

export function readState(file = STATE_FILE): ClusterState | undefined {
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as ClusterState) : undefined;
}

/**
 * Records `state` whole or not at all: written beside the file, then renamed over it, so that a `cluster:down` or
 * `cluster:up` reading it meanwhile, or a start killed half-way through the write, never finds half a file.
 */
export function writeState(state: ClusterState, file = STATE_FILE): void {
  const written = `${file}.${process.pid}.tmp`;
  try {
    writeFileSync(written, JSON.stringify(state));
    renameSync(written, file);
  } finally {
    rmSync(written, { force: true });
  }
}

/** The cluster's processes as recorded now: its directory's pids.json (current after a restart) and node.json. */
function recordedProcesses(state: ClusterState): Record<string, Recorded> {
  const procs = existsSync(join(state.dir, 'pids.json')) ? readPids(state.dir) : state.pids;
  const nodeFile = join(state.dir, 'node.json');
  const node = existsSync(nodeFile) ? (JSON.parse(readFileSync(nodeFile, 'utf8')) as NodeState).pids : {};
  return { ...procs, ...Object.fromEntries(Object.entries(node).map(([n, p]) => [`node ${n}`, p])) };
}

/**
 * The names of the recorded cluster's processes still running (the PID still held by the process recorded; a PID
 * recorded without its identity, by an older harness, counts while any process holds it).
 */
export function liveProcesses(state: ClusterState): string[] {
  return Object.entries(recordedProcesses(state) as Record<string, Recorded | number>)
    .filter(([, p]) => (typeof p === 'number' ? alive(p) : running(p)))
    .map(([name]) => name);
}

/** Stops the recorded cluster (its own processes only), undoes what its node changed, forgets it. Synchronous. */
export function stopCluster(state: ClusterState): void {
  if (state.node) stopNode(state.dir, state.network);
  stopRecordedSync(existsSync(join(state.dir, 'pids.json')) ? readPids(state.dir) : state.pids, state.dir);
  rmSync(STATE_FILE, { force: true });
}
