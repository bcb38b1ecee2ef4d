/** Where `cluster:up` records the cluster it started, for `cluster:down` and for loading images. */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export const STATE_FILE = join(process.env.SCORING_CACHE ?? join(homedir(), '.cache/scoring-operator'), 'cluster.json');

export interface ClusterState {
  dir: string;
  pids: Record<string, number>;
  kubeconfig: string;
  server: string;
  node?: boolean;
}

export function readState(): ClusterState | undefined {
  return existsSync(STATE_FILE) ? (JSON.parse(readFileSync(STATE_FILE, 'utf8')) as ClusterState) : undefined;
}
